"""Custom Functions in PyTorch 2's style: forward without ctx, plus setup_context; vjp."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _scale_function(lib, log):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(x, k=3.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            log.append((len(inputs), inputs[1], tuple(output.shape)))
            ctx.k = inputs[1]
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            log.append(tuple(ctx.needs_input_grad))
            return grad * ctx.k * x.sign(), None

    return Scale


def _run(lib, call):
    log = []
    fn = _scale_function(lib, log)
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    y = call(fn, x)
    y.sum().backward()
    return y.detach().cpu().numpy(), x.grad.cpu().numpy(), log


CALLS = {
    "default": lambda fn, x: fn.apply(x),
    "positional": lambda fn, x: fn.apply(x, 2.0),
    "keyword": lambda fn, x: fn.apply(x, k=5.0),
}


@needs_torch
@pytest.mark.parametrize("call", sorted(CALLS))
def test_setup_context_receives_bound_inputs_as_in_torch(call):
    ours = _run(flambeau, CALLS[call])
    theirs = _run(torch, CALLS[call])
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])
    assert ours[2] == theirs[2]


def test_a_keyword_past_a_default_binds_to_its_position_as_torch():
    """apply(x, m=...) leaves k to its default: torch binds it (flambeau refused m as a
    keyword-only argument, having checked before filling in the defaults)."""
    def run(lib):
        seen = []

        class Affine(lib.autograd.Function):
            @staticmethod
            def forward(x, k=3.0, m=1.0):
                return x * k + m

            @staticmethod
            def setup_context(ctx, inputs, output):
                seen.append(inputs[1:])

            @staticmethod
            def backward(ctx, grad):
                return grad * 3.0, None, None

        return Affine.apply(lib.tensor([1.0, 2.0]), m=2.0).cpu().numpy().tolist(), seen

    assert run(flambeau) == ([5.0, 8.0], [(3.0, 2.0)])
    if torch is not None:
        assert run(flambeau) == run(torch)


def test_forward_called_directly_is_the_users_and_apply_checks_arguments():
    fn = _scale_function(flambeau, [])
    np.testing.assert_allclose(fn.forward(flambeau.tensor([2.0]), 4.0).cpu().numpy(), [8.0])
    with pytest.raises(TypeError, match="Scale.apply: too many positional arguments"):
        fn.apply(flambeau.ones(1), 1.0, 2.0)


def test_a_keyword_only_argument_of_forward_is_refused_not_dropped():
    # apply passes forward positional inputs only: the value passed used to be ignored
    class KeywordOnly(flambeau.autograd.Function):
        @staticmethod
        def forward(x, *, k=1.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_allclose(KeywordOnly.apply(x).detach().cpu().numpy(), [1.0, 2.0])
    with pytest.raises(TypeError, match="KeywordOnly.apply: forward\\(\\) got an unexpected "
                                        "keyword argument 'k'"):
        KeywordOnly.apply(x, k=3.0)


def _two_outputs(lib):
    class Split(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2, (x > 0).to(x.dtype)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_non_differentiable(output[1])

        @staticmethod
        def vjp(ctx, grad, _grad_mask):  # torch's other name for backward
            return grad * 2

    return Split


@needs_torch
def test_mark_non_differentiable_in_setup_context_and_vjp_as_backward():
    results = []
    for lib in (flambeau, torch):
        x = lib.tensor([1.0, -1.0], requires_grad=True)
        a, b = _two_outputs(lib).apply(x)
        a.sum().backward()
        results.append((a.requires_grad, b.requires_grad, x.grad.cpu().numpy()))
    assert results[0][:2] == results[1][:2] == (True, False)
    np.testing.assert_allclose(results[0][2], results[1][2])


def test_a_subclass_overriding_only_setup_context_uses_its_own():
    seen = []
    base = _two_outputs(flambeau)

    class Child(base):
        @staticmethod
        def setup_context(ctx, inputs, output):
            seen.append(len(output))

    a, b = Child.apply(flambeau.tensor([1.0], requires_grad=True))
    assert seen == [2] and b.requires_grad  # the child's setup_context ran, not the base's


def test_function_without_backward_names_backward_and_vjp():
    class NoBackward(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    y = NoBackward.apply(flambeau.ones(1, requires_grad=True))
    with pytest.raises(NotImplementedError, match="NoBackward does not define backward: you "
                                                  "must implement either the backward or vjp"):
        y.backward()


def test_setup_context_style_composes_with_func_transforms():
    fn = _scale_function(flambeau, [])
    per_row = flambeau.func.vmap(lambda r: fn.apply(r, 2.0))(flambeau.ones(3, 2))
    np.testing.assert_allclose(per_row.cpu().numpy(), np.full((3, 2), 2.0))
    g = flambeau.func.grad(lambda t: fn.apply(t).sum())(flambeau.tensor([1.0, -1.0]))
    np.testing.assert_allclose(g.cpu().numpy(), [3.0, -3.0])

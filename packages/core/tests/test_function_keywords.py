"""Custom Functions in the ``forward(ctx, ...)`` style called with keyword arguments: torch
binds them to forward's positions (right after the positional ones, no gap left to a
default) and records the op as if called positionally; flambeau's apply refused them."""

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _functions(lib, log):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k=2.0, m=1.0, *, shift=0.0):
            ctx.k = k * m
            return x * k * m + shift

        @staticmethod
        def backward(ctx, grad):
            log.append(tuple(ctx.needs_input_grad))
            return (grad * ctx.k,) + (None,) * (len(ctx.needs_input_grad) - 1)

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w=None):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            log.append(tuple(ctx.needs_input_grad))
            return grad * w, (grad * x).sum(0, keepdim=True)

    return Scale, Mul


CALLS = {
    "k": lambda s, m, x, w: s.apply(x, k=3.0),
    "k_and_m": lambda s, m, x, w: s.apply(x, k=3.0, m=0.5),
    "positional_then_m": lambda s, m, x, w: s.apply(x, 3.0, m=2.0),
    "all_keywords": lambda s, m, x, w: s.apply(x=x, k=3.0),
    "tensor_keyword": lambda s, m, x, w: m.apply(x, w=w),
}


def _outcome(lib, call):
    log = []
    scale, mul = _functions(lib, log)
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    w = lib.tensor([3.0], requires_grad=True)
    y = call(scale, mul, x, w)
    y.sum().backward()
    return (y.detach().cpu().numpy().tolist(), x.grad.cpu().numpy().tolist(),
            None if w.grad is None else w.grad.cpu().numpy().tolist(), log)


@needs_torch
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_keyword_arguments_reach_forward_as_torch(call):
    assert _outcome(flambeau, call) == _outcome(torch, call)


def test_a_keyword_tensor_is_an_input_of_the_graph():
    out = _outcome(flambeau, CALLS["tensor_keyword"])
    assert out[2] == [-1.0] and out[3] == [(True, True)]


REFUSED = {
    "gap": (lambda s, x: s.apply(x, m=2.0),
            "forward() missing required argument: 'k' (position 1)"),
    "no_input": (lambda s, x: s.apply(m=2.0),
                 "forward() missing required argument: 'x' (position 0)"),
    "twice": (lambda s, x: s.apply(x, 3.0, k=2.0),
              "forward() got multiple values for argument 'k'"),
    "keyword_only": (lambda s, x: s.apply(x, shift=1.0),
                     "forward() got an unexpected keyword argument 'shift'"),
    "unknown": (lambda s, x: s.apply(x, bogus=1.0),
                "forward() got an unexpected keyword argument 'bogus'"),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_keywords_forward_cannot_bind_are_refused_as_torch(case):
    call, message = case
    libs = [flambeau] if torch is None else [flambeau, torch]
    for lib in libs:
        scale, _ = _functions(lib, [])
        with pytest.raises(TypeError) as info:
            call(scale, lib.tensor([1.0], requires_grad=True))
        assert str(info.value) == message


def test_built_in_ops_keep_the_positional_apply():
    """Only users' Functions get the keyword-binding apply: the built-in ops' apply is
    the one Function defines, with no keyword handling to pay for."""
    from flambeau._ops.elementwise import Exp

    assert Exp.apply.__func__ is flambeau.autograd.Function.apply.__func__
    scale, _ = _functions(flambeau, [])
    assert scale.apply.__func__ is not flambeau.autograd.Function.apply.__func__

"""Selective activation checkpointing (create_selective_checkpoint_contexts, CheckpointPolicy)
against torch 2.13: the same values and gradients, the ops a policy saves are not run again
in backward, and torch's errors."""

import functools

import numpy as np
import pytest

import flambeau
from flambeau.autograd import Function
from flambeau.testing._harness import torch_or_none
from flambeau.utils.checkpoint import (
    CheckpointPolicy,
    SelectiveCheckpointContext,
    checkpoint,
    create_selective_checkpoint_contexts,
)

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _block(lib):
    def block(x, y):
        return (lib.sigmoid(lib.matmul(lib.matmul(x, y), y)) * y).exp().sum()
    return block


def _inputs(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    y = lib.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    return x, y


def _grads(lib, context_fn=None):
    x, y = _inputs(lib)
    kwargs = {} if context_fn is None else {"context_fn": context_fn}
    out = lib.utils.checkpoint.checkpoint(_block(lib), x, y, use_reentrant=False, **kwargs)
    out.backward()
    return (out.detach().cpu().numpy(), x.grad.cpu().numpy(), y.grad.cpu().numpy())


class _Count:
    """How many times each op class's forward runs (flambeau)."""

    def __init__(self, monkeypatch, *classes):
        self.calls = {c: 0 for c in classes}
        for c in classes:
            forward = c.forward

            def counted(*args, _c=c, _f=forward, **kwargs):
                self.calls[_c] += 1
                return _f(*args, **kwargs)
            monkeypatch.setattr(c, "forward", staticmethod(counted))


def _op_classes():
    from flambeau._ops.elementwise import Exp, Mul, Sigmoid
    from flambeau._ops.linalg import Matmul

    return Matmul, Sigmoid, Mul, Exp


@pytest.mark.parametrize("policy", ["list", "function", "bool", "everything", "nothing"])
def test_values_and_gradients_match_torch_and_plain_autograd(policy):
    matmul = flambeau.matmul

    def policy_fn(ctx, op, *args, **kwargs):
        if policy == "everything":
            return CheckpointPolicy.PREFER_SAVE
        if policy == "nothing":
            return CheckpointPolicy.MUST_RECOMPUTE
        saved = op.__name__ == "Matmul"
        return saved if policy == "bool" else (
            CheckpointPolicy.MUST_SAVE if saved else CheckpointPolicy.PREFER_RECOMPUTE)
    fn = [matmul] if policy == "list" else policy_fn
    ours = _grads(flambeau, functools.partial(create_selective_checkpoint_contexts, fn))
    plain = _grads(flambeau)
    for a, b in zip(ours, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    if torch is not None:
        ops = [torch.ops.aten.mm.default]
        theirs = _grads(torch, functools.partial(
            torch.utils.checkpoint.create_selective_checkpoint_contexts, ops))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("selective", [True, False])
def test_saved_ops_are_not_run_again_in_backward(monkeypatch, selective):
    matmul, sigmoid, _, exp = _op_classes()
    count = _Count(monkeypatch, matmul, sigmoid, exp)
    context_fn = functools.partial(create_selective_checkpoint_contexts,
                                   [flambeau.mm] if selective else [])
    x, y = _inputs(flambeau)
    out = checkpoint(_block(flambeau), x, y, use_reentrant=False, context_fn=context_fn)
    assert count.calls == {matmul: 2, sigmoid: 1, exp: 1}
    out.backward()
    # sigmoid and exp run again; the two products are kept. Backward runs four products of
    # its own (the gradients of the two), and plain checkpointing the two forward ones again
    assert count.calls == {matmul: 2 + 4 + (0 if selective else 2), sigmoid: 2, exp: 2}


@needs_torch
def test_torch_runs_the_same_ops_again():
    """The same block under torch: its dispatch-level count of the forward ops rerun in
    backward (sigmoid, mul, exp; not mm) is what the test above asserts for flambeau."""
    from torch.utils._python_dispatch import TorchDispatchMode

    seen = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    x, y = _inputs(torch)
    context_fn = functools.partial(torch.utils.checkpoint.create_selective_checkpoint_contexts,
                                   [torch.ops.aten.mm.default])
    out = torch.utils.checkpoint.checkpoint(_block(torch), x, y, use_reentrant=False,
                                            context_fn=context_fn)
    with Log():
        out.backward()
    aten = torch.ops.aten
    assert seen.count(aten.sigmoid.default) == 1 and seen.count(aten.exp.default) == 1
    assert aten.mm.default in seen  # mm's backward; not its forward (both are mm, so below)
    assert seen.count(aten.mm.default) == 4  # the gradients of the two products only


def test_the_policy_gets_the_op_its_arguments_and_output():
    log = []

    def policy_fn(ctx, op, *args, **kwargs):
        assert isinstance(ctx, SelectiveCheckpointContext) and ctx.is_recompute is False
        log.append((op.__name__, len(args), tuple(ctx.op_output.shape)))
        return CheckpointPolicy.PREFER_RECOMPUTE
    x, y = _inputs(flambeau)
    out = checkpoint(_block(flambeau), x, y, use_reentrant=False,
                     context_fn=functools.partial(create_selective_checkpoint_contexts,
                                                  policy_fn))
    out.backward()
    assert [entry[0] for entry in log] == ["Matmul", "Matmul", "Sigmoid", "Mul", "Exp", "Sum"]
    assert log[0][2] == (3, 3) and log[-1][2] == ()


def test_list_entries_name_ops_by_function_or_class():
    """A function names the op by its name or its node's (mm's op is a Matmul whose node
    is MmBackward0); a Function class, itself and its subclasses."""
    x = flambeau.ones(2, 2, requires_grad=True)
    mm = type(flambeau.mm(x, x).grad_fn)._forward_cls
    sigmoid = _op_classes()[1]
    for ops in ([flambeau.matmul], [flambeau.mm], [_op_classes()[0]], [mm]):
        save, _ = create_selective_checkpoint_contexts(ops)
        assert save.policy_fn(None, mm) is CheckpointPolicy.MUST_SAVE
        assert save.policy_fn(None, sigmoid) is CheckpointPolicy.PREFER_RECOMPUTE


class _Square(Function):
    """A user's op (x * x, its output kept by the test below)."""

    forward = staticmethod(lambda ctx, x: ctx.save_for_backward(x) or x * x)
    backward = staticmethod(lambda ctx, g: 2 * g * ctx.saved_tensors[0])


def test_a_users_function_can_be_saved(monkeypatch):
    count = _Count(monkeypatch, _Square)
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    context_fn = functools.partial(create_selective_checkpoint_contexts, [_Square])
    checkpoint(lambda t: _Square.apply(t.sin()).exp().sum(), x, use_reentrant=False,
               context_fn=context_fn).backward()
    assert count.calls[_Square] == 1
    t = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.cpu().numpy(),
                               np.exp(np.sin(t) ** 2) * 2 * np.sin(t) * np.cos(t), rtol=1e-6)


def test_create_graph_recomputes_the_kept_ops_for_their_graph():
    x = flambeau.tensor([0.5, 1.5], dtype=flambeau.float64, requires_grad=True)
    context_fn = functools.partial(create_selective_checkpoint_contexts, [flambeau.sin])
    y = checkpoint(lambda t: (t.sin() * t).sum(), x, use_reentrant=False,
                   context_fn=context_fn)
    (g,) = flambeau.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    t = np.array([0.5, 1.5])
    np.testing.assert_allclose(x.grad.cpu().numpy(), -t * np.sin(t) + 2 * np.cos(t))


def test_a_kept_output_changed_in_place_is_refused():
    def block(t):
        h = t.sin()
        out = (h * t).sum()
        h.detach().add_(1.0)  # changes the kept output (an alias of it) before backward
        return out

    for allow, expected in ((False, "Tensor cached during selective activation checkpoint "
                                    "has been mutated"), (True, None)):
        x = flambeau.tensor([0.5, 1.5], requires_grad=True)
        context_fn = functools.partial(create_selective_checkpoint_contexts, [flambeau.sin],
                                       allow_cache_entry_mutation=allow)
        out = checkpoint(block, x, use_reentrant=False, context_fn=context_fn)
        if expected is None:
            out.backward()
        else:
            with pytest.raises(RuntimeError, match=expected):
                out.backward()


def test_bad_policies_are_refused_as_torch():
    with pytest.raises(TypeError, match="policy_fn_or_list must be either a function or a "
                                        "list of ops."):
        create_selective_checkpoint_contexts(3)
    with pytest.raises(ValueError, match="Expected op in `op_list` to be an op"):
        create_selective_checkpoint_contexts([3])
    if torch is not None:
        with pytest.raises(TypeError, match="policy_fn_or_list must be either"):
            torch.utils.checkpoint.create_selective_checkpoint_contexts(3)


def test_a_recomputation_that_runs_other_ops_is_refused():
    calls = []

    def block(t):
        calls.append(1)
        return t.sin().sum() if len(calls) == 1 else t.cos().sum()
    x = flambeau.tensor([0.5], requires_grad=True)
    out = checkpoint(block, x, use_reentrant=False,
                     context_fn=functools.partial(create_selective_checkpoint_contexts, []))
    with pytest.raises(RuntimeError, match="Cos encountered during backward but not found in "
                                           "storage"):
        out.backward()


def test_the_hook_is_gone_after_the_block():
    before = Function.__dict__["apply"]
    x = flambeau.tensor([0.5], requires_grad=True)
    out = checkpoint(lambda t: t.sin().sum(), x, use_reentrant=False,
                     context_fn=functools.partial(create_selective_checkpoint_contexts,
                                                  [flambeau.sin]))
    assert Function.__dict__["apply"] is before
    out.backward()
    assert Function.__dict__["apply"] is before


def test_threads_checkpointing_at_once_each_get_their_own_gradients():
    """Two threads inside selective checkpoints at the same time: each thread's ops go to its
    own contexts (the innermost context of any thread took them: one thread's gradients came
    out wrong and the other's backward failed)."""
    import threading

    context_fn = functools.partial(create_selective_checkpoint_contexts, [flambeau.matmul])
    together = threading.Barrier(2)

    def grads(wait):
        x, y = _inputs(flambeau)

        def block(a, b):
            first = flambeau.matmul(a, b)
            if wait:
                together.wait(timeout=10)  # both threads' forward contexts are open now
            return (flambeau.sigmoid(flambeau.matmul(first, b)) * b).exp().sum()

        checkpoint(block, x, y, use_reentrant=False, context_fn=context_fn).backward()
        return x.grad.cpu().numpy(), y.grad.cpu().numpy()

    expected, results = grads(False), [None, None]

    def work(i):
        try:
            results[i] = grads(True)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        assert isinstance(result, tuple), result
        np.testing.assert_allclose(result[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(result[1], expected[1], rtol=1e-12)


def test_a_profiler_started_inside_the_block_and_stopped_after_it():
    """The profiler restores, when it stops, the apply it found (the selective checkpoint's,
    over its own): the next selective checkpoint then recursed without end, and the stale
    hook is taken off by the next op."""
    from flambeau.profiler import profile

    original = Function.__dict__["apply"]
    context_fn = functools.partial(create_selective_checkpoint_contexts, [flambeau.matmul])
    prof, started = profile(), []

    def block(a, b):
        if not started:  # not again in the recomputation
            started.append(prof.start())
        return _block(flambeau)(a, b)

    x, y = _inputs(flambeau)
    checkpoint(block, x, y, use_reentrant=False, context_fn=context_fn).backward()
    prof.stop()
    expected = _grads(flambeau)
    np.testing.assert_allclose(_grads(flambeau, context_fn)[1], expected[1], rtol=1e-12)
    assert Function.__dict__["apply"] is original

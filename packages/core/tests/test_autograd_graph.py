"""flambeau.autograd.graph: saved-tensor hooks, graph nodes and their hooks, multi-grad hooks."""

import pytest

import flambeau
from flambeau.autograd.graph import (
    Node,
    disable_saved_tensors_hooks,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
)
from flambeau.utils.hooks import RemovableHandle


def _counting_hooks():
    calls = {"pack": 0, "unpack": 0}

    def pack(t):
        calls["pack"] += 1
        return t

    def unpack(t):
        calls["unpack"] += 1
        return t

    return calls, pack, unpack


# ------------------------------------------------------------------ saved_tensors_hooks
def test_pack_and_unpack_calls_on_builtin_ops():
    x = flambeau.ones(2, requires_grad=True)
    y = flambeau.full((2,), 3.0, requires_grad=True)
    calls, pack, unpack = _counting_hooks()
    with saved_tensors_hooks(pack, unpack):
        z = (x * y).sum()  # mul saves both operands
        flambeau.ones(2) * flambeau.ones(2)  # not recorded: nothing saved
    assert calls == {"pack": 2, "unpack": 0}
    z.backward()
    assert calls == {"pack": 2, "unpack": 2}
    assert x.grad.tolist() == [3.0, 3.0] and y.grad.tolist() == [1.0, 1.0]


def test_hooks_apply_to_custom_function_save_for_backward():
    class Cube(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = flambeau.tensor([2.0], requires_grad=True)
    calls, pack, unpack = _counting_hooks()
    with saved_tensors_hooks(pack, unpack):
        y = Cube.apply(x)
    assert calls == {"pack": 1, "unpack": 0}
    y.backward()
    assert calls == {"pack": 1, "unpack": 1}
    assert x.grad.tolist() == [12.0]


def test_pack_counts_match_torch():
    torch = pytest.importorskip("torch")
    from torch.autograd.graph import saved_tensors_hooks as t_hooks

    def run(lib, hooks):
        calls, pack, unpack = _counting_hooks()
        x = lib.ones(3, requires_grad=True)
        y = lib.full((3,), 2.0, requires_grad=True)
        with hooks(pack, unpack):
            out = ((x * y).sum() + (x + y).sum())
        out.backward()
        return calls

    assert run(flambeau, saved_tensors_hooks) == run(torch, t_hooks)


def test_unpack_can_replace_what_was_packed():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    store = {}

    def pack(t):
        store[len(store)] = t.detach().clone()
        return len(store) - 1

    with saved_tensors_hooks(pack, lambda key: store[key]):
        y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_innermost_hooks_apply():
    outer, p1, u1 = _counting_hooks()
    inner, p2, u2 = _counting_hooks()
    x = flambeau.ones(2, requires_grad=True)
    with saved_tensors_hooks(p1, u1):
        with saved_tensors_hooks(p2, u2):
            y = x * x
        z = x * x
    assert inner["pack"] == 2 and outer["pack"] == 2
    (y + z).sum().backward()
    assert inner["unpack"] == 2 and outer["unpack"] == 2


def test_pack_hook_modifying_input_in_place_raises():
    x = flambeau.ones(2, requires_grad=True)

    def pack(t):
        with flambeau.no_grad():
            t.add_(1)
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            x.clone() * x.clone()


def test_unpack_hook_must_return_a_tensor():
    x = flambeau.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: 1, lambda p: 5):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of "
                                        "type int"):
        y.backward()


def test_saved_tensors_hooks_error_messages_match_torch():
    torch = pytest.importorskip("torch")
    from torch.autograd.graph import saved_tensors_hooks as t_hooks

    x = torch.ones(2, requires_grad=True)
    with t_hooks(lambda t: 1, lambda p: 5):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of "
                                        "type int"):
        y.backward()


def test_disable_saved_tensors_hooks_raises_its_message():
    with disable_saved_tensors_hooks("hooks are off here"):
        with pytest.raises(RuntimeError, match="^hooks are off here$"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again after the block
        pass

    @disable_saved_tensors_hooks("not in f")
    def f():
        with saved_tensors_hooks(lambda t: t, lambda t: t):
            pass

    with pytest.raises(RuntimeError, match="not in f"):
        f()


def test_save_on_cpu_gives_the_same_gradients():
    x = flambeau.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with save_on_cpu(pin_memory=True):
        y = (x.exp() * x).sum()
    y.backward()
    expected = (x.detach().exp() * (x.detach() + 1)).tolist()
    assert x.grad.tolist() == pytest.approx(expected)


def test_hooks_with_retain_graph_unpack_each_backward():
    calls, pack, unpack = _counting_hooks()
    x = flambeau.ones(2, requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert calls == {"pack": 2, "unpack": 4}
    assert x.grad.tolist() == [4.0, 4.0]


# ------------------------------------------------------------------ Node
def test_grad_fn_is_a_node_with_name_and_next_functions():
    x = flambeau.ones(2, requires_grad=True)
    y = x * 2
    assert isinstance(y.grad_fn, Node)
    assert y.grad_fn.name() == "MulBackward0"
    (acc, nr), *_ = y.grad_fn.next_functions
    assert isinstance(acc, Node) and acc.name() == "torch::autograd::AccumulateGrad" and nr == 0
    assert acc.variable is x
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}


def test_node_hooks_see_grads_and_are_removable():
    x = flambeau.ones(2, requires_grad=True)
    y = flambeau.full((2,), 3.0, requires_grad=True)
    z = x * y
    log = []
    h1 = z.grad_fn.register_hook(lambda gi, go: log.append(("post", gi, go)))
    h2 = z.grad_fn.register_prehook(lambda go: log.append(("pre", go)))
    acc = z.grad_fn.next_functions[0][0]
    h3 = acc.register_hook(lambda gi, go: log.append(("acc", gi, go)))
    assert isinstance(h1, RemovableHandle)
    z.sum().backward()
    kinds = [e[0] for e in log]
    assert kinds == ["pre", "post", "acc"]
    assert [g.tolist() for g in log[0][1]] == [[1.0, 1.0]]
    assert [g.tolist() for g in log[1][1]] == [[3.0, 3.0], [1.0, 1.0]]
    assert log[2][1] == () and log[2][2][0].tolist() == [3.0, 3.0]
    for h in (h1, h2, h3):
        h.remove()
    log.clear()
    x.grad = None
    z = x * y
    z.sum().backward()
    assert log == [] and x.grad.tolist() == [3.0, 3.0]


def test_node_hooks_can_replace_gradients_like_torch():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        y = lib.full((2,), 3.0, requires_grad=True)
        z = x * y
        z.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        z.grad_fn.register_hook(lambda gi, go: (gi[0] * 100, None))
        z.sum().backward()
        return x.grad.tolist(), y.grad

    assert run(flambeau) == ([3000.0, 3000.0], None)
    torch = pytest.importorskip("torch")
    assert run(torch) == ([3000.0, 3000.0], None)


@pytest.mark.parametrize("kind", ["pre", "post"])
def test_hook_returning_the_wrong_number_of_grads_raises(kind):
    x = flambeau.ones(2, requires_grad=True)
    y = flambeau.ones(2, requires_grad=True)
    z = x * y
    if kind == "pre":
        z.grad_fn.register_prehook(lambda go: (go[0], go[0]))
        message = r"has returned an incorrect number of values \(got 2, but expected 1\)"
    else:
        z.grad_fn.register_hook(lambda gi, go: (gi[0],))
        message = r"has returned an incorrect number of values \(got 1, but expected 2\)"
    with pytest.raises(RuntimeError, match=message):
        z.sum().backward()


# ------------------------------------------------------------------ register_multi_grad_hook
def test_multi_grad_hook_all_and_any():
    a = flambeau.ones(2, requires_grad=True)
    b = flambeau.ones(2, requires_grad=True)
    seen = []
    h = register_multi_grad_hook((a, b), lambda grads: seen.append(
        [None if g is None else g.tolist() for g in grads]))
    (a * 2 + b * 3).sum().backward()
    assert seen == [[[2.0, 2.0], [3.0, 3.0]]]
    (b * 4).sum().backward()
    assert seen[-1] == [None, [4.0, 4.0]]
    h.remove()
    (a * 2 + b * 3).sum().backward()
    assert len(seen) == 2

    first = []
    register_multi_grad_hook((a, b), lambda g: first.append(g.tolist()), mode="any")
    (a * 2 + b * 3).sum().backward()
    assert len(first) == 1 and first[0] in ([2.0, 2.0], [3.0, 3.0])


def test_multi_grad_hook_bad_mode():
    a = flambeau.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="expects mode to be one of"):
        register_multi_grad_hook((a,), print, mode="some")


# ------------------------------------------------------------------ detach_
def test_detach_in_place_on_a_view_raises_like_torch():
    x = flambeau.ones(4, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\)"):
        y[:2].detach_()
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        flambeau.ones(4).view(2, 2).detach_()
    assert y.detach_() is y and not y.requires_grad and y.grad_fn is None
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\)"):
        torch.ones(4)[:2].detach_()

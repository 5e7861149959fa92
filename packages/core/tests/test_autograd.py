"""The autograd engine: graph walk, accumulation, higher order, hooks, errors."""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _leaf(*values, dtype=flambeau.float64):
    return flambeau.tensor(list(values), dtype=dtype, requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = _leaf(1.0, 2.0)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_broadcast_gradients_are_reduced_to_input_shapes():
    a = flambeau.ones(3, 1, requires_grad=True)
    b = flambeau.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[4.0]] * 3
    assert b.grad.tolist() == [3.0] * 4


def test_second_backward_through_freed_graph_mentions_retain_graph():
    x = _leaf(2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = _leaf(2.0)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [8.0]


def test_higher_order_gradients():
    x = _leaf(2.0)
    (g,) = flambeau.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (gg,) = flambeau.autograd.grad(g.sum(), x, create_graph=True)
    (ggg,) = flambeau.autograd.grad(gg.sum(), x)
    assert (g.item(), gg.item(), ggg.item()) == (12.0, 12.0, 6.0)


def test_chain_of_100000_ops_backpropagates():
    x = flambeau.ones(1, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_of_non_scalar_without_gradient_explains():
    x = _leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs; the output has shape \(2,\)"):
        (x * 2).backward()


def test_backward_of_tensor_without_grad_fn():
    with pytest.raises(RuntimeError, match="does not require grad"):
        flambeau.ones(2).sum().backward()


def test_modified_saved_tensor_is_detected_and_named():
    x = _leaf(1.0, 2.0)
    y = x.exp()
    z = (y * y).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward"):
        z.backward()


def test_in_place_on_leaf_requiring_grad_is_refused():
    x = _leaf(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with flambeau.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0]


def test_in_place_on_non_leaf_rebases_history():
    x = _leaf(1.0, 2.0)
    y = x * 2
    y.mul_(x)  # y = 2x^2, dy/dx = 4x
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_leaf_gradients_never_alias_each_other():
    a, b = _leaf(1.0), _leaf(2.0)
    (a + b).sum().backward()
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0]


def test_user_gradient_is_not_aliased_by_grad():
    x = _leaf(1.0, 1.0)
    g = flambeau.ones(2, dtype=flambeau.float64)
    (x * 1).backward(g)
    x.grad.add_(5)
    assert g.tolist() == [1.0, 1.0]


def test_tensor_hooks_change_gradients():
    x = _leaf(1.0, 2.0)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    handle = x.register_hook(lambda g: g + 1)
    y.sum().backward()
    assert x.grad.tolist() == [21.0, 21.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_retain_grad_keeps_non_leaf_gradients():
    x = _leaf(1.0)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0]


def test_backward_inputs_restricts_accumulation():
    a, b = _leaf(1.0), _leaf(2.0)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_grad_does_not_touch_dot_grad_and_reports_unused():
    a, b = _leaf(1.0), _leaf(2.0)
    (ga,) = flambeau.autograd.grad((a * 3).sum(), [a])
    assert ga.tolist() == [3.0] and a.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        flambeau.autograd.grad((a * 3).sum(), [a, b])
    ga, gb = flambeau.autograd.grad((a * 3).sum(), [a, b], allow_unused=True)
    assert gb is None


def test_grad_modes_as_context_managers_and_decorators():
    x = _leaf(1.0)
    with flambeau.no_grad():
        assert not (x * 2).requires_grad
        with flambeau.enable_grad():
            assert (x * 2).requires_grad
    with flambeau.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with flambeau.inference_mode():
        assert not (x * 2).requires_grad and flambeau.is_inference_mode_enabled()

    @flambeau.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert flambeau.is_grad_enabled()

    @flambeau.set_grad_enabled(False)
    def triple(t):
        return t * 3

    assert flambeau.is_grad_enabled()  # decorating switches nothing, as in torch
    assert not triple(x).requires_grad and flambeau.is_grad_enabled()


def test_custom_function_with_non_differentiable_output():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            assert ctx.needs_input_grad[0]
            return values, idx

        @staticmethod
        def backward(ctx, g, _unused):
            (idx,) = ctx.saved_tensors
            return flambeau.zeros_like(g).scatter(0, idx, g)

    x = _leaf(3.0, 1.0, 2.0)
    values, idx = SortWithIndex.apply(x)
    assert not idx.requires_grad and values.requires_grad
    (values * flambeau.tensor([1.0, 2.0, 3.0], dtype=flambeau.float64)).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]


def test_custom_function_higher_order():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = flambeau.randn(2, dtype=flambeau.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_detect_anomaly_names_the_forward_op():
    x = flambeau.tensor([0.0], requires_grad=True)
    with flambeau.autograd.detect_anomaly():
        y = flambeau.sqrt(x) * 0  # d sqrt/dx at 0 is inf, times 0 gives nan
        with pytest.raises(RuntimeError, match="SqrtBackward.*nan") as info:
            y.backward()
    assert "test_autograd.py" in str(info.value)  # the traceback of the forward call


def test_requires_grad_only_for_floating_point():
    with pytest.raises(RuntimeError, match="floating point"):
        flambeau.arange(3).requires_grad_()


def test_detach_shares_storage_without_graph():
    x = _leaf(1.0, 2.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    v = x.detach()
    v[0] = 5.0
    assert x.tolist()[0] == 5.0


def test_post_accumulate_grad_hook_sees_the_final_grad_once_per_backward():
    w = flambeau.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(
        lambda t: seen.append(t.grad.cpu().numpy().copy()))
    y = w * 2
    (y.sum() + (w * w).sum()).backward()  # two paths into w: the hook runs once, after both
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [4.0, 4.0, 4.0])
    (w * 1).sum().backward()  # accumulates: the hook sees the sum
    np.testing.assert_array_equal(seen[1], [5.0, 5.0, 5.0])
    handle.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        flambeau.ones(1).register_post_accumulate_grad_hook(lambda t: None)
    grads = flambeau.autograd.grad((w * 5).sum(), [w])  # no .grad update: no hook
    assert len(seen) == 2 and grads[0].tolist() == [5.0, 5.0, 5.0]


def test_post_accumulate_grad_hooks_are_apart_from_node_hooks():
    w = flambeau.ones(2, requires_grad=True)
    y = w * 2
    accumulate = y.grad_fn.next_functions[0][0]
    assert accumulate.name() == "torch::autograd::AccumulateGrad"  # as torch's
    accumulate.register_hook(lambda grad_inputs, grad_outputs: None)  # a node hook
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    y.sum().backward()
    assert seen == [[2.0, 2.0]]


def test_second_backward_through_nodes_that_saved_nothing():
    # as torch: expand and sum save no tensor, so their nodes may run again; mul saved its
    # inputs, which the first backward freed
    a = flambeau.ones(2, requires_grad=True)
    b = a.expand(3, 2)
    b.sum().backward()
    b.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]
    c = a * a
    c.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        c.sum().backward()


class _HandsOutAKeptTensor(Function):
    """Backward returns a tensor that someone else holds (here: the class)."""

    kept = None

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return _HandsOutAKeptTensor.kept


def test_gradient_sums_never_write_into_a_tensor_held_elsewhere():
    _HandsOutAKeptTensor.kept = flambeau.ones(3, dtype=flambeau.float64)
    x = _leaf(1.0, 2.0, 3.0)
    y = _HandsOutAKeptTensor.apply(x) + _HandsOutAKeptTensor.apply(x) + x * 5
    y.sum().backward()
    assert x.grad.tolist() == [7.0, 7.0, 7.0]
    assert _HandsOutAKeptTensor.kept.tolist() == [1.0, 1.0, 1.0]


def test_gradient_sums_of_a_weight_used_at_every_step():
    # the sums after the first one are added in place: the values must not change
    w = _leaf(0.5, -1.0)
    h = flambeau.ones(2, dtype=flambeau.float64)
    for _ in range(5):
        h = h * w
    h.sum().backward()
    assert w.grad.tolist() == [5 * 0.5 ** 4, 5 * (-1.0) ** 4]  # d(w^5)/dw


def test_gradient_sums_of_a_weight_used_at_every_step_make_no_new_tensor(monkeypatch):
    # the engine's own sum is added into in place (it holds it alone): no `prev + g`
    from flambeau._tensor import Tensor

    w = _leaf(0.5, -1.0)
    h = flambeau.ones(2, dtype=flambeau.float64)
    for _ in range(5):
        h = h * w
    sums = []
    add = Tensor.__add__
    monkeypatch.setattr(Tensor, "__add__", lambda a, b: sums.append(1) or add(a, b))
    h.sum().backward()
    assert sums == []
    assert w.grad.tolist() == [5 * 0.5 ** 4, 5 * (-1.0) ** 4]


def test_relu_gradient_built_with_create_graph_depends_on_the_input_as_torch():
    """relu's gradient is a step function of its output: zero derivative almost everywhere,
    but connected to the input (torch's ThresholdBackwardBackward0), so it differentiates."""
    torch = pytest.importorskip("torch")
    got = []
    for lib in (torch, flambeau):
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad((lib.relu(x) ** 2).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        got.append((g.requires_grad, g.grad_fn.name(), g.tolist(), gg.tolist()))
    assert got[1] == got[0]
    assert got[1][:2] == (True, "ThresholdBackwardBackward0")


@pytest.mark.parametrize("op", [lambda x: x.max(0), lambda x: x.min(1), lambda x: x.cummax(0)])
def test_index_outputs_get_no_materialized_zero_gradients(op, monkeypatch):
    """max/min along a dim and cummax/cummin also return indices, which get no gradient: the
    backward receives None for them rather than a zero array made for nothing."""
    from flambeau._ops import reduction, reduction_more

    seen = []
    for cls in (reduction._ExtremeWithIndex, reduction_more._CumExtreme):
        original = cls.backward.__func__

        def spy(cls_, ctx, g, g_idx, original=original):
            seen.append(g_idx)
            return original(cls_, ctx, g, g_idx)

        monkeypatch.setattr(cls, "backward", classmethod(spy))
    x = flambeau.randn(3, 4, requires_grad=True)
    values, _ = op(x)
    (values * 2).sum().backward()
    assert seen == [None]
    assert float(x.grad.sum()) == 2.0 * values.numel()


def _reshaped_grad_function(keep):
    """A Function whose backward returns its gradient as a reshape (a view) of a new array;
    ``keep`` (a list) also holds that array when given, ``made`` its address."""
    made = []

    class Reshaped(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, g):
            fresh = (g._data * 2).reshape(1, -1)
            made.append(fresh.ctypes.data)
            if keep is not None:
                keep.append(fresh)
            return flambeau.Tensor._make(fresh.reshape(-1), g._device)

    return Reshaped, made


def test_a_gradient_viewing_a_temporary_becomes_grad_without_a_copy():
    fn, made = _reshaped_grad_function(keep=None)
    x = flambeau.ones(3, requires_grad=True)
    fn.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0] * 3
    assert x.grad.data_ptr() == made[0]  # nothing else held the array: adopted as it is


def test_a_gradient_viewing_memory_held_elsewhere_is_copied_into_grad():
    kept = []
    fn, made = _reshaped_grad_function(keep=kept)
    x = flambeau.ones(3, requires_grad=True)
    fn.apply(x).sum().backward()
    assert x.grad.data_ptr() != made[0]
    x.grad += 1  # in place on .grad must not reach the array someone else holds
    assert kept[0].tolist() == [[2.0] * 3] and x.grad.tolist() == [3.0] * 3

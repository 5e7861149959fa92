"""In-place writes into views while recording: the base's CopySlices history, views that
read their base again after it changed, and the errors PyTorch gives for the cases autograd
can't follow."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck


def _x(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return flambeau.tensor(rng.standard_normal(shape), requires_grad=True)


# ------------------------------------------------------------------ programs, also run on torch
# each takes the library and a leaf, and returns a scalar to differentiate

def _slice_add(lib, x):
    y = x * 2
    y[:, 0] += 1
    y[1].mul_(3)
    return (y * y).sum()


def _setitem_into_view(lib, x):
    y = x * 1
    v = y.view(-1)
    v[3:5] = lib.tensor([5.0, 6.0], dtype=x.dtype)
    return (y * y).sum()


def _transposed_view(lib, x):
    y = x.clone()
    y.t()[0].exp_()
    return (y * x).sum()


def _view_read_after_base_write(lib, x):
    y = x.clone()
    z = y[0]
    y.mul_(2)
    return (z * z).sum()


def _view_of_view(lib, x):
    y = x * 1
    v = y[:2]
    w = v[:, 1:]
    w.mul_(3)
    return (y * y).sum() + (v * v).sum()


def _copy_into_constant_base(lib, x):
    out = lib.zeros(3, 4, dtype=x.dtype)
    out[1].copy_(x[0] * 2)
    out.t()[2].copy_(x[:, 1])
    return (out * out).sum()


def _stale_view_of_constant_base(lib, x):
    out = lib.zeros(3, 4, dtype=x.dtype)
    early = out[:, :2]  # made before out gets a history
    out[0].copy_(x[1])
    return (early * early).sum() + out.sum()


def _sliding_writes(lib, x):
    h = lib.zeros(3, 5, dtype=x.dtype)
    for t in range(4):
        h[:, t + 1] = (h[:, t] + x[:, t]).tanh()
    return h.sum()


def _relu_into_diagonal(lib, x):
    y = x[:, :3] * 1
    y.diagonal().relu_()  # core only: no flambeau-nn in this package's test session
    return (y * x[:, 1:]).sum()


def _noncontiguous_base(lib, x):
    y = x.t() * 1  # an op's result laid out like its (transposed) input
    y[1:3, 1].mul_(x[0, 0])
    return (y * y).sum()


PROGRAMS = [_slice_add, _setitem_into_view, _transposed_view, _view_read_after_base_write,
            _view_of_view, _copy_into_constant_base, _stale_view_of_constant_base,
            _sliding_writes, _relu_into_diagonal, _noncontiguous_base]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__.strip("_"))
def test_gradients_match_torch(program):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((3, 4))
    x = flambeau.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    program(flambeau, x).backward()
    program(torch, tx).backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.cpu().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__.strip("_"))
def test_gradients_pass_gradcheck_and_gradgradcheck(program):
    x = _x(3, 4)
    assert gradcheck(lambda x: program(flambeau, x), (x,))
    assert gradgradcheck(lambda x: program(flambeau, x), (x,))


def test_view_read_after_base_write_sees_the_new_history():
    # torch: z's gradient goes through y.mul_(2); reading the old history would give 2z
    x = flambeau.ones(2, 3, requires_grad=True)
    _view_read_after_base_write(flambeau, x).backward()
    assert x.grad.tolist() == [[8.0] * 3, [0.0] * 3]


def test_write_into_a_view_of_a_constant_gives_the_base_a_history():
    x = flambeau.ones(3, requires_grad=True)
    w = flambeau.arange(6.0).reshape(2, 3)
    out = flambeau.zeros(2, 3)
    out[1].copy_(x * 2)
    assert out.requires_grad and out.grad_fn.name() == "torch::autograd::CopySlices"
    (out * w).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0, 10.0]


def test_node_names_follow_torch():
    x = _x(3)
    y = x * 1
    v = y[1:]
    early = y[:1]
    v.exp_()
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert early.grad_fn.name() == "AsStridedBackward0"  # made stale by the write
    assert not v.is_leaf and v.requires_grad


@pytest.mark.parametrize("op", ["add_", "sub_"])
def test_in_place_add_while_recording_links_to_the_old_history_as_torch(op):
    """add_ and sub_ save nothing, so the tensor is written without a snapshot: the node's
    input is the tensor's old node itself, as in torch (no CloneBackward between)."""
    torch = pytest.importorskip("torch")
    for lib in (flambeau, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        r = lib.tensor([3.0, 5.0], requires_grad=True)
        y = x * 2
        getattr(y, op)(r)
        (y * y).sum().backward()
        names = (y.grad_fn.name(), y.grad_fn.next_functions[0][0].name())
        assert names == (op[:3].capitalize() + "Backward0", "MulBackward0")
        grads = (x.grad.tolist(), r.grad.tolist())
        if lib is flambeau:
            got = grads
    assert got == grads


def test_random_fill_of_a_view_cuts_its_gradient():
    x = flambeau.ones(3, requires_grad=True)
    y = x * 2
    y[:2].normal_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 2.0]


def test_in_place_under_no_grad_keeps_the_history():
    x = _x(4)
    y = x * 3
    v = y[:2]
    with flambeau.no_grad():
        v.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [3.0] * 4


def test_saved_view_changed_through_its_base_is_caught():
    x = _x(4)
    y = x * 1
    v = y[:2]
    z = (v * v).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 5), data=st.data())
def test_write_into_any_slice_matches_the_out_of_place_formula(rows, cols, data):
    """y = x * w; y[r0:r1:rs, c0:c1:cs] *= c; loss = sum(y * r)."""
    r0 = data.draw(st.integers(0, rows - 1))
    r1 = data.draw(st.integers(r0 + 1, rows))
    c0 = data.draw(st.integers(0, cols - 1))
    c1 = data.draw(st.integers(c0 + 1, cols))
    rs, cs = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    transpose = data.draw(st.booleans())
    rng = np.random.default_rng(rows * 10 + cols)
    xv, wv, rv = (rng.standard_normal((rows, cols)) for _ in range(3))
    cv = rng.standard_normal()
    x = flambeau.tensor(xv, requires_grad=True)
    c = flambeau.tensor(cv, dtype=flambeau.float64, requires_grad=True)
    y = x * flambeau.tensor(wv)
    target = y.t().t() if transpose else y
    target[r0:r1:rs, c0:c1:cs].mul_(c)
    (y * flambeau.tensor(rv)).sum().backward()
    region = np.zeros((rows, cols), bool)
    region[r0:r1:rs, c0:c1:cs] = True
    factor = np.where(region, cv, 1.0)
    np.testing.assert_allclose(x.grad.cpu().numpy(), wv * rv * factor, rtol=1e-12)
    np.testing.assert_allclose(c.grad.item(), (xv * wv * rv)[region].sum(), rtol=1e-12,
                               atol=1e-12)


# ------------------------------------------------------------------ errors, as in torch

def test_view_of_a_leaf_is_refused():
    x = _x(3)
    with pytest.raises(RuntimeError, match="add_: a view of a leaf Variable that requires grad"):
        x[:2].add_(1)
    assert x.grad_fn is None and x._version == 0


def test_view_made_under_no_grad_is_refused_and_left_unchanged():
    x = _x(3)
    y = x * 1
    with flambeau.no_grad():
        v = y[:2]
    before = y.tolist()
    with pytest.raises(RuntimeError, match="mul_: a view was created in no_grad mode"):
        v.mul_(2)
    assert y.tolist() == before and y.grad_fn.name() == "MulBackward0"
    out = flambeau.zeros(3)
    with flambeau.no_grad():
        v = out[:2]
    with pytest.raises(RuntimeError, match="copy_: a view was created in no_grad mode"):
        v.copy_(x[:2])
    v.add_(1)  # nothing to record: allowed
    assert out.tolist() == [1.0, 1.0, 0.0]


def test_write_through_an_expanded_view_is_refused():
    y = _x(1, 3) * 1
    with pytest.raises(RuntimeError, match=r"mul_: unsupported operation: more than one element "
                                           r"of the written-to tensor \(shape \[2, 3\]"):
        y.expand(2, 3).mul_(2)


def test_write_with_gradient_into_a_reinterpreting_view_is_refused():
    y = flambeau.zeros(4, dtype=flambeau.float32)
    v = y.view(flambeau.int32)
    v.add_(1)  # no gradient involved: allowed
    x = flambeau.ones(4, dtype=flambeau.float32, requires_grad=True)
    z = x * 1
    with pytest.raises(RuntimeError, match=r"view of dtype flambeau.int32 and shape \[4\] of a "
                                           r"flambeau.float32 tensor of shape \[4\]"):
        z.view(flambeau.int32).copy_(flambeau.ones(4, dtype=flambeau.int32))


class _DoubleInPlace(flambeau.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_dirtying_a_view_rebases_the_base():
    x = flambeau.ones(4, requires_grad=True)
    y = x * 1
    v = y[:2]
    assert _DoubleInPlace.apply(v) is v
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"
    (y * flambeau.arange(4.0)).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 2.0, 3.0]


def test_custom_function_dirtying_a_view_of_a_leaf_is_refused():
    x = flambeau.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="_DoubleInPlaceBackward: a view of a leaf"):
        _DoubleInPlace.apply(x[:2])


def test_an_element_is_a_view_too():
    y = flambeau.zeros(3)
    y[1].add_(5)
    assert y.tolist() == [0.0, 5.0, 0.0]
    x = flambeau.ones(3, requires_grad=True)
    z = x * 1
    z[1].mul_(5)
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 5.0, 1.0]


def test_recorded_item_assignment_of_the_wrong_shape_names_both_and_changes_nothing():
    x = flambeau.ones(3, requires_grad=True)
    h = flambeau.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value of shape \(4,\) cannot be "
                                           r"broadcast to indexing result of shape \(3,\)"):
        h[0] = flambeau.ones(4) * x.sum()
    assert h.tolist() == [[0.0] * 3] * 2 and not h.requires_grad and h._version == 0


def test_retained_gradient_follows_an_in_place_change():
    # as torch: retain_grad keeps the gradient of the tensor as it is now; register_hook
    # hooks stay on the node they were registered on
    x = flambeau.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.mul_(3)
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0, 1.0] and y.retains_grad
    assert seen == [[3.0, 3.0, 3.0]]


def test_retained_gradient_of_a_view_follows_its_base():
    x = flambeau.ones(3, requires_grad=True)
    y = x * 2
    v = y[:2]
    v.retain_grad()
    y.mul_(3)
    (v.sum() + y.sum()).backward()
    assert v.grad.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [12.0, 12.0, 6.0]


# ------------------------------------------------------------------ random programs vs torch

def _random_program(rng):
    """Steps over a list of tensors (0: a non-leaf base): views of any of them, in-place
    changes of any of them, new tensors from them."""
    steps, shapes = [], [(4, 6)]
    for _ in range(rng.randint(1, 12)):
        src = rng.randrange(len(shapes))
        shape = shapes[src]
        kind = rng.choice(["slice", "t", "select", "flat", "inplace", "inplace", "setitem",
                           "outplace", "copy"])
        if kind == "slice" and shape[0] > 1:
            a = rng.randrange(shape[0])
            b = rng.randrange(a + 1, shape[0] + 1)
            steps.append((kind, src, a, b))
            shapes.append((b - a,) + shape[1:])
        elif kind in ("t", "select", "flat") and len(shape) == 2:
            column = rng.randrange(shape[1])
            steps.append((kind, src, column))
            shapes.append({"t": shape[::-1], "select": (shape[0],),
                           "flat": (shape[0] * shape[1],)}[kind])
        elif kind == "inplace":
            steps.append((kind, src, rng.choice(["mul_w", "add_w", "tanh_", "mul_", "zero_",
                                                 "relu_"])))
        elif kind == "setitem":
            steps.append((kind, src, rng.randrange(shape[0])))
        elif kind in ("copy", "outplace"):
            steps.append((kind, src))
            if kind == "outplace":
                shapes.append(shape)
    return steps


def _run_program(lib, steps, x_values, w_values):
    x = lib.tensor(x_values, requires_grad=True)
    w = lib.tensor(w_values, requires_grad=True)
    ts = [x * 1.5]
    for kind, src, *args in steps:
        t = ts[src]
        if kind == "slice":
            ts.append(t[args[0]:args[1]])
        elif kind == "t":
            ts.append(t.t())
        elif kind == "select":
            ts.append(t[:, args[0]])
        elif kind == "flat":
            ts.append(t.view(-1) if t.is_contiguous() else t.reshape(-1))
        elif kind == "outplace":
            ts.append(t.sin())
        elif kind == "setitem":
            t[args[0]] = w[0, 0] * 3
        elif kind == "copy":
            t.copy_(lib.ones(t.shape, dtype=t.dtype) * w[1, 1])
        else:
            {"mul_w": lambda: t.mul_(w.sum()), "add_w": lambda: t.add_(w.mean() * 2),
             "tanh_": t.tanh_, "mul_": lambda: t.mul_(0.7), "zero_": t.zero_,
             "relu_": t.relu_}[args[0]]()
    loss = sum((t * t).sum() * (i + 1) for i, t in enumerate(ts))
    loss.backward()
    return [None if v is None else v.detach().cpu().numpy() for v in (loss, x.grad, w.grad)]


def test_random_programs_of_views_and_in_place_changes_match_torch():
    """Where torch runs a program, flambeau gives the same loss and gradients. (flambeau
    runs a few that torch refuses: its in-place ops keep their result apart from the
    tensor, so a later change of the tensor leaves what backward needs intact.)"""
    import random

    torch = pytest.importorskip("torch")
    compared = 0
    for seed in range(300):
        steps = _random_program(random.Random(seed))
        values = np.random.default_rng(seed)
        x_values, w_values = values.standard_normal((4, 6)), values.standard_normal((2, 2))
        try:
            expected = _run_program(torch, steps, x_values, w_values)
        except RuntimeError:
            continue
        got = _run_program(flambeau, steps, x_values, w_values)
        for e, g in zip(expected, got):
            assert (e is None) == (g is None), (seed, steps)
            if e is not None:
                np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9, err_msg=str(steps))
        compared += 1
    assert compared > 150  # most programs are ones torch runs


def test_write_through_an_expanded_view_without_grad_is_refused_too():
    with pytest.raises(RuntimeError, match=r"add_: unsupported operation: more than one element"):
        flambeau.zeros(1, 3).expand(3, 3).add_(1)


# ------------------------------------------------------------------ writes one step at a time
# h[step t + 1] = f(h[step t], x[step t]): the engine adds each read's gradient into the sum
# buffered for h in place, and CopySlices reuses a gradient no one else holds (see the
# engine's _backward_into_buffer). These check that the shortcut changes no value.

# (shape of h, the subscript of step t): the step along a middle, leading or last dim, as a
# kept dim, or with a strided slice elsewhere
STEPPERS = {
    "middle": ((3, 5, 4), lambda t: (slice(None), t)),
    "leading": ((5, 3, 4), lambda t: t),
    "last": ((3, 4, 5), lambda t: (Ellipsis, t)),
    "kept_dim": ((3, 5, 4), lambda t: (slice(None), slice(t, t + 1))),
    "strided": ((3, 5, 4), lambda t: (slice(None), t, slice(None, None, 2))),
    "new_axis": ((3, 5, 4), lambda t: (None, slice(None), t)),
}


def _stepped(lib, x, shape, step, w, hooks=None):
    """Write steps 1..4 of h from the previous step and x; return the loss and h."""
    h = lib.zeros(*shape, dtype=x.dtype)
    for t in range(4):
        read = h[step(t)]
        if hooks is not None and t == 2:
            hooks(h, read)  # h after the second write, and the read of the third
        h[step(t + 1)] = (read * 0.5 + x[step(t)]).tanh()
    return (h * lib.tensor(w)).sum(), h


def _stepped_data(shape, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


@pytest.mark.parametrize("kind", STEPPERS)
def test_sequence_writes_match_torch(kind):
    torch = pytest.importorskip("torch")
    shape, step = STEPPERS[kind]
    xv, w = _stepped_data(shape)
    x, tx = flambeau.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
    _stepped(flambeau, x, shape, step, w)[0].backward()
    _stepped(torch, tx, shape, step, w)[0].backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_sequence_writes_take_the_in_place_path(monkeypatch):
    """The benchmark's pattern: every read after the first adds into the buffered sum, and
    each write's backward reuses the gradient it received (no copy of h)."""
    from flambeau._ops.indexing import Index
    from flambeau._ops.strided_numeric import AsStridedScatter

    into, private = [], []
    add_into, backward = Index._backward_into, AsStridedScatter.backward

    def spy_into(ctx, buffer, g):
        into.append(tuple(buffer.shape))
        return add_into(ctx, buffer, g)

    def spy_backward(ctx, g):
        private.append(ctx._grad_private)
        return backward(ctx, g)

    monkeypatch.setattr(Index, "_backward_into", staticmethod(spy_into))
    monkeypatch.setattr(AsStridedScatter, "backward", staticmethod(spy_backward))
    shape, step = STEPPERS["middle"]
    xv, w = _stepped_data(shape)
    x = flambeau.tensor(xv, requires_grad=True)
    _stepped(flambeau, x, shape, step, w)[0].backward()
    # 3 recorded reads of h (the first read a constant), each into the sum buffered for
    # h's previous version, and 4 reads of x less the first (which starts x's sum)
    assert into == [(3, 5, 4)] * 6
    # the loss's mul hands the last write a gradient of its own; each write hands its own on
    assert private == [True] * 4


def test_sequence_writes_with_hooks_match_torch():
    torch = pytest.importorskip("torch")
    shape, step = STEPPERS["middle"]
    xv, w = _stepped_data(shape)
    results = {}
    for lib, name in ((flambeau, "flambeau"), (torch, "torch")):
        seen = []

        def on_h(h, read, seen=seen):
            h.register_hook(lambda g: seen.append(("h", g)))
            read.register_hook(lambda g: seen.append(("read", g)))
            # a post hook on the read's node sees the full-size gradient it gives h
            read.grad_fn.register_hook(lambda gi, go: seen.append(("read_node", gi[0])))

        x = lib.tensor(xv, requires_grad=True)
        loss, h = _stepped(lib, x, shape, step, w, hooks=on_h)
        h.retain_grad()
        h.register_hook(lambda g, seen=seen: seen.append(("last", g)))
        loss.backward()
        # read after backward: a gradient written in place later would show here
        results[name] = [(k, np.array(g.detach().cpu().numpy())) for k, g in seen]
        results[name] += [("retained", h.grad.cpu().numpy()), ("x", x.grad.cpu().numpy())]
    assert [k for k, _ in results["flambeau"]] == [k for k, _ in results["torch"]] == [
        "last", "read", "read_node", "h", "retained", "x"]
    for (_, a), (_, b) in zip(results["flambeau"], results["torch"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sequence_writes_with_create_graph_match_torch():
    torch = pytest.importorskip("torch")
    shape, step = STEPPERS["middle"]
    xv, w = _stepped_data(shape)
    out = []
    for lib in (flambeau, torch):
        x = lib.tensor(xv, requires_grad=True)
        (gx,) = lib.autograd.grad(_stepped(lib, x, shape, step, w)[0], x, create_graph=True)
        assert gx.requires_grad
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
        out.append((gx.detach().cpu().numpy(), ggx.cpu().numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_sequence_writes_pass_gradgradcheck():
    shape, step = (2, 5, 2), lambda t: (slice(None), t)
    w = _stepped_data(shape)[1]
    x = _x(*shape)
    assert gradcheck(lambda x: _stepped(flambeau, x, shape, step, w)[0], (x,))
    assert gradgradcheck(lambda x: _stepped(flambeau, x, shape, step, w)[0], (x,))


def test_sequence_writes_backward_twice_with_retain_graph():
    torch = pytest.importorskip("torch")
    shape, step = STEPPERS["last"]
    xv, w = _stepped_data(shape)
    x, tx = flambeau.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
    loss = _stepped(flambeau, x, shape, step, w)[0]
    loss.backward(retain_graph=True)
    loss.backward()
    _stepped(torch, tx, shape, step, w)[0].backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * tx.grad.numpy(), rtol=1e-12)


def test_sequence_writes_leave_a_given_gradient_unchanged():
    torch = pytest.importorskip("torch")
    shape, step = STEPPERS["middle"]
    xv, w = _stepped_data(shape)
    x, tx = flambeau.tensor(xv, requires_grad=True), torch.tensor(xv, requires_grad=True)
    given = flambeau.tensor(w)
    _stepped(flambeau, x, shape, step, w)[1].backward(given)
    _stepped(torch, tx, shape, step, w)[1].backward(torch.tensor(w))
    np.testing.assert_array_equal(given.cpu().numpy(), w)
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-12)


class _GradIsKept(flambeau.autograd.Function):
    """Backward hands out a tensor someone else holds (here: the class)."""

    kept = None

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return _GradIsKept.kept


@pytest.mark.parametrize("kept_first", [True, False])
def test_reads_never_add_into_a_gradient_held_elsewhere(kept_first):
    _GradIsKept.kept = flambeau.ones(3, 4, dtype=flambeau.float64)
    x = _x(3, 4)
    y = x * 2
    reads = y[1].sum() + y[:, 2].sum()
    loss = _GradIsKept.apply(y).sum() + reads if kept_first else reads + _GradIsKept.apply(y).sum()
    loss.backward()
    expected = np.ones((3, 4))
    expected[1] += 1
    expected[:, 2] += 1
    np.testing.assert_array_equal(x.grad.cpu().numpy(), 2 * expected)
    assert _GradIsKept.kept.tolist() == [[1.0] * 4] * 3


def test_write_backward_never_zeroes_a_gradient_held_elsewhere():
    # the loss's gradient reaches the last write's node as the kept tensor itself
    _GradIsKept.kept = flambeau.ones(3, 4, dtype=flambeau.float64)
    x = _x(3, 4)
    h = x * 1
    h[1] = x[0] * 3
    _GradIsKept.apply(h).sum().backward()
    assert _GradIsKept.kept.tolist() == [[1.0] * 4] * 3
    assert x.grad.tolist() == [[4.0] * 4, [0.0] * 4, [1.0] * 4]


def test_advanced_reads_at_every_step_match_torch():
    # an embedding-like lookup with repeated rows, per step
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    wv = rng.standard_normal((6, 3))
    rows = [[0, 2, 2], [5, 0, 0], [1, 1, 1], [2, 3, 4]]
    grads = []
    for lib in (flambeau, torch):
        table = lib.tensor(wv, requires_grad=True)
        h = lib.zeros(3, 3, dtype=table.dtype)
        for r in rows:
            h = (h * 0.5 + table[lib.tensor(r)]).tanh()
        (h * h).sum().backward()
        grads.append(table.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_sequence_writes_under_anomaly_detection_match():
    shape, step = STEPPERS["middle"]
    xv, w = _stepped_data(shape)
    grads = []
    for anomaly in (False, True):
        x = flambeau.tensor(xv, requires_grad=True)
        with flambeau.autograd.set_detect_anomaly(anomaly):
            _stepped(flambeau, x, shape, step, w)[0].backward()
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("index", [
    (1, 2), (-1, slice(None, None, 2)), (None, 1, Ellipsis, 3), (Ellipsis,), (), (0, 0, 0),
    (slice(1, 3), None, slice(None), -2), (True,),  # a bool scalar subscript gives a copy
], ids=repr)
def test_repeated_reads_of_any_basic_subscript_match_torch(index):
    # the second read's gradient is added into the sum the first one started
    torch = pytest.importorskip("torch")
    xv = np.random.default_rng(4).standard_normal((3, 4, 5))
    grads = []
    for lib in (flambeau, torch):
        x = lib.tensor(xv, requires_grad=True)
        y = x * 2
        ((y * y).sum() + (y[index] ** 3).sum() + (y[index] * 2).sum()).backward()
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ writes into the storage
# add_, sub_ and relu_ on a recorded tensor compute into its own storage (one array write)

def _residual_program(lib, x, r):
    y = x * 2
    y += r                      # broadcast operand
    y.sub_(r[:1], alpha=0.5)    # alpha, and a view of another tensor
    y.add_(y)                   # the tensor itself
    y.relu_()
    return (y * y).sum()


def test_add_sub_relu_written_in_place_match_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (torch, flambeau):
        x = lib.tensor(np.linspace(-2, 2, 12).reshape(4, 3), requires_grad=True)
        r = lib.tensor([0.5, -1.0, 0.25], requires_grad=True)
        _residual_program(lib, x, r).backward()
        got.append((x.grad.tolist(), r.grad.tolist()))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-12)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-12)
    x = _x(3, 4)
    r = _x(4, seed=1)
    assert gradcheck(lambda a, b: _residual_program(flambeau, a, b), (x, r))


def test_in_place_writes_keep_the_storage_and_torchs_nodes():
    x = _x(4)
    y = x * 2
    ptr = y.data_ptr()
    y.add_(x).relu_()
    assert y.data_ptr() == ptr and y._version == 2
    assert y.grad_fn.name() == "ReluBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "AddBackward0"


def test_changing_relu_s_output_after_relu_is_caught_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, flambeau):
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        y = x * 2
        y.relu_()
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("case", ["view", "int_other", "other_views_target", "leaf"])
def test_in_place_writes_fall_back_where_they_cannot_write_directly(case):
    """A view being written, an operand of another dtype or viewing the target, a leaf: the
    out-of-place path (and its errors) as before."""
    x = _x(2, 3)
    y = x * 1
    if case == "view":
        y[0].add_(flambeau.ones(3))
        assert y.grad_fn.name() == "torch::autograd::CopySlices"
    elif case == "int_other":
        y.add_(flambeau.ones(3, dtype=flambeau.int64))
        assert y.grad_fn.name() == "AddBackward0"
    elif case == "other_views_target":
        y.add_(y[1])  # row 1 is read while every row is written: out of place first
        (y * y).sum().backward()
        a = x.detach().cpu().numpy()
        out = a + a[1]
        want = 2 * out
        want[1] += 2 * out.sum(0)  # x[1] also reaches every row through the operand
        np.testing.assert_allclose(x.grad.cpu().numpy(), want, rtol=1e-12)
    else:
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1.0)


def _scaling_program(lib, x, m):
    y = x * 1
    y.mul_(0.5)                       # a number
    y.div_(lib.tensor([2.0, -4.0, 8.0], dtype=x.dtype))  # a constant tensor, broadcast
    y *= lib.tensor([1.5, 0.5, -1.0], dtype=x.dtype)  # operator form
    y /= 3
    y.mul_(m)                         # m requires grad: y's old values are needed for it
    return (y * y).sum()


def test_mul_div_written_in_place_match_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (torch, flambeau):
        x = lib.tensor(np.linspace(-2, 2, 12).reshape(4, 3), requires_grad=True)
        m = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
        _scaling_program(lib, x, m).backward()
        got.append((x.grad.tolist(), m.grad.tolist()))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-12)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-12)
    assert gradcheck(lambda a, b: _scaling_program(flambeau, a, b), (_x(4, 3), _x(3, seed=2)))


def test_mul_div_in_place_keep_the_storage_and_torchs_nodes():
    x = _x(4)
    y = x * 2
    ptr = y.data_ptr()
    y.mul_(3.0).div_(flambeau.ones(4, dtype=y.dtype))
    assert y.data_ptr() == ptr and y._version == 2
    assert y.grad_fn.name() == "DivBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    w = x * 1
    w.mul_(x)  # x requires grad: the snapshot path, whose node reads w's old values
    assert w.grad_fn.name() == "MulBackward0" and w.data_ptr() != ptr
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.mul_(2.0)

"""The deprecated out-of-place ``Tensor.resize(*sizes)`` and ``Tensor.resize_as(tensor)``: a
view of a contiguous tensor (a contiguous copy of another) with the same number of elements,
differentiable through its own ``ResizeBackward`` node, with torch's warning."""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity


def _pair(values):
    values = np.asarray(values, dtype=np.float32)
    return flambeau.tensor(values), torch.tensor(values)


@pytest.mark.parametrize("make, sizes", [
    (lambda lib, x: x, (2, 3)), (lambda lib, x: x, (6,)), (lambda lib, x: x, (1, 3, 2, 1)),
    (lambda lib, x: x.reshape(2, 3).t(), (3, 2)),  # not contiguous: a copy
    (lambda lib, x: x.reshape(3, 2)[:, :1], (3,)),
])
def test_resize_values_views_and_warning_as_torch(make, sizes):
    fx, tx = _pair(np.arange(6))
    fs, ts = make(flambeau, fx), make(torch, tx)
    with pytest.warns(UserWarning, match="^non-inplace resize is deprecated$"):
        got = fs.resize(*sizes)
    want = ts.resize(*sizes)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    assert tuple(got.shape) == tuple(want.shape)
    assert (got._base is fs) == (want._base is ts)
    got.view(-1)[0] = 100
    want.view(-1)[0] = 100
    np.testing.assert_array_equal(fs.cpu().numpy(), ts.numpy())  # shared or not, as torch


def test_resize_as_as_torch():
    fx, tx = _pair(np.arange(6))
    with pytest.warns(UserWarning, match="^non-inplace resize_as is deprecated$"):
        got = fx.resize_as(flambeau.zeros(3, 2, dtype=flambeau.int64))
    want = tx.resize_as(torch.zeros(3, 2, dtype=torch.int64))
    assert got.dtype == flambeau.float32 and want.dtype == torch.float32
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_resize_gradient_and_node_as_torch():
    w = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    grads, nodes = [], []
    for lib in (flambeau, torch):
        x = lib.tensor(np.arange(6, dtype=np.float32).reshape(3, 2), requires_grad=True)
        with pytest.warns(UserWarning):
            r = (x * 2).t().resize(2, 3)
        (r * lib.tensor(w)).sum().backward()
        grads.append(x.grad.cpu().numpy() if lib is flambeau else x.grad.numpy())
        nodes.append((r.grad_fn.name(), r.grad_fn.next_functions[0][0].name()))
    np.testing.assert_array_equal(*grads)
    assert nodes[0] == nodes[1] == ("ResizeBackward", "TBackward0")


@pytest.mark.parametrize("sizes", [(2, 4), (-1, 2), ((3, 2),), ([3, 2],), ()])
def test_resize_to_another_number_of_elements_raises_as_torch(sizes):
    fx, tx = _pair(np.arange(6))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError) as want:
        tx.resize(*sizes)
    torch_says = str(want.value).strip()
    with pytest.warns(UserWarning), pytest.raises(RuntimeError) as got:
        fx.resize(*sizes)
    # torch's text, and what to use instead
    assert str(got.value).startswith(torch_says)
    assert str(got.value).endswith("Use reshape(), or resize_() to change the number of "
                                   "elements")


def test_resize_with_a_float_size_raises_type_error():
    fx, tx = _pair(np.arange(6))
    with pytest.warns(UserWarning), pytest.raises(TypeError):
        tx.resize(2, 3.0)
    with pytest.warns(UserWarning), pytest.raises(
            TypeError, match=r"resize\(\): sizes must be ints, given one by one, got \(2, 3.0\)"):
        fx.resize(2, 3.0)

"""Integers mixed with advanced indices apart from them select first, as in PyTorch
(``x[0, :, [0, 1]]`` on a (2, 3, 4) tensor is (3, 2); NumPy's rule gives (2, 3))."""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

CPU = {"device": "cpu"}
INDICES = [
    (0, slice(None), [0, 1]),
    (0, slice(None), [[0, 1], [1, 2]]),
    (-1, slice(1, None), [3, 0]),
    (0, None, slice(None), [0, 1]),
    (0, Ellipsis, [0, 1]),
    (1, slice(None), [True, False, True, True]),
    (0, slice(None), True),
    ([1, 0], slice(None), 0),
    ([1, 0], slice(None), [0, 1]),
    (slice(None), 0, [0, 1]),
    (0, [0, 1], slice(None)),
    ("t0", slice(None), [2, 1]),  # a 0-dim integer tensor counts as an integer
]


def _index(lib, idx):
    out = []
    for item in idx:
        if isinstance(item, list):
            item = lib.tensor(item)
        elif item == "t0":
            item = lib.tensor(1)
        out.append(item)
    return tuple(out)


def _pair():
    values = np.arange(24.0).reshape(2, 3, 4)
    return flambeau.tensor(values, **CPU), torch.tensor(values)


@pytest.mark.parametrize("idx", INDICES, ids=str)
def test_read_matches_torch(idx):
    f, t = _pair()
    want = t[_index(torch, idx)]
    got = f[_index(flambeau, idx)]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("idx", INDICES, ids=str)
def test_write_matches_torch(idx):
    f, t = _pair()
    shape = t[_index(torch, idx)].shape
    value = np.arange(np.prod(shape, dtype=int), dtype=float).reshape(shape) * -1.0
    t[_index(torch, idx)] = torch.tensor(value)
    f[_index(flambeau, idx)] = flambeau.tensor(value, **CPU)
    np.testing.assert_array_equal(f.numpy(), t.numpy())


@pytest.mark.parametrize("idx", INDICES, ids=str)
def test_gradients_of_read_and_recorded_write_match_torch(idx):
    grads = []
    for lib in (flambeau, torch):
        base = lib.tensor(np.arange(24.0).reshape(2, 3, 4), dtype=lib.float64,
                          requires_grad=True)
        h = base * 1.5
        part = h[_index(lib, idx)]
        weights = lib.tensor(np.arange(part.numel(), dtype=float).reshape(tuple(part.shape)))
        v = (part * 2).detach().requires_grad_()
        h2 = h.clone()
        h2[_index(lib, idx)] = v * 3
        ((part * weights).sum() + (h2 ** 2).sum()).backward()
        grads.append((base.grad.numpy(), v.grad.numpy()))
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want)


def test_adjacent_integers_and_arrays_stay_one_subscript():
    # side by side, one NumPy subscript already gives torch's result: one node, not two
    x = flambeau.arange(24.0).reshape(2, 3, 4).requires_grad_()
    y = x[:, 0, [0, 1]]
    assert type(y.grad_fn).__name__ == "IndexBackward0" and type(
        y.grad_fn.next_functions[0][0]).__name__ == "AccumulateGrad"


def test_a_tuple_inside_the_index_is_a_sequence_of_indices_as_in_torch():
    x = flambeau.arange(24.0).reshape(3, 4, 2)
    assert x[(0, 2),].tolist() == x[[0, 2]].tolist()
    assert x[:, (1, 3)].tolist() == x[:, [1, 3]].tolist()
    assert x[(0, 1)].tolist() == x[0, 1].tolist()  # the outer tuple is still the index
    x[(0, 2),] = -1.0
    assert x[0].sum().item() == x[2].sum().item() == -8.0

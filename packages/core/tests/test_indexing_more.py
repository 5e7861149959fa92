"""Indexing ops of ``flambeau._ops.indexing_more``: harness cases (values, gradcheck,
gradgradcheck, torch parity), in-place variants, errors, histograms, isin and hypothesis
properties of scatter_reduce."""

import inspect
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau._ops.indexing_more import _at_in_rounds, _ufunc_at
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _idx(rng, high, *shape):
    return np.asarray(rng.integers(0, high, shape), dtype=np.int64)


def _case(name, f, inputs, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


def _sr(reduce, include_self):
    return lambda lib, x, i, s: lib.scatter_reduce(x, 1, i, s, reduce, include_self=include_self)


def _ir(reduce, include_self):
    return lambda lib, x, i, s: x.index_reduce(0, i, s, reduce, include_self=include_self)


def _scatter_samples(rng, dt):
    return [
        (_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 4), _normal(rng, dt, 2, 4)),
        (_normal(rng, dt, 3, 3), _idx(rng, 3, 2, 5), _normal(rng, dt, 2, 5)),  # index < self
    ]


def _small_index_samples(rng, dt):
    """An index smaller than src: torch 2.13's backward fails there, so gradcheck only."""
    return [(_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 2), _normal(rng, dt, 2, 4)),
            (_normal(rng, dt, 3, 2), _idx(rng, 2, 2, 3), _normal(rng, dt, 3, 4))]


def _prod_zero_samples(rng, dt):
    x = np.array([[0.0, 2.0, 3.0, 1.5, 0.0]], dtype=dt)
    i = np.array([[0, 1, 1, 2, 2, 3, 4, 4, 0]])
    s = np.array([[0.5, 0.0, 2.0, 0.0, 0.0, 1.2, 0.0, 0.0, 0.7]], dtype=dt)
    return [(x, i, s)]  # groups with 1, 1 (2 without self), 2, 0 and 3 zeros


CASES = [
    _case("index_copy", lambda lib, x, i, s: lib.index_copy(x, 0, i, s), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), np.array([2, 0]), _normal(rng, dt, 2, 2))]),
    _case("index_copy_dim1", lambda lib, x, i, s: x.index_copy(1, i, s), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), np.array([1]), _normal(rng, dt, 2, 1)),
        (_normal(rng, dt, 2, 3), np.array(2), _normal(rng, dt, 2, 1))]),
    _case("index_copy_scalar_source", lambda lib, x, i, s: x.index_copy(0, i, s),
          lambda rng, dt: [(_normal(rng, dt, 3), np.array(1), _normal(rng, dt)),
                           (_normal(rng, dt), np.array([0]), _normal(rng, dt))]),
    _case("index_copy_", lambda lib, x, i, s: (x * 1).index_copy_(0, i, s), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), np.array([1, 2]), _normal(rng, dt, 2, 2))]),
    _case("index_fill", lambda lib, x, i: lib.index_fill(x, 1, i, -1.5), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), np.array([0, -1])), (_normal(rng, dt, 1, 4), np.array([2, 2]))]),
    _case("index_fill_tensor", lambda lib, x, i, v: x.index_fill(0, i, v), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), np.array([2, 0, 2, 0]), _normal(rng, dt)),
        (_normal(rng, dt), np.array([0]), _normal(rng, dt))]),
    _case("index_fill_", lambda lib, x, i, v: (x * 1).index_fill_(1, i, v), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), np.array([1]), _normal(rng, dt))]),
    _case("masked_scatter", lambda lib, x, m, s: lib.masked_scatter(x, m, s), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), rng.random((2, 3)) > 0.5, _normal(rng, dt, 2, 3)),
        (_normal(rng, dt, 2, 3), np.array([True, False, True]), _normal(rng, dt, 9)),
        (_normal(rng, dt, 3), np.array([[True, False, True], [False, True, True]]),
         _normal(rng, dt, 2, 2))]),
    _case("masked_scatter_", lambda lib, x, m, s: (x * 1).masked_scatter_(m, s),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), np.array([False, True, True]),
                            _normal(rng, dt, 5))]),
    _case("put", lambda lib, x, i, s: lib.put(x, i, s), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), np.array([1, -1]), _normal(rng, dt, 2)),
        (_normal(rng, dt, 2, 3), np.array([[1], [4]]), _normal(rng, dt, 1, 2))]),
    _case("put_accumulate", lambda lib, x, i, s: x.put(i, s, accumulate=True),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), np.array([1, 1, 4, -2]),
                            _normal(rng, dt, 4))]),
    _case("put_", lambda lib, x, i, s: (x * 1).put_(i, s, True), lambda rng, dt: [
        (_normal(rng, dt, 3), np.array([0, 0]), _normal(rng, dt, 2))]),
    *[_case(f"scatter_reduce_{r}_{'self' if inc else 'noself'}", _sr(r, inc),
            _scatter_samples)
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    *[OpCase(f"scatter_reduce_{r}_small_index_{inc}", both(_sr(r, inc))[0], None,
             _small_index_samples) for r in ("sum", "prod", "mean", "amax", "amin")
      for inc in (True, False)],
    *[_case(f"scatter_reduce_prod_zeros_{'self' if inc else 'noself'}", _sr("prod", inc),
            _prod_zero_samples) for inc in (True, False)],
    _case("scatter_reduce_0d", lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, "prod"),
          lambda rng, dt: [(_normal(rng, dt), np.array(0), _normal(rng, dt))]),
    _case("scatter_reduce_dim0", lambda lib, x, i, s: x.scatter_reduce(0, i, s, "mean"),
          lambda rng, dt: [(_normal(rng, dt, 3, 2), _idx(rng, 3, 4, 2), _normal(rng, dt, 4, 2))]),
    _case("scatter_reduce_", lambda lib, x, i, s: (x * 1).scatter_reduce_(1, i, s, "amax"),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 4), _normal(rng, dt, 2, 4))]),
    *[_case(f"index_reduce_{r}_{'self' if inc else 'noself'}", _ir(r, inc), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), np.array([0, 2, 0]), _normal(rng, dt, 3, 2)),
        (_normal(rng, dt, 4), np.array([3, 3, 1, 3]), _normal(rng, dt, 4))])
      for r in ("prod", "mean", "amax", "amin") for inc in (True, False)],
    _case("index_reduce_dim1", lambda lib, x, i, s: lib.index_reduce(x, 1, i, s, "mean"),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), np.array([2, 2]), _normal(rng, dt, 2, 2))]),
    _case("index_reduce_",
          lambda lib, x, i, s: (x * 1).index_reduce_(0, i, s, "amin", include_self=False),
          lambda rng, dt: [(_normal(rng, dt, 3, 2), np.array([1, 1]), _normal(rng, dt, 2, 2))]),
    _case("fill_diagonal_", lambda lib, x: (x * 1).fill_diagonal_(2.0), lambda rng, dt: [
        (_normal(rng, dt, 3, 3),), (_normal(rng, dt, 2, 4),), (_normal(rng, dt, 2, 2, 2),)]),
    _case("fill_diagonal_wrap", lambda lib, x: (x * 1).fill_diagonal_(-1.0, wrap=True),
          lambda rng, dt: [(_normal(rng, dt, 7, 3),), (_normal(rng, dt, 3, 7),)]),
]


def _int_samples(rng, dt):
    return [(np.asarray(rng.integers(-5, 6, (2, 3)), dtype=dt), _idx(rng, 3, 2, 4),
             np.asarray(rng.integers(-5, 6, (2, 4)), dtype=dt))]


NONDIFF = [
    _case("scatter_reduce_ints", lambda lib, x, i, s: tuple(
        lib.scatter_reduce(x, 1, i, s, r, include_self=inc)
        for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)),
        _int_samples, differentiable=False, dtypes=("int64", "int32")),
    _case("index_ops_ints", lambda lib, x, i, s: (
        x.index_copy(1, i[0, :2], s[:, :2]), x.index_fill(1, i[0, :1], 7),
        # put without accumulate: distinct indices (repeats are undefined, as in torch on CUDA)
        x.index_fill(1, i[0, :1], 2.7), x.put(i[0, 1:], s[0, 1:]),
        x.put(i[0], s[0], accumulate=True),
        x.masked_scatter(x > 0, s), x.index_reduce(1, i[0, :2], s[:, :2], "mean")),
        lambda rng, dt: [(np.asarray(rng.integers(-5, 6, (2, 3)), dtype=dt),
                          np.array([[2, 0, 2, 1]]), np.asarray(rng.integers(-5, 6, (2, 4)),
                                                               dtype=dt))],
        differentiable=False, dtypes=("int64",)),
    _case("isin", lambda lib, a, b: (lib.isin(a, b), lib.isin(a, b, invert=True),
                                     lib.isin(a, b, assume_unique=False)),
          lambda rng, dt: [(np.asarray(rng.integers(0, 6, (3, 4)), dtype=dt),
                            np.asarray(rng.integers(0, 6, (2, 2)), dtype=dt))],
          differentiable=False, dtypes=("int64", "float32", "uint8")),
    _case("histc", lambda lib, x: (lib.histc(x, 5, -1.0, 1.0), lib.histc(x, 7), x.histc(3)),
          lambda rng, dt: [(_normal(rng, dt, 50),), (_normal(rng, dt, 4, 5),)],
          differentiable=False),
    _case("histogram", lambda lib, x, w: (
        tuple(lib.histogram(x, 5)), tuple(lib.histogram(x, 4, range=(-1.0, 1.0), weight=w)),
        tuple(x.histogram(3, density=True)),
        tuple(lib.histogram(x, 4, weight=w, density=True))),
        lambda rng, dt: [(_normal(rng, dt, 40), np.abs(_normal(rng, dt, 40)))],
        differentiable=False, dtypes=("float32", "float64")),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES + NONDIFF)


# ------------------------------------------------------------------ values and semantics


def test_index_copy_and_fill_values():
    x = flambeau.zeros(3, 2)
    out = x.index_copy(0, flambeau.tensor([2, 0]), flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert out.tolist() == [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0]]
    assert x.abs().sum().item() == 0.0
    assert flambeau.zeros(3).index_copy(0, flambeau.tensor([], dtype=flambeau.int64),
                                        flambeau.zeros(0)).tolist() == [0.0, 0.0, 0.0]
    assert x.long().index_fill(0, flambeau.tensor([0]), 2.7).tolist() == [[2, 2], [0, 0],
                                                                          [0, 0]]
    assert x.index_fill(0, flambeau.tensor([1]), True).tolist() == [[0.0, 0.0], [1.0, 1.0],
                                                                    [0.0, 0.0]]
    assert flambeau.tensor(0.0).index_fill(0, flambeau.tensor([0]), 1).item() == 1.0


def test_index_fill_value_gradient_counts_each_slice_once():
    x = flambeau.zeros(3, 2)
    v = flambeau.tensor(2.0, requires_grad=True)
    x.index_fill(0, flambeau.tensor([2, 2, -1, 0]), v).sum().backward()
    assert v.grad.item() == 4.0  # rows 0 and 2, two elements each


def test_inplace_variants_write_into_self():
    x = flambeau.zeros(2, 3)
    v = x.view(6)
    for call in (lambda: x.index_copy_(1, flambeau.tensor([0]), flambeau.ones(2, 1)),
                 lambda: x.index_fill_(0, flambeau.tensor([1]), 2.0),
                 lambda: x.masked_scatter_(flambeau.tensor([False, False, True]),
                                           flambeau.tensor([5.0, 6.0])),
                 lambda: x.put_(flambeau.tensor([1]), flambeau.tensor([9.0])),
                 lambda: x.scatter_reduce_(1, flambeau.tensor([[1], [1]]),
                                           flambeau.tensor([[4.0], [4.0]]), "sum"),
                 lambda: x.index_reduce_(1, flambeau.tensor([0]), flambeau.tensor([[3.0], [3.0]]),
                                         "amax")):
        before = x._version
        assert call() is x
        assert x._version == before + 1
    assert x.tolist() == [[3.0, 13.0, 5.0], [3.0, 6.0, 6.0]]
    assert v.tolist() == [3.0, 13.0, 5.0, 3.0, 6.0, 6.0]


def test_inplace_on_a_leaf_that_requires_grad_is_an_error():
    x = flambeau.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.index_fill_(0, flambeau.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.put_(flambeau.tensor([0]), flambeau.tensor([1.0]))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        flambeau.zeros(2, 2, requires_grad=True).fill_diagonal_(1.0)


def test_masked_scatter_and_put_values():
    x = flambeau.zeros(2, 3)
    m = flambeau.tensor([[True, False, True], [False, True, True]])
    s = flambeau.arange(1.0, 10.0)
    assert x.masked_scatter(m, s).tolist() == [[1.0, 0.0, 2.0], [0.0, 3.0, 4.0]]
    assert flambeau.zeros(3).masked_scatter(flambeau.ones(2, 3, dtype=flambeau.bool),
                                            s).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert flambeau.zeros(0).put(flambeau.tensor([], dtype=flambeau.int64),
                                 flambeau.tensor([])).shape == (0,)
    assert flambeau.tensor(1.0).put(flambeau.tensor([0]), flambeau.tensor([3.0])).item() == 3.0


def test_scatter_reduce_values():
    x = flambeau.tensor([1.0, 2.0, 3.0, 4.0])
    i = flambeau.tensor([0, 1, 0, 1, 2, 1])
    s = flambeau.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    want = {("sum", True): [5, 14, 8, 4], ("sum", False): [4, 12, 5, 4],
            ("prod", True): [3, 96, 15, 4], ("prod", False): [3, 48, 5, 4],
            ("mean", False): [2, 4, 5, 4], ("amax", True): [3, 6, 5, 4],
            ("amin", True): [1, 2, 3, 4], ("amin", False): [1, 2, 5, 4]}
    for (r, inc), w in want.items():
        assert x.scatter_reduce(0, i, s, r, include_self=inc).tolist() == [float(v) for v in w]
    got = x.scatter_reduce(0, i, s, "mean").tolist()
    assert got == pytest.approx([5 / 3, 3.5, 4.0, 4.0])
    ints = flambeau.tensor([-1, 2, 3, 4]).scatter_reduce(
        0, i, flambeau.tensor([-1, 2, -3, 4, 5, 6]), "mean")
    assert ints.tolist() == [-2, 3, 4, 4]  # rounds down, as PyTorch
    assert x.scatter_reduce(0, i, s, "max").tolist() == [3.0, 6.0, 5.0, 4.0]  # PyTorch's alias
    assert x.scatter_reduce(0, i.int(), s, "sum").tolist() == [5.0, 14.0, 8.0, 4.0]


def test_scatter_reduce_amax_ties_share_the_gradient():
    x = flambeau.tensor([5.0, 1.0], requires_grad=True)
    s = flambeau.tensor([5.0, 3.0, 5.0], requires_grad=True)
    i = flambeau.tensor([0, 0, 0])
    gx, gs = flambeau.autograd.grad(x.scatter_reduce(0, i, s, "amax").sum(), [x, s])
    assert gx.tolist() == pytest.approx([1 / 3, 1.0]) and gs.tolist() == pytest.approx(
        [1 / 3, 0.0, 1 / 3])
    # without include_self only src values tie (PyTorch also counts x here: 1/3 each)
    gx, gs = flambeau.autograd.grad(
        x.scatter_reduce(0, i, s, "amax", include_self=False).sum(), [x, s])
    assert gx.tolist() == [0.0, 1.0] and gs.tolist() == [0.5, 0.0, 0.5]


def test_scatter_reduce_prod_gradients_with_zeros_match_torch():
    torch = pytest.importorskip("torch")
    x = [[0.0, 2.0, 3.0, 1.5, 0.0]]
    i = [[0, 1, 1, 2, 2, 3, 4, 4]]
    s = [[0.5, 0.0, 2.0, 0.0, 0.0, 1.2, 0.0, 0.0]]
    for inc in (True, False):
        fx = flambeau.tensor(x, dtype=flambeau.float64, requires_grad=True)
        fs = flambeau.tensor(s, dtype=flambeau.float64, requires_grad=True)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ts = torch.tensor(s, dtype=torch.float64, requires_grad=True)
        w = [[1.0, 2.0, 3.0, 4.0, 5.0]]
        fo = (fx.scatter_reduce(1, flambeau.tensor(i), fs, "prod", include_self=inc)
              * flambeau.tensor(w, dtype=flambeau.float64)).sum()
        to = (tx.scatter_reduce(1, torch.tensor(i), ts, "prod", include_self=inc)
              * torch.tensor(w, dtype=torch.float64)).sum()
        fg = flambeau.autograd.grad(fo, [fx, fs])
        tg = torch.autograd.grad(to, [tx, ts])
        for a, b in zip(fg, tg):
            np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy())


def test_index_reduce_values():
    x = flambeau.ones(3, 2)
    i = flambeau.tensor([0, 2, 0])
    s = flambeau.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert x.index_reduce(0, i, s, "amin", include_self=False).tolist() == [
        [1.0, 2.0], [1.0, 1.0], [3.0, 4.0]]
    got = x.index_reduce(0, i, s, "mean").cpu().numpy()
    np.testing.assert_allclose(got, [[7 / 3, 3.0], [1.0, 1.0], [2.0, 2.5]], rtol=1e-6)
    assert flambeau.tensor(2.0).index_reduce(0, flambeau.tensor([0]), flambeau.tensor(3.0),
                                             "prod").item() == 6.0


def test_fill_diagonal_values():
    z = flambeau.zeros(7, 3)
    z.fill_diagonal_(5, wrap=True)
    assert [r.index(5.0) if 5.0 in r else None for r in z.tolist()] == [0, 1, 2, None, 0, 1, 2]
    w = flambeau.zeros(3, 7).fill_diagonal_(5, wrap=True)
    assert w.sum().item() == 15.0
    c = flambeau.zeros(2, 2, 2).fill_diagonal_(5)
    assert c[0, 0, 0].item() == 5.0 and c[1, 1, 1].item() == 5.0 and c.sum().item() == 10.0
    i = flambeau.zeros(3, 3, dtype=flambeau.int64).fill_diagonal_(2.7)
    assert i.diagonal().tolist() == [2, 2, 2]
    t = flambeau.zeros(3, 3).t().fill_diagonal_(flambeau.tensor(2.0))
    assert t.diagonal().tolist() == [2.0, 2.0, 2.0]
    b = flambeau.zeros(4, 4)
    b[1:3, 1:3].fill_diagonal_(1.0)  # a view: writes through
    assert b.diagonal().tolist() == [0.0, 1.0, 1.0, 0.0]


def test_fill_diagonal_parity():
    torch = pytest.importorskip("torch")
    for shape, wrap in itertools.product([(3, 3), (7, 3), (3, 7), (5, 4), (1, 4), (4, 1)],
                                         (False, True)):
        got = flambeau.zeros(*shape).fill_diagonal_(1.0, wrap=wrap)
        want = torch.zeros(*shape).fill_diagonal_(1.0, wrap=wrap)
        assert got.tolist() == want.tolist(), (shape, wrap)


def test_isin_values():
    a = flambeau.tensor([[1, 2], [3, 4]])
    assert flambeau.isin(a, 2).tolist() == [[False, True], [False, False]]
    r = flambeau.isin(2, a)
    assert r.shape == () and r.item() is True
    assert flambeau.isin(a, flambeau.tensor([2.0, 3.5])).tolist() == [[False, True],
                                                                      [False, False]]
    assert flambeau.isin(a.float(), flambeau.tensor([2, 3])).tolist() == [[False, True],
                                                                          [True, False]]
    nan = float("nan")
    assert flambeau.isin(flambeau.tensor([nan, 1.0]), flambeau.tensor([nan])).tolist() == [
        False, False]
    assert not flambeau.isin(a, flambeau.tensor([])).any().item()
    assert flambeau.isin(a, flambeau.tensor([1]), assume_unique=True).tolist() == [
        [True, False], [False, False]]


def test_histc_values():
    x = flambeau.tensor([1.0, 2.0, 1.0, 4.0, 2.5])
    assert flambeau.histc(x, bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 1.0]
    assert flambeau.histc(x, bins=4).tolist() == [2.0, 1.0, 1.0, 1.0]
    assert flambeau.histc(x, bins=4, min=2, max=2).tolist() == [2.0, 1.0, 1.0, 1.0]
    assert flambeau.histc(flambeau.tensor([1.0, 1.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]
    assert flambeau.histc(flambeau.tensor([]), bins=4).tolist() == [0.0] * 4
    assert flambeau.histc(flambeau.tensor([float("nan"), 1.0]), 4, 0, 2).tolist() == [
        0.0, 0.0, 1.0, 0.0]
    assert flambeau.histc(flambeau.tensor([float("inf"), 1.0]), 4, 0, 2).tolist() == [
        0.0, 0.0, 1.0, 0.0]
    assert flambeau.histc(x.double(), 4).dtype is flambeau.float64
    assert len(flambeau.histc(x)) == 100


def test_histc_bin_boundaries_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        a = (rng.random(20000) * 7 - 2).astype(dt)
        a[:7] = [-2.0, 5.0, 0.3, 1.0, 0.1, 0.7, 4.9]
        for bins, lo, hi in ((10, 0.0, 1.0), (7, -2.0, 5.0), (13, -1.3, 4.1), (100, -2, 5)):
            got = flambeau.histc(flambeau.tensor(a), bins, lo, hi).cpu().numpy()
            want = torch.histc(torch.from_numpy(a), bins, lo, hi).cpu().numpy()
            np.testing.assert_array_equal(got, want)


def test_histogram_values():
    x = flambeau.tensor([1.0, 2.0, 1.0, 4.0, 2.5])
    h = flambeau.histogram(x, 4)
    assert h.hist.tolist() == [2.0, 1.0, 1.0, 1.0]
    assert h.bin_edges.tolist() == [1.0, 1.75, 2.5, 3.25, 4.0]
    hist, edges = flambeau.histogram(x, flambeau.tensor([0.0, 1.5, 2.0, 5.0]), density=True)
    np.testing.assert_allclose(hist.cpu().numpy(), [0.4 / 1.5, 0.0, 0.2], rtol=1e-6)
    w = flambeau.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    assert flambeau.histogram(x, 2, weight=w).hist.tolist() == [6.0, 9.0]
    assert flambeau.histogram(flambeau.tensor([1.0, 1.0]), 2).bin_edges.tolist() == [
        0.5, 1.0, 1.5]
    assert flambeau.histogram(flambeau.tensor([]), 2).bin_edges.tolist() == [0.0, 0.5, 1.0]
    assert flambeau.histogram(x, flambeau.tensor([5.0, 1.0])).hist.tolist() == [0.0]
    assert flambeau.histogram(flambeau.tensor([float("inf"), 1.0]), 2,
                              range=(0.0, 2.0)).hist.tolist() == [0.0, 1.0]
    edges_in = flambeau.tensor([0.0, 2.0, 5.0])
    out_edges = flambeau.histogram(x, edges_in).bin_edges
    out_edges[0] = -1.0
    assert edges_in[0].item() == 0.0  # the edges are a copy
    default = flambeau.histogram(x)  # 100 bins by default, as torch
    assert default.hist.shape == (100,) and default.hist.sum().item() == 5.0
    assert x.histogram().bin_edges.shape == (101,)


def test_histogram_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(500)
    w = rng.random(500)
    for kw in ({}, {"range": (-1.0, 2.0)}, {"density": True}):
        got = flambeau.histogram(flambeau.tensor(a), 9, weight=flambeau.tensor(w), **kw)
        want = np.histogram(a, 9, weights=w, **kw)
        np.testing.assert_allclose(got.hist.cpu().numpy(), want[0], rtol=1e-10)
        np.testing.assert_allclose(got.bin_edges.cpu().numpy(), want[1], rtol=1e-12, atol=1e-15)


def test_ufunc_at_in_rounds_matches_numpy():
    rng = np.random.default_rng(3)
    for name in ("add", "multiply", "maximum", "minimum"):
        ufunc = getattr(np, name)
        base = rng.standard_normal((4, 3))
        idx = rng.integers(0, 4, (6, 3))
        coords = (idx, np.arange(3)[None, :])
        vals = rng.standard_normal((6, 3))
        want = base.copy()
        ufunc.at(want, coords, vals)
        got = base.copy()
        _at_in_rounds(np, ufunc, got, coords, vals)
        np.testing.assert_array_equal(got, want)
    empty = np.ones(3)
    _at_in_rounds(np, np.multiply, empty, (np.zeros(0, dtype=np.int64),), np.zeros(0))
    assert empty.tolist() == [1.0, 1.0, 1.0]


def test_ufunc_at_falls_back_to_rounds():
    class NoAt:  # a backend ufunc without ``at``, as CuPy's multiply
        def __call__(self, a, b):
            return np.multiply(a, b)

        def at(self, *args):
            raise NotImplementedError

    class XP:
        def __getattr__(self, name):
            return NoAt() if name == "multiply" else getattr(np, name)

    class Backend:
        host_memory = True
        kernels = {}

    class Device:
        _xp = XP()
        _backend = Backend()

    out = np.ones(3)
    _ufunc_at(Device(), "multiply", out, (np.array([0, 0, 2]),), np.array([2.0, 3.0, 5.0]))
    assert out.tolist() == [6.0, 1.0, 5.0]


# ------------------------------------------------------------------ errors


def _z(*shape, **kw):
    return flambeau.zeros(*shape, **kw)


def _i(*values):
    return flambeau.tensor(list(values), dtype=flambeau.int64)


ERRORS = [
    (lambda: _z(3, 2).index_copy(0, _i(2, 0).double(), _z(2, 2)), RuntimeError,
     "Expected a long tensor for index, but got flambeau.float64"),
    (lambda: _z(3, 2).index_copy(0, _i(2, 0).int(), _z(2, 2)), RuntimeError,
     "Expected a long tensor for index, but got flambeau.int32"),
    (lambda: _z(3, 2).index_copy(0, _i(1, 2).reshape(1, 2), _z(2, 2)), IndexError,
     r"Index should have dimension 1 or 0 \(got 2\)"),
    (lambda: _z(3, 2).index_copy(0, _i(2, 0), _z(3, 2)), IndexError,
     r"Number of indices \(2\) should be equal to source.size\(dim\) \(3\)"),
    (lambda: _z(3, 2).index_copy(0, _i(2, 0), _z(2, 3)), RuntimeError, "same slice shapes"),
    (lambda: _z(3, 2).index_copy(0, _i(1), _z(2)), IndexError,
     r"dimensionality must match. Source dimensionality \(1\), destination dimensionality \(2\)"),
    (lambda: _z(3, 2).index_copy(0, _i(2, 0), _z(2, 2, dtype=flambeau.float64)), RuntimeError,
     r"\(self\) flambeau.float32 and \(source\) flambeau.float64"),
    (lambda: _z(3, 2).index_copy(0, _i(3, 0), _z(2, 2)), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: _z(3, 2).index_copy(0, _i(-1, 0), _z(2, 2)), IndexError,
     "index -1 is out of bounds"),
    (lambda: _z(3, 2).index_copy(2, _i(0), _z(3, 1)), IndexError, "Dimension out of range"),
    (lambda: _z(3, 2).index_fill(0, _i(0).int(), 1), IndexError, "Expected dtype int64"),
    (lambda: _z(3, 2).index_fill(0, _i(1).reshape(1, 1), 1), RuntimeError,
     "Index has to be a vector/scalar"),
    (lambda: _z(3, 2).index_fill(0, _i(0), flambeau.tensor([3.0])), RuntimeError,
     r"only supports a 0-dimensional value tensor, but got tensor with 1 dimension\(s\)"),
    (lambda: _z(3, 2).index_fill(0, _i(3), 1), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: _z(3, 2).index_fill(0, _i(-4), 1), IndexError, "index -4 is out of bounds"),
    (lambda: _z(2, 3).masked_scatter(_z(2, 3).int(), _z(6)), RuntimeError,
     "only supports boolean masks, but got mask with dtype flambeau.int32"),
    (lambda: _z(2, 3).masked_scatter(_z(2, 3).bool(), _z(6, dtype=flambeau.float64)),
     RuntimeError, "same dtypes but got flambeau.float32 and flambeau.float64"),
    (lambda: _z(2, 3).masked_scatter(flambeau.ones(2, 3, dtype=flambeau.bool), _z(5)),
     RuntimeError, r"Number of elements of source \(5\) < number of ones in mask \(6\)"),
    (lambda: _z(2, 3).masked_scatter(flambeau.ones(4, dtype=flambeau.bool), _z(12)),
     RuntimeError, "shape mismatch"),
    (lambda: _z(2, 3).masked_scatter_(flambeau.ones(2, 2, 3, dtype=flambeau.bool), _z(12)),
     RuntimeError, "doesn't match the broadcast shape"),
    (lambda: _z(2, 3).put(_i(1, 6), _z(2)), IndexError,
     "index 6 is out of range for a tensor of 6 elements"),
    (lambda: _z(2, 3).put(_i(1, -7), _z(2)), IndexError, "index -7 is out of range"),
    (lambda: _z(2, 3).put(_i(1, 2), _z(1)), IndexError,
     r"source.numel\(\) = 1, index.numel\(\) = 2"),
    (lambda: _z(2, 3).put(_i(1, 2), _z(2, dtype=flambeau.float64)), RuntimeError,
     "same dtype"),
    (lambda: _z(2, 3).put(_i(1, 2).int(), _z(2)), RuntimeError,
     "Expected a long tensor for index, but got flambeau.int32"),
    (lambda: _z(0).put(_i(0), _z(1)), IndexError, "Tried to put elements into an empty tensor"),
    (lambda: _z(4).scatter_reduce(0, _i(0), _z(1), "foo"), RuntimeError,
     "reduce argument must be either sum, prod, mean, amax or amin, got 'foo'"),
    (lambda: _z(4).scatter_reduce(0, _i(0), _z(1, dtype=flambeau.float64), "sum"),
     RuntimeError, r"Expected self.dtype to be equal to src.dtype"),
    (lambda: _z(4).scatter_reduce(0, _z(1), _z(1), "sum"), RuntimeError,
     "Expected dtype int64 for index"),
    (lambda: _z(4).scatter_reduce(0, _i(4), _z(1), "sum"), RuntimeError,
     "index 4 is out of bounds for dimension 0 with size 4"),
    (lambda: _z(4).scatter_reduce(0, _i(-1), _z(1), "sum"), RuntimeError,
     "index -1 is out of bounds"),
    (lambda: _z(4).scatter_reduce(0, _i(0, 1, 0), _z(2), "sum"), RuntimeError,
     r"Expected index \[3\] to be no larger than self \[4\] apart from dimension 0 and to be "
     r"no larger size than src \[2\]"),
    (lambda: _z(2, 3).scatter_reduce(0, _i(1, 0, 1, 1).reshape(1, 4), _z(2, 4), "sum"),
     RuntimeError, r"Expected index \[1, 4\] to be no larger than self \[2, 3\]"),
    (lambda: _z(4).scatter_reduce(0, _i(0, 1).reshape(2, 1), _z(2, 1), "sum"), RuntimeError,
     "Index tensor must have the same number of dimensions"),
    (lambda: _z(4).scatter_reduce(0, _i(0), [1.0], "sum"), TypeError, "src must be a Tensor"),
    (lambda: _z(2, 3).scatter_reduce(1, _i(0, 1, 0, 1).reshape(2, 2), _z(4), "sum"),
     RuntimeError, "Index tensor must have the same number of dimensions as src tensor"),
    (lambda: _z(3).index_copy(0, [0], _z(1)), TypeError, "index must be a Tensor"),
    (lambda: _z(3, 2).index_reduce(0, _i(0), _z(1, 2), "sum"), RuntimeError,
     "reduce argument must be either prod, mean, amax or amin, got 'sum'"),
    (lambda: _z(3, 2).index_reduce(0, _i(0, 2, 0), _z(3, 2, dtype=flambeau.float64), "prod"),
     RuntimeError, r"self \(flambeau.float32\) and source \(flambeau.float64\)"),
    (lambda: _z(3, 2).index_reduce(0, _i(3, 0, 0), _z(3, 2), "prod"), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: _z(3, 2).index_reduce(0, _i(-1, 0, 0), _z(3, 2), "prod"), IndexError,
     "index -1 is out of bounds"),
    (lambda: _z(3, 2).index_reduce(0, _i(0, 2), _z(3, 2), "prod"), RuntimeError,
     r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\), for dim: 0"),
    (lambda: _z(3, 2).index_reduce(0, _i(0, 2, 0).reshape(3, 1), _z(3, 2), "prod"),
     IndexError, "Index is supposed to be a vector, but got dim: 2"),
    (lambda: _z(3, 2).index_reduce(0, _i(0, 2, 0), _z(3, 3), "prod"), RuntimeError,
     r"source tensor shape must match self tensor shape, excluding the specified dimension. "
     r"Got self.shape = \[3, 2\] source.shape = \[3, 3\]"),
    (lambda: _z(3, 2).index_reduce(0, _i(0, 2, 0), _z(3), "prod"), RuntimeError,
     "source tensor shape must match self tensor shape"),
    (lambda: _z(3, 2).index_reduce(0, _z(3), _z(3, 2), "prod"), RuntimeError,
     "Expected an integer index tensor"),
    (lambda: _z(3).fill_diagonal_(1), RuntimeError, "dimensions must larger than 1"),
    (lambda: _z(2, 2, 3).fill_diagonal_(1), RuntimeError,
     "all dimensions of input must be of equal length"),
    (lambda: flambeau.isin(2, 5), TypeError, "expected elements or test_elements to be a Tensor"),
    (lambda: flambeau.isin(_i(1, 2), flambeau.tensor([True])), RuntimeError,
     "bool inputs are not supported"),
    (lambda: flambeau.isin(_z(2).bool(), _i(1)), RuntimeError, "bool inputs are not supported"),
    (lambda: flambeau.histc(_i(1, 2), 4), NotImplementedError,
     "histc: not implemented for flambeau.int64"),
    (lambda: flambeau.histc(_z(3), bins=0), RuntimeError, "bins must be > 0, but got 0"),
    (lambda: flambeau.histc(_z(3), bins=4, min=3, max=1), RuntimeError,
     "max must be larger than min"),
    (lambda: flambeau.histc(flambeau.tensor([float("nan"), 1.0]), 4), RuntimeError,
     r"range of \[nan, nan\] is not finite"),
    (lambda: flambeau.histc(flambeau.tensor([float("inf"), 1.0]), 4), RuntimeError,
     r"range of \[1.0, inf\] is not finite"),
    (lambda: flambeau.histogram(_i(1, 2), 2), NotImplementedError,
     "histogram: not implemented for flambeau.int64"),
    (lambda: flambeau.histogram(_z(3), 0), RuntimeError, "bins must be > 0, but got 0"),
    (lambda: flambeau.histogram(_z(3), flambeau.tensor([1.0])), RuntimeError,
     "bins must be > 0, but got 0"),
    (lambda: flambeau.histogram(_z(3), flambeau.tensor([[5.0, 1.0]])), RuntimeError,
     "bins tensor should have one dimension, but got 2 dimensions"),
    (lambda: flambeau.histogram(_z(3), flambeau.tensor([0, 5])), RuntimeError,
     "should have the same dtype, but got flambeau.float32 and flambeau.int64"),
    (lambda: flambeau.histogram(_z(3), 2, range=(3.0, 1.0)), RuntimeError,
     "min should not exceed max, but got min 3.0 max 1.0"),
    (lambda: flambeau.histogram(flambeau.tensor([float("nan"), 1.0]), 2), RuntimeError,
     r"range \[nan, nan\] is not finite"),
    (lambda: flambeau.histogram(_z(5), 2, weight=_z(3)), RuntimeError,
     "weight should have the same shape as input"),
    (lambda: flambeau.histogram(_z(5), 2, weight=_z(5, dtype=flambeau.float64)), RuntimeError,
     "input tensor and weight tensor should have the same dtype"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    call, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ hypothesis properties


def _scatter_reduce_reference(x, dim, index, src, reduce, include_self):
    """A loop over the index, as the definition reads."""
    out = x.copy()
    groups = {}
    for pos in itertools.product(*(range(n) for n in index.shape)):
        target = list(pos)
        target[dim] = index[pos]
        groups.setdefault(tuple(target), []).append(src[pos])
    for target, values in groups.items():
        vals = ([x[target]] if include_self else []) + values
        out[target] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max,
                       "amin": np.min}[reduce](vals)
    return out


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       reduce=st.sampled_from(["sum", "prod", "mean", "amax", "amin"]),
       include_self=st.booleans())
def test_scatter_reduce_shapes_and_values(shape, data, reduce, include_self):
    nd = len(shape)
    dim = data.draw(st.integers(0, nd - 1))
    ishape = tuple(data.draw(st.integers(0, shape[d] if d != dim else 5)) for d in range(nd))
    sshape = tuple(s + data.draw(st.integers(0, 1)) for s in ishape)
    seed = data.draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    src = rng.standard_normal(sshape)
    index = rng.integers(0, shape[dim], ishape)
    got = flambeau.tensor(x).scatter_reduce(dim, flambeau.tensor(index), flambeau.tensor(src),
                                            reduce, include_self=include_self)
    assert tuple(got.shape) == tuple(shape) and got.dtype is flambeau.float64
    want = _scatter_reduce_reference(x, dim, index, src, reduce, include_self)
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12, atol=1e-12)


def test_every_public_name_is_exported_documented_and_methods_are_attached():
    from flambeau._ops import indexing_more

    for name in indexing_more.__all__:
        obj = getattr(flambeau, name)
        # (behind flambeau._keywords' layer for ops with dim)
        assert inspect.unwrap(obj) is inspect.unwrap(getattr(indexing_more, name)), name
        assert name in flambeau.__all__, name
        assert "Examples\n    --------" in obj.__doc__, name
    for name, fn in indexing_more.TENSOR_METHODS.items():
        assert inspect.unwrap(getattr(flambeau.Tensor, name)) is inspect.unwrap(fn), name
    for name in indexing_more.INPLACE_METHODS:
        assert callable(getattr(flambeau.Tensor, name + "_")), name
    assert not hasattr(flambeau.Tensor, "isin")  # a function only, as in PyTorch


@pytest.mark.parametrize("recording", [False, True])
def test_a_write_of_a_larger_value_into_a_basic_view_names_both_shapes(recording):
    """``x[0] = v`` with ``v`` of shape (2, 3) into a row of 3: the same error whether or not
    the write is recorded (the recorded path let NumPy's ValueError through), and ``x`` is
    left as it was."""
    x = flambeau.zeros(3, 3, requires_grad=recording).clone()
    with pytest.raises(RuntimeError, match=r"shape mismatch: value of shape \(2, 3\) cannot "
                       r"be broadcast to indexing result of shape \(3,\)"):
        x[0] = flambeau.ones(2, 3, requires_grad=recording)
    assert x.detach().sum().item() == 0.0

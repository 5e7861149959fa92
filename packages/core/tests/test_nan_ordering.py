"""NaN, infinities and ties in the ordering ops, against PyTorch's CPU results: sort / argsort /
msort (NaN above +inf), topk, kthvalue, median / nanmedian, mode, unique /
unique_consecutive (every NaN distinct) and searchsorted / bucketize (batched sequences).

The index rules matched where equal elements meet (documented in the ops): sort keeps their
order with ``stable=True``, when descending and for rows of at most 16 elements; median
takes the first NaN of a slice, else the middle of a stable sort; nanmedian of an all-NaN
row gives the index libstdc++'s nth_element leaves in front; mode (rows of at most 16
elements without NaN) the last occurrence of the smallest most frequent value. Where
torch's choice follows its selection algorithm (topk, kthvalue, unique's inverse for the
NaNs of more than 16 elements), the tests check the values and that the indices point at
them, and compare indices with torch only where the values are distinct.

Parity tests take the ``torch`` fixture (skipped without torch, run on the CPU); the value
tests run on the default device.
"""

import math

import numpy as np
import pytest

import flambeau
from flambeau._ops.reduction_more import _nth_of_equal_elements

NAN, INF = math.nan, math.inf
parity = pytest.mark.parity

#: NaNs in some rows, an all-NaN row, +-inf, ties and signed zeros
ROWS = np.array([
    [3.0, NAN, 1.0, 2.0, NAN, 5.0, 0.0],
    [NAN] * 7,
    [INF, -INF, 1.0, 1.0, NAN, INF, -INF],
    [1.0] * 7,
    [2.0, 3.0, 2.0, 3.0, 4.0, 2.0, 3.0],
    [-INF, INF, NAN, 0.0, -0.0, 0.0, 5.0],
])
#: no two elements equal in a row (at most one NaN), so every index is determined
DISTINCT = np.array([
    [4.0, NAN, -INF, 0.5, INF, -2.0, 7.0],
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5],
    [NAN, -1.0, -3.0, INF, 2.5, 0.0, -INF],
    [0.25, -0.5, 9.0, 8.0, NAN, 1.5, -7.0],
])
#: PyTorch's nanmedian index of an all-NaN row of n = 1, 2, ... elements (torch 2.13, CPU)
ALL_NAN_NANMEDIAN = [0, 0, 0, 2, 2, 3, 5, 6, 7, 8, 8, 9, 8, 9, 9, 10, 10, 11, 11, 12, 13, 14,
                     14, 15, 17, 18, 18, 19, 20, 21, 21, 22, 23, 24, 24, 25, 26, 27, 27]


@pytest.fixture
def torch(cpu_default):
    """PyTorch, for the parity tests: they run on the CPU, as torch's tensors do."""
    return pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(got, want):
    """Equal shapes, dtypes and values (NaN equal to NaN, -0.0 to 0.0)."""
    got, want = _np(got), _np(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_array_equal(got, want)


def _t(values, dtype=flambeau.float64):
    return flambeau.tensor(values, dtype=dtype)


def _points_at(input, dim, values, indices):
    """``indices`` pick ``values`` out of ``input`` along ``dim`` (NaN matches NaN)."""
    picked = flambeau.gather(input, dim, indices)
    np.testing.assert_array_equal(_np(picked), _np(values))


# ---------------------------------------------------------------------- sort, argsort, msort


@parity
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [False, True])
def test_sort_orders_nan_above_inf_as_torch(torch, dtype, dim, descending, stable):
    # rows of at most 16 elements: torch's sort is stable there even with stable=False
    x = ROWS.astype(dtype)
    f = flambeau.sort(flambeau.tensor(x), dim, descending=descending, stable=stable)
    t = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=stable)
    _same(f.values, t.values)
    _same(f.indices, t.indices)
    _same(flambeau.argsort(flambeau.tensor(x), dim, descending=descending, stable=stable),
          torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=stable))


@parity
@pytest.mark.parametrize("descending", [False, True])
def test_sort_of_long_rows_matches_torch(torch, descending):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (5, 60)).astype(float)
    x[rng.random(x.shape) < 0.2] = NAN
    x[rng.random(x.shape) < 0.1] = INF
    x[rng.random(x.shape) < 0.1] = -INF
    fx, tx = flambeau.tensor(x), torch.tensor(x)
    stable = flambeau.sort(fx, descending=descending, stable=True)
    _same(stable.values, torch.sort(tx, descending=descending, stable=True).values)
    _same(stable.indices, torch.sort(tx, descending=descending, stable=True).indices)
    # stable=False: torch's order of equal elements is its introsort's; the values agree
    plain = flambeau.sort(fx, descending=descending)
    _same(plain.values, torch.sort(tx, descending=descending).values)
    _points_at(fx, -1, plain.values, plain.indices)


#: values for the other dtypes: extremes, ties, and NaN/inf for bfloat16
OTHER_DTYPES = {
    "int64": [[np.iinfo(np.int64).min, 3, np.iinfo(np.int64).max, -1, 0, 3,
               np.iinfo(np.int64).min]],
    "int32": [[5, 0, 0, np.iinfo(np.int32).min, 5, 2, 2]],
    "int16": [[5, 0, 0, 1, 5, -2, 2]],
    "uint8": [[5, 0, 0, 255, 5, 2, 2]],
    "bool": [[True, False, False, True, True]],
    "bfloat16": [[1.0, NAN, -INF, 2.0, NAN, INF, 1.0]],
}


@parity
@pytest.mark.parametrize("dtype", sorted(OTHER_DTYPES))
@pytest.mark.parametrize("descending", [False, True])
def test_sort_of_other_dtypes_matches_torch(torch, dtype, descending):
    x = OTHER_DTYPES[dtype]
    f = flambeau.sort(flambeau.tensor(x, dtype=getattr(flambeau, dtype)),
                      descending=descending)
    t = torch.sort(torch.tensor(x, dtype=getattr(torch, dtype)), descending=descending)
    if dtype == "bfloat16":
        _same(f.values.float(), t.values.float())
    else:
        _same(f.values, t.values)
    _same(f.indices, t.indices)


@parity
def test_msort_matches_torch(torch):
    _same(flambeau.msort(flambeau.tensor(ROWS.T)), torch.msort(torch.tensor(ROWS.T)))
    _same(flambeau.msort(flambeau.tensor(ROWS)), torch.msort(torch.tensor(ROWS)))


def test_sort_descending_puts_nan_first():
    x = _t([1.0, NAN, INF, -INF, NAN, 1.0])
    v, i = flambeau.sort(x, descending=True)
    np.testing.assert_array_equal(_np(v), [NAN, NAN, INF, 1.0, 1.0, -INF])
    assert i.tolist() == [1, 4, 2, 0, 5, 3]
    v, i = flambeau.sort(x)
    np.testing.assert_array_equal(_np(v), [-INF, 1.0, 1.0, INF, NAN, NAN])
    assert i.tolist() == [3, 0, 5, 2, 1, 4]
    assert flambeau.argsort(x, descending=True).tolist() == [1, 4, 2, 0, 5, 3]
    m = flambeau.msort(_t([[NAN, 1.0], [2.0, NAN], [0.0, -INF]]))
    np.testing.assert_array_equal(_np(m), [[0.0, -INF], [2.0, 1.0], [NAN, NAN]])


def test_sort_descending_keeps_the_most_negative_integer_last():
    low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    v, i = flambeau.sort(flambeau.tensor([0, low, high, 7]), descending=True)
    assert v.tolist() == [high, 7, 0, low] and i.tolist() == [2, 3, 0, 1]
    v, i = flambeau.sort(flambeau.tensor([True, False, True]), descending=True)
    assert v.tolist() == [True, True, False] and i.tolist() == [0, 2, 1]
    v, i = flambeau.sort(flambeau.tensor([3, 250, 7], dtype=flambeau.uint8), descending=True)
    assert v.tolist() == [250, 7, 3] and i.tolist() == [1, 2, 0]


def test_sort_keeps_equal_elements_in_order_in_short_rows():
    # torch's CPU sort is an insertion sort up to 16 elements: stable without stable=True
    x = flambeau.tensor(np.tile([2.0, 1.0, NAN, 1.0], (3, 4)))
    v, i = flambeau.sort(x)
    assert i[0].tolist() == [1, 3, 5, 7, 9, 11, 13, 15, 0, 4, 8, 12, 2, 6, 10, 14]
    assert flambeau.sort(x, 0).indices.tolist() == [[0] * 16, [1] * 16, [2] * 16]


# ---------------------------------------------------------------------- topk, kthvalue


@parity
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_topk_counts_nan_as_largest_as_torch(torch, largest, dim):
    for k in range(ROWS.shape[dim] + 1):
        f = flambeau.topk(flambeau.tensor(ROWS), k, dim, largest=largest)
        t = torch.topk(torch.tensor(ROWS), k, dim, largest=largest)
        _same(f.values, t.values)
        _points_at(flambeau.tensor(ROWS), dim, f.values, f.indices)
    for k in range(DISTINCT.shape[dim] + 1):
        f = flambeau.topk(flambeau.tensor(DISTINCT), k, dim, largest=largest)
        t = torch.topk(torch.tensor(DISTINCT), k, dim, largest=largest)
        _same(f.values, t.values)
        _same(f.indices, t.indices)


@parity
@pytest.mark.parametrize("dim", [0, 1])
def test_kthvalue_counts_nan_as_largest_as_torch(torch, dim):
    for k in range(1, ROWS.shape[dim] + 1):
        f = flambeau.kthvalue(flambeau.tensor(ROWS), k, dim)
        t = torch.kthvalue(torch.tensor(ROWS), k, dim)
        _same(f.values, t.values)
        _points_at(flambeau.tensor(ROWS), dim, f.values.unsqueeze(dim), f.indices.unsqueeze(dim))
    for k in range(1, DISTINCT.shape[dim] + 1):
        f = flambeau.kthvalue(flambeau.tensor(DISTINCT), k, dim, keepdim=True)
        t = torch.kthvalue(torch.tensor(DISTINCT), k, dim, keepdim=True)
        _same(f.values, t.values)
        _same(f.indices, t.indices)


@parity
def test_kthvalue_median_and_topk_of_a_0d_tensor_and_refusals_match_torch(torch):
    for call in (lambda L: L.kthvalue(L.tensor(3.0), 1), lambda L: L.median(L.tensor(NAN), 0),
                 lambda L: L.nanmedian(L.tensor(NAN), 0), lambda L: L.topk(L.tensor(3.0), 1)):
        f, t = call(flambeau), call(torch)
        _same(f.values, t.values)
        _same(f.indices, t.indices)
    for call, kind, message in [
            (lambda L: L.kthvalue(L.ones(2, 3), 4), RuntimeError, "out of range for dimension 1"),
            (lambda L: L.kthvalue(L.ones(2, 3), 0), RuntimeError, "out of range for dimension 1"),
            (lambda L: L.kthvalue(L.tensor(3.0), 2), RuntimeError, "out of range"),
            (lambda L: L.kthvalue(L.ones(2, 0), 1), IndexError, "non-zero size"),
            (lambda L: L.median(L.ones(2, 0), 1), IndexError, "non-zero size")]:
        with pytest.raises(kind, match=message):
            call(torch)
        with pytest.raises(kind, match=message):
            call(flambeau)


def test_topk_and_kthvalue_treat_nan_as_largest():
    x = _t([1.0, NAN, 3.0, NAN, -INF])
    v, i = flambeau.topk(x, 3)
    np.testing.assert_array_equal(_np(v), [NAN, NAN, 3.0])
    assert i.tolist() == [1, 3, 2]  # equal values in index order
    v, i = flambeau.topk(x, 4, largest=False)
    np.testing.assert_array_equal(_np(v), [-INF, 1.0, 3.0, NAN])
    assert i.tolist() == [4, 0, 2, 1]
    assert flambeau.topk(x, 3, largest=False).values.tolist() == [-INF, 1.0, 3.0]
    assert flambeau.topk(_t([NAN] * 7), 3).indices.tolist() == [0, 1, 2]
    assert flambeau.kthvalue(x, 3).values.item() == 3.0
    v, i = flambeau.kthvalue(x, 4)
    assert math.isnan(v.item()) and i.item() == 1


# ---------------------------------------------------------------------- median, nanmedian


@parity
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_median_of_all_elements_matches_torch(torch, dtype):
    cases = [ROWS, ROWS[3:5], DISTINCT[1:2], [[NAN]], [[INF, -INF, 0.0, 1.0]], [[]]]
    for case in cases:
        x = np.asarray(case, dtype=float)
        if dtype == "int64":
            if x.size == 0 or not np.isfinite(x).all():
                continue
            x = x.astype(dtype)
        else:
            x = x.astype(dtype)
        _same(flambeau.median(flambeau.tensor(x)), torch.median(torch.tensor(x)))
        if dtype != "int64":
            _same(flambeau.nanmedian(flambeau.tensor(x)), torch.nanmedian(torch.tensor(x)))


@parity
@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_of_all_elements_shares_the_gradient_as_torch(torch, op):
    for case in ([1.0, 2.0, 2.0, 3.0, 2.0], [1.0, NAN, 2.0, NAN], [NAN, NAN, NAN],
                 [1.0, 2.0, NAN], [4.0, 1.0, 4.0]):
        f = flambeau.tensor(case, dtype=flambeau.float64, requires_grad=True)
        t = torch.tensor(case, dtype=torch.float64, requires_grad=True)
        getattr(flambeau, op)(f).backward()
        getattr(torch, op)(t).backward()
        np.testing.assert_allclose(_np(f.grad), t.grad.numpy(), rtol=1e-12)


@parity
@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_along_a_dim_matches_torch(torch, op, dim, keepdim):
    for x in (ROWS, DISTINCT, ROWS.astype(np.float32)):
        f = getattr(flambeau, op)(flambeau.tensor(x), dim, keepdim)
        t = getattr(torch, op)(torch.tensor(x), dim, keepdim)
        _same(f.values, t.values)
        _same(f.indices, t.indices)


@parity
def test_median_along_a_dim_of_integers_and_ties_matches_torch(torch):
    rng = np.random.default_rng(1)
    for n in (1, 2, 5, 8, 17, 40):
        x = rng.integers(0, 3, (6, n))
        for op in ("median", "nanmedian"):
            f = getattr(flambeau, op)(flambeau.tensor(x), 1)
            t = getattr(torch, op)(torch.tensor(x), 1)
            _same(f.values, t.values)
            _same(f.indices, t.indices)
        y = x.astype(float)
        y[rng.random(y.shape) < 0.2] = NAN
        for op in ("median", "nanmedian"):
            f = getattr(flambeau, op)(flambeau.tensor(y), 1)
            t = getattr(torch, op)(torch.tensor(y), 1)
            _same(f.values, t.values)
            _same(f.indices, t.indices)


@parity
def test_nanmedian_of_all_nan_rows_of_every_length_matches_torch(torch):
    for n in range(1, 70):
        x = np.full((2, n), NAN)
        x[1, 0] = 1.0  # a row that is not all NaN beside it
        f = flambeau.nanmedian(flambeau.tensor(x), 1)
        t = torch.nanmedian(torch.tensor(x), 1)
        _same(f.values, t.values)
        _same(f.indices, t.indices)
        f = flambeau.nanmedian(flambeau.tensor(x.T.copy()), 0)
        _same(f.indices, torch.nanmedian(torch.tensor(x.T.copy()), 0).indices)


def test_median_propagates_nan():
    x = _t([[3.0, NAN, 1.0, NAN], [2.0, 1.0, 3.0, 0.0], [NAN] * 4])
    assert math.isnan(flambeau.median(x).item())
    assert flambeau.nanmedian(x).item() == 1.0
    v, i = flambeau.median(x, 1)
    np.testing.assert_array_equal(_np(v), [NAN, 1.0, NAN])
    assert i.tolist() == [1, 1, 0]  # the first NaN; else the middle of a stable sort
    v, i = flambeau.nanmedian(x, 1)
    np.testing.assert_array_equal(_np(v), [1.0, 1.0, NAN])
    assert i.tolist() == [2, 1, _nth_of_equal_elements(4)]
    assert flambeau.median(_t([2.0, 1.0, 2.0, 2.0]), 0).indices.item() == 0
    assert flambeau.median(_t([[2.0, 1.0, 2.0, 1.0]]), 1, keepdim=True).indices.tolist() == [[3]]
    assert math.isnan(flambeau.median(flambeau.zeros(0)).item())


def test_median_of_all_elements_shares_the_gradient_between_nans_and_ties():
    x = _t([1.0, NAN, 2.0, NAN]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.median(x), x)
    assert g.tolist() == [0.0, 0.5, 0.0, 0.5]
    x = _t([2.0, 1.0, 2.0, 3.0]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.median(x), x)
    assert g.tolist() == [0.5, 0.0, 0.5, 0.0]
    x = _t([NAN, NAN]).requires_grad_()
    (g,) = flambeau.autograd.grad(flambeau.nanmedian(x), x)
    assert g.tolist() == [0.5, 0.5]


def test_nanmedian_index_of_an_all_nan_row():
    assert [_nth_of_equal_elements(n) for n in range(1, 40)] == ALL_NAN_NANMEDIAN
    x = flambeau.full((3, 7), NAN, dtype=flambeau.float64)
    assert flambeau.nanmedian(x, 1).indices.tolist() == [5, 5, 5]
    assert flambeau.nanmedian(x, 0).indices.tolist() == [0] * 7


# ---------------------------------------------------------------------- mode


@parity
def test_mode_of_short_rows_without_nan_matches_torch(torch):
    # up to 16 elements torch sorts by insertion, stably: the last occurrence of the
    # smallest most frequent value (longer rows, and NaNs, which break its `<` ordering,
    # give an index with no simple rule)
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 7, 16):
        x = rng.integers(0, 4, (30, n)).astype(float)
        x[rng.random(x.shape) < 0.1] = INF
        f, t = flambeau.mode(flambeau.tensor(x)), torch.mode(torch.tensor(x))
        _same(f.values, t.values)
        _same(f.indices, t.indices)


# ---------------------------------------------------------------------- unique


@parity
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unique_keeps_every_nan_as_torch(torch, dtype):
    short = np.array([3.0, NAN, 1.0, 3.0, NAN, 2.0, 1.0, -0.0, 0.0, INF, NAN, -INF])
    for x in (short, short.reshape(3, 4), ROWS):
        x = x.astype(dtype)
        f = flambeau.unique(flambeau.tensor(x), return_inverse=True, return_counts=True)
        t = torch.unique(torch.tensor(x), return_inverse=True, return_counts=True)
        _same(f[0], t[0])
        _same(f[2], t[2])
        _same(flambeau.unique(flambeau.tensor(x)), torch.unique(torch.tensor(x)))
        _same(flambeau.unique(flambeau.tensor(x), return_counts=True)[1],
              torch.unique(torch.tensor(x), return_counts=True)[1])
        inv, tinv = _np(f[1]), t[1].numpy()
        nan = np.isnan(x)
        assert inv.shape == tinv.shape
        np.testing.assert_array_equal(inv[~nan], tinv[~nan])
        if x.size <= 16:  # torch's sort is stable there: NaNs in order of position
            np.testing.assert_array_equal(inv, tinv)
        else:  # past 16, torch's introsort orders its NaNs: each takes its own slot
            assert sorted(inv[nan].tolist()) == sorted(tinv[nan].tolist())


@parity
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive_matches_torch(torch, dim):
    x = np.array([[1.0, NAN], [1.0, NAN], [0.0, 2.0], [0.0, 2.0], [NAN, 0.0], [-0.0, 2.0]])
    for case in (x, x.T.copy(), np.array([[NAN, NAN, 1.0, 1.0, -0.0, 0.0, INF, INF]])):
        f = flambeau.unique_consecutive(flambeau.tensor(case), return_inverse=True,
                                        return_counts=True, dim=dim)
        t = torch.unique_consecutive(torch.tensor(case), return_inverse=True,
                                     return_counts=True, dim=dim)
        for a, b in zip(f, t):
            _same(a, b)
        _same(flambeau.unique_consecutive(flambeau.tensor(case), dim=dim),
              torch.unique_consecutive(torch.tensor(case), dim=dim))


def test_unique_keeps_every_nan():
    x = _t([NAN, 1.0, NAN, 1.0, -INF])
    v, inv, counts = flambeau.unique(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(_np(v), [-INF, 1.0, NAN, NAN])
    assert inv.tolist() == [2, 1, 3, 1, 0] and counts.tolist() == [1, 2, 1, 1]
    assert flambeau.unique(flambeau.tensor([2, 1, 2])).tolist() == [1, 2]
    v, inv, counts = flambeau.unique(flambeau.zeros(0), return_inverse=True, return_counts=True)
    assert v.shape == (0,) and inv.shape == (0,) and counts.shape == (0,)
    assert flambeau.unique(_t([-0.0, 0.0])).tolist() == [0.0]
    assert math.copysign(1.0, flambeau.unique(_t([-0.0, 0.0])).item()) == -1.0


def test_unique_consecutive_along_a_dim():
    x = _t([[1.0, 1.0], [1.0, 1.0], [NAN, 2.0], [NAN, 2.0], [3.0, 2.0]])
    v, inv, counts = flambeau.unique_consecutive(x, return_inverse=True, return_counts=True,
                                                 dim=0)
    np.testing.assert_array_equal(_np(v), [[1.0, 1.0], [NAN, 2.0], [NAN, 2.0], [3.0, 2.0]])
    assert inv.tolist() == [0, 0, 1, 2, 3] and counts.tolist() == [2, 1, 1, 1]
    v, counts = flambeau.unique_consecutive(x, return_counts=True, dim=1)
    assert v.shape == (5, 2) and counts.tolist() == [1, 1]
    v, inv = flambeau.unique_consecutive(flambeau.zeros(0), return_inverse=True)
    assert v.shape == (0,) and inv.shape == (0,)
    with pytest.raises(IndexError):
        flambeau.unique_consecutive(_t(3.0), dim=0)


# ---------------------------------------------------------------------- searchsorted, bucketize


def _sorted_rows(rng, shape, nan=0.0):
    x = rng.integers(-3, 4, shape).astype(float)
    x[rng.random(shape) < 0.1] = INF
    x[rng.random(shape) < nan] = NAN
    return np.sort(x, -1)  # NaN last, as torch sorts


@parity
@pytest.mark.parametrize("kw", [{}, {"right": True}, {"side": "right"}, {"side": "left"},
                                {"out_int32": True}, {"right": True, "side": "right"}])
def test_searchsorted_batched_matches_torch(torch, kw):
    rng = np.random.default_rng(3)
    values = rng.integers(-4, 5, (6, 5)).astype(float)
    values[0, :3] = [NAN, INF, -INF]
    cases = [(np.sort(ROWS, -1), values), (_sorted_rows(rng, (6, 9)), values),
             (_sorted_rows(rng, (2, 3, 8)), rng.integers(-4, 5, (2, 3, 4)).astype(float)),
             (_sorted_rows(rng, (4,)), values), (_sorted_rows(rng, (5,)), 2.0),
             (_sorted_rows(rng, (5,)), values[0, 3]),  # a 0-d tensor
             (np.zeros((2, 0)), values[:2]), (np.sort(ROWS, -1)[:, :1], values)]
    for seq, v in cases:
        fv = flambeau.tensor(v) if isinstance(v, np.ndarray) else v
        tv = torch.tensor(v) if isinstance(v, np.ndarray) else v
        _same(flambeau.searchsorted(flambeau.tensor(seq), fv, **kw),
              torch.searchsorted(torch.tensor(seq), tv, **kw))


@parity
def test_searchsorted_with_a_sorter_matches_torch(torch):
    rng = np.random.default_rng(4)
    seq = rng.integers(-3, 4, (6, 7)).astype(float)
    seq[rng.random(seq.shape) < 0.2] = NAN
    sorter = np.argsort(seq, -1, kind="stable")
    values = rng.integers(-4, 5, (6, 3)).astype(float)
    for right in (False, True):
        _same(flambeau.searchsorted(flambeau.tensor(seq), flambeau.tensor(values), right=right,
                                    sorter=flambeau.tensor(sorter)),
              torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right,
                                 sorter=torch.tensor(sorter)))
        _same(flambeau.searchsorted(flambeau.tensor(seq[0]), flambeau.tensor(values),
                                    right=right, sorter=flambeau.tensor(sorter[0])),
              torch.searchsorted(torch.tensor(seq[0]), torch.tensor(values), right=right,
                                 sorter=torch.tensor(sorter[0])))


@parity
def test_searchsorted_follows_torchs_search_path_where_the_order_is_broken(torch):
    # NaN inside a sequence (or an unsorted one): the answer depends on the probes made
    rng = np.random.default_rng(5)
    for trial in range(300):
        batch = tuple(rng.integers(1, 3, trial % 3))
        n = int(rng.integers(1, 20))
        seq = rng.integers(-3, 4, batch + (n,)).astype(float)
        if trial % 2:
            seq = np.sort(seq, -1)
        seq[rng.random(seq.shape) < 0.2] = NAN
        values = rng.integers(-4, 5, batch + (4,)).astype(float)
        values[rng.random(values.shape) < 0.2] = NAN
        right = bool(trial % 4 < 2)
        dtype = ["float64", "float32"][trial % 2]
        s, v = seq.astype(dtype), values.astype(dtype)
        _same(flambeau.searchsorted(flambeau.tensor(s), flambeau.tensor(v), right=right),
              torch.searchsorted(torch.tensor(s), torch.tensor(v), right=right))


@parity
def test_searchsorted_promotes_as_torch(torch):
    def cases(L):
        s32 = L.tensor([0.1, 0.2], dtype=L.float32)
        return [L.searchsorted(s32, 0.1, right=True),  # a number: compared in float32
                L.searchsorted(s32, L.tensor([0.1], dtype=L.float64), right=True),
                L.searchsorted(s32, L.tensor(0.1, dtype=L.float64), right=True),
                L.searchsorted(L.tensor([1, 3, 5]), L.tensor([2.5, 3.0]), right=True),
                L.searchsorted(L.tensor([1, 3, 5]), 3.5),
                L.searchsorted(L.tensor([1.0, 3.0], dtype=L.float16),
                               L.tensor([[3.0]], dtype=L.bfloat16))]

    for f, t in zip(cases(flambeau), cases(torch), strict=True):
        _same(f, t)


@parity
@pytest.mark.parametrize("right", [False, True])
def test_bucketize_matches_torch_and_searchsorted(torch, right):
    b = np.array([-INF, 0.0, 1.0, 1.0, 3.0, INF])
    x = np.array([[NAN, -INF, 0.0, 1.0], [2.0, 3.0, INF, -1.0]])
    for inp in (x, x.astype(np.float32), 1.0, np.float64(INF)):
        fx = flambeau.tensor(inp) if isinstance(inp, np.ndarray) else inp
        tx = torch.tensor(inp) if isinstance(inp, np.ndarray) else inp
        f = flambeau.bucketize(fx, flambeau.tensor(b), right=right)
        _same(f, torch.bucketize(tx, torch.tensor(b), right=right))
        _same(f, flambeau.searchsorted(flambeau.tensor(b), fx, right=right))
    _same(flambeau.bucketize(flambeau.tensor(x), flambeau.tensor(b), out_int32=True),
          torch.bucketize(torch.tensor(x), torch.tensor(b), out_int32=True))


#: calls torch refuses, with the type of error and the start of flambeau's message
ERRORS = [
    (lambda L: L.searchsorted(L.ones(2, 3), L.ones(2)), RuntimeError,
     "searchsorted(): boundaries tensor should be 1 dimension or the first N-1"),
    (lambda L: L.searchsorted(L.ones(2, 3), L.ones(1, 2)), RuntimeError,
     "searchsorted(): boundaries tensor should be 1 dimension or the first N-1"),
    (lambda L: L.searchsorted(L.ones(2, 3), L.ones(3, 1)), RuntimeError,
     "searchsorted(): boundaries tensor should be 1 dimension or the first N-1"),
    (lambda L: L.searchsorted(L.ones(2, 3), 1.0), RuntimeError,
     "searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1"),
    (lambda L: L.searchsorted(L.ones(2, 3), L.tensor(1.0)), RuntimeError,
     "searchsorted(): input value can be a scalar only"),
    (lambda L: L.searchsorted(L.tensor(1.0), L.ones(2)), RuntimeError,
     "searchsorted(): boundaries tensor should have positive dimension"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), side="middle"), RuntimeError,
     "searchsorted(): side can only be 'left' or 'right' but got middle"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), side="left", right=True), RuntimeError,
     "searchsorted(): side and right can't be set to opposites"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), sorter=L.tensor([0, 1])), RuntimeError,
     "searchsorted(): boundary and sorter must have the same size"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), sorter=L.tensor([0, 1, 3])), RuntimeError,
     "searchsorted(): sorter index out of range"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), sorter=L.tensor([0, 1, -1])), RuntimeError,
     "searchsorted(): sorter index out of range"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), sorter=L.tensor([0.0, 1, 2])),
     RuntimeError, "searchsorted(): sorter must be a tensor of long dtype"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), sorter=L.tensor([0, 1, 2],
                                                                     dtype=L.int32)),
     RuntimeError, "searchsorted(): sorter must be a tensor of long dtype"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), out=L.empty(2, dtype=L.int32)),
     RuntimeError, "searchsorted(): output tensor's dtype is wrong"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), out_int32=True,
                              out=L.empty(2, dtype=L.int64)),
     RuntimeError, "searchsorted(): output tensor's dtype is wrong"),
    (lambda L: L.searchsorted(L.tensor([True, False]), L.tensor([True])), NotImplementedError,
     "searchsorted(): not implemented for"),
    (lambda L: L.bucketize(L.ones(2), L.ones(1, 2)), RuntimeError,
     "boundaries tensor must be 1 dimension, but got dim(2)"),
    (lambda L: L.bucketize(L.ones(2), L.tensor(1.0)), RuntimeError,
     "boundaries tensor must be 1 dimension, but got dim(0)"),
]


@parity
@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_searchsorted_errors_match_torch(torch, case):
    call, kind, start = ERRORS[case]
    with pytest.raises(kind):
        call(torch)
    with pytest.raises(kind) as info:
        call(flambeau)
    assert str(info.value).startswith(start)


def test_searchsorted_searches_each_row_in_its_own_sequence():
    seq = _t([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    v = _t([[3.0, 6.0], [1.0, 4.0]])
    assert flambeau.searchsorted(seq, v).tolist() == [[1, 3], [0, 1]]
    assert flambeau.searchsorted(seq, v, right=True).tolist() == [[2, 3], [0, 2]]
    assert flambeau.searchsorted(seq, v, side="right").tolist() == [[2, 3], [0, 2]]
    got = flambeau.searchsorted(seq, v, out_int32=True)
    assert got.dtype == flambeau.int32 and got.tolist() == [[1, 3], [0, 1]]
    unsorted = _t([[5.0, 1.0, 3.0], [6.0, 4.0, 2.0]])
    sorter = flambeau.tensor([[1, 2, 0], [2, 1, 0]])
    assert flambeau.searchsorted(unsorted, v, sorter=sorter).tolist() == [[1, 3], [0, 1]]
    assert flambeau.searchsorted(_t([1.0, 3.0]), 2.0).tolist() == 1
    assert flambeau.bucketize(_t([[1.0, 3.5]]), _t([1.0, 3.0]), right=True).tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        flambeau.searchsorted(seq, _t([3.0, 6.0]))


def test_searchsorted_batched_agrees_with_each_row_alone():
    rng = np.random.default_rng(6)
    seq = _sorted_rows(rng, (5, 11))
    v = rng.integers(-4, 5, (5, 6)).astype(float)
    v[0, 0] = NAN
    for right in (False, True):
        batched = flambeau.searchsorted(_t(seq), _t(v), right=right)
        rows = [flambeau.searchsorted(_t(s), _t(r), right=right).tolist()
                for s, r in zip(seq, v)]
        assert batched.tolist() == rows
        want = [np.searchsorted(s, r, side="right" if right else "left").tolist()
                for s, r in zip(seq, v)]
        assert rows == want


def test_searchsorted_with_nan_in_the_sequence_follows_torchs_probes():
    # torch moves right while !(seq[mid] >= v): a NaN probe always sends it right
    seq = _t([1.0, 2.0, NAN, NAN])
    v = _t([1.5, 3.0, NAN, 0.5])
    assert flambeau.searchsorted(seq, v).tolist() == [4, 4, 4, 4]
    assert flambeau.searchsorted(seq, v, right=True).tolist() == [4, 4, 4, 4]
    assert flambeau.searchsorted(_t([[NAN]]), _t([[2.0]])).tolist() == [[1]]
    assert flambeau.searchsorted(_t([NAN]), _t(2.0)).tolist() == 1
    assert flambeau.searchsorted(_t([1.0, 2.0, 3.0]), _t([NAN, 2.0])).tolist() == [3, 1]

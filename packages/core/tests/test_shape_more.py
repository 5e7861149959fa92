"""Shape and creation ops of ``flambeau._ops.shape_more``: harness cases (values, gradcheck,
gradgradcheck, torch parity), errors, view semantics, in-place metadata changes, windows and
hypothesis properties."""

import inspect
import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau._ops.shape_more import _i0e, unfold
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests, torch_or_none


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _case(name, f, *shapes, **kw):
    """A case whose inputs are float tensors of ``shapes`` (one sample)."""
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn,
                  lambda rng, dt: [tuple(_normal(rng, dt, *s) for s in shapes)], **kw)


def _case_samples(name, f, inputs, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


def _vander_ref(x, N=None, increasing=False):
    """torch.vander's own backward fails in torch 2.13 (an in-place write to a saved
    tensor), so gradients are compared with the same matrix built from powers."""
    import torch

    n = x.shape[0] if N is None else N
    out = torch.stack([x ** k for k in range(n)], 1) if n else x.new_zeros(x.shape[0], 0)
    return out if increasing else out.flip(1)


def _vander_case(name, kwargs, inputs):
    return OpCase(name, lambda x: flambeau.vander(x, **kwargs),
                  lambda x: _vander_ref(x, **kwargs), inputs)


CASES = [
    _case("meshgrid_ij", lambda lib, a, b: lib.meshgrid(a, b, indexing="ij"), (3,), (2,)),
    _case("meshgrid_xy_list", lambda lib, a, b, c: lib.meshgrid([a, b, c], indexing="xy"),
          (3,), (2,), ()),
    _case("meshgrid_one", lambda lib, a: lib.meshgrid(a, indexing="ij"), (3,)),
    _case("atleast_1d", lambda lib, a: lib.atleast_1d(a), ()),
    _case("atleast_2d", lambda lib, a, b: lib.atleast_2d(a, b), (3,), ()),
    _case("atleast_3d", lambda lib, a, b, c: lib.atleast_3d([a, b, c]), (2, 3), (3,), ()),
    _case("column_stack", lambda lib, a, b: lib.column_stack([a, b]), (3,), (3, 2)),
    _case("column_stack_0d", lambda lib, a, b: lib.column_stack((a, b)), (), (1,)),
    _case("row_stack", lambda lib, a, b: lib.row_stack([a, b]), (3,), (2, 3)),
    _case("dstack", lambda lib, a, b: lib.dstack([a, b]), (2, 3), (2, 3)),
    _case("dstack_1d", lambda lib, a, b: lib.dstack((a, b)), (2,), (2,)),
    _case("hsplit", lambda lib, x: lib.hsplit(x, 3), (2, 6)),
    _case("hsplit_indices", lambda lib, x: lib.hsplit(x, [1, 4]), (2, 6)),
    _case("hsplit_1d", lambda lib, x: x.hsplit(2), (4,)),
    _case("vsplit", lambda lib, x: lib.vsplit(x, 2), (4, 2)),
    _case("dsplit", lambda lib, x: x.dsplit([1]), (1, 2, 4)),
    _case("ravel", lambda lib, x: lib.ravel(x.t()), (2, 3)),
    _case("ravel_0d", lambda lib, x: x.ravel(), ()),
    _case("select", lambda lib, x: lib.select(x, 1, -1), (2, 3)),
    _case("select_method", lambda lib, x: x.select(0, 1), (2, 3, 2)),
    _case("unfold", lambda lib, x: x.unfold(0, 3, 2), (7,)),
    _case("unfold_overlap", lambda lib, x: x.unfold(1, 3, 1), (2, 5)),
    _case("unfold_gaps", lambda lib, x: x.unfold(0, 2, 3), (8, 2)),
    _case("unfold_neg_dim", lambda lib, x: x.unfold(-2, 2, 1), (3, 2, 2)),
    _case("unfold_0d", lambda lib, x: x.unfold(0, 1, 1), ()),
    _case("unfold_of_view", lambda lib, x: x.t().unfold(0, 2, 1), (2, 3)),
    _case("rot90", lambda lib, x: lib.rot90(x), (2, 3)),
    _case("rot90_k2", lambda lib, x: lib.rot90(x, 2, (1, 2)), (2, 2, 3)),
    _case("rot90_k3", lambda lib, x: x.rot90(3), (2, 3)),
    _case("rot90_neg", lambda lib, x: lib.rot90(x, -1, [-1, -2]), (2, 3)),
    _case("rot90_k0", lambda lib, x: lib.rot90(x, 4), (2, 3)),
    _case("diag_embed", lambda lib, x: lib.diag_embed(x), (2, 3)),
    _case("diag_embed_offset", lambda lib, x: lib.diag_embed(x, 1, 0, 2), (2, 3)),
    _case("diag_embed_swapped", lambda lib, x: x.diag_embed(-1, 2, 0), (2, 2)),
    _case("diagflat", lambda lib, x: lib.diagflat(x, 1), (2, 2)),
    _case("diagflat_neg", lambda lib, x: x.diagflat(-2), (3,)),
    _case("block_diag", lambda lib, a, b, c: lib.block_diag(a, b, c), (2, 2), (3,), ()),
    _case("block_diag_promotes", lambda lib, a, b: lib.block_diag(a, b.to(lib.float64)),
          (1, 2), (2, 1)),
    _case("cartesian_prod", lambda lib, a, b: lib.cartesian_prod(a, b), (3,), (2,)),
    _case("cartesian_prod_three", lambda lib, a, b, c: lib.cartesian_prod(a, b, c),
          (2,), (1,), (2,)),
    _case("combinations", lambda lib, x: lib.combinations(x), (4,)),
    _case("combinations_r3_replacement", lambda lib, x: lib.combinations(x, 3, True), (3,)),
    _case("combinations_r1", lambda lib, x: lib.combinations(x, r=1), (3,)),
    _vander_case("vander", {}, lambda rng, dt: [(_normal(rng, dt, 3),)]),
    _vander_case("vander_n", {"N": 4, "increasing": True},
                 lambda rng, dt: [(_normal(rng, dt, 3),)]),
    _vander_case("vander_zero", {"N": 3}, lambda rng, dt: [
        (np.array([0.0, 1.5, -2.0], dtype=dt),)]),
    _case("split_with_sizes", lambda lib, x: lib.split_with_sizes(x, [2, 0, 3]), (5, 2)),
    _case("split_with_sizes_dim", lambda lib, x: x.split_with_sizes([1, 2], dim=-1), (2, 3)),
    _case("unsafe_chunk", lambda lib, x: lib.unsafe_chunk(x, 2, 1), (2, 5)),
    _case("unsafe_split", lambda lib, x: x.unsafe_split(2), (5,)),
    _case("narrow_copy", lambda lib, x: lib.narrow_copy(x, 1, 1, 2), (2, 3)),
    _case("narrow_copy_neg", lambda lib, x: x.narrow_copy(-1, -2, 1), (2, 3)),
    _case("diagonal_scatter", lambda lib, x, s: lib.diagonal_scatter(x, s, 1), (3, 3), (2,)),
    _case("diagonal_scatter_batched", lambda lib, x, s: x.diagonal_scatter(s, 0, 1, 2),
          (2, 3, 3), (2, 3)),
    _case("diagonal_scatter_neg", lambda lib, x, s: lib.diagonal_scatter(x, s, -1, 1, 0),
          (3, 4), (3,)),
    _case("select_scatter", lambda lib, x, s: lib.select_scatter(x, s, 0, 1), (2, 3), (3,)),
    _case("select_scatter_neg", lambda lib, x, s: x.select_scatter(s, 1, -1), (2, 3), (2,)),
    _case("select_scatter_0d_src", lambda lib, x, s: lib.select_scatter(x, s, 0, 2), (3,), ()),
    _case("slice_scatter", lambda lib, x, s: lib.slice_scatter(x, s, start=1, end=3),
          (4, 3), (2, 3)),
    _case("slice_scatter_step", lambda lib, x, s: x.slice_scatter(s, 1, None, None, 2),
          (4, 3), (4, 2)),
    _case("slice_scatter_clamped", lambda lib, x, s: lib.slice_scatter(x, s, 1, -2, 100),
          (2, 4), (2, 2)),
    _case("sum_to_size", lambda lib, x: x.sum_to_size(1, 3), (2, 3)),
    _case("sum_to_size_lead", lambda lib, x: x.sum_to_size((3, 1)), (2, 3, 4)),
    _case("sum_to_size_same", lambda lib, x: x.sum_to_size(2, 3), (2, 3)),
    _case_samples("where_method", lambda lib, x, c, y: x.where(c, y),
                  lambda rng, dt: [(_normal(rng, dt, 2, 3), rng.random((2, 3)) > 0.5,
                                    _normal(rng, dt, 3))]),
    _case("t_", lambda lib, x: (x * 1).t_(), (2, 3)),
    _case("transpose_", lambda lib, x: (x * 1).transpose_(0, 2), (2, 3, 2)),
    _case("swapaxes_", lambda lib, x: (x * 1).swapaxes_(0, 1), (2, 3)),
    _case("swapdims_", lambda lib, x: (x * 1).swapdims_(-1, 0), (2, 3)),
    _case("squeeze_", lambda lib, x: (x * 1).squeeze_(), (2, 1, 3, 1)),
    _case("squeeze_dim_", lambda lib, x: (x * 1).squeeze_(1), (2, 1, 3)),
    _case("unsqueeze_", lambda lib, x: (x * 1).unsqueeze_(-1), (2, 3)),
    _case("restride_then_op", lambda lib, x: (x * 2).t_().unsqueeze_(0) * 3, (2, 3)),
]

NONDIFF = [
    _case_samples("int_shape_more", lambda lib, x: (
        lib.rot90(x), lib.diag_embed(x), lib.block_diag(x, x[0]), lib.combinations(x[0]),
        lib.vander(x[0]), lib.column_stack([x, x]), lib.cartesian_prod(x[0], x[1]),
        x.unfold(1, 2, 1), lib.diagflat(x)),
        lambda rng, dt: [(np.asarray(rng.integers(-3, 4, (2, 3)), dtype=dt),)],
        differentiable=False, dtypes=("int64", "int32")),
    _case_samples("bool_shape_more", lambda lib, x: (
        lib.rot90(x), lib.diag_embed(x), lib.block_diag(x, x), lib.dstack([x, x]),
        lib.meshgrid(x[0], x[1], indexing="xy")),
        lambda rng, dt: [(rng.random((2, 3)) > 0.5,)], differentiable=False, dtypes=("bool",)),
    _case_samples("vander_ints", lambda lib, x: lib.vander(x, 4),
                  lambda rng, dt: [(np.asarray([1, 2, 3], dtype=dt),)],
                  differentiable=False, dtypes=("int32", "uint8", "bool")),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES + NONDIFF)


def _t(x, **kw):
    return flambeau.tensor(x, **kw)


# ------------------------------------------------------------------ forward values


def test_meshgrid_values_and_default_indexing():
    a, b = flambeau.arange(3), flambeau.arange(2)
    gx, gy = flambeau.meshgrid(a, b)  # "ij" without a warning
    assert gx.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert gy.tolist() == [[0, 1], [0, 1], [0, 1]]
    gx, gy, gz = flambeau.meshgrid(a, b, flambeau.tensor(5), indexing="xy")
    assert gx.shape == (2, 3, 1) and gz.shape == (2, 3, 1)
    assert gx[:, :, 0].tolist() == [[0, 1, 2], [0, 1, 2]]
    assert gy[:, :, 0].tolist() == [[0, 0, 0], [1, 1, 1]]
    (only,) = flambeau.meshgrid([a])
    assert only.tolist() == [0, 1, 2]
    empty = flambeau.meshgrid(flambeau.zeros(0), flambeau.zeros(2))
    assert empty[0].shape == (0, 2)


def test_tril_triu_indices_values():
    assert flambeau.tril_indices(3, 3).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert flambeau.tril_indices(4, 3, 1).tolist() == [
        [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3], [0, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2]]
    assert flambeau.triu_indices(4, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    assert flambeau.triu_indices(2, 3, -5).shape == (2, 6)
    assert flambeau.tril_indices(0, 3).shape == (2, 0)
    assert flambeau.triu_indices(3, 3, 10).shape == (2, 0)
    assert flambeau.tril_indices(3, 3, dtype=flambeau.int32).dtype is flambeau.int32
    assert flambeau.tril_indices(2, 2).dtype is flambeau.int64


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (4, 3, 1), (3, 4, -1), (5, 2, -3),
                                            (2, 5, 4), (0, 0, 0), (1, 6, -1)])
def test_tril_triu_indices_parity(row, col, offset):
    torch = pytest.importorskip("torch")
    for name in ("tril_indices", "triu_indices"):
        got = getattr(flambeau, name)(row, col, offset)
        want = getattr(torch, name)(row, col, offset)
        assert got.tolist() == want.tolist() and got.shape == tuple(want.shape)


def test_atleast_returns_the_input_when_it_has_enough_dims():
    x = flambeau.zeros(2, 2)
    assert flambeau.atleast_1d(x) is x and flambeau.atleast_2d(x) is x
    assert flambeau.atleast_3d(x).shape == (2, 2, 1)
    assert flambeau.atleast_1d() == ()
    assert isinstance(flambeau.atleast_2d((x,)), tuple)
    assert flambeau.atleast_3d(flambeau.zeros(2, 3, 4, 5)).shape == (2, 3, 4, 5)


def test_hstack_vstack_dstack_column_stack_values():
    a, b = flambeau.tensor([1, 2]), flambeau.tensor([3.0, 4.0])
    assert flambeau.dstack([a, b]).tolist() == [[[1.0, 3.0], [2.0, 4.0]]]
    assert flambeau.dstack([a, b]).dtype is flambeau.float32
    assert flambeau.column_stack([flambeau.tensor(1), flambeau.tensor([2])]).tolist() == [[1, 2]]
    assert flambeau.column_stack([flambeau.zeros(2, 2, 2)] * 2).shape == (2, 4, 2)
    assert flambeau.row_stack([a, a]).tolist() == [[1, 2], [1, 2]]
    assert flambeau.dstack([flambeau.tensor(1), flambeau.tensor(3)]).shape == (1, 1, 2)


def test_splits_values():
    x = flambeau.arange(12.0).reshape(2, 6)
    parts = flambeau.hsplit(x, [1, 4])
    assert isinstance(parts, tuple)
    assert [p.shape for p in parts] == [(2, 1), (2, 3), (2, 2)]
    assert flambeau.vsplit(x, 2)[1].tolist() == [[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]]
    assert [p.tolist() for p in flambeau.split_with_sizes(flambeau.arange(6), [2, 4])] == [
        [0, 1], [2, 3, 4, 5]]
    assert [p.tolist() for p in flambeau.unsafe_chunk(flambeau.arange(6), 4)] == [
        [0, 1], [2, 3], [4, 5]]


def test_select_unfold_values():
    x = flambeau.arange(6).reshape(2, 3)
    assert x.select(1, torch_like_index()).tolist() == [1, 4]
    assert unfold(flambeau.arange(7), 0, 2, 1).tolist() == [[0, 1], [1, 2], [2, 3], [3, 4],
                                                            [4, 5], [5, 6]]
    assert flambeau.arange(7).unfold(0, 0, 1).shape == (8, 0)
    assert flambeau.zeros(3, 0).unfold(0, 2, 1).shape == (2, 0, 2)
    assert flambeau.tensor(5.0).unfold(0, 1, 3).tolist() == [5.0]
    assert flambeau.tensor(5.0).unfold(-1, 0, 1).shape == (0,)


def torch_like_index():
    return flambeau.tensor(1)  # a 0-d index tensor, as PyTorch accepts


def test_unfold_matches_numpy_sliding_windows():
    a = np.arange(24.0).reshape(4, 6)
    want = np.lib.stride_tricks.sliding_window_view(a, 3, axis=1)[:, ::2]
    got = flambeau.tensor(a).unfold(1, 3, 2)
    np.testing.assert_array_equal(got.cpu().numpy(), want)


def test_rot90_values():
    x = flambeau.arange(6).reshape(2, 3)
    assert flambeau.rot90(x).tolist() == [[2, 5], [1, 4], [0, 3]]
    assert flambeau.rot90(x, 2).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert flambeau.rot90(x, 5, [1, 0]).tolist() == [[3, 0], [4, 1], [5, 2]]
    r = flambeau.rot90(x, 0)
    r[0, 0] = 9
    assert x[0, 0].item() == 0  # k=0 is a copy


def test_diag_embed_diagflat_values():
    x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    e = flambeau.diag_embed(x, 1)
    assert e.shape == (2, 3, 3)
    assert e[1].tolist() == [[0.0, 3.0, 0.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]]
    assert flambeau.diag_embed(flambeau.tensor([1, 2]), 1, 1, 0).tolist() == [
        [0, 0, 0], [1, 0, 0], [0, 2, 0]]
    assert flambeau.diagflat(flambeau.tensor(3.0)).tolist() == [[3.0]]
    assert flambeau.diag_embed(x).is_contiguous()


def test_block_diag_values():
    out = flambeau.block_diag(flambeau.ones(2, 2), flambeau.tensor([1, 2, 3]),
                              flambeau.tensor(5.0))
    assert out.tolist() == [[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0],
                            [0, 0, 0, 0, 0, 5]]
    assert out.dtype is flambeau.float32
    empty = flambeau.block_diag()
    assert empty.shape == (1, 0) and empty.dtype is flambeau.float32
    assert flambeau.block_diag(flambeau.zeros(0, 2), flambeau.zeros(2, 0)).shape == (2, 2)
    assert flambeau.block_diag(flambeau.ones(1, dtype=flambeau.int64),
                               flambeau.ones(1, dtype=flambeau.bool)).dtype is flambeau.int64


def test_cartesian_prod_and_combinations_values():
    a = flambeau.tensor([1, 2, 3])
    assert flambeau.cartesian_prod(a) is a
    assert flambeau.cartesian_prod(a, flambeau.tensor([4, 5])).tolist() == [
        [1, 4], [1, 5], [2, 4], [2, 5], [3, 4], [3, 5]]
    assert flambeau.combinations(a, 3).tolist() == [[1, 2, 3]]
    assert flambeau.combinations(a, 4).shape == (0, 4)
    assert flambeau.combinations(a, 0).shape == (0,)
    assert flambeau.combinations(flambeau.zeros(0), 2).shape == (0, 2)
    assert flambeau.combinations(a, 2, with_replacement=True).tolist() == [
        [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]]


def test_unravel_index_values():
    rows, cols = flambeau.unravel_index(flambeau.tensor([[4], [5]]), (3, 2))
    assert rows.tolist() == [[2], [2]] and cols.tolist() == [[0], [1]]
    assert [t.item() for t in flambeau.unravel_index(flambeau.tensor(-7), (3, 2))] == [2, 1]
    assert [t.item() for t in flambeau.unravel_index(flambeau.tensor(6), (3, 2))] == [0, 0]
    assert flambeau.unravel_index(flambeau.tensor(1), ()) == ()
    (only,) = flambeau.unravel_index(flambeau.tensor(1, dtype=flambeau.int32), 5)
    assert only.item() == 1 and only.dtype is flambeau.int64
    assert [t.item() for t in flambeau.unravel_index(flambeau.tensor(1), flambeau.Size([3, 2]))
            ] == [0, 1]


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 4), (5,), (1, 1, 7)])
def test_unravel_index_parity(shape):
    torch = pytest.importorskip("torch")
    idx = np.arange(-2 * math.prod(shape), 2 * math.prod(shape)).reshape(2, -1)
    got = flambeau.unravel_index(flambeau.tensor(idx), shape)
    want = torch.unravel_index(torch.tensor(idx), shape)
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_vander_values():
    assert flambeau.vander(flambeau.tensor([1.0, 2, 3]), 0).shape == (3, 0)
    assert flambeau.vander(flambeau.tensor([True, False])).tolist() == [[1, 1], [0, 1]]
    assert flambeau.vander(flambeau.tensor([1, 2], dtype=flambeau.int32)).dtype is \
        flambeau.int64
    assert flambeau.vander(flambeau.zeros(0)).shape == (0, 0)
    assert flambeau.vander(flambeau.tensor([2.0]), 1).tolist() == [[1.0]]


def test_sum_to_size_returns_self_when_nothing_to_sum():
    x = flambeau.ones(2, 3)
    assert x.sum_to_size(2, 3) is x
    assert x.sum_to_size([2, 3]) is x
    assert x.sum_to_size(1).tolist() == [6.0]


def test_narrow_copy_and_scatter_family_values():
    x = flambeau.arange(6.0).reshape(2, 3)
    c = x.narrow_copy(1, 1, 2)
    c[0, 0] = 100
    assert x[0, 1].item() == 1.0  # a copy
    assert flambeau.narrow_copy(x, 1, 3, 0).shape == (2, 0)
    z = flambeau.zeros(3, 3)
    assert flambeau.diagonal_scatter(z, flambeau.ones(2, dtype=flambeau.int64), 1).dtype is \
        flambeau.float32
    assert flambeau.diagonal_scatter(z.long(), flambeau.ones(2), 1).tolist() == [
        [0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert z.abs().sum().item() == 0  # out of place
    assert flambeau.select_scatter(flambeau.zeros(3), flambeau.tensor(2.0), 0, 0).tolist() == [
        2.0, 0.0, 0.0]
    s = flambeau.slice_scatter(flambeau.zeros(4, 4), flambeau.ones(4, 0), 1, 3, 1)
    assert s.abs().sum().item() == 0
    assert flambeau.slice_scatter(flambeau.zeros(2), flambeau.ones(2)).tolist() == [1.0, 1.0]


def test_where_method_and_new():
    x = flambeau.zeros(2)
    assert x.where(flambeau.tensor([True, False]), flambeau.ones(2, 2)).tolist() == [
        [0.0, 1.0], [0.0, 1.0]]
    d = flambeau.zeros(2, dtype=flambeau.float64)
    assert d.new().shape == (0,) and d.new().dtype is flambeau.float64
    assert d.new((2, 3)).tolist() == [2.0, 3.0]
    assert d.new(flambeau.Size([2, 3])).shape == (2, 3)
    assert d.new(2, 3).dtype is flambeau.float64
    y = flambeau.tensor([1.0, 2.0])
    alias = y.new(y)
    alias[0] = 5
    assert y.tolist() == [5.0, 2.0]


# ------------------------------------------------------------------ windows


WINDOWS = {
    "hann_window": (np.hanning, ()),
    "hamming_window": (np.hamming, ()),
    "blackman_window": (np.blackman, ()),
    "bartlett_window": (np.bartlett, ()),
    "kaiser_window": (lambda m: np.kaiser(m, 12.0), ()),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
@pytest.mark.parametrize("length", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_numpy(name, length, periodic):
    ref, _ = WINDOWS[name]
    got = getattr(flambeau, name)(length, periodic, dtype=flambeau.float64)
    if length <= 1:
        want = np.ones(length)
    else:
        want = ref(length + 1)[:-1] if periodic else ref(length)
    assert got.dtype is flambeau.float64 and got.shape == (length,)
    np.testing.assert_allclose(got.cpu().numpy(), want, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(WINDOWS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_windows_parity(name, dtype):
    torch = pytest.importorskip("torch")
    for length in (0, 1, 2, 7, 10):
        for periodic in (True, False):
            got = getattr(flambeau, name)(length, periodic, dtype=getattr(flambeau, dtype))
            want = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
            assert got.dtype.name == dtype and tuple(got.shape) == tuple(want.shape)
            tol = {"float64": 1e-10, "float32": 1e-6, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
            np.testing.assert_allclose(got.float().cpu().numpy(), want.float().cpu().numpy(),
                                       atol=tol)


def test_window_options():
    torch = torch_or_none()
    w = flambeau.hamming_window(6, False, 0.5, 0.5, dtype=flambeau.float64)
    np.testing.assert_allclose(w.cpu().numpy(), np.hanning(6), atol=1e-12)
    assert flambeau.hamming_window(5, alpha=0.5, beta=0.5).tolist() == \
        flambeau.hann_window(5).tolist()
    k = flambeau.kaiser_window(7, False, 5.0, dtype=flambeau.float64)
    np.testing.assert_allclose(k.cpu().numpy(), np.kaiser(7, 5.0), rtol=1e-12)
    assert flambeau.kaiser_window(7, False, -5.0).tolist() == \
        flambeau.kaiser_window(7, False, 5.0).tolist()
    r = flambeau.hann_window(4, dtype=flambeau.float64, requires_grad=True)
    assert r.requires_grad and r.is_leaf
    assert flambeau.hann_window(3).dtype is flambeau.get_default_dtype()
    if torch is not None:
        got = flambeau.kaiser_window(9, True, 3.5, dtype=flambeau.float64)
        want = torch.kaiser_window(9, True, 3.5, dtype=torch.float64)
        np.testing.assert_allclose(got.cpu().numpy(), want.cpu().numpy(), rtol=1e-12)


def test_kaiser_window_large_beta_does_not_overflow():
    # PyTorch computes I0(beta) in the window dtype and gives NaN here
    w = flambeau.kaiser_window(6, False, 100.0)
    assert bool(flambeau.isfinite(w).all())
    np.testing.assert_allclose(w.double().cpu().numpy(), np.kaiser(6, 100.0), rtol=1e-5, atol=1e-30)
    w = flambeau.kaiser_window(5, False, 1000.0, dtype=flambeau.float64)
    assert w[2].item() == 1.0 and w[0].item() == 0.0


@pytest.mark.parametrize("x", [0.0, 1e-3, 0.5, 3.0, 15.0, 29.9, 30.0, 31.0, 100.0, 700.0])
def test_i0e_matches_numpy(x):
    got = float(_i0e(np, np.array([x, -x]))[0])
    with np.errstate(over="ignore"):
        want = float(np.i0(x) * np.exp(-x)) if x < 700 else None
    if want is not None:
        assert got == pytest.approx(want, rel=1e-13)
    assert float(_i0e(np, np.array([-x]))[0]) == got
    if x >= 30.0:  # I0(x) e^-x ~ 1 / sqrt(2 pi x)
        assert got == pytest.approx(1 / math.sqrt(2 * math.pi * x), rel=1.0 / x)


# ------------------------------------------------------------------ errors


ERRORS = [
    (lambda: flambeau.meshgrid(), RuntimeError, "non-empty TensorList"),
    (lambda: flambeau.meshgrid(flambeau.zeros(2, 2)), RuntimeError, "0D or 1D tensors"),
    (lambda: flambeau.meshgrid(flambeau.zeros(2), indexing="foo"), RuntimeError,
     'indexing must be one of "xy" or "ij", but received: foo'),
    (lambda: flambeau.meshgrid(flambeau.zeros(2), flambeau.arange(2)), RuntimeError,
     "same dtype"),
    (lambda: flambeau.meshgrid([1, 2]), TypeError, "sequence of Tensors"),
    (lambda: flambeau.tril_indices(-1, 3), RuntimeError, "row must be non-negative, got -1"),
    (lambda: flambeau.triu_indices(3, -3), RuntimeError, "col must be non-negative, got -3"),
    (lambda: flambeau.tril_indices(3, 3, dtype=flambeau.float32), NotImplementedError,
     "not implemented for flambeau.float32"),
    (lambda: flambeau.atleast_1d(3), TypeError, "expected Tensors"),
    (lambda: flambeau.column_stack([]), RuntimeError, "column_stack expects a non-empty"),
    (lambda: flambeau.row_stack([]), RuntimeError, "row_stack expects a non-empty"),
    (lambda: flambeau.dstack([]), RuntimeError, "dstack expects a non-empty"),
    (lambda: flambeau.hstack([]), RuntimeError, "hstack expects a non-empty"),
    (lambda: flambeau.vstack([]), RuntimeError, "vstack expects a non-empty"),
    (lambda: flambeau.dstack([flambeau.zeros(2), flambeau.zeros(3)]), RuntimeError,
     "Sizes of tensors must match"),
    (lambda: flambeau.hsplit(flambeau.tensor(1.0), 1), RuntimeError,
     "hsplit requires a tensor with at least 1 dimension"),
    (lambda: flambeau.vsplit(flambeau.zeros(6), 2), RuntimeError,
     "vsplit requires a tensor with at least 2 dimension"),
    (lambda: flambeau.dsplit(flambeau.zeros(2, 2), 2), RuntimeError,
     "dsplit requires a tensor with at least 3 dimension"),
    (lambda: flambeau.hsplit(flambeau.zeros(2, 6), 4), RuntimeError,
     "size of the dimension 6 is not divisible by the split_size 4"),
    (lambda: flambeau.hsplit(flambeau.zeros(2, 6), 0), RuntimeError,
     "not divisible by the split_size 0"),
    (lambda: flambeau.select(flambeau.tensor(1.0), 0, 0), IndexError,
     "cannot be applied to a 0-dim tensor"),
    (lambda: flambeau.select(flambeau.zeros(2, 3), 0, 2), IndexError,
     r"index 2 out of range for tensor of size \[2, 3\] at dimension 0"),
    (lambda: flambeau.select(flambeau.zeros(2, 3), 0, -3), IndexError, "index -3 out of range"),
    (lambda: flambeau.select(flambeau.zeros(2, 3), 2, 0), IndexError, "Dimension out of range"),
    (lambda: flambeau.arange(7.0).unfold(0, 8, 1), RuntimeError,
     "maximum size for tensor at dimension 0 is 7 but size is 8"),
    (lambda: flambeau.arange(7.0).unfold(0, -1, 1), RuntimeError, "size is -1 but must be >= 0"),
    (lambda: flambeau.arange(7.0).unfold(0, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    (lambda: flambeau.tensor(5.0).unfold(0, 2, 1), RuntimeError,
     "maximum size for tensor at dimension 0 is 1"),
    (lambda: flambeau.arange(7.0).unfold(1, 2, 1), IndexError, "Dimension out of range"),
    (lambda: flambeau.rot90(flambeau.zeros(2, 3), 1, (0,)), RuntimeError,
     "expected total rotation dims == 2, but got dims = 1"),
    (lambda: flambeau.rot90(flambeau.zeros(3), 1), RuntimeError,
     "expected total dims >= 2, but got total dims = 1"),
    (lambda: flambeau.rot90(flambeau.zeros(2, 3), 1, (0, 0)), RuntimeError,
     "expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"),
    (lambda: flambeau.rot90(flambeau.zeros(2, 3), 1, (0, -2)), RuntimeError,
     "dim0 = 0 and dim1 = -2"),
    (lambda: flambeau.rot90(flambeau.zeros(2, 3), 1, (0, 3)), IndexError,
     "Dimension out of range"),
    (lambda: flambeau.diag_embed(flambeau.zeros(2, 3), 0, 1, 1), RuntimeError,
     "diagonal dimensions cannot be identical 1, 1"),
    (lambda: flambeau.diag_embed(flambeau.tensor(1.0)), IndexError, "Dimension out of range"),
    (lambda: flambeau.block_diag(flambeau.zeros(2, 2, 2)), RuntimeError,
     "Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions"),
    (lambda: flambeau.block_diag(flambeau.zeros(2), 3), TypeError, "argument 1 is a int"),
    (lambda: flambeau.cartesian_prod(flambeau.zeros(2, 2)), RuntimeError,
     r"Expect a 1D vector, but got shape \[2, 2\]"),
    (lambda: flambeau.cartesian_prod(flambeau.zeros(2), flambeau.arange(2)), RuntimeError,
     "same dtype"),
    (lambda: flambeau.cartesian_prod(), RuntimeError, "non-empty TensorList"),
    (lambda: flambeau.combinations(flambeau.zeros(2, 2)), RuntimeError,
     r"Expect a 1D vector, but got shape \[2, 2\]"),
    (lambda: flambeau.combinations(flambeau.zeros(3), -1), RuntimeError,
     "Expect a non-negative number, but got -1"),
    (lambda: flambeau.unravel_index(flambeau.tensor(1.0), (3, 2)), TypeError,
     "expected 'indices' to be integer dtype, but got flambeau.float32"),
    (lambda: flambeau.unravel_index(flambeau.tensor([True]), (3, 2)), TypeError,
     "integer dtype, but got flambeau.bool"),
    (lambda: flambeau.unravel_index(1, (3, 2)), TypeError, "to be a Tensor"),
    (lambda: flambeau.unravel_index(flambeau.tensor(1), (3.0, 2)), TypeError,
     "only contain ints, but got float"),
    (lambda: flambeau.unravel_index(flambeau.tensor(1), (3, -2)), ValueError,
     r"'shape' cannot have negative values, but got \(3, -2\)"),
    (lambda: flambeau.unravel_index(flambeau.tensor(1), (0, 2)), RuntimeError, "no elements"),
    (lambda: flambeau.vander(flambeau.zeros(3), -1), RuntimeError, "N must be non-negative"),
    # NumPy's view of one dimension twice read past the data
    (lambda: flambeau.zeros(2, 3, 4).diagonal(0, 1, -2), RuntimeError,
     "diagonal dimensions cannot be identical 1, -2"),
    (lambda: flambeau.trace(flambeau.zeros(2, 3, 4)), RuntimeError,
     "trace: expected a matrix, but got tensor with dim 3"),
    (lambda: flambeau.zeros(2, 3).flip(1, -1), RuntimeError,
     r"flip: dim 1 appears multiple times in the list of dims \[1, -1\]"),
    (lambda: flambeau.zeros(2, 4).narrow(1, 3, 2), RuntimeError,
     r"narrow\(\): start \(3\) \+ length \(2\) exceeds dimension size \(4\)"),
    (lambda: flambeau.zeros(2, 4).narrow(1, 5, 0), IndexError,
     r"start out of range \(expected to be in range of \[-4, 4\], but got 5\)"),
    (lambda: flambeau.vander(flambeau.zeros(1, 3)), RuntimeError,
     "x must be a one-dimensional tensor"),
    (lambda: flambeau.vander(flambeau.tensor(2.0)), RuntimeError, "one-dimensional"),
    (lambda: flambeau.split_with_sizes(flambeau.zeros(6), [2, 3]), RuntimeError,
     "split_sizes to sum exactly to 6"),
    (lambda: flambeau.split_with_sizes(flambeau.zeros(6), [2, -1, 5]), RuntimeError,
     r"only non-negative entries, but got split_sizes=\[2, -1, 5\]"),
    (lambda: flambeau.unsafe_split(flambeau.zeros(6), [1, 5]), TypeError,
     "'split_size' must be int, not list"),
    (lambda: flambeau.narrow_copy(flambeau.tensor(1.0), 0, 0, 1), RuntimeError,
     "cannot be applied to a 0-dim tensor"),
    (lambda: flambeau.narrow_copy(flambeau.zeros(2, 3), 1, 2, 2), RuntimeError,
     r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    (lambda: flambeau.narrow_copy(flambeau.zeros(2, 3), 1, 4, 0), IndexError,
     r"start out of range \(expected to be in range of \[-3, 3\], but got 4\)"),
    (lambda: flambeau.narrow_copy(flambeau.zeros(2, 3), 1, 0, -1), RuntimeError,
     r"length \(-1\) must be non-negative"),
    (lambda: flambeau.diagonal_scatter(flambeau.zeros(3, 3), flambeau.ones(3), 1),
     RuntimeError, r"src size = \[3\], slice size = \[2\]"),
    (lambda: flambeau.diagonal_scatter(flambeau.zeros(3, 3), flambeau.tensor(1.0), 1),
     RuntimeError, r"src size = \[\], slice size = \[2\]"),
    (lambda: flambeau.diagonal_scatter(flambeau.zeros(3, 3), flambeau.ones(3), 0, 1, -1),
     RuntimeError, "diagonal dimensions cannot be identical 1, -1"),
    (lambda: flambeau.select_scatter(flambeau.zeros(3, 3), flambeau.ones(2), 1, 0),
     RuntimeError, r"src size = \[2\], slice size = \[3\]"),
    (lambda: flambeau.select_scatter(flambeau.zeros(3, 3), flambeau.ones(3), 1, 3),
     IndexError, r"index 3 out of range for tensor of size \[3, 3\] at dimension 1"),
    (lambda: flambeau.slice_scatter(flambeau.zeros(4, 4), flambeau.ones(4, 3), 1, 0, 100),
     RuntimeError, r"src size = \[4, 3\], slice size = \[4, 4\]"),
    (lambda: flambeau.select_scatter(flambeau.zeros(3), 1.0, 0, 0), TypeError,
     "src must be a Tensor, got float"),
    (lambda: flambeau.slice_scatter(flambeau.zeros(4, 4), flambeau.ones(4, 1), 1, step=0),
     RuntimeError, "slice step must be positive"),
    (lambda: flambeau.slice_scatter(flambeau.zeros(4, 4), flambeau.ones(4, 1), 1, step=-1),
     RuntimeError, "slice step must be positive"),
    (lambda: flambeau.ones(2, 3).sum_to_size(2), RuntimeError,
     r"size \[2\] is not expandable to size \[2, 3\]"),
    (lambda: flambeau.ones(2, 3).sum_to_size(1, 1, 3), RuntimeError,
     r"size \[1, 1, 3\] is not expandable to size \[2, 3\]"),
    (lambda: flambeau.zeros(2, dtype=flambeau.float64).new(flambeau.tensor([1, 2])), TypeError,
     "expected a flambeau.float64 tensor"),
    (lambda: flambeau.zeros(2).new(2.5), TypeError, "data must be a sequence"),
    (lambda: flambeau.zeros(2, 1, 3).t_(), RuntimeError,
     "t_\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda: flambeau.zeros(2, 3).transpose_(0, 2), IndexError, "Dimension out of range"),
    (lambda: flambeau.zeros(2, 3, requires_grad=True).t_(), RuntimeError,
     "t_: a leaf Variable that requires grad is being used in an in-place operation"),
    (lambda: flambeau.zeros(2, 1, requires_grad=True).squeeze_(), RuntimeError,
     "squeeze_: a leaf Variable"),
    (lambda: flambeau.ones(2, 3, requires_grad=True)[0:1].t_(), RuntimeError,
     "t_: a view of a leaf Variable that requires grad"),
    (lambda: flambeau.hann_window(-1), RuntimeError,
     "hann_window requires non-negative window_length, got window_length=-1"),
    (lambda: flambeau.hamming_window(4, dtype=flambeau.int64), RuntimeError,
     "hamming_window expects floating point dtypes, got: flambeau.int64"),
    (lambda: flambeau.blackman_window(True), TypeError, "must be int, not bool"),
    (lambda: flambeau.bartlett_window(2.0), TypeError, "must be int, not float"),
    (lambda: flambeau.kaiser_window(-3), RuntimeError, "kaiser_window requires non-negative"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    call, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ view semantics


def _shares_storage(view, base):
    return np.shares_memory(view._data, base._data)


def test_views_write_through_and_share_the_version_counter():
    x = flambeau.arange(6.0)
    views = {
        "meshgrid": flambeau.meshgrid(x, flambeau.zeros(2))[0],
        "atleast_2d": flambeau.atleast_2d(x),
        "ravel": flambeau.ravel(x.reshape(2, 3)),
        "select": x.reshape(2, 3).select(1, 0),
        "unfold": x.unfold(0, 2, 2),
        "hsplit": flambeau.hsplit(x, 3)[1],
        "split_with_sizes": x.split_with_sizes([4, 2])[1],
        "unsafe_chunk": flambeau.unsafe_chunk(x, 2)[1],
    }
    for name, v in views.items():
        assert _shares_storage(v, x), name
        before = x._version
        v.add_(0.0) if name != "meshgrid" else x.add_(0.0)
        assert x._version == before + 1 and v._version == x._version, name
    u = x.unfold(0, 3, 1)
    u[1, 1] = 100.0  # the element at position 2, shared by three windows
    assert x[2].item() == 100.0
    assert u[0, 2].item() == 100.0 and u[2, 0].item() == 100.0
    s = flambeau.atleast_1d(flambeau.tensor(3.0))
    s[0] = 4.0
    m = flambeau.zeros(2, 3)
    m.select(0, 1).fill_(7.0)
    assert m.tolist() == [[0.0, 0.0, 0.0], [7.0, 7.0, 7.0]]


def test_copies_do_not_share_storage():
    x = flambeau.arange(6.0).reshape(2, 3)
    for out in (flambeau.rot90(x), flambeau.rot90(x, 0), x.narrow_copy(0, 0, 1),
                flambeau.diag_embed(x), flambeau.block_diag(x), flambeau.column_stack([x]),
                flambeau.select_scatter(x, flambeau.ones(3), 0, 0),
                flambeau.slice_scatter(x, x, 0), flambeau.diagonal_scatter(x, x.diagonal())):
        assert not _shares_storage(out, x)


def test_unfold_view_saved_for_backward_is_caught_after_a_write():
    x = flambeau.arange(5.0, requires_grad=True)
    y = x * 1
    u = y.unfold(0, 2, 1)
    z = (u * u).sum()
    with flambeau.no_grad():
        y[0] = 3.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_unfold_gradient_counts_overlaps():
    x = flambeau.arange(7.0, requires_grad=True)
    x.unfold(0, 3, 2).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0]
    x.grad = None
    x.unfold(0, 2, 3).sum().backward()  # gaps between windows get nothing
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]


# ------------------------------------------------------------------ in-place metadata


def test_inplace_metadata_changes_shape_and_bumps_version():
    x = flambeau.arange(6.0).reshape(2, 3)
    v = x.view(6)
    before = x._version
    assert x.t_() is x
    assert x.shape == (3, 2) and x._version == before + 1
    assert x.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    x[0, 1] = 30.0  # the same storage: the earlier view sees it
    assert v[3].item() == 30.0
    x.unsqueeze_(0)
    assert x.shape == (1, 3, 2)
    x.squeeze_(0)
    x.swapaxes_(0, 1).swapdims_(0, 1).transpose_(0, 1)
    assert x.shape == (2, 3) and x._version == before + 7  # 6 + the setitem
    y = flambeau.zeros(2, 1, 3)
    assert y.squeeze_((0, 1)).shape == (2, 3)


def test_inplace_metadata_records_history():
    a = flambeau.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = a * 2
    b.t_()
    assert b.shape == (3, 2) and b.grad_fn is not None
    (b * flambeau.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 10.0]])).sum().backward()
    assert a.grad.tolist() == [[2.0, 0.0, 0.0], [0.0, 0.0, 20.0]]


def test_inplace_metadata_on_a_view_of_a_non_leaf():
    a = flambeau.ones(2, 3, requires_grad=True)
    c = a * 1
    v = c[0:1]
    v.t_()
    assert v.shape == (3, 1) and v._base is c
    (v * flambeau.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert a.grad.tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]


def test_inplace_metadata_invalidates_saved_tensors():
    a = flambeau.ones(2, 3, requires_grad=True)
    d = a * 1
    e = d * d
    d.t_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_inplace_metadata_on_a_leaf_under_no_grad():
    a = flambeau.zeros(2, 3, requires_grad=True)
    with flambeau.no_grad():
        a.t_()
    assert a.shape == (3, 2) and a.is_leaf and a.requires_grad


def test_inplace_metadata_parity():
    torch = pytest.importorskip("torch")
    for method, args in (("t_", ()), ("transpose_", (0, 1)), ("unsqueeze_", (1,)),
                         ("squeeze_", ()), ("swapdims_", (1, 0))):
        x = flambeau.arange(6.0).reshape(2, 3)
        xt = torch.arange(6.0).reshape(2, 3)
        getattr(x, method)(*args)
        getattr(xt, method)(*args)
        assert x.tolist() == xt.tolist() and tuple(x.shape) == tuple(xt.shape)
        assert x.stride() == xt.stride()


# ------------------------------------------------------------------ hypothesis properties

SETTINGS = settings(max_examples=40, deadline=None)


@SETTINGS
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=4),
       indexing=st.sampled_from(["ij", "xy"]))
def test_meshgrid_shapes_and_values(sizes, indexing):
    ts = [flambeau.arange(float(n)) + 10 * i for i, n in enumerate(sizes)]
    grids = flambeau.meshgrid(*ts, indexing=indexing)
    want = np.meshgrid(*[t.cpu().numpy() for t in ts], indexing=indexing)
    assert len(grids) == len(sizes)
    for g, w in zip(grids, want):
        assert tuple(g.shape) == w.shape
        np.testing.assert_array_equal(g.cpu().numpy(), w)


@SETTINGS
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=3), data=st.data())
def test_unfold_shapes_and_values(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(0, shape[dim]))
    step = data.draw(st.integers(1, 4))
    a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    got = flambeau.tensor(a).unfold(dim, size, step)
    n = (shape[dim] - size) // step + 1
    want_shape = tuple(shape[:dim]) + (n,) + tuple(shape[dim + 1:]) + (size,)
    assert tuple(got.shape) == want_shape
    if size:
        want = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim)
        want = np.take(want, np.arange(0, want.shape[dim], step), axis=dim)
        np.testing.assert_array_equal(got.cpu().numpy(), want)


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=4))
def test_atleast_nd_shapes(shape):
    a = np.zeros(shape)
    x = flambeau.tensor(a)
    assert tuple(flambeau.atleast_1d(x).shape) == np.atleast_1d(a).shape
    assert tuple(flambeau.atleast_2d(x).shape) == np.atleast_2d(a).shape
    assert tuple(flambeau.atleast_3d(x).shape) == np.atleast_3d(a).shape


@SETTINGS
@given(shapes=st.lists(st.lists(st.integers(0, 3), min_size=0, max_size=2), min_size=1,
                       max_size=4))
def test_block_diag_shapes_and_blocks(shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    out = flambeau.block_diag(*[flambeau.tensor(a) for a in arrays]).cpu().numpy()
    mats = [a.reshape(1, -1) if a.ndim == 1 else a.reshape(1, 1) if a.ndim == 0 else a
            for a in arrays]
    assert out.shape == (sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats))
    r = c = 0
    for m in mats:
        np.testing.assert_array_equal(out[r:r + m.shape[0], c:c + m.shape[1]], m)
        out[r:r + m.shape[0], c:c + m.shape[1]] = 0
        r, c = r + m.shape[0], c + m.shape[1]
    assert not out.any()  # zeros off the blocks


# ------------------------------------------------------------------ API surface


def test_every_public_name_is_exported_documented_and_methods_are_attached():
    from flambeau._ops import shape_more

    for name in shape_more.__all__:
        obj = getattr(flambeau, name)
        # (behind flambeau._keywords' layer for ops with dim)
        assert inspect.unwrap(obj) is inspect.unwrap(getattr(shape_more, name)), name
        assert name in flambeau.__all__, name
        assert "Examples\n    --------" in obj.__doc__, name
    for name, fn in shape_more.TENSOR_METHODS.items():
        assert inspect.unwrap(getattr(flambeau.Tensor, name)) is inspect.unwrap(fn), name
        assert "Examples" in fn.__doc__, name
    assert not hasattr(flambeau, "unfold")  # a Tensor method only, as in PyTorch


def test_out_arguments_of_stacking():
    out = flambeau.empty(2, 2)
    assert flambeau.row_stack([flambeau.zeros(2), flambeau.ones(2)], out=out) is out
    assert out.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    out = flambeau.empty(1, 2, 2)
    flambeau.dstack([flambeau.zeros(2), flambeau.ones(2)], out=out)
    assert out.tolist() == [[[0.0, 1.0], [0.0, 1.0]]]
    out = flambeau.empty(2, 2)
    flambeau.column_stack([flambeau.zeros(2), flambeau.ones(2)], out=out)
    assert out.tolist() == [[0.0, 1.0], [0.0, 1.0]]
    out = flambeau.empty(4)
    flambeau.hstack([flambeau.zeros(2), flambeau.ones(2)], out=out)
    assert out.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_tensor_flip_takes_dims_one_by_one_or_as_a_list():
    x = flambeau.arange(6).reshape(2, 3)
    assert x.flip(0, 1).tolist() == x.flip([0, 1]).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert x.flip(1).tolist() == [[2, 1, 0], [5, 4, 3]]


@pytest.mark.parity
@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(5, 5), (3, 6), (6, 3), (4, 2, 3), (1, 4), (4, 1), (0, 3)])
def test_tril_triu_of_column_major_and_nonfinite_inputs_match_torch(shape, k):
    """tril/triu keep a mask per shape, diagonal and layout: column-major inputs (LAPACK's
    factors, transposes) get theirs, and NaN/inf outside the triangle become 0 as torch's."""
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    a = np.random.default_rng(3).standard_normal(shape)
    a.reshape(-1)[::3] = np.nan
    a.reshape(-1)[1::4] = -np.inf
    column_major = flambeau.tensor(np.swapaxes(a, -1, -2).copy()).mT  # a strided view
    for x in (flambeau.tensor(a), column_major, column_major):  # the second: a cached mask
        for name in ("tril", "triu"):
            ours = getattr(flambeau, name)(x, k)
            theirs = getattr(torch, name)(torch.from_numpy(a), k)
            np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
            assert ours.dtype == flambeau.float64
    for dtype in (bool, np.int32, np.float32):  # masks of the same shape, other dtypes
        b = np.random.default_rng(4).integers(0, 5, shape).astype(dtype)
        ours = flambeau.triu(flambeau.tensor(b).mT.contiguous().mT, k)
        assert ours.cpu().numpy().dtype == b.dtype
        np.testing.assert_array_equal(ours.cpu().numpy(),
                                      torch.triu(torch.from_numpy(b), k).numpy())


def test_triangle_masks_are_kept_per_dtype_and_within_their_byte_bound():
    """The mask cache keyed dtypes by .str, which is '<V1' for every float8: a unit triangle
    of float8_e5m2 reused float8_e4m3fn's identity. Its size is bounded in bytes (a unit
    identity has the input's itemsize), not in elements."""
    from flambeau._ops import shape

    e4m3 = np.eye(3, dtype=ml_dtypes.float8_e4m3fn) * 3
    e5m2 = np.eye(3, dtype=ml_dtypes.float8_e5m2) * 3
    for a in (e4m3, e5m2):
        out = shape.raw_triangle(np, a, -1, False, unit=True)
        assert out.dtype == a.dtype
        np.testing.assert_array_equal(out.astype(np.float32), np.eye(3, dtype=np.float32))
    big = np.zeros((1024, 1024), np.complex128)  # identity 16 MiB + mask 1 MiB: not kept
    shape.raw_triangle(np, big, -1, False, unit=True)
    assert all(m.shape != big.shape for m, _ in shape._TRIANGLE_MASKS.values())
    for n in range(600, 640):  # 40 masks of 1 MiB in float64 identities: at most 64 MiB kept
        shape.raw_triangle(np, np.zeros((n, n)), -1, False, unit=True)
        kept = sum(m.nbytes + o.nbytes for m, o in shape._TRIANGLE_MASKS.values())
        assert kept <= shape._TRIANGLE_MASKS_BYTES

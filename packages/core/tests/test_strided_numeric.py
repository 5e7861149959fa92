"""``flambeau._ops.strided_numeric``: as_strided (and its in-place, scatter and copy forms),
gradient, histogramdd and binomial. Harness cases (values, gradcheck, gradgradcheck, torch
parity), storage semantics, errors, and hypothesis properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.testing._cases import OpCase, Sample, both
from flambeau.testing._harness import op_tests, torch_or_none


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _case(name, f, *shapes, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn,
                  lambda rng, dt: [tuple(_normal(rng, dt, *s) for s in shapes)], **kw)


def _coords(rng, dt, n):
    """Strictly increasing sample coordinates (gaps of at least 0.3)."""
    return np.asarray(np.cumsum(rng.uniform(0.3, 1.5, n)), dtype=dt)


def _gradient_case(name, kwargs, shape, coord_dims=()):
    """``gradient(f, spacing=[coords...], **kwargs)`` with coordinates along ``coord_dims``
    (they require grad too: the op is differentiable in them)."""
    def inputs(rng, dt):
        f = _normal(rng, dt, *shape)
        coords = [_coords(rng, dt, shape[d]) for d in coord_dims]
        return [Sample(f, *coords)]

    def f(lib, x, *coords):
        kw = dict(kwargs)
        if coords:
            kw["spacing"] = list(coords)
        return lib.gradient(x, **kw)

    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs)


def _torch_scatter_ref(view, geometry):
    """torch 2.13's own as_strided_scatter has wrong input gradients (it passes the gradient
    inside the window instead of outside it) and asserts on non-contiguous inputs that
    require grad; this writes through a view of a clone instead, the same storage semantics."""
    def ref(x, src):
        v = view(x.clone())
        v.as_strided(*geometry).copy_(src)
        return v
    return ref


def _scatter_case(name, view, geometry, shape, src_shape):
    def fn(x, src):
        return flambeau.as_strided_scatter(view(x), src, *geometry)

    return OpCase(name, fn, _torch_scatter_ref(view, geometry),
                  lambda rng, dt: [(_normal(rng, dt, *shape), _normal(rng, dt, *src_shape))])


CASES = [
    _case("as_strided_windows", lambda lib, x: lib.as_strided(x, (3, 3), (1, 1)), (6,)),
    _case("as_strided_transpose", lambda lib, x: lib.as_strided(x, (3, 2), (1, 3)), (2, 3)),
    _case("as_strided_offset", lambda lib, x: lib.as_strided(x, (2, 2), (3, 1), 2), (3, 3)),
    _case("as_strided_of_view",
          lambda lib, x: x[:, 1:].as_strided((2, 2), (4, 1)), (3, 4)),
    _case("as_strided_of_view_offset",
          lambda lib, x: x.t()[1:].as_strided((2, 2), (1, 4), 1), (3, 4)),
    _case("as_strided_zero_stride", lambda lib, x: lib.as_strided(x, (3, 2), (0, 1), 1), (4,)),
    _case("as_strided_0d_result", lambda lib, x: lib.as_strided(x, (), (), 3), (5,)),
    _case("as_strided_expanded_input",
          lambda lib, x: x.expand(2, 3).as_strided((2, 2), (1, 1), 0), (3,)),
    _case("as_strided_copy", lambda lib, x: lib.as_strided_copy(x, (2, 2), (1, 2), 1), (6,)),
    _scatter_case("as_strided_scatter", lambda t: t, ((2, 2), (4, 1), 1), (3, 4), (2, 2)),
    _scatter_case("as_strided_scatter_default_offset", lambda t: t, ((3,), (2,)), (2, 3), (3,)),
    _scatter_case("as_strided_scatter_view", lambda t: t[1:, 1:3], ((2,), (5,)), (3, 4), (2,)),
    _scatter_case("as_strided_scatter_transposed", lambda t: t.t(), ((2, 2), (1, 3), 1),
                  (2, 3), (2, 2)),
    _case("gradient_1d", lambda lib, x: lib.gradient(x), (5,)),
    _case("gradient_2d_spacing", lambda lib, x: lib.gradient(x, spacing=0.5), (3, 4)),
    _case("gradient_2d_list", lambda lib, x: lib.gradient(x, spacing=[2.0, 0.5]), (3, 4)),
    _case("gradient_edge2", lambda lib, x: lib.gradient(x, edge_order=2), (3, 4)),
    _case("gradient_dim", lambda lib, x: lib.gradient(x, dim=-1, spacing=3.0), (2, 3, 4)),
    _case("gradient_dims", lambda lib, x: lib.gradient(x, dim=[0, 2], edge_order=2),
          (3, 2, 4)),
    _gradient_case("gradient_coords", {}, (5,), (0,)),
    _gradient_case("gradient_coords_edge2", {"edge_order": 2}, (4, 3), (0, 1)),
    _gradient_case("gradient_coords_dim", {"dim": [1]}, (2, 4), (1,)),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


# ------------------------------------------------------------------ as_strided: storage


def test_as_strided_is_a_writable_view():
    x = flambeau.arange(10.0)
    v = flambeau.as_strided(x, (3,), (2,), 1)
    v[0] = 100.0
    assert x.tolist()[:3] == [0.0, 100.0, 2.0]
    x[3] = -1.0
    assert v.tolist() == [100.0, -1.0, 5.0]
    assert v._version_counter is x._version_counter


def test_as_strided_of_view_indexes_base_storage():
    x = flambeau.arange(12.0)
    y = x[2:].view(2, 5)[:, 1:]
    assert y.storage_offset() == 3
    assert y.as_strided((3,), (1,)).tolist() == [3.0, 4.0, 5.0]
    assert y.as_strided((3,), (4,), 0).tolist() == [0.0, 4.0, 8.0]  # offset 0: x's start


def test_storage_offset_values():
    x = flambeau.arange(24).reshape(2, 3, 4)
    assert x.storage_offset() == 0
    assert x[1].storage_offset() == 12
    assert x[1, 2].storage_offset() == 20
    assert x[:, 1:, 2:].storage_offset() == 6
    assert x.transpose(0, 2)[3].storage_offset() == 3
    torch = torch_or_none()
    if torch is not None:
        tx = torch.arange(24).reshape(2, 3, 4)
        assert tx[:, 1:, 2:].storage_offset() == 6
        assert tx.transpose(0, 2)[3].storage_offset() == 3


def test_as_strided_matches_torch_on_views():
    torch = pytest.importorskip("torch")
    x, tx = flambeau.arange(20.0), torch.arange(20.0)
    for f in (lambda t: t[3:].view(-1)[2:], lambda t: t.view(4, 5).t()[1:],
              lambda t: t.view(4, 5)[1:, 2:]):
        for size, stride, off in (((2, 2), (1, 5), None), ((3,), (2,), 1), ((2, 3), (0, 1), 4)):
            got = f(x).as_strided(size, stride, off)
            want = f(tx).as_strided(size, stride, off)
            assert got.tolist() == want.tolist()
            assert got.storage_offset() == want.storage_offset()


def test_as_strided_zero_size_ignores_bounds():
    x = flambeau.arange(4.0)
    assert flambeau.as_strided(x, (0, 3), (1, 1), 12).shape == (0, 3)


def test_as_strided_dtypes_and_bfloat16():
    for dt in (flambeau.int64, flambeau.bool, flambeau.bfloat16, flambeau.float16):
        x = flambeau.arange(6).to(dt)
        y = x.as_strided((2, 2), (2, 1), 1)
        assert y.dtype is dt
        assert y.to(flambeau.float32).tolist() == x.to(flambeau.float32)[[1, 2, 3, 4]].reshape(
            2, 2).tolist()


def test_as_strided_backward_overlap_accumulates():
    x = flambeau.arange(5.0, requires_grad=True)
    flambeau.as_strided(x, (3, 3), (1, 1)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 2.0, 1.0]


def test_as_strided_inplace():
    x = flambeau.arange(6.0)
    y = x[1:]
    out = x.as_strided_((2, 2), (2, 1), 1)
    assert out is x
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert (x.storage_offset(), x.stride()) == (1, (2, 1))
    # the whole storage stays reachable, and other views stay valid
    assert x.as_strided((3,), (1,), 0).tolist() == [0.0, 1.0, 2.0]
    x[0, 0] = 50.0
    assert y[0].item() == 50.0


def test_as_strided_inplace_leaf_requires_grad_errors():
    x = flambeau.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="as_strided_: a leaf Variable that requires grad"):
        x.as_strided_((2,), (1,))


def test_as_strided_copy_owns_its_storage():
    x = flambeau.arange(4.0)
    y = flambeau.as_strided_copy(x, (2,), (2,))
    y[0] = 9.0
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert y.tolist() == [9.0, 2.0] and y.is_contiguous()


def test_as_strided_scatter_matches_torch_storage_semantics():
    torch = pytest.importorskip("torch")
    a, ta = flambeau.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for f in (lambda t: t[:, 1:3], lambda t: t[1:], lambda t: t.t()):
        for off in (None, 1, 2, 3):
            got = flambeau.as_strided_scatter(f(a), flambeau.tensor([10.0, 20.0]), (2,), (2,),
                                              off)
            want = torch.as_strided_scatter(f(ta), torch.tensor([10.0, 20.0]), (2,), (2,), off)
            assert got.tolist() == want.tolist()
    assert a.tolist() == ta.tolist() == np.arange(12.0).reshape(3, 4).tolist()  # untouched


@pytest.mark.parametrize("call, match", [
    (lambda x: flambeau.as_strided(x, (3, 3), (2, 2)),
     r"as_strided: sizes \[3, 3\], strides \[2, 2\], storage offset 0, and itemsize 4 "
     r"requiring a storage size of 36 are out of bounds for storage of size 32"),
    (lambda x: flambeau.as_strided(x, (1,), (1,), 8),
     r"storage offset 8, and itemsize 4 requiring a storage size of 36 are out of bounds "
     r"for storage of size 32"),
    (lambda x: x[4:].as_strided((5,), (1,)),
     r"storage offset 4, .* out of bounds for storage of size 32"),
    (lambda x: flambeau.as_strided(x, (3,), (-1,)),
     r"as_strided: Negative strides are not supported at the moment, got strides: \[-1\]"),
    (lambda x: flambeau.as_strided(x, (3,), (1, 2)),
     r"as_strided: mismatch in length of strides and shape \(sizes \[3\] have 1 dims, "
     r"strides \[1, 2\] have 2\)"),
    (lambda x: flambeau.as_strided(x, (-1,), (1,)), r"as_strided: sizes \[-1\] must be "
                                                     "non-negative"),
    (lambda x: flambeau.as_strided(x, (1,), (1,), -1), "as_strided: invalid storage offset -1"),
    (lambda x: x.as_strided_((9,), (1,)), "as_strided: sizes \\[9\\].* out of bounds"),
    (lambda x: flambeau.as_strided_scatter(x, flambeau.ones(3), (2,), (1,)),
     r"as_strided_scatter: expected src to have a size equal to the slice of self. src size = "
     r"\[3\], slice size = \[2\]"),
    (lambda x: flambeau.as_strided_scatter(x, flambeau.ones(2), (2,), (8,), 1),
     r"as_strided_scatter: sizes \[2\], strides \[8\], storage offset 1, .* out of bounds"),
    (lambda x: flambeau.as_strided_scatter(x, flambeau.ones(2, dtype=flambeau.float64), (2,),
                                           (1,)),
     "as_strided_scatter: expected src to have the dtype of self, got flambeau.float64"),
])
def test_as_strided_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(flambeau.zeros(8))


def test_as_strided_size_type_error():
    with pytest.raises(TypeError, match="as_strided: size must be a sequence of ints"):
        flambeau.as_strided(flambeau.zeros(3), None, (1,))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_as_strided_property_matches_numpy(data):
    n = data.draw(st.integers(1, 30))
    ndim = data.draw(st.integers(0, 3))
    size = tuple(data.draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    stride = tuple(data.draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    span = sum((s - 1) * t for s, t in zip(size, stride)) if 0 not in size else 0
    if span >= n:
        return
    offset = data.draw(st.integers(0, n - 1 - span))
    base = np.arange(n, dtype=np.float64)
    want = np.lib.stride_tricks.as_strided(base[offset:], size, tuple(8 * t for t in stride))
    x = flambeau.tensor(base)
    got = flambeau.as_strided(x, size, stride, offset)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.cpu().numpy(), want)
    # the gradient counts how often each storage element is viewed
    xg = flambeau.tensor(base, requires_grad=True)
    flambeau.as_strided(xg, size, stride, offset).sum().backward()
    counts = np.bincount((offset + sum(np.indices(size)[d] * stride[d] for d in range(ndim))
                          ).reshape(-1).astype(np.int64) if ndim else np.array([offset]),
                         minlength=n) if 0 not in size else np.zeros(n)
    np.testing.assert_array_equal(xg.grad.cpu().numpy(), counts[:n])


# ------------------------------------------------------------------ gradient


def test_gradient_docs_values():
    f = flambeau.tensor([1.0, 4.0, 9.0, 16.0, 25.0])
    assert flambeau.gradient(f)[0].tolist() == [3.0, 4.0, 6.0, 8.0, 9.0]
    assert flambeau.gradient(f, spacing=2.0)[0].tolist() == [1.5, 2.0, 3.0, 4.0, 4.5]
    assert flambeau.gradient(f, edge_order=2)[0].tolist() == [2.0, 4.0, 6.0, 8.0, 10.0]


def test_gradient_int_input_and_0d():
    out = flambeau.gradient(flambeau.tensor([1, 2, 4]))
    assert out[0].dtype is flambeau.float32 and out[0].tolist() == [1.0, 1.5, 2.0]
    assert flambeau.gradient(flambeau.tensor(2.0)) == ()
    (h,) = flambeau.gradient(flambeau.tensor([1.0, 2.0]), spacing=flambeau.tensor(0.5))
    assert h.tolist() == [2.0, 2.0]


def test_gradient_matches_numpy_nonuniform():
    rng = np.random.default_rng(3)
    f = rng.standard_normal((6, 5))
    c0, c1 = np.cumsum(rng.uniform(0.2, 1, 6)), np.cumsum(rng.uniform(0.2, 1, 5))
    for eo in (1, 2):
        got = flambeau.gradient(flambeau.tensor(f), spacing=[flambeau.tensor(c0),
                                                             flambeau.tensor(c1)], edge_order=eo)
        want = np.gradient(f, c0, c1, edge_order=eo)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.cpu().numpy(), w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, shape, match", [
    ({"edge_order": 3}, (3,), "gradient: only supports edge_order=1 and edge_order=2 "
                              r"\(got 3\)"),
    ({}, (1, 3), r"gradient: expected each dimension size to be at least edge_order\+1 \(got "
                 r"size 1 for dim 0 with edge_order=1, input shape \[1, 3\]\)"),
    ({"edge_order": 2}, (2, 3), "at least edge_order\\+1 \\(got size 2 for dim 0"),
    ({"spacing": [1.0, 2.0, 3.0]}, (2, 3),
     "gradient: expected spacing to be unspecified, a scalar, or a list of length equal to "
     r"'self.dim\(\) = 2', since dim argument was not given, but got a list of length 3"),
    ({"spacing": [1.0, 2.0], "dim": [1]}, (2, 3),
     "gradient: expected spacing to be unspecified, a scalar or its length to match that of "
     "dim, but got dim of length 1 and a spacing list of length 2"),
    ({"spacing": [flambeau.ones(1, 3)]}, (3,),
     "gradient: expected each element of spacing to have one dimension, but got an element "
     "with 2 dimensions"),
    ({"spacing": [flambeau.arange(4.0)]}, (3,),
     "gradient: the coordinates for dim 0 have 4 elements, but that dim has size 3"),
    ({"dim": [0, 0]}, (3,), r"gradient: dim \[0, 0\] appears multiple times"),
])
def test_gradient_errors(kwargs, shape, match):
    with pytest.raises(RuntimeError, match=match):
        flambeau.gradient(flambeau.ones(*shape), **kwargs)


def test_gradient_errors_dim_and_spacing_type():
    with pytest.raises(IndexError, match="gradient: Dimension out of range"):
        flambeau.gradient(flambeau.ones(3), dim=3)
    with pytest.raises(TypeError, match="gradient: spacing must be a number or a list"):
        flambeau.gradient(flambeau.ones(3), spacing=flambeau.ones(3))


def test_gradient_only_checks_given_dims():
    (g,) = flambeau.gradient(flambeau.ones(1, 3), dim=1)
    assert g.tolist() == [[0.0, 0.0, 0.0]]


# ------------------------------------------------------------------ histogramdd


def test_histogramdd_values_and_type():
    pts = flambeau.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 0.5]])
    r = flambeau.histogramdd(pts, bins=[2, 2])
    assert type(r).__name__ == "histogramdd" and r._fields == ("hist", "bin_edges")
    assert r.hist.tolist() == [[1.0, 0.0], [1.0, 2.0]]  # right edge 2.0 is in the last bin
    assert [e.tolist() for e in r.bin_edges] == [[0.0, 1.0, 2.0]] * 2
    r = flambeau.histogramdd(pts, bins=2, range=[0.0, 1.0, 0.0, 1.0])
    assert r.hist.tolist() == [[1.0, 0.0], [0.0, 2.0]]  # (2, 2) falls outside
    r = flambeau.histogramdd(flambeau.ones(3, 1), bins=3)
    assert r.hist.tolist() == [0.0, 3.0, 0.0]
    np.testing.assert_allclose(r.bin_edges[0].cpu().numpy(), [0.5, 5 / 6, 7 / 6, 1.5], rtol=1e-6)
    r = flambeau.histogramdd(flambeau.ones(0, 2), bins=2)
    assert r.hist.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert r.bin_edges[0].tolist() == [0.0, 0.5, 1.0]
    assert flambeau.histogramdd(pts.double(), bins=2).hist.dtype is flambeau.float64
    assert flambeau.histogramdd(flambeau.zeros(2, 3, 2), bins=2).hist.shape == (2, 2)


@pytest.mark.parity
def test_histogramdd_parity():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        p = rng.standard_normal((3, 40, 3)).astype(dt)
        w = rng.random((3, 40)).astype(dt)
        edges = [np.array([-2.0, -0.5, 0.0, 2.0], dt), np.array([-1.0, 1.0], dt),
                 np.array([-3.0, 0.0, 0.5], dt)]
        for kw, tkw in [
            ({"bins": 4}, {"bins": 4}),
            ({"bins": [2, 3, 4], "density": True}, {"bins": [2, 3, 4], "density": True}),
            ({"bins": 3, "range": [-1, 1, -1, 1, -0.5, 0.5]},
             {"bins": 3, "range": [-1.0, 1.0, -1.0, 1.0, -0.5, 0.5]}),
            ({"bins": [flambeau.tensor(e) for e in edges], "density": True},
             {"bins": [torch.tensor(e) for e in edges], "density": True}),
        ]:
            for weighted in (False, True):
                wf = flambeau.tensor(w) if weighted else None
                wt = torch.tensor(w) if weighted else None
                r = flambeau.histogramdd(flambeau.tensor(p), weight=wf, **kw)
                tr = torch.histogramdd(torch.tensor(p), weight=wt, **tkw)
                np.testing.assert_allclose(r.hist.cpu().numpy(), tr.hist.cpu().numpy(), rtol=1e-5,
                                           atol=1e-6)
                assert len(r.bin_edges) == len(tr.bin_edges) == 3
                for a, b in zip(r.bin_edges, tr.bin_edges):
                    np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=1e-6,
                                               atol=1e-7)
                assert r.hist.dtype.itemsize == tr.hist.dtype.itemsize


@pytest.mark.parametrize("call, match", [
    (lambda x: flambeau.histogramdd(x.long(), bins=2),
     "histogramdd: expected a floating-point input, got flambeau.int64"),
    (lambda x: flambeau.histogramdd(flambeau.ones(3), bins=2),
     r"histogramdd: input tensor should have at least 2 dimensions \(the last holds each "
     r"point's coordinates\), got shape \[3\]"),
    (lambda x: flambeau.histogramdd(x, bins=[2]),
     r"histogramdd: The size of bins \(1\) must be equal to the innermost dimension of the "
     r"input \(2\)"),
    (lambda x: flambeau.histogramdd(x, bins=2, range=[0.0, 1.0]),
     "histogramdd: for a 2-dimensional histogram range should have 4 elements, but got 2"),
    (lambda x: flambeau.histogramdd(x, bins=2, range=[1.0, 0.0, 0.0, 1.0]),
     "histogramdd: min should not exceed max, but got min 1.0 max 0.0 for dimension 0"),
    (lambda x: flambeau.histogramdd(x, bins=[2, 0]),
     "histogramdd: bins must be > 0, but got 0 for dimension 1"),
    (lambda x: flambeau.histogramdd(x, bins=2, weight=flambeau.ones(3)),
     r"histogramdd: if weight tensor is provided it should have the same shape as the input "
     r"tensor excluding its innermost dimension, but got input with shape \[4, 2\] and weight "
     r"with shape \[3\]"),
    (lambda x: flambeau.histogramdd(x, bins=2, weight=flambeau.ones(4, dtype=flambeau.float64)),
     "histogramdd: input tensor and weight tensor should have the same dtype, but got "
     "flambeau.float32 and flambeau.float64"),
    (lambda x: flambeau.histogramdd(x, bins=[flambeau.tensor([1.0, 0.0]),
                                             flambeau.tensor([0.0, 1.0])]),
     "histogramdd: bin edges for dimension 0 must be non-decreasing"),
    (lambda x: flambeau.histogramdd(x, bins=[flambeau.tensor([1.0]),
                                             flambeau.tensor([0.0, 1.0])]),
     r"histogramdd: bin edges for dimension 0 should be a 1-D tensor of at least 2 edges, got "
     r"shape \[1\]"),
    (lambda x: flambeau.histogramdd(x, bins=[flambeau.tensor([0.0, 1.0]),
                                             flambeau.tensor([0.0, 1.0]).double()]),
     "histogramdd: input tensor and bins tensors should have the same dtype, but got "
     "flambeau.float32 and flambeau.float64 for dimension 1"),
    (lambda x: flambeau.histogramdd(flambeau.tensor([[0.0, float("nan")]]), bins=2),
     r"histogramdd: range \[nan, nan\] is not finite for dimension 1"),
])
def test_histogramdd_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(flambeau.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 0.5]]))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(0, 20), st.integers(1, 4), st.integers(0, 2 ** 16))
def test_histogramdd_property_matches_numpy(D, N, b, seed):
    rng = np.random.default_rng(seed)
    p = rng.integers(-3, 4, (N, D)).astype(np.float64) / 2  # ties on the edges
    r = flambeau.histogramdd(flambeau.tensor(p), bins=b)
    if N:
        want, want_edges = np.histogramdd(p, bins=b)
    else:
        want, want_edges = np.histogramdd(p, bins=b, range=[(0, 1)] * D)
    np.testing.assert_array_equal(r.hist.cpu().numpy(), want)
    for a, e in zip(r.bin_edges, want_edges):
        np.testing.assert_allclose(a.cpu().numpy(), e, rtol=1e-12)
    assert r.hist.sum().item() == N


# ------------------------------------------------------------------ binomial


@pytest.mark.parametrize("n, p", [(10, 0.3), (1000, 0.3), (50, 0.9), (5, 0.5),
                                  (100000, 0.001), (30, 0.6)])
def test_binomial_moments(n, p):
    g = flambeau.Generator(flambeau.get_default_device()).manual_seed(1234)
    N = 40000
    s = flambeau.binomial(flambeau.full((N,), float(n), dtype=flambeau.float64),
                          flambeau.full((N,), p, dtype=flambeau.float64), generator=g)
    a = s.cpu().numpy()
    mean, var = n * p, n * p * (1 - p)
    assert np.all(a == np.floor(a)) and a.min() >= 0 and a.max() <= n
    # 6 standard errors of the sample mean and of the sample variance
    assert abs(a.mean() - mean) < 6 * np.sqrt(var / N)
    assert abs(a.var() - var) < 6 * var * np.sqrt(2.0 / N) + 1e-9


def test_binomial_same_seed_same_samples_and_edges():
    c = flambeau.tensor([[5.0, 40.0, 0.0], [1000.0, 7.0, 3.0]])
    p = flambeau.tensor([[0.2, 0.7, 0.5], [0.5, 0.0, 1.0]])
    a = flambeau.binomial(c, p, flambeau.Generator(flambeau.get_default_device()).manual_seed(7))
    b = flambeau.binomial(c, p, flambeau.Generator(flambeau.get_default_device()).manual_seed(7))
    assert a.tolist() == b.tolist() and a.dtype is flambeau.float32
    assert a[0, 2].item() == 0.0 and a[1, 1].item() == 0.0 and a[1, 2].item() == 3.0
    flambeau.manual_seed(3)
    d = flambeau.binomial(c, p)
    flambeau.manual_seed(3)
    assert flambeau.binomial(c, p).tolist() == d.tolist()
    # broadcasting and empty inputs, as torch
    assert flambeau.binomial(flambeau.tensor([4.0, 4.0]), flambeau.tensor([1.0])).tolist() == [
        4.0, 4.0]
    assert flambeau.binomial(flambeau.ones(2, 0), flambeau.ones(2, 0)).shape == (2, 0)
    assert not flambeau.binomial(flambeau.ones(2, requires_grad=True),
                                 flambeau.ones(2) / 2).requires_grad


@pytest.mark.parametrize("count, prob, exc, match", [
    (flambeau.tensor([10]), flambeau.tensor([0.5]), ValueError,
     "binomial: only floating-point dtypes are supported for count, got flambeau.int64"),
    (flambeau.tensor([10.0]), flambeau.tensor([0.5]).double(), RuntimeError,
     "binomial: expected count and prob of the same dtype, got flambeau.float32 and "
     "flambeau.float64"),
    (flambeau.tensor([10.0]), flambeau.tensor([1.5]), RuntimeError,
     r"binomial: prob must be in \[0, 1\]"),
    (flambeau.tensor([10.0]), flambeau.tensor([-0.1]), RuntimeError,
     r"binomial: prob must be in \[0, 1\]"),
    (flambeau.tensor([10.0]), flambeau.tensor([float("nan")]), RuntimeError,
     r"binomial: prob must be in \[0, 1\]"),
    (flambeau.tensor([-1.0]), flambeau.tensor([0.5]), RuntimeError,
     "binomial: count must be non-negative and finite"),
    (flambeau.tensor([float("inf")]), flambeau.tensor([0.5]), RuntimeError,
     "binomial: count must be non-negative and finite"),
])
def test_binomial_errors(count, prob, exc, match):
    with pytest.raises(exc, match=match):
        flambeau.binomial(count, prob)


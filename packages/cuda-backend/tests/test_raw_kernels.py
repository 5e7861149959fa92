"""The raw CUDA kernels (the multi-tensor optimizer updates, batch norm's per-channel sums)
compiled for the host by g++: one thread per block, the blocks run one after another. Checked
against the per-tensor ElementwiseKernel bodies and NumPy; the GPU tests run them for real."""

import ctypes

import numpy as np
import pytest
from _csource import Kernel, call, have_gxx, host_library, host_raw_library

from flambeau_cuda._kernels import _multi
from flambeau_cuda._kernels._norm import grid, source_for
from flambeau_cuda._kernels._optim import (
    ADAM,
    ADAM_AMSGRAD,
    SGD_MOMENTUM,
    SGD_PLAIN,
    adam_scalars,
)

pytestmark = pytest.mark.skipif(not have_gxx(), reason="g++ is not installed")

_STEP, _BC2 = adam_scalars(0.01, 0.9, 0.999, 3.0)
#: name -> (spec, scalar inputs in the spec's order)
UPDATES = {
    "sgd_plain": (SGD_PLAIN, [0.1, 0.01, True]),
    "sgd_first": (SGD_MOMENTUM, [0.1, 0.9, 0.1, 0.01, True, False, True]),
    "sgd_momentum": (SGD_MOMENTUM, [0.1, 0.9, 0.1, 0.01, False, True, False]),
    "adam": (ADAM, [_STEP, 0.9, 0.999, 1e-8, 0.1, 1 - 0.01 * 0.1, _BC2, False, True]),
    "adam_amsgrad": (ADAM_AMSGRAD, [_STEP, 0.9, 0.999, 1e-8, 0.1, 1.0, _BC2, True, False]),
}
_FFI = {"float64": ctypes.c_double, "bool": ctypes.c_bool}


def _tensors(spec, dtype, sizes, seed):
    r = np.random.default_rng(seed)
    count = len(_multi._params(spec)[0])
    # moments and their maxima must be non-negative: draw all arrays as |N(0, 1)| + 0.1 but
    # the gradient and parameter
    return [tuple((r.standard_normal(n) if k < 2 else np.abs(r.standard_normal(n)) + 0.1)
                  .astype(dtype) for k in range(count)) for n in sizes]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UPDATES))
def test_one_launch_over_many_tensors_matches_one_launch_each(name, dtype):
    spec, scalars = UPDATES[name]
    sizes = [5, 1, 9, 3]
    tensors = _tensors(spec, dtype, sizes, seed=1)
    expected = [tuple(a.copy() for a in arrays) for arrays in tensors]
    kernel = Kernel("one", spec, dtype)
    lib = host_library([kernel])
    for arrays, n in zip(expected, sizes, strict=True):
        call(lib, kernel, n, *_multi.elementwise_args(spec, arrays, scalars))
    multi = host_raw_library([_multi.source(spec, dtype, "many")])
    table = _multi.table(tensors)
    _, params = _multi._params(spec)
    multi.flambeau_set_block(0, 0, 1)
    multi.many(ctypes.c_void_p(table.ctypes.data), ctypes.c_longlong(sum(sizes)),
               ctypes.c_int(len(sizes)),
               *[_FFI[t](v) for (t, _), v in zip(params, scalars, strict=True)])
    for got, want in zip(tensors, expected, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_table_and_elementwise_arguments_follow_the_spec():
    x, y = np.zeros(4), np.zeros(4)
    assert _multi.table([(x, y)]).tolist() == [0, 4, x.ctypes.data, y.ctypes.data]
    assert _multi.elementwise_args(SGD_MOMENTUM, ["g", "p", "b"], list(range(7))) == [
        "g", 0, 1, 2, 3, 4, 5, 6, "p", "b"]


def _run(lib, name, blocks, *args):
    """Launch ``name`` on the host: each block of ``blocks`` (x, y) in turn, one thread each."""
    c_args = []
    for v in args:
        if isinstance(v, np.ndarray):
            c_args.append(ctypes.c_void_p(v.ctypes.data))
        elif v is None:
            c_args.append(ctypes.c_void_p(None))
        elif isinstance(v, float):
            c_args.append(ctypes.c_double(v))
        elif isinstance(v, np.int32):
            c_args.append(ctypes.c_int(int(v)))
        else:
            c_args.append(ctypes.c_uint(int(v)))
    for x in range(blocks[0]):
        for y in range(blocks[1]):
            lib.flambeau_set_block(x, y, blocks[0])
            getattr(lib, name)(*c_args)


def _host_batch_norm(lib, a, w, b, rm, rv, eps, momentum, unbias):
    """The forward of ``_norm.batch_norm`` with the kernels run on the host."""
    n, c, inner = a.shape
    slices, chunk = grid(n, c, inner)
    partial = np.full((c, slices, 2), np.nan)  # every slot must be written
    _run(lib, "flambeau_bn_sums", (c, slices), a, a, partial, c, inner, n * inner, chunk,
         slices, np.int32(0))
    stats, coef = np.empty((3, c), a.dtype), np.empty((c, 4))
    _run(lib, "flambeau_bn_stats", (c, 1), partial, a, w, b, stats, coef, rm, rv, c, inner,
         slices, float(n * inner), eps, momentum, unbias)
    y, out = np.empty_like(a), np.empty_like(a)
    _run(lib, "flambeau_bn_normalize", (1, 1), a, coef, y, out, c, inner, a.size)
    return out, y, stats


def _host_batch_norm_backward(lib, g, y, rstd, w):
    n, c, inner = g.shape
    slices, chunk = grid(n, c, inner)
    partial = np.full((c, slices, 2), np.nan)
    _run(lib, "flambeau_bn_sums", (c, slices), g, y, partial, c, inner, n * inner, chunk,
         slices, np.int32(1))
    sums, coef = np.empty((2, c), g.dtype), np.empty((c, 3))
    _run(lib, "flambeau_bn_grad_coef", (c, 1), partial, rstd, w, sums[0], sums[1], coef, c,
         slices, float(n * inner))
    dx = np.empty_like(g)
    _run(lib, "flambeau_bn_grad", (1, 1), g, y, coef, dx, c, inner, g.size)
    return dx, sums


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4, 700), (5, 3, 1), (1, 2, 4100), (2, 3, 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_kernels_match_flambeau_nn(shape, affine, dtype):
    """Forward (with the running statistics) and backward against nn's generic arrays, on
    data far from zero (the shifted sums keep float32 variances)."""
    norm = pytest.importorskip("flambeau.nn.functional._norm")
    r = np.random.default_rng(2)
    a = (r.standard_normal(shape) * 3 + 500).astype(dtype)
    g = r.standard_normal(shape).astype(dtype)
    c = shape[1]
    w, b = ((r.standard_normal(c).astype(dtype) for _ in range(2)) if affine else (None, None))
    rm, rv = r.standard_normal(c).astype(dtype), r.random(c).astype(dtype)
    lib = host_raw_library([source_for(dtype)])
    momentum, unbias, eps = 0.1, a.size / c / (a.size / c - 1), 1e-5
    k_rm, k_rv = rm.copy(), rv.copy()
    out, y, stats = _host_batch_norm(lib, a, w, b, k_rm, k_rv, eps, momentum, unbias)
    refs = norm._batch_norm_arrays(np, a, w, b, (0, 2), eps, rm, rv, momentum, unbias)
    tol = 2e-5 if dtype == "float32" else 1e-10
    for got, want in ((out, refs[0]), (y, refs[1]), (stats[2], refs[2]), (stats[0], refs[3]),
                      (stats[1], refs[4]), (k_rm, rm), (k_rv, rv)):
        np.testing.assert_allclose(got, want.reshape(got.shape), rtol=tol, atol=tol * 500)
    dx, sums = _host_batch_norm_backward(lib, g, y, stats[2], w)
    ref_dx, ref_gy, ref_g = norm._batch_norm_backward_arrays(g, refs[1], refs[2], w, (0, 2))
    np.testing.assert_allclose(dx, ref_dx, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(sums[0], ref_gy.ravel(), rtol=tol * 10, atol=tol * 100)
    np.testing.assert_allclose(sums[1], ref_g.ravel(), rtol=tol * 10, atol=tol * 100)

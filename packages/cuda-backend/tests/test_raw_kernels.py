"""The raw CUDA kernels (the multi-tensor optimizer updates, batch norm's per-channel sums)
compiled for the host by g++: one thread per block, the blocks run one after another. Checked
against the per-tensor ElementwiseKernel bodies and NumPy; the GPU tests run them for real."""

import ctypes

import numpy as np
import pytest
from _csource import Kernel, call, have_gxx, host_library, host_raw_library

from flambeau_cuda._kernels import _multi
from flambeau_cuda._kernels._norm import SUMS_SOURCE, grid
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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4, 700), (5, 3, 1), (1, 2, 4100)])
@pytest.mark.parametrize("mode", [0, 1])
def test_batch_norm_sums_kernel_matches_numpy(shape, mode, dtype):
    r = np.random.default_rng(2)
    x = (r.standard_normal(shape) * 3 + 50).astype(dtype)
    y = r.standard_normal(shape).astype(dtype)
    n, c, inner = shape
    slices, chunk = grid(n, c, inner)
    assert slices * chunk >= n * inner
    lib = host_raw_library([f"typedef {'float' if dtype == 'float32' else 'double'} T;\n"
                            + SUMS_SOURCE])
    acc = np.zeros((c, 2))
    for channel in range(c):
        for piece in range(slices):
            lib.flambeau_set_block(channel, piece, c)
            lib.flambeau_bn_sums(*(ctypes.c_void_p(a.ctypes.data) for a in (x, y, acc)),
                                 *(ctypes.c_uint(v) for v in (c, inner, n * inner, chunk)),
                                 ctypes.c_int(mode))
    wide = x.astype(float)
    if mode == 0:
        d = wide - wide[:1, :, :1]
        want = np.stack([d.sum((0, 2)), (d * d).sum((0, 2))], axis=1)
    else:
        want = np.stack([wide.sum((0, 2)), (wide * y).sum((0, 2))], axis=1)
    np.testing.assert_allclose(acc, want, rtol=1e-12, atol=1e-9)

"""Training-mode batch normalization: four launches forward and four backward.

Signatures and results are flambeau-nn's generic ``_batch_norm_arrays`` and
``_batch_norm_backward_arrays`` (in ``flambeau.nn.functional._norm``):

- ``batch_norm(a, w, b, axes, eps) -> (out, y, rstd, mean, var)``;
- ``batch_norm_backward(g, y, rstd, w, axes) -> (dx, sum(g * y), sum(g))``;

``w`` and ``b`` are per-channel arrays or None, the statistics keep their reduced dims. Both
return None (the generic path then runs) for dtypes other than float32/float64 (autocast runs
batch norm in float32), for axes other than every axis but the channels', and for channels of
2**31 elements or more.

The per-channel sums come from one kernel, :data:`SUMS_SOURCE`: a grid of channels x slices,
each block summing its slice in float64 and adding the block's result into the channel's
accumulators. A CuPy reduction over the axes ``(0, 2, 3)`` has one block per channel walking
N x H x W elements: on an H100 that took 70 ms forward for ResNet-18's first batch norm at
batch 128 and 224x224 (PyTorch: 1 ms). The forward sums ``x - shift`` and its square in one
pass, the shift being the channel's first element, so that ``var = E[d^2] - E[d]^2`` does not
cancel for data far from zero. Forward: zeroed accumulators, the sums, mean/var/rstd on the
channels, then ``y`` and ``out`` in one pass. Backward: zeroed accumulators, ``sum(g)`` and
``sum(g * y)`` in one pass, their cast to the dtype, and ``dx`` in one pass.
"""

from __future__ import annotations

import numpy as np

from flambeau_cuda import _cupy
from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["SUMS_SOURCE", "STATS", "CAST_PAIR", "NORMALIZE", "NORM_GRAD", "RUNNING",
           "batch_norm", "batch_norm_backward", "batch_norm_running", "grid"]

_DTYPES = ("float32", "float64")

#: per-channel sums over (N, C, inner) arrays, into acc (C, 2) float64 (zeroed first); grid
#: (C, slices), blocks of 256 threads. mode 0: sum(x - shift) and sum((x - shift)^2) with shift
#: the channel's first element; mode 1: sum(x) and sum(x * y).
SUMS_SOURCE = r"""
extern "C" __global__ void flambeau_bn_sums(
    const T* __restrict__ x, const T* __restrict__ y, double* __restrict__ acc,
    unsigned int channels, unsigned int inner, unsigned int per_channel, unsigned int chunk,
    int mode) {
  const unsigned int c = blockIdx.x;
  const unsigned int start = blockIdx.y * chunk;
  const unsigned int end = min(start + chunk, per_channel);
  const double shift = mode == 0 ? (double)x[(size_t)c * inner] : 0.0;
  double s = 0.0, q = 0.0;
  for (unsigned int i = start + threadIdx.x; i < end; i += blockDim.x) {
    const unsigned int n = i / inner;
    const size_t at = ((size_t)n * channels + c) * inner + (i - n * inner);
    const double v = (double)x[at] - shift;
    s += v;
    q += mode == 0 ? v * v : v * (double)y[at];
  }
  __shared__ double ss[256], sq[256];
  ss[threadIdx.x] = s;
  sq[threadIdx.x] = q;
  __syncthreads();
  for (unsigned int k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) {
      ss[threadIdx.x] += ss[threadIdx.x + k];
      sq[threadIdx.x] += sq[threadIdx.x + k];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    atomicAdd(acc + 2 * c, ss[0]);
    atomicAdd(acc + 2 * c + 1, sq[0]);
  }
}
"""

_BLOCK = 256
_TARGET_BLOCKS = 1024  # enough to fill an H100's 132 SMs several times over

STATS = ElementwiseSpec(
    "batch_norm_stats", "float64 s, float64 q, T shift, float64 n, float64 eps",
    "T mean, T var, T rstd", r"""
double m = s / n;
double v = q / n - m * m;
if (v < 0.0) v = 0.0;
mean = (T)((double)shift + m);
var = (T)v;
rstd = (T)(1.0 / sqrt(v + eps));
""")

#: two float64 arrays cast to the dtype of ``like`` (which only fixes T)
CAST_PAIR = ElementwiseSpec("batch_norm_cast_pair", "float64 a, float64 b, T like", "T ta, T tb",
                            "ta = (T)a; tb = (T)b;")

NORMALIZE = ElementwiseSpec("batch_norm_out", "T x, T m, T r, T w, T b", "T y, T out", r"""
acc_t v = ((acc_t)x - (acc_t)m) * (acc_t)r;
y = (T)v;
out = (T)(v * (acc_t)w + (acc_t)b);
""")

NORM_GRAD = ElementwiseSpec(
    "batch_norm_grad", "T g, T y, T gysum, T gsum, T scale, float64 n", "T dx", r"""
acc_t c = (acc_t)n;
dx = (T)(((acc_t)g - (acc_t)y * ((acc_t)gysum / c) - (acc_t)gsum / c) * (acc_t)scale);
""")


#: the running statistics' update in place: r = (1 - m) * r + m * scale * s
RUNNING = ElementwiseSpec("batch_norm_running", "T s, float64 m, float64 scale", "T r", r"""
r = (T)((acc_t)r * (acc_t)(1.0 - m) + (acc_t)s * (acc_t)(m * scale));
""")


def batch_norm_running(r, s, momentum, scale):
    """The ``"batch_norm_running"`` kernel: ``r`` updated in place (one launch; three with
    array operations), or None for other dtypes.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._norm import batch_norm_running
    >>> r = cupy.zeros(2)  # doctest: +SKIP
    >>> batch_norm_running(r, cupy.array([1.0, 2.0]), 0.1, 2.0).tolist()  # doctest: +SKIP
    [0.2, 0.4]
    """
    name = dtype_name(r.dtype)
    if name not in _DTYPES or s.dtype != r.dtype or s.shape != r.shape:
        return None
    RUNNING.build(name)(s, momentum, scale, r)
    return r


def batch_norm(a, w, b, axes, eps):
    """The ``"batch_norm"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._norm import batch_norm
    >>> out, y, rstd, mean, var = batch_norm(cupy.array([[1.0], [3.0]]), None, None, (0,),
    ...                                      0.0)  # doctest: +SKIP
    >>> out.ravel().tolist(), var.item()  # doctest: +SKIP
    ([-1.0, 1.0], 1.0)
    """
    name = dtype_name(a.dtype)
    if (name not in _DTYPES or not _over_all_but_channels(a, axes)
            or any(t is not None and t.dtype != a.dtype for t in (w, b))):
        return None
    a3 = _by_channel(a)
    if a3 is None:
        return None
    acc = _sums(name, a3, a3, 0)
    count = a.size // a.shape[1]
    mean, var, rstd = STATS.build(name)(acc[:, 0], acc[:, 1], a3[0, :, 0], count, eps)
    y, out = NORMALIZE.build(name)(a3, _channels(mean), _channels(rstd),
                                   1.0 if w is None else _channels(w),
                                   0.0 if b is None else _channels(b))
    kept = _kept(a)
    return (out.reshape(a.shape), y.reshape(a.shape), rstd.reshape(kept), mean.reshape(kept),
            var.reshape(kept))


def batch_norm_backward(g, y, rstd, w, axes):
    """The ``"batch_norm_backward"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._norm import batch_norm_backward
    >>> y, rstd = cupy.array([[-1.0], [1.0]]), cupy.ones((1, 1))  # doctest: +SKIP
    >>> dx, gw, gb = batch_norm_backward(cupy.array([[1.0], [0.0]]), y, rstd, None,
    ...                                  (0,))  # doctest: +SKIP
    >>> dx.ravel().tolist(), gw.item(), gb.item()  # doctest: +SKIP
    ([0.0, 0.0], -1.0, 1.0)
    """
    name = dtype_name(y.dtype)
    if name not in _DTYPES or g.dtype != y.dtype or not _over_all_but_channels(g, axes):
        return None
    g3, y3 = _by_channel(g), _by_channel(y)
    if g3 is None:
        return None
    acc = _sums(name, g3, y3, 1)
    gysum, gsum = CAST_PAIR.build(name)(acc[:, 1], acc[:, 0], g3[0, :, 0])
    scale = _channels(rstd) if w is None else _channels(rstd) * _channels(w)
    dx = NORM_GRAD.build(name)(g3, y3, _channels(gysum), _channels(gsum), scale,
                               g.size // g.shape[1])
    kept = _kept(g)
    return dx.reshape(g.shape), gysum.reshape(kept), gsum.reshape(kept)


def _over_all_but_channels(a, axes):
    return a.ndim >= 2 and tuple(axes) == (0,) + tuple(range(2, a.ndim))


def _by_channel(a):
    """``a`` as a C-contiguous ``(N, C, inner)`` array, or None when a channel holds 2**31
    elements or more (the sums kernel counts in 32 bits)."""
    if a.size // max(a.shape[1], 1) >= 2**31:
        return None
    xp = _cupy.load()
    return xp.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


def _sums(name, x3, y3, mode):
    """The ``(C, 2)`` float64 per-channel sums of :data:`SUMS_SOURCE` over ``x3`` (and ``y3``),
    arrays of dtype ``name``."""
    xp = _cupy.load()
    n, c, inner = x3.shape
    per_channel = n * inner
    slices, chunk = grid(n, c, inner)
    acc = xp.zeros((c, 2), xp.float64)
    if per_channel:
        _sums_kernel(name)((c, slices), (_BLOCK,), (
            x3, y3, acc, np.uint32(c), np.uint32(inner), np.uint32(per_channel),
            np.uint32(chunk), np.int32(mode)))
    return acc


def grid(n, c, inner):
    """``(slices, chunk)`` of the sums kernel for an ``(n, c, inner)`` array: each channel is
    cut into ``slices`` runs of ``chunk`` elements, one block each, at least 2048 elements a
    block and about :data:`_TARGET_BLOCKS` blocks in all.

    Examples
    --------
    >>> from flambeau_cuda._kernels._norm import grid
    >>> grid(128, 64, 112 * 112), grid(128, 512, 1)
    ((16, 100352), (1, 128))
    """
    per_channel = n * inner
    slices = max(1, min(-(-per_channel // (8 * _BLOCK)), _TARGET_BLOCKS // max(c, 1)))
    return slices, -(-per_channel // max(slices, 1))


def _sums_kernel(name):
    kernel = _built.get(name)
    if kernel is None:
        ctype = "float" if name == "float32" else "double"
        kernel = _built[name] = _cupy.load().RawKernel(
            f"typedef {ctype} T;\n{SUMS_SOURCE}", "flambeau_bn_sums")
    return kernel


_built: dict = {}


def _channels(v):
    """A per-channel array as ``(1, C, 1)``, to broadcast against ``(N, C, inner)``."""
    return v.reshape(1, -1, 1)


def _kept(a):
    """The shape of per-channel statistics with the reduced dims of ``a`` kept."""
    return (1, a.shape[1]) + (1,) * (a.ndim - 2)

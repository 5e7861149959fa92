"""Training-mode batch normalization in three raw-kernel launches each way.

Signatures and results are flambeau-nn's generic ``_batch_norm_arrays`` and
``_batch_norm_backward_arrays`` (in ``flambeau.nn.functional._norm``):

- ``batch_norm(a, w, b, axes, eps, running_mean, running_var, momentum, unbias)
  -> (out, y, rstd, mean, var)``, the running statistics (arrays or None) updated in place;
- ``batch_norm_backward(g, y, rstd, w, axes) -> (dx, sum(g * y), sum(g))``;

``w`` and ``b`` are per-channel arrays or None, the statistics keep their reduced dims. Both
return None (the generic path then runs) for dtypes other than float32/float64 (autocast runs
batch norm in float32), for axes other than every axis but the channels', for per-channel
arrays that are not contiguous and of the input's dtype, and for inputs of 2**31 elements or
more (the kernels count in 32 bits).

The kernels, in :data:`SOURCE`:

- ``flambeau_bn_sums``: a grid of channels x slices, each block summing its slice of the
  channel in float64 into its own pair of partial sums (no atomics: the result does not depend
  on the order blocks finish in). A CuPy reduction over the axes ``(0, 2, 3)`` has one block
  per channel walking N x H x W elements: on an H100 that took 70 ms forward for ResNet-18's
  first batch norm at batch 128 and 224x224 (PyTorch: 1 ms). The forward sums ``x - shift``
  and its square in one pass, the shift being the channel's first element, so that
  ``var = E[d^2] - E[d]^2`` does not cancel for data far from zero; the backward sums ``g``
  and ``g * y``.
- ``flambeau_bn_stats`` (a thread per channel): the partial sums to mean, variance and
  ``rstd``, the running statistics' update, and the per-channel coefficients of
  ``flambeau_bn_normalize``, which writes ``y`` and ``out`` in one pass.
- ``flambeau_bn_grad_coef`` (a thread per channel) and ``flambeau_bn_grad``: the weight and
  bias gradients, then ``dx`` in one pass.

Raw kernels take pointers and scalars only, so a launch costs a few microseconds of host time
where a ``cupy.ElementwiseKernel`` with broadcast per-channel operands costs tens: a training
step of ResNet-18 runs forty batch norms.
"""

from __future__ import annotations

import numpy as np

from flambeau_cuda import _cupy
from flambeau_cuda._kernels._spec import ACC_TYPES, ElementwiseSpec, dtype_name

__all__ = ["SOURCE", "RUNNING", "batch_norm", "batch_norm_backward", "batch_norm_running",
           "grid", "source_for"]

_DTYPES = ("float32", "float64")
_BLOCK = 256
_TARGET_BLOCKS = 1024  # enough to fill an H100's 132 SMs several times over
_MAX_BLOCKS = 132 * 16  # of the grid-stride elementwise passes
_CHANNEL_BLOCK = 128
_NULL = np.uint64(0)  # an absent per-channel array (weight, bias, running statistics)

#: the kernels for arrays of type ``T`` (computing in ``acc_t``), typedefs prepended per dtype
SOURCE = r"""
extern "C" __global__ void flambeau_bn_sums(
    const T* __restrict__ x, const T* __restrict__ y, double* __restrict__ partial,
    unsigned int channels, unsigned int inner, unsigned int per_channel, unsigned int chunk,
    unsigned int slices, int mode) {
  // mode 0: sum(x - shift), sum((x - shift)^2), shift = x[0, c, 0]; mode 1: sum(x), sum(x * y)
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
    double* out = partial + 2 * ((size_t)c * slices + blockIdx.y);
    out[0] = ss[0];
    out[1] = sq[0];
  }
}

// the two sums of channel c: its slices' partial sums added in order
__device__ void channel_sums(const double* partial, unsigned int c, unsigned int slices,
                             double* first, double* second) {
  double a = 0.0, b = 0.0;
  for (unsigned int k = 0; k < slices; ++k) {
    a += partial[2 * ((size_t)c * slices + k)];
    b += partial[2 * ((size_t)c * slices + k) + 1];
  }
  *first = a;
  *second = b;
}

extern "C" __global__ void flambeau_bn_stats(
    const double* __restrict__ partial, const T* __restrict__ x, const T* __restrict__ w,
    const T* __restrict__ b, T* __restrict__ stats, double* __restrict__ coef,
    T* __restrict__ running_mean, T* __restrict__ running_var, unsigned int channels,
    unsigned int inner, unsigned int slices, double count, double eps, double momentum,
    double unbias) {
  // stats: rows mean, var, rstd; coef per channel: mean, rstd, weight, bias
  const unsigned int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  double s, q;
  channel_sums(partial, c, slices, &s, &q);
  const double d = s / count;
  double var = q / count - d * d;
  if (var < 0.0) var = 0.0;
  const double mean = (double)x[(size_t)c * inner] + d;
  const double rstd = 1.0 / sqrt(var + eps);
  stats[c] = (T)mean;
  stats[channels + c] = (T)var;
  stats[2 * channels + c] = (T)rstd;
  coef[4 * c] = mean;
  coef[4 * c + 1] = rstd;
  coef[4 * c + 2] = w ? (double)w[c] : 1.0;
  coef[4 * c + 3] = b ? (double)b[c] : 0.0;
  if (running_mean)
    running_mean[c] = (T)((1.0 - momentum) * (double)running_mean[c] + momentum * mean);
  if (running_var)
    running_var[c] = (T)((1.0 - momentum) * (double)running_var[c] + momentum * unbias * var);
}

extern "C" __global__ void flambeau_bn_normalize(
    const T* __restrict__ x, const double* __restrict__ coef, T* __restrict__ y,
    T* __restrict__ out, unsigned int channels, unsigned int inner, unsigned int total) {
  for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += blockDim.x * gridDim.x) {
    const unsigned int c = (i / inner) % channels;
    const acc_t v = ((acc_t)x[i] - (acc_t)coef[4 * c]) * (acc_t)coef[4 * c + 1];
    y[i] = (T)v;
    out[i] = (T)(v * (acc_t)coef[4 * c + 2] + (acc_t)coef[4 * c + 3]);
  }
}

extern "C" __global__ void flambeau_bn_grad_coef(
    const double* __restrict__ partial, const T* __restrict__ rstd, const T* __restrict__ w,
    T* __restrict__ gy_sum, T* __restrict__ g_sum, double* __restrict__ coef,
    unsigned int channels,
    unsigned int slices, double count) {
  // gy_sum, g_sum: sum(g * y), sum(g); coef per channel: sum(g * y) / n, sum(g) / n, rstd * w
  const unsigned int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  double g, gy;
  channel_sums(partial, c, slices, &g, &gy);
  gy_sum[c] = (T)gy;
  g_sum[c] = (T)g;
  coef[3 * c] = gy / count;
  coef[3 * c + 1] = g / count;
  coef[3 * c + 2] = (double)rstd[c] * (w ? (double)w[c] : 1.0);
}

extern "C" __global__ void flambeau_bn_grad(
    const T* __restrict__ g, const T* __restrict__ y, const double* __restrict__ coef,
    T* __restrict__ dx, unsigned int channels, unsigned int inner, unsigned int total) {
  for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += blockDim.x * gridDim.x) {
    const unsigned int c = (i / inner) % channels;
    dx[i] = (T)(((acc_t)g[i] - (acc_t)y[i] * (acc_t)coef[3 * c] - (acc_t)coef[3 * c + 1])
                * (acc_t)coef[3 * c + 2]);
  }
}
"""

#: the running statistics' update in place: r = (1 - m) * r + m * scale * s (flambeau-nn's
#: ``_update_running``, for the statistics of the generic path and of instance norm)
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


def batch_norm(a, w, b, axes, eps, running_mean=None, running_var=None, momentum=0.0,
               unbias=1.0):
    """The ``"batch_norm"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._norm import batch_norm
    >>> rm = cupy.zeros(1)  # doctest: +SKIP
    >>> out, y, rstd, mean, var = batch_norm(cupy.array([[1.0], [3.0]]), None, None, (0,),
    ...                                      0.0, rm, None, 0.5, 2.0)  # doctest: +SKIP
    >>> out.ravel().tolist(), var.item(), rm.tolist()  # doctest: +SKIP
    ([-1.0, 1.0], 1.0, [1.0])
    """
    name = dtype_name(a.dtype)
    if (name not in _DTYPES or not _over_all_but_channels(a, axes) or a.size >= 2**31
            or not _per_channel_ok(a, w, b, running_mean, running_var)):
        return None
    kernels = _kernels(name)
    xp = _cupy.load()
    a3 = _by_channel(a)
    n, c, inner = a3.shape
    partial, slices = _sums(kernels, a3, a3, 0)
    stats = xp.empty((3, c), a.dtype)
    coef = xp.empty((c, 4), np.float64)
    kernels["flambeau_bn_stats"]((-(-c // _CHANNEL_BLOCK),), (_CHANNEL_BLOCK,), (
        partial, a3, _pointer(w), _pointer(b), stats, coef, _pointer(running_mean),
        _pointer(running_var), np.uint32(c), np.uint32(inner), np.uint32(slices),
        np.float64(n * inner), np.float64(eps), np.float64(momentum), np.float64(unbias)))
    y, out = xp.empty_like(a3), xp.empty_like(a3)
    kernels["flambeau_bn_normalize"](_elementwise_grid(a3.size), (_BLOCK,), (
        a3, coef, y, out, np.uint32(c), np.uint32(inner), np.uint32(a3.size)))
    kept = _kept(a)
    mean, var, rstd = (row.reshape(kept) for row in stats)
    return out.reshape(a.shape), y.reshape(a.shape), rstd, mean, var


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
    if (name not in _DTYPES or g.dtype != y.dtype or not _over_all_but_channels(g, axes)
            or g.size >= 2**31 or not _per_channel_ok(g, w, rstd.reshape(-1))):
        return None
    kernels = _kernels(name)
    xp = _cupy.load()
    g3, y3 = _by_channel(g), _by_channel(y)
    n, c, inner = g3.shape
    partial, slices = _sums(kernels, g3, y3, 1)
    # two arrays, not rows of one: each becomes a .grad as it is (a view of memory another
    # view shares would be copied)
    gy_sum, g_sum = xp.empty(c, g.dtype), xp.empty(c, g.dtype)
    coef = xp.empty((c, 3), np.float64)
    kernels["flambeau_bn_grad_coef"]((-(-c // _CHANNEL_BLOCK),), (_CHANNEL_BLOCK,), (
        partial, rstd, _pointer(w), gy_sum, g_sum, coef, np.uint32(c),
        np.uint32(slices), np.float64(n * inner)))
    dx = xp.empty_like(g3)
    kernels["flambeau_bn_grad"](_elementwise_grid(g3.size), (_BLOCK,), (
        g3, y3, coef, dx, np.uint32(c), np.uint32(inner), np.uint32(g3.size)))
    kept = _kept(g)
    return dx.reshape(g.shape), gy_sum.reshape(kept), g_sum.reshape(kept)


def _over_all_but_channels(a, axes):
    return a.ndim >= 2 and tuple(axes) == (0,) + tuple(range(2, a.ndim))


def _per_channel_ok(a, *arrays):
    """Whether each of ``arrays`` is None or a contiguous array of ``a``'s dtype with one
    element per channel."""
    c = a.shape[1]
    return all(v is None or (v.dtype == a.dtype and v.size == c and v.flags.c_contiguous)
               for v in arrays)


def _pointer(v):
    return _NULL if v is None else v


def _by_channel(a):
    """``a`` as a C-contiguous ``(N, C, inner)`` array (a view when ``a`` is contiguous)."""
    if not a.flags.c_contiguous:
        a = _cupy.load().ascontiguousarray(a)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _sums(kernels, x3, y3, mode):
    """``(partial, slices)``: the ``(C, slices, 2)`` float64 partial sums of
    ``flambeau_bn_sums`` over ``x3`` (and ``y3``)."""
    n, c, inner = x3.shape
    slices, chunk = grid(n, c, inner)
    partial = _cupy.load().empty((c, slices, 2), np.float64)
    kernels["flambeau_bn_sums"]((c, slices), (_BLOCK,), (
        x3, y3, partial, np.uint32(c), np.uint32(inner), np.uint32(n * inner),
        np.uint32(chunk), np.uint32(slices), np.int32(mode)))
    return partial, slices


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
    return slices, max(1, -(-per_channel // slices))


def _elementwise_grid(total):
    return (max(1, min(-(-total // _BLOCK), _MAX_BLOCKS)),)


def source_for(dtype_name):
    """:data:`SOURCE` with ``T`` and ``acc_t`` defined for arrays of ``dtype_name``.

    Examples
    --------
    >>> from flambeau_cuda._kernels._norm import source_for
    >>> source_for("float32").splitlines()[:2]
    ['typedef float T;', 'typedef float acc_t;']
    """
    ctype = "float" if dtype_name == "float32" else "double"
    return f"typedef {ctype} T;\ntypedef {ACC_TYPES[dtype_name]} acc_t;\n{SOURCE}"


_NAMES = ("flambeau_bn_sums", "flambeau_bn_stats", "flambeau_bn_normalize",
          "flambeau_bn_grad_coef", "flambeau_bn_grad")
_built: dict = {}


def _kernels(dtype_name):
    """The compiled kernels for arrays of ``dtype_name``, by name (compiled once)."""
    kernels = _built.get(dtype_name)
    if kernels is None:
        module = _cupy.load().RawModule(code=source_for(dtype_name))
        kernels = _built[dtype_name] = {k: module.get_function(k) for k in _NAMES}
    return kernels


def _kept(a):
    """The shape of per-channel statistics with the reduced dims of ``a`` kept."""
    return (1, a.shape[1]) + (1,) * (a.ndim - 2)

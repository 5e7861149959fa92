"""2-d max pooling: one thread per output window forward, one per input pixel backward.

Signatures are flambeau-nn's (``padding`` a tuple of ``(low, high)`` pairs, the high side
including what ceil_mode adds):

- ``max_pool2d(x, kernel, stride, padding, dilation) -> (y, arg)``, ``arg`` (int32) the
  row-major offset of each maximum inside its window;
- ``max_pool2d_backward(g, arg, input_shape, kernel, stride, padding, dilation) -> gx``.

Both return None for a dtype they do not handle (bfloat16, bool), and the generic code runs.

As in PyTorch, a NaN wins a window (the last NaN when there are several) and windows only
look at real pixels (padding never wins). The backward gathers, for each input pixel, the
gradients of the windows whose maximum it is: deterministic, no atomics.
"""

from __future__ import annotations

from flambeau_cuda._kernels._conv import _GEO, geometry, windows_covering
from flambeau_cuda._kernels._spec import INDEX_LIMIT, ElementwiseSpec, dtype_name, narrowed

__all__ = ["MAX_POOL2D", "MAX_POOL2D_BACKWARD", "MAX_POOL2D_I32", "MAX_POOL2D_BACKWARD_I32",
           "max_pool2d", "max_pool2d_backward"]

_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")

# C (channels) is part of the shared geometry; these kernels fold it into the plane index
MAX_POOL2D = ElementwiseSpec("max_pool2d", "raw T x, " + _GEO, "T y, int32 arg", r"""
long long t = i;
long long ow = t % OW; t /= OW;
long long oh = t % OH; long long plane = t / OH;
const long long base = plane * H * W;
bool found = false;
T best = (T)0;
int where = 0;
for (long long kh = 0; kh < KH; ++kh) {
    long long h = oh * sh - ph + kh * dh;
    if (h < 0 || h >= H) continue;
    for (long long kw = 0; kw < KW; ++kw) {
        long long w = ow * sw - pw + kw * dw;
        if (w < 0 || w >= W) continue;
        T v = x[base + h * W + w];
        if (!found || v > best || v != v) {
            best = v;
            where = (int)(kh * KW + kw);
            found = true;
        }
    }
}
y = best;
arg = where;
""")

MAX_POOL2D_BACKWARD = ElementwiseSpec(
    "max_pool2d_backward", "raw T g, raw int32 arg, " + _GEO, "T dx", r"""
long long t = i;
long long w = t % W; t /= W;
long long h = t % H; long long plane = t / H;
acc_t sum = 0;
""" + windows_covering(r"""
        long long o = (plane * OH + oh) * OW + ow;
        if (arg[o] == kh * KW + kw) sum += (acc_t)g[o];""") + r"""
dx = (T)sum;
""")


MAX_POOL2D_I32, MAX_POOL2D_BACKWARD_I32 = narrowed(MAX_POOL2D), narrowed(MAX_POOL2D_BACKWARD)


def _pool_geometry(x_shape, kernel, stride, padding, dilation):
    return geometry(x_shape, (0, 0) + tuple(kernel), stride, padding, dilation)


def max_pool2d(x, kernel, stride, padding, dilation):
    """The ``"max_pool2d"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._pool import max_pool2d
    >>> x = cupy.arange(16.0).reshape(1, 1, 4, 4)  # doctest: +SKIP
    >>> y, arg = max_pool2d(x, (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1))  # doctest: +SKIP
    >>> y.ravel().tolist(), arg.ravel().tolist()  # doctest: +SKIP
    ([5.0, 7.0, 13.0, 15.0], [3, 3, 3, 3])
    """
    from flambeau_cuda import _cupy

    if dtype_name(x.dtype) not in _DTYPES:
        return None
    cupy = _cupy.load()
    x = cupy.ascontiguousarray(x)
    geo = _pool_geometry(x.shape, kernel, stride, padding, dilation)
    out_shape = x.shape[:2] + geo[3:5]
    y = cupy.empty(out_shape, dtype=x.dtype)
    arg = cupy.empty(out_shape, dtype=cupy.int32)
    spec = MAX_POOL2D_I32 if max(x.size, y.size) < INDEX_LIMIT else MAX_POOL2D
    spec.build(dtype_name(x.dtype))(x, *geo, y, arg)
    return y, arg


def max_pool2d_backward(g, arg, input_shape, kernel, stride, padding, dilation):
    """The ``"max_pool2d_backward"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._pool import max_pool2d_backward
    >>> g, arg = cupy.ones((1, 1, 1, 1)), cupy.full((1, 1, 1, 1), 3, cupy.int32)  # doctest: +SKIP
    >>> max_pool2d_backward(g, arg, (1, 1, 2, 2), (2, 2), (2, 2), ((0, 0), (0, 0)),
    ...                     (1, 1)).ravel().tolist()  # doctest: +SKIP
    [0.0, 0.0, 0.0, 1.0]
    """
    from flambeau_cuda import _cupy

    if dtype_name(g.dtype) not in _DTYPES:
        return None
    cupy = _cupy.load()
    g = cupy.ascontiguousarray(g)
    arg = cupy.ascontiguousarray(arg, dtype=cupy.int32)
    geo = _pool_geometry(input_shape, kernel, stride, padding, dilation)
    dx = cupy.empty(tuple(input_shape), dtype=g.dtype)
    spec = MAX_POOL2D_BACKWARD_I32 if max(g.size, dx.size) < INDEX_LIMIT else MAX_POOL2D_BACKWARD
    spec.build(dtype_name(g.dtype))(g, arg, *geo, dx)
    return dx

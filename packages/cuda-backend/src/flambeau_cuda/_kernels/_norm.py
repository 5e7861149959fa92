"""Training-mode batch normalization in five launches forward and four backward (about
fifteen and ten with generic CuPy calls).

Signatures and results are flambeau-nn's generic ``_batch_norm_arrays`` and
``_batch_norm_backward_arrays`` (in ``flambeau.nn.functional._norm``):

- ``batch_norm(a, w, b, axes, eps) -> (out, y, rstd, mean, var)``;
- ``batch_norm_backward(g, y, rstd, w, axes) -> (dx, sum(g * y), sum(g))``;

``w`` and ``b`` are per-channel arrays or None, the statistics keep their reduced dims. Both
return None for dtypes other than float32/float64 (autocast runs batch norm in float32).

Forward: the mean and the centred sum of squares (two reductions), ``rstd`` from it (one
launch on the channels), then ``y`` and ``out`` in one pass. Backward: ``sum(g)`` and
``sum(g * y)``, the per-channel scale, and ``dx`` in one pass.
"""

from __future__ import annotations

from flambeau_cuda._kernels._loss import _reduction
from flambeau_cuda._kernels._softmax import DOT
from flambeau_cuda._kernels._spec import ElementwiseSpec

__all__ = ["SQUARES", "RSTD", "NORMALIZE", "NORM_GRAD", "batch_norm", "batch_norm_backward"]

_DTYPES = ("float32", "float64")

#: ReductionKernel of sum((x - m)^2)
SQUARES = ("T x, T m", "T s", "((double)x - (double)m) * ((double)x - (double)m)", "a + b",
           "s = (T)a", "0")

RSTD = ElementwiseSpec("batch_norm_rstd", "T s, float64 n, float64 eps", "T var, T rstd", r"""
acc_t v = (acc_t)s / (acc_t)n;
var = (T)v;
rstd = (T)((acc_t)1 / sqrt(v + (acc_t)eps));
""")

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


def _channels(v, like):
    """A per-channel array as ``(1, C, 1, ...)`` to broadcast against ``like``."""
    return v.reshape((1, like.shape[1]) + (1,) * (like.ndim - 2))


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
    if a.dtype.name not in _DTYPES or any(t is not None and t.dtype != a.dtype for t in (w, b)):
        return None
    count = a.size // a.shape[1]
    mean = a.mean(axis=axes, keepdims=True)
    squares = _reduction(SQUARES, "batch_norm_squares")(a, mean, axis=axes, keepdims=True)
    var, rstd = RSTD.build(a.dtype.name)(squares, count, eps)
    y, out = NORMALIZE.build(a.dtype.name)(a, mean, rstd, 1.0 if w is None else _channels(w, a),
                                           0.0 if b is None else _channels(b, a))
    return out, y, rstd, mean, var


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
    if y.dtype.name not in _DTYPES or g.dtype != y.dtype:
        return None
    count = g.size // g.shape[1]
    gsum = g.sum(axis=axes, keepdims=True)
    gysum = _reduction(DOT, "softmax_dot")(g, y, axis=axes, keepdims=True)
    scale = rstd if w is None else rstd * _channels(w, rstd)
    dx = NORM_GRAD.build(y.dtype.name)(g, y, gysum, gsum, scale, count)
    return dx, gysum, gsum

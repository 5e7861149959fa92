"""Softmax and log-softmax in three launches forward and two backward (about six and five
with generic CuPy calls).

Signatures are flambeau-core's: ``softmax(a, axis) -> y``, ``log_softmax(a, axis) -> y``,
``softmax_backward(g, y, axis) -> gx`` and ``log_softmax_backward(g, y, axis) -> gx``; each
returns None for dtypes other than float32/float64 (half types keep the generic code, which
accumulates their sums in a wider type).

Forward: the maximum ``m``, then ``s = sum(exp(x - m))`` as one reduction (the loss module's
``EXP_SUM``), then one elementwise pass. Backward: one reduction (``sum(g * y)``, or
``sum(g)`` for log-softmax) and one elementwise pass.
"""

from __future__ import annotations

from flambeau_cuda import _cupy
from flambeau_cuda._kernels._loss import EXP_SUM, _reduction
from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["SOFTMAX_OUT", "LOG_SOFTMAX_OUT", "SOFTMAX_GRAD", "LOG_SOFTMAX_GRAD", "softmax",
           "log_softmax", "softmax_backward", "log_softmax_backward"]

_DTYPES = ("float32", "float64")

SOFTMAX_OUT = ElementwiseSpec("softmax_out", "T x, T m, T s", "T y",
                              "y = (T)(exp((acc_t)x - (acc_t)m) / (acc_t)s);")
LOG_SOFTMAX_OUT = ElementwiseSpec("log_softmax_out", "T x, T m, T s", "T y",
                                  "y = (T)((acc_t)x - (acc_t)m - log((acc_t)s));")
SOFTMAX_GRAD = ElementwiseSpec("softmax_grad", "T g, T y, T dot", "T gx",
                               "gx = (T)((acc_t)y * ((acc_t)g - (acc_t)dot));")
LOG_SOFTMAX_GRAD = ElementwiseSpec("log_softmax_grad", "T g, T y, T total", "T gx",
                                   "gx = (T)((acc_t)g - exp((acc_t)y) * (acc_t)total);")

#: ReductionKernel of sum(g * y)
DOT = ("T g, T y", "T d", "(double)g * (double)y", "a + b", "d = (T)a", "0")


def _forward(spec, a, axis):
    if dtype_name(a.dtype) not in _DTYPES:
        return None
    m = a.max(axis=axis, keepdims=True)
    s = _reduction(EXP_SUM, "exp_sum")(a, m, axis=axis, keepdims=True)
    return spec.build(dtype_name(a.dtype))(a, m, s)


def softmax(a, axis):
    """The ``"softmax"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._softmax import softmax
    >>> softmax(cupy.zeros((1, 4)), 1).tolist()  # doctest: +SKIP
    [[0.25, 0.25, 0.25, 0.25]]
    """
    return _forward(SOFTMAX_OUT, a, axis)


def log_softmax(a, axis):
    """The ``"log_softmax"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._softmax import log_softmax
    >>> round(float(log_softmax(cupy.zeros((1, 2)), 1)[0, 0]), 4)  # doctest: +SKIP
    -0.6931
    """
    return _forward(LOG_SOFTMAX_OUT, a, axis)


def softmax_backward(g, y, axis):
    """The ``"softmax_backward"`` kernel: ``y * (g - sum(g * y))``.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._softmax import softmax_backward
    >>> y = cupy.full((1, 2), 0.5)  # doctest: +SKIP
    >>> softmax_backward(cupy.array([[1.0, 0.0]]), y, 1).tolist()  # doctest: +SKIP
    [[0.25, -0.25]]
    """
    if dtype_name(y.dtype) not in _DTYPES or g.dtype != y.dtype:
        return None
    dot = _reduction(DOT, "softmax_dot")(g, y, axis=axis, keepdims=True)
    return SOFTMAX_GRAD.build(dtype_name(y.dtype))(g, y, dot)


def log_softmax_backward(g, y, axis):
    """The ``"log_softmax_backward"`` kernel: ``g - exp(y) * sum(g)``.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._softmax import log_softmax_backward
    >>> y = cupy.log(cupy.full((1, 2), 0.5))  # doctest: +SKIP
    >>> log_softmax_backward(cupy.array([[1.0, 0.0]]), y, 1).tolist()  # doctest: +SKIP
    [[0.5, -0.5]]
    """
    if dtype_name(y.dtype) not in _DTYPES or g.dtype != y.dtype:
        return None
    total = _cupy.load().sum(g, axis=axis, keepdims=True)
    return LOG_SOFTMAX_GRAD.build(dtype_name(y.dtype))(g, y, total)

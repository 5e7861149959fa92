"""``cross_entropy``: ``-sum(q * log_softmax(logits, axis), axis)`` in three passes.

Signature: ``cross_entropy(logits, q, axis) -> per-sample losses`` (flambeau-nn's
``_CrossEntropy``). With ``m = max(logits)``, ``s = sum(exp(logits - m))`` the loss is
``sum(q) * (m + log s) - sum(q * logits)``: one max, one fused exp-sum and one fused
weighted sum, without materializing ``logits - m`` or the log-probabilities.
"""

from __future__ import annotations

from flambeau_cuda import _cupy

__all__ = ["cross_entropy", "EXP_SUM", "WEIGHTED"]

#: ReductionKernel (in, out, map, reduce, post, identity) of sum(exp(x - m))
EXP_SUM = ("T x, T m", "T s", "exp((double)x - (double)m)", "a + b", "s = (T)a", "0")
#: ReductionKernel of (sum(q), sum(q * x)) folded into the loss: sum(q * (m + log s - x))
WEIGHTED = ("T x, T q, T m, T s", "T y", "(double)q * ((double)m + log((double)s) - (double)x)",
            "a + b", "y = (T)a", "0")

_built: dict = {}


def _reduction(spec, name):
    kernel = _built.get(name)
    if kernel is None:
        kernel = _built[name] = _cupy.load().ReductionKernel(
            spec[0], spec[1], spec[2], spec[3], spec[4], spec[5], f"flambeau_{name}",
            reduce_type="double")
    return kernel


def cross_entropy(logits, q, axis):
    """The ``"cross_entropy"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._loss import cross_entropy
    >>> cross_entropy(cupy.zeros((1, 4)), cupy.array([[0., 1, 0, 0]]), 1)  # doctest: +SKIP
    array([1.38629436])
    """
    m = logits.max(axis=axis, keepdims=True)
    s = _reduction(EXP_SUM, "exp_sum")(logits, m, axis=axis, keepdims=True)
    return _reduction(WEIGHTED, "weighted_ce")(logits, q, m, s, axis=axis)

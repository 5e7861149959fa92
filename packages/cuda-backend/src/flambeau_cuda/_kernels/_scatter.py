"""``index_add_at``: ``out[index] += values`` with repeated indices accumulating (atomics).

Signature: ``index_add_at(out, index, values)`` in place, as ``numpy.add.at`` (used by the
backward of indexing, embedding, scatter_add and index_add).
"""

from __future__ import annotations

from flambeau_cuda import _cupy
from flambeau_cuda._kernels._spec import dtype_name

__all__ = ["index_add_at", "ATOMIC_DTYPES"]

#: dtypes cupyx.scatter_add handles with atomicAdd; others go through cupy.add.at
ATOMIC_DTYPES = frozenset({"float16", "float32", "float64", "int32", "uint32", "uint64"})


def index_add_at(out, index, values):
    """The ``"index_add_at"`` kernel.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._scatter import index_add_at
    >>> z = cupy.zeros(3); index_add_at(z, cupy.array([0, 0, 2]), cupy.ones(3))  # doctest: +SKIP
    >>> z  # doctest: +SKIP
    array([2., 0., 1.])
    """
    cupy = _cupy.load()
    if dtype_name(out.dtype) in ATOMIC_DTYPES:
        import cupyx

        cupyx.scatter_add(out, index, values)
    else:
        cupy.add.at(out, index, values)

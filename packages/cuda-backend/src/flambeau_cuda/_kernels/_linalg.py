"""``matmul`` on cuBLAS (through ``cupy.matmul``) with the TF32 switch, and ``cholesky``.

Signatures: ``matmul(a, b) -> array`` of ``a``'s dtype (flambeau's ``Matmul.forward``);
``cholesky(a) -> L`` raising ``numpy.linalg.LinAlgError`` where cuSOLVER reports a failure.
"""

from __future__ import annotations

from flambeau_cuda import _cupy, _settings
from flambeau_cuda._kernels._spec import dtype_name

__all__ = ["matmul", "cholesky", "tf32_compute_type"]

_applied = [None]  # the allow_tf32 value last given to cuBLAS


def tf32_compute_type(allow: bool) -> str:
    """The name of CuPy's float32 compute type for ``allow_tf32``.

    Examples
    --------
    >>> from flambeau_cuda._kernels._linalg import tf32_compute_type
    >>> tf32_compute_type(True), tf32_compute_type(False)
    ('COMPUTE_TYPE_TF32', 'COMPUTE_TYPE_DEFAULT')
    """
    return "COMPUTE_TYPE_TF32" if allow else "COMPUTE_TYPE_DEFAULT"


def _sync_tf32(cupy, conv):
    allow = _settings.allow_tf32(conv)
    if _applied[0] is not allow:
        from cupy._core import _routines_linalg as linalg

        linalg.set_compute_type(cupy.dtype("float32"),
                                getattr(linalg, tf32_compute_type(allow)))
        _applied[0] = allow


def matmul(a, b, conv=False):
    """The ``"matmul"`` kernel: ``a @ b`` in ``a``'s dtype.

    bfloat16 is multiplied in float32 (CuPy has no bfloat16 GEMM) and rounded back. float32
    products follow the TF32 switch of matmuls, or of convolutions when ``conv``.

    Examples
    --------
    >>> from flambeau_cuda._kernels._linalg import matmul
    >>> import cupy  # doctest: +SKIP
    >>> matmul(cupy.ones((2, 3)), cupy.ones((3, 4))).shape  # doctest: +SKIP
    (2, 4)
    """
    cupy = _cupy.load()
    if a.dtype == cupy.float32:
        _sync_tf32(cupy, conv)
    if dtype_name(a.dtype) == "bfloat16":
        return cupy.matmul(a.astype(cupy.float32), b.astype(cupy.float32)).astype(a.dtype)
    out = cupy.matmul(a, b)
    return out if out.dtype == a.dtype else out.astype(a.dtype)


def cholesky(a):
    """The ``"cholesky"`` kernel: CuPy's Cholesky with cuSOLVER's failures raised.

    CuPy ignores a failed factorization by default and returns a partial factor; flambeau
    turns the failure into :class:`numpy.linalg.LinAlgError`, which core reports as
    ``flambeau.linalg.LinAlgError`` naming the first minor that is not positive-definite.

    Examples
    --------
    >>> from flambeau_cuda._kernels._linalg import cholesky
    >>> import cupy  # doctest: +SKIP
    >>> cholesky(cupy.array([[4.0, 2.0], [2.0, 5.0]])).tolist()  # doctest: +SKIP
    [[2.0, 0.0], [1.0, 2.0]]
    """
    import cupyx

    cupy = _cupy.load()
    with cupyx.errstate(linalg="raise"):
        return cupy.linalg.cholesky(a)

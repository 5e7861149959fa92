"""What this build of flambeau-core has, under PyTorch's names (``torch.has_lapack``, ...),
answered for the NumPy it runs on, and ``is_distributed``."""

from __future__ import annotations

import numpy as _np

__all__ = ["has_lapack", "has_mkl", "has_openmp", "has_spectral", "is_distributed"]


def _numpy_build(config=None) -> str:
    """NumPy's BLAS/LAPACK build, lower-cased: the libraries' names and OpenBLAS's build line
    ('' where NumPy does not say). Not their directories, whose names prove nothing (a
    path may hold "mkl" or "openmp" while the library is another)."""
    if config is None:
        config = getattr(getattr(_np, "__config__", None), "CONFIG", None) or {}
    deps = config.get("Build Dependencies", {})
    said = [dep.get(k) or "" for dep in (deps.get("blas"), deps.get("lapack"))
            if isinstance(dep, dict) for k in ("name", "openblas configuration")]
    return " ".join(said).lower()


_BUILD = _numpy_build()

#: numpy.linalg always has LAPACK (its own lapack_lite when built without one)
has_lapack = True
#: whether NumPy's BLAS/LAPACK is Intel's MKL
has_mkl = "mkl" in _BUILD
#: whether NumPy's BLAS runs OpenMP threads (OpenBLAS's build line says USE_OPENMP then)
has_openmp = "openmp" in _BUILD
#: flambeau.fft is always there (NumPy's pocketfft)
has_spectral = True


def is_distributed(input) -> bool:  # noqa: A002 - torch's name
    """Whether ``input`` is a distributed tensor: always False, as PyTorch's (its distributed
    tensors are ``DTensor`` objects, not this flag).

    Raises
    ------
    TypeError
        If ``input`` is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_distributed(flambeau.zeros(2))
    False
    """
    from flambeau._ops._util import need_tensor

    need_tensor("is_distributed", input)
    return False

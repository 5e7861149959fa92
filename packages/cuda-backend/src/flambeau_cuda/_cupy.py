"""Lazy access to CuPy: imported on first use of a CUDA device, never at ``import flambeau``."""

from __future__ import annotations

__all__ = ["load", "probe", "INSTALL_HINT"]

INSTALL_HINT = "pip install flambeau-cuda[cuda12] (or [cuda13] for a CUDA 13 driver)"


def load():
    """The ``cupy`` module (an ImportError names the extra to install when it is missing).

    Examples
    --------
    >>> from flambeau_cuda import _cupy
    >>> try:
    ...     ok = _cupy.load().__name__ == "cupy"
    ... except ImportError as exc:
    ...     ok = "flambeau-cuda[cuda12]" in str(exc)
    >>> ok
    True
    """
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(f"CuPy is not installed: {INSTALL_HINT} ({exc})") from exc
    return cupy


def probe() -> tuple[int, str | None]:
    """``(device_count, reason)``: how many GPUs CuPy sees, and why none when it is 0.

    Examples
    --------
    >>> from flambeau_cuda._cupy import probe
    >>> count, reason = probe()
    >>> count > 0 or reason.startswith(("CuPy is not installed", "no CUDA device"))
    True
    """
    try:
        cupy = load()
    except ImportError:
        return 0, f"CuPy is not installed: {INSTALL_HINT}"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDARuntimeError: no driver, driver too old, no device
        return 0, f"no CUDA device is visible (cupy {cupy.__version__}: {exc})"
    if count == 0:
        return 0, f"no CUDA device is visible (cupy {cupy.__version__}: 0 devices)"
    return count, None

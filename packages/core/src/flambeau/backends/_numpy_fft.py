"""The NumPy backend's FFT kernel: SciPy's ``scipy.fft`` where it is installed.

NumPy 2's single-precision transforms are slow: ``numpy.fft.fftn`` of a (64, 4096)
complex64 array takes 14 ms, longer than the same transform in complex128 (5.7 ms), where
SciPy's takes 2.4 ms; a 2-D transform of (32, 3, 64, 64) complex64 images, 40 ms against 5.6
ms. ``scipy.fft`` has NumPy's signatures and keeps float32 / complex64 results, so with SciPy
every transform goes there; without it, complex64 transforms run in complex128 and are
rounded back, which beats NumPy's own complex64 path.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fft"]

_SCIPY_FFT = []  # [scipy.fft or None], filled on first use


def _scipy_fft():
    if not _SCIPY_FFT:
        try:
            import scipy.fft as module
        except ImportError:
            module = None
        _SCIPY_FFT.append(module)
    return _SCIPY_FFT[0]


def fft(name, a, axes, norm, s=None):
    """``numpy.fft.<name>(a, s, axes, norm)`` (``name`` one of ``fftn``, ``ifftn``, ``rfftn``,
    ``irfftn``) computed the faster way; None to leave it to ``numpy.fft`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> out = fft("fftn", np.ones(4, dtype=np.complex64), (0,), "backward")
    >>> out.dtype, out.tolist()
    (dtype('complex64'), [(4+0j), 0j, 0j, 0j])
    """
    module = _scipy_fft()
    if module is not None:
        return getattr(module, name)(a, s=s, axes=axes, norm=norm)
    if a.dtype == np.complex64 and name in ("fftn", "ifftn"):
        out = getattr(np.fft, name)(a.astype(np.complex128), s=s, axes=axes, norm=norm)
        return out.astype(np.complex64)
    return None

"""The TF32 switches of the CUDA backend, read on every product.

They live in core, with torch's spelling and defaults, so that code sets them whether or not
flambeau-cuda is installed: ``flambeau.backends.cuda.matmul.allow_tf32`` (off) for matrix
products, ``flambeau.backends.cudnn.allow_tf32`` (on) for convolutions.
"""

from __future__ import annotations

import flambeau.backends.cuda as _cuda
import flambeau.backends.cudnn as _cudnn

__all__ = ["allow_tf32"]


def allow_tf32(conv: bool = False) -> bool:
    """Whether float32 products may use TF32: the convolution switch when ``conv``.

    Examples
    --------
    >>> from flambeau_cuda._settings import allow_tf32
    >>> allow_tf32(), allow_tf32(conv=True)
    (False, True)
    """
    return bool(_cudnn.allow_tf32 if conv else _cuda.matmul.allow_tf32)

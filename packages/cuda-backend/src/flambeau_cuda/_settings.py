"""Switches of the CUDA backend read on every call (``allow_tf32``).

The public spelling is ``flambeau.backends.cuda.matmul.allow_tf32`` (PyTorch's). Until core
provides that module, :func:`allow_tf32` falls back to :data:`matmul` here.
"""

from __future__ import annotations

__all__ = ["MatmulSettings", "matmul", "allow_tf32"]


class MatmulSettings:
    """``allow_tf32``: let float32 matrix products use TensorFloat-32 tensor cores.

    Off by default, as in PyTorch: TF32 keeps float32's range but rounds inputs to 10
    mantissa bits, so results differ from the CPU beyond the float32 tolerances.

    Examples
    --------
    >>> from flambeau_cuda._settings import MatmulSettings
    >>> MatmulSettings().allow_tf32
    False
    """

    __slots__ = ("allow_tf32",)

    def __init__(self):
        self.allow_tf32 = False


#: the plugin's own switch, used when core has no ``flambeau.backends.cuda``
matmul = MatmulSettings()


def allow_tf32() -> bool:
    """Whether float32 matmuls may use TF32 (``flambeau.backends.cuda.matmul.allow_tf32``).

    Examples
    --------
    >>> from flambeau_cuda._settings import allow_tf32
    >>> allow_tf32()
    False
    """
    global _source
    if _source is None:
        try:  # resolved once: a failed import on every matmul would cost more than the check
            from flambeau.backends.cuda import matmul as _source
        except ImportError:
            _source = matmul
    return bool(_source.allow_tf32)


_source = None

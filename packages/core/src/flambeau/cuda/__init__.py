"""``flambeau.cuda``: CUDA devices, provided by the flambeau-cuda plugin when installed.

Without the plugin (or without a GPU) :func:`is_available` is False and :func:`device_count`
is 0; the other functions raise an error that says what to install. The legacy typed
constructors (:class:`FloatTensor`, :class:`LongTensor`, ...) exist either way, as in PyTorch:
``isinstance(t, flambeau.cuda.FloatTensor)`` is simply False without a GPU, and calling one
raises the error ``flambeau.zeros(1, device="cuda")`` raises.

Examples
--------
>>> import flambeau
>>> isinstance(flambeau.cuda.is_available(), bool)
True
"""

from __future__ import annotations

import importlib

from flambeau import _compat
from flambeau._toplevel_more import OutOfMemoryError
from flambeau.backends import _registry

__all__ = [
    "is_available", "device_count", "OutOfMemoryError",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
]

# Defined here, not by the plugin, so they exist without it; the module __getattr__ below is
# consulted only for names this module lacks, so the plugin cannot shadow them.
_TYPES = _compat.legacy_types("cuda")
FloatTensor = _TYPES["FloatTensor"]
DoubleTensor = _TYPES["DoubleTensor"]
HalfTensor = _TYPES["HalfTensor"]
BFloat16Tensor = _TYPES["BFloat16Tensor"]
LongTensor = _TYPES["LongTensor"]
IntTensor = _TYPES["IntTensor"]
ShortTensor = _TYPES["ShortTensor"]
CharTensor = _TYPES["CharTensor"]
ByteTensor = _TYPES["ByteTensor"]
BoolTensor = _TYPES["BoolTensor"]


def _backend():
    backends = _registry._loaded()[0]
    return backends.get("cuda")


def is_available() -> bool:
    """Whether a CUDA device can be used (flambeau-cuda installed and a GPU visible).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.is_available() in (True, False)
    True
    """
    b = _backend()
    return bool(b is not None and b.is_available())


def device_count() -> int:
    """The number of visible CUDA devices (0 without flambeau-cuda).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.device_count() >= 0
    True
    """
    b = _backend()
    return b.device_count() if b is not None else 0


def __getattr__(name):
    # synchronize, manual_seed, memory_allocated, Stream, ...: the plugin's module provides them
    b = _backend()
    if b is not None and hasattr(b, "cuda_module"):
        return getattr(b.cuda_module(), name)
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"flambeau.cuda.{name} needs the CUDA backend: pip install flambeau-cuda[cuda12] "
        "(and a machine with an NVIDIA GPU)"
    )


# ``flambeau.cuda.amp`` is reachable after ``import flambeau``, as in torch. Not with
# ``from flambeau.cuda import amp``: that asks the module __getattr__ first, which would
# discover the plugins while flambeau (and perhaps the plugin itself) is still importing.
amp = importlib.import_module("flambeau.cuda.amp")

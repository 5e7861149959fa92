"""``flambeau.cuda``: CUDA devices, provided by the flambeau-cuda plugin when installed.

Without the plugin (or without a GPU) :func:`is_available` is False and :func:`device_count`
is 0; the functions torch.cuda answers there answer as torch's do (``get_rng_state_all()`` is
``[]``, ``memory_stats()`` empty, ``memory_allocated()`` 0, ``is_bf16_supported()`` False,
seeding does nothing), and the others raise an error that says what is missing. The legacy typed
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
import os

from flambeau import _compat, _storage
from flambeau._toplevel_more import OutOfMemoryError
from flambeau.backends import _registry
from flambeau.cuda import _runtime
from flambeau.cuda._runtime import *  # noqa: F403 - RNG, queries, memory, streams, errors

__all__ = [
    "is_available", "device_count", "manual_seed", "manual_seed_all", "seed", "seed_all",
    "OutOfMemoryError",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
    "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
    "ComplexFloatStorage", "ComplexDoubleStorage",
    *_runtime.__all__, "default_generators", "nvtx",  # noqa: F405
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
# the legacy typed storages, likewise: making one needs a GPU, naming one does not
_STORAGES = _storage.legacy_storages("cuda")
FloatStorage = _STORAGES["FloatStorage"]
DoubleStorage = _STORAGES["DoubleStorage"]
HalfStorage = _STORAGES["HalfStorage"]
BFloat16Storage = _STORAGES["BFloat16Storage"]
LongStorage = _STORAGES["LongStorage"]
IntStorage = _STORAGES["IntStorage"]
ShortStorage = _STORAGES["ShortStorage"]
CharStorage = _STORAGES["CharStorage"]
ByteStorage = _STORAGES["ByteStorage"]
BoolStorage = _STORAGES["BoolStorage"]
ComplexFloatStorage = _STORAGES["ComplexFloatStorage"]
ComplexDoubleStorage = _STORAGES["ComplexDoubleStorage"]


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


def _seed_with(name, value):
    """Seed through the plugin when CUDA is usable; without it PyTorch silently ignores the
    call, so seeding helpers (``torch.cuda.manual_seed_all(seed)`` next to
    ``torch.manual_seed(seed)``) run unchanged on a CPU-only machine."""
    if is_available():
        getattr(_backend().cuda_module(), name)(value)


def manual_seed(seed: int) -> None:
    """Seed the current CUDA device's default generator; silently nothing without CUDA.

    Parameters
    ----------
    seed : int
        The seed.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.manual_seed(0)  # safe to call without a GPU, as in PyTorch
    """
    _seed_with("manual_seed", int(seed))


def manual_seed_all(seed: int) -> None:
    """As :func:`manual_seed`, for the default generators of every CUDA device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.manual_seed_all(0)
    """
    _seed_with("manual_seed_all", int(seed))


def _random_seed() -> int:
    return int.from_bytes(os.urandom(8), "little") >> 1  # a non-negative int64


def seed() -> None:
    """Seed the current CUDA device's generator with a random number; nothing without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.seed()
    """
    _seed_with("manual_seed", _random_seed())


def seed_all() -> None:
    """Seed every CUDA device's generator with one random number; nothing without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.seed_all()
    """
    _seed_with("manual_seed_all", _random_seed())


def __getattr__(name):
    if name == "default_generators":  # a tuple that follows the devices, as torch's
        return _runtime._default_generators()
    # synchronize, Stream, Event, ...: the plugin's module provides them
    if name.startswith("__"):
        raise AttributeError(name)
    b = _backend()
    if b is not None and hasattr(b, "cuda_module"):
        module = b.cuda_module()
        # only the plugin's public names: not what its module imported for itself
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
        raise AttributeError(f"module 'flambeau.cuda' has no attribute {name!r}")
    raise AttributeError(
        f"flambeau.cuda.{name} needs the CUDA backend: pip install flambeau-cuda[cuda12] "
        "(and a machine with an NVIDIA GPU)"
    )


# ``flambeau.cuda.amp`` is reachable after ``import flambeau``, as in torch. Not with
# ``from flambeau.cuda import amp``: that asks the module __getattr__ first, which would
# discover the plugins while flambeau (and perhaps the plugin itself) is still importing.
amp = importlib.import_module("flambeau.cuda.amp")
nvtx = importlib.import_module("flambeau.cuda.nvtx")

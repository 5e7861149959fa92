"""``flambeau.accelerator``: device-agnostic access to the accelerator (``torch.accelerator``).

The accelerator is CUDA when the flambeau-cuda plugin is installed and sees a GPU; on other
machines there is none: :func:`current_accelerator` is None, :func:`is_available` False,
:func:`device_count` 0, and the functions that need a device raise.

Examples
--------
>>> import flambeau
>>> device = flambeau.accelerator.current_accelerator() or flambeau.device("cpu")
>>> flambeau.ones(2, device=device).sum().item()
2.0
"""

from __future__ import annotations

from flambeau._device import device as _device_type

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]

_ACCELERATOR_TYPES = ("cuda",)  # the device types PyTorch counts as accelerators that we have


def _backend():
    """The accelerator's backend when one of its devices is usable, else None."""
    from flambeau.backends import _registry

    backends = _registry._loaded()[0]
    for name in _ACCELERATOR_TYPES:
        b = backends.get(name)
        if b is not None and b.is_available() and b.device_count() > 0:
            return b
    return None


def _need(op):
    b = _backend()
    if b is None:
        raise RuntimeError(f"accelerator.{op}: cannot access an accelerator device when none "
                           "is available (install flambeau-cuda on a machine with an NVIDIA "
                           "GPU, or check flambeau.accelerator.is_available() first)")
    return b


def _index(b, dev, op):
    if dev is None:
        return b.current_device()
    if isinstance(dev, int) and not isinstance(dev, bool):
        return dev
    d = _device_type(dev) if isinstance(dev, str) else dev
    if not isinstance(d, _device_type) or d.type != b.name:
        raise ValueError(f"accelerator.{op}: expected a {b.name} device or an index, got "
                         f"{dev!r}")
    return b.current_device() if d.index is None else d.index


def is_available() -> bool:
    """Whether an accelerator device can be used.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.accelerator.is_available() == (flambeau.accelerator.device_count() > 0)
    True
    """
    return _backend() is not None


def current_accelerator(check_available=False):
    """The accelerator's device type as a :class:`flambeau.device` (``device(type='cuda')``),
    or None when there is none.

    ``check_available`` is accepted for PyTorch compatibility: flambeau only reports an
    accelerator that is available.

    Examples
    --------
    >>> import flambeau
    >>> acc = flambeau.accelerator.current_accelerator()
    >>> acc is None or acc.type == "cuda"
    True
    """
    b = _backend()
    return None if b is None else _device_type(b.name)


def device_count() -> int:
    """The number of accelerator devices (0 when there is none).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.accelerator.device_count() >= 0
    True
    """
    b = _backend()
    return 0 if b is None else int(b.device_count())


def current_device_index() -> int:
    """The index of the current accelerator device of this thread.

    Raises
    ------
    RuntimeError
        If there is no accelerator.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.accelerator.is_available():
    ...     print(flambeau.accelerator.current_device_index() >= 0)
    ... else:
    ...     print(True)
    True
    """
    return int(_need("current_device_index").current_device())


def set_device_index(device, /) -> None:
    """Make ``device`` (an index, ``"cuda:1"`` or a :class:`flambeau.device`) the current
    accelerator device of this thread.

    Raises
    ------
    RuntimeError
        If there is no accelerator, or the index is out of range.
    ValueError
        If ``device`` is a device of another type.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.accelerator.is_available():
    ...     flambeau.accelerator.set_device_index(0)
    """
    b = _need("set_device_index")
    b.set_device(_index(b, device, "set_device_index"))


def synchronize(device=None, /) -> None:
    """Wait until all the work queued on an accelerator device (the current one by default)
    has finished.

    Raises
    ------
    RuntimeError
        If there is no accelerator.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.accelerator.is_available():
    ...     flambeau.accelerator.synchronize()
    """
    b = _need("synchronize")
    b.synchronize(_index(b, device, "synchronize"))


def get_device_module(device=None):
    """The module of a device type: ``flambeau.cuda``, ``flambeau.cpu``, ``flambeau.mps`` or
    ``flambeau.xpu`` (by default the current accelerator's, or ``flambeau.cpu`` when there
    is none).

    Raises
    ------
    RuntimeError
        If the device type has no module in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_device_module("cpu").__name__
    'flambeau.cpu'
    >>> flambeau.get_device_module("cuda").__name__
    'flambeau.cuda'
    """
    import flambeau

    if device is None:
        acc = current_accelerator()
        name = "cpu" if acc is None else acc.type
    elif isinstance(device, _device_type):
        name = device.type
    elif isinstance(device, str):
        name = device.split(":", 1)[0]
    else:
        raise TypeError(f"get_device_module(): expected a flambeau.device, a str or None, got "
                        f"{type(device).__name__}")
    if name not in ("cpu", "cuda", "mps", "xpu"):
        raise RuntimeError(f"get_device_module(): device type {name!r} has no module in "
                           "flambeau (flambeau.cpu, cuda, mps and xpu do)")
    return getattr(flambeau, name)

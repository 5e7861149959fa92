"""Process-wide defaults: the device new tensors go to (``with flambeau.device(...)``)."""

from __future__ import annotations

import threading

_tls = threading.local()
_default = None


def default_device():
    stack = getattr(_tls, "stack", None)
    if stack:
        return stack[-1]
    global _default
    if _default is None:
        from flambeau._device import device

        _default = device("cpu")
    return _default


def set_default_device(device) -> None:
    """Make ``dev`` the device of tensors created without ``device=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_default_device("cpu")
    >>> flambeau.zeros(1).device
    device(type='cpu')
    """
    global _default
    from flambeau._device import canonical

    _default = canonical("cpu" if device is None else device)


def get_default_device():
    """The device tensors are created on when no ``device=`` is given.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_default_device()
    device(type='cpu')
    """
    return default_device()


def push_device(dev) -> None:
    from flambeau._device import canonical

    if not hasattr(_tls, "stack"):
        _tls.stack = []
    _tls.stack.append(canonical(dev))


def pop_device() -> None:
    _tls.stack.pop()

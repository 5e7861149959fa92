"""``flambeau.backends.mps``: PyTorch's Apple-GPU backend, for the device-picking code that asks
``torch.backends.mps.is_available()``.

flambeau itself has no ``"mps"`` device type; a plugin may provide one (see
:mod:`flambeau.backends`), and these answer for whatever is installed.

Examples
--------
>>> import flambeau
>>> device = ("cuda" if flambeau.cuda.is_available() else
...           "mps" if flambeau.backends.mps.is_available() else "cpu")
>>> device
'cpu'
"""

from __future__ import annotations

import platform

from flambeau._plugin_device import available_backend, backend_function, required
from flambeau.backends import _registry

__all__ = ["is_available", "is_built", "is_macos_or_newer", "is_macos13_or_newer", "get_name",
           "get_core_count"]


def is_built() -> bool:
    """Whether an installed plugin provides the ``"mps"`` device type.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.backends.mps.is_built()
    False
    """
    return "mps" in _registry.backend_names()


def is_available() -> bool:
    """Whether the ``"mps"`` device type is provided and usable on this machine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.backends.mps.is_available()
    False
    """
    return available_backend("mps") is not None


def is_macos_or_newer(major: int, minor: int) -> bool:
    """Whether this is macOS ``major.minor`` or newer.

    Raises
    ------
    RuntimeError
        Without MPS, as PyTorch built without it.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.backends.mps.is_available():
    ...     recent = flambeau.backends.mps.is_macos_or_newer(14, 0)
    """
    required("mps", "is_macos_or_newer")
    version = tuple(int(p) for p in (platform.mac_ver()[0] or "0").split(".")[:2])
    return version >= (major, minor)


def is_macos13_or_newer(minor: int = 0) -> bool:
    """:func:`is_macos_or_newer` for macOS 13.

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.backends.mps.is_available():
    ...     recent = flambeau.backends.mps.is_macos13_or_newer()
    """
    return is_macos_or_newer(13, minor)


get_name = backend_function("mps", __name__, "get_name", "The name of the Apple GPU")
get_core_count = backend_function("mps", __name__, "get_core_count",
                                  "The number of GPU cores of the Apple GPU")

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

from flambeau.backends import _registry

__all__ = ["is_available", "is_built"]


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
    return is_built() and bool(_registry.get_backend("mps").is_available())

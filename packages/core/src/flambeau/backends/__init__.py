"""Backends: how flambeau finds and talks to device types (all of them plugins).

Examples
--------
>>> import flambeau.backends
>>> "cpu" in flambeau.backends.backend_names()
True
>>> flambeau.backends.get_backend("cpu").xp.__name__
'numpy'
"""

# the switch modules PyTorch code reaches without importing them
# (torch.backends.cudnn.benchmark = True, torch.backends.mps.is_available())
from flambeau.backends import cuda, cudnn, mps  # noqa: E402,F401
from flambeau.backends._backend import Backend, HostRNG
from flambeau.backends._registry import (
    BackendRegistryError,
    backend_names,
    get_backend,
    plugin_of,
    register_backend,
    reload,
    unregister_backend,
)
from flambeau.backends.hookspecs import hookimpl, hookspec

__all__ = [
    "Backend", "HostRNG", "BackendRegistryError", "backend_names", "get_backend", "plugin_of",
    "register_backend", "unregister_backend", "reload",
]
# ``hookimpl`` and ``hookspec`` (pluggy markers, documented in flambeau.backends.hookspecs) are
# importable from here for plugin authors.

"""The device-backend registry: plugins of the ``flambeau`` entry-point group."""

from __future__ import annotations

import os

from flambeau.backends import hookspecs
from flambeau.backends._backend import Backend
from flambeau.backends._plugins import PluginRegistry, entry_points_of

#: Device types whose plugin we know, to tell users what to install.
KNOWN_PLUGINS = {"cuda": "flambeau-cuda (pip install flambeau-cuda[cuda12])"}
_CORE_DISTRIBUTION = "flambeau-core"


class BackendRegistryError(RuntimeError):
    """Two plugins registered the same device type.

    Examples
    --------
    >>> import numpy
    >>> from flambeau.backends import Backend, BackendRegistryError, register_backend
    >>> try:
    ...     register_backend(Backend("cpu", xp=numpy))
    ... except BackendRegistryError as e:
    ...     print(str(e).split(":")[0])
    device type 'cpu' is registered by two plugins
    """


def _entry_points():
    disabled = os.environ.get("FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD", "") not in ("", "0")
    for ep, dist_name in entry_points_of("flambeau"):
        if disabled and dist_name != _CORE_DISTRIBUTION:
            continue
        yield ep, dist_name


# `find` looks `_entry_points` up at call time, so tests can substitute it
_registry = PluginRegistry("flambeau", hookspecs, "flambeau_backends", Backend, "device type",
                           BackendRegistryError, find=lambda: _entry_points(),
                           public_name="flambeau.backends.Backend")


def _loaded():
    return _registry.loaded()


def reload() -> None:
    """Forget discovered backends; the next use scans the entry points again.

    Useful after installing a plugin in a running interpreter.

    Examples
    --------
    >>> import flambeau.backends
    >>> flambeau.backends.reload()
    >>> "cpu" in flambeau.backends.backend_names()
    True
    """
    _registry.reload()


def register_backend(backend: Backend, plugin_name: str = "runtime") -> None:
    """Register a backend at run time (tests, interactive experiments).

    Installed plugins register through their entry point instead; this is for backends
    defined in a running program.

    Examples
    --------
    >>> import numpy, flambeau
    >>> from flambeau.backends import Backend, register_backend, unregister_backend
    >>> register_backend(Backend("scratch", xp=numpy))
    >>> flambeau.ones(2, device="scratch").device
    device(type='scratch', index=0)
    >>> unregister_backend("scratch")
    """
    _registry.add(backend, plugin_name)


def unregister_backend(name: str) -> None:
    """Remove a backend registered with :func:`register_backend`.

    Examples
    --------
    >>> import numpy
    >>> from flambeau.backends import Backend, backend_names, register_backend
    >>> register_backend(Backend("tmpdev", xp=numpy))
    >>> unregister_backend("tmpdev")
    >>> "tmpdev" in backend_names()
    False
    """
    backends, owners, _ = _loaded()
    backends.pop(name, None)
    owners.pop(name, None)


def backend_names() -> list[str]:
    """Device types provided by the installed plugins.

    Examples
    --------
    >>> import flambeau.backends
    >>> "cpu" in flambeau.backends.backend_names()
    True
    """
    return sorted(_loaded()[0])


def has_backend(name: str) -> bool:
    return name in _loaded()[0]


def get_backend(name: str) -> Backend:
    """The backend of device type ``name``, or an error that says what to install.

    Examples
    --------
    >>> import flambeau.backends
    >>> flambeau.backends.get_backend("cpu").name
    'cpu'
    """
    backends, _, broken = _loaded()
    try:
        return backends[name]
    except KeyError:
        pass
    msg = f"unknown device type {name!r}; installed backends: {', '.join(sorted(backends))}"
    if name in KNOWN_PLUGINS:
        msg = f"device type {name!r} needs the plugin {KNOWN_PLUGINS[name]}; " + msg[
            msg.index("installed") :
        ]
    if broken:
        msg += "; plugins that failed to load: " + "; ".join(f"{k}: {v}" for k, v in broken.items())
    raise RuntimeError(msg)


def plugin_of(name: str) -> str:
    """The plugin (entry point and distribution) that registered device type ``name``.

    Examples
    --------
    >>> import flambeau.backends
    >>> flambeau.backends.plugin_of("cpu")
    'numpy (flambeau-core)'
    """
    get_backend(name)
    return _loaded()[1][name]

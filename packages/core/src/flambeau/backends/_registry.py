"""Discovery of backends from the ``flambeau`` entry-point group (lazy, strict, helpful)."""

from __future__ import annotations

import os
import threading
from importlib.metadata import entry_points

import pluggy

from flambeau.backends import hookspecs
from flambeau.backends._backend import Backend

#: Device types whose plugin we know, to tell users what to install.
KNOWN_PLUGINS = {"cuda": "flambeau-cuda (pip install flambeau-cuda[cuda12])"}
_CORE_DISTRIBUTION = "flambeau-core"

_lock = threading.Lock()
_state = None  # filled by _load(): (backends, owners, broken)


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
    for ep in entry_points(group="flambeau"):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        if disabled and dist_name != _CORE_DISTRIBUTION:
            continue
        yield ep, dist_name


def _load():
    manager = pluggy.PluginManager("flambeau")
    manager.add_hookspecs(hookspecs)
    broken: dict[str, str] = {}  # plugin label -> error text
    for ep, dist_name in _entry_points():
        label = f"{ep.name} ({dist_name})"
        if manager.has_plugin(label):
            continue  # the same distribution seen twice on sys.path
        try:
            manager.register(ep.load(), name=label)
        except Exception as exc:  # one broken plugin must not break the others
            broken[label] = f"{type(exc).__name__}: {exc}"
    backends: dict[str, Backend] = {}
    owners: dict[str, str] = {}
    for impl in manager.hook.flambeau_backends.get_hookimpls():
        try:
            provided = list(impl.function())
        except Exception as exc:
            broken[impl.plugin_name] = f"{type(exc).__name__}: {exc}"
            continue
        for backend in provided:
            if not isinstance(backend, Backend):
                broken[impl.plugin_name] = f"returned {backend!r}, not a flambeau.backends.Backend"
                continue
            if backend.name in backends:
                raise BackendRegistryError(
                    f"device type {backend.name!r} is registered by two plugins: "
                    f"{owners[backend.name]} and {impl.plugin_name}; uninstall one of them"
                )
            backends[backend.name] = backend
            owners[backend.name] = impl.plugin_name
    return backends, owners, broken


def _loaded():
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                _state = _load()
    return _state


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
    global _state
    with _lock:
        _state = None


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
    backends, owners, _ = _loaded()
    if backend.name in backends:
        raise BackendRegistryError(
            f"device type {backend.name!r} is registered by two plugins: "
            f"{owners[backend.name]} and {plugin_name}"
        )
    backends[backend.name] = backend
    owners[backend.name] = plugin_name


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

"""Discovery of communication backends from the ``flambeau.distributed`` entry-point group."""

from __future__ import annotations

import threading
from importlib.metadata import entry_points

import pluggy

from flambeau.distributed import hookspecs
from flambeau.distributed._backend import CommBackend

__all__ = ["CommBackendRegistryError", "comm_backend_names", "get_comm_backend", "reload"]

PROJECT = "flambeau_distributed"
GROUP = "flambeau.distributed"

_lock = threading.Lock()
_state = None  # (backends, owners, broken), filled on first use


class CommBackendRegistryError(RuntimeError):
    """Two plugins registered a communication backend of the same name.

    Examples
    --------
    >>> from flambeau.distributed import CommBackendRegistryError
    >>> issubclass(CommBackendRegistryError, RuntimeError)
    True
    """


def _load():
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    broken: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        label = f"{ep.name} ({dist.metadata['Name'] if dist is not None else '?'})"
        if manager.has_plugin(label):
            continue  # the same distribution seen twice on sys.path
        try:
            manager.register(ep.load(), name=label)
        except Exception as exc:  # one broken plugin must not hide the others
            broken[label] = f"{type(exc).__name__}: {exc}"
    backends: dict[str, CommBackend] = {}
    owners: dict[str, str] = {}
    for impl in manager.hook.flambeau_comm_backends.get_hookimpls():
        try:
            provided = list(impl.function())
        except Exception as exc:
            broken[impl.plugin_name] = f"{type(exc).__name__}: {exc}"
            continue
        for backend in provided:
            if not isinstance(backend, CommBackend):
                broken[impl.plugin_name] = (
                    f"returned {backend!r}, not a flambeau.distributed.CommBackend"
                )
                continue
            if backend.name in backends:
                raise CommBackendRegistryError(
                    f"communication backend {backend.name!r} is registered by two plugins: "
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
    """Forget the discovered backends; the next look-up scans the entry points again.

    Examples
    --------
    >>> from flambeau.distributed._registry import reload, comm_backend_names
    >>> reload()
    >>> "mpi" in comm_backend_names()
    True
    """
    global _state
    with _lock:
        _state = None


def comm_backend_names() -> list[str]:
    """Names of the communication backends the installed plugins provide.

    Examples
    --------
    >>> from flambeau.distributed import comm_backend_names
    >>> comm_backend_names()
    ['mpi', 'nccl']
    """
    return sorted(_loaded()[0])


def get_comm_backend(name: str) -> CommBackend:
    """The communication backend called ``name``, or an error listing the installed ones.

    Examples
    --------
    >>> from flambeau.distributed import get_comm_backend
    >>> get_comm_backend("mpi").device_types
    ('cpu',)
    """
    backends, _, broken = _loaded()
    if not isinstance(name, str):
        raise TypeError(f"backend must be a string such as 'mpi', got {type(name).__name__}")
    backend = backends.get(name.lower())
    if backend is not None:
        return backend
    msg = (
        f"unknown communication backend {name!r}; installed backends: "
        f"{', '.join(sorted(backends)) or 'none'}"
    )
    if broken:
        msg += "; plugins that failed to load: " + "; ".join(f"{k}: {v}" for k, v in broken.items())
    raise ValueError(msg)

"""Discovery of communication backends from the ``flambeau.distributed`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from flambeau.backends._plugins import PluginRegistry, entry_points_of
from flambeau.distributed import hookspecs
from flambeau.distributed._backend import CommBackend

__all__ = ["CommBackendRegistryError", "comm_backend_names", "get_comm_backend", "reload"]

PROJECT = "flambeau_distributed"
GROUP = "flambeau.distributed"


class CommBackendRegistryError(RuntimeError):
    """Two plugins registered a communication backend of the same name.

    Examples
    --------
    >>> from flambeau.distributed import CommBackendRegistryError
    >>> issubclass(CommBackendRegistryError, RuntimeError)
    True
    """


# the same discovery as core's device backends, over this package's entry-point group
_registry = PluginRegistry(PROJECT, hookspecs, "flambeau_comm_backends", CommBackend,
                           "communication backend", CommBackendRegistryError,
                           find=lambda: entry_points_of(GROUP, entry_points),
                           public_name="flambeau.distributed.CommBackend")


def _loaded():
    return _registry.loaded()


def reload() -> None:
    """Forget the discovered backends; the next look-up scans the entry points again.

    Examples
    --------
    >>> from flambeau.distributed._registry import reload, comm_backend_names
    >>> reload()
    >>> "mpi" in comm_backend_names()
    True
    """
    _registry.reload()


def comm_backend_names() -> list[str]:
    """Names of the communication backends the installed plugins provide.

    Examples
    --------
    >>> from flambeau.distributed import comm_backend_names
    >>> comm_backend_names()
    ['gloo', 'mpi', 'nccl']
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

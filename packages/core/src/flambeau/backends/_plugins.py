"""Items provided by pluggy plugins found from an entry-point group.

Shared by the device-backend registry of core and by other packages' registries (the
communication backends of flambeau-distributed): discovery is lazy (first use), strict (two
plugins providing the same name is an error naming both) and isolating (a plugin that fails
to import or to answer its hook is recorded, not raised, so the others keep working).
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points

import pluggy

__all__ = ["PluginRegistry"]


def entry_points_of(group, source=None):
    """``(entry point, distribution name)`` pairs of an entry-point group.

    ``source`` replaces :func:`importlib.metadata.entry_points` (tests substitute it).
    """
    for ep in (source or entry_points)(group=group):
        dist = getattr(ep, "dist", None)
        yield ep, (dist.metadata["Name"] if dist is not None else "?")


class PluginRegistry:
    """Named items (``item.name``) collected from the hook ``hook_name`` of plugins.

    Parameters
    ----------
    project : str
        The pluggy project name of the hook specifications.
    hookspecs : module
        The module holding the hook specifications.
    hook_name : str
        The hook every plugin implements; it returns an iterable of items.
    item_type : type
        What the hook must return instances of (named in errors by its public path,
        ``public_name``).
    what : str
        How errors name an item ("device type", "communication backend").
    error_type : type
        The exception raised when two plugins provide the same name.
    find : callable
        Returns the ``(entry point, distribution name)`` pairs to load.

    Examples
    --------
    >>> from flambeau.backends import Backend, hookspecs
    >>> from flambeau.backends._plugins import PluginRegistry
    >>> registry = PluginRegistry("flambeau", hookspecs, "flambeau_backends", Backend,
    ...                           "device type", RuntimeError, find=lambda: iter(()))
    >>> registry.loaded()
    ({}, {}, {})
    """

    def __init__(self, project, hookspecs, hook_name, item_type, what, error_type, find,
                 public_name=None):
        self._project, self._hookspecs, self._hook_name = project, hookspecs, hook_name
        self._item_type, self._what, self._error_type = item_type, what, error_type
        self._find = find
        self._type_name = public_name or f"{item_type.__module__}.{item_type.__name__}"
        self._lock = threading.Lock()
        self._state = None

    def _load(self):
        manager = pluggy.PluginManager(self._project)
        manager.add_hookspecs(self._hookspecs)
        broken: dict[str, str] = {}  # plugin label -> error text
        for ep, dist_name in self._find():
            label = f"{ep.name} ({dist_name})"
            if manager.has_plugin(label):
                continue  # the same distribution seen twice on sys.path
            try:
                manager.register(ep.load(), name=label)
            except Exception as exc:  # one broken plugin must not break the others
                broken[label] = f"{type(exc).__name__}: {exc}"
        items: dict = {}
        owners: dict[str, str] = {}
        for impl in getattr(manager.hook, self._hook_name).get_hookimpls():
            try:
                provided = list(impl.function())
            except Exception as exc:
                broken[impl.plugin_name] = f"{type(exc).__name__}: {exc}"
                continue
            for item in provided:
                if not isinstance(item, self._item_type):
                    broken[impl.plugin_name] = f"returned {item!r}, not a {self._type_name}"
                    continue
                self._check_new(items, owners, item.name, impl.plugin_name)
                items[item.name] = item
                owners[item.name] = impl.plugin_name
        return items, owners, broken

    def _check_new(self, items, owners, name, plugin):
        if name in items:
            raise self._error_type(
                f"{self._what} {name!r} is registered by two plugins: {owners[name]} and "
                f"{plugin}; uninstall one of them"
            )

    def loaded(self):
        """``(items, owners, broken)``, discovering the plugins on first use."""
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._load()
        return self._state

    def reload(self) -> None:
        """Forget what was discovered; the next use scans the entry points again."""
        with self._lock:
            self._state = None

    def add(self, item, plugin_name: str) -> None:
        """Register ``item`` at run time under ``plugin_name`` (strict like discovery)."""
        items, owners, _ = self.loaded()
        self._check_new(items, owners, item.name, plugin_name)
        items[item.name] = item
        owners[item.name] = plugin_name

"""flambeau.utils.hooks: the handle that every ``register_*hook`` method returns.

Examples
--------
>>> import flambeau
>>> x = flambeau.ones(2, requires_grad=True)
>>> h = x.register_hook(lambda g: g * 2)
>>> isinstance(h, flambeau.utils.hooks.RemovableHandle)
True
"""

from __future__ import annotations

import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """A handle whose :meth:`remove` unregisters a hook, as ``torch.utils.hooks``'s.

    The hook is ``hooks_dict[handle.id]``; ``extra_dict`` (a dict or a list of dicts) holds
    other entries under the same id, removed with it. Tensor, node and module hooks all
    return a handle of this class (or a subclass). It is also a context manager that removes
    the hook on exit.

    Parameters
    ----------
    hooks_dict : dict
        Where the hook is registered, under ``handle.id``.
    extra_dict : dict or list of dict, optional
        Other dicts with an entry under ``handle.id`` to remove too.

    Examples
    --------
    >>> from flambeau.utils.hooks import RemovableHandle
    >>> hooks = {}
    >>> h = RemovableHandle(hooks)
    >>> hooks[h.id] = print
    >>> h.remove(); hooks
    {}
    >>> with RemovableHandle(hooks) as h2:
    ...     hooks[h2.id] = print
    ...     len(hooks)
    1
    >>> hooks
    {}
    """

    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = hooks_dict
        self.id = next(RemovableHandle._ids)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(extra_dict)

    @classmethod
    def _skip_past(cls, ids) -> None:
        """Give new handles ids above ``ids``, those of hooks loaded with an unpickled
        object: a new hook would otherwise replace a loaded one under the same id."""
        top = max((i for i in ids if isinstance(i, int)), default=-1)
        if next(RemovableHandle._ids) <= top:  # the counter __init__ reads, from any subclass
            RemovableHandle._ids = itertools.count(top + 1)

    def __setstate__(self, state) -> None:
        if isinstance(state, dict):  # pickled by flambeau
            self.__dict__.update(state)
            return
        # torch's layout, (hooks dict, id[, extra dicts]): a handle kept by a module that
        # torch.save pickled whole (a lazy module's _initialize_hook)
        hooks, self.id = state[0], state[1]
        self.hooks_dict_ref = {} if hooks is None else hooks
        extra = state[2] if len(state) > 2 else None
        self.extra_dict_ref = tuple(d for d in extra or () if d is not None)
        RemovableHandle._skip_past([self.id])

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self.hooks_dict_ref.pop(self.id, None)
        for d in self.extra_dict_ref:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

"""Weak references keyed by identity (PyTorch's ``torch.utils.weak``).

A Tensor's ``==`` is elementwise, so a Tensor cannot be a key of
:class:`weakref.WeakKeyDictionary` (which compares keys with ``==``). These compare keys by
identity instead: a :class:`WeakIdKeyDictionary` maps objects to values without keeping
the objects alive, and forgets an entry when its key is collected.

Examples
--------
>>> import flambeau
>>> from flambeau.utils.weak import WeakTensorKeyDictionary
>>> cache = WeakTensorKeyDictionary()
>>> x = flambeau.ones(2)
>>> cache[x] = "stats of x"
>>> cache[x], len(cache)
('stats of x', 1)
>>> del x
>>> len(cache)
0
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, MutableMapping

__all__ = ["TensorWeakRef", "WeakIdRef", "WeakIdKeyDictionary", "WeakTensorKeyDictionary"]


class WeakIdRef(weakref.ref):
    """A weak reference that hashes and compares by the identity of its referent.

    Two refs are equal when they point to the same live object; once the object is gone a
    ref only equals itself. The hash is the referent's ``id``, kept after it dies so the ref
    can still be removed from a dict.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.weak import WeakIdRef
    >>> x = flambeau.zeros(1)
    >>> WeakIdRef(x) == WeakIdRef(x), WeakIdRef(x) == WeakIdRef(flambeau.zeros(1))
    (True, False)
    >>> WeakIdRef(x)() is x
    True
    """

    __slots__ = ("_id",)

    def __init__(self, key, callback=None):
        super().__init__(key, callback)
        self._id = id(key)

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        if not isinstance(other, WeakIdRef):
            return NotImplemented
        a, b = self(), other()
        if a is None or b is None:
            return self is other
        return a is b

    def __ne__(self, other):  # weakref.ref's own would compare the referents with !=
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq


class WeakIdKeyDictionary(MutableMapping):
    """A mapping whose keys are held weakly and compared by identity.

    An entry disappears when its key is garbage collected. Keys must support weak
    references (Tensors, modules, most objects; not ``int`` or ``list``).

    Parameters
    ----------
    dict : mapping or iterable of pairs, optional
        Initial entries.
    ref_type : type, optional
        The weak reference class used for keys (default :class:`WeakIdRef`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.weak import WeakIdKeyDictionary
    >>> a, b = flambeau.ones(1), flambeau.ones(1)
    >>> d = WeakIdKeyDictionary({a: "a"})
    >>> d[b] = "b"
    >>> d[a], d[b], len(d)
    ('a', 'b', 2)
    >>> del a
    >>> list(d.values())
    ['b']
    """

    def __init__(self, dict=None, ref_type=WeakIdRef):  # noqa: A002 (PyTorch's name)
        self.data = {}
        self.ref_type = ref_type
        self._pending_removals = []
        self._iterating = 0
        self_ref = weakref.ref(self)

        def remove(k):
            owner = self_ref()
            if owner is None:
                return
            if owner._iterating:
                owner._pending_removals.append(k)
            else:
                owner.data.pop(k, None)

        self._remove = remove
        if dict is not None:
            self.update(dict)

    def _commit_removals(self):
        while self._pending_removals:
            self.data.pop(self._pending_removals.pop(), None)

    def __getitem__(self, key):
        return self.data[self.ref_type(key)]

    def __setitem__(self, key, value):
        self.data[self.ref_type(key, self._remove)] = value

    def __delitem__(self, key):
        del self.data[self.ref_type(key)]

    def __contains__(self, key):
        try:
            ref = self.ref_type(key)
        except TypeError:
            return False
        return ref in self.data

    def __len__(self):
        if not self._iterating:  # an iteration in progress owns the removals
            self._commit_removals()
        return sum(1 for r in list(self.data) if r() is not None)

    def items(self):
        """``(key, value)`` pairs of the live keys, one at a time.

        Lazy, as PyTorch's: a key collected during the iteration is skipped, and its entry
        is removed when the iteration ends.
        """
        self._iterating += 1
        try:
            for ref, value in self.data.items():
                key = ref()
                if key is not None:
                    yield key, value
        finally:
            self._iterating -= 1
            if not self._iterating:
                self._commit_removals()

    def keys(self):
        """The live keys, one at a time (see :meth:`items`)."""
        for key, _ in self.items():
            yield key

    __iter__ = keys

    def values(self):
        """The values of the live keys, one at a time (see :meth:`items`)."""
        for _, value in self.items():
            yield value

    def __repr__(self):
        return f"<{type(self).__name__} at {id(self):#x}>"

    def __eq__(self, other):
        # by identity: Mapping's == would hash the keys and compare them with ==
        if not isinstance(other, Mapping):
            return NotImplemented
        return ({id(k): v for k, v in self.items()}
                == {id(k): v for k, v in other.items()})

    def keyrefs(self):
        """The weak references to the keys (some may be dead: call them to check)."""
        return list(self.data)

    def copy(self):
        """A new dictionary with the same (weakly held) keys and values."""
        return type(self)(list(self.items()), ref_type=self.ref_type)

    __copy__ = copy

    def __deepcopy__(self, memo):
        from copy import deepcopy

        return type(self)([(k, deepcopy(v, memo)) for k, v in list(self.items())],
                          ref_type=self.ref_type)

    def __or__(self, other):
        if not isinstance(other, Mapping):
            return NotImplemented
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        if not isinstance(other, Mapping):
            return NotImplemented
        out = type(self)(other, ref_type=self.ref_type)
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self


#: PyTorch's name for :class:`WeakIdKeyDictionary` where the keys are Tensors
WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a Tensor: call it for the Tensor, or None once it is collected.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.weak import TensorWeakRef
    >>> x = flambeau.arange(3)
    >>> ref = TensorWeakRef(x)
    >>> ref() is x
    True
    >>> del x
    >>> ref() is None
    True
    """

    __slots__ = ("ref",)

    def __init__(self, tensor):
        from flambeau._tensor import Tensor

        if not isinstance(tensor, Tensor):
            raise TypeError(f"TensorWeakRef: expected a flambeau.Tensor, got "
                            f"{type(tensor).__name__}")
        self.ref = weakref.ref(tensor)

    def __call__(self):
        return self.ref()

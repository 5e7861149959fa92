"""Nested tuples, lists and dicts of leaves ("pytrees"): flatten, rebuild, match a prefix.

Examples
--------
>>> from flambeau.func._pytree import tree_flatten, tree_unflatten
>>> leaves, spec = tree_flatten({"a": (1, 2), "b": [3]})
>>> leaves, spec
([1, 2, 3], {'a': (*, *), 'b': [*]})
>>> tree_unflatten(spec, [10, 20, 30])
{'a': (10, 20), 'b': [30]}
"""

from __future__ import annotations

__all__ = ["TreeSpec", "tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix"]


class TreeSpec:
    """The shape of a pytree without its leaves; ``kind`` is None for a leaf.

    Examples
    --------
    >>> from flambeau.func._pytree import tree_flatten
    >>> tree_flatten(((1, 2), 3))[1].num_leaves
    3
    """

    __slots__ = ("kind", "keys", "children", "num_leaves")

    def __init__(self, kind=None, keys=None, children=()):
        self.kind = kind  # None (a leaf), tuple, list, dict or a namedtuple class
        self.keys = keys
        self.children = tuple(children)
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)

    def is_leaf(self):
        return self.kind is None

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind is other.kind
                and self.keys == other.keys and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.keys, self.children))

    def __repr__(self):
        if self.kind is None:
            return "*"
        inner = [repr(c) for c in self.children]
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.keys, inner)) + "}"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        return f"{self.kind.__name__}(" + ", ".join(inner) + ")"


_LEAF = TreeSpec()


def _node(tree):
    """``(kind, keys, children)`` of a container, None for a leaf."""
    if isinstance(tree, dict):
        keys = tuple(tree)
        return dict, keys, [tree[k] for k in keys]
    if isinstance(tree, tuple):
        kind = type(tree) if hasattr(tree, "_fields") else tuple  # namedtuples keep their type
        return kind, None, list(tree)
    if isinstance(tree, list):
        return list, None, tree
    return None


def tree_flatten(tree):
    """The leaves of ``tree`` in order and its :class:`TreeSpec`.

    Examples
    --------
    >>> from flambeau.func._pytree import tree_flatten
    >>> tree_flatten([1, (2, 3)])[0]
    [1, 2, 3]
    """
    leaves = []

    def walk(t):
        node = _node(t)
        if node is None:
            leaves.append(t)
            return _LEAF
        kind, keys, children = node
        return TreeSpec(kind, keys, [walk(c) for c in children])

    return leaves, walk(tree)


def tree_unflatten(spec, leaves):
    """Rebuild a pytree of shape ``spec`` from ``leaves``.

    Examples
    --------
    >>> from flambeau.func._pytree import tree_flatten, tree_unflatten
    >>> tree_unflatten(tree_flatten((0, [0]))[1], ["a", "b"])
    ('a', ['b'])
    """
    it = iter(leaves)

    def build(s):
        if s.kind is None:
            return next(it)
        children = [build(c) for c in s.children]
        if s.kind is dict:
            return dict(zip(s.keys, children))
        if s.kind is tuple or s.kind is list:
            return s.kind(children)
        return s.kind(*children)

    return build(spec)


def tree_map(fn, tree):
    """``tree`` with ``fn`` applied to every leaf.

    Examples
    --------
    >>> from flambeau.func._pytree import tree_map
    >>> tree_map(lambda v: v * 2, {"a": [1, 2]})
    {'a': [2, 4]}
    """
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [fn(v) for v in leaves])


def broadcast_prefix(prefix, tree):
    """One value of ``prefix`` per leaf of ``tree``, where ``prefix`` is ``tree`` cut short.

    A leaf of ``prefix`` stands for the whole subtree of ``tree`` at its place. Returns None
    when ``prefix`` does not fit ``tree``.

    Examples
    --------
    >>> from flambeau.func._pytree import broadcast_prefix
    >>> broadcast_prefix((0, None), ([1, 2], 3))
    [0, 0, None]
    >>> broadcast_prefix((0, 1), (1,)) is None
    True
    """
    out = []

    def walk(p, t):
        pnode = _node(p)
        if pnode is None:
            out.extend([p] * tree_flatten(t)[1].num_leaves)
            return True
        tnode = _node(t)
        if tnode is None:
            return False
        pkind, pkeys, pchildren = pnode
        tkind, tkeys, tchildren = tnode
        if pkind is dict or tkind is dict:
            if pkind is not tkind or set(pkeys) != set(tkeys):
                return False
            return all(walk(p[k], t[k]) for k in tkeys)
        if pkind is not tkind or len(pchildren) != len(tchildren):
            return False
        return all(walk(a, b) for a, b in zip(pchildren, tchildren))

    return out if walk(prefix, tree) else None

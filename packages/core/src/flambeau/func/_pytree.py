"""Matching ``vmap``'s ``in_dims``/``out_dims`` to its arguments; the pytrees themselves
are :mod:`flambeau.utils._pytree`'s.

Examples
--------
>>> from flambeau.func._pytree import broadcast_prefix
>>> broadcast_prefix({"x": 0}, {"x": [1, 2]})
[0, 0]
"""

from __future__ import annotations

from flambeau.utils._pytree import tree_flatten, tree_leaves

__all__ = ["broadcast_prefix"]


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
    values, spec = tree_flatten(prefix)
    try:
        subtrees = spec.flatten_up_to(tree)
    except ValueError:
        return None
    return [v for v, sub in zip(values, subtrees) for _ in tree_leaves(sub)]

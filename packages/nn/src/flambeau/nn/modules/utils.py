"""``flambeau.nn.modules.utils``: the argument helpers custom layers import from PyTorch's
``torch.nn.modules.utils`` (``_pair`` and friends). They are private in PyTorch too, but
widely used, so they keep its names and behaviour.

Examples
--------
>>> from flambeau.nn.modules.utils import _pair, _triple
>>> _pair(3), _pair((1, 2)), _triple(1)
((3, 3), (1, 2), (1, 1, 1))
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat

__all__: list = []  # private helpers, kept for code written against PyTorch


def _ntuple(n, name="parse"):
    """A function turning a value into a tuple of ``n`` (an iterable is made a tuple as it is).

    Examples
    --------
    >>> from flambeau.nn.modules.utils import _ntuple
    >>> _ntuple(4)(0), _ntuple(2)([5, 6])
    ((0, 0, 0, 0), (5, 6))
    """

    def parse(x):
        if isinstance(x, Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """``t`` reversed, each element ``n`` times (the padding of ``F.pad`` from per-dim sizes).

    Examples
    --------
    >>> from flambeau.nn.modules.utils import _reverse_repeat_tuple
    >>> _reverse_repeat_tuple((1, 2), 2)
    (2, 2, 1, 1)
    """
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """``out_size`` with None entries taken from the trailing dims of ``defaults`` (adaptive
    pooling's output sizes); an int is returned as it is.

    Examples
    --------
    >>> from flambeau.nn.modules.utils import _list_with_default
    >>> _list_with_default([None, 3], [1, 2, 8, 9])
    [8, 3]
    """
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]

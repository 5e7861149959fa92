"""Reduction operations of the collectives (``torch.distributed.ReduceOp``)."""

from __future__ import annotations

import enum

__all__ = ["ReduceOp"]


class ReduceOp(enum.Enum):
    """How :func:`all_reduce`, :func:`reduce` and :func:`reduce_scatter` combine the ranks' values.

    ``AVG`` is the sum divided by the group size; it needs a floating-point tensor.

    Examples
    --------
    >>> from flambeau.distributed import ReduceOp
    >>> ReduceOp.SUM, ReduceOp["MAX"]
    (<ReduceOp.SUM: 'sum'>, <ReduceOp.MAX: 'max'>)
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

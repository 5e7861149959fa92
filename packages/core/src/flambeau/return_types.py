"""The named tuples of ``(values, indices)`` that ops return, PyTorch's ``torch.return_types``.

Each op has its own type, named after it, so a result prints as what it is and can be told
apart with ``isinstance``; all are tuples (``values, indices = flambeau.max(x, 0)``) with
the fields ``values`` and ``indices``.

Examples
--------
>>> import flambeau
>>> result = flambeau.max(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0)
>>> isinstance(result, flambeau.return_types.max), result.indices
(True, tensor([1, 0]))
"""

from __future__ import annotations

from collections import namedtuple

__all__ = ["cummax", "cummin", "kthvalue", "max", "median", "min", "mode", "nanmedian", "sort",
           "topk"]


def _repr(self):
    # PyTorch's layout: the type's full name, then one field a line
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self,
                                                                    strict=True))
    return f"flambeau.return_types.{type(self).__name__}(\n{fields})"


def _values_indices(op, call, shown):
    cls = namedtuple(op, ["values", "indices"], module=__name__)
    cls.__repr__ = _repr
    cls.__doc__ = f"""``(values, indices)``: what :func:`flambeau.{op}` returns.

    Examples
    --------
    >>> import flambeau
    >>> {call}
    {shown}
    """
    return cls


max = _values_indices(  # noqa: A001 - PyTorch's name
    "max", "flambeau.max(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).values",
    "tensor([3., 5.])")
min = _values_indices(  # noqa: A001
    "min", "flambeau.min(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).indices",
    "tensor([0, 1])")
sort = _values_indices(
    "sort", "flambeau.sort(flambeau.tensor([3.0, 1.0, 2.0])).indices", "tensor([1, 2, 0])")
topk = _values_indices(
    "topk", "flambeau.topk(flambeau.tensor([3.0, 1.0, 2.0]), 2).values", "tensor([3., 2.])")
kthvalue = _values_indices(
    "kthvalue", "flambeau.kthvalue(flambeau.tensor([3.0, 1.0, 2.0]), 2).indices", "tensor(2)")
median = _values_indices(
    "median", "flambeau.median(flambeau.tensor([[3.0, 1.0, 2.0]]), dim=1).values",
    "tensor([2.])")
nanmedian = _values_indices(
    "nanmedian", "flambeau.nanmedian(flambeau.tensor([[3.0, float('nan'), 1.0]]), 1).values",
    "tensor([1.])")
mode = _values_indices(
    "mode", "flambeau.mode(flambeau.tensor([2, 1, 2])).values", "tensor(2)")
cummax = _values_indices(
    "cummax", "flambeau.cummax(flambeau.tensor([1.0, 3.0, 2.0]), 0).indices",
    "tensor([0, 1, 1])")
cummin = _values_indices(
    "cummin", "flambeau.cummin(flambeau.tensor([3.0, 1.0, 2.0]), 0).values",
    "tensor([3., 1., 1.])")

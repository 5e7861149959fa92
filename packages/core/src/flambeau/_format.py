"""``repr`` of tensors in PyTorch's style."""

from __future__ import annotations

import numpy as np

from flambeau import _dtype

_DEFAULT_DTYPES = ("int64", "bool")
_THRESHOLD = 1000


def _float_formatter(values):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absmax = float(np.abs(finite).max())
    nonzero = np.abs(finite[finite != 0])
    absmin = float(nonzero.min()) if nonzero.size else 0.0
    # scientific notation when the magnitudes span more than 3 decades or leave the
    # [1e-4, 1e8] window, integer-valued or not (PyTorch's rule)
    if absmax > 1e8 or (absmin and (absmin < 1e-4 or absmax / absmin > 1e3)):
        return lambda v: _special(v) or f"{v:.4e}"
    if np.all(finite == np.round(finite)):
        return lambda v: _special(v) or f"{v:.0f}."
    return lambda v: _special(v) or f"{v:.4f}"


def _padded(fmt, arr):
    """Right-align every element to the widest one, as PyTorch does."""
    flat = arr.ravel()
    if flat.size > _THRESHOLD:
        flat = np.concatenate([flat[:3], flat[-3:]])
    width = max(len(fmt(v)) for v in flat.astype(np.float64))
    return lambda v: fmt(v).rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_tensor(t) -> str:
    arr = t._host()
    dtype = t.dtype
    if dtype is _dtype.bfloat16 or dtype is _dtype.float16:
        arr = arr.astype(np.float32)
    kind = arr.dtype.kind
    opts = {"separator": ", ", "prefix": "tensor(", "threshold": _THRESHOLD, "edgeitems": 3}
    if kind == "f" and arr.size:
        fmt = _padded(_float_formatter(arr.astype(np.float64).ravel()), arr)
        body = np.array2string(arr, formatter={"float_kind": fmt}, **opts)
    elif kind == "b":
        width = 5 if arr.size and not arr.all() and arr.any() else 0
        body = np.array2string(
            arr, formatter={"bool": lambda v: ("True" if v else "False").rjust(width)}, **opts)
    else:
        body = np.array2string(arr, **opts)
    # PyTorch pads the elision of a summarized row with one more space than NumPy
    body = body.replace(", ...,", ",  ...,")
    suffix = []
    if t._device.type != "cpu":
        suffix.append(f"device='{t._device}'")
    if arr.size == 0 and arr.ndim != 1:
        suffix.append(f"size={tuple(t.shape)}")
    default_float = _dtype.get_default_dtype()
    if dtype.name not in _DEFAULT_DTYPES and dtype is not default_float:
        suffix.append(f"dtype={dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"

"""``repr`` of tensors in PyTorch's style, and :func:`set_printoptions` that drives it.

The layout follows PyTorch's printer: one width for every element of a tensor (chosen from
the elements that are shown), fixed or scientific notation chosen from the spread of the
finite non-zero magnitudes, rows wrapped at ``linewidth``, and tensors with more than
``threshold`` elements summarised to their first and last ``edgeitems`` along every dim.
"""

from __future__ import annotations

import math

import numpy as np

from flambeau import _dtype

__all__ = ["set_printoptions"]

_DEFAULT_DTYPES = ("int64", "bool")

#: profile -> (precision, threshold, edgeitems, linewidth), PyTorch's values
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print (PyTorch's ``torch.set_printoptions``).

    Parameters
    ----------
    precision : int, optional
        Digits after the decimal point of floating-point elements (default 4).
    threshold : int, optional
        Tensors with more elements than this are summarised with ``...`` (default 1000).
    edgeitems : int, optional
        Elements shown at each end of every dim of a summarised tensor (default 3).
    linewidth : int, optional
        Characters per line before a row wraps (default 80).
    profile : {"default", "short", "full"}, optional
        Sets the four options above at once (``"short"``: precision 2, edgeitems 2;
        ``"full"``: never summarise); the other arguments then override it.
    sci_mode : bool, optional
        True or False forces scientific or fixed notation; None (the default, and the value
        every call that does not give it sets) lets the printer choose.

    Raises
    ------
    ValueError
        If ``profile`` is not one of the three names (PyTorch ignores an unknown profile).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_printoptions(precision=2)
    >>> flambeau.tensor([1.12345])
    tensor([1.12])
    >>> flambeau.set_printoptions(threshold=5)
    >>> flambeau.arange(10)
    tensor([0, 1, 2,  ..., 7, 8, 9])
    >>> flambeau.set_printoptions(sci_mode=True)
    >>> flambeau.tensor([1.5])
    tensor([1.50e+00])
    >>> flambeau.set_printoptions(profile="default")
    >>> flambeau.tensor([1.12345])
    tensor([1.1235])
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of "
                             f"{', '.join(map(repr, _PROFILES))}, got {profile!r}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """One width and one notation for all the elements of a tensor."""

    def __init__(self, shown: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = shown.ravel()
        if not floating:
            if flat.size:
                self.width = max(len(str(v)) for v in flat.tolist())
            return
        values = flat.astype(np.float64)
        nonzero = values[np.isfinite(values) & (values != 0)]
        if nonzero.size == 0:
            return
        mags = np.abs(nonzero)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        opt = PRINT_OPTS.sci_mode
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if opt is None else opt
        p = PRINT_OPTS.precision
        if self.sci_mode:
            lengths = (len(f"{v:.{p}e}") for v in nonzero.tolist())
        elif self.int_mode:
            lengths = (len(f"{v:.0f}") + 1 for v in nonzero.tolist())
        else:
            lengths = (len(f"{v:.{p}f}") for v in nonzero.tolist())
        self.width = max(self.width, max(lengths))

    def format(self, value) -> str:
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.width}.{p}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if math.isfinite(value):
                    text += "."
            else:
                text = f"{value:.{p}f}"
        else:
            text = str(value)
        return text.rjust(self.width)


class _ComplexFormatter:
    """PyTorch's complex notation: each part with a formatter of its own, ``re+imj``."""

    def __init__(self, shown: np.ndarray):
        self.real = _Formatter(shown.real, True)
        self.imag = _Formatter(shown.imag, True)
        self.width = self.real.width + self.imag.width + 1  # PyTorch's count, for per-line

    def format(self, value) -> str:
        imag = (self.imag.format(value.imag) + "j").lstrip()
        sign = "" if imag[0] in "+-" else "+"
        return self.real.format(value.real) + sign + imag


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows: the first and last ``edgeitems`` of each dim."""
    k = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if not k:
        # PyTorch's quirk: a 1-d tensor keeps everything (``x[-0:]`` is all of it), any
        # other shows no number at all
        return arr if arr.ndim == 1 else arr[(slice(0, 0),) * arr.ndim]
    for axis, size in enumerate(arr.shape):
        if size > 2 * k:
            keep = np.r_[0:k, size - k:size]
            arr = np.take(arr, keep, axis=axis)
    return arr


def _vector(arr, indent, summarize, fmt) -> str:
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2))))
    k = PRINT_OPTS.edgeitems
    if summarize and not k:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * k:
        items = ([fmt.format(v) for v in arr[:k].tolist()] + [" ..."]
                 + [fmt.format(v) for v in arr[-k:].tolist()])
    else:
        items = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr, indent, summarize, fmt) -> str:
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    k = PRINT_OPTS.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * k:
        rows = ([_nested(arr[i], indent + 1, summarize, fmt) for i in range(k)] + ["..."]
                + [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n - k, n)])
    else:
        rows = [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent) -> str:
    """Append ``, suffix`` items, starting a new line when one would pass ``linewidth``."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor(t) -> str:
    prefix = "tensor("
    indent = len(prefix)
    dtype = t.dtype
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    empty = t._data.size == 0
    if (empty and t._data.ndim != 1) or (not empty and not PRINT_OPTS.edgeitems):
        suffixes.append(f"size={tuple(t.shape)}")
    # an empty tensor has no elements to tell an int64 or bool one by: always say
    default = _dtype.get_default_dtype()
    if dtype is not default and (empty or (dtype.name not in _DEFAULT_DTYPES
                                           and dtype is not default.to_complex())):
        suffixes.append(f"dtype={dtype}")
    if empty:
        body = "[]"
    else:
        arr = t._host()
        if dtype.is_floating_point and dtype.itemsize < 4:  # half, bfloat16, the float8s
            arr = arr.astype(np.float32)
        summarize = arr.size > PRINT_OPTS.threshold
        shown = _summarized(arr) if summarize else arr
        kind = arr.dtype.kind
        fmt = _ComplexFormatter(shown) if kind == "c" else _Formatter(shown, kind == "f")
        body = _nested(arr, indent, summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")  # as torch: CopySlices
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)

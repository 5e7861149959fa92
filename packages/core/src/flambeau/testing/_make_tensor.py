"""``make_tensor``: random test inputs of a given shape, dtype and device (torch.testing's)."""

from __future__ import annotations

import math
import warnings

from flambeau import _creation, _dtype
from flambeau._tensor import Size

__all__ = ["make_tensor"]

_INTEGRAL = (_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64)
_FLOATING = (_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64)
_COMPLEX = (_dtype.complex64, _dtype.complex128)
_FLOATING_OR_COMPLEX = _FLOATING + _COMPLEX


def _default_range(dtype):
    if dtype is _dtype.bool:
        return 0, 2
    if dtype is _dtype.uint8:
        return 0, 10
    if dtype in _INTEGRAL:
        return -9, 10
    return -9, 9


def _checked_range(dtype, low, high):
    """``[low, high)`` for ``dtype``: defaults filled in, clamped to its finite values."""
    default_low, default_high = _default_range(dtype)
    low = default_low if low is None else low
    high = default_high if high is None else high
    if math.isnan(low) or math.isnan(high):
        raise ValueError(f"make_tensor: `low` and `high` cannot be NaN, but got low={low} and "
                         f"high={high}")
    if dtype is _dtype.bool:
        lowest, highest = 0, 2
    elif dtype in _INTEGRAL:
        info = _dtype.iinfo(dtype)
        lowest, highest = info.min, info.max
    else:
        info = _dtype.finfo(dtype)
        lowest, highest = info.min, info.max
    low, high = max(low, lowest), min(high, highest)
    if low > high or (low == high and dtype not in _FLOATING_OR_COMPLEX):
        raise ValueError(f"make_tensor: `low` must be less than `high`, but got {low} >= {high}")
    if low == high:
        warnings.warn("make_tensor: passing `low==high` for a floating or complex dtype is "
                      "deprecated (as "
                      "in torch); use flambeau.full(...) instead", FutureWarning, stacklevel=3)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape``, ``dtype`` and ``device`` with values drawn uniformly from
    ``[low, high)`` (flambeau's generator), for tests (PyTorch's
    ``torch.testing.make_tensor``).

    Without ``low``/``high`` the range is ``[0, 2)`` for bool, ``[0, 10)`` for uint8,
    ``[-9, 10)`` for the other integer dtypes and ``[-9, 9)`` for floating and complex dtypes;
    given bounds are clamped to the dtype's finite values. For a complex dtype the real and
    imaginary parts are each drawn from the range, as in torch.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as ints or as one sequence.
    dtype : flambeau.dtype
        bool, an integer, a floating or a complex dtype.
    device : str or flambeau.device
        Where the tensor lives.
    low, high : number, optional
        The range (``high`` excluded).
    requires_grad : bool
        Make a leaf that requires grad (floating and complex dtypes only).
    noncontiguous : bool
        Return a non-contiguous view (a tensor of fewer than two elements stays contiguous).
    exclude_zero : bool
        Replace zeros by 1 (bool, integers) or by the dtype's smallest normal number (for a
        complex dtype, as a real number, as torch does).
    memory_format : flambeau.memory_format, optional
        The memory format (exclusive with ``noncontiguous``).

    Raises
    ------
    ValueError
        When ``low >= high`` (``low == high`` only warns for floating dtypes, as in torch),
        either is NaN, ``requires_grad`` is asked of a bool or integer dtype, or both
        ``noncontiguous`` and ``memory_format`` are given.
    TypeError
        When ``dtype`` is not a flambeau dtype.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import make_tensor
    >>> _ = flambeau.manual_seed(0)
    >>> t = make_tensor(2, 3, dtype=flambeau.float32, device="cpu", low=-1, high=1)
    >>> t.shape, bool(((t >= -1) & (t < 1)).all())
    (flambeau.Size([2, 3]), True)
    >>> make_tensor((4,), dtype=flambeau.int64, device="cpu", noncontiguous=True).is_contiguous()
    False
    >>> z = make_tensor(100, dtype=flambeau.complex64, device="cpu", low=-1, high=1)
    >>> bool(((z.real >= -1) & (z.real < 1) & (z.imag >= -1) & (z.imag < 1)).all())
    True
    """
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"make_tensor: dtype must be a flambeau dtype, got {dtype!r}")
    if noncontiguous and memory_format is not None:
        raise ValueError(f"make_tensor: the parameters `noncontiguous` and `memory_format` are "
                         f"mutually exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and dtype not in _FLOATING_OR_COMPLEX:
        raise ValueError(f"make_tensor: `requires_grad=True` is not supported for boolean and "
                         f"integral dtypes, but got dtype={dtype}")
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, Size)):
        shape = tuple(shape[0])
    low, high = _checked_range(dtype, low, high)
    if dtype in _FLOATING:
        # drawn in float64 so that the range is uniform whatever the dtype's resolution
        result = _creation.empty(shape, dtype=_dtype.float64, device=device)
        result = result.uniform_(low, high).to(dtype)
    elif dtype in _COMPLEX:  # (real, imag) pairs, each part uniform on the range
        from flambeau._ops.complex import view_as_complex

        parts = _creation.empty(tuple(shape) + (2,), dtype=_dtype.float64, device=device)
        result = view_as_complex(parts.uniform_(low, high).to(dtype.to_real()))
    else:
        result = _creation.randint(int(math.ceil(low)), int(math.ceil(high)), shape,
                                   dtype=dtype, device=device)
    if exclude_zero:
        tiny = 1 if dtype not in _FLOATING_OR_COMPLEX else _dtype.finfo(dtype).tiny
        result = result.masked_fill(result == 0, tiny)
    if noncontiguous and result.numel() > 1:
        # every other element of a tensor twice as long in its last dimension
        result = result.repeat_interleave(2, dim=-1)[..., ::2]
    elif memory_format is not None:
        result = result.contiguous(memory_format=memory_format)
    return result.requires_grad_(requires_grad)

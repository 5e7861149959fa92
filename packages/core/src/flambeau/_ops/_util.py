"""Helpers shared by the op modules: operand promotion, dims, wrapping arrays."""

from __future__ import annotations

import functools
import inspect
import numbers
import sys

import ml_dtypes
import numpy as np

from flambeau import _dtype, _keywords
from flambeau._ops import _deprecated
from flambeau._tensor import Tensor, _wrap_dim

FLOAT_NP = frozenset(np.dtype(d) for d in (np.float16, ml_dtypes.bfloat16, np.float32, np.float64))
#: the half-precision array dtypes, which several ops compute in float32 and round once
LOW_PRECISION_NP = frozenset({np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)})
#: the float8 array dtypes: torch computes their arithmetic in float32 and rounds the result
#: once with its own conversion (float8_e4m3fn saturates at 448 where ml_dtypes gives NaN)
FLOAT8_NP = _dtype.CAST_FIXED
#: the dtypes whose arithmetic (``+ - * /``) with a number :func:`half_ufunc` computes
OPMATH_NP = LOW_PRECISION_NP | FLOAT8_NP

__all__ = ["Tensor", "wrap_dim", "FLOAT_NP"]

wrap_dim = _wrap_dim


def is_float(t) -> bool:
    return t._data.dtype in FLOAT_NP


def to_float(t):
    """``t`` itself if floating point or complex, else cast to the default float dtype
    (int → float ops)."""
    if t._data.dtype in FLOAT_NP or t._data.dtype.kind == "c":
        return t
    return t.to(_dtype.get_default_dtype())


def scalar_value(x):
    """A Python number from a Python or NumPy scalar (or None if ``x`` is not one)."""
    if isinstance(x, (bool, int, float)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, numbers.Number):
        return x
    return None


def need_tensor(op, value, arg="input", pos=1):
    """Raise PyTorch's TypeError when argument ``arg`` of ``op`` is not a tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(value).__name__}")


def check_same_device(op, a, b):
    if a._device is not b._device:
        # zero-dim CPU tensors mix with any device, as in PyTorch
        if b._data.ndim == 0 and b._device.type == "cpu":
            return a, b.to(a._device)
        if a._data.ndim == 0 and a._device.type == "cpu":
            return a.to(b._device), b
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found at least two "
            f"devices, {a._device} and {b._device}"
        )
    return a, b


def promote_float(op, a, b):
    """:func:`promote`, then the default float dtype where that gives integers or bools.

    For the ops whose results are floating point (``atan2``, ``xlogy``, ``copysign``...): as
    in PyTorch the operands are promoted together first, so ``atan2(int_tensor,
    half_tensor)`` is float16 and ``xlogy(0-d float64 tensor, int_tensor)`` float64 (the
    default float dtype is for integers alone). A Python number keeps its value (-2 with a
    uint8 tensor is -2.0, not 254).
    """
    pa, pb = promote(op, a, b)
    t = pa if isinstance(pa, Tensor) else pb
    if t._data.dtype not in FLOAT_NP and t._data.dtype.kind != "c":
        pa = to_float(pa) if isinstance(pa, Tensor) else float(scalar_value(a))
        pb = to_float(pb) if isinstance(pb, Tensor) else float(scalar_value(b))
    return pa, pb


def scalar_tensor(value, like):
    """A 0-d tensor holding the number ``value`` in ``like``'s dtype and device."""
    xp = like._device._xp
    return make(xp.asarray(value, dtype=like._data.dtype), like)


#: ops whose forwards compute a float16/bfloat16 tensor with a Python float in float32
#: (:func:`half_ufunc`), so :func:`promote` leaves the number unrounded for them
_OPMATH_OPS = frozenset({"add", "sub", "mul", "div"})


def promote(op, a, b):
    """Cast the operands of a binary op to PyTorch's result dtype.

    One of ``a``/``b`` is a Tensor; the other may be a Python scalar, which stays a scalar
    when it does not change the result's category (NumPy then keeps the tensor's dtype).
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._device is not b._device:
                a, b = check_same_device(op, a, b)
            if a._data.dtype == b._data.dtype:
                return a, b
            rt = _dtype.result_type(a, b)
            return (a if a.dtype is rt else a.to(rt)), (b if b.dtype is rt else b.to(rt))
        v = _scalar_or_tensor(op, a, b)
        if isinstance(v, Tensor):
            return promote(op, a, v)
        a = cast_for_scalar(a, v)
        if op in _OPMATH_OPS and a._data.dtype in OPMATH_NP:
            return a, float(v)  # see half_ufunc
        return a, fit_scalar(a, v)
    if isinstance(b, Tensor):
        v = _scalar_or_tensor(op, b, a)
        if isinstance(v, Tensor):
            return promote(op, v, b)
        b = cast_for_scalar(b, v)
        if op in _OPMATH_OPS and b._data.dtype in OPMATH_NP:
            return float(v), b
        return fit_scalar(b, v), b
    raise TypeError(
        f"{op}: expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}"
    )


def _scalar_or_tensor(op, t, s):
    v = scalar_value(s)
    if v is not None:
        return v
    if isinstance(s, (list, tuple, np.ndarray)):
        from flambeau._creation import as_tensor

        return as_tensor(s, device=t._device)
    raise TypeError(
        f"{op}: unsupported operand type {type(s).__name__} (expected a Tensor or a number)"
    )


def cast_for_scalar(t, v):
    """Cast tensor ``t`` when scalar ``v`` is of a higher category (int tensor * 2.5)."""
    kind = t._data.dtype.kind
    if v.__class__ is complex and kind != "c":
        return t.to(_dtype.result_type(t, v))
    if kind == "b":
        if isinstance(v, bool):
            return t
        if isinstance(v, int):
            return t.to(_dtype.int64)
        return t.to(_dtype.get_default_dtype())
    if kind in "iu" and not isinstance(v, int):
        return t.to(_dtype.get_default_dtype())
    return t


_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_INT_RANGE = {np.dtype(d): (int(np.iinfo(d).min), int(np.iinfo(d).max))
              for d in (np.uint8, np.int8, np.int16, np.int32, np.int64, np.uint16,
                        np.uint32, np.uint64)}


def float8_in_place_operand(t, other):
    """``other``'s array (or ``other``, a number) for an in-place op writing into the float8
    tensor ``t``, after torch's promotion check: a float8 promotes with no other dtype, so a
    dimensioned tensor of another dtype is refused (the out-of-place ops check it in
    :func:`promote`; the in-place ones compute float8s through :func:`half_ufunc`, which
    takes any array).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.ones(2).to(flambeau.float8_e4m3fn)
    >>> float8_in_place_operand(t, 2.0)
    2.0
    >>> float8_in_place_operand(t, flambeau.ones(2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: Promotion for Float8 Types is not supported, attempted to promote Float8...
    """
    if isinstance(other, Tensor):
        if other.dtype is not t.dtype:
            _dtype.result_type(t, other)
        return other._data
    return other


def half_ufunc(xp, name, arr, number, out=None, reverse=False):
    """``xp.<name>(arr, number)`` (``xp.<name>(number, arr)`` when ``reverse``) for a
    float16/bfloat16 ``arr`` and a Python number, computed in float32 and rounded once to
    ``arr``'s dtype, as PyTorch's half kernels do. A float8 ``arr`` (``number`` a number or
    an array of its dtype) is computed so too, and rounded as torch's float8 conversion.

    NumPy (and CuPy) round the number to the array's dtype first: ``70000`` is ``inf`` in
    float16, so ``x / 70000`` gave 0, and ``1e-8`` is 0, so ``x * 1e-8`` did. ``out`` (an
    array of ``arr``'s dtype, possibly ``arr`` itself) receives the result.

    Examples
    --------
    >>> import ml_dtypes, numpy as np
    >>> half_ufunc(np, "true_divide", np.array([1000.0], np.float16), 70000.0)
    array([0.01428], dtype=float16)
    >>> half_ufunc(np, "multiply", np.array([416.0], ml_dtypes.float8_e4m3fn), 1.125)
    array([448], dtype='float8_e4m3fn')
    """
    wide = arr.astype(xp.float32)
    if getattr(number, "dtype", None) in FLOAT8_NP:
        number = number.astype(xp.float32)
    result = getattr(xp, name)(number, wide) if reverse else getattr(xp, name)(wide, number)
    if arr.dtype in FLOAT8_NP:  # torch's rounding (float8_e4m3fn saturates), not ml_dtypes'
        result = _dtype.cast(result, arr.dtype)
        if out is None:
            return result
    elif out is None:
        return result.astype(arr.dtype)
    out[...] = result
    return out


def fit_scalar(t, v):
    """Scalar ``v`` made to keep tensor ``t``'s dtype in NumPy, as PyTorch keeps it.

    NumPy computes bfloat16 with a Python float in float32, and refuses Python ints outside
    the tensor's integer range, which PyTorch wraps around (``uint8 tensor - 3``).
    """
    dt = t._data.dtype
    if dt == _BFLOAT16:
        return dt.type(v) if isinstance(v, float) else v
    return wrapped_int(v, dt)


#: the C++ type names of torch's "value cannot be converted to type int without overflow"
_C_INT_NAMES = {np.dtype(np.int32): "int"}


def int_overflow(dt, name=None):
    """torch's RuntimeError for a number that the integer NumPy dtype ``dt`` cannot hold;
    ``name`` is the type's name in the message (fills name the C++ type, ``uint8_t``)."""
    name = name or _C_INT_NAMES.get(dt, f"{dt.name}_t")
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def int_bounds(dt, number):
    """The range of numbers of the class of ``number`` (int or float) that torch converts to
    the integer NumPy dtype ``dt``: an int may also be a negative down to ``-max`` for an
    unsigned dtype (it wraps: ``-1`` is 255 in uint8), a float may not."""
    lo, hi = _INT_RANGE[dt]
    return (-hi if dt.kind == "u" and number is int else lo), hi


def fill_int(v, dt):
    """``v`` as a fill value (``full``, ``fill_``, ``x[i] = v``) of the NumPy dtype ``dt``,
    checked as PyTorch checks it: a Python number must lie in an integer ``dt``'s range
    (NaN never does), except that an unsigned dtype also takes the ints down to ``-max``
    (wrapped: ``-1`` fills uint8 with 255).

    Raises
    ------
    RuntimeError
        For a number out of that range (PyTorch's "value cannot be converted" error).

    Examples
    --------
    >>> import numpy as np
    >>> int(fill_int(-1, np.dtype(np.uint8))), fill_int(2.5, np.dtype(np.int8))
    (255, 2.5)
    >>> fill_int(300.0, np.dtype(np.uint8))
    Traceback (most recent call last):
    ...
    RuntimeError: value cannot be converted to type uint8_t without overflow
    """
    if dt in _dtype.CAST_FIXED:  # torch's float8 range and rounding
        return _dtype.cast_number(v, dt, checked=True)
    cls = v.__class__
    if cls is not int and cls is not float:
        return v
    bounds = _INT_RANGE.get(dt)
    if bounds is None or bounds[0] <= v <= bounds[1]:  # x[i] = v runs this: in range, as is
        return v
    if cls is int:
        check_scalar_int(v)
    lo, hi = int_bounds(dt, cls)
    if not lo <= v <= hi:  # False for NaN too
        raise int_overflow(dt)
    return wrapped_int(v, dt)


def check_scalar_int(v):
    """torch's OverflowError for a Python int that no C++ scalar holds (an int64 or a
    uint64): it is checked before the dtype's range.

    Examples
    --------
    >>> check_scalar_int(2**64)
    Traceback (most recent call last):
    ...
    OverflowError: int too big to convert
    """
    if v >= 1 << 64:
        raise OverflowError("int too big to convert")
    if v < -(1 << 63):
        raise OverflowError("can't convert negative int to unsigned")


def wrapped_int(v, dt):
    """``v``, or where it is a Python int outside the range of the integer NumPy dtype
    ``dt``, its value wrapped into that range (as PyTorch casts: ``-1`` is 255 in uint8).

    Examples
    --------
    >>> import numpy as np
    >>> int(wrapped_int(-1, np.dtype(np.uint8))), wrapped_int(3, np.dtype(np.uint8))
    (255, 3)
    """
    bounds = _INT_RANGE.get(dt)
    if bounds is not None and v.__class__ is int and not bounds[0] <= v <= bounds[1]:
        return np.array(v).astype(dt)[()]
    return v


def as_strided_array(xp, a, shape, strides):
    """``xp.lib.stride_tricks.as_strided(a, shape, strides)``, through the bytes for a
    one-byte float (NumPy can't rebuild ml_dtypes' float8_e5m2, typestr '<f1', from the array
    interface that as_strided goes through)."""
    if a.dtype.itemsize == 1 and a.dtype.kind not in "biu":
        return xp.lib.stride_tricks.as_strided(a.view(xp.uint8), shape, strides).view(a.dtype)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def make(array, like):
    """Wrap ``array`` as a tensor on ``like``'s device."""
    return Tensor._make(array, like._device)


def dims_arg(dim, ndim, op):
    """Normalize ``dim`` (None, int or sequence) to a tuple of non-negative axes (or None)."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        axes = tuple(_wrap_dim(d, ndim, op) for d in dim)
        if ndim == 0:
            return ()  # a 0-d tensor accepts dim 0 / -1; there is no array axis to reduce
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return axes
    axis = _wrap_dim(dim, ndim, op)
    return (axis,) if ndim else ()


def write_out(result, out, op=None, *, exact=False):
    """``result``, or ``out`` holding it for an op called with ``out=`` (a tuple of tensors
    for ops with several results). As in PyTorch, an ``out`` of another shape is resized, a
    result is cast to its out's dtype where it can be without loss of kind (float into
    float64, not into int64), and ``out=`` is refused while autograd would record.

    Parameters
    ----------
    result : Tensor or tuple of Tensor
        What the op computed; a named tuple's type is kept: the op returns one of the same
        type holding the given tensors.
    out : Tensor, tuple of Tensor or None
    op : str, optional
        The name errors give (by default the calling function's).
    exact : bool or tuple of bool
        Each out (or, one flag per result, those flagged) must have its result's dtype: the
        ops that PyTorch does not cast for (``take``, the scatters, ``median``, ``qr``...).

    Raises
    ------
    TypeError
        For an ``out`` that is not a tensor (a tuple of tensors for several results), or a
        tuple of the wrong length.
    RuntimeError
        For an out whose dtype the result cannot be cast to (``exact``: that is not the
        result's), or when the result or an out requires grad while grad mode is on.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops._util import write_out
    >>> out = flambeau.empty(0)
    >>> write_out(flambeau.ones(2), out) is out, out
    (True, tensor([1., 1.]))
    >>> write_out(flambeau.ones(2), flambeau.empty(0, dtype=flambeau.int64), op="take")
    Traceback (most recent call last):
    ...
    RuntimeError: take(): result type flambeau.float32 can't be cast to the desired output ...
    >>> write_out(flambeau.ones(2), flambeau.empty(0, dtype=flambeau.float64), op="take",
    ...           exact=True)
    Traceback (most recent call last):
    ...
    RuntimeError: take(): expected out tensor to have dtype flambeau.float32, but got ...
    """
    if out is None:
        return result
    if op is None:
        op = sys._getframe(1).f_code.co_name  # the public function called with out=
    many = isinstance(result, tuple)
    if many and (isinstance(out, Tensor) or not isinstance(out, (tuple, list))):
        raise TypeError(f"{op}(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")
    if not many and not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    results = result if many else (result,)
    outs = tuple(out) if many else (out,)
    if len(outs) != len(results):
        raise TypeError(f"{op}(): out must be a tuple of {len(results)} tensors, got "
                        f"{len(outs)}")
    if many and not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{op}(): argument 'out' must be tuple of Tensors, got "
                        f"({', '.join(type(o).__name__ for o in outs)})")
    from flambeau._inplace import _check_cast

    refuse_grad(op, results + outs)
    # every check before the first write: a refused out= leaves all of them unchanged
    if exact:
        for o, r, same in zip(outs, results, exact if many and exact is not True else
                              (True,) * len(outs)):
            if same and o._data.dtype != r._data.dtype:
                raise RuntimeError(f"{op}(): expected out tensor to have dtype {r.dtype}, but "
                                   f"got {o.dtype} instead")
    cast = [_check_cast(o, r, f"{op}()") for o, r in zip(outs, results)]
    for o, r in zip(outs, cast):
        o.copy_(r) if o.shape == r.shape else o.set_(r)
    if many and hasattr(result, "_fields"):
        return result._make(outs)  # (values, indices), (Q, R)...: the outs under the names
    return out


def refuse_grad(op, tensors):
    """PyTorch's error for an op called with ``out=`` while one of ``tensors`` (its inputs,
    results or outs) requires grad and grad mode is on: a write into ``out`` cannot be
    recorded.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops._util import refuse_grad
    >>> with flambeau.no_grad():
    ...     refuse_grad("add", [flambeau.ones(1, requires_grad=True)])  # allowed
    """
    from flambeau.autograd._grad_mode import state

    if state.grad_enabled and any(t.requires_grad for t in tensors):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )


def with_out(fn=None, *, exact=False):
    """Give ``fn`` PyTorch's keyword ``out=``: its result lands in ``out`` (see
    :func:`write_out`, whose ``exact`` is this one's: ``@with_out(exact=True)`` for the ops
    whose out must have the result's dtype), for ops whose code has no use for the keyword
    itself.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops._util import with_out
    >>> double = with_out(lambda input: input * 2)
    >>> out = flambeau.empty(2)
    >>> double(flambeau.ones(2), out=out) is out, out
    (True, tensor([2., 2.]))
    >>> triple = with_out(exact=True)(lambda input: input * 3)
    >>> try:
    ...     triple(flambeau.ones(2), out=flambeau.empty(2, dtype=flambeau.float64))
    ... except RuntimeError as e:
    ...     print(e)
    <lambda>(): expected out tensor to have dtype flambeau.float32, but got flambeau.float64 instead
    """
    if fn is None:
        return functools.partial(with_out, exact=exact)

    @_keywords.retrying
    def call(*args, out=None, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except TypeError:  # torch's keyword aliases (axis=, keepdims=) or a deprecated order
            moved = _deprecated.reordered(fn.__name__, args, kwargs)
            if moved is None:
                result = _keywords.retry(fn, args, kwargs)
            else:
                result = fn(*moved[0], **moved[1])
        if out is None:
            return result
        return write_out(result, out, op=fn.__name__, exact=exact)

    return dressed_as(fn, call)


def dressed_as(fn, call):
    """``call`` presented as ``fn`` with a keyword-only ``out=None`` added to its signature
    (what ``help()`` and the API reference show)."""
    signature = inspect.signature(fn)
    out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
    call = functools.wraps(fn)(call)
    call.__signature__ = signature.replace(parameters=[*signature.parameters.values(), out])
    return call

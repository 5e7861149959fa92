"""dtypes and PyTorch's type-promotion rules.

A :class:`dtype` wraps the NumPy dtype that backends store (CuPy uses the same dtype objects).
Promotion follows PyTorch, not NumPy: operands are ranked by *category* (bool < integer <
floating < complex) and by *kind of operand* (tensors with dimensions > zero-dim tensors >
Python scalars). A lower kind of operand only changes the result when it is of a higher
category; a complex one then keeps a floating tensor's precision (float64 * 1j is
complex128).

NumPy has no complex32, so where PyTorch would give ``complex32`` (a half-precision tensor
times ``1j``) flambeau gives complex64.
"""

from __future__ import annotations

import builtins as _builtins
import math

import ml_dtypes
import numpy as np

__all__ = [
    "dtype", "float16", "half", "bfloat16", "float32", "float", "float64", "double",
    "complex64", "cfloat", "complex128", "cdouble", "int8", "int16", "int32", "int64", "long",
    "int", "short", "uint8", "uint16", "uint32", "uint64", "bool", "float8_e4m3fn",
    "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
    "is_floating_point", "finfo", "iinfo",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """The data type of a tensor, such as ``flambeau.float32``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, dtype=flambeau.int64).dtype
    flambeau.int64
    >>> flambeau.float32.is_floating_point, flambeau.float32.is_complex, flambeau.float32.itemsize
    (True, False, 4)
    >>> flambeau.complex64.is_complex, flambeau.complex64.to_real(), flambeau.float64.to_complex()
    (True, flambeau.float32, flambeau.complex128)

    uint16, uint32 and uint64 are torch's unsigned types of limited support: they are created,
    cast, compared, indexed, viewed and saved, and promote only with floating-point dtypes.
    torch 2.13 has no CPU kernel for most of their ops (``+``, ``<``, ``max``...): flambeau
    computes those with NumPy.

    >>> u = flambeau.tensor([1, 2**16 - 1], dtype=flambeau.uint16)
    >>> u.dtype.is_signed, (u * 0.5).dtype, u.view(flambeau.int16)
    (False, flambeau.float32, tensor([ 1, -1], dtype=flambeau.int16))

    A Python number that an integer dtype cannot hold is refused where torch refuses it:
    by ``tensor``, ``full``, ``fill_``, ``masked_fill``, ``x[i] = v`` and ``clamp`` bounds
    (a float out of range, NaN and the infinities too; an unsigned dtype takes the ints down
    to ``-max``, wrapped), and ``randint`` bounds. Casts of tensors and arrays, and
    arithmetic with a Python int, wrap around as in torch.

    >>> flambeau.tensor([-1, 2], dtype=flambeau.uint8), flambeau.tensor([300]).to(flambeau.uint8)
    (tensor([255,   2], dtype=flambeau.uint8), tensor([44], dtype=flambeau.uint8))
    >>> flambeau.tensor([300], dtype=flambeau.uint8)
    Traceback (most recent call last):
        ...
    RuntimeError: value cannot be converted to type uint8 without overflow

    The float8 dtypes (``float8_e4m3fn``, ``float8_e5m2``, their ``fnuz`` variants and
    ``float8_e8m0fnu``) store and cast: casts round as torch's (float8_e4m3fn saturates at
    448), and they promote with no other dtype. ``+ - * /`` compute in float32 and round
    once as torch's ``*`` does (float8_e4m3fn saturates); the unary math ops (``exp``,
    ``neg``, ``round``...) are refused as torch refuses them (``abs`` is computed); other ops
    torch 2.13 refuses on them (``sum``, ``max``, ``<``, ``matmul``...) flambeau computes in
    ml_dtypes' arithmetic (an overflow of float8_e4m3fn gives NaN there, not 448).

    >>> e4m3 = flambeau.tensor([0.5, 1000.0]).to(flambeau.float8_e4m3fn)
    >>> e4m3.tolist(), (e4m3 * 2).tolist(), (e4m3 / 0.25).dtype
    ([0.5, 448.0], [1.0, 448.0], flambeau.float8_e4m3fn)
    """

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_complex",
                 "is_signed", "_rank")

    def __init__(self, name, np_dtype, category, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = not name.startswith("uint") and name not in ("bool", "float8_e8m0fnu")
        self._rank = rank

    def __repr__(self):
        return f"flambeau.{self.name}"

    def __reduce__(self):
        return self.name

    def to_complex(self):
        """The complex dtype whose parts are this floating dtype (float64 → complex128).

        Half-precision dtypes give complex64: NumPy has no complex32. A complex dtype
        returns itself.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.float32.to_complex(), flambeau.complex128.to_complex()
        (flambeau.complex64, flambeau.complex128)
        """
        if self.is_complex:
            return self
        if not self.is_floating_point:
            raise TypeError(f"to_complex: {self} is not a floating-point dtype")
        if self in _FLOAT8:
            raise RuntimeError("Unknown Complex ScalarType for "
                               f"{_SCALAR_TYPE_NAMES[self.name]}")
        return complex128 if self is float64 else complex64

    def to_real(self):
        """The real dtype of a complex dtype's parts (complex64 → float32); a real dtype
        returns itself.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.complex128.to_real(), flambeau.int64.to_real()
        (flambeau.float64, flambeau.int64)
        """
        if self.is_complex:
            return float64 if self is complex128 else float32
        return self


bool = dtype("bool", np.bool_, _BOOL, 0)  # noqa: A001 - PyTorch's name
uint8 = dtype("uint8", np.uint8, _INT, 1)
int8 = dtype("int8", np.int8, _INT, 2)
int16 = dtype("int16", np.int16, _INT, 3)
int32 = dtype("int32", np.int32, _INT, 4)
int64 = dtype("int64", np.int64, _INT, 5)
float16 = dtype("float16", np.float16, _FLOAT, 6)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT, 6)
float32 = dtype("float32", np.float32, _FLOAT, 7)
float64 = dtype("float64", np.float64, _FLOAT, 8)
complex64 = dtype("complex64", np.complex64, _COMPLEX, 9)
complex128 = dtype("complex128", np.complex128, _COMPLEX, 10)
# torch's "limited support" unsigned types: they promote only with floating dtypes
uint16 = dtype("uint16", np.uint16, _INT, 3)
uint32 = dtype("uint32", np.uint32, _INT, 4)
uint64 = dtype("uint64", np.uint64, _INT, 5)
# torch's 8-bit floats: cast, created, viewed and saved; they promote with nothing else
float8_e4m3fn = dtype("float8_e4m3fn", ml_dtypes.float8_e4m3fn, _FLOAT, 6)
float8_e5m2 = dtype("float8_e5m2", ml_dtypes.float8_e5m2, _FLOAT, 6)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz, _FLOAT, 6)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz, _FLOAT, 6)
float8_e8m0fnu = dtype("float8_e8m0fnu", ml_dtypes.float8_e8m0fnu, _FLOAT, 6)
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128, uint16, uint32, uint64, float8_e4m3fn, float8_e5m2,
              float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
#: torch's ScalarType names, which its messages use ("not implemented for 'UInt16'")
_SCALAR_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                      "int32": "Int", "int64": "Long", "float16": "Half", "bfloat16": "BFloat16",
                      "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
                      "complex128": "ComplexDouble", "uint16": "UInt16", "uint32": "UInt32",
                      "uint64": "UInt64", "float8_e4m3fn": "Float8_e4m3fn",
                      "float8_e5m2": "Float8_e5m2", "float8_e4m3fnuz": "Float8_e4m3fnuz",
                      "float8_e5m2fnuz": "Float8_e5m2fnuz", "float8_e8m0fnu": "Float8_e8m0fnu"}
_BARE_UNSIGNED = frozenset({uint16, uint32, uint64})
_FLOAT8 = frozenset({float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz,
                     float8_e8m0fnu})
#: the dtypes promote_types refuses to promote with most others
_PROMOTES_WITH_FEW = _BARE_UNSIGNED | _FLOAT8
_E4M3FN, _E5M2, _E8M0 = float8_e4m3fn.np, float8_e5m2.np, float8_e8m0fnu.np
#: the NumPy dtypes whose casts :func:`cast` makes: ml_dtypes rounds some otherwise than
#: torch, and casts between two float8s not at all
CAST_FIXED = frozenset(d.np for d in _FLOAT8)


def cast(arr, np_dtype):
    """``arr.astype(np_dtype)`` where ``arr`` or ``np_dtype`` is a float8, rounding as torch:
    float8_e4m3fn saturates at +-448 (infinities included; ml_dtypes gives NaN), a NaN is
    float8_e5m2's 0x7f (ml_dtypes writes 0x7e), float8_e8m0fnu, a bare power of two, takes
    magnitudes (and its smallest value for zero), and one float8 goes to another through
    float32."""
    np_dtype = np.dtype(np_dtype)
    if arr.dtype == np_dtype:
        return arr.copy()
    if np_dtype != _E4M3FN and np_dtype != _E8M0:
        wide = arr.astype(np.float32) if arr.dtype in CAST_FIXED and np_dtype in CAST_FIXED \
            else arr
        out = wide.astype(np_dtype)
        if np_dtype == _E5M2 and wide.dtype.kind == "f":
            # torch's float8_e5m2 NaN is 0x7f (0xff negative), ml_dtypes' 0x7e
            bits = out.view(np.uint8)
            bits[out != out] |= 1
        return out
    flat = arr.astype(np.float32).reshape(-1)  # 1-d: abs() of a 0-d array is a scalar
    if np_dtype == _E4M3FN:
        flat = flat.clip(-448.0, 448.0)
    else:
        flat = abs(flat)
        flat[flat == 0] = 2.0 ** -127
    return flat.astype(np_dtype).reshape(arr.shape)


def refuse_float8(kernel, d):
    """torch's NotImplementedError for ``kernel`` where ``d`` is a float8 dtype: torch has
    few kernels for them (no sampler, no ``arange``...)."""
    if d in _FLOAT8:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_SCALAR_TYPE_NAMES[d.name]}'")


def cast_number(v, np_dtype, checked=False):
    """A Python number written into an array of ``np_dtype``: rounded by :func:`cast` for the
    float8s (NumPy would round through ml_dtypes), else unchanged. ``checked`` (fills, as
    torch's ``fill_``/``full``) refuses a number outside the float8's range, an infinity
    where it has none."""
    if np_dtype not in CAST_FIXED or v.__class__ not in (_builtins.int, _builtins.float):
        return v
    if checked and v != 0:  # 0 is zero_()'s and zeros_like's (float8_e8m0fnu: its minimum)
        d = _FROM_NUMPY[np_dtype]
        info = finfo(d)
        if (not info.min <= v <= info.max and not math.isnan(v)
                and not (math.isinf(v) and d is float8_e5m2)):
            raise RuntimeError(f"value cannot be converted to type c10::"
                               f"{_SCALAR_TYPE_NAMES[d.name]} without overflow")
    return cast(np.asarray(v, np.float64), np_dtype)[()]
_FROM_NUMPY = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}

_default_float = float32


def from_numpy_dtype(np_dtype) -> dtype:
    """The flambeau dtype of a NumPy dtype (raises TypeError for unsupported ones)."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert NumPy dtype {np_dtype} to a flambeau dtype; supported: "
            + ", ".join(d.name for d in ALL_DTYPES)
        ) from None


def to_dtype(value) -> dtype:
    """Accept a flambeau dtype, a NumPy dtype, a Python type or a name."""
    if isinstance(value, dtype):
        return value
    if value is _builtins.float:
        return _default_float
    if value is _builtins.int:
        return int64
    if value is _builtins.bool:
        return bool
    if value is _builtins.complex:
        return _default_float.to_complex()
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    return from_numpy_dtype(value)


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors created from Python floats (float32 by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_default_dtype()
    flambeau.float32
    """
    return _default_float


def set_default_dtype(d) -> None:
    """Set the default floating-point dtype (float32 or float64, as PyTorch allows).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.set_default_dtype(flambeau.float64)
    >>> flambeau.tensor([1.0]).dtype
    flambeau.float64
    >>> flambeau.set_default_dtype(flambeau.float32)
    """
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d}")
    _default_float = d


def is_floating_point(input) -> _builtins.bool:
    """True if ``input`` is a tensor of a floating-point dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_floating_point(flambeau.ones(1)), flambeau.is_floating_point(flambeau.arange(2))
    (True, False)
    """
    return input.dtype.is_floating_point


def promote_types(type1, type2) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to, as ``torch.promote_types``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.promote_types(flambeau.int32, flambeau.float16)
    flambeau.float16
    >>> flambeau.promote_types(flambeau.uint8, flambeau.int8)
    flambeau.int16

    uint16, uint32 and uint64 promote only with floating-point dtypes, as in torch:

    >>> flambeau.promote_types(flambeau.uint32, flambeau.float16)
    flambeau.float16
    >>> flambeau.promote_types(flambeau.uint32, flambeau.int64)
    Traceback (most recent call last):
        ...
    RuntimeError: Promotion for uint16, uint32, uint64 types is not supported, attempted ...
    """
    a, b = to_dtype(type1), to_dtype(type2)
    if a is b:
        return a
    if a in _FLOAT8 or b in _FLOAT8:
        raise RuntimeError("Promotion for Float8 Types is not supported, attempted to promote "
                           f"{_SCALAR_TYPE_NAMES[a.name]} and {_SCALAR_TYPE_NAMES[b.name]}")
    if a in _BARE_UNSIGNED or b in _BARE_UNSIGNED:
        if a.is_floating_point or b.is_floating_point:
            return a if a.is_floating_point else b
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {_SCALAR_TYPE_NAMES[a.name]} and "
                           f"{_SCALAR_TYPE_NAMES[b.name]}")
    if a.is_complex or b.is_complex:  # the complex type of the two parts' promotion
        return promote_types(a.to_real(), b.to_real()).to_complex()
    if {a, b} == {float16, bfloat16}:
        return float32
    if {a, b} == {uint8, int8}:
        return int16
    return a if a._rank >= b._rank else b


def _scalar_category(value):
    if isinstance(value, _builtins.bool):
        return _BOOL
    if isinstance(value, _builtins.int):
        return _INT
    if isinstance(value, _builtins.complex):
        return _COMPLEX
    return _FLOAT


def _category_default(category):
    return (bool, int64, _default_float, _default_float.to_complex())[category]


def _combine(higher, lower):
    """The result of a stronger kind of operand (``higher``) meeting a weaker one: the
    weaker only counts when it is of a higher category, and a complex one keeps a floating
    ``higher``'s precision."""
    if lower is None:
        return higher
    if higher is None:
        return lower
    if lower.category <= higher.category:
        return higher
    if lower.is_complex:  # a float8's to_complex() is refused, as torch's
        return higher.to_complex() if higher.is_floating_point else lower
    if higher in _PROMOTES_WITH_FEW or lower in _PROMOTES_WITH_FEW:
        promote_types(higher, lower)  # torch's refusal (a bool tensor and a 0-d uint16 one)
    return lower


def result_type(*operands) -> dtype:
    """The dtype PyTorch gives an op on ``operands`` (tensors and Python scalars).

    Dimensioned tensors win over zero-dim tensors, which win over scalars, unless the weaker
    operand is of a higher category (bool < integer < floating point < complex).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.result_type(flambeau.ones(2, dtype=flambeau.int32), 2.5)
    flambeau.float32
    >>> flambeau.result_type(flambeau.ones(2), flambeau.tensor(1.0, dtype=flambeau.float64))
    flambeau.float32
    >>> flambeau.result_type(flambeau.ones(2, dtype=flambeau.float64), 1j)
    flambeau.complex128
    """
    dims = zero = None
    scalar_cat = -1
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            scalar_cat = max(scalar_cat, _scalar_category(op))
    scalars = _category_default(scalar_cat) if scalar_cat >= 0 else None
    result = _combine(dims, _combine(zero, scalars))
    if result is None:
        raise TypeError("result_type: expected at least one tensor or number")
    return result


class finfo:
    """Machine limits of a floating-point dtype (``eps``, ``max``, ``min``, ``tiny``); a
    complex dtype gives its parts' limits, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.finfo(flambeau.float16).max
    65504.0
    >>> flambeau.finfo(flambeau.float8_e4m3fn).max, flambeau.finfo(flambeau.float8_e5m2).eps
    (448.0, 0.25)
    """

    def __init__(self, type=None):  # noqa: A002 - PyTorch's name
        d = (to_dtype(type) if type is not None else _default_float).to_real()
        if not d.is_floating_point:
            raise TypeError(f"finfo: {d} is not a floating-point dtype")
        info = ml_dtypes.finfo(d.np)
        self.dtype = d
        self.bits = d.itemsize * 8
        # torch's value: 2**-3, where ml_dtypes gives the 2 mantissa bits' 2**-2
        self.eps = 0.125 if d is float8_e5m2fnuz else _builtins.float(info.eps)
        self.max = _builtins.float(info.max)
        self.min = _builtins.float(info.min)
        self.tiny = self.smallest_normal = _builtins.float(info.tiny)
        # 10**-precision exactly, as torch; NumPy rounds it to the dtype (1e-6 in float32 is
        # 9.99999997e-07, 0.1 in float8_e4m3fn 0.1015625)
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))


class iinfo:
    """Machine limits of an integer dtype (``max``, ``min``, ``bits``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.iinfo(flambeau.int8).min
    -128
    """

    def __init__(self, type):  # noqa: A002
        d = to_dtype(type)
        if d.category != _INT:
            raise TypeError(f"iinfo: {d} is not an integer dtype")
        info = np.iinfo(d.np)
        self.dtype, self.bits = d, info.bits
        self.max, self.min = _builtins.int(info.max), _builtins.int(info.min)

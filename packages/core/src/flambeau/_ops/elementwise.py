"""Elementwise ops: arithmetic, unary math, comparisons, logic, where, clamp.

Backward formulas are written with flambeau ops, so they are differentiable themselves.
Broadcast gradients are reduced to the input shapes by the engine, not here.
"""

from __future__ import annotations

import cmath
import inspect
import math

from flambeau import _dtype, _sparse
from flambeau._ops import _deprecated, _erf
from flambeau._ops._select import errors_ignored, select
from flambeau._ops._util import (
    FLOAT8_NP,
    FLOAT_NP,
    LOW_PRECISION_NP,
    OPMATH_NP,
    Tensor,
    cast_for_scalar,
    check_same_device,
    fill_int,
    float8_in_place_operand,
    half_ufunc,
    make,
    need_tensor,
    promote,
    promote_float,
    scalar_tensor,
    scalar_value,
    to_float,
    with_out,
    write_out,
)
from flambeau._sparse import SparseUnsupported, refuse_sparse_inputs
from flambeau.amp import _autocast
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function, node_variant
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = [
    "allclose", "equal", "isclose",
    "abs", "acos", "add", "addcdiv", "addcmul", "asin", "atan", "atan2", "bitwise_and",
    "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "clamp", "clip", "cos", "cosh", "div",
    "eq", "erf", "erfc", "exp", "exp2", "expm1", "float_power", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "frac", "ge", "gt", "hypot", "isfinite", "isinf", "isnan", "le",
    "lerp", "log", "log10", "log1p", "log2", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "logit", "lt", "maximum", "minimum", "mul", "nan_to_num",
    "ne", "neg", "positive", "pow", "reciprocal", "relu", "remainder", "round", "rsqrt",
    "sigmoid", "sign", "sgn", "sin", "sinh", "sqrt", "square", "sub", "tan", "tanh",
    "true_divide", "trunc", "where", "xlogy",
]

# ------------------------------------------------------------------ complex support

#: why the ordering ops refuse complex tensors
_NO_ORDER = "; complex numbers have no order: compare their abs() or .real instead"


def refuse_complex(op, *operands, hint=""):
    """Raise PyTorch's ``NotImplementedError`` (a ``RuntimeError``) when one of
    ``operands`` (tensors or numbers) is complex, for an op PyTorch defines on real numbers
    only.

    The one guard of the real-only ops: NumPy would compute something for several of them
    (it orders complex numbers lexicographically, so ``maximum`` and ``<`` give an answer).
    Hot paths call it only once a dtype is known not to be a floating one, so floating
    tensors pay one dtype test at most. ``hint`` ends the message (what to use instead).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops.elementwise import refuse_complex
    >>> refuse_complex("floor", flambeau.zeros(1), 2.0)  # real: nothing happens
    >>> try:
    ...     refuse_complex("floor", flambeau.zeros(1, dtype=flambeau.complex64))
    ... except RuntimeError as e:
    ...     print(e)
    floor: not implemented for complex tensors (got flambeau.complex64)
    """
    for v in operands:
        if _is_complex_operand(v):
            got = v.dtype if isinstance(v, Tensor) else f"the number {v!r}"
            raise NotImplementedError(
                f"{op}: not implemented for complex tensors (got {got}){hint}")


def _is_complex_operand(v):
    """Whether ``v``, a tensor or a number, is complex."""
    if isinstance(v, Tensor):
        return v._data.dtype.kind == "c"
    return isinstance(scalar_value(v), complex)


def _conj(t):
    """The conjugate of a complex tensor; a real one is returned as it is (no dispatch).

    Backward formulas of holomorphic ops are ``g * _conj(derivative)`` (PyTorch's
    convention: ``z.grad = dL/dx + i dL/dy``), which costs real tensors one dtype test.
    """
    if t._data.dtype.kind == "c":
        from flambeau._ops.complex import Conj  # complex imports this module

        return Conj.apply(t)
    return t


def _conj_scalar(v):
    """The conjugate of a Python number (``v`` itself unless it is complex)."""
    return v.conjugate() if v.__class__ is complex else v


# ------------------------------------------------------------------ binary arithmetic


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _xp(a, b):
    return (a if isinstance(a, Tensor) else b)._device._xp


def _tensors_ufunc(ufunc, op, a, b):
    """``xp.<ufunc>(a, b)`` of the operands of ``op`` (tensors, or one a number): float8s
    in float32, rounded once as torch's float8 arithmetic (ml_dtypes' own rounds
    float8_e4m3fn's overflow to NaN where torch saturates)."""
    xp = _xp(a, b)
    try:
        out = getattr(xp, ufunc)(_raw(a), _raw(b))
    except ValueError:
        raise _broadcast_error(op, a, b) from None
    if out.itemsize == 1 and out.dtype in FLOAT8_NP:  # itemsize first: cheaper than dtype
        if isinstance(a, Tensor):
            return half_ufunc(xp, ufunc, a._data, _raw(b))
        return half_ufunc(xp, ufunc, b._data, a, reverse=True)
    return out


def _broadcast_error(op, a, b):
    sa = tuple(a.shape) if isinstance(a, Tensor) else ()
    sb = tuple(b.shape) if isinstance(b, Tensor) else ()
    return RuntimeError(
        f"{op}: the size of tensor a {sa} must match the size of tensor b {sb} "
        "at each non-singleton dimension (shapes cannot be broadcast together)"
    )


class Add(Function):
    _graph_inputs = (0, 1)  # torch wraps a number operand in a tensor: (None, 0) in the graph

    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:
            if a._data.dtype in OPMATH_NP:
                return half_ufunc(a._device._xp, "add", a._data, b)
            return a._device._xp.add(a._data, b)
        if a.__class__ is float and b._data.dtype in OPMATH_NP:  # number + half
            return half_ufunc(b._device._xp, "add", b._data, a, reverse=True)
        return _tensors_ufunc("add", "add", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    _graph_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:
            if a._data.dtype in OPMATH_NP:
                return half_ufunc(a._device._xp, "subtract", a._data, b)
            return a._device._xp.subtract(a._data, b)
        if a.__class__ is float and b._data.dtype in OPMATH_NP:  # number - half
            return half_ufunc(b._device._xp, "subtract", b._data, a, reverse=True)
        return _tensors_ufunc("subtract", "sub", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


#: ``number - tensor``: torch's ``rsub``, whose node lists the tensor only
Rsub = node_variant(Sub, "RsubBackward1", (1,))


class _WrittenInPlace:
    """Mixin of the nodes of ``add_``, ``sub_``, ``mul_``, ``div_`` and ``relu_`` while
    recording, when they write into the tensor's own storage (see
    :func:`flambeau._inplace.record_in_place`). The subclasses keep the out-of-place op's
    backward and node name, and define a forward that computes into its first input and
    counts the write on that input's version counter."""


def _binary_in_place(op, ufunc, symbol, save=None):
    """``op`` writing ``ufunc(a, b)`` into ``a`` (``b`` a tensor or a number); ``save(ctx,
    a, b)`` keeps what ``op``'s backward reads."""

    def forward(ctx, a, b):
        if save is not None:
            save(ctx, a, b)
        if a._data.dtype in FLOAT8_NP:
            half_ufunc(a._device._xp, ufunc, a._data, float8_in_place_operand(a, b),
                       out=a._data)
        elif b.__class__ in (float, int) and a._data.dtype in LOW_PRECISION_NP:
            half_ufunc(a._device._xp, ufunc, a._data, b, out=a._data)
        else:
            getattr(a._device._xp, ufunc)(a._data, b._data if isinstance(b, Tensor) else b,
                                          out=a._data)
        a._version_counter.value += 1
        return a._data

    return type(op.__name__ + "InPlace", (_WrittenInPlace, op), {
        "forward": staticmethod(forward), "_node_name": op.__name__ + "Backward0",
        "__doc__": f"``a {symbol}= b`` while recording."})


def _operand_saver(b_for):
    """The ``save`` of :func:`_binary_in_place` for Mul (``b_for=0``) and Div (None): their
    backward reads ``a`` only for ``b``'s gradient, which the in-place path is not taken for
    (``a``'s old values are gone), so only ``b`` (or the number) is kept."""

    def save(ctx, a, b):
        if isinstance(b, Tensor):
            _save_operands(ctx, a, b, a_for=1, b_for=b_for)
        else:
            ctx.scalars = (None, _conj_scalar(b))
            ctx.save_for_backward(None, None)

    return save


def _save_operands(ctx, a, b, a_for, b_for):
    """Save the tensor operands a backward needs, as torch does: ``a`` only when input
    ``a_for``'s gradient is needed, ``b`` only for ``b_for`` (None: for either input). An
    operand that is not saved can then change in place (``h[:, t + 1] = h[:, t] * 2``).

    Number operands go to ``ctx.scalars`` conjugated, as the backward formulas use them."""
    need = ctx.needs_input_grad
    keep_a = isinstance(a, Tensor) and need[a_for]
    keep_b = isinstance(b, Tensor) and (need[0] or need[1] if b_for is None else need[b_for])
    ctx.save_for_backward(a if keep_a else None, b if keep_b else None)
    ctx.scalars = (None if isinstance(a, Tensor) else _conj_scalar(a),
                   None if isinstance(b, Tensor) else _conj_scalar(b))


class Mul(Function):
    _graph_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:  # tensor * scalar: nothing to check or save but the scalar
            ctx.scalars = (None, b)
            ctx.save_for_backward(None, None)
            if a._data.dtype in OPMATH_NP:
                return half_ufunc(a._device._xp, "multiply", a._data, b)
            return a._device._xp.multiply(a._data, b)
        if a.__class__ is float and b._data.dtype in OPMATH_NP:  # number * half
            _save_operands(ctx, a, b, a_for=1, b_for=0)
            return half_ufunc(b._device._xp, "multiply", b._data, a, reverse=True)
        out = _tensors_ufunc("multiply", "mul", a, b)
        _save_operands(ctx, a, b, a_for=1, b_for=0)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(a b) = b da + a db: the gradients are g * conj(b) and g * conj(a); the scalars
        # are conjugated already, and a float one (the fast path) needs nothing
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = g * (_conj(b) if b is not None else sb) if ctx.needs_input_grad[0] else None
        gb = g * (_conj(a) if a is not None else sa) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    _graph_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:  # tensor / scalar: only the scalar is needed for backward
            ctx.save_for_backward(None, None)
            ctx.scalars = (None, b)
            if a._data.dtype in OPMATH_NP:
                return half_ufunc(a._device._xp, "true_divide", a._data, b)
            return a._device._xp.true_divide(a._data, b)
        if a.__class__ is float and b._data.dtype in OPMATH_NP:  # number / half
            _save_operands(ctx, a, b, a_for=1, b_for=None)
            return half_ufunc(b._device._xp, "true_divide", b._data, a, reverse=True)
        out = _tensors_ufunc("true_divide", "div", a, b)
        _save_operands(ctx, a, b, a_for=1, b_for=None)
        return out

    @staticmethod
    def backward(ctx, g):
        # d(a / b) = da / b - a db / b^2, conjugated for complex operands (the scalars in
        # ctx.scalars are conjugated already)
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = g / (_conj(b) if b is not None else sb) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            num = _conj(a) if a is not None else sa
            cb = _conj(b)
            # (a / b) / b, not a / b^2: b^2 underflows for |b| < 1e-19 in float32
            gb = -g * (num / cb) / cb
        return ga, gb


AddInPlace = _binary_in_place(Add, "add", "+")
SubInPlace = _binary_in_place(Sub, "subtract", "-")
MulInPlace = _binary_in_place(Mul, "multiply", "*", _operand_saver(b_for=0))
DivInPlace = _binary_in_place(Div, "true_divide", "/", _operand_saver(b_for=None))


def _integer_power(xp, a, b):
    """``a ** b`` of integers where some ``b < 0``, as torch computes it (NumPy refuses):
    ``1 ** b`` is 1, ``(-1) ** b`` is 1 or -1 by the parity of ``b``, anything else is 0
    (``0 ** b`` too). None when the operands are not integers or do not broadcast."""
    a_arr, b_arr = xp.asarray(a), xp.asarray(b)
    if a_arr.dtype.kind not in "iu" or b_arr.dtype.kind not in "iu":
        return None
    try:
        negative = b_arr < 0
        out = xp.power(a, xp.where(negative, 0, b_arr).astype(b_arr.dtype, copy=False))
    except ValueError:
        return None
    parity = xp.where(b_arr % 2 == 0, 1, -1)
    reciprocal = xp.where(a_arr == 1, 1, xp.where(a_arr == -1, parity, 0))
    return xp.where(negative, reciprocal, out).astype(out.dtype, copy=False)


class Pow(Function):
    """``tensor ** number``; its subclasses, the other forms, differ in torch's node name."""

    @staticmethod
    def forward(ctx, a, b):
        xp = _xp(a, b)
        try:
            out = xp.power(_raw(a), _raw(b))
        except ValueError:  # shapes that do not broadcast, or integers to negative powers
            out = _integer_power(xp, _raw(a), _raw(b))
            if out is None:
                raise _broadcast_error("pow", a, b) from None
        if out.dtype.kind == "c":
            out = _complex_pow_at_zero(xp, _raw(a), _raw(b), isinstance(b, Tensor), out)
        out_t = make(out, a if isinstance(a, Tensor) else b)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None, out_t)
        ctx.scalars = (a, b)
        return out_t

    @staticmethod
    def backward(ctx, g):
        # d/da a**b = b a**(b-1), d/db a**b = a**b log(a), conjugated for complex operands
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b is None:
                ga = _zeros_of(g) if sb == 0 else g * _conj(sb * a ** (sb - 1))
            else:  # 0 where b == 0, as torch (0 * a ** -1 would be nan at a == 0)
                ga = g * _conj(where(b == 0, 0.0, b * a ** (b - 1)))
        if ctx.needs_input_grad[1]:
            if a is None:
                gb = _pow_scalar_base_grad(g, sa, b, out)
            else:
                # PyTorch defines it as 0 where a == 0 and b >= 0 (b real)
                safe = where((a == 0) & _real_nonnegative(b), 0.0, out * log(a))
                gb = g * _conj(safe)
        return ga, gb


PowTensors = node_variant(Pow, "PowBackward1")  # tensor ** tensor
PowNumberBase = node_variant(Pow, "PowBackward2")  # number ** tensor


def _complex_pow_at_zero(xp, base, exponent, tensor_exponent, out):
    """torch's complex ``0 ** w`` where NumPy's differs. For a tensor exponent torch takes
    ``exp(w log 0)``: 0 for Re w > 0, inf+nanj for Re w < 0, and nan+nanj for Re w == 0
    (``0 ** 0j`` included: NumPy gives 1), for a NaN real part, or for an infinite
    imaginary part next to a finite real one. Its tensor ** number form differs: it fills
    ones for an exponent 0 (and computes 1, 2, 3, 0.5 and -1 as copies, products, square
    roots and reciprocals), so a number exponent keeps NumPy's values but for Re w < 0,
    inf+nanj at a zero base as the tensor form (NumPy: nan+nanj)."""
    inf_nan = xp.asarray(complex(math.inf, math.nan), dtype=out.dtype)
    if not tensor_exponent:
        w = complex(exponent)
        if w.real < 0 and math.isfinite(w.imag):
            out = xp.where(base == 0, inf_nan, out)
        return out
    zero = base == 0
    if zero is False:  # a number base other than 0
        return out
    r, i = xp.real(exponent), xp.imag(exponent)
    undefined = xp.isnan(r) | (r == 0) | (xp.isinf(i) & xp.isfinite(r))
    at_zero = xp.where(r > 0, xp.zeros((), dtype=out.dtype), inf_nan)
    at_zero = xp.where(undefined, xp.asarray(complex(math.nan, math.nan), dtype=out.dtype),
                       at_zero)
    return xp.where(zero, at_zero, out)


def _real_nonnegative(b):
    """``b >= 0`` for a real tensor; for a complex one, real, non-negative elements."""
    d = b._data
    if d.dtype.kind == "c":
        return make((d.real >= 0) & (d.imag == 0), b)
    return b >= 0


def _pow_scalar_base_grad(g, base, exponent, out):
    """The gradient of ``base ** exponent`` in the tensor ``exponent``: ``out * log(base)``
    (conjugated), 0 at ``base == 0`` where the exponent is real and non-negative, as
    PyTorch. A negative real base of a complex exponent is taken as complex."""
    if base == 0:
        return g * _conj(where(_real_nonnegative(exponent), 0.0, out * -math.inf))
    if out._data.dtype.kind == "c":
        return g * _conj(out * cmath.log(base))
    return g * out * (math.log(base) if base > 0 else math.nan)


def _binary(fn, op_name, a, b):
    a, b = promote(op_name, a, b)
    return fn.apply(a, b)


def _real_binary(fn, op_name, a, b):
    """:func:`_binary` for an op that complex numbers have no version of (they have no
    order)."""
    a, b = promote(op_name, a, b)
    t = a if isinstance(a, Tensor) else b
    if t._data.dtype not in FLOAT_NP:
        refuse_complex(op_name, t, hint=_NO_ORDER)
    return fn.apply(a, b)


def add(input=_deprecated.MISSING, other=_deprecated.MISSING, /, *deprecated,
        alpha=_deprecated.NO_ALPHA, out=None, **keywords):
    """``input + alpha * other`` with broadcasting and type promotion.

    ``alpha`` does not take part in the promotion: the result's dtype is that of
    ``input + other``, so an integer result takes no float ``alpha`` and a bool result takes
    ``alpha`` as a bool. torch's deprecated order ``add(input, alpha, other)`` works too
    (``other`` a number as well: ``add(x, 2, 5)`` is ``x + 2 * 5``), with torch's warning.

    Raises
    ------
    RuntimeError
        For an ``alpha`` of a higher category than the result's dtype (a float ``alpha`` with
        integer tensors, a complex one with real tensors, a bool one with a non-bool result).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.add(flambeau.tensor([1, 2]), flambeau.tensor([10, 20]), alpha=2)
    tensor([21, 42])
    """
    if deprecated or keywords or other is _deprecated.MISSING:
        # input= / other= by keyword, or torch's deprecated add(input, Number alpha, Tensor
        # other) (also with other=): bound as torch's parser binds them. ``input`` and
        # ``other`` are positional-only so that ``add(x, 2, other=y)`` reaches this line.
        return _deprecated.called(add, "add", (input, other, *deprecated), alpha, out,
                                  keywords)
    if alpha is not _deprecated.NO_ALPHA and (alpha.__class__ is not int or alpha != 1):
        try:
            input, other = scaled_by_alpha(input, other, alpha)
        except (SparseUnsupported, TypeError):  # a sparse operand refused the scaling
            return _out(_sparse.add_or_raise(input, other, alpha), out)
    try:
        return _out(_binary(Add, "add", input, other), out)
    except (SparseUnsupported, TypeError):  # a sparse operand refused the dense op (CuPy's
        return _out(_sparse.add_or_raise(input, other, 1), out)  # refusal is a TypeError)


#: what inspect.signature and help() show: the deprecated order is no parameter of its own
add.__signature__ = inspect.Signature([
    inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("other", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("alpha", inspect.Parameter.KEYWORD_ONLY, default=1),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)])


def sub(input=_deprecated.MISSING, other=_deprecated.MISSING, /, *positional,
        alpha=_deprecated.NO_ALPHA, out=None, **keywords):
    """``input - alpha * other`` (``alpha`` as in :func:`add`). torch's deprecated order
    ``sub(input, alpha, other)`` works too (``other`` by keyword, or a number, as well:
    ``sub(x, 2, 5)`` is ``x - 2 * 5``), with torch's warning.

    Raises
    ------
    RuntimeError
        With a bool operand (tensor or Python bool), as in PyTorch: invert a mask with ``~``
        or :func:`logical_not`, compare two with ``^``; for an ``alpha`` :func:`add` refuses.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sub(flambeau.tensor([5.0]), 2)
    tensor([3.])
    """
    if positional or keywords or other is _deprecated.MISSING:
        # a third positional argument (the deprecated order's other), input=/other= by
        # keyword: bound as torch's parser does
        return _deprecated.called(sub, "sub", (input, other, *positional), alpha, out,
                                  keywords)
    if alpha is not _deprecated.NO_ALPHA and (alpha.__class__ is not int or alpha != 1):
        # a tensor alpha here came by keyword (by position it is in ``positional``): a 0-d
        # one is a number, as in add, never the deprecated order
        refuse_bool_sub(input, other)
        try:
            input, other = scaled_by_alpha(input, other, alpha)
        except (SparseUnsupported, TypeError):  # a sparse operand refused the scaling
            return _out(_sparse.add_or_raise(input, other, -alpha), out)
    else:
        refuse_bool_sub(input, other)
    # a number minus a tensor comes from ``number - tensor``: torch's rsub
    try:
        return _out(_binary(Sub if isinstance(input, Tensor) else Rsub, "sub", input, other),
                    out)
    except (SparseUnsupported, TypeError):  # a sparse operand refused the dense op
        return _out(_sparse.add_or_raise(input, other, -1), out)


#: what inspect.signature and help() show: alpha by position too (torch's number overload)
sub.__signature__ = inspect.Signature([
    inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("other", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("alpha", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=1),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)])


def subtract(input, other, *positional, alpha=_deprecated.NO_ALPHA, out=None):
    """:func:`sub` under its other name, which torch gives no deprecated order.

    ``alpha`` goes by position only after a number ``other`` (torch's overload
    ``subtract(Tensor input, Number other, Number alpha)``), as in torch.

    Raises
    ------
    TypeError
        For a tensor ``alpha`` other than a 0-d one with a number ``other``
        (``subtract(x, 2, y)``: torch's deprecated order is ``sub``'s only); for an ``alpha``
        by position after a tensor ``other`` (``subtract(x, y, 2)``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.subtract(flambeau.tensor([5.0]), flambeau.tensor([1.0]), alpha=2)
    tensor([3.])
    """
    if positional:
        if len(positional) > 1:
            raise TypeError(f"subtract() takes from 2 to 3 positional arguments but "
                            f"{2 + len(positional)} were given")
        if alpha is not _deprecated.NO_ALPHA:
            raise TypeError("subtract() got multiple values for argument 'alpha'")
        alpha = positional[0]
        if _deprecated._number(other) is None and not isinstance(alpha, Tensor):
            raise TypeError("subtract(): alpha goes by position only after a number other "
                            "(subtract(input, Number other, Number alpha)): use "
                            "subtract(input, other, alpha=alpha)")
    if isinstance(alpha, Tensor) and (alpha.ndim != 0 or isinstance(other, Tensor)):
        raise TypeError("subtract(): alpha must be a number, not a Tensor (the deprecated "
                        "order (input, Number alpha, Tensor other) is sub()'s only): use "
                        "subtract(input, other, alpha=alpha)")
    return sub(input, other, alpha=alpha, out=out)


#: what inspect.signature and help() show: alpha by position too (after a number other)
subtract.__signature__ = sub.__signature__


def _is_bool(v):
    return v.__class__ is bool or (isinstance(v, Tensor) and v._data.dtype.kind == "b")


def refuse_bool_sub(input, other):
    """PyTorch's errors for a subtraction with a bool operand (``sub``, ``-``, ``sub_``)."""
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def check_alpha(result, alpha):
    """``alpha`` as ``add``/``sub`` take it for a result of dtype ``result``: a Python number
    of no higher category (a bool for a bool result), or PyTorch's error."""
    value = scalar_value(alpha)
    if value is None:
        value = alpha.item() if isinstance(alpha, Tensor) else alpha
    if value.__class__ is bool and result is not _dtype.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if value.__class__ in (float, complex) and not (result.is_floating_point
                                                   or result.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if value.__class__ is complex and not result.is_complex:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    return bool(value) if result is _dtype.bool else value


def scaled_by_alpha(input, other, alpha):
    """``(input, alpha * other)`` with ``alpha`` checked (:func:`check_alpha`), promoted so
    that ``alpha`` cannot change the result's dtype."""
    input, other = promote("add", input, other)
    alpha = check_alpha((input if isinstance(input, Tensor) else other).dtype, alpha)
    if isinstance(other, Tensor):
        return input, mul(other, alpha)
    if alpha.__class__ is bool:
        return input, bool(other) and alpha
    return input, other * alpha


def mul(input, other, *, out=None):
    """Elementwise product.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mul(flambeau.tensor([1.0, 2.0]), flambeau.tensor([[1.0], [3.0]]))
    tensor([[1., 2.],
            [3., 6.]])
    """
    return _out(_binary(Mul, "mul", input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """Elementwise true division (integers give floats); ``rounding_mode`` 'trunc'/'floor'.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.div(flambeau.tensor([7, -7]), 2)
    tensor([ 3.5000, -3.5000])
    >>> flambeau.div(flambeau.tensor([7, -7]), 2, rounding_mode="floor")
    tensor([ 3, -4])
    """
    if rounding_mode is None:
        a, b = promote("div", input, other)
        # integers divide in floating point; a scalar operand keeps its value (not the
        # integer dtype's wrapped-around one); float8s divide in their own dtype
        if isinstance(a, Tensor) and a._data.dtype not in FLOAT_NP:
            if a._data.dtype not in FLOAT8_NP:
                a = to_float(a)
                b = to_float(b) if isinstance(b, Tensor) else scalar_value(other)
        elif isinstance(b, Tensor) and b._data.dtype not in FLOAT_NP \
                and b._data.dtype not in FLOAT8_NP:
            a, b = scalar_value(input), to_float(b)
        return _out(Div.apply(a, b), out)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return _out(_rounded_div("div", input, other, rounding_mode), out)


def _refuse_integer_zero_divisor(t, b):
    """torch's CPU kernels raise on an integer division by zero, where NumPy gives 0 (or the
    lowest integer) with a warning. Other devices are not checked: that would wait for the
    device, and torch's CUDA kernels do not check either."""
    if t._data.dtype.kind not in "iu" or t._device.type != "cpu":
        return
    if (b._data == 0).any() if isinstance(b, Tensor) else b == 0:
        raise RuntimeError("ZeroDivisionError")


def _rounded_div(op, input, other, rounding_mode):
    """``div`` with ``rounding_mode`` 'trunc' or 'floor' (``op`` names the caller)."""
    a, b = promote(op, input, other)
    t = a if isinstance(a, Tensor) else b
    refuse_complex(op, t)
    _refuse_integer_zero_divisor(t, b)
    xp = t._device._xp
    try:
        if rounding_mode == "floor":
            # NumPy's floor_divide of floats is torch's (Python's): from fmod, so that
            # 1 // -inf is -1 and 1 // -1e-5 is -100001 in float32 (floor(1 / b) gives -0.0
            # and -100000)
            with errors_ignored(xp, "divide", "invalid"):
                q = xp.floor_divide(_raw(a), _raw(b))
        elif t._data.dtype in FLOAT_NP:
            q = xp.trunc(xp.true_divide(_raw(a), _raw(b)))
        else:
            q = xp.trunc(xp.true_divide(_raw(a), _raw(b))).astype(t._data.dtype)
    except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
        refuse_sparse_inputs((a, b), op)
        raise
    if _needs_grad(a, b) and t._data.dtype in FLOAT_NP:
        # a step function: PyTorch records it with a zero gradient
        return _ZeroGrad.apply(make(q, t), a, b)
    return make(q, t)


class _ZeroGrad(Function):
    """``value``, recorded as a function of ``a`` and ``b`` with zero gradients."""

    @staticmethod
    def forward(ctx, value, a, b):
        return value._data

    @staticmethod
    def backward(ctx, g):
        zero = _zeros_of(g)
        return None, zero, zero


def true_divide(input, other, *, out=None):
    """Alias of :func:`div` without rounding.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.true_divide(flambeau.tensor([1]), 4)
    tensor([0.2500])
    """
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    """Division rounded toward minus infinity (``//``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.floor_divide(flambeau.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return _out(_rounded_div("floor_divide", input, other, "floor"), out)


def remainder(input, other, *, out=None):
    """Python-style modulus (the sign of the divisor), ``%``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.remainder(flambeau.tensor([-3, 3]), 2)
    tensor([1, 1])
    """
    return _out(_modulus("remainder", "floor", input, other), out)


def _modulus(op, rounding, input, other):
    """``a - round(a / b) * b``, differentiable in both operands when they are float."""
    a, b = promote(op, input, other)
    t = a if isinstance(a, Tensor) else b
    refuse_complex(op, t)
    if _needs_grad(a, b) and t._data.dtype in FLOAT_NP:
        cls = _MODULUS[op, isinstance(b, Tensor)]
        return cls.apply(a if isinstance(a, Tensor) else scalar_tensor(a, t),
                         b if isinstance(b, Tensor) else scalar_tensor(b, t), op, rounding)
    _refuse_integer_zero_divisor(t, b)
    xp_fn = t._device._xp.remainder if rounding == "floor" else t._device._xp.fmod
    try:
        return make(xp_fn(_raw(a), _raw(b)), t)
    except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
        refuse_sparse_inputs((a, b), op)
        raise


class Modulus(Function):
    """``fmod``/``remainder`` of floats: the value from the ufunc (``fmod(1, inf)`` is 1, the
    composite ``a - q * b`` gave ``0 * inf = nan``), the slopes 1 and ``-round(a / b)``."""

    @staticmethod
    def forward(ctx, a, b, op, rounding):
        ctx.save_for_backward(a, b)
        ctx.meta = (op, rounding)
        xp = a._device._xp
        fn = xp.remainder if rounding == "floor" else xp.fmod
        try:
            with errors_ignored(xp):
                return fn(a._data, b._data)
        except ValueError:
            raise _broadcast_error(op, a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        op, rounding = ctx.meta
        gb = None
        if ctx.needs_input_grad[1]:
            # the quotient's own gradient is zero, but it is recorded as a function of a and
            # b, as torch's: a graph of this gradient reaches them (with zeros)
            gb = -g * _rounded_div(op, a, b, rounding)
        return g, gb, None, None


#: (op, whether the divisor is a tensor) -> the node class, named as torch's overloads (a
#: number divisor is no input of torch's node)
_MODULUS = {("fmod", False): node_variant(Modulus, "FmodBackward0", (0,)),
            ("fmod", True): node_variant(Modulus, "FmodBackward1"),
            ("remainder", False): node_variant(Modulus, "RemainderBackward0", (0,)),
            ("remainder", True): node_variant(Modulus, "RemainderBackward1")}


def _needs_grad(a, b):
    """Whether the op must run as a Function: to be recorded, or (forward AD) to carry the
    operands' tangents, which tensors that do not require grad may hold."""
    return (isinstance(a, Tensor) and a._requires_grad) or (
        isinstance(b, Tensor) and b._requires_grad) or _autograd_function._forward_ad_on


def fmod(input, other, *, out=None):
    """C-style modulus (the sign of the dividend).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fmod(flambeau.tensor([-3, 3]), 2)
    tensor([-1,  1])
    """
    return _out(_modulus("fmod", "trunc", input, other), out)


def pow(input, exponent, *, out=None):  # noqa: A001 - PyTorch's name
    """``input ** exponent`` elementwise (either may be a number).

    A complex zero to a tensor power is ``exp(w log 0)``, as in PyTorch: 0 for Re w > 0,
    ``inf+nanj`` for Re w < 0 and ``nan+nanj`` for Re w = 0 (``0 ** 0j`` included), while
    a tensor to a number power 0 is 1 everywhere (PyTorch fills ones there).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.pow(flambeau.tensor([1.0, 2.0, 3.0]), 2)
    tensor([1., 4., 9.])
    >>> flambeau.pow(2, flambeau.tensor([1, 2, 3]))
    tensor([2, 4, 8])
    """
    if _autocast.active:
        input, exponent = _autocast.cast_inputs("fp32", input, exponent)
    a, b = promote("pow", input, exponent)
    e = scalar_value(exponent)  # before promote wrapped it into an unsigned dtype's range
    if isinstance(a, Tensor) and e.__class__ is int and e < 0 and a._data.dtype.kind in "iu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    cls = (PowTensors if isinstance(b, Tensor) else Pow) if isinstance(a, Tensor) else PowNumberBase
    result = cls.apply(a, b)
    if result._data.dtype.kind != "b" and (a if isinstance(a, Tensor) else b)._data.dtype.kind \
            == "b":  # bools to bool powers: NumPy's power gives int8, torch's pow bool
        result = result.to(_dtype.bool)
    return _out(result, out)


@with_out
def float_power(input, exponent):
    """``pow`` computed in float64, or in complex128 when an operand is complex.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.float_power(flambeau.tensor([2]), 2)
    tensor([4.], dtype=flambeau.float64)
    >>> flambeau.float_power(flambeau.tensor([1j]), 2)
    tensor([-1.+0.j], dtype=flambeau.complex128)
    """
    operands = (input, exponent)
    if any(_is_complex_operand(v) for v in operands):
        dt, number = _dtype.complex128, complex
    else:
        dt, number = _dtype.float64, float
    a, b = (v.to(dt) if isinstance(v, Tensor) else number(v) for v in operands)
    return pow(a, b)


_out = write_out


# ------------------------------------------------------------------ unary math


class _Unary(Function):
    """An elementwise op of one tensor: ``_fwd(xp, array)``, ``_grad(g, x, out)``."""

    _save = "x"  # what backward needs: "x", "out", or "" (nothing)

    @classmethod
    def forward(cls, ctx, x):
        arr = cls._fwd(x._device._xp, x._data)
        if cls._save == "out":
            out = make(arr, x)
            ctx.save_for_backward(out)
            return out
        if cls._save == "x":
            ctx.save_for_backward(x)
        return arr

    _array_grad = None  # optional ``(xp, g, out) -> array`` on arrays, for save="out" ops
    #: the backend kernel that may replace ``_array_grad`` (``"relu_backward_from_output"``
    #: and so on: same signature and result; flambeau-cuda fuses its two or three launches)
    _array_grad_kernel = ""

    @classmethod
    def backward(cls, ctx, g):
        saved = ctx.saved_tensors
        if cls._array_grad is not None and not _grad_state.grad_enabled:
            # no graph of the gradient wanted: skip per-op dispatch on the hot activations
            ga, out = g._data, saved[0]._data
            fused = g._device.backend.run_kernel(cls._array_grad_kernel, ga, out)
            if fused is not None:
                return make(fused, g)
            if out.dtype in LOW_PRECISION_NP:  # in float32, rounded once, as torch's kernels
                return make(cls._array_grad(g._device._xp, ga.astype("float32"),
                                            out.astype("float32")).astype(out.dtype), g)
            return make(cls._array_grad(g._device._xp, ga, out), g)
        if cls._save == "out":
            return cls._grad(g, None, saved[0])
        if cls._save == "x":
            return cls._grad(g, saved[0], None)
        return cls._grad(g, None, None)


class StepGrad(Function):
    """``g * factor``, where ``factor`` (an array) is a step function of a tensor ``t``: the
    0/1 mask of relu or hardtanh, the slopes of a leaky relu. It is their gradient when a
    graph of the gradient is built: zero almost everywhere in ``t``, but a function of ``t``
    all the same (torch's ``threshold_backward``), so that the result is connected to ``t``
    and, say, the gradient penalty of a ReLU network can be differentiated again (to zeros
    for ``t``, as torch's). One subclass per op, named as torch's node (see
    :func:`step_grad`)."""

    @staticmethod
    def forward(ctx, g, t, factor):
        ctx.factor = factor
        if factor.dtype.kind == "b":  # a mask selects, as torch's: NaN * 0 would stay NaN
            return select(g._device._xp, factor, g._data, 0)
        return g._data * factor

    @staticmethod
    def backward(ctx, gg):
        gt = _zeros_of(gg) if ctx.needs_input_grad[1] else None
        return gg * Tensor._make(ctx.factor, gg._device), gt, None


_step_grads: dict = {}


def step_grad(g, t, factor, op="Threshold"):
    """``g * factor`` recorded as :class:`StepGrad` (``factor`` an array of ``g``'s dtype or
    bool, a step function of ``t``; ``op`` names the forward op as torch's nodes do:
    ``ThresholdBackwardBackward0``)."""
    cls = _step_grads.get(op)
    if cls is None:
        cls = _step_grads[op] = node_variant(StepGrad, op + "BackwardBackward0")
    return cls.apply(g, t, factor)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


#: ops whose backward does not read their input: their in-place forms need no snapshot
#: (a copy of the tensor before the write). The unary ones are added by _unary_op; add and
#: sub save nothing (``h += residual`` while recording: two array operations, not three)
INPUT_FREE: set[str] = {"add", "sub"}


def _unary_op(name, fwd, grad, save="x", float_only=True, doc="", array_grad=None,
              on_complex=None):
    """Define the Function ``name`` and its wrapper (forward and backward side by side).

    ``array_grad(xp, g, out)``, for ops that save their output, is the same gradient on bare
    arrays, used when no graph of the gradient is being built.

    ``on_complex`` says what complex inputs do: None refuses them (PyTorch has no complex
    version of the op); True runs the same forward and ``grad``, which must then follow the
    conjugate convention (``g * _conj(derivative)``); a dict overrides ``fwd``, ``grad`` or
    ``save`` for them. Complex inputs reach their own subclass from the wrapper's non-float
    branch: floating tensors pay one dtype test. Float8 inputs are refused as torch does
    (see :data:`_FLOAT8_KERNELS`), but by ``abs``.
    """
    cls = type(name.capitalize().replace("_", ""), (_Unary,), {
        "_node_name": _NODE_NAMES.get(name),
        "_fwd": staticmethod(fwd), "_grad": staticmethod(grad), "_save": save,
        "_array_grad": None if array_grad is None else staticmethod(array_grad),
        "_array_grad_kernel": name + "_backward_from_output",
        "__doc__": f"The op behind :func:`flambeau.{name}`.",
    })
    ccls = cls if on_complex is True and array_grad is None else None
    if on_complex is not None and ccls is None:
        over = {} if on_complex is True else on_complex
        ccls = type(cls.__name__, (cls,), {
            "_array_grad": None,  # its array formula is the real one
            **{"_" + k: staticmethod(v) if callable(v) else v for k, v in over.items()},
            "__doc__": f"The op behind :func:`flambeau.{name}` for complex inputs.",
        })

    if save != "x" and (ccls is None or ccls._save != "x"):
        INPUT_FREE.add(name)
    fp32 = name in _autocast.FP32_OPS  # autocast runs these in float32

    def op(input, *, out=None):
        if fp32 and _autocast.active:
            (input,) = _autocast.cast_inputs("fp32", input)
        if input._data.dtype not in FLOAT_NP:
            if input._data.dtype in FLOAT8_NP:
                _refuse_float8(name, input)
            if input._data.dtype.kind == "c":
                if ccls is None:
                    refuse_complex(name, input, hint=_HINTS.get(name, ""))
                return _out(ccls.apply(input), out)
            if float_only:
                input = to_float(input)
        result = cls.apply(input)
        return result if out is None else _out(result, out)  # no call on the common path

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return cls, op


#: torch's node names that are not the op's name capitalized (square is torch's pow)
_NODE_NAMES = {"log1p": "Log1PBackward0", "square": "PowBackward0",
               "deg2rad": "Deg2RadBackward0", "rad2deg": "Rad2DegBackward0"}

#: torch's CPU kernel that refuses a float8 input, for the unary ops where it is not
#: ``<op>_cpu``
_FLOAT8_KERNELS = {
    **{n: n + "_vml_cpu" for n in (
        "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin",
        "acos", "atan", "tanh", "erf", "erfc", "floor", "ceil", "trunc", "lgamma", "erfinv",
        "i0", "round")},
    "exp2": "exp2", "digamma": "digamma", "square": "pow", "sgn": "sign_cpu",
    "sigmoid": "sigmoid_cpu_reduced_float", "relu": "clamp_min_scalar_cpu",
    "ndtr": "mul_cpu_reduced_float", "deg2rad": "mul_cpu_reduced_float",
    "rad2deg": "mul_cpu_reduced_float", "round_decimals": "round_cpu",
    "nan_to_num": "nan_to_num", "isinf": "isinf", "isfinite": "isfinite",
}
_E5M2 = frozenset({_dtype.float8_e5m2})
#: the float8 dtypes torch computes these ops for (it refuses the others everywhere)
_FLOAT8_COMPUTED = {
    "abs": frozenset({_dtype.float8_e4m3fn, _dtype.float8_e4m3fnuz, _dtype.float8_e5m2,
                      _dtype.float8_e5m2fnuz}),
    "isinf": _E5M2, "isfinite": _E5M2 | {_dtype.float8_e8m0fnu},
}


def _refuse_float8(name, input):
    """torch's NotImplementedError for the unary op ``name`` on a float8 ``input`` (torch has
    no kernel for them; computing in float32 would change the result's dtype)."""
    if input.dtype not in _FLOAT8_COMPUTED.get(name, ()):
        dev = input._device.type
        kernel = _FLOAT8_KERNELS.get(name, name + "_cpu") if dev == "cpu" else f"{name}_{dev}"
        _dtype.refuse_float8(kernel, input.dtype)


#: what to use instead, for the real-only unary ops whose message can say it
_HINTS = {"sign": "; flambeau.sgn gives z / |z|", "relu": _NO_ORDER}


def _zeros_of(g):
    """The zero gradient of a step function, as torch's: zeros, even where ``g`` is NaN or
    infinite (``g * 0`` would keep those NaN)."""
    return g.new_zeros(g.shape)


def _zero_grad(g, x, out):
    return _zeros_of(g)


def _erf_generic(xp, a):
    kernel = _ERF_KERNELS.get(xp.__name__)
    if kernel is not None:
        return kernel(a)
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): backends override with an exact kernel.
    x = xp.abs(a)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * xp.exp(-x * x)
    return (xp.sign(a) * y).astype(a.dtype, copy=False)


def _numpy_erf(a):
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # our own double-precision erf, vectorized (not math.erf per element)
        return _erf.erf(a).astype(a.dtype, copy=False)
    return scipy_erf(a).astype(a.dtype, copy=False)


_ERF_KERNELS = {"numpy": _numpy_erf}


def register_erf_kernel(xp_name, fn):
    """Let a backend provide an exact ``erf`` for its array namespace."""
    _ERF_KERNELS[xp_name] = fn


Neg, _neg = _unary_op("neg", lambda xp, a: xp.negative(a), lambda g, x, o: -g, save="",
                      float_only=False, on_complex=True, doc="")


def neg(input, *, out=None):
    """``-input``.

    Raises
    ------
    RuntimeError
        For a bool tensor, as in PyTorch (invert a mask with ``~`` or :func:`logical_not`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.neg(flambeau.tensor([1, -2]))
    tensor([-1,  2])
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _neg(input, out=out)
Abs, abs = _unary_op("abs", lambda xp, a: xp.abs(a), lambda g, x, o: g * sgn(x),  # noqa: A001
                     float_only=False, on_complex=True, doc="""Absolute value; the modulus
    ``|z|`` (a real tensor) of complex elements.

    The gradient is ``sign(x)``, and ``z / |z|`` for complex ``z`` (0 at 0).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.abs(flambeau.tensor([-1.5, 2.0]))
    tensor([1.5000, 2.0000])
    >>> flambeau.abs(flambeau.tensor([3 + 4j]))
    tensor([5.])
    """)
Exp, exp = _unary_op("exp", lambda xp, a: xp.exp(a), lambda g, x, o: g * _conj(o), save="out",
                     on_complex=True, doc="""``e ** input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.exp(flambeau.tensor([0.0, 1.0]))
    tensor([1.0000, 2.7183])
    """)
Exp2, exp2 = _unary_op("exp2", lambda xp, a: xp.exp2(a),
                       lambda g, x, o: g * _conj(o) * _LN2, save="out", on_complex=True,
                       doc="""``2 ** input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.exp2(flambeau.tensor([3.0]))
    tensor([8.])
    """)
Expm1, expm1 = _unary_op("expm1", lambda xp, a: xp.expm1(a),
                         lambda g, x, o: g * _conj(o + 1), save="out", on_complex=True,
                         doc="""``exp(input) - 1``, accurate near zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.expm1(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Log, log = _unary_op("log", lambda xp, a: xp.log(a), lambda g, x, o: g / _conj(x),
                     on_complex=True, doc="""Natural log (the principal branch for complex inputs).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log(flambeau.tensor([1.0]))
    tensor([0.])
    """)
Log1p, log1p = _unary_op("log1p", lambda xp, a: xp.log1p(a),
                         lambda g, x, o: g / _conj(x + 1), on_complex=True,
                         doc="""``log(1 + input)``, accurate near zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log1p(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Log2, log2 = _unary_op("log2", lambda xp, a: xp.log2(a),
                       lambda g, x, o: g / (_conj(x) * _LN2), on_complex=True, doc="""Base-2 log.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log2(flambeau.tensor([8.0]))
    tensor([3.])
    """)
Log10, log10 = _unary_op("log10", lambda xp, a: xp.log10(a),
                         lambda g, x, o: g / (_conj(x) * _LN10), on_complex=True,
                         doc="""Base-10 log.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log10(flambeau.tensor([1.0, 5.0]))  # NumPy's float32 log10(100) may be 2 + 1 ulp
    tensor([0.0000, 0.6990])
    """)
Sqrt, sqrt = _unary_op("sqrt", lambda xp, a: xp.sqrt(a), lambda g, x, o: g / (2 * _conj(o)),
                       save="out", on_complex=True, doc="""Square root (the principal one for
    complex inputs).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sqrt(flambeau.tensor([4.0, 9.0]))
    tensor([2., 3.])
    """)
Rsqrt, rsqrt = _unary_op("rsqrt", lambda xp, a: 1 / xp.sqrt(a),
                         lambda g, x, o: -0.5 * g * _conj(o * o * o), save="out",
                         on_complex=True, doc="""``1 / sqrt(input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rsqrt(flambeau.tensor([4.0]))
    tensor([0.5000])
    """)
def _square(xp, a):
    if a.dtype.kind == "b":  # as torch's pow(input, 2): the int 2 makes bools int64
        return a.astype(xp.int64)
    return xp.multiply(a, a)


def _sign(xp, a):
    if a.dtype.kind == "b":  # NumPy has no bool sign
        return a.copy()
    if a.dtype.kind in "iu":
        return xp.sign(a)
    # torch's (x > 0) - (x < 0): 0 for NaN and for -0.0 (NumPy's sign gives NaN and -0.0)
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


Square, square = _unary_op("square", _square,
                           lambda g, x, o: 2 * g * _conj(x), float_only=False, on_complex=True,
                           doc="""``input * input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.square(flambeau.tensor([3.0]))
    tensor([9.])
    """)
Reciprocal, reciprocal = _unary_op("reciprocal", lambda xp, a: 1 / a,
                                   lambda g, x, o: -g * _conj(o * o), save="out",
                                   on_complex=True, doc="""``1 / input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.reciprocal(flambeau.tensor([2.0]))
    tensor([0.5000])
    """)
Sin, sin = _unary_op("sin", lambda xp, a: xp.sin(a), lambda g, x, o: g * _conj(cos(x)),
                     on_complex=True, doc="""Sine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sin(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Cos, cos = _unary_op("cos", lambda xp, a: xp.cos(a), lambda g, x, o: -g * _conj(sin(x)),
                     on_complex=True, doc="""Cosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cos(flambeau.tensor([0.0]))
    tensor([1.])
    """)
Tan, tan = _unary_op("tan", lambda xp, a: xp.tan(a), lambda g, x, o: g * _conj(1 + o * o),
                     save="out", on_complex=True, doc="""Tangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tan(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Asin, asin = _unary_op("asin", lambda xp, a: xp.arcsin(a),
                       lambda g, x, o: g * _conj(rsqrt(1 - x * x)), on_complex=True, doc="""Arcsine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.asin(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Acos, acos = _unary_op("acos", lambda xp, a: xp.arccos(a),
                       lambda g, x, o: -g * _conj(rsqrt(1 - x * x)), on_complex=True,
                       doc="""Arccosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.acos(flambeau.tensor([1.0]))
    tensor([0.])
    """)
Atan, atan = _unary_op("atan", lambda xp, a: xp.arctan(a),
                       lambda g, x, o: g / _conj(1 + x * x), on_complex=True, doc="""Arctangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atan(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Sinh, sinh = _unary_op("sinh", lambda xp, a: xp.sinh(a), lambda g, x, o: g * _conj(cosh(x)),
                       on_complex=True, doc="""Hyperbolic sine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sinh(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Cosh, cosh = _unary_op("cosh", lambda xp, a: xp.cosh(a), lambda g, x, o: g * _conj(sinh(x)),
                       on_complex=True, doc="""Hyperbolic cosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cosh(flambeau.tensor([0.0]))
    tensor([1.])
    """)
Tanh, tanh = _unary_op("tanh", lambda xp, a: xp.tanh(a), lambda g, x, o: g * _conj(1 - o * o),
                       save="out", array_grad=lambda xp, g, o: g * (1 - o * o), on_complex=True,
                       doc="""Hyperbolic tangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tanh(flambeau.tensor([0.0]))
    tensor([0.])
    """)


def _sigmoid_fwd(xp, a):
    if a.dtype in LOW_PRECISION_NP:  # four operations: in float32, rounded once
        return _sigmoid_fwd(xp, a.astype("float32")).astype(a.dtype)
    e = xp.negative(a, out=xp.empty_like(a))  # out=: an array even for 0-d inputs
    with errors_ignored(xp, "over"):  # exp(-a) = inf for very negative a: 1 / inf = 0, the limit
        xp.exp(e, out=e)
    e += 1
    return xp.reciprocal(e, out=e)


Sigmoid, sigmoid = _unary_op("sigmoid", _sigmoid_fwd, lambda g, x, o: g * _conj(o * (1 - o)),
                             save="out", array_grad=lambda xp, g, o: g * o * (1 - o),
                             on_complex=True,
                             doc="""``1 / (1 + exp(-input))``, stable for large inputs.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sigmoid(flambeau.tensor([0.0, 100.0]))
    tensor([0.5000, 1.0000])
    """)
Relu, relu = _unary_op("relu", lambda xp, a: xp.maximum(a, 0).astype(a.dtype, copy=False),
                       lambda g, x, o: step_grad(g, o, ~(o._data <= 0)), save="out",
                       float_only=False,
                       # torch's threshold_backward selects: a NaN gradient stops where the
                       # output is 0, and passes where a NaN input made a NaN output
                       array_grad=lambda xp, g, o: select(xp, o <= 0, 0, g),
                       doc="""``max(input, 0)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.relu(flambeau.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """)


class ReluInPlace(_WrittenInPlace, Relu):
    """The output it saves for backward is the written tensor's storage under the tensor's
    own version counter (as torch's): changing it in place afterwards is caught at backward.
    An alias, not the tensor, so that the tensor and its node do not hold each other."""

    _node_name = "ReluBackward0"

    @classmethod
    def forward(cls, ctx, x):
        xp = x._device._xp
        xp.maximum(x._data, 0, out=x._data)
        x._version_counter.value += 1
        out = make(x._data, x)
        out._version_counter = x._version_counter
        ctx.save_for_backward(out)
        return x._data


Erf, erf = _unary_op("erf", _erf_generic,
                     lambda g, x, o: g * _TWO_OVER_SQRT_PI * exp(-x * x), doc="""Error function.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.erf(flambeau.tensor([0.0, 10.0]))
    tensor([0., 1.])
    """)
Erfc, erfc = _unary_op("erfc", lambda xp, a: _erf.erfc(xp, a.astype(xp.float64)).astype(
                           a.dtype, copy=False),  # not 1 - erf: that is 0 beyond x = 6
                       lambda g, x, o: -g * _TWO_OVER_SQRT_PI * exp(-x * x),
                       doc="""``1 - erf(input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.erfc(flambeau.tensor([0.0]))
    tensor([1.])
    """)
Floor, floor = _unary_op("floor", lambda xp, a: xp.floor(a), _zero_grad, save="",
                         float_only=False, doc="""Round down.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.floor(flambeau.tensor([1.5, -1.5]))
    tensor([ 1., -2.])
    """)
Ceil, ceil = _unary_op("ceil", lambda xp, a: xp.ceil(a), _zero_grad, save="", float_only=False,
                       doc="""Round up.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ceil(flambeau.tensor([1.5, -1.5]))
    tensor([ 2., -1.])
    """)
Trunc, trunc = _unary_op("trunc", lambda xp, a: xp.trunc(a), _zero_grad, save="",
                         float_only=False, doc="""Round toward zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.trunc(flambeau.tensor([1.5, -1.5]))
    tensor([ 1., -1.])
    """)
Frac, frac = _unary_op("frac", lambda xp, a: a - xp.trunc(a), lambda g, x, o: g, save="",
                       doc="""``input - trunc(input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.frac(flambeau.tensor([1.25, -1.5]))
    tensor([ 0.2500, -0.5000])
    """)
Sign, sign = _unary_op("sign", _sign, _zero_grad, save="", float_only=False,
                       doc="""-1, 0 or 1 by the sign of each element.

    Raises
    ------
    NotImplementedError
        For complex tensors, as PyTorch: :func:`sgn` is their sign.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sign(flambeau.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """)


def _sgn_complex(xp, a):
    # times 1 / |z| (0 at 0), a real array: complex division by |z| costs 2x the whole op
    r = xp.abs(a)
    zero = r == 0
    inv = xp.where(zero, 0, 1 / xp.where(zero, 1, r)).astype(r.dtype, copy=False)
    return a * inv


def _sgn_complex_grad(g, z, o):
    # s = z / |z|: ds/dz = 1 / (2|z|), ds/dconj(z) = -s^2 / (2|z|), so the gradient is
    # (g - s^2 conj(g)) / (2|z|), and 0 at z = 0 (PyTorch's convention)
    r = abs(z)
    zero = r == 0
    s = sgn(z)
    return where(zero, 0.0, (g - s * s * _conj(g)) / (2 * where(zero, 1.0, r)))


Sgn, sgn = _unary_op("sgn", _sign, _zero_grad, save="", float_only=False,
                     on_complex={"fwd": _sgn_complex, "grad": _sgn_complex_grad, "save": "x"},
                     doc="""The sign of each element: ``z / |z|`` for complex ``z`` (0 at 0), and
    :func:`sign` for real tensors.

    The gradient of a real input is 0; a complex one's is ``(g - s**2 conj(g)) / (2|z|)``
    with ``s = sgn(z)`` (0 at 0), as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sgn(flambeau.tensor([3 + 4j, 0j, 2j]))
    tensor([0.6000+0.8000j, 0.0000+0.0000j, 0.0000+1.0000j])
    >>> flambeau.tensor([-2.0, 0.0, 3.0]).sgn()
    tensor([-1.,  0.,  1.])
    """)


def round(input, *, decimals=0, out=None):  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch), optionally to ``decimals`` places.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.round(flambeau.tensor([0.5, 1.5, 2.567]))
    tensor([0., 2., 3.])
    >>> flambeau.round(flambeau.tensor([2.567]), decimals=2)
    tensor([2.5700])
    """
    refuse_complex("round", input)
    if input._data.dtype in FLOAT8_NP:
        _refuse_float8("round_decimals" if decimals else "round", input)
    return _out(_Round.apply(input, decimals), out)


class _Round(Function):
    @staticmethod
    def forward(ctx, x, decimals):
        return x._device._xp.round(x._data, decimals)

    @staticmethod
    def backward(ctx, g):
        return _zeros_of(g), None


# ------------------------------------------------------------------ clamp, min/max, where


class Clamp(Function):
    _node_name = "ClampBackward1"  # torch's node of clamp with number bounds

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = x._device._xp
        a = x._data
        if lo is not None:
            a = xp.maximum(a, lo)
        if hi is not None:
            a = xp.minimum(a, hi)
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return a.astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return (where(mask, g, _zeros_of(g)) if mask is not None else g), None, None


class ClampTensors(Function):
    """``clamp`` with tensor bounds. As PyTorch's, each element's gradient goes to the one
    operand its value came from: the input on ties with a bound, ``max`` where ``min > max``,
    and nobody where a NaN made the value."""

    _node_name = "ClampBackward0"
    _graph_inputs = (0, 1, 2)  # a bound left out (None) is an input all the same in torch

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = x._device._xp
        a = x._data
        try:
            if lo is not None:
                a = xp.maximum(a, lo._data)
            if hi is not None:
                a = xp.minimum(a, hi._data)
        except ValueError:
            shapes = ", ".join(str(tuple(t.shape)) for t in (x, lo, hi) if t is not None)
            raise RuntimeError(f"clamp: the input and bounds of shapes {shapes} cannot be "
                               "broadcast together") from None
        ctx.save_for_backward(x, lo, hi)
        return a

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        zero = g.new_zeros(())
        keep = None if lo is None else x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        g_lo = g_hi = None
        if lo is not None:
            below = x < lo if hi is None else (x < lo) & (lo <= hi)
            g_lo = where(below, g, zero)
        if hi is not None:
            raised = x if lo is None else where(x >= lo, x, lo)
            g_hi = where(raised > hi, g, zero)
        return where(keep, g, zero), g_lo, g_hi


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either bound may be None or a tensor).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.clamp(flambeau.tensor([-2.0, 0.5, 3.0]), min=-1, max=1)
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        refuse_complex("clamp", input, min, max, hint=_NO_ORDER)
        lo = None if min is None else min if isinstance(min, Tensor) else _full_like(input, min)
        hi = None if max is None else max if isinstance(max, Tensor) else _full_like(input, max)
        x = input
        for bound in (lo, hi):
            if bound is not None:
                x, _ = promote("clamp", x, bound)
        if x._data.dtype in FLOAT8_NP:
            _refuse_float8("clamp", x)
        lo = None if lo is None else lo.to(x.dtype)
        hi = None if hi is None else hi.to(x.dtype)
        return _out(ClampTensors.apply(x, lo, hi), out)
    lo, hi = scalar_value(min), scalar_value(max)
    if input._data.dtype not in FLOAT_NP:
        if input._data.dtype in FLOAT8_NP:
            _refuse_float8("clamp_scalar" if lo is not None and hi is not None else
                           "clamp_min_scalar" if hi is None else "clamp_max_scalar", input)
        refuse_complex("clamp", input, hint=_NO_ORDER)
        # the bounds promote as the operands of a binary op: a float bound gives floats, an
        # int bound makes bools int64; an int bound out of an integer dtype's range is
        # refused as by fill_ (an unsigned dtype wraps negatives down to -max)
        for bound in (lo, hi):
            if bound is not None and bound.__class__ is not complex:
                input = cast_for_scalar(input, bound)
        lo = None if lo is None else fill_int(lo, input._data.dtype)
        hi = None if hi is None else fill_int(hi, input._data.dtype)
    if lo.__class__ is complex or hi.__class__ is complex:
        refuse_complex("clamp", lo, hi, hint=_NO_ORDER)
    result = Clamp.apply(input, lo, hi)
    # number bounds: PyTorch wants out in the result's dtype (tensor bounds cast into it)
    return result if out is None else _out(result, out, exact=True)


clip = clamp


def _full_like(t, v):
    return make(t._device._xp.full(t._data.shape, v, dtype=t._data.dtype), t)


class _MaxMin(Function):
    _pick = None  # "maximum", "minimum", "fmax" or "fmin": the op and its NumPy ufunc

    @classmethod
    def forward(cls, ctx, a, b):
        xp = a._device._xp
        try:
            out = getattr(xp, cls._pick)(a._data, b._data)
        except ValueError:
            raise _broadcast_error(cls._pick, a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        dt = g.dtype
        if cls._pick in ("fmax", "fmin"):
            # torch's: the first operand takes the gradient where it is picked or ties, or
            # where the second is NaN; the second takes the rest
            first = ((a >= b) if cls._pick == "fmax" else (a <= b)) | isnan(b)
            return g * first.to(dt), g * (~first).to(dt)
        # torch's: ties split the gradient evenly, and where either is NaN both take it;
        # the loser gets zeros, even from a NaN gradient
        half = (a == b).to(dt) * 0.5
        a_loses, b_loses = (a < b, a > b) if cls._pick == "maximum" else (a > b, a < b)
        zero = _zeros_of(g)
        return (where(a_loses, zero, g * (1 - half)), where(b_loses, zero, g * (1 - half)))


class Maximum(_MaxMin):
    _pick = "maximum"


class Minimum(_MaxMin):
    _pick = "minimum"


class Fmax(_MaxMin):
    _pick = "fmax"


class Fmin(_MaxMin):
    _pick = "fmin"


def _min_max(fn, op, input, other, out):
    """``op`` (maximum, minimum, fmax, fmin) of two tensors: torch has no overload that
    takes a number (a number was an AttributeError here)."""
    need_tensor(op, input)
    need_tensor(op, other, "other", 2)
    result = _real_binary(fn, op, input, other)
    return result if out is None else _out(result, out)


def maximum(input, other, *, out=None):
    """Elementwise maximum (ties split the gradient evenly).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.maximum(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _min_max(Maximum, "maximum", input, other, out)


def minimum(input, other, *, out=None):
    """Elementwise minimum.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.minimum(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([1., 2.])
    """
    return _min_max(Minimum, "minimum", input, other, out)


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN: the other operand where one is NaN (NaN only
    where both are), unlike :func:`maximum`, which propagates NaN.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fmax(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _min_max(Fmax, "fmax", input, other, out)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN: the other operand where one is NaN (NaN only
    where both are), unlike :func:`minimum`, which propagates NaN.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fmin(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([1., 2.])
    """
    return _min_max(Fmin, "fmin", input, other, out)


class Where(Function):
    _graph_inputs = (1, 2)  # not the condition; a number operand as (None, 0), as torch's

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        t = a if isinstance(a, Tensor) else b
        try:
            return select(t._device._xp, cond._data, _raw(a), _raw(b))
        except ValueError:
            raise RuntimeError(
                f"where: condition {tuple(cond.shape)}, input "
                f"{tuple(a.shape) if isinstance(a, Tensor) else ()} and other "
                f"{tuple(b.shape) if isinstance(b, Tensor) else ()} cannot be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = _zeros_of(g)  # selected, so that a NaN gradient stays on its side
        ga = where(cond, g, zero) if ctx.needs_input_grad[1] else None
        gb = where(cond, zero, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


#: ``masked_fill(mask, value)``: ``where(mask, value, input)`` named as torch's, for a
#: number value and a 0-d tensor one
MaskedFill = node_variant(Where, "MaskedFillBackward0", (2,))
MaskedFillTensor = node_variant(Where, "MaskedFillBackward1", (2, 1))


def where(condition, input=None, other=None, *, out=None):
    """Pick from ``input`` where ``condition`` holds, else from ``other``.

    With only ``condition``, returns the indices of its non-zero elements (``nonzero``).

    Examples
    --------
    >>> import flambeau
    >>> c = flambeau.tensor([True, False])
    >>> flambeau.where(c, flambeau.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    """
    if input is None and other is None:
        from flambeau._ops.indexing import nonzero

        return nonzero(condition, as_tuple=True)
    return _out(selected(Where, condition, input, other), out)


def selected(cls, condition, input, other):
    """``where(condition, input, other)`` recorded as ``cls``: :class:`Where`, or a subclass
    named as the torch op it implements (:class:`MaskedFill`)."""
    if not isinstance(condition, Tensor):
        raise TypeError("where: condition must be a bool Tensor")
    if condition._data.dtype.kind != "b":
        condition = condition != 0
    # a Python int beside an integer tensor takes its dtype: torch checks its range (uint8
    # takes -1 as 255, refuses 300) where NumPy would wrap it around
    if other.__class__ is int and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        other = fill_int(other, input._data.dtype)
    elif input.__class__ is int and isinstance(other, Tensor) and other._data.dtype.kind in "iu":
        input = fill_int(input, other._data.dtype)
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        a, b = promote("where", input, other)
    else:
        from flambeau._creation import tensor as _tensor

        a, b = promote("where", _tensor(input, device=condition.device), other)
    ref = a if isinstance(a, Tensor) else b
    if condition._device is not ref._device:
        raise RuntimeError(
            f"where: expected condition, x and y to be on the same device, but condition is on "
            f"{condition._device} and x and y are on {ref._device}"
        )
    result = cls.apply(condition, a, b)
    if result._data.dtype != ref._data.dtype:
        result = result.to(ref.dtype)
    return result


# ------------------------------------------------------------------ comparisons and logic


def _compare(name, xp_name, doc, ordered=False):
    """An elementwise comparison or logical op; ``ordered`` ones (``<``...) refuse complex
    tensors, which NumPy would compare lexicographically."""
    def op(input, other, *, out=None):
        a, b = promote(name, input, other)
        if isinstance(a, Tensor):
            t, raw_a, raw_b = a, a._data, _raw(b)
        else:
            t, raw_a, raw_b = b, a, b._data
        if ordered and t._data.dtype not in FLOAT_NP:
            refuse_complex(name, t, hint=_NO_ORDER)
        try:
            res = make(getattr(t._device._xp, xp_name)(raw_a, raw_b), t)
        except ValueError:
            raise _broadcast_error(name, a, b) from None
        except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
            refuse_sparse_inputs((a, b), name)
            raise
        return res if out is None else _out(res, out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


eq = _compare("eq", "equal", """Elementwise ``==`` (a bool tensor).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.eq(flambeau.tensor([1, 2]), 2)
    tensor([False,  True])
    """)
ne = _compare("ne", "not_equal", """Elementwise ``!=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ne(flambeau.tensor([1, 2]), 2)
    tensor([ True, False])
    """)
lt = _compare("lt", "less", """Elementwise ``<``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.lt(flambeau.tensor([1, 2]), 2)
    tensor([ True, False])
    """, ordered=True)
le = _compare("le", "less_equal", """Elementwise ``<=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.le(flambeau.tensor([1, 2]), 2)
    tensor([True, True])
    """, ordered=True)
gt = _compare("gt", "greater", """Elementwise ``>``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.gt(flambeau.tensor([1, 2]), 1)
    tensor([False,  True])
    """, ordered=True)
ge = _compare("ge", "greater_equal", """Elementwise ``>=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ge(flambeau.tensor([1, 2]), 2)
    tensor([False,  True])
    """, ordered=True)
logical_and = _compare("logical_and", "logical_and", """Elementwise logical and.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logical_and(flambeau.tensor([True, True]), flambeau.tensor([True, False]))
    tensor([ True, False])
    """)
logical_or = _compare("logical_or", "logical_or", """Elementwise logical or.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logical_or(flambeau.tensor([True, False]), flambeau.tensor([False, False]))
    tensor([ True, False])
    """)
logical_xor = _compare("logical_xor", "logical_xor", """Elementwise logical xor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logical_xor(flambeau.tensor([True, True]), flambeau.tensor([True, False]))
    tensor([False,  True])
    """)


def _bitwise(name, xp_name, doc):
    def op(input, other, *, out=None):
        a, b = promote(name, input, other)
        t = a if isinstance(a, Tensor) else b
        if t._data.dtype in FLOAT_NP:
            raise RuntimeError(f'"{name}" is not implemented for floating-point tensors '
                               f"(got {t.dtype}); use logical ops on bool tensors")
        refuse_complex(name, t)
        return _out(make(getattr(t._device._xp, xp_name)(_raw(a), _raw(b)), t), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and", """Elementwise ``&`` of integer/bool tensors.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_and(flambeau.tensor([6]), 3)
    tensor([2])
    """)
bitwise_or = _bitwise("bitwise_or", "bitwise_or", """Elementwise ``|``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_or(flambeau.tensor([4]), 1)
    tensor([5])
    """)
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", """Elementwise ``^``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_xor(flambeau.tensor([6]), 3)
    tensor([5])
    """)


def logical_not(input, *, out=None):
    """Elementwise logical not (non-zero is True).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logical_not(flambeau.tensor([0, 2]))
    tensor([ True, False])
    """
    try:
        return _out(make(input._device._xp.logical_not(input._data), input), out)
    except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
        refuse_sparse_inputs((input,), "logical_not")
        raise


def bitwise_not(input, *, out=None):
    """``~input`` for integer and bool tensors.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_not(flambeau.tensor([True, False]))
    tensor([False,  True])
    """
    if input._data.dtype in FLOAT_NP:
        raise RuntimeError("bitwise_not: not implemented for floating-point tensors")
    refuse_complex("bitwise_not", input)
    return _out(make(input._device._xp.invert(input._data), input), out)


def _predicate(name, xp_name, doc):
    checked = name != "isnan"  # which torch computes on every float8

    def op(input):
        if checked and input._data.dtype in FLOAT8_NP:
            _refuse_float8(name, input)
        try:
            return make(getattr(input._device._xp, xp_name)(input._data), input)
        except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
            refuse_sparse_inputs((input,), name)
            raise

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


isnan = _predicate("isnan", "isnan", """True where the value is NaN.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isnan(flambeau.tensor([1.0, float("nan")]))
    tensor([False,  True])
    """)
isinf = _predicate("isinf", "isinf", """True where the value is +/- infinity.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isinf(flambeau.tensor([1.0, float("inf")]))
    tensor([False,  True])
    """)
isfinite = _predicate("isfinite", "isfinite", """True where the value is neither inf nor NaN.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isfinite(flambeau.tensor([1.0, float("inf")]))
    tensor([ True, False])
    """)


@with_out
def nan_to_num(input, nan=None, posinf=None, neginf=None):
    """Replace NaN (by ``nan``, 0 when None) and infinities (by the dtype's extremes when
    None) with finite numbers (gradient passes where finite).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nan_to_num(flambeau.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    if input._data.dtype in FLOAT8_NP:
        _refuse_float8("nan_to_num", input)
    xp = input._device._xp
    fixed = make(xp.nan_to_num(input._data, nan=0.0 if nan is None else nan, posinf=posinf,
                               neginf=neginf), input)
    return where(isfinite(input), input, fixed)


@with_out
def lerp(input, end, weight):
    """``input + weight * (end - input)``.

    As in PyTorch, a weight of magnitude 0.5 or more is applied from the other end, ``end -
    (end - input) * (1 - weight)``: ``weight == 1`` gives ``end`` exactly, and
    ``lerp(inf, 1, 0.5)`` is ``inf`` (not ``inf - inf``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.lerp(flambeau.tensor([0.0]), flambeau.tensor([10.0]), 0.25)
    tensor([2.5000])
    """
    a, b = promote_float("lerp", input, end)
    a = a if isinstance(a, Tensor) else scalar_tensor(a, b)
    b = b if isinstance(b, Tensor) else scalar_tensor(b, a)
    if isinstance(weight, Tensor):
        check_same_device("lerp", a, weight)
        w = weight if weight.dtype == a.dtype else weight.to(a.dtype)
    else:
        return _LerpByNumber.apply(a, b, scalar_tensor(weight, a))
    return Lerp.apply(a, b, w)


class Lerp(Function):
    """``lerp`` with a tensor weight (``_LerpByNumber``: a number weight, torch's other
    overload)."""

    _node_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        xp = a._device._xp
        diff = b._data - a._data
        wd = w._data
        return xp.where(xp.abs(wd) < 0.5, a._data + wd * diff, b._data - diff * (1 - wd))

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        wc = w.conj() if w.is_complex() else w
        gw = g * (b - a).conj() if ctx.needs_input_grad[2] else None
        return g * (1 - wc), g * wc, gw


@with_out
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addcmul(flambeau.ones(2), flambeau.ones(2), flambeau.ones(2), value=2)
    tensor([3., 3.])
    """
    return input + value * tensor1 * tensor2


@with_out
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addcdiv(flambeau.ones(2), flambeau.ones(2), flambeau.full((2,), 4.0))
    tensor([1.2500, 1.2500])
    """
    return input + value * tensor1 / tensor2


_LerpByNumber = node_variant(Lerp, "LerpBackward0", (0, 1))


def atan2(input, other, *, out=None):
    """Elementwise ``atan(input / other)`` with the quadrant of (other, input).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atan2(flambeau.tensor([1.0]), flambeau.tensor([1.0]))
    tensor([0.7854])
    """
    refuse_complex("atan2", input, other)
    a, b = promote_float("atan2", input, other)
    # a number operand (PyTorch takes tensors only) as a 0-d tensor of the other's dtype
    result = Atan2.apply(a if isinstance(a, Tensor) else scalar_tensor(a, b),
                         b if isinstance(b, Tensor) else scalar_tensor(b, a))
    return result if out is None else _out(result, out)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._device._xp.arctan2(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        # at the origin (or where the squares underflow) both slopes are 0, as in PyTorch
        denom = denom.masked_fill(denom == 0, 1)
        return g * b / denom, -g * a / denom


@with_out
def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` computed stably.

    Infinities give their limits (``logaddexp(inf, 1) == inf``, ``logaddexp(-inf, -inf) ==
    -inf``). For complex operands the one of larger real part (``input`` on a tie) is
    factored out, as in PyTorch, which fixes the branch of the imaginary part; a NaN in
    either part of either operand gives ``nan+nanj``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logaddexp(flambeau.tensor([1000.0]), flambeau.tensor([1000.0]))
    tensor([1000.6932])
    >>> flambeau.logaddexp(flambeau.tensor([1j]), flambeau.tensor([-1j]))
    tensor([0.0775+0.j])
    >>> flambeau.logaddexp(flambeau.tensor([float("inf") + 0j]), flambeau.tensor([1 + 1j]))
    tensor([inf+0.j])
    """
    if _integral(input) and _integral(other):  # as torch: no integer or bool kernel
        t = input if isinstance(input, Tensor) else other
        raise NotImplementedError(f'"logaddexp" is not implemented for {t.dtype} tensors (only '
                                  "floating-point and complex ones); convert them with .float() "
                                  "first")
    return LogAddExp.apply(*promote_float("logaddexp", input, other))


def _integral(v):
    """Whether ``v`` is a bool or integer tensor or Python number."""
    if isinstance(v, Tensor):
        return v._data.dtype.kind in "biu"
    return isinstance(v, int)


class LogAddExp(Function):
    @staticmethod
    def forward(ctx, a, b):
        t = a if isinstance(a, Tensor) else b
        xp = t._device._xp
        x, y = (xp.asarray(_raw(v), dtype=t._data.dtype) for v in (a, b))
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)
        try:
            with errors_ignored(xp):
                if t._data.dtype.kind == "c":
                    return _complex_logaddexp(xp, x, y)
                return xp.logaddexp(x, y)
        except ValueError:
            raise _broadcast_error("logaddexp", a, b) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        a = sa if a is None else a
        b = sb if b is None else b
        # d/da log(e^a + e^b) = 1 / (1 + e^(b - a)): finite where an operand is infinite
        ga = g / _conj(1 + exp(b - a)) if ctx.needs_input_grad[0] else None
        gb = g / _conj(1 + exp(a - b)) if ctx.needs_input_grad[1] else None
        return ga, gb


def _complex_logaddexp(xp, x, y):
    """logaddexp of complex arrays: ``hi + log1p(exp(lo - hi))`` with ``hi`` the operand of
    larger real part, so that ``|exp(lo - hi)| <= 1``. NumPy's complex log1p is log(1 + w),
    which loses the digits of a small ``w``; its real part is computed here as
    ``log|1 + w| = log1p(|1 + w|^2 - 1) / 2`` near 0 and ``log(hypot(1 + u, v))`` where
    ``1 + w`` is small (no cancellation either way)."""
    first = xp.real(x) >= xp.real(y)  # a tie factors out x, as torch: it picks the branch
    hi = xp.where(first, x, y)
    lo = xp.where(first, y, x)
    w = xp.exp(lo - hi)
    u, v = xp.real(w), xp.imag(w)
    s = u * (2 + u) + v * v  # |1 + w|^2 - 1
    out = xp.empty_like(hi)
    out.real = xp.where(xp.abs(s) < 0.5, 0.5 * xp.log1p(s), xp.log(xp.hypot(1 + u, v)))
    out.imag = xp.arctan2(v, 1 + u)
    out += hi
    # lo - hi is NaN when both real parts are the same infinity: +inf gives
    # log(exp(x) + exp(y)) with C99's complex exp and log (the sum's angle), -inf gives y
    # (its exp is 0; torch returns the second operand)
    rx, ry = xp.real(x), xp.real(y)
    both = (rx == ry) & xp.isinf(rx)
    if bool(both.any()):
        out = xp.where(both & (rx > 0), xp.log(xp.exp(x) + xp.exp(y)), out)
        out = xp.where(both & (rx < 0), y, out)
    nan = xp.isnan(x) | xp.isnan(y)  # a NaN part anywhere spreads to both parts
    return xp.where(nan, xp.asarray(complex(math.nan, math.nan), dtype=out.dtype), out)


@with_out
def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xlogy(flambeau.tensor([0.0, 2.0]), flambeau.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    refuse_complex("xlogy", input, other)
    input, other = promote_float("xlogy", input, other)
    if not isinstance(other, Tensor):  # a number keeps input's dtype through log and where
        other = scalar_tensor(other, input)
    zero = (input == 0) & (other == other)  # as torch: 0 where input is 0, unless other is NaN
    safe = where(zero, 1.0, other)
    out = where(zero, 0.0, input * log(safe))
    if isinstance(input, Tensor) and input.requires_grad:
        # torch's gradient in ``input`` is log(other) also where input is 0 (for a finite
        # other > 0): add a term that is 0 in value and has that gradient
        at_zero = zero & (other > 0) & (other < math.inf)
        out = out + where(at_zero, (input - input.detach()) * log(where(at_zero, other, 1.0)),
                          0.0)
    return out


@with_out
def hypot(input, other):
    """``sqrt(input**2 + other**2)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hypot(flambeau.tensor([3.0]), flambeau.tensor([4.0]))
    tensor([5.])
    """
    refuse_complex("hypot", input, other)
    input, other = promote("hypot", to_float(input), other)
    return Hypot.apply(input, other)


class Hypot(Function):
    """``hypot`` without overflow or underflow of the squares (NumPy's), ``hypot(inf, nan)``
    inf; the gradient ``g * x / hypot``, NaN at ``(0, 0)`` as torch's."""

    @staticmethod
    def forward(ctx, a, b):
        out = make(a._device._xp.hypot(a._data, b._data), a)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        return g * a / out, g * b / out


@with_out
def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when eps is given.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logit(flambeau.tensor([0.5]))
    tensor([0.])
    """
    refuse_complex("logit", input)
    if input._data.dtype in FLOAT8_NP:
        _refuse_float8("logit", input)
    input = to_float(input)  # bools and integers too: logit(True) is inf, as in PyTorch
    return Logit.apply(input, eps)


class Logit(Function):
    """``logit`` with PyTorch's slopes: ``1 / (x (1 - x))``, NaN outside ``[0, 1]`` without
    ``eps``, and 0 outside ``[eps, 1 - eps]`` (where the clamp holds the value) with it."""

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        xp = x._device._xp
        p = x._data if eps is None else xp.clip(x._data, eps, 1 - eps)
        with errors_ignored(xp):
            return xp.log(p / (1 - p)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        slope = g / (x * (1 - x)).abs()  # positive on [0, 1]: +inf at -0.0 too, as torch
        if eps is None:
            return slope.masked_fill((x < 0) | (x > 1), math.nan), None
        return slope.masked_fill((x < eps) | (x > 1 - eps), 0), None


def positive(input):
    """``+input`` (the tensor itself).

    Raises
    ------
    RuntimeError
        For a bool tensor, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.positive(flambeau.tensor([1]))
    tensor([1])
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input



def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (a bool tensor).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isclose(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    a, b = promote("isclose", input, other)
    t = a if isinstance(a, Tensor) else b
    res = t._device._xp.isclose(_raw(a), _raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
    return make(res, t)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.allclose(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:
    """Whether two tensors have the same shape and elements.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.equal(flambeau.tensor([1, 2]), flambeau.tensor([1, 2]))
    True
    """
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(eq(input, other).all())

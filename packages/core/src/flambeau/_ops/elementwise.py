"""Elementwise ops: arithmetic, unary math, comparisons, logic, where, clamp.

Backward formulas are written with flambeau ops, so they are differentiable themselves.
Broadcast gradients are reduced to the input shapes by the engine, not here.
"""

from __future__ import annotations

import math

from flambeau._ops import _erf
from flambeau._ops._select import errors_ignored, select
from flambeau._ops._util import (
    FLOAT_NP,
    Tensor,
    make,
    promote,
    scalar_value,
    to_float,
    with_out,
    write_out,
)
from flambeau.amp import _autocast
from flambeau.autograd._function import Function
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
    "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "sub", "tan", "tanh", "true_divide",
    "trunc", "where", "xlogy",
]

# ------------------------------------------------------------------ binary arithmetic


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _xp(a, b):
    return (a if isinstance(a, Tensor) else b)._device._xp


def _broadcast_error(op, a, b):
    sa = tuple(a.shape) if isinstance(a, Tensor) else ()
    sb = tuple(b.shape) if isinstance(b, Tensor) else ()
    return RuntimeError(
        f"{op}: the size of tensor a {sa} must match the size of tensor b {sb} "
        "at each non-singleton dimension (shapes cannot be broadcast together)"
    )


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:
            return a._device._xp.add(a._data, b)
        try:
            return _xp(a, b).add(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:
            return a._device._xp.subtract(a._data, b)
        try:
            return _xp(a, b).subtract(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


def _save_operands(ctx, a, b, a_for, b_for):
    """Save the tensor operands a backward needs, as torch does: ``a`` only when input
    ``a_for``'s gradient is needed, ``b`` only for ``b_for`` (None: for either input). An
    operand that is not saved can then change in place (``h[:, t + 1] = h[:, t] * 2``)."""
    need = ctx.needs_input_grad
    keep_a = isinstance(a, Tensor) and need[a_for]
    keep_b = isinstance(b, Tensor) and (need[0] or need[1] if b_for is None else need[b_for])
    ctx.save_for_backward(a if keep_a else None, b if keep_b else None)
    ctx.scalars = (None if isinstance(a, Tensor) else a, None if isinstance(b, Tensor) else b)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:  # tensor * scalar: nothing to check or save but the scalar
            ctx.scalars = (None, b)
            ctx.save_for_backward(None, None)
            return a._device._xp.multiply(a._data, b)
        try:
            out = _xp(a, b).multiply(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error("mul", a, b) from None
        _save_operands(ctx, a, b, a_for=1, b_for=0)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = g * (b if b is not None else sb) if ctx.needs_input_grad[0] else None
        gb = g * (a if a is not None else sa) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        if b.__class__ is float:  # tensor / scalar: only the scalar is needed for backward
            ctx.save_for_backward(None, None)
            ctx.scalars = (None, b)
            return a._device._xp.true_divide(a._data, b)
        try:
            out = _xp(a, b).true_divide(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error("div", a, b) from None
        _save_operands(ctx, a, b, a_for=1, b_for=None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        denom = b if b is not None else sb
        ga = g / denom if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            num = a if a is not None else sa
            gb = -g * num / (b * b)
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = _xp(a, b)
        try:
            out = xp.power(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        out_t = make(out, a if isinstance(a, Tensor) else b)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None, out_t)
        ctx.scalars = (a, b)
        return out_t

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.scalars
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b is None:
                ga = g * 0.0 if sb == 0 else g * sb * a ** (sb - 1)
            else:
                ga = g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            base = a if a is not None else sa
            if a is None:
                gb = g * out * math.log(sa) if sa > 0 else g * out * float("nan")
            else:
                # d/db a**b = a**b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0
                safe = where((base == 0) & (b >= 0), 0.0, out * log(base))
                gb = g * safe
        return ga, gb


def _binary(fn, op_name, a, b):
    a, b = promote(op_name, a, b)
    return fn.apply(a, b)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.add(flambeau.tensor([1, 2]), flambeau.tensor([10, 20]), alpha=2)
    tensor([21, 42])
    """
    if alpha != 1:
        other = mul(other, alpha)
    return _out(_binary(Add, "add", input, other), out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sub(flambeau.tensor([5.0]), 2)
    tensor([3.])
    """
    if isinstance(input, Tensor) and input._data.dtype.kind == "b" and isinstance(other, Tensor) \
            and other._data.dtype.kind == "b":
        raise RuntimeError("sub: subtraction of two bool tensors is not supported; use "
                           "logical_xor() or the `^` operator instead")
    if alpha != 1:
        other = mul(other, alpha)
    return _out(_binary(Sub, "sub", input, other), out)


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
        # integer dtype's wrapped-around one)
        if isinstance(a, Tensor) and a._data.dtype not in FLOAT_NP:
            a = to_float(a)
            b = to_float(b) if isinstance(b, Tensor) else scalar_value(other)
        elif isinstance(b, Tensor) and b._data.dtype not in FLOAT_NP:
            a, b = scalar_value(input), to_float(b)
        return _out(Div.apply(a, b), out)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    a, b = promote("div", input, other)
    t = a if isinstance(a, Tensor) else b
    xp = t._device._xp
    if t._data.dtype in FLOAT_NP:
        q = xp.true_divide(_raw(a), _raw(b))
        q = xp.floor(q) if rounding_mode == "floor" else xp.trunc(q)
    elif rounding_mode == "floor":
        q = xp.floor_divide(_raw(a), _raw(b))
    else:
        q = xp.trunc(xp.true_divide(_raw(a), _raw(b))).astype(t._data.dtype)
    if _needs_grad(a, b) and t._data.dtype in FLOAT_NP:
        # a step function: PyTorch records it with a zero gradient
        return _out(_ZeroGrad.apply(make(q, t), a, b), out)
    return _out(make(q, t), out)


class _ZeroGrad(Function):
    """``value``, recorded as a function of ``a`` and ``b`` with zero gradients."""

    @staticmethod
    def forward(ctx, value, a, b):
        return value._data

    @staticmethod
    def backward(ctx, g):
        zero = g * 0.0
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
    return div(input, other, rounding_mode="floor", out=out)


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
    if _needs_grad(a, b) and t._data.dtype in FLOAT_NP:
        return sub(a, mul(div(a, b, rounding_mode=rounding).detach(), b))
    xp_fn = t._device._xp.remainder if rounding == "floor" else t._device._xp.fmod
    return make(xp_fn(_raw(a), _raw(b)), t)


def _needs_grad(a, b):
    return (isinstance(a, Tensor) and a._requires_grad) or (
        isinstance(b, Tensor) and b._requires_grad)


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
    if isinstance(a, Tensor) and isinstance(b, int) and not isinstance(b, bool) and b < 0 \
            and a._data.dtype.kind in "iu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _out(Pow.apply(a, b), out)


@with_out
def float_power(input, exponent):
    """``pow`` computed in float64.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.float_power(flambeau.tensor([2]), 2)
    tensor([4.], dtype=flambeau.float64)
    """
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
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

    _array_grad = None  # optional ``(g, out) -> array`` on arrays, for save="out" ops

    @classmethod
    def backward(cls, ctx, g):
        saved = ctx.saved_tensors
        if cls._array_grad is not None and not _grad_state.grad_enabled:
            # no graph of the gradient wanted: skip per-op dispatch on the hot activations
            return make(cls._array_grad(g._data, saved[0]._data), g)
        if cls._save == "out":
            return cls._grad(g, None, saved[0])
        if cls._save == "x":
            return cls._grad(g, saved[0], None)
        return cls._grad(g, None, None)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


#: unary ops whose backward does not read their input: their in-place forms need no snapshot
INPUT_FREE: set[str] = set()


def _unary_op(name, fwd, grad, save="x", float_only=True, doc="", array_grad=None):
    """Define the Function ``name`` and its wrapper (forward and backward side by side).

    ``array_grad(g, out)``, for ops that save their output, is the same gradient on bare
    arrays, used when no graph of the gradient is being built.
    """
    cls = type(name.capitalize().replace("_", ""), (_Unary,), {
        "_fwd": staticmethod(fwd), "_grad": staticmethod(grad), "_save": save,
        "_array_grad": None if array_grad is None else staticmethod(array_grad),
        "__doc__": f"The op behind :func:`flambeau.{name}`.",
    })

    if save != "x":
        INPUT_FREE.add(name)
    fp32 = name in _autocast.FP32_OPS  # autocast runs these in float32

    def op(input, *, out=None):
        if fp32 and _autocast.active:
            (input,) = _autocast.cast_inputs("fp32", input)
        if float_only and input._data.dtype not in FLOAT_NP:
            input = to_float(input)
        return _out(cls.apply(input), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return cls, op


def _zero_grad(g, x, out):
    return g * 0.0


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


Neg, neg = _unary_op("neg", lambda xp, a: xp.negative(a), lambda g, x, o: -g, save="",
                     float_only=False, doc="""``-input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.neg(flambeau.tensor([1, -2]))
    tensor([-1,  2])
    """)
Abs, abs = _unary_op("abs", lambda xp, a: xp.abs(a), lambda g, x, o: g * sign(x),  # noqa: A001
                     float_only=False, doc="""Absolute value.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.abs(flambeau.tensor([-1.5, 2.0]))
    tensor([1.5000, 2.0000])
    """)
Exp, exp = _unary_op("exp", lambda xp, a: xp.exp(a), lambda g, x, o: g * o, save="out",
                     doc="""``e ** input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.exp(flambeau.tensor([0.0, 1.0]))
    tensor([1.0000, 2.7183])
    """)
Exp2, exp2 = _unary_op("exp2", lambda xp, a: xp.exp2(a), lambda g, x, o: g * o * _LN2,
                       save="out", doc="""``2 ** input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.exp2(flambeau.tensor([3.0]))
    tensor([8.])
    """)
Expm1, expm1 = _unary_op("expm1", lambda xp, a: xp.expm1(a), lambda g, x, o: g * (o + 1),
                         save="out", doc="""``exp(input) - 1``, accurate near zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.expm1(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Log, log = _unary_op("log", lambda xp, a: xp.log(a), lambda g, x, o: g / x, doc="""Natural log.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log(flambeau.tensor([1.0]))
    tensor([0.])
    """)
Log1p, log1p = _unary_op("log1p", lambda xp, a: xp.log1p(a), lambda g, x, o: g / (x + 1),
                         doc="""``log(1 + input)``, accurate near zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log1p(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Log2, log2 = _unary_op("log2", lambda xp, a: xp.log2(a), lambda g, x, o: g / (x * _LN2),
                       doc="""Base-2 log.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log2(flambeau.tensor([8.0]))
    tensor([3.])
    """)
Log10, log10 = _unary_op("log10", lambda xp, a: xp.log10(a), lambda g, x, o: g / (x * _LN10),
                         doc="""Base-10 log.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log10(flambeau.tensor([100.0]))
    tensor([2.])
    """)
Sqrt, sqrt = _unary_op("sqrt", lambda xp, a: xp.sqrt(a), lambda g, x, o: g / (2 * o),
                       save="out", doc="""Square root.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sqrt(flambeau.tensor([4.0, 9.0]))
    tensor([2., 3.])
    """)
Rsqrt, rsqrt = _unary_op("rsqrt", lambda xp, a: 1 / xp.sqrt(a),
                         lambda g, x, o: -0.5 * g * o * o * o, save="out",
                         doc="""``1 / sqrt(input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rsqrt(flambeau.tensor([4.0]))
    tensor([0.5000])
    """)
Square, square = _unary_op("square", lambda xp, a: xp.multiply(a, a), lambda g, x, o: 2 * g * x,
                           float_only=False, doc="""``input * input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.square(flambeau.tensor([3.0]))
    tensor([9.])
    """)
Reciprocal, reciprocal = _unary_op("reciprocal", lambda xp, a: 1 / a,
                                   lambda g, x, o: -g * o * o, save="out", doc="""``1 / input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.reciprocal(flambeau.tensor([2.0]))
    tensor([0.5000])
    """)
Sin, sin = _unary_op("sin", lambda xp, a: xp.sin(a), lambda g, x, o: g * cos(x), doc="""Sine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sin(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Cos, cos = _unary_op("cos", lambda xp, a: xp.cos(a), lambda g, x, o: -g * sin(x), doc="""Cosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cos(flambeau.tensor([0.0]))
    tensor([1.])
    """)
Tan, tan = _unary_op("tan", lambda xp, a: xp.tan(a), lambda g, x, o: g * (1 + o * o),
                     save="out", doc="""Tangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tan(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Asin, asin = _unary_op("asin", lambda xp, a: xp.arcsin(a), lambda g, x, o: g * rsqrt(1 - x * x),
                       doc="""Arcsine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.asin(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Acos, acos = _unary_op("acos", lambda xp, a: xp.arccos(a),
                       lambda g, x, o: -g * rsqrt(1 - x * x), doc="""Arccosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.acos(flambeau.tensor([1.0]))
    tensor([0.])
    """)
Atan, atan = _unary_op("atan", lambda xp, a: xp.arctan(a), lambda g, x, o: g / (1 + x * x),
                       doc="""Arctangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atan(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Sinh, sinh = _unary_op("sinh", lambda xp, a: xp.sinh(a), lambda g, x, o: g * cosh(x),
                       doc="""Hyperbolic sine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sinh(flambeau.tensor([0.0]))
    tensor([0.])
    """)
Cosh, cosh = _unary_op("cosh", lambda xp, a: xp.cosh(a), lambda g, x, o: g * sinh(x),
                       doc="""Hyperbolic cosine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cosh(flambeau.tensor([0.0]))
    tensor([1.])
    """)
Tanh, tanh = _unary_op("tanh", lambda xp, a: xp.tanh(a), lambda g, x, o: g * (1 - o * o),
                       save="out", array_grad=lambda g, o: g * (1 - o * o),
                       doc="""Hyperbolic tangent.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tanh(flambeau.tensor([0.0]))
    tensor([0.])
    """)


def _sigmoid_fwd(xp, a):
    e = xp.negative(a, out=xp.empty_like(a))  # out=: an array even for 0-d inputs
    with errors_ignored(xp, "over"):  # exp(-a) = inf for very negative a: 1 / inf = 0, the limit
        xp.exp(e, out=e)
    e += 1
    return xp.reciprocal(e, out=e)


Sigmoid, sigmoid = _unary_op("sigmoid", _sigmoid_fwd, lambda g, x, o: g * o * (1 - o),
                             save="out", array_grad=lambda g, o: g * o * (1 - o),
                             doc="""``1 / (1 + exp(-input))``, stable for large inputs.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sigmoid(flambeau.tensor([0.0, 100.0]))
    tensor([0.5000, 1.0000])
    """)
Relu, relu = _unary_op("relu", lambda xp, a: xp.maximum(a, 0).astype(a.dtype, copy=False),
                       lambda g, x, o: g * (o > 0), save="out", float_only=False,
                       array_grad=lambda g, o: g * (o > 0), doc="""``max(input, 0)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.relu(flambeau.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """)
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
Sign, sign = _unary_op("sign", lambda xp, a: xp.sign(a), _zero_grad, save="", float_only=False,
                       doc="""-1, 0 or 1 by the sign of each element.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sign(flambeau.tensor([-2.0, 0.0, 3.0]))
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
    return _out(_Round.apply(input, decimals), out)


class _Round(Function):
    @staticmethod
    def forward(ctx, x, decimals):
        return x._device._xp.round(x._data, decimals)

    @staticmethod
    def backward(ctx, g):
        return g * 0.0, None


# ------------------------------------------------------------------ clamp, min/max, where


class Clamp(Function):
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
        return (g * mask if mask is not None else g), None, None


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
        result = input
        if min is not None:
            result = maximum(result, min if isinstance(min, Tensor) else _full_like(input, min))
        if max is not None:
            result = minimum(result, max if isinstance(max, Tensor) else _full_like(input, max))
        return _out(result, out)
    lo, hi = scalar_value(min), scalar_value(max)
    if input._data.dtype.kind in "iub" and (isinstance(lo, float) or isinstance(hi, float)):
        input = to_float(input)
    return _out(Clamp.apply(input, lo, hi), out)


clip = clamp


def _full_like(t, v):
    return make(t._device._xp.full(t._data.shape, v, dtype=t._data.dtype), t)


class _MaxMin(Function):
    _pick = None  # "max" or "min"

    @classmethod
    def forward(cls, ctx, a, b):
        xp = a._device._xp
        try:
            out = (xp.maximum if cls._pick == "max" else xp.minimum)(a._data, b._data)
        except ValueError:
            raise _broadcast_error(cls._pick + "imum", a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        win = (a > b) if cls._pick == "max" else (a < b)
        tie = (a == b) * 0.5
        wa = win + tie
        return g * wa, g * (1 - wa)


class Maximum(_MaxMin):
    _pick = "max"


class Minimum(_MaxMin):
    _pick = "min"


def maximum(input, other, *, out=None):
    """Elementwise maximum (ties split the gradient evenly).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.maximum(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _out(_binary(Maximum, "maximum", input, other), out)


def minimum(input, other, *, out=None):
    """Elementwise minimum.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.minimum(flambeau.tensor([1.0, 5.0]), flambeau.tensor([3.0, 2.0]))
    tensor([1., 2.])
    """
    return _out(_binary(Minimum, "minimum", input, other), out)


fmax, fmin = maximum, minimum


class Where(Function):
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
        zero = g * 0.0
        ga = where(cond, g, zero) if ctx.needs_input_grad[1] else None
        gb = where(cond, zero, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


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
    if not isinstance(condition, Tensor):
        raise TypeError("where: condition must be a bool Tensor")
    if condition._data.dtype.kind != "b":
        condition = condition != 0
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
    result = Where.apply(condition, a, b)
    if result._data.dtype != ref._data.dtype:
        result = result.to(ref.dtype)
    return _out(result, out)


# ------------------------------------------------------------------ comparisons and logic


def _compare(name, xp_name, doc):
    def op(input, other, *, out=None):
        a, b = promote(name, input, other)
        t = a if isinstance(a, Tensor) else b
        try:
            res = getattr(t._device._xp, xp_name)(_raw(a), _raw(b))
        except ValueError:
            raise _broadcast_error(name, a, b) from None
        return _out(make(res, t), out)

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
    """)
le = _compare("le", "less_equal", """Elementwise ``<=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.le(flambeau.tensor([1, 2]), 2)
    tensor([True, True])
    """)
gt = _compare("gt", "greater", """Elementwise ``>``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.gt(flambeau.tensor([1, 2]), 1)
    tensor([False,  True])
    """)
ge = _compare("ge", "greater_equal", """Elementwise ``>=``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ge(flambeau.tensor([1, 2]), 2)
    tensor([False,  True])
    """)
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
    return _out(make(input._device._xp.logical_not(input._data), input), out)


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
    return _out(make(input._device._xp.invert(input._data), input), out)


def _predicate(name, xp_name, doc):
    def op(input):
        return make(getattr(input._device._xp, xp_name)(input._data), input)

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
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities with finite numbers (gradient passes where finite).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nan_to_num(flambeau.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    xp = input._device._xp
    fixed = make(xp.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf), input)
    return where(isfinite(input), input, fixed)


@with_out
def lerp(input, end, weight):
    """``input + weight * (end - input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.lerp(flambeau.tensor([0.0]), flambeau.tensor([10.0]), 0.25)
    tensor([2.5000])
    """
    return input + weight * (end - input)


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


def atan2(input, other):
    """Elementwise ``atan(input / other)`` with the quadrant of (other, input).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atan2(flambeau.tensor([1.0]), flambeau.tensor([1.0]))
    tensor([0.7854])
    """
    return _binary(Atan2, "atan2", to_float(input), other)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._device._xp.arctan2(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        return g * b / denom, -g * a / denom


@with_out
def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` computed stably.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logaddexp(flambeau.tensor([1000.0]), flambeau.tensor([1000.0]))
    tensor([1000.6932])
    """
    m = maximum(input, other).detach()
    return m + log(exp(input - m) + exp(other - m))


@with_out
def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.xlogy(flambeau.tensor([0.0, 2.0]), flambeau.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
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
    return sqrt(input * input + other * other)


@with_out
def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when eps is given.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logit(flambeau.tensor([0.5]))
    tensor([0.])
    """
    p = clamp(input, eps, 1 - eps) if eps is not None else input
    return log(p / (1 - p))


def positive(input):
    """``+input`` (the tensor itself).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.positive(flambeau.tensor([1]))
    tensor([1])
    """
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

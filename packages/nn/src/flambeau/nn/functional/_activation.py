"""flambeau.nn.functional: activation functions.

Each pointwise activation is one autograd node: the forward is array code on ``xp`` and the
backward is written with flambeau ops, so higher-order gradients work.
"""

from __future__ import annotations

import math

import flambeau
from flambeau import Tensor
from flambeau._inplace import write_result
from flambeau._ops._select import errors_ignored, select
from flambeau._ops._util import LOW_PRECISION_NP
from flambeau._ops.elementwise import _erf_generic, _sigmoid_fwd, step_grad
from flambeau._random import generator_for
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex, refuse_complex_grad

__all__ = [
    "celu", "elu", "elu_", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish",
    "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "log_softmax", "logsigmoid", "mish",
    "prelu", "relu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "sigmoid", "silu", "softmax",
    "softmin", "celu_", "selu_",
    "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold", "threshold_",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class _Pointwise(Function):
    """``f(x; *params)`` elementwise; subclasses give ``_fwd(xp, a, *p)`` and ``_grad``, and
    optionally ``_array_grad(xp, g, a, out, *p)``: the same gradient on bare arrays, used
    when no graph of the gradient is being built.

    ``_fused`` names the backend kernels ``<name>`` and ``<name>_backward`` that may replace
    ``_fwd`` and the array gradient: ``(a, *params) -> out`` and ``(g, a, *params) -> grad``,
    each returning None for an input it does not handle (flambeau-cuda fuses every formula
    into one launch).
    """

    _array_grad = None
    _fused = None

    @classmethod
    def forward(cls, ctx, x, params):
        out = x._device.backend.run_kernel(cls._fused, x._data, *params) if cls._fused else None
        if out is None:
            a = x._data
            # two-byte floats compute in float32 and round once, as torch's kernels do
            out = (cls._fwd(x._device._xp, a, *params) if a.dtype not in LOW_PRECISION_NP else
                   cls._fwd(x._device._xp, a.astype("float32"), *params).astype(a.dtype))
        out = Tensor._make(out, x._device)
        ctx.save_for_backward(x, out)
        ctx.params = params
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        if not flambeau.is_grad_enabled():
            grad = x._device.backend.run_kernel(cls._fused + "_backward", g._data, x._data,
                                                *ctx.params) if cls._fused else None
            if grad is None and cls._array_grad is not None:
                xp, a = x._device._xp, x._data
                if a.dtype in LOW_PRECISION_NP:  # the output again, unrounded (GELU's
                    # gradient divides by it)
                    a = a.astype("float32")
                    arrays = (g._data.astype("float32"), a, cls._fwd(xp, a, *ctx.params))
                else:
                    arrays = (g._data, a, out._data)
                grad = cls._array_grad(xp, *arrays, *ctx.params)
            if grad is not None:
                return Tensor._make(grad.astype(x._data.dtype, copy=False), x._device), None
        if x._data.dtype in LOW_PRECISION_NP:  # in float32, rounded once (as the forward)
            return cls._grad(g.float(), x.float(), out.float(), *ctx.params).to(x.dtype), None
        return cls._grad(g, x, out, *ctx.params), None


def _pointwise(name, fwd, grad, array_grad=None, fused=None, node_name=None):
    return type(name, (_Pointwise,), {
        "_node_name": node_name,  # torch's, where it is not the name's + "Backward0"
        "_fwd": staticmethod(fwd), "_grad": staticmethod(grad), "_fused": fused,
        "_array_grad": None if array_grad is None else staticmethod(array_grad)})


def _silu_array_grad(xp, g, a, out):
    s = _sigmoid_fwd(xp, a)
    factor = 1 - s
    factor *= a
    factor += 1
    factor *= s
    factor *= g
    return factor


def _leaky_slopes(a, slope):
    """The leaky relu's derivative: 1 where ``a > 0``, else ``slope`` (an array of a's dtype)."""
    factor = (a > 0).astype(a.dtype)
    factor *= 1 - slope
    factor += slope
    return factor


def _leaky_array_grad(xp, g, a, out, slope):
    factor = _leaky_slopes(a, slope).astype(g.dtype, copy=False)
    factor *= g
    return factor


def _cast(a, like):
    return a.astype(like.dtype, copy=False)


def _float_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        refuse_complex(op, input)  # PyTorch's NotImplementedError for complex input
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    return input


def _run(fn_cls, input, params, inplace, op):
    _float_input(input, op)
    if inplace:
        return write_result(input, lambda src: fn_cls.apply(src, params), op + "_")
    return fn_cls.apply(input, params)


# The piecewise activations test for the replaced pieces (``a <= th``...), as torch's
# kernels do: a NaN input falls in the identity piece, so its value stays NaN and the
# gradient passes through.
_Threshold = _pointwise(
    "_Threshold",
    lambda xp, a, th, v: _cast(select(xp, a <= th, v, a), a),
    lambda g, x, o, th, v: step_grad(g, x, ~(x._data <= th)))
_Hardtanh = _pointwise(
    "_Hardtanh",
    lambda xp, a, lo, hi: _cast(xp.clip(a, lo, hi), a),
    lambda g, x, o, lo, hi: step_grad(g, x, ~((x._data <= lo) | (x._data >= hi)), "Hardtanh"))
_LeakyRelu = _pointwise(
    "_LeakyRelu",
    # max(a, s * a) for slopes in [0, 1] (NaN propagates either way)
    lambda xp, a, s: _cast(xp.maximum(a, a * s) if 0 <= s <= 1 else select(xp, a > 0, a, a * s),
                           a),
    lambda g, x, o, s: step_grad(g, x, _leaky_slopes(x._data, s), "LeakyRelu"),
    _leaky_array_grad,
    fused="leaky_relu")
_Elu = _pointwise(
    "_Elu",
    lambda xp, a, alpha, scale: _cast(
        scale * select(xp, a > 0, a, alpha * xp.expm1(xp.minimum(a, 0))), a),
    lambda g, x, o, alpha, scale: flambeau.where(x <= 0, g * (o + alpha * scale), g * scale),
    fused="elu")
_Celu = _pointwise(
    "_Celu",
    lambda xp, a, alpha: _cast(select(xp, a > 0, a, alpha * xp.expm1(xp.minimum(a, 0) / alpha)), a),
    lambda g, x, o, alpha: flambeau.where(x <= 0, g * (o / alpha + 1), g),
    fused="celu")
_Softplus = _pointwise(
    "_Softplus",
    lambda xp, a, beta, th: _cast(
        select(xp, a * beta > th, a, xp.logaddexp(0, a * beta) / beta), a),
    lambda g, x, o, beta, th: flambeau.where(x * beta > th, g, g * (x * beta).sigmoid()),
    fused="softplus")
_Softsign = _pointwise(
    "_Softsign",
    lambda xp, a: a / (1 + xp.abs(a)),
    lambda g, x, o: g / (1 + x.abs()) ** 2)
_Silu = _pointwise(
    "_Silu",
    lambda xp, a: _cast(a * _sigmoid_fwd(xp, a), a),
    lambda g, x, o: _silu_grad(g, x),
    _silu_array_grad,
    fused="silu")
_Mish = _pointwise(
    "_Mish",
    lambda xp, a: _cast(a * xp.tanh(xp.logaddexp(0, a)), a),
    lambda g, x, o: _mish_grad(g, x),
    fused="mish")
_Hardsigmoid = _pointwise(
    "_Hardsigmoid",
    lambda xp, a: _cast(xp.clip(a / 6 + 0.5, 0, 1), a),
    lambda g, x, o: g * ((x > -3) & (x < 3)) / 6,
    fused="hardsigmoid")
_Hardswish = _pointwise(
    "_Hardswish",
    lambda xp, a: _cast(a * xp.clip(a + 3, 0, 6) / 6, a),
    # torch's slopes at the kinks: 0 at -3, 1 at 3
    lambda g, x, o: flambeau.where(x <= -3, g * 0, flambeau.where(x < 3, g * (x / 3 + 0.5), g)),
    fused="hardswish")
_LogSigmoid = _pointwise(
    "_LogSigmoid",
    lambda xp, a: _cast(-xp.logaddexp(0, -a), a),
    lambda g, x, o: g * (-x).sigmoid())
def _gelu_erf_array_grad(xp, g, a, out):
    # Phi(a) = out / a, from the forward's output (a second erf would cost as much as
    # the whole rest); Phi(0) = 1/2
    with errors_ignored(xp, "divide", "invalid"):
        cdf = select(xp, a == 0, 0.5, out / a)
    density = a * a
    density *= -0.5
    xp.exp(density, out=density)
    density *= a * _INV_SQRT_2PI
    cdf += density
    cdf *= g
    return cdf


_GeluErf = _pointwise(
    "_GeluErf",
    lambda xp, a: _cast(0.5 * a * (1 + _erf_generic(xp, a * _INV_SQRT_2)), a),
    lambda g, x, o: g * (0.5 * (1 + (x * _INV_SQRT_2).erf())
                         + x * (-0.5 * x * x).exp() * _INV_SQRT_2PI),
    _gelu_erf_array_grad,
    fused="gelu", node_name="GeluBackward0")
_GeluTanh = _pointwise(
    "_GeluTanh",
    lambda xp, a: _cast(0.5 * a * (1 + xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a ** 3))), a),
    lambda g, x, o: _gelu_tanh_grad(g, x),
    fused="gelu_tanh", node_name="GeluBackward0")
_Hardshrink = _pointwise(
    "_Hardshrink",
    lambda xp, a, lambd: _cast(select(xp, xp.abs(a) <= lambd, 0, a), a),
    lambda g, x, o, lambd: step_grad(g, x, _outside(x, lambd), "Hardshrink"))
_Softshrink = _pointwise(
    "_Softshrink",
    lambda xp, a, lambd: _cast(select(xp, a > lambd, a - lambd, select(xp, a < -lambd, a + lambd,
                                                                         a * 0)), a),
    lambda g, x, o, lambd: step_grad(g, x, _outside(x, lambd), "Softshrink"))


def _outside(x, lambd):
    """Where the shrinks pass their gradient: not ``|x| <= lambd`` (NaN included, as torch's;
    a step function of ``x``, recorded as such by ``step_grad``)."""
    return ~(x._device._xp.abs(x._data) <= lambd)


def _silu_grad(g, x):
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


def _mish_grad(g, x):
    t = softplus(x).tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


def _gelu_tanh_grad(g, x):
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
    t = inner.tanh()
    d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)


def threshold(input, threshold, value, inplace=False):
    """``input`` where ``input > threshold``, else ``value``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.threshold(flambeau.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    return _run(_Threshold, input, (threshold, value), inplace, "threshold")


def threshold_(input, threshold, value):
    """In-place :func:`threshold`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.threshold_(flambeau.tensor([0.5, 2.0]), 1.0, 0.0)
    tensor([0., 2.])
    """
    return _run(_Threshold, input, (threshold, value), True, "threshold")


def relu(input, inplace=False):
    """``max(input, 0)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.relu(flambeau.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if inplace:
        return input.relu_()
    return flambeau.relu(input)


def relu_(input):
    """In-place :func:`relu`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.relu_(flambeau.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return input.relu_()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``input`` clamped to ``[min_val, max_val]``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hardtanh(flambeau.tensor([-3.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _run(_Hardtanh, input, (min_val, max_val), inplace, "hardtanh")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hardtanh_(flambeau.tensor([-3.0, 3.0]))
    tensor([-1.,  1.])
    """
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """``min(max(input, 0), 6)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.relu6(flambeau.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
    """
    _float_input(input, "relu6")
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` where positive, else ``negative_slope * input``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.leaky_relu(flambeau.tensor([-1.0, 2.0]), 0.1)
    tensor([-0.1000,  2.0000])
    """
    return _run(_LeakyRelu, input, (negative_slope,), inplace, "leaky_relu")


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.leaky_relu_(flambeau.tensor([-1.0, 2.0]), 0.5)
    tensor([-0.5000,  2.0000])
    """
    return leaky_relu(input, negative_slope, True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: ``x`` where positive, else ``a * x``.

    In training, each non-positive element gets its own slope ``a`` drawn uniformly from
    ``[lower, upper]`` (with flambeau's generator, so ``flambeau.manual_seed`` repeats it);
    otherwise ``a`` is the mean slope ``(lower + upper) / 2``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.rrelu(flambeau.tensor([-2.0, 3.0]), 0.25, 0.75)
    tensor([-1.,  3.])
    >>> y = F.rrelu(-flambeau.ones(1000), training=True)
    >>> bool(((y <= -1 / 8) & (y >= -1 / 3)).all())
    True
    """
    return _rrelu(input, lower, upper, training, inplace)


def _rrelu(input, lower, upper, training, inplace, generator=None):
    _float_input(input, "rrelu")
    if lower > upper:
        raise RuntimeError(f"rrelu: the lower bound ({lower}) should be less than or equal to "
                           f"the upper bound ({upper})")
    if not training:
        return _run(_LeakyRelu, input, ((lower + upper) / 2,), inplace, "rrelu")
    xp = input._device._xp
    a = input._data
    rng = generator_for(generator, input._device)._rng
    draw = rng.random(a.shape, a.dtype if a.dtype.itemsize >= 4 else "float32")
    slopes = (lower + (upper - lower) * draw).astype(a.dtype, copy=False)
    # the slope of each element, 1 for positive ones: the output and gradient factor
    noise = Tensor._make(xp.where(a > 0, xp.ones((), dtype=a.dtype), slopes), input._device)
    if inplace:
        return write_result(input, lambda src: src * noise, "rrelu_")
    return input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place :func:`rrelu`; the training slopes come from ``generator`` when given.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([-2.0, 3.0])
    >>> F.rrelu_(x, 0.5, 0.5) is x, x
    (True, tensor([-1.,  3.]))
    """
    return _rrelu(input, lower, upper, training, True, generator)


def elu(input, alpha=1.0, inplace=False):
    """``input`` where positive, else ``alpha * (exp(input) - 1)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.elu(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    return _run(_Elu, input, (alpha, 1.0), inplace, "elu")


def elu_(input, alpha=1.0):
    """In-place :func:`elu`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.elu_(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """``scale * elu(input, alpha)`` with the self-normalizing constants.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.selu(flambeau.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    return _run(_Elu, input, (_SELU_ALPHA, _SELU_SCALE), inplace, "selu")


def selu_(input):
    """In-place :func:`selu`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([-1.0, 1.0])
    >>> F.selu_(x) is x, x
    (True, tensor([-1.1113,  1.0507]))
    """
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.celu(flambeau.tensor([-1.0, 2.0]), alpha=2.0)
    tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _run(_Celu, input, (alpha,), inplace, "celu")


def celu_(input, alpha=1.0):
    """In-place :func:`celu`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([-1.0, 2.0])
    >>> F.celu_(x, alpha=2.0) is x, x
    (True, tensor([-0.7869,  2.0000]))
    """
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)`` (``approximate='tanh'``: the tanh formula).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.gelu(flambeau.tensor([-1.0, 1.0]))
    tensor([-0.1587,  0.8413])
    >>> F.gelu(flambeau.tensor([1.0]), approximate="tanh")
    tensor([0.8412])
    """
    if approximate == "none":
        return _run(_GeluErf, input, (), False, "gelu")
    if approximate == "tanh":
        return _run(_GeluTanh, input, (), False, "gelu")
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.silu(flambeau.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        # PyTorch computes it, but has no complex gradient for it
        refuse_complex_grad("silu", input)
        if inplace:
            return write_result(input, lambda src: src * src.sigmoid(), "silu_")
        return input * input.sigmoid()
    return _run(_Silu, input, (), inplace, "silu")


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.mish(flambeau.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8651])
    """
    return _run(_Mish, input, (), inplace, "mish")


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold`` for stability.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.softplus(flambeau.tensor([0.0, 100.0]))
    tensor([  0.6931, 100.0000])
    """
    return _run(_Softplus, input, (beta, threshold), False, "softplus")


def softsign(input):
    """``x / (1 + |x|)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.softsign(flambeau.tensor([1.0, -3.0]))
    tensor([ 0.5000, -0.7500])
    """
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        return input / (input.abs() + 1)  # composed, so its gradient is PyTorch's
    return _run(_Softsign, input, (), False, "softsign")


def sigmoid(input):
    """``1 / (1 + exp(-x))``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.sigmoid(flambeau.tensor([0.0]))
    tensor([0.5000])
    """
    return flambeau.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.tanh(flambeau.tensor([0.0]))
    tensor([0.])
    """
    return flambeau.tanh(input)


def hardsigmoid(input, inplace=False):
    """``clamp(x / 6 + 1 / 2, 0, 1)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hardsigmoid(flambeau.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return _run(_Hardsigmoid, input, (), inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hardswish(flambeau.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """
    return _run(_Hardswish, input, (), inplace, "hardswish")


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.logsigmoid(flambeau.tensor([0.0, -50.0]))
    tensor([ -0.6931, -50.0000])
    """
    return _run(_LogSigmoid, input, (), False, "logsigmoid")


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hardshrink(flambeau.tensor([0.2, -1.0]))
    tensor([ 0., -1.])
    """
    return _run(_Hardshrink, input, (lambd,), False, "hardshrink")


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.softshrink(flambeau.tensor([0.2, -1.0, 2.0]))
    tensor([ 0.0000, -0.5000,  1.5000])
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    return _run(_Softshrink, input, (lambd,), False, "softshrink")


def tanhshrink(input):
    """``x - tanh(x)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.tanhshrink(flambeau.tensor([0.0]))
    tensor([0.])
    """
    return input - input.tanh()


def prelu(input, weight):
    """``x`` where positive, else ``weight * x``; ``weight`` has one value or one per channel.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.prelu(flambeau.tensor([[-1.0, 2.0]]), flambeau.tensor([0.25]))
    tensor([[-0.2500,  2.0000]])
    """
    _float_input(input, "prelu")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1  # torch: no channel dim below 2-D
        if n != channels:
            raise RuntimeError(
                f"prelu: mismatch of parameter numbers and input channel size: weight has {n} "
                f"values, input shape {tuple(input.shape)} has {channels} channels"
            )
        if input.ndim >= 2:
            weight = weight.reshape(n, *([1] * (input.ndim - 2)))
    return flambeau.where(input > 0, input, weight * input)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the halves of ``input`` along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.glu(flambeau.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    refuse_complex("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(
            f"glu: halving dimension must be even, but dimension {dim} is size "
            f"{input.shape[dim]} (input shape {tuple(input.shape)})"
        )
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.softmax(flambeau.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    _no_complex_softmax("softmax", input, dtype)
    return flambeau.softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.softmin(flambeau.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    _no_complex_softmax("softmin", input, dtype)
    return flambeau.softmin(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, in one stable op.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.log_softmax(flambeau.tensor([0.0, 0.0]), dim=0)
    tensor([-0.6931, -0.6931])
    """
    _no_complex_softmax("log_softmax", input, dtype)
    return flambeau.log_softmax(input, dim, dtype)


def _no_complex_softmax(op, input, dtype):
    """PyTorch's softmax kernels are real only, for the input and a requested ``dtype``."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        refuse_complex(op, input)
    if dtype is not None and getattr(dtype, "is_complex", False):
        raise NotImplementedError(f"{op}: not implemented for complex tensors (got dtype={dtype})")

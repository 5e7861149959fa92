"""Declarative op cases: what an op is, which inputs to try, and what to compare it with.

An :class:`OpCase` names one op, its flambeau callable, the same op in PyTorch (or a NumPy
reference) and a function that draws sample arguments. :mod:`flambeau.testing._harness` runs
a case on a device: forward values, result dtype and shape, ``gradcheck`` /
``gradgradcheck`` in float64, and gradient parity with PyTorch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

__all__ = ["OpCase", "Sample", "nograd", "both", "DEFAULT_TOLERANCES"]

#: (atol, rtol) per dtype name for forward values and first-order gradients
DEFAULT_TOLERANCES = {
    "float64": (1e-9, 1e-7),
    "float32": (1e-5, 1e-4),
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
}


class Sample:
    """The arguments of one call of an op.

    NumPy arrays among ``args``/``kwargs`` (also inside lists and tuples) become tensors on
    the device under test; floating-point arrays require grad when the case is
    differentiable, unless wrapped in :func:`nograd`. Anything else is passed as is.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import Sample
    >>> s = Sample(np.ones(3), dim=0)
    >>> len(s.args), s.kwargs
    (1, {'dim': 0})
    """

    __slots__ = ("args", "kwargs")

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        def short(v):
            if isinstance(v, np.ndarray):
                return f"array{v.shape}:{v.dtype}"
            if isinstance(v, _NoGrad):
                return "nograd(" + short(v.array) + ")"
            if isinstance(v, (list, tuple)):
                return type(v)(short(x) for x in v)
            return v

        parts = [repr(short(a)) for a in self.args]
        parts += [f"{k}={short(v)!r}" for k, v in self.kwargs.items()]
        return "Sample(" + ", ".join(parts) + ")"


class _NoGrad:
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = np.asarray(array)


def nograd(array):
    """Mark a floating-point sample array as an input that never requires grad.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import nograd
    >>> nograd(np.zeros(2)).array.shape
    (2,)
    """
    return _NoGrad(array)


class _OnModule:
    """``f(module, *args)`` bound to flambeau or to torch (imported at call time)."""

    __slots__ = ("f", "module_name")

    def __init__(self, f, module_name):
        self.f = f
        self.module_name = module_name

    def __call__(self, *args, **kwargs):
        import importlib

        return self.f(importlib.import_module(self.module_name), *args, **kwargs)


def both(f):
    """``(fn, torch_fn)`` from one ``f(lib, *args)`` written against the shared API.

    Examples
    --------
    >>> import numpy as np
    >>> import flambeau
    >>> from flambeau.testing._cases import both
    >>> fn, torch_fn = both(lambda lib, x: lib.sin(x))
    >>> fn(flambeau.zeros(2))
    tensor([0., 0.])
    """
    return _OnModule(f, "flambeau"), _OnModule(f, "torch")


@dataclasses.dataclass(frozen=True)
class OpCase:
    """One op under test.

    Parameters
    ----------
    name : str
        Test id (the op's name plus a variant).
    fn : callable
        The flambeau op, called with the sample's arguments.
    torch_fn : callable or None
        The same op in PyTorch, called with torch tensors (None: no torch counterpart).
    inputs : callable
        ``inputs(rng, np_dtype)`` returning a list of :class:`Sample` (or argument tuples);
        use several shapes including broadcasting and 0-d, and keep them tiny: gradcheck
        costs grow with the square of the number of elements.
    differentiable : bool
        Whether to check gradients (gradcheck, gradgradcheck, parity).
    dtypes : tuple of str
        The dtypes ``inputs`` is called with for forward checks.
    tolerances : dict
        ``{dtype_name: (atol, rtol)}`` overriding :data:`DEFAULT_TOLERANCES`.
    skip_gradgrad : bool
        Skip ``gradgradcheck`` (ops whose second derivative is not smooth at the samples).
    numpy_ref : callable or None
        ``numpy_ref(*arrays)`` giving the expected values when torch is not importable.
    check_dtype : bool
        Compare the result dtype with torch's.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.testing._cases import OpCase, Sample, both
    >>> case = OpCase("sin", *both(lambda lib, x: lib.sin(x)),
    ...               inputs=lambda rng, dt: [Sample(rng.standard_normal(3).astype(dt))],
    ...               numpy_ref=np.sin)
    >>> case.tolerance("float64")
    (1e-09, 1e-07)
    """

    name: str
    fn: Callable
    torch_fn: Callable | None
    inputs: Callable[[np.random.Generator, Any], list]
    differentiable: bool = True
    dtypes: tuple = ("float64", "float32")
    tolerances: dict = dataclasses.field(default_factory=dict)
    skip_gradgrad: bool = False
    numpy_ref: Callable | None = None
    check_dtype: bool = True

    def tolerance(self, dtype_name):
        """``(atol, rtol)`` for results of ``dtype_name``."""
        return self.tolerances.get(dtype_name, DEFAULT_TOLERANCES.get(dtype_name, (0, 0)))

    def samples(self, dtype_name, seed=0):
        """The samples for ``dtype_name``, drawn reproducibly, each a :class:`Sample`."""
        import ml_dtypes

        np_dtype = ml_dtypes.bfloat16 if dtype_name == "bfloat16" else np.dtype(dtype_name)
        rng = np.random.default_rng(seed)
        return [s if isinstance(s, Sample) else Sample(*s) for s in self.inputs(rng, np_dtype)]

    def __repr__(self):
        return f"OpCase({self.name!r})"


# ------------------------------------------------------------------ sample helpers


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _uniform(rng, dt, lo, hi, *shape):
    return np.asarray(rng.uniform(lo, hi, shape), dtype=dt)


def _away_from(rng, dt, points, *shape, gap=0.1):
    """Normal samples nudged at least ``gap`` away from ``points`` (kinks, ties)."""
    x = np.asarray(rng.standard_normal(shape) * 2.0)
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.where(x >= p, gap, -gap) * 2, x)
    return np.asarray(x, dtype=dt)


def _unary_samples(draw):
    """Three shapes for an elementwise op of one tensor: 1-d, 2-d and 0-d."""
    return lambda rng, dt: [(draw(rng, dt, 3),), (draw(rng, dt, 2, 3),), (draw(rng, dt),)]


def _binary_samples(draw_a, draw_b=None):
    """Same shapes, broadcasting shapes, a 0-d operand."""
    draw_b = draw_b or draw_a

    def samples(rng, dt):
        return [
            (draw_a(rng, dt, 3), draw_b(rng, dt, 3)),
            (draw_a(rng, dt, 2, 3), draw_b(rng, dt, 3)),
            (draw_a(rng, dt, 2, 1), draw_b(rng, dt, 1, 3)),
            (draw_a(rng, dt), draw_b(rng, dt, 2)),
        ]

    return samples


def _positive(rng, dt, *shape):
    return _uniform(rng, dt, 0.5, 2.0, *shape)


def _unit(rng, dt, *shape):
    return _uniform(rng, dt, -0.9, 0.9, *shape)


def _prob(rng, dt, *shape):
    return _uniform(rng, dt, 0.1, 0.9, *shape)


def _nonzero(rng, dt, *shape):
    return _away_from(rng, dt, [0.0], *shape, gap=0.3)


def _off_integers(rng, dt, *shape):
    x = rng.standard_normal(shape) * 3.0
    frac = x - np.floor(x)
    return np.asarray(np.floor(x) + np.clip(frac, 0.1, 0.9), dtype=dt)


def _ints(rng, dt, *shape):
    return np.asarray(rng.integers(-5, 6, shape), dtype=dt)


def _op(name, f, inputs, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


# ------------------------------------------------------------------ elementwise

_UNARY = [
    # name, sampler, numpy reference, extra OpCase arguments
    ("neg", _normal, np.negative, {}),
    ("abs", _nonzero, np.abs, {}),
    ("exp", _normal, np.exp, {}),
    ("expm1", _normal, np.expm1, {}),
    ("exp2", _normal, np.exp2, {}),
    ("log", _positive, np.log, {}),
    ("log1p", _positive, np.log1p, {}),
    ("log2", _positive, np.log2, {}),
    ("log10", _positive, np.log10, {}),
    ("sqrt", _positive, np.sqrt, {}),
    ("rsqrt", _positive, lambda x: 1 / np.sqrt(x), {}),
    ("square", _normal, np.square, {}),
    ("reciprocal", _nonzero, np.reciprocal, {}),
    ("sin", _normal, np.sin, {}),
    ("cos", _normal, np.cos, {}),
    ("tan", _unit, np.tan, {}),
    ("asin", _unit, np.arcsin, {}),
    ("acos", _unit, np.arccos, {}),
    ("atan", _normal, np.arctan, {}),
    ("sinh", _normal, np.sinh, {}),
    ("cosh", _normal, np.cosh, {}),
    ("tanh", _normal, np.tanh, {}),
    ("sigmoid", _normal, lambda x: 1 / (1 + np.exp(-x)), {}),
    ("relu", _nonzero, lambda x: np.maximum(x, 0), {}),
    ("erf", _normal, None, {"tolerances": {"float64": (1e-7, 1e-6)}}),
    ("erfc", _normal, None, {"tolerances": {"float64": (1e-7, 1e-6)}}),
    ("floor", _off_integers, np.floor, {}),
    ("ceil", _off_integers, np.ceil, {}),
    ("trunc", _off_integers, np.trunc, {}),
    ("frac", _off_integers, lambda x: x - np.trunc(x), {}),
    ("sign", _nonzero, np.sign, {}),
    ("round", _off_integers, np.round, {}),
    ("logit", _prob, lambda x: np.log(x / (1 - x)), {}),
    ("positive", _normal, np.positive, {}),
]


def _unary_case(name, draw, ref, extra):
    return _op(name, lambda lib, x, n=name: getattr(lib, n)(x), _unary_samples(draw),
               numpy_ref=ref, **extra)


def _method_case(name, draw):
    return _op(name + "_method", lambda lib, x, n=name: getattr(x, n)(), _unary_samples(draw))


def _int_unary_samples(rng, dt):
    return [(_ints(rng, dt, 4),), (_ints(rng, dt, 2, 2),), (_ints(rng, dt),)]


_BINARY = [
    ("add", lambda lib, a, b: lib.add(a, b), _normal, _normal, np.add),
    ("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), _normal, _normal,
     lambda a, b: a + 2.5 * b),
    ("sub", lambda lib, a, b: lib.sub(a, b), _normal, _normal, np.subtract),
    ("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=-3), _normal, _normal,
     lambda a, b: a + 3 * b),
    ("mul", lambda lib, a, b: lib.mul(a, b), _normal, _normal, np.multiply),
    ("div", lambda lib, a, b: lib.div(a, b), _normal, _nonzero, np.divide),
    ("pow", lambda lib, a, b: lib.pow(a, b), _positive, _normal, np.power),
    ("float_power", lambda lib, a, b: lib.float_power(a, b), _positive, _normal, np.power),
    ("atan2", lambda lib, a, b: lib.atan2(a, b), _nonzero, _nonzero, np.arctan2),
    ("maximum", lambda lib, a, b: lib.maximum(a, b), _normal, _normal, np.maximum),
    ("minimum", lambda lib, a, b: lib.minimum(a, b), _normal, _normal, np.minimum),
    ("fmax", lambda lib, a, b: lib.fmax(a, b), _normal, _normal, np.fmax),
    ("fmin", lambda lib, a, b: lib.fmin(a, b), _normal, _normal, np.fmin),
    ("remainder", lambda lib, a, b: lib.remainder(a, b), _off_integers, _positive, None),
    ("fmod", lambda lib, a, b: lib.fmod(a, b), _off_integers, _positive, None),
    ("hypot", lambda lib, a, b: lib.hypot(a, b), _nonzero, _nonzero, np.hypot),
    ("logaddexp", lambda lib, a, b: lib.logaddexp(a, b), _normal, _normal, np.logaddexp),
    ("xlogy", lambda lib, a, b: lib.xlogy(a, b), _normal, _positive,
     lambda a, b: a * np.log(b)),
    ("lerp", lambda lib, a, b: lib.lerp(a, b, 0.3), _normal, _normal,
     lambda a, b: a + 0.3 * (b - a)),
    ("lerp_tensor_weight", lambda lib, a, b: lib.lerp(a, b, b), _normal, _normal,
     lambda a, b: a + b * (b - a)),
]

_OPERATORS = [
    ("op_add", lambda lib, a, b: a + b, _normal, _normal),
    ("op_sub", lambda lib, a, b: a - b, _normal, _normal),
    ("op_mul", lambda lib, a, b: a * b, _normal, _normal),
    ("op_truediv", lambda lib, a, b: a / b, _normal, _nonzero),
    ("op_pow", lambda lib, a, b: a ** b, _positive, _normal),
    ("op_mod", lambda lib, a, b: a % b, _off_integers, _positive),
]

_SCALAR_FORMS = [
    ("radd", lambda lib, a: 2.5 + a, _normal),
    ("rsub", lambda lib, a: 2.5 - a, _normal),
    ("rmul", lambda lib, a: 3 * a, _normal),
    ("rtruediv", lambda lib, a: 2 / a, _nonzero),
    ("rpow", lambda lib, a: 2.0 ** a, _normal),
    ("pow_scalar", lambda lib, a: a ** 3, _normal),
    ("pow_half", lambda lib, a: a ** 0.5, _positive),
    ("pow_neg", lambda lib, a: a ** -2, _nonzero),
    ("pow_zero", lambda lib, a: a ** 0, _normal),
    ("sub_scalar", lambda lib, a: a - 1, _normal),
    ("div_scalar", lambda lib, a: a / 4, _normal),
    ("mod_scalar", lambda lib, a: a % 1.5, _off_integers),
    ("neg_op", lambda lib, a: -a, _normal),
    ("sgn_method", lambda lib, a: a.sgn(), _nonzero),
    ("abs_op", lambda lib, a: abs(a), _nonzero),
    ("clamp", lambda lib, a: lib.clamp(a, -0.5, 0.5), lambda r, d, *s: _away_from(
        r, d, [-0.5, 0.5], *s)),
    ("clamp_min", lambda lib, a: lib.clamp(a, min=0.2), lambda r, d, *s: _away_from(
        r, d, [0.2], *s)),
    ("clamp_max", lambda lib, a: a.clamp(max=0.2), lambda r, d, *s: _away_from(
        r, d, [0.2], *s)),
    ("clip", lambda lib, a: lib.clip(a, -1, 1), lambda r, d, *s: _away_from(
        r, d, [-1, 1], *s)),
    ("nan_to_num", lambda lib, a: lib.nan_to_num(a / a.abs().detach() * 0 + a), _nonzero),
    ("addcmul", lambda lib, a: lib.addcmul(a, a, a * 2, value=0.5), _normal),
    ("addcdiv", lambda lib, a: lib.addcdiv(a, a, a * a + 1, value=2), _normal),
    ("where_scalar", lambda lib, a: lib.where(a > 0, a, 0.5), _nonzero),
    ("clamp_tensor", lambda lib, a: lib.clamp(a, min=a.detach() * 0 - 0.5), _nonzero),
    ("div_trunc", lambda lib, a: lib.div(a, 0.7, rounding_mode="trunc"), _off_integers),
    ("div_floor", lambda lib, a: lib.div(a, 0.7, rounding_mode="floor"), _off_integers),
]

_COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]
_COMPARE_OPS = [
    ("op_eq", lambda lib, a, b: a == b), ("op_ne", lambda lib, a, b: a != b),
    ("op_lt", lambda lib, a, b: a < b), ("op_le", lambda lib, a, b: a <= b),
    ("op_gt", lambda lib, a, b: a > b), ("op_ge", lambda lib, a, b: a >= b),
    ("op_lt_scalar", lambda lib, a, b: a < 1), ("op_ge_rscalar", lambda lib, a, b: 1 >= a),
    ("op_eq_scalar", lambda lib, a, b: a == 2),
]
_BITWISE = [
    ("bitwise_and", lambda lib, a, b: lib.bitwise_and(a, b)),
    ("bitwise_or", lambda lib, a, b: lib.bitwise_or(a, b)),
    ("bitwise_xor", lambda lib, a, b: lib.bitwise_xor(a, b)),
    ("op_and", lambda lib, a, b: a & b), ("op_or", lambda lib, a, b: a | b),
    ("op_xor", lambda lib, a, b: a ^ b), ("op_invert", lambda lib, a, b: ~a),
    ("op_rand", lambda lib, a, b: 6 & a),
]
_INT_ARITH = [
    ("int_add", lambda lib, a, b: a + b), ("int_sub", lambda lib, a, b: a - b),
    ("int_mul", lambda lib, a, b: a * b), ("int_truediv", lambda lib, a, b: a / (b * b + 1)),
    ("int_floordiv", lambda lib, a, b: a // (b * b + 1)),
    ("int_mod", lambda lib, a, b: a % (b * b + 1)),
    ("int_neg_mod", lambda lib, a, b: a % -(b * b + 1)),
    ("int_fmod", lambda lib, a, b: lib.fmod(a, b * b + 1)),
    ("int_pow", lambda lib, a, b: a ** (b * b % 3)),
    ("int_scalar_float", lambda lib, a, b: a * 1.5),
    ("int_div_trunc", lambda lib, a, b: lib.div(a, b * b + 1, rounding_mode="trunc")),
    ("int_abs", lambda lib, a, b: lib.abs(a)), ("int_neg", lambda lib, a, b: -a),
    ("int_sign", lambda lib, a, b: lib.sign(a)), ("int_sqrt", lambda lib, a, b: lib.sqrt(a * a)),
    ("int_exp", lambda lib, a, b: lib.exp(a)), ("int_sigmoid", lambda lib, a, b: lib.sigmoid(a)),
    ("int_clamp", lambda lib, a, b: lib.clamp(a, -2, 3)),
    ("int_clamp_float", lambda lib, a, b: lib.clamp(a, -2.5, 3)),
    ("int_maximum", lambda lib, a, b: lib.maximum(a, b)),
    ("int_where", lambda lib, a, b: lib.where(a > b, a, b)),
    ("int_square", lambda lib, a, b: lib.square(a)),
    ("int_floor", lambda lib, a, b: lib.floor(a)),
    ("int_round", lambda lib, a, b: lib.round(a)),
]


def _pair_samples(draw):
    return lambda rng, dt: [(draw(rng, dt, 4), draw(rng, dt, 4)),
                            (draw(rng, dt, 2, 3), draw(rng, dt, 3)),
                            (draw(rng, dt), draw(rng, dt, 2))]


def _int_pair(rng, dt, *shape):
    x = rng.integers(-4, 5, shape)
    return np.asarray(x if np.dtype(dt).kind != "b" else x > 0, dtype=dt)


def _elementwise_cases():
    cases = [_unary_case(*row) for row in _UNARY]
    cases += [_method_case(n, d) for n, d, _, _ in _UNARY[:24]]
    cases += [_op(n, f, _binary_samples(da, db), numpy_ref=ref)
              for n, f, da, db, ref in _BINARY]
    cases += [_op(n, f, _binary_samples(da, db)) for n, f, da, db in _OPERATORS]
    cases += [_op(n, f, _unary_samples(d)) for n, f, d in _SCALAR_FORMS]
    cases += [_op("where", lambda lib, c, a, b: lib.where(c, a, b), lambda rng, dt: [
        (rng.random(3) > 0.5, _normal(rng, dt, 3), _normal(rng, dt, 3)),
        (rng.random((2, 3)) > 0.5, _normal(rng, dt, 3), _normal(rng, dt, 2, 1)),
        (np.array(True), _normal(rng, dt), _normal(rng, dt, 2)),
    ])]
    cases += [_op("clamp_tensors", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _uniform(rng, dt, -1.0, -0.1, 3), _uniform(rng, dt, 0.1, 1, 1)),
    ])]
    for dt in ("float32", "int64", "bool"):
        cases += [_op(f"{n}_{dt}", lambda lib, a, b, n=n: getattr(lib, n)(a, b),
                      _pair_samples(_int_pair), differentiable=False, dtypes=(dt,))
                  for n in _COMPARE]
        cases += [_op(f"{n}_{dt}", f, _pair_samples(_int_pair), differentiable=False,
                      dtypes=(dt,)) for n, f in _COMPARE_OPS]
    for dt in ("int64", "int32", "uint8", "bool"):
        cases += [_op(f"{n}_{dt}", f, _pair_samples(_int_pair), differentiable=False,
                      dtypes=(dt,)) for n, f in _BITWISE]
    cases += [_op(f"logical_not_{dt}", lambda lib, a: lib.logical_not(a), _int_unary_samples,
                  differentiable=False, dtypes=(dt,)) for dt in ("float32", "int64", "bool")]
    cases += [_op(n, lambda lib, a, n=n: getattr(lib, n)(a / a), _int_unary_samples,
                  differentiable=False, dtypes=("float32", "float64"))
              for n in ("isnan", "isinf", "isfinite")]
    cases += [_op("rmod", lambda lib, a: 5.0 % a, _unary_samples(_positive),
                  differentiable=False)]
    cases += [_op(n, f, _pair_samples(_int_pair), differentiable=False,
                  dtypes=("int64", "int32", "int16", "int8"))
              for n, f in _INT_ARITH]
    return cases


ELEMENTWISE_CASES = _elementwise_cases()


# ------------------------------------------------------------------ reductions


def _distinct(rng, dt, *shape):
    """Values without ties (max/min/sort gradients are only defined then)."""
    n = int(np.prod(shape)) if shape else 1
    return np.asarray(rng.permutation(n).reshape(shape) * 0.37 - n * 0.15, dtype=dt)


def _reduce_samples(draw, dims=(None, 0, 1, -1, (0, 2)), keepdims=(False, True), zero_d=True):
    def samples(rng, dt):
        out = []
        for dim in dims:
            for keep in keepdims:
                x = draw(rng, dt, 2, 3, 2) if isinstance(dim, tuple) else draw(rng, dt, 2, 3)
                out.append(Sample(x) if dim is None else Sample(x, dim, keepdim=keep))
        if zero_d:
            out += [Sample(draw(rng, dt)), Sample(draw(rng, dt), 0),
                    Sample(draw(rng, dt), -1, keepdim=True)][0 if dims[0] is None else 1:]
        return out

    return samples


def _with_zero(rng, dt, *shape):
    x = _positive(rng, dt, *shape)
    if x.ndim:
        x.reshape(-1)[1 if x.size > 1 else 0] = 0.0
    return x


_REDUCTIONS = [
    # name, f(lib, x, *dim_keepdim), sampler, extra
    ("sum", lambda lib, x, *a, **k: lib.sum(x, *a, **k), _normal, {}),
    ("sum_method", lambda lib, x, *a, **k: x.sum(*a, **k), _normal, {}),
    ("mean", lambda lib, x, *a, **k: lib.mean(x, *a, **k), _normal, {}),
    ("prod", lambda lib, x, *a, **k: lib.prod(x, *a, **k), _positive, {"dims": (None, 0, 1, -1)}),
    ("prod_with_zero", lambda lib, x, *a, **k: lib.prod(x, *a, **k), _with_zero,
     {"dims": (None, 0, 1)}),
    ("amax", lambda lib, x, *a, **k: lib.amax(x, *a, **k), _distinct, {}),
    ("amin", lambda lib, x, *a, **k: lib.amin(x, *a, **k), _distinct, {}),
    ("max_dim", lambda lib, x, *a, **k: lib.max(x, *a, **k), _distinct, {"dims": (None, 0, 1, -1)}),
    ("min_dim", lambda lib, x, *a, **k: lib.min(x, *a, **k), _distinct, {"dims": (None, 0, 1, -1)}),
    ("logsumexp", lambda lib, x, *a, **k: lib.logsumexp(x, *(a or (0,)), **k), _normal, {}),
    ("var", lambda lib, x, *a, **k: lib.var(x, *a, **k), _normal, {"zero_d": False}),
    ("std", lambda lib, x, *a, **k: lib.std(x, *a, **k), _normal, {"zero_d": False}),
    ("var_correction0", lambda lib, x, *a, **k: lib.var(x, *a, **k, correction=0), _normal, {}),
    ("std_correction2", lambda lib, x, *a, **k: lib.std(x, *a[:1], **k, correction=2), _normal,
     {"dims": (None, 1, (0, 2)), "keepdims": (False,), "zero_d": False}),
    ("var_unbiased_false", lambda lib, x, *a, **k: lib.var(x, *a[:1], **k, unbiased=False), _normal,
     {"dims": (None, 1)}),
    ("var_mean", lambda lib, x, *a, **k: lib.var_mean(x, *a, **k), _normal,
     {"dims": (None, 1), "zero_d": False}),
    ("std_mean", lambda lib, x, *a, **k: lib.std_mean(x, *a, **k), _normal,
     {"dims": (None, 1), "zero_d": False}),
    ("norm", lambda lib, x, *a, **k: lib.norm(x, 2, *a, **k), _nonzero, {}),
    ("norm_fro", lambda lib, x, *a, **k: lib.norm(x), _nonzero, {"dims": (None,)}),
    ("norm_1", lambda lib, x, *a, **k: lib.norm(x, 1, *a, **k), _nonzero, {"dims": (None, 1)}),
    ("norm_3", lambda lib, x, *a, **k: lib.norm(x, 3, *a, **k), _nonzero, {"dims": (None, 1)}),
    ("norm_inf", lambda lib, x, *a, **k: lib.norm(x, float("inf"), *a, **k), _distinct,
     {"dims": (None, 1)}),
    ("nansum", lambda lib, x, *a, **k: lib.nansum(x, *a, **k), _normal, {"dims": (None, 1)}),
    ("nanmean", lambda lib, x, *a, **k: lib.nanmean(x, *a, **k), _normal, {"dims": (None, 1)}),
]

_DIM_ONLY = [
    ("cumsum", lambda lib, x, d: lib.cumsum(x, d), _normal),
    ("cumprod", lambda lib, x, d: lib.cumprod(x, d), _positive),
    ("cumprod_with_zero", lambda lib, x, d: lib.cumprod(x, d), _with_zero),
    ("softmax", lambda lib, x, d: lib.softmax(x, d), _normal),
    ("log_softmax", lambda lib, x, d: lib.log_softmax(x, d), _normal),
    ("softmax_method", lambda lib, x, d: x.softmax(d), _normal),
]


def _dim_samples(draw):
    return lambda rng, dt: [(draw(rng, dt, 2, 3), 0), (draw(rng, dt, 2, 3), 1),
                            (draw(rng, dt, 2, 3), -1), (draw(rng, dt, 4), 0),
                            (draw(rng, dt), 0)]


def _int_reduce_samples(rng, dt):
    x = np.asarray(rng.integers(0, 3, (2, 3)), dtype=dt)
    return [Sample(x), Sample(x, 1), Sample(x, 0, keepdim=True), Sample(np.asarray(x[0, 0]))]


_NONDIFF_REDUCTIONS = [
    ("argmax", lambda lib, x, *a, **k: lib.argmax(x, *a, **k)),
    ("argmin", lambda lib, x, *a, **k: lib.argmin(x, *a, **k)),
    ("all", lambda lib, x, *a, **k: lib.all(x, *a, **k)),
    ("any", lambda lib, x, *a, **k: lib.any(x, *a, **k)),
    ("sum_int", lambda lib, x, *a, **k: lib.sum(x, *a, **k)),
    ("prod_int", lambda lib, x, *a, **k: lib.prod(x, *a, **k)),
    ("max_int", lambda lib, x, *a, **k: lib.max(x, *a, **k)),
    ("amax_int", lambda lib, x, *a, **k: lib.amax(x, *a, **k)),
    ("cumsum_int", lambda lib, x, *a, **k: lib.cumsum(x, a[0] if a else 0)),
    ("count_nonzero", lambda lib, x, *a, **k: lib.count_nonzero(x, *a[:1])),
]


def _reduction_cases():
    cases = []
    for name, f, draw, extra in _REDUCTIONS:
        sample_kw = {k: extra[k] for k in ("dims", "keepdims", "zero_d") if k in extra}
        cases.append(_op(name, f, _reduce_samples(draw, **sample_kw)))
    cases += [_op(n, f, _dim_samples(d)) for n, f, d in _DIM_ONLY]
    cases += [_op(f"{n}_{dt}", f, _int_reduce_samples, differentiable=False, dtypes=(dt,))
              for n, f in _NONDIFF_REDUCTIONS for dt in ("int64", "int32", "uint8", "bool")
              if not (dt == "bool" and n in ("cumsum_int", "amax_int", "max_int", "argmax",
                                             "argmin"))]
    cases += [_op(f"{n}_float", f, _reduce_samples(_distinct, dims=(None, 1)),
                  differentiable=False, dtypes=("float32",)) for n, f in _NONDIFF_REDUCTIONS]
    cases.append(_op("sum_dtype", lambda lib, x, *a, **k: lib.sum(x, *a, **k, dtype=lib.float64),
                     _int_reduce_samples, differentiable=False, dtypes=("int32",)))
    cases.append(_op("mean_dtype", lambda lib, x, *a, **k: lib.mean(x, *a, **k, dtype=lib.float64),
                     _reduce_samples(_normal, dims=(None, 1)), dtypes=("float32",)))
    return cases


REDUCTION_CASES = _reduction_cases()


# ------------------------------------------------------------------ shape ops


def _one(draw_shape, f_args=()):
    return lambda rng, dt: [(_normal(rng, dt, *draw_shape), *f_args)]


_SHAPE = [
    ("reshape", lambda lib, x: lib.reshape(x, (3, -1)), (2, 3)),
    ("reshape_method", lambda lib, x: x.reshape(6), (2, 3)),
    ("reshape_0d", lambda lib, x: x.reshape(1, 1), ()),
    ("view", lambda lib, x: x.view(3, 2), (2, 3)),
    ("view_minus1", lambda lib, x: x.view(-1), (2, 3)),
    ("view_as", lambda lib, x: x.view_as(x.t()), (2, 3)),
    ("reshape_transposed", lambda lib, x: x.t().reshape(6), (2, 3)),
    ("permute", lambda lib, x: lib.permute(x, (2, 0, 1)), (2, 3, 2)),
    ("permute_method", lambda lib, x: x.permute(1, 0, 2), (2, 3, 2)),
    ("transpose", lambda lib, x: lib.transpose(x, 0, -1), (2, 3, 2)),
    ("t", lambda lib, x: lib.t(x), (2, 3)),
    ("t_1d", lambda lib, x: x.t(), (3,)),
    ("T", lambda lib, x: x.T, (2, 3)),
    ("mT", lambda lib, x: x.mT, (2, 3, 2)),
    ("squeeze", lambda lib, x: lib.squeeze(x), (2, 1, 3, 1)),
    ("squeeze_dim", lambda lib, x: lib.squeeze(x, 1), (2, 1, 3)),
    ("squeeze_noop", lambda lib, x: x.squeeze(0), (2, 3)),
    ("squeeze_dims", lambda lib, x: x.squeeze((1, 3)), (2, 1, 3, 1)),
    ("unsqueeze", lambda lib, x: lib.unsqueeze(x, 1), (2, 3)),
    ("unsqueeze_neg", lambda lib, x: x.unsqueeze(-1), (2, 3)),
    ("unsqueeze_0d", lambda lib, x: x.unsqueeze(0), ()),
    ("flatten", lambda lib, x: lib.flatten(x), (2, 3, 2)),
    ("flatten_range", lambda lib, x: lib.flatten(x, 1, 2), (2, 3, 2)),
    ("flatten_0d", lambda lib, x: x.flatten(), ()),
    ("unflatten", lambda lib, x: lib.unflatten(x, 1, (2, 3)), (2, 6)),
    ("unflatten_infer", lambda lib, x: x.unflatten(-1, (-1, 2)), (2, 6)),
    ("expand", lambda lib, x: x.expand(2, 3, 3), (3, 1)),
    ("expand_minus1", lambda lib, x: x.expand(-1, 4), (3, 1)),
    ("expand_0d", lambda lib, x: x.expand(2, 2), ()),
    ("expand_as", lambda lib, x: x.expand_as(lib.zeros(2, 3, 3, dtype=x.dtype)), (3, 1)),
    ("broadcast_to", lambda lib, x: lib.broadcast_to(x, (2, 3)), (3,)),
    ("repeat", lambda lib, x: x.repeat(2, 1, 2), (2, 3)),
    ("tile", lambda lib, x: lib.tile(x, (2,)), (2, 3)),
    ("flip", lambda lib, x: lib.flip(x, (0, 1)), (2, 3)),
    ("flip_neg", lambda lib, x: x.flip(-1), (2, 3)),
    ("fliplr", lambda lib, x: lib.fliplr(x), (2, 3)),
    ("flipud", lambda lib, x: lib.flipud(x), (2, 3)),
    ("roll", lambda lib, x: lib.roll(x, 1, 1), (2, 3)),
    ("roll_flat", lambda lib, x: lib.roll(x, -2), (2, 3)),
    ("roll_multi", lambda lib, x: lib.roll(x, (1, 2), (0, 1)), (2, 3)),
    ("narrow", lambda lib, x: lib.narrow(x, 1, 1, 2), (2, 3)),
    ("narrow_neg", lambda lib, x: x.narrow(-1, 0, 1), (2, 3)),
    ("movedim", lambda lib, x: lib.movedim(x, 0, -1), (2, 3, 2)),
    ("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 1), (2, 3)),
    ("diagonal", lambda lib, x: lib.diagonal(x), (3, 3)),
    ("diagonal_offset", lambda lib, x: lib.diagonal(x, 1, 1, 2), (2, 3, 3)),
    ("diag_matrix", lambda lib, x: lib.diag(x), (3, 3)),
    ("diag_vector", lambda lib, x: lib.diag(x, -1), (3,)),
    ("trace", lambda lib, x: lib.trace(x), (3, 3)),
    ("tril", lambda lib, x: lib.tril(x), (3, 3)),
    ("tril_k", lambda lib, x: lib.tril(x, -1), (2, 3, 4)),
    ("triu", lambda lib, x: lib.triu(x), (3, 3)),
    ("triu_k", lambda lib, x: x.triu(1), (3, 4)),
    ("repeat_interleave", lambda lib, x: lib.repeat_interleave(x, 2), (3,)),
    ("repeat_interleave_dim", lambda lib, x: lib.repeat_interleave(x, 2, dim=1), (2, 2)),
    ("contiguous", lambda lib, x: x.t().contiguous(), (2, 3)),
    ("clone", lambda lib, x: x.clone(), (2, 3)),
    ("adjoint", lambda lib, x: lib.adjoint(x), (2, 3)),
]

_SPLITS = [
    ("split", lambda lib, x: lib.split(x, 2), (5, 2)),
    ("split_sections", lambda lib, x: lib.split(x, [1, 2], dim=1), (2, 3)),
    ("split_method", lambda lib, x: x.split(1, -1), (2, 3)),
    ("chunk", lambda lib, x: lib.chunk(x, 3), (5, 2)),
    ("chunk_dim", lambda lib, x: x.chunk(2, 1), (2, 3)),
    ("unbind", lambda lib, x: lib.unbind(x, 1), (2, 3)),
    ("tensor_split", lambda lib, x: lib.tensor_split(x, 3), (5,)),
    ("tensor_split_indices", lambda lib, x: lib.tensor_split(x, [1, 4], dim=1), (2, 5)),
]

_MULTI = [
    ("cat", lambda lib, a, b: lib.cat([a, b]), (2, 3), (1, 3)),
    ("cat_dim1", lambda lib, a, b: lib.cat((a, b), dim=1), (2, 3), (2, 1)),
    ("cat_neg", lambda lib, a, b: lib.cat([a, b], -1), (2, 3), (2, 2)),
    ("concat", lambda lib, a, b: lib.concat([a, b]), (2,), (3,)),
    ("stack", lambda lib, a, b: lib.stack([a, b]), (2, 3), (2, 3)),
    ("stack_dim", lambda lib, a, b: lib.stack([a, b], dim=-1), (2, 3), (2, 3)),
    ("stack_0d", lambda lib, a, b: lib.stack([a, b]), (), ()),
    ("hstack", lambda lib, a, b: lib.hstack([a, b]), (2, 3), (2, 1)),
    ("vstack", lambda lib, a, b: lib.vstack([a, b]), (3,), (3,)),
    ("broadcast_tensors", lambda lib, a, b: lib.broadcast_tensors(a, b), (2, 1), (3,)),
]


def _pad_fn(lib, x, pad, value):
    mod = lib.nn.functional if lib.__name__ == "torch" else _flambeau_shape_module()
    return mod.pad(x, pad, value=value)


def _flambeau_shape_module():
    from flambeau._ops import shape

    return shape


def _shape_cases():
    cases = [_op(n, f, _one(s)) for n, f, s in _SHAPE]
    cases += [_op(n, f, _one(s)) for n, f, s in _SPLITS]
    cases += [_op(n, f, lambda rng, dt, sa=sa, sb=sb: [(_normal(rng, dt, *sa),
                                                        _normal(rng, dt, *sb))])
              for n, f, sa, sb in _MULTI]
    cases.append(_op("cat_promotes", lambda lib, a, b: lib.cat([a, b.to(lib.float64)]),
                     lambda rng, dt: [(_normal(rng, dt, 2), _normal(rng, dt, 3))]))
    cases.append(_op("pad", _pad_fn, lambda rng, dt: [
        (_normal(rng, dt, 2, 3), (1, 2), 0.0), (_normal(rng, dt, 2, 3), (1, 0, 0, 2), 1.5),
        (_normal(rng, dt, 2, 1, 2), (0, 0, 0, 0, 1, 1), 0.0)]))
    cases.append(_op("int_shape_ops", lambda lib, x: (x.t().reshape(-1), x.flip(0),
                                                      lib.cat([x, x]), x.unsqueeze(0)),
                     lambda rng, dt: [(_ints(rng, dt, 2, 3),)], differentiable=False,
                     dtypes=("int64", "bool", "uint8")))
    return cases


SHAPE_CASES = _shape_cases()


# ------------------------------------------------------------------ linear algebra

_MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)), ((2, 2, 3), (3, 2)),
    ((2, 3), (2, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)), ((1, 3), (3, 1)),
]

_LINALG = [
    ("mm", lambda lib, a, b: lib.mm(a, b), [((2, 3), (3, 2)), ((1, 2), (2, 3))]),
    ("bmm", lambda lib, a, b: lib.bmm(a, b), [((2, 2, 3), (2, 3, 2))]),
    ("mv", lambda lib, a, b: lib.mv(a, b), [((2, 3), (3,))]),
    ("dot", lambda lib, a, b: lib.dot(a, b), [((3,), (3,))]),
    ("inner", lambda lib, a, b: lib.inner(a, b), [((3,), (3,)), ((2, 3), (2, 3))]),
    ("outer", lambda lib, a, b: lib.outer(a, b), [((3,), (2,))]),
    ("ger", lambda lib, a, b: lib.ger(a, b), [((2,), (2,))]),
    ("einsum_matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [((2, 3), (3, 2))]),
    ("einsum_batch", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b),
     [((2, 2, 3), (2, 3, 2))]),
    ("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), [((3,), (2,))]),
    ("einsum_trace_like", lambda lib, a, b: lib.einsum("ii,i->", a, b), [((3, 3), (3,))]),
    ("einsum_implicit", lambda lib, a, b: lib.einsum("ij,jk", a, b), [((2, 3), (3, 2))]),
    ("einsum_ellipsis", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
     [((2, 2, 3), (2, 3, 2))]),
    ("einsum_sum", lambda lib, a, b: lib.einsum("ij,ij->j", a, b), [((2, 3), (2, 3))]),
    ("einsum_broadcast_dim", lambda lib, a, b: lib.einsum("bi,bi->b", a, b),
     [((2, 3), (1, 3))]),
]

_LINALG3 = [
    ("addmm", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0),
     [((2, 2), (2, 3), (3, 2)), ((2,), (2, 3), (3, 2))]),
    ("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, alpha=0.5),
     [((2, 2, 2), (2, 2, 3), (2, 3, 2))]),
    ("addmv", lambda lib, c, a, b: lib.addmv(c, a, b, beta=2),
     [((2,), (2, 3), (3,))]),
    ("einsum_three", lambda lib, a, b, c: lib.einsum("ij,jk,k->i", a, b, c),
     [((2, 3), (3, 2), (2,))]),
]

_MM_TOL = {"float32": (1e-4, 1e-4)}


def _linalg_cases():
    cases = [_op("matmul", lambda lib, a, b: lib.matmul(a, b),
                 lambda rng, dt: [(_normal(rng, dt, *sa), _normal(rng, dt, *sb))
                                  for sa, sb in _MATMUL_SHAPES], tolerances=_MM_TOL)]
    cases.append(_op("matmul_operator", lambda lib, a, b: a @ b,
                     lambda rng, dt: [(_normal(rng, dt, 2, 3), _normal(rng, dt, 3, 2))],
                     tolerances=_MM_TOL))
    cases += [_op(n, f, lambda rng, dt, shapes=shapes: [
        tuple(_normal(rng, dt, *s) for s in ss) for ss in shapes], tolerances=_MM_TOL)
        for n, f, shapes in _LINALG + _LINALG3]
    cases.append(_op("matmul_int", lambda lib, a, b: a @ b, lambda rng, dt: [
        (_ints(rng, dt, 2, 3), _ints(rng, dt, 3, 2)), (_ints(rng, dt, 3), _ints(rng, dt, 3))],
        differentiable=False, dtypes=("int64", "int32")))
    return cases


LINALG_CASES = _linalg_cases()


# ------------------------------------------------------------------ indexing


def _idx(rng, high, *shape):
    return np.asarray(rng.integers(0, high, shape), dtype=np.int64)


def _perm_rows(rng, rows, n):
    """Distinct indices per row (scatter gradients are only defined without duplicates)."""
    return np.stack([rng.permutation(n) for _ in range(rows)]).astype(np.int64)


_GETITEM = [
    ("index_int", lambda x: x[1]),
    ("index_neg_int", lambda x: x[-1, 0]),
    ("index_slice", lambda x: x[1:, :2]),
    ("index_step", lambda x: x[::2, 1::2]),
    ("index_none", lambda x: x[None, :, None]),
    ("index_ellipsis", lambda x: x[..., 1]),
    ("index_ellipsis_none", lambda x: x[0, ..., None]),
    ("index_list", lambda x: x[[0, 2, 2]]),
    ("index_repeated_list", lambda x: x[[1, 1, 1], [0, 0, 2]]),
    ("index_mixed", lambda x: x[1:, [0, 2]]),
    ("index_out_of_order", lambda x: x[:, [2, 0]][[1, 0]]),
]


def _getitem_case(name, f):
    fn, torch_fn = both(lambda lib, x: f(x))
    return OpCase(name, fn, torch_fn, lambda rng, dt: [(_normal(rng, dt, 3, 3),)])


def _tensor_index_case():
    def f(lib, x, i, m):
        return x[i], x[m], x[i, 1:], x[:, i], x[m[:, 0]]

    return _op("index_tensors", f, lambda rng, dt: [
        (_normal(rng, dt, 3, 3), np.array([0, 2, 0, 1]), rng.random((3, 3)) > 0.4)])


_INDEXING = [
    ("gather", lambda lib, x, i: lib.gather(x, -1, i), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 4)), (_normal(rng, dt, 3), _idx(rng, 3, 2))]),
    ("gather_dim0", lambda lib, x, i: x.gather(0, i), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), _idx(rng, 3, 2, 2))]),
    ("scatter", lambda lib, x, i, s: lib.scatter(x, 1, i, s), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _perm_rows(rng, 2, 3)[:, :2], _normal(rng, dt, 2, 2))]),
    ("scatter_value", lambda lib, x, i: lib.scatter(x, 0, i, 1.5), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), _perm_rows(rng, 2, 3).T.copy())]),
    ("scatter_add", lambda lib, x, i, s: lib.scatter_add(x, 1, i, s), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 4), _normal(rng, dt, 2, 4))]),
    ("index_select", lambda lib, x, i: lib.index_select(x, -1, i), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), np.array([2, 0, 2])), (_normal(rng, dt, 3), np.array([1]))]),
    ("index_add", lambda lib, x, i, s: lib.index_add(x, 0, i, s, alpha=2), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), np.array([0, 2, 0]), _normal(rng, dt, 3, 2))]),
    ("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, 1), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _idx(rng, 3, 2, 2)),
        (_normal(rng, dt, 2, 3), _idx(rng, 3, 1, 3))]),
    ("take_along_dim_flat", lambda lib, x, i: lib.take_along_dim(x, i), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _idx(rng, 6, 4))]),
    ("take", lambda lib, x, i: lib.take(x, i), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _idx(rng, 6, 2, 2))]),
    ("masked_fill", lambda lib, x, m: lib.masked_fill(x, m, -1.0), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), rng.random((2, 3)) > 0.5),
        (_normal(rng, dt, 2, 3), rng.random(3) > 0.5)]),
    ("masked_fill_tensor", lambda lib, x, m, v: x.masked_fill(m, v), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), rng.random((2, 3)) > 0.5, _normal(rng, dt))]),
    ("masked_select", lambda lib, x, m: lib.masked_select(x, m), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), rng.random((2, 3)) > 0.5)]),
    ("sort", lambda lib, x: lib.sort(x), lambda rng, dt: [(_distinct(rng, dt, 2, 3),)]),
    ("sort_desc_dim0", lambda lib, x: lib.sort(x, 0, descending=True),
     lambda rng, dt: [(_distinct(rng, dt, 3, 2),)]),
    ("topk", lambda lib, x: lib.topk(x, 2), lambda rng, dt: [(_distinct(rng, dt, 2, 4),)]),
    ("topk_smallest", lambda lib, x: lib.topk(x, 2, dim=0, largest=False),
     lambda rng, dt: [(_distinct(rng, dt, 3, 2),)]),
    ("kthvalue", lambda lib, x: lib.kthvalue(x, 2), lambda rng, dt: [(_distinct(rng, dt, 2, 3),)]),
    ("median", lambda lib, x: lib.median(x), lambda rng, dt: [(_distinct(rng, dt, 5),)]),
    ("index_put_accumulate", lambda lib, x, i, v: lib.index_put(x, (i,), v, accumulate=True),
     lambda rng, dt: [(_normal(rng, dt, 3, 2), np.array([0, 2, 0]), _normal(rng, dt, 3, 2))]),
]


def _setitem_fn(lib, x, v):
    y = x * 1
    y[0, 1:] = v
    y[[2, 2]] = 0.5
    return y


def _setitem_mask_fn(lib, x, m):
    y = x.clone()
    y[m] = y[m] * 2
    return y


_NONDIFF_INDEXING = [
    ("argsort", lambda lib, x: lib.argsort(x, dim=1, descending=True)),
    ("unique", lambda lib, x: lib.unique(x)),
    ("unique_inverse_counts", lambda lib, x: lib.unique(x, return_inverse=True,
                                                        return_counts=True)),
    ("unique_dim", lambda lib, x: lib.unique(x, dim=0)),
    ("unique_consecutive", lambda lib, x: lib.unique_consecutive(x.flatten())),
    ("nonzero", lambda lib, x: lib.nonzero(x)),
    ("nonzero_tuple", lambda lib, x: lib.nonzero(x, as_tuple=True)),
    ("argwhere", lambda lib, x: lib.argwhere(x)),
    ("sort_ints", lambda lib, x: lib.sort(x, stable=True)),
    ("bincount", lambda lib, x: lib.bincount(x.flatten().abs())),
]


def _indexing_cases():
    cases = [_getitem_case(n, f) for n, f in _GETITEM]
    cases.append(_tensor_index_case())
    cases += [_op(n, f, s) for n, f, s in _INDEXING]
    cases.append(_op("setitem", _setitem_fn, lambda rng, dt: [
        (_normal(rng, dt, 3, 3), _normal(rng, dt, 2))]))
    cases.append(_op("setitem_mask", _setitem_mask_fn, lambda rng, dt: [
        (_normal(rng, dt, 3, 2), rng.random((3, 2)) > 0.5)]))
    cases.append(_op("where_indexing", lambda lib, c, a, b: lib.where(c, a, b), lambda rng, dt: [
        (rng.random((2, 3)) > 0.5, _normal(rng, dt, 2, 3), _normal(rng, dt, 1))]))
    cases += [_op(f"{n}_{dt}", f, lambda rng, dt: [(np.asarray(rng.integers(0, 3, (3, 4)),
                                                               dtype=dt),)],
                  differentiable=False, dtypes=(dt,))
              for n, f in _NONDIFF_INDEXING for dt in ("int64", "float32")
              if not (n == "bincount" and dt == "float32")]
    return cases


INDEXING_CASES = _indexing_cases()

ALL_CASES = ELEMENTWISE_CASES + REDUCTION_CASES + SHAPE_CASES + LINALG_CASES + INDEXING_CASES

"""Fused activations and their gradients: one launch each instead of five to ten.

flambeau-nn's pointwise activations look up ``kernels[name]`` and ``kernels[name +
"_backward"]`` with the signatures ``(a, *params) -> out`` and ``(g, a, *params) -> grad``,
where ``params`` are the activation's float parameters in the order below; core's relu,
sigmoid and tanh, which save their output, look up ``kernels[name + "_backward_from_output"]``
with the signature ``(g, out) -> grad``. A kernel returns None for an input it does not handle
(here: dtypes other than float16/32/64), and the generic code runs instead. Arithmetic is
done in ``acc_t`` (float for float16).
"""

from __future__ import annotations

import math

from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["ACTIVATIONS", "FORWARD", "BACKWARD", "FROM_OUTPUT", "kernels"]

_DTYPES = ("float16", "float32", "float64")

# shared helpers (v is the input in acc_t)
_PREAMBLE = r"""
template <typename A> __device__ A flambeau_sigmoid(A v) { return (A)1 / ((A)1 + exp(-v)); }
template <typename A> __device__ A flambeau_softplus(A v) {
    return (v > (A)0 ? v : (A)0) + log1p(exp(-fabs(v)));
}
// v clipped to [0, hi]; NaN stays NaN (fmin/fmax would drop it)
template <typename A> __device__ A flambeau_clip(A v, A hi) {
    return v < (A)0 ? (A)0 : (v > hi ? hi : v);
}
"""

_K0 = repr(math.sqrt(2.0 / math.pi))
_INV_SQRT_2 = repr(1.0 / math.sqrt(2.0))
_INV_SQRT_2PI = repr(1.0 / math.sqrt(2.0 * math.pi))

#: name -> (extra float64 parameters, forward body setting ``r``, backward body setting ``r``
#: as d out / d in); both bodies read ``v``, the input in acc_t
ACTIVATIONS = {
    "gelu": ((), f"r = (acc_t)0.5 * v * ((acc_t)1 + erf(v * (acc_t){_INV_SQRT_2}));",
             f"r = (acc_t)0.5 * ((acc_t)1 + erf(v * (acc_t){_INV_SQRT_2})) "
             f"+ v * exp((acc_t)-0.5 * v * v) * (acc_t){_INV_SQRT_2PI};"),
    "gelu_tanh": ((), f"""
acc_t t = tanh((acc_t){_K0} * (v + (acc_t)0.044715 * v * v * v));
r = (acc_t)0.5 * v * ((acc_t)1 + t);""", f"""
acc_t t = tanh((acc_t){_K0} * (v + (acc_t)0.044715 * v * v * v));
r = (acc_t)0.5 * ((acc_t)1 + t) + (acc_t)0.5 * v * ((acc_t)1 - t * t) * (acc_t){_K0}
    * ((acc_t)1 + (acc_t)(3 * 0.044715) * v * v);"""),
    "silu": ((), "r = v * flambeau_sigmoid(v);",
             "acc_t s = flambeau_sigmoid(v);\nr = s * ((acc_t)1 + v * ((acc_t)1 - s));"),
    "mish": ((), "r = v * tanh(flambeau_softplus(v));", """
acc_t t = tanh(flambeau_softplus(v));
r = t + v * flambeau_sigmoid(v) * ((acc_t)1 - t * t);"""),
    "elu": (("alpha", "scale"),
            "r = v > (acc_t)0 ? (acc_t)scale * v : (acc_t)(scale * alpha) * expm1(v);",
            "r = v <= (acc_t)0 ? (acc_t)(scale * alpha) * exp(v) : (acc_t)scale;"),
    "celu": (("alpha",), "r = v > (acc_t)0 ? v : (acc_t)alpha * expm1(v / (acc_t)alpha);",
             "r = v <= (acc_t)0 ? exp(v / (acc_t)alpha) : (acc_t)1;"),
    "leaky_relu": (("slope",), "r = v > (acc_t)0 ? v : v * (acc_t)slope;",
                   "r = v > (acc_t)0 ? (acc_t)1 : (acc_t)slope;"),
    "softplus": (("beta", "threshold"), """
acc_t z = v * (acc_t)beta;
r = z > (acc_t)threshold ? v : flambeau_softplus(z) / (acc_t)beta;""", """
acc_t z = v * (acc_t)beta;
r = z > (acc_t)threshold ? (acc_t)1 : flambeau_sigmoid(z);"""),
    "hardsigmoid": ((), "r = flambeau_clip(v / (acc_t)6 + (acc_t)0.5, (acc_t)1);",
                    "r = (v > (acc_t)-3 && v < (acc_t)3) ? (acc_t)1 / (acc_t)6 : (acc_t)0;"),
    "hardswish": ((), "r = v * flambeau_clip(v + (acc_t)3, (acc_t)6) / (acc_t)6;",
                  "r = v <= (acc_t)-3 ? (acc_t)0 : (v < (acc_t)3 ? v / (acc_t)3 + (acc_t)0.5 "
                  ": (acc_t)1);"),
}


def _params(names):
    return "".join(f", float64 {n}" for n in names)


def _forward_spec(name, params, body):
    # NaN inputs: every formula above yields NaN (comparisons with NaN are false, and the
    # false branches propagate it), as the generic code does
    return ElementwiseSpec(name, "T x" + _params(params), "T y",
                           f"acc_t v = (acc_t)x;\nacc_t r;\n{body}\ny = (T)r;", _PREAMBLE)


def _backward_spec(name, params, body):
    return ElementwiseSpec(name + "_backward", "T g, T x" + _params(params), "T gx",
                           f"acc_t v = (acc_t)x;\nacc_t r;\n{body}\ngx = (T)((acc_t)g * r);",
                           _PREAMBLE)


FORWARD = {n: _forward_spec(n, p, f) for n, (p, f, _) in ACTIVATIONS.items()}
BACKWARD = {n: _backward_spec(n, p, b) for n, (p, _, b) in ACTIVATIONS.items()}

#: core's relu, sigmoid and tanh save their output: ``"<name>_backward_from_output"(g, out)``
#: is ``g * d out / d in`` written with ``o``, the output in acc_t, in the generic formula's
#: form (relu selects, as torch's threshold_backward and the CPU: a NaN of ``g`` stops where
#: the output is 0, and a NaN output passes ``g``): one launch where the generic code takes
#: two or three
FROM_OUTPUT = {
    name: ElementwiseSpec(name + "_backward_from_output", "T g, T out", "T gx",
                          f"acc_t o = (acc_t)out;\ngx = (T)({body});")
    for name, body in (("relu", "o <= (acc_t)0 ? (acc_t)0 : (acc_t)g"),
                       ("sigmoid", "(acc_t)g * o * ((acc_t)1 - o)"),
                       ("tanh", "(acc_t)g * ((acc_t)1 - o * o)"))
}


def _launcher(spec):
    def run(*arrays_and_params):
        dtype = dtype_name(arrays_and_params[0].dtype)
        if dtype not in _DTYPES:
            return None
        return spec.build(dtype)(*arrays_and_params)

    return _named(run, spec)


def _from_output_launcher(spec):
    def run(g, out):
        dtype = dtype_name(g.dtype)
        # another dtype or shape (the generic code casts and broadcasts): decline
        if dtype not in _DTYPES or out.dtype != g.dtype or out.shape != g.shape:
            return None
        return spec.build(dtype)(g, out)

    return _named(run, spec)


def _named(run, spec):
    run.__name__ = spec.name
    run.__doc__ = f"The ``{spec.name!r}`` kernel (see :mod:`flambeau_cuda._kernels._activation`)."
    return run


def kernels() -> dict:
    """The activation entries of the kernel table: ``name`` and ``name + "_backward"``.

    Examples
    --------
    >>> from flambeau_cuda._kernels._activation import kernels
    >>> sorted(kernels())[:2]
    ['celu', 'celu_backward']
    """
    table = {n: _launcher(s) for n, s in FORWARD.items()}
    table.update({s.name: _launcher(s) for s in BACKWARD.values()})
    table.update({s.name: _from_output_launcher(s) for s in FROM_OUTPUT.values()})
    return table

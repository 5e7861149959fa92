"""Fused optimizer updates: one kernel launch for all the parameters (see :mod:`._multi`;
one per parameter where they do not qualify) instead of about ten per parameter.

Signatures (and semantics) are those of flambeau-optim's generic ``sgd_step`` / ``adam_step``
without their first three arguments (``xp``, ``scratch``, ``device``):

- ``sgd_step(params, grads, momentum_buffers, *, lr, momentum, dampening, nesterov,
  weight_decay, maximize) -> momentum_buffers`` (new arrays where an entry was None);
- ``adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
  beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)``, ``steps`` the
  already incremented counts as floats, ``max_exp_avg_sqs`` None unless ``amsgrad``.

All arrays are updated in place. Arithmetic is done in ``acc_t`` (float for half types).
"""

from __future__ import annotations

import math

from flambeau_cuda._kernels import _multi
from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["SGD_PLAIN", "SGD_MOMENTUM", "ADAM", "ADAM_AMSGRAD", "sgd_step", "adam_step",
           "adam_scalars"]

_GRAD = r"""
acc_t d = maximize ? -(acc_t)g : (acc_t)g;
acc_t q = (acc_t)p;
"""

SGD_PLAIN = ElementwiseSpec(
    "sgd_plain", "T g, float64 lr, float64 weight_decay, bool maximize", "T p",
    _GRAD + r"""
if (weight_decay != 0) d += (acc_t)weight_decay * q;
p = (T)(q - (acc_t)lr * d);
""")

SGD_MOMENTUM = ElementwiseSpec(
    "sgd_momentum",
    "T g, float64 lr, float64 momentum, float64 dampening, float64 weight_decay, "
    "bool nesterov, bool maximize, bool first", "T p, T buf",
    _GRAD + r"""
if (weight_decay != 0) d += (acc_t)weight_decay * q;
acc_t b = first ? d : (acc_t)momentum * (acc_t)buf + (acc_t)(1.0 - dampening) * d;
buf = (T)b;
d = nesterov ? d + (acc_t)momentum * b : b;
p = (T)(q - (acc_t)lr * d);
""")

_ADAM = r"""
if (decoupled) q *= (acc_t)decay; else if (weight_decay != 0) d += (acc_t)weight_decay * q;
acc_t mo = (acc_t)m;
acc_t w1 = (acc_t)(1.0 - beta1);
acc_t mn = w1 < (acc_t)0.5 ? mo + w1 * (d - mo) : d - ((acc_t)beta1) * (d - mo);
acc_t vn = (acc_t)beta2 * (acc_t)v + (acc_t)(1.0 - beta2) * d * d;
m = (T)mn; v = (T)vn;
"""
_ADAM_UPDATE = r"""
acc_t denom = sqrt(vn) / (acc_t)bc2_sqrt + (acc_t)eps;
p = (T)(q - (acc_t)step_size * (mn / denom));
"""
_ADAM_IN = ("T g, float64 step_size, float64 beta1, float64 beta2, float64 eps, "
            "float64 weight_decay, float64 decay, float64 bc2_sqrt, bool maximize, "
            "bool decoupled")
ADAM = ElementwiseSpec("adam", _ADAM_IN, "T p, T m, T v", _GRAD + _ADAM + _ADAM_UPDATE)
ADAM_AMSGRAD = ElementwiseSpec(
    "adam_amsgrad", _ADAM_IN, "T p, T m, T v, T vmax",
    _GRAD + _ADAM + "if ((acc_t)vmax > vn) vn = (acc_t)vmax; vmax = (T)vn;\n" + _ADAM_UPDATE)


def sgd_step(params, grads, momentum_buffers, *, lr, momentum, dampening, nesterov,
             weight_decay, maximize):
    """The ``"sgd_step"`` kernel: see the module docstring.

    Examples
    --------
    >>> from flambeau_cuda._kernels._optim import sgd_step
    >>> sgd_step([], [], [], lr=0.1, momentum=0.9, dampening=0.0, nesterov=False,
    ...          weight_decay=0.0, maximize=False)
    []
    """
    if momentum == 0:
        _update(SGD_PLAIN, [(g, p) for p, g in zip(params, grads, strict=True)],
                [lr, weight_decay, maximize])
        return list(momentum_buffers)
    out = [_empty_like(p) if buf is None else buf
           for p, buf in zip(params, momentum_buffers, strict=True)]
    for first in (True, False):  # a new buffer starts at the gradient
        _update(SGD_MOMENTUM, [(g, p, buf) for p, g, buf, old in zip(
            params, grads, out, momentum_buffers, strict=True) if (old is None) == first],
            [lr, momentum, dampening, weight_decay, nesterov, maximize, first])
    return out


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
              beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """The ``"adam_step"`` kernel: see the module docstring.

    Examples
    --------
    >>> from flambeau_cuda._kernels._optim import adam_step
    >>> adam_step([], [], [], [], None, [], lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
    ...           weight_decay=0.0, amsgrad=False, maximize=False,
    ...           decoupled_weight_decay=False)
    """
    decay = 1.0 - lr * weight_decay
    spec = ADAM_AMSGRAD if amsgrad else ADAM
    for step in sorted(set(steps)):  # usually one: every parameter has taken as many steps
        step_size, bc2_sqrt = adam_scalars(lr, beta1, beta2, step)
        _update(spec, [
            (grads[i], p, exp_avgs[i], exp_avg_sqs[i], *((max_exp_avg_sqs[i],) if amsgrad else ()))
            for i, p in enumerate(params) if steps[i] == step],
            [step_size, beta1, beta2, eps, weight_decay, decay, bc2_sqrt, maximize,
             decoupled_weight_decay])


def _update(spec, tensors, scalars):
    """``spec`` over ``tensors`` (tuples in the order of its array parameters): one launch for
    all of them where :func:`_multi.launch` takes them, else one per tensor."""
    if not tensors or _multi.launch(spec, tensors, scalars):
        return
    for arrays in tensors:
        spec.build(dtype_name(arrays[0].dtype))(*_multi.elementwise_args(spec, arrays, scalars))


def adam_scalars(lr, beta1, beta2, step):
    """``(step_size, sqrt(bias_correction2))`` of Adam at ``step`` (computed on the host).

    Examples
    --------
    >>> from flambeau_cuda._kernels._optim import adam_scalars
    >>> [round(v, 6) for v in adam_scalars(0.1, 0.9, 0.999, 1.0)]
    [1.0, 0.031623]
    """
    return lr / (1 - beta1 ** step), math.sqrt(1 - beta2 ** step)


def _empty_like(a):
    from flambeau_cuda import _cupy

    return _cupy.load().empty_like(a)

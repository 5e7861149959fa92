"""gradcheck / gradgradcheck: analytic gradients against float64 finite differences."""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd import Function, GradcheckError, gradcheck
    >>> class Wrong(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * 3  # should be g * 2
    >>> x = flambeau.ones(1, dtype=flambeau.float64, requires_grad=True)
    >>> try:
    ...     gradcheck(Wrong.apply, (x,))
    ... except GradcheckError as e:
    ...     print(str(e).splitlines()[0])
    Jacobian mismatch for output 0 with respect to input 0 (max abs difference 1),
    """


def _tensors(xs):
    from flambeau._tensor import Tensor

    return [x for x in xs if isinstance(x, Tensor) and x.requires_grad]


def _flat_outputs(fn, inputs):
    from flambeau._tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _numerical_jacobian(fn, inputs, targets, eps):
    """d(every output element) / d(every input element), by central differences."""
    jac = []
    # not under no_grad: ``fn`` may itself differentiate (gradgradcheck)
    n_out = sum(o.numel() for o in _flat_outputs(fn, inputs))
    for t in targets:
        data = t._data
        flat = data.reshape(-1)
        host = t._device.backend.to_host(flat)
        j = np.zeros((host.size, n_out))
        for k in range(host.size):
            orig = host[k].item()
            flat[k] = orig + eps
            plus = np.concatenate([o._host().ravel().astype(np.float64)
                                   for o in _flat_outputs(fn, inputs)] or [np.zeros(0)])
            flat[k] = orig - eps
            minus = np.concatenate([o._host().ravel().astype(np.float64)
                                    for o in _flat_outputs(fn, inputs)] or [np.zeros(0)])
            flat[k] = orig
            j[k] = (plus - minus) / (2 * eps)
        jac.append(j)
    return jac


def _analytic_jacobian(fn, inputs, targets):
    from flambeau import _creation
    from flambeau.autograd import grad

    outs = _flat_outputs(fn, inputs)
    n_out = sum(o.numel() for o in outs)
    jac = [np.zeros((t.numel(), n_out)) for t in targets]
    col = 0
    for o in outs:
        for k in range(o.numel()):
            seed = _creation.zeros_like(o)
            seed._data.reshape(-1)[k] = 1
            gs = grad([o], targets, [seed], retain_graph=True, allow_unused=True)
            for j, g in zip(jac, gs):
                if g is not None:
                    j[:, col] = g._host().ravel().astype(np.float64)
            col += 1
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False):
    """Check ``func``'s backward against central finite differences (use float64 inputs).

    Returns True when every input's analytic Jacobian matches; raises
    :class:`GradcheckError` (or returns False) otherwise.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    >>> flambeau.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    from flambeau._tensor import Tensor

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    targets = _tensors(inputs)
    for t in targets:
        if t.dtype.name != "float64":
            import warnings

            warnings.warn(f"gradcheck: input of dtype {t.dtype} is not float64; the check "
                          "may fail from rounding alone", stacklevel=2)
    numerical = _numerical_jacobian(func, inputs, targets, eps)
    analytic = _analytic_jacobian(func, inputs, targets)
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            diff = np.abs(a - n).max()
            msg = (f"Jacobian mismatch for output 0 with respect to input {i} (max abs "
                   f"difference {diff:.3g}),\nnumerical:{n}\nanalytical:{a}\n")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True):
    """Check second derivatives: gradcheck of the function input -> d(out . v)/d(input).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    >>> flambeau.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    from flambeau import _creation
    from flambeau._tensor import Tensor
    from flambeau.autograd import grad

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        gen = np.random.default_rng(0)
        grad_outputs = [
            _creation.tensor(gen.standard_normal(tuple(o.shape)), dtype=o.dtype,
                             device=o.device, requires_grad=True)
            for o in outs
        ]
    else:
        grad_outputs = list(grad_outputs)
    n_in = len(inputs)

    def first_grad(*args):
        ins, gos = args[:n_in], args[n_in:]
        targets = _tensors(ins)
        res = _flat_outputs(func, ins)
        gs = grad(res, targets, list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)

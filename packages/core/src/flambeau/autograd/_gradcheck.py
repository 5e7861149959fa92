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
    """The differentiable outputs of ``fn(*inputs)``: those that require grad, as torch's
    (an output that is no function of the inputs, such as copysign's gradient for its sign
    source under gradgradcheck, is not checked)."""
    from flambeau._tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.requires_grad]


# A complex tensor counts as its real and imaginary parts, as in PyTorch: an input's rows of
# a Jacobian are the derivatives along the real parts of its elements, then along their
# imaginary parts; an output's columns are its elements' real parts, then their imaginary
# parts.


def _parts(t):
    """How many real numbers each element of ``t`` is: 2 if complex, else 1."""
    return 2 if t.dtype.is_complex else 1


def _as_reals(host):
    """A host array as the float64 vector of its real numbers (real parts, then imaginary)."""
    host = host.ravel()
    if host.dtype.kind == "c":
        return np.concatenate([host.real, host.imag]).astype(np.float64)
    return host.astype(np.float64)


def _output_reals(fn, inputs):
    return np.concatenate([_as_reals(o._host()) for o in _flat_outputs(fn, inputs)]
                          or [np.zeros(0)])


def _numerical_jacobian(fn, inputs, targets, eps):
    """d(every real output number) / d(every real input number), by central differences."""
    jac = []
    # not under no_grad: ``fn`` may itself differentiate (gradgradcheck)
    n_out = sum(o.numel() * _parts(o) for o in _flat_outputs(fn, inputs))
    for t in targets:
        flat = t._data.reshape(-1)
        host = t._device.backend.to_host(flat)
        directions = (1, 1j) if t.dtype.is_complex else (1,)
        j = np.zeros((host.size * len(directions), n_out))
        for d, step in enumerate(directions):
            for k in range(host.size):
                orig = host[k].item()
                flat[k] = orig + eps * step
                plus = _output_reals(fn, inputs)
                flat[k] = orig - eps * step
                minus = _output_reals(fn, inputs)
                flat[k] = orig
                j[d * host.size + k] = (plus - minus) / (2 * eps)
        jac.append(j)
    return jac


def _analytic_jacobian(fn, inputs, targets):
    """The same Jacobian from backward: the vector-Jacobian product with the seed ``e_k``
    gives the gradient of ``Re(out_k)``, with ``1j * e_k`` that of ``Im(out_k)`` (the real
    loss is ``Re(sum(conj(seed) * out))``); a complex input's gradient ``dL/dx + i dL/dy``
    fills its real-part rows with its real part and its imaginary-part rows with the rest."""
    from flambeau import _creation
    from flambeau.autograd import grad

    outs = _flat_outputs(fn, inputs)
    n_out = sum(o.numel() * _parts(o) for o in outs)
    jac = [np.zeros((t.numel() * _parts(t), n_out)) for t in targets]
    col = 0
    for o in outs:
        for seed_value in ((1, 1j) if o.dtype.is_complex else (1,)):
            for k in range(o.numel()):
                seed = _creation.zeros_like(o)
                seed._data.reshape(-1)[k] = seed_value
                gs = grad([o], targets, [seed], retain_graph=True, allow_unused=True)
                for j, t, g in zip(jac, targets, gs):
                    if g is not None:
                        # a sparse gradient (sparse=True embeddings) is checked by the
                        # dense tensor it stands for
                        values = (g.to_dense() if g.is_sparse else g)._host()
                        j[:, col] = _as_reals(values if t.dtype.is_complex else values.real)
                col += 1
    return jac


def _blocks(items):
    """``(index, part, slice)`` for each item's real numbers: part is None for a real item,
    "real" or "imaginary" for the two halves of a complex one."""
    blocks, start = [], 0
    for i, t in enumerate(items):
        n = t.numel()
        if t.dtype.is_complex:
            blocks += [(i, "real", slice(start, start + n)),
                       (i, "imaginary", slice(start + n, start + 2 * n))]
            start += 2 * n
        else:
            blocks.append((i, None, slice(start, start + n)))
            start += n
    return blocks


def _considering(out_part, in_part):
    """PyTorch's preface of a mismatch in one part of a complex output or input."""
    parts = [f"the {p} part of complex {what}" for p, what in
             ((out_part, "outputs"), (in_part, "inputs")) if p is not None]
    return f"While considering {' and '.join(parts)} only, " if parts else ""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False):
    """Check ``func``'s backward against central finite differences (use float64 or
    complex128 inputs).

    Returns True when every input's analytic Jacobian matches; raises
    :class:`GradcheckError` (or returns False) otherwise.

    Complex inputs and outputs follow PyTorch's convention: a complex input is its real and
    imaginary parts, each perturbed on its own, and a complex output is two real outputs.
    Backward with the seed ``v`` gives the gradient of the real loss ``Re(sum(conj(v) *
    out))``: ``v = e_k`` checks ``Re(out_k)`` and ``v = 1j * e_k`` checks ``Im(out_k)``,
    each against ``dL/dx + i dL/dy`` for a complex input ``x + iy``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    >>> flambeau.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    >>> z = flambeau.randn(3, dtype=flambeau.complex128, requires_grad=True)
    >>> flambeau.autograd.gradcheck(lambda t: (t * t).exp(), (z,))
    True
    """
    from flambeau._tensor import Tensor

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    targets = _tensors(inputs)
    for t in targets:
        if t.dtype.name not in ("float64", "complex128"):
            import warnings

            warnings.warn(f"gradcheck: input of dtype {t.dtype} is not float64 or "
                          "complex128; the check may fail from rounding alone", stacklevel=2)
    numerical = _numerical_jacobian(func, inputs, targets, eps)
    analytic = _analytic_jacobian(func, inputs, targets)
    out_blocks = _blocks(_flat_outputs(func, inputs))
    for i, (t, a, n) in enumerate(zip(targets, analytic, numerical)):
        for oi, out_part, cols in out_blocks:
            for _, in_part, rows in _blocks([t]):
                ab, nb = a[rows, cols], n[rows, cols]
                if np.allclose(ab, nb, atol=atol, rtol=rtol):
                    continue
                diff = np.abs(ab - nb).max()
                msg = (f"{_considering(out_part, in_part)}Jacobian mismatch for output {oi} "
                       f"with respect to input {i} (max abs difference {diff:.3g}),\n"
                       f"numerical:{nb}\nanalytical:{ab}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _random(gen, shape, complex_values):
    """Standard normal values of ``shape``, complex ones (both parts) if asked."""
    values = gen.standard_normal(shape)
    return values + 1j * gen.standard_normal(shape) if complex_values else values


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True):
    """Check second derivatives: gradcheck of the function input -> d(out . v)/d(input).

    Complex inputs, outputs and ``grad_outputs`` follow :func:`gradcheck`'s convention; the
    random ``grad_outputs`` of complex outputs are complex.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    >>> flambeau.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    >>> z = flambeau.randn(3, dtype=flambeau.complex128, requires_grad=True)
    >>> flambeau.autograd.gradgradcheck(lambda t: t.sin() * t, (z,))
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
            _creation.tensor(_random(gen, tuple(o.shape), o.dtype.is_complex), dtype=o.dtype,
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
        # sparse first gradients are checked by their dense value (to_dense is differentiable)
        return tuple(g.to_dense() if g.is_sparse else g for g in gs if g is not None)

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)


"""Gradient clipping: clip_grad_norm_ and clip_grad_value_."""

from __future__ import annotations

import math

import flambeau
from flambeau import Tensor
from flambeau._ops._select import errors_ignored
from flambeau.nn._complex import NO_ORDER, refuse_complex

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _refuse_sparse(op, tensors):
    """torch's norms have no sparse kernel: a sparse tensor is refused before anything
    changes (NotImplementedError, as torch's)."""
    for t in tensors:
        if t.layout is not flambeau.strided:  # COO, CSR or CSC
            raise NotImplementedError(
                f"{op}: not supported for sparse tensors (a tensor of shape {tuple(t.shape)} "
                f"has layout {t.layout}); torch's vector norm has no sparse kernel either: "
                "take the norm of .to_dense() or of the stored values (.coalesce().values() "
                "of a COO tensor, .values() of a CSR/CSC one)")


def _total_norm(grads, norm_type):
    """The norm of all gradients together, computed per device with one reduction per tensor."""
    by_device = {}
    for g in grads:
        by_device.setdefault(g._device, []).append(g)
    per_device = []
    for dev, gs in by_device.items():
        xp = dev._xp
        if norm_type == math.inf:
            per_device.append(max(float(xp.abs(g._data).max()) for g in gs if g.numel()))
        elif norm_type == -math.inf:
            per_device.append(min(float(xp.abs(g._data).min()) for g in gs if g.numel()))
        else:
            total = sum(float((_abs64(xp, g._data) ** norm_type).sum()) for g in gs)
            per_device.append(total)
    if norm_type == math.inf:
        return max(per_device)
    if norm_type == -math.inf:
        return min(per_device)
    return sum(per_device) ** (1.0 / norm_type)


def _abs64(xp, a):
    """``|a|`` in float64 (the modulus of complex numbers, computed in their own dtype)."""
    if a.dtype.kind == "c":
        return xp.abs(a).astype(xp.float64, copy=False)
    return xp.abs(a.astype(xp.float64, copy=False))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped (those without gradients are skipped).
    max_norm : float
        The largest allowed norm.
    norm_type : float
        The p of the p-norm (``inf`` for the largest absolute value); complex gradients count
        with their moduli.
    error_if_nonfinite : bool
        Raise instead of scaling when the total norm is nan or infinite.
    foreach : bool, optional
        Accepted for compatibility; the gradients are always scaled tensor by tensor with one
        array operation each.

    Returns
    -------
    Tensor
        The total norm of the gradients before clipping (a real 0-d tensor).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = flambeau.zeros(2, requires_grad=True)
    >>> w.grad = flambeau.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return flambeau.tensor(0.0)
    _refuse_sparse("clip_grad_norm_", grads)
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # a NaN norm makes every gradient NaN, as torch's clamp(coef, max=1)
        _scale(grads, coef)
    # real, as PyTorch's (the norm of complex gradients is that of their moduli)
    return flambeau.tensor(total, dtype=grads[0].dtype.to_real(), device=grads[0].device)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = flambeau.zeros(1, requires_grad=True); w.grad = flambeau.tensor([2.0])
    >>> nn.utils.clip_grad_norm([w], 1.0)
    tensor(2.)
    """
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient in place to ``[-clip_value, clip_value]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = flambeau.zeros(2, requires_grad=True)
    >>> w.grad = flambeau.tensor([-3.0, 0.5])
    >>> nn.utils.clip_grad_value_(w, 1.0); w.grad
    tensor([-1.0000,  0.5000])
    """
    clip_value = float(clip_value)
    grads = _grads(parameters)
    for g in grads:  # all checked before any is changed
        refuse_complex("clip_grad_value_", g, hint=NO_ORDER)  # as PyTorch's clamp
        if g.layout is not flambeau.strided:  # here, not by the storage's NumPy protocols:
            # CuPy's clip ignores them
            raise NotImplementedError(
                f"clip_grad_value_: not supported for sparse tensors (a gradient of shape "
                f"{tuple(g.shape)} has layout {g.layout}), as torch's clamp_; clamp the "
                "stored values instead (.coalesce().values() of a COO tensor, .values() of a "
                "CSR/CSC one)")
    for g in grads:
        g._device._xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version_counter.value += 1


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of ``tensors`` taken together, as if concatenated into one vector.

    With :func:`clip_grads_with_norm_`, this splits :func:`clip_grad_norm_` in two steps
    (for example to combine the norms of several groups or processes in between).

    Parameters
    ----------
    tensors : Tensor or iterable of Tensor
        The tensors themselves (pass ``[p.grad for p in params]`` for gradients).
    norm_type : float or str
        The p of the p-norm; ``inf`` (or ``"inf"``) for the largest absolute value.
    error_if_nonfinite : bool
        Raise when the total norm is nan or infinite.
    foreach : bool, optional
        Accepted for compatibility (one reduction per tensor either way).

    Returns
    -------
    Tensor
        A 0-d tensor on the first tensor's device, of the promoted dtype of the per-tensor
        norms (0.0 for no tensors); not tracked by autograd.

    Raises
    ------
    RuntimeError
        With ``error_if_nonfinite``, when the norm is not finite.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.utils.get_total_norm([flambeau.tensor([3.0]), flambeau.tensor([4.0])])
    tensor(5.)
    >>> nn.utils.get_total_norm([flambeau.tensor([3.0]), flambeau.tensor([-4.0])], "inf")
    tensor(4.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return flambeau.tensor(0.0)
    _refuse_sparse("get_total_norm", tensors)
    first = tensors[0].device
    with flambeau.no_grad():
        norms = [flambeau.norm(t, p=norm_type).to(first) for t in tensors]
        total = flambeau.norm(flambeau.stack(norms), p=norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    :func:`clip_grad_norm_` with the total norm computed beforehand (by
    :func:`get_total_norm`); gradients are only ever scaled down.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is scaled (those without gradients are skipped).
    max_norm : float
        The largest allowed norm.
    total_norm : Tensor or float
        The total norm of the gradients.
    foreach : bool, optional
        Accepted for compatibility.

    Returns
    -------
    None

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = flambeau.zeros(2, requires_grad=True)
    >>> w.grad = flambeau.tensor([3.0, 4.0])
    >>> total = nn.utils.get_total_norm([w.grad])
    >>> nn.utils.clip_grads_with_norm_([w], 1.0, total); w.grad
    tensor([0.6000, 0.8000])
    """
    grads = _grads(parameters)
    if not grads:
        return
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = float(max_norm) / (total + 1e-6)
    _scale(grads, coef if not coef >= 1.0 else 1.0)  # a nan norm stays nan, as torch's clamp


def _scale(grads, coef):
    """Multiply every gradient by ``coef`` in place."""
    for g in grads:
        # an infinite norm gives coef 0 and inf * 0 = nan, as in PyTorch: no warning
        with errors_ignored(g._device._xp, "invalid"):
            if g.layout is not flambeau.strided:  # its values, as torch's (an embedding's
                # may be read-only views)
                g.mul_(coef)
                continue
            g._data *= g._data.dtype.type(coef)
        g._version_counter.value += 1

"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math

from flambeau.optim._optimizer import (
    Optimizer,
    addcmul_,
    bump_step,
    check_betas,
    check_nonneg,
    device_runs,
    effective_grad,
    kernel_for,
    lerp_,
    new_step,
    zeros_state,
)

__all__ = ["Adam", "AdamW", "adam_step"]


def adam_step(xp, scratch, device, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps,
              *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
              decoupled_weight_decay):
    """Generic Adam update of backend arrays in place; the reference for an ``"adam_step"`` kernel.

    A backend kernel registered as ``"adam_step"`` is called with the arguments after
    ``device``: lists of arrays (``max_exp_avg_sqs`` is None unless ``amsgrad``), ``steps``
    the already incremented step counts as floats, and the options as keywords.

    Examples
    --------
    >>> import numpy as np, flambeau
    >>> from flambeau.optim._optimizer import _Scratch
    >>> p, g, m, v = np.ones(2), np.full(2, 0.5), np.zeros(2), np.zeros(2)
    >>> adam_step(np, _Scratch(), flambeau.device("cpu"), [p], [g], [m], [v], None, [1.0],
    ...           lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
    ...           maximize=False, decoupled_weight_decay=False)
    >>> p.round(6)
    array([0.9, 0.9])
    """
    for i, p in enumerate(params):
        m, v, step = exp_avgs[i], exp_avg_sqs[i], steps[i]
        tmp = scratch.take(device, p)
        if decoupled_weight_decay:
            if weight_decay != 0:
                p *= 1 - lr * weight_decay
            g = effective_grad(xp, p, grads[i], 0, maximize, scratch.take(device, p, 1))
        else:
            g = effective_grad(xp, p, grads[i], weight_decay, maximize,
                               scratch.take(device, p, 1))
        lerp_(xp, m, g, 1 - beta1, tmp)
        v *= beta2
        addcmul_(xp, v, g, g, 1 - beta2, tmp)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        if amsgrad:
            xp.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        xp.sqrt(v, out=tmp)
        # p -= m / ((sqrt(v) / bc2 + eps) / step_size): the constants folded into two
        # scalars save a pass over the parameter (rounding differs by an ulp or so); a zero
        # step (lr 0) cannot be folded and multiplies at the end instead
        fold = step_size if step_size > 0 else 1.0
        tmp *= 1 / (bias_correction2_sqrt * fold)
        tmp += eps / fold
        xp.divide(m, tmp, out=tmp)
        if step_size <= 0:
            tmp *= step_size
        p -= tmp


class Adam(Optimizer):
    """Adam, PyTorch's ``torch.optim.Adam`` (Kingma and Ba, 2015).

    With gradient ``g`` (negated when ``maximize``; plus ``weight_decay * p`` unless
    ``decoupled_weight_decay``, which instead scales ``p`` by ``1 - lr * weight_decay``)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2        (v_max = max(v_max, v) with amsgrad)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq``
    (amsgrad).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
        Decay rates of the first and second moment averages, each in [0, 1).
    eps : float
        Added to the denominator for numerical stability.
    weight_decay : float
        Weight decay (L2 penalty, or decoupled with ``decoupled_weight_decay``).
    amsgrad : bool
        Use the maximum of past second moments (AMSGrad).
    maximize : bool
        Maximize the objective.
    decoupled_weight_decay : bool
        Decay the weights directly (AdamW) instead of adding an L2 term to the gradient.
    foreach, capturable, differentiable, fused
        Accepted for PyTorch compatibility; a backend's fused ``"adam_step"`` kernel is used
        when it has one.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Adam
    >>> w = flambeau.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    _sparse_message = ("Adam does not support sparse gradients, please consider SparseAdam "
                       "instead")

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg(self._name, options, "lr", "eps", "weight_decay")
        check_betas(self._name, options)

    def step(self, closure=None):
        """Perform one Adam step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adam
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.5)
        >>> w.backward(flambeau.tensor([2.0])); opt.step(); w
        tensor([0.5000], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        amsgrad = group["amsgrad"]
        state = self.state
        exp_avgs, exp_avg_sqs, max_sqs, steps = [], [], [], []
        for p in params:
            s = state[p]
            if not s:
                s["step"] = new_step()
                s["exp_avg"] = zeros_state(p)
                s["exp_avg_sq"] = zeros_state(p)
            if amsgrad and "max_exp_avg_sq" not in s:
                s["max_exp_avg_sq"] = zeros_state(p)
            exp_avgs.append(s["exp_avg"]._data)
            exp_avg_sqs.append(s["exp_avg_sq"]._data)
            max_sqs.append(s["max_exp_avg_sq"]._data if amsgrad else None)
            steps.append(bump_step(s["step"]))
        beta1, beta2 = group["betas"]
        opts = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=amsgrad,
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])
        for dev, ps, gs, ms, vs, vmax, ts in device_runs(params, grads, exp_avgs, exp_avg_sqs,
                                                         max_sqs, steps):
            arrays = [p._data for p in ps]
            vmax = vmax if amsgrad else None
            kernel = kernel_for(dev, "adam_step")
            if kernel is not None:
                kernel(arrays, gs, ms, vs, vmax, ts, **opts)
            else:
                adam_step(dev._xp, self._scratch, dev, arrays, gs, ms, vs, vmax, ts, **opts)
            for p in ps:
                p._version_counter.value += 1


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, PyTorch's ``torch.optim.AdamW``.

    Each step first scales the parameters by ``1 - lr * weight_decay`` and then applies the
    Adam update of the (undecayed) gradient. Options as :class:`Adam`; ``weight_decay``
    defaults to 1e-2.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import AdamW
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.backward(flambeau.tensor([1.0])); opt.step(); w
    tensor([0.8500], requires_grad=True)
    """

    _name = "AdamW"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

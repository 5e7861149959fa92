"""Adamax: Adam with an infinity-norm second moment."""

from __future__ import annotations

from flambeau.optim._optimizer import (
    Optimizer,
    bump_step,
    check_betas,
    check_nonneg,
    effective_grad,
    lerp_,
    new_step,
    zeros_state,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, PyTorch's ``torch.optim.Adamax`` (the infinity-norm variant of Adam).

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``)::

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 2e-3).
    betas : (float, float)
        Decay rates of the first moment and of the infinity norm, each in [0, 1).
    eps, weight_decay : float
        Stability term and L2 penalty.
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Adamax
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> w.backward(flambeau.tensor([3.0])); opt.step(); w
    tensor([0.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("Adamax", options, "lr", "eps", "weight_decay")
        check_betas("Adamax", options)

    def step(self, closure=None):
        """Perform one Adamax step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adamax
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = Adamax([w], lr=0.1, maximize=True)
        >>> w.backward(flambeau.tensor([3.0])); opt.step(); w
        tensor([1.1000], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd, maximize = group["lr"], group["eps"], group["weight_decay"], group["maximize"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"], s["exp_avg"], s["exp_inf"] = new_step(), zeros_state(p), zeros_state(p)
            dev, pd = p._device, p._data
            xp, tmp = dev._xp, take(dev, pd)
            step = bump_step(s["step"])
            m, u = s["exp_avg"]._data, s["exp_inf"]._data
            g = effective_grad(xp, pd, g, wd, maximize, take(dev, pd, 1))
            lerp_(xp, m, g, 1 - beta1, tmp)
            u *= beta2
            xp.abs(g, out=tmp)
            tmp += eps
            xp.maximum(u, tmp, out=u)
            xp.divide(m, u, out=tmp)
            tmp *= lr / (1 - beta1 ** step)
            pd -= tmp
            p._version_counter.value += 1

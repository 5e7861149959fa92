"""RAdam: Adam with a rectified adaptive learning rate."""

from __future__ import annotations

import math

from flambeau.optim._optimizer import (
    Optimizer,
    addcmul_,
    bump_step,
    check_betas,
    check_nonneg,
    effective_grad,
    lerp_,
    new_step,
    zeros_state,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, PyTorch's ``torch.optim.RAdam`` (Liu et al., 2019).

    Moments as Adam; while the variance estimate is unreliable (``rho_t <= 5``) the step is
    plain momentum SGD ``p -= lr * m / (1 - beta1**t)``, afterwards it is rectified::

        p -= lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
        Moment decay rates, each in [0, 1).
    eps, weight_decay : float
        Stability term and weight decay.
    decoupled_weight_decay : bool
        Scale the parameters by ``1 - lr * weight_decay`` instead of an L2 term (RAdamW).
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import RAdam
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = RAdam([w], lr=0.1)
    >>> w.backward(flambeau.tensor([2.0])); opt.step(); w
    tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("RAdam", options, "lr", "eps", "weight_decay")
        check_betas("RAdam", options)

    def step(self, closure=None):
        """Perform one RAdam step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import RAdam
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = RAdam([w], lr=0.1)
        >>> for _ in range(7):
        ...     w.grad = flambeau.tensor([1.0]); opt.step()
        >>> round(w.item(), 4)
        0.4941
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"], s["exp_avg"], s["exp_avg_sq"] = (new_step(), zeros_state(p),
                                                            zeros_state(p))
            dev, pd = p._device, p._data
            xp, tmp, tmp2 = dev._xp, take(dev, pd), take(dev, pd, 2)
            step = bump_step(s["step"])
            m, v = s["exp_avg"]._data, s["exp_avg_sq"]._data
            if decoupled:
                pd *= 1 - lr * wd
            g = effective_grad(xp, pd, g, 0 if decoupled else wd, group["maximize"],
                               take(dev, pd, 1))
            lerp_(xp, m, g, 1 - beta1, tmp)
            v *= beta2
            addcmul_(xp, v, g, g, 1 - beta2, tmp)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            xp.divide(m, bias_correction1, out=tmp2)
            tmp2 *= lr
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                xp.sqrt(v, out=tmp)
                tmp += eps
                xp.divide(math.sqrt(bias_correction2), tmp, out=tmp)
                tmp2 *= tmp
                tmp2 *= rect
            pd -= tmp2
            p._version_counter.value += 1

"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

import flambeau
from flambeau.optim._optimizer import (
    Optimizer,
    addcmul_,
    bump_step,
    check_betas,
    check_nonneg,
    effective_grad,
    lerp_,
    new_step,
    scalar_dtype,
    zeros_state,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, PyTorch's ``torch.optim.NAdam`` (Dozat, 2016).

    With ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))`` and
    ``mu_product`` the running product of the ``mu_t``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / d
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d

    State per parameter: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 2e-3).
    betas : (float, float)
        Moment decay rates, each in [0, 1).
    eps, weight_decay : float
        Stability term and weight decay.
    momentum_decay : float
        Speed of the momentum schedule (default 4e-3).
    decoupled_weight_decay : bool
        Scale the parameters by ``1 - lr * weight_decay`` instead of an L2 term (NAdamW).
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import NAdam
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = NAdam([w], lr=0.1)
    >>> w.backward(flambeau.tensor([1.0])); opt.step(); w
    tensor([0.8944], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("NAdam", options, "lr", "eps", "weight_decay", "momentum_decay")
        check_betas("NAdam", options)

    def step(self, closure=None):
        """Perform one NAdam step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import NAdam
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = NAdam([w], lr=0.1)
        >>> w.backward(flambeau.tensor([1.0])); opt.step()
        >>> opt.state[w]["mu_product"]
        tensor(0.4501)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"] = new_step()
                s["mu_product"] = flambeau.ones((), dtype=scalar_dtype(), device="cpu")
                s["exp_avg"], s["exp_avg_sq"] = zeros_state(p), zeros_state(p)
            dev, pd = p._device, p._data
            xp, tmp, tmp2 = dev._xp, take(dev, pd), take(dev, pd, 2)
            step = bump_step(s["step"])
            m, v = s["exp_avg"]._data, s["exp_avg_sq"]._data
            if decoupled:
                pd *= 1 - lr * wd
            g = effective_grad(xp, pd, g, 0 if decoupled else wd, group["maximize"],
                               take(dev, pd, 1))
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
            # the product lives in a scalar-dtype tensor, as PyTorch keeps it
            mu_product_t = s["mu_product"]
            mu_product_t._data *= mu
            mu_product_t._version_counter.value += 1
            mu_product = float(mu_product_t._data)
            lerp_(xp, m, g, 1 - beta1, tmp)
            v *= beta2
            addcmul_(xp, v, g, g, 1 - beta2, tmp)
            xp.divide(v, 1 - beta2 ** step, out=tmp)
            xp.sqrt(tmp, out=tmp)
            tmp += eps
            xp.divide(g, tmp, out=tmp2)
            tmp2 *= lr * (1.0 - mu) / (1.0 - mu_product)
            pd -= tmp2
            xp.divide(m, tmp, out=tmp2)
            tmp2 *= lr * mu_next / (1.0 - mu_product * mu_next)
            pd -= tmp2
            p._version_counter.value += 1

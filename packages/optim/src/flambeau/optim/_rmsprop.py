"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from flambeau.optim._optimizer import (
    Optimizer,
    addcmul_,
    bump_step,
    check_nonneg,
    effective_grad,
    lerp_,
    new_step,
    zeros_state,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, PyTorch's ``torch.optim.RMSprop`` (Hinton's lecture 6e).

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``)::

        v = alpha * v + (1 - alpha) * g**2
        d = sqrt(v - gbar**2) + eps   (centered, gbar = alpha * gbar + (1 - alpha) * g)
            sqrt(v) + eps             (otherwise)
        buf = momentum * buf + g / d;  p -= lr * buf   (momentum > 0)
        p -= lr * g / d                                (otherwise)

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-2).
    alpha : float
        Smoothing constant of the squared-gradient average (default 0.99).
    eps, weight_decay, momentum : float
        Stability term, L2 penalty, momentum factor.
    centered : bool
        Normalize by an estimate of the gradient's variance.
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import RMSprop
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.backward(flambeau.tensor([2.0])); opt.step(); w
    tensor([0.9800], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("RMSprop", options, "lr", "eps", "momentum", "weight_decay", "alpha")

    def step(self, closure=None):
        """Perform one RMSprop step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import RMSprop
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01, momentum=0.5)
        >>> w.backward(flambeau.tensor([2.0])); opt.step(); sorted(opt.state[w])
        ['momentum_buffer', 'square_avg', 'step']
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        momentum, centered = group["momentum"], group["centered"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"], s["square_avg"] = new_step(), zeros_state(p)
            # options may be switched on mid-run (a loaded or edited group): add their state
            if momentum > 0 and "momentum_buffer" not in s:
                s["momentum_buffer"] = zeros_state(p)
            if centered and "grad_avg" not in s:
                s["grad_avg"] = zeros_state(p)
            dev, pd = p._device, p._data
            xp, tmp = dev._xp, take(dev, pd)
            bump_step(s["step"])
            g = effective_grad(xp, pd, g, group["weight_decay"], group["maximize"],
                               take(dev, pd, 1))
            sq = s["square_avg"]._data
            sq *= alpha
            addcmul_(xp, sq, g, g, 1 - alpha, tmp)
            if centered:
                gbar = s["grad_avg"]._data
                lerp_(xp, gbar, g, 1 - alpha, tmp)
                xp.multiply(gbar, gbar, out=tmp)
                xp.subtract(sq, tmp, out=tmp)
                xp.sqrt(tmp, out=tmp)
            else:
                xp.sqrt(sq, out=tmp)
            tmp += eps
            xp.divide(g, tmp, out=tmp)
            if momentum > 0:
                buf = s["momentum_buffer"]._data
                buf *= momentum
                buf += tmp
                xp.multiply(buf, lr, out=tmp)
            else:
                tmp *= lr
            pd -= tmp
            p._version_counter.value += 1

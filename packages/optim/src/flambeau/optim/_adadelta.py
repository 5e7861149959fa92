"""Adadelta: learning rates from running averages of squared gradients and updates."""

from __future__ import annotations

from flambeau.optim._optimizer import (
    Optimizer,
    addcmul_,
    bump_step,
    check_nonneg,
    effective_grad,
    new_step,
    zeros_state,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, PyTorch's ``torch.optim.Adadelta`` (Zeiler, 2012).

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``)::

        v = rho * v + (1 - rho) * g**2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        p = p - lr * delta

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Scale of the update (default 1.0).
    rho : float
        Decay of the running averages, in [0, 1] (default 0.9).
    eps, weight_decay : float
        Stability term (1e-6) and L2 penalty.
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Adadelta
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = Adadelta([w], lr=1.0, rho=0.0, eps=1.0)
    >>> w.backward(flambeau.tensor([0.0])); opt.step(); w
    tensor([1.], requires_grad=True)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("Adadelta", options, "lr", "eps", "weight_decay")
        rho = options.get("rho")
        if rho is not None and not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {rho!r}; it must be in [0, 1]")

    def step(self, closure=None):
        """Perform one Adadelta step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adadelta
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = Adadelta([w], lr=1.0, rho=0.0, eps=1.0)
        >>> w.backward(flambeau.tensor([3.0])); opt.step(); w
        tensor([0.0513], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                s["step"], s["square_avg"], s["acc_delta"] = (new_step(), zeros_state(p),
                                                              zeros_state(p))
            dev, pd = p._device, p._data
            xp, tmp, delta = dev._xp, take(dev, pd), take(dev, pd, 2)
            bump_step(s["step"])
            g = effective_grad(xp, pd, g, group["weight_decay"], group["maximize"],
                               take(dev, pd, 1))
            v, u = s["square_avg"]._data, s["acc_delta"]._data
            v *= rho
            addcmul_(xp, v, g, g, 1 - rho, tmp)
            xp.add(v, eps, out=tmp)
            xp.sqrt(tmp, out=tmp)
            xp.add(u, eps, out=delta)
            xp.sqrt(delta, out=delta)
            delta /= tmp
            delta *= g
            u *= rho
            addcmul_(xp, u, delta, delta, 1 - rho, tmp)
            delta *= lr
            pd -= delta
            p._version_counter.value += 1

"""ASGD: stochastic gradient descent with a decaying step and a running average of iterates."""

from __future__ import annotations

import flambeau
from flambeau.optim._optimizer import (
    Optimizer,
    bump_step,
    effective_grad,
    scalar_dtype,
    zeros_state,
)

__all__ = ["ASGD"]


def _set_scalar(tensor, value):
    """Store ``value`` in a 0-d state tensor, rounded to the scalar dtype first.

    PyTorch copies ``torch.as_tensor(value)`` (the default dtype) into the state, so the
    value is rounded the same way after a ``load_state_dict`` cast the state to float64.
    """
    tensor._data[...] = float(flambeau.tensor(value, dtype=scalar_dtype(), device="cpu")._data)
    tensor._version_counter.value += 1


class ASGD(Optimizer):
    """Averaged stochastic gradient descent, PyTorch's ``torch.optim.ASGD`` (Polyak and
    Juditsky, 1992).

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``), step size
    ``eta`` (starting at ``lr``) and averaging weight ``mu`` (starting at 1), step ``t``::

        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)              (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)

    ``ax`` is the average of the iterates since step ``t0``. State per parameter: ``step``,
    ``eta``, ``mu`` (0-d tensors of the scalar dtype, as PyTorch keeps them, so ``eta`` and
    ``mu`` are float32 unless the default dtype is float64) and ``ax``.

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-2).
    lambd : float
        Decay term (default 1e-4).
    alpha : float
        Power of the ``eta`` decay (default 0.75).
    t0 : float
        Step at which averaging starts (default 1e6).
    weight_decay : float
        L2 penalty (default 0).
    foreach, differentiable, capturable
        Accepted for PyTorch compatibility; flambeau always runs its in-place update.
    maximize : bool
        Maximize the objective.

    Raises
    ------
    ValueError
        ``"ASGD: Invalid learning rate: -1"`` (PyTorch's message after the class name) for a
        negative ``lr``, likewise for a negative ``weight_decay``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import ASGD
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = ASGD([w], lr=0.1, lambd=0.0, t0=0)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w ** 2).sum().backward(); opt.step()
    >>> w, opt.state[w]["ax"]
    (tensor([ 0.5120, -1.0240], requires_grad=True), tensor([ 0.5760, -1.1520]))
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_options(self, options):
        lr = options.get("lr")
        if lr is not None and not 0.0 <= lr:
            raise ValueError(f"ASGD: Invalid learning rate: {lr}")
        weight_decay = options.get("weight_decay")
        if weight_decay is not None and not 0.0 <= weight_decay:
            raise ValueError(f"ASGD: Invalid weight_decay value: {weight_decay}")

    def step(self, closure=None):
        """Perform one ASGD step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import ASGD
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = ASGD([w], lr=0.1)
        >>> w.backward(flambeau.tensor([1.0])); opt.step(); sorted(opt.state[w])
        ['ax', 'eta', 'mu', 'step']
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self.state[p]
            if not s:
                # unlike the other optimizers' step, ASGD's step, eta and mu live on the
                # parameter's device, as PyTorch keeps them
                s["step"] = flambeau.zeros((), dtype=scalar_dtype(), device=p.device)
                # eta starts at lr rounded to the scalar dtype, as PyTorch stores it
                s["eta"] = flambeau.tensor(lr, dtype=scalar_dtype(), device=p.device)
                s["mu"] = flambeau.ones((), dtype=scalar_dtype(), device=p.device)
                s["ax"] = zeros_state(p)
            dev, pd = p._device, p._data
            xp, tmp = dev._xp, take(dev, pd)
            step = bump_step(s["step"])
            g = effective_grad(xp, pd, g, group["weight_decay"], group["maximize"],
                               take(dev, pd, 1))
            eta = float(s["eta"]._data)
            pd *= 1 - lambd * eta
            xp.multiply(g, -eta, out=tmp)
            pd += tmp
            p._version_counter.value += 1
            ax = s["ax"]._data
            mu = float(s["mu"]._data)
            if mu != 1:
                xp.subtract(pd, ax, out=tmp)
                tmp *= mu
                ax += tmp
            else:
                ax[...] = pd
            s["ax"]._version_counter.value += 1
            _set_scalar(s["eta"], lr / ((1 + lambd * lr * step) ** alpha))
            _set_scalar(s["mu"], 1 / max(1, step - t0))

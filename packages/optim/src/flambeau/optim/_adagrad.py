"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from flambeau.optim._optimizer import (
    Optimizer,
    bump_step,
    check_nonneg,
    effective_grad,
    new_step,
    zeros_state,
)
from flambeau.optim._sparse_grads import SparseRows, is_sparse

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, PyTorch's ``torch.optim.Adagrad`` (Duchi et al., 2011).

    With gradient ``g`` (negated when ``maximize``, plus ``weight_decay * p``)::

        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g**2
        p = p - clr * g / (sqrt(sum) + eps)

    State per parameter (created with the optimizer): ``step``, ``sum`` (starting at
    ``initial_accumulator_value``).

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-2).
    lr_decay, weight_decay, initial_accumulator_value, eps : float
        Learning-rate decay, L2 penalty, starting value of ``sum``, stability term (1e-10).
    maximize : bool
        Maximize the objective.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import Adagrad
    >>> w = flambeau.tensor([1.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.5)
    >>> w.backward(flambeau.tensor([4.0])); opt.step(); w
    tensor([0.5000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def share_memory(self):
        """Move every ``sum`` state tensor into shared memory (``share_memory_()``), as
        PyTorch's Adagrad: worker processes given this optimizer accumulate into one sum
        (Hogwild training). The ``step`` counts stay per process, as in PyTorch.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adagrad
        >>> opt = Adagrad([flambeau.ones(2, requires_grad=True)])
        >>> opt.share_memory()
        >>> state = next(iter(opt.state.values()))
        >>> state["sum"].is_shared(), state["step"].is_shared()
        (True, False)
        """
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def _init_state(self, p, group):
        s = self.state[p]
        if not s:
            s["step"] = new_step()
            s["sum"] = zeros_state(p, group["initial_accumulator_value"])
        return s

    def _check_options(self, options):
        check_nonneg("Adagrad", options, "lr", "lr_decay", "weight_decay",
                     "initial_accumulator_value", "eps")

    def step(self, closure=None):
        """Perform one Adagrad step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adagrad
        >>> w = flambeau.tensor([1.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.5, initial_accumulator_value=9.0)
        >>> w.backward(flambeau.tensor([4.0])); opt.step(); w
        tensor([0.6000], requires_grad=True)
        """
        return self._step_groups(closure)

    _supports_sparse = True

    def _check_sparse_options(self, group, param):
        if group.get("fused"):
            raise RuntimeError("`fused` does not support sparse grad or complex param")
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")

    def _update_group(self, group, params, grads):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        take = self._scratch.take
        for p, g in zip(params, grads, strict=True):
            s = self._init_state(p, group)
            dev, pd = p._device, p._data
            xp, tmp = dev._xp, take(dev, pd)
            step = bump_step(s["step"])
            if is_sparse(g):
                _sparse_update(p, g, s["sum"]._data, lr / (1 + (step - 1) * lr_decay), eps,
                               group["maximize"])
                continue
            g = effective_grad(xp, pd, g, group["weight_decay"], group["maximize"],
                               take(dev, pd, 1))
            acc = s["sum"]._data
            xp.multiply(g, g, out=tmp)
            acc += tmp
            xp.sqrt(acc, out=tmp)
            tmp += eps
            xp.divide(g, tmp, out=tmp)
            tmp *= lr / (1 + (step - 1) * lr_decay)
            pd -= tmp
            p._version_counter.value += 1


def _sparse_update(p, g, acc, clr, eps, maximize):
    """torch's sparse Adagrad step: only the rows the (coalesced) gradient stores change,
    in ``sum`` and in the parameter."""
    rows = SparseRows(g)
    if maximize:
        rows.values = -rows.values
    values = rows.values
    rows.add_(acc, values * values)
    std = p._device._xp.sqrt(rows.gather(acc))
    std += eps
    rows.add_(p._data, (values / std) * p._data.dtype.type(-clr))
    p._version_counter.value += 1

"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from flambeau import Tensor
from flambeau.optim._optimizer import (
    Optimizer,
    check_nonneg,
    device_runs,
    effective_grad,
    kernel_for,
)
from flambeau.optim._sparse_grads import add_sparse_

__all__ = ["SGD", "sgd_step"]


def sgd_step(xp, scratch, device, params, grads, momentum_buffers, *, lr, momentum, dampening,
             nesterov, weight_decay, maximize):
    """Generic SGD update of backend arrays in place; the reference for a ``"sgd_step"`` kernel.

    A backend kernel registered as ``"sgd_step"`` is called with the arguments after
    ``device``: lists of arrays (``momentum_buffers`` entries are None on a parameter's first
    step) and the options as keywords. It updates in place and returns the list of momentum
    buffers (new arrays where there were None).

    Examples
    --------
    >>> import numpy as np, flambeau
    >>> from flambeau.optim._optimizer import _Scratch
    >>> p, g = np.ones(2), np.full(2, 0.5)
    >>> bufs = sgd_step(np, _Scratch(), flambeau.device("cpu"), [p], [g], [None], lr=0.1,
    ...                 momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0,
    ...                 maximize=False)
    >>> p, bufs[0]
    (array([0.95, 0.95]), array([0.5, 0.5]))
    """
    out = []
    for p, g, buf in zip(params, grads, momentum_buffers, strict=True):
        tmp = scratch.take(device, p)
        d = effective_grad(xp, p, g, weight_decay, maximize, tmp)
        if momentum != 0:
            if buf is None:
                buf = xp.array(d, copy=True)
            else:
                buf *= momentum
                if dampening != 0:
                    # nesterov forbids dampening, so d is not needed after this
                    xp.multiply(d, 1 - dampening, out=tmp)
                    buf += tmp
                else:
                    buf += d
            if nesterov:
                if d is tmp:
                    extra = scratch.take(device, p, 1)
                    xp.multiply(buf, momentum, out=extra)
                    tmp += extra
                else:
                    xp.multiply(buf, momentum, out=tmp)
                    tmp += d
                d = tmp
            else:
                d = buf
        out.append(buf)
        if d is tmp:
            tmp *= lr
        else:
            xp.multiply(d, lr, out=tmp)
        p -= tmp
    return out


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's ``torch.optim.SGD``.

    With gradient ``g`` (negated when ``maximize``) the step is::

        g = g + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or buf
        p = p - lr * g

    Parameters
    ----------
    params : iterable
        Tensors or parameter-group dicts.
    lr : float
        Learning rate (default 1e-3).
    momentum, dampening, weight_decay : float
        Momentum factor, dampening of momentum, L2 penalty (all default 0).
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and dampening 0).
    maximize : bool
        Maximize the objective instead of minimizing.
    foreach, differentiable, fused
        Accepted for PyTorch compatibility; flambeau always runs its in-place update (or the
        backend's fused ``"sgd_step"`` kernel when it has one).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w ** 2).sum().backward()
    ...     opt.step()
    >>> w
    tensor([ 0.4600, -0.9200], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_nonneg("SGD", options, "lr", "momentum", "weight_decay")
        if options.get("nesterov") and (options.get("momentum", 0) <= 0
                                        or options.get("dampening", 0) != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got momentum={options.get('momentum')}, "
                             f"dampening={options.get('dampening')})")

    def step(self, closure=None):
        """Perform one SGD step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> w = flambeau.tensor([2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.25)
        >>> def closure():
        ...     opt.zero_grad(); loss = (w ** 2).sum(); loss.backward(); return loss
        >>> opt.step(closure).item(), w
        (4.0, tensor([1.], requires_grad=True))
        """
        return self._step_groups(closure)

    _supports_sparse = True

    def _check_sparse_options(self, group, param):
        if group.get("fused"):
            raise RuntimeError("`_fused_sgd` does not support sparse gradients")
        if group["weight_decay"] != 0 and not param.is_sparse:
            # torch's error (its sparse gradient + dense weight decay term), then why; a
            # sparse parameter's decay term is sparse, as torch's
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead. (SGD: weight_decay cannot be added to a sparse "
                               "gradient; use weight_decay=0 for sparse parameters)")

    _sparse_apart = True  # _update_group sees dense gradients only: no scan for sparse ones

    def _update_sparse(self, group, pairs):
        for p, g in pairs:
            self._sparse_step(group, p, g)

    def _update_group(self, group, params, grads):
        momentum = group["momentum"]
        state = self.state
        if momentum != 0:
            bufs = [state[p].get("momentum_buffer") for p in params]
        else:
            bufs = [None] * len(params)
        opts = dict(lr=group["lr"], momentum=momentum, dampening=group["dampening"],
                    nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"])
        for dev, ps, gs, bs in device_runs(params, grads, bufs):
            raw = [None if b is None else b._data for b in bs]
            arrays = [p._data for p in ps]
            kernel = kernel_for(dev, "sgd_step")
            if kernel is not None:
                new = kernel(arrays, gs, raw, **opts)
            else:
                new = sgd_step(dev._xp, self._scratch, dev, arrays, gs, raw, **opts)
            for p, old, buf in zip(ps, raw, new, strict=True):
                p._version_counter.value += 1
                if momentum != 0 and buf is not old:
                    state[p]["momentum_buffer"] = Tensor._make(buf, dev)

    def _sparse_step(self, group, p, g):
        """torch's update with a sparse gradient: the same rule in sparse arithmetic, with a
        sparse momentum buffer. A sparse parameter (``nn.Parameter`` of a sparse tensor)
        takes the update as a sparse sum, as torch's ``add_``."""
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:  # a sparse parameter's (checked): sparse + sparse
            g = g.add(p.detach(), alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1 - group["dampening"])
            g = g.add(buf, alpha=momentum) if group["nesterov"] else buf
        if p.is_sparse:
            p.add_(g, alpha=-group["lr"])  # counts the version
            return
        add_sparse_(p, g, -group["lr"])
        p._version_counter.value += 1

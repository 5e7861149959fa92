"""SparseAdam: Adam's update on the rows a sparse gradient stores (sparse embeddings)."""

from __future__ import annotations

import math

from flambeau.optim._optimizer import Optimizer, check_betas, zeros_state
from flambeau.optim._sparse_grads import SparseRows, is_sparse

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients, PyTorch's ``torch.optim.SparseAdam``.

    Meant for dense parameters whose gradients are sparse COO tensors, such as the weight
    of ``nn.Embedding(..., sparse=True)``. Only the rows the gradient stores (its coalesced
    indices, whatever their values) are updated, in the moments and in the parameter; the
    other rows keep their moments, unlike :class:`Adam`, which would decay them. With ``g``
    a stored row (negated when ``maximize``) and ``t`` the parameter's step count::

        m = m + (1 - beta1) * (g - m)
        v = v + (1 - beta2) * (g**2 - v)
        p = p - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)

    State per parameter: ``step`` (an int, counted on every step the parameter has a
    gradient, even an empty one), ``exp_avg`` and ``exp_avg_sq`` (dense, like the
    parameter).

    Parameters
    ----------
    params : iterable
        Dense tensors or parameter-group dicts (sparse or complex parameters are refused).
    lr : float
        Learning rate (default 1e-3, > 0).
    betas : tuple of float
        Decay rates of the moments (default ``(0.9, 0.999)``, each in [0, 1)).
    eps : float
        Term added to the denominator (default 1e-8, > 0).
    maximize : bool
        Maximize the objective instead of minimizing.

    Raises
    ------
    RuntimeError
        On :meth:`step`, if a parameter has a dense gradient (use :class:`Adam`); nothing
        is updated then.

    Examples
    --------
    With ``emb = nn.Embedding(4, 2, sparse=True)``, ``SparseAdam(emb.parameters())`` steps
    the rows a batch looked up; here the sparse gradient of rows 1 and 3 is set by hand:

    >>> import flambeau
    >>> from flambeau.optim import SparseAdam
    >>> w = flambeau.ones(4, 2, requires_grad=True)
    >>> opt = SparseAdam([w], lr=0.1)
    >>> w.grad = flambeau.sparse_coo_tensor([[1, 3, 3]], flambeau.ones(3, 2), (4, 2))
    >>> opt.step()
    >>> w
    tensor([[1.0000, 1.0000],
            [0.9000, 0.9000],
            [1.0000, 1.0000],
            [0.9000, 0.9000]], requires_grad=True)
    >>> opt.state[w]["step"]
    1
    """

    _supports_sparse = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        sparse, complex_ = [], []
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse.append([i, j])
                if p.dtype.is_complex:
                    complex_.append([i, j])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")
        if complex_:
            raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not "
                             "support complex parameters")

    def _check_options(self, options):
        lr, eps = options.get("lr"), options.get("eps")
        if lr is not None and not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr} (SparseAdam's lr must be > 0)")
        if eps is not None and not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps} (SparseAdam's eps must be > 0)")
        check_betas("SparseAdam", options)

    def _gradients(self):
        work = super()._gradients()
        for _, params, grads, _ in work:
            for p, g in zip(params, grads, strict=True):
                if not is_sparse(g):
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       f"consider Adam instead (a parameter of shape "
                                       f"{tuple(p.shape)} has a strided gradient)")
        return work

    def step(self, closure=None):
        """Perform one SparseAdam step; returns the closure's loss when a closure is given.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SparseAdam
        >>> w = flambeau.zeros(3, requires_grad=True)
        >>> opt = SparseAdam([w], lr=0.5)
        >>> w.grad = flambeau.sparse_coo_tensor([[2]], [4.0], (3,))
        >>> opt.step(); w
        tensor([ 0.0000,  0.0000, -0.5000], requires_grad=True)
        """
        return self._step_groups(closure)

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = zeros_state(p)
                state["exp_avg_sq"] = zeros_state(p)
            state["step"] += 1
            rows = SparseRows(g)
            if not len(rows):
                continue
            values = -rows.values if group["maximize"] else rows.values
            exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
            # m += (1 - beta1) * (g - m) on the stored rows, v likewise with g**2
            old_m = rows.gather(exp_avg)
            new_m = (values - old_m) * (1 - beta1)
            rows.add_(exp_avg, new_m)
            old_v = rows.gather(exp_avg_sq)
            new_v = (values * values - old_v) * (1 - beta2)
            rows.add_(exp_avg_sq, new_v)
            new_m += old_m
            new_v += old_v
            denom = p._device._xp.sqrt(new_v)
            denom += eps
            step = state["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            new_m /= denom
            rows.add_(p._data, new_m * p._data.dtype.type(-step_size))
            p._version_counter.value += 1
            for t in (state["exp_avg"], state["exp_avg_sq"]):
                t._version_counter.value += 1

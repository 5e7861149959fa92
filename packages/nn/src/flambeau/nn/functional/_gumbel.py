"""Gumbel-softmax: differentiable samples from a categorical distribution."""

from __future__ import annotations

import warnings

import flambeau
from flambeau._tensor import Tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Sample ``softmax((logits + g) / tau)`` with ``g`` standard Gumbel noise.

    ``g = -log(e)`` with ``e`` exponential draws from flambeau's generator, so
    :func:`flambeau.manual_seed` makes the samples reproducible. With ``hard=True`` the
    result is the one-hot vector of each soft sample's argmax, but its gradient is the soft
    sample's (the straight-through estimator: ``y_hard - y_soft.detach() + y_soft``).

    Parameters
    ----------
    logits : Tensor
        Unnormalized log-probabilities, floating point, of any shape.
    tau : float
        The temperature; samples approach one-hot vectors as ``tau`` goes to 0.
    hard : bool
        Return one-hot vectors (with the soft samples' gradient).
    eps : float
        Deprecated and unused (a warning says so when it is not the default), as in PyTorch.
    dim : int
        The dimension the softmax is taken over.

    Raises
    ------
    RuntimeError
        ``logits`` is not floating point.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> _ = flambeau.manual_seed(0)
    >>> logits = flambeau.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], requires_grad=True)
    >>> y = F.gumbel_softmax(logits, tau=0.5, hard=True)
    >>> y
    tensor([[0., 1., 0.],
            [0., 0., 1.]], grad_fn=<AddBackward0>)
    >>> y.sum(-1)
    tensor([1., 1.], grad_fn=<SumBackward1>)
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=2)
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax: expected logits to be a Tensor, got "
                        f"{type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise RuntimeError(f"gumbel_softmax: expected floating point logits, got {logits.dtype}")
    draws = flambeau.empty(tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    noise = -draws.exponential_().log()
    y_soft = ((logits + noise) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = flambeau.zeros_like(y_soft).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft

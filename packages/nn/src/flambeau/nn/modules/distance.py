"""Distance layers: PairwiseDistance and CosineSimilarity (over their functional forms)."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class PairwiseDistance(Module):
    """The p-norm distance ``||x1 - x2 + eps||_p`` over the last dimension.

    Parameters
    ----------
    p : float
        The norm degree (``inf``, 0 and negative values too, as in PyTorch). Stored as
        ``norm``, PyTorch's attribute name.
    eps : float
        Added to the difference, to avoid a zero norm.
    keepdim : bool
        Keep the reduced last dimension (size 1).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> dist = nn.PairwiseDistance(eps=0.0)
    >>> dist(flambeau.tensor([[0.0, 0.0], [1.0, 1.0]]), flambeau.tensor([[3.0, 4.0], [1.0, 1.0]]))
    tensor([5., 0.])
    >>> nn.PairwiseDistance(keepdim=True)(flambeau.randn(4, 8), flambeau.randn(4, 8)).shape
    flambeau.Size([4, 1])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``.

    ``sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))``; the inputs broadcast.

    Parameters
    ----------
    dim : int
        The dimension holding the vectors.
    eps : float
        Floor of each norm, to avoid dividing by zero.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> cos = nn.CosineSimilarity(dim=1)
    >>> cos(flambeau.tensor([[1.0, 0.0], [1.0, 1.0]]), flambeau.tensor([[1.0, 1.0], [2.0, 2.0]]))
    tensor([0.7071, 1.0000])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)

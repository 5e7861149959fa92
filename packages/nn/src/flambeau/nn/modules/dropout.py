"""Dropout layers (identity in eval mode)."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn = staticmethod(F.dropout)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return self._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero elements with probability ``p`` during training, scaling the rest by ``1/(1-p)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> drop = nn.Dropout(0.2)
    >>> drop
    Dropout(p=0.2, inplace=False)
    >>> drop.eval()(flambeau.ones(3))
    tensor([1., 1., 1.])
    """


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` inputs during training.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Dropout1d()(flambeau.ones(2, 3, 4)).shape
    flambeau.Size([2, 3, 4])
    """

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` inputs during training.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Dropout2d()(flambeau.ones(2, 3, 4, 4)).shape
    flambeau.Size([2, 3, 4, 4])
    """

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` inputs during training.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Dropout3d()(flambeau.ones(1, 2, 2, 2, 2)).shape
    flambeau.Size([1, 2, 2, 2, 2])
    """

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (keeps zero mean and unit variance).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.AlphaDropout(0.2)(flambeau.randn(4, 4)).shape
    flambeau.Size([4, 4])
    """

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.FeatureAlphaDropout(0.2)(flambeau.randn(2, 3, 4)).shape
    flambeau.Size([2, 3, 4])
    """

    _fn = staticmethod(F.feature_alpha_dropout)

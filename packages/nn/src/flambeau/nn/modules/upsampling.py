"""Upsampling layers: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resize with :func:`flambeau.nn.functional.interpolate`.

    Parameters
    ----------
    size : int or tuple, optional
        Output spatial size.
    scale_factor : float or tuple, optional
        Multiplier of the spatial size (give size or scale_factor).
    mode : str
        ``'nearest'``, ``'linear'``, ``'bilinear'``, ``'trilinear'`` or ``'nearest-exact'``.
    align_corners : bool, optional
        For the linear modes: align the corner pixels' centres.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Upsample(scale_factor=2, mode="bilinear")(flambeau.ones(1, 1, 2, 2)).shape
    flambeau.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, int) else scale_factor
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-D nearest-neighbour upsampling.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.UpsamplingNearest2d(scale_factor=2)(flambeau.ones(1, 1, 2, 2)).shape
    flambeau.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-D bilinear upsampling with ``align_corners=True``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.UpsamplingBilinear2d(size=3)(flambeau.ones(1, 1, 2, 2)).shape
    flambeau.Size([1, 1, 3, 3])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)

"""PixelShuffle and PixelUnshuffle: trade channels for spatial resolution."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C*r*r, H, W) -> (*, C, H*r, W*r)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.PixelShuffle(3)(flambeau.randn(1, 9, 4, 4)).shape
    flambeau.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H*r, W*r) -> (*, C*r*r, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.PixelUnshuffle(3)(flambeau.randn(1, 1, 12, 12)).shape
    flambeau.Size([1, 9, 4, 4])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"

"""PixelShuffle and PixelUnshuffle (trade channels for spatial resolution) and
ChannelShuffle (interleave channel groups)."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["ChannelShuffle", "PixelShuffle", "PixelUnshuffle"]


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


class ChannelShuffle(Module):
    """Divide the channels of ``(N, C, *)`` into ``groups`` and interleave them.

    See :func:`flambeau.nn.functional.channel_shuffle`.

    Parameters
    ----------
    groups : int
        The number of channel groups (must divide C).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> shuffle = nn.ChannelShuffle(2)
    >>> shuffle
    ChannelShuffle(groups=2)
    >>> shuffle(flambeau.arange(4.0).reshape(1, 4, 1, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"

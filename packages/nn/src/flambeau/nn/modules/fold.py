"""Fold and Unfold: sliding-block (im2col) layers."""

from __future__ import annotations

import flambeau.nn.functional as F
from flambeau.nn.modules.module import Module

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """Extract sliding local blocks: ``(N, C, H, W) -> (N, C*prod(kernel_size), L)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Unfold(kernel_size=(2, 3))(flambeau.randn(2, 5, 3, 4)).shape
    flambeau.Size([2, 30, 4])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum sliding local blocks into an image: ``(N, C*prod(k), L) -> (N, C, *output_size)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(flambeau.randn(1, 12, 12)).shape
    flambeau.Size([1, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")

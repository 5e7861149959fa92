"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d."""

from __future__ import annotations

import math

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn.functional._conv import _ntuple, convolution, transposed_convolution
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Parameters, initialization and repr shared by the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 "'valid' or 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding", name)
        self.output_padding = _ntuple(output_padding, nd, "output_padding", name)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(flambeau.empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(flambeau.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)), bias in +-1/sqrt(fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _padded_input(self, input):
        """The input padded with padding_mode, and the padding left for the convolution."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "valid":
            return input, 0
        if self.padding == "same":
            total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in self.padding]
        widths = [w for lo_hi in reversed(pairs) for w in lo_hi]
        return F.pad(input, widths, mode=self.padding_mode), 0

    def forward(self, input):
        x, padding = self._padded_input(input)
        name = type(self).__name__
        try:
            return convolution(name, x, self.weight, self.bias, self.stride, padding,
                               self.dilation, self.groups, self._nd)
        except RuntimeError as e:
            if x is input:
                raise
            raise RuntimeError(f"{e} (after {self.padding_mode} padding of input shape "
                               f"{tuple(input.shape)})") from None


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` (or unbatched ``(C_in, L)``) inputs.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size, stride, dilation : int or tuple
        Window size, step and spacing of the kernel taps.
    padding : int, tuple, 'valid' or 'same'
        Implicit padding on both sides (with ``padding_mode``).
    groups : int
        Channel groups convolved independently.
    bias : bool
        Whether to learn an additive bias.
    padding_mode : str
        ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Conv1d(16, 33, 3, stride=2)(flambeau.randn(20, 16, 50)).shape
    flambeau.Size([20, 33, 24])
    """

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``) inputs.

    Parameters are as in :class:`Conv1d`, with pairs for the two spatial dims.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> conv = nn.Conv2d(3, 8, 3, padding=1)
    >>> conv(flambeau.randn(2, 3, 16, 16)).shape
    flambeau.Size([2, 8, 16, 16])
    >>> sorted(conv.state_dict())
    ['bias', 'weight']
    >>> try:
    ...     conv(flambeau.randn(1, 1, 8, 8))
    ... except RuntimeError as e:
    ...     print(e)
    Conv2d expected input with 3 channels, got 1 (input shape (1, 1, 8, 8))
    """

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)`` inputs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Conv3d(2, 4, 3, padding=1)(flambeau.randn(1, 2, 4, 5, 6)).shape
    flambeau.Size([1, 4, 4, 5, 6])
    """

    _nd = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding_mode is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return transposed_convolution(type(self).__name__, input, self.weight, self.bias,
                                      self.stride, self.padding, output_padding, self.groups,
                                      self.dilation, self._nd)

    def _output_padding(self, input, output_size):
        nd = self._nd
        size = tuple(output_size)[-nd:]
        spatial = tuple(input.shape)[-nd:]
        pads = []
        for i in range(nd):
            smallest = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            extra = size[i] - smallest
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(
                    f"{type(self).__name__}: requested output_size {tuple(output_size)} is not "
                    f"reachable from input shape {tuple(input.shape)} (dim {i} must be in "
                    f"[{smallest}, {smallest + max(self.stride[i], self.dilation[i]) - 1}])"
                )
            pads.append(extra)
        return tuple(pads)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight shape ``(in_channels, out_channels/groups, k)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(flambeau.randn(1, 4, 5)).shape
    flambeau.Size([1, 2, 11])
    """

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the gradient of Conv2d in its input), for upsampling.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> up(flambeau.randn(1, 8, 5, 5)).shape
    flambeau.Size([1, 4, 10, 10])
    """

    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.ConvTranspose3d(2, 2, 2, stride=2)(flambeau.randn(1, 2, 2, 2, 2)).shape
    flambeau.Size([1, 2, 4, 4, 4])
    """

    _nd = 3

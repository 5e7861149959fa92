"""Layers of torchvision.ops: conv-norm-activation blocks, squeeze-excitation, MLP, Permute,
FrozenBatchNorm2d, stochastic depth and DropBlock. The model families build on these."""

from __future__ import annotations

import flambeau
from flambeau import nn
from flambeau._tensor import Tensor
from flambeau.nn import functional as F

__all__ = ["Conv2dNormActivation", "Conv3dNormActivation", "SqueezeExcitation", "MLP",
           "Permute", "FrozenBatchNorm2d", "StochasticDepth", "stochastic_depth",
           "DropBlock2d", "drop_block2d"]

_DEFAULT = object()


def _same_padding(kernel_size, dilation):
    """``(kernel_size - 1) // 2 * dilation`` per dimension ("same" for odd kernels)."""
    if isinstance(kernel_size, int) and isinstance(dilation, int):
        return (kernel_size - 1) // 2 * dilation
    dims = len(kernel_size) if isinstance(kernel_size, (tuple, list)) else len(dilation)
    ks = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    dil = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    return tuple((k - 1) // 2 * d for k, d in zip(ks, dil))


class _ConvNormActivation(nn.Sequential):
    """Convolution, optional normalization, optional activation; shared by the 2-D/3-D blocks."""

    _conv = nn.Conv2d
    _norm = nn.BatchNorm2d

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=_DEFAULT, activation_layer=_DEFAULT, dilation=1,
                 inplace=True, bias=None):
        norm_layer = self._norm if norm_layer is _DEFAULT else norm_layer
        activation_layer = nn.ReLU if activation_layer is _DEFAULT else activation_layer
        if padding is None:
            padding = _same_padding(kernel_size, dilation)
        if bias is None:
            bias = norm_layer is None
        layers = [self._conv(in_channels, out_channels, kernel_size, stride, padding,
                             dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class Conv2dNormActivation(_ConvNormActivation):
    """Convolution, normalization and activation as a Sequential (torchvision.ops' block).

    ``padding`` defaults to "same" for odd kernels (``(kernel_size - 1) // 2 * dilation``),
    the convolution has a bias only without a norm layer, and ``norm_layer=None`` /
    ``activation_layer=None`` leave that layer out. Defaults: ``nn.BatchNorm2d``, ``nn.ReLU``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.vision.ops import Conv2dNormActivation
    >>> block = Conv2dNormActivation(3, 8, stride=2, activation_layer=nn.ReLU6)
    >>> block(flambeau.zeros(1, 3, 8, 8)).shape
    flambeau.Size([1, 8, 4, 4])
    >>> [type(m).__name__ for m in Conv2dNormActivation(3, 8, norm_layer=None)]
    ['Conv2d', 'ReLU']
    """


class Conv3dNormActivation(_ConvNormActivation):
    """3-D :class:`Conv2dNormActivation`: ``nn.Conv3d``, ``nn.BatchNorm3d``, ``nn.ReLU``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import Conv3dNormActivation
    >>> block = Conv3dNormActivation(2, 4, kernel_size=(1, 3, 3))
    >>> block[0].padding
    (0, 1, 1)
    >>> block(flambeau.zeros(1, 2, 3, 5, 5)).shape
    flambeau.Size([1, 4, 3, 5, 5])
    """

    _conv = nn.Conv3d
    _norm = nn.BatchNorm3d


class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al., 2018): pool, 1x1 squeeze, 1x1 excite, scale the input.

    Parameters
    ----------
    input_channels, squeeze_channels : int
    activation : callable
        Builds the activation after the squeeze (``nn.ReLU``).
    scale_activation : callable
        Builds the gate (``nn.Sigmoid``; MobileNetV3 uses ``nn.Hardsigmoid``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import SqueezeExcitation
    >>> se = SqueezeExcitation(8, 2)
    >>> se(flambeau.ones(1, 8, 4, 4)).shape
    flambeau.Size([1, 8, 4, 4])
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))

    def forward(self, x):
        return self._scale(x) * x


class MLP(nn.Sequential):
    """Linear layers, each but the last followed by norm, activation and dropout.

    Parameters
    ----------
    in_channels : int
    hidden_channels : list of int
        Output width of each linear layer; the last is the MLP's output width.
    norm_layer : callable, optional
        Built with the width after each hidden linear layer (none by default).
    activation_layer : callable, optional
        ``nn.ReLU`` by default; ``None`` leaves it out.
    inplace : bool, optional
        Passed to the activation and dropout layers when not ``None``.
    bias : bool
    dropout : float
        Dropout after every layer, the last included.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import MLP
    >>> mlp = MLP(4, [8, 3], dropout=0.1)
    >>> [type(m).__name__ for m in mlp]
    ['Linear', 'ReLU', 'Dropout', 'Linear', 'Dropout']
    >>> mlp(flambeau.zeros(2, 4)).shape
    flambeau.Size([2, 3])
    """

    def __init__(self, in_channels, hidden_channels, norm_layer=None,
                 activation_layer=nn.ReLU, inplace=None, bias=True, dropout=0.0):
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        width = in_channels
        for hidden in hidden_channels[:-1]:
            layers.append(nn.Linear(width, hidden, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden))
            if activation_layer is not None:
                layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            width = hidden
        layers.append(nn.Linear(width, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(nn.Module):
    """``x.permute(*dims)`` as a module (channels-last blocks of ConvNeXt and Swin).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import Permute
    >>> Permute([0, 2, 3, 1])(flambeau.zeros(1, 3, 4, 5)).shape
    flambeau.Size([1, 4, 5, 3])
    """

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return flambeau.permute(x, self.dims)


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters, all buffers (detection backbones).

    ``y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`` per channel, in
    training mode too; nothing is learned or updated. A BatchNorm2d state dict loads into it
    (its ``num_batches_tracked`` is dropped).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import FrozenBatchNorm2d
    >>> bn = FrozenBatchNorm2d(2)
    >>> bn.running_mean.fill_(1.0)
    tensor([1., 1.])
    >>> bn(flambeau.ones(1, 2, 1, 1)).flatten()
    tensor([0., 0.])
    >>> bn
    FrozenBatchNorm2d(2, eps=1e-05)
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", flambeau.ones(num_features))
        self.register_buffer("bias", flambeau.zeros(num_features))
        self.register_buffer("running_mean", flambeau.zeros(num_features))
        self.register_buffer("running_var", flambeau.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load as ``nn.Module`` does, dropping a BatchNorm2d's ``num_batches_tracked``."""
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    def __repr__(self):
        return f"{type(self).__name__}({self.weight.shape[0]}, eps={self.eps})"


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero whole samples (``mode="row"``) or the whole batch (``"batch"``) with probability
    ``p``, scaling what is kept by ``1 / (1 - p)`` (Huang et al., 2016); identity when not
    ``training``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import stochastic_depth
    >>> stochastic_depth(flambeau.ones(2, 3), 0.5, "row", training=False)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"stochastic_depth: drop probability has to be between 0 and 1, but "
                         f"got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"stochastic_depth: mode has to be either 'batch' or 'row', but got "
                         f"{mode!r}")
    if not training or p == 0.0:
        return input
    keep = 1.0 - p
    shape = [input.shape[0]] + [1] * (input.dim() - 1) if mode == "row" else [1] * input.dim()
    noise = input.new_empty(shape).bernoulli_(keep)
    if keep > 0.0:
        noise = noise / keep
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (active in training mode only).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import StochasticDepth
    >>> StochasticDepth(0.2, "row")
    StochasticDepth(p=0.2, mode=row)
    """

    def __init__(self, p: float, mode: str):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"StochasticDepth: p must be in [0, 1], got {p}")
        if mode not in ("row", "batch"):
            raise ValueError(f"StochasticDepth: mode must be 'row' or 'batch', got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, x):
        return stochastic_depth(x, self.p, self.mode, self.training)

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode}"


def drop_block2d(input: Tensor, p: float, block_size: int, inplace: bool = False,
                 eps: float = 1e-6, training: bool = True) -> Tensor:
    """DropBlock (Ghiasi et al., 2018): zero ``block_size`` x ``block_size`` squares of each
    (N, C, H, W) feature map, about a fraction ``p`` of it, and rescale the rest to keep the
    mean; identity when not ``training``.

    Block centres are drawn where a whole block fits; ``block_size`` is capped by H and W and
    must then be odd.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import drop_block2d
    >>> out = drop_block2d(flambeau.ones(2, 3, 8, 8), 0.2, 3)
    >>> out.shape, round(out.sum().item())
    (flambeau.Size([2, 3, 8, 8]), 384)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop_block2d: drop probability has to be between 0 and 1, but got "
                         f"{p}.")
    if input.dim() != 4:
        raise ValueError(f"drop_block2d: input should be 4 dimensional (N, C, H, W), got shape "
                         f"{tuple(input.shape)}.")
    if not training or p == 0.0:
        return input
    n, c, h, w = input.shape
    block_size = min(block_size, h, w)
    if block_size % 2 == 0:
        raise ValueError(f"drop_block2d: block size should be odd. Got {block_size} which is "
                         f"even.")
    # seed rate so that, blocks overlapping aside, a fraction p of the map is dropped
    gamma = p * h * w / (block_size ** 2 * (h - block_size + 1) * (w - block_size + 1))
    seeds = flambeau.empty((n, c, h - block_size + 1, w - block_size + 1), dtype=input.dtype,
                           device=input.device).bernoulli_(min(gamma, 1.0))
    half = block_size // 2
    seeds = F.pad(seeds, [half] * 4, value=0)
    dropped = F.max_pool2d(seeds, kernel_size=block_size, stride=1, padding=half)
    keep = 1 - dropped
    scale = keep.numel() / (eps + keep.sum())
    if inplace:
        return input.mul_(keep).mul_(scale)
    return input * keep * scale


class DropBlock2d(nn.Module):
    """Module form of :func:`drop_block2d` (active in training mode only).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import DropBlock2d
    >>> DropBlock2d(0.1, 3)
    DropBlock2d(p=0.1, block_size=3, inplace=False)
    """

    def __init__(self, p: float, block_size: int, inplace: bool = False, eps: float = 1e-6):
        super().__init__()
        self.p, self.block_size, self.inplace, self.eps = p, block_size, inplace, eps

    def forward(self, input):
        return drop_block2d(input, self.p, self.block_size, self.inplace, self.eps,
                            self.training)

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, block_size={self.block_size}, "
                f"inplace={self.inplace})")

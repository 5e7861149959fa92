"""Building blocks shared by the model families (torchvision.ops' blocks, same names)."""

from __future__ import annotations

import flambeau
from flambeau import nn

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "make_divisible",
           "init_conv_bn_linear"]

_DEFAULT = object()


def make_divisible(value: float, divisor: int, min_value=None) -> int:
    """Round channels to a multiple of ``divisor``, never more than 10% below ``value``."""
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class Conv2dNormActivation(nn.Sequential):
    """Convolution, normalization and activation as a Sequential (torchvision.ops' block).

    ``padding`` defaults to "same" for odd kernels (``(kernel_size - 1) // 2 * dilation``),
    the convolution has a bias only without a norm layer, and ``norm_layer=None`` /
    ``activation_layer=None`` leave that layer out.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.vision.models import Conv2dNormActivation
    >>> block = Conv2dNormActivation(3, 8, stride=2, activation_layer=nn.ReLU6)
    >>> block(flambeau.zeros(1, 3, 8, 8)).shape
    flambeau.Size([1, 8, 4, 4])
    >>> [type(m).__name__ for m in Conv2dNormActivation(3, 8, norm_layer=None)]
    ['Conv2d', 'ReLU']
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=_DEFAULT, activation_layer=_DEFAULT, dilation=1,
                 inplace=True, bias=None):
        norm_layer = nn.BatchNorm2d if norm_layer is _DEFAULT else norm_layer
        activation_layer = nn.ReLU if activation_layer is _DEFAULT else activation_layer
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al., 2018): pool, 1x1 squeeze, 1x1 excite, scale the input."""

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x):
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(scale) * x


class StochasticDepth(nn.Module):
    """Drop a residual branch with probability ``p`` while training (Huang et al., 2016).

    ``mode="row"`` drops per sample, ``"batch"`` the whole batch; kept values are scaled by
    ``1 / (1 - p)`` so evaluation is the identity.
    """

    def __init__(self, p: float, mode: str):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"StochasticDepth: p must be in [0, 1], got {p}")
        if mode not in ("row", "batch"):
            raise ValueError(f"StochasticDepth: mode must be 'row' or 'batch', got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = 1.0 - self.p
        mask = x.new_empty(shape).bernoulli_(keep)
        if keep > 0.0:
            mask = mask / keep
        return x * mask

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode}"


def init_conv_bn_linear(model, linear_std=0.01):
    """torchvision's usual initialization: He (fan-out) convs, unit norms, small linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear_std is None:
                init_range = 1.0 / m.out_features ** 0.5
                nn.init.uniform_(m.weight, -init_range, init_range)
            else:
                nn.init.normal_(m.weight, 0, linear_std)
            nn.init.zeros_(m.bias)


def flatten_pool(x):
    """Global average pool to ``(N, C)``."""
    return flambeau.flatten(nn.functional.adaptive_avg_pool2d(x, (1, 1)), 1)

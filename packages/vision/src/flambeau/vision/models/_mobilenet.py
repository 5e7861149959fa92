"""MobileNetV2 with torchvision's module tree and parameter names."""

from __future__ import annotations

import flambeau
from flambeau import nn
from flambeau.vision.models._layers import Conv2dNormActivation, init_conv_bn_linear
from flambeau.vision.models._layers import make_divisible as _make_divisible
from flambeau.vision.models._weights import _build

__all__ = ["MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, project (1x1, linear), with a shortcut when shapes match.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import InvertedResidual
    >>> InvertedResidual(8, 8, 1, 6)(flambeau.zeros(1, 8, 4, 4)).shape
    flambeau.Size([1, 8, 4, 4])
    """

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# expansion t, output channels c, repeats n, first stride s (Sandler et al., 2018, table 2)
_SETTINGS = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
             [6, 160, 3, 2], [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    """MobileNetV2; 3,504,872 parameters with 1000 classes.

    Parameters
    ----------
    num_classes : int
    width_mult : float
        Scales every layer's channels.
    inverted_residual_setting : list of [t, c, n, s], optional
        The stages (expansion, output channels, repeats, first stride); default the
        paper's seven.
    round_nearest : int
        Channels are rounded to multiples of this.
    block : callable, optional
        The stage block, ``block(inp, oup, stride, expand_ratio, norm_layer=...)``;
        default :class:`InvertedResidual`.
    norm_layer : callable, optional
        Defaults to ``nn.BatchNorm2d``.
    dropout : float

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import MobileNetV2
    >>> MobileNetV2(num_classes=5)(flambeau.randn(2, 3, 32, 32)).shape
    flambeau.Size([2, 5])
    >>> small = MobileNetV2(num_classes=5, inverted_residual_setting=[[1, 16, 1, 1]])
    >>> len(small.features)
    3
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting=None, round_nearest: int = 8, block=None,
                 norm_layer=None, dropout: float = 0.2):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        block = block or InvertedResidual
        settings = _SETTINGS if inverted_residual_setting is None else inverted_residual_setting
        if not settings or any(len(row) != 4 for row in settings):
            raise ValueError("MobileNetV2: inverted_residual_setting should be a non-empty "
                             f"list of 4-element lists [t, c, n, s], got {settings}")
        channels = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, channels, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in settings:
            out = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(channels, out, s if i == 0 else 1, t,
                                      norm_layer=norm_layer))
                channels = out
        features.append(Conv2dNormActivation(channels, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))
        init_conv_bn_linear(self)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(flambeau.flatten(x, 1))


def mobilenet_v2(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV2:
    """Build :class:`MobileNetV2`; ``weights`` is a :class:`MobileNet_V2_Weights` member, its
    name, or a local file.

    Examples
    --------
    >>> from flambeau.vision.models import mobilenet_v2
    >>> sum(p.numel() for p in mobilenet_v2().parameters())
    3504872
    """
    return _build("mobilenet_v2", MobileNetV2, weights, progress, kwargs)

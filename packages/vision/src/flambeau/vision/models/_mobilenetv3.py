"""MobileNetV3 (Howard et al., 2019) with torchvision's module tree and parameter names."""

from __future__ import annotations

from functools import partial

from flambeau import nn
from flambeau.vision.models._layers import (
    Conv2dNormActivation,
    SqueezeExcitation,
    flatten_pool,
    init_conv_bn_linear,
    make_divisible,
)
from flambeau.vision.models._weights import _build

__all__ = ["MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small"]


class _BlockConfig:
    """One bottleneck: channels in, kernel, expanded, out, SE, activation, stride, dilation."""

    def __init__(self, input_channels, kernel, expanded_channels, out_channels, use_se,
                 activation, stride, dilation, width_mult):
        self.input_channels = make_divisible(input_channels * width_mult, 8)
        self.kernel = kernel
        self.expanded_channels = make_divisible(expanded_channels * width_mult, 8)
        self.out_channels = make_divisible(out_channels * width_mult, 8)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation


class _InvertedResidual(nn.Module):
    """Expand (1x1), depthwise, optional squeeze-excitation, project (1x1, linear)."""

    def __init__(self, cnf: _BlockConfig, norm_layer, se_layer=None):
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"MobileNetV3: stride must be 1 or 2, got {cnf.stride}")
        se_layer = se_layer or partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, 1,
                                               norm_layer=norm_layer, activation_layer=act))
        # a dilated block keeps the resolution (the stride becomes dilation)
        layers.append(Conv2dNormActivation(
            cnf.expanded_channels, cnf.expanded_channels, cnf.kernel,
            stride=1 if cnf.dilation > 1 else cnf.stride, dilation=cnf.dilation,
            groups=cnf.expanded_channels, norm_layer=norm_layer, activation_layer=act))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels,
                                   make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, 1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(nn.Module):
    """MobileNetV3; build it with :func:`mobilenet_v3_large` / :func:`mobilenet_v3_small`.

    Parameters
    ----------
    inverted_residual_setting : list
        The bottleneck configurations (built by the two builders).
    last_channel : int
        Width of the classifier's hidden layer.
    num_classes : int
    block, norm_layer : callable, optional
        Bottleneck block and normalization (default ``BatchNorm2d(eps=1e-3,
        momentum=0.01)``).
    dropout : float
        Dropout before the last linear layer (training only).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import mobilenet_v3_small
    >>> model = mobilenet_v3_small(num_classes=4).eval()
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 4])
    """

    def __init__(self, inverted_residual_setting, last_channel: int, num_classes: int = 1000,
                 block=None, norm_layer=None, dropout: float = 0.2, **kwargs):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("MobileNetV3: inverted_residual_setting should not be empty")
        if not all(isinstance(s, _BlockConfig) for s in inverted_residual_setting):
            raise TypeError("MobileNetV3: inverted_residual_setting should be a list of block "
                            "configurations (use mobilenet_v3_large / mobilenet_v3_small)")
        block = block or _InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, first, 3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        layers.append(Conv2dNormActivation(last_in, 6 * last_in, 1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(6 * last_in, last_channel), nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))
        init_conv_bn_linear(self)

    def forward(self, x):
        return self.classifier(flatten_pool(self.features(x)))


# input, kernel, expanded, output, SE, activation, stride (Howard et al., 2019, tables 1-2)
_LARGE = [(16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
          (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
          (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
          (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
          (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
          (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1)]
_SMALL = [(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
          (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
          (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
          (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1)]


def _config(arch, width_mult=1.0, reduced_tail=False, dilated=False):
    """The block list and last width; ``reduced_tail`` halves the last stage (detection)."""
    div = 2 if reduced_tail else 1
    dil = 2 if dilated else 1
    if arch == "large":
        head, (c_in, c4, c5, exp), last = _LARGE, (112, 160, 960, 672), 1280
    else:
        head, (c_in, c4, c5, exp), last = _SMALL, (48, 96, 576, 288), 1024
    rows = [row + (1,) for row in head]
    rows += [(c_in, 5, exp, c4 // div, True, "HS", 2, dil),
             (c4 // div, 5, c5 // div, c4 // div, True, "HS", 1, dil),
             (c4 // div, 5, c5 // div, c4 // div, True, "HS", 1, dil)]
    setting = [_BlockConfig(*row, width_mult=width_mult) for row in rows]
    return setting, make_divisible(last // div * width_mult, 8)


def _mobilenet_v3(arch, weights, progress, kwargs):
    options = {k: kwargs.pop(k) for k in ("width_mult", "reduced_tail", "dilated")
               if k in kwargs}
    setting, last = _config(arch, **options)
    return _build(f"mobilenet_v3_{arch}", partial(MobileNetV3, setting, last), weights,
                  progress, kwargs)


def mobilenet_v3_large(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Large (5,483,032 parameters); ``weights``: enum member, its name or a file.

    ``width_mult``, ``reduced_tail`` and ``dilated`` shape the blocks; other keyword
    arguments go to :class:`MobileNetV3`.

    Examples
    --------
    >>> from flambeau.vision.models import mobilenet_v3_large
    >>> sum(p.numel() for p in mobilenet_v3_large().parameters())
    5483032
    """
    return _mobilenet_v3("large", weights, progress, kwargs)


def mobilenet_v3_small(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV3:
    """MobileNetV3-Small (2,542,856 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import mobilenet_v3_small
    >>> sum(p.numel() for p in mobilenet_v3_small().parameters())
    2542856
    """
    return _mobilenet_v3("small", weights, progress, kwargs)

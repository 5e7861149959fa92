"""RegNetX and RegNetY (Radosavovic et al., 2020) with torchvision's module tree and
parameter names."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import numpy as np

from flambeau import nn
from flambeau.vision.models._layers import Conv2dNormActivation, SqueezeExcitation, make_divisible
from flambeau.vision.models._weights import _build

__all__ = ["RegNet", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf",
           "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf",
           "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
           "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf"]


class _SimpleStemIN(Conv2dNormActivation):
    """3x3 stride-2 convolution, norm, activation."""

    def __init__(self, width_in, width_out, norm_layer, activation_layer):
        super().__init__(width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
                         activation_layer=activation_layer)


class _BottleneckTransform(nn.Sequential):
    """1x1 (a), grouped 3x3 (b), optional squeeze-excitation (se), 1x1 (c)."""

    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width,
                 bottleneck_multiplier, se_ratio):
        w_b = int(round(width_out * bottleneck_multiplier))
        layers = OrderedDict()
        layers["a"] = Conv2dNormActivation(width_in, w_b, 1, norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        layers["b"] = Conv2dNormActivation(w_b, w_b, 3, stride=stride, groups=w_b // group_width,
                                           norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        if se_ratio:
            layers["se"] = SqueezeExcitation(w_b, int(round(se_ratio * width_in)),
                                             activation=activation_layer)
        layers["c"] = Conv2dNormActivation(w_b, width_out, 1, norm_layer=norm_layer,
                                           activation_layer=None)
        super().__init__(layers)


class _ResBottleneckBlock(nn.Module):
    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer,
                 group_width=1, bottleneck_multiplier=1.0, se_ratio=None):
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(width_in, width_out, 1, stride=stride,
                                             norm_layer=norm_layer, activation_layer=None)
        self.f = _BottleneckTransform(width_in, width_out, stride, norm_layer,
                                      activation_layer, group_width, bottleneck_multiplier,
                                      se_ratio)
        self.activation = activation_layer(inplace=True)

    def forward(self, x):
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class _BlockParams:
    """Per-stage depths, widths, group widths, bottleneck ratios and strides."""

    def __init__(self, depths, widths, group_widths, bottleneck_multipliers, strides,
                 se_ratio=None):
        self.depths = depths
        self.widths = widths
        self.group_widths = group_widths
        self.bottleneck_multipliers = bottleneck_multipliers
        self.strides = strides
        self.se_ratio = se_ratio

    @classmethod
    def from_init_params(cls, depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0,
                         se_ratio=None, **kwargs):
        """The stages of a RegNet from its linear width rule, quantized in log space.

        Block ``j`` would have width ``w_0 + w_a * j``; it is snapped to ``w_0 * w_m**k``
        (nearest integer ``k``) and to a multiple of 8; runs of equal widths form stages.
        Computed in float32, as the published models were.
        """
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise ValueError(f"RegNet: invalid settings w_0={w_0}, w_a={w_a}, w_m={w_m} "
                             "(need w_a >= 0, w_0 > 0 and a multiple of 8, w_m > 1)")
        f32 = np.float32
        continuous = np.arange(depth, dtype=f32) * f32(w_a) + f32(w_0)
        capacity = np.round(np.log(continuous / f32(w_0)) / f32(math.log(w_m)))
        widths = (np.round(f32(w_0) * np.power(f32(w_m), capacity) / f32(8)) * 8)
        widths = widths.astype(np.int64).tolist()
        stage_widths, stage_depths = [], []
        for w in widths:
            if stage_widths and stage_widths[-1] == w:
                stage_depths[-1] += 1
            else:
                stage_widths.append(w)
                stage_depths.append(1)
        n = len(stage_widths)
        multipliers = [bottleneck_multiplier] * n
        # bottleneck widths must be multiples of the group width
        bottlenecks = [int(w * b) for w, b in zip(stage_widths, multipliers)]
        groups = [min(group_width, w) for w in bottlenecks]
        bottlenecks = [make_divisible(w, g) for w, g in zip(bottlenecks, groups)]
        stage_widths = [int(w / b) for w, b in zip(bottlenecks, multipliers)]
        return cls(stage_depths, stage_widths, groups, multipliers, [2] * n, se_ratio)


class RegNet(nn.Module):
    """RegNet; build it with the ``regnet_x_*`` / ``regnet_y_*`` builders.

    Parameters
    ----------
    block_params
        The stage settings (built by the builders).
    num_classes : int
    stem_width : int
    stem_type, block_type, norm_layer, activation : callable, optional
        Default a 3x3 stem, residual bottleneck blocks, ``BatchNorm2d`` and ``ReLU``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import regnet_x_400mf
    >>> model = regnet_x_400mf(num_classes=3).eval()
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 3])
    >>> [len(stage) for stage in model.trunk_output]
    [1, 2, 7, 12]
    """

    def __init__(self, block_params, num_classes: int = 1000, stem_width: int = 32,
                 stem_type=None, block_type=None, norm_layer=None, activation=None):
        super().__init__()
        stem_type = stem_type or _SimpleStemIN
        norm_layer = norm_layer or nn.BatchNorm2d
        block_type = block_type or _ResBottleneckBlock
        activation = activation or nn.ReLU
        self.stem = stem_type(3, stem_width, norm_layer, activation)
        width = stem_width
        stages = OrderedDict()
        settings = zip(block_params.widths, block_params.strides, block_params.depths,
                       block_params.group_widths, block_params.bottleneck_multipliers)
        for i, (width_out, stride, depth, group_width, multiplier) in enumerate(settings):
            stage = nn.Sequential()
            for j in range(depth):
                stage.add_module(f"block{i + 1}-{j}", block_type(
                    width if j == 0 else width_out, width_out, stride if j == 0 else 1,
                    norm_layer, activation, group_width, multiplier, block_params.se_ratio))
            stages[f"block{i + 1}"] = stage
            width = width_out
        self.trunk_output = nn.Sequential(stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


def _regnet(name, depth, w_0, w_a, w_m, group_width, se_ratio, weights, progress, kwargs):
    params = _BlockParams.from_init_params(depth, w_0, w_a, w_m, group_width,
                                           se_ratio=se_ratio, **kwargs)
    for key in ("bottleneck_multiplier",):  # consumed by the stage settings
        kwargs.pop(key, None)
    kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
    return _build(name, partial(RegNet, params), weights, progress, kwargs)


# depth, w_0, w_a, w_m, group width (Radosavovic et al., 2020, appendix)
_X = {"400mf": (22, 24, 24.48, 2.54, 16), "800mf": (16, 56, 35.73, 2.28, 16),
      "1_6gf": (18, 80, 34.01, 2.25, 24), "3_2gf": (25, 88, 26.31, 2.25, 48),
      "8gf": (23, 80, 49.56, 2.88, 120), "16gf": (22, 216, 55.59, 2.1, 128),
      "32gf": (23, 320, 69.86, 2.0, 168)}
_Y = {"400mf": (16, 48, 27.89, 2.09, 8), "800mf": (14, 56, 38.84, 2.4, 16),
      "1_6gf": (27, 48, 20.71, 2.65, 24), "3_2gf": (21, 80, 42.63, 2.66, 24),
      "8gf": (17, 192, 76.82, 2.19, 56), "16gf": (18, 200, 106.23, 2.48, 112),
      "32gf": (20, 232, 115.89, 2.53, 232), "128gf": (27, 456, 160.83, 2.52, 264)}


def _x(size, weights, progress, kwargs):
    return _regnet(f"regnet_x_{size}", *_X[size], None, weights, progress, kwargs)


def _y(size, weights, progress, kwargs):
    return _regnet(f"regnet_y_{size}", *_Y[size], 0.25, weights, progress, kwargs)


def regnet_y_400mf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-400MF (4,344,144 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_y_400mf
    >>> sum(p.numel() for p in regnet_y_400mf().parameters())
    4344144
    """
    return _y("400mf", weights, progress, kwargs)


def regnet_y_800mf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-800MF (6,432,512 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_y_800mf
    >>> sum(p.numel() for p in regnet_y_800mf().parameters())
    6432512
    """
    return _y("800mf", weights, progress, kwargs)


def regnet_y_1_6gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-1.6GF (11,202,430 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_y_1_6gf
    >>> sum(p.numel() for p in regnet_y_1_6gf().parameters())
    11202430
    """
    return _y("1_6gf", weights, progress, kwargs)


def regnet_y_3_2gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-3.2GF (19,436,338 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_y_3_2gf
    >>> sum(p.numel() for p in regnet_y_3_2gf().parameters())
    19436338
    """
    return _y("3_2gf", weights, progress, kwargs)


def regnet_y_8gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-8GF (39,381,472 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_y_8gf" in list_models(include="regnet_y_*")
    True
    """
    return _y("8gf", weights, progress, kwargs)


def regnet_y_16gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-16GF (83,590,140 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_y_16gf" in list_models(include="regnet_y_*")
    True
    """
    return _y("16gf", weights, progress, kwargs)


def regnet_y_32gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-32GF (145,046,770 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_y_32gf" in list_models(include="regnet_y_*")
    True
    """
    return _y("32gf", weights, progress, kwargs)


def regnet_y_128gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetY-128GF (644,812,894 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_y_128gf" in list_models(include="regnet_y_*")
    True
    """
    return _y("128gf", weights, progress, kwargs)


def regnet_x_400mf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-400MF (5,495,976 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_x_400mf
    >>> sum(p.numel() for p in regnet_x_400mf().parameters())
    5495976
    """
    return _x("400mf", weights, progress, kwargs)


def regnet_x_800mf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-800MF (7,259,656 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_x_800mf
    >>> sum(p.numel() for p in regnet_x_800mf().parameters())
    7259656
    """
    return _x("800mf", weights, progress, kwargs)


def regnet_x_1_6gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-1.6GF (9,190,136 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_x_1_6gf
    >>> sum(p.numel() for p in regnet_x_1_6gf().parameters())
    9190136
    """
    return _x("1_6gf", weights, progress, kwargs)


def regnet_x_3_2gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-3.2GF (15,296,552 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import regnet_x_3_2gf
    >>> sum(p.numel() for p in regnet_x_3_2gf().parameters())
    15296552
    """
    return _x("3_2gf", weights, progress, kwargs)


def regnet_x_8gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-8GF (39,572,648 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_x_8gf" in list_models(include="regnet_x_*")
    True
    """
    return _x("8gf", weights, progress, kwargs)


def regnet_x_16gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-16GF (54,278,536 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_x_16gf" in list_models(include="regnet_x_*")
    True
    """
    return _x("16gf", weights, progress, kwargs)


def regnet_x_32gf(*, weights=None, progress: bool = True, **kwargs) -> RegNet:
    """RegNetX-32GF (107,811,560 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "regnet_x_32gf" in list_models(include="regnet_x_*")
    True
    """
    return _x("32gf", weights, progress, kwargs)

"""EfficientNet B0-B7 (Tan & Le, 2019) and V2 S/M/L (Tan & Le, 2021) with torchvision's
module tree and parameter names."""

from __future__ import annotations

import copy
import math
from functools import partial

from flambeau import nn
from flambeau.vision.models._layers import (
    Conv2dNormActivation,
    SqueezeExcitation,
    StochasticDepth,
    flatten_pool,
    init_conv_bn_linear,
    make_divisible,
)
from flambeau.vision.models._weights import _build

__all__ = ["EfficientNet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
           "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "efficientnet_b6",
           "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]


class _StageConfig:
    """One stage: expansion, kernel, first stride, channels in/out, repeats, fused or not."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 width_mult=1.0, depth_mult=1.0, fused=False):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = make_divisible(input_channels * width_mult, 8)
        self.out_channels = make_divisible(out_channels * width_mult, 8)
        self.num_layers = int(math.ceil(num_layers * depth_mult))
        self.block = _FusedMBConv if fused else _MBConv


class _MBConv(nn.Module):
    """Expand (1x1), depthwise, squeeze-excitation, project (1x1); shortcut with stochastic
    depth when the shapes match."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"EfficientNet: stride must be 1 or 2, got {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = make_divisible(cnf.input_channels * cnf.expand_ratio, 8)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, 1,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers += [
            Conv2dNormActivation(expanded, expanded, cnf.kernel, stride=cnf.stride,
                                 groups=expanded, norm_layer=norm_layer,
                                 activation_layer=nn.SiLU),
            se_layer(expanded, max(1, cnf.input_channels // 4),
                     activation=partial(nn.SiLU, inplace=True)),
            Conv2dNormActivation(expanded, cnf.out_channels, 1, norm_layer=norm_layer,
                                 activation_layer=None),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x):
        out = self.block(x)
        return self.stochastic_depth(out) + x if self.use_res_connect else out


class _FusedMBConv(_MBConv):
    """EfficientNetV2's early block: one full convolution replaces expand + depthwise."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        nn.Module.__init__(self)
        if cnf.stride not in (1, 2):
            raise ValueError(f"EfficientNet: stride must be 1 or 2, got {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = make_divisible(cnf.input_channels * cnf.expand_ratio, 8)
        if expanded != cnf.input_channels:
            layers = [Conv2dNormActivation(cnf.input_channels, expanded, cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU),
                      Conv2dNormActivation(expanded, cnf.out_channels, 1,
                                           norm_layer=norm_layer, activation_layer=None)]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels, cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels


class EfficientNet(nn.Module):
    """EfficientNet V1/V2; build it with :func:`efficientnet_b0` ... :func:`efficientnet_v2_l`.

    Parameters
    ----------
    inverted_residual_setting : list
        The stage configurations (built by the builders).
    dropout : float
        Dropout before the classifier (training only).
    stochastic_depth_prob : float
        Drop probability of the last block's residual branch; block ``i`` of ``n`` drops
        with ``stochastic_depth_prob * i / n`` while training.
    num_classes : int
    norm_layer : callable, optional
        Defaults to ``nn.BatchNorm2d``.
    last_channel : int, optional
        Width of the last 1x1 convolution (default 4 times the last stage's).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import efficientnet_b0
    >>> model = efficientnet_b0(num_classes=3).eval()
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 3])
    >>> model.features[7][0].stochastic_depth  # the last of 16 blocks: 0.2 * 15 / 16
    StochasticDepth(p=0.1875, mode=row)
    """

    def __init__(self, inverted_residual_setting, dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000, norm_layer=None,
                 last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("EfficientNet: inverted_residual_setting should not be empty")
        if not all(isinstance(s, _StageConfig) for s in inverted_residual_setting):
            raise TypeError("EfficientNet: inverted_residual_setting should be a list of stage "
                            "configurations (use the efficientnet_* builders)")
        norm_layer = norm_layer or nn.BatchNorm2d
        settings = inverted_residual_setting
        layers = [Conv2dNormActivation(3, settings[0].input_channels, 3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total = sum(cnf.num_layers for cnf in settings)
        index = 0
        for cnf in settings:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # only a stage's first block changes width and resolution
                    block_cnf.input_channels, block_cnf.stride = cnf.out_channels, 1
                stage.append(cnf.block(block_cnf, stochastic_depth_prob * index / total,
                                       norm_layer))
                index += 1
            layers.append(nn.Sequential(*stage))
        last_in = settings[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, 1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(last_out, num_classes))
        init_conv_bn_linear(self, linear_std=None)

    def forward(self, x):
        return self.classifier(flatten_pool(self.features(x)))


# expansion, kernel, stride, channels in, out, repeats (B0; scaled for B1-B7)
_V1 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
       (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
# V2: the first three stages are fused
_V2 = {
    "s": [(1, 3, 1, 24, 24, 2), (4, 3, 2, 24, 48, 4), (4, 3, 2, 48, 64, 4),
          (4, 3, 2, 64, 128, 6), (6, 3, 1, 128, 160, 9), (6, 3, 2, 160, 256, 15)],
    "m": [(1, 3, 1, 24, 24, 3), (4, 3, 2, 24, 48, 5), (4, 3, 2, 48, 80, 5),
          (4, 3, 2, 80, 160, 7), (6, 3, 1, 160, 176, 14), (6, 3, 2, 176, 304, 18),
          (6, 3, 1, 304, 512, 5)],
    "l": [(1, 3, 1, 32, 32, 4), (4, 3, 2, 32, 64, 7), (4, 3, 2, 64, 96, 7),
          (4, 3, 2, 96, 192, 10), (6, 3, 1, 192, 224, 19), (6, 3, 2, 224, 384, 25),
          (6, 3, 1, 384, 640, 7)],
}
# width, depth, dropout per B-variant (compound scaling)
_V1_SCALE = {0: (1.0, 1.0, 0.2), 1: (1.0, 1.1, 0.2), 2: (1.1, 1.2, 0.3), 3: (1.2, 1.4, 0.3),
             4: (1.4, 1.8, 0.4), 5: (1.6, 2.2, 0.4), 6: (1.8, 2.6, 0.5), 7: (2.0, 3.1, 0.5)}
_V2_DROPOUT = {"s": 0.2, "m": 0.3, "l": 0.4}


def _v1(variant, weights, progress, kwargs):
    width, depth, dropout = _V1_SCALE[variant]
    setting = [_StageConfig(*row, width_mult=width, depth_mult=depth) for row in _V1]
    dropout = kwargs.pop("dropout", dropout)
    if variant >= 5:  # the ported B5-B7 weights were trained with these statistics
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))
    return _build(f"efficientnet_b{variant}", partial(EfficientNet, setting, dropout),
                  weights, progress, kwargs)


def _v2(variant, weights, progress, kwargs):
    setting = [_StageConfig(*row, fused=i < 3) for i, row in enumerate(_V2[variant])]
    dropout = kwargs.pop("dropout", _V2_DROPOUT[variant])
    kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=1e-03))
    return _build(f"efficientnet_v2_{variant}",
                  partial(EfficientNet, setting, dropout, last_channel=1280),
                  weights, progress, kwargs)


def efficientnet_b0(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B0 (5,288,548 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import efficientnet_b0
    >>> sum(p.numel() for p in efficientnet_b0().parameters())
    5288548
    """
    return _v1(0, weights, progress, kwargs)


def efficientnet_b1(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B1 (7,794,184 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B1_Weights, efficientnet_b1
    >>> weights = EfficientNet_B1_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (7794184, [240])
    >>> model = efficientnet_b1(weights=weights)  # doctest: +SKIP
    """
    return _v1(1, weights, progress, kwargs)


def efficientnet_b2(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B2 (9,109,994 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B2_Weights, efficientnet_b2
    >>> weights = EfficientNet_B2_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (9109994, [288])
    >>> model = efficientnet_b2(weights=weights)  # doctest: +SKIP
    """
    return _v1(2, weights, progress, kwargs)


def efficientnet_b3(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B3 (12,233,232 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B3_Weights, efficientnet_b3
    >>> weights = EfficientNet_B3_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (12233232, [300])
    >>> model = efficientnet_b3(weights=weights)  # doctest: +SKIP
    """
    return _v1(3, weights, progress, kwargs)


def efficientnet_b4(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B4 (19,341,616 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B4_Weights, efficientnet_b4
    >>> weights = EfficientNet_B4_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (19341616, [380])
    >>> model = efficientnet_b4(weights=weights)  # doctest: +SKIP
    """
    return _v1(4, weights, progress, kwargs)


def efficientnet_b5(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B5 (30,389,784 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B5_Weights, efficientnet_b5
    >>> weights = EfficientNet_B5_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (30389784, [456])
    >>> model = efficientnet_b5(weights=weights)  # doctest: +SKIP
    """
    return _v1(5, weights, progress, kwargs)


def efficientnet_b6(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B6 (43,040,704 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B6_Weights, efficientnet_b6
    >>> weights = EfficientNet_B6_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (43040704, [528])
    >>> model = efficientnet_b6(weights=weights)  # doctest: +SKIP
    """
    return _v1(6, weights, progress, kwargs)


def efficientnet_b7(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B7 (66,347,960 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_B7_Weights, efficientnet_b7
    >>> weights = EfficientNet_B7_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (66347960, [600])
    >>> model = efficientnet_b7(weights=weights)  # doctest: +SKIP
    """
    return _v1(7, weights, progress, kwargs)


def efficientnet_v2_s(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNetV2-S (21,458,488 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_V2_S_Weights, efficientnet_v2_s
    >>> weights = EfficientNet_V2_S_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (21458488, [384])
    >>> model = efficientnet_v2_s(weights=weights)  # doctest: +SKIP
    """
    return _v2("s", weights, progress, kwargs)


def efficientnet_v2_m(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNetV2-M (54,139,356 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_V2_M_Weights, efficientnet_v2_m
    >>> weights = EfficientNet_V2_M_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (54139356, [480])
    >>> model = efficientnet_v2_m(weights=weights)  # doctest: +SKIP
    """
    return _v2("m", weights, progress, kwargs)


def efficientnet_v2_l(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNetV2-L (118,515,272 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import EfficientNet_V2_L_Weights, efficientnet_v2_l
    >>> weights = EfficientNet_V2_L_Weights.DEFAULT  # facts without building the model
    >>> weights.meta["num_params"], weights.transforms().crop_size
    (118515272, [480])
    >>> model = efficientnet_v2_l(weights=weights)  # doctest: +SKIP
    """
    return _v2("l", weights, progress, kwargs)

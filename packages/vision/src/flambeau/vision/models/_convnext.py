"""ConvNeXt (Liu et al., 2022) with torchvision's module tree and parameter names."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._layers import Conv2dNormActivation, StochasticDepth
from flambeau.vision.models._weights import _build
from flambeau.vision.ops._misc import Permute

__all__ = ["ConvNeXt", "CNBlockConfig", "convnext_tiny", "convnext_small", "convnext_base",
           "convnext_large"]


class _LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` tensor."""

    def forward(self, x):
        x = nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight,
                                     self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class _CNBlock(nn.Module):
    """Depthwise 7x7, LayerNorm, 4x MLP (GELU) in channels-last, scaled, stochastic depth."""

    def __init__(self, dim, layer_scale, stochastic_depth_prob, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(flambeau.full((dim, 1, 1), float(layer_scale)))
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x):
        return self.stochastic_depth(self.layer_scale * self.block(x)) + x


class CNBlockConfig:
    """One stage of a :class:`ConvNeXt`: its width, the next stage's and its depth.

    Parameters
    ----------
    input_channels : int
        The channels of the stage's blocks.
    out_channels : int or None
        The channels after the downsampling layer that follows the stage; ``None`` for the
        last stage (no downsampling).
    num_layers : int
        How many blocks the stage has.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import CNBlockConfig, ConvNeXt
    >>> setting = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 2)]
    >>> setting[1]
    CNBlockConfig(input_channels=16, out_channels=None, num_layers=2)
    >>> model = ConvNeXt(setting, num_classes=3)
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 3])
    """

    def __init__(self, input_channels: int, out_channels, num_layers: int):
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self):
        return (f"{type(self).__name__}(input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """ConvNeXt; build it with :func:`convnext_tiny` ... :func:`convnext_large`.

    Parameters
    ----------
    block_setting : list of CNBlockConfig
        The stages (the builders' are torchvision's).
    stochastic_depth_prob : float
        Drop probability of the last block's residual branch; block ``i`` of ``n`` drops
        with ``stochastic_depth_prob * i / (n - 1)`` while training.
    layer_scale : float
        Initial value of each block's per-channel output scale.
    num_classes : int
    block, norm_layer : callable, optional
        The block (default ConvNeXt's) and the norm between stages (default a channels
        LayerNorm with ``eps=1e-6``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import convnext_tiny
    >>> model = convnext_tiny(num_classes=3).eval()
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 3])
    >>> model.features[7][2].stochastic_depth  # the last of 18 blocks
    StochasticDepth(p=0.1, mode=row)
    """

    def __init__(self, block_setting, stochastic_depth_prob: float = 0.0,
                 layer_scale: float = 1e-6, num_classes: int = 1000, block=None,
                 norm_layer=None, **kwargs):
        super().__init__()
        if not block_setting:
            raise ValueError("ConvNeXt: block_setting should not be empty")
        if not (isinstance(block_setting, Sequence)
                and all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError("ConvNeXt: block_setting should be a list of CNBlockConfig, got "
                            f"{block_setting!r}")
        block = block or _CNBlock
        norm_layer = norm_layer or partial(_LayerNorm2d, eps=1e-6)
        # patchify stem: 4x4 non-overlapping patches
        layers = [Conv2dNormActivation(3, block_setting[0].input_channels, kernel_size=4,
                                       stride=4, padding=0, norm_layer=norm_layer,
                                       activation_layer=None, bias=True)]
        total = sum(cnf.num_layers for cnf in block_setting)
        index = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                p = stochastic_depth_prob * index / (total - 1.0) if total > 1 else 0.0
                stage.append(block(cnf.input_channels, layer_scale, p))
                index += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:  # downsampling between stages
                layers.append(nn.Sequential(
                    norm_layer(cnf.input_channels),
                    nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        width = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(width), nn.Flatten(1),
                                        nn.Linear(width, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


def _convnext(name, widths, depths, stochastic_depth_prob, weights, progress, kwargs):
    setting = [CNBlockConfig(w, nxt, d)
               for w, nxt, d in zip(widths, list(widths[1:]) + [None], depths)]
    p = kwargs.pop("stochastic_depth_prob", stochastic_depth_prob)
    return _build(name, partial(ConvNeXt, setting, stochastic_depth_prob=p), weights,
                  progress, kwargs)


def convnext_tiny(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Tiny (28,589,128 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import convnext_tiny
    >>> sum(p.numel() for p in convnext_tiny().parameters())
    28589128
    """
    return _convnext("convnext_tiny", (96, 192, 384, 768), (3, 3, 9, 3), 0.1, weights,
                     progress, kwargs)


def convnext_small(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Small (50,223,688 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> list_models(include="convnext_*")
    ['convnext_base', 'convnext_large', 'convnext_small', 'convnext_tiny']
    """
    return _convnext("convnext_small", (96, 192, 384, 768), (3, 3, 27, 3), 0.4, weights,
                     progress, kwargs)


def convnext_base(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Base (88,591,464 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "convnext_base" in list_models(include="convnext_*")
    True
    """
    return _convnext("convnext_base", (128, 256, 512, 1024), (3, 3, 27, 3), 0.5, weights,
                     progress, kwargs)


def convnext_large(*, weights=None, progress: bool = True, **kwargs) -> ConvNeXt:
    """ConvNeXt-Large (197,767,336 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> list_models(include="convnext_l*")
    ['convnext_large']
    """
    return _convnext("convnext_large", (192, 384, 768, 1536), (3, 3, 27, 3), 0.5, weights,
                     progress, kwargs)

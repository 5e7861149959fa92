"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) with torchvision's module tree and parameter
names."""

from __future__ import annotations

from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class _Fire(nn.Module):
    """1x1 squeeze, then 1x1 and 3x3 expansions side by side (concatenated)."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return flambeau.cat([self.expand1x1_activation(self.expand1x1(x)),
                             self.expand3x3_activation(self.expand3x3(x))], 1)


def _pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet; ``version`` ``"1_0"`` (the paper's) or ``"1_1"`` (2.4x fewer FLOPs).

    Parameters
    ----------
    version : str
    num_classes : int
    dropout : float
        Dropout before the final 1x1 convolution (training only).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import SqueezeNet
    >>> SqueezeNet("1_1", num_classes=4)(flambeau.randn(2, 3, 64, 64)).shape
    flambeau.Size([2, 4])
    """

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                _Fire(96, 16, 64, 64), _Fire(128, 16, 64, 64), _Fire(128, 32, 128, 128),
                _pool(),
                _Fire(256, 32, 128, 128), _Fire(256, 48, 192, 192), _Fire(384, 48, 192, 192),
                _Fire(384, 64, 256, 256),
                _pool(),
                _Fire(512, 64, 256, 256))
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                _Fire(64, 16, 64, 64), _Fire(128, 16, 64, 64),
                _pool(),
                _Fire(128, 32, 128, 128), _Fire(256, 32, 128, 128),
                _pool(),
                _Fire(256, 48, 192, 192), _Fire(384, 48, 192, 192), _Fire(384, 64, 256, 256),
                _Fire(512, 64, 256, 256))
        else:
            raise ValueError(f"SqueezeNet: unsupported version {version!r}; '1_0' or '1_1' "
                             "expected")
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv,
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return flambeau.flatten(self.classifier(self.features(x)), 1)


def squeezenet1_0(*, weights=None, progress: bool = True, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.0 (1,248,424 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import squeezenet1_0
    >>> sum(p.numel() for p in squeezenet1_0().parameters())
    1248424
    """
    return _build("squeezenet1_0", partial(SqueezeNet, "1_0"), weights, progress, kwargs)


def squeezenet1_1(*, weights=None, progress: bool = True, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 (1,235,496 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import squeezenet1_1
    >>> sum(p.numel() for p in squeezenet1_1().parameters())
    1235496
    """
    return _build("squeezenet1_1", partial(SqueezeNet, "1_1"), weights, progress, kwargs)

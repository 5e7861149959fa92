"""VGG 11/13/16/19, with and without batch norm (torchvision's module trees)."""

from __future__ import annotations

from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn"]

# Output channels of the 3x3 convolutions; "M" is a 2x2 max-pool (Simonyan & Zisserman's
# configurations A, B, D and E).
_CONFIGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
         "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
         512, 512, 512, "M"],
}


def _make_layers(config, batch_norm: bool) -> nn.Sequential:
    layers, channels = [], 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, item, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU(inplace=True))
        channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features`` (3x3 convolutions), ``avgpool`` (adaptive 7x7), ``classifier``.

    Parameters
    ----------
    features : nn.Module
        The convolutional trunk (see the ``vgg*`` builders).
    num_classes : int
    init_weights : bool
        torchvision's initialisation (Kaiming normal convolutions, N(0, 0.01) linears).
    dropout : float

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import vgg11
    >>> vgg11(num_classes=2)(flambeau.zeros(1, 3, 32, 32)).shape
    flambeau.Size([1, 2])
    """

    def __init__(self, features, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flambeau.flatten(x, 1))


def _vgg(depth: int, batch_norm: bool, weights, progress: bool, kwargs) -> VGG:
    if weights is not None:
        kwargs.setdefault("init_weights", False)
    name = f"vgg{depth}_bn" if batch_norm else f"vgg{depth}"
    return _build(name, partial(VGG, _make_layers(_CONFIGS[depth], batch_norm)), weights,
                  progress, kwargs)


def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A); 132,863,336 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import vgg11
    >>> len(vgg11(init_weights=False).features)
    21
    """
    return _vgg(11, False, weights, progress, kwargs)


def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch normalisation.

    Examples
    --------
    >>> from flambeau.vision.models import vgg11_bn
    >>> type(vgg11_bn(init_weights=False).features[1]).__name__
    'BatchNorm2d'
    """
    return _vgg(11, True, weights, progress, kwargs)


def vgg13(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration B).

    Examples
    --------
    >>> from flambeau.vision.models import vgg13
    >>> len(vgg13(init_weights=False).features)
    25
    """
    return _vgg(13, False, weights, progress, kwargs)


def vgg13_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with batch normalisation.

    Examples
    --------
    >>> from flambeau.vision.models import vgg13_bn
    >>> len(vgg13_bn(init_weights=False).features)
    35
    """
    return _vgg(13, True, weights, progress, kwargs)


def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D); 138,357,544 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import vgg16
    >>> len(vgg16(init_weights=False).features)
    31
    """
    return _vgg(16, False, weights, progress, kwargs)


def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch normalisation.

    Examples
    --------
    >>> from flambeau.vision.models import vgg16_bn
    >>> len(vgg16_bn(init_weights=False).features)
    44
    """
    return _vgg(16, True, weights, progress, kwargs)


def vgg19(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration E).

    Examples
    --------
    >>> from flambeau.vision.models import vgg19
    >>> len(vgg19(init_weights=False).features)
    37
    """
    return _vgg(19, False, weights, progress, kwargs)


def vgg19_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with batch normalisation.

    Examples
    --------
    >>> from flambeau.vision.models import vgg19_bn
    >>> len(vgg19_bn(init_weights=False).features)
    53
    """
    return _vgg(19, True, weights, progress, kwargs)

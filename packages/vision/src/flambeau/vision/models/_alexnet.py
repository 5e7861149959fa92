"""AlexNet with torchvision's module tree (the one-GPU variant)."""

from __future__ import annotations

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) as torchvision builds it.

    ``features`` (5 convolutions, 3 max-pools), ``avgpool`` (adaptive 6x6) and
    ``classifier`` (dropout, 3 linear layers); 61,100,840 parameters with 1000 classes.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import AlexNet
    >>> AlexNet(num_classes=3)(flambeau.zeros(1, 3, 64, 64)).shape
    flambeau.Size([1, 3])
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flambeau.flatten(x, 1))


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """Build :class:`AlexNet`; ``weights`` is a :class:`AlexNet_Weights` member, its name, or a
    local file.

    Examples
    --------
    >>> from flambeau.vision.models import alexnet
    >>> sum(p.numel() for p in alexnet().parameters())
    61100840
    """
    return _build("alexnet", AlexNet, weights, progress, kwargs)

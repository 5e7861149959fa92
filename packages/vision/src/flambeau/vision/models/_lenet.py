"""LeNet-5 in its modern form (ReLU, max pooling)."""

from __future__ import annotations

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["LeNet", "lenet"]


class LeNet(nn.Module):
    """A LeNet-5-style CNN for small grayscale images (28x28 MNIST-like inputs).

    Layer tree (for ``in_channels=1``; the shapes are for a 28x28 input)::

        features
          0 Conv2d(1, 6, 5, padding=2)   -> 6 x 28 x 28
          1 ReLU
          2 MaxPool2d(2)                  -> 6 x 14 x 14
          3 Conv2d(6, 16, 5)              -> 16 x 10 x 10
          4 ReLU
          5 MaxPool2d(2)                  -> 16 x 5 x 5
        avgpool  AdaptiveAvgPool2d(5)     -> 16 x 5 x 5 (identity at 28x28)
        classifier
          0 Linear(400, 120)  1 ReLU  2 Linear(120, 84)  3 ReLU  4 Linear(84, num_classes)

    61,706 parameters with 10 classes. The adaptive pooling lets inputs from 16x16 upwards
    (e.g. 3x32x32 CIFAR images) through; the 8x8 digits are resized to 28x28 by the
    reference trainer, the way LeNet's 32x32 input is a padded MNIST digit.

    Parameters
    ----------
    num_classes : int
    in_channels : int

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import LeNet
    >>> LeNet()(flambeau.zeros(2, 1, 28, 28)).shape
    flambeau.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((5, 5))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels or min(x.shape[-2:]) < 16:
            raise ValueError(
                f"LeNet expected input of shape (N, {self.in_channels}, H, W) with H, W >= 16, "
                f"got {tuple(x.shape)}; resize small images (e.g. transforms.Resize(28))"
            )
        x = self.avgpool(self.features(x))
        return self.classifier(flambeau.flatten(x, 1))


def lenet(*, weights=None, progress: bool = True, **kwargs) -> LeNet:
    """Build :class:`LeNet`; ``weights`` is an optional local file.

    Examples
    --------
    >>> from flambeau.vision.models import lenet
    >>> sum(p.numel() for p in lenet().parameters())
    61706
    """
    return _build("lenet", LeNet, weights, progress, kwargs)

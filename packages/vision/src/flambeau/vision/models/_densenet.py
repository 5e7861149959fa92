"""DenseNet-BC (Huang et al., 2017) with torchvision's module tree and parameter names."""

from __future__ import annotations

from functools import partial

import flambeau
from flambeau import nn
from flambeau.utils.checkpoint import checkpoint
from flambeau.vision.models._layers import flatten_pool
from flambeau.vision.models._weights import _build

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 bottleneck then BN-ReLU-3x3 giving ``growth_rate`` new channels."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, width, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, 3, 1, 1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def _bottleneck(self, *features):
        return self.conv1(self.relu1(self.norm1(flambeau.cat(features, 1))))

    def forward(self, features):
        features = [features] if isinstance(features, flambeau.Tensor) else list(features)
        if self.memory_efficient and any(t.requires_grad for t in features):
            # recompute the concatenation in backward instead of keeping it
            out = checkpoint(self._bottleneck, *features, use_reentrant=False)
        else:
            out = self._bottleneck(*features)
        out = self.conv2(self.relu2(self.norm2(out)))
        if self.drop_rate > 0:
            out = nn.functional.dropout(out, p=self.drop_rate, training=self.training)
        return out


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", _DenseLayer(
                num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate,
                memory_efficient))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return flambeau.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, 1, 1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC: every layer of a block sees the concatenation of all earlier ones.

    Parameters
    ----------
    growth_rate : int
        Channels each dense layer adds (``k``).
    block_config : tuple of 4 int
        Layers per dense block.
    num_init_features : int
        Channels of the stem convolution.
    bn_size : int
        Bottleneck width is ``bn_size * growth_rate``.
    drop_rate : float
        Dropout after each dense layer (training only).
    num_classes : int
    memory_efficient : bool
        Recompute the concatenations in backward (activation checkpointing).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import DenseNet
    >>> model = DenseNet(growth_rate=8, block_config=(1, 1, 1, 1), num_init_features=8,
    ...                  num_classes=3).eval()
    >>> model(flambeau.randn(1, 3, 32, 32)).shape
    flambeau.Size([1, 3])
    >>> [name for name, _ in model.features.named_children()][:5]
    ['conv0', 'norm0', 'relu0', 'pool0', 'denseblock1']
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0,
                 num_classes: int = 1000, memory_efficient: bool = False):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, num_init_features, 7, 2, 3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        width = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(
                num_layers, width, bn_size, growth_rate, drop_rate, memory_efficient))
            width += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(width, width // 2))
                width //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(width))
        self.classifier = nn.Linear(width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = nn.functional.relu(self.features(x))
        return self.classifier(flatten_pool(x))


def _densenet(name, growth_rate, block_config, num_init_features, weights, progress, kwargs):
    return _build(name, partial(DenseNet, growth_rate, block_config, num_init_features),
                  weights, progress, kwargs)


def densenet121(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    """DenseNet-121 (7,978,856 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import densenet121
    >>> sum(p.numel() for p in densenet121().parameters())
    7978856
    """
    return _densenet("densenet121", 32, (6, 12, 24, 16), 64, weights, progress, kwargs)


def densenet161(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    """DenseNet-161 (28,681,000 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import densenet161
    >>> densenet161(num_classes=10).classifier.in_features
    2208
    """
    return _densenet("densenet161", 48, (6, 12, 36, 24), 96, weights, progress, kwargs)


def densenet169(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    """DenseNet-169 (14,149,480 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import densenet169
    >>> densenet169(num_classes=10).classifier.in_features
    1664
    """
    return _densenet("densenet169", 32, (6, 12, 32, 32), 64, weights, progress, kwargs)


def densenet201(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    """DenseNet-201 (20,013,928 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import densenet201
    >>> densenet201(num_classes=10).classifier.in_features
    1920
    """
    return _densenet("densenet201", 32, (6, 12, 48, 32), 64, weights, progress, kwargs)

"""ResNet-18/34/50/101 with torchvision's module tree and parameter names."""

from __future__ import annotations

from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
           "wide_resnet50_2", "wide_resnet101_2"]


def _conv3x3(inplanes, planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def _conv1x1(inplanes, planes, stride=1):
    return nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (ResNet-18/34).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import BasicBlock
    >>> BasicBlock(4, 4)(flambeau.zeros(1, 4, 5, 5)).shape
    flambeau.Size([1, 4, 5, 5])
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64 or dilation != 1:
            raise ValueError("BasicBlock supports only groups=1, base_width=64 and dilation=1")
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, with a shortcut (ResNet-50/101).

    The stride sits on the 3x3 convolution, as in torchvision ("ResNet v1.5").

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import Bottleneck
    >>> Bottleneck(16, 4)(flambeau.zeros(1, 16, 5, 5)).shape
    flambeau.Size([1, 16, 5, 5])
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = _conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = _conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Residual network (He et al., 2016) with torchvision's module tree.

    ``conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc``; state_dict keys match
    torchvision's, so a torchvision checkpoint loads as is.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
    layers : list of 4 ints
        Blocks per stage.
    num_classes : int
    zero_init_residual : bool
        Start every residual branch's last batch norm at zero.
    groups, width_per_group : int
        For ResNeXt-style blocks.
    replace_stride_with_dilation : list of 3 bools, optional
        For ``layer2``..``layer4``: keep the resolution and dilate the 3x3 convolutions
        instead of striding (Bottleneck blocks only; segmentation backbones).
    norm_layer : callable, optional
        Defaults to ``nn.BatchNorm2d``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import resnet18
    >>> resnet18(num_classes=4)(flambeau.randn(2, 3, 32, 32)).shape
    flambeau.Size([2, 4])
    """

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual=False,
                 groups=1, width_per_group=64, replace_stride_with_dilation=None,
                 norm_layer=None):
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("ResNet: replace_stride_with_dilation should be None or a "
                             f"3-element sequence, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        dilate = replace_stride_with_dilation
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dilate[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        # a dilated stage keeps the resolution: its stride goes into the dilation of the
        # following blocks (the first block still uses the dilation before this stage)
        first_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                self._norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups,
                        self.base_width, first_dilation, self._norm_layer)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups,
                         base_width=self.base_width, dilation=self.dilation,
                         norm_layer=self._norm_layer) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flambeau.flatten(self.avgpool(x), 1))


def _resnet(name, block, layers, weights, progress, kwargs) -> ResNet:
    return _build(name, partial(ResNet, block, layers), weights, progress, kwargs)


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18; 11,689,512 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import resnet18
    >>> sum(p.numel() for p in resnet18().parameters())
    11689512
    """
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, progress, kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34; 21,797,672 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import resnet34
    >>> len(resnet34().layer3)
    6
    """
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, progress, kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50; 25,557,032 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import resnet50
    >>> resnet50().fc.in_features
    2048
    """
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, progress, kwargs)


def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101; 44,549,160 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import resnet101
    >>> len(resnet101().layer3)
    23
    """
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, progress, kwargs)


def resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152; 60,192,808 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import resnet152
    >>> len(resnet152(num_classes=10).layer3)
    36
    """
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, progress, kwargs)


def _grouped(groups, width_per_group, kwargs):
    """``kwargs`` with the ResNeXt / wide-ResNet block shape set (as torchvision's builders)."""
    fixed = {"groups": groups, "width_per_group": width_per_group}
    for key, value in fixed.items():
        if kwargs.get(key, value) != value:
            raise ValueError(f"this model has {key}={value}, got {key}={kwargs[key]}")
    return {**kwargs, **fixed}


def resnext50_32x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32x4d (Xie et al., 2017): 32 groups of 4 channels; 25,028,904 parameters.

    Examples
    --------
    >>> from flambeau.vision.models import resnext50_32x4d
    >>> resnext50_32x4d().layer1[0].conv2.groups
    32
    """
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3],
                   weights, progress, _grouped(32, 4, kwargs))


def resnext101_32x8d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 32x8d: 32 groups of 8 channels; 88,791,336 parameters.

    Examples
    --------
    >>> from flambeau.vision.models import resnext101_32x8d
    >>> resnext101_32x8d(num_classes=10).layer1[0].conv2.out_channels
    256
    """
    return _resnet("resnext101_32x8d", Bottleneck, [3, 4, 23, 3],
                   weights, progress, _grouped(32, 8, kwargs))


def resnext101_64x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 64x4d: 64 groups of 4 channels; 83,455,272 parameters.

    Examples
    --------
    >>> from flambeau.vision.models import resnext101_64x4d
    >>> resnext101_64x4d(num_classes=10).layer1[0].conv2.groups
    64
    """
    return _resnet("resnext101_64x4d", Bottleneck, [3, 4, 23, 3],
                   weights, progress, _grouped(64, 4, kwargs))


def wide_resnet50_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis, 2016): bottlenecks twice as wide.

    68,883,240 parameters with 1000 classes.

    Examples
    --------
    >>> from flambeau.vision.models import wide_resnet50_2
    >>> wide_resnet50_2(num_classes=10).layer1[0].conv1.out_channels
    128
    """
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3],
                   weights, progress, _grouped(1, 128, kwargs))


def wide_resnet101_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-101-2: ResNet-101 with bottlenecks twice as wide; 126,886,696 parameters.

    Examples
    --------
    >>> from flambeau.vision.models import wide_resnet101_2
    >>> len(wide_resnet101_2(num_classes=10).layer3)
    23
    """
    return _resnet("wide_resnet101_2", Bottleneck, [3, 4, 23, 3],
                   weights, progress, _grouped(1, 128, kwargs))

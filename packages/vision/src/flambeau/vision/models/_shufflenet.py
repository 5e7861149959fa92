"""ShuffleNetV2 (Ma et al., 2018) with torchvision's module tree and parameter names."""

from __future__ import annotations

from functools import partial

import flambeau
from flambeau import nn
from flambeau.vision.models._weights import _build

__all__ = ["ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
           "shufflenet_v2_x2_0"]


def _depthwise(channels, stride):
    return nn.Conv2d(channels, channels, 3, stride, 1, bias=False, groups=channels)


class _ShuffleUnit(nn.Module):
    """Split (or, downsampling, duplicate) the channels, transform one half, concatenate,
    shuffle the two groups."""

    def __init__(self, inp, oup, stride):
        super().__init__()
        if stride not in (1, 2, 3):
            raise ValueError(f"ShuffleNetV2: stride must be 1, 2 or 3, got {stride}")
        self.stride = stride
        half = oup // 2
        if stride == 1 and inp != 2 * half:
            raise ValueError(f"ShuffleNetV2: a stride-1 unit needs inp == 2 * (oup // 2), got "
                             f"inp={inp}, oup={oup}")
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else half, half, 1, bias=False), nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            _depthwise(half, stride), nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True))

    def forward(self, x):
        if self.stride == 1:
            kept, x2 = x.chunk(2, dim=1)
            out = flambeau.cat((kept, self.branch2(x2)), dim=1)
        else:
            out = flambeau.cat((self.branch1(x), self.branch2(x)), dim=1)
        return nn.functional.channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2; build it with :func:`shufflenet_v2_x0_5` ... :func:`shufflenet_v2_x2_0`.

    Parameters
    ----------
    stages_repeats : list of 3 int
        Units per stage.
    stages_out_channels : list of 5 int
        Channels of the stem, the three stages and the last 1x1 convolution.
    num_classes : int
    inverted_residual : callable
        The unit, ``inverted_residual(inp, oup, stride)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import ShuffleNetV2
    >>> model = ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128], num_classes=3)
    >>> model(flambeau.randn(2, 3, 32, 32)).shape
    flambeau.Size([2, 3])
    """

    def __init__(self, stages_repeats, stages_out_channels, num_classes: int = 1000,
                 inverted_residual=_ShuffleUnit):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("ShuffleNetV2: expected stages_repeats as a list of 3 positive "
                             f"ints, got {stages_repeats}")
        if len(stages_out_channels) != 5:
            raise ValueError("ShuffleNetV2: expected stages_out_channels as a list of 5 "
                             f"positive ints, got {stages_out_channels}")
        self._stage_out_channels = list(stages_out_channels)
        channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (repeats, out) in enumerate(zip(stages_repeats, stages_out_channels[1:4])):
            units = [inverted_residual(channels, out, 2)]
            units += [inverted_residual(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, f"stage{i + 2}", nn.Sequential(*units))
            channels = out
        last = stages_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(channels, last, 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(last), nn.ReLU(inplace=True))
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.conv5(x).mean([2, 3]))


def _shufflenet(name, widths, weights, progress, kwargs):
    return _build(name, partial(ShuffleNetV2, [4, 8, 4], widths), weights, progress, kwargs)


def shufflenet_v2_x0_5(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 0.5x (1,366,792 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import shufflenet_v2_x0_5
    >>> sum(p.numel() for p in shufflenet_v2_x0_5().parameters())
    1366792
    """
    return _shufflenet("shufflenet_v2_x0_5", [24, 48, 96, 192, 1024], weights, progress, kwargs)


def shufflenet_v2_x1_0(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 1.0x (2,278,604 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import shufflenet_v2_x1_0
    >>> sum(p.numel() for p in shufflenet_v2_x1_0().parameters())
    2278604
    """
    return _shufflenet("shufflenet_v2_x1_0", [24, 116, 232, 464, 1024], weights, progress,
                       kwargs)


def shufflenet_v2_x1_5(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 1.5x (3,503,624 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import shufflenet_v2_x1_5
    >>> sum(p.numel() for p in shufflenet_v2_x1_5().parameters())
    3503624
    """
    return _shufflenet("shufflenet_v2_x1_5", [24, 176, 352, 704, 1024], weights, progress,
                       kwargs)


def shufflenet_v2_x2_0(*, weights=None, progress: bool = True, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 2.0x (7,393,996 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import shufflenet_v2_x2_0
    >>> sum(p.numel() for p in shufflenet_v2_x2_0().parameters())
    7393996
    """
    return _shufflenet("shufflenet_v2_x2_0", [24, 244, 488, 976, 2048], weights, progress,
                       kwargs)

"""MNASNet B1 (Tan et al., 2019) with torchvision's module tree and parameter names."""

from __future__ import annotations

from functools import partial

from flambeau import nn
from flambeau.vision.models._layers import make_divisible
from flambeau.vision.models._weights import _build

__all__ = ["MNASNet", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]

# TensorFlow's batch-norm decay 0.9997 as a PyTorch momentum
_BN_MOMENTUM = 1 - 0.9997


class _InvertedResidual(nn.Module):
    """Expand (1x1), depthwise, project (1x1, linear), shortcut when shapes match."""

    def __init__(self, in_ch, out_ch, kernel_size, stride, expansion_factor, bn_momentum=0.1):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"MNASNet: stride should be 1 or 2, got {stride}")
        if kernel_size not in (3, 5):
            raise ValueError(f"MNASNet: kernel_size should be 3 or 5, got {kernel_size}")
        mid = in_ch * expansion_factor
        bn = partial(nn.BatchNorm2d, momentum=bn_momentum)
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid, 1, bias=False), bn(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, kernel_size, padding=kernel_size // 2, stride=stride,
                      groups=mid, bias=False), bn(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_ch, 1, bias=False), bn(out_ch))

    def forward(self, x):
        return self.layers(x) + x if self.apply_residual else self.layers(x)


def _stack(in_ch, out_ch, kernel_size, stride, expansion, repeats, bn_momentum):
    blocks = [_InvertedResidual(in_ch, out_ch, kernel_size, stride, expansion, bn_momentum)]
    blocks += [_InvertedResidual(out_ch, out_ch, kernel_size, 1, expansion, bn_momentum)
               for _ in range(repeats - 1)]
    return nn.Sequential(*blocks)


class MNASNet(nn.Module):
    """MNASNet (the B1 variant); ``alpha`` scales every width.

    Parameters
    ----------
    alpha : float
        Width multiplier (> 0).
    num_classes : int
    dropout : float

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import MNASNet
    >>> MNASNet(0.5, num_classes=3)(flambeau.randn(2, 3, 32, 32)).shape
    flambeau.Size([2, 3])
    """

    def __init__(self, alpha: float, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        if alpha <= 0.0:
            raise ValueError(f"MNASNet: alpha should be greater than 0.0, got {alpha}")
        self.alpha = alpha
        self.num_classes = num_classes
        d = [make_divisible(w * alpha, 8) for w in (32, 16, 24, 40, 80, 96, 192, 320)]
        bn = partial(nn.BatchNorm2d, momentum=_BN_MOMENTUM)
        self.layers = nn.Sequential(
            nn.Conv2d(3, d[0], 3, padding=1, stride=2, bias=False), bn(d[0]),
            nn.ReLU(inplace=True),
            nn.Conv2d(d[0], d[0], 3, padding=1, stride=1, groups=d[0], bias=False), bn(d[0]),
            nn.ReLU(inplace=True),
            nn.Conv2d(d[0], d[1], 1, padding=0, stride=1, bias=False), bn(d[1]),
            # out, kernel, stride, expansion, repeats
            _stack(d[1], d[2], 3, 2, 3, 3, _BN_MOMENTUM),
            _stack(d[2], d[3], 5, 2, 3, 3, _BN_MOMENTUM),
            _stack(d[3], d[4], 5, 2, 6, 3, _BN_MOMENTUM),
            _stack(d[4], d[5], 3, 1, 6, 2, _BN_MOMENTUM),
            _stack(d[5], d[6], 5, 2, 6, 4, _BN_MOMENTUM),
            _stack(d[6], d[7], 3, 1, 6, 1, _BN_MOMENTUM),
            nn.Conv2d(d[7], 1280, 1, padding=0, stride=1, bias=False), bn(1280),
            nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(1280, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, mode="fan_out", nonlinearity="sigmoid")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.layers(x).mean([2, 3]))


def _mnasnet(alpha, name, weights, progress, kwargs):
    return _build(name, partial(MNASNet, alpha), weights, progress, kwargs)


def mnasnet0_5(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet 0.5 (2,218,512 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import mnasnet0_5
    >>> sum(p.numel() for p in mnasnet0_5().parameters())
    2218512
    """
    return _mnasnet(0.5, "mnasnet0_5", weights, progress, kwargs)


def mnasnet0_75(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet 0.75 (3,170,208 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import mnasnet0_75
    >>> sum(p.numel() for p in mnasnet0_75().parameters())
    3170208
    """
    return _mnasnet(0.75, "mnasnet0_75", weights, progress, kwargs)


def mnasnet1_0(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet 1.0 (4,383,312 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import mnasnet1_0
    >>> sum(p.numel() for p in mnasnet1_0().parameters())
    4383312
    """
    return _mnasnet(1.0, "mnasnet1_0", weights, progress, kwargs)


def mnasnet1_3(*, weights=None, progress: bool = True, **kwargs) -> MNASNet:
    """MNASNet 1.3 (6,282,256 parameters); ``weights``: enum member, its name or a file.

    Examples
    --------
    >>> from flambeau.vision.models import mnasnet1_3
    >>> sum(p.numel() for p in mnasnet1_3().parameters())
    6282256
    """
    return _mnasnet(1.3, "mnasnet1_3", weights, progress, kwargs)

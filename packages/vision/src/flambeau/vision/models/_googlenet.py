"""GoogLeNet (Inception v1, Szegedy et al., 2015) with torchvision's module tree and
parameter names."""

from __future__ import annotations

import warnings
from collections import namedtuple

import flambeau
from flambeau import nn
from flambeau.vision.models._weight_enums import (
    WeightsEnum,
    _overwrite_named_param,
    _resolve,
)
from flambeau.vision.models._weights import load_weights

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "googlenet"]


class GoogLeNetOutputs(namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])):
    """What :class:`GoogLeNet` returns in training with ``aux_logits=True``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import GoogLeNet
    >>> out = GoogLeNet(num_classes=3).train()(flambeau.randn(2, 3, 64, 64))
    >>> type(out).__name__, out.logits.shape, out.aux_logits1.shape
    ('GoogLeNetOutputs', flambeau.Size([2, 3]), flambeau.Size([2, 3]))
    """

    __slots__ = ()


class _BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3), ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return nn.functional.relu(self.bn(self.conv(x)), inplace=True)


def _imagenet_to_half_normalization(x):
    """Re-normalize ImageNet-normalized input to (x - 0.5) / 0.5, as the ported weights
    expect."""
    mean = flambeau.tensor([0.485, 0.456, 0.406], dtype=x.dtype, device=x.device)
    std = flambeau.tensor([0.229, 0.224, 0.225], dtype=x.dtype, device=x.device)
    return x * (std / 0.5).reshape(1, 3, 1, 1) + ((mean - 0.5) / 0.5).reshape(1, 3, 1, 1)


def _init_truncated_normal(model, std):
    """torchvision's Inception initialization: truncated normals (a module's ``stddev``
    attribute, else ``std``) for convolutions and linears, unit batch norms."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=float(getattr(m, "stddev", std)),
                                  a=-2, b=2)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _build_with_aux(name, make, weights, progress, kwargs, aux_default, drop_aux,
                    untrained_aux=False):
    """A builder of the Inception family: a weights enum member means the published
    weights, trained on (x - 0.5) / 0.5 input and holding the auxiliary heads, which are
    dropped unless ``aux_logits`` (default ``aux_default``) asks for them
    (``drop_aux(model)``); ``untrained_aux``: the published heads are untrained (GoogLeNet's),
    so keeping them warns."""
    weights = _resolve(name, weights, kwargs)
    if not isinstance(weights, WeightsEnum):
        return load_weights(make(**kwargs), weights, progress=progress)
    wanted_aux = kwargs.get("aux_logits", aux_default)
    kwargs.setdefault("transform_input", True)
    # as torchvision's builders: the checkpoint fixes these, a contrary value is an error
    # (leaving aux_logits out drops the heads only where aux_default is False: GoogLeNet's)
    _overwrite_named_param(name, kwargs, "aux_logits", True,
                           f"{weights!r} holds the auxiliary heads" + (
                               "" if aux_default else
                               "; leave aux_logits out to drop them after loading"))
    _overwrite_named_param(name, kwargs, "init_weights", False,
                           f"{weights!r} replaces the initial weights")
    model = load_weights(make(**kwargs), weights, progress=progress)
    if not wanted_aux:
        model.aux_logits = False
        drop_aux(model)
    elif untrained_aux:
        warnings.warn(f"{name}: the auxiliary heads of {weights!r} are NOT pretrained; train "
                      "them before relying on their outputs", stacklevel=3)
    return model


class _Inception(nn.Module):
    """1x1, 1x1-3x3, 1x1-3x3 and pool-1x1 branches, concatenated."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 conv_block=None):
        super().__init__()
        conv = conv_block or _BasicConv2d
        self.branch1 = conv(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv(in_channels, ch3x3red, kernel_size=1),
                                     conv(ch3x3red, ch3x3, kernel_size=3, padding=1))
        # torchvision's "5x5" branch uses a 3x3 kernel (a known quirk its weights depend on)
        self.branch3 = nn.Sequential(conv(in_channels, ch5x5red, kernel_size=1),
                                     conv(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return flambeau.cat([self.branch1(x), self.branch2(x), self.branch3(x),
                             self.branch4(x)], 1)


class _InceptionAux(nn.Module):
    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        self.conv = (conv_block or _BasicConv2d)(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(nn.functional.adaptive_avg_pool2d(x, (4, 4)))
        x = nn.functional.relu(self.fc1(flambeau.flatten(x, 1)), inplace=True)
        return self.fc2(self.dropout(x))


class GoogLeNet(nn.Module):
    """GoogLeNet; with ``aux_logits`` it returns :class:`GoogLeNetOutputs` while training.

    Parameters
    ----------
    num_classes : int
    aux_logits : bool
        Build the two auxiliary classifiers (used in training only).
    transform_input : bool
        Re-normalize ImageNet-normalized input as the ported weights expect.
    init_weights : bool, optional
        Truncated-normal initialization (std 0.01); default True.
    blocks : list of 3 callables, optional
        The convolution, inception and auxiliary blocks.
    dropout, dropout_aux : float

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.models import GoogLeNet
    >>> model = GoogLeNet(num_classes=3, aux_logits=False).eval()
    >>> model(flambeau.randn(1, 3, 64, 64)).shape
    flambeau.Size([1, 3])
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True,
                 transform_input: bool = False, init_weights=None, blocks=None,
                 dropout: float = 0.2, dropout_aux: float = 0.7):
        super().__init__()
        blocks = blocks or [_BasicConv2d, _Inception, _InceptionAux]
        if len(blocks) != 3:
            raise ValueError(f"GoogLeNet: blocks should hold 3 callables (conv, inception, "
                             f"aux), got {len(blocks)}")
        conv, inception, aux = blocks
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.conv1 = conv(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv(64, 64, kernel_size=1)
        self.conv3 = conv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = aux(512, num_classes, dropout=dropout_aux) if aux_logits else None
        self.aux2 = aux(528, num_classes, dropout=dropout_aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        if init_weights is None or init_weights:
            _init_truncated_normal(self, 0.01)

    def forward(self, x):
        if self.transform_input:
            x = _imagenet_to_half_normalization(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(flambeau.flatten(self.avgpool(x), 1)))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(*, weights=None, progress: bool = True, **kwargs) -> GoogLeNet:
    """GoogLeNet (6,624,904 parameters without the auxiliary classifiers).

    ``weights``: a :class:`GoogLeNet_Weights` member, its name or a local file. Without
    weights ``aux_logits`` defaults to True as torchvision's (13,004,888 parameters with
    them); with published weights (which expect ``transform_input=True``, the default then)
    the auxiliary heads are loaded and then dropped unless ``aux_logits=True`` is given (they
    are untrained: a warning says so); ``aux_logits=False`` or ``init_weights=True`` with
    weights is a ValueError, as in torchvision.

    Examples
    --------
    >>> from flambeau.vision.models import googlenet
    >>> sum(p.numel() for p in googlenet(aux_logits=False).parameters())
    6624904
    """
    def drop_aux(model):  # the published auxiliary heads were not trained
        model.aux1 = model.aux2 = None

    return _build_with_aux("googlenet", GoogLeNet, weights, progress, kwargs, False, drop_aux,
                           untrained_aux=True)

"""Data and model recipes of the reference trainer (``python -m flambeau.vision.train``)."""

from __future__ import annotations

from dataclasses import dataclass

from flambeau import nn
from flambeau.vision import datasets, models
from flambeau.vision import transforms as T

__all__ = ["DATASETS", "MODELS", "DataRecipe", "build_data", "build_model", "model_head"]

MODELS = ("lenet", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
          "vgg19", "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101", "mobilenet_v2")
DATASETS = ("digits", "mnist", "fashionmnist", "kmnist", "cifar10", "cifar100", "fake")

# per data set: class, number of classes, channels, side, per-channel mean and std
_STATS = {
    "digits": (datasets.Digits, 10, 1, 8, (0.5,), (0.5,)),
    "mnist": (datasets.MNIST, 10, 1, 28, (0.1307,), (0.3081,)),
    "fashionmnist": (datasets.FashionMNIST, 10, 1, 28, (0.2860,), (0.3530,)),
    "kmnist": (datasets.KMNIST, 10, 1, 28, (0.1918,), (0.3483,)),
    "cifar10": (datasets.CIFAR10, 10, 3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": (datasets.CIFAR100, 100, 3, 32, (0.5071, 0.4865, 0.4409),
                 (0.2673, 0.2564, 0.2762)),
}
# Smallest input side each model accepts: LeNet wants MNIST-sized digits (the 8x8 digits are
# upsampled to 28x28 like LeNet's padded 32x32 inputs); AlexNet's stride-4 stem and three
# pools need at least 63 pixels.
_MIN_SIDE = {"lenet": 28, "alexnet": 64}


@dataclass
class DataRecipe:
    """The two splits and what the model needs to know about them."""

    train: object
    test: object
    num_classes: int
    channels: int


def _model_channels(model: str, data_channels: int) -> int:
    return data_channels if model == "lenet" else 3


def build_data(name: str, model: str, root, download: bool, fake_size: int = 1000):
    """Train and test datasets with the transforms ``model`` needs.

    Examples
    --------
    >>> from flambeau.vision._recipes import build_data
    >>> data = build_data("fake", "lenet", None, False, fake_size=8)
    >>> len(data.train), data.train[0][0].shape
    (8, flambeau.Size([1, 28, 28]))
    """
    if name == "fake":
        channels = 1 if model == "lenet" else 3
        side = max(28 if model == "lenet" else 32, _MIN_SIDE.get(model, 0))
        tf = T.Compose([T.ToTensor(), T.Normalize((0.5,) * channels, (0.5,) * channels)])
        train = datasets.FakeData(fake_size, (channels, side, side), 10, transform=tf)
        test = datasets.FakeData(max(fake_size // 5, 1), (channels, side, side), 10,
                                 transform=tf, random_offset=fake_size)
        return DataRecipe(train, test, 10, channels)
    if name not in _STATS:
        raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    cls, num_classes, channels, side, mean, std = _STATS[name]
    prefix = []
    want = _model_channels(model, channels)
    if want != channels:
        prefix.append(T.Grayscale(num_output_channels=want))
        mean, std = mean * want, std * want
    target = max(side, _MIN_SIDE.get(model, 0))
    if target != side:
        prefix.append(T.Resize(target))
    augment = [T.RandomCrop(side, padding=4), T.RandomHorizontalFlip()] \
        if name.startswith("cifar") else []
    tail = [T.ToTensor(), T.Normalize(mean, std)]
    kwargs = {"root": root, "download": download}
    train = cls(train=True, transform=T.Compose(augment + prefix + tail), **kwargs)
    test = cls(train=False, transform=T.Compose(prefix + tail), **kwargs)
    return DataRecipe(train, test, num_classes, want)


def build_model(name: str, num_classes: int, channels: int) -> nn.Module:
    """A freshly initialised model for ``num_classes`` classes.

    Examples
    --------
    >>> from flambeau.vision._recipes import build_model
    >>> build_model("resnet18", 10, 3).fc.out_features
    10
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if name == "lenet":
        return models.lenet(num_classes=num_classes, in_channels=channels)
    return models.get_model(name, num_classes=num_classes)


def model_head(model: nn.Module) -> nn.Module:
    """The final classification layer (what ``--freeze-backbone`` leaves trainable).

    Examples
    --------
    >>> from flambeau.vision import models
    >>> from flambeau.vision._recipes import model_head
    >>> model_head(models.resnet18()).out_features
    1000
    """
    if isinstance(model, models.ResNet):
        return model.fc
    return model.classifier[-1]

"""flambeau.vision.datasets: image data sets with torchvision's names, layouts and items.

Examples
--------
>>> from flambeau.vision import datasets
>>> ds = datasets.FakeData(size=2, image_size=(1, 8, 8), num_classes=3)
>>> len(ds), ds[0][0].size
(2, (8, 8))
"""

from flambeau.vision.datasets._base import VisionDataset
from flambeau.vision.datasets._celeba import CelebA
from flambeau.vision.datasets._cifar import CIFAR10, CIFAR100, load_cifar_batch
from flambeau.vision.datasets._digits import Digits
from flambeau.vision.datasets._download import (
    check_integrity,
    download_file,
    extract_tar,
    extract_zip,
    file_md5,
)
from flambeau.vision.datasets._fakedata import FakeData
from flambeau.vision.datasets._flowers_pets import Flowers102, OxfordIIITPet
from flambeau.vision.datasets._folder import (
    IMG_EXTENSIONS,
    DatasetFolder,
    ImageFolder,
    default_loader,
    find_classes,
    has_file_allowed_extension,
    make_dataset,
    pil_loader,
)
from flambeau.vision.datasets._imagenet import ImageNet
from flambeau.vision.datasets._mnist import (
    EMNIST,
    KMNIST,
    MNIST,
    QMNIST,
    FashionMNIST,
    read_idx,
)
from flambeau.vision.datasets._svhn_stl10 import STL10, SVHN
from flambeau.vision.datasets._voc_coco import (
    CocoCaptions,
    CocoDetection,
    VOCDetection,
    VOCSegmentation,
)

__all__ = [
    "VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "Digits",
    "FakeData", "DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader",
    "pil_loader", "find_classes", "make_dataset", "has_file_allowed_extension", "read_idx",
    "load_cifar_batch", "download_file", "check_integrity", "file_md5", "extract_tar",
    "extract_zip", "EMNIST", "QMNIST", "SVHN", "STL10",
    "Flowers102", "OxfordIIITPet", "CelebA", "VOCSegmentation", "VOCDetection", "CocoDetection",
    "CocoCaptions", "ImageNet",
]

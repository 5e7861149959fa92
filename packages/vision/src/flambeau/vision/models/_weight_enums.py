"""Pretrained weights by name, as torchvision's ``weights=`` API.

Each model with published weights has an enum (``ResNet50_Weights``) whose members
(``IMAGENET1K_V1``, ``IMAGENET1K_V2``, ``DEFAULT``) carry the URL of torchvision's
checkpoint, the preprocessing it was evaluated with (``transforms()``) and its metadata
(``meta``: categories, parameter count, accuracy...). Builders take a member, its name or
``None``; the file is downloaded once into ``flambeau.hub.get_dir()/checkpoints``, its
SHA-256 checked against the prefix in its name, and read without running code.

Adding a model's weights: one :func:`_imagenet` line per checkpoint in a ``WeightsEnum``
subclass, one :func:`_register` entry naming its builder (with ``adapt=`` when the published
state_dict's keys need renaming, as DenseNet's old ``norm.1`` keys), the enum in
``models/__init__.py``'s imports and ``__all__``, and the builder ending in
``return _build("name", make, weights, progress, kwargs)`` (``models/_weights.py``) so that
member names, ``num_classes`` and ``adapt`` are handled.
"""

from __future__ import annotations

import http.client
import importlib.resources
import os
import re
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable

from flambeau.vision.transforms._geometry import InterpolationMode
from flambeau.vision.transforms._presets import ImageClassification

__all__ = ["Weights", "WeightsEnum", "get_weight", "get_model_weights"]

_MODELS_URL = "https://download.pytorch.org/models/"
_RECIPES = "https://github.com/pytorch/vision/tree/main/references/classification#"
_NEW_RECIPE = "https://github.com/pytorch/vision/issues/3995#"
_FULL_NAME = re.compile(r"\w+_Weights\.\w+")  # "ResNet50_Weights.IMAGENET1K_V2"


def _read_categories() -> list[str]:
    text = importlib.resources.files(__package__).joinpath("imagenet_categories.txt")
    return text.read_text(encoding="utf-8").splitlines()


_IMAGENET_CATEGORIES = _read_categories()


@dataclass
class Weights:
    """A checkpoint: where it is, how to preprocess inputs, and what is known about it.

    Parameters
    ----------
    url : str
        The checkpoint, ``name-<sha256 prefix>.pth`` by convention.
    transforms : callable
        Builds the evaluation preprocessing (called by ``weights.transforms()``).
    meta : dict
        ``categories`` (the class names, or ``None``), ``num_params``, ``min_size``,
        ``recipe``, ``_metrics`` (accuracy per dataset), ``_ops`` (GFLOPs),
        ``_file_size`` (MB).

    Examples
    --------
    >>> from flambeau.vision.models import ResNet18_Weights
    >>> w = ResNet18_Weights.IMAGENET1K_V1.value
    >>> w.url
    'https://download.pytorch.org/models/resnet18-f37072fd.pth'
    >>> w.meta["num_params"]
    11689512
    """

    url: str
    transforms: Callable
    meta: dict[str, Any]

    def __eq__(self, other):
        # A deep copy or an unpickled partial is a new object that == does not match; compare
        # what it calls instead, so copies and pickles of members find their member again.
        if not isinstance(other, Weights):
            return NotImplemented
        mine, theirs = self.transforms, other.transforms
        if isinstance(mine, partial) and isinstance(theirs, partial):
            same = (mine.func, mine.args, mine.keywords) == (theirs.func, theirs.args,
                                                            theirs.keywords)
        else:
            same = mine == theirs
        return same and self.url == other.url and self.meta == other.meta

    def __repr__(self):
        # the 1000 category names would bury the rest (in a REPL and on the docs' enum pages)
        meta = {k: f"<{len(v)} names>" if k == "categories" and v else v
                for k, v in self.meta.items()}
        return f"Weights(url={self.url!r}, transforms={self.transforms!r}, meta={meta})"


class WeightsEnum(Enum):
    """Base class of the weight enums; members are :class:`Weights`.

    ``member.url``, ``member.transforms`` and ``member.meta`` read the member's
    :class:`Weights`; :meth:`verify` turns what a user passed as ``weights=`` into a member.

    Examples
    --------
    >>> from flambeau.vision.models import ResNet50_Weights, WeightsEnum
    >>> issubclass(ResNet50_Weights, WeightsEnum)
    True
    >>> ResNet50_Weights.DEFAULT
    ResNet50_Weights.IMAGENET1K_V2
    >>> len(ResNet50_Weights.DEFAULT.meta["categories"])
    1000
    """

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member: ``None`` stays ``None``, a name (``"IMAGENET1K_V1"`` or
        ``"ResNet18_Weights.IMAGENET1K_V1"``) is looked up, a member of another enum is a
        TypeError.

        Examples
        --------
        >>> from flambeau.vision.models import ResNet18_Weights
        >>> ResNet18_Weights.verify("ResNet18_Weights.DEFAULT")
        ResNet18_Weights.IMAGENET1K_V1
        >>> ResNet18_Weights.verify(None) is None
        True
        """
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.removeprefix(cls.__name__ + ".")
            if name not in cls.__members__:
                raise KeyError(f"{cls.__name__} has no weights named {obj!r}; choose one of "
                               f"{', '.join(cls.__members__)}")
            return cls[name]
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                        f"{type(obj).__name__}.")

    def get_state_dict(self, progress: bool = True, check_hash: bool = False, **kwargs):
        """Download the checkpoint once into ``flambeau.hub.get_dir()/checkpoints`` and
        return its state_dict, read safely (``weights_only=True``).

        Parameters
        ----------
        progress : bool
            Show a progress bar while downloading.
        check_hash : bool
            Check the file's SHA-256 against the prefix in its name (the builders do).
        **kwargs
            Passed on to :func:`flambeau.hub.load_state_dict_from_url` (``model_dir``,
            ``map_location``, ``file_name``...).

        Raises
        ------
        OSError
            When the download fails or is cut short, naming the URL; nothing is left in the
            cache.

        Examples
        --------
        >>> from flambeau.vision.models import ResNet18_Weights
        >>> state = ResNet18_Weights.DEFAULT.get_state_dict()  # doctest: +SKIP
        """
        import flambeau.hub

        kwargs.setdefault("weights_only", True)
        try:
            return flambeau.hub.load_state_dict_from_url(self.url, progress=progress,
                                                         check_hash=check_hash, **kwargs)
        except (OSError, http.client.HTTPException) as e:
            if self.url in str(e):
                raise
            raise OSError(f"{self!r}: downloading {self.url} failed ({type(e).__name__}: "
                          f"{e}); check the network or put the file in "
                          f"{flambeau.hub.get_dir()}/checkpoints") from e

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"

    @property
    def url(self) -> str:
        """The checkpoint's URL (see :class:`Weights`)."""
        return self.value.url

    @property
    def transforms(self) -> Callable:
        """Builds the evaluation preprocessing (see :class:`Weights`)."""
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        """The checkpoint's metadata (see :class:`Weights`)."""
        return self.value.meta


def _imagenet(file: str, num_params: int, acc1: float, acc5: float, ops: float,
              file_size: float, recipe: str, *, resize: int = 256, crop: int = 224,
              min_size=(1, 1), categories=_IMAGENET_CATEGORIES, license=None,
              **preset) -> Weights:
    """One ImageNet-1K classification checkpoint of download.pytorch.org/models
    (``license``: the URL of the weights' own licence, as SWAG's)."""
    meta = {"min_size": min_size, "categories": categories, "num_params": num_params,
            "recipe": recipe, "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}},
            "_ops": ops, "_file_size": file_size}
    if license is not None:
        meta["license"] = license
    return Weights(
        url=_MODELS_URL + file,
        transforms=partial(ImageClassification, crop_size=crop, resize_size=resize, **preset),
        meta=meta)


_VGG = _RECIPES + "alexnet-and-vgg"
_RESNET = _RECIPES + "resnet"
_RESNEXT = _RECIPES + "resnext"
_WIDE = "https://github.com/pytorch/vision/pull/912#issue-445437439"
_MOBILENET_V3 = _RECIPES + "mobilenetv3-large--small"
_DENSENET = "https://github.com/pytorch/vision/pull/116"  # ported from LuaTorch
_EFFNET_V1 = _RECIPES + "efficientnet-v1"
_EFFNET_V2 = _RECIPES + "efficientnet-v2"
_BICUBIC = InterpolationMode.BICUBIC
_CONVNEXT = _RECIPES + "convnext"
_SWAG = "https://github.com/facebookresearch/SWAG"
_SWAG_LICENSE = _SWAG + "/blob/main/LICENSE"
_SWAG_LINEAR = "https://github.com/pytorch/vision/pull/5793"  # a linear head on SWAG's trunk
_MNASNET = "https://github.com/1e100/mnasnet_trainer"
_MNASNET_NEW = "https://github.com/pytorch/vision/pull/6019"
_SHUFFLENET = "https://github.com/ericsun99/Shufflenet-v2-Pytorch"
_SHUFFLENET_NEW = "https://github.com/pytorch/vision/pull/5906"
_SQUEEZENET = "https://github.com/pytorch/vision/pull/49#issuecomment-277560717"


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("alexnet-owt-7be5be79.pth", 61100840, 56.522, 79.066, 0.714,
                              233.087, _VGG, min_size=(63, 63))
    DEFAULT = IMAGENET1K_V1


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg11-8a719046.pth", 132863336, 69.02, 88.628, 7.609, 506.84,
                              _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg11_bn-6002323d.pth", 132868840, 70.37, 89.81, 7.609, 506.881,
                              _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg13-19584684.pth", 133047848, 69.928, 89.246, 11.308, 507.545,
                              _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg13_bn-abd245e5.pth", 133053736, 71.586, 90.374, 11.308,
                              507.59, _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg16-397923af.pth", 138357544, 71.592, 90.382, 15.47, 527.796,
                              _VGG, min_size=(32, 32))
    # SSD's backbone: features only (the classifier is NaN), Caffe-style [0, 255] inputs
    IMAGENET1K_FEATURES = _imagenet(
        "vgg16_features-amdegroot-88682ab5.pth", 138357544, float("nan"), float("nan"), 15.47,
        527.802, "https://github.com/amdegroot/ssd.pytorch#training-ssd", min_size=(32, 32),
        categories=None, mean=(0.48235, 0.45882, 0.40784), std=(1 / 255, 1 / 255, 1 / 255))
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg16_bn-6c64b313.pth", 138365992, 73.36, 91.516, 15.47,
                              527.866, _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg19-dcbb9e9d.pth", 143667240, 72.376, 90.876, 19.632, 548.051,
                              _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vgg19_bn-c79401a0.pth", 143678248, 74.218, 91.842, 19.632,
                              548.143, _VGG, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnet18-f37072fd.pth", 11689512, 69.758, 89.078, 1.814, 44.661,
                              _RESNET)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnet34-b627a593.pth", 21797672, 73.314, 91.42, 3.664, 83.275,
                              _RESNET)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnet50-0676ba61.pth", 25557032, 76.13, 92.862, 4.089, 97.781,
                              _RESNET)
    IMAGENET1K_V2 = _imagenet("resnet50-11ad3fa6.pth", 25557032, 80.858, 95.434, 4.089, 97.79,
                              _NEW_RECIPE + "issuecomment-1013906621", resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnet101-63fe2227.pth", 44549160, 77.374, 93.546, 7.801,
                              170.511, _RESNET)
    IMAGENET1K_V2 = _imagenet("resnet101-cd907fc2.pth", 44549160, 81.886, 95.78, 7.801, 170.53,
                              _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnet152-394f9c45.pth", 60192808, 78.312, 94.046, 11.514,
                              230.434, _RESNET)
    IMAGENET1K_V2 = _imagenet("resnet152-f82ba261.pth", 60192808, 82.284, 96.002, 11.514,
                              230.474, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnext50_32x4d-7cdf4587.pth", 25028904, 77.618, 93.698, 4.23,
                              95.789, _RESNEXT)
    IMAGENET1K_V2 = _imagenet("resnext50_32x4d-1a0047aa.pth", 25028904, 81.198, 95.34, 4.23,
                              95.833, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnext101_32x8d-8ba56ff5.pth", 88791336, 79.312, 94.526,
                              16.414, 339.586, _RESNEXT)
    IMAGENET1K_V2 = _imagenet("resnext101_32x8d-110c445d.pth", 88791336, 82.834, 96.228,
                              16.414, 339.673, _NEW_RECIPE + "new-recipe-with-fixres",
                              resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("resnext101_64x4d-173b62eb.pth", 83455272, 83.246, 96.454, 15.46,
                              319.318, "https://github.com/pytorch/vision/pull/5935",
                              resize=232)
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("wide_resnet50_2-95faca4d.pth", 68883240, 78.468, 94.086, 11.398,
                              131.82, _WIDE)
    IMAGENET1K_V2 = _imagenet("wide_resnet50_2-9ba9bcbe.pth", 68883240, 81.602, 95.758, 11.398,
                              263.124, _NEW_RECIPE + "new-recipe-with-fixres", resize=232)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("wide_resnet101_2-32ee1156.pth", 126886696, 78.848, 94.284,
                              22.753, 242.896, _WIDE)
    IMAGENET1K_V2 = _imagenet("wide_resnet101_2-d733dc28.pth", 126886696, 82.51, 96.02, 22.753,
                              484.747, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mobilenet_v2-b0353104.pth", 3504872, 71.878, 90.286, 0.301,
                              13.555, _RECIPES + "mobilenetv2")
    IMAGENET1K_V2 = _imagenet("mobilenet_v2-7ebf99e0.pth", 3504872, 72.154, 90.822, 0.301,
                              13.598, _NEW_RECIPE + "new-recipe-with-reg-tuning", resize=232)
    DEFAULT = IMAGENET1K_V2


class DenseNet121_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("densenet121-a639ec97.pth", 7978856, 74.434, 91.972, 2.834, 30.845,
                              _DENSENET, min_size=(29, 29))
    DEFAULT = IMAGENET1K_V1


class DenseNet161_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("densenet161-8d451a50.pth", 28681000, 77.138, 93.56, 7.728, 110.369,
                              _DENSENET, min_size=(29, 29))
    DEFAULT = IMAGENET1K_V1


class DenseNet169_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("densenet169-b2777c0a.pth", 14149480, 75.6, 92.806, 3.36, 54.708,
                              _DENSENET, min_size=(29, 29))
    DEFAULT = IMAGENET1K_V1


class DenseNet201_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("densenet201-c1103571.pth", 20013928, 76.896, 93.37, 4.291, 77.373,
                              _DENSENET, min_size=(29, 29))
    DEFAULT = IMAGENET1K_V1


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mobilenet_v3_large-8738ca79.pth", 5483032, 74.042, 91.34, 0.217,
                              21.114, _MOBILENET_V3)
    IMAGENET1K_V2 = _imagenet("mobilenet_v3_large-5c1a4163.pth", 5483032, 75.274, 92.566, 0.217,
                              21.107, _NEW_RECIPE + "new-recipe-with-reg-tuning", resize=232)
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mobilenet_v3_small-047dcff4.pth", 2542856, 67.668, 87.402, 0.057,
                              9.829, _MOBILENET_V3)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b0_rwightman-7f5810bc.pth", 5288548, 77.692, 93.532,
                              0.386, 20.451, _EFFNET_V1, interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b1_rwightman-bac287d4.pth", 7794184, 78.642, 94.186,
                              0.687, 30.134, _EFFNET_V1, crop=240, interpolation=_BICUBIC)
    IMAGENET1K_V2 = _imagenet("efficientnet_b1-c27df63c.pth", 7794184, 79.838, 94.934, 0.687,
                              30.136, _NEW_RECIPE + "new-recipe-with-lr-wd-crop-tuning", resize=255,
                              crop=240)
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b2_rwightman-c35c1473.pth", 9109994, 80.608, 95.31,
                              1.088, 35.174, _EFFNET_V1, resize=288, crop=288,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b3_rwightman-b3899882.pth", 12233232, 82.008, 96.054,
                              1.827, 47.184, _EFFNET_V1, resize=320, crop=300,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b4_rwightman-23ab8bcd.pth", 19341616, 83.384, 96.594,
                              4.394, 74.489, _EFFNET_V1, resize=384, crop=380,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b5_lukemelas-1a07897c.pth", 30389784, 83.444, 96.628,
                              10.266, 116.864, _EFFNET_V1, resize=456, crop=456,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b6_lukemelas-24a108a5.pth", 43040704, 84.008, 96.916,
                              19.068, 165.362, _EFFNET_V1, resize=528, crop=528,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_b7_lukemelas-c5b4e57e.pth", 66347960, 84.122, 96.908,
                              37.746, 254.675, _EFFNET_V1, resize=600, crop=600,
                              interpolation=_BICUBIC)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_v2_s-dd5fe13b.pth", 21458488, 84.228, 96.878, 8.366,
                              82.704, _EFFNET_V2, resize=384, crop=384, min_size=(33, 33))
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_v2_m-dc08266a.pth", 54139356, 85.112, 97.156, 24.582,
                              208.01, _EFFNET_V2, resize=480, crop=480, min_size=(33, 33))
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("efficientnet_v2_l-59c71312.pth", 118515272, 85.808, 97.788, 56.08,
                              454.573, _EFFNET_V2, resize=480, crop=480, min_size=(33, 33),
                              interpolation=_BICUBIC, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("convnext_tiny-983f1562.pth", 28589128, 82.52, 96.146, 4.456,
                              109.119, _CONVNEXT, resize=236, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("convnext_small-0c510722.pth", 50223688, 83.616, 96.65, 8.684,
                              191.703, _CONVNEXT, resize=230, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("convnext_base-6075fbad.pth", 88591464, 84.062, 96.87, 15.355,
                              338.064, _CONVNEXT, resize=232, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("convnext_large-ea097f82.pth", 197767336, 84.414, 96.976, 34.361,
                              754.537, _CONVNEXT, resize=232, min_size=(32, 32))
    DEFAULT = IMAGENET1K_V1


class ViT_B_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vit_b_16-c867db91.pth", 86567656, 81.072, 95.318, 17.564, 330.285,
                              _RECIPES + "vit_b_16", min_size=(224, 224))
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("vit_b_16_swag-9ac1b537.pth", 86859496, 85.304, 97.65,
                                       55.484, 331.398, _SWAG, resize=384, crop=384,
                                       min_size=(384, 384), interpolation=_BICUBIC,
                                       license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("vit_b_16_lc_swag-4e70ced5.pth", 86567656, 81.886, 96.18,
                                          17.564, 330.285, _SWAG_LINEAR, resize=224,
                                          min_size=(224, 224), interpolation=_BICUBIC,
                                          license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_V1


class ViT_B_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vit_b_32-d86f8d99.pth", 88224232, 75.912, 92.466, 4.409, 336.604,
                              _RECIPES + "vit_b_32", min_size=(224, 224))
    DEFAULT = IMAGENET1K_V1


class ViT_L_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vit_l_16-852ce7e3.pth", 304326632, 79.662, 94.638, 61.555, 1161.023,
                              _RECIPES + "vit_l_16", resize=242, min_size=(224, 224))
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("vit_l_16_swag-4f3808c9.pth", 305174504, 88.064, 98.512,
                                       361.986, 1164.258, _SWAG, resize=512, crop=512,
                                       min_size=(512, 512), interpolation=_BICUBIC,
                                       license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("vit_l_16_lc_swag-4d563306.pth", 304326632, 85.146,
                                          97.422, 61.555, 1161.023, _SWAG_LINEAR, resize=224,
                                          min_size=(224, 224), interpolation=_BICUBIC,
                                          license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_V1


class ViT_L_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("vit_l_32-c7638314.pth", 306535400, 76.972, 93.07, 15.378, 1169.449,
                              _RECIPES + "vit_l_32", min_size=(224, 224))
    DEFAULT = IMAGENET1K_V1


class ViT_H_14_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("vit_h_14_swag-80465313.pth", 633470440, 88.552, 98.694,
                                       1016.717, 2416.643, _SWAG, resize=518, crop=518,
                                       min_size=(518, 518), interpolation=_BICUBIC,
                                       license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("vit_h_14_lc_swag-c1eb923e.pth", 632045800, 85.708,
                                          97.73, 167.295, 2411.209, _SWAG_LINEAR, resize=224,
                                          min_size=(224, 224), interpolation=_BICUBIC,
                                          license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


class GoogLeNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("googlenet-1378be20.pth", 6624904, 69.778, 89.53, 1.498, 49.731,
                              _RECIPES + "googlenet", min_size=(15, 15))
    DEFAULT = IMAGENET1K_V1


class Inception_V3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("inception_v3_google-0cc3c7bd.pth", 27161264, 77.294, 93.45, 5.713,
                              103.903, _RECIPES + "inception-v3", resize=342, crop=299,
                              min_size=(75, 75))
    DEFAULT = IMAGENET1K_V1


class MNASNet0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mnasnet0.5_top1_67.823-3ffadce67e.pth", 2218512, 67.734, 87.49,
                              0.104, 8.591, _MNASNET)
    DEFAULT = IMAGENET1K_V1


class MNASNet0_75_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mnasnet0_75-7090bc5f.pth", 3170208, 71.18, 90.496, 0.215, 12.303,
                              _MNASNET_NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mnasnet1.0_top1_73.512-f206786ef8.pth", 4383312, 73.456, 91.51,
                              0.314, 16.915, _MNASNET)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("mnasnet1_3-a4c69d6f.pth", 6282256, 76.506, 93.522, 0.526, 24.246,
                              _MNASNET_NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


class RegNet_Y_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_400mf-c65dace8.pth", 4344144, 74.046, 91.716, 0.402,
                              16.806, _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_400mf-e6988f5f.pth", 4344144, 75.804, 92.742, 0.402,
                              16.806, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_800mf-1b27b58c.pth", 6432512, 76.42, 93.136, 0.834, 24.774,
                              _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_800mf-58fc7688.pth", 6432512, 78.828, 94.502, 0.834,
                              24.774, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_1_6gf-b11a554e.pth", 11202430, 77.95, 93.966, 1.612,
                              43.152, _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_1_6gf-0d7bc02a.pth", 11202430, 80.876, 95.444, 1.612,
                              43.152, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_3_2gf-b5a9779c.pth", 19436338, 78.948, 94.576, 3.176,
                              74.567, _RECIPES + "medium-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_3_2gf-9180c971.pth", 19436338, 81.982, 95.972, 3.176,
                              74.567, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_8gf-d0d0e4a8.pth", 39381472, 80.032, 95.048, 8.473,
                              150.701, _RECIPES + "medium-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_8gf-dc2b1b54.pth", 39381472, 82.828, 96.33, 8.473, 150.701,
                              _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_16gf-9e6ed7dd.pth", 83590140, 80.424, 95.24, 15.912,
                              319.49, _RECIPES + "large-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_16gf-3e4a00f9.pth", 83590140, 82.886, 96.328, 15.912,
                              319.49, _NEW_RECIPE + "new-recipe", resize=232)
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("regnet_y_16gf_swag-43afe44d.pth", 83590140, 86.012, 98.054,
                                       46.735, 319.49, _SWAG, resize=384, crop=384,
                                       interpolation=_BICUBIC, license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("regnet_y_16gf_lc_swag-f3ec0043.pth", 83590140, 83.976,
                                          97.244, 15.912, 319.49, _SWAG_LINEAR, resize=224,
                                          interpolation=_BICUBIC, license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_y_32gf-4dee3f7a.pth", 145046770, 80.878, 95.34, 32.28,
                              554.076, _RECIPES + "large-models")
    IMAGENET1K_V2 = _imagenet("regnet_y_32gf-8db6d4b5.pth", 145046770, 83.368, 96.498, 32.28,
                              554.076, _NEW_RECIPE + "new-recipe", resize=232)
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("regnet_y_32gf_swag-04fdfa75.pth", 145046770, 86.838,
                                       98.362, 94.826, 554.076, _SWAG, resize=384, crop=384,
                                       interpolation=_BICUBIC, license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("regnet_y_32gf_lc_swag-e1583746.pth", 145046770, 84.622,
                                          97.48, 32.28, 554.076, _SWAG_LINEAR, resize=224,
                                          interpolation=_BICUBIC, license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_128GF_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _imagenet("regnet_y_128gf_swag-c8ce3e52.pth", 644812894, 88.228,
                                       98.682, 374.57, 2461.564, _SWAG, resize=384, crop=384,
                                       interpolation=_BICUBIC, license=_SWAG_LICENSE)
    IMAGENET1K_SWAG_LINEAR_V1 = _imagenet("regnet_y_128gf_lc_swag-cbe8ce12.pth", 644812894, 86.068,
                                          97.844, 127.518, 2461.564, _SWAG_LINEAR, resize=224,
                                          interpolation=_BICUBIC, license=_SWAG_LICENSE)
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


class RegNet_X_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_400mf-adf1edd5.pth", 5495976, 72.834, 90.95, 0.414, 21.258,
                              _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_400mf-62229a5f.pth", 5495976, 74.864, 92.322, 0.414,
                              21.257, _NEW_RECIPE + "new-recipe-with-fixres", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_800mf-ad17e45c.pth", 7259656, 75.212, 92.348, 0.8, 27.945,
                              _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_800mf-94a99ebd.pth", 7259656, 77.522, 93.826, 0.8, 27.945,
                              _NEW_RECIPE + "new-recipe-with-fixres", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_1_6gf-e3633e7f.pth", 9190136, 77.04, 93.44, 1.603, 35.339,
                              _RECIPES + "small-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_1_6gf-a12f2b72.pth", 9190136, 79.668, 94.922, 1.603,
                              35.339, _NEW_RECIPE + "new-recipe-with-fixres", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_3_2gf-f342aeae.pth", 15296552, 78.364, 93.992, 3.177,
                              58.756, _RECIPES + "medium-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_3_2gf-7071aa85.pth", 15296552, 81.196, 95.43, 3.177,
                              58.756, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_8gf-03ceed89.pth", 39572648, 79.344, 94.686, 7.995,
                              151.456, _RECIPES + "medium-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_8gf-2b70d774.pth", 39572648, 81.682, 95.678, 7.995,
                              151.456, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_16gf-2007eb11.pth", 54278536, 80.058, 94.944, 15.941,
                              207.627, _RECIPES + "medium-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_16gf-ba3796d7.pth", 54278536, 82.716, 96.196, 15.941,
                              207.627, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("regnet_x_32gf-9d47f8d0.pth", 107811560, 80.622, 95.248, 31.736,
                              412.039, _RECIPES + "large-models")
    IMAGENET1K_V2 = _imagenet("regnet_x_32gf-6eb8fdc6.pth", 107811560, 83.014, 96.288, 31.736,
                              412.039, _NEW_RECIPE + "new-recipe", resize=232)
    DEFAULT = IMAGENET1K_V2


class ShuffleNet_V2_X0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("shufflenetv2_x0.5-f707e7126e.pth", 1366792, 60.552, 81.746, 0.04,
                              5.282, _SHUFFLENET)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("shufflenetv2_x1-5666bf0f80.pth", 2278604, 69.362, 88.316, 0.145,
                              8.791, _SHUFFLENET)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("shufflenetv2_x1_5-3c479a10.pth", 3503624, 72.996, 91.086, 0.296,
                              13.557, _SHUFFLENET_NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X2_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("shufflenetv2_x2_0-8be3c8ee.pth", 7393996, 76.23, 93.006, 0.583,
                              28.433, _SHUFFLENET_NEW, resize=232)
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("squeezenet1_0-b66bff10.pth", 1248424, 58.092, 80.42, 0.819, 4.778,
                              _SQUEEZENET, min_size=(21, 21))
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet("squeezenet1_1-b8a52dc0.pth", 1235496, 58.178, 80.624, 0.349, 4.729,
                              _SQUEEZENET, min_size=(17, 17))
    DEFAULT = IMAGENET1K_V1


# builder name -> its enum; get_model_weights, get_weight and the builders read this
_MODEL_WEIGHTS: dict[str, type[WeightsEnum]] = {}
# builder name -> what turns a downloaded state_dict into the model's keys
_ADAPTERS: dict[str, Callable[[dict], dict]] = {}


def _register(builder: str, enum: type[WeightsEnum], adapt=None) -> type[WeightsEnum]:
    """Declare ``enum`` as the weights of the builder named ``builder`` and give it a
    docstring with an example (the enums are tables; their pages all read alike).
    ``adapt(state_dict) -> state_dict`` renames the keys of its checkpoints if needed."""
    if builder in _MODEL_WEIGHTS:
        raise ValueError(f"weights of {builder} are already registered "
                         f"({_MODEL_WEIGHTS[builder].__name__})")
    _MODEL_WEIGHTS[builder] = enum
    if adapt is not None:
        _ADAPTERS[builder] = adapt
    default = enum.DEFAULT
    enum.__doc__ = f"""The pretrained weights of :func:`{builder}` (torchvision's).

    Members: {", ".join(f"``{n}``" for n in enum.__members__)}; ``DEFAULT`` is
    ``{default.name}``. Pass one (or its name) as ``{builder}(weights=...)``.

    Examples
    --------
    >>> from flambeau.vision.models import {enum.__name__}
    >>> {enum.__name__}.DEFAULT
    {default!r}
    >>> {enum.__name__}.DEFAULT.meta["num_params"]
    {default.meta["num_params"]}
    >>> {enum.__name__}.DEFAULT.url
    {default.url!r}
    """
    return enum


for _builder, _enum in [
    ("alexnet", AlexNet_Weights), ("vgg11", VGG11_Weights), ("vgg11_bn", VGG11_BN_Weights),
    ("vgg13", VGG13_Weights), ("vgg13_bn", VGG13_BN_Weights), ("vgg16", VGG16_Weights),
    ("vgg16_bn", VGG16_BN_Weights), ("vgg19", VGG19_Weights), ("vgg19_bn", VGG19_BN_Weights),
    ("resnet18", ResNet18_Weights), ("resnet34", ResNet34_Weights),
    ("resnet50", ResNet50_Weights), ("resnet101", ResNet101_Weights),
    ("resnet152", ResNet152_Weights), ("resnext50_32x4d", ResNeXt50_32X4D_Weights),
    ("resnext101_32x8d", ResNeXt101_32X8D_Weights),
    ("resnext101_64x4d", ResNeXt101_64X4D_Weights),
    ("wide_resnet50_2", Wide_ResNet50_2_Weights), ("wide_resnet101_2", Wide_ResNet101_2_Weights),
    ("mobilenet_v2", MobileNet_V2_Weights), ("mobilenet_v3_large", MobileNet_V3_Large_Weights),
    ("mobilenet_v3_small", MobileNet_V3_Small_Weights),
    ("efficientnet_b0", EfficientNet_B0_Weights), ("efficientnet_b1", EfficientNet_B1_Weights),
    ("efficientnet_b2", EfficientNet_B2_Weights), ("efficientnet_b3", EfficientNet_B3_Weights),
    ("efficientnet_b4", EfficientNet_B4_Weights), ("efficientnet_b5", EfficientNet_B5_Weights),
    ("efficientnet_b6", EfficientNet_B6_Weights), ("efficientnet_b7", EfficientNet_B7_Weights),
    ("efficientnet_v2_s", EfficientNet_V2_S_Weights),
    ("efficientnet_v2_m", EfficientNet_V2_M_Weights),
    ("efficientnet_v2_l", EfficientNet_V2_L_Weights),
    ("convnext_tiny", ConvNeXt_Tiny_Weights), ("convnext_small", ConvNeXt_Small_Weights),
    ("convnext_base", ConvNeXt_Base_Weights), ("convnext_large", ConvNeXt_Large_Weights),
    # ViT's files name the MLP's linears linear_1/2: its _MLPBlock renames them on loading
    ("vit_b_16", ViT_B_16_Weights), ("vit_b_32", ViT_B_32_Weights),
    ("vit_l_16", ViT_L_16_Weights), ("vit_l_32", ViT_L_32_Weights),
    ("vit_h_14", ViT_H_14_Weights), ("googlenet", GoogLeNet_Weights),
    ("inception_v3", Inception_V3_Weights), ("mnasnet0_5", MNASNet0_5_Weights),
    ("mnasnet0_75", MNASNet0_75_Weights), ("mnasnet1_0", MNASNet1_0_Weights),
    ("mnasnet1_3", MNASNet1_3_Weights), ("regnet_y_400mf", RegNet_Y_400MF_Weights),
    ("regnet_y_800mf", RegNet_Y_800MF_Weights), ("regnet_y_1_6gf", RegNet_Y_1_6GF_Weights),
    ("regnet_y_3_2gf", RegNet_Y_3_2GF_Weights), ("regnet_y_8gf", RegNet_Y_8GF_Weights),
    ("regnet_y_16gf", RegNet_Y_16GF_Weights), ("regnet_y_32gf", RegNet_Y_32GF_Weights),
    ("regnet_y_128gf", RegNet_Y_128GF_Weights), ("regnet_x_400mf", RegNet_X_400MF_Weights),
    ("regnet_x_800mf", RegNet_X_800MF_Weights), ("regnet_x_1_6gf", RegNet_X_1_6GF_Weights),
    ("regnet_x_3_2gf", RegNet_X_3_2GF_Weights), ("regnet_x_8gf", RegNet_X_8GF_Weights),
    ("regnet_x_16gf", RegNet_X_16GF_Weights), ("regnet_x_32gf", RegNet_X_32GF_Weights),
    ("shufflenet_v2_x0_5", ShuffleNet_V2_X0_5_Weights),
    ("shufflenet_v2_x1_0", ShuffleNet_V2_X1_0_Weights),
    ("shufflenet_v2_x1_5", ShuffleNet_V2_X1_5_Weights),
    ("shufflenet_v2_x2_0", ShuffleNet_V2_X2_0_Weights),
    ("squeezenet1_0", SqueezeNet1_0_Weights), ("squeezenet1_1", SqueezeNet1_1_Weights),
]:
    _register(_builder, _enum)

# DenseNet's checkpoints name a layer's parts "norm.1", "conv.2"...: the modules are "norm1"
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$")


def _densenet_keys(state: dict) -> dict:
    return {_DENSENET_OLD_KEY.sub(r"\1\2", key): value for key, value in state.items()}


for _builder, _enum in [("densenet121", DenseNet121_Weights), ("densenet161", DenseNet161_Weights),
                        ("densenet169", DenseNet169_Weights), ("densenet201", DenseNet201_Weights)]:
    _register(_builder, _enum, adapt=_densenet_keys)


def get_weight(name: str) -> WeightsEnum:
    """The weights named ``"<Enum>.<MEMBER>"``, e.g. ``"ResNet50_Weights.IMAGENET1K_V2"``.

    Examples
    --------
    >>> from flambeau.vision.models import get_weight
    >>> get_weight("ResNet50_Weights.DEFAULT")
    ResNet50_Weights.IMAGENET1K_V2
    """
    enum_name, dot, member = name.partition(".") if isinstance(name, str) else ("", "", "")
    if not dot or "." in member:
        raise ValueError(f"get_weight: invalid weight name {name!r}; expected "
                         "'<Enum>.<MEMBER>', e.g. 'ResNet50_Weights.IMAGENET1K_V2'")
    enums = {e.__name__: e for e in _MODEL_WEIGHTS.values()}
    if enum_name not in enums:
        raise ValueError(f"get_weight: unknown weights enum {enum_name!r}; known: "
                         f"{', '.join(sorted(enums))}")
    return enums[enum_name].verify(member)


def get_model_weights(name) -> type[WeightsEnum]:
    """The weights enum of a model, given its builder or the name :func:`get_model` takes.

    Examples
    --------
    >>> from flambeau.vision.models import get_model_weights, resnet18
    >>> get_model_weights("resnet50").__name__
    'ResNet50_Weights'
    >>> get_model_weights(resnet18).__name__
    'ResNet18_Weights'
    """
    key = name.lower() if isinstance(name, str) else getattr(name, "__name__", None)
    if key not in _MODEL_WEIGHTS:
        shown = name if isinstance(name, str) else repr(name)
        raise ValueError(f"get_model_weights: {shown} has no pretrained weights; models "
                         f"with weights: {', '.join(sorted(_MODEL_WEIGHTS))}")
    return _MODEL_WEIGHTS[key]


def _resolve(builder: str, weights, kwargs: dict):
    """What a builder was given as ``weights=``: an enum member (a member or its name) or
    what :func:`load_weights` reads (a path, a state_dict, ``None``). For a member,
    ``num_classes`` follows its categories, as torchvision's builders."""
    enum = _MODEL_WEIGHTS.get(builder)
    if enum is None and isinstance(weights, WeightsEnum):
        raise TypeError(f"{builder}: has no pretrained weights, got {weights!r}; pass a "
                        "local file or a state_dict")
    if enum is None or weights is None:
        return weights
    if isinstance(weights, str):
        named = weights.removeprefix(enum.__name__ + ".") in enum.__members__
        # "ResNet50_Weights.DEFAULT" given to resnet18 is a mistake, not a file name
        if not named and (os.path.exists(weights) or not _FULL_NAME.fullmatch(weights)):
            return weights  # a file
    elif not isinstance(weights, WeightsEnum):
        return weights
    weights = enum.verify(weights)
    categories = weights.meta.get("categories")
    if categories is not None:
        wanted = kwargs.setdefault("num_classes", len(categories))
        if wanted != len(categories):
            raise ValueError(f"{builder}: {weights!r} has {len(categories)} classes but "
                             f"num_classes={wanted}; load them with the default num_classes "
                             "and replace the classifier afterwards")
    return weights


def _overwrite_named_param(builder: str, kwargs: dict, param: str, value, why: str) -> None:
    """Set ``kwargs[param] = value`` as the weights need; a different value the user gave is
    a ValueError (torchvision's rule for the arguments its weights fix)."""
    given = kwargs.setdefault(param, value)
    if given != value:
        raise ValueError(f"{builder}: the parameter {param!r} expected value {value} but got "
                         f"{given} instead; {why}")

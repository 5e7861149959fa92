"""flambeau.vision.transforms.v2: transforms for whole samples (torchvision's v2 API).

A v2 transform takes any nesting of tuples, lists and dicts and transforms the images,
videos, masks and bounding boxes in it together (:mod:`flambeau.vision.tv_tensors` tells them
apart): a flip flips the boxes too, a crop crops the masks. Other leaves pass through. A
plain tensor is the image when the sample holds no Image, Video or PIL image (only the first
one); write your own by subclassing :class:`Transform`.

Examples
--------
>>> import flambeau
>>> from flambeau.vision import tv_tensors
>>> from flambeau.vision.transforms import v2
>>> img = tv_tensors.Image(flambeau.zeros(3, 4, 4))
>>> target = {"boxes": tv_tensors.BoundingBoxes([[0, 0, 1, 1]], format="XYXY",
...                                             canvas_size=(4, 4)), "labels": [3]}
>>> img, target = v2.RandomHorizontalFlip(p=1.0)(img, target)
>>> target["boxes"].tolist(), target["labels"]
([[3, 0, 4, 1]], [3])
"""

from flambeau.vision.transforms._autoaugment import AutoAugmentPolicy
from flambeau.vision.transforms._geometry import InterpolationMode
from flambeau.vision.transforms.v2 import functional
from flambeau.vision.transforms.v2._transform import (
    Compose,
    Lambda,
    RandomApply,
    RandomChoice,
    RandomOrder,
    Transform,
)
from flambeau.vision.transforms.v2._transforms import (
    AutoAugment,
    CenterCrop,
    ClampBoundingBoxes,
    ColorJitter,
    ConvertBoundingBoxFormat,
    CutMix,
    GaussianBlur,
    Grayscale,
    Identity,
    MixUp,
    Normalize,
    Pad,
    PILToTensor,
    RandAugment,
    RandomAdjustSharpness,
    RandomAffine,
    RandomAutocontrast,
    RandomChannelPermutation,
    RandomCrop,
    RandomEqualize,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomInvert,
    RandomIoUCrop,
    RandomPerspective,
    RandomPhotometricDistort,
    RandomPosterize,
    RandomResize,
    RandomResizedCrop,
    RandomRotation,
    RandomShortestSize,
    RandomSolarize,
    RandomVerticalFlip,
    RandomZoomOut,
    Resize,
    SanitizeBoundingBoxes,
    ScaleJitter,
    ToDtype,
    ToImage,
    ToPILImage,
    ToPureTensor,
    TrivialAugmentWide,
)

__all__ = [
    "functional", "InterpolationMode", "AutoAugmentPolicy", "Transform", "Compose", "Lambda",
    "RandomApply", "RandomChoice", "RandomOrder", "ToImage", "ToDtype", "ToPureTensor",
    "Normalize", "Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop", "Pad",
    "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
    "RandomPerspective", "ColorJitter", "Grayscale", "RandomGrayscale", "GaussianBlur",
    "RandomErasing", "RandomInvert", "RandomPosterize", "RandomSolarize",
    "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize", "AutoAugment",
    "RandAugment", "TrivialAugmentWide", "ClampBoundingBoxes", "ConvertBoundingBoxFormat",
    "SanitizeBoundingBoxes", "MixUp", "CutMix", "PILToTensor", "ToPILImage", "Identity",
    "RandomZoomOut", "RandomIoUCrop", "ScaleJitter", "RandomShortestSize", "RandomResize",
    "RandomChannelPermutation", "RandomPhotometricDistort",
]

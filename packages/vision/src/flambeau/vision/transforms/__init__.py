"""flambeau.vision.transforms: image transforms with torchvision's names and semantics.

Transforms take PIL images, NumPy arrays of shape (H, W, C) or (H, W), and tensors of shape
(..., C, H, W), and return the same kind. Random transforms draw from flambeau's default
generator, so ``flambeau.manual_seed`` and the DataLoader's worker seeding make them
reproducible.

Examples
--------
>>> from PIL import Image
>>> from flambeau.vision import transforms as T
>>> pipeline = T.Compose([T.Resize(4), T.CenterCrop(4), T.ToTensor()])
>>> pipeline(Image.new("RGB", (8, 6))).shape
flambeau.Size([3, 4, 4])
"""

from flambeau.vision.transforms import functional
from flambeau.vision.transforms._autoaugment import (
    AutoAugment,
    AutoAugmentPolicy,
    RandAugment,
    TrivialAugmentWide,
)
from flambeau.vision.transforms._base import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    FiveCrop,
    Grayscale,
    Lambda,
    LinearTransformation,
    Normalize,
    Pad,
    PILToTensor,
    Resize,
    TenCrop,
    ToPILImage,
    ToTensor,
    Transform,
)
from flambeau.vision.transforms._elastic import ElasticTransform
from flambeau.vision.transforms._geometry import InterpolationMode
from flambeau.vision.transforms._random import (
    ColorJitter,
    GaussianBlur,
    RandomAdjustSharpness,
    RandomAffine,
    RandomApply,
    RandomAutocontrast,
    RandomChoice,
    RandomCrop,
    RandomEqualize,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomInvert,
    RandomOrder,
    RandomPerspective,
    RandomPosterize,
    RandomResizedCrop,
    RandomRotation,
    RandomSolarize,
    RandomVerticalFlip,
)

__all__ = [
    "functional", "InterpolationMode", "Transform", "Compose", "ToTensor", "PILToTensor",
    "ConvertImageDtype", "ToPILImage", "Normalize", "Resize", "CenterCrop", "FiveCrop",
    "TenCrop", "Pad", "Grayscale", "Lambda", "LinearTransformation", "RandomApply",
    "RandomChoice", "RandomOrder", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomPerspective", "ColorJitter",
    "RandomGrayscale", "GaussianBlur", "RandomErasing", "RandomInvert", "RandomPosterize",
    "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize",
    "AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide",
    "ElasticTransform",
]

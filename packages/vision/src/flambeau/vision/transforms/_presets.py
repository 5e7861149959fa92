"""The evaluation presets attached to pretrained weights (``weights.transforms()``)."""

from __future__ import annotations

import flambeau
from flambeau.vision.transforms import _convert, _geometry
from flambeau.vision.transforms._base import Transform
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import is_tensor

__all__ = ["ImageClassification"]


class ImageClassification(Transform):
    """The preprocessing of an ImageNet classifier's weights, as torchvision's preset.

    Resizes the smaller edge to ``resize_size``, crops the centre ``crop_size`` square,
    converts to a float tensor in [0, 1] (a PIL image or a uint8 tensor) and normalizes with
    ``mean`` and ``std``. Takes a PIL image, a ``(C, H, W)`` tensor or a batch
    ``(B, C, H, W)``. ``weights.transforms()`` builds one with the sizes the weights were
    evaluated with.

    Parameters
    ----------
    crop_size : int
        The side of the square the model sees.
    resize_size : int
        The smaller edge after resizing, before the crop.
    mean, std : sequence of float
        Per-channel normalization (ImageNet's by default).
    interpolation : InterpolationMode
        Bilinear by default.
    antialias : bool
        Antialias when downsampling tensors (PIL images always are).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.models import ResNet50_Weights
    >>> preprocess = ResNet50_Weights.IMAGENET1K_V2.transforms()
    >>> preprocess.resize_size, preprocess.crop_size
    ([232], [224])
    >>> preprocess(Image.new("RGB", (320, 240))).shape
    flambeau.Size([3, 224, 224])
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256,
                 mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
        # lists, as torchvision's, so the repr and comparisons read the same
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = _interp(interpolation, "ImageClassification")
        self.antialias = antialias

    def forward(self, img):
        img = _geometry.resize(img, self.resize_size, self.interpolation,
                               antialias=self.antialias)
        img = _geometry.center_crop(img, self.crop_size)
        if not is_tensor(img):
            img = _convert.pil_to_tensor(img)
        img = _convert.convert_image_dtype(img, flambeau.float32)
        return _convert.normalize(img, self.mean, self.std)

    def __repr__(self):
        fields = ("crop_size", "resize_size", "mean", "std", "interpolation")
        body = "".join(f"\n    {name}={getattr(self, name)}" for name in fields)
        return f"{type(self).__name__}({body}\n)"

    def describe(self) -> str:
        """One sentence on what the preset does, for documentation pages.

        Examples
        --------
        >>> from flambeau.vision.transforms._presets import ImageClassification
        >>> "resize_size=[256]" in ImageClassification(crop_size=224).describe()
        True
        """
        return (f"Accepts PIL images and (B, C, H, W) or (C, H, W) tensors. The images are "
                f"resized to resize_size={self.resize_size} with "
                f"interpolation={self.interpolation}, then centrally cropped to "
                f"crop_size={self.crop_size}, rescaled to [0.0, 1.0] and normalized with "
                f"mean={self.mean} and std={self.std}.")

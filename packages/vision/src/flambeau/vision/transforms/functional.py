"""flambeau.vision.transforms.functional: the transforms as functions (torchvision's names).

Every function takes a PIL image, a NumPy array of shape (H, W, C) or (H, W), or a tensor
of shape (..., C, H, W), and returns the same kind (conversions excepted).

Examples
--------
>>> import flambeau
>>> from flambeau.vision.transforms import functional as F
>>> F.hflip(flambeau.tensor([[[1, 2, 3]]])).tolist()
[[[3, 2, 1]]]
"""

from flambeau.vision.transforms._color import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    gaussian_blur,
    rgb_to_grayscale,
    to_grayscale,
)
from flambeau.vision.transforms._convert import (
    convert_image_dtype,
    erase,
    normalize,
    pil_to_tensor,
    to_pil_image,
    to_tensor,
)
from flambeau.vision.transforms._geometry import (
    InterpolationMode,
    affine,
    center_crop,
    crop,
    hflip,
    inverse_affine_matrix,
    pad,
    resize,
    resized_crop,
    rotate,
    vflip,
)
from flambeau.vision.transforms._image import get_dimensions

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_hue",
    "adjust_saturation", "affine", "center_crop", "convert_image_dtype", "crop", "erase",
    "gaussian_blur", "get_dimensions", "hflip", "inverse_affine_matrix", "normalize", "pad",
    "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate", "to_grayscale",
    "to_pil_image", "to_tensor", "vflip",
]

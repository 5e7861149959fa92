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
    adjust_gamma,
    adjust_hue,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    gaussian_blur,
    invert,
    posterize,
    rgb_to_grayscale,
    solarize,
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
from flambeau.vision.transforms._elastic import elastic_transform
from flambeau.vision.transforms._geometry import (
    InterpolationMode,
    affine,
    center_crop,
    crop,
    five_crop,
    hflip,
    inverse_affine_matrix,
    pad,
    perspective,
    resize,
    resized_crop,
    rotate,
    ten_crop,
    vflip,
)
from flambeau.vision.transforms._image import (
    get_dimensions,
    get_image_num_channels,
    get_image_size,
)

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue",
    "adjust_saturation", "adjust_sharpness", "affine", "autocontrast", "center_crop",
    "convert_image_dtype", "crop", "elastic_transform", "equalize", "erase", "five_crop",
    "gaussian_blur",
    "get_dimensions", "get_image_num_channels", "get_image_size", "hflip",
    "inverse_affine_matrix", "invert", "normalize", "pad", "perspective", "pil_to_tensor",
    "posterize", "resize", "resized_crop", "rgb_to_grayscale", "rotate", "solarize",
    "ten_crop", "to_grayscale", "to_pil_image", "to_tensor", "vflip",
]

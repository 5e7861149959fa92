"""flambeau.vision.transforms.v2.functional: the v2 ops as functions (torchvision's names).

Each function takes an image (PIL, NumPy HWC array, tensor,
:class:`~flambeau.vision.tv_tensors.Image` or :class:`~flambeau.vision.tv_tensors.Video`), a
:class:`~flambeau.vision.tv_tensors.Mask` or :class:`~flambeau.vision.tv_tensors.BoundingBoxes`,
and returns the same kind; geometric ops move boxes with the image.

Examples
--------
>>> from flambeau.vision import tv_tensors
>>> from flambeau.vision.transforms.v2 import functional as F
>>> boxes = tv_tensors.BoundingBoxes([[1, 0, 3, 2]], format="XYXY", canvas_size=(2, 4))
>>> F.horizontal_flip(boxes).tolist()
[[1, 0, 3, 2]]
"""

from flambeau.vision.transforms._geometry import InterpolationMode
from flambeau.vision.transforms.v2._functional import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    adjust_sharpness,
    affine,
    autocontrast,
    center_crop,
    clamp_bounding_boxes,
    convert_bounding_box_format,
    crop,
    equalize,
    erase,
    gaussian_blur,
    get_dimensions,
    get_size,
    horizontal_flip,
    invert,
    normalize,
    pad,
    permute_channels,
    perspective,
    posterize,
    register_kernel,
    resize,
    resized_crop,
    rgb_to_grayscale,
    rotate,
    solarize,
    to_dtype,
    to_image,
    to_pure_tensor,
    vertical_flip,
)

hflip = horizontal_flip  # torchvision's short names
vflip = vertical_flip

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_hue",
    "adjust_saturation", "adjust_sharpness", "affine", "autocontrast", "center_crop",
    "clamp_bounding_boxes", "convert_bounding_box_format", "crop", "equalize", "erase",
    "gaussian_blur", "get_dimensions", "get_size", "hflip", "horizontal_flip", "invert",
    "normalize", "pad", "permute_channels", "perspective", "posterize", "register_kernel",
    "resize", "resized_crop", "rgb_to_grayscale", "rotate", "solarize", "to_dtype", "to_image",
    "to_pure_tensor", "vertical_flip", "vflip",
]

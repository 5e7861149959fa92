"""The v2 transforms: v1's parameters and kernels, applied to a whole sample at once.

Each random transform draws its parameters once per call (``make_params``) with the v1
transform's ``get_params``, so an image and its boxes and masks get the same crop, flip or
angle; the v1 classes also check the constructor arguments.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from PIL import Image as _PILImage

import flambeau
from flambeau._tensor import Tensor
from flambeau.utils._pytree import tree_flatten, tree_unflatten
from flambeau.vision.transforms import _autoaugment as _v1_auto
from flambeau.vision.transforms import _base as _v1_base
from flambeau.vision.transforms import _convert
from flambeau.vision.transforms import _random as _v1
from flambeau.vision.transforms._geometry import InterpolationMode, _parse_padding
from flambeau.vision.transforms._image import draw_int, draw_uniform
from flambeau.vision.transforms.v2 import _functional as F
from flambeau.vision.transforms.v2._transform import (
    Transform,
    _blank,
    _is_image_like,
    _RandomApplyTransform,
    query_chw,
    query_size,
)
from flambeau.vision.tv_tensors import BoundingBoxes, Image, Mask, TVTensor, Video
from flambeau.vision.tv_tensors._tv_tensors import _box_format

__all__ = [
    "ToImage", "ToDtype", "ToPureTensor", "PILToTensor", "ToPILImage", "Identity",
    "RandomZoomOut", "RandomIoUCrop", "ScaleJitter", "RandomShortestSize", "RandomResize",
    "RandomChannelPermutation", "RandomPhotometricDistort", "Normalize", "Resize",
    "CenterCrop", "RandomCrop", "RandomResizedCrop", "Pad", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomPerspective", "ColorJitter",
    "Grayscale", "RandomGrayscale", "GaussianBlur", "RandomErasing", "RandomInvert",
    "RandomPosterize", "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast",
    "RandomEqualize", "AutoAugment", "RandAugment", "TrivialAugmentWide", "ClampBoundingBoxes",
    "ConvertBoundingBoxFormat", "SanitizeBoundingBoxes", "MixUp", "CutMix",
]


def _fill_for(fill, inpt):
    """``fill`` may map types (and "others") to fills, as torchvision's."""
    if isinstance(fill, dict):
        return fill.get(type(inpt), fill.get("others"))
    return fill


def _check_fill(fill, op: str):
    values = fill.values() if isinstance(fill, dict) else [fill]
    for v in values:
        if v is not None and not isinstance(v, (numbers.Number, tuple, list)):
            raise TypeError(f"{op}: fill must be a number, a sequence, a dict of them or None, "
                            f"got {type(v).__name__}")
    return fill


def _color(transform_fn):
    """A colour op: masks and boxes pass through."""
    def transform(self, inpt, params):
        if isinstance(inpt, (Mask, BoundingBoxes)):
            return inpt
        return transform_fn(self, inpt, params)
    return transform


# ---------------------------------------------------------------------- conversions


class ToImage(Transform):
    """Convert PIL images, NumPy (H, W[, C]) arrays and plain tensors to
    :class:`~flambeau.vision.tv_tensors.Image` (no rescaling).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.transforms import v2
    >>> img = v2.ToImage()(Image.new("RGB", (5, 4)))
    >>> type(img).__name__, tuple(img.shape), img.dtype
    ('Image', (3, 4, 5), flambeau.uint8)
    """

    _transformed_types = (F.is_pure_tensor, _PILImage.Image, np.ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class PILToTensor(Transform):
    """Convert PIL images to plain (C, H, W) tensors, keeping the dtype (no rescaling).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.transforms import v2
    >>> out = v2.PILToTensor()(Image.new("RGB", (5, 4)))
    >>> type(out).__name__, tuple(out.shape)
    ('Tensor', (3, 4, 5))
    """

    _transformed_types = (_PILImage.Image,)

    def transform(self, inpt, params):
        return _convert.pil_to_tensor(inpt)


class ToPILImage(Transform):
    """Convert tensor images and NumPy (H, W[, C]) arrays to PIL images (``mode`` optional).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.ToPILImage()(flambeau.zeros(3, 4, 5, dtype=flambeau.uint8)).size
    (5, 4)
    """

    _transformed_types = (F.is_pure_tensor, Image, np.ndarray)

    def __init__(self, mode=None):
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        if isinstance(inpt, Image):
            inpt = inpt.as_subclass(Tensor)
        return _convert.to_pil_image(inpt, self.mode)


class Identity(Transform):
    """Return the sample unchanged (a placeholder in a pipeline).

    Examples
    --------
    >>> from flambeau.vision.transforms import v2
    >>> v2.Identity()({"a": 1})
    {'a': 1}
    """

    def forward(self, *inputs):
        return inputs if len(inputs) > 1 else inputs[0]


class ToPureTensor(Transform):
    """Turn every tv_tensor of the sample into a plain :class:`flambeau.Tensor`.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> type(v2.ToPureTensor()(tv_tensors.Image([[1]]))).__name__
    'Tensor'
    """

    _transformed_types = (TVTensor,)

    def transform(self, inpt, params):
        return F.to_pure_tensor(inpt)


class ToDtype(Transform):
    """Cast images and videos to ``dtype``; ``scale=True`` rescales the values (uint8 [0, 255]
    to float [0, 1] and back). A dict maps types (and "others") to dtypes, to cast masks or
    boxes too.

    Raises
    ------
    ValueError
        When ``dtype`` is neither a dtype nor a dict of them, or (when called) a dict has
        neither the input's type nor "others".

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.tensor([[[0, 255]]], dtype=flambeau.uint8))
    >>> v2.ToDtype(flambeau.float32, scale=True)(img).tolist()
    [[[0.0, 1.0]]]
    """

    def __init__(self, dtype, scale: bool = False):
        super().__init__()
        if not isinstance(dtype, (dict, flambeau.dtype)):
            raise ValueError(f"ToDtype: dtype must be a dtype or a dict of them, got "
                             f"{type(dtype).__name__}")
        self.dtype, self.scale = dtype, scale

    def transform(self, inpt, params):
        if isinstance(self.dtype, dict):
            key = Tensor if F.is_pure_tensor(inpt) else type(inpt)
            if key not in self.dtype and "others" not in self.dtype:
                raise ValueError(f"ToDtype: no dtype for {key.__name__} inputs; add it to the "
                                 "dict, or an \"others\" key (None passes them through)")
            dtype = self.dtype.get(key, self.dtype.get("others"))
        elif isinstance(inpt, (Image, Video)) or F.is_pure_tensor(inpt):
            dtype = self.dtype
        else:
            return inpt  # a single dtype is for images and videos, as ConvertImageDtype
        if dtype is None or not isinstance(inpt, Tensor):
            return inpt
        return self._call_kernel(F.to_dtype, inpt, dtype, self.scale)


class Normalize(Transform):
    """Normalize float images and videos channel-wise: ``(x - mean[c]) / std[c]``.

    Raises
    ------
    TypeError
        When the sample holds a PIL image.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> v2.Normalize([0.5], [0.5])(tv_tensors.Image([[0.0, 1.0]])).tolist()
    [[[-1.0, 1.0]]]
    """

    def __init__(self, mean, std, inplace: bool = False):
        super().__init__()
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    def check_inputs(self, flat_inputs):
        for x in flat_inputs:
            if isinstance(x, _PILImage.Image):
                raise TypeError("Normalize: PIL images are not supported; put ToImage and "
                                "ToDtype(flambeau.float32, scale=True) before it")

    @_color
    def transform(self, inpt, params):
        return self._call_kernel(F.normalize, inpt, self.mean, self.std, self.inplace)


# ------------------------------------------------------------------------- geometry


class Resize(Transform):
    """Resize images, videos and masks, and scale boxes to the new canvas.

    ``size`` as v1's :class:`~flambeau.vision.transforms.Resize`, or None (v2 only) to bring
    the longer edge to ``max_size``.

    Raises
    ------
    ValueError
        For ``size=None`` without an int ``max_size``, or a bad ``size``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 4, 8))
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 8, 4]], format="XYXY", canvas_size=(4, 8))
    >>> img, boxes = v2.Resize(2)(img, boxes)
    >>> tuple(img.shape), boxes.tolist(), boxes.canvas_size
    ((3, 2, 4), [[0, 0, 4, 2]], (2, 4))
    """

    _v1_transform_cls = _v1_base.Resize

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        super().__init__()
        if size is None:  # v2 only: the longer edge becomes max_size
            if not isinstance(max_size, int) or isinstance(max_size, bool):
                raise ValueError(f"Resize: max_size must be an int when size is None, got "
                                 f"{max_size!r}")
            self.interpolation = _v1_base.Resize(1, interpolation).interpolation
            self.size = None
        else:
            v1 = _v1_base.Resize(size, interpolation, max_size, antialias)
            self.size, self.interpolation = v1.size, v1.interpolation
        self.max_size, self.antialias = max_size, antialias

    def transform(self, inpt, params):
        return self._call_kernel(F.resize, inpt, self.size, self.interpolation, self.max_size,
                                 self.antialias)


class CenterCrop(Transform):
    """Crop the centre of images, videos and masks; boxes move and are clamped.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[1, 1, 3, 3]], format="XYXY", canvas_size=(4, 4))
    >>> v2.CenterCrop(2)(boxes).tolist()
    [[0, 0, 2, 2]]
    """

    _v1_transform_cls = _v1_base.CenterCrop

    def __init__(self, size):
        super().__init__()
        self.size = _v1_base.CenterCrop(size).size

    def transform(self, inpt, params):
        return self._call_kernel(F.center_crop, inpt, self.size)


class Pad(Transform):
    """Pad images, videos and masks; boxes move by the left and top padding.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(2, 2))
    >>> out = v2.Pad(1)(boxes)
    >>> out.tolist(), out.canvas_size
    ([[1, 1, 2, 2]], (4, 4))
    """

    _v1_transform_cls = _v1_base.Pad

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        v1 = _v1_base.Pad(padding, 0, padding_mode)
        self.padding, self.padding_mode = v1.padding, padding_mode
        self.fill = _check_fill(fill, "Pad")

    def transform(self, inpt, params):
        return self._call_kernel(F.pad, inpt, self.padding, _fill_for(self.fill, inpt),
                                 self.padding_mode)


class RandomCrop(Transform):
    """Crop a random box of ``size`` (after optional padding) from the whole sample.

    Raises
    ------
    ValueError
        When the (padded) sample is smaller than ``size``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.arange(16).reshape(1, 4, 4))
    >>> mask = tv_tensors.Mask(flambeau.arange(16).reshape(4, 4))
    >>> img, mask = v2.RandomCrop(2)(img, mask)
    >>> flambeau.equal(img[0], mask)
    True
    """

    _v1_transform_cls = _v1.RandomCrop

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        super().__init__()
        v1 = _v1.RandomCrop(size, padding, pad_if_needed, 0, padding_mode)
        self.size, self.padding = v1.size, padding
        self.pad_if_needed, self.padding_mode = pad_if_needed, padding_mode
        self.fill = _check_fill(fill, "RandomCrop")

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomCrop")
        left = top = right = bottom = 0
        if self.padding is not None:
            left, top, right, bottom = _parse_padding(self.padding, "RandomCrop")
        h, w = h + top + bottom, w + left + right
        th, tw = self.size
        if self.pad_if_needed:
            dx, dy = max(tw - w, 0), max(th - h, 0)
            left, right, top, bottom = left + dx, right + dx, top + dy, bottom + dy
            h, w = h + 2 * dy, w + 2 * dx
        crop_top, crop_left, _, _ = _v1.RandomCrop.get_params(_blank(h, w), self.size)
        padding = [left, top, right, bottom]
        return {"padding": padding if any(padding) else None, "top": crop_top,
                "left": crop_left}

    def transform(self, inpt, params):
        if params["padding"] is not None:
            inpt = self._call_kernel(F.pad, inpt, params["padding"],
                                     _fill_for(self.fill, inpt), self.padding_mode)
        return self._call_kernel(F.crop, inpt, params["top"], params["left"], *self.size)


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize to ``size``; boxes and masks follow.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 32, 32))
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 32, 32]], format="XYXY", canvas_size=(32, 32))
    >>> img, boxes = v2.RandomResizedCrop(8)(img, boxes)
    >>> tuple(img.shape), boxes.canvas_size
    ((3, 8, 8), (8, 8))
    """

    _v1_transform_cls = _v1.RandomResizedCrop

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        v1 = _v1.RandomResizedCrop(size, scale, ratio, interpolation, antialias)
        self.size, self.scale, self.ratio = v1.size, v1.scale, v1.ratio
        self.interpolation, self.antialias = v1.interpolation, antialias

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomResizedCrop")
        top, left, height, width = _v1.RandomResizedCrop.get_params(_blank(h, w), self.scale,
                                                                   self.ratio)
        return {"top": top, "left": left, "height": height, "width": width}

    def transform(self, inpt, params):
        return self._call_kernel(F.resized_crop, inpt, params["top"], params["left"],
                                 params["height"], params["width"], list(self.size),
                                 self.interpolation, self.antialias)


class RandomHorizontalFlip(_RandomApplyTransform):
    """Flip the whole sample left to right with probability ``p``: images, masks and boxes.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 1, 2]], format="XYWH", canvas_size=(4, 4))
    >>> v2.RandomHorizontalFlip(p=1.0)(boxes).tolist()
    [[3, 0, 1, 2]]
    """

    _v1_transform_cls = _v1.RandomHorizontalFlip

    def transform(self, inpt, params):
        return self._call_kernel(F.horizontal_flip, inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    """Flip the whole sample top to bottom with probability ``p``: images, masks and boxes.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 1, 2]], format="XYXY", canvas_size=(4, 4))
    >>> v2.RandomVerticalFlip(p=1.0)(boxes).tolist()
    [[0, 2, 1, 4]]
    """

    _v1_transform_cls = _v1.RandomVerticalFlip

    def transform(self, inpt, params):
        return self._call_kernel(F.vertical_flip, inpt)


class RandomRotation(Transform):
    """Rotate the sample by an angle drawn from ``degrees`` (counter-clockwise).

    Boxes become the hull of their rotated corners, clamped to the canvas; masks rotate
    with nearest interpolation.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.tensor([[[1, 2], [3, 4]]]))
    >>> v2.RandomRotation((90, 90))(img).tolist()
    [[[2, 4], [1, 3]]]
    """

    _v1_transform_cls = _v1.RandomRotation

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        super().__init__()
        v1 = _v1.RandomRotation(degrees, interpolation, expand, center, 0)
        self.degrees, self.interpolation = v1.degrees, v1.interpolation
        self.expand, self.center = expand, center
        self.fill = _check_fill(fill, "RandomRotation")

    def make_params(self, flat_inputs):
        return {"angle": _v1.RandomRotation.get_params(self.degrees)}

    def transform(self, inpt, params):
        return self._call_kernel(F.rotate, inpt, params["angle"], self.interpolation,
                                 self.expand, self.center, _fill_for(self.fill, inpt))


class RandomAffine(Transform):
    """Random rotation (clockwise), translation, scale and shear of the whole sample.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.ones(1, 4, 4))
    >>> tuple(v2.RandomAffine(degrees=10, scale=(0.9, 1.1))(img).shape)
    (1, 4, 4)
    """

    _v1_transform_cls = _v1.RandomAffine

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        super().__init__()
        v1 = _v1.RandomAffine(degrees, translate, scale, shear, interpolation, 0, center)
        self.degrees, self.translate, self.scale = v1.degrees, v1.translate, v1.scale
        self.shear, self.interpolation, self.center = v1.shear, v1.interpolation, center
        self.fill = _check_fill(fill, "RandomAffine")

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomAffine")
        angle, translate, scale, shear = _v1.RandomAffine.get_params(
            self.degrees, self.translate, self.scale, self.shear, [w, h])
        return {"angle": angle, "translate": translate, "scale": scale, "shear": shear}

    def transform(self, inpt, params):
        return self._call_kernel(F.affine, inpt, params["angle"], params["translate"],
                                 params["scale"], params["shear"], self.interpolation,
                                 _fill_for(self.fill, inpt), self.center)


# --------------------------------------------------------------------------- colour


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes of the images, in random order.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.full((3, 2, 2), 0.5))
    >>> out = v2.ColorJitter(brightness=(2.0, 2.0))(img)
    >>> type(out).__name__, out.flatten().tolist()[0]
    ('Image', 1.0)
    """

    _v1_transform_cls = _v1.ColorJitter

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        v1 = _v1.ColorJitter(brightness, contrast, saturation, hue)
        self.brightness, self.contrast = v1.brightness, v1.contrast
        self.saturation, self.hue = v1.saturation, v1.hue

    def make_params(self, flat_inputs):
        order, *factors = _v1.ColorJitter.get_params(self.brightness, self.contrast,
                                                      self.saturation, self.hue)
        return {"order": order, "factors": factors}

    @_color
    def transform(self, inpt, params):
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for i in params["order"]:
            if params["factors"][i] is not None:
                inpt = self._call_kernel(adjust[i], inpt, params["factors"][i])
        return inpt


class RandomChannelPermutation(Transform):
    """Shuffle the channels of the images at random (the same order for the whole sample).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> out = v2.RandomChannelPermutation()(flambeau.tensor([[[1]], [[2]], [[3]]]))
    >>> sorted(out.flatten().tolist())
    [1, 2, 3]
    """

    def make_params(self, flat_inputs):
        channels = query_chw(flat_inputs, "RandomChannelPermutation")[0]
        return {"permutation": flambeau.randperm(channels).tolist()}

    @_color
    def transform(self, inpt, params):
        return self._call_kernel(F.permute_channels, inpt, params["permutation"])


class RandomPhotometricDistort(Transform):
    """SSD's photometric distortions (Liu et al., 2016): brightness, contrast, saturation and
    hue changes and a channel shuffle, each with probability ``p``; contrast goes before or
    after the others at random.

    Raises
    ------
    ValueError
        For ranges that are not (min, max) pairs, or ``p`` outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.rand(3, 4, 4))
    >>> type(v2.RandomPhotometricDistort(p=1.0)(img)).__name__
    'Image'
    """

    def __init__(self, brightness=(0.875, 1.125), contrast=(0.5, 1.5), saturation=(0.5, 1.5),
                 hue=(-0.05, 0.05), p: float = 0.5):
        super().__init__()
        v1 = _v1.ColorJitter(brightness, contrast, saturation, hue)  # checks the ranges
        self.brightness, self.contrast = v1.brightness, v1.contrast
        self.saturation, self.hue = v1.saturation, v1.hue
        self.p = _v1._check_p(p, "RandomPhotometricDistort")

    def make_params(self, flat_inputs):
        channels = query_chw(flat_inputs, "RandomPhotometricDistort")[0]
        factors = {}
        for name in ("brightness", "contrast", "saturation", "hue"):
            rng = getattr(self, name)
            applied = float(flambeau.rand(1).item()) < self.p
            factors[name] = (draw_uniform(*rng) if applied and rng is not None else None)
        contrast_before = float(flambeau.rand(1).item()) < 0.5
        permutation = None
        if float(flambeau.rand(1).item()) < self.p:
            permutation = flambeau.randperm(channels).tolist()
        return {**factors, "contrast_before": contrast_before, "permutation": permutation}

    @_color
    def transform(self, inpt, params):
        steps = [(F.adjust_brightness, params["brightness"])]
        contrast = [(F.adjust_contrast, params["contrast"])]
        middle = [(F.adjust_saturation, params["saturation"]), (F.adjust_hue, params["hue"])]
        steps += contrast + middle if params["contrast_before"] else middle + contrast
        steps.append((F.permute_channels, params["permutation"]))
        for functional, value in steps:
            if value is not None:
                inpt = self._call_kernel(functional, inpt, value)
        return inpt


class RandomGrayscale(_RandomApplyTransform):
    """Convert the images to grayscale with probability ``p``, keeping their channel count.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandomGrayscale(p=1.0)(flambeau.ones(3, 1, 1)).shape
    flambeau.Size([3, 1, 1])
    """

    def __init__(self, p: float = 0.1):
        super().__init__(p)

    def make_params(self, flat_inputs):
        return {"channels": query_chw(flat_inputs, "RandomGrayscale")[0]}

    @_color
    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, params["channels"])


class GaussianBlur(Transform):
    """Gaussian blur of the images with a standard deviation drawn from ``sigma``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.GaussianBlur(3)(flambeau.ones(1, 4, 4)).shape
    flambeau.Size([1, 4, 4])
    """

    _v1_transform_cls = _v1.GaussianBlur

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        v1 = _v1.GaussianBlur(kernel_size, sigma)
        self.kernel_size, self.sigma = v1.kernel_size, v1.sigma

    def make_params(self, flat_inputs):
        return {"sigma": _v1.GaussianBlur.get_params(*self.sigma)}

    @_color
    def transform(self, inpt, params):
        s = params["sigma"]
        return self._call_kernel(F.gaussian_blur, inpt, list(self.kernel_size), [s, s])


class RandomErasing(_RandomApplyTransform):
    """Erase a random box of the tensor images with probability ``p`` (Zhong et al., 2017).

    Masks and boxes pass through unchanged.

    Raises
    ------
    TypeError
        When the sample holds a PIL image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> out = v2.RandomErasing(p=1.0, scale=(0.25, 0.25), ratio=(1.0, 1.0))(flambeau.ones(1, 4, 4))
    >>> int(out.sum().item())
    12
    """

    _v1_transform_cls = _v1.RandomErasing

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        v1 = _v1.RandomErasing(p, scale, ratio, value, inplace)
        super().__init__(p)
        self.scale, self.ratio, self.value, self.inplace = v1.scale, v1.ratio, value, inplace

    def check_inputs(self, flat_inputs):
        for x in flat_inputs:
            if isinstance(x, _PILImage.Image):
                raise TypeError("RandomErasing: PIL images are not supported; put ToImage "
                                "before it")

    def make_params(self, flat_inputs):
        images = [x for x in flat_inputs if isinstance(x, (Image, Video)) or F.is_pure_tensor(x)]
        if not images:
            return {"box": None}
        img = images[0]
        value = _v1._erase_value(self.value, img.shape[-3] if img.dim() >= 3 else 1)
        i, j, h, w, v = _v1.RandomErasing.get_params(img, self.scale, self.ratio, value)
        return {"box": None if v is img else (i, j, h, w, v)}

    @_color
    def transform(self, inpt, params):
        if params["box"] is None or isinstance(inpt, np.ndarray):
            return inpt
        return self._call_kernel(F.erase, inpt, *params["box"], self.inplace)


class RandomZoomOut(_RandomApplyTransform):
    """Place the sample at a random spot of a canvas ``side_range`` times larger, filled with
    ``fill`` (SSD's zoom out), with probability ``p``; boxes move with it.

    Raises
    ------
    ValueError
        When ``side_range`` is not (min, max) with 1 <= min <= max.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.ones(3, 4, 4))
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 4, 4]], format="XYXY", canvas_size=(4, 4))
    >>> img, boxes = v2.RandomZoomOut(side_range=(2.0, 2.0), p=1.0)(img, boxes)
    >>> tuple(img.shape), boxes.canvas_size, int(img.sum().item())
    ((3, 8, 8), (8, 8), 48)
    """

    def __init__(self, fill=0, side_range=(1.0, 4.0), p: float = 0.5):
        super().__init__(p)
        side_range = tuple(float(v) for v in side_range)
        if len(side_range) != 2 or side_range[0] < 1.0 or side_range[0] > side_range[1]:
            raise ValueError(f"RandomZoomOut: side_range must be (min, max) with "
                             f"1 <= min <= max, got {side_range}")
        self.fill, self.side_range = _check_fill(fill, "RandomZoomOut"), side_range

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomZoomOut")
        low, high = self.side_range
        r = low + float(flambeau.rand(1).item()) * (high - low)
        canvas_w, canvas_h = int(w * r), int(h * r)
        rx, ry = flambeau.rand(2).tolist()
        left, top = int((canvas_w - w) * rx), int((canvas_h - h) * ry)
        return {"padding": [left, top, canvas_w - left - w, canvas_h - top - h]}

    def transform(self, inpt, params):
        return self._call_kernel(F.pad, inpt, params["padding"], _fill_for(self.fill, inpt))


class RandomIoUCrop(Transform):
    """SSD's random crop (Liu et al., 2016): a crop that overlaps some box by at least an IoU
    drawn from ``sampler_options``; boxes whose centre falls outside the crop become all
    zeros, for :class:`SanitizeBoundingBoxes` to remove after it.

    An option of 1 or more means no crop; ``trials`` crops are tried per drawn option.

    Raises
    ------
    TypeError
        When the sample does not hold an image and bounding boxes.
    ValueError
        For scales or aspect ratios that are not (min, max) ranges.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 32, 32))
    >>> boxes = tv_tensors.BoundingBoxes([[4, 4, 28, 28]], format="XYXY", canvas_size=(32, 32))
    >>> img, boxes = v2.RandomIoUCrop(sampler_options=[0.5])(img, boxes)
    >>> boxes.canvas_size == tuple(img.shape[-2:])
    True
    """

    def __init__(self, min_scale: float = 0.3, max_scale: float = 1.0,
                 min_aspect_ratio: float = 0.5, max_aspect_ratio: float = 2.0,
                 sampler_options=None, trials: int = 40):
        super().__init__()
        if not 0 < min_scale <= max_scale or not 0 < min_aspect_ratio <= max_aspect_ratio:
            raise ValueError(f"RandomIoUCrop: scales and aspect ratios must be (min, max) with "
                             f"0 < min <= max, got scale ({min_scale}, {max_scale}) and aspect "
                             f"ratio ({min_aspect_ratio}, {max_aspect_ratio})")
        self.min_scale, self.max_scale = min_scale, max_scale
        self.min_aspect_ratio, self.max_aspect_ratio = min_aspect_ratio, max_aspect_ratio
        if sampler_options is None:
            sampler_options = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 2.0]
        self.options, self.trials = list(sampler_options), trials

    def check_inputs(self, flat_inputs):
        if not (any(isinstance(x, BoundingBoxes) for x in flat_inputs)
                and any(_is_image_like(x) for x in flat_inputs)):
            raise TypeError("RandomIoUCrop: the sample must hold an image (tensor or PIL) and "
                            "bounding boxes; it may also hold masks")

    def make_params(self, flat_inputs):
        from flambeau.vision.ops import box_iou

        h, w = query_size(flat_inputs, "RandomIoUCrop")
        boxes = next(x for x in flat_inputs if isinstance(x, BoundingBoxes))
        xyxy = F.convert_bounding_box_format(boxes, new_format="XYXY").as_subclass(Tensor)
        xyxy = xyxy.to(flambeau.float32)
        cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
        while True:  # an option of 1 or more ends the search
            min_iou = self.options[draw_int(0, len(self.options))]
            if min_iou >= 1.0:
                return {}
            for _ in range(self.trials):
                sx, sy = (self.min_scale + (self.max_scale - self.min_scale) * v
                          for v in flambeau.rand(2).tolist())
                new_w, new_h = int(w * sx), int(h * sy)
                if new_h == 0 or not (self.min_aspect_ratio <= new_w / new_h
                                      <= self.max_aspect_ratio):
                    continue
                rx, ry = flambeau.rand(2).tolist()
                left, top = int((w - new_w) * rx), int((h - new_h) * ry)
                right, bottom = left + new_w, top + new_h
                if left == right or top == bottom:
                    continue
                inside = (left < cx) & (cx < right) & (top < cy) & (cy < bottom)
                if not bool(inside.any()):
                    continue
                crop = flambeau.tensor([[left, top, right, bottom]], dtype=flambeau.float32,
                                       device=xyxy.device)
                if box_iou(xyxy[inside], crop).max().item() < min_iou:
                    continue
                return {"top": top, "left": left, "height": new_h, "width": new_w,
                        "inside": inside}

    def transform(self, inpt, params):
        if not params:
            return inpt
        out = self._call_kernel(F.crop, inpt, params["top"], params["left"], params["height"],
                                params["width"])
        if isinstance(out, BoundingBoxes):
            out[~params["inside"]] = 0
        return out


class _RandomSize(Transform):
    """Resize the sample to a size ``make_params`` draws (the detection recipes' resizes)."""

    def __init__(self, interpolation, antialias):
        super().__init__()
        self.interpolation = _v1_base.Resize(1, interpolation).interpolation
        self.antialias = antialias

    def transform(self, inpt, params):
        return self._call_kernel(F.resize, inpt, params["size"], self.interpolation,
                                 antialias=self.antialias)


def _scaled_size(h: int, w: int, r: float) -> list[int]:
    return [int(h * r), int(w * r)]


class ScaleJitter(_RandomSize):
    """Resize the sample to fit ``target_size`` (W, H) times a scale drawn from ``scale_range``
    (large scale jitter, Ghiasi et al., 2021).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 10, 20))
    >>> tuple(v2.ScaleJitter((40, 40), scale_range=(0.5, 0.5))(img).shape)
    (3, 10, 20)
    """

    def __init__(self, target_size, scale_range=(0.1, 2.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__(interpolation, antialias)
        self.target_size, self.scale_range = tuple(target_size), tuple(scale_range)

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "ScaleJitter")
        low, high = self.scale_range
        scale = low + float(flambeau.rand(1).item()) * (high - low)
        r = min(self.target_size[1] / h, self.target_size[0] / w) * scale
        return {"size": _scaled_size(h, w, r)}


class RandomShortestSize(_RandomSize):
    """Resize the sample so its shorter side is one of ``min_size`` (drawn), the longer at
    most ``max_size``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 10, 20))
    >>> tuple(v2.RandomShortestSize([5], max_size=8)(img).shape)
    (3, 4, 8)
    """

    def __init__(self, min_size, max_size=None, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        super().__init__(interpolation, antialias)
        self.min_size = [min_size] if isinstance(min_size, int) else list(min_size)
        self.max_size = max_size

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomShortestSize")
        r = self.min_size[draw_int(0, len(self.min_size))] / min(h, w)
        if self.max_size is not None:
            r = min(r, self.max_size / max(h, w))
        return {"size": _scaled_size(h, w, r)}


class RandomResize(_RandomSize):
    """Resize the sample's shorter side to a size drawn from [``min_size``, ``max_size``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 10, 20))
    >>> tuple(v2.RandomResize(5, 6)(img).shape)
    (3, 5, 10)
    """

    def __init__(self, min_size: int, max_size: int, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        super().__init__(interpolation, antialias)
        self.min_size, self.max_size = min_size, max_size

    def make_params(self, flat_inputs):
        return {"size": [draw_int(self.min_size, self.max_size)]}


class RandomPerspective(_RandomApplyTransform):
    """Perspective warp of the whole sample with probability ``p``: each corner moves inwards
    at random; boxes become the hull of their moved corners.

    Raises
    ------
    TypeError, ValueError
        For a ``distortion_scale`` or ``p`` that is not a number in [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.ones(3, 8, 8))
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 8, 8]], format="XYXY", canvas_size=(8, 8))
    >>> img, boxes = v2.RandomPerspective(p=1.0)(img, boxes)
    >>> tuple(img.shape), boxes.canvas_size
    ((3, 8, 8), (8, 8))
    """

    _v1_transform_cls = _v1.RandomPerspective

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0):
        v1 = _v1.RandomPerspective(distortion_scale, p, interpolation, 0)
        super().__init__(p)
        self.distortion_scale, self.interpolation = distortion_scale, v1.interpolation
        self.fill = _check_fill(fill, "RandomPerspective")

    def make_params(self, flat_inputs):
        h, w = query_size(flat_inputs, "RandomPerspective")
        startpoints, endpoints = _v1.RandomPerspective.get_params(w, h, self.distortion_scale)
        return {"startpoints": startpoints, "endpoints": endpoints}

    def transform(self, inpt, params):
        return self._call_kernel(F.perspective, inpt, params["startpoints"],
                                 params["endpoints"], self.interpolation,
                                 _fill_for(self.fill, inpt))


class Grayscale(Transform):
    """Convert the images to grayscale with 1 or 3 output channels.

    Raises
    ------
    ValueError
        For ``num_output_channels`` other than 1 or 3.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.Grayscale(3)(flambeau.ones(3, 2, 2)).shape
    flambeau.Size([3, 2, 2])
    """

    _v1_transform_cls = _v1_base.Grayscale

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = _v1_base.Grayscale(num_output_channels).num_output_channels

    @_color
    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, self.num_output_channels)


class _RandomImageOp(_RandomApplyTransform):
    """``_kernel`` (with the attributes named by ``_kernel_args``) run on the images with
    probability ``p``; the v1 transform checks the arguments."""

    _kernel_args: tuple[str, ...] = ()

    def _setup(self, v1):
        super().__init__(v1.p)
        for name in v1._repr_names:
            setattr(self, name, getattr(v1, name))

    @_color
    def transform(self, inpt, params):
        args = [getattr(self, name) for name in self._kernel_args]
        return self._call_kernel(type(self)._kernel, inpt, *args)


class RandomInvert(_RandomImageOp):
    """Invert the colours of the images with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandomInvert(p=1.0)(flambeau.tensor([[[0, 55]]], dtype=flambeau.uint8)).tolist()
    [[[255, 200]]]
    """

    _v1_transform_cls = _v1.RandomInvert
    _kernel = F.invert

    def __init__(self, p: float = 0.5):
        self._setup(_v1.RandomInvert(p))


class RandomPosterize(_RandomImageOp):
    """Keep the ``bits`` most significant bits of the images with probability ``p``.

    Raises
    ------
    ValueError
        For ``bits`` outside [0, 8].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> img = flambeau.tensor([[[255]]], dtype=flambeau.uint8)
    >>> v2.RandomPosterize(bits=1, p=1.0)(img).tolist()
    [[[128]]]
    """

    _v1_transform_cls = _v1.RandomPosterize
    _kernel = F.posterize
    _kernel_args = ("bits",)

    def __init__(self, bits: int, p: float = 0.5):
        self._setup(_v1.RandomPosterize(bits, p))


class RandomSolarize(_RandomImageOp):
    """Invert the pixels at or above ``threshold`` with probability ``p``.

    Raises
    ------
    ValueError
        For a negative ``threshold``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> img = flambeau.tensor([[[10, 200]]], dtype=flambeau.uint8)
    >>> v2.RandomSolarize(threshold=128, p=1.0)(img).tolist()
    [[[10, 55]]]
    """

    _v1_transform_cls = _v1.RandomSolarize
    _kernel = F.solarize
    _kernel_args = ("threshold",)

    def __init__(self, threshold: float, p: float = 0.5):
        self._setup(_v1.RandomSolarize(threshold, p))


class RandomAdjustSharpness(_RandomImageOp):
    """Adjust the sharpness of the images by ``sharpness_factor`` with probability ``p``.

    Raises
    ------
    ValueError
        For a negative ``sharpness_factor``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandomAdjustSharpness(2.0, p=1.0)(flambeau.ones(1, 3, 3)).shape
    flambeau.Size([1, 3, 3])
    """

    _v1_transform_cls = _v1.RandomAdjustSharpness
    _kernel = F.adjust_sharpness
    _kernel_args = ("sharpness_factor",)

    def __init__(self, sharpness_factor: float, p: float = 0.5):
        self._setup(_v1.RandomAdjustSharpness(sharpness_factor, p))


class RandomAutocontrast(_RandomImageOp):
    """Stretch each channel of the images to the full range with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandomAutocontrast(p=1.0)(flambeau.tensor([[[0.25, 0.5]]])).tolist()
    [[[0.0, 1.0]]]
    """

    _v1_transform_cls = _v1.RandomAutocontrast
    _kernel = F.autocontrast

    def __init__(self, p: float = 0.5):
        self._setup(_v1.RandomAutocontrast(p))


class RandomEqualize(_RandomImageOp):
    """Equalize the histogram of the (uint8) images with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> img = flambeau.tensor([[[0, 0, 0, 255]]], dtype=flambeau.uint8)
    >>> v2.RandomEqualize(p=1.0)(img).tolist()
    [[[0, 0, 0, 255]]]
    """

    _v1_transform_cls = _v1.RandomEqualize
    _kernel = F.equalize

    def __init__(self, p: float = 0.5):
        self._setup(_v1.RandomEqualize(p))


# ---------------------------------------------------------------------- autoaugment


class _AutoAugmentBase(Transform):
    """Runs a v1 policy on the one image or video of the sample; boxes and masks are refused
    (the policies' geometric ops would leave them behind), as torchvision does."""

    def _policy(self):
        raise NotImplementedError

    def forward(self, *inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs = self._needs_transform_list(flat_inputs)
        found = []
        for index, (x, need) in enumerate(zip(flat_inputs, needs, strict=True)):
            if isinstance(x, (BoundingBoxes, Mask)):
                raise TypeError(f"{type(self).__name__}: inputs of type {type(x).__name__} are "
                                "not supported")
            if need and _is_image_like(x):
                found.append(index)
        if len(found) != 1:
            raise TypeError(f"{type(self).__name__}: expected exactly one image or video in "
                            f"the sample, found {len(found)}")
        image = flat_inputs[found[0]]
        out = self._v1.forward(image)
        flat_inputs[found[0]] = F._rewrap(out, image)
        return tree_unflatten(flat_inputs, spec)

    def extra_repr(self) -> str:
        return repr(self._v1)[len(type(self).__name__) + 1:-1]


class AutoAugment(_AutoAugmentBase):
    """AutoAugment (Cubuk et al., 2019) on the sample's one image; the v1 policy's ops.

    Raises
    ------
    TypeError
        When the sample holds boxes or masks, or not exactly one image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> img = tv_tensors.Image(flambeau.zeros(3, 8, 8, dtype=flambeau.uint8))
    >>> out, label = v2.AutoAugment()(img, 3)
    >>> type(out).__name__, label
    ('Image', 3)
    """

    _v1_transform_cls = _v1_auto.AutoAugment

    def __init__(self, policy=_v1_auto.AutoAugmentPolicy.IMAGENET,
                 interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self._v1 = _v1_auto.AutoAugment(policy, interpolation, fill)
        self.policy, self.interpolation, self.fill = policy, self._v1.interpolation, fill


class RandAugment(_AutoAugmentBase):
    """RandAugment (Cubuk et al., 2020) on the sample's one image; the v1 ops.

    Raises
    ------
    TypeError
        When the sample holds boxes or masks, or not exactly one image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandAugment(num_ops=1)(flambeau.zeros(3, 8, 8, dtype=flambeau.uint8)).shape
    flambeau.Size([3, 8, 8])
    """

    _v1_transform_cls = _v1_auto.RandAugment

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation=InterpolationMode.NEAREST, fill=None):
        super().__init__()
        self._v1 = _v1_auto.RandAugment(num_ops, magnitude, num_magnitude_bins, interpolation,
                                        fill)
        self.num_ops, self.magnitude = num_ops, magnitude
        self.num_magnitude_bins, self.interpolation = num_magnitude_bins, self._v1.interpolation
        self.fill = fill


class TrivialAugmentWide(_AutoAugmentBase):
    """TrivialAugment (Müller and Hutter, 2021) on the sample's one image; the v1 ops.

    Raises
    ------
    TypeError
        When the sample holds boxes or masks, or not exactly one image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.TrivialAugmentWide()(flambeau.zeros(3, 8, 8, dtype=flambeau.uint8)).shape
    flambeau.Size([3, 8, 8])
    """

    _v1_transform_cls = _v1_auto.TrivialAugmentWide

    def __init__(self, num_magnitude_bins: int = 31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        super().__init__()
        self._v1 = _v1_auto.TrivialAugmentWide(num_magnitude_bins, interpolation, fill)
        self.num_magnitude_bins, self.interpolation = num_magnitude_bins, self._v1.interpolation
        self.fill = fill


# ----------------------------------------------------------------------------- boxes


class ClampBoundingBoxes(Transform):
    """Clamp the sample's boxes to their canvas (``clamping_mode`` as
    :func:`~.functional.clamp_bounding_boxes`; "auto" uses each boxes' own).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[-1, 2, 5, 9]], format="XYXY", canvas_size=(4, 4))
    >>> v2.ClampBoundingBoxes()(boxes).tolist()
    [[0, 2, 4, 4]]
    """

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode="auto"):
        super().__init__()
        if clamping_mode not in ("soft", "hard", "auto", None):
            raise ValueError(f"ClampBoundingBoxes: clamping_mode must be 'soft', 'hard', 'auto'"
                             f" or None, got {clamping_mode!r}")
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        return F.clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


class ConvertBoundingBoxFormat(Transform):
    """Convert the sample's boxes to ``format`` (XYXY, XYWH or CXCYWH).

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[0.0, 0.0, 4.0, 2.0]], format="XYXY",
    ...                                  canvas_size=(4, 4))
    >>> out = v2.ConvertBoundingBoxFormat("CXCYWH")(boxes)
    >>> out.tolist(), out.format.value
    ([[2.0, 1.0, 4.0, 2.0]], 'CXCYWH')
    """

    _transformed_types = (BoundingBoxes,)

    def __init__(self, format):
        super().__init__()
        self.format = _box_format(format, "ConvertBoundingBoxFormat")

    def transform(self, inpt, params):
        return F.convert_bounding_box_format(inpt, new_format=self.format)


def _default_labels(sample):
    """torchvision's heuristic: the second item of a pair, or a dict's "labels"-like key."""
    if isinstance(sample, (tuple, list)) and len(sample) > 1:
        sample = sample[1]
    if F.is_pure_tensor(sample):
        return sample
    if not isinstance(sample, dict):
        raise ValueError("the default labels_getter needs a dict, or a pair whose second item "
                         f"is a dict or a tensor; got {type(sample).__name__}. Pass "
                         "labels_getter=<callable> or None")
    keys = [k for k in sample if isinstance(k, str) and k.lower() == "labels"]
    keys = keys or [k for k in sample if isinstance(k, str) and "label" in k.lower()]
    if not keys:
        raise ValueError(f"could not find the labels among the keys {list(sample)}; pass "
                         "labels_getter=<callable>, or None when there are no labels")
    return sample[keys[0]]


def _no_labels(sample):  # a function, not a lambda: DataLoader workers pickle transforms
    return None


def _labels_getter(labels_getter, op: str):
    if labels_getter == "default":
        return _default_labels
    if callable(labels_getter):
        return labels_getter
    if labels_getter is None:
        return _no_labels
    raise ValueError(f"{op}: labels_getter must be 'default', a callable or None, got "
                     f"{labels_getter!r}")


class SanitizeBoundingBoxes(Transform):
    """Drop degenerate boxes (smaller than ``min_size`` or ``min_area``, or outside the
    canvas) with their labels and masks.

    Raises
    ------
    ValueError
        When labels and boxes differ in number, or the labels cannot be found.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 2], [1, 1, 1, 3]], format="XYXY",
    ...                                  canvas_size=(4, 4))
    >>> out = v2.SanitizeBoundingBoxes()({"boxes": boxes, "labels": flambeau.tensor([5, 6])})
    >>> out["boxes"].tolist(), out["labels"].tolist()
    ([[0, 0, 2, 2]], [5])
    """

    def __init__(self, min_size: float = 1.0, min_area: float = 1.0,
                 labels_getter="default"):
        super().__init__()
        if min_size < 1:
            raise ValueError(f"SanitizeBoundingBoxes: min_size must be >= 1, got {min_size}")
        if min_area < 1:
            raise ValueError(f"SanitizeBoundingBoxes: min_area must be >= 1, got {min_area}")
        self.min_size, self.min_area = min_size, min_area
        self.labels_getter = labels_getter
        self._get_labels = _labels_getter(labels_getter, "SanitizeBoundingBoxes")

    def forward(self, *inputs):
        sample = inputs if len(inputs) > 1 else inputs[0]
        labels = self._get_labels(sample)
        if isinstance(labels, Tensor):
            labels = (labels,)
        elif labels is not None and not (isinstance(labels, (tuple, list))
                                         and all(isinstance(x, Tensor) for x in labels)):
            raise ValueError(f"SanitizeBoundingBoxes: the labels must be a tensor, a tuple of "
                             f"tensors or None, got {type(labels).__name__}")
        flat_inputs, spec = tree_flatten(sample)
        boxes = [x for x in flat_inputs if isinstance(x, BoundingBoxes)]
        if len(boxes) != 1:
            raise ValueError(f"SanitizeBoundingBoxes: expected one BoundingBoxes in the sample, "
                             f"found {len(boxes)}")
        boxes = boxes[0]
        for label in labels or ():
            if label.shape[0] != boxes.shape[0]:
                raise ValueError(f"SanitizeBoundingBoxes: {boxes.shape[0]} boxes but labels of "
                                 f"shape {tuple(label.shape)}")
        valid = self._valid(boxes)
        label_ids = {id(x) for x in labels or ()}

        def keep(x):
            if id(x) in label_ids:
                return x[valid]
            if isinstance(x, BoundingBoxes) or (isinstance(x, Mask) and x.dim() >= 3
                                                and x.shape[0] == valid.shape[0]):
                return F._rewrap(x.as_subclass(Tensor)[valid], x)
            return x

        return tree_unflatten([keep(x) for x in flat_inputs], spec)

    def _valid(self, boxes):
        xyxy = F.convert_bounding_box_format(boxes, new_format="XYXY").as_subclass(Tensor)
        xyxy = xyxy.to(flambeau.float64)
        height, width = boxes.canvas_size
        ws, hs = xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]
        valid = (ws >= self.min_size) & (hs >= self.min_size) & (ws * hs >= self.min_area)
        valid = valid & (xyxy >= 0).all(dim=-1)
        return valid & (xyxy[:, 2] <= width) & (xyxy[:, 3] <= height)


# ---------------------------------------------------------------------- MixUp, CutMix


class _BatchMix(Transform):
    """MixUp and CutMix: a batch of images (B, C, H, W) and labels (B,) mixed with the batch
    rolled by one; the labels become one-hot and mixed in the same proportion."""

    def __init__(self, alpha: float = 1.0, num_classes=None, labels_getter="default"):
        super().__init__()
        op = type(self).__name__
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or alpha <= 0:
            raise ValueError(f"{op}: alpha must be a positive number, got {alpha!r}")
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f"{op}: num_classes must be a positive int or None, got "
                             f"{num_classes!r}")
        self.alpha, self.num_classes = float(alpha), num_classes
        self._get_labels = _labels_getter(labels_getter, op)

    def _lam(self) -> float:
        from flambeau.distributions import Beta

        conc = flambeau.tensor([self.alpha])
        return float(Beta(conc, conc).sample().item())

    def forward(self, *inputs):
        op = type(self).__name__
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(sample)
        for x in flat_inputs:
            if isinstance(x, (BoundingBoxes, Mask, _PILImage.Image)):
                raise ValueError(f"{op}: {type(x).__name__} inputs are not supported; it mixes "
                                 "batched tensor images and their labels only")
        labels = self._get_labels(sample)
        if not isinstance(labels, Tensor):
            raise ValueError(f"{op}: expected the labels to be a tensor, got "
                             f"{type(labels).__name__}")
        needs = self._needs_transform_list(flat_inputs)
        if labels.dim() == 1:
            if self.num_classes is None:
                raise ValueError(f"{op}: num_classes is needed to one-hot encode labels of "
                                 f"shape {tuple(labels.shape)}")
        elif labels.dim() != 2 or (self.num_classes is not None
                                   and labels.shape[1] != self.num_classes):
            raise ValueError(f"{op}: expected labels of shape (B,) or one-hot (B, num_classes),"
                             f" got shape {tuple(labels.shape)}")
        images = [x for x, n in zip(flat_inputs, needs, strict=True)
                  if n and x is not labels and _is_image_like(x)]
        for img in images:
            video = isinstance(img, Video)  # a batch of videos is (B, T, C, H, W)
            if img.dim() != (5 if video else 4):
                layout = "videos of shape (B, T, C, H, W)" if video else \
                    "images of shape (B, C, H, W)"
                raise ValueError(f"{op}: expected batched {layout}, got shape "
                                 f"{tuple(img.shape)}")
            if img.shape[0] != labels.shape[0]:
                raise ValueError(f"{op}: the batch holds {img.shape[0]} images but "
                                 f"{labels.shape[0]} labels")
        params = self._mix_params(images)
        lam = params["lam"]
        one_hot = labels
        if labels.dim() == 1:
            one_hot = flambeau.nn.functional.one_hot(labels.long(), self.num_classes)
        if not one_hot.is_floating_point():  # float one-hot labels keep their dtype (torch's)
            one_hot = one_hot.float()
        mixed_labels = one_hot.roll(1, 0) * (1.0 - lam) + one_hot * lam
        outputs = []
        for x, n in zip(flat_inputs, needs, strict=True):
            if x is labels:
                outputs.append(mixed_labels)
            elif n and _is_image_like(x):
                outputs.append(F._rewrap(self._mix(x.as_subclass(Tensor), params), x))
            else:
                outputs.append(x)
        return tree_unflatten(outputs, spec)


class MixUp(_BatchMix):
    """MixUp (Zhang et al., 2018): ``lam * x + (1 - lam) * x.roll(1, 0)`` with ``lam`` drawn
    from Beta(alpha, alpha), for the images and the one-hot labels of a batch.

    Raises
    ------
    ValueError
        For boxes, masks or PIL images, unbatched images, or labels that do not match.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> images, labels = flambeau.rand(4, 3, 8, 8), flambeau.tensor([0, 1, 2, 1])
    >>> images, labels = v2.MixUp(num_classes=3)(images, labels)
    >>> tuple(labels.shape), round(labels.sum().item(), 4)
    ((4, 3), 4.0)
    """

    def _mix_params(self, images):
        return {"lam": self._lam()}

    def _mix(self, x, params):
        lam = params["lam"]
        return x.roll(1, 0) * (1.0 - lam) + x * lam


class CutMix(_BatchMix):
    """CutMix (Yun et al., 2019): paste a random box of the batch rolled by one into each
    image; the labels mix by the pasted area.

    Raises
    ------
    ValueError
        For boxes, masks or PIL images, unbatched images, or labels that do not match.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> images, labels = flambeau.rand(4, 3, 8, 8), flambeau.tensor([0, 1, 2, 1])
    >>> images, labels = v2.CutMix(num_classes=3)(images, labels)
    >>> tuple(images.shape), tuple(labels.shape)
    ((4, 3, 8, 8), (4, 3))
    """

    def _mix_params(self, images):
        lam = self._lam()
        if not images:  # the box needs a size; MixUp mixes labels alone, as torchvision's
            raise TypeError("CutMix: no image or video found in the sample")
        height, width = images[0].shape[-2:]
        cx, cy = draw_int(0, width), draw_int(0, height)
        half = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(half * width), int(half * height)
        x1, y1 = max(cx - half_w, 0), max(cy - half_h, 0)
        x2, y2 = min(cx + half_w, width), min(cy + half_h, height)
        lam = 1.0 - (x2 - x1) * (y2 - y1) / float(width * height)
        return {"lam": lam, "box": (x1, y1, x2, y2)}

    def _mix(self, x, params):
        x1, y1, x2, y2 = params["box"]
        out = x.clone()
        out[..., y1:y2, x1:x2] = x.roll(1, 0)[..., y1:y2, x1:x2]
        return out

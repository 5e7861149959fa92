"""AutoAugment, RandAugment and TrivialAugmentWide: policies of the AutoAugment operations.

Every policy picks operations from one set (shears, translations, rotation, colour, contrast,
brightness, sharpness, posterize, solarize, autocontrast, equalize, invert, identity) and a
magnitude for each from a table of bins, then calls the functional transform.
"""

from __future__ import annotations

import functools
import math
import numbers
from enum import Enum

import numpy as np

import flambeau
from flambeau.vision.transforms import _color, _geometry
from flambeau.vision.transforms._base import Transform
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import draw_int, get_dimensions, is_ndarray, is_tensor

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide"]


def _is_float_image(img) -> bool:
    if is_tensor(img):
        return img.dtype.is_floating_point
    return is_ndarray(img) and img.dtype.kind == "f"


def _shear(img, magnitude, axis, interpolation, fill):
    # magnitude is the shear coefficient tan(angle); the corner (0, 0) stays in place
    angle = math.degrees(math.atan(magnitude))
    shear = [angle, 0.0] if axis == 0 else [0.0, angle]
    return _geometry.affine(img, 0.0, [0, 0], 1.0, shear, interpolation, fill, center=[0, 0])


def _translate(img, magnitude, axis, interpolation, fill):
    shift = [int(magnitude), 0] if axis == 0 else [0, int(magnitude)]
    return _geometry.affine(img, 0.0, shift, 1.0, [0.0, 0.0], interpolation, fill)


def _solarize(img, magnitude):
    # thresholds are on the uint8 scale; float images in [0, 1] use the same fraction
    return _color.solarize(img, magnitude / 255.0 if _is_float_image(img) else magnitude)


# name -> f(img, magnitude, interpolation, fill), torchvision's operation names
_OPS = {
    "Identity": lambda img, m, i, f: img,
    "ShearX": lambda img, m, i, f: _shear(img, m, 0, i, f),
    "ShearY": lambda img, m, i, f: _shear(img, m, 1, i, f),
    "TranslateX": lambda img, m, i, f: _translate(img, m, 0, i, f),
    "TranslateY": lambda img, m, i, f: _translate(img, m, 1, i, f),
    "Rotate": lambda img, m, i, f: _geometry.rotate(img, m, i, fill=f),
    "Brightness": lambda img, m, i, f: _color.adjust_brightness(img, 1.0 + m),
    "Color": lambda img, m, i, f: _color.adjust_saturation(img, 1.0 + m),
    "Contrast": lambda img, m, i, f: _color.adjust_contrast(img, 1.0 + m),
    "Sharpness": lambda img, m, i, f: _color.adjust_sharpness(img, 1.0 + m),
    "Posterize": lambda img, m, i, f: _color.posterize(img, int(m)),
    "Solarize": lambda img, m, i, f: _solarize(img, m),
    "AutoContrast": lambda img, m, i, f: _color.autocontrast(img),
    "Equalize": lambda img, m, i, f: _color.equalize(img),
    "Invert": lambda img, m, i, f: _color.invert(img),
}


def _apply_op(img, name: str, magnitude: float, interpolation, fill):
    if name not in _OPS:
        raise ValueError(f"AutoAugment: unknown operation {name!r}; expected one of "
                         f"{sorted(_OPS)}")
    return _OPS[name](img, magnitude, interpolation, fill)


@functools.lru_cache(maxsize=64)
def _magnitude_space(num_bins: int, shear: float, translate: tuple[float, float],
                     rotate: float, enhance: float, posterize_steps: int) -> dict:
    """``{name: (magnitudes or None, signed)}``: the bins of each operation, in order.

    ``translate`` is the largest (x, y) shift, ``posterize_steps`` how many bits the last bin
    drops; solarize thresholds run from 255 down to 0. Cached (a dataset's images share one
    size), so the table is shared: callers copy the dict and never modify it.
    """
    def linear(top):
        return np.linspace(0.0, top, num_bins).tolist()

    bits = 8 - np.round(np.arange(num_bins) / ((num_bins - 1) / posterize_steps))
    return {
        "ShearX": (linear(shear), True),
        "ShearY": (linear(shear), True),
        "TranslateX": (linear(translate[0]), True),
        "TranslateY": (linear(translate[1]), True),
        "Rotate": (linear(rotate), True),
        "Brightness": (linear(enhance), True),
        "Color": (linear(enhance), True),
        "Contrast": (linear(enhance), True),
        "Sharpness": (linear(enhance), True),
        "Posterize": (bits.astype(int).tolist(), False),
        "Solarize": (np.linspace(255.0, 0.0, num_bins).tolist(), False),
        "AutoContrast": (None, False),
        "Equalize": (None, False),
    }


def _size_space(num_bins: int, image_size) -> dict:
    """AutoAugment's and RandAugment's ranges; translations scale with ``(height, width)``."""
    height, width = image_size
    return _magnitude_space(num_bins, 0.3, (150.0 / 331.0 * width, 150.0 / 331.0 * height),
                            30.0, 0.9, 4)


def _check_int(value, op: str, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{op}: {name} must be at least {low}, got {value}")
    return int(value)


class AutoAugmentPolicy(Enum):
    """The AutoAugment policies learned on ImageNet, CIFAR-10 and SVHN.

    Examples
    --------
    >>> from flambeau.vision.transforms import AutoAugmentPolicy
    >>> AutoAugmentPolicy("cifar10")
    <AutoAugmentPolicy.CIFAR10: 'cifar10'>
    """

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


# (operation, probability, magnitude bin) pairs: the sub-policies of Cubuk et al. (2019)
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    AutoAugmentPolicy.CIFAR10: [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    AutoAugmentPolicy.SVHN: [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


class _Augment(Transform):
    """What the policies share: interpolation, fill, and running one operation at a bin."""

    def __init__(self, interpolation, fill):
        self.interpolation = _interp(interpolation, type(self).__name__)
        self.fill = fill

    def _run(self, img, name: str, magnitudes, level, negate: bool):
        """Apply ``name`` at bin ``level`` of ``magnitudes`` (0 without bins), negated when
        ``negate`` (the caller draws it for signed operations only)."""
        magnitude = 0.0 if magnitudes is None or level is None else float(magnitudes[level])
        return _apply_op(img, name, -magnitude if negate else magnitude, self.interpolation,
                         self.fill)


class AutoAugment(_Augment):
    """AutoAugment (Cubuk et al., 2019): one of 25 learned sub-policies of two operations.

    Each call picks a sub-policy at random; each of its two operations runs with its own
    probability, at its fixed magnitude bin (one of 10), with a random sign for signed
    operations.

    Tensors and NumPy arrays must have 1 or 3 channels and be uint8 or floating point in
    [0, 1] (for float images the solarize thresholds are scaled by 1/255, and posterize and
    equalize follow torchvision's v2 rules); PIL images must have mode L or RGB. The output
    has the input's kind, shape and dtype.

    Parameters
    ----------
    policy : AutoAugmentPolicy
        The policy learned on IMAGENET (default), CIFAR10 or SVHN.
    interpolation : InterpolationMode
        For the geometric operations; default NEAREST (NEAREST or BILINEAR for tensors).
    fill : number or sequence, optional
        Value for areas outside the transformed image (default 0).

    Raises
    ------
    ValueError
        For an unknown policy.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> augment = T.AutoAugment(T.AutoAugmentPolicy.CIFAR10)
    >>> augment
    AutoAugment(policy=AutoAugmentPolicy.CIFAR10, fill=None)
    >>> images = flambeau.randint(0, 256, (2, 3, 8, 8), dtype=flambeau.uint8)
    >>> out = augment(images)
    >>> out.shape, out.dtype
    (flambeau.Size([2, 3, 8, 8]), flambeau.uint8)
    """

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET,
                 interpolation=InterpolationMode.NEAREST, fill=None):
        try:
            policy = AutoAugmentPolicy(policy)
        except ValueError:
            raise ValueError(f"AutoAugment: unknown policy {policy!r}; expected one of "
                             f"{[p.name for p in AutoAugmentPolicy]}") from None
        super().__init__(interpolation, fill)
        self.policy = policy
        self.policies = list(_POLICIES[policy])

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        """``{name: (magnitudes or None, signed)}`` for an image of size ``(height, width)``."""
        return {**_size_space(num_bins, image_size), "Invert": (None, False)}

    @staticmethod
    def get_params(transform_num: int):
        """``(policy_id, probs, signs)``: a sub-policy index, 2 uniform draws and 2 coin flips.

        An operation runs when its draw is at most its probability; a signed magnitude is
        negated when its coin is 0.
        """
        policy_id = draw_int(0, transform_num)
        return policy_id, flambeau.rand(2), flambeau.randint(0, 2, (2,))

    def forward(self, img):
        _, height, width = get_dimensions(img)
        policy_id, probs, signs = self.get_params(len(self.policies))
        space = self._augmentation_space(10, (height, width))
        for (name, p, level), prob, sign in zip(self.policies[policy_id], probs.tolist(),
                                                signs.tolist(), strict=True):
            if prob <= p:
                magnitudes, signed = space[name]
                img = self._run(img, name, magnitudes, level, signed and sign == 0)
        return img

    def __repr__(self):
        return f"AutoAugment(policy={self.policy}, fill={self.fill})"


class RandAugment(_Augment):
    """RandAugment (Cubuk et al., 2020): ``num_ops`` random operations at one magnitude.

    Each operation is drawn uniformly from 14 (identity, shears, translations, rotation,
    brightness, colour, contrast, sharpness, posterize, solarize, autocontrast, equalize), at
    bin ``magnitude`` of ``num_magnitude_bins``, with a random sign for signed operations.

    Tensors and NumPy arrays must have 1 or 3 channels and be uint8 or floating point in
    [0, 1] (for float images the solarize thresholds are scaled by 1/255, and posterize and
    equalize follow torchvision's v2 rules); PIL images must have mode L or RGB. The output
    has the input's kind, shape and dtype.

    Parameters
    ----------
    num_ops : int
        Number of operations applied one after the other; default 2.
    magnitude : int
        The magnitude bin, in ``[0, num_magnitude_bins)``; default 9.
    num_magnitude_bins : int
        Number of bins spanning each operation's range (at least 2); default 31.
    interpolation : InterpolationMode
        For the geometric operations; default NEAREST (NEAREST or BILINEAR for tensors).
    fill : number or sequence, optional
        Value for areas outside the transformed image (default 0).

    Raises
    ------
    ValueError
        For a negative ``num_ops``, fewer than 2 bins or a ``magnitude`` outside the bins.
    TypeError
        When one of them is not an int.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> augment = T.RandAugment(num_ops=3)
    >>> augment  # doctest: +ELLIPSIS
    RandAugment(num_ops=3, magnitude=9, num_magnitude_bins=31, interpolation=..., fill=None)
    >>> augment(Image.new("RGB", (8, 6))).size
    (8, 6)
    """

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation=InterpolationMode.NEAREST, fill=None):
        self.num_ops = _check_int(num_ops, "RandAugment", "num_ops", 0)
        self.num_magnitude_bins = _check_int(num_magnitude_bins, "RandAugment",
                                             "num_magnitude_bins", 2)
        self.magnitude = _check_int(magnitude, "RandAugment", "magnitude", 0)
        if self.magnitude >= self.num_magnitude_bins:
            raise ValueError(f"RandAugment: magnitude must be a bin in [0, "
                             f"{self.num_magnitude_bins}), got {magnitude}")
        super().__init__(interpolation, fill)

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        """``{name: (magnitudes or None, signed)}`` for an image of size ``(height, width)``."""
        return {"Identity": (None, False), **_size_space(num_bins, image_size)}

    def forward(self, img):
        _, height, width = get_dimensions(img)
        space = self._augmentation_space(self.num_magnitude_bins, (height, width))
        names = list(space)
        for _ in range(self.num_ops):
            name = names[draw_int(0, len(names))]
            magnitudes, signed = space[name]
            img = self._run(img, name, magnitudes, self.magnitude, signed and draw_int(0, 2))
        return img

    def __repr__(self):
        return (f"RandAugment(num_ops={self.num_ops}, magnitude={self.magnitude}, "
                f"num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class TrivialAugmentWide(_Augment):
    """TrivialAugment Wide (Müller and Hutter, 2021): one random operation, random magnitude.

    The operation is drawn uniformly from the 14 of :class:`RandAugment` (with wider
    ranges: shear 0.99, translation 32 pixels, rotation 135 degrees, enhancements 0.99), its
    magnitude bin uniformly from ``num_magnitude_bins``, and its sign by a coin flip.

    Tensors and NumPy arrays must have 1 or 3 channels and be uint8 or floating point in
    [0, 1] (for float images the solarize thresholds are scaled by 1/255, and posterize and
    equalize follow torchvision's v2 rules); PIL images must have mode L or RGB. The output
    has the input's kind, shape and dtype.

    Parameters
    ----------
    num_magnitude_bins : int
        Number of bins spanning each operation's range (at least 2); default 31.
    interpolation : InterpolationMode
        For the geometric operations; default NEAREST (NEAREST or BILINEAR for tensors).
    fill : number or sequence, optional
        Value for areas outside the transformed image (default 0).

    Raises
    ------
    ValueError
        For fewer than 2 bins.
    TypeError
        When ``num_magnitude_bins`` is not an int.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> augment = T.TrivialAugmentWide()
    >>> augment
    TrivialAugmentWide(num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None)
    >>> augment(flambeau.rand(3, 8, 8)).dtype
    flambeau.float32
    """

    def __init__(self, num_magnitude_bins: int = 31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        self.num_magnitude_bins = _check_int(num_magnitude_bins, "TrivialAugmentWide",
                                             "num_magnitude_bins", 2)
        super().__init__(interpolation, fill)

    def _augmentation_space(self, num_bins: int) -> dict:
        """``{name: (magnitudes or None, signed)}`` (the ranges do not depend on the size)."""
        return {"Identity": (None, False),
                **_magnitude_space(num_bins, 0.99, (32.0, 32.0), 135.0, 0.99, 6)}

    def forward(self, img):
        space = self._augmentation_space(self.num_magnitude_bins)
        names = list(space)
        name = names[draw_int(0, len(names))]
        magnitudes, signed = space[name]
        level = None if magnitudes is None else draw_int(0, len(magnitudes))
        return self._run(img, name, magnitudes, level, signed and draw_int(0, 2))

    def __repr__(self):
        return (f"TrivialAugmentWide(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")

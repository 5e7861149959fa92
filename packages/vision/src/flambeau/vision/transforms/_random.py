"""Random transforms; parameters are drawn from flambeau's default generator."""

from __future__ import annotations

import math
import numbers

import flambeau
from flambeau.vision.transforms import _color, _convert, _geometry
from flambeau.vision.transforms._base import Transform, _size_pair
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import (
    draw_coin,
    draw_int,
    draw_uniform,
    get_dimensions,
    is_tensor,
)

__all__ = ["RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomRotation", "RandomAffine", "ColorJitter", "RandomGrayscale", "GaussianBlur",
           "RandomErasing"]


def _range(value, op: str, name: str, center: float = 0.0, bound=None):
    """A number ``v`` becomes ``(center - v, center + v)``; a pair is checked."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{op}: {name} must be non-negative when a single number, "
                             f"got {value}")
        low, high = center - value, center + value
        if bound is not None:
            low = max(low, bound[0])
    else:
        value = [float(v) for v in value]
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be a number or a pair, got {value}")
        low, high = value
    if low > high or (bound is not None and not bound[0] <= low <= high <= bound[1]):
        raise ValueError(f"{op}: {name} range {[low, high]} must be increasing"
                         + (f" and within {list(bound)}" if bound is not None else ""))
    return [float(low), float(high)]


class RandomCrop(Transform):
    """Crop a random box of ``size`` (after optional padding).

    Parameters
    ----------
    size : int or (int, int)
    padding : int or sequence, optional
        Padding applied first (see :class:`Pad`).
    pad_if_needed : bool
        Pad images smaller than ``size`` instead of raising.
    fill, padding_mode
        As for :class:`Pad`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomCrop(2, padding=1)(flambeau.ones(1, 4, 4)).shape
    flambeau.Size([1, 2, 2])
    """

    _repr_names = ("size", "padding")

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = _size_pair(size, "RandomCrop")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """``(top, left, height, width)`` of a random crop of ``output_size``."""
        _, h, w = get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: crop size {(th, tw)} is larger than the input "
                             f"image size {(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        return draw_int(0, h - th + 1), draw_int(0, w - tw + 1), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = _geometry.pad(img, self.padding, self.fill, self.padding_mode)
        _, h, w = get_dimensions(img)
        th, tw = self.size
        if self.pad_if_needed and (w < tw or h < th):
            img = _geometry.pad(img, [max(tw - w, 0), max(th - h, 0)], self.fill,
                                self.padding_mode)
        top, left, height, width = self.get_params(img, self.size)
        return _geometry.crop(img, top, left, height, width)


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize to ``size`` (Inception-style).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.RandomResizedCrop(4)(Image.new("RGB", (10, 8))).size
    (4, 4)
    """

    _repr_names = ("size", "scale", "ratio", "interpolation", "antialias")

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = _size_pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio must be (min, max), got "
                             f"{scale} and {ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = _interp(interpolation, "RandomResizedCrop")
        self.antialias = antialias

    @staticmethod
    def get_params(img, scale, ratio):
        """``(top, left, height, width)`` of a random crop (ten tries, then a centre crop)."""
        _, height, width = get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * draw_uniform(scale[0], scale[1])
            aspect = math.exp(draw_uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return draw_int(0, height - h + 1), draw_int(0, width - w + 1), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return _geometry.resized_crop(img, top, left, h, w, list(self.size),
                                      self.interpolation, self.antialias)


class RandomHorizontalFlip(Transform):
    """Flip left-right with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomHorizontalFlip(p=1.0)(flambeau.tensor([[[1, 2]]])).tolist()
    [[[2, 1]]]
    """

    _repr_names = ("p",)

    def __init__(self, p: float = 0.5):
        self.p = p

    def forward(self, img):
        return _geometry.hflip(img) if draw_coin(self.p) else img


class RandomVerticalFlip(Transform):
    """Flip top-bottom with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomVerticalFlip(p=1.0)(flambeau.tensor([[[1], [2]]])).tolist()
    [[[2], [1]]]
    """

    _repr_names = ("p",)

    def __init__(self, p: float = 0.5):
        self.p = p

    def forward(self, img):
        return _geometry.vflip(img) if draw_coin(self.p) else img


class RandomRotation(Transform):
    """Rotate by an angle drawn from ``degrees`` (counter-clockwise).

    Parameters
    ----------
    degrees : float or (float, float)
        ``d`` means (-d, d).
    interpolation, expand, center, fill
        As for :func:`~flambeau.vision.transforms.functional.rotate`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomRotation((90, 90))(flambeau.tensor([[[1, 2], [3, 4]]])).tolist()
    [[[2, 4], [1, 3]]]
    """

    _repr_names = ("degrees", "interpolation", "expand", "fill")

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        self.degrees = _range(degrees, "RandomRotation", "degrees")
        self.interpolation = _interp(interpolation, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees) -> float:
        """A random angle from ``degrees``."""
        return draw_uniform(degrees[0], degrees[1])

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return _geometry.rotate(img, angle, self.interpolation, self.expand, self.center,
                                self.fill)


class RandomAffine(Transform):
    """Random rotation (clockwise), translation, scale and shear, keeping the centre.

    Parameters
    ----------
    degrees : float or (float, float)
    translate : (float, float), optional
        Maximum fractions of the width and height to shift by.
    scale : (float, float), optional
        Range of scale factors.
    shear : float or 2 or 4 floats, optional
        x shear range (``s`` means (-s, s)), and optionally a y range.
    interpolation, fill, center
        As for :func:`~flambeau.vision.transforms.functional.affine`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomAffine(0, translate=(0.5, 0.0))(flambeau.ones(1, 4, 4)).shape
    flambeau.Size([1, 4, 4])
    """

    _repr_names = ("degrees", "translate", "scale", "shear", "interpolation", "fill")

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        self.degrees = _range(degrees, "RandomAffine", "degrees")
        if translate is not None and (len(translate) != 2 or
                                      not all(0.0 <= t <= 1.0 for t in translate)):
            raise ValueError(f"RandomAffine: translate must be 2 fractions in [0, 1], got "
                             f"{translate}")
        if scale is not None and (len(scale) != 2 or scale[0] <= 0 or scale[0] > scale[1]):
            raise ValueError(f"RandomAffine: scale must be (min, max) with 0 < min <= max, got "
                             f"{scale}")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _range(shear, "RandomAffine", "shear")
            elif len(shear) not in (2, 4):
                raise ValueError(f"RandomAffine: shear must be a number or 2 or 4 values, got "
                                 f"{shear}")
            shear = [float(s) for s in shear]
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation = _interp(interpolation, "RandomAffine")
        self.fill, self.center = fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))``; ``img_size`` is (width, height)."""
        angle = draw_uniform(degrees[0], degrees[1])
        tx = ty = 0
        if translate is not None:
            max_dx, max_dy = translate[0] * img_size[0], translate[1] * img_size[1]
            tx = int(round(draw_uniform(-max_dx, max_dx)))
            ty = int(round(draw_uniform(-max_dy, max_dy)))
        scale = 1.0 if scale_ranges is None else draw_uniform(*scale_ranges)
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = draw_uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = draw_uniform(shears[2], shears[3])
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def forward(self, img):
        _, h, w = get_dimensions(img)
        angle, translate, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, [w, h])
        return _geometry.affine(img, angle, translate, scale, shear, self.interpolation,
                                self.fill, self.center)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, applied in random order.

    Parameters
    ----------
    brightness, contrast, saturation : float or (float, float)
        ``v`` means factors in ``[max(0, 1 - v), 1 + v]``.
    hue : float or (float, float)
        ``v`` means shifts in ``[-v, v]``, within [-0.5, 0.5].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> out = T.ColorJitter(brightness=0.5)(flambeau.full((3, 2, 2), 0.5))
    >>> bool(((out >= 0.25) & (out <= 0.75)).all())
    True
    """

    _repr_names = ("brightness", "contrast", "saturation", "hue")

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._factor(brightness, "brightness")
        self.contrast = self._factor(contrast, "contrast")
        self.saturation = self._factor(saturation, "saturation")
        self.hue = self._factor(hue, "hue")

    @staticmethod
    def _factor(value, name):
        if name == "hue":
            rng = _range(value, "ColorJitter", name, 0.0, (-0.5, 0.5))
            return None if rng == [0.0, 0.0] else rng
        rng = _range(value, "ColorJitter", name, 1.0, (0.0, float("inf")))
        return None if rng == [1.0, 1.0] else rng

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """A random order of the four adjustments and their factors (None: skipped)."""
        order = flambeau.randperm(4).tolist()
        factors = [None if r is None else draw_uniform(r[0], r[1])
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def forward(self, img):
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation,
                                            self.hue)
        adjust = (_color.adjust_brightness, _color.adjust_contrast, _color.adjust_saturation,
                  _color.adjust_hue)
        factors = (b, c, s, h)
        for i in order:
            if factors[i] is not None:
                img = adjust[i](img, factors[i])
        return img


class RandomGrayscale(Transform):
    """Convert to grayscale with probability ``p``, keeping the number of channels.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.RandomGrayscale(p=1.0)(Image.new("RGB", (1, 1), (255, 0, 0))).getpixel((0, 0))
    (76, 76, 76)
    """

    _repr_names = ("p",)

    def __init__(self, p: float = 0.1):
        self.p = p

    def forward(self, img):
        channels = get_dimensions(img)[0]
        if draw_coin(self.p):
            return _color.rgb_to_grayscale(img, num_output_channels=channels)
        return img


class GaussianBlur(Transform):
    """Gaussian blur with a standard deviation drawn from ``sigma``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.GaussianBlur(3, sigma=(0.5, 1.0))(flambeau.ones(1, 4, 4)).shape
    flambeau.Size([1, 4, 4])
    """

    _repr_names = ("kernel_size", "sigma")

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _size_pair(kernel_size, "GaussianBlur")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError(f"GaussianBlur: kernel_size must be odd and positive, got "
                             f"{self.kernel_size}")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError(f"GaussianBlur: sigma must be positive, got {sigma}")
            sigma = (float(sigma), float(sigma))
        if len(sigma) != 2 or not 0 < sigma[0] <= sigma[1]:
            raise ValueError(f"GaussianBlur: sigma must be (min, max) with 0 < min <= max, got "
                             f"{sigma}")
        self.sigma = tuple(sigma)

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """A random standard deviation."""
        return draw_uniform(sigma_min, sigma_max)

    def forward(self, img):
        s = self.get_params(*self.sigma)
        return _color.gaussian_blur(img, self.kernel_size, [s, s])


class RandomErasing(Transform):
    """Erase a random box of a tensor image with probability ``p`` (Zhong et al., 2017).

    Parameters
    ----------
    p : float
    scale : (float, float)
        Range of the erased area as a fraction of the image.
    ratio : (float, float)
        Range of the box's aspect ratio.
    value : number, sequence or "random"
        The fill: one value, one per channel, or standard-normal noise.
    inplace : bool

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> out = T.RandomErasing(p=1.0, scale=(0.25, 0.25), ratio=(1, 1))(flambeau.ones(1, 4, 4))
    >>> int((out == 0).sum())
    4
    """

    _repr_names = ("p", "scale", "ratio", "value", "inplace")

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: p must be in [0, 1], got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"RandomErasing: scale must be (min, max) in [0, 1] and ratio "
                             f"(min, max), got {scale} and {ratio}")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"RandomErasing: value must be a number, a sequence or 'random', "
                             f"got {value!r}")
        self.p, self.scale, self.ratio = p, tuple(scale), tuple(ratio)
        self.value, self.inplace = value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """``(i, j, h, w, v)``; the whole image and itself when no box fits in ten tries."""
        channels, height, width = img.shape[-3], img.shape[-2], img.shape[-1]
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * draw_uniform(scale[0], scale[1])
            aspect = math.exp(draw_uniform(*log_ratio))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            if value is None:
                v = flambeau.randn(channels, h, w, dtype=img.dtype, device=img.device)
            else:
                v = flambeau.as_tensor(value, dtype=img.dtype, device=img.device)
                v = v.reshape(-1, 1, 1)
            return draw_int(0, height - h + 1), draw_int(0, width - w + 1), h, w, v
        return 0, 0, height, width, img

    def forward(self, img):
        if not is_tensor(img):
            raise TypeError(f"RandomErasing: expected a tensor image, got {type(img).__name__}; "
                            "put it after ToTensor")
        if not draw_coin(self.p):
            return img
        channels = img.shape[-3]
        value = None if self.value == "random" else self.value
        if value is not None and not isinstance(value, numbers.Number):
            value = list(value)
            if len(value) not in (1, channels):
                raise ValueError(f"RandomErasing: value has {len(value)} entries for an image "
                                 f"with {channels} channels")
        i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return _convert.erase(img, i, j, h, w, v, self.inplace)

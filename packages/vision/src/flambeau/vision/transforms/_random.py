"""Random transforms; parameters are drawn from flambeau's default generator."""

from __future__ import annotations

import bisect
import itertools
import math
import numbers

import flambeau
from flambeau.vision.transforms import _color, _convert, _geometry
from flambeau.vision.transforms._base import Transform, _callables, _list_repr, _size_pair
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import (
    draw_coin,
    draw_int,
    draw_uniform,
    get_dimensions,
    is_tensor,
)

__all__ = ["RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomResizedCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
           "RandomPerspective", "ColorJitter", "RandomGrayscale", "GaussianBlur",
           "RandomErasing", "RandomInvert", "RandomPosterize", "RandomSolarize",
           "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize"]


def _check_p(p, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number in [0, 1], got {type(p).__name__}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    return p


class _RandomlyApplied(Transform):
    """Apply ``_apply`` with probability ``p`` (checked to be a number in [0, 1])."""

    _repr_names = ("p",)
    _repr_sep = ","  # torchvision prints the AutoAugment-op classes without a space

    def __init__(self, p: float = 0.5):
        self.p = _check_p(p, type(self).__name__)

    def _apply(self, img):
        raise NotImplementedError

    def forward(self, img):
        return self._apply(img) if draw_coin(self.p) else img


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


class _RandomTransforms(Transform):
    """A list of transforms applied with some randomness; torchvision's repr."""

    def __init__(self, transforms):
        self.transforms = _callables(transforms, type(self).__name__)

    def _repr_header(self) -> str:
        return ""

    def __repr__(self):
        return _list_repr(type(self).__name__, self.transforms, self._repr_header())


class RandomApply(_RandomTransforms):
    """Apply a list of transforms, in order, with probability ``p`` (all or none).

    Parameters
    ----------
    transforms : sequence of callables
    p : float
        Probability of applying them, in [0, 1]; default 0.5.

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables, or ``p`` not a number.
    ValueError
        For ``p`` outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> darken = T.RandomApply([T.Lambda(lambda x: x / 2), T.Lambda(lambda x: x - 1)], p=1.0)
    >>> darken(flambeau.tensor([4.0]))
    tensor([1.])
    >>> T.RandomApply([T.RandomInvert(p=1.0)], p=0.3)
    RandomApply(
        p=0.3
        RandomInvert(p=1.0)
    )
    """

    def __init__(self, transforms, p: float = 0.5):
        super().__init__(transforms)
        self.p = _check_p(p, "RandomApply")

    def _repr_header(self) -> str:
        return f"\n    p={self.p}"

    def forward(self, img):
        if not draw_coin(self.p):
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(_RandomTransforms):
    """Apply one transform picked at random from a list (weighted by ``p`` if given).

    Parameters
    ----------
    transforms : sequence of callables
    p : sequence of float, optional
        Relative weights of the transforms (need not sum to 1); default uniform.

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables, or ``p`` not a sequence.
    ValueError
        When ``p`` has another length than ``transforms``, a negative weight, or sums to 0.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> flip_only = T.RandomChoice([T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0)],
    ...                            p=[1.0, 0.0])
    >>> flip_only(flambeau.tensor([[[1, 2], [3, 4]]])).tolist()
    [[[2, 1], [4, 3]]]
    """

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None:
            if isinstance(p, (str, bytes)) or not hasattr(p, "__len__"):
                raise TypeError(f"RandomChoice: p must be a sequence of weights, got "
                                f"{type(p).__name__}")
            try:
                weights = [float(w) for w in p]
            except (TypeError, ValueError):
                raise TypeError(f"RandomChoice: the weights p must be numbers, got "
                                f"{list(p)}") from None
            if len(weights) != len(self.transforms):
                raise ValueError(f"RandomChoice: p has {len(weights)} weights for "
                                 f"{len(self.transforms)} transforms")
            if any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"RandomChoice: the weights p must be non-negative with a "
                                 f"positive sum, got {list(p)}")
        self.p = p

    def _pick(self) -> int:
        if self.p is None:
            return draw_int(0, len(self.transforms))
        cumulative = list(itertools.accumulate(float(w) for w in self.p))
        u = draw_uniform(0.0, cumulative[-1])
        return min(bisect.bisect_right(cumulative, u), len(cumulative) - 1)

    def forward(self, img):
        return self.transforms[self._pick()](img)

    def __call__(self, *args):
        # as torchvision's: every argument goes to the transform picked
        return self.transforms[self._pick()](*args)

    def __repr__(self):
        return f"{super().__repr__()}(p={self.p})"  # torchvision's spelling


class RandomOrder(_RandomTransforms):
    """Apply a list of transforms in a random order.

    Parameters
    ----------
    transforms : sequence of callables

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> both = T.RandomOrder([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)])
    >>> float(both(flambeau.tensor(1.0))) in (3.0, 4.0)
    True
    """

    def forward(self, img):
        for i in flambeau.randperm(len(self.transforms)).tolist():
            img = self.transforms[i](img)
        return img


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


class RandomHorizontalFlip(_RandomlyApplied):
    """Flip left-right with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomHorizontalFlip(p=1.0)(flambeau.tensor([[[1, 2]]])).tolist()
    [[[2, 1]]]
    """

    def _apply(self, img):
        return _geometry.hflip(img)


class RandomVerticalFlip(_RandomlyApplied):
    """Flip top-bottom with probability ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomVerticalFlip(p=1.0)(flambeau.tensor([[[1], [2]]])).tolist()
    [[[2], [1]]]
    """

    def _apply(self, img):
        return _geometry.vflip(img)


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


class RandomPerspective(_RandomlyApplied):
    """Perspective warp with probability ``p``: each corner moves inwards at random.

    Parameters
    ----------
    distortion_scale : float
        In [0, 1]: how far the corners may move, as a fraction of half the image size;
        default 0.5.
    p : float
        Probability of warping; default 0.5.
    interpolation : InterpolationMode
        Default BILINEAR (NEAREST or BILINEAR for arrays and tensors).
    fill : number or sequence
        Value for areas outside the input; default 0.

    Raises
    ------
    ValueError
        For ``distortion_scale`` or ``p`` outside [0, 1].
    TypeError
        When either is not a number.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomPerspective(p=1.0)(flambeau.ones(3, 8, 8)).shape
    flambeau.Size([3, 8, 8])
    >>> T.RandomPerspective()
    RandomPerspective(p=0.5)
    """

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0):
        if isinstance(distortion_scale, bool) or not isinstance(distortion_scale, numbers.Real):
            raise TypeError(f"RandomPerspective: distortion_scale must be a number in [0, 1], "
                            f"got {type(distortion_scale).__name__}")
        if not 0 <= distortion_scale <= 1:
            raise ValueError(f"RandomPerspective: distortion_scale must be in [0, 1], got "
                             f"{distortion_scale}")
        self.distortion_scale = distortion_scale
        super().__init__(p)
        self.interpolation = _interp(interpolation, "RandomPerspective")
        self.fill = fill

    @staticmethod
    def get_params(width: int, height: int, distortion_scale: float):
        """``(startpoints, endpoints)``: the image corners and where they go (tl, tr, br, bl)."""
        dx = int(distortion_scale * (width // 2))
        dy = int(distortion_scale * (height // 2))

        def near(reach):  # a coordinate in [0, reach]
            return draw_int(0, reach + 1)

        def far(size, reach):  # a coordinate in [size - 1 - reach, size - 1]
            return draw_int(size - reach - 1, size)

        top_left = [near(dx), near(dy)]
        top_right = [far(width, dx), near(dy)]
        bottom_right = [far(width, dx), far(height, dy)]
        bottom_left = [near(dx), far(height, dy)]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, [top_left, top_right, bottom_right, bottom_left]

    def _apply(self, img):
        _, height, width = get_dimensions(img)
        startpoints, endpoints = self.get_params(width, height, self.distortion_scale)
        return _geometry.perspective(img, startpoints, endpoints, self.interpolation,
                                     self.fill)


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


def _erase_value(value, channels: int):
    """RandomErasing's ``value`` checked against the image: None for "random" noise."""
    if value == "random":
        return None
    if not isinstance(value, numbers.Number):
        value = list(value)
        if len(value) not in (1, channels):
            raise ValueError(f"RandomErasing: value has {len(value)} entries for an image "
                             f"with {channels} channels")
    return value


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
        _check_p(p, "RandomErasing")
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
        value = _erase_value(self.value, img.shape[-3])
        i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return _convert.erase(img, i, j, h, w, v, self.inplace)


class RandomInvert(_RandomlyApplied):
    """Invert the colours with probability ``p`` (see :func:`~.functional.invert`).

    Parameters
    ----------
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    TypeError, ValueError
        For a ``p`` that is not a number in [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomInvert(p=1.0)(flambeau.tensor([[[0, 55]]], dtype=flambeau.uint8)).tolist()
    [[[255, 200]]]
    >>> T.RandomInvert()
    RandomInvert(p=0.5)
    """

    def _apply(self, img):
        return _color.invert(img)


class RandomPosterize(_RandomlyApplied):
    """Keep the ``bits`` most significant bits with probability ``p``.

    See :func:`~.functional.posterize`.

    Parameters
    ----------
    bits : int
        Between 0 and 8.
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    ValueError
        For ``bits`` outside [0, 8] or ``p`` outside [0, 1].
    TypeError
        For a non-integer ``bits`` or a non-number ``p``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomPosterize(1, p=1.0)(flambeau.tensor([[[100, 200]]], dtype=flambeau.uint8))
    tensor([[[  0, 128]]], dtype=flambeau.uint8)
    >>> T.RandomPosterize(bits=2)
    RandomPosterize(bits=2,p=0.5)
    """

    _repr_names = ("bits", "p")

    def __init__(self, bits: int, p: float = 0.5):
        _color._check_bits(bits, "RandomPosterize")
        super().__init__(p)
        self.bits = bits

    def _apply(self, img):
        return _color.posterize(img, self.bits)


class RandomSolarize(_RandomlyApplied):
    """Invert the pixels at or above ``threshold`` with probability ``p``.

    See :func:`~.functional.solarize`.

    Parameters
    ----------
    threshold : float
        In the images' value range (at most 255 for uint8, 1.0 for floats).
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    TypeError
        For a non-number ``threshold`` or ``p``.
    ValueError
        For ``p`` outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomSolarize(0.5, p=1.0)(flambeau.tensor([[[0.25, 0.75]]]))
    tensor([[[0.2500, 0.2500]]])
    >>> T.RandomSolarize(threshold=192.0)
    RandomSolarize(threshold=192.0,p=0.5)
    """

    _repr_names = ("threshold", "p")

    def __init__(self, threshold: float, p: float = 0.5):
        _color._check_threshold(threshold, "RandomSolarize")
        super().__init__(p)
        self.threshold = threshold

    def _apply(self, img):
        return _color.solarize(img, self.threshold)


class RandomAdjustSharpness(_RandomlyApplied):
    """Adjust the sharpness by ``sharpness_factor`` with probability ``p``.

    See :func:`~.functional.adjust_sharpness`.

    Parameters
    ----------
    sharpness_factor : float
        Non-negative: 0 blurs, 1 keeps the image, 2 doubles the sharpness.
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    ValueError
        For a negative ``sharpness_factor`` or ``p`` outside [0, 1].

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.RandomAdjustSharpness(2.0, p=1.0)(Image.new("L", (4, 4), 9)).getpixel((1, 1))
    9
    >>> T.RandomAdjustSharpness(sharpness_factor=2)
    RandomAdjustSharpness(sharpness_factor=2,p=0.5)
    """

    _repr_names = ("sharpness_factor", "p")

    def __init__(self, sharpness_factor: float, p: float = 0.5):
        _color._check_factor(sharpness_factor, "RandomAdjustSharpness", "sharpness_factor")
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _apply(self, img):
        return _color.adjust_sharpness(img, self.sharpness_factor)


class RandomAutocontrast(_RandomlyApplied):
    """Stretch every channel to the full range with probability ``p``.

    See :func:`~.functional.autocontrast`.

    Parameters
    ----------
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    TypeError, ValueError
        For a ``p`` that is not a number in [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomAutocontrast(p=1.0)(flambeau.tensor([[[0.5, 0.75]]]))
    tensor([[[0., 1.]]])
    >>> T.RandomAutocontrast()
    RandomAutocontrast(p=0.5)
    """

    def _apply(self, img):
        return _color.autocontrast(img)


class RandomEqualize(_RandomlyApplied):
    """Equalize the histogram of every channel with probability ``p``.

    See :func:`~.functional.equalize`.

    Parameters
    ----------
    p : float
        In [0, 1]; default 0.5.

    Raises
    ------
    TypeError, ValueError
        For a ``p`` that is not a number in [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.RandomEqualize(p=0.0)(flambeau.tensor([[[1, 2]]], dtype=flambeau.uint8)).tolist()
    [[[1, 2]]]
    >>> T.RandomEqualize()
    RandomEqualize(p=0.5)
    """

    def _apply(self, img):
        return _color.equalize(img)

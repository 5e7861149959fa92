"""Geometric transforms: resize, crops, pad, flips, rotate, affine, perspective (functions)."""

from __future__ import annotations

import functools
import math
import numbers
from enum import Enum

import numpy as np
from PIL import Image

from flambeau.vision.transforms._image import as_chw, get_dimensions, is_pil

__all__ = [
    "InterpolationMode", "resize", "crop", "center_crop", "resized_crop", "five_crop",
    "ten_crop", "pad", "hflip", "vflip", "rotate", "affine", "inverse_affine_matrix",
    "perspective",
]


class InterpolationMode(Enum):
    """Interpolation methods for resizing and warping (torchvision's names).

    Tensors and NumPy arrays support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC; PIL
    images support every mode through Pillow.

    Examples
    --------
    >>> from flambeau.vision.transforms import InterpolationMode
    >>> InterpolationMode("bilinear") is InterpolationMode.BILINEAR
    True
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_RESAMPLE = {
    InterpolationMode.NEAREST: Image.Resampling.NEAREST,
    InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BOX: Image.Resampling.BOX,
    InterpolationMode.HAMMING: Image.Resampling.HAMMING,
    InterpolationMode.LANCZOS: Image.Resampling.LANCZOS,
}
_FROM_PIL = {int(v): k for k, v in reversed(list(_PIL_RESAMPLE.items()))}


def _interp(mode, op: str) -> InterpolationMode:
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, str):
        return InterpolationMode(mode)
    if isinstance(mode, int) and mode in _FROM_PIL:  # a PIL constant, as older code passes
        return _FROM_PIL[mode]
    raise TypeError(f"{op}: interpolation must be an InterpolationMode, got {mode!r}")


def _array_mode(mode: InterpolationMode, op: str) -> InterpolationMode:
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                    InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"{op}: interpolation {mode.value!r} is supported for PIL images only; "
                         "use nearest, nearest-exact, bilinear or bicubic for arrays and tensors")
    return mode


def _to_working(arr, xp):
    """Floating-point working copy and the function that casts a result back."""
    dtype = arr.dtype
    if np.dtype(dtype).kind == "f":
        return arr, lambda r: r.astype(dtype, copy=False)
    info = np.iinfo(dtype)
    return arr.astype(np.float32), lambda r: xp.clip(xp.rint(r), info.min, info.max).astype(dtype)


# --------------------------------------------------------------------------------- resize


def _cubic(x, a=-0.5):  # Pillow's bicubic kernel
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _bicubic_no_aa_matrix(n_in: int, n_out: int):
    """(n_out, n_in) weights of torch's bicubic ``interpolate`` without antialiasing: Keys'
    kernel with a = -0.75 at the four pixels around each source position (its fraction
    clamped to [0, 1] past the last pixel), the pixels past a border replaced by the border's
    (so the weights can overshoot there, as torch's)."""
    real = n_in / n_out * (np.arange(n_out) + 0.5) - 0.5
    index = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    t = np.clip(real - index, 0.0, 1.0)
    weights = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for k, x in enumerate((t + 1, t, 1 - t, 2 - t)):  # distances to pixels index-1..index+2
        np.add.at(weights, (rows, np.clip(index - 1 + k, 0, n_in - 1)), _cubic(x, a=-0.75))
    return weights


def _resample_matrix(n_in: int, n_out: int, mode: InterpolationMode):
    """(n_out, n_in) weights of a resampling along one axis without antialiasing (the
    antialiased one is :func:`_aa_taps`): bilinear weighs the two pixels around each source
    position (a triangle at pixel centres, renormalized at the borders: torch's clamping)."""
    if mode is InterpolationMode.BICUBIC:
        return _bicubic_no_aa_matrix(n_in, n_out)
    centres = (np.arange(n_out) + 0.5) * (n_in / n_out)
    weights = np.maximum(0.0, 1.0 - np.abs(np.arange(n_in)[None, :] + 0.5 - centres[:, None]))
    return weights / weights.sum(axis=1, keepdims=True)


def _nearest_index(n_in: int, n_out: int, exact: bool):
    scale = n_in / n_out
    pos = (np.arange(n_out) + (0.5 if exact else 0.0)) * scale
    return np.minimum(np.floor(pos).astype(np.int64), n_in - 1)


def _fma(a, b, c):
    """``a * b + c`` rounded once to float32, as a fused multiply-add: the float64 product of
    two float32 numbers is exact (48 bits), so only the sum rounds (then float32 rounds it
    again, which differs from one rounding only in rare double-rounding cases)."""
    r = a.astype(np.float64)  # in place from here: no float64 temporaries beyond this one
    r *= b
    r += c
    return r.astype(np.float32)


def _cubic_fused(x):
    """:func:`_cubic` in float32 with the multiply-adds fused, as torch's compiled kernel."""
    a = np.float32(-0.5)
    near = _fma(_fma(a + np.float32(2), x, -(a + np.float32(3))) * x, x, np.float32(1))
    far = _fma(_fma(_fma(a, x, -5 * a), x, 8 * a), x, -4 * a)
    return np.where(x < 1, near, np.where(x < 2, far, np.float32(0)))


@functools.lru_cache(maxsize=64)  # a pipeline resizes to the same sizes over and over
def _aa_taps(n_in: int, n_out: int, mode: InterpolationMode, dtype):
    """torch's antialiased resampling along one axis, step by step as its CPU kernel does
    (``interpolate(..., antialias=True)``, which torchvision's ``resize`` calls on tensors).

    Returns ``(index, weight, size, fused)``: output ``i`` is ``sum_j input[index[i, j]] *
    weight[i, j]`` over its ``size[i]`` taps, accumulated in ``dtype`` from ``j = 0`` on;
    with ``fused`` (float32), the steps after the last full group of four (torch's x86-64
    build unrolls the loop by four) are fused multiply-adds. The weights are computed in
    ``dtype`` in torch's order (float32 for float32 and integer images): exact weights
    rounded to float32 differ from them in the last bits, which moves rounded uint8 results
    across .5 on about 0.05% of pixels. The arrays are cached: read-only."""
    f = np.dtype(dtype).type
    interp = 2 if mode is InterpolationMode.BILINEAR else 4
    scale = f(n_in) / f(n_out)
    support = f(interp * 0.5 * float(scale)) if scale >= 1 else f(interp * 0.5)
    invscale = f(1.0 / float(scale)) if scale >= 1 else f(1.0)
    taps = int(np.ceil(support)) * 2 + 1
    centre = (float(scale) * (np.arange(n_out) + 0.5)).astype(dtype)
    # C++ truncates toward zero when it casts to int64
    first = np.maximum(((centre - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    last = np.minimum(((centre + support).astype(np.float64) + 0.5).astype(np.int64), n_in)
    size = np.clip(last - first, 0, taps)
    j = np.arange(taps)
    offset = (j + first[:, None]).astype(dtype) - centre[:, None]
    x = np.abs(((offset.astype(np.float64) + 0.5) * float(invscale)).astype(dtype))
    fused = np.float32 is f  # torch's float64 kernel fuses too; float64 has no wider type here
    if mode is InterpolationMode.BILINEAR:
        weight = np.where(x < 1, (1.0 - x.astype(np.float64)).astype(dtype), f(0))
    else:
        weight = _cubic_fused(x).astype(dtype) if fused else _cubic(x).astype(dtype)
    weight = np.where(j < size[:, None], weight, f(0))
    total = np.zeros(n_out, dtype)
    for k in range(taps):  # summed in order, in dtype
        total = total + weight[:, k]
    weight = np.where(total[:, None] != 0, weight / np.where(total == 0, f(1), total)[:, None],
                      weight).astype(dtype)
    keep = int(size.max())  # the widest window (the filter's support rounds up)
    index, weight = np.minimum(first[:, None] + j, n_in - 1)[:, :keep], weight[:, :keep]
    for a in (index, weight, size):
        a.flags.writeable = False
    return index, weight, size, fused


def _aa_pass(x, xp, axis: int, index, weight, size, fused):
    """One pass of :func:`_aa_taps`' sums along ``axis`` (-1: columns, -2: rows).

    The outputs are summed in groups of one window size, so every step of a group is the
    same (a product and a sum, or a fused multiply-add) over whole arrays: no masks, no
    unused taps; ``take`` gathers (a fancy index along the last axis costs ~8x more)."""
    def weights(k, rows):  # tap k of the outputs ``rows``, shaped to broadcast
        col = xp.asarray(weight[rows, k])
        return col if axis == -1 else col[:, None]

    def take(k, rows):
        return xp.take(x, xp.asarray(index[rows, k]), axis=axis)

    sizes = np.unique(size)
    parts, order = [], []
    for s in sizes.tolist():
        rows = np.flatnonzero(size == s) if len(sizes) > 1 else slice(None)
        out = take(0, rows)
        out *= weights(0, rows)  # a window of no taps (never seen) weighs 0 and gives 0
        plain = 4 * ((s - 1) // 4) + 1 if fused else s  # the steps from here on are FMAs
        for k in range(1, s):
            value, w = take(k, rows), weights(k, rows)
            if k < plain:
                value *= w
                out += value
            else:
                out = _fma(value, w, out)
        parts.append(out)
        order.append(rows)
    if len(parts) == 1:
        return parts[0]
    # back in output order: the groups concatenated, then each output picked from them
    inverse = np.empty(len(size), np.int64)
    inverse[np.concatenate(order)] = np.arange(len(size))
    return xp.take(xp.concatenate(parts, axis=axis), xp.asarray(inverse), axis=axis)


def _resize_aa(work, xp, height: int, width: int, mode: InterpolationMode):
    """Antialiased bilinear / bicubic resize computed as torch does it: in float32 (float64
    for float64 images), columns first, then rows, each a sum over the taps in order."""
    dtype = np.float64 if work.dtype == np.float64 else np.float32
    x = work.astype(dtype, copy=False)
    h, w = x.shape[-2:]
    if w != width:
        x = _aa_pass(x, xp, -1, *_aa_taps(w, width, mode, dtype))
    if h != height:
        x = _aa_pass(x, xp, -2, *_aa_taps(h, height, mode, dtype))
    return x


def _resize_array(arr, xp, height: int, width: int, mode: InterpolationMode, antialias: bool):
    h, w = arr.shape[-2:]
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        rows = xp.asarray(_nearest_index(h, height, exact))
        cols = xp.asarray(_nearest_index(w, width, exact))
        return arr[..., rows[:, None], cols[None, :]]
    work, back = _to_working(arr, xp)
    if antialias:
        # torchvision resizes integer images in float32 and rounds (half to even); the
        # float32 steps decide the rounding of values near .5, so they follow torch's
        return back(_resize_aa(work, xp, height, width, mode))
    wh = xp.asarray(_resample_matrix(h, height, mode), dtype=work.dtype)
    ww = xp.asarray(_resample_matrix(w, width, mode), dtype=work.dtype)
    return back(xp.matmul(xp.matmul(wh, work), ww.T))


def _output_size(h: int, w: int, size, max_size, op: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        size = [int(size)]
    size = list(size)
    if len(size) not in (1, 2) or any(int(s) <= 0 for s in size):
        raise ValueError(f"{op}: size must be a positive int or a sequence of 1 or 2 positive "
                         f"ints, got {size}")
    if len(size) == 2:
        if max_size is not None:
            raise ValueError(f"{op}: max_size is only allowed when size is a single int, "
                             f"got size={size}")
        return int(size[0]), int(size[1])
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = int(size[0]), int(int(size[0]) * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"{op}: max_size ({max_size}) must be larger than size "
                             f"({size[0]})")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias=True):
    """Resize an image; an int ``size`` matches the smaller edge, keeping the aspect ratio.

    Parameters
    ----------
    img : PIL image, NumPy array (H, W[, C]) or Tensor (..., C, H, W)
    size : int or sequence of int
        ``(h, w)``, or the length of the smaller edge.
    interpolation : InterpolationMode
        Default bilinear. Tensors and arrays use torch's filters: bicubic is Keys' kernel
        with a = -0.5 when antialiased (Pillow's) and a = -0.75 without.
    max_size : int, optional
        Upper bound of the longer edge when ``size`` is an int.
    antialias : bool
        Widen the filter when shrinking (as Pillow always does); default True. Tensors and
        arrays are then resized as torchvision does: in float32 (float64 images in float64)
        with torch's weights and order, integer images rounded half to even, so uint8 results
        equal torchvision's.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.resize(flambeau.zeros(3, 20, 40), 10).shape
    flambeau.Size([3, 10, 20])
    """
    mode = _interp(interpolation, "resize")
    _, h, w = get_dimensions(img)
    height, width = _output_size(h, w, size, max_size, "resize")
    if (height, width) == (h, w):
        return img
    if is_pil(img):
        return img.resize((width, height), _PIL_RESAMPLE[mode])
    arr, xp, restore = as_chw(img, "resize")
    return restore(_resize_array(arr, xp, height, width, _array_mode(mode, "resize"),
                                 bool(antialias)))


# ------------------------------------------------------------------------- crop and pad


def _fill_values(fill, channels: int, xp, dtype, op: str):
    values = [0.0] if fill is None else (
        [fill] if isinstance(fill, numbers.Number) else list(fill))
    if len(values) not in (1, channels):
        raise ValueError(f"{op}: fill must be a number or have one value per channel "
                         f"({channels}), got {len(values)} values")
    arr = np.asarray(values, dtype=np.float64)
    if np.dtype(dtype).kind != "f":
        arr = np.rint(arr)
    return xp.asarray(np.broadcast_to(arr, (channels,)).astype(dtype))[:, None, None]


def _pad_array(arr, xp, left, top, right, bottom, fill, mode: str):
    # negative padding crops, as in torchvision
    h, w = arr.shape[-2:]
    arr = arr[..., max(-top, 0): h - max(-bottom, 0), max(-left, 0): w - max(-right, 0)]
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if mode == "constant":
        shape = (*arr.shape[:-2], arr.shape[-2] + top + bottom, arr.shape[-1] + left + right)
        out = xp.empty(shape, dtype=arr.dtype)
        out[...] = _fill_values(fill, arr.shape[-3], xp, arr.dtype, "pad")
        out[..., top: top + arr.shape[-2], left: left + arr.shape[-1]] = arr
        return out
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return xp.pad(arr, widths, mode=mode)


def _parse_padding(padding, op: str) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Integral):
        padding = [int(padding)]
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"{op}: padding must be an int or a sequence of 1, 2 or 4 ints, "
                     f"got {len(padding)} values")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders of an image.

    Parameters
    ----------
    padding : int or sequence of int
        All sides; ``(left/right, top/bottom)``; or ``(left, top, right, bottom)``.
    fill : number or sequence
        Value (per channel) for ``constant`` mode.
    padding_mode : {"constant", "edge", "reflect", "symmetric"}

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.pad(np.array([[1, 2]], np.uint8), (1, 0), padding_mode="reflect")
    array([[2, 1, 2, 1]], dtype=uint8)
    """
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("pad: padding_mode must be constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    left, top, right, bottom = _parse_padding(padding, "pad")
    arr, xp, restore = as_chw(img, "pad")
    too_wide = max(top, bottom) >= arr.shape[-2] or max(left, right) >= arr.shape[-1]
    if padding_mode == "reflect" and too_wide:
        raise ValueError(f"pad: reflect padding {(left, top, right, bottom)} needs to be "
                         f"smaller than the image size {tuple(arr.shape[-2:])}")
    return restore(_pad_array(arr, xp, left, top, right, bottom, fill, padding_mode))


def crop(img, top: int, left: int, height: int, width: int):
    """Crop ``img`` to the box at (``top``, ``left``) of size (``height``, ``width``).

    Parts of the box outside the image are filled with zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 1, 2, 2, 2)
    array([[ 6,  7],
           [10, 11]], dtype=uint8)
    """
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr, xp, restore = as_chw(img, "crop")
    h, w = arr.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        arr = _pad_array(arr, xp, max(-left, 0), max(-top, 0), max(right - w, 0),
                         max(bottom - h, 0), 0, "constant")
        top, left = max(top, 0), max(left, 0)
    return restore(xp.ascontiguousarray(arr[..., top: top + height, left: left + width]))


def _pair(size, op: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{op}: size must be an int or a sequence of 1 or 2 ints, got {size}")
    return size


def center_crop(img, output_size):
    """Crop the centre of an image (padding with zeros when it is smaller than the crop).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.center_crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 2)
    array([[ 5,  6],
           [ 9, 10]], dtype=uint8)
    """
    crop_h, crop_w = _pair(output_size, "center_crop")
    _, h, w = get_dimensions(img)
    if crop_h > h or crop_w > w:
        img = pad(img, [(crop_w - w) // 2 if crop_w > w else 0,
                        (crop_h - h) // 2 if crop_h > h else 0,
                        (crop_w - w + 1) // 2 if crop_w > w else 0,
                        (crop_h - h + 1) // 2 if crop_h > h else 0])
        _, h, w = get_dimensions(img)
        if (crop_h, crop_w) == (h, w):
            return img
    top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """:func:`crop` then :func:`resize` to ``size``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.resized_crop(flambeau.ones(1, 8, 8), 0, 0, 4, 4, [2, 2]).shape
    flambeau.Size([1, 2, 2])
    """
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def five_crop(img, size):
    """The four corner crops and the central crop of ``size``: ``(tl, tr, bl, br, center)``.

    Parameters
    ----------
    img : PIL image, NumPy array (H, W[, C]) or Tensor (..., C, H, W)
    size : int or (int, int)
        ``(h, w)`` of the crops; an int gives square crops.

    Raises
    ------
    ValueError
        When ``size`` is larger than the image, or has more than 2 values.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> [c.ravel().tolist() for c in F.five_crop(np.arange(9, dtype=np.uint8).reshape(3, 3), 1)]
    [[0], [2], [6], [8], [4]]
    """
    crop_h, crop_w = _pair(size, "five_crop")
    _, h, w = get_dimensions(img)
    if crop_h > h or crop_w > w:
        raise ValueError(f"five_crop: crop size {(crop_h, crop_w)} is bigger than the image "
                         f"size {(h, w)}")
    return (crop(img, 0, 0, crop_h, crop_w), crop(img, 0, w - crop_w, crop_h, crop_w),
            crop(img, h - crop_h, 0, crop_h, crop_w),
            crop(img, h - crop_h, w - crop_w, crop_h, crop_w),
            center_crop(img, (crop_h, crop_w)))


def ten_crop(img, size, vertical_flip: bool = False):
    """:func:`five_crop` of the image and of its flipped copy (10 images).

    Parameters
    ----------
    img : PIL image, NumPy array (H, W[, C]) or Tensor (..., C, H, W)
    size : int or (int, int)
    vertical_flip : bool
        Flip top to bottom instead of left to right.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> crops = F.ten_crop(np.array([[1, 2]], np.uint8), 1)
    >>> [int(c[0, 0]) for c in crops]
    [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]
    """
    flipped = vflip(img) if vertical_flip else hflip(img)
    return five_crop(img, size) + five_crop(flipped, size)


def hflip(img):
    """Flip an image left to right.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.hflip(np.array([[1, 2, 3]], np.uint8))
    array([[3, 2, 1]], dtype=uint8)
    """
    if is_pil(img):
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    arr, xp, restore = as_chw(img, "hflip")
    return restore(xp.ascontiguousarray(arr[..., ::-1]))


def vflip(img):
    """Flip an image top to bottom.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.vflip(np.array([[1], [2]], np.uint8)).ravel()
    array([2, 1], dtype=uint8)
    """
    if is_pil(img):
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    arr, xp, restore = as_chw(img, "vflip")
    return restore(xp.ascontiguousarray(arr[..., ::-1, :]))


# ------------------------------------------------------------------------ rotate, affine


def inverse_affine_matrix(center, angle, translate, scale, shear) -> list[float]:
    """The output -> input map of an affine warp, as Pillow's 6 AFFINE coefficients.

    The forward map rotates by ``angle`` degrees (clockwise on screen, y pointing down),
    shears by ``shear`` degrees (x, y), scales by ``scale`` about ``center`` and then
    translates by ``translate`` pixels.

    Examples
    --------
    >>> from flambeau.vision.transforms.functional import inverse_affine_matrix
    >>> [round(v, 6) + 0.0 for v in inverse_affine_matrix((0, 0), 0, (2, 3), 1.0, (0, 0))]
    [1.0, 0.0, -2.0, 0.0, 1.0, -3.0]
    """
    rot = math.radians(angle)
    sx, sy = (math.radians(s) for s in shear)
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    det = (a * d - b * c) * scale
    inv = [d / det, -b / det, -c / det, a / det]
    ox, oy = -cx - tx, -cy - ty
    return [inv[0], inv[1], inv[0] * ox + inv[1] * oy + cx,
            inv[2], inv[3], inv[2] * ox + inv[3] * oy + cy]


def _warp_array(arr, xp, matrix, out_h: int, out_w: int, mode: InterpolationMode, fill,
                op: str = "affine"):
    """Sample ``arr`` at ``matrix`` applied to the output pixel centres (Pillow's convention).

    ``matrix`` holds Pillow's 6 AFFINE or 8 PERSPECTIVE coefficients of the output -> input
    map: ``u = (a x + b y + c) / (g x + h y + 1)``, ``v = (d x + e y + f) / (g x + h y + 1)``.
    """
    a, b, c, d, e, f = matrix[:6]
    h, w = arr.shape[-2:]
    ys = xp.arange(out_h, dtype=np.float64)[:, None] + 0.5
    xs = xp.arange(out_w, dtype=np.float64)[None, :] + 0.5
    u, v = a * xs + b * ys + c, d * xs + e * ys + f
    if len(matrix) == 8:
        denominator = matrix[6] * xs + matrix[7] * ys + 1.0
        u, v = u / denominator, v / denominator
    fill_arr = _fill_values(fill, arr.shape[-3], xp, np.float64, op)
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        xi, yi = xp.floor(u).astype(np.int64), xp.floor(v).astype(np.int64)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        picked = arr[..., xp.clip(yi, 0, h - 1), xp.clip(xi, 0, w - 1)]
        return xp.where(inside, picked, fill_arr.astype(arr.dtype))
    if mode is not InterpolationMode.BILINEAR:
        raise ValueError(f"{op}: interpolation {mode.value!r} is supported for PIL images only; "
                         "use nearest or bilinear for arrays and tensors")
    work, back = _to_working(arr, xp)
    u, v = u - 0.5, v - 0.5
    x0, y0 = xp.floor(u), xp.floor(v)
    fx, fy = (u - x0).astype(work.dtype), (v - y0).astype(work.dtype)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    total = 0.0
    coverage = 0.0  # how much of each output pixel came from inside the image
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + dx, y0 + dy
            inside = ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)).astype(work.dtype)
            weight = wx * wy * inside
            total = total + work[..., xp.clip(yi, 0, h - 1), xp.clip(xi, 0, w - 1)] * weight
            coverage = coverage + weight
    return back(total + (1 - coverage) * fill_arr.astype(work.dtype))


def _pil_fill(fill, img):
    if fill is None:
        return None
    bands = len(img.getbands())
    if isinstance(fill, numbers.Number):
        return fill if bands == 1 else tuple([fill] * bands)
    fill = tuple(fill)
    if len(fill) == 1:
        fill = fill * bands
    if len(fill) != bands:
        raise ValueError(f"fill must be a number or have one value per channel ({bands}), "
                         f"got {len(fill)} values")
    return fill[0] if bands == 1 else fill


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate an image by ``angle`` degrees counter-clockwise about ``center``.

    Parameters
    ----------
    angle : float
    interpolation : InterpolationMode
        NEAREST (default) or BILINEAR for arrays and tensors.
    expand : bool
        Enlarge the output to hold the whole rotated image (Pillow's size rule).
    center : (x, y), optional
        Pixel coordinates of the centre (default: the image centre).
    fill : number or sequence, optional
        Value for areas outside the input (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.rotate(np.array([[1, 2], [3, 4]], np.uint8), 90)
    array([[2, 4],
           [1, 3]], dtype=uint8)
    """
    mode = _interp(interpolation, "rotate")
    if is_pil(img):
        return img.rotate(angle, _PIL_RESAMPLE[mode], expand, center,
                          fillcolor=_pil_fill(fill, img))
    arr, xp, restore = as_chw(img, "rotate")
    matrix, out_h, out_w = rotate_matrix(arr.shape[-2], arr.shape[-1], angle, expand, center)
    return restore(_warp_array(arr, xp, matrix, out_h, out_w, mode, fill))


def rotate_matrix(h: int, w: int, angle, expand=False, center=None):
    """``(matrix, out_h, out_w)`` of :func:`rotate` on arrays: the output -> input map and
    the output size (shared with the v2 box kernels, which move boxes the same way)."""
    centre = (w * 0.5, h * 0.5) if center is None else tuple(center)
    matrix = inverse_affine_matrix(centre, -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    out_h, out_w = h, w
    if expand:
        a, b, c, d, e, f = matrix
        corners = [(0, 0), (w, 0), (w, h), (0, h)]
        xs = [a * x + b * y + c for x, y in corners]
        ys = [d * x + e * y + f for x, y in corners]
        # a tolerance, as Pillow rounds its sines: rotating by 90 degrees leaves 12 + 1e-15,
        # which must not add a column
        out_w = math.ceil(max(xs) - 1e-6) - math.floor(min(xs) + 1e-6)
        out_h = math.ceil(max(ys) - 1e-6) - math.floor(min(ys) + 1e-6)
        ox, oy = -(out_w - w) / 2.0, -(out_h - h) / 2.0
        matrix = [a, b, a * ox + b * oy + c, d, e, d * ox + e * oy + f]
    return matrix, out_h, out_w


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Apply an affine warp keeping the image centre (``angle`` clockwise, as torchvision).

    Parameters
    ----------
    angle : float
        Rotation in degrees, clockwise.
    translate : (int, int)
        Horizontal and vertical translation in pixels (after the rotation).
    scale : float
        Overall scale, > 0.
    shear : float or (float, float)
        Shear angles in degrees along x and y.
    interpolation, fill, center
        As for :func:`rotate`.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.affine(np.array([[1, 2, 3]], np.uint8), 0, (1, 0), 1.0, 0)
    array([[0, 1, 2]], dtype=uint8)
    """
    mode = _interp(interpolation, "affine")
    _, h, w = get_dimensions(img)
    matrix = affine_matrix(h, w, angle, translate, scale, shear, center)
    if is_pil(img):
        return img.transform((w, h), Image.Transform.AFFINE, matrix, _PIL_RESAMPLE[mode],
                             fillcolor=_pil_fill(fill, img))
    arr, xp, restore = as_chw(img, "affine")
    return restore(_warp_array(arr, xp, matrix, h, w, mode, fill))


def affine_matrix(h: int, w: int, angle, translate, scale, shear, center=None) -> list[float]:
    """The output -> input map of :func:`affine` on an (h, w) image, arguments checked."""
    if scale <= 0:
        raise ValueError(f"affine: scale must be positive, got {scale}")
    if isinstance(shear, numbers.Number):
        shear = (shear, 0.0)
    shear = tuple(float(s) for s in shear)
    if len(shear) == 1:
        shear = (shear[0], 0.0)
    if len(translate) != 2 or len(shear) != 2:
        raise ValueError(f"affine: translate and shear need 2 values, got {translate} and "
                         f"{shear}")
    centre = (w * 0.5, h * 0.5) if center is None else tuple(center)
    return inverse_affine_matrix(centre, angle, translate, scale, shear)


def _perspective_coeffs(startpoints, endpoints) -> list[float]:
    """Pillow's 8 PERSPECTIVE coefficients mapping ``endpoints`` (output) to ``startpoints``."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"perspective: startpoints and endpoints must be 4 points each, got "
                         f"{len(startpoints)} and {len(endpoints)}")
    rows, rhs = [], []
    for (x, y), (u, v) in zip(endpoints, startpoints, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    try:
        coeffs = np.linalg.solve(np.asarray(rows, np.float64), np.asarray(rhs, np.float64))
    except np.linalg.LinAlgError:
        raise ValueError(f"perspective: the points {list(endpoints)} do not define a "
                         "perspective transform (three of them are collinear)") from None
    return coeffs.astype(np.float32).tolist()  # torchvision's precision, fed to Pillow too


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                fill=None):
    """Warp the image so that ``startpoints`` move to ``endpoints``.

    Parameters
    ----------
    img : PIL image, NumPy array (H, W[, C]) or Tensor (..., C, H, W)
    startpoints : 4 (x, y) pairs
        The top-left, top-right, bottom-right and bottom-left corners of the original image.
    endpoints : 4 (x, y) pairs
        Where those corners go.
    interpolation : InterpolationMode
        BILINEAR (default) or NEAREST for arrays and tensors.
    fill : number or sequence, optional
        Value for areas outside the input (default 0).

    Raises
    ------
    ValueError
        When either list does not hold 4 points, or the points are degenerate.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> corners = [[0, 0], [2, 0], [2, 1], [0, 1]]
    >>> shifted = [[1, 0], [3, 0], [3, 1], [1, 1]]
    >>> F.perspective(np.array([[1, 2, 3], [4, 5, 6]], np.uint8), corners, shifted)
    array([[0, 1, 2],
           [0, 4, 5]], dtype=uint8)
    """
    mode = _interp(interpolation, "perspective")
    coeffs = _perspective_coeffs(startpoints, endpoints)
    if is_pil(img):
        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs, _PIL_RESAMPLE[mode],
                             fillcolor=_pil_fill(fill, img))
    arr, xp, restore = as_chw(img, "perspective")
    h, w = arr.shape[-2:]
    return restore(_warp_array(arr, xp, coeffs, h, w, mode, fill, "perspective"))

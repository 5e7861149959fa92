"""Colour transforms: brightness, contrast, saturation, hue, sharpness, grayscale, blur, and
the histogram and bit operations of AutoAugment (invert, posterize, solarize, autocontrast,
equalize)."""

from __future__ import annotations

import numbers

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from flambeau.vision.transforms._convert import _max_value, _unit_to_int
from flambeau.vision.transforms._geometry import _to_working
from flambeau.vision.transforms._image import as_chw, is_pil

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "adjust_gamma", "adjust_sharpness", "rgb_to_grayscale", "to_grayscale",
           "gaussian_blur", "invert", "posterize", "solarize", "autocontrast", "equalize"]


def _blend(img1, img2, ratio: float, xp):
    bound = _max_value(img1.dtype)
    work = img1.astype(np.float32) if np.dtype(img1.dtype).kind != "f" else img1
    if hasattr(img2, "astype"):  # an integer img2 would promote the sum to float64
        img2 = img2.astype(work.dtype, copy=False)
    out = ratio * work + (1.0 - ratio) * img2
    return xp.clip(out, 0, bound).astype(img1.dtype)  # integers truncate, like torchvision


def _gray(arr, xp):
    """(..., 1, H, W) luma (ITU-R 601-2) of an RGB array, in the input's dtype."""
    if arr.shape[-3] == 1:
        return arr.copy()
    if arr.shape[-3] != 3:
        raise ValueError(f"rgb_to_grayscale: expected 1 or 3 channels, got {arr.shape[-3]} "
                         f"(shape {tuple(arr.shape)})")
    work = arr.astype(np.float32) if np.dtype(arr.dtype).kind != "f" else arr
    luma = 0.2989 * work[..., 0, :, :] + 0.587 * work[..., 1, :, :] + 0.114 * work[..., 2, :, :]
    return luma[..., None, :, :].astype(arr.dtype)


def _check_factor(value, op: str, name: str) -> None:
    if value < 0:
        raise ValueError(f"{op}: {name} must be non-negative, got {value}")


def adjust_brightness(img, brightness_factor: float):
    """Scale brightness: 0 gives black, 1 the original, 2 twice as bright.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.adjust_brightness(flambeau.full((3, 1, 1), 0.4), 2.0).flatten()
    tensor([0.8000, 0.8000, 0.8000])
    """
    _check_factor(brightness_factor, "adjust_brightness", "brightness_factor")
    if is_pil(img):
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    arr, xp, restore = as_chw(img, "adjust_brightness")
    return restore(_blend(arr, 0.0, brightness_factor, xp))


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level: 0 gives a uniform grey image, 1 the original.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.adjust_contrast(flambeau.tensor([[[0.2, 0.6]]]), 0.0)
    tensor([[[0.4000, 0.4000]]])
    """
    _check_factor(contrast_factor, "adjust_contrast", "contrast_factor")
    if is_pil(img):
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    arr, xp, restore = as_chw(img, "adjust_contrast")
    mean = _gray(arr, xp).astype(np.float32).mean(axis=(-3, -2, -1), keepdims=True)
    return restore(_blend(arr, mean, contrast_factor, xp))


def adjust_gamma(img, gamma: float, gain: float = 1):
    """Gamma correction ``gain * img ** gamma`` of intensities in [0, 1], clipped to [0, 1].

    ``gamma`` < 1 brightens the dark regions, > 1 darkens them. Integer images are scaled to
    [0, 1] and back (PIL images through a lookup table), as torchvision does.

    Raises
    ------
    ValueError
        For a negative ``gamma``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.adjust_gamma(flambeau.tensor([[[0.25, 1.0]]]), 0.5)
    tensor([[[0.5000, 1.0000]]])
    >>> F.adjust_gamma(flambeau.tensor([[[64, 255]]], dtype=flambeau.uint8), 2.0).tolist()
    [[[16, 255]]]
    """
    _check_factor(gamma, "adjust_gamma", "gamma")
    if is_pil(img):
        mode = img.mode
        table = [int((255 + 1 - 1e-3) * gain * (v / 255.0) ** gamma) for v in range(256)]
        return img.convert("RGB").point(table * 3).convert(mode)
    arr, xp, restore = as_chw(img, "adjust_gamma")
    if np.dtype(arr.dtype).kind == "f":
        return restore(xp.clip(gain * arr ** gamma, 0, 1).astype(arr.dtype))
    unit = arr.astype(np.float32) / np.float32(_max_value(arr.dtype))
    return restore(_unit_to_int(xp.clip(gain * unit ** gamma, 0, 1), arr.dtype))


def adjust_saturation(img, saturation_factor: float):
    """Blend with the grayscale image: 0 gives grey, 1 the original, 2 doubles saturation.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.adjust_saturation(flambeau.tensor([[[1.0]], [[0.0]], [[0.0]]]), 0.0).flatten()
    tensor([0.2989, 0.2989, 0.2989])
    """
    _check_factor(saturation_factor, "adjust_saturation", "saturation_factor")
    if is_pil(img):
        return ImageEnhance.Color(img).enhance(saturation_factor)
    arr, xp, restore = as_chw(img, "adjust_saturation")
    if arr.shape[-3] == 1:
        return img
    return restore(_blend(arr, _gray(arr, xp), saturation_factor, xp))


def _rgb_to_hsv(rgb, xp):
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    span = maxc - minc
    sat = span / xp.where(maxc == 0, 1, maxc)
    safe = xp.where(span == 0, 1, span)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    hue = xp.where(maxc == r, bc - gc, xp.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = (hue / 6.0 + 1.0) % 1.0
    return hue, sat, maxc


def _hsv_to_rgb(hue, sat, val, xp):
    sector = xp.floor(hue * 6.0)
    frac = hue * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = xp.clip(val * (1.0 - sat), 0.0, 1.0)
    q = xp.clip(val * (1.0 - sat * frac), 0.0, 1.0)
    t = xp.clip(val * (1.0 - sat * (1.0 - frac)), 0.0, 1.0)
    channels = []
    for order in ((val, q, p, p, t, val), (t, val, val, q, p, p), (p, p, t, val, val, q)):
        table = xp.stack(order)
        channels.append(xp.take_along_axis(table, sector[None], axis=0)[0])
    return xp.stack(channels, axis=-3)


def adjust_hue(img, hue_factor: float):
    """Rotate the hue by ``hue_factor`` turns of the colour wheel, in [-0.5, 0.5].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> red = flambeau.tensor([[[1.0]], [[0.0]], [[0.0]]])
    >>> F.adjust_hue(red, 1 / 3).flatten()  # red -> green
    tensor([0., 1., 0.])
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor must be in [-0.5, 0.5], got {hue_factor}")
    if is_pil(img):
        if img.mode in ("L", "1", "I", "F"):
            return img
        mode = img.mode
        h, s, v = img.convert("HSV").split()
        shifted = (np.asarray(h, np.int16) + int(hue_factor * 255)) % 256
        h = Image.fromarray(shifted.astype(np.uint8))
        return Image.merge("HSV", (h, s, v)).convert(mode)
    arr, xp, restore = as_chw(img, "adjust_hue")
    if arr.shape[-3] == 1:
        return img
    integer = np.dtype(arr.dtype).kind != "f"
    work = arr.astype(np.float32) / _max_value(arr.dtype) if integer else arr
    hue, sat, val = _rgb_to_hsv(work, xp)
    out = _hsv_to_rgb((hue + hue_factor) % 1.0, sat, val, xp).astype(work.dtype)
    if integer:
        out = _unit_to_int(out, arr.dtype)
    return restore(out)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Convert to grayscale (ITU-R 601-2 luma) with 1 or 3 identical output channels.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.rgb_to_grayscale(np.array([[[255, 0, 0]]], np.uint8)).ravel()
    array([76], dtype=uint8)
    """
    if num_output_channels not in (1, 3):
        raise ValueError("rgb_to_grayscale: num_output_channels must be 1 or 3, got "
                         f"{num_output_channels}")
    if is_pil(img):
        gray = img.convert("L")
        return gray if num_output_channels == 1 else Image.merge("RGB", (gray, gray, gray))
    arr, xp, restore = as_chw(img, "rgb_to_grayscale")
    gray = _gray(arr, xp)
    if num_output_channels == 3:
        gray = xp.concatenate([gray, gray, gray], axis=-3)
    return restore(gray)


def to_grayscale(img, num_output_channels: int = 1):
    """Alias of :func:`rgb_to_grayscale` (torchvision's name for PIL images).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.transforms import functional as F
    >>> F.to_grayscale(Image.new("RGB", (2, 2)), 3).mode
    'RGB'
    """
    return rgb_to_grayscale(img, num_output_channels)


def _gaussian_kernel(size: int, sigma: float):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (reflect padding), as torchvision does.

    Parameters
    ----------
    kernel_size : int or (int, int)
        Odd, positive kernel width and height.
    sigma : float or (float, float), optional
        Standard deviations along x and y; default ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> float(F.gaussian_blur(flambeau.ones(1, 5, 5), 3, 1.0).mean())
    1.0
    """
    ksize = [kernel_size, kernel_size] if isinstance(kernel_size, numbers.Integral) \
        else [int(k) for k in kernel_size]
    if len(ksize) == 1:
        ksize = ksize * 2
    if len(ksize) != 2 or any(k <= 0 or k % 2 == 0 for k in ksize):
        raise ValueError(f"gaussian_blur: kernel_size must be odd and positive, got {ksize}")
    if sigma is None:
        sigma = [0.3 * ((k - 1) * 0.5 - 1) + 0.8 for k in ksize]
    elif isinstance(sigma, numbers.Number):
        sigma = [float(sigma)] * 2
    sigma = [float(s) for s in sigma] * (2 if len(sigma) == 1 else 1)
    if len(sigma) != 2 or any(s <= 0 for s in sigma):
        raise ValueError(f"gaussian_blur: sigma must be positive, got {sigma}")
    arr, xp, restore = as_chw(img, "gaussian_blur")
    h, w = arr.shape[-2:]
    if ksize[0] // 2 >= w or ksize[1] // 2 >= h:
        raise ValueError(f"gaussian_blur: kernel_size {ksize} is too large for an image of "
                         f"size {(h, w)} (reflect padding needs half the kernel < the size)")
    work, back = _to_working(arr, xp)
    for axis, size, s in ((-1, ksize[0], sigma[0]), (-2, ksize[1], sigma[1])):
        kernel = _gaussian_kernel(size, s)
        widths = [(0, 0)] * work.ndim
        widths[axis] = (size // 2, size // 2)
        padded = xp.pad(work, widths, mode="reflect")
        n = work.shape[axis]
        total = 0.0
        for k in range(size):  # a loop over the kernel's taps, not over pixels
            window = padded[..., k: k + n] if axis == -1 else padded[..., k: k + n, :]
            total = total + float(kernel[k]) * window
        work = total.astype(work.dtype)
    return restore(back(work))


# --------------------------------------------- sharpness and AutoAugment's pixel operations


def _check_channels(arr, op: str) -> None:
    if arr.shape[-3] not in (1, 3):
        raise TypeError(f"{op}: expected an image with 1 or 3 channels, got {arr.shape[-3]} "
                        f"(shape {tuple(arr.shape)})")


def _check_pil_mode(img, op: str, modes=("L", "RGB")) -> None:
    if img.mode not in modes:
        raise TypeError(f"{op}: PIL images must have mode {' or '.join(modes)}, got "
                        f"{img.mode!r}; convert it first, e.g. img.convert('RGB')")


def _channels_array(img, op: str):
    """``as_chw`` of a tensor or NumPy image with 1 or 3 channels."""
    arr, xp, restore = as_chw(img, op)
    _check_channels(arr, op)
    return arr, xp, restore


def _smoothed(arr, xp):
    """Pillow's SMOOTH filter (3x3, centre weight 5 of 13) on the interior; borders kept."""
    work = arr.astype(np.float32) if np.dtype(arr.dtype).kind != "f" else arr
    h, w = arr.shape[-2:]
    total = 4.0 * work[..., 1:-1, 1:-1]  # the centre, on top of its share in the 3x3 sum
    for dy in range(3):  # a loop over the kernel's taps, not over pixels
        for dx in range(3):
            total = total + work[..., dy: dy + h - 2, dx: dx + w - 2]
    inner = total / 13.0
    if np.dtype(arr.dtype).kind != "f":
        inner = xp.rint(inner)  # no ties: a sum of integers over 13 is never half-way
    out = arr.copy()
    out[..., 1:-1, 1:-1] = inner.astype(arr.dtype)
    return out


def adjust_sharpness(img, sharpness_factor: float):
    """Blend with a smoothed copy: 0 gives the blurred image, 1 the original, 2 sharper.

    Tensors and arrays follow torchvision: the smoothed copy is Pillow's SMOOTH filter
    (3x3 kernel, centre weight 5 out of 13) on the interior, the one-pixel border is kept,
    and ``factor * img + (1 - factor) * smoothed`` is clipped and truncated to the dtype.
    Images of height or width 2 or less are returned unchanged. PIL images use
    ``ImageEnhance.Sharpness``.

    Parameters
    ----------
    img : PIL image, NumPy array (H, W[, C]) or Tensor (..., 1 or 3, H, W)
    sharpness_factor : float
        Non-negative.

    Raises
    ------
    ValueError
        For a negative ``sharpness_factor``.
    TypeError
        For a tensor or array without 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> img = flambeau.zeros(1, 3, 3)
    >>> img[0, 1, 1] = 0.65
    >>> F.adjust_sharpness(img, 0.0)[0, 1, 1]  # the smoothed centre: 0.65 * 5 / 13
    tensor(0.2500)
    >>> F.adjust_sharpness(img, 2.0)[0, 1, 1]
    tensor(1.)
    """
    _check_factor(sharpness_factor, "adjust_sharpness", "sharpness_factor")
    if is_pil(img):
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    arr, xp, restore = _channels_array(img, "adjust_sharpness")
    if arr.shape[-1] <= 2 or arr.shape[-2] <= 2:
        return img
    return restore(_blend(arr, _smoothed(arr, xp), sharpness_factor, xp))


def invert(img):
    """Invert the colours: ``max - img`` (255 for uint8, 1.0 for floats).

    Parameters
    ----------
    img : PIL image (mode L, RGB or 1), NumPy array or Tensor (..., 1 or 3, H, W)

    Raises
    ------
    TypeError
        For another PIL mode, or a tensor or array without 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.invert(flambeau.tensor([[[0, 100, 255]]], dtype=flambeau.uint8)).tolist()
    [[[255, 155, 0]]]
    >>> F.invert(flambeau.tensor([[[0.25]]]))
    tensor([[[0.7500]]])
    """
    if is_pil(img):
        _check_pil_mode(img, "invert", ("L", "RGB", "1"))
        return ImageOps.invert(img)
    arr, xp, restore = _channels_array(img, "invert")
    return restore(_max_value(arr.dtype) - arr)


def _check_bits(bits, op: str) -> None:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(f"{op}: bits must be an int, got {type(bits).__name__}")
    if not 0 <= bits <= 8:
        raise ValueError(f"{op}: bits must be between 0 and 8, got {bits}")


def posterize(img, bits: int):
    """Keep the ``bits`` most significant bits of every channel.

    uint8 images keep ``img & (255 << (8 - bits))``; float images in [0, 1] are quantised
    to ``2 ** bits`` levels, ``min(floor(img * 2**bits), 2**bits - 1) / 2**bits``
    (torchvision's v2 rule, the same levels as uint8). PIL images use
    ``ImageOps.posterize``.

    Parameters
    ----------
    img : PIL image (mode L or RGB), NumPy array or Tensor (..., 1 or 3, H, W)
        uint8 or floating point.
    bits : int
        Between 0 and 8.

    Raises
    ------
    ValueError
        For ``bits`` outside [0, 8].
    TypeError
        For a non-integer ``bits``, another PIL mode, a dtype other than uint8 and float,
        or a tensor or array without 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.posterize(flambeau.tensor([[[7, 100, 255]]], dtype=flambeau.uint8), 2).tolist()
    [[[0, 64, 192]]]
    >>> F.posterize(flambeau.tensor([[[0.3, 1.0]]]), 1)
    tensor([[[0.0000, 0.5000]]])
    """
    _check_bits(bits, "posterize")
    if is_pil(img):
        _check_pil_mode(img, "posterize")
        if bits == 0:  # Pillow >= 11 refuses 0 bits: every level becomes 0
            return img.point(lambda _: 0)
        return ImageOps.posterize(img, bits)
    arr, xp, restore = _channels_array(img, "posterize")
    if arr.dtype == np.uint8:
        return restore(arr & np.uint8((0xFF << (8 - bits)) & 0xFF))
    if np.dtype(arr.dtype).kind == "f":
        levels = 1 << bits
        return restore(xp.clip(xp.floor(arr * levels), 0, levels - 1) / levels)
    raise TypeError(f"posterize: expected a uint8 or floating-point image, got {arr.dtype}")


def _check_threshold(threshold, op: str) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"{op}: threshold must be a number, got {type(threshold).__name__}")


def solarize(img, threshold: float):
    """Invert the pixels at or above ``threshold``: ``where(img >= threshold, max - img, img)``.

    Parameters
    ----------
    img : PIL image (mode L or RGB), NumPy array or Tensor (..., 1 or 3, H, W)
    threshold : float
        In the image's value range (at most 255 for uint8, 1.0 for floats).

    Raises
    ------
    ValueError
        For a tensor or array and a ``threshold`` above the dtype's maximum value.
    TypeError
        For a non-number ``threshold``, another PIL mode, or a tensor or array without 1 or
        3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.solarize(flambeau.tensor([[[10, 128, 200]]], dtype=flambeau.uint8), 128).tolist()
    [[[10, 127, 55]]]
    """
    _check_threshold(threshold, "solarize")
    if is_pil(img):
        _check_pil_mode(img, "solarize")
        return ImageOps.solarize(img, threshold)
    arr, xp, restore = _channels_array(img, "solarize")
    top = _max_value(arr.dtype)
    if threshold > top:
        raise ValueError(f"solarize: threshold ({threshold}) must not exceed the largest value "
                         f"of a {arr.dtype} image ({top})")
    return restore(xp.where(arr >= threshold, top - arr, arr))


def autocontrast(img):
    """Stretch every channel linearly so that its darkest pixel is 0 and its lightest the max.

    Tensors and arrays follow torchvision: ``(img - lo) * max / (hi - lo)`` in float32 (or the
    image's float dtype), clipped and truncated; a constant channel is left as it is. PIL
    images use ``ImageOps.autocontrast``.

    Parameters
    ----------
    img : PIL image (mode L or RGB), NumPy array or Tensor (..., 1 or 3, H, W)

    Raises
    ------
    TypeError
        For another PIL mode, or a tensor or array without 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.autocontrast(flambeau.tensor([[[0.25, 0.5, 0.75]]]))
    tensor([[[0.0000, 0.5000, 1.0000]]])
    """
    if is_pil(img):
        _check_pil_mode(img, "autocontrast")
        return ImageOps.autocontrast(img)
    arr, xp, restore = _channels_array(img, "autocontrast")
    top = _max_value(arr.dtype)
    work = arr if np.dtype(arr.dtype).kind == "f" else arr.astype(np.float32)
    lo = work.min(axis=(-2, -1), keepdims=True)
    hi = work.max(axis=(-2, -1), keepdims=True)
    flat = hi == lo
    # max * (1 / span), not max / span: the rounding of torch's scalar / tensor
    scale = xp.where(flat, 1.0, xp.reciprocal(xp.where(flat, 1.0, hi - lo)) * top)
    scale = scale.astype(work.dtype)
    lo = xp.where(flat, 0.0, lo).astype(work.dtype)
    return restore(xp.clip((work - lo) * scale, 0, top).astype(arr.dtype))


def _equalize_uint8(arr, xp):
    """Histogram-equalize every channel of a (..., C, H, W) uint8 array (Pillow's rule)."""
    shape = arr.shape
    flat = arr.reshape(-1, shape[-2] * shape[-1]).astype(np.int64)
    rows, pixels = flat.shape
    offsets = xp.arange(rows, dtype=np.int64)[:, None] * 256
    hist = xp.bincount((flat + offsets).ravel(), minlength=rows * 256).reshape(rows, 256)
    # Pillow spreads the pixels below the brightest level evenly over 255 steps
    brightest = xp.take_along_axis(hist, flat.max(axis=1, keepdims=True), axis=1)
    step = (pixels - brightest) // 255
    below = xp.cumsum(hist, axis=1) - hist
    lut = xp.minimum((below + step // 2) // xp.maximum(step, 1), 255)
    lut = xp.where(step == 0, xp.arange(256, dtype=np.int64)[None, :], lut)
    return xp.take_along_axis(lut, flat, axis=1).astype(np.uint8).reshape(shape)


def equalize(img):
    """Equalize the histogram of every channel (Pillow's ``ImageOps.equalize`` rule).

    uint8 tensors and arrays give exactly Pillow's result. Float images in [0, 1] are
    converted to uint8 (as :func:`convert_image_dtype` does), equalized and divided by 255
    (torchvision's v2 rule).

    Parameters
    ----------
    img : PIL image (mode L or RGB), NumPy array or Tensor (..., 1 or 3, H, W)
        uint8 or floating point.

    Raises
    ------
    TypeError
        For another PIL mode, a dtype other than uint8 and float, or a tensor or array
        without 1 or 3 channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> dark = (flambeau.arange(512) // 4).to(flambeau.uint8).reshape(1, 16, 32)  # 0 to 127
    >>> bright = F.equalize(dark)
    >>> int(bright.min()), int(bright.max()), int(bright[0, 0, 8])  # level 2 becomes 8
    (0, 255, 8)
    """
    if is_pil(img):
        _check_pil_mode(img, "equalize")
        return ImageOps.equalize(img)
    arr, xp, restore = _channels_array(img, "equalize")
    if arr.dtype == np.uint8:
        return restore(_equalize_uint8(arr, xp))
    if np.dtype(arr.dtype).kind == "f":
        out = _equalize_uint8(_unit_to_int(arr, np.uint8), xp)
        return restore(out.astype(arr.dtype) / arr.dtype.type(255))
    raise TypeError(f"equalize: expected a uint8 or floating-point image, got {arr.dtype}")

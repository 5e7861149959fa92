"""Colour transforms: brightness, contrast, saturation, hue, grayscale and Gaussian blur."""

from __future__ import annotations

import numbers

import numpy as np
from PIL import Image, ImageEnhance

from flambeau.vision.transforms._geometry import _to_working
from flambeau.vision.transforms._image import as_chw, is_pil

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rgb_to_grayscale", "to_grayscale", "gaussian_blur"]


def _bound(dtype) -> float:
    return 1.0 if np.dtype(dtype).kind == "f" else float(np.iinfo(dtype).max)


def _blend(img1, img2, ratio: float, xp):
    bound = _bound(img1.dtype)
    work = img1.astype(np.float32) if np.dtype(img1.dtype).kind != "f" else img1
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
    work = arr.astype(np.float32) / _bound(arr.dtype) if integer else arr
    hue, sat, val = _rgb_to_hsv(work, xp)
    out = _hsv_to_rgb((hue + hue_factor) % 1.0, sat, val, xp).astype(work.dtype)
    if integer:  # torchvision's float -> int conversion: scale by max + 1 - eps, truncate
        out = (out * (_bound(arr.dtype) + 1.0 - 1e-3)).astype(arr.dtype)
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

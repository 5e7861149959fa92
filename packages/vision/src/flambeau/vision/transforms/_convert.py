"""Conversions between image kinds and dtypes, normalisation and erasing."""

from __future__ import annotations

import numbers

import numpy as np
from PIL import Image

import flambeau
from flambeau._dtype import to_dtype
from flambeau._tensor import Tensor
from flambeau.vision.transforms._image import is_ndarray, is_pil, is_tensor

__all__ = ["to_tensor", "pil_to_tensor", "convert_image_dtype", "normalize", "to_pil_image",
           "erase"]


def _pil_array(pic) -> np.ndarray:
    if pic.mode == "1":
        return np.asarray(pic, dtype=np.uint8) * np.uint8(255)
    return np.array(pic)  # a writable copy: the tensor must not share Pillow's buffer


def _hwc(arr: np.ndarray) -> np.ndarray:
    return arr[:, :, None] if arr.ndim == 2 else arr


def to_tensor(pic):
    """Convert a PIL image or NumPy (H, W, C) array to a (C, H, W) tensor.

    uint8 data become float32 (the default float dtype) scaled to [0, 1]; other dtypes keep
    their values and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms import functional as F
    >>> F.to_tensor(np.full((1, 2, 3), 255, np.uint8)).shape
    flambeau.Size([3, 1, 2])
    """
    if is_pil(pic):
        arr = _hwc(_pil_array(pic))
    elif is_ndarray(pic):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_tensor: expected a NumPy image of shape (H, W, C) or (H, W), "
                             f"got shape {pic.shape}")
        arr = _hwc(pic)
    else:
        raise TypeError(f"to_tensor: expected a PIL image or a NumPy array, got "
                        f"{type(pic).__name__}")
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        dtype = flambeau.get_default_dtype().np
        chw = chw.astype(dtype) / dtype.type(255)
    return flambeau.from_numpy(chw)


def pil_to_tensor(pic):
    """Convert a PIL image to a (C, H, W) tensor of its own dtype, without scaling.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.transforms import functional as F
    >>> t = F.pil_to_tensor(Image.new("RGB", (2, 1), (10, 20, 30)))
    >>> t.dtype, t[:, 0, 0].tolist()
    (flambeau.uint8, [10, 20, 30])
    """
    if not is_pil(pic):
        raise TypeError(f"pil_to_tensor: expected a PIL image, got {type(pic).__name__}")
    return flambeau.from_numpy(np.ascontiguousarray(_hwc(_pil_array(pic)).transpose(2, 0, 1)))


def _max_value(dtype):
    """The largest value of an image dtype: 1.0 for floats, else the int maximum as a Python
    int (so that ``_max_value(a.dtype) - a`` keeps an integer array's dtype)."""
    dtype = np.dtype(dtype)
    return 1.0 if dtype.kind == "f" else int(np.iinfo(dtype).max)


def _unit_to_int(arr, np_dtype):
    """Float values in [0, 1] -> integer ``np_dtype`` the way torchvision scales them.

    Multiplying by ``max + 1 - eps`` and truncating gives every integer level an equal share
    of [0, 1] (rounding would halve the share of 0 and max).
    """
    return (arr * (_max_value(np_dtype) + 1.0 - 1e-3)).astype(np_dtype)


def convert_image_dtype(image, dtype=flambeau.float32):
    """Convert a tensor image's dtype, rescaling values (ints span [0, max], floats [0, 1]).

    Raises
    ------
    RuntimeError
        For float32 -> int32/int64 and float64 -> int64, which cannot be exact.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.convert_image_dtype(flambeau.tensor([0, 255], dtype=flambeau.uint8))
    tensor([0., 1.])
    >>> F.convert_image_dtype(flambeau.tensor([0.0, 0.5, 1.0]), flambeau.uint8)
    tensor([  0, 127, 255], dtype=flambeau.uint8)
    """
    if not is_tensor(image):
        raise TypeError(f"convert_image_dtype: expected a tensor, got {type(image).__name__}")
    dtype = to_dtype(dtype)
    src, dst = image.dtype.np, dtype.np
    if src == dst:
        return image
    arr, xp = image._data, image._device._xp
    if src.kind == "f" and dst.kind == "f":
        out = arr.astype(dst)
    elif src.kind == "f":
        if (src == np.float32 and dst in (np.int32, np.int64)) or \
                (src == np.float64 and dst == np.int64):
            raise RuntimeError(f"convert_image_dtype: the conversion from {image.dtype} to "
                               f"{dtype} cannot be performed safely")
        out = _unit_to_int(arr, dst)
    elif dst.kind == "f":
        out = arr.astype(dst) / dst.type(_max_value(src))
    else:
        src_span, dst_span = int(_max_value(src)) + 1, int(_max_value(dst)) + 1
        if src_span > dst_span:
            out = (arr // (src_span // dst_span)).astype(dst)
        else:
            out = arr.astype(dst) * (dst_span // src_span)
    return Tensor._make(xp.asarray(out), image._device)


def normalize(tensor, mean, std, inplace: bool = False):
    """Normalize a float tensor image channel-wise: ``(x - mean[c]) / std[c]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.normalize(flambeau.ones(2, 1, 1), [0.5, 0.0], [0.5, 2.0]).flatten()
    tensor([1.0000, 0.5000])
    """
    if not is_tensor(tensor):
        raise TypeError(f"normalize: expected a tensor, got {type(tensor).__name__}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"normalize: expected a floating-point tensor, got {tensor.dtype}")
    if tensor.dim() < 3:
        raise ValueError(f"normalize: expected a tensor image of shape (..., C, H, W), got "
                         f"shape {tuple(tensor.shape)}")
    channels = tensor.shape[-3]
    np_dtype = tensor.dtype.np
    mean_a = np.asarray(mean, dtype=np_dtype).reshape(-1)
    std_a = np.asarray(std, dtype=np_dtype).reshape(-1)
    for name, value in (("mean", mean_a), ("std", std_a)):
        if value.size not in (1, channels):
            raise ValueError(f"normalize: {name} has {value.size} values for a tensor with "
                             f"{channels} channels")
    if (std_a == 0).any():
        raise ValueError(f"normalize: std evaluated to zero after conversion to {tensor.dtype}, "
                         "leading to division by zero")
    if inplace or (tensor.requires_grad and flambeau.is_grad_enabled()):
        # through flambeau ops: differentiable, and in place bumps the version counter
        mean_t = flambeau.as_tensor(mean_a, device=tensor.device).reshape(-1, 1, 1)
        std_t = flambeau.as_tensor(std_a, device=tensor.device).reshape(-1, 1, 1)
        if inplace:
            return tensor.sub_(mean_t).div_(std_t)
        return (tensor - mean_t) / std_t
    # the common data-loading case: one array expression, no autograd bookkeeping
    xp = tensor._device._xp
    out = (tensor._data - xp.asarray(mean_a)[:, None, None]) / xp.asarray(std_a)[:, None, None]
    return Tensor._make(out, tensor._device)


def to_pil_image(pic, mode=None):
    """Convert a (C, H, W) tensor or (H, W, C) NumPy array to a PIL image.

    Float tensors are taken to lie in [0, 1]: they are scaled by 255, clipped to [0, 255]
    and truncated to uint8. One channel gives mode "L" (or "F" for float NumPy arrays),
    three "RGB", four "RGBA".

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> image = F.to_pil_image(flambeau.ones(3, 2, 4))
    >>> image.mode, image.size, image.getpixel((0, 0))
    ('RGB', (4, 2), (255, 255, 255))
    """
    if is_tensor(pic):
        if pic.dim() not in (2, 3):
            raise ValueError(f"to_pil_image: expected a tensor of shape (C, H, W) or (H, W), "
                             f"got shape {tuple(pic.shape)}")
        arr = pic.detach().cpu().numpy()
        arr = arr[None] if arr.ndim == 2 else arr
        if arr.dtype.kind == "f" and mode != "F":
            arr = np.clip(arr * 255, 0, 255).astype(np.uint8)
        arr = arr.transpose(1, 2, 0)
    elif is_ndarray(pic):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: expected an array of shape (H, W, C) or (H, W), "
                             f"got shape {pic.shape}")
        arr = _hwc(pic)
    else:
        raise TypeError(f"to_pil_image: expected a tensor or a NumPy array, got "
                        f"{type(pic).__name__}")
    channels = arr.shape[2]
    if channels == 1:
        arr = arr[:, :, 0]
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        elif arr.dtype == np.int64 or arr.dtype == np.uint16:
            arr = arr.astype(np.int32)
    elif channels not in (2, 3, 4) or arr.dtype != np.uint8:
        raise TypeError(f"to_pil_image: {channels}-channel images must be uint8, got "
                        f"{arr.dtype}")
    image = Image.fromarray(np.ascontiguousarray(arr))
    return image if mode is None or image.mode == mode else image.convert(mode)


def erase(img, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Overwrite the box at (``i``, ``j``) of size (``h``, ``w``) of a tensor image with ``v``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> F.erase(flambeau.ones(1, 2, 3), 0, 1, 2, 1, 0.0)
    tensor([[[1., 0., 1.],
             [1., 0., 1.]]])
    """
    if not is_tensor(img):
        raise TypeError(f"erase: expected a tensor image, got {type(img).__name__}")
    out = img if inplace else img.clone()
    if isinstance(v, numbers.Number):
        out[..., i: i + h, j: j + w] = v
    else:
        out[..., i: i + h, j: j + w] = flambeau.as_tensor(v, dtype=img.dtype, device=img.device)
    return out

"""One view of the three image kinds (PIL, NumPy HWC, CHW Tensor) as backend CHW arrays.

Transforms accept a PIL image, a NumPy array of shape (H, W, C) or (H, W), or a Tensor of
shape (..., C, H, W), and return the same kind. Array kernels work on ``(..., C, H, W)``
arrays of the image's array namespace ``xp`` (NumPy, or CuPy for CUDA tensors).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

import flambeau
from flambeau._tensor import Tensor

__all__ = ["is_pil", "is_tensor", "is_ndarray", "as_chw", "get_dimensions", "get_image_size",
           "get_image_num_channels", "check_image", "draw_uniform", "draw_int", "draw_coin"]


def is_pil(img) -> bool:
    return isinstance(img, Image.Image)


def is_tensor(img) -> bool:
    return isinstance(img, Tensor)


def is_ndarray(img) -> bool:
    return isinstance(img, np.ndarray)


def check_image(img, op: str) -> None:
    """Raise a TypeError naming ``op`` unless ``img`` is one of the three image kinds."""
    if is_pil(img):
        return
    if is_tensor(img):
        if img.dim() < 2:
            raise ValueError(f"{op}: expected a tensor image of shape (..., C, H, W) or "
                             f"(H, W), got shape {tuple(img.shape)}")
        return
    if is_ndarray(img):
        if img.ndim not in (2, 3):
            raise ValueError(f"{op}: expected a NumPy image of shape (H, W, C) or (H, W), "
                             f"got shape {img.shape}")
        return
    raise TypeError(f"{op}: expected a PIL image, a NumPy array (H, W, C) or a tensor "
                    f"(..., C, H, W), got {type(img).__name__}")


def as_chw(img, op: str):
    """``(array, xp, restore)``: a (..., C, H, W) backend array and the way back.

    ``restore(array)`` wraps a result array as the kind ``img`` was (a Tensor on the same
    device, a NumPy HWC array or a PIL image of the same mode family).
    """
    check_image(img, op)
    if is_tensor(img):
        device = img._device
        data = img._data
        if data.ndim == 2:
            return data[None], device._xp, lambda a: Tensor._make(a[0], device)
        return data, device._xp, lambda a: Tensor._make(a, device)
    if is_ndarray(img):
        if img.ndim == 2:
            return img[None], np, lambda a: np.ascontiguousarray(a[0])
        return img.transpose(2, 0, 1), np, lambda a: np.ascontiguousarray(a.transpose(1, 2, 0))
    if img.mode == "1":
        img = img.convert("L")  # PIL's 1-bit images hold 0/255 once converted
    arr = np.asarray(img)
    if arr.ndim == 2:
        return arr[None], np, lambda a: Image.fromarray(np.ascontiguousarray(a[0]))
    return arr.transpose(2, 0, 1), np, lambda a: Image.fromarray(
        np.ascontiguousarray(a.transpose(1, 2, 0)))


def get_dimensions(img) -> list[int]:
    """``[channels, height, width]`` of an image of any of the three kinds.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms.functional import get_dimensions
    >>> get_dimensions(np.zeros((4, 5, 3), np.uint8))
    [3, 4, 5]
    """
    check_image(img, "get_dimensions")
    if is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    if is_tensor(img):
        shape = tuple(img.shape)
        return [1 if len(shape) == 2 else shape[-3], shape[-2], shape[-1]]
    return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]


def get_image_size(img) -> list[int]:
    """``[width, height]`` of an image (torchvision's older spelling of get_dimensions).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.functional import get_image_size
    >>> get_image_size(flambeau.zeros(3, 4, 5))
    [5, 4]
    """
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img) -> int:
    """The number of channels of an image (torchvision's older spelling of get_dimensions).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision.transforms.functional import get_image_num_channels
    >>> get_image_num_channels(Image.new("RGB", (4, 2)))
    3
    """
    return get_dimensions(img)[0]


# Random parameters come from flambeau's default CPU generator, so that flambeau.manual_seed
# and the DataLoader's per-worker seeding make random transforms reproducible.

def draw_uniform(low: float, high: float) -> float:
    """A float drawn uniformly from [low, high) with flambeau's default generator."""
    return float(flambeau.empty(1).uniform_(float(low), float(high)).item())


def draw_int(low: int, high: int) -> int:
    """An int drawn uniformly from [low, high) with flambeau's default generator."""
    return int(flambeau.randint(int(low), int(high), (1,)).item())


def draw_coin(p: float) -> bool:
    """True with probability ``p`` (flambeau's default generator)."""
    return float(flambeau.rand(1).item()) < p

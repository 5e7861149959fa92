"""flambeau.vision.utils: make_grid, save_image and drawing on image tensors.

Examples
--------
>>> import flambeau
>>> from flambeau.vision.utils import make_grid
>>> make_grid(flambeau.zeros(4, 3, 8, 8), nrow=2).shape
flambeau.Size([3, 22, 22])
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

import flambeau
from flambeau._tensor import Tensor
from flambeau.vision._draw import (
    draw_bounding_boxes,
    draw_keypoints,
    draw_segmentation_masks,
    flow_to_image,
)

__all__ = ["make_grid", "save_image", "draw_bounding_boxes", "draw_segmentation_masks",
           "draw_keypoints", "flow_to_image"]


def _as_batch(tensor):
    """A (B, C, H, W) tensor from a tensor or a list of (C, H, W) tensors."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"make_grid: every image must have the same shape, got "
                             f"{sorted(shapes)}")
        tensor = flambeau.stack(list(tensor))
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got "
                        f"{type(tensor).__name__}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        tensor = tensor.unsqueeze(0)  # one image, channels first
    if tensor.dim() != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or "
                         f"(H, W), got shape {tuple(tensor.shape)}")
    return tensor


def _rescale(arr, xp, value_range, scale_each):
    """Map ``value_range`` (default: the data's min and max) to [0, 1], clamping."""
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        arr = xp.clip(arr, low, high)
        return (arr - low) / max(high - low, 1e-5)
    axes = (1, 2, 3) if scale_each else (0, 1, 2, 3)
    low = arr.min(axis=axes, keepdims=True)
    high = arr.max(axis=axes, keepdims=True)
    return (arr - low) / xp.maximum(high - low, 1e-5)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0):
    """Tile a batch of images into one (C, H', W') image, ``nrow`` images per row.

    Parameters
    ----------
    tensor : Tensor or list of Tensor
        Images (B, C, H, W), or a list of (C, H, W); one-channel images become three-channel.
    nrow : int
        Images per row.
    padding : int
        Pixels between (and around) the images.
    normalize : bool
        Rescale to [0, 1] using ``value_range`` or the data's minimum and maximum.
    value_range : (float, float), optional
    scale_each : bool
        With ``normalize``, rescale each image by its own range.
    pad_value : float
        Value of the padding pixels.

    Returns
    -------
    Tensor
        The grid, on the input's device (a single image comes back without padding).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.utils import make_grid
    >>> grid = make_grid(flambeau.ones(3, 1, 2, 2), nrow=3, padding=1)
    >>> grid.shape, grid[0, 0].tolist()
    (flambeau.Size([3, 4, 10]), [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    batch = _as_batch(tensor).detach()
    xp, device = batch._device._xp, batch._device
    arr = batch._data
    if arr.shape[1] == 1:
        arr = xp.concatenate([arr, arr, arr], axis=1)
    if normalize:
        arr = _rescale(arr.astype(np.float32) if arr.dtype.kind != "f" else arr, xp,
                       value_range, scale_each)
    count, channels, h, w = arr.shape
    if count == 1:  # a single image is returned as it is, without a frame
        return Tensor._make(arr[0], device)
    cols = min(nrow, count)
    rows = math.ceil(count / cols)
    # Pad every cell on its top and left, add blank cells, then lay the cells out in rows:
    # one reshape instead of a copy per image.
    cells = xp.full((rows * cols, channels, h + padding, w + padding), pad_value, arr.dtype)
    cells[:count, :, padding:, padding:] = arr
    grid = cells.reshape(rows, cols, channels, h + padding, w + padding)
    grid = grid.transpose(2, 0, 3, 1, 4).reshape(channels, rows * (h + padding),
                                                 cols * (w + padding))
    out = xp.full((channels, grid.shape[1] + padding, grid.shape[2] + padding), pad_value,
                  arr.dtype)
    out[:, : grid.shape[1], : grid.shape[2]] = grid
    return Tensor._make(out, device)


def save_image(tensor, fp, format=None, **kwargs) -> None:  # noqa: A002 - torchvision's name
    """Save a tensor (or batch, through :func:`make_grid`) as an image file with Pillow.

    Values are taken to lie in [0, 1]: they are scaled by 255, rounded and clamped.

    Parameters
    ----------
    tensor : Tensor or list of Tensor
    fp : str, path-like or binary file
    format : str, optional
        Pillow format name; by default taken from the file name.
    **kwargs
        Passed on to :func:`make_grid`.

    Examples
    --------
    >>> import io, flambeau
    >>> from PIL import Image
    >>> from flambeau.vision.utils import save_image
    >>> buf = io.BytesIO()
    >>> save_image(flambeau.ones(3, 2, 2), buf, format="PNG")
    >>> Image.open(buf).getpixel((0, 0))
    (255, 255, 255)
    """
    grid = make_grid(tensor, **kwargs)
    arr = grid.detach().cpu().numpy()
    pixels = np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    image.save(fp, format=format)

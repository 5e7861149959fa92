"""Region-of-interest pooling of torchvision.ops: roi_align and roi_pool, with module forms.

Both compute the sampling geometry of the boxes on the host (boxes are few, and torchvision
gives no gradient to them) and then touch the feature map only through differentiable
flambeau ops: RoIAlign's bilinear sampling is linear in the input, so it is two batched
matrix products with interpolation matrices; RoIPool is a masked maximum.
"""

from __future__ import annotations

import numpy as np

import flambeau
from flambeau import nn
from flambeau._tensor import Tensor

__all__ = ["roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "RoIAlign", "RoIPool",
           "PSRoIAlign", "PSRoIPool"]


def _pair(value):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"output_size: expected an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _rois(name: str, input: Tensor, boxes) -> np.ndarray:
    """(K, 5) float64 rows ``(batch_index, x1, y1, x2, y2)`` on the host."""
    if not isinstance(input, Tensor) or input.dim() != 4:
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got {shape}")
    if isinstance(boxes, (list, tuple)):
        for b in boxes:
            if not isinstance(b, Tensor) or b.dim() != 2 or b.shape[1] != 4:
                shape = tuple(b.shape) if isinstance(b, Tensor) else type(b).__name__
                raise ValueError(f"{name}: the shape of the tensor in the boxes list is not "
                                 f"correct as List[Tensor[L, 4]]: got {shape}")
        if len(boxes) > input.shape[0]:
            raise ValueError(f"{name}: got boxes for {len(boxes)} images, but input has a "
                             f"batch of {input.shape[0]}")
        parts = [np.concatenate([np.full((b.shape[0], 1), i, np.float64),
                                 b.detach().cpu().numpy().astype(np.float64)], axis=1)
                 for i, b in enumerate(boxes)]
        return np.concatenate(parts) if parts else np.zeros((0, 5))
    if isinstance(boxes, Tensor):
        if boxes.dim() != 2 or boxes.shape[1] != 5:
            raise ValueError(f"{name}: the boxes tensor shape is not correct as Tensor[K, 5]: "
                             f"got {tuple(boxes.shape)}")
        rois = boxes.detach().cpu().numpy().astype(np.float64)
        if len(rois) and not (0 <= rois[:, 0].min() and rois[:, 0].max() < input.shape[0]):
            raise ValueError(f"{name}: batch indices in boxes[:, 0] must be in "
                             f"[0, {input.shape[0]}), got {rois[:, 0].min():g} to "
                             f"{rois[:, 0].max():g}")
        return rois
    raise TypeError(f"{name}: boxes is expected to be a Tensor[K, 5] or a List[Tensor[L, 4]], "
                    f"got {type(boxes).__name__}")


def _axis_weights(start, bin_size, grid, pooled, size):
    """(K, pooled, size) bilinear weights of one axis, averaged over each bin's samples.

    Entry ``[k, i, p]`` is the weight of pixel ``p`` in bin ``i`` of RoI ``k``: the sum over
    the bin's ``grid[k]`` samples of their linear interpolation weights, over ``grid[k]``.
    """
    k = len(start)
    g_max = max(int(grid.max()) if k else 1, 1)
    steps = np.arange(g_max)
    pos = (start[:, None, None] + np.arange(pooled)[None, :, None] * bin_size[:, None, None]
           + (steps[None, None, :] + 0.5) * (bin_size / np.maximum(grid, 1))[:, None, None])
    used = (steps[None, None, :] < grid[:, None, None]) & (pos >= -1.0) & (pos <= size)
    pos = np.clip(pos, 0.0, None)
    low = np.floor(pos).astype(np.int64)
    at_edge = low >= size - 1
    low = np.where(at_edge, size - 1, low)
    high = np.where(at_edge, size - 1, low + 1)
    frac = np.where(at_edge, 0.0, pos - low)
    scale = used / np.maximum(grid, 1)[:, None, None]
    roi = np.broadcast_to(np.arange(k)[:, None, None], pos.shape)
    bins = np.broadcast_to(np.arange(pooled)[None, :, None], pos.shape)
    out = np.zeros((k, pooled, size))
    np.add.at(out, (roi, bins, low), (1.0 - frac) * scale)
    np.add.at(out, (roi, bins, high), frac * scale)
    return out


def _separable_pool(input: Tensor, batch, wy, wx, position_sensitive: bool = False) -> Tensor:
    """``out[k, c, i, j] = sum_{y,x} wy[k, i, y] * wx[k, j, x] * input[batch[k], c, y, x]``.

    Bilinear RoIAlign and average pooling are both this: two matrix products, with the image
    of each RoI chosen by where its rows' weights sit. ``position_sensitive`` reads bin
    (i, j) of output channel c from input channel ``(c * ph + i) * pw + j`` (R-FCN).
    """
    n, c, h, w = input.shape
    k, ph, pw = wy.shape[0], wy.shape[1], wx.shape[1]
    rows_w = np.zeros((k, ph, n, h))
    rows_w[np.arange(k), :, batch] = wy
    wy_t = flambeau.tensor(rows_w.reshape(k * ph, n * h), dtype=input.dtype,
                           device=input.device)
    wx_t = flambeau.tensor(wx, dtype=input.dtype, device=input.device)  # (K, pw, W)
    rows = wy_t @ input.permute(0, 2, 1, 3).reshape(n * h, c * w)  # (K*ph, C*W)
    if not position_sensitive:
        out = rows.reshape(k, ph, c, w) @ wx_t.transpose(1, 2)[:, None]  # (K, ph, C, pw)
        return out.permute(0, 2, 1, 3)
    # keep, for row bin i, only the channels of bin row i: (K, C', pw, W, ph)
    rows = rows.reshape(k, ph, c // (ph * pw), ph, pw, w).diagonal(dim1=1, dim2=3)
    out = (rows * wx_t[:, None, :, :, None]).sum(3)  # (K, C', pw, ph)
    return out.transpose(2, 3)


def _align_weights(rois, ph, pw, spatial_scale, sampling_ratio, aligned, shape):
    """RoIAlign's (wy, wx) for the rows of ``rois``."""
    h, w = shape
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (rois[:, i] * spatial_scale - offset for i in range(1, 5))
    rw, rh = x2 - x1, y2 - y1
    if not aligned:
        rw, rh = np.maximum(rw, 1.0), np.maximum(rh, 1.0)
    if sampling_ratio > 0:
        gy = gx = np.full(len(rois), sampling_ratio)
    else:
        gy, gx = np.ceil(rh / ph).astype(np.int64), np.ceil(rw / pw).astype(np.int64)
    return (_axis_weights(y1, rh / ph, gy, ph, h), _axis_weights(x1, rw / pw, gx, pw, w))


def _check_position_sensitive(name: str, input: Tensor, ph: int, pw: int) -> None:
    if input.shape[1] % (ph * pw) != 0:
        raise ValueError(f"{name}: input channels must be a multiple of output height * "
                         f"output width ({ph} * {pw}), got {input.shape[1]} channels")


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """RoI Align (He et al., Mask R-CNN): average of bilinear samples in each output bin.

    Parameters
    ----------
    input : Tensor
        Feature map (N, C, H, W).
    boxes : Tensor or list of Tensor
        (K, 5) rows ``(batch_index, x1, y1, x2, y2)``, or one (L, 4) xyxy tensor per image.
    output_size : int or (int, int)
        Bins per RoI, (height, width).
    spatial_scale : float
        Factor from box coordinates to the input's (1/16 for a stride-16 feature map).
    sampling_ratio : int
        Samples per bin along each axis; ``<= 0`` takes ``ceil(roi_size / output_size)``.
    aligned : bool
        Shift boxes by -0.5 pixel so that pixel centres sit at half-integers (the correct
        alignment); ``False`` keeps the original behaviour, which also stretches RoIs
        smaller than a pixel to one pixel.

    Returns
    -------
    Tensor
        (K, C, output_size[0], output_size[1]); differentiable with respect to ``input``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import roi_align
    >>> x = flambeau.arange(16.0).reshape(1, 1, 4, 4)
    >>> roi_align(x, [flambeau.tensor([[0.0, 0.0, 2.0, 2.0]])], 2)
    tensor([[[[2.5000, 3.5000],
              [6.5000, 7.5000]]]])
    """
    ph, pw = _pair(output_size)
    rois = _rois("roi_align", input, boxes)
    wy, wx = _align_weights(rois, ph, pw, spatial_scale, sampling_ratio, aligned,
                            input.shape[2:])
    return _separable_pool(input, rois[:, 0].astype(np.int64), wy, wx)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _bin_masks(start, roi_size, pooled, size):
    """(K, pooled, size) bool: pixel ``p`` lies in bin ``i`` of RoI ``k`` (RoIPool's bins)."""
    bin_size = roi_size / pooled
    i = np.arange(pooled)[None, :]
    lo = np.clip(np.floor(i * bin_size[:, None]) + start[:, None], 0, size)
    hi = np.clip(np.ceil((i + 1) * bin_size[:, None]) + start[:, None], 0, size)
    p = np.arange(size)[None, None, :]
    return (p >= lo[:, :, None]) & (p < hi[:, :, None])


def _window(masks):
    """Crop (K, pooled, size) bin masks to the pixels any bin of any RoI uses.

    Returns the masks over (K, pooled, m) window positions and the (K, m) pixel index of each
    position: RoI k's window starts at its first used pixel; positions past the map's edge
    repeat its last pixel, masked out.
    """
    used = masks.any(axis=1)  # (K, size)
    size = masks.shape[2]
    first = np.where(used.any(axis=1), used.argmax(axis=1), 0)
    last = np.where(used.any(axis=1), size - 1 - used[:, ::-1].argmax(axis=1), 0)
    m = max(int((last - first).max()) + 1 if len(masks) else 1, 1)
    pos = first[:, None] + np.arange(m)[None, :]
    inside = pos < size
    pos = np.minimum(pos, size - 1)
    windowed = np.take_along_axis(masks, pos[:, None, :], axis=2) & inside[:, None, :]
    return windowed, pos


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoI max pooling (Girshick, Fast R-CNN): the maximum of each bin of each RoI.

    Box corners are rounded to whole pixels (both ends included); empty bins give 0.

    Parameters
    ----------
    input : Tensor
        Feature map (N, C, H, W).
    boxes : Tensor or list of Tensor
        (K, 5) rows ``(batch_index, x1, y1, x2, y2)``, or one (L, 4) xyxy tensor per image.
    output_size : int or (int, int)
    spatial_scale : float

    Returns
    -------
    Tensor
        (K, C, output_size[0], output_size[1]); differentiable with respect to ``input``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import roi_pool
    >>> x = flambeau.arange(16.0).reshape(1, 1, 4, 4)
    >>> roi_pool(x, flambeau.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]]), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    ph, pw = _pair(output_size)
    rois = _rois("roi_pool", input, boxes)
    x1, y1, x2, y2 = (_round_half_away(rois[:, i] * spatial_scale) for i in range(1, 5))
    h, w = input.shape[2], input.shape[3]
    in_h = _bin_masks(y1, np.maximum(y2 - y1 + 1, 1), ph, h)  # (K, ph, H)
    in_w = _bin_masks(x1, np.maximum(x2 - x1 + 1, 1), pw, w)  # (K, pw, W)
    # each RoI reads only its own window: gather (K, C, Hm, Wm) windows of the largest RoI's
    # size rather than K whole maps
    in_h, rows = _window(in_h)
    in_w, cols = _window(in_w)
    dev = input.device
    index = [flambeau.tensor(a, dtype=flambeau.int64, device=dev)
             for a in (rois[:, 0].astype(np.int64)[:, None, None], rows[:, :, None],
                       cols[:, None, :])]
    feats = input.permute(0, 2, 3, 1)[index[0], index[1], index[2]].permute(0, 3, 1, 2)
    neg_inf = float("-inf")
    # separable maximum, one output column (then row) at a time: a (K, C, Hm, pw, Wm) mask
    # product at once needs pw times the memory of the windows
    in_w_t = flambeau.tensor(in_w[:, None, None], device=dev)  # (K, 1, 1, pw, Wm)
    cols_max = flambeau.stack([flambeau.where(in_w_t[..., j, :], feats, neg_inf).amax(dim=-1)
                               for j in range(pw)], dim=-1)  # (K, C, Hm, pw)
    in_h_t = flambeau.tensor(in_h[:, None, :, :, None], device=dev)  # (K, 1, ph, Hm, 1)
    out = flambeau.stack([flambeau.where(in_h_t[:, :, i], cols_max, neg_inf).amax(dim=2)
                          for i in range(ph)], dim=2)  # (K, C, ph, pw)
    return flambeau.where(out == neg_inf, 0.0, out)


def ps_roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
                 sampling_ratio: int = -1) -> Tensor:
    """Position-sensitive RoI Align (Light-Head R-CNN): bin (i, j) of output channel c
    averages bilinear samples of input channel ``(c * ph + i) * pw + j``.

    Sampling is :func:`roi_align`'s with ``aligned=True``.

    Parameters
    ----------
    input : Tensor
        (N, C, H, W), C a multiple of ``ph * pw``.
    boxes : Tensor or list of Tensor
        As for :func:`roi_align`.
    output_size : int or (int, int)
        (ph, pw).
    spatial_scale : float
    sampling_ratio : int

    Returns
    -------
    Tensor
        (K, C / (ph * pw), ph, pw); differentiable with respect to ``input``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import ps_roi_align
    >>> x = flambeau.arange(4.0).reshape(1, 4, 1, 1).expand(1, 4, 2, 2)
    >>> ps_roi_align(x, flambeau.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]]), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    ph, pw = _pair(output_size)
    rois = _rois("ps_roi_align", input, boxes)
    _check_position_sensitive("ps_roi_align", input, ph, pw)
    wy, wx = _align_weights(rois, ph, pw, spatial_scale, sampling_ratio, True, input.shape[2:])
    return _separable_pool(input, rois[:, 0].astype(np.int64), wy, wx, position_sensitive=True)


def ps_roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Position-sensitive RoI average pooling (R-FCN): bin (i, j) of output channel c is the
    mean of its pixels in input channel ``(c * ph + i) * pw + j``.

    Box corners are rounded to whole pixels; empty bins give 0.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import ps_roi_pool
    >>> x = flambeau.arange(16.0).reshape(1, 1, 4, 4).expand(1, 4, 4, 4)
    >>> ps_roi_pool(x, flambeau.tensor([[0.0, 0.0, 0.0, 4.0, 4.0]]), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    ph, pw = _pair(output_size)
    rois = _rois("ps_roi_pool", input, boxes)
    _check_position_sensitive("ps_roi_pool", input, ph, pw)
    x1, y1, x2, y2 = (_round_half_away(rois[:, i] * spatial_scale) for i in range(1, 5))
    h, w = input.shape[2], input.shape[3]
    weights = []
    for start, size, pooled, extent in ((y1, y2 - y1, ph, h), (x1, x2 - x1, pw, w)):
        inside = _bin_masks(start, np.maximum(size, 1), pooled, extent).astype(np.float64)
        weights.append(inside / np.maximum(inside.sum(-1, keepdims=True), 1))
    return _separable_pool(input, rois[:, 0].astype(np.int64), *weights,
                           position_sensitive=True)


class _RoIModule(nn.Module):
    """Module form of an RoI op: ``forward`` passes ``_fields`` after the input and boxes."""

    _fields: tuple[str, ...] = ()

    @staticmethod
    def _op(input, rois, *args):
        raise NotImplementedError

    def forward(self, input: Tensor, rois) -> Tensor:
        return self._op(input, rois, *(getattr(self, f) for f in self._fields))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)}" for f in self._fields)
        return f"{type(self).__name__}({args})"


class RoIAlign(_RoIModule):
    """Module form of :func:`roi_align`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import RoIAlign
    >>> pool = RoIAlign((2, 2), spatial_scale=0.5, sampling_ratio=2)
    >>> pool(flambeau.ones(1, 3, 8, 8), [flambeau.tensor([[0.0, 0.0, 8.0, 8.0]])]).shape
    flambeau.Size([1, 3, 2, 2])
    """

    _fields = ("output_size", "spatial_scale", "sampling_ratio", "aligned")
    _op = staticmethod(roi_align)

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int,
                 aligned: bool = False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned


class RoIPool(_RoIModule):
    """Module form of :func:`roi_pool`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import RoIPool
    >>> RoIPool(3, spatial_scale=1.0)
    RoIPool(output_size=3, spatial_scale=1.0)
    """

    _fields = ("output_size", "spatial_scale")
    _op = staticmethod(roi_pool)

    def __init__(self, output_size, spatial_scale: float):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale


class PSRoIAlign(_RoIModule):
    """Module form of :func:`ps_roi_align`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import PSRoIAlign
    >>> pool = PSRoIAlign(2, spatial_scale=1.0, sampling_ratio=2)
    >>> pool(flambeau.ones(1, 8, 4, 4), flambeau.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]])).shape
    flambeau.Size([1, 2, 2, 2])
    """

    _fields = ("output_size", "spatial_scale", "sampling_ratio")
    _op = staticmethod(ps_roi_align)

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio


class PSRoIPool(_RoIModule):
    """Module form of :func:`ps_roi_pool`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import PSRoIPool
    >>> PSRoIPool(2, spatial_scale=0.5)
    PSRoIPool(output_size=2, spatial_scale=0.5)
    """

    _fields = ("output_size", "spatial_scale")
    _op = staticmethod(ps_roi_pool)

    def __init__(self, output_size, spatial_scale: float):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

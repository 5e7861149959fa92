"""Box utilities of torchvision.ops: areas, pairwise IoUs, format conversion, NMS."""

from __future__ import annotations

import math

import numpy as np

import flambeau
from flambeau._tensor import Tensor

__all__ = ["box_area", "box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou",
           "box_convert", "clip_boxes_to_image", "remove_small_boxes", "nms", "batched_nms",
           "masks_to_boxes"]

_AXIS_ALIGNED = ("xyxy", "xywh", "cxcywh")
_ROTATED = ("xywhr", "cxcywhr", "xyxyxyxy")


def _upcast(t: Tensor) -> Tensor:
    """Products of box coordinates overflow small dtypes: float16 -> float32, int8 -> int32."""
    if t.is_floating_point():
        return t if t.dtype in (flambeau.float32, flambeau.float64) else t.float()
    return t if t.dtype in (flambeau.int32, flambeau.int64) else t.int()


def _check_boxes(name: str, boxes, last: int = 4) -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{name}: expected boxes as a Tensor, got {type(boxes).__name__}")
    if boxes.dim() < 1 or boxes.shape[-1] != last:
        raise ValueError(f"{name}: expected boxes of shape (..., {last}), got shape "
                         f"{tuple(boxes.shape)}")


def _to_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    if fmt == "xyxy":
        return boxes
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xywh":
        return flambeau.stack((a, b, a + c, b + d), dim=-1)
    return flambeau.stack((a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d), dim=-1)


def _from_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    if fmt == "xyxy":
        return boxes
    x1, y1, x2, y2 = boxes.unbind(-1)
    if fmt == "xywh":
        return flambeau.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    return flambeau.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``'xyxy'`` (corners), ``'xywh'`` (corner, size) and ``'cxcywh'``.

    Parameters
    ----------
    boxes : Tensor
        Boxes of shape (..., 4).
    in_fmt, out_fmt : str
        One of ``'xyxy'``, ``'xywh'``, ``'cxcywh'``.

    Returns
    -------
    Tensor
        Boxes of shape (..., 4) in ``out_fmt`` (a copy when the formats are equal).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import box_convert
    >>> box_convert(flambeau.tensor([[1.0, 2.0, 5.0, 4.0]]), "xyxy", "cxcywh")
    tensor([[3., 3., 4., 2.]])
    """
    allowed = _AXIS_ALIGNED + _ROTATED
    if in_fmt not in allowed or out_fmt not in allowed:
        raise ValueError(f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and "
                         f"out_fmt {out_fmt}")
    if in_fmt in _ROTATED or out_fmt in _ROTATED:
        raise NotImplementedError(f"box_convert: rotated box formats ({in_fmt} -> {out_fmt}) "
                                  f"are not supported; use 'xyxy', 'xywh' or 'cxcywh'")
    _check_boxes("box_convert", boxes)
    if in_fmt == out_fmt:
        return boxes.clone()
    return _from_xyxy(_to_xyxy(boxes, in_fmt), out_fmt)


def box_area(boxes: Tensor, fmt: str = "xyxy") -> Tensor:
    """Areas of boxes of shape (..., 4) in format ``fmt``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import box_area
    >>> box_area(flambeau.tensor([[0, 0, 2, 3], [1, 1, 2, 2]]))
    tensor([6, 1])
    """
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f"Unsupported Bounding Box area for given format {fmt}")
    _check_boxes("box_area", boxes)
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _pairwise_corners(boxes1: Tensor, boxes2: Tensor):
    """Corners broadcast to (..., N, M, 2): boxes1 along N, boxes2 along M."""
    return (boxes1[..., :, None, :2], boxes1[..., :, None, 2:],
            boxes2[..., None, :, :2], boxes2[..., None, :, 2:])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor):
    """Pairwise intersection and union areas of xyxy boxes, shape (..., N, M)."""
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt1, rb1, lt2, rb2 = _pairwise_corners(boxes1, boxes2)
    wh = _upcast(flambeau.minimum(rb1, rb2) - flambeau.maximum(lt1, lt2)).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[..., :, None] + area2[..., None, :] - inter


def _enclosing_wh(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Width and height (..., N, M, 2) of the smallest box holding both boxes of a pair."""
    lt1, rb1, lt2, rb2 = _pairwise_corners(boxes1, boxes2)
    return _upcast(flambeau.maximum(rb1, rb2) - flambeau.minimum(lt1, lt2)).clamp(min=0)


def box_iou(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> Tensor:
    """Pairwise intersection over union (Jaccard index) of two sets of boxes.

    Parameters
    ----------
    boxes1 : Tensor
        (..., N, 4) boxes.
    boxes2 : Tensor
        (..., M, 4) boxes.
    fmt : str
        ``'xyxy'``, ``'xywh'`` or ``'cxcywh'``.

    Returns
    -------
    Tensor
        (..., N, M) IoUs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import box_iou
    >>> a = flambeau.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> b = flambeau.tensor([[1.0, 0.0, 3.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    >>> box_iou(a, b)
    tensor([[0.3333, 0.0000]])
    """
    if fmt in _ROTATED:
        raise NotImplementedError(f"box_iou: rotated box format {fmt!r} is not supported; use "
                                  f"'xyxy', 'xywh' or 'cxcywh'")
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f"Unsupported format '{fmt}'. Supported axis-aligned formats: "
                         f"{_AXIS_ALIGNED}. Supported rotated formats: {_ROTATED}.")
    _check_boxes("box_iou", boxes1)
    _check_boxes("box_iou", boxes2)
    inter, union = _box_inter_union(_to_xyxy(boxes1, fmt), _to_xyxy(boxes2, fmt))
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalized IoU (Rezatofighi et al., 2019) of xyxy boxes, in [-1, 1].

    IoU minus the fraction of the smallest enclosing box covered by neither box.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import generalized_box_iou
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> generalized_box_iou(a, flambeau.tensor([[2.0, 0.0, 3.0, 1.0]]))
    tensor([[-0.3333]])
    """
    _check_boxes("generalized_box_iou", boxes1)
    _check_boxes("generalized_box_iou", boxes2)
    inter, union = _box_inter_union(boxes1, boxes2)
    whi = _enclosing_wh(boxes1, boxes2)
    areai = whi[..., 0] * whi[..., 1]
    return inter / union - (areai - union) / areai


def _box_diou_iou(boxes1: Tensor, boxes2: Tensor, eps: float):
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal = whi[..., 0] ** 2 + whi[..., 1] ** 2 + eps
    c1 = (boxes1[..., :2] + boxes1[..., 2:]) / 2
    c2 = (boxes2[..., :2] + boxes2[..., 2:]) / 2
    d = _upcast(c1[..., :, None, :] - c2[..., None, :, :])
    return iou - (d[..., 0] ** 2 + d[..., 1] ** 2) / diagonal, iou


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Pairwise distance IoU (Zheng et al., 2019) of xyxy boxes.

    IoU minus the squared distance of the centres over the squared diagonal of the smallest
    enclosing box (plus ``eps``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import distance_box_iou
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> distance_box_iou(a, flambeau.tensor([[2.0, 0.0, 3.0, 1.0]]))
    tensor([[-0.4000]])
    """
    _check_boxes("distance_box_iou", boxes1)
    _check_boxes("distance_box_iou", boxes2)
    return _box_diou_iou(_upcast(boxes1), _upcast(boxes2), eps)[0]


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Pairwise complete IoU (Zheng et al., 2020) of xyxy boxes.

    The distance IoU minus an aspect-ratio consistency term ``alpha * v``; ``alpha`` is a
    constant for autograd, as in the paper.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import complete_box_iou
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> complete_box_iou(a, flambeau.tensor([[0.0, 0.0, 1.0, 2.0]]))
    tensor([[0.4468]])
    """
    _check_boxes("complete_box_iou", boxes1)
    _check_boxes("complete_box_iou", boxes2)
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    wh1 = boxes1[..., :, None, 2:] - boxes1[..., :, None, :2]
    wh2 = boxes2[..., None, :, 2:] - boxes2[..., None, :, :2]
    v = (4 / math.pi ** 2) * (flambeau.atan(wh1[..., 0] / wh1[..., 1])
                              - flambeau.atan(wh2[..., 0] / wh2[..., 1])) ** 2
    with flambeau.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def clip_boxes_to_image(boxes: Tensor, size) -> Tensor:
    """Clamp xyxy boxes (..., 4) into an image of ``size = (height, width)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import clip_boxes_to_image
    >>> clip_boxes_to_image(flambeau.tensor([[-1.0, 2.0, 12.0, 7.0]]), (5, 10))
    tensor([[ 0.,  2., 10.,  5.]])
    """
    _check_boxes("clip_boxes_to_image", boxes)
    height, width = size
    x1, y1, x2, y2 = boxes.unbind(-1)
    return flambeau.stack((x1.clamp(min=0, max=width), y1.clamp(min=0, max=height),
                           x2.clamp(min=0, max=width), y2.clamp(min=0, max=height)), dim=-1)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices (int64) of the (N, 4) xyxy boxes whose sides are both at least ``min_size``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import remove_small_boxes
    >>> remove_small_boxes(flambeau.tensor([[0.0, 0.0, 1.0, 5.0], [0.0, 0.0, 3.0, 3.0]]), 2.0)
    tensor([1])
    """
    _check_boxes("remove_small_boxes", boxes)
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return flambeau.where((ws >= min_size) & (hs >= min_size))[0]


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression of xyxy boxes.

    Keeps the highest-scoring box, drops every remaining box whose IoU with it is greater
    than ``iou_threshold``, and repeats. Equal scores keep their input order.

    Parameters
    ----------
    boxes : Tensor
        (N, 4) boxes, ``0 <= x1 < x2`` and ``0 <= y1 < y2``.
    scores : Tensor
        (N,) scores.
    iou_threshold : float

    Returns
    -------
    Tensor
        int64 indices of the kept boxes, by decreasing score.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import nms
    >>> boxes = flambeau.tensor([[0.0, 0.0, 2.0, 2.0], [0.1, 0.0, 2.1, 2.0], [3.0, 3.0, 4.0, 4.0]])
    >>> nms(boxes, flambeau.tensor([0.5, 0.9, 0.7]), 0.5)
    tensor([1, 2])
    """
    _check_boxes("nms", boxes)
    if boxes.dim() != 2:
        raise ValueError(f"nms: expected boxes of shape (N, 4), got shape {tuple(boxes.shape)}")
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"nms: expected scores of shape ({boxes.shape[0]},) for boxes of shape "
                         f"{tuple(boxes.shape)}, got shape {tuple(scores.shape)}")
    if boxes.shape[0] == 0:
        return flambeau.empty((0,), dtype=flambeau.int64, device=boxes.device)
    with flambeau.no_grad():
        order = flambeau.argsort(scores, descending=True, stable=True)
        sorted_boxes = boxes.detach()[order]
        iou = box_iou(sorted_boxes, sorted_boxes).cpu().numpy()
    over = iou > iou_threshold  # NaN (empty boxes) never suppresses, as torchvision's kernel
    suppressed = np.zeros(len(over), dtype=bool)
    kept = []
    # the greedy pass is sequential by definition; each step is one vectorized row
    for i in range(len(over)):
        if not suppressed[i]:
            kept.append(i)
            suppressed |= over[i]
    keep = flambeau.tensor(kept, dtype=flambeau.int64, device=boxes.device)
    return order[keep]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category ``idxs``: boxes of different categories never suppress.

    Returns int64 indices of the kept boxes, by decreasing score.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import batched_nms
    >>> boxes = flambeau.tensor([[0.0, 0.0, 2.0, 2.0], [0.1, 0.0, 2.1, 2.0], [0.0, 0.0, 2.0, 2.0]])
    >>> batched_nms(boxes, flambeau.tensor([0.9, 0.8, 0.7]), flambeau.tensor([0, 0, 1]), 0.5)
    tensor([0, 2])
    """
    _check_boxes("batched_nms", boxes)
    if idxs.shape != scores.shape:
        raise ValueError(f"batched_nms: expected idxs of the shape of scores "
                         f"{tuple(scores.shape)}, got shape {tuple(idxs.shape)}")
    if boxes.numel() == 0:
        return flambeau.empty((0,), dtype=flambeau.int64, device=boxes.device)
    with flambeau.no_grad():
        # shift each category's boxes past every other category's: one NMS call does them all
        boxes = boxes.detach()
        offsets = idxs.to(boxes.dtype) * (boxes.max() + 1)
        return nms(boxes + offsets[:, None], scores, iou_threshold)


def masks_to_boxes(masks: Tensor) -> Tensor:
    """The xyxy bounding box (float32, inclusive pixel indices) of each of (N, H, W) masks.

    An empty mask gives the box ``[0, 0, 0, 0]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import masks_to_boxes
    >>> masks = flambeau.zeros(1, 4, 5)
    >>> masks[0, 1:3, 2:5] = 1
    >>> masks_to_boxes(masks)
    tensor([[2., 1., 4., 2.]])
    """
    if not isinstance(masks, Tensor):
        raise TypeError(f"masks_to_boxes: expected a Tensor, got {type(masks).__name__}")
    if masks.numel() == 0:
        return flambeau.zeros((0, 4), dtype=flambeau.float32, device=masks.device)
    if masks.dim() != 3:
        raise ValueError(f"masks_to_boxes: expected masks of shape (N, H, W), got shape "
                         f"{tuple(masks.shape)}")
    n, h, w = masks.shape
    nonzero = masks != 0
    rows, cols = nonzero.any(dim=2), nonzero.any(dim=1)  # (N, H), (N, W)

    def first_last(hit, size):
        pos = flambeau.arange(size, device=masks.device).expand(n, size)
        first = flambeau.where(hit, pos, size).amin(dim=1)
        last = flambeau.where(hit, pos, -1).amax(dim=1)
        return first, last

    y1, y2 = first_last(rows, h)
    x1, x2 = first_last(cols, w)
    boxes = flambeau.stack((x1, y1, x2, y2), dim=1).float()
    return flambeau.where(rows.any(dim=1, keepdim=True), boxes, 0.0)

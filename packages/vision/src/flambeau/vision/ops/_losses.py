"""Box regression losses and the focal loss of torchvision.ops (elementwise over pairs)."""

from __future__ import annotations

import math

import flambeau
from flambeau._tensor import Tensor
from flambeau.nn import functional as F
from flambeau.vision.ops._boxes import _check_boxes, _upcast

__all__ = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss",
           "sigmoid_focal_loss"]


def _reduce(loss: Tensor, reduction: str, empty_mean_is_zero: bool = True) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        if empty_mean_is_zero and loss.numel() == 0:
            return 0.0 * loss.sum()
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction "
                     f"modes: 'none', 'mean', 'sum'")


def _prepare(name: str, boxes1: Tensor, boxes2: Tensor):
    _check_boxes(name, boxes1)
    _check_boxes(name, boxes2)
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    return boxes1.unbind(-1), boxes2.unbind(-1)


def _inter_union_enclosing(b1, b2):
    """Intersection, union and enclosing-box corners of corresponding boxes."""
    x1, y1, x2, y2 = b1
    x1g, y1g, x2g, y2g = b2
    iw = flambeau.minimum(x2, x2g) - flambeau.maximum(x1, x1g)
    ih = flambeau.minimum(y2, y2g) - flambeau.maximum(y1, y1g)
    # disjoint boxes: zero, and no gradient through the (negative) overlap
    inter = flambeau.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    enclosing = (flambeau.minimum(x1, x1g), flambeau.minimum(y1, y1g),
                 flambeau.maximum(x2, x2g), flambeau.maximum(y2, y2g))
    return inter, union, enclosing


def generalized_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                             eps: float = 1e-7) -> Tensor:
    """``1 - GIoU`` of corresponding xyxy boxes (..., 4), in [0, 2].

    Parameters
    ----------
    boxes1, boxes2 : Tensor
        Predicted and target boxes, broadcastable shapes (..., 4).
    reduction : str
        ``'none'``, ``'mean'`` or ``'sum'``.
    eps : float
        Added to the denominators.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import generalized_box_iou_loss
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> generalized_box_iou_loss(a, flambeau.tensor([[2.0, 0.0, 3.0, 1.0]]))
    tensor([1.3333])
    """
    b1, b2 = _prepare("generalized_box_iou_loss", boxes1, boxes2)
    inter, union, (xc1, yc1, xc2, yc2) = _inter_union_enclosing(b1, b2)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    giou = inter / (union + eps) - (area_c - union) / (area_c + eps)
    return _reduce(1 - giou, reduction)


def _diou_loss(b1, b2, eps):
    inter, union, (xc1, yc1, xc2, yc2) = _inter_union_enclosing(b1, b2)
    iou = inter / (union + eps)
    diagonal = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    x1, y1, x2, y2 = b1
    x1g, y1g, x2g, y2g = b2
    centres = ((x1 + x2) / 2 - (x1g + x2g) / 2) ** 2 + ((y1 + y2) / 2 - (y1g + y2g) / 2) ** 2
    return 1 - iou + centres / diagonal, iou


def distance_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                          eps: float = 1e-7) -> Tensor:
    """``1 - DIoU`` of corresponding xyxy boxes (..., 4).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import distance_box_iou_loss
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> distance_box_iou_loss(a, flambeau.tensor([[2.0, 0.0, 3.0, 1.0]]))
    tensor([1.4000])
    """
    b1, b2 = _prepare("distance_box_iou_loss", boxes1, boxes2)
    return _reduce(_diou_loss(b1, b2, eps)[0], reduction)


def complete_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                          eps: float = 1e-7) -> Tensor:
    """``1 - CIoU`` of corresponding xyxy boxes (..., 4); ``alpha`` is a constant for autograd.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import complete_box_iou_loss
    >>> a = flambeau.tensor([[0.0, 0.0, 1.0, 1.0]])
    >>> complete_box_iou_loss(a, flambeau.tensor([[0.0, 0.0, 1.0, 2.0]]))
    tensor([0.5532])
    """
    b1, b2 = _prepare("complete_box_iou_loss", boxes1, boxes2)
    # torchvision's ciou loss uses the default eps for its DIoU part, whatever eps is given
    diou_loss, iou = _diou_loss(b1, b2, 1e-7)
    x1, y1, x2, y2 = b1
    x1g, y1g, x2g, y2g = b2
    v = (4 / math.pi ** 2) * (flambeau.atan((x2g - x1g) / (y2g - y1g))
                              - flambeau.atan((x2 - x1) / (y2 - y1))) ** 2
    with flambeau.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(diou_loss + alpha * v, reduction)


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2,
                       reduction: str = "none") -> Tensor:
    """Focal loss (Lin et al., 2017) of logits ``inputs`` against binary ``targets``.

    ``alpha_t * (1 - p_t) ** gamma * BCE``; ``alpha=-1`` leaves out the class weighting.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import sigmoid_focal_loss
    >>> sigmoid_focal_loss(flambeau.tensor([0.0, 2.0]), flambeau.tensor([1.0, 0.0]))
    tensor([0.0433, 1.2376])
    """
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(f"Invalid alpha value: {alpha}. alpha must be in the range [0,1] or -1 "
                         f"for ignore.")
    p = flambeau.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction, empty_mean_is_zero=False)

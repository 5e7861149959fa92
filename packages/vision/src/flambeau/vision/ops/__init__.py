"""flambeau.vision.ops: detection operators and layers (torchvision.ops' API).

Examples
--------
>>> import flambeau
>>> from flambeau.vision import ops
>>> boxes = flambeau.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
>>> ops.box_iou(boxes, boxes)
tensor([[1.0000, 0.1429],
        [0.1429, 1.0000]])
"""

from flambeau.vision.ops._boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from flambeau.vision.ops._losses import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    sigmoid_focal_loss,
)
from flambeau.vision.ops._misc import (
    MLP,
    Conv2dNormActivation,
    Conv3dNormActivation,
    DropBlock2d,
    FrozenBatchNorm2d,
    Permute,
    SqueezeExcitation,
    StochasticDepth,
    drop_block2d,
    stochastic_depth,
)
from flambeau.vision.ops._poolers import MultiScaleRoIAlign
from flambeau.vision.ops._roi import (
    PSRoIAlign,
    PSRoIPool,
    RoIAlign,
    RoIPool,
    ps_roi_align,
    ps_roi_pool,
    roi_align,
    roi_pool,
)

__all__ = [
    "box_area", "box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou",
    "box_convert", "clip_boxes_to_image", "remove_small_boxes", "nms", "batched_nms",
    "masks_to_boxes", "generalized_box_iou_loss", "distance_box_iou_loss",
    "complete_box_iou_loss", "sigmoid_focal_loss", "roi_align", "roi_pool", "RoIAlign",
    "RoIPool", "Conv2dNormActivation", "Conv3dNormActivation", "SqueezeExcitation", "MLP",
    "Permute", "FrozenBatchNorm2d", "StochasticDepth", "stochastic_depth", "DropBlock2d",
    "drop_block2d", "ps_roi_align", "ps_roi_pool", "PSRoIAlign", "PSRoIPool",
    "MultiScaleRoIAlign",
]

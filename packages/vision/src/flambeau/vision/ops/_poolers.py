"""MultiScaleRoIAlign (feature pyramid RoI pooling, Lin et al., 2017) of torchvision.ops."""

from __future__ import annotations

import math

import numpy as np

import flambeau
from flambeau import nn
from flambeau.vision.ops._roi import roi_align

__all__ = ["MultiScaleRoIAlign"]


def _level_of_boxes(boxes: np.ndarray, k_min: int, k_max: int, canonical_scale: int,
                    canonical_level: int, eps: float = 1e-6) -> np.ndarray:
    """Pyramid level of each box (eq. 1 of the FPN paper), counted from ``k_min``."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    with np.errstate(divide="ignore"):
        level = np.floor(canonical_level + np.log2(np.sqrt(area) / canonical_scale) + eps)
    return (np.clip(level, k_min, k_max) - k_min).astype(np.int64)


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign over a feature pyramid: each box is pooled from the level that suits its size.

    A box of side ``s`` goes to level ``floor(canonical_level + log2(s / canonical_scale))``,
    clamped to the available levels; each level's scale (a power of 2) is inferred on the
    first call from its size relative to the largest image.

    Parameters
    ----------
    featmap_names : list of str
        Keys of the feature maps to use, in the input dict's order (finest first).
    output_size : int or (int, int)
    sampling_ratio : int
        As for :func:`roi_align`.
    canonical_scale, canonical_level : int
        The box size that maps to ``canonical_level`` (224 and 4, as ImageNet backbones).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.ops import MultiScaleRoIAlign
    >>> pool = MultiScaleRoIAlign(["p2", "p3"], 3, 2)
    >>> feats = {"p2": flambeau.ones(1, 4, 16, 16), "p3": flambeau.ones(1, 4, 8, 8)}
    >>> boxes = [flambeau.tensor([[0.0, 0.0, 20.0, 20.0], [0.0, 0.0, 60.0, 60.0]])]
    >>> pool(feats, boxes, [(64, 64)]).shape
    flambeau.Size([2, 4, 3, 3])
    >>> pool.scales
    [0.25, 0.125]
    """

    def __init__(self, featmap_names, output_size, sampling_ratio: int, *,
                 canonical_scale: int = 224, canonical_level: int = 4):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None  # (k_min, k_max) once the scales are known
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def _setup_scales(self, features, image_shapes):
        if not image_shapes:
            raise ValueError("MultiScaleRoIAlign: images list should not be empty")
        largest = max(s[0] for s in image_shapes)
        # the first dimension decides, as torchvision's: feature / image height, rounded to 2^k
        self.scales = [2.0 ** float(np.round(math.log2(f.shape[-2] / largest)))
                       for f in features]
        self.map_levels = (int(-math.log2(self.scales[0])), int(-math.log2(self.scales[-1])))

    def forward(self, x, boxes, image_shapes):
        features = [v for k, v in x.items() if k in self.featmap_names]
        if not features:
            raise ValueError(f"MultiScaleRoIAlign: none of featmap_names {self.featmap_names} "
                             f"is in the input's keys {list(x)}")
        if self.scales is None or self.map_levels is None:
            self._setup_scales(features, image_shapes)
        rois = flambeau.cat([flambeau.cat([flambeau.full_like(b[:, :1], i), b], dim=1)
                             for i, b in enumerate(boxes)])
        if len(features) == 1:
            return roi_align(features[0], rois, self.output_size, self.scales[0],
                             self.sampling_ratio)
        levels = _level_of_boxes(rois[:, 1:].detach().cpu().numpy().astype(np.float64),
                                 *self.map_levels, self.canonical_scale, self.canonical_level)
        # one roi_align per pyramid level (a handful), then the rows back in the boxes' order
        order, pooled = [], []
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            idx = np.flatnonzero(levels == level)
            if len(idx) == 0:
                continue
            index = flambeau.tensor(idx, dtype=flambeau.int64, device=rois.device)
            pooled.append(roi_align(feature, rois[index], self.output_size, scale,
                                    self.sampling_ratio))
            order.append(idx)
        if not pooled:
            return features[0].new_zeros((0, features[0].shape[1]) + self.output_size)
        inverse = np.argsort(np.concatenate(order), kind="stable")
        inverse = flambeau.tensor(inverse, dtype=flambeau.int64, device=rois.device)
        return flambeau.cat(pooled)[inverse]

    def __repr__(self):
        return (f"{type(self).__name__}(featmap_names={self.featmap_names}, "
                f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})")

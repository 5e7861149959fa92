"""flambeau.vision.ops boxes and box losses against loop-by-loop NumPy references."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck
from flambeau.vision import ops


def _random_boxes(rng, n, scale=10.0):
    xy = rng.uniform(0, scale, size=(n, 2))
    wh = rng.uniform(0.5, scale / 2, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def _ref_pair(a, b):
    """IoU, GIoU, DIoU, CIoU of two xyxy boxes, one number at a time."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    iou = inter / union
    cw = max(a[2], b[2]) - min(a[0], b[0])
    ch = max(a[3], b[3]) - min(a[1], b[1])
    giou = iou - (cw * ch - union) / (cw * ch)
    centre = (((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2
              + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2)
    diou = iou - centre / (cw ** 2 + ch ** 2 + 1e-7)
    v = 4 / math.pi ** 2 * (math.atan((a[2] - a[0]) / (a[3] - a[1]))
                            - math.atan((b[2] - b[0]) / (b[3] - b[1]))) ** 2
    ciou = diou - v / (1 - iou + v + 1e-7) * v
    return iou, giou, diou, ciou


def _ref_matrix(b1, b2, which):
    return np.array([[_ref_pair(a, b)[which] for b in b2] for a in b1])


@pytest.mark.parametrize("which,fn", [(0, ops.box_iou), (1, ops.generalized_box_iou),
                                      (2, ops.distance_box_iou), (3, ops.complete_box_iou)])
def test_pairwise_ious_match_loops(which, fn):
    rng = np.random.default_rng(which)
    b1, b2 = _random_boxes(rng, 5), _random_boxes(rng, 4)
    got = fn(flambeau.tensor(b1), flambeau.tensor(b2)).cpu().numpy()
    assert got.shape == (5, 4)
    np.testing.assert_allclose(got, _ref_matrix(b1, b2, which), rtol=1e-6, atol=1e-9)


def test_box_iou_batched_and_formats():
    rng = np.random.default_rng(1)
    b1 = np.stack([_random_boxes(rng, 3) for _ in range(2)])
    b2 = np.stack([_random_boxes(rng, 4) for _ in range(2)])
    got = ops.box_iou(flambeau.tensor(b1), flambeau.tensor(b2)).cpu().numpy()
    assert got.shape == (2, 3, 4)
    for k in range(2):
        np.testing.assert_allclose(got[k], _ref_matrix(b1[k], b2[k], 0), rtol=1e-6)
    t1, t2 = flambeau.tensor(b1[0]), flambeau.tensor(b2[0])
    for fmt in ("xywh", "cxcywh"):
        got = ops.box_iou(ops.box_convert(t1, "xyxy", fmt), ops.box_convert(t2, "xyxy", fmt),
                          fmt=fmt).cpu().numpy()
        np.testing.assert_allclose(got, _ref_matrix(b1[0], b2[0], 0), rtol=1e-6)


def test_box_iou_hand_computed_and_integer_boxes():
    a = flambeau.tensor([[0, 0, 2, 2]], dtype=flambeau.int16)
    b = flambeau.tensor([[1, 1, 3, 3], [2, 0, 4, 2]], dtype=flambeau.int16)
    np.testing.assert_allclose(ops.box_iou(a, b).cpu().numpy(), [[1 / 7, 0.0]], rtol=1e-6)
    area = ops.box_area(flambeau.tensor([[0, 0, 200, 200]], dtype=flambeau.int16))
    assert area.dtype == flambeau.int32 and area.cpu().numpy().tolist() == [40000]
    half = ops.box_area(flambeau.tensor([[0.0, 0.0, 300.0, 300.0]], dtype=flambeau.float16))
    assert half.dtype == flambeau.float32 and half.cpu().numpy().tolist() == [90000.0]


def test_box_area_formats():
    xyxy = flambeau.tensor([[1.0, 2.0, 4.0, 7.0]])
    assert ops.box_area(xyxy).cpu().numpy().tolist() == [15.0]
    assert ops.box_area(ops.box_convert(xyxy, "xyxy", "xywh"), fmt="xywh").cpu().numpy()[0] == 15
    assert ops.box_area(ops.box_convert(xyxy, "xyxy", "cxcywh"), "cxcywh").cpu().numpy()[0] == 15


def test_box_convert_round_trips_and_values():
    b = flambeau.tensor([[1.0, 2.0, 5.0, 4.0]])
    assert ops.box_convert(b, "xyxy", "xywh").cpu().numpy().tolist() == [[1, 2, 4, 2]]
    assert ops.box_convert(b, "xyxy", "cxcywh").cpu().numpy().tolist() == [[3, 3, 4, 2]]
    assert ops.box_convert(flambeau.tensor([[3.0, 3.0, 4.0, 2.0]]), "cxcywh",
                           "xywh").cpu().numpy().tolist() == [[1, 2, 4, 2]]
    rng = np.random.default_rng(2)
    boxes = flambeau.tensor(_random_boxes(rng, 6).reshape(2, 3, 4))
    for a in ("xyxy", "xywh", "cxcywh"):
        for c in ("xyxy", "xywh", "cxcywh"):
            back = ops.box_convert(ops.box_convert(boxes, a, c), c, a)
            np.testing.assert_allclose(back.cpu().numpy(), boxes.cpu().numpy(), rtol=1e-12)
    same = ops.box_convert(b, "xyxy", "xyxy")
    same[0, 0] = 9.0
    assert b.cpu().numpy()[0, 0] == 1.0  # a copy, as torchvision's


def test_box_errors():
    b = flambeau.zeros(2, 4)
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions for given in_fmt "
                                         "xyxy and out_fmt xyz"):
        ops.box_convert(b, "xyxy", "xyz")
    with pytest.raises(NotImplementedError, match=r"box_convert: rotated box formats "
                                                  r"\(xyxy -> cxcywhr\)"):
        ops.box_convert(b, "xyxy", "cxcywhr")
    with pytest.raises(ValueError, match="Unsupported Bounding Box area for given format xyz"):
        ops.box_area(b, fmt="xyz")
    with pytest.raises(ValueError, match=r"box_iou: expected boxes of shape \(\.\.\., 4\), got "
                                         r"shape \(2, 3\)"):
        ops.box_iou(flambeau.zeros(2, 3), b)
    with pytest.raises(ValueError, match="Unsupported format 'abc'"):
        ops.box_iou(b, b, fmt="abc")
    with pytest.raises(NotImplementedError, match="box_iou: rotated box format 'xywhr'"):
        ops.box_iou(b, b, fmt="xywhr")
    with pytest.raises(TypeError, match="box_area: expected boxes as a Tensor, got list"):
        ops.box_area([[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"nms: expected scores of shape \(2,\) for boxes of "
                                         r"shape \(2, 4\), got shape \(3,\)"):
        ops.nms(b, flambeau.zeros(3), 0.5)
    with pytest.raises(ValueError, match=r"nms: expected boxes of shape \(N, 4\), got shape "
                                         r"\(1, 2, 4\)"):
        ops.nms(flambeau.zeros(1, 2, 4), flambeau.zeros(2), 0.5)
    with pytest.raises(ValueError, match=r"batched_nms: expected idxs of the shape of scores "
                                         r"\(2,\), got shape \(3,\)"):
        ops.batched_nms(b, flambeau.zeros(2), flambeau.zeros(3), 0.5)
    with pytest.raises(ValueError, match=r"masks_to_boxes: expected masks of shape \(N, H, W\), "
                                         r"got shape \(2, 3\)"):
        ops.masks_to_boxes(flambeau.ones(2, 3))
    with pytest.raises(TypeError, match="masks_to_boxes: expected a Tensor, got ndarray"):
        ops.masks_to_boxes(np.ones((1, 2, 2)))


def test_clip_and_remove_small():
    boxes = flambeau.tensor([[[-1.0, 2.0, 12.0, 7.0], [3.0, -4.0, 5.0, 4.0]]])
    got = ops.clip_boxes_to_image(boxes, (5, 10)).cpu().numpy()
    assert got.tolist() == [[[0, 2, 10, 5], [3, 0, 5, 4]]]
    small = flambeau.tensor([[0.0, 0.0, 1.0, 5.0], [0.0, 0.0, 3.0, 3.0], [1.0, 1.0, 3.0, 3.0]])
    keep = ops.remove_small_boxes(small, 2.0)
    assert keep.dtype == flambeau.int64 and keep.cpu().numpy().tolist() == [1, 2]


def _ref_nms(boxes, scores, thr):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])  # stable on ties
    keep, removed = [], set()
    for pos, i in enumerate(order):
        if i in removed:
            continue
        keep.append(i)
        for j in order[pos + 1:]:
            if _ref_pair(boxes[i], boxes[j])[0] > thr:
                removed.add(j)
    return keep


@pytest.mark.parametrize("thr", [0.0, 0.2, 0.5, 0.8])
def test_nms_matches_greedy_loop(thr):
    rng = np.random.default_rng(int(thr * 10))
    boxes = _random_boxes(rng, 30, scale=20.0)
    scores = rng.uniform(size=30)
    got = ops.nms(flambeau.tensor(boxes), flambeau.tensor(scores), thr)
    assert got.dtype == flambeau.int64
    assert got.cpu().numpy().tolist() == _ref_nms(boxes, scores, thr)


def test_nms_ties_threshold_and_empty():
    boxes = flambeau.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0],
                             [5.0, 5.0, 6.0, 6.0]])
    scores = flambeau.tensor([0.5, 0.5, 0.5, 0.5])
    # equal scores keep input order; identical boxes suppress each other
    assert ops.nms(boxes, scores, 0.5).cpu().numpy().tolist() == [0, 2, 3]
    # IoU of boxes 0 and 2 is exactly 1/3: only a strictly greater IoU suppresses
    assert ops.nms(boxes, scores, 1 / 3).cpu().numpy().tolist() == [0, 2, 3]
    assert ops.nms(boxes, scores, 0.3).cpu().numpy().tolist() == [0, 3]
    empty = ops.nms(flambeau.zeros(0, 4), flambeau.zeros(0), 0.5)
    assert empty.dtype == flambeau.int64 and tuple(empty.shape) == (0,)


def test_batched_nms_matches_per_class_loop():
    rng = np.random.default_rng(5)
    boxes = _random_boxes(rng, 40, scale=15.0)
    scores = rng.uniform(size=40)
    idxs = rng.integers(0, 3, size=40)
    got = ops.batched_nms(flambeau.tensor(boxes), flambeau.tensor(scores),
                          flambeau.tensor(idxs), 0.4).cpu().numpy().tolist()
    kept = []
    for c in range(3):
        members = np.flatnonzero(idxs == c)
        kept += [int(members[k]) for k in _ref_nms(boxes[members], scores[members], 0.4)]
    assert got == sorted(kept, key=lambda i: -scores[i])
    empty = ops.batched_nms(flambeau.zeros(0, 4), flambeau.zeros(0), flambeau.zeros(0), 0.5)
    assert empty.dtype == flambeau.int64 and tuple(empty.shape) == (0,)


def test_masks_to_boxes():
    masks = np.zeros((3, 5, 6), dtype=np.uint8)
    masks[0, 1:4, 2:5] = 1
    masks[1, 4, 0] = 7
    masks[1, 0, 5] = 1
    got = ops.masks_to_boxes(flambeau.tensor(masks))
    assert got.dtype == flambeau.float32
    assert got.cpu().numpy().tolist() == [[2, 1, 4, 3], [0, 0, 5, 4], [0, 0, 0, 0]]
    assert tuple(ops.masks_to_boxes(flambeau.zeros(0, 4, 4)).shape) == (0, 4)


def test_box_losses_match_pairwise_references():
    rng = np.random.default_rng(7)
    b1, b2 = _random_boxes(rng, 6), _random_boxes(rng, 6)
    t1, t2 = flambeau.tensor(b1), flambeau.tensor(b2)
    refs = np.array([_ref_pair(a, b) for a, b in zip(b1, b2)])
    # the losses add eps to the IoU's denominators: equal to the pairwise metric within 1e-6
    np.testing.assert_allclose(ops.generalized_box_iou_loss(t1, t2).cpu().numpy(),
                               1 - refs[:, 1], rtol=1e-6)
    np.testing.assert_allclose(ops.distance_box_iou_loss(t1, t2).cpu().numpy(),
                               1 - refs[:, 2], rtol=1e-6)
    np.testing.assert_allclose(ops.complete_box_iou_loss(t1, t2).cpu().numpy(),
                               1 - refs[:, 3], rtol=1e-6)
    total = ops.generalized_box_iou_loss(t1, t2, reduction="sum").item()
    mean = ops.generalized_box_iou_loss(t1, t2, reduction="mean").item()
    assert total == pytest.approx((1 - refs[:, 1]).sum()) and mean == pytest.approx(total / 6)
    empty = ops.distance_box_iou_loss(flambeau.zeros(0, 4), flambeau.zeros(0, 4), "mean")
    assert empty.item() == 0.0
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction': 'avg"):
        ops.complete_box_iou_loss(t1, t2, reduction="avg")


def test_sigmoid_focal_loss():
    x = np.array([[-1.5, 0.0, 2.0], [0.3, -0.2, 4.0]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    for alpha, gamma in [(0.25, 2.0), (-1, 1.5), (0.7, 0.0)]:
        ref = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            ref = (alpha * t + (1 - alpha) * (1 - t)) * ref
        got = ops.sigmoid_focal_loss(flambeau.tensor(x), flambeau.tensor(t), alpha, gamma)
        np.testing.assert_allclose(got.cpu().numpy(), ref, rtol=1e-10)
    mean = ops.sigmoid_focal_loss(flambeau.tensor(x), flambeau.tensor(t), reduction="mean")
    assert mean.item() == pytest.approx(float(np.mean(
        (0.25 * t + 0.75 * (1 - t)) * ce * (1 - p_t) ** 2)))
    with pytest.raises(ValueError, match="Invalid alpha value: 2. alpha must be in the range"):
        ops.sigmoid_focal_loss(flambeau.tensor(x), flambeau.tensor(t), alpha=2)


def test_gradients():
    rng = np.random.default_rng(9)
    b1 = flambeau.tensor(_random_boxes(rng, 3), requires_grad=True)
    b2 = flambeau.tensor(_random_boxes(rng, 2), requires_grad=True)
    for fn in (ops.box_iou, ops.generalized_box_iou, ops.distance_box_iou):
        assert gradcheck(fn, (b1, b2))
    # overlapping pairs so the intersection term carries gradient
    p = flambeau.tensor([[0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 4.0, 2.5]], dtype=flambeau.float64,
                        requires_grad=True)
    q = flambeau.tensor([[0.5, 1.0, 2.5, 2.0], [0.0, 0.0, 3.0, 2.0]], dtype=flambeau.float64,
                        requires_grad=True)
    for fn in (ops.generalized_box_iou_loss, ops.distance_box_iou_loss):
        assert gradcheck(fn, (p, q))
    x = flambeau.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    t = flambeau.tensor((rng.uniform(size=(2, 3)) > 0.5).astype(float))
    assert gradcheck(lambda a: ops.sigmoid_focal_loss(a, t), (x,))
    boxes = flambeau.tensor([[-1.0, 2.0, 12.0, 7.0]], requires_grad=True)
    ops.clip_boxes_to_image(boxes, (5, 10)).sum().backward()
    assert boxes.grad.cpu().numpy().tolist() == [[0.0, 1.0, 0.0, 0.0]]


def _ciou_frozen_alpha(a, b, alpha):
    iou, _, diou, _ = _ref_pair(a, b)
    v = 4 / math.pi ** 2 * (math.atan((a[2] - a[0]) / (a[3] - a[1]))
                            - math.atan((b[2] - b[0]) / (b[3] - b[1]))) ** 2
    return diou - alpha * v


def test_complete_iou_gradient_holds_alpha_constant():
    # CIoU's alpha is computed without gradient (as the paper and torchvision): finite
    # differences of the CIoU with alpha frozen at the evaluation point are the reference
    a = np.array([0.0, 0.0, 2.0, 3.0])
    b = np.array([0.5, 1.0, 2.5, 2.0])
    iou = _ref_pair(a, b)[0]
    v = 4 / math.pi ** 2 * (math.atan(2 / 3) - math.atan(2.0)) ** 2
    alpha = v / (1 - iou + v + 1e-7)
    ref = np.zeros(4)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        ref[k] = (_ciou_frozen_alpha(a + step, b, alpha)
                  - _ciou_frozen_alpha(a - step, b, alpha)) / 2e-6
    ta = flambeau.tensor(a[None], requires_grad=True)
    ops.complete_box_iou(ta, flambeau.tensor(b[None])).sum().backward()
    np.testing.assert_allclose(ta.grad.cpu().numpy()[0], ref, rtol=1e-5, atol=1e-8)
    tl = flambeau.tensor(a[None], requires_grad=True)
    ops.complete_box_iou_loss(tl, flambeau.tensor(b[None])).sum().backward()
    np.testing.assert_allclose(tl.grad.cpu().numpy()[0], -ref, rtol=1e-4, atol=1e-7)

"""Drawing utilities of flambeau.vision.utils against hand-computed pixels and loop references."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau
from flambeau.vision.utils import (
    draw_bounding_boxes,
    draw_keypoints,
    draw_segmentation_masks,
    flow_to_image,
)


def _u8(arr):
    return flambeau.tensor(np.asarray(arr, dtype=np.uint8))


def test_draw_bounding_boxes_outline_width_and_colors():
    image = _u8(np.zeros((3, 8, 8)))
    out = draw_bounding_boxes(image, flambeau.tensor([[1, 1, 6, 5]]), colors=[(10, 20, 30)],
                              width=2).cpu().numpy()
    assert out.dtype == np.uint8 and out.shape == (3, 8, 8)
    ring = np.zeros((8, 8), bool)
    ring[1:6, 1:7] = True
    ring[3:4, 3:5] = False  # a width-2 outline grows inwards
    for c, v in enumerate((10, 20, 30)):
        np.testing.assert_array_equal(out[c], np.where(ring, v, 0))
    # default palette: (i * (2**25 - 1, 2**15 - 1, 2**21 - 1)) % 255 for box i
    two = draw_bounding_boxes(image, flambeau.tensor([[0, 0, 2, 2], [4, 4, 7, 7]])).cpu().numpy()
    assert tuple(two[:, 0, 0]) == (0, 0, 0)
    assert tuple(two[:, 4, 4]) == tuple((2 ** 25 - 1) % 255 if k == 0 else
                                        ((2 ** 15 - 1) % 255 if k == 1 else (2 ** 21 - 1) % 255)
                                        for k in range(3))


def test_draw_bounding_boxes_fill_float_grayscale_and_labels():
    gray = flambeau.zeros(1, 6, 6)
    out = draw_bounding_boxes(gray, flambeau.tensor([[0.0, 0.0, 5.0, 5.0]]), colors="red",
                              fill=True).cpu().numpy()
    assert out.dtype == np.float32 and out.shape == (3, 6, 6)
    assert out[0, 0, 0] == 1.0 and out[1, 0, 0] == 0.0
    # the fill is the colour at alpha 100/255 over black
    assert abs(out[0, 2, 2] * 255 - 100) <= 1 and out[1, 2, 2] == 0.0
    image = _u8(np.zeros((3, 30, 60)))
    labelled = draw_bounding_boxes(image, flambeau.tensor([[0, 0, 59, 29]]), labels=["cat"],
                                   colors="blue", label_colors="white").cpu().numpy()
    inside = labelled[:, 3:20, 3:40]
    assert inside[0].max() > 200  # (antialiased) white text inside the blue box
    assert labelled[0, 20:28, 45:57].max() == 0  # and nothing far from the label
    assert tuple(labelled[:, 0, 30]) == (0, 0, 255)


def test_draw_bounding_boxes_errors_and_empty():
    image = _u8(np.zeros((3, 4, 4)))
    with pytest.warns(UserWarning, match="boxes doesn't contain any box"):
        assert draw_bounding_boxes(image, flambeau.zeros(0, 4)) is image
    with pytest.raises(ValueError, match=r"Boxes need to be in \(xmin, ymin, xmax, ymax\) "
                                         r"format"):
        draw_bounding_boxes(image, flambeau.tensor([[3, 0, 1, 2]]))
    with pytest.raises(ValueError, match=r"Number of boxes \(1\) and labels \(2\) mismatch"):
        draw_bounding_boxes(image, flambeau.tensor([[0, 0, 1, 1]]), labels=["a", "b"])
    with pytest.raises(ValueError, match=r"draw_bounding_boxes: only grayscale and RGB images "
                                         r"are supported, got 2 channels"):
        draw_bounding_boxes(flambeau.zeros(2, 4, 4), flambeau.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match=r"draw_bounding_boxes: pass individual images "
                                         r"\(C, H, W\), not batches; got shape \(1, 3, 4, 4\)"):
        draw_bounding_boxes(flambeau.zeros(1, 3, 4, 4), flambeau.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match="draw_bounding_boxes: the image dtype must be uint8 or "
                                         "float, got flambeau.int32"):
        draw_bounding_boxes(flambeau.zeros(3, 4, 4, dtype=flambeau.int32),
                            flambeau.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match=r"draw_bounding_boxes: expected boxes of shape "
                                         r"\(N, 4\) or \(N, 8\), got \(1, 5\)"):
        draw_bounding_boxes(image, flambeau.zeros(1, 5))
    with pytest.raises(ValueError, match=r"Number of colors must be equal or larger than the "
                                         r"number of objects, but got 1 < 2"):
        draw_bounding_boxes(image, flambeau.tensor([[0, 0, 1, 1], [0, 0, 2, 2]]),
                            colors=["red"])
    with pytest.raises(ValueError, match="If passed as tuple, colors should be an RGB triplet"):
        draw_bounding_boxes(image, flambeau.tensor([[0, 0, 1, 1]]), colors=(1, 2))
    with pytest.raises(TypeError, match="draw_bounding_boxes: the image must be a tensor, got "
                                        "ndarray"):
        draw_bounding_boxes(np.zeros((3, 4, 4)), flambeau.tensor([[0, 0, 1, 1]]))


def _ref_masks(image, masks, alpha, colors):
    drawn = image.copy()
    for mask, color in zip(masks, colors):
        drawn[:, mask] = np.asarray(color, dtype=image.dtype)[:, None]
    drawn[:, masks.sum(0) > 1] = 0
    work = np.float32 if image.dtype == np.uint8 else image.dtype.type
    out = image.astype(work) * work(1 - alpha) + drawn.astype(work) * work(alpha)
    return out.astype(image.dtype)


def test_draw_segmentation_masks_matches_loop():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(3, 5, 6)).astype(np.uint8)
    masks = rng.uniform(size=(3, 5, 6)) > 0.6
    colors = [(255, 0, 0), (0, 128, 255), (9, 200, 7)]
    got = draw_segmentation_masks(flambeau.tensor(image), flambeau.tensor(masks), 0.7, colors)
    assert got.dtype == flambeau.uint8
    np.testing.assert_array_equal(got.cpu().numpy(), _ref_masks(image, masks, 0.7, colors))
    floats = image.astype(np.float32) / 255
    got = draw_segmentation_masks(flambeau.tensor(floats), flambeau.tensor(masks[0]), 0.5,
                                  "red").cpu().numpy()
    np.testing.assert_allclose(got, _ref_masks(floats, masks[:1], 0.5, [(1.0, 0.0, 0.0)]),
                               rtol=1e-6)
    with pytest.warns(UserWarning, match="masks doesn't contain any mask"):
        draw_segmentation_masks(flambeau.tensor(image), flambeau.zeros(0, 5, 6).bool())
    with pytest.raises(ValueError, match="draw_segmentation_masks: the masks must be of dtype "
                                         "bool, got flambeau.float32"):
        draw_segmentation_masks(flambeau.tensor(image), flambeau.zeros(1, 5, 6))
    with pytest.raises(ValueError, match=r"draw_segmentation_masks: the image and the masks must "
                                         r"have the same height and width, got \(3, 5, 6\) and "
                                         r"\(1, 5, 5\)"):
        draw_segmentation_masks(flambeau.tensor(image), flambeau.zeros(1, 5, 5).bool())
    with pytest.raises(ValueError, match=r"draw_segmentation_masks: masks must be of shape "
                                         r"\(H, W\) or \(num_masks, H, W\), got \(1, 1, 5, 6\)"):
        draw_segmentation_masks(flambeau.tensor(image), flambeau.zeros(1, 1, 5, 6).bool())
    with pytest.raises(ValueError, match=r"draw_segmentation_masks: only an RGB image is "
                                         r"supported, got 1 channels"):
        draw_segmentation_masks(flambeau.zeros(1, 5, 6), flambeau.zeros(5, 6).bool())


def test_draw_keypoints_discs_lines_and_visibility():
    image = _u8(np.zeros((3, 9, 9)))
    kpts = flambeau.tensor([[[1, 1], [7, 1], [4, 7]]])
    vis = flambeau.tensor([[True, True, False]])
    out = draw_keypoints(image, kpts, connectivity=[(0, 1), (1, 2)], colors="red", radius=0,
                         width=1, visibility=vis).cpu().numpy()
    # the visible pair is joined by a white line; the invisible point and its line are skipped
    assert (out[:, 1, 2:7] == 255).all()
    assert (out[:, 7, 4] == 0).all() and (out[:, 4, 5] == 0).all()
    floats = draw_keypoints(flambeau.zeros(3, 9, 9), kpts, colors=(0, 255, 0), radius=1)
    got = floats.cpu().numpy()
    assert got.dtype == np.float32 and got[1, 7, 4] == 1.0 and got[0, 7, 4] == 0.0
    with pytest.raises(ValueError, match=r"draw_keypoints: keypoints must be of shape "
                                         r"\(num_instances, K, 2\), got \(3, 2\)"):
        draw_keypoints(image, kpts[0])
    with pytest.raises(ValueError, match=r"draw_keypoints: keypoints and visibility must have "
                                         r"the same num_instances and K"):
        draw_keypoints(image, kpts, visibility=flambeau.ones(1, 2).bool())


def _ref_flow_image(flow):
    wheel = []
    for i in range(15):
        wheel.append((255, math.floor(255 * i / 15), 0))
    for i in range(6):
        wheel.append((255 - math.floor(255 * i / 6), 255, 0))
    for i in range(4):
        wheel.append((0, 255, math.floor(255 * i / 4)))
    for i in range(11):
        wheel.append((0, 255 - math.floor(255 * i / 11), 255))
    for i in range(13):
        wheel.append((math.floor(255 * i / 13), 0, 255))
    for i in range(6):
        wheel.append((255, 0, 255 - math.floor(255 * i / 6)))
    wheel = np.array(wheel, dtype=np.float64) / 255
    n, _, h, w = flow.shape
    max_norm = np.sqrt((flow.astype(np.float64) ** 2).sum(1)).max()
    out = np.zeros((n, 3, h, w), np.uint8)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                u, v = flow[b, :, i, j] / (max_norm + np.finfo(np.float32).eps)
                rad = math.hypot(u, v)
                fk = (math.atan2(-v, -u) / math.pi + 1) / 2 * 54
                k0 = math.floor(fk)
                k1 = 0 if k0 + 1 == 55 else k0 + 1
                f = fk - k0
                col = (1 - f) * wheel[k0] + f * wheel[k1]
                out[b, :, i, j] = np.floor(255 * (1 - rad * (1 - col)))
    return out


def test_flow_to_image_matches_per_pixel_loop():
    rng = np.random.default_rng(3)
    flow = rng.normal(size=(2, 2, 4, 5)).astype(np.float32)
    got = flow_to_image(flambeau.tensor(flow)).cpu().numpy()
    ref = _ref_flow_image(flow)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4, 5)
    # float32 arithmetic may land one step below an integer that float64 reaches
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1
    assert (got == ref).mean() > 0.95
    one = flow_to_image(flambeau.tensor(flow[0])).cpu().numpy()
    np.testing.assert_array_equal(one, got[0])
    with pytest.raises(ValueError, match="Flow should be of dtype flambeau.float32, got "
                                         "flambeau.float64"):
        flow_to_image(flambeau.zeros(2, 3, 3, dtype=flambeau.float64))
    with pytest.raises(ValueError, match=r"Input flow should have shape \(2, H, W\) or "
                                         r"\(N, 2, H, W\), got \(3, 3, 3\)"):
        flow_to_image(flambeau.zeros(3, 3, 3))

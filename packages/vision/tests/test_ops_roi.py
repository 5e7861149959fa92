"""roi_align and roi_pool against per-sample loop references on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck
from flambeau.vision import ops


def _bilinear(img, y, x):
    h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[y0, x0] + (1 - ly) * lx * img[y0, x1]
            + ly * (1 - lx) * img[y1, x0] + ly * lx * img[y1, x1])


def _ref_roi_align(x, rois, ph, pw, scale, ratio, aligned):
    out = np.zeros((len(rois), x.shape[1], ph, pw))
    off = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sx, y2 * scale - off - sy
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / ph, rw / pw
        gh = ratio if ratio > 0 else math.ceil(rh / ph)
        gw = ratio if ratio > 0 else math.ceil(rw / pw)
        count = max(gh * gw, 1)
        for c in range(x.shape[1]):
            for i in range(ph):
                for j in range(pw):
                    total = 0.0
                    for iy in range(gh):
                        for ix in range(gw):
                            yy = sy + i * bh + (iy + 0.5) * bh / gh
                            xx = sx + j * bw + (ix + 0.5) * bw / gw
                            total += _bilinear(x[int(b), c], yy, xx)
                    out[k, c, i, j] = total / count
    return out


def _round(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def _pool_bin(i, roi_size, pooled, start, limit):
    """Pixel range [lo, hi) of bin i, as RoIPool/PSRoIPool's kernels compute it."""
    lo = min(max(math.floor(i * roi_size / pooled) + start, 0), limit)
    hi = min(max(math.ceil((i + 1) * roi_size / pooled) + start, 0), limit)
    return lo, hi


def _ref_roi_pool(x, rois, ph, pw, scale):
    out = np.zeros((len(rois), x.shape[1], ph, pw))
    h, w = x.shape[2:]
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy, ex, ey = (_round(v * scale) for v in (x1, y1, x2, y2))
        rh, rw = max(ey - sy + 1, 1), max(ex - sx + 1, 1)
        for i in range(ph):
            for j in range(pw):
                hs, he = _pool_bin(i, rh, ph, sy, h)
                ws, we = _pool_bin(j, rw, pw, sx, w)
                if he <= hs or we <= ws:
                    continue
                out[k, :, i, j] = x[int(b), :, hs:he, ws:we].max(axis=(1, 2))
    return out


_ROIS = np.array([[0, 0.3, 0.7, 4.2, 3.1], [1, 1.0, 2.0, 6.5, 5.5], [0, -1.5, -0.5, 2.0, 8.0],
                  [1, 2.2, 2.4, 2.3, 2.45], [0, 5.0, 4.0, 9.0, 9.0]])


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio", [-1, 2])
@pytest.mark.parametrize("scale,size", [(1.0, (2, 3)), (0.5, 3)])
def test_roi_align_matches_loops(aligned, ratio, scale, size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6, 7))
    got = ops.roi_align(flambeau.tensor(x), flambeau.tensor(_ROIS), size, scale, ratio, aligned)
    ph, pw = size if isinstance(size, tuple) else (size, size)
    ref = _ref_roi_align(x, _ROIS, ph, pw, scale, ratio, aligned)
    assert tuple(got.shape) == ref.shape
    np.testing.assert_allclose(got.cpu().numpy(), ref, rtol=1e-10, atol=1e-12)


def test_roi_align_list_of_boxes_equals_tensor_form():
    rng = np.random.default_rng(1)
    x = flambeau.tensor(rng.normal(size=(2, 2, 5, 5)))
    per_image = [flambeau.tensor(_ROIS[_ROIS[:, 0] == i, 1:]) for i in range(2)]
    rows = np.concatenate([_ROIS[_ROIS[:, 0] == i] for i in range(2)])
    a = ops.roi_align(x, per_image, 2, 1.0, 2, True)
    b = ops.RoIAlign(2, 1.0, 2, aligned=True)(x, flambeau.tensor(rows))
    np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=1e-12)
    assert repr(ops.RoIAlign((2, 2), 0.5, 2)) == ("RoIAlign(output_size=(2, 2), spatial_scale="
                                                 "0.5, sampling_ratio=2, aligned=False)")


@pytest.mark.parametrize("scale,size", [(1.0, (2, 3)), (0.5, 3), (1.0, 4)])
def test_roi_pool_matches_loops(scale, size):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 6, 7))
    got = ops.roi_pool(flambeau.tensor(x), flambeau.tensor(_ROIS), size, scale)
    ph, pw = size if isinstance(size, tuple) else (size, size)
    np.testing.assert_allclose(got.cpu().numpy(), _ref_roi_pool(x, _ROIS, ph, pw, scale),
                               rtol=1e-12)
    per_image = [flambeau.tensor(_ROIS[_ROIS[:, 0] == i, 1:]) for i in range(2)]
    rows = np.concatenate([_ROIS[_ROIS[:, 0] == i] for i in range(2)])
    np.testing.assert_allclose(ops.RoIPool(size, scale)(flambeau.tensor(x), per_image)
                               .cpu().numpy(), _ref_roi_pool(x, rows, ph, pw, scale))


def test_roi_gradients():
    rng = np.random.default_rng(3)
    x = flambeau.tensor(rng.normal(size=(2, 2, 5, 5)), requires_grad=True)
    rois = flambeau.tensor(_ROIS[:4] * 0.8)
    assert gradcheck(lambda t: ops.roi_align(t, rois, 2, 1.0, -1, False), (x,))
    assert gradcheck(lambda t: ops.roi_align(t, rois, (3, 2), 0.7, 2, True), (x,))
    assert gradcheck(lambda t: ops.roi_pool(t, rois, 2, 1.0), (x,))


def test_roi_empty_and_errors():
    x = flambeau.zeros(1, 2, 4, 4)
    assert tuple(ops.roi_align(x, flambeau.zeros(0, 5), 3).shape) == (0, 2, 3, 3)
    assert tuple(ops.roi_pool(x, [flambeau.zeros(0, 4)], 3).shape) == (0, 2, 3, 3)
    with pytest.raises(ValueError, match=r"roi_align: the boxes tensor shape is not correct as "
                                         r"Tensor\[K, 5\]: got \(2, 4\)"):
        ops.roi_align(x, flambeau.zeros(2, 4), 2)
    with pytest.raises(ValueError, match=r"roi_pool: the shape of the tensor in the boxes list "
                                         r"is not correct as List\[Tensor\[L, 4\]\]: got \(2, 5\)"):
        ops.roi_pool(x, [flambeau.zeros(2, 5)], 2)
    with pytest.raises(ValueError, match=r"roi_align: expected input of shape \(N, C, H, W\), "
                                         r"got \(2, 4, 4\)"):
        ops.roi_align(flambeau.zeros(2, 4, 4), flambeau.zeros(1, 5), 2)
    with pytest.raises(ValueError, match=r"roi_align: batch indices in boxes\[:, 0\] must be in "
                                         r"\[0, 1\), got 0 to 3"):
        ops.roi_align(x, flambeau.tensor([[0.0, 0, 0, 1, 1], [3.0, 0, 0, 1, 1]]), 2)
    with pytest.raises(ValueError, match="roi_pool: got boxes for 2 images, but input has a "
                                         "batch of 1"):
        ops.roi_pool(x, [flambeau.zeros(1, 4), flambeau.zeros(1, 4)], 2)
    with pytest.raises(TypeError, match=r"roi_align: boxes is expected to be a Tensor\[K, 5\] "
                                        r"or a List\[Tensor\[L, 4\]\], got ndarray"):
        ops.roi_align(x, np.zeros((1, 5)), 2)
    with pytest.raises(ValueError, match=r"output_size: expected an int or a pair of ints, got "
                                         r"\(1, 2, 3\)"):
        ops.roi_align(x, flambeau.zeros(1, 5), (1, 2, 3))


def _ref_ps_roi_align(x, rois, ph, pw, scale, ratio):
    oc = x.shape[1] // (ph * pw)
    out = np.zeros((len(rois), oc, ph, pw))
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy = x1 * scale - 0.5, y1 * scale - 0.5
        rw, rh = x2 * scale - 0.5 - sx, y2 * scale - 0.5 - sy
        bh, bw = rh / ph, rw / pw
        gh = ratio if ratio > 0 else math.ceil(rh / ph)
        gw = ratio if ratio > 0 else math.ceil(rw / pw)
        for c in range(oc):
            for i in range(ph):
                for j in range(pw):
                    cin = (c * ph + i) * pw + j
                    total = 0.0
                    for iy in range(gh):
                        for ix in range(gw):
                            total += _bilinear(x[int(b), cin], sy + i * bh + (iy + 0.5) * bh / gh,
                                               sx + j * bw + (ix + 0.5) * bw / gw)
                    out[k, c, i, j] = total / max(gh * gw, 1)
    return out


def _ref_ps_roi_pool(x, rois, ph, pw, scale):
    oc = x.shape[1] // (ph * pw)
    out = np.zeros((len(rois), oc, ph, pw))
    h, w = x.shape[2:]
    for k, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy, ex, ey = (_round(v * scale) for v in (x1, y1, x2, y2))
        rh, rw = max(ey - sy, 1), max(ex - sx, 1)
        for c in range(oc):
            for i in range(ph):
                for j in range(pw):
                    hs, he = _pool_bin(i, rh, ph, sy, h)
                    ws, we = _pool_bin(j, rw, pw, sx, w)
                    if he > hs and we > ws:
                        out[k, c, i, j] = x[int(b), (c * ph + i) * pw + j, hs:he, ws:we].mean()
    return out


@pytest.mark.parametrize("ratio", [-1, 2])
@pytest.mark.parametrize("scale,size", [(1.0, (2, 3)), (0.5, 2)])
def test_ps_roi_align_matches_loops(ratio, scale, size):
    ph, pw = size if isinstance(size, tuple) else (size, size)
    x = np.random.default_rng(4).normal(size=(2, 2 * ph * pw, 6, 7))
    got = ops.ps_roi_align(flambeau.tensor(x), flambeau.tensor(_ROIS), size, scale, ratio)
    np.testing.assert_allclose(got.cpu().numpy(), _ref_ps_roi_align(x, _ROIS, ph, pw, scale,
                                                                     ratio), rtol=1e-10,
                               atol=1e-12)
    module = ops.PSRoIAlign(size, scale, ratio)(flambeau.tensor(x), flambeau.tensor(_ROIS))
    np.testing.assert_allclose(module.cpu().numpy(), got.cpu().numpy())


@pytest.mark.parametrize("scale,size", [(1.0, (2, 3)), (0.5, 2), (1.0, 4)])
def test_ps_roi_pool_matches_loops(scale, size):
    ph, pw = size if isinstance(size, tuple) else (size, size)
    x = np.random.default_rng(5).normal(size=(2, 3 * ph * pw, 6, 7))
    got = ops.PSRoIPool(size, scale)(flambeau.tensor(x), flambeau.tensor(_ROIS))
    np.testing.assert_allclose(got.cpu().numpy(), _ref_ps_roi_pool(x, _ROIS, ph, pw, scale),
                               rtol=1e-10, atol=1e-12)


def test_ps_roi_gradients_and_errors():
    rng = np.random.default_rng(6)
    x = flambeau.tensor(rng.normal(size=(2, 4, 5, 5)), requires_grad=True)
    rois = flambeau.tensor(_ROIS[:4] * 0.8)
    assert gradcheck(lambda t: ops.ps_roi_align(t, rois, 2, 1.0, -1), (x,))
    assert gradcheck(lambda t: ops.ps_roi_pool(t, rois, 2, 0.9), (x,))
    with pytest.raises(ValueError, match=r"ps_roi_align: input channels must be a multiple of "
                                         r"output height \* output width \(2 \* 2\), got 3 "
                                         r"channels"):
        ops.ps_roi_align(flambeau.zeros(1, 3, 4, 4), flambeau.zeros(1, 5), 2)
    with pytest.raises(ValueError, match=r"ps_roi_pool: input channels must be a multiple"):
        ops.ps_roi_pool(flambeau.zeros(1, 6, 4, 4), flambeau.zeros(1, 5), 2)
    assert repr(ops.PSRoIAlign(2, 0.25, 2)) == ("PSRoIAlign(output_size=2, spatial_scale=0.25, "
                                               "sampling_ratio=2)")


def test_multiscale_roi_align_routes_boxes_to_levels():
    rng = np.random.default_rng(8)
    feats = {"p2": flambeau.tensor(rng.normal(size=(2, 3, 32, 32))),
             "skip": flambeau.tensor(rng.normal(size=(2, 3, 4, 4))),
             "p3": flambeau.tensor(rng.normal(size=(2, 3, 16, 16))),
             "p4": flambeau.tensor(rng.normal(size=(2, 3, 8, 8)))}
    boxes = [np.array([[0.0, 0.0, 10.0, 12.0], [5.0, 5.0, 120.0, 100.0]]),
             np.array([[10.0, 20.0, 70.0, 90.0], [1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 40.0, 40.0]])]
    pool = ops.MultiScaleRoIAlign(["p2", "p3", "p4"], (2, 3), 2, canonical_scale=32,
                                  canonical_level=3)
    got = pool(feats, [flambeau.tensor(b) for b in boxes], [(128, 128), (120, 100)])
    assert pool.scales == [0.25, 0.125, 0.0625]  # levels 2 to 4
    names, scales, used = ["p2", "p3", "p4"], pool.scales, set()
    for k, (img, box) in enumerate((i, b) for i, bs in enumerate(boxes) for b in bs):
        side = math.sqrt((box[2] - box[0]) * (box[3] - box[1]))
        level = min(max(math.floor(3 + math.log2(side / 32) + 1e-6), 2), 4) - 2
        ref = ops.roi_align(feats[names[level]], flambeau.tensor(np.r_[img, box][None]), (2, 3),
                            scales[level], 2)
        np.testing.assert_allclose(got[k].cpu().numpy(), ref[0].cpu().numpy(), rtol=1e-12)
        used.add(level)
    assert used == {0, 1, 2}  # every level gets a box
    assert repr(pool) == ("MultiScaleRoIAlign(featmap_names=['p2', 'p3', 'p4'], "
                          "output_size=(2, 3), sampling_ratio=2)")


def test_multiscale_roi_align_single_level_gradient_and_errors():
    feat = flambeau.randn(1, 2, 8, 8, dtype=flambeau.float64, requires_grad=True)
    pool = ops.MultiScaleRoIAlign(["0"], 2, -1)
    boxes = [flambeau.tensor([[0.0, 0.0, 16.0, 16.0], [4.0, 4.0, 30.0, 20.0]],
                             dtype=flambeau.float64)]
    out = pool({"0": feat}, boxes, [(32, 32)])
    np.testing.assert_allclose(out.detach().cpu().numpy(), ops.roi_align(
        feat, boxes, 2, 0.25, -1).detach().cpu().numpy())
    two = ops.MultiScaleRoIAlign(["a", "b"], 2, 2)
    fine = flambeau.randn(1, 2, 8, 8, dtype=flambeau.float64, requires_grad=True)
    coarse = flambeau.randn(1, 2, 4, 4, dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(lambda a, b: two({"a": a, "b": b}, boxes, [(32, 32)]), (fine, coarse))
    with pytest.raises(ValueError, match="MultiScaleRoIAlign: images list should not be empty"):
        ops.MultiScaleRoIAlign(["0"], 2, 2)({"0": feat}, boxes, [])
    with pytest.raises(ValueError, match=r"MultiScaleRoIAlign: none of featmap_names \['x'\] is "
                                         r"in the input's keys \['0'\]"):
        ops.MultiScaleRoIAlign(["x"], 2, 2)({"0": feat}, boxes, [(32, 32)])

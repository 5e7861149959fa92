"""elastic_transform and ElasticTransform against a per-pixel bilinear sampling loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.autograd import gradcheck
from flambeau.vision import transforms as T
from flambeau.vision.transforms import InterpolationMode
from flambeau.vision.transforms import functional as F


def _ref_bilinear(img, disp, fill=None):
    """Sample (C, H, W) ``img`` at each pixel centre moved by ``disp`` (H, W, 2), normalized."""
    c, h, w = img.shape
    out = np.zeros_like(img, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            # pixel centre + offset, back in pixel units (align_corners=False)
            x = j + disp[i, j, 0] * w / 2
            y = i + disp[i, j, 1] * h / 2
            x0, y0 = math.floor(x), math.floor(y)
            total, inside = np.zeros(c), 0.0
            for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                    if 0 <= yy < h and 0 <= xx < w:
                        total += wy * wx * img[:, yy, xx]
                        inside += wy * wx
            # torchvision blends the sample (already zero-weighted outside) by the coverage
            # once more: sample * coverage + (1 - coverage) * fill
            out[:, i, j] = (total if fill is None
                            else total * inside + (1 - inside) * np.asarray(fill))
    return out


def test_matches_bilinear_loop_and_fill():
    rng = np.random.default_rng(0)
    img = rng.normal(size=(2, 5, 6))
    disp = rng.uniform(-0.4, 0.4, size=(1, 5, 6, 2))
    got = F.elastic_transform(flambeau.tensor(img), flambeau.tensor(disp)).cpu().numpy()
    np.testing.assert_allclose(got, _ref_bilinear(img, disp[0]), rtol=1e-10, atol=1e-12)
    got = F.elastic_transform(flambeau.tensor(img), flambeau.tensor(disp),
                              fill=[3.0, -1.0]).cpu().numpy()
    np.testing.assert_allclose(got, _ref_bilinear(img, disp[0], fill=[3.0, -1.0]),
                               rtol=1e-10, atol=1e-12)


def test_identity_shift_nearest_and_kinds():
    img = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    zero = flambeau.zeros(1, 3, 4, 2)
    same = F.elastic_transform(flambeau.tensor(img), zero)
    assert same.dtype == flambeau.uint8
    np.testing.assert_array_equal(same.cpu().numpy(), img)
    shift = flambeau.zeros(1, 3, 4, 2)
    shift[..., 0] = 2 / 4  # one pixel to the right
    out = F.elastic_transform(flambeau.tensor(img), shift, InterpolationMode.NEAREST, fill=9)
    ref = np.concatenate([img[:, :, 1:], np.full((2, 3, 1), 9, np.uint8)], axis=2)
    np.testing.assert_array_equal(out.cpu().numpy(), ref)
    hwc = np.ascontiguousarray(img.transpose(1, 2, 0))
    arr = F.elastic_transform(hwc, shift)
    assert isinstance(arr, np.ndarray) and arr.shape == (3, 4, 2)
    np.testing.assert_array_equal(arr, np.concatenate([hwc[:, 1:], np.zeros((3, 1, 2))], 1))
    pil = Image.fromarray(img[0])
    back = F.elastic_transform(pil, shift)
    assert isinstance(back, Image.Image) and back.mode == "L"
    np.testing.assert_array_equal(np.asarray(back), np.concatenate(
        [img[0, :, 1:], np.zeros((3, 1), np.uint8)], 1))
    batch = flambeau.tensor(np.stack([img, img + 1]).astype(np.float32))
    out = F.elastic_transform(batch, shift).cpu().numpy()
    assert out.shape == (2, 2, 3, 4)
    np.testing.assert_array_equal(out[1, :, :, :3], img[:, :, 1:] + 1)


def test_gradient_and_errors():
    rng = np.random.default_rng(1)
    img = flambeau.tensor(rng.normal(size=(1, 3, 4)), requires_grad=True)
    disp = flambeau.tensor(rng.uniform(-0.3, 0.3, size=(1, 3, 4, 2)))
    assert gradcheck(lambda t: F.elastic_transform(t, disp, fill=1.0), (img,))
    with pytest.raises(ValueError, match=r"elastic_transform: argument displacement shape should "
                                         r"be \(1, 3, 4, 2\), but given \(1, 4, 3, 2\)"):
        F.elastic_transform(img, flambeau.zeros(1, 4, 3, 2))
    with pytest.raises(TypeError, match="elastic_transform: argument displacement should be a "
                                        "Tensor, got ndarray"):
        F.elastic_transform(img, np.zeros((1, 3, 4, 2)))


def test_elastic_transform_class():
    img = flambeau.tensor(np.random.default_rng(2).uniform(size=(3, 20, 24)).astype(np.float32))
    t = T.ElasticTransform(alpha=(6.0, 3.0), sigma=2.0, fill=0.5)
    assert t.alpha == [6.0, 3.0] and t.sigma == [2.0, 2.0] and t.fill == [0.5]
    flambeau.manual_seed(4)
    out = t(img)
    flambeau.manual_seed(4)
    disp = T.ElasticTransform.get_params([6.0, 3.0], [2.0, 2.0], [20, 24])
    assert tuple(disp.shape) == (1, 20, 24, 2)
    np.testing.assert_allclose(out.cpu().numpy(),
                               F.elastic_transform(img, disp, fill=[0.5] * 3).cpu().numpy())
    # without blur the offsets are uniform in [-alpha, alpha] pixels: alpha / size normalized
    raw = T.ElasticTransform.get_params([6.0, 3.0], [0.0, 0.0], [20, 24]).cpu().numpy()
    assert np.abs(raw[..., 0]).max() <= 6.0 / 24 and np.abs(raw[..., 0]).max() > 0.8 * 6.0 / 24
    assert np.abs(raw[..., 1]).max() <= 3.0 / 20 and np.abs(raw[..., 1]).max() > 0.8 * 3.0 / 20
    pil = Image.fromarray(np.zeros((20, 24, 3), np.uint8))
    assert T.ElasticTransform(5.0, 2.0)(pil).size == (24, 20)
    with pytest.raises(ValueError, match="ElasticTransform: if alpha is a sequence its length "
                                         "should be 2, got 3"):
        T.ElasticTransform(alpha=(1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match="ElasticTransform: sigma should be a float or a "
                                        "sequence of floats, got str"):
        T.ElasticTransform(sigma="5")
    with pytest.raises(TypeError, match="ElasticTransform: fill should be a number or a sequence "
                                        "of numbers, got str"):
        T.ElasticTransform(fill="white")

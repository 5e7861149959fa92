"""ToTensor, PILToTensor, ConvertImageDtype, Normalize, ToPILImage, Compose, Lambda."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision import transforms as T
from flambeau.vision.transforms import functional as F


def test_to_tensor_uint8_scales_to_unit_interval():
    arr = np.array([[[0, 51, 255], [102, 204, 1]]], np.uint8)  # H=1, W=2, C=3
    out = T.ToTensor()(arr)
    assert out.dtype == flambeau.float32 and tuple(out.shape) == (3, 1, 2)
    np.testing.assert_allclose(out.cpu().numpy(), arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    pil = T.ToTensor()(Image.fromarray(arr))
    np.testing.assert_array_equal(pil.cpu().numpy(), out.cpu().numpy())


def test_to_tensor_modes_and_dtypes():
    gray = T.ToTensor()(Image.new("L", (3, 2), 255))
    assert tuple(gray.shape) == (1, 2, 3) and float(gray.min()) == 1.0
    binary = T.ToTensor()(Image.new("1", (2, 2), 1))
    assert binary.cpu().numpy().tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    floats = np.full((2, 2), 7.5, np.float32)  # other dtypes keep values and dtype
    out = T.ToTensor()(floats)
    assert out.dtype == flambeau.float32 and out.cpu().numpy().tolist() == [[[7.5, 7.5], [7.5,
                                                                                          7.5]]]
    with pytest.raises(TypeError, match="to_tensor: expected a PIL image or a NumPy array"):
        T.ToTensor()([1, 2])
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 1, 1\)"):
        T.ToTensor()(np.zeros((1, 1, 1, 1), np.uint8))


def test_pil_to_tensor_keeps_dtype():
    out = T.PILToTensor()(Image.new("RGB", (2, 1), (1, 2, 3)))
    assert out.dtype == flambeau.uint8 and out.cpu().numpy()[:, 0, 1].tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="pil_to_tensor: expected a PIL image"):
        F.pil_to_tensor(np.zeros((2, 2), np.uint8))


def test_convert_image_dtype():
    u8 = flambeau.tensor([0, 128, 255], dtype=flambeau.uint8)
    np.testing.assert_allclose(F.convert_image_dtype(u8).cpu().numpy(), [0, 128 / 255, 1],
                               rtol=1e-6)
    f = flambeau.tensor([0.0, 0.5, 0.999, 1.0])
    assert F.convert_image_dtype(f, flambeau.uint8).tolist() == [0, 127, 255, 255]
    i16 = flambeau.tensor([0, 256, 32767], dtype=flambeau.int16)
    assert F.convert_image_dtype(i16, flambeau.uint8).tolist() == [0, 2, 255]
    assert F.convert_image_dtype(u8, flambeau.int16).tolist() == [0, 128 * 128, 255 * 128]
    assert F.convert_image_dtype(f, flambeau.float64).dtype == flambeau.float64
    with pytest.raises(RuntimeError, match="from flambeau.float32 to flambeau.int64"):
        F.convert_image_dtype(f, flambeau.int64)


def test_normalize_values_and_errors():
    x = flambeau.tensor([[[1.0, 3.0]], [[2.0, 4.0]]])
    out = T.Normalize([1.0, 2.0], [2.0, 0.5])(x)
    np.testing.assert_allclose(out.cpu().numpy(), [[[0.0, 1.0]], [[0.0, 4.0]]])
    batch = flambeau.ones(4, 2, 3, 3)
    assert tuple(T.Normalize([0.0, 1.0], [1.0, 1.0])(batch).shape) == (4, 2, 3, 3)
    y = x.clone()
    assert T.Normalize([1.0], [2.0], inplace=True)(y) is y
    np.testing.assert_allclose(y.cpu().numpy(), [[[0.0, 1.0]], [[0.5, 1.5]]])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(x, [0.0, 0.0], [1.0, 0.0])
    with pytest.raises(TypeError, match="expected a floating-point tensor, got flambeau.uint8"):
        F.normalize(x.to(flambeau.uint8), [0.0], [1.0])
    with pytest.raises(ValueError, match="mean has 3 values for a tensor with 2 channels"):
        F.normalize(x, [0.0, 0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        F.normalize(flambeau.ones(2), [0.0], [1.0])


def test_normalize_is_differentiable():
    x = flambeau.rand(2, 3, 3, dtype=flambeau.float64, requires_grad=True)
    assert flambeau.autograd.gradcheck(lambda t: F.normalize(t, [0.1, 0.2], [0.5, 2.0]), (x,))


def test_to_pil_image():
    t = flambeau.tensor([[[0.0, 0.5]], [[1.0, 2.0]], [[-1.0, 0.2]]])
    image = T.ToPILImage()(t)
    assert image.mode == "RGB" and image.size == (2, 1)
    assert image.getpixel((1, 0)) == (127, 255, 51)  # scaled, clipped, truncated
    assert F.to_pil_image(np.zeros((2, 2, 1), np.uint8)).mode == "L"
    assert F.to_pil_image(np.zeros((2, 2), np.float32)).mode == "F"
    assert F.to_pil_image(np.zeros((2, 2, 4), np.uint8)).mode == "RGBA"
    with pytest.raises(TypeError, match="3-channel images must be uint8"):
        F.to_pil_image(np.zeros((2, 2, 3), np.float32))


def test_compose_and_lambda():
    pipeline = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 10)])
    assert pipeline(1) == 20
    assert "Lambda()" in repr(pipeline)
    with pytest.raises(TypeError, match="Lambda: the argument must be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="Compose: every transform must be callable"):
        T.Compose([T.ToTensor(), 3])


def test_repr_names_parameters():
    assert repr(T.Resize(4)) == "Resize(size=4, interpolation=bilinear, max_size=None, " \
        "antialias=True)"
    assert repr(T.RandomHorizontalFlip(0.3)) == "RandomHorizontalFlip(p=0.3)"

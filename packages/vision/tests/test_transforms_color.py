"""Colour transforms, grayscale, blur, erasing and the reproducibility of random transforms."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.data import DataLoader, Dataset
from flambeau.vision import transforms as T
from flambeau.vision.transforms import functional as F

RGB = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)


def as_tensor(hwc):
    return flambeau.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))


def hwc(t):
    return t.cpu().numpy().transpose(1, 2, 0).astype(int)


@pytest.mark.parametrize("fn, factor", [(F.adjust_brightness, 1.4), (F.adjust_contrast, 0.6),
                                        (F.adjust_saturation, 1.7), (F.adjust_brightness, 0.3)])
def test_enhancements_agree_with_pillow(fn, factor):
    pil = np.asarray(fn(Image.fromarray(RGB), factor)).astype(int)
    ten = hwc(fn(as_tensor(RGB), factor))
    assert np.abs(pil - ten).max() <= 2  # Pillow rounds where torchvision truncates
    np.testing.assert_array_equal(fn(RGB, factor), ten)


def test_float_enhancements_expected_values():
    x = flambeau.tensor([[[0.2, 0.8]], [[0.4, 0.4]], [[0.6, 0.0]]])
    np.testing.assert_allclose(F.adjust_brightness(x, 2.0).cpu().numpy(),
                               [[[0.4, 1.0]], [[0.8, 0.8]], [[1.0, 0.0]]], rtol=1e-6)
    gray = 0.2989 * x.cpu().numpy()[0] + 0.587 * x.cpu().numpy()[1] + 0.114 * x.cpu().numpy()[2]
    np.testing.assert_allclose(F.adjust_saturation(x, 0.0).cpu().numpy(),
                               np.broadcast_to(gray, (3, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(F.adjust_contrast(x, 0.0).cpu().numpy(),
                               np.full((3, 1, 2), gray.mean()), rtol=1e-6)
    with pytest.raises(ValueError, match="adjust_brightness: brightness_factor must be "
                                         "non-negative"):
        F.adjust_brightness(x, -1)


def test_hue_rotation():
    x = flambeau.tensor([[[1.0, 0.0, 0.2]], [[0.0, 0.0, 0.4]], [[0.0, 1.0, 0.6]]])
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).cpu().numpy(), x.cpu().numpy(), atol=1e-6)
    out = F.adjust_hue(x, 1 / 3).cpu().numpy()
    np.testing.assert_allclose(out[:, 0, 0], [0, 1, 0], atol=1e-6)  # red -> green
    np.testing.assert_allclose(out[:, 0, 1], [1, 0, 0], atol=1e-6)  # blue -> red
    pil = np.asarray(F.adjust_hue(Image.fromarray(RGB), 0.2)).astype(int)
    assert np.abs(pil - hwc(F.adjust_hue(as_tensor(RGB), 0.2))).mean() < 3  # HSV is 8-bit
    with pytest.raises(ValueError, match=r"hue_factor must be in \[-0.5, 0.5\]"):
        F.adjust_hue(x, 0.7)


def test_grayscale_agrees_with_pillow():
    pil = np.asarray(T.Grayscale()(Image.fromarray(RGB))).astype(int)
    ten = T.Grayscale()(as_tensor(RGB))
    assert tuple(ten.shape) == (1, 6, 7) and np.abs(pil - ten.cpu().numpy()[0]).max() <= 1
    three = T.Grayscale(3)(as_tensor(RGB)).cpu().numpy()
    assert (three[0] == three[2]).all()
    assert T.Grayscale(3)(Image.fromarray(RGB)).mode == "RGB"
    with pytest.raises(ValueError, match="num_output_channels must be 1 or 3"):
        T.Grayscale(2)


def test_gaussian_blur_matches_direct_convolution():
    x = np.random.default_rng(1).random((1, 6, 8))
    out = F.gaussian_blur(flambeau.from_numpy(x), [3, 5], [0.8, 1.3]).cpu().numpy()
    kx = np.exp(-0.5 * (np.arange(-1, 2) / 0.8) ** 2)
    ky = np.exp(-0.5 * (np.arange(-2, 3) / 1.3) ** 2)
    kernel = np.outer(ky / ky.sum(), kx / kx.sum())
    padded = np.pad(x[0], ((2, 2), (1, 1)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 3))
    np.testing.assert_allclose(out[0], (windows * kernel).sum(axis=(-2, -1)), rtol=1e-12)
    pil = np.asarray(F.gaussian_blur(Image.fromarray(RGB), 3, 1.0))
    np.testing.assert_array_equal(pil, F.gaussian_blur(RGB, 3, 1.0))
    with pytest.raises(ValueError, match="kernel_size must be odd and positive"):
        F.gaussian_blur(RGB, 4)
    with pytest.raises(ValueError, match="too large for an image"):
        F.gaussian_blur(RGB, 15)


def test_default_sigma_formula():
    x = flambeau.rand(1, 9, 9, dtype=flambeau.float64)
    sigma = 0.3 * ((5 - 1) * 0.5 - 1) + 0.8
    np.testing.assert_allclose(F.gaussian_blur(x, 5).cpu().numpy(),
                               F.gaussian_blur(x, 5, sigma).cpu().numpy(), rtol=1e-15)


def test_random_erasing():
    flambeau.manual_seed(0)
    x = flambeau.ones(3, 10, 10)
    out = T.RandomErasing(p=1.0, scale=(0.1, 0.1), ratio=(1.0, 1.0), value=(2, 3, 4))(x)
    assert bool((x == 1).all())  # not in place
    erased = out.cpu().numpy() != 1
    assert erased.sum() == 3 * 9 and set(out.cpu().numpy()[:, erased[0]][:, 0]) == {2, 3, 4}
    noisy = T.RandomErasing(p=1.0, value="random")(flambeau.zeros(1, 10, 10))
    assert float(noisy.abs().sum()) > 0
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(TypeError, match="RandomErasing: expected a tensor image"):
        T.RandomErasing(p=1.0)(Image.new("L", (4, 4)))
    with pytest.raises(ValueError, match="value has 2 entries for an image with 3 channels"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)


def test_color_jitter_ranges_and_errors():
    jitter = T.ColorJitter(brightness=0.5, contrast=(0.9, 1.1), saturation=0, hue=0.1)
    assert jitter.brightness == [0.5, 1.5] and jitter.saturation is None
    assert jitter.hue == [-0.1, 0.1]
    order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, None,
                                                 jitter.hue)
    assert sorted(order) == [0, 1, 2, 3] and 0.5 <= b <= 1.5 and s is None and -0.1 <= h <= 0.1
    with pytest.raises(ValueError, match=r"ColorJitter: hue range .* within \[-0.5, 0.5\]"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="brightness must be non-negative"):
        T.ColorJitter(brightness=-1)


AUGMENT = T.Compose([
    T.RandomResizedCrop(6, scale=(0.5, 1.0)), T.RandomHorizontalFlip(), T.RandomVerticalFlip(),
    T.RandomRotation(20), T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
    T.ColorJitter(0.3, 0.3, 0.3, 0.05), T.RandomGrayscale(0.3), T.GaussianBlur(3),
    T.ToTensor(), T.RandomErasing(p=0.5),
])


def test_manual_seed_makes_random_transforms_reproducible():
    image = Image.fromarray(RGB)
    flambeau.manual_seed(42)
    first = [AUGMENT(image).cpu().numpy() for _ in range(5)]
    flambeau.manual_seed(42)
    second = [AUGMENT(image).cpu().numpy() for _ in range(5)]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], f) for f in first[1:])


class _Images(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return AUGMENT(Image.fromarray(RGB))


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_dataloader_worker_seeding_is_reproducible():
    def run():
        gen = flambeau.Generator().manual_seed(7)
        loader = DataLoader(_Images(), batch_size=4, num_workers=2, generator=gen)
        return [b.cpu().numpy() for b in loader]

    a, b = run(), run()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0][0], a[0][1])  # workers and items draw different numbers

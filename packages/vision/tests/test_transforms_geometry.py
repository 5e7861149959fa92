"""Resize, crops, pad, flips, rotation and affine warps on PIL, NumPy and tensors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import flambeau
from flambeau.vision import transforms as T
from flambeau.vision.transforms import InterpolationMode
from flambeau.vision.transforms import functional as F

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (9, 13, 3), dtype=np.uint8)  # H, W, C


def as_tensor(hwc):
    return flambeau.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))


def tensor_to_hwc(t):
    return t.cpu().numpy().transpose(1, 2, 0)


@pytest.mark.parametrize("size", [(20, 7), (4, 5), (9, 30), (3, 13)])
def test_resize_bilinear_matches_pillow(size):
    pil = np.asarray(F.resize(Image.fromarray(RGB), list(size)))
    ten = tensor_to_hwc(F.resize(as_tensor(RGB), list(size)))
    arr = F.resize(RGB, list(size))
    assert pil.shape == ten.shape == arr.shape == (*size, 3)
    assert np.abs(pil.astype(int) - ten.astype(int)).max() <= 1  # Pillow rounds in fixed point
    np.testing.assert_array_equal(arr, ten)


def test_resize_bicubic_close_to_pillow():
    pil = np.asarray(F.resize(Image.fromarray(RGB), [5, 6], InterpolationMode.BICUBIC))
    ten = tensor_to_hwc(F.resize(as_tensor(RGB), [5, 6], InterpolationMode.BICUBIC))
    assert np.abs(pil.astype(int) - ten.astype(int)).max() <= 1


def test_resize_nearest_exact_matches_pillow():
    pil = np.asarray(F.resize(Image.fromarray(RGB), [4, 20], InterpolationMode.NEAREST))
    ten = F.resize(RGB, [4, 20], InterpolationMode.NEAREST_EXACT)
    np.testing.assert_array_equal(pil, ten)


def test_resize_smaller_edge_and_max_size():
    assert F.resize(Image.new("L", (40, 20)), 10).size == (20, 10)
    assert tuple(F.resize(flambeau.zeros(1, 20, 40), 10).shape) == (1, 10, 20)
    assert tuple(F.resize(flambeau.zeros(1, 40, 20), 10).shape) == (1, 20, 10)
    assert tuple(F.resize(flambeau.zeros(1, 20, 40), 10, max_size=15).shape) == (1, 7, 15)
    assert F.resize(np.zeros((10, 20), np.uint8), 10).shape == (10, 20)  # unchanged
    with pytest.raises(ValueError, match=r"max_size \(10\) must be larger than size \(10\)"):
        F.resize(flambeau.zeros(1, 20, 40), 10, max_size=10)
    with pytest.raises(ValueError, match="resize: size must be a positive int"):
        F.resize(flambeau.zeros(1, 4, 4), [1, 2, 3])
    with pytest.raises(ValueError, match="supported for PIL images only"):
        F.resize(flambeau.zeros(1, 4, 4), 2, InterpolationMode.LANCZOS)


def test_resize_float_batch_keeps_dtype():
    x = flambeau.rand(2, 3, 8, 8, dtype=flambeau.float64)
    out = F.resize(x, [4, 4])
    assert out.dtype == flambeau.float64 and tuple(out.shape) == (2, 3, 4, 4)
    # shrinking by 2 with a triangle filter of width 2 averages with weights 1/8, 3/8, 3/8, 1/8
    row = x.cpu().numpy()[0, 0, :, :]
    w = np.array([1, 3, 3, 1]) / 8
    expected = w @ row[1:5, 1:5] @ w
    np.testing.assert_allclose(out.cpu().numpy()[0, 0, 1, 1], expected, rtol=1e-12)


@pytest.mark.parity
def test_resize_parity_with_torch_interpolate():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((1, 2, 7, 9))
    tx = torch.from_numpy(x)
    up = F.resize(flambeau.from_numpy(x), [11, 14], antialias=False).cpu().numpy()
    ref = torch.nn.functional.interpolate(tx, (11, 14), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(up, ref.cpu().numpy(), rtol=1e-10, atol=1e-12)
    down = F.resize(flambeau.from_numpy(x), [3, 4], antialias=True).cpu().numpy()
    ref = torch.nn.functional.interpolate(tx, (3, 4), mode="bilinear", antialias=True,
                                          align_corners=False)
    np.testing.assert_allclose(down, ref.cpu().numpy(), rtol=1e-6, atol=1e-7)
    near = F.resize(flambeau.from_numpy(x), [5, 13], InterpolationMode.NEAREST).cpu().numpy()
    ref = torch.nn.functional.interpolate(tx, (5, 13), mode="nearest")
    np.testing.assert_array_equal(near, ref.cpu().numpy())


def test_resize_uint8_rounds_as_torchvision():
    # 3 -> 2 columns: output 0 weighs columns 0 and 1 by 5/8 and 3/8 (exact in binary), so
    # 5/8 * 4 = 2.5 is a true tie: torchvision's torch.round goes to the even 2
    out = F.resize(flambeau.from_numpy(np.array([[[4, 0, 9]]], np.uint8)), [1, 2])
    np.testing.assert_array_equal(out.cpu().numpy(), [[[2, 6]]])
    # 3x4 -> 8x5: pixel (3, 3) is 120.5 in exact arithmetic; torchvision computes in float32
    # (torch's float32 weights, columns first, taps summed in order) and gets 120.50001, so
    # 121; the same sums with float64 weights give 120.49999999999997 and 120
    image = np.array([[157, 86, 140, 244], [215, 1, 152, 8], [4, 57, 178, 173]], np.uint8)
    expected = [[157, 107, 113, 171, 244], [161, 105, 111, 167, 229], [182, 89, 97, 144, 141],
                [204, 73, 83, 121, 52], [175, 61, 84, 121, 39], [96, 52, 100, 147, 101],
                [17, 43, 115, 172, 163], [4, 41, 118, 176, 173]]
    got = F.resize(flambeau.from_numpy(image[None]), [8, 5]).cpu().numpy()
    np.testing.assert_array_equal(got, [expected])
    np.testing.assert_array_equal(F.resize(image, [8, 5]), expected)  # arrays: the same path


def test_resize_bicubic_without_antialias_is_torchs_kernel():
    # 2 -> 4 columns: sources at -0.25, 0.25, 0.75, 1.25; Keys' kernel with a = -0.75 (torch's
    # when not antialiasing; Pillow's a = -0.5 gives other values) over the four neighbours,
    # those past a border taken from it: e.g. output 0 weighs x0 by cc2(1.75) + cc1(0.75) +
    # cc1(0.25) = -0.03515625 + 0.26171875 + 0.87890625 and x1 by cc2(1.25) = -0.10546875
    x = flambeau.tensor([[[1.0, 0.0]]], dtype=flambeau.float64)
    out = F.resize(x, [1, 4], InterpolationMode.BICUBIC, antialias=False).cpu().numpy()
    np.testing.assert_array_equal(out, [[[1.10546875, 0.7734375, 0.2265625, -0.10546875]]])
    # uint8: clamped to [0, 255] before rounding, as torchvision
    image = np.array([[0, 255]], np.uint8)
    np.testing.assert_array_equal(
        F.resize(image, [1, 4], InterpolationMode.BICUBIC, antialias=False), [[0, 58, 197, 255]])


@pytest.mark.parity
def test_resize_bicubic_without_antialias_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((2, 3, 9, 14))
    for size in [(4, 5), (20, 31), (9, 3), (1, 14)]:
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bicubic",
                                              align_corners=False)
        got = F.resize(flambeau.from_numpy(x), list(size), InterpolationMode.BICUBIC,
                       antialias=False)
        np.testing.assert_allclose(got.cpu().numpy(), ref.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_resize_antialias_equals_torchvision(mode):
    # torchvision's resize of a tensor: interpolate(antialias=True) in float32 (float64 stays
    # float64), then, for uint8, clamp (bicubic) and round half to even. (torch's own uint8
    # kernel, interpolate on a uint8 tensor, rounds in fixed point and differs on ~18% of
    # pixels: it is not what torchvision.transforms.functional.resize computes.)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for (h, w), size in [((48, 64), (23, 31)), ((20, 30), (50, 41)), ((100, 77), (13, 77)),
                         ((31, 40), (31, 9))]:
        image = rng.integers(0, 256, (2, 3, h, w), dtype=np.uint8)
        ref = torch.nn.functional.interpolate(torch.from_numpy(image).float(), size=size,
                                              mode=mode, align_corners=False, antialias=True)
        got = F.resize(flambeau.from_numpy(image), list(size), InterpolationMode(mode))
        np.testing.assert_array_equal(got.cpu().numpy(), ref.clamp(0, 255).round().numpy())
        floats = rng.random((2, h, w), dtype=np.float32)
        ref = torch.nn.functional.interpolate(torch.from_numpy(floats)[None], size=size,
                                              mode=mode, align_corners=False, antialias=True)
        got = F.resize(flambeau.from_numpy(floats), list(size), InterpolationMode(mode))
        # bit for bit on x86-64 (which sums torch fuses into FMAs is its build's choice)
        np.testing.assert_allclose(got.cpu().numpy(), ref[0].numpy(), rtol=0, atol=1e-6)
        doubles = rng.random((2, h, w))  # float64 images: float64 weights and sums
        ref = torch.nn.functional.interpolate(torch.from_numpy(doubles)[None], size=size,
                                              mode=mode, align_corners=False, antialias=True)
        got = F.resize(flambeau.from_numpy(doubles), list(size), InterpolationMode(mode))
        assert got.dtype == flambeau.float64
        np.testing.assert_allclose(got.cpu().numpy(), ref[0].numpy(), rtol=0, atol=1e-13)


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_resize_antialias_to_one_column_is_separable(mode):
    # torch 2.13's antialiased kernel, resizing rows of a one-column tensor, repeats output row
    # 0 ((10, 1) -> (5, 1) gives five equal values); we keep the separable result: torch's
    # column pass, then its row pass done as a column pass of the transpose
    torch = pytest.importorskip("torch")
    image = np.random.default_rng(4).random((3, 20, 76))

    def along_columns(x, n):
        return torch.nn.functional.interpolate(x, size=(x.shape[-2], n), mode=mode,
                                               antialias=True)

    cols = along_columns(torch.from_numpy(image)[None], 1)
    ref = along_columns(cols.transpose(-1, -2), 7).transpose(-1, -2)[0].numpy()
    got = F.resize(flambeau.from_numpy(image), [7, 1], InterpolationMode(mode)).cpu().numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)
    assert np.ptp(got[0, :, 0]) > 0.01  # not torch's repeated row


def test_center_crop_rounding_and_padding():
    grid = np.arange(25, dtype=np.uint8).reshape(5, 5)
    # the top-left corner is round((5 - 2) / 2) = round(1.5) = 2, as in torchvision
    np.testing.assert_array_equal(F.center_crop(grid, 2), [[12, 13], [17, 18]])
    padded = F.center_crop(np.ones((2, 2), np.uint8), [4, 5])
    np.testing.assert_array_equal(padded, [[0, 0, 0, 0, 0], [0, 1, 1, 0, 0],
                                           [0, 1, 1, 0, 0], [0, 0, 0, 0, 0]])
    pil = np.asarray(T.CenterCrop((4, 6))(Image.fromarray(RGB)))
    np.testing.assert_array_equal(pil, tensor_to_hwc(T.CenterCrop((4, 6))(as_tensor(RGB))))


def test_crop_outside_is_zero():
    t = flambeau.ones(1, 2, 2)
    out = F.crop(t, -1, 1, 3, 2)
    np.testing.assert_array_equal(out.cpu().numpy()[0], [[0, 0], [1, 0], [1, 0]])
    pil = np.asarray(F.crop(Image.fromarray(np.full((2, 2), 9, np.uint8)), -1, 1, 3, 2))
    np.testing.assert_array_equal(pil, [[0, 0], [9, 0], [9, 0]])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes_match_numpy(mode):
    kwargs = {"constant_values": 3} if mode == "constant" else {}
    expected = np.pad(RGB, ((2, 4), (1, 3), (0, 0)), mode=mode, **kwargs)
    padding = [1, 2, 3, 4]
    np.testing.assert_array_equal(F.pad(RGB, padding, 3, mode), expected)
    np.testing.assert_array_equal(np.asarray(F.pad(Image.fromarray(RGB), padding, 3, mode)),
                                  expected)
    np.testing.assert_array_equal(tensor_to_hwc(F.pad(as_tensor(RGB), padding, 3, mode)),
                                  expected)


def test_pad_per_channel_fill_and_errors():
    out = T.Pad((1, 0), fill=(1, 2, 3))(as_tensor(RGB))
    assert out.cpu().numpy()[:, 0, 0].tolist() == [1, 2, 3]
    assert tuple(out.shape) == (3, 9, 15)
    with pytest.raises(ValueError, match="padding_mode must be constant, edge, reflect"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding must be an int or a sequence of 1, 2 or 4"):
        T.Pad([1, 2, 3])
    with pytest.raises(ValueError, match="fill must be a number or have one value per channel"):
        F.pad(as_tensor(RGB), 1, fill=(1, 2))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(np.zeros((2, 2), np.uint8), 2, padding_mode="reflect")


def test_flips_on_every_kind():
    np.testing.assert_array_equal(F.hflip(RGB), RGB[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.vflip(Image.fromarray(RGB))), RGB[::-1])
    np.testing.assert_array_equal(tensor_to_hwc(F.hflip(as_tensor(RGB))), RGB[:, ::-1])
    with pytest.raises(TypeError, match="hflip: expected a PIL image, a NumPy array"):
        F.hflip([1, 2])


def test_rotate_quarter_turns_are_exact():
    square = RGB[:9, :9]
    for angle, k in ((90, 1), (180, 2), (-90, -1)):
        np.testing.assert_array_equal(F.rotate(square, angle), np.rot90(square, k))
        np.testing.assert_array_equal(tensor_to_hwc(F.rotate(as_tensor(square), angle)),
                                      np.rot90(square, k))
        np.testing.assert_array_equal(np.asarray(F.rotate(Image.fromarray(square), angle)),
                                      np.rot90(square, k))


@pytest.mark.parametrize("expand", [False, True])
def test_rotate_agrees_with_pillow(expand):
    pil = np.asarray(F.rotate(Image.fromarray(RGB), 33.0, expand=expand, fill=(5, 6, 7)))
    ten = tensor_to_hwc(F.rotate(as_tensor(RGB), 33.0, expand=expand, fill=(5, 6, 7)))
    assert pil.shape == ten.shape
    assert (pil == ten).all(axis=-1).mean() > 0.97  # pixels on sampling ties may differ
    assert tuple(ten[0, 0]) == (5, 6, 7)


def test_affine_translation_is_a_shift():
    out = F.affine(RGB, 0.0, (2, -1), 1.0, 0.0)
    expected = np.zeros_like(RGB)
    expected[:-1, 2:] = RGB[1:, :-2]
    np.testing.assert_array_equal(out, expected)
    pil = np.asarray(F.affine(Image.fromarray(RGB), 0.0, (2, -1), 1.0, 0.0))
    np.testing.assert_array_equal(pil, expected)


@pytest.mark.parametrize("mode", [InterpolationMode.NEAREST, InterpolationMode.BILINEAR])
def test_affine_agrees_with_pillow(mode):
    args = (25.0, (1, 2), 1.2, (10.0, -5.0))
    pil = np.asarray(F.affine(Image.fromarray(RGB), *args, interpolation=mode)).astype(int)
    ten = tensor_to_hwc(F.affine(as_tensor(RGB), *args, interpolation=mode)).astype(int)
    if mode is InterpolationMode.NEAREST:
        assert (pil == ten).all(axis=-1).mean() > 0.95
    else:
        interior = np.abs(pil - ten)[2:-2, 2:-2]  # Pillow treats the border differently
        assert np.median(interior) <= 1


def test_affine_errors():
    with pytest.raises(ValueError, match="affine: scale must be positive"):
        F.affine(RGB, 0, (0, 0), 0.0, 0)
    with pytest.raises(ValueError, match="translate and shear need 2 values"):
        F.affine(RGB, 0, (0, 0, 0), 1.0, 0)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_random_resized_crop_params_inside_image(h, w, seed):
    flambeau.manual_seed(seed)
    img = np.zeros((h, w), np.uint8)
    top, left, ch, cw = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
    assert 0 <= top and 0 <= left and 0 < ch and 0 < cw
    assert top + ch <= h and left + cw <= w
    assert T.RandomResizedCrop(5)(img).shape == (5, 5)


def test_random_crop_padding_and_pad_if_needed():
    flambeau.manual_seed(0)
    x = flambeau.ones(1, 4, 4)
    outs = [T.RandomCrop(4, padding=2)(x) for _ in range(20)]
    sums = {float(o.sum()) for o in outs}
    assert len(sums) > 1 and max(sums) <= 16  # different offsets, zero padding
    small = T.RandomCrop((6, 5), pad_if_needed=True, fill=7)(flambeau.zeros(1, 2, 2))
    assert tuple(small.shape) == (1, 6, 5) and float(small.max()) == 7
    with pytest.raises(ValueError, match=r"crop size \(6, 6\) is larger than the input"):
        T.RandomCrop(6)(x)


@pytest.mark.parametrize("angle", [90, -90, 270])
def test_rotate_expand_by_right_angles_matches_pillow_size(angle):
    # cos(90 degrees) is 6e-17, not 0: the expanded size must not gain a column from it
    gray = RGB[..., 0]
    pil = np.asarray(F.rotate(Image.fromarray(gray), angle, expand=True))
    out = F.rotate(flambeau.from_numpy(gray.copy())[None], angle, expand=True)
    np.testing.assert_array_equal(out.cpu().numpy()[0], pil)

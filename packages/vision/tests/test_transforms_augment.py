"""AutoAugment's pixel operations, RandomApply/Choice/Order, the augmentation policies,
five and ten crops, perspective warps and LinearTransformation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

import flambeau
from flambeau.vision import transforms as T
from flambeau.vision.transforms import InterpolationMode, _autoaugment
from flambeau.vision.transforms import functional as F

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)  # H, W, C
NARROW = RNG.integers(40, 180, (9, 7, 3), dtype=np.uint8)  # leaves room for autocontrast
GRAY = RNG.integers(0, 256, (8, 11), dtype=np.uint8)


def as_tensor(hwc):
    if hwc.ndim == 2:
        hwc = hwc[:, :, None]
    return flambeau.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))


def hwc(t):
    return t.cpu().numpy().transpose(1, 2, 0)


def pil_array(img):
    arr = np.asarray(img)
    return arr[:, :, None] if arr.ndim == 2 else arr


def smoothed_reference(chw):
    """The SMOOTH filter of torchvision's adjust_sharpness, written out in NumPy."""
    x = chw.astype(np.float32)
    h, w = x.shape[-2:]
    total = sum(x[..., dy: dy + h - 2, dx: dx + w - 2] for dy in range(3) for dx in range(3))
    inner = (total + 4 * x[..., 1:-1, 1:-1]) / 13
    out = chw.copy()
    out[..., 1:-1, 1:-1] = inner if chw.dtype.kind == "f" else np.rint(inner)
    return out


# ------------------------------------------------------------------------- PIL images


@pytest.mark.parametrize("image", [RGB, NARROW, GRAY], ids=["rgb", "narrow", "gray"])
def test_pil_results_are_pillows(image):
    pil = Image.fromarray(image)
    same = np.testing.assert_array_equal
    same(np.asarray(F.invert(pil)), np.asarray(ImageOps.invert(pil)))
    for bits in range(1, 9):
        same(np.asarray(F.posterize(pil, bits)), np.asarray(ImageOps.posterize(pil, bits)))
    same(np.asarray(F.posterize(pil, 0)), np.zeros_like(image))
    for threshold in (0, 1, 100, 127.5, 255, 256):
        same(np.asarray(F.solarize(pil, threshold)), np.asarray(ImageOps.solarize(pil, threshold)))
    same(np.asarray(F.autocontrast(pil)), np.asarray(ImageOps.autocontrast(pil)))
    same(np.asarray(F.equalize(pil)), np.asarray(ImageOps.equalize(pil)))
    for factor in (0.0, 0.4, 1.0, 2.5):
        same(np.asarray(F.adjust_sharpness(pil, factor)),
             np.asarray(ImageEnhance.Sharpness(pil).enhance(factor)))
    for fn in (F.invert, F.autocontrast, F.equalize):
        assert fn(pil).mode == pil.mode and fn(pil).size == pil.size


# ------------------------------------------------------------------- uint8 tensors


@pytest.mark.parametrize("image", [RGB, NARROW, GRAY], ids=["rgb", "narrow", "gray"])
def test_uint8_tensors_match_pillow_exactly(image):
    pil, ten = Image.fromarray(image), as_tensor(image)
    cases = [(F.invert, ()), (F.equalize, ())] + [(F.posterize, (b,)) for b in range(9)] + \
        [(F.solarize, (t,)) for t in (0, 1, 100, 127.5, 255)]
    for fn, args in cases:
        expected = pil_array(fn(pil, *args))
        out = fn(ten, *args)
        assert out.dtype == flambeau.uint8
        np.testing.assert_array_equal(hwc(out), expected, err_msg=f"{fn.__name__}{args}")
        np.testing.assert_array_equal(fn(image, *args), np.asarray(fn(pil, *args)))  # NumPy


@pytest.mark.parametrize("image", [RGB, NARROW, GRAY], ids=["rgb", "narrow", "gray"])
def test_uint8_autocontrast_formula_and_pillow(image):
    chw = as_tensor(image).cpu().numpy()
    lo = chw.min(axis=(1, 2), keepdims=True).astype(np.float32)
    hi = chw.max(axis=(1, 2), keepdims=True).astype(np.float32)
    scale = np.float32(255) * (np.float32(1) / (hi - lo))
    expected = np.clip((chw - lo) * scale, 0, 255).astype(np.uint8)
    out = F.autocontrast(as_tensor(image)).cpu().numpy()
    np.testing.assert_array_equal(out, expected)
    # Pillow computes the same stretch in float64: at most one level apart
    pil = pil_array(ImageOps.autocontrast(Image.fromarray(image))).transpose(2, 0, 1)
    assert np.abs(out.astype(int) - pil).max() <= 1
    assert (out == pil).mean() > 0.9
    assert out.min(axis=(1, 2)).tolist() == [0] * out.shape[0]
    assert out.max(axis=(1, 2)).tolist() == [255] * out.shape[0]


def test_autocontrast_keeps_constant_channels():
    x = np.stack([np.full((3, 4), 7, np.uint8), np.arange(12, dtype=np.uint8).reshape(3, 4),
                  np.zeros((3, 4), np.uint8)])
    out = F.autocontrast(flambeau.from_numpy(x)).cpu().numpy()
    np.testing.assert_array_equal(out[0], x[0])
    np.testing.assert_array_equal(out[2], x[2])
    assert out[1].min() == 0 and out[1].max() == 255


@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 1.7, 3.0])
def test_uint8_sharpness_formula_and_pillow(factor):
    chw = as_tensor(RGB).cpu().numpy()
    blended = np.float32(factor) * chw.astype(np.float32) + \
        np.float32(1.0 - factor) * smoothed_reference(chw).astype(np.float32)
    expected = np.clip(blended, 0, 255).astype(np.uint8)
    out = F.adjust_sharpness(as_tensor(RGB), factor).cpu().numpy()
    np.testing.assert_array_equal(out, expected)
    pil = pil_array(ImageEnhance.Sharpness(Image.fromarray(RGB)).enhance(factor))
    diff = np.abs(out.transpose(1, 2, 0).astype(int) - pil)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.9  # Pillow blends as a + f (b - a)
    np.testing.assert_array_equal(F.adjust_sharpness(RGB, factor), out.transpose(1, 2, 0))


def test_sharpness_borders_and_small_images():
    out = F.adjust_sharpness(as_tensor(RGB), 0.0).cpu().numpy()
    chw = as_tensor(RGB).cpu().numpy()
    for edge in (np.s_[:, 0], np.s_[:, -1], np.s_[:, :, 0], np.s_[:, :, -1]):
        np.testing.assert_array_equal(out[edge], chw[edge])  # the border is not smoothed
    assert not np.array_equal(out[:, 1:-1, 1:-1], chw[:, 1:-1, 1:-1])
    tiny = flambeau.rand(3, 2, 5)
    assert F.adjust_sharpness(tiny, 0.0) is tiny  # torchvision leaves 2-pixel images alone


def test_equalize_is_vectorized_over_batches_and_channels():
    batch = flambeau.from_numpy(RNG.integers(0, 256, (2, 3, 3, 6, 5), dtype=np.uint8))
    out = F.equalize(batch).cpu().numpy()
    for index in np.ndindex(2, 3):
        image = batch.cpu().numpy()[index].transpose(1, 2, 0)
        np.testing.assert_array_equal(out[index].transpose(1, 2, 0),
                                      np.asarray(ImageOps.equalize(Image.fromarray(image))))
    # a channel with a single level, or too few pixels below the brightest one, is unchanged
    flat = flambeau.full((1, 4, 4), 9, dtype=flambeau.uint8)
    assert F.equalize(flat).tolist() == flat.tolist()
    two = flambeau.tensor([[[10, 10, 20, 30]]], dtype=flambeau.uint8)
    assert F.equalize(two).tolist() == two.tolist()


def test_two_dimensional_tensors_are_one_channel_images():
    ten = flambeau.from_numpy(GRAY.copy())
    pil = Image.fromarray(GRAY)
    np.testing.assert_array_equal(F.equalize(ten).cpu().numpy(),
                                  np.asarray(ImageOps.equalize(pil)))
    np.testing.assert_array_equal(F.invert(ten).cpu().numpy(), 255 - GRAY)


# ------------------------------------------------------------------- float tensors


def test_float_tensors_follow_the_documented_formulas():
    x = flambeau.from_numpy(RNG.random((3, 6, 7)).astype(np.float32))
    a = x.cpu().numpy()
    close = np.testing.assert_allclose
    assert F.invert(x).dtype == flambeau.float32
    close(F.invert(x).cpu().numpy(), 1 - a, rtol=1e-6)
    close(F.solarize(x, 0.5).cpu().numpy(), np.where(a >= 0.5, 1 - a, a), rtol=1e-6)
    for bits in (0, 1, 3, 8):
        levels = 2 ** bits
        close(F.posterize(x, bits).cpu().numpy(),
              np.minimum(np.floor(a * levels), levels - 1) / levels, rtol=1e-6)
    lo, hi = a.min(axis=(1, 2), keepdims=True), a.max(axis=(1, 2), keepdims=True)
    close(F.autocontrast(x).cpu().numpy(), (a - lo) / (hi - lo), rtol=1e-5, atol=1e-6)
    as_uint8 = (a * (256 - 1e-3)).astype(np.uint8)  # convert_image_dtype's rule
    close(F.equalize(x).cpu().numpy(),
          F.equalize(flambeau.from_numpy(as_uint8)).cpu().numpy() / 255.0, rtol=1e-6)
    assert F.equalize(x).dtype == flambeau.float32
    blurred = smoothed_reference(a)
    close(F.adjust_sharpness(x, 1.5).cpu().numpy(),
          np.clip(1.5 * a + (1 - 1.5) * blurred, 0, 1), rtol=1e-5, atol=1e-6)
    x64 = x.double()
    assert F.posterize(x64, 2).dtype == F.equalize(x64).dtype == flambeau.float64


def test_float_and_uint8_posterize_agree_on_levels():
    levels = flambeau.arange(256, dtype=flambeau.uint8).reshape(1, 16, 16)
    as_float = F.convert_image_dtype(levels, flambeau.float32)
    for bits in (1, 4, 7):
        u8 = F.posterize(levels, bits).cpu().numpy().astype(np.float64)
        fl = F.posterize(as_float, bits).cpu().numpy()
        # the same level index: uint8 keeps level * 2**(8 - bits), floats level / 2**bits
        np.testing.assert_array_equal(np.round(fl * 2 ** bits), u8 / 2 ** (8 - bits))


# ------------------------------------------------------------------ errors


def test_functional_errors():
    rgba = flambeau.zeros(4, 3, 3, dtype=flambeau.uint8)
    for fn, args in ((F.invert, ()), (F.posterize, (2,)), (F.solarize, (9,)),
                     (F.autocontrast, ()), (F.equalize, ()), (F.adjust_sharpness, (2.0,))):
        with pytest.raises(TypeError, match=rf"{fn.__name__}: expected an image with 1 or 3 "
                                            r"channels, got 4 \(shape \(4, 3, 3\)\)"):
            fn(rgba, *args)
        with pytest.raises(TypeError, match=f"{fn.__name__}: expected a PIL image"):
            fn([[1, 2]], *args)
    pil_rgba = Image.new("RGBA", (3, 3))
    for fn, args in ((F.invert, ()), (F.posterize, (2,)), (F.solarize, (9,)),
                     (F.autocontrast, ()), (F.equalize, ())):
        with pytest.raises(TypeError, match=f"{fn.__name__}: PIL images must have mode L or "
                                            "RGB.*got 'RGBA'"):
            fn(pil_rgba, *args)
    img = flambeau.zeros(3, 3, 3, dtype=flambeau.uint8)
    with pytest.raises(ValueError, match="posterize: bits must be between 0 and 8, got 9"):
        F.posterize(img, 9)
    with pytest.raises(ValueError, match="posterize: bits must be between 0 and 8, got -1"):
        F.posterize(Image.new("L", (2, 2)), -1)
    with pytest.raises(TypeError, match="posterize: bits must be an int, got float"):
        F.posterize(img, 2.5)
    for fn in (F.posterize, F.equalize):
        args = (2,) if fn is F.posterize else ()
        with pytest.raises(TypeError, match=f"{fn.__name__}: expected a uint8 or "
                                            "floating-point image, got int16"):
            fn(img.to(flambeau.int16), *args)
    with pytest.raises(ValueError, match=r"solarize: threshold \(256\) must not exceed the "
                                         r"largest value of a uint8 image \(255\)"):
        F.solarize(img, 256)
    with pytest.raises(ValueError, match=r"threshold \(2\) .* float32 image \(1.0\)"):
        F.solarize(img.float(), 2)
    with pytest.raises(ValueError, match="adjust_sharpness: sharpness_factor must be "
                                         "non-negative"):
        F.adjust_sharpness(img, -0.5)


# ------------------------------------------------------- random pixel transforms


PIXEL_TRANSFORMS = [
    (T.RandomInvert, (), F.invert),
    (T.RandomPosterize, (3,), F.posterize),
    (T.RandomSolarize, (100,), F.solarize),
    (T.RandomAdjustSharpness, (2.0,), F.adjust_sharpness),
    (T.RandomAutocontrast, (), F.autocontrast),
    (T.RandomEqualize, (), F.equalize),
]


@pytest.mark.parametrize("cls, args, fn", PIXEL_TRANSFORMS)
def test_random_pixel_transforms_p0_p1_and_frequency(cls, args, fn):
    for image in (as_tensor(NARROW), Image.fromarray(NARROW), NARROW):
        assert cls(*args, p=0.0)(image) is image
        expected = fn(image, *args)
        out = cls(*args, p=1.0)(image)
        assert type(out) is type(image)
        np.testing.assert_array_equal(np.asarray(out if not hasattr(out, "cpu") else hwc(out)),
                                      np.asarray(expected if not hasattr(expected, "cpu")
                                                 else hwc(expected)))
    flambeau.manual_seed(3)
    x = as_tensor(NARROW)
    applied = [cls(*args)(x) is not x for _ in range(400)]
    assert 0.4 < np.mean(applied) < 0.6
    assert cls(*args, p=0.25).p == 0.25


def test_random_pixel_transform_reprs_and_defaults():
    assert repr(T.RandomInvert()) == "RandomInvert(p=0.5)"
    assert repr(T.RandomPosterize(bits=2)) == "RandomPosterize(bits=2,p=0.5)"
    assert repr(T.RandomSolarize(threshold=192.0, p=0.3)) == \
        "RandomSolarize(threshold=192.0,p=0.3)"
    assert repr(T.RandomAdjustSharpness(sharpness_factor=2)) == \
        "RandomAdjustSharpness(sharpness_factor=2,p=0.5)"
    assert repr(T.RandomAutocontrast(p=0.1)) == "RandomAutocontrast(p=0.1)"
    assert repr(T.RandomEqualize()) == "RandomEqualize(p=0.5)"


def test_random_pixel_transform_errors():
    for cls, args, _ in PIXEL_TRANSFORMS:
        name = cls.__name__
        with pytest.raises(ValueError, match=rf"{name}: p must be in \[0, 1\], got 1.5"):
            cls(*args, p=1.5)
        with pytest.raises(ValueError, match=rf"{name}: p must be in \[0, 1\], got -0.1"):
            cls(*args, p=-0.1)
        with pytest.raises(TypeError, match=f"{name}: p must be a number in"):
            cls(*args, p="0.5")
    with pytest.raises(ValueError, match="RandomPosterize: bits must be between 0 and 8"):
        T.RandomPosterize(9)
    with pytest.raises(TypeError, match="RandomPosterize: bits must be an int"):
        T.RandomPosterize(4.0)
    with pytest.raises(ValueError, match="RandomAdjustSharpness: sharpness_factor must be "
                                         "non-negative"):
        T.RandomAdjustSharpness(-1)
    with pytest.raises(TypeError, match="invert: expected a PIL image"):
        T.RandomInvert(p=1.0)("image")
    with pytest.raises(TypeError, match="RandomSolarize: threshold must be a number, got str"):
        T.RandomSolarize("128")
    with pytest.raises(TypeError, match="solarize: threshold must be a number, got NoneType"):
        F.solarize(as_tensor(RGB), None)
    for flip in (T.RandomHorizontalFlip, T.RandomVerticalFlip):  # the same p-gated base
        with pytest.raises(ValueError, match=rf"{flip.__name__}: p must be in \[0, 1\], got 2"):
            flip(p=2)


# ---------------------------------------------------- RandomApply, Choice, Order


def add(k):
    return T.Lambda(lambda x: x + k)


def test_random_apply():
    twice = T.RandomApply([add(1), T.Lambda(lambda x: x * 10)], p=1.0)
    assert twice(1) == 20  # in order
    assert T.RandomApply([add(1)], p=0.0)(1) == 1
    flambeau.manual_seed(5)
    first = [T.RandomApply([add(1)])(0) for _ in range(300)]
    assert set(first) == {0, 1} and 0.4 < np.mean(first) < 0.6
    flambeau.manual_seed(5)
    assert [T.RandomApply([add(1)])(0) for _ in range(300)] == first
    # all or nothing
    both = T.RandomApply([add(1), add(2)], p=0.5)
    assert {both(0) for _ in range(50)} == {0, 3}
    image = as_tensor(RGB)
    out = T.RandomApply([T.RandomInvert(p=1.0), T.RandomHorizontalFlip(p=1.0)], p=1.0)(image)
    np.testing.assert_array_equal(hwc(out), 255 - RGB[:, ::-1])
    assert repr(T.RandomApply([T.RandomInvert()], p=0.3)) == \
        "RandomApply(\n    p=0.3\n    RandomInvert(p=0.5)\n)"


def test_random_choice():
    flambeau.manual_seed(1)
    choice = T.RandomChoice([add(1), add(2), add(3)])
    picks = [choice(0) for _ in range(600)]
    counts = np.bincount(picks, minlength=4)[1:]
    assert counts.min() > 150  # uniform
    flambeau.manual_seed(1)
    assert [choice(0) for _ in range(600)] == picks
    weighted = T.RandomChoice([add(1), add(2), add(3)], p=[0.0, 3.0, 1.0])
    picks = [weighted(0) for _ in range(800)]
    assert set(picks) <= {2, 3} and 0.68 < picks.count(2) / 800 < 0.82
    assert {T.RandomChoice([add(1), add(2)], p=(0, 1))(0) for _ in range(20)} == {2}
    assert repr(T.RandomChoice([T.RandomInvert()], p=[1.0])) == \
        "RandomChoice(\n    RandomInvert(p=0.5)\n)(p=[1.0])"


def test_random_order():
    flambeau.manual_seed(2)
    order = T.RandomOrder([T.Lambda(lambda s: s + "a"), T.Lambda(lambda s: s + "b"),
                           T.Lambda(lambda s: s + "c")])
    outs = [order("") for _ in range(300)]
    assert set(outs) == {"abc", "acb", "bac", "bca", "cab", "cba"}
    flambeau.manual_seed(2)
    assert [order("") for _ in range(300)] == outs
    assert repr(T.RandomOrder([T.RandomInvert(), T.RandomEqualize()])) == \
        "RandomOrder(\n    RandomInvert(p=0.5)\n    RandomEqualize(p=0.5)\n)"


def test_random_apply_choice_order_errors():
    for cls in (T.RandomApply, T.RandomChoice, T.RandomOrder):
        name = cls.__name__
        with pytest.raises(TypeError, match=f"{name}: every transform must be callable"):
            cls([add(1), 3])
        with pytest.raises(TypeError, match=f"{name}: transforms must be a sequence of "
                                            "transforms, got a single RandomInvert"):
            cls(T.RandomInvert())
        with pytest.raises(TypeError, match=f"{name}: transforms must be a sequence"):
            cls(5)
    with pytest.raises(ValueError, match=r"RandomApply: p must be in \[0, 1\], got 2"):
        T.RandomApply([add(1)], p=2)
    with pytest.raises(TypeError, match="RandomChoice: p must be a sequence of weights, got "
                                        "float"):
        T.RandomChoice([add(1)], p=0.5)
    with pytest.raises(ValueError, match="RandomChoice: p has 1 weights for 2 transforms"):
        T.RandomChoice([add(1), add(2)], p=[1.0])
    with pytest.raises(ValueError, match="non-negative with a positive sum"):
        T.RandomChoice([add(1), add(2)], p=[1.0, -1.0])
    with pytest.raises(ValueError, match="non-negative with a positive sum"):
        T.RandomChoice([add(1), add(2)], p=[0, 0])
    with pytest.raises(TypeError, match=r"RandomChoice: the weights p must be numbers, got "
                                        r"\['a'\]"):
        T.RandomChoice([add(1)], p=["a"])


# ------------------------------------------------ AutoAugment, RandAugment, TrivialAugment


OP_NAMES = ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
            "Brightness", "Color", "Contrast", "Sharpness", "Posterize", "Solarize",
            "AutoContrast", "Equalize"]


def expected_op(img, name, magnitude, interpolation=InterpolationMode.NEAREST, fill=None):
    """torchvision's documented mapping from an operation and magnitude to the functional."""
    if name in ("ShearX", "ShearY"):
        angle = math.degrees(math.atan(magnitude))
        shear = [angle, 0.0] if name == "ShearX" else [0.0, angle]
        return F.affine(img, 0.0, [0, 0], 1.0, shear, interpolation, fill, center=[0, 0])
    if name in ("TranslateX", "TranslateY"):
        shift = [int(magnitude), 0] if name == "TranslateX" else [0, int(magnitude)]
        return F.affine(img, 0.0, shift, 1.0, [0.0, 0.0], interpolation, fill)
    if name == "Rotate":
        return F.rotate(img, magnitude, interpolation, fill=fill)
    enhance = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation,
               "Contrast": F.adjust_contrast, "Sharpness": F.adjust_sharpness}
    if name in enhance:
        return enhance[name](img, 1.0 + magnitude)
    if name == "Posterize":
        return F.posterize(img, int(magnitude))
    if name == "Solarize":
        return F.solarize(img, magnitude)
    return {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert,
            "Identity": lambda x: x}[name](img)


def assert_same_image(a, b):
    assert type(a) is type(b)
    if isinstance(a, Image.Image):
        assert a.mode == b.mode
        a, b = np.asarray(a), np.asarray(b)
    elif hasattr(a, "cpu"):
        assert a.dtype == b.dtype
        a, b = a.cpu().numpy(), b.cpu().numpy()
    np.testing.assert_array_equal(a, b)


def script_draw_int(monkeypatch, values):
    """Make the policies' integer draws return ``values`` in turn (forcing their choices)."""
    queue = list(values)

    def draw(low, high):
        value = queue.pop(0)
        assert low <= value < high
        return value

    monkeypatch.setattr(_autoaugment, "draw_int", draw)
    return queue


IMAGES = {
    "pil": lambda: Image.fromarray(RGB),
    "uint8": lambda: as_tensor(RGB),
    "numpy": lambda: RGB.copy(),
    "gray": lambda: Image.fromarray(GRAY),
}


def test_autoaugment_magnitude_bins():
    space = T.AutoAugment()._augmentation_space(10, (10, 12))
    assert list(space) == OP_NAMES[1:] + ["Invert"]
    np.testing.assert_allclose(space["ShearX"][0], np.arange(10) * 0.3 / 9)
    np.testing.assert_allclose(space["TranslateX"][0], np.arange(10) * 150 / 331 * 12 / 9)
    np.testing.assert_allclose(space["TranslateY"][0], np.arange(10) * 150 / 331 * 10 / 9)
    np.testing.assert_allclose(space["Rotate"][0], np.arange(10) * 30 / 9)
    np.testing.assert_allclose(space["Color"][0], np.arange(10) * 0.9 / 9)
    assert space["Posterize"] == ([8, 8, 7, 7, 6, 6, 5, 5, 4, 4], False)
    np.testing.assert_allclose(space["Solarize"][0], 255 - np.arange(10) * 255 / 9)
    assert [space[n][1] for n in ("ShearY", "Brightness", "Solarize", "Equalize")] == \
        [True, True, False, False]
    for policy in T.AutoAugmentPolicy:
        policies = T.AutoAugment(policy).policies
        assert len(policies) == 25 and all(len(sub) == 2 for sub in policies)
        assert {op[0] for sub in policies for op in sub} <= set(space)


@pytest.mark.parametrize("kind", list(IMAGES))
@pytest.mark.parametrize("name", OP_NAMES[1:] + ["Invert"])
def test_autoaugment_calls_each_operation(monkeypatch, kind, name):
    image = IMAGES[kind]()
    level = None if name in ("AutoContrast", "Equalize", "Invert") else 7
    augment = T.AutoAugment(T.AutoAugmentPolicy.SVHN, fill=3)
    augment.policies = [((name, 0.5, level), ("Invert", 0.0, None))]  # only the first runs
    signs = [1, 1]
    monkeypatch.setattr(T.AutoAugment, "get_params", staticmethod(
        lambda n: (0, flambeau.tensor([0.5, 0.1]), flambeau.tensor(signs))))
    magnitude = 0.0
    if level is not None:
        _, height, width = F.get_dimensions(image)
        magnitude = float(augment._augmentation_space(10, (height, width))[name][0][level])
    expected = expected_op(IMAGES[kind](), name, magnitude, fill=3)
    assert_same_image(augment(image), expected)
    if name in ("Rotate", "ShearY", "TranslateX"):  # sign 0 negates a signed magnitude
        signs[0] = 0
        assert_same_image(augment(IMAGES[kind]()),
                          expected_op(IMAGES[kind](), name, -magnitude, fill=3))


def test_autoaugment_runs_an_operation_when_its_draw_is_at_most_p(monkeypatch):
    augment = T.AutoAugment()
    augment.policies = [(("Invert", 0.5, None), ("Equalize", 0.25, None))]
    image = as_tensor(RGB)
    for probs, expected in (([0.5, 0.75], F.invert(image)), ([0.75, 0.25], F.equalize(image)),
                            ([0.0, 0.0], F.equalize(F.invert(image))), ([0.75, 0.5], image)):
        monkeypatch.setattr(T.AutoAugment, "get_params", staticmethod(
            lambda n, probs=probs: (0, flambeau.tensor(probs), flambeau.tensor([1, 1]))))
        assert_same_image(augment(image), expected)


@pytest.mark.parametrize("kind", list(IMAGES))
@pytest.mark.parametrize("name", OP_NAMES)
def test_randaugment_calls_each_operation(monkeypatch, kind, name):
    augment = T.RandAugment(num_ops=1, magnitude=9, num_magnitude_bins=31,
                            interpolation=InterpolationMode.BILINEAR)
    _, height, width = F.get_dimensions(IMAGES[kind]())
    space = augment._augmentation_space(31, (height, width))
    assert list(space) == OP_NAMES
    magnitudes, signed = space[name]
    magnitude = 0.0 if magnitudes is None else magnitudes[9]
    script_draw_int(monkeypatch, [OP_NAMES.index(name)] + ([1] if signed else []))
    expected = expected_op(IMAGES[kind](), name, -magnitude if signed else magnitude,
                           InterpolationMode.BILINEAR)
    assert_same_image(augment(IMAGES[kind]()), expected)
    if signed:
        script_draw_int(monkeypatch, [OP_NAMES.index(name), 0])
        assert_same_image(augment(IMAGES[kind]()),
                          expected_op(IMAGES[kind](), name, magnitude,
                                      InterpolationMode.BILINEAR))


def test_randaugment_magnitudes_and_num_ops(monkeypatch):
    space = T.RandAugment()._augmentation_space(31, (10, 12))
    assert space["ShearX"][0][9] == pytest.approx(0.09)
    assert space["TranslateX"][0][9] == pytest.approx(150 / 331 * 12 * 0.3)
    assert space["TranslateY"][0][9] == pytest.approx(150 / 331 * 10 * 0.3)
    assert space["Rotate"][0][9] == pytest.approx(9.0)
    assert space["Brightness"][0][9] == pytest.approx(0.27)
    assert space["Posterize"][0][::5] == [8, 7, 7, 6, 5, 5, 4]
    assert space["Solarize"][0][9] == pytest.approx(178.5)
    # num_ops operations in a row
    image = as_tensor(RGB)
    queue = script_draw_int(monkeypatch, [OP_NAMES.index("Posterize"),
                                          OP_NAMES.index("Equalize"),
                                          OP_NAMES.index("Identity")])
    out = T.RandAugment(num_ops=3)(image)
    assert not queue
    assert_same_image(out, F.equalize(F.posterize(image, 7)))
    assert T.RandAugment(num_ops=0)(image) is image


@pytest.mark.parametrize("kind", list(IMAGES))
@pytest.mark.parametrize("name", OP_NAMES)
def test_trivialaugment_calls_each_operation(monkeypatch, kind, name):
    augment = T.TrivialAugmentWide(num_magnitude_bins=31, fill=[5])
    space = augment._augmentation_space(31)
    assert list(space) == OP_NAMES
    magnitudes, signed = space[name]
    draws = [OP_NAMES.index(name)]
    magnitude = 0.0
    if magnitudes is not None:
        draws.append(20)
        magnitude = magnitudes[20]
    if signed:
        draws.append(1)
        magnitude = -magnitude
    queue = script_draw_int(monkeypatch, draws)
    expected = expected_op(IMAGES[kind](), name, magnitude, fill=[5])
    assert_same_image(augment(IMAGES[kind]()), expected)
    assert not queue


def test_trivialaugment_magnitude_ranges():
    space = T.TrivialAugmentWide()._augmentation_space(31)
    for name, top in (("ShearX", 0.99), ("TranslateY", 32.0), ("Rotate", 135.0),
                      ("Contrast", 0.99)):
        np.testing.assert_allclose(space[name][0], np.linspace(0, top, 31))
    assert space["Posterize"][0][::5] == [8, 7, 6, 5, 4, 3, 2]
    assert space["Solarize"][0][0] == 255.0 and space["Solarize"][0][-1] == 0.0


def test_float_images_scale_the_solarize_threshold(monkeypatch):
    x = flambeau.from_numpy(RNG.random((3, 5, 5)).astype(np.float32))
    script_draw_int(monkeypatch, [OP_NAMES.index("Solarize")])
    out = T.RandAugment(num_ops=1, magnitude=9)(x)
    assert_same_image(out, F.solarize(x, 178.5 / 255))


AUGMENTS = [T.AutoAugment(), T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
            T.AutoAugment(T.AutoAugmentPolicy.SVHN, InterpolationMode.BILINEAR, fill=0),
            T.RandAugment(), T.RandAugment(num_ops=4, magnitude=30), T.TrivialAugmentWide()]


@pytest.mark.parametrize("augment", AUGMENTS, ids=repr)
def test_policies_keep_kind_shape_dtype_and_are_seeded(augment):
    images = [Image.fromarray(RGB), Image.fromarray(GRAY), as_tensor(RGB), RGB,
              as_tensor(RGB).float() / 255, as_tensor(RGB).double() / 255,
              flambeau.randint(0, 256, (2, 4, 1, 6, 7), dtype=flambeau.uint8)]
    for image in images:
        flambeau.manual_seed(11)
        first = [augment(image) for _ in range(12)]
        flambeau.manual_seed(11)
        second = [augment(image) for _ in range(12)]
        for a, b in zip(first, second, strict=True):
            assert_same_image(a, b)
            if isinstance(image, Image.Image):
                assert (a.mode, a.size) == (image.mode, image.size)
            else:
                assert tuple(a.shape) == tuple(image.shape) and a.dtype == image.dtype
            if hasattr(a, "is_floating_point") and a.is_floating_point():
                assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
        changed = [not np.array_equal(np.asarray(a if not hasattr(a, "cpu") else a.cpu()),
                                      np.asarray(image if not hasattr(image, "cpu")
                                                 else image.cpu())) for a in first]
        assert any(changed)


def test_policy_reprs():
    assert repr(T.AutoAugment()) == "AutoAugment(policy=AutoAugmentPolicy.IMAGENET, fill=None)"
    assert repr(T.AutoAugment("svhn", fill=[1, 2, 3])) == \
        "AutoAugment(policy=AutoAugmentPolicy.SVHN, fill=[1, 2, 3])"
    assert repr(T.RandAugment()) == ("RandAugment(num_ops=2, magnitude=9, "
                                     "num_magnitude_bins=31, "
                                     "interpolation=InterpolationMode.NEAREST, fill=None)")
    assert repr(T.TrivialAugmentWide(num_magnitude_bins=8, fill=4)) == (
        "TrivialAugmentWide(num_magnitude_bins=8, interpolation=InterpolationMode.NEAREST, "
        "fill=4)")
    augment = T.AutoAugment(interpolation=InterpolationMode.BILINEAR)
    assert augment.interpolation is InterpolationMode.BILINEAR


def test_policy_errors():
    with pytest.raises(ValueError, match="AutoAugment: unknown policy 'cifar100'; expected "
                                         "one of"):
        T.AutoAugment("cifar100")
    with pytest.raises(TypeError, match="AutoAugment: interpolation must be an "
                                        "InterpolationMode"):
        T.AutoAugment(interpolation=1.5)
    with pytest.raises(ValueError, match=r"RandAugment: magnitude must be a bin in \[0, 31\), "
                                         "got 31"):
        T.RandAugment(magnitude=31)
    with pytest.raises(ValueError, match="RandAugment: magnitude must be at least 0"):
        T.RandAugment(magnitude=-1)
    with pytest.raises(ValueError, match="RandAugment: num_ops must be at least 0, got -1"):
        T.RandAugment(num_ops=-1)
    with pytest.raises(TypeError, match="RandAugment: num_ops must be an int, got float"):
        T.RandAugment(num_ops=2.0)
    with pytest.raises(ValueError, match="RandAugment: num_magnitude_bins must be at least 2"):
        T.RandAugment(magnitude=0, num_magnitude_bins=1)
    with pytest.raises(ValueError, match="TrivialAugmentWide: num_magnitude_bins must be at "
                                         "least 2, got 1"):
        T.TrivialAugmentWide(num_magnitude_bins=1)
    with pytest.raises(ValueError, match="AutoAugment: unknown operation 'Blur'"):
        _autoaugment._apply_op(RGB, "Blur", 1.0, InterpolationMode.NEAREST, None)
    augment = T.AutoAugment()
    augment.policies = [(("Equalize", 1.0, None), ("Equalize", 1.0, None))]
    with pytest.raises(TypeError, match="equalize: expected an image with 1 or 3 channels"):
        augment(flambeau.zeros(4, 5, 5, dtype=flambeau.uint8))


# ------------------------------------------------------------- five and ten crops


def test_five_crop_and_ten_crop():
    tl, tr, bl, br, center = F.five_crop(RGB, (4, 5))
    np.testing.assert_array_equal(tl, RGB[:4, :5])
    np.testing.assert_array_equal(tr, RGB[:4, -5:])
    np.testing.assert_array_equal(bl, RGB[-4:, :5])
    np.testing.assert_array_equal(br, RGB[-4:, -5:])
    np.testing.assert_array_equal(center, RGB[3:7, 4:9])
    pil_crops = T.FiveCrop((4, 5))(Image.fromarray(RGB))
    ten_crops = T.FiveCrop((4, 5))(as_tensor(RGB))
    for ref, pil, ten in zip((tl, tr, bl, br, center), pil_crops, ten_crops, strict=True):
        np.testing.assert_array_equal(np.asarray(pil), ref)
        np.testing.assert_array_equal(hwc(ten), ref)
    square = T.FiveCrop(3)(as_tensor(RGB))
    assert all(tuple(c.shape) == (3, 3, 3) for c in square)
    crops = T.TenCrop(3)(as_tensor(RGB))
    assert len(crops) == 10
    np.testing.assert_array_equal(hwc(crops[5]), RGB[:3, ::-1][:, :3])  # flipped top-left
    vertical = T.TenCrop(3, vertical_flip=True)(RGB)
    np.testing.assert_array_equal(vertical[5], RGB[::-1][:3, :3])
    assert repr(T.FiveCrop(3)) == "FiveCrop(size=(3, 3))"
    assert repr(T.TenCrop((2, 3), True)) == "TenCrop(size=(2, 3), vertical_flip=True)"
    with pytest.raises(ValueError, match=r"five_crop: crop size \(11, 5\) is bigger than the "
                                         r"image size \(10, 12\)"):
        F.five_crop(RGB, (11, 5))
    with pytest.raises(ValueError, match="FiveCrop: size must be an int or a sequence of 2"):
        T.FiveCrop((1, 2, 3))


# ------------------------------------------------------------------ perspective


CORNERS = [[0, 0], [11, 0], [11, 9], [0, 9]]
MOVED = [[2, 1], [10, 0], [11, 8], [1, 9]]


def test_perspective_agrees_with_pillow():
    for mode in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        pil = np.asarray(F.perspective(Image.fromarray(RGB), CORNERS, MOVED, mode, fill=7))
        ten = hwc(F.perspective(as_tensor(RGB), CORNERS, MOVED, mode, fill=7))
        arr = F.perspective(RGB, CORNERS, MOVED, mode, fill=7)
        np.testing.assert_array_equal(arr, ten)
        if mode is InterpolationMode.NEAREST:
            assert (pil == ten).all(axis=-1).mean() > 0.95
        else:
            assert np.median(np.abs(pil.astype(int) - ten.astype(int))[2:-2, 2:-2]) <= 1
    assert tuple(ten[0, 0]) == (7, 7, 7)  # the top-left corner moved inwards
    same = F.perspective(as_tensor(RGB), CORNERS, CORNERS, InterpolationMode.NEAREST)
    np.testing.assert_array_equal(hwc(same), RGB)
    with pytest.raises(ValueError, match="perspective: startpoints and endpoints must be 4 "
                                         "points each, got 3 and 4"):
        F.perspective(RGB, CORNERS[:3], MOVED)
    with pytest.raises(ValueError, match="do not define a perspective transform"):
        F.perspective(RGB, CORNERS, [[0, 0], [1, 1], [2, 2], [3, 3]])


def test_random_perspective():
    flambeau.manual_seed(4)
    for _ in range(20):
        start, end = T.RandomPerspective.get_params(12, 10, 0.5)
        assert start == CORNERS
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = end
        assert 0 <= x0 <= 3 and 0 <= y0 <= 2 and 8 <= x1 <= 11 and 0 <= y1 <= 2
        assert 8 <= x2 <= 11 and 7 <= y2 <= 9 and 0 <= x3 <= 3 and 7 <= y3 <= 9
    assert T.RandomPerspective.get_params(12, 10, 0.0)[1] == CORNERS
    image = as_tensor(RGB)
    assert T.RandomPerspective(p=0.0)(image) is image
    flambeau.manual_seed(9)
    out = T.RandomPerspective(p=1.0, interpolation=InterpolationMode.NEAREST)(image)
    flambeau.manual_seed(9)
    flambeau.rand(1)  # the coin
    _, end = T.RandomPerspective.get_params(12, 10, 0.5)
    assert_same_image(out, F.perspective(image, CORNERS, end, InterpolationMode.NEAREST, 0))
    assert T.RandomPerspective(p=1.0)(Image.fromarray(RGB)).size == (12, 10)
    assert repr(T.RandomPerspective(0.3, p=0.2)) == "RandomPerspective(p=0.2)"
    with pytest.raises(ValueError, match=r"RandomPerspective: distortion_scale must be in "
                                         r"\[0, 1\], got 1.5"):
        T.RandomPerspective(1.5)
    with pytest.raises(ValueError, match=r"RandomPerspective: p must be in \[0, 1\]"):
        T.RandomPerspective(p=2)
    with pytest.raises(TypeError, match="RandomPerspective: distortion_scale must be a number "
                                        "in"):
        T.RandomPerspective("0.5")


# ------------------------------------------------------------ LinearTransformation


def test_linear_transformation():
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((12, 12)).astype(np.float32)
    mean = rng.standard_normal(12).astype(np.float32)
    transform = T.LinearTransformation(flambeau.from_numpy(matrix), flambeau.from_numpy(mean))
    x = rng.random((5, 3, 2, 2)).astype(np.float32)
    out = transform(flambeau.from_numpy(x))
    assert tuple(out.shape) == (5, 3, 2, 2)
    np.testing.assert_allclose(out.cpu().numpy(),
                               ((x.reshape(5, 12) - mean) @ matrix).reshape(x.shape),
                               rtol=1e-5, atol=1e-5)
    one = transform(flambeau.from_numpy(x[0]))
    np.testing.assert_allclose(one.cpu().numpy(), out.cpu().numpy()[0], rtol=1e-6)
    small = T.LinearTransformation(flambeau.eye(2), flambeau.tensor([1.0, 2.0]))
    assert repr(small) == ("LinearTransformation(transformation_matrix=[[1.0, 0.0], "
                           "[0.0, 1.0]], mean_vector=[1.0, 2.0])")


def test_linear_transformation_errors():
    with pytest.raises(ValueError, match=r"transformation_matrix must be square, got shape "
                                         r"\(2, 3\)"):
        T.LinearTransformation(flambeau.zeros(2, 3), flambeau.zeros(2))
    with pytest.raises(ValueError, match=r"mean_vector must be a vector of length 2 \(the "
                                         r"matrix size\), got shape \(3,\)"):
        T.LinearTransformation(flambeau.zeros(2, 2), flambeau.zeros(3))
    with pytest.raises(ValueError, match="must have the same dtype, got flambeau.float32 and "
                                         "flambeau.float64"):
        T.LinearTransformation(flambeau.zeros(2, 2), flambeau.zeros(2, dtype=flambeau.float64))
    transform = T.LinearTransformation(flambeau.eye(4), flambeau.zeros(4))
    with pytest.raises(ValueError, match=r"an image of shape \(1, 2, 3\) has 6 values but the "
                                         "transformation matrix is of size 4"):
        transform(flambeau.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="LinearTransformation: expected a tensor image, got "
                                        "ndarray"):
        transform(np.zeros((2, 2, 1)))
    with pytest.raises(TypeError, match="LinearTransformation: transformation_matrix must be a "
                                        "tensor, got list"):
        T.LinearTransformation([[1.0]], flambeau.zeros(1))


def test_new_names_are_exported():
    for name in ("RandomApply", "RandomChoice", "RandomOrder", "RandomInvert",
                 "RandomPosterize", "RandomSolarize", "RandomAdjustSharpness",
                 "RandomAutocontrast", "RandomEqualize", "AutoAugmentPolicy", "AutoAugment",
                 "RandAugment", "TrivialAugmentWide", "FiveCrop", "TenCrop",
                 "RandomPerspective", "LinearTransformation"):
        assert name in T.__all__ and getattr(T, name).__doc__
    for name in ("invert", "posterize", "solarize", "adjust_sharpness", "autocontrast",
                 "equalize", "five_crop", "ten_crop", "perspective"):
        assert name in F.__all__ and "Examples" in getattr(F, name).__doc__

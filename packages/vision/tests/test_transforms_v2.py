"""transforms.v2: box kernels against hand-derived boxes, images against the v1 kernels,
whole samples moved together, nested inputs, seeding, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

import flambeau
from flambeau.vision import transforms as T
from flambeau.vision import tv_tensors
from flambeau.vision.transforms import functional as F1
from flambeau.vision.transforms import v2
from flambeau.vision.transforms.v2 import functional as F

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (3, 12, 16), dtype=np.uint8)  # C, H, W


def image():
    return tv_tensors.Image(flambeau.from_numpy(RGB.copy()))


def boxes(data, fmt="XYXY", canvas=(12, 16), dtype=flambeau.float64, **kwargs):
    return tv_tensors.BoundingBoxes(data, format=fmt, canvas_size=canvas, dtype=dtype, **kwargs)


def values(t):
    return t.cpu().numpy()


def box_of_mask(mask):
    """The XYXY box (pixel edges) around the nonzero pixels of an (H, W) mask."""
    ys, xs = np.nonzero(values(mask))
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def rect_mask(box, canvas=(12, 16)):
    m = np.zeros(canvas, np.uint8)
    x1, y1, x2, y2 = box
    m[y1:y2, x1:x2] = 1
    return tv_tensors.Mask(flambeau.from_numpy(m))


# ---------------------------------------------------------------------- box kernels

XYXY = [[1.0, 2.0, 5.0, 8.0], [0.0, 0.0, 16.0, 12.0]]


def in_format(fmt):
    arr = np.array(XYXY)
    if fmt == "XYWH":
        arr = np.concatenate([arr[:, :2], arr[:, 2:] - arr[:, :2]], 1)
    elif fmt == "CXCYWH":
        arr = np.concatenate([(arr[:, :2] + arr[:, 2:]) / 2, arr[:, 2:] - arr[:, :2]], 1)
    return arr


@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
def test_convert_bounding_box_format_round_trips(fmt):
    b = boxes(XYXY)
    out = F.convert_bounding_box_format(b, new_format=fmt)
    assert out.format.value == fmt
    np.testing.assert_allclose(values(out), in_format(fmt))
    back = F.convert_bounding_box_format(out, new_format="XYXY")
    np.testing.assert_allclose(values(back), XYXY)


def test_convert_integer_boxes_rounds_as_torchvision():
    b = boxes([[1, 1, 4, 6]], dtype=flambeau.int64)
    out = F.convert_bounding_box_format(b, new_format="CXCYWH")
    assert out.dtype == flambeau.int64
    np.testing.assert_array_equal(values(out), [[2, 3, 3, 5]])  # centres floor
    back = F.convert_bounding_box_format(out, new_format="XYXY")
    np.testing.assert_array_equal(values(back), [[0, 0, 3, 5]])  # half sizes ceil


def test_convert_plain_tensor_needs_old_format():
    t = flambeau.tensor([[0.0, 0.0, 2.0, 2.0]])
    np.testing.assert_allclose(values(F.convert_bounding_box_format(t, "XYXY", "XYWH")),
                               [[0, 0, 2, 2]])
    with pytest.raises(ValueError, match="old_format is required for a plain tensor"):
        F.convert_bounding_box_format(t, new_format="XYWH")
    with pytest.raises(ValueError, match="new_format is required"):
        F.convert_bounding_box_format(t, "XYXY")
    with pytest.raises(ValueError, match="old_format must not be passed for BoundingBoxes"):
        F.convert_bounding_box_format(boxes(XYXY), "XYXY", "XYWH")


@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
@pytest.mark.parametrize("op, expected_xyxy", [
    (lambda b: F.horizontal_flip(b), [[11, 2, 15, 8], [0, 0, 16, 12]]),
    (lambda b: F.vertical_flip(b), [[1, 4, 5, 10], [0, 0, 16, 12]]),
    (lambda b: F.resize(b, [6, 32]), [[2, 1, 10, 4], [0, 0, 32, 6]]),
    (lambda b: F.crop(b, 3, 2, 6, 8), [[0, 0, 3, 5], [0, 0, 8, 6]]),
    (lambda b: F.pad(b, [1, 2, 3, 4]), [[2, 4, 6, 10], [1, 2, 17, 14]]),
    (lambda b: F.center_crop(b, [8, 8]), [[0, 0, 1, 6], [0, 0, 8, 8]]),
    (lambda b: F.resized_crop(b, 2, 1, 6, 4, [12, 8]), [[0, 0, 8, 12], [0, 0, 8, 12]]),
    (lambda b: F.affine(b, 0.0, [2, -1], 1.0, 0.0), [[3, 1, 7, 7], [2, 0, 16, 11]]),
    (lambda b: F.perspective(b, [[0, 0], [15, 0], [15, 11], [0, 11]],
                             [[2, 1], [17, 1], [17, 12], [2, 12]]),
     [[3, 3, 7, 9], [2, 1, 16, 12]]),
])
def test_box_kernels_match_hand_derived_boxes(fmt, op, expected_xyxy):
    out = op(boxes(in_format(fmt).tolist(), fmt=fmt))
    assert out.format.value == fmt
    xyxy = F.convert_bounding_box_format(out, new_format="XYXY")
    np.testing.assert_allclose(values(xyxy), expected_xyxy, atol=1e-9)


def test_resize_size_none_fits_the_longer_edge_to_max_size():
    # torchvision's v2 only: the longer edge becomes max_size, the shorter int(max * s / l)
    img = F.to_dtype(image(), flambeau.float32, scale=True)  # (3, 12, 16)
    b = boxes([[4.0, 2.0, 10.0, 6.0]])
    out_img, out_boxes = v2.Resize(None, max_size=8)(img, b)
    assert type(out_img) is tv_tensors.Image and tuple(out_img.shape) == (3, 6, 8)
    np.testing.assert_array_equal(values(out_img), values(F1.resize(img, [6, 8])))
    assert out_boxes.canvas_size == (6, 8)
    np.testing.assert_allclose(values(out_boxes), [[2.0, 1.0, 5.0, 3.0]])
    tall = F.resize(tv_tensors.Mask(flambeau.zeros(10, 4)), None, max_size=5)
    assert tuple(tall.shape) == (5, 2)
    with pytest.raises(ValueError, match="Resize: max_size must be an int when size is None, "
                                         "got None"):
        v2.Resize(None)
    with pytest.raises(ValueError, match="resize: max_size must be an int when size is None, "
                                         "got 4.5"):
        F.resize(img, None, max_size=4.5)


def test_canvas_sizes_follow_the_image():
    b = boxes(XYXY)
    img = image()
    for op in (lambda x: F.resize(x, 6), lambda x: F.pad(x, [1, 2, 3, 4]),
               lambda x: F.crop(x, 1, 1, 5, 7), lambda x: F.center_crop(x, 20),
               lambda x: F.rotate(x, 30, expand=True), lambda x: F.resized_crop(x, 0, 0, 4, 4, 9)):
        assert op(b).canvas_size == tuple(F.get_size(op(img)))


def test_integer_boxes_keep_their_dtype():
    b = boxes([[1, 2, 5, 8]], dtype=flambeau.int32)
    out = F.horizontal_flip(b)
    assert out.dtype == flambeau.int32
    np.testing.assert_array_equal(values(out), [[11, 2, 15, 8]])


def test_clamping_mode_none_leaves_boxes_outside():
    b = boxes([[1.0, 2.0, 5.0, 8.0]], clamping_mode=None)
    np.testing.assert_allclose(values(F.crop(b, 3, 2, 6, 8)), [[-1, -1, 3, 5]])


@pytest.mark.parametrize("op", [
    lambda x: F.rotate(x, 90),
    lambda x: F.rotate(x, 180),
    lambda x: F.rotate(x, -90, expand=True),
    lambda x: F.affine(x, 0.0, [3, 2], 1.0, 0.0),
    lambda x: F.affine(x, 180.0, [0, 0], 1.0, 0.0),
    lambda x: F.horizontal_flip(x),
    lambda x: F.pad(x, [2, 1]),
    lambda x: F.crop(x, 2, 3, 8, 8),
    lambda x: F.center_crop(x, [14, 10]),
])
def test_boxes_stay_on_the_mask_they_outline(op):
    # a rectangle of pixels and its box, moved together: the box outlines the moved pixels
    box = [4, 2, 10, 6]
    mask, b = rect_mask(box), boxes([box])
    np.testing.assert_allclose(values(op(b))[0], box_of_mask(op(mask)), atol=1e-6)


def test_rotated_box_is_the_hull_of_its_corners():
    b = boxes([[0.0, 0.0, 4.0, 2.0]], canvas=(10, 10))
    out = values(F.rotate(b, 45))[0]
    # corners rotated by 45 degrees about (5, 5): (5 + (x-5)c + (y-5)s, 5 - (x-5)s + (y-5)c)
    c = s = np.sqrt(0.5)
    xs = [5 + (x - 5) * c + (y - 5) * s for x, y in [(0, 0), (4, 0), (4, 2), (0, 2)]]
    ys = [5 - (x - 5) * s + (y - 5) * c for x, y in [(0, 0), (4, 0), (4, 2), (0, 2)]]
    expected = np.clip([min(xs), min(ys), max(xs), max(ys)], 0, 10)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_clamp_bounding_boxes():
    b = boxes([[-2.0, 1.0, 20.0, 30.0]], fmt="XYXY")
    np.testing.assert_allclose(values(F.clamp_bounding_boxes(b)), [[0, 1, 16, 12]])
    plain = F.clamp_bounding_boxes(flambeau.tensor([[-1.0, -1.0, 3.0, 3.0]]), "XYWH", (4, 4),
                                   clamping_mode="soft")
    assert type(plain) is flambeau.Tensor
    np.testing.assert_allclose(values(plain), [[0, 0, 2, 2]])  # XYXY (-1, -1, 2, 2) clamped
    with pytest.raises(ValueError, match="format and canvas_size must not be passed"):
        F.clamp_bounding_boxes(b, canvas_size=(4, 4))
    with pytest.raises(ValueError, match="format, canvas_size and a clamping_mode other than "
                                         "'auto' are required for a plain tensor"):
        F.clamp_bounding_boxes(flambeau.zeros(1, 4))
    with pytest.raises(ValueError, match="format, canvas_size and a clamping_mode"):
        F.clamp_bounding_boxes(flambeau.zeros(1, 4), "XYXY", (4, 4), clamping_mode="auto")
    with pytest.raises(ValueError, match="clamping_mode must be 'soft', 'hard', 'auto' or "
                                         "None, got 'tight'"):
        F.clamp_bounding_boxes(b, clamping_mode="tight")


def test_clamping_modes():
    loose = boxes([[-2.0, 1.0, 20.0, 30.0]], clamping_mode=None)
    np.testing.assert_allclose(values(v2.ClampBoundingBoxes()(loose)), [[-2, 1, 20, 30]])
    np.testing.assert_allclose(values(v2.ClampBoundingBoxes("hard")(loose)), [[0, 1, 16, 12]])
    plain = flambeau.tensor([[-1.0, 0.0, 9.0, 2.0]])
    np.testing.assert_allclose(values(F.clamp_bounding_boxes(plain, "XYXY", (4, 4), None)),
                               [[-1, 0, 9, 2]])
    with pytest.raises(ValueError, match="ClampBoundingBoxes: clamping_mode must be"):
        v2.ClampBoundingBoxes("tight")


def test_pad_refuses_reflect_for_boxes():
    with pytest.raises(ValueError, match="pad: padding_mode 'reflect' is not supported for "
                                         "BoundingBoxes"):
        F.pad(boxes(XYXY), 1, padding_mode="reflect")


def test_functionals_name_unsupported_inputs():
    with pytest.raises(TypeError, match="horizontal_flip: supports .*, got str"):
        F.horizontal_flip("img")
    with pytest.raises(TypeError, match="adjust_brightness: supports PIL images, NumPy "
                                        "arrays, tensors, Image and Video, got BoundingBoxes"):
        F.adjust_brightness(boxes(XYXY), 2.0)
    with pytest.raises(TypeError, match="normalize: supports tensors, Image and Video, got "
                                        "Image"):
        F.normalize(PILImage.new("L", (2, 2)), [0.5], [0.5])


# ------------------------------------------------------------- images: the v1 kernels


@pytest.mark.parametrize("v2_op, v1_op", [
    (lambda x: F.horizontal_flip(x), F1.hflip),
    (lambda x: F.resize(x, [5, 7]), lambda x: F1.resize(x, [5, 7])),
    (lambda x: F.rotate(x, 33, expand=True), lambda x: F1.rotate(x, 33, expand=True)),
    (lambda x: F.affine(x, 10, [1, 2], 1.1, [5, 3]),
     lambda x: F1.affine(x, 10, [1, 2], 1.1, [5, 3])),
    (lambda x: F.adjust_hue(x, 0.2), lambda x: F1.adjust_hue(x, 0.2)),
    (lambda x: F.gaussian_blur(x, [3, 5], [1.0, 2.0]),
     lambda x: F1.gaussian_blur(x, [3, 5], [1.0, 2.0])),
])
def test_image_kernels_are_v1s_and_keep_the_type(v2_op, v1_op):
    img = image()
    out = v2_op(img)
    assert type(out) is tv_tensors.Image
    np.testing.assert_array_equal(values(out), values(v1_op(flambeau.from_numpy(RGB.copy()))))
    pil = PILImage.fromarray(RGB.transpose(1, 2, 0))
    np.testing.assert_array_equal(np.asarray(v2_op(pil)), np.asarray(v1_op(pil)))


def test_masks_use_nearest_and_keep_their_values():
    mask = tv_tensors.Mask(flambeau.from_numpy(RNG.integers(0, 3, (12, 16)).astype(np.int64)))
    out = F.resize(mask, [24, 32], interpolation=v2.InterpolationMode.BILINEAR)
    assert type(out) is tv_tensors.Mask and out.dtype == flambeau.int64
    np.testing.assert_array_equal(values(out), values(F1.resize(
        mask.as_subclass(flambeau.Tensor), [24, 32], v2.InterpolationMode.NEAREST)))


def test_video_frames_move_together():
    video = tv_tensors.Video(flambeau.from_numpy(np.stack([RGB, RGB[:, ::-1]])))
    out = F.vertical_flip(video)
    assert type(out) is tv_tensors.Video
    np.testing.assert_array_equal(values(out), values(video)[..., ::-1, :])


def test_to_image_to_dtype_to_pure_tensor():
    img = F.to_image(RGB.transpose(1, 2, 0))
    assert type(img) is tv_tensors.Image
    np.testing.assert_array_equal(values(img), RGB)
    scaled = F.to_dtype(img, flambeau.float32, scale=True)
    assert type(scaled) is tv_tensors.Image
    np.testing.assert_allclose(values(scaled), RGB / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(values(F.to_dtype(img, flambeau.float32)), RGB)
    assert type(F.to_pure_tensor(img)) is flambeau.Tensor
    with pytest.raises(ValueError, match=r"to_image: expected a NumPy array of shape \(H, W, C\)"
                                         r" or \(H, W\), got shape \(2,\)"):
        F.to_image(np.zeros(2))


# ------------------------------------------------------------------- the Transform API


def test_nested_sample_moves_together_and_passes_other_leaves():
    img = image()
    target = {"boxes": boxes([[4, 2, 10, 6]]), "masks": rect_mask([4, 2, 10, 6]),
              "labels": flambeau.tensor([7]), "name": "a.jpg", "extra": [1, None]}
    out_img, out_target = v2.RandomHorizontalFlip(p=1.0)((img, target))[0:2]
    np.testing.assert_array_equal(values(out_img), RGB[..., ::-1])
    np.testing.assert_allclose(values(out_target["boxes"]), [[6, 2, 12, 6]])
    assert box_of_mask(out_target["masks"]) == [6, 2, 12, 6]
    assert out_target["labels"] is target["labels"]  # a plain tensor beside an Image
    assert out_target["name"] == "a.jpg" and out_target["extra"] == [1, None]
    assert list(out_target) == ["boxes", "masks", "labels", "name", "extra"]


def test_several_arguments_come_back_as_a_tuple():
    img, label = v2.RandomVerticalFlip(p=1.0)(image(), 3)
    assert label == 3 and type(img) is tv_tensors.Image


def test_only_the_first_plain_tensor_is_an_image_without_an_explicit_image():
    first, second = flambeau.from_numpy(RGB.copy()), flambeau.from_numpy(RGB.copy())
    a, b = v2.RandomHorizontalFlip(p=1.0)(first, second)
    np.testing.assert_array_equal(values(a), RGB[..., ::-1])
    assert b is second
    pil, t = v2.RandomHorizontalFlip(p=1.0)(PILImage.fromarray(RGB[0]), first)
    assert t is first
    np.testing.assert_array_equal(np.asarray(pil), RGB[0][:, ::-1])


def test_numpy_arrays_pass_through_except_to_image():
    arr = RGB.transpose(1, 2, 0)
    assert v2.RandomHorizontalFlip(p=1.0)({"x": arr})["x"] is arr
    assert type(v2.ToImage()(arr)) is tv_tensors.Image


def test_custom_transform_gets_shared_params():
    class Shift(v2.Transform):
        _transformed_types = (tv_tensors.BoundingBoxes, tv_tensors.Image)

        def make_params(self, flat_inputs):
            return {"dx": len(flat_inputs)}

        def transform(self, inpt, params):
            return F.affine(inpt, 0.0, [params["dx"], 0], 1.0, 0.0)

    out_img, out_boxes, tag = Shift()(image(), boxes([[0, 0, 2, 2]]), "tag")
    np.testing.assert_allclose(values(out_boxes), [[2, 0, 4, 2]])  # two inputs transformed
    assert tag == "tag"
    np.testing.assert_array_equal(values(out_img)[..., 2:], RGB[..., :-2])


def test_random_crop_moves_image_mask_and_boxes_together():
    img, mask, b = image(), rect_mask([4, 2, 10, 6]), boxes([[4, 2, 10, 6]])
    for seed in range(5):
        flambeau.manual_seed(seed)
        out_img, out_mask, out_boxes = v2.RandomCrop(8, padding=2)(img, mask, b)
        assert tuple(out_img.shape) == (3, 8, 8) and out_boxes.canvas_size == (8, 8)
        if values(out_mask).any():
            np.testing.assert_allclose(values(out_boxes)[0], box_of_mask(out_mask))


def test_rotation_and_affine_move_boxes_with_their_mask():
    mask, b = rect_mask([4, 2, 10, 6]), boxes([[4, 2, 10, 6]])
    for t in (v2.RandomRotation((90, 90)), v2.RandomAffine(0, translate=(0.2, 0.2))):
        for seed in range(3):
            flambeau.manual_seed(seed)
            out_mask, out_boxes = t(mask, b)
            np.testing.assert_allclose(values(out_boxes)[0], box_of_mask(out_mask), atol=1e-6)


@pytest.mark.parametrize("v2_t, v1_t", [
    (v2.RandomResizedCrop(8), T.RandomResizedCrop(8)),
    (v2.RandomCrop(6, padding=1), T.RandomCrop(6, padding=1)),
    (v2.RandomRotation(40), T.RandomRotation(40)),
    (v2.RandomAffine(20, (0.1, 0.2), (0.8, 1.2), 10),
     T.RandomAffine(20, (0.1, 0.2), (0.8, 1.2), 10)),
    (v2.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ColorJitter(0.4, 0.4, 0.4, 0.1)),
    (v2.GaussianBlur(5, (0.5, 2.0)), T.GaussianBlur(5, (0.5, 2.0))),
    (v2.RandomHorizontalFlip(), T.RandomHorizontalFlip()),
    (v2.RandomGrayscale(0.5), T.RandomGrayscale(0.5)),
    (v2.RandomErasing(1.0), T.RandomErasing(1.0)),
    (v2.AutoAugment(), T.AutoAugment()),
    (v2.RandAugment(), T.RandAugment()),
    (v2.TrivialAugmentWide(), T.TrivialAugmentWide()),
    (v2.RandomPerspective(0.6), T.RandomPerspective(0.6)),
    (v2.Grayscale(3), T.Grayscale(3)),
    (v2.RandomInvert(), T.RandomInvert()),
    (v2.RandomPosterize(3), T.RandomPosterize(3)),
    (v2.RandomSolarize(100), T.RandomSolarize(100)),
    (v2.RandomAdjustSharpness(3.0), T.RandomAdjustSharpness(3.0)),
    (v2.RandomAutocontrast(), T.RandomAutocontrast()),
    (v2.RandomEqualize(), T.RandomEqualize()),
])
def test_single_image_draws_as_v1_under_the_same_seed(v2_t, v1_t):
    for seed in range(3):
        flambeau.manual_seed(seed)
        expected = v1_t(flambeau.from_numpy(RGB.copy()))
        flambeau.manual_seed(seed)
        out = v2_t(image())
        assert type(out) is tv_tensors.Image
        np.testing.assert_array_equal(values(out), values(expected))


def test_seeded_runs_repeat():
    pipeline = v2.Compose([v2.RandomResizedCrop(8), v2.RandomHorizontalFlip(),
                           v2.ColorJitter(0.3, 0.3)])
    flambeau.manual_seed(3)
    first = pipeline(image(), boxes(XYXY))
    flambeau.manual_seed(3)
    second = pipeline(image(), boxes(XYXY))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(values(a), values(b))


@pytest.mark.parametrize("t", [
    v2.ColorJitter(brightness=(2.0, 2.0)), v2.RandomInvert(1.0), v2.RandomEqualize(1.0),
    v2.Grayscale(), v2.RandomGrayscale(1.0), v2.GaussianBlur(3), v2.Normalize([0.5], [0.5]),
])
def test_colour_transforms_leave_boxes_and_masks_alone(t):
    b, mask = boxes(XYXY), rect_mask([1, 1, 3, 3])
    img = image()
    if not isinstance(t, (v2.RandomEqualize, v2.RandomInvert)):
        img = F.to_dtype(img, flambeau.float32, scale=True)
    out = t(img, b, mask)
    assert out[1] is b and out[2] is mask
    assert type(out[0]) is tv_tensors.Image


def test_perspective_moves_boxes_with_their_mask():
    mask, b = rect_mask([4, 2, 10, 6]), boxes([[4, 2, 10, 6]])
    for seed in range(3):
        flambeau.manual_seed(seed)
        out_mask, out_boxes = v2.RandomPerspective(0.3, p=1.0)(mask, b)
        # nearest sampling of a warped rectangle: its pixels lie within a pixel of the hull
        np.testing.assert_allclose(values(out_boxes)[0], box_of_mask(out_mask), atol=1.0)


def test_containers():
    flip = v2.RandomHorizontalFlip(p=1.0)
    b = boxes([[0, 0, 2, 2]])
    np.testing.assert_allclose(values(v2.Compose([flip, flip])(b)), [[0, 0, 2, 2]])
    np.testing.assert_allclose(values(v2.RandomApply([flip], p=1.0)(b)), [[14, 0, 16, 2]])
    assert v2.RandomApply([flip], p=0.0)(b) is b
    np.testing.assert_allclose(values(v2.RandomChoice([flip, v2.Lambda(lambda x: x)],
                                                      p=[1, 0])(b)), [[14, 0, 16, 2]])
    out = v2.RandomOrder([flip, v2.RandomVerticalFlip(1.0)])(b)
    np.testing.assert_allclose(values(out), [[14, 10, 16, 12]])
    img, label = v2.Compose([flip])(image(), 5)
    assert label == 5
    with pytest.raises(TypeError, match="Compose: every transform must be callable"):
        v2.Compose([1])
    with pytest.raises(ValueError, match="Compose: pass at least one transform"):
        v2.Compose([])
    with pytest.raises(ValueError, match=r"RandomApply: p must be in \[0, 1\], got 2"):
        v2.RandomApply([flip], p=2)


def test_lambda_applies_to_the_given_types():
    assert v2.Lambda(lambda x: x + 1, int)([1, 2.0, "a"]) == [2, 2.0, "a"]
    with pytest.raises(TypeError, match="Lambda: the argument must be callable, got int"):
        v2.Lambda(3)


def test_get_params_is_v1s():
    flambeau.manual_seed(0)
    a = v2.RandomResizedCrop.get_params(flambeau.zeros(3, 10, 10), (0.5, 1.0), (1.0, 1.0))
    flambeau.manual_seed(0)
    assert a == T.RandomResizedCrop.get_params(flambeau.zeros(3, 10, 10), (0.5, 1.0), (1.0, 1.0))


def test_convert_bounding_box_format_inplace_bumps_the_version():
    plain = flambeau.tensor([[1.0, 2.0, 4.0, 6.0]])
    version = plain._version
    out = F.convert_bounding_box_format(plain, old_format="XYXY", new_format="XYWH",
                                        inplace=True)
    np.testing.assert_array_equal(values(plain), [[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(values(out), [[1.0, 2.0, 3.0, 4.0]])
    assert plain._version > version


def test_to_dtype_dict_and_plain():
    img, mask = image(), rect_mask([1, 1, 3, 3])
    out_img, out_mask = v2.ToDtype(flambeau.float32, scale=True)(img, mask)
    assert out_img.dtype == flambeau.float32 and out_mask is mask
    out_img, out_mask = v2.ToDtype({tv_tensors.Image: flambeau.float64,
                                    "others": flambeau.int64})(img, mask)
    assert out_img.dtype == flambeau.float64 and out_mask.dtype == flambeau.int64
    assert type(out_mask) is tv_tensors.Mask
    np.testing.assert_array_equal(values(out_img), RGB)
    with pytest.raises(ValueError, match="ToDtype: dtype must be a dtype or a dict of them, "
                                         "got str"):
        v2.ToDtype("float32")
    with pytest.raises(ValueError, match=r"ToDtype: no dtype for Mask inputs; add it to the "
                                         r"dict, or an \"others\" key"):
        v2.ToDtype({tv_tensors.Image: flambeau.float32})(img, mask)


def test_to_dtype_scales_integers_as_torchvision_v2():
    # torchvision's v2 to_dtype multiplies by 1 / max (v1's convert_image_dtype divides)
    torch = pytest.importorskip("torch")
    for dtype, torch_dtype in ((flambeau.float32, torch.float32),
                               (flambeau.float64, torch.float64)):
        for src, torch_src, top in ((flambeau.uint8, torch.uint8, 256),
                                    (flambeau.int16, torch.int16, 32768)):
            x = np.arange(top).reshape(1, 1, -1)
            out = F.to_dtype(tv_tensors.Image(flambeau.tensor(x, dtype=src)), dtype, scale=True)
            expected = torch.tensor(x, dtype=torch_src).to(torch_dtype)
            expected = expected.mul_(1.0 / (top - 1))
            assert type(out) is tv_tensors.Image and out.dtype == dtype
            np.testing.assert_array_equal(values(out), expected.numpy())


def test_normalize_and_to_pure_tensor():
    img = F.to_dtype(image(), flambeau.float32, scale=True)
    out = v2.Normalize([0.5] * 3, [0.25] * 3)(img)
    np.testing.assert_allclose(values(out), (RGB / 255.0 - 0.5) / 0.25, rtol=1e-5,
                               atol=1e-6)
    assert type(v2.ToPureTensor()(out)) is flambeau.Tensor
    with pytest.raises(TypeError, match="Normalize: PIL images are not supported"):
        v2.Normalize([0.5], [0.5])(PILImage.new("L", (2, 2)))


def test_sample_size_errors():
    with pytest.raises(ValueError, match=r"RandomResizedCrop: the sample holds several sizes "
                                         r"\(H, W\): \[\(4, 4\), \(12, 16\)\]"):
        v2.RandomResizedCrop(4)(image(), boxes(XYXY, canvas=(4, 4)))
    with pytest.raises(TypeError, match="RandomAffine: no image, video, mask or bounding boxes"):
        v2.RandomAffine(10)({"a": 1})
    with pytest.raises(ValueError, match=r"RandomCrop: crop size \(20, 20\) is larger than the "
                                         r"input image size \(12, 16\)"):
        v2.RandomCrop(20)(image())


def test_random_crop_pad_if_needed():
    out_img, out_boxes = v2.RandomCrop(14, pad_if_needed=True)(image(), boxes([[0, 0, 2, 2]]))
    assert tuple(out_img.shape) == (3, 14, 14) and out_boxes.canvas_size == (14, 14)


def test_random_erasing_errors_and_passthrough():
    b = boxes(XYXY)
    out, out_b = v2.RandomErasing(p=1.0)(image(), b)
    assert out_b is b
    with pytest.raises(TypeError, match="RandomErasing: PIL images are not supported"):
        v2.RandomErasing(p=1.0)(PILImage.new("L", (4, 4)))
    with pytest.raises(ValueError, match="RandomErasing: value has 2 entries for an image "
                                         "with 3 channels"):
        v2.RandomErasing(p=1.0, value=[1, 2])(image())


def test_autoaugment_refuses_boxes_and_several_images():
    with pytest.raises(TypeError, match="AutoAugment: inputs of type BoundingBoxes are not "
                                        "supported"):
        v2.AutoAugment()(image(), boxes(XYXY))
    with pytest.raises(TypeError, match="RandAugment: expected exactly one image or video in "
                                        "the sample, found 2"):
        v2.RandAugment()(image(), image())


def test_box_format_transforms():
    b = boxes([[-1.0, 2.0, 20.0, 6.0]])
    np.testing.assert_allclose(values(v2.ClampBoundingBoxes()(b)), [[0, 2, 16, 6]])
    out = v2.ConvertBoundingBoxFormat("XYWH")(b)
    np.testing.assert_allclose(values(out), [[-1, 2, 21, 4]])
    with pytest.raises(ValueError, match="ConvertBoundingBoxFormat: format must be a "
                                         "BoundingBoxFormat or one of"):
        v2.ConvertBoundingBoxFormat("XY")


def test_sanitize_drops_boxes_labels_and_masks():
    b = boxes([[0, 0, 4, 4], [2, 2, 2.5, 6], [10, 10, 14, 20], [1, 1, 3, 3]])
    masks = tv_tensors.Mask(flambeau.arange(4).reshape(4, 1, 1).expand(4, 2, 2))
    sample = (image(), {"boxes": b, "masks": masks, "labels": flambeau.tensor([1, 2, 3, 4]),
                        "image_id": 9})
    img, target = v2.SanitizeBoundingBoxes()(sample)
    np.testing.assert_allclose(values(target["boxes"]), [[0, 0, 4, 4], [1, 1, 3, 3]])
    assert target["boxes"].canvas_size == (12, 16)
    np.testing.assert_array_equal(values(target["labels"]), [1, 4])
    np.testing.assert_array_equal(values(target["masks"])[:, 0, 0], [0, 3])
    assert type(target["masks"]) is tv_tensors.Mask and target["image_id"] == 9


def test_sanitize_errors():
    b = boxes(XYXY)
    with pytest.raises(ValueError, match=r"SanitizeBoundingBoxes: 2 boxes but labels of shape "
                                         r"\(3,\)"):
        v2.SanitizeBoundingBoxes()({"boxes": b, "labels": flambeau.tensor([1, 2, 3])})
    with pytest.raises(ValueError, match="could not find the labels among the keys"):
        v2.SanitizeBoundingBoxes()({"boxes": b})
    out = v2.SanitizeBoundingBoxes(labels_getter=None)({"boxes": b})
    assert tuple(out["boxes"].shape) == (2, 4)
    with pytest.raises(ValueError, match="SanitizeBoundingBoxes: min_size must be >= 1"):
        v2.SanitizeBoundingBoxes(min_size=0)


def beta(alpha, seed):
    flambeau.manual_seed(seed)
    conc = flambeau.tensor([alpha])
    return float(flambeau.distributions.Beta(conc, conc).sample().item())


def test_mixup_values():
    images = flambeau.from_numpy(RNG.random((4, 3, 5, 5)).astype(np.float32))
    labels = flambeau.tensor([0, 2, 1, 2])
    lam = beta(0.5, 7)
    flambeau.manual_seed(7)
    out_images, out_labels = v2.MixUp(alpha=0.5, num_classes=3)(images, labels)
    x = values(images)
    np.testing.assert_allclose(values(out_images), lam * x + (1 - lam) * np.roll(x, 1, 0),
                               rtol=1e-5, atol=1e-6)
    one_hot = np.eye(3)[[0, 2, 1, 2]]
    np.testing.assert_allclose(values(out_labels),
                               lam * one_hot + (1 - lam) * np.roll(one_hot, 1, 0), rtol=1e-5)


def test_cutmix_values():
    images = flambeau.from_numpy(RNG.random((3, 1, 8, 10)).astype(np.float32))
    labels = flambeau.tensor([0, 1, 2])
    flambeau.manual_seed(4)
    out_images, out_labels = v2.CutMix(num_classes=3)(images, labels)
    x, out = values(images), values(out_images)
    pasted = np.any(out != x, axis=(0, 1))  # the pixels taken from the rolled batch
    np.testing.assert_array_equal(out[:, :, pasted], np.roll(x, 1, 0)[:, :, pasted])
    rows, cols = np.nonzero(pasted)
    area = 0 if rows.size == 0 else (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
    lam = 1 - area / 80
    one_hot = np.eye(3)
    np.testing.assert_allclose(values(out_labels),
                               lam * one_hot + (1 - lam) * np.roll(one_hot, 1, 0), rtol=1e-5)


def test_mixup_cutmix_errors():
    images, labels = flambeau.rand(2, 3, 4, 4), flambeau.tensor([0, 1])
    with pytest.raises(ValueError, match="MixUp: num_classes is needed to one-hot encode"):
        v2.MixUp()(images, labels)
    with pytest.raises(ValueError, match=r"CutMix: expected batched images of shape "
                                         r"\(B, C, H, W\), got shape \(3, 4, 4\)"):
        v2.CutMix(num_classes=2)(images[0], labels)
    with pytest.raises(ValueError, match="MixUp: the batch holds 2 images but 3 labels"):
        v2.MixUp(num_classes=3)(images, flambeau.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="MixUp: BoundingBoxes inputs are not supported"):
        v2.MixUp(num_classes=2)(images, labels, boxes(XYXY))
    with pytest.raises(ValueError, match="MixUp: alpha must be a positive number, got 0"):
        v2.MixUp(alpha=0)
    with pytest.raises(ValueError, match="MixUp: the batch holds 3 images but 2 labels"):
        v2.MixUp(num_classes=2)({"a": images, "b": tv_tensors.Image(flambeau.rand(3, 3, 4, 4)),
                                 "labels": labels})
    with pytest.raises(ValueError, match=r"MixUp: expected batched videos of shape "
                                         r"\(B, T, C, H, W\), got shape \(2, 3, 4, 4\)"):
        v2.MixUp(num_classes=2)(tv_tensors.Video(images), labels)
    with pytest.raises(TypeError, match="CutMix: no image or video found in the sample"):
        v2.CutMix(num_classes=2)({"labels": labels})


def test_mixup_cutmix_video_batches_and_label_dtypes():
    # torchvision mixes (B, T, C, H, W) videos; integer labels become float32 (torch's
    # .float()), float one-hot labels keep their dtype
    videos = tv_tensors.Video(flambeau.rand(2, 3, 1, 4, 4))
    for mix in (v2.MixUp(num_classes=3), v2.CutMix(num_classes=3)):
        out, labels = mix(videos, flambeau.tensor([0, 2]))
        assert type(out) is tv_tensors.Video and tuple(out.shape) == (2, 3, 1, 4, 4)
        assert labels.dtype == flambeau.float32
        np.testing.assert_allclose(values(labels).sum(axis=1), [1.0, 1.0], rtol=1e-6)
        one_hot = flambeau.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=flambeau.float64)
        assert mix(videos, one_hot)[1].dtype == flambeau.float64


def test_transforms_pickle_for_dataloader_workers():
    import pickle

    pipeline = v2.Compose([v2.RandomResizedCrop(8), v2.ColorJitter(0.2), v2.RandomInvert(),
                           v2.RandomChoice([v2.Identity(), v2.Grayscale()]),
                           v2.SanitizeBoundingBoxes(labels_getter=None),
                           v2.MixUp(num_classes=3, labels_getter=None)])
    copy = pickle.loads(pickle.dumps(pipeline))
    assert [type(t) for t in copy.transforms] == [type(t) for t in pipeline.transforms]


def test_repr():
    text = repr(v2.Compose([v2.RandomHorizontalFlip(p=0.3), v2.Resize(4)]))
    assert text.startswith("Compose(\n  RandomHorizontalFlip(p=0.3)\n  Resize(size=")


class Keypoints(tv_tensors.TVTensor):
    """A tv_tensor of the test's own: (N, 2) points."""


@F.register_kernel(F.horizontal_flip, Keypoints)
def _flip_keypoints(points):
    out = points.clone()
    out[:, 0] = 16 - out[:, 0]
    return out


def test_registered_kernels_serve_functionals_and_transforms():
    pts = flambeau.tensor([[1.0, 2.0], [5.0, 3.0]]).as_subclass(Keypoints)
    np.testing.assert_allclose(values(F.horizontal_flip(pts)), [[15, 2], [11, 3]])
    _, out = v2.RandomHorizontalFlip(p=1.0)(image(), pts)
    assert type(out) is Keypoints
    np.testing.assert_allclose(values(out), [[15, 2], [11, 3]])


def test_own_tv_tensors_without_a_kernel_pass_through_transforms_only():
    pts = flambeau.tensor([[1.0, 2.0]]).as_subclass(Keypoints)
    for t in (v2.RandomVerticalFlip(p=1.0), v2.Resize(4), v2.ColorJitter(0.5),
              v2.RandomInvert(p=1.0)):
        assert t(image(), pts)[1] is pts
    with pytest.raises(TypeError, match="vertical_flip: supports .*, got Keypoints"):
        F.vertical_flip(pts)


def test_register_kernel_errors():
    with pytest.raises(ValueError, match="register_kernel: Image is a built-in tv_tensor"):
        F.register_kernel(F.horizontal_flip, tv_tensors.Image)
    with pytest.raises(ValueError, match="register_kernel: kernels are registered for "
                                         "TVTensor subclasses, got <class 'int'>"):
        F.register_kernel(F.horizontal_flip, int)
    with pytest.raises(ValueError, match="register_kernel: .* is not a v2 functional that "
                                         "takes kernels"):
        F.register_kernel(F1.hflip, Keypoints)


def test_random_zoom_out_places_the_sample_on_a_larger_canvas():
    for seed in range(3):
        flambeau.manual_seed(seed)
        flambeau.rand(1)  # the coin of p
        r = 1.0 + flambeau.rand(1).item() * 2.0
        rx, ry = flambeau.rand(2).tolist()
        canvas_h, canvas_w = int(12 * r), int(16 * r)
        left, top = int((canvas_w - 16) * rx), int((canvas_h - 12) * ry)
        flambeau.manual_seed(seed)
        img, b = v2.RandomZoomOut(fill=7, side_range=(1.0, 3.0), p=1.0)(
            image(), boxes([[0, 0, 16, 12]]))
        assert b.canvas_size == (canvas_h, canvas_w)
        np.testing.assert_allclose(values(b), [[left, top, left + 16, top + 12]])
        out = values(img)
        np.testing.assert_array_equal(out[:, top:top + 12, left:left + 16], RGB)
        outside = np.ones(out.shape[1:], bool)
        outside[top:top + 12, left:left + 16] = False
        assert (out[:, outside] == 7).all()
    with pytest.raises(ValueError, match=r"RandomZoomOut: side_range must be \(min, max\) with "
                                         r"1 <= min <= max, got \(0.5, 2.0\)"):
        v2.RandomZoomOut(side_range=(0.5, 2.0))


def test_scale_jitter_shortest_size_and_random_resize():
    flambeau.manual_seed(5)
    scale = 0.5 + flambeau.rand(1).item() * 1.0
    r = min(30 / 12, 40 / 16) * scale
    flambeau.manual_seed(5)
    img, b = v2.ScaleJitter((40, 30), scale_range=(0.5, 1.5))(image(), boxes([[0, 0, 16, 12]]))
    assert tuple(img.shape[-2:]) == (int(12 * r), int(16 * r))
    np.testing.assert_allclose(values(b), [[0, 0, int(16 * r), int(12 * r)]])
    img, b = v2.RandomShortestSize([6], max_size=7)(image(), boxes([[0, 0, 16, 12]]))
    assert tuple(img.shape[-2:]) == (5, 7) and b.canvas_size == (5, 7)  # r = 7 / 16 < 6 / 12
    img = v2.RandomResize(6, 7)(image())
    assert tuple(img.shape[-2:]) == (6, 8)


def test_pil_conversions_and_identity():
    pil = PILImage.fromarray(RGB.transpose(1, 2, 0))
    t, label = v2.PILToTensor()(pil, 3)
    assert type(t) is flambeau.Tensor and label == 3
    np.testing.assert_array_equal(values(t), RGB)
    back = v2.ToPILImage()(image())
    assert isinstance(back, PILImage.Image)
    np.testing.assert_array_equal(np.asarray(back), RGB.transpose(1, 2, 0))
    sample = {"a": image(), "b": [1]}
    assert v2.Identity()(sample) is sample


def test_random_iou_crop_keeps_an_overlapping_crop_and_zeroes_the_boxes_outside():
    from flambeau.vision.ops import box_iou

    grid = tv_tensors.Image(flambeau.arange(40 * 48, dtype=flambeau.float64).reshape(1, 40, 48))
    xyxy = np.array([[4.0, 4.0, 30.0, 24.0], [36.0, 30.0, 46.0, 38.0], [0.0, 0.0, 6.0, 6.0]])
    b = boxes(xyxy.tolist(), canvas=(40, 48))
    for seed in range(6):
        flambeau.manual_seed(seed)
        out_img, out_boxes = v2.RandomIoUCrop(sampler_options=[0.3])(grid, b)
        height, width = out_img.shape[-2:]
        first = int(values(out_img)[0, 0, 0])
        top, left = divmod(first, 48)  # where the crop starts, read off the pixel values
        assert out_boxes.canvas_size == (height, width)
        crop = np.array([left, top, left + width, top + height], float)
        centres = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        inside = ((crop[0] < centres[:, 0]) & (centres[:, 0] < crop[2])
                  & (crop[1] < centres[:, 1]) & (centres[:, 1] < crop[3]))
        assert inside.any()
        expected = np.clip(xyxy - crop[[0, 1, 0, 1]], 0, [width, height, width, height])
        expected[~inside] = 0
        np.testing.assert_allclose(values(out_boxes), expected)
        ious = box_iou(flambeau.tensor(xyxy[inside]), flambeau.tensor([crop]))
        assert ious.max().item() >= 0.3


def test_random_iou_crop_option_one_keeps_the_sample_and_errors():
    img, b = image(), boxes(XYXY)
    out_img, out_boxes = v2.RandomIoUCrop(sampler_options=[1.0])(img, b)
    assert out_img is img and out_boxes is b
    with pytest.raises(TypeError, match="RandomIoUCrop: the sample must hold an image .* and "
                                        "bounding boxes"):
        v2.RandomIoUCrop()(image())
    with pytest.raises(ValueError, match=r"RandomIoUCrop: scales and aspect ratios must be "
                                         r"\(min, max\)"):
        v2.RandomIoUCrop(min_scale=0.9, max_scale=0.5)


def test_permute_channels():
    img = image()
    np.testing.assert_array_equal(values(F.permute_channels(img, [2, 0, 1])), RGB[[2, 0, 1]])
    pil = F.permute_channels(PILImage.fromarray(RGB.transpose(1, 2, 0)), [1, 2, 0])
    np.testing.assert_array_equal(np.asarray(pil), RGB[[1, 2, 0]].transpose(1, 2, 0))
    with pytest.raises(ValueError, match="permute_channels: the permutation has 2 entries for "
                                         "3 channels"):
        F.permute_channels(img, [0, 1])
    flambeau.manual_seed(2)
    order = flambeau.randperm(3).tolist()
    flambeau.manual_seed(2)
    out, b = v2.RandomChannelPermutation()(img, boxes(XYXY))
    np.testing.assert_array_equal(values(out), RGB[order])


def test_photometric_distort_draws_and_applies_in_order():
    img = F.to_dtype(image(), flambeau.float32, scale=True)
    ranges = {"brightness": (0.8, 1.2), "contrast": (0.5, 1.5), "saturation": (0.5, 1.5),
              "hue": (-0.05, 0.05)}
    for seed in range(4):
        flambeau.manual_seed(seed)
        factors = {}
        for name, (low, high) in ranges.items():
            applied = flambeau.rand(1).item() < 0.7
            factors[name] = flambeau.empty(1).uniform_(low, high).item() if applied else None
        contrast_before = flambeau.rand(1).item() < 0.5
        perm = flambeau.randperm(3).tolist() if flambeau.rand(1).item() < 0.7 else None
        expected = flambeau.from_numpy(values(img).copy())
        steps = [(F1.adjust_brightness, factors["brightness"])]
        middle = [(F1.adjust_saturation, factors["saturation"]), (F1.adjust_hue, factors["hue"])]
        contrast = [(F1.adjust_contrast, factors["contrast"])]
        steps += contrast + middle if contrast_before else middle + contrast
        for fn, value in steps:
            if value is not None:
                expected = fn(expected, value)
        if perm is not None:
            expected = expected[perm]
        flambeau.manual_seed(seed)
        out = v2.RandomPhotometricDistort(p=0.7, **ranges)(img)
        assert type(out) is tv_tensors.Image
        np.testing.assert_allclose(values(out), values(expected), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match=r"RandomPhotometricDistort: p must be in \[0, 1\]"):
        v2.RandomPhotometricDistort(p=1.5)

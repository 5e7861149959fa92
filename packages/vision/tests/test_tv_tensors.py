"""tv_tensors: construction, the types ops return, wrap, pickling and errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from PIL import Image as PILImage

import flambeau
from flambeau.vision import tv_tensors


def boxes(data=((1, 2, 5, 6),), fmt="XYXY", canvas=(8, 8), **kwargs):
    return tv_tensors.BoundingBoxes(list(data), format=fmt, canvas_size=canvas, **kwargs)


def test_image_from_hw_and_pil():
    img = tv_tensors.Image([[1, 2], [3, 4]])
    assert tuple(img.shape) == (1, 2, 2)
    pil = tv_tensors.Image(PILImage.fromarray(np.arange(12, dtype=np.uint8).reshape(2, 2, 3)))
    assert tuple(pil.shape) == (3, 2, 2) and pil.dtype == flambeau.uint8
    np.testing.assert_array_equal(pil.cpu().numpy()[:, 0, 1], [3, 4, 5])


def test_constructor_keeps_dtype_device_and_requires_grad():
    img = tv_tensors.Image(flambeau.zeros(3, 2, 2), dtype=flambeau.float64, requires_grad=True)
    assert img.dtype == flambeau.float64 and img.requires_grad


@pytest.mark.parametrize("cls, data, shape", [
    (tv_tensors.Image, [1.0, 2.0], "(..., C, H, W) or (H, W)"),
    (tv_tensors.Video, [[[1.0]]], "(..., T, C, H, W)"),
    (tv_tensors.Mask, [1], "(..., H, W)"),
])
def test_too_few_dimensions_are_refused(cls, data, shape):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: expected a tensor of shape "
                                         rf"{shape.replace('(', '[(]').replace(')', '[)]')}"):
        cls(data)


def test_boxes_metadata_and_single_box():
    b = boxes((1, 2, 5, 6), fmt="xywh", canvas=(10, 12))
    assert tuple(b.shape) == (1, 4)
    assert b.format is tv_tensors.BoundingBoxFormat.XYWH
    assert b.canvas_size == (10, 12) and b.clamping_mode == "soft"


@pytest.mark.parametrize("kwargs, message", [
    ({"data": [[1, 2, 3]]}, r"expected a tensor of shape \(N, 4\) or \(4,\), got shape \(1, 3\)"),
    ({"format": "XYZW"}, r"format must be a BoundingBoxFormat or one of \['XYXY', 'XYWH', "
                         r"'CXCYWH'\], got 'XYZW'"),
    ({"canvas_size": (4,)}, r"canvas_size must be \(height, width\), got \(4,\)"),
    ({"canvas_size": (4.5, 3)}, r"canvas_size must be two non-negative ints"),
    ({"clamping_mode": "loose"}, r"clamping_mode must be 'soft', 'hard' or None, got 'loose'"),
])
def test_boxes_errors(kwargs, message):
    args = {"data": [[0, 0, 1, 1]], "format": "XYXY", "canvas_size": (4, 4)} | kwargs
    with pytest.raises(ValueError, match="BoundingBoxes: " + message):
        tv_tensors.BoundingBoxes(args.pop("data"), **args)


def test_ops_return_plain_tensors_but_clone_to_detach_keep_the_type():
    b = boxes(canvas=(6, 7))
    for out in (b + 1, b * 2, b[0], b.sum(), b.flip(0)):
        assert type(out) is flambeau.Tensor
    for out in (b.clone(), b.to(flambeau.float32), b.detach()):
        assert type(out) is tv_tensors.BoundingBoxes
        assert out.canvas_size == (6, 7) and out.format is tv_tensors.BoundingBoxFormat.XYXY
    assert b.to(flambeau.float32).dtype == flambeau.float32
    img = tv_tensors.Image(flambeau.ones(1, 2, 2))
    np.testing.assert_array_equal((img + 1).cpu().numpy(), np.full((1, 2, 2), 2.0))


def test_wrap_copies_and_overrides_metadata():
    b = boxes(canvas=(6, 7))
    out = tv_tensors.wrap(b * 2, like=b, canvas_size=(12, 14))
    assert type(out) is tv_tensors.BoundingBoxes and out.canvas_size == (12, 14)
    np.testing.assert_array_equal(out.cpu().numpy(), [[2, 4, 10, 12]])
    plain = flambeau.zeros(2, 2)
    mask = tv_tensors.wrap(plain, like=tv_tensors.Mask(flambeau.ones(2, 2)))
    assert type(mask) is tv_tensors.Mask
    mask[0, 0] = 5  # a view: the same storage and version
    assert plain[0, 0].item() == 5 and plain._version == mask._version


def test_wrap_checks_the_boxes_shape():
    # torchvision's wrap makes a single box (4,) a batch of one and refuses other shapes
    b = boxes(((1, 2, 5, 6), (0, 0, 1, 1)))
    one = tv_tensors.wrap(b[0], like=b)
    assert type(one) is tv_tensors.BoundingBoxes and tuple(one.shape) == (1, 4)
    np.testing.assert_array_equal(one.cpu().numpy(), [[1, 2, 5, 6]])
    with pytest.raises(ValueError, match=r"BoundingBoxes: expected a tensor of shape \(N, 4\) "
                                         r"or \(4,\), got shape \(1, 2, 4\)"):
        tv_tensors.wrap(b[None], like=b)


def test_wrap_is_a_view_that_autograd_follows_through_in_place_ops():
    # torch's wrap is as_subclass, a view: an in-place op with a grad-requiring operand on
    # the wrapped tensor gives the wrapped-from tensor a history
    torch = pytest.importorskip("torch")
    like = tv_tensors.Image(flambeau.ones(1, 1, 1))
    x, w = flambeau.ones(3, 1, 2), flambeau.tensor([2.0, 3.0], requires_grad=True)
    img = tv_tensors.wrap(x, like=like)
    img.mul_(w)
    (x * x).sum().backward()
    tx, tw = torch.ones(3, 1, 2), torch.tensor([2.0, 3.0], requires_grad=True)
    timg = tx.as_subclass(torch.Tensor)
    timg.mul_(tw)
    (tx * tx).sum().backward()
    assert x.requires_grad and x.grad_fn is not None
    np.testing.assert_allclose(w.grad.cpu().numpy(), tw.grad.numpy())
    np.testing.assert_allclose(x.detach().cpu().numpy(), tx.detach().numpy())


def test_wrap_errors():
    with pytest.raises(TypeError, match="wrap: expected a tensor to wrap, got list"):
        tv_tensors.wrap([1], like=boxes())
    with pytest.raises(TypeError, match="wrap: like must be a tv_tensor .*, got Tensor"):
        tv_tensors.wrap(flambeau.ones(1), like=flambeau.ones(1))


def test_pickle_and_deepcopy_keep_type_and_metadata():
    b = boxes(fmt="CXCYWH", canvas=(5, 9), clamping_mode=None)
    for out in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b)):
        assert type(out) is tv_tensors.BoundingBoxes
        assert out.format is tv_tensors.BoundingBoxFormat.CXCYWH
        assert out.canvas_size == (5, 9) and out.clamping_mode is None
        np.testing.assert_array_equal(out.cpu().numpy(), b.cpu().numpy())


def test_repr_names_the_type_and_metadata():
    assert repr(boxes(device="cpu")) == (
        "BoundingBoxes([[1, 2, 5, 6]], format=BoundingBoxFormat.XYXY, canvas_size=(8, 8), "
        "clamping_mode=soft)")
    mask = tv_tensors.Mask(flambeau.tensor([[1, 0]], device="cpu"))
    assert repr(mask) == "Mask([[1, 0]])"


def test_autograd_flows_through_an_image():
    x = flambeau.ones(1, 2, 2, requires_grad=True)
    img = tv_tensors.Image(x)
    (img * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full((1, 2, 2), 3.0))

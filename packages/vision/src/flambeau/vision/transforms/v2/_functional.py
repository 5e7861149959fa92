"""The v2 functionals: one function per op, dispatching on what the input is.

Images (PIL, NumPy HWC arrays, plain tensors, :class:`~flambeau.vision.tv_tensors.Image` and
:class:`~flambeau.vision.tv_tensors.Video`) go through the v1 kernels of
:mod:`flambeau.vision.transforms.functional`; masks through the same kernels with nearest
interpolation; bounding boxes through the box kernels here, which move the boxes' corners with
the map the image kernel samples with, so image and boxes stay in register.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image as _PILImage

import flambeau
from flambeau._dtype import to_dtype as _to_dtype
from flambeau._tensor import Tensor
from flambeau.vision.transforms import _color, _convert, _geometry
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import as_chw as _as_chw
from flambeau.vision.transforms._image import get_dimensions as _v1_dimensions
from flambeau.vision.tv_tensors import (
    BoundingBoxes,
    BoundingBoxFormat,
    Image,
    Mask,
    TVTensor,
    Video,
    wrap,
)
from flambeau.vision.tv_tensors._tv_tensors import _box_format

__all__ = [
    "get_dimensions", "get_size", "to_image", "to_dtype", "to_pure_tensor", "normalize",
    "horizontal_flip", "vertical_flip", "resize", "crop", "center_crop", "resized_crop", "pad",
    "rotate", "affine", "perspective", "adjust_brightness", "adjust_contrast", "adjust_saturation",
    "adjust_hue", "rgb_to_grayscale", "gaussian_blur", "erase", "invert", "posterize",
    "solarize", "adjust_sharpness", "autocontrast", "equalize", "permute_channels",
    "convert_bounding_box_format", "clamp_bounding_boxes", "register_kernel",
]


# ------------------------------------------------------------------------------ dispatch


def is_pure_tensor(inpt) -> bool:
    return isinstance(inpt, Tensor) and not isinstance(inpt, TVTensor)


def _is_image(inpt) -> bool:
    return isinstance(inpt, (Image, Video, _PILImage.Image, np.ndarray)) or is_pure_tensor(inpt)


def _unsupported(op: str, inpt, kinds: str):
    return TypeError(f"{op}: supports {kinds}, got {type(inpt).__name__}")


_IMAGE_KINDS = "PIL images, NumPy arrays, tensors, Image and Video"
_GEOMETRY_KINDS = _IMAGE_KINDS + ", Mask and BoundingBoxes"


def _rewrap(out, like):
    """``out`` as ``like``'s tv_tensor type (a no-op for plain tensors and PIL images)."""
    if isinstance(like, TVTensor) and type(out) is not type(like):
        return wrap(out, like=like)
    return out


def _image_only(op: str, kernel, inpt, *args):
    if not _is_image(inpt):
        raise _unsupported(op, inpt, _IMAGE_KINDS)
    return _rewrap(kernel(inpt, *args), inpt)


def _geometric(op: str, inpt, image_kernel, box_kernel):
    """Run ``image_kernel(inpt, is_mask)`` or ``box_kernel(boxes)`` by the input's kind."""
    if isinstance(inpt, BoundingBoxes):
        return box_kernel(inpt)
    if isinstance(inpt, Mask):
        return _rewrap(image_kernel(inpt, True), inpt)
    if _is_image(inpt):
        return _rewrap(image_kernel(inpt, False), inpt)
    raise _unsupported(op, inpt, _GEOMETRY_KINDS)


# ------------------------------------------------------------ kernels for your tv_tensors

_BUILTIN = (Image, Video, Mask, BoundingBoxes)
_DISPATCHABLE: dict[str, object] = {}  # name -> the public functional
_KERNELS: dict[str, dict[type, object]] = {}  # name -> {TVTensor subclass: kernel}


def _registered_kernel(name: str, cls):
    kernels = _KERNELS.get(name)
    if kernels:  # most functionals have none: no MRO walk on every call
        for klass in cls.__mro__:
            kernel = kernels.get(klass)
            if kernel is not None:
                return kernel
    return None


def _dispatchable(fn):
    """Let :func:`register_kernel` route ``fn`` for user-defined tv_tensor types."""
    name = fn.__name__

    @functools.wraps(fn)
    def functional(inpt, *args, **kwargs):
        kernel = _registered_kernel(name, type(inpt))
        if kernel is not None:
            return kernel(inpt, *args, **kwargs)
        return fn(inpt, *args, **kwargs)

    _DISPATCHABLE[name] = functional
    return functional


def passes_through(functional, inpt) -> bool:
    """Whether a transform leaves ``inpt`` alone for ``functional``: a tv_tensor of your own
    type with no kernel registered for it (torchvision's rule)."""
    return (isinstance(inpt, TVTensor) and not isinstance(inpt, _BUILTIN)
            and _registered_kernel(functional.__name__, type(inpt)) is None)


def register_kernel(functional, tv_tensor_cls):
    """Decorator: make ``functional`` (and the transforms that use it) run the decorated
    kernel for inputs of your own :class:`~flambeau.vision.tv_tensors.TVTensor` subclass.

    The kernel gets the input and the functional's arguments and returns the result as is.
    Without a kernel, transforms pass such inputs through and functionals refuse them.

    Raises
    ------
    ValueError
        When ``functional`` is not a v2 functional, or ``tv_tensor_cls`` is not a TVTensor
        subclass or is one of the built-in ones.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> class Points(tv_tensors.TVTensor):
    ...     pass
    >>> @F.register_kernel(F.horizontal_flip, Points)
    ... def flip_points(points):
    ...     out = points.clone()
    ...     out[:, 0] = 9 - out[:, 0]
    ...     return out
    >>> pts = flambeau.tensor([[1, 2]]).as_subclass(Points)
    >>> v2.RandomHorizontalFlip(p=1.0)(pts).tolist()
    [[8, 2]]
    """
    name = getattr(functional, "__name__", None)
    if _DISPATCHABLE.get(name) is not functional:
        raise ValueError(f"register_kernel: {functional!r} is not a v2 functional that takes "
                         f"kernels; use one of {sorted(_DISPATCHABLE)}")
    if not (isinstance(tv_tensor_cls, type) and issubclass(tv_tensor_cls, TVTensor)):
        raise ValueError(f"register_kernel: kernels are registered for TVTensor subclasses, "
                         f"got {tv_tensor_cls!r}")
    if tv_tensor_cls in _BUILTIN or tv_tensor_cls is TVTensor:
        raise ValueError(f"register_kernel: {tv_tensor_cls.__name__} is a built-in tv_tensor; "
                         "kernels can only be registered for your own subclasses")

    def decorator(kernel):
        _KERNELS.setdefault(name, {})[tv_tensor_cls] = kernel
        return kernel

    return decorator


@_dispatchable
def get_dimensions(inpt) -> list[int]:
    """``[channels, height, width]`` of an image or video.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.get_dimensions(flambeau.zeros(3, 4, 5))
    [3, 4, 5]
    """
    if not _is_image(inpt):
        raise _unsupported("get_dimensions", inpt, _IMAGE_KINDS)
    return _v1_dimensions(inpt)


@_dispatchable
def get_size(inpt) -> list[int]:
    """``[height, width]`` of an image, video, mask, or the canvas of bounding boxes.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.get_size(tv_tensors.BoundingBoxes([0, 0, 1, 1], format="XYXY", canvas_size=(5, 7)))
    [5, 7]
    """
    if isinstance(inpt, BoundingBoxes):
        return list(inpt.canvas_size)
    if isinstance(inpt, Mask):
        return list(inpt.shape[-2:])
    if _is_image(inpt):
        return _v1_dimensions(inpt)[1:]
    raise _unsupported("get_size", inpt, _GEOMETRY_KINDS)


# ----------------------------------------------------------------------- box kernels


def _xyxy(arr, fmt: BoundingBoxFormat, xp):
    """Float (..., 4) boxes of format ``fmt`` as XYXY."""
    if fmt is BoundingBoxFormat.XYXY:
        return arr
    a, b, c, d = (arr[..., i] for i in range(4))
    if fmt is BoundingBoxFormat.XYWH:
        return xp.stack([a, b, a + c, b + d], axis=-1)
    return xp.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], axis=-1)


def _from_xyxy(arr, fmt: BoundingBoxFormat, xp):
    if fmt is BoundingBoxFormat.XYXY:
        return arr
    x1, y1, x2, y2 = (arr[..., i] for i in range(4))
    if fmt is BoundingBoxFormat.XYWH:
        return xp.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)


def _convert_array(arr, old: BoundingBoxFormat, new: BoundingBoxFormat, xp):
    if old is new:
        return arr.copy()
    if np.dtype(arr.dtype).kind == "f":
        return _from_xyxy(_xyxy(arr, old, xp), new, xp).astype(arr.dtype)
    # integer boxes stay integers, as torchvision rounds them: centres floor, half sizes ceil
    a, b, c, d = (arr[..., i] for i in range(4))
    if old is BoundingBoxFormat.XYWH:
        xyxy = xp.stack([a, b, a + c, b + d], axis=-1)
    elif old is BoundingBoxFormat.CXCYWH:
        x1, y1 = a - (-(-c // 2)), b - (-(-d // 2))
        xyxy = xp.stack([x1, y1, x1 + c, y1 + d], axis=-1)
    else:
        xyxy = arr
    x1, y1, x2, y2 = (xyxy[..., i] for i in range(4))
    if new is BoundingBoxFormat.XYWH:
        out = xp.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    elif new is BoundingBoxFormat.CXCYWH:
        out = xp.stack([(x1 + x2) // 2, (y1 + y2) // 2, x2 - x1, y2 - y1], axis=-1)
    else:
        out = xyxy
    return out.astype(arr.dtype)


def _box_result(boxes, arr, canvas_size):
    out = Tensor._make(arr, boxes._device)
    return BoundingBoxes._wrap(out, format=boxes.format, canvas_size=canvas_size,
                               clamping_mode=boxes.clamping_mode, check_dims=False)


def _clamped(xyxy, canvas_size, xp):
    height, width = canvas_size
    return xp.stack([xp.clip(xyxy[..., 0], 0, width), xp.clip(xyxy[..., 1], 0, height),
                     xp.clip(xyxy[..., 2], 0, width), xp.clip(xyxy[..., 3], 0, height)],
                    axis=-1)


def _move_boxes(boxes, matrix, canvas_size, clamp: bool = True):
    """Boxes under the point map ``(x, y) -> (a x + b y + c, d x + e y + f)`` (over
    ``g x + h y + 1`` for 8 coefficients): the axis-aligned hull of the moved corners,
    clamped to the new canvas unless the boxes' ``clamping_mode`` is None (or ``clamp`` is
    off: flips and resizes do not clamp)."""
    xp = boxes._device._xp
    data = boxes._data
    xyxy = _xyxy(data.astype(np.float64), boxes.format, xp)
    a, b, c, d, e, f = (float(v) for v in matrix[:6])
    xs = xp.stack([xyxy[..., 0], xyxy[..., 2], xyxy[..., 2], xyxy[..., 0]])
    ys = xp.stack([xyxy[..., 1], xyxy[..., 1], xyxy[..., 3], xyxy[..., 3]])
    new_x, new_y = a * xs + b * ys + c, d * xs + e * ys + f
    if len(matrix) == 8:  # a perspective map: divide by g x + h y + 1
        denominator = float(matrix[6]) * xs + float(matrix[7]) * ys + 1.0
        new_x, new_y = new_x / denominator, new_y / denominator
    out = xp.stack([new_x.min(axis=0), new_y.min(axis=0), new_x.max(axis=0),
                    new_y.max(axis=0)], axis=-1)
    if clamp and boxes.clamping_mode is not None:
        out = _clamped(out, canvas_size, xp)
    out = _from_xyxy(out, boxes.format, xp).astype(data.dtype)
    return _box_result(boxes, out, tuple(int(s) for s in canvas_size))


def _forward_map(inverse) -> list[float]:
    """Invert a 2x3 affine map given as 6 coefficients (the image kernels' output -> input
    map) into the input -> output map the boxes move by."""
    a, b, c, d, e, f = inverse
    det = a * e - b * d
    return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det]


def _translate(dx, dy):
    return [1.0, 0.0, float(dx), 0.0, 1.0, float(dy)]


def convert_bounding_box_format(inpt, old_format=None, new_format=None, inplace=False):
    """Change the layout of boxes between XYXY, XYWH and CXCYWH.

    For :class:`~flambeau.vision.tv_tensors.BoundingBoxes`, ``old_format`` is theirs; a plain
    tensor needs it. Integer boxes stay integers (centres round down, half sizes up).

    Raises
    ------
    ValueError
        When ``new_format`` is missing, or ``old_format`` is missing for a plain tensor.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[1, 2, 4, 6]], format="XYXY", canvas_size=(8, 8))
    >>> F.convert_bounding_box_format(boxes, new_format="XYWH").tolist()
    [[1, 2, 3, 4]]
    """
    op = "convert_bounding_box_format"
    if new_format is None:
        raise ValueError(f"{op}: new_format is required")
    new = _box_format(new_format, op)
    if isinstance(inpt, BoundingBoxes):
        if old_format is not None:
            raise ValueError(f"{op}: old_format must not be passed for BoundingBoxes (they "
                             f"are {inpt.format.value})")
        old = inpt.format
    elif isinstance(inpt, Tensor):
        if old_format is None:
            raise ValueError(f"{op}: old_format is required for a plain tensor")
        old = _box_format(old_format, op)
    else:
        raise _unsupported(op, inpt, "tensors and BoundingBoxes")
    out = _convert_array(inpt._data, old, new, inpt._device._xp)
    if inplace:  # through copy_, which bumps the version counter (autograd's check)
        Tensor.copy_(inpt, Tensor._make(out, inpt._device))
        out = inpt._data
    result = Tensor._make(out, inpt._device)
    if isinstance(inpt, BoundingBoxes):
        return wrap(result, like=inpt, format=new)
    return result


def clamp_bounding_boxes(inpt, format=None, canvas_size=None, clamping_mode="auto"):
    """Clamp boxes to their canvas: coordinates into [0, W] and [0, H].

    ``clamping_mode`` "soft" or "hard" clamps (the same for axis-aligned boxes), None
    leaves the boxes as they are, "auto" (BoundingBoxes only) uses the boxes' own mode.

    Raises
    ------
    ValueError
        When ``format`` or ``canvas_size`` is passed with BoundingBoxes, or missing for a
        plain tensor (which cannot use "auto"), or for an unknown ``clamping_mode``.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[-2, 1, 9, 3]], format="XYXY", canvas_size=(4, 6))
    >>> F.clamp_bounding_boxes(boxes).tolist()
    [[0, 1, 6, 3]]
    """
    op = "clamp_bounding_boxes"
    if clamping_mode not in ("soft", "hard", "auto", None):
        raise ValueError(f"{op}: clamping_mode must be 'soft', 'hard', 'auto' or None, got "
                         f"{clamping_mode!r}")
    if isinstance(inpt, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError(f"{op}: format and canvas_size must not be passed for "
                             "BoundingBoxes (they carry their own)")
        boxes = inpt
        if clamping_mode == "auto":
            clamping_mode = inpt.clamping_mode
    elif isinstance(inpt, Tensor):
        if format is None or canvas_size is None or clamping_mode == "auto":
            raise ValueError(f"{op}: format, canvas_size and a clamping_mode other than "
                             "'auto' are required for a plain tensor")
        boxes = BoundingBoxes(inpt, format=format, canvas_size=canvas_size)
    else:
        raise _unsupported(op, inpt, "tensors and BoundingBoxes")
    xp = boxes._device._xp
    if clamping_mode is None:
        out = boxes._data.copy()
    else:
        xyxy = _clamped(_xyxy(boxes._data.astype(np.float64), boxes.format, xp),
                        boxes.canvas_size, xp)
        out = _from_xyxy(xyxy, boxes.format, xp).astype(boxes._data.dtype)
    if isinstance(inpt, BoundingBoxes):
        return _box_result(inpt, out, inpt.canvas_size)
    return Tensor._make(out.reshape(inpt._data.shape), inpt._device)


# ---------------------------------------------------------------------- conversions


def to_image(inpt):
    """A PIL image, NumPy (H, W[, C]) array or tensor as an
    :class:`~flambeau.vision.tv_tensors.Image` (C, H, W), keeping the dtype (no rescaling).

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> img = F.to_image(np.zeros((4, 5, 3), np.uint8))
    >>> type(img).__name__, tuple(img.shape), img.dtype
    ('Image', (3, 4, 5), flambeau.uint8)
    """
    if isinstance(inpt, _PILImage.Image):
        return Image(_convert.pil_to_tensor(inpt))
    if isinstance(inpt, np.ndarray):
        if inpt.ndim not in (2, 3):
            raise ValueError(f"to_image: expected a NumPy array of shape (H, W, C) or (H, W), "
                             f"got shape {inpt.shape}")
        arr = inpt[:, :, None] if inpt.ndim == 2 else inpt
        return Image(flambeau.as_tensor(np.ascontiguousarray(arr.transpose(2, 0, 1))))
    if isinstance(inpt, Tensor):
        return inpt if isinstance(inpt, Image) else Image(inpt)
    raise _unsupported("to_image", inpt, "PIL images, NumPy arrays and tensors")


def to_pure_tensor(inpt):
    """A tv_tensor as a plain :class:`flambeau.Tensor` (same storage).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> type(F.to_pure_tensor(tv_tensors.Image([[1]]))).__name__
    'Tensor'
    """
    if not isinstance(inpt, Tensor):
        raise _unsupported("to_pure_tensor", inpt, "tensors")
    return inpt.as_subclass(Tensor)


@_dispatchable
def to_dtype(inpt, dtype=flambeau.float32, scale: bool = False):
    """Cast an image, video, mask or boxes to ``dtype``; ``scale=True`` rescales image values
    between integer ranges and [0, 1] (as ``convert_image_dtype``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.to_dtype(flambeau.tensor([0, 255], dtype=flambeau.uint8), flambeau.float32,
    ...            scale=True)
    tensor([0., 1.])
    """
    if not isinstance(inpt, Tensor):
        raise _unsupported("to_dtype", inpt, "tensors, Image, Video, Mask and BoundingBoxes")
    if scale and (isinstance(inpt, (Image, Video)) or is_pure_tensor(inpt)):
        dtype, src = _to_dtype(dtype), inpt.dtype
        if dtype.is_floating_point and not (src.is_floating_point or src.is_complex):
            # torchvision's v2 multiplies by 1 / max where v1 (convert_image_dtype) divides by
            # max: half the uint8 levels differ by an ulp between the two
            out = inpt._data.astype(dtype.np)
            out *= 1.0 / _convert._max_value(src.np)
            return _rewrap(Tensor._make(out, inpt._device), inpt)
        return _rewrap(_convert.convert_image_dtype(inpt, dtype), inpt)
    return _rewrap(Tensor.to(inpt, dtype), inpt)


@_dispatchable
def normalize(inpt, mean, std, inplace: bool = False):
    """Normalize a float image or video channel-wise: ``(x - mean[c]) / std[c]``.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.normalize(tv_tensors.Image([[1.0, 3.0]]), [1.0], [2.0]).tolist()
    [[[0.0, 1.0]]]
    """
    if isinstance(inpt, (_PILImage.Image, np.ndarray)) or not _is_image(inpt):
        raise _unsupported("normalize", inpt, "tensors, Image and Video")
    return _rewrap(_convert.normalize(inpt, mean, std, inplace), inpt)


# ------------------------------------------------------------------------- geometry


@_dispatchable
def horizontal_flip(inpt):
    """Flip an image, video or mask left to right, and boxes with it.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 1]], format="XYXY", canvas_size=(4, 10))
    >>> F.horizontal_flip(boxes).tolist()
    [[8, 0, 10, 1]]
    """
    return _geometric("horizontal_flip", inpt, lambda x, _: _geometry.hflip(x),
                      lambda b: _move_boxes(b, [-1, 0, b.canvas_size[1], 0, 1, 0],
                                            b.canvas_size, clamp=False))


@_dispatchable
def vertical_flip(inpt):
    """Flip an image, video or mask top to bottom, and boxes with it.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 1]], format="XYXY", canvas_size=(4, 10))
    >>> F.vertical_flip(boxes).tolist()
    [[0, 3, 2, 4]]
    """
    return _geometric("vertical_flip", inpt, lambda x, _: _geometry.vflip(x),
                      lambda b: _move_boxes(b, [1, 0, 0, 0, -1, b.canvas_size[0]],
                                            b.canvas_size, clamp=False))


def _mode(interpolation, is_mask: bool, op: str):
    return InterpolationMode.NEAREST if is_mask else _interp(interpolation, op)


def _scale_boxes(boxes, height: int, width: int):
    old_h, old_w = boxes.canvas_size
    return _move_boxes(boxes, [width / old_w, 0, 0, 0, height / old_h, 0], (height, width),
                       clamp=False)


@_dispatchable
def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias=True):
    """Resize an image, video or mask (nearest), scaling boxes to the new canvas.

    An int ``size`` matches the smaller edge, as in the v1
    :func:`~flambeau.vision.transforms.functional.resize`; ``size=None`` (v2 only) brings the
    longer edge to ``max_size``. uint8 images are resized in floating point and rounded, as
    torchvision does except on CPUs with AVX2 or ARM, where its fixed-point bilinear path
    gives about one pixel in five 1 higher or lower.

    Raises
    ------
    ValueError
        For ``size=None`` without an int ``max_size``, or a bad ``size`` (as v1's resize).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[1.0, 1.0, 3.0, 2.0]], format="XYXY",
    ...                                  canvas_size=(4, 8))
    >>> out = F.resize(boxes, [8, 4])
    >>> out.tolist(), out.canvas_size
    ([[0.5, 2.0, 1.5, 4.0]], (8, 4))
    >>> F.resize(boxes, None, max_size=4).canvas_size
    (2, 4)
    """
    if size is None:
        if not isinstance(max_size, int) or isinstance(max_size, bool):
            raise ValueError(f"resize: max_size must be an int when size is None, got "
                             f"{max_size!r}")

    def output_size(h: int, w: int) -> tuple[int, int]:
        if size is not None:
            return _geometry._output_size(h, w, size, max_size, "resize")
        short, long = (w, h) if w <= h else (h, w)
        new_short = int(max_size * short / long)
        return (max_size, new_short) if w <= h else (new_short, max_size)

    def image_kernel(x, is_mask):
        target = size if size is not None else list(output_size(*get_size(x)))
        return _geometry.resize(x, target, _mode(interpolation, is_mask, "resize"),
                                max_size if size is not None else None, antialias)

    return _geometric("resize", inpt, image_kernel,
                      lambda b: _scale_boxes(b, *output_size(*b.canvas_size)))


@_dispatchable
def crop(inpt, top: int, left: int, height: int, width: int):
    """Crop an image, video or mask to a box; boxes move and are clamped to the new canvas.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[2, 2, 6, 6]], format="XYXY", canvas_size=(8, 8))
    >>> F.crop(boxes, 3, 1, 4, 4).tolist()
    [[1, 0, 4, 3]]
    """
    return _geometric("crop", inpt, lambda x, _: _geometry.crop(x, top, left, height, width),
                      lambda b: _move_boxes(b, _translate(-left, -top), (height, width)))


def _center_anchor(size: int, crop_size: int) -> int:
    # where v1's center_crop takes the crop from: a smaller image is padded first
    if crop_size > size:
        return -((crop_size - size) // 2)
    return int(round((size - crop_size) / 2.0))


@_dispatchable
def center_crop(inpt, output_size):
    """Crop the centre of an image, video or mask (padding when smaller); boxes follow.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[2, 2, 6, 6]], format="XYXY", canvas_size=(8, 8))
    >>> F.center_crop(boxes, 4).tolist()
    [[0, 0, 4, 4]]
    """
    crop_h, crop_w = _geometry._pair(output_size, "center_crop")

    def boxes_kernel(b):
        h, w = b.canvas_size
        top, left = _center_anchor(h, crop_h), _center_anchor(w, crop_w)
        return _move_boxes(b, _translate(-left, -top), (crop_h, crop_w))

    return _geometric("center_crop", inpt,
                      lambda x, _: _geometry.center_crop(x, (crop_h, crop_w)), boxes_kernel)


@_dispatchable
def resized_crop(inpt, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """:func:`crop` then :func:`resize` to ``size``; boxes follow.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[2.0, 2.0, 4.0, 4.0]], format="XYXY",
    ...                                  canvas_size=(8, 8))
    >>> F.resized_crop(boxes, 2, 2, 4, 4, [8, 8]).tolist()
    [[0.0, 0.0, 4.0, 4.0]]
    """
    def boxes_kernel(b):
        cropped = _move_boxes(b, _translate(-left, -top), (height, width))
        return _scale_boxes(cropped, *_geometry._output_size(height, width, size, None,
                                                             "resized_crop"))

    return _geometric("resized_crop", inpt, lambda x, m: _geometry.resized_crop(
        x, top, left, height, width, size, _mode(interpolation, m, "resized_crop"),
        antialias), boxes_kernel)


@_dispatchable
def pad(inpt, padding, fill=0, padding_mode="constant"):
    """Pad an image, video or mask; boxes move by the left and top padding.

    Raises
    ------
    ValueError
        For boxes with a ``padding_mode`` other than "constant" (torchvision's limit).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 2]], format="XYWH", canvas_size=(4, 4))
    >>> out = F.pad(boxes, [1, 2])
    >>> out.tolist(), out.canvas_size
    ([[1, 2, 2, 2]], (8, 6))
    """
    left, top, right, bottom = _geometry._parse_padding(padding, "pad")

    def boxes_kernel(b):
        if padding_mode != "constant":
            raise ValueError(f"pad: padding_mode {padding_mode!r} is not supported for "
                             "BoundingBoxes; use 'constant'")
        h, w = b.canvas_size
        return _move_boxes(b, _translate(left, top), (h + top + bottom, w + left + right))

    return _geometric("pad", inpt, lambda x, _: _geometry.pad(x, padding, fill, padding_mode),
                      boxes_kernel)


@_dispatchable
def rotate(inpt, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate counter-clockwise by ``angle`` degrees; boxes become the hull of their rotated
    corners (clamped to the canvas).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0.0, 0.0, 2.0, 1.0]], format="XYXY",
    ...                                  canvas_size=(4, 4))
    >>> [round(v, 4) + 0.0 for v in F.rotate(boxes, 90)[0].tolist()]
    [0.0, 2.0, 1.0, 4.0]
    """
    def boxes_kernel(b):
        matrix, out_h, out_w = _geometry.rotate_matrix(*b.canvas_size, angle, expand, center)
        return _move_boxes(b, _forward_map(matrix), (out_h, out_w))

    return _geometric("rotate", inpt, lambda x, m: _geometry.rotate(
        x, angle, _mode(interpolation, m, "rotate"), expand, center, fill), boxes_kernel)


@_dispatchable
def affine(inpt, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Affine warp (``angle`` clockwise, as torchvision); boxes become the hull of their moved
    corners (clamped to the canvas).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 2]], format="XYXY", canvas_size=(8, 8))
    >>> F.affine(boxes, 0, [3, 1], 1.0, 0).tolist()
    [[3, 1, 5, 3]]
    """
    def boxes_kernel(b):
        matrix = _geometry.affine_matrix(*b.canvas_size, angle, translate, scale, shear, center)
        return _move_boxes(b, _forward_map(matrix), b.canvas_size)

    return _geometric("affine", inpt, lambda x, m: _geometry.affine(
        x, angle, translate, scale, shear, _mode(interpolation, m, "affine"), fill, center),
        boxes_kernel)


@_dispatchable
def perspective(inpt, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                fill=None):
    """Warp so that ``startpoints`` move to ``endpoints``; boxes become the hull of their moved
    corners (clamped to the canvas).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> boxes = tv_tensors.BoundingBoxes([[0.0, 0.0, 2.0, 2.0]], format="XYXY",
    ...                                  canvas_size=(4, 4))
    >>> corners = [[0, 0], [3, 0], [3, 3], [0, 3]]
    >>> shifted = [[1, 0], [4, 0], [4, 3], [1, 3]]
    >>> [round(v, 4) + 0.0 for v in F.perspective(boxes, corners, shifted)[0].tolist()]
    [1.0, 0.0, 3.0, 2.0]
    """
    def boxes_kernel(b):
        # the image kernel samples with endpoints -> startpoints; boxes move the other way
        forward = _geometry._perspective_coeffs(endpoints, startpoints)
        return _move_boxes(b, forward, b.canvas_size)

    return _geometric("perspective", inpt, lambda x, m: _geometry.perspective(
        x, startpoints, endpoints, _mode(interpolation, m, "perspective"), fill), boxes_kernel)


# --------------------------------------------------------------------------- colour


@_dispatchable
def adjust_brightness(inpt, brightness_factor: float):
    """Scale the brightness of an image or video (v1 kernel).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.adjust_brightness(tv_tensors.Image([[0.25]]), 2.0).tolist()
    [[[0.5]]]
    """
    return _image_only("adjust_brightness", _color.adjust_brightness, inpt, brightness_factor)


@_dispatchable
def adjust_contrast(inpt, contrast_factor: float):
    """Scale the contrast of an image or video about its mean grey (v1 kernel).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.adjust_contrast(tv_tensors.Image([[0.0, 1.0]]), 0.0).tolist()
    [[[0.5, 0.5]]]
    """
    return _image_only("adjust_contrast", _color.adjust_contrast, inpt, contrast_factor)


@_dispatchable
def adjust_saturation(inpt, saturation_factor: float):
    """Scale the saturation of an RGB image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.adjust_saturation(flambeau.zeros(3, 1, 1), 0.0).flatten().tolist()
    [0.0, 0.0, 0.0]
    """
    return _image_only("adjust_saturation", _color.adjust_saturation, inpt, saturation_factor)


@_dispatchable
def adjust_hue(inpt, hue_factor: float):
    """Shift the hue of an RGB image or video by ``hue_factor`` turns (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.adjust_hue(flambeau.zeros(3, 1, 1), 0.25).flatten().tolist()
    [0.0, 0.0, 0.0]
    """
    return _image_only("adjust_hue", _color.adjust_hue, inpt, hue_factor)


@_dispatchable
def rgb_to_grayscale(inpt, num_output_channels: int = 1):
    """Convert an RGB image or video to grayscale with 1 or 3 output channels (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.rgb_to_grayscale(flambeau.ones(3, 2, 2)).shape
    flambeau.Size([1, 2, 2])
    """
    return _image_only("rgb_to_grayscale", _color.rgb_to_grayscale, inpt, num_output_channels)


@_dispatchable
def gaussian_blur(inpt, kernel_size, sigma=None):
    """Gaussian blur of an image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.gaussian_blur(flambeau.ones(1, 5, 5), [3, 3], [1.0, 1.0]).shape
    flambeau.Size([1, 5, 5])
    """
    return _image_only("gaussian_blur", _color.gaussian_blur, inpt, kernel_size, sigma)


@_dispatchable
def erase(inpt, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Overwrite a box of a tensor image or video with ``v`` (v1 kernel).

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.erase(tv_tensors.Image([[1.0, 1.0]]), 0, 1, 1, 1, 0.0).tolist()
    [[[1.0, 0.0]]]
    """
    if isinstance(inpt, (_PILImage.Image, np.ndarray)) or not _is_image(inpt):
        raise _unsupported("erase", inpt, "tensors, Image and Video")
    return _rewrap(_convert.erase(inpt, i, j, h, w, v, inplace), inpt)



@_dispatchable
def invert(inpt):
    """Invert the colours of an image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.invert(flambeau.tensor([[[0, 55]]], dtype=flambeau.uint8)).tolist()
    [[[255, 200]]]
    """
    return _image_only("invert", _color.invert, inpt)


@_dispatchable
def posterize(inpt, bits: int):
    """Keep the ``bits`` most significant bits of a uint8 image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.posterize(flambeau.tensor([[[255, 100]]], dtype=flambeau.uint8), 2).tolist()
    [[[192, 64]]]
    """
    return _image_only("posterize", _color.posterize, inpt, bits)


@_dispatchable
def solarize(inpt, threshold: float):
    """Invert the pixels at or above ``threshold`` (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.solarize(flambeau.tensor([[[10, 200]]], dtype=flambeau.uint8), 128).tolist()
    [[[10, 55]]]
    """
    return _image_only("solarize", _color.solarize, inpt, threshold)


@_dispatchable
def adjust_sharpness(inpt, sharpness_factor: float):
    """Sharpen (factor > 1) or blur (factor < 1) an image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.adjust_sharpness(flambeau.ones(1, 3, 3), 2.0).flatten().tolist()[4]
    1.0
    """
    return _image_only("adjust_sharpness", _color.adjust_sharpness, inpt, sharpness_factor)


@_dispatchable
def autocontrast(inpt):
    """Stretch each channel of an image or video to the full range (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.autocontrast(flambeau.tensor([[[0.25, 0.5]]])).tolist()
    [[[0.0, 1.0]]]
    """
    return _image_only("autocontrast", _color.autocontrast, inpt)


@_dispatchable
def equalize(inpt):
    """Equalize the histogram of a uint8 image or video (v1 kernel).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.equalize(flambeau.tensor([[[0, 0, 0, 255]]], dtype=flambeau.uint8)).tolist()
    [[[0, 0, 0, 255]]]
    """
    return _image_only("equalize", _color.equalize, inpt)


@_dispatchable
def permute_channels(inpt, permutation):
    """Reorder the channels of an image or video: output channel ``i`` is input channel
    ``permutation[i]``.

    Raises
    ------
    ValueError
        When ``permutation`` does not have one entry per channel.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms.v2 import functional as F
    >>> F.permute_channels(flambeau.tensor([[[1]], [[2]], [[3]]]), [2, 0, 1]).flatten().tolist()
    [3, 1, 2]
    """
    if not _is_image(inpt):
        raise _unsupported("permute_channels", inpt, _IMAGE_KINDS)
    arr, xp, restore = _as_chw(inpt, "permute_channels")
    permutation = [int(i) for i in permutation]
    if len(permutation) != arr.shape[-3]:
        raise ValueError(f"permute_channels: the permutation has {len(permutation)} entries "
                         f"for {arr.shape[-3]} channels")
    return _rewrap(restore(xp.ascontiguousarray(arr[..., permutation, :, :])), inpt)

"""Tensor subclasses that tell the v2 transforms what a tensor is (torchvision's tv_tensors).

Like torchvision's, they are plain tensors to every op: an op on an ``Image`` returns a plain
``Tensor`` (the type says what the data *is*, and after arbitrary math that is unknown), except
``clone``, ``to``, ``detach``, ``pin_memory`` and the in-place ``requires_grad_``, which keep
the type and the metadata. :func:`wrap` puts a result back into the type of a reference.
"""

from __future__ import annotations

import numbers
from enum import Enum

import numpy as np
from PIL import Image as _PILImage

import flambeau
from flambeau._tensor import Tensor
from flambeau.autograd._function import mark_view

__all__ = ["TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat", "wrap"]


class TVTensor(Tensor):
    """Base class of the tv_tensors; subclass it to define your own.

    Ops on a TVTensor return plain tensors, except ``clone``, ``to``, ``detach``,
    ``requires_grad_`` and ``pin_memory``; :func:`wrap` re-wraps a result.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> class Heatmap(tv_tensors.TVTensor):
    ...     pass
    >>> h = flambeau.zeros(2, 2).as_subclass(Heatmap)
    >>> type(h.clone()).__name__, type(h + 1).__name__
    ('Heatmap', 'Tensor')
    """

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None) -> Tensor:
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        tensor = flambeau.as_tensor(data, dtype=dtype, device=device)
        if requires_grad and not tensor.requires_grad:
            tensor = tensor.requires_grad_(True)
        return tensor

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """``tensor`` as a ``cls`` carrying ``like``'s metadata (``kwargs`` override it)."""
        out = _as_subclass(tensor, cls)
        out.__dict__.update(like.__dict__)
        out.__dict__.update(kwargs)
        return out

    def _metadata(self) -> dict:
        return {}

    # the methods torchvision keeps the subclass for (requires_grad_ returns self already)
    def clone(self, *args, **kwargs):
        return wrap(Tensor.clone(self, *args, **kwargs), like=self)

    def to(self, *args, **kwargs):
        return wrap(Tensor.to(self, *args, **kwargs), like=self)

    def detach(self):
        return wrap(Tensor.detach(self), like=self)

    def pin_memory(self, *args, **kwargs):
        return wrap(Tensor.pin_memory(self, *args, **kwargs), like=self)

    def __reduce_ex__(self, protocol):
        # keep the subclass and its metadata across pickling (DataLoader workers); the
        # metadata travels here, so Tensor's own state (its __dict__, when set) is not needed
        rebuild, args = Tensor.__reduce_ex__(self, protocol)[:2]
        return _rebuild_tv_tensor, (type(self), rebuild, args, dict(self.__dict__))

    def __repr__(self):
        text = Tensor.__repr__(self)
        name = type(self).__name__
        # flambeau's repr starts "tensor(" and indents continuation lines under it
        shift = " " * (len(name) + 1 - len("tensor("))
        text = name + text[len("tensor"):].replace("\n" + " " * len("tensor("),
                                                     "\n" + " " * len("tensor(") + shift)
        meta = ", ".join(f"{k}={v}" for k, v in self._metadata().items())
        return f"{text[:-1]}, {meta})" if meta else text

    __str__ = __repr__


def _as_subclass(tensor, cls):
    """``tensor.as_subclass(cls)``; outside autograd without its alias node, which costs more
    than the v2 kernels on small images (the transforms re-wrap every output)."""
    if tensor._requires_grad or tensor._grad_fn is not None:
        return tensor.as_subclass(cls)
    out = cls._make(tensor._data, tensor._device)
    # still a view of ``tensor`` (shared version, base), as the alias is: an in-place op
    # with a grad-requiring operand on ``out`` then gives ``tensor`` its history, as torch's
    mark_view(out, tensor)
    return out


def _rebuild_tv_tensor(cls, rebuild, args, metadata):
    out = rebuild(*args).as_subclass(cls)
    out.__dict__.update(metadata)
    return out


def wrap(wrappee, *, like, **kwargs):
    """Make the tensor ``wrappee`` the same tv_tensor type as ``like``, with its metadata.

    ``kwargs`` override metadata (``canvas_size=...`` for boxes).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 2]], format="XYXY", canvas_size=(4, 4))
    >>> moved = tv_tensors.wrap(boxes + 1, like=boxes)
    >>> type(moved).__name__, moved.format, moved.canvas_size
    ('BoundingBoxes', <BoundingBoxFormat.XYXY: 'XYXY'>, (4, 4))
    """
    if not isinstance(wrappee, Tensor):
        raise TypeError(f"wrap: expected a tensor to wrap, got {type(wrappee).__name__}")
    if not isinstance(like, TVTensor):
        raise TypeError(f"wrap: like must be a tv_tensor (Image, Video, Mask, BoundingBoxes), "
                        f"got {type(like).__name__}")
    return type(like).wrap(wrappee, like, **kwargs)


def _new(cls, data, dtype, device, requires_grad, low: int, shape_text: str):
    """``data`` as a ``cls`` tensor of at least ``low`` dimensions (PIL images converted)."""
    tensor = cls._to_tensor(_from_pil(data), dtype, device, requires_grad)
    if tensor.dim() < low:
        raise ValueError(f"{cls.__name__}: expected a tensor of shape {shape_text}, got shape "
                         f"{tuple(tensor.shape)}")
    return tensor


def _from_pil(data):
    if isinstance(data, _PILImage.Image):
        from flambeau.vision.transforms._convert import pil_to_tensor

        return pil_to_tensor(data)
    return data


class Image(TVTensor):
    """An image tensor of shape ``(..., C, H, W)``; PIL images and ``(H, W)`` data are accepted.

    Parameters
    ----------
    data : tensor, array-like or PIL image
        ``(H, W)`` data becomes ``(1, H, W)``; a PIL image becomes ``(C, H, W)`` uint8.
    dtype, device, requires_grad : optional
        As for :func:`flambeau.as_tensor`.

    Raises
    ------
    ValueError
        For data with fewer than 2 dimensions.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> tv_tensors.Image([[1, 2], [3, 4]]).shape
    flambeau.Size([1, 2, 2])
    """

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = _new(cls, data, dtype, device, requires_grad, 2, "(..., C, H, W) or (H, W)")
        if tensor.dim() == 2:
            tensor = tensor.unsqueeze(0)
        return tensor.as_subclass(cls)


class Video(TVTensor):
    """A video tensor of shape ``(..., T, C, H, W)``.

    Raises
    ------
    ValueError
        For data with fewer than 4 dimensions.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> tv_tensors.Video(flambeau.zeros(2, 3, 4, 4)).shape
    flambeau.Size([2, 3, 4, 4])
    """

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = _new(cls, data, dtype, device, requires_grad, 4, "(..., T, C, H, W)")
        return tensor.as_subclass(cls)


class Mask(TVTensor):
    """A segmentation or detection mask of shape ``(..., H, W)``.

    Geometric transforms move masks with the image, always with nearest interpolation;
    colour transforms leave them alone.

    Raises
    ------
    ValueError
        For data with fewer than 2 dimensions.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> tv_tensors.Mask(flambeau.zeros(2, 4, 4, dtype=flambeau.bool)).dtype
    flambeau.bool
    """

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        return _new(cls, data, dtype, device, requires_grad, 2, "(..., H, W)").as_subclass(cls)


class BoundingBoxFormat(Enum):
    """How a box's 4 numbers are laid out.

    ``XYXY``: top-left and bottom-right corners; ``XYWH``: top-left corner, width and height;
    ``CXCYWH``: centre, width and height.

    Examples
    --------
    >>> from flambeau.vision.tv_tensors import BoundingBoxFormat
    >>> BoundingBoxFormat["XYWH"], BoundingBoxFormat("CXCYWH").value
    (<BoundingBoxFormat.XYWH: 'XYWH'>, 'CXCYWH')
    """

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"


def _box_format(fmt, op: str) -> BoundingBoxFormat:
    if isinstance(fmt, BoundingBoxFormat):
        return fmt
    if isinstance(fmt, str) and fmt.upper() in BoundingBoxFormat.__members__:
        return BoundingBoxFormat[fmt.upper()]
    raise ValueError(f"{op}: format must be a BoundingBoxFormat or one of "
                     f"{list(BoundingBoxFormat.__members__)}, got {fmt!r}")


def _canvas(size, op: str) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: canvas_size must be (height, width), got {size!r}") from None
    if height < 0 or width < 0 or any(not isinstance(s, (numbers.Integral, np.integer))
                                      for s in size):
        raise ValueError(f"{op}: canvas_size must be two non-negative ints, got {size!r}")
    return height, width


class BoundingBoxes(TVTensor):
    """Boxes of shape ``(N, 4)`` in one :class:`BoundingBoxFormat`, on a canvas (H, W).

    Parameters
    ----------
    data : tensor or array-like
        ``(N, 4)``; a single box ``(4,)`` becomes ``(1, 4)``.
    format : BoundingBoxFormat or str
    canvas_size : (int, int)
        Height and width of the image the boxes belong to.
    clamping_mode : {"soft", "hard", None}
        Whether geometric transforms clamp the boxes to the canvas ("soft" and "hard" are the
        same for axis-aligned boxes); default "soft".
    dtype, device, requires_grad : optional

    Raises
    ------
    ValueError
        For a shape other than (N, 4) or (4,), an unknown format or a bad canvas_size.

    Examples
    --------
    >>> from flambeau.vision import tv_tensors
    >>> tv_tensors.BoundingBoxes([1, 2, 5, 6], format="XYXY", canvas_size=(8, 8))
    BoundingBoxes([[1, 2, 5, 6]], format=BoundingBoxFormat.XYXY, canvas_size=(8, 8), \
clamping_mode=soft)
    """

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft", check_dims=True):
        if check_dims:
            if tensor.dim() == 1:
                tensor = tensor.unsqueeze(0)
            if tensor.dim() != 2 or tensor.shape[-1] != 4:
                raise ValueError(f"BoundingBoxes: expected a tensor of shape (N, 4) or (4,), "
                                 f"got shape {tuple(tensor.shape)}")
        if clamping_mode not in ("soft", "hard", None):
            raise ValueError(f"BoundingBoxes: clamping_mode must be 'soft', 'hard' or None, "
                             f"got {clamping_mode!r}")
        out = _as_subclass(tensor, cls)
        out.format = _box_format(format, "BoundingBoxes")
        out.canvas_size = _canvas(canvas_size, "BoundingBoxes")
        out.clamping_mode = clamping_mode
        return out

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        # checks the shape as torchvision's does: a single box (4,) becomes (1, 4)
        return cls._wrap(tensor, format=kwargs.get("format", like.format),
                         canvas_size=kwargs.get("canvas_size", like.canvas_size),
                         clamping_mode=kwargs.get("clamping_mode", like.clamping_mode))

    def __new__(cls, data, *, format, canvas_size, clamping_mode="soft", dtype=None,
                device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype, device, requires_grad)
        return cls._wrap(tensor, format=format, canvas_size=canvas_size,
                         clamping_mode=clamping_mode)

    def _metadata(self) -> dict:
        return {"format": self.format, "canvas_size": self.canvas_size,
                "clamping_mode": self.clamping_mode}

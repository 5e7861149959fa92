"""The v2 Transform base class, the containers, and what transforms ask of a sample."""

from __future__ import annotations

import enum

import numpy as np
from PIL import Image as _PILImage

import flambeau
from flambeau import nn
from flambeau._tensor import Tensor
from flambeau.utils._pytree import tree_flatten, tree_unflatten
from flambeau.vision.transforms import _random as _v1
from flambeau.vision.transforms._base import _callables
from flambeau.vision.transforms._image import draw_coin
from flambeau.vision.transforms.v2 import _functional as F
from flambeau.vision.tv_tensors import BoundingBoxes, Image, Mask, Video

__all__ = ["Transform", "Compose", "RandomApply", "RandomChoice", "RandomOrder", "Lambda"]


def _check_type(obj, types_or_checks) -> bool:
    # a loop, not any() over a generator: every call of a transform runs it on every input
    for t in types_or_checks:
        if isinstance(obj, t) if isinstance(t, type) else t(obj):
            return True
    return False


_EXPLICIT_IMAGE_TYPES = (Image, Video, _PILImage.Image)


def _is_image_like(x) -> bool:
    return isinstance(x, (Image, Video, _PILImage.Image)) or F.is_pure_tensor(x)


def query_size(flat_inputs, op: str) -> tuple[int, int]:
    """The one (height, width) of the images, videos, masks and boxes of a sample."""
    sizes = {tuple(F.get_size(x)) for x in flat_inputs
             if _is_image_like(x) or isinstance(x, (Mask, BoundingBoxes))}
    if not sizes:
        raise TypeError(f"{op}: no image, video, mask or bounding boxes found in the sample")
    if len(sizes) > 1:
        raise ValueError(f"{op}: the sample holds several sizes (H, W): {sorted(sizes)}")
    return sizes.pop()


def query_chw(flat_inputs, op: str) -> tuple[int, int, int]:
    """The one (channels, height, width) of the images and videos of a sample."""
    dims = {tuple(F.get_dimensions(x)) for x in flat_inputs if _is_image_like(x)}
    if not dims:
        raise TypeError(f"{op}: no image or video found in the sample")
    if len(dims) > 1:
        raise ValueError(f"{op}: the sample holds several sizes (C, H, W): {sorted(dims)}")
    return dims.pop()


_ZERO = np.zeros(1, np.uint8)
_ZERO.flags.writeable = False


def _blank(height: int, width: int):
    """A zero-cost (H, W) stand-in for the v1 ``get_params`` that read an image's size (one
    read-only byte with zero strides; np.broadcast_to took 4x as long, on every crop)."""
    return np.ndarray((height, width), np.uint8, buffer=_ZERO, strides=(0, 0))


class Transform(nn.Module):
    """Base class of the v2 transforms; subclass it and override :meth:`transform` (and
    :meth:`make_params` for random parameters shared by the whole sample).

    Calling a transform flattens its input (any nesting of tuples, lists and dicts), draws
    the parameters once with ``make_params(flat_inputs)``, and calls ``transform(inpt,
    params)`` on each leaf whose type is in ``_transformed_types``; the rest passes through.
    Plain tensors follow torchvision's rule: when the sample holds no Image, Video or PIL
    image, the first plain tensor is the image and the others pass through.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import tv_tensors
    >>> from flambeau.vision.transforms import v2
    >>> class AddOne(v2.Transform):
    ...     def transform(self, inpt, params):
    ...         return inpt + 1
    >>> img, label = AddOne()(tv_tensors.Image([[1]]), 7)
    >>> img.tolist(), label
    ([[[2]]], 7)
    """

    _transformed_types: tuple = (Tensor, _PILImage.Image)
    _v1_transform_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the v1 transform's static get_params stays available under its name, as in torchvision
        if cls._v1_transform_cls is not None and hasattr(cls._v1_transform_cls, "get_params"):
            cls.get_params = staticmethod(cls._v1_transform_cls.get_params)

    def check_inputs(self, flat_inputs: list) -> None:
        """Raise for a sample this transform cannot handle (default: accept all)."""

    def make_params(self, flat_inputs: list) -> dict:
        """The parameters shared by every input of one call (default: none)."""
        return {}

    def transform(self, inpt, params: dict):
        """Transform one input with the call's ``params`` (subclasses override this)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement transform")

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        """``functional(inpt, ...)``; a tv_tensor of your own type with no kernel registered
        for ``functional`` (:func:`~.functional.register_kernel`) passes through."""
        if F.passes_through(functional, inpt):
            return inpt
        return functional(inpt, *args, **kwargs)

    def _needs_transform_list(self, flat_inputs: list) -> list[bool]:
        transform_pure_tensor = True
        for x in flat_inputs:
            if isinstance(x, _EXPLICIT_IMAGE_TYPES):
                transform_pure_tensor = False
                break
        needs = []
        types = self._transformed_types
        for inpt in flat_inputs:
            need = _check_type(inpt, types)
            if need and F.is_pure_tensor(inpt):
                need, transform_pure_tensor = transform_pure_tensor, False
            needs.append(need)
        return needs

    def _apply(self, flat_inputs, spec):
        needs = self._needs_transform_list(flat_inputs)
        params = self.make_params([x for x, n in zip(flat_inputs, needs, strict=True) if n])
        outputs = [self.transform(x, params) if n else x
                   for x, n in zip(flat_inputs, needs, strict=True)]
        return tree_unflatten(outputs, spec)

    def forward(self, *inputs):
        """Transform a sample (do not override: override :meth:`transform`)."""
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat_inputs)
        return self._apply(flat_inputs, spec)

    def extra_repr(self) -> str:
        parts = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                parts.append(f"{name}={value}")
        return ", ".join(parts)


class _RandomApplyTransform(Transform):
    """Transform the whole sample with probability ``p`` (one draw per call)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = _v1._check_p(p, type(self).__name__)

    def forward(self, *inputs):
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(sample)
        self.check_inputs(flat_inputs)
        if not draw_coin(self.p):
            return sample
        return self._apply(flat_inputs, spec)


def _run(transforms, inputs):
    """Apply ``transforms`` in order to a sample given as call arguments."""
    unpack = len(inputs) > 1
    outputs = inputs if unpack else inputs[0]
    for t in transforms:
        outputs = t(*outputs) if unpack else t(outputs)
    return outputs


def _container_repr(name, transforms, extra=""):
    parts = ([extra] if extra else []) + [repr(t) for t in transforms]
    body = "\n".join("  " + line for part in parts for line in part.split("\n"))
    return f"{name}(\n{body}\n)"


class Compose(Transform):
    """Apply transforms one after the other to the whole sample.

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables.
    ValueError
        When it is empty (as torchvision's v2 Compose).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(flambeau.float32, scale=True)])
    >>> pipeline(flambeau.tensor([[[255]]], dtype=flambeau.uint8)).tolist()
    [[[1.0]]]
    """

    def __init__(self, transforms):
        super().__init__()
        self.transforms = _callables(transforms, "Compose")
        if not self.transforms:
            raise ValueError("Compose: pass at least one transform")

    def forward(self, *inputs):
        return _run(self.transforms, inputs)

    def __repr__(self):
        return _container_repr("Compose", self.transforms)


class RandomApply(Transform):
    """Apply a list of transforms, in order, with probability ``p`` (all or none).

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables, or ``p`` not a number.
    ValueError
        For ``p`` outside [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> v2.RandomApply([v2.RandomHorizontalFlip(p=1.0)], p=1.0)(flambeau.tensor([[[1, 2]]]))
    tensor([[[2, 1]]])
    """

    def __init__(self, transforms, p: float = 0.5):
        super().__init__()
        self.transforms = _callables(transforms, "RandomApply")
        self.p = _v1._check_p(p, "RandomApply")

    def forward(self, *inputs):
        if not draw_coin(self.p):
            return inputs if len(inputs) > 1 else inputs[0]
        return _run(self.transforms, inputs)

    def __repr__(self):
        return _container_repr("RandomApply", self.transforms, f"p={self.p}")


class RandomChoice(Transform):
    """Apply one transform picked at random (weighted by ``p`` if given) to the sample.

    Raises
    ------
    TypeError, ValueError
        For bad ``transforms`` or weights ``p`` (as the v1 RandomChoice).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> flip = v2.RandomChoice([v2.RandomHorizontalFlip(1.0), v2.RandomVerticalFlip(1.0)],
    ...                        p=[1.0, 0.0])
    >>> flip(flambeau.tensor([[[1, 2]]]))
    tensor([[[2, 1]]])
    """

    def __init__(self, transforms, p=None):
        super().__init__()
        self._v1 = _v1.RandomChoice(transforms, p)
        self.transforms, self.p = self._v1.transforms, p

    def forward(self, *inputs):
        return _run([self.transforms[self._v1._pick()]], inputs)

    def __repr__(self):
        return _container_repr("RandomChoice", self.transforms, f"p={self.p}")


class RandomOrder(Transform):
    """Apply a list of transforms to the sample in a random order.

    Raises
    ------
    TypeError
        When ``transforms`` is not a sequence of callables.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import v2
    >>> both = v2.RandomOrder([v2.RandomHorizontalFlip(1.0), v2.RandomVerticalFlip(1.0)])
    >>> both(flambeau.tensor([[[1, 2], [3, 4]]])).tolist()
    [[[4, 3], [2, 1]]]
    """

    def __init__(self, transforms):
        super().__init__()
        self.transforms = _callables(transforms, "RandomOrder")

    def forward(self, *inputs):
        order = flambeau.randperm(len(self.transforms)).tolist()
        return _run([self.transforms[i] for i in order], inputs)

    def __repr__(self):
        return _container_repr("RandomOrder", self.transforms)


class Lambda(Transform):
    """Apply a function to every input of the given types (default: every input).

    Raises
    ------
    TypeError
        When ``lambd`` is not callable.

    Examples
    --------
    >>> from flambeau.vision.transforms import v2
    >>> v2.Lambda(lambda x: x * 10, int)((1, 2.5))
    (10, 2.5)
    """

    def __init__(self, lambd, *types):
        super().__init__()
        if not callable(lambd):
            raise TypeError(f"Lambda: the argument must be callable, got "
                            f"{type(lambd).__name__}")
        self.lambd = lambd
        self.types = types or (object,)
        self._transformed_types = self.types

    def transform(self, inpt, params):
        return self.lambd(inpt)

    def extra_repr(self) -> str:
        return f"{getattr(self.lambd, '__name__', 'lambd')}, types={list(self.types)}"

"""flambeau.vision.tv_tensors: tensor types the v2 transforms dispatch on (torchvision's).

An :class:`Image`, :class:`Video`, :class:`Mask` or :class:`BoundingBoxes` is a tensor that
says what it holds, so that one call of a :mod:`flambeau.vision.transforms.v2` transform moves
an image, its boxes and its masks together.

Examples
--------
>>> import flambeau
>>> from flambeau.vision import tv_tensors
>>> boxes = tv_tensors.BoundingBoxes([[0, 0, 2, 3]], format="XYXY", canvas_size=(4, 4))
>>> boxes.canvas_size, type(boxes * 2).__name__
((4, 4), 'Tensor')
"""

from flambeau.vision.tv_tensors._tv_tensors import (
    BoundingBoxes,
    BoundingBoxFormat,
    Image,
    Mask,
    TVTensor,
    Video,
    wrap,
)

__all__ = ["TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat", "wrap"]

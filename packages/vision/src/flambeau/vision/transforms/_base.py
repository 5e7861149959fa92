"""The Transform base class and the deterministic transforms."""

from __future__ import annotations

import numbers

import flambeau
from flambeau.vision.transforms import _color, _convert, _geometry
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import is_tensor

__all__ = ["Transform", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype",
           "ToPILImage", "Normalize", "Resize", "CenterCrop", "FiveCrop", "TenCrop", "Pad",
           "Grayscale", "Lambda", "LinearTransformation"]


class Transform:
    """Base class of the transforms: calling one runs :meth:`forward`.

    Subclasses set the attributes listed by ``_repr_names`` to get torchvision's repr (its
    fields joined by ``_repr_sep``).

    Examples
    --------
    >>> from flambeau.vision.transforms import Transform
    >>> class Twice(Transform):
    ...     def forward(self, x):
    ...         return 2 * x
    >>> Twice()(3)
    6
    """

    _repr_names: tuple[str, ...] = ()
    _repr_sep = ", "

    def forward(self, img):
        """Transform ``img`` (subclasses override this)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def __call__(self, img):
        return self.forward(img)

    def __repr__(self):
        def show(value):
            return value.value if isinstance(value, InterpolationMode) else value

        args = self._repr_sep.join(f"{n}={show(getattr(self, n))}" for n in self._repr_names)
        return f"{type(self).__name__}({args})"


def _size_pair(size, op: str):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{op}: size must be an int or a sequence of 2 ints, got {size}")
    return size


def _callables(transforms, op: str) -> list:
    """``transforms`` as a list, checked to hold callables only."""
    if callable(transforms) and not hasattr(transforms, "__iter__"):
        raise TypeError(f"{op}: transforms must be a sequence of transforms, got a single "
                        f"{type(transforms).__name__}; wrap it in a list")
    try:
        transforms = list(transforms)
    except TypeError:
        raise TypeError(f"{op}: transforms must be a sequence of transforms, got "
                        f"{type(transforms).__name__}") from None
    for t in transforms:
        if not callable(t):
            raise TypeError(f"{op}: every transform must be callable, got {t!r}")
    return transforms


def _list_repr(name: str, transforms, header: str = "") -> str:
    """torchvision's repr of a transform holding a list: one transform per indented line."""
    inner = "".join(f"\n    {t!r}" for t in transforms)
    return f"{name}({header}{inner}\n)"


class Compose(Transform):
    """Apply transforms one after the other.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision import transforms as T
    >>> pipeline = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])
    >>> pipeline(np.zeros((2, 2), np.uint8)).flatten().tolist()
    [-1.0, -1.0, -1.0, -1.0]
    """

    def __init__(self, transforms):
        self.transforms = _callables(transforms, "Compose")

    def forward(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return _list_repr("Compose", self.transforms)


class ToTensor(Transform):
    """PIL image or NumPy (H, W, C) array -> (C, H, W) tensor; uint8 is scaled to [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.vision import transforms as T
    >>> T.ToTensor()(np.array([[0, 255]], np.uint8))
    tensor([[[0., 1.]]])
    """

    def forward(self, pic):
        return _convert.to_tensor(pic)

    def __call__(self, pic):  # torchvision's argument name
        return self.forward(pic)

    def __repr__(self):
        return "ToTensor()"


class PILToTensor(Transform):
    """PIL image -> (C, H, W) tensor of the same dtype, without scaling.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.PILToTensor()(Image.new("L", (2, 1), 7)).tolist()
    [[[7, 7]]]
    """

    def forward(self, pic):
        return _convert.pil_to_tensor(pic)

    def __call__(self, pic):  # torchvision's argument name
        return self.forward(pic)

    def __repr__(self):
        return "PILToTensor()"


class ConvertImageDtype(Transform):
    """Convert a tensor image's dtype, rescaling its values.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.ConvertImageDtype(flambeau.float32)(flambeau.tensor([255], dtype=flambeau.uint8))
    tensor([1.])
    """

    _repr_names = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return _convert.convert_image_dtype(image, self.dtype)


class ToPILImage(Transform):
    """Tensor (C, H, W) or NumPy (H, W, C) -> PIL image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.ToPILImage()(flambeau.zeros(1, 2, 2)).mode
    'L'
    """

    _repr_names = ("mode",)

    def __init__(self, mode=None):
        self.mode = mode

    def forward(self, pic):
        return _convert.to_pil_image(pic, self.mode)

    def __call__(self, pic):  # torchvision's argument name
        return self.forward(pic)


class Normalize(Transform):
    """Channel-wise ``(x - mean) / std`` of a float tensor image.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.Normalize([0.5], [0.25])(flambeau.ones(1, 1, 2))
    tensor([[[2., 2.]]])
    """

    _repr_names = ("mean", "std")

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor):
        return _convert.normalize(tensor, self.mean, self.std, self.inplace)


class Resize(Transform):
    """Resize to ``size``; an int matches the smaller edge and keeps the aspect ratio.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.Resize(4)(Image.new("RGB", (16, 8))).size
    (8, 4)
    """

    _repr_names = ("size", "interpolation", "max_size", "antialias")

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        if not isinstance(size, numbers.Integral) and len(size) not in (1, 2):
            raise ValueError(f"Resize: size must be an int or a sequence of 1 or 2 ints, "
                             f"got {size}")
        self.size = size
        self.interpolation = _interp(interpolation, "Resize")
        self.max_size, self.antialias = max_size, antialias

    def forward(self, img):
        return _geometry.resize(img, self.size, self.interpolation, self.max_size,
                                self.antialias)


class CenterCrop(Transform):
    """Crop the centre (padding with zeros if the image is smaller).

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.CenterCrop((2, 3))(Image.new("L", (5, 5))).size
    (3, 2)
    """

    _repr_names = ("size",)

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def forward(self, img):
        return _geometry.center_crop(img, self.size)


class FiveCrop(Transform):
    """The four corner crops and the central crop: a tuple of 5 images.

    Parameters
    ----------
    size : int or (int, int)
        ``(h, w)`` of the crops; an int gives square crops.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> crops = T.FiveCrop(2)(flambeau.zeros(3, 4, 4))
    >>> len(crops), crops[0].shape
    (5, flambeau.Size([3, 2, 2]))
    >>> pipeline = T.Compose([T.FiveCrop(2), T.Lambda(flambeau.stack)])  # a batch of crops
    >>> pipeline(flambeau.zeros(3, 4, 4)).shape
    flambeau.Size([5, 3, 2, 2])
    """

    _repr_names = ("size",)

    def __init__(self, size):
        self.size = _size_pair(size, "FiveCrop")

    def forward(self, img):
        return _geometry.five_crop(img, self.size)


class TenCrop(Transform):
    """The five crops of :class:`FiveCrop` of the image and of its flipped copy (10 images).

    Parameters
    ----------
    size : int or (int, int)
    vertical_flip : bool
        Flip top to bottom instead of left to right.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> crops = T.TenCrop((2, 3))(Image.new("RGB", (5, 4)))
    >>> len(crops), crops[9].size
    (10, (3, 2))
    """

    _repr_names = ("size", "vertical_flip")

    def __init__(self, size, vertical_flip: bool = False):
        self.size = _size_pair(size, "TenCrop")
        self.vertical_flip = vertical_flip

    def forward(self, img):
        return _geometry.ten_crop(img, self.size, self.vertical_flip)


class Pad(Transform):
    """Pad the borders (modes constant, edge, reflect, symmetric).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.Pad(1, fill=5)(flambeau.zeros(1, 1, 1, dtype=flambeau.uint8)).tolist()
    [[[5, 5, 5], [5, 0, 5], [5, 5, 5]]]
    """

    _repr_names = ("padding", "fill", "padding_mode")

    def __init__(self, padding, fill=0, padding_mode="constant"):
        _geometry._parse_padding(padding, "Pad")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Pad: padding_mode must be constant, edge, reflect or symmetric, "
                             f"got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return _geometry.pad(img, self.padding, self.fill, self.padding_mode)


class Grayscale(Transform):
    """Convert to grayscale with 1 or 3 output channels.

    Examples
    --------
    >>> from PIL import Image
    >>> from flambeau.vision import transforms as T
    >>> T.Grayscale()(Image.new("RGB", (1, 1), (255, 0, 0))).getpixel((0, 0))
    76
    """

    _repr_names = ("num_output_channels",)

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels must be 1 or 3, got "
                             f"{num_output_channels}")
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return _color.rgb_to_grayscale(img, self.num_output_channels)


class Lambda(Transform):
    """Wrap a function as a transform.

    Examples
    --------
    >>> from flambeau.vision import transforms as T
    >>> T.Lambda(lambda x: x + 1)(1)
    2
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: the argument must be callable, got "
                            f"{type(lambd).__name__}")
        self.lambd = lambd

    def forward(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


class LinearTransformation(Transform):
    """Flatten a tensor image, subtract ``mean_vector``, multiply by a square matrix, reshape.

    With the matrix of a ZCA whitening (computed offline from the data's covariance) this
    whitens images. Batches of shape (..., C, H, W) are transformed image by image.

    Parameters
    ----------
    transformation_matrix : Tensor
        Square, of size ``C * H * W``.
    mean_vector : Tensor
        Of size ``C * H * W``, same dtype and device as the matrix.

    Raises
    ------
    ValueError
        For a non-square matrix, a mean vector of another length, dtype or device, or an
        image whose ``C * H * W`` differs from the matrix size.
    TypeError
        When the matrix, the mean vector or the input is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> swap = flambeau.tensor([[0.0, 1.0], [1.0, 0.0]])
    >>> T.LinearTransformation(swap, flambeau.tensor([1.0, 0.0]))(flambeau.tensor([[[3.0, 5.0]]]))
    tensor([[[5., 2.]]])
    """

    def __init__(self, transformation_matrix, mean_vector):
        matrix, mean = transformation_matrix, mean_vector
        for name, value in (("transformation_matrix", matrix), ("mean_vector", mean)):
            if not is_tensor(value):
                raise TypeError(f"LinearTransformation: {name} must be a tensor, got "
                                f"{type(value).__name__}")
        if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"LinearTransformation: transformation_matrix must be square, got "
                             f"shape {tuple(matrix.shape)}")
        if mean.dim() != 1 or mean.shape[0] != matrix.shape[0]:
            raise ValueError(f"LinearTransformation: mean_vector must be a vector of length "
                             f"{matrix.shape[0]} (the matrix size), got shape "
                             f"{tuple(mean.shape)}")
        if matrix.device != mean.device:
            raise ValueError(f"LinearTransformation: transformation_matrix and mean_vector must "
                             f"be on the same device, got {matrix.device} and {mean.device}")
        if matrix.dtype != mean.dtype:
            raise ValueError(f"LinearTransformation: transformation_matrix and mean_vector must "
                             f"have the same dtype, got {matrix.dtype} and {mean.dtype}")
        self.transformation_matrix, self.mean_vector = matrix, mean

    def forward(self, tensor):
        if not is_tensor(tensor):
            raise TypeError(f"LinearTransformation: expected a tensor image, got "
                            f"{type(tensor).__name__}")
        shape = tuple(tensor.shape)
        if len(shape) < 3:
            raise ValueError(f"LinearTransformation: expected a tensor image of shape "
                             f"(..., C, H, W), got shape {shape}")
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError(f"LinearTransformation: an image of shape {shape[-3:]} has "
                             f"{n} values but the transformation matrix is of size "
                             f"{self.transformation_matrix.shape[0]}")
        if tensor.device.type != self.mean_vector.device.type:
            raise ValueError(f"LinearTransformation: the image is on {tensor.device} but the "
                             f"mean vector on {self.mean_vector.device}")
        flat = tensor.reshape(-1, n) - self.mean_vector
        return flambeau.mm(flat, self.transformation_matrix.to(flat.dtype)).reshape(shape)

    def __repr__(self):
        return (f"LinearTransformation(transformation_matrix="
                f"{self.transformation_matrix.tolist()}, mean_vector={self.mean_vector.tolist()})")

"""Elastic deformation (Simard et al., 2003): elastic_transform and ElasticTransform."""

from __future__ import annotations

import numbers

import numpy as np

import flambeau
from flambeau._tensor import Tensor
from flambeau.nn import functional as NF
from flambeau.vision.transforms._base import Transform
from flambeau.vision.transforms._color import gaussian_blur
from flambeau.vision.transforms._geometry import InterpolationMode, _interp
from flambeau.vision.transforms._image import as_chw, get_dimensions, is_tensor

__all__ = ["elastic_transform", "ElasticTransform"]


def _identity_grid(h: int, w: int, dtype, device) -> Tensor:
    """(1, H, W, 2) pixel centres in grid_sample's [-1, 1] coordinates (align_corners=False)."""
    ys = flambeau.linspace((1 - h) / h, (h - 1) / h, h, dtype=dtype, device=device)
    xs = flambeau.linspace((1 - w) / w, (w - 1) / w, w, dtype=dtype, device=device)
    gy, gx = flambeau.meshgrid(ys, xs, indexing="ij")
    return flambeau.stack((gx, gy), dim=-1)[None]


def elastic_transform(img, displacement: Tensor, interpolation=InterpolationMode.BILINEAR,
                      fill=None):
    """Move each output pixel's sampling point by ``displacement`` (torchvision's semantics).

    Parameters
    ----------
    img : PIL Image, ndarray or Tensor
        Tensors of shape (..., C, H, W); differentiable with respect to a float tensor.
    displacement : Tensor
        (1, H, W, 2) offsets (x, y) in grid_sample's normalized coordinates, where the image
        spans [-1, 1]: an offset of ``2 / W`` moves by one pixel horizontally.
    interpolation : InterpolationMode
        NEAREST, BILINEAR or BICUBIC.
    fill : number or sequence, optional
        Value of pixels sampled outside the image (default 0).

    Returns
    -------
    The deformed image, of the input's kind and dtype (integers rounded).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision.transforms import functional as F
    >>> img = flambeau.arange(4.0).reshape(1, 1, 4)
    >>> shift = flambeau.zeros(1, 1, 4, 2)
    >>> shift[..., 0] = 0.5  # sample one pixel to the right (2 / W = 0.5)
    >>> F.elastic_transform(img, shift)
    tensor([[[1., 2., 3., 0.]]])
    """
    if not isinstance(displacement, Tensor):
        raise TypeError(f"elastic_transform: argument displacement should be a Tensor, got "
                        f"{type(displacement).__name__}")
    mode = _interp(interpolation, "elastic_transform")
    if mode.value not in ("nearest", "bilinear", "bicubic"):
        raise ValueError(f"elastic_transform: interpolation must be nearest, bilinear or "
                         f"bicubic, got {mode.value!r}")
    arr, _, restore = as_chw(img, "elastic_transform")
    x = img if is_tensor(img) else flambeau.tensor(np.ascontiguousarray(arr))
    if x.dim() == 2:
        x = x[None]
    c, h, w = x.shape[-3:]
    if tuple(displacement.shape) != (1, h, w, 2):
        raise ValueError(f"elastic_transform: argument displacement shape should be "
                         f"(1, {h}, {w}, 2), but given {tuple(displacement.shape)}")
    lead = tuple(x.shape[:-3])
    batch = x.reshape(-1, c, h, w)
    out_dtype = batch.dtype
    work = displacement.dtype if displacement.is_floating_point() else flambeau.float32
    if batch.dtype != work:
        batch = batch.to(work)
    displacement = displacement.to(device=batch.device, dtype=work)
    grid = (_identity_grid(h, w, work, batch.device) + displacement).expand(
        batch.shape[0], h, w, 2)
    if fill is not None:
        # one extra channel of ones tells how much of each output pixel came from inside
        batch = flambeau.cat((batch, flambeau.ones_like(batch[:, :1])), dim=1)
    out = NF.grid_sample(batch, grid, mode=mode.value, padding_mode="zeros",
                         align_corners=False)
    if fill is not None:
        out, inside = out[:, :-1], out[:, -1:]
        values = [float(v) for v in fill] if isinstance(fill, (list, tuple)) else [float(fill)]
        fill_img = flambeau.tensor(values, dtype=work, device=out.device).reshape(1, -1, 1, 1)
        if mode.value == "nearest":
            out = flambeau.where(inside < 0.5, fill_img, out)
        else:
            out = out * inside + (1.0 - inside) * fill_img
    if out_dtype != work:
        if not out_dtype.is_floating_point:
            out = out.round()
        out = out.to(out_dtype)
    out = out.reshape(*lead, c, h, w)
    if is_tensor(img):
        return out[0] if img.dim() == 2 else out
    return restore(out.cpu().numpy())


def _pair_of_floats(value, name: str):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [float(value), float(value)]
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"ElasticTransform: if {name} is a sequence its length should be "
                             f"2, got {len(value)}")
        return [float(v) for v in value]
    raise TypeError(f"ElasticTransform: {name} should be a float or a sequence of floats, got "
                    f"{type(value).__name__}")


class ElasticTransform(Transform):
    """Random elastic deformation: displacements drawn uniformly in [-1, 1] per pixel, blurred
    with a Gaussian of std ``sigma`` and scaled by ``alpha`` (in pixels, per axis x, y).

    Parameters
    ----------
    alpha : float or (float, float)
        Strength of the displacements (default 50).
    sigma : float or (float, float)
        Smoothness of the displacements (default 5).
    interpolation : InterpolationMode
    fill : number or sequence
        Value of pixels sampled outside the image (default 0).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.vision import transforms as T
    >>> T.ElasticTransform(alpha=10.0, sigma=3.0)(flambeau.ones(3, 32, 32)).shape
    flambeau.Size([3, 32, 32])
    >>> T.ElasticTransform()
    ElasticTransform(alpha=[50.0, 50.0], sigma=[5.0, 5.0], interpolation=bilinear, fill=[0.0])
    """

    _repr_names = ("alpha", "sigma", "interpolation", "fill")

    def __init__(self, alpha=50.0, sigma=5.0, interpolation=InterpolationMode.BILINEAR,
                 fill=0):
        self.alpha = _pair_of_floats(alpha, "alpha")
        self.sigma = _pair_of_floats(sigma, "sigma")
        self.interpolation = _interp(interpolation, "ElasticTransform")
        if isinstance(fill, numbers.Number):
            fill = [float(fill)]
        elif isinstance(fill, (list, tuple)):
            fill = [float(f) for f in fill]
        else:
            raise TypeError(f"ElasticTransform: fill should be a number or a sequence of "
                            f"numbers, got {type(fill).__name__}")
        self.fill = fill

    @staticmethod
    def get_params(alpha, sigma, size) -> Tensor:
        """A (1, H, W, 2) displacement for an image of ``size = [H, W]``."""
        parts = []
        for a, s, extent in zip(alpha, sigma, (size[1], size[0])):  # x, then y
            d = flambeau.rand([1, 1] + list(size)) * 2 - 1
            if s > 0.0:
                k = int(8 * s + 1)
                k += 1 - k % 2  # odd kernel
                d = gaussian_blur(d, [k, k], list(sigma))  # both sigmas, as torchvision's
            parts.append(d * a / extent)
        return flambeau.cat(parts, dim=1).permute(0, 2, 3, 1)

    def forward(self, img):
        channels, height, width = get_dimensions(img)
        fill = self.fill * channels if len(self.fill) == 1 else self.fill
        displacement = self.get_params(self.alpha, self.sigma, [height, width])
        return elastic_transform(img, displacement, self.interpolation, fill)

"""grid_sample (4-D and 5-D inputs) and affine_grid (4-D) for spatial transformers, as
PyTorch's.

Sampling is written with differentiable flambeau ops: integer tap positions come from the
detached coordinates (on the host), the interpolation weights from the coordinates
themselves, and the taps are gathered with advanced indexing, whose backward adds into the
input. Gradients with respect to both the input and the grid follow, to any order.
"""

from __future__ import annotations

import numpy as np

import flambeau
from flambeau import Tensor
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest")
_PADDING = ("zeros", "border", "reflection")


def _unnormalize(coord, size, align_corners):
    """[-1, 1] grid coordinates to pixel coordinates."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Reflect ``coord`` into [low, high] (bounds given doubled, as PyTorch's kernel)."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    extra = flambeau.fmod(dist, span)
    flips = np.floor(dist.detach().cpu().numpy() / span)
    even = flambeau.tensor(flips % 2 == 0, device=coord.device)
    return flambeau.where(even, extra + low, (span + low) - extra)


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather(input, *positions):
    """``input`` at the integer positions (one array of shape ``(N, *out)`` per spatial
    dimension: ``(yi, xi)``, or ``(zi, yi, xi)`` for volumes), zero outside:
    ``(N, C, *out)``."""
    n = input.shape[0]
    sizes = input.shape[2:]
    inside = np.ones(positions[0].shape, bool)
    for p, size in zip(positions, sizes):
        inside &= (p >= 0) & (p < size)
    out_dims = positions[0].ndim - 1
    rows = np.arange(n).reshape((n,) + (1,) * out_dims)
    device = input.device
    picked = input[(flambeau.tensor(rows, device=device), slice(None),
                    *(flambeau.tensor(np.clip(p, 0, size - 1), device=device)
                      for p, size in zip(positions, sizes)))]
    picked = picked.movedim(-1, 1)  # (N, *out, C) -> (N, C, *out)
    if inside.all():
        return picked
    return picked * flambeau.tensor(inside[:, None], dtype=input.dtype, device=device)


class _ZeroGradFor(Function):
    """``value`` itself, giving ``other`` a zero gradient: nearest sampling is piecewise
    constant in the grid, whose gradient PyTorch reports as zeros rather than none."""

    @staticmethod
    def forward(ctx, value, other):
        ctx.other_shape = other._data.shape
        return value._data

    @staticmethod
    def backward(ctx, g):
        return g, flambeau.zeros(ctx.other_shape, dtype=g.dtype, device=g.device)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` ``(N, C, H, W)`` at the ``[-1, 1]`` locations of ``grid``
    ``(N, Ho, Wo, 2)`` (x then y): ``(N, C, Ho, Wo)``.

    Parameters
    ----------
    input : Tensor
        A 4-D batch of images, or a 5-D batch of volumes ``(N, C, D, H, W)`` sampled at a
        grid ``(N, Do, Ho, Wo, 3)`` (x, y, z), trilinearly for ``'bilinear'``.
    grid : Tensor
        Sampling locations; -1 and 1 are the edges (pixel centres with ``align_corners``).
    mode : str
        ``'bilinear'`` or ``'nearest'`` (half-way locations round to even, as PyTorch).
    padding_mode : str
        ``'zeros'``, ``'border'`` or ``'reflection'``: what locations outside the input read.
    align_corners : bool
        Whether -1 and 1 are the centres of the corner pixels (default False).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> img = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> identity = F.affine_grid(flambeau.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 2, 2),
    ...                          align_corners=False)
    >>> F.grid_sample(img, identity, align_corners=False)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    op = "grid_sample"
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        raise TypeError(f"{op}: input and grid must be Tensors")
    refuse_complex(op, input, grid)  # as PyTorch's kernels
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {_MODES} (bicubic is not supported), got "
                         f"{mode!r}")
    if padding_mode not in _PADDING:
        raise ValueError(f"{op}: padding_mode must be one of {_PADDING}, got {padding_mode!r}")
    if input.ndim == 5:
        return _grid_sample_3d(op, input, grid, mode, padding_mode, bool(align_corners))
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or (
            grid.shape[0] != input.shape[0]):
        raise RuntimeError(
            f"{op}: expected input (N, C, H, W) and grid (N, H_out, W_out, 2) with the same N, "
            f"got input of shape {tuple(input.shape)} and grid of shape {tuple(grid.shape)}")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected grid to have the input's dtype {input.dtype}, got "
                           f"{grid.dtype}")
    align = bool(align_corners)
    _, _, h, w = input.shape
    x = _pad(_unnormalize(grid[..., 0], w, align), w, padding_mode, align)
    y = _pad(_unnormalize(grid[..., 1], h, align), h, padding_mode, align)
    if mode == "nearest":
        xi = np.rint(x.detach().cpu().numpy()).astype(np.int64)
        yi = np.rint(y.detach().cpu().numpy()).astype(np.int64)
        return _ZeroGradFor.apply(_gather(input, yi, xi), grid)
    x0 = np.floor(x.detach().cpu().numpy())
    y0 = np.floor(y.detach().cpu().numpy())
    fx = (x - flambeau.tensor(x0, dtype=x.dtype, device=x.device)).unsqueeze(1)
    fy = (y - flambeau.tensor(y0, dtype=y.dtype, device=y.device)).unsqueeze(1)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    top = _gather(input, y0, x0) * (1 - fx) + _gather(input, y0, x0 + 1) * fx
    bottom = _gather(input, y0 + 1, x0) * (1 - fx) + _gather(input, y0 + 1, x0 + 1) * fx
    return top * (1 - fy) + bottom * fy


def _grid_sample_3d(op, input, grid, mode, padding_mode, align):
    """:func:`grid_sample` of a volume ``(N, C, D, H, W)`` at ``grid`` ``(N, Do, Ho, Wo, 3)``
    (x, y, z): nearest, or trilinear (``mode='bilinear'``, as PyTorch names it)."""
    if grid.ndim != 5 or grid.shape[-1] != 3 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"{op}: expected input (N, C, D, H, W) and grid (N, D_out, H_out, W_out, 3) with "
            f"the same N, got input of shape {tuple(input.shape)} and grid of shape "
            f"{tuple(grid.shape)}")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected grid to have the input's dtype {input.dtype}, got "
                           f"{grid.dtype}")
    coords = [_pad(_unnormalize(grid[..., k], size, align), size, padding_mode, align)
              for k, size in enumerate(reversed(input.shape[2:]))]  # x, y, z
    x, y, z = coords
    if mode == "nearest":
        taps = [np.rint(c.detach().cpu().numpy()).astype(np.int64) for c in (z, y, x)]
        return _ZeroGradFor.apply(_gather(input, *taps), grid)
    floors = [np.floor(c.detach().cpu().numpy()) for c in (z, y, x)]
    fz, fy, fx = [(c - flambeau.tensor(f, dtype=c.dtype, device=c.device)).unsqueeze(1)
                  for c, f in zip((z, y, x), floors)]
    z0, y0, x0 = (f.astype(np.int64) for f in floors)

    def plane(zi):  # bilinear in (y, x) on the plane zi, as the 4-D case
        top = _gather(input, zi, y0, x0) * (1 - fx) + _gather(input, zi, y0, x0 + 1) * fx
        bottom = (_gather(input, zi, y0 + 1, x0) * (1 - fx)
                  + _gather(input, zi, y0 + 1, x0 + 1) * fx)
        return top * (1 - fy) + bottom * fy

    return plane(z0) * (1 - fz) + plane(z0 + 1) * fz


def _base_coords(steps, align_corners, like):
    if steps <= 1:
        return flambeau.zeros(steps, dtype=like.dtype, device=like.device)
    values = np.linspace(-1.0, 1.0, steps)
    if not align_corners:
        values = values * (steps - 1) / steps
    return flambeau.tensor(values, dtype=like.dtype, device=like.device)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid ``(N, H, W, 2)`` of the affine maps ``theta`` ``(N, 2, 3)`` for an
    output of ``size`` ``(N, C, H, W)``, for :func:`grid_sample`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> theta = flambeau.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> F.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    size = tuple(int(v) for v in size)
    if isinstance(theta, Tensor) and len(size) in (4, 5):
        dims = (2, 3) if len(size) == 4 else (3, 4)
        # PyTorch's order: the matrices' shape, then the sizes (a unit spatial size with
        # align_corners=True skips the latter: torch only warns there)
        if theta.ndim == 3 and tuple(theta.shape[1:]) == dims and not (
                align_corners and min(size[2:]) == 1) and min(size) <= 0:
            raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    return _affine_grid(theta, size, align_corners)


def _affine_grid(theta, size, align_corners):
    """:func:`affine_grid` without the check of the sizes (``affine_grid_generator``)."""
    op = "affine_grid"
    if not isinstance(theta, Tensor) or not theta.is_floating_point():
        raise TypeError(f"{op}: theta must be a floating point Tensor")
    size = tuple(int(v) for v in size)
    if len(size) == 5:
        raise NotImplementedError(f"{op}: 5-D sizes (volumetric grids) are not supported")
    if len(size) != 4 or tuple(theta.shape) != (size[0], 2, 3):
        raise ValueError(f"{op}: expected theta of shape (N, 2, 3) and size (N, C, H, W), got "
                         f"theta {tuple(theta.shape)} and size {size}")
    n, _, h, w = size
    align = bool(align_corners)
    xs = _base_coords(w, align, theta).reshape(1, w).expand(h, w)
    ys = _base_coords(h, align, theta).reshape(h, 1).expand(h, w)
    base = flambeau.stack([xs, ys, flambeau.ones(h, w, dtype=theta.dtype, device=theta.device)],
                          -1)
    grid = base.reshape(1, h * w, 3).matmul(theta.transpose(1, 2))  # (N, H*W, 2)
    return grid.reshape(n, h, w, 2)

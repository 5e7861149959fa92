"""Padding, resampling and patch ops: pad, interpolate, pixel/channel shuffles, unfold, fold.

Non-constant padding and nearest interpolation are index selections along each dim, and
(bi)linear interpolation is a product with a small interpolation matrix per dim, so their
gradients (of every order) come from the differentiable core ops. unfold/fold are the
window view of :mod:`._conv` and its adjoint.
"""

from __future__ import annotations

import math

import numpy as np

import flambeau
from flambeau._ops.shape import pad as constant_pad
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.autograd._function import Function
from flambeau.nn._complex import refuse_complex
from flambeau.nn.functional._conv import _ntuple, add_windows, out_sizes, pad_spatial, window_view
from flambeau.nn.functional._pool import _adaptive_avg

__all__ = [
    "channel_shuffle", "fold", "interpolate", "native_channel_shuffle", "pad", "pixel_shuffle",
    "pixel_unshuffle", "unfold", "upsample", "upsample_bilinear", "upsample_nearest",
]

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(mode, n, lo, hi):
    """Source positions (host array) of each output position along one padded dim."""
    idx = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        idx = np.abs(idx) % period if period else np.zeros_like(idx)
        return np.where(idx > n - 1, period - idx, idx)
    if mode == "replicate":
        return np.clip(idx, 0, n - 1)
    return idx % n  # circular


def pad(input, pad, mode="constant", value=None):  # noqa: A002 - PyTorch's name
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) from the last dim.

    Modes: ``'constant'`` (with ``value``, negative widths crop), ``'reflect'`` (mirror
    without repeating the edge), ``'replicate'`` (repeat the edge) and ``'circular'`` (wrap).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[[1.0, 2.0, 3.0]]])
    >>> F.pad(x, (2, 1), mode="reflect")
    tensor([[[3., 2., 1., 2., 3., 2.]]])
    >>> F.pad(x, (1, 1), mode="replicate")
    tensor([[[1., 1., 2., 3., 3.]]])
    >>> F.pad(x, (1, 1), mode="circular")
    tensor([[[3., 1., 2., 3., 1.]]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected input to be a Tensor, got {type(input).__name__}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unknown padding mode {mode!r}; expected one of "
                                  f"{', '.join(_PAD_MODES)}")
    if isinstance(value, complex):  # PyTorch's value is a float
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not "
                        f"{type(value).__name__}")
    if mode == "constant":
        return constant_pad(input, pad, value=value)
    pad = [int(p) for p in pad]
    nd = input._data.ndim
    npairs = len(pad) // 2
    if len(pad) % 2 or npairs > 3 or npairs > nd - 1:
        raise RuntimeError(
            f"pad: {mode} padding takes 2, 4 or 6 widths for 1, 2 or 3 trailing dims of a "
            f"batched or unbatched input, got {len(pad)} widths for input of shape "
            f"{tuple(input.shape)}"
        )
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: value is only used with mode='constant', not {mode!r}")
    out = input
    for i in range(npairs):
        dim = nd - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo == 0 and hi == 0:
            continue
        n = input._data.shape[dim]
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and (max(lo, hi) > limit or n == 0):
            raise RuntimeError(
                f"pad: {mode} padding ({lo}, {hi}) of dim {dim} must be at most {limit} for an "
                f"input of shape {tuple(input.shape)}"
            )
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"pad: cannot replicate-pad empty dim {dim} of shape "
                               f"{tuple(input.shape)}")
        index = flambeau.as_tensor(_pad_index(mode, n, max(lo, 0), max(hi, 0)),
                                   device=input.device)
        out = out.index_select(dim, index)
        if lo < 0 or hi < 0:
            size = out._data.shape[dim]
            out = out.narrow(dim, -min(lo, 0), size + min(lo, 0) + min(hi, 0))
    return out


# ------------------------------------------------------------------ interpolate


def _source_coords(out_size, in_size, scale, align_corners):
    """Continuous source coordinates of each output sample along one dim (host float64)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        if out_size == 1:
            return np.zeros(1)
        return dst * ((in_size - 1) / (out_size - 1))
    src = (dst + 0.5) * scale - 0.5
    return np.maximum(src, 0.0)


def _linear_matrix(out_size, in_size, scale, align_corners):
    """``(out, in)`` matrix of linear interpolation weights along one dim."""
    src = _source_coords(out_size, in_size, scale, align_corners)
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = src - lo
    m = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def _cubic_matrix(out_size, in_size, scale, align_corners, a=-0.75):
    """``(out, in)`` matrix of PyTorch's bicubic weights along one dim: Keys' cubic
    convolution with ``a = -0.75`` over four taps, indices clamped to the border."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        src = dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(1)
    else:
        src = (dst + 0.5) * scale - 0.5  # not clamped at 0, unlike the linear modes
    base = np.floor(src)
    t = src - base

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    m = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    for offset, w in ((-1, far(t + 1)), (0, near(t)), (1, near(1 - t)), (2, far(2 - t))):
        cols = np.clip(base.astype(np.int64) + offset, 0, in_size - 1)
        np.add.at(m, (rows, cols), w)
    return m


def _nearest_index(out_size, in_size, scale, exact):
    dst = np.arange(out_size, dtype=np.float64)
    src = np.floor((dst + 0.5) * scale) if exact else np.floor(dst * scale)
    return np.minimum(src.astype(np.int64), in_size - 1)


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an ``(N, C, *spatial)`` input.

    Modes: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D input), ``'bilinear'`` and
    ``'bicubic'`` (4-D), ``'trilinear'`` (5-D), with ``align_corners`` as in PyTorch, and
    ``'area'`` (adaptive average pooling to the output size).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[[1.0, 2.0]]])
    >>> F.interpolate(x, scale_factor=2, mode="nearest")
    tensor([[[1., 1., 2., 2.]]])
    >>> F.interpolate(x, size=3, mode="linear", align_corners=True)
    tensor([[[1.0000, 1.5000, 2.0000]]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected a Tensor, got {type(input).__name__}")
    refuse_complex("interpolate", input)  # as PyTorch's kernels, in every mode
    nd = input._data.ndim - 2
    if nd < 1 or nd > 3:
        raise ValueError(
            f"interpolate: expected a 3D, 4D or 5D input (N, C, *spatial), got shape "
            f"{tuple(input.shape)}"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in _MODE_DIMS:
        if _MODE_DIMS[mode] != nd:
            raise ValueError(
                f"interpolate: mode {mode!r} expects a {_MODE_DIMS[mode] + 2}D input, got "
                f"shape {tuple(input.shape)}"
            )
        align = bool(align_corners)
    elif mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners only applies to the linear modes "
                             f"(got mode {mode!r})")
        align = False
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported")
    spatial = input._data.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    if size is not None:
        out = _ntuple(size, nd, "size", "interpolate")
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        factors = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(
            scale_factor)
        if len(factors) != nd:
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} must have {nd} entries")
        out = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        scales = ([n / o for n, o in zip(spatial, out)] if recompute_scale_factor
                  else [1.0 / f for f in factors])
    if any(o <= 0 for o in out):
        raise ValueError(f"interpolate: output size {out} must be positive (input shape "
                         f"{tuple(input.shape)})")
    if mode == "area":
        return _adaptive_avg("interpolate", nd, input, out)
    if _autocast.active:  # upsampling is on torch's float32 autocast list (the CPU one)
        (input,) = _autocast.cast_inputs("fp32", input)
        return _autocast.not_cast(_resample)(input, mode, out, scales, align)  # products too
    return _resample(input, mode, out, scales, align)


def _resample(input, mode, out, scales, align):
    """``input`` resampled to the spatial size ``out`` by nearest or (bi/tri)linear/cubic
    weights, one spatial dimension at a time."""
    spatial = tuple(input.shape[2:])
    weights = _cubic_matrix if mode == "bicubic" else _linear_matrix
    x = input
    for i in range(len(out)):
        dim = 2 + i
        n, o, s = spatial[i], out[i], scales[i]
        if mode.startswith("nearest"):
            idx = _nearest_index(o, n, s, mode == "nearest-exact")
            x = x.index_select(dim, flambeau.as_tensor(idx, device=input.device))
        else:
            m = flambeau.as_tensor(weights(o, n, s, align), dtype=input.dtype,
                                   device=input.device)
            x = flambeau.matmul(x.movedim(dim, -1), m.T).movedim(-1, dim)
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` kept for old code.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.upsample(flambeau.ones(1, 1, 2), scale_factor=2).shape
    flambeau.Size([1, 1, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Nearest-neighbour upsampling (an alias of ``interpolate(mode='nearest')``).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.upsample_nearest(flambeau.ones(1, 1, 2, 2), scale_factor=2).shape
    flambeau.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with ``align_corners=True``, as PyTorch's deprecated function.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.upsample_bilinear(flambeau.ones(1, 1, 2, 2), size=3).shape
    flambeau.Size([1, 1, 3, 3])
    """
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


# ------------------------------------------------------------------ pixel shuffle


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.pixel_shuffle(flambeau.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    r = int(upscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle: expected an input of shape (*, C*{r}*{r}, H, W) with at least 3 "
            f"dims, got shape {tuple(input.shape)}"
        )
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Rearrange ``(*, C, H*r, W*r)`` into ``(*, C*r*r, H, W)`` (inverse of pixel_shuffle).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.pixel_unshuffle(flambeau.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
    tensor([0., 1., 2., 3.])
    """
    r = int(downscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-1] % r or input.shape[-2] % r:
        raise RuntimeError(
            f"pixel_unshuffle: expected an input of shape (*, C, H*{r}, W*{r}) with at least 3 "
            f"dims, got shape {tuple(input.shape)}"
        )
    *lead, c, h, w = input.shape
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


# ------------------------------------------------------------------ unfold / fold


def _channel_shuffle(op, input, groups):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"{op}: the number of groups must be a positive integer, got "
                           f"{groups!r}")
    if input.ndim < 3:
        raise RuntimeError(f"{op}: expected an input of shape (N, C, *) with more than 2 dims, "
                           f"got shape {tuple(input.shape)}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"{op}: the number of channels ({c}) must be divisible by groups "
                           f"({groups}) (input shape {tuple(input.shape)})")
    # (N, g, C/g, *) -> (N, C/g, g, *): channel j of group i moves to position j * g + i
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(input.shape)


def channel_shuffle(input, groups):
    """Split the channels (dim 1) of ``(N, C, *)`` into ``groups`` and interleave them.

    The output has the input's shape; its channel ``j * groups + i`` is channel
    ``i * (C // groups) + j`` of the input, as in ShuffleNet.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.channel_shuffle(flambeau.arange(6.0).reshape(1, 6, 1), 2).flatten()
    tensor([0., 3., 1., 4., 2., 5.])
    """
    return _channel_shuffle("channel_shuffle", input, groups)


def native_channel_shuffle(input, groups):
    """:func:`channel_shuffle` (PyTorch's name for its kernel without a quantized path).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.native_channel_shuffle(flambeau.arange(4.0).reshape(1, 4, 1, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    return _channel_shuffle("native_channel_shuffle", input, groups)


class _Unfold(Function):
    """``(N, C, H, W) -> (N, C*kh*kw, L)`` sliding blocks (im2col)."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        ctx.spatial = x._data.shape[2:]
        xp = x._device._xp
        pads = tuple((p, p) for p in padding)
        a = pad_spatial(xp, x._data, pads, first=2)
        out = out_sizes(x._data.shape[2:], kernel, stride, pads, dilation)
        view = window_view(xp, a, kernel, stride, dilation, out, first=2)  # (N, C, *out, *k)
        n, c = x._data.shape[:2]
        view = view.transpose(0, 1, 4, 5, 2, 3)
        return xp.ascontiguousarray(view).reshape(n, c * math.prod(kernel), math.prod(out))

    @staticmethod
    def backward(ctx, g):
        kernel, dilation, padding, stride = ctx.args
        return _Fold.apply(g, ctx.spatial, kernel, dilation, padding, stride), *(None,) * 4


class _Fold(Function):
    """``(N, C*kh*kw, L) -> (N, C, H, W)``, summing overlapping blocks (col2im)."""

    @staticmethod
    def forward(ctx, cols, output_size, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        xp = cols._device._xp
        pads = tuple((p, p) for p in padding)
        out = out_sizes(output_size, kernel, stride, pads, dilation)
        n, ck, _ = cols._data.shape
        c = ck // math.prod(kernel)
        a = cols._data.reshape((n, c) + tuple(kernel) + tuple(out)).transpose(0, 1, 4, 5, 2, 3)
        padded = (n, c) + tuple(s + 2 * p for s, p in zip(output_size, padding))
        res = add_windows(xp, a, padded, kernel, stride, dilation, out, first=2)
        crop = (slice(None), slice(None)) + tuple(slice(p, p + s) for s, p in
                                                  zip(output_size, padding))
        return res[crop]

    @staticmethod
    def backward(ctx, g):
        return _Unfold.apply(g, *ctx.args), *(None,) * 5


def _fold_args(op, kernel_size, dilation, padding, stride):
    args = tuple(_ntuple(v, 2, name, op) for v, name in (
        (kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"),
        (stride, "stride")))
    if any(v <= 0 for v in args[0] + args[1] + args[3]) or any(v < 0 for v in args[2]):
        raise ValueError(f"{op}: kernel_size, dilation and stride must be positive and padding "
                         f"non-negative, got {args}")
    return args


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: ``(N, C, H, W) -> (N, C*kh*kw, L)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.unfold(flambeau.ones(2, 3, 4, 4), kernel_size=2).shape
    flambeau.Size([2, 12, 9])
    """
    kernel, dilation, padding, stride = _fold_args("unfold", kernel_size, dilation, padding,
                                                   stride)
    unbatched = input.ndim == 3
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3D or 4D input, got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    pads = tuple((p, p) for p in padding)
    out = out_sizes(x.shape[2:], kernel, stride, pads, dilation)
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"unfold: kernel {kernel} with dilation {dilation} is larger than the padded input "
            f"(input shape {tuple(input.shape)}, padding {padding})"
        )
    y = _Unfold.apply(x, kernel, dilation, padding, stride)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image: ``(N, C*kh*kw, L) -> (N, C, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.fold(flambeau.ones(1, 4, 4), output_size=3, kernel_size=2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    output_size = _ntuple(output_size, 2, "output_size", "fold")
    kernel, dilation, padding, stride = _fold_args("fold", kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected a 2D or 3D input, got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    k = math.prod(kernel)
    out = out_sizes(output_size, kernel, stride, tuple((p, p) for p in padding), dilation)
    if x.shape[1] % k or x.shape[2] != math.prod(out):
        raise RuntimeError(
            f"fold: expected input of shape (N, C*{k}, {math.prod(out)}) for output_size "
            f"{output_size}, kernel_size {kernel}, got shape {tuple(input.shape)}"
        )
    y = _Fold.apply(x, output_size, kernel, dilation, padding, stride)
    return y.squeeze(0) if unbatched else y

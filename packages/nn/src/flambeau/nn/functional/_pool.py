"""Pooling: max/avg pooling over strided windows, adaptive pooling and max unpooling.

Max pooling keeps a running maximum (and its window offset) over the kernel positions of a
strided window view; its backward adds the gradient back at those offsets, one vectorized
pass per kernel position. Average
pooling sums windows (backward: the adjoint window sum). Adaptive pooling is separable, so it
is done one dim at a time: averaging is a product with an ``(out, in)`` matrix, max is a
gather of padded index windows.

Backends override ``"max_pool{n}d"`` ``(x, kernel, stride, padding, dilation) -> (y, arg)``
with padding given as (low, high) pairs and ``arg`` (any integer dtype) the row-major offset
of each maximum inside its window, and ``"max_pool{n}d_backward"`` ``(g, arg, input_shape,
kernel, stride, padding, dilation) -> gx``; either may return None for an input it does not
handle, and the generic code runs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import flambeau
from flambeau._ops._util import LOW_PRECISION_NP
from flambeau._ops.shape import pad as constant_pad
from flambeau._tensor import Tensor
from flambeau.autograd._function import Function, node_variant
from flambeau.nn._complex import NO_ORDER, refuse_complex
from flambeau.nn.functional._conv import (
    _batchify,
    _ntuple,
    add_windows,
    kernel_windows,
    out_sizes,
    pad_spatial,
    padded_sizes,
    window_view,
)

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool1d_with_indices",
    "max_pool2d", "max_pool2d_with_indices", "max_pool3d", "max_unpool1d", "max_unpool2d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "max_pool3d_with_indices", "max_unpool3d",
]


def check_nonempty(op, input, first):
    """PyTorch's pooling kernels take an empty batch but no other empty dim: raise if one of
    ``input``'s dims from ``first`` on is empty."""
    shape = tuple(input.shape)
    if 0 in shape[first:]:
        d = shape.index(0, first)
        raise RuntimeError(
            f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input "
            f"has sizes {list(shape)} with dimension {d} being empty"
        )


def _batch_dims(input, nd):
    """1 for a batched input (its first dim may be empty), 0 for an unbatched one."""
    return 1 if input.ndim == nd + 2 else 0


def pool_geometry(op, spatial, kernel_size, stride, padding, dilation, ceil_mode, nd):
    """``(kernel, stride, pads, dilation, out)`` with ceil_mode folded into the high pads."""
    kernel = _ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _ntuple(
        stride, nd, "stride", op)
    padding = _ntuple(padding, nd, "padding", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if any(v <= 0 for v in kernel + stride + dilation):
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got "
                         f"{kernel}, {stride}, {dilation}")
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got "
                f"padding {padding}, kernel_size {kernel} and dilation {dilation}"
            )
    out, pads = [], []
    for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        if o <= 0 or span < 0:
            raise RuntimeError(
                f"{op}: output size is too small (input spatial size {tuple(spatial)}, kernel "
                f"{kernel}, stride {stride}, padding {padding}, dilation {dilation})"
            )
        out.append(o)
        pads.append((p, p + max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))))
    return kernel, stride, tuple(pads), dilation, tuple(out)


# ------------------------------------------------------------------ max pooling


def _positions(kernel):
    return list(itertools.product(*(range(k) for k in kernel)))


def max_pool_forward(xp, x, kernel, stride, pads, dilation):
    """Generic max pooling: ``(y, arg)``, arg the offset of the max inside its window.

    A running maximum over the kernel positions keeps every pass vectorized over the whole
    output. Windows that tile the input are first copied out kernel-position-major, so
    every pass reads contiguous memory (NumPy's strided loops are several times slower).
    """
    if _tiles(kernel, stride, pads, dilation):
        stacked = xp.ascontiguousarray(_tile_view(x, kernel))
        stacked = stacked.reshape((-1,) + stacked.shape[len(kernel):])
        return _first_max(xp, stacked.__getitem__, len(stacked))
    low = -xp.inf if x.dtype.kind in "fV" else xp.iinfo(x.dtype).min
    a = pad_spatial(xp, x, pads, value=low, first=2)
    out = out_sizes(x.shape[2:], kernel, stride, pads, dilation)
    view = window_view(xp, a, kernel, stride, dilation, out, first=2)
    positions = _positions(kernel)
    y, arg = _first_max(xp, lambda k: view[(Ellipsis,) + positions[k]], len(positions))
    if bool((y == low).any()):  # rare: a window of lowest values may have picked padding
        arg = _skip_padding(xp, arg, x.shape[2:], kernel, stride, pads, dilation)
    return y, arg


def _skip_padding(xp, arg, spatial, kernel, stride, pads, dilation):
    """``arg`` with the windows whose maximum is a padding cell pointed at their first cell
    inside the input, as torch's kernel picks (padding only ever ties there: all of the
    window's values are the lowest)."""
    outside, first = None, 0
    for i, (start, pos) in enumerate(_window_cells(xp, arg, kernel, stride, pads, dilation)):
        off = (pos < 0) | (pos >= spatial[i])
        outside = off if outside is None else outside | off
        step = (xp.maximum(-start, 0) + dilation[i] - 1) // dilation[i]  # ceil(-start / d)
        first = first + step * math.prod(kernel[i + 1:])
    return xp.where(outside, first, arg.astype(xp.int64)).astype(arg.dtype)


def _first_max(xp, candidate, count):
    """Elementwise maximum of ``candidate(0..count-1)`` and the index of the first maximum.

    As in PyTorch's kernel, a NaN candidate wins (the last one, if several are NaN). The
    index is updated arithmetically (``arg += take * (k - arg)``): masked copies branch on
    every element and are an order of magnitude slower in NumPy.
    """
    best = candidate(0).copy()
    arg = xp.zeros(best.shape, dtype=xp.int8 if count < 128 else xp.int64)
    take = xp.empty(best.shape, dtype=bool)
    step = xp.empty_like(arg)

    def pick(k, where):
        xp.subtract(k, arg, out=step)
        xp.multiply(step, where, out=step)
        xp.add(arg, step, out=arg)

    for k in range(1, count):
        v = candidate(k)
        xp.greater(v, best, out=take)
        xp.maximum(best, v, out=best)  # NaN propagates, as in PyTorch
        pick(k, take)
    if best.dtype.kind in "fV" and bool(xp.isnan(best).any()):  # rare: redo for NaNs
        for k in range(count):
            xp.isnan(candidate(k), out=take)
            pick(k, take)
    return best, arg


def _tiles(kernel, stride, pads, dilation):
    """Whether the windows tile the input (stride == kernel, no padding or dilation): the
    common ``MaxPool2d(2)``, computed with reshapes instead of strided passes."""
    return (tuple(stride) == tuple(kernel) and all(d == 1 for d in dilation)
            and not any(lo or hi for lo, hi in pads))


def _tile_view(x, kernel):
    """View of the (cropped) tiles of ``x`` shaped ``(*kernel, N, C, *out)``: indexing it
    with a kernel position gives that position of every window."""
    nd = len(kernel)
    lead = x.shape[:-nd]
    out = tuple(n // k for n, k in zip(x.shape[-nd:], kernel))
    crop = x[(Ellipsis,) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    split = crop.reshape(lead + tuple(v for o, k in zip(out, kernel) for v in (o, k)))
    first = len(lead)
    order = (tuple(first + 2 * i + 1 for i in range(nd)) + tuple(range(first))
             + tuple(first + 2 * i for i in range(nd)))
    return split.transpose(order)


def _masked_by_position(xp, g):
    """``picked(mask, out)``: writes ``g`` where ``mask``, else 0, into ``out``. A product
    with the mask is branch-free, twice as fast as ``where``, but would turn an inf gradient
    into NaNs: such gradients take ``where``."""
    if g.dtype.kind in "fV" and not bool(xp.isfinite(g).all()):
        zero = xp.zeros((), dtype=g.dtype)

        def picked(mask, out):
            out[...] = xp.where(mask, g, zero)
            return out

        return picked
    return lambda mask, out: xp.multiply(g, mask, out=out)


def _max_pool_tiles_adjoint(xp, g, arg, kernel, input_shape):
    """Scatter each gradient to its window's maximum, for tiling windows."""
    res = xp.zeros(input_shape, dtype=g.dtype)
    view = _tile_view(res, kernel)
    picked = _masked_by_position(xp, g)
    for k, pos in enumerate(_positions(kernel)):
        picked(arg == k, view[pos])
    return res


def _window_cells(xp, arg, kernel, stride, pads, dilation):
    """Per spatial dim, ``(start, pos)``: where each window starts in the unpadded input
    (broadcastable over ``arg``) and the coordinate of the cell ``arg`` (an offset inside the
    window) names."""
    nd = len(kernel)
    out = arg.shape[2:]
    arg = arg.astype(xp.int64)
    for i in range(nd):
        k_i = (arg // math.prod(kernel[i + 1:])) % kernel[i]
        shape = (1,) * (2 + i) + (out[i],) + (1,) * (nd - 1 - i)
        start = (xp.arange(out[i]) * stride[i] - pads[i][0]).reshape(shape)
        yield start, start + k_i * dilation[i]


def flat_indices(xp, arg, spatial, kernel, stride, pads, dilation):
    """Flat position in each input plane of the window offsets ``arg`` (as PyTorch's)."""
    flat = None
    for i, (_, pos) in enumerate(_window_cells(xp, arg, kernel, stride, pads, dilation)):
        flat = pos if flat is None else flat * spatial[i] + pos
    return flat


class _MaxPool(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation, want_indices):
        nd = len(kernel)
        xp = x._device._xp
        if x._data.size == 0:  # an empty batch
            out = out_sizes(x._data.shape[2:], kernel, stride, pads, dilation)
            y = xp.empty(x._data.shape[:2] + out, dtype=x._data.dtype)
            done = y, xp.zeros(y.shape, dtype=xp.int8)
        else:
            done = x._device.backend.run_kernel(f"max_pool{nd}d", x._data, kernel, stride, pads,
                                                dilation)
        y, arg = done or max_pool_forward(xp, x._data, kernel, stride, pads, dilation)
        geo = (kernel, stride, pads, dilation)
        ctx.arg = Tensor._make(arg, x._device)
        ctx.geo, ctx.input_shape = geo, x._data.shape
        if not want_indices:
            return y
        indices = Tensor._make(flat_indices(xp, arg, x._data.shape[2:], *geo), x._device)
        ctx.mark_non_differentiable(indices)
        ctx.set_materialize_grads(False)  # backward reads the values' gradient only
        return y, indices

    @staticmethod
    def backward(ctx, g, _gi=None):
        gx = _MaxPoolAdjoint.apply(g, ctx.arg, ctx.geo, ctx.input_shape)
        return gx, None, None, None, None, None


class _MaxPoolAdjoint(Function):
    """Each gradient value added at the position of its window's maximum."""

    @staticmethod
    def forward(ctx, g, arg, geo, input_shape):
        ctx.arg, ctx.geo = arg, geo
        kernel, stride, pads, dilation = geo
        xp = g._device._xp
        if g._data.size == 0:
            return xp.zeros(input_shape, dtype=g._data.dtype)
        done = g._device.backend.run_kernel(f"max_pool{len(kernel)}d_backward", g._data,
                                            arg._data, input_shape, *geo)
        if done is not None:
            return done
        if _tiles(kernel, stride, pads, dilation):
            return _max_pool_tiles_adjoint(xp, g._data, arg._data, kernel, input_shape)
        padded = input_shape[:2] + padded_sizes(input_shape[2:], pads)
        res = xp.zeros(padded, dtype=g._data.dtype)
        out = g._data.shape[2:]
        a = arg._data
        lead = (slice(None), slice(None))
        picked, term = _masked_by_position(xp, g._data), xp.empty_like(g._data)
        for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
            res[lead + window] += picked(a == k, term)
        crop = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                                  zip(input_shape[2:], pads))
        return res[crop]

    @staticmethod
    def backward(ctx, gg):
        return _MaxPoolGather.apply(gg, ctx.arg, ctx.geo), None, None, None


class _MaxPoolGather(Function):
    """The value at each window's recorded maximum position (adjoint of the scatter)."""

    @staticmethod
    def forward(ctx, x, arg, geo):
        ctx.arg, ctx.geo, ctx.input_shape = arg, geo, x._data.shape
        kernel, stride, pads, dilation = geo
        xp = x._device._xp
        a = pad_spatial(xp, x._data, pads, first=2)
        view = window_view(xp, a, kernel, stride, dilation, arg._data.shape[2:], first=2)
        res = xp.zeros(arg._data.shape, dtype=x._data.dtype)
        for k, pos in enumerate(_positions(kernel)):
            xp.copyto(res, view[(Ellipsis,) + pos], where=arg._data == k)
        return res

    @staticmethod
    def backward(ctx, g):
        return _MaxPoolAdjoint.apply(g, ctx.arg, ctx.geo, ctx.input_shape), None, None


#: torch's nodes of 2-d and 3-d pooling (its 1-d one pools in 2-d between reshapes)
_MAX_POOL_NODES = {2: node_variant(_MaxPool, "MaxPool2DWithIndicesBackward0"),
                   3: node_variant(_MaxPool, "MaxPool3DWithIndicesBackward0")}


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              want_indices=True):
    x, unbatched = _batchify(op, input, nd)
    if x._data.dtype.kind == "c":
        refuse_complex(op, x, hint=NO_ORDER)
    check_nonempty(op, input, _batch_dims(input, nd))
    kernel, stride, pads, dilation, _ = pool_geometry(
        op, x._data.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, nd)
    if not want_indices:
        y = _MAX_POOL_NODES.get(nd, _MaxPool).apply(x, kernel, stride, pads, dilation, False)
        return y.squeeze(0) if unbatched else y
    y, idx = _MAX_POOL_NODES.get(nd, _MaxPool).apply(x, kernel, stride, pads, dilation, True)
    if unbatched:
        return y.squeeze(0), idx.squeeze(0)
    return y, idx


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """1-D max pooling returning ``(values, indices)``.

    The indices are always returned; ``return_indices`` is accepted (and ignored) as torch's.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool1d_with_indices(flambeau.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)[1]
    tensor([[[1, 2]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-D max pooling returning ``(values, indices)`` (flat positions in each H*W plane).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool2d_with_indices(flambeau.arange(16.0).reshape(1, 1, 4, 4), 2)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over ``(N, C, L)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool1d(flambeau.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[3., 2.]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over ``(N, C, H, W)``; ``stride`` defaults to ``kernel_size``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool2d(flambeau.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool3d(flambeau.ones(1, 1, 4, 4, 4), 2).shape
    flambeau.Size([1, 1, 2, 2, 2])
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-D max pooling returning ``(values, indices)`` (flat positions in each D*H*W volume)
    whatever ``return_indices``, as PyTorch's.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.max_pool3d_with_indices(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    (tensor([[[[[7.]]]]]), tensor([[[[[7]]]]]))
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)


# ------------------------------------------------------------------ average pooling


class _WindowSum(Function):
    """Sum of each window of an (already padded) input."""

    @staticmethod
    def forward(ctx, x, kernel, stride):
        ctx.args = (kernel, stride, x._data.shape)
        nd = len(kernel)
        out = out_sizes(x._data.shape[2:], kernel, stride, ((0, 0),) * nd, (1,) * nd)
        view = window_view(x._device._xp, x._data, kernel, stride, (1,) * nd, out, first=2)
        # one pass per kernel position over the output: NumPy reduces a short trailing
        # window axis several times slower than it adds whole slabs
        positions = _positions(kernel)
        a = x._data
        half = a.dtype in LOW_PRECISION_NP  # summed in float32 and rounded once, as torch's
        total = view[(Ellipsis,) + positions[0]].astype("float32" if half else a.dtype)
        for pos in positions[1:]:
            total += view[(Ellipsis,) + pos]
        return total.astype(a.dtype) if half else total

    @staticmethod
    def backward(ctx, g):
        kernel, stride, shape = ctx.args
        return _WindowSumAdjoint.apply(g, kernel, stride, shape), None, None


class _WindowSumAdjoint(Function):
    """Each output value added to every position of its window."""

    @staticmethod
    def forward(ctx, g, kernel, stride, shape):
        ctx.args = (kernel, stride)
        xp = g._device._xp
        nd = len(kernel)
        a = g._data
        cols = xp.broadcast_to(a.reshape(a.shape + (1,) * nd), a.shape + tuple(kernel))
        return add_windows(xp, cols, shape, kernel, stride, (1,) * nd, a.shape[2:], first=2)

    @staticmethod
    def backward(ctx, gg):
        return _WindowSum.apply(gg, *ctx.args), None, None, None


def _divisor(spatial, kernel, stride, pads, padding, out, count_include_pad):
    """Host array of per-output divisors (PyTorch's clipping rules)."""
    div = np.ones(())
    for n, k, s, p, o in zip(spatial, kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, n) - np.maximum(start, 0)
        div = np.multiply.outer(div, size)
    return div


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, unbatched = _batchify(op, input, nd)
    if not x.dtype.is_floating_point:
        refuse_complex(op, x)  # as PyTorch's kernels
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    check_nonempty(op, input, _batch_dims(input, nd))
    kernel, stride, pads, _, out = pool_geometry(
        op, x._data.shape[2:], kernel_size, stride, padding, 1, ceil_mode, nd)
    if any(lo or hi for lo, hi in pads):
        flat = [w for lo_hi in reversed(pads) for w in lo_hi]
        x = constant_pad(x, flat)
    y = _WindowSum.apply(x, kernel, stride)
    if divisor_override:
        y = y / divisor_override
    else:
        padding = _ntuple(padding, nd, "padding", op)
        div = _divisor(input.shape[-nd:], kernel, stride, pads, padding, out, count_include_pad)
        if np.all(div == div.flat[0]):
            y = y / float(div.flat[0])
        else:
            y = y / flambeau.as_tensor(div, dtype=y.dtype, device=y.device)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over ``(N, C, L)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.avg_pool1d(flambeau.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[2., 1.]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling; ``count_include_pad`` counts zero padding in the divisor.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.avg_pool2d(flambeau.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False)
    tensor([[[[1., 1.],
              [1., 1.]]]])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over ``(N, C, D, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.avg_pool3d(flambeau.ones(1, 1, 2, 2, 2), 2).flatten()
    tensor([1.])
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ------------------------------------------------------------------ adaptive pooling


def _bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_sizes(op, x, output_size, nd):
    spatial = x._data.shape[2:]
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    sizes = tuple(spatial[i] if v is None else int(v) for i, v in enumerate(output_size))
    if len(sizes) != nd or any(v <= 0 for v in sizes):
        raise ValueError(f"{op}: output_size must be {nd} positive ints (or None), got "
                         f"{output_size!r}")
    return sizes


def _adaptive_avg(op, nd, input, output_size):
    x, unbatched = _batchify(op, input, nd)
    refuse_complex(op, x)  # as PyTorch's kernels
    out = _adaptive_sizes(op, x, output_size, nd)
    if any(o != 1 for o in out):  # global pooling is a mean, empty dims included (as torch's)
        # PyTorch's 1-D and 2-D kernels take zero channels, the 3-D one does not
        check_nonempty(op, input, input.ndim - nd if nd < 3 else 1)
    if all(o == 1 for o in out):  # global pooling (ResNet's head): one mean, no matrices
        x = x.mean(tuple(range(2, 2 + nd)), keepdim=True)
        return x.squeeze(0) if unbatched else x
    for i, o in enumerate(out):
        dim = 2 + i
        n = x._data.shape[dim]
        if n == o:
            continue
        if n % o == 0:  # equal bins: a mean over each run of n // o
            x = x.unflatten(dim, (o, n // o)).mean(dim + 1)
            continue
        start, end = _bounds(n, o)
        cols = np.arange(n)
        m = ((cols >= start[:, None]) & (cols < end[:, None])) / (end - start)[:, None]
        m = flambeau.as_tensor(m, dtype=x.dtype, device=x.device)
        x = flambeau.matmul(x.movedim(dim, -1), m.T).movedim(-1, dim)
    return x.squeeze(0) if unbatched else x


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_avg_pool1d(flambeau.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``(H_out, W_out)`` (``None`` keeps a dim).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_avg_pool2d(flambeau.ones(2, 3, 7, 5), (1, 1)).shape
    flambeau.Size([2, 3, 1, 1])
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) to a fixed
    ``(D_out, H_out, W_out)`` (``None`` keeps a dim).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_avg_pool3d(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
    tensor([[[[[3.5000]]]]])
    >>> F.adaptive_avg_pool3d(flambeau.ones(2, 3, 5, 7, 4), (2, None, 3)).shape
    flambeau.Size([2, 3, 2, 7, 3])
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, nd, input, output_size, return_indices):
    x, unbatched = _batchify(op, input, nd)
    refuse_complex(op, x, hint=NO_ORDER)
    check_nonempty(op, input, 1)
    out = _adaptive_sizes(op, x, output_size, nd)
    spatial = x._data.shape[2:]
    positions = []  # absolute index along each dim, of the max of each current cell
    for i in reversed(range(nd)):
        dim = 2 + i
        n, o = spatial[i], out[i]
        start, end = _bounds(n, o)
        width = int((end - start).max())
        table = np.minimum(start[:, None] + np.arange(width), (end - 1)[:, None])
        index = flambeau.as_tensor(table.reshape(-1), device=x.device)
        gathered = x.index_select(dim, index)
        shape = list(gathered.shape)
        gathered = gathered.reshape(*shape[:dim], o, width, *shape[dim + 1:])
        x, arg = gathered.max(dim + 1)
        # argmax takes the first maximum, which is never one of the clipped repeats
        chosen = arg + flambeau.as_tensor(start.reshape((o,) + (1,) * (nd - 1 - i)),
                                          device=x.device)
        # earlier (later-dim) positions were per input row: pick the rows now chosen
        positions = [p.index_select(dim, index).reshape(*shape[:dim], o, width,
                                                        *shape[dim + 1:])
                     .gather(dim + 1, arg.unsqueeze(dim + 1)).squeeze(dim + 1)
                     for p in positions]
        positions.insert(0, chosen)
    if not return_indices:
        return x.squeeze(0) if unbatched else x
    flat = positions[0]
    for i in range(1, nd):
        flat = flat * spatial[i] + positions[i]
    if unbatched:
        return x.squeeze(0), flat.squeeze(0)
    return x, flat


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_max_pool1d(flambeau.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0]]]), 2)
    tensor([[[5., 4.]]])
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed ``(H_out, W_out)``; indices are flat positions in H*W.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_max_pool2d(flambeau.arange(16.0).reshape(1, 1, 4, 4), 1)
    tensor([[[[15.]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, D, H, W)`` to a fixed ``(D_out, H_out, W_out)``; indices are
    flat positions in D*H*W.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y, i = F.adaptive_max_pool3d(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), (1, 1, 2),
    ...                              return_indices=True)
    >>> y, i
    (tensor([[[[[6., 7.]]]]]), tensor([[[[[6, 7]]]]]))
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Adaptive 1-D max pooling returning ``(values, indices)`` whatever ``return_indices``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_max_pool1d_with_indices(flambeau.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0]]]), 2)
    (tensor([[[5., 4.]]]), tensor([[[1, 3]]]))
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Adaptive 2-D max pooling returning ``(values, indices)`` whatever ``return_indices``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_max_pool2d_with_indices(flambeau.arange(16.0).reshape(1, 1, 4, 4), 1)
    (tensor([[[[15.]]]]), tensor([[[[15]]]]))
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Adaptive 3-D max pooling returning ``(values, indices)`` whatever ``return_indices``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.adaptive_max_pool3d_with_indices(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
    (tensor([[[[[7.]]]]]), tensor([[[[[7]]]]]))
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


# ------------------------------------------------------------------ max unpooling


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    x, unbatched = _batchify(op, input, nd)
    refuse_complex(op, x)  # as PyTorch's kernels
    check_nonempty(op, input, 1)
    kernel = _ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else _ntuple(stride, nd, "stride", op)
    padding = _ntuple(padding, nd, "padding", op)
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                     zip(x.shape[2:], stride, padding, kernel))
    else:
        size = tuple(output_size)[-nd:]
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: indices shape {tuple(indices.shape)} must match input shape "
                           f"{tuple(input.shape)}")
    idx = indices.unsqueeze(0) if unbatched else indices
    n, c = x.shape[:2]
    planes = flambeau.zeros(n, c, math.prod(size), dtype=x.dtype, device=x.device)
    m = math.prod(x.shape[2:])  # not -1: ambiguous for an empty batch
    y = planes.scatter(2, idx.reshape(n, c, m), x.reshape(n, c, m)).reshape(n, c, *size)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool1d`: values put back at their indices, zeros elsewhere.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y, i = F.max_pool1d(flambeau.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool2d`.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y, i = F.max_pool2d(flambeau.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2).shape
    flambeau.Size([1, 1, 4, 4])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool3d`: values put back at their flat D*H*W positions.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> y, i = F.max_pool3d(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> F.max_unpool3d(y, i, 2).flatten()
    tensor([0., 0., 0., 0., 0., 0., 0., 7.])
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# ------------------------------------------------------------------ power-average pooling


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    refuse_complex(f"lp_pool{nd}d", input)  # as PyTorch's average pooling
    kernel = _ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    mean = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    # the sign and relu keep PyTorch's result (and gradient) where the mean is not positive
    return (mean.sign() * mean.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: ``(sum x**p)**(1/p)`` over each window.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.lp_pool1d(flambeau.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: ``(sum x**p)**(1/p)`` over each window.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.lp_pool2d(flambeau.ones(1, 1, 2, 2), 1, 2)
    tensor([[[[4.]]]])
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: ``(sum x**p)**(1/p)`` over each window.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.lp_pool3d(flambeau.ones(1, 1, 2, 2, 2), 2, 2).flatten()
    tensor([2.8284])
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)

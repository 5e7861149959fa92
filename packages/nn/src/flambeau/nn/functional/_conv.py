"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d as strided windows + one matmul.

The array work is done channels-last: the input is laid out ``(N, *spatial, C)`` so that the
window gather (im2col) copies contiguous runs of channels, then a single (batched over
groups) matrix product does the arithmetic. Results are returned as NC* views of
channels-last buffers, so a following convolution needs no copy to get back to that layout.

Three linear maps close under differentiation: the convolution ``y = conv(x, w)``, its
adjoint in ``x`` (the input gradient, which is also the transposed convolution) and its
adjoint in ``w`` (the weight gradient). Each is a :class:`~flambeau.autograd.Function` whose
backward calls the other two, so gradients of any order exist. The three maps are bilinear
on complex tensors too: a backward passes the conjugate of its saved operand (PyTorch's
convention, ``grad_x = conv^T(g, conj(w))``), so array kernels never conjugate.

Backends override the array kernels by name in ``backend.kernels``:

- ``"conv{n}d"``: ``(x, w, stride, padding, dilation, groups) -> y``
- ``"conv{n}d_backward_input"``: ``(g, w, input_shape, stride, padding, dilation, groups)``
- ``"conv{n}d_backward_weight"``: ``(x, g, weight_shape, stride, padding, dilation, groups)``

where ``padding`` is a tuple of ``(low, high)`` pairs, one per spatial dimension.
"""

from __future__ import annotations

import functools
import itertools
import math

from flambeau._ops._util import LOW_PRECISION_NP
from flambeau._ops.elementwise import _conj
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.autograd import _forward
from flambeau.autograd._function import Function

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "conv_tbc",
]


# ------------------------------------------------------------------ argument helpers



def _same_dtype(arr, dtype):
    """NumPy multiplies bfloat16 matrices in float32: keep the operands' dtype."""
    return arr if arr.dtype == dtype else arr.astype(dtype)

def _ntuple(value, n, name, op):
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if value.__class__ is tuple and len(value) == n and all(v.__class__ is int for v in value):
        return value  # what the modules hold: no copy
    try:
        t = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return t


def _shape(t):
    return tuple(t._data.shape)


def _kernel(device, name, arr):
    """The backend's kernel ``name`` for ``arr``'s dtype: complex arrays take the generic
    path (the kernels' contract covers the real floating dtypes)."""
    return None if arr.dtype.kind == "c" else device.backend.kernels.get(name)


def _batchify(op, input, nd, what="input"):
    """``(input, was_unbatched)``: an unbatched ``(C, *spatial)`` input gets a batch dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected {what} to be a Tensor, got {type(input).__name__}")
    if input._data.ndim == nd + 2:
        return input, False
    if input._data.ndim == nd + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(
        f"{op}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, got "
        f"{input._data.ndim}D input of shape {_shape(input)}"
    )


# ------------------------------------------------------------------ array kernels (xp)


def out_sizes(spatial, kernel, stride, padding, dilation):
    """Output spatial sizes of a window op with ``padding`` as (low, high) pairs."""
    return tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, padding, dilation)
    )


def pad_spatial(xp, a, padding, value=0, first=1, channels_last=False):
    """``a`` with spatial dims (from axis ``first``) padded by (low, high) pairs."""
    if not any(lo or hi for lo, hi in padding):
        return a
    nd = len(padding)
    lead = a.shape[:first]
    spatial = a.shape[first:first + nd]
    tail = a.shape[first + nd:]
    shape = lead + padded_sizes(spatial, padding) + tail
    out = xp.full(shape, value, dtype=a.dtype)
    index = (slice(None),) * first + tuple(slice(lo, lo + n) for n, (lo, _) in
                                            zip(spatial, padding))
    out[index] = a
    return out


def window_view(xp, a, kernel, stride, dilation, out, first=1):
    """A strided view ``(*lead, *out, *kernel, *tail)`` of the windows of ``a``.

    The spatial dims of ``a`` start at axis ``first``; no data is copied.
    """
    nd = len(kernel)
    st = a.strides
    sp = st[first:first + nd]
    shape = a.shape[:first] + tuple(out) + tuple(kernel) + a.shape[first + nd:]
    strides = (st[:first] + tuple(s * t for s, t in zip(sp, stride))
               + tuple(s * d for s, d in zip(sp, dilation)) + st[first + nd:])
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def add_windows(xp, cols, padded, kernel, stride, dilation, out, first=1):
    """The adjoint of :func:`window_view`: add window values back into an array.

    ``cols`` has shape ``(*lead, *out, *kernel, *tail)``; the result has shape ``padded``
    (spatial dims from axis ``first``). Loops over kernel positions only.
    """
    res = xp.zeros(padded, dtype=cols.dtype)
    nd = len(kernel)
    lead = (slice(None),) * first
    for pos, window in kernel_windows(kernel, stride, dilation, out):
        res[lead + window] += cols[lead + (slice(None),) * nd + pos]
    return res


def padded_sizes(spatial, padding):
    """Spatial sizes after padding by ``(low, high)`` pairs."""
    return tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))


def kernel_windows(kernel, stride, dilation, out):
    """``(position, slices)`` per kernel position: the slices pick, from the padded spatial
    dims, the input element each output element meets at that position."""
    for pos in itertools.product(*(range(k) for k in kernel)):
        yield pos, tuple(slice(p * d, p * d + s * (o - 1) + 1, s)
                         for p, d, s, o in zip(pos, dilation, stride, out))


def channels_last(xp, a):
    """``(N, C, *S)`` array as a C-contiguous ``(N, *S, C)`` one (free if already laid so)."""
    return xp.ascontiguousarray(xp.moveaxis(a, 1, -1))


def _im2col(xp, x, kernel, stride, padding, dilation, groups, channel_major=False):
    """``(cols, out)``: cols ``(G, N*L, K*Cg)`` gathered from channels-last input windows
    (``(G, N*L, Cg*K)``, the weight's own order, when ``channel_major``)."""
    n, c = x.shape[:2]
    nd = len(kernel)
    xl = pad_spatial(xp, channels_last(xp, x), padding)
    out = out_sizes(x.shape[2:], kernel, stride, padding, dilation)
    cg = c // groups
    xl = xl.reshape(xl.shape[:-1] + (groups, cg))
    view = window_view(xp, xl, kernel, stride, dilation, out)  # (N, *out, *k, G, Cg)
    view = xp.moveaxis(view, 1 + 2 * nd, 0)  # (G, N, *out, *k, Cg)
    if channel_major:
        view = xp.moveaxis(view, -1, 2 + nd)  # (G, N, *out, Cg, *k)
    cols = xp.ascontiguousarray(view).reshape(groups, n * math.prod(out), -1)
    return cols, out


# Few rows (N*L: small images late in a network) against many output channels make the
# weight-sized reorders of the (K, Cg) layout (the forward's weight matrix, the weight
# gradient's transpose, the input gradient's product with a strided weight) cost more than
# the products: windows gathered in the weight's own (Cg, K) order need none of them, for
# a gather with short runs over an array smaller than the weight (ResNet-18's last blocks on
# 28x28 MNIST, batch 32: 32 rows against 512 channels, 2x faster).


def _channel_major(rows, co, groups):
    """Whether a convolution with ``rows`` = N*L output positions and ``co`` output channels
    gathers its windows in the weight's (Cg, K) order."""
    return rows < co // groups


def _weight_matrix(xp, w, groups):
    """``(G, Cout/G, K*Cg)`` from an ``(Cout, Cg, *k)`` weight, channels innermost."""
    co, cg = w.shape[:2]
    wl = xp.moveaxis(w.reshape(groups, co // groups, cg, -1), 2, 3)
    return xp.ascontiguousarray(wl).reshape(groups, co // groups, -1)


def _from_groups(xp, y, n, out):
    """``(G, N*L, Co)`` → an ``(N, G*Co, *out)`` view of a channels-last buffer."""
    g, _, co = y.shape
    if g == 1:
        y = y[0]
    else:
        y = xp.ascontiguousarray(y.transpose(1, 0, 2))
    # a C-contiguous (N, C, *out) result, as PyTorch's: code calls .view() on conv outputs
    return xp.ascontiguousarray(xp.moveaxis(y.reshape((n,) + tuple(out) + (g * co,)), -1, 1))


def _to_groups(xp, g, groups, gl=None):
    """``(N, Cout, *out)`` gradient (or its channels-last copy ``gl``) → ``(G, N*L, Cout/G)``.
    A half-type ``gl`` takes ``g``'s dtype (float32 in :func:`_rounded_once`): exact."""
    gl = channels_last(xp, g) if gl is None else gl.astype(g.dtype, copy=False)
    co = gl.shape[-1]
    if groups == 1:
        return gl.reshape(1, -1, co)
    return gl.reshape(-1, groups, co // groups).transpose(1, 0, 2)


# With few input channels (an image's 1 or 3), gathering windows channels-last gives short
# runs and the product then needs a transposing copy of the large output into NCHW; such
# convolutions instead gather in the input's own layout, ``cols`` ``(N, C*K, L)``, and multiply
# per sample, which writes NCHW directly (4x faster for LeNet's and ResNet's first layers).
_FEW_CHANNELS = 4


def _nchw_direct(c, groups):
    """Whether a convolution over ``c`` input channels uses the NCHW-layout products."""
    return groups == 1 and c <= _FEW_CHANNELS


def _im2col_nchw(xp, x, kernel, stride, padding, dilation):
    """``(cols, out)``: cols ``(N, C*K, L)`` gathered from the windows of an NCHW input."""
    n, c = x.shape[:2]
    nd = len(kernel)
    out = out_sizes(x.shape[2:], kernel, stride, padding, dilation)
    view = window_view(xp, pad_spatial(xp, x, padding, first=2), kernel, stride, dilation, out,
                       first=2)  # (N, C, *out, *k)
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    cols = xp.ascontiguousarray(view.transpose(order))
    return cols.reshape(n, c * math.prod(kernel), math.prod(out)), out


# A depthwise convolution (one input and one output channel per group, MobileNet's) is a
# weighted sum of K shifted copies of the input: K multiply-adds over channels-last arrays
# are 4x faster than im2col's products of G one-channel matrices.


def _depthwise(c, co, groups):
    """Whether a convolution of ``c`` to ``co`` channels in ``groups`` is depthwise."""
    return groups > 1 and c == groups == co


def _rounded_once(kernel):
    """``kernel(xp, a, b, *rest)`` with float16/bfloat16 operands computed in float32 and the
    result rounded once, as im2col's products (and torch's kernels) are."""

    @functools.wraps(kernel)
    def run(xp, a, b, *rest):
        if a.dtype not in LOW_PRECISION_NP:
            return kernel(xp, a, b, *rest)
        return kernel(xp, a.astype("float32"), b.astype("float32"), *rest).astype(a.dtype)

    return run


# With few output channels (an image generator's last, RGB layer) and many input channels,
# im2col's window matrix is K*C/Co times larger than the result. Stride-1 convolutions then
# multiply the padded input by the weight once, ``Z = x (N*P, C) @ W (C, K*Co)``, giving every
# kernel position's product at every input position, and add each position's shifted share:
# ``y = sum_k shift_k(Z[..., k, :])``. The adjoints use the same small array the other way:
# ``Y[..., k, :] = unshift_k(g)``, then ``dx = Y @ W^T`` and ``dw = x^T @ Y``
# (fast neural style's 32 -> 3 channel 9x9 layer at 48x48: 3x faster). The forward keeps its
# padded channels-last input for the weight gradient (as im2col's paths keep their windows),
# and a backward that needs both gradients builds ``Y`` once for the two.


def _few_outputs(c, co, groups, stride):
    """Whether a convolution of ``c`` to ``co`` channels uses the few-outputs products."""
    return (groups == 1 and co <= _FEW_CHANNELS < c
            and all(s == 1 for s in stride))


def _weight_by_input(xp, w):
    """``(C, K*Co)`` from an ``(Co, C, *k)`` weight: row ``c`` holds ``w[:, c, k]`` by k."""
    co, c = w.shape[:2]
    return xp.ascontiguousarray(xp.moveaxis(w.reshape(co, c, -1), 0, -1)).reshape(c, -1)


def _shifted_grads(xp, g, padded, kernel, dilation):
    """``Y`` ``(N, *padded, K, Co)``: at kernel position k, the gradient of each output where
    the input element it meets there lies (zero elsewhere)."""
    gl = channels_last(xp, g)  # (N, *out, Co)
    n, co = gl.shape[0], gl.shape[-1]
    y = xp.zeros((n,) + tuple(padded) + (math.prod(kernel), co), dtype=g.dtype)
    ones = (1,) * len(kernel)
    for k, (_, window) in enumerate(kernel_windows(kernel, ones, dilation, g.shape[2:])):
        y[(slice(None),) + window + (k,)] = gl
    return y


@_rounded_once
def _few_outputs_forward(xp, xl, w, out, dilation):
    """The convolution of the padded channels-last input ``xl`` (N, *padded, C)."""
    kernel, co = w.shape[2:], w.shape[0]
    z = _same_dtype(xp.matmul(xl.reshape(-1, xl.shape[-1]), _weight_by_input(xp, w)), xl.dtype)
    z = z.reshape(xl.shape[:-1] + (math.prod(kernel), co))
    y = None
    for k, (_, window) in enumerate(kernel_windows(kernel, (1,) * len(kernel), dilation, out)):
        share = z[(slice(None),) + window + (k,)]
        y = share.copy() if y is None else xp.add(y, share, out=y)
    return xp.ascontiguousarray(xp.moveaxis(y, -1, 1))


def _few_outputs_input_grad(xp, g, w, input_shape, padding, dilation, y=None):
    if y is None:
        y = _shifted_grads(xp, g, padded_sizes(input_shape[2:], padding), w.shape[2:], dilation)
    dx = _same_dtype(xp.matmul(y.reshape(-1, y.shape[-1] * y.shape[-2]),
                               _weight_by_input(xp, w).T), g.dtype)
    return _crop_channels_last(xp, dx.reshape(y.shape[:-2] + (-1,)), input_shape, padding)


@_rounded_once
def _few_outputs_weight_grad(xp, xl, g, weight_shape, dilation, y=None):
    """The weight adjoint from the padded channels-last input ``xl`` (N, *padded, C)."""
    co, c = weight_shape[:2]
    if y is None:
        y = _shifted_grads(xp, g, xl.shape[1:-1], weight_shape[2:], dilation)
    gw = _same_dtype(xl.reshape(-1, c).T @ y.reshape(-1, y.shape[-1] * y.shape[-2]), xl.dtype)
    return xp.ascontiguousarray(xp.moveaxis(gw.reshape(c, -1, co), -1, 0)).reshape(weight_shape)


@_rounded_once
def _depthwise_forward(xp, x, w, stride, padding, dilation):
    """``y[n, c] = sum_k window_k(x)[n, c] * w[c, 0, k]``, as an NCHW-contiguous array."""
    kernel = w.shape[2:]
    out = out_sizes(x.shape[2:], kernel, stride, padding, dilation)
    xl = pad_spatial(xp, channels_last(xp, x), padding)  # (N, *padded, C)
    wk = w.reshape(w.shape[0], -1)
    y = term = None
    for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
        if y is None:
            y = xl[(slice(None),) + window] * wk[:, k]
        else:
            term = xp.multiply(xl[(slice(None),) + window], wk[:, k], out=term)
            y += term
    return xp.ascontiguousarray(xp.moveaxis(y, -1, 1))


def _depthwise_input_grad(xp, g, w, input_shape, stride, padding, dilation):
    """The adjoint of :func:`_depthwise_forward` in its input."""
    kernel, out = w.shape[2:], g.shape[2:]
    gl = channels_last(xp, g)
    wk = w.reshape(w.shape[0], -1)
    padded = padded_sizes(input_shape[2:], padding)
    res = xp.zeros(input_shape[:1] + padded + input_shape[1:2], dtype=g.dtype)
    term = None
    for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
        term = xp.multiply(gl, wk[:, k], out=term)
        res[(slice(None),) + window] += term
    return _crop_channels_last(xp, res, input_shape, padding)


@_rounded_once
def _depthwise_weight_grad(xp, x, g, weight_shape, stride, padding, dilation):
    """The adjoint of :func:`_depthwise_forward` in its weight."""
    kernel, out = weight_shape[2:], g.shape[2:]
    xl = pad_spatial(xp, channels_last(xp, x), padding)
    gl = channels_last(xp, g)
    gw = xp.empty((weight_shape[0], math.prod(kernel)), dtype=g.dtype)
    summed = tuple(range(gl.ndim - 1))
    term = None
    for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
        term = xp.multiply(xl[(slice(None),) + window], gl, out=term)
        gw[:, k] = term.sum(summed)
    return gw.reshape(weight_shape)


def _shared_grad(xp, g, x_shape, w_shape, geo, cols):
    """What both generic adjoints of a convolution read of its output gradient ``g``, for a
    backward that needs the two (``cols`` not None: the generic forward ran): the few-outputs
    path's shifted gradients, im2col's channels-last ``g``; None where they read ``g``
    itself (the NCHW and depthwise paths)."""
    c, co = x_shape[1], w_shape[0]
    if _depthwise(c, co, geo.groups) or _nchw_direct(c, geo.groups):
        return None
    if _few_outputs(c, co, geo.groups, geo.stride):
        return _shifted_grads(xp, g, cols.shape[1:-1], w_shape[2:], geo.dilation)
    return channels_last(xp, g)


def conv_forward(xp, x, w, stride, padding, dilation, groups):
    """Generic N-d convolution forward: ``(y, cols)`` (cols, kept for the weight gradient,
    are None where it does not use them; the padded channels-last input for few outputs)."""
    if _depthwise(x.shape[1], w.shape[0], groups):
        return _depthwise_forward(xp, x, w, stride, padding, dilation), None
    if _nchw_direct(x.shape[1], groups):
        cols, out = _im2col_nchw(xp, x, w.shape[2:], stride, padding, dilation)
        y = _same_dtype(xp.matmul(w.reshape(w.shape[0], -1), cols), cols.dtype)
        return y.reshape(y.shape[:2] + out), cols
    if _few_outputs(x.shape[1], w.shape[0], groups, stride):
        xl = pad_spatial(xp, channels_last(xp, x), padding)  # (N, *padded, C)
        out = out_sizes(x.shape[2:], w.shape[2:], stride, padding, dilation)
        return _few_outputs_forward(xp, xl, w, out, dilation), xl
    kernel = w.shape[2:]
    rows = x.shape[0] * math.prod(out_sizes(x.shape[2:], kernel, stride, padding, dilation))
    major = _channel_major(rows, w.shape[0], groups)
    cols, out = _im2col(xp, x, kernel, stride, padding, dilation, groups, major)
    if major:
        wm = w.reshape(groups, w.shape[0] // groups, -1)
    else:
        wm = _weight_matrix(xp, w, groups)
    y = _same_dtype(xp.matmul(cols, wm.transpose(0, 2, 1)), cols.dtype)
    return _from_groups(xp, y, x.shape[0], out), cols


@_rounded_once
def conv_backward_input(xp, g, w, input_shape, stride, padding, dilation, groups,
                        shared=None):
    """Generic adjoint of the convolution in its input (also the transposed convolution).
    ``shared``: :func:`_shared_grad` of ``g``, where a backward built it for both adjoints.

    One small matrix product per kernel position gives each position's contribution as a
    contiguous block, added into the (channels-last) input gradient with long inner runs.
    Half types are computed in float32: adding the kernel positions' shares in the half type
    rounded once per position (25 times for a 5x5 kernel).
    """
    n, c = input_shape[:2]
    kernel = w.shape[2:]
    out = g.shape[2:]
    co, cg = w.shape[:2]
    if _depthwise(c, co, groups):
        return _depthwise_input_grad(xp, g, w, input_shape, stride, padding, dilation)
    if _nchw_direct(c, groups):
        return _conv_input_nchw(xp, g, w, input_shape, stride, padding, dilation)
    if _few_outputs(c, co, groups, stride):
        return _few_outputs_input_grad(xp, g, w, input_shape, padding, dilation, shared)
    k_total = math.prod(kernel)
    gg = _to_groups(xp, g, groups, shared)  # (G, NL, Co/G)
    if _channel_major(gg.shape[1], co, groups):
        return _conv_input_channel_major(xp, gg, w, input_shape, stride, padding, dilation)
    wk = xp.moveaxis(w.reshape(groups, co // groups, cg, k_total), 3, 1)  # (G, K, Co/G, Cg)
    dk = _same_dtype(xp.matmul(gg[:, None], wk), g.dtype)  # (G, K, NL, Cg)
    dk = xp.moveaxis(dk, 0, -2)  # (K, NL, G, Cg)
    if groups > 1:
        dk = xp.ascontiguousarray(dk)
    dk = dk.reshape((k_total, n) + tuple(out) + (c,))
    padded = padded_sizes(input_shape[2:], padding)
    res = xp.zeros((n,) + padded + (c,), dtype=dk.dtype)
    for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
        res[(slice(None),) + window] += dk[k]
    return _crop_channels_last(xp, res, input_shape, padding)


def _conv_input_channel_major(xp, gg, w, input_shape, stride, padding, dilation):
    """The input adjoint through the (Cg, K) window layout of :func:`_channel_major`: one
    product with the weight as it lies, then each kernel position's (strided) share."""
    n, c = input_shape[:2]
    groups, _, cog = gg.shape
    kernel = w.shape[2:]
    out = out_sizes(input_shape[2:], kernel, stride, padding, dilation)
    dcols = _same_dtype(xp.matmul(gg, w.reshape(groups, cog, -1)), gg.dtype)  # (G, NL, Cg*K)
    dcols = dcols.reshape((groups, n) + tuple(out) + (c // groups, math.prod(kernel)))
    dcols = xp.moveaxis(dcols, 0, -3)  # (N, *out, G, Cg, K)
    padded = padded_sizes(input_shape[2:], padding)
    res = xp.zeros((n,) + padded + (c,), dtype=dcols.dtype)
    for k, (_, window) in enumerate(kernel_windows(kernel, stride, dilation, out)):
        res[(slice(None),) + window] += dcols[..., k].reshape((n,) + tuple(out) + (c,))
    return _crop_channels_last(xp, res, input_shape, padding)


def _crop_channels_last(xp, res, input_shape, padding):
    """The ``(N, C, *spatial)`` view of the unpadded part of a channels-last gradient."""
    crop = (slice(None),) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                  zip(input_shape[2:], padding))
    return xp.moveaxis(res[crop], -1, 1)


def _conv_input_nchw(xp, g, w, input_shape, stride, padding, dilation):
    """The input adjoint in the NCHW layout of :func:`_im2col_nchw` (few input channels)."""
    n, c = input_shape[:2]
    kernel, out = w.shape[2:], g.shape[2:]
    gcols = xp.matmul(w.reshape(w.shape[0], -1).T, g.reshape(n, g.shape[1], -1))
    gcols = _same_dtype(gcols, g.dtype).reshape((n, c) + tuple(kernel) + tuple(out))
    padded = padded_sizes(input_shape[2:], padding)
    res = xp.zeros((n, c) + padded, dtype=gcols.dtype)
    lead = (slice(None), slice(None))
    for pos, window in kernel_windows(kernel, stride, dilation, out):
        res[lead + window] += gcols[lead + pos]
    crop = (slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                              zip(input_shape[2:], padding))
    return res[crop]


def conv_backward_weight(xp, x, g, weight_shape, stride, padding, dilation, groups, cols=None,
                         shared=None):
    """Generic adjoint of the convolution in its weight (``cols`` and ``shared``: what
    :func:`conv_forward` kept and :func:`_shared_grad` built, where available)."""
    if _depthwise(x.shape[1], weight_shape[0], groups):
        return _depthwise_weight_grad(xp, x, g, weight_shape, stride, padding, dilation)
    if _nchw_direct(x.shape[1], groups):
        if cols is None:
            cols, _ = _im2col_nchw(xp, x, weight_shape[2:], stride, padding, dilation)
        n, co = g.shape[:2]
        gw = xp.matmul(g.reshape(n, co, -1), cols.transpose(0, 2, 1)).sum(0)
        return _same_dtype(gw, x.dtype).reshape(weight_shape)
    if _few_outputs(x.shape[1], weight_shape[0], groups, stride):
        if cols is None:
            cols = pad_spatial(xp, channels_last(xp, x), padding)
        return _few_outputs_weight_grad(xp, cols, g, weight_shape, dilation, shared)
    gg = _to_groups(xp, g, groups, shared)
    major = _channel_major(gg.shape[1], weight_shape[0], groups)
    if cols is None:
        cols, _ = _im2col(xp, x, weight_shape[2:], stride, padding, dilation, groups, major)
    # g^T @ cols gives (Co, K, Cg) rows: putting each output channel's (K, Cg) block in the
    # weight's (Cg, K) order is a transpose within blocks that stay in cache (5x faster than
    # reordering a (K, Cg, Co) product, the largest cost of a deep layer's backward)
    if groups == 1:
        gw = _same_dtype(gg[0].T @ cols[0], cols.dtype)
    else:
        gw = _same_dtype(xp.matmul(gg.transpose(0, 2, 1), cols), cols.dtype)  # (G, Co/G, KCg)
    co, cg = weight_shape[:2]
    if major:  # already (Co, Cg*K)
        return gw.reshape(weight_shape)
    gw = gw.reshape(co, math.prod(weight_shape[2:]), cg).transpose(0, 2, 1)
    return xp.ascontiguousarray(gw).reshape(weight_shape)


# ------------------------------------------------------------------ autograd functions


class _Geometry:
    """stride, padding ((low, high) per dim), dilation, groups of one convolution."""

    __slots__ = ("stride", "padding", "dilation", "groups", "nd")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups, self.nd = groups, len(stride)

    def args(self):
        return self.stride, self.padding, self.dilation, self.groups


class _Conv(Function):
    _node_name = "ConvolutionBackward0"
    _graph_inputs = (0, 1, 2)  # a bias left out (None) too, as torch's

    @staticmethod
    def forward(ctx, x, w, b, geo):
        ctx.save_for_backward(x, w)
        ctx.geo, ctx.has_bias = geo, b is not None
        xp = x._device._xp
        kernel = _kernel(x._device, f"conv{geo.nd}d", x._data)
        if x._data.size == 0 or w._data.size == 0:  # zero batch or channels: no kernel call
            out = out_sizes(x._data.shape[2:], w._data.shape[2:], geo.stride, geo.padding,
                            geo.dilation)
            # PyTorch gives a zero-channel input a zero-channel result, whatever the weight
            co = w._data.shape[0] if x._data.shape[1] else 0
            y = xp.zeros(x._data.shape[:1] + (co,) + out, dtype=x._data.dtype)
            ctx.cols = None
            if not co:
                return y
        elif kernel is not None:
            y, ctx.cols = kernel(x._data, w._data, *geo.args()), None
        else:
            y, ctx.cols = conv_forward(xp, x._data, w._data, *geo.args())
        if b is not None:
            y += b._data.reshape((-1,) + (1,) * geo.nd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        geo, cols = ctx.geo, ctx.cols
        if x._data.dtype.kind == "c":  # the adjoints take the conjugated other operand
            x, w = _conj(x), _conj(w)
            cols = None if cols is None else cols.conj()
        gx = gw = gb = None
        shared = None
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1] and cols is not None:
            shared = _shared_grad(x._device._xp, g._data, x._data.shape, w._data.shape, geo,
                                  cols)
        if ctx.needs_input_grad[0]:
            gx = _ConvInput.apply(g, w, geo, _shape(x), None, shared)
        if ctx.needs_input_grad[1]:
            gw = _ConvWeight.apply(x, g, geo, _shape(w), cols, shared)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g.sum((0,) + tuple(range(2, 2 + geo.nd)))
            if gb._data.shape[0] != w._data.shape[0]:  # a zero-channel input's result
                gb = g.new_zeros(w._data.shape[:1])
        ctx.cols = None
        return gx, gw, gb, None


_forward.register(_forward.multilinear_bias(1), _Conv)  # its jvp: conv(tx, w) + conv(x, tw) + tb


class _ConvInput(Function):
    """``g, w -> conv^T(g)``: the input gradient, and the transposed convolution."""

    _node_name = "ConvolutionBackward0"  # torch's node of conv_transpose
    _graph_inputs = (0, 1, 4)

    @staticmethod
    def forward(ctx, g, w, geo, input_shape, b=None, shared=None):
        ctx.save_for_backward(g, w)
        ctx.geo, ctx.input_shape = geo, input_shape
        kernel = _kernel(g._device, f"conv{geo.nd}d_backward_input", g._data)
        if g._data.size == 0 or w._data.size == 0:
            y = g._device._xp.zeros(input_shape, dtype=g._data.dtype)
        elif kernel is not None:
            y = kernel(g._data, w._data, input_shape, *geo.args())
        else:
            y = conv_backward_input(g._device._xp, g._data, w._data, input_shape, *geo.args(),
                                    shared)
        if b is not None:
            y = y + b._data.reshape((-1,) + (1,) * geo.nd)
        return y

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        geo = ctx.geo
        if g._data.dtype.kind == "c":
            g, w = _conj(g), _conj(w)
        dg = dw = db = None
        if ctx.needs_input_grad[0]:
            dg = _Conv.apply(gg, w, None, geo)
        if ctx.needs_input_grad[1]:
            dw = _ConvWeight.apply(gg, g, geo, _shape(w), None)
        if len(ctx.needs_input_grad) > 4 and ctx.needs_input_grad[4]:
            db = gg.sum((0,) + tuple(range(2, 2 + geo.nd)))
        return dg, dw, None, None, db, None


class _ConvWeight(Function):
    """``x, g -> dL/dw``: the weight gradient of a convolution."""

    @staticmethod
    def forward(ctx, x, g, geo, weight_shape, cols, shared=None):
        ctx.save_for_backward(x, g)
        ctx.geo = geo
        kernel = _kernel(x._device, f"conv{geo.nd}d_backward_weight", x._data)
        if x._data.size == 0 or g._data.size == 0:
            return x._device._xp.zeros(weight_shape, dtype=x._data.dtype)
        if kernel is not None:
            return kernel(x._data, g._data, weight_shape, *geo.args())
        return conv_backward_weight(x._device._xp, x._data, g._data, weight_shape, *geo.args(),
                                    cols=cols, shared=shared)

    @staticmethod
    def backward(ctx, gw):
        x, g = ctx.saved_tensors
        geo = ctx.geo
        if x._data.dtype.kind == "c":
            x, g = _conj(x), _conj(g)
        dx = dg = None
        if ctx.needs_input_grad[0]:
            dx = _ConvInput.apply(g, gw, geo, _shape(x))
        if ctx.needs_input_grad[1]:
            dg = _Conv.apply(x, gw, None, geo)
        return dx, dg, None, None, None, None


# ------------------------------------------------------------------ checks and wrappers


def _check_operands(op, x, w, b, nd):
    if not isinstance(w, Tensor):
        raise TypeError(f"{op}: expected weight to be a Tensor, got {type(w).__name__}")
    if w._data.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected a {nd + 2}D weight, got weight of shape {_shape(w)}"
        )
    if x._data.dtype != w._data.dtype or (b is not None and b._data.dtype != w._data.dtype):
        raise RuntimeError(
            f"{op}: input, weight and bias must have the same dtype, got input {x.dtype}, "
            f"weight {w.dtype}" + (f", bias {b.dtype}" if b is not None else "")
        )
    if x._device != w._device or (b is not None and b._device != w._device):
        raise RuntimeError(
            f"{op}: input, weight and bias must be on the same device, got input on "
            f"{x._device}, weight on {w._device}"
            + (f", bias on {b._device}" if b is not None else "")
        )
    if not (x.dtype.is_floating_point or x._data.dtype.kind == "c"):
        raise RuntimeError(f"{op}: expected a floating point or complex input, got {x.dtype}")


def _check_groups(op, weight, groups):
    """PyTorch's checks that the weight's first dim holds at least one slice per group and
    that the kernel is not empty."""
    if 0 in weight._data.shape[2:]:
        raise RuntimeError(
            f"{op}: kernel size should be greater than zero, but got weight of size "
            f"{list(_shape(weight))}"
        )
    if isinstance(groups, int) and weight._data.shape[0] < groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, expected weight to be at least {groups} at "
            f"dimension 0, but got weight of size {list(_shape(weight))} instead"
        )


def _check_empty_input(op, x):
    """Empty inputs are supported only with a zero batch or zero channels (as in PyTorch)."""
    if x._data.size == 0 and x._data.shape[0] != 0 and x._data.shape[1] != 0:
        raise RuntimeError(
            f"{op}: Only zero batch or zero channel inputs are supported, but got input shape: "
            f"{list(_shape(x))}"
        )


def conv_padding(op, padding, kernel, stride, dilation):
    """Padding as (low, high) pairs from an int, a tuple, ``'valid'`` or ``'same'``."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):  # a RuntimeError here, as torch's functional
                raise RuntimeError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise RuntimeError(
            f"{op}: Invalid padding string: {padding!r}, should be one of 'valid' or 'same'"
        )
    p = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((v, v) for v in p)


def convolution(op, input, weight, bias, stride, padding, dilation, groups, nd):
    """Shared body of conv1d/2d/3d and of the Conv modules (``op`` names the caller)."""
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("lower", input, weight, bias)
    x, unbatched = _batchify(op, input, nd)
    _check_operands(op, x, weight, bias, nd)
    kernel = tuple(weight._data.shape[2:])
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if any(v <= 0 for v in stride + dilation):
        raise ValueError(f"{op}: stride and dilation must be positive, got {stride}, {dilation}")
    pads = conv_padding(op, padding, kernel, stride, dilation)
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    _check_groups(op, weight, groups)
    c = x._data.shape[1]
    cout = weight._data.shape[0]
    if c != weight._data.shape[1] * groups:
        raise RuntimeError(
            f"{op} expected input with {weight._data.shape[1] * groups} channels, got {c} "
            f"(input shape {_shape(input)})"
        )
    if cout % groups:
        raise ValueError(f"{op}: out_channels ({cout}) must be divisible by groups ({groups})")
    if bias is not None and _shape(bias) != (cout,):
        raise RuntimeError(f"{op}: expected bias of shape ({cout},), got {_shape(bias)}")
    spatial = x._data.shape[2:]
    padded = padded_sizes(spatial, pads)
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(e > p for e, p in zip(eff, padded)):
        raise RuntimeError(
            f"{op}: kernel size {eff} (dilated) is larger than the padded input size {padded} "
            f"(input shape {_shape(input)}, padding {pads})"
        )
    _check_empty_input(op, x)
    y = _Conv.apply(x, weight, bias, _Geometry(stride, pads, dilation, groups))
    return y.squeeze(0) if unbatched else y


def transposed_convolution(op, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, nd):
    """Shared body of conv_transpose1d/2d/3d and the ConvTranspose modules."""
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("lower", input, weight, bias)
    x, unbatched = _batchify(op, input, nd)
    _check_operands(op, x, weight, bias, nd)
    kernel = tuple(weight._data.shape[2:])
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    padding = _ntuple(padding, nd, "padding", op)
    output_padding = _ntuple(output_padding, nd, "output_padding", op)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d) or op_ < 0:
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either stride "
                f"{stride} or dilation {dilation}"
            )
    _check_groups(op, weight, groups)
    c = x._data.shape[1]
    if c != weight._data.shape[0]:
        raise RuntimeError(
            f"{op} expected input with {weight._data.shape[0]} channels, got {c} "
            f"(input shape {_shape(input)})"
        )
    if c % groups:
        raise ValueError(f"{op}: in_channels ({c}) must be divisible by groups ({groups})")
    if weight._data.shape[1] == 0:
        raise RuntimeError(f"{op}: non-empty weight tensor expected, but got: "
                           f"{list(_shape(weight))}")
    cout = weight._data.shape[1] * groups
    if bias is not None and _shape(bias) != (cout,):
        raise RuntimeError(f"{op}: expected bias of shape ({cout},), got {_shape(bias)}")
    _check_empty_input(op, x)
    spatial = x._data.shape[2:]
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
                zip(spatial, stride, padding, dilation, kernel, output_padding))
    if any(v <= 0 for v in out):
        raise RuntimeError(
            f"{op}: output size {out} is too small (input shape {_shape(input)}, kernel "
            f"{kernel}, stride {stride}, padding {padding})"
        )
    geo = _Geometry(stride, tuple((p, p) for p in padding), dilation, groups)
    y = _ConvInput.apply(x, weight, geo, (x._data.shape[0], cout) + out, bias)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an ``(N, C_in, L)`` or ``(C_in, L)`` input.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv1d(flambeau.ones(1, 1, 5), flambeau.ones(1, 1, 3))
    tensor([[[3., 3., 3.]]])
    """
    return convolution("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of a time-batch-channels input (fairseq's layout): :func:`conv1d`
    with the dimensions in another order.

    ``input`` is ``(time, batch, in_channels)``, ``weight`` ``(kernel_width, in_channels,
    out_channels)`` and ``bias`` ``(out_channels,)`` (required); ``pad`` zeros are added at
    both ends of the time dimension (a negative ``pad`` crops it). The result is
    ``(time + 2 * pad - kernel_width + 1, batch, out_channels)``.

    Raises
    ------
    RuntimeError
        When the shapes do not fit, as PyTorch's checks say.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.arange(4.0).reshape(4, 1, 1)  # 4 steps, 1 sample, 1 channel
    >>> F.conv_tbc(x, flambeau.ones(2, 1, 1), flambeau.zeros(1)).flatten()
    tensor([1., 3., 5.])
    >>> F.conv_tbc(x, flambeau.ones(2, 1, 1), flambeau.zeros(1), 1).shape
    flambeau.Size([5, 1, 1])
    """
    if not isinstance(bias, Tensor):
        raise TypeError(f"conv_tbc(): argument 'bias' (position 3) must be Tensor, not "
                        f"{type(bias).__name__}")
    if input.ndim != 3:
        raise RuntimeError(f"conv_tbc: Input must have 3 dims: time, batch, in_channel (got "
                           f"input of shape {tuple(input.shape)})")
    if weight.ndim != 3:
        raise RuntimeError(f"conv_tbc: Weight tensor must have 3 dims: kernel_width, "
                           f"in_channels, out_channels (got weight of shape "
                           f"{tuple(weight.shape)})")
    if bias.ndim != 1:
        raise RuntimeError(f"conv_tbc: Bias must be 1-D (got bias of shape "
                           f"{tuple(bias.shape)})")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError(f"conv_tbc: Input dim 2 (input channels) is not == dim 1 in the "
                           f"weight tensor ({input.shape[2]} != {weight.shape[1]})")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError(f"conv_tbc: Bias size must equal dim 2 in the weight tensor (output "
                           f"channels) ({bias.shape[0]} != {weight.shape[2]})")
    if pad < 0:  # conv1d pads only: crop instead
        input = input[-pad:input.shape[0] + pad]
        pad = 0
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) over ``(N, C_in, H, W)``.

    ``padding`` is an int, a pair, ``'valid'`` or ``'same'``; ``groups`` splits the channels.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv2d(flambeau.ones(1, 1, 4, 4), flambeau.ones(2, 1, 3, 3)).shape
    flambeau.Size([1, 2, 2, 2])
    >>> F.conv2d(flambeau.ones(1, 1, 4, 4), flambeau.ones(1, 1, 3, 3), padding="same")[0, 0, 0]
    tensor([4., 6., 6., 4.])
    """
    return convolution("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over ``(N, C_in, D, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv3d(flambeau.ones(1, 1, 3, 3, 3), flambeau.ones(1, 1, 2, 2, 2)).shape
    flambeau.Size([1, 1, 2, 2, 2])
    """
    return convolution("conv3d", input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution"); weight ``(C_in, C_out/groups, k)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv_transpose1d(flambeau.ones(1, 1, 3), flambeau.ones(1, 1, 2))
    tensor([[[1., 2., 2., 1.]]])
    """
    return transposed_convolution("conv_transpose1d", input, weight, bias, stride, padding,
                                  output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution, the gradient of :func:`conv2d` in its input.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv_transpose2d(flambeau.ones(1, 2, 3, 3), flambeau.ones(2, 4, 3, 3), stride=2).shape
    flambeau.Size([1, 4, 7, 7])
    """
    return transposed_convolution("conv_transpose2d", input, weight, bias, stride, padding,
                                  output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.conv_transpose3d(flambeau.ones(1, 1, 2, 2, 2), flambeau.ones(1, 1, 2, 2, 2)).shape
    flambeau.Size([1, 1, 3, 3, 3])
    """
    return transposed_convolution("conv_transpose3d", input, weight, bias, stride, padding,
                                  output_padding, groups, dilation, 3)

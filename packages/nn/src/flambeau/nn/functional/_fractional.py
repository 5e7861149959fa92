"""Fractional max pooling (Graham, 2014): windows at pseudo-random, overlapping offsets.

Along each spatial dim of length ``n``, an output of length ``o`` and a window of length
``k`` take their starts from one uniform draw ``u`` in ``[0, 1)`` per (sample, channel):
with ``alpha = (n - k) / (o - 1)``, start ``i`` is ``floor((i + u) * alpha) - floor(u *
alpha)`` for ``i < o - 1`` and the last window ends at the input's end (start ``n - k``).
The arithmetic is done in the input's dtype, as PyTorch does, so the same
``_random_samples`` give the same windows. The draws are stored last dim first for 2-D
(``[..., 0]`` is the width's, ``[..., 1]`` the height's) and first dim first for 3-D.

The maximum of each window (the first one; the last NaN if there are NaNs) is found on the
gathered windows, and the output is a gather of the input at those flat positions, so the
gradient (a scatter-add at the positions) and its own gradient come from ``gather``.
"""

from __future__ import annotations

import math
import numbers

import flambeau
from flambeau._tensor import Tensor
from flambeau.nn._complex import NO_ORDER, refuse_complex
from flambeau.nn.functional._conv import _batchify

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _int_tuple(value, nd, what, op):
    """``value`` as ``nd`` ints (PyTorch's message when it is neither an int nor ``nd`` ints)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * nd
    if (isinstance(value, (tuple, list)) and len(value) == nd
            and all(isinstance(v, numbers.Integral) for v in value)):
        return tuple(int(v) for v in value)
    tail = "tuple of Ints" if nd == 2 else "tuple of three Ints"
    raise RuntimeError(f"{op}: {what} must either be a single Int or {tail} (got {value!r})")


def _intervals(xp, u, n, o, k):
    """Window starts ``(..., o)`` along a dim of length ``n`` for draws ``u`` (any shape)."""
    starts = xp.empty(u.shape + (o,), dtype=xp.int64)
    if o == 0:
        return starts
    if o > 1:
        alpha = u.dtype.type(n - k) / u.dtype.type(o - 1)
        i = xp.arange(o - 1, dtype=u.dtype)
        first = xp.floor(u * alpha)[..., None]
        starts[..., :-1] = (xp.floor((i + u[..., None]) * alpha) - first).astype(xp.int64)
    starts[..., -1] = n - k
    return starts


def _window_positions(xp, samples, spatial, out, kernel):
    """Flat in-plane positions of every window element, ``(N, C, *out, prod(kernel))``."""
    nd = len(kernel)
    flat = None
    for d in range(nd):
        u = samples[..., nd - 1 - d] if nd == 2 else samples[..., d]
        starts = _intervals(xp, u, spatial[d], out[d], kernel[d])
        pos = starts[..., :, None] + xp.arange(kernel[d])  # (N, C, o_d, k_d)
        # o_d on output axis d, k_d on window axis d
        expanded = pos.reshape(pos.shape[:2] + (1,) * d + (out[d],) + (1,) * (nd - 1 - d)
                               + (1,) * d + (kernel[d],) + (1,) * (nd - 1 - d))
        flat = expanded if flat is None else flat * spatial[d] + expanded
    full = flat.shape[:2] + tuple(out) + tuple(kernel)
    flat = xp.broadcast_to(flat, full)
    return flat.reshape(full[:2 + nd] + (math.prod(kernel),))


def _first_max_index(xp, windows):
    """Index of the first maximum along the last axis; the last NaN where there are NaNs."""
    arg = xp.argmax(windows, axis=-1)
    if windows.dtype.kind == "f":
        nan = xp.isnan(windows)
        if bool(nan.any()):
            last = windows.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
            arg = xp.where(nan.any(axis=-1), last, arg)
    return arg


def _fractional(op, nd, input, kernel_size, output_size, output_ratio, _random_samples):
    x, unbatched = _batchify(op, input, nd)
    refuse_complex(op, x, hint=NO_ORDER)
    kernel = _int_tuple(kernel_size, nd, "kernel_size", op)
    spatial = tuple(x.shape[2:])
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = (output_ratio,) * nd if isinstance(output_ratio, numbers.Real) else tuple(
            output_ratio)
        if len(ratio) != nd:
            raise ValueError(f"{op}: output_ratio must be a float or {nd} floats, got "
                             f"{output_ratio!r}")
        output_size = [int(n * r) for n, r in zip(spatial, ratio)]
    out = _int_tuple(output_size, nd, "output_size", op)
    if any(v < 0 for v in out) or any(v <= 0 for v in kernel):
        raise RuntimeError(f"{op}: output_size and kernel_size must be positive, got "
                           f"output_size {out} and kernel_size {kernel}")
    who = f"{op}()" if nd == 2 else f"{op}_out()"
    for d in range(1, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(
                f"{who}: Expected input to have non-zero size for non-batch dimensions, but "
                f"got{list(input.shape)} with dimension {d - 1 if unbatched else d} being "
                f"empty.")
    for name, n, o, k in zip(_DIM_NAMES[nd], spatial, out, kernel):
        # PyTorch's 2-D kernel lets the windows reach the input's end, its 3-D one does not
        if o + k - 1 > n or (nd == 3 and o + k - 1 == n):
            raise RuntimeError(f"{who}: pool {name} {k} too large relative to input {name} "
                               f"{n} (output {name} {o})")
    batch, channels = x.shape[:2]
    if _random_samples is None:
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
        samples = flambeau.rand(batch, channels, nd, dtype=x.dtype, device=x.device)
    else:
        samples = _random_samples
        if not isinstance(samples, Tensor) or samples.ndim != 3:
            got = samples.ndim if isinstance(samples, Tensor) else type(samples).__name__
            raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {got}")
        if samples.shape[2] != nd:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                               f"{samples.shape[2]}.")
        if samples.shape[1] != channels:
            raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
        if samples.shape[0] < batch:
            raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
        if samples.dtype != x.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
        if samples.device != x.device:
            raise RuntimeError(f"{op}: _random_samples is on {samples.device} but the input "
                               f"is on {x.device}")
    xp = x._device._xp
    u = samples._data[:batch]
    positions = _window_positions(xp, u, spatial, out, kernel)
    # explicit sizes: a -1 is ambiguous for an empty batch
    planes = x.reshape(batch, channels, math.prod(spatial))
    flat = positions.reshape(batch, channels, math.prod(positions.shape[2:]))
    windows = xp.take_along_axis(planes._data, flat, axis=2)
    arg = _first_max_index(xp, windows.reshape(positions.shape))
    chosen = xp.take_along_axis(positions, arg[..., None], axis=-1)[..., 0]
    indices = Tensor._make(xp.ascontiguousarray(chosen), x._device)
    y = planes.gather(2, indices.reshape(batch, channels, math.prod(out)))
    y = y.reshape(batch, channels, *out)
    if unbatched:
        return y.squeeze(0), indices.squeeze(0)
    return y, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """2-D fractional max pooling returning ``(values, indices)`` whatever ``return_indices``.

    See :func:`fractional_max_pool2d`; the indices are flat positions in each H*W plane.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.arange(16.0).reshape(1, 1, 4, 4)
    >>> u = flambeau.tensor([[[0.5, 0.5]]])
    >>> F.fractional_max_pool2d_with_indices(x, 2, output_size=2, _random_samples=u)
    (tensor([[[[ 5.,  7.],
              [13., 15.]]]]), tensor([[[[ 5,  7],
              [13, 15]]]]))
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-D fractional max pooling over ``(N, C, H, W)`` (or ``(C, H, W)``).

    Windows of ``kernel_size`` start at pseudo-random offsets (one uniform draw per sample,
    channel and dim) chosen so that exactly ``output_size`` of them cover the input, as in
    Graham's *Fractional Max-Pooling*.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size : int or tuple of 2 ints
        The window size.
    output_size : int or tuple of 2 ints, optional
        The output ``(H_out, W_out)``.
    output_ratio : float or tuple of 2 floats, optional
        The output size as a fraction of the input size (``int(H * ratio)``), when
        ``output_size`` is None.
    return_indices : bool
        Also return the flat position of each maximum (for :func:`max_unpool2d`).
    _random_samples : Tensor, optional
        The draws, ``(N, C, 2)`` in ``[0, 1)`` of the input's dtype (``[..., 0]`` for the
        width); drawn with :func:`flambeau.rand` when None.

    Raises
    ------
    ValueError
        Neither ``output_size`` nor ``output_ratio`` is given.
    RuntimeError
        A window does not fit (``output + kernel - 1 > input`` along a dim), an empty
        channel or spatial dim, or ``_random_samples`` of the wrong shape or dtype.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.arange(25.0).reshape(1, 1, 5, 5)
    >>> F.fractional_max_pool2d(x, 2, output_size=(3, 2),
    ...                         _random_samples=flambeau.tensor([[[0.2, 0.7]]]))
    tensor([[[[ 6.,  9.],
              [11., 14.],
              [21., 24.]]]])
    >>> F.fractional_max_pool2d(flambeau.randn(2, 3, 10, 9), 3, output_ratio=0.5).shape
    flambeau.Size([2, 3, 5, 4])
    """
    y, i = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                              return_indices, _random_samples)
    return (y, i) if return_indices else y


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """3-D fractional max pooling returning ``(values, indices)`` whatever ``return_indices``.

    See :func:`fractional_max_pool3d`; the indices are flat positions in each D*H*W volume.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.arange(27.0).reshape(1, 1, 3, 3, 3)
    >>> u = flambeau.tensor([[[0.5, 0.5, 0.5]]])
    >>> F.fractional_max_pool3d_with_indices(x, 2, output_size=1, _random_samples=u)
    (tensor([[[[[26.]]]]]), tensor([[[[[26]]]]]))
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-D fractional max pooling over ``(N, C, D, H, W)`` (or ``(C, D, H, W)``).

    As :func:`fractional_max_pool2d`, with ``_random_samples`` of shape ``(N, C, 3)``
    (``[..., 0]`` for the depth); a window must end before the input does
    (``output + kernel - 1 < input``), as in PyTorch's 3-D kernel.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.fractional_max_pool3d(flambeau.randn(2, 3, 8, 9, 10), 2, output_size=(4, 5, 6)).shape
    flambeau.Size([2, 3, 4, 5, 6])
    """
    y, i = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                              return_indices, _random_samples)
    return (y, i) if return_indices else y

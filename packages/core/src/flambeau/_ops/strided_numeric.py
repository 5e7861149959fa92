"""Strided views over a tensor's storage and a few numeric ops: ``as_strided`` (and its
in-place, scatter and copy forms), ``gradient``, ``histogramdd`` and ``binomial``.

Storage model. flambeau keeps no storage object: a tensor's storage is the memory spanned by
the array of the tensor its views come from (``t._base``, or ``t`` itself), from its lowest
to its highest byte. ``storage_offset`` and the strides of ``as_strided`` count elements of
the tensor's dtype from the start of that span, as in PyTorch, so a view of a view indexes
the same storage as its base.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from flambeau import _random
from flambeau._ops._util import (
    FLOAT_NP,
    Tensor,
    as_strided_array,
    check_same_device,
    make,
    to_float,
    wrap_dim,
    write_out,
)
from flambeau._ops.indexing_more import even_bin_edges
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = ["as_strided", "as_strided_", "as_strided_scatter", "as_strided_copy",
           "storage_offset", "gradient", "histogramdd", "binomial"]

# ------------------------------------------------------------------ storage geometry


def _ptr(a):
    iface = getattr(a, "__array_interface__", None)
    return int(iface["data"][0]) if iface is not None else int(a.data.ptr)


def _byte_span(a):
    """(lowest, highest) byte of ``a``'s elements relative to its first one (None if empty)."""
    if a.size == 0:
        return None
    lo = hi = 0
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.dtype.itemsize


class _Storage:
    """Where a tensor's storage starts (``anchor``: a one-element array at that byte), its
    size in bytes, and the tensor's own offset from it in bytes."""

    __slots__ = ("anchor", "nbytes", "offset_bytes")

    def __init__(self, anchor, nbytes, offset_bytes):
        self.anchor = anchor
        self.nbytes = nbytes
        self.offset_bytes = offset_bytes


def _storage(t):
    roots = (t._base, t) if t._base is not None else (t,)
    for root in roots:
        st = _storage_in(t, root)
        if st is not None:
            return st
    raise AssertionError("unreachable: a tensor always lies inside its own storage")


def _storage_in(t, root):
    """``t``'s place in the storage spanned by ``root``'s array, or None if it lies outside."""
    a = t._data
    here = _ptr(a)
    span = _byte_span(a)
    r = root._data
    rspan = _byte_span(r)
    if rspan is None:
        start, nbytes, anchor = _ptr(r), 0, r.reshape(-1)[:1]
    else:
        start, nbytes = _ptr(r) + rspan[0], rspan[1] - rspan[0]
        corner = tuple(builtins.slice(n - 1, n) if s < 0 else builtins.slice(0, 1)
                       for n, s in zip(r.shape, r.strides))
        anchor = r[corner]
    off = here - start
    inside = (0 <= off <= nbytes if span is None else
              off + span[0] >= 0 and off + span[1] <= nbytes)
    return _Storage(anchor, nbytes, off) if inside else None


def _elem_strides(a):
    item = a.dtype.itemsize
    return tuple(s // item for s in a.strides)


def storage_offset(self):
    """The offset of the first element in the tensor's storage, in elements.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(6).reshape(2, 3)
    >>> x.storage_offset(), x[1].storage_offset(), x[:, 1:][1].storage_offset()
    (0, 3, 4)
    """
    return _storage(self).offset_bytes // self._data.dtype.itemsize


def _int_tuple(v, what, op):
    if isinstance(v, int):
        v = (v,)
    try:
        return tuple(int(s) for s in v)
    except TypeError:
        raise TypeError(f"{op}: {what} must be a sequence of ints, got "
                        f"{type(v).__name__}") from None


def _check_geometry(op, t, size, stride, offset):
    """Validate ``size``/``stride``/``offset`` against ``t``'s storage; return the storage."""
    if len(size) != len(stride):
        raise RuntimeError(f"{op}: mismatch in length of strides and shape (sizes {list(size)} "
                           f"have {len(size)} dims, strides {list(stride)} have {len(stride)})")
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"{op}: sizes {list(size)} must be non-negative")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"{op}: invalid storage offset {offset}")
    st = _storage(t)
    item = t._data.dtype.itemsize
    if 0 not in size:
        need = (offset + 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))) * item
        if need > st.nbytes:
            raise RuntimeError(
                f"{op}: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
                f"and itemsize {item} requiring a storage size of {need} are out of bounds for "
                f"storage of size {st.nbytes}")
    return st


def storage_bytes(xp, st):
    """The bytes of the storage ``st`` (see ``_storage``) as a flat uint8 array (a view)."""
    a = st.anchor
    raw = as_strided_array(xp, a, (1,), (a.dtype.itemsize,)).view(xp.uint8)
    return xp.lib.stride_tricks.as_strided(raw, (st.nbytes,), (1,))


def _strided_view(t, st, size, stride, offset):
    """A view of ``t``'s storage ``st`` with ``size``/``stride``/``offset`` in elements."""
    xp = t._device._xp
    dt = t._data.dtype
    if 0 in size:
        return xp.empty(size, dtype=dt)
    flat = storage_bytes(xp, st)
    item = dt.itemsize
    first = flat[offset * item:(offset + 1) * item].view(dt)
    return as_strided_array(xp, first, size, tuple(s * item for s in stride))


def _positions(xp, size, stride, offset):
    """The storage position of every element of a strided window (int64, shape ``size``)."""
    idx = xp.full(size, offset, dtype=xp.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        idx = idx + (xp.arange(n, dtype=xp.int64) * s).reshape(shape)
    return idx


def _window_indices(xp, in_geo, out_geo):
    """Positions of the input's and the output's windows, shifted to start at 0, and the
    length of the storage span that covers both."""
    a = _positions(xp, *in_geo)
    b = _positions(xp, *out_geo)
    lo = builtins.min([int(v.min()) for v in (a, b) if v.size] or [0])
    hi = builtins.max([int(v.max()) for v in (a, b) if v.size] or [-1])
    return a - lo, b - lo, hi - lo + 1


def _index_tensor(arr, like):
    return make(arr, like)


class AsStrided(Function):
    _is_view = True

    @staticmethod
    def forward(ctx, x, st, size, stride, offset):
        a = x._data
        ctx.geo = ((a.shape, _elem_strides(a), st.offset_bytes // a.dtype.itemsize),
                   (size, stride, offset))
        return _strided_view(x, st, size, stride, offset)

    @staticmethod
    def backward(ctx, g):
        from flambeau._creation import zeros

        in_geo, out_geo = ctx.geo
        xp = g._device._xp
        if _covers(in_geo, out_geo) and _no_overlap(out_geo):
            if not _grad_state.grad_enabled:  # plain array writes, no index arrays
                gx = xp.zeros(in_geo[0], dtype=g._data.dtype)
                _flat_window(xp, gx.reshape(-1), out_geo, in_geo[2])[...] = g._data
                return make(gx, g), None, None, None, None
            b = _positions(xp, *out_geo) - in_geo[2]
            gx = zeros(math.prod(in_geo[0]), dtype=g.dtype, device=g.device)
            gx = gx.index_add(0, _index_tensor(b.reshape(-1), g), g.reshape(-1))
            return gx.reshape(in_geo[0]), None, None, None, None
        a, b, length = _window_indices(xp, in_geo, out_geo)
        buf = zeros(length, dtype=g.dtype, device=g.device)
        buf = buf.index_add(0, _index_tensor(b.reshape(-1), g), g.reshape(-1))
        gx = buf[_index_tensor(a, g)]
        if a.size:
            count = xp.bincount(a.reshape(-1), minlength=length)[a]
            if int(count.max()) > 1:  # the input overlaps itself: share the gradient out
                gx = gx / make(count.astype(g._data.dtype), g)
        return gx, None, None, None, None


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset (in elements).

    Strides and the offset count elements of the whole storage ``input`` is a view of, as in
    PyTorch (``storage_offset=None`` keeps ``input``'s own offset). Writes to the result go
    to ``input``'s storage. The gradient flows back to ``input``'s elements, summed where
    the view's windows overlap.

    Parameters
    ----------
    input : Tensor
        The tensor whose storage is viewed.
    size : sequence of int
        The shape of the result.
    stride : sequence of int
        The step in storage elements along each dimension (non-negative).
    storage_offset : int, optional
        The storage position of the first element; by default ``input.storage_offset()``.

    Raises
    ------
    RuntimeError
        If ``size`` and ``stride`` have different lengths, a size, stride or the offset is
        negative, or the view would reach beyond the storage.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(6.0)
    >>> flambeau.as_strided(x, (2, 3), (1, 2))
    tensor([[0., 2., 4.],
            [1., 3., 5.]])
    >>> x[2:].as_strided((2, 2), (1, 1))  # windows of 2 from x's element 2 on
    tensor([[2., 3.],
            [3., 4.]])
    """
    size = _int_tuple(size, "size", "as_strided")
    stride = _int_tuple(stride, "stride", "as_strided")
    st = None
    if storage_offset is None:
        st = _storage(input)
        storage_offset = st.offset_bytes // input._data.dtype.itemsize
    st = _check_geometry("as_strided", input, size, stride, int(storage_offset))
    return AsStrided.apply(input, st, size, stride, int(storage_offset))


def as_strided_(input, size, stride, storage_offset=None):
    """Give ``input`` (``self`` of the method) the sizes, strides and offset of
    :func:`as_strided`, in place.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(6.0)
    >>> x.as_strided_((2, 2), (2, 1), 1)
    tensor([[1., 2.],
            [3., 4.]])
    >>> x.storage_offset(), x.stride()
    (1, (2, 1))
    """
    from flambeau._ops.shape_more import _restride_

    keep = None
    if input._base is None:
        # remember the whole storage: later strided views must still reach all of it
        keep = Tensor._make(input._data, input._device)
        keep._version_counter = input._version_counter
    _restride_(input, lambda t: as_strided(t, size, stride, storage_offset), "as_strided_")
    if keep is not None:
        input._base = keep
    return input


class AsStridedScatter(Function):
    _may_overwrite_grad = True

    @staticmethod
    def forward(ctx, x, src, in_geo, out_geo):
        xp = x._device._xp
        a, b, length = _window_indices(xp, in_geo, out_geo)
        buf = xp.empty(length, dtype=x._data.dtype)
        buf[a] = x._data
        buf[b] = src._data
        ctx.geo = (in_geo, out_geo)
        return buf[a]

    @staticmethod
    def backward(ctx, g):
        from flambeau._creation import zeros

        in_geo, out_geo = ctx.geo
        xp = g._device._xp
        gx = gs = None
        if _covers(in_geo, out_geo):
            # the common case (a contiguous base around the window): no gather over the base
            if not _grad_state.grad_enabled:  # plain array writes, no index arrays
                if ctx.needs_input_grad[1]:
                    flat = xp.ascontiguousarray(g._data).reshape(-1)
                    gs = make(_flat_window(xp, flat, out_geo, in_geo[2]).copy(), g)
                if ctx.needs_input_grad[0]:
                    out = g._data
                    # an array of its own, as the engine may add to it; when no one else
                    # holds g's, reusing it spares a copy of the whole base per write
                    if not (ctx._grad_private and out.flags.c_contiguous):
                        out = out.copy(order="C")
                    _flat_window(xp, out.reshape(-1), out_geo, in_geo[2])[...] = 0
                    gx = make(out, g)
                return gx, gs, None, None
            b = _positions(xp, *out_geo) - in_geo[2]
            if ctx.needs_input_grad[0]:
                keep = xp.ones(g._data.shape, dtype=g._data.dtype)
                keep.reshape(-1)[b] = 0
                gx = g * make(keep, g)
            if ctx.needs_input_grad[1]:
                gs = g.reshape(-1)[_index_tensor(b, g)]
            return gx, gs, None, None
        a, b, length = _window_indices(xp, in_geo, out_geo)
        if ctx.needs_input_grad[0]:
            keep = xp.ones(length, dtype=g._data.dtype)
            keep[b] = 0
            gx = g * make(keep[a], g)
        if ctx.needs_input_grad[1]:
            buf = zeros(length, dtype=g.dtype, device=g.device)
            buf = buf.index_add(0, _index_tensor(a.reshape(-1), g), g.reshape(-1))
            gs = buf[_index_tensor(b, g)]
        return gx, gs, None, None


def _covers(in_geo, out_geo):
    """Whether ``in_geo`` is C-contiguous and holds every position of ``out_geo`` (so that
    position ``p`` is element ``p - offset`` of the flattened input)."""
    size, stride, offset = in_geo
    step = 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1 and s != step:
            return False
        step *= n
    out_size, out_stride, out_offset = out_geo
    if 0 in out_size:
        return True
    lo = hi = out_offset
    for n, s in zip(out_size, out_stride):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return offset <= lo and hi < offset + step


def _flat_window(xp, flat, geo, origin):
    """The window ``geo`` (size, stride, offset) as a strided view of ``flat``, a 1-D array
    whose element ``k`` sits at storage position ``origin + k``."""
    size, stride, offset = geo
    if 0 in size:
        return flat[:0].reshape(size)
    item = flat.dtype.itemsize
    return as_strided_array(xp, flat[offset - origin:], size, tuple(s * item for s in stride))


def _no_overlap(geo):
    """Whether no two elements of a geometry share a position (checked for the simple case
    of strides no smaller than the extent of the dims inside them; others answer False)."""
    extent = 1  # positions spanned by the dims seen so far, from the smallest stride up
    for s, n in sorted((abs(s), n) for n, s in zip(geo[0], geo[1]) if n != 1):
        if s < extent:
            return False
        extent += (n - 1) * s
    return True


class CopySlices(AsStridedScatter):
    """The history of a base after an in-place write into one of its views.

    The base's values outside the view come from its previous history and the view's from
    the written result, as for :func:`as_strided_scatter`; the write already happened, so
    forward copies nothing.

    As torch's, its ``next_functions`` are the base's previous history, then the inputs of
    the op that computed the written values other than the view itself (the number of
    ``view.mul_(2)``, the source of ``base[i] = src``): the graph shows the written values'
    node folded into this one.
    """

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, in_geo, out_geo):
        ctx.geo = (in_geo, out_geo)
        return base._data

    def name(self) -> str:
        return "torch::autograd::CopySlices"  # torch's name (its class: CopySlices)

    @property
    def next_functions(self) -> tuple:
        base, value = self._edges[0], self._edges[1]
        # written values that need no gradient: torch's copy_ of a tensor or a number
        folded = value[0].next_functions[1:] if value is not None else ((None, 0),)
        return ((None, 0) if base is None else base, *folded)


def _geometry(t, st):
    a = t._data
    return a.shape, _elem_strides(a), st.offset_bytes // a.dtype.itemsize


def view_geometry(view):
    """The geometry (size, stride, offset in elements) of ``view._base`` and of ``view`` in
    the base's storage, or None when they can't be expressed in one element type (or the
    view does not lie in the base's memory)."""
    base = view._base
    inside = _storage_in(view, base)
    if view._data.dtype != base._data.dtype or inside is None:
        return None
    return _geometry(base, _storage(base)), _geometry(view, inside)


def rebase_view_history(view, value, geo):
    """Record that ``value`` was just written into ``view`` (whose :func:`view_geometry`
    is ``geo``): the base's history becomes a :class:`CopySlices` of its previous one and
    ``value``, and the view reads from it."""
    base = view._base
    base._take_history(CopySlices.apply(base, value, *geo)._grad_fn, 0)
    view._view_version = view._version_counter.value
    read_view_from_base(view, geo)


def read_view_from_base(view, geo=None):
    """Give ``view`` the history of an as-strided read of its base (``AsStridedBackward0``);
    ``geo`` is its :func:`view_geometry` when the caller has it."""
    base = view._base
    geo = geo or view_geometry(view)
    if geo is None:
        return  # a reinterpreting view (another dtype) has no gradient relation to its base
    recording = _grad_state.grad_enabled
    _grad_state.grad_enabled = True  # the node is built even when read under no_grad, as torch
    try:
        out = AsStrided.apply(base, _storage(base), *geo[1])
    finally:
        _grad_state.grad_enabled = recording
    view._take_history(out._grad_fn, 0)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written where ``input.as_strided(size, stride,
    storage_offset)`` would look.

    The copy keeps ``input``'s place in its storage: the window is placed in (a copy of)
    the storage ``input`` is a view of, and the elements of ``input`` it covers are replaced.
    Differentiable in ``input`` and ``src``.

    Raises
    ------
    RuntimeError
        If ``src``'s shape is not ``size``, or the geometry is invalid as in
        :func:`as_strided`.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, 3)
    >>> flambeau.as_strided_scatter(x, flambeau.tensor([1.0, 2.0]), (2,), (4,))
    tensor([[1., 0., 0.],
            [0., 2., 0.]])
    """
    size = _int_tuple(size, "size", "as_strided_scatter")
    stride = _int_tuple(stride, "stride", "as_strided_scatter")
    item = input._data.dtype.itemsize
    own = _storage(input).offset_bytes // item
    offset = own if storage_offset is None else int(storage_offset)
    _check_geometry("as_strided_scatter", input, size, stride, offset)
    if tuple(src.shape) != size:
        raise RuntimeError(f"as_strided_scatter: expected src to have a size equal to the slice "
                           f"of self. src size = {list(src.shape)}, slice size = {list(size)}")
    src, _ = check_same_device("as_strided_scatter", src, input)
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"as_strided_scatter: expected src to have the dtype of self, got "
                           f"{src.dtype} and {input.dtype}")
    in_geo = (input._data.shape, _elem_strides(input._data), own)
    return AsStridedScatter.apply(input, src, in_geo, (size, stride, offset))


def as_strided_copy(input, size, stride, storage_offset=None, *, out=None):
    """:func:`as_strided` as a new tensor with its own (contiguous) storage.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(4.0)
    >>> y = flambeau.as_strided_copy(x, (2,), (2,)); y[0] = 9
    >>> y, x
    (tensor([9., 2.]), tensor([0., 1., 2., 3.]))
    """
    result = as_strided(input, size, stride, storage_offset).clone()
    return result if out is None else write_out(result, out, exact=True)


# ------------------------------------------------------------------ gradient


def _spacing_list(spacing, dims, ndim, given_dim):
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()
    if isinstance(spacing, (int, float, np.number)) and not isinstance(spacing, bool):
        return [spacing] * len(dims)
    if isinstance(spacing, Tensor):
        raise TypeError("gradient: spacing must be a number or a list/tuple of numbers or of "
                        "1-D tensors, got a Tensor with 1 or more dimensions (wrap it in a list)")
    spacing = list(spacing)
    if len(spacing) != len(dims):
        if given_dim:
            raise RuntimeError(f"gradient: expected spacing to be unspecified, a scalar or its "
                               f"length to match that of dim, but got dim of length {len(dims)} "
                               f"and a spacing list of length {len(spacing)}")
        raise RuntimeError(f"gradient: expected spacing to be unspecified, a scalar, or a list "
                           f"of length equal to 'self.dim() = {ndim}', since dim argument was "
                           f"not given, but got a list of length {len(spacing)}")
    return spacing


def _grad_uniform(f, d, h, edge_order):
    n = f.shape[d]
    inner = (f.narrow(d, 2, n - 2) - f.narrow(d, 0, n - 2)) / (2 * h)
    f0, f1, fl, fm = f.narrow(d, 0, 1), f.narrow(d, 1, 1), f.narrow(d, n - 1, 1), \
        f.narrow(d, n - 2, 1)
    if edge_order == 1:
        first, last = (f1 - f0) / h, (fl - fm) / h
    else:
        f2, fk = f.narrow(d, 2, 1), f.narrow(d, n - 3, 1)
        first = (-1.5 * f0 + 2.0 * f1 - 0.5 * f2) / h
        last = (0.5 * fk - 2.0 * fm + 1.5 * fl) / h
    from flambeau._ops.shape import cat

    return cat([first, inner, last], d)


def _grad_coords(f, d, x, edge_order):
    from flambeau._ops.shape import cat

    n = f.shape[d]
    shape = [1] * f.ndim
    dx = x[1:] - x[:-1]

    def along(v):
        s = list(shape)
        s[d] = v.shape[0]
        return v.reshape(s)

    hl, hr = along(dx[:-1]), along(dx[1:])
    inner = (hl * hl * f.narrow(d, 2, n - 2) - hr * hr * f.narrow(d, 0, n - 2)
             + (hr * hr - hl * hl) * f.narrow(d, 1, n - 2)) / (hl * hr * (hl + hr))
    f0, f1, fl, fm = f.narrow(d, 0, 1), f.narrow(d, 1, 1), f.narrow(d, n - 1, 1), \
        f.narrow(d, n - 2, 1)
    if edge_order == 1:
        first, last = (f1 - f0) / dx[0], (fl - fm) / dx[-1]
    else:
        f2, fk = f.narrow(d, 2, 1), f.narrow(d, n - 3, 1)
        a1, a2 = dx[0], dx[1]
        first = (-(2 * a1 + a2) / (a1 * (a1 + a2)) * f0 + (a1 + a2) / (a1 * a2) * f1
                 - a1 / (a2 * (a1 + a2)) * f2)
        b1, b2 = dx[-2], dx[-1]
        last = (b2 / (b1 * (b1 + b2)) * fk - (b1 + b2) / (b1 * b2) * fm
                + (2 * b2 + b1) / (b2 * (b1 + b2)) * fl)
    return cat([first, inner, last], d)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    """Estimate the gradient of a sampled function along each dimension (``numpy.gradient``
    as ``torch.gradient``): central differences inside, one-sided ones at the edges.

    Parameters
    ----------
    input : Tensor
        The function's values (integer tensors are converted to the default float dtype).
    spacing : number, list of numbers or list of 1-D Tensors, optional
        The sample spacing: one number for every dimension (None: 1), one per dimension,
        or the coordinates of the samples along each dimension.
    dim : int or list of int, optional
        The dimensions to differentiate along (default: all).
    edge_order : {1, 2}
        The order of accuracy of the differences at the edges.

    Returns
    -------
    tuple of Tensor
        One tensor of ``input``'s shape per dimension in ``dim``. Differentiable.

    Raises
    ------
    RuntimeError
        If ``edge_order`` is not 1 or 2, a differentiated dimension has fewer than
        ``edge_order + 1`` elements, ``spacing`` has the wrong length, or a coordinate
        tensor is not 1-D with the size of its dimension.

    Examples
    --------
    >>> import flambeau
    >>> f = flambeau.tensor([1.0, 4.0, 9.0, 16.0])
    >>> flambeau.gradient(f)
    (tensor([3., 4., 6., 7.]),)
    >>> flambeau.gradient(f, spacing=[flambeau.tensor([0.0, 1.0, 3.0, 4.0])], edge_order=2)
    (tensor([3.1667, 2.8333, 5.5000, 8.5000]),)
    """
    if edge_order not in (1, 2):
        raise RuntimeError(f"gradient: only supports edge_order=1 and edge_order=2 (got "
                           f"{edge_order})")
    nd = input.ndim
    given_dim = dim is not None
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, int):
        dims = [wrap_dim(dim, nd, "gradient")]
    else:
        dims = [wrap_dim(d, nd, "gradient") for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"gradient: dim {list(dim)} appears multiple times in the list "
                               "of dims")
    if nd == 0:
        return ()
    hs = _spacing_list(1 if spacing is None else spacing, dims, nd, given_dim)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError(f"gradient: expected each dimension size to be at least "
                               f"edge_order+1 (got size {input.shape[d]} for dim {d} with "
                               f"edge_order={edge_order}, input shape {list(input.shape)})")
    f = to_float(input)
    out = []
    for d, h in zip(dims, hs):
        if isinstance(h, Tensor):
            if h.ndim != 1:
                raise RuntimeError(f"gradient: expected each element of spacing to have one "
                                   f"dimension, but got an element with {h.ndim} dimensions")
            if h.shape[0] != f.shape[d]:
                raise RuntimeError(f"gradient: the coordinates for dim {d} have {h.shape[0]} "
                                   f"elements, but that dim has size {f.shape[d]}")
            h, _ = check_same_device("gradient", h, f)
            if h._data.dtype not in FLOAT_NP:
                h = h.to(f.dtype)
            out.append(_grad_coords(f, d, h, edge_order))
        else:
            out.append(_grad_uniform(f, d, float(h) if not isinstance(h, int) else h,
                                     edge_order))
    return tuple(out)


# ------------------------------------------------------------------ histogramdd

histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input, bins, range=None, weight=None, density=False):  # noqa: A002
    """A D-dimensional histogram of points: ``(hist, bin_edges)``.

    Parameters
    ----------
    input : Tensor
        Floating-point points, the last dimension holding the ``D`` coordinates of each
        (shape ``(..., D)``, at least 2-D).
    bins : int, list of int or list of Tensor
        The number of equal-width bins for every dimension, one number per dimension, or
        the increasing bin edges of each dimension (1-D tensors of ``input``'s dtype). Each
        bin holds ``[left, right)``; the last one also its right edge.
    range : sequence of float, optional
        ``(min_0, max_0, ..., min_{D-1}, max_{D-1})`` for integer ``bins``; by default each
        dimension's data range (``(0, 1)`` for no points), widened by 0.5 each way when its
        minimum equals its maximum.
    weight : Tensor, optional
        A weight per point (shape ``input.shape[:-1]``) instead of counting 1.
    density : bool
        Normalize so that the histogram integrates to 1 over the bins' volumes.

    Returns
    -------
    histogramdd
        A named tuple ``(hist, bin_edges)``: the ``D``-dimensional histogram (in
        ``input``'s dtype) and a tuple of the ``D`` edge tensors. Not differentiable.

    Raises
    ------
    RuntimeError
        If ``input`` is not floating point or not at least 2-D, ``bins`` or ``range`` do not
        match ``D``, a number of bins is not positive, a range has ``min > max`` or is not
        finite, bin edges are not 1-D non-decreasing tensors of ``input``'s dtype, or
        ``weight`` has the wrong shape or dtype.

    Examples
    --------
    >>> import flambeau
    >>> pts = flambeau.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 0.5]])
    >>> r = flambeau.histogramdd(pts, bins=[2, 2])
    >>> r.hist
    tensor([[1., 0.],
            [1., 2.]])
    >>> r.bin_edges
    (tensor([0., 1., 2.]), tensor([0., 1., 2.]))
    """
    if input._data.dtype not in FLOAT_NP:
        raise RuntimeError(f"histogramdd: expected a floating-point input, got {input.dtype}")
    if input.ndim < 2:
        raise RuntimeError(f"histogramdd: input tensor should have at least 2 dimensions (the "
                           f"last holds each point's coordinates), got shape {list(input.shape)}")
    xp = input._device._xp
    D = input.shape[-1]
    pts = input._data.reshape(-1, D)
    if isinstance(bins, int):
        bins = [bins] * D
    bins = list(bins)
    if len(bins) != D:
        raise RuntimeError(f"histogramdd: The size of bins ({len(bins)}) must be equal to the "
                           f"innermost dimension of the input ({D})")
    if range is not None:
        range = [float(v) for v in range]  # noqa: A001
        if len(range) != 2 * D:
            raise RuntimeError(f"histogramdd: for a {D}-dimensional histogram range should have "
                               f"{2 * D} elements, but got {len(range)}")
    edges = []
    for d, b in enumerate(bins):
        if isinstance(b, Tensor):
            if b.ndim != 1 or b.shape[0] < 2:
                raise RuntimeError(f"histogramdd: bin edges for dimension {d} should be a 1-D "
                                   f"tensor of at least 2 edges, got shape {list(b.shape)}")
            if b._data.dtype != pts.dtype:
                raise RuntimeError(f"histogramdd: input tensor and bins tensors should have the "
                                   f"same dtype, but got {input.dtype} and {b.dtype} for "
                                   f"dimension {d}")
            check_same_device("histogramdd", input, b)
            e = b._data
            if bool((e[1:] < e[:-1]).any()):
                raise RuntimeError(f"histogramdd: bin edges for dimension {d} must be "
                                   "non-decreasing")
            edges.append(e.copy())
            continue
        b = int(b)
        if b <= 0:
            raise RuntimeError(f"histogramdd: bins must be > 0, but got {b} for dimension {d}")
        bounds = None if range is None else range[2 * d:2 * d + 2]
        edges.append(even_bin_edges(xp, pts[:, d], b, bounds, "histogramdd", dim=d))
    w = None
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError(f"histogramdd: if weight tensor is provided it should have the "
                               f"same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {list(input.shape)} and "
                               f"weight with shape {list(weight.shape)}")
        if weight._data.dtype != pts.dtype:
            raise RuntimeError(f"histogramdd: input tensor and weight tensor should have the "
                               f"same dtype, but got {input.dtype} and {weight.dtype}")
        check_same_device("histogramdd", input, weight)
        w = weight._data.reshape(-1).astype(xp.float64)
    nbins = [e.shape[0] - 1 for e in edges]
    keep = xp.ones(pts.shape[0], dtype=bool)
    flat = xp.zeros(pts.shape[0], dtype=xp.int64)
    for d, e in enumerate(edges):
        col = pts[:, d]
        keep &= (col >= e[0]) & (col <= e[-1])
        pos = xp.searchsorted(e, col, side="right") - 1
        pos = xp.clip(pos, 0, nbins[d] - 1)  # the right edge belongs to the last bin
        flat = flat * nbins[d] + pos
    total = math.prod(nbins)
    hist = xp.bincount(flat[keep], weights=None if w is None else w[keep],
                       minlength=total).astype(xp.float64)
    hist = hist.reshape(nbins)
    if density:
        vol = xp.ones(nbins, dtype=xp.float64)
        for d, e in enumerate(edges):
            shape = [1] * D
            shape[d] = nbins[d]
            vol = vol * xp.diff(e.astype(xp.float64)).reshape(shape)
        hist = hist / (hist.sum() * vol)
    out_edges = tuple(make(e, input) for e in edges)
    return histogramdd_result(make(hist.astype(pts.dtype), input), out_edges)


# ------------------------------------------------------------------ binomial

_LOG_FACT = [math.lgamma(k + 1.0) for k in builtins.range(16)]


def _log_factorial(xp, k):
    """``log(k!)`` for non-negative integer-valued float64 ``k``: a table below 16, the
    Stirling series (error below 1e-12) above."""
    z = k + 1.0
    series = ((z - 0.5) * xp.log(z) - z + 0.5 * math.log(2 * math.pi)
              + (1.0 / 12 - (1.0 / 360 - 1.0 / (1260 * z * z)) / (z * z)) / z)
    table = xp.asarray(_LOG_FACT, dtype=xp.float64)
    small = xp.clip(k, 0, 15).astype(xp.int64)
    return xp.where(k < 16, table[small], series)


def _binomial_inversion(xp, rng, n, q):
    """Sequential search of the CDF; for ``n * q < 10`` the loop stops after a few steps."""
    u = rng.random(n.shape, np.float64)
    f = xp.exp(n * xp.log1p(-q))
    r = q / (1.0 - q)
    x = xp.zeros(n.shape, dtype=xp.float64)
    active = u > f
    for _ in builtins.range(200):  # P(X > 200 | n * q < 10) is far below float64 resolution
        if not bool(active.any()):
            break
        u = xp.where(active, u - f, u)
        x = xp.where(active, x + 1.0, x)
        f = xp.where(active, f * r * (n - x + 1.0) / xp.maximum(x, 1.0), f)
        active = active & (u > f) & (x < n)
    return xp.minimum(x, n)


def _binomial_btrs(xp, rng, n, q):
    """Hormann's transformed rejection with squeeze (BTRS), for ``n * q >= 10``; vectorized
    over the elements still waiting for an accepted draw."""
    spq = xp.sqrt(n * q * (1.0 - q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c = n * q + 0.5
    alpha = (2.83 + 5.1 / b) * spq
    vr = 0.92 - 4.2 / b
    m = xp.floor((n + 1.0) * q)
    lpq = xp.log(q / (1.0 - q))
    h = _log_factorial(xp, m) + _log_factorial(xp, n - m)
    out = xp.zeros(n.shape, dtype=xp.float64)
    todo = xp.arange(n.shape[0])
    while todo.shape[0]:
        nn, bb, aa, cc, vv = n[todo], b[todo], a[todo], c[todo], vr[todo]
        u = rng.random(todo.shape, np.float64) - 0.5
        v = rng.random(todo.shape, np.float64)
        us = 0.5 - xp.abs(u)
        k = xp.floor((2.0 * aa / us + bb) * u + cc)
        quick = (us >= 0.07) & (v <= vv)
        ok = (k >= 0) & (k <= nn)
        kk = xp.clip(k, 0, nn)
        lv = xp.log(v * alpha[todo] / (aa / (us * us) + bb))
        bound = h[todo] - _log_factorial(xp, kk) - _log_factorial(xp, nn - kk) + \
            (kk - m[todo]) * lpq[todo]
        accept = quick | (ok & (us > 0) & (lv <= bound))
        out[todo[accept]] = k[accept]
        todo = todo[~accept]
    return out


def binomial(count, prob, generator=None):
    """Samples of the binomial distribution: successes in ``count`` trials of probability
    ``prob`` each (``count`` and ``prob`` broadcast).

    Parameters
    ----------
    count : Tensor
        The numbers of trials (floating point, non-negative and finite; read as integers,
        rounded down).
    prob : Tensor
        The success probabilities, in ``[0, 1]``, of ``count``'s dtype.
    generator : Generator, optional
        The random stream to draw from (the device's default one otherwise).

    Returns
    -------
    Tensor
        Whole numbers in ``count``'s floating-point dtype. Not differentiable.

    Raises
    ------
    ValueError
        If ``count`` is not floating point.
    RuntimeError
        If the dtypes differ, a probability is outside ``[0, 1]`` (or NaN), or a count is
        negative or not finite.

    Examples
    --------
    >>> import flambeau
    >>> g = flambeau.Generator().manual_seed(0)
    >>> flambeau.binomial(flambeau.tensor([5.0, 5.0]), flambeau.tensor([0.0, 1.0]), g)
    tensor([0., 5.])
    >>> s = flambeau.binomial(flambeau.full((1000,), 40.0), flambeau.full((1000,), 0.25), g)
    >>> abs(s.mean().item() - 10.0) < 0.5
    True
    """
    if count._data.dtype not in FLOAT_NP:
        raise ValueError(f"binomial: only floating-point dtypes are supported for count, got "
                         f"{count.dtype}")
    if prob._data.dtype != count._data.dtype:
        raise RuntimeError(f"binomial: expected count and prob of the same dtype, got "
                           f"{count.dtype} and {prob.dtype}")
    count, prob = check_same_device("binomial", count, prob)
    xp = count._device._xp
    n, p = xp.broadcast_arrays(count._data.astype(xp.float64), prob._data.astype(xp.float64))
    if n.size and not bool(((p >= 0) & (p <= 1)).all()):
        raise RuntimeError("binomial: prob must be in [0, 1], but got values outside it (or NaN)")
    if n.size and not bool((xp.isfinite(n) & (n >= 0)).all()):
        raise RuntimeError("binomial: count must be non-negative and finite")
    shape = n.shape
    n, p = xp.floor(n).reshape(-1), p.reshape(-1)
    flip = p > 0.5
    q = xp.where(flip, 1.0 - p, p)
    rng = _random.generator_for(generator, count._device)._rng
    x = xp.zeros(n.shape, dtype=xp.float64)
    small = n * q < 10
    idx = xp.nonzero(small)[0]
    if idx.shape[0]:
        x[idx] = _binomial_inversion(xp, rng, n[idx], q[idx])
    idx = xp.nonzero(~small)[0]
    if idx.shape[0]:
        x[idx] = _binomial_btrs(xp, rng, n[idx], q[idx])
    x = xp.where(flip, n - x, x)
    return Tensor._make(x.reshape(shape).astype(count._data.dtype), count._device)


#: Tensor methods attached by :mod:`flambeau._methods`
TENSOR_METHODS = {
    "as_strided": as_strided, "as_strided_": as_strided_,
    "as_strided_scatter": as_strided_scatter, "storage_offset": storage_offset,
}

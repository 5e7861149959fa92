"""More indexing ops: index_copy/index_fill, masked_scatter, put, scatter_reduce and
index_reduce, fill_diagonal_, isin, and the histograms histc and histogram.

``put`` and ``index_reduce`` compose :class:`~flambeau._ops.indexing.IndexPut` and
:func:`scatter_reduce`; the others are ``Function`` s whose forward writes into a copy of the
input with the backend's array namespace and whose backward is written with flambeau ops.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from flambeau import _dtype
from flambeau._ops._util import (
    Tensor,
    check_same_device,
    fill_int,
    make,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau._ops.indexing import (
    IndexPut,
    _check_index,
    _coords,
    bounds_check,
    index_select,
    pad_to,
)
from flambeau.autograd import _forward
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function, node_variant
from flambeau.autograd._grad_mode import no_grad
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = [
    "index_copy", "index_fill", "masked_scatter", "put", "scatter_reduce", "index_reduce",
    "isin", "histc", "histogram",
]

histogram_result = namedtuple("histogram", ["hist", "bin_edges"])

_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
           "amin": "minimum"}


def _as_1d(t):
    return t.reshape(1) if t._data.ndim == 0 else t


def _long_index(op, index):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}")
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {index.dtype}")


def _same_dtype(op, input, other, what):
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}(): self and {what} expected to have the same dtype, but got "
                           f"(self) {input.dtype} and ({what}) {other.dtype}")


def _moved(arr, axis, xp):
    """``arr`` with ``axis`` first (a view; 0-d arrays as one element)."""
    return arr.reshape(1) if arr.ndim == 0 else xp.moveaxis(arr, axis, 0)


# ------------------------------------------------------------------ index_copy / index_fill


class IndexCopy(Function):
    _graph_inputs = (0, 3)

    @staticmethod
    def forward(ctx, x, axis, index, source):
        xp = x._device._xp
        out = x._data.copy()
        _moved(out, axis, xp)[index._data.reshape(-1)] = _moved(source._data, axis, xp)
        ctx.save_for_backward(index)
        ctx.meta = (axis, source._data.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        axis, src_shape = ctx.meta
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = IndexFill.apply(g, axis, index, 0.0)
        if ctx.needs_input_grad[3]:
            gs = index_select(_as_1d(g), axis, index.reshape(-1)).reshape(src_shape)
        return gx, None, None, gs


def index_copy(input, dim, index, source, *, out=None):
    """A copy of ``input`` with the slices ``source[..., j, ...]`` written at positions
    ``index[j]`` along ``dim``.

    ``index`` is a 1-D (or 0-d) int64 tensor with one entry per slice of ``source``;
    repeated entries leave one of the written slices (which one is unspecified, as in
    PyTorch), and their gradients are not meaningful.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(3, 2)
    >>> flambeau.index_copy(x, 0, flambeau.tensor([2, 0]), flambeau.tensor([[1., 2.], [3., 4.]]))
    tensor([[3., 4.],
            [0., 0.],
            [1., 2.]])
    """
    _long_index("index_copy", index)
    if index._data.ndim > 1:
        raise IndexError(f"index_copy(): Index should have dimension 1 or 0 (got "
                         f"{index._data.ndim})")
    nd, snd = input._data.ndim, source._data.ndim
    axis = wrap_dim(dim, nd, "index_copy")
    if nd and snd and nd != snd:
        raise IndexError(f"index_copy(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({snd}), "
                         f"destination dimensionality ({nd})")
    n_src = source._data.shape[axis] if snd else 1
    if index._data.size != n_src:
        raise IndexError(f"index_copy(): Number of indices ({index._data.size}) should be equal "
                         f"to source.size(dim) ({n_src})")
    dst_slice = tuple(s for i, s in enumerate(input._data.shape) if i != axis)
    src_slice = tuple(s for i, s in enumerate(source._data.shape) if i != axis)
    if dst_slice != src_slice:
        raise RuntimeError(f"index_copy(): Source/destination tensor must have same slice "
                           f"shapes (all dims but {axis}): destination {dst_slice}, source "
                           f"{src_slice}")
    _same_dtype("index_copy", input, source, "source")
    check_same_device("index_copy", input, source)
    bounds_check("index_copy", input._device._xp, index._data,
                 input._data.shape[axis] if nd else 1, axis, exc=IndexError)
    result = IndexCopy.apply(input, axis, index, source)
    return result if out is None else write_out(result, out, exact=True)


class IndexFill(Function):
    _graph_inputs = (0,)  # a number value (with a tensor one: _IndexFillTensor)

    @staticmethod
    def forward(ctx, x, axis, index, value):
        xp = x._device._xp
        out = x._data.copy()
        v = value._data if isinstance(value, Tensor) else value
        _moved(out, axis, xp)[index._data.reshape(-1)] = v
        ctx.save_for_backward(index)
        ctx.meta = (axis, x._data.shape[axis] if x._data.ndim else 1)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        axis, size = ctx.meta
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = IndexFill.apply(g, axis, index, 0.0)
        if ctx.needs_input_grad[3]:  # each filled slice once, however often it is indexed
            xp = g._device._xp
            filled = make(xp.unique(xp.remainder(index._data.reshape(-1), size)), g)
            gv = index_select(_as_1d(g), axis, filled).sum()
        return gx, None, None, gv


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value``.

    ``value`` is a number or a 0-d tensor (differentiable); negative indices count from the
    end.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.index_fill(flambeau.zeros(2, 3), 1, flambeau.tensor([0, -1]), 7.0)
    tensor([[7., 0., 7.],
            [7., 0., 7.]])
    """
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise IndexError(f"index_fill(): Expected dtype int64 for index (got "
                         f"{index.dtype if isinstance(index, Tensor) else type(index).__name__})")
    if index._data.ndim > 1:
        raise RuntimeError(f"index_fill(): Index has to be a vector/scalar (got shape "
                           f"{tuple(index.shape)})")
    nd = input._data.ndim
    axis = wrap_dim(dim, nd, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"index_fill only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        check_same_device("index_fill", input, value)
    if (value._data.dtype.kind == "c" if isinstance(value, Tensor) else isinstance(
            value, (complex, np.complexfloating))) and input._data.dtype.kind != "c":
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not "
                           "supported")
    if isinstance(value, Tensor):
        if value._data.dtype != input._data.dtype:
            if input._data.dtype.kind in "iu":  # torch checks its range as a number's
                fill_int(value.item(), input._data.dtype)
            value = value.to(input.dtype)
    else:  # uint8 takes -1 as 255 and refuses 300, as fill_
        value = fill_int(value, input._data.dtype)
    bounds_check("index_fill", input._device._xp, index._data,
                 input._data.shape[axis] if nd else 1, axis, allow_negative=True, exc=IndexError)
    return (_IndexFillTensor if isinstance(value, Tensor) else IndexFill).apply(
        input, axis, index, value)


_IndexFillTensor = node_variant(IndexFill, "IndexFillBackward1", (0, 3))


# ------------------------------------------------------------------ masked_scatter / put


class MaskedScatter(Function):
    _graph_inputs = (0, 2)

    @staticmethod
    def forward(ctx, x, mask, source, shape, count):
        xp = x._device._xp
        out = xp.broadcast_to(x._data, shape).copy()
        out[xp.broadcast_to(mask._data, shape)] = source._data.reshape(-1)[:count]
        ctx.save_for_backward(mask)
        ctx.meta = (shape, count, source._data.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        shape, count, src_shape = ctx.meta
        m = mask.expand(*shape)
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = g.masked_fill(m, 0.0)  # the engine sums broadcast dims back to x's shape
        if ctx.needs_input_grad[2]:
            numel = 1
            for s in src_shape:
                numel *= s
            gs = pad_to(g[m], (numel,)).reshape(src_shape)
        return gx, None, gs, None, None


def masked_scatter(input, mask, source):
    """A copy of ``input`` with the positions where ``mask`` is True filled, in row-major
    order, with the first elements of ``source``.

    ``mask`` (bool) and ``input`` broadcast together; ``source`` needs at least as many
    elements as ``mask`` has True entries.

    Examples
    --------
    >>> import flambeau
    >>> m = flambeau.tensor([[True, False], [True, True]])
    >>> flambeau.masked_scatter(flambeau.zeros(2, 2), m, flambeau.tensor([1., 2., 3., 4.]))
    tensor([[1., 0.],
            [2., 3.]])
    """
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter: only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype if isinstance(mask, Tensor) else type(mask)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {input.dtype} and {source.dtype}")
    check_same_device("masked_scatter", input, mask)
    check_same_device("masked_scatter", input, source)
    from flambeau._ops.shape import broadcast_shapes

    shape = tuple(broadcast_shapes(input.shape, mask.shape))
    xp = input._device._xp
    count = int(xp.broadcast_to(mask._data, shape).sum())
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: Number of elements of source "
                           f"({source._data.size}) < number of ones in mask ({count})")
    return MaskedScatter.apply(input, mask, source, shape, count)


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written (or added, ``accumulate``) at the flat
    positions ``index`` (as if ``input`` were 1-D; negative positions count from the end).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, 3)
    >>> flambeau.put(x, flambeau.tensor([1, -1]), flambeau.tensor([9., 8.]))
    tensor([[0., 9., 0.],
            [0., 0., 8.]])
    >>> x.put(flambeau.tensor([1, 1]), flambeau.tensor([9., 8.]), accumulate=True)
    tensor([[ 0., 17.,  0.],
            [ 0.,  0.,  0.]])
    """
    _long_index("put", index)
    _same_dtype("put", input, source, "source")
    check_same_device("put", input, source)
    check_same_device("put", input, index)
    if source._data.size != index._data.size:
        raise IndexError(f"put(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {index._data.size}")
    n = input._data.size
    idx = index._data.reshape(-1)
    if idx.size and n == 0:
        raise IndexError("put(): Tried to put elements into an empty tensor")
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"put(): index {bad} is out of range for a tensor of {n} elements")
    flat = IndexPut.apply(input.reshape(-1), (idx,), source.reshape(-1), bool(accumulate))
    return flat.reshape(input.shape)


# ------------------------------------------------------------------ scatter_reduce / index_reduce


def _identity(reduce, dtype):
    """The value a reduction starts from when ``include_self=False``."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -np.inf if reduce == "amax" else np.inf


def _at_in_rounds(xp, ufunc, out, coords, values):
    """``ufunc.at(out, coords, values)`` for backends whose ufunc has no ``at``.

    Sorting the flat target positions (stably) ranks repeated positions; round ``k`` applies
    every position's ``k``-th value at once through fancy indexing, where positions are
    distinct, so values meet in the order ``ufunc.at`` would use.
    """
    coords = xp.broadcast_arrays(*coords)
    flat_pos = xp.ravel_multi_index(tuple(c.reshape(-1) for c in coords), out.shape)
    vals = xp.broadcast_to(values, coords[0].shape).reshape(-1)
    if flat_pos.size == 0:
        return
    order = xp.argsort(flat_pos, kind="stable")
    pos, vals = flat_pos[order], vals[order]
    first = xp.concatenate([xp.ones(1, dtype=bool), pos[1:] != pos[:-1]])
    starts = xp.nonzero(first)[0]
    lengths = xp.diff(xp.concatenate([starts, xp.asarray([pos.size])]))
    rank = xp.arange(pos.size) - xp.repeat(starts, lengths)
    target = out.reshape(-1)  # out is a fresh contiguous copy: this is a view
    for k in range(int(rank.max()) + 1):
        pick = rank == k
        p = pos[pick]
        target[p] = ufunc(target[p], vals[pick])


def _ufunc_at(device, name, out, coords, values):
    xp = device._xp
    if name == "add":
        kernel = device._backend.kernels.get("index_add_at")
        if kernel is not None and hasattr(values, "shape"):
            kernel(out, coords, values)
            return
    ufunc = getattr(xp, name)
    if name != "add" and not device._backend.host_memory:
        # CuPy's maximum.at / minimum.at gave wrong groups on the GPU (int64 minima, and
        # maxima whose gradients found no source): the rounds use plain fancy indexing only
        _at_in_rounds(xp, ufunc, out, coords, values)
        return
    try:
        ufunc.at(out, coords, values)
    except (NotImplementedError, AttributeError):
        _at_in_rounds(xp, ufunc, out, coords, values)


class ScatterReduce(Function):
    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self):
        device = x._device
        xp = device._xp
        idx = index._data
        out = x._data.copy()
        coords = _coords(xp, idx, axis)
        values = src._data[tuple(slice(0, n) for n in idx.shape)]
        if not include_self:
            out[coords] = _identity(reduce, out.dtype)
        _ufunc_at(device, _UFUNCS[reduce], out, coords, values)
        count = None
        if reduce == "mean":
            count = xp.zeros(out.shape, dtype=xp.int64)
            _ufunc_at(device, "add", count, coords, xp.ones(idx.shape, dtype=xp.int64))
            if include_self:
                count += 1
            count = xp.maximum(count, 1)  # untouched positions keep their value
            if out.dtype.kind in "iub":
                out = xp.floor_divide(out, count).astype(out.dtype)
            else:
                out = out / count.astype(out.dtype)
        ctx.save_for_backward(x, index, src)
        ctx.meta = (axis, reduce, include_self, count)
        return out

    @staticmethod
    def backward(ctx, g):
        x, index, src = ctx.saved_tensors
        axis, reduce, include_self, count = ctx.meta
        need_x, need_src = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        s = src
        if tuple(src.shape) != tuple(index.shape):
            s = src[tuple(slice(0, n) for n in index.shape)]
        gx = gs = None
        if reduce == "sum":
            gx, gs = g, g.gather(axis, index) if need_src else None
        elif reduce == "mean":
            gm = g / make(count, g).to(g.dtype)
            gx, gs = gm, gm.gather(axis, index) if need_src else None
        elif reduce == "prod":
            gx, gs = _prod_grads(g, x, index, s, axis, include_self)
        else:
            # the output is recomputed, not saved: the caller may change it in place
            with no_grad():
                res = ScatterReduce.apply(x.detach(), axis, index, src.detach(), reduce,
                                          include_self)
            self_hit = x == res
            if not include_self:
                self_hit = self_hit.scatter(axis, index, False)
            src_hit = s == res.gather(axis, index)
            # ties share the gradient evenly
            ties = self_hit.to(g.dtype).scatter_add(axis, index, src_hit.to(g.dtype))
            gd = g / ties.clamp(min=1.0)
            gx, gs = gd * self_hit, gd.gather(axis, index) * src_hit
        if not need_x:
            gx = None
        elif not include_self:  # x only survives where no index points
            gx = g.scatter(axis, index, 0.0)
        if not need_src:
            gs = None
        elif tuple(gs.shape) != tuple(src.shape):
            gs = pad_to(gs, src.shape)
        return gx, None, None, gs, None, None


def _prod_grads(g, x, index, s, axis, include_self):
    """Gradients of a scatter product: the product of the other factors of each group.

    Each group's product is split into ``P``, the product of its non-zero factors, and
    ``Z``, the product of its zero factors (``k`` of them). A non-zero factor ``f`` gets
    ``P / f * Z``; a zero factor gets ``P`` when it is the only zero, ``P`` times the other
    zero when there are two (a value of 0 whose derivative is not), else 0. Written with
    differentiable ops, so second derivatives are exact at zeros too.
    """
    from flambeau._ops.elementwise import where

    zero_x, zero_s = x == 0, s == 0
    dt = g.dtype
    count = zero_x.to(dt) if include_self else x.new_zeros(x.shape).to(dt)
    count = count.scatter_add(axis, index, zero_s.to(dt))

    def group(reduce, fx, fs):
        return ScatterReduce.apply(fx, axis, index, fs, reduce, include_self)

    nonzero_prod = group("prod", where(zero_x, 1.0, x), where(zero_s, 1.0, s))
    zero_prod = group("prod", where(zero_x, x, 1.0), where(zero_s, s, 1.0))
    zero_sum = group("sum", where(zero_x, x, 0.0), where(zero_s, s, 0.0))

    def others(is_zero, f, p, zp, zs, k):
        safe = where(is_zero, 1.0, f)
        for_zero = where(k == 1, p, where(k == 2, p * (zs - f), 0.0))
        return where(is_zero, for_zero, p / safe * zp)

    def at_src(t):
        return t.gather(axis, index)

    gx = g * others(zero_x, x, nonzero_prod, zero_prod, zero_sum, count)
    gs = at_src(g) * others(zero_s, s, at_src(nonzero_prod), at_src(zero_prod),
                            at_src(zero_sum), at_src(count))
    return gx, gs


def _check_reduce(op, reduce, allowed):
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce) if op == "scatter_reduce" \
        else reduce
    if reduce not in allowed:
        names = ", ".join(allowed[:-1]) + " or " + allowed[-1]
        raise RuntimeError(f"{op}(): reduce argument must be either {names}, got {reduce!r}")
    return reduce


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """A copy of ``input`` with the values of ``src`` reduced into it at ``index`` along
    ``dim`` (as :func:`scatter_add`, with another reduction).

    Parameters
    ----------
    input, src : Tensor
        Of one dtype; ``src`` has at least ``index``'s size in every dim.
    dim : int
    index : Tensor
        Integer indices, with ``input``'s number of dims; ``out[i][index[i][j]]`` (for
        ``dim=1``) receives ``src[i][j]``.
    reduce : {"sum", "prod", "mean", "amax", "amin"}
        ``"mean"`` of integers rounds down, as PyTorch.
    include_self : bool
        Whether ``input``'s values at the indexed positions join the reduction (positions no
        index reaches keep ``input``'s value either way).

    Notes
    -----
    Differentiable for every reduction. ``amax``/``amin`` share the gradient evenly between
    tied values; with ``include_self=False`` only the ``src`` values count as ties (PyTorch
    also counts an equal ``input`` value there, so its ``src`` gradients then sum to less than
    the output gradient). ``prod`` gradients are exact with zeros among the factors.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1., 2., 3.])
    >>> i = flambeau.tensor([0, 1, 0, 1])
    >>> s = flambeau.tensor([5., 6., 7., 8.])
    >>> flambeau.scatter_reduce(x, 0, i, s, "amax")
    tensor([7., 8., 3.])
    >>> x.scatter_reduce(0, i, s, "mean", include_self=False)
    tensor([6., 7., 3.])
    """
    reduce = _check_reduce("scatter_reduce", reduce, _REDUCES)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): src must be a Tensor, got {type(src).__name__}")
    nd = input._data.ndim
    _check_index("scatter_reduce", index, dim, nd)
    if src._data.ndim != index._data.ndim and not (src._data.ndim <= 1 and nd <= 1):
        raise RuntimeError(f"scatter_reduce(): Index tensor must have the same number of "
                           f"dimensions as src tensor (got {index._data.ndim} and "
                           f"{src._data.ndim})")
    if nd == 0:
        result = scatter_reduce(input.reshape(1), 0, index.reshape(1), _as_1d(src), reduce,
                                include_self=include_self).reshape(())
        return result if out is None else write_out(result, out, exact=True)
    axis = wrap_dim(dim, nd, "scatter_reduce")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype "
                           f"(got {input.dtype} and {src.dtype})")
    check_same_device("scatter_reduce", input, src)
    check_same_device("scatter_reduce", input, index)
    ishape, xshape, sshape = index._data.shape, input._data.shape, src._data.shape
    if builtins.any(ishape[d] > sshape[d] or (d != axis and ishape[d] > xshape[d])
                    for d in range(nd)):
        raise RuntimeError(f"scatter_reduce(): Expected index {list(ishape)} to be no larger "
                           f"than self {list(xshape)} apart from dimension {axis} and to be no "
                           f"larger size than src {list(sshape)}")
    bounds_check("scatter_reduce", input._device._xp, index._data, xshape[axis], axis)
    result = ScatterReduce.apply(input, axis, index, src, reduce, bool(include_self))
    return result if out is None else write_out(result, out, exact=True)


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """A copy of ``input`` with the slices of ``source`` reduced into the slices at
    ``index`` along ``dim``.

    ``reduce`` is ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``; ``index`` is a 1-D
    integer tensor with one entry per slice of ``source``. Gradients as in
    :func:`scatter_reduce`.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(3, 2)
    >>> s = flambeau.tensor([[1., 2.], [3., 4.], [5., 6.]])
    >>> flambeau.index_reduce(x, 0, flambeau.tensor([0, 2, 0]), s, "prod")
    tensor([[ 5., 12.],
            [ 1.,  1.],
            [ 3.,  4.]])
    """
    reduce = _check_reduce("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_reduce(): Expected an integer index tensor (got "
                           f"{index.dtype if isinstance(index, Tensor) else type(index)})")
    if index._data.ndim > 1:
        raise IndexError(f"index_reduce(): Index is supposed to be a vector, but got dim: "
                         f"{index._data.ndim} with size: {list(index.shape)}")
    nd = input._data.ndim
    axis = wrap_dim(dim, nd, "index_reduce")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_reduce(): self ({input.dtype}) and source ({source.dtype}) "
                           "must have the same scalar type")
    xshape, sshape = input._data.shape, source._data.shape
    if len(sshape) != nd or builtins.any(sshape[d] != xshape[d] for d in range(nd)
                                         if d != axis):
        raise RuntimeError(f"index_reduce(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = {list(xshape)} "
                           f"source.shape = {list(sshape)}")
    n_src = sshape[axis] if nd else 1
    if index._data.size != n_src:
        raise RuntimeError(f"index_reduce(): Number of indices ({index._data.size}) should be "
                           f"equal to source.size(dim): ({n_src}), for dim: {axis}")
    bounds_check("index_reduce", input._device._xp, index._data, xshape[axis] if nd else 1,
                 axis, exc=IndexError)
    if nd == 0:
        result = scatter_reduce(input, 0, index.reshape(()), source, reduce,
                                include_self=include_self)
    else:
        view = [1] * nd
        view[axis] = -1
        full = index.reshape(view).expand(*sshape)
        result = scatter_reduce(input, axis, full, source, reduce, include_self=include_self)
    return result if out is None else write_out(result, out, exact=True)


# ------------------------------------------------------------------ fill_diagonal_


class FillDiagonal(Function):
    @staticmethod
    def forward(ctx, x, coords, value):
        out = x._data.copy()
        out[coords] = value
        ctx.coords = coords
        return out

    @staticmethod
    def backward(ctx, g):
        return FillDiagonal.apply(g, ctx.coords, 0.0), None, None


def _diagonal_coords(xp, shape, wrap):
    if len(shape) > 2 or not wrap or shape[0] <= shape[1]:
        n = builtins.min(shape)
        r = xp.arange(n)
        return (r,) * len(shape)
    # a tall matrix with wrap: the diagonal restarts after a blank row, every cols + 1
    # elements of the row-major layout
    rows, cols = shape
    flat = xp.arange(0, rows * cols, cols + 1)
    return flat // cols, flat % cols


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal with ``fill_value`` in place.

    Tensors of more than 2 dims must have all dims equal (the diagonal is ``[i, i, ..., i]``);
    with ``wrap``, the diagonal of a tall matrix restarts below itself after one blank row,
    as NumPy's ``fill_diagonal``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).fill_diagonal_(5.0)
    tensor([[5., 0., 0.],
            [0., 5., 0.]])
    >>> flambeau.zeros(5, 2).fill_diagonal_(1.0, wrap=True)
    tensor([[1., 0.],
            [0., 1.],
            [0., 0.],
            [1., 0.],
            [0., 1.]])
    """
    from flambeau._inplace import write_result

    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1 (got shape "
                           f"{tuple(shape)})")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length "
                           f"(got shape {tuple(shape)})")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if isinstance(fill_value, (complex, np.complexfloating)):  # torch's error for 1j in reals
        from flambeau._creation import scalar_for

        fill_value = scalar_for(fill_value, self.dtype)
    coords = _diagonal_coords(self._device._xp, shape, wrap)
    if not (_grad_state.grad_enabled and (self._requires_grad or (
            self._base is not None and self._base._requires_grad))) and not (
            _autograd_function._forward_ad_on and _forward.involves(self)):
        self._data[coords] = fill_value
        self._version_counter.value += 1
        return self
    return write_result(self, lambda src: FillDiagonal.apply(src, coords, fill_value),
                        "fill_diagonal_")


# ------------------------------------------------------------------ membership and histograms


def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """Whether each element of ``elements`` is in ``test_elements`` (a bool tensor shaped
    like ``elements``); either may be a number. Values compare after type promotion.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isin(flambeau.tensor([[1, 2], [3, 4]]), flambeau.tensor([2, 3]))
    tensor([[False,  True],
            [ True, False]])
    >>> flambeau.isin(flambeau.tensor([1, 2]), 2, invert=True)
    tensor([ True, False])
    """
    from flambeau._creation import as_tensor

    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin(): expected elements or test_elements to be a Tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    ref = elements if isinstance(elements, Tensor) else test_elements
    for v in (elements, test_elements):
        if isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype.kind == "b"):
            raise RuntimeError("isin(): bool inputs are not supported (compare with eq() or "
                               "convert to an integer dtype)")
    rt = _dtype.result_type(elements, test_elements)
    e = elements if isinstance(elements, Tensor) else as_tensor(elements, device=ref.device)
    t = test_elements if isinstance(test_elements, Tensor) else as_tensor(test_elements,
                                                                         device=ref.device)
    e, t = check_same_device("isin", e, t)
    xp = ref._device._xp
    res = xp.isin(e._data.astype(rt.np, copy=False), t._data.astype(rt.np, copy=False).ravel(),
                  assume_unique=assume_unique, invert=invert)
    result = make(xp.asarray(res), e)
    return result if out is None else write_out(result, out, exact=True)


def _float_input(op, input):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} inputs (convert "
                                  "to a floating point dtype)")


@with_out
def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """Counts of the elements in ``bins`` equal-width bins between ``min`` and ``max``.

    When ``min == max`` the data's own minimum and maximum are used (widened by 1 each way
    when equal). Elements outside the range (and NaNs) are not counted; the result has the
    input's dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.histc(flambeau.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    _float_input("histc", input)
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    if min > max:
        raise RuntimeError(f"histc: max must be larger than min (got min={min}, max={max})")
    xp = input._device._xp
    a = input._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc: range of [{lo}, {hi}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    t = a.dtype.type
    keep = (a >= t(lo)) & (a <= t(hi))
    pos = xp.floor((a[keep] - t(lo)) * t(bins) / (t(hi) - t(lo))).astype(xp.int64)
    counts = xp.bincount(xp.minimum(pos, bins - 1), minlength=bins)
    return make(counts.astype(a.dtype), input)



def even_bin_edges(xp, values, bins, range_, op, dim=None):
    """``bins + 1`` evenly spaced edges of ``values``'s dtype over ``range_`` (lo, hi), or over
    the span of ``values`` (0 to 1 when empty; widened by 0.5 each way when it is one point).
    ``dim`` names the dimension in errors (histogramdd)."""
    where = "" if dim is None else f" for dimension {dim}"
    if range_ is not None:
        lo, hi = (float(v) for v in range_)
        if lo > hi:
            raise RuntimeError(f"{op}: min should not exceed max, but got min {lo} max {hi}"
                               f"{where}")
    elif values.size:
        lo, hi = float(values.min()), float(values.max())
    else:
        lo, hi = 0.0, 1.0
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"{op}: range [{lo}, {hi}] is not finite{where}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return xp.linspace(lo, hi, bins + 1, dtype=xp.float64).astype(values.dtype)


def histogram(input, bins=100, *, range=None, weight=None, density=False,  # noqa: A002
              out=None):
    """A histogram of ``input``: ``(hist, bin_edges)``.

    Parameters
    ----------
    input : Tensor
        Floating point values (flattened).
    bins : int or Tensor
        A number of equal-width bins over ``range`` (100 by default, as torch), or the
        increasing bin edges (a 1-D tensor of ``input``'s dtype). Each bin holds
        ``[left, right)``; the last also its right edge.
    range : tuple of float, optional
        ``(min, max)``; by default the data's range, or ``(0, 1)`` for an empty input. A
        range with ``min == max`` is widened by 0.5 each way.
    weight : Tensor, optional
        A weight per element (same shape and dtype as ``input``) instead of counting 1.
    density : bool
        Normalize so that the histogram integrates to 1 over the edges.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.histogram(flambeau.tensor([1., 2., 1.]), 2, range=(0.0, 2.0))
    histogram(hist=tensor([0., 3.]), bin_edges=tensor([0., 1., 2.]))
    >>> flambeau.histogram(flambeau.tensor([1., 2., 1.]), flambeau.tensor([0., 1.5, 3.])).hist
    tensor([2., 1.])
    """
    _float_input("histogram", input)
    xp = input._device._xp
    a = input._data.reshape(-1)
    if isinstance(bins, Tensor):
        if bins._data.ndim != 1:
            raise RuntimeError(f"histogram: bins tensor should have one dimension, but got "
                               f"{bins._data.ndim} dimensions")
        if bins._data.size < 2:
            raise RuntimeError(f"histogram(): bins must be > 0, but got {bins._data.size - 1}")
        if bins._data.dtype != a.dtype:
            raise RuntimeError(f"histogram: input tensor and bins tensor should have the same "
                               f"dtype, but got {input.dtype} and {bins.dtype}")
        check_same_device("histogram", input, bins)
        edges = bins._data
    else:
        bins = int(bins)
        if bins <= 0:
            raise RuntimeError(f"histogram(): bins must be > 0, but got {bins}")
        edges = even_bin_edges(xp, a, bins, range, "histogram")
    w = None
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"histogram: weight should have the same shape as input, but "
                               f"got input with shape {list(input.shape)} and weight with "
                               f"shape {list(weight.shape)}")
        if weight._data.dtype != a.dtype:
            raise RuntimeError(f"histogram: input tensor and weight tensor should have the same "
                               f"dtype, but got {input.dtype} and {weight.dtype}")
        check_same_device("histogram", input, weight)
        w = weight._data.reshape(-1)
    nbins = edges.shape[0] - 1
    keep = (a >= edges[0]) & (a <= edges[-1])
    pos = xp.searchsorted(edges, a[keep], side="right") - 1
    pos = xp.clip(pos, 0, nbins - 1)  # the right edge belongs to the last bin
    hist = xp.bincount(pos, weights=None if w is None else w[keep].astype(xp.float64),
                       minlength=nbins).astype(a.dtype)
    if density:
        total = hist.sum()
        hist = (hist / (total * xp.diff(edges))).astype(a.dtype)
    result = histogram_result(make(hist, input), make(edges.copy(), input))
    return result if out is None else write_out(result, out, exact=True)


#: Tensor methods attached by :mod:`flambeau._methods`
TENSOR_METHODS = {
    "index_copy": index_copy, "index_fill": index_fill, "masked_scatter": masked_scatter,
    "put": put, "scatter_reduce": scatter_reduce, "index_reduce": index_reduce,
    "histc": histc, "histogram": histogram, "fill_diagonal_": fill_diagonal_,
}

#: ops that get an in-place ``name_`` method through :func:`flambeau._inplace.write_result`
INPLACE_METHODS = ["index_copy", "index_fill", "masked_scatter", "put", "scatter_reduce",
                   "index_reduce"]

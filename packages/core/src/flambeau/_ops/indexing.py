"""Indexing: ``t[...]`` and ``t[...] = v``, gather/scatter, index_select/index_add, sort, topk,
unique, nonzero, masked ops."""

from __future__ import annotations

import math

import numpy as np

from flambeau import _dtype, return_types
from flambeau._ops._util import (
    FLOAT_NP,
    Tensor,
    fill_int,
    make,
    refuse_grad,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau.autograd import _forward
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function, mark_view, node_variant

# ------------------------------------------------------------------ subscripts


def _convert_index(t, index):
    """A subscript for the backend array: tensors become arrays, errors become PyTorch's."""
    if not isinstance(index, tuple):
        index = (index,)
    xp = t._device._xp
    out = []
    advanced = False
    for item in index:
        if isinstance(item, Tensor):
            if item._device is not t._device and not (item._device.type == "cpu"):
                raise RuntimeError(
                    f"indices should be either on cpu or on the same device as the indexed "
                    f"tensor ({t._device}), got {item._device}"
                )
            arr = item._data if item._device is t._device else t._device.backend.from_host(
                item._device.backend.to_host(item._data), t._device.index)
            kind = arr.dtype.kind
            if kind == "f":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors "
                    f"(got {item.dtype})"
                )
            if kind == "u" and arr.dtype.itemsize == 1:
                arr = arr.astype(bool)
            out.append(arr)
            advanced = True
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(*(_int_or_none(v) for v in (item.start, item.stop, item.step))))
        elif isinstance(item, (list, tuple, range)):  # a tuple inside the index: a sequence
            arr = xp.asarray(list(item))
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
            advanced = True
        elif isinstance(item, bool):
            # torch: unsqueeze, then index the new dim with [0] (True) or [] (False): an
            # advanced index, so a copy (NumPy reads a bool scalar the same way)
            out.append(item)
            advanced = True
        elif item is None or item is Ellipsis or isinstance(item, int):
            out.append(item)
        elif hasattr(item, "__index__"):
            out.append(item.__index__())
        elif hasattr(item, "dtype") and hasattr(item, "shape"):  # NumPy / CuPy arrays
            out.append(xp.asarray(item))
            advanced = True
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                f"Variables are valid indices (got {type(item).__name__})"
            )
    if advanced and not t._device.backend.host_memory:
        _check_device_indices(t, out)
    elif not advanced and Ellipsis not in out:
        out.append(Ellipsis)  # NumPy gives a copied scalar for x[i, j], a 0-d view for x[i, j, ...]
    return tuple(out), advanced


def _check_device_indices(t, items):
    """NumPy raises on an out-of-range index array; CuPy wraps it around silently. On a
    device, check each integer index array against the size of the dimension it indexes
    (one transfer of its minimum and maximum) and raise NumPy's IndexError."""
    xp = t._device._xp
    shape = t._data.shape
    consumed = [0 if i is None or i is Ellipsis or isinstance(i, bool) else
                i.ndim if getattr(getattr(i, "dtype", None), "kind", "") == "b" else 1
                for i in items]
    dim = 0
    for pos, item in enumerate(items):
        if item is Ellipsis:
            dim = len(shape) - sum(consumed[pos + 1:])
            continue
        if hasattr(item, "dtype") and item.dtype.kind in "iu" and dim < len(shape):
            bad = _out_of_range(xp, item, shape[dim])
            if bad is not None:
                raise _index_error(f"index {bad} is out of bounds for dimension {dim} with "
                                   f"size {shape[dim]}", t)
        dim += consumed[pos]


def _int_or_none(v):
    if v is None:
        return None
    return v.__index__() if not isinstance(v, int) else v


def _index_error(exc, t):
    msg = str(exc).replace("axis", "dimension")
    return IndexError(f"{msg} (indexing a tensor of shape {tuple(t.shape)})")


class Index(Function):
    """``x[index]`` in one node, named as torch's last op of the subscript (see
    :func:`_basic_node`): ``IndexBackward0`` for an advanced index."""

    @staticmethod
    def forward(ctx, x, index, advanced):
        try:
            out = x._data[index]
        except IndexError as exc:
            raise _index_error(exc, x) from None
        ctx._is_view = not advanced
        ctx.meta = (x._data.shape, index, advanced)
        if not advanced:
            return out
        return out if out.__class__ is x._device._atype else x._device._xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        shape, index, advanced = ctx.meta
        return IndexAddInto.apply(g, index, advanced, shape), None, None

    @staticmethod
    def _backward_into(ctx, buffer, g):
        # backward's result is zeros with g at index: add g at index of the sum instead
        _, index, advanced = ctx.meta
        if advanced:
            kernel = g._device._backend.kernels.get("index_add_at")
            (kernel or g._device._xp.add.at)(buffer._data, index, g._data)
        else:  # a basic index never repeats an element
            buffer._data[index] += g._data
        return True


_Select = node_variant(Index, "SelectBackward0")
_Slice = node_variant(Index, "SliceBackward0")
_IndexUnsqueeze = node_variant(Index, "UnsqueezeBackward0")
_IndexAlias = node_variant(Index, "AliasBackward0")


def _basic_node(idx):
    """The node class of basic subscript ``idx`` (converted): torch applies the items one
    by one, so its node is that of the last one that does something, an integer (select),
    a slice other than ``:`` or None (unsqueeze); an alias if none does."""
    for item in reversed(idx):  # the common subscripts decide at their last item or two
        kind = item.__class__
        if kind is int:
            return _Select
        if kind is slice:
            if item.start is None and item.stop is None and item.step is None:
                continue
            return _Slice
        if item is None:
            return _IndexUnsqueeze
    return _IndexAlias


class IndexAddInto(Function):
    """zeros(shape) with ``g`` added at ``index`` (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, g, index, advanced, shape):
        xp = g._device._xp
        z = xp.zeros(shape, dtype=g._data.dtype)
        ctx.meta = (index, advanced)
        if advanced:
            kernel = g._device._backend.kernels.get("index_add_at")
            (kernel or xp.add.at)(z, index, g._data)
        else:
            z[index] = g._data
        return z

    @staticmethod
    def backward(ctx, gg):
        index, advanced = ctx.meta
        return Index.apply(gg, index, advanced), None, None, None


_BASIC_ITEMS = frozenset({slice, int, type(None), type(Ellipsis)})


def _is_int(item):
    if isinstance(item, Tensor):
        return item._data.ndim == 0 and item._data.dtype.kind in "iu"
    return not isinstance(item, bool) and (isinstance(item, (int, np.integer)) or (
        hasattr(item, "__index__") and not hasattr(item, "shape")))


def _is_advanced(item):
    if isinstance(item, Tensor):
        return item._data.ndim > 0 or item._data.dtype.kind == "b"
    return isinstance(item, (bool, list, range)) or getattr(item, "ndim", 0) > 0


def _ints_first(index):
    """PyTorch's order for integers mixed with advanced indices apart from them: the integers
    select first, and the advanced indices then place their result by NumPy's rule among
    what is left (``x[0, :, [0, 1]]`` on a (2, 3, 4) tensor is (3, 2); NumPy gives (2, 3)).
    Returns ``(selects, rest)`` to apply one after the other, or None when one NumPy
    subscript already gives PyTorch's result (integers and advanced indices side by side)."""
    # the common subscripts leave at once: fewer than three items (an integer, a gap and an
    # advanced index are needed), or only slices, integers, None and Ellipsis
    if index.__class__ is not tuple or len(index) < 3:
        return None
    for item in index:
        if item.__class__ not in _BASIC_ITEMS:
            break
    else:
        return None
    spots = [i for i, item in enumerate(index) if _is_int(item) or _is_advanced(item)]
    if len(spots) < 2 or spots[-1] - spots[0] == len(spots) - 1:
        return None
    if not any(_is_int(index[i]) for i in spots) or not any(
            _is_advanced(index[i]) for i in spots):
        return None
    selects, rest = [], []
    for item in index:
        if _is_int(item):
            selects.append(int(item))
            continue
        rest.append(item)
        if item is Ellipsis:
            selects.append(Ellipsis)
        elif isinstance(item, Tensor) and item._data.dtype.kind == "b":
            selects.extend([slice(None)] * item._data.ndim)  # a mask spans its dims
        elif item is not None and not isinstance(item, bool):
            selects.append(slice(None))
    return tuple(selects), tuple(rest)


def _check_0d_int(t, index):
    """An integer index of a 0-d tensor: torch's errors (old code's ``loss.data[0]``)."""
    if t._data.ndim == 0 and _is_int(index) and not isinstance(index, Tensor):
        i = index.__index__()
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number" if i == 0 else
            f"index {i} is out of bounds for dimension 0 with size 0")


def getitem(t, index):
    """``t[index]``: basic indexing gives a view, advanced indexing a copy."""
    _check_0d_int(t, index)
    split = _ints_first(index)
    if split is not None:
        return getitem(getitem(t, split[0]), split[1])
    idx, advanced = _convert_index(t, index)
    return _indexed(t, idx, advanced)


def _indexed(t, idx, advanced):
    """``t[idx]`` for a converted subscript: a plain view when nothing is recorded."""
    if not advanced:
        if not t.requires_grad and not _autograd_function._forward_ad_on:
            return _basic_view(t, idx)
        return _basic_node(idx).apply(t, idx, False)
    return Index.apply(t, idx, True)


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, index, value, accumulate):
        xp = x._device._xp
        out = x._data.copy()
        v = value._data if isinstance(value, Tensor) else value
        ctx.meta = (index, accumulate)
        try:
            if accumulate:
                xp.add.at(out, index, v)
            else:
                out[index] = v
        except IndexError as exc:
            raise _index_error(exc, x) from None
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape "
                f"{tuple(value.shape) if isinstance(value, Tensor) else ()} cannot be broadcast "
                f"to indexing result of shape {tuple(x._data[index].shape)}"
            ) from None
        return out

    @staticmethod
    def backward(ctx, g):
        index, accumulate = ctx.meta
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g if accumulate else IndexPut.apply(g, index, 0.0, False)
        if ctx.needs_input_grad[2]:
            gv = Index.apply(g, index, True)
        return gx, None, gv, None


def setitem(t, index, value):
    """``t[index] = value``, differentiable with respect to ``t`` and ``value``."""
    from flambeau._inplace import needs_history, write_result

    if index is False:  # torch writes nothing (not even a shape check, nor a version bump)
        return
    _check_0d_int(t, index)
    split = _ints_first(index)
    if split is not None:  # into the view the integers select (see _ints_first)
        return setitem(getitem(t, split[0]), split[1], value)
    idx, advanced = _convert_index(t, index)
    if advanced and isinstance(value, Tensor) and any(item is False for item in idx):
        _check_empty_write(t, idx, value)
    if not isinstance(value, Tensor):
        if value.__class__ is int and not -(1 << 63) <= value < 1 << 63:
            raise ValueError("Overflow when unpacking long long")  # torch's, uint64 x too
        # x[0] = 1j: torch's error for a real x; x[0] = 300 for uint8 x: as fill_, refused
        value = fill_int(_scalar_for(value, t), t._data.dtype)
    else:
        shape = value._data.shape
        if shape[:1] == (1,):  # torch drops the value's leading 1s (x[t0] = [v] is allowed)
            value = value.reshape(_strip_ones(shape))
        if value._data.dtype != t._data.dtype:
            # a lone bool selects like a basic index in torch (x[True] = v is a copy)
            items = () if isinstance(index, bool) else _tensor_items(idx)
            if _fills_mask(items, value, False, mask_0d=False):
                value = _mask_source(t, value)
            else:
                value = _put_source(t, idx, value, items)
        if value._device is not t._device:
            value = value.to(t._device)
    from flambeau.autograd._grad_mode import state

    if _autograd_function._forward_ad_on and _forward.involves(t, (value,)):
        write_result(t, lambda src: IndexPut.apply(src, idx, value, False), "setitem")
        return  # forward AD: IndexPut gives the tangent written into t's
    recording = state.grad_enabled and (
        needs_history(t) or (isinstance(value, Tensor) and value.requires_grad))
    if recording and not advanced:
        # a write into the view t[index]: O(size of the view), where IndexPut copies all of t
        _write_into_view(t, idx, value)
        return
    if not recording:
        v = value._data if isinstance(value, Tensor) else value
        try:
            t._data[idx] = v
        except IndexError as exc:
            raise _index_error(exc, t) from None
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value of shape "
                f"{tuple(value.shape) if isinstance(value, Tensor) else ()} cannot be broadcast "
                f"to indexing result of shape {tuple(t._data[idx].shape)}"
            ) from None
        t._version_counter.value += 1
        return
    write_result(t, lambda src: IndexPut.apply(src, idx, value, False), "setitem")


def _check_empty_write(t, idx, value):
    """A write through a subscript with a bool scalar ``False`` selects nothing, yet its value
    must still broadcast to the (empty) indexing result, as in torch. NumPy checks that; CuPy
    returns before looking at the value, so check here, on the host."""
    shape = _result_shape(t, idx)
    if shape is not None:
        _check_broadcasts(value, shape)


def _check_broadcasts(value, shape):
    """torch's error unless ``value`` broadcasts to the indexing result ``shape`` (its
    leading 1s dropped, as torch does)."""
    vshape = _strip_ones(tuple(value._data.shape))
    if len(vshape) > len(shape) or any(
            v not in (1, r) for v, r in zip(vshape[::-1], shape[::-1])):
        raise RuntimeError(f"shape mismatch: value of shape {tuple(value.shape)} cannot be "
                           f"broadcast to indexing result of shape {tuple(shape)}")


def _scalar_for(value, t):
    """A number written into ``t``: a complex one into a real ``t`` only when its imaginary
    part is zero (torch's RuntimeError otherwise). Other values pass unchanged."""
    if isinstance(value, (complex, np.complexfloating)):
        from flambeau._creation import scalar_for

        return scalar_for(value, t.dtype)
    return _dtype.cast_number(value, t._data.dtype)


def _write_into_view(t, idx, value):
    from flambeau._creation import tensor
    from flambeau._inplace import write_result
    from flambeau._methods import copied_into

    view = _indexed(t, idx, False)
    if not isinstance(value, Tensor):
        value = tensor(value, dtype=t.dtype, device=t.device)
    _check_broadcasts(value, view._data.shape)  # shapes only: on the host
    write_result(view, lambda dst: copied_into(dst, value), "setitem", snapshot=False)


def _basic_view(t, idx):
    try:
        arr = t._data[idx]
    except IndexError as exc:
        raise _index_error(exc, t) from None
    out = Tensor._make(arr, t._device)
    mark_view(out, t)
    return out


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` put (or added, ``accumulate``) at ``indices``.

    ``values`` must have ``input``'s dtype, as in PyTorch, except for a one-element
    ``values`` put (not added) through a single boolean mask: PyTorch fills the mask with
    its item, cast. (``x[index] = values`` casts through basic indexing, and follows this
    rule through tensor indices.)

    Raises
    ------
    RuntimeError
        For ``values`` of another dtype (after checking that its shape broadcasts), or of a
        shape that does not broadcast to the indexed result.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(3)
    >>> x.index_put((flambeau.tensor([0, 0]),), flambeau.tensor(1.0), accumulate=True)
    tensor([2., 0., 0.])
    >>> x.index_put((flambeau.tensor([0]),), flambeau.tensor([1.0], dtype=flambeau.float64))
    Traceback (most recent call last):
    ...
    RuntimeError: Index put requires the source and destination dtypes match, got Float for \
the destination and Double for the source.
    """
    idx, _ = _convert_index(input, tuple(indices))
    if isinstance(values, Tensor):
        # every index of index_put is a tensor index, a 0-dim one included
        if _fills_mask(idx, values, accumulate, mask_0d=True):
            values = _mask_source(input, values)
        elif values._data.dtype != input._data.dtype:
            values = _put_source(input, idx, values, idx)
    return IndexPut.apply(input, idx, values, accumulate)


def _strip_ones(shape):
    while shape[:1] == (1,):
        shape = shape[1:]
    return shape


def _tensor_items(idx):
    """The items of a converted subscript that torch indexes with tensors: index arrays
    (but a 0-dim integer one, which selects as an integer) and bools among other items
    (torch turns each into an index tensor)."""
    return [item for item in idx if isinstance(item, bool) or (
        hasattr(item, "dtype") and (item.ndim > 0 or item.dtype.kind == "b"))]


def _fills_mask(items, value, accumulate, mask_0d):
    """Whether torch's index_put fills a mask with ``value``'s item (a masked_fill): for a
    lone boolean mask and a one-element source on the CPU (torch avoids a device sync
    elsewhere), when not accumulating. The source may then have any shape and dtype (cast,
    but a complex item with an imaginary part is refused for a real tensor). Through
    ``t[idx] = value`` a 0-dim boolean tensor becomes an index tensor first, so only
    index_put itself (``mask_0d``) takes it as a mask."""
    if accumulate or len(items) != 1 or value._data.size != 1:
        return False
    mask = items[0]
    return (getattr(getattr(mask, "dtype", None), "kind", "") == "b"
            and (mask_0d or mask.ndim > 0) and value._device.type == "cpu")


def _mask_source(t, value):
    """A one-element ``value`` filling a mask of ``t``: 0-dim, in ``t``'s dtype."""
    value = value.reshape(())
    if value._data.dtype == t._data.dtype:
        return value
    if value._data.dtype.kind == "c" and t._data.dtype.kind != "c":
        from flambeau._creation import scalar_for

        scalar_for(complex(value._data), t.dtype)  # torch's error for an imaginary part
        value = value.real if t._data.dtype.kind != "b" else value != 0
    return value.to(t.dtype)


def _put_source(t, idx, value, items):
    """``value`` (of another dtype than ``t``) for a write into ``t[idx]`` where ``items``
    are the subscript's tensor indices: torch copies, and casts, through basic subscripts;
    through tensor indices index_put requires equal dtypes (after checking the shapes)."""
    if not items:
        return value.to(t.dtype)
    shape = _result_shape(t, idx)
    if shape is not None:  # torch checks the shapes first
        _check_broadcasts(value, shape)
    from flambeau._ops.shape import _SCALAR_NAMES

    raise RuntimeError(
        "Index put requires the source and destination dtypes match, got "
        f"{_SCALAR_NAMES.get(t.dtype.name, t.dtype.name)} for the destination and "
        f"{_SCALAR_NAMES.get(value.dtype.name, value.dtype.name)} for the source.")


def _result_shape(t, idx):
    """The shape of ``t[idx]`` without gathering it (None for an out-of-range index)."""
    try:
        return np.broadcast_to(np.empty((), dtype=bool), t._data.shape)[idx].shape
    except TypeError:  # device index arrays: index the array itself (an error path only)
        try:
            return tuple(t._data[idx].shape)
        except IndexError:
            return None
    except IndexError:
        return None


# ------------------------------------------------------------------ gather / scatter


def _check_index(op, index, dim, input_ndim):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): Expected dtype int64 for index (got "
            f"{index.dtype if isinstance(index, Tensor) else type(index).__name__})"
        )
    if index._data.ndim != input_ndim and not (index._data.ndim <= 1 and input_ndim <= 1):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(got {index._data.ndim} and {input_ndim})"
        )


def _coords(xp, index_arr, axis):
    """Full coordinate arrays for scatter/gather: ``index`` along ``axis``, positions elsewhere."""
    ndim = index_arr.ndim
    # open grids built by hand: CuPy's ``indices`` has no ``sparse`` argument
    return tuple(index_arr if d == axis else
                 xp.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1))
                 for d, n in enumerate(index_arr.shape))


def _out_of_range(xp, arr, size, low=None):
    """An index of ``arr`` outside ``[low, size)`` (``low`` defaults to ``-size``), or None;
    one transfer of its extremes (a synchronization on a GPU)."""
    if not arr.size:
        return None
    lo, hi = (int(v) for v in xp.stack([arr.min(), arr.max()]).tolist())
    return hi if hi >= size else lo if lo < (-size if low is None else low) else None


def bounds_check(op, xp, arr, size, axis, allow_negative=False, exc=RuntimeError):
    """Raise ``exc`` naming an index of ``arr`` out of range for a dimension of ``size``.

    gather, scatter, index_select, index_add... refuse negative indices, as torch's do
    (NumPy's indexing would count them from the end); index_fill, take and subscripts take
    them."""
    bad = _out_of_range(xp, arr, size, None if allow_negative else 0)
    if bad is not None:
        raise exc(f"{op}(): index {bad} is out of bounds for dimension {axis} with size {size}")


class Gather(Function):
    _graph_inputs = (0,)  # not the index

    @staticmethod
    def forward(ctx, x, axis, index):
        xp = x._device._xp
        idx = index._data
        bounds_check("gather", xp, idx, x._data.shape[axis] if x._data.ndim else 1, axis)
        ctx.save_for_backward(index)
        ctx.meta = (x._data.shape, axis)
        if x._data.ndim == 0:
            return x._data.copy()
        return x._data[_coords(xp, idx, axis)]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        shape, axis = ctx.meta
        if len(shape) == 0:
            return g, None, None
        return g.new_zeros(shape).scatter_add(axis, index, g), None, None


@with_out
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1, 2], [3, 4]])
    >>> flambeau.gather(x, 1, flambeau.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """
    _check_index("gather", index, dim, input._data.ndim)
    axis = wrap_dim(dim, input._data.ndim, "gather")
    for d in range(index._data.ndim):
        if d != axis and index._data.shape[d] > input._data.shape[d]:
            raise RuntimeError(
                f"gather(): Size does not match at dimension {d} expected index "
                f"{list(index.shape)} to be smaller than self {list(input.shape)} apart from "
                f"dimension {axis}"
            )
    return Gather.apply(input, axis, index)


class Scatter(Function):
    _graph_inputs = (0, 3)  # the input and the source, not the index

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce_add):
        xp = x._device._xp
        idx = index._data
        bounds_check("scatter", xp, idx, x._data.shape[axis], axis)
        out = x._data.copy()
        coords = _coords(xp, idx, axis)
        if isinstance(src, Tensor):
            v = src._data[tuple(slice(0, n) for n in idx.shape)]
        else:
            v = src
        if reduce_add:
            kernel = x._device._backend.kernels.get("index_add_at")
            (kernel or xp.add.at)(out, coords, v)
        else:
            out[coords] = v
        ctx.save_for_backward(index)
        ctx.meta = (axis, reduce_add, src.shape if isinstance(src, Tensor) else None)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        axis, reduce_add, src_shape = ctx.meta
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = g if reduce_add else g.scatter(axis, index, 0.0)
        if ctx.needs_input_grad[3]:
            gs = g.gather(axis, index)
            if tuple(gs.shape) != tuple(src_shape):
                gs = pad_to(gs, src_shape)
        return gx, None, None, gs, None


_ScatterValue = node_variant(Scatter, "ScatterBackward1", (0,))  # scatter(..., value)
_ScatterAdd = node_variant(Scatter, "ScatterAddBackward0")


def pad_to(t, shape):
    from flambeau._ops.shape import pad

    widths = []
    for have, want in zip(reversed(t.shape), reversed(tuple(shape))):
        widths += [0, want - have]
    return pad(t, widths)


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).scatter(1, flambeau.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected src or value")
    if reduce is not None and reduce != "add":
        raise NotImplementedError(f"scatter(): reduce={reduce!r} is not supported; use "
                                  "scatter_add or scatter_reduce")
    _check_index("scatter", index, dim, input._data.ndim)
    axis = wrap_dim(dim, input._data.ndim, "scatter")
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            src = src.to(input.dtype)
    else:
        src = _scalar_for(src, input)
    cls = Scatter if isinstance(src, Tensor) else _ScatterValue
    result = cls.apply(input, axis, index, src, reduce == "add")
    return result if out is None else write_out(result, out, exact=True)


def scatter_add(input, dim, index, src, *, out=None):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(3).scatter_add(0, flambeau.tensor([0, 0, 2]), flambeau.ones(3))
    tensor([2., 0., 1.])
    """
    _check_index("scatter_add", index, dim, input._data.ndim)
    axis = wrap_dim(dim, input._data.ndim, "scatter_add")
    if src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    result = _ScatterAdd.apply(input, axis, index, src, True)
    return result if out is None else write_out(result, out, exact=True)


class IndexSelect(Function):
    _graph_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, index):
        xp = x._device._xp
        idx = index._data.reshape(-1)
        bounds_check("index_select", xp, idx, x._data.shape[axis], axis)
        ctx.save_for_backward(index)
        ctx.meta = (x._data.shape, axis)
        return xp.take(x._data, idx, axis=axis)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        shape, axis = ctx.meta
        return g.new_zeros(shape).index_add(axis, index.reshape(-1), g), None, None


@with_out
def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` (a 1-D integer tensor) along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.index_select(flambeau.tensor([[1, 2], [3, 4]]), 0, flambeau.tensor([1, 1]))
    tensor([[3, 4],
            [3, 4]])
    """
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu" or index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector of integers")
    axis = wrap_dim(dim, input._data.ndim, "index_select")
    return IndexSelect.apply(input, axis, index)


class IndexAdd(Function):
    _graph_inputs = (0, 3)

    @staticmethod
    def forward(ctx, x, axis, index, source, alpha):
        xp = x._device._xp
        out = x._data.copy()
        idx = index._data.reshape(-1)
        bounds_check("index_add", xp, idx, x._data.shape[axis], axis)
        moved = xp.moveaxis(out, axis, 0)
        src = xp.moveaxis(source._data, axis, 0)
        if alpha != 1:
            src = src * alpha
        kernel = x._device._backend.kernels.get("index_add_at")
        (kernel or xp.add.at)(moved, idx, src)
        ctx.save_for_backward(index)
        ctx.meta = (axis, alpha)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        axis, alpha = ctx.meta
        gs = None
        if ctx.needs_input_grad[3]:
            gs = g.index_select(axis, index.reshape(-1))
            if alpha != 1:
                gs = gs * alpha
        return g, None, None, gs, None


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(3).index_add(0, flambeau.tensor([0, 0]), flambeau.ones(2))
    tensor([2., 0., 0.])
    """
    axis = wrap_dim(dim, input._data.ndim, "index_add")
    if source._data.dtype != input._data.dtype:
        source = source.to(input.dtype)
    result = IndexAdd.apply(input, axis, index, source, alpha)
    return result if out is None else write_out(result, out, exact=True)


@with_out
def take_along_dim(input, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (broadcast against ``input``).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[10, 30, 20]])
    >>> flambeau.take_along_dim(x, x.argsort(dim=1), dim=1)
    tensor([[10, 20, 30]])
    """
    size = input._data.size if dim is None else input._data.shape[
        wrap_dim(dim, input._data.ndim, "take_along_dim")]
    indices = indices + (indices < 0) * size  # torch counts negatives from the end here
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    axis = wrap_dim(dim, input._data.ndim, "take_along_dim")
    shape_in = list(input.shape)
    shape_idx = list(indices.shape)
    shape_in[axis] = shape_idx[axis] = 1
    from flambeau._ops.shape import broadcast_shapes

    common = list(broadcast_shapes(shape_in, shape_idx))
    target_in = common.copy()
    target_in[axis] = input.shape[axis]
    target_idx = common.copy()
    target_idx[axis] = indices.shape[axis]
    return gather(input.expand(*target_in), axis, indices.expand(*target_idx).contiguous())


def take(input, index, *, out=None):
    """Elements of the flattened ``input`` at ``index``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.take(flambeau.tensor([[1, 2], [3, 4]]), flambeau.tensor([0, 3]))
    tensor([1, 4])
    """
    result = getitem(input.reshape(-1), index)
    return result if out is None else write_out(result, out, exact=True)


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where ``mask`` is True (mask broadcasts).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.masked_fill(flambeau.zeros(3), flambeau.tensor([True, False, True]), 5.0)
    tensor([5., 0., 5.])
    """
    from flambeau._ops.elementwise import MaskedFill, MaskedFillTensor, selected

    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill only supports boolean masks, but got mask with dtype "
            f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        if value._data.dtype.kind == "c" and input._data.dtype.kind != "c":
            # as torch: the value's real part if it is real, else torch's error
            _scalar_for(value.item(), input)
            value = value.real
        elif value._data.dtype != input._data.dtype and input._data.dtype.kind in "iu":
            fill_int(value.item(), input._data.dtype)  # torch checks its range as a number's
        value = value.to(input.dtype)
    else:
        value = fill_int(_scalar_for(value, input), input._data.dtype)  # as full(): checked
    out = selected(MaskedFillTensor if isinstance(value, Tensor) else MaskedFill, mask, value,
                   input)
    if out.shape != input.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {tuple(mask.shape)} must broadcast to the input's shape "
            f"{tuple(input.shape)}"
        )
    return out if out._data.dtype == input._data.dtype else out.to(input.dtype)


@with_out
def masked_select(input, mask):
    """The elements where ``mask`` is True, as a 1-D tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.masked_select(flambeau.tensor([1, 2, 3]), flambeau.tensor([True, False, True]))
    tensor([1, 3])
    """
    from flambeau._ops.shape import broadcast_tensors

    a, m = broadcast_tensors(input, mask)
    return getitem(a, m)


@with_out
def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) tensor, or a tuple of 1-D tensors.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nonzero(flambeau.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    xp = input._device._xp
    coords = xp.nonzero(input._data) if input._data.ndim else xp.nonzero(
        input._data.reshape(1))
    if as_tuple:
        return tuple(make(c.astype(xp.int64), input) for c in coords)
    if not coords:
        return make(xp.zeros((0, 0), dtype=xp.int64), input)
    return make(xp.stack(coords, axis=1).astype(xp.int64), input)


def argwhere(input):
    """``nonzero(input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.argwhere(flambeau.tensor([0, 1]))
    tensor([[1]])
    """
    return nonzero(input)


# ------------------------------------------------------------------ sorting


def _reject_complex(op, input):
    from flambeau._ops.reduction import reject_complex

    reject_complex(op, input)


#: rows of at most this many elements are sorted by insertion sort in torch's CPU sort
#: (std::sort's small-range path), so equal elements keep their order even when
#: ``stable=False``; NumPy's default (SIMD) sort does not keep it, so these rows sort stably
_INSERTION_SORT_MAX = 16


def _sort_keys(a):
    """``a``, or for bfloat16 (whose NumPy sort, through ml_dtypes, leaves NaNs anywhere) its
    float32 copy: exact, in the same order."""
    return a.astype("float32") if a.dtype == _dtype.bfloat16.np else a


def _argsort(input, axis, descending, stable):
    """Indices that sort ``input`` along ``axis`` as torch's CPU sort orders it: NaN above
    +inf (last ascending, first descending), -0.0 equal to 0.0, and equal elements (NaNs
    among them) in their original order when ``stable`` is set, when descending, and for
    rows of at most 16 elements, where torch's sort keeps that order too."""
    xp = input._device._xp
    a = _sort_keys(input._data)
    if a.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    n = a.shape[axis]
    if not descending:
        return xp.argsort(a, axis=axis,
                          kind="stable" if stable or n <= _INSERTION_SORT_MAX else None)
    # a stable ascending sort (NaN last) of the reversed row, read backwards: the largest
    # first, NaN before +inf, and equal elements in their original order (negating the
    # values would keep NaN last, and wrap the most negative integer around)
    rev = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(rev, axis)


@with_out
def sort(input, dim=-1, descending=False, *, stable=False):
    """Sorted values and their original indices along ``dim``.

    NaN sorts above +inf, as in PyTorch: last ascending, first with ``descending=True``.
    Equal elements keep their order with ``stable=True`` (and always when descending).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sort(flambeau.tensor([3.0, 1.0, 2.0]))
    flambeau.return_types.sort(
    values=tensor([1., 2., 3.]),
    indices=tensor([1, 2, 0]))
    >>> flambeau.sort(flambeau.tensor([1.0, float("nan"), 2.0]), descending=True).values
    tensor([nan, 2., 1.])
    """
    _reject_complex("sort", input)  # also argsort and msort
    if input._data.ndim == 0:
        return return_types.sort(input.clone(),
                                 make(input._device._xp.zeros((), "int64"), input))
    axis = wrap_dim(dim, input._data.ndim, "sort")
    idx = make(_argsort(input, axis, descending, stable).astype("int64", copy=False), input)
    return return_types.sort(gather(input, axis, idx), idx)


def argsort(input, dim=-1, descending=False, *, stable=False, out=None):
    """The indices that sort ``input`` along ``dim`` (NaN counts as the largest value).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.argsort(flambeau.tensor([3, 1, 2]), descending=True)
    tensor([0, 2, 1])
    """
    indices = sort(input, dim, descending, stable=stable).indices
    if out is None:
        return indices
    refuse_grad("argsort", (input,))  # as PyTorch's, whose sort also writes the values
    return write_out(indices, out, exact=True)


def msort(input, *, out=None):
    """Sort along dim 0 (NaN last).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.msort(flambeau.tensor([2, 1]))
    tensor([1, 2])
    """
    values = sort(input, 0).values
    return values if out is None else write_out(values, out, exact=True)


@with_out
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    NaN counts as larger than +inf, as in PyTorch: the largest values start with the NaNs,
    and the smallest include NaNs only when ``k`` exceeds the number of other elements.
    Equal values come in the order of their indices (PyTorch's order for them follows its
    selection algorithm and has no simple rule).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.topk(flambeau.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    flambeau.return_types.topk(
    values=tensor([5., 4.]),
    indices=tensor([1, 3]))
    """
    _reject_complex("topk", input)
    axis = wrap_dim(dim, input._data.ndim, "topk")
    size = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {axis} of "
                           f"size {size}")
    order = _argsort(input, axis, largest, True)
    xp = input._device._xp
    idx = xp.take(order, xp.arange(k), axis=axis) if input._data.ndim else order
    idx_t = make(idx.astype("int64", copy=False), input)
    return return_types.topk(gather(input, axis, idx_t), idx_t)


@with_out
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index.

    NaN counts as the largest value, as in PyTorch. Of equal values, the index is that of
    the ``k``-th in a stable sort (PyTorch's quickselect picks one with no simple rule).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.kthvalue(flambeau.tensor([3.0, 1.0, 2.0]), 2).values
    tensor(2.)
    """
    from flambeau._ops.reduction_more import _nonempty_dim

    _reject_complex("kthvalue", input)
    axis = wrap_dim(dim, input._data.ndim, "kthvalue")
    _nonempty_dim("kthvalue", input, axis)
    if not 1 <= k <= (input._data.shape[axis] if input._data.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if input._data.ndim == 0:
        xp = input._device._xp
        return return_types.kthvalue(input.clone(), make(xp.zeros((), dtype=xp.int64), input))
    values, indices = sort(input, axis, stable=True)
    v = values.narrow(axis, k - 1, 1)
    i = indices.narrow(axis, k - 1, 1)
    if not keepdim:
        v, i = v.squeeze(axis), i.squeeze(axis)
    return return_types.kthvalue(v, i)


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of all elements, or along ``dim`` with indices), as PyTorch: NaN
    when the elements hold a NaN (:func:`nanmedian` ignores them).

    Along ``dim``, the index is that of the first NaN of a slice that has one; otherwise
    that of the element a stable sort puts at the median's place (PyTorch breaks ties by
    index). The gradient of the median of all elements is shared evenly between the
    elements equal to it (the NaNs, when it is NaN).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.median(flambeau.tensor([1.0, 4.0, 2.0, 3.0]))
    tensor(2.)
    >>> flambeau.median(flambeau.tensor([[1.0, float("nan"), 2.0], [3.0, 1.0, 2.0]]), 1)
    flambeau.return_types.median(
    values=tensor([nan, 2.]),
    indices=tensor([1, 2]))
    """
    result = _median(input, dim, keepdim)
    # PyTorch's out= takes the result's dtypes: values of input's, int64 indices
    return result if out is None else write_out(result, out, exact=True)


def _median(input, dim, keepdim):
    from flambeau._ops.reduction_more import _nonempty_dim, median_all

    _reject_complex("median", input)
    xp = input._device._xp
    data = input._data
    if dim is None:
        if data.dtype in FLOAT_NP:
            return median_all(input, ignore_nan=False)
        flat = input.reshape(-1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    axis = wrap_dim(dim, data.ndim, "median")
    if data.ndim == 0:
        return return_types.median(input.clone(), make(xp.zeros((), dtype=xp.int64), input))
    _nonempty_dim("median", input, axis)
    middle = (data.shape[axis] - 1) // 2
    # torch's comparator breaks ties by index: the middle of a stable sort
    pick = xp.take(_argsort(input, axis, False, True), xp.arange(middle, middle + 1), axis=axis)
    if data.dtype in FLOAT_NP and data.size:
        nan = xp.isnan(data)
        pick = xp.where(xp.any(nan, axis=axis, keepdims=True),
                        xp.argmax(nan, axis=axis, keepdims=True), pick)  # the first NaN
    idx = make(pick.astype(xp.int64, copy=False), input)
    v = gather(input, axis, idx)
    if not keepdim:
        v, idx = v.squeeze(axis), idx.squeeze(axis)
    return return_types.median(v, idx)


def _unique_sorted(xp, flat, return_inverse, return_counts):
    """The distinct elements of 1-D ``flat`` (sorted, NaN last), the group of each element
    and the size of each group. Every NaN is an element of its own (NaN != NaN), as in
    PyTorch; of equal elements (0.0 and -0.0), the first in ``flat`` represents them."""
    n = flat.shape[0]
    order = None
    if return_inverse or flat.dtype.kind not in "biu":
        order = xp.argsort(_sort_keys(flat), kind="stable")
        s = flat[order]
    else:
        s = xp.sort(flat)
    first = xp.concatenate([xp.ones(min(n, 1), dtype=bool), s[1:] != s[:-1]])
    inverse = counts = None
    if return_inverse:
        inverse = xp.empty(n, dtype=xp.int64)
        inverse[order] = xp.cumsum(first) - 1
    if return_counts:
        counts = _run_lengths(xp, first, n)
    return s[first], inverse, counts


def _run_lengths(xp, first, n):
    """The lengths of the runs that start where ``first`` (1-D bool, of length ``n``) is set."""
    starts = xp.nonzero(first)[0]
    return xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=starts.dtype)])).astype(
        xp.int64)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted), with optional inverse indices and counts.

    As in PyTorch, each NaN is distinct from every other (they come last), so NaNs are
    never merged.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unique(flambeau.tensor([2, 1, 2, 3]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 2, 1]))
    >>> flambeau.unique(flambeau.tensor([float("nan"), 1.0, float("nan"), 1.0]))
    tensor([1., nan, nan])
    """
    xp = input._device._xp
    if dim is None:
        values, inv, counts = _unique_sorted(xp, input._data.reshape(-1), return_inverse,
                                             return_counts)
        res = [values, inv.reshape(input._data.shape) if return_inverse else None, counts]
    else:
        res = xp.unique(input._data, return_inverse=return_inverse,
                        return_counts=return_counts, axis=dim)
        if not (return_inverse or return_counts):
            return make(res, input)
        res = list(res)
        res = [res[0], res[1].reshape(-1).astype(xp.int64) if return_inverse else None,
               res[-1].astype(xp.int64) if return_counts else None]
    out = [make(res[0], input)]
    if return_inverse:
        out.append(make(res[1], input))
    if return_counts:
        out.append(make(res[2], input))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (of equal slices along ``dim``).

    NaNs never compare equal, so each NaN is a run of its own, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unique_consecutive(flambeau.tensor([1, 1, 2, 2, 1]))
    tensor([1, 2, 1])
    >>> flambeau.unique_consecutive(flambeau.tensor([[1, 1], [1, 1], [2, 1]]), dim=0)
    tensor([[1, 1],
            [2, 1]])
    """
    xp = input._device._xp
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        n = flat.shape[0]
        first = xp.concatenate([xp.ones(min(n, 1), dtype=bool), flat[1:] != flat[:-1]])
        values = flat[first]
        inverse_shape = a.shape
    else:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        axis = wrap_dim(dim, a.ndim, "unique_consecutive")
        n = a.shape[axis]
        if a.size == 0 and n:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                               "unique cannot be applied")
        rows = xp.moveaxis(a, axis, 0).reshape(n, -1)
        first = xp.concatenate([xp.ones(min(n, 1), dtype=bool),
                                xp.any(rows[1:] != rows[:-1], axis=1)])
        values = xp.take(a, xp.nonzero(first)[0], axis=axis)
        inverse_shape = (n,)
    out = [make(values, input)]
    if return_inverse:
        out.append(make((xp.cumsum(first) - 1).astype(xp.int64).reshape(inverse_shape), input))
    if return_counts:
        out.append(make(_run_lengths(xp, first, n), input))
    return out[0] if len(out) == 1 else tuple(out)


def _binary_search(xp, seq, values, right):
    """PyTorch's CPU binary search, run for all ``values`` at once: ``seq`` is ``(B, n)``
    with ``n > 0``, ``values`` ``(B, m)``, row ``b`` of ``values`` searched in row ``b`` of
    ``seq``. Each value halves its range ``[lo, hi)`` with torch's test (``!(seq[mid] >= v)``
    moves right; ``!(seq[mid] > v)`` for ``right``), so the results match torch's even where
    a NaN in ``seq`` (or an unsorted ``seq``) leaves the answer to the search path.
    ``n.bit_length()`` rounds empty every range."""
    n = seq.shape[-1]
    lo = xp.zeros(values.shape, dtype=xp.int64)
    hi = xp.full(values.shape, n, dtype=xp.int64)
    flat = seq.reshape(-1)
    base = xp.arange(seq.shape[0], dtype=xp.int64)[:, None] * n
    for _ in range(n.bit_length()):
        mid = (lo + hi) >> 1
        at = xp.take(flat, base + xp.minimum(mid, n - 1))
        up = ~(at > values) if right else ~(at >= values)
        # a finished search (lo == hi == mid) stays put: mid + 1 is capped at hi
        lo = xp.where(up, xp.minimum(mid + 1, hi), lo)
        hi = xp.where(up, hi, mid)
    return lo


def _sizes(t):
    return list(t._data.shape)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where the values ``input`` would be inserted to keep ``sorted_sequence`` sorted
    (torch's docs call them ``values``, its parser, and so its keyword, ``input``).

    A 1-D ``sorted_sequence`` serves every value; an N-D one is a batch of sequences along
    its last dim, searched by the values in the matching rows of ``values`` (whose dims
    but the last must equal its own). ``right=True`` (or ``side="right"``) gives the
    index after equal elements; ``sorter`` holds the indices that sort each sequence.

    Raises
    ------
    RuntimeError
        For batch dims that do not match, a 0-d ``sorted_sequence``, a scalar value with an
        N-D one, a ``side`` other than ``"left"``/``"right"`` (or one opposite to
        ``right``), a ``sorter`` that is not a long tensor of the sequence's shape with
        indices in range, or an ``out`` of the wrong index dtype, as PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.searchsorted(flambeau.tensor([1, 3, 5]), flambeau.tensor([3, 6]))
    tensor([1, 3])
    >>> seq = flambeau.tensor([[1, 3, 5], [2, 4, 6]])
    >>> flambeau.searchsorted(seq, flambeau.tensor([[3, 6], [1, 4]]), right=True)
    tensor([[2, 3],
            [0, 2]])
    """
    op = "searchsorted()"
    seq, values = sorted_sequence, input
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"{op}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left "
                           "while right was True")
    right = right or side == "right"
    xp = seq._device._xp
    # compared in the dtype torch's result_type gives (a number does not widen the tensor)
    common = _dtype.result_type(seq, values)
    if not isinstance(values, Tensor):
        values = make(xp.asarray(values, dtype=common.np), seq)
    if values._device is not seq._device:
        raise RuntimeError(f"{op}: boundaries and input value tensors should have same device "
                           f"type, but we got boundaries tensor device type {seq.device.type} "
                           f"and input value tensor device type {values.device.type}")
    if sorter is not None:
        if _sizes(sorter) != _sizes(seq):
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got "
                               f"boundary tensor {_sizes(seq)} and got sorter tensor "
                               f"{_sizes(sorter)}")
        if sorter.dtype is not _dtype.int64:
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got dtype "
                               f"{sorter.dtype}")
        if sorter._data.size and not bool(xp.all((sorter._data >= 0)
                                                 & (sorter._data < sorter._data.shape[-1]))):
            raise RuntimeError(f"{op}: sorter index out of range")
    if values._data.ndim == 0 and seq._data.ndim != 1:
        raise RuntimeError(f"{op}: input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({seq._data.ndim}) "
                           f"and input value's dim(0) numel(1)")
    if seq._data.ndim == 0:
        raise RuntimeError(f"{op}: boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq._data.ndim != 1 and (values._data.ndim != seq._data.ndim
                                or _sizes(values)[:-1] != _sizes(seq)[:-1]):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, "
                           f"but we got boundaries tensor {_sizes(seq)} and input value tensor "
                           f"{_sizes(values)}")
    index_dtype = _dtype.int32 if out_int32 else _dtype.int64
    if out is not None and out.dtype is not index_dtype:
        raise RuntimeError(f"{op}: output tensor's dtype is wrong, it can only be Int(int32) or "
                           f"Long(int64) depending on whether out_int32 flag is True, but we got "
                           f"output tensor's dtype {out.dtype} and out_int32 flag is {out_int32}")
    if common.is_complex or common is _dtype.bool:
        raise NotImplementedError(f"{op}: not implemented for {common}")
    s, v = seq._data, values._data
    if common in (_dtype.float16, _dtype.bfloat16):  # widened exactly, in the same order
        common = _dtype.float32
    s, v = s.astype(common.np, copy=False), v.astype(common.np, copy=False)
    if sorter is not None:
        s = xp.take_along_axis(s, sorter._data, axis=-1)
    n = s.shape[-1]
    if v.size == 0 or n == 0:
        res = xp.zeros(v.shape, dtype=xp.int64)
    elif s.ndim == 1 and bool(xp.all(s[1:] >= s[:-1]) & (s[0] == s[0])):
        # one sorted sequence without NaN (a NaN fails >=, or == at s[0] when alone): every
        # binary search gives the same answer there
        res = xp.asarray(xp.searchsorted(s, v, side="right" if right else "left"))
    else:
        batch = math.prod(s.shape[:-1])
        res = _binary_search(xp, s.reshape(batch, n), v.reshape(batch, -1), right)
        res = res.reshape(v.shape)
    return write_out(make(res.astype(index_dtype.np, copy=False), seq), out, "searchsorted")


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each element given sorted 1-D ``boundaries``: the number of boundaries
    below it (``right=False``) or at most it (``right=True``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bucketize(flambeau.tensor([1, 4]), flambeau.tensor([2, 4]))
    tensor([0, 1])
    >>> flambeau.bucketize(flambeau.tensor([1, 4]), flambeau.tensor([2, 4]), right=True)
    tensor([0, 2])
    """
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def bincount(input, weights=None, minlength=0):
    """Count occurrences of each non-negative integer.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bincount(flambeau.tensor([0, 2, 2]))
    tensor([1, 0, 2])
    """
    xp = input._device._xp
    if input._data.ndim != 1 or input._data.dtype.kind not in "iub" or (
            input._data.size and int(input._data.min()) < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got "
                           f"{input.dtype} of shape {tuple(input.shape)})")
    w = weights._data if weights is not None else None
    res = xp.bincount(input._data, weights=w, minlength=minlength)
    if w is None:
        res = res.astype(xp.int64)
    return make(res, input)


def one_hot_indices(indices, num_classes):
    """(internal) int64 one-hot rows for class indices."""
    xp = indices._device._xp
    out = xp.zeros(indices._data.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, indices._data[..., None], 1, axis=-1)
    return make(out, indices)


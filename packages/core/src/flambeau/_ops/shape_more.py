"""More shape and creation ops: coordinate grids, stacking and splitting helpers, strided
windows (``unfold``), diagonal embeddings, the ``*_scatter`` family, combinatorics, in-place
metadata changes (``t_``, ``squeeze_``, ...) and signal windows.

Most are compositions of the ops in :mod:`flambeau._ops.shape` and
:mod:`flambeau._ops.indexing`, so they inherit their gradients and view semantics; a new
``Function`` is written only where composing would copy or loop more than needed.
"""

from __future__ import annotations

import builtins
import math
import types

from flambeau import _creation, _dtype
from flambeau._device import canonical
from flambeau._keywords import list_keyword, sizes_by_keyword
from flambeau._ops._util import (
    Tensor,
    as_strided_array,
    check_same_device,
    make,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau._ops.indexing import IndexPut, getitem, index_select
from flambeau._ops.shape import (
    Diagonal,
    Narrow,
    _shape_args,
    cat,
    diagonal,
    flip,
    narrow_args,
    pad,
    reshape,
    split,
    stack,
    tensor_sequence,
    tensor_split,
    transpose,
    vstack,
)
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = [
    "meshgrid", "tril_indices", "triu_indices", "atleast_1d", "atleast_2d", "atleast_3d",
    "column_stack", "row_stack", "dstack", "hsplit", "vsplit", "dsplit", "ravel", "select",
    "rot90", "diag_embed", "diagflat", "block_diag", "cartesian_prod", "combinations",
    "unravel_index", "vander", "split_with_sizes", "unsafe_chunk", "unsafe_split",
    "narrow_copy", "diagonal_scatter", "select_scatter", "slice_scatter", "hann_window",
    "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
]


def _tensor_list(tensors, op):
    """``f(a, b)`` and ``f([a, b])`` both give ``[a, b]``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, but element {i} is a "
                            f"{type(t).__name__}")
    return list(tensors)


# ------------------------------------------------------------------ grids and index tensors


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-d) tensors, as views of the inputs.

    Parameters
    ----------
    *tensors : Tensor or a list of Tensor
        ``n`` tensors of sizes ``s1, ..., sn`` (0-d tensors count as size 1), all of one
        dtype and device.
    indexing : {"ij", "xy"}, optional
        ``"ij"`` (the default, without PyTorch's warning) gives grids of shape
        ``(s1, ..., sn)``; ``"xy"`` swaps the first two dims, as NumPy's default.

    Returns
    -------
    tuple of Tensor
        Grid ``i`` holds ``tensors[i]`` broadcast along every other dim (a view: writes to
        the input show through).

    Examples
    --------
    >>> import flambeau
    >>> gx, gy = flambeau.meshgrid(flambeau.tensor([1, 2, 3]), flambeau.tensor([4, 5]),
    ...                            indexing="ij")
    >>> gx
    tensor([[1, 1],
            [2, 2],
            [3, 3]])
    >>> gy
    tensor([[4, 5],
            [4, 5],
            [4, 5]])
    >>> flambeau.meshgrid(flambeau.tensor([1, 2, 3]), flambeau.tensor([4, 5]),
    ...                   indexing="xy")[0].shape
    flambeau.Size([2, 3])
    """
    tensors = _tensor_list(tensors, "meshgrid")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0D or 1D tensors, but tensor {i} has shape "
                               f"{tuple(t.shape)}")
        if t._data.dtype != first._data.dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype (tensor 0 "
                               f"is {first.dtype}, tensor {i} is {t.dtype})")
        if t._device is not first._device:
            raise RuntimeError(f"meshgrid expects all tensors to be on the same device (tensor "
                               f"0 is on {first._device}, tensor {i} on {t._device})")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(int(t._data.size) for t in tensors)
    grids = []
    for i, t in enumerate(tensors):
        view_shape = [1] * len(shape)
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _triangle_indices(op, row, col, offset, dtype, device, upper, pin_memory, requires_grad):
    if row < 0:
        raise RuntimeError(f"{op}: row must be non-negative, got {row}")
    if col < 0:
        raise RuntimeError(f"{op}: col must be non-negative, got {col}")
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    if dt not in (_dtype.int64, _dtype.int32):
        raise NotImplementedError(f"{op}: not implemented for {dt} (use flambeau.int64 or "
                                  "flambeau.int32)")
    if requires_grad:  # torch's keyword, for its integer result: always refused
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    dev = canonical(device)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        rows, cols = (xp.triu_indices if upper else xp.tril_indices)(row, offset, col)
        arr = xp.stack([rows, cols]).astype(dt.np).reshape(2, -1)
    return _creation._finish(arr, dev, False, pin_memory, op)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False,
                 requires_grad=False):
    """Coordinates of the lower triangle of a ``row`` x ``col`` matrix, as a ``(2, N)`` tensor.

    ``offset`` moves the diagonal up (positive) or down (negative); the coordinates are in
    row-major order. ``dtype`` is ``int64`` (default) or ``int32``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    >>> flambeau.tril_indices(3, 4, -1)
    tensor([[1, 2, 2],
            [0, 0, 1]])
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, False, pin_memory,
                             requires_grad)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False,
                 requires_grad=False):
    """Coordinates of the upper triangle of a ``row`` x ``col`` matrix, as a ``(2, N)`` tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.triu_indices(3, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, True, pin_memory,
                             requires_grad)


def unravel_index(indices, shape):
    """Coordinates of flat ``indices`` in a tensor of ``shape``, one tensor per dim.

    Indices outside ``[0, numel)`` wrap around as in PyTorch (``-1`` is the last element).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unravel_index(flambeau.tensor([4, 1]), (3, 2))
    (tensor([2, 0]), tensor([0, 1]))
    >>> flambeau.unravel_index(flambeau.tensor(-1), (3, 2))
    (tensor(2), tensor(1))
    """
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index: expected 'indices' to be a Tensor, got "
                        f"{type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                        f"{indices.dtype}")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    for s in shape:
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"unravel_index: expected 'shape' sequence to only contain ints, "
                            f"but got {type(s).__name__}")
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {shape}")
    if builtins.any(s == 0 for s in shape):
        raise RuntimeError(f"unravel_index: cannot unravel indices into shape {shape}, which "
                           "has no elements")
    xp = indices._device._xp
    flat = indices._data.astype(xp.int64)
    coords = []
    for s in reversed(shape):
        coords.append(make(xp.remainder(flat, s), indices))
        flat = xp.floor_divide(flat, s)
    return tuple(reversed(coords))


# ------------------------------------------------------------------ dims at least n


def _atleast(tensors, op, fix):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensors, got {type(t).__name__}")
    out = tuple(fix(t) for t in tensors)
    return out[0] if single else out


def _at_least_1d(t):
    return t if t._data.ndim >= 1 else t.reshape(1)


def _at_least_2d(t):
    nd = t._data.ndim
    return t if nd >= 2 else t.reshape(1, 1) if nd == 0 else t.unsqueeze(0)


def _at_least_3d(t):
    nd = t._data.ndim
    if nd >= 3:
        return t
    if nd == 0:
        return t.reshape(1, 1, 1)
    if nd == 1:
        return t.reshape(1, -1, 1)
    return t.unsqueeze(-1)


def atleast_1d(*tensors):
    """Views with at least one dimension (0-d tensors become shape ``(1,)``).

    One tensor gives a tensor (itself when it already has a dim); several, or a list, give a
    tuple.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atleast_1d(flambeau.tensor(1.0))
    tensor([1.])
    >>> flambeau.atleast_1d(flambeau.tensor(1), flambeau.tensor([2, 3]))
    (tensor([1]), tensor([2, 3]))
    """
    return _atleast(tensors, "atleast_1d", _at_least_1d)


def atleast_2d(*tensors):
    """Views with at least two dimensions (a 1-D tensor becomes one row).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atleast_2d(flambeau.tensor([1, 2]))
    tensor([[1, 2]])
    """
    return _atleast(tensors, "atleast_2d", _at_least_2d)


def atleast_3d(*tensors):
    """Views with at least three dimensions: ``(n,)`` becomes ``(1, n, 1)`` and ``(m, n)``
    becomes ``(m, n, 1)``, as NumPy.

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.atleast_3d(flambeau.zeros(2), flambeau.zeros(2, 3))
    >>> a.shape, b.shape
    (flambeau.Size([1, 2, 1]), flambeau.Size([2, 3, 1]))
    """
    return _atleast(tensors, "atleast_3d", _at_least_3d)


# ------------------------------------------------------------------ stacking and splitting


def _non_empty(tensors, op):
    tensors = tensor_sequence(tensors, op)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def column_stack(tensors, *, out=None):
    """Join tensors as columns: 0-d and 1-D tensors become columns, others join along dim 1.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.column_stack([flambeau.tensor([1, 2]), flambeau.tensor([[3, 4], [5, 6]])])
    tensor([[1, 3, 4],
            [2, 5, 6]])
    """
    tensors = _non_empty(tensors, "column_stack")
    cols = [t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1, out=out)


def row_stack(tensors, *, out=None):
    """Alias of :func:`flambeau.vstack` (rows of 1-D tensors, joined along dim 0).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.row_stack([flambeau.tensor([1, 2]), flambeau.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return vstack(_non_empty(tensors, "row_stack"), out=out)


def dstack(tensors, *, out=None):
    """Join tensors along the third dim, after making each at least 3-D (:func:`atleast_3d`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.dstack([flambeau.tensor([1, 2]), flambeau.tensor([3, 4])])
    tensor([[[1, 3],
             [2, 4]]])
    """
    tensors = _non_empty(tensors, "dstack")
    return cat([_at_least_3d(t) for t in tensors], 2, out=out)


def _split_along(op, input, indices_or_sections, dim, min_dims):
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"{op} requires a tensor with at least {min_dims} dimension, but got "
                           f"a tensor with {nd} dimensions!")
    if isinstance(indices_or_sections, int):
        size = input._data.shape[dim]
        n = indices_or_sections
        if n == 0 or size % n:
            raise RuntimeError(
                f"{op} attempted to split along dimension {dim}, but the size of the dimension "
                f"{size} is not divisible by the split_size {n}!"
            )
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 for 1-D tensors) into equal parts or at indices (views).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hsplit(flambeau.arange(6).reshape(2, 3), [1])
    (tensor([[0],
            [3]]), tensor([[1, 2],
            [4, 5]]))
    """
    return _split_along("hsplit", input, indices_or_sections,
                        1 if input._data.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    """Split along dim 0 (the tensor needs 2 dims) into equal parts or at indices (views).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.vsplit(flambeau.arange(4).reshape(2, 2), 2)
    (tensor([[0, 1]]), tensor([[2, 3]]))
    """
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """Split along dim 2 (the tensor needs 3 dims) into equal parts or at indices (views).

    Examples
    --------
    >>> import flambeau
    >>> [p.shape for p in flambeau.dsplit(flambeau.zeros(1, 2, 4), 2)]
    [flambeau.Size([1, 2, 2]), flambeau.Size([1, 2, 2])]
    """
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    """Split along ``dim`` into pieces of the listed sizes (views).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.split_with_sizes(flambeau.arange(5), [2, 3])
    (tensor([0, 1]), tensor([2, 3, 4]))
    """
    sizes = [int(s) for s in split_sizes]
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                           f"entries, but got split_sizes={sizes}")
    return split(input, sizes, dim)


def unsafe_chunk(input, chunks, dim=0):
    """:func:`flambeau.chunk` (PyTorch's variant without view tracking; here the same).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unsafe_chunk(flambeau.arange(4), 2)
    (tensor([0, 1]), tensor([2, 3]))
    """
    return input.chunk(chunks, dim)


def unsafe_split(input, split_size, dim=0):
    """:func:`flambeau.split` with an int ``split_size`` (PyTorch's variant without view
    tracking; here the same).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unsafe_split(flambeau.arange(5), 2)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    if not isinstance(split_size, int) or isinstance(split_size, bool):
        raise TypeError(f"unsafe_split(): argument 'split_size' must be int, not "
                        f"{type(split_size).__name__} (use split_with_sizes for a list)")
    return split(input, split_size, dim)


def ravel(input):
    """The tensor flattened to 1-D (a view when the data is contiguous).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ravel(flambeau.tensor([[1, 2], [3, 4]]))
    tensor([1, 2, 3, 4])
    """
    return reshape(input, -1)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, with that dim removed (a view).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1, 2, 3], [4, 5, 6]])
    >>> flambeau.select(x, 1, -1)
    tensor([3, 6])
    >>> x.select(0, 1)
    tensor([4, 5, 6])
    """
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = wrap_dim(dim, nd, "select")
    index = int(index.item()) if isinstance(index, Tensor) else int(index)
    size = input._data.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    return getitem(input, (slice(None),) * axis + (index,))


@with_out
def narrow_copy(input, dim, start, length):
    """A copy of ``length`` elements of dim ``dim`` from ``start`` (see :func:`narrow`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.narrow_copy(flambeau.tensor([[1, 2, 3], [4, 5, 6]]), 1, 1, 2)
    tensor([[2, 3],
            [5, 6]])
    """
    return Narrow.apply(input, *narrow_args("narrow_copy", input, dim, start, length)).clone()


# ------------------------------------------------------------------ unfold (strided windows)


class Unfold(Function):
    """Windows of ``size`` every ``step`` along ``axis``, as a new last dim (a strided view)."""

    _is_view = True

    @staticmethod
    def forward(ctx, x, axis, size, step):
        a = x._data
        n = (a.shape[axis] - size) // step + 1
        ctx.meta = (a.shape, axis, size, step)
        shape = a.shape[:axis] + (n,) + a.shape[axis + 1:] + (size,)
        strides = a.strides[:axis] + (a.strides[axis] * step,) + a.strides[axis + 1:] + (
            a.strides[axis],)
        return as_strided_array(x._device._xp, a, shape, strides)

    @staticmethod
    def backward(ctx, g):
        shape, axis, size, step = ctx.meta
        return UnfoldBackward.apply(g, shape, axis, size, step), None, None, None


class UnfoldBackward(Function):
    """The sum of the windows' gradients back into the input's shape (overlaps add up)."""

    @staticmethod
    def forward(ctx, g, shape, axis, size, step):
        xp = g._device._xp
        ctx.meta = (axis, size, step)
        gd = g._data
        out = xp.zeros(shape, dtype=gd.dtype)
        n = gd.shape[axis]
        if n == 0 or size == 0:
            return out
        lead = (slice(None),) * axis
        if size <= n:  # one strided add per window position
            for k in range(size):
                out[lead + (slice(k, k + step * (n - 1) + 1, step),)] += gd[..., k]
        else:  # one add per window
            for i in range(n):
                window = xp.moveaxis(gd[lead + (i,)], -1, axis)
                out[lead + (slice(i * step, i * step + size),)] += window
        return out

    @staticmethod
    def backward(ctx, gg):
        axis, size, step = ctx.meta
        return Unfold.apply(gg, axis, size, step), None, None, None, None


def unfold(input, dimension, size, step):
    """All windows of ``size`` elements every ``step`` along ``dimension``, as a view.

    The result has ``dimension`` replaced by the number of windows,
    ``(input.size(dimension) - size) // step + 1``, and a new last dim of ``size``. Windows
    may overlap (``step < size``): they share memory, and their gradients add up.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops.shape_more import unfold
    >>> x = flambeau.arange(6.0)
    >>> x.unfold(0, 3, 2)
    tensor([[0., 1., 2.],
            [2., 3., 4.]])
    >>> unfold(x.reshape(2, 3), 1, 2, 1).shape
    flambeau.Size([2, 2, 2])
    """
    nd = input._data.ndim
    axis = wrap_dim(dimension, nd, "unfold")
    length = input._data.shape[axis] if nd else 1
    if size > length:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {axis} is {length} "
                           f"but size is {size}")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if nd == 0:  # PyTorch gives the (at most one) element as a 1-D tensor
        return input.reshape(1).narrow(0, 0, size)
    return Unfold.apply(input, axis, int(size), int(step))


# ------------------------------------------------------------------ rotations and diagonals


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim
    towards the second (a copy).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1, 2], [3, 4]])
    >>> flambeau.rot90(x)
    tensor([[2, 4],
            [1, 3]])
    >>> flambeau.rot90(x, -1)
    tensor([[3, 1],
            [4, 2]])
    """
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = "
                           f"{len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or builtins.abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = "
                           f"{dims[0]} and dim1 = {dims[1]}")
    d0, d1 = wrap_dim(dims[0], nd, "rot90"), wrap_dim(dims[1], nd, "rot90")
    k %= 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return transpose(flip(input, [d0]), d0, d1)
    return input.clone()


class DiagEmbed(Function):
    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        xp = x._device._xp
        a = x._data
        n = a.shape[-1]
        m = n + builtins.abs(offset)
        ctx.meta = (offset, d1, d2)
        z = xp.zeros(a.shape[:-1] + (m, m), dtype=a.dtype)
        rows = xp.arange(n) + builtins.max(0, -offset)
        z[..., rows, rows + offset] = a
        return xp.ascontiguousarray(xp.moveaxis(z, (-2, -1), (d1, d2)))

    @staticmethod
    def backward(ctx, g):
        offset, d1, d2 = ctx.meta
        return diagonal(g, offset, d1, d2), None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Place the last dim of ``input`` on the ``offset`` diagonal of the ``(dim1, dim2)``
    planes of a new tensor with one more dim (zeros elsewhere).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diag_embed(flambeau.tensor([[1, 2], [3, 4]]))
    tensor([[[1, 0],
             [0, 2]],
    <BLANKLINE>
            [[3, 0],
             [0, 4]]])
    >>> flambeau.diag_embed(flambeau.tensor([1, 2]), 1).shape
    flambeau.Size([3, 3])
    """
    nd = input._data.ndim + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, int(offset), d1, d2)


def diagflat(input, offset=0):
    """A 2-D tensor with the flattened ``input`` on diagonal ``offset``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diagflat(flambeau.tensor([[1, 2]]), -1)
    tensor([[0, 0, 0],
            [1, 0, 0],
            [0, 2, 0]])
    """
    return diag_embed(input.reshape(-1), offset)


def block_diag(*tensors):
    """A block-diagonal matrix of the given tensors (0-d and 1-D ones count as one row).

    The dtype is the tensors' promoted dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.block_diag(flambeau.tensor([[1, 2], [3, 4]]), flambeau.tensor(5))
    tensor([[1, 2, 0],
            [3, 4, 0],
            [0, 0, 5]])
    """
    if not tensors:
        return _creation.zeros(1, 0)
    mats = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag(): expected Tensors, but argument {i} is a "
                            f"{type(t).__name__}")
        nd = t._data.ndim
        if nd > 2:
            raise RuntimeError(f"block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {nd} dimensions")
        mats.append(t.reshape(1, -1) if nd == 1 else t.reshape(1, 1) if nd == 0 else t)
    for t in mats[1:]:
        check_same_device("block_diag", mats[0], t)
    total = builtins.sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        cols = m._data.shape[1]
        rows.append(pad(m, (left, total - left - cols)))
        left += cols
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-D tensor, as the rows of a tensor (one tensor
    is returned as is).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cartesian_prod(flambeau.tensor([1, 2]), flambeau.tensor([3, 4]))
    tensor([[1, 3],
            [1, 4],
            [2, 3],
            [2, 4]])
    """
    tensors = _tensor_list(tensors, "cartesian_prod")
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"cartesian_prod: Expect a 1D vector, but got shape "
                               f"{list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows, in
    lexicographic order of positions (as :func:`itertools.combinations`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.combinations(flambeau.tensor([1, 2, 3]))
    tensor([[1, 2],
            [1, 3],
            [2, 3]])
    >>> flambeau.combinations(flambeau.tensor([1, 2]), with_replacement=True)
    tensor([[1, 1],
            [1, 2],
            [2, 2]])
    """
    if input._data.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape "
                           f"{list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    xp = input._device._xp
    if r == 0:
        return index_select(input, 0, make(xp.zeros(0, dtype=xp.int64), input))
    n = input._data.shape[0]
    # every r-tuple of positions, kept where the positions increase (or do not decrease)
    grid = xp.indices((n,) * r).reshape(r, -1)
    keep = xp.ones(grid.shape[1], dtype=bool)
    for k in range(r - 1):
        keep &= (grid[k] <= grid[k + 1]) if with_replacement else (grid[k] < grid[k + 1])
    idx = xp.ascontiguousarray(grid[:, keep].T).astype(xp.int64)
    return index_select(input, 0, make(idx.reshape(-1), input)).reshape(idx.shape)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix: column ``j`` is ``x ** (N - 1 - j)`` (``x ** j`` when
    ``increasing``). Integer and bool inputs give int64.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.vander(flambeau.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [4, 2, 1],
            [9, 3, 1]])
    >>> flambeau.vander(flambeau.tensor([2.0, 3.0]), 3, increasing=True)
    tensor([[1., 2., 4.],
            [1., 3., 9.]])
    """
    if x._data.ndim != 1:
        raise RuntimeError("vander: x must be a one-dimensional tensor.")
    n = x._data.shape[0]
    N = n if N is None else int(N)
    if N < 0:
        raise RuntimeError("vander: N must be non-negative.")
    if not x.dtype.is_floating_point:
        x = x.to(_dtype.int64)
    if N == 0:
        return x.new_zeros(n, 0)
    ones = x.new_ones(n, 1)
    if N == 1:
        out = ones
    else:  # running products, so that x == 0 has the gradient of x ** k
        powers = x.unsqueeze(1).expand(n, N - 1).cumprod(1)
        out = cat([ones, powers], 1)
    return out if increasing else flip(out, [1])


# ------------------------------------------------------------------ *_scatter


def _scatter_checks(op, input, src, slice_shape):
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}")
    if tuple(src.shape) != tuple(slice_shape):
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(slice_shape)}")
    input, src = check_same_device(op, input, src)
    if src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    return src


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with the slice ``input.select(dim, index)`` replaced by ``src``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.select_scatter(flambeau.zeros(2, 2), flambeau.ones(2), 0, 1)
    tensor([[0., 0.],
            [1., 1.]])
    """
    view = select(input, dim, index)  # the checks and errors of select
    axis = wrap_dim(dim, input._data.ndim, "select_scatter")
    index = int(index.item()) if isinstance(index, Tensor) else int(index)
    src = _scatter_checks("select_scatter", input, src, view.shape)
    return IndexPut.apply(input, (slice(None),) * axis + (index,), src, False)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1, *, out=None):
    """A copy of ``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced
    by ``src``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.slice_scatter(flambeau.zeros(2, 4), flambeau.ones(2, 2), 1, step=2)
    tensor([[1., 0., 1., 0.],
            [1., 0., 1., 0.]])
    """
    axis = wrap_dim(dim, input._data.ndim, "slice_scatter")
    if step is None:
        step = 1
    if step <= 0:
        raise RuntimeError("slice_scatter: slice step must be positive")
    index = (slice(None),) * axis + (slice(start, end, step),)
    src = _scatter_checks("slice_scatter", input, src, input._data[index].shape)
    result = IndexPut.apply(input, index, src, False)
    return result if out is None else write_out(result, out, exact=True)


def _diagonal_view(arr, device, offset, d1, d2):
    """A writable strided view of the diagonal of ``arr`` (the array of ``Diagonal``)."""
    return Diagonal.forward(types.SimpleNamespace(), Tensor._make(arr, device), offset, d1, d2)


class DiagonalScatter(Function):
    @staticmethod
    def forward(ctx, x, src, offset, d1, d2):
        out = x._data.copy()
        _diagonal_view(out, x._device, offset, d1, d2)[...] = src._data
        ctx.meta = (offset, d1, d2, src._data.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        offset, d1, d2, src_shape = ctx.meta
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = DiagonalScatter.apply(g, g.new_zeros(src_shape), offset, d1, d2)
        if ctx.needs_input_grad[1]:
            gs = diagonal(g, offset, d1, d2)
        return gx, gs, None, None, None


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diagonal_scatter(flambeau.zeros(3, 3), flambeau.ones(2), 1)
    tensor([[0., 1., 0.],
            [0., 0., 1.],
            [0., 0., 0.]])
    """
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "diagonal_scatter"), wrap_dim(dim2, nd, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter: diagonal dimensions cannot be identical {dim1}, "
                           f"{dim2}")
    view_shape = _diagonal_view(input._data, input._device, int(offset), d1, d2).shape
    src = _scatter_checks("diagonal_scatter", input, src, view_shape)
    return DiagonalScatter.apply(input, src, int(offset), d1, d2)


# ------------------------------------------------------------------ Tensor-only methods


@list_keyword("size")
def sum_to_size(self, *sizes, size=None):
    """The sum of ``self`` down to ``size``, a shape ``self`` broadcasts from.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]])
    >>> flambeau.ones(2, 3).sum_to_size((3,))
    tensor([2., 2., 2.])
    """
    if size is not None:  # sum_to_size(size=(1, 3))
        sizes = sizes_by_keyword("sum_to_size", "size", sizes, size)
    size = tuple(int(s) for s in _shape_args(sizes))
    shape = self._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size "
                           f"{list(shape)}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1)
    if not dims:
        return self
    return self.sum(dims, keepdim=True).reshape(size)


def where_method(self, condition, other):
    """``flambeau.where(condition, self, other)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2).where(flambeau.tensor([True, False]), 5.0)
    tensor([0., 5.])
    """
    from flambeau._ops.elementwise import where

    return where(condition, self, other)


def new(self, *args, device=None, **overload):
    """The legacy constructor: ``t.new(2, 3)`` (uninitialized), ``t.new([1, 2])`` (from data)
    or ``t.new()`` (empty), all with ``t``'s dtype and (by default) device.

    ``t.new(other)`` with a tensor of the same dtype and device shares ``other``'s storage.
    As torch's, the overloads also take their argument by keyword: ``size=``, ``data=``,
    ``other=`` (not ``storage=`` or the sparse ``indices=``/``values=``).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(1, dtype=flambeau.float64)
    >>> x.new([1, 2])
    tensor([1., 2.], dtype=flambeau.float64)
    >>> x.new(2, 3).shape, x.new().shape, x.new(size=(2,)).shape
    (flambeau.Size([2, 3]), flambeau.Size([0]), flambeau.Size([2]))
    """
    from flambeau._tensor import Size

    if overload:
        args = _new_by_keyword(args, overload)
    dev = self._device if device is None else canonical(device)
    if not args:
        return _creation.empty(0, dtype=self.dtype, device=dev)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a._data.dtype != self._data.dtype or a._device is not dev:
                raise TypeError(f"new(): expected a {self.dtype} tensor on {dev}, got a "
                                f"{a.dtype} tensor on {a._device}")
            out = Tensor._make(a._data, a._device)
            out._version_counter = a._version_counter
            return out
        if isinstance(a, Size):
            return _creation.empty(*a, dtype=self.dtype, device=dev)
        if isinstance(a, (list, tuple)):
            return _creation.tensor(a, dtype=self.dtype, device=dev)
        if not isinstance(a, int):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
    return _creation.empty(*args, dtype=self.dtype, device=dev)



def _new_by_keyword(args, overload):
    """The arguments of ``new`` when its overload's one argument came by keyword."""
    (key, value), *more = overload.items()
    if more or key not in ("size", "data", "other"):
        name = more[0][0] if key in ("size", "data", "other") else key
        raise TypeError(f"new() got an unexpected keyword argument '{name}'")
    if args:
        raise TypeError(f"new() got multiple values for argument '{key}'")
    if key == "size":  # a Size, not a list: new((2, 3)) is data
        from flambeau._tensor import Size

        return (Size(sizes_by_keyword("new", "size", args, value)[0]),)
    if key == "other" and not isinstance(value, Tensor):
        raise TypeError(f"new(): argument 'other' must be Tensor, not {type(value).__name__}")
    return (value,)


# ------------------------------------------------------------------ in-place metadata changes


def _restride_(self, compute, op):
    """Give ``self`` the shape and strides of the view ``compute(self)``, in place.

    The storage is untouched, so other views of it stay valid; the version counter is
    bumped (tensors saved for backward with the old shape are caught) and, while recording,
    ``self``'s history continues through the view op.
    """
    if _grad_state.grad_enabled:
        base = self._base
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if base is not None and base._requires_grad and base.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being "
                               "used in an in-place operation.")
    result = compute(self)
    self._data = result._data
    if _autograd_function._forward_ad_on:  # forward AD: the tangent takes the view's layout
        self._fw_grad = getattr(result, "_fw_grad", None)
    self._version_counter.value += 1
    if result._grad_fn is not None:
        self._take_history(result._grad_fn, result._output_nr)
    if self._view_version is not None:
        self._view_version = self._version_counter.value  # its history already follows the change
    return self


def transpose_(self, dim0, dim1):
    """Swap two dims in place (only the shape and strides change).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, 3)
    >>> x.transpose_(0, 1).shape
    flambeau.Size([3, 2])
    """
    return _restride_(self, lambda t: transpose(t, dim0, dim1), "transpose_")


def swapaxes_(self, axis0, axis1):
    """:meth:`transpose_` under NumPy's name.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).swapaxes_(0, 1).shape
    flambeau.Size([3, 2])
    """
    return _restride_(self, lambda t: transpose(t, axis0, axis1), "swapaxes_")


def swapdims_(self, dim0, dim1):
    """:meth:`transpose_`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).swapdims_(0, 1).shape
    flambeau.Size([3, 2])
    """
    return _restride_(self, lambda t: transpose(t, dim0, dim1), "swapdims_")


def t_(self):
    """Transpose a tensor of at most 2 dims in place.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1, 2]])
    >>> x.t_()
    tensor([[1],
            [2]])
    """
    if self._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{self._data.ndim}D")
    return _restride_(self, lambda t: t.t(), "t_")


def squeeze_(self, dim=None):
    """Remove dims of size 1 in place (all, or those in ``dim``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 1, 3).squeeze_().shape
    flambeau.Size([2, 3])
    """
    return _restride_(self, lambda t: t.squeeze(dim), "squeeze_")


def unsqueeze_(self, dim):
    """Insert a dim of size 1 at ``dim`` in place.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).unsqueeze_(0).shape
    flambeau.Size([1, 2, 3])
    """
    return _restride_(self, lambda t: t.unsqueeze(dim), "unsqueeze_")


# ------------------------------------------------------------------ signal windows


def _window(op, window_length, periodic, dtype, device, requires_grad, values,
            pin_memory=False):
    """A window of ``window_length`` points from ``values(xp, n, N)``, computed in float64.

    ``n`` holds the sample positions ``0..window_length-1`` and ``N`` is the length of the
    symmetric window they are taken from (one more than ``window_length`` when periodic).
    """
    if isinstance(window_length, bool) or not isinstance(window_length, int):
        raise TypeError(f"{op}(): argument 'window_length' must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{op} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{op} expects floating point dtypes, got: {dt}")
    dev = canonical(device)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        if window_length <= 1:
            arr = xp.ones(window_length, dtype=dt.np)
        else:
            N = window_length + 1 if periodic else window_length
            arr = values(xp, xp.arange(window_length, dtype=xp.float64), N).astype(dt.np)
    return _creation._finish(arr, dev, requires_grad, pin_memory, op)


def _cosine_sum(xp, n, N, coefficients):
    phase = 2.0 * math.pi * n / (N - 1)
    out = xp.zeros(n.shape, dtype=xp.float64)
    for k, a in enumerate(coefficients):
        out += (-1) ** k * a * xp.cos(k * phase)
    return out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False, pin_memory=False):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``.

    ``periodic=True`` (for spectral analysis) drops the last point of a window one longer.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hann_window(4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    >>> flambeau.hann_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, n, N: _cosine_sum(xp, n, N, (0.5, 0.5)), pin_memory)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False, pin_memory=False):
    """The Hamming window ``alpha - beta cos(2 pi n / (N - 1))``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hamming_window(4, dtype=flambeau.float64)
    tensor([0.0800, 0.5400, 1.0000, 0.5400], dtype=flambeau.float64)
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, n, N: _cosine_sum(xp, n, N, (alpha, beta)), pin_memory)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False):
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``.

    Examples
    --------
    >>> import flambeau
    >>> w = flambeau.blackman_window(5, periodic=False)
    >>> w[1:4]
    tensor([0.3400, 1.0000, 0.3400])
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, n, N: _cosine_sum(xp, n, N, (0.42, 0.5, 0.08)), pin_memory)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False):
    """The Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bartlett_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, n, N: 1.0 - xp.abs(2.0 * n / (N - 1) - 1.0), pin_memory)


# Above this argument the asymptotic series of I0 is accurate to double precision (its
# terms fall below 1e-17 before they start to grow); below it the power series converges in
# fewer than _I0_TERMS terms.
_I0_ASYMPTOTIC_FROM = 30.0
_I0_TERMS = 90


def _i0e(xp, x):
    """``exp(-|x|) * I0(x)``, the exponentially scaled modified Bessel function of order 0.

    Power series ``sum_k ((x / 2) ** k / k!) ** 2`` for small ``|x|`` and the asymptotic
    expansion ``(1 + 1 / (8x) + 9 / (2 (8x) ** 2) + ...) / sqrt(2 pi x)`` for large, in float64.
    """
    x = xp.abs(xp.asarray(x, dtype=xp.float64))
    small = xp.minimum(x, _I0_ASYMPTOTIC_FROM)
    term = xp.ones_like(small)
    total = xp.ones_like(small)
    q = (small / 2.0) ** 2
    for k in range(1, _I0_TERMS):
        term = term * q / (k * k)
        total = total + term
    series = total * xp.exp(-small)
    big = xp.maximum(x, _I0_ASYMPTOTIC_FROM)
    term = xp.ones_like(big)
    total = xp.ones_like(big)
    for k in range(1, 25):
        term = term * (2 * k - 1) ** 2 / (8.0 * k * big)
        total = total + term
    asymptotic = total / xp.sqrt(2.0 * math.pi * big)
    return xp.where(x < _I0_ASYMPTOTIC_FROM, series, asymptotic)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False, pin_memory=False):
    """The Kaiser window ``I0(beta sqrt(1 - (2 n / (N - 1) - 1) ** 2)) / I0(beta)``.

    ``I0`` is the zeroth-order modified Bessel function of the first kind, computed in
    float64 and exponentially scaled, so large ``beta`` does not overflow.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.kaiser_window(3, periodic=False, beta=0.0)
    tensor([1., 1., 1.])
    >>> flambeau.kaiser_window(5, dtype=flambeau.float64)[2]
    tensor(0.7929, dtype=flambeau.float64)
    """
    def values(xp, n, N):
        r = 2.0 * n / (N - 1) - 1.0
        arg = abs(float(beta)) * xp.sqrt(xp.clip(1.0 - r * r, 0.0, None))
        # I0(arg) / I0(beta) = i0e(arg) / i0e(beta) * exp(arg - beta), with arg <= beta
        return _i0e(xp, arg) / _i0e(xp, beta) * xp.exp(arg - abs(float(beta)))

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   values, pin_memory)


#: Tensor methods attached by :mod:`flambeau._methods`
TENSOR_METHODS = {
    "ravel": ravel, "select": select, "unfold": unfold, "rot90": rot90,
    "diag_embed": diag_embed, "diagflat": diagflat, "hsplit": hsplit, "vsplit": vsplit,
    "dsplit": dsplit, "split_with_sizes": split_with_sizes, "unsafe_chunk": unsafe_chunk,
    "unsafe_split": unsafe_split, "narrow_copy": narrow_copy,
    "diagonal_scatter": diagonal_scatter, "select_scatter": select_scatter,
    "slice_scatter": slice_scatter, "sum_to_size": sum_to_size, "where": where_method,
    "new": new, "transpose_": transpose_, "swapaxes_": swapaxes_, "swapdims_": swapdims_,
    "t_": t_, "squeeze_": squeeze_, "unsqueeze_": unsqueeze_,
}

"""Sparse compressed tensors: PyTorch's ``sparse_csr``, ``sparse_csc``, ``sparse_bsr`` and
``sparse_bsc`` layouts (2-D).

A compressed tensor is a :class:`flambeau.Tensor` (of the private subclass
``SparseCompressedTensor``) whose ``_data`` is a :class:`CompressedData`: the compressed
indices (``crow_indices`` of CSR, ``n_rows + 1`` offsets of each row's run; ``ccol_indices``
of CSC), the plain indices (``col_indices``; ``row_indices``), the values (one per nonzero)
and the size. Like a COO tensor's storage it refuses every dense op (a
:class:`~flambeau._sparse.SparseUnsupported` naming the op and the layout).

Every kernel is vectorised on the backend's ``xp``: the row (column) of each nonzero is a
``searchsorted`` of its position in the compressed indices, compressing is the reverse
``searchsorted``, and products and ``to_dense`` use the backend's scatter-add
(:func:`flambeau._sparse.scatter_add_`). The blocked layouts (BSR, BSC) are the same storage
with values of shape ``(nnz, h, w)`` and indices counting blocks: ``rows_cols`` expands each
block to its elements, so ``to_dense``, products and gradients are the scalar layouts' own.
Only 2-D tensors are supported (no batch or dense dims): the others are refused with a clear
error.
"""

from __future__ import annotations

from flambeau import _compat, _dtype
from flambeau import _sparse as _coo
from flambeau._sparse import COOData, RefusingStorage, SparseUnsupported, scatter_add_
from flambeau._tensor import Tensor
from flambeau.autograd._function import Function

__all__ = ["CompressedData", "SparseCompressedTensor", "sparse_compressed_tensor",
           "sparse_csr_tensor", "sparse_csc_tensor", "sparse_bsr_tensor", "sparse_bsc_tensor"]

sparse_csr, sparse_csc = _compat.sparse_csr, _compat.sparse_csc
sparse_bsr, sparse_bsc = _compat.sparse_bsr, _compat.sparse_bsc
#: the blocked layouts: values of shape ``(nnz, *blocksize)``, indices counting blocks
_BLOCKED = (sparse_bsr, sparse_bsc)
#: the layouts whose compressed indices run over rows
_ROW_MAJOR = (sparse_csr, sparse_bsr)
#: each layout's names of its compressed and plain indices, and torch's name of the layout
_NAMES = {sparse_csr: ("crow_indices", "col_indices", "SparseCsr"),
          sparse_csc: ("ccol_indices", "row_indices", "SparseCsc"),
          sparse_bsr: ("crow_indices", "col_indices", "SparseBsr"),
          sparse_bsc: ("ccol_indices", "row_indices", "SparseBsc")}


class CompressedData(RefusingStorage):
    """The storage of a sparse CSR or CSC matrix: ``compressed`` (``n + 1`` offsets, ``n`` the
    number of rows of CSR, of columns of CSC), ``plain`` (each nonzero's column, or row),
    ``values`` (one per nonzero), the ``shape``, the ``layout`` and the ``device``.

    Examples
    --------
    >>> import flambeau
    >>> d = flambeau.tensor([[0.0, 2.0], [3.0, 4.0]]).to_sparse_csr()._data
    >>> d.compressed.tolist(), d.plain.tolist(), d.values.tolist(), d.shape
    ([0, 1, 3], [1, 0, 1], [2.0, 3.0, 4.0], (2, 2))
    """

    __slots__ = ("compressed", "plain", "values", "shape", "layout", "device", "blocksize")

    def __init__(self, compressed, plain, values, shape, layout, device, blocksize=None):
        self.compressed = compressed
        self.plain = plain
        self.values = values
        self.shape = tuple(shape)
        self.layout = layout
        self.device = device
        # BSR/BSC: the block's shape (the values' trailing dims, given where values are not)
        if blocksize is None and layout in _BLOCKED:
            blocksize = tuple(values.shape[1:])
        self.blocksize = blocksize

    @property
    def _layout(self):
        return self.layout._name

    @property
    def nnz(self):
        return self.plain.shape[0]

    def copy(self):
        return CompressedData(self.compressed.copy(), self.plain.copy(), self.values.copy(),
                              self.shape, self.layout, self.device, self.blocksize)

    def rows_cols(self):
        """Each stored value's row and column index (two arrays, one entry per value of
        ``values`` in C order: a block's every element for BSR/BSC)."""
        xp = self.device._xp
        major = _expand(xp, self.compressed, self.nnz)
        rows, cols = (major, self.plain) if self.layout in _ROW_MAJOR else (self.plain, major)
        if self.blocksize is None:
            return rows, cols
        bh, bw = self.blocksize
        shape = (rows.shape[0], bh, bw)
        rows = rows[:, None, None] * bh + xp.arange(bh, dtype=rows.dtype)[None, :, None]
        cols = cols[:, None, None] * bw + xp.arange(bw, dtype=cols.dtype)[None, None, :]
        return (xp.broadcast_to(rows, shape).reshape(-1),
                xp.broadcast_to(cols, shape).reshape(-1))

    def __iadd__(self, other):
        # the engine's accumulation of two compressed gradients of one tensor
        if other.__class__ is not CompressedData:
            raise _coo._refuse("add", layout=self._layout)
        return _add_data(self, other, 1)

    def __repr__(self):
        return (f"CompressedData(shape={self.shape}, nnz={self.nnz}, "
                f"layout={self.layout})")


# ------------------------------------------------------------------ kernels on xp arrays


def _expand(xp, compressed, nnz):
    """Each nonzero's index along the compressed dim: the run of ``compressed`` it is in."""
    at = xp.arange(nnz, dtype=compressed.dtype)
    return (xp.searchsorted(compressed, at, side="right") - 1).astype(compressed.dtype)


def _from_pairs(device, rows, cols, values, shape, layout, index_dtype=None):
    """The compressed storage of ``(row, col, value)`` triples in any order, duplicates
    summed (a sort of their keys in the layout's order, then a scatter-add); its indices
    are ``index_dtype`` (int64 by default; torch keeps an int32 matrix's through its ops)."""
    xp = device._xp
    nrows, ncols = shape
    rows, cols = rows.astype(xp.int64), cols.astype(xp.int64)
    if layout is sparse_csr:
        key, n, width = rows * ncols + cols, nrows, ncols
    else:
        key, n, width = cols * nrows + rows, ncols, nrows
    uniq, inverse = xp.unique(key, return_inverse=True)
    summed = xp.zeros(uniq.shape[:1], dtype=values.dtype)
    _coo._index_add(device._backend, summed, inverse.reshape(-1), values)
    major = uniq // width if width else uniq
    compressed = xp.searchsorted(major, xp.arange(n + 1, dtype=xp.int64), side="left")
    index_dtype = xp.int64 if index_dtype is None else index_dtype
    return CompressedData(compressed.astype(index_dtype), (uniq - major * width).astype(
        index_dtype, copy=False), summed, shape, layout, device)


def _convert(data, layout):
    """``data`` in the other compressed layout (``data`` itself for its own)."""
    if data.layout is layout:
        return data
    rows, cols = data.rows_cols()
    return _from_pairs(data.device, rows, cols, data.values, data.shape, layout,
                       data.compressed.dtype)


def _add_data(a, b, alpha):
    """``a + alpha * b`` of two compressed storages of one shape, in ``a``'s layout (a
    blocked one: the blocks of the dense sum that hold a nonzero)."""
    xp = a.device._xp
    if a.blocksize is not None:
        total = _dense_array(a) + _dense_array(b) * alpha
        return _blocked_from_array(a.device, total, a.layout, a.blocksize)
    ra, ca = a.rows_cols()
    rb, cb = b.rows_cols()
    bv = b.values if alpha == 1 else b.values * alpha
    values = xp.concatenate([a.values, bv.astype(a.values.dtype, copy=False)])
    return _from_pairs(a.device, xp.concatenate([ra, rb]), xp.concatenate([ca, cb]), values,
                       a.shape, a.layout, a.compressed.dtype)


def _gather(g, data):
    """The gradient of compressed values from ``g``, the gradient of the tensor's dense
    value (strided, COO or compressed): ``g`` at each nonzero."""
    rows, cols = data.rows_cols()
    if isinstance(g, SparseCompressedTensor):
        g = g.to_sparse_coo()
    if isinstance(g, _coo.SparseTensor):
        xp = data.device._xp
        picked = _coo._lookup(g._device, g._data, xp.stack([rows, cols]).astype(xp.int64))
    else:
        picked = g._data[rows, cols]
    return picked.reshape(_values_shape(data))


def _values_shape(data):
    """The shape of the values of the compressed storage (or pattern) ``data``."""
    return (data.nnz,) + tuple(data.blocksize or ())


def _wrap(data, requires_grad=False):
    return SparseCompressedTensor._wrap(data, data.device, requires_grad)


# ------------------------------------------------------------------ the tensor


def _index_getter(name, layout):
    def method(self):
        names = _NAMES[layout]
        if (self._data.layout in _ROW_MAJOR) != (layout in _ROW_MAJOR):  # BSR's are CSR's
            kind = "row" if layout is sparse_csr else "column"
            raise RuntimeError(f"{name} expected sparse {kind} compressed tensor layout but "
                               f"got {_NAMES[self._data.layout][2]}")
        array = self._data.compressed if name == names[0] else self._data.plain
        return Tensor._make(array, self._device)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"The ``{name}`` of a sparse {layout._name[-3:].upper()} (or "
                      f"B{layout._name[-2:].upper()}) tensor.")
    return method


class SparseCompressedTensor(_coo.SparseBase):
    """A sparse CSR or CSC matrix (``layout`` ``flambeau.sparse_csr`` or
    ``flambeau.sparse_csc``); make one with :func:`flambeau.sparse_csr_tensor`,
    :func:`flambeau.sparse_csc_tensor` or :meth:`flambeau.Tensor.to_sparse_csr`.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_csr_tensor([0, 1, 2], [1, 0], [3.0, 4.0], (2, 2))
    >>> s.layout, s.is_sparse_csr, s.is_sparse, s.to_dense()
    (flambeau.sparse_csr, True, False, tensor([[0., 3.],
            [4., 0.]]))
    """

    __slots__ = ()

    is_sparse = False

    @property
    def layout(self):
        """``flambeau.sparse_csr`` or ``flambeau.sparse_csc``."""
        return self._data.layout

    @property
    def is_sparse_csr(self):
        """Whether the layout is ``flambeau.sparse_csr`` (False for CSC, as torch)."""
        return self._data.layout is sparse_csr

    # ------------------------------------------------------------ structure
    crow_indices = _index_getter("crow_indices", sparse_csr)
    col_indices = _index_getter("col_indices", sparse_csr)
    ccol_indices = _index_getter("ccol_indices", sparse_csc)
    row_indices = _index_getter("row_indices", sparse_csc)

    def values(self):
        """The stored values, in the autograd graph."""
        return _Values.apply(self)

    def _nnz(self):
        """The number of stored values."""
        return self._data.nnz

    def _rows_cols(self):
        # each nonzero's row and column (the sparse products')
        return self._data.rows_cols()

    def _masked_pattern(self):
        # the pattern and its gradient's maker (the sparse products' masked gradient)
        d = self._data
        return (*d.rows_cols(), lambda v: _Construct.apply(v.reshape(_values_shape(d)), d))

    def sparse_dim(self):
        """2: both dims are sparse."""
        return 2

    def dense_dim(self):
        """0: the values are scalars."""
        return 0

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The strided tensor of the same values (zeros where nothing is stored)."""
        out = _ToDense.apply(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """This matrix in ``layout`` (COO by default)."""
        if layout is None or layout is _compat.sparse_coo:
            if sparse_dim not in (None, 2):
                raise RuntimeError(f"to_sparse: sparse_dim argument must be 2 for a "
                                   f"{self._data.layout} tensor, but {sparse_dim} is given")
            return _ToCOO.apply(self)
        _check_compressed_layout("to_sparse", layout, blocksize, dense_dim)
        d = self._data
        if layout is d.layout and blocksize in (None, d.blocksize):
            return self
        if d.layout in _BLOCKED:
            # as torch: a blocked matrix changes between BSR and BSC of its own blocksize only
            op = f"to_sparse_{layout._name[-3:]}"
            if layout not in _BLOCKED:
                raise RuntimeError(f"{op}: expected SparseCsr or SparseCsc layout but got "
                                   f"{_NAMES[d.layout][2]}; convert with .to_dense() first")
            if tuple(blocksize) != d.blocksize:
                raise RuntimeError(f"{op}: conversion from {_NAMES[d.layout][2]} to "
                                   f"{_NAMES[layout][2]} with blocksize changed from "
                                   f"{list(d.blocksize)} to {list(blocksize)} is not supported")
        if layout in _BLOCKED:
            return _to_blocked(self, layout, blocksize)
        return _Relayout.apply(self, layout)

    def to_sparse_coo(self):
        """This matrix as a sparse COO tensor (coalesced)."""
        return self.to_sparse()

    def to_sparse_csr(self, dense_dim=None):
        """This matrix in the CSR layout (``self`` if it is CSR)."""
        return self.to_sparse(layout=sparse_csr, dense_dim=dense_dim)

    def to_sparse_csc(self, dense_dim=None):
        """This matrix in the CSC layout (``self`` if it is CSC)."""
        return self.to_sparse(layout=sparse_csc, dense_dim=dense_dim)

    def to_sparse_bsr(self, blocksize, dense_dim=None):
        """This matrix in the BSR layout (``self`` if it is BSR of that blocksize)."""
        return self.to_sparse(layout=sparse_bsr, blocksize=tuple(blocksize),
                              dense_dim=dense_dim)

    def to_sparse_bsc(self, blocksize, dense_dim=None):
        """This matrix in the BSC layout (``self`` if it is BSC of that blocksize)."""
        return self.to_sparse(layout=sparse_bsc, blocksize=tuple(blocksize),
                              dense_dim=dense_dim)

    def _check_copy(self, src):
        if src._data.shape != self._data.shape or src._data.nnz != self._data.nnz:
            raise RuntimeError(f"copy_: only sparse compressed tensors with the same size and "
                               f"number of specified elements are supported, got size "
                               f"{tuple(src.shape)} with nnz={src._data.nnz} into size "
                               f"{tuple(self.shape)} with nnz={self._data.nnz}")

    def numpy(self, *, force=False):
        raise TypeError(f"can't convert {_NAMES[self._data.layout][2]} layout tensor to "
                        "numpy. Use Tensor.to_dense() first.")

    def __reduce_ex__(self, protocol):
        d = self._data
        host = self._device._backend.to_host
        return (_rebuild, (host(d.compressed), host(d.plain), host(d.values), d.shape,
                           d.layout._name, str(self._device), self._requires_grad))

    # ------------------------------------------------------------ math
    def t(self):
        """The transpose: a CSR matrix's is the CSC matrix of the same arrays, and back."""
        return _Transpose.apply(self)

    def add(self, other, *, alpha=1):
        """``self + alpha * other`` for a compressed ``other`` of the same shape (in
        ``self``'s layout), or a dense one (dense)."""
        return add(self, other, alpha)

    def __add__(self, other):
        return add(self, other, 1)

    def __radd__(self, other):
        return add(other, self, 1)

    def mul(self, other):
        """``self * other`` for a number (compressed, on the same pattern)."""
        return mul(self, other)

    __mul__ = __rmul__ = mul

    def neg(self):
        """``-self`` (compressed)."""
        return _Map.apply(self, "mul", -1)

    __neg__ = neg


def _check_compressed_layout(op, layout, blocksize=None, dense_dim=None):
    if layout not in _NAMES:
        raise SparseUnsupported(f"{op}: layout {layout} is not supported (flambeau has "
                                "flambeau.sparse_coo, sparse_csr, sparse_csc, sparse_bsr and "
                                "sparse_bsc)")
    if dense_dim not in (None, 0):
        raise SparseUnsupported(f"{op}: dense_dim is not supported for {layout} (2-D "
                                "matrices only)")
    if (blocksize is None) == (layout in _BLOCKED):
        raise RuntimeError(f"{op}: a blocksize is required for {layout}" if blocksize is None
                           else f"{op}: blocksize is only given for sparse_bsr and sparse_bsc, "
                           f"not {layout}")


def _rebuild(compressed, plain, values, shape, layout, device, requires_grad):
    from flambeau._device import canonical

    dev = canonical(device)
    xp = dev._xp
    data = CompressedData(xp.asarray(compressed), xp.asarray(plain), xp.asarray(values),
                          shape, getattr(_compat, layout), dev)
    return _wrap(data, requires_grad)


def _format(t):
    d = t._data
    names = _NAMES[d.layout]
    return _coo.format_parts(t, [(names[0], d.compressed), (names[1], d.plain),
                                 ("values", d.values)], d.nnz, False)


# ------------------------------------------------------------------ autograd nodes


class _Construct(Function):
    """A compressed tensor from its values (torch's SparseCompressedTensorBackward0)."""

    _node_name = "SparseCompressedTensorBackward0"

    @staticmethod
    def forward(ctx, values, pattern):
        ctx.pattern = pattern
        return _wrap(CompressedData(pattern.compressed, pattern.plain, values._data,
                                    pattern.shape, pattern.layout, values._device,
                                    pattern.blocksize))

    @staticmethod
    def backward(ctx, g):
        return Tensor._make(_gather(g, ctx.pattern), g._device), None


class _Values(Function):
    """The stored values (torch's ValuesBackward0): their gradient is a compressed tensor
    on the same pattern."""

    @staticmethod
    def forward(ctx, s):
        ctx.pattern = s._data
        return s._data.values

    @staticmethod
    def backward(ctx, g):
        return _Construct.apply(g, ctx.pattern)


def _dense_array(d):
    """The strided array of the compressed storage ``d`` (zeros where nothing is stored)."""
    xp = d.device._xp
    out = xp.zeros(d.shape, dtype=d.values.dtype)
    rows, cols = d.rows_cols()
    return scatter_add_(d.device, out, xp.stack([rows, cols]), d.shape, d.values.reshape(-1))


class _ToDense(Function):
    """The strided matrix; its gradient is compressed, on the input's pattern (as torch's)."""

    @staticmethod
    def forward(ctx, s):
        ctx.pattern = s._data
        return _dense_array(s._data)

    @staticmethod
    def backward(ctx, g):
        values = Tensor._make(_gather(g, ctx.pattern), g._device)
        return _Construct.apply(values, ctx.pattern)


class _AsDenseOperand(Function):
    """The strided matrix of a compressed operand of a sum with a dense tensor: its
    gradient is the sum's, dense (torch's add gives a strided gradient there, where
    to_dense's keeps only the pattern)."""

    @staticmethod
    def forward(ctx, s):
        return _dense_array(s._data)

    @staticmethod
    def backward(ctx, g):
        return g


class _ToCompressed(Function):
    """A strided or COO matrix in a compressed layout; the gradient goes back as it came
    (dense for a strided input, COO for a COO one)."""

    @staticmethod
    def forward(ctx, x, layout):
        xp = x._device._xp
        ctx.coo = isinstance(x, _coo.SparseTensor)
        if ctx.coo:
            d = x._data
            rows, cols, values = d.indices[0], d.indices[1], d.values
        else:
            a = x._data
            rows, cols = xp.nonzero(a)
            values = a[rows, cols]
        return _wrap(_from_pairs(x._device, rows, cols, values, x._data.shape, layout))

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, SparseCompressedTensor):
            g = g.to_sparse_coo() if ctx.coo else g.to_dense()
        return g, None


def _blocked_from_array(device, array, layout, blocksize):
    """The BSR/BSC storage of the blocks of the strided matrix ``array`` that hold a
    nonzero, in block-row (BSR) or block-column (BSC) order."""
    xp = device._xp
    (n, m), (bh, bw) = array.shape, blocksize
    blocks = array.reshape(n // bh, bh, m // bw, bw).transpose(0, 2, 1, 3)
    held = (blocks != 0).any(axis=(2, 3))
    major, plain = xp.nonzero(held if layout is sparse_bsr else held.T)
    rows, cols = (major, plain) if layout is sparse_bsr else (plain, major)
    count = held.shape[0] if layout is sparse_bsr else held.shape[1]
    compressed = xp.searchsorted(major, xp.arange(count + 1), side="left")
    return CompressedData(compressed.astype(xp.int64), plain.astype(xp.int64),
                          xp.ascontiguousarray(blocks[rows, cols]), (n, m), layout, device,
                          tuple(blocksize))


class _ToBlocked(Function):
    """A strided matrix in a blocked layout (BSR/BSC): its blocks with any nonzero, in
    block-row (BSR) or block-column (BSC) order; the gradient is dense."""

    @staticmethod
    def forward(ctx, x, layout, blocksize):
        return _wrap(_blocked_from_array(x._device, x._data, layout, blocksize))

    @staticmethod
    def backward(ctx, g):
        return (g.to_dense() if isinstance(g, SparseCompressedTensor) else g), None, None


def _to_blocked(self, layout, blocksize):
    op = f"to_sparse_{layout._name[-3:]}"
    try:
        bh, bw = (int(k) for k in blocksize)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: blocksize must be a pair of ints, got {blocksize!r}") from None
    if self._data.ndim != 2:
        raise RuntimeError(f"{op}: expected a 2-D tensor, got one of shape "
                           f"{tuple(self.shape)} (batch and dense dims are not supported)")
    n, m = self._data.shape
    if bh < 1 or bw < 1 or n % bh or m % bw:
        raise RuntimeError(f"{op}: tensor sparse size ({n},{m}) must be divisible by given "
                           f"blocksize ({bh},{bw})")
    if isinstance(self, SparseCompressedTensor):
        return _CompressedToBlocked.apply(self, layout, (bh, bw))
    if self.layout is not _compat.strided:
        self = self.to_dense()
    return _ToBlocked.apply(self, layout, (bh, bw))


def _blocked_from_compressed(data, layout, blocksize):
    """The BSR/BSC storage of the compressed storage ``data``: every block of ``blocksize``
    that holds a stored element (an explicitly stored zero too, as torch's conversion), in
    block-row (BSR) or block-column (BSC) order, keeping ``data``'s index dtype."""
    xp = data.device._xp
    (n, m), (bh, bw) = data.shape, blocksize
    nbr, nbc = n // bh, m // bw
    rows, cols = (k.astype(xp.int64) for k in data.rows_cols())
    block_rows, block_cols = rows // bh, cols // bw
    if layout is sparse_bsr:
        key, count, width = block_rows * nbc + block_cols, nbr, nbc
    else:
        key, count, width = block_cols * nbr + block_rows, nbc, nbr
    uniq, inverse = xp.unique(key, return_inverse=True)
    blocks = xp.zeros((uniq.shape[0], bh, bw), dtype=data.values.dtype)
    blocks[inverse.reshape(-1), rows - block_rows * bh, cols - block_cols * bw] = \
        data.values.reshape(-1)
    major = uniq // width if width else uniq
    compressed = xp.searchsorted(major, xp.arange(count + 1, dtype=xp.int64), side="left")
    index = data.compressed.dtype
    return CompressedData(compressed.astype(index), (uniq - major * width).astype(index),
                          blocks, (n, m), layout, data.device, (bh, bw))


class _CompressedToBlocked(Function):
    """A CSR/CSC matrix in a blocked layout, or a BSR/BSC one in the other blocked layout;
    the gradient comes back on the input's pattern."""

    @staticmethod
    def forward(ctx, s, layout, blocksize):
        ctx.pattern = s._data
        return _wrap(_blocked_from_compressed(s._data, layout, blocksize))

    @staticmethod
    def backward(ctx, g):
        values = Tensor._make(_gather(g, ctx.pattern), g._device)
        return _Construct.apply(values, ctx.pattern), None, None


class _ToCOO(Function):
    """The matrix as a COO tensor of the nonzeros in their stored order, as torch's:
    coalesced from CSR (row-major already), not from CSC (column-major); the gradient comes
    back to the compressed pattern."""

    @staticmethod
    def forward(ctx, s):
        d = s._data
        ctx.pattern = d
        xp = s._device._xp
        rows, cols = d.rows_cols()
        coo = COOData(xp.stack([rows, cols]).astype(xp.int64), d.values.reshape(-1), d.shape,
                      d.layout is sparse_csr)
        return _coo._wrap(coo, s._device)

    @staticmethod
    def backward(ctx, g):
        return _Construct.apply(Tensor._make(_gather(g, ctx.pattern), g._device), ctx.pattern)


class _Relayout(Function):
    """CSR to CSC or back; the gradient goes back to the input's layout."""

    @staticmethod
    def forward(ctx, s, layout):
        ctx.layout = s._data.layout
        return _wrap(_convert(s._data, layout))

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, SparseCompressedTensor):
            return _Relayout.apply(g, ctx.layout), None
        return g, None


_TRANSPOSED = {sparse_csr: sparse_csc, sparse_csc: sparse_csr, sparse_bsr: sparse_bsc,
               sparse_bsc: sparse_bsr}


class _Transpose(Function):
    @staticmethod
    def forward(ctx, s):
        d = s._data
        other = _TRANSPOSED[d.layout]
        values = d.values if d.blocksize is None else d.values.transpose(0, 2, 1)
        return _wrap(CompressedData(d.compressed, d.plain, values, d.shape[::-1], other,
                                    d.device))

    @staticmethod
    def backward(ctx, g):
        return g.t()


class _Map(Function):
    """A linear op on each value: times a number, cloned, cast or moved. Its gradient is
    the same op (the cast back, for ``to``) of the output's gradient."""

    @staticmethod
    def forward(ctx, s, kind, arg):
        d = s._data
        ctx.meta = (kind, arg, d.dtype, s._device)
        values = Tensor._make(d.values, s._device)
        if kind == "mul":
            values = values * arg
        elif kind == "clone":
            values = values.clone()
        else:
            values = values.to(arg[1], _dtype.from_numpy_dtype(arg[0]) if arg[0] is not None
                               else None)
        dev = values._device
        compressed, plain = d.compressed, d.plain
        if dev is not s._device:
            compressed = Tensor._make(compressed, s._device).to(dev)._data
            plain = Tensor._make(plain, s._device).to(dev)._data
        elif kind == "clone":
            compressed, plain = compressed.copy(), plain.copy()
        return _wrap(CompressedData(compressed, plain, values._data, d.shape, d.layout, dev))

    @staticmethod
    def backward(ctx, g):
        kind, arg, dtype, device = ctx.meta
        if kind == "clone":
            return g, None, None
        if kind == "mul":
            return g * arg, None, None
        return g.to(device=device, dtype=_dtype.from_numpy_dtype(dtype)), None, None


SparseCompressedTensor._storage = CompressedData
SparseCompressedTensor._map, SparseCompressedTensor._format = _Map, _format
SparseCompressedTensor._plain = SparseCompressedTensor


class _Add(Function):
    """Compressed + compressed, in the first operand's layout: both gradients are the
    output's."""

    _node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        return _wrap(_add_data(a._data, b._data, alpha))

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


# ------------------------------------------------------------------ functions


def matmul(a, b, *, op="matmul", masked=False):
    """A product with a compressed 2-D operand and a strided 2-D one: dense."""
    ca, cb = isinstance(a, SparseCompressedTensor), isinstance(b, SparseCompressedTensor)
    if ca and cb or (ca and b.is_sparse) or (cb and a.is_sparse):
        raise SparseUnsupported(f"{op}: a product of two sparse matrices is not supported for "
                                f"layouts {a.layout} and {b.layout}; convert one with "
                                ".to_dense() first")
    _coo._check_mm(op, a, b)
    node = _coo._SparseMM if masked else _coo._SpMM
    if ca:
        return node.apply(a, b, masked)
    return node.apply(b.t(), a.t(), masked).t()  # dense @ s = (s^T @ dense^T)^T


def add(a, b, alpha):
    """``a + alpha * b`` with a compressed operand: compressed + compressed in ``a``'s
    layout; a dense operand gives a dense sum."""
    from flambeau._ops._util import scalar_value

    ca = isinstance(a, SparseCompressedTensor)
    cb = isinstance(b, SparseCompressedTensor)
    if ca and cb:
        if a._data.blocksize != b._data.blocksize:
            raise SparseUnsupported(f"add: {a.layout} + {b.layout} of blocksizes "
                                    f"{a._data.blocksize} and {b._data.blocksize} is not "
                                    "supported; convert one with .to_dense() first")
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"add: expected the sparse operands to have the same shape, but "
                               f"got {tuple(a.shape)} and {tuple(b.shape)}")
        if a._data.dtype != b._data.dtype:
            raise RuntimeError(f"add: expected both sparse operands to have the same dtype, "
                               f"but got {a.dtype} and {b.dtype}")
        return _Add.apply(a, b, alpha)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and not (a.is_sparse or b.is_sparse):
        da = _AsDenseOperand.apply(a) if ca else a
        db = _AsDenseOperand.apply(b) if cb else b
        return da + db if alpha == 1 else da + db * alpha
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # with a COO tensor
        raise SparseUnsupported(f"add: {a.layout} + {b.layout} is not supported; add two "
                                "compressed tensors of one shape, or a dense one")
    if scalar_value(a) is not None or scalar_value(b) is not None:
        raise SparseUnsupported("add: a number plus a compressed sparse tensor is not "
                                "supported; use .to_dense() first")
    return NotImplemented


def mul(a, b):
    """``a * b`` of a compressed tensor and a number: compressed, on the same pattern."""
    from flambeau._ops._util import scalar_value

    if not isinstance(a, SparseCompressedTensor):
        a, b = b, a
    if isinstance(b, Tensor):
        if b._data.ndim == 0 and b.__class__ is Tensor:
            b = b.item()
        else:
            raise SparseUnsupported(f"mul: {a.layout} times a tensor is not supported (only a "
                                    "number); use .to_dense() first")
    if scalar_value(b) is None:
        return NotImplemented
    if a._data.dtype.kind in "biu" and isinstance(b, float):
        a = a.to(_dtype.get_default_dtype())
    return _Map.apply(a, "mul", b)


def _as_index(t, device):
    from flambeau._creation import as_tensor

    if isinstance(t, Tensor):
        return t.to(device)
    return as_tensor(t, device=device)


def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *,
                             dtype=None, layout=None, device=None, pin_memory=False,
                             requires_grad=False, check_invariants=None):
    """A sparse CSR or CSC matrix (``layout``) of its compressed indices, plain indices and
    values, as ``torch.sparse_compressed_tensor``.

    For ``flambeau.sparse_csr``, ``compressed_indices`` are the ``crow_indices`` (``n_rows +
    1`` offsets: row ``i``'s nonzeros are at positions ``crow[i]`` to ``crow[i + 1]``) and
    ``plain_indices`` their columns; ``flambeau.sparse_csc`` swaps rows and columns. Without
    ``size`` the shape is ``(len(crow) - 1, max(col) + 1)`` (CSC: transposed). ``values``
    stays in the autograd graph. flambeau checks the invariants (torch's
    ``check_invariants=True`` checks, with its messages) unless ``check_invariants=False``
    or :class:`flambeau.sparse.check_sparse_tensor_invariants` is off: an invalid tensor
    computes garbage. Only 2-D matrices with scalar values (no batch or
    dense dims) are supported. ``pin_memory`` is accepted for torch's signature.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_compressed_tensor([0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0], (2, 3),
    ...                                       layout=flambeau.sparse_csr)
    >>> s
    tensor(crow_indices=tensor([0, 2, 3]),
           col_indices=tensor([0, 2, 1]),
           values=tensor([1., 2., 3.]), size=(2, 3), nnz=3, layout=flambeau.sparse_csr)
    >>> s.to_dense()
    tensor([[1., 0., 2.],
            [0., 3., 0.]])
    """
    from flambeau._creation import tensor

    if layout not in _NAMES:
        got = "none" if layout is None else {_compat.sparse_coo: "Sparse",
                                              _compat.strided: "Strided"}.get(layout, layout)
        raise RuntimeError(f"sparse_compressed_tensor expected sparse compressed tensor layout "
                           f"but got {got}")
    cname, pname, _ = _NAMES[layout]
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    if values.__class__ is not Tensor:
        raise TypeError("sparse_compressed_tensor(): indices and values must be strided "
                        "tensors")
    comp = _as_index(compressed_indices, values.device)
    plain = _as_index(plain_indices, values.device)
    c, p, v = comp._data, plain._data, values._data
    if c.ndim != p.ndim:
        raise RuntimeError(f"{cname} and {pname} dimensionalities must be equal but got "
                           f"{c.ndim} and {p.ndim}, respectively")
    if c.dtype != p.dtype:
        raise RuntimeError(f"{cname} and {pname} must have the same dtype, but got "
                           f"{_dtype.from_numpy_dtype(c.dtype)} and "
                           f"{_dtype.from_numpy_dtype(p.dtype)}, respectively")
    if c.dtype.kind != "i" or c.dtype.itemsize not in (4, 8):
        raise RuntimeError(f"{cname} and {pname} must be int32 or int64 tensors, but got "
                           f"{_dtype.from_numpy_dtype(c.dtype)}")
    if v.ndim == 0:
        raise RuntimeError("values must have dimensionality > sum of batch and block "
                           "dimensionalities (=0 + 0) but got 0")
    blocked = layout in _BLOCKED
    if c.ndim != 1 or v.ndim != (3 if blocked else 1):
        values_are = "blocks (nnz, h, w)" if blocked else "scalar values"
        raise SparseUnsupported(f"sparse_compressed_tensor: only 2-D matrices with "
                                f"{values_are} are supported for {layout} ({cname} of shape "
                                f"{tuple(c.shape)}, values of shape {tuple(v.shape)}): batch "
                                "and dense dims are not")
    nnz = v.shape[0]
    block = tuple(v.shape[1:]) if blocked else (1, 1)
    if size is None:
        n = c.shape[0] - 1
        m = int(p.max()) + 1 if p.shape[0] else 0
        shape = (n, m) if layout in _ROW_MAJOR else (m, n)
        shape = (shape[0] * block[0], shape[1] * block[1])
    else:
        shape = tuple(int(k) for k in size)
        if len(shape) != 2:
            raise RuntimeError(f"tensor dimensionality must be sum of batch, base, and dense "
                               f"dimensionalities (=0 + 2 + 0) but got {len(shape)}")
        if blocked and (shape[0] % block[0] or shape[1] % block[1]):
            raise RuntimeError(f"sparse_compressed_tensor: the size {shape} of a {layout} "
                               f"tensor must be divisible by its blocksize {block} (values "
                               f"of shape {tuple(v.shape)})")
    if _coo.checks_invariants(check_invariants):
        blocks = (shape[0] // block[0], shape[1] // block[1]) if all(block) else shape
        _check_invariants(comp._device._xp, c, p, nnz, blocks, layout)
    pattern = CompressedData(c, p, None, shape, layout, values._device,
                             block if blocked else None)
    out = _Construct.apply(values, pattern)
    if requires_grad:
        out.requires_grad_()
    return out


def _check_invariants(xp, c, p, nnz, shape, layout):
    """torch's checks of a compressed matrix (its ``check_invariants=True`` messages)."""
    cname, pname, _ = _NAMES[layout]
    n, m = shape if layout in _ROW_MAJOR else shape[::-1]
    what = "rows" if layout in _ROW_MAJOR else "columns"
    if c.shape[0] != n + 1:
        raise RuntimeError(f"{cname}.shape[-1] must be equal to the number of {what} + 1 "
                           f"(={n + 1}), but got {c.shape[0]}")
    if p.shape[0] != nnz:
        raise RuntimeError(f"{pname}.shape[-1] must be equal to nnz (={nnz}) as defined by "
                           f"values.shape[0], but got {p.shape[0]}")
    if int(c[0]) != 0:
        raise RuntimeError(f"`{cname}[..., 0] == 0` is not satisfied.")
    if int(c[-1]) != nnz:
        raise RuntimeError(f"`{cname}[..., -1] == nnz` is not satisfied.")
    bound = "ncols" if layout in _ROW_MAJOR else "nrows"
    if nnz and (int(p.min()) < 0 or int(p.max()) >= m):
        raise RuntimeError(f"`0 <= {pname} < {bound}` is not satisfied.")
    # within each run, sorted and distinct: every step inside a run increases
    steps_ok = bool(xp.all(c[1:] >= c[:-1]))
    if steps_ok and nnz > 1:
        major = _expand(xp, c, nnz)
        same_run = major[1:] == major[:-1]
        steps_ok = bool(xp.all(~same_run | (p[1:] > p[:-1])))
    if not steps_ok:
        raise RuntimeError(f"`{pname}[..., {cname}[..., i - 1]:{cname}[..., i]] for all i = "
                           f"1, ..., n{what} are sorted and distinct along the last dimension "
                           "values` is not satisfied.")


def _blocked(layout, compressed, plain, values, size, dtype, given_layout, device,
             requires_grad, check_invariants):
    if given_layout not in (None, layout):
        raise RuntimeError(f"sparse_{layout._name[-3:]}_tensor: expected layout {layout}, got "
                           f"{given_layout}")
    return sparse_compressed_tensor(compressed, plain, values, size, dtype=dtype, layout=layout,
                                    device=device, requires_grad=requires_grad,
                                    check_invariants=check_invariants)


def sparse_bsr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None,
                      layout=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """A sparse BSR matrix of blocks, as ``torch.sparse_bsr_tensor``: ``values`` of shape
    ``(nnz, h, w)`` holds the blocks; block-row ``i``'s are ``values[crow_indices[i]:
    crow_indices[i + 1]]`` at the block-columns ``col_indices[...]`` (see
    :func:`sparse_compressed_tensor`); ``size`` must be divisible by ``(h, w)``.

    Examples
    --------
    >>> import flambeau
    >>> blocks = flambeau.arange(8.0).reshape(2, 2, 2)
    >>> flambeau.sparse_bsr_tensor([0, 1, 2], [1, 0], blocks, (4, 4)).to_dense()
    tensor([[0., 0., 0., 1.],
            [0., 0., 2., 3.],
            [4., 5., 0., 0.],
            [6., 7., 0., 0.]])
    """
    return _blocked(sparse_bsr, crow_indices, col_indices, values, size, dtype, layout,
                    device, requires_grad, check_invariants)


def sparse_bsc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None,
                      layout=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """A sparse BSC matrix of blocks, as ``torch.sparse_bsc_tensor``: block-column ``j``'s
    blocks are ``values[ccol_indices[j]:ccol_indices[j + 1]]`` at the block-rows
    ``row_indices[...]`` (see :func:`sparse_bsr_tensor`).

    Examples
    --------
    >>> import flambeau
    >>> blocks = flambeau.arange(8.0).reshape(2, 2, 2)
    >>> flambeau.sparse_bsc_tensor([0, 1, 2], [1, 0], blocks, (4, 4)).to_dense()
    tensor([[0., 0., 4., 5.],
            [0., 0., 6., 7.],
            [0., 1., 0., 0.],
            [2., 3., 0., 0.]])
    """
    return _blocked(sparse_bsc, ccol_indices, row_indices, values, size, dtype, layout,
                    device, requires_grad, check_invariants)


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None,
                      layout=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """A sparse CSR matrix, as ``torch.sparse_csr_tensor``: row ``i``'s nonzeros are
    ``values[crow_indices[i]:crow_indices[i + 1]]`` at columns ``col_indices[...]`` (see
    :func:`sparse_compressed_tensor`).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [2.0, 3.0, 4.0], (2, 3))
    >>> s @ flambeau.ones(3, 1)
    tensor([[2.],
            [7.]])
    >>> try:
    ...     flambeau.sparse_csr_tensor([0, 1, 3], [1, 0, 5], [2.0, 3.0, 4.0], (2, 3))
    ... except RuntimeError as e:
    ...     print(e)
    `0 <= col_indices < ncols` is not satisfied.
    """
    return sparse_compressed_tensor(crow_indices, col_indices, values, size, dtype=dtype,
                                    layout=_own_layout("sparse_csr_tensor", sparse_csr, layout),
                                    device=device, pin_memory=pin_memory,
                                    requires_grad=requires_grad,
                                    check_invariants=check_invariants)


def sparse_csc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None,
                      layout=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """A sparse CSC matrix, as ``torch.sparse_csc_tensor``: column ``j``'s nonzeros are
    ``values[ccol_indices[j]:ccol_indices[j + 1]]`` at rows ``row_indices[...]`` (see
    :func:`sparse_compressed_tensor`).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_csc_tensor([0, 1, 2, 3], [1, 0, 1], [3.0, 2.0, 4.0], (2, 3))
    >>> s.to_dense()
    tensor([[0., 2., 0.],
            [3., 0., 4.]])
    """
    return sparse_compressed_tensor(ccol_indices, row_indices, values, size, dtype=dtype,
                                    layout=_own_layout("sparse_csc_tensor", sparse_csc, layout),
                                    device=device, pin_memory=pin_memory,
                                    requires_grad=requires_grad,
                                    check_invariants=check_invariants)


def _own_layout(op, own, layout):
    """``layout=`` of sparse_csr_tensor/sparse_csc_tensor: None or their own (torch's
    error for another)."""
    if layout is not None and layout is not own:
        got = _NAMES[layout][2] if layout in _NAMES else {
            _compat.sparse_coo: "Sparse", _compat.strided: "Strided"}.get(layout, layout)
        raise RuntimeError(f"{op}: layout must be {_NAMES[own][2]} but got {got}")
    return own


def from_parts(compressed, plain, values, size, layout, requires_grad=False):
    """A compressed matrix of loaded tensors, checked as :func:`sparse_compressed_tensor`
    checks them (save/load)."""
    out = sparse_compressed_tensor(compressed, plain, values.detach(), tuple(size),
                                   layout=layout)
    return out.requires_grad_() if requires_grad else out


# ------------------------------------------------------------------ strided and COO methods


_EXAMPLE_VALUES = {sparse_csr: "2., 3.", sparse_csc: "3., 2."}


def _to_compressed(layout):
    def convert(self, dense_dim=None):
        if dense_dim not in (None, 0):
            _check_compressed_layout(f"to_sparse_{layout._name[-3:]}", layout, None, dense_dim)
        if self._data.ndim != 2:
            raise RuntimeError(f"to_sparse_{layout._name[-3:]}: expected a 2-D tensor, got one "
                               f"of shape {tuple(self.shape)} (batch and dense dims are not "
                               "supported)")
        if isinstance(self, _coo.SparseTensor) and self.dense_dim():
            _check_compressed_layout(f"to_sparse_{layout._name[-3:]}", layout, None, 1)
        return _ToCompressed.apply(self, layout)

    name = f"to_sparse_{layout._name[-3:]}"
    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = (
        f"This 2-D tensor (strided or COO) as a sparse {layout._name[-3:].upper()} matrix of its "
        f"nonzeros.\n\nExamples\n--------\n>>> import flambeau\n"
        f">>> s = flambeau.tensor([[0.0, 2.0], [3.0, 0.0]]).{name}()\n"
        f">>> s.layout, s.values()\n({layout}, tensor([{_EXAMPLE_VALUES[layout]}]))\n")
    return convert


def _to_blocked_method(layout):
    name = f"to_sparse_{layout._name[-3:]}"

    def convert(self, blocksize, dense_dim=None):
        return self.to_sparse(layout=layout, blocksize=blocksize, dense_dim=dense_dim)

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = (
        f"This 2-D tensor as a sparse {layout._name[-3:].upper()} matrix of the blocks of "
        f"``blocksize`` (a pair dividing its size) that hold a nonzero.\n\nExamples\n"
        f"--------\n>>> import flambeau\n"
        f">>> s = flambeau.eye(4).{name}((2, 2))\n"
        f">>> s.layout, s.values().shape\n({layout}, flambeau.Size([2, 2, 2]))\n")
    return convert


def _strided_index_refusal(name, kind):
    def method(self, *args, **kwargs):
        got = "Sparse" if self.is_sparse else "Strided"
        raise RuntimeError(f"{name} expected sparse {kind} compressed tensor layout but got "
                           f"{got}")

    method.__name__ = name
    method.__doc__ = (f"Compressed sparse tensors only (another raises torch's error).\n\n"
                      f"Examples\n--------\n>>> import flambeau\n"
                      f">>> flambeau.eye(2).to_sparse_{'csr' if kind == 'row' else 'csc'}()"
                      f".{name}().tolist()\n{'[0, 1, 2]' if name[1] in 'rc' else '[0, 1]'}\n")
    return method


_strided_to_sparse = Tensor.to_sparse
_coo_to_sparse = _coo.SparseTensor.to_sparse


def _layout_aware(previous):
    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is None or layout is _compat.sparse_coo:
            return previous(self, sparse_dim, layout=layout, blocksize=blocksize,
                            dense_dim=dense_dim)
        _check_compressed_layout("to_sparse", layout, blocksize, dense_dim)
        if sparse_dim not in (None, 2):
            raise RuntimeError(f"to_sparse: sparse_dim must be 2 for layout {layout}, got "
                               f"{sparse_dim}")
        if layout in _BLOCKED:
            return _to_blocked(self, layout, blocksize)
        return _to_compressed(layout)(self)

    to_sparse.__name__ = "to_sparse"
    to_sparse.__doc__ = previous.__doc__
    return to_sparse


for _cls in (Tensor, _coo.SparseTensor):
    _cls.to_sparse_csr = _to_compressed(sparse_csr)
    _cls.to_sparse_csc = _to_compressed(sparse_csc)
    _cls.to_sparse_bsr = _to_blocked_method(sparse_bsr)
    _cls.to_sparse_bsc = _to_blocked_method(sparse_bsc)
    _cls.crow_indices = _strided_index_refusal("crow_indices", "row")
    _cls.col_indices = _strided_index_refusal("col_indices", "row")
    _cls.ccol_indices = _strided_index_refusal("ccol_indices", "column")
    _cls.row_indices = _strided_index_refusal("row_indices", "column")
Tensor.to_sparse = _layout_aware(_strided_to_sparse)
_coo.SparseTensor.to_sparse = _layout_aware(_coo_to_sparse)

"""Sparse COO tensors, PyTorch's ``torch.sparse_coo`` layout.

A sparse tensor is a :class:`flambeau.Tensor` (of the private subclass ``SparseTensor``) whose
``_data`` is a :class:`COOData` instead of a backend array: an ``int64`` index array of shape
``(sparse_dim, nnz)``, a values array of shape ``(nnz, *dense_shape)`` (both arrays of the
backend's ``xp``, so CuPy works as NumPy does) and the size. Every kernel here is vectorised
with ``xp`` (keys, sorts, gathers and the backend's ``index_add_at`` scatter-add); nothing
loops over the nonzeros.

The dense ops know nothing of sparse tensors, and pay nothing for them:

* the subclass overrides the methods and operators that have a sparse version (Python gives a
  subclass's reflected operator the first try, so ``dense + sparse`` and ``dense @ sparse``
  land here too);
* :class:`COOData` refuses NumPy's protocols (``__array_ufunc__``, ``__array_function__``,
  ``__array__``) and every array attribute, so a dense op handed a sparse tensor raises
  :class:`SparseUnsupported`, a ``NotImplementedError`` naming the op, the layout and the
  fix (``.to_dense()``), instead of computing garbage;
* the few public functions with a sparse version (``mm``, ``matmul``, ``addmm``, ``sum``)
  catch that exception around their dense call, which costs nothing when it is not raised.

A gradient with respect to a sparse tensor is a tensor (sparse or dense) whose dense value is
the gradient of the sparse tensor's dense value: duplicates of an uncoalesced tensor share it.
"""

from __future__ import annotations

import re
import sys

from flambeau import _compat, _dtype
from flambeau._tensor import Tensor, _copy_attributes
from flambeau.autograd._function import Function, node_variant
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = ["COOData", "RefusingStorage", "SparseTensor", "SparseUnsupported",
           "sparse_coo_tensor", "spmm", "smm", "hspmm", "sparse_mm", "sparse_sum", "sparse_addmm",
           "sparse_softmax", "sparse_log_softmax", "sspaddmm", "saddmm", "dsmm", "hsmm",
           "check_sparse_tensor_invariants", "as_sparse_gradcheck"]

sparse_coo = _compat.sparse_coo
_COMPRESSED = (_compat.sparse_csr, _compat.sparse_csc, _compat.sparse_bsr, _compat.sparse_bsc)


# ------------------------------------------------------------------ the refusing array


class SparseUnsupported(NotImplementedError):
    """Raised when an op without a sparse version is given a sparse COO tensor."""


class _SparseAttributeError(SparseUnsupported, AttributeError):
    """An array attribute asked of a sparse tensor's data: ``hasattr`` still answers False."""


_GENERIC_FRAMES = frozenset({"op", "call", "wrapper", "inner", "method", "forward", "apply",
                             "backward", "<lambda>", "<listcomp>", "<genexpr>"})
#: the refusal's own frames: they name no op
_REFUSING_FRAMES = frozenset({"refuse_sparse_inputs", "__array_ufunc__", "__array_function__",
                              "__array__", "__getattr__"})


def _public_op_name(fallback):
    """The flambeau function the user called: the outermost flambeau frame on the stack with
    a public name, or the name an op factory's closure holds (walked only on the error)."""
    frame = sys._getframe(2)
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module == "flambeau" or module.startswith("flambeau.")):
            if name is not None:
                break
        else:
            code_name = frame.f_code.co_name
            if code_name in _REFUSING_FRAMES:
                pass
            elif code_name in _GENERIC_FRAMES:
                free = frame.f_code.co_freevars
                held = next((frame.f_locals[k] for k in ("name", "op_name") if k in free), None)
                if held.__class__ is str:
                    name = held
            elif not code_name.startswith("_") or code_name.endswith("__"):
                name = code_name
        frame = frame.f_back
    return name or fallback


def refuse_sparse_inputs(args, op=None):
    """Raise the refusal of an op (``op``, or the function the user called) given a sparse
    tensor among ``args`` (or in a list or tuple among them), where the backend refused
    its storage with an error of its own (CuPy's TypeError); return when none is sparse.

    The one place every backend's refusal goes through: ops call it from the handler of
    the backend's error, so the common, dense call pays nothing.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._sparse import refuse_sparse_inputs
    >>> refuse_sparse_inputs((flambeau.ones(2), 3))  # nothing sparse: returns
    >>> try:
    ...     refuse_sparse_inputs((flambeau.eye(2).to_sparse(),), "exp")
    ... except NotImplementedError as e:
    ...     print(str(e).partition(";")[0])
    exp: not supported for sparse tensors (layout flambeau.sparse_coo)
    """
    for a in args:
        for t in (a if a.__class__ in (list, tuple) else (a,)):
            data = getattr(t, "_data", None) if isinstance(t, Tensor) else None
            if isinstance(data, RefusingStorage):
                raise (_refuse("this op", layout=data._layout) if op is None else
                       SparseUnsupported(_message(op, data._layout))) from None


def _message(op, layout):
    return (f"{op}: not supported for sparse tensors (layout flambeau.{layout}); convert "
            "with .to_dense() first, or use an op of flambeau.sparse")


def _refuse(what, cls=SparseUnsupported, layout="sparse_coo"):
    return cls(_message(_public_op_name(what), layout))


class RefusingStorage:
    """The storage of a sparse tensor, standing where a dense tensor holds its array: it has
    an array's ``shape``, ``ndim``, ``size`` and ``dtype`` (what a tensor's properties read)
    and nothing else. NumPy's protocols and every other array attribute raise
    :class:`SparseUnsupported`, naming the op the user called and the ``_layout``.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.eye(2).to_sparse_csr()
    >>> try:
    ...     flambeau.exp(s)
    ... except NotImplementedError as e:
    ...     print(str(e).partition(": ")[2].partition(";")[0])
    not supported for sparse tensors (layout flambeau.sparse_csr)
    """

    __slots__ = ()
    base = None  # owns its arrays: never a view (the engine asks)
    _layout = "sparse_coo"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def dtype(self):
        return self.values.dtype

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _refuse(ufunc.__name__, layout=self._layout)

    def __array_function__(self, func, types, args, kwargs):
        raise _refuse(func.__name__, layout=self._layout)

    def __array__(self, dtype=None, copy=None):
        raise _refuse("asarray", layout=self._layout)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _refuse(name, _SparseAttributeError, self._layout)


class COOData(RefusingStorage):
    """The storage of a sparse COO tensor: ``indices`` (int64, ``(sparse_dim, nnz)``),
    ``values`` (``(nnz, *dense_shape)``), the ``shape`` and whether it is ``coalesced``.

    It has an array's ``shape``, ``ndim``, ``size`` and ``dtype`` (what a tensor's
    properties read) and nothing else: NumPy's protocols and every other array attribute
    raise :class:`SparseUnsupported`.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.tensor([[0.0, 2.0], [0.0, 0.0]]).to_sparse()
    >>> s._data.shape, s._data.indices.tolist(), s._data.values.tolist()
    ((2, 2), [[0], [1]], [2.0])
    """

    __slots__ = ("indices", "values", "shape", "coalesced")

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)
        self.coalesced = bool(coalesced)

    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    @property
    def nnz(self):
        return self.indices.shape[1]

    def copy(self):
        return COOData(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and ufunc.__name__ == "multiply" and len(inputs) == 2 \
                and not kwargs and inputs[0] is self \
                and inputs[1].__class__ in (int, float, complex, bool):
            # a sparse gradient times a number: dense.add_(grad, alpha=-lr) scales it first
            return COOData(self.indices, ufunc(self.values, inputs[1]), self.shape,
                           self.coalesced)
        # dense + sparse is refused here too: flambeau.add and add_ catch the refusal and
        # take the sparse op (the backend's scatter-add), as on a backend without this hook
        raise _refuse(ufunc.__name__)

    def __repr__(self):
        return f"COOData(shape={self.shape}, nnz={self.nnz}, coalesced={self.coalesced})"


def _refusing(name):
    def method(self, *args, **kwargs):
        raise _refuse(name.strip("_"), layout=self._layout)

    method.__name__ = name
    return method


for _name in ("getitem", "setitem", "iter", "add", "radd", "iadd", "sub", "rsub", "isub",
              "mul", "rmul", "imul", "truediv", "rtruediv", "itruediv", "floordiv", "mod",
              "pow", "rpow", "matmul", "rmatmul", "neg", "abs", "invert", "and", "or", "xor",
              "lt", "le", "gt", "ge", "float", "int", "index", "bool", "dlpack",
              "dlpack_device"):
    setattr(RefusingStorage, f"__{_name}__", _refusing(f"__{_name}__"))
RefusingStorage.__eq__ = _refusing("__eq__")
RefusingStorage.__ne__ = _refusing("__ne__")
RefusingStorage.__hash__ = object.__hash__


# ------------------------------------------------------------------ helpers on xp arrays


def _xp(t):
    return t._device._xp



def _keys(xp, indices, shape):
    """One int64 key per nonzero: its index flattened over the sparse dims (C order)."""
    sd = indices.shape[0]
    if sd == 0:
        return xp.zeros(indices.shape[1], dtype=indices.dtype)
    key = indices[0]
    for d in range(1, sd):
        key = key * shape[d] + indices[d]
    return key


def _unkey(xp, key, shape, sparse_dim):
    """The ``(sparse_dim, n)`` indices of flattened keys."""
    rows = []
    for d in range(sparse_dim - 1, -1, -1):
        rows.append(key % shape[d])
        key = key // shape[d]
    if not rows:
        return xp.zeros((0, key.shape[0]), dtype=key.dtype)
    return xp.stack(rows[::-1])


def _index_add(backend, target, index, values):
    kernel = backend.kernels.get("index_add_at")
    (kernel or backend.xp.add.at)(target, index, values)


def scatter_add_(device, array, indices, shape, values):
    """``array[indices] += values`` in place, repeated indices accumulating: the one
    scatter-add of sparse values into a dense backend array of ``shape`` (``indices``:
    ``(sparse_dim, n)``; ``values``: ``(n, *shape[sparse_dim:])`` in ``array``'s dtype), on
    the backend's ``index_add_at`` kernel. Returns ``array``."""
    flat = array.reshape((-1,) + tuple(shape[indices.shape[0]:]))
    _index_add(device._backend, flat, _keys(device._xp, indices, shape), values)
    if not array.flags.c_contiguous:  # the reshape may have copied: write the rows back
        array[...] = flat.reshape(array.shape)
    return array


def spmm_rows(device, rows, cols, values, b, nrows):
    """The ``(nrows, k)`` product of a sparse matrix given by its nonzeros (``rows``,
    ``cols``, ``values``) and the dense ``(n, k)`` array ``b``: each value times ``b``'s row of
    its column, scatter-added into the result's row of its row."""
    out = device._xp.zeros((nrows, b.shape[1]), dtype=b.dtype)
    if values.shape[0]:
        _index_add(device._backend, out, rows, values[:, None] * b[cols])
    return out


def _coalesce_data(device, data):
    """The coalesced COOData of ``data`` (sorted unique indices, duplicates summed) and,
    when it was not coalesced, each old nonzero's position in the new ones."""
    if data.coalesced:
        return data, None
    xp = device._xp
    key = _keys(xp, data.indices, data.shape)
    uniq, inverse = xp.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    values = xp.zeros((uniq.shape[0],) + data.values.shape[1:], dtype=data.values.dtype)
    _index_add(device._backend, values, inverse, data.values)
    indices = _unkey(xp, uniq, data.shape, data.sparse_dim)
    return COOData(indices, values, data.shape, True), inverse


def _lookup(device, data, indices):
    """The values of sparse ``data`` at ``indices`` (``(sparse_dim, n)``), zero where it has
    none: a searchsorted in its sorted keys."""
    xp = device._xp
    data, _ = _coalesce_data(device, data)
    n = indices.shape[1]
    out_shape = (n,) + data.values.shape[1:]
    if data.nnz == 0 or n == 0:
        return xp.zeros(out_shape, dtype=data.values.dtype)
    have = _keys(xp, data.indices, data.shape)
    want = _keys(xp, indices, data.shape)
    pos = xp.minimum(xp.searchsorted(have, want), have.shape[0] - 1)
    found = have[pos] == want
    picked = data.values[pos]
    mask = found.reshape((n,) + (1,) * (picked.ndim - 1))
    return xp.where(mask, picked, xp.zeros((), dtype=picked.dtype))


def _gather(g, indices):
    """The gradient of a sparse tensor's values from ``g``, the gradient of its dense value
    (dense or sparse): ``g`` at each nonzero's index."""
    if isinstance(g, SparseTensor):
        return _lookup(g._device, g._data, indices)
    return g._data[tuple(indices)]


def _wrap(data, device, requires_grad=False):
    return SparseTensor._wrap(data, device, requires_grad)


# ------------------------------------------------------------------ the tensor


class SparseBase(Tensor):
    """What every sparse tensor class shares (COO, and CSR/CSC in
    :mod:`flambeau._sparse_compressed`): a storage of the class's ``_storage`` type in
    ``_data``, copies, casts and moves through the class's ``_map`` node (a linear op on
    each value), torch's refusals of strided conversions, and products through
    :func:`matmul`."""

    __slots__ = ()

    @classmethod
    def _wrap(cls, data, device, requires_grad=False):
        # Tensor._make with the values array, which has the backend's array type, then the
        # storage in its place: one place sets a tensor's slots
        self = Tensor._make.__func__(cls, data.values, device, requires_grad)
        self._data = data
        return self

    @classmethod
    def _make(cls, data, device, requires_grad=False):
        if data.__class__ is not cls._storage:
            return Tensor._make(data, device, requires_grad)
        return cls._wrap(data, device, requires_grad)

    def detach(self):
        """The same storage, cut from the graph (a plain sparse tensor, for a parameter)."""
        out = self._plain._wrap(self._data, self._device)
        out._version_counter = self._version_counter
        return out

    @property
    def data(self):
        """The same storage, detached from the graph."""
        return self._plain._wrap(self._data, self._device)

    @data.setter
    def data(self, value):
        Tensor.data.fset(self, value)

    def clone(self, *, memory_format=None):
        """A copy with its own arrays; gradients flow back to ``self``."""
        return self._map.apply(self, "clone", None)

    def to(self, *args, **kwargs):
        """A copy with another dtype and/or device (``self`` when nothing changes)."""
        from flambeau._device import canonical
        from flambeau._methods import _parse_to

        dtype, device, copy, _ = _parse_to(args, dict(kwargs))
        dev = self._device if device is None else canonical(device)
        np_dtype = None if dtype is None else _dtype.to_dtype(dtype).np
        if dev is self._device and (np_dtype is None or np_dtype == self._data.dtype) \
                and not copy:
            return self
        return self._map.apply(self, "to", (np_dtype, dev))

    def cpu(self, *, memory_format=None):
        """A copy on the CPU (``self`` if already there)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, *, memory_format=None):
        """A copy on a CUDA device."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else device or "cuda")

    def _host(self):
        # an op's copy of the data to the host (what ops without a backend kernel take):
        # refused here, before the backend sees a storage that is not its array
        raise _refuse("this op", layout=self._data._layout)

    def is_contiguous(self, *, memory_format=None):
        """False: a sparse tensor has no strides."""
        return False

    def tolist(self):
        raise RuntimeError("tolist: a sparse tensor has no strided data; call "
                           "Tensor.to_dense() first")

    def mul_(self, other):
        """``self *= other`` in place, for what :meth:`mul` takes (a number, for every
        layout)."""
        return self._assign(self.mul(other))

    __imul__ = mul_

    def _assign(self, result):
        # in-place ops of a tensor that requires grad are not recorded: they are allowed
        # where nothing records (an optimizer's step on a sparse parameter, under no_grad)
        if self._requires_grad and _grad_state.grad_enabled:
            raise RuntimeError("sparse in-place ops on tensors that require grad are not "
                               "supported while recording; wrap them in flambeau.no_grad()")
        self._data = result._data
        self._version_counter.value += 1
        return self

    def copy_(self, src, non_blocking=False):
        """Copy the sparse ``src`` of this layout into ``self`` in place, as torch's: its
        pattern and values, cast to ``self``'s dtype and moved to its device (a COO tensor
        takes ``src``'s size and nnz; a CSR/CSC one needs the same size and nnz).

        Examples
        --------
        >>> import flambeau
        >>> s = flambeau.zeros(2, 2).to_sparse()
        >>> s.copy_(flambeau.eye(2).to_sparse()).to_dense()
        tensor([[1., 0.],
                [0., 1.]])
        """
        if not isinstance(src, Tensor) or src.layout is not self.layout:
            got = src.layout if isinstance(src, Tensor) else type(src).__name__
            raise RuntimeError(f"copy_: copying {got} into a tensor of layout {self.layout} "
                               "is not supported; convert it to that layout first")
        self._check_copy(src)
        return self._assign(src.detach().to(self._device, self.dtype, copy=True))

    def _check_copy(self, src):
        """Raise if ``src`` (of this layout) cannot be copied into ``self``."""

    def __deepcopy__(self, memo):
        out = memo.get(id(self))
        if out is None:
            out = memo[id(self)] = self._plain._wrap(self._data.copy(), self._device,
                                                     self._requires_grad)
            _copy_attributes(self, out, memo)
            if self._grad is not None:
                out._grad = self._grad.__deepcopy__(memo)
        return out

    def __repr__(self):
        return self._format()

    __str__ = __repr__

    def mm(self, mat2):
        """``flambeau.mm(self, mat2)``."""
        return matmul(self, mat2, op="mm")

    def matmul(self, other):
        """``flambeau.matmul(self, other)``."""
        return matmul(self, other)

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return matmul(other, self)


_LAYOUT_CLASSES = {}


def layout_class(cls, tensor):
    """The class whose instances are ``cls`` (a Tensor subclass such as ``nn.Parameter``)
    holding ``tensor``'s storage: ``cls`` itself for a strided tensor; for a sparse one a
    subclass of ``cls`` and of the sparse class (made once a pair, named as ``cls``), so a
    sparse parameter is a parameter and a sparse tensor of its layout, as torch's.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._sparse import layout_class
    >>> class Marked(flambeau.Tensor):
    ...     pass
    >>> layout_class(Marked, flambeau.ones(1)) is Marked
    True
    >>> m = layout_class(Marked, flambeau.eye(2).to_sparse())
    >>> issubclass(m, Marked), m.layout, m.__name__
    (True, flambeau.sparse_coo, 'Marked')
    """
    # a class found by its name (load) may be another layout's subclass: start from cls
    cls = cls.__dict__.get("_layout_base", cls)
    plain = getattr(tensor.__class__, "_plain", None)
    if plain is None:
        return cls
    mixed = _LAYOUT_CLASSES.get((cls, plain))
    if mixed is None:
        mixed = _LAYOUT_CLASSES[cls, plain] = type(
            cls.__name__, (cls, plain), {"__module__": cls.__module__, "_layout_base": cls,
                                         "__qualname__": cls.__qualname__})
    return mixed


class SparseTensor(SparseBase):
    """A sparse COO tensor (``layout == flambeau.sparse_coo``); make one with
    :func:`flambeau.sparse_coo_tensor` or :meth:`flambeau.Tensor.to_sparse`.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 1], [1, 0]], [3.0, 4.0], (2, 2))
    >>> s.is_sparse, s.layout, s.to_dense()
    (True, flambeau.sparse_coo, tensor([[0., 3.],
            [4., 0.]]))
    """

    __slots__ = ()

    is_sparse = True
    layout = sparse_coo

    # ------------------------------------------------------------ structure
    def sparse_dim(self):
        """The number of sparse dimensions (the rows of ``indices()``)."""
        return self._data.sparse_dim

    def dense_dim(self):
        """The number of dense dimensions (the dims of each value)."""
        return self._data.values.ndim - 1

    def _nnz(self):
        """The number of stored values (duplicates counted)."""
        return self._data.nnz

    def is_coalesced(self):
        """Whether the indices are sorted and unique."""
        return self._data.coalesced

    def _rows_cols(self):
        # each nonzero's row and column, as stored (a 2-D matrix's: the sparse products')
        return self._data.indices[0], self._data.indices[1]

    def _masked_pattern(self):
        # the coalesced pattern and its gradient's maker (the sparse products' masked grad)
        c, _ = _coalesce_data(self._device, self._data)
        return (c.indices[0], c.indices[1],
                lambda v: _Construct.apply(v, c.indices, c.shape, True))

    def _indices(self):
        """The index tensor as stored (no coalescing check, no autograd)."""
        return Tensor._make(self._data.indices, self._device)

    def _values(self):
        """The values as stored (no coalescing check, no autograd)."""
        return Tensor._make(self._data.values, self._device)

    def indices(self):
        """The ``(sparse_dim, nnz)`` int64 index tensor of a coalesced tensor."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self):
        """The values of a coalesced tensor, in the autograd graph."""
        if not self._data.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return _Values.apply(self)

    def coalesce(self):
        """The tensor with sorted, unique indices (duplicates summed); ``self`` if it is
        coalesced already."""
        if self._data.coalesced:
            return self
        return _Coalesce.apply(self)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The strided tensor of the same values (zeros where nothing is stored)."""
        out = _ToDense.apply(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """``self``: it is sparse already (another ``sparse_dim`` is an error, as torch)."""
        _check_sparse_layout(layout)
        if sparse_dim is not None and sparse_dim != self._data.sparse_dim:
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    def to_sparse_coo(self):
        """``self``."""
        return self

    def _check_copy(self, src):
        old, new = self._data, src._data
        if not old.nnz:
            return
        sd = old.sparse_dim
        if new.sparse_dim != sd or new.shape[sd:] != old.shape[sd:] or len(new.shape) != len(
                old.shape) or any(n < o for n, o in zip(new.shape[:sd], old.shape[:sd])):
            raise RuntimeError(f"copy_: resizing a non-empty sparse tensor of size {old.shape} "
                               f"(sparse_dim={sd}) to size {new.shape} (sparse_dim="
                               f"{new.sparse_dim}) is not supported: only its sparse dims may "
                               "grow; copy into an empty sparse tensor instead")

    # ------------------------------------------------------------ copies and devices
    def zero_(self):
        """Remove every stored value (``nnz`` becomes 0), in place."""
        xp = _xp(self)
        d = self._data
        self._data = COOData(xp.zeros((d.sparse_dim, 0), dtype=d.indices.dtype),
                             xp.zeros((0,) + d.values.shape[1:], dtype=d.values.dtype),
                             d.shape, True)
        self._version_counter.value += 1
        return self

    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self.to_dense().item()

    def __reduce_ex__(self, protocol):
        d = self._data
        backend = self._device._backend
        return (_rebuild, (backend.to_host(d.indices), backend.to_host(d.values), d.shape,
                           d.coalesced, str(self._device), self._requires_grad))

    # ------------------------------------------------------------ math
    def t(self):
        """The transpose of a 2-D sparse tensor (sparse)."""
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._data.ndim}D")
        return self.transpose(0, self._data.ndim - 1) if self._data.ndim == 2 else self

    def transpose(self, dim0, dim1):
        """Swap two sparse dimensions (sparse)."""
        from flambeau._tensor import _wrap_dim

        n = self._data.ndim
        d0, d1 = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
        sd = self._data.sparse_dim
        if (d0 < sd) != (d1 < sd):
            raise RuntimeError("transpose: cannot swap a sparse dim with a dense dim of a "
                               f"sparse tensor (sparse_dim={sd}, dims {d0} and {d1})")
        if d0 == d1:
            return self
        if d0 >= sd:
            raise SparseUnsupported("transpose: swapping two dense dims of a hybrid sparse "
                                    "tensor is not supported; use .to_dense() first")
        return _Transpose.apply(self, d0, d1)

    swapdims = swapaxes = transpose

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """:func:`flambeau.sparse.sum`, as ``torch.Tensor.sum`` of a sparse tensor."""
        if keepdim:
            raise SparseUnsupported("sum: keepdim=True is not supported for sparse tensors")
        return sparse_sum(self, dim, dtype=dtype)

    def add(self, other, *, alpha=1):
        """``self + alpha * other``: sparse for a sparse ``other`` (a dense one is refused,
        as torch: write ``other + self``)."""
        return add(self, other, alpha=alpha)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other`` (see :meth:`add`)."""
        return add(self, other, alpha=-alpha)

    def __sub__(self, other):
        return add(self, other, alpha=-1)

    def __rsub__(self, other):
        return add(other, self, alpha=-1)

    def mul(self, other):
        """Elementwise product with a number, a dense tensor of the same shape or a sparse
        tensor (sparse)."""
        return mul(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def div(self, other, *, rounding_mode=None):
        """Division by a number (sparse)."""
        if rounding_mode is not None or isinstance(other, Tensor):
            raise _refuse("div")
        return _Map.apply(self, "div", other)

    __truediv__ = div

    def __rtruediv__(self, other):
        raise SparseUnsupported("div: a number divided by a sparse tensor is not supported "
                                "(layout flambeau.sparse_coo); use .to_dense() first")

    def neg(self):
        """``-self`` (sparse)."""
        return _Map.apply(self, "neg", None)

    __neg__ = neg

    def add_(self, other, *, alpha=1):
        """``self += alpha * other`` for a sparse ``other``."""
        return self._assign(add(self, other, alpha=alpha))

    __iadd__ = add_


def _check_sparse_layout(layout):
    if layout is not None and layout is not sparse_coo:
        raise SparseUnsupported(f"to_sparse: only layout=flambeau.sparse_coo is supported, "
                                f"got {layout}")


_cast_names = (("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
               ("bfloat16", _dtype.bfloat16), ("long", _dtype.int64), ("int", _dtype.int32),
               ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8),
               ("bool", _dtype.bool))


def _caster(dt):
    def cast(self, *, memory_format=None):
        return self.to(dt)

    cast.__name__ = cast.__qualname__ = dt.name
    cast.__doc__ = f"``self.to(flambeau.{dt.name})``."
    return cast


for _name, _dt in _cast_names:
    setattr(SparseTensor, _name, _caster(_dt))


def _rebuild(indices, values, shape, coalesced, device, requires_grad):
    from flambeau._device import canonical

    dev = canonical(device)
    xp = dev._xp
    data = COOData(xp.asarray(indices), xp.asarray(values), shape, coalesced)
    return _wrap(data, dev, requires_grad)


def _format(t):
    d = t._data
    return format_parts(t, [("indices", d.indices), ("values", d.values)], d.nnz, True)


def format_parts(t, parts, nnz, size_on_new_line):
    """torch's repr of a sparse tensor: its ``(name, array)`` parts, then size, nnz, dtype,
    device, layout and autograd (COO starts the size on a line of its own)."""
    from flambeau._format import _with_suffixes, format_tensor

    def inner(prefix, arr):
        text = format_tensor(Tensor._make(arr, t._device))
        text = re.sub(r", dtype=flambeau\.\w+", "", text)
        if arr.size == 0 and arr.ndim == 1:  # torch's parts say the size of an empty one
            text = text[:-1] + ", size=(0,))"
        text = prefix + text.replace("\n", "\n" + " " * len(prefix))
        return re.sub(r"\n +\n", "\n\n", text)  # the blank line between blocks stays blank

    text = ",\n".join(inner(("tensor(" if i == 0 else " " * 7) + f"{name}=", arr)
                      for i, (name, arr) in enumerate(parts))
    suffixes = [f"size={tuple(t._data.shape)}", f"nnz={nnz}"]
    if size_on_new_line:
        text += ",\n       " + suffixes.pop(0)
    default = _dtype.get_default_dtype()
    dtype = t.dtype
    if dtype is not default and dtype.name not in ("int64", "bool") \
            and dtype is not default.to_complex():
        suffixes.append(f"dtype={dtype}")
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    suffixes.append(f"layout={t.layout}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(text, suffixes, 7)


# ------------------------------------------------------------------ autograd nodes


class _Construct(Function):
    """A sparse tensor from its values (torch's SparseCooTensorWithDimsAndTensorsBackward0)."""

    _node_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    @staticmethod
    def forward(ctx, values, indices, shape, coalesced):
        ctx.indices = indices
        return _wrap(COOData(indices, values._data, shape, coalesced), values._device)

    @staticmethod
    def backward(ctx, g):
        return Tensor._make(_gather(g, ctx.indices), g._device), None, None, None


_SoftmaxOut = node_variant(_Construct, "SparseSoftmaxBackward0")
_LogSoftmaxOut = node_variant(_Construct, "SparseLogSoftmaxBackward0")


class _Values(Function):
    """The values of a coalesced sparse tensor (torch's ValuesBackward0)."""

    @staticmethod
    def forward(ctx, s):
        ctx.meta = (s._data.indices, s._data.shape)
        return s._data.values

    @staticmethod
    def backward(ctx, g):
        indices, shape = ctx.meta
        return _Construct.apply(g, indices, shape, True)


class _ToDense(Function):
    """The strided tensor of a sparse one; its gradient is sparse, on the coalesced pattern
    of the input (as torch's ToDenseBackward0)."""

    @staticmethod
    def forward(ctx, s):
        d = s._data
        xp = _xp(s)
        ctx.meta = (d, s._device)
        out = xp.zeros(d.shape, dtype=d.values.dtype)
        return scatter_add_(s._device, out, d.indices, d.shape, d.values)

    @staticmethod
    def backward(ctx, g):
        d, device = ctx.meta
        c, _ = _coalesce_data(device, d)
        values = Tensor._make(_gather(g, c.indices), g._device)
        return _Construct.apply(values, c.indices, d.shape, True)


class _ToSparse(Function):
    """A strided tensor's nonzeros as a sparse tensor (torch's ToSparseBackward0)."""

    @staticmethod
    def forward(ctx, x, sparse_dim):
        xp = _xp(x)
        a = x._data
        mask = a != 0
        if a.ndim > sparse_dim:
            mask = mask.reshape(a.shape[:sparse_dim] + (-1,)).any(axis=-1)
        if sparse_dim == 0:
            indices = xp.zeros((0, 1), dtype=xp.int64)
            values = a.reshape((1,) + a.shape)
        else:
            found = xp.nonzero(mask)
            indices = xp.stack(found).astype(xp.int64) if found else None
            values = a[found]
        return _wrap(COOData(indices, values, a.shape, True), x._device)

    @staticmethod
    def backward(ctx, g):
        return (g.to_dense() if isinstance(g, SparseTensor) else g), None


class _Coalesce(Function):
    """Coalescing changes no value: the gradient passes as it is."""

    @staticmethod
    def forward(ctx, s):
        data, _ = _coalesce_data(s._device, s._data)
        return _wrap(data, s._device)

    @staticmethod
    def backward(ctx, g):
        return g


class _Transpose(Function):
    @staticmethod
    def forward(ctx, s, d0, d1):
        d = s._data
        ctx.dims = (d0, d1)
        order = list(range(d.sparse_dim))
        order[d0], order[d1] = order[d1], order[d0]
        shape = list(d.shape)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        return _wrap(COOData(d.indices[order], d.values, shape, False), s._device)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(*ctx.dims), None, None


def _map_values(kind, arg, values):
    """The values of a value-wise linear op (the op is its own adjoint but for ``to``)."""
    if kind == "mul":
        return values * arg
    if kind == "div":
        return values / arg
    if kind == "neg":
        return -values
    if kind == "clone":
        return values.clone()
    return values.to(arg[1], _dtype.from_numpy_dtype(arg[0]) if arg[0] is not None else None)


class _Map(Function):
    """A linear op applied to each value: number times, divided by, negated, cloned, cast or
    moved. Its gradient is the same op (the cast back, for ``to``) applied to the output's
    gradient, dense or sparse."""

    @staticmethod
    def forward(ctx, s, kind, arg):
        d = s._data
        ctx.meta = (kind, arg, d.dtype, s._device)
        values = _map_values(kind, arg, Tensor._make(d.values, s._device))
        indices = d.indices
        if values._device is not s._device:
            indices = Tensor._make(indices, s._device).to(values._device)._data
        elif kind == "clone":
            indices = indices.copy()
        return _wrap(COOData(indices, values._data, d.shape, d.coalesced), values._device)

    @staticmethod
    def backward(ctx, g):
        kind, arg, dtype, device = ctx.meta
        if kind == "to":
            back = (dtype, device)
        elif kind == "clone":
            return g, None, None
        else:
            back = arg
        if isinstance(g, SparseTensor):
            return _Map.apply(g, kind, back), None, None
        return _map_values(kind, back, g), None, None


SparseTensor._storage, SparseTensor._map, SparseTensor._format = COOData, _Map, _format
SparseTensor._plain = SparseTensor


class _AddSparse(Function):
    """Sparse + sparse: the nonzeros of both (coalesced again if both were)."""

    _node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        xp = _xp(a)
        da, db = a._data, b._data
        ctx.alpha = alpha
        bv = db.values if alpha == 1 else db.values * alpha
        values = xp.concatenate([da.values, bv.astype(da.values.dtype)
                                 if bv.dtype != da.values.dtype else bv])
        data = COOData(xp.concatenate([da.indices, db.indices], axis=1), values, da.shape)
        if da.coalesced and db.coalesced:
            data, _ = _coalesce_data(a._device, data)
        return _wrap(data, a._device)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


class _AddDense(Function):
    """Dense + sparse: the dense tensor (in the promoted dtype) with the values added at
    their indices; both gradients are the output's, dense (as torch's)."""

    _node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, dense, s, alpha):
        d = s._data
        ctx.alpha = alpha
        dt = _dtype.promote_types(dense.dtype, s.dtype).np
        values = d.values.astype(dt) if alpha == 1 else (d.values * alpha).astype(dt)
        return scatter_add_(dense._device, dense._data.astype(dt), d.indices, d.shape,
                            values)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


class _MulDense(Function):
    """Sparse * dense of the same shape: sparse, on the sparse tensor's pattern."""

    _node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, s, dense):
        d = s._data
        ctx.save_for_backward(s, dense)
        picked = dense._data[tuple(d.indices)]
        return _wrap(COOData(d.indices, d.values * picked, d.shape, d.coalesced), s._device)

    @staticmethod
    def backward(ctx, g):
        s, dense = ctx.saved_tensors
        gs = gd = None
        if ctx.needs_input_grad[0]:
            gs = mul(g if isinstance(g, SparseTensor) else _pattern_of(s, g), dense)
        if ctx.needs_input_grad[1]:
            d = s._data
            vals = _gather(g, d.indices) * d.values
            out = _xp(g).zeros(d.shape, dtype=vals.dtype)
            gd = Tensor._make(scatter_add_(g._device, out, d.indices, d.shape, vals),
                              g._device)
        return gs, gd


def _pattern_of(s, g):
    """Dense gradient ``g`` as a sparse tensor on ``s``'s coalesced pattern."""
    c, _ = _coalesce_data(s._device, s._data)
    return _wrap(COOData(c.indices, _gather(g, c.indices), c.shape, True), g._device)


class _MulSparse(Function):
    """Sparse * sparse: the product where both store a value."""

    _node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ca, _ = _coalesce_data(a._device, a._data)
        values = ca.values * _lookup(a._device, b._data, ca.indices)
        return _wrap(COOData(ca.indices, values, ca.shape, True), a._device)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if not isinstance(g, SparseTensor):
            g = _pattern_of(a, g)
        return (mul(g, b) if ctx.needs_input_grad[0] else None,
                mul(g, a) if ctx.needs_input_grad[1] else None)


class _SpMM(Function):
    """Sparse (2-D, scalar values: COO, CSR or CSC) @ dense matrix: each nonzero's value
    times the dense row of its column, scatter-added into the result's row of its row.
    ``masked``: the sparse operand's gradient is sparse, on its pattern
    (``flambeau.sparse.mm``); else dense (``flambeau.mm``, as torch's)."""

    _node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, s, dense, masked):
        ctx.save_for_backward(s, dense)
        ctx.masked = masked
        rows, cols = s._rows_cols()
        return spmm_rows(s._device, rows, cols, s._data.values.reshape(-1), dense._data,
                         s._data.shape[0])

    @staticmethod
    def backward(ctx, g):
        # the dense operand's gradient is s^T @ g; the sparse one's g @ dense^T, dense, or
        # with ``masked`` its values on s's pattern (_masked_pattern: the rows, the columns
        # and what makes the gradient of those values)
        s, dense = ctx.saved_tensors
        gs = gd = None
        if ctx.needs_input_grad[1]:
            gd = _SpMM.apply(s.t(), g, ctx.masked)
        if ctx.needs_input_grad[0]:
            if ctx.masked:
                rows, cols, make = s._masked_pattern()
                rows, cols = Tensor._make(rows, g._device), Tensor._make(cols, g._device)
                gs = make((g.index_select(0, rows) * dense.index_select(0, cols)).sum(1))
            else:
                gs = g.mm(dense.t())
        return gs, gd, None


_SparseMM = type("_SparseMM", (_SpMM,), {"_node_name": "SparseAddmmBackward0",
                                           "__module__": __name__})


class _SpSpMM(Function):
    """Sparse @ sparse (2-D): each nonzero of the left meets the right's row of its column;
    the pairs are expanded with repeat/cumsum, multiplied, then coalesced."""

    _node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        xp = _xp(a)
        ctx.save_for_backward(a, b)
        da = a._data
        db, _ = _coalesce_data(b._device, b._data)  # sorted by row
        brow = db.indices[0]
        start = xp.searchsorted(brow, da.indices[1], side="left")
        end = xp.searchsorted(brow, da.indices[1], side="right")
        counts = end - start
        total = int(counts.sum()) if da.nnz else 0
        left = xp.repeat(xp.arange(da.nnz), counts)
        first = xp.cumsum(counts) - counts
        right = xp.repeat(start, counts) + (xp.arange(total) - xp.repeat(first, counts))
        indices = xp.stack([da.indices[0][left], db.indices[1][right]])
        values = da.values[left] * db.values[right]
        data = COOData(indices.astype(xp.int64), values, (da.shape[0], db.shape[1]))
        data, _ = _coalesce_data(a._device, data)
        return _wrap(data, a._device)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (matmul(g, b.t()) if ctx.needs_input_grad[0] else None,
                matmul(a.t(), g) if ctx.needs_input_grad[1] else None)


class _SumAll(Function):
    """The sum of every value: a dense 0-d tensor; its gradient is sparse, on the input's
    coalesced pattern (as torch's)."""

    _node_name = "SumBackward0"

    @staticmethod
    def forward(ctx, s, np_dtype):
        d = s._data
        ctx.meta = (d, s._device)
        return _xp(s).sum(d.values, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        d, device = ctx.meta
        c, _ = _coalesce_data(device, d)
        xp = device._xp
        values = xp.broadcast_to(g._data.astype(c.values.dtype), c.values.shape).copy()
        return _Construct.apply(Tensor._make(values, g._device), c.indices, c.shape, True), None


class _SumDims(Function):
    """The sum over some dims: sparse while a sparse dim remains, dense otherwise."""

    _node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, s, dims, np_dtype):
        d = s._data
        xp = _xp(s)
        sd = d.sparse_dim
        ctx.meta = (d, s._device, dims)
        dense_axes = tuple(k - sd + 1 for k in dims if k >= sd)
        values = d.values
        if dense_axes or np_dtype is not None:
            values = xp.sum(values, axis=dense_axes, dtype=np_dtype)
        keep = [k for k in range(sd) if k not in dims]
        shape = tuple(n for k, n in enumerate(d.shape) if k not in dims)
        if not keep:
            return xp.sum(values, axis=0)
        data = COOData(d.indices[keep], values, shape)
        data, _ = _coalesce_data(s._device, data)
        return _wrap(data, s._device)

    @staticmethod
    def backward(ctx, g):
        d, device, dims = ctx.meta
        c, _ = _coalesce_data(device, d)
        sd = c.sparse_dim
        keep = [k for k in range(sd) if k not in dims]
        if isinstance(g, SparseTensor):
            picked = _lookup(device, g._data, c.indices[keep])
        else:
            picked = g._data[tuple(c.indices[keep])]
        dense_axes = tuple(k - sd + 1 for k in dims if k >= sd)
        if dense_axes:
            picked = device._xp.expand_dims(picked, dense_axes)
        values = device._xp.broadcast_to(picked, c.values.shape).astype(c.values.dtype)
        return _Construct.apply(Tensor._make(values, g._device), c.indices, c.shape,
                                True), None, None


# ------------------------------------------------------------------ public functions


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """A sparse COO tensor with ``values`` at ``indices``, as ``torch.sparse_coo_tensor``.

    ``indices`` has shape ``(sparse_dim, nnz)``; ``values`` has shape ``(nnz, *dense_dims)``.
    Without ``size``, each sparse dim is one more than its largest index and the dense dims
    are those of ``values``. Duplicate indices are kept (the tensor is uncoalesced) and add up
    in every use. ``values`` stays in the autograd graph: gradients reach it through the
    sparse tensor. flambeau checks that the indices are within ``size`` unless
    ``check_invariants=False`` or :class:`flambeau.sparse.check_sparse_tensor_invariants`
    is off (torch checks only when asked: an out-of-range index there corrupts memory
    later). ``pin_memory`` is accepted for torch's signature and ignored.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
    >>> s
    tensor(indices=tensor([[0, 1, 1],
                           [2, 0, 2]]),
           values=tensor([3., 4., 5.]),
           size=(2, 3), nnz=3, layout=flambeau.sparse_coo)
    >>> s.to_dense()
    tensor([[0., 0., 3.],
            [4., 0., 5.]])
    >>> try:
    ...     flambeau.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
    ... except RuntimeError as e:
    ...     print(str(e).partition(" (")[0])
    sparse_coo_tensor(): size is inconsistent with indices: for dim 0, size is 3 but found index 5
    """
    from flambeau._creation import as_tensor, tensor

    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    if isinstance(indices, Tensor):
        indices = indices.to(values.device)
    else:
        indices = as_tensor(indices, device=values.device)
    if isinstance(indices, SparseTensor) or isinstance(values, SparseTensor):
        raise TypeError("sparse_coo_tensor(): indices and values must be strided tensors")
    kind = indices._data.dtype.kind
    if kind not in "iuf":
        raise RuntimeError(f"sparse_coo_tensor(): indices must be an int64 tensor, got "
                           f"{indices.dtype}")
    idx = indices._data
    if idx.ndim != 2:
        raise RuntimeError(f"sparse_coo_tensor(): indices must be sparse_dim x nnz, but got: "
                           f"{list(idx.shape)}")
    if kind != "i" or idx.dtype.itemsize != 8:
        idx = idx.astype(_dtype.int64.np)
    vals = values._data
    if vals.ndim == 0:
        raise RuntimeError(f"sparse_coo_tensor(): indices and values must have same nnz, but "
                           f"got nnz from indices: {idx.shape[1]}, nnz from values: 0-d "
                           "values (give values of shape (nnz, ...))")
    sd, nnz = idx.shape
    if vals.shape[0] != nnz:
        raise RuntimeError(f"sparse_coo_tensor(): indices and values must have same nnz, but "
                           f"got nnz from indices: {nnz}, nnz from values: {vals.shape[0]} "
                           f"(indices of shape {tuple(idx.shape)}, values of shape "
                           f"{tuple(vals.shape)})")
    dense_shape = tuple(vals.shape[1:])
    xp = values._device._xp
    if size is None:
        if nnz:
            low = int(idx.min())
            if low < 0:
                raise RuntimeError(f"sparse_coo_tensor(): found negative index {low} for dim "
                                   f"{int(xp.argmax((idx < 0).any(axis=1)))}")
            sparse_shape = tuple(int(m) + 1 for m in idx.max(axis=1).tolist())
        else:
            sparse_shape = (0,) * sd
        shape = sparse_shape + dense_shape
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sd + len(dense_shape):
            raise RuntimeError(f"sparse_coo_tensor(): 'len(size) == sparse_dim + dense_dim' is "
                               f"not satisfied: len(size) = {len(shape)}, sparse_dim = {sd}, "
                               f"dense_dim = {len(dense_shape)} (indices of shape "
                               f"{tuple(idx.shape)}, values of shape {tuple(vals.shape)})")
        if shape[sd:] != dense_shape:
            raise RuntimeError(f"sparse_coo_tensor(): values have dense dims {dense_shape} but "
                               f"size {shape} has {shape[sd:]} (values of shape "
                               f"{tuple(vals.shape)})")
        if checks_invariants(check_invariants) and nnz:
            _check_bounds(idx, shape, sd)
    # torch counts zero or one entry as coalesced unless told otherwise
    coalesced = nnz < 2 if is_coalesced is None else bool(is_coalesced)
    out = _Construct.apply(values, idx, shape, coalesced)
    if requires_grad:
        out.requires_grad_()
    return out


class _InvariantChecks:
    """Whether sparse constructors check their invariants when not told
    (``check_invariants=None``): on unless :class:`check_sparse_tensor_invariants` turns it
    off."""

    enabled = True


def checks_invariants(check_invariants):
    """Whether a constructor given ``check_invariants`` (True, False or None: the global
    switch) checks the invariants."""
    return _InvariantChecks.enabled if check_invariants is None else bool(check_invariants)


class check_sparse_tensor_invariants:  # noqa: N801 - torch's name
    """Turn the checks of sparse tensor invariants on (or off, with ``enable=False``).

    They apply to the constructors not given ``check_invariants``, as with torch's
    ``torch.sparse.check_sparse_tensor_invariants``: a context manager, a decorator, and the
    switches :meth:`enable`, :meth:`disable` and :meth:`is_enabled`.

    flambeau's switch starts on, where torch's starts off: an index out of range is an error
    at construction unless checks are turned off here or by ``check_invariants=False``
    (an explicit argument wins over the switch). The checks: COO indices within the size
    and not negative; CSR/CSC offsets starting at 0, ending at nnz, not decreasing, and
    the plain indices within the size, sorted and unique in each row (column).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.sparse import check_sparse_tensor_invariants
    >>> check_sparse_tensor_invariants.is_enabled()
    True
    >>> with check_sparse_tensor_invariants(False):
    ...     s = flambeau.sparse_coo_tensor([[5]], [1.0], (2,))  # not checked
    >>> try:
    ...     flambeau.sparse_coo_tensor([[5]], [1.0], (2,))
    ... except RuntimeError as e:
    ...     print(str(e).partition(" (")[0])
    sparse_coo_tensor(): size is inconsistent with indices: for dim 0, size is 2 but found index 5
    >>> @check_sparse_tensor_invariants()
    ... def build():
    ...     return check_sparse_tensor_invariants.is_enabled()
    >>> build()
    True
    """

    def __init__(self, enable=True):
        self.state = bool(enable)
        self.saved_state = None

    @staticmethod
    def is_enabled():
        """Whether constructors not given ``check_invariants`` check the invariants."""
        return _InvariantChecks.enabled

    @staticmethod
    def enable():
        """Check the invariants in constructors not given ``check_invariants``."""
        _InvariantChecks.enabled = True

    @staticmethod
    def disable():
        """Do not check the invariants in constructors not given ``check_invariants``."""
        _InvariantChecks.enabled = False

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = _InvariantChecks.enabled
        _InvariantChecks.enabled = self.state
        return self

    def __exit__(self, *exc):
        _InvariantChecks.enabled = self.saved_state
        self.saved_state = None

    def __call__(self, fn):
        """``fn`` run with the checks in this instance's state (a new context each call)."""
        import functools

        state = self.state

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            with check_sparse_tensor_invariants(state):
                return fn(*args, **kwargs)

        return checked


def _check_bounds(idx, shape, sd):
    low = idx.min(axis=1).tolist()
    high = idx.max(axis=1).tolist()
    for d in range(sd):
        if low[d] < 0:
            raise RuntimeError(f"sparse_coo_tensor(): found negative index {low[d]} for dim "
                               f"{d} (indices of shape {tuple(idx.shape)}, size {shape})")
        if high[d] >= shape[d]:
            raise RuntimeError(f"sparse_coo_tensor(): size is inconsistent with indices: for "
                               f"dim {d}, size is {shape[d]} but found index {high[d]} "
                               f"(indices of shape {tuple(idx.shape)}, size {shape})")


def empty_coo(shape, dtype, device, requires_grad):
    """An all-zero sparse tensor of ``shape`` with every dim sparse and no entries: what
    ``zeros``/``empty``/``zeros_like`` make for ``layout=flambeau.sparse_coo``, as torch's."""
    from flambeau._creation import zeros

    shape = tuple(int(n) for n in shape)
    values = zeros(0, dtype=dtype, device=device)
    indices = zeros(len(shape), 0, dtype=_dtype.int64, device=values.device)
    return sparse_coo_tensor(indices, values, shape, requires_grad=requires_grad)


def from_parts(indices, values, size, coalesced, requires_grad=False):
    """A sparse tensor of loaded ``indices`` and ``values`` tensors (the indices go to the
    values' device), checked as :func:`sparse_coo_tensor` checks them (save/load)."""
    out = sparse_coo_tensor(indices, values.detach(), tuple(size), is_coalesced=coalesced)
    return out.requires_grad_() if requires_grad else out


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This strided tensor as a sparse COO tensor of its nonzeros (``sparse_dim``: how many
    leading dims are sparse, all by default; the others are dense dims of each value).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()
    >>> s
    tensor(indices=tensor([[0, 1],
                           [1, 0]]),
           values=tensor([1., 2.]),
           size=(2, 2), nnz=2, layout=flambeau.sparse_coo)
    >>> s.is_coalesced()
    True
    """
    _check_sparse_layout(layout)
    n = self._data.ndim
    if sparse_dim is None:
        sparse_dim = n
    if not 0 <= sparse_dim <= n:
        raise RuntimeError(f"to_sparse: sparse_dim argument must be in [0,{n}] range, but "
                           f"{sparse_dim} is given (shape {tuple(self.shape)})")
    return _ToSparse.apply(self, sparse_dim)


def to_sparse_coo(self):
    """``self.to_sparse()``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.eye(2).to_sparse_coo()._nnz()
    2
    """
    return to_sparse(self)


def _strided_refusal(name):
    def method(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got Strided")

    method.__name__ = name
    method.__doc__ = (f"Sparse tensors only (a strided tensor raises torch's error).\n\n"
                      f"Examples\n--------\n>>> import flambeau\n"
                      f">>> flambeau.eye(2).to_sparse().{name}() is not None\nTrue\n")
    return method


def _sparse_dim_dense(self):
    """0 for a strided tensor (all its dims are dense).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).sparse_dim(), flambeau.zeros(2, 3).dense_dim()
    (0, 2)
    """
    return 0


def _dense_dim_dense(self):
    """The number of dims of a strided tensor (all dense).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).dense_dim()
    2
    """
    return self._data.ndim


def _need_sparse(op, a, compressed=False):
    layout = a.layout if isinstance(a, Tensor) else None
    if layout is not sparse_coo and not (compressed and layout in _COMPRESSED):
        kinds = "sparse COO, CSR or CSC" if compressed else "sparse COO"
        got = f"layout {layout}" if layout is not None else type(a).__name__
        raise TypeError(f"{op}: expected a {kinds} tensor as the first argument, got {got}")


def _check_mm(op, a, b):
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError(f"{op}: expected 2-D tensors, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({a._data.shape[1]} != {b._data.shape[0]})")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both arguments to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    for t in (a, b):
        if isinstance(t, SparseTensor) and t.dense_dim():
            raise RuntimeError(f"{op}: sparse operands with dense dims (hybrid, values of "
                               f"shape {tuple(t._data.values.shape)}) are not supported: "
                               "scalar values expected")
    if a._device is not b._device:
        raise RuntimeError(f"{op}: expected both arguments on the same device, got "
                           f"{a.device} and {b.device}")


def matmul(a, b, *, op="matmul", masked=False):
    """A product with at least one sparse 2-D operand (the other 2-D, or for ``matmul`` a
    strided vector on either side): dense unless both are sparse."""
    if op == "matmul":  # as torch's matmul, a vector is a one-column (one-row) matrix; mm
        # and the other products refuse it, as torch's
        if b._data.ndim == 1 and b.layout is _compat.strided:
            return matmul(a, b.unsqueeze(1), op=op, masked=masked).squeeze(1)
        if a._data.ndim == 1 and a.layout is _compat.strided:
            return matmul(a.unsqueeze(0), b, op=op, masked=masked).squeeze(0)
    if a.layout in _COMPRESSED or b.layout in _COMPRESSED:
        from flambeau import _sparse_compressed

        return _sparse_compressed.matmul(a, b, op=op, masked=masked)
    sa, sb = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    _check_mm(op, a, b)
    if sa and sb:
        return _SpSpMM.apply(a, b)
    if sa:
        return (_SparseMM if masked else _SpMM).apply(a, b, masked)
    # dense @ sparse = (sparse^T @ dense^T)^T
    return (_SparseMM if masked else _SpMM).apply(b.t(), a.t(), masked).t()


def _dense_or_sparse_mm(input, mat2, op):
    # torch's spmm/dsmm take two strided matrices too (their plain product)
    if input.layout is _compat.strided and mat2.layout is _compat.strided:
        return input.mm(mat2)
    return matmul(input, mat2, op=op)


def spmm(input, mat2):
    """The product of a sparse COO matrix and a dense one (dense), as ``torch.spmm``; two
    strided matrices give their plain product, as torch's.

    Examples
    --------
    >>> import flambeau
    >>> adj = flambeau.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2))
    >>> flambeau.spmm(adj, flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[3., 4.],
            [1., 2.]])
    """
    return _dense_or_sparse_mm(input, mat2, "spmm")


def _product_rows(op, mat1, mat2):
    """The dense product of a sparse COO matrix and a dense one, and the sorted rows of the
    sparse one that hold a value (what smm and hspmm keep)."""
    if not isinstance(mat1, SparseTensor):
        raise NotImplementedError(f"{op}: expected a sparse COO matrix as the first argument, "
                                  f"got layout {mat1.layout}")
    if isinstance(mat2, SparseTensor) or mat2.layout is not _compat.strided:
        raise NotImplementedError(f"{op}: expected a strided matrix as the second argument, "
                                  f"got layout {mat2.layout}")
    if mat1._data.ndim == 2 and mat2._data.ndim == 2 \
            and mat1._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"{op}: Argument #3: Expected dim 0 size {mat1._data.shape[1]}, got "
                           f"{mat2._data.shape[0]}")
    prod = matmul(mat1, mat2, op=op)
    xp = _xp(mat1)
    rows = xp.unique(mat1._data.indices[0]).astype(xp.int64)
    return prod, rows


def hspmm(mat1, mat2, *, out=None):
    """The product of a sparse COO matrix and a dense one as a hybrid sparse tensor, as
    ``torch.hspmm``: one sparse dim (the rows of ``mat1`` that hold a value) and the
    product's rows as dense values (into the sparse ``out``, when given).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 2], [1, 0]], [1.0, 2.0], (3, 2))
    >>> flambeau.hspmm(s, flambeau.tensor([[1.0, 1.0], [2.0, 0.0]]))
    tensor(indices=tensor([[0, 2]]),
           values=tensor([[2., 0.],
                          [2., 2.]]),
           size=(3, 2), nnz=2, layout=flambeau.sparse_coo)
    """
    prod, rows = _product_rows("hspmm", mat1, mat2)
    values = prod.index_select(0, Tensor._make(rows, prod._device))
    result = _Construct.apply(values, rows[None], tuple(prod.shape), False)
    if out is None:
        return result
    if not isinstance(out, SparseTensor):
        raise RuntimeError(f"hspmm: out must be a sparse COO tensor, got layout {out.layout}")
    return out._assign(result.detach())


def smm(input, mat2):
    """The product of a sparse COO matrix and a dense one as a sparse matrix, as
    ``torch.smm``: every column of each row of ``input`` that holds a value (zeros of the
    product included).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 2], [1, 0]], [1.0, 2.0], (3, 2))
    >>> flambeau.smm(s, flambeau.tensor([[1.0, 1.0], [2.0, 0.0]])).to_dense()
    tensor([[2., 0.],
            [0., 0.],
            [2., 2.]])
    """
    return _row_product("smm", input, mat2)


def _row_product(op, input, mat2):
    """:func:`smm`'s sparse product, its errors naming ``op``."""
    prod, rows = _product_rows(op, input, mat2)
    xp = _xp(input)
    k = prod._data.shape[1]
    indices = xp.stack([xp.repeat(rows, k), xp.tile(xp.arange(k, dtype=xp.int64),
                                                    rows.shape[0])])
    values = prod.index_select(0, Tensor._make(rows, prod._device)).reshape(-1)
    return _Construct.apply(values, indices, tuple(prod.shape), False)


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` as a sparse COO matrix, as
    ``torch.sspaddmm``: ``input`` and ``mat1`` sparse COO, ``mat2`` dense. The result holds
    ``input``'s entries (times ``beta``) then every column of each row of ``mat1`` that holds
    a value (times ``alpha``), uncoalesced; gradients reach all three (torch has no
    backward here).

    Examples
    --------
    >>> import flambeau
    >>> i = flambeau.sparse_coo_tensor([[0], [1]], [5.0], (2, 2))
    >>> s = flambeau.sparse_coo_tensor([[1], [0]], [2.0], (2, 3))
    >>> flambeau.sspaddmm(i, s, flambeau.ones(3, 2), alpha=3).to_dense()
    tensor([[0., 5.],
            [6., 6.]])
    """
    for arg, what, want in ((input, "self", "sparse"), (mat1, "mat1", "sparse"),
                            (mat2, "mat2", "strided")):
        is_coo = isinstance(arg, SparseTensor)
        if not isinstance(arg, Tensor) or is_coo != (want == "sparse") or (
                not is_coo and arg.layout is not _compat.strided):
            got = arg.layout if isinstance(arg, Tensor) else type(arg).__name__
            raise RuntimeError(f"sspaddmm: expected '{what}' to have {want} layout (sparse: "
                               f"COO), got '{what}' with layout {got}")
    if mat1._data.ndim == 2 and mat2._data.ndim == 2 and input._data.ndim == 2:
        rows, cols = mat1._data.shape[0], mat2._data.shape[1]
        if input._data.shape != (rows, cols):
            raise RuntimeError(f"sspaddmm: 'self' of size {tuple(input.shape)} cannot be added "
                               f"to the product of sizes {tuple(mat1.shape)} and "
                               f"{tuple(mat2.shape)} (size {(rows, cols)})")
    product = _row_product("sspaddmm", mat1, mat2)
    result = add(input if beta == 1 else input * beta, product, alpha=alpha)
    if out is None:
        return result
    if not isinstance(out, SparseTensor):
        raise RuntimeError(f"sspaddmm: out must be a sparse COO tensor, got layout {out.layout}")
    return out._assign(result.detach())


def saddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """:func:`sspaddmm` by its older name (torch keeps ``torch.saddmm``).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.eye(2).to_sparse()
    >>> flambeau.saddmm(s, s, flambeau.ones(2, 2)).to_dense()
    tensor([[2., 1.],
            [1., 2.]])
    """
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)


def dsmm(input, mat2):
    """The dense product of a sparse COO matrix and a dense one: :func:`flambeau.spmm` by
    torch's older name (``torch.dsmm``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.dsmm(flambeau.eye(2).to_sparse(), flambeau.tensor([[1.0], [2.0]]))
    tensor([[1.],
            [2.]])
    """
    return _dense_or_sparse_mm(input, mat2, "dsmm")


def hsmm(mat1, mat2):
    """:func:`flambeau.hspmm` by torch's older name (``torch.hsmm``): the product as a
    hybrid sparse tensor of the rows of ``mat1`` that hold a value.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hsmm(flambeau.eye(2).to_sparse(), flambeau.ones(2, 1)).to_dense()
    tensor([[1.],
            [1.]])
    """
    return hspmm(mat1, mat2)


def as_sparse_gradcheck(gradcheck):
    """``gradcheck`` (:func:`flambeau.autograd.gradcheck` or a ``functools.partial`` of it)
    extended to functions that take or return sparse tensors, as
    ``torch.sparse.as_sparse_gradcheck``: ``gradcheck`` itself sees strided tensors only.

    A sparse input that requires grad is checked through its stored values (a COO tensor
    coalesced first): the function gets the sparse tensor rebuilt from them, so its
    gradient is checked on the input's pattern. Sparse outputs are compared as their dense
    values.

    Examples
    --------
    >>> import flambeau
    >>> gradcheck = flambeau.sparse.as_sparse_gradcheck(flambeau.autograd.gradcheck)
    >>> x = flambeau.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=flambeau.float64)
    >>> gradcheck(lambda s: s.to_sparse_csr(), x.to_sparse().requires_grad_())
    True
    """
    import functools

    @functools.wraps(gradcheck)
    def gradcheck_with_sparse_support(func, inputs, **kwargs):
        single = isinstance(inputs, Tensor)
        inputs = (inputs,) if single else tuple(inputs)
        flat, rebuild = [], []
        for x in inputs:
            if isinstance(x, SparseBase) and x.requires_grad:
                values, make = _as_values(x)
                flat.append(values)
                rebuild.append(make)
            else:
                flat.append(x)
                rebuild.append(None)

        def strided_func(*args):
            args = [a if make is None else make(a) for a, make in zip(args, rebuild)]
            out = func(*args)
            if isinstance(out, (tuple, list)):
                return type(out)(_strided(o) for o in out)
            return _strided(out)

        return gradcheck(strided_func, tuple(flat), **kwargs)

    return gradcheck_with_sparse_support


def _as_values(x):
    """A differentiable leaf of the stored values of the sparse ``x`` and the function
    that makes the sparse tensor of ``x``'s pattern from such values."""
    x = x.detach()
    if isinstance(x, SparseTensor):
        d = _coalesce_data(x._device, x._data)[0]
        return (Tensor._make(d.values, x._device, True),
                lambda v: _Construct.apply(v, d.indices, d.shape, True))
    from flambeau._sparse_compressed import _Construct as _CompressedConstruct

    d = x._data
    return (Tensor._make(d.values, x._device, True),
            lambda v: _CompressedConstruct.apply(v, d))


def _strided(t):
    return t.to_dense() if isinstance(t, SparseBase) else t


def sparse_mask(self, mask):
    """The values of this tensor where the sparse ``mask`` stores one, as a sparse tensor of
    the mask's layout and pattern (its indices as they are, duplicates too), as torch's
    ``Tensor.sparse_mask``; the mask's values are not read.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(4.0).reshape(2, 2)
    >>> x.sparse_mask(flambeau.eye(2).to_sparse()).to_dense()
    tensor([[0., 0.],
            [0., 3.]])
    >>> x.sparse_mask(flambeau.eye(2).to_sparse_csr()).values()
    tensor([0., 3.])
    """
    if not isinstance(mask._data, RefusingStorage):
        raise NotImplementedError(f"sparse_mask: the mask must be a sparse tensor (layout "
                                  f"flambeau.sparse_coo, sparse_csr or sparse_csc), got "
                                  f"{mask.layout}")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(self.shape)} but mask has size {list(mask.shape)}")
    if isinstance(self, SparseTensor):
        self = self.to_dense()
    elif self.layout is not _compat.strided:
        self = self.to_dense()
    if self._data.dtype != mask._data.dtype:
        mask = mask.to(self.dtype)
    return _SparseMask.apply(self, mask)


class _SparseMask(Function):
    """``x`` at the mask's nonzeros; the gradient of ``x`` is the output's at each nonzero,
    added up at its index (duplicates too)."""

    @staticmethod
    def forward(ctx, x, mask):
        d = mask._data
        if d.__class__ is COOData:
            index = d.indices
            out = COOData(index, x._data[tuple(index)], d.shape, d.coalesced)
        else:
            from flambeau._sparse_compressed import CompressedData

            index = _xp(x).stack(d.rows_cols())
            picked = x._data[tuple(index)].reshape(d.values.shape)
            out = CompressedData(d.compressed, d.plain, picked, d.shape,
                                 d.layout, x._device)
        ctx.index = index
        return mask._make(out, x._device)

    @staticmethod
    def backward(ctx, g):
        index = ctx.index
        if isinstance(g, SparseTensor):
            picked = _lookup(g._device, g._data, index.astype(_xp(g).int64))
        elif g.layout is not _compat.strided:
            picked = _lookup(g._device, g.to_sparse_coo()._data, index.astype(_xp(g).int64))
        else:
            picked = g._data[tuple(index)]
        out = _xp(g).zeros(g._data.shape, dtype=picked.dtype)
        return Tensor._make(scatter_add_(g._device, out, index, g._data.shape, picked),
                            g._device), None


def sparse_mm(mat1, mat2, reduce="sum"):
    """The product of a sparse COO matrix and a dense or sparse one, or of a CSR/CSC matrix
    and a dense one, as ``torch.sparse.mm``: the sparse operand's gradient is sparse (in its
    layout), on its pattern.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2),
    ...                                requires_grad=True)
    >>> y = flambeau.sparse.mm(s, flambeau.ones(2, 3))
    >>> y
    tensor([[2., 2., 2.],
            [3., 3., 3.]], grad_fn=<SparseAddmmBackward0>)
    >>> y.sum().backward(); s.grad
    tensor(indices=tensor([[0, 1],
                           [1, 0]]),
           values=tensor([3., 3.]),
           size=(2, 2), nnz=2, layout=flambeau.sparse_coo)
    """
    if reduce != "sum":
        raise SparseUnsupported(f"sparse.mm: reduce={reduce!r} is not supported (only 'sum')")
    _need_sparse("sparse.mm", mat1, compressed=True)
    return matmul(mat1, mat2, op="sparse.mm", masked=True)


def sparse_addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for a sparse ``mat1`` and dense ``input`` and
    ``mat2``, as ``torch.sparse.addmm`` (dense).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.eye(2).to_sparse()
    >>> flambeau.sparse.addmm(flambeau.ones(2, 2), s, flambeau.ones(2, 2), beta=2, alpha=3)
    tensor([[5., 5.],
            [5., 5.]])
    """
    _need_sparse("sparse.addmm", mat1, compressed=True)
    return _addmm(input, mat1, mat2, beta, alpha, masked=True)


def _addmm(input, mat1, mat2, beta, alpha, masked=False):
    if isinstance(input, SparseTensor):
        raise RuntimeError("addmm_sparse_dense: expected strided result tensor, got tensor "
                           "with layout Sparse")
    prod = matmul(mat1, mat2, op="addmm", masked=masked)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return prod + (input if beta == 1 else input * beta)


def sparse_sum(input, dim=None, dtype=None):
    """The sum of a sparse tensor's values, as ``torch.sparse.sum``: over every dim a dense
    0-d tensor; over some dims a sparse tensor while a sparse dim remains, dense otherwise.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
    >>> flambeau.sparse.sum(s)
    tensor(12.)
    >>> flambeau.sparse.sum(s, 1)
    tensor(indices=tensor([[0, 1]]),
           values=tensor([3., 9.]),
           size=(2,), nnz=2, layout=flambeau.sparse_coo)
    """
    from flambeau._ops._util import dims_arg

    _need_sparse("sparse.sum", input)
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else None
    if np_dtype is None and input._data.dtype.kind in "biu":
        np_dtype = _dtype.int64.np
    axes = dims_arg(dim, input._data.ndim, "sum") if dim is not None else None
    if axes is None or len(axes) == input._data.ndim:
        return _SumAll.apply(input, np_dtype)
    return _SumDims.apply(input, tuple(sorted(axes)), np_dtype)


def _softmax(input, dim, dtype, log):
    from flambeau._tensor import _wrap_dim

    op = "sparse.log_softmax" if log else "sparse.softmax"
    _need_sparse(op, input)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {input.dtype}")
    dim = _wrap_dim(dim, input._data.ndim, op)
    c = input.coalesce()
    d = c._data
    values = _Values.apply(c)
    sd = d.sparse_dim
    if dim >= sd:  # a dense dim: each value's own softmax
        out = values.log_softmax(dim - sd + 1) if log else values.softmax(dim - sd + 1)
    else:
        # the nonzeros that share every sparse index but dim's form one softmax; the others
        # are -inf (absent), as torch's
        xp = _xp(c)
        rest = [k for k in range(sd) if k != dim]
        shape = tuple(d.shape[k] for k in rest)
        key = _keys(xp, d.indices[rest], shape) if rest else xp.zeros(d.nnz, dtype=xp.int64)
        _, inverse = xp.unique(key, return_inverse=True)
        group = Tensor._make(inverse.reshape(-1).astype(xp.int64), c._device)
        n = int(inverse.max()) + 1 if d.nnz else 0
        zeros = values.new_zeros((n,) + tuple(values.shape[1:]))
        top = zeros.index_reduce(0, group, values.detach(), "amax", include_self=False)
        shifted = values - top.index_select(0, group)
        total = zeros.index_add(0, group, shifted.exp()).index_select(0, group)
        out = shifted - total.log() if log else shifted.exp() / total
    return (_LogSoftmaxOut if log else _SoftmaxOut).apply(out, d.indices, d.shape, True)


def sparse_softmax(input, dim, *, dtype=None):
    """The softmax of a sparse tensor's values along ``dim``, as ``torch.sparse.softmax``:
    the values that are not stored count as ``-inf`` (they stay absent), so each group of
    stored values sharing the other indices sums to 1. The result has the coalesced pattern
    of ``input``.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
    >>> flambeau.sparse.softmax(s, 1).to_dense()
    tensor([[0.5000, 0.0000, 0.5000],
            [0.0000, 1.0000, 0.0000]])
    """
    return _softmax(input, dim, dtype, log=False)


def sparse_log_softmax(input, dim, *, dtype=None):
    """The log of :func:`softmax` over the stored values, as ``torch.sparse.log_softmax``.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
    >>> flambeau.sparse.log_softmax(s, 1).values()
    tensor([-0.6931, -0.6931,  0.0000])
    """
    return _softmax(input, dim, dtype, log=True)


def add(a, b, *, alpha=1):
    """``a + alpha * b`` with a sparse operand: sparse + sparse is sparse, dense + sparse
    dense; sparse + dense is torch's error."""
    from flambeau._ops._util import scalar_value

    if getattr(a, "layout", None) in _COMPRESSED or getattr(b, "layout", None) in _COMPRESSED:
        from flambeau import _sparse_compressed

        return _sparse_compressed.add(a, b, alpha)
    sa, sb = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if sa and sb:
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"add: expected sizes of the sparse operands to match, got "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        if a._data.sparse_dim != b._data.sparse_dim:
            raise RuntimeError("add: expected both sparse operands to have the same "
                               f"sparse_dim, got {a._data.sparse_dim} and {b._data.sparse_dim}")
        from flambeau._dtype import promote_types

        dt = promote_types(a.dtype, b.dtype)
        a, b = a.to(dt), b.to(dt)
        return _AddSparse.apply(a, b, alpha)
    if sb and isinstance(a, Tensor):
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"add: a dense tensor of shape {tuple(a.shape)} plus a sparse "
                               f"one of shape {tuple(b.shape)}: the sizes must match "
                               "(sparse tensors do not broadcast)")
        return _AddDense.apply(a, b, alpha)
    if sa and (isinstance(b, Tensor) or scalar_value(b) is not None):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    return NotImplemented


def add_or_raise(a, b, alpha):
    """:func:`add` for :func:`flambeau.add`/``sub`` whose dense op a sparse operand refused:
    the refusal goes on when the sparse op has no case for the operands either."""
    out = add(a, b, alpha=alpha)
    if out is NotImplemented:
        raise
    return out


def mul(a, b):
    """``a * b`` with a sparse operand: by a number, a dense tensor of the same shape or a
    sparse tensor; the result is sparse."""
    from flambeau._ops._util import scalar_value

    if not isinstance(a, SparseTensor):
        a, b = b, a
    if isinstance(b, SparseTensor):
        if a._data.shape != b._data.shape:
            raise RuntimeError(f"mul: expected sizes of the sparse operands to match, got "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        return _MulSparse.apply(a, b)
    if isinstance(b, Tensor):
        if b._data.ndim == 0:
            return _Map.apply(a, "mul", b.item())
        if b._data.shape != a._data.shape:
            raise SparseUnsupported(f"mul: a sparse tensor of shape {tuple(a.shape)} times a "
                                    f"dense one of shape {tuple(b.shape)}: broadcasting is not "
                                    "supported for sparse tensors; use .to_dense() first")
        if b._data.dtype != a._data.dtype:
            from flambeau._dtype import promote_types

            dt = promote_types(a.dtype, b.dtype)
            a, b = a.to(dt), b.to(dt)
        return _MulDense.apply(a, b)
    if scalar_value(b) is None:
        return NotImplemented
    return _Map.apply(a, "mul", b)


# the methods every tensor answers; the sparse-only ones are the strided tensor's errors
Tensor.sparse_mask = sparse_mask
Tensor.smm = smm
Tensor.sspaddmm = sspaddmm
Tensor.to_sparse = to_sparse
Tensor.to_sparse_coo = to_sparse_coo
Tensor.sparse_dim = _sparse_dim_dense
Tensor.dense_dim = _dense_dim_dense
for _name in ("is_coalesced", "coalesce", "indices", "values", "_indices", "_values"):
    setattr(Tensor, _name, _strided_refusal(_name))


def _nnz_dense(self):
    raise NotImplementedError("_nnz: a strided tensor stores no nonzero count (layout "
                              "flambeau.strided); call .to_sparse() first")


Tensor._nnz = _nnz_dense

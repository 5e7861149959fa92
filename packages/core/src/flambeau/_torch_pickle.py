"""Read PyTorch ``torch.save`` files (zip and legacy) without torch, and without running code
unless ``weights_only=False`` asks for whole objects.

The pickle inside is read by :class:`_AllowListUnpickler`: ``find_class`` maps the few globals a
state_dict pickle uses (tensor rebuild functions, storage types, ``OrderedDict``, dtypes,
``torch.Size``, ``torch.device``, ``set``) to flambeau's own functions, and refuses every other
global before anything is called, so a malicious file can't run code. Tensors are rebuilt from
the raw storage bytes as NumPy views (tensors sharing a storage in PyTorch share memory here).

Complex tensors: ``ComplexFloatStorage``/``ComplexDoubleStorage`` hold complex64/complex128.
NumPy has no complex32, so a ``torch.complex32`` tensor (pickled by ``_rebuild_tensor_v3`` over
an untyped storage) loads as complex64, with its values exactly (a copy, not a view), and the
``torch.complex32`` dtype object loads as ``flambeau.complex64``.

Whole objects (``weights_only=False``): every global the pickle names is found first
(:func:`_named_globals` reads the opcodes without running them), torch's as flambeau's
counterpart of the same public path (:func:`_counterpart`), other modules' as pickle imports
them; one torch name without a counterpart refuses the file before anything is built. The
objects are then built as pickle builds them (``cls.__new__`` and ``__setstate__``:
flambeau-nn's ``Module.__setstate__`` takes torch's module layout).

Tensor classes: a ``torch.nn.Parameter`` loads as flambeau's (``nn.Parameter``, where
flambeau.nn is imported) and a torch ``nn.Buffer`` (a tensor marked ``_is_buffer``) as
``nn.Buffer``; the uninitialized tensors of lazy modules and other Tensor subclasses load as
:func:`flambeau.load`'s ``weights_only`` allows, rebuilt as the flambeau class of that name.
"""

from __future__ import annotations

import collections
import importlib
import io
import pickle
import pickletools
import re
import types
import zipfile

import ml_dtypes
import numpy as np

from flambeau._serialization import CheckpointError, as_class

__all__ = ["load_torch", "UnsafePickleError"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


class UnsafePickleError(CheckpointError, pickle.UnpicklingError):
    """The pickle needs a global outside the allow-list."""


class _StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: just the element type."""

    __slots__ = ("name", "np")

    def __init__(self, name, np_dtype):
        self.name, self.np = name, np.dtype(np_dtype)


class _Storage:
    __slots__ = ("array", "location")

    def __init__(self, array, location):
        self.array, self.location = array, location


_STORAGE_TYPES = {
    f"{prefix}Storage": _StorageType(f"{prefix}Storage", np_dtype) for prefix, np_dtype in (
        ("Double", np.float64), ("Float", np.float32), ("Half", np.float16),
        ("BFloat16", ml_dtypes.bfloat16), ("Long", np.int64), ("Int", np.int32),
        ("Short", np.int16), ("Char", np.int8), ("Byte", np.uint8), ("Bool", np.bool_),
        ("ComplexFloat", np.complex64), ("ComplexDouble", np.complex128), ("Untyped", np.uint8),
    )
}


class _ComplexHalf:
    """What ``torch.complex32`` unpickles to: NumPy has no complex32, so its tensors are
    rebuilt as complex64, and the dtype itself becomes ``flambeau.complex64``."""

    __slots__ = ()
    itemsize = 4


_COMPLEX32 = _ComplexHalf()
#: a complex32 element as NumPy can hold it
_HALF_PAIRS = np.dtype([("real", np.float16), ("imag", np.float16)])


def _widen(array):
    """A complex64 copy of an array of complex32 elements (exact: float16 fits float32)."""
    out = np.empty(array.shape, dtype=np.complex64)
    out.real, out.imag = array["real"], array["imag"]
    return out


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise CheckpointError(f"tensor {what} must be a tuple of non-negative ints, got {value!r}")
    return tuple(value)


class _Tensor:
    """A tensor as the pickle describes it; placed on a device once the pickle is read, as
    an instance of ``cls`` (a Tensor subclass; None for Tensor) with ``state`` as its
    ``__dict__``."""

    __slots__ = ("array", "location", "requires_grad", "cls", "state")

    def __init__(self, array, location, requires_grad=False):
        self.array, self.location, self.requires_grad = array, location, requires_grad
        self.cls, self.state = None, None


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise CheckpointError(f"_rebuild_tensor: expected a storage, got "
                              f"{type(storage).__name__}")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if isinstance(storage_offset, bool) or not isinstance(storage_offset, int) \
            or storage_offset < 0 or len(size) != len(stride):
        raise CheckpointError(f"bad tensor layout: offset {storage_offset!r}, size {size}, "
                              f"stride {stride}")
    base = storage.array
    if 0 in size:
        array = np.empty(size, dtype=base.dtype)
    else:
        # the view must stay inside the storage: as_strided would read past it otherwise
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= base.size:
            raise CheckpointError(
                f"tensor of size {size}, stride {stride} and offset {storage_offset} reaches "
                f"element {last} of a storage of {base.size} elements")
        # as bytes: as_strided can't rebuild some one-byte dtypes (float8_e5m2 is '<f1')
        raw = base.view(np.uint8) if base.itemsize == 1 else base
        array = np.lib.stride_tricks.as_strided(
            raw[storage_offset:], shape=size,
            strides=tuple(s * base.itemsize for s in stride)).view(base.dtype)
    return _Tensor(array, storage.location, bool(requires_grad))


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, dtype=None, metadata=None):
    """torch's rebuild of a tensor over an untyped (byte) storage, with its dtype given
    separately (dtypes without a typed storage class: complex32...)."""
    from flambeau import _dtype

    if not isinstance(storage, _Storage) or storage.array.dtype != np.uint8:
        raise CheckpointError("_rebuild_tensor_v3: expected an untyped storage")
    if not isinstance(dtype, (_dtype.dtype, _ComplexHalf)):
        raise CheckpointError(f"_rebuild_tensor_v3: unsupported dtype {dtype!r}")
    raw = storage.array
    if raw.size % dtype.itemsize:
        raise CheckpointError(f"_rebuild_tensor_v3: a storage of {raw.size} bytes can't hold "
                              f"elements of {dtype.itemsize} bytes")
    if dtype is _COMPLEX32:
        # float16 (real, imag) pairs, widened to complex64 in _materialize: a legacy file
        # reads its storages after the pickle, so the bytes aren't there yet
        typed = raw.view(_HALF_PAIRS)
    else:
        typed = raw.view(dtype.np)
    return _rebuild_tensor(_Storage(typed, storage.location), storage_offset, size, stride,
                           requires_grad)


class _Sparse:
    """A torch sparse COO tensor of the pickle: its indices' and values' tensors, made
    flambeau's sparse tensor by ``_materialize``."""

    __slots__ = ("indices", "values", "size", "coalesced")

    def __init__(self, indices, values, size, coalesced):
        self.indices, self.values, self.size, self.coalesced = indices, values, size, coalesced


class _SparseCompressed:
    """A torch sparse CSR or CSC tensor of the pickle: its three tensors, made flambeau's
    compressed tensor by ``_materialize``."""

    __slots__ = ("layout", "parts", "size")

    def __init__(self, layout, parts, size):
        self.layout, self.parts, self.size = layout, parts, size


_COMPRESSED_LAYOUTS = ("torch.sparse_csr", "torch.sparse_csc")


def _get_layout(name):
    if name != "torch.sparse_coo" and name not in _COMPRESSED_LAYOUTS:
        raise CheckpointError(f"unsupported tensor layout {name!r} (flambeau loads strided, "
                              "sparse_coo, sparse_csr and sparse_csc tensors)")
    return name


def _rebuild_sparse_tensor(layout, data):
    if layout in _COMPRESSED_LAYOUTS and isinstance(data, tuple) and len(data) == 4 \
            and all(isinstance(p, _Tensor) for p in data[:3]):
        return _SparseCompressed(layout[len("torch."):], data[:3], _int_tuple(data[3], "size"))
    if layout != "torch.sparse_coo" or not (isinstance(data, tuple) and len(data) >= 3
                                            and isinstance(data[0], _Tensor)
                                            and isinstance(data[1], _Tensor)):
        raise CheckpointError(f"_rebuild_sparse_tensor: unsupported layout {layout!r} or data")
    coalesced = bool(data[3]) if len(data) > 3 else False
    return _Sparse(data[0], data[1], _int_tuple(data[2], "size"), coalesced)


def _object_state(state):
    """The ``__dict__`` part of an object's pickled state (torch pickles ``(dict, slots)``
    for classes with slots), or an empty dict."""
    if isinstance(state, tuple) and len(state) == 2:
        state = state[0]
    ok = isinstance(state, dict) and all(isinstance(k, str) for k in state)
    return state if ok else {}


def _as_flambeau(tensor, name, state):
    """Mark ``tensor`` to load as flambeau-nn's class ``name`` (a plain tensor where that is
    not defined: flambeau.nn not imported)."""
    from flambeau import serialization

    tensor.cls, tensor.state = serialization.defined_tensor_class(name), state
    return tensor


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    if not isinstance(data, _Tensor):
        raise CheckpointError(f"_rebuild_parameter: expected a tensor, got {type(data).__name__}")
    from flambeau import serialization

    data.requires_grad = bool(requires_grad)
    return _as_flambeau(data, serialization.PARAMETER, _object_state(state))


class _TensorClass:
    """What ``torch.Tensor`` and ``torch.nn.Parameter`` unpickle to: just the name."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch's rebuild of a tensor of class ``new_type`` with ``state`` as its ``__dict__``."""
    from flambeau import serialization
    from flambeau._tensor import Tensor

    subclass = isinstance(new_type, type) and issubclass(new_type, Tensor)  # an allowed one
    if func not in (_rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter) or not (
            subclass or isinstance(new_type, _TensorClass)):
        raise CheckpointError("_rebuild_from_type_v2: only tensors, parameters and allowed "
                              "Tensor subclasses can be rebuilt")
    out = func(*args)
    state = _object_state(state)
    if subclass:
        out.cls, out.state = new_type, state
    elif new_type.name == "Parameter":
        _as_flambeau(out, serialization.PARAMETER, state)
    elif state.get("_is_buffer") is True:  # torch's nn.Buffer: a Tensor with this mark
        _as_flambeau(out, serialization.BUFFER, {"persistent": bool(state.get("persistent",
                                                                              True))})
    return out


def _torch_device(type_, index=None):
    from flambeau._device import device

    name = str(type_) if index is None else f"{type_}:{index}"
    try:
        return device(name)
    except (RuntimeError, ValueError):
        return name  # a device type flambeau has no backend for (mps, xla, ...)


def _torch_size(dims=()):
    from flambeau._tensor import Size

    return Size(_int_tuple(dims, "Size"))


def _allowed():
    from flambeau import _dtype

    table = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch.storage", "UntypedStorage"): _STORAGE_TYPES["UntypedStorage"],
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Tensor"): _TensorClass("Tensor"),
        ("torch.nn.parameter", "Parameter"): _TensorClass("Parameter"),
        ("torch", "Size"): _torch_size,
        ("torch.serialization", "_get_layout"): _get_layout,
        ("torch._utils", "_rebuild_sparse_tensor"): _rebuild_sparse_tensor,
        ("torch", "device"): _torch_device,
    }
    for mod in ("builtins", "__builtin__"):
        table.update({(mod, "set"): set, (mod, "frozenset"): frozenset, (mod, "slice"): slice})
    for name, st in _STORAGE_TYPES.items():
        table[("torch", name)] = st
    for d in _dtype.ALL_DTYPES:
        table[("torch", d.name)] = d
    for alias, d in (("float", _dtype.float32), ("double", _dtype.float64),
                     ("half", _dtype.float16), ("long", _dtype.int64), ("int", _dtype.int32),
                     ("short", _dtype.int16), ("cfloat", _dtype.complex64),
                     ("cdouble", _dtype.complex128), ("complex32", _COMPLEX32),
                     ("chalf", _COMPLEX32)):
        table[("torch", alias)] = d
    return table


_ALLOWED = None

#: torch's classes for the tensors of lazy modules, which flambeau-nn mirrors (pickled as
#: ``cls(requires_grad)``); torch.load refuses them unless weights_only=False, as load does
_LAZY_TENSOR_CLASSES = {("torch.nn.parameter", name): ("flambeau.nn.parameter", name)
                        for name in ("UninitializedParameter", "UninitializedBuffer")}


#: torch modules whose names live elsewhere in flambeau (torch's C functions of nn.functional;
#: ``torch.tanh`` and friends pickle as attributes of ``torch._C._VariableFunctionsClass``)
_TORCH_MODULE_ALIASES = {"torch._C._nn": "flambeau.nn.functional",
                         "torch._C._VariableFunctions": "flambeau"}


def _counterpart(module, name):
    """flambeau's object for torch's global ``module.name``, found by its public path
    (``torch.nn.modules.linear.Linear`` is ``flambeau.nn.Linear``), or None."""
    if (module, name) == ("torch._C", "_VariableFunctionsClass"):
        return importlib.import_module("flambeau")
    ours = _TORCH_MODULE_ALIASES.get(module, "flambeau" + module[len("torch"):])
    parts = ours.split(".")
    # the module itself, then its packages up to flambeau.X (flambeau for torch.X), where a
    # private name is not looked for: it is no public path
    for n in range(len(parts), 0 if module == "torch" else 1, -1):
        if n < len(parts) and name.startswith("_"):
            break
        try:
            found = getattr(importlib.import_module(".".join(parts[:n])), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    return None


def _named_globals(f):
    """``(module, name)`` of every global the pickle at ``f``'s position names, read without
    running it (``f`` is left where it was). A ``STACK_GLOBAL`` whose strings can't be told
    is left out: ``find_class`` still sees it."""
    start, found, memo = f.tell(), [], {}
    before, last = None, None  # the strings the last two opcodes pushed (None: not strings)
    try:
        for op, arg, _ in pickletools.genops(f):
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                memo[len(memo) if arg is None else arg] = last
                continue
            if op.name in ("GLOBAL", "INST"):
                found.append(tuple(arg.split(" ", 1)))
            elif op.name == "STACK_GLOBAL" and isinstance(before, str) and isinstance(last, str):
                found.append((before, last))
            pushed = memo.get(arg) if op.name in ("GET", "BINGET", "LONG_BINGET") else (
                arg if "UNICODE" in op.name else None)
            before, last = last, pushed
    finally:
        f.seek(start)
    return list(dict.fromkeys(found))


_REFUSED, _MISSING = object(), object()  # what _AllowListUnpickler._lookup finds


def _no_counterpart(names):
    """The error message for torch globals (``module.name`` each) flambeau has nothing for."""
    quoted = ", ".join(f"'{n}'" for n in names)
    return (f"can't rebuild {quoted} from this PyTorch file: flambeau has no counterpart for "
            f"{'them' if len(names) > 1 else 'it'} (torch's classes and functions load as "
            "flambeau's of the same public name, torch.nn.Linear as flambeau.nn.Linear). Load "
            "the file with torch and save the state_dict() of what it holds: flambeau.load "
            "reads it, and load_state_dict takes it")


class _AllowListUnpickler(pickle.Unpickler):
    """An unpickler that can only build tensors, storages and plain containers; with
    ``weights_only=False``, any object, torch's classes as flambeau's (see :meth:`scan`)."""

    def __init__(self, file, storage, weights_only=True):
        super().__init__(file)
        self._file, self._start = file, file.tell()
        self._storage = storage  # (storage type, key, location, numel) -> _Storage
        self._weights_only = weights_only
        self._found = {}  # (module, name) -> object, found by scan() before unpickling

    def load(self):
        if not self._weights_only:  # it builds objects: nothing before every global is found
            self.scan()
        return super().load()

    def scan(self):
        """Find every global the pickle names, so that one error names all those that can't
        be loaded: with ``weights_only``, those outside the allow-list; without, torch's
        classes and functions flambeau has no counterpart for (the others load as
        flambeau's of the same public name), and other modules' names are imported, as
        pickle does (so user classes are the program's own)."""
        from flambeau import serialization

        refused, missing = [], []
        self._file.seek(self._start)
        for module, attr in _named_globals(self._file):
            found = self._lookup(module, attr)
            if found is _REFUSED:
                refused.append(f"{module}.{attr}")
            elif found is _MISSING:
                missing.append(f"{module}.{attr}")
            elif found is not None:
                self._found[(module, attr)] = found
        if refused:
            raise UnsafePickleError(serialization.refusal_all(refused))
        if missing:
            raise UnsafePickleError(_no_counterpart(missing))
        return self

    def _lookup(self, module, attr):
        """What a global outside find_class's fixed table loads as: an object, None (for
        find_class to decide: the allow-list, lazy modules' tensors), _REFUSED or _MISSING."""
        from flambeau import serialization

        if self._allowed(module, attr) is not None or (module, attr) in _LAZY_TENSOR_CLASSES \
                or serialization.find(module, attr) is not None:
            return None
        torch = module == "torch" or module.startswith("torch.")
        if self._weights_only:
            # a flambeau class allowed with add_safe_globals allows torch's of that name
            if torch and any(getattr(e, "__name__", None) == attr for e in serialization._SAFE):
                found = _counterpart(module, attr)
                if any(e is found for e in serialization._SAFE):
                    return found
            return _REFUSED
        if torch:
            found = _counterpart(module, attr)
            return _MISSING if found is None else found
        try:
            return super().find_class(module, attr)
        except (ImportError, AttributeError) as exc:
            raise CheckpointError(serialization.not_importable(f"{module}.{attr}", exc)) from None

    @staticmethod
    def _allowed(module, name):
        global _ALLOWED
        if _ALLOWED is None:
            _ALLOWED = _allowed()
        return _ALLOWED.get((module, name))

    def find_class(self, module, name):
        found = self._found.get((module, name))
        if found is None:
            found = self._allowed(module, name)
        if found is not None:
            return found
        from flambeau import serialization

        found = serialization.find(module, name)
        if found is not None:
            return found
        ours = _LAZY_TENSOR_CLASSES.get((module, name))
        if ours is not None:
            try:
                return serialization.tensor_class(*ours, self._weights_only)
            except LookupError as exc:
                raise UnsafePickleError(exc.args[0]) from None
        # (without weights_only, scan() found the others: this one is a STACK_GLOBAL it could
        # not read)
        found = self._lookup(module, name)
        if found is _MISSING:
            raise UnsafePickleError(_no_counterpart([f"{module}.{name}"]))
        if found is _REFUSED:
            # only allowed objects (tensors, containers) are built so far: the file is
            # refused, naming every global it has that is not allowed, as flambeau's are
            self.scan()
            raise UnsafePickleError(serialization.refusal(module, name))
        return found

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module" \
                and isinstance(pid[1], type):
            # a legacy file's module class, with the source file and code it had (torch.load
            # only compares them, to warn); the class itself went through find_class
            return pid[1]
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[3], str) and isinstance(pid[4], int)):
            raise CheckpointError(f"unexpected persistent id {pid!r} (only storages are "
                                  "supported)")
        return self._storage(*pid[1:5])


def _zip_storage_reader(zf, prefix, big_endian):
    raw_bytes = {}  # key -> uint8 array of the entry
    typed = {}  # (key, storage type name) -> _Storage; several dtypes may view one storage

    def storage(stype, key, location, numel):
        hit = typed.get((key, stype.name))
        if hit is not None:
            return hit
        entry = f"{prefix}data/{key}"
        raw = raw_bytes.get(key)
        if raw is None:
            try:
                info = zf.getinfo(entry)
            except KeyError:
                raise CheckpointError(f"the archive has no entry {entry!r}") from None
            raw = raw_bytes[key] = np.empty(info.file_size, dtype=np.uint8)
            with zf.open(info) as fh:
                got = fh.readinto(memoryview(raw))
            if got != raw.size:
                raise CheckpointError(f"storage {entry!r} is truncated")
        nbytes = numel * stype.np.itemsize
        if raw.size != nbytes:
            raise CheckpointError(f"storage {entry!r} holds {raw.size} bytes, expected "
                                  f"{nbytes} ({numel} x {stype.name})")
        array = raw.view(stype.np)
        if big_endian and stype.np.itemsize > 1:
            array = array.byteswap()
        out = typed[(key, stype.name)] = _Storage(array, location)
        return out

    return storage


def _load_zip(data, weights_only):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(f"corrupt zip archive: {exc}") from None
    pkl = [n for n in names if re.fullmatch(r"[^/]+/data\.pkl", n)]
    if len(pkl) != 1:
        raise CheckpointError("a zip archive without a PyTorch 'data.pkl' record (not a file "
                              "written by torch.save)")
    prefix = pkl[0][: -len("data.pkl")]
    big_endian = False
    if f"{prefix}byteorder" in names:
        big_endian = zf.read(f"{prefix}byteorder").strip() == b"big"
    storage = _zip_storage_reader(zf, prefix, big_endian)
    return _AllowListUnpickler(io.BytesIO(zf.read(pkl[0])), storage, weights_only).load()


def _load_legacy(data, weights_only):
    f = io.BytesIO(data)

    def no_storage(*pid):
        raise CheckpointError("storage reference in a legacy header")

    header = [_AllowListUnpickler(f, no_storage).load() for _ in range(3)]
    if header[0] != _LEGACY_MAGIC or header[1] != _LEGACY_PROTOCOL:
        raise CheckpointError("a pickle that is not a PyTorch checkpoint (bad magic number)")
    if not header[2].get("little_endian", True):
        raise CheckpointError("big-endian legacy PyTorch files are not supported")
    wanted = {}  # key -> (storage type, numel); filled while the object is unpickled

    def storage(stype, key, location, numel):
        if key not in wanted:
            wanted[key] = (stype, numel, _Storage(np.empty(numel, dtype=stype.np), location))
        return wanted[key][2]

    obj = _AllowListUnpickler(f, storage, weights_only).load()
    keys = _AllowListUnpickler(f, no_storage).load()
    if not isinstance(keys, list) or sorted(keys) != sorted(wanted):
        raise CheckpointError("the storage list does not match the tensors")
    for key in keys:
        stype, numel, st = wanted[key]
        stored = int.from_bytes(f.read(8), "little")
        nbytes = numel * stype.np.itemsize
        raw = f.read(nbytes)
        if stored != numel or len(raw) != nbytes:
            raise CheckpointError(f"truncated storage {key!r} ({len(raw)} of {nbytes} bytes)")
        st.array[...] = np.frombuffer(raw, dtype=stype.np)
    return obj


def _materialize(obj, place):
    """Replace the pickle's tensors by flambeau tensors, keeping containers and sharing."""
    done = {}

    def walk(v):
        if v is _COMPLEX32:
            from flambeau import _dtype

            return _dtype.complex64
        if v.__class__ is _SparseCompressed:
            from flambeau import _compat
            from flambeau._sparse_compressed import from_parts as compressed_from_parts

            out = done.get(id(v))
            if out is None:
                parts = [walk(p) for p in v.parts]
                out = done[id(v)] = compressed_from_parts(
                    *parts, v.size, getattr(_compat, v.layout), v.parts[2].requires_grad)
            return out
        if v.__class__ is _Sparse:
            from flambeau._sparse import from_parts

            out = done.get(id(v))
            if out is None:
                out = done[id(v)] = from_parts(walk(v.indices), walk(v.values), v.size,
                                               v.coalesced, v.values.requires_grad)
            return out
        if isinstance(v, _Tensor):
            out = done.get(id(v))
            if out is None:
                array = _widen(v.array) if v.array.dtype == _HALF_PAIRS else v.array
                out = done[id(v)] = place(array, v.location, v.requires_grad)
                if v.cls is not None:
                    out = done[id(v)] = as_class(out, v.cls, walk(v.state))
            return out
        # dicts and lists change in place (the pickle made them): a container shared by two
        # objects stays one, and a dict keeps its class, defaultdict factory and attributes
        # (a state_dict's _metadata)
        if isinstance(v, dict):
            if id(v) not in done:
                done[id(v)] = v
                items = [(walk(k), walk(x)) for k, x in v.items()]
                v.clear()
                v.update(items)
            return v
        if type(v) is list:
            if id(v) not in done:
                done[id(v)] = v
                v[:] = [walk(x) for x in v]
            return v
        if type(v) is tuple:
            return tuple(walk(x) for x in v)
        if isinstance(getattr(v, "__dict__", None), dict) and id(v) not in done \
                and not isinstance(v, types.ModuleType):  # (torch._C._VariableFunctionsClass)
            done[id(v)] = v  # an allow-listed object: its attributes may hold tensors
            for key, x in list(vars(v).items()):
                vars(v)[key] = walk(x)
        return v

    return walk(obj)


def load_torch(data, name, place, weights_only=True):
    """Load a ``torch.save`` file's bytes; ``place(array, location, requires_grad)`` makes
    the flambeau tensors; ``weights_only`` as :func:`flambeau.load`'s."""
    try:
        zipped = data[:4] == b"PK\x03\x04"
        obj = (_load_zip if zipped else _load_legacy)(data, weights_only)
    except CheckpointError as exc:
        raise type(exc)(f"load: {name}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(f"load: {name}: corrupt PyTorch file ({type(exc).__name__}: "
                              f"{exc})") from None
    return _materialize(obj, place)

"""``flambeau.save`` / ``flambeau.load``: checkpoints that run no code when loaded (unless
``weights_only=False`` is asked for a file holding whole objects).

A checkpoint is one safetensors file: the tensors are its entries and the structure around
them (dicts, lists, numbers, strings, objects...) is JSON kept in the header's
``__metadata__`` under :data:`STRUCTURE_KEY`. Any safetensors reader sees the tensors (named
by their path in the object, e.g. ``model/fc.weight``); :func:`load` rebuilds the whole
object. No pickle bytes anywhere.

Structure JSON: None, bools, ints, strings and finite floats are themselves; lists are lists;
every other value is a one-key object tagging its kind: ``{"$tuple": [...]}``,
``{"$dict": [[key, value], ...]}`` (keys of any kind, their order kept), ``{"$odict": ...}``
(with ``"metadata"``, the ``_metadata`` attribute of a ``state_dict``, where it has one),
``{"$set": [...]}``, ``{"$frozenset": [...]}``, ``{"$float": "nan"}``, ``{"$bytes": base64}``,
``{"$dtype": "float32"}``, ``{"$device": "cuda:0"}``, ``{"$size": [2, 3]}``, ``{"$np": entry}``
(NumPy array or scalar) and ``{"$tensor": entry, "device": "cuda:0", "requires_grad": false}``.
An instance of a Tensor subclass (``nn.Parameter``, ``nn.Buffer``, the uninitialized tensors
of lazy modules, your own) adds ``"class": "module:qualname"`` and, when its ``__dict__``
holds anything, ``"state"`` (structure JSON of that dict), as torch pickles a Parameter:
:func:`load` rebuilds the class when it is allowed (see ``weights_only``), without calling it.
A plain tensor with attributes set on it adds that ``"state"`` alone, as torch keeps them.

Any other object (an ``nn.Module``, an optimizer, your classes) is stored as pickle sees it,
from its ``__reduce_ex__``: ``{"$object": "module:qualname", "args": [...], "kwargs": {...},
"state": ..., "items": [...], "pairs": [[k, v], ...], "id": n}`` for an instance made with
``cls.__new__(cls, *args, **kwargs)`` (pickle's NEWOBJ, the common case; ``state`` goes to
``__setstate__`` or ``__dict__``/``__slots__``, ``items`` are appended, ``pairs`` set), or
``{"$reduce": "module:qualname", ...}`` when a function makes it; classes and functions
themselves are ``{"$global": "module:qualname"}``. An object met again is ``{"$ref": n}``, so
shared objects and cycles through objects load as they were (a list or dict containing itself
is refused). :func:`load` first finds every class and function named, so a refusal names them
all and builds nothing.

Complex tensors: complex64 is safetensors' ``C64``. safetensors has no complex128 code, so a
complex128 tensor (or NumPy array) is stored as its float64 ``(real, imag)`` pairs, an ``F64``
entry with a trailing dimension of 2 (``view_as_real``), and its node says so with
``"complex": "complex128"``; :func:`load` views the pairs as complex128 again, bit for bit. A
plain ``.safetensors`` file has no structure to say so: it takes complex64 but refuses
complex128 before anything is written.
"""

from __future__ import annotations

import base64
import collections
import copyreg
import json
import math
import os
import sys
import types

import ml_dtypes
import numpy as np

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "flambeau.structure"
FORMAT_VERSION = "1"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = b"\x80"
_COMPRESSED = ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc")

# safetensors dtype codes NumPy can hold; safetensors.numpy has no BF16, ml_dtypes does
_SAFETENSORS_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_, "C64": np.complex64, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
    "F8_E4M3": ml_dtypes.float8_e4m3fn, "F8_E5M2": ml_dtypes.float8_e5m2,
    "F8_E4M3FNUZ": ml_dtypes.float8_e4m3fnuz, "F8_E5M2FNUZ": ml_dtypes.float8_e5m2fnuz,
    "F8_E8M0": ml_dtypes.float8_e8m0fnu,
}
#: the node key marking an entry of float64 (real, imag) pairs that loads as complex128
_COMPLEX_KEY = "complex"


class CheckpointError(RuntimeError):
    """A file :func:`load` can't read: truncated, corrupt, foreign or unsafe."""


# ------------------------------------------------------------------ encoding


class _Encoder:
    """Turns an object into structure JSON plus a flat dict of arrays for safetensors."""

    def __init__(self):
        self.arrays = {}  # entry name -> contiguous host array
        self.seen = {}  # id(tensor) -> (tensor, node), so shared tensors load as one object
        self.active = set()  # ids of containers being encoded, to catch cycles
        self.objects = {}  # id(object) -> (object, its node's "id"), for "$ref"

    def entry(self, path, array):
        name = path or "root"
        if name in self.arrays:
            n = 1
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        self.arrays[name] = _contiguous(array)
        return name

    def node(self, tag, path, array, **extra):
        """``{tag: entry, ...extra}`` for ``array``; a complex128 array is stored as its
        float64 (real, imag) pairs and marked (safetensors has no complex128 code)."""
        if array.dtype == np.complex128:
            array = np.ascontiguousarray(array).reshape(-1).view(np.float64).reshape(
                array.shape + (2,))
            extra[_COMPLEX_KEY] = "complex128"
        return {tag: self.entry(path, array), **extra}

    def encode(self, obj, path):
        from flambeau._device import device
        from flambeau._dtype import dtype
        from flambeau._tensor import Size, Tensor

        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, Tensor):
            if id(obj) in self.active:  # a subclass's __dict__ holding the tensor itself
                raise ValueError(f"save: the object contains a reference cycle at {_show(path)}")
            hit = self.seen.get(id(obj))
            if hit is not None:
                return hit[1]
            if obj.is_sparse:  # its indices and values, two tensors
                node = {"$sparse_coo": [self.encode(obj._indices(), f"{path}/indices"),
                                        self.encode(obj._values(), f"{path}/values")],
                        "size": list(obj.shape), "coalesced": obj.is_coalesced(),
                        "requires_grad": obj._requires_grad}
                return self.sparse_node(obj, node, path)
            if obj.layout._name in _COMPRESSED:  # its compressed, plain indices and values
                d = obj._data
                names = [f"{path}/compressed", f"{path}/plain", f"{path}/values"]
                parts = [Tensor._make(a, obj._device) for a in (d.compressed, d.plain, d.values)]
                node = {"$sparse_compressed": [self.encode(t, n) for t, n in zip(parts, names)],
                        "size": list(obj.shape), "layout": d.layout._name,
                        "requires_grad": obj._requires_grad}
                return self.sparse_node(obj, node, path)
            node = self.node("$tensor", path, obj._host(), device=str(obj._device),
                             requires_grad=obj._requires_grad)
            self.seen[id(obj)] = (obj, node)
            if type(obj) is not Tensor or obj.__dict__:  # a plain tensor's attributes too
                self.tensor_class(obj, node, path)
            return node
        if isinstance(obj, (np.ndarray, np.generic)):
            return self.node("$np", path, np.asarray(obj), scalar=isinstance(obj, np.generic))
        if isinstance(obj, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, device):
            return {"$device": str(obj)}
        if isinstance(obj, Size):
            return {"$size": list(obj)}
        if type(obj) in (set, frozenset):
            sub = (path + "/") if path else ""
            return {f"${type(obj).__name__}": [self.encode(v, f"{sub}{i}")
                                               for i, v in enumerate(obj)]}
        if type(obj) in (dict, collections.OrderedDict, list, tuple):
            if id(obj) in self.active:
                raise ValueError(f"save: the object contains a reference cycle at {_show(path)}")
            self.active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self.active.discard(id(obj))
        return self.reduced(obj, path)

    def reduced(self, obj, path):
        """Any other object, as pickle sees it: a class or function by its name, an instance
        by what its ``__reduce_ex__`` returns (the class, or a function to call, its
        arguments, the state for ``__setstate__`` or ``__dict__``, items to append or set).
        An object met again is a ``{"$ref": id}`` to the first, so sharing and cycles through
        objects load as they were."""
        hit = self.objects.get(id(obj))
        if hit is not None:
            return {"$ref": hit[1]}
        if id(obj) in self.active:  # its own constructor arguments hold it
            raise ValueError(f"save: the object contains a reference cycle at {_show(path)}")
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"$global": _global_name(obj, path)}
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception as exc:  # pickle's refusal (TypeError) or the class's own
            raise TypeError(f"save: can't save an object of type {type(obj).__name__} at "
                            f"{_show(path)}: {exc}") from None
        if isinstance(reduced, str):  # a module-level singleton, saved by name as pickle does
            return {"$global": _global_name(obj, path, reduced)}
        func, args, state, items, pairs = (tuple(reduced) + (None,) * 5)[:5]
        kwargs = {}
        if func is copyreg.__newobj__:
            node = {"$object": _global_name(args[0], path)}
            args = args[1:]
        elif func is copyreg.__newobj_ex__:
            node = {"$object": _global_name(args[0], path)}
            args, kwargs = args[1], args[2]
        else:
            node = {"$reduce": _global_name(func, path)}
        self.active.add(id(obj))
        try:
            if args:
                node["args"] = self.encode(list(args), path)
            if kwargs:
                node["kwargs"] = self.encode(dict(kwargs), path)
        finally:
            self.active.discard(id(obj))
        node["id"] = len(self.objects)
        self.objects[id(obj)] = (obj, node["id"])  # keeps obj alive: ids stay unique
        if state is not None:
            node["state"] = self.encode(state, path)
        if items is not None:
            node["items"] = self.encode(list(items), path)
        if pairs is not None:
            node["pairs"] = self.encode([list(kv) for kv in pairs], path)
        return node

    def sparse_node(self, obj, node, path):
        """``node`` of the sparse tensor ``obj``, remembered, and marked with its class
        when it is a subclass's (a sparse ``nn.Parameter``)."""
        self.seen[id(obj)] = (obj, node)
        if type(obj) is not obj._plain or obj.__dict__:
            self.tensor_class(obj, node, path)
        return node

    def tensor_class(self, obj, node, path):
        """Mark ``node`` with the class of a Tensor subclass (a plain tensor's node names
        none) and its ``__dict__``."""
        from flambeau._tensor import Tensor

        cls = type(obj)
        if cls is not getattr(obj, "_plain", Tensor):
            node["class"] = f"{cls.__module__}:{cls.__qualname__}"
        state = getattr(obj, "__dict__", None)
        if state:
            self.active.add(id(obj))
            try:
                node["state"] = self._container(dict(state), path)
            finally:
                self.active.discard(id(obj))

    def _container(self, obj, path):
        sub = (path + "/") if path else ""
        if isinstance(obj, dict):
            items = []
            for i, (k, v) in enumerate(obj.items()):
                name = k if k is None or isinstance(k, (str, int, float)) else i
                items.append([self.encode(k, path), self.encode(v, f"{sub}{name}")])
            if not isinstance(obj, collections.OrderedDict):
                return {"$dict": items}
            node = {"$odict": items}
            metadata = getattr(obj, "_metadata", None)
            if metadata is not None:  # a state_dict's module versions, kept as torch.save does
                node["metadata"] = self.encode(metadata, f"{sub}_metadata")
            return node
        values = [self.encode(v, f"{sub}{i}") for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"$tuple": values}


def _global_name(obj, path, name=None):
    """``"module:qualname"`` of a class or function, checked to find ``obj`` again, as
    pickle saves them by reference."""
    module = getattr(obj, "__module__", None)
    qualname = name or getattr(obj, "__qualname__", None)
    found = sys.modules.get(module) if isinstance(module, str) else None
    for part in (qualname or "<none>").split("."):
        found = getattr(found, part, None)
    if found is not obj:
        raise TypeError(
            f"save: can't save {obj!r} at {_show(path)}: it is not found as "
            f"{module}.{qualname} (a lambda, or a class or function defined inside a "
            "function); flambeau.save, like pickle, stores classes and functions by the "
            "name they are imported by")
    return f"{module}:{qualname}"


def _show(path):
    return "the top level" if not path else repr(path)


def _plain_arrays(obj):
    """The arrays of a flat ``{name: Tensor}`` dict, for a plain ``.safetensors`` file."""
    from flambeau._tensor import Tensor

    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, Tensor)
                                            for k, v in obj.items()):
        raise TypeError(
            "save: a .safetensors file holds a flat dict of name -> Tensor (a state_dict); "
            "save other objects to another suffix (such as .pt or .ckpt)"
        )
    for k, v in obj.items():
        if v.dtype.is_complex and v.dtype.itemsize == 16:
            raise TypeError(
                f"save: tensor {k!r} is complex128, which safetensors has no dtype for, so a "
                ".safetensors file can't hold it; save to another suffix (such as .pt: "
                "flambeau's checkpoint stores complex128 exactly), or store "
                "flambeau.view_as_real(t) or t.to(flambeau.complex64)"
            )
    return {k: _contiguous(v._host()) for k, v in obj.items()}


def _contiguous(array):
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return array if array.flags.c_contiguous else array.copy(order="C")


# ------------------------------------------------------------------ save


def save(obj, f) -> None:
    r"""Save tensors, the containers holding them, or whole objects to a file, safely and
    atomically.

    Saving a ``state_dict`` is the recommended way (it loads with the default
    ``weights_only=True``). A whole object, such as ``flambeau.save(model, "m.pt")``, is
    stored as pickle would store it (``torch.save`` pickles it), and :func:`load` then
    rebuilds it only with ``weights_only=False`` or once its classes are allowed with
    :func:`flambeau.serialization.add_safe_globals`.

    Parameters
    ----------
    obj : object
        Tensors, dicts (order kept), lists, tuples, sets, numbers, strings, bytes, bools,
        None, dtypes, devices and NumPy arrays, nested: state_dicts, optimizer and scheduler
        states, whole training checkpoints with ``flambeau.get_rng_state()``. Any other
        object pickle can store: ``nn.Module``\ s, optimizers, instances of your classes
        (through ``__reduce_ex__``: their class by name and their ``__getstate__`` or
        ``__dict__``), classes and functions by their importable name. A tensor or object
        that appears twice is stored once and loads as one object.
    f : str, os.PathLike or binary file
        Where to write. A path is written atomically: into a temporary file in the same folder
        (``.<name>.tmp``), flushed and fsynced, then renamed over ``f``, so a crash at any
        moment leaves the previous file whole (and at most the temporary file behind, which
        the next save replaces). A path ending in ``.safetensors`` gets a plain safetensors file
        (``obj`` must be a flat dict of name -> Tensor) that PyTorch, NumPy and Hugging Face
        read; other paths get a flambeau checkpoint, also a valid safetensors file.

    Examples
    --------
    >>> import flambeau, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
    >>> flambeau.save({"w": flambeau.ones(2), "step": 3, "name": "run1"}, path)
    >>> flambeau.load(path)
    {'w': tensor([1., 1.]), 'step': 3, 'name': 'run1'}

    A whole object loads with ``weights_only=False`` (only for files you trust):

    >>> import collections
    >>> flambeau.save(collections.Counter("aab"), path)
    >>> flambeau.load(path, weights_only=False)
    Counter({'a': 2, 'b': 1})
    """
    from safetensors import numpy as st_numpy

    path = os.fspath(f) if isinstance(f, (str, os.PathLike)) else None
    if path is not None and path.endswith(".safetensors"):
        arrays, metadata = _plain_arrays(obj), {"format": "pt"}
    else:
        enc = _Encoder()
        structure = enc.encode(obj, "")
        arrays = enc.arrays
        metadata = {"format": "pt", "flambeau.version": FORMAT_VERSION,
                    STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"),
                                              allow_nan=False)}
    if path is None and not hasattr(f, "write"):
        raise TypeError(f"save: expected a path or a binary file object, got "
                        f"{type(f).__name__}")
    # serialized in memory, not with safetensors' save_file: that one writes through a file of
    # its own, and the temporary file, its flush and fsync must be ours
    data = st_numpy.save(arrays, metadata=metadata)
    if path is None:
        f.write(data)
        if hasattr(f, "flush"):
            f.flush()
        return
    _atomic_write(path, data)


def _atomic_write(path, data):
    folder, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{base}.tmp")
    try:
        # O_TRUNC reuses a temporary file left by a save that was killed
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable; folders can't be opened on Windows
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ placement


def _placer(map_location, name):
    """A function ``(host array, saved location, requires_grad) -> Tensor`` for ``load``."""
    from flambeau._device import canonical, device
    from flambeau._tensor import Tensor

    cpu = canonical("cpu")
    cpu.backend  # binds the device's array namespace, which Tensor._make needs
    if isinstance(map_location, dict):
        table = {str(device(k)): str(device(v)) for k, v in map_location.items()}
    elif map_location is not None and not callable(map_location):
        map_location = str(device(map_location))

    def place(array, saved, requires_grad):
        host = Tensor._make(array, cpu)
        out = None
        if map_location is None:
            target = saved
        elif isinstance(map_location, str):
            target = map_location
        elif isinstance(map_location, dict):
            target = table.get(saved, saved)
        else:
            out, target = map_location(host, saved), saved
        if out is None:
            out = host if target == "cpu" else host.to(_device_for(target, saved, name))
        elif not isinstance(out, Tensor):
            raise TypeError(f"load: map_location returned an object of type "
                            f"{type(out).__name__}, expected a Tensor or None")
        if requires_grad and (out.dtype.is_floating_point or out.dtype.is_complex):
            out.requires_grad_()
        return out

    return place


def _device_for(target, saved, name):
    from flambeau._device import canonical

    try:
        dev = canonical(target)
        dev.backend
    except (RuntimeError, ValueError) as exc:
        where = "restored there" if target == saved else f"placed on {target}"
        raise CheckpointError(
            f"load: {name}: a tensor saved on {saved} can't be {where}: {exc}. "
            "Pass map_location='cpu' to load it on the CPU"
        ) from None
    return dev


# ------------------------------------------------------------------ load


def load(f, map_location=None, *, weights_only=None, mmap=None):
    """Load what :func:`save` wrote, a plain safetensors file, or a PyTorch ``.pt``/``.pth``.

    With ``weights_only=True`` (the default) loading never runs code from the file: the
    format is detected from the bytes (not the suffix); PyTorch files are read through an
    unpickler that only rebuilds tensors and containers and refuses any other global before
    it is called; a flambeau checkpoint or PyTorch file naming classes or functions outside
    the allow-list is refused with an error naming them all (for a flambeau checkpoint,
    before anything is built).

    A file that ``torch.save`` wrote from whole objects (``torch.save(model, path)``, an
    optimizer, a checkpoint dict mixing them with state dicts) loads with
    ``weights_only=False`` as flambeau objects: torch's classes and functions become
    flambeau's of the same public name (``torch.nn.modules.linear.Linear`` is
    ``flambeau.nn.Linear``, likewise ``torch.optim``, ``torch.nn.functional``, ``torch.Size``,
    dtypes and devices), a torch module's pickled state (its hooks, flags and buffers) is
    translated to flambeau's layout, and your own classes, pickled by name from ``__main__``
    or your modules, are the ones your program defines under that name now (its
    flambeau-based port of the model), as pickle finds them. The loaded model computes what
    torch's did. Before anything is built, a torch class or function flambeau has no
    counterpart for is refused with an ``UnpicklingError`` naming every such one.

    State dicts keep their ``_metadata`` (each module's ``version``, which
    ``load_state_dict`` reads to upgrade older state dicts) through :func:`save` and from
    PyTorch files, as through ``torch.save`` and ``torch.load``.

    Tensors keep their ``requires_grad`` (as leaves), and an ``nn.Parameter`` loads as a
    Parameter, from flambeau and PyTorch files alike, as ``torch.load`` gives them back.
    Other Tensor subclasses follow ``weights_only``. flambeau-core does not import
    flambeau.nn: a program that has not imported it gets Parameters as plain tensors.

    Parameters
    ----------
    f : str, os.PathLike or binary file
        The file.
    map_location : str, flambeau.device, dict or callable, optional
        Where tensors go: a device for all of them; a dict mapping saved locations to new ones
        (``{"cuda:0": "cpu"}``); or ``fn(cpu_tensor, saved_location)`` returning a tensor (or
        None for the default). By default tensors return to the device they were saved from,
        and an error suggests ``map_location="cpu"`` when that device is not available.
    weights_only : bool, optional
        True (the default, as in PyTorch; None means True): tensors, ``nn.Parameter``,
        ``nn.Buffer``, containers, numbers and strings, and the classes and functions allowed
        with :func:`flambeau.serialization.add_safe_globals`; any other class is refused
        (``torch.load`` refuses them too: a whole saved ``nn.Module``, the
        ``UninitializedParameter`` of a lazy module's state_dict). False, for a flambeau
        checkpoint: any object :func:`save` stored (a whole model, an optimizer), its classes
        and functions imported by name from their modules, as pickle and ``torch.load`` do.
        **This runs code**: the imported modules, and the ``__new__``, ``__setstate__`` or
        factory functions of the named classes, so pass it only for files from a trusted
        source. For a PyTorch file: any object, torch's classes as flambeau's (above), other
        classes and functions imported by name as pickle imports them (the same warning
        applies).
    mmap : bool, optional
        Accepted for PyTorch compatibility; the file is read into memory.

    Returns
    -------
    object
        The saved object; a flat ``{name: Tensor}`` dict for plain safetensors files.

    Raises
    ------
    CheckpointError
        (a RuntimeError) when the file is truncated, corrupt, of an unknown format, or holds a
        class or (in a pickle) a global outside the allow-list, or, with
        ``weights_only=False``, a torch class or function flambeau has no counterpart for
        (these two also a ``pickle.UnpicklingError``), or a class that can't be imported.
        Nothing is returned half-loaded.

    Examples
    --------
    >>> import flambeau, io
    >>> buf = io.BytesIO()
    >>> flambeau.save({"w": flambeau.arange(3), "lr": 0.1, 7: (None, b"x")}, buf)
    >>> _ = buf.seek(0)
    >>> flambeau.load(buf, map_location="cpu")
    {'w': tensor([0, 1, 2]), 'lr': 0.1, 7: (None, b'x')}

    A whole object (a model, or here a Fraction) needs ``weights_only=False`` (a trusted
    file) or its classes allowed:

    >>> from fractions import Fraction
    >>> buf = io.BytesIO()
    >>> flambeau.save({"ratio": Fraction(1, 3)}, buf)
    >>> _ = buf.seek(0)
    >>> flambeau.load(buf)
    Traceback (most recent call last):
        ...
    flambeau._torch_pickle.UnsafePickleError: load: '<BytesIO>': refused to load the global ...
    >>> _ = buf.seek(0)
    >>> flambeau.load(buf, weights_only=False)
    {'ratio': Fraction(1, 3)}
    """
    del mmap
    weights_only = weights_only is None or bool(weights_only)
    name, data = _read_all(f)
    place = _placer(map_location, name)
    # safetensors first: its 8-byte header length may well start with the pickle opcode 0x80
    if _looks_like_safetensors(data):
        return _load_safetensors(data, name, place, weights_only)
    if data[:4] == _ZIP_MAGIC or data[:1] == _PICKLE_PROTO:
        from flambeau import _torch_pickle

        return _torch_pickle.load_torch(data, name, place, weights_only)
    what = "an empty file" if not data else f"starts with {data[:8]!r}"
    raise CheckpointError(f"load: {name}: not a flambeau checkpoint, a safetensors file or a "
                          f"PyTorch file ({what})")


def _read_all(f):
    if isinstance(f, (str, os.PathLike)):
        name = repr(os.fspath(f))
        with open(f, "rb") as fh:
            return name, fh.read()
    if not hasattr(f, "read"):
        raise TypeError(f"load: expected a path or a binary file object, got {type(f).__name__}")
    name = repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    data = f.read()
    if not isinstance(data, bytes):
        raise TypeError(f"load: {name} must be opened in binary mode ('rb')")
    return name, data


def _looks_like_safetensors(data):
    if len(data) < 10:
        return False
    n = int.from_bytes(data[:8], "little")
    return 2 <= n and data[8:9] == b"{"


def _load_safetensors(data, name, place, weights_only=True):
    from safetensors import SafetensorError, deserialize

    n = int.from_bytes(data[:8], "little")
    if 8 + n > len(data):
        raise CheckpointError(f"load: {name}: truncated safetensors file (the header says "
                              f"{n} bytes, the file has {len(data) - 8} after the length)")
    try:
        header = json.loads(data[8:8 + n])
        entries = deserialize(data)
    except (ValueError, SafetensorError) as exc:
        raise CheckpointError(f"load: {name}: corrupt safetensors file: {exc}") from None
    arrays = {}
    for key, info in entries:
        np_dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        if np_dtype is None:
            raise CheckpointError(f"load: {name}: tensor {key!r} has dtype {info['dtype']}, "
                                  "which flambeau does not support")
        arrays[key] = np.frombuffer(info["data"], dtype=np_dtype).reshape(info["shape"])
    metadata = header.get("__metadata__") or {}
    if STRUCTURE_KEY not in metadata:
        return {key: place(a, "cpu", False) for key, a in arrays.items()}
    try:
        structure = json.loads(metadata[STRUCTURE_KEY])
    except ValueError as exc:
        raise CheckpointError(f"load: {name}: corrupt checkpoint structure: {exc}") from None
    decoder = _Decoder(arrays, place, name, weights_only)
    decoder.resolve(structure)
    return decoder.decode(structure)


def as_class(t, cls, state):
    """``t`` as an instance of the Tensor subclass ``cls`` (None: ``t`` itself), the same
    storage and a leaf, with ``state`` as its ``__dict__``. No constructor runs: as pickle's
    rebuild of an object (and torch's of a tensor subclass), the class is not called."""
    from flambeau._sparse import layout_class

    out = t if cls is None else layout_class(cls, t)._make(t._data, t._device, t._requires_grad)
    if state:
        out.__dict__.update(state)
    return out


def _set_state(obj, state):
    """Give a rebuilt object its state, as pickle does: ``__setstate__`` if the class has
    one, else ``__dict__`` and ``__slots__`` values."""
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        obj.__dict__.update(state)
    for k, v in (slots or {}).items():
        setattr(obj, k, v)


class _Decoder:
    def __init__(self, arrays, place, name, weights_only=True):
        self.arrays, self.place, self.name = arrays, place, name
        self.weights_only = weights_only
        self.tensors = {}  # entry -> Tensor, so a tensor saved twice loads as one object
        self.globals = {}  # "module:qualname" -> the class or function
        self.objects = {}  # node "id" -> object, for "$ref"

    def resolve(self, structure):
        """Find every class and function the structure names, before anything is built:
        with ``weights_only`` only allowed ones (one error names all the others); without,
        importing their modules."""
        from flambeau import serialization
        from flambeau._torch_pickle import UnsafePickleError

        names, todo = {}, [structure]  # (a dict: each name once, in order)
        while todo:  # iterative: deep structures must not hit the recursion limit
            node = todo.pop()
            if isinstance(node, list):
                todo.extend(reversed(node))
            elif isinstance(node, dict) and node:
                tag = next(iter(node))
                if tag in ("$object", "$reduce", "$global"):
                    value = node[tag]
                    if not isinstance(value, str) or value.count(":") != 1:
                        self.bad(node)
                    names[value] = None
                todo.extend(reversed(list(node.values())))
        found = {n: serialization.find(*n.split(":")) for n in names}
        refused = [n.replace(":", ".") for n, obj in found.items() if obj is None]
        if refused and self.weights_only:
            raise UnsafePickleError(f"load: {self.name}: {serialization.refusal_all(refused)}")
        for n, obj in found.items():
            try:
                self.globals[n] = obj if obj is not None else serialization.import_global(n)
            except (ImportError, AttributeError) as exc:
                raise CheckpointError(f"load: {self.name}: "
                                      + serialization.not_importable(n.replace(":", "."), exc)
                                      ) from None

    def array(self, entry):
        try:
            return self.arrays[entry]
        except (KeyError, TypeError):
            raise CheckpointError(f"load: {self.name}: the structure refers to a missing "
                                  f"tensor {entry!r}") from None

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or not node:
            return self.bad(node)
        tag = next(iter(node))
        value = node[tag]
        if tag == "$tensor":
            return self.tensor(node)
        if tag == "$sparse_coo":
            return self.sparse(node)
        if tag == "$sparse_compressed":
            return self.sparse_compressed(node)
        if tag in ("$dict", "$odict"):
            if not isinstance(value, list) or not all(isinstance(kv, list) and len(kv) == 2
                                                      for kv in value):
                return self.bad(node)
            out = dict() if tag == "$dict" else collections.OrderedDict()
            for k, v in value:
                key, v = self.decode(k), self.decode(v)
                try:
                    out[key] = v
                except TypeError as exc:  # an unhashable key
                    return self.bad(node, exc)
            if tag == "$odict" and "metadata" in node:
                out._metadata = self.decode(node["metadata"])
            return out
        if tag == "$tuple":
            if not isinstance(value, list):
                return self.bad(node)
            return tuple(self.decode(v) for v in value)
        if tag in ("$object", "$reduce"):
            return self.rebuild(tag, node)
        if tag == "$global":
            return self.globals[value]
        if tag == "$ref":
            if not isinstance(value, int) or value not in self.objects:
                return self.bad(node)
            return self.objects[value]
        if tag in ("$set", "$frozenset"):
            if not isinstance(value, list):
                return self.bad(node)
            try:
                return (set if tag == "$set" else frozenset)(self.decode(v) for v in value)
            except TypeError as exc:  # an unhashable element
                return self.bad(node, exc)
        try:
            return self.leaf(tag, value, node)
        except (KeyError, TypeError, ValueError) as exc:
            return self.bad(node, exc)

    def leaf(self, tag, value, node):
        if tag == "$float":
            return float(value)
        if tag == "$bytes":
            return base64.b64decode(value, validate=True)
        if tag == "$np":
            a = self.complex_array(node, value)
            return a[()] if node.get("scalar") else a
        if tag == "$dtype":
            from flambeau._dtype import to_dtype

            return to_dtype(value)
        if tag == "$device":
            from flambeau._device import device

            return device(value)
        if tag == "$size":
            from flambeau._tensor import Size

            return Size(int(v) for v in value)
        return self.bad(node)

    def tensor(self, node):
        entry = node["$tensor"]
        out = self.tensors.get(entry)
        if out is None:
            where, grad = node.get("device"), node.get("requires_grad")
            if not isinstance(where, str) or not isinstance(grad, bool):
                self.bad(node)
            # errors of map_location itself are not the file's fault: let them through
            out = self.place(self.complex_array(node, entry), where, grad)
            if "class" in node or "state" in node:
                out = self.tensor_class(node, out)
            self.tensors[entry] = out
        return out

    def sparse(self, node):
        """A sparse COO tensor from its indices' and values' tensor nodes."""
        from flambeau._sparse import from_parts

        coalesced = node.get("coalesced") is True
        return self.sparse_parts(node, "$sparse_coo", 2, True, lambda indices, values, size,
                                 grad: from_parts(indices, values, size, coalesced, grad))

    def sparse_compressed(self, node):
        """A sparse CSR or CSC matrix from its three tensor nodes."""
        from flambeau import _compat
        from flambeau._sparse_compressed import from_parts

        layout = node.get("layout")
        return self.sparse_parts(
            node, "$sparse_compressed", 3, layout in _COMPRESSED,
            lambda *parts: from_parts(*parts[:4], getattr(_compat, layout), parts[4]))

    def sparse_parts(self, node, tag, count, valid, make):
        """A sparse tensor of a node holding ``count`` tensor nodes, a size and more fields
        (checked: ``valid``): ``make(*tensors, size, requires_grad)``, made once per node."""
        parts, size = node[tag], node.get("size")
        if not (valid and isinstance(parts, list) and len(parts) == count
                and isinstance(size, list)
                and all(isinstance(p, dict) and isinstance(p.get("$tensor"), str)
                        for p in parts)):
            return self.bad(node)
        key = (tag, parts[0]["$tensor"])
        out = self.tensors.get(key)
        if out is None:
            tensors = [self.decode(p) for p in parts]
            try:
                out = make(*tensors, size, node.get("requires_grad") is True)
            except (RuntimeError, TypeError, ValueError) as exc:
                return self.bad(node, exc)
            if "class" in node or "state" in node:
                out = self.tensor_class(node, out)
            self.tensors[key] = out
        return out

    def tensor_class(self, node, t):
        """``t`` as the Tensor subclass the node names (none: ``t`` itself), if it may be
        rebuilt, with the node's attributes."""
        from flambeau import serialization
        from flambeau._tensor import Tensor
        from flambeau._torch_pickle import UnsafePickleError

        value, cls = node.get("class"), None
        if value is not None:
            if not isinstance(value, str) or value.count(":") != 1:
                return self.bad(node)
            try:
                cls = serialization.tensor_class(*value.split(":"), self.weights_only)
            except LookupError as exc:
                raise UnsafePickleError(f"load: {self.name}: {exc.args[0]}") from None
        state = self.decode(node["state"]) if "state" in node else {}
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            return self.bad(node)
        if cls is not None and not (isinstance(cls, type) and issubclass(cls, Tensor)):
            return self.bad(node)
        try:
            return as_class(t, cls, state)
        except AttributeError as exc:  # state for a class whose instances have no __dict__
            return self.bad(node, exc)

    def complex_array(self, node, entry):
        """The array of ``entry``; complex128 again if the node marks its float64 pairs."""
        a = self.array(entry)
        kind = node.get(_COMPLEX_KEY)
        if kind is None:
            return a
        if kind != "complex128" or a.dtype != np.float64 or a.ndim == 0 or a.shape[-1] != 2:
            self.bad(node)
        return np.ascontiguousarray(a).reshape(-1).view(np.complex128).reshape(a.shape[:-1])

    def rebuild(self, tag, node):
        """The object of an ``$object`` node (its class's ``__new__``, as pickle's NEWOBJ) or a
        ``$reduce`` node (the function called), then its state, items and pairs."""
        target = self.globals[node[tag]]
        args = self.decode(node.get("args", []))
        kwargs = self.decode(node.get("kwargs", {"$dict": []}))
        ident = node.get("id")
        if not isinstance(args, list) or not isinstance(kwargs, dict) or (
                tag == "$object" and not isinstance(target, type)) or not callable(target) \
                or not isinstance(ident, (int, type(None))):
            return self.bad(node)
        obj = target.__new__(target, *args, **kwargs) if tag == "$object" else target(*args)
        if ident is not None:
            self.objects[ident] = obj  # before the state, which may refer back to it
        if "state" in node:
            _set_state(obj, self.decode(node["state"]))
        items, pairs = self.decode(node.get("items", [])), self.decode(node.get("pairs", []))
        if not isinstance(items, list) or not isinstance(pairs, list):
            return self.bad(node)
        for item in items:
            obj.append(item)
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                return self.bad(node)
            obj[pair[0]] = pair[1]
        return obj

    def bad(self, node, exc=None):
        why = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        raise CheckpointError(f"load: {self.name}: corrupt checkpoint structure near "
                              f"{json.dumps(node)[:80]}{why}")

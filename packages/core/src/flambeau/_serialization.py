"""``flambeau.save`` / ``flambeau.load``: checkpoints that never run code when loaded.

A checkpoint is one safetensors file: the tensors are its entries and the structure around
them (dicts, lists, numbers, strings, ...) is JSON kept in the header's ``__metadata__`` under
:data:`STRUCTURE_KEY`. Any safetensors reader sees the tensors (named by their path in the
object, e.g. ``model/fc.weight``); :func:`load` rebuilds the whole object. No pickle anywhere.

Structure JSON: None, bools, ints, strings and finite floats are themselves; lists are lists;
every other value is a one-key object tagging its kind: ``{"$tuple": [...]}``,
``{"$dict": [[key, value], ...]}`` (keys keep their type and order), ``{"$odict": ...}``,
``{"$float": "nan"}``, ``{"$bytes": base64}``, ``{"$dtype": "float32"}``,
``{"$device": "cuda:0"}``, ``{"$size": [2, 3]}``, ``{"$np": entry}`` (NumPy array or scalar)
and ``{"$tensor": entry, "device": "cuda:0", "requires_grad": false}``. An instance of a Tensor
subclass (``nn.Parameter``, ``nn.Buffer``, the uninitialized tensors of lazy modules, your
own) adds ``"class": "module:qualname"`` and, when its ``__dict__`` holds anything,
``"state"`` (structure JSON of that dict), as torch pickles a Parameter: :func:`load`
rebuilds the class when it is allowed (see ``weights_only``), without calling it.

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
import json
import math
import os

import ml_dtypes
import numpy as np

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "flambeau.structure"
FORMAT_VERSION = "1"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = b"\x80"

# safetensors dtype codes NumPy can hold; safetensors.numpy has no BF16, ml_dtypes does
_SAFETENSORS_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_, "C64": np.complex64,
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
            node = self.node("$tensor", path, obj._host(), device=str(obj._device),
                             requires_grad=obj._requires_grad)
            self.seen[id(obj)] = (obj, node)
            if type(obj) is not Tensor:
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
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.active:
                raise ValueError(f"save: the object contains a reference cycle at {_show(path)}")
            self.active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self.active.discard(id(obj))
        if _plain_object(obj):
            if id(obj) in self.active:
                raise ValueError(f"save: the object contains a reference cycle at {_show(path)}")
            self.active.add(id(obj))
            try:
                return {"$object": f"{type(obj).__module__}:{type(obj).__qualname__}",
                        "state": self._container(dict(vars(obj)), path)}
            finally:
                self.active.discard(id(obj))
        raise TypeError(
            f"save: can't save an object of type {type(obj).__name__} at {_show(path)}; "
            "flambeau.save stores tensors, dicts, lists, tuples, numbers, strings, bytes, "
            "bools and None"
        )

    def tensor_class(self, obj, node, path):
        """Mark ``node`` with the class of a Tensor subclass and its ``__dict__``."""
        cls = type(obj)
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
            for k, v in obj.items():
                if k is not None and not isinstance(k, (str, int, float)):
                    raise TypeError(f"save: dict keys must be str, int, float or None, got a key "
                                    f"of type {type(k).__name__} at {_show(path)}")
                items.append([self.encode(k, path), self.encode(v, f"{sub}{k}")])
            return {"$odict" if isinstance(obj, collections.OrderedDict) else "$dict": items}
        values = [self.encode(v, f"{sub}{i}") for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"$tuple": values}


def _plain_object(obj):
    """An instance of a plain class: saved as its class name and ``__dict__`` (as pickle
    would), and loaded only when the class is allowed (``flambeau.serialization``)."""
    cls = type(obj)
    return (isinstance(getattr(obj, "__dict__", None), dict) and not isinstance(obj, type)
            and cls.__module__ not in ("builtins", "types")
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__setstate__", None) is None
            and getattr(cls, "__getstate__", object.__getstate__) is object.__getstate__
            and all(isinstance(k, str) for k in vars(obj)))


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
    """Save tensors and the containers holding them to a file, safely and atomically.

    Parameters
    ----------
    obj : object
        Tensors, dicts (str/int keys, order kept), lists, tuples, numbers, strings, bytes,
        bools, None, dtypes, devices and NumPy arrays, nested: state_dicts, optimizer and
        scheduler states, whole training checkpoints with ``flambeau.get_rng_state()``.
        A tensor that appears twice is stored once and loads as one object.
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

    Loading never runs code from the file: the format is detected from the bytes (not the
    suffix); PyTorch files are read through an unpickler that only rebuilds tensors and
    containers and refuses any other global before it is called.

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
        ``nn.Buffer``, containers and the classes allowed with
        :func:`flambeau.serialization.add_safe_globals`; any other class is refused
        (``torch.load`` refuses them too, the ``UninitializedParameter`` of a lazy module's
        state_dict included). False: also the Tensor subclasses this program defines, such as
        those uninitialized parameters. Either way no code from the file runs, and no module
        it names is imported.
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
        class or (in a pickle) a global outside the allow-list (also a
        ``pickle.UnpicklingError``). Nothing is returned half-loaded.

    Examples
    --------
    >>> import flambeau, io
    >>> buf = io.BytesIO()
    >>> flambeau.save({"w": flambeau.arange(3), "lr": 0.1, 7: (None, b"x")}, buf)
    >>> _ = buf.seek(0)
    >>> flambeau.load(buf, map_location="cpu")
    {'w': tensor([0, 1, 2]), 'lr': 0.1, 7: (None, b'x')}
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
    return _Decoder(arrays, place, name, weights_only).decode(structure)


def as_class(t, cls, state):
    """``t`` as an instance of the Tensor subclass ``cls`` (None: ``t`` itself), the same
    storage and a leaf, with ``state`` as its ``__dict__``. No constructor runs: as pickle's
    rebuild of an object (and torch's of a tensor subclass), the class is not called."""
    if cls is None:
        return t
    out = cls._make(t._data, t._device, t._requires_grad)
    if state:
        out.__dict__.update(state)
    return out


class _Decoder:
    def __init__(self, arrays, place, name, weights_only=True):
        self.arrays, self.place, self.name = arrays, place, name
        self.weights_only = weights_only
        self.tensors = {}  # entry -> Tensor, so a tensor saved twice loads as one object

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
        if tag in ("$dict", "$odict"):
            if not isinstance(value, list) or not all(isinstance(kv, list) and len(kv) == 2
                                                      for kv in value):
                return self.bad(node)
            out = dict() if tag == "$dict" else collections.OrderedDict()
            for k, v in value:
                key = self.decode(k)
                if key is not None and not isinstance(key, (str, int, float)):
                    return self.bad(node)
                out[key] = self.decode(v)
            return out
        if tag == "$tuple":
            if not isinstance(value, list):
                return self.bad(node)
            return tuple(self.decode(v) for v in value)
        if tag == "$object":
            return self.plain_object(node)
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
            if "class" in node:
                out = self.tensor_class(node, out)
            self.tensors[entry] = out
        return out

    def tensor_class(self, node, t):
        """``t`` as the Tensor subclass the node names, if it may be rebuilt."""
        from flambeau import serialization
        from flambeau._tensor import Tensor
        from flambeau._torch_pickle import UnsafePickleError

        value = node["class"]
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

    def plain_object(self, node):
        from flambeau import serialization
        from flambeau._torch_pickle import UnsafePickleError

        value = node["$object"]
        if not isinstance(value, str) or value.count(":") != 1:
            return self.bad(node)
        module, qualname = value.split(":")
        cls = serialization.find(module, qualname)
        if cls is None:
            raise UnsafePickleError(f"load: {self.name}: "
                                    f"{serialization.refusal(module, qualname)}")
        state = self.decode(node.get("state"))
        if not isinstance(cls, type) or not isinstance(state, dict):
            return self.bad(node)
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        return obj

    def bad(self, node, exc=None):
        why = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        raise CheckpointError(f"load: {self.name}: corrupt checkpoint structure near "
                              f"{json.dumps(node)[:80]}{why}")

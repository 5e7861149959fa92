"""Batches through shared memory: a worker packs a batch into one of its segments and sends
only a small description; the main process copies the bytes out in one ``memcpy``.

Each worker owns ``slots`` reusable segments named ``<prefix>w<worker>s<serial>``. The main
process lets at most ``slots`` batches of a worker be in flight and copies a batch out as soon
as it arrives, so slot ``task % slots`` is always free when the worker writes it. Every name
starts with the iterator's prefix, so the main process can unlink whatever a killed worker
left behind by listing ``/dev/shm``.
"""

from __future__ import annotations

import os
import secrets
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from flambeau import Tensor
from flambeau.data import _collate

__all__ = ["new_prefix", "WorkerSlots", "MainReader", "unlink_prefix"]

_ALIGN = 64
_SHM_DIR = "/dev/shm"


def new_prefix() -> str:
    """A short unique name prefix (macOS allows 31 characters per name)."""
    return f"fd{secrets.token_hex(5)}"


def _aligned(n):
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class _Leaf:
    """Where one array of a batch lies in the segment. ``tensor``: False for a NumPy array,
    True for a Tensor, ``(class, its __dict__)`` for a Tensor subclass (the vision
    tv_tensors: an Image or BoundingBoxes arrives as one, with its format and canvas size) or a
    Tensor with attributes set on it."""

    __slots__ = ("offset", "shape", "dtype", "tensor")

    def __init__(self, offset, shape, dtype, tensor):
        self.offset, self.shape, self.dtype, self.tensor = offset, shape, dtype, tensor

    def __reduce__(self):
        return (_Leaf, (self.offset, self.shape, self.dtype, self.tensor))


def _tensor_kind(obj):
    """``_Leaf.tensor`` for ``obj``; a plain Tensor carries its attributes too (they pickle
    with it since 157fc0a, so the shared-memory path must not drop them)."""
    if not isinstance(obj, Tensor):
        return False
    state = obj.__dict__
    if type(obj) is Tensor and not state:
        return True
    return type(obj), dict(state)


def _packable(array):
    return isinstance(array, np.ndarray) and array.dtype.kind not in "OV"


def _map_structure(obj, leaf_fn):
    """Rebuild nested dicts / lists / tuples / namedtuples with ``leaf_fn`` applied to leaves."""
    kind = type(obj)
    if kind is list:
        return [_map_structure(o, leaf_fn) for o in obj]
    if kind is tuple:
        return tuple(_map_structure(o, leaf_fn) for o in obj)
    if kind is dict:
        return {k: _map_structure(v, leaf_fn) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return kind(*(_map_structure(o, leaf_fn) for o in obj))
    return leaf_fn(obj)


class _Segment:
    __slots__ = ("shm", "base", "address", "size")

    def __init__(self, name, size):
        self.shm = shared_memory.SharedMemory(name=name, create=True, size=size)
        self.base = np.ndarray((size,), np.uint8, buffer=self.shm.buf)
        self.address = self.base.ctypes.data
        self.size = size

    def release(self, unlink):
        """Drop our view; the mapping closes once no collated array still points into it."""
        self.base = None
        if unlink:
            self.shm.unlink()
        try:
            self.shm.close()
        except BufferError:
            return False
        return True


class WorkerSlots:
    """A worker's ring of shared-memory segments."""

    def __init__(self, prefix, worker_id, slots):
        self._name = f"{prefix}w{worker_id}s"
        self._serial = 0
        self._segments = [None] * slots
        self._retired = []  # segments replaced while arrays still referenced them
        self._arena = None  # (segment, cursor) while collating into a slot

    def allocator(self, slot):
        """An allocator handing out aligned pieces of slot ``slot`` (None when full)."""
        seg = self._segments[slot]
        self._arena = [seg, 0]

        def allocate(shape, dtype):
            if seg is None:
                return None
            dtype = np.dtype(dtype)
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            start = self._arena[1]
            if start + nbytes > seg.size:
                return None
            self._arena[1] = _aligned(start + nbytes)
            return seg.base[start:start + nbytes].view(dtype).reshape(shape)

        return allocate

    @staticmethod
    def _offset_in(seg, array, arena_end):
        if seg is None or not array.flags.c_contiguous:
            return None
        start = array.ctypes.data - seg.address
        if 0 <= start and start + array.nbytes <= arena_end and start % _ALIGN == 0:
            return start
        return None

    def pack(self, slot, data):
        """Write ``data``'s arrays into slot ``slot``; returns ``(name, used, description)``."""
        self._retry_retired()
        seg = self._segments[slot]
        arena_end = self._arena[1] if self._arena and self._arena[0] is seg else 0
        self._arena = None
        leaves = []  # (array, offset where collate already wrote it or None, _Leaf)

        def note(obj):
            array = obj._data if isinstance(obj, Tensor) and obj._device.type == "cpu" else obj
            if not _packable(array) or (isinstance(obj, Tensor) and obj.requires_grad):
                return obj
            leaf = _Leaf(None, array.shape, array.dtype.str, _tensor_kind(obj))
            leaves.append((array, self._offset_in(seg, array, arena_end), leaf))
            return leaf

        body = _map_structure(data, note)
        # arrays collate wrote into the arena stay put; everything else goes after them
        cursor = arena_end
        for array, offset, leaf in leaves:
            if offset is None:
                offset, cursor = cursor, _aligned(cursor + array.nbytes)
            leaf.offset = offset
        if cursor > (seg.size if seg is not None else 0):
            seg = self._grow(slot, cursor)
            cursor = 0
            for array, _, leaf in leaves:
                leaf.offset, cursor = cursor, _aligned(cursor + array.nbytes)
            leaves = [(a, None, leaf) for a, _, leaf in leaves]
        for array, in_place, leaf in leaves:
            if in_place is None and array.nbytes:
                dst = seg.base[leaf.offset:leaf.offset + array.nbytes].view(array.dtype)
                np.copyto(dst.reshape(array.shape), array, casting="no")
        return (seg.shm.name if seg is not None else None), cursor, body

    def _grow(self, slot, needed):
        old = self._segments[slot]
        size = max(_aligned(needed + needed // 4), 4096)
        if old is not None and not old.release(unlink=True):
            self._retired.append(old)
        self._serial += 1
        seg = self._segments[slot] = _Segment(f"{self._name}{self._serial}", size)
        return seg

    def _retry_retired(self):
        self._retired = [s for s in self._retired if not s.release(unlink=False)]

    def close(self):
        """Unlink every segment (the worker is exiting)."""
        for seg in self._segments:
            if seg is not None:
                seg.release(unlink=True)
        self._segments = []
        self._retry_retired()


def _wrap_leaf(buffer):
    def build(obj):
        if type(obj) is not _Leaf:
            return obj
        n = int(np.prod(obj.shape, dtype=np.int64)) * np.dtype(obj.dtype).itemsize
        array = buffer[obj.offset:obj.offset + n].view(obj.dtype).reshape(obj.shape)
        if obj.tensor is False:
            return array
        if obj.tensor is True:
            return _collate._wrap(array)
        cls, metadata = obj.tensor
        out = cls._make(array, _collate._cpu())
        out.__dict__.update(metadata)
        return out
    return build


class MainReader:
    """The main process's side: attach to worker segments and copy batches out."""

    def __init__(self):
        self._attached = {}  # (worker, slot) -> SharedMemory

    def read(self, worker_id, slot, name, used, body):
        """The batch described by ``body``, copied into private memory."""
        if name is None:  # nothing but empty arrays
            return _map_structure(body, _wrap_leaf(np.empty(0, np.uint8)))
        key = (worker_id, slot)
        shm = self._attached.get(key)
        if shm is None or shm.name != name:
            if shm is not None:
                shm.close()
            shm = self._attached[key] = shared_memory.SharedMemory(name=name)
        buffer = np.empty(used, np.uint8)
        source = np.frombuffer(shm.buf, np.uint8, used)
        np.copyto(buffer, source)
        del source  # lets close() succeed later
        return _map_structure(body, _wrap_leaf(buffer))

    def close(self):
        """Detach from every segment."""
        for shm in self._attached.values():
            shm.close()
        self._attached.clear()


def unlink_prefix(prefix):
    """Unlink every segment whose name starts with ``prefix``; returns how many."""
    try:
        names = [n for n in os.listdir(_SHM_DIR) if n.startswith(prefix)]
    except OSError:  # no /dev/shm to list (macOS): workers unlink their own on exit
        return 0
    for name in names:
        try:
            shm = shared_memory.SharedMemory(name=name)
        except FileNotFoundError:
            continue
        shm.close()
        try:
            shm.unlink()
        except FileNotFoundError:
            resource_tracker.unregister(shm._name, "shared_memory")
    return len(names)

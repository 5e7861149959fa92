"""Host memory that other processes can map: where :meth:`flambeau.Tensor.share_memory_`
moves a CPU tensor's storage, and how that memory reaches another process.

A :class:`Segment` is an anonymous in-memory file (``memfd_create`` on Linux; elsewhere a
temporary file unlinked at once) mapped with ``mmap``. It has no name, so nothing is left in
``/dev/shm`` and no resource tracker is involved: the kernel frees the memory when the last
process has unmapped it and closed its descriptor. A forked child inherits the mapping; any
other process (the ``spawn`` start method, a ``Queue``, a ``Pool``) is sent the file
descriptor through :mod:`multiprocessing`'s ``ForkingPickler`` (``reduction.DupFd``), as
PyTorch's ``file_descriptor`` sharing strategy does. The reducers are registered the first
time a segment exists in a process, so they are there whenever there is something to send.

Examples
--------
>>> import numpy
>>> from flambeau import _shared_memory
>>> a = _shared_memory.copy_to_shared(numpy.arange(4, dtype=numpy.uint8))
>>> a.tolist(), _shared_memory.segment_of(a) is not None
([0, 1, 2, 3], True)
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile

import numpy as np

__all__ = ["Segment", "copy_to_shared", "segment_of", "SharedArray", "pickled"]


# mmap keeps a duplicate of the descriptor for its own use unless told not to (Python 3.13):
# the segment keeps one already, and descriptors run out first when many tensors are shared
_NO_DUP = {"trackfd": False} if sys.version_info >= (3, 13) else {}


class Segment(mmap.mmap):
    """A shared mapping of a whole in-memory file and that file's descriptor (kept open to
    send the file to other processes; closed when the segment is collected)."""

    __slots__ = ("fd",)

    def __new__(cls, fd, nbytes):
        self = super().__new__(cls, fd, nbytes, **_NO_DUP)
        self.fd = fd
        _register_reductions()
        return self

    def __del__(self, _close=os.close):
        _close(self.fd)

    def address(self) -> int:
        """The address of the first byte of the mapping in this process."""
        return np.frombuffer(self, np.uint8, count=0).__array_interface__["data"][0]


def _new_segment(nbytes):
    """A zeroed segment of ``nbytes`` bytes (at least one: an empty file cannot be mapped)."""
    nbytes = max(int(nbytes), 1)
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("flambeau-shared")  # close-on-exec, like every fd Python opens
    else:
        fd, path = tempfile.mkstemp(prefix="flambeau-shared-",
                                    dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        os.unlink(path)
    try:
        os.ftruncate(fd, nbytes)
        if hasattr(os, "posix_fallocate"):
            # reserve the pages now: running out of memory is then an OSError here, not a
            # SIGBUS in the middle of a later write
            os.posix_fallocate(fd, 0, nbytes)
        return Segment(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise


def copy_to_shared(raw):
    """A flat ``uint8`` array in a new segment holding the bytes of the flat ``uint8`` array
    ``raw`` (a storage's bytes)."""
    segment = _new_segment(raw.nbytes)
    out = np.frombuffer(segment, np.uint8, count=raw.nbytes)
    out[...] = raw
    return out


def segment_of(array):
    """The :class:`Segment` holding ``array``'s memory, or None when it is not in one."""
    obj = array
    for _ in range(64):  # numpy keeps base chains short; this only guards against a cycle
        if obj is None or isinstance(obj, Segment):
            return obj
        obj = obj.obj if isinstance(obj, memoryview) else getattr(obj, "base", None)
    return None


def view(segment, offset, shape, strides, dtype, writeable=True):
    """The array of ``dtype``, ``shape`` and byte ``strides`` starting ``offset`` bytes into
    ``segment`` (or into a flat ``uint8`` array over one, as :func:`copy_to_shared` gives;
    a view: it keeps the segment alive)."""
    dtype = np.dtype(dtype)
    flat = np.frombuffer(segment, np.uint8)
    if 0 in shape:
        out = flat[:0].view(dtype).reshape(shape)
    else:
        first = flat[offset:offset + dtype.itemsize].view(dtype)
        out = np.lib.stride_tricks.as_strided(first, shape, strides)
    if not writeable:
        out.flags.writeable = False
    return out


class SharedArray:
    """A tensor's host array as :meth:`flambeau.Tensor.__reduce_ex__` hands it to pickle.

    ``multiprocessing``'s ``ForkingPickler`` sends its place in its segment, whose file
    descriptor travels along, so the receiving process maps the same memory; an array not
    in shared memory yet is moved there first, with its ``tensor``
    (:meth:`flambeau.Tensor.share_memory_`), as PyTorch does for a tensor sent to another
    process. Any other pickler (``pickle.dumps``, a file) stores the array itself, a copy,
    as for any tensor, and moves nothing.
    """

    __slots__ = ("array", "segment", "tensor")

    def __init__(self, array, segment, tensor=None):
        self.array, self.segment, self.tensor = array, segment, tensor

    def __reduce_ex__(self, protocol):
        return self.array.__reduce_ex__(protocol)


def pickled(tensor):
    """What pickles ``tensor``'s host array: a :class:`SharedArray` when the array is in
    shared memory, or could be moved there once ``ForkingPickler`` knows how (the reducers
    are registered), else the array itself."""
    array = tensor._host()
    segment = segment_of(array)
    if segment is None and not (_registered and tensor._device.backend.host_memory):
        return array
    return SharedArray(array, segment, tensor)


def unpickled(obj):
    """The array that :func:`pickled` wrapped (``copy.copy`` hands the wrapper back as is)."""
    return obj.array if isinstance(obj, SharedArray) else obj


def _reduce_shared_array(shared):
    a, segment = shared.array, shared.segment
    if segment is None:
        shared.tensor.share_memory_()
        a = shared.tensor._host()
        segment = segment_of(a)
        if segment is None:  # a backend that keeps its memory where it is: a copy goes
            return _identity, (a,)
    offset = a.__array_interface__["data"][0] - segment.address()
    return view, (segment, offset, a.shape, a.strides, a.dtype, bool(a.flags.writeable))


def _reduce_segment(segment):
    from multiprocessing import reduction

    # the segment object is memoized by pickle: every array of one message that lies in it
    # is rebuilt over one mapping in the receiver
    return _attach, (reduction.DupFd(segment.fd), len(segment))


def _identity(array):
    return array


def _attach(dup_fd, nbytes):
    """The receiving side: map the segment whose descriptor ``dup_fd`` brings."""
    fd = dup_fd.detach()
    try:
        return Segment(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise


_registered = False


def _register_reductions():
    # lazily, at the first segment or when flambeau.multiprocessing is imported: importing
    # flambeau leaves multiprocessing alone
    global _registered
    if not _registered:
        from multiprocessing import reduction

        reduction.ForkingPickler.register(SharedArray, _reduce_shared_array)
        reduction.ForkingPickler.register(Segment, _reduce_segment)
        _registered = True

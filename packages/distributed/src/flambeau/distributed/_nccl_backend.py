"""The "nccl" communication backend: CUDA tensors through CuPy's NCCL bindings.

The NCCL unique id travels over MPI, so jobs start with ``mpiexec`` like the "mpi" backend;
each process uses the GPU numbered by its rank among the processes of its node. Operations
are enqueued on CuPy's current stream; a :class:`Work` waits on a CUDA event recorded after
them. Object collectives, barriers and aborts go through MPI.
"""

from __future__ import annotations

import contextlib
import importlib.util

from flambeau.distributed._backend import CommBackend, Communicator
from flambeau.distributed._mpi_backend import MpiCommunicator, _mpi, _offsets
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._work import Work
from flambeau.distributed.hookspecs import hookimpl

__all__ = ["NcclBackend", "NcclCommunicator", "flambeau_comm_backends"]

_DTYPES = {
    "float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
    "bfloat16": "NCCL_BFLOAT16", "int8": "NCCL_INT8", "uint8": "NCCL_UINT8",
    "int32": "NCCL_INT32", "uint32": "NCCL_UINT32", "int64": "NCCL_INT64",
    "uint64": "NCCL_UINT64", "bool": "NCCL_UINT8",
}  # fmt: skip
_OPS = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD", ReduceOp.MIN: "NCCL_MIN",
        ReduceOp.MAX: "NCCL_MAX"}  # fmt: skip
_BOOL_OPS = {ReduceOp.SUM: "NCCL_MAX", ReduceOp.MAX: "NCCL_MAX", ReduceOp.PRODUCT: "NCCL_MIN",
             ReduceOp.MIN: "NCCL_MIN"}  # fmt: skip


def _bytes(array):
    return array.reshape(-1).view("u1")


class NcclCommunicator(Communicator):
    """A process group's operations on a ``cupy.cuda.nccl.NcclCommunicator``.

    ``mpi`` is the :class:`MpiCommunicator` of the same processes: it carries the unique id,
    objects and barriers.

    Examples
    --------
    >>> from flambeau.distributed._nccl_backend import NcclCommunicator
    >>> NcclCommunicator.__mro__[1].__name__
    'Communicator'
    """

    def __init__(self, mpi: MpiCommunicator):
        import cupy
        from cupy.cuda import nccl

        self._cupy, self._nccl, self.mpi = cupy, nccl, mpi
        self.rank, self.size = mpi.rank, mpi.size
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = mpi.broadcast_object(uid, 0)
        self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)

    def _stream(self):
        return self._cupy.cuda.get_current_stream().ptr

    def _work(self, async_op):
        event = self._cupy.cuda.Event(disable_timing=True)
        event.record()
        if not async_op:
            event.synchronize()
            return Work.completed()
        return Work(event.synchronize, lambda: event.done)

    def _dtype(self, array):
        name = _DTYPES.get(array.dtype.name)
        if name is None or not hasattr(self._nccl, name):
            raise TypeError(f"backend 'nccl' cannot reduce tensors of dtype {array.dtype.name}")
        return getattr(self._nccl, name)

    def _op(self, array, op):
        table = _BOOL_OPS if array.dtype.kind == "b" else _OPS
        return getattr(self._nccl, table[op])

    def all_reduce(self, array, op, async_op):
        p = array.data.ptr
        self.comm.allReduce(p, p, array.size, self._dtype(array), self._op(array, op),
                            self._stream())  # fmt: skip
        return self._work(async_op)

    def broadcast(self, array, root, async_op):
        b = _bytes(array)
        self.comm.broadcast(b.data.ptr, b.data.ptr, b.size, self._nccl.NCCL_UINT8, root,
                            self._stream())  # fmt: skip
        return self._work(async_op)

    def reduce(self, array, op, root, async_op):
        p = array.data.ptr
        self.comm.reduce(p, p, array.size, self._dtype(array), self._op(array, op), root,
                         self._stream())  # fmt: skip
        return self._work(async_op)

    def all_gather(self, out, array, async_op):
        src, dst = _bytes(array), _bytes(out)
        self.comm.allGather(src.data.ptr, dst.data.ptr, src.size, self._nccl.NCCL_UINT8,
                            self._stream())  # fmt: skip
        return self._work(async_op)

    def reduce_scatter(self, out, array, op, async_op):
        self.comm.reduceScatter(array.data.ptr, out.data.ptr, out.size, self._dtype(array),
                                self._op(array, op), self._stream())  # fmt: skip
        return self._work(async_op)

    def _pairwise(self, root, mine, theirs, sending):
        """Root exchanges slice i of ``theirs`` with rank i; the others exchange ``mine``."""
        nccl, stream, u8 = self._nccl, self._stream(), self._nccl.NCCL_UINT8
        nccl.groupStart()
        try:
            if self.rank == root:
                for peer in range(self.size):
                    chunk = _bytes(theirs[peer])
                    if peer == root:  # root's own slice is a device copy
                        if sending:
                            _bytes(mine)[...] = chunk
                        else:
                            chunk[...] = _bytes(mine)
                    elif sending:
                        self.comm.send(chunk.data.ptr, chunk.size, u8, peer, stream)
                    else:
                        self.comm.recv(chunk.data.ptr, chunk.size, u8, peer, stream)
            else:
                b = _bytes(mine)
                if sending:
                    self.comm.recv(b.data.ptr, b.size, u8, root, stream)
                else:
                    self.comm.send(b.data.ptr, b.size, u8, root, stream)
        finally:
            nccl.groupEnd()

    def gather(self, out, array, root, async_op):
        self._pairwise(root, array, out, sending=False)
        return self._work(async_op)

    def scatter(self, out, array, root, async_op):
        self._pairwise(root, out, array, sending=True)
        return self._work(async_op)

    def all_to_all(self, out, out_counts, array, in_counts, async_op):
        nccl, stream, u8 = self._nccl, self._stream(), self._nccl.NCCL_UINT8
        sends = zip(_offsets(in_counts), in_counts, strict=True)
        recvs = zip(_offsets(out_counts), out_counts, strict=True)
        nccl.groupStart()
        try:
            for peer, ((s, n), (r, m)) in enumerate(zip(sends, recvs, strict=True)):
                if peer == self.rank:  # this rank's own piece is a device copy
                    out[r:r + m] = array[s:s + n]
                    continue
                if n:
                    self.comm.send(array[s:s + n].data.ptr, n, u8, peer, stream)
                if m:
                    self.comm.recv(out[r:r + m].data.ptr, m, u8, peer, stream)
        finally:
            nccl.groupEnd()
        return self._work(async_op)

    def barrier(self, async_op):
        self._cupy.cuda.get_current_stream().synchronize()
        return self.mpi.barrier(async_op)

    def send(self, array, dst, tag, async_op):
        b = _bytes(array)
        self.comm.send(b.data.ptr, b.size, self._nccl.NCCL_UINT8, dst, self._stream())
        return self._work(async_op)

    def recv(self, array, src, tag, async_op):
        if src is None:
            raise ValueError("recv: backend 'nccl' needs the source rank (src=None is MPI only)")
        b = _bytes(array)
        self.comm.recv(b.data.ptr, b.size, self._nccl.NCCL_UINT8, src, self._stream())
        return self._work(async_op), lambda: src

    def monitored_barrier(self, seconds):
        self._cupy.cuda.get_current_stream().synchronize()
        return self.mpi.monitored_barrier(seconds)

    @contextlib.contextmanager
    def coalesced(self):
        # without a group call, two ranks that both send first would wait for each other
        self._nccl.groupStart()
        try:
            yield
        finally:
            self._nccl.groupEnd()

    def all_gather_object(self, obj):
        return self.mpi.all_gather_object(obj)

    def gather_object(self, obj, root):
        return self.mpi.gather_object(obj, root)

    def scatter_object(self, objs, root):
        return self.mpi.scatter_object(objs, root)

    def send_object(self, obj, dst, tag):
        self.mpi.send_object(obj, dst, tag)

    def recv_object(self, src, tag):
        return self.mpi.recv_object(src, tag)

    def broadcast_object(self, obj, root):
        return self.mpi.broadcast_object(obj, root)

    def split(self, ranks, timeout=None):  # NCCL has no collective timeout to set
        sub = self.mpi.split(ranks)
        return None if sub is None else NcclCommunicator(sub)

    def abort(self, code):
        self.mpi.abort(code)

    def free(self):
        self.comm.destroy()
        self.mpi.free()


class NcclBackend(CommBackend):
    """The "nccl" backend: CUDA tensors between GPUs through NCCL (CuPy), started by MPI.

    Needs CuPy with NCCL (``pip install flambeau-distributed[cuda12]``), a CUDA device and the
    flambeau-cuda plugin for CUDA tensors.

    Examples
    --------
    >>> from flambeau.distributed import get_comm_backend
    >>> nccl = get_comm_backend("nccl")
    >>> nccl.device_types
    ('cuda',)
    >>> nccl.is_available() == (nccl.unavailable_reason() == "")
    True
    """

    name = "nccl"
    device_types = ("cuda",)

    def unavailable_reason(self):
        if importlib.util.find_spec("cupy") is None:
            return "CuPy is not installed: pip install flambeau-distributed[cuda12]"
        try:
            import cupy
            from cupy.cuda import nccl

            if not getattr(nccl, "available", True):
                return "this CuPy build has no NCCL support (install NCCL or a cupy-cuda wheel)"
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CuPy raises several CUDA error types without a device
            return f"no usable CUDA device ({type(exc).__name__}: {exc})"
        return "" if count > 0 else "no CUDA device is visible"

    def is_available(self):
        return self.unavailable_reason() == ""

    def init_world(self, world_size, rank, timeout=None):
        reason = self.unavailable_reason()
        if reason:
            raise RuntimeError(f"backend 'nccl' is unavailable: {reason}; use backend='mpi' "
                               "for CPU tensors")  # fmt: skip
        import cupy

        mpi = MpiCommunicator(_mpi().COMM_WORLD.Dup())
        node = mpi.comm.Split_type(_mpi().COMM_TYPE_SHARED)
        local_rank = node.Get_rank()
        node.Free()
        cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        return NcclCommunicator(mpi)


@hookimpl
def flambeau_comm_backends():
    """Register the "nccl" backend (CuPy is imported only when it is used).

    Examples
    --------
    >>> from flambeau.distributed._nccl_backend import flambeau_comm_backends
    >>> [b.name for b in flambeau_comm_backends()]
    ['nccl']
    """
    return [NcclBackend()]

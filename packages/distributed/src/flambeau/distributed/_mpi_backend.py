"""The "mpi" communication backend: CPU tensors through mpi4py's buffer interface.

Tensors travel as raw buffers (no pickling): data movement uses byte views, reductions use
the array's MPI datatype. Half-precision reductions go through a float32 copy because MPI
has no bfloat16 and not every MPI reduces float16.
"""

from __future__ import annotations

import importlib.util
import os
import time

from flambeau.distributed._backend import CommBackend, Communicator
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._work import Work
from flambeau.distributed.hookspecs import hookimpl

__all__ = ["MpiBackend", "MpiCommunicator", "flambeau_comm_backends"]

_OPS = {ReduceOp.SUM: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX"}
_TOKEN, _ANSWER, _ACK = 1, 2, 3  # monitored_barrier's message tags
_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.PRODUCT: "LAND",
             ReduceOp.MIN: "LAND"}  # fmt: skip


def _mpi():
    from mpi4py import MPI  # initializes MPI (a singleton world without mpiexec)

    return MPI


def _bytes(array):
    """A byte view: any dtype (ml_dtypes' bfloat16 included) moves as raw memory."""
    return array.reshape(-1).view("u1")


def _widened(array):
    """The float32 copy that a half-precision reduction works on, or None."""
    if array.dtype.kind == "f" and array.dtype.itemsize == 2 or array.dtype.name == "bfloat16":
        return array.astype("float32")
    return None


def _offsets(counts):
    """Where each of ``counts`` consecutive pieces starts."""
    starts, total = [], 0
    for n in counts:
        starts.append(total)
        total += n
    return starts


class MpiCommunicator(Communicator):
    """A process group's operations on an ``mpi4py.MPI.Comm`` (see :class:`Communicator`).

    Examples
    --------
    >>> import numpy as np
    >>> from mpi4py import MPI
    >>> from flambeau.distributed import ReduceOp
    >>> from flambeau.distributed._mpi_backend import MpiCommunicator
    >>> comm = MpiCommunicator(MPI.COMM_SELF.Dup())
    >>> x = np.array([1.0, 2.0])
    >>> comm.all_reduce(x, ReduceOp.SUM, async_op=False).wait()
    True
    >>> x
    array([1., 2.])
    >>> comm.free()
    """

    def __init__(self, comm):
        self._MPI = _mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        # monitored_barrier's messages: a communicator of their own, so that a late rank's
        # stale message can never match a user's send/recv
        self._control = comm.Dup()
        self._epoch = self.comm.bcast(os.urandom(8) if self.rank == 0 else None, 0)
        self._rounds = 0
        self._stale = []  # sends of late ranks that nobody received; kept alive, never waited

    def _work(self, request):
        if request is None:
            return Work.completed()
        MPI = self._MPI
        if isinstance(request, list):
            return Work(lambda: MPI.Request.Waitall(request),
                        lambda: MPI.Request.Testall(request))  # fmt: skip
        return Work(request.Wait, request.Test)

    def _op(self, array, op):
        table = _BOOL_OPS if array.dtype.kind == "b" else _OPS
        return getattr(self._MPI, table[op])

    def _reduction(self, array, run):
        """Run ``run(buffer)`` on ``array`` or on its float32 copy, written back when done."""
        wide = _widened(array)
        work = self._work(run(array if wide is None else wide))
        if wide is not None:
            work.then(lambda: array.__setitem__(Ellipsis, wide))
        return work

    def all_reduce(self, array, op, async_op):
        MPI, comm, mop = self._MPI, self.comm, self._op(array, op)
        if async_op:
            return self._reduction(array, lambda buf: comm.Iallreduce(MPI.IN_PLACE, buf, mop))
        return self._reduction(array, lambda buf: comm.Allreduce(MPI.IN_PLACE, buf, mop))

    def broadcast(self, array, root, async_op):
        if async_op:
            return self._work(self.comm.Ibcast(_bytes(array), root))
        self.comm.Bcast(_bytes(array), root)
        return Work.completed()

    def reduce(self, array, op, root, async_op):
        MPI, comm, mop = self._MPI, self.comm, self._op(array, op)
        fn = comm.Ireduce if async_op else comm.Reduce

        def run(buf):
            if self.rank == root:
                return fn(MPI.IN_PLACE, buf, mop, root)
            return fn(buf, None, mop, root)

        if self.rank != root:  # the others' tensors are left as they were
            wide = _widened(array)
            return self._work(run(array if wide is None else wide))
        return self._reduction(array, run)

    def all_gather(self, out, array, async_op):
        fn = self.comm.Iallgather if async_op else self.comm.Allgather
        return self._work(fn(_bytes(array), _bytes(out)))

    def reduce_scatter(self, out, array, op, async_op):
        comm, mop = self.comm, self._op(array, op)
        fn = comm.Ireduce_scatter_block if async_op else comm.Reduce_scatter_block
        wide = _widened(array)
        if wide is None:
            return self._work(fn(array, out, mop))
        out_wide = _widened(out)
        return self._work(fn(wide, out_wide, mop)).then(
            lambda: out.__setitem__(Ellipsis, out_wide)
        )

    def gather(self, out, array, root, async_op):
        fn = self.comm.Igather if async_op else self.comm.Gather
        return self._work(fn(_bytes(array), None if out is None else _bytes(out), root))

    def scatter(self, out, array, root, async_op):
        fn = self.comm.Iscatter if async_op else self.comm.Scatter
        return self._work(fn(None if array is None else _bytes(array), _bytes(out), root))

    def all_to_all(self, out, out_counts, array, in_counts, async_op):
        fn = self.comm.Ialltoallv if async_op else self.comm.Alltoallv
        byte = self._MPI.BYTE
        return self._work(fn([array, (in_counts, _offsets(in_counts)), byte],
                             [out, (out_counts, _offsets(out_counts)), byte]))  # fmt: skip

    def barrier(self, async_op):
        if async_op:
            return self._work(self.comm.Ibarrier())
        self.comm.Barrier()
        return Work.completed()

    def send(self, array, dst, tag, async_op):
        if async_op:
            return self._work(self.comm.Isend(_bytes(array), dst, tag))
        self.comm.Send(_bytes(array), dst, tag)
        return Work.completed()

    def recv(self, array, src, tag, async_op):
        MPI = self._MPI
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src is None else src
        if async_op:
            request = self.comm.Irecv(_bytes(array), source, tag)
            work = Work(lambda: request.Wait(status), lambda: request.Test(status))
        else:
            self.comm.Recv(_bytes(array), source, tag, status)
            work = Work.completed()
        return work, status.Get_source

    def monitored_barrier(self, seconds):
        # rank 0 collects a token from every rank, answers each with the ranks that were
        # missing, then collects an acknowledgement (a rank that gave up waiting sends none).
        # Every wait has a deadline. Messages start with this communicator's id and the
        # round, so a late rank's message from an earlier round is recognised and dropped.
        size = self.size
        self._rounds += 1
        header = self._epoch + self._rounds.to_bytes(8, "little")
        self._stale = [r for r in self._stale if not r.Test()]
        if self.rank == 0:
            missing, _ = self._collect(range(1, size), _TOKEN, header, 0, seconds)
            flags = bytes(1 if r in missing else 0 for r in range(size))
            arrived = [r for r in range(1, size) if r not in missing]
            for r in arrived:
                self._post(header + flags, r, _ANSWER)
            if not missing:
                missing, _ = self._collect(arrived, _ACK, header, 0, seconds)
            return missing
        self._post(header, 0, _TOKEN)
        # rank 0 may wait up to ``seconds`` for a later rank before it answers
        silent, answers = self._collect([0], _ANSWER, header, size, 2 * seconds)
        if silent:
            return [0]
        missing = [r for r, flag in enumerate(answers[0]) if flag]
        if not missing:
            self._post(header, 0, _ACK)
        return missing

    def _post(self, message, dst, tag):
        self._stale.append(self._control.Isend(bytearray(message), dst, tag))

    def _collect(self, ranks, tag, header, extra, seconds):
        """Receive this round's message from each of ``ranks`` within ``seconds``.

        Returns the ranks that sent none, and the bytes after the header of each message.
        """
        comm, n = self._control, len(header)
        deadline = time.monotonic() + seconds
        buffers = {r: bytearray(n + extra) for r in ranks}
        pending = {r: comm.Irecv(buffers[r], r, tag) for r in ranks}
        pause = 0.0005
        while pending:
            for r in [r for r, request in pending.items() if request.Test()]:
                if buffers[r][:n] == header:
                    del pending[r]
                else:  # a stale message of an earlier round: wait for this round's
                    pending[r] = comm.Irecv(buffers[r], r, tag)
            left = deadline - time.monotonic()
            if not pending or left <= 0:
                break
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.02)
        for request in pending.values():
            request.Cancel()
            request.Wait()
        return sorted(pending), {r: bytes(buffers[r][n:]) for r in ranks if r not in pending}

    def all_gather_object(self, obj):
        return self.comm.allgather(obj)

    def gather_object(self, obj, root):
        return self.comm.gather(obj, root)

    def scatter_object(self, objs, root):
        return self.comm.scatter(objs, root)

    def send_object(self, obj, dst, tag):
        self.comm.send(obj, dst, tag)

    def recv_object(self, src, tag):
        status = self._MPI.Status()
        source = self._MPI.ANY_SOURCE if src is None else src
        obj = self.comm.recv(None, source, tag, status)
        return obj, status.Get_source()

    def broadcast_object(self, obj, root):
        return self.comm.bcast(obj, root)

    def split(self, ranks, timeout=None):  # MPI has no collective timeout to set
        MPI = self._MPI
        member = self.rank in ranks
        color = 0 if member else MPI.UNDEFINED
        sub = self.comm.Split(color, ranks.index(self.rank) if member else 0)
        return MpiCommunicator(sub) if member else None

    def abort(self, code):
        self._MPI.COMM_WORLD.Abort(code)

    def free(self):
        if self.comm != self._MPI.COMM_NULL:
            self.comm.Free()
        if self._control != self._MPI.COMM_NULL:
            self._control.Free()


class MpiBackend(CommBackend):
    """The "mpi" backend: CPU tensors between the processes of an MPI job (mpi4py).

    Launch with the MPI's own launcher (``mpiexec -n 4 python train.py``, host files for
    several machines); a plain ``python train.py`` is a world of one process.

    Examples
    --------
    >>> from flambeau.distributed import get_comm_backend
    >>> get_comm_backend("mpi")
    <CommBackend 'mpi' for cpu>
    """

    name = "mpi"
    device_types = ("cpu",)

    def is_available(self):
        return importlib.util.find_spec("mpi4py") is not None

    def unavailable_reason(self):
        if self.is_available():
            return ""
        return "mpi4py is not installed: pip install mpi4py mpich"

    def init_world(self, world_size, rank, timeout=None):
        if not self.is_available():
            raise RuntimeError(f"backend 'mpi' is unavailable: {self.unavailable_reason()}")
        # a private copy of COMM_WORLD: our messages never match the user's own mpi4py calls
        return MpiCommunicator(_mpi().COMM_WORLD.Dup())


@hookimpl
def flambeau_comm_backends():
    """Register the "mpi" backend (the ``flambeau_comm_backends`` hook).

    Examples
    --------
    >>> from flambeau.distributed._mpi_backend import flambeau_comm_backends
    >>> [b.name for b in flambeau_comm_backends()]
    ['mpi']
    """
    return [MpiBackend()]

"""The interface between process groups and communication backends (plugins)."""

from __future__ import annotations

import contextlib

from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._work import Work

__all__ = ["CommBackend", "Communicator"]


class CommBackend:
    """A communication backend: its name, the device types it moves, and a world factory.

    Plugins subclass it and return instances from the ``flambeau_comm_backends`` hook.
    :func:`flambeau.distributed.init_process_group` calls :meth:`init_world` once per process.

    Attributes
    ----------
    name : str
        What users pass as ``backend=`` (``"mpi"``, ``"nccl"``).
    device_types : tuple of str
        Device types of the tensors it moves (``("cpu",)``, ``("cuda",)``).
    uses_store : bool
        Whether its processes meet through a key-value store (``"gloo"``): then
        :func:`~flambeau.distributed.init_process_group` makes the store from ``init_method``
        (or takes ``store=``) and passes it to :meth:`init_world`. False: the backend's own
        launcher does the rendezvous (``"mpi"``).

    Examples
    --------
    >>> from flambeau.distributed import CommBackend
    >>> class Loopback(CommBackend):
    ...     name, device_types = "loopback", ("cpu",)
    >>> Loopback().is_available()
    True
    """

    name: str = ""
    device_types: tuple[str, ...] = ()
    uses_store: bool = False

    def is_available(self) -> bool:
        """Whether this backend can run here (its libraries import, its devices exist).

        Examples
        --------
        >>> from flambeau.distributed._registry import get_comm_backend
        >>> get_comm_backend("mpi").is_available()
        True
        """
        return True

    def unavailable_reason(self) -> str:
        """Why :meth:`is_available` is False, and how to fix it.

        Examples
        --------
        >>> from flambeau.distributed import CommBackend
        >>> CommBackend().unavailable_reason()
        ''
        """
        return ""

    def init_world(self, world_size: int, rank: int, timeout=None, **kwargs) -> Communicator:
        """Create the communicator of all processes of the job.

        ``world_size`` and ``rank`` are -1 when the caller leaves them to the launcher. A
        backend with :attr:`uses_store` also gets ``store=`` (a :class:`Store`), and
        ``timeout`` in seconds.

        Examples
        --------
        >>> from flambeau.distributed._registry import get_comm_backend
        >>> comm = get_comm_backend("mpi").init_world(-1, -1)
        >>> comm.size >= 1
        True
        >>> comm.free()
        """
        raise NotImplementedError(f"communication backend {self.name!r} has no init_world")

    def __repr__(self) -> str:
        return f"<CommBackend {self.name!r} for {', '.join(self.device_types)}>"


class Communicator:
    """The operations one backend performs for one process group, on backend arrays.

    Arrays are C-contiguous and on a device of the backend (the collectives check and stage
    them). Every operation returns a :class:`Work`; with ``async_op=False`` it has already
    completed. Roots and peers are ranks within this communicator.

    Examples
    --------
    >>> from flambeau.distributed import Communicator
    >>> Communicator().barrier(async_op=False)
    Traceback (most recent call last):
    ...
    NotImplementedError: Communicator does not implement barrier
    """

    rank: int = 0
    size: int = 1

    def _missing(self, what):
        raise NotImplementedError(f"{type(self).__name__} does not implement {what}")

    def all_reduce(self, array, op: ReduceOp, async_op: bool) -> Work:
        """Combine ``array`` over the ranks, in place (AVG excluded: the caller divides)."""
        self._missing("all_reduce")

    def broadcast(self, array, root: int, async_op: bool) -> Work:
        """Copy ``root``'s ``array`` into every rank's ``array``."""
        self._missing("broadcast")

    def reduce(self, array, op: ReduceOp, root: int, async_op: bool) -> Work:
        """Combine ``array`` over the ranks into ``root``'s ``array``."""
        self._missing("reduce")

    def all_gather(self, out, array, async_op: bool) -> Work:
        """Fill ``out`` (shape ``(size, *array.shape)``) with every rank's ``array``."""
        self._missing("all_gather")

    def reduce_scatter(self, out, array, op: ReduceOp, async_op: bool) -> Work:
        """Reduce ``array`` (shape ``(size, *out.shape)``) and give rank i the i-th slice."""
        self._missing("reduce_scatter")

    def gather(self, out, array, root: int, async_op: bool) -> Work:
        """Give ``root`` every rank's ``array`` in ``out`` (None on the other ranks)."""
        self._missing("gather")

    def scatter(self, out, array, root: int, async_op: bool) -> Work:
        """Give rank i slice i of ``root``'s ``array`` (None on the other ranks) in ``out``."""
        self._missing("scatter")

    def all_to_all(self, out, out_counts, array, in_counts, async_op: bool) -> Work:
        """Send the bytes of ``array`` to the ranks in order, ``in_counts[i]`` to rank i;
        receive ``out_counts[i]`` bytes from rank i into ``out``, in rank order.

        ``array`` and ``out`` are flat ``uint8`` arrays (byte views of the tensors).
        """
        self._missing("all_to_all")

    def barrier(self, async_op: bool) -> Work:
        """Wait until every rank has reached the barrier."""
        self._missing("barrier")

    def monitored_barrier(self, seconds: float) -> list[int]:
        """A barrier that gives up after ``seconds``; never hangs.

        Returns the ranks that did not arrive in time ([] when all did): rank 0 collects the
        others and tells them which were missing; a rank that hears nothing from rank 0
        returns ``[0]``.
        """
        self._missing("monitored_barrier")

    def coalesced(self):
        """A context in which point-to-point operations start together (NCCL's group calls).

        Examples
        --------
        >>> from flambeau.distributed import Communicator
        >>> with Communicator().coalesced():
        ...     pass
        """
        return contextlib.nullcontext()

    def send(self, array, dst: int, tag: int, async_op: bool) -> Work:
        """Send ``array`` to rank ``dst``."""
        self._missing("send")

    def recv(self, array, src: int | None, tag: int, async_op: bool) -> tuple[Work, object]:
        """Receive into ``array`` from ``src`` (any rank when None).

        Returns the work and a callable giving the sender's rank once the work has finished.
        """
        self._missing("recv")

    def all_gather_object(self, obj) -> list:
        """Every rank's picklable ``obj``, in rank order."""
        self._missing("all_gather_object")

    def broadcast_object(self, obj, root: int):
        """``root``'s picklable ``obj`` on every rank."""
        self._missing("broadcast_object")

    def gather_object(self, obj, root: int) -> list | None:
        """Every rank's picklable ``obj`` on ``root``, in rank order (None elsewhere)."""
        self._missing("gather_object")

    def scatter_object(self, objs: list | None, root: int):
        """Item i of ``root``'s list ``objs`` (None on the other ranks) on rank i."""
        self._missing("scatter_object")

    def send_object(self, obj, dst: int, tag: int) -> None:
        """Send the picklable ``obj`` to rank ``dst``."""
        self._missing("send_object")

    def recv_object(self, src: int | None, tag: int) -> tuple[object, int]:
        """An object from ``src`` (any rank when None), and the sender's rank."""
        self._missing("recv_object")

    def split(self, ranks: list[int], timeout: float | None = None) -> Communicator | None:
        """A communicator of ``ranks`` (in that order); None on ranks not in it. Collective.

        ``timeout`` (seconds) is the new group's deadline on a backend that enforces one
        ("gloo"); :func:`~flambeau.distributed.new_group` passes it only when given."""
        self._missing("split")

    def abort(self, code: int) -> None:
        """End every process of the job (after an unrecoverable error on this one)."""
        self._missing("abort")

    def free(self) -> None:
        """Release the communicator's resources."""

"""Process groups: the default (world) group, sub-groups, and the job-wide failure policy."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import timedelta

from flambeau.distributed._backend import Communicator
from flambeau.distributed._backend_names import default_pg_timeout, is_torchelastic_launched
from flambeau.distributed._registry import get_comm_backend
from flambeau.distributed._rendezvous import _close, join

__all__ = [
    "ProcessGroup", "init_process_group", "destroy_process_group", "is_initialized",
    "is_available", "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size",
    "get_backend", "new_group", "get_process_group_ranks", "set_shape_checks", "GroupMember",
    "group", "get_global_rank", "get_group_rank", "new_subgroups",
]  # fmt: skip

_INIT_METHODS = (None, "env://", "mpi://")


class ProcessGroup:
    """A set of processes that run collectives together: the world, or one from :func:`new_group`.

    On a process outside the group the communicator is None and collectives on the group
    return at once, as in PyTorch.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> world = dist.new_group()
    >>> world.size(), world.rank(), world.backend
    (1, 0, 'mpi')
    >>> dist.destroy_process_group()
    """

    def __init__(self, backend: str, comm: Communicator | None, global_ranks: list[int]):
        self.backend = backend
        self.comm = comm
        self.global_ranks = list(global_ranks)

    def rank(self) -> int:
        """This process's rank within the group, or -1 outside it.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.new_group([0]).rank()
        0
        >>> dist.destroy_process_group()
        """
        return -1 if self.comm is None else self.comm.rank

    def size(self) -> int:
        """The number of processes in the group.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.new_group([0]).size()
        1
        >>> dist.destroy_process_group()
        """
        return len(self.global_ranks)

    def group_rank(self, global_rank: int, who: str, arg: str) -> int:
        """The group rank of ``global_rank``, or a ValueError naming the op and argument."""
        try:
            return self.global_ranks.index(global_rank)
        except ValueError:
            raise ValueError(
                f"{who}: {arg}={global_rank!r} is not a rank of the group (global ranks "
                f"{self.global_ranks})"
            ) from None

    def __repr__(self) -> str:
        return f"<ProcessGroup {self.backend} ranks={self.global_ranks} rank={self.rank()}>"


class _State:
    default: ProcessGroup | None = None
    groups: list[ProcessGroup] = []
    check_shapes = True
    previous_excepthook = None
    store = None  # the store that init_process_group made for a "gloo" rendezvous


_state = _State()


def _not_initialized(who: str) -> RuntimeError:
    return RuntimeError(
        f"{who}: the default process group has not been initialized; call "
        "flambeau.distributed.init_process_group() first (and launch with mpiexec -n N, or "
        "python -m flambeau.distributed.run --nproc-per-node N for backend='gloo')"
    )


def _resolve(group: ProcessGroup | None, who: str) -> ProcessGroup:
    """``group``, or the default group when None; an error before initialization."""
    if _state.default is None:
        raise _not_initialized(who)
    if group is None:
        return _state.default
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{who}: group must be a ProcessGroup or None, got {type(group).__name__}")
    if group.comm is None and group not in _state.groups:
        raise RuntimeError(f"{who}: {group!r} was destroyed")
    return group


def _abort_on_exception(exc_type, exc, tb):
    """sys.excepthook while a multi-process group exists: report, then end every rank.

    Without it the other ranks would wait forever in their next collective for this one.
    """
    group = _state.default
    if group is None or group.comm is None:
        (_state.previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
        return
    rank, size = group.comm.rank, group.comm.size
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(
        f"flambeau.distributed: rank {rank} of {size} raised an exception; aborting the job "
        f"on every rank.\n[rank {rank}] " + text.rstrip().replace("\n", f"\n[rank {rank}] ")
        + "\n"
    )
    sys.stderr.flush()
    group.comm.abort(1)


def _timeout_seconds(who, timeout) -> float:
    if timeout is None:
        return default_pg_timeout.total_seconds()
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
        raise ValueError(f"{who}: timeout must be a positive datetime.timedelta (or seconds), "
                         f"got {timeout!r}")  # fmt: skip
    return float(seconds)


def _default_backend(init_method, store) -> str:
    """torch's CPU default ("gloo") where the caller asked for a store rendezvous or a
    torchrun-style launcher started the process (MPI would see a world of one), else MPI."""
    stored = isinstance(init_method, str) and init_method.startswith(("tcp://", "file://"))
    return "gloo" if store is not None or stored or is_torchelastic_launched() else "mpi"


def _launched_world_size() -> int | None:
    """The WORLD_SIZE a torchrun-style launcher set, or None."""
    if not is_torchelastic_launched():
        return None
    try:
        return int(os.environ.get("WORLD_SIZE", ""))
    except ValueError:
        return None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the job's default process group; every process calls it once.

    Two ways to start the processes:

    - ``backend="gloo"`` (CPU tensors over TCP, no MPI): a rendezvous through a store. Start
      them with ``python -m flambeau.distributed.run --nproc-per-node 4 train.py`` (or the
      ``flambeau-run`` command, or torchrun), which sets ``MASTER_ADDR``, ``MASTER_PORT``,
      ``RANK`` and ``WORLD_SIZE`` for ``init_method="env://"`` (the default); or pass
      ``init_method="tcp://host:port"`` or ``"file:///path"`` with ``rank`` and
      ``world_size``; or a :class:`Store` as ``store=`` with them.
    - ``backend="mpi"`` (CPU) and ``"nccl"`` (CUDA): MPI's launcher (``mpiexec -n 4 python
      train.py``, host files for several machines) gives each process its rank; a process
      started without ``mpiexec`` is a world of one.

    While a group of more than one process exists, an uncaught exception on any rank prints
    its traceback and ends the job: MPI aborts every rank; on "gloo" the rank exits and the
    others' waits on it fail at once, naming it.

    Parameters
    ----------
    backend : str, optional
        ``"gloo"`` or ``"mpi"`` (CPU tensors), ``"nccl"`` (CUDA tensors), or one registered
        by a plugin. Default: ``"gloo"`` with ``store=``, ``tcp://`` or ``file://``, or in a
        process that ``flambeau.distributed.run`` (or torchrun) started; else ``"mpi"``.
    init_method : str, optional
        "gloo": ``"env://"`` (default), ``"tcp://host:port"`` (rank 0 serves a
        :class:`TCPStore` there) or ``"file:///path"`` (a :class:`FileStore`; a fresh file per
        job). "mpi" and "nccl": ``None``, ``"env://"`` or ``"mpi://"``.
    timeout : datetime.timedelta, optional
        "gloo": how long every blocking operation waits for the other ranks before it raises
        :class:`DistBackendError` naming the operation and the rank (default 30 minutes, as
        PyTorch). Not enforced by MPI, which has no collective timeout.
    world_size, rank : int, optional
        "gloo": needed with ``tcp://``, ``file://`` and ``store=`` (``env://`` reads
        ``WORLD_SIZE`` and ``RANK``). "mpi": when given they must match what the launcher
        set up.
    store : Store, optional
        "gloo": the store the ranks meet in (instead of ``init_method``).
    group_name, pg_options, device_id
        PyTorch's arguments, accepted and unused.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group(backend="mpi")
    >>> dist.is_initialized(), dist.get_world_size(), dist.get_rank()
    (True, 1, 0)
    >>> dist.destroy_process_group()
    >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    >>> dist.get_backend()
    'gloo'
    >>> dist.destroy_process_group()
    >>> dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29500")
    Traceback (most recent call last):
    ...
    ValueError: init_process_group: init_method='tcp://127.0.0.1:29500' needs rank= and ...
    """
    who = "init_process_group"
    if _state.default is not None:
        raise RuntimeError(f"{who}: trying to initialize the default process group twice; "
                           "call destroy_process_group() first")  # fmt: skip
    comm_backend = get_comm_backend(_default_backend(init_method, store) if backend is None
                                    else backend)  # fmt: skip
    if getattr(comm_backend, "uses_store", False):
        seconds = _timeout_seconds(who, timeout)
        comm, made = join(who, comm_backend, init_method, store, rank, world_size, seconds)
        rank = world_size = -1  # the store's rendezvous set them; nothing to compare
    else:
        made = None
        if init_method not in _INIT_METHODS:
            raise ValueError(
                f"{who}: init_method={init_method!r} is not supported by backend "
                f"{comm_backend.name!r}: its processes find each other through MPI's launcher "
                "(mpiexec), so pass None, 'env://' or 'mpi://'; use backend='gloo' for a "
                "tcp:// or file:// rendezvous"
            )
        if store is not None:
            raise ValueError(f"{who}: store= is not supported by backend {comm_backend.name!r} "
                             "(the MPI launcher does the rendezvous); use "
                             "backend='gloo'")  # fmt: skip
        comm = comm_backend.init_world(world_size, rank, timeout)
        launched = _launched_world_size()
        if launched not in (None, comm.size):
            comm.free()
            raise ValueError(
                f"{who}: the launcher started {launched} processes (WORLD_SIZE={launched}) but "
                f"backend {comm_backend.name!r} sees a world of {comm.size}: it needs mpiexec; "
                "use backend='gloo' under flambeau.distributed.run or torchrun"
            )
    for name, given, actual in (("world_size", world_size, comm.size), ("rank", rank, comm.rank)):
        if given not in (-1, None) and given != actual:
            comm.free()
            hint = f" or launch with mpiexec -n {given}" if name == "world_size" else ""
            raise ValueError(
                f"{who}: {name}={given} but the MPI launcher gave this process {name} {actual} "
                f"(world of {comm.size}); leave {name} out{hint}"
            )
    _state.default = ProcessGroup(comm_backend.name, comm, range(comm.size))
    _state.groups = [_state.default]
    _state.store = made
    if comm.size > 1 and sys.excepthook is not _abort_on_exception:
        _state.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Release ``group``, or every group (and the default one) when None.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.destroy_process_group()
    >>> dist.is_initialized()
    False
    """
    if _state.default is None:
        raise _not_initialized("destroy_process_group")
    doomed = list(_state.groups) if group is None or group is _state.default else [group]
    for g in doomed:
        if g.comm is not None:
            g.comm.free()
            g.comm = None
        if g in _state.groups:
            _state.groups.remove(g)
    if group is None or group is _state.default:
        _state.default = None
        if _state.store is not None:  # the store init_process_group made: free its port now
            _close(_state.store)
            _state.store = None
        if sys.excepthook is _abort_on_exception:
            sys.excepthook = _state.previous_excepthook or sys.__excepthook__
        _state.previous_excepthook = None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and the group was not destroyed).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_initialized()
    False
    """
    return _state.default is not None


def is_available() -> bool:
    """True: flambeau.distributed is installed (PyTorch's ``torch.distributed.is_available``).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_available()
    True
    """
    return True


def is_mpi_available() -> bool:
    """Whether the "mpi" backend can run (mpi4py is installed).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_mpi_available()
    True
    """
    return get_comm_backend("mpi").is_available()


def is_nccl_available() -> bool:
    """Whether the "nccl" backend can run (CuPy with NCCL and a CUDA device).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_nccl_available() in (True, False)
    True
    """
    return get_comm_backend("nccl").is_available()


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the world), -1 when outside it.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_rank()
    0
    >>> dist.destroy_process_group()
    """
    return _resolve(group, "get_rank").rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in ``group`` (default: the world), -1 outside it.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_world_size()
    1
    >>> dist.destroy_process_group()
    """
    g = _resolve(group, "get_world_size")
    return g.size() if g.comm is not None else -1


def get_backend(group: ProcessGroup | None = None) -> str:
    """The name of the communication backend of ``group`` (default: the world).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_backend()
    'mpi'
    >>> dist.destroy_process_group()
    """
    return _resolve(group, "get_backend").backend


def get_process_group_ranks(group: ProcessGroup) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_process_group_ranks(dist.new_group([0]))
    [0]
    >>> dist.destroy_process_group()
    """
    return list(_resolve(group, "get_process_group_ranks").global_ranks)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None) -> ProcessGroup:
    """A process group of the given global ``ranks`` (all ranks when None).

    Every process of the world must call it, members or not, in the same order; group ranks
    follow the sorted global ranks. On a non-member the result has rank -1 and collectives on
    it return at once. ``timeout`` (a ``datetime.timedelta``) is the group's own deadline on
    "gloo" (default: the world's); MPI and NCCL enforce none.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> g = dist.new_group([0])
    >>> dist.get_rank(g), dist.get_world_size(g)
    (0, 1)
    >>> dist.destroy_process_group()
    """
    who = "new_group"
    world = _resolve(None, who)
    if backend is not None and backend != world.backend:
        raise ValueError(
            f"{who}: backend={backend!r} differs from the default group's {world.backend!r}; "
            "sub-groups use the default group's backend"
        )
    size = world.size()
    members = list(range(size)) if ranks is None else sorted(ranks)
    bad = [r for r in members if not isinstance(r, int) or not 0 <= r < size]
    if bad or len(set(members)) != len(members) or not members:
        raise ValueError(f"{who}: ranks must be distinct ints in [0, {size}), got {ranks!r}")
    if timeout is None:
        comm = world.comm.split(members)
    else:
        comm = world.comm.split(members, timeout=_timeout_seconds(who, timeout))
    group = ProcessGroup(world.backend, comm, members)
    _state.groups.append(group)
    return group


def set_shape_checks(enabled: bool) -> bool:
    """Turn on or off the cross-rank shape and dtype check of tensor collectives.

    On (the default), each collective first compares the ranks' tensor shapes and dtypes
    with one small all-gather and raises the same error, naming every rank's shape, on all
    ranks; off, mismatched tensors give MPI errors or wrong results. Returns the old setting.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.set_shape_checks(False)
    True
    >>> dist.set_shape_checks(True)
    False
    """
    old, _state.check_shapes = _state.check_shapes, bool(enabled)
    return old


class _WorldProperty(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802 - PyTorch's name
        return _state.default


class GroupMember(metaclass=_WorldProperty):
    """``GroupMember.WORLD``: the default process group (None before initialization).

    ``NON_GROUP_MEMBER`` is PyTorch's marker of a process outside a group; flambeau's
    :func:`new_group` returns a :class:`ProcessGroup` whose rank is -1 instead.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.GroupMember.WORLD is None
    True
    >>> dist.init_process_group("mpi")
    >>> dist.GroupMember.WORLD is dist.group.WORLD is not None
    True
    >>> dist.destroy_process_group()
    """

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldProperty):  # noqa: N801 - PyTorch's name
    """``group.WORLD``: the default process group, as in ``torch.distributed.group.WORLD``.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_world_size(dist.group.WORLD)
    1
    >>> dist.destroy_process_group()
    """


def _registered(g, who: str) -> ProcessGroup:
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"{who}: group must be a ProcessGroup, got {type(g).__name__}")
    return _resolve(g, who)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of the process with rank ``group_rank`` in ``group``.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_global_rank(dist.new_group([0]), 0)
    0
    >>> dist.get_global_rank(dist.group.WORLD, 3)
    Traceback (most recent call last):
    ...
    ValueError: get_global_rank: group rank 3 is not part of the group (it has 1 ranks)
    >>> dist.destroy_process_group()
    """
    who = "get_global_rank"
    g = _registered(group, who)
    if not isinstance(group_rank, int) or not 0 <= group_rank < g.size():
        raise ValueError(f"{who}: group rank {group_rank!r} is not part of the group (it has "
                         f"{g.size()} ranks)")  # fmt: skip
    return g.global_ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within ``group`` of the process with global rank ``global_rank``.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_group_rank(dist.group.WORLD, 0)
    0
    >>> dist.get_group_rank(dist.group.WORLD, 5)
    Traceback (most recent call last):
    ...
    ValueError: get_group_rank: global_rank=5 is not a rank of the group (global ranks [0])
    >>> dist.destroy_process_group()
    """
    who = "get_group_rank"
    return _registered(group, who).group_rank(global_rank, who, "global_rank")


def new_subgroups(group_size: int | None = None, group: ProcessGroup | None = None,
                  timeout=None, backend=None, pg_options=None, group_desc=None):
    """Split ``group`` (the world) into consecutive sub-groups of ``group_size`` ranks.

    Every process calls it. Returns ``(this process's sub-group, all the sub-groups)``.
    ``group_size`` defaults to the number of CUDA devices, which needs CUDA.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> mine, every = dist.new_subgroups(group_size=1)
    >>> dist.get_process_group_ranks(mine), len(every)
    ([0], 1)
    >>> dist.new_subgroups(group_size=2)
    Traceback (most recent call last):
    ...
    ValueError: new_subgroups: group_size=2 must not exceed the world size (1)
    >>> dist.destroy_process_group()
    """
    who = "new_subgroups"
    parent = _resolve(group, who)
    if group_size is None:
        import flambeau

        if not flambeau.cuda.is_available():
            raise ValueError(f"{who}: the default group_size (one per CUDA device) needs CUDA; "
                             "pass group_size=")  # fmt: skip
        group_size = flambeau.cuda.device_count()
    if not isinstance(group_size, int) or group_size <= 0:
        raise ValueError(f"{who}: group_size must be a positive int, got {group_size!r}")
    size = parent.size()
    if group_size > size:
        raise ValueError(f"{who}: group_size={group_size} must not exceed the world size ({size})")
    if size % group_size:
        raise ValueError(f"{who}: the world size ({size}) must be divisible by group_size="
                         f"{group_size}")  # fmt: skip
    mine, every = None, []
    me = _resolve(None, who).rank()
    for start in range(0, size, group_size):
        ranks = parent.global_ranks[start:start + group_size]
        sub = new_group(ranks, timeout=timeout, backend=backend, pg_options=pg_options)
        every.append(sub)
        if me in ranks:
            mine = sub
    return mine, every

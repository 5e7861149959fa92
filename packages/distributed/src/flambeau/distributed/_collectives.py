"""Collectives on tensors and on small Python objects (``torch.distributed``'s functions).

Each function checks its arguments on this rank, compares the ranks' tensor shapes and dtypes
(:func:`set_shape_checks`), hands contiguous backend arrays to the group's communicator, and
writes results back into the given tensors in place.
"""

from __future__ import annotations

from flambeau import Tensor
from flambeau.distributed._group import ProcessGroup, _resolve, _state
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._registry import get_comm_backend
from flambeau.distributed._work import Work

__all__ = [
    "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "barrier", "send", "recv",
    "isend", "irecv", "all_gather_object", "broadcast_object_list",
]  # fmt: skip


# ----------------------------------------------------------------------------- helpers


def _check_tensor(who, g, t, arg="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {arg} must be a flambeau Tensor, got {type(t).__name__}")
    kinds = get_comm_backend(g.backend).device_types
    if t._device.type not in kinds:
        raise ValueError(
            f"{who}: backend {g.backend!r} moves tensors on {', '.join(kinds)}, but {arg} is on "
            f"{t._device} (shape {tuple(t.shape)}); use a backend for {t._device.type} tensors "
            "(\"mpi\" for cpu, \"nccl\" for cuda) or move the tensor"
        )


def _check_like(who, ref, tensors, arg):
    """Every tensor of the list ``tensors`` has ``ref``'s shape, dtype and device."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {arg}[{i}] must be a flambeau Tensor, got {type(t).__name__}")
        if t.shape != ref.shape or t.dtype != ref.dtype or t._device != ref._device:
            raise ValueError(
                f"{who}: {arg}[{i}] has shape {tuple(t.shape)}, dtype {t.dtype} on {t._device}, "
                f"but the tensor has shape {tuple(ref.shape)}, dtype {ref.dtype} on {ref._device}"
            )


def _check_list(who, g, tensors, arg):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != g.size():
        n = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{who}: {arg} must be a list of {g.size()} tensors (the group size), "
                         f"got {n}")  # fmt: skip


def _check_same(who, g, *tensors):
    """Raise the same error on every rank when the ranks' shapes or dtypes differ."""
    if not _state.check_shapes or g.size() == 1:
        return
    mine = tuple((tuple(t.shape), str(t.dtype).removeprefix("flambeau.")) for t in tensors)
    every = g.comm.all_gather_object(mine)
    if len(set(every)) > 1:
        described = ", ".join(
            f"rank {r} has " + " and ".join(f"{s} {d}" for s, d in e)
            for r, e in zip(g.global_ranks, every, strict=True)
        )
        raise ValueError(f"{who}: tensor shapes or dtypes differ across ranks: {described}; "
                         "every rank must pass tensors of the same shape and dtype")  # fmt: skip


def _check_op(who, op, t):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{who}: op must be a flambeau.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and not (t.dtype.is_floating_point or t._data.dtype.kind == "c"):
        raise TypeError(f"{who}: ReduceOp.AVG needs a floating-point tensor, got {t.dtype}")


def _wire_op(op):
    return ReduceOp.SUM if op is ReduceOp.AVG else op


def _xp(t):
    return t._device.backend.xp


def _writable(t):
    """The array to operate on in place, and what to do afterwards to land it in ``t``."""
    data = t._data
    if data.flags.c_contiguous:
        return data, None
    staged = _xp(t).ascontiguousarray(data)
    return staged, lambda: data.__setitem__(Ellipsis, staged)


def _readable(t):
    return _xp(t).ascontiguousarray(t._data)


def _bump(*tensors):
    for t in tensors:
        t._version_counter.value += 1


def _landing(t, array, g=None, avg=False, writeback=None):
    """Post-processing that lands a finished result ``array`` in tensor ``t``."""

    def land():
        if avg:
            array[...] = array / g.size()
        if writeback is not None:
            writeback()
        _bump(t)

    return land


def _finish(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


def _root(g, rank, who, arg):
    if not isinstance(rank, int):
        raise TypeError(f"{who}: {arg} must be an int rank, got {type(rank).__name__}")
    return g.group_rank(rank, who, arg)


# ----------------------------------------------------------------------------- tensors


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all ranks of ``group``; every rank gets the result in place.

    Parameters
    ----------
    tensor : Tensor
        Input and output; the same shape and dtype on every rank.
    op : ReduceOp
        SUM (default), AVG (floating point only), PRODUCT, MIN or MAX.
    group : ProcessGroup, optional
        The default (world) group when None.
    async_op : bool
        Return a :class:`Work` handle instead of waiting (``wait()`` before reading).

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> t = flambeau.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)  # world of one: unchanged
    >>> t
    tensor([1., 2.])
    >>> dist.all_reduce(t, async_op=True).wait()
    True
    >>> dist.destroy_process_group()
    """
    who = "all_reduce"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    _check_op(who, op, tensor)
    _check_same(who, g, tensor)
    array, writeback = _writable(tensor)
    work = g.comm.all_reduce(array, _wire_op(op), async_op)
    work.then(_landing(tensor, array, g, op is ReduceOp.AVG, writeback))
    return _finish(work, async_op)


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False) -> Work | None:
    """Copy ``tensor`` of rank ``src`` (a global rank) into ``tensor`` on every rank.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> t = flambeau.arange(3)
    >>> dist.broadcast(t, src=0)
    >>> t
    tensor([0, 1, 2])
    >>> dist.destroy_process_group()
    """
    who = "broadcast"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    root = _root(g, src, who, "src")
    _check_same(who, g, tensor)
    array, writeback = _writable(tensor)
    work = g.comm.broadcast(array, root, async_op)
    work.then(_landing(tensor, array, writeback=writeback))
    return _finish(work, async_op)


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over the ranks into ``tensor`` of rank ``dst``; others keep theirs.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> t = flambeau.tensor([3.0])
    >>> dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
    >>> t
    tensor([3.])
    >>> dist.destroy_process_group()
    """
    who = "reduce"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    _check_op(who, op, tensor)
    root = _root(g, dst, who, "dst")
    _check_same(who, g, tensor)
    array, writeback = _writable(tensor)
    work = g.comm.reduce(array, _wire_op(op), root, async_op)
    if g.comm.rank == root:
        work.then(_landing(tensor, array, g, op is ReduceOp.AVG, writeback))
    return _finish(work, async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[i]`` with ``tensor`` of group rank i, on every rank.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [flambeau.zeros(2)]
    >>> dist.all_gather(out, flambeau.tensor([1.0, 2.0]))
    >>> out
    [tensor([1., 2.])]
    >>> dist.destroy_process_group()
    """
    who = "all_gather"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    _check_list(who, g, tensor_list, "tensor_list")
    _check_like(who, tensor, tensor_list, "tensor_list")
    _check_same(who, g, tensor)
    out = _xp(tensor).empty((g.size(), *tensor._data.shape), tensor._data.dtype)
    work = g.comm.all_gather(out, _readable(tensor), async_op)

    def land():
        for i, t in enumerate(tensor_list):
            t._data[...] = out[i]
        _bump(*tensor_list)

    return _finish(work.then(land), async_op)


def _stacked_shape(who, g, big, small, big_arg, small_arg):
    """The (size, *small.shape) view shape of ``big``: concatenated or stacked along dim 0."""
    n, shape = g.size(), tuple(small.shape)
    allowed = [(n, *shape)] + ([(n * shape[0], *shape[1:])] if shape else [])
    if tuple(big.shape) not in allowed:
        raise ValueError(
            f"{who}: {big_arg} has shape {tuple(big.shape)}, expected "
            f"{' or '.join(str(s) for s in dict.fromkeys(allowed))} for {small_arg} of shape "
            f"{shape} and a group of {n}"
        )
    if big.dtype != small.dtype or big._device != small._device:
        raise ValueError(f"{who}: {big_arg} is {big.dtype} on {big._device} but {small_arg} is "
                         f"{small.dtype} on {small._device}")  # fmt: skip
    return (n, *small._data.shape)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Gather every rank's ``input_tensor`` into ``output_tensor``, concatenated or stacked.

    ``output_tensor`` has shape ``(world * d0, ...)`` (concatenation along dim 0) or
    ``(world, d0, ...)`` (stacking).

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = flambeau.zeros(2)
    >>> dist.all_gather_into_tensor(out, flambeau.tensor([5.0, 6.0]))
    >>> out
    tensor([5., 6.])
    >>> dist.destroy_process_group()
    """
    who = "all_gather_into_tensor"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, input_tensor, "input_tensor")
    _check_tensor(who, g, output_tensor, "output_tensor")
    stacked = _stacked_shape(who, g, output_tensor, input_tensor, "output_tensor", "input_tensor")
    _check_same(who, g, input_tensor)
    array, writeback = _writable(output_tensor)
    work = g.comm.all_gather(array.reshape(stacked), _readable(input_tensor), async_op)
    work.then(_landing(output_tensor, array, writeback=writeback))
    return _finish(work, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce ``input_list[i]`` over the ranks into ``output`` of group rank i.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = flambeau.zeros(2)
    >>> dist.reduce_scatter(out, [flambeau.tensor([1.0, 4.0])])
    >>> out
    tensor([1., 4.])
    >>> dist.destroy_process_group()
    """
    who = "reduce_scatter"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, output, "output")
    _check_op(who, op, output)
    _check_list(who, g, input_list, "input_list")
    _check_like(who, output, input_list, "input_list")
    _check_same(who, g, output)
    stacked = _xp(output).stack([t._data for t in input_list])
    array, writeback = _writable(output)
    work = g.comm.reduce_scatter(array, stacked, _wire_op(op), async_op)
    work.then(_landing(output, array, g, op is ReduceOp.AVG, writeback))
    return _finish(work, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,  # noqa: A002
                          group: ProcessGroup | None = None,
                          async_op: bool = False) -> Work | None:
    """Reduce ``input`` (the ranks' slices along dim 0) and give group rank i slice i.

    ``input`` has shape ``(world * d0, ...)`` or ``(world, d0, ...)`` for ``output`` of shape
    ``(d0, ...)``.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = flambeau.zeros(2)
    >>> dist.reduce_scatter_tensor(out, flambeau.tensor([7.0, 8.0]))
    >>> out
    tensor([7., 8.])
    >>> dist.destroy_process_group()
    """
    who = "reduce_scatter_tensor"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, input, "input")
    _check_tensor(who, g, output, "output")
    _check_op(who, op, output)
    stacked = _stacked_shape(who, g, input, output, "input", "output")
    _check_same(who, g, output)
    array, writeback = _writable(output)
    source = _readable(input).reshape(stacked)
    work = g.comm.reduce_scatter(array, source, _wire_op(op), async_op)
    work.then(_landing(output, array, g, op is ReduceOp.AVG, writeback))
    return _finish(work, async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Collect every rank's ``tensor`` into ``gather_list`` of rank ``dst`` (None elsewhere).

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [flambeau.zeros(1)]
    >>> dist.gather(flambeau.tensor([9.0]), gather_list=out, dst=0)
    >>> out
    [tensor([9.])]
    >>> dist.destroy_process_group()
    """
    who = "gather"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    root = _root(g, dst, who, "dst")
    is_root = g.comm.rank == root
    if is_root:
        _check_list(who, g, gather_list, "gather_list")
        _check_like(who, tensor, gather_list, "gather_list")
    elif gather_list:
        raise ValueError(f"{who}: gather_list must be None on ranks other than dst={dst} "
                         f"(this is rank {g.global_ranks[g.comm.rank]})")  # fmt: skip
    _check_same(who, g, tensor)
    out = None
    if is_root:
        out = _xp(tensor).empty((g.size(), *tensor._data.shape), tensor._data.dtype)
    work = g.comm.gather(out, _readable(tensor), root, async_op)
    if is_root:

        def land():
            for i, t in enumerate(gather_list):
                t._data[...] = out[i]
            _bump(*gather_list)

        work.then(land)
    return _finish(work, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int = 0,
            group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Give group rank i the tensor ``scatter_list[i]`` of rank ``src``, in ``tensor``.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> t = flambeau.zeros(2)
    >>> dist.scatter(t, scatter_list=[flambeau.tensor([1.0, 2.0])], src=0)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    who = "scatter"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, tensor)
    root = _root(g, src, who, "src")
    is_root = g.comm.rank == root
    if is_root:
        _check_list(who, g, scatter_list, "scatter_list")
        _check_like(who, tensor, scatter_list, "scatter_list")
    elif scatter_list:
        raise ValueError(f"{who}: scatter_list must be None on ranks other than src={src} "
                         f"(this is rank {g.global_ranks[g.comm.rank]})")  # fmt: skip
    _check_same(who, g, tensor)
    source = _xp(tensor).stack([t._data for t in scatter_list]) if is_root else None
    array, writeback = _writable(tensor)
    work = g.comm.scatter(array, source, root, async_op)
    work.then(_landing(tensor, array, writeback=writeback))
    return _finish(work, async_op)


def barrier(group: ProcessGroup | None = None, async_op: bool = False,
            device_ids=None) -> Work | None:
    """Wait until every rank of ``group`` has called ``barrier``.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.barrier()
    >>> dist.destroy_process_group()
    """
    g = _resolve(group, "barrier")
    if g.comm is None:
        return None
    return _finish(g.comm.barrier(async_op), async_op)


def _peer(who, g, tensor, rank, arg):
    _check_tensor(who, g, tensor)
    peer = _root(g, rank, who, arg)
    if peer == g.comm.rank:
        raise ValueError(f"{who}: {arg}={rank} is this process's own rank")
    return peer


def _send(who, tensor, dst, group, tag, async_op):
    g = _resolve(group, who)
    if g.comm is None:
        return None
    peer = _peer(who, g, tensor, dst, "dst")
    return _finish(g.comm.send(_readable(tensor), peer, tag, async_op), async_op)


def send(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst``, which calls :func:`recv` with a tensor of its shape.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.send(flambeau.zeros(2), dst=0)
    Traceback (most recent call last):
    ...
    ValueError: send: dst=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    return _send("send", tensor, dst, group, tag, async_op=False)


def isend(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> Work:
    """Start sending ``tensor`` to rank ``dst``; returns a :class:`Work` to ``wait()`` on.

    Do not modify ``tensor`` before the work has completed.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.isend(flambeau.zeros(2), dst=0)
    Traceback (most recent call last):
    ...
    ValueError: isend: dst=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    return _send("isend", tensor, dst, group, tag, async_op=True)


def _recv(who, tensor, src, group, tag, async_op):
    g = _resolve(group, who)
    if g.comm is None:
        return None if async_op else -1
    peer = None if src is None else _peer(who, g, tensor, src, "src")
    _check_tensor(who, g, tensor)
    array, writeback = _writable(tensor)
    work, source = g.comm.recv(array, peer, tag, async_op)
    work.then(_landing(tensor, array, writeback=writeback))
    if async_op:
        return work
    work.wait()
    return g.global_ranks[source()]


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); return the sender.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.recv(flambeau.zeros(2), src=0)
    Traceback (most recent call last):
    ...
    ValueError: recv: src=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    return _recv("recv", tensor, src, group, tag, async_op=False)


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0) -> Work:
    """Start receiving into ``tensor``; returns a :class:`Work` to ``wait()`` on.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.irecv(flambeau.zeros(2), src=0)
    Traceback (most recent call last):
    ...
    ValueError: irecv: src=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    return _recv("irecv", tensor, src, group, tag, async_op=True)


# ----------------------------------------------------------------------------- objects


def all_gather_object(object_list: list, obj, group: ProcessGroup | None = None) -> None:
    """Fill ``object_list[i]`` with the picklable ``obj`` of group rank i, on every rank.

    Objects are pickled: use it for small objects (metrics, configs), not for tensors.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [None]
    >>> dist.all_gather_object(out, {"loss": 0.5})
    >>> out
    [{'loss': 0.5}]
    >>> dist.destroy_process_group()
    """
    who = "all_gather_object"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    if not isinstance(object_list, list) or len(object_list) != g.size():
        raise ValueError(f"{who}: object_list must be a list of {g.size()} (the group size), got "
                         f"{object_list!r}")  # fmt: skip
    object_list[:] = g.comm.all_gather_object(obj)
    return None


def broadcast_object_list(object_list: list, src: int = 0, group: ProcessGroup | None = None,
                          device=None) -> None:
    """Replace ``object_list``'s items, on every rank, by those of rank ``src`` (pickled).

    Every rank passes a list of the same length.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> objs = ["config", 42]
    >>> dist.broadcast_object_list(objs, src=0)
    >>> objs
    ['config', 42]
    >>> dist.destroy_process_group()
    """
    who = "broadcast_object_list"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    if not isinstance(object_list, list):
        raise TypeError(f"{who}: object_list must be a list, got {type(object_list).__name__}")
    root = _root(g, src, who, "src")
    received = g.comm.broadcast_object(object_list if g.comm.rank == root else None, root)
    if len(received) != len(object_list):
        raise ValueError(f"{who}: rank {src} sent {len(received)} objects but this rank's "
                         f"object_list has {len(object_list)}")  # fmt: skip
    object_list[:] = received
    return None

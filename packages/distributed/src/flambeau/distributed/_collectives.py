"""Collectives on tensors and on small Python objects (``torch.distributed``'s functions).

Each function checks its arguments on this rank, compares the ranks' tensor shapes and dtypes
(:func:`set_shape_checks`), hands contiguous backend arrays to the group's communicator, and
writes results back into the given tensors in place.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flambeau import Tensor
from flambeau.distributed._backend_names import default_pg_timeout
from flambeau.distributed._errors import DistBackendError
from flambeau.distributed._group import ProcessGroup, _resolve, _state
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._registry import get_comm_backend
from flambeau.distributed._work import Work

__all__ = [
    "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "barrier", "send", "recv",
    "isend", "irecv", "all_gather_object", "broadcast_object_list", "all_to_all",
    "all_to_all_single", "gather_object", "scatter_object_list", "send_object_list",
    "recv_object_list", "P2POp", "batch_isend_irecv", "monitored_barrier",
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


def _check_like(who, ref, tensors, arg, same_shape=True):
    """Every tensor of the list ``tensors`` has ``ref``'s dtype and device (and shape)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {arg}[{i}] must be a flambeau Tensor, got {type(t).__name__}")
        if not same_shape and (t.dtype != ref.dtype or t._device != ref._device):
            raise ValueError(f"{who}: {arg}[{i}] is {t.dtype} on {t._device}, but "
                             f"input_tensor_list[0] is {ref.dtype} on {ref._device}")  # fmt: skip
        if same_shape and (t.shape != ref.shape or t.dtype != ref.dtype
                           or t._device != ref._device):  # fmt: skip
            raise ValueError(
                f"{who}: {arg}[{i}] has shape {tuple(t.shape)}, dtype {t.dtype} on {t._device}, "
                f"but the tensor has shape {tuple(ref.shape)}, dtype {ref.dtype} on {ref._device}"
            )


def _check_list(who, g, tensors, arg):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != g.size():
        n = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{who}: {arg} must be a list of {g.size()} tensors (the group size), "
                         f"got {n}")  # fmt: skip


def _shapes_of_every_rank(who, g, mine):
    """Every rank's ``mine``; a failed exchange names the collective the caller ran."""
    try:
        return g.comm.all_gather_object(mine)
    except DistBackendError as exc:
        raise DistBackendError(f"{who}: comparing the ranks' tensor shapes failed: {exc}") \
            from None


def _check_same(who, g, *tensors):
    """Raise the same error on every rank when the ranks' shapes or dtypes differ."""
    if not _state.check_shapes or g.size() == 1:
        return
    mine = tuple((tuple(t.shape), str(t.dtype).removeprefix("flambeau.")) for t in tensors)
    every = _shapes_of_every_rank(who, g, mine)
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


def _check_exchange(who, g, sends, receives, dtype):
    """Raise the same error on every rank unless rank i sends rank j what j expects from i.

    ``sends[j]`` and ``receives[j]`` count elements to and from group rank j.
    """
    if not _state.check_shapes or g.size() == 1:
        return
    every = _shapes_of_every_rank(who, g, (list(sends), list(receives), str(dtype)))
    ranks = g.global_ranks
    dtypes = {d for _, _, d in every}
    if len(dtypes) > 1:
        described = ", ".join(f"rank {r} has {d}" for r, (_, _, d) in zip(ranks, every,
                                                                          strict=True))
        raise ValueError(f"{who}: tensor dtypes differ across ranks: {described}; every rank "
                         "must pass tensors of the same dtype")  # fmt: skip
    for i, (sent, _, _) in enumerate(every):
        for j, (_, expected, _) in enumerate(every):
            if sent[j] != expected[i]:
                raise ValueError(
                    f"{who}: rank {ranks[i]} sends {sent[j]} elements to rank {ranks[j]}, but "
                    f"rank {ranks[j]} expects {expected[i]} from rank {ranks[i]}; the split "
                    "sizes (or tensor sizes) of the ranks must match"
                )


def _flat_bytes(array):
    return array.reshape(-1).view("u1")


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
               group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Send ``input_tensor_list[i]`` to group rank i; receive rank i's in ``output_tensor_list[i]``.

    Tensors may differ in shape, but ``output_tensor_list[j]`` on rank i must have as many
    elements as ``input_tensor_list[i]`` on rank j; every tensor has one dtype and device.

    Parameters
    ----------
    output_tensor_list, input_tensor_list : list of Tensor
        One tensor per rank of the group.
    group : ProcessGroup, optional
        The default (world) group when None.
    async_op : bool
        Return a :class:`Work` handle instead of waiting.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [flambeau.zeros(2)]
    >>> dist.all_to_all(out, [flambeau.tensor([1.0, 2.0])])
    >>> out
    [tensor([1., 2.])]
    >>> dist.destroy_process_group()
    """
    who = "all_to_all"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_list(who, g, input_tensor_list, "input_tensor_list")
    _check_list(who, g, output_tensor_list, "output_tensor_list")
    ref = input_tensor_list[0]
    _check_tensor(who, g, ref, "input_tensor_list[0]")
    _check_like(who, ref, input_tensor_list, "input_tensor_list", same_shape=False)
    _check_like(who, ref, output_tensor_list, "output_tensor_list", same_shape=False)
    sends = [t.numel() for t in input_tensor_list]
    receives = [t.numel() for t in output_tensor_list]
    _check_exchange(who, g, sends, receives, ref.dtype)
    xp, item = _xp(ref), ref._data.dtype.itemsize
    source = xp.concatenate([_flat_bytes(_readable(t)) for t in input_tensor_list])
    out = xp.empty(sum(receives) * item, "u1")
    work = g.comm.all_to_all(out, [n * item for n in receives], source,
                             [n * item for n in sends], async_op)  # fmt: skip

    def land():
        start = 0
        for t in output_tensor_list:
            n = t.numel() * item
            t._data[...] = out[start:start + n].view(t._data.dtype).reshape(t._data.shape)
            start += n
        _bump(*output_tensor_list)

    return _finish(work.then(land), async_op)


def _splits(who, g, t, sizes, arg, sizes_arg):
    """The rows (along dim 0) of ``t`` for each rank: ``sizes``, or an even split."""
    n, rows = g.size(), t.shape[0]
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise ValueError(f"{who}: {arg} has {rows} rows along dim 0, which do not split "
                             f"evenly over {n} ranks; pass {sizes_arg}")  # fmt: skip
        return [rows // n] * n
    sizes = list(sizes)
    if len(sizes) != n or any(not isinstance(s, int) or s < 0 for s in sizes):
        raise ValueError(f"{who}: {sizes_arg} must be {n} non-negative ints (one per rank), got "
                         f"{sizes!r}")  # fmt: skip
    if sum(sizes) != rows:
        raise ValueError(f"{who}: {sizes_arg} {sizes} add up to {sum(sizes)}, but {arg} has "
                         f"{rows} rows along dim 0 (shape {tuple(t.shape)})")  # fmt: skip
    return sizes


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes=None,  # noqa: A002
                      input_split_sizes=None, group: ProcessGroup | None = None,
                      async_op: bool = False) -> Work | None:
    """Split ``input`` along dim 0, send piece i to group rank i, gather the pieces received.

    Without split sizes, ``input`` and ``output`` split evenly over the ranks; with them,
    ``input_split_sizes[i]`` rows go to rank i and ``output_split_sizes[i]`` rows come from
    rank i, in rank order. Both tensors have the same dtype, device and row size.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = flambeau.zeros(3, dtype=flambeau.int64)
    >>> dist.all_to_all_single(out, flambeau.tensor([4, 5, 6]), [3], [3])
    >>> out
    tensor([4, 5, 6])
    >>> dist.destroy_process_group()
    """
    who = "all_to_all_single"
    g = _resolve(group, who)
    if g.comm is None:
        return None
    _check_tensor(who, g, input, "input")
    _check_tensor(who, g, output, "output")
    if input.dim() == 0 or output.dim() == 0:
        raise ValueError(f"{who}: input and output need a dim 0 to split, got shapes "
                         f"{tuple(input.shape)} and {tuple(output.shape)}")  # fmt: skip
    if input.dtype != output.dtype or input._device != output._device:
        raise ValueError(f"{who}: output is {output.dtype} on {output._device} but input is "
                         f"{input.dtype} on {input._device}")  # fmt: skip
    row, out_row = math.prod(input.shape[1:]), math.prod(output.shape[1:])
    if row != out_row:
        raise ValueError(f"{who}: a row (dim 0 slice) of input has {row} elements but one of "
                         f"output has {out_row} (shapes {tuple(input.shape)} and "
                         f"{tuple(output.shape)})")  # fmt: skip
    sends = _splits(who, g, input, input_split_sizes, "input", "input_split_sizes")
    receives = _splits(who, g, output, output_split_sizes, "output", "output_split_sizes")
    _check_exchange(who, g, [s * row for s in sends], [r * row for r in receives], input.dtype)
    row_bytes = row * input._data.dtype.itemsize
    array, writeback = _writable(output)
    work = g.comm.all_to_all(_flat_bytes(array), [r * row_bytes for r in receives],
                             _flat_bytes(_readable(input)), [s * row_bytes for s in sends],
                             async_op)  # fmt: skip
    work.then(_landing(output, array, writeback=writeback))
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


def _object_list(who, g, objects, arg):
    """``objects`` is a list with one slot per rank of the group."""
    if not isinstance(objects, list) or len(objects) != g.size():
        raise ValueError(f"{who}: {arg} must be a list of {g.size()} (the group size), got "
                         f"{objects!r}")  # fmt: skip


def _group_peer(who, g, rank, group_rank, arg, default=None):
    """The group rank named by a global ``rank`` or by ``group_rank`` (PyTorch's pair)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"{who}: pass {arg} (a global rank) or group_{arg}, not both")
    if group_rank is not None:
        if not isinstance(group_rank, int) or not 0 <= group_rank < g.size():
            raise ValueError(f"{who}: group_{arg}={group_rank!r} is not a rank of the group "
                             f"(size {g.size()})")  # fmt: skip
        return group_rank
    if rank is None:
        if default is None:
            raise ValueError(f"{who}: pass {arg} (a global rank) or group_{arg}")
        rank = default
    return _root(g, rank, who, arg)


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
    _object_list(who, g, object_list, "object_list")
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


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Collect every rank's picklable ``obj`` into ``object_gather_list`` of rank ``dst``.

    ``dst`` is a global rank (``group_dst`` a rank within ``group``; rank 0 when neither is
    given). Only ``dst`` passes a list, of the group's size; the others pass None.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [None]
    >>> dist.gather_object({"acc": 0.9}, out, dst=0)
    >>> out
    [{'acc': 0.9}]
    >>> dist.destroy_process_group()
    """
    who = "gather_object"
    g = _resolve(group, who)
    root = _group_peer(who, g, dst, group_dst, "dst", default=g.global_ranks[0])
    if g.comm is None:
        return None
    if g.comm.rank == root:
        _object_list(who, g, object_gather_list, "object_gather_list")
    elif object_gather_list is not None:
        raise ValueError(f"{who}: object_gather_list must be None on ranks other than the "
                         f"destination (rank {g.global_ranks[root]}; this is rank "
                         f"{g.global_ranks[g.comm.rank]})")  # fmt: skip
    gathered = g.comm.gather_object(obj, root)
    if g.comm.rank == root:
        object_gather_list[:] = gathered
    return None


def scatter_object_list(scatter_object_output_list: list,
                        scatter_object_input_list: list | None = None, src: int | None = None,
                        group: ProcessGroup | None = None, group_src: int | None = None) -> None:
    """Give group rank i item i of rank ``src``'s ``scatter_object_input_list`` (pickled).

    Each rank receives its object in ``scatter_object_output_list[0]``. ``src`` is a global
    rank (``group_src`` a rank within ``group``; rank 0 when neither is given).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> out = [None]
    >>> dist.scatter_object_list(out, [{"shard": 0}], src=0)
    >>> out
    [{'shard': 0}]
    >>> dist.destroy_process_group()
    """
    who = "scatter_object_list"
    g = _resolve(group, who)
    root = _group_peer(who, g, src, group_src, "src", default=g.global_ranks[0])
    if g.comm is None:
        return None
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError(f"{who}: scatter_object_output_list must be a list of at least one "
                         f"item (it receives this rank's object), got "
                         f"{scatter_object_output_list!r}")  # fmt: skip
    if g.comm.rank == root:
        _object_list(who, g, scatter_object_input_list, "scatter_object_input_list")
    scatter_object_output_list[0] = g.comm.scatter_object(
        list(scatter_object_input_list) if g.comm.rank == root else None, root)
    return None


def _object_peer(who, g, rank, group_rank, arg):
    peer = _group_peer(who, g, rank, group_rank, arg)
    if g.comm is not None and peer == g.comm.rank:
        raise ValueError(f"{who}: {arg}={g.global_ranks[peer]} is this process's own rank")
    return peer


def send_object_list(object_list: list, dst: int | None = None,
                     group: ProcessGroup | None = None, device=None,
                     group_dst: int | None = None, use_batch: bool = False) -> None:
    """Send the picklable objects of ``object_list`` to rank ``dst``.

    ``dst`` calls :func:`recv_object_list` with a list of the same length. ``device`` and
    ``use_batch`` are accepted for PyTorch compatibility (objects travel over MPI).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.send_object_list(["config"], dst=0)
    Traceback (most recent call last):
    ...
    ValueError: send_object_list: dst=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    who = "send_object_list"
    g = _resolve(group, who)
    peer = _object_peer(who, g, dst, group_dst, "dst")
    if g.comm is None:
        return None
    if not isinstance(object_list, list):
        raise TypeError(f"{who}: object_list must be a list, got {type(object_list).__name__}")
    g.comm.send_object(list(object_list), peer, 0)
    return None


def recv_object_list(object_list: list, src: int | None = None,
                     group: ProcessGroup | None = None, device=None,
                     group_src: int | None = None, use_batch: bool = False) -> int:
    """Receive the objects a rank sent with :func:`send_object_list` into ``object_list``.

    From rank ``src`` (``group_src`` within ``group``), or from any rank when both are None;
    returns the sender's global rank. ``object_list`` has as many items as were sent.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.init_process_group("mpi")  # a world of one: no peer to talk to
    >>> dist.recv_object_list([None], src=0)
    Traceback (most recent call last):
    ...
    ValueError: recv_object_list: src=0 is this process's own rank
    >>> dist.destroy_process_group()
    """
    who = "recv_object_list"
    g = _resolve(group, who)
    any_rank = src is None and group_src is None
    peer = None if any_rank else _object_peer(who, g, src, group_src, "src")
    if g.comm is None:
        return -1
    if not isinstance(object_list, list):
        raise TypeError(f"{who}: object_list must be a list, got {type(object_list).__name__}")
    received, sender = g.comm.recv_object(peer, 0)
    if len(received) != len(object_list):
        raise ValueError(f"{who}: rank {g.global_ranks[sender]} sent {len(received)} objects but "
                         f"object_list has {len(object_list)}")  # fmt: skip
    object_list[:] = received
    return g.global_ranks[sender]


# ----------------------------------------------------------------------------- batches


class P2POp:
    """One point-to-point operation for :func:`batch_isend_irecv`: :func:`isend` or :func:`irecv`.

    Parameters
    ----------
    op : callable
        ``flambeau.distributed.isend`` or ``flambeau.distributed.irecv``.
    tensor : Tensor
        What to send, or where to receive.
    peer : int, optional
        The other process's global rank (or ``group_peer``, its rank within ``group``).
    group : ProcessGroup, optional
        The default (world) group when None.
    tag : int
        Matches sends with receives.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> op = dist.P2POp(dist.isend, flambeau.zeros(2), peer=1)
    >>> op.op is dist.isend, op.peer
    (True, 1)
    >>> dist.P2POp(dist.send, flambeau.zeros(2), peer=1)
    Traceback (most recent call last):
    ...
    ValueError: P2POp: op must be flambeau.distributed.isend or irecv, got send
    """

    __slots__ = ("op", "tensor", "peer", "group", "tag", "group_peer")

    def __init__(self, op, tensor: Tensor, peer: int | None = None,
                 group: ProcessGroup | None = None, tag: int = 0, group_peer: int | None = None):
        who = "P2POp"
        if op is not isend and op is not irecv:
            raise ValueError(f"{who}: op must be flambeau.distributed.isend or irecv, got "
                             f"{getattr(op, '__name__', op)}")  # fmt: skip
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{who}: tensor must be a flambeau Tensor, got {type(tensor).__name__}")
        if (peer is None) == (group_peer is None):
            raise ValueError(f"{who}: pass peer (a global rank) or group_peer, exactly one")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer

    def __repr__(self) -> str:
        who = f"peer={self.peer}" if self.peer is not None else f"group_peer={self.group_peer}"
        return f"P2POp({self.op.__name__}, {who}, tag={self.tag})"


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every send and receive of ``p2p_op_list`` together; return their :class:`Work`.

    Every op uses the same group. On NCCL they form one group call, so ranks that exchange
    in both directions do not wait for each other; ``wait()`` on each work before reading.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.batch_isend_irecv([])
    Traceback (most recent call last):
    ...
    ValueError: batch_isend_irecv: p2p_op_list must be a non-empty list of P2POp, got []
    >>> dist.destroy_process_group()
    """
    who = "batch_isend_irecv"
    if (not isinstance(p2p_op_list, list) or not p2p_op_list
            or not all(isinstance(p, P2POp) for p in p2p_op_list)):
        raise ValueError(f"{who}: p2p_op_list must be a non-empty list of P2POp, got "
                         f"{p2p_op_list!r}")  # fmt: skip
    first = p2p_op_list[0].group
    if any(p.group is not first for p in p2p_op_list):
        raise ValueError(f"{who}: every P2POp must use the same group")
    g = _resolve(first, who)
    if g.comm is None:
        return []
    peers = []
    for p in p2p_op_list:  # check every op (isend's/irecv's own checks) before starting any:
        rank = p.peer if p.peer is not None else g.global_ranks[  # a refused op after started
            _group_peer(who, g, None, p.group_peer, "peer")]  # ones left them to match later
        _peer(p.op.__name__, g, p.tensor, rank, "dst" if p.op is isend else "src")
        peers.append(rank)
    works = []
    with g.comm.coalesced():
        for p, rank in zip(p2p_op_list, peers, strict=True):
            works.append(p.op(p.tensor, rank, group=p.group, tag=p.tag))
    return works


def monitored_barrier(group: ProcessGroup | None = None, timeout=None,
                      wait_all_ranks: bool = False) -> None:
    """A barrier that raises, naming the ranks that did not arrive within ``timeout``.

    Rank 0 waits for the others and tells them who was missing, so every rank that arrived
    raises the same :class:`DistBackendError` instead of hanging; a rank that hears nothing
    from rank 0 within twice ``timeout`` raises naming it. Unlike PyTorch (Gloo only)
    it runs on every backend, and it always names every missing rank (``wait_all_ranks``
    is accepted for compatibility).

    Parameters
    ----------
    group : ProcessGroup, optional
        The default (world) group when None.
    timeout : datetime.timedelta or float, optional
        How long to wait (seconds when a number); :data:`default_pg_timeout` when None.

    Examples
    --------
    >>> import datetime, flambeau.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.monitored_barrier(timeout=datetime.timedelta(seconds=5))
    >>> dist.destroy_process_group()
    """
    who = "monitored_barrier"
    g = _resolve(group, who)
    if timeout is None:
        timeout = default_pg_timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        timeout = timedelta(seconds=timeout)
    if not isinstance(timeout, timedelta) or timeout.total_seconds() <= 0:
        raise ValueError(f"{who}: timeout must be a positive datetime.timedelta (or seconds), "
                         f"got {timeout!r}")  # fmt: skip
    if g.comm is None or g.size() == 1:
        return None
    seconds = timeout.total_seconds()
    missing = g.comm.monitored_barrier(seconds)
    if missing:
        ranks = [g.global_ranks[r] for r in missing]
        if g.comm.rank != 0 and missing == [0]:
            raise DistBackendError(
                f"{who}: rank {ranks[0]} (the group's first rank, which checks the others) did "
                f"not confirm the barrier within {2 * seconds:g} s (twice the timeout of "
                f"{seconds:g} s); it is stuck or has failed"
            )
        word = "rank" if len(ranks) == 1 else "ranks"
        listed = ", ".join(str(r) for r in ranks)
        raise DistBackendError(f"{who}: {word} {listed} did not reach the barrier (or gave up "
                               f"waiting) within {seconds:g} s; stuck or failed")  # fmt: skip
    return None

"""Bucketed gradient averaging for DistributedDataParallel.

Parameters are grouped into buckets of about ``bucket_cap_mb``, in reverse registration order
(the order in which backward usually produces their gradients). A hook on each parameter
copies the parameter's full gradient (what ``.grad`` will hold: the old ``.grad`` plus the
incoming one) into its slot of a flat bucket buffer; when every slot of a bucket is filled,
and every earlier bucket has started, the bucket's non-blocking all-reduce starts, so
communication overlaps the rest of backward. The hook returns a zero gradient, so the
engine's own accumulation leaves ``.grad`` alone. When the last expected gradient arrives the
reducer waits for all buckets, divides by the world size and writes the averages into
``.grad`` (or leaves ``.grad`` as views of the buckets with ``gradient_as_bucket_view``).

Buckets start in index order on every rank, so the ranks' non-blocking collectives match
even when hooks fire in slightly different orders.
"""

from __future__ import annotations

import weakref

from flambeau import Tensor
from flambeau.distributed._reduce_op import ReduceOp

__all__ = ["Reducer"]


class _Bucket:
    __slots__ = ("flat", "members", "pending", "work")

    def __init__(self, flat, members):
        self.flat = flat
        self.members = members  # parameter indices
        self.pending = len(members)
        self.work = None


def _assign_buckets(params, cap_bytes):
    """Lists of parameter indices, reverse order, split by size cap, dtype and device."""
    buckets, current, size, key = [], [], 0, None
    for i in reversed(range(len(params))):
        p = params[i]
        k = (p._data.dtype, p._device)
        nbytes = p._data.nbytes
        if current and (k != key or size + nbytes > cap_bytes):
            buckets.append(current)
            current, size = [], 0
        current.append(i)
        size += nbytes
        key = k
    if current:
        buckets.append(current)
    return buckets


def _reachable_leaves(outputs):
    """ids of the leaf tensors that the graphs of ``outputs`` send gradients to."""
    stack, seen, leaves = [], set(), set()

    def collect(obj):
        if isinstance(obj, Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            elif obj.requires_grad:
                leaves.add(id(obj))
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                collect(o)
        elif isinstance(obj, dict):
            for o in obj.values():
                collect(o)

    collect(outputs)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    return leaves


class Reducer:
    """Averages the gradients of ``params`` over the ranks of ``comm`` (see the module notes).

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> from flambeau.distributed._reducer import Reducer
    >>> dist.init_process_group("mpi")
    >>> w = flambeau.ones(3, requires_grad=True)
    >>> r = Reducer([w], ["w"], dist.new_group().comm, bucket_cap_mb=25)
    >>> r.start_pass(sync=True, outputs=None)
    >>> (w * 2).sum().backward()
    >>> w.grad
    tensor([2., 2., 2.])
    >>> dist.destroy_process_group()
    """

    def __init__(self, params, names, comm, bucket_cap_mb=25.0, find_unused_parameters=False,
                 gradient_as_bucket_view=False):
        self.params = params
        self.names = names
        self.comm = comm
        self.find_unused = find_unused_parameters
        self.as_view = gradient_as_bucket_view
        self.buckets: list[_Bucket] = []
        self.slots = [None] * len(params)  # parameter index -> (bucket, view of its slot)
        for members in _assign_buckets(params, int(bucket_cap_mb * 1024 * 1024)):
            first = params[members[0]]
            total = sum(params[i]._data.size for i in members)
            flat = first._device.backend.xp.zeros(total, first._data.dtype)
            bucket = _Bucket(flat, members)
            offset = 0
            for i in members:
                n = params[i]._data.size
                self.slots[i] = (bucket, flat[offset : offset + n].reshape(params[i]._data.shape))
                offset += n
            self.buckets.append(bucket)
        # the hooks' return value: a zero gradient (a broadcast view, no memory) that the
        # engine adds to .grad; recognized by identity when it comes back to the hook
        self.zeros = []
        for p in params:
            xp = p._device.backend.xp
            zero = xp.broadcast_to(xp.zeros((), p._data.dtype), p._data.shape)
            self.zeros.append(Tensor._make(zero, p._device))
        self.view_grads = [None] * len(params)  # with gradient_as_bucket_view
        self.sync = False
        self.started = False
        self.finalized = True
        self.ready = [False] * len(params)
        self.remaining = 0
        self.next_bucket = 0
        ref = weakref.ref(self)
        self.handles = [p.register_hook(_make_hook(ref, i)) for i, p in enumerate(params)]

    def start_pass(self, sync, outputs):
        """Prepare for the backward of a forward pass (``sync`` False under ``no_sync``)."""
        if self.started and not self.finalized:
            missing = [n for n, r in zip(self.names, self.ready, strict=True) if not r]
            raise RuntimeError(
                "DistributedDataParallel: the previous backward pass produced no gradient for "
                f"parameters {missing}; their gradients could not be averaged. Pass "
                "find_unused_parameters=True if some parameters take no part in the loss, or "
                "make sure every output used in the loss takes part in backward"
            )
        self._reset(sync)
        if sync and self.find_unused and outputs is not None:
            used = _reachable_leaves(outputs)
            for i, p in enumerate(self.params):
                if id(p) not in used:
                    self._mark_ready(i, None)

    def _reset(self, sync):
        self.sync = sync
        self.started = False
        self.finalized = False
        self.ready = [False] * len(self.params)
        self.locally_used = [True] * len(self.params)
        self.remaining = len(self.params)
        self.next_bucket = 0
        for b in self.buckets:
            b.pending = len(b.members)
            b.work = None

    def hook(self, i, grad):
        if grad is self.zeros[i] or not self.sync:
            return None  # our own zero coming back, or no_sync: plain local accumulation
        if self.finalized:
            self._reset(True)  # a second backward through a retained graph
        if self.ready[i]:
            return None
        self.started = True
        self._mark_ready(i, grad)
        return self.zeros[i]

    def _mark_ready(self, i, grad):
        p = self.params[i]
        bucket, slot = self.slots[i]
        old = p.grad
        self.ready[i] = True
        if grad is None:
            self.locally_used[i] = False
        if self.as_view and old is not None and old is self.view_grads[i]:
            if grad is not None:
                slot += grad._data
        elif old is None:
            slot[...] = 0 if grad is None else grad._data
        elif grad is None:
            slot[...] = old._data
        else:
            p._device.backend.xp.add(old._data, grad._data, out=slot)
        if grad is not None:
            if self.as_view:
                p.grad = self._view_grad(i)
            elif old is None:  # the engine adds the returned zero to it; averaged later
                p.grad = Tensor._make(slot.copy(), p._device)
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        elif self.next_bucket and self.buckets[self.next_bucket - 1].work is not None:
            self.buckets[self.next_bucket - 1].work.is_completed()  # lets MPI make progress
        self.remaining -= 1
        if self.remaining == 0:
            self._finalize()

    def _view_grad(self, i):
        if self.view_grads[i] is None:
            self.view_grads[i] = Tensor._make(self.slots[i][1], self.params[i]._device)
        return self.view_grads[i]

    def _launch_ready_buckets(self):
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.pending:
                return
            bucket.work = self.comm.all_reduce(bucket.flat, ReduceOp.SUM, async_op=True)
            self.next_bucket += 1

    def _finalize(self):
        self.finalized = True
        used = self._globally_used()
        world = self.comm.size
        for bucket in self.buckets:
            bucket.work.wait()
            if world > 1:
                bucket.flat /= world
        for i, p in enumerate(self.params):
            if not used[i]:
                continue  # no rank produced a gradient: .grad stays as it was
            slot = self.slots[i][1]
            if self.as_view:
                if p.grad is not self.view_grads[i]:
                    p.grad = self._view_grad(i)
            elif p.grad is None:
                p.grad = Tensor._make(slot.copy(), p._device)
            else:
                p.grad._data[...] = slot
            p.grad._version_counter.value += 1

    def _globally_used(self):
        if not self.find_unused or self.comm.size == 1:
            return self.locally_used
        every = self.comm.all_gather_object(self.locally_used)  # a few bytes per parameter
        return [any(flags) for flags in zip(*every, strict=True)]

    def remove_hooks(self):
        for h in self.handles:
            h.remove()
        self.handles = []


def _make_hook(ref, i):
    def hook(grad):
        reducer = ref()
        return None if reducer is None else reducer.hook(i, grad)

    return hook

"""DistributedDataParallel: one model replica per process, gradients averaged in backward."""

from __future__ import annotations

import contextlib

import flambeau
from flambeau.distributed._collectives import _writable
from flambeau.distributed._group import ProcessGroup, _resolve
from flambeau.distributed._reducer import Reducer
from flambeau.distributed._registry import get_comm_backend
from flambeau.nn.modules.module import Module

__all__ = ["DistributedDataParallel"]

_WHO = "DistributedDataParallel"


class DistributedDataParallel(Module):
    """Data-parallel training: each process runs ``module`` on its share of every batch.

    At construction the parameters and buffers of rank 0 are copied to every rank. During
    ``backward`` the gradients are averaged over the ranks: parameters are grouped into
    buckets of about ``bucket_cap_mb`` megabytes (in reverse registration order), and each
    bucket's non-blocking all-reduce starts as soon as its last gradient is computed, so
    communication overlaps the rest of backward. After ``backward`` every rank holds the same
    averaged ``.grad``, so identical optimizer steps keep the replicas identical.

    The wrapped module is ``self.module``; ``state_dict()`` keys carry the ``"module."`` prefix,
    as in PyTorch: save ``ddp.module.state_dict()`` to load the weights without DDP.

    Parameters
    ----------
    module : Module
        The model; the same architecture on every rank.
    device_ids : list of int, optional
        None for CPU modules; for a CUDA module, its one device.
    output_device : int, optional
        Accepted for PyTorch compatibility (outputs stay where the module puts them).
    dim : int
        Accepted for PyTorch compatibility (each process passes its own batch).
    broadcast_buffers : bool
        Copy rank 0's buffers (BatchNorm statistics...) to all ranks before each forward.
    process_group : ProcessGroup, optional
        The ranks to average over (default: the world).
    bucket_cap_mb : float
        Bucket size in megabytes (default 25).
    find_unused_parameters : bool
        Find, after each forward, the parameters its outputs do not depend on and treat them
        as ready, so that backward can finish averaging. Without it such parameters stop the
        averaging and the next forward raises an error naming them.
    check_reduction, static_graph : bool
        Accepted for PyTorch compatibility.
    gradient_as_bucket_view : bool
        Make each ``.grad`` a view into its bucket, saving one copy and the memory of the
        gradients.

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> from flambeau import nn
    >>> dist.init_process_group("mpi")
    >>> model = dist.DistributedDataParallel(nn.Linear(3, 1))
    >>> model(flambeau.ones(4, 3)).sum().backward()
    >>> model.module.weight.grad.shape
    flambeau.Size([1, 3])
    >>> sorted(model.state_dict())
    ['module.bias', 'module.weight']
    >>> dist.destroy_process_group()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group: ProcessGroup | None = None,
                 bucket_cap_mb: float = 25, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"{_WHO}: module must be a flambeau.nn.Module, got "
                            f"{type(module).__name__}")  # fmt: skip
        group = _resolve(process_group, _WHO)
        if group.comm is None:
            raise ValueError(f"{_WHO}: this process (rank {_resolve(None, _WHO).rank()}) is not "
                             f"in process_group {group.global_ranks}")  # fmt: skip
        if not bucket_cap_mb > 0:
            raise ValueError(f"{_WHO}: bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_devices(module, group, device_ids)
        self.module = module
        self.process_group = group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._verify_same_model(module, group)
        self._broadcast([*module.parameters(), *module.buffers()])
        self.reducer = Reducer(
            [p for _, p in named], [n for n, _ in named], group.comm, bucket_cap_mb,
            find_unused_parameters, gradient_as_bucket_view,
        )  # fmt: skip

    @staticmethod
    def _check_devices(module, group, device_ids):
        kinds = get_comm_backend(group.backend).device_types
        for name, t in [*module.named_parameters(), *module.named_buffers()]:
            if t._device.type not in kinds:
                raise ValueError(
                    f"{_WHO}: backend {group.backend!r} moves {', '.join(kinds)} tensors, but "
                    f"{name!r} is on {t._device}; move the module or use another backend"
                )
            if t._device.type == "cpu" and device_ids is not None:
                raise ValueError(f"{_WHO}: device_ids must be None for a module on cpu, got "
                                 f"{device_ids!r}")  # fmt: skip

    @staticmethod
    def _verify_same_model(module, group):
        """The same parameter and buffer names, shapes and dtypes on every rank, or an error."""
        if group.size() == 1:
            return
        mine = [(n, tuple(t.shape), str(t.dtype).removeprefix("flambeau."))
                for n, t in [*module.named_parameters(), *module.named_buffers()]]  # fmt: skip
        every = group.comm.all_gather_object(mine)
        for r, theirs in enumerate(every):
            if theirs == every[0]:
                continue
            diff = next(((a, b) for a, b in zip(every[0], theirs, strict=False) if a != b),
                        (f"{len(every[0])} tensors", f"{len(theirs)} tensors"))  # fmt: skip
            raise ValueError(
                f"{_WHO}: the module differs across ranks: rank {group.global_ranks[0]} has "
                f"{diff[0]} where rank {group.global_ranks[r]} has {diff[1]}; every rank must "
                "build the same model"
            )

    def _broadcast(self, tensors):
        comm, root = self.process_group.comm, 0
        if comm.size == 1:
            return
        for t in tensors:
            array, writeback = _writable(t)
            comm.broadcast(array, root, async_op=False)
            if writeback is not None:
                writeback()
            t._version_counter.value += 1

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module (after syncing buffers) and prepare gradient averaging.

        Examples
        --------
        >>> import flambeau, flambeau.distributed as dist
        >>> from flambeau import nn
        >>> dist.init_process_group("mpi")
        >>> ddp = dist.DistributedDataParallel(nn.Linear(2, 2))
        >>> ddp(flambeau.zeros(1, 2)).shape
        flambeau.Size([1, 2])
        >>> dist.destroy_process_group()
        """
        sync = flambeau.is_grad_enabled() and self.require_backward_grad_sync
        self.reducer.start_pass(False, None)  # raises if the last backward did not finish
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._broadcast(list(self.module.buffers()))
        outputs = self.module(*inputs, **kwargs)
        self.reducer.start_pass(sync, outputs)
        return outputs

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally, without averaging, for the passes run inside.

        The first backward after the block averages the accumulated gradients, so
        ``k - 1`` steps inside ``no_sync`` and one outside equal one step on ``k`` times
        the batch.

        Examples
        --------
        >>> import flambeau, flambeau.distributed as dist
        >>> from flambeau import nn
        >>> dist.init_process_group("mpi")
        >>> ddp = dist.DistributedDataParallel(nn.Linear(2, 1))
        >>> with ddp.no_sync():
        ...     ddp(flambeau.ones(1, 2)).sum().backward()
        >>> ddp(flambeau.ones(1, 2)).sum().backward()
        >>> ddp.module.bias.grad
        tensor([2.])
        >>> dist.destroy_process_group()
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

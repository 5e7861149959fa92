"""flambeau.distributed: data-parallel training over TCP or MPI (CPU) and NCCL (GPU).

PyTorch's ``torch.distributed`` API: process groups, collectives on tensors and on small
Python objects, and :class:`DistributedDataParallel`. Processes start with the launcher
(torchrun's counterpart) for ``backend="gloo"``, or with MPI's for "mpi" and "nccl"::

    python -m flambeau.distributed.run --nproc-per-node 4 train.py
    mpiexec -n 4 python train.py

Communication backends are pluggy plugins (entry-point group ``flambeau.distributed``, hook
:func:`flambeau.distributed.hookspecs.flambeau_comm_backends`): "gloo" moves CPU tensors over
TCP sockets, "mpi" moves them with mpi4py, "nccl" moves CUDA tensors with CuPy's NCCL
bindings.

Examples
--------
>>> import flambeau, flambeau.distributed as dist
>>> dist.init_process_group(backend="mpi")
>>> t = flambeau.tensor([1.0, 2.0])
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
>>> t * dist.get_world_size()
tensor([1., 2.])
>>> dist.destroy_process_group()
"""

from flambeau.distributed._backend import CommBackend, Communicator
from flambeau.distributed._backend_names import (
    Backend,
    default_pg_timeout,
    get_default_backend_for_device,
    get_node_local_rank,
    is_backend_available,
    is_gloo_available,
    is_torchelastic_launched,
    is_ucc_available,
    is_xccl_available,
)
from flambeau.distributed._collectives import (
    P2POp,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    batch_isend_irecv,
    broadcast,
    broadcast_object_list,
    gather,
    gather_object,
    irecv,
    isend,
    monitored_barrier,
    recv,
    recv_object_list,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    scatter_object_list,
    send,
    send_object_list,
)
from flambeau.distributed._ddp import DistributedDataParallel
from flambeau.distributed._errors import (
    DistBackendError,
    DistError,
    DistNetworkError,
    DistStoreError,
    QueueEmptyError,
)
from flambeau.distributed._group import (
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    new_group,
    new_subgroups,
    set_shape_checks,
)
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._registry import (
    CommBackendRegistryError,
    comm_backend_names,
    get_comm_backend,
)
from flambeau.distributed._store import FileStore, HashStore, PrefixStore, Store, TCPStore
from flambeau.distributed._work import Work

__all__ = [
    "CommBackend", "Communicator", "CommBackendRegistryError", "comm_backend_names",
    "get_comm_backend", "ReduceOp", "Work", "ProcessGroup", "init_process_group",
    "destroy_process_group", "is_initialized", "is_available", "is_mpi_available",
    "is_nccl_available", "get_rank", "get_world_size", "get_backend", "get_process_group_ranks",
    "new_group", "set_shape_checks", "all_reduce", "broadcast", "reduce", "all_gather",
    "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter",
    "barrier", "send", "recv", "isend", "irecv", "all_gather_object", "broadcast_object_list",
    "DistributedDataParallel", "Backend", "default_pg_timeout", "is_gloo_available",
    "is_ucc_available", "is_xccl_available", "is_backend_available",
    "get_default_backend_for_device", "is_torchelastic_launched", "get_node_local_rank",
    "DistError", "DistBackendError", "DistNetworkError", "DistStoreError", "QueueEmptyError",
    "GroupMember", "group", "get_global_rank", "get_group_rank", "new_subgroups",
    "Store", "HashStore", "FileStore", "TCPStore", "PrefixStore", "all_to_all",
    "all_to_all_single", "gather_object", "scatter_object_list", "send_object_list",
    "recv_object_list", "P2POp", "batch_isend_irecv", "monitored_barrier",
]  # fmt: skip

"""Backend names and what a launcher tells a process (``torch.distributed``'s helpers)."""

from __future__ import annotations

import os
from datetime import timedelta

from flambeau.distributed._registry import comm_backend_names, get_comm_backend

__all__ = [
    "Backend", "default_pg_timeout", "is_gloo_available", "is_ucc_available",
    "is_xccl_available", "is_backend_available", "get_default_backend_for_device",
    "is_torchelastic_launched", "get_node_local_rank",
]  # fmt: skip



class _Timeout(timedelta):
    """PyTorch's default timeout of process groups and :func:`monitored_barrier`: 30 minutes.

    A ``datetime.timedelta``.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.default_pg_timeout
    datetime.timedelta(seconds=1800)
    >>> dist.default_pg_timeout.total_seconds() / 60
    30.0
    """

    def __repr__(self) -> str:
        return repr(timedelta(self.days, self.seconds, self.microseconds))


default_pg_timeout = _Timeout(minutes=30)


class Backend(str):
    """A communication backend's name: a lower-case string with PyTorch's constants.

    ``Backend("MPI") == "mpi"``. flambeau runs "gloo" and "mpi" (CPU tensors) and "nccl"
    (CUDA tensors), and any backend a plugin registers; the other constants exist so that
    code comparing against them runs.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.Backend("MPI"), dist.Backend.NCCL
    ('mpi', 'nccl')
    >>> dist.Backend.default_device_backend_map
    {'cpu': 'gloo', 'cuda': 'nccl'}
    >>> dist.Backend(3)
    Traceback (most recent call last):
    ...
    ValueError: Backend: the name must be a string such as 'mpi', got int
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    FAKE = "fake"
    backend_list = [UNDEFINED, GLOO, NCCL, XCCL, UCC, MPI, FAKE]
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL}  # torch's: gloo moves CPU tensors
    backend_capability = {GLOO: ["cpu"], MPI: ["cpu"], NCCL: ["cuda"]}

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend: the name must be a string such as 'mpi', got "
                             f"{type(name).__name__}")  # fmt: skip
        return super().__new__(cls, name.lower())


def _unavailable() -> bool:
    return False


def is_gloo_available() -> bool:
    """Whether the "gloo" backend (CPU tensors over TCP, no MPI needed) is installed.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_gloo_available()
    True
    """
    return is_backend_available("gloo")


def is_ucc_available() -> bool:
    """False: flambeau has no UCC backend.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_ucc_available()
    False
    """
    return _unavailable()


def is_xccl_available() -> bool:
    """False: flambeau has no XCCL (Intel GPU) backend.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_xccl_available()
    False
    """
    return _unavailable()


def is_backend_available(backend: str) -> bool:
    """Whether the communication backend called ``backend`` is installed and can run here.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_backend_available("mpi"), dist.is_backend_available("ucc")
    (True, False)
    """
    name = str(backend).lower()
    return name in comm_backend_names() and get_comm_backend(name).is_available()


def get_default_backend_for_device(device) -> str:
    """The backend that moves tensors of ``device`` (a string or device): "gloo" or "nccl",
    as PyTorch's ("mpi" moves CPU tensors too, under ``mpiexec``).

    Examples
    --------
    >>> import flambeau, flambeau.distributed as dist
    >>> dist.get_default_backend_for_device("cuda:1"), dist.get_default_backend_for_device(
    ...     flambeau.device("cpu"))
    ('nccl', 'gloo')
    >>> dist.get_default_backend_for_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: Default backend not registered for device : tpu (flambeau has one for cpu, cuda)
    """
    kind = device.split(":")[0] if isinstance(device, str) else getattr(device, "type", None)
    backend = Backend.default_device_backend_map.get(kind)
    if backend is None:
        known = ", ".join(Backend.default_device_backend_map)
        raise ValueError(f"Default backend not registered for device : {device} (flambeau has "
                         f"one for {known})")  # fmt: skip
    return backend


def is_torchelastic_launched() -> bool:
    """Whether torchrun (torchelastic) started this process: ``TORCHELASTIC_RUN_ID`` is set.

    ``python -m flambeau.distributed.run`` (``flambeau-run``) sets it too; under ``mpiexec``
    or in a plain ``python`` this is False.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.is_torchelastic_launched()
    False
    """
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


_LOCAL_RANK_VARS = ("LOCAL_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK")


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among the processes of its machine.

    Read from ``LOCAL_RANK`` (torchrun), or the local rank MPICH's or Open MPI's launcher
    sets; ``fallback_rank`` when none is set, else a RuntimeError.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> dist.get_node_local_rank(fallback_rank=0)
    0
    """
    for var in _LOCAL_RANK_VARS:
        if var in os.environ:
            return int(os.environ[var])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "get_node_local_rank: no local rank in the environment (LOCAL_RANK, MPI_LOCALRANKID or "
        "OMPI_COMM_WORLD_LOCAL_RANK); launch with mpiexec or torchrun, or pass fallback_rank= "
        "to run on one device"
    )

"""Shared fixtures: the process group, and running MPI jobs from a test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flambeau.distributed as dist

HERE = Path(__file__).resolve().parent


def mpi_world_size() -> int:
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_size()


def mpiexec() -> str:
    """The launcher of the MPI that mpi4py runs on (next to this Python first)."""
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if found is None:
        pytest.skip("no mpiexec found: pip install mpich")
    return found


def run_mpi(args: list[str], n: int = 2, timeout: float = 300, env=None):
    """Run ``mpiexec -n n python args...``; return (returncode, output, seconds).

    A job that outlives ``timeout`` is killed with its whole process group and reported as a
    hang (return code None).
    """
    import time

    cmd = [mpiexec(), "-n", str(n), sys.executable, *args]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", **(env or {})}  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=full_env, start_new_session=True)  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        code = None
    return code, out, time.perf_counter() - start


@pytest.fixture
def world():
    """The default group for the length of a test (a world of one outside mpiexec)."""
    dist.init_process_group("mpi")
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def launched_world_size() -> int:
    """The world size that ``flambeau.distributed.run`` (or torchrun) gave, 0 without one."""
    return int(os.environ.get("WORLD_SIZE", 0)) if dist.is_torchelastic_launched() else 0


@pytest.fixture
def world2():
    """The default group of a 2-rank job: "gloo" under ``python -m flambeau.distributed.run
    --nproc-per-node 2``, else "mpi"; skips outside such a job (or ``mpiexec -n 2``)."""
    from datetime import timedelta

    if launched_world_size() == 2:
        dist.init_process_group("gloo", timeout=timedelta(seconds=60))
    elif mpi_world_size() == 2:
        dist.init_process_group("mpi")
    else:
        pytest.skip("needs 2 ranks: run `mpiexec -n 2 python -m pytest -m mpi` or "
                    "`python -m flambeau.distributed.run --nproc-per-node 2 -m pytest -m mpi`")
    yield dist.get_rank()
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.fixture
def mpi_job():
    """:func:`run_mpi`, for tests that launch their own MPI jobs."""
    if mpi_world_size() != 1:
        pytest.skip("launches mpiexec itself: run it outside mpiexec")
    return run_mpi


@pytest.fixture
def free_port():
    """A function giving a TCP port that is free now (for a rendezvous store)."""
    import socket

    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    return pick

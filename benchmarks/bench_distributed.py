"""flambeau.distributed: data-parallel scaling and all-reduce bandwidth, under mpiexec.

Two rows, each comparing flambeau with a reference that is not PyTorch (the ``torch`` column
holds the reference, so the ratio column reads as the target):

- ``ddp lenet``: LeNet-style CNN training at 2 ranks x 1 thread (DistributedDataParallel,
  each rank a full per-rank batch) against one process x 1 thread training the same batches
  without DDP. flambeau = seconds per sample at 2 ranks, reference = seconds per sample at 1
  rank, so ratio = samples/s at 2 ranks / samples/s at 1 rank; target >= 1.7.
- ``all_reduce 25 MB``: a 25 MB float32 bucket summed over 2 ranks with
  ``flambeau.distributed.all_reduce`` (shape check included) against mpi4py's raw
  ``Comm.Allreduce`` on the same array; ratio = raw time / flambeau time; target >= 0.9.

Each measurement runs in its own ``mpiexec`` job started from here (``--worker``), with
OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1. The 1-rank and 2-rank jobs run in
turn, ``LAUNCHES`` times each, and the all-reduce worker times flambeau and raw mpi4py in
alternating rounds; each side keeps its best. On the shared 2-core machine a whole process
(or a stretch of seconds) can run slow, and timing one side entirely before the other let
such a stretch decide the ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["run"]

PER_RANK_BATCH = 32
STEPS, ROUNDS, WARMUP = 5, 8, 2
LAUNCHES = 5  # mpiexec jobs per LeNet configuration, alternated
BUCKET_MB = 25
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ----------------------------------------------------------------------------- workers


def _lenet():
    from flambeau import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def _round(step, barrier):
    """Seconds per ``step`` over one round of ``STEPS`` calls between barriers."""
    barrier()
    start = time.perf_counter()
    for _ in range(STEPS):
        step()
    barrier()
    return (time.perf_counter() - start) / STEPS


def _best_rounds(steps, barrier):
    """Best seconds per call of each of ``steps`` (name -> callable), in alternating rounds."""
    for step in steps.values():
        for _ in range(WARMUP):
            step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(ROUNDS):
        for name, step in steps.items():
            best[name] = min(best[name], _round(step, barrier))
    return best


def _worker_lenet(use_ddp):
    import flambeau
    import flambeau.distributed as dist
    import flambeau.nn.functional as F

    dist.init_process_group("mpi")
    flambeau.manual_seed(0)
    model = _lenet()
    trained = dist.DistributedDataParallel(model) if use_ddp else model
    g = flambeau.Generator().manual_seed(dist.get_rank())
    x = flambeau.randn(PER_RANK_BATCH, 1, 28, 28, generator=g)
    y = flambeau.randint(0, 10, (PER_RANK_BATCH,), generator=g)
    params = list(model.parameters())

    def step():
        F.cross_entropy(trained(x), y).backward()
        with flambeau.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    seconds = _best_rounds({"step": step}, dist.barrier)["step"]
    samples = PER_RANK_BATCH * dist.get_world_size()
    return {"seconds_per_sample": seconds / samples}


def _worker_allreduce():
    import numpy as np
    from mpi4py import MPI

    import flambeau
    import flambeau.distributed as dist

    dist.init_process_group("mpi")
    n = BUCKET_MB * 1024 * 1024 // 4
    t = flambeau.ones(n)
    raw = np.ones(n, np.float32)
    comm = MPI.COMM_WORLD

    return _best_rounds({"flambeau": lambda: dist.all_reduce(t),
                         "mpi4py": lambda: comm.Allreduce(MPI.IN_PLACE, raw, MPI.SUM)},
                        comm.Barrier)  # fmt: skip


def _worker(kind):
    from mpi4py import MPI

    result = {"lenet_ddp": lambda: _worker_lenet(True), "lenet_plain": lambda: _worker_lenet(False),
              "allreduce": _worker_allreduce}[kind]()  # fmt: skip
    if MPI.COMM_WORLD.Get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------- driver


def _mpiexec():
    here = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    return here or shutil.which("mpiexec")


def _launch(kind, ranks):
    cmd = [_mpiexec(), "-n", str(ranks), sys.executable, __file__, "--worker", kind]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         env={**os.environ, **THREADS})  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"{' '.join(cmd)} failed (code {out.returncode}):\n{out.stdout}\n"
                       f"{out.stderr}")  # fmt: skip


def run() -> list[dict]:
    lenet = "ddp lenet samples/s: 2 ranks vs 1 rank (1 thread each)"
    allreduce = "all_reduce 25 MB float32, 2 ranks: flambeau vs raw mpi4py"
    needed = ("flambeau.distributed", "mpi4py")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing or _mpiexec() is None:
        why = f"skipped: no {', '.join(missing) or 'mpiexec'} (pip install flambeau-distributed)"
        return [{"name": name, "flambeau_s": None, "torch_s": None, "target": why}
                for name in (lenet, allreduce)]  # fmt: skip
    one = two = float("inf")
    for _ in range(LAUNCHES):
        one = min(one, _launch("lenet_plain", 1)["seconds_per_sample"])
        two = min(two, _launch("lenet_ddp", 2)["seconds_per_sample"])
    bandwidth = _launch("allreduce", 2)
    return [
        {"name": lenet, "flambeau_s": two, "torch_s": one,
         "target": ">= 1.7 (flambeau = s/sample at 2 ranks, torch column = 1 rank w/o DDP)"},
        {"name": allreduce, "flambeau_s": bandwidth["flambeau"], "torch_s": bandwidth["mpi4py"],
         "target": ">= 0.9 (torch column = raw mpi4py Comm.Allreduce)"},
    ]  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["lenet_ddp", "lenet_plain", "allreduce"])
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker)
    else:
        for row in run():
            print(row)

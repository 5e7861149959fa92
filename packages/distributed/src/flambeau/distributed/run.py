"""``python -m flambeau.distributed.run``: start the processes of a job, as torchrun does.

::

    python -m flambeau.distributed.run --nproc-per-node 4 train.py --epochs 3
    flambeau-run --nproc-per-node 4 train.py --epochs 3     # the same, as a command

Starts ``--nproc-per-node`` copies of ``python train.py ...`` with ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set,
for ``init_process_group("gloo")`` (``init_method="env://"``). Several machines: run it on
each with ``--nnodes``, its own ``--node-rank`` and the same ``--master-addr`` and
``--master-port`` (node 0 hosts the rendezvous). Exit codes are torchrun's: 0 when every
worker succeeded; 1 when one failed (the launcher stops the others and names it, with its
exit code or signal) or when the launcher got SIGINT, SIGTERM, SIGHUP or SIGQUIT, which it
passes on to the workers (as torchrun, so closing the terminal does not orphan them). Workers
still running ``--stop-grace`` seconds after either are killed (SIGKILL).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

__all__ = ["main"]

_PROG = "flambeau.distributed.run"
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)  # torchrun's


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m {_PROG}",
        description="Start the processes of a flambeau.distributed job (torchrun's flags).",
    )
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes on this machine: a number, or 'cpu' or 'auto' (one per "
                        "CPU core)")
    p.add_argument("--nnodes", default="1", help="machines in the job (default 1)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0,
                   help="this machine's index in [0, nnodes)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1",
                   help="address of node 0, which hosts the rendezvous store")
    p.add_argument("--master-port", "--master_port", type=int, default=None,
                   help="port of the rendezvous store (default: a free port with one node, "
                        "29500 with several)")
    p.add_argument("--standalone", action="store_true",
                   help="one machine, a free port (the default with --nnodes 1)")
    p.add_argument("--stop-grace", type=float, default=5.0,
                   help="seconds the other workers get to exit after a failure before SIGKILL")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script argument as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true",
                   help="run the script argument as an executable, not with python")
    p.add_argument("script", help="the training script (or module, or executable)")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="its arguments")
    return p  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _plan(args, parser):
    """The worker count, world size and rank offset from the flags; exits on a bad one."""
    nproc = args.nproc_per_node
    if nproc in ("cpu", "auto"):
        nproc = os.cpu_count() or 1
    try:
        nproc = int(nproc)
        nnodes = int(args.nnodes)
    except ValueError:
        parser.error(f"--nproc-per-node and --nnodes take a whole number, got "
                     f"{args.nproc_per_node!r} and {args.nnodes!r}")  # fmt: skip
    if nproc < 1 or nnodes < 1:
        parser.error(f"--nproc-per-node and --nnodes must be at least 1, got {nproc} and "
                     f"{nnodes}")  # fmt: skip
    if not 0 <= args.node_rank < nnodes:
        parser.error(f"--node-rank {args.node_rank} must be in [0, {nnodes}) for --nnodes "
                     f"{nnodes}")  # fmt: skip
    if args.standalone and nnodes != 1:
        parser.error("--standalone runs one machine: leave --nnodes out")
    port = args.master_port
    if port is None:
        port = _free_port() if nnodes == 1 else 29500
    if not 0 < port < 65536:
        parser.error(f"--master-port must be in [1, 65536), got {port}")
    return nproc, nnodes, port


def _command(args) -> list[str]:
    if args.no_python:
        return [args.script, *args.script_args]
    if args.module:
        return [sys.executable, "-u", "-m", args.script, *args.script_args]
    return [sys.executable, "-u", args.script, *args.script_args]


def _stop(workers, grace, signum=signal.SIGTERM):
    """Send ``signum`` to the workers still running (None: they already have the launcher's),
    then SIGKILL those alive after ``grace`` seconds."""
    alive = [w for w in workers if w.poll() is None]
    for w in alive if signum is not None else ():
        try:
            w.send_signal(signum)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    for w in alive:
        try:
            w.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def _describe(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def main(argv: list[str] | None = None) -> int:
    """Run the launcher with ``argv`` (default: the command line); return its exit code.

    As torchrun: 0 when every worker succeeded; 1 when one failed (after stopping the
    others; the message names its rank and exit code) or the launcher was interrupted.
    ``python -m flambeau.distributed.run`` and the ``flambeau-run`` command call it and exit
    with its result.

    Examples
    --------
    >>> import sys
    >>> from flambeau.distributed.run import main
    >>> main(["--nproc-per-node", "2", "--no-python", sys.executable, "-c", "pass"])
    0
    >>> main(["--nproc-per-node", "2", "--no-python", sys.executable, "-c",
    ...       "import os; raise SystemExit(3 if os.environ['RANK'] == '1' else 0)"])
    1
    """
    parser = _parser()
    args = parser.parse_args(argv)
    nproc, nnodes, port = _plan(args, parser)
    world = nproc * nnodes
    base = {**os.environ, "MASTER_ADDR": args.master_addr, "MASTER_PORT": str(port),
            "WORLD_SIZE": str(world), "LOCAL_WORLD_SIZE": str(nproc),
            "GROUP_RANK": str(args.node_rank), "TORCHELASTIC_RUN_ID": "flambeau"}  # fmt: skip
    if nproc > 1 and "OMP_NUM_THREADS" not in base:
        base["OMP_NUM_THREADS"] = "1"  # N processes x all cores each would oversubscribe
    command = _command(args)
    workers, ranks = [], {}
    received = []

    def forward(signum, frame):
        received.append(signum)
        for w in workers:
            if w.poll() is None:
                w.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    try:
        for local in range(nproc):
            rank = args.node_rank * nproc + local
            env = {**base, "RANK": str(rank), "LOCAL_RANK": str(local)}
            try:
                w = subprocess.Popen(command, env=env)
            except OSError as exc:
                _stop(workers, args.stop_grace)
                sys.stderr.write(f"{_PROG}: could not start {command[0]!r}: {exc}\n")
                return 1
            workers.append(w)
            ranks[w.pid] = rank
            if received:  # the launcher was interrupted while it started the workers
                w.send_signal(received[0])
        return _supervise(workers, ranks, received, args.stop_grace)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _supervise(workers, ranks, received, grace) -> int:
    """Wait for the workers; on the first failure, or once the launcher got a signal (which
    ``forward`` passed on), stop the rest and return 1."""
    pause = 0.01
    while True:
        if received:
            _stop(workers, grace, signum=None)
            sys.stderr.write(f"{_PROG}: got {signal.Signals(received[0]).name}, passed it on "
                             f"to the {len(workers)} worker(s) and stopped them\n")  # fmt: skip
            return 1
        codes = [w.poll() for w in workers]
        failed = next((w for w, code in zip(workers, codes, strict=True) if code), None)
        if failed is not None:
            _stop(workers, grace)
            rank = ranks[failed.pid]
            sys.stderr.write(
                f"{_PROG}: worker rank {rank} (pid {failed.pid}) {_describe(failed.returncode)}; "
                f"stopped the other {len(workers) - 1} worker(s). Look above for rank {rank}'s "
                "error\n"
            )
            sys.stderr.flush()
            return 1
        if None not in codes:
            return 0
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


if __name__ == "__main__":
    sys.exit(main())

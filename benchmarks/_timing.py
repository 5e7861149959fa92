"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1, warmup: int = 1) -> float:
    """Best time in seconds of one call to ``fn``.

    ``fn`` runs ``warmup`` times first (caches, lazy imports, allocator pools), then
    ``repeat`` rounds of ``number`` calls each; the fastest round divided by ``number`` is
    returned. The minimum is the estimate least disturbed by other work on a shared machine.
    """
    if repeat < 1 or number < 1:
        raise ValueError(f"best_of: repeat and number must be >= 1, got {repeat} and {number}")
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / number


HERE = Path(__file__).resolve().parent


def has_torch() -> bool:
    """Whether PyTorch is installed (checked without importing it into this process)."""
    return importlib.util.find_spec("torch") is not None


def in_fresh_process(call: str) -> float:
    """Seconds returned by the Python expression ``call``, evaluated in a new interpreter.

    ``call`` may import the benchmark modules (this folder is on ``sys.path``). Each
    framework is timed in a process of its own so that neither's process-wide settings
    (flambeau's host-memory caching, PyTorch's OpenMP threads that spin after each op on
    the shared cores) change what the other is measured at.
    """
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import {call.split('.')[0]}; " \
           f"print(repr(float({call})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark process for {call!r} failed:\n{done.stderr[-4000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def alternating(calls: dict[str, str], rounds: int = 5) -> dict[str, float]:
    """Best of ``rounds`` fresh-process timings of each of ``calls`` (name -> expression),
    taken in turn (a, b, a, b, ...) so that drifting load on a shared machine hits both.

    Five rounds, because on the shared 2-core machine a whole process can run slow: the
    same LSTM step measured 9-14 ms from one fresh process to the next (and a bare 512x161
    matmul 36-70 us), so that three rounds often left one framework with no quiet process.
    """
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = min(best[name], in_fresh_process(call))
    return best


def with_nn(framework: str):
    """The module ``framework`` ("flambeau" or "torch") with its ``nn`` subpackage loaded."""
    importlib.import_module(f"{framework}.nn")
    return importlib.import_module(framework)


def versus_torch(module: str, name: str, target: str, args: str = "") -> dict:
    """A benchmark row: ``module.measure(framework, ARGS)`` for flambeau and PyTorch, each
    timed in fresh processes of its own (see :func:`alternating`)."""
    extra = f", {args}" if args else ""
    calls = {"flambeau": f"{module}.measure('flambeau'{extra})"}
    if has_torch():
        calls["torch"] = f"{module}.measure('torch'{extra})"
    best = alternating(calls)
    return {"name": name, "flambeau_s": best["flambeau"], "torch_s": best.get("torch"),
            "target": target}

"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


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

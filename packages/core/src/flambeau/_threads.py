"""Threads for flambeau's own parallel CPU work (``set_num_threads``, ``get_num_threads``).

NumPy runs each call on one core. Work that splits into independent calls on separate
arrays, such as an optimizer step over many parameters, spreads them over a pool of threads:
NumPy releases the GIL inside its loops, so the threads run in parallel. Matrix products are
threaded by the BLAS library itself (``OPENBLAS_NUM_THREADS``), not by this setting.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

__all__ = ["get_num_threads", "set_num_threads"]


def _default_threads() -> int:
    """``OMP_NUM_THREADS`` when set to a positive number (as PyTorch reads it), else the
    cores this process may run on."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
        if n > 0:
            return n
    except ValueError:
        pass
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


_state = {"threads": _default_threads(), "pool": None, "workers": 0, "fork_hook": False}
_lock = threading.Lock()


def get_num_threads() -> int:
    """The number of threads flambeau uses for parallel CPU work.

    The default is ``OMP_NUM_THREADS`` when that is set, else the cores the process may use.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_num_threads() >= 1
    True
    """
    return _state["threads"]


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for flambeau's parallel CPU work (as ``torch.set_num_threads``).

    Parameters
    ----------
    n : int
        A positive number of threads; 1 runs everything on the calling thread.

    Examples
    --------
    >>> import flambeau
    >>> before = flambeau.get_num_threads()
    >>> flambeau.set_num_threads(1)
    >>> flambeau.get_num_threads()
    1
    >>> flambeau.set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock:
        _state["threads"] = n
        pool, _state["pool"] = _state["pool"], None
    if pool is not None:
        pool.shutdown(wait=False)


def run_split(fn, parts: list) -> list:
    """``[fn(part) for part in parts]`` with the parts run on the pool's threads at once.

    The first part runs on the calling thread. Every part finishes before an exception from
    any of them is raised here, so no thread is still writing when the caller sees it.
    """
    if len(parts) <= 1:
        return [fn(part) for part in parts]
    with _lock:
        pool = _state["pool"]
        if pool is None or _state["workers"] < len(parts) - 1:
            _state["workers"] = max(len(parts), _state["threads"]) - 1
            _forget_pool_after_fork()
            pool = _state["pool"] = ThreadPoolExecutor(max_workers=_state["workers"],
                                                       thread_name_prefix="flambeau")
    futures = [pool.submit(fn, part) for part in parts[1:]]
    try:
        first = fn(parts[0])
    finally:
        wait(futures)
    return [first, *(f.result() for f in futures)]


def _forget_pool_after_fork():
    """Once per process: a forked child (a DataLoader worker) has none of the parent's pool
    threads, so it must make its own pool."""
    if not _state["fork_hook"] and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: _state.update(pool=None, workers=0))
        _state["fork_hook"] = True

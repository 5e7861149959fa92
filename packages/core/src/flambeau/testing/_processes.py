"""Waiting for the processes a test starts, without ever hanging the test run."""

from __future__ import annotations

import time


def join_processes(processes, timeout: float = 120.0) -> None:
    """Wait for the started ``processes`` (``multiprocessing.Process`` objects), at most
    ``timeout`` seconds for all of them together, and check that each exited with code 0.

    A test that starts processes calls this instead of ``join()``: a process that hangs
    fails the test instead of the whole run. Those still running at the deadline are
    terminated before the failure is raised.

    Raises
    ------
    AssertionError
        When a process is still running at the deadline, or exited with a nonzero code
        (its exit code is in the message).

    Examples
    --------
    >>> import multiprocessing
    >>> from flambeau.testing import join_processes
    >>> p = multiprocessing.get_context("fork").Process(target=int)
    >>> p.start(); join_processes([p], timeout=60)
    >>> p.exitcode
    0
    """
    deadline = time.monotonic() + timeout
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    alive = [p for p in processes if p.is_alive()]
    for p in alive:
        p.terminate()
        p.join(10)
    if alive:
        raise AssertionError(f"{len(alive)} of {len(processes)} processes did not finish in "
                             f"{timeout} s (terminated)")
    codes = [p.exitcode for p in processes]
    if any(codes):
        raise AssertionError(f"processes exited with codes {codes}")

"""flambeau.testing.join_processes: a hanging or failing child fails the test, never hangs it."""

import os
import time

import pytest

import flambeau.multiprocessing as mp
from flambeau.testing import join_processes


def _sleep():
    time.sleep(60)


def _exit_three():
    os._exit(3)


def test_join_processes_waits_and_checks_exit_codes():
    ctx = mp.get_context("fork")
    ok = [ctx.Process(target=int) for _ in range(2)]
    for p in ok:
        p.start()
    join_processes(ok, timeout=60)
    assert [p.exitcode for p in ok] == [0, 0]
    failing = ctx.Process(target=_exit_three)
    failing.start()
    with pytest.raises(AssertionError, match=r"processes exited with codes \[3\]"):
        join_processes([failing], timeout=60)


def test_join_processes_ends_a_hanging_process():
    p = mp.get_context("fork").Process(target=_sleep)
    p.start()
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"1 of 1 processes did not finish in 0.5 s "
                                             r"\(terminated\)"):
        join_processes([p], timeout=0.5)
    assert time.monotonic() - start < 30 and not p.is_alive()

"""``flambeau.multiprocessing``: the standard module's names and ``spawn`` as torch's."""

import inspect
import os

import numpy as np
import pytest

import flambeau
import flambeau.multiprocessing as mp
from flambeau.testing._harness import torch_or_none


def _square_into(i, queue, values):
    queue.put((i, (flambeau.tensor(values) * (i + 1)).tolist()))


def _fail_on_one(i):
    if i == 1:
        raise ValueError(f"bad input in process {i}")


def _exit_three(i):
    os._exit(3)


def test_standard_names_are_reexported():
    import multiprocessing

    for name in ("Process", "Queue", "SimpleQueue", "get_context", "set_start_method",
                 "cpu_count", "Pool", "Manager"):
        assert getattr(mp, name) is getattr(multiprocessing, name)
    with pytest.raises(AttributeError, match="'flambeau.multiprocessing' has no attribute 'nope'"):
        mp.nope  # noqa: B018
    torch = torch_or_none()
    if torch is not None:
        want = inspect.signature(torch.multiprocessing.spawn).parameters
        assert list(inspect.signature(mp.spawn).parameters) == list(want)
        assert {n: p.default for n, p in inspect.signature(mp.spawn).parameters.items()} == \
            {n: p.default for n, p in want.items()}


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_spawn_runs_fn_with_each_index(start_method):
    ctx = mp.get_context(start_method)
    queue = ctx.SimpleQueue()
    assert mp.spawn(_square_into, args=(queue, [1.0, 2.0]), nprocs=3,
                    start_method=start_method) is None
    got = sorted(queue.get() for _ in range(3))
    assert got == [(0, [1.0, 2.0]), (1, [2.0, 4.0]), (2, [3.0, 6.0])]


def test_spawn_reports_the_failed_process_and_its_traceback():
    with pytest.raises(mp.ProcessRaisedException, match=r"(?s)spawn: process 1 raised:.*"
                                                        r"ValueError: bad input in process 1"):
        mp.spawn(_fail_on_one, nprocs=2, start_method="fork")
    try:
        mp.spawn(_fail_on_one, nprocs=2, start_method="fork")
    except mp.ProcessRaisedException as exc:
        assert exc.error_index == 1 and isinstance(exc.pid, int)
    torch = torch_or_none()
    if torch is not None:  # torch raises its own class for the same failure
        with pytest.raises(torch.multiprocessing.ProcessRaisedException,
                           match="ValueError: bad input in process 1"):
            torch.multiprocessing.spawn(_fail_on_one, nprocs=2, start_method="fork")


def test_spawn_reports_an_exit_code_and_returns_a_context_without_join():
    with pytest.raises(mp.ProcessExitedException, match="spawn: process 0 exited with code 3") \
            as info:
        mp.spawn(_exit_three, nprocs=1, start_method="fork")
    assert info.value.exit_code == 3 and info.value.error_index == 0
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    context = mp.spawn(_square_into, args=(queue, [5.0]), nprocs=2, join=False,
                       start_method="fork")
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 2
    while not context.join():
        pass
    np.testing.assert_array_equal(sorted(queue.get()[1][0] for _ in range(2)), [5.0, 10.0])


def test_sharing_strategies_as_torch():
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    try:
        mp.set_sharing_strategy("file_system")  # accepted; the memory is shared the same
        assert mp.get_sharing_strategy() == "file_system"
    finally:
        mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(AssertionError, match=r"set_sharing_strategy: invalid sharing strategy "
                                             r"'nope', expected one of \{"):
        mp.set_sharing_strategy("nope")
    torch = torch_or_none()
    if torch is not None:
        tmp = torch.multiprocessing
        assert tmp.get_all_sharing_strategies() == mp.get_all_sharing_strategies()
        assert tmp.get_sharing_strategy() == mp.get_sharing_strategy()
        with pytest.raises(AssertionError, match="invalid sharing strategy 'nope'"):
            tmp.set_sharing_strategy("nope")


class _ReapedLate:
    """A process whose exit code appears between two readings (reaped meanwhile)."""

    pid = 42

    def __init__(self, sentinel):
        self.sentinel, self._codes = sentinel, iter([None, None])

    @property
    def exitcode(self):
        return next(self._codes, 3)

    def is_alive(self):
        return False

    def join(self, timeout=None):
        pass


class _NoErrors:
    def empty(self):
        return True


def test_join_sees_a_failure_reaped_while_it_reads_exit_codes():
    r, w = os.pipe()
    os.close(w)  # the sentinel reads as ready, as a process that has ended
    try:
        context = mp.ProcessContext([_ReapedLate(r)], [_NoErrors()])
        assert context.join() is False  # not done yet: never True before the failure is seen
        with pytest.raises(mp.ProcessExitedException, match="process 0 exited with code 3"):
            context.join()
    finally:
        os.close(r)

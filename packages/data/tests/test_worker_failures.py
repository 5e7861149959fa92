"""Failures in workers end with an error within seconds and leave nothing behind."""

import faulthandler
import gc
import os
import signal
import threading
import time

import pytest
from leakcheck import no_leftovers  # noqa: F401 - autouse fixture

import flambeau
from flambeau.data import DataLoader, Dataset

# forked workers cannot use the parent's GPU (nor in torch): these run on the CPU only
pytestmark = pytest.mark.host_only

# A sample that "hangs" sleeps HANG_S; an error must come well before that. PROMPT_S is a
# bound for a stalled CI machine, not a speed target (workers fail within a second here).
HANG_S = 60
PROMPT_S = 20


class Failing(Dataset):
    def __init__(self, bad=5, how="raise"):
        self.bad, self.how = bad, how

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == self.bad:
            if self.how == "raise":
                raise ValueError(f"broken sample {i}")
            if self.how == "keyerror":
                raise KeyError("missing")
            if self.how == "local":
                class LocalError(Exception):
                    pass
                raise LocalError("cannot be pickled by reference")
            if self.how == "sleep":
                time.sleep(HANG_S)
                return flambeau.full((3,), float(i))
            faulthandler.disable()  # pytest's handler would print a dump from the worker
            os.kill(os.getpid(), getattr(signal, self.how))
        return flambeau.full((3,), float(i))


def _consume(loader):
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        for _ in loader:
            pass
    return info, time.monotonic() - start


@pytest.mark.parametrize("workers", [0, 2])
def test_exception_reraised_with_worker_traceback(workers):
    info, elapsed = _consume(DataLoader(Failing(), batch_size=2, num_workers=workers))
    assert info.type is ValueError and elapsed < PROMPT_S
    message = str(info.value)
    assert "broken sample 5" in message
    if workers:
        assert "worker process 0 (worker id 0, pid" in message
        assert "Original Traceback" in message and "__getitem__" in message


def test_keyerror_message_is_readable():
    info, _ = _consume(DataLoader(Failing(how="keyerror"), batch_size=2, num_workers=2))
    assert info.type is KeyError
    assert "Caught KeyError in DataLoader worker process 0" in str(info.value)
    assert "\\n" not in str(info.value)


def test_exception_type_that_cannot_travel_becomes_runtime_error():
    info, _ = _consume(DataLoader(Failing(how="local"), batch_size=2, num_workers=2))
    assert info.type is RuntimeError and "Caught LocalError" in str(info.value)


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSEGV"])
def test_killed_worker_raises_naming_worker_and_signal(sig):
    loader = DataLoader(Failing(bad=7, how=sig), batch_size=2, num_workers=2)
    info, elapsed = _consume(loader)
    assert info.type is RuntimeError and elapsed < PROMPT_S
    assert f"worker id 1) was killed by signal {sig}" in str(info.value)
    assert "DataLoader worker (pid " in str(info.value)


def test_timeout():
    loader = DataLoader(Failing(bad=3, how="sleep"), batch_size=2, num_workers=2, timeout=0.5)
    info, elapsed = _consume(loader)
    assert info.type is RuntimeError and str(info.value) == "DataLoader timed out after 0.5 seconds"
    assert elapsed < PROMPT_S


def _fail_init(worker_id):
    raise OSError(f"cannot open shard for worker {worker_id}")


def test_worker_init_fn_error():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2, worker_init_fn=_fail_init)
    info, _ = _consume(loader)
    assert info.type is OSError and "cannot open shard for worker 0" in str(info.value)


@pytest.fixture
def ctrl_c_raises():
    # A process started in the background by a non-interactive shell (as CI may start us)
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_keyboard_interrupt_stops_workers(ctrl_c_raises):
    loader = DataLoader(Failing(bad=3, how="sleep"), batch_size=2, num_workers=2)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in loader:
                pass
    finally:
        timer.cancel()
    assert time.monotonic() - start < PROMPT_S


def test_abandoned_iterator_cleans_up():
    loader = DataLoader(Failing(bad=-1), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).shape == (2, 3)
    del it
    gc.collect()


def test_deleted_persistent_loader_cleans_up():
    loader = DataLoader(Failing(bad=-1), batch_size=2, num_workers=2, persistent_workers=True)
    assert len(list(loader)) == 20
    it = iter(loader)
    next(it)
    del loader, it
    gc.collect()


def test_error_then_next_epoch_with_persistent_workers():
    ds = Failing()
    loader = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    info, _ = _consume(loader)
    assert info.type is ValueError
    ds.bad = -1  # fixed: a new epoch starts fresh workers (fork copies the fixed dataset)
    assert len(list(loader)) == 20
    del loader

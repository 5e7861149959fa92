"""Shared by the DataLoader tests: no worker process and no shared-memory segment may outlive
a test.

Only segments of the loaders this test created count (other programs on the machine, or
other test processes, may hold DataLoader segments of their own at the same time).
"""

import gc
import multiprocessing
import os

import pytest

from flambeau.data import _shm

SHM = "/dev/shm"


def _segments(prefixes):
    try:
        return {n for n in os.listdir(SHM) if n.startswith(tuple(prefixes))}
    except OSError:
        return set()


@pytest.fixture(autouse=True)
def no_leftovers(monkeypatch):
    created = []
    real = _shm.new_prefix

    def recording():
        prefix = real()
        created.append(prefix)
        return prefix

    monkeypatch.setattr(_shm, "new_prefix", recording)
    yield
    gc.collect()
    assert multiprocessing.active_children() == []
    if created:
        assert _segments(created) == set()

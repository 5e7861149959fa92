"""Shared by the DataLoader tests: no worker process and no shared-memory segment may outlive
a test."""

import gc
import multiprocessing
import os

import pytest

SHM = "/dev/shm"


def _segments():
    try:
        return {n for n in os.listdir(SHM) if n.startswith("fd")}
    except OSError:
        return set()


@pytest.fixture(autouse=True)
def no_leftovers():
    before = _segments()
    yield
    gc.collect()
    assert multiprocessing.active_children() == []
    assert _segments() - before == set()

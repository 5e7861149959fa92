"""Shared fixtures: ``gpu`` tests skip with "skipped: no CUDA device" on machines without one."""

import pytest

from flambeau_cuda._cupy import probe

HAS_GPU = probe()[0] > 0


def pytest_collection_modifyitems(config, items):
    if HAS_GPU:
        return
    skip = pytest.mark.skip(reason="skipped: no CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)

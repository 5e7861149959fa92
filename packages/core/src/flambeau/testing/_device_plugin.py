"""pytest plugin: ``FLAMBEAU_TEST_DEVICE=cuda`` runs a package's tests with tensors on CUDA.

Each package's pytest settings load it (``addopts = "-p flambeau.testing._device_plugin"``).
Without the variable it does nothing. With it, the named device becomes flambeau's default
device for the whole run, so every tensor a test creates without ``device=`` lives there:
the same tests then check the backend of that device. When no such device is visible, every
test is skipped with ``skipped: no CUDA device`` (``no TESTDEV device``...), so a GPU session
run on a machine without a GPU passes and says why.

Convolutions run in full float32 during such a run (``flambeau.backends.cudnn.allow_tf32``
is switched off, as torch's own test suite does), so they compare with the CPU at float32
tolerances.

Tests that compare with a CPU library tensor by tensor (torch, NumPy) can ask for the
``cpu_default`` fixture (``pytestmark = pytest.mark.usefixtures("cpu_default")``): the
default device is then the CPU for each of their tests.

Tests that are about host memory itself (``Tensor.numpy()`` sharing memory, pinning) mark
themselves ``@pytest.mark.host_only``; they are skipped on another device.
"""

from __future__ import annotations

import os

import pytest

import flambeau
from flambeau.backends import backend_names, get_backend

ENV = "FLAMBEAU_TEST_DEVICE"
_skip_reason: str | None = None


def requested_device() -> str | None:
    """The device named by ``FLAMBEAU_TEST_DEVICE``, or None when it is unset or empty."""
    return os.environ.get(ENV) or None


def unavailable_reason(name: str) -> str | None:
    """Why the device type of ``name`` cannot run tests here, or None when it can."""
    kind = name.partition(":")[0]
    if kind not in backend_names() or not get_backend(kind).is_available():
        return f"skipped: no {kind.upper()} device"
    return None


def pytest_configure(config):
    global _skip_reason
    config.addinivalue_line(
        "markers", "host_only: the test is about host (CPU) memory; skipped when "
        f"{ENV} names another device")
    name = requested_device()
    if name is None:
        return
    _skip_reason = unavailable_reason(name)
    if _skip_reason is None:
        import flambeau.backends.cudnn

        flambeau.set_default_device(name)
        flambeau.backends.cudnn.allow_tf32 = False  # tests compare with float32 on the CPU


@pytest.fixture
def cpu_default():
    """Make the CPU the default device for one test (see the module docstring)."""
    before = flambeau.get_default_device()
    flambeau.set_default_device("cpu")
    yield
    flambeau.set_default_device(before)


def pytest_report_header(config):
    name = requested_device()
    if name is not None:
        return f"flambeau test device: {name} ({_skip_reason or 'default device'})"
    return None


def pytest_collection_modifyitems(config, items):
    name = requested_device()
    if name is None:
        return
    import pytest

    if _skip_reason is not None:
        skip = pytest.mark.skip(reason=_skip_reason)
        for item in items:
            item.add_marker(skip)
        return
    if flambeau.device(name).type != "cpu":
        host_only = pytest.mark.skip(reason=f"host_only: not run on {name}")
        for item in items:
            if "host_only" in item.keywords:
                item.add_marker(host_only)

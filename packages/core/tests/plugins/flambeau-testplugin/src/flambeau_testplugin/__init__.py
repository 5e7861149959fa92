"""A minimal out-of-tree backend: NumPy arrays under the device type ``testdev``.

It proves that a third-party distribution registers a device through the ``flambeau``
entry-point group and the ``flambeau_backends`` hook alone, and that it passes
:func:`flambeau.testing.run_conformance`. It has two "devices" so device indices are
exercised; arrays carry no device tag, so a thin wrapper class is not needed: each tensor's
device is tracked by flambeau.

With ``FLAMBEAU_TESTDEV_STRICT=1`` in the environment (read when the backend is created), its
arrays and its ``xp`` are as strict as CuPy's about host arrays (see
:mod:`flambeau_testplugin._strict`): library code that mixes a host ``numpy.ndarray`` into a
device op, or calls NumPy on device data, then fails on the host as it would on a GPU.
"""

import os

import numpy as np

from flambeau.backends import Backend, hookimpl

from ._strict import StrictArray, StrictRNG, device_copy, strict_numpy

STRICT_ENV = "FLAMBEAU_TESTDEV_STRICT"


def strict_requested() -> bool:
    """Whether ``FLAMBEAU_TESTDEV_STRICT`` asks for CuPy-strict arrays (set and not ``0``)."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


class TestDevBackend(Backend):
    """NumPy on a device type of its own, with two device indices."""

    # Like a GPU, its memory is not the host's: ``Tensor.numpy()`` needs ``.cpu()`` first. This
    # lets ``FLAMBEAU_TEST_DEVICE=testdev`` find tests and code that assume host memory.
    host_memory = False

    def __init__(self, strict: bool | None = None):
        self.strict = strict_requested() if strict is None else strict
        super().__init__("testdev", xp=strict_numpy if self.strict else np)
        if self.strict:
            _register_erf()

    def device_count(self) -> int:
        return 2

    def from_host(self, array, index=None):
        if self.strict:
            # device data passes as it is (cupy.asarray's way): being an ndarray subclass,
            # it meets the isinstance(a, numpy.ndarray) tests meant for host arrays
            return array if isinstance(array, StrictArray) else device_copy(array)
        return np.array(array, copy=True)  # a real backend would copy to device memory

    def to_host(self, array):
        if self.strict and not isinstance(array, StrictArray):
            # cupy.asnumpy would take it, but a host array stored as device data is the bug
            raise TypeError(f"testdev strict: to_host got a host {type(array).__name__}, "
                            "not device data: some code stored a host array in a testdev "
                            "tensor (build device data with the backend's xp or from_host)")
        return np.array(array, copy=True)

    def new_rng(self, seed: int, index: int | None = None):
        rng = super().new_rng(seed, index)
        return StrictRNG(rng) if self.strict else rng


def _register_erf():
    """Give the strict namespace NumPy's exact ``erf``, as flambeau-cuda registers CuPy's:
    without it, ``erf`` falls back to its 1.5e-7 generic approximation."""
    from flambeau._ops.elementwise import _numpy_erf, register_erf_kernel

    register_erf_kernel(strict_numpy.__name__,
                        lambda a: device_copy(_numpy_erf(a.view(np.ndarray))))


@hookimpl
def flambeau_backends():
    return [TestDevBackend()]

"""A minimal out-of-tree backend: NumPy arrays under the device type ``testdev``.

It proves that a third-party distribution registers a device through the ``flambeau``
entry-point group and the ``flambeau_backends`` hook alone, and that it passes
:func:`flambeau.testing.run_conformance`. It has two "devices" so device indices are
exercised; arrays carry no device tag, so a thin wrapper class is not needed: each tensor's
device is tracked by flambeau.
"""

import numpy as np

from flambeau.backends import Backend, hookimpl


class TestDevBackend(Backend):
    """NumPy on a device type of its own, with two device indices."""

    # Like a GPU, its memory is not the host's: ``Tensor.numpy()`` needs ``.cpu()`` first. This
    # lets ``FLAMBEAU_TEST_DEVICE=testdev`` find tests and code that assume host memory.
    host_memory = False

    def __init__(self):
        super().__init__("testdev", xp=np)

    def device_count(self) -> int:
        return 2

    def from_host(self, array, index=None):
        return np.array(array, copy=True)  # a real backend would copy to device memory

    def to_host(self, array):
        return np.array(array, copy=True)


@hookimpl
def flambeau_backends():
    return [TestDevBackend()]

"""The built-in CPU backend on NumPy, registered through core's own entry point."""

import numpy as np

from flambeau.backends._backend import Backend
from flambeau.backends.cpu import _default_on_backend_start as host_memory_defaults
from flambeau.backends.hookspecs import hookimpl


class NumpyBackend(Backend):
    """The ``cpu`` device: arrays are ``numpy.ndarray`` in host memory."""

    def __init__(self):
        super().__init__("cpu", xp=np)
        host_memory_defaults()

    def from_host(self, array, index=None):
        return array

    def to_host(self, array):
        return array


@hookimpl
def flambeau_backends():
    return [NumpyBackend()]

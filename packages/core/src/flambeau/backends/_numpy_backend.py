"""The built-in CPU backend on NumPy, registered through core's own entry point."""

import warnings

import numpy as np

from flambeau.backends._backend import Backend
from flambeau.backends._numpy_fft import fft
from flambeau.backends._numpy_kernels import (
    index_add_at,
    lu_factor,
    lu_solve,
    relu_backward_from_output,
)
from flambeau.backends.cpu import _default_on_backend_start as host_memory_defaults
from flambeau.backends.hookspecs import hookimpl


class NumpyBackend(Backend):
    """The ``cpu`` device: arrays are ``numpy.ndarray`` in host memory."""

    def __init__(self):
        super().__init__("cpu", xp=np, kernels={"index_add_at": index_add_at, "fft": fft,
                                               "lu_factor": lu_factor, "lu_solve": lu_solve,
                                               "relu_backward_from_output":
                                                   relu_backward_from_output})
        host_memory_defaults()
        # NumPy warns about floating-point exceptions (x / 0, log(-1), overflow) that PyTorch
        # turns into inf and nan silently; only warnings raised from flambeau's own modules
        # are ignored, so NumPy code of the user's still warns.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"flambeau(\.|$)")

    def from_host(self, array, index=None):
        return array

    def to_host(self, array):
        return array


@hookimpl
def flambeau_backends():
    return [NumpyBackend()]

"""flambeau-cuda: the CUDA backend of flambeau on CuPy, registered as the device type ``cuda``.

Users never import this module: installing the distribution makes ``device="cuda"`` work
through its entry point (group ``flambeau``), and uninstalling it removes the device type.
Importing it stays cheap: CuPy is imported the first time a CUDA device is actually used.

Examples
--------
>>> import flambeau_cuda
>>> [b.name for b in flambeau_cuda.flambeau_backends()]
['cuda']
"""

from flambeau.backends import hookimpl

__all__ = ["flambeau_backends"]


@hookimpl
def flambeau_backends():
    """The ``flambeau_backends`` hook: one :class:`~flambeau_cuda._backend.CudaBackend`.

    Examples
    --------
    >>> from flambeau_cuda import flambeau_backends
    >>> flambeau_backends()[0].host_memory
    False
    """
    from flambeau_cuda._backend import CudaBackend

    return [CudaBackend()]

"""``flambeau.mps``: Apple GPUs (Metal), for code that asks ``torch.mps`` about them
(``torch.mps.is_available()``, ``torch.mps.manual_seed(s)`` in seeding helpers,
``torch.mps.empty_cache()``, ``torch.mps.synchronize()`` around timings).

flambeau has no ``"mps"`` device type of its own; a plugin may provide one (see
:mod:`flambeau.backends`), and these functions answer for whatever is installed. Without
one they behave as PyTorch built without MPS (as on Linux and Windows): :func:`is_available`
is False (as :func:`flambeau.backends.mps.is_available`), :func:`device_count` 0,
:func:`manual_seed` does nothing, and everything that needs the device raises a
RuntimeError.

Examples
--------
>>> import flambeau
>>> device = ("cuda" if flambeau.cuda.is_available() else
...           "mps" if flambeau.mps.is_available() else "cpu")
>>> device
'cpu'
"""

from __future__ import annotations

from flambeau._plugin_device import (
    available_backend,
    backend_function,
    default_generators,
    from_backend,
    required,
)

__all__ = ["compile_shader", "load_metallib", "device_count", "get_rng_state", "manual_seed",
           "seed", "set_rng_state", "synchronize", "empty_cache",
           "set_per_process_memory_fraction", "current_allocated_memory",
           "driver_allocated_memory", "Event", "recommended_max_memory", "is_available"]


def _required(name):
    return required("mps", name)


def _from_backend(name, *args):
    return from_backend("mps", name, *args)


def is_available() -> bool:
    """Whether an installed plugin provides the ``"mps"`` device type and sees a device (the
    same answer as :func:`flambeau.backends.mps.is_available`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mps.is_available()
    False
    """
    from flambeau.backends import mps

    return mps.is_available()


def device_count() -> int:
    """The number of visible MPS devices (0 without a plugin that provides them).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mps.device_count()
    0
    """
    b = available_backend("mps")
    return b.device_count() if b is not None else 0


def manual_seed(seed: int) -> None:
    """Seed the MPS device's default generator; silently nothing without MPS, as PyTorch
    (seeding helpers run anywhere).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mps.manual_seed(0)
    """
    for gen in default_generators("mps", every=False):
        gen.manual_seed(seed)


def _generator(name):
    _required(name)
    return default_generators("mps", every=False)[0]


def seed() -> None:
    """Seed the MPS device's generator with a random number.

    Raises
    ------
    RuntimeError
        Without MPS, as PyTorch (unlike :func:`manual_seed`).

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.seed()
    """
    _generator("seed").seed()


def get_rng_state(device="mps"):
    """The MPS generator's state, a uint8 tensor (see :func:`set_rng_state`).

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     state = flambeau.mps.get_rng_state()
    """
    return _generator("get_rng_state").get_state()


def set_rng_state(new_state, device="mps") -> None:
    """Restore the MPS generator's state from :func:`get_rng_state`.

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.set_rng_state(flambeau.mps.get_rng_state())
    """
    _generator("set_rng_state").set_state(new_state)


def synchronize() -> None:
    """Wait for the work queued on the MPS device to finish.

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.synchronize()
    """
    _required("synchronize").synchronize()


empty_cache = backend_function("mps", __name__, "empty_cache",
                               "Release the MPS allocator's cached memory")


def set_per_process_memory_fraction(fraction) -> None:
    """Limit the memory this process may allocate on the MPS device to ``fraction`` of the
    recommended maximum (the plugin's ``set_per_process_memory_fraction``).

    Raises
    ------
    TypeError
        For a ``fraction`` that is not a float (checked first, as PyTorch).
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.set_per_process_memory_fraction(0.5)
    """
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    _from_backend("set_per_process_memory_fraction", fraction)


current_allocated_memory = backend_function("mps", __name__, "current_allocated_memory",
                                            "Bytes of MPS memory held by tensors")
driver_allocated_memory = backend_function("mps", __name__, "driver_allocated_memory",
                                           "Bytes the Metal driver holds for this process")
recommended_max_memory = backend_function(
    "mps", __name__, "recommended_max_memory",
    "The Metal driver's recommended working-set size in bytes")


def _metal(name, source):
    if available_backend("mps") is None:
        raise RuntimeError("MPS is not available: no installed plugin provides the 'mps' "
                           "device type")
    return _from_backend(name, source)


def compile_shader(source: str):
    """Compile Metal shader ``source`` into a library of kernels (the plugin's
    ``compile_shader``).

    Raises
    ------
    RuntimeError
        Without MPS ("MPS is not available", as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     lib = flambeau.mps.compile_shader("kernel void f(device float* x) {}")
    """
    return _metal("compile_shader", source)


def load_metallib(source):
    """Load a precompiled Metal library (the plugin's ``load_metallib``).

    Raises
    ------
    RuntimeError
        Without MPS ("MPS is not available", as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     lib = flambeau.mps.load_metallib("kernels.metallib")
    """
    return _metal("load_metallib", source)


class Event:
    """An MPS event, to time or order work on the device (the plugin's ``Event``).

    Raises
    ------
    RuntimeError
        When created without MPS, as PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     start = flambeau.mps.Event(enable_timing=True)
    """

    def __new__(cls, enable_timing: bool = False):
        return _from_backend("Event", enable_timing)


def __getattr__(name):
    if name == "profiler":  # torch.mps.profiler, imported on first use
        import importlib

        return importlib.import_module("flambeau.mps.profiler")
    raise AttributeError(f"module 'flambeau.mps' has no attribute {name!r}")

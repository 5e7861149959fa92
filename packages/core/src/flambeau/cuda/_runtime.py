"""The parts of ``flambeau.cuda`` that answer without a GPU: RNG states, capability queries,
memory figures, stream contexts and the CUDA error types.

Each function behaves as ``torch.cuda``'s does on a machine without CUDA (an empty list,
``False``, ``0``, nothing done, or an error that says what is missing) and otherwise asks the
flambeau-cuda plugin's module (``CudaBackend.cuda_module()``), which holds the CuPy code:
core never imports cupy.
"""

from __future__ import annotations

import collections
import warnings

__all__ = [
    "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all", "initial_seed",
    "get_device_properties", "get_arch_list", "get_gencode_flags", "is_bf16_supported",
    "is_tf32_supported", "is_initialized", "init", "can_device_access_peer", "device_of",
    "mem_get_info", "has_half", "has_magma", "ipc_collect", "utilization", "temperature",
    "power_draw", "clock_rate", "list_gpu_processes",
    "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
    "empty_cache",
    "memory_stats", "memory_stats_as_nested_dict", "memory_summary",
    "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats",
    "set_per_process_memory_fraction", "get_per_process_memory_fraction", "memory_cached",
    "max_memory_cached", "caching_allocator_alloc", "caching_allocator_delete",
    "StreamContext", "set_stream", "get_stream_from_external", "is_current_stream_capturing",
    "CudaError", "DeferredCudaCallError",
]

#: half-precision tensors work on every CUDA device flambeau supports (``torch.cuda.has_half``)
has_half = True
#: flambeau's CUDA linear algebra is cuSOLVER's, through CuPy: no MAGMA (``torch.cuda.has_magma``)
has_magma = False

_INSTALL = "pip install flambeau-cuda[cuda12] (and a machine with an NVIDIA GPU)"


def _cuda_backend():
    from flambeau.backends import _registry

    return _registry._loaded()[0].get("cuda")


def _available():
    """The cuda backend when a device can be used, else None."""
    b = _cuda_backend()
    return b if b is not None and b.is_available() else None


def _require(name: str):
    """The usable cuda backend, or the RuntimeError that says why ``flambeau.cuda.name``
    cannot run here (torch raises too where CUDA is missing)."""
    b = _cuda_backend()
    if b is None:
        raise RuntimeError(f"flambeau.cuda.{name} needs the CUDA backend: {_INSTALL}")
    if not b.is_available():
        raise RuntimeError(f"flambeau.cuda.{name} needs a CUDA device: "
                           f"{b.unavailable_reason()}")
    return b


def _plugin(name: str):
    """The plugin's ``flambeau.cuda`` module (see :func:`_require`)."""
    return _require(name).cuda_module()


def _call(name: str, *args):
    """``flambeau.cuda.name(*args)`` of the plugin (see :func:`_require`)."""
    return getattr(_plugin(name), name)(*args)


def _bytes(name: str, device) -> int:
    """The plugin's memory figure ``name`` of ``device``; 0 without CUDA, as torch's."""
    b = _available()
    return 0 if b is None else int(getattr(b.cuda_module(), name)(device))


def _current_index(b) -> int:
    return b.cuda_module().current_device() if hasattr(b, "cuda_module") else 0


def _device_index(name: str, device, b) -> int:
    """A valid index from an int, ``"cuda"``, ``"cuda:1"`` or a flambeau.device (None and
    ``"cuda"``: the current device)."""
    import flambeau

    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        d = flambeau.device("cuda" if device is None else device)
        if d.type != "cuda":
            raise ValueError(f"flambeau.cuda.{name}: expected a cuda device, got '{d}'")
        index = _current_index(b) if d.index is None else d.index
    count = b.device_count()
    if not 0 <= index < count:
        raise RuntimeError(f"flambeau.cuda.{name}: invalid device index {index}; {count} CUDA "
                           f"device{'s are' if count != 1 else ' is'} visible")
    return index


# ---------------------------------------------------------------------------------- RNG


def _generator(index: int):
    from flambeau._random import default_generator_for

    return default_generator_for(f"cuda:{index}")


def get_rng_state(device="cuda"):
    """The state of a CUDA device's default generator, as a uint8 tensor on the CPU.

    Parameters
    ----------
    device : int, str or flambeau.device
        The device (default ``"cuda"``: the current one).

    Raises
    ------
    RuntimeError
        Without a usable CUDA device (as torch's).

    Examples
    --------
    >>> import flambeau
    >>> state = flambeau.cuda.get_rng_state()  # doctest: +SKIP
    >>> a = flambeau.rand(3, device="cuda")  # doctest: +SKIP
    >>> flambeau.cuda.set_rng_state(state)  # doctest: +SKIP
    >>> bool((a == flambeau.rand(3, device="cuda")).all())  # doctest: +SKIP
    True
    """
    b = _require("get_rng_state")
    return _generator(_device_index("get_rng_state", device, b)).get_state().cpu()


def get_rng_state_all() -> list:
    """:func:`get_rng_state` of every CUDA device; ``[]`` without CUDA, as in torch.

    Examples
    --------
    >>> import flambeau
    >>> states = flambeau.cuda.get_rng_state_all()
    >>> len(states) == flambeau.cuda.device_count()
    True
    """
    b = _available()
    return [] if b is None else [_generator(i).get_state().cpu()
                                 for i in range(b.device_count())]


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a state from :func:`get_rng_state`; silently nothing without CUDA (torch
    defers the call until CUDA starts, which on such a machine is never).

    Parameters
    ----------
    new_state : Tensor
        A uint8 tensor from :func:`get_rng_state`.
    device : int, str or flambeau.device
        The device (default ``"cuda"``: the current one).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.set_rng_state(flambeau.zeros(24, dtype=flambeau.uint8))  # no-op w/o GPU
    """
    b = _available()
    if b is not None:
        _generator(_device_index("set_rng_state", device, b)).set_state(new_state)


def set_rng_state_all(new_states) -> None:
    """:func:`set_rng_state` of device ``i`` for the ``i``-th state of ``new_states``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.set_rng_state_all(flambeau.cuda.get_rng_state_all())
    """
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def initial_seed() -> int:
    """The seed of the current CUDA device's default generator.

    Raises
    ------
    RuntimeError
        Without a usable CUDA device (as torch's).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.manual_seed(3)
    >>> flambeau.cuda.initial_seed()  # doctest: +SKIP
    3
    """
    b = _require("initial_seed")
    return _generator(_current_index(b)).initial_seed()


def _default_generators() -> tuple:
    """``flambeau.cuda.default_generators`` (a module attribute, as in torch): one generator
    a device, ``()`` without CUDA."""
    b = _available()
    return () if b is None else tuple(_generator(i) for i in range(b.device_count()))


# ------------------------------------------------------------------------ device queries


def get_device_properties(device=None):
    """The properties of a CUDA device: ``name``, ``major``, ``minor``, ``total_memory``,
    ``multi_processor_count``, ``L2_cache_size``, ``warp_size``... (CUDA's, through CuPy).

    Parameters
    ----------
    device : int, str or flambeau.device, optional
        The device (default: the current one).

    Examples
    --------
    >>> import flambeau
    >>> p = flambeau.cuda.get_device_properties(0)  # doctest: +SKIP
    >>> p.name, (p.major, p.minor), p.total_memory > 0  # doctest: +SKIP
    ('NVIDIA H100 80GB HBM3', (9, 0), True)
    """
    return _call("get_device_properties", device)


def get_arch_list() -> list[str]:
    """The GPU architectures flambeau's CUDA kernels can be compiled for (``"sm_90"``...:
    NVRTC's, as CuPy compiles them at run time); ``[]`` without CUDA, as in torch.

    Examples
    --------
    >>> import flambeau
    >>> isinstance(flambeau.cuda.get_arch_list(), list)
    True
    """
    b = _available()
    return [] if b is None else list(b.cuda_module().get_arch_list())


def get_gencode_flags() -> str:
    """The ``-gencode`` flags of :func:`get_arch_list`, for nvcc; ``""`` without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> isinstance(flambeau.cuda.get_gencode_flags(), str)
    True
    """
    flags = []
    for arch in get_arch_list():
        kind, number = arch.split("_", 1)
        flags.append(f"-gencode compute=compute_{number},code={kind}_{number}")
    return " ".join(flags)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether the current CUDA device computes in bfloat16 (compute capability 8.0 or
    newer), or, with ``including_emulation``, holds bfloat16 tensors at all (any device:
    flambeau then computes in float32). False without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.is_bf16_supported() in (True, False)
    True
    """
    b = _available()
    return b is not None and bool(b.cuda_module().is_bf16_supported(including_emulation))


def is_tf32_supported() -> bool:
    """Whether the current CUDA device has TF32 tensor cores (compute capability 8.0 or
    newer); False without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.is_tf32_supported() in (True, False)
    True
    """
    b = _available()
    return b is not None and bool(b.cuda_module().is_tf32_supported())


def is_initialized() -> bool:
    """Whether CUDA has been started in this process (CuPy loaded and the devices probed,
    by :func:`init` or the first use of a device). False without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.is_initialized() in (True, False)
    True
    """
    b = _cuda_backend()
    return bool(b is not None and hasattr(b, "cuda_module") and b.cuda_module().is_initialized())


def init() -> None:
    """Start CUDA now rather than at the first use of a device.

    Raises
    ------
    RuntimeError
        Without a usable CUDA device, saying why.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.init()  # doctest: +SKIP
    >>> flambeau.cuda.is_initialized()  # doctest: +SKIP
    True
    """
    _require("init")


def can_device_access_peer(device, peer_device) -> bool:
    """Whether ``device`` can read and write ``peer_device``'s memory directly (P2P).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.can_device_access_peer(0, 1)  # doctest: +SKIP
    True
    """
    b = _require("can_device_access_peer")
    return bool(b.cuda_module().can_device_access_peer(
        _device_index("can_device_access_peer", device, b),
        _device_index("can_device_access_peer", peer_device, b)))


class device_of:
    """Context manager making the device of tensor ``obj`` current when it is a CUDA tensor,
    and doing nothing otherwise.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2)
    >>> with flambeau.cuda.device_of(x):  # a CPU tensor: nothing changes
    ...     y = x + 1
    """

    def __init__(self, obj):
        device = getattr(obj, "device", None)
        self._index = device.index if getattr(device, "type", None) == "cuda" else None
        self._context = None

    def __enter__(self):
        if self._index is not None:
            self._context = _plugin("device_of").device(self._index)
            self._context.__enter__()
        return self

    def __exit__(self, *exc):
        context, self._context = self._context, None
        return False if context is None else context.__exit__(*exc)


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of device memory, as the CUDA driver reports them.

    Examples
    --------
    >>> import flambeau
    >>> free, total = flambeau.cuda.mem_get_info()  # doctest: +SKIP
    >>> 0 <= free <= total  # doctest: +SKIP
    True
    """
    return tuple(int(n) for n in _call("mem_get_info", device))


def ipc_collect() -> None:
    """Free memory that other processes released after sharing it through CUDA IPC.

    flambeau shares no CUDA memory between processes, so there is never any to collect; it
    still needs CUDA, as torch's does.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.ipc_collect()  # doctest: +SKIP
    """
    _require("ipc_collect")


def utilization(device=None) -> int:
    """Percent of the last sample period in which a kernel ran on ``device`` (default: the
    current one), as NVML reports it (flambeau-cuda's ``nvml`` extra: nvidia-ml-py).

    Examples
    --------
    >>> import flambeau
    >>> 0 <= flambeau.cuda.utilization() <= 100  # doctest: +SKIP
    True
    """
    return _call("utilization", device)


def temperature(device=None) -> int:
    """``device``'s temperature in degrees Celsius, from NVML (see :func:`utilization`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.temperature() > 0  # doctest: +SKIP
    True
    """
    return _call("temperature", device)


def power_draw(device=None) -> int:
    """``device``'s power draw in milliwatts, from NVML (see :func:`utilization`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.power_draw() > 0  # doctest: +SKIP
    True
    """
    return _call("power_draw", device)


def clock_rate(device=None) -> int:
    """``device``'s streaming-multiprocessor clock in MHz, from NVML (see :func:`utilization`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.clock_rate() > 0  # doctest: +SKIP
    True
    """
    return _call("clock_rate", device)


def list_gpu_processes(device=None) -> str:
    """The processes using ``device`` and their memory, one line each, from NVML (without
    nvidia-ml-py: a line saying to install it, as torch's).

    Examples
    --------
    >>> import flambeau
    >>> print(flambeau.cuda.list_gpu_processes())  # doctest: +SKIP
    GPU:0
    process      12345 uses      512.000 MB GPU memory
    """
    return _call("list_gpu_processes", device)


# ------------------------------------------------------------------------------ memory


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on ``device`` (default: the current one); 0 without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.memory_allocated() >= 0
    True
    """
    return _bytes("memory_allocated", device)


def max_memory_allocated(device=None) -> int:
    """The highest :func:`memory_allocated` since the start or
    :func:`reset_peak_memory_stats`; 0 without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.max_memory_allocated() >= flambeau.cuda.memory_allocated()
    True
    """
    return _bytes("max_memory_allocated", device)


def memory_reserved(device=None) -> int:
    """Bytes the memory pool holds on ``device``: in tensors and cached; 0 without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.memory_reserved() >= flambeau.cuda.memory_allocated()
    True
    """
    return _bytes("memory_reserved", device)


def max_memory_reserved(device=None) -> int:
    """The highest :func:`memory_reserved` since the start or
    :func:`reset_peak_memory_stats`; 0 without CUDA.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.max_memory_reserved() >= flambeau.cuda.memory_reserved()
    True
    """
    return _bytes("max_memory_reserved", device)


def empty_cache() -> None:
    """Give the memory pool's cached blocks (memory no tensor holds) back to the driver, so
    that other processes and ``nvidia-smi`` see it free; nothing without CUDA, as torch's
    (training scripts call it unconditionally).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.empty_cache()  # safe without a GPU
    """
    b = _available()
    if b is not None:
        b.cuda_module().empty_cache()


def memory_cached(device=None) -> int:
    """Deprecated name of :func:`memory_reserved` (warns, as torch's does).

    Examples
    --------
    >>> import flambeau, warnings
    >>> with warnings.catch_warnings(record=True):
    ...     flambeau.cuda.memory_cached() == flambeau.cuda.memory_reserved()
    True
    """
    warnings.warn("`flambeau.cuda.memory_cached` has been renamed to "
                  "`flambeau.cuda.memory_reserved`", FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    """Deprecated name of :func:`max_memory_reserved` (warns, as torch's does).

    Examples
    --------
    >>> import flambeau, warnings
    >>> with warnings.catch_warnings(record=True):
    ...     flambeau.cuda.max_memory_cached() == flambeau.cuda.max_memory_reserved()
    True
    """
    warnings.warn("`flambeau.cuda.max_memory_cached` has been renamed to "
                  "`flambeau.cuda.max_memory_reserved`", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def memory_stats(device=None) -> collections.OrderedDict:
    """The memory pool's figures under torch's key names, sorted by key; empty without CUDA.

    flambeau's pool is CuPy's, which knows less than torch's caching allocator: the keys are
    ``allocated_bytes.all.current`` / ``.peak``, ``reserved_bytes.all.current`` / ``.peak``,
    ``inactive_split_bytes.all.current`` (cached, not in a tensor), ``num_alloc_retries``
    (allocations that succeeded only after the cache was released) and ``num_ooms``.

    Examples
    --------
    >>> import flambeau
    >>> stats = flambeau.cuda.memory_stats()
    >>> stats.get("allocated_bytes.all.current", 0) == flambeau.cuda.memory_allocated()
    True
    """
    b = _available()
    if b is None:
        return collections.OrderedDict()
    return collections.OrderedDict(sorted(b.cuda_module().memory_stats(device).items()))


def memory_stats_as_nested_dict(device=None) -> dict:
    """:func:`memory_stats` as nested dicts, one level a dotted part of the key.

    Examples
    --------
    >>> import flambeau
    >>> nested = flambeau.cuda.memory_stats_as_nested_dict()
    >>> nested.get("allocated_bytes", {}).get("all", {}).get("current", 0) >= 0
    True
    """
    nested: dict = {}
    for key, value in memory_stats(device).items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A readable table of :func:`memory_stats` (``abbreviated`` is accepted for torch's
    signature: the table is short either way).

    Examples
    --------
    >>> import flambeau
    >>> print(flambeau.cuda.memory_summary())  # doctest: +SKIP
    flambeau.cuda memory summary, device 0 (CuPy memory pool)
    ...
    """
    return _call("memory_summary", device, abbreviated)


def reset_peak_memory_stats(device=None) -> None:
    """Restart the peaks of :func:`memory_stats` (``max_memory_allocated``,
    ``max_memory_reserved``) from the current figures.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.reset_peak_memory_stats()  # doctest: +SKIP
    """
    _call("reset_peak_memory_stats", device)


def reset_max_memory_allocated(device=None) -> None:
    """Deprecated: :func:`reset_peak_memory_stats`, which resets every peak (warns, as
    torch's does).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.reset_max_memory_allocated()  # doctest: +SKIP
    """
    warnings.warn("flambeau.cuda.reset_max_memory_allocated now calls "
                  "flambeau.cuda.reset_peak_memory_stats, which resets /all/ peak memory "
                  "stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None) -> None:
    """Restart the counters of :func:`memory_stats` (``num_alloc_retries``, ``num_ooms``)
    from zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.reset_accumulated_memory_stats()  # doctest: +SKIP
    """
    _call("reset_accumulated_memory_stats", device)


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    """Cap the memory pool of ``device`` at ``fraction`` of the device's memory: an
    allocation beyond it raises :class:`OutOfMemoryError` (CuPy's ``MemoryPool.set_limit``).

    Parameters
    ----------
    fraction : float
        In ``[0, 1]``.
    device : int, str or flambeau.device, optional
        The device (default: the current one).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.set_per_process_memory_fraction(0.5)  # doctest: +SKIP
    >>> flambeau.cuda.get_per_process_memory_fraction()  # doctest: +SKIP
    0.5
    """
    if not isinstance(fraction, float):
        raise TypeError(f"set_per_process_memory_fraction: fraction must be a float, got "
                        f"{type(fraction).__name__}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"set_per_process_memory_fraction: fraction must be in [0, 1], "
                         f"got {fraction}")
    _call("set_per_process_memory_fraction", fraction, device)


def get_per_process_memory_fraction(device=None) -> float:
    """The cap of :func:`set_per_process_memory_fraction` (1.0 when none was set).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.get_per_process_memory_fraction()  # doctest: +SKIP
    1.0
    """
    return float(_call("get_per_process_memory_fraction", device))


def caching_allocator_alloc(size: int, device=None, stream=None) -> int:
    """``size`` bytes from the memory pool, for code outside flambeau; returns the device
    pointer, to give back with :func:`caching_allocator_delete`.

    Parameters
    ----------
    size : int
        Bytes.
    device : int, str or flambeau.device, optional
        The device (default: the current one).
    stream : flambeau.cuda.Stream or int, optional
        The stream that will use the memory (default: the current one).

    Examples
    --------
    >>> import flambeau
    >>> ptr = flambeau.cuda.caching_allocator_alloc(1024)  # doctest: +SKIP
    >>> flambeau.cuda.caching_allocator_delete(ptr)  # doctest: +SKIP
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise TypeError(f"caching_allocator_alloc: size must be a non-negative int, got "
                        f"{size!r}")
    return int(_call("caching_allocator_alloc", size, device, stream))


def caching_allocator_delete(mem_ptr: int) -> None:
    """Give memory from :func:`caching_allocator_alloc` back to the pool.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.caching_allocator_delete(  # doctest: +SKIP
    ...     flambeau.cuda.caching_allocator_alloc(16))
    """
    _call("caching_allocator_delete", int(mem_ptr))


# ----------------------------------------------------------------------------- streams


class StreamContext:
    """Context manager queuing the work of its block on ``stream`` (and making the stream's
    device current); with ``None``, nothing changes (so it runs without CUDA).

    Parameters
    ----------
    stream : flambeau.cuda.Stream or None
        The stream.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.cuda.StreamContext(None):
    ...     x = flambeau.ones(2)
    """

    def __init__(self, stream):
        self.stream = stream
        self._context = None

    def __enter__(self):
        if self.stream is not None:
            self._context = _plugin("StreamContext").stream(self.stream)
            self._context.__enter__()
        # None, as torch's: ``with StreamContext(s) as x`` binds nothing

    def __exit__(self, *exc):
        context, self._context = self._context, None
        return False if context is None else context.__exit__(*exc)


def set_stream(stream) -> None:
    """Make ``stream`` the current stream of its device (None: nothing changes).

    Prefer :class:`StreamContext` (``flambeau.cuda.stream``), which restores the previous one.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.set_stream(None)
    """
    if stream is not None:
        _call("set_stream", stream)


def get_stream_from_external(data_ptr: int, device=None):
    """A ``flambeau.cuda.ExternalStream`` on a ``cudaStream_t`` made by other code
    (``data_ptr``), on ``device`` (default: the current one). The caller keeps it alive.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.cuda.get_stream_from_external(handle)  # doctest: +SKIP
    """
    return _call("get_stream_from_external", int(data_ptr), device)


def is_current_stream_capturing() -> bool:
    """Whether the current stream is capturing a CUDA graph; False without CUDA (as torch's
    CUDA builds answer before CUDA has started).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.is_current_stream_capturing()
    False
    """
    b = _available()
    return b is not None and bool(b.cuda_module().is_current_stream_capturing())


# ------------------------------------------------------------------------------ errors


class CudaError(RuntimeError):
    """A CUDA runtime error, with its code (``torch.cuda.CudaError``).

    Parameters
    ----------
    code : int
        The ``cudaError_t`` value.

    Examples
    --------
    >>> import flambeau
    >>> err = flambeau.cuda.CudaError(2)
    >>> err.code, isinstance(err, RuntimeError)
    (2, True)
    """

    def __init__(self, code: int) -> None:
        self.code = int(code)
        b = _available()
        text = b.cuda_module().error_string(self.code) if b is not None else "CUDA error"
        super().__init__(f"{text} ({self.code})")


class DeferredCudaCallError(Exception):
    """A call queued until CUDA starts failed when it ran (``torch.cuda.DeferredCudaCallError``).

    Examples
    --------
    >>> import flambeau
    >>> issubclass(flambeau.cuda.DeferredCudaCallError, Exception)
    True
    """

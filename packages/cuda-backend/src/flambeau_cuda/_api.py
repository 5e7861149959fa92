"""``flambeau.cuda.*`` beyond is_available / device_count: devices, seeds, memory, streams.

Core's :mod:`flambeau.cuda` forwards every other attribute here (through
``CudaBackend.cuda_module()``), so these are used as ``flambeau.cuda.synchronize()`` and so on.
Memory figures come from CuPy's default memory pool, which holds every flambeau CUDA tensor.
"""

from __future__ import annotations

import contextlib

import flambeau
from flambeau_cuda import _cupy, _memory, _nvml
from flambeau_cuda._memory import OutOfMemoryError

__all__ = [
    "synchronize", "manual_seed", "manual_seed_all", "current_device", "set_device", "device",
    "memory_allocated", "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats",
    "empty_cache", "get_device_name", "get_device_capability", "Stream", "Event", "stream",
    "current_stream", "default_stream", "OutOfMemoryError",
    "CudaDeviceProperties", "get_device_properties", "get_arch_list", "is_bf16_supported",
    "is_tf32_supported", "is_initialized", "can_device_access_peer", "mem_get_info",
    "error_string", "max_memory_reserved", "memory_stats", "memory_summary",
    "reset_accumulated_memory_stats", "set_per_process_memory_fraction",
    "get_per_process_memory_fraction", "caching_allocator_alloc", "caching_allocator_delete",
    "ExternalStream", "set_stream", "get_stream_from_external", "is_current_stream_capturing",
    "nvtx", "utilization", "temperature", "power_draw", "clock_rate", "list_gpu_processes",
]


def _backend():
    from flambeau.backends import get_backend

    b = get_backend("cuda")
    if not b.is_available():
        raise RuntimeError(f"flambeau.cuda: {b.unavailable_reason()}")
    return b


def _index(dev) -> int:
    """A device index from None (current), an int, ``"cuda:1"`` or a flambeau.device."""
    b = _backend()
    if dev is None:
        return b.current_device()
    if isinstance(dev, int):
        index = dev
    else:
        import flambeau

        d = flambeau.device(dev)
        if d.type != "cuda":
            raise ValueError(f"flambeau.cuda: expected a cuda device, got {d}")
        index = b.current_device() if d.index is None else d.index
    b._check_index(index)
    return index


def _pool():
    return _backend().xp.get_default_memory_pool()


def synchronize(device=None) -> None:
    """Wait for all queued work on ``device`` (default: the current one) to finish.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.synchronize()  # doctest: +SKIP
    """
    _backend().synchronize(_index(device))


def manual_seed(seed: int) -> None:
    """Seed the default generator of the current CUDA device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.manual_seed(0)  # doctest: +SKIP
    """
    from flambeau._random import default_generator_for

    default_generator_for(f"cuda:{_index(None)}").manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the default generators of every CUDA device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.manual_seed_all(0)  # doctest: +SKIP
    """
    from flambeau._random import default_generator_for

    for i in range(_backend().device_count()):
        default_generator_for(f"cuda:{i}").manual_seed(seed)


def current_device() -> int:
    """The index of the current CUDA device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.current_device()  # doctest: +SKIP
    0
    """
    return _backend().current_device()


def set_device(device) -> None:
    """Make ``device`` (an index, ``"cuda:N"`` or a flambeau.device) the current one.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.set_device(0)  # doctest: +SKIP
    """
    _backend().set_device(_index(device))


@contextlib.contextmanager
def device(device):
    """Context manager making ``device`` current inside the block, restoring it after.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.cuda.device(0):  # doctest: +SKIP
    ...     x = flambeau.zeros(2, device="cuda")
    """
    b = _backend()
    with b.xp.cuda.Device(_index(device)):
        yield


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on ``device`` (CuPy's pool: used blocks).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.memory_allocated()  # doctest: +SKIP
    0
    """
    b = _backend()
    with b.xp.cuda.Device(_index(device)):
        return int(_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes the pool has taken from the driver on ``device`` (in use plus cached).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.memory_reserved() >= flambeau.cuda.memory_allocated()  # doctest: +SKIP
    True
    """
    b = _backend()
    with b.xp.cuda.Device(_index(device)):
        return int(_pool().total_bytes())


def max_memory_allocated(device=None) -> int:
    """The highest :func:`memory_allocated` since start or :func:`reset_peak_memory_stats`.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(1024, device="cuda")  # doctest: +SKIP
    >>> flambeau.cuda.max_memory_allocated() >= 4096  # doctest: +SKIP
    True
    """
    index = _index(device)
    return max(_memory.peak(index), memory_allocated(index))


def reset_peak_memory_stats(device=None) -> None:
    """Restart :func:`max_memory_allocated` and :func:`max_memory_reserved` from the current
    figures.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.reset_peak_memory_stats()  # doctest: +SKIP
    """
    index = _index(device)
    _memory.reset_peak(index, memory_allocated(index), memory_reserved(index))


def empty_cache() -> None:
    """Give the pool's cached (unused) blocks back to the driver, on every device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.empty_cache()  # doctest: +SKIP
    """
    from flambeau_cuda._kernels import _cudnn

    _cudnn.release_workspaces()  # kept between convolutions: not cached blocks, but unused
    # blocks held for record_stream go back once their streams are done (waiting for them,
    # as torch's empty_cache does), else they would stay out of the pool until an allocation
    _memory.release_recorded(_backend().xp, wait=True)
    _pool().free_all_blocks()
    _backend().xp.get_default_pinned_memory_pool().free_all_blocks()


def get_device_name(device=None) -> str:
    """The GPU's product name, e.g. ``"NVIDIA H100 80GB HBM3"``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.get_device_name(0)  # doctest: +SKIP
    'NVIDIA H100 80GB HBM3'
    """
    name = _backend().xp.cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None) -> tuple[int, int]:
    """The compute capability ``(major, minor)``, e.g. ``(9, 0)`` for an H100.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.get_device_capability(0)  # doctest: +SKIP
    (9, 0)
    """
    props = _backend().xp.cuda.runtime.getDeviceProperties(_index(device))
    return int(props["major"]), int(props["minor"])


class Stream(flambeau.Stream):
    """A CUDA stream: work queued on it runs in order, concurrently with other streams.

    A ``flambeau.Stream`` (as ``torch.cuda.Stream`` is a ``torch.Stream``), and a context
    manager: ``with s:`` makes it the current stream of its device for the block.

    Parameters
    ----------
    device : int, str or flambeau.device, optional
        The device the stream belongs to (default: the current one).
    priority : int
        Lower numbers run first when streams compete (0 is the default priority).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.cuda.Stream()  # doctest: +SKIP
    >>> with flambeau.cuda.stream(s):  # doctest: +SKIP
    ...     y = flambeau.ones(4, device="cuda") * 2
    >>> s.synchronize()  # doctest: +SKIP
    """

    def __init__(self, device=None, priority: int = 0, *, _raw=None):
        b = _backend()
        self.device = flambeau.device("cuda", _index(device))  # device_index reads it
        self._impl = self  # what flambeau.Stream's methods reach the CUDA stream through
        self._contexts = []  # one per open ``with self:`` block
        if _raw is not None:
            self._stream = _raw
        else:
            with b.xp.cuda.Device(self.device_index):
                self._stream = b.xp.cuda.Stream(non_blocking=True, priority=priority)

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` handle."""
        return int(self._stream.ptr)

    def synchronize(self) -> None:
        """Wait until the work queued on this stream has finished."""
        self._stream.synchronize()

    def query(self) -> bool:
        """Whether all queued work has finished."""
        return bool(self._stream.done)

    def wait_event(self, event) -> None:
        """Make future work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream) -> None:
        """Make future work on this stream wait for the work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one when None) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        context = stream(self)
        context.__enter__()
        self._contexts.append(context)
        return self

    def __exit__(self, *exc):
        return self._contexts.pop().__exit__(*exc)

    # __eq__ and __hash__: flambeau.Stream's (the device and the handle), so a stream
    # equals the flambeau.Stream that wraps the same handle

    def __repr__(self):
        return f"<flambeau.cuda.Stream device=cuda:{self.device_index} cuda_stream=" \
               f"{self.cuda_stream:#x}>"


class Event:
    """A marker in a stream: wait for it, or time the work between two events.

    Examples
    --------
    >>> import flambeau
    >>> start = flambeau.cuda.Event(enable_timing=True)  # doctest: +SKIP
    >>> end = flambeau.cuda.Event(enable_timing=True)  # doctest: +SKIP
    >>> start.record(); y = flambeau.ones(1000, device="cuda").sum(); end.record()  # doctest: +SKIP
    >>> end.synchronize(); start.elapsed_time(end) >= 0  # doctest: +SKIP
    True
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        if interprocess:
            raise NotImplementedError("flambeau.cuda.Event: interprocess events are not "
                                      "supported by the CuPy backend")
        self._event = _backend().xp.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream=None) -> None:
        """Record the event on ``stream`` (default: the current stream)."""
        self._event.record(None if stream is None else stream._stream)

    def synchronize(self) -> None:
        """Wait until the work before the recorded event has finished."""
        self._event.synchronize()

    def query(self) -> bool:
        """Whether the work before the event has finished."""
        return bool(self._event.done)

    def wait(self, stream=None) -> None:
        """Make ``stream`` (default: the current one) wait for this event."""
        (stream or current_stream()).wait_event(self)

    def elapsed_time(self, end_event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded, with timing)."""
        return float(_backend().xp.cuda.get_elapsed_time(self._event, end_event._event))


def current_stream(device=None) -> Stream:
    """The stream new work is queued on for ``device``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.current_stream()  # doctest: +SKIP
    <flambeau.cuda.Stream device=cuda:0 cuda_stream=0x0>
    """
    b = _backend()
    index = _index(device)
    with b.xp.cuda.Device(index):
        return Stream(index, _raw=b.xp.cuda.get_current_stream())


def default_stream(device=None) -> Stream:
    """The legacy default stream of ``device``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.default_stream().cuda_stream  # doctest: +SKIP
    0
    """
    b = _backend()
    return Stream(_index(device), _raw=b.xp.cuda.Stream.null)


@contextlib.contextmanager
def stream(s):
    """Queue the work of the block on stream ``s`` (None: leave the current stream).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.cuda.Stream()  # doctest: +SKIP
    >>> with flambeau.cuda.stream(s):  # doctest: +SKIP
    ...     x = flambeau.ones(3, device="cuda")
    """
    if s is None:
        yield
        return
    b = _backend()
    with b.xp.cuda.Device(s.device_index), s._stream:
        yield


# ------------------------------------------------------------------------ device queries


class CudaDeviceProperties:
    """What :func:`get_device_properties` answers: torch's attribute names over CUDA's
    ``cudaDeviceProp`` (CuPy's ``runtime.getDeviceProperties`` dict).

    Examples
    --------
    >>> from flambeau_cuda._api import CudaDeviceProperties
    >>> p = CudaDeviceProperties({"name": b"GPU", "major": 9, "minor": 0,
    ...                           "totalGlobalMem": 80 * 2**30, "multiProcessorCount": 132})
    >>> p
    _CudaDeviceProperties(name='GPU', major=9, minor=0, total_memory=81920MB, multi_processor_count=132)
    """  # noqa: E501 - a repr is one line

    _FIELDS = {  # torch's name -> CUDA's
        "major": "major", "minor": "minor", "total_memory": "totalGlobalMem",
        "multi_processor_count": "multiProcessorCount", "is_integrated": "integrated",
        "is_multi_gpu_board": "isMultiGpuBoard",
        "max_threads_per_multi_processor": "maxThreadsPerMultiProcessor",
        "warp_size": "warpSize", "L2_cache_size": "l2CacheSize",
        "regs_per_multiprocessor": "regsPerMultiprocessor",
        "shared_memory_per_block": "sharedMemPerBlock",
        "shared_memory_per_block_optin": "sharedMemPerBlockOptin",
        "shared_memory_per_multiprocessor": "sharedMemPerMultiprocessor",
        "pci_bus_id": "pciBusID", "pci_device_id": "pciDeviceID",
        "pci_domain_id": "pciDomainID",
    }

    def __init__(self, props: dict):
        name = props.get("name", b"")
        self.name = (name.decode() if isinstance(name, bytes) else str(name)).rstrip("\0")
        for ours, cudas in self._FIELDS.items():
            value = props.get(cudas)
            setattr(self, ours, None if value is None else int(value))
        for flag in ("is_integrated", "is_multi_gpu_board"):
            if getattr(self, flag) is not None:
                setattr(self, flag, bool(getattr(self, flag)))
        uuid = props.get("uuid")
        self.uuid = None if uuid is None else _uuid_text(uuid)

    def __repr__(self):
        parts = [f"name={self.name!r}", f"major={self.major}", f"minor={self.minor}",
                 f"total_memory={(self.total_memory or 0) // 2**20}MB",
                 f"multi_processor_count={self.multi_processor_count}"]
        if self.uuid is not None:
            parts.append(f"uuid={self.uuid}")
        if self.L2_cache_size is not None:
            parts.append(f"L2_cache_size={self.L2_cache_size // 2**20}MB")
        return f"_CudaDeviceProperties({', '.join(parts)})"


def _uuid_text(raw) -> str:
    """CUDA's 16 uuid bytes as the usual 8-4-4-4-12 hex text."""
    h = bytes(raw).hex() if not isinstance(raw, str) else raw
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" if len(h) == 32 else h


def get_device_properties(device=None) -> CudaDeviceProperties:
    """:class:`CudaDeviceProperties` of ``device`` (default: the current one).

    Examples
    --------
    >>> from flambeau_cuda._api import get_device_properties
    >>> get_device_properties(0).major >= 5  # doctest: +SKIP
    True
    """
    index = _index(device)
    return CudaDeviceProperties(_backend().xp.cuda.runtime.getDeviceProperties(index))


def get_arch_list() -> list[str]:
    """The architectures NVRTC (CuPy's run-time compiler) can build kernels for, as
    ``"sm_XY"``, oldest first.

    Examples
    --------
    >>> from flambeau_cuda._api import get_arch_list
    >>> get_arch_list()[-1]  # doctest: +SKIP
    'sm_90'
    """
    archs = _backend().xp.cuda.nvrtc.getSupportedArchs()
    return [f"sm_{int(a)}" for a in sorted(archs)]


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Compute capability 8.0 or newer, or any device with ``including_emulation``.

    Examples
    --------
    >>> from flambeau_cuda._api import is_bf16_supported
    >>> is_bf16_supported()  # doctest: +SKIP
    True
    """
    return get_device_capability() >= (8, 0) or bool(including_emulation)


def is_tf32_supported() -> bool:
    """Compute capability 8.0 or newer (Ampere's tensor cores).

    Examples
    --------
    >>> from flambeau_cuda._api import is_tf32_supported
    >>> is_tf32_supported()  # doctest: +SKIP
    True
    """
    return get_device_capability() >= (8, 0)


def is_initialized() -> bool:
    """Whether the backend has loaded CuPy and found a device (without probing now).

    Examples
    --------
    >>> from flambeau_cuda._api import is_initialized
    >>> is_initialized() in (True, False)
    True
    """
    from flambeau.backends import get_backend

    return get_backend("cuda").is_initialized()


def can_device_access_peer(device: int, peer_device: int) -> bool:
    """CUDA's ``cudaDeviceCanAccessPeer`` for two device indices.

    Examples
    --------
    >>> from flambeau_cuda._api import can_device_access_peer
    >>> can_device_access_peer(0, 0)  # doctest: +SKIP
    False
    """
    return bool(_backend().xp.cuda.runtime.deviceCanAccessPeer(_index(device),
                                                               _index(peer_device)))


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of ``device``, from ``cudaMemGetInfo``.

    Examples
    --------
    >>> from flambeau_cuda._api import mem_get_info
    >>> free, total = mem_get_info()  # doctest: +SKIP
    """
    b = _backend()
    with b.xp.cuda.Device(_index(device)):
        free, total = b.xp.cuda.runtime.memGetInfo()
    return int(free), int(total)


def error_string(code: int) -> str:
    """CUDA's name and description of an error code, e.g.
    ``"cudaErrorMemoryAllocation: out of memory"``.

    Examples
    --------
    >>> from flambeau_cuda._api import error_string
    >>> error_string(2)  # doctest: +SKIP
    'cudaErrorMemoryAllocation: out of memory'
    """
    return str(_backend().xp.cuda.runtime.CUDARuntimeError(int(code)))


# ------------------------------------------------------------------------------ memory


def max_memory_reserved(device=None) -> int:
    """The highest :func:`memory_reserved` since start or :func:`reset_peak_memory_stats`.

    Examples
    --------
    >>> from flambeau_cuda._api import max_memory_reserved, memory_reserved
    >>> max_memory_reserved() >= memory_reserved()  # doctest: +SKIP
    True
    """
    index = _index(device)
    return max(_memory.reserved_peak(index), memory_reserved(index))


def memory_stats(device=None) -> dict:
    """What CuPy's pool and the allocator hook know, under torch's ``memory_stats`` keys.

    Examples
    --------
    >>> from flambeau_cuda._api import memory_stats
    >>> memory_stats()["num_ooms"]  # doctest: +SKIP
    0
    """
    b = _backend()
    index = _index(device)
    with b.xp.cuda.Device(index):
        pool = _pool()
        used, total, free = int(pool.used_bytes()), int(pool.total_bytes()), \
            int(pool.free_bytes())
    return {
        "allocated_bytes.all.current": used,
        "allocated_bytes.all.peak": max(_memory.peak(index), used),
        "reserved_bytes.all.current": total,
        "reserved_bytes.all.peak": max(_memory.reserved_peak(index), total),
        "inactive_split_bytes.all.current": free,
        **_memory.counters(index),
    }


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """:func:`memory_stats` as a table, in readable units.

    Examples
    --------
    >>> from flambeau_cuda._api import memory_summary
    >>> print(memory_summary())  # doctest: +SKIP
    """
    index = _index(device)
    stats = memory_stats(index)
    rows = [("allocated (in tensors)", "allocated_bytes"),
            ("reserved (tensors + cache)", "reserved_bytes"),
            ("cached, not in a tensor", "inactive_split_bytes")]
    lines = [f"flambeau.cuda memory summary, device {index} (CuPy memory pool)",
             f"{'':28}{'current':>14}{'peak':>14}"]
    for label, key in rows:
        peak = stats.get(f"{key}.all.peak")
        lines.append(f"{label:28}{_memory.format_bytes(stats[f'{key}.all.current']):>14}"
                     f"{'' if peak is None else _memory.format_bytes(peak):>14}".rstrip())
    lines.append(f"allocations retried after releasing the cache: {stats['num_alloc_retries']}")
    lines.append(f"out-of-memory errors: {stats['num_ooms']}")
    limit = get_per_process_memory_fraction(index)
    if limit < 1.0:
        lines.append(f"per-process memory fraction: {limit}")
    return "\n".join(lines)


def reset_accumulated_memory_stats(device=None) -> None:
    """Restart ``num_alloc_retries`` and ``num_ooms`` of :func:`memory_stats` from zero.

    Examples
    --------
    >>> from flambeau_cuda._api import reset_accumulated_memory_stats
    >>> reset_accumulated_memory_stats()  # doctest: +SKIP
    """
    _memory.reset_counters(_index(device))


_fractions: dict[int, float] = {}  # device -> the fraction set on its pool


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    """Limit CuPy's pool on ``device`` to ``fraction`` of its memory (``set_limit``).

    Examples
    --------
    >>> from flambeau_cuda._api import set_per_process_memory_fraction
    >>> set_per_process_memory_fraction(0.5)  # doctest: +SKIP
    """
    b = _backend()
    index = _index(device)
    with b.xp.cuda.Device(index):
        # CuPy reads a limit of 0 bytes as "no limit": a fraction of 0 allows 1 byte
        if fraction == 0:
            _pool().set_limit(size=1)
        else:
            _pool().set_limit(fraction=fraction)
    _fractions[index] = float(fraction)


def get_per_process_memory_fraction(device=None) -> float:
    """The fraction last set by :func:`set_per_process_memory_fraction` (1.0: no limit).

    Examples
    --------
    >>> from flambeau_cuda._api import get_per_process_memory_fraction
    >>> get_per_process_memory_fraction()  # doctest: +SKIP
    1.0
    """
    return _fractions.get(_index(device), 1.0)


_raw_blocks: dict = {}  # pointer -> CuPy MemoryPointer, kept until caching_allocator_delete


def caching_allocator_alloc(size: int, device=None, stream=None) -> int:
    """``size`` bytes from CuPy's pool (through :func:`flambeau_cuda._memory.allocator`) on
    ``device`` for ``stream``; returns the pointer.

    Examples
    --------
    >>> from flambeau_cuda._api import caching_allocator_alloc, caching_allocator_delete
    >>> caching_allocator_delete(caching_allocator_alloc(64))  # doctest: +SKIP
    """
    b = _backend()
    if stream is not None and not isinstance(stream, (Stream, int)):
        raise TypeError(f"caching_allocator_alloc: stream must be a flambeau.cuda.Stream or "
                        f"an int handle, got {type(stream).__name__}")
    index = _index(device)
    if isinstance(stream, int):
        stream = ExternalStream(stream, index)
    with b.xp.cuda.Device(index), contextlib.ExitStack() as scope:
        if stream is not None:
            scope.enter_context(stream._stream)
        block = b.xp.cuda.alloc(size)  # through the allocator hook: peaks, readable OOM
    _raw_blocks[int(block.ptr)] = block
    return int(block.ptr)


def caching_allocator_delete(mem_ptr: int) -> None:
    """Give a block of :func:`caching_allocator_alloc` back to the pool.

    Examples
    --------
    >>> from flambeau_cuda._api import caching_allocator_delete
    >>> caching_allocator_delete(0)  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    RuntimeError: caching_allocator_delete: 0x0 was not returned by caching_allocator_alloc ...
    """
    if _raw_blocks.pop(mem_ptr, None) is None:
        raise RuntimeError(f"caching_allocator_delete: {mem_ptr:#x} was not returned by "
                         "caching_allocator_alloc (or was deleted already)")


# ----------------------------------------------------------------------------- streams


class ExternalStream(Stream):
    """A :class:`Stream` on a ``cudaStream_t`` created outside flambeau (its owner keeps it
    alive and destroys it).

    Parameters
    ----------
    stream_ptr : int
        The ``cudaStream_t`` handle.
    device : int, str or flambeau.device, optional
        The device the stream belongs to (default: the current one).

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.cuda.ExternalStream(handle)  # doctest: +SKIP
    >>> with flambeau.cuda.stream(s):  # doctest: +SKIP
    ...     y = flambeau.ones(2, device="cuda")
    """

    def __init__(self, stream_ptr: int, device=None, **kwargs):
        b = _backend()
        index = _index(device)
        super().__init__(index, _raw=b.xp.cuda.ExternalStream(int(stream_ptr), index))


def get_stream_from_external(data_ptr: int, device=None) -> ExternalStream:
    """An :class:`ExternalStream` on ``data_ptr``.

    Examples
    --------
    >>> from flambeau_cuda._api import get_stream_from_external
    >>> get_stream_from_external(0).cuda_stream  # doctest: +SKIP
    0
    """
    return ExternalStream(data_ptr, device)


def set_stream(stream: Stream) -> None:
    """Make ``stream`` the current stream of its device.

    Examples
    --------
    >>> from flambeau_cuda._api import Stream, set_stream
    >>> set_stream(Stream())  # doctest: +SKIP
    """
    b = _backend()
    with b.xp.cuda.Device(stream.device_index):
        stream._stream.use()


def is_current_stream_capturing() -> bool:
    """Whether the current stream is capturing a CUDA graph (CuPy's ``is_capturing``).

    Examples
    --------
    >>> from flambeau_cuda._api import is_current_stream_capturing
    >>> is_current_stream_capturing()  # doctest: +SKIP
    False
    """
    return bool(_backend().xp.cuda.get_current_stream().is_capturing())


def nvtx():
    """CuPy's ``cupy.cuda.nvtx`` when CuPy is installed with NVTX, else None (a GPU is not
    needed: NVTX only records names for a profiler).

    Examples
    --------
    >>> from flambeau_cuda._api import nvtx
    >>> nvtx() is None or hasattr(nvtx(), "RangePush")
    True
    """
    try:
        cupy = _cupy.load()
        module = cupy.cuda.nvtx
    except (ImportError, AttributeError):
        return None
    return module if getattr(module, "available", True) else None


# ------------------------------------------------------------------------ NVML's readings


def utilization(device=None) -> int:
    """Percent of the last sample period a kernel ran on ``device`` (NVML).

    Examples
    --------
    >>> from flambeau_cuda._api import utilization
    >>> 0 <= utilization() <= 100  # doctest: +SKIP
    True
    """
    return _nvml.utilization(_backend().xp, _index(device))


def temperature(device=None) -> int:
    """``device``'s temperature in degrees Celsius (NVML).

    Examples
    --------
    >>> from flambeau_cuda._api import temperature
    >>> temperature() > 0  # doctest: +SKIP
    True
    """
    return _nvml.temperature(_backend().xp, _index(device))


def power_draw(device=None) -> int:
    """``device``'s power draw in milliwatts (NVML).

    Examples
    --------
    >>> from flambeau_cuda._api import power_draw
    >>> power_draw() > 0  # doctest: +SKIP
    True
    """
    return _nvml.power_draw(_backend().xp, _index(device))


def clock_rate(device=None) -> int:
    """``device``'s SM clock in MHz (NVML).

    Examples
    --------
    >>> from flambeau_cuda._api import clock_rate
    >>> clock_rate() > 0  # doctest: +SKIP
    True
    """
    return _nvml.clock_rate(_backend().xp, _index(device))


def list_gpu_processes(device=None) -> str:
    """The processes on ``device`` and their memory (NVML), one line each.

    Examples
    --------
    >>> from flambeau_cuda._api import list_gpu_processes
    >>> list_gpu_processes().startswith("GPU:")  # doctest: +SKIP
    True
    """
    return _nvml.list_gpu_processes(_backend().xp, _index(device))

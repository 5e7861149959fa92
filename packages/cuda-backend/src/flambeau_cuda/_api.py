"""``flambeau.cuda.*`` beyond is_available / device_count: devices, seeds, memory, streams.

Core's :mod:`flambeau.cuda` forwards every other attribute here (through
``CudaBackend.cuda_module()``), so these are used as ``flambeau.cuda.synchronize()`` and so on.
Memory figures come from CuPy's default memory pool, which holds every flambeau CUDA tensor.
"""

from __future__ import annotations

import contextlib

from flambeau_cuda import _memory
from flambeau_cuda._memory import OutOfMemoryError

__all__ = [
    "synchronize", "manual_seed", "manual_seed_all", "current_device", "set_device", "device",
    "memory_allocated", "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats",
    "empty_cache", "get_device_name", "get_device_capability", "Stream", "Event", "stream",
    "current_stream", "default_stream", "OutOfMemoryError",
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
    """Restart :func:`max_memory_allocated` from the current allocation.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.reset_peak_memory_stats()  # doctest: +SKIP
    """
    index = _index(device)
    _memory.reset_peak(index, memory_allocated(index))


def empty_cache() -> None:
    """Give the pool's cached (unused) blocks back to the driver, on every device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cuda.empty_cache()  # doctest: +SKIP
    """
    from flambeau_cuda._kernels import _cudnn

    _cudnn.release_workspaces()  # kept between convolutions: not cached blocks, but unused
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


class Stream:
    """A CUDA stream: work queued on it runs in order, concurrently with other streams.

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
        self.device_index = _index(device)
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

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self):
        return hash(self.cuda_stream)

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

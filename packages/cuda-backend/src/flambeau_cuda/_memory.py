"""CuPy's memory pool behind flambeau: peak tracking and readable out-of-memory errors.

:func:`install` puts :func:`allocator` in front of CuPy's default pool (once per process). It
keeps CuPy's pool and its caching; on an allocation failure it frees the cached blocks and
tries again, and only then raises :class:`OutOfMemoryError`, whose message says how much was
asked for and what the pool holds.
"""

from __future__ import annotations

import sys
import threading

from flambeau._toplevel_more import OutOfMemoryError as _DeviceOutOfMemory
from flambeau_cuda import _cupy

__all__ = ["OutOfMemoryError", "allocator", "format_bytes", "oom_message", "install", "peak",
           "reset_peak", "reserved_peak", "counters", "reset_counters", "record_stream"]

_lock = threading.Lock()
_installed = False
_peaks: dict[int, int] = {}  # device id -> highest pool.used_bytes() seen at an allocation
_reserved_peaks: dict[int, int] = {}  # device id -> highest pool.total_bytes() seen there
#: device id -> {"num_alloc_retries": n, "num_ooms": n} (torch's memory_stats names)
_counters: dict[int, dict[str, int]] = {}
#: Tensor.record_stream: id(block) -> (the pool block, the raw streams that use it). A block
#: stays here, alive, while arrays use it; once only this table holds it, an event is recorded
#: on each of its streams and it moves to ``_waiting`` until they have all passed.
_recorded: dict[int, tuple] = {}
_waiting: list[tuple] = []  # (pool block, [events])
_release_lock = threading.RLock()  # guards _recorded and _waiting


class OutOfMemoryError(_DeviceOutOfMemory, MemoryError):
    """A CUDA allocation failed even after the pool's cached blocks were released.

    A :class:`flambeau.OutOfMemoryError` (``flambeau.cuda.OutOfMemoryError``, a
    ``RuntimeError`` as ``torch.cuda.OutOfMemoryError``) and a ``MemoryError``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau_cuda._memory import OutOfMemoryError
    >>> issubclass(OutOfMemoryError, flambeau.cuda.OutOfMemoryError)
    True
    """


def format_bytes(n: int) -> str:
    """``n`` bytes in a readable binary unit.

    Examples
    --------
    >>> from flambeau_cuda._memory import format_bytes
    >>> format_bytes(512), format_bytes(3 * 2**30)
    ('512 bytes', '3.00 GiB')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} bytes"


def oom_message(requested: int, device: int, used: int, cached: int, free: int | None,
                total: int | None) -> str:
    """The text of :class:`OutOfMemoryError`.

    Examples
    --------
    >>> from flambeau_cuda._memory import oom_message
    >>> print(oom_message(2**31, 0, 2**30, 2**20, 0, 2**34))  # doctest: +NORMALIZE_WHITESPACE
    CUDA out of memory: tried to allocate 2.00 GiB on cuda:0; the memory pool holds 1.00 GiB
    in tensors and 1.00 MiB cached (already released and retried); the device has 0 bytes free
    of 16.00 GiB. Free tensors you no longer need (del, or set .grad = None), reduce the batch
    size, or call flambeau.cuda.empty_cache() if other libraries share the GPU.
    """
    where = ""
    if free is not None and total is not None:
        where = f"; the device has {format_bytes(free)} free of {format_bytes(total)}"
    return (
        f"CUDA out of memory: tried to allocate {format_bytes(requested)} on cuda:{device}; the "
        f"memory pool holds {format_bytes(used)} in tensors and {format_bytes(cached)} cached "
        f"(already released and retried){where}. Free tensors you no longer need (del, or set "
        ".grad = None), reduce the batch size, or call flambeau.cuda.empty_cache() if other "
        "libraries share the GPU."
    )


def allocator(cupy):
    """The allocator :func:`install` gives CuPy: its default pool's ``malloc``, with peak
    tracking and :class:`OutOfMemoryError`.

    CuPy calls it for every array it allocates (hundreds in a training step), so the pool's
    methods are looked up here, once, not in each call.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._memory import allocator
    >>> allocator(cupy)(1024).size  # doctest: +SKIP
    1024
    """
    pool = cupy.get_default_memory_pool()
    malloc, used_bytes, total_bytes = pool.malloc, pool.used_bytes, pool.total_bytes
    peaks, reserved_peaks = _peaks, _reserved_peaks
    out_of_memory = cupy.cuda.memory.OutOfMemoryError

    since_release = 0  # allocations since release_recorded last ran

    def allocate(size):
        nonlocal since_release
        if _recorded or _waiting:  # blocks other streams used, given back when they are done
            # a release looks at every recorded block: with many recorded tensors still alive
            # (say a model's parameters), it runs once per that many allocations, so each
            # allocation pays O(1) on average; a block waits a little longer, never less
            since_release += 1
            if since_release >= len(_recorded):
                since_release = 0
                release_recorded(cupy)
        try:
            mem = malloc(size)
        except out_of_memory:
            mem = _retry(cupy, pool, size)
        used, dev = used_bytes(), mem.device_id
        if used > peaks.get(dev, 0):
            peaks[dev] = used
        reserved = total_bytes()
        if reserved > reserved_peaks.get(dev, 0):
            reserved_peaks[dev] = reserved
        return mem

    return allocate


def _retry(cupy, pool, size):
    """Allocate ``size`` bytes after freeing the pool's cached blocks (they may be fragmented),
    or raise :class:`OutOfMemoryError`."""
    count = counters(cupy.cuda.runtime.getDevice())
    count["num_alloc_retries"] += 1
    release_recorded(cupy, wait=True)
    pool.free_all_blocks()
    try:
        return pool.malloc(size)
    except cupy.cuda.memory.OutOfMemoryError:
        count["num_ooms"] += 1
        dev = cupy.cuda.runtime.getDevice()
        try:
            free, total = cupy.cuda.runtime.memGetInfo()
        except Exception:  # the context itself may be unusable after the failure
            free = total = None
        raise OutOfMemoryError(oom_message(size, dev, pool.used_bytes(), pool.free_bytes(),
                                           free, total)) from None


def record_stream(mem, stream) -> None:
    """Keep the pool block ``mem`` (a CuPy array's ``data.mem``) from going back to the pool
    until the work queued on the raw CuPy ``stream`` when its arrays are freed has finished:
    ``Tensor.record_stream``. CuPy's pool hands a freed block to the next allocation on the
    stream it was freed on, while another stream may still be reading it.

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.record_stream(x.data.mem, stream)  # doctest: +SKIP
    """
    entry = _recorded.get(id(mem))
    if entry is None:
        _recorded[id(mem)] = (mem, [stream])
    elif all(s is not stream for s in entry[1]):
        entry[1].append(stream)


def _refs_of_a_recorded_block() -> int:
    """What ``sys.getrefcount`` says in :func:`release_recorded` for a block nothing but
    ``_recorded`` holds (measured: interpreters count borrowed references differently)."""
    table = {0: (object(), [])}
    for mem, _ in list(table.values()):
        return sys.getrefcount(mem)


_UNUSED_REFS = _refs_of_a_recorded_block()


def release_recorded(cupy, wait: bool = False) -> None:
    """Record an event on the streams of each recorded block no array uses any more, and let
    go of the blocks whose events have all passed (with ``wait``, of every block, after
    waiting for them: before retrying a failed allocation).

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda import _memory
    >>> _memory.release_recorded(cupy)  # doctest: +SKIP
    """
    # allocations on several threads: an entry must not be lost or taken twice. Reentrant,
    # and entries popped, for an allocation a finalizer makes while this runs
    with _release_lock:
        for key, (mem, streams) in list(_recorded.items()):
            if sys.getrefcount(mem) <= _UNUSED_REFS:
                # the events first: should recording one fail, the block stays recorded
                events = [_event_on(cupy, stream) for stream in streams]
                if _recorded.pop(key, None) is not None:
                    _waiting.append((mem, events))
        if wait:
            for _, events in _waiting:
                for event in events:
                    event.synchronize()
        _waiting[:] = [(mem, events) for mem, events in _waiting
                       if not all(event.done for event in events)]


def _event_on(cupy, stream):
    """An event recorded on the raw CuPy ``stream``, made on the stream's device (an event
    cannot be recorded on another device's stream, and allocations run on any device)."""
    with cupy.cuda.Device(getattr(stream, "device_id", None)):
        event = cupy.cuda.Event(disable_timing=True)
        event.record(stream)
    return event


def install() -> None:
    """Route CuPy's allocations through :func:`allocator` (idempotent).

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.install()  # doctest: +SKIP
    """
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            cupy = _cupy.load()
            cupy.cuda.set_allocator(allocator(cupy))
            _installed = True


def peak(device: int) -> int:
    """The highest number of bytes held by tensors on ``device`` since the last reset.

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.peak(99)
    0
    """
    return _peaks.get(device, 0)


def reset_peak(device: int, current: int, reserved: int = 0) -> None:
    """Restart peak tracking of ``device`` from ``current`` bytes in tensors and ``reserved``
    bytes in the pool.

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.reset_peak(99, 10, 20); _memory.peak(99), _memory.reserved_peak(99)
    (10, 20)
    """
    _peaks[device] = current
    _reserved_peaks[device] = reserved


def reserved_peak(device: int) -> int:
    """The highest number of bytes the pool held on ``device`` since the last reset.

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.reserved_peak(98)
    0
    """
    return _reserved_peaks.get(device, 0)


def counters(device: int) -> dict[str, int]:
    """The allocation retries and out-of-memory errors of ``device`` since the last
    :func:`reset_counters` (a live dict).

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.counters(97)
    {'num_alloc_retries': 0, 'num_ooms': 0}
    """
    count = _counters.get(device)
    if count is None:
        count = _counters[device] = {"num_alloc_retries": 0, "num_ooms": 0}
    return count


def reset_counters(device: int) -> None:
    """Restart :func:`counters` of ``device`` from zero.

    Examples
    --------
    >>> from flambeau_cuda import _memory
    >>> _memory.counters(96)["num_ooms"] += 1; _memory.reset_counters(96)
    >>> _memory.counters(96)["num_ooms"]
    0
    """
    _counters.pop(device, None)

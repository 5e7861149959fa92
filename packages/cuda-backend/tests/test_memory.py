"""Out-of-memory translation and peak tracking of the allocator, on a fake CuPy pool."""

import types

import pytest

from flambeau_cuda import _cupy, _memory
from flambeau_cuda._memory import OutOfMemoryError, format_bytes, oom_message


class _CupyOOM(MemoryError):
    pass


class _Pool:
    """A pool that fails ``fail`` times, then hands out pointers; counts releases."""

    def __init__(self, fail):
        self.fail, self.released, self.used = fail, 0, 3 * 2**30

    def malloc(self, size):
        if self.fail:
            self.fail -= 1
            raise _CupyOOM(size)
        self.used += size
        return types.SimpleNamespace(device_id=5, size=size)

    def free_all_blocks(self):
        self.released += 1

    def used_bytes(self):
        return self.used

    def free_bytes(self):
        return 2**20

    def total_bytes(self):
        return self.used + self.free_bytes()


@pytest.fixture
def fake(monkeypatch):
    def make(fail):
        pool = _Pool(fail)
        runtime = types.SimpleNamespace(getDevice=lambda: 5, memGetInfo=lambda: (2**29, 2**36))
        cupy = types.SimpleNamespace(
            get_default_memory_pool=lambda: pool,
            cuda=types.SimpleNamespace(runtime=runtime,
                                       memory=types.SimpleNamespace(OutOfMemoryError=_CupyOOM)))
        monkeypatch.setattr(_cupy, "load", lambda: cupy)
        monkeypatch.setattr(_memory, "_peaks", {})
        monkeypatch.setattr(_memory, "_reserved_peaks", {})
        monkeypatch.setattr(_memory, "_counters", {})
        return pool, _memory.allocator(cupy)
    return make


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1023, 1024, 5 * 2**20 + 2**19, 2**40)] == [
        "0 bytes", "1023 bytes", "1.00 KiB", "5.50 MiB", "1024.00 GiB"]


def test_oom_error_names_request_and_pool(fake):
    pool, malloc = fake(fail=2)
    with pytest.raises(OutOfMemoryError) as info:
        malloc(3 * 2**30)
    assert pool.released == 1  # the cache was released once before giving up
    assert str(info.value).startswith(
        "CUDA out of memory: tried to allocate 3.00 GiB on cuda:5; the memory pool holds "
        "3.00 GiB in tensors and 1.00 MiB cached (already released and retried); the device "
        "has 512.00 MiB free of 64.00 GiB.")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, MemoryError)


def test_retry_after_releasing_the_cache_succeeds(fake):
    pool, malloc = fake(fail=1)
    mem = malloc(100)
    assert (mem.size, pool.released) == (100, 1)


def test_peak_tracks_the_highest_use(fake):
    pool, malloc = fake(fail=0)
    malloc(2**20)
    high = pool.used
    pool.used -= 2**20  # a tensor freed
    malloc(10)
    assert _memory.peak(5) == high
    _memory.reset_peak(5, pool.used)
    assert _memory.peak(5) == pool.used


def test_oom_message_without_device_figures():
    text = oom_message(10, 1, 0, 0, None, None)
    assert "cuda:1" in text and "free of" not in text and "10 bytes" in text


def test_reserved_peak_tracks_the_pool_and_resets_with_the_other_peak(fake):
    pool, malloc = fake(fail=0)
    malloc(2**20)
    high = pool.total_bytes()
    pool.used -= 2**20
    malloc(10)
    assert (_memory.reserved_peak(5), _memory.reserved_peak(4)) == (high, 0)
    _memory.reset_peak(5, pool.used, pool.total_bytes())
    assert _memory.reserved_peak(5) == pool.total_bytes()


def test_counters_count_retries_and_ooms_per_device(fake):
    pool, malloc = fake(fail=1)
    malloc(100)  # succeeds on the retry
    assert _memory.counters(5) == {"num_alloc_retries": 1, "num_ooms": 0}
    pool.fail = 2
    with pytest.raises(OutOfMemoryError):
        malloc(100)
    assert _memory.counters(5) == {"num_alloc_retries": 2, "num_ooms": 1}
    assert _memory.counters(4) == {"num_alloc_retries": 0, "num_ooms": 0}
    _memory.reset_counters(5)
    assert _memory.counters(5) == {"num_alloc_retries": 0, "num_ooms": 0}


class _Event:
    """A fake CuPy event: ``done`` once ``finish()`` (or ``synchronize()``) is called."""

    made = []

    def __init__(self, disable_timing=False):
        self.stream, self.done = None, False
        _Event.made.append(self)

    def record(self, stream=None):
        self.stream = stream

    def synchronize(self):
        self.done = True


class _Device:
    """A fake ``cupy.cuda.Device`` context: events made inside it note its id."""

    entered = []

    def __init__(self, device_id=None):
        self.id = device_id

    def __enter__(self):
        _Device.entered.append(self.id)

    def __exit__(self, *exc):
        return False


@pytest.fixture
def recording(monkeypatch):
    monkeypatch.setattr(_memory, "_recorded", {})
    monkeypatch.setattr(_memory, "_waiting", [])
    _Event.made, _Device.entered = [], []
    return types.SimpleNamespace(cuda=types.SimpleNamespace(Event=_Event, Device=_Device))


def test_a_recorded_block_waits_for_its_streams_after_its_arrays_are_freed(recording):
    import gc
    import weakref

    class Block:  # stands for CuPy's pooled memory: freed when no one holds it
        pass

    side, other = object(), object()
    array = types.SimpleNamespace(data=types.SimpleNamespace(mem=Block()))
    freed = weakref.ref(array.data.mem)
    _memory.record_stream(array.data.mem, side)
    _memory.record_stream(array.data.mem, side)  # recorded once per stream
    _memory.record_stream(array.data.mem, other)
    _memory.release_recorded(recording)
    assert _Event.made == []  # the array still uses the block: no event yet
    del array
    gc.collect()
    _memory.release_recorded(recording)  # the block is unused: events on both streams
    assert [e.stream for e in _Event.made] == [side, other] and freed() is not None
    _Event.made[0].done = True
    _memory.release_recorded(recording)
    assert freed() is not None  # one stream is still at work
    _Event.made[1].done = True
    _memory.release_recorded(recording)
    assert freed() is None and _memory._waiting == [] and _memory._recorded == {}


def test_a_failed_allocation_waits_for_the_recorded_blocks(recording, fake, monkeypatch):
    pool, allocate = fake(fail=1)
    cupy = _cupy.load()
    cupy.cuda.Event, cupy.cuda.Device = _Event, _Device
    _memory.record_stream(object(), "side")  # a block no array uses any more
    allocate(16)
    assert [e.done for e in _Event.made] == [True] and _memory._waiting == []


def test_the_backend_records_the_block_and_the_raw_stream(recording):
    from flambeau_cuda._backend import CudaBackend

    mem = object()
    stream = types.SimpleNamespace(_stream="raw")
    CudaBackend.record_stream(None, types.SimpleNamespace(data=types.SimpleNamespace(mem=mem)),
                              stream)
    assert _memory._recorded == {id(mem): (mem, ["raw"])}


def test_events_are_made_on_the_recorded_streams_device(recording):
    # an allocation on device 0 may release a block that a device-1 stream used: recording an
    # event on that stream from device 0 fails in CUDA
    _memory.record_stream(object(), types.SimpleNamespace(device_id=1))
    _memory.release_recorded(recording)
    assert _Device.entered == [1] and len(_Event.made) == 1


def test_a_block_stays_recorded_when_its_event_cannot_be_recorded(recording):
    class Failing(_Event):
        def record(self, stream=None):
            raise RuntimeError("cudaErrorInvalidResourceHandle")

    recording.cuda.Event = Failing
    _memory.record_stream(object(), "side")
    with pytest.raises(RuntimeError, match="InvalidResourceHandle"):
        _memory.release_recorded(recording)
    assert len(_memory._recorded) == 1 and _memory._waiting == []


def test_many_live_recorded_blocks_are_looked_at_once_per_that_many_allocations(
        recording, fake, monkeypatch):
    pool, allocate = fake(fail=0)
    releases = []
    monkeypatch.setattr(_memory, "release_recorded", lambda cupy, wait=False: releases.append(1))
    blocks = [object() for _ in range(10)]  # alive: a model's parameters, say
    for block in blocks:
        _memory.record_stream(block, "side")
    for _ in range(30):
        allocate(16)
    assert len(releases) == 3


def test_empty_cache_first_gives_back_the_blocks_recorded_streams_are_done_with(
        recording, monkeypatch):
    from flambeau_cuda import _api
    from flambeau_cuda._kernels import _cudnn

    done = []
    pool = types.SimpleNamespace(free_all_blocks=lambda: done.append(("pool", _memory._waiting)))
    pinned = types.SimpleNamespace(free_all_blocks=lambda: done.append("pinned"))
    recording.get_default_pinned_memory_pool = lambda: pinned
    monkeypatch.setattr(_api, "_pool", lambda: pool)
    monkeypatch.setattr(_api, "_backend", lambda: types.SimpleNamespace(xp=recording))
    monkeypatch.setattr(_cudnn, "release_workspaces", lambda: None)
    _memory.record_stream(object(), "side")  # a block no array uses, its stream still busy
    _api.empty_cache()
    # its event was waited for and the block let go before the pool freed its cached blocks
    assert [e.done for e in _Event.made] == [True] and _memory._recorded == {}
    assert done == [("pool", []), "pinned"]

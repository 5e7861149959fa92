"""``flambeau.cuda``'s device queries, memory figures, streams and NVTX (``_api``) on a
stand-in CuPy: the calls into CuPy and what is made of their answers, checked on the host.
``test_gpu_runtime.py`` runs the same functions on a GPU against torch.cuda."""

import contextlib
import sys
import types

import pytest

import flambeau
from flambeau_cuda import _api, _cupy, _memory, _nvml

_PROPS = {"name": b"Stand-in GPU\0", "major": 9, "minor": 0, "totalGlobalMem": 80 * 2**30,
          "multiProcessorCount": 132, "l2CacheSize": 50 * 2**20, "warpSize": 32,
          "integrated": 0, "isMultiGpuBoard": 0, "maxThreadsPerMultiProcessor": 2048,
          "pciBusID": 27, "uuid": bytes(range(16))}


class _Pool:
    def __init__(self):
        self.used, self.cached, self.limits, self.blocks = 3 * 2**20, 2**20, [], []

    def used_bytes(self):
        return self.used

    def free_bytes(self):
        return self.cached

    def total_bytes(self):
        return self.used + self.cached

    def set_limit(self, size=None, fraction=None):
        self.limits.append((size, fraction))

    def malloc(self, size):
        self.blocks.append(size)
        return types.SimpleNamespace(ptr=0x7000 + 256 * len(self.blocks), size=size)


class _Stream:
    def __init__(self, ptr, device_id=-1, capturing=False):
        self.ptr, self.device_id, self.capturing, self.used = ptr, device_id, capturing, False

    def use(self):
        self.used = True

    def is_capturing(self):
        return self.capturing

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _RuntimeError(Exception):
    def __init__(self, status):
        super().__init__("cudaErrorMemoryAllocation: out of memory" if status == 2 else
                         f"cudaError {status}")


def _fake_cupy(major=9):
    devices, marks = [], []
    runtime = types.SimpleNamespace(
        getDeviceProperties=lambda i: {**_PROPS, "major": major, "pciBusID": 27 + i},
        deviceCanAccessPeer=lambda a, b: int(a != b),
        memGetInfo=lambda: (2**30, 80 * 2**30), CUDARuntimeError=_RuntimeError)

    @contextlib.contextmanager
    def device(i):
        devices.append(i)
        yield

    nvtx = types.SimpleNamespace(available=True, RangePush=lambda m: marks.append(("push", m)),
                                 RangePop=lambda: marks.append(("pop",)),
                                 Mark=lambda m: marks.append(("mark", m)))
    current = _Stream(0)
    cuda = types.SimpleNamespace(
        runtime=runtime, Device=device, ExternalStream=_Stream, nvtx=nvtx,
        nvrtc=types.SimpleNamespace(getSupportedArchs=lambda: (90, 75, 80)),
        get_current_stream=lambda: current)
    pool = _Pool()
    cuda.alloc = pool.malloc  # CuPy's alloc goes through the current allocator to the pool
    return types.SimpleNamespace(cuda=cuda, get_default_memory_pool=lambda: pool, pool=pool,
                                 devices=devices, marks=marks, current=current)


@pytest.fixture
def cupy(monkeypatch):
    fake = _fake_cupy()

    def check(index):
        if not 0 <= index < 2:
            raise RuntimeError(f"cuda:{index}: invalid device index")

    backend = types.SimpleNamespace(xp=fake, current_device=lambda: 1, _check_index=check,
                                    device_count=lambda: 2)
    monkeypatch.setattr(_api, "_backend", lambda: backend)
    monkeypatch.setattr(_cupy, "load", lambda: fake)
    for name in ("_peaks", "_reserved_peaks", "_counters"):
        monkeypatch.setattr(_memory, name, {})
    monkeypatch.setattr(_api, "_fractions", {})
    monkeypatch.setattr(_api, "_raw_blocks", {})
    return fake


def test_device_properties_carry_torchs_names(cupy):
    p = _api.get_device_properties("cuda:0")
    assert (p.name, p.major, p.minor, p.total_memory, p.multi_processor_count) == (
        "Stand-in GPU", 9, 0, 80 * 2**30, 132)
    assert (p.L2_cache_size, p.warp_size, p.is_integrated, p.pci_bus_id) == (
        50 * 2**20, 32, False, 27)
    assert p.uuid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert p.shared_memory_per_block is None  # not in this dict: None, not a made-up value
    assert repr(p) == ("_CudaDeviceProperties(name='Stand-in GPU', major=9, minor=0, "
                       "total_memory=81920MB, multi_processor_count=132, "
                       "uuid=00010203-0405-0607-0809-0a0b0c0d0e0f, L2_cache_size=50MB)")
    assert _api.get_device_properties().pci_bus_id == 28  # None: the current device (1)


def test_arch_list_is_nvrtcs_oldest_first(cupy):
    assert _api.get_arch_list() == ["sm_75", "sm_80", "sm_90"]


@pytest.mark.parametrize("major, bf16, bf16_native, tf32", [(9, True, True, True),
                                                             (7, True, False, False)])
def test_bf16_and_tf32_follow_the_compute_capability(cupy, monkeypatch, major, bf16,
                                                     bf16_native, tf32):
    monkeypatch.setattr(cupy.cuda.runtime, "getDeviceProperties",
                        lambda i: {**_PROPS, "major": major})
    assert _api.is_bf16_supported() is bf16
    assert _api.is_bf16_supported(including_emulation=False) is bf16_native
    assert _api.is_tf32_supported() is tf32


def test_peer_access_and_memory_info(cupy):
    assert _api.can_device_access_peer(0, 1) is True
    assert _api.can_device_access_peer(1, 1) is False
    with pytest.raises(RuntimeError, match="cuda:2: invalid device index"):
        _api.can_device_access_peer(0, 2)
    assert _api.mem_get_info(0) == (2**30, 80 * 2**30)
    assert cupy.devices[-1] == 0  # asked with device 0 current


def test_error_string_is_cudas(cupy):
    assert _api.error_string(2) == "cudaErrorMemoryAllocation: out of memory"


def test_memory_stats_use_torchs_keys(cupy):
    _memory.reset_peak(1, 5 * 2**20, 7 * 2**20)
    _memory.counters(1)["num_alloc_retries"] = 2
    assert _api.memory_stats() == {
        "allocated_bytes.all.current": 3 * 2**20, "allocated_bytes.all.peak": 5 * 2**20,
        "reserved_bytes.all.current": 4 * 2**20, "reserved_bytes.all.peak": 7 * 2**20,
        "inactive_split_bytes.all.current": 2**20, "num_alloc_retries": 2, "num_ooms": 0}
    assert _api.max_memory_reserved() == 7 * 2**20
    cupy.pool.used = 9 * 2**20  # above the recorded peaks: the peaks are at least current
    assert _api.max_memory_reserved() == 10 * 2**20
    _api.reset_accumulated_memory_stats()
    assert _memory.counters(1) == {"num_alloc_retries": 0, "num_ooms": 0}
    _api.reset_peak_memory_stats()
    assert (_memory.peak(1), _memory.reserved_peak(1)) == (9 * 2**20, 10 * 2**20)


def test_memory_summary_is_a_readable_table(cupy):
    text = _api.memory_summary(0)
    assert text.splitlines()[0] == "flambeau.cuda memory summary, device 0 (CuPy memory pool)"
    assert text.splitlines()[1:] == [
        "                                   current          peak",
        "allocated (in tensors)            3.00 MiB      3.00 MiB",
        "reserved (tensors + cache)        4.00 MiB      4.00 MiB",
        "cached, not in a tensor           1.00 MiB",
        "allocations retried after releasing the cache: 0",
        "out-of-memory errors: 0"]
    _api.set_per_process_memory_fraction(0.25, 0)
    assert "per-process memory fraction: 0.25" in _api.memory_summary(0)


def test_memory_fraction_sets_the_pools_limit(cupy):
    assert _api.get_per_process_memory_fraction() == 1.0
    _api.set_per_process_memory_fraction(0.5)
    _api.set_per_process_memory_fraction(0.0, 0)
    assert cupy.pool.limits == [(None, 0.5), (1, None)]  # CuPy's 0 bytes would mean no limit
    assert (_api.get_per_process_memory_fraction(1),
            _api.get_per_process_memory_fraction(0)) == (0.5, 0.0)


def test_caching_allocator_keeps_the_block_until_deleted(cupy):
    ptr = _api.caching_allocator_alloc(64, 0, stream=_api.ExternalStream(0x55, 0))
    assert cupy.pool.blocks == [64] and ptr in _api._raw_blocks
    _api.caching_allocator_delete(ptr)
    assert ptr not in _api._raw_blocks
    with pytest.raises(RuntimeError, match=r"caching_allocator_delete: 0x[0-9a-f]+ was not "
                                           r"returned by caching_allocator_alloc"):
        _api.caching_allocator_delete(ptr)
    with pytest.raises(TypeError, match="caching_allocator_alloc: stream must be a "
                                        "flambeau.cuda.Stream or an int handle, got str"):
        _api.caching_allocator_alloc(64, stream="s")


def test_external_streams_wrap_the_handle(cupy):
    s = _api.get_stream_from_external(0x1234, "cuda:0")
    assert isinstance(s, _api.ExternalStream) and isinstance(s, _api.Stream)
    assert (s.cuda_stream, s.device_index, s._stream.device_id) == (0x1234, 0, 0)
    _api.set_stream(s)
    assert s._stream.used and cupy.devices[-1] == 0
    assert _api.is_current_stream_capturing() is False
    cupy.current.capturing = True
    assert _api.is_current_stream_capturing() is True


def test_nvtx_goes_to_cupys(cupy):
    nvtx = flambeau.cuda.nvtx
    assert _api.nvtx() is cupy.cuda.nvtx
    assert nvtx.range_pop() == -1  # nothing open: nothing popped
    assert (nvtx.range_push("a"), nvtx.range_push("b")) == (0, 1)
    assert (nvtx.range_pop(), nvtx.range_pop()) == (1, 0)
    nvtx.mark("here")
    with nvtx.range("step {} of {n}", 3, n=5):
        pass
    assert cupy.marks == [("push", "a"), ("push", "b"), ("pop",), ("pop",), ("mark", "here"),
                          ("push", "step 3 of 5"), ("pop",)]


def test_nvtx_without_cupys_nvtx_says_so(cupy, monkeypatch):
    monkeypatch.setattr(cupy.cuda.nvtx, "available", False)
    assert _api.nvtx() is None
    with pytest.raises(RuntimeError, match=r"^flambeau.cuda.nvtx.mark needs CuPy with NVTX$"):
        flambeau.cuda.nvtx.mark("x")


class _FakeNvml:
    """pynvml's calls that ``_nvml`` makes, on one GPU at PCI address 00000000:1C:00.0."""

    __name__ = "pynvml"
    NVML_TEMPERATURE_GPU, NVML_CLOCK_SM = 0, 1

    def __init__(self, procs):
        self.inits, self.procs = 0, procs

    def nvmlInit(self):
        self.inits += 1

    def nvmlDeviceGetHandleByPciBusId(self, bus):
        if bus != b"00000000:1C:00.0":
            raise LookupError(bus)
        return "gpu-handle"

    def nvmlDeviceGetUtilizationRates(self, h):
        return types.SimpleNamespace(gpu=37 if h == "gpu-handle" else None, memory=5)

    def nvmlDeviceGetTemperature(self, h, sensor):
        return {("gpu-handle", 0): 61}[(h, sensor)]

    def nvmlDeviceGetPowerUsage(self, h):
        return 123456 if h == "gpu-handle" else None

    def nvmlDeviceGetClockInfo(self, h, clock):
        return {("gpu-handle", 1): 1755}[(h, clock)]

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        assert h == "gpu-handle"
        return self.procs


@pytest.fixture
def nvml(cupy, monkeypatch):
    fake = _FakeNvml([types.SimpleNamespace(pid=4242, usedGpuMemory=3 * 2**20 + 2**19),
                      types.SimpleNamespace(pid=7, usedGpuMemory=None)])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(_nvml, "_started", [])
    monkeypatch.setattr(cupy.cuda.runtime, "getDeviceProperties",
                        lambda i: {**_PROPS, "pciBusID": 27 + i, "pciDomainID": 0,
                                   "pciDeviceID": 0})
    return fake


def test_nvml_readings_find_the_gpu_by_its_pci_address(nvml):
    # device 1 (the current one) sits at bus 0x1C: NVML's numbering does not matter
    assert (_api.utilization(), _api.temperature(1), _api.power_draw("cuda:1"),
            _api.clock_rate()) == (37, 61, 123456, 1755)
    assert nvml.inits == 1  # NVML is started once
    with pytest.raises(LookupError):
        _api.utilization(0)  # bus 0x1B: no such GPU in this NVML


def test_list_gpu_processes_lines(nvml):
    assert _api.list_gpu_processes().splitlines() == [
        "GPU:1", "process       4242 uses        3.500 MB GPU memory",
        "process          7 uses an unknown amount of GPU memory"]
    nvml.procs = []
    assert _api.list_gpu_processes(1) == "GPU:1\nno processes are running"


def test_without_nvidia_ml_py_the_readings_say_what_to_install(cupy, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    monkeypatch.setattr(_nvml, "_started", [])
    with pytest.raises(ModuleNotFoundError, match=r"^NVML's readings need nvidia-ml-py: pip "
                                                  r"install flambeau-cuda\[nvml\]"):
        _api.temperature()
    assert _api.list_gpu_processes() == ("NVML's readings need nvidia-ml-py: pip install "
                                         "flambeau-cuda[nvml] (nvidia-ml-py)")


def test_cuda_streams_are_flambeau_streams_and_context_managers(cupy):
    """torch.cuda.Stream subclasses torch.Stream (its device, device_index, stream_id, ==
    and ``with s:`` come with it); flambeau.cuda.Stream was a class of its own."""
    s = _api.ExternalStream(0x55, "cuda:0")
    assert isinstance(s, flambeau.Stream) and isinstance(s, _api.Stream)
    assert (str(s.device), s.device_index, s.device_type, s.stream_id) == ("cuda:0", 0, 1, 0x55)
    assert s == _api.ExternalStream(0x55, 0) and s != _api.ExternalStream(0x66, 0)
    assert hash(s) == hash(_api.ExternalStream(0x55, 0))
    other = _api.ExternalStream(0x66, 1)
    with s as entered:
        assert entered is s and cupy.devices[-1] == 0
        with other:  # nested: each block enters its own stream's device
            assert cupy.devices[-1] == 1
    assert s._contexts == [] and other._contexts == []

"""``flambeau.cuda``'s RNG states, device queries, memory figures, streams and NVTX on a GPU,
against torch.cuda where torch sees the same GPU; without one each reports "skipped: no CUDA
device" (their host halves: ``test_api_host.py`` and core's ``test_cuda_runtime.py``)."""

import warnings

import numpy as np
import pytest

import flambeau

pytestmark = pytest.mark.gpu
cuda = flambeau.cuda


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def test_rng_state_restores_the_draws():
    state = cuda.get_rng_state()
    assert state.device == flambeau.device("cpu") and state.dtype is flambeau.uint8
    a = flambeau.rand(5, device="cuda").cpu().numpy()
    cuda.set_rng_state(state)
    np.testing.assert_array_equal(flambeau.rand(5, device="cuda").cpu().numpy(), a)
    assert len(cuda.get_rng_state_all()) == len(cuda.default_generators) == cuda.device_count()
    cuda.manual_seed(123)
    assert cuda.initial_seed() == 123


def test_device_properties_match_torchs():
    p = cuda.get_device_properties(0)
    assert p.total_memory > 0 and p.multi_processor_count > 0 and p.warp_size == 32
    assert (p.major, p.minor) == cuda.get_device_capability(0)
    torch = _torch_cuda()
    if torch is not None:
        t = torch.cuda.get_device_properties(0)
        assert (p.name, p.major, p.minor, p.total_memory, p.multi_processor_count) == (
            t.name, t.major, t.minor, t.total_memory, t.multi_processor_count)
        assert p.L2_cache_size == t.L2_cache_size
        assert cuda.is_tf32_supported() == torch.cuda.is_tf32_supported()
        assert cuda.is_bf16_supported(False) == torch.cuda.is_bf16_supported(False)
        free, total = cuda.mem_get_info()
        assert total == torch.cuda.mem_get_info()[1] and 0 < free <= total


def test_arch_list_covers_this_gpu():
    major, minor = cuda.get_device_capability()
    archs = cuda.get_arch_list()
    assert archs == sorted(archs, key=lambda a: int(a[3:])) and archs
    assert int(archs[0][3:]) <= major * 10 + minor  # NVRTC can compile for this GPU
    assert cuda.get_gencode_flags().count("-gencode") == len(archs)


def test_init_and_queries():
    cuda.init()
    assert cuda.is_initialized() is True
    assert cuda.can_device_access_peer(0, 0) is False
    assert cuda.is_current_stream_capturing() is False
    cuda.ipc_collect()


def test_memory_stats_follow_an_allocation():
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    cuda.reset_accumulated_memory_stats()
    before = cuda.memory_stats()
    x = flambeau.empty(2**20, dtype=flambeau.float32, device="cuda")
    after = cuda.memory_stats()
    assert after["allocated_bytes.all.current"] - before["allocated_bytes.all.current"] >= 4 * 2**20
    assert after["allocated_bytes.all.peak"] >= after["allocated_bytes.all.current"]
    assert after["reserved_bytes.all.current"] >= after["allocated_bytes.all.current"]
    assert cuda.max_memory_reserved() >= cuda.memory_reserved() > 0
    assert (after["num_alloc_retries"], after["num_ooms"]) == (0, 0)
    nested = cuda.memory_stats_as_nested_dict()
    assert nested["allocated_bytes"]["all"]["current"] == cuda.memory_allocated()
    assert "allocated (in tensors)" in cuda.memory_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert cuda.memory_cached() == cuda.memory_reserved()
    del x


def test_memory_fraction_limits_the_pool():
    assert cuda.get_per_process_memory_fraction() == 1.0
    total = cuda.get_device_properties().total_memory
    cuda.set_per_process_memory_fraction(0.01)
    try:
        assert cuda.get_per_process_memory_fraction() == 0.01
        with pytest.raises(cuda.OutOfMemoryError):
            flambeau.empty(int(total * 0.02) // 4, dtype=flambeau.float32, device="cuda")
        assert cuda.memory_stats()["num_ooms"] >= 1
    finally:
        cuda.set_per_process_memory_fraction(1.0)
    y = flambeau.empty(int(total * 0.02) // 4, dtype=flambeau.float32, device="cuda")
    del y


def test_caching_allocator_alloc_and_delete():
    before = cuda.memory_allocated()
    ptr = cuda.caching_allocator_alloc(1 << 20, stream=cuda.current_stream())
    assert ptr != 0 and cuda.memory_allocated() >= before + (1 << 20)
    cuda.caching_allocator_delete(ptr)
    assert cuda.memory_allocated() == before


def test_streams_set_external_and_context():
    s = cuda.Stream()
    ext = cuda.get_stream_from_external(s.cuda_stream)
    assert isinstance(ext, cuda.ExternalStream) and ext.cuda_stream == s.cuda_stream
    with cuda.StreamContext(ext):
        assert cuda.current_stream().cuda_stream == s.cuda_stream
        y = flambeau.ones(4, device="cuda") * 3
    ext.synchronize()
    assert y.sum().item() == 12
    previous = cuda.current_stream()
    cuda.set_stream(s)
    try:
        assert cuda.current_stream() == s
    finally:
        cuda.set_stream(previous)
    x = flambeau.ones(1, device="cuda")
    with cuda.device_of(x):
        assert cuda.current_device() == x.device.index


def test_nvtx_ranges_nest():
    assert cuda.nvtx.range_push("outer") == 0
    assert cuda.nvtx.range_push("inner") == 1
    assert cuda.nvtx.range_pop() == 1 and cuda.nvtx.range_pop() == 0
    cuda.nvtx.mark("mark")
    with cuda.nvtx.range("step {}", 1):
        pass


def test_cuda_error_names_the_code():
    assert str(cuda.CudaError(2)).endswith("out of memory (2)")
    torch = _torch_cuda()
    if torch is not None:
        assert str(cuda.CudaError(2)).split(": ")[-1] == str(torch.cuda.CudaError(2))


def test_nvml_readings():
    pytest.importorskip("pynvml", reason="needs nvidia-ml-py (flambeau-cuda[nvml])")
    assert 0 <= cuda.utilization() <= 100
    assert 0 < cuda.temperature() < 120
    assert cuda.power_draw() > 0 and cuda.clock_rate() > 0
    assert cuda.list_gpu_processes().startswith("GPU:0\n")
    torch = _torch_cuda()
    if torch is not None:
        assert abs(cuda.temperature() - torch.cuda.temperature()) <= 5

"""``flambeau.cuda``'s RNG states, device queries, memory figures, stream contexts and error
types (``flambeau/cuda/_runtime.py``): torch.cuda's answers without CUDA (compared with the
installed torch where it has no CUDA either), the errors that say what is missing, and the
calls into the plugin's module, here a stand-in on a NumPy "cuda" backend."""

import contextlib
import types
import warnings

import numpy as np
import pytest
from test_cuda_legacy_types import _FakeCuda, _use_cuda_backend

import flambeau
from flambeau import _random
from flambeau.testing._harness import torch_or_none

cuda = flambeau.cuda


def _torch_without_cuda():
    torch = torch_or_none()
    return torch if torch is not None and not torch.cuda.is_available() else None


class _Unavailable(_FakeCuda):
    def is_available(self):
        return False

    def unavailable_reason(self):
        return "no CUDA device is visible (stand-in)"


def _forget_cuda_generators():
    for dev in [d for d in _random._defaults if d.type == "cuda"]:
        del _random._defaults[dev]


@pytest.fixture(params=["absent", "unavailable"])
def no_cuda(request):
    restore = _use_cuda_backend(None if request.param == "absent" else _Unavailable())
    yield request.param
    restore()


def _plugin_module(**extra):
    calls = []

    @contextlib.contextmanager
    def device(index):
        calls.append(("device", index))
        yield

    @contextlib.contextmanager
    def stream(s):
        calls.append(("stream", s))
        yield

    module = types.SimpleNamespace(
        current_device=lambda: 0, device=device, stream=stream, calls=calls,
        get_arch_list=lambda: ["sm_80", "sm_90"], is_bf16_supported=lambda emulate: emulate,
        is_tf32_supported=lambda: True, is_initialized=lambda: True,
        can_device_access_peer=lambda a, b: (a, b) == (0, 1),
        mem_get_info=lambda device: (np.int64(5), np.int64(9)),
        memory_allocated=lambda device: 10, max_memory_allocated=lambda device: 30,
        memory_reserved=lambda device: 20, max_memory_reserved=lambda device: 40,
        memory_stats=lambda device: {"reserved_bytes.all.current": 20, "num_ooms": 0,
                                     "allocated_bytes.all.current": 10},
        set_stream=lambda s: calls.append(("set_stream", s)),
        is_current_stream_capturing=lambda: False,
        error_string=lambda code: "cudaErrorMemoryAllocation: out of memory")
    for name, value in extra.items():
        setattr(module, name, value)
    return module


@pytest.fixture
def fake_cuda():
    """Two NumPy "cuda" devices whose plugin module is :func:`_plugin_module`."""
    module = _plugin_module()
    restore = _use_cuda_backend(_FakeCuda(cuda_module=module))
    _forget_cuda_generators()
    yield module
    _forget_cuda_generators()
    restore()


# ------------------------------------------------------------------------ without CUDA

_NO_CUDA_ANSWERS = [
    ("get_rng_state_all", (), []), ("set_rng_state_all", ([],), None),
    ("get_arch_list", (), []), ("get_gencode_flags", (), ""),
    ("is_bf16_supported", (), False), ("is_tf32_supported", (), False),
    ("is_initialized", (), False), ("memory_allocated", (), 0),
    ("max_memory_allocated", (), 0), ("memory_reserved", (), 0),
    ("max_memory_reserved", (), 0), ("memory_stats_as_nested_dict", (), {}),
    ("set_stream", (None,), None), ("is_current_stream_capturing", (), False),
    ("empty_cache", (), None),
]


@pytest.mark.parametrize("name, args, expected", _NO_CUDA_ANSWERS)
def test_answers_without_cuda_are_torchs(no_cuda, name, args, expected):
    got = getattr(cuda, name)(*args)
    assert got == expected and type(got) is type(expected)
    torch = _torch_without_cuda()
    if torch is not None and name != "is_current_stream_capturing":  # a CPU build raises
        assert getattr(torch.cuda, name)(*args) == expected


def test_values_without_cuda_are_torchs(no_cuda):
    assert cuda.memory_stats() == {} and type(cuda.memory_stats()).__name__ == "OrderedDict"
    assert cuda.default_generators == ()
    assert cuda.set_rng_state(flambeau.zeros(24, dtype=flambeau.uint8)) is None
    assert (cuda.has_half, cuda.has_magma) == (True, False)
    torch = _torch_without_cuda()
    if torch is not None:
        assert torch.cuda.default_generators == () and torch.cuda.has_half is True
        assert torch.cuda.set_rng_state(torch.zeros(16, dtype=torch.uint8)) is None


@pytest.mark.parametrize("name, renamed", [("memory_cached", "memory_reserved"),
                                           ("max_memory_cached", "max_memory_reserved")])
def test_cached_names_warn_that_they_were_renamed(no_cuda, name, renamed):
    with pytest.warns(FutureWarning, match=rf"^`flambeau.cuda.{name}` has been renamed to "
                                           rf"`flambeau.cuda.{renamed}`$"):
        assert getattr(cuda, name)() == 0
    torch = _torch_without_cuda()
    if torch is not None:
        with pytest.warns(FutureWarning, match=f"`torch.cuda.{name}` has been renamed"):
            assert getattr(torch.cuda, name)() == 0


def test_contexts_without_cuda_change_nothing(no_cuda):
    x = flambeau.ones(2)
    with cuda.device_of(x), cuda.StreamContext(None) as s:
        y = x + 1
    assert s is None and (y.cpu().numpy() == 2).all()


_NEEDS_CUDA = [
    ("get_rng_state", ()), ("initial_seed", ()), ("get_device_properties", ()), ("init", ()),
    ("can_device_access_peer", (0, 1)), ("mem_get_info", ()), ("ipc_collect", ()),
    ("memory_summary", ()), ("reset_peak_memory_stats", ()),
    ("reset_accumulated_memory_stats", ()), ("set_per_process_memory_fraction", (0.5,)),
    ("get_per_process_memory_fraction", ()), ("caching_allocator_alloc", (16,)),
    ("caching_allocator_delete", (0,)), ("get_stream_from_external", (0,)),
    ("utilization", ()), ("temperature", ()), ("power_draw", ()), ("clock_rate", ()),
    ("list_gpu_processes", ()),
]


@pytest.mark.parametrize("name, args", _NEEDS_CUDA)
def test_calls_that_need_cuda_say_what_is_missing(no_cuda, name, args):
    expected = (rf"^flambeau.cuda.{name} needs the CUDA backend: pip install flambeau-cuda"
                if no_cuda == "absent" else
                rf"^flambeau.cuda.{name} needs a CUDA device: no CUDA device is visible "
                r"\(stand-in\)$")
    with pytest.raises(RuntimeError, match=expected):
        getattr(cuda, name)(*args)


def test_reset_max_memory_allocated_warns_then_needs_cuda(no_cuda):
    with pytest.warns(FutureWarning, match="reset_max_memory_allocated now calls "
                                           "flambeau.cuda.reset_peak_memory_stats"):
        with pytest.raises(RuntimeError, match="^flambeau.cuda.reset_peak_memory_stats needs"):
            cuda.reset_max_memory_allocated()


def test_device_of_a_cuda_tensor_without_cuda_raises(no_cuda):
    x = types.SimpleNamespace(device=flambeau.device("cuda:1"))
    with pytest.raises(RuntimeError, match="^flambeau.cuda.device_of needs"):
        with cuda.device_of(x):
            pass


def test_nvtx_without_the_plugin_says_what_to_install(no_cuda):
    expected = ("the CUDA backend: pip install flambeau-cuda" if no_cuda == "absent"
                else "CuPy with NVTX")
    for call in (lambda: cuda.nvtx.range_push("a"), cuda.nvtx.range_pop,
                 lambda: cuda.nvtx.mark("a")):
        with pytest.raises(RuntimeError, match=f"^flambeau.cuda.nvtx.[a-z_]+ needs {expected}"):
            call()
    with pytest.raises(RuntimeError, match="^flambeau.cuda.nvtx.range_push needs"):
        with cuda.nvtx.range("a"):
            pass


@pytest.mark.parametrize("fraction, error, message", [
    (1, TypeError, "set_per_process_memory_fraction: fraction must be a float, got int"),
    (1.5, ValueError, r"set_per_process_memory_fraction: fraction must be in \[0, 1\], got 1.5"),
    (-0.1, ValueError, r"fraction must be in \[0, 1\], got -0.1")])
def test_memory_fraction_is_checked_first(no_cuda, fraction, error, message):
    with pytest.raises(error, match=message):
        cuda.set_per_process_memory_fraction(fraction)


@pytest.mark.parametrize("size", [-1, 2.0, True])
def test_caching_allocator_size_is_checked_first(no_cuda, size):
    with pytest.raises(TypeError, match=rf"^caching_allocator_alloc: size must be a "
                                        rf"non-negative int, got {size!r}$"):
        cuda.caching_allocator_alloc(size)


def test_cuda_error_carries_its_code(no_cuda):
    err = cuda.CudaError(2)
    assert (err.code, str(err), isinstance(err, RuntimeError)) == (2, "CUDA error (2)", True)
    assert issubclass(cuda.DeferredCudaCallError, Exception)
    torch = torch_or_none()
    if torch is not None:
        assert issubclass(torch.cuda.CudaError, RuntimeError)
        assert torch.cuda.DeferredCudaCallError.__mro__[1] is Exception


# ----------------------------------------------------------------------- with "cuda"


def test_rng_state_round_trips_per_device(fake_cuda):
    state = cuda.get_rng_state()
    assert state.device == flambeau.device("cpu") and state.dtype is flambeau.uint8
    a = flambeau.rand(4, device="cuda:0").cpu().numpy()
    cuda.set_rng_state(state, "cuda")
    np.testing.assert_array_equal(flambeau.rand(4, device="cuda:0").cpu().numpy(), a)
    states = cuda.get_rng_state_all()
    assert len(states) == 2
    b = flambeau.rand(4, device="cuda:1").cpu().numpy()
    cuda.set_rng_state_all(states)
    np.testing.assert_array_equal(flambeau.rand(4, device="cuda:1").cpu().numpy(), b)
    cuda.set_rng_state(state, 1)  # another device's state takes it over
    np.testing.assert_array_equal(flambeau.rand(4, device="cuda:1").cpu().numpy(), a)


def test_default_generators_and_initial_seed(fake_cuda):
    gens = cuda.default_generators
    assert type(gens) is tuple and len(gens) == 2
    assert gens[1] is _random.default_generator_for("cuda:1")
    gens[0].manual_seed(11)
    assert cuda.initial_seed() == 11  # the current device's (0)


@pytest.mark.parametrize("device, error, message", [
    (2, RuntimeError, r"^flambeau.cuda.get_rng_state: invalid device index 2; 2 CUDA devices "
                      r"are visible$"),
    ("cpu", ValueError, r"^flambeau.cuda.get_rng_state: expected a cuda device, got 'cpu'$")])
def test_rng_state_device_errors(fake_cuda, device, error, message):
    with pytest.raises(error, match=message):
        cuda.get_rng_state(device)


def test_queries_ask_the_plugin(fake_cuda):
    assert cuda.get_arch_list() == ["sm_80", "sm_90"]
    assert cuda.get_gencode_flags() == ("-gencode compute=compute_80,code=sm_80 "
                                        "-gencode compute=compute_90,code=sm_90")
    assert cuda.is_bf16_supported() is True and cuda.is_bf16_supported(False) is False
    assert (cuda.is_tf32_supported(), cuda.is_initialized()) == (True, True)
    assert cuda.can_device_access_peer("cuda:0", flambeau.device("cuda:1")) is True
    with pytest.raises(RuntimeError, match="can_device_access_peer: invalid device index 5"):
        cuda.can_device_access_peer(0, 5)
    free, total = cuda.mem_get_info()
    assert (free, total, type(free)) == (5, 9, int)
    assert cuda.init() is None and cuda.ipc_collect() is None
    assert str(cuda.CudaError(2)) == "cudaErrorMemoryAllocation: out of memory (2)"


def test_gencode_flags_are_torchs_for_the_same_arch_list(fake_cuda, monkeypatch):
    torch = _torch_without_cuda()
    if torch is None:
        pytest.skip("needs torch without CUDA")
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: ["sm_80", "sm_90"])
    assert cuda.get_gencode_flags() == torch.cuda.get_gencode_flags()


def test_memory_figures_ask_the_plugin(fake_cuda):
    assert (cuda.memory_allocated(), cuda.max_memory_allocated(), cuda.memory_reserved(),
            cuda.max_memory_reserved()) == (10, 30, 20, 40)
    stats = cuda.memory_stats()
    assert list(stats) == ["allocated_bytes.all.current", "num_ooms",
                           "reserved_bytes.all.current"]  # sorted, as torch's
    assert cuda.memory_stats_as_nested_dict() == {
        "allocated_bytes": {"all": {"current": 10}}, "num_ooms": 0,
        "reserved_bytes": {"all": {"current": 20}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert (cuda.memory_cached(), cuda.max_memory_cached()) == (20, 40)


def test_empty_cache_asks_the_plugin(fake_cuda):
    fake_cuda.empty_cache = lambda: fake_cuda.calls.append(("empty_cache",))
    assert cuda.empty_cache() is None and fake_cuda.calls == [("empty_cache",)]


def test_contexts_enter_the_plugins(fake_cuda):
    s = object()
    x = flambeau.ones(2, device="cuda:1")
    with cuda.device_of(x), cuda.StreamContext(s) as entered:
        assert entered is None  # as torch's
    with cuda.device_of(flambeau.ones(2)):  # a CPU tensor: no device switch
        pass
    cuda.set_stream(s)
    assert fake_cuda.calls == [("device", 1), ("stream", s), ("set_stream", s)]

"""``flambeau.mps`` and ``flambeau.backends.mps``: without a plugin that provides the "mps"
device type, as PyTorch built without MPS (torch on Linux); with one, they answer for it."""

import numpy as np
import pytest
from test_xpu import installed

import flambeau
from flambeau.testing._harness import torch_or_none

#: calls, and what PyTorch built without MPS does with them: a value, or the error's type
_WITHOUT_MPS = [
    ("mps.is_available()", False), ("mps.device_count()", 0), ("mps.manual_seed(1)", None),
    ("mps.seed()", RuntimeError), ("mps.get_rng_state()", RuntimeError),
    ("mps.set_rng_state(state)", RuntimeError), ("mps.synchronize()", RuntimeError),
    ("mps.empty_cache()", RuntimeError), ("mps.set_per_process_memory_fraction(0.5)",
                                          RuntimeError),
    ("mps.set_per_process_memory_fraction(1)", TypeError),
    ("mps.current_allocated_memory()", RuntimeError),
    ("mps.driver_allocated_memory()", RuntimeError),
    ("mps.recommended_max_memory()", RuntimeError), ("mps.compile_shader('')", RuntimeError),
    ("mps.load_metallib('lib')", RuntimeError), ("mps.Event(enable_timing=True)", RuntimeError),
    ("mps.profiler.start()", RuntimeError), ("mps.profiler.stop()", RuntimeError),
    ("mps.profiler.profile().__enter__()", RuntimeError),
    ("backends.mps.is_built()", False), ("backends.mps.is_available()", False),
    ("backends.mps.is_macos_or_newer(13, 0)", RuntimeError),
    ("backends.mps.is_macos13_or_newer()", RuntimeError),
]


def _run(lib, call):
    return eval(call, {"mps": lib.mps, "backends": lib.backends,
                       "state": lib.zeros(8, dtype=lib.uint8)})


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # torch's Event
@pytest.mark.parametrize("call, expected", _WITHOUT_MPS)
def test_without_mps_as_a_pytorch_build_without_it(call, expected):
    assert "mps" not in flambeau.backends.backend_names()
    torch = torch_or_none()
    check_torch = torch is not None and not torch.backends.mps.is_available()
    if isinstance(expected, type):
        with pytest.raises(expected):
            _run(flambeau, call)
        if check_torch:
            with pytest.raises(expected):
                _run(torch, call)
    else:
        assert _run(flambeau, call) == expected
        if check_torch:
            assert _run(torch, call) == expected


def test_the_public_names_are_torchs():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    assert set(flambeau.mps.__all__) == set(torch.mps.__all__) - {"profiler"}
    assert set(flambeau.mps.profiler.__all__) == set(torch.mps.profiler.__all__)
    torch_backend = {n for n in dir(torch.backends.mps) if n[0] != "_" and callable(
        getattr(torch.backends.mps, n)) and n not in ("Optional",)}
    assert set(flambeau.backends.mps.__all__) == torch_backend


@pytest.mark.parametrize("call, message", [
    ("mps.synchronize()", r"Cannot execute synchronize\(\) without MPS backend: no installed "
                          r"plugin provides the 'mps' device type \(flambeau.mps.is_available"
                          r"\(\) is False\)"),
    ("mps.profiler.stop()", r"Cannot execute profiler_stop\(\) without MPS backend"),
    ("backends.mps.get_name()", r"Cannot execute get_name\(\) without MPS backend"),
    ("backends.mps.get_core_count()", r"Cannot execute get_core_count\(\) without MPS"),
    ("mps.profiler.metal_capture('t').__enter__()", r"Cannot execute metal_capture\(\)"),
    ("mps.compile_shader('')", r"MPS is not available: no installed plugin provides the 'mps' "
                               r"device type"),
])
def test_errors_without_mps(call, message):
    # get_name/get_core_count raise AttributeError in torch built without MPS (a torch bug:
    # its module lacks the C functions); a RuntimeError says why
    with pytest.raises(RuntimeError, match=message):
        _run(flambeau, call)
    with pytest.raises(TypeError, match=r"Invalid type for fraction argument, must be `float`"):
        flambeau.mps.set_per_process_memory_fraction(1)


def test_nothing_is_captured_without_mps():
    # torch built without MPS raises AttributeError here (same bug)
    assert flambeau.mps.profiler.is_capturing_metal() is False
    assert flambeau.mps.profiler.is_metal_capture_enabled() is False


def test_an_mps_plugin_is_reported_seeded_and_synchronized():
    with installed("mps") as backend:
        assert flambeau.mps.is_available() and flambeau.backends.mps.is_available()
        assert flambeau.backends.mps.is_built() and flambeau.mps.device_count() == 2
        flambeau.mps.manual_seed(3)
        first = flambeau.rand(3, device="mps").cpu().numpy()
        state = flambeau.mps.get_rng_state()
        second = flambeau.rand(3, device="mps").cpu().numpy()
        flambeau.mps.set_rng_state(state)
        np.testing.assert_array_equal(flambeau.rand(3, device="mps").cpu().numpy(), second)
        flambeau.mps.manual_seed(3)
        np.testing.assert_array_equal(flambeau.rand(3, device="mps").cpu().numpy(), first)
        flambeau.mps.seed()
        assert flambeau.mps.synchronize() is None
        assert flambeau.get_device_module("mps") is flambeau.mps
        with pytest.raises(NotImplementedError, match=r"flambeau.mps.empty_cache: the installed "
                                                      r"'mps' backend does not provide it"):
            flambeau.mps.empty_cache()
        backend.empty_cache = lambda: None  # a plugin's extra is used when it has one
        assert flambeau.mps.empty_cache() is None
    assert not flambeau.mps.is_available()

"""The plugin registers through its entry point and reports why CUDA is unavailable."""

import subprocess
import sys
import types

import pytest

import flambeau
import flambeau_cuda
from flambeau.backends import get_backend, plugin_of
from flambeau_cuda import _cupy
from flambeau_cuda._backend import CudaBackend

HAS_GPU = _cupy.probe()[0] > 0



def test_registered_through_the_entry_point():
    assert plugin_of("cuda") == "cuda (flambeau-cuda)"
    assert isinstance(get_backend("cuda"), CudaBackend)
    assert get_backend("cuda").host_memory is False


def test_hook_returns_one_cuda_backend():
    (backend,) = flambeau_cuda.flambeau_backends()
    assert backend.name == "cuda"
    activations = {"gelu", "gelu_tanh", "silu", "mish", "elu", "celu", "leaky_relu", "softplus",
                   "hardsigmoid", "hardswish"}
    assert set(backend.kernels) == {
        "matmul", "cholesky", "index_add_at", "cross_entropy", "conv2d", "conv2d_backward_input",
        "conv2d_backward_weight", "max_pool2d", "max_pool2d_backward", "lstm_cell",
        "lstm_cell_backward", "sgd_step", "adam_step", "softmax", "log_softmax",
        "softmax_backward", "log_softmax_backward", "batch_norm", "batch_norm_backward",
        "batch_norm_running", "dropout_mask", "gru_cell", "gru_cell_backward"
    } | activations | {name + "_backward" for name in activations} | {
        name + "_backward_from_output" for name in ("relu", "sigmoid", "tanh")}


def _fresh_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


def test_import_and_discovery_do_not_import_cupy():
    out = _fresh_python(
        "import sys, flambeau, flambeau_cuda\n"
        "import flambeau.backends as b\n"
        "names = b.backend_names()\n"
        "print('cuda' in names, 'cupy' in sys.modules)")
    assert out == ["True", "False"]


@pytest.fixture
def no_cupy(monkeypatch):
    """CuPy made unimportable, and a fresh backend that has not probed yet."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    return CudaBackend()


def test_without_cupy_unavailable_says_what_to_install(no_cupy):
    assert no_cupy.is_available() is False
    assert no_cupy.device_count() == 0
    assert no_cupy.unavailable_reason() == (
        "CuPy is not installed: pip install flambeau-cuda[cuda12] (or [cuda13] for a CUDA 13 "
        "driver)")
    with pytest.raises(ImportError, match=r"CuPy is not installed: pip install flambeau-cuda"):
        no_cupy.xp


def _fake_cupy(get_count):
    runtime = types.SimpleNamespace(getDeviceCount=get_count)
    return types.SimpleNamespace(__version__="99.0", cuda=types.SimpleNamespace(runtime=runtime))


def test_with_cupy_but_no_device_names_the_cuda_error(monkeypatch):
    def fail():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    monkeypatch.setattr(_cupy, "load", lambda: _fake_cupy(fail))
    b = CudaBackend()
    assert b.is_available() is False
    assert b.unavailable_reason() == ("no CUDA device is visible (cupy 99.0: cudaErrorNoDevice: "
                                      "no CUDA-capable device is detected)")


def test_zero_devices_is_unavailable(monkeypatch):
    monkeypatch.setattr(_cupy, "load", lambda: _fake_cupy(lambda: 0))
    b = CudaBackend()
    assert (b.is_available(), b.device_count()) == (False, 0)
    assert b.unavailable_reason() == "no CUDA device is visible (cupy 99.0: 0 devices)"


@pytest.mark.skipif(HAS_GPU, reason="a CUDA device is visible")
def test_asking_for_cuda_without_a_device_says_why():
    assert flambeau.cuda.is_available() is False
    assert flambeau.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"^device cuda: (no CUDA device is visible \(cupy|"
                                           r"CuPy is not installed: pip install flambeau-cuda)"):
        flambeau.zeros(1, device="cuda")
    with pytest.raises(RuntimeError, match=r"^flambeau.cuda: (no CUDA device|CuPy is not)"):
        flambeau.cuda.synchronize()
    with pytest.raises(RuntimeError, match=r"^flambeau.cuda.memory_summary needs a CUDA device: "
                                           r"(no CUDA device|CuPy is not)"):
        flambeau.cuda.memory_summary()
    assert flambeau.cuda.memory_allocated() == 0  # torch answers 0 before CUDA starts, too


def test_cuda_module_forwards_the_extras():
    b = get_backend("cuda")
    api = b.cuda_module()
    # manual_seed(_all) are core's own (no-ops without CUDA, as torch's): they call the plugin's
    # so are the memory figures and the queries that answer without CUDA (flambeau.cuda._runtime)
    for name in ("synchronize", "current_device", "set_device", "device",
                 "get_device_name", "Stream", "Event", "stream", "ExternalStream"):
        assert getattr(flambeau.cuda, name) is getattr(api, name)
    # core's own too: a no-op without a usable device (as torch's), the plugin's otherwise
    assert flambeau.cuda.empty_cache is not api.empty_cache
    if not b.is_available():
        assert flambeau.cuda.empty_cache() is None


def test_seeding_cuda_without_a_device_does_nothing():
    state = flambeau.get_rng_state()
    for seed_call in (lambda: flambeau.cuda.manual_seed(3),
                      lambda: flambeau.cuda.manual_seed_all(3), flambeau.cuda.seed,
                      flambeau.cuda.seed_all):
        seed_call()  # torch's are silent no-ops without CUDA too
    assert (flambeau.get_rng_state() == state).all()  # the CPU generator is left alone

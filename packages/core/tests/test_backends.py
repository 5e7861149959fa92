"""Backend discovery: entry points, strictness about duplicates, broken plugins, errors."""

import platform
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import flambeau
from flambeau.backends import Backend, BackendRegistryError, _registry, hookimpl


class _FakeEntryPoint:
    def __init__(self, name, module=None, error=None):
        self.name = name
        self._module, self._error = module, error

    def load(self):
        if self._error is not None:
            raise self._error
        return self._module


def _plugin_module(*backends):
    mod = types.ModuleType("fake_plugin")

    @hookimpl
    def flambeau_backends():
        return list(backends)

    mod.flambeau_backends = flambeau_backends
    return mod


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace the installed entry points with the given (entry point, distribution) list."""
    def install(*eps):
        real = list(_registry._entry_points())
        monkeypatch.setattr(_registry, "_entry_points", lambda: iter(real + list(eps)))
        _registry.reload()

    yield install
    monkeypatch.undo()
    _registry.reload()
    # forget the fake devices only: a new "cpu" object would not be the one that tensors
    # made earlier hold, and ops compare devices with `is`
    cache = flambeau._device._cache
    for key in [k for k, d in cache.items() if not _registry.has_backend(d.type)]:
        del cache[key]


def test_cpu_backend_comes_from_cores_entry_point():
    assert _registry.plugin_of("cpu") == "numpy (flambeau-core)"
    assert flambeau.backends.get_backend("cpu").xp is np


def test_a_third_party_backend_registers(fake_entry_points):
    fake_entry_points((_FakeEntryPoint("mine", _plugin_module(Backend("mydev", xp=np))),
                       "my-dist"))
    x = flambeau.ones(2, device="mydev")
    assert x.device == flambeau.device("mydev:0")
    assert (x * 2).tolist() == [2.0, 2.0]


def test_duplicate_device_type_names_both_plugins(fake_entry_points):
    fake_entry_points(
        (_FakeEntryPoint("one", _plugin_module(Backend("dup", xp=np))), "dist-one"),
        (_FakeEntryPoint("two", _plugin_module(Backend("dup", xp=np))), "dist-two"),
    )
    with pytest.raises(BackendRegistryError, match=r"one \(dist-one\) and two \(dist-two\)"):
        flambeau.backends.backend_names()


def test_a_broken_plugin_does_not_break_the_others(fake_entry_points):
    fake_entry_points((_FakeEntryPoint("broken", error=ImportError("no module named cupy")),
                       "flambeau-broken"))
    assert "cpu" in flambeau.backends.backend_names()
    assert flambeau.ones(1).item() == 1.0
    with pytest.raises(RuntimeError, match="broken \\(flambeau-broken\\): ImportError: no module"):
        flambeau.backends.get_backend("somedev")


def test_unknown_device_lists_installed_backends():
    with pytest.raises(RuntimeError, match=r"unknown device type 'nope'; installed backends: "):
        flambeau.device("nope")


def test_cuda_without_the_plugin_says_what_to_install():
    if "cuda" in flambeau.backends.backend_names():
        pytest.skip("flambeau-cuda is installed")
    assert flambeau.cuda.is_available() is False
    assert flambeau.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="flambeau-cuda"):
        flambeau.zeros(1, device="cuda")
    with pytest.raises(AttributeError, match="pip install flambeau-cuda"):
        flambeau.cuda.synchronize()


def test_device_parsing():
    d = flambeau.device("cpu")
    assert d.type == "cpu" and d.index is None and str(d) == "cpu"
    assert flambeau.device("cuda:1").index == 1
    assert flambeau.device("cuda", 2) == flambeau.device("cuda:2")
    with pytest.raises(ValueError, match="invalid device string"):
        flambeau.device("cuda:x")


def test_unavailable_backend_gives_its_reason(fake_entry_points):
    class Offline(Backend):
        def is_available(self):
            return False

        def unavailable_reason(self):
            return "no offline device is visible"

    fake_entry_points((_FakeEntryPoint("off", _plugin_module(Offline("offline", xp=np))),
                       "off-dist"))
    with pytest.raises(RuntimeError, match="no offline device is visible"):
        flambeau.zeros(1, device="offline")


def test_plugins_load_lazily():
    import subprocess
    import sys

    code = ("import flambeau, flambeau.backends._registry as r; "
            "print(r._registry._state is None); flambeau.zeros(1); "
            "print(r._registry._state is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["True", "False"]


# ------------------------------------------------------------------ host memory caching

_GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _faults_of_repeated_allocations(code: str) -> int:
    """Minor page faults of 20 allocate-write-free rounds of an 8 MiB array, in a new process
    that runs ``code`` first (so the process-wide malloc settings start from scratch)."""
    script = textwrap.dedent(f"""
        import resource, numpy as np
        {code}
        np.ones(1 << 21, np.float32)  # the first round may fault in any case
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            np.ones(1 << 21, np.float32)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    return int(done.stdout.strip())


@pytest.mark.skipif(not _GLIBC, reason="host memory caching needs glibc's mallopt")
def test_cpu_backend_keeps_freed_host_memory_for_reuse():
    started = "import flambeau; flambeau.zeros(1)"  # starting the CPU backend turns it on
    opted_out = ("import flambeau.backends.cpu as c; c.set_host_memory_caching(False); "
                 "import flambeau; flambeau.zeros(1)")  # chosen first: the backend keeps it
    assert _faults_of_repeated_allocations(started) < 100
    # glibc's defaults give the 8 MiB back at every free: up to 2048 fresh pages a round
    # (fewer where the kernel maps some of them as huge pages)
    assert _faults_of_repeated_allocations(opted_out) > 20 * 200


def test_host_memory_caching_switch():
    import flambeau.backends.cpu as cpu

    flambeau.zeros(1)
    before = cpu.host_memory_caching()
    try:
        cpu.set_host_memory_caching(False)
        assert cpu.host_memory_caching() is False
        cpu.set_host_memory_caching(True)
        assert cpu.host_memory_caching() is _GLIBC
    finally:
        cpu.set_host_memory_caching(before)


# ------------------------------------------------------------------ threads


def test_set_num_threads_validates_and_round_trips():
    before = flambeau.get_num_threads()
    try:
        flambeau.set_num_threads(3)
        assert flambeau.get_num_threads() == 3
        for bad in (0, -1, 2.0, True, "2"):
            with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
                flambeau.set_num_threads(bad)
        assert flambeau.get_num_threads() == 3
    finally:
        flambeau.set_num_threads(before)


def test_run_split_runs_parts_concurrently_and_raises_after_all_finish():
    import threading
    import time

    from flambeau._threads import run_split

    names, finished = set(), []

    def work(k):
        names.add(threading.current_thread().name)
        if k == 0:
            raise KeyError("part 0")
        time.sleep(0.05)
        finished.append(k)
        return k

    assert run_split(lambda k: k * 10, [1, 2, 3]) == [10, 20, 30]
    with pytest.raises(KeyError, match="part 0"):
        run_split(work, [0, 1, 2])
    assert sorted(finished) == [1, 2]  # the other parts completed before the error surfaced
    assert any(n.startswith("flambeau") for n in names)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_thread_pool_is_made_anew_in_a_forked_child():
    import multiprocessing

    from flambeau._threads import run_split

    assert run_split(lambda k: k + 1, [1, 2]) == [2, 3]  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply(run_split, (abs, [-1, -2, -3]), ) == [1, 2, 3]


def test_default_threads_follow_omp_num_threads():
    code = "import flambeau; print(flambeau.get_num_threads())"
    for value, want in (("3", "3"), ("0", None), ("lots", None)):
        env = dict(__import__("os").environ, OMP_NUM_THREADS=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
        assert out == want if want else int(out) >= 1


def test_floating_point_exceptions_are_silent_as_in_torch():
    code = textwrap.dedent("""
        import warnings, numpy as np, flambeau
        warnings.simplefilter("error")
        x = flambeau.tensor([1.0, -1.0, 0.0])
        print((x / 0).tolist(), x.log().tolist()[1], flambeau.tensor([1e30]).pow(3).tolist())
        try:
            np.array([1.0]) / 0
        except RuntimeWarning:
            print("numpy still warns")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "inf, -inf, nan" in out and "numpy still warns" in out


def test_cudnn_version_comes_from_the_cuda_backend(monkeypatch):
    import flambeau.backends.cudnn as cudnn
    from flambeau.backends import Backend, _registry

    monkeypatch.setattr(_registry, "has_backend", lambda name: name == "cuda")
    backend = Backend("cuda", xp=None)
    monkeypatch.setattr(_registry, "get_backend", lambda name: backend)
    assert cudnn.version() is None and cudnn.is_available() is False  # no cudnn_version
    backend.cudnn_version = lambda: 91000
    assert cudnn.version() == 91000 and cudnn.is_available() is True
    monkeypatch.setattr(_registry, "has_backend", lambda name: False)
    assert cudnn.version() is None


def test_cudnn_switches_keep_torchs_names_and_defaults():
    import flambeau.backends.cudnn as cudnn
    from flambeau.testing._device_plugin import requested_device

    # torch's defaults: TF32 convolutions allowed (a device test run switches it off to
    # compare with the CPU), no autotuning, not forced deterministic
    default_tf32 = requested_device() is None
    assert (cudnn.allow_tf32, cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (
        default_tf32, False, False, True)
    assert cudnn.is_available() is (cudnn.version() is not None)
    torch = pytest.importorskip("torch")
    assert torch.backends.cudnn.allow_tf32 is True and torch.backends.cudnn.benchmark is False


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_a_backend_kernel_computes_the_gradient_from_the_output(name, monkeypatch):
    """``"<op>_backward_from_output"(g, out)`` replaces the array formula of relu, sigmoid and
    tanh when no graph of the gradient is built; returning None hands back to it."""
    kernels = flambeau.device("cpu").backend.kernels
    seen = []

    def fused(g, out):
        seen.append((g.shape, out.shape))
        return np.full_like(g, 7.0)

    monkeypatch.setitem(kernels, name + "_backward_from_output", fused)
    x = flambeau.tensor([-1.0, 0.5, 2.0], device="cpu", requires_grad=True)
    getattr(flambeau, name)(x).sum().backward()
    assert seen == [((3,), (3,))] and x.grad.tolist() == [7.0, 7.0, 7.0]
    monkeypatch.setitem(kernels, name + "_backward_from_output", lambda g, out: None)
    x.grad = None
    y = getattr(flambeau, name)(x)
    y.sum().backward()
    want = {"relu": lambda o: (o > 0).double(), "sigmoid": lambda o: o * (1 - o),
            "tanh": lambda o: 1 - o * o}[name](y.detach().double())
    np.testing.assert_allclose(x.grad.numpy(), want.numpy(), rtol=1e-6)
    monkeypatch.setitem(kernels, name + "_backward_from_output", fused)
    seen.clear()
    (g,) = flambeau.autograd.grad(getattr(flambeau, name)(x).sum(), x, create_graph=True)
    assert seen == [] and g.shape == x.shape  # a graph of the gradient: the recorded formula


def test_switch_modules_are_reached_without_importing_them():
    """``torch.backends.cudnn.benchmark = True`` after a bare ``import torch`` is a common
    first line of training scripts; a fresh interpreter shows nothing imported them first."""
    program = ("import flambeau as torch\n"
               "torch.backends.cudnn.benchmark = True\n"
               "torch.backends.cuda.matmul.allow_tf32 = False\n"
               "print(torch.backends.cudnn.benchmark, torch.backends.mps.is_available(),\n"
               "      torch.backends.cuda.math_sdp_enabled())\n")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True"]

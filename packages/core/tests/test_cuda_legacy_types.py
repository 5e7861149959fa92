"""Legacy CUDA typed constructors: ``flambeau.cuda.FloatTensor`` and the others.

They exist without a GPU (as ``torch.cuda.FloatTensor`` does); the tests that need "cuda"
tensors register a NumPy backend under the name "cuda" (``fake_cuda``), so isinstance,
``type()`` and the constructors are checked on such tensors on any machine.
"""

import types
import warnings

import numpy as np
import pytest

import flambeau
from flambeau import _compat, _defaults, _device
from flambeau.backends import Backend, _registry
from flambeau.testing._harness import torch_or_none

_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
          "BFloat16Tensor": "bfloat16", "LongTensor": "int64", "IntTensor": "int32",
          "ShortTensor": "int16", "CharTensor": "int8", "ByteTensor": "uint8",
          "BoolTensor": "bool"}


class _FakeCuda(Backend):
    """NumPy arrays under the device type "cuda", with two device indices."""

    host_memory = False

    def __init__(self, cuda_module=None):
        super().__init__("cuda", xp=np)
        if cuda_module is not None:
            self.cuda_module = lambda: cuda_module

    def device_count(self):
        return 2

    def from_host(self, array, index=None):
        return np.array(array, copy=True)

    def to_host(self, array):
        return np.array(array, copy=True)


def _forget_cuda_devices():
    # device objects bind their backend once: drop the "cuda" ones so none keeps another's
    for key in [k for k, d in _device._cache.items() if d.type == "cuda"]:
        del _device._cache[key]


def _use_cuda_backend(backend):
    """Make ``backend`` (or no backend, for None) serve the device type "cuda" meanwhile."""
    backends, owners, _ = _registry._loaded()
    saved = backends.get("cuda"), owners.get("cuda")
    backends.pop("cuda", None)
    owners.pop("cuda", None)
    if backend is not None:
        backends["cuda"], owners["cuda"] = backend, "fake (tests)"
    _forget_cuda_devices()
    default, from_type = _defaults._default, _compat._device_from_type

    def restore():
        _defaults._default, _compat._device_from_type = default, from_type
        flambeau.set_default_dtype(flambeau.float32)
        backends.pop("cuda", None)
        owners.pop("cuda", None)
        if saved[0] is not None:
            backends["cuda"], owners["cuda"] = saved
        _forget_cuda_devices()

    return restore


@pytest.fixture
def fake_cuda():
    restore = _use_cuda_backend(_FakeCuda())
    yield
    restore()


@pytest.fixture
def no_cuda_plugin():
    restore = _use_cuda_backend(None)
    yield
    restore()


def _cuda_error():
    """The error ``flambeau.zeros(1, device="cuda")`` raises on this machine."""
    with pytest.raises(RuntimeError) as info:
        flambeau.zeros(1, device="cuda")
    return str(info.value)


# ------------------------------------------------------------------ the types themselves


@pytest.mark.parametrize("name,dtype", list(_NAMES.items()))
def test_cuda_types_exist_without_a_gpu(name, dtype):
    cls = getattr(flambeau.cuda, name)
    dt = getattr(flambeau, dtype)
    assert name in flambeau.cuda.__all__
    assert repr(cls) == f"<class 'flambeau.cuda.{name}'>" and cls.__module__ == "flambeau.cuda"
    assert cls.dtype is dt and cls.is_cuda is True and cls.is_sparse is False
    assert cls is not getattr(flambeau, name) and getattr(flambeau, name).is_cuda is False
    cpu = flambeau.zeros(2, dtype=dt, device="cpu")
    assert not isinstance(cpu, cls) and isinstance(cpu, getattr(flambeau, name))
    assert not issubclass(cls, flambeau.Tensor) and not isinstance([1], cls)
    assert "Examples" in cls.__doc__ and f"torch.cuda.{name}" in cls.__doc__
    torch = torch_or_none()
    if torch is not None:
        theirs = getattr(torch.cuda, name)
        assert str(theirs.dtype) == f"torch.{dtype}" and theirs.is_cuda is True
        assert theirs.__module__ == "torch.cuda" and not isinstance(torch.zeros(1), theirs)


def test_type_names_are_parsed_with_their_module():
    assert _compat.tensortype("torch.cuda.FloatTensor", "type") is flambeau.cuda.FloatTensor
    assert _compat.tensortype("flambeau.cuda.LongTensor", "type") is flambeau.cuda.LongTensor
    assert _compat.tensortype("torch.LongTensor", "type") is flambeau.LongTensor
    for bad in ("torch.cuda.Foo", "cuda.FloatTensor", "FloatTensor", "torch.cuda.float64",
                "torch.meta.FloatTensor"):
        with pytest.raises(ValueError, match=f"invalid type: '{bad}'"):
            flambeau.zeros(1).type(bad)


def test_core_defines_the_types_before_the_plugins_module(fake_cuda):
    # a plugin module with a name of its own and a clashing FloatTensor: core's type wins
    plugin = types.SimpleNamespace(FloatTensor="plugin's", synchronize="plugin's sync",
                                   __all__=["FloatTensor", "synchronize"])
    _registry._loaded()[0]["cuda"] = _FakeCuda(cuda_module=plugin)
    assert flambeau.cuda.FloatTensor is _compat.legacy_types("cuda")["FloatTensor"]
    assert flambeau.cuda.synchronize == "plugin's sync"


def test_only_the_plugins_public_names_are_forwarded(fake_cuda):
    # what the plugin's module imported for itself (contextlib, ...) is not flambeau.cuda's
    plugin = types.SimpleNamespace(synchronize="plugin's sync", contextlib="an import",
                                   __all__=["synchronize"])
    _registry._loaded()[0]["cuda"] = _FakeCuda(cuda_module=plugin)
    assert flambeau.cuda.synchronize == "plugin's sync"
    with pytest.raises(AttributeError, match="no attribute 'contextlib'"):
        flambeau.cuda.contextlib


def test_the_installed_plugin_defines_no_clashing_name():
    if not _registry.has_backend("cuda"):
        pytest.skip("flambeau-cuda is not installed")
    module = _registry.get_backend("cuda").cuda_module()
    assert not set(_NAMES) & set(vars(module))


# ------------------------------------------------------------------ without a CUDA device


def test_without_a_gpu_the_types_raise_the_cuda_device_error():
    if flambeau.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    message = _cuda_error()
    assert "pip install flambeau-cuda" in message
    x = flambeau.tensor([1, 2], device="cpu")
    calls = [lambda: flambeau.cuda.FloatTensor([1, 2]), lambda: flambeau.cuda.FloatTensor(2, 3),
             lambda: flambeau.cuda.LongTensor(), lambda: x.type(flambeau.cuda.FloatTensor),
             lambda: x.type("torch.cuda.FloatTensor"), lambda: x.type("flambeau.cuda.IntTensor")]
    for call in calls:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == message
    # the CPU types stay usable
    assert x.type(flambeau.FloatTensor).tolist() == [1.0, 2.0]


def test_without_the_plugin_the_types_say_what_to_install(no_cuda_plugin):
    assert flambeau.cuda.FloatTensor.dtype is flambeau.float32
    assert not isinstance(flambeau.zeros(1, device="cpu"), flambeau.cuda.FloatTensor)
    with pytest.raises(RuntimeError, match=r"device type 'cuda' needs the plugin flambeau-cuda "
                                           r"\(pip install flambeau-cuda\[cuda12\]\)"):
        flambeau.cuda.FloatTensor([1.0])


def test_set_default_tensor_type_without_a_gpu_changes_nothing():
    if flambeau.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    message = _cuda_error()
    device = flambeau.get_default_device()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in (flambeau.cuda.DoubleTensor, "torch.cuda.DoubleTensor"):
            with pytest.raises(RuntimeError) as info:
                flambeau.set_default_tensor_type(t)
            assert str(info.value) == message
        with pytest.raises(TypeError, match=r"only floating-point types are supported"):
            flambeau.set_default_tensor_type(flambeau.cuda.LongTensor)
    assert flambeau.get_default_dtype() is flambeau.float32
    assert flambeau.get_default_device() is device


# ------------------------------------------------------------------ on a (fake) CUDA device


@pytest.mark.parametrize("name,dtype", list(_NAMES.items()))
def test_constructors_make_cuda_tensors(fake_cuda, name, dtype):
    cls, dt = getattr(flambeau.cuda, name), getattr(flambeau, dtype)
    t = cls([1, 0])
    assert t.device == flambeau.device("cuda:0") and t.dtype is dt and t.tolist() == [1, 0]
    assert isinstance(t, cls) and not isinstance(t, getattr(flambeau, name))
    assert t.type() == f"flambeau.cuda.{name}"
    assert cls(2, 3).shape == (2, 3) and cls(2, 3).device.type == "cuda"
    assert cls(flambeau.Size([4])).shape == (4,) and cls().shape == (0,)
    assert cls([1], device="cuda:1").device == flambeau.device("cuda:1")
    assert cls(t) is not t and cls(t).tolist() == [1, 0]
    other = flambeau.DoubleTensor if name != "DoubleTensor" else flambeau.FloatTensor
    assert not isinstance(t, getattr(flambeau.cuda, other.__name__))


def test_constructor_errors_name_the_device(fake_cuda):
    with pytest.raises(RuntimeError, match=r"FloatTensor\(\): legacy constructor expects device "
                                           r"type: cuda but device type: cpu was passed"):
        flambeau.cuda.FloatTensor([1.0], device="cpu")
    with pytest.raises(TypeError, match=r"FloatTensor\(\): expected a tensor on cuda, got one "
                                        r"on cpu; move it with .to\('cuda'\)"):
        flambeau.cuda.FloatTensor(flambeau.zeros(2, device="cpu"))
    with pytest.raises(TypeError, match=r"FloatTensor\(\): expected a tensor on cpu, got one "
                                        r"on cuda:0"):
        flambeau.FloatTensor(flambeau.zeros(2, device="cuda"))
    with pytest.raises(TypeError, match=r"LongTensor\(\): expected a flambeau.int64 tensor, got "
                                        r"flambeau.float32"):
        flambeau.cuda.LongTensor(flambeau.zeros(2, device="cuda"))


def test_type_moves_between_devices(fake_cuda):
    x = flambeau.tensor([1.5, -2.0], device="cpu")
    for target in (flambeau.cuda.FloatTensor, "torch.cuda.FloatTensor",
                   "flambeau.cuda.FloatTensor"):
        y = x.type(target)
        assert y.device == flambeau.device("cuda:0") and y.dtype is flambeau.float32
        assert y.tolist() == [1.5, -2.0] and y.type() == "flambeau.cuda.FloatTensor"
    z = x.type("torch.cuda.LongTensor")
    assert isinstance(z, flambeau.cuda.LongTensor) and z.tolist() == [1, -2]
    # already on CUDA: the device index is kept; the dtype alone changes
    on1 = flambeau.tensor([3.0], device="cuda:1")
    assert on1.type(flambeau.cuda.DoubleTensor).device == flambeau.device("cuda:1")
    assert on1.type(flambeau.cuda.FloatTensor) is on1
    # a CPU type brings it back
    back = on1.type(flambeau.DoubleTensor)
    assert back.device.type == "cpu" and back.dtype is flambeau.float64 and back.tolist() == [3.0]
    assert on1.type("torch.FloatTensor").type() == "flambeau.FloatTensor"
    # gradients flow through the move, as through .to()
    w = flambeau.tensor([2.0], device="cpu", requires_grad=True)
    w.type(flambeau.cuda.DoubleTensor).sum().backward()
    assert w.grad.device.type == "cpu" and w.grad.tolist() == [1.0]


def test_set_default_tensor_type_with_a_cuda_type(fake_cuda):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flambeau.set_default_tensor_type("torch.cuda.DoubleTensor")
        assert flambeau.get_default_device() == flambeau.device("cuda:0")
        t = flambeau.tensor([1.5])
        assert isinstance(t, flambeau.cuda.DoubleTensor) and flambeau.zeros(1).is_cuda
        # a CPU type undoes the device it set...
        flambeau.set_default_tensor_type(flambeau.FloatTensor)
        assert flambeau.get_default_device() == flambeau.device("cpu")
        assert isinstance(flambeau.tensor([1.5]), flambeau.FloatTensor)
        # ...but not one chosen with set_default_device()
        flambeau.set_default_tensor_type(flambeau.cuda.FloatTensor)
        flambeau.set_default_device("cuda:1")
        flambeau.set_default_tensor_type(flambeau.DoubleTensor)
        assert flambeau.get_default_device() == flambeau.device("cuda:1")
        assert flambeau.get_default_dtype() is flambeau.float64
    with pytest.warns(UserWarning, match=r"set_default_tensor_type\(\) is deprecated"):
        flambeau.set_default_tensor_type(flambeau.cuda.FloatTensor)

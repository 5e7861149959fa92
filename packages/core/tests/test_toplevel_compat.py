"""Top-level names of PyTorch a user's script still needs: print options, constants, memory
formats and layouts, legacy typed constructors, flambeau.random, flambeau.serialization's
allow-list, flambeau.accelerator and flambeau.cpu."""

import dataclasses
import io
import math
import re
import threading
import warnings

import numpy as np
import pytest

import flambeau
from flambeau._torch_pickle import UnsafePickleError
from flambeau.testing._harness import torch_or_none


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    flambeau.set_printoptions(profile="default")
    flambeau.set_default_dtype(flambeau.float32)
    flambeau.serialization.clear_safe_globals()
    torch = torch_or_none()
    if torch is not None:
        torch.set_printoptions(profile="default")


# ------------------------------------------------------------------ set_printoptions

_ARRAYS = [
    np.array([1.12345, -2.5, 3.0], dtype=np.float32), np.arange(10),
    np.arange(2000).reshape(40, 50),
    np.random.RandomState(0).randn(30, 40).astype(np.float32), np.array([True, False]),
    np.array(True), np.array(3.5), np.array([1e-5, 1.0]), np.array([1e9, 1.0]),
    np.array([np.nan, 1.0, -np.inf]), np.array([0.0, 0.0]), np.arange(100.0),
    np.arange(24).reshape(2, 3, 4), np.random.RandomState(1).rand(12, 12, 12), np.zeros((2, 0)),
    np.zeros(0), np.zeros(0, dtype=np.int64), np.array([-0.0, 1.0]),
    np.arange(1200, dtype=np.uint8), np.array([[1, -100000], [3, 4]]),
    np.arange(5000.0).reshape(10, 10, 50), np.array([123456.789, 1.5]),
]
_SETTINGS = [dict(profile="default"), dict(precision=2), dict(threshold=5),
             dict(edgeitems=1, threshold=10), dict(linewidth=40), dict(profile="short"),
             dict(profile="full"), dict(sci_mode=True), dict(sci_mode=False),
             dict(edgeitems=0, threshold=3), dict(precision=8, linewidth=200)]


def _normalized(text, module):
    # "dtype=flambeau.float64" is 3 characters longer than torch's, so a suffix may wrap onto
    # the next line in one and not the other: compare with suffixes joined on one line
    text = text.replace(f"{module}.", "")
    return re.sub(r",\n\s+(dtype=|requires_grad=|grad_fn=|size=)", r", \1", text)


@pytest.mark.parametrize("settings", _SETTINGS, ids=str)
@pytest.mark.host_only  # CPU reprs
def test_repr_matches_torch(settings):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    torch.set_printoptions(**settings)
    flambeau.set_printoptions(**settings)
    for a in _ARRAYS:
        for grad in (False, True) if a.dtype.kind == "f" else (False,):
            want = repr(torch.tensor(a, requires_grad=grad))
            got = repr(flambeau.tensor(a, requires_grad=grad))
            assert _normalized(got, "flambeau") == _normalized(want, "torch"), (a.shape, grad)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int8", "int32", "float64"])
@pytest.mark.host_only  # CPU reprs
def test_repr_of_other_dtypes_matches_torch(dtype):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    values = [1.5, 2.25, -3.0]
    want = repr(torch.tensor(values, dtype=getattr(torch, dtype)))
    got = repr(flambeau.tensor(values, dtype=getattr(flambeau, dtype)))
    assert got.replace("flambeau.", "") == want.replace("torch.", "")


@pytest.mark.host_only  # CPU reprs
def test_printoptions_values():
    flambeau.set_printoptions(precision=2)
    assert repr(flambeau.tensor([1.12345])) == "tensor([1.12])"
    flambeau.set_printoptions(threshold=5)
    assert repr(flambeau.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    # a call without sci_mode puts it back to automatic, as in PyTorch
    flambeau.set_printoptions(sci_mode=True)
    assert repr(flambeau.tensor([1.5])) == "tensor([1.50e+00])"
    flambeau.set_printoptions(precision=4)
    assert repr(flambeau.tensor([1.5])) == "tensor([1.5000])"
    flambeau.set_printoptions(profile="short")
    assert repr(flambeau.tensor([1.12345, 2.0])) == "tensor([1.12, 2.00])"
    assert repr(flambeau.zeros(5, 5)).count("...") == 0
    flambeau.set_printoptions(profile="full")
    assert "..." not in repr(flambeau.zeros(2000))
    flambeau.set_printoptions(profile="default")
    assert repr(flambeau.zeros(2000)) == "tensor([0., 0., 0.,  ..., 0., 0., 0.])"


@pytest.mark.host_only  # CPU reprs
def test_linewidth_wraps_rows_and_suffixes():
    flambeau.set_printoptions(linewidth=30)
    assert repr(flambeau.arange(8.0)) == ("tensor([0., 1., 2., 3., 4.,\n"
                                          "        5., 6., 7.])")
    assert repr(flambeau.ones(2, dtype=flambeau.float64)) == ("tensor([1., 1.],\n"
                                                             "       dtype=flambeau.float64)")


def test_set_printoptions_unknown_profile():
    with pytest.raises(ValueError, match=r"set_printoptions: profile must be one of 'default', "
                                         r"'short', 'full', got 'ful'"):
        flambeau.set_printoptions(profile="ful")


# ------------------------------------------------------------------ constants


def test_constants():
    assert flambeau.pi == math.pi and flambeau.e == math.e
    assert flambeau.inf == math.inf and math.isnan(flambeau.nan)
    assert flambeau.newaxis is None
    assert flambeau.zeros(3)[flambeau.newaxis].shape == (1, 3)
    torch = torch_or_none()
    if torch is not None:
        assert (flambeau.pi, flambeau.e, flambeau.inf) == (torch.pi, torch.e, torch.inf)


# ------------------------------------------------------------------ memory formats, layouts


def test_memory_format_objects():
    fmts = (flambeau.contiguous_format, flambeau.channels_last, flambeau.channels_last_3d,
            flambeau.preserve_format)
    assert [repr(f) for f in fmts] == ["flambeau.contiguous_format", "flambeau.channels_last",
                                       "flambeau.channels_last_3d", "flambeau.preserve_format"]
    assert all(isinstance(f, flambeau.memory_format) for f in fmts)
    assert repr(flambeau.strided) == "flambeau.strided"
    assert isinstance(flambeau.strided, flambeau.layout)
    import copy
    import pickle
    assert pickle.loads(pickle.dumps(flambeau.channels_last)) is flambeau.channels_last
    assert copy.deepcopy(flambeau.strided) is flambeau.strided


def test_memory_format_cannot_be_created():
    with pytest.raises(TypeError, match="cannot create 'flambeau.memory_format' instances"):
        flambeau.memory_format()
    with pytest.raises(TypeError, match="cannot create 'flambeau.layout' instances"):
        flambeau.layout()


def test_layout_attribute_and_keyword():
    assert flambeau.zeros(2).layout is flambeau.strided
    for make in (lambda **k: flambeau.zeros(2, **k), lambda **k: flambeau.ones(2, **k),
                 lambda **k: flambeau.empty(2, **k), lambda **k: flambeau.full((2,), 1.0, **k),
                 lambda **k: flambeau.rand(2, **k), lambda **k: flambeau.randn(2, **k),
                 lambda **k: flambeau.randint(0, 3, (2,), **k),
                 lambda **k: flambeau.randperm(2, **k),
                 lambda **k: flambeau.arange(2, **k), lambda **k: flambeau.linspace(0, 1, 2, **k),
                 lambda **k: flambeau.logspace(0, 1, 2, **k), lambda **k: flambeau.eye(2, **k),
                 lambda **k: flambeau.zeros_like(flambeau.ones(2), **k),
                 lambda **k: flambeau.rand_like(flambeau.ones(2), **k)):
        assert make(layout=flambeau.strided).shape[0] == 2
        assert make(layout=None).layout is flambeau.strided


def test_layout_other_than_strided_raises():
    with pytest.raises(TypeError, match=r"zeros\(\): argument 'layout' must be flambeau.layout "
                                        r"\(only flambeau.strided.*not int"):
        flambeau.zeros(2, layout=3)
    with pytest.raises(TypeError, match=r"ones_like\(\): argument 'layout' must be "
                                        r"flambeau.layout.*not sparse_coo"):
        flambeau.ones_like(flambeau.zeros(2), layout="sparse_coo")


def _channels_last_view():
    return flambeau.arange(120.0).reshape(2, 4, 5, 3).permute(0, 3, 1, 2)


def test_is_contiguous_follows_strides_like_torch():
    torch = torch_or_none()
    # shape -> (default, channels_last, channels_last_3d, preserve_format), as torch answers
    cases = {(2, 3, 4, 5): (True, False, False, True), (2, 1, 4, 5): (True, True, False, True),
             (2, 3, 1, 1): (True, True, False, True), (0, 3, 4, 5): (True, False, False, True),
             (3,): (True, False, False, True), (2, 3, 4, 5, 6): (True, False, False, True)}
    for shape, expected in cases.items():
        x = flambeau.zeros(*shape)
        got = (x.is_contiguous(), x.is_contiguous(memory_format=flambeau.channels_last),
               x.is_contiguous(memory_format=flambeau.channels_last_3d),
               x.is_contiguous(memory_format=flambeau.preserve_format))
        assert got == expected, shape
        if torch is not None:
            t = torch.zeros(*shape)
            assert got == (t.is_contiguous(), t.is_contiguous(memory_format=torch.channels_last),
                           t.is_contiguous(memory_format=torch.channels_last_3d),
                           t.is_contiguous(memory_format=torch.preserve_format)), shape
    y = _channels_last_view()
    assert not y.is_contiguous()
    assert y.is_contiguous(memory_format=flambeau.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    z = flambeau.zeros(2, 4, 5, 6, 3).permute(0, 4, 1, 2, 3)
    assert z.is_contiguous(memory_format=flambeau.channels_last_3d)


def test_memory_format_is_accepted_and_layout_kept_in_c_order():
    x = flambeau.arange(24.0).reshape(1, 2, 3, 4)
    for y in (x.contiguous(memory_format=flambeau.channels_last),
              x.to(memory_format=flambeau.channels_last),
              x.clone(memory_format=flambeau.channels_last),
              flambeau.clone(x, memory_format=flambeau.contiguous_format),
              flambeau.empty_like(x, memory_format=flambeau.channels_last).copy_(x),
              flambeau.zeros_like(x, memory_format=flambeau.preserve_format) + x,
              flambeau.empty(1, 2, 3, 4, memory_format=flambeau.channels_last).copy_(x)):
        assert y.stride() == (24, 12, 4, 1)  # C order: the data layout does not change
        assert bool((y == x).all())
    v = _channels_last_view()
    w = v.contiguous(memory_format=flambeau.preserve_format)
    assert w.shape == v.shape and bool((w == v).all())


def test_contiguous_takes_keyword_only():
    with pytest.raises(TypeError):
        flambeau.zeros(1).contiguous(flambeau.contiguous_format)


def test_channels_last_needs_rank_4():
    with pytest.raises(RuntimeError, match=r"contiguous\(\): required rank 4 tensor to use "
                                           r"channels_last format, got a rank 1 tensor"):
        flambeau.zeros(3).contiguous(memory_format=flambeau.channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        flambeau.zeros(1, 2, 3, 4).to(memory_format=flambeau.channels_last_3d)
    with pytest.raises(RuntimeError, match=r"zeros_like\(\): required rank 4"):
        flambeau.zeros_like(flambeau.zeros(3), memory_format=flambeau.channels_last)
    assert not flambeau.zeros(3).is_contiguous(memory_format=flambeau.channels_last)


def test_empty_rejects_preserve_format():
    with pytest.raises(RuntimeError, match=r"empty\(\): unsupported memory format "
                                           r"flambeau.preserve_format"):
        flambeau.empty(3, memory_format=flambeau.preserve_format)


def test_memory_format_of_wrong_type():
    with pytest.raises(TypeError, match=r"contiguous\(\): argument 'memory_format' must be "
                                        r"flambeau.memory_format, not str"):
        flambeau.zeros(2).contiguous(memory_format="channels_last")
    with pytest.raises(TypeError, match=r"is_contiguous\(\): argument 'memory_format'"):
        flambeau.zeros(2).is_contiguous(memory_format=1)


def test_module_to_accepts_memory_format():
    nn = pytest.importorskip("flambeau.nn")
    m = nn.Conv2d(2, 3, 3)
    assert m.to(memory_format=flambeau.channels_last) is m


# ------------------------------------------------------------------ legacy typed constructors

_LEGACY = [("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"),
           ("BFloat16Tensor", "bfloat16"), ("LongTensor", "int64"), ("IntTensor", "int32"),
           ("ShortTensor", "int16"), ("CharTensor", "int8"), ("ByteTensor", "uint8"),
           ("BoolTensor", "bool")]


@pytest.mark.parametrize("name,dtype", _LEGACY)
@pytest.mark.host_only  # FloatTensor & co are CPU types
def test_legacy_constructors(name, dtype):
    cls = getattr(flambeau, name)
    dt = getattr(flambeau, dtype)
    assert repr(cls) == f"<class 'flambeau.{name}'>" and cls.dtype is dt
    t = cls([1, 0])
    assert t.dtype is dt and t.tolist() == [1, 0]
    assert cls(2, 3).shape == (2, 3) and cls(2, 3).dtype is dt
    assert cls(flambeau.Size([4])).shape == (4,) and cls().shape == (0,)
    # a tuple is data, as in PyTorch
    assert cls((2, 3)).tolist() == flambeau.tensor([2, 3], dtype=dt).tolist()
    assert isinstance(flambeau.zeros(1, dtype=dt), cls)
    assert not isinstance(flambeau.zeros(1, dtype=dt), flambeau.FloatTensor if
                          name != "FloatTensor" else flambeau.DoubleTensor)
    assert not isinstance([1], cls) and not issubclass(cls, flambeau.Tensor)
    assert flambeau.zeros(2).type(cls).dtype is dt
    assert flambeau.zeros(2).type(f"torch.{name}").dtype is dt
    torch = torch_or_none()
    if torch is not None:
        assert str(getattr(torch, name)([1, 0]).dtype) == f"torch.{dtype}"
        assert getattr(torch, name)(2, 3).shape == cls(2, 3).shape


def test_legacy_constructor_errors():
    with pytest.raises(TypeError, match=r"FloatTensor\(\): data must be a sequence \(got float\)"):
        flambeau.FloatTensor(2.5)
    with pytest.raises(TypeError, match=r"FloatTensor\(\): expected a flambeau.float32 tensor, "
                                        r"got flambeau.int64"):
        flambeau.FloatTensor(flambeau.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"LongTensor\(\) got unexpected keyword arguments "
                                        r"\['dtype'\]"):
        flambeau.LongTensor(2, dtype=flambeau.float32)
    with pytest.raises(RuntimeError, match=r"FloatTensor\(\): legacy constructor expects device "
                                           r"type: cpu"):
        flambeau.FloatTensor([1.0], device="cuda")
    with pytest.raises(TypeError, match=r"FloatTensor\(\): expected the data \(a sequence\) or a "
                                        r"size \(ints\)"):
        flambeau.FloatTensor([1.0], 2)
    x = flambeau.tensor([1.0, 2.0], device="cpu")  # a CPU type takes CPU tensors only
    assert bool((flambeau.FloatTensor(x) == x).all())


def test_tensor_type_with_unknown_name():
    with pytest.raises(ValueError, match=r"invalid type: 'torch.Foo'"):
        flambeau.zeros(2).type("torch.Foo")


def test_set_default_tensor_type():
    with pytest.warns(UserWarning, match=r"set_default_tensor_type\(\) is deprecated"):
        flambeau.set_default_tensor_type(flambeau.DoubleTensor)
    assert flambeau.get_default_dtype() is flambeau.float64
    assert flambeau.tensor([1.5]).dtype is flambeau.float64
    with pytest.warns(UserWarning):
        flambeau.set_default_tensor_type("torch.FloatTensor")
    assert flambeau.get_default_dtype() is flambeau.float32


def test_set_default_tensor_type_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match=r"only floating-point types are supported as the "
                                            r"default type"):
            flambeau.set_default_tensor_type(flambeau.LongTensor)
        with pytest.raises(ValueError, match=r"invalid type: 'torch.Foo'"):
            flambeau.set_default_tensor_type("torch.Foo")
    assert flambeau.get_default_dtype() is flambeau.float32


# ------------------------------------------------------------------ flambeau.random


def test_random_module_reuses_the_seeding_functions():
    assert flambeau.random.manual_seed is flambeau.manual_seed
    assert flambeau.random.get_rng_state is flambeau.get_rng_state
    assert flambeau.random.set_rng_state is flambeau.set_rng_state
    assert flambeau.random.seed is flambeau.seed
    flambeau.random.manual_seed(5)
    assert flambeau.random.initial_seed() == 5
    torch = torch_or_none()
    if torch is not None and hasattr(torch.random, "__all__"):  # torch >= 2.13
        assert set(flambeau.random.__all__) <= set(torch.random.__all__)


def test_fork_rng_restores_the_state():
    flambeau.manual_seed(0)
    with flambeau.random.fork_rng(device_type=flambeau.get_default_device().type):
        inside = flambeau.rand(3)
    after = flambeau.rand(3)
    assert bool((inside == after).all())
    with flambeau.random.fork_rng(enabled=False):
        flambeau.rand(3)
    assert not bool((flambeau.rand(3) == after).all())


def test_fork_rng_restores_after_an_error():
    state = flambeau.get_rng_state()
    with pytest.raises(KeyError), flambeau.random.fork_rng(devices=[]):
        flambeau.rand(5)
        raise KeyError("x")
    assert bool((flambeau.get_rng_state() == state).all())


def test_fork_rng_unknown_device_type():
    with pytest.raises(RuntimeError, match="unknown device type 'nodev'"):
        with flambeau.random.fork_rng(device_type="nodev"):
            pass


# ------------------------------------------------------------------ flambeau.serialization


@dataclasses.dataclass
class Point:
    x: int
    w: object


def _saved(obj):
    buf = io.BytesIO()
    flambeau.save(obj, buf)
    buf.seek(0)
    return buf


def test_safe_globals_registry():
    ser = flambeau.serialization
    assert ser.get_safe_globals() == []
    ser.add_safe_globals([Point, (complex, "builtins.complex")])
    ser.add_safe_globals([Point])
    assert ser.get_safe_globals() == [Point, (complex, "builtins.complex")]
    with ser.safe_globals([int]):
        assert ser.get_safe_globals()[-1] is int
    assert ser.get_safe_globals() == [Point, (complex, "builtins.complex")]
    ser.clear_safe_globals()
    assert ser.get_safe_globals() == []


def test_safe_globals_bad_arguments():
    with pytest.raises(TypeError, match="add_safe_globals: expected a list of classes"):
        flambeau.serialization.add_safe_globals(Point)
    with pytest.raises(TypeError, match="add_safe_globals: each entry must be a class or "
                                        "function"):
        flambeau.serialization.add_safe_globals([3])
    with pytest.raises(TypeError, match="safe_globals: expected a list of classes"):
        flambeau.serialization.safe_globals("Point")


def test_object_round_trip_needs_the_allow_list():
    buf = _saved({"p": Point(1, flambeau.arange(3.0))})
    with pytest.raises(UnsafePickleError, match=r"refused to load the global "
                                                r"'test_toplevel_compat.Point'.*"
                                                r"serialization.add_safe_globals\(\[Point\]\)"):
        flambeau.load(buf, weights_only=True)
    buf.seek(0)
    flambeau.serialization.add_safe_globals([Point])
    out = flambeau.load(buf, weights_only=True)["p"]
    assert type(out) is Point and out.x == 1 and out.w.tolist() == [0.0, 1.0, 2.0]
    buf.seek(0)
    flambeau.serialization.clear_safe_globals()
    with flambeau.serialization.safe_globals([Point]):
        assert flambeau.load(buf)["p"].x == 1
    buf.seek(0)
    with pytest.raises(UnsafePickleError):
        flambeau.load(buf)


def test_objects_that_cannot_be_saved_still_raise():
    class Local:  # pickle can't find it by name either
        pass

    for bad in (threading.Lock(), Local(), lambda: 0, (i for i in range(2))):
        with pytest.raises(TypeError, match="save: can't save"):
            flambeau.save({"x": bad}, io.BytesIO())
    p = Point(1, None)
    p.w = p  # a cycle through an object loads as one, as pickle's
    flambeau.serialization.add_safe_globals([Point])
    out = flambeau.load(_saved(p))
    assert type(out) is Point and out.w is out and out.x == 1


def test_torch_file_with_an_allowed_class():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    buf = io.BytesIO()
    torch.save({"p": Point(2, torch.ones(2))}, buf)
    buf.seek(0)
    with pytest.raises(UnsafePickleError, match=r"refused to load the global "
                                                r"'test_toplevel_compat.Point'.*add_safe_globals"):
        flambeau.load(buf)
    buf.seek(0)
    with flambeau.serialization.safe_globals([Point]):
        out = flambeau.load(buf)["p"]
    assert type(out) is Point and out.x == 2 and isinstance(out.w, flambeau.Tensor)
    assert out.w.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ accelerator, cpu


def test_accelerator_answers_from_the_registry():
    acc = flambeau.accelerator
    available = flambeau.cuda.is_available()
    assert acc.is_available() == available
    if available:
        assert acc.current_accelerator() == flambeau.device("cuda")
        assert acc.device_count() == flambeau.cuda.device_count()
        acc.set_device_index(0)
        assert acc.current_device_index() == 0
        acc.synchronize()
        assert flambeau.get_device_module() is flambeau.cuda
    else:
        assert acc.current_accelerator() is None and acc.device_count() == 0
        assert flambeau.get_device_module() is flambeau.cpu


def test_accelerator_without_a_device():
    if flambeau.accelerator.is_available():
        pytest.skip("an accelerator is available")
    for call in (flambeau.accelerator.current_device_index, flambeau.accelerator.synchronize,
                 lambda: flambeau.accelerator.set_device_index(0)):
        with pytest.raises(RuntimeError, match=r"accelerator\.\w+: cannot access an accelerator "
                                               r"device when none is available"):
            call()


def test_get_device_module():
    assert flambeau.get_device_module("cpu") is flambeau.cpu
    assert flambeau.get_device_module(flambeau.device("cpu")) is flambeau.cpu
    assert flambeau.get_device_module("cuda:0") is flambeau.cuda
    assert flambeau.get_device_module("mps:0") is flambeau.mps  # as torch's, without MPS
    assert flambeau.get_device_module("xpu") is flambeau.xpu
    with pytest.raises(RuntimeError, match=r"get_device_module\(\): device type 'hpu' has no "
                                           r"module in flambeau \(flambeau.cpu, cuda, mps and "
                                           r"xpu do\)"):
        flambeau.get_device_module("hpu")
    with pytest.raises(TypeError, match=r"get_device_module\(\): expected a flambeau.device, a "
                                        r"str or None, got int"):
        flambeau.get_device_module(0)


def test_cpu_module():
    cpu = flambeau.cpu
    assert (cpu.is_available(), cpu.is_initialized(), cpu.device_count(),
            cpu.current_device()) == (True, True, 1, "cpu")
    assert cpu.synchronize() is None and cpu.set_device("cpu") is None
    s = cpu.current_stream()
    assert isinstance(s, cpu.Stream) and s.query() and s.synchronize() is None
    with cpu.stream(cpu.Stream()):
        assert flambeau.ones(1).item() == 1.0
    torch = torch_or_none()
    if torch is not None:
        assert set(cpu.__all__) <= set(torch.cpu.__all__)
        assert (torch.cpu.device_count(), torch.cpu.current_device()) == (1, "cpu")


def test_public_names_are_exported():
    names = ("set_printoptions", "pi", "e", "inf", "nan", "newaxis", "memory_format",
             "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
             "layout", "strided", "FloatTensor", "BoolTensor", "set_default_tensor_type",
             "get_device_module", "random", "serialization", "accelerator", "cpu")
    assert set(names) <= set(flambeau.__all__)

"""torch's legacy typed storages (flambeau.FloatStorage, flambeau.cuda.FloatStorage, ...),
Tensor.storage_type(), Tensor.is_set_to() and the flambeau.storage module, against torch."""

import warnings

import pytest

import flambeau
from flambeau._storage import STORAGE_NAMES
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

NAMES = sorted(STORAGE_NAMES.values())


@pytest.fixture(autouse=True)
def _torch_warns_again():
    """torch warns about TypedStorage once per process; let the tests that check that
    warning (test_storage.py) still see it after these ran."""
    yield
    if torch is not None and hasattr(torch.storage._warn_typed_storage_removal, "has_warned"):
        torch.storage._warn_typed_storage_removal.has_warned = False


def _storage(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.storage()


@pytest.mark.parametrize("name", NAMES)
def test_each_class_stands_for_its_dtype_on_the_cpu(name):
    cls = getattr(flambeau, name)
    dtype = cls.dtype
    assert issubclass(cls, flambeau.TypedStorage) and cls.__module__ == "flambeau"
    t = flambeau.zeros(2, dtype=dtype, device="cpu")
    assert t.storage_type() is cls
    assert isinstance(_storage(t), cls)
    assert not isinstance(_storage(t), getattr(flambeau.cuda, name))
    other = "ByteStorage" if name != "ByteStorage" else "CharStorage"
    assert not isinstance(_storage(t), getattr(flambeau, other))
    assert getattr(flambeau.cuda, name).dtype is dtype
    if torch is not None:
        assert getattr(torch, name).dtype.__repr__().replace("torch", "flambeau") == repr(dtype)
        assert torch.zeros(2, dtype=getattr(torch, dtype.name)).storage_type().__name__ == name


@needs_torch
def test_constructors_match_torch():
    for name, arg in (("FloatStorage", [1.5, 2.0]), ("LongStorage", [1, 2]),
                      ("BoolStorage", [1, 0]), ("ComplexFloatStorage", [1j, 2]),
                      ("ByteStorage", (3, 4))):
        ours, theirs = getattr(flambeau, name)(arg), getattr(torch, name)(arg)
        assert type(ours) is flambeau.TypedStorage  # as torch: a TypedStorage, not the class
        assert ours.tolist() == theirs.tolist()
        assert (ours.size(), ours.device.type) == (theirs.size(), theirs.device.type)
    assert flambeau.FloatStorage(3).size() == torch.FloatStorage(3).size() == 3
    assert flambeau.FloatStorage(3).tolist() == [0.0, 0.0, 0.0]
    assert flambeau.DoubleStorage().size() == torch.DoubleStorage().size() == 0
    bytes_ = bytes(flambeau.tensor([1.0, -2.0]).cpu().numpy().tobytes())
    ours = flambeau.FloatStorage(wrap_storage=flambeau.ByteStorage(list(bytes_)).untyped())
    theirs = torch.FloatStorage(wrap_storage=torch.ByteStorage(list(bytes_)).untyped())
    assert ours.tolist() == theirs.tolist() == [1.0, -2.0]
    assert flambeau.Storage is flambeau.FloatStorage and torch.Storage is torch.FloatStorage


def test_wrap_storage_shares_the_memory():
    t = flambeau.zeros(2, device="cpu")
    s = flambeau.FloatStorage(wrap_storage=t.untyped_storage())
    s[1] = 5.0
    assert t.cpu().numpy().tolist() == [0.0, 5.0]
    assert isinstance(flambeau.TypedStorage(flambeau.UntypedStorage(8, device="cpu"),
                                            flambeau.float64), flambeau.DoubleStorage)


def test_constructor_errors():
    with pytest.raises(RuntimeError, match=r"FloatStorage\(\): unexpected keyword arguments "
                                           r"\['device'\]"):
        flambeau.FloatStorage(3, device="cpu")
    with pytest.raises(RuntimeError, match=r"unexpected keyword arguments \['dtype'\]"):
        flambeau.FloatStorage(3, dtype=flambeau.float64)
    with pytest.raises(RuntimeError, match=r"too many positional arguments \(2\)"):
        flambeau.FloatStorage(2, 3)
    with pytest.raises(TypeError, match=r"expected a size \(int\) or a sequence of values, "
                                        r"got float"):
        flambeau.FloatStorage(2.5)
    with pytest.raises(TypeError, match="wrap_storage must be an UntypedStorage, got Tensor"):
        flambeau.FloatStorage(wrap_storage=flambeau.zeros(2))
    with pytest.raises(RuntimeError, match="positional arguments cannot be given with "
                                           "wrap_storage="):
        flambeau.FloatStorage(2, wrap_storage=flambeau.UntypedStorage(8))
    with pytest.raises(RuntimeError, match=r"wrap_storage is on cpu, expected a cuda storage"):
        flambeau.cuda.FloatStorage(wrap_storage=flambeau.UntypedStorage(8, device="cpu"))


@pytest.mark.skipif(flambeau.cuda.is_available(), reason="checks the refusal without CUDA")
def test_cuda_storages_need_cuda_as_zeros_on_cuda_does():
    with pytest.raises(Exception) as expected:
        flambeau.zeros(1, device="cuda")
    with pytest.raises(type(expected.value), match="cuda"):
        flambeau.cuda.FloatStorage(2)
    if torch is not None:  # torch's CPU build refuses as well
        with pytest.raises((AssertionError, RuntimeError)):
            torch.cuda.FloatStorage(2)


def test_storage_type_is_none_where_torch_has_no_class():
    for dtype in (flambeau.uint16, flambeau.float8_e4m3fn):
        assert flambeau.zeros(2, dtype=dtype, device="cpu").storage_type() is None
        if torch is not None:
            assert torch.zeros(2, dtype=getattr(torch, dtype.name)).storage_type() is None


def test_is_set_to_matches_torch():
    def cases(lib):
        t = lib.zeros(3, device="cpu")
        return [t.is_set_to(t), t.is_set_to(t[:]), t[:].is_set_to(t), t.is_set_to(t.view(3)),
                t[1:].is_set_to(t[1:]), t.view(1, 3).is_set_to(t), t.is_set_to(t.clone()),
                t.detach().is_set_to(t), t[::2].is_set_to(t[:2]), t[1:].is_set_to(t[:2])]

    got = cases(flambeau)
    assert got == [True, True, True, True, True, False, False, True, False, False]
    if torch is not None:
        assert got == cases(torch)
    with pytest.raises(TypeError, match=r"is_set_to\(\): argument 'tensor' \(position 1\) "
                                        r"must be Tensor, not int"):
        flambeau.zeros(1).is_set_to(1)


def test_storage_module():
    import flambeau.storage as storage

    assert storage.TypedStorage is flambeau.TypedStorage
    assert storage.UntypedStorage is flambeau.UntypedStorage
    assert sorted(storage.__all__) == ["TypedStorage", "UntypedStorage"]
    if torch is not None:
        assert sorted(torch.storage.__all__) == sorted(storage.__all__)

"""flambeau.from_file: a memory-mapped file of raw values, shared or private, as torch's."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "values.bin"
    np.arange(10, dtype=np.float32).tofile(p)
    return str(p)


def _libs():
    return (flambeau,) if torch is None else (flambeau, torch)


@pytest.mark.parametrize("kwargs", [{"size": 10}, {"size": 4}, {}, {"shared": False, "size": 3},
                                    {"size": 5, "dtype": "float64"}, {"size": 6, "dtype": "int16"},
                                    {"size": 2, "dtype": "bfloat16"}])
def test_values_as_torch(path, kwargs):
    got = []
    for lib in _libs():
        kw = dict(kwargs)
        if "dtype" in kw:
            kw["dtype"] = getattr(lib, kw["dtype"])
        t = lib.from_file(path, **kw)
        got.append((str(t.dtype).split(".")[-1], tuple(t.shape), t.float().cpu().numpy()))
    assert got[0][1] == (kwargs.get("size", 0),)
    for other in got[1:]:
        assert other[:2] == got[0][:2]
        np.testing.assert_array_equal(other[2], got[0][2])


def test_shared_writes_reach_the_file_and_private_ones_do_not(path):
    shared = flambeau.from_file(path, True, 3, device="cpu")
    shared[0] = 42.0
    shared.add_(1)
    assert np.fromfile(path, np.float32)[:4].tolist() == [43.0, 2.0, 3.0, 3.0]
    private = flambeau.from_file(path, False, 3, device="cpu")
    private[1] = -1.0
    assert np.fromfile(path, np.float32)[:3].tolist() == [43.0, 2.0, 3.0]
    assert private.tolist() == [43.0, -1.0, 3.0]
    if torch is not None:
        theirs = torch.from_file(path, False, 3)
        assert theirs.tolist() == [43.0, 2.0, 3.0]


def test_shared_creates_or_extends_the_file_as_torch(tmp_path):
    for lib in _libs():
        new = tmp_path / f"new_{lib.__name__}.bin"
        t = lib.from_file(str(new), True, 4)
        assert t.tolist() == [0.0] * 4 and new.stat().st_size == 16


def test_requires_grad_and_device(path):
    t = flambeau.from_file(path, size=2, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    c = flambeau.from_file(path, size=2, device="cpu")
    assert c.device.type == "cpu"


@pytest.mark.parametrize("call, message", [
    (lambda lib, p: lib.from_file(p, size=11),
     r"file <.*values.bin> size <40> is smaller than the required mapping size <44>"),
    (lambda lib, p: lib.from_file(p + ".missing", size=1),
     r"unable to open file <.*values.bin.missing> in read-only mode: No such file or "
     r"directory \(2\)"),
    (lambda lib, p: lib.from_file(p, size=-1), "(size must be non-negative|unable to mmap)"),
])
def test_errors_as_torch(path, call, message):
    for lib in _libs():
        with pytest.raises(RuntimeError, match=message):
            call(lib, path)


def test_size_0_opens_no_file_as_torch(tmp_path):
    missing = str(tmp_path / "missing.bin")
    for lib in _libs():
        for shared in (None, False, True):
            t = lib.from_file(missing, shared, 0)
            assert t.shape == (0,) and str(t.dtype).split(".")[-1] == "float32"
    assert not (tmp_path / "missing.bin").exists()


def test_size_and_layout_checked_as_torch(path):
    for lib in _libs():
        with pytest.raises(TypeError, match=r"from_file\(\): argument 'size' \(position 3\) "
                                            r"must be int, not float"):
            lib.from_file(path, True, 2.5)
        with pytest.raises(NotImplementedError):
            lib.from_file(path, size=2, layout=lib.sparse_coo)
    with pytest.raises(NotImplementedError, match=r"from_file\(\): layout=flambeau.sparse_coo "
                                                  r"is not supported"):
        flambeau.from_file(path, size=2, layout=flambeau.sparse_coo)

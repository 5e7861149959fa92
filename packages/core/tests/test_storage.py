"""Tensor.untyped_storage() and Tensor.storage(): the memory a tensor and its views share,
as PyTorch's UntypedStorage and TypedStorage."""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


def _both(make):
    """``make(lib)`` for flambeau and (where installed) torch."""
    return [make(lib) for lib in (flambeau, torch) if lib is not None]


def _storage(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return t.storage()


def test_views_share_their_base_s_storage():
    x = flambeau.arange(12.0).reshape(3, 4)
    for view in (x[1], x[:, 2], x.t(), x.reshape(12)[5:], x.unsqueeze(0).expand(2, 3, 4)):
        s = view.untyped_storage()
        assert s == x.untyped_storage() and s.data_ptr() == x.data_ptr()
        assert s.nbytes() == 48 == len(s) == s.size()
    assert x.clone().untyped_storage() != x.untyped_storage()
    assert x[2].storage_offset() * x.element_size() == 32  # offsets count from the storage


def test_untyped_storage_reads_like_torch():
    for lib_storage in _both(lambda lib: lib.tensor([1.0, -2.0], device="cpu").untyped_storage()):
        assert lib_storage.tolist() == [0, 0, 128, 63, 0, 0, 0, 192]
        assert (lib_storage[3], lib_storage.element_size(), lib_storage.device.type) == (
            63, 1, "cpu")
        assert not lib_storage.is_shared() and not lib_storage.is_pinned()


def test_typed_storage_reads_like_torch_and_warns():
    got = []
    for lib in (flambeau, torch):
        if lib is None:
            continue
        t = lib.arange(6, dtype=lib.int32).reshape(2, 3)[1]
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            s = t.storage()
        got.append((str(s.dtype).split(".")[-1], s.size(), len(s), s[4], s.tolist(),
                    s.element_size(), s.nbytes(), s.untyped().nbytes(),
                    s.data_ptr() == t.data_ptr() - 3 * 4))
    assert got[0] == ("int32", 6, 6, 4, [0, 1, 2, 3, 4, 5], 4, 24, 24, True)
    assert all(g == got[0] for g in got)


def test_writes_through_a_storage_reach_every_view():
    x = flambeau.zeros(4, dtype=flambeau.int16)
    view = x[2:]
    s = view.untyped_storage()
    s[4] = 7  # the low byte of element 2
    assert x.tolist() == [0, 0, 7, 0] and view.tolist() == [7, 0]
    typed = _storage(view)
    typed[3] = -1
    assert x.tolist() == [0, 0, 7, -1]
    assert typed.fill_(2) is typed and x.tolist() == [2, 2, 2, 2]
    assert s.fill_(0) is s and x.tolist() == [0, 0, 0, 0]


def test_new_storages_and_reprs():
    s = flambeau.UntypedStorage(3, device="cpu")
    assert s.tolist() == [0, 0, 0] and s.device.type == "cpu" and s.cpu() is s
    on_default = flambeau.UntypedStorage(2)  # the default device (a GPU's in the GPU run)
    assert on_default.device == flambeau.zeros(1).device
    assert on_default.cpu().tolist() == [0, 0] and on_default.cpu().device.type == "cpu"
    assert repr(flambeau.tensor([1, 2], dtype=flambeau.uint8, device="cpu").untyped_storage()
                ) == " 1\n 2\n[flambeau.UntypedStorage(device=cpu) of size 2]"
    assert repr(_storage(flambeau.tensor([1.5], device="cpu"))) == (
        " 1.5\n[flambeau.TypedStorage(dtype=flambeau.float32, device=cpu) of size 1]")
    assert flambeau.tensor([]).untyped_storage().nbytes() == 0


def test_storage_indices_must_be_ints():
    s = flambeau.zeros(2).untyped_storage()
    with pytest.raises(TypeError, match="UntypedStorage indices must be ints, got slice"):
        s[0:1]
    with pytest.raises(TypeError, match="TypedStorage indices must be ints, got float"):
        _storage(flambeau.zeros(2))[1.0]


def test_the_storage_keeps_the_memory_alive():
    s = flambeau.arange(4.0).untyped_storage()  # the tensor is gone at once
    assert np.frombuffer(bytes(s.tolist()), dtype=np.float32).tolist() == [0.0, 1.0, 2.0, 3.0]

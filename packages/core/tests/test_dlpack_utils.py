"""flambeau.utils.dlpack and flambeau.to_dlpack: DLPack capsules, shared with NumPy and torch."""

import datetime

import numpy as np
import pytest

import flambeau
import flambeau.utils.dlpack as dlpack


@pytest.fixture(autouse=True)
def _cpu_bound():
    flambeau.zeros(1)  # as in test_interop: these tests are about memory sharing


def test_module_exposes_the_top_level_functions():
    assert "dlpack" in flambeau.utils.__all__ and flambeau.utils.dlpack is dlpack
    assert dlpack.__all__ == ["DLDeviceType", "from_dlpack", "to_dlpack"]
    assert dlpack.from_dlpack is flambeau.from_dlpack and dlpack.to_dlpack is flambeau.to_dlpack
    assert "to_dlpack" in flambeau.__all__
    assert dlpack.DLDeviceType.kDLCPU == 1 and dlpack.DLDeviceType.kDLCUDA == 2


@pytest.mark.parity
def test_same_names_and_codes_as_torch():
    torch = pytest.importorskip("torch")
    import torch.utils.dlpack as theirs

    assert theirs.to_dlpack is torch.to_dlpack and theirs.from_dlpack is torch.from_dlpack
    assert {k: int(v) for k, v in theirs.DLDeviceType.__members__.items()} == {
        k: int(v) for k, v in dlpack.DLDeviceType.__members__.items()}


def test_capsule_round_trip_shares_memory():
    t = flambeau.tensor([1.0, 2.0, 3.0], device="cpu")
    capsule = flambeau.to_dlpack(t)
    assert type(capsule).__name__ == "PyCapsule" and "dltensor" in repr(capsule)
    u = dlpack.from_dlpack(capsule)
    assert u.dtype is flambeau.float32 and u.device.type == "cpu"
    u[0] = 10.0  # writable, as torch makes tensors from capsules
    t[2] = -3.0
    assert t.tolist() == [10.0, 2.0, -3.0] and u.tolist() == [10.0, 2.0, -3.0]


def test_a_capsule_is_consumed_once():
    capsule = flambeau.to_dlpack(flambeau.ones(2, device="cpu"))
    flambeau.from_dlpack(capsule)
    with pytest.raises(RuntimeError, match=r"from_dlpack: this DLPack capsule was already "
                                           r"consumed; a capsule can be used once"):
        flambeau.from_dlpack(capsule)


def test_numpy_capsules_and_strided_views():
    a = np.arange(12, dtype=np.int16).reshape(3, 4)[:, 1::2]
    t = flambeau.from_dlpack(a.__dlpack__())  # a NumPy capsule, of a strided view
    assert t.dtype is flambeau.int16 and t.tolist() == a.tolist()
    a[2, 1] = 99
    t[0, 0] = -1
    assert t.tolist() == [[-1, 3], [5, 7], [9, 99]] and a[0, 0] == -1
    # NumPy takes flambeau tensors through __dlpack__; a capsule through from_dlpack only
    back = np.from_dlpack(t)
    back[1, 1] = 70
    assert t[1, 1].item() == 70


def test_versioned_capsules_keep_their_read_only_flag():
    ro = np.arange(3.0)
    ro.flags.writeable = False
    t = flambeau.from_dlpack(ro.__dlpack__(max_version=(1, 0)))
    assert t.tolist() == [0.0, 1.0, 2.0] and not t._data.flags.writeable


def test_tensors_requiring_grad_export_as_in_torch():
    w = flambeau.ones(2, requires_grad=True, device="cpu")
    v = flambeau.from_dlpack(flambeau.to_dlpack(w))
    assert not v.requires_grad and v.tolist() == [1.0, 1.0]
    with flambeau.no_grad():
        w[0] = 4.0
    assert v.tolist() == [4.0, 1.0]


def test_errors_name_the_op_and_the_cause():
    with pytest.raises(TypeError, match=r"to_dlpack: expected a Tensor, got list"):
        flambeau.to_dlpack([1.0])
    with pytest.raises(TypeError, match=r"from_dlpack: expected an object with __dlpack__ .* or "
                                        r"a DLPack capsule, got list"):
        flambeau.from_dlpack([1.0])
    with pytest.raises(TypeError, match=r"from_dlpack: expected a DLPack capsule, got a capsule "
                                        r"named b'datetime.datetime_CAPI'"):
        flambeau.from_dlpack(datetime.datetime_CAPI)
    with pytest.raises(BufferError, match=r"to_dlpack: can't export a flambeau.bfloat16 tensor "
                                          r"on cpu"):
        flambeau.to_dlpack(flambeau.ones(2, dtype=flambeau.bfloat16, device="cpu"))


@pytest.mark.parity
def test_capsules_shared_with_torch_both_ways():
    torch = pytest.importorskip("torch")
    # flambeau -> capsule -> torch
    t = flambeau.arange(6.0, device="cpu").reshape(2, 3).t()
    theirs = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(t))
    assert theirs.tolist() == t.tolist() and theirs.stride() == t.stride()
    theirs[0, 1] = -1.0
    assert t[0, 1].item() == -1.0
    # torch -> capsule -> flambeau
    src = torch.arange(4, dtype=torch.int64)
    ours = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    assert ours.dtype is flambeau.int64 and ours.tolist() == [0, 1, 2, 3]
    ours[3] = -5
    src[0] = 100
    assert src.tolist() == [100, 1, 2, -5] and ours.tolist() == [100, 1, 2, -5]
    # flambeau -> torch -> numpy: one buffer for all three
    a = np.from_dlpack(torch.from_dlpack(flambeau.to_dlpack(ours)))
    a[1] = 7
    assert ours[1].item() == 7 and src[1].item() == 7
    # the same values as torch's own round trip
    ref = torch.from_dlpack(torch.to_dlpack(torch.tensor([1.5, -2.0])))
    assert flambeau.from_dlpack(flambeau.to_dlpack(flambeau.tensor([1.5, -2.0]))).tolist() == (
        ref.tolist())

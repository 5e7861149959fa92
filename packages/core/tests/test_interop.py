"""Zero-copy exchange with NumPy and PyTorch: from_numpy, numpy(), __array__, DLPack."""

import subprocess
import sys

import numpy as np
import pytest

import flambeau


@pytest.fixture(autouse=True)
def _cpu_bound():
    # from_numpy/from_dlpack as the first op of a process fail (core bug, see
    # test_from_numpy_as_first_op); the tests below are about memory sharing
    flambeau.zeros(1)


def test_from_numpy_as_first_op():
    code = "import numpy, flambeau; print(flambeau.from_numpy(numpy.ones(2)).tolist())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[1.0, 1.0]", out.stderr[-300:]


def test_from_numpy_and_numpy_share_memory():
    a = np.arange(4, dtype=np.float32)
    t = flambeau.from_numpy(a)
    a[0] = 10.0
    assert t[0].item() == 10.0
    back = t.cpu().numpy()
    back[1] = 20.0
    assert a[1] == 20.0 and np.shares_memory(a, back)


@pytest.mark.host_only  # host memory
def test_array_protocol_copy_contract():
    t = flambeau.arange(3.0)
    assert np.shares_memory(np.asarray(t), t.cpu().numpy())
    copied = np.asarray(t, copy=True)
    copied[0] = 5.0
    assert t[0].item() == 0.0
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="float32 tensor on cpu can't be viewed as a NumPy "
                                         "array of dtype float64 without a copy"):
        np.asarray(t, dtype=np.float64, copy=False)
    assert np.add(t, 1).tolist() == [1.0, 2.0, 3.0]


def test_dlpack_with_numpy_both_ways():
    t = flambeau.zeros(3, device="cpu")  # NumPy imports host memory only
    assert tuple(int(v) for v in t.__dlpack_device__()) == (1, 0)
    a = np.from_dlpack(t)
    t[0] = 7.0
    assert a[0] == 7.0
    src = np.ones((2, 3), dtype=np.int32)[:, ::2]  # strided
    u = flambeau.from_dlpack(src)
    src[1, 1] = 9
    assert u.tolist() == [[1, 1], [1, 9]]


def test_dlpack_refuses_tensors_requiring_grad():
    w = flambeau.ones(2, requires_grad=True, device="cpu")
    with pytest.raises(RuntimeError, match=r"require gradient, use tensor.detach\(\)"):
        np.from_dlpack(w)
    assert np.from_dlpack(w.detach()).tolist() == [1.0, 1.0]


def test_dlpack_bfloat16_error_names_dtype():
    with pytest.raises(BufferError, match="can't export a flambeau.bfloat16 tensor on "):
        np.from_dlpack(flambeau.ones(2, dtype=flambeau.bfloat16, device="cpu"))


@pytest.mark.parity
def test_dlpack_with_torch_shares_memory_both_ways():
    torch = pytest.importorskip("torch")
    t = flambeau.arange(6.0).reshape(2, 3).t()  # non-contiguous, strides carried over
    theirs = torch.from_dlpack(t)
    assert theirs.tolist() == t.tolist()
    theirs[0, 1] = -1.0
    assert t[0, 1].item() == -1.0
    t[2, 0] = 42.0
    assert theirs[2, 0].item() == 42.0

    src = torch.arange(4, dtype=torch.int64)
    ours = flambeau.from_dlpack(src)
    assert ours.dtype is flambeau.int64
    src[0] = 100
    assert ours[0].item() == 100
    ours[3] = -5
    assert src[3].item() == -5
    assert flambeau.as_tensor(src).tolist() == [100, 1, 2, -5]

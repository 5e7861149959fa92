"""An integer subscript of a 0-d tensor (old PyTorch code's ``loss.data[0]``) raises torch's
IndexError, which says to call ``.item()``."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau


def _error(fn):
    with pytest.raises(IndexError) as info:
        fn()
    return str(info.value)


def _get(x, i):
    return lambda: x[i]


def _set(x, i):
    def write():
        x[i] = 1.0
    return write


@pytest.mark.parametrize("index", [0, 5, -3, np.int64(0)], ids=repr)
@pytest.mark.parametrize("op", [_get, _set], ids=["getitem", "setitem"])
def test_int_index_of_a_0d_tensor_raises_torch_s_error(index, op):
    loss = flambeau.tensor(1.5)
    message = _error(op(loss.data, index))
    if int(index) == 0:
        assert message == ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                           "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    else:
        assert message == f"index {int(index)} is out of bounds for dimension 0 with size 0"
    assert loss.cpu().numpy().tolist() == 1.5  # a refused write leaves the tensor as it was
    torch = pytest.importorskip("torch")
    assert _error(op(torch.tensor(1.5).data, index)) == message


def test_other_subscripts_of_a_0d_tensor_still_work():
    x = flambeau.tensor(1.5)
    assert x[None].cpu().numpy().tolist() == [1.5]
    assert x[...].cpu().numpy().tolist() == 1.5
    assert flambeau.arange(3.0)[flambeau.tensor(2)].cpu().numpy().tolist() == 2.0

"""Bad input: each documented error names the op, the shapes/dtypes/dims, and leaves state alone."""

import re

import numpy as np
import pytest

import flambeau


def test_matmul_shape_mismatch_names_op_and_both_shapes():
    a, b = flambeau.ones(2, 3), flambeau.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"mm.*\(2, 3\).*\(4, 5\)"):
        flambeau.mm(a, b)
    with pytest.raises(RuntimeError, match=r"bmm"):
        flambeau.bmm(flambeau.ones(2, 2, 3), flambeau.ones(3, 4, 2))


def test_broadcast_mismatch_names_op_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        flambeau.ones(2, 3) + flambeau.ones(4)
    with pytest.raises(RuntimeError, match=r"mul.*\(3,\).*\(2,\)"):
        flambeau.ones(3) * flambeau.ones(2)
    with pytest.raises(RuntimeError, match=r"where"):
        flambeau.where(flambeau.ones(3) > 0, flambeau.ones(2), 0.0)


def test_wrong_dtypes_name_the_dtypes():
    with pytest.raises(RuntimeError, match="float"):
        flambeau.bitwise_and(flambeau.ones(2), flambeau.ones(2))
    with pytest.raises(RuntimeError, match="int64"):
        flambeau.mean(flambeau.tensor([1, 2]))
    with pytest.raises(IndexError, match="float32"):
        flambeau.ones(3)[flambeau.tensor([0.0])]
    with pytest.raises(RuntimeError, match="int64"):
        flambeau.tensor([1, 2]).requires_grad_()
    i = flambeau.tensor([1, 2])
    with pytest.raises(RuntimeError, match="(?i)float.*int64|int64.*float"):
        i += 0.5
    assert i.tolist() == [1, 2]


def test_backward_of_non_scalar_without_gradient_explains():
    y = flambeau.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="(?i)scalar|gradient"):
        y.backward()


def test_index_out_of_range_names_dim_and_size():
    t = flambeau.zeros(2, 3)
    with pytest.raises(IndexError, match=r"5.*(dim|dimension) 1.*3|(dim|dimension) 1.*3.*5"):
        t[0, 5]
    with pytest.raises(IndexError, match=r"3"):
        t[flambeau.tensor([0, 3])]
    with pytest.raises((IndexError, RuntimeError), match="gather.*7.*dimension 1.*3"):
        flambeau.gather(t, 1, flambeau.tensor([[7]]))
    with pytest.raises(IndexError, match="index_select"):
        flambeau.index_select(t, 2, flambeau.tensor([0]))


def test_setitem_out_of_range_leaves_tensor_unchanged():
    t = flambeau.zeros(2, 3)
    with pytest.raises(IndexError):
        t[0, 3] = 1.0
    assert t.tolist() == [[0.0] * 3] * 2


def test_ragged_lists_are_rejected():
    with pytest.raises(ValueError, match="(?i)ragged|sequence.*length|length"):
        flambeau.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError):
        flambeau.tensor([[1], 2])


def test_negative_slice_step_is_rejected():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        flambeau.arange(4)[::-1]


def test_view_of_incompatible_shape_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"6"):
        flambeau.zeros(2, 3).view(4)


def test_dim_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"\[-2, 1\].*5"):
        flambeau.zeros(2, 3).sum(5)


def test_cat_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"cat.*3.*4|cat.*4.*3"):
        flambeau.cat([flambeau.zeros(2, 3), flambeau.zeros(2, 4)])


def test_second_backward_mentions_retain_graph():
    x = flambeau.ones(2, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_device_index_check_names_the_dimension_it_indexes():
    # the check that stands in for NumPy's on devices whose arrays wrap indices around (CuPy)
    from flambeau._ops.indexing import _check_device_indices

    t = flambeau.zeros(2, 3)
    xp = t._device._xp  # index arrays live where the tensor does

    def arr(*v):
        return xp.asarray(np.array(v))

    cases = [((arr(0, 3),), "index 3 is out of bounds for dimension 0 with size 2"),
             ((Ellipsis, arr(5)), "index 5 is out of bounds for dimension 1 with size 3"),
             ((None, 0, arr(-4)), "index -4 is out of bounds for dimension 1 with size 3")]
    for items, message in cases:
        with pytest.raises(IndexError, match=re.escape(message) + r".*shape \(2, 3\)"):
            _check_device_indices(t, items)
    _check_device_indices(t, (arr(1, -2), arr(2, -3)))  # in range: no error

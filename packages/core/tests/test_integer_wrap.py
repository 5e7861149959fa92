"""Integer results that leave their dtype's range, and in-place casts between integer kinds,
as PyTorch 2.13 handles them: arithmetic wraps around (``uint8 += -1``, ``int8 *= 1000``),
an in-place op may write a signed integer result into an unsigned tensor (NumPy's
``same_kind`` refuses it), and fill values are checked: unsigned dtypes take negatives down
to ``-max`` (wrapped), anything else out of range is refused."""

from __future__ import annotations

import pytest

import flambeau


def _u8(values=(1, 2, 200)):
    return flambeau.tensor(list(values), dtype=flambeau.uint8)


@pytest.mark.parametrize(("op", "expected"), [
    (lambda x: x.add_(-1), [0, 1, 199]),
    (lambda x: x.add_(256), [1, 2, 200]),
    (lambda x: x.sub_(300), [213, 214, 156]),
    (lambda x: x.mul_(-1), [255, 254, 56]),
    (lambda x: x.add_(flambeau.tensor([1, 2, 100], dtype=flambeau.int32)), [2, 4, 44]),
    (lambda x: x.mul_(flambeau.tensor([1, 2, 3])), [1, 4, 88]),
    (lambda x: x.fill_(-1), [255, 255, 255]),
    (lambda x: x.fill_(flambeau.tensor(-1)), [255, 255, 255]),
    (lambda x: x.masked_fill_(x > 1, -3), [1, 253, 253]),
])
def test_uint8_in_place_results_wrap(op, expected):
    x = _u8()
    assert op(x) is x
    assert x.tolist() == expected and x.dtype == flambeau.uint8


def test_int8_arithmetic_wraps():
    x = flambeau.tensor([1, 2, 100], dtype=flambeau.int8)
    assert x.add_(200).tolist() == [-55, -54, 44]
    assert x.mul_(1000).tolist() == [40, 16, -32]
    y = flambeau.tensor([1, 2, 3], dtype=flambeau.int8)
    assert y.sub_(flambeau.tensor([5, 5, 5], dtype=flambeau.uint8)).tolist() == [-4, -3, -2]


def test_full_takes_unsigned_negatives_down_to_minus_max():
    assert flambeau.full((2,), -1, dtype=flambeau.uint8).tolist() == [255, 255]
    assert flambeau.full((1,), -255, dtype=flambeau.uint8).tolist() == [1]


@pytest.mark.parametrize(("call", "type_name"), [
    (lambda: flambeau.full((1,), -256, dtype=flambeau.uint8), "uint8_t"),
    (lambda: flambeau.full((1,), 256, dtype=flambeau.uint8), "uint8_t"),
    (lambda: flambeau.full((1,), 128, dtype=flambeau.int8), "int8_t"),
    (lambda: flambeau.zeros(1, dtype=flambeau.int8).fill_(300), "int8_t"),
    (lambda: flambeau.zeros(1, dtype=flambeau.int64).fill_(2 ** 63), "int64_t"),
    (lambda: flambeau.zeros(1, dtype=flambeau.uint8).masked_fill_(flambeau.tensor([True]), 300),
     "uint8_t"),
])
def test_fill_values_out_of_range_are_refused(call, type_name):
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type {type_name} "
                                           "without overflow"):
        call()


def test_a_refused_fill_leaves_the_tensor_unchanged():
    x = flambeau.tensor([1, 2], dtype=flambeau.int8)
    with pytest.raises(RuntimeError):
        x.fill_(1000)
    assert x.tolist() == [1, 2] and x._version == 0


def test_float_results_still_refuse_integer_tensors():
    x = flambeau.tensor([1, 2, 3], dtype=flambeau.int8)
    with pytest.raises(RuntimeError, match="result type flambeau.float32 can't be cast to the "
                                           "desired output type flambeau.int8"):
        x.add_(flambeau.tensor([1.5, 2.0, 3.0]))
    assert x.tolist() == [1, 2, 3]

"""Python ints outside int64's range, and negative sizes, as torch 2.13 treats them:
``tensor(2**63)`` is refused (NumPy made it uint64, which int64 wrapped to -2**63, also under
a float64 dtype) unless a floating-point dtype asks for it rounded."""

from __future__ import annotations

import pytest

import flambeau


@pytest.mark.parametrize("data", [2 ** 63, -2 ** 63 - 1, [1, 2 ** 64], [[0], [2 ** 70]]])
def test_ints_beyond_int64_are_refused(data):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        flambeau.tensor(data)


@pytest.mark.parametrize("dtype", [flambeau.float32, flambeau.float64, flambeau.complex64])
def test_a_floating_dtype_stores_them_rounded(dtype):
    t = flambeau.tensor([2 ** 63, -2 ** 64], dtype=dtype)
    assert t.dtype == dtype
    assert [complex(v).real for v in t.tolist()] == pytest.approx([2.0 ** 63, -2.0 ** 64])


def test_the_int64_extremes_are_kept():
    assert flambeau.tensor([2 ** 63 - 1, -2 ** 63]).tolist() == [2 ** 63 - 1, -2 ** 63]
    assert flambeau.tensor([2 ** 63, 1.5]).tolist() == pytest.approx([2.0 ** 63, 1.5])


def test_ragged_lists_still_say_so():
    with pytest.raises(ValueError, match="ragged nested sequence"):
        flambeau.tensor([[1, 2], [3]])


@pytest.mark.parametrize(("call", "match"), [
    (lambda: flambeau.eye(-1), "eye: n must be greater or equal to 0, got -1"),
    (lambda: flambeau.eye(2, -3), "eye: m must be greater or equal to 0, got -3"),
])
def test_negative_eye_sizes(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()

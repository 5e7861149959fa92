"""Integer tensors to negative integer tensor powers: computed as torch (NumPy refuses)."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

CASES = [
    ("int64", [0, 0, 1, -1, -1, 2, -2, 5, 3], [-1, -2, -3, -3, -2, -1, -1, -7, 2]),
    ("int32", [0, 1, -1, 2], [-1, -3, -3, -1]),
    ("int8", [0, 1, 2, -1], [-1, -1, -1, -4]),
    ("uint8", [0, 1, 2, 3], [-1, -1, -1, 2]),
]


def _pow(lib, dtype, base, exponent, form):
    b = lib.tensor(base, dtype=getattr(lib, dtype))
    e = lib.tensor(exponent, dtype=lib.int64 if dtype == "uint8" else getattr(lib, dtype))
    if form == "operator":
        return b ** e
    if form == "number_base":
        return lib.pow(base[2], e)
    out = b.clone()
    out.pow_(e)
    return out


@needs_torch
@pytest.mark.parametrize("form", ["operator", "number_base", "in_place"])
@pytest.mark.parametrize("dtype, base, exponent", CASES)
def test_matches_torch(dtype, base, exponent, form):
    ours = _pow(flambeau, dtype, base, exponent, form)
    theirs = _pow(torch, dtype, base, exponent, form)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.cpu().numpy())


def test_values_without_torch():
    got = flambeau.tensor([0, 1, -1, -1, 2]) ** flambeau.tensor([-1, -5, -3, -2, -1])
    np.testing.assert_array_equal(got.cpu().numpy(), [0, 1, -1, 1, 0])


def test_shapes_that_do_not_broadcast_still_name_pow():
    with pytest.raises(RuntimeError, match=r"pow: the size of tensor a \(2,\) must match the "
                                           r"size of tensor b \(3,\)"):
        flambeau.tensor([1, 2]) ** flambeau.tensor([-1, 2, 3])


def test_a_negative_number_exponent_still_refused_as_torch():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not "
                                           "allowed"):
        flambeau.tensor([2, 3]) ** -1

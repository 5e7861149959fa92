"""A float16/bfloat16 tensor meets a Python number in float32, as torch's half kernels do
(their "opmath"): NumPy rounds the number to the tensor's dtype first, so in float16
``x / 70000`` was 0 (70000 is inf there) and ``x * 1e-8`` was 0 (1e-8 underflows)."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau

VALUES = [1000.0, 3.0, -0.5]

# (name, op): each takes the library and a tensor; all have a number operand beyond the
# half dtype's range or precision
CASES = {
    "div_big": lambda lib, x: x / 70000.0,
    "div_int": lambda lib, x: x / 70000,
    "div_fn": lambda lib, x: lib.div(x, 70000.0),
    "mul_tiny": lambda lib, x: x * 1e-7,
    "mul_fn": lambda lib, x: lib.mul(x, 1e-7),
    "mul_method": lambda lib, x: x.mul(1e-7),
    "add_fine": lambda lib, x: x + 1e-3,
    "sub_fine": lambda lib, x: x - 1e-3,
    "add_alpha": lambda lib, x: x.add(1e-4, alpha=1e4),
    "div_in_place": lambda lib, x: x.clone().div_(70000.0),
    "mul_in_place": lambda lib, x: x.clone().mul_(1e-7),
    "imul_operator": lambda lib, x: _imul(x.clone(), 1e-7),
    "recorded_in_place": lambda lib, x: (x.clone().requires_grad_() * 1.0).div_(70000.0),
    # a number first, through the operators (torch's rsub and mul take the number second)
    "rsub_operator": lambda lib, x: 0.1 - x,
    "rmul_operator": lambda lib, x: 1e-7 * x,
    "radd_operator": lambda lib, x: 1e-3 + x,
}


def _imul(t, v):
    t *= v
    return t


# float16 values that would come out without opmath (the number rounded to float16 first)
EXPECTED_FLOAT16 = {
    "div_big": [0.01428, 4.2856e-05, -7.153e-06],
    "mul_tiny": [1.0014e-04, 2.980e-07, -5.960e-08],
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_half_tensor_with_a_number_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    ours = CASES[name](flambeau, flambeau.tensor(VALUES, dtype=getattr(flambeau, dtype)))
    theirs = CASES[name](torch, torch.tensor(VALUES, dtype=getattr(torch, dtype)))
    assert ours.dtype == getattr(flambeau, dtype)
    np.testing.assert_array_equal(ours.detach().float().cpu().numpy(),
                                  theirs.detach().float().numpy())


@pytest.mark.parametrize("name", sorted(EXPECTED_FLOAT16))
def test_float16_keeps_numbers_beyond_its_range(name):
    out = CASES[name](flambeau, flambeau.tensor(VALUES, dtype=flambeau.float16))
    np.testing.assert_allclose(out.float().cpu().numpy(), EXPECTED_FLOAT16[name], rtol=2e-3)


def test_gradient_of_a_half_product_with_a_tiny_number():
    x = flambeau.tensor(VALUES, dtype=flambeau.float16, requires_grad=True)
    ((x * 2e-8).sum() * 1000.0).backward()
    # the incoming 1000 meets 2e-8 in float32: 2e-05, where 2e-8 rounded to float16 is 0
    expected = np.float16(np.float32(1000.0) * np.float32(2e-8))
    assert expected != 0
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [expected] * 3)

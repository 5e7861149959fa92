"""Binary ops at special values (NaN, infinities, signed zeros, extremes) against torch:
found by a sweep of every pair of 16 such values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import flambeau

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, -7.0, 1e-30, 1e30, np.inf, -np.inf, np.nan,
           2.0, 10.0, -1e-5]
PAIRS = np.array(list(itertools.product(SPECIAL, SPECIAL)))

OPS = {
    "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: m.fmin(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "hypot": lambda m, a, b: m.hypot(a, b),
    "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_special_values_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    a, b = PAIRS[:, 0].astype(dtype), PAIRS[:, 1].astype(dtype)
    want = OPS[name](torch, torch.tensor(a), torch.tensor(b)).cpu().numpy()
    got = OPS[name](flambeau, flambeau.tensor(a), flambeau.tensor(b)).cpu().numpy()
    np.testing.assert_array_equal(got, want)  # NaN where NaN
    # the sign of zero quotients too (1 // -inf is -1, 0 // -1 is -0.0); which of two equal
    # zeros fmax/maximum return is left open
    if name.startswith(("floor", "div")):
        assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


def test_fmax_and_fmin_ignore_nan():
    a = flambeau.tensor([1.0, float("nan"), float("nan"), 2.0])
    b = flambeau.tensor([float("nan"), 3.0, float("nan"), 1.0])
    assert flambeau.fmax(a, b).tolist()[:2] == [1.0, 3.0]
    assert flambeau.fmin(a, b).tolist()[:2] == [1.0, 3.0]
    assert np.isnan(flambeau.fmax(a, b)[2].item())
    assert flambeau.maximum(a, b).isnan().tolist() == [True, True, True, False]


@pytest.mark.parity
@pytest.mark.parametrize("name", ["fmax", "fmin", "maximum", "minimum", "hypot"])
def test_gradients_at_ties_and_nans_match_torch(name):
    torch = pytest.importorskip("torch")
    a = [1.0, 2.0, float("nan"), 1.0, float("nan"), 0.0, 3.0]
    b = [1.0, 1.0, 1.0, float("nan"), float("nan"), 0.0, 4.0]
    grads = []
    for m in (torch, flambeau):
        x, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
        OPS[name](m, x, y).sum().backward()
        grads.append((x.grad.cpu().numpy(), y.grad.cpu().numpy()))
    for got, want in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(got, want)


def test_hypot_neither_overflows_nor_underflows():
    x = flambeau.tensor([1e30, 1e-30, 3e38], dtype=flambeau.float32)
    out = flambeau.hypot(x, flambeau.zeros(3)).cpu().numpy()
    np.testing.assert_allclose(out, [1e30, 1e-30, 3e38], rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda x, d: flambeau.floor_divide(x, d), lambda x, d: x // d, lambda x, d: x % d,
    lambda x, d: flambeau.fmod(x, d), lambda x, d: flambeau.remainder(x, d),
    lambda x, d: flambeau.div(x, d, rounding_mode="trunc"),
    lambda x, d: flambeau.div(x, d, rounding_mode="floor"),
])
@pytest.mark.parametrize("divisor", [0, "tensor"])
@pytest.mark.host_only  # checked on the CPU only: elsewhere it would wait for the device
def test_integer_division_by_zero_raises_as_torch(fn, divisor):
    x = flambeau.tensor([7, 8])
    d = flambeau.tensor([2, 0]) if divisor == "tensor" else divisor
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        fn(x, d)
    assert fn(x, flambeau.tensor([2, 3])).dtype == flambeau.int64  # nonzero divisors work

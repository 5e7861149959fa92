"""Values and gradients at the edges of ops' domains, as PyTorch 2.13 gives them.

Kinks, ties, zeros, infinities and NaN (in the input or in the incoming gradient) are where
a formula's composite form and torch's dedicated kernels part ways: ``sqrt(var)`` gave NaN
gradients for a constant slice where torch's ``std`` gives 0, ``g * mask`` keeps a NaN that
torch's selecting backward drops, ``a - q * b`` made ``fmod(1, inf)`` NaN. Each row runs an
expression on float64 (or the named dtype) tensors ``a``, ``b``, ``c`` and backpropagates
ones (or the given gradient); the expected output and input gradients are torch's, except
where noted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau

inf, nan = math.inf, math.nan

CASES = {
    "std_of_constant_rows": ("m.std(a, 1)", [[[1.0, 1.0], [1.0, 3.0]]]),
    "std_mean_constant": ("m.std_mean(a)[0]", [[2.0, 2.0, 2.0]]),
    "std_all_constant": ("m.std(a)", [[5.0, 5.0]]),
    "atan2_origin": ("m.atan2(a, b)", [[0.0, -0.0, 1.0, 0.0], [0.0, 0.0, 0.0, -0.0]]),
    "clamp_tensor_ties": ("m.clamp(a, b, c)", [[0.0, 5.0, 2.0, nan, 1.0, 1.0, 3.0],
                                               [3.0, 3.0, 3.0, 0.0, nan, 1.0, 0.0],
                                               [1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 3.0]]),
    "clamp_tensor_min": ("m.clamp(a, min=b)", [[0.0, 5.0, nan, 1.0, 2.0],
                                               [3.0, 3.0, 0.0, nan, 2.0]]),
    "clamp_tensor_max": ("m.clamp(a, max=b)", [[0.0, 5.0, nan, 1.0, 2.0],
                                               [3.0, 3.0, 0.0, nan, 2.0]]),
    "xlog1py_at_zero": ("m.special.xlog1py(a, b)",
                        [[0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [1.0, -0.5, -1.0, -2.0, -1.0, inf]]),
    "logit": ("m.logit(a)", [[-1.0, 0.0, -0.0, 0.3, 1.0, 2.0, nan]]),
    "logit_eps": ("m.logit(a, 0.1)", [[-1.0, 0.0, 0.05, 0.3, 0.95, 2.0, nan]]),
    "max_all_nan": ("m.max(a)", [[0.0, nan, nan, 1.0]]),
    "min_all_nan": ("m.min(a)", [[0.0, nan, 1.0]]),
    "amax_nan": ("m.amax(a)", [[0.0, nan, 1.0]]),
    "max_all_ties": ("m.max(a)", [[2.0, 1.0, 2.0]]),
    "fmod_inf": ("m.fmod(a, b)", [[0.0, 1.0, -1.0, 5.5], [inf, inf, 2.0, -2.0]]),
    "remainder_inf": ("m.remainder(a, b)", [[0.0, 1.0, -1.0, 5.5], [inf, inf, 2.0, -2.0]]),
    "polygamma_inf": ("m.polygamma(1, a)", [[inf, 2.0]]),
    "mvlgamma_below_domain": ("m.mvlgamma(a, 2)", [[0.3, 1.0, 2.5]]),
    "lerp_far_end": ("m.lerp(a, b, c)", [[1.0, inf, 2.0, 1.0], [3.0, 1.0, 5.0, 3.0],
                                         [0.2, 0.5, 0.9, 1.0]]),
    "div_tiny_denominator": ("a / b", [[0.0, 1.0], [1e-30, 2.0]], "float32"),
    "relu_nan_grad_in": ("m.relu(a)", [[-1.0, 0.0, 2.0, nan]], "float64", [nan, nan, nan, 1.0]),
    "sign_nan_grad_in": ("m.sign(a)", [[-1.0, 0.0, 2.0]], "float64", [nan, nan, nan]),
    "floor_nan_grad_in": ("m.floor(a)", [[-1.5, 2.5]], "float64", [nan, inf]),
    "clamp_nan_grad_in": ("m.clamp(a, 0.0, 1.0)", [[-1.0, 0.5, 2.0]], "float64", [nan, nan, nan]),
    "where_nan_grad_in": ("m.where(a > 0, a, b)", [[-1.0, 2.0], [3.0, 4.0]], "float64", [nan, nan]),
    "maximum_nan_grad_in": ("m.maximum(a, b)", [[-1.0, 0.0, 2.0], [0.0, 0.0, 0.0]], "float64",
                            [nan, nan, nan]),
    "pow_zero_exponent_nan_grad_in": ("a ** 0", [[2.0, 3.0]], "float64", [nan, inf]),
}

EXPECTED = {
    "std_of_constant_rows": [[0.0, 1.4142135623730951],
                             [[0.0, 0.0], [-0.7071067811865475, 0.7071067811865475]]],
    "std_mean_constant": [0.0, [0.0, 0.0, 0.0]],
    "std_all_constant": [0.0, [0.0, 0.0]],
    "atan2_origin": [[0.0, -0.0, 1.5707963267948966, 3.141592653589793], [0.0, 0.0, 0.0, -0.0],
                     [-0.0, 0.0, -1.0, -0.0]],
    "clamp_tensor_ties": [[1.0, 1.0, 1.0, nan, nan, 1.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
                          [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                          [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]],
    "clamp_tensor_min": [[3.0, 5.0, nan, nan, 2.0], [0.0, 1.0, 0.0, 0.0, 1.0],
                         [1.0, 0.0, 0.0, 0.0, 0.0]],
    "clamp_tensor_max": [[0.0, 3.0, nan, nan, 2.0], [1.0, 0.0, 0.0, 0.0, 1.0],
                         [0.0, 1.0, 0.0, 0.0, 0.0]],
    "xlog1py_at_zero": [[0.0, 0.0, 0.0, 0.0, -inf, 0.0],
                        [0.6931471805599453, -0.6931471805599453, 0.0, 0.0, -inf, inf],
                        [0.0, 0.0, nan, -0.0, inf, 0.0]],
    "logit": [[nan, -inf, -inf, -0.8472978603872036, inf, nan, nan],
              [nan, inf, inf, 4.761904761904762, inf, nan, nan]],
    "logit_eps": [[-2.197224577336219, -2.197224577336219, -2.197224577336219, -0.8472978603872036,
                   2.1972245773362196, 2.1972245773362196, nan],
                  [0.0, 0.0, 0.0, 4.761904761904762, 0.0, 0.0, nan]],
    "max_all_nan": [nan, [0.0, 0.5, 0.5, 0.0]],
    "min_all_nan": [nan, [0.0, 1.0, 0.0]],
    "amax_nan": [nan, [nan, nan, nan]],
    "max_all_ties": [2.0, [0.5, 0.0, 0.5]],
    "fmod_inf": [[0.0, 1.0, -1.0, 1.5], [1.0, 1.0, 1.0, 1.0], [-0.0, -0.0, 0.0, 2.0]],
    "remainder_inf": [[0.0, 1.0, 1.0, -0.5], [1.0, 1.0, 1.0, 1.0], [-0.0, -0.0, 1.0, 3.0]],
    "polygamma_inf": [[0.0, 0.6449340670881899], [-0.0, -0.4041138063191886]],
    "mvlgamma_below_domain": [[3.4296605285767137, 1.1447298858494002, 0.8570478133976193],
                              [0.5324672110937279, -2.5407256909229554, 1.1259409757437102]],
    "lerp_far_end": [[1.4, inf, 4.7, 3.0], [0.8, 0.5, 0.09999999999999998, 0.0],
                     [0.2, 0.5, 0.9, 1.0], [2.0, -inf, 3.0, 2.0]],
    "div_tiny_denominator": [[0.0, 0.5], [1.0000000150474662e+30, 0.5], [-0.0, -0.25]],
    "relu_nan_grad_in": [[0.0, 0.0, 2.0, nan], [0.0, 0.0, nan, 1.0]],
    "sign_nan_grad_in": [[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
    "floor_nan_grad_in": [[-2.0, 2.0], [0.0, 0.0]],
    "clamp_nan_grad_in": [[0.0, 0.5, 1.0], [0.0, nan, 0.0]],
    "where_nan_grad_in": [[3.0, 2.0], [0.0, nan], [nan, 0.0]],
    "maximum_nan_grad_in": [[0.0, 0.0, 2.0], [0.0, nan, nan], [nan, nan, 0.0]],
    "pow_zero_exponent_nan_grad_in": [[1.0, 1.0], [0.0, 0.0]],
}


# where flambeau keeps the mathematically right answer: torch's trigamma gradient at +inf is
# polygamma(2, inf), which it makes NaN; every term of the series vanishes there, so 0
DEVIATIONS = {"polygamma_inf"}


def _run(expr, inputs, dtype="float64", grad=None):
    tensors = [flambeau.tensor(v, dtype=getattr(flambeau, dtype), requires_grad=True)
               for v in inputs]
    scope = dict(zip("abc", tensors), m=flambeau)
    y = eval(expr, scope)  # noqa: S307 - the expressions are this file's own
    seed = flambeau.ones_like(y) if grad is None else flambeau.tensor(grad, dtype=y.dtype)
    y.backward(seed)
    return [y.detach().cpu().double().numpy()] + [t.grad.cpu().double().numpy()
                                                   for t in tensors]


def _same(got, want):
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    # NaN where torch has NaN, infinities of the same sign, signs of zeros ignored
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradients_at_the_edges(name):
    got = _run(*CASES[name])
    want = EXPECTED[name]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _same(g, w)


def test_expectations_are_torchs_where_not_noted():
    torch = pytest.importorskip("torch")
    for name, case in CASES.items():
        if name in DEVIATIONS:
            continue
        expr, inputs = case[0], case[1]
        dtype = case[2] if len(case) > 2 else "float64"
        ts = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in inputs]
        y = eval(expr, dict(zip("abc", ts), m=torch))  # noqa: S307
        y.backward(torch.ones_like(y) if len(case) < 4 else torch.tensor(case[3], dtype=y.dtype))
        for g, w in zip([y.detach()] + [t.grad for t in ts], EXPECTED[name]):
            _same(g.double().numpy(), w)


def test_std_gradient_of_a_constant_slice_is_zero_in_half_precision():
    x = flambeau.tensor([[1.0, 1.0], [1.0, 3.0]], dtype=flambeau.float16, requires_grad=True)
    flambeau.std(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().float().numpy(), [[0, 0], [-0.7071, 0.7071]],
                               atol=1e-3)


def test_lerp_weight_one_gives_end_exactly():
    a = flambeau.tensor([0.1, 1e8, -3.3], dtype=flambeau.float32)
    b = flambeau.tensor([0.7, 1.0, 123.456], dtype=flambeau.float32)
    assert flambeau.equal(flambeau.lerp(a, b, 1.0), b)
    assert flambeau.equal(flambeau.lerp(a, b, 0.0), a)


def test_clamp_with_bounds_that_do_not_broadcast_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"clamp: .*\(3,\), \(2,\)"):
        flambeau.clamp(flambeau.ones(3), flambeau.zeros(2))


def test_zeta_at_infinity_is_zero_and_polygamma_does_not_overflow():
    x = flambeau.tensor([inf], dtype=flambeau.float64)
    assert flambeau.special.zeta(2.0, x).item() == 0.0
    assert flambeau.polygamma(3, x).item() == 0.0

"""Elementwise ops through the declarative harness, plus operator and in-place forms."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._cases import ELEMENTWISE_CASES, OpCase, both
from flambeau.testing._harness import check_forward, check_gradients, check_parity, op_tests

test_gradcheck, test_numpy_reference, test_parity = op_tests(ELEMENTWISE_CASES)


class _WrongBackward(flambeau.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data * x._data

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 * g * x


def _samples(rng, dt):
    return [(rng.standard_normal(3).astype(dt),)]


def test_harness_catches_a_wrong_backward():
    case = OpCase("wrong", lambda x: _WrongBackward.apply(x), None, _samples)
    with pytest.raises(AssertionError, match="wrong"):
        check_gradients(case)


def test_harness_catches_wrong_values_and_dtypes():
    pytest.importorskip("torch")
    fn, _ = both(lambda lib, x: lib.sin(x))
    _, torch_cos = both(lambda lib, x: lib.cos(x))
    with pytest.raises(AssertionError, match="values differ"):
        check_parity(OpCase("sin_vs_cos", fn, torch_cos, _samples))
    _, torch_double = both(lambda lib, x: lib.sin(x).double())
    with pytest.raises(AssertionError, match="dtype"):
        check_parity(OpCase("dtype", fn, torch_double, _samples), dtype="float32")


def test_harness_numpy_reference_without_torch():
    fn, _ = both(lambda lib, x: lib.exp(x))
    assert check_forward(OpCase("exp", fn, None, _samples, numpy_ref=np.exp),
                         dtype="float64", reference="numpy") == 1
    with pytest.raises(AssertionError):
        check_forward(OpCase("exp", fn, None, _samples, numpy_ref=np.sin), dtype="float64",
                      reference="numpy")


def test_xlogy_gradient_where_input_is_zero_is_log_other():
    # torch: d/dx xlogy(x, y) = log(y) also at x == 0 (0 where y <= 0)
    x = flambeau.tensor([0.0, 0.0, 0.0, 2.0], dtype=flambeau.float64, requires_grad=True)
    y = flambeau.tensor([2.0, 0.0, -1.0, 3.0], dtype=flambeau.float64, requires_grad=True)
    out = flambeau.xlogy(x, y)
    assert out.tolist() == [0.0, 0.0, 0.0, 2 * np.log(3.0)]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [np.log(2.0), 0.0, 0.0, np.log(3.0)])
    np.testing.assert_allclose(y.grad.cpu().numpy(), [0.0, 0.0, 0.0, 2.0 / 3.0])

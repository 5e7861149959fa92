"""Activations and losses at NaN, infinities and zeros, as PyTorch 2.13 gives them.

torch's pointwise kernels test for the replaced piece (``x <= threshold``...), so a NaN
input stays NaN and passes its gradient through; its losses have dedicated gradients (smooth
L1's is ``clamp(d, -beta, beta) / beta``) that stay finite at infinite errors; and its
selecting backward passes (relu, clamp, where) drop an infinite or NaN incoming gradient
where they select nothing, which is what keeps ``lp_pool`` of zero windows finite. Each row
runs an expression on float64 tensors ``a``, ``b`` and backpropagates ones; the expected
output and input gradients (None: not connected) are torch's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F

inf, nan = math.inf, math.nan

CASES = {
    "threshold_nan": ("F.threshold(a, 0.5, 5.0)", [[nan, 0.2, 0.5, 2.0]]),
    "hardshrink_nan": ("F.hardshrink(a, 0.5)", [[nan, 0.2, -0.5, -2.0]]),
    "softshrink_nan": ("F.softshrink(a, 0.5)", [[nan, 0.2, -0.5, -2.0]]),
    "hardtanh_nan": ("F.hardtanh(a)", [[nan, -1.0, 0.5, 1.0, 2.0]]),
    "relu6_nan": ("F.relu6(a)", [[nan, 0.0, 3.0, 6.0, 7.0]]),
    "elu_nan": ("F.elu(a)", [[nan, -1.0, 0.0, 2.0]]),
    "selu_nan": ("F.selu(a)", [[nan, -1.0, 2.0]]),
    "celu_nan": ("F.celu(a, 0.5)", [[nan, -1.0, 2.0]]),
    "lp_pool_zeros": ("F.lp_pool1d(a.reshape(1, 1, 4), 2, 2)", [[0.0, 0.0, 3.0, 4.0]]),
    "lp_pool_zero_window_p3": ("F.lp_pool1d(a.reshape(1, 1, 4), 3, 2)", [[0.0, -0.0, 1.0, 2.0]]),
    "smooth_l1_inf_nan": ("F.smooth_l1_loss(a, b, reduction='none')",
                          [[inf, -inf, nan, 0.5, 3.0, 1.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]),
    "smooth_l1_beta": ("F.smooth_l1_loss(a, b, beta=0.5)", [[0.2, -3.0, 0.5], [0.0, 0.0, 0.0]]),
    "huber_inf_nan": ("F.huber_loss(a, b, reduction='none', delta=2.0)",
                      [[inf, -inf, nan, 0.5, 3.0, 2.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]),
    "hinge_embedding_inf": ("F.hinge_embedding_loss(a, b, reduction='none')",
                            [[inf, -inf, inf, -inf, 0.3], [1.0, 1.0, -1.0, -1.0, -1.0]]),
    "relu_then_lp_pool": ("F.lp_pool1d(m.relu(a).reshape(1, 1, 4), 2, 2)",
                          [[-1.0, -2.0, 3.0, 4.0]]),
}

EXPECTED = {
    "threshold_nan": [[nan, 5.0, 5.0, 2.0], [1.0, 0.0, 0.0, 1.0]],
    "hardshrink_nan": [[nan, 0.0, 0.0, -2.0], [1.0, 0.0, 0.0, 1.0]],
    "softshrink_nan": [[nan, 0.0, -0.0, -1.5], [1.0, 0.0, 0.0, 1.0]],
    "hardtanh_nan": [[nan, -1.0, 0.5, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0]],
    "relu6_nan": [[nan, 0.0, 3.0, 6.0, 6.0], [1.0, 0.0, 1.0, 0.0, 0.0]],
    "elu_nan": [[nan, -0.6321205588285577, 0.0, 2.0], [1.0, 0.36787944117144233, 1.0, 1.0]],
    "selu_nan": [[nan, -1.1113307378125625, 2.101401974710961],
                 [1.0507009873554805, 0.646768603034814, 1.0507009873554805]],
    "celu_nan": [[nan, -0.43233235838169365, 2.0], [1.0, 0.1353352832366127, 1.0]],
    "lp_pool_zeros": [[[[0.0, 5.0]]], [0.0, 0.0, 0.6000000000000001, 0.8]],
    "lp_pool_zero_window_p3": [[[[0.0, 2.080083823051904]]],
                               [0.0, 0.0, 0.23112042478354483, 0.9244816991341793]],
    "smooth_l1_inf_nan": [[inf, inf, nan, 0.125, 2.5, 0.5], [1.0, -1.0, nan, 0.5, 1.0, 1.0],
                          [-1.0, 1.0, nan, -0.5, -1.0, -1.0]],
    "smooth_l1_beta": [1.0133333333333334,
                       [0.13333333333333333, -0.3333333333333333, 0.3333333333333333],
                       [-0.13333333333333333, 0.3333333333333333, -0.3333333333333333]],
    "huber_inf_nan": [[inf, inf, nan, 0.125, 4.0, 2.0], [2.0, -2.0, nan, 0.5, 2.0, 2.0],
                      [-2.0, 2.0, nan, -0.5, -2.0, -2.0]],
    "hinge_embedding_inf": [[inf, -inf, 0.0, inf, 0.7], [1.0, 1.0, 0.0, -1.0, -1.0], None],
    "relu_then_lp_pool": [[[[0.0, 5.0]]], [0.0, 0.0, 0.6000000000000001, 0.8]],
}


def _run(expr, inputs):
    tensors = [flambeau.tensor(v, dtype=flambeau.float64, requires_grad=True) for v in inputs]
    y = eval(expr, dict(zip("ab", tensors), m=flambeau, F=F))  # noqa: S307 - this file's own
    y.backward(flambeau.ones_like(y))
    return [y.detach().cpu().numpy()] + [None if t.grad is None else t.grad.cpu().numpy()
                                         for t in tensors]


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradients_at_nan_and_infinities(name):
    got = _run(*CASES[name])
    want = EXPECTED[name]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g)
            continue
        np.testing.assert_allclose(g, np.asarray(w, dtype=np.float64), rtol=1e-6, atol=1e-12,
                                   equal_nan=True)


def test_expectations_are_torchs():
    torch = pytest.importorskip("torch")
    for name, (expr, inputs) in CASES.items():
        ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
        y = eval(expr, dict(zip("ab", ts), m=torch, F=torch.nn.functional))  # noqa: S307
        y.backward(torch.ones_like(y))
        for g, w in zip([y.detach()] + [t.grad for t in ts], EXPECTED[name]):
            assert (g is None) == (w is None)
            if w is not None:
                np.testing.assert_allclose(g.numpy(), w, rtol=1e-6, atol=1e-12, equal_nan=True)


def test_prelu_of_a_one_dimensional_input_has_one_channel():
    # torch: below two dimensions there is no channel dimension, so one weight
    x = -flambeau.ones(5)
    assert F.prelu(x, flambeau.tensor([0.1])).tolist() == pytest.approx([-0.1] * 5)
    with pytest.raises(RuntimeError, match="weight has 5 values, input shape \\(5,\\) has 1"):
        F.prelu(x, flambeau.full((5,), 0.1))

"""The shrink and threshold activations' first gradients are part of the graph, as torch's
(``HardshrinkBackwardBackward0``...): a gradient of them reaches the input, with zeros."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F

X = [0.7, -1.3, 2.5, 0.2, -0.4]

CASES = {
    "hardshrink": lambda F, x: F.hardshrink(x, 0.5),
    "softshrink": lambda F, x: F.softshrink(x, 0.5),
    "threshold": lambda F, x: F.threshold(x, 0.5, -2.0),
    "hardtanh": lambda F, x: F.hardtanh(x),
    "relu": lambda F, x: F.relu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.1),
}


def _chain(L, F, fn):
    x = L.tensor(X, dtype=L.float64, requires_grad=True)
    w = L.tensor([1.5, -0.5, 2.0, 0.25, 3.0], dtype=L.float64)
    (g,) = L.autograd.grad((fn(F, x) * w).sum(), x, create_graph=True)
    (gg,) = L.autograd.grad((g * g).sum(), x, allow_unused=True)
    return g, gg


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_gradient_is_a_function_of_the_input_as_torch(case):
    torch = pytest.importorskip("torch")
    ours, our_gg = _chain(flambeau, F, CASES[case])
    theirs, their_gg = _chain(torch, torch.nn.functional, CASES[case])
    np.testing.assert_array_equal(ours.detach().cpu().numpy(), theirs.detach().numpy())
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
    assert ours.grad_fn.next_functions[1][0] is not None  # the input's node
    np.testing.assert_array_equal(our_gg.cpu().numpy(), their_gg.numpy())


def test_hardshrink_gradient_of_the_gradient_is_zeros_not_unused():
    x = flambeau.tensor([0.7, -0.2], dtype=flambeau.float64, requires_grad=True)
    (g,) = flambeau.autograd.grad(F.hardshrink(x, 0.5).sum(), x, create_graph=True)
    assert type(g.grad_fn).__name__ == "HardshrinkBackwardBackward0"
    (gg,) = flambeau.autograd.grad(g.sum(), x)
    assert gg.cpu().numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradgradcheck(case):
    # away from the kinks, where the finite differences are those of the smooth pieces
    x = flambeau.tensor(X, dtype=flambeau.float64, requires_grad=True)
    assert flambeau.autograd.gradgradcheck(lambda t: CASES[case](F, t) * t, (x,))

"""Ops whose derivative is a step function of an input (fmod, remainder, copysign, relu):
their first gradient is part of the graph, as torch's, so that differentiating it again
(``create_graph=True`` chains, gradient penalties) reaches the inputs with torch's zeros (NaN
for copysign at 0), not "unused" or no graph at all."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau

X = [0.7, -1.3, 2.5, 0.0]
Y = [0.3, 0.5, -0.9, 1.5]

CASES = {
    "fmod": (lambda L, x, y: L.fmod(x, y), 2),
    "fmod_by_number": (lambda L, x, y: L.fmod(x, 0.3), 1),
    "remainder": (lambda L, x, y: L.remainder(x, y), 2),
    "remainder_by_number": (lambda L, x, y: L.remainder(x, -0.4), 1),
    "copysign": (lambda L, x, y: L.copysign(x, y), 2),
    "copysign_by_number": (lambda L, x, y: L.copysign(x, -1.0), 1),
    "relu": (lambda L, x, y: L.relu(x), 1),
}


def _chain(L, fn, n):
    """The first gradients of ``fn`` (a graph of them), and for each the gradients of its
    sum with respect to the inputs (None where it has no graph; None entries unused)."""
    x = L.tensor(X, dtype=L.float64, requires_grad=True)
    y = L.tensor(Y, dtype=L.float64, requires_grad=True)
    inputs = (x, y)[:n]
    w = L.tensor([1.5, -0.5, 2.0, 0.25], dtype=L.float64)
    firsts = L.autograd.grad((fn(L, x, y) * w).sum(), inputs, create_graph=True)
    seconds = []
    for g in firsts:
        if not g.requires_grad:
            seconds.append(None)
            continue
        gg = L.autograd.grad(g.sum(), inputs, allow_unused=True)
        seconds.append([None if t is None else t.detach().cpu().numpy() for t in gg])
    return firsts, seconds


@pytest.mark.parametrize("case", sorted(CASES))
def test_second_gradients_match_torch(case):
    torch = pytest.importorskip("torch")
    fn, n = CASES[case]
    ours, our_seconds = _chain(flambeau, fn, n)
    theirs, their_seconds = _chain(torch, fn, n)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().numpy())
        assert a.requires_grad == b.requires_grad
        if b.grad_fn is not None:
            assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
    for a, b in zip(our_seconds, their_seconds):
        assert (a is None) == (b is None)
        for u, v in zip(a or (), b or ()):
            assert (u is None) == (v is None)
            if u is not None:
                np.testing.assert_array_equal(u, v)


def test_the_second_gradients_are_zeros_connected_to_the_inputs():
    x = flambeau.tensor([0.7, -1.3], dtype=flambeau.float64, requires_grad=True)
    y = flambeau.tensor([0.3, 0.5], dtype=flambeau.float64, requires_grad=True)
    _, gy = flambeau.autograd.grad(flambeau.fmod(x, y).sum(), (x, y), create_graph=True)
    assert type(gy.grad_fn).__name__ == "MulBackward0"  # -g * trunc(x / y), as torch's
    gx, gy2 = flambeau.autograd.grad(gy.sum(), (x, y))
    assert gx.cpu().numpy().tolist() == [0.0, 0.0] and gy2.cpu().numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("fn", [
    lambda x, y: flambeau.fmod(x, y),
    lambda x, y: flambeau.remainder(x, y),
    lambda x, y: flambeau.copysign(x, y),
    lambda x, y: flambeau.fmod(x, 0.3) * y,
    lambda x, y: flambeau.copysign(x, -1.0) * y,
    lambda x, y: flambeau.relu(x) * y,
])
def test_gradgradcheck(fn):
    # away from the steps, where the finite differences are those of the smooth pieces
    x = flambeau.tensor([0.7, -1.3, 2.45], dtype=flambeau.float64, requires_grad=True)
    y = flambeau.tensor([0.4, 0.55, -0.9], dtype=flambeau.float64, requires_grad=True)
    assert flambeau.autograd.gradgradcheck(fn, (x, y))


def test_gradcheck_checks_the_outputs_that_require_grad():
    # as torch's: an output that is no function of the inputs is left out
    x = flambeau.tensor([0.7, -1.3], dtype=flambeau.float64, requires_grad=True)
    assert flambeau.autograd.gradcheck(lambda t: (t.detach() * 3, t * 2), (x,))
    with pytest.raises(flambeau.autograd.GradcheckError, match="mismatch for output 0 with"):
        flambeau.autograd.gradcheck(lambda t: (t.detach() * 3, t * 2 + t.detach()), (x,))

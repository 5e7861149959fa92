"""Softmaxes and logsumexp over empty dimensions, as torch's: found by a sweep of zero-size
inputs (they raised NumPy's "zero-size array to reduction operation maximum")."""

from __future__ import annotations

import pytest

import flambeau


@pytest.mark.parametrize("fn", [flambeau.softmax, flambeau.log_softmax])
@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0, 3), 1), ((2, 0, 4), 1)])
def test_softmaxes_of_empty_tensors_are_empty(fn, shape, dim):
    x = flambeau.zeros(shape, requires_grad=True)
    out = fn(x, dim)
    assert tuple(out.shape) == shape
    out.sum().backward()
    assert tuple(x.grad.shape) == shape


def test_logsumexp_of_nothing_is_minus_inf():
    x = flambeau.zeros(3, 0, requires_grad=True)
    assert flambeau.logsumexp(x, 1).tolist() == [float("-inf")] * 3
    assert flambeau.logsumexp(x, (0, 1)).item() == float("-inf")
    assert tuple(flambeau.logsumexp(flambeau.zeros(0, 3), 1).shape) == (0,)
    flambeau.logsumexp(x, 1).sum().backward()
    assert tuple(x.grad.shape) == (3, 0)

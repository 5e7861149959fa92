"""``t.grad = g`` checks what torch checks: a Tensor or None, of ``t``'s size, dtype and
device; ``del t.grad`` clears it. The tensor keeps its old gradient on a refusal."""

from __future__ import annotations

import pytest

import flambeau


@pytest.mark.parametrize(("value", "exc", "match"), [
    (lambda: flambeau.ones(3), RuntimeError,
     r"gradient of size '\[3\]' to a tensor of size '\[2\]'"),
    (lambda: flambeau.ones(2, dtype=flambeau.float64), RuntimeError,
     "gradient with dtype 'flambeau.float64' to a tensor with dtype 'flambeau.float32'"),
    (lambda: flambeau.ones(2, dtype=flambeau.int64), RuntimeError,
     "must match the tensor's dtype"),
    (lambda: 5, TypeError,
     "assigned grad expected to be a Tensor or None but got grad of type int"),
    (lambda: [1.0, 2.0], TypeError, "got grad of type list"),
])
def test_bad_assignments_are_refused(value, exc, match):
    x = flambeau.ones(2, requires_grad=True)
    x.grad = flambeau.full((2,), 7.0)
    with pytest.raises(exc, match=match):
        x.grad = value()
    assert x.grad.tolist() == [7.0, 7.0]


def test_assign_read_and_delete():
    x = flambeau.ones(2, requires_grad=True)
    g = flambeau.tensor([1.0, 2.0])
    x.grad = g
    assert x.grad is g
    del x.grad
    assert x.grad is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    assert x.grad is None


def test_parameters_check_too():
    nn = pytest.importorskip("flambeau.nn")
    p = nn.Parameter(flambeau.ones(2, 2))
    with pytest.raises(RuntimeError, match="same size"):
        p.grad = flambeau.ones(4)
    p.grad = flambeau.zeros(2, 2)
    assert p.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]

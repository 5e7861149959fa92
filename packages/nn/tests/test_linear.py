"""Identity, Linear, Bilinear, Flatten, Unflatten: parity, gradcheck, init, errors."""

import math

import numpy as np
import pytest
from _helpers_a import compare_module

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck


def _randn(*shape, dtype=flambeau.float32, seed=0):
    rng = np.random.default_rng(seed)
    return flambeau.tensor(rng.standard_normal(shape), dtype=dtype)


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(shape, bias):
    torch = pytest.importorskip("torch")
    compare_module(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), _randn(*shape))


@pytest.mark.parity
def test_bilinear_flatten_parity():
    torch = pytest.importorskip("torch")
    compare_module(nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4), _randn(5, 3),
                   _randn(5, 2, seed=1))
    compare_module(nn.Bilinear(3, 2, 4, bias=False), torch.nn.Bilinear(3, 2, 4, bias=False),
                   _randn(2, 5, 3), _randn(2, 5, 2, seed=1))
    compare_module(nn.Flatten(), torch.nn.Flatten(), _randn(2, 3, 4))
    compare_module(nn.Flatten(0, 1), torch.nn.Flatten(0, 1), _randn(2, 3, 4))
    compare_module(nn.Unflatten(1, (2, 6)), torch.nn.Unflatten(1, (2, 6)), _randn(3, 12))
    for f, t in ((nn.Flatten(), torch.nn.Flatten()),
                 (nn.Unflatten(1, (2, 6)), torch.nn.Unflatten(1, (2, 6))),
                 (nn.Identity(), torch.nn.Identity())):
        assert repr(f) == repr(t)


def test_linear_gradcheck():
    m = nn.Linear(3, 2).double()
    x = _randn(4, 3, dtype=flambeau.float64).requires_grad_()
    assert gradcheck(lambda x, w, b: m(x), (x, m.weight, m.bias))
    x3 = _randn(2, 2, 3, dtype=flambeau.float64).requires_grad_()
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x3, m.weight, m.bias))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), (x, m.weight, m.bias))


@pytest.mark.parametrize("bias_shape", [(1,), (), (4, 1), (4, 2), (3, 4, 2), (1, 1, 2)])
def test_linear_bias_that_expands_to_the_output(bias_shape):
    # torch adds any bias that expands to the output shape (4, 2) or (3, 4, 2)
    x = _randn(3, 4, 3, dtype=flambeau.float64).requires_grad_()
    w = _randn(2, 3, dtype=flambeau.float64, seed=1).requires_grad_()
    b = _randn(*bias_shape, dtype=flambeau.float64, seed=2).requires_grad_()
    out = F.linear(x, w, b)
    expected = (x.detach().cpu().numpy() @ w.detach().cpu().numpy().T) + b.detach().cpu().numpy()
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-12)
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))


def test_linear_bias_that_would_grow_the_output_is_an_error():
    with pytest.raises(RuntimeError, match=r"linear: bias of shape \(3, 2\) does not match "
                                           r"weight shape \(2, 3\).*output's \(4, 2\)"):
        F.linear(flambeau.ones(4, 3), flambeau.ones(2, 3), flambeau.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"bias of shape \(2, 4, 2\)"):
        F.linear(flambeau.ones(4, 3), flambeau.ones(2, 3), flambeau.ones(2, 4, 2))


def test_bilinear_gradcheck():
    m = nn.Bilinear(2, 3, 2).double()
    x1 = _randn(3, 2, dtype=flambeau.float64).requires_grad_()
    x2 = _randn(3, 3, dtype=flambeau.float64, seed=1).requires_grad_()
    assert gradcheck(lambda a, b, w, c: m(a, b), (x1, x2, m.weight, m.bias))


def test_linear_default_init_bounds_and_reproducible():
    flambeau.manual_seed(0)
    m = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) gives the same bound
    w, b = m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.1)
    flambeau.manual_seed(0)
    assert (nn.Linear(50, 40).weight == m.weight).all()


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"Linear expected input with 4 features.*got 3 "
                                           r"\(input shape \(2, 3\)\)"):
        nn.Linear(4, 2)(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(2, 2)(flambeau.ones(1, 2, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match="incompatible"):
        F.linear(flambeau.ones(2, 3), flambeau.ones(2, 2))
    with pytest.raises(RuntimeError, match="Bilinear expected input2 with 3 features"):
        nn.Bilinear(2, 3, 1)(flambeau.ones(1, 2), flambeau.ones(1, 2))
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 4)


def test_identity_passes_through():
    x = flambeau.ones(2)
    assert nn.Identity(3, k=1)(x) is x

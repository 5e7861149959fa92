"""The NumPy backend's named kernels equal the generic NumPy code they replace, to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.backends import _numpy_kernels as K


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 12), width=st.sampled_from([(), (1,), (3,), (2, 3)]),
       count=st.integers(0, 40), dtype=st.sampled_from([np.float32, np.float64, np.int64]),
       seed=st.integers(0, 2**16), repeats=st.integers(1, 12))
def test_index_add_at_equals_numpy_add_at(rows, width, count, dtype, seed, repeats):
    rng = np.random.default_rng(seed)
    index = rng.integers(-rows, rows, count)
    if count and repeats > 1:  # one index many times: past the rounds limit too
        index[: min(count, repeats)] = index[0]
    values = (rng.standard_normal((count,) + width) * 100).astype(dtype)
    start = (rng.standard_normal((rows,) + width) * 100).astype(dtype)
    got, want = start.copy(), start.copy()
    K.index_add_at(got, index, values)
    np.add.at(want, index, values)
    np.testing.assert_array_equal(got, want)


def test_advanced_index_backward_accumulates_repeated_rows():
    weight = flambeau.randn(50, 4, requires_grad=True)
    idx = flambeau.tensor([[3, 7, 3], [49, 3, 0]])
    weight[idx].sum().backward()  # an embedding lookup: the backward scatters rows
    counts = np.bincount(idx.cpu().numpy().ravel(), minlength=50)
    np.testing.assert_array_equal(weight.grad.cpu().numpy(), np.repeat(counts[:, None], 4, 1))


def test_own_erf_is_double_precision_everywhere():
    import math

    from flambeau._ops._erf import erf

    x = np.concatenate([np.linspace(-30, 30, 6001), np.linspace(-1e-6, 1e-6, 101),
                        [0.46875, -0.46875, 4.0, -4.0, 26.6, 1e-300, -0.0]])
    want = np.array([math.erf(v) for v in x])
    got = erf(x)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-300)
    assert np.array_equal(erf(np.array([np.inf, -np.inf])), [1.0, -1.0])
    assert np.isnan(erf(np.array([np.nan]))[0])
    assert erf(np.array(0.5)).shape == ()


def test_erf_without_scipy_uses_the_own_kernel(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("no scipy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    x = flambeau.tensor(np.linspace(-5, 5, 101))
    np.testing.assert_allclose(flambeau.erf(x).cpu().numpy(),
                               [__import__("math").erf(v) for v in x.tolist()], rtol=1e-15)


def test_relu_backward_kernel_equals_the_generic_select():
    """The product with the mask gives the generic gradient (torch's ``threshold_backward``:
    0 where the output is <= 0, the gradient where it is positive or NaN); gradients with inf
    or NaN, small or non-float arrays are declined."""
    from flambeau._ops._select import select

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64, np.float16):
        out = np.maximum(rng.standard_normal(1 << 15), 0).astype(dtype)
        out[:3] = [np.nan, 0.0, -0.0]
        g = rng.standard_normal(out.shape).astype(dtype)
        got = K.relu_backward_from_output(g, out)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, select(np, out <= 0, 0, g))
        assert got[0] == g[0] and got[1] == got[2] == 0
        assert not np.signbit(got[out <= 0]).any()  # +0.0 as torch's, never g * 0 = -0.0
        g[5] = np.inf
        assert K.relu_backward_from_output(g, out) is None
    assert K.relu_backward_from_output(np.ones(8), np.ones(8)) is None
    assert K.relu_backward_from_output(np.ones(1 << 15, np.int64), np.ones(1 << 15)) is None


def test_relu_gradient_matches_torch_on_large_inputs():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((8, 64, 64)).astype(np.float32)
    a[0, 0, :3] = [np.nan, 0.0, -1.0]
    x = flambeau.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    w = np.random.default_rng(5).standard_normal(a.shape).astype(np.float32)
    (flambeau.relu(x) * flambeau.tensor(w)).sum().backward()
    (torch.relu(t) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), t.grad.numpy())
    # equal arrays may still differ in the sign of zeros (printed as -0.)
    np.testing.assert_array_equal(np.signbit(x.grad.cpu().numpy()), np.signbit(t.grad.numpy()))

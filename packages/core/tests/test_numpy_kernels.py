"""The NumPy backend's named kernels equal the generic NumPy code they replace, to the bit."""

from __future__ import annotations

import numpy as np
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

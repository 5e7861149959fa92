"""Branch-free ``where``: bit-exact against ``numpy.where`` for every dtype and broadcast."""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import flambeau
from flambeau._ops import _select
from flambeau._ops._select import select

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int32, np.int64,
          np.uint8, np.bool_]


@pytest.fixture(autouse=True)
def bit_path_for_small_arrays(monkeypatch):
    monkeypatch.setattr(_select, "_MIN_SIZE", 0)


@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16), scalar=st.booleans())
def test_select_equals_numpy_where(shapes, dtype, seed, scalar):
    rng = np.random.default_rng(seed)
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = rng.random(cond_shape) < 0.5
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 1.5, -2.0, 0.0, 7.0])
    a = rng.choice(values, a_shape).astype(dtype) if np.dtype(dtype).kind in "fV" else (
        rng.integers(0, 100, a_shape).astype(dtype))
    b = 3.0 if scalar else rng.choice(values, b_shape).astype(dtype) if (
        np.dtype(dtype).kind in "fV") else rng.integers(0, 100, b_shape).astype(dtype)
    if scalar and np.dtype(dtype).kind not in "fV":
        b = 3
    got, want = select(np, cond, a, b), np.where(cond, a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    as_bytes = lambda arr: np.ascontiguousarray(arr).reshape(-1).view(np.uint8)  # noqa: E731
    np.testing.assert_array_equal(as_bytes(got), as_bytes(want))


def test_where_and_sigmoid_on_large_arrays():
    x = flambeau.tensor(np.linspace(-200.0, 200.0, 1 << 15, dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp overflowing to inf in sigmoid is intended
        s = flambeau.sigmoid(x).cpu().numpy()
    assert s[0] == 0.0 and s[-1] == 1.0 and np.all(np.diff(s) >= 0)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x.cpu().numpy().astype(np.float64))), atol=1e-7)
    w = flambeau.where(x > 0, x, x * 0.01).cpu().numpy()
    np.testing.assert_array_equal(w, np.where(x.cpu().numpy() > 0, x.cpu().numpy(),
                                              x.cpu().numpy() * 0.01))

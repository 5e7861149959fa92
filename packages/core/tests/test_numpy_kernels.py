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
    counts = np.bincount(idx.numpy().ravel(), minlength=50)
    np.testing.assert_array_equal(weight.grad.numpy(), np.repeat(counts[:, None], 4, 1))

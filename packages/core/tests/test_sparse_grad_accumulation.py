"""Two sparse gradients of one tensor in one backward (a sparse matrix, or an
nn.Embedding(sparse=True), used twice) are added as torch adds them: the engine's in-place
accumulation is for dense buffers; a sparse one raised SparseUnsupported (found by the
skip-gram program of vision's tests/programs)."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau

pytestmark = pytest.mark.usefixtures("cpu_default")


def _used_twice(lib):
    indices = lib.tensor([[0, 1, 2], [1, 0, 2]])
    s = lib.sparse_coo_tensor(indices, lib.tensor([0.5, 0.5, 1.0]), (3, 3))
    s = s.coalesce().requires_grad_()
    d1, d2 = lib.arange(6.0).reshape(3, 2), lib.ones(3, 2)
    (lib.sparse.mm(s, d1).sum() + lib.sparse.mm(s, d2).pow(2).sum()).backward()
    return s.grad


def test_a_sparse_tensor_used_twice_gets_the_sum_of_both_gradients():
    grad = _used_twice(flambeau)
    assert grad.is_sparse
    # d/ds of sum(s @ d1) is d1's row sums; of sum((s @ d2)^2) it is 2 (s @ d2) d2^T
    s = np.array([[0, 0.5, 0], [0.5, 0, 0], [0, 0, 1.0]])
    d1, d2 = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    expected = np.ones((3, 2)) @ d1.T + 2 * (s @ d2) @ d2.T
    dense = grad.to_dense().cpu().numpy()
    np.testing.assert_allclose(dense, np.where(s != 0, expected, 0.0), rtol=1e-6)


@pytest.mark.parity
def test_sparse_gradients_used_twice_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _used_twice(flambeau).coalesce(), _used_twice(torch).coalesce()
    np.testing.assert_array_equal(ours.indices().cpu().numpy(), theirs.indices().numpy())
    np.testing.assert_allclose(ours.values().cpu().numpy(), theirs.values().numpy(), rtol=1e-6)

"""torch's cosine_similarity and pairwise_distance are C functions: its argument parser takes
NumPy's ``axis=``/``keepdims=`` for their ``dim``/``keepdim``, as for core's ops."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F

A = [[1.0, 0.0, 2.0], [1.0, 2.0, -1.0]]
B = [[1.0, 1.0, 0.5], [0.0, 1.0, 3.0]]

CALLS = {
    "cosine_axis": lambda lib, f, a, b: f.cosine_similarity(a, b, axis=0),
    "cosine_toplevel_axis": lambda lib, f, a, b: lib.cosine_similarity(a, b, axis=0),
    "pairwise_keepdims": lambda lib, f, a, b: f.pairwise_distance(a, b, keepdims=True),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_aliases_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = CALLS[name](flambeau, F, flambeau.tensor(A), flambeau.tensor(B))
    theirs = CALLS[name](torch, torch.nn.functional, torch.tensor(A), torch.tensor(B))
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-6)


def test_alias_means_the_parameter():
    a, b = flambeau.tensor(A), flambeau.tensor(B)
    np.testing.assert_array_equal(F.cosine_similarity(a, b, axis=0).cpu().numpy(),
                                  F.cosine_similarity(a, b, dim=0).cpu().numpy())
    assert F.pairwise_distance(a, b, keepdims=True).shape == (2, 1)


def test_dim_and_axis_together_is_an_error():
    a = flambeau.tensor(A)
    with pytest.raises(TypeError, match="got both 'dim' and its alias 'axis'"):
        F.cosine_similarity(a, a, 1, axis=1)

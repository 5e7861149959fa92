"""isclose / allclose / equal against NumPy's definitions and torch's results."""

import numpy as np
import pytest

import flambeau


def test_isclose_matches_numpy_including_nan():
    a = np.array([1.0, 2.0, np.nan, 1e-9, np.inf], dtype=np.float64)
    b = np.array([1.0 + 1e-9, 2.1, np.nan, 0.0, np.inf], dtype=np.float64)
    for equal_nan in (False, True):
        got = flambeau.isclose(flambeau.tensor(a), flambeau.tensor(b), equal_nan=equal_nan)
        assert got.tolist() == np.isclose(a, b, equal_nan=equal_nan).tolist()


def test_allclose_and_equal():
    x = flambeau.tensor([1.0, 2.0])
    assert flambeau.allclose(x, x + 1e-7) and not flambeau.allclose(x, x + 1e-3)
    assert x.allclose(x) is True
    assert flambeau.equal(x, x.clone()) and not flambeau.equal(x, flambeau.tensor([1.0]))
    assert not flambeau.equal(x, flambeau.tensor([1.0, 3.0]))


@pytest.mark.parity
def test_isclose_parity_with_torch():
    torch = pytest.importorskip("torch")
    a = np.array([1.0, 1.00001, 100.0, 0.0], dtype=np.float32)
    b = np.array([1.0, 1.0, 100.001, 1e-9], dtype=np.float32)
    ours = flambeau.isclose(flambeau.tensor(a), flambeau.tensor(b), rtol=1e-5, atol=1e-8)
    theirs = torch.isclose(torch.tensor(a), torch.tensor(b), rtol=1e-5, atol=1e-8)
    assert ours.tolist() == theirs.tolist()

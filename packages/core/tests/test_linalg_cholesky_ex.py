"""linalg.cholesky_ex on batches of singular / not positive-definite matrices, against torch.

LAPACK decides which matrices fail: a batch where the recomputation of the failing minor
rounds the other way than LAPACK used to raise NumPy's LinAlgError instead of reporting
``info``. Matrices whose pivots are small integers fail at the same minor in every LAPACK
(exact arithmetic), so their ``info`` is compared with torch's exactly; matrices at the
edge of singularity (rank-deficient products) are compared with LAPACK's own verdict on each
matrix alone, as torch does with its LAPACK.
"""

import re

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity


def _rank_deficient(n, count=12, seed=0):
    """``count`` products ``B B^T`` of rank ``n - 1``: positive semi-definite, singular, so
    LAPACK's verdict on each depends on rounding."""
    b = np.random.default_rng(seed).standard_normal((count, n, n - 1))
    return b @ b.transpose(0, 2, 1)


def _pivoted(pivots, seed):
    """``L D L^T`` for a unit lower-triangular integer ``L`` and ``D = diag(pivots)``: the
    Cholesky recurrence meets exactly ``pivots`` (small integers: no rounding)."""
    n = len(pivots)
    low = np.tril(np.random.default_rng(seed).integers(-2, 3, (n, n)), -1) + np.eye(n)
    return low @ np.diag(np.asarray(pivots, dtype=np.float64)) @ low.T


def _exact_batch():
    """13 matrices of order 4: positive-definite, or failing at a known minor (1 to 4)."""
    pivots = [[1, 1, 1, 1], [0, 1, 1, 1], [1, -1, 1, 1], [1, 1, 0, 1], [1, 1, 1, -4],
              [4, 1, 1, 1], [1, 0, 0, 0], [1, 1, -1, -1], [9, 4, 1, 1], [1, 1, 1, 0],
              [-1, 1, 1, 1], [1, 4, 0, 1], [1, 1, 1, 1]]
    return np.stack([_pivoted(p, seed) for seed, p in enumerate(pivots)])


def _lapack_info(a):
    """LAPACK's info for one matrix: the order of the first leading minor it refuses."""
    for k in range(1, a.shape[-1] + 1):
        try:
            if np.isnan(np.linalg.cholesky(a[:k, :k])).any():
                return k
        except np.linalg.LinAlgError:
            return k
    return 0


@pytest.mark.parametrize("n", [3, 5, 8])
def test_batch_of_nearly_singular_matrices_reports_info(n):
    a = _rank_deficient(n)
    L, info = flambeau.linalg.cholesky_ex(flambeau.tensor(a, device="cpu"))
    expected = [_lapack_info(m) for m in a]
    assert info.dtype == flambeau.int32 and tuple(info.shape) == (12,)
    assert info.tolist() == expected
    assert 0 < sum(expected) < 12 * n  # some succeed, some fail: the case that raised
    # only the last minor is singular: torch (its LAPACK rounding aside) reports order n or 0
    assert set(torch.linalg.cholesky_ex(torch.tensor(a)).info.tolist()) <= {0, n}
    assert set(info.tolist()) <= {0, n}
    ok = np.asarray(expected) == 0
    np.testing.assert_allclose(L.numpy()[ok], np.linalg.cholesky(a[ok]), rtol=1e-12)


@pytest.mark.parametrize("n", [3, 5, 8])
def test_nearly_singular_batch_with_check_errors_raises_linalg_error(n):
    a = _rank_deficient(n)
    first = next(i for i, m in enumerate(a) if _lapack_info(m))
    with pytest.raises(flambeau.linalg.LinAlgError,
                       match=rf"linalg\.cholesky_ex: .*\(batch element {first}\): its leading "
                             rf"minor of order {n} is not positive-definite"):
        flambeau.linalg.cholesky_ex(flambeau.tensor(a, device="cpu"), check_errors=True)
    with pytest.raises(RuntimeError, match=rf"linalg\.cholesky: .*batch element {first}"):
        flambeau.linalg.cholesky(flambeau.tensor(a, device="cpu"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("upper", [False, True])
def test_info_matches_torch_on_exact_failures(dtype, upper):
    a = _exact_batch().astype(dtype)
    L, info = flambeau.linalg.cholesky_ex(flambeau.tensor(a, device="cpu"), upper=upper)
    tL, tinfo = torch.linalg.cholesky_ex(torch.tensor(a), upper=upper)
    assert tinfo.tolist() == [0, 1, 2, 3, 4, 0, 2, 3, 0, 4, 1, 3, 0]  # the pivots above
    assert info.tolist() == tinfo.tolist()
    assert info.dtype == flambeau.int32
    ok = tinfo.numpy() == 0
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(L.numpy()[ok], tL.numpy()[ok], rtol=tol, atol=tol)


def test_check_errors_matches_torch():
    a = _exact_batch()
    with pytest.raises(torch.linalg.LinAlgError) as caught:
        torch.linalg.cholesky_ex(torch.tensor(a), check_errors=True)
    element, order = map(int, re.search(r"Batch element (\d+)\).*order (\d+)",
                                        str(caught.value)).groups())
    with pytest.raises(flambeau.linalg.LinAlgError) as ours:
        flambeau.linalg.cholesky_ex(flambeau.tensor(a, device="cpu"), check_errors=True)
    assert isinstance(ours.value, RuntimeError)  # as torch's LinAlgError is
    assert (element, order) == (1, 1)
    assert f"(batch element {element})" in str(ours.value)
    assert f"leading minor of order {order} is not positive-definite" in str(ours.value)
    assert "shape (13, 4, 4)" in str(ours.value)
    # without failures, check_errors changes nothing
    good = flambeau.tensor(a[[0, 5, 8]], device="cpu")
    L, info = flambeau.linalg.cholesky_ex(good, check_errors=True)
    assert info.tolist() == [0, 0, 0]
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(a[[0, 5, 8]]), rtol=1e-12)


def test_nan_matrix_in_a_refused_batch_fails_as_in_torch():
    # a NaN pivot fails (reference LAPACK's check), next to a matrix LAPACK refuses
    a = np.stack([np.eye(3), -np.eye(3), np.eye(3)])
    a[2, 1, 1] = np.nan
    info = flambeau.linalg.cholesky_ex(flambeau.tensor(a, device="cpu")).info
    assert info.tolist() == torch.linalg.cholesky_ex(torch.tensor(a)).info.tolist() == [0, 1, 2]


def test_positive_definite_constraint_on_a_nearly_singular_batch():
    from flambeau.distributions import constraints

    a = _rank_deficient(5)
    check = constraints.positive_definite.check(flambeau.tensor(a, device="cpu"))
    assert check.tolist() == [_lapack_info(m) == 0 for m in a]

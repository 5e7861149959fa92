"""flambeau.lobpcg: extreme eigenpairs of symmetric (generalized) problems against
linalg.eigh and torch.lobpcg, dense, batched and sparse, both methods, the gradient of a dense
A against torch's and finite differences, the tracker, and every error."""

import numpy as np
import pytest

import flambeau
from flambeau.testing._harness import torch_or_none


def _spd(rng, m):
    """A symmetric positive definite matrix with well separated extreme eigenvalues."""
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return q @ np.diag(np.arange(1.0, m + 1) ** 1.5) @ q.T


def _check_pairs(E, X, a, b, k, largest, tol):
    """E, X solve A x = e B x, are B-orthonormal, and are the k extreme pairs."""
    E, X = E.cpu().numpy(), X.cpu().numpy()
    b = np.eye(a.shape[-1]) if b is None else b
    lb = np.linalg.cholesky(b)
    inv = np.linalg.inv(lb)
    want = np.linalg.eigvalsh(inv @ a @ inv.T)
    want = want[::-1][:k] if largest else want[:k]
    np.testing.assert_allclose(E, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(a @ X, b @ X * E, atol=tol * np.abs(want).max() * 10)
    np.testing.assert_allclose(X.T @ b @ X, np.eye(k), atol=10 * tol)


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("m,k", [(12, 1), (30, 3), (60, 2)])
def test_eigenpairs_match_eigh(method, largest, m, k):
    rng = np.random.default_rng(m + k)
    a = _spd(rng, m)
    E, X = flambeau.lobpcg(flambeau.tensor(a), k=k, largest=largest, method=method,
                           niter=-1)
    assert tuple(E.shape) == (k,) and tuple(X.shape) == (m, k)
    _check_pairs(E, X, a, None, k, largest, 1e-7)
    vals, vecs = flambeau.linalg.eigh(flambeau.tensor(a))
    vecs = vecs.cpu().numpy()[:, ::-1][:, :k] if largest else vecs.cpu().numpy()[:, :k]
    overlap = np.abs(np.sum(vecs * X.cpu().numpy(), axis=0))  # eigenvectors up to sign
    np.testing.assert_allclose(overlap, 1.0, atol=1e-7)


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
def test_generalized_problem_with_B(method, largest):
    rng = np.random.default_rng(3)
    a = _spd(rng, 24)
    c = rng.standard_normal((24, 24))
    b = c @ c.T / 24 + np.eye(24)
    E, X = flambeau.lobpcg(flambeau.tensor(a), k=2, B=flambeau.tensor(b), largest=largest,
                           method=method)
    _check_pairs(E, X, a, b, 2, largest, 1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_generalized_ortho_past_attainable_accuracy_stays_in_the_spectrum(seed):
    """With B and a tol the iteration cannot reach, the B-orthonormalized basis drifted
    from B S (its B image was carried through the coefficients, not recomputed): the Gram
    matrix said orthonormal when S^T B S was not, and Rayleigh-Ritz gave eigenvalues
    far outside the spectrum (1351 for a largest of 42) after a few hundred steps."""
    rng = np.random.default_rng(seed)
    m = 30
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    a = (q * np.logspace(0, 2, m)) @ q.T
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    b = (q * np.logspace(0, 1, m)) @ q.T
    for largest in (True, False):
        E, X = flambeau.lobpcg(flambeau.tensor(a), k=3, B=flambeau.tensor(b),
                               largest=largest, niter=300, tol=1e-12)
        _check_pairs(E, X, a, b, 3, largest, 1e-7)


def test_batched_float32_sparse_preconditioned_and_n():
    rng = np.random.default_rng(4)
    a = np.stack([_spd(rng, 20), 3 * _spd(rng, 20)])
    E, X = flambeau.lobpcg(flambeau.tensor(a), k=2, n=3)
    assert tuple(E.shape) == (2, 2) and tuple(X.shape) == (2, 20, 2)
    for i in range(2):
        _check_pairs(E[i], X[i], a[i], None, 2, True, 1e-7)
    E32, _ = flambeau.lobpcg(flambeau.tensor(a[0], dtype=flambeau.float32), k=2)
    assert E32.dtype == flambeau.float32
    np.testing.assert_allclose(E32.cpu().numpy(), E[0].cpu().numpy(), rtol=1e-3)
    S = flambeau.tensor(a[0], device="cpu").to_sparse()
    Es, Xs = flambeau.lobpcg(S, k=2, X=flambeau.tensor(rng.standard_normal((20, 2)),
                                                         device="cpu"))
    _check_pairs(Es, Xs, a[0], None, 2, True, 1e-7)
    iK = flambeau.tensor(np.diag(1 / np.diag(a[0])))  # a Jacobi preconditioner
    Ep, Xp = flambeau.lobpcg(flambeau.tensor(a[0]), k=2, iK=iK, largest=False)
    _check_pairs(Ep, Xp, a[0], None, 2, False, 1e-7)


def test_tracker_sees_the_iteration_and_can_stop_it():
    a = _spd(np.random.default_rng(5), 30)
    seen = []

    def tracker(worker):
        seen.append((worker.ivars["istep"], worker.ivars["converged_count"],
                     float(worker.tvars["rerr"].max()), tuple(worker.X.shape)))
        if worker.ivars["istep"] == 2:
            worker.bvars["force_stop"] = True

    flambeau.lobpcg(flambeau.tensor(a), k=2, tracker=tracker)
    assert [s[0] for s in seen] == [0, 1, 2] and all(s[3] == (30, 2) for s in seen)
    assert seen[0][2] > seen[2][2]  # the residuals shrink
    steps = []
    flambeau.lobpcg(flambeau.tensor(a), k=2, niter=3, tracker=lambda w: steps.append(1))
    assert len(steps) == 3


@pytest.mark.parity
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("method", ["ortho", "basic"])
def test_values_parity_with_torch(largest, method):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(8)
    a, x0 = _spd(rng, 40), rng.standard_normal((40, 3))
    E, X = flambeau.lobpcg(flambeau.tensor(a), k=3, X=flambeau.tensor(x0), largest=largest,
                           method=method)
    TE, TX = torch.lobpcg(torch.tensor(a), k=3, X=torch.tensor(x0), largest=largest,
                          method=method)
    np.testing.assert_allclose(E.cpu().numpy(), TE.numpy(), rtol=1e-8)
    np.testing.assert_allclose(np.abs(X.cpu().numpy()), np.abs(TX.numpy()), atol=1e-5)


def test_basic_method_fails_with_a_clear_error_past_its_accuracy():
    """method="basic" projects on a basis that becomes dependent near convergence (as
    torch's documentation warns): asked for more than it can resolve, it says so."""
    rng = np.random.default_rng(6)
    a = _spd(rng, 15) + 0.01 * rng.standard_normal((15, 15))
    a = (a + a.T) / 2
    x0 = flambeau.tensor(rng.standard_normal((15, 2)))
    with pytest.raises(RuntimeError, match=r"^lobpcg: method='basic' failed: the Gram matrix "
                       r"of the basis \[X, W\] is singular .*; use method='ortho', or a "
                       r"looser tol$"):
        flambeau.lobpcg(flambeau.tensor(a), k=2, X=x0, method="basic", tol=1e-10)
    E, _ = flambeau.lobpcg(flambeau.tensor(a), k=2, X=x0, method="ortho", tol=1e-10)
    np.testing.assert_allclose(E.cpu().numpy(), np.linalg.eigvalsh(a)[::-1][:2], rtol=1e-10)


@pytest.mark.parity
@pytest.mark.parametrize("largest", [True, False])
def test_gradient_parity_with_torch(largest):
    """The gradient of a dense, not quite symmetric A (both symmetrize it) is torch's, and
    matches finite differences."""
    method = "ortho"
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(6)
    m = 15
    a = _spd(rng, m) + 0.01 * rng.standard_normal((m, m))
    x0 = rng.standard_normal((m, 2))
    gE, gX = rng.standard_normal(2), rng.standard_normal((m, 2))

    def loss(lib, E, X):  # eigenvectors are defined up to sign: a loss that does not see it
        return (E * lib.tensor(gE)).sum() + (X * X * lib.tensor(gX)).sum()

    A = flambeau.tensor(a, requires_grad=True)
    E, X = flambeau.lobpcg(A, k=2, X=flambeau.tensor(x0), largest=largest, method=method,
                           tol=1e-12)
    loss(flambeau, E, X).backward()
    TA = torch.tensor(a, requires_grad=True)
    TE, TX = torch.lobpcg(TA, k=2, X=torch.tensor(x0), largest=largest, method=method,
                          tol=1e-12)
    loss(torch, TE, TX).backward()
    np.testing.assert_allclose(E.detach().cpu().numpy(), TE.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(X.detach().cpu().numpy()), np.abs(TX.detach().numpy()),
                               atol=1e-8)
    np.testing.assert_allclose(A.grad.cpu().numpy(), TA.grad.numpy(), atol=1e-8)
    np.testing.assert_allclose(A.grad.cpu().numpy(), A.grad.cpu().numpy().T, atol=1e-12)
    d, h = rng.standard_normal((m, m)), 1e-6

    def f(M):
        e, x = flambeau.lobpcg(flambeau.tensor((M + M.T) / 2), k=2, X=flambeau.tensor(x0),
                               largest=largest, tol=1e-14)
        return float(loss(flambeau, e, x).item())

    fd = (f(a + h * d) - f(a - h * d)) / (2 * h)
    np.testing.assert_allclose((A.grad.cpu().numpy() * d).sum(), fd, rtol=1e-5)


def test_errors():
    A = flambeau.tensor(_spd(np.random.default_rng(7), 12))
    with pytest.raises(TypeError, match=r"^lobpcg: expected A to be a Tensor, got list$"):
        flambeau.lobpcg([[1.0]])
    with pytest.raises(ValueError, match=r"^lobpcg: A must be a square matrix or a batch of "
                       r"them, got shape \(12, 11\)$"):
        flambeau.lobpcg(A[:, :11])
    with pytest.raises(ValueError, match=r"^lobpcg: A and B must have the same shape, got "
                       r"\(12, 12\) and \(11, 11\)$"):
        flambeau.lobpcg(A, B=flambeau.eye(11, dtype=A.dtype))
    with pytest.raises(ValueError, match=r"^lobpcg: A and iK must have the same shape"):
        flambeau.lobpcg(A, iK=flambeau.eye(11, dtype=A.dtype))
    with pytest.raises(ValueError, match=r"^lobpcg: X of shape \(5, 2\) does not match A of "
                       r"shape \(12, 12\): expected \(12, 'n'\)$"):
        flambeau.lobpcg(A, X=flambeau.ones(5, 2, dtype=A.dtype))
    with pytest.raises(ValueError, match=r"^lobpcg: k=3 eigenpairs need at least as many "
                       r"columns in X, but X has n=2$"):
        flambeau.lobpcg(A, k=3, n=2)
    with pytest.raises(ValueError, match=r"^lobpcg: LOBPCG algorithm is not applicable when "
                       r"the number of A rows \(=12\) is smaller than 3 x the number of "
                       r"requested eigenpairs \(=5\)$"):
        flambeau.lobpcg(A, k=5)
    with pytest.raises(ValueError, match=r"^lobpcg: method must be 'ortho' or 'basic', got "
                       r"'lanczos'$"):
        flambeau.lobpcg(A, method="lanczos")
    with pytest.raises(ValueError, match=r"^lobpcg: complex A is not supported"):
        flambeau.lobpcg(A.to(flambeau.complex128))
    with pytest.raises(ValueError, match=r"^lobpcg: A must be a floating point tensor, got "
                       r"flambeau.int64$"):
        flambeau.lobpcg(flambeau.ones(12, 12, dtype=flambeau.int64))
    with pytest.raises(ValueError, match=r"^lobpcg: the backward does not support B != I"):
        flambeau.lobpcg(A.clone().requires_grad_(), B=flambeau.eye(12, dtype=A.dtype))
    with pytest.raises(RuntimeError, match=r"^lobpcg: the initial X of shape \(12, 2\) has "
                       r"linearly dependent columns; pass X of full column rank$"):
        flambeau.lobpcg(A, X=flambeau.ones(12, 2, dtype=A.dtype))
    with pytest.raises(RuntimeError, match=r"^lobpcg: the initial X of shape \(12, 2\) has "
                       r"linearly dependent columns"):
        flambeau.lobpcg(A, X=flambeau.ones(12, 2, dtype=A.dtype), method="basic")

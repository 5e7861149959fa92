"""geqrf, orgqr / linalg.householder_product, ormqr, svd_lowrank, pca_lowrank, LinAlgError,
and the recursive LU kernel against torch.

Gradients (gradcheck, gradgradcheck, torch parity) of householder_product and ormqr through
the harness; plain tests for geqrf's values against NumPy/torch, errors, edge cases (empty,
batched, 1x1, wide), the randomized factorizations against the exact SVD, and the error
class of singular inputs.
"""

import numpy as np
import pytest

import flambeau
from flambeau._ops import lu as lu_ops
from flambeau.testing._cases import OpCase, both, nograd
from flambeau.testing._harness import op_tests, torch_or_none

LA_TOL = {"float32": (1e-4, 1e-3), "float64": (1e-8, 1e-7)}


def _t(a, dtype=np.float64):
    return flambeau.tensor(np.asarray(a, dtype=dtype))


def _reflectors(rng, dt, *shape):
    """A geqrf-like ``(a, tau)``: random vectors below the diagonal and scales in (1, 2)
    (the range geqrf produces), so the products are smooth functions of both."""
    a = rng.standard_normal(shape) * 0.5
    k = min(shape[-2:])
    tau = rng.uniform(1.0, 2.0, shape[:-2] + (k,))
    return a.astype(dt), tau.astype(dt)


def _hh_samples(rng, dt):
    out = []
    for shape in [(3, 2), (2, 4, 3), (3, 3), (1, 1)]:
        a, tau = _reflectors(rng, dt, *shape)
        out.append((a, tau))
    a, tau = _reflectors(rng, dt, 4, 3)
    out.append((a, tau[:2]))  # fewer reflectors than columns
    return out


def _ormqr_samples(left):
    def samples(rng, dt):
        out = []
        for shape, cshape in [((3, 2), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 4), (2, 3)),
                              ((1, 1), (1, 2))]:
            a, tau = _reflectors(rng, dt, *shape)
            c = rng.standard_normal(cshape if left else cshape[:-2] + cshape[::-1][:2])
            out.append((a, tau, c.astype(dt)))
        return out

    return samples


def _case(name, f, inputs, **kw):
    kw.setdefault("tolerances", LA_TOL)
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


CASES = [
    _case("householder_product", lambda lib, a, t: lib.linalg.householder_product(a, t),
          _hh_samples),
    _case("orgqr", lambda lib, a, t: lib.orgqr(a, t), lambda rng, dt: _hh_samples(rng, dt)[:2]),
    _case("orgqr_method", lambda lib, a, t: a.orgqr(t), lambda rng, dt: _hh_samples(rng, dt)[:1]),
    _case("ormqr", lambda lib, a, t, c: lib.ormqr(a, t, c), _ormqr_samples(True)),
    _case("ormqr_transpose", lambda lib, a, t, c: lib.ormqr(a, t, c, transpose=True),
          _ormqr_samples(True)),
    _case("ormqr_right", lambda lib, a, t, c: lib.ormqr(a, t, c, left=False),
          lambda rng, dt: [(*_reflectors(rng, dt, 3, 2), rng.standard_normal((2, 3)).astype(dt)),
                           (*_reflectors(rng, dt, 2, 3, 3),
                            rng.standard_normal((2, 1, 3)).astype(dt))]),
    _case("ormqr_right_transpose",
          lambda lib, a, t, c: lib.ormqr(a, t, c, left=False, transpose=True),
          lambda rng, dt: [(*_reflectors(rng, dt, 3, 3), rng.standard_normal((2, 3)).astype(dt))]),
    _case("ormqr_method", lambda lib, a, t, c: a.ormqr(t, c),
          lambda rng, dt: [(*_reflectors(rng, dt, 3, 2), rng.standard_normal((3, 2)).astype(dt))]),
    _case("ormqr_only_other", lambda lib, a, t, c: lib.ormqr(a, t, c),
          lambda rng, dt: [(nograd(_reflectors(rng, dt, 3, 2)[0]),
                            nograd(_reflectors(rng, dt, 3, 2)[1]),
                            rng.standard_normal((3, 2)).astype(dt))]),
    _case("geqrf_then_ormqr", lambda lib, x, c: lib.ormqr(*lib.geqrf(x.detach()), c),
          lambda rng, dt: [(nograd(rng.standard_normal((4, 3)).astype(dt)),
                            rng.standard_normal((4, 2)).astype(dt))]),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


# ------------------------------------------------------------------ geqrf


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 1, 3, 5), (1, 1)])
def test_geqrf_reconstructs_and_matches_numpy(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    a, tau = flambeau.geqrf(_t(x))
    k = min(shape[-2:])
    assert a.shape == shape and tau.shape == shape[:-2] + (k,)
    h, t = np.linalg.qr(x, mode="raw")
    np.testing.assert_allclose(a.cpu().numpy(), np.swapaxes(h, -1, -2), atol=1e-12)
    np.testing.assert_allclose(tau.cpu().numpy(), t, atol=1e-12)
    m, n = shape[-2:]
    if m >= n:
        Q = flambeau.linalg.householder_product(a, tau)
        np.testing.assert_allclose((Q @ a.triu()[..., :n, :]).cpu().numpy(), x, atol=1e-12)
    full_q = flambeau.ormqr(a, tau, flambeau.eye(m, dtype=flambeau.float64).expand(
        *shape[:-2], m, m).contiguous())
    np.testing.assert_allclose((full_q @ a.triu()).cpu().numpy(), x, atol=1e-12)


def test_geqrf_parity_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for shape in [(5, 3), (3, 5), (2, 4, 4)]:
        for dt in (np.float32, np.float64):
            x = rng.standard_normal(shape).astype(dt)
            a, tau = flambeau.geqrf(flambeau.tensor(x))
            ta, ttau = torch.geqrf(torch.tensor(x))
            tol = 1e-5 if dt == np.float32 else 1e-12
            np.testing.assert_allclose(a.cpu().numpy(), ta.cpu().numpy(), atol=tol)
            np.testing.assert_allclose(tau.cpu().numpy(), ttau.cpu().numpy(), atol=tol)
            assert a.dtype == tau.dtype == flambeau.tensor(x).dtype


def test_geqrf_result_and_method_and_out():
    x = _t([[3.0, 1.0], [4.0, 2.0]])
    r = flambeau.geqrf(x)
    assert type(r).__name__ == "geqrf" and r._fields == ("a", "tau")
    np.testing.assert_allclose(r.a.cpu().numpy(), [[-5.0, -2.2], [0.5, 0.4]], atol=1e-12)
    np.testing.assert_allclose(r.tau.cpu().numpy(), [1.6, 0.0], atol=1e-12)
    m = x.geqrf()
    np.testing.assert_array_equal(m.a.cpu().numpy(), r.a.cpu().numpy())
    outs = (flambeau.empty(0, dtype=flambeau.float64), flambeau.empty(0, dtype=flambeau.float64))
    flambeau.geqrf(x, out=outs)
    np.testing.assert_array_equal(outs[0].cpu().numpy(), r.a.cpu().numpy())


def test_geqrf_is_not_differentiable():
    x = _t([[3.0, 1.0], [4.0, 2.0]]).requires_grad_()
    a, tau = flambeau.geqrf(x)
    with pytest.raises(RuntimeError, match="the derivative for 'geqrf' is not implemented"):
        a.sum().backward()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 0)])
def test_geqrf_empty(shape):
    a, tau = flambeau.geqrf(flambeau.zeros(*shape, dtype=flambeau.float64))
    assert a.shape == shape and tau.shape == shape[:-2] + (min(shape[-2:]),)


def test_geqrf_errors():
    with pytest.raises(RuntimeError, match=r"geqrf: expected input to have at least 2 dim"):
        flambeau.geqrf(flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"geqrf: expected a floating point tensor"):
        flambeau.geqrf(flambeau.ones(3, 3, dtype=flambeau.int64))
    with pytest.raises(TypeError, match="geqrf: expected input to be a Tensor"):
        flambeau.geqrf([[1.0]])


# ------------------------------------------------------------------ ormqr


def test_ormqr_values_against_dense_q():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 3))
    a, tau = flambeau.geqrf(_t(x))
    full = flambeau.ormqr(a, tau, flambeau.eye(4, dtype=flambeau.float64).expand(2, 4, 4)
                          .contiguous()).cpu().numpy()
    np.testing.assert_allclose(np.swapaxes(full, -1, -2) @ full,
                               np.broadcast_to(np.eye(4), (2, 4, 4)), atol=1e-12)
    c = rng.standard_normal((2, 4, 2))
    C = _t(c)
    np.testing.assert_allclose(flambeau.ormqr(a, tau, C).cpu().numpy(), full @ c, atol=1e-12)
    np.testing.assert_allclose(flambeau.ormqr(a, tau, C, transpose=True).cpu().numpy(),
                               np.swapaxes(full, -1, -2) @ c, atol=1e-12)
    d = rng.standard_normal((2, 3, 4))
    D = _t(d)
    np.testing.assert_allclose(flambeau.ormqr(a, tau, D, left=False).cpu().numpy(), d @ full,
                               atol=1e-12)
    np.testing.assert_allclose(flambeau.ormqr(a, tau, D, left=False, transpose=True).cpu().numpy(),
                               d @ np.swapaxes(full, -1, -2), atol=1e-12)


def test_ormqr_no_reflectors_is_identity():
    c = _t([[1.0, 2.0], [3.0, 4.0]])
    r = flambeau.ormqr(flambeau.zeros(2, 0, dtype=flambeau.float64),
                       flambeau.zeros(0, dtype=flambeau.float64), c)
    np.testing.assert_array_equal(r.cpu().numpy(), c.cpu().numpy())


def test_ormqr_errors():
    a, tau = flambeau.geqrf(flambeau.randn(4, 3, dtype=flambeau.float64))
    c = flambeau.randn(4, 2, dtype=flambeau.float64)
    with pytest.raises(RuntimeError, match=r"ormqr: other\.shape\[-2\] must be equal to "
                                           r"input\.shape\[-2\]"):
        flambeau.ormqr(a, tau, flambeau.randn(3, 2, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=r"ormqr: other\.shape\[-1\] must be equal to "
                                           r"input\.shape\[-2\]"):
        flambeau.ormqr(a, tau, flambeau.randn(4, 2, dtype=flambeau.float64), left=False)
    with pytest.raises(RuntimeError, match=r"ormqr: tau\.shape\[-1\] must be equal to "):
        flambeau.ormqr(a, tau[:2], c)
    with pytest.raises(RuntimeError, match="ormqr: expected input and other to have the same "
                                           "dtype"):
        flambeau.ormqr(a, tau, c.float())
    with pytest.raises(RuntimeError, match="ormqr: expected input to have at least 2 dim"):
        flambeau.ormqr(a[0], tau, c)
    with pytest.raises(RuntimeError, match="ormqr: expected tau to have one dimension less"):
        flambeau.ormqr(a, tau[None], c)
    with pytest.raises(RuntimeError, match="ormqr: the batch dims of input"):
        flambeau.ormqr(a.expand(2, 4, 3), tau.expand(2, 3), c)
    with pytest.raises(TypeError, match="ormqr: expected tau to be a Tensor"):
        flambeau.ormqr(a, [1.0], c)


def test_orgqr_is_householder_product():
    a, tau = flambeau.geqrf(flambeau.randn(2, 5, 3, dtype=flambeau.float64))
    np.testing.assert_array_equal(flambeau.orgqr(a, tau).cpu().numpy(),
                                  flambeau.linalg.householder_product(a, tau).cpu().numpy())
    with pytest.raises(RuntimeError, match=r"linalg\.householder_product: input\.shape\[-2\] "
                                           "must be greater than or equal"):
        flambeau.orgqr(a.mT, tau)


# ------------------------------------------------------------------ randomized low rank


def _low_rank(rng, m, n, r, batch=()):
    return rng.standard_normal(batch + (m, r)) @ rng.standard_normal(batch + (r, n))


@pytest.mark.parametrize("m, n, batch", [(20, 8, ()), (8, 20, ()), (12, 12, (2,))])
def test_svd_lowrank_exact_for_low_rank(m, n, batch):
    rng = np.random.default_rng(3)
    x = _low_rank(rng, m, n, 3, batch)
    flambeau.manual_seed(0)
    U, S, V = flambeau.svd_lowrank(_t(x), q=5, niter=2)
    assert U.shape == batch + (m, 5) and S.shape == batch + (5,) and V.shape == batch + (n, 5)
    s = np.linalg.svd(x, compute_uv=False)
    np.testing.assert_allclose(S.cpu().numpy()[..., :3], s[..., :3], rtol=1e-10)
    np.testing.assert_allclose(S.cpu().numpy()[..., 3:], 0, atol=1e-10)
    np.testing.assert_allclose((U @ flambeau.diag_embed(S) @ V.mT).cpu().numpy(), x, atol=1e-10)
    eye = np.broadcast_to(np.eye(5), batch + (5, 5))
    np.testing.assert_allclose((U.mT @ U).cpu().numpy(), eye, atol=1e-10)
    np.testing.assert_allclose((V.mT @ V).cpu().numpy(), eye, atol=1e-10)


def test_svd_lowrank_approximates_leading_subspace():
    rng = np.random.default_rng(4)
    u, _ = np.linalg.qr(rng.standard_normal((60, 60)))
    v, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    s = 0.5 ** np.arange(40)
    x = (u[:, :40] * s) @ v.T
    flambeau.manual_seed(1)
    U, S, V = flambeau.svd_lowrank(_t(x), q=8, niter=4)
    np.testing.assert_allclose(S.cpu().numpy()[:4], s[:4], rtol=1e-6)
    # the leading singular subspaces agree: |cos| of the principal angles is 1
    for got, want in ((U.cpu().numpy()[:, :4], u[:, :4]), (V.cpu().numpy()[:, :4], v[:, :4])):
        cos = np.linalg.svd(got.T @ want, compute_uv=False)
        np.testing.assert_allclose(cos, 1.0, atol=1e-6)


def test_svd_lowrank_with_M_and_defaults():
    rng = np.random.default_rng(5)
    x = _low_rank(rng, 10, 7, 2) + 3.0
    flambeau.manual_seed(0)
    U, S, V = flambeau.svd_lowrank(_t(x), M=_t(np.full((7,), 3.0)))
    assert S.shape == (6,)
    np.testing.assert_allclose(S.cpu().numpy()[:2], np.linalg.svd(x - 3.0, compute_uv=False)[:2],
                               rtol=1e-10)
    U2, S2, V2 = flambeau.svd_lowrank(_t(x), q=9)  # q above min(m, n): k = min(m, n)
    assert U2.shape == (10, 7) and S2.shape == (7,) and V2.shape == (7, 7)
    np.testing.assert_allclose(S2.cpu().numpy(), np.linalg.svd(x, compute_uv=False), rtol=1e-10,
                               atol=1e-12)


def test_svd_lowrank_is_seeded_and_differentiable():
    rng = np.random.default_rng(6)
    x = _t(_low_rank(rng, 6, 5, 2)).requires_grad_()
    flambeau.manual_seed(3)
    S1 = flambeau.svd_lowrank(x, q=2)[1]
    flambeau.manual_seed(3)
    S2 = flambeau.svd_lowrank(x, q=2)[1]
    np.testing.assert_array_equal(S1.detach().cpu().numpy(), S2.detach().cpu().numpy())
    S1.sum().backward()
    # sum of the singular values of a rank-2 matrix: its gradient is U V^T
    U, S, Vh = np.linalg.svd(x.detach().cpu().numpy(), full_matrices=False)
    np.testing.assert_allclose(x.grad.cpu().numpy(), U[:, :2] @ Vh[:2], atol=1e-8)


def test_pca_lowrank_centers():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((30, 5)) @ np.diag([5.0, 3.0, 1.0, 0.1, 0.01]) + 10.0
    flambeau.manual_seed(0)
    U, S, V = flambeau.pca_lowrank(_t(x), q=5, niter=3)
    xc = x - x.mean(0)
    _, s, vh = np.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(S.cpu().numpy(), s, rtol=1e-8)
    np.testing.assert_allclose(np.abs(V.cpu().numpy().T @ vh.T), np.eye(5), atol=1e-6)
    flambeau.manual_seed(0)
    S_raw = flambeau.pca_lowrank(_t(x), q=5, center=False, niter=3)[1]
    np.testing.assert_allclose(S_raw.cpu().numpy(), np.linalg.svd(x, compute_uv=False), rtol=1e-8)
    assert flambeau.pca_lowrank(_t(x))[1].shape == (5,)  # q defaults to min(6, m, n)


def test_lowrank_errors():
    x = flambeau.randn(5, 4, dtype=flambeau.float64)
    with pytest.raises(ValueError, match=r"q\(=5\) must be non-negative integer and not "
                                         r"greater than min\(m, n\)=4"):
        flambeau.pca_lowrank(x, q=5)
    with pytest.raises(ValueError, match=r"q\(=-1\) must be non-negative integer"):
        flambeau.pca_lowrank(x, q=-1)
    with pytest.raises(ValueError, match=r"niter\(=-1\) must be non-negative integer"):
        flambeau.pca_lowrank(x, niter=-1)
    with pytest.raises(ValueError, match=r"q\(=-2\) must be non-negative integer"):
        flambeau.svd_lowrank(x, q=-2)
    with pytest.raises(RuntimeError, match="svd_lowrank: expected A to have at least 2 dim"):
        flambeau.svd_lowrank(flambeau.ones(3))
    with pytest.raises(RuntimeError, match="svd_lowrank: expected A and M to have the same "
                                           "dtype"):
        flambeau.svd_lowrank(x, M=flambeau.ones(4))


# ------------------------------------------------------------------ LinAlgError


def test_linalg_error_is_a_runtime_error():
    assert issubclass(flambeau.linalg.LinAlgError, RuntimeError)
    assert flambeau.linalg.LinAlgError.__module__ == "flambeau.linalg"
    torch = torch_or_none()
    if torch is not None:
        assert issubclass(torch.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("call, message", [
    (lambda A: flambeau.linalg.inv(A), "linalg.inv: the input matrix of shape (2, 2) is "
                                       "singular"),
    (lambda A: flambeau.linalg.solve(A, flambeau.ones(2, dtype=flambeau.float64)),
     "linalg.solve: A is singular"),
    (lambda A: flambeau.linalg.lu_factor(A), "linalg.lu_factor: the input of shape (2, 2) is "
                                             "singular"),
    (lambda A: flambeau.linalg.cholesky(A), "linalg.cholesky: the input of shape (2, 2) is "
                                            "not positive-definite"),
    (lambda A: flambeau.linalg.inv_ex(A, check_errors=True), "linalg.inv_ex: the input"),
])
def test_singular_inputs_raise_linalg_error(call, message):
    A = _t([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(flambeau.linalg.LinAlgError) as info:
        call(A)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, RuntimeError)


def test_torch_raises_linalg_error_for_the_same_inputs():
    torch = pytest.importorskip("torch")
    A = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=torch.float64)
    for f in (torch.linalg.inv, torch.linalg.cholesky):
        with pytest.raises(torch.linalg.LinAlgError):
            f(A)


# ------------------------------------------------------------------ recursive LU kernel


@pytest.mark.parametrize("shape", [(1, 1), (17, 17), (33, 33), (3, 70, 70), (100, 37),
                                   (37, 100), (2, 65, 40), (2, 40, 65)])
@pytest.mark.parametrize("pivot", [True, False])
def test_recursive_getrf_reconstructs(shape, pivot):
    """Square, wide and tall matrices past several recursion levels (the panels are
    ``_PANEL`` columns wide), batched and single, with and without pivoting."""
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape)
    m, n = shape[-2:]
    if not pivot:
        a = a + 3 * max(m, n) * np.eye(m, n)  # diagonally dominant: no pivoting needed
    lu, piv, info, perm = lu_ops._getrf(np, a, pivot)
    k = min(m, n)
    L = np.tril(lu[..., :, :k], -1) + np.eye(m, k)
    U = np.triu(lu[..., :k, :])
    rows = np.take_along_axis(a, perm[..., :, None], axis=-2)
    np.testing.assert_allclose(L @ U, rows, atol=1e-10)
    assert (info == 0).all()
    assert piv.dtype == np.int32 and piv.shape == shape[:-2] + (k,)
    np.testing.assert_array_equal(lu_ops._perm_from_pivots(np, piv, m), perm)
    if pivot:
        assert np.abs(L).max() <= 1.0
    else:
        np.testing.assert_array_equal(piv, np.broadcast_to(np.arange(1, k + 1), piv.shape))


@pytest.mark.parametrize("shape", [(64, 64), (4, 50, 50), (90, 70), (70, 90), (200, 200)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_recursive_lu_pivots_match_torch(shape, dtype):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(9).standard_normal(shape).astype(dtype)
    LU, piv = flambeau.linalg.lu_factor(flambeau.tensor(a))
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_array_equal(piv.cpu().numpy(), tpiv.cpu().numpy())
    tol = 1e-3 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(LU.cpu().numpy(), tLU.cpu().numpy(), atol=tol)


def test_recursive_lu_singular_info_deep_in_the_recursion():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((40, 40))
    a[:, 25] = a[:, 3] + a[:, 7]  # column 26 (1-based) depends on earlier ones
    info = flambeau.linalg.lu_factor_ex(_t(a)).info.item()
    assert info == 0 or info == 26  # rounding may leave a tiny non-zero pivot
    z = np.zeros((2, 40, 40))
    z[0] = np.eye(40)
    z[1, :, :20] = rng.standard_normal((40, 20))
    assert flambeau.linalg.lu_factor_ex(_t(z)).info.tolist() == [0, 21]

"""flambeau.linalg: values, gradcheck/gradgradcheck and torch parity through the harness,
plus plain tests for errors, edge cases, dtypes and result types.

The decompositions with a sign freedom (eigh, svd) are checked through functions of their
outputs that do not depend on those signs, as PyTorch's own tests do: ``U.abs()``,
``U diag(S) Vh`` and the like. Inputs that must be symmetric go through ``A + A.mT`` or
``A A^T + n I`` inside the checked function, so that finite differences see symmetric
perturbations.
"""

import math

import numpy as np
import pytest

import flambeau
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests, torch_or_none

LA_TOL = {"float32": (1e-4, 1e-3), "float64": (1e-8, 1e-7)}


# ------------------------------------------------------------------ sample helpers


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _wellcond(rng, dt, *shape):
    """Random square matrices plus n * I: far from singular."""
    n = shape[-1]
    return np.asarray(rng.standard_normal(shape) + n * np.eye(n), dtype=dt)


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _distinct_sv(rng, dt, m, n, *batch):
    """Matrices with well separated singular values (3, 2, 1.2, ...)."""
    k = min(m, n)
    out = []
    for _ in range(int(np.prod(batch)) if batch else 1):
        s = np.linspace(3.0, 1.0, k) + rng.uniform(0, 0.1, k)
        u, v = _orthogonal(rng, m)[:, :k], _orthogonal(rng, n)[:, :k]
        out.append((u * s) @ v.T)
    arr = np.stack(out).reshape(*batch, m, n) if batch else out[0]
    return np.asarray(arr, dtype=dt)


def _sym_distinct(rng, dt, n, *batch):
    """Matrices whose symmetric part ``A + A^T`` has well separated eigenvalues."""
    out = []
    for _ in range(int(np.prod(batch)) if batch else 1):
        q = _orthogonal(rng, n)
        w = np.linspace(-2.0, 3.0, n) + rng.uniform(0, 0.1, n)
        sym = (q * w) @ q.T
        skew = rng.standard_normal((n, n))
        out.append(sym / 2 + (skew - skew.T) / 2)  # A + A^T = sym
    arr = np.stack(out).reshape(*batch, n, n) if batch else out[0]
    return np.asarray(arr, dtype=dt)


def _upper(rng, dt, *shape):
    n = shape[-1]
    return np.asarray(np.triu(rng.standard_normal(shape)) + 2 * n * np.eye(n), dtype=dt)


def _lower(rng, dt, *shape):
    return np.swapaxes(_upper(rng, dt, *shape), -1, -2).copy()


def _case(name, f, inputs, **kw):
    kw.setdefault("tolerances", LA_TOL)
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


def _spd(lib, a):
    n = a.shape[-1]
    return a @ a.mT + n * lib.eye(n, dtype=a.dtype)


def _sym(a):
    return a + a.mT


def _svd_invariants(u, s, vh):
    return s, u.abs(), vh.abs(), (u * s.unsqueeze(-2)) @ vh


def _np_solve(a, b):
    """NumPy's solve with torch's rule for a batch of vectors (``B.shape == A.shape[:-1]``)."""
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


INF = float("inf")
_COND_P = ("fro", "nuc", 1, -1, INF, -INF)

CASES = [
    # determinants and inverses
    _case("det", lambda lib, a: lib.linalg.det(a), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (_wellcond(rng, dt, 2, 3, 3),), (_normal(rng, dt, 1, 1),),
        (_normal(rng, dt, 2, 2),)], numpy_ref=np.linalg.det),
    _case("slogdet", lambda lib, a: lib.linalg.slogdet(a).logabsdet, lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (-_wellcond(rng, dt, 2, 3, 3),)]),
    _case("slogdet_both", lambda lib, a: tuple(lib.linalg.slogdet(a)), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (-_wellcond(rng, dt, 2, 3, 3),)], differentiable=False,
        numpy_ref=lambda a: tuple(np.linalg.slogdet(a))),
    _case("inv", lambda lib, a: lib.linalg.inv(a), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (_wellcond(rng, dt, 2, 2, 2),)], numpy_ref=np.linalg.inv),
    _case("inv_ex", lambda lib, a: tuple(lib.linalg.inv_ex(a)), lambda rng, dt: [
        (_wellcond(rng, dt, 2, 3, 3),)]),
    # solvers
    _case("solve", lambda lib, a, b: lib.linalg.solve(a, b), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3), _normal(rng, dt, 3, 2)),
        (_wellcond(rng, dt, 3, 3), _normal(rng, dt, 3)),
        (_wellcond(rng, dt, 2, 3, 3), _normal(rng, dt, 2, 3)),
        (_wellcond(rng, dt, 2, 1, 2, 2), _normal(rng, dt, 3, 2, 1)),
        (_wellcond(rng, dt, 3, 3), _normal(rng, dt, 2, 3, 2))], numpy_ref=_np_solve),
    _case("solve_left_false", lambda lib, a, b: lib.linalg.solve(a, b, left=False),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3), _normal(rng, dt, 2, 3)),
                           (_wellcond(rng, dt, 2, 2, 2), _normal(rng, dt, 1, 2))]),
    _case("solve_ex", lambda lib, a, b: tuple(lib.linalg.solve_ex(a, b)), lambda rng, dt: [
        (_wellcond(rng, dt, 2, 3, 3), _normal(rng, dt, 3, 1))]),
    _case("solve_triangular_upper",
          lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), lambda rng, dt: [
              (_upper(rng, dt, 3, 3), _normal(rng, dt, 3, 2)),
              (_normal(rng, dt, 3, 3) + 6 * np.eye(3, dtype=dt), _normal(rng, dt, 2, 3, 1))]),
    _case("solve_triangular_lower_right",
          lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, left=False),
          lambda rng, dt: [(_lower(rng, dt, 2, 3, 3), _normal(rng, dt, 2, 3))]),
    _case("solve_triangular_unit",
          lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
          lambda rng, dt: [(_normal(rng, dt, 3, 3), _normal(rng, dt, 3, 2))]),
    _case("lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, lambda rng, dt: [
        (_distinct_sv(rng, dt, 4, 3), _normal(rng, dt, 4, 2)),
        (_distinct_sv(rng, dt, 4, 2), _normal(rng, dt, 4)),
        (_distinct_sv(rng, dt, 2, 3), _normal(rng, dt, 2, 1))]),
    _case("lstsq_gelsd", lambda lib, a, b: tuple(lib.linalg.lstsq(a, b, driver="gelsd"))[:3],
          lambda rng, dt: [(_distinct_sv(rng, dt, 5, 3, 2), _normal(rng, dt, 2, 5, 2))]),
    # decompositions
    _case("cholesky", lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), lambda rng, dt: [
        (_normal(rng, dt, 3, 3),), (_normal(rng, dt, 2, 2, 2),)],
        numpy_ref=lambda a: np.linalg.cholesky(_spd(np, a))),
    _case("cholesky_upper", lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True),
          lambda rng, dt: [(_normal(rng, dt, 3, 3),)]),
    _case("cholesky_ex", lambda lib, a: tuple(lib.linalg.cholesky_ex(_spd(lib, a))),
          lambda rng, dt: [(_normal(rng, dt, 2, 3, 3),)]),
    _case("qr", lambda lib, a: tuple(lib.linalg.qr(a)), lambda rng, dt: [
        (_distinct_sv(rng, dt, 4, 3),), (_distinct_sv(rng, dt, 3, 3),),
        (_distinct_sv(rng, dt, 2, 4),), (_distinct_sv(rng, dt, 3, 2, 2),)]),
    _case("qr_complete_wide", lambda lib, a: tuple(lib.linalg.qr(a, mode="complete")),
          lambda rng, dt: [(_distinct_sv(rng, dt, 2, 3),)]),
    _case("qr_only_q", lambda lib, a: lib.linalg.qr(a).Q, lambda rng, dt: [
        (_distinct_sv(rng, dt, 4, 2),), (_distinct_sv(rng, dt, 2, 3),)]),
    _case("qr_only_r", lambda lib, a: lib.linalg.qr(a).R, lambda rng, dt: [
        (_distinct_sv(rng, dt, 3, 2),), (_distinct_sv(rng, dt, 2, 3),)]),
    _case("eigh", lambda lib, a: (lambda r: (r.eigenvalues, r.eigenvectors.abs(),
                                             r.eigenvectors @ r.eigenvectors.mT * 2))(
        lib.linalg.eigh(_sym(a))),
        lambda rng, dt: [(_sym_distinct(rng, dt, 3),), (_sym_distinct(rng, dt, 2, 2),)]),
    _case("eigh_upper", lambda lib, a: (lambda r: (r[0], r[1].abs()))(
        lib.linalg.eigh(_sym(a), UPLO="U")), lambda rng, dt: [(_sym_distinct(rng, dt, 3),)]),
    _case("eigh_reconstruct", lambda lib, a: (lambda r: (r[1] * r[0].unsqueeze(-2)) @ r[1].mT)(
        lib.linalg.eigh(_sym(a))), lambda rng, dt: [(_sym_distinct(rng, dt, 3, 2),)]),
    _case("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(_sym(a)), lambda rng, dt: [
        (_sym_distinct(rng, dt, 3),), (_sym_distinct(rng, dt, 2, 2),)],
        numpy_ref=lambda a: np.linalg.eigvalsh(_sym(a))),
    _case("svd", lambda lib, a: _svd_invariants(*lib.linalg.svd(a, full_matrices=False)),
          lambda rng, dt: [(_distinct_sv(rng, dt, 3, 3),), (_distinct_sv(rng, dt, 4, 2),),
                           (_distinct_sv(rng, dt, 2, 4),), (_distinct_sv(rng, dt, 3, 2, 2),)]),
    _case("svd_full", lambda lib, a: (lambda u, s, vh: (
        s, u[..., :2].abs(), (u[..., :2] * s) @ vh[..., :2, :]))(*lib.linalg.svd(a)),
        lambda rng, dt: [(_distinct_sv(rng, dt, 4, 2),)]),
    _case("svd_only_u", lambda lib, a: lib.linalg.svd(a, full_matrices=False).U.abs(),
          lambda rng, dt: [(_distinct_sv(rng, dt, 4, 3),)]),
    _case("svdvals", lambda lib, a: lib.linalg.svdvals(a), lambda rng, dt: [
        (_distinct_sv(rng, dt, 3, 3),), (_distinct_sv(rng, dt, 2, 4, 2),)],
        numpy_ref=lambda a: np.linalg.svd(a, compute_uv=False)),
    _case("pinv", lambda lib, a: lib.linalg.pinv(a), lambda rng, dt: [
        (_distinct_sv(rng, dt, 4, 3),), (_distinct_sv(rng, dt, 2, 3),),
        (_distinct_sv(rng, dt, 3, 3, 2),)], numpy_ref=np.linalg.pinv),
    _case("pinv_hermitian", lambda lib, a: lib.linalg.pinv(_sym(a), hermitian=True),
          lambda rng, dt: [(_sym_distinct(rng, dt, 3),)]),
    _case("householder_product", lambda lib, a, t: lib.linalg.householder_product(a, t),
          lambda rng, dt: [(_normal(rng, dt, 4, 3), _normal(rng, dt, 2)),
                           (_normal(rng, dt, 2, 3, 3), _normal(rng, dt, 2, 3))]),
    # matrix functions
    _case("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), lambda rng, dt: [
        (_normal(rng, dt, 3, 3),), (np.asarray([[[0.1, 0.2], [-0.3, 0.05]],
                                                [[4.0, -3.0], [5.0, 2.0]]], dtype=dt),),
        (_normal(rng, dt, 1, 1),)]),
    _case("matrix_power", lambda lib, a: (lib.linalg.matrix_power(a, 3),
                                          lib.linalg.matrix_power(a, 1),
                                          lib.linalg.matrix_power(a, -2)),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3) / 3,), (_wellcond(rng, dt, 2, 2, 2) / 2,)],
          numpy_ref=lambda a: tuple(np.linalg.matrix_power(a, k) for k in (3, 1, -2))),
    _case("matrix_power_zero", lambda lib, a: lib.linalg.matrix_power(a, 0) + a,
          lambda rng, dt: [(_normal(rng, dt, 2, 3, 3),)]),
    _case("multi_dot", lambda lib, a, b, c, d: lib.linalg.multi_dot([a, b, c, d]),
          lambda rng, dt: [(_normal(rng, dt, 3), _normal(rng, dt, 3, 4),
                            _normal(rng, dt, 4, 2), _normal(rng, dt, 2)),
                           (_normal(rng, dt, 5, 3), _normal(rng, dt, 3, 1),
                            _normal(rng, dt, 1, 4), _normal(rng, dt, 4, 2))],
          numpy_ref=lambda *ms: np.linalg.multi_dot(ms)),
    _case("multi_dot_two", lambda lib, a, b: lib.linalg.multi_dot([a, b]), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 3))]),
    _case("cross", lambda lib, a, b: lib.linalg.cross(a, b), lambda rng, dt: [
        (_normal(rng, dt, 3), _normal(rng, dt, 3)),
        (_normal(rng, dt, 2, 1, 3), _normal(rng, dt, 1, 4, 3))], numpy_ref=np.cross),
    _case("cross_dim0", lambda lib, a, b: lib.linalg.cross(a, b, dim=0), lambda rng, dt: [
        (_normal(rng, dt, 3, 2), _normal(rng, dt, 3, 2))]),
    _case("vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 3)), (_normal(rng, dt, 4), _normal(rng, dt, 4))]),
    _case("vecdot_dim", lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 2, 1))]),
    _case("tensorinv", lambda lib, a: lib.linalg.tensorinv(a, ind=1), lambda rng, dt: [
        (_wellcond(rng, dt, 4, 4).reshape(4, 2, 2),)],
        numpy_ref=lambda a: np.linalg.tensorinv(a, ind=1)),
    _case("tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(a, b), lambda rng, dt: [
        (_wellcond(rng, dt, 6, 6).reshape(2, 3, 6), _normal(rng, dt, 2, 3)),
        (_wellcond(rng, dt, 4, 4).reshape(4, 2, 2), _normal(rng, dt, 4))],
        numpy_ref=np.linalg.tensorsolve),
    _case("tensorsolve_dims", lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,)),
          lambda rng, dt: [(_wellcond(rng, dt, 4, 4).reshape(4, 2, 2),
                            _normal(rng, dt, 2, 2))]),
    _case("diagonal", lambda lib, a: lib.linalg.diagonal(a, offset=1), lambda rng, dt: [
        (_normal(rng, dt, 2, 3, 4),)]),
    _case("matmul", lambda lib, a, b: lib.linalg.matmul(a, b), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 3, 2))]),
    # norms
    _case("vector_norm", lambda lib, x: (lib.linalg.vector_norm(x),
                                         lib.linalg.vector_norm(x, ord=1, dim=1),
                                         lib.linalg.vector_norm(x, ord=3, dim=(0, 2),
                                                                keepdim=True),
                                         lib.linalg.vector_norm(x, ord=0.5, dim=-1),
                                         lib.linalg.vector_norm(x, ord=-1, dim=0),
                                         lib.linalg.vector_norm(x, ord=INF, dim=(1, 2)),
                                         lib.linalg.vector_norm(x, ord=-INF)),
          lambda rng, dt: [(_normal(rng, dt, 2, 3, 4) + np.sign(_normal(rng, dt, 2, 3, 4)),)]),
    _case("vector_norm_zero_ord", lambda lib, x: lib.linalg.vector_norm(x, ord=0, dim=1) + x.sum(),
          lambda rng, dt: [(np.asarray([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]], dtype=dt),)]),
    _case("vector_norm_0d", lambda lib, x: lib.linalg.vector_norm(x, dim=0), lambda rng, dt: [
        (np.asarray(-1.5, dtype=dt),)]),
    _case("vector_norm_dtype", lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
          lambda rng, dt: [(_normal(rng, dt, 3),)]),
    _case("matrix_norm", lambda lib, a: tuple(
        lib.linalg.matrix_norm(a, ord=o) for o in ("fro", "nuc", INF, -INF, 1, -1, 2, -2)),
        lambda rng, dt: [(_distinct_sv(rng, dt, 3, 3),), (_distinct_sv(rng, dt, 3, 2, 2),),
                         (_distinct_sv(rng, dt, 2, 4),)],
        numpy_ref=lambda a: tuple(np.linalg.norm(a, o, axis=(-2, -1)).astype(a.dtype)
                                  for o in ("fro", "nuc", INF, -INF, 1, -1, 2, -2))),
    _case("matrix_norm_dims", lambda lib, a: (
        lib.linalg.matrix_norm(a, ord=1, dim=(0, 2), keepdim=True),
        lib.linalg.matrix_norm(a, ord="nuc", dim=(2, 0)),
        lib.linalg.matrix_norm(a, ord=-INF, dim=(2, 0), keepdim=True)),
        lambda rng, dt: [(_distinct_sv(rng, dt, 3, 4, 2).transpose(1, 0, 2).copy(),)]),
    _case("norm", lambda lib, a: (lib.linalg.norm(a), lib.linalg.norm(a, ord=2),
                                  lib.linalg.norm(a, dim=1), lib.linalg.norm(a, ord=INF, dim=0),
                                  lib.linalg.norm(a, ord="nuc", dim=(0, 1), keepdim=True),
                                  lib.linalg.norm(a[0], ord=3)),
          lambda rng, dt: [(_distinct_sv(rng, dt, 3, 3),)]),
    _case("cond", lambda lib, a: tuple(lib.linalg.cond(a, p) for p in (None, 2, -2)),
          lambda rng, dt: [(_distinct_sv(rng, dt, 3, 3),), (_distinct_sv(rng, dt, 2, 2, 2),)]),
    # PyTorch 2.13's backward of cond for these p fails (it modifies a saved inverse in place):
    # gradcheck here, values against NumPy and (below) against torch's forward
    OpCase("cond_by_inverse", lambda a: tuple(flambeau.linalg.cond(a, p) for p in _COND_P),
           None, lambda rng, dt: [(_distinct_sv(rng, dt, 3, 3),),
                                  (_distinct_sv(rng, dt, 2, 2, 2),)],
           numpy_ref=lambda a: tuple(np.linalg.cond(a, p) for p in _COND_P), tolerances=LA_TOL),
    _case("cond_rect", lambda lib, a: lib.linalg.cond(a), lambda rng, dt: [
        (_distinct_sv(rng, dt, 4, 2),)]),
    _case("matrix_rank", lambda lib, a: lib.linalg.matrix_rank(a), lambda rng, dt: [
        (np.asarray([[1.0, 2.0], [2.0, 4.0]], dtype=dt),), (_normal(rng, dt, 3, 2, 4),)],
        differentiable=False, numpy_ref=np.linalg.matrix_rank),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


# ------------------------------------------------------------------ values without torch


def test_values_against_numpy():
    rng = np.random.default_rng(0)
    a = _wellcond(rng, np.float64, 2, 3, 3)
    b = _normal(rng, np.float64, 2, 3, 2)
    A, B = flambeau.tensor(a), flambeau.tensor(b)
    np.testing.assert_allclose(flambeau.linalg.det(A).cpu().numpy(), np.linalg.det(a))
    np.testing.assert_allclose(flambeau.linalg.inv(A).cpu().numpy(), np.linalg.inv(a))
    np.testing.assert_allclose(flambeau.linalg.solve(A, B).cpu().numpy(), np.linalg.solve(a, b))
    np.testing.assert_allclose(flambeau.linalg.matrix_exp(flambeau.tensor([[0.0, 1.0],
                                                                          [-1.0,
                                                                           0.0]])).cpu().numpy(),
                               [[math.cos(1), math.sin(1)], [-math.sin(1), math.cos(1)]],
                               rtol=1e-6)  # float32
    s = _sym_distinct(rng, np.float64, 4)
    w = flambeau.linalg.eigvalsh(flambeau.tensor(s + s.T))
    np.testing.assert_allclose(w.cpu().numpy(), np.linalg.eigvalsh(s + s.T))
    m = _distinct_sv(rng, np.float64, 4, 3)
    np.testing.assert_allclose(flambeau.linalg.pinv(flambeau.tensor(m)).cpu().numpy(),
                               np.linalg.pinv(m), atol=1e-12)
    np.testing.assert_allclose(flambeau.linalg.svdvals(flambeau.tensor(m)).cpu().numpy(),
                               np.linalg.svd(m, compute_uv=False))
    np.testing.assert_allclose(flambeau.linalg.matrix_norm(flambeau.tensor(m), "nuc").cpu().numpy(),
                               np.linalg.norm(m, "nuc"))


def test_matrix_exp_matches_series():
    rng = np.random.default_rng(3)
    for scale in (0.01, 1.0, 20.0):
        a = rng.standard_normal((3, 3)) * scale / 3
        got = flambeau.linalg.matrix_exp(flambeau.tensor(a)).cpu().numpy()
        # exp(A) = exp(A / 2^k)^(2^k) with a long Taylor series for the small matrix
        k = 10
        small = a / 2 ** k
        term, total = np.eye(3), np.eye(3)
        for i in range(1, 20):
            term = term @ small / i
            total = total + term
        for _ in range(k):
            total = total @ total
        np.testing.assert_allclose(got, total, rtol=1e-9, atol=1e-12)


def test_decompositions_reconstruct():
    rng = np.random.default_rng(1)
    a = flambeau.tensor(_normal(rng, np.float64, 2, 4, 3))
    Q, R = flambeau.linalg.qr(a)
    assert flambeau.allclose(Q @ R, a)
    Qc, Rc = flambeau.linalg.qr(a, mode="complete")
    assert Qc.shape == (2, 4, 4) and Rc.shape == (2, 4, 3) and flambeau.allclose(Qc @ Rc, a)
    Qr, Rr = flambeau.linalg.qr(a, mode="r")
    assert Qr.shape == (0,) and flambeau.allclose(Rr.abs(), R.abs())
    U, S, Vh = flambeau.linalg.svd(a)
    assert U.shape == (2, 4, 4) and S.shape == (2, 3) and Vh.shape == (2, 3, 3)
    assert flambeau.allclose((U[..., :3] * S.unsqueeze(-2)) @ Vh, a)
    spd = a.mT @ a + flambeau.eye(3, dtype=a.dtype)
    L = flambeau.linalg.cholesky(spd)
    assert flambeau.allclose(L @ L.mT, spd) and flambeau.allclose(L, L.tril())
    Up = flambeau.linalg.cholesky(spd, upper=True)
    assert flambeau.allclose(Up.mT @ Up, spd) and flambeau.allclose(Up, L.mT)
    w, V = flambeau.linalg.eigh(spd)
    assert flambeau.allclose((V * w.unsqueeze(-2)) @ V.mT, spd)


def test_eigh_reads_one_triangle():
    a = flambeau.tensor([[2.0, 100.0], [1.0, 2.0]], dtype=flambeau.float64)
    assert flambeau.allclose(flambeau.linalg.eigvalsh(a), flambeau.tensor([1.0, 3.0]).double())
    assert flambeau.allclose(flambeau.linalg.eigvalsh(a, UPLO="U"),
                             flambeau.tensor([-98.0, 102.0]).double())
    assert flambeau.allclose(flambeau.linalg.eigh(a, UPLO="u").eigenvalues,
                             flambeau.tensor([-98.0, 102.0]).double())


def test_named_tuple_fields():
    A = flambeau.tensor([[4.0, 1.0], [1.0, 3.0]])
    assert flambeau.linalg.slogdet(A)._fields == ("sign", "logabsdet")
    assert flambeau.linalg.inv_ex(A)._fields == ("inverse", "info")
    assert flambeau.linalg.solve_ex(A, A)._fields == ("result", "info")
    assert flambeau.linalg.cholesky_ex(A)._fields == ("L", "info")
    assert flambeau.linalg.qr(A)._fields == ("Q", "R")
    assert flambeau.linalg.eigh(A)._fields == ("eigenvalues", "eigenvectors")
    assert flambeau.linalg.svd(A)._fields == ("U", "S", "Vh")
    assert flambeau.linalg.lstsq(A, A)._fields == ("solution", "residuals", "rank",
                                                   "singular_values")
    assert type(flambeau.linalg.svd(A)).__name__ == "linalg_svd"


def test_result_types_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    A, TA = flambeau.tensor(a), torch.tensor(a)
    for name, args in [("slogdet", ()), ("inv_ex", ()), ("cholesky_ex", ()), ("qr", ()),
                       ("eigh", ()), ("svd", ()), ("solve_ex", (a,)), ("lstsq", (a,))]:
        ours = getattr(flambeau.linalg, name)(A, *[flambeau.tensor(x) for x in args])
        theirs = getattr(torch.linalg, name)(TA, *[torch.tensor(x) for x in args])
        assert type(ours).__name__ == type(theirs).__name__
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert tuple(o.shape) == tuple(t.shape), name
            assert o.dtype.name == str(t.dtype).replace("torch.", ""), name


# ------------------------------------------------------------------ singular matrices


def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix():
    # det is a polynomial: its gradient (the cofactor matrix) exists at singular matrices
    for m, cof in [([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
                   ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
                    [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
                   ([[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [-1.0, 0.0]]),
                   ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]])]:
        A = flambeau.tensor(m, dtype=flambeau.float64, requires_grad=True)
        flambeau.linalg.det(A).backward()
        np.testing.assert_allclose(A.grad.cpu().numpy(), cof, atol=1e-9)


def test_det_gradcheck_at_singular_matrices_mixed_batch():
    from flambeau.autograd import gradcheck

    A = flambeau.tensor([[[1.0, 2.0], [2.0, 4.0]], [[3.0, 1.0], [1.0, 2.0]]],
                        dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(flambeau.linalg.det, (A,))
    B = flambeau.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
                        dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(flambeau.linalg.det, (B,))


def test_det_second_derivative_at_a_singular_matrix():
    # for 2 x 2, <cofactor(A), V> = d v11 - c v12 - b v21 + a v22: its gradient is
    # [[v22, -v21], [-v12, v11]] everywhere, singular matrices included
    A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=flambeau.float64, requires_grad=True)
    V = flambeau.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=flambeau.float64)
    (g,) = flambeau.autograd.grad(flambeau.linalg.det(A), A, create_graph=True)
    (h,) = flambeau.autograd.grad((g * V).sum(), A)
    np.testing.assert_allclose(h.cpu().numpy(), [[5.0, -3.0], [-2.0, 1.0]], atol=1e-9)


def test_singular_inv_error_names_op_shape_and_pivot():
    A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"linalg\.inv: the input matrix of shape \(2, 2\) "
                                           r"is singular: diagonal element 2 .* no inverse"):
        flambeau.linalg.inv(A)
    batch = flambeau.stack([flambeau.eye(3), flambeau.zeros(3, 3)])
    with pytest.raises(RuntimeError, match=r"shape \(2, 3, 3\) is singular \(batch element 1\)"
                                           r": diagonal element 1"):
        flambeau.linalg.inv(batch)
    with pytest.raises(RuntimeError, match=r"linalg\.inv_ex: .*singular"):
        flambeau.linalg.inv_ex(batch, check_errors=True)


def test_singular_solve_error():
    A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"linalg\.solve: A is singular: diagonal element 2"):
        flambeau.linalg.solve(A, flambeau.ones(2))
    batch = flambeau.stack([flambeau.eye(2), A])
    with pytest.raises(RuntimeError, match=r"A is singular \(batch element 1\)"):
        flambeau.linalg.solve(batch, flambeau.ones(2, 2))


def test_ex_variants_report_info():
    batch = flambeau.stack([flambeau.eye(2), flambeau.tensor([[1.0, 2.0], [2.0, 4.0]])])
    inv, info = flambeau.linalg.inv_ex(batch)
    assert info.tolist() == [0, 2] and info.dtype == flambeau.int32
    assert flambeau.equal(inv[0], flambeau.eye(2)) and bool(inv[1].isnan().all())
    res, info = flambeau.linalg.solve_ex(batch, flambeau.ones(2))
    assert info.tolist() == [0, 2] and res[0].tolist() == [1.0, 1.0]
    L, info = flambeau.linalg.cholesky_ex(flambeau.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert info.item() == 2
    assert L.tolist() == [[1.0, 0.0], [2.0, -3.0]]  # LAPACK's partial factor, as PyTorch
    L, info = flambeau.linalg.cholesky_ex(flambeau.stack([flambeau.eye(2), -flambeau.eye(2)]))
    assert info.tolist() == [0, 1] and flambeau.equal(L[0], flambeau.eye(2))
    with pytest.raises(RuntimeError, match=r"linalg\.cholesky_ex: .*not positive-definite"):
        flambeau.linalg.cholesky_ex(-flambeau.eye(2), check_errors=True)


def test_cholesky_error_names_minor():
    with pytest.raises(RuntimeError, match=r"linalg\.cholesky: the input of shape \(2, 2\) is not "
                                           r"positive-definite: its leading minor of order 2"):
        flambeau.linalg.cholesky(flambeau.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match=r"\(batch element 1\): its leading minor of order 1"):
        flambeau.linalg.cholesky(flambeau.stack([flambeau.eye(2), -flambeau.eye(2)]))


def test_singular_triangular_solve_gives_inf_nan_like_torch():
    A = flambeau.tensor([[1.0, 2.0], [0.0, 0.0]])
    x = flambeau.linalg.solve_triangular(A, flambeau.ones(2, 1), upper=True)
    assert not bool(x.isfinite().any())
    torch = torch_or_none()
    if torch is not None:
        t = torch.linalg.solve_triangular(torch.tensor(A.cpu().numpy()), torch.ones(2, 1),
                                          upper=True)
        np.testing.assert_array_equal(x.cpu().numpy(), t.cpu().numpy())


def test_slogdet_and_cond_of_singular():
    sign, logabs = flambeau.linalg.slogdet(flambeau.zeros(3, 3))
    assert sign.item() == 0.0 and logabs.item() == -math.inf
    A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert flambeau.linalg.cond(A, 1).item() == math.inf
    assert flambeau.linalg.cond(A, "fro").item() == math.inf
    assert flambeau.linalg.cond(A).item() > 1e6


# ------------------------------------------------------------------ argument errors


@pytest.mark.parametrize("fn", [flambeau.linalg.det, flambeau.linalg.inv,
                                flambeau.linalg.slogdet, flambeau.linalg.cholesky,
                                flambeau.linalg.eigh, flambeau.linalg.eigvalsh,
                                flambeau.linalg.matrix_exp, flambeau.linalg.inv_ex])
def test_non_square_input(fn):
    name = "linalg." + fn.__name__
    with pytest.raises(RuntimeError, match=rf"{name}: expected A to be a square matrix or a "
                                           r"batch of square matrices, but got shape \(2, 3\) "
                                           r"\(2 by 3 matrices\)"):
        fn(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match=rf"{name}: expected A to have at least 2 dimensions"
                                           r".*shape \(3,\)"):
        fn(flambeau.ones(3))


@pytest.mark.parametrize("name", ["det", "inv", "slogdet", "cholesky", "eigh", "eigvalsh",
                                  "svd", "svdvals", "qr", "pinv", "matrix_exp", "cond",
                                  "matrix_norm"])
def test_integer_input(name):
    with pytest.raises(RuntimeError, match=rf"linalg\.{name}: expected a floating point tensor "
                                           r"as input, but A has dtype flambeau\.int64"):
        getattr(flambeau.linalg, name)(flambeau.ones(2, 2, dtype=flambeau.int64))


@pytest.mark.parametrize("name", ["det", "inv", "slogdet", "cholesky", "eigh", "svd", "qr",
                                  "pinv", "svdvals", "eigvalsh"])
@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.bfloat16])
def test_low_precision_refused(name, dtype):
    with pytest.raises(RuntimeError, match=rf"linalg\.{name}: low precision dtypes are not "
                                           rf"supported, but A has dtype flambeau\.{dtype.name}"):
        getattr(flambeau.linalg, name)(flambeau.eye(2, dtype=dtype))


def test_low_precision_where_torch_computes():
    for dtype in (flambeau.float16, flambeau.bfloat16):
        A = flambeau.tensor([[0.5, 0.25], [0.0, 0.5]]).to(dtype)
        e = flambeau.linalg.matrix_exp(A)
        assert e.dtype == dtype
        ref = flambeau.linalg.matrix_exp(A.float())
        assert flambeau.allclose(e.float(), ref, atol=1e-2, rtol=1e-2)
        n = flambeau.linalg.vector_norm(A)
        assert n.dtype == dtype and abs(n.item() - 0.75) < 1e-2
        assert flambeau.linalg.matrix_norm(A, 1).dtype == dtype
        assert flambeau.linalg.matrix_power(A, 2).dtype == dtype
    with pytest.raises(RuntimeError, match=r"linalg\.matrix_norm: low precision"):
        flambeau.linalg.matrix_norm(flambeau.eye(2, dtype=flambeau.float16), 2)


def test_low_precision_runs_in_float32_under_autocast():
    A = flambeau.tensor([[2.0, 1.0], [1.0, 2.0]]).bfloat16()
    with flambeau.autocast(A.device.type, dtype=flambeau.bfloat16):
        d = flambeau.linalg.det(A)
    assert d.dtype == flambeau.float32 and d.item() == 3.0


def test_solve_shape_and_dtype_errors():
    A = flambeau.randn(3, 3)
    with pytest.raises(RuntimeError, match=r"linalg\.solve: incompatible shapes of A \(3, 3\) "
                                           r"and B \(2,\) for the equation AX = B: A is 3 by 3, "
                                           r"so B needs 3 rows, not 2"):
        flambeau.linalg.solve(A, flambeau.ones(2))
    with pytest.raises(RuntimeError, match=r"B needs 3 rows, not 2"):
        flambeau.linalg.solve(A, flambeau.ones(2, 4))
    with pytest.raises(RuntimeError, match=r"equation XA = B: A is 3 by 3, so B needs 3 "
                                           r"columns, not 1"):
        flambeau.linalg.solve(A, flambeau.ones(3), left=False)
    with pytest.raises(RuntimeError, match=r"linalg\.solve: expected A and B to have the same "
                                           r"dtype, but A has dtype flambeau\.float32 and B has "
                                           r"dtype flambeau\.float64"):
        flambeau.linalg.solve(A, flambeau.ones(3, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=r"linalg\.solve: the batch dimensions of shapes "
                                           r"\(4, 2, 3, 3\) and \(5, 3, 2\) cannot be broadcast"):
        flambeau.linalg.solve(flambeau.randn(4, 2, 3, 3), flambeau.randn(5, 3, 2))
    with pytest.raises(RuntimeError, match=r"linalg\.solve: expected a floating point tensor as "
                                           r"input, but A has dtype flambeau\.int64"):
        flambeau.linalg.solve(flambeau.ones(2, 2, dtype=flambeau.int64),
                              flambeau.ones(2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"linalg\.solve: expected A to have at least 2"):
        flambeau.linalg.solve(flambeau.ones(3), flambeau.ones(3))


def test_other_argument_errors():
    la = flambeau.linalg
    with pytest.raises(RuntimeError, match=r"linalg\.qr: mode must be 'reduced', 'complete' or "
                                           r"'r', but got 'x'"):
        la.qr(flambeau.eye(2), mode="x")
    with pytest.raises(RuntimeError, match=r"linalg\.eigh: UPLO must be 'L' or 'U', but got 'X'"):
        la.eigh(flambeau.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match=r"linalg\.matrix_norm: order 3 is not supported"):
        la.matrix_norm(flambeau.eye(2), ord=3)
    with pytest.raises(RuntimeError, match=r"linalg\.matrix_norm: dims must be different"):
        la.matrix_norm(flambeau.ones(2, 3, 4), dim=(0, 0))
    with pytest.raises(RuntimeError, match=r"linalg\.norm: without dim, an ord is only defined"
                                           r" for 1-D or 2-D inputs, but got shape \(2, 3, 4\)"):
        la.norm(flambeau.ones(2, 3, 4), ord=2)
    with pytest.raises(RuntimeError, match=r"linalg\.norm: dim must be an int or a tuple of 1 or"
                                           r" 2 dims"):
        la.norm(flambeau.ones(2, 3, 4), dim=(0, 1, 2))
    with pytest.raises(TypeError, match=r"linalg\.vector_norm: ord must be a number"):
        la.vector_norm(flambeau.ones(3), ord="fro")
    with pytest.raises(RuntimeError, match=r"linalg\.vector_norm: expected a floating point "
                                           r"tensor as input, but x has dtype flambeau\.int64"):
        la.vector_norm(flambeau.ones(3, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"convertible without narrowing"):
        la.vector_norm(flambeau.ones(3), dtype=flambeau.float16)
    with pytest.raises(RuntimeError, match=r"dtype must be a floating point dtype"):
        la.vector_norm(flambeau.ones(3), dtype=flambeau.int64)
    with pytest.raises(RuntimeError, match=r"cannot compute the inf norm of a tensor of shape "
                                           r"\(0,\) over an empty dimension"):
        la.vector_norm(flambeau.zeros(0), ord=INF)
    with pytest.raises(RuntimeError, match=r"cannot compute the -1 norm of a tensor of shape "
                                           r"\(2, 0\)"):
        la.vector_norm(flambeau.zeros(2, 0), ord=-1, dim=1)
    with pytest.raises(RuntimeError, match=r"linalg\.cond\(p=1\): expected a square matrix"):
        la.cond(flambeau.randn(2, 3), 1)
    with pytest.raises(RuntimeError, match=r"linalg\.cond: p=3 is not supported"):
        la.cond(flambeau.eye(2), 3)
    with pytest.raises(TypeError, match=r"linalg\.matrix_power: n must be an int"):
        la.matrix_power(flambeau.eye(2), 2.0)
    with pytest.raises(RuntimeError, match=r"linalg\.matrix_power: expected A to be a square"):
        la.matrix_power(flambeau.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match=r"linalg\.multi_dot: expected at least 2 tensors"):
        la.multi_dot([flambeau.ones(2, 2)])
    with pytest.raises(RuntimeError, match=r"linalg\.multi_dot: the first tensor must be 1-D or "
                                           r"2-D, but got shape \(2, 2, 3\)"):
        la.multi_dot([flambeau.ones(2, 2, 3), flambeau.ones(3, 4)])
    with pytest.raises(RuntimeError, match=r"linalg\.multi_dot: tensor 1 must be 2-D"):
        la.multi_dot([flambeau.ones(2, 3), flambeau.ones(3), flambeau.ones(3, 4)])
    with pytest.raises(RuntimeError, match=r"linalg\.multi_dot: tensors 0 and 1 with shapes "
                                           r"\(2, 3\) and \(4, 4\) cannot be multiplied"):
        la.multi_dot([flambeau.ones(2, 3), flambeau.ones(4, 4)])
    with pytest.raises(RuntimeError, match=r"linalg\.multi_dot: all tensors must have the same "
                                           r"dtype"):
        la.multi_dot([flambeau.ones(2, 3), flambeau.ones(3, 4, dtype=flambeau.float64)])
    with pytest.raises(RuntimeError, match=r"linalg\.cross: inputs dimension -1 must have length"
                                           r" 3, but got shapes \(2, 4\) and \(2, 4\)"):
        la.cross(flambeau.ones(2, 4), flambeau.ones(2, 4))
    with pytest.raises(RuntimeError, match=r"linalg\.cross: inputs must have the same number of "
                                           r"dimensions"):
        la.cross(flambeau.ones(2, 1, 3), flambeau.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"linalg\.cross: expected input and other to have the"
                                           r" same dtype"):
        la.cross(flambeau.ones(3), flambeau.ones(3, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"linalg\.vecdot: expected x and y to have the same "
                                           r"dtype"):
        la.vecdot(flambeau.ones(3), flambeau.ones(3, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=r"linalg\.vecdot: expected a floating point tensor"):
        la.vecdot(flambeau.ones(3, dtype=flambeau.int64), flambeau.ones(3, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"linalg\.solve_triangular: incompatible shapes"):
        la.solve_triangular(flambeau.eye(3), flambeau.ones(2, 1), upper=True)
    with pytest.raises(TypeError):
        la.solve_triangular(flambeau.eye(3), flambeau.ones(3, 1))  # upper is required
    with pytest.raises(RuntimeError, match=r"linalg\.lstsq: driver must be one of"):
        la.lstsq(flambeau.eye(2), flambeau.ones(2, 1), driver="foo")
    with pytest.raises(RuntimeError, match=r"linalg\.lstsq: A \(3, 2\) and B \(4, 2\) must have "
                                           r"the same number of rows"):
        la.lstsq(flambeau.ones(3, 2), flambeau.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"linalg\.tensorinv: expected a strictly positive "
                                           r"integer for ind"):
        la.tensorinv(flambeau.eye(4), ind=0)
    with pytest.raises(RuntimeError, match=r"linalg\.tensorinv: the product of the first 1 dims"):
        la.tensorinv(flambeau.ones(4, 2, 3), ind=1)
    with pytest.raises(RuntimeError, match=r"linalg\.tensorsolve: A of shape \(2, 3, 5\) does "
                                           r"not fit B"):
        la.tensorsolve(flambeau.ones(2, 3, 5), flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"linalg\.householder_product: input\.shape\[-2\] "
                                           r"must be greater than or equal"):
        la.householder_product(flambeau.ones(2, 3), flambeau.ones(2))
    with pytest.raises(RuntimeError, match=r"input\.shape\[-1\] must be greater than or equal "
                                           r"to tau\.shape\[-1\]"):
        la.householder_product(flambeau.ones(4, 3), flambeau.ones(4))
    with pytest.raises(RuntimeError, match=r"expected tau to have one dimension less"):
        la.householder_product(flambeau.ones(2, 4, 3), flambeau.ones(3))


def test_qr_backward_errors():
    A = flambeau.randn(4, 3, dtype=flambeau.float64, requires_grad=True)
    Q, R = flambeau.linalg.qr(A, mode="complete")
    with pytest.raises(RuntimeError, match=r"not differentiable when mode='complete' and "
                                           r"nrows > ncols"):
        Q.sum().backward()
    _, R = flambeau.linalg.qr(A, mode="r")
    with pytest.raises(RuntimeError, match=r"mode='r' does not compute"):
        R.sum().backward()


# ------------------------------------------------------------------ edge cases


def test_empty_inputs():
    la = flambeau.linalg
    assert la.det(flambeau.zeros(0, 0)).item() == 1.0
    assert la.det(flambeau.zeros(2, 0, 0)).tolist() == [1.0, 1.0]
    assert la.inv(flambeau.zeros(0, 3, 3)).shape == (0, 3, 3)
    assert la.cholesky(flambeau.zeros(0, 0)).shape == (0, 0)
    w, v = la.eigh(flambeau.zeros(0, 0))
    assert w.shape == (0,) and v.shape == (0, 0)
    U, S, Vh = la.svd(flambeau.zeros(0, 3))
    assert (U.shape, S.shape, Vh.shape) == ((0, 0), (0,), (3, 3))
    U, S, Vh = la.svd(flambeau.zeros(0, 3), full_matrices=False)
    assert (U.shape, S.shape, Vh.shape) == ((0, 0), (0,), (0, 3))
    assert la.svdvals(flambeau.zeros(2, 0, 3)).shape == (2, 0)
    Q, R = la.qr(flambeau.zeros(0, 3))
    assert (Q.shape, R.shape) == ((0, 0), (0, 3))
    assert la.solve(flambeau.zeros(0, 0), flambeau.zeros(0)).shape == (0,)
    assert la.matrix_exp(flambeau.zeros(0, 0)).shape == (0, 0)
    assert la.pinv(flambeau.zeros(0, 3)).shape == (3, 0)
    assert la.matrix_rank(flambeau.zeros(0, 3)).item() == 0
    for o in ("fro", "nuc", 1, INF, 2, -2):
        assert la.matrix_norm(flambeau.zeros(0, 3), ord=o).item() == 0.0
    assert la.vector_norm(flambeau.zeros(0)).item() == 0.0


def test_vector_norm_values():
    x = flambeau.tensor([0.0, 1.0, -2.0])
    la = flambeau.linalg
    assert la.vector_norm(x, ord=0).item() == 2.0
    assert abs(la.vector_norm(x, ord=0.5).item() - (1 + math.sqrt(2)) ** 2) < 1e-5
    assert la.vector_norm(x, ord=-1).item() == 0.0
    assert la.vector_norm(x, ord=-INF).item() == 0.0
    assert la.vector_norm(x, ord=INF).item() == 2.0
    assert la.vector_norm(flambeau.tensor(-3.0)).item() == 3.0
    assert la.vector_norm(flambeau.ones(2, 3), dim=()).item() == pytest.approx(math.sqrt(6))
    assert la.vector_norm(flambeau.ones(2, 3), dim=[0]).tolist() == [pytest.approx(1.4142135)] * 3


def test_vector_norm_gradients_follow_torch_conventions():
    for ord_, expected in [(2, [0.0, 0.0, 0.0]), (0.5, [0.0, 0.0, 0.0]), (INF, [0.0, 0.0, 0.0])]:
        x = flambeau.zeros(3, requires_grad=True)
        flambeau.linalg.vector_norm(x, ord=ord_).backward()
        assert x.grad.tolist() == expected
    x = flambeau.tensor([0.0, 1.0, -2.0], requires_grad=True)
    flambeau.linalg.vector_norm(x, ord=0.5).backward()
    assert x.grad[0].item() == 0.0  # no NaN at a zero element for ord < 1
    x = flambeau.tensor([2.0, -2.0, 1.0], requires_grad=True)
    flambeau.linalg.vector_norm(x, ord=INF).backward()
    assert x.grad.tolist() == [0.5, -0.5, 0.0]  # ties share the gradient


def test_matrix_power_edge_cases():
    A = flambeau.tensor([[1, 1], [0, 1]])
    assert flambeau.linalg.matrix_power(A, 5).tolist() == [[1, 5], [0, 1]]
    eye = flambeau.linalg.matrix_power(flambeau.randn(2, 3, 3), 0)
    assert eye.shape == (2, 3, 3) and flambeau.equal(eye[1], flambeau.eye(3))
    with pytest.raises(RuntimeError, match=r"linalg\.inv: expected a floating point tensor"):
        flambeau.linalg.matrix_power(A, -1)


def test_matrix_rank_tolerances():
    la = flambeau.linalg
    D = flambeau.diag(flambeau.tensor([1.0, 0.3]))
    assert la.matrix_rank(D).item() == 2
    assert la.matrix_rank(D, atol=0.5).item() == 1
    assert la.matrix_rank(D, rtol=0.5).item() == 1
    assert la.matrix_rank(D, atol=0.1, rtol=0.5).item() == 1
    assert la.matrix_rank(D, tol=0.5).item() == 1
    assert la.matrix_rank(D, 0.5).item() == 1
    assert la.matrix_rank(flambeau.diag(flambeau.tensor([1.0, 1e-9])), atol=0.0).item() == 1
    assert la.matrix_rank(D, hermitian=True).item() == 2
    batch = flambeau.stack([D, 2 * D, D])
    assert la.matrix_rank(batch, atol=flambeau.tensor([0.5, 0.5, 0.1])).tolist() == [1, 2, 2]
    assert la.matrix_rank(flambeau.ones(2, 3)).dtype == flambeau.int64


def test_pinv_tolerances_and_rank_deficient():
    la = flambeau.linalg
    D = flambeau.diag(flambeau.tensor([1.0, 0.3]))
    assert la.pinv(D, atol=0.5).tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert la.pinv(D, rtol=0.5).tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert la.pinv(D, rcond=0.5).tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert la.pinv(D, 0.5, True).tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert flambeau.allclose(la.pinv(D), flambeau.diag(flambeau.tensor([1.0, 1 / 0.3])))
    A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]])
    P = la.pinv(A)
    assert flambeau.allclose(A @ P @ A, A, atol=1e-5) and flambeau.allclose(P @ A @ P, P)


def test_lstsq_fields_per_driver():
    la = flambeau.linalg
    rng = np.random.default_rng(5)
    A = flambeau.tensor(_distinct_sv(rng, np.float64, 5, 3))
    B = flambeau.tensor(_normal(rng, np.float64, 5, 2))
    default = la.lstsq(A, B)
    assert default.residuals.shape == (0,) and default.rank.item() == 3
    assert default.singular_values.shape == (0,)
    gels = la.lstsq(A, B, driver="gels")
    assert gels.rank.shape == (0,) and gels.rank.dtype == flambeau.int64
    assert gels.residuals.shape == (2,)
    expected = ((A @ gels.solution - B) ** 2).sum(0)
    assert flambeau.allclose(gels.residuals, expected)
    gelsd = la.lstsq(A, B, driver="gelsd")
    assert flambeau.allclose(gelsd.singular_values, la.svdvals(A))
    np.testing.assert_allclose(default.solution.cpu().numpy(),
                               np.linalg.lstsq(A.cpu().numpy(), B.cpu().numpy(), rcond=None)[0])
    # a rank-deficient A: the minimum-norm solution, no residuals
    R = flambeau.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    res = la.lstsq(R, flambeau.ones(3, 1), driver="gelsd")
    assert res.rank.item() == 1 and res.residuals.shape == (0,)
    assert flambeau.allclose(res.solution, flambeau.tensor([[0.0857143], [0.1714286]]))
    vec = la.lstsq(A, B[:, 0], driver="gelsd")
    assert vec.solution.shape == (3,) and vec.residuals.shape == (1,)


def test_lstsq_rank_deficient_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 1.0], [3.0, 6.0, 1.0], [0.0, 0.0, 2.0]])
    b = np.array([[1.0], [2.0], [0.5], [1.0]])
    # every flambeau driver solves through the SVD, as torch's 'gelsd' does (torch's 'gelsy'
    # misjudges this rank-2 matrix as rank 1)
    for driver in ("gelsd", "gelss"):
        ours = flambeau.linalg.lstsq(flambeau.tensor(a), flambeau.tensor(b), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        np.testing.assert_allclose(ours.solution.cpu().numpy(), theirs.solution.cpu().numpy(),
                                   atol=1e-10)
        assert ours.rank.item() == theirs.rank.item() == 2
        np.testing.assert_allclose(ours.singular_values.cpu().numpy(),
                                   theirs.singular_values.cpu().numpy(), atol=1e-12)


def test_norm_dispatch():
    la = flambeau.linalg
    A = flambeau.tensor([[3.0, 0.0], [0.0, 4.0]])
    assert la.norm(A).item() == 5.0
    assert la.norm(A, ord=1).item() == 4.0
    assert la.norm(A, ord="nuc").item() == pytest.approx(7.0)
    assert la.norm(flambeau.tensor([3.0, 4.0]), ord=1).item() == 7.0
    assert la.norm(flambeau.ones(2, 2, 2)).item() == pytest.approx(math.sqrt(8))
    assert la.norm(flambeau.ones(2, 2, 2), keepdim=True).shape == (1, 1, 1)
    assert la.norm(A, dim=(0, 1), ord=-2).item() == pytest.approx(3.0)
    assert la.norm(A, dtype=flambeau.float64).dtype == flambeau.float64
    with pytest.raises(RuntimeError, match=r"linalg\.matrix_norm: expected A to have at least 2"):
        la.norm(flambeau.ones(3), ord="fro")


def test_cross_values_and_dim():
    la = flambeau.linalg
    x = flambeau.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = flambeau.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert la.cross(x, y).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert la.cross(x.T, y.T, dim=0).T.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    ints = la.cross(flambeau.tensor([1, 2, 3]), flambeau.tensor([4, 5, 6]))
    assert ints.tolist() == [-3, 6, -3] and ints.dtype == flambeau.int64


def test_householder_product_is_qr_q():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 3))
    geqrf, tau = torch.geqrf(torch.tensor(a))
    Q = flambeau.linalg.householder_product(flambeau.tensor(geqrf.cpu().numpy()),
                                            flambeau.tensor(tau.cpu().numpy()))
    np.testing.assert_allclose(Q.cpu().numpy(), torch.linalg.qr(torch.tensor(a)).Q.cpu().numpy(),
                               atol=1e-12)


def test_public_names_and_docs():
    la = flambeau.linalg
    for name in la.__all__:
        obj = getattr(la, name)
        assert obj.__doc__ and "Examples" in obj.__doc__, name
    assert la.matmul is flambeau.matmul
    assert "eig" in la.__all__ and "eigvals" in la.__all__ and "complex" in la.__doc__


def test_out_argument():
    A = flambeau.tensor([[2.0, 0.0], [0.0, 4.0]])
    out = flambeau.empty(2, 2)
    assert flambeau.linalg.inv(A, out=out) is out
    assert out.tolist() == [[0.5, 0.0], [0.0, 0.25]]
    outs = (flambeau.empty(2), flambeau.empty(2, 2))
    res = flambeau.linalg.eigh(A, out=outs)  # the named tuple of the plain call, of the outs
    assert type(res).__name__ == "linalg_eigh" and res.eigenvalues is outs[0]
    assert res.eigenvectors is outs[1] and outs[0].tolist() == [2.0, 4.0]


def test_second_order_gradients_via_create_graph():
    # d/dA of sum(grad det) with create_graph: the Hessian-vector product exists
    A = flambeau.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=flambeau.float64, requires_grad=True)
    (g,) = flambeau.autograd.grad(flambeau.linalg.det(A), A, create_graph=True)
    (h,) = flambeau.autograd.grad(g.sum(), A)
    # det = a d - b c: grad = [[d, -c], [-b, a]], sum = a + d - b - c
    np.testing.assert_allclose(h.cpu().numpy(), [[1.0, -1.0], [-1.0, 1.0]], atol=1e-12)



def test_cond_by_inverse_matches_torch_forward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = _distinct_sv(rng, np.float64, 3, 3, 2)
    for p in _COND_P:
        np.testing.assert_allclose(flambeau.linalg.cond(flambeau.tensor(a), p).cpu().numpy(),
                                   torch.linalg.cond(torch.tensor(a), p).cpu().numpy(), rtol=1e-10)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("n", [33, 70])
def test_solve_triangular_by_blocks_matches_a_dense_solve(upper, n):
    # beyond 32 rows the triangle is solved block by block (lu_solve shares the routine)
    rng = np.random.default_rng(n)
    a = rng.standard_normal((2, n, n)) / n + 2 * np.eye(n)
    t = np.triu(a) if upper else np.tril(a)
    b = rng.standard_normal((2, n, 3))
    x = flambeau.linalg.solve_triangular(flambeau.tensor(a), flambeau.tensor(b), upper=upper)
    np.testing.assert_allclose(x.cpu().numpy(), np.linalg.solve(t, b), rtol=1e-12, atol=1e-12)
    A = flambeau.tensor(a[0], requires_grad=True)
    B = flambeau.tensor(b[0], requires_grad=True)
    flambeau.linalg.solve_triangular(A, B, upper=upper).sum().backward()
    # d sum(T^-1 B) / dB = T^-T 1, and / dT = -(T^-T 1) X^T on the triangle
    g = np.linalg.solve(t[0].T, np.ones((n, 3)))
    np.testing.assert_allclose(B.grad.cpu().numpy(), g, rtol=1e-10, atol=1e-12)
    full = -g @ np.linalg.solve(t[0], b[0]).T
    np.testing.assert_allclose(A.grad.cpu().numpy(), np.triu(full) if upper else np.tril(full),
                               rtol=1e-10, atol=1e-12)

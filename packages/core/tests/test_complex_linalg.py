"""Complex reductions, matrix products and linear algebra: values and gradients against
PyTorch (complex64 and complex128), gradcheck in complex128, ``linalg.eig``/``eigvals``, and
the errors of the ops that order their elements (complex numbers have no order).

Gradients are compared through real losses ``(out * w.conj()).real.sum()`` (``w`` random), so
they test the convention ``z.grad = dL/dx + i dL/dy``. Decompositions with a gauge freedom
(the phases of eigenvectors and singular vectors) are compared through phase-invariant
functions of their outputs.
"""

import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

COMPLEX = ["complex64", "complex128"]
#: value tolerance per dtype (gradients get 10 times more)
TOL = {"complex64": 5e-4, "complex128": 1e-9}

_DEVICE_UNDER_TEST = []


@pytest.fixture(autouse=True)
def _on_cpu():
    # these tests compare with torch's CPU tensors: every tensor here is a CPU one
    before = flambeau.get_default_device()
    _DEVICE_UNDER_TEST[:] = [before]
    flambeau.set_default_device("cpu")
    yield
    flambeau.set_default_device(before)


# ------------------------------------------------------------------ inputs


def _c(rng, dt, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)


def _r(rng, dt, *shape):
    return rng.standard_normal(shape).astype(np.finfo(dt).dtype)


def _well(rng, dt, n, *batch):
    """Well-conditioned complex matrices: random plus n on the diagonal."""
    return (_c(rng, dt, *batch, n, n) + n * np.eye(n)).astype(dt)


def _hpd(rng, dt, n, *batch):
    """Hermitian positive-definite matrices with distinct eigenvalues."""
    x = _c(rng, dt, *batch, n, n)
    return (x @ np.swapaxes(x.conj(), -1, -2) + n * np.eye(n)).astype(dt)


def _singular(rng, dt):
    """An exactly singular complex 3 x 3 matrix (its last row is zero)."""
    a = _c(rng, dt, 3, 3)
    a[2] = 0
    return a


def _tri(rng, dt, n, upper=True):
    a = _well(rng, dt, n)
    return np.triu(a) if upper else np.tril(a)


@dataclass
class Case:
    name: str
    fn: object  # fn(lib, *tensors): the same code for flambeau and torch
    inputs: object  # inputs(rng, numpy dtype) -> list of arrays
    grad: bool = True
    tol: float = 1.0  # a factor on TOL
    marks: list = field(default_factory=list)


def _hermitian(lib, x):
    """``x x^H + 3 I``: the gradient reaches ``x`` through a Hermitian matrix only."""
    return x @ x.mH + 3 * lib.eye(x.shape[-1], dtype=x.dtype)


def _eig_invariants(lib, a):
    """Functions of eig's output that neither the eigenvalues' order nor the eigenvectors'
    phases change."""
    L, V = lib.linalg.eig(a)
    return L.sum(), (L * L).sum(), (V.abs() ** 3).sum(-2).sum(), (L.abs().unsqueeze(-2)
                                                                   * V.abs()).sum()


def _svd_invariants(lib, a, full=False):
    U, S, Vh = lib.linalg.svd(a, full_matrices=full)
    k = S.shape[-1]
    U, Vh = U[..., :k], Vh[..., :k, :]
    return S, U.abs(), Vh.abs(), (U * S.unsqueeze(-2)) @ Vh, U[..., :, :1] @ Vh[..., :1, :]


CASES = [
    # ---------------------------------------------------------------- reductions
    Case("sum", lambda L, a: (a.sum(), a.sum(1), a.sum((0, 1), keepdim=True)),
         lambda g, d: [_c(g, d, 3, 4)]),
    Case("mean", lambda L, a: (a.mean(), a.mean(0)), lambda g, d: [_c(g, d, 3, 4)]),
    Case("prod", lambda L, a: (a.prod(), a.prod(1)), lambda g, d: [_c(g, d, 3, 4)]),
    Case("prod_with_zeros", lambda L, a: (a.prod(1), a.prod()),
         lambda g, d: [np.where([[1, 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1]], _c(g, d, 3, 4), 0)
                       .astype(d)]),
    Case("cumsum", lambda L, a: L.cumsum(a, 1), lambda g, d: [_c(g, d, 3, 4)]),
    Case("cumprod", lambda L, a: L.cumprod(a, 1), lambda g, d: [_c(g, d, 3, 4)]),
    Case("cumprod_with_zeros", lambda L, a: L.cumprod(a, 1),
         lambda g, d: [np.where([[1, 0, 1, 1], [1, 1, 1, 1], [0, 1, 0, 1]], _c(g, d, 3, 4), 0)
                       .astype(d)]),
    Case("var_std", lambda L, a: (a.var(), a.var(1), a.var(0, correction=0), a.std(1)),
         lambda g, d: [_c(g, d, 3, 4)]),
    Case("var_mean_std_mean", lambda L, a: (*L.var_mean(a, 1), *L.std_mean(a, 0)),
         lambda g, d: [_c(g, d, 3, 4)]),
    Case("norm", lambda L, a: tuple(L.norm(a, p) for p in ("fro", 2, 1, 3, 0.5, float("inf")))
         + (L.norm(a, dim=1), L.norm(a, "nuc")), lambda g, d: [_c(g, d, 3, 4)]),
    Case("vector_norm", lambda L, a: tuple(L.linalg.vector_norm(a, o, dim=1) for o in
                                           (2, 1, 3, 0.5, 0, float("inf"), -float("inf")))
         + (L.linalg.vector_norm(a),), lambda g, d: [_c(g, d, 3, 4)]),
    Case("matrix_norm", lambda L, a: tuple(L.linalg.matrix_norm(a, o) for o in
                                           ("fro", "nuc", 2, -2, 1, -1, float("inf")))
         + (L.linalg.norm(a), L.linalg.norm(a[0], 2), L.linalg.norm(a, "nuc", (1, 2))),
         lambda g, d: [_c(g, d, 2, 3, 4)]),
    Case("logsumexp", lambda L, a: (L.logsumexp(a, 1), L.logsumexp(a, (0, 1))),
         lambda g, d: [_c(g, d, 3, 4)]),
    Case("logcumsumexp", lambda L, a: L.logcumsumexp(a * 3, 1), lambda g, d: [_c(g, d, 3, 5)]),
    Case("dot_vdot_inner", lambda L, a, b: (L.dot(a, b), L.vdot(a, b), L.inner(a, b)),
         lambda g, d: [_c(g, d, 4), _c(g, d, 4)]),
    Case("inner_matrices", lambda L, a, b: L.inner(a, b), lambda g, d: [_c(g, d, 2, 4),
                                                                        _c(g, d, 3, 4)]),
    Case("outer_trace", lambda L, a, b: (L.outer(a, b), L.trace(L.outer(a, b))),
         lambda g, d: [_c(g, d, 3), _c(g, d, 3)]),
    # ---------------------------------------------------------------- matrix products
    Case("matmul", lambda L, a, b: (a @ b, L.mm(a, b)), lambda g, d: [_c(g, d, 3, 4),
                                                                      _c(g, d, 4, 2)]),
    Case("matmul_broadcast", lambda L, a, b: L.matmul(a, b),
         lambda g, d: [_c(g, d, 2, 1, 3, 4), _c(g, d, 3, 4, 2)]),
    Case("matmul_vectors", lambda L, a, v: (v @ a.mT, a @ v, v @ v, L.mv(a, v)),
         lambda g, d: [_c(g, d, 3, 4), _c(g, d, 4)]),
    Case("bmm", lambda L, a, b: L.bmm(a, b), lambda g, d: [_c(g, d, 2, 3, 4), _c(g, d, 2, 4, 2)]),
    Case("addmm", lambda L, c, a, b: (L.addmm(c, a, b), L.addmm(c, a, b, beta=0.5, alpha=2 - 1j)),
         lambda g, d: [_c(g, d, 3, 2), _c(g, d, 3, 4), _c(g, d, 4, 2)]),
    Case("addmv", lambda L, c, a, v: L.addmv(c, a, v, alpha=1j),
         lambda g, d: [_c(g, d, 3), _c(g, d, 3, 4), _c(g, d, 4)]),
    Case("baddbmm_addbmm", lambda L, c, a, b: (L.baddbmm(c, a, b), L.addbmm(c[0], a, b)),
         lambda g, d: [_c(g, d, 2, 3, 2), _c(g, d, 2, 3, 4), _c(g, d, 2, 4, 2)]),
    Case("einsum", lambda L, a, b, v: (L.einsum("ij,jk->ik", a, b),
                                       L.einsum("ij,jk,k->i", a, b, v),
                                       L.einsum("ii->i", a[:, :3]),
                                       L.einsum("bij,bj->bi", a.unsqueeze(0), b.mT)),
         lambda g, d: [_c(g, d, 3, 4), _c(g, d, 4, 2), _c(g, d, 2)]),
    Case("tensordot", lambda L, a, b: (L.tensordot(a, b, 1), L.tensordot(a, a.conj(), 2)),
         lambda g, d: [_c(g, d, 3, 4), _c(g, d, 4, 2)]),
    Case("kron", lambda L, a, b: L.kron(a, b), lambda g, d: [_c(g, d, 2, 3), _c(g, d, 2, 2)]),
    Case("multi_dot", lambda L, a, b, c: (L.linalg.multi_dot([a, b, c]), L.chain_matmul(a, b)),
         lambda g, d: [_c(g, d, 3, 4), _c(g, d, 4, 2), _c(g, d, 2, 5)]),
    Case("vecdot_cross", lambda L, a, b: (L.linalg.vecdot(a, b), L.linalg.cross(a, b)),
         lambda g, d: [_c(g, d, 2, 3), _c(g, d, 2, 3)]),
    # ---------------------------------------------------------------- solvers, inverses
    Case("inv", lambda L, a: (L.linalg.inv(a), L.linalg.inv_ex(a).inverse, L.inverse(a)),
         lambda g, d: [_well(g, d, 3, 2)]),
    Case("solve", lambda L, a, b: (L.linalg.solve(a, b), L.linalg.solve(a, b[..., 0]),
                                   L.linalg.solve(a, b.mT, left=False)),
         lambda g, d: [_well(g, d, 3), _c(g, d, 3, 2)]),
    Case("solve_triangular", lambda L, a, b: (
        L.linalg.solve_triangular(a, b, upper=True),
        L.linalg.solve_triangular(a.mT, b, upper=False, unitriangular=True),
        L.linalg.solve_triangular(a, b.mT, upper=True, left=False),
        L.triangular_solve(b, a, transpose=True).solution),
        lambda g, d: [_tri(g, d, 3), _c(g, d, 3, 2)]),
    Case("det_slogdet_logdet", lambda L, a: (L.linalg.det(a), *L.linalg.slogdet(a),
                                             L.logdet(a), L.det(a)),
         lambda g, d: [_well(g, d, 3, 2)]),
    # torch 2.13's gradient at an exactly singular matrix is 0; flambeau's is the cofactor
    # matrix (checked by gradcheck below)
    Case("det_singular", lambda L, a: (L.linalg.det(a), *L.linalg.slogdet(a)),
         lambda g, d: [_singular(g, d)], grad=False),
    Case("matrix_power", lambda L, a: (L.linalg.matrix_power(a, 3),
                                       L.linalg.matrix_power(a, -2),
                                       L.linalg.matrix_power(a, 0)),
         lambda g, d: [_well(g, d, 3)]),
    Case("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), lambda g, d: [_c(g, d, 2, 3, 3)]),
    Case("pinv", lambda L, a, h: (L.linalg.pinv(a), L.linalg.pinv(h, hermitian=True),
                                  L.pinverse(a)),
         lambda g, d: [_c(g, d, 4, 3), _hpd(g, d, 3)]),
    Case("lstsq", lambda L, a, b: (lambda r: (r.solution, r.residuals, r.singular_values))(
        L.linalg.lstsq(a, b, driver="gelsd")), lambda g, d: [_c(g, d, 5, 3), _c(g, d, 5, 2)]),
    Case("tensorinv_tensorsolve", lambda L, a, b: (L.linalg.tensorinv(a.reshape(2, 2, 4), 2),
                                                   L.linalg.tensorsolve(a.reshape(2, 2, 4), b)),
         lambda g, d: [_well(g, d, 4), _c(g, d, 2, 2)]),
    Case("cond", lambda L, a: L.linalg.cond(a), lambda g, d: [_well(g, d, 3)]),
    Case("cond_inverse_norms", lambda L, a: tuple(L.linalg.cond(a, p) for p in
                                                  ("fro", "nuc", 1, float("inf"))),
         lambda g, d: [_well(g, d, 3)], grad=False),  # torch 2.13's gradient errors out
    Case("matrix_rank", lambda L, a: L.linalg.matrix_rank(a),
         lambda g, d: [_c(g, d, 4, 2) @ _c(g, d, 2, 3)], grad=False),
    # ---------------------------------------------------------------- Hermitian ones
    Case("cholesky", lambda L, a: (L.linalg.cholesky(a), L.linalg.cholesky_ex(a).L,
                                   L.cholesky(a)), lambda g, d: [_hpd(g, d, 3, 2)]),
    Case("cholesky_upper", lambda L, x: L.linalg.cholesky(_hermitian(L, x), upper=True),
         lambda g, d: [_c(g, d, 3, 3)]),
    Case("cholesky_solve_inverse", lambda L, b, a: (
        L.cholesky_solve(b, L.linalg.cholesky(a)),
        L.cholesky_solve(b, L.linalg.cholesky(a).mH, upper=True),
        L.cholesky_inverse(L.linalg.cholesky(a))), lambda g, d: [_c(g, d, 3, 2), _hpd(g, d, 3)]),
    Case("eigh", lambda L, a: (lambda r: (r[0], r[1].abs(), (r[1] * r[0].unsqueeze(-2)) @ r[1].mH,
                                          r[1][..., :1] @ r[1][..., :1].mH))(L.linalg.eigh(a)),
         lambda g, d: [_hpd(g, d, 3, 2)]),
    Case("eigh_upper", lambda L, a: (lambda r: (r[0], r[1].abs()))(L.linalg.eigh(a, UPLO="U")),
         lambda g, d: [_hpd(g, d, 3)]),
    Case("eigvalsh", lambda L, a: (L.linalg.eigvalsh(a), L.linalg.eigvalsh(a, "U")),
         lambda g, d: [_hpd(g, d, 4)]),
    # ---------------------------------------------------------------- svd, qr
    Case("svd_square", lambda L, a: _svd_invariants(L, a), lambda g, d: [_c(g, d, 2, 3, 3)]),
    Case("svd_tall", lambda L, a: _svd_invariants(L, a), lambda g, d: [_c(g, d, 5, 3)]),
    Case("svd_wide", lambda L, a: _svd_invariants(L, a, True), lambda g, d: [_c(g, d, 3, 5)]),
    Case("svd_old_svdvals", lambda L, a: (lambda r: (r.S, r.U @ (r.S.unsqueeze(-1) * r.V.mH),
                                                     L.linalg.svdvals(a)))(L.svd(a)),
         lambda g, d: [_c(g, d, 4, 3)]),
    Case("qr", lambda L, a: L.linalg.qr(a), lambda g, d: [_c(g, d, 2, 4, 3)]),
    Case("qr_square_wide", lambda L, a, b: (*L.linalg.qr(a), *L.linalg.qr(b),
                                            *L.linalg.qr(b, mode="complete"), L.qr(a).R),
         lambda g, d: [_c(g, d, 3, 3), _c(g, d, 3, 5)]),
    Case("householder_product", lambda L, a, tau: L.linalg.householder_product(a, tau),
         lambda g, d: [_c(g, d, 4, 3), _c(g, d, 3) * 0.5]),
    Case("geqrf_ormqr", lambda L, a, c: (*L.geqrf(a.detach()),
                                         L.ormqr(*L.geqrf(a.detach()), c),
                                         L.ormqr(*L.geqrf(a.detach()), c, transpose=True),
                                         L.ormqr(*L.geqrf(a.detach()), c.mT, left=False,
                                                 transpose=True)),
         lambda g, d: [_c(g, d, 3, 3), _c(g, d, 3, 2)]),
    # ---------------------------------------------------------------- LU
    Case("lu", lambda L, a, b: (*L.linalg.lu(a), *L.linalg.lu(b), L.linalg.lu_factor(a)[0],
                                L.linalg.lu_factor(a)[1]),
         lambda g, d: [_c(g, d, 2, 4, 3), _c(g, d, 3, 4)]),
    Case("lu_solve", lambda L, a, b: tuple(
        L.linalg.lu_solve(*L.linalg.lu_factor(a), bb, left=left, adjoint=adjoint)
        for bb, left in ((b, True), (b.mT, False)) for adjoint in (False, True)),
        lambda g, d: [_well(g, d, 3), _c(g, d, 3, 2)]),
    Case("vander", lambda L, x: L.linalg.vander(x, N=4), lambda g, d: [_c(g, d, 2, 3)]),
    # ---------------------------------------------------------------- statistics
    Case("cov_corrcoef", lambda L, x, w: (L.cov(x), L.cov(x, correction=0, aweights=w),
                                          L.corrcoef(x)),
         lambda g, d: [_c(g, d, 3, 6), np.abs(_r(g, d, 6)) + 0.5]),
    Case("dist_renorm", lambda L, a, b: (L.dist(a, b), L.dist(a, b, 1), L.renorm(a, 2, 0, 1.0)),
         lambda g, d: [_c(g, d, 3, 4), _c(g, d, 3, 4)]),
    Case("trapezoid_diff", lambda L, y: (L.trapezoid(y), L.cumulative_trapezoid(y),
                                         L.diff(y)), lambda g, d: [_c(g, d, 3, 4)]),
    # ---------------------------------------------------------------- eig
    Case("eig", _eig_invariants, lambda g, d: [_c(g, d, 2, 4, 4)]),
    Case("eigvals", lambda L, a: (lambda w: (w.sum(), (w * w * w).sum(), w.abs().sum(),
                                             w.prod()))(L.linalg.eigvals(a)),
         lambda g, d: [_c(g, d, 4, 4)]),
]


def _seed(name):
    return zlib.crc32(name.encode())


def _tensors(lib, arrays, grad):
    out = []
    for a in arrays:
        if lib is torch:
            t = torch.tensor(a)
        else:
            t = flambeau.tensor(a, device="cpu")
        if grad and a.dtype.kind in "fc":
            t.requires_grad_()
        out.append(t)
    return out


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().numpy()
    return t.detach().cpu().numpy()


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _loss(lib, outs, weights):
    """``sum((out * w.conj()).real)`` over the floating point and complex outputs."""
    total = 0
    for o, w in zip(outs, weights):
        if w is None or not o.requires_grad:
            continue
        wt = lib.tensor(w) if lib is torch else flambeau.tensor(w, device="cpu")
        total = total + ((o * wt.conj()).real if o.dtype.is_complex else o * wt).sum()
    return total


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_values_and_gradients_match_torch(case, dtype):
    rng = np.random.default_rng(_seed(case.name))
    arrays = case.inputs(rng, np.dtype(dtype))
    tol = TOL[dtype] * case.tol
    ft = _tensors(flambeau, arrays, case.grad)
    tt = _tensors(torch, arrays, case.grad)
    fo, to = _outputs(case.fn(flambeau, *ft)), _outputs(case.fn(torch, *tt))
    assert len(fo) == len(to)
    weights = []
    for i, (a, b) in enumerate(zip(fo, to)):
        assert _dtype_name(a) == _dtype_name(b), (i, a.dtype, b.dtype)
        assert tuple(a.shape) == tuple(b.shape), (i, a.shape, b.shape)
        want = _np(b)
        np.testing.assert_allclose(_np(a), want, rtol=tol, atol=tol, err_msg=f"output {i}")
        kind = want.dtype.kind
        weights.append(_c(rng, want.dtype, *want.shape) if kind == "c" else
                       rng.standard_normal(want.shape).astype(want.dtype) if kind == "f" else
                       None)
    if not case.grad:
        return
    _loss(flambeau, fo, weights).backward()
    _loss(torch, to, weights).backward()
    for i, (x, y) in enumerate(zip(ft, tt)):
        if y.grad is None:
            assert x.grad is None or not np.any(_np(x.grad)), f"input {i}"
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.dtype == x.dtype
        np.testing.assert_allclose(_np(x.grad), _np(y.grad), rtol=10 * tol, atol=10 * tol,
                                   err_msg=f"gradient of input {i}")


# ------------------------------------------------------------------ gradcheck (complex128)

GRADCHECK = {
    "matmul": (lambda a, b: a @ b, lambda g: [_c(g, "D", 3, 2), _c(g, "D", 2, 3)]),
    "einsum": (lambda a, b: flambeau.einsum("ij,jk->ik", a, b),
               lambda g: [_c(g, "D", 2, 3), _c(g, "D", 3, 2)]),
    "prod_cumprod": (lambda a: (a.prod(1), a.cumprod(0)), lambda g: [_c(g, "D", 3, 3)]),
    "var_norm": (lambda a: (a.var(1), a.norm(), flambeau.linalg.vector_norm(a, 1, dim=0)),
                 lambda g: [_c(g, "D", 3, 3)]),
    "inv": (flambeau.linalg.inv, lambda g: [_well(g, "D", 3)]),
    "solve": (flambeau.linalg.solve, lambda g: [_well(g, "D", 3), _c(g, "D", 3, 2)]),
    "det_slogdet": (lambda a: (flambeau.linalg.det(a), *flambeau.linalg.slogdet(a)),
                    lambda g: [_well(g, "D", 3)]),
    "det_singular": (flambeau.linalg.det, lambda g: [_singular(g, "D")]),
    "cholesky": (lambda x: flambeau.linalg.cholesky(_hermitian(flambeau, x)),
                 lambda g: [_c(g, "D", 3, 3)]),
    "eigh": (lambda x: (lambda r: (r[0], r[1].abs()))(flambeau.linalg.eigh(_hermitian(flambeau,
                                                                                       x))),
             lambda g: [_c(g, "D", 3, 3)]),
    "svd": (lambda a: _svd_invariants(flambeau, a), lambda g: [_c(g, "D", 4, 3)]),
    "qr": (flambeau.linalg.qr, lambda g: [_c(g, "D", 4, 3)]),
    "matrix_exp": (flambeau.linalg.matrix_exp, lambda g: [_c(g, "D", 3, 3) * 0.5]),
    "pinv": (flambeau.linalg.pinv, lambda g: [_c(g, "D", 3, 2)]),
    "lu": (lambda a: flambeau.linalg.lu(a)[1:], lambda g: [_c(g, "D", 3, 3)]),
    "eig": (lambda a: _eig_invariants(flambeau, a), lambda g: [_c(g, "D", 3, 3)]),
    "eig_of_real": (lambda a: _eig_invariants(flambeau, a), lambda g: [_r(g, "D", 3, 3)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_complex128(name):
    fn, inputs = GRADCHECK[name]
    rng = np.random.default_rng(_seed(name))
    args = [flambeau.tensor(a, requires_grad=True) for a in inputs(rng)]
    assert flambeau.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", ["matmul", "inv", "solve", "det_slogdet"])
def test_gradgradcheck_complex128(name):
    fn, inputs = GRADCHECK[name]
    rng = np.random.default_rng(_seed(name))
    args = [flambeau.tensor(a, requires_grad=True) for a in inputs(rng)]
    assert flambeau.autograd.gradgradcheck(fn, args, eps=1e-6, atol=1e-5)


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("dtype", COMPLEX)
def test_result_dtypes_match_torch(dtype):
    a = np.eye(3, dtype=dtype) * 2 + 0.5j
    f, t = flambeau.tensor(a), torch.tensor(a)
    pairs = [
        (f.var(), t.var()), (f.std(0), t.std(0)), (f.norm(), t.norm()),
        (flambeau.linalg.vector_norm(f, 1), torch.linalg.vector_norm(t, 1)),
        (flambeau.linalg.matrix_norm(f, "nuc"), torch.linalg.matrix_norm(t, "nuc")),
        (flambeau.linalg.svdvals(f), torch.linalg.svdvals(t)),
        (flambeau.linalg.eigvalsh(f), torch.linalg.eigvalsh(t)),
        (flambeau.linalg.slogdet(f).sign, torch.linalg.slogdet(t).sign),
        (flambeau.linalg.slogdet(f).logabsdet, torch.linalg.slogdet(t).logabsdet),
        (flambeau.linalg.cond(f), torch.linalg.cond(t)),
        (flambeau.linalg.matrix_rank(f), torch.linalg.matrix_rank(t)),
        (flambeau.linalg.eigvals(f), torch.linalg.eigvals(t)),
        (f.prod(), t.prod()), (f.mean(), t.mean()), (flambeau.trace(f), torch.trace(t)),
    ]
    for x, y in pairs:
        assert _dtype_name(x) == _dtype_name(y)


@pytest.mark.parametrize(("real", "cplx"), [("float32", "complex64"),
                                            ("float64", "complex128")])
def test_eig_of_a_real_matrix_is_complex(real, cplx):
    a = np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0]], dtype=real)
    L, V = flambeau.linalg.eig(flambeau.tensor(a))
    assert L.dtype.name == cplx and V.dtype.name == cplx
    assert flambeau.linalg.eigvals(flambeau.tensor(a)).dtype.name == cplx
    np.testing.assert_allclose(sorted(L.numpy(), key=lambda z: (z.imag, z.real)),
                               [-2j, 3, 2j], atol=1e-6)
    # A V = V diag(L), unit-norm eigenvectors
    np.testing.assert_allclose(a @ V.numpy(), V.numpy() * L.numpy(), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(V.numpy(), axis=0), 1, atol=1e-6)


def test_eig_matches_torch_up_to_order_and_phase():
    rng = np.random.default_rng(3)
    a = _c(rng, "D", 2, 5, 5)
    L, V = flambeau.linalg.eig(flambeau.tensor(a))
    Lt, Vt = torch.linalg.eig(torch.tensor(a))
    L, V, Lt, Vt = L.numpy(), V.numpy(), Lt.numpy(), Vt.resolve_conj().numpy()
    for b in range(2):
        for j in range(5):
            k = int(np.argmin(np.abs(L[b] - Lt[b, j])))
            assert abs(L[b, k] - Lt[b, j]) < 1e-10
            v, w = V[b, :, k], Vt[b, :, j]
            phase = np.vdot(v, w) / abs(np.vdot(v, w))
            np.testing.assert_allclose(v * phase, w, atol=1e-10)


def test_eig_gradient_of_a_real_input_is_real_and_matches_torch():
    rng = np.random.default_rng(4)
    a = _r(rng, "D", 4, 4)
    x = flambeau.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    sum(_eig_invariants(flambeau, x)).real.backward()
    sum(_eig_invariants(torch, t)).real.backward()
    assert x.grad.dtype is flambeau.float64
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)


def test_eig_on_a_backend_without_a_general_eigensolver_runs_on_the_host():
    """CuPy has no ``linalg.eig``: the eigenpairs are computed by NumPy on the host and moved
    back with the backend's transfers (checked here with a stand-in backend)."""
    from types import SimpleNamespace

    from flambeau._ops.decompositions import raw_eig

    moved = []

    class Backend:
        def to_host(self, array):
            moved.append("to_host")
            return np.asarray(array)

        def from_host(self, array, index=None):
            moved.append(("from_host", array.dtype.name, index))
            return array

    linalg = SimpleNamespace(eigh=np.linalg.eigh)  # no eig, no eigvals
    xp = SimpleNamespace(linalg=linalg, isfinite=np.isfinite, asarray=np.asarray)
    device = SimpleNamespace(_xp=xp, _backend=Backend(), index=1)
    a = np.array([[0.0, -1.0], [1.0, 0.0]], dtype=np.float32)
    w, v = raw_eig(device, a)
    assert moved == ["to_host", ("from_host", "complex64", 1), ("from_host", "complex64", 1)]
    np.testing.assert_allclose(sorted(w, key=lambda z: z.imag), [-1j, 1j], atol=1e-6)
    np.testing.assert_allclose(a @ v, v * w, atol=1e-6)
    assert raw_eig(device, a, vectors=False).dtype == np.complex64


def test_eig_empty_and_batched_shapes():
    L, V = flambeau.linalg.eig(flambeau.zeros(2, 0, 0))
    assert tuple(L.shape) == (2, 0) and tuple(V.shape) == (2, 0, 0)
    assert L.dtype is flambeau.complex64
    L, V = flambeau.linalg.eig(flambeau.eye(3, dtype=flambeau.complex128).expand(2, 4, 3, 3))
    assert tuple(L.shape) == (2, 4, 3) and tuple(V.shape) == (2, 4, 3, 3)
    np.testing.assert_allclose(L.numpy(), 1)


# ------------------------------------------------------------------ errors

_ORDERING_OPS = {  # the same code for flambeau and torch
    "max": lambda L, z: L.max(z), "max_dim": lambda L, z: L.max(z, 1),
    "min": lambda L, z: z.min(), "amax": lambda L, z: z.amax(), "amin": lambda L, z: L.amin(z, 0),
    "argmax": lambda L, z: z.argmax(), "argmin": lambda L, z: L.argmin(z, 1),
    "aminmax": lambda L, z: L.aminmax(z), "sort": lambda L, z: L.sort(z),
    "argsort": lambda L, z: z.argsort(), "msort": lambda L, z: L.msort(z),
    "topk": lambda L, z: L.topk(z, 1), "kthvalue": lambda L, z: L.kthvalue(z, 1),
    "median": lambda L, z: z.median(), "nanmedian": lambda L, z: L.nanmedian(z),
    "mode": lambda L, z: L.mode(z), "cummax": lambda L, z: L.cummax(z, 1),
    "cummin": lambda L, z: L.cummin(z, 0),
}


@pytest.mark.parametrize("op", sorted(_ORDERING_OPS))
def test_ordering_ops_refuse_complex(op):
    z = [[1 + 1j, 2j], [3.0, -1j]]
    name = {"max_dim": "max", "argsort": "sort", "msort": "sort"}.get(op, op)
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): does not support complex input "
                                           r"\(got flambeau.complex64\)"):
        _ORDERING_OPS[op](flambeau, flambeau.tensor(z))
    with pytest.raises((RuntimeError, NotImplementedError)):  # torch refuses them too
        _ORDERING_OPS[op](torch, torch.tensor(z))


@pytest.mark.parametrize("op", ["nansum", "nanmean"])
def test_nan_reductions_refuse_complex_as_torch(op):
    z = flambeau.tensor([1j, float("nan")])
    with pytest.raises(RuntimeError, match=rf"^{op}\(\): does not support complex inputs"):
        getattr(flambeau, op)(z)
    with pytest.raises(RuntimeError, match="does not support complex"):
        getattr(torch, op)(torch.tensor(z.numpy()))


def test_quantile_refuses_complex():
    with pytest.raises(RuntimeError, match="must be either float or double"):
        flambeau.quantile(flambeau.tensor([1j, 2.0]), 0.5)


@pytest.mark.parametrize("op", ["eigh", "eig", "svd"])
def test_phase_dependent_losses_raise_in_backward(op):
    rng = np.random.default_rng(5)
    a = flambeau.tensor(_hpd(rng, "D", 3), requires_grad=True)
    vectors = getattr(flambeau.linalg, op)(a)[0 if op == "svd" else 1]
    loss = vectors.real.sum()  # changes with the phase of each vector
    what = "singular vectors" if op == "svd" else "eigenvectors"
    with pytest.raises(RuntimeError, match=rf"linalg\.{op}: the {what} of a complex matrix "
                                           r"are only defined up to a phase"):
        loss.backward()


def test_failures_are_reported_as_torch_reports_them():
    # not positive-definite: info and LAPACK's partial factor, as torch
    a = np.array([[[2, 1j, 0], [-1j, 2, 0], [0, 0, 1]], [[1, 2j, 0], [-2j, 1, 0], [0, 0, 1]]])
    got, want = flambeau.linalg.cholesky_ex(flambeau.tensor(a)), \
        torch.linalg.cholesky_ex(torch.tensor(a))
    np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
    np.testing.assert_allclose(got.L.numpy(), want.L.numpy(), atol=1e-6)
    with pytest.raises(flambeau.linalg.LinAlgError, match=r"\(batch element 1\): its leading "
                                                          "minor of order 2"):
        flambeau.linalg.cholesky(flambeau.tensor(a))
    # singular: info of inv_ex, solve's error
    s = np.array([[1, 1j], [1j, -1]])
    assert int(flambeau.linalg.inv_ex(flambeau.tensor(s)).info) == int(
        torch.linalg.inv_ex(torch.tensor(s)).info) == 2
    with pytest.raises(flambeau.linalg.LinAlgError, match=r"linalg\.solve: A is singular"):
        flambeau.linalg.solve(flambeau.tensor(s), flambeau.tensor(np.array([1j, 1])))


def test_vector_norm_dtype_argument():
    z = flambeau.tensor([3 + 4j, 0j])
    got = flambeau.linalg.vector_norm(z, dtype=flambeau.complex128)
    assert got.dtype is flambeau.float64 and float(got) == 5.0
    with pytest.raises(RuntimeError, match="without narrowing"):
        flambeau.linalg.vector_norm(z, dtype=flambeau.float32)


def test_eig_of_non_finite_input_raises():
    with pytest.raises(flambeau.linalg.LinAlgError, match=r"linalg\.eig: the input of shape "
                                                          r"\(2, 2\) contains non-finite"):
        flambeau.linalg.eig(flambeau.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(RuntimeError, match=r"linalg\.eigvals: .* non-finite"):
        flambeau.linalg.eigvals(flambeau.tensor([[float("inf")]]))


def test_decompositions_refuse_integer_and_half_inputs():
    with pytest.raises(RuntimeError, match=r"linalg\.eig: expected a floating point tensor"):
        flambeau.linalg.eig(flambeau.eye(2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"linalg\.eigvals: low precision dtypes"):
        flambeau.linalg.eigvals(flambeau.eye(2, dtype=flambeau.float16))


# ------------------------------------------------------------------ on the device under test


def test_complex_linalg_on_the_device_under_test():
    """The same ops on the device the run targets (FLAMBEAU_TEST_DEVICE), against the CPU:
    a backend without a general eigensolver computes eig on the host."""
    device = _DEVICE_UNDER_TEST[0]
    rng = np.random.default_rng(6)
    a = _well(rng, "D", 3)

    def run(dev):
        x = flambeau.tensor(a, device=dev, requires_grad=True)
        L, V = flambeau.linalg.eig(x)
        outs = [x @ x.mH, flambeau.linalg.inv(x), flambeau.linalg.det(x),
                flambeau.linalg.svdvals(x), L.sum(), V.abs(), x.prod(), x.var()]
        loss = sum(o.abs().sum() for o in outs)
        loss.backward()
        return [o.detach().cpu().numpy() for o in outs] + [x.grad.cpu().numpy()]

    for got, want in zip(run(device), run("cpu")):
        np.testing.assert_allclose(np.sort_complex(got.ravel()), np.sort_complex(want.ravel()),
                                   rtol=1e-9, atol=1e-9)

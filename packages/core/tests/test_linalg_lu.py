"""The LU family: linalg.lu_factor(_ex), linalg.lu, linalg.lu_solve, linalg.vander and the
top-level lu, lu_solve, lu_unpack.

Values, gradcheck/gradgradcheck (float64) and torch parity through the harness; plain tests
for pivots and info against torch (random, batched, rectangular, singular, ties, empty),
against hand-computed values (they run without torch), and for every documented error.
"""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau._ops import lu as lu_ops
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests, torch_or_none

LA_TOL = {"float32": (1e-4, 1e-3), "float64": (1e-8, 1e-7)}


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _wellcond(rng, dt, *shape):
    """Random matrices plus a dominant diagonal (for rectangular ones: its leading part):
    full rank, and the pivots stay put under finite-difference perturbations."""
    m, n = shape[-2:]
    return np.asarray(rng.standard_normal(shape) + 4 * np.eye(m, n), dtype=dt)


def _separated(rng, dt, *shape):
    """Random matrices whose pivot choices are not near ties (gradients are well defined)."""
    a = rng.standard_normal(shape)
    return np.asarray(a + np.sign(a) * 0.3, dtype=dt)


def _pivots(rng, n, *batch):
    """Valid LAPACK-style pivots: step ``i`` swaps with a row in ``[i, n)``."""
    out = np.stack([rng.integers(i + 1, n + 1, batch) for i in range(n)], -1)
    return out.astype(np.int32)


def _case(name, f, inputs, **kw):
    kw.setdefault("tolerances", LA_TOL)
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


def _np_vander(x, N=None):
    n = x.shape[-1] if N is None else N
    return x[..., None] ** np.arange(n)


CASES = [
    _case("lu_factor", lambda lib, a: lib.linalg.lu_factor(a).LU, lambda rng, dt: [
        (_separated(rng, dt, 3, 3),), (_separated(rng, dt, 2, 3, 3),),
        (_wellcond(rng, dt, 2, 4),), (_wellcond(rng, dt, 4, 2),), (_normal(rng, dt, 1, 1),)]),
    _case("lu_factor_ex", lambda lib, a: tuple(lib.linalg.lu_factor_ex(a)), lambda rng, dt: [
        (_separated(rng, dt, 2, 3, 3),), (_wellcond(rng, dt, 3, 4),)]),
    _case("lu_P", lambda lib, a: lib.linalg.lu(a).P, lambda rng, dt: [
        (_separated(rng, dt, 2, 3, 3),), (_wellcond(rng, dt, 4, 2),)], differentiable=False),
    _case("lu", lambda lib, a: tuple(lib.linalg.lu(a))[1:], lambda rng, dt: [
        (_separated(rng, dt, 3, 3),), (_separated(rng, dt, 2, 1, 3, 3),),
        (_wellcond(rng, dt, 2, 3),), (_wellcond(rng, dt, 2, 4, 3),)]),
    _case("lu_only_L", lambda lib, a: lib.linalg.lu(a).L, lambda rng, dt: [
        (_wellcond(rng, dt, 4, 2),)]),
    _case("lu_only_U", lambda lib, a: lib.linalg.lu(a).U, lambda rng, dt: [
        (_wellcond(rng, dt, 2, 4),)]),
    _case("lu_solve_packed", lambda lib, lu, b, p: lib.linalg.lu_solve(lu, p, b),
          lambda rng, dt: [
              (_wellcond(rng, dt, 3, 3), _normal(rng, dt, 3, 2), _pivots(rng, 3)),
              (_wellcond(rng, dt, 2, 3, 3), _normal(rng, dt, 3, 1), _pivots(rng, 3, 2)),
              (_wellcond(rng, dt, 3, 3), _normal(rng, dt, 2, 3, 2), _pivots(rng, 3))]),
    _case("lu_solve_adjoint", lambda lib, lu, b, p: lib.linalg.lu_solve(lu, p, b, adjoint=True),
          lambda rng, dt: [(_wellcond(rng, dt, 2, 3, 3), _normal(rng, dt, 2, 3, 2),
                            _pivots(rng, 3, 2))]),
    _case("lu_solve_right", lambda lib, lu, b, p: lib.linalg.lu_solve(lu, p, b, left=False),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3), _normal(rng, dt, 2, 3), _pivots(rng, 3))]),
    _case("lu_solve_right_adjoint",
          lambda lib, lu, b, p: lib.linalg.lu_solve(lu, p, b, left=False, adjoint=True),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3), _normal(rng, dt, 1, 3), _pivots(rng, 3))]),
    _case("lu_factor_then_solve",
          lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), lambda rng, dt: [
              (_separated(rng, dt, 3, 3), _normal(rng, dt, 3, 2)),
              (_separated(rng, dt, 2, 2, 2), _normal(rng, dt, 2, 1))]),
    _case("lu_solve_toplevel", lambda lib, a, b: lib.lu_solve(b, *lib.linalg.lu_factor(a)),
          lambda rng, dt: [(_separated(rng, dt, 3, 3), _normal(rng, dt, 3, 2))]),
    _case("lu_unpack", lambda lib, a: tuple(lib.lu_unpack(*lib.linalg.lu_factor(a)))[1:],
          lambda rng, dt: [(_separated(rng, dt, 3, 3),), (_wellcond(rng, dt, 2, 4, 3),),
                           (_wellcond(rng, dt, 2, 4),)]),
    _case("vander", lambda lib, x: lib.linalg.vander(x), lambda rng, dt: [
        (_normal(rng, dt, 3),), (_normal(rng, dt, 2, 4),)], numpy_ref=_np_vander),
    _case("vander_N", lambda lib, x: lib.linalg.vander(x, N=5), lambda rng, dt: [
        (_normal(rng, dt, 2),), (np.asarray([0.0, 1.5, -2.0], dtype=dt),)],
        numpy_ref=lambda x: _np_vander(x, 5)),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


def _t(a, dtype=np.float64):
    return flambeau.tensor(np.asarray(a, dtype=dtype))


# ------------------------------------------------------------------ values without torch


def test_values_by_hand():
    LU, piv, info = flambeau.linalg.lu_factor_ex(_t([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(LU.cpu().numpy(), [[3.0, 4.0], [1 / 3, 2 / 3]])
    assert piv.dtype == flambeau.int32 and piv.tolist() == [2, 2]
    assert info.dtype == flambeau.int32 and info.item() == 0
    P, L, U = flambeau.linalg.lu(_t([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(P.cpu().numpy(), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(L.cpu().numpy(), [[1.0, 0.0], [1 / 3, 1.0]])
    np.testing.assert_allclose(U.cpu().numpy(), [[3.0, 4.0], [0.0, 2 / 3]])


@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 5), (6, 3), (3, 6), (2, 2, 5, 3), (70, 70),
                                   (40, 90), (90, 40)])
def test_factors_reconstruct_and_pivot_rule(shape):
    """``P L U == A``, ``|L| <= 1`` (each pivot is the column's largest), and the pivots
    describe the same permutation as ``P`` (via lu_unpack)."""
    rng = np.random.default_rng(1)
    A = _t(rng.standard_normal(shape))
    P, L, U = flambeau.linalg.lu(A)
    np.testing.assert_allclose((P @ L @ U).cpu().numpy(), A.cpu().numpy(), atol=1e-12)
    assert float(L.abs().max()) <= 1.0
    LU, piv = flambeau.linalg.lu_factor(A)
    P2, L2, U2 = flambeau.lu_unpack(LU, piv)
    np.testing.assert_array_equal(P2.cpu().numpy(), P.cpu().numpy())
    np.testing.assert_array_equal(L2.cpu().numpy(), L.cpu().numpy())
    np.testing.assert_array_equal(U2.cpu().numpy(), U.cpu().numpy())


def test_ties_pick_the_first_row():
    LU, piv = flambeau.linalg.lu_factor(_t([[1.0, 2.0], [-1.0, 3.0]]))
    assert piv.tolist() == [1, 2]
    np.testing.assert_allclose(LU.cpu().numpy(), [[1.0, 2.0], [-1.0, 5.0]])


@pytest.mark.parametrize("a, info", [
    ([[1.0, 2.0], [2.0, 4.0]], 2),
    ([[0.0, 0.0], [0.0, 0.0]], 1),
    ([[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 6.0]], 1),
    ([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], 2),
    ([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]], 2),
])
def test_singular_matrices_factor_with_lapack_info(a, info):
    A = _t(a)
    r = flambeau.linalg.lu_factor_ex(A)
    assert r.info.item() == info
    P, L, U = flambeau.linalg.lu(A)  # never raises
    np.testing.assert_allclose((P @ L @ U).cpu().numpy(), A.cpu().numpy())
    assert np.isfinite(r.LU.cpu().numpy()).all()


def test_batched_info():
    A = flambeau.stack([flambeau.eye(2, dtype=flambeau.float64), _t([[1.0, 2.0], [2.0, 4.0]]),
                        flambeau.zeros(2, 2, dtype=flambeau.float64)])
    assert flambeau.linalg.lu_factor_ex(A).info.tolist() == [0, 2, 1]


def test_lu_solve_solves():
    rng = np.random.default_rng(2)
    A = _t(rng.standard_normal((2, 4, 4)) + 4 * np.eye(4))
    B = _t(rng.standard_normal((3, 1, 4, 2)))
    LU, piv = flambeau.linalg.lu_factor(A)
    X = flambeau.linalg.lu_solve(LU, piv, B)
    assert X.shape == (3, 2, 4, 2)
    np.testing.assert_allclose((A @ X).cpu().numpy(), np.broadcast_to(B.cpu().numpy(), X.shape),
                               atol=1e-12)
    Xa = flambeau.linalg.lu_solve(LU, piv, B, adjoint=True)
    np.testing.assert_allclose((A.mT @ Xa).cpu().numpy(), np.broadcast_to(B.cpu().numpy(), X.shape),
                               atol=1e-12)
    Bt = B.mT
    Xr = flambeau.linalg.lu_solve(LU, piv, Bt, left=False)
    np.testing.assert_allclose((Xr @ A).cpu().numpy(), np.broadcast_to(Bt.cpu().numpy(), Xr.shape),
                               atol=1e-12)
    Xra = flambeau.linalg.lu_solve(LU, piv, Bt, left=False, adjoint=True)
    np.testing.assert_allclose((Xra @ A.mT).cpu().numpy(), np.broadcast_to(Bt.cpu().numpy(),
                                                                           Xr.shape),
                               atol=1e-12)


def test_lu_solve_singular_gives_inf_or_nan():
    LU, piv, _ = flambeau.linalg.lu_factor_ex(_t([[1.0, 2.0], [2.0, 4.0]]))
    X = flambeau.linalg.lu_solve(LU, piv, _t([[1.0], [1.0]]))
    assert not np.isfinite(X.cpu().numpy()).all()


def test_without_pivoting_kernel():
    """pivot=False (GPU only in the public API) is plain Gaussian elimination."""
    a = np.asarray([[1.0, 2.0], [3.0, 4.0]])
    lu, piv, info, perm = lu_ops._getrf(np, a, False)
    np.testing.assert_allclose(lu, [[1.0, 2.0], [3.0, -2.0]])
    assert piv.tolist() == [1, 2] and perm.tolist() == [0, 1] and int(info) == 0


def test_empty_inputs():
    for shape in [(0, 0), (0, 3), (3, 0), (2, 0, 0), (2, 0, 3)]:
        A = flambeau.zeros(*shape, dtype=flambeau.float64)
        m, n = shape[-2:]
        LU, piv, info = flambeau.linalg.lu_factor_ex(A)
        assert LU.shape == shape and piv.shape == shape[:-2] + (min(m, n),)
        assert info.shape == shape[:-2] and piv.dtype == flambeau.int32
        P, L, U = flambeau.linalg.lu(A)
        assert P.shape == shape[:-2] + (m, m)
        assert L.shape == shape[:-2] + (m, min(m, n)) and U.shape == shape[:-2] + (min(m, n), n)
    LU, piv = flambeau.linalg.lu_factor(flambeau.zeros(0, 0))
    X = flambeau.linalg.lu_solve(LU, piv, flambeau.zeros(0, 2))
    assert X.shape == (0, 2)
    LU, piv = flambeau.linalg.lu_factor(flambeau.eye(3))
    assert flambeau.linalg.lu_solve(LU, piv, flambeau.zeros(3, 0)).shape == (3, 0)
    A = flambeau.zeros(0, 0, requires_grad=True)
    flambeau.linalg.lu_factor(A).LU.sum().backward()
    assert A.grad.shape == (0, 0)


def test_float32_and_results_types():
    A = flambeau.tensor([[2.0, 1.0], [1.0, 3.0]])
    r = flambeau.linalg.lu_factor(A)
    assert type(r).__name__ == "linalg_lu_factor" and r.LU.dtype == flambeau.float32
    assert type(flambeau.linalg.lu_factor_ex(A)).__name__ == "linalg_lu_factor_ex"
    assert type(flambeau.linalg.lu(A)).__name__ == "linalg_lu"
    assert type(flambeau.lu_unpack(*r)).__name__ == "lu_unpack"
    assert flambeau.linalg.lu(A).P.dtype == flambeau.float32


def test_out_arguments():
    A = _t([[1.0, 2.0], [3.0, 4.0]])
    LU, piv = flambeau.empty(0, dtype=flambeau.float64), flambeau.empty(0, dtype=flambeau.int32)
    res = flambeau.linalg.lu_factor(A, out=(LU, piv))
    assert res[0] is LU and piv.tolist() == [2, 2]
    X = flambeau.empty(0, dtype=flambeau.float64)
    flambeau.linalg.lu_solve(LU, piv, _t([[5.0], [11.0]]), out=X)
    np.testing.assert_allclose(X.cpu().numpy(), [[1.0], [2.0]])


def test_gradient_flags():
    A = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    LU, piv, info = flambeau.linalg.lu_factor_ex(A)
    assert LU.requires_grad and not piv.requires_grad and not info.requires_grad
    P, L, U = flambeau.linalg.lu(A)
    assert not P.requires_grad and L.requires_grad and U.requires_grad
    P, L, U = flambeau.lu_unpack(LU, piv)
    assert not P.requires_grad and L.requires_grad


@pytest.mark.parametrize("shape", [(256, 256), (3, 5, 5), (40, 90), (90, 40), (64, 8, 8),
                                   (2, 3, 33, 20)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generic_lu_matches_the_backend_kernel(shape, dtype, monkeypatch):
    """The pure-array LU (what runs without SciPy, and on backends without an ``lu_factor``
    kernel) gives the kernel's pivots and info, and its factors to rounding. On the CPU,
    whose backend has the kernel with SciPy (without, both sides would be the generic LU)."""
    pytest.importorskip("scipy")
    A = flambeau.tensor(np.random.default_rng(7).standard_normal(shape).astype(dtype),
                        device="cpu")
    assert "lu_factor" in A.device.backend.kernels
    fast = flambeau.linalg.lu_factor_ex(A)
    monkeypatch.delitem(A.device.backend.kernels, "lu_factor", raising=False)
    generic = flambeau.linalg.lu_factor_ex(A)
    np.testing.assert_array_equal(generic.pivots.cpu().numpy(), fast.pivots.cpu().numpy())
    np.testing.assert_array_equal(generic.info.cpu().numpy(), fast.info.cpu().numpy())
    tol = 1e-10 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(generic.LU.cpu().numpy(), fast.LU.cpu().numpy(), atol=tol)
    P, L, U = flambeau.lu_unpack(generic.LU, generic.pivots)
    np.testing.assert_allclose((P @ L @ U).cpu().numpy(), A.cpu().numpy(), atol=10 * tol)


@pytest.mark.parametrize("lu_shape,b_shape", [((256, 256), (256, 3)), ((2, 1, 5, 5), (3, 5, 2)),
                                               ((40, 40), (2, 40, 1))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("adjoint", [False, True])
def test_generic_lu_solve_matches_the_backend_kernel(lu_shape, b_shape, dtype, adjoint,
                                                      monkeypatch):
    pytest.importorskip("scipy")  # without it, both sides are the generic solve
    rng = np.random.default_rng(9)
    a = rng.standard_normal(lu_shape) + 3 * np.eye(lu_shape[-1])
    b = rng.standard_normal(b_shape)
    if dtype == np.complex128:
        a, b = a + 1j * rng.standard_normal(lu_shape), b - 2j * rng.standard_normal(b_shape)
    A, B = (flambeau.tensor(v.astype(dtype), device="cpu") for v in (a, b))
    LU, piv = flambeau.linalg.lu_factor(A)
    assert "lu_solve" in A.device.backend.kernels
    fast = flambeau.linalg.lu_solve(LU, piv, B, adjoint=adjoint)
    monkeypatch.delitem(A.device.backend.kernels, "lu_solve", raising=False)
    generic = flambeau.linalg.lu_solve(LU, piv, B, adjoint=adjoint)
    tol = 1e-10 if dtype != np.float32 else 1e-4
    np.testing.assert_allclose(fast.cpu().numpy(), generic.cpu().numpy(), rtol=tol, atol=tol)
    lhs = A.mH if adjoint else A
    np.testing.assert_allclose((lhs @ fast).cpu().numpy(), np.broadcast_to(b, fast.shape),
                               rtol=10 * tol, atol=10 * tol)


def test_numpy_lu_kernel_declines_what_the_generic_lu_does_better(monkeypatch):
    from flambeau.backends import _numpy_kernels as nk

    a = np.random.default_rng(8).standard_normal((2, 4, 3))
    lu, piv, info = nk.lu_factor(a) if nk._lapack("getrf", a.dtype) else (None, None, None)
    if lu is not None:  # SciPy is installed: LAPACK's getrf, column-major as in PyTorch
        P, L, U = flambeau.lu_unpack(flambeau.tensor(lu), flambeau.tensor(piv))
        np.testing.assert_allclose((P @ L @ U).cpu().numpy(), a, atol=1e-12)
        assert info.tolist() == [0, 0] and lu.strides[-2:] == (8, 32)
    assert nk.lu_factor(np.ones((1000, 3, 3))) is None  # many tiny matrices
    assert nk.lu_factor(np.ones((2, 0, 3))) is None
    assert nk.lu_factor(np.ones((1, 3, 3), dtype=np.float16)) is None
    eye = np.eye(3)[None]
    assert nk.lu_solve(eye, np.arange(3), np.ones((1000, 3, 1)), False) is None
    assert nk.lu_solve(eye, np.arange(3), np.ones((3, 0)), False) is None
    assert nk.lu_solve(np.zeros((3, 3)), np.arange(3), np.ones((3, 1)), False) is None
    monkeypatch.setitem(nk._LAPACK, ("getrf", "d"), None)  # as without SciPy
    monkeypatch.setitem(nk._LAPACK, ("trtrs", "d"), None)
    assert nk.lu_factor(np.ones((1, 3, 3))) is None
    assert nk.lu_solve(eye, np.arange(3), np.ones((3, 1)), False) is None


def test_blocked_gradient_matches_small_formula():
    """A matrix larger than a panel (the blocked path) still has the exact gradient: that of
    ``sum(A^-1 B)`` through lu_factor + lu_solve equals the one through linalg.solve."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 40)) + 4 * np.eye(40)
    b = rng.standard_normal((40, 2))
    A1 = _t(a).requires_grad_()
    flambeau.linalg.lu_solve(*flambeau.linalg.lu_factor(A1), _t(b)).sum().backward()
    A2 = _t(a).requires_grad_()
    flambeau.linalg.solve(A2, _t(b)).sum().backward()
    np.testing.assert_allclose(A1.grad.cpu().numpy(), A2.grad.cpu().numpy(), atol=1e-10)


# ------------------------------------------------------------------ top-level and methods


def test_toplevel_lu_warns_and_never_raises():
    A = _t([[1.0, 2.0], [2.0, 4.0]])
    with pytest.warns(UserWarning, match="flambeau.lu is deprecated"):
        res = flambeau.lu(A)
    assert isinstance(res, tuple) and len(res) == 2 and res[1].tolist() == [2, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LU, piv, info = flambeau.lu(A, get_infos=True)
        assert info.item() == 2
        LU2, piv2 = A.lu()
    np.testing.assert_array_equal(LU2.cpu().numpy(), LU.cpu().numpy())


def test_tensor_lu_solve_method():
    A = _t([[3.0, 1.0], [1.0, 2.0]])
    LU, piv = flambeau.linalg.lu_factor(A)
    b = _t([[9.0], [8.0]])
    with pytest.warns(UserWarning, match="flambeau.lu_solve is deprecated"):
        x = b.lu_solve(LU, piv)
    np.testing.assert_allclose(x.cpu().numpy(), [[2.0], [3.0]])


def test_lu_unpack_flags_and_integer_data():
    LU, piv = flambeau.linalg.lu_factor(_t([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]]))
    P, L, U = flambeau.lu_unpack(LU, piv, unpack_data=False)
    assert L.shape == (0,) and U.shape == (0,) and P.shape == (2, 2)
    P, L, U = flambeau.lu_unpack(LU, piv, unpack_pivots=False)
    assert P.shape == (0,) and L.shape == (2, 2) and U.shape == (2, 3)
    P, L, U = flambeau.lu_unpack(LU.long(), piv)
    assert P.dtype == flambeau.int64 and L.tolist() == [[1, 0], [0, 1]]


def test_vander_dtypes_and_batches():
    assert flambeau.linalg.vander(flambeau.tensor([1, 2], dtype=flambeau.int32)).dtype == \
        flambeau.int64
    v = flambeau.linalg.vander(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]), N=3)
    np.testing.assert_array_equal(v.cpu().numpy(), [[[1, 1, 1], [1, 2, 4]], [[1, 3, 9], [1, 4,
                                                                                         16]]])
    x = flambeau.tensor([0.0, 2.0], requires_grad=True)  # finite gradient at 0 too
    flambeau.linalg.vander(x, N=3).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [1.0, 5.0])


# ------------------------------------------------------------------ torch parity


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(5, 5), (4, 3, 3), (3, 6), (6, 3), (2, 1, 4, 2), (100, 100),
                                   (2, 60, 45), (0, 3), (3, 0), (2, 0, 0), (256, 256),
                                   (64, 8, 8), (200, 3, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_factor_parity_with_torch(shape, dtype):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(4)
    a = rng.standard_normal(shape).astype(dtype)
    r = flambeau.linalg.lu_factor_ex(flambeau.tensor(a))
    t = torch.linalg.lu_factor_ex(torch.from_numpy(a))
    np.testing.assert_array_equal(r.pivots.cpu().numpy(), t.pivots.cpu().numpy())
    np.testing.assert_array_equal(r.info.cpu().numpy(), t.info.cpu().numpy())
    tol = 1e-10 if dtype == "float64" else 1e-3
    np.testing.assert_allclose(r.LU.cpu().numpy(), t.LU.cpu().numpy(), atol=tol, rtol=tol)
    for ours, theirs in zip(flambeau.linalg.lu(flambeau.tensor(a)),
                            torch.linalg.lu(torch.from_numpy(a)), strict=True):
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy(), atol=tol, rtol=tol)


@pytest.mark.parity
@pytest.mark.parametrize("a", [
    [[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [-1.0, 3.0]],
    [[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 6.0]], [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
    [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]], [[2.0, 1.0, 1.0], [4.0, 2.0, 2.0], [-4.0, 1.0, 3.0]],
])
def test_singular_and_tie_parity_with_torch(a):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    a = np.asarray(a)
    r = flambeau.linalg.lu_factor_ex(flambeau.tensor(a))
    t = torch.linalg.lu_factor_ex(torch.from_numpy(a))
    np.testing.assert_array_equal(r.pivots.cpu().numpy(), t.pivots.cpu().numpy())
    assert r.info.item() == t.info.item()
    np.testing.assert_allclose(r.LU.cpu().numpy(), t.LU.cpu().numpy(), atol=1e-12)


@pytest.mark.parity
def test_unpack_and_vander_parity_with_torch():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    pivots = _pivots(np.random.default_rng(5), 4, 3)
    lu = np.random.default_rng(6).standard_normal((3, 4, 4))
    ours = flambeau.lu_unpack(flambeau.tensor(lu), flambeau.tensor(pivots))
    theirs = torch.lu_unpack(torch.from_numpy(lu), torch.from_numpy(pivots))
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.cpu().numpy(), t.cpu().numpy())
    for x in ([1, 2, 3], [[1.5, -2.0], [0.0, 3.0]]):
        for N in (None, 2, 4):
            o = flambeau.linalg.vander(flambeau.tensor(x), N=N)
            t = torch.linalg.vander(torch.tensor(x), N=N)
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            np.testing.assert_allclose(o.cpu().numpy(), t.cpu().numpy())



def _tiny_batch(rng, shape, dtype):
    """Random matrices with, mixed in, exactly singular ones (a zero column, a zero row, all
    zeros) and integer ones full of ties, so every step of the batched LU meets them."""
    a = rng.standard_normal(shape)
    flat = a.reshape((-1,) + shape[-2:])
    flat[1, :, 0] = 0
    flat[2, -1, :] = 0
    flat[3] = 0
    flat[4:12] = rng.integers(-2, 3, flat[4:12].shape)
    return a.astype(dtype)


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(256, 4, 4), (200, 2, 5), (200, 5, 2), (150, 6, 6),
                                   (130, 1, 1), (64, 8, 8), (2, 64, 3, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batched_small_lu_parity_with_torch(shape, dtype):
    """Many small matrices factor at once, a column at a time over the whole batch (the
    NumPy backend leaves them to the generic LU, see _numpy_kernels): torch's pivots and
    info (singular matrices and ties included), factors, ``linalg.lu``, and the
    determinants and solutions that follow from them."""
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    a = _tiny_batch(np.random.default_rng(11), shape, dtype)
    r = flambeau.linalg.lu_factor_ex(flambeau.tensor(a))
    t = torch.linalg.lu_factor_ex(torch.from_numpy(a))
    np.testing.assert_array_equal(r.pivots.cpu().numpy(), t.pivots.numpy())
    np.testing.assert_array_equal(r.info.cpu().numpy(), t.info.numpy())
    info = r.info.cpu().numpy().reshape(-1)
    assert info[1] == 1 and info[3] == 1  # a zero first column, a zero matrix
    tol = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(r.LU.cpu().numpy(), t.LU.numpy(), atol=tol, rtol=tol)
    for ours, theirs in zip(flambeau.linalg.lu(flambeau.tensor(a)),
                            torch.linalg.lu(torch.from_numpy(a)), strict=True):
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), atol=tol, rtol=tol)
    if shape[-1] != shape[-2]:
        return
    # det = sign(P) prod(diag(U)), and lu_solve, from our factors against torch's det/solve
    n = shape[-1]
    swaps = (r.pivots.cpu().numpy() != np.arange(1, n + 1)).sum(-1)
    det = np.where(swaps % 2, -1, 1) * np.diagonal(r.LU.cpu().numpy(), 0, -2, -1).prod(-1)
    np.testing.assert_allclose(det, torch.linalg.det(torch.from_numpy(a)).numpy(),
                               atol=tol, rtol=10 * tol)
    ok = r.info.cpu().numpy() == 0
    b = np.random.default_rng(12).standard_normal(shape[:-1] + (2,)).astype(dtype)
    x = flambeau.linalg.lu_solve(r.LU, r.pivots, flambeau.tensor(b)).cpu().numpy()
    tx = torch.linalg.solve(torch.from_numpy(a[ok]), torch.from_numpy(b[ok])).numpy()
    np.testing.assert_allclose(x[ok], tx, atol=1e3 * tol, rtol=1e3 * tol)


@pytest.mark.parity
def test_batched_small_lu_gradient_parity_with_torch():
    """The backward of the batched path (its row order, rebuilt from the pivots) is
    torch's."""
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    a = _separated(np.random.default_rng(13), np.float64, 256, 4, 4)
    g = np.random.default_rng(14).standard_normal(a.shape)
    A, TA = flambeau.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (flambeau.linalg.lu_factor(A).LU * flambeau.tensor(g)).sum().backward()
    (torch.linalg.lu_factor(TA).LU * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(A.grad.cpu().numpy(), TA.grad.numpy(), atol=1e-8, rtol=1e-8)


def test_numpy_lu_kernel_leaves_only_tiny_matrices_to_the_batched_lu():
    """The thresholds measured for the NumPy backend: LAPACK per matrix from 7 columns on
    or for few matrices, the batched LU for many matrices of at most 6 columns."""
    pytest.importorskip("scipy")
    from flambeau.backends import _numpy_kernels as nk

    assert nk.lu_factor(np.ones((64, 8, 8))) is not None
    assert nk.lu_factor(np.ones((5000, 7, 7))) is not None
    assert nk.lu_factor(np.ones((80, 4, 4))) is not None
    assert nk.lu_factor(np.ones((81, 4, 4))) is None
    assert nk.lu_factor(np.ones((256, 6, 6))) is None



@pytest.mark.parity
@pytest.mark.parametrize("lu_shape,b_shape", [((7, 7), (4, 7, 3)), ((1, 7, 7), (2, 3, 7, 2)),
                                               ((1, 1, 7, 7), (5, 7, 1)), ((40, 40), (3, 40, 0))])
@pytest.mark.parametrize("kernel", [True, False])
def test_one_factor_batched_rhs_parity_with_torch(lu_shape, b_shape, kernel, monkeypatch):
    """One factorization and a batch of right-hand sides are solved as one wide system
    (with the backend's kernel and with the generic solve): torch's solutions and
    gradients, for every left/adjoint combination."""
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(15)
    a = rng.standard_normal(lu_shape) + 3 * np.eye(lu_shape[-1])
    b = rng.standard_normal(b_shape)
    A = flambeau.tensor(a, device="cpu")
    if not kernel:
        monkeypatch.delitem(A.device.backend.kernels, "lu_solve", raising=False)
    TL, TP = torch.linalg.lu_factor(torch.from_numpy(a))
    for left in (True, False):
        rhs = b if left else np.swapaxes(b, -1, -2)
        for adjoint in (False, True):
            LU, piv = flambeau.linalg.lu_factor(A)
            LU.requires_grad_()
            B = flambeau.tensor(rhs, device="cpu", requires_grad=True)
            x = flambeau.linalg.lu_solve(LU, piv, B, left=left, adjoint=adjoint)
            tl, tb = TL.clone().requires_grad_(), torch.tensor(rhs, requires_grad=True)
            tx = torch.linalg.lu_solve(tl, TP, tb, left=left, adjoint=adjoint)
            assert tuple(x.shape) == tuple(tx.shape)
            np.testing.assert_allclose(x.detach().cpu().numpy(), tx.detach().numpy(),
                                       atol=1e-12, rtol=1e-10)
            if not x.numel():
                continue
            g = rng.standard_normal(tuple(tx.shape))
            x.backward(flambeau.tensor(g, device="cpu"))
            tx.backward(torch.from_numpy(g))
            np.testing.assert_allclose(B.grad.cpu().numpy(), tb.grad.numpy(), atol=1e-10)
            np.testing.assert_allclose(LU.grad.cpu().numpy(), tl.grad.numpy(), atol=1e-10)


# ------------------------------------------------------------------ errors


def test_singular_lu_factor_errors():
    with pytest.raises(RuntimeError, match=r"^linalg.lu_factor: the input of shape \(2, 2\) is "
                       r"singular: diagonal element 2 of its LU factorization is zero, so using "
                       r"the factorization in lu_solve "
                       r"would divide by zero; call linalg.lu_factor_ex\(A\) or "
                       r"linalg.lu\(A\) to factor it anyway$"):
        flambeau.linalg.lu_factor(_t([[1.0, 2.0], [2.0, 4.0]]))
    A = flambeau.stack([flambeau.eye(2), flambeau.zeros(2, 2)])
    with pytest.raises(RuntimeError, match=r"linalg.lu_factor_ex: the input of shape "
                       r"\(2, 2, 2\) is singular \(batch element 1\): diagonal element 1 of "
                       r"its LU factorization is zero"):
        flambeau.linalg.lu_factor_ex(A, check_errors=True)
    with pytest.raises(RuntimeError, match=r"linalg.lu_factor: .* \(2, 3\) is singular"):
        flambeau.linalg.lu_factor(flambeau.ones(2, 3))


@pytest.mark.parametrize("call, op", [
    (lambda A: flambeau.linalg.lu_factor(A, pivot=False), "linalg.lu_factor"),
    (lambda A: flambeau.linalg.lu_factor_ex(A, pivot=False), "linalg.lu_factor_ex"),
    (lambda A: flambeau.linalg.lu(A, pivot=False), "linalg.lu"),
])
def test_no_pivoting_refused_on_cpu(call, op):
    message = f"^{op}: LU without pivoting is not implemented on the CPU$"
    with pytest.raises(RuntimeError, match=message):
        call(flambeau.eye(2, device="cpu"))


@pytest.mark.parametrize("call, op", [
    (lambda A: flambeau.linalg.lu_factor(A), "linalg.lu_factor"),
    (lambda A: flambeau.linalg.lu_factor_ex(A), "linalg.lu_factor_ex"),
    (lambda A: flambeau.linalg.lu(A), "linalg.lu"),
])
def test_factor_input_errors(call, op):
    with pytest.raises(RuntimeError, match=rf"^{op}: expected A to have at least 2 dimensions "
                       r"\(a matrix or a batch of matrices\), but got a tensor of shape \(3,\)"):
        call(flambeau.ones(3))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected a floating point tensor as input, "
                       "but A has dtype flambeau.int64"):
        call(flambeau.ones(2, 2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=rf"^{op}: low precision dtypes are not supported, "
                       "but A has dtype flambeau.float16"):
        call(flambeau.ones(2, 2, dtype=flambeau.float16))
    with pytest.raises(TypeError, match=rf"^{op}: expected A to be a Tensor, got list"):
        call([[1.0]])


def test_lu_solve_errors():
    LU, piv = flambeau.linalg.lu_factor(flambeau.tensor([[3.0, 1.0], [1.0, 2.0]]))
    B = flambeau.ones(2, 1)
    op = "linalg.lu_solve"
    with pytest.raises(RuntimeError, match=rf"^{op}: expected LU to be a square matrix or a "
                       r"batch of square matrices, but got shape \(2, 3\) \(2 by 3 matrices\)"):
        flambeau.linalg.lu_solve(flambeau.ones(2, 3), piv, B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots to have dtype "
                       r"flambeau.int32 \(as linalg.lu_factor returns them\), but got "
                       "flambeau.int64"):
        flambeau.linalg.lu_solve(LU, piv.long(), B)
    with pytest.raises(TypeError, match=rf"^{op}: expected pivots to be a Tensor, got list"):
        flambeau.linalg.lu_solve(LU, [1, 2], B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots of shape \(2,\) for LU of "
                       r"shape \(2, 2\) \(LU.shape\[:-2\] \+ \(min\(m, n\),\)\), but got \(1,\)"):
        flambeau.linalg.lu_solve(LU, piv[:1], B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots of shape \(2,\) .* but got "
                       r"\(3, 2\)"):
        flambeau.linalg.lu_solve(LU, piv.expand(3, 2), B)
    bad = flambeau.tensor([3, 2], dtype=flambeau.int32)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots must be between 1 and "
                       r"LU.shape\[-2\] = 2, but got values from 2 to 3; pass the pivots that "
                       "linalg.lu_factor returns"):
        flambeau.linalg.lu_solve(LU, bad, B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots must be between 1 and .* from 0 "):
        flambeau.linalg.lu_solve(LU, flambeau.tensor([0, 2], dtype=flambeau.int32), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected B to have at least 2 dimensions "
                       r"\(a matrix or a batch of matrices\), but got a tensor of shape \(2,\)"):
        flambeau.linalg.lu_solve(LU, piv, flambeau.ones(2))
    with pytest.raises(TypeError, match=rf"^{op}: expected B to be a Tensor, got float"):
        flambeau.linalg.lu_solve(LU, piv, 1.0)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected LU and B to have the same dtype, "
                       "but LU has dtype flambeau.float32 and B has dtype flambeau.float64"):
        flambeau.linalg.lu_solve(LU, piv, B.double())
    with pytest.raises(RuntimeError, match=rf"^{op}: incompatible shapes of LU \(2, 2\) and B "
                       r"\(3, 1\) for the equation AX = B: A is 2 by 2, so B needs 2 rows, "
                       "not 3"):
        flambeau.linalg.lu_solve(LU, piv, flambeau.ones(3, 1))
    with pytest.raises(RuntimeError, match=rf"^{op}: incompatible shapes of LU \(2, 2\) and B "
                       r"\(2, 1\) for the equation XA = B: A is 2 by 2, so B needs 2 columns, "
                       "not 1"):
        flambeau.linalg.lu_solve(LU, piv, B, left=False)
    LU3 = LU.expand(3, 2, 2)
    with pytest.raises(RuntimeError, match=rf"^{op}: the batch dimensions of shapes "
                       r"\(3, 2, 2\) and \(4, 2, 1\) cannot be broadcast together"):
        flambeau.linalg.lu_solve(LU3, piv.expand(3, 2), flambeau.ones(4, 2, 1))
    with pytest.raises(RuntimeError, match=r"^lu_solve: expected B to have at least 2 "
                       "dimensions"), pytest.warns(UserWarning):
        flambeau.lu_solve(flambeau.ones(2), LU, piv)


def test_lu_unpack_errors():
    LU, piv = flambeau.linalg.lu_factor(flambeau.tensor([[3.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(RuntimeError, match=r"^lu_unpack: expected LU_data to have at least 2 "
                       r"dimensions, but got a tensor of shape \(2,\)"):
        flambeau.lu_unpack(flambeau.ones(2), piv)
    with pytest.raises(TypeError, match=r"^lu_unpack: expected LU_data to be a Tensor"):
        flambeau.lu_unpack(None, piv)
    with pytest.raises(RuntimeError, match=r"^lu_unpack: expected LU_pivots to have dtype "
                       r"flambeau.int32 .* but got flambeau.float32"):
        flambeau.lu_unpack(LU, piv.float())
    with pytest.raises(RuntimeError, match=r"^lu_unpack: expected LU_pivots of shape \(2,\)"):
        flambeau.lu_unpack(LU, piv[:1])
    with pytest.raises(RuntimeError, match=r"^lu_unpack: LU_pivots must be between 1 and "
                       r"LU.shape\[-2\] = 2, but got values from 2 to 7"):
        flambeau.lu_unpack(LU, flambeau.tensor([7, 2], dtype=flambeau.int32))


def test_vander_errors():
    op = "linalg.vander"
    with pytest.raises(RuntimeError, match=rf"^{op}: supports floating point \(float32, "
                       r"float64\) and integer tensors, but got flambeau.bool"):
        flambeau.linalg.vander(flambeau.tensor([True, False]))
    with pytest.raises(RuntimeError, match=rf"^{op}: supports .* but got flambeau.float16"):
        flambeau.linalg.vander(flambeau.ones(2, dtype=flambeau.float16))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected x to have at least 1 dimension, "
                       "but got a 0-d tensor"):
        flambeau.linalg.vander(flambeau.tensor(2.0))
    with pytest.raises(RuntimeError, match=rf"^{op}: N must be greater than 1, but got N=1$"):
        flambeau.linalg.vander(flambeau.ones(3), N=1)
    with pytest.raises(RuntimeError, match=rf"^{op}: N must be greater than 1, but got N=0 "
                       r"\(x.shape\[-1\] of x of shape \(2, 0\)\)"):
        flambeau.linalg.vander(flambeau.ones(2, 0))
    with pytest.raises(TypeError, match=rf"^{op}: expected x to be a Tensor, got list"):
        flambeau.linalg.vander([1.0, 2.0])

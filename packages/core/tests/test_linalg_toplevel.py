"""The top-level linear-algebra functions (torch.det, torch.svd, torch.tensordot, ...) and
their Tensor methods: values, gradcheck/gradgradcheck and torch parity through the harness,
plus plain tests for the older APIs' conventions and errors."""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests

LA_TOL = {"float32": (1e-4, 1e-3), "float64": (1e-8, 1e-7)}


def _normal(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _wellcond(rng, dt, *shape):
    n = shape[-1]
    return np.asarray(rng.standard_normal(shape) + n * np.eye(n), dtype=dt)


def _lower(rng, dt, *shape):
    n = shape[-1]
    return np.asarray(np.tril(rng.standard_normal(shape)) + 2 * n * np.eye(n), dtype=dt)


def _tall(rng, dt, m, n, *batch):
    """Full-rank matrices with distinct singular values."""
    a = rng.standard_normal((*batch, m, n))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    s = np.linspace(3.0, 1.0, min(m, n))
    return np.asarray((u * s) @ vh, dtype=dt)


def _case(name, f, inputs, **kw):
    kw.setdefault("tolerances", LA_TOL)
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


def _spd(lib, a):
    n = a.shape[-1]
    return a @ a.mT + n * lib.eye(n, dtype=a.dtype)


def _legacy_svd(u, s, v):
    return s, u.abs(), v.abs(), (u * s.unsqueeze(-2)) @ v.mT


CASES = [
    _case("det", lambda lib, a: (lib.det(a), a.det()), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (_wellcond(rng, dt, 2, 2, 2),)],
        numpy_ref=lambda a: (np.linalg.det(a),) * 2),
    _case("logdet", lambda lib, a: (lib.logdet(_spd(lib, a)), _spd(lib, a).logdet()),
          lambda rng, dt: [(_normal(rng, dt, 3, 3),), (_normal(rng, dt, 2, 2, 2),)]),
    _case("logdet_negative", lambda lib, a: lib.logdet(-_spd(lib, a)), lambda rng, dt: [
        (_normal(rng, dt, 3, 3),)], differentiable=False),
    _case("slogdet", lambda lib, a: (lib.slogdet(a).logabsdet, a.slogdet()[1]),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3),)]),
    _case("inverse", lambda lib, a: (lib.inverse(a), a.inverse()), lambda rng, dt: [
        (_wellcond(rng, dt, 3, 3),), (_wellcond(rng, dt, 2, 2, 2),)]),
    _case("pinverse", lambda lib, a: (lib.pinverse(a), a.pinverse(rcond=1e-10)),
          lambda rng, dt: [(_tall(rng, dt, 4, 3),), (_tall(rng, dt, 2, 3),)]),
    _case("cholesky", lambda lib, a: (lib.cholesky(_spd(lib, a)),
                                      _spd(lib, a).cholesky(upper=True)),
          lambda rng, dt: [(_normal(rng, dt, 3, 3),), (_normal(rng, dt, 2, 2, 2),)]),
    # the factor goes through tril/triu: the functions read one triangle, and PyTorch's
    # gradient for the other (never read) is not a derivative (its tests wrap inputs alike)
    _case("cholesky_solve", lambda lib, b, L: (lib.cholesky_solve(b, L.tril()),
                                               b.cholesky_solve(L.tril())),
          lambda rng, dt: [(_normal(rng, dt, 3, 2), _lower(rng, dt, 3, 3)),
                           (_normal(rng, dt, 2, 3, 1), _lower(rng, dt, 3, 3))]),
    _case("cholesky_solve_upper", lambda lib, b, U: lib.cholesky_solve(b, U.triu(), upper=True),
          lambda rng, dt: [(_normal(rng, dt, 3, 2), _lower(rng, dt, 3, 3).T.copy())]),
    _case("cholesky_inverse", lambda lib, L: (lib.cholesky_inverse(L.tril()),
                                              L.tril().cholesky_inverse(),
                                              lib.cholesky_inverse(L.tril().mT, upper=True)),
          lambda rng, dt: [(_lower(rng, dt, 3, 3),), (_lower(rng, dt, 2, 2, 2),)]),
    _case("qr", lambda lib, a: tuple(lib.qr(a)) + tuple(a.qr()), lambda rng, dt: [
        (_tall(rng, dt, 4, 3),), (_tall(rng, dt, 2, 3),)]),
    _case("qr_complete_wide", lambda lib, a: tuple(lib.qr(a, some=False)), lambda rng, dt: [
        (_tall(rng, dt, 2, 3),)]),
    _case("qr_complete_tall", lambda lib, a: tuple(lib.qr(a, some=False)), lambda rng, dt: [
        (_tall(rng, dt, 4, 3),)], differentiable=False),
    _case("svd", lambda lib, a: _legacy_svd(*lib.svd(a)) + _legacy_svd(*a.svd()),
          lambda rng, dt: [(_tall(rng, dt, 4, 3),), (_tall(rng, dt, 2, 3),),
                           (_tall(rng, dt, 3, 3, 2),)]),
    _case("svd_some_false", lambda lib, a: (lambda u, s, v: (
        tuple(u.shape), tuple(v.shape), s, (u[..., :2] * s) @ v[..., :2].mT))(
        *lib.svd(a, some=False)), lambda rng, dt: [(_tall(rng, dt, 4, 2),)]),
    _case("svd_no_uv", lambda lib, a: lib.svd(a, compute_uv=False).S, lambda rng, dt: [
        (_tall(rng, dt, 4, 3),), (_tall(rng, dt, 2, 3, 2),)]),
    _case("matrix_power", lambda lib, a: (lib.matrix_power(a, 3), a.matrix_power(-1)),
          lambda rng, dt: [(_wellcond(rng, dt, 3, 3) / 3,)]),
    _case("matrix_exp", lambda lib, a: (lib.matrix_exp(a), a.matrix_exp()), lambda rng, dt: [
        (_normal(rng, dt, 3, 3),), (_normal(rng, dt, 2, 2, 2),)]),
    _case("cross", lambda lib, a, b: (lib.cross(a, b, dim=1), a.cross(b, dim=-1)),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), _normal(rng, dt, 2, 3))]),
    _case("tensordot", lambda lib, a, b: (lib.tensordot(a, b, dims=2),
                                          lib.tensordot(a.mT, b, dims=([1, 2], [1, 0])),
                                          lib.tensordot(a, b, dims=0)),
          lambda rng, dt: [(_normal(rng, dt, 2, 3, 4), _normal(rng, dt, 3, 4, 2))]),
    _case("tensordot_one", lambda lib, a, b: lib.tensordot(a, b, dims=1), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 3, 2))],
        numpy_ref=lambda a, b: np.tensordot(a, b, axes=1)),
    _case("chain_matmul", lambda lib, a, b, c: (lib.chain_matmul(a, b, c), lib.chain_matmul(a)),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), _normal(rng, dt, 3, 4),
                            _normal(rng, dt, 4, 1))]),
    _case("vdot", lambda lib, a, b: (lib.vdot(a, b), a.vdot(b)), lambda rng, dt: [
        (_normal(rng, dt, 4), _normal(rng, dt, 4))], numpy_ref=lambda a, b: (np.vdot(a, b),) * 2),
    _case("addbmm", lambda lib, c, a, b: (lib.addbmm(c, a, b, beta=0.5, alpha=2.0),
                                          c.addbmm(a, b), lib.addbmm(c, a, b, beta=0)),
          lambda rng, dt: [(_normal(rng, dt, 2, 4), _normal(rng, dt, 3, 2, 5),
                            _normal(rng, dt, 3, 5, 4)),
                           (_normal(rng, dt, 4), _normal(rng, dt, 2, 2, 3),
                            _normal(rng, dt, 2, 3, 4))]),
    _case("addr", lambda lib, c, a, b: (lib.addr(c, a, b, beta=0.5, alpha=2.0), c.addr(a, b)),
          lambda rng, dt: [(_normal(rng, dt, 2, 3), _normal(rng, dt, 2), _normal(rng, dt, 3)),
                           (_normal(rng, dt, 3), _normal(rng, dt, 2), _normal(rng, dt, 3))]),
    _case("kron", lambda lib, a, b: (lib.kron(a, b), a.kron(b)), lambda rng, dt: [
        (_normal(rng, dt, 2, 3), _normal(rng, dt, 2, 2)),
        (_normal(rng, dt, 2), _normal(rng, dt, 3, 2, 2)), (_normal(rng, dt), _normal(rng, dt, 3))],
        numpy_ref=lambda a, b: (np.kron(a, b),) * 2),
    _case("triangular_solve", lambda lib, b, A: (
        tuple(lib.triangular_solve(b, A)), lib.triangular_solve(b, A, upper=False)[0],
        lib.triangular_solve(b, A, transpose=True)[0],
        b.triangular_solve(A, unitriangular=True)[0]),
        lambda rng, dt: [(_normal(rng, dt, 3, 2), _wellcond(rng, dt, 3, 3)),
                         (_normal(rng, dt, 2, 3, 1), _wellcond(rng, dt, 3, 3))]),
    _case("int_products", lambda lib, a, b: (lib.kron(a, b), lib.addr(a, a[:, 0], b[0]),
                                             lib.tensordot(a, b.mT, dims=1),
                                             lib.matrix_power(a[:, :2], 3)),
          lambda rng, dt: [(np.asarray(rng.integers(-3, 4, (2, 3)), dtype=dt),
                            np.asarray(rng.integers(-3, 4, (2, 3)), dtype=dt))],
          differentiable=False, dtypes=("int64",)),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


def test_toplevel_names_exported():
    for name in ["det", "logdet", "slogdet", "inverse", "pinverse", "cholesky",
                 "cholesky_solve", "cholesky_inverse", "qr", "svd", "matrix_power",
                 "matrix_exp", "cross", "tensordot", "chain_matmul", "vdot", "addbmm",
                 "addr", "kron", "triangular_solve", "linalg"]:
        assert name in flambeau.__all__, name
    for name in ["det", "logdet", "slogdet", "inverse", "pinverse", "cholesky",
                 "cholesky_solve", "cholesky_inverse", "qr", "svd", "matrix_power",
                 "matrix_exp", "cross", "vdot", "addbmm", "addr", "kron", "triangular_solve",
                 "addbmm_", "addr_"]:
        assert hasattr(flambeau.Tensor, name), name


def test_result_types():
    A = flambeau.tensor([[4.0, 1.0], [1.0, 3.0]])
    assert flambeau.slogdet(A)._fields == ("sign", "logabsdet")
    assert type(flambeau.slogdet(A)).__name__ == "slogdet"
    assert flambeau.qr(A)._fields == ("Q", "R") and type(flambeau.qr(A)).__name__ == "qr"
    assert flambeau.svd(A)._fields == ("U", "S", "V")
    res = flambeau.triangular_solve(flambeau.ones(2, 1), A)
    assert res._fields == ("solution", "cloned_coefficient")
    assert flambeau.equal(res.cloned_coefficient, A)
    assert res.cloned_coefficient._data is not A._data


def test_legacy_svd_shapes_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 3))
    for kw in ({}, {"some": False}, {"compute_uv": False}, {"some": False, "compute_uv": False}):
        ours = flambeau.svd(flambeau.tensor(a), **kw)
        theirs = torch.svd(torch.tensor(a), **kw)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs], kw
        if kw.get("compute_uv") is False:
            assert not bool(ours.U.any()) and not bool(ours.V.any())
    assert flambeau.svd(flambeau.zeros(0, 3)).V.shape == (3, 0)


def test_legacy_svd_v_is_vh_transposed():
    a = flambeau.tensor(np.random.default_rng(1).standard_normal((3, 2)))
    U, S, V = flambeau.svd(a)
    _, _, Vh = flambeau.linalg.svd(a, full_matrices=False)
    assert flambeau.equal(V, Vh.mT)
    assert flambeau.allclose((U * S) @ V.T, a)


def test_cross_default_dim_warns_and_picks_first_size_3():
    a = flambeau.randn(3, 3)
    b = flambeau.randn(3, 3)
    with pytest.warns(UserWarning, match="first dimension of size 3"):
        got = flambeau.cross(a, b)
    assert flambeau.allclose(got, flambeau.linalg.cross(a, b, dim=0))
    x, y = flambeau.randn(4, 3), flambeau.randn(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert flambeau.allclose(flambeau.cross(x, y), flambeau.linalg.cross(x, y))
        with pytest.raises(RuntimeError, match=r"cross: no dimension of size 3 in input of "
                                               r"shape \(2, 4\)"):
            flambeau.cross(flambeau.ones(2, 4), flambeau.ones(2, 4))
        with pytest.raises(RuntimeError, match=r"linalg\.cross: inputs dimension 0 must have "
                                               r"length 3"):
            flambeau.cross(flambeau.ones(3, 1), flambeau.ones(1, 3))


def test_cross_default_dim_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal((2, 3, 3))
    b = np.random.default_rng(3).standard_normal((2, 3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = flambeau.cross(flambeau.tensor(a), flambeau.tensor(b))
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy())


def test_inplace_addbmm_and_addr():
    rng = np.random.default_rng(4)
    c = flambeau.tensor(rng.standard_normal((2, 4)))
    b1 = flambeau.tensor(rng.standard_normal((3, 2, 5)))
    b2 = flambeau.tensor(rng.standard_normal((3, 5, 4)))
    expected = flambeau.addbmm(c, b1, b2, beta=0.5, alpha=2)
    before = c._version
    assert c.addbmm_(b1, b2, beta=0.5, alpha=2) is c
    assert flambeau.allclose(c, expected) and c._version > before
    m = flambeau.zeros(2, 3)
    m.addr_(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 0.0, -1.0]))
    assert m.tolist() == [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]]
    # in place on a non-leaf keeps the gradient flowing
    x = flambeau.ones(2, 3, dtype=flambeau.float64, requires_grad=True)
    v = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64, requires_grad=True)
    y = x * 1.0
    y.addr_(v, flambeau.ones(3, dtype=flambeau.float64), beta=2)
    y.sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2 and v.grad.tolist() == [3.0, 3.0]


def test_inplace_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    c, b1, b2 = rng.standard_normal((2, 4)), rng.standard_normal((3, 2, 5)), \
        rng.standard_normal((3, 5, 4))
    ours = flambeau.tensor(c).addbmm_(flambeau.tensor(b1), flambeau.tensor(b2), alpha=0.5)
    theirs = torch.tensor(c).addbmm_(torch.tensor(b1), torch.tensor(b2), alpha=0.5)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy())
    v1, v2 = rng.standard_normal(2), rng.standard_normal(4)
    ours = flambeau.tensor(c).addr_(flambeau.tensor(v1), flambeau.tensor(v2), beta=3)
    theirs = torch.tensor(c).addr_(torch.tensor(v1), torch.tensor(v2), beta=3)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy())


def test_addr_dtypes():
    ints = flambeau.addr(flambeau.ones(2, 3, dtype=flambeau.int64),
                         flambeau.ones(2, dtype=flambeau.int64),
                         flambeau.ones(3, dtype=flambeau.int64))
    assert ints.dtype == flambeau.int64 and ints.tolist() == [[2, 2, 2]] * 2
    bools = flambeau.addr(flambeau.zeros(2, 2, dtype=flambeau.bool),
                          flambeau.tensor([True, False]), flambeau.tensor([True, True]))
    assert bools.dtype == flambeau.bool and bools.tolist() == [[True, True], [False, False]]
    mixed = flambeau.addr(flambeau.ones(2, 3, dtype=flambeau.int64), flambeau.ones(2),
                          flambeau.ones(3))
    assert mixed.dtype == flambeau.float32 and mixed.tolist() == [[2.0] * 3] * 2
    nan = flambeau.full((2, 2), float("nan"))
    assert flambeau.addr(nan, flambeau.ones(2), flambeau.ones(2), beta=0).tolist() == \
        [[1.0, 1.0], [1.0, 1.0]]


def test_errors():
    with pytest.raises(RuntimeError, match=r"tensordot: contracted dimensions need to match, "
                                           r"but shape \(2, 3\) has size 3 in dim 1 and shape "
                                           r"\(4, 5\) has size 4 in dim 0"):
        flambeau.tensordot(flambeau.ones(2, 3), flambeau.ones(4, 5), dims=1)
    with pytest.raises(RuntimeError, match=r"tensordot: expected both inputs to have the same "
                                           r"dtype"):
        flambeau.tensordot(flambeau.ones(2, 3), flambeau.ones(3, dtype=flambeau.float64), 1)
    with pytest.raises(RuntimeError, match=r"tensordot: both dimension lists should have the "
                                           r"same length"):
        flambeau.tensordot(flambeau.ones(2, 3), flambeau.ones(3, 2), dims=([0, 1], [1]))
    with pytest.raises(RuntimeError, match=r"tensordot: expects dims >= 0"):
        flambeau.tensordot(flambeau.ones(2), flambeau.ones(2), dims=-1)
    with pytest.raises(RuntimeError, match=r"vdot: expected 1-D tensors, but got shapes "
                                           r"\(3, 1\) and \(3,\)"):
        flambeau.vdot(flambeau.ones(3, 1), flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"vdot: expected both vectors to have the same dtype"):
        flambeau.vdot(flambeau.ones(3), flambeau.ones(3, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=r"addbmm: expected input and batch1 to have the same "
                                           r"dtype"):
        flambeau.addbmm(flambeau.ones(2, 4, dtype=flambeau.float64), flambeau.ones(5, 2, 3),
                        flambeau.ones(5, 3, 4))
    with pytest.raises(RuntimeError, match=r"addbmm: expected 3-D batch1 and batch2"):
        flambeau.addbmm(flambeau.ones(2, 4), flambeau.ones(2, 3), flambeau.ones(3, 4))
    with pytest.raises(RuntimeError, match=r"addbmm: batch1 \(5, 2, 3\) and batch2 \(5, 4, 4\) "
                                           r"cannot be multiplied"):
        flambeau.addbmm(flambeau.ones(2, 4), flambeau.ones(5, 2, 3), flambeau.ones(5, 4, 4))
    with pytest.raises(RuntimeError, match=r"addr: expected 1-D vectors"):
        flambeau.addr(flambeau.ones(2, 3), flambeau.ones(2, 1), flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"addr: input of shape \(4,\) cannot be broadcast"):
        flambeau.addr(flambeau.ones(4), flambeau.ones(2), flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"chain_matmul: tensor 1 must be 2-D"):
        flambeau.chain_matmul(flambeau.ones(2, 3), flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"cholesky_solve: expected B to have at least 2 "
                                           r"dimensions"):
        flambeau.cholesky_solve(flambeau.ones(3), flambeau.eye(3))
    with pytest.raises(RuntimeError, match=r"cholesky_solve: incompatible shapes of L \(3, 3\) "
                                           r"and B \(2, 1\)"):
        flambeau.cholesky_solve(flambeau.ones(2, 1), flambeau.eye(3))
    with pytest.raises(RuntimeError, match=r"triangular_solve: expected A to be a square"):
        flambeau.triangular_solve(flambeau.ones(2, 1), flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"logdet: expected a floating point tensor"):
        flambeau.logdet(flambeau.ones(2, 2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=r"linalg\.det: expected A to be a square"):
        flambeau.ones(2, 3).det()
    with pytest.raises(RuntimeError, match=r"linalg\.inv: the input matrix of shape \(2, 2\) is "
                                           r"singular"):
        flambeau.zeros(2, 2).inverse()


def test_logdet_values():
    assert flambeau.logdet(flambeau.zeros(2, 2)).item() == float("-inf")
    assert np.isnan(flambeau.logdet(-flambeau.eye(3)).item())
    assert abs(flambeau.logdet(2 * flambeau.eye(3)).item() - 3 * np.log(2)) < 1e-6


def test_tensordot_dims_forms():
    a = flambeau.arange(24.0).reshape(2, 3, 4)
    b = flambeau.arange(24.0).reshape(4, 3, 2)
    ref = np.tensordot(a.cpu().numpy(), b.cpu().numpy(), axes=([1, 2], [1, 0]))
    for dims in (([1, 2], [1, 0]), [[1, 2], [1, 0]], flambeau.tensor([[1, 2], [1, 0]]),
                 ((-2, -1), (1, 0))):
        np.testing.assert_allclose(flambeau.tensordot(a, b, dims=dims).cpu().numpy(), ref)
    np.testing.assert_allclose(flambeau.tensordot(a, b, dims=([2], [0])).cpu().numpy(),
                               np.tensordot(a.cpu().numpy(), b.cpu().numpy(), axes=([2], [0])))
    out = flambeau.empty(2, 2)
    assert flambeau.tensordot(a, b, dims=([1, 2], [1, 0]), out=out) is out


def test_cholesky_solve_reads_one_triangle():
    # values and gradients ignore the triangle that is not read (finite differences agree)
    from flambeau.autograd import gradcheck

    rng = np.random.default_rng(6)
    L = flambeau.tensor(_lower(rng, np.float64, 3, 3) + np.triu(np.ones((3, 3)), 1),
                        requires_grad=True)
    B = flambeau.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    clean = L.detach().tril()
    assert flambeau.allclose(flambeau.cholesky_solve(B, L), flambeau.cholesky_solve(B, clean))
    assert gradcheck(flambeau.cholesky_solve, (B, L))
    flambeau.cholesky_solve(B, L).sum().backward()
    assert not bool(L.grad.triu(1).any())

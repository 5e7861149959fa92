"""linalg.ldl_factor, linalg.ldl_factor_ex and linalg.ldl_solve: the Bunch-Kaufman LDL^T
(LDL^H) factorization in LAPACK's compact format, and its solver.

Without torch: hand-computed factors, the reconstruction ``A == L D L^T`` from the compact
form (with an unpacking written here from LAPACK's definition of the format), the structure
of the pivots, solve residuals with broadcasting, empty inputs, ``out=``, result types, every
documented error and the backward errors. With torch (``parity``): LD, pivots and info
against ``torch.linalg.ldl_factor_ex`` (real indefinite matrices that need 2 by 2 pivots,
complex Hermitian and complex symmetric ones, batches, float32, matrices larger than MKL's
block size, ties, singular and NaN inputs) and ldl_solve against ``torch.linalg.ldl_solve``.
"""

import zlib

import numpy as np
import pytest

import flambeau

L = flambeau.linalg
DTYPES = ["float32", "float64", "complex64", "complex128"]
#: reconstruction / residual tolerance per dtype (relative to the size of the entries)
TOL = {"float32": 2e-5, "complex64": 2e-5, "float64": 1e-12, "complex128": 1e-12}
ALPHA = (1 + np.sqrt(17)) / 8


def _t(a, dtype=None):
    a = np.asarray(a)
    return flambeau.tensor(a if dtype is None else a.astype(dtype))


def _np(t):
    return t.cpu().numpy()


def _random(rng, dtype, *shape):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _indefinite(rng, dtype, *shape):
    """Random matrices with a zero diagonal: indefinite, and step 0 cannot take a 1 by 1
    pivot in place, so 2 by 2 blocks (or interchanges) are needed."""
    a = _random(rng, dtype, *shape)
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] = 0
    return a


def _full(a, herm):
    """The symmetric (Hermitian) matrix that the lower triangle of ``a`` describes."""
    low = np.tril(a, -1)
    up = np.conj(np.swapaxes(low, -1, -2)) if herm else np.swapaxes(low, -1, -2)
    d = np.diagonal(a, 0, -2, -1)
    if herm:
        d = d.real.astype(a.dtype)
    return low + up + d[..., None] * np.eye(a.shape[-1], dtype=a.dtype)


def _unpack(ld, piv):
    """``(M, D)`` with ``A = M D M^T`` (``M^H``) from one matrix's compact factors, as LAPACK
    defines them: ``M = P_1 L_1 P_2 L_2 ...``, one interchange and one block column per
    step."""
    n = ld.shape[-1]
    M = np.eye(n, dtype=ld.dtype)
    D = np.zeros_like(ld)
    k = 0
    while k < n:
        s = 1 if piv[k] > 0 else 2
        p = abs(int(piv[k])) - 1
        P = np.eye(n, dtype=ld.dtype)
        P[[k + s - 1, p]] = P[[p, k + s - 1]]
        Lk = np.eye(n, dtype=ld.dtype)
        Lk[k + s:, k:k + s] = ld[k + s:, k:k + s]
        D[k:k + s, k:k + s] = ld[k:k + s, k:k + s]
        if s == 2:
            D[k, k + 1] = ld[k + 1, k]  # the block is symmetric (Hermitian, fixed below)
        M = M @ P @ Lk
        k += s
    return M, D


def _reconstruct(ld, piv, herm):
    M, D = _unpack(ld, piv)
    if herm:
        D = np.tril(D) + np.conj(np.tril(D, -1)).T
        return M @ D @ np.conj(M).T
    return M @ D @ M.T


def _check_pivot_structure(piv, n):
    """LAPACK's format: a positive pivot at 0-based row k is in [k + 1, n]; a 2 by 2 block
    has the same negative pivot -p at both of its rows, with p in [k + 2, n]."""
    k = 0
    while k < n:
        p = int(piv[k])
        if p > 0:
            assert k + 1 <= p <= n
            k += 1
        else:
            assert k + 1 < n and int(piv[k + 1]) == p and k + 2 <= -p <= n
            k += 2


# ------------------------------------------------------------------ values without torch


def test_values_by_hand():
    """The docstring's matrix: its zero diagonal takes a 2 by 2 block of rows 0 and 2 (row 2
    swapped to 1), then D = -3; A = [[0, 1, 2], [1, 0, 3], [2, 3, 0]]."""
    A = _t([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]], np.float64)
    LD, piv, info = L.ldl_factor_ex(A)
    np.testing.assert_allclose(_np(LD), [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.5, 0.5, -3.0]],
                               atol=1e-15)
    assert piv.dtype == flambeau.int32 and piv.tolist() == [-3, -3, 3]
    assert info.dtype == flambeau.int32 and info.item() == 0
    # a 2 by 2 block in place: [[0, 1], [1, 0]]
    LD, piv = L.ldl_factor(_t([[0.0, 1.0], [1.0, 0.0]]))
    assert piv.tolist() == [-2, -2] and LD.tolist() == [[0.0, 0.0], [1.0, 0.0]]
    # positive definite: plain LDL^T, no interchanges
    LD, piv = L.ldl_factor(_t([[4.0, 2.0], [2.0, 3.0]]))
    assert piv.tolist() == [1, 2] and LD.tolist() == [[4.0, 0.0], [0.5, 2.0]]
    # a 1 by 1 interchange: |a_00| is small against column 0, a_11 is large enough
    LD, piv = L.ldl_factor(_t([[1.0, 2.0], [2.0, 8.0]], np.float64))
    assert piv.tolist() == [2, 2]
    np.testing.assert_allclose(_np(LD), [[8.0, 0.0], [0.25, 0.5]])


def test_reads_the_lower_triangle_and_zeros_the_upper():
    rng = np.random.default_rng(0)
    a = _random(rng, np.float64, 5, 5)
    r1 = L.ldl_factor(_t(np.tril(a)))
    r2 = L.ldl_factor(_t(np.tril(a) + np.triu(rng.standard_normal((5, 5)), 1)))
    np.testing.assert_array_equal(_np(r1.LD), _np(r2.LD))
    np.testing.assert_array_equal(_np(r1.pivots), _np(r2.pivots))
    assert (np.triu(_np(r1.LD), 1) == 0).all()


def test_hermitian_ignores_the_imaginary_part_of_the_diagonal():
    rng = np.random.default_rng(1)
    a = _random(rng, np.complex128, 4, 4)
    b = a.copy()
    b[np.arange(4), np.arange(4)] = a.diagonal().real
    r1, r2 = L.ldl_factor(_t(a), hermitian=True), L.ldl_factor(_t(b), hermitian=True)
    np.testing.assert_array_equal(_np(r1.LD), _np(r2.LD))
    assert (_np(r1.LD).diagonal().imag == 0).all()
    # as complex symmetric, the imaginary parts count
    assert not np.allclose(_np(L.ldl_factor(_t(a)).LD), _np(L.ldl_factor(_t(b)).LD))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (5, 5), (3, 6, 6), (2, 2, 9, 9), (70, 70)])
def test_reconstruction_and_pivot_structure(dtype, hermitian, shape):
    """``A == M D M^T`` (``M^H``) from the compact form, pivots in LAPACK's format, zeros
    above the diagonal; indefinite matrices (zero diagonals) use 2 by 2 blocks."""
    rng = np.random.default_rng(zlib.crc32(repr((dtype, hermitian, shape)).encode()))
    herm = hermitian and dtype.startswith("complex")
    n = shape[-1]
    # (a 1 by 1 matrix with a zero diagonal is singular)
    matrices = [_random(rng, dtype, *shape)] + ([_indefinite(rng, dtype, *shape)] if n > 1
                                                 else [])
    for a in matrices:
        LD, piv, info = L.ldl_factor_ex(_t(a), hermitian=hermitian)
        assert LD.shape == a.shape and str(LD.dtype) == f"flambeau.{dtype}"
        assert piv.shape == a.shape[:-1] and info.shape == a.shape[:-2]
        assert (_np(info) == 0).all()
        lds = _np(LD).reshape(-1, n, n)
        pivs = _np(piv).reshape(-1, n)
        want = _full(a, herm).reshape(-1, n, n)
        for ld, p, w in zip(lds, pivs, want, strict=True):
            _check_pivot_structure(p, n)
            assert (np.triu(ld, 1) == 0).all()
            wide = np.complex128 if ld.dtype.kind == "c" else np.float64
            got = _reconstruct(ld.astype(wide), p, herm)
            scale = np.abs(w).max() * n
            np.testing.assert_allclose(got, w, atol=TOL[dtype] * scale, rtol=0)
    if n >= 2:  # the zero-diagonal matrix needs 2 by 2 blocks or interchanges at step 0
        assert pivs[-1][0] != 1


def test_two_by_two_pivots_happen():
    rng = np.random.default_rng(2)
    a = _indefinite(rng, np.float64, 20, 8, 8)
    piv = _np(L.ldl_factor(_t(a)).pivots)
    assert (piv < 0).any(axis=1).all()


def test_singular_matrices_report_info():
    A = flambeau.stack([flambeau.eye(3, dtype=flambeau.float64),
                        flambeau.zeros(3, 3, dtype=flambeau.float64),
                        _t([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]),
                        _t([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])])
    r = L.ldl_factor_ex(A)
    assert r.info.tolist() == [0, 1, 2, 2]
    assert r.pivots.tolist() == [[1, 2, 3]] * 4
    assert np.isfinite(_np(r.LD)).all()
    np.testing.assert_array_equal(_np(r.LD)[1], np.zeros((3, 3)))
    # the factorization goes on past the zero block: D[2, 2] = 2
    assert _np(r.LD)[2][2, 2] == 2.0
    # ldl_solve with a zero block divides by zero
    X = L.ldl_solve(r.LD[2], r.pivots[2], flambeau.ones(3, 1, dtype=flambeau.float64))
    assert not np.isfinite(_np(X)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("a_batch, b_batch", [((), ()), ((3,), (3,)), ((), (4, 2)), ((3,), ()),
                                              ((2, 1), (3,)), ((1,), (2, 1))])
def test_solve_residuals(dtype, hermitian, a_batch, b_batch):
    rng = np.random.default_rng(3)
    n = 6
    herm = hermitian and dtype.startswith("complex")
    a = _full(_indefinite(rng, dtype, *a_batch, n, n), herm)
    b = _random(rng, dtype, *b_batch, n, 3)
    LD, piv = L.ldl_factor(_t(a), hermitian=hermitian)
    X = L.ldl_solve(LD, piv, _t(b), hermitian=hermitian)
    batch = np.broadcast_shapes(a_batch, b_batch)
    assert X.shape == batch + (n, 3) and X.dtype == LD.dtype
    x = _np(X).astype(np.complex128)
    res = np.abs(a.astype(np.complex128) @ x - b).max()
    assert res <= TOL[dtype] * 10 * n * np.abs(a).max() * np.abs(x).max()


def test_solve_agrees_with_linalg_solve():
    rng = np.random.default_rng(4)
    a = _full(_indefinite(rng, np.float64, 2, 7, 7), False)
    b = rng.standard_normal((2, 7, 2))
    X = L.ldl_solve(*L.ldl_factor(_t(a)), _t(b))
    np.testing.assert_allclose(_np(X), np.linalg.solve(a, b), atol=1e-10)


def test_solve_with_int64_pivots():
    A = _t([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]], np.float32)
    LD, piv = L.ldl_factor(A)
    X = L.ldl_solve(LD, piv.long(), _t([[3.0], [4.0], [5.0]], np.float32))
    np.testing.assert_allclose(_np(X), [[1.0], [1.0], [1.0]], atol=1e-6)


def test_empty_inputs():
    for shape in [(0, 0), (2, 0, 0), (2, 3, 0, 0)]:
        LD, piv, info = L.ldl_factor_ex(flambeau.zeros(*shape, dtype=flambeau.float64))
        assert LD.shape == shape and piv.shape == shape[:-1] and info.shape == shape[:-2]
        assert piv.dtype == flambeau.int32 and info.dtype == flambeau.int32
        assert (_np(info) == 0).all()
    LD, piv = L.ldl_factor(flambeau.zeros(0, 0))
    assert L.ldl_solve(LD, piv, flambeau.zeros(0, 2)).shape == (0, 2)
    LD, piv = L.ldl_factor(flambeau.zeros(4, 0, 3, 3))  # a batch with no matrices
    assert LD.shape == (4, 0, 3, 3) and piv.shape == (4, 0, 3)
    LD, piv = L.ldl_factor(flambeau.eye(3))
    assert L.ldl_solve(LD, piv, flambeau.zeros(3, 0)).shape == (3, 0)


def test_results_types_and_out():
    A = _t([[0.0, 1.0], [1.0, 0.0]], np.float64)
    r = L.ldl_factor(A)
    assert type(r).__name__ == "linalg_ldl_factor" and r._fields == ("LD", "pivots")
    rx = L.ldl_factor_ex(A)
    assert type(rx).__name__ == "linalg_ldl_factor_ex"
    assert rx._fields == ("LD", "pivots", "info")
    LD = flambeau.empty(0, dtype=flambeau.float64)
    piv = flambeau.empty(0, dtype=flambeau.int32)
    res = L.ldl_factor(A, out=(LD, piv))
    assert res[0] is LD and res[1] is piv and piv.tolist() == [-2, -2]
    np.testing.assert_array_equal(_np(LD), _np(r.LD))
    info = flambeau.empty(3, dtype=flambeau.int32)
    L.ldl_factor_ex(A, out=(LD, piv, info))
    assert info.shape == () and info.item() == 0
    X = flambeau.empty(0, dtype=flambeau.float64)
    L.ldl_solve(LD, piv, _t([[2.0], [3.0]]), out=X)
    np.testing.assert_allclose(_np(X), [[3.0], [2.0]])
    with pytest.raises(TypeError, match=r"^ldl_factor\(\): out must be a tuple of 2 tensors, "
                       "got 1"):
        L.ldl_factor(A, out=(LD,))
    with pytest.raises(RuntimeError, match=r"^ldl_factor\(\): functions with out=\.\.\. "
                       "arguments don't support automatic differentiation"):
        L.ldl_factor(A.clone().requires_grad_(), out=(LD, piv))


# ------------------------------------------------------------------ gradients


def test_outputs_require_grad_and_backward_raises():
    A = _t([[1.0, 2.0], [2.0, 1.0]]).requires_grad_()
    LD, piv, info = L.ldl_factor_ex(A)
    assert LD.requires_grad and not piv.requires_grad and not info.requires_grad
    with pytest.raises(RuntimeError, match=r"^linalg.ldl_factor_ex: the derivative for "
                       r"'linalg_ldl_factor_ex' is not implemented \(as in PyTorch, where it "
                       r"is aten::linalg_ldl_factor_ex's\)"):
        LD.sum().backward()
    LD, piv = L.ldl_factor(A)
    with pytest.raises(RuntimeError, match=r"^linalg.ldl_factor: the derivative for "
                       "'linalg_ldl_factor_ex' is not implemented"):
        LD.sum().backward()
    B = flambeau.ones(2, 1, dtype=flambeau.float64, requires_grad=True)
    X = L.ldl_solve(LD.detach(), piv, B)
    assert X.requires_grad
    with pytest.raises(RuntimeError, match=r"^linalg.ldl_solve: the derivative for "
                       "'linalg_ldl_solve' is not implemented"):
        X.sum().backward()
    X = L.ldl_solve(LD, piv, B.detach())
    assert X.requires_grad
    with pytest.raises(RuntimeError, match="'linalg_ldl_solve' is not implemented"):
        X.sum().backward()
    with flambeau.no_grad():
        assert not L.ldl_factor(A).LD.requires_grad


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("call, op", [
    (lambda A: L.ldl_factor(A), "linalg.ldl_factor"),
    (lambda A: L.ldl_factor_ex(A), "linalg.ldl_factor_ex"),
])
def test_factor_input_errors(call, op):
    with pytest.raises(RuntimeError, match=rf"^{op}: expected A to be a square matrix or a "
                       r"batch of square matrices, but got shape \(2, 3\) \(2 by 3 "
                       r"matrices\)$"):
        call(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected A to have at least 2 dimensions "
                       r"\(a matrix or a batch of matrices\), but got a tensor of shape "
                       r"\(3,\)$"):
        call(flambeau.ones(3))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected a floating point tensor as "
                       "input, but A has dtype flambeau.int64$"):
        call(flambeau.ones(2, 2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected a floating point .* "
                       "flambeau.bool$"):
        call(flambeau.ones(2, 2, dtype=flambeau.bool))
    for dt in (flambeau.float16, flambeau.bfloat16):
        with pytest.raises(NotImplementedError, match=rf"^{op}: not implemented for {dt} "
                           r"\(LAPACK has no half-precision LDL factorization\); convert A "
                           r"with .float\(\) or .double\(\) first$"):
            call(flambeau.ones(2, 2, dtype=dt))
    with pytest.raises(TypeError, match=rf"^{op}: expected A to be a Tensor, got list$"):
        call([[1.0]])


def test_singular_errors():
    with pytest.raises(flambeau.linalg.LinAlgError, match=r"^linalg.ldl_factor: the input of "
                       r"shape \(3, 3\) is singular: the 1 by 1 block D\[0, 0\] \(diagonal "
                       r"element 1\) of its LDL factorization is zero, so using the "
                       r"factorization in ldl_solve would divide by zero; call "
                       r"linalg.ldl_factor_ex\(A\) to factor it anyway$"):
        L.ldl_factor(flambeau.zeros(3, 3))
    A = flambeau.stack([flambeau.eye(2), _t([[1.0, 0.0], [0.0, 0.0]], np.float32)])
    with pytest.raises(RuntimeError, match=r"^linalg.ldl_factor_ex: the input of shape "
                       r"\(2, 2, 2\) is singular \(batch element 1\): the 1 by 1 block "
                       r"D\[1, 1\] \(diagonal element 2\) .* call it with "
                       "check_errors=False to factor it anyway$"):
        L.ldl_factor_ex(A, check_errors=True)
    assert L.ldl_factor_ex(A).info.tolist() == [0, 2]  # check_errors=False: no error
    L.ldl_factor_ex(flambeau.eye(2), check_errors=True)  # nothing singular: no error


def test_solve_errors():
    LD, piv = L.ldl_factor(_t([[2.0, 1.0], [1.0, 3.0]], np.float64))
    B = flambeau.ones(2, 1, dtype=flambeau.float64)
    op = "linalg.ldl_solve"
    with pytest.raises(RuntimeError, match=rf"^{op}: expected LD to be a square matrix or a "
                       r"batch of square matrices, but got shape \(2, 1\) \(2 by 1 "
                       r"matrices\)$"):
        L.ldl_solve(LD[:, :1], piv, B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected LD to have at least 2 "
                       "dimensions"):
        L.ldl_solve(LD[0], piv, B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected a floating point tensor as "
                       "input, but LD has dtype flambeau.int64$"):
        L.ldl_solve(LD.long(), piv, B.long())
    with pytest.raises(TypeError, match=rf"^{op}: expected pivots to be a Tensor, got list$"):
        L.ldl_solve(LD, [1, 2], B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots to have an integer dtype "
                       r"\(linalg.ldl_factor returns int32 ones\), but got flambeau.float32$"):
        L.ldl_solve(LD, piv.float(), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots of shape \(2,\) for LD "
                       r"of shape \(2, 2\) \(LD.shape\[:-1\]\), but got \(1,\)$"):
        L.ldl_solve(LD, piv[:1], B)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected pivots of shape \(2,\) .* but "
                       r"got \(3, 2\)$"):
        L.ldl_solve(LD, piv.expand(3, 2), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots must satisfy 1 <= \|pivot\| <= "
                       r"LD.shape\[-2\] = 2, but got values from 1 to 7; pass the pivots that "
                       "linalg.ldl_factor returns$"):
        L.ldl_solve(LD, _t([1, 7], np.int32), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots must satisfy .* from -3 to 2"):
        L.ldl_solve(LD, _t([-3, 2], np.int32), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots must satisfy .* from 0 to 2"):
        L.ldl_solve(LD, _t([0, 2], np.int32), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots end with a negative entry \(the "
                       r"first row of a 2 by 2 block\) at position 1, where no second row "
                       "follows; pass the pivots that linalg.ldl_factor returns$"):
        L.ldl_solve(LD, _t([1, -2], np.int32), B)
    with pytest.raises(RuntimeError, match=rf"^{op}: pivots \(batch element \(1,\)\) end "):
        L.ldl_solve(LD.expand(2, 2, 2), _t([[1, 2], [1, -2]], np.int32), B)
    with pytest.raises(TypeError, match=rf"^{op}: expected B to be a Tensor, got int$"):
        L.ldl_solve(LD, piv, 3)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected B to have at least 2 dimensions "
                       r"\(a matrix or a batch of matrices\), but got a tensor of shape "
                       r"\(2,\)$"):
        L.ldl_solve(LD, piv, flambeau.ones(2, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=rf"^{op}: expected LD and B to have the same dtype, "
                       "but LD has dtype flambeau.float64 and B has dtype flambeau.float32$"):
        L.ldl_solve(LD, piv, B.float())
    with pytest.raises(RuntimeError, match=rf"^{op}: incompatible shapes of LD \(2, 2\) and B "
                       r"\(3, 1\): A is 2 by 2, so B needs 2 rows, not 3$"):
        L.ldl_solve(LD, piv, flambeau.ones(3, 1, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match=rf"^{op}: the batch dimensions of shapes "
                       r"\(3, 2, 2\) and \(4, 2, 1\) cannot be broadcast together$"):
        L.ldl_solve(LD.expand(3, 2, 2), piv.expand(3, 2),
                    flambeau.ones(4, 2, 1, dtype=flambeau.float64))
    with pytest.raises(NotImplementedError, match=rf"^{op}: not implemented for "
                       "flambeau.float16"):
        L.ldl_solve(LD.half(), piv, B.half())


# ------------------------------------------------------------------ torch parity


def _factor_parity(torch, a, hermitian):
    r = L.ldl_factor_ex(_t(a), hermitian=hermitian)
    t = torch.linalg.ldl_factor_ex(torch.from_numpy(a), hermitian=hermitian)
    np.testing.assert_array_equal(_np(r.pivots), t.pivots.numpy())
    np.testing.assert_array_equal(_np(r.info), t.info.numpy())
    assert str(r.LD.dtype).split(".")[-1] == str(t.LD.dtype).split(".")[-1]
    assert r.pivots.dtype == flambeau.int32 and t.pivots.dtype == torch.int32
    single = a.dtype in (np.float32, np.complex64)
    tol = 1e-4 if single else 1e-10
    # relative to the largest entry: the last pivots of a large matrix lose digits to
    # cancellation (in float32, 1e-3 of their size)
    finite = np.abs(t.LD.numpy()[np.isfinite(t.LD.numpy())])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    np.testing.assert_allclose(_np(r.LD), t.LD.numpy(), rtol=tol, atol=tol * scale,
                               equal_nan=True)
    return r


@pytest.mark.parity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (6, 6), (4, 5, 5), (2, 3, 8, 8),
                                   (17, 17), (70, 70), (0, 0), (2, 0, 0)])
def test_factor_parity_with_torch(dtype, hermitian, shape):
    """Random matrices (non-symmetric: only the lower triangle counts; for Hermitian ones
    the diagonal's imaginary parts are ignored) and zero-diagonal indefinite ones, which
    need 2 by 2 pivots; 70 by 70 is past the block size of PyTorch's LAPACK (MKL)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for a in (_random(rng, dtype, *shape), _indefinite(rng, dtype, *shape)):
        _factor_parity(torch, a, hermitian)


@pytest.mark.parity
def test_parity_needs_two_by_two_pivots():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for dtype in DTYPES:
        for hermitian in (False, True):
            r = _factor_parity(torch, _indefinite(rng, dtype, 6, 6, 6), hermitian)
            assert (_np(r.pivots) < 0).any()


NAN = float("nan")
SPECIAL = [
    [[1.0, 2.0, 2.0], [2.0, 1.0, 2.0], [2.0, 2.0, 1.0]],
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]],
    [[1.0, 1.0], [1.0, 1.0]],
    [[0.0, 1.0], [1.0, 0.0]],
    [[0.0, 0.0], [0.0, 0.0]],
    [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
    [[2.0, -2.0, 2.0], [-2.0, 2.0, -2.0], [2.0, -2.0, 2.0]],
    [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
    [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]],
    [[0.0, 3.0, -3.0], [3.0, 0.0, 3.0], [-3.0, 3.0, 0.0]],
    [[1e-30, 1.0], [1.0, 1e-30]],
    [[4.0, 1.0, 2.0, 0.0], [1.0, -3.0, 0.0, 1.0], [2.0, 0.0, 0.0, 5.0], [0.0, 1.0, 5.0, 0.0]],
    [[NAN, 1.0], [1.0, 2.0]],
    [[NAN, 0.0], [0.0, 2.0]],
    [[1.0, 0.0], [0.0, NAN]],
    [[1.0, NAN, 2.0], [NAN, 3.0, 1.0], [2.0, 1.0, 0.0]],
    [[0.1, 2.0, NAN], [2.0, 3.0, 1.0], [NAN, 1.0, 0.0]],
]


@pytest.mark.parity
@pytest.mark.parametrize("a", SPECIAL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ties_singular_and_nan_parity_with_torch(a, dtype):
    torch = pytest.importorskip("torch")
    a = np.asarray(a).astype(dtype)
    for hermitian in (False, True):
        _factor_parity(torch, a, hermitian)
    if dtype.startswith("complex"):  # complex off-diagonal entries
        b = (a + 0.5j * np.tril(np.ones(a.shape), -1)).astype(dtype)
        for hermitian in (False, True):
            _factor_parity(torch, b, hermitian)


@pytest.mark.parity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("a_batch, b_batch", [((), ()), ((3,), (3,)), ((), (4, 2)), ((3,), ())])
def test_solve_parity_with_torch(dtype, hermitian, a_batch, b_batch):
    # (PyTorch 2.13 crashes on some batch broadcasts, e.g. LD (2, 1, n, n) with B (3, n, k):
    # those are checked by residuals above)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    herm = hermitian and dtype.startswith("complex")
    a = _full(_indefinite(rng, dtype, *a_batch, 7, 7), herm)
    b = _random(rng, dtype, *b_batch, 7, 2)
    LD, piv = L.ldl_factor(_t(a), hermitian=hermitian)
    X = L.ldl_solve(LD, piv, _t(b), hermitian=hermitian)
    tLD, tpiv = torch.linalg.ldl_factor(torch.from_numpy(a), hermitian=hermitian)
    tX = torch.linalg.ldl_solve(tLD, tpiv, torch.from_numpy(b), hermitian=hermitian)
    assert tuple(X.shape) == tuple(tX.shape)
    tol = 1e-3 if dtype in ("float32", "complex64") else 1e-9
    np.testing.assert_allclose(_np(X), tX.numpy(), rtol=tol, atol=tol)


@pytest.mark.parity
def test_names_and_errors_parity_with_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    for name in ("ldl_factor", "ldl_factor_ex"):
        ours = getattr(L, name)(_t(a))
        theirs = getattr(torch.linalg, name)(torch.from_numpy(a))
        assert type(ours).__name__ == type(theirs).__name__ == f"linalg_{name}"
        assert len(ours) == len(theirs) == theirs.n_fields
        for field, o, t in zip(ours._fields, ours, theirs, strict=True):
            assert getattr(theirs, field) is t and getattr(ours, field) is o
            np.testing.assert_array_equal(_np(o), t.numpy())
    # errors of the same kind for the same bad inputs
    bad_inputs = [
        (lambda m: m.zeros(2, 3, dtype=m.float64), RuntimeError),
        (lambda m: m.zeros(3, dtype=m.float64), RuntimeError),
        (lambda m: m.zeros(2, 2, dtype=m.int64), RuntimeError),
        (lambda m: m.zeros(2, 2, dtype=m.float16), NotImplementedError),
        (lambda m: m.zeros(2, 2, dtype=m.float64), RuntimeError),  # singular D
    ]
    for make, kind in bad_inputs:
        for lib in (flambeau, torch):
            with pytest.raises(kind):
                lib.linalg.ldl_factor(make(lib))
    LD, piv = torch.linalg.ldl_factor(torch.from_numpy(a))
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not "
                       "implemented"):
        torch.linalg.ldl_factor(torch.from_numpy(a).requires_grad_())[0].sum().backward()
    with pytest.raises(RuntimeError, match="aten::linalg_ldl_factor_ex"):
        L.ldl_factor(_t(a).requires_grad_())[0].sum().backward()
    for lib, LD_, piv_ in ((torch, LD, piv), (flambeau, *L.ldl_factor(_t(a)))):
        with pytest.raises(RuntimeError):  # wrong dtype of B
            lib.linalg.ldl_solve(LD_, piv_, lib.ones(2, 1, dtype=lib.float32))
        with pytest.raises(RuntimeError):  # wrong number of rows of B
            lib.linalg.ldl_solve(LD_, piv_, lib.ones(3, 1, dtype=lib.float64))
        with pytest.raises(RuntimeError):  # pivots of the wrong shape
            lib.linalg.ldl_solve(LD_, piv_[:1], lib.ones(2, 1, dtype=lib.float64))
        with pytest.raises(RuntimeError):  # float pivots
            lib.linalg.ldl_solve(LD_, piv_.float(), lib.ones(2, 1, dtype=lib.float64))
        with pytest.raises(RuntimeError):  # out of range
            lib.linalg.ldl_solve(LD_, piv_ * 0 + 7, lib.ones(2, 1, dtype=lib.float64))

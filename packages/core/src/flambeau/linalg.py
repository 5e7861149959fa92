"""Linear algebra with ``torch.linalg``'s names, signatures and semantics.

Every function takes a matrix or a batch of matrices (leading dims are batch dims, broadcast
where PyTorch broadcasts them) and is differentiable, with backward passes written with
flambeau ops so that second derivatives work too. Forward passes run the backend's LAPACK
(NumPy) or cuSOLVER (CuPy) kernels on whole batches.

The LU functions (``lu``, ``lu_factor``, ``lu_solve``...) compute the factorization
themselves (NumPy has none), with LAPACK ``getrf``'s pivots; so do ``ldl_factor``,
``ldl_factor_ex`` and ``ldl_solve`` (the Bunch-Kaufman ``L D L^T`` factorization of symmetric
or Hermitian matrices, with LAPACK ``sytrf``'s pivots), which are not differentiable, as in
PyTorch.

Decompositions and solvers accept float32, float64, complex64 and complex128; float16 and
bfloat16 raise an error as in PyTorch (inside an autocast region they run in float32). For
complex inputs the transposes of the real formulas are conjugate transposes (``A.mH``):
``cholesky`` and ``eigh`` take Hermitian matrices, ``qr``'s Q and ``svd``'s U and V are
unitary, and norms, singular values, ``eigh``'s eigenvalues and ``slogdet``'s
``logabsdet`` are real while ``slogdet``'s sign is ``det / |det|``. ``eig`` and ``eigvals``
(general square matrices) return complex results for real inputs too; a real input then
gets the real part of the gradient, as in PyTorch.

The gradients of ``eig``, ``eigh`` and ``svd`` divide by differences of eigenvalues (of
squared singular values), so they are only defined when these are distinct, and only for
losses that do not depend on the sign (for complex inputs, the phase ``e^{i phi}``) of each
eigenvector or singular vector pair: the decompositions leave those arbitrary. For complex
inputs a loss that depends on the phases raises an error in backward, as in PyTorch.

Examples
--------
>>> import flambeau
>>> A = flambeau.tensor([[4.0, 1.0], [2.0, 3.0]])
>>> flambeau.linalg.det(A)
tensor(10.)
>>> flambeau.linalg.solve(A, flambeau.tensor([9.0, 13.0]))
tensor([1.4000, 3.4000])
"""

from __future__ import annotations

import builtins
import functools
import math

from flambeau._ops import decompositions as _d
from flambeau._ops._util import Tensor, dims_arg, make, wrap_dim, write_out
from flambeau._ops.complex import conj as _conj
from flambeau._ops.decompositions import (
    LinAlgError,
    VectorNorm,
    check_float,
    check_input,
    check_same_dtype,
    linalg_cholesky_ex,
    linalg_eig,
    linalg_eigh,
    linalg_inv_ex,
    linalg_lstsq,
    linalg_qr,
    linalg_slogdet,
    linalg_solve_ex,
    linalg_svd,
)
from flambeau._ops.ldl import ldl_factor, ldl_factor_ex, ldl_solve
from flambeau._ops.linalg import matmul
from flambeau._ops.lu import linalg_lu as lu
from flambeau._ops.lu import linalg_lu_solve as lu_solve
from flambeau._ops.lu import lu_factor, lu_factor_ex, vander
from flambeau.amp import _autocast
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = [
    "LinAlgError",
    "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
    "eigvalsh",
    "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex", "ldl_solve",
    "lstsq", "lu", "lu_factor", "lu_factor_ex",
    "lu_solve", "matmul", "matrix_exp", "matrix_norm",
    "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
    "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
    "vecdot", "vector_norm",
]

_INF = float("inf")


_out = write_out
#: torch wants the result's dtype in the outs of most of linalg (the others cast)
_exact_out = functools.partial(write_out, exact=True)


def _wants_grad(t):
    """Whether the op must run as its Function: to be recorded, or (forward AD) to carry
    ``t``'s tangent, which a tensor that does not require grad may hold."""
    return (_grad_state.grad_enabled and t._requires_grad) or _autograd_function._forward_ad_on


# ------------------------------------------------------------------ determinants, inverses


def det(A, *, out=None):
    """The determinant of a square matrix (or of each matrix of a batch).

    Its gradient is the cofactor matrix, computed with a solve for invertible matrices and
    from the SVD for singular ones, where it is still exact (PyTorch 2.13 gives zeros there).

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` float32 or float64.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.det(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    >>> A = flambeau.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    >>> flambeau.linalg.det(A).backward()
    >>> A.grad
    tensor([[ 4., -2.],
            [-2.,  1.]])
    """
    A = check_input("linalg.det", A, square=True)
    return _exact_out(_d.Det.apply(A), out)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant, with ``det = sign * exp(logabsdet)``.

    ``sign`` is 0 and ``logabsdet`` ``-inf`` for a singular matrix. Only ``logabsdet`` is
    differentiable.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.slogdet(flambeau.tensor([[0.0, 2.0], [3.0, 0.0]]))
    linalg_slogdet(sign=tensor(-1.), logabsdet=tensor(1.7918))
    """
    A = check_input("linalg.slogdet", A, square=True)
    return _exact_out(linalg_slogdet(*_d.Slogdet.apply(A)), out)


def inv(A, *, out=None):
    """The inverse of a square matrix (or of each matrix of a batch).

    Raises
    ------
    RuntimeError
        When a matrix is singular (an exact zero pivot in its LU factorization).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.inv(flambeau.tensor([[2.0, 1.0], [1.0, 1.0]]))
    tensor([[ 1., -1.],
            [-1.,  2.]])
    >>> try:
    ...     flambeau.linalg.inv(flambeau.tensor([[1.0, 2.0], [2.0, 4.0]]))
    ... except RuntimeError as e:
    ...     print(e)
    linalg.inv: the input matrix of shape (2, 2) is singular: diagonal element 2 of its LU factorization is zero, so it has no inverse
    """  # noqa: E501
    A = check_input("linalg.inv", A, square=True)
    return _exact_out(_d.Inv.apply(A, "linalg.inv", True)[0], out)


def inv_ex(A, *, check_errors=False, out=None):
    """``(inverse, info)``: :func:`inv` without the error for singular matrices.

    ``info`` (int32, one per matrix) is 0 for an invertible matrix and ``i`` when the
    ``i``-th pivot of its LU factorization is zero; the inverse of such a matrix is
    undefined (NaN here). ``check_errors=True`` raises as :func:`inv` does.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.stack([flambeau.eye(2), flambeau.zeros(2, 2)])
    >>> flambeau.linalg.inv_ex(A).info
    tensor([0, 1], dtype=flambeau.int32)
    """
    A = check_input("linalg.inv_ex", A, square=True)
    return _exact_out(linalg_inv_ex(*_d.Inv.apply(A, "linalg.inv_ex", check_errors)), out)


# ------------------------------------------------------------------ solvers


def _solve(A, B, left, op, check):
    A = check_input(op, A, square=True)
    B = check_input(op, B, "B", min_dims=1)
    check_same_dtype(op, A, B)
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    B2 = B.unsqueeze(-1) if vector else B
    size = B2.shape[-2] if left else B2.shape[-1]
    if size != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)} for the "
            f"equation {eq}: A is {n} by {n}, so B needs {n} "
            f"{'rows' if left else 'columns'}, not {size}"
        )
    _d.batch_shape(op, A, B2)
    if left:
        X, info = _d.Solve.apply(A, B2, op, check)
    else:
        X, info = _d.Solve.apply(A.mT, B2.mT, op, check)
        X = X.mT
    return (X.squeeze(-1) if vector else X), info


def solve(A, B, *, left=True, out=None):
    """The solution ``X`` of ``A @ X = B`` (``X @ A = B`` with ``left=False``).

    ``A`` is ``(*, n, n)``; ``B`` is ``(*, n, k)``, or a vector ``(n,)`` / a batch of vectors
    with ``B.shape == A.shape[:-1]``. Batch dims broadcast.

    Raises
    ------
    RuntimeError
        For a singular ``A``, incompatible shapes or different dtypes.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[3.0, 1.0], [1.0, 2.0]])
    >>> flambeau.linalg.solve(A, flambeau.tensor([9.0, 8.0]))
    tensor([2., 3.])
    >>> flambeau.linalg.solve(A, flambeau.tensor([[9.0, 8.0]]), left=False)
    tensor([[2., 3.]])
    """
    return _exact_out(_solve(A, B, left, "linalg.solve", True)[0], out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``(result, info)``: :func:`solve` that reports singular matrices in ``info`` (int32,
    0 when fine) instead of raising, unless ``check_errors=True``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.solve_ex(flambeau.eye(2), flambeau.tensor([1.0, 2.0]))
    linalg_solve_ex(result=tensor([1., 2.]), info=tensor(0, dtype=flambeau.int32))
    """
    return _exact_out(linalg_solve_ex(*_solve(A, B, left, "linalg.solve_ex", check_errors)), out)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """The solution of ``A @ X = B`` (``X @ A = B`` with ``left=False``) for triangular ``A``.

    Only the upper (``upper=True``) or lower triangle of ``A`` is read; with
    ``unitriangular`` its diagonal is taken to be ones. ``B`` is ``(*, n, k)`` (``(*, k, n)``
    when ``left=False``); batch dims broadcast. A zero on the diagonal gives inf/NaN, as in
    PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> flambeau.linalg.solve_triangular(A, flambeau.tensor([[4.0], [8.0]]), upper=True)
    tensor([[1.],
            [2.]])
    """
    op = "linalg.solve_triangular"
    A = check_input(op, A, square=True)
    B = check_input(op, B, "B")
    check_same_dtype(op, A, B)
    n = A.shape[-1]
    size = B.shape[-2] if left else B.shape[-1]
    if size != n:
        raise RuntimeError(
            f"{op}: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)}: A is "
            f"{n} by {n}, so B needs {n} {'rows' if left else 'columns'}, not {size}"
        )
    if left:
        X = _d.SolveTriangular.apply(A, B, upper, unitriangular, op)
    else:  # X A = B  <=>  A^T X^T = B^T
        X = _d.SolveTriangular.apply(A.mT, B.mT, not upper, unitriangular, op).mT
    return _exact_out(X, out)


@_autocast.not_cast  # as torch's: in no autocast list, so never in bfloat16/float16
def lstsq(A, B, rcond=None, *, driver=None, out=None):
    """The least-squares solution of ``A @ X = B``: ``(solution, residuals, rank,
    singular_values)``.

    ``A`` is ``(*, m, n)`` and ``B`` ``(*, m, k)`` or ``(*, m)``. The solution is the
    minimum-norm one, ``pinv(A) @ B``, ignoring singular values below ``rcond`` times the
    largest (default: the dtype's machine epsilon times ``max(m, n)``); gradients flow
    through it (and through ``residuals``). As in PyTorch on the CPU, ``driver`` (default
    ``'gelsy'``) decides which other fields are filled: ``rank`` for ``'gelsy'``,
    ``'gelsd'`` and ``'gelss'``; ``singular_values`` for ``'gelsd'`` and ``'gelss'``;
    ``residuals`` (the squared residual of each column) for every driver but ``'gelsy'``
    when ``m > n`` and every matrix has full rank. Fields not computed are empty tensors.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> result = flambeau.linalg.lstsq(A, flambeau.tensor([[1.0], [1.0], [3.0]]),
    ...                                driver="gelsd")
    >>> result.solution
    tensor([[1.3333],
            [1.3333]])
    >>> result.residuals, result.rank
    (tensor([0.3333]), tensor(2))
    """
    op = "linalg.lstsq"
    A = check_input(op, A)
    B = check_input(op, B, "B", min_dims=1)
    check_same_dtype(op, A, B)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{op}: driver must be one of 'gels', 'gelsy', 'gelsd' or 'gelss' "
                           f"on the CPU, but got {driver!r}")
    vector = B.ndim == A.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if B2.shape[-2] != m:
        raise RuntimeError(f"{op}: A {tuple(A.shape)} and B {tuple(B.shape)} must have the "
                           f"same number of rows ({m} != {B2.shape[-2]})")
    _d.batch_shape(op, A, B2)
    eps = float(_finfo_eps(A))
    rtol = eps * builtins.max(m, n) if rcond is None or rcond < 0 else float(rcond)
    X = _d.Pinv.apply(A, None, rtol, False) @ B2
    empty = A.new_zeros(0)
    rank = make(A._device._xp.zeros((0,), dtype="int64"), A)
    sv = empty
    full_rank = True
    if driver != "gels":
        S = svdvals(A.detach())
        tol = rtol * (S[..., :1] if S.shape[-1] else S.sum(-1, keepdim=True))
        rank = (S > tol).sum(-1)
        full_rank = bool((rank == builtins.min(m, n)).all())
        if driver in ("gelsd", "gelss"):
            sv = S
    residuals = empty
    if driver != "gelsy" and m > n and full_rank:
        r = A @ X - B2
        if r._data.dtype.kind == "c":  # squared moduli: real, as in PyTorch
            residuals = (r.real ** 2 + r.imag ** 2).sum(-2)
        else:
            residuals = (r ** 2).sum(-2)
    result = linalg_lstsq(X.squeeze(-1) if vector else X, residuals, rank, sv)
    # PyTorch casts into the solution's out; the residuals' must be of their dtype when they
    # are computed (not empty), the rank's and the singular values' when they are not (empty)
    exact = (False, residuals.numel() > 0, rank.numel() == 0, sv.numel() == 0)
    return result if out is None else _out(result, out, op, exact=exact)


def _finfo_eps(A):
    import numpy as np

    return np.finfo(A._data.dtype).eps


# ------------------------------------------------------------------ decompositions


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor of a symmetric (complex: Hermitian) positive-definite matrix:
    lower ``L`` with ``A = L @ L.mH`` (from ``A``'s lower triangle), or with ``upper=True``
    upper ``U`` with ``A = U.mH @ U`` (from the upper triangle). The diagonal is real and
    positive.

    Raises
    ------
    RuntimeError
        When a matrix is not positive-definite, naming the failing leading minor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.cholesky(flambeau.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    return _exact_out(_cholesky(A, upper, "linalg.cholesky", True)[0], out)


def _cholesky(A, upper, op, check):
    A = check_input(op, A, square=True)
    if upper:  # A = U^H U with U = L^H, L from the conjugate transpose's lower triangle
        L, info = _d.Cholesky.apply(A.mH, op, check)
        return L.mH, info
    return _d.Cholesky.apply(A, op, check)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``(L, info)``: :func:`cholesky` reporting failures in ``info`` (int32: 0, or the order
    of the first leading minor that is not positive-definite) instead of raising.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.cholesky_ex(flambeau.tensor([[1.0, 2.0], [2.0, 1.0]])).info
    tensor(2, dtype=flambeau.int32)
    """
    return _exact_out(
        linalg_cholesky_ex(*_cholesky(A, upper, "linalg.cholesky_ex", check_errors)), out)


def qr(A, mode="reduced", *, out=None):
    """The QR decomposition ``A = Q @ R`` (Q with orthonormal columns, R upper triangular).

    ``mode``: ``'reduced'`` (Q ``(*, m, k)``, R ``(*, k, n)``, ``k = min(m, n)``),
    ``'complete'`` (Q ``(*, m, m)``, R ``(*, m, n)``) or ``'r'`` (R only; Q is empty). It is
    differentiable in ``'reduced'`` mode, and in ``'complete'`` mode when ``m <= n``.

    Examples
    --------
    >>> import flambeau
    >>> Q, R = flambeau.linalg.qr(flambeau.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 2.0]]))
    >>> Q.shape, R.shape
    (flambeau.Size([3, 2]), flambeau.Size([2, 2]))
    >>> flambeau.allclose(Q.mT @ Q, flambeau.eye(2), atol=1e-6)
    True
    """
    op = "linalg.qr"
    A = check_input(op, A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"{op}: mode must be 'reduced', 'complete' or 'r', but got {mode!r}")
    return _exact_out(linalg_qr(*_d.QR.apply(A, mode)), out)


def _uplo(op, UPLO):
    u = UPLO.upper() if isinstance(UPLO, str) else UPLO
    if u not in ("L", "U"):
        raise RuntimeError(f"{op}: UPLO must be 'L' or 'U', but got {UPLO!r}")
    return u


def eig(A, *, out=None):
    """``(eigenvalues, eigenvectors)`` of a general square matrix: ``A @ V = V @ diag(L)``.

    Both are complex, also for a real ``A`` (complex64 for float32 and complex64 inputs,
    complex128 for float64 and complex128 ones), as ``torch.linalg.eig``. The eigenvalues
    come in LAPACK's order (not sorted); each eigenvector has unit norm and is otherwise only
    defined up to a phase ``e^{i phi}`` (LAPACK makes its largest component real). On a
    backend without a general eigensolver (CuPy) they are computed on the host, as PyTorch
    does on CUDA. For Hermitian matrices prefer :func:`eigh`.

    The gradient needs distinct eigenvalues, and a loss that does not depend on the
    eigenvectors' phases (a loss that does raises an error in backward, as in PyTorch); a
    real ``A`` gets the real part of the gradient.

    Raises
    ------
    LinAlgError
        For inputs with inf or NaN.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[0.0, -1.0], [1.0, 0.0]])
    >>> L, V = flambeau.linalg.eig(A)
    >>> L
    tensor([0.+1.j, 0.-1.j])
    >>> flambeau.allclose(A.to(V.dtype) @ V, V * L)
    True
    """
    op = "linalg.eig"
    A = check_input(op, A, square=True)
    return _out(linalg_eig(*_d.Eig.apply(A)), out)


def eigvals(A, *, out=None):
    """The eigenvalues of a general square matrix (complex, also for real ``A``), in the
    order :func:`eig` gives them.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.eigvals(flambeau.tensor([[2.0, 1.0], [0.0, 3.0]]))
    tensor([2.+0.j, 3.+0.j])
    """
    op = "linalg.eigvals"
    A = check_input(op, A, square=True)
    if _wants_grad(A) or A._data.size == 0:
        return _out(_d.Eig.apply(A)[0], out)
    return _out(make(_d.raw_eig(A._device, A._data, vectors=False), A), out)


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of a symmetric (complex:
    Hermitian) matrix.

    Only the lower (``UPLO='L'``) or upper triangle of ``A`` is read. The gradient needs
    distinct eigenvalues and a loss that does not depend on the eigenvectors' signs (for
    complex inputs, their phases: such a loss raises an error in backward).

    Examples
    --------
    >>> import flambeau
    >>> L, Q = flambeau.linalg.eigh(flambeau.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> L
    tensor([1., 3.])
    >>> (Q @ flambeau.diag(L) @ Q.mT).round(decimals=4)
    tensor([[2., 1.],
            [1., 2.]])
    """
    op = "linalg.eigh"
    A = check_input(op, A, square=True)
    return _exact_out(linalg_eigh(*_d.Eigh.apply(A, _uplo(op, UPLO))), out)


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues (ascending) of a symmetric matrix.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.eigvalsh(flambeau.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    op = "linalg.eigvalsh"
    A = check_input(op, A, square=True)
    uplo = _uplo(op, UPLO)
    if _wants_grad(A) or A._data.size == 0:
        return _exact_out(_d.Eigh.apply(A, uplo)[0], out)
    return _exact_out(make(A._device._xp.linalg.eigvalsh(A._data, UPLO=uplo), A), out)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """The singular value decomposition ``A = U @ diag(S) @ Vh``, S descending.

    ``full_matrices=True`` (the default) gives the complete U ``(*, m, m)`` and Vh
    ``(*, n, n)``; their extra columns/rows get no gradient. The gradient needs distinct
    singular values (non-zero ones when ``m != n`` and U or Vh is used) and a loss that does
    not depend on the signs of the singular vector pairs. ``driver`` (a cuSOLVER option in
    PyTorch) is accepted and ignored.

    Examples
    --------
    >>> import flambeau
    >>> U, S, Vh = flambeau.linalg.svd(flambeau.tensor([[0.0, 2.0], [1.0, 0.0], [0.0, 0.0]]))
    >>> U.shape, S, Vh.shape
    (flambeau.Size([3, 3]), tensor([2., 1.]), flambeau.Size([2, 2]))
    """
    A = check_input("linalg.svd", A)
    return _exact_out(linalg_svd(*_d.SVD.apply(A, bool(full_matrices))), out)


def svdvals(A, *, driver=None, out=None):
    """The singular values of a matrix, in descending order.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.svdvals(flambeau.tensor([[3.0, 0.0], [0.0, -4.0]]))
    tensor([4., 3.])
    """
    A = check_input("linalg.svdvals", A)
    if _wants_grad(A) or A._data.size == 0:
        return _exact_out(_d.SVD.apply(A, False)[1], out)
    return _exact_out(make(A._device._xp.linalg.svd(A._data, compute_uv=False), A), out)


def householder_product(A, tau, *, out=None):
    """The first ``n`` columns of the product of Householder reflectors
    ``H_i = I - tau_i v_i v_i^H``, ``v_i`` being column ``i`` of ``A`` below the diagonal
    with an implicit 1 on it (the ``Q`` of LAPACK's ``geqrf`` output).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.householder_product(flambeau.zeros(2, 2), flambeau.tensor([2.0, 0.0]))
    tensor([[-1.,  0.],
            [ 0.,  1.]])
    """
    from flambeau._creation import eye
    from flambeau._ops.shape import tril

    op = "linalg.householder_product"
    A = check_input(op, A)
    if not isinstance(tau, Tensor):
        raise TypeError(f"{op}: expected tau to be a Tensor, got {type(tau).__name__}")
    check_same_dtype(op, A, tau, "input", "tau")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1], but got shape {tuple(A.shape)}")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{op}: expected tau to have one dimension less than input, but "
                           f"got shapes {tuple(tau.shape)} and {tuple(A.shape)}")
    k = tau.shape[-1]
    if k > n:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1], but got {n} < {k}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: the batch dims of input {tuple(A.shape)} and tau "
                           f"{tuple(tau.shape)} must be equal")
    basis = eye(m, n, dtype=A.dtype, device=A.device)
    V = tril(A, -1) + basis
    Q = basis.expand(*A.shape)
    for i in range(k - 1, -1, -1):  # one step per reflector: H_1 (H_2 (... H_k I))
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return _out(Q, out)


# ------------------------------------------------------------------ pseudoinverse, rank


def _tol_arg(v):
    return v._data if isinstance(v, Tensor) else v


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The Moore-Penrose pseudoinverse.

    Singular values (absolute eigenvalues with ``hermitian=True``) at or below
    ``max(atol, rtol * largest)`` are treated as zero. ``rtol`` defaults to the dtype's
    epsilon times ``max(m, n)``, or to 0 when a positive ``atol`` is given; ``rcond`` is
    PyTorch's older name for ``rtol``. The gradient is that of a matrix of constant rank.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.pinv(flambeau.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor([[0.0400, 0.0800],
            [0.0800, 0.1600]])
    """
    op = "linalg.pinv"
    A = check_input(op, A, square=bool(hermitian))
    if rcond is not None:
        rtol, atol = rcond, (0.0 if atol is None else atol)
    return _out(_d.Pinv.apply(A, _tol_arg(atol), _tol_arg(rtol), bool(hermitian)), out)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """The numerical rank: the number of singular values above ``max(atol, rtol * largest)``
    (same defaults as :func:`pinv`; ``tol`` is PyTorch's older name for ``atol``). int64.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.matrix_rank(flambeau.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    op = "linalg.matrix_rank"
    A = check_input(op, A, square=bool(hermitian))
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = A._device._xp
    a = A._data
    m, n = a.shape[-2:]
    if a.size == 0:
        return _out(make(xp.zeros(a.shape[:-2], dtype="int64"), A), out)
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    eps_rtol = float(_finfo_eps(A)) * builtins.max(m, n)
    limit = _d._threshold(xp, xp.max(s, axis=-1), _tol_arg(atol), _tol_arg(rtol), eps_rtol)
    return _out(make(xp.sum(s > xp.asarray(limit)[..., None], axis=-1).astype("int64"), A), out)


# ------------------------------------------------------------------ norms


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements by default).

    ``ord``: any real number (``sum(|x|^ord)^(1/ord)``), ``inf``/``-inf`` (largest/smallest
    absolute value) or 0 (the number of non-zeros). ``dtype`` casts ``x`` first (to a
    floating dtype at least as wide). Gradients follow PyTorch's conventions: 0 where the
    norm is 0, shared evenly between ties for ``inf``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[3.0, -4.0], [0.0, 1.0]])
    >>> flambeau.linalg.vector_norm(x)
    tensor(5.0990)
    >>> flambeau.linalg.vector_norm(x, ord=1, dim=1)
    tensor([7., 1.])
    >>> flambeau.linalg.vector_norm(x, ord=float("inf"), dim=0, keepdim=True)
    tensor([[3., 4.]])
    """
    op = "linalg.vector_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float)):
        raise TypeError(f"{op}: ord must be a number, but got {ord!r}")
    check_float(op, x, "x", low_ok=True)
    if dtype is not None:
        from flambeau import _dtype

        target = _dtype.to_dtype(dtype)
        if not (target.is_floating_point or target.is_complex):
            raise RuntimeError(f"{op}: dtype must be a floating point dtype, but got {target}")
        if _dtype.promote_types(x.dtype, target) is not target:
            raise RuntimeError(f"{op}: the dtype of the input ({x.dtype}) should be "
                               f"convertible without narrowing to the specified dtype "
                               f"({target})")
        x = x.to(target)
    axes = dims_arg(dim, x._data.ndim, op)
    ord = float(ord)
    if ord < 0 or ord == _INF:
        shape = x._data.shape
        reduced = range(len(shape)) if axes is None else axes
        if x._data.size == 0 and builtins.any(shape[a] == 0 for a in reduced) or (
                axes is None and x._data.size == 0):
            raise RuntimeError(
                f"{op}: cannot compute the {_fmt_ord(ord)} norm of a tensor of shape "
                f"{tuple(shape)} over an empty dimension, because the operation has no "
                "identity"
            )
    return _exact_out(VectorNorm.apply(x, ord, axes, keepdim), out)


def _fmt_ord(ord):
    if not math.isfinite(ord):
        return "inf" if ord > 0 else "-inf"
    return str(int(ord)) if ord == int(ord) else str(ord)


def _matrix_dims(op, A, dim):
    if not isinstance(dim, (list, tuple)):  # torch's argument parser refuses an int
        raise TypeError(f"{op}: dim must be a tuple of 2 ints, but got {type(dim).__name__} "
                        f"{dim!r}")
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a pair of dims, but got {tuple(dim)} "
                           f"({len(dim)} dim{'s' if len(dim) != 1 else ''}) for A of shape "
                           f"{tuple(A.shape)}")
    d0, d1 = dim
    d0, d1 = wrap_dim(d0, A.ndim, op), wrap_dim(d1, A.ndim, op)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different, but got {tuple(dim)}")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm of ``A`` over the two dims ``dim``.

    ``ord``: ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular values), ``inf``/``-inf``
    (max/min absolute row sum), ``1``/``-1`` (max/min absolute column sum), ``2``/``-2``
    (largest/smallest singular value). ``'nuc'`` and ``±2`` need float32/float64.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> flambeau.linalg.matrix_norm(A), flambeau.linalg.matrix_norm(A, ord=1)
    (tensor(5.4772), tensor(6.))
    >>> flambeau.linalg.matrix_norm(A, ord=float("inf"))
    tensor(7.)
    """
    from flambeau._ops.reduction import amax, amin

    op = "linalg.matrix_norm"
    A = check_input(op, A, low_ok=True)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = _matrix_dims(op, A, dim)
    if ord == "fro":
        return _exact_out(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord == "nuc" or ord in (2, -2):
        check_float(op, A)
        moved = A.movedim((d0, d1), (-2, -1))
        if 0 in (A.shape[d0], A.shape[d1]):
            r = moved.abs().sum((-2, -1))
        else:
            s = _d.SVD.apply(moved, False)[1] if _wants_grad(A) else svdvals(moved)
            r = s.sum(-1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return _exact_out(r, out)
    if ord in (1, -1, _INF, -_INF):
        # 1: max over columns of the column sums (summed over rows, dim d0); inf: rows
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        if 0 in (A.shape[d0], A.shape[d1]):
            r = A.abs().sum((d0, d1), keepdim=True)
        else:
            sums = A.abs().sum(inner, keepdim=True)
            r = (amax if ord > 0 else amin)(sums, outer, keepdim=True)
        if not keepdim:
            r = r.squeeze(builtins.max(d0, d1)).squeeze(builtins.min(d0, d1))
        return _exact_out(r, out)
    raise RuntimeError(f"{op}: order {ord!r} is not supported; use 'fro', 'nuc', inf, -inf, "
                       "1, -1, 2 or -2")


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector or matrix norm, chosen as ``torch.linalg.norm`` chooses.

    With ``dim`` an int or 1-tuple: :func:`vector_norm` (``ord`` default 2; a string ``ord``
    is a matrix norm, refused over one dim); a 2-tuple: :func:`matrix_norm` (``ord`` default
    ``'fro'``). Without ``dim``: the 2-norm of the flattened input when ``ord`` is None, else
    a vector norm of a 1-D input or a matrix norm of a 2-D one.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[3.0, 0.0], [0.0, 4.0]])
    >>> flambeau.linalg.norm(A), flambeau.linalg.norm(A, ord=2), flambeau.linalg.norm(A, dim=1)
    (tensor(5.), tensor(4.), tensor([3., 4.]))
    """
    op = "linalg.norm"
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1 and not isinstance(ord, str):  # 'fro'/'nuc' ask for 2 dims
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype,
                               out=out)
        if len(dims) in (1, 2):
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype,
                               out=out)
        raise RuntimeError(f"{op}: dim must be an int or a tuple of 1 or 2 dims, but got "
                           f"{dim!r} for an input of shape {tuple(A.shape)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    if A.ndim in (1, 2):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"{op}: without dim, an ord is only defined for 1-D or 2-D inputs, but "
                       f"got shape {tuple(A.shape)}; pass dim")


def cond(A, p=None, *, out=None):
    """The condition number of a matrix in the ``p`` norm (default: 2, the ratio of the
    largest to the smallest singular value). Other norms (``'fro'``, ``'nuc'``, ``±inf``,
    ``±1``) compute ``norm(A) * norm(inv(A))`` and need square matrices; singular ones give
    ``inf``.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[1.0, 0.0], [0.0, 4.0]])
    >>> flambeau.linalg.cond(A), flambeau.linalg.cond(A, 1)
    (tensor(4.), tensor(4.))
    """
    from flambeau._ops.elementwise import where

    op = "linalg.cond"
    A = check_input(op, A)
    if p in (None, 2, -2):
        s = svdvals(A)
        if s.shape[-1] == 0:
            return _out(s.sum(-1), out)
        big, small = s[..., 0], s[..., -1]
        return _out(small / big if p == -2 else big / small, out)
    if p not in ("fro", "nuc", 1, -1, _INF, -_INF):
        raise RuntimeError(f"{op}: p={p!r} is not supported; use None, 'fro', 'nuc', inf, -inf, "
                           "1, -1, 2 or -2")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}(p={p!r}): expected a square matrix or a batch of them, but "
                           f"got shape {tuple(A.shape)}")
    Ainv, info = _d.Inv.apply(A, op, False)
    result = matrix_norm(A, p) * matrix_norm(Ainv, p)
    return _out(where(info > 0, _INF, result), out)


# ------------------------------------------------------------------ matrix functions


def matrix_power(A, n, *, out=None):
    """``A`` multiplied by itself ``n`` times (by repeated squaring); the identity for
    ``n = 0`` and powers of :func:`inv` for ``n < 0``. Integer matrices work for ``n >= 0``.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[2.0, 0.0], [0.0, 0.5]])
    >>> flambeau.linalg.matrix_power(A, 3), flambeau.linalg.matrix_power(A, -1)
    (tensor([[8.0000, 0.0000],
            [0.0000, 0.1250]]), tensor([[0.5000, 0.0000],
            [0.0000, 2.0000]]))
    """
    op = "linalg.matrix_power"
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{op}: n must be an int, but got {type(n).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: expected A to have at least 2 dimensions (a matrix or a "
                           f"batch of matrices), but got a tensor of shape {tuple(A.shape)}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: expected A to be a square matrix or a batch of square "
                           f"matrices, but got shape {tuple(A.shape)}")
    if n == 0:
        from flambeau._creation import eye

        return _exact_out(eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(*A.shape)
                          .clone(), out)
    if n < 0:
        A = inv(A)
        n = -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _exact_out(result, out)


def matrix_exp(A):
    """The matrix exponential ``sum_k A^k / k!`` (scaling and squaring with a Padé
    approximant). float16/bfloat16 inputs are computed in float32.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.matrix_exp(flambeau.tensor([[0.0, 1.0], [0.0, 0.0]]))
    tensor([[1., 1.],
            [0., 1.]])
    """
    A = check_input("linalg.matrix_exp", A, square=True, low_ok=True)
    return _d.MatrixExp.apply(A)


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices, multiplied in the cheapest order.

    The first and last tensors may be vectors (a row and a column vector); the others are
    matrices.

    Examples
    --------
    >>> import flambeau
    >>> a, b, c = flambeau.ones(3), flambeau.ones(3, 4), flambeau.ones(4)
    >>> flambeau.linalg.multi_dot([a, b, c])
    tensor(12.)
    """
    op = "linalg.multi_dot"
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"{op}: expected at least 2 tensors, but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: tensor {i} is a {type(t).__name__}, not a Tensor")
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            which = "the first tensor" if i == 0 else "the last tensor" if \
                i == len(tensors) - 1 else f"tensor {i}"
            raise RuntimeError(f"{op}: {which} must be "
                               f"{'1-D or 2-D' if len(allowed) == 2 else '2-D'}, but got shape "
                               f"{tuple(t.shape)}")
        if t._data.dtype != first._data.dtype:
            raise RuntimeError(f"{op}: all tensors must have the same dtype, but tensor 0 is "
                               f"{first.dtype} and tensor {i} is {t.dtype}")
    mats = list(tensors)
    if first.ndim == 1:
        mats[0] = first.unsqueeze(0)
    if last.ndim == 1:
        mats[-1] = last.unsqueeze(-1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"{op}: tensors {i} and {i + 1} with shapes "
                               f"{tuple(tensors[i].shape)} and {tuple(tensors[i + 1].shape)} "
                               "cannot be multiplied")
    result = _chain(mats)
    if first.ndim == 1:
        result = result.squeeze(0)
    if last.ndim == 1:
        result = result.squeeze(-1)
    return _exact_out(result, out)


def _chain(mats):
    """The product of 2-D ``mats`` in the order with fewest multiplications (the classic
    dynamic program over split points)."""
    k = len(mats)
    if k <= 2:
        return mats[0] @ mats[1] if k == 2 else mats[0]
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def build(i, j):
        if i == j:
            return mats[i]
        s = split[i][j]
        return build(i, s) @ build(s + 1, j)

    return build(0, k - 1)


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors along ``dim``; the other dims broadcast.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.cross(flambeau.tensor([1.0, 0.0, 0.0]), flambeau.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    from flambeau._ops.shape import broadcast_tensors, roll

    op = "linalg.cross"
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if input.ndim != other.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions, but got "
                           f"shapes {tuple(input.shape)} and {tuple(other.shape)}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{op}: expected input and other to have the same dtype, but got "
                           f"{input.dtype} and {other.dtype}")
    d = wrap_dim(dim, input.ndim, op)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3, but got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    try:
        a, b = broadcast_tensors(input, other)
    except RuntimeError:
        raise RuntimeError(f"{op}: shapes {tuple(input.shape)} and {tuple(other.shape)} cannot "
                           "be broadcast together") from None
    # component i is a[i+1] b[i+2] - a[i+2] b[i+1] (indices mod 3)
    result = roll(a, -1, d) * roll(b, -2, d) - roll(a, -2, d) * roll(b, -1, d)
    return _exact_out(result, out)


def vecdot(x, y, *, dim=-1, out=None):
    """The dot product of vectors along ``dim`` (``(x.conj() * y).sum(dim)``: complex ``x``
    is conjugated, as in PyTorch); the other dims broadcast.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.vecdot(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]),
    ...                        flambeau.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    op = "linalg.vecdot"
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
        check_float(op, t, name, low_ok=True)
    if _autocast.active:  # on torch's lower-precision list: the product and sum both
        x, y = _autocast.cast_inputs("lower", x, y)
        return _autocast.not_cast(_vecdot)(op, x, y, dim, out)
    return _vecdot(op, x, y, dim, out)


def _vecdot(op, x, y, dim, out):
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"{op}: expected x and y to have the same dtype, but got "
                           f"{x.dtype} and {y.dtype}")
    try:
        prod = _conj(x) * y
    except RuntimeError:
        raise RuntimeError(f"{op}: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be "
                           "broadcast together") from None
    return _exact_out(prod.sum(wrap_dim(dim, prod.ndim, op)), out)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of ``A`` seen as a linear map from its last dims to its first ``ind`` dims
    (``tensordot(tensorinv(A, ind), A, ind)`` is the identity).

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.eye(6).reshape(2, 3, 6)
    >>> flambeau.linalg.tensorinv(A, ind=2).shape
    flambeau.Size([6, 2, 3])
    """
    op = "linalg.tensorinv"
    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"{op}: expected a strictly positive integer for ind, but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f"{op}: the product of the first {ind} dims of shape {shape} "
                           f"({rows}) must equal the product of the others ({cols})")
    result = inv(A.reshape(rows, cols)).reshape(*shape[ind:], *shape[:ind])
    return _out(result, out)


def tensorsolve(A, B, dims=None, *, out=None):
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``; ``dims`` names dims of ``A`` to move to
    the end first.

    Examples
    --------
    >>> import flambeau
    >>> A = (2 * flambeau.eye(6)).reshape(2, 3, 6)
    >>> flambeau.linalg.tensorsolve(A, flambeau.ones(2, 3)).shape
    flambeau.Size([6])
    """
    op = "linalg.tensorsolve"
    if dims is not None:
        dims = [wrap_dim(d, A.ndim, op) for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    shape = tuple(A.shape)
    rest = shape[B.ndim:]
    rows, cols = math.prod(B.shape), math.prod(rest)
    if tuple(shape[:B.ndim]) != tuple(B.shape) or rows != cols:
        raise RuntimeError(f"{op}: A of shape {shape} does not fit B of shape "
                           f"{tuple(B.shape)}: A must be B.shape + X.shape with X of "
                           f"{rows} elements")
    result = solve(A.reshape(rows, cols), B.reshape(rows)).reshape(*rest)
    return _out(result, out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices of ``A`` (:func:`flambeau.diagonal` over the last two
    dims by default), as a view.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.diagonal(flambeau.arange(8).reshape(2, 2, 2))
    tensor([[0, 3],
            [4, 7]])
    """
    from flambeau._ops.shape import diagonal as _diagonal

    return _diagonal(A, offset, dim1, dim2)


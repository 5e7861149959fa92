"""Matrix decompositions, solvers and matrix functions: the Functions behind ``flambeau.linalg``.

Forward passes call the backend's ``xp.linalg`` (LAPACK through NumPy, cuSOLVER through CuPy)
on whole batches at once. Backward passes are written with flambeau ops, so
``create_graph=True`` gives second derivatives. The formulas are the usual ones from matrix
calculus:

- ``solve``: ``gB = A^-T g``, ``gA = -gB X^T``; ``inv``: ``gA = -A^-T g A^-T``.
- ``det``: ``g * cofactor(A)``, where the cofactor matrix is ``det(A) A^-T`` computed with a
  solve for invertible ``A`` and ``det(U) det(V) U diag(prod_{j != i} s_j) V^T`` from the SVD
  of a singular one (it is still the exact derivative there).
- ``cholesky``, ``qr``, ``eigh``, ``svd``: the standard formulas. Those of ``eigh`` and
  ``svd`` divide by differences of eigenvalues (squared singular values), so they are only
  defined when these are distinct, and the loss must not depend on the sign of each
  eigenvector / singular vector pair (a gauge freedom of the decompositions).
- ``matrix_exp``: the Fréchet derivative as a block of the exponential of a ``2n x 2n``
  block matrix.
- ``pinv``: the derivative of the pseudoinverse of a matrix of constant rank.

This module also holds the top-level functions of PyTorch's older API (``flambeau.det``,
``flambeau.svd``, ``flambeau.triangular_solve``, ``flambeau.tensordot``...);
:mod:`flambeau.linalg` holds the ``torch.linalg`` ones.
"""

from __future__ import annotations

import builtins
import warnings
from collections import namedtuple

import numpy as np

from flambeau._ops._util import (
    FLOAT_NP,
    LOW_PRECISION_NP,
    Tensor,
    make,
    promote,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau._ops.complex import conj
from flambeau._ops.shape import raw_triangle
from flambeau.amp import _autocast
from flambeau.autograd._function import Function

__all__ = [
    "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "cholesky_solve",
    "cholesky_inverse", "qr", "svd", "matrix_power", "matrix_exp", "cross", "tensordot",
    "chain_matmul", "vdot", "addbmm", "addr", "kron", "triangular_solve",
]

# ------------------------------------------------------------------ result types

linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])
linalg_solve_ex = namedtuple("linalg_solve_ex", ["result", "info"])
linalg_cholesky_ex = namedtuple("linalg_cholesky_ex", ["L", "info"])
linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
qr_result = namedtuple("qr", ["Q", "R"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_eig = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
svd_result = namedtuple("svd", ["U", "S", "V"])
linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])

_LOW_PRECISION = LOW_PRECISION_NP
_LINALG_ERRORS = (np.linalg.LinAlgError,)


class LinAlgError(RuntimeError):
    """The error that linear algebra functions raise for singular or not positive-definite
    input (``torch.linalg.LinAlgError``); a :class:`RuntimeError`, so ``except
    RuntimeError`` catches it too.

    Examples
    --------
    >>> import flambeau
    >>> try:
    ...     flambeau.linalg.inv(flambeau.zeros(2, 2))
    ... except flambeau.linalg.LinAlgError as e:
    ...     print(isinstance(e, RuntimeError))
    True
    """


LinAlgError.__module__ = "flambeau.linalg"


# ------------------------------------------------------------------ argument checks


def check_input(op, A, name="A", *, square=False, low_ok=False, min_dims=2):
    """``A`` checked for an op on (batches of) matrices: a float tensor of >= 2 dims.

    Under autocast, float16/bfloat16 inputs are computed in float32 as PyTorch's autocast
    does for linear algebra; outside it they are refused (LAPACK has no such kernels).
    """
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(A).__name__}")
    if _autocast.active:
        (A,) = _autocast.cast_inputs("fp32", A)
    if A._data.ndim < min_dims:
        what = "2 dimensions (a matrix or a batch of matrices)" if min_dims == 2 else \
            f"{min_dims} dimension{'s' if min_dims > 1 else ''}"
        raise RuntimeError(
            f"{op}: expected {name} to have at least {what}, but got a tensor of shape "
            f"{tuple(A.shape)}"
        )
    if square and A._data.shape[-1] != A._data.shape[-2]:
        m, n = A._data.shape[-2:]
        raise RuntimeError(
            f"{op}: expected {name} to be a square matrix or a batch of square matrices, but "
            f"got shape {tuple(A.shape)} ({m} by {n} matrices)"
        )
    check_float(op, A, name, low_ok=low_ok)
    return A


def check_float(op, A, name="A", *, low_ok=False):
    """Refuse integer and bool tensors (and half precision unless ``low_ok``); floating point
    and complex ones pass."""
    dt = A._data.dtype
    if dt not in FLOAT_NP and dt.kind != "c":
        raise RuntimeError(
            f"{op}: expected a floating point tensor as input, but {name} has dtype {A.dtype}"
        )
    if not low_ok and dt in _LOW_PRECISION:
        raise RuntimeError(
            f"{op}: low precision dtypes are not supported, but {name} has dtype {A.dtype}; "
            "convert it with .float() or .double() first"
        )


def check_same_dtype(op, a, b, na="A", nb="B"):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{op}: expected {na} and {nb} to have the same dtype, but {na} has dtype {a.dtype} "
            f"and {nb} has dtype {b.dtype}"
        )
    if a._device is not b._device:
        raise RuntimeError(
            f"{op}: expected {na} and {nb} to be on the same device, but {na} is on "
            f"{a._device} and {nb} is on {b._device}"
        )


def batch_shape(op, *tensors, core=2):
    """The broadcast batch shape of tensors whose last ``core`` dims are matrices."""
    shapes = [tuple(t._data.shape[:t._data.ndim - core]) for t in tensors]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(
            f"{op}: the batch dimensions of shapes "
            f"{' and '.join(str(tuple(t.shape)) for t in tensors)} cannot be broadcast together"
        ) from None


def _batch_note(info):
    """' (batch element i)' for the first failing matrix of a batch, '' for one matrix."""
    if info.ndim == 0:
        return ""
    flat = info.reshape(-1)
    first = int(np.argmax(_host(flat) > 0))
    return f" (batch element {first})"


def _host(arr):
    return arr.get() if hasattr(arr, "get") else np.asarray(arr)


# ------------------------------------------------------------------ small tensor helpers


def _eye(n, like):
    from flambeau._creation import eye

    return eye(n, dtype=like.dtype, device=like.device)


def _eye_mask(n, like):
    """A bool identity, for ``where`` on diagonals."""
    return _eye(n, like) != 0


def diag_embed(v):
    """Square matrices with ``v``'s last dim on their diagonals (differentiable)."""
    return v.unsqueeze(-1) * _eye(v.shape[-1], v)


def _zeros_like(t):
    return t.new_zeros(*t.shape)


# ------------------------------------------------------------------ raw LAPACK-style helpers


def _lu_info(xp, a):
    """LAPACK ``getrf``'s info per matrix: 1 + the index of the first zero pivot, else 0.

    Which matrices are singular is decided by LAPACK itself (an exactly zero determinant,
    computed from the same ``getrf``); the pivot index comes from Gaussian elimination with
    partial pivoting over the whole batch at once (one step per column), or, where rounding
    left no exact zero in it, from its smallest pivot. Only error paths call it.
    """
    n = a.shape[-1]
    batch = a.shape[:-2]
    w = xp.array(a.reshape((-1, n, n)), copy=True)
    count = w.shape[0]
    info = xp.zeros(count, dtype=np.int32)
    pivots = xp.zeros((count, n), dtype=w.real.dtype)
    rows = xp.arange(count)
    for k in range(n):
        col = w[:, k:, k]  # LAPACK pivots complex columns on |re| + |im|
        p = xp.argmax(xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c"
                      else xp.abs(col), axis=1) + k
        top = w[rows, k, :].copy()
        w[rows, k, :] = w[rows, p, :]
        w[rows, p, :] = top
        piv = w[:, k, k]
        pivots[:, k] = xp.abs(piv)
        zero = piv == 0
        info = xp.where((info == 0) & zero, k + 1, info).astype(np.int32)
        factor = w[:, k + 1:, k] / xp.where(zero, 1, piv)[:, None]
        factor = xp.where(zero[:, None], 0, factor)
        w[:, k + 1:, :] -= factor[:, :, None] * w[:, k, None, :]
    smallest = (xp.argmin(pivots, axis=1) + 1).astype(np.int32)
    singular = (xp.linalg.det(a) == 0).reshape(-1)
    info = xp.where(singular, xp.where(info > 0, info, smallest), 0).astype(np.int32)
    return info.reshape(batch)


def _cholesky_info(xp, a):
    """LAPACK ``potrf``'s info and factor: the order of the first leading minor that is not
    positive definite (0 when there is none), and ``potrf``'s partial factor (the failing
    pivot left unrooted, later columns untouched)."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    src = a.reshape((-1, n, n))
    L = xp.tril(src).copy()
    count = src.shape[0]
    info = xp.zeros(count, dtype=np.int32)
    for j in range(n):
        ok = info == 0
        row = L[:, j, :j]  # complex (Hermitian) input: |L|^2 and the diagonal's real part
        d = (src[:, j, j] - xp.sum(row * xp.conj(row), axis=1)).real
        bad = ok & ~(d > 0)
        info = xp.where(bad, j + 1, info).astype(np.int32)
        good = ok & (d > 0)
        root = xp.sqrt(xp.where(good, d, 1))
        L[:, j, j] = xp.where(good, root, xp.where(bad, d, L[:, j, j]))
        col = (src[:, j + 1:, j] - xp.einsum("bik,bk->bi", L[:, j + 1:, :j], xp.conj(row)))
        L[:, j + 1:, j] = xp.where(good[:, None], col / root[:, None], L[:, j + 1:, j])
    return info.reshape(batch), L.reshape(a.shape)


def _lapack_cholesky_info(xp, a, factor):
    """``potrf``'s info per matrix as the backend's own ``factor`` decides it, for a batch it
    refused (an error path only).

    :func:`_cholesky_info` recomputes the factorization in another order of operations, so
    at the edge (nearly singular matrices) it can round the other way than LAPACK; LAPACK
    then decides. Halving the batch finds the matrices it refuses (one call per half that
    still fails), and halving the order of the leading minors of each finds the first one
    it refuses.
    """
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    info = np.zeros(flat.shape[0], dtype=np.int32)
    spans = [(0, flat.shape[0])]
    while spans:
        lo, hi = spans.pop()
        if not _refused(xp, factor, flat[lo:hi]):
            continue
        if hi - lo > 1:
            spans += [(lo, (lo + hi) // 2), ((lo + hi) // 2, hi)]
            continue
        smallest, order = 1, n  # the leading minor of order `order` is refused
        while smallest < order:
            k = (smallest + order) // 2
            if _refused(xp, factor, flat[lo:hi, :k, :k]):
                order = k
            else:
                smallest = k + 1
        info[lo] = order
    return xp.asarray(info).reshape(a.shape[:-2])


def _refused(xp, factor, matrices):
    """Whether the Cholesky ``factor`` refuses one of ``matrices``: raises, or leaves NaN
    (reference LAPACK refuses a NaN pivot; OpenBLAS lets it through)."""
    try:
        return bool(xp.isnan(factor(matrices)).any())
    except _LINALG_ERRORS:
        return True


def _nan_where(xp, info, x):
    """``x`` with the matrices whose ``info`` is non-zero replaced by NaN."""
    bad = (info > 0).reshape(info.shape + (1,) * (x.ndim - info.ndim))
    return xp.where(bad, xp.asarray(np.nan, dtype=x.dtype), x)


def _safe_matrices(xp, info, a):
    """``a`` with the matrices whose ``info`` is non-zero replaced by identities."""
    n = a.shape[-1]
    bad = (info > 0)[..., None, None]
    return xp.where(bad, xp.eye(n, dtype=a.dtype), a)


def _lapack_guarded(xp, a, compute, check, singular_error):
    """``compute(a)`` and the ``getrf`` info of ``a``: singular matrices raise
    ``singular_error(info)`` when ``check``, else give NaN in their batch elements."""
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    try:
        x = compute(a)
    except _LINALG_ERRORS:
        x = None
    # CuPy returns NaN/inf instead of raising: the pivots then tell singular from NaN input
    if x is None or not bool(xp.isfinite(x).all()):
        info = _lu_info(xp, a)
        if bool((info > 0).any()):
            if check:
                raise singular_error(info)
            x = _nan_where(xp, info, compute(_safe_matrices(xp, info, a)))
        elif x is None:  # LAPACK refused a matrix whose determinant it finds non-zero
            raise singular_error(xp.full(info.shape, a.shape[-1], dtype=np.int32))
    return x, info


def raw_solve(xp, a, b, op, check, what):
    """``a^-1 b`` with ``a`` (..., n, n) and ``b`` (..., n, k) of one batch shape; the info
    array of ``getrf`` (singular matrices raise when ``check``, else give NaN)."""
    if a.size == 0 or b.size == 0:
        return xp.zeros(b.shape, dtype=a.dtype), xp.zeros(a.shape[:-2], dtype=np.int32)
    return _lapack_guarded(xp, a, lambda m: xp.linalg.solve(m, b), check,
                           lambda info: _singular_error(op, info, what))


def _singular_error(op, info, what, consequence="the computation could not be completed"):
    flat = _host(info).reshape(-1)
    k = int(flat[np.argmax(flat > 0)])
    return LinAlgError(
        f"{op}: {what} is singular{_batch_note(info)}: diagonal element {k} of its LU "
        f"factorization is zero, so {consequence}"
    )


def _raw_inv(xp, a, op, check):
    if a.size == 0:
        return xp.array(a, copy=True), xp.zeros(a.shape[:-2], dtype=np.int32)
    what = f"the input matrix of shape {tuple(a.shape)}"
    return _lapack_guarded(xp, a, xp.linalg.inv, check,
                           lambda info: _singular_error(op, info, what, "it has no inverse"))


# ------------------------------------------------------------------ solve and inverse


class Solve(Function):
    """``X`` with ``A @ X = B``: A (..., n, n), B (..., n, k), batch dims broadcast."""

    @staticmethod
    def forward(ctx, A, B, op, check):
        xp = A._device._xp
        batch = batch_shape(op, A, B)
        a = xp.broadcast_to(A._data, batch + A._data.shape[-2:])
        b = xp.broadcast_to(B._data, batch + B._data.shape[-2:])
        x, info = raw_solve(xp, a, b, op, check, "A")
        out = make(x, A)
        ctx.save_for_backward(A, out)
        return out, make(info, A)

    @staticmethod
    def backward(ctx, g, _ginfo):
        A, X = ctx.saved_tensors
        gB = solve_matrix(A.mH, g)
        gA = -(gB @ X.mH) if ctx.needs_input_grad[0] else None
        return gA, (gB if ctx.needs_input_grad[1] else None), None, None


def solve_matrix(A, B, op="linalg.solve", check=True):
    """``A^-1 B`` for matrices ``B`` (no vector case, no checks): used inside backwards."""
    return Solve.apply(A, B, op, check)[0]


class Inv(Function):
    @staticmethod
    def forward(ctx, A, op, check):
        xp = A._device._xp
        x, info = _raw_inv(xp, A._data, op, check)
        out = make(x, A)
        ctx.save_for_backward(out)
        return out, make(info, A)

    @staticmethod
    def backward(ctx, g, _ginfo):
        (Ainv,) = ctx.saved_tensors
        At = Ainv.mH
        return -(At @ g @ At), None, None


# ------------------------------------------------------------------ determinants


class Det(Function):
    @staticmethod
    def forward(ctx, A):
        xp = A._device._xp
        out = make(xp.linalg.det(A._data), A)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, g):
        A, d = ctx.saved_tensors
        return g[..., None, None] * cofactor(A, d), None


def cofactor(A, d):
    """The cofactor matrix of ``A`` (the derivative of ``det``), given ``d = det(A)``;
    conjugated for a complex ``A``, so that ``g * cofactor(A, d)`` is the gradient."""
    from flambeau._ops.elementwise import where

    n = A.shape[-1]
    if n == 0:
        return _zeros_like(A)
    xp = A._device._xp
    is_complex = A._data.dtype.kind == "c"
    dc = conj(d) if is_complex else d
    singular = d._data == 0
    any_singular = bool(singular.any())
    if not any_singular:  # conj(det(A) A^-T) = conj(det(A)) A^-H
        return solve_matrix(A.mH, dc[..., None, None] * _eye(n, A), "linalg.det")
    # exact zeros of det: the cofactor from the SVD, A = U diag(s) V^H, is
    # det(U) det(V^H) conj(U diag(prod_{j != i} s_j) V^H) (it vanishes when the rank is
    # below n - 1)
    U, S, Vh = SVD.apply(A, False)
    others = where(_eye_mask(n, S), 1.0, S.unsqueeze(-2).expand(*S.shape[:-1], n, n))
    from flambeau._ops.reduction import prod

    p = prod(others, -1)
    sign = xp.linalg.det(U._data) * xp.linalg.det(Vh._data)
    sign = make(xp.conj(sign) if is_complex else sign, A)
    by_svd = (U * p.unsqueeze(-2)) @ Vh * sign[..., None, None]
    if bool(singular.all()):
        return by_svd
    mask = make(singular, A)[..., None, None]
    safe = where(mask, _eye(n, A), A)
    by_solve = solve_matrix(safe.mH, dc[..., None, None] * _eye(n, A), "linalg.det")
    return where(mask, by_svd, by_solve)


class Slogdet(Function):
    """``(sign, logabsdet)``; for complex ``A`` the sign ``det / |det|`` is complex and
    differentiable, for real ``A`` it is not."""

    @staticmethod
    def forward(ctx, A):
        xp = A._device._xp
        sign, logabs = xp.linalg.slogdet(A._data)
        sign, logabs = make(xp.asarray(sign, dtype=A._data.dtype), A), make(logabs, A)
        ctx.save_for_backward(A, sign)
        if A._data.dtype.kind != "c":
            ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, gsign, g):
        from flambeau._ops.elementwise import where

        A, sign = ctx.saved_tensors
        n = A.shape[-1]
        if A._data.dtype.kind == "c" and gsign is not None:
            # log det = logabsdet + i angle(sign) is holomorphic in A (derivative A^-T); the
            # sign's gradient reaches its imaginary part: g_log = g - i Im(sign conj(gsign)),
            # and gA = g_log A^-H
            g = g - 1j * (sign * conj(gsign)).imag
        singular = sign == 0
        if not bool(singular._data.any()):
            return solve_matrix(A.mH, g[..., None, None] * _eye(n, A), "linalg.slogdet")
        # the gradient of log|det| is unbounded at a singular matrix: NaN there
        mask = singular[..., None, None]
        safe = where(mask, _eye(n, A), A)
        grad = solve_matrix(safe.mH, g[..., None, None] * _eye(n, A), "linalg.slogdet")
        return where(mask, float("nan"), grad)


# ------------------------------------------------------------------ triangular solves


class SolveTriangular(Function):
    """``X`` with ``T @ X = B`` for the triangle ``T`` of ``A`` (upper or lower, with a unit
    diagonal when ``unit``); batch dims broadcast."""

    @staticmethod
    def forward(ctx, A, B, upper, unit, op):
        xp = A._device._xp
        batch = batch_shape(op, A, B)
        n = A._data.shape[-1]
        t = raw_triangle(xp, A._data, (1 if upper else -1) if unit else 0, upper, unit=unit)
        x = raw_triangular_solve(xp, xp.broadcast_to(t, batch + (n, n)),
                                 xp.broadcast_to(B._data, batch + B._data.shape[-2:]), upper)
        out = make(x, A)
        ctx.meta = (upper, unit)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.shape import tril, triu

        A, X = ctx.saved_tensors
        upper, unit = ctx.meta
        gB = triangular_matrix_solve(A.mH, g, not upper, unit)
        gA = None
        if ctx.needs_input_grad[0]:
            full = -(gB @ X.mH)
            k = 1 if unit else 0
            gA = triu(full, k) if upper else tril(full, -k)
        return gA, (gB if ctx.needs_input_grad[1] else None), None, None, None


#: rows per diagonal block of raw_triangular_solve
_TRI_BLOCK = 32


def raw_triangular_solve(xp, t, b, upper):
    """``t^-1 b`` for a triangular ``t`` (..., n, n) holding only its triangle; batch dims
    broadcast. Block substitution: each diagonal block of ``_TRI_BLOCK`` rows is a small dense
    solve of its right-hand side less the rows already found, so the work is O(n^2 k) in
    matrix products, not the O(n^3) of a general solve of the whole triangle. A zero on the
    diagonal gives the inf/NaN of plain substitution, as LAPACK and PyTorch do."""
    batch = tuple(np.broadcast_shapes(t.shape[:-2], b.shape[:-2]))
    t = xp.broadcast_to(t, batch + t.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    if t.size == 0 or b.size == 0:
        return xp.zeros(b.shape, dtype=t.dtype)
    if not bool((xp.diagonal(t, 0, -2, -1) != 0).all()):
        return _substitute(xp, t, b, upper)
    n = t.shape[-1]
    if n <= _TRI_BLOCK:
        return xp.linalg.solve(t, b)
    x = xp.empty(b.shape, dtype=t.dtype)
    starts = range(0, n, _TRI_BLOCK)
    for i0 in (reversed(starts) if upper else starts):
        i1 = min(i0 + _TRI_BLOCK, n)
        rhs = b[..., i0:i1, :]
        if upper and i1 < n:
            rhs = rhs - t[..., i0:i1, i1:] @ x[..., i1:, :]
        elif not upper and i0 > 0:
            rhs = rhs - t[..., i0:i1, :i0] @ x[..., :i0, :]
        x[..., i0:i1, :] = xp.linalg.solve(t[..., i0:i1, i0:i1], rhs)
    return x


def _substitute(xp, t, b, upper):
    """Forward/back substitution, one row at a time, vectorized over batch and columns."""
    n = t.shape[-1]
    x = xp.zeros(b.shape, dtype=t.dtype)
    order = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in order:
            rest = slice(i + 1, n) if upper else slice(0, i)
            acc = b[..., i, :] - xp.einsum("...j,...jk->...k", t[..., i, rest], x[..., rest, :])
            x[..., i, :] = acc / t[..., i, i][..., None]
    return x


def triangular_matrix_solve(A, B, upper, unit=False, op="linalg.solve_triangular"):
    return SolveTriangular.apply(A, B, upper, unit, op)


# ------------------------------------------------------------------ cholesky


class Cholesky(Function):
    """The lower factor ``L`` of ``A = L L^T`` (from A's lower triangle)."""

    @staticmethod
    def forward(ctx, A, op, check):
        xp = A._device._xp
        a = A._data
        info = xp.zeros(a.shape[:-2], dtype=np.int32)
        if a.size == 0:
            L = xp.array(a, copy=True)
        else:
            # a backend's "cholesky" kernel raises LinAlgError where its solver reports a
            # failure (cuSOLVER leaves a finite, partial factor that no check here would see)
            factor = A._device._backend.kernels.get("cholesky", xp.linalg.cholesky)
            try:
                L = factor(a)
            except _LINALG_ERRORS:
                L = None
            if L is None or not bool(xp.isfinite(L).all()):
                info, partial = _cholesky_info(xp, a)
                if L is None:  # LAPACK refused a matrix: its verdict is the reference
                    info = _lapack_cholesky_info(xp, a, factor)
                if bool((info > 0).any()):
                    if check:
                        k = int(_host(info).reshape(-1)[np.argmax(_host(info).reshape(-1) > 0)])
                        raise LinAlgError(
                            f"{op}: the input of shape {tuple(a.shape)} is not positive-definite"
                            f"{_batch_note(info)}: its leading minor of order {k} is not "
                            "positive-definite, so the factorization could not be completed"
                        )
                    bad = (info > 0)[..., None, None]
                    L = xp.where(bad, partial, factor(_safe_matrices(xp, info, a)))
        out = make(L, A)
        ctx.save_for_backward(out)
        return out, make(info, A)

    @staticmethod
    def backward(ctx, gL, _ginfo):
        (L,) = ctx.saved_tensors
        return cholesky_grad(L, gL), None, None


def cholesky_grad(L, gL):
    """``gA = L^-H sym(Phi(L^H gL)) L^-1`` (Phi: the lower triangle with a halved diagonal);
    Hermitian, so it holds for the lower and (conjugate transposed) upper factorizations
    alike."""
    from flambeau._ops.shape import tril

    P = tril(L.mH @ gL)
    P = 0.5 * (P + tril(P, -1).mH)
    W = triangular_matrix_solve(L.mH, P, True)
    return triangular_matrix_solve(L.mH, W.mH, True).mH


# ------------------------------------------------------------------ eigh


class Eigh(Function):
    """``(L, Q)`` with ``A = Q diag(L) Q^T`` for symmetric ``A`` (one triangle read)."""

    @staticmethod
    def forward(ctx, A, uplo):
        xp = A._device._xp
        a = A._data
        if a.size == 0:
            w = xp.zeros(a.shape[:-1], dtype=a.real.dtype)
            v = xp.zeros(a.shape, dtype=a.dtype)
        else:
            w, v = xp.linalg.eigh(a, UPLO=uplo)
        w, v = make(w, A), make(v, A)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gL, gQ):
        L, Q = ctx.saved_tensors
        return eigh_grad(L, Q, gL, gQ), None


def eigh_grad(L, Q, gL, gQ):
    """``Q (diag(gL) + skew(Q^H gQ) / (L_j - L_i)) Q^H`` (Hermitian).

    For complex ``Q`` the diagonal of ``Q^H gQ`` must be real: a loss that depends on the
    phases of the eigenvectors (which the decomposition leaves free) is refused, as in
    PyTorch.
    """
    from flambeau._ops.elementwise import where

    if gQ is None:
        if gL is None:
            return None
        return (Q * gL.unsqueeze(-2)) @ Q.mH
    n = L.shape[-1]
    M = Q.mH @ gQ
    if M._data.dtype.kind == "c":
        _check_phase_invariance(M._device._xp, "linalg.eigh", "eigenvectors", M._data)
        M = 0.5 * (M - M.mH)
        M = where(_eye_mask(n, L), 0.0, M)  # the diagonal (the phases' part) is dropped
    else:
        M = 0.5 * (M - M.mT)
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    inner = M / where(_eye_mask(n, L), 1.0, E)
    if gL is not None:
        inner = inner + diag_embed(gL)
    return Q @ inner @ Q.mH


def _check_phase_invariance(xp, op, what, M, other=None):
    """PyTorch's check that a loss does not depend on the phases of complex eigenvectors or
    singular vectors (each is only defined up to a factor ``e^{i phi}``): the imaginary part
    of the diagonal of ``V^H gV`` (plus that of ``other`` for the SVD's two sides) must
    vanish, up to PyTorch's tolerance (0.01)."""
    im = xp.diagonal(M, 0, -2, -1).imag
    if other is not None:
        im = im + xp.diagonal(other, 0, -2, -1).imag
    if not bool(xp.all(xp.abs(im) <= 1e-2)):
        raise RuntimeError(
            f"{op}: the {what} of a complex matrix are only defined up to a phase (a factor "
            "e^{i phi} each), and the loss depends on these phases, so its gradient is "
            f"not defined; use a loss of phase-invariant quantities (e.g. the {what}' "
            "absolute values, or V diag(L) V^H)")


# ------------------------------------------------------------------ eig


def complex_dtype(dt):
    """The complex NumPy dtype whose parts have ``dt``'s precision (float32 → complex64)."""
    return np.result_type(dt, np.complex64)


def raw_eig(device, a, vectors=True):
    """LAPACK ``geev``'s eigenvalues ``w`` and unit-norm eigenvectors ``v`` (``(w, v)``, or
    ``w`` alone without ``vectors``) of the matrices ``a`` on ``device``, complex even where
    NumPy returns real ones. A backend without a general eigensolver (CuPy) computes them on
    the host, as PyTorch does on CUDA."""
    xp = device._xp
    cdt = complex_dtype(a.dtype)
    if not bool(xp.isfinite(a).all()):
        raise LinAlgError(
            f"linalg.{'eig' if vectors else 'eigvals'}: the input of shape {tuple(a.shape)} "
            "contains non-finite values (inf or NaN), so its eigenvalues cannot be computed")
    name = "eig" if vectors else "eigvals"
    solver = getattr(xp.linalg, name, None)
    if solver is None:
        backend = device._backend
        res = getattr(np.linalg, name)(backend.to_host(a))
        res = tuple(res) if vectors else (res,)
        res = tuple(backend.from_host(np.asarray(r, dtype=cdt), device.index) for r in res)
    else:
        res = solver(a)
        res = tuple(xp.asarray(r, dtype=cdt) for r in (tuple(res) if vectors else (res,)))
    return res if vectors else res[0]


class Eig(Function):
    """``(L, V)`` with ``A V = V diag(L)`` for a general square ``A``: complex eigenvalues
    and eigenvectors of unit norm (for real ``A`` too)."""

    @staticmethod
    def forward(ctx, A):
        xp = A._device._xp
        a = A._data
        if a.size == 0:
            cdt = complex_dtype(a.dtype)
            w = xp.zeros(a.shape[:-1], dtype=cdt)
            v = xp.zeros(a.shape, dtype=cdt)
        else:
            w, v = raw_eig(A._device, a)
        L, V = make(w, A), make(v, A)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        return eig_grad(L, V, gL, gV)


def eig_grad(L, V, gL, gV):
    """The gradient of a loss of ``A = V diag(L) V^-1`` with unit-norm eigenvectors
    (PyTorch's formula; the second term projects out the change of the eigenvectors'
    norms):
    ``gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(L_j - L_i)) V^H``.

    A real ``A`` gets its real part (the engine takes it). The loss must not depend on the
    eigenvectors' phases: ``Im(diag(V^H gV))`` must vanish.
    """
    from flambeau._ops.elementwise import where

    Vh = V.mH
    if gV is None:
        if gL is None:
            return None
        return solve_matrix(Vh, gL.unsqueeze(-1) * Vh, "linalg.eig")
    n = L.shape[-1]
    VhgV = Vh @ gV
    _check_phase_invariance(V._device._xp, "linalg.eig", "eigenvectors", VhgV._data)
    # project onto the tangent space of matrices with unit-norm columns
    VhgV = VhgV - Vh @ (V * VhgV.diagonal(0, -2, -1).real.unsqueeze(-2))
    E = conj(L.unsqueeze(-2) - L.unsqueeze(-1))  # conj(L_j - L_i)
    mask = _eye_mask(n, E)
    inner = VhgV / where(mask, 1.0, E)
    if gL is not None:
        inner = where(mask, diag_embed(gL), inner)
    return solve_matrix(Vh, inner @ Vh, "linalg.eig")


# ------------------------------------------------------------------ svd


class SVD(Function):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``; ``full`` keeps the complete U and Vh, whose
    extra columns/rows get no gradient (PyTorch's convention)."""

    @staticmethod
    def forward(ctx, A, full):
        xp = A._device._xp
        a = A._data
        m, n = a.shape[-2:]
        k = builtins.min(m, n)
        if a.size == 0:
            batch = a.shape[:-2]
            um, vn = (m, n) if full else (k, k)
            u = xp.broadcast_to(xp.eye(m, um, dtype=a.dtype), batch + (m, um)).copy()
            vh = xp.broadcast_to(xp.eye(vn, n, dtype=a.dtype), batch + (vn, n)).copy()
            s = xp.zeros(batch + (k,), dtype=a.real.dtype)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=full)
        U, S, Vh = make(u, A), make(s, A), make(vh, A)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(U, S, Vh)
        ctx.k = k
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = ctx.k
        if U.shape[-1] != k:
            U = U[..., :k]
            gU = None if gU is None else gU[..., :k]
        if Vh.shape[-2] != k:
            Vh = Vh[..., :k, :]
            gVh = None if gVh is None else gVh[..., :k, :]
        return svd_grad(U, S, Vh, gU, gS, gVh), None


def svd_grad(U, S, Vh, gU, gS, gVh):
    """The gradient of a loss of the reduced SVD ``A = U diag(S) Vh`` with respect to A.

    For complex ``A`` the transposes are conjugate transposes, and each pair of singular
    vectors is only defined up to a common phase: the loss must not depend on it (PyTorch's
    check), and the diagonal gets PyTorch's extra term ``i Im(diag(U^H gU)) / S``.
    """
    from flambeau._ops.elementwise import where

    if gU is None and gVh is None:
        if gS is None:
            return None
        return (U * gS.unsqueeze(-2)) @ Vh
    is_complex = U._data.dtype.kind == "c"
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    S2 = S * S
    E = where(_eye_mask(k, S), 1.0, S2.unsqueeze(-2) - S2.unsqueeze(-1))  # s_j^2 - s_i^2
    inner = diag_embed(gS) if gS is not None else None
    extra = UtgU = VtgV = None
    if gU is not None:
        UtgU = U.mH @ gU
        term = ((UtgU - UtgU.mH) / E) * S.unsqueeze(-2)
        inner = term if inner is None else inner + term
        if m > k:  # (I - U U^H) gU S^-1 V^H
            extra = ((gU - U @ UtgU) / S.unsqueeze(-2)) @ Vh
    if gVh is not None:
        V, gV = Vh.mH, gVh.mH
        VtgV = Vh @ gV
        term = S.unsqueeze(-1) * ((VtgV - VtgV.mH) / E)
        inner = inner + term if inner is not None else term
        if n > k:  # U S^-1 gV^H (I - V V^H)
            side = U @ ((gV - V @ VtgV) / S.unsqueeze(-2)).mH
            extra = side if extra is None else extra + side
    if is_complex:
        first, second = (UtgU, VtgV) if UtgU is not None else (VtgV, None)
        _check_phase_invariance(U._device._xp, "linalg.svd", "singular vectors",
                                first._data, None if second is None else second._data)
        if UtgU is not None:
            inner = inner + diag_embed(1j * UtgU.diagonal(0, -2, -1).imag / S)
    gA = U @ inner @ Vh
    return gA if extra is None else gA + extra


# ------------------------------------------------------------------ qr


class QR(Function):
    @staticmethod
    def forward(ctx, A, mode):
        xp = A._device._xp
        a = A._data
        m, n = a.shape[-2:]
        if mode == "r":
            r = xp.linalg.qr(a, mode="r") if a.size else xp.zeros(
                a.shape[:-2] + (builtins.min(m, n), n), dtype=a.dtype)
            q = xp.zeros((0,), dtype=a.dtype)
        elif a.size == 0:
            k = m if mode == "complete" else builtins.min(m, n)
            q = xp.broadcast_to(xp.eye(m, k, dtype=a.dtype), a.shape[:-2] + (m, k)).copy()
            r = xp.zeros(a.shape[:-2] + (k, n), dtype=a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        Q, R = make(q, A), make(r, A)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(Q, R)
        ctx.meta = (mode, m, n)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        mode, m, n = ctx.meta
        if mode == "r":
            raise RuntimeError(
                "linalg.qr: the derivative of the QR decomposition depends on Q, which "
                "mode='r' does not compute; use mode='reduced' to differentiate through it"
            )
        if mode == "complete" and m > n:
            raise RuntimeError(
                "linalg.qr: the QR decomposition is not differentiable when mode='complete' "
                f"and nrows > ncols (the input has shape (..., {m}, {n})); use mode='reduced'"
            )
        if gQ is None and gR is None:
            return None, None
        if m >= n:
            return _qr_grad_tall(Q, R, gQ, gR), None
        from flambeau._ops.shape import cat

        # A = [X | Y] with X square: Q, R[:, :m] are X's QR and R[:, m:] = Q^T Y
        X_R, V = R[..., :m], R[..., m:]
        gX_R = None if gR is None else gR[..., :m]
        gV = None if gR is None else gR[..., m:]
        gQ2 = gQ
        if gV is not None:  # V = Q^H Y also depends on Q (Y = Q V, the input's last columns)
            extra = (Q @ V) @ gV.mH
            gQ2 = extra if gQ2 is None else gQ2 + extra
        gX = _qr_grad_tall(Q, X_R, gQ2, gX_R)
        gY = Q @ gV if gV is not None else _zeros_like(V)
        return cat([gX, gY], -1), None


def _qr_grad_tall(Q, R, gQ, gR):
    """``gA = (gQ + Q N) R^-H`` for ``A = QR`` with ``m >= n``, where, with
    ``M = Q^H gQ - gR R^H``, ``N = tril(M - M^H, -1) + gR R^H - Q^H gQ``; for complex
    inputs less ``i Im(diag(gR R^H - Q^H gQ))``, as R's diagonal is real (it fixes the
    phases of Q's columns)."""
    from flambeau._ops.shape import tril

    QtgQ = Q.mH @ gQ if gQ is not None else None
    gRRt = gR @ R.mH if gR is not None else None
    if QtgQ is None:
        M, N0 = -gRRt, gRRt
    elif gRRt is None:
        M, N0 = QtgQ, -QtgQ
    else:
        M, N0 = QtgQ - gRRt, gRRt - QtgQ
    N = tril(M - M.mH, -1) + N0
    if N._data.dtype.kind == "c":
        N = N - diag_embed(1j * N0.diagonal(0, -2, -1).imag)
    B = Q @ N if gQ is None else gQ + Q @ N
    # B R^-H, through R^-1 B^H with R upper triangular
    return triangular_matrix_solve(R, B.mH, True, op="linalg.qr").mH


# ------------------------------------------------------------------ matrix exponential

# Padé (13, 13) coefficients of exp and the norm bound up to which they reach double
# precision without scaling (Higham, "The scaling and squaring method for the matrix
# exponential revisited", 2005)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(xp, a):
    """exp of each matrix of ``a`` by scaling, Padé (13, 13) and squaring, batched."""
    n = a.shape[-1]
    norm1 = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.ceil(xp.log2(norm1 / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    a = a / xp.asarray(2.0 ** s, dtype=a.dtype)[..., None, None]
    b = _PADE13
    eye = xp.eye(n, dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    steps = int(s.max()) if s.size else 0
    for i in range(steps):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r


class MatrixExp(Function):
    @staticmethod
    def forward(ctx, A):
        xp = A._device._xp
        a = A._data
        ctx.save_for_backward(A)
        if a.size == 0:
            return make(xp.array(a, copy=True), A)
        dt = a.dtype
        if dt in _LOW_PRECISION:  # computed in float32 and rounded once
            return make(_expm(xp, a.astype(np.float32)).astype(dt), A)
        return make(_expm(xp, a), A)

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.shape import cat

        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        At = A.mH
        top = cat([At, g], -1)
        bottom = cat([_zeros_like(At), At], -1)
        # the Fréchet derivative of exp at A^H in the direction g
        return MatrixExp.apply(cat([top, bottom], -2))[..., :n, n:]


# ------------------------------------------------------------------ pseudoinverse


def _threshold(xp, smax, atol, rtol, eps_rtol):
    """``max(atol, rtol * smax)`` with PyTorch's defaults (``rtol = eps * max(m, n)`` unless
    a positive ``atol`` is given)."""
    def arr(v):
        if v is None:
            return None
        return v._data if isinstance(v, Tensor) else xp.asarray(v, dtype=smax.dtype)

    at, rt = arr(atol), arr(rtol)
    if rt is None:
        rt = eps_rtol if at is None else xp.where(at > 0, 0.0, eps_rtol)
    tol = rt * smax
    return tol if at is None else xp.maximum(at, tol)


class Pinv(Function):
    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        xp = A._device._xp
        a = A._data
        m, n = a.shape[-2:]
        if a.size == 0:
            p = xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
        else:
            eps_rtol = float(np.finfo(a.dtype).eps) * builtins.max(m, n)
            if a.dtype.kind == "c":
                def ct(x):  # the conjugate transpose
                    return xp.conj(xp.swapaxes(x, -1, -2))
            else:
                def ct(x):
                    return xp.swapaxes(x, -1, -2)
            if hermitian:
                w, v = xp.linalg.eigh(a)
                s = xp.abs(w)
                tol = _threshold(xp, xp.max(s, axis=-1), atol, rtol, eps_rtol)
                keep = s > tol[..., None]
                inv_w = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
                p = (v * inv_w[..., None, :]) @ ct(v)
            else:
                u, s, vh = xp.linalg.svd(a, full_matrices=False)
                tol = _threshold(xp, s[..., 0] if s.shape[-1] else s.sum(-1), atol, rtol,
                                 eps_rtol)
                keep = s > tol[..., None]
                inv_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
                p = (ct(vh) * inv_s[..., None, :]) @ ct(u)
            p = p.astype(a.dtype, copy=False)
        out = make(p, A)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, g):
        A, P = ctx.saved_tensors
        m, n = A.shape[-2:]
        Pt = P.mH
        gA = -(Pt @ g @ Pt)
        # the terms that move A's row and column spaces (zero for an invertible A)
        proj_rows = _eye(m, A) - A @ P
        proj_cols = _eye(n, A) - P @ A
        gt = g.mH
        gA = gA + proj_rows @ gt @ (P @ Pt) + (Pt @ P) @ gt @ proj_cols
        return gA, None, None, None


# ------------------------------------------------------------------ vector norm


class VectorNorm(Function):
    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        xp = x._device._xp
        a = x._data
        dt = a.dtype
        if dt in _LOW_PRECISION:
            a = a.astype(np.float32)
        absx = xp.abs(a)
        if ord == float("inf"):
            r = xp.max(absx, axis=axes, keepdims=keepdim)
        elif ord == float("-inf"):
            r = xp.min(absx, axis=axes, keepdims=keepdim)
        elif ord == 0:
            r = xp.sum(a != 0, axis=axes, keepdims=keepdim).astype(absx.dtype)
        elif ord == 1:
            r = xp.sum(absx, axis=axes, keepdims=keepdim)
        elif ord == 2:
            r = xp.sqrt(xp.sum(absx * absx, axis=axes, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore", over="ignore"):
                r = xp.sum(absx ** ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)
        if dt.kind == "c":  # the norm of complex numbers is real
            dt = absx.dtype
        out = make(xp.asarray(r).astype(dt, copy=False), x)
        ctx.save_for_backward(x, out)
        ctx.meta = (ord, axes, keepdim)
        return out

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.elementwise import sgn, sign, where

        x, norm = ctx.saved_tensors
        ord, axes, keepdim = ctx.meta
        if x._data.dtype.kind == "c":  # z / |z|: the gradients below hold for complex z too
            sign = sgn
        if ord == 0:
            return None, None, None, None
        if not keepdim:
            keep = [1 if (axes is None or i in axes) else s for i, s in enumerate(x.shape)]
            g = g.reshape(*keep)
            norm = norm.reshape(*keep)
        if ord == 1:
            return g * sign(x), None, None, None
        zero = norm == 0
        if ord == 2:
            return x * where(zero, 0.0, g / where(zero, 1.0, norm)), None, None, None
        if ord in (float("inf"), float("-inf")):
            mask = (x.abs() == norm).to(norm.dtype)
            count = mask.sum(axes, keepdim=True) if axes is not None else mask.sum()
            return g * sign(x) * mask / count, None, None, None
        # d ||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1); 0 where the norm is 0, and at
        # zero elements for p < 1 (PyTorch's conventions)
        absx = x.abs()
        if ord < 1:
            nz = absx != 0
            scaled = where(nz, where(nz, absx, 1.0) ** (ord - 1), 0.0)
        else:
            scaled = absx ** (ord - 1)
        factor = where(zero, 0.0, g / where(zero, 1.0, norm) ** (ord - 1))
        return sign(x) * scaled * factor, None, None, None


# ------------------------------------------------------------------ top-level functions


def det(input):
    """The determinant of a square matrix or of each matrix of a batch (``linalg.det``).

    The gradient is the cofactor matrix, exact also at singular matrices.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.det(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    from flambeau import linalg

    return linalg.det(input)


def logdet(input):
    """The log-determinant: NaN for a negative determinant, ``-inf`` for a zero one.

    For a complex input it is the complex logarithm ``log|det| + i arg(det)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logdet(flambeau.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(1.7918)
    >>> flambeau.logdet(-flambeau.eye(3))
    tensor(nan)
    >>> flambeau.logdet(flambeau.tensor([[1j, 0], [0, 2]]))
    tensor(0.6931+1.5708j)
    """
    A = check_input("logdet", input, square=True)
    sign, logabs = Slogdet.apply(A)
    if A._data.dtype.kind == "c":
        from flambeau._ops.complex import angle
        from flambeau._ops.complex import complex as _complex

        return _complex(logabs, angle(sign))
    xp = A._device._xp
    s = sign._data
    # log(sign): 0, -inf for a zero determinant, NaN for a negative one (a constant)
    offset = xp.where(s > 0, 0.0, xp.where(s == 0, -np.inf, np.nan)).astype(s.dtype)
    return logabs + make(offset, A)


def slogdet(input, *, out=None):
    """``(sign, logabsdet)`` of the determinant: ``det = sign * exp(logabsdet)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.slogdet(flambeau.tensor([[0.0, 2.0], [3.0, 0.0]]))
    slogdet(sign=tensor(-1.), logabsdet=tensor(1.7918))
    """
    from flambeau import linalg

    result = slogdet_result(*linalg.slogdet(input))
    return result if out is None else write_out(result, out, exact=True)


@with_out(exact=True)
def inverse(input):
    """The inverse of a square matrix (``linalg.inv``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.inverse(flambeau.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    from flambeau import linalg

    return linalg.inv(input)


def pinverse(input, rcond=1e-15):
    """The pseudoinverse, ignoring singular values below ``rcond`` times the largest.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.pinverse(flambeau.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor([[0.0400, 0.0800],
            [0.0800, 0.1600]])
    """
    from flambeau import linalg

    return linalg.pinv(input, rtol=rcond, atol=0.0)


@with_out
def cholesky(input, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix (lower by default).

    ``upper=True`` gives ``U`` with ``A = U^T U`` (from ``A``'s upper triangle).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cholesky(flambeau.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    from flambeau import linalg

    return linalg.cholesky(input, upper=upper)


@with_out
def cholesky_solve(input, input2, upper=False):
    """Solve ``A X = B`` given ``B = input`` and the Cholesky factor ``input2`` of ``A``
    (``A = L L^H``, or ``U^H U`` with ``upper=True``).

    ``input`` is ``(*, n, k)`` and ``input2`` ``(*, n, n)`` (lower, or upper with
    ``upper=True``); batch dims broadcast.

    Examples
    --------
    >>> import flambeau
    >>> L = flambeau.tensor([[2.0, 0.0], [1.0, 2.0]])  # A = L @ L.T = [[4, 2], [2, 5]]
    >>> flambeau.cholesky_solve(flambeau.tensor([[6.0], [7.0]]), L)
    tensor([[1.],
            [1.]])
    """
    op = "cholesky_solve"
    B = check_input(op, input, "B")
    L = check_input(op, input2, "L", square=True)
    check_same_dtype(op, B, L, "B", "L")
    _check_rows(op, L, B, "L", "B")
    if upper:  # A = U^H U: U^H Y = B, then U X = Y
        Y = triangular_matrix_solve(L.mH, B, False, op=op)
        return triangular_matrix_solve(L, Y, True, op=op)
    Y = triangular_matrix_solve(L, B, False, op=op)
    return triangular_matrix_solve(L.mH, Y, True, op=op)


def _check_rows(op, A, B, na="A", nb="B"):
    if A.shape[-1] != B.shape[-2]:
        raise RuntimeError(
            f"{op}: incompatible shapes of {na} {tuple(A.shape)} and {nb} {tuple(B.shape)}: "
            f"{na} is {A.shape[-2]} by {A.shape[-1]}, so {nb} needs {A.shape[-1]} rows, not "
            f"{B.shape[-2]}"
        )


@with_out
def cholesky_inverse(input, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``input`` (``A = L L^T``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cholesky_inverse(flambeau.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.2500, 0.0000],
            [0.0000, 0.0625]])
    """
    L = check_input("cholesky_inverse", input, "L", square=True)
    n = L.shape[-1]
    eye = _eye(n, L).expand(*L.shape)
    return cholesky_solve(eye, L, upper)


def qr(input, some=True, *, out=None):
    """The QR decomposition (``some=False``: the complete one), as ``(Q, R)``.

    Examples
    --------
    >>> import flambeau
    >>> Q, R = flambeau.qr(flambeau.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> (Q @ R).round(decimals=4)
    tensor([[3., 1.],
            [4., 2.]])
    """
    from flambeau import linalg

    result = qr_result(*linalg.qr(input, mode="reduced" if some else "complete"))
    return result if out is None else write_out(result, out, exact=True)


def svd(input, some=True, compute_uv=True, *, out=None):
    """The singular value decomposition ``A = U diag(S) V^H``, returning ``(U, S, V)``.

    PyTorch's older form: ``V`` (``Vh``'s conjugate transpose) rather than ``Vh``;
    ``some=False`` gives the complete U and V; ``compute_uv=False`` gives zero-filled ``U``
    (m x m) and ``V`` (n x n).

    Examples
    --------
    >>> import flambeau
    >>> U, S, V = flambeau.svd(flambeau.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> S
    tensor([3., 2.])
    >>> (U @ flambeau.diag(S) @ V.T).round(decimals=4)
    tensor([[ 3.,  0.],
            [ 0., -2.]])
    """
    from flambeau import linalg

    A = check_input("svd", input)
    if not compute_uv:
        m, n = A.shape[-2:]
        S = linalg.svdvals(A)
        batch = tuple(A.shape[:-2])
        result = svd_result(A.new_zeros(*batch, m, m), S, A.new_zeros(*batch, n, n))
    else:
        U, S, Vh = linalg.svd(A, full_matrices=not some)
        result = svd_result(U, S, Vh.mH)
    return result if out is None else write_out(result, out, exact=True)


@with_out(exact=True)
def matrix_power(input, n):
    """``input`` multiplied by itself ``n`` times (``linalg.matrix_power``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.matrix_power(flambeau.tensor([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    from flambeau import linalg

    return linalg.matrix_power(input, n)


def matrix_exp(input):
    """The matrix exponential (``linalg.matrix_exp``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.matrix_exp(flambeau.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    from flambeau import linalg

    return linalg.matrix_exp(input)


@with_out(exact=True)
def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim``.

    Without ``dim`` it is the first dimension of ``input`` of size 3, as in PyTorch (which
    warns that this default will change to ``-1``; so does flambeau): prefer
    :func:`flambeau.linalg.cross`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cross(flambeau.tensor([1.0, 0.0, 0.0]), flambeau.tensor([0.0, 1.0, 0.0]),
    ...                dim=0)
    tensor([0., 0., 1.])
    """
    from flambeau import linalg

    if dim is None:
        warnings.warn(
            "cross: calling flambeau.cross without dim uses the first dimension of size 3, "
            "as PyTorch does; pass dim explicitly or use flambeau.linalg.cross (dim=-1)",
            UserWarning, stacklevel=2)
        sizes = tuple(input.shape)
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise RuntimeError(
                f"cross: no dimension of size 3 in input of shape {sizes}, so no default dim; "
                "pass dim explicitly"
            )
    return linalg.cross(input, other, dim=dim)


def tensordot(a, b, dims=2, out=None):
    """Sum of products over dims of ``a`` and ``b``: the last ``dims`` of ``a`` and the first
    ``dims`` of ``b`` (an int), or the dims listed in a pair ``(dims_a, dims_b)``.

    Examples
    --------
    >>> import flambeau
    >>> a = flambeau.arange(6.0).reshape(2, 3)
    >>> flambeau.tensordot(a, flambeau.ones(3, 4), dims=1).shape
    flambeau.Size([2, 4])
    >>> flambeau.tensordot(a, a, dims=([0, 1], [0, 1]))
    tensor(55.)
    """
    op = "tensordot"
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected Tensor arguments, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both inputs to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"{op}: expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"{op}: dims={dims} is larger than the number of dimensions of "
                               f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        try:
            da, db = dims
        except (TypeError, ValueError):
            raise RuntimeError(f"{op}: dims must be an int or a pair of lists of dims, got "
                               f"{dims!r}") from None
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"{op}: both dimension lists should have the same length, got "
                               f"{da} and {db}")
        da = [wrap_dim(d, a.ndim, op) for d in da]
        db = [wrap_dim(d, b.ndim, op) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"{op}: contracted dimensions need to match, but shape {tuple(a.shape)} has "
                f"size {a.shape[i]} in dim {i} and shape {tuple(b.shape)} has size "
                f"{b.shape[j]} in dim {j}"
            )
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    left = a.permute(*free_a, *da).reshape(-1, k)
    right = b.permute(*db, *free_b).reshape(k, -1)
    result = (left @ right).reshape(*[a.shape[i] for i in free_a],
                                    *[b.shape[j] for j in free_b])
    return write_out(result, out, exact=True)


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices, in the cheapest order (``linalg.multi_dot``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.chain_matmul(flambeau.ones(2, 3), flambeau.ones(3, 4), flambeau.ones(4, 1))
    tensor([[12.],
            [12.]])
    """
    from flambeau import linalg

    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul: expected one or more tensors")
    for i, m in enumerate(matrices):
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul: tensor {i} must be 2-D, but got shape "
                               f"{tuple(m.shape)}")
    result = matrices[0].clone() if len(matrices) == 1 else linalg.multi_dot(matrices)
    return write_out(result, out, exact=True)


def vdot(input, other, *, out=None):
    """The dot product of two 1-D tensors, conjugating the first: ``sum(conj(input) *
    other)`` (for real tensors the same as :func:`dot`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.vdot(flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0]))
    tensor(11.)
    >>> flambeau.vdot(flambeau.tensor([1j]), flambeau.tensor([1j]))
    tensor(1.+0.j)
    """
    from flambeau._ops.linalg import dot

    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"vdot: expected 1-D tensors, but got shapes {tuple(input.shape)} "
                           f"and {tuple(other.shape)}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"vdot: expected both vectors to have the same dtype, but got "
                           f"{input.dtype} and {other.dtype}")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"vdot: inconsistent sizes {input.shape[0]} and {other.shape[0]}")
    result = dot(conj(input), other)
    return write_out(result, out, exact=True)


def _scaled_sum(op, input, prod, beta, alpha):
    """``beta * input + alpha * prod``; ``beta = 0`` ignores ``input`` (NaN included)."""
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + _zeros_like(input) if input.shape != prod.shape else prod
    return prod + (input if beta == 1 else input * beta)


@with_out(exact=True)  # which also reads torch's deprecated orders
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (the batch is summed).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addbmm(flambeau.zeros(2, 2), flambeau.ones(3, 2, 4), flambeau.ones(3, 4, 2))
    tensor([[12., 12.],
            [12., 12.]])
    """
    op = "addbmm"
    if _autocast.active:
        input, batch1, batch2 = _autocast.cast_inputs("lower", input, batch1, batch2)
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(f"{op}: expected 3-D batch1 and batch2, but got shapes "
                           f"{tuple(batch1.shape)} and {tuple(batch2.shape)}")
    b, n, m = batch1.shape
    if batch2.shape[0] != b or batch2.shape[1] != m:
        raise RuntimeError(f"{op}: batch1 {tuple(batch1.shape)} and batch2 "
                           f"{tuple(batch2.shape)} cannot be multiplied batch by batch")
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}: expected input and {name} to have the same dtype, but "
                               f"got {input.dtype} and {t.dtype}")
    p = batch2.shape[2]
    # one product: (n, b*m) @ (b*m, p) sums over the batch
    prod = batch1.permute(1, 0, 2).reshape(n, b * m) @ batch2.reshape(b * m, p)
    try:
        np.broadcast_shapes(tuple(input.shape), (n, p))
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to "
                           f"the product's shape {(n, p)}") from None
    return _scaled_sum(op, input, prod, beta, alpha)


@with_out  # which also reads torch's deprecated orders
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.addr(flambeau.zeros(2, 3), flambeau.tensor([1.0, 2.0]),
    ...               flambeau.tensor([1.0, 0.0, -1.0]), alpha=2)
    tensor([[ 2.,  0., -2.],
            [ 4.,  0., -4.]])
    """
    from flambeau._ops.elementwise import logical_or

    op = "addr"
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"{op}: expected 1-D vectors, but got shapes {tuple(vec1.shape)} "
                           f"and {tuple(vec2.shape)}")
    a, b = promote(op, vec1, vec2)
    prod = a.reshape(-1, 1) * b.reshape(1, -1)
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(prod.shape))
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to "
                           f"the outer product's shape {tuple(prod.shape)}") from None
    if input._data.dtype.kind == "b" and prod._data.dtype.kind == "b":
        return logical_or(prod if alpha else prod & False, input if beta else input & False)
    return _scaled_sum(op, input, prod, beta, alpha)


def kron(input, other, *, out=None):
    """The Kronecker product (block ``[i, j]`` is ``input[i, j] * other``), any dims.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.kron(flambeau.eye(2), flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[1., 2., 0., 0.],
            [3., 4., 0., 0.],
            [0., 0., 1., 2.],
            [0., 0., 3., 4.]])
    """
    nd = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape(*[v for s in sa for v in (s, 1)])
    b = other.reshape(*[v for s in sb for v in (1, s)])
    result = (a * b).reshape(*[x * y for x, y in zip(sa, sb)])
    return write_out(result, out)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """PyTorch's older triangular solver: ``(solution, cloned_coefficient)`` with
    ``op(A) @ solution = input``, ``op(A)`` being ``A`` or ``A^T`` (``transpose``); torch's
    docs call ``input`` ``b``, its parser (and so its keyword) ``input``.

    Prefer :func:`flambeau.linalg.solve_triangular` (arguments the other way round).

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> flambeau.triangular_solve(flambeau.tensor([[4.0], [8.0]]), A).solution
    tensor([[1.],
            [2.]])
    """
    op = "triangular_solve"
    B = check_input(op, input, "input")
    A = check_input(op, A, "A", square=True)
    check_same_dtype(op, B, A, "input", "A")
    _check_rows(op, A, B)
    T, up = (A.mT, not upper) if transpose else (A, upper)
    x = triangular_matrix_solve(T, B, up, unitriangular, op)
    batch = batch_shape(op, A, B)
    result = triangular_solve_result(x, A.expand(*batch, *A.shape[-2:]).clone())
    if out is not None:
        out[0].copy_(result[0])
        out[1].copy_(result[1])
        return out
    return result

"""LU factorization with partial pivoting, its solver and unpacking: ``torch.linalg.lu*``.

NumPy has no LU routine, so the factorization is computed here, on whole batches at once,
with LAPACK ``getrf``'s semantics: at step ``j`` the row with the largest absolute value in
column ``j`` (the first one on ties) is swapped into place, pivots are 1-based int32, and a
singular matrix still factors (a zero pivot is skipped, and ``info`` is the 1-based index of
the first one). The algorithm is LAPACK ``getrf2``'s recursive one: factor the left half of
the columns, update the right half with one triangular solve and one matrix product, factor
its trailing block; only narrow panels of ``_PANEL`` columns are factored one column at a
time (each step vectorized over the batch), so almost all the work is matrix products.
Written against ``xp``, it runs on any backend.

Complex matrices factor the same way, the pivot being the entry of largest ``|re| + |im|``
(LAPACK's ``izamax``). Backward passes, written with flambeau ops (so second derivatives
work), for ``A = P L U`` with ``k = min(m, n)``, ``gL``/``gU`` the gradients of the unit
lower ``L`` (``m x k``) and the upper ``U`` (``k x n``) and ``L^-T``, ``U^-T`` triangular
solves (for complex matrices every transpose below is the conjugate transpose):

- square: ``gA = P L^-T [tril_-1(L^T gL) + triu(gU U^T)] U^-T``;
- wide (``m < n``, ``U = [U1 U2]``): ``gA = P L^-T [phi U1^-T, gU2]`` with
  ``phi = tril_-1(L^T gL - gU2 U2^T) + triu(gU1 U1^T)``;
- tall (``m > n``, ``L = [L1; L2]``): ``gA = P [L1^-T phi; gL2] U^-T`` with
  ``phi = tril_-1(L1^T gL1) + triu(gU U^T - L2^T gL2)``;
- ``lu_solve`` (``A X = B``): ``gB = A^-T gX`` (the same solve with ``adjoint`` flipped) and
  ``gA = -gB X^T`` (``-X gB^T`` for ``A^T X = B``), mapped onto the packed factors as
  ``gL = tril_-1(P^T gA U^T)``, ``gU = triu(L^T P^T gA)``.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple

import numpy as np

from flambeau._ops import decompositions as _d
from flambeau._ops._util import Tensor, make, write_out
from flambeau._ops.shape import raw_triangle
from flambeau.autograd._function import Function

__all__ = ["lu", "lu_solve", "lu_unpack"]

linalg_lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
linalg_lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
linalg_lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])
lu_with_info_result = namedtuple("_lu_with_info", ["LU", "pivots", "info"])

#: columns of the panels that the recursive LU factors one column at a time
_PANEL = 16
#: up to this many matrices, _perm_from_pivots replays the swaps in Python, one at a time;
#: beyond, one array operation per column over the whole batch is faster
_PERM_ON_HOST = 32


# ------------------------------------------------------------------ raw kernels


def _getrf(xp, a, pivot):
    """``(lu, pivots, info, perm)`` of ``a`` (..., m, n): the packed factors, LAPACK's 1-based
    int32 pivots (..., k), its int32 info (...) and the row order ``perm`` (..., m) with
    ``a[perm] == L @ U``."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    count = math.prod(batch)
    w = xp.array(a.reshape((count, m, n)), copy=True)
    piv = xp.empty((count, k), dtype=np.int32)
    if w.size == 0:
        perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
        piv[...] = xp.arange(1, k + 1, dtype=np.int32)
    elif n > m:  # wide: factor the leading square block, then U2 = L^-1 P A2
        perm = _getrf_tall(xp, w[:, :, :m], piv, 0, pivot)
        rest = w[:, :, m:]
        if perm is not None:
            rest[...] = _gather_rows(xp, rest, perm)
        rest[...] = _unit_lower_solve(xp, w[:, :, :m], rest)
    else:
        perm = _getrf_tall(xp, w, piv, 0, pivot)
    if perm is None:
        perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    info = xp.zeros(count, dtype=np.int32)
    if k and count:  # LAPACK's info: 1 + the index of the first zero on U's diagonal
        zero = xp.diagonal(w, 0, -2, -1)[:, :k] == 0
        info = xp.where(zero.any(axis=1), xp.argmax(zero, axis=1) + 1, 0).astype(np.int32)
    return (w.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch),
            perm.reshape(batch + (m,)))


def _factor(backend, a, pivot):
    """:func:`_getrf` of ``a``, through the backend's ``"lu_factor"`` kernel (LAPACK's
    ``getrf``, one call per matrix of a ``(count, m, n)`` batch) where it has one that takes
    ``a``; the row order is then None, left to :func:`_perm_from_pivots` when it is needed
    (a backward pass: ~30 us for 64 matrices, a quarter of their factorization)."""
    if pivot and a.ndim >= 2:
        m, n = a.shape[-2:]
        count = math.prod(a.shape[:-2])
        fast = backend.run_kernel("lu_factor", a.reshape((count, m, n)))
        if fast is not None:
            batch = a.shape[:-2]
            lu, piv, info = fast
            return lu.reshape(a.shape), piv.reshape(batch + (min(m, n),)), info.reshape(batch), None
    return _getrf(backend.xp, a, pivot)


def _gather_rows(xp, w, perm):
    """``w[b, perm[b], :]`` for each batch element ``b`` of ``w`` (count, m, n)."""
    return xp.take_along_axis(w, perm[:, :, None], axis=1)


def _unit_lower_solve(xp, lu, b):
    """``L^-1 b`` for the unit lower triangle ``L`` of the square ``lu`` (count, k, k)."""
    t = raw_triangle(xp, lu, -1, False, unit=True)
    return _d.raw_triangular_solve(xp, t, xp.ascontiguousarray(b), False)


def _getrf_tall(xp, w, piv, offset, pivot):
    """Factors ``w`` (count, m, n), ``m >= n``, in place, recursively: the left half of the
    columns, then one triangular solve and one matrix product for the right half, then the
    right half's trailing block. Writes the global 1-based pivots (``offset`` + the local
    row) into ``piv`` (count, n) and returns the local row order (count, m), or None when
    not pivoting. Only the narrow panels at the leaves loop over columns."""
    n = w.shape[-1]
    if n <= _PANEL:
        return _getrf_panel(xp, w, piv, offset, pivot)
    n1 = n // 2
    left, right = w[:, :, :n1], w[:, :, n1:]
    perm1 = _getrf_tall(xp, left, piv[:, :n1], offset, pivot)
    if perm1 is not None:
        right[...] = _gather_rows(xp, right, perm1)
    top = right[:, :n1]
    top[...] = _unit_lower_solve(xp, left[:, :n1], top)
    trailing = right[:, n1:]
    # contiguous operands: NumPy's batched matmul can miss BLAS on strided views
    trailing -= xp.ascontiguousarray(left[:, n1:]) @ xp.ascontiguousarray(top)
    perm2 = _getrf_tall(xp, trailing, piv[:, n1:], offset + n1, pivot)
    if perm2 is None:
        return None
    below = left[:, n1:]
    below[...] = _gather_rows(xp, below, perm2)
    return xp.concatenate([perm1[:, :n1], xp.take_along_axis(perm1[:, n1:], perm2, axis=1)],
                          axis=1)


def _getrf_panel(xp, w, piv, offset, pivot):
    """Unblocked LU of a narrow panel ``w`` (count, m, n), one column at a time, each step
    vectorized over the batch. The row numbers ride along as an extra column, so that the
    row swaps permute them too."""
    count, m, n = w.shape
    if not pivot:
        piv[...] = xp.arange(offset + 1, offset + n + 1, dtype=np.int32)
        for j in range(n):
            d = w[:, j, j]
            col = w[:, j + 1:, j]
            col /= (d + (d == 0))[:, None]  # a zero pivot leaves its column as it is
            w[:, j + 1:, j + 1:] -= col[:, :, None] * w[:, j, None, j + 1:]
        return None
    if count == 1:  # one matrix: a few operations per column on plain 2-D slices
        pw = xp.empty((m, n + 1), dtype=w.dtype)
        pw[:, :n] = w[0]
        pw[:, n] = xp.arange(m, dtype=w.dtype)
        piv[0] = _panel_2d(xp, pw, n) + (offset + 1)
        w[0] = pw[:, :n]
        return pw[None, :, n].real.astype(np.int64)
    # Batch last, (m, n + 1, count): every step's operations run over contiguous runs of
    # `count` elements (with the batch first, the rank-1 update's innermost loop was a row of
    # a few elements: 2x slower for 64 8x8 matrices). A step is ~11 NumPy calls whatever the
    # batch size, which is why only many small matrices come here (see _numpy_kernels).
    cols = n + 1
    pw = xp.empty((m, cols, count), dtype=w.dtype)
    pw[:, :n] = w.transpose(1, 2, 0)
    pw[:, n] = xp.arange(m, dtype=w.dtype)[:, None]
    flat = pw.reshape(-1)
    row = cols * count  # elements of one row of the batch
    grid = xp.arange(row).reshape((cols, count))
    swap = xp.empty((2, cols, count), dtype=np.int64)  # flat offsets of rows j and p
    local = xp.empty((n, count), dtype=np.int64)
    for j in range(n):
        p = xp.argmax(_abs1(xp, pw[j:, j]), axis=0)
        local[j] = p
        xp.add(grid, j * row, out=swap[0])
        xp.add(swap[0], p * row, out=swap[1])
        # one gather and one scatter swap rows j and j + p of every matrix (p = 0: a no-op)
        flat[swap.reshape(-1)] = flat[swap[::-1].reshape(-1)]
        if j + 1 < m:
            d = pw[j, j]
            col = pw[j + 1:, j]
            # with pivoting a zero pivot means a zero column: leave it unscaled, as LAPACK
            col /= d + (d == 0)
            if j + 1 < n:
                pw[j + 1:, j + 1:n] -= col[:, None] * pw[j, None, j + 1:n]
    local += xp.arange(offset + 1, offset + n + 1)[:, None]
    piv[...] = local.T
    w[...] = pw[:, :n].transpose(2, 0, 1)
    return pw[:, n].T.real.astype(np.int64)


def _panel_2d(xp, pw, n):
    """The column loop of :func:`_getrf_panel` for a single panel ``pw`` (m, n + 1);
    returns the 0-based local pivot rows (n,)."""
    local = []
    for j in range(n):
        p = j + int(xp.argmax(_abs1(xp, pw[j:, j])))
        local.append(p)
        if p != j:
            pw[[j, p]] = pw[[p, j]]
        d = pw[j, j]
        col = pw[j + 1:, j]
        if d != 0:  # with pivoting a zero pivot means a zero column: LAPACK leaves it
            col /= d
        if j + 1 < n:
            pw[j + 1:, j + 1:n] -= col[:, None] * pw[j, j + 1:n]
    return xp.asarray(local, dtype=np.int64)


def _abs1(xp, a):
    """The magnitude LAPACK pivots on: ``|a|``, and ``|re| + |im|`` for complex ``a``."""
    if a.dtype.kind == "c":
        return xp.abs(a.real) + xp.abs(a.imag)
    return xp.abs(a)


def _perm_from_pivots(xp, piv, m):
    """The row order (..., m) that the LAPACK-style swaps ``piv`` (..., k) make."""
    batch = piv.shape[:-1]
    count = math.prod(batch)
    if count <= _PERM_ON_HOST:  # a swap in Python is ~40 times cheaper than an array op
        orders = []
        for row in piv.reshape((count, piv.shape[-1])).tolist():
            order = list(range(m))
            for j, p in enumerate(row):
                order[j], order[p - 1] = order[p - 1], order[j]
            orders.append(order)
        return xp.asarray(orders, dtype=np.int64).reshape(batch + (m,))
    flat = piv.reshape((count, piv.shape[-1])).astype(np.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    rows = xp.arange(count)
    for j in range(flat.shape[1]):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def _perm_matrix(xp, perm, dtype):
    """``P`` with ``P @ A[perm] == A``: ``P[perm[i], i] = 1``."""
    m = perm.shape[-1]
    return xp.swapaxes(xp.eye(m, dtype=dtype)[perm], -1, -2)


def _raw_lu_solve(xp, lu, perm, b, adjoint):
    L = raw_triangle(xp, lu, -1, False, unit=True)
    U = raw_triangle(xp, lu, 0, True)
    solve = _d.raw_triangular_solve
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        return solve(xp, U, solve(xp, L, _take_rows(xp, b, perm), False), True)
    # A^H = U^H L^H P^T: X = P L^-H U^-H B
    Lh, Uh = xp.swapaxes(L, -1, -2), xp.swapaxes(U, -1, -2)
    if lu.dtype.kind == "c":
        Lh, Uh = xp.conj(Lh), xp.conj(Uh)
    z = solve(xp, Lh, solve(xp, Uh, b, False), True)
    inv = xp.argsort(perm, axis=-1)
    return _take_rows(xp, z, inv)


def _take_rows(xp, b, perm):
    """``b[..., perm, :]`` per batch element, batch dims of ``b`` and ``perm`` broadcast."""
    batch = tuple(np.broadcast_shapes(b.shape[:-2], perm.shape[:-1]))
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    idx = xp.broadcast_to(perm[..., :, None], batch + (perm.shape[-1], b.shape[-1]))
    return xp.take_along_axis(b, idx, axis=-2)


# ------------------------------------------------------------------ Functions


class _UnitLower(Function):
    """The unit lower triangle of ``A`` (..., m, k), ``m >= k``: one pass, where
    ``tril(A, -1) + eye`` took two, the second 10x slower on LAPACK's column-major factors
    (a C-ordered identity)."""

    @staticmethod
    def forward(ctx, A):
        return raw_triangle(A._device._xp, A._data, -1, False, unit=True)

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.shape import tril

        return tril(g, -1)


def _unpack_lu(LU):
    """``(L, U)`` from packed factors, as differentiable flambeau ops."""
    from flambeau._ops.shape import triu

    m, n = LU.shape[-2:]
    k = min(m, n)
    L = _UnitLower.apply(LU[..., :, :k])
    U = triu(LU[..., :k, :])
    return L, U


def _left_solve_ut(L, X):
    """``L^-H X`` for unit lower ``L`` (square)."""
    return _d.triangular_matrix_solve(L.mH, X, True, True, "linalg.lu_factor")


def _right_solve_ut(X, U):
    """``X U^-H`` for upper ``U`` (square)."""
    return _d.triangular_matrix_solve(U, X.mH, True, False, "linalg.lu_factor").mH


def lu_factor_backward(LU, P, gLU):
    """The gradient of ``A`` from that of its packed factors ``LU`` (see the module notes)."""
    from flambeau._ops.shape import cat, tril, triu

    m, n = LU.shape[-2:]
    k = min(m, n)
    if LU.numel() == 0:
        return gLU.new_zeros(*gLU.shape)
    L, U = _unpack_lu(LU)
    gL = tril(gLU[..., :, :k], -1)
    gU = triu(gLU[..., :k, :])
    if m == n:
        phi = tril(L.mH @ gL, -1) + triu(gU @ U.mH)
        gA = _right_solve_ut(_left_solve_ut(L, phi), U)
    elif m < n:
        U1, U2 = U[..., :, :m], U[..., :, m:]
        gU1, gU2 = gU[..., :, :m], gU[..., :, m:]
        phi = tril(L.mH @ gL - gU2 @ U2.mH, -1) + triu(gU1 @ U1.mH)
        gA = _left_solve_ut(L, cat([_right_solve_ut(phi, U1), gU2], -1))
    else:
        L1, L2 = L[..., :n, :], L[..., n:, :]
        gL1, gL2 = gL[..., :n, :], gL[..., n:, :]
        phi = tril(L1.mH @ gL1, -1) + triu(gU @ U.mH - L2.mH @ gL2)
        gA = _right_solve_ut(cat([_left_solve_ut(L1, phi), gL2], -2), U)
    return P @ gA


class LUFactor(Function):
    """``(LU, pivots, info)`` of ``A`` (..., m, n)."""

    @staticmethod
    def forward(ctx, A, pivot, op, check):
        lu, piv, info, perm = _factor(A._device.backend, A._data, pivot)
        if check and bool((info > 0).any()):
            raise _d._singular_error(
                op, info, f"the input of shape {tuple(A.shape)}",
                "using the factorization in lu_solve would divide by zero; call "
                "linalg.lu_factor_ex(A) or linalg.lu(A) to factor it anyway")
        out, pivots, infos = make(lu, A), make(piv, A), make(info, A)
        ctx.mark_non_differentiable(pivots, infos)
        ctx.save_for_backward(out)
        # P itself (m x m), and the row order where the factorization did not give it, are
        # built only if a gradient is asked for
        ctx.perm = (perm, piv)
        return out, pivots, infos

    @staticmethod
    def backward(ctx, gLU, _gpiv, _ginfo):
        (LU,) = ctx.saved_tensors
        xp = LU._device._xp
        perm, piv = ctx.perm
        if perm is None:
            perm = _perm_from_pivots(xp, piv, LU.shape[-2])
        P = make(_perm_matrix(xp, perm, LU._data.dtype), LU)
        return lu_factor_backward(LU, P, gLU), None, None, None


def _solve(device, lu, perm, b, adjoint):
    x = device.backend.run_kernel("lu_solve", lu, perm, b, adjoint)
    return _raw_lu_solve(device._xp, lu, perm, b, adjoint) if x is None else x


def _solve_folded(device, lu, perm, b, adjoint):
    """:func:`_solve`, where one factorization serves a batch of right-hand sides ``b``
    (..., n, k) as one ``(n, n) x (n, batch * k)`` system: broadcasting the factor copied it
    (and LAPACK ran) once per batch element."""
    n, k = b.shape[-2:]
    count = math.prod(b.shape[:-2])
    if count <= 1 or math.prod(lu.shape[:-2]) != 1 or math.prod(perm.shape[:-1]) != 1:
        return _solve(device, lu, perm, b, adjoint)
    xp = device._xp
    batch = tuple(np.broadcast_shapes(lu.shape[:-2], perm.shape[:-1], b.shape[:-2]))
    wide = xp.reshape(xp.moveaxis(xp.reshape(b, (count, n, k)), 0, 1), (n, count * k))
    x = _solve(device, xp.reshape(lu, (n, n)), xp.reshape(perm, (n,)), wide, adjoint)
    return xp.reshape(xp.moveaxis(xp.reshape(x, (n, count, k)), 1, 0), batch + (n, k))


class LUSolve(Function):
    """``X`` with ``A X = B`` (``A^H X = B`` when ``adjoint``) for ``A = P L U`` given as the
    packed ``LU`` (..., n, n) and the row order ``perm`` (..., n); batch dims broadcast."""

    @staticmethod
    def forward(ctx, LU, B, perm, adjoint):
        out = make(_solve_folded(LU._device, LU._data, perm, B._data, adjoint), LU)
        ctx.save_for_backward(LU, out)
        ctx.meta = (perm, adjoint)
        return out

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.shape import tril, triu

        LU, X = ctx.saved_tensors
        perm, adjoint = ctx.meta
        gB = LUSolve.apply(LU, g, perm, not adjoint)
        gLU = None
        if ctx.needs_input_grad[0]:
            gA = -(X @ gB.mH) if adjoint else -(gB @ X.mH)
            P = make(_perm_matrix(LU._device._xp, perm, LU._data.dtype), LU)
            L, U = _unpack_lu(LU)
            PtgA = P.mT @ gA
            gLU = tril(PtgA @ U.mH, -1) + triu(L.mH @ PtgA)
        return gLU, (gB if ctx.needs_input_grad[1] else None), None, None


# ------------------------------------------------------------------ argument checks


def _check_pivot_arg(op, A, pivot):
    if not pivot and A._device.type == "cpu":
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")


def _check_pivots(op, LU, pivots, name="pivots"):
    if not isinstance(pivots, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(pivots).__name__}")
    if pivots._data.dtype != np.int32:
        raise RuntimeError(f"{op}: expected {name} to have dtype flambeau.int32 (as "
                           f"linalg.lu_factor returns them), but got {pivots.dtype}")
    m, n = LU.shape[-2:]
    want = tuple(LU.shape[:-2]) + (min(m, n),)
    if tuple(pivots.shape) != want:
        raise RuntimeError(f"{op}: expected {name} of shape {want} for LU of shape "
                           f"{tuple(LU.shape)} (LU.shape[:-2] + (min(m, n),)), but got "
                           f"{tuple(pivots.shape)}")
    p = pivots._data
    if p.size and bool(((p < 1) | (p > m)).any()):
        raise RuntimeError(f"{op}: {name} must be between 1 and LU.shape[-2] = {m}, but got "
                           f"values from {int(p.min())} to {int(p.max())}; pass the pivots "
                           "that linalg.lu_factor returns")


# ------------------------------------------------------------------ torch.linalg functions


def lu_factor(A, *, pivot=True, out=None):
    """``(LU, pivots)``: the LU factorization with partial pivoting of ``A`` in packed form.

    ``A`` is ``(*, m, n)`` float32 or float64. ``LU`` has ``A``'s shape and holds the strictly
    lower part of the unit lower triangular ``L`` under the upper triangular ``U``;
    ``pivots`` (``(*, min(m, n))``, int32, 1-based as in LAPACK) says that row ``i`` was
    swapped with row ``pivots[i] - 1`` at step ``i``. The pivot of each step is the entry of
    largest absolute value in its column (the first one on ties), as LAPACK's ``getrf``
    chooses it. The gradient is defined for full-rank matrices (square, wide or tall).

    Parameters
    ----------
    A : Tensor
        ``(*, m, n)``.
    pivot : bool
        ``False`` (LU without pivoting) is only available on GPUs, as in PyTorch.
    out : tuple of Tensor, optional

    Raises
    ------
    RuntimeError
        When a matrix is singular (a zero on ``U``'s diagonal, which :func:`lu_solve` would
        divide by); :func:`lu_factor_ex` and :func:`lu` factor such matrices too.

    Examples
    --------
    >>> import flambeau
    >>> LU, pivots = flambeau.linalg.lu_factor(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> LU
    tensor([[3.0000, 4.0000],
            [0.3333, 0.6667]])
    >>> pivots
    tensor([2, 2], dtype=flambeau.int32)
    """
    op = "linalg.lu_factor"
    LU, piv, _ = _lu_factor(op, A, pivot, True)
    return write_out(linalg_lu_factor_result(LU, piv), out, exact=True)


def _lu_factor(op, A, pivot, check):
    A = _d.check_input(op, A)
    _check_pivot_arg(op, A, pivot)
    return LUFactor.apply(A, pivot, op, check)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """``(LU, pivots, info)``: :func:`lu_factor` that reports singular matrices in ``info``.

    ``info`` (int32, ``A.shape[:-2]``) is 0, or the 1-based index of the first zero on the
    diagonal of ``U`` (LAPACK's convention). ``check_errors=True`` raises as
    :func:`lu_factor` does.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.lu_factor_ex(flambeau.tensor([[1.0, 2.0], [2.0, 4.0]]))
    linalg_lu_factor_ex(LU=tensor([[2.0000, 4.0000],
            [0.5000, 0.0000]]), pivots=tensor([2, 2], dtype=flambeau.int32), info=tensor(2, dtype=flambeau.int32))
    """  # noqa: E501
    op = "linalg.lu_factor_ex"
    result = linalg_lu_factor_ex_result(*_lu_factor(op, A, pivot, check_errors))
    return write_out(result, out, exact=True)


def linalg_lu(A, *, pivot=True, out=None):
    """``(P, L, U)`` with ``A = P @ L @ U``: the LU factorization with partial pivoting.

    For ``A`` of shape ``(*, m, n)`` and ``k = min(m, n)``: ``P`` is an ``(*, m, m)``
    permutation matrix, ``L`` ``(*, m, k)`` unit lower triangular, ``U`` ``(*, k, n)`` upper
    triangular. Singular matrices factor too. Differentiable (for full-rank ``A``) through
    ``L`` and ``U``. With ``pivot=False`` (GPU only, as in PyTorch) ``P`` is empty.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> P, L, U = flambeau.linalg.lu(A)
    >>> L
    tensor([[1.0000, 0.0000],
            [0.2000, 1.0000],
            [0.6000, 0.5000]])
    >>> U
    tensor([[5.0000, 6.0000],
            [0.0000, 0.8000]])
    >>> flambeau.allclose(P @ L @ U, A)
    True
    """
    op = "linalg.lu"
    LU, piv, _ = _lu_factor(op, A, pivot, False)
    L, U = _unpack_lu(LU)
    if pivot:
        xp = LU._device._xp
        perm = _perm_from_pivots(xp, piv._data, LU.shape[-2])
        P = make(_perm_matrix(xp, perm, LU._data.dtype), LU)
    else:
        P = LU.new_zeros(0)
    return write_out(linalg_lu_result(P, L, U), out, exact=True)


def check_rhs(op, factors, B, name):
    """PyTorch's checks of the right-hand side ``B`` of a solve from ``factors`` (named
    ``name`` in the messages): a tensor of at least 2 dims, of the factors' dtype."""
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}: expected B to be a Tensor, got {type(B).__name__}")
    if B._data.ndim < 2:
        raise RuntimeError(f"{op}: expected B to have at least 2 dimensions (a matrix or a "
                           f"batch of matrices), but got a tensor of shape {tuple(B.shape)}")
    _d.check_same_dtype(op, factors, B, name, "B")


def _lu_solve(op, LU, pivots, B, left, adjoint):
    LU = _d.check_input(op, LU, "LU", square=True)
    _check_pivots(op, LU, pivots)
    check_rhs(op, LU, B, "LU")
    n = LU.shape[-1]
    size = B.shape[-2] if left else B.shape[-1]
    if size != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: incompatible shapes of LU {tuple(LU.shape)} and B {tuple(B.shape)} for "
            f"the equation {eq}: A is {n} by {n}, so B needs {n} "
            f"{'rows' if left else 'columns'}, not {size}"
        )
    _d.batch_shape(op, LU, B)
    perm = _perm_from_pivots(LU._device._xp, pivots._data, n)
    if left:
        return LUSolve.apply(LU, B, perm, bool(adjoint))
    # X A = B  <=>  A^T X^T = B^T; X A^H = B  <=>  A X^H = B^H
    if LU._data.dtype.kind == "c":
        return LUSolve.apply(LU, B.mH, perm, not adjoint).mH
    return LUSolve.apply(LU, B.mT, perm, not adjoint).mT


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """The solution ``X`` of ``A @ X = B`` given :func:`lu_factor`'s ``(LU, pivots)`` of ``A``.

    ``left=False`` solves ``X @ A = B``; ``adjoint=True`` uses ``A``'s conjugate transpose
    (``A.mH @ X = B``). ``LU`` is ``(*, n, n)``, ``pivots`` ``(*, n)`` int32, ``B``
    ``(*, n, k)`` (``(*, k, n)`` when ``left=False``); the batch dims of ``LU`` and ``B``
    broadcast. Differentiable with respect to ``LU`` and ``B``.

    Raises
    ------
    RuntimeError
        For a non-square ``LU``, pivots of another shape or dtype or out of range, a ``B``
        with fewer than 2 dims, of another dtype, or of incompatible shape.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[3.0, 1.0], [1.0, 2.0]])
    >>> LU, pivots = flambeau.linalg.lu_factor(A)
    >>> flambeau.linalg.lu_solve(LU, pivots, flambeau.tensor([[9.0], [8.0]]))
    tensor([[2.],
            [3.]])
    >>> X = flambeau.linalg.lu_solve(LU, pivots, flambeau.tensor([[5.0, 5.0]]), left=False)
    >>> X.round(decimals=4)
    tensor([[1., 2.]])
    """
    return write_out(_lu_solve("linalg.lu_solve", LU, pivots, B, left, adjoint), out, exact=True)


def vander(x, *, N=None):
    """The Vandermonde matrix of ``x``: ``V[..., i, j] = x[..., i] ** j`` for ``j < N``.

    ``N`` defaults to ``x.shape[-1]`` and must be greater than 1. Integer inputs give int64
    (as :func:`flambeau.cumprod` does), float inputs keep their dtype; bool and float16 are
    refused as in PyTorch. Batch dims (leading dims of ``x``) are kept.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linalg.vander(flambeau.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [1, 2, 4],
            [1, 3, 9]])
    >>> flambeau.linalg.vander(flambeau.tensor([2.0, 0.5]), N=4)
    tensor([[1.0000, 2.0000, 4.0000, 8.0000],
            [1.0000, 0.5000, 0.2500, 0.1250]])
    """
    from flambeau._ops.reduction import cumprod
    from flambeau._ops.shape import cat

    op = "linalg.vander"
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected x to be a Tensor, got {type(x).__name__}")
    kind = x._data.dtype.kind
    if kind == "b" or x._data.dtype in _d._LOW_PRECISION:
        raise RuntimeError(f"{op}: supports floating point (float32, float64) and integer "
                           f"tensors, but got {x.dtype}")
    if x._data.ndim == 0:
        raise RuntimeError(f"{op}: expected x to have at least 1 dimension, but got a 0-d "
                           "tensor")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError(f"{op}: N must be greater than 1, but got N={n}"
                           + (f" (x.shape[-1] of x of shape {tuple(x.shape)})"
                              if N is None else ""))
    if kind in "iu":
        x = x.long()
    powers = cumprod(x.unsqueeze(-1).expand(*x.shape, n - 1), -1)
    return cat([x.new_ones(*x.shape, 1), powers], -1)


# ------------------------------------------------------------------ top-level (older API)


def lu(A, pivot=True, get_infos=False, out=None):
    """``(LU, pivots)``, or ``(LU, pivots, infos)`` with ``get_infos=True``: PyTorch's older
    ``torch.lu``, now :func:`flambeau.linalg.lu_factor_ex` (it never raises for singular
    matrices). Emits a deprecation ``UserWarning`` as PyTorch does.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> A = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     LU, pivots, infos = flambeau.lu(A, get_infos=True)
    >>> pivots, infos
    (tensor([2, 2], dtype=flambeau.int32), tensor(0, dtype=flambeau.int32))
    """
    warnings.warn(
        "flambeau.lu is deprecated in favor of flambeau.linalg.lu_factor (LU, pivots) and "
        "flambeau.linalg.lu_factor_ex (LU, pivots, info), as torch.lu is",
        UserWarning, stacklevel=2)
    result = _lu_factor("lu", A, pivot, False)
    if get_infos:
        return write_out(lu_with_info_result(*result), out)
    return write_out(tuple(result[:2]), out)


def lu_solve(input, LU_data, LU_pivots, *, out=None):
    """The solution of ``A @ x = input`` from :func:`flambeau.linalg.lu_factor`'s result for
    ``A`` (PyTorch's older ``torch.lu_solve``, whose docs call ``input`` ``b``; note the order:
    ``input`` first). Emits a deprecation
    ``UserWarning`` as PyTorch does: use :func:`flambeau.linalg.lu_solve`.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> A = flambeau.tensor([[3.0, 1.0], [1.0, 2.0]])
    >>> LU, pivots = flambeau.linalg.lu_factor(A)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     x = flambeau.lu_solve(flambeau.tensor([[9.0], [8.0]]), LU, pivots)
    >>> x
    tensor([[2.],
            [3.]])
    """
    warnings.warn(
        "flambeau.lu_solve is deprecated in favor of flambeau.linalg.lu_solve, as "
        "torch.lu_solve is; note that linalg.lu_solve takes its arguments in the order "
        "(LU, pivots, B)", UserWarning, stacklevel=2)
    return write_out(_lu_solve("lu_solve", LU_data, LU_pivots, input, True, False), out, exact=True)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """``(P, L, U)`` from the packed factorization of :func:`flambeau.linalg.lu_factor`.

    ``P`` is ``(*, m, m)`` (with ``LU_data``'s dtype), ``L`` ``(*, m, k)`` and ``U``
    ``(*, k, n)``; ``unpack_data=False`` leaves ``L`` and ``U`` empty, ``unpack_pivots=False``
    leaves ``P`` empty. ``L`` and ``U`` are differentiable.

    Raises
    ------
    RuntimeError
        For ``LU_data`` with fewer than 2 dims, or pivots that are not int32, not of shape
        ``LU_data.shape[:-2] + (min(m, n),)`` or not between 1 and ``m``.

    Examples
    --------
    >>> import flambeau
    >>> LU, pivots = flambeau.linalg.lu_factor(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> P, L, U = flambeau.lu_unpack(LU, pivots)
    >>> P
    tensor([[0., 1.],
            [1., 0.]])
    >>> P @ L @ U
    tensor([[1., 2.],
            [3., 4.]])
    """
    op = "lu_unpack"
    if not isinstance(LU_data, Tensor):
        raise TypeError(f"{op}: expected LU_data to be a Tensor, got {type(LU_data).__name__}")
    if LU_data._data.ndim < 2:
        raise RuntimeError(f"{op}: expected LU_data to have at least 2 dimensions, but got a "
                           f"tensor of shape {tuple(LU_data.shape)}")
    _check_pivots(op, LU_data, LU_pivots, "LU_pivots")
    empty = LU_data.new_zeros(0)
    L = U = P = empty
    if unpack_data:
        L, U = _unpack_lu(LU_data)
    if unpack_pivots:
        xp = LU_data._device._xp
        perm = _perm_from_pivots(xp, LU_pivots._data, LU_data.shape[-2])
        P = make(_perm_matrix(xp, perm, LU_data._data.dtype), LU_data)
    return write_out(lu_unpack_result(P, L, U), out, exact=True)

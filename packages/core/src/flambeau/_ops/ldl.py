"""The Bunch-Kaufman LDL factorization and its solver: ``torch.linalg.ldl_factor(_ex)`` and
``torch.linalg.ldl_solve``.

NumPy has no symmetric-indefinite factorization, so it is computed here, with the semantics
of LAPACK's unblocked ``sytf2`` (``hetf2`` for Hermitian complex matrices) on the lower
triangle: ``A = L D L^T`` (``L D L^H``), ``D`` block diagonal with 1 by 1 and 2 by 2 blocks,
``L`` unit lower triangular up to the row interchanges that the pivots record.

At step ``k`` (0-based below, LAPACK's 1-based numbers in the pivots), with ``alpha =
(1 + sqrt(17)) / 8``, ``colmax`` the largest magnitude below the diagonal in column ``k`` (at
row ``r``) and ``rowmax`` the largest off-diagonal magnitude in row/column ``r`` of the
trailing matrix, the pivot is:

- ``a_kk`` (1 by 1) when ``|a_kk| >= alpha colmax`` or ``|a_kk| rowmax >= alpha colmax^2``;
- ``a_rr`` swapped into place (1 by 1) when ``|a_rr| >= alpha rowmax``;
- otherwise the 2 by 2 block of rows/columns ``k`` and ``r``, ``r`` swapped to ``k + 1``.

The magnitude is ``|re| + |im|`` for complex entries (LAPACK's ``cabs1``), and ``|re|`` for
the (real) diagonal of a Hermitian matrix. The result is LAPACK's compact format, which is
also PyTorch's: ``D``'s blocks on the diagonal (and the first subdiagonal for 2 by 2 ones),
the multipliers of ``L`` below them, zeros above the diagonal; ``pivots`` (int32) holds
``p + 1`` for a 1 by 1 step that swapped row ``k`` with row ``p``, and ``-(p + 1)`` at both
positions of a 2 by 2 step that swapped row ``k + 1`` with row ``p``. A column that is
exactly zero is skipped (a zero 1 by 1 block) and reported in ``info`` (LAPACK's: the
1-based index of the first such block). Each step works on whole columns and trailing
blocks; the matrices of a batch are factored one after the other, since each takes its own
sequence of pivots.

None of these functions is differentiable, as in PyTorch: their outputs require grad when
their inputs do, and ``backward`` through them raises an error.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from flambeau._ops import decompositions as _d
from flambeau._ops._util import Tensor, make, write_out
from flambeau._ops.lu import check_rhs
from flambeau.autograd._function import Function

__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

linalg_ldl_factor_result = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
linalg_ldl_factor_ex_result = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

#: Bunch and Kaufman's threshold, which bounds the growth of the entries of ``L`` and ``D``
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


# ------------------------------------------------------------------ raw kernels


def _abs1(xp, a):
    """LAPACK's magnitude for pivoting: ``|a|``, and ``|re| + |im|`` for complex ``a``."""
    if a.dtype.kind == "c":
        return xp.abs(a.real) + xp.abs(a.imag)
    return xp.abs(a)


def _larger(a, b):
    """``a if a > b else b``: a NaN ``a`` loses. PyTorch's LAPACK (MKL) lets a NaN diagonal
    entry of a real matrix through this way when its column has a non-zero entry (its
    complex kernels stop at a NaN diagonal entry, as reference LAPACK does)."""
    return a if a > b else b


def _factor_one(xp, a, herm):
    """Factors the ``(n, n)`` array ``a`` in place from its lower triangle (the strictly upper
    part is left with garbage); returns the pivots (a list of LAPACK's 1-based numbers) and
    ``info``. ``herm``: the ``L D L^H`` factorization of a complex Hermitian matrix."""
    n = a.shape[0]
    real = a.real.dtype.type
    cplx = a.dtype.kind == "c"
    alpha = real(_ALPHA)
    if herm:  # only the real part of a Hermitian matrix's diagonal counts
        idx = xp.arange(n)
        a[idx, idx] = a[idx, idx].real

    def scalar(v):  # a host scalar of the real dtype, for the pivoting decisions
        return real(float(v))

    def diag_abs(i):
        return scalar(abs(a[i, i].real) if herm else _abs1(xp, a[i, i]))

    pivots = [0] * n
    info = 0
    k = 0
    while k < n:
        step, p = 1, k
        absakk = diag_abs(k)
        colmax = real(0)
        if k + 1 < n:
            col = _abs1(xp, a[k + 1:, k])
            r = k + 1 + int(xp.argmax(col))
            colmax = scalar(col[r - k - 1])
        if _larger(absakk, colmax) == 0 or (cplx and absakk != absakk):
            # an exactly zero column (or, for complex matrices, a NaN on the diagonal): a
            # zero 1 by 1 block, nothing to eliminate
            info = info or k + 1
        else:
            if not absakk >= alpha * colmax:
                # the largest off-diagonal magnitude in row/column r of the trailing matrix
                rowmax = scalar(xp.max(_abs1(xp, a[r, k:r])))
                if r + 1 < n:
                    rowmax = _larger(rowmax, scalar(xp.max(_abs1(xp, a[r + 1:, r]))))
                if absakk >= alpha * colmax * (colmax / rowmax):
                    pass
                elif diag_abs(r) >= alpha * rowmax:
                    p = r
                else:
                    step, p = 2, r
            last = k + step - 1
            if p != last:
                _swap(xp, a, k, last, p, herm)
            if step == 1:
                _eliminate_1x1(xp, a, k, herm)
            else:
                _eliminate_2x2(xp, a, k, herm)
        if step == 1:
            pivots[k] = p + 1
        else:
            pivots[k] = pivots[k + 1] = -(p + 1)
        k += step
    return pivots, info


def _swap(xp, a, k, i, p, herm):
    """Swaps rows and columns ``i < p`` of the trailing symmetric (Hermitian) matrix
    ``a[k:, k:]``, stored in its lower triangle."""
    below = a[p + 1:, i].copy()
    a[p + 1:, i] = a[p + 1:, p]
    a[p + 1:, p] = below
    # between i and p, column i's entries trade places with row p's (mirrored across the
    # diagonal, so a Hermitian matrix's are conjugated)
    middle = a[i + 1:p, i].copy()
    row = a[p, i + 1:p]
    a[i + 1:p, i] = xp.conj(row) if herm else row
    a[p, i + 1:p] = xp.conj(middle) if herm else middle
    if herm:
        a[p, i] = xp.conj(a[p, i])
    d = a[i, i].copy()
    a[i, i] = a[p, p]
    a[p, p] = d
    if i == k + 1:  # a 2 by 2 step: column k takes part in the interchange too
        t = a[i, k].copy()
        a[i, k] = a[p, k]
        a[p, k] = t


def _real_diagonal(xp, block):
    m = block.shape[0]
    idx = xp.arange(m)
    block[idx, idx] = block[idx, idx].real


def _eliminate_1x1(xp, a, k, herm):
    """The 1 by 1 pivot ``a_kk``: ``A22 -= x x^T / a_kk``, then ``x /= a_kk`` (column ``x``
    below it; ``x^H`` for a Hermitian matrix)."""
    if k + 1 >= a.shape[0]:
        return
    d = a[k, k].real if herm else a[k, k]
    r = 1 / d
    x = a[k + 1:, k]
    trailing = a[k + 1:, k + 1:]
    trailing -= x[:, None] * (r * (xp.conj(x) if herm else x))[None, :]
    if herm:
        _real_diagonal(xp, trailing)
    x *= r


def _eliminate_2x2(xp, a, k, herm):
    """The 2 by 2 pivot ``E`` of rows/columns ``k, k + 1``: the columns ``C`` below it become
    ``W = C E^-1`` and the trailing matrix loses ``W C^T`` (``W C^H``). ``E^-1`` is applied
    in the scaled form that keeps the divisions well away from overflow: everything is
    divided by ``E``'s off-diagonal entry first."""
    n = a.shape[0]
    if k + 2 >= n:
        return
    c0, c1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
    if herm:
        e21 = a[k + 1, k]
        size = abs(e21)
        e11, e22 = a[k + 1, k + 1].real / size, a[k, k].real / size
        scale = (1 / (e11 * e22 - 1)) / size
        unit = e21 / size
        w0 = scale * (e11 * c0 - unit * c1)
        w1 = scale * (e22 * c1 - xp.conj(unit) * c0)
        g0, g1 = xp.conj(w0), xp.conj(w1)
    else:
        e21 = a[k + 1, k]
        e11, e22 = a[k + 1, k + 1] / e21, a[k, k] / e21
        scale = (1 / (e11 * e22 - 1)) / e21
        w0 = scale * (e11 * c0 - c1)
        w1 = scale * (e22 * c1 - c0)
        g0, g1 = w0, w1
    trailing = a[k + 2:, k + 2:]
    trailing -= c0[:, None] * g0[None, :]
    trailing -= c1[:, None] * g1[None, :]
    if herm:
        _real_diagonal(xp, trailing)
    a[k + 2:, k] = w0
    a[k + 2:, k + 1] = w1


def _sytrf(xp, a, herm):
    """``(ld, pivots, info)`` of the batch ``a`` (..., n, n), read from its lower triangles;
    the compact factors have zeros above the diagonal, pivots are int32 (..., n), info int32
    (...)."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    herm = herm and a.dtype.kind == "c"
    w = xp.array(a.reshape((count, n, n)), copy=True)
    piv = np.zeros((count, n), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    for b in range(count if n else 0):
        one = xp.array(w[b], copy=True)  # contiguous: the steps slice its columns
        pivots, info[b] = _factor_one(xp, one, herm)
        piv[b] = pivots
        w[b] = xp.tril(one)
    return (w.reshape(a.shape), xp.asarray(piv.reshape(batch + (n,))),
            xp.asarray(info.reshape(batch)))


def _blocks(pivots):
    """``[(k, size, p), ...]``: the diagonal blocks of ``D`` (first row, 1 or 2) and the row
    their step swapped with (with row ``k + size - 1``), from one matrix's pivots."""
    n = len(pivots)
    out = []
    k = 0
    while k < n:
        p = int(pivots[k])
        if p > 0:
            out.append((k, 1, p - 1))
            k += 1
        else:
            if k + 1 >= n:
                return None  # a 2 by 2 block that would stick out of the matrix
            out.append((k, 2, -p - 1))
            k += 2
    return out


def _swap_rows(b, i, p):
    if i != p:
        t = b[i].copy()
        b[i] = b[p]
        b[p] = t


def _solve_one(xp, ld, blocks, b, herm):
    """Overwrites ``b`` (n, m) with ``A^-1 b`` for the compact factors ``ld`` (n, n) of ``A``
    and their ``blocks`` (see :func:`_blocks`)."""
    n = ld.shape[0]
    conj = xp.conj if herm else (lambda v: v)
    # L D y = b: the interchanges and eliminations of the factorization, in its order
    for k, size, p in blocks:
        last = k + size - 1
        _swap_rows(b, last, p)
        below = k + size
        if size == 1:
            if below < n:
                b[below:] -= ld[below:, k, None] * b[k][None, :]
            b[k] *= 1 / (ld[k, k].real if herm else ld[k, k])
            continue
        if below < n:
            b[below:] -= ld[below:, k, None] * b[k][None, :]
            b[below:] -= ld[below:, k + 1, None] * b[k + 1][None, :]
        # the 2 by 2 system E [u; v] = [s; t], both rows divided by E's off-diagonal entries
        e21 = ld[k + 1, k]
        e12 = conj(e21)
        e11, e22 = ld[k, k] / e12, ld[k + 1, k + 1] / e21
        denom = e11 * e22 - 1
        s, t = b[k] / e12, b[k + 1] / e21
        b[k] = (e22 * s - t) / denom
        b[k + 1] = (e11 * t - s) / denom
    # L^T x = y (L^H): back substitution, undoing the interchanges in reverse order
    for k, size, p in reversed(blocks):
        below = k + size
        if below < n:
            rest = b[below:]
            for j in range(k + size - 1, k - 1, -1):
                b[j] -= conj(ld[below:, j]) @ rest
        _swap_rows(b, k + size - 1, p)
    return b


def _sytrs(xp, ld, piv, b, herm, op):
    """``A^-1 b`` with ``ld`` (..., n, n), ``piv`` (..., n) and ``b`` (..., n, m) whose batch
    dims broadcast; the result has the broadcast batch shape."""
    n, m = b.shape[-2:]
    batch = tuple(np.broadcast_shapes(ld.shape[:-2], b.shape[:-2]))
    herm = herm and ld.dtype.kind == "c"
    out = xp.array(xp.broadcast_to(b, batch + (n, m)), copy=True)
    if out.size == 0:
        return out
    host = np.asarray(_d._host(piv))
    fact_batch = ld.shape[:-2]
    count = int(np.prod(fact_batch, dtype=np.int64))
    lds = ld.reshape((count, n, n))
    blocks = []
    for i, pivots in enumerate(host.reshape((count, n))):
        found = _blocks(pivots)
        if found is None:
            raise RuntimeError(
                f"{op}: pivots{_index_note(fact_batch, i)} end with a negative entry (the "
                f"first row of a 2 by 2 block) at position {n - 1}, where no second row "
                "follows; pass the pivots that linalg.ldl_factor returns")
        blocks.append(found)
    if count == 1:  # one factorization: solve for all of b's columns (over its batch) at once
        cols = xp.moveaxis(out, -2, 0).reshape((n, -1))
        cols = _solve_one(xp, lds[0], blocks[0], cols, herm)
        return xp.moveaxis(cols.reshape((n,) + batch + (m,)), 0, -2)
    which = np.broadcast_to(np.arange(count).reshape(fact_batch), batch).reshape(-1)
    flat = out.reshape((-1, n, m))
    for j, i in enumerate(which):
        flat[j] = _solve_one(xp, lds[i], blocks[i], flat[j], herm)
    return flat.reshape(out.shape)


def _index_note(batch, i):
    if not batch:
        return ""
    return f" (batch element {tuple(int(v) for v in np.unravel_index(i, batch))})"


# ------------------------------------------------------------------ Functions


class LDLFactor(Function):
    """``(LD, pivots, info)`` of ``A``; the gradient is not implemented (as in PyTorch)."""

    @staticmethod
    def forward(ctx, A, hermitian, op, check):
        xp = A._device._xp
        ld, piv, info = _sytrf(xp, A._data, hermitian)
        if check and bool((info > 0).any()):
            raise _singular_error(op, info, tuple(A.shape))
        LD, pivots, infos = make(ld, A), make(piv, A), make(info, A)
        ctx.mark_non_differentiable(pivots, infos)
        ctx.op = op
        return LD, pivots, infos

    @staticmethod
    def backward(ctx, gLD, _gpiv, _ginfo):
        raise RuntimeError(
            f"{ctx.op}: the derivative for 'linalg_ldl_factor_ex' is not implemented (as in "
            "PyTorch, where it is aten::linalg_ldl_factor_ex's); for gradients of a solve "
            "with a symmetric matrix use linalg.solve")


class LDLSolve(Function):
    """``A^-1 B`` from the compact factors of ``A``; the gradient is not implemented (as in
    PyTorch)."""

    @staticmethod
    def forward(ctx, LD, B, piv, hermitian, op):
        x = _sytrs(LD._device._xp, LD._data, piv, B._data, hermitian, op)
        ctx.op = op
        return make(x, LD)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"{ctx.op}: the derivative for 'linalg_ldl_solve' is not implemented (as in "
            "PyTorch, where it is aten::linalg_ldl_solve's); for gradients of a solve with a "
            "symmetric matrix use linalg.solve")


def _singular_error(op, info, shape):
    flat = _d._host(info).reshape(-1)
    k = int(flat[np.argmax(flat > 0)])
    fix = ("call it with check_errors=False" if op.endswith("_ex")
           else "call linalg.ldl_factor_ex(A)")
    return _d.LinAlgError(
        f"{op}: the input of shape {shape} is singular{_d._batch_note(info)}: the 1 by 1 "
        f"block D[{k - 1}, {k - 1}] (diagonal element {k}) of its LDL factorization is zero, "
        f"so using the factorization in ldl_solve would divide by zero; {fix} to factor it "
        "anyway")


# ------------------------------------------------------------------ argument checks


def _check_matrix(op, A, name):
    """``A``: a (batch of) square float or complex matrices, checked in PyTorch's order."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(A).__name__}")
    shape = tuple(A.shape)
    if len(shape) < 2:
        raise RuntimeError(
            f"{op}: expected {name} to have at least 2 dimensions (a matrix or a batch of "
            f"matrices), but got a tensor of shape {shape}")
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"{op}: expected {name} to be a square matrix or a batch of square matrices, but "
            f"got shape {shape} ({shape[-2]} by {shape[-1]} matrices)")
    if A._data.dtype in _d._LOW_PRECISION:
        # NotImplementedError, as PyTorch's (it is a RuntimeError too)
        raise NotImplementedError(
            f"{op}: not implemented for {A.dtype} (LAPACK has no half-precision LDL "
            f"factorization); convert {name} with .float() or .double() first")
    _d.check_float(op, A, name)
    return A


def _check_pivots(op, LD, pivots):
    if not isinstance(pivots, Tensor):
        raise TypeError(f"{op}: expected pivots to be a Tensor, got {type(pivots).__name__}")
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected pivots to have an integer dtype (linalg.ldl_factor "
                           f"returns int32 ones), but got {pivots.dtype}")
    want = tuple(LD.shape[:-1])
    if tuple(pivots.shape) != want:
        raise RuntimeError(f"{op}: expected pivots of shape {want} for LD of shape "
                           f"{tuple(LD.shape)} (LD.shape[:-1]), but got {tuple(pivots.shape)}")
    p = _d._host(pivots._data)
    n = LD.shape[-1]
    if p.size:
        size = np.abs(p.astype(np.int64))
        if bool((size < 1).any()) or bool((size > n).any()):
            raise RuntimeError(
                f"{op}: pivots must satisfy 1 <= |pivot| <= LD.shape[-2] = {n}, but got "
                f"values from {int(p.min())} to {int(p.max())}; pass the pivots that "
                "linalg.ldl_factor returns")


# ------------------------------------------------------------------ torch.linalg functions


def _ldl_factor(op, A, hermitian, check):
    A = _check_matrix(op, A, "A")
    return LDLFactor.apply(A, bool(hermitian), op, check)


def ldl_factor(A, *, hermitian=False, out=None):
    """``(LD, pivots)``: the Bunch-Kaufman factorization ``A = L D L^T`` in LAPACK's compact
    form.

    Reads the lower triangle of ``A`` (a symmetric matrix, or a Hermitian one with
    ``hermitian=True``; the upper triangle is ignored). ``D`` is block diagonal with 1 by 1
    and 2 by 2 blocks, so symmetric indefinite matrices factor too. ``LD`` (``A``'s shape and
    dtype) holds ``D``'s blocks on the diagonal (2 by 2 ones reach the first subdiagonal), the
    multipliers of ``L`` below them and zeros above the diagonal; ``pivots`` (int32,
    ``A.shape[:-1]``, 1-based as in LAPACK ``sytrf``) is ``p`` where step ``k`` swapped row
    ``k`` with row ``p - 1``, and ``-p`` at both rows of a 2 by 2 block, whose second row
    was swapped with row ``p - 1``. :func:`ldl_solve` uses both. Not differentiable (as in
    PyTorch): ``backward`` through ``LD`` raises an error.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` float32, float64, complex64 or complex128.
    hermitian : bool
        Factor a complex ``A`` as Hermitian, ``A = L D L^H`` (its diagonal's imaginary parts
        are ignored); ``False`` factors it as complex symmetric, ``A = L D L^T``. No effect on
        real matrices.
    out : tuple of Tensor, optional
        ``(LD, pivots)`` to write the results into.

    Raises
    ------
    RuntimeError
        For a non-square ``A``, fewer than 2 dims, an integer dtype (``NotImplementedError``
        for float16 and bfloat16), or a singular ``D`` (a 1 by 1 block that is exactly zero,
        which :func:`ldl_solve` would divide by): :func:`ldl_factor_ex` factors such
        matrices too.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    >>> LD, pivots = flambeau.linalg.ldl_factor(A)
    >>> LD
    tensor([[ 0.0000,  0.0000,  0.0000],
            [ 2.0000,  0.0000,  0.0000],
            [ 1.5000,  0.5000, -3.0000]])
    >>> pivots
    tensor([-3, -3,  3], dtype=flambeau.int32)

    The zero diagonal takes a 2 by 2 block of ``D`` (rows 0 and 1, after row 1 was swapped
    with row 2). A positive definite matrix keeps its order:

    >>> flambeau.linalg.ldl_factor(flambeau.tensor([[4.0, 2.0], [2.0, 3.0]])).LD
    tensor([[4.0000, 0.0000],
            [0.5000, 2.0000]])
    """
    LD, piv, _ = _ldl_factor("linalg.ldl_factor", A, hermitian, True)
    return write_out(linalg_ldl_factor_result(LD, piv), out, exact=True)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """``(LD, pivots, info)``: :func:`ldl_factor` that reports a singular ``D`` in ``info``.

    ``info`` (int32, ``A.shape[:-2]``) is 0, or the 1-based index of the first 1 by 1 block
    of ``D`` that is exactly zero (LAPACK's convention); the factorization goes on past it.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` float32, float64, complex64 or complex128; its lower triangle is read.
    hermitian : bool
        Factor a complex ``A`` as Hermitian (``L D L^H``) instead of complex symmetric.
    check_errors : bool
        Raise, as :func:`ldl_factor` does, when a matrix has ``info > 0``.
    out : tuple of Tensor, optional
        ``(LD, pivots, info)`` to write the results into.

    Examples
    --------
    >>> import flambeau
    >>> LD, pivots, info = flambeau.linalg.ldl_factor_ex(flambeau.tensor([[0.0, 0.0],
    ...                                                                  [0.0, 1.0]]))
    >>> LD
    tensor([[0., 0.],
            [0., 1.]])
    >>> pivots, info
    (tensor([1, 2], dtype=flambeau.int32), tensor(1, dtype=flambeau.int32))
    """
    result = _ldl_factor("linalg.ldl_factor_ex", A, hermitian, check_errors)
    return write_out(linalg_ldl_factor_ex_result(*result), out, exact=True)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """The solution ``X`` of ``A @ X = B`` given :func:`ldl_factor`'s ``(LD, pivots)`` of ``A``.

    The batch dims of ``LD`` and ``B`` broadcast; ``pivots`` has ``LD.shape[:-1]``.
    ``hermitian`` must be what ``LD`` was factored with. A singular ``D`` (``info > 0`` in
    :func:`ldl_factor_ex`) gives infinities or NaN. Not differentiable (as in PyTorch):
    ``backward`` through ``X`` raises an error.

    Parameters
    ----------
    LD : Tensor
        ``(*, n, n)``: the compact factors.
    pivots : Tensor
        ``(*, n)``, integer (:func:`ldl_factor` returns int32).
    B : Tensor
        ``(*, n, k)``, with ``LD``'s dtype.
    hermitian : bool
        Solve with ``L D L^H`` (``LD`` from ``ldl_factor(A, hermitian=True)``).
    out : Tensor, optional

    Raises
    ------
    RuntimeError
        For a non-square ``LD``, pivots that are not integers, not of shape
        ``LD.shape[:-1]`` or out of range, a ``B`` with fewer than 2 dims, another dtype,
        another number of rows or batch dims that do not broadcast with ``LD``'s.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    >>> LD, pivots = flambeau.linalg.ldl_factor(A)
    >>> X = flambeau.linalg.ldl_solve(LD, pivots, flambeau.tensor([[3.0], [4.0], [5.0]]))
    >>> X
    tensor([[1.],
            [1.],
            [1.]])
    >>> A @ X
    tensor([[3.],
            [4.],
            [5.]])
    """
    op = "linalg.ldl_solve"
    LD = _check_matrix(op, LD, "LD")
    _check_pivots(op, LD, pivots)
    check_rhs(op, LD, B, "LD")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"{op}: incompatible shapes of LD {tuple(LD.shape)} and B {tuple(B.shape)}: A is "
            f"{n} by {n}, so B needs {n} rows, not {B.shape[-2]}")
    _d.batch_shape(op, LD, B)
    X = LDLSolve.apply(LD, B, pivots._data, bool(hermitian), op)
    return write_out(X, out, exact=True)

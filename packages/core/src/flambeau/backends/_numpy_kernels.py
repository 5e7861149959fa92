"""Named kernels of the NumPy backend, where a NumPy formulation beats the generic one."""

from __future__ import annotations

import numpy as np

__all__ = ["index_add_at", "lu_factor", "lu_solve", "relu_backward_from_output"]

# A round costs about as much as np.add.at spends on 16 rows: rounds pay off while there
# are fewer of them than a sixteenth of the rows (and always up to 8).
_MIN_ROUNDS_ALLOWED = 8
_ROWS_PER_ROUND = 16


def index_add_at(target, index, values):
    """``numpy.add.at(target, index, values)``; rows scattered by one integer vector go
    through fancy assignment in rounds.

    ``np.add.at`` handles one index at a time (1.7 ms for 1,120 embedding rows of 128).
    Sorting the index (stably) gives each repeated index a rank; round ``k`` adds every
    index's ``k``-th row at once, and those indices are distinct within a round, so the sums
    are added in the order of ``add.at``, to the bit.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((3, 2))
    >>> index_add_at(z, np.array([2, 0, 2]), np.ones((3, 2)))
    >>> z
    array([[1., 1.],
           [0., 0.],
           [2., 2.]])
    """
    if not (isinstance(index, np.ndarray) and index.ndim == 1 and index.dtype.kind in "iu"
            and index.size > 1 and values.shape == index.shape + target.shape[1:]):
        np.add.at(target, index, values)
        return
    index = np.where(index < 0, index + target.shape[0], index)  # -1 and n-1: one row
    order = np.argsort(index, kind="stable")
    rows = index[order]
    first = np.empty(rows.size, dtype=bool)
    first[0] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.append(starts, rows.size)))
    rounds = int(rank.max()) + 1
    if rounds > max(_MIN_ROUNDS_ALLOWED, rows.size // _ROWS_PER_ROUND):
        np.add.at(target, index, values)
        return
    ordered = values[order]
    for k in range(rounds):
        pick = first if k == 0 else rank == k
        target[rows[pick]] += ordered[pick]


# A LAPACK call costs ~1-2 us besides the factorization; the generic LU's column loop,
# vectorized over the batch, ~12 us per column plus its passes over the batch, which grow
# with k^2: measured (one thread), it is the faster for k = min(m, n) <= 6 past this many
# matrices per column (count / k): 2.4x for 256 4x4 matrices, 1.5x for 256 6x6, but 0.5x
# for 64 8x8 and 0.7x for 256 12x12.
_LU_LOOP_MATRICES_PER_COLUMN = 20
_LU_LOOP_MAX_COLUMNS = 6
#: the same crossover for lu_solve's trtrs calls against the generic batched substitution
_SOLVE_LOOP_MATRICES_PER_COLUMN = 24
_LAPACK = {}  # (routine, dtype char) -> SciPy's wrapper, or None without SciPy


def _lapack(name, dtype):
    """SciPy's LAPACK ``name`` (``"getrf"``...) for ``dtype``; None without SciPy, or for a
    dtype that LAPACK does not have (not float32/64, complex64/128)."""
    key = (name, dtype.char)
    if key not in _LAPACK:
        _LAPACK[key] = None
        if dtype.char in "fdFD":
            try:
                from scipy.linalg.lapack import get_lapack_funcs
            except ImportError:
                pass
            else:
                _LAPACK[key] = get_lapack_funcs(name, dtype=dtype)
    return _LAPACK[key]


def lu_factor(a):
    """LAPACK ``getrf`` of each matrix of ``a`` (count, m, n), through SciPy where it is
    installed: ``(lu, pivots, info)`` as core's generic LU returns them (pivots 1-based
    int32 (count, k), info int32 (count,)); None to leave ``a`` to the generic LU (no SciPy,
    a dtype LAPACK does not factor, empty matrices, or so many small ones that the generic
    LU's loop over columns, vectorized over the batch, is faster than a call per matrix).

    The generic LU is pure NumPy: it pays ~25 us of NumPy calls per column, 6 ms for one
    256 x 256 matrix against LAPACK's 0.5 ms.

    Examples
    --------
    >>> import numpy as np
    >>> out = lu_factor(np.array([[[1.0, 2.0], [3.0, 4.0]]]))
    >>> out is None or [x.tolist() for x in out[1:]] == [[[2, 2]], [0]]
    True
    """
    count, m, n = a.shape
    k = min(m, n)
    if k == 0 or count == 0 or (k <= _LU_LOOP_MAX_COLUMNS
                                and count > _LU_LOOP_MATRICES_PER_COLUMN * k):
        return None
    getrf = _lapack("getrf", a.dtype)
    if getrf is None:
        return None
    # column-major factors, as LAPACK (and PyTorch) return them: one copy into place, then
    # getrf overwrites each matrix where it lies
    lu = np.empty((count, n, m), dtype=a.dtype).transpose(0, 2, 1)
    lu[...] = a
    pivots, info = [], []
    for x in lu:
        _, p, status = getrf(x, overwrite_a=True)
        pivots.append(p)
        info.append(max(status, 0))  # < 0 flags a bad argument, which we never pass
    pivots = np.array(pivots)
    pivots += 1
    return lu, pivots, np.array(info, dtype=np.int32)


def lu_solve(lu, perm, b, adjoint):
    """``X`` with ``A X = B`` (``A^H X = B`` when ``adjoint``) for ``A = P L U`` packed in
    ``lu`` (..., n, n) with the row order ``perm`` (..., n) (batch dims broadcast): two LAPACK
    triangular solves (``trtrs``) per matrix through SciPy, reading ``lu`` in place where the
    generic solve builds ``L`` and ``U``. None to leave it to the generic solve: no SciPy,
    empty or many small matrices, or a zero on ``U``'s diagonal (``trtrs`` refuses it; the
    generic substitution gives PyTorch's inf and NaN).

    Examples
    --------
    >>> import numpy as np
    >>> lu = np.array([[3.0, 4.0], [1 / 3, 2 / 3]])  # [[1, 2], [3, 4]] with rows swapped
    >>> x = lu_solve(lu, np.array([1, 0]), np.array([[5.0], [11.0]]), False)
    >>> x is None or np.allclose(x, [[1.0], [2.0]])
    True
    """
    trtrs = _lapack("trtrs", lu.dtype)
    n, k = b.shape[-2:]
    batch = tuple(np.broadcast_shapes(lu.shape[:-2], perm.shape[:-1], b.shape[:-2]))
    count = int(np.prod(batch, dtype=np.int64))
    if (trtrs is None or b.dtype != lu.dtype or n == 0 or k == 0 or count == 0
            or (n < 16 and count > _SOLVE_LOOP_MATRICES_PER_COLUMN * n)):
        return None
    lus = np.broadcast_to(lu, batch + (n, n)).reshape((count, n, n))
    perms = np.broadcast_to(perm, batch + (n,)).reshape((count, n))
    rhs = np.broadcast_to(b, batch + (n, k)).reshape((count, n, k))
    out = np.empty((count, n, k), dtype=b.dtype)
    trans = 2 if lu.dtype.kind == "c" else 1
    for f, p, r, x in zip(lus, perms, rhs, out, strict=True):
        if adjoint:  # A^H = U^H L^H P^T: X = P L^-H U^-H B
            z, bad = trtrs(f, r, lower=0, trans=trans)
            z, bad2 = trtrs(f, z, lower=1, trans=trans, unitdiag=1, overwrite_b=1)
            x[p] = z
        else:  # X = U^-1 L^-1 P^T B
            z, bad = trtrs(f, r[p], lower=1, unitdiag=1, overwrite_b=1)
            x[...], bad2 = trtrs(f, z, lower=0, overwrite_b=1)
        if bad or bad2:
            return None
    return out.reshape(batch + (n, k))


#: below this many elements the generic select's passes cost no more than the check
_RELU_MASK_MIN = 1 << 14


def relu_backward_from_output(g, out):
    """relu's gradient ``where(out <= 0, 0, g)`` as ``g * (not out <= 0)``, for float ``g``
    of ``out``'s shape without inf or NaN; None (the generic select) for the rest.

    NumPy's ``where`` and core's branch-free select take 3-8 passes; a product with the
    mask takes one (adding 0, for PyTorch's +0.0 where ``g < 0``, one more), after the
    finiteness check (``0 * inf`` would be NaN where PyTorch's ``threshold_backward`` gives
    0): 2.0 -> 0.6 ms for LeNet's first activation (64 x 32 x 26 x 26 float32; 0.7 with the
    +0). A NaN output still passes its gradient, as in PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> g, out = np.full(1 << 14, 2.0), np.zeros(1 << 14)
    >>> out[:2] = [1.0, np.nan]
    >>> relu_backward_from_output(g, out)[:3]
    array([2., 2., 0.])
    >>> relu_backward_from_output(g[:3], out[:3]) is None
    True
    """
    if (g.dtype.kind != "f" or g.shape != out.shape or g.size < _RELU_MASK_MIN
            or not np.isfinite(g).all()):
        return None
    keep = np.less_equal(out, 0)
    np.logical_not(keep, out=keep)
    grad = np.multiply(g, keep)
    grad += 0  # a negative g times 0 is -0.0, where PyTorch's threshold_backward gives +0.0
    return grad

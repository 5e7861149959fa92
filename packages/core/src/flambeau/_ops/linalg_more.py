"""Householder QR pieces and randomized low-rank factorizations.

- ``geqrf``: LAPACK's compact QR (``R`` on and above the diagonal, the Householder vectors
  below it, and their scales ``tau``), from the backend's ``xp.linalg.qr(mode="raw")``
  (NumPy's and CuPy's names for ``geqrf``). Not differentiable, as in PyTorch.
- ``orgqr`` (:func:`flambeau.linalg.householder_product`) and ``ormqr``: products of the
  reflectors ``H_i = I - tau_i v_i v_i^H`` (with a matrix), one reflector at a time in
  flambeau ops, so their gradients (and second derivatives) come from the ops themselves.
- ``svd_lowrank``/``pca_lowrank``: the randomized range finder of Halko, Martinsson and
  Tropp (2011): a Gaussian sketch ``A R``, ``niter`` power iterations re-orthonormalized by
  QR, then the exact SVD of the small projection. Written with flambeau ops, so they are
  differentiable wherever the QR and SVD they use are.
"""

from __future__ import annotations

from collections import namedtuple

from flambeau._ops import decompositions as _d
from flambeau._ops._util import Tensor, make, write_out
from flambeau._ops.complex import conj
from flambeau.autograd._function import Function

__all__ = ["geqrf", "orgqr", "ormqr", "svd_lowrank", "pca_lowrank"]

geqrf_result = namedtuple("geqrf", ["a", "tau"])


class Geqrf(Function):
    @staticmethod
    def forward(ctx, A):
        xp = A._device._xp
        a = A._data
        m, n = a.shape[-2:]
        if a.size == 0:
            h = xp.array(a, copy=True)
            tau = xp.zeros(a.shape[:-2] + (min(m, n),), dtype=a.dtype)
        else:
            h, tau = xp.linalg.qr(a, mode="raw")  # h is LAPACK's column-major output
            h = xp.ascontiguousarray(xp.swapaxes(h, -1, -2))
        return make(h, A), make(tau, A)

    @staticmethod
    def backward(ctx, ga, gtau):
        raise RuntimeError("geqrf: the derivative for 'geqrf' is not implemented (as in "
                           "PyTorch); differentiate through linalg.qr instead")


def geqrf(input, *, out=None):
    """``(a, tau)``: LAPACK ``geqrf``'s compact QR decomposition of ``input``.

    For ``input`` of shape ``(*, m, n)`` and ``k = min(m, n)``, ``a`` holds ``R`` on and
    above its diagonal and, below it, the Householder vectors ``v_i`` (with an implicit 1 on
    the diagonal); ``tau`` (``(*, k)``) their scales, so that ``Q = H_1 ... H_k`` with
    ``H_i = I - tau_i v_i v_i^H``. :func:`flambeau.linalg.householder_product` forms ``Q``
    and :func:`ormqr` multiplies by it. Not differentiable (as in PyTorch): use
    :func:`flambeau.linalg.qr` for gradients.

    Parameters
    ----------
    input : Tensor
        ``(*, m, n)`` float32, float64, complex64 or complex128.
    out : tuple of Tensor, optional

    Examples
    --------
    >>> import flambeau
    >>> a, tau = flambeau.geqrf(flambeau.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> a
    tensor([[-5.0000, -2.2000],
            [ 0.5000,  0.4000]])
    >>> tau
    tensor([1.6000, 0.0000])
    >>> flambeau.linalg.householder_product(a, tau) @ a.triu()
    tensor([[3.0000, 1.0000],
            [4.0000, 2.0000]])
    """
    A = _d.check_input("geqrf", input, "input")
    return write_out(geqrf_result(*Geqrf.apply(A)), out)


def orgqr(input, input2, *, out=None):
    """The ``Q`` of a :func:`geqrf` result: the first ``n`` columns of the product of the
    Householder reflectors stored in ``input`` (``(*, m, n)``, ``m >= n``) and ``input2``
    (torch's docs call it ``tau``, its parser, and so its keyword, ``input2``); the same as
    :func:`flambeau.linalg.householder_product`. Differentiable.

    Examples
    --------
    >>> import flambeau
    >>> a, tau = flambeau.geqrf(flambeau.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> flambeau.orgqr(a, tau)
    tensor([[-0.6000, -0.8000],
            [-0.8000,  0.6000]])
    """
    from flambeau.linalg import householder_product

    return householder_product(input, input2, out=out)  # its out= (and errors), as torch's


def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """``op(Q) @ other`` (or ``other @ op(Q)`` with ``left=False``) for the ``Q`` stored as
    Householder reflectors ``(input, tau)`` by :func:`geqrf`; ``op`` is the transpose (for
    complex ``Q``, the conjugate transpose) when ``transpose=True``. ``tau`` and ``other``
    are ``input2`` and ``input3``: torch's parser's names, and so its keywords.

    ``Q = H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^H`` is square: ``m x m`` for
    ``left=True`` and ``other`` of shape ``(*, m, n)``, ``n x n`` otherwise; ``input`` is
    ``(*, mn, k)`` with ``mn`` that size, and ``tau`` ``(*, min(mn, k))``. The batch dims of
    the three tensors must be equal. Differentiable with respect to all three.

    Raises
    ------
    RuntimeError
        For inputs with fewer than 2 dims, different dtypes, or sizes that do not fit.

    Examples
    --------
    >>> import flambeau
    >>> a, tau = flambeau.geqrf(flambeau.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> flambeau.ormqr(a, tau, flambeau.eye(2))
    tensor([[-0.6000, -0.8000],
            [-0.8000,  0.6000]])
    >>> flambeau.ormqr(a, tau, flambeau.tensor([[3.0], [4.0]]), transpose=True)
    tensor([[-5.],
            [ 0.]])
    """
    from flambeau._creation import eye
    from flambeau._ops.shape import tril

    op = "ormqr"
    tau, other = input2, input3
    for name, t in (("input", input), ("tau", tau), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    A = _d.check_input(op, input, "input")
    C = _d.check_input(op, other, "other")
    _d.check_same_dtype(op, A, C, "input", "other")
    _d.check_same_dtype(op, A, tau, "input", "tau")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{op}: expected tau to have one dimension less than input, but "
                           f"got shapes {tuple(tau.shape)} and {tuple(A.shape)}")
    mn, k = A.shape[-2:]
    side = C.shape[-2] if left else C.shape[-1]
    which = "other.shape[-2]" if left else "other.shape[-1]"
    if side != mn:
        raise RuntimeError(f"{op}: {which} must be equal to input.shape[-2], but got shapes "
                           f"other {tuple(C.shape)} and input {tuple(A.shape)}")
    r = tau.shape[-1]
    if r != min(mn, k):
        raise RuntimeError(f"{op}: tau.shape[-1] must be equal to min({which}, "
                           f"input.shape[-1]) = {min(mn, k)}, but got {r}")
    if not (tuple(A.shape[:-2]) == tuple(tau.shape[:-1]) == tuple(C.shape[:-2])):
        raise RuntimeError(f"{op}: the batch dims of input {tuple(A.shape)}, tau "
                           f"{tuple(tau.shape)} and other {tuple(C.shape)} must be equal")
    V = tril(A[..., :, :r], -1) + eye(mn, r, dtype=A.dtype, device=A.device)
    # Q = H_1 ... H_r: Q C applies H_r first, Q^H C applies H_1 first; on the right the
    # order flips. H_i^H = I - conj(tau_i) v_i v_i^H
    forward = transpose if left else not transpose
    steps = range(r) if forward else range(r - 1, -1, -1)
    taus = conj(tau) if transpose else tau
    result = C
    for i in steps:
        v = V[..., :, i:i + 1]
        t = taus[..., i, None, None]
        if left:
            result = result - t * (v @ (v.mH @ result))
        else:
            result = result - t * ((result @ v) @ v.mH)
    if r == 0:
        result = C.clone()
    return write_out(result, out, exact=True)


# ------------------------------------------------------------------ randomized low rank


def _check_lowrank(op, A, q, niter):
    A = _d.check_input(op, A)
    m, n = A.shape[-2:]
    if isinstance(niter, bool) or not isinstance(niter, int) or niter < 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    return A, m, n


def _range_basis(A, q, niter, M):
    """An orthonormal ``(*, m, q)`` basis of (approximately) the range of ``A - M``: a
    Gaussian sketch refined by ``niter`` power iterations, each re-orthonormalized."""
    from flambeau._creation import randn
    from flambeau.linalg import qr

    def times(X):
        return A @ X if M is None else A @ X - M @ X

    def times_t(X):
        return A.mH @ X if M is None else A.mH @ X - M.mH @ X

    R = randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype, device=A.device)
    Q = qr(times(R)).Q
    for _ in range(niter):
        Q = qr(times(qr(times_t(Q)).Q)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)``: a randomized approximation of the ``q`` largest singular triplets of
    ``A`` (``(*, m, n)``), or of ``A - M`` when ``M`` (broadcastable to ``A``) is given.

    ``U`` is ``(*, m, k)``, ``S`` ``(*, k)`` (descending) and ``V`` ``(*, n, k)`` with
    ``k = min(q, m, n)``, and ``A ~ U diag(S) V^H``. The range of ``A`` is sketched with
    ``q`` Gaussian vectors from the global generator (seed it with
    :func:`flambeau.manual_seed` for repeatable results) and refined with ``niter`` power
    iterations (more iterations: more accurate when the singular values decay slowly).
    When ``A``'s rank is at most ``q``, the result is exact up to rounding. Differentiable
    through the QR and SVD it uses.

    Raises
    ------
    ValueError
        For a negative ``niter``.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.manual_seed(0)
    >>> A = flambeau.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    >>> U, S, V = flambeau.svd_lowrank(A, q=2)
    >>> U.shape, S.round(decimals=4), V.shape
    (flambeau.Size([4, 2]), tensor([3., 2.]), flambeau.Size([3, 2]))
    """
    from flambeau.linalg import svd

    op = "svd_lowrank"
    A, m, n = _check_lowrank(op, A, q, niter)
    q = 6 if q is None else q
    if isinstance(q, bool) or not isinstance(q, int) or q < 0:
        raise ValueError(f"q(={q}) must be non-negative integer")
    if M is not None:
        if not isinstance(M, Tensor):
            raise TypeError(f"{op}: expected M to be a Tensor, got {type(M).__name__}")
        _d.check_same_dtype(op, A, M, "A", "M")
        M = M.broadcast_to(A.shape)
    if m < n:  # sketch the adjoint so the small matrix to decompose is q x min(m, n)
        Mt = None if M is None else M.mH
        Q = _range_basis(A.mH, q, niter, Mt)
        B = Q.mH @ A.mH if M is None else Q.mH @ (A.mH - Mt)
        W, S, Vh = svd(B, full_matrices=False)
        return Vh.mH, S, Q @ W
    Q = _range_basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ (A - M)
    W, S, Vh = svd(B, full_matrices=False)
    return Q @ W, S, Vh.mH


def pca_lowrank(A, q=None, center=True, niter=2):
    """``(U, S, V)``: a randomized principal component analysis of the rows of ``A``
    (``(*, m, n)``, samples by features): :func:`svd_lowrank` of ``A`` minus its column
    means (``center=True``). ``V``'s columns are the principal directions and
    ``S ** 2 / (m - 1)`` the variances along them. ``q`` defaults to ``min(6, m, n)`` and
    must be between 0 and ``min(m, n)``.

    Raises
    ------
    ValueError
        For ``q`` out of range or a negative ``niter``.

    Examples
    --------
    >>> import flambeau
    >>> _ = flambeau.manual_seed(0)
    >>> x = flambeau.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    >>> U, S, V = flambeau.pca_lowrank(x, q=1)
    >>> S.round(decimals=4), V.abs().round(decimals=4)
    (tensor([3.1623]), tensor([[0.7071],
            [0.7071]]))
    """
    op = "pca_lowrank"
    A, m, n = _check_lowrank(op, A, q, niter)
    k = min(m, n)
    q = min(6, m, n) if q is None else q
    if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= k:
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={k}")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter)

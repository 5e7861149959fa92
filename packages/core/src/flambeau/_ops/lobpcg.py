"""``lobpcg``: a few extreme eigenpairs of a symmetric (generalized) eigenproblem.

Knyazev's locally optimal block preconditioned conjugate gradient method: each step does a
Rayleigh-Ritz projection of ``A`` (and ``B``) on the span of the current eigenvector
estimates ``X``, their preconditioned residuals ``W = iK (A X - B X E)`` and the previous
directions ``P``, and keeps the ``n`` extreme Ritz pairs. ``method="basic"`` projects on
``[X, W, P]`` as it is (a Cholesky factorization of its ``B``-Gram matrix, which fails when
the basis becomes dependent); ``method="ortho"`` first makes the basis ``B``-orthonormal,
dropping the directions it cannot resolve (an eigendecomposition of the Gram matrix), which
is what keeps it robust near convergence.

The iteration runs with flambeau ops and no graph, so ``A`` may be dense, sparse or on any
device. The gradient (dense real ``A``, no ``B``, as in PyTorch) is that of the ``k``
eigenpairs of the symmetrized ``(A + A^T) / 2``: for eigenvalues ``L`` and eigenvectors ``U``
(``m x k``), ``gA = U (diag(gL) + F o (U^T gU)) U^T - Z U^T`` with ``F_ij = 1 / (L_j - L_i)``
(0 on the diagonal) and ``Z[:, i] = (A - L_i)^+ (I - U U^T) gU[:, i]``, the part of the
eigenvectors' change outside their span (the pseudo-inverse taken on that complement).
"""

from __future__ import annotations

import math

from flambeau._ops._util import Tensor
from flambeau.autograd._function import Function

__all__ = ["lobpcg"]

_METHODS = ("ortho", "basic")


class _Worker:
    """The state of the iteration that ``tracker`` sees, under torch's attribute names."""

    def __init__(self, A, B, iK, iparams, fparams, bparams):
        self.A, self.B, self.iK = A, B, iK
        self.iparams, self.fparams, self.bparams = iparams, fparams, bparams
        self.ivars = {"istep": 0, "converged_count": 0}
        self.fvars = {}
        self.bvars = {"force_stop": False}
        self.tvars = {}
        self.E = self.X = self.S = self.R = None


def _mul(M, V):
    return V if M is None else M @ V


def _b_orthonormal(S, BS, B, drop):
    """``(S C, BS C)`` with ``(S C)^T B (S C) = I``, from the eigendecomposition of the Gram
    matrix; directions with eigenvalues below ``drop`` times the largest are left out.

    ``B S`` is recomputed, not carried as ``BS C``: near convergence ``C`` is large and
    ``BS C`` drifted from ``B (S C)``, so the Gram matrix called a basis orthonormal that was
    not, and Rayleigh-Ritz gave Ritz values far outside the spectrum. One pass leaves ``S C``
    off orthonormal by about ``eps / d`` for the smallest kept eigenvalue ``d`` (the Gram
    matrix squares the basis' condition number), so the pass repeats (at most 3 times)
    until the Gram matrix is the identity to ``drop``."""
    import flambeau

    for passes in range(3):
        G = S.mT @ BS
        G = (G + G.mT) / 2
        if passes and float((G - flambeau.eye(G.shape[-1], dtype=G.dtype, device=G.device))
                            .abs().max()) <= drop:
            break
        d, V = flambeau.linalg.eigh(G)
        keep = d > drop * d[-1].clamp(min=0)
        if not bool(keep.any()):
            return S[:, :0], BS[:, :0]
        C = V[:, keep] / d[keep].sqrt()
        S = S @ C
        BS = BS @ C if B is None else B @ S
    return S, BS


def _ritz(S, AS, BS, method, drop):
    """The Ritz values (ascending) and coefficients of ``S`` for the pencil ``(A, B)``."""
    import flambeau

    G_A = S.mT @ AS
    G_A = (G_A + G_A.mT) / 2
    if method == "ortho":
        theta, C = flambeau.linalg.eigh(G_A)
        return theta, C
    G_B = S.mT @ BS
    G_B = (G_B + G_B.mT) / 2
    L, info = flambeau.linalg.cholesky_ex(G_B)
    diag = flambeau.diagonal(L) if int(info.item()) == 0 else None
    # past a condition number of ~1/sqrt(eps) the projection loses all its digits
    if diag is None or float(diag.min()) ** 2 < _eps(S) ** 0.5 * float(diag.max()) ** 2:
        return None  # a (numerically) dependent basis: the caller drops P or gives up
    H = flambeau.linalg.solve_triangular(L, G_A, upper=False)
    H = flambeau.linalg.solve_triangular(L, H.mT, upper=False)
    theta, Z = flambeau.linalg.eigh((H + H.mT) / 2)
    C = flambeau.linalg.solve_triangular(L.mT, Z, upper=True)
    return theta, C


def _pick(theta, C, n, largest):
    """The ``n`` extreme Ritz pairs, the largest first when ``largest``, else ascending."""
    if largest:
        order = list(range(theta.shape[0] - 1, theta.shape[0] - 1 - n, -1))
    else:
        order = list(range(n))
    return theta[order], C[:, order]


def _solve_one(A, B, X, iK, k, niter, tol, largest, method, tracker, worker):
    """The LOBPCG iteration for one matrix ``A`` (m, m) from ``X`` (m, n): ``(E, X)``."""
    n = X.shape[-1]
    drop = 10 * n * _eps(X)
    if method == "ortho":
        X, BX = _b_orthonormal(X, _mul(B, X), B, drop)
        if X.shape[-1] < n:
            raise RuntimeError(f"lobpcg: the initial X of shape {(X.shape[0], n)} has linearly "
                               "dependent columns; pass X of full column rank")
    else:
        BX = _mul(B, X)
    AX = A @ X
    ritz = _ritz(X, AX, BX, method, drop)
    if ritz is None:
        raise RuntimeError(f"lobpcg: the initial X of shape {(X.shape[0], n)} has linearly "
                           "dependent columns; pass X of full column rank")
    E, C = _pick(*ritz, n, largest)
    X, AX, BX = X @ C, AX @ C, BX @ C
    P = AP = BP = None
    norm_A = _fro(AX) / math.sqrt(n) + _eps(X)  # scales of the residual's test, as they grow
    norm_B = _fro(BX) / math.sqrt(n) + _eps(X)
    worker.E, worker.X = E, X
    step = 0
    while niter < 0 or step < niter:
        R = AX - BX * E
        rerr = R.norm(dim=0) / (X.norm(dim=0) * (norm_A + E.abs() * norm_B))
        done = rerr < tol
        count = 0
        while count < k and bool(done[count]):
            count += 1
        worker.R, worker.tvars["rerr"] = R, rerr
        worker.ivars["converged_count"], worker.ivars["istep"] = count, step
        if tracker is not None:
            tracker(worker)
        if count >= k or worker.bvars.get("force_stop"):
            break
        # soft locking: converged columns add no search directions (their residuals are
        # noise, and the basis would become dependent)
        active = [i for i, ok in enumerate(done.tolist()) if not ok]
        W = _mul(iK, R[:, active])
        W = W / W.norm(dim=0).clamp(min=_eps(X))
        parts, Aparts, Bparts = [X, W], [AX, A @ W], [BX, _mul(B, W)]
        if P is not None:
            parts += [P[:, active]]
            Aparts += [AP[:, active]]
            Bparts += [BP[:, active]]
        import flambeau

        S, AS, BS = (flambeau.cat(p, dim=-1) for p in (parts, Aparts, Bparts))
        if method == "ortho":
            S, BS = _b_orthonormal(S, BS, B, drop)
            AS = A @ S
        ritz = _ritz(S, AS, BS, method, drop)
        if ritz is None and P is not None:  # method="basic": restart without P
            keep = n + len(active)
            S, AS, BS = S[:, :keep], AS[:, :keep], BS[:, :keep]
            ritz = _ritz(S, AS, BS, method, drop)
        if ritz is None:
            raise RuntimeError(
                "lobpcg: method='basic' failed: the Gram matrix of the basis [X, W] is "
                "singular (it becomes linearly dependent near convergence); use "
                "method='ortho', or a looser tol")
        E, C = _pick(*ritz, n, largest)
        X_new, AX_new, BX_new = S @ C, AS @ C, BS @ C
        # the new search directions: the step from the old estimates, B-orthogonal to them
        D = X.mT @ BX_new
        P, AP, BP = X_new - X @ D, AX_new - AX @ D, BX_new - BX @ D
        scale = P.norm(dim=0).clamp(min=_eps(X))
        P, AP, BP = P / scale, AP / scale, BP / scale
        X, AX, BX = X_new, AX_new, BX_new
        norm_A = max(norm_A, _fro(AX) / math.sqrt(n))
        norm_B = max(norm_B, _fro(BX) / math.sqrt(n))
        worker.E, worker.X, worker.S = E, X, S
        step += 1
    return E[:k], X[:, :k]


def _eps(t):
    return _eps_of(t.dtype)


def _fro(t):
    return float(t.norm())


class _LOBPCG(Function):
    """The eigenpairs found, with the gradient of exact eigenpairs of the dense ``A``."""

    @staticmethod
    def forward(ctx, A, E, X):
        ctx.save_for_backward(A, E, X)
        return E.detach().clone(), X.detach().clone()

    @staticmethod
    def backward(ctx, gE, gX):
        import flambeau

        A, E, U = ctx.saved_tensors
        m, k = U.shape[-2:]
        gA = A.new_zeros(*A.shape)
        eye = flambeau.eye(m, dtype=A.dtype, device=A.device)
        if gE is not None:
            gA = gA + (U * gE.unsqueeze(-2)) @ U.mT
        if gX is not None:
            diff = E.unsqueeze(-2) - E.unsqueeze(-1)  # [i, j] = E_j - E_i
            off = ~flambeau.eye(k, dtype=flambeau.bool, device=A.device)
            F = flambeau.where(off, 1 / flambeau.where(off, diff, flambeau.ones_like(diff)),
                               flambeau.zeros_like(diff))
            gA = gA + U @ (F * (U.mT @ gX)) @ U.mT
            proj = eye - U @ U.mT
            rhs = (proj @ gX).mT.unsqueeze(-1)  # (..., k, m, 1)
            shifted = (proj @ A @ proj).unsqueeze(-3) \
                - E.unsqueeze(-1).unsqueeze(-1) * proj.unsqueeze(-3) \
                + (U @ U.mT).unsqueeze(-3)
            Z = flambeau.linalg.solve(shifted, rhs).squeeze(-1).mT  # (..., m, k)
            gA = gA - Z @ U.mT
        return gA, None, None


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
           method=None, tracker=None, ortho_iparams=None, ortho_fparams=None,
           ortho_bparams=None):
    """The ``k`` largest (or smallest) eigenpairs of the symmetric positive definite
    generalized eigenproblem ``A x = lambda B x``, by LOBPCG (as ``torch.lobpcg``).

    Parameters
    ----------
    A : Tensor
        ``(*, m, m)``, symmetric; dense or sparse.
    k : int, optional
        Eigenpairs wanted: ``X``'s columns when ``X`` is given, else 1.
    B : Tensor, optional
        ``(*, m, m)`` symmetric positive definite; the identity when None.
    X : Tensor, optional
        ``(*, m, n)`` initial eigenvector estimates (random when None).
    n : int, optional
        Columns of the random initial ``X`` (default ``k``); ignored when ``X`` is given.
    iK : Tensor, optional
        ``(*, m, m)`` preconditioner applied to the residuals.
    niter : int, optional
        The most iterations (default 1000); -1 iterates until convergence.
    tol : float, optional
        Relative residual for convergence (default ``eps ** 0.5`` of ``A``'s dtype).
    largest : bool, optional
        The largest eigenvalues (default) or the smallest.
    method : {"ortho", "basic"}, optional
        ``"ortho"`` (default) orthonormalizes the search basis; ``"basic"`` does not and may
        fail near convergence.
    tracker : callable, optional
        Called each step with the iteration state (``istep``, ``converged_count`` in
        ``ivars``, ``rerr`` in ``tvars``, ``E``, ``X``, ``R``); setting
        ``bvars["force_stop"] = True`` stops the iteration.
    ortho_iparams, ortho_fparams, ortho_bparams : dict, optional
        Accepted for PyTorch compatibility; exposed to ``tracker`` as ``iparams``,
        ``fparams``, ``bparams``.

    Returns
    -------
    (Tensor, Tensor)
        ``E`` ``(*, k)`` (the largest first when ``largest``, else ascending) and ``X``
        ``(*, m, k)``, ``B``-orthonormal. Differentiable with respect to a dense ``A`` when
        ``B`` is None (the gradient of ``(A + A^T) / 2``'s eigenpairs).

    Raises
    ------
    ValueError
        When ``m < 3 n``, ``k > n``, an unknown ``method``, or a gradient asked with ``B``.

    Examples
    --------
    >>> import flambeau
    >>> A = flambeau.diag(flambeau.arange(1.0, 13.0, dtype=flambeau.float64))
    >>> X = flambeau.linspace(1.0, 2.0, 24, dtype=flambeau.float64).reshape(12, 2)
    >>> E, V = flambeau.lobpcg(A, k=2, X=X)
    >>> E.round(decimals=6)
    tensor([12., 11.], dtype=flambeau.float64)
    >>> E, V = flambeau.lobpcg(A, k=2, X=X, largest=False)
    >>> E.round(decimals=6)
    tensor([1., 2.], dtype=flambeau.float64)
    """
    import flambeau

    op = "lobpcg"
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected A to be a Tensor, got {type(A).__name__}")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: A must be a square matrix or a batch of them, got shape "
                         f"{tuple(A.shape)}")
    m = A.shape[-1]
    batch = tuple(A.shape[:-2])
    for name, M in (("B", B), ("iK", iK)):
        if M is not None and tuple(M.shape) != tuple(A.shape):
            raise ValueError(f"{op}: A and {name} must have the same shape, got "
                             f"{tuple(A.shape)} and {tuple(M.shape)}")
    if X is not None:
        if X.dim() < 2 or X.shape[-2] != m or tuple(X.shape[:-2]) not in ((), batch):
            raise ValueError(f"{op}: X of shape {tuple(X.shape)} does not match A of shape "
                             f"{tuple(A.shape)}: expected {batch + (m, 'n')}")
        n = X.shape[-1]
        k = n if k is None else k
    else:
        k = 1 if k is None else k
        n = k if n is None else n
    if k > n:
        raise ValueError(f"{op}: k={k} eigenpairs need at least as many columns in X, but X "
                         f"has n={n}")
    if m < 3 * n:
        raise ValueError(f"{op}: LOBPCG algorithm is not applicable when the number of A rows "
                         f"(={m}) is smaller than 3 x the number of requested eigenpairs "
                         f"(={n})")
    method = "ortho" if method is None else method
    if method not in _METHODS:
        raise ValueError(f"{op}: method must be 'ortho' or 'basic', got {method!r}")
    if A.is_complex():
        raise ValueError(f"{op}: complex A is not supported (as in PyTorch)")
    dtype = A.dtype
    if not dtype.is_floating_point:
        raise ValueError(f"{op}: A must be a floating point tensor, got {dtype}")
    niter = 1000 if niter is None else niter
    tol = _eps_of(dtype) ** 0.5 if tol is None else tol
    largest = True if largest is None else largest
    grad = A.requires_grad and flambeau.is_grad_enabled() and A.layout == flambeau.strided
    if grad and B is not None:
        raise ValueError(f"{op}: the backward does not support B != I (as in PyTorch's "
                         "lobpcg): pass B=None, or detach A")
    dense = A.layout == flambeau.strided
    if grad:
        A = (A + A.mT) / 2  # the gradient is the symmetric one, as torch's
    if X is None:
        X = flambeau.randn(*batch, m, n, dtype=dtype, device=A.device)
    worker = _Worker(A, B, iK, dict(ortho_iparams or {}, k=k, n=n, niter=niter),
                     dict(ortho_fparams or {}, tol=tol),
                     dict(ortho_bparams or {}, largest=largest))
    with flambeau.no_grad():
        As = A.detach() if dense else A
        items = []
        for index in _indices(batch):
            Ai, Bi, Ki, Xi = (None if M is None else M[index] if index and M.dim() > 2 else M
                              for M in (As, B, iK, X))
            items.append(_solve_one(Ai, Bi, Xi.detach(), Ki, k, niter, tol, largest, method,
                                    tracker, worker))
        E = flambeau.stack([e for e, _ in items]).reshape(*batch, k)
        V = flambeau.stack([v for _, v in items]).reshape(*batch, m, k)
    if grad:
        return _LOBPCG.apply(A, E, V)
    return E, V


def _eps_of(dtype):
    import flambeau

    return flambeau.finfo(dtype).eps


def _indices(batch):
    if not batch:
        return [()]
    import itertools

    return list(itertools.product(*(range(b) for b in batch)))

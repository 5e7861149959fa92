"""Ready-made parametrizations: weight_norm, spectral_norm and orthogonal.

Each registers a parametrization module with
:func:`flambeau.nn.utils.parametrize.register_parametrization`, so the state dict keys are
PyTorch's (``parametrizations.weight.original0``, ``parametrizations.weight.0._u``...).

Examples
--------
>>> from flambeau import nn
>>> from flambeau.nn.utils.parametrizations import weight_norm
>>> list(weight_norm(nn.Linear(3, 2)).state_dict())  # doctest: +NORMALIZE_WHITESPACE
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""

from __future__ import annotations

from enum import Enum, auto

import flambeau
import flambeau.nn.functional as F
from flambeau import Tensor
from flambeau.nn._complex import refuse_complex
from flambeau.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from flambeau.nn.modules.module import Module
from flambeau.nn.utils import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---------------------------------------------------------------------------- weight norm
def _check_norm_dim(v, dim):
    n = v.ndim
    if dim != -1 and not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(n, 1)}, "
            f"{max(n, 1) - 1}], but got {dim})"
        )


def _norm_except_dim(v, dim, pow=2):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, kept as size-1 dimensions
    (``flambeau.norm_except_dim``).

    ``dim=-1`` means the norm of the whole tensor (a 0-d tensor), as PyTorch's
    ``norm_except_dim``.
    """
    _check_norm_dim(v, dim)
    if dim == -1:
        return flambeau.norm(v, pow)
    dim %= v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    if not others:
        return v.abs()
    return flambeau.norm(v, pow, dim=others, keepdim=True)


def _weight_norm(v, g, dim):
    refuse_complex("weight_norm", v, g)  # as PyTorch's kernel (also after a cast to complex)
    return v * (g / _norm_except_dim(v, dim))


class _WeightNormCompatHook:
    """Load a legacy ``weight_g`` / ``weight_v`` state dict into the parametrized module."""

    def __init__(self, name):
        self.name = name

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{self.name}_g", f"{prefix}{self.name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{self.name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{self.name}.original1"] = state_dict.pop(v_key)


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Split ``module.<name>`` into a magnitude ``g`` and a direction ``v``: ``w = g v / ||v||``.

    The norm is taken over every dimension except ``dim`` (``dim=None``: over the whole
    tensor, so ``g`` is a scalar). ``g`` is stored as
    ``module.parametrizations.<name>.original0`` (shape: size 1 except along ``dim``) and
    ``v`` as ``original1``, initialised so that the weight is unchanged. A state dict with
    the legacy keys ``<name>_g`` / ``<name>_v`` (from :func:`flambeau.nn.utils.weight_norm`)
    loads too.

    Parameters
    ----------
    module : Module
        The module that owns the tensor.
    name : str
        The parameter to reparametrize (default ``"weight"``).
    dim : int or None
        The dimension kept by the norm (default 0, the output channels); ``-1`` or None for a
        norm over the whole tensor.

    Returns
    -------
    Module
        ``module``, parametrized.

    Raises
    ------
    ValueError
        When ``module`` has no parameter or buffer ``name``.
    IndexError
        When ``dim`` is out of range for the tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils.parametrizations import weight_norm
    >>> m = weight_norm(nn.Linear(20, 40))
    >>> m.parametrizations.weight.original0.shape, m.parametrizations.weight.original1.shape
    (flambeau.Size([40, 1]), flambeau.Size([40, 20]))
    >>> g = m.parametrizations.weight.original0
    >>> bool(flambeau.allclose(m.weight.norm(dim=1, keepdim=True), g))
    True
    """
    refuse_complex("weight_norm", getattr(module, name, None))  # before any change
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module._register_load_state_dict_pre_hook(_WeightNormCompatHook(name))
    return module


# ---------------------------------------------------------------------------- spectral norm
def _weight_matrix(weight, dim):
    """``weight`` as a matrix for spectral norm: dimension ``dim`` first, the rest flattened
    (shared with the legacy hook of :mod:`flambeau.nn.utils._spectral_norm`)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.flatten(1)


def _check_power_iterations(n):
    if n <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n}")


def _default_spectral_dim(module):
    """The output dimension: 1 for transposed convolutions, 0 for every other module."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but "
                f"got {dim})"
            )
        _check_power_iterations(n_power_iterations)
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = _weight_matrix(weight, self.dim)
            h, w = weight_mat.shape
            kw = {"dtype": weight.dtype, "device": weight.device}
            self.register_buffer("_u", F.normalize(flambeau.randn(h, **kw), dim=0, eps=eps))
            self.register_buffer("_v", F.normalize(flambeau.randn(w, **kw), dim=0, eps=eps))
            # start from good singular vector estimates, not random ones
            self._power_method(weight_mat.detach(), 15)

    def _power_method(self, weight_mat, n_power_iterations):
        # u and v are updated in place: the buffers keep their identity (and state_dict views)
        with flambeau.no_grad():
            for _ in range(n_power_iterations):
                F.normalize(flambeau.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
                F.normalize(flambeau.mv(weight_mat.mH, self._u), dim=0, eps=self.eps,
                            out=self._v)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = _weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: later power iterations must not change what backward saved
        u, v = self._u.clone(), self._v.clone()
        sigma = flambeau.vdot(u, flambeau.mv(weight_mat, v))  # u^H W v, real at convergence
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value, estimated by power iteration.

    The weight is viewed as a matrix with ``dim`` first and the other dimensions flattened.
    Singular vector estimates ``u`` and ``v`` are kept as the buffers
    ``module.parametrizations.<name>[0]._u`` and ``._v``: initialised with 15 power
    iterations at registration, then advanced by ``n_power_iterations`` on every access in
    training mode only (in eval mode the stored ones are used as they are). A 1-D tensor is
    divided by its 2-norm.

    Parameters
    ----------
    module : Module
        The module that owns the tensor.
    name : str
        The parameter to normalize (default ``"weight"``).
    n_power_iterations : int
        Power iterations per access in training mode (default 1).
    eps : float
        Added to norms to avoid dividing by zero.
    dim : int, optional
        The output dimension: default 0, or 1 for ``ConvTranspose1d/2d/3d``.

    Returns
    -------
    Module
        ``module``, parametrized.

    Raises
    ------
    ValueError
        When ``module`` has no tensor ``name``, or ``n_power_iterations`` is not positive.
    IndexError
        When ``dim`` is out of range.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils.parametrizations import spectral_norm
    >>> m = spectral_norm(nn.Linear(20, 40))
    >>> [n for n, _ in m.named_buffers()]
    ['parametrizations.weight.0._u', 'parametrizations.weight.0._v']
    >>> for _ in range(20):
    ...     w = m.weight
    >>> import numpy
    >>> round(float(numpy.linalg.svd(w.detach().numpy(), compute_uv=False)[0]), 3)
    1.0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_spectral_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ---------------------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _eye_like(shape, like, value=1.0):
    """A batch of ``value`` * identity of shape ``shape`` (rectangular allowed)."""
    eye = flambeau.eye(shape[-2], shape[-1], dtype=like.dtype, device=like.device) * value
    return eye.expand(*shape).clone()


def _is_orthogonal(Q):
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(Q._device._xp.finfo(Q._data.dtype).eps)
    return bool(flambeau.allclose(Q.mH @ Q, _eye_like((k, k), Q), atol=eps))


def _make_orthogonal(A):
    """The Q of A = QR (A tall, maybe complex) with diag(R) made real and non-negative, so
    that Q is unique."""
    Q, R = flambeau.linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _geqrf(A):
    """LAPACK geqrf's compact QR of a tall (batch of) matrix: (reflectors and R, tau).

    Householder vectors are stored below the diagonal with an implicit leading 1, R on and
    above it; a column already zero below the diagonal gets tau = 0 (no reflection), as
    LAPACK's dlarfg does.
    """
    xp = A._device._xp
    a = xp.array(A._data, copy=True)
    k = a.shape[-1]
    tau = xp.zeros(a.shape[:-2] + (k,), dtype=a.dtype)
    for j in range(k):
        alpha = a[..., j, j]
        tail = a[..., j + 1:, j]
        xnorm = xp.sqrt((tail * tail).sum(axis=-1))
        reflect = xnorm != 0
        beta = -xp.where(alpha >= 0, 1.0, -1.0) * xp.sqrt(alpha * alpha + xnorm * xnorm)
        safe_beta = xp.where(reflect, beta, 1.0)
        tau_j = xp.where(reflect, (beta - alpha) / safe_beta, 0.0)
        scale = xp.where(reflect, 1.0 / xp.where(reflect, alpha - beta, 1.0), 0.0)
        v = tail * scale[..., None]
        a[..., j + 1:, j] = v
        a[..., j, j] = xp.where(reflect, beta, alpha)
        tau[..., j] = tau_j
        if j + 1 < k:  # apply H = I - tau w w^T (w = [1; v]) to the remaining columns
            rest = a[..., j:, j + 1:]
            w = xp.concatenate([xp.ones(v.shape[:-1] + (1,), dtype=a.dtype), v], axis=-1)
            proj = (w[..., :, None] * rest).sum(axis=-2)
            rest -= tau_j[..., None, None] * w[..., :, None] * proj[..., None, :]
    return Tensor._make(a, A._device), Tensor._make(tau, A._device)


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # a skew-symmetric n x n matrix from the n*k - k(k-1)/2 free entries of X
            X = X.tril()
            if n != k:
                zeros = flambeau.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype, device=X.device)
                X = flambeau.cat([X, zeros], dim=-1)
            A = X - X.mH  # skew-symmetric (skew-Hermitian when complex)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = flambeau.linalg.matrix_exp(A)
            else:  # the Cayley map (I + A/2)(I - A/2)^{-1}
                Id = _eye_like((n, n), A)
                Q = flambeau.linalg.solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:  # real: the householder map refuses complex weights
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = flambeau.linalg.householder_product(A, tau)
            # X's diagonal holds the signs (+-1); truncated to integers, it gets no gradient
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with flambeau.no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor "
                f"of shape {Q.shape}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != _OrthMaps.householder:
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False."
                )
            # the reflectors of Q = QR, with R's diagonal signs on the diagonal (flipped
            # where geqrf did not reflect, since forward always does)
            A, tau = _geqrf(Q)
            diag = A.diagonal(dim1=-2, dim2=-1).sign()
            diag = flambeau.where(tau == 0.0, -diag, diag)
            idx = flambeau.arange(k, device=A.device)
            A[..., idx, idx] = diag
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q to an orthogonal n x n matrix with random columns
            N = flambeau.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(flambeau.cat([Q, N], dim=-1))
        self.base = Q
        # -Id, so that householder maps it to the identity too: Q = base at first
        return _eye_like(Q_init.shape, Q_init, -1.0)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal.

    A weight ``Q`` of shape ``(..., m, n)`` gets orthonormal columns when ``m >= n`` and
    orthonormal rows otherwise (unitary ones for a complex weight, ``Q^H Q = I``). It is
    computed from the unconstrained original by one of:

    - ``"matrix_exp"``: the matrix exponential of a skew-symmetric matrix built from the
      original's lower triangle;
    - ``"cayley"``: the Cayley map ``(I + A/2)(I - A/2)^{-1}`` of that skew-symmetric matrix;
    - ``"householder"``: a product of Householder reflectors stored below the diagonal.

    With ``use_trivialization=True`` (default) the weight is ``base @ map(original)`` with an
    extra buffer ``base`` (``module.parametrizations.<name>[0].base``): assigning a value
    stores it (orthogonalized) in ``base`` and resets the original to the point the map sends
    to the identity ("dynamic trivialization", which helps optimisers). The initial weight is
    the current one if it is orthogonal, else the Q of its QR decomposition (completed with
    random columns when rectangular); the same holds for ``"householder"`` without
    trivialization.

    Parameters
    ----------
    module : Module
        The module that owns the tensor.
    name : str
        The tensor to constrain (default ``"weight"``); at least 2-D.
    orthogonal_map : {"matrix_exp", "cayley", "householder"}, optional
        Default: ``"matrix_exp"`` for square or complex matrices, ``"householder"``
        otherwise (it is real only).
    use_trivialization : bool
        Keep the ``base`` buffer (default True). Without it, only ``"householder"``
        supports assigning to the weight.

    Returns
    -------
    Module
        ``module``, parametrized.

    Raises
    ------
    ValueError
        When ``module`` has no tensor ``name``, it has fewer than 2 dimensions,
        ``orthogonal_map`` is not one of the three, or it is ``"householder"`` for a complex
        tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils.parametrizations import orthogonal
    >>> m = orthogonal(nn.Linear(20, 40))
    >>> m.parametrizations.weight[0].orthogonal_map
    <_OrthMaps.householder: 3>
    >>> Q = m.weight
    >>> bool(flambeau.allclose(Q.mT @ Q, flambeau.eye(20), atol=1e-5))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.shape[-2] == weight.shape[-1]
                          or weight.is_complex() else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map,
                                                                       str) else None
    if orth_enum is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    if weight.is_complex() and orth_enum == _OrthMaps.householder:
        raise ValueError("The householder parametrization does not support complex tensors.")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module

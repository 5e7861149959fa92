"""MultivariateNormal and LowRankMultivariateNormal (Cholesky-based, batched)."""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import _standard_normal, lazy_property
from flambeau.distributions.kl import register_kl

__all__ = ["MultivariateNormal", "LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _batch_mv(mat, vec):
    """Matrix-vector products over broadcast batch dims."""
    return (mat @ vec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(scale_tril, x):
    """``x^T (L L^T)^{-1} x`` over broadcast batch dims, by one triangular solve."""
    y = flambeau.linalg.solve_triangular(scale_tril, x.unsqueeze(-1), upper=False)
    return y.squeeze(-1).pow(2).sum(-1)


def _half_log_det(scale_tril):
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _precision_to_scale_tril(precision):
    # P = U U^T with U upper triangular (a Cholesky factor of P with its order reversed);
    # then the covariance P^{-1} = U^{-T} U^{-1} has lower Cholesky factor U^{-T}
    lf = flambeau.linalg.cholesky(flambeau.flip(precision, (-2, -1)))
    l_inv = flambeau.flip(lf, (-2, -1)).mT
    eye = flambeau.eye(precision.shape[-1], dtype=precision.dtype, device=precision.device)
    return flambeau.linalg.solve_triangular(l_inv, eye, upper=False)


def _matrix_arg_error(name):
    return ValueError(
        f"{name} matrix must be at least two-dimensional, with optional leading batch dimensions"
    )


class MultivariateNormal(Distribution):
    r"""The multivariate normal (Gaussian) distribution, parameterized by a mean vector and
    exactly one of a covariance matrix, a precision matrix or a lower-triangular factor
    ``L`` of the covariance (``Sigma = L L^T``, the cheapest).

    Everything goes through the Cholesky factor: ``log_prob`` by a triangular solve,
    ``rsample`` as ``loc + L @ eps``.

    Parameters
    ----------
    loc : Tensor
        Mean, of shape ``(*batch, k)``.
    covariance_matrix : Tensor, optional
        Positive-definite covariance, of shape ``(*batch, k, k)``.
    precision_matrix : Tensor, optional
        Positive-definite inverse covariance.
    scale_tril : Tensor, optional
        Lower-triangular factor of the covariance with a positive diagonal.
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``loc`` is 0-d, not exactly one matrix is given, the matrix is not at least 2-d
        or (with validation) violates its constraint.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import MultivariateNormal
    >>> d = MultivariateNormal(flambeau.zeros(2), flambeau.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> d.log_prob(flambeau.tensor([1.0, -1.0]))
    tensor(-3.3872)
    >>> d.scale_tril
    tensor([[1.4142, 0.0000],
            [0.7071, 1.2247]])
    >>> d.sample((5,)).shape
    flambeau.Size([5, 2])
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or "
                "scale_tril may be specified."
            )
        name, matrix = next(
            (n, m)
            for n, m in (
                ("scale_tril", scale_tril),
                ("covariance_matrix", covariance_matrix),
                ("precision_matrix", precision_matrix),
            )
            if m is not None
        )
        if matrix.dim() < 2:
            raise _matrix_arg_error(name)
        batch_shape = tuple(
            flambeau.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        )
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, tuple(self.loc.shape[-1:]), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = flambeau.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        loc_shape = batch_shape + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        """The lower Cholesky factor of the covariance."""
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        """The covariance matrix ``L L^T``."""
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """The inverse of the covariance matrix."""
        return flambeau.cholesky_inverse(self._unbroadcasted_scale_tril).expand(
            self._matrix_shape()
        )

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (
            self._unbroadcasted_scale_tril.pow(2)
            .sum(-1)
            .expand(tuple(self._batch_shape) + tuple(self._event_shape))
        )

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = _half_log_det(self._unbroadcasted_scale_tril)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + m) - half_log_det

    def entropy(self):
        half_log_det = _half_log_det(self._unbroadcasted_scale_tril)
        h = 0.5 * self._event_shape[0] * (1.0 + _LOG_2PI) + half_log_det
        if len(self._batch_shape) == 0:
            return h
        return h.expand(self._batch_shape)


def _capacitance_tril(cov_factor, cov_diag):
    # Cholesky factor of the m x m capacitance matrix I + W^T D^{-1} W
    m = cov_factor.shape[-1]
    wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
    k = wt_dinv @ cov_factor + flambeau.eye(m, dtype=cov_factor.dtype, device=cov_factor.device)
    return flambeau.linalg.cholesky(k)


def _lowrank_logdet(cov_diag, capacitance_tril):
    # matrix determinant lemma: det(W W^T + D) = det(capacitance) det(D)
    return 2 * _half_log_det(capacitance_tril) + cov_diag.log().sum(-1)


def _lowrank_mahalanobis(cov_factor, cov_diag, x, capacitance_tril):
    # Woodbury: x^T (W W^T + D)^{-1} x = x^T D^{-1} x - |C^{-1} W^T D^{-1} x|^2
    wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
    term1 = (x.pow(2) / cov_diag).sum(-1)
    term2 = _batch_mahalanobis(capacitance_tril, _batch_mv(wt_dinv, x))
    return term1 - term2


class LowRankMultivariateNormal(Distribution):
    r"""The multivariate normal distribution with a low-rank-plus-diagonal covariance
    ``cov_factor @ cov_factor.mT + diag(cov_diag)``.

    With ``cov_factor`` of shape ``(k, m)``, ``m << k``, ``log_prob`` and ``entropy`` cost
    ``O(k m^2)`` (Woodbury identity and the matrix determinant lemma) instead of ``O(k^3)``.

    Parameters
    ----------
    loc : Tensor
        Mean, of shape ``(*batch, k)``.
    cov_factor : Tensor
        The low-rank factor ``W``, of shape ``(*batch, k, m)``.
    cov_diag : Tensor
        The diagonal part ``D`` (positive), of shape ``(*batch, k)``.
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If the shapes do not fit together.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import LowRankMultivariateNormal
    >>> d = LowRankMultivariateNormal(flambeau.zeros(2), flambeau.tensor([[1.0], [0.0]]),
    ...                               flambeau.ones(2))
    >>> d.covariance_matrix
    tensor([[2., 0.],
            [0., 1.]])
    >>> d.log_prob(flambeau.zeros(2))
    tensor(-2.1845)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional "
                "leading batch dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m"
            )
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(
                f"cov_diag must be a batch of vectors with shape {flambeau.Size(event_shape)}"
            )
        try:
            loc_, self.cov_factor, cov_diag_ = flambeau.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1)
            )
        except (RuntimeError, ValueError) as e:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                f"{cov_factor.shape}, cov_diag {cov_diag.shape}"
            ) from e
        self.loc = loc_[..., 0]
        self.cov_diag = cov_diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        # validate before factoring, so that a bad cov_diag gets the parameter's error
        super().__init__(tuple(self.loc.shape[:-1]), event_shape, validate_args=validate_args)
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        loc_shape = batch_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return (
            self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        ).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def scale_tril(self):
        """The lower Cholesky factor of the covariance."""
        # cov = D^{1/2} (I + D^{-1/2} W W^T D^{-1/2}) D^{1/2}: factor the well-scaled middle
        n = self._event_shape[0]
        sqrt_d = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        dw = self._unbroadcasted_cov_factor / sqrt_d
        k = dw @ dw.mT + flambeau.eye(n, dtype=dw.dtype, device=dw.device)
        return (sqrt_d * flambeau.linalg.cholesky(k)).expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        """The covariance matrix ``W W^T + diag(D)``."""
        w = self._unbroadcasted_cov_factor
        return (w @ w.mT + self._unbroadcasted_cov_diag.diag_embed()).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """The inverse covariance (Woodbury identity)."""
        wt_dinv = self._unbroadcasted_cov_factor.mT / self._unbroadcasted_cov_diag.unsqueeze(-2)
        a = flambeau.linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        return (self._unbroadcasted_cov_diag.reciprocal().diag_embed() - a.mT @ a).expand(
            self._matrix_shape()
        )

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        w_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_w = _standard_normal(w_shape, dtype=self.loc.dtype, device=self.loc.device)
        eps_d = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return (
            self.loc
            + _batch_mv(self._unbroadcasted_cov_factor, eps_w)
            + self._unbroadcasted_cov_diag.sqrt() * eps_d
        )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _lowrank_mahalanobis(
            self._unbroadcasted_cov_factor,
            self._unbroadcasted_cov_diag,
            diff,
            self._capacitance_tril,
        )
        log_det = _lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + log_det + m)

    def entropy(self):
        log_det = _lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        h = 0.5 * (self._event_shape[0] * (1.0 + _LOG_2PI) + log_det)
        if len(self._batch_shape) == 0:
            return h
        return h.expand(self._batch_shape)


def _scale_tril_of(d):
    if isinstance(d, MultivariateNormal):
        return d._unbroadcasted_scale_tril
    return d.scale_tril


@register_kl(MultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_gaussian_gaussian(p, q):
    # 0.5 (tr(Sq^-1 Sp) + (mq - mp)^T Sq^-1 (mq - mp) - k + log det Sq - log det Sp), all
    # through the Cholesky factors (dense: the low-rank structure is not exploited)
    if p.event_shape != q.event_shape:
        lowrank = (
            isinstance(p, LowRankMultivariateNormal),
            isinstance(q, LowRankMultivariateNormal),
        )
        name = {
            (False, False): "Multivariate Normals",
            (True, True): "Low Rank Multivariate Normals",
        }.get(lowrank, "(Low Rank) Multivariate Normals")
        raise ValueError(
            f"KL-divergence between two {name} with different event shapes cannot be computed"
        )
    lp, lq = _scale_tril_of(p), _scale_tril_of(q)
    n = p.event_shape[0]
    batch = tuple(flambeau.broadcast_shapes(tuple(lq.shape[:-2]), tuple(lp.shape[:-2])))
    lq_b = lq.expand(batch + (n, n))
    lp_b = lp.expand(batch + (n, n))
    term2 = flambeau.linalg.solve_triangular(lq_b, lp_b, upper=False).pow(2).sum((-2, -1))
    term3 = _batch_mahalanobis(lq, q.loc - p.loc)
    return _half_log_det(lq) - _half_log_det(lp) + 0.5 * (term2 + term3 - n)

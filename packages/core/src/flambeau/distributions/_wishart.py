"""The Wishart distribution over positive-definite matrices (Bartlett-decomposition
sampling)."""

from __future__ import annotations

import math
import warnings
from numbers import Number

import flambeau
from flambeau._tensor import Tensor
from flambeau.distributions import constraints
from flambeau.distributions._distribution import ExponentialFamily
from flambeau.distributions._gamma_family import Chi2
from flambeau.distributions._multivariate_normal import _precision_to_scale_tril
from flambeau.distributions._utils import _expand_params, _standard_normal, lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2.0)


class _ParameterChoiceError(ValueError, AssertionError):
    """Not exactly one matrix parameter: a ValueError, as the other distributions raise, and
    an AssertionError, as ``torch.distributions.Wishart`` raises."""


def _mvdigamma(x, p):
    """The multivariate digamma ``sum_{i < p} digamma(x - i / 2)`` (derivative of
    ``mvlgamma(x, p)``)."""
    halves = flambeau.arange(p, dtype=x.dtype, device=x.device) * 0.5
    return flambeau.digamma(x.unsqueeze(-1) - halves).sum(-1)


def _singular(x):
    """Whether each symmetric matrix of ``x`` fails to be (numerically) positive-definite."""
    return flambeau.linalg.cholesky_ex(x.detach()).info > 0


def _half_log_det(scale_tril):
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class Wishart(ExponentialFamily):
    r"""The Wishart distribution of ``p x p`` positive-definite matrices with ``df`` degrees
    of freedom and scale matrix ``Sigma``: the law of ``X^T X`` for ``X`` with ``df`` i.i.d.
    ``N(0, Sigma)`` rows when ``df`` is an integer (any real ``df > p - 1`` is allowed).

    ``Sigma`` is given as exactly one of a covariance matrix, a precision matrix (its
    inverse) or its lower Cholesky factor ``L`` (the cheapest: everything goes through
    ``L``). ``rsample`` uses the Bartlett decomposition ``L A A^T L^T``, with ``A``
    lower-triangular, ``A_ii^2 ~ chi2(df - i)`` and standard normals below the diagonal; it
    is differentiable w.r.t. ``df`` and ``Sigma``.

    Parameters
    ----------
    df : float or Tensor
        The degrees of freedom, greater than ``p - 1``.
    covariance_matrix : Tensor, optional
        Positive-definite scale matrix, of shape ``(*batch, p, p)``.
    precision_matrix : Tensor, optional
        Its inverse.
    scale_tril : Tensor, optional
        Its lower Cholesky factor, with a positive diagonal.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If not exactly one matrix is given (the error is also an ``AssertionError``, as
        torch's), the matrix is not at least 2-d, ``df <= p - 1`` somewhere, or
        (``validate_args``) a parameter or a value is outside its constraint.

    Warns
    -----
    UserWarning
        If ``df < p`` somewhere: singular samples are then likely.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Wishart
    >>> d = Wishart(flambeau.tensor(4.0), covariance_matrix=flambeau.tensor([[2.0, 0.5],
    ...                                                                    [0.5, 1.0]]))
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([]), flambeau.Size([2, 2]))
    >>> d.log_prob(flambeau.eye(2) * 4)
    tensor(-6.3857)
    >>> d.mean
    tensor([[8., 2.],
            [2., 4.]])
    >>> d.entropy()
    tensor(7.1408)
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).shape
    flambeau.Size([3, 2, 2])
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ):
        given = [
            (n, m)
            for n, m in (
                ("covariance_matrix", covariance_matrix),
                ("precision_matrix", precision_matrix),
                ("scale_tril", scale_tril),
            )
            if m is not None
        ]
        if len(given) != 1:
            raise _ParameterChoiceError(
                f"Wishart: Exactly one of covariance_matrix or precision_matrix or scale_tril "
                f"may be specified. Got {[n for n, _ in given] or 'none'}."
            )
        name, matrix = given[0]
        if matrix.dim() < 2:
            raise ValueError(
                f"Wishart: {name} must be at least two-dimensional, with optional "
                f"leading batch dimensions, got shape {tuple(matrix.shape)}"
            )
        p = matrix.shape[-1]
        if isinstance(df, Number):
            batch_shape = tuple(matrix.shape[:-2])
            self.df = flambeau.tensor(float(df), dtype=matrix.dtype, device=matrix.device)
        elif isinstance(df, Tensor):
            batch_shape = tuple(
                flambeau.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(df.shape))
            )
            self.df = df.expand(batch_shape)
        else:
            raise TypeError(f"Wishart: df must be a number or a Tensor, got {type(df).__name__}")
        if bool((self.df <= p - 1).any()):
            raise ValueError(
                f"Wishart: Value of df={df} expected to be greater than ndim - 1 = "
                f"{p - 1}. (ndim = {p}: {name} has shape {tuple(matrix.shape)})"
            )
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur "
                "for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        super().__init__(batch_shape, tuple(matrix.shape[-2:]), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = flambeau.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._chi2 = self._make_chi2()

    def _make_chi2(self):
        # the squared diagonal of Bartlett's A: chi2(df - i), i = 0 .. p - 1
        p = self._event_shape[-1]
        offsets = flambeau.arange(p, dtype=self.df.dtype, device=self.df.device)
        return Chi2(self.df.unsqueeze(-1) - offsets, validate_args=False)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(
            self,
            Wishart,
            batch_shape,
            _instance,
            ("covariance_matrix", "precision_matrix", "scale_tril"),
            param_event_dims=2,
        )
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        new.df = self.df.expand(tuple(batch_shape))
        new._chi2 = new._make_chi2()
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape)

    def _per_batch(self, x):
        """A batch-shaped tensor, viewed to broadcast against ``batch + (p, p)``."""
        return x.reshape(tuple(self._batch_shape) + (1, 1))

    @lazy_property
    def scale_tril(self):
        """The lower Cholesky factor ``L`` of the scale matrix.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Wishart
        >>> Wishart(3.0, covariance_matrix=4 * flambeau.eye(2)).scale_tril
        tensor([[2., 0.],
                [0., 2.]])
        """
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        """The scale matrix ``Sigma = L L^T``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Wishart
        >>> Wishart(3.0, scale_tril=2 * flambeau.eye(2)).covariance_matrix
        tensor([[4., 0.],
                [0., 4.]])
        """
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """The inverse of the scale matrix.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Wishart
        >>> Wishart(3.0, covariance_matrix=4 * flambeau.eye(2)).precision_matrix
        tensor([[0.2500, 0.0000],
                [0.0000, 0.2500]])
        """
        return flambeau.cholesky_inverse(self._unbroadcasted_scale_tril).expand(
            self._matrix_shape()
        )

    @property
    def mean(self):
        return self._per_batch(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self._event_shape[-1] - 1
        factor = flambeau.where(factor > 0, factor, float("nan"))
        return self._per_batch(factor) * self.covariance_matrix

    @property
    def variance(self):
        v = self.covariance_matrix
        d = v.diagonal(dim1=-2, dim2=-1)
        return self._per_batch(self.df) * (v.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape):
        p = self._event_shape[-1]
        eps = flambeau.finfo(self.df.dtype).eps
        diag = self._chi2.rsample(sample_shape).sqrt()
        diag = diag + (diag.detach().clamp(min=eps) - diag.detach())
        shape = tuple(sample_shape) + tuple(self._batch_shape) + (p, p)
        below = _standard_normal(shape, self.df.dtype, self.df.device).tril(-1)
        chol = self._unbroadcasted_scale_tril @ (below + flambeau.diag_embed(diag))
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Reparameterized samples (Bartlett decomposition).

        Rounding can make a sample singular when ``df`` is close to ``p - 1``: such samples
        are redrawn (with a warning) up to ``max_try_correction`` times (default 10); any
        left singular are returned as they are (their ``log_prob`` is ``-inf``).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Wishart
        >>> df = flambeau.tensor(5.0, requires_grad=True)
        >>> _ = flambeau.manual_seed(0)
        >>> x = Wishart(df, covariance_matrix=flambeau.eye(3)).rsample((2,))
        >>> x.shape, x.requires_grad
        (flambeau.Size([2, 3, 3]), True)
        """
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = tuple(sample_shape)
        sample = self._bartlett(sample_shape)
        singular = _singular(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                # redraw everything (cheap next to the rarity of this path), keep the redraws
                # only where needed
                fresh = self._bartlett(sample_shape)
                sample = flambeau.where(singular[..., None, None], fresh, sample)
                singular = _singular(sample)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        lower = self._unbroadcasted_scale_tril
        # tr(Sigma^-1 X) = tr(L^-1 X L^-T): two triangular solves (X symmetric)
        shape = tuple(flambeau.broadcast_shapes(tuple(lower.shape), tuple(value.shape)))
        lower_b = lower.expand(shape)
        half = flambeau.linalg.solve_triangular(lower_b, value.expand(shape), upper=False)
        whitened = flambeau.linalg.solve_triangular(lower_b, half.mT, upper=False)
        trace = whitened.diagonal(dim1=-2, dim2=-1).sum(-1)
        log_det_x = flambeau.linalg.slogdet(value).logabsdet
        return (
            -nu * (0.5 * p * _LOG_2 + _half_log_det(lower))
            - flambeau.mvlgamma(0.5 * nu, p=p)
            + 0.5 * (nu - p - 1) * log_det_x
            - 0.5 * trace
        )

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        return (
            (p + 1) * (0.5 * p * _LOG_2 + _half_log_det(self._unbroadcasted_scale_tril))
            + flambeau.mvlgamma(0.5 * nu, p=p)
            - 0.5 * (nu - p - 1) * _mvdigamma(0.5 * nu, p)
            + 0.5 * nu * p
        )

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return (-0.5 * self.precision_matrix, 0.5 * (self.df - p - 1))

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        a = y + 0.5 * (p + 1)
        return a * (p * _LOG_2 - flambeau.linalg.slogdet(-2 * x).logabsdet) + flambeau.mvlgamma(
            a, p=p
        )

"""The generalized Pareto distribution (peaks over a threshold)."""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import _expand_params, broadcast_all

__all__ = ["GeneralizedPareto"]


def _log1p_over(xi, t):
    """``log1p(xi t) / xi``, continued to ``t`` at ``xi = 0`` with the right derivative
    w.r.t. ``xi`` there (``-t^2 / 2``)."""
    zero = xi == 0
    safe = flambeau.where(zero, 1.0, xi)
    return flambeau.where(zero, t - 0.5 * xi * t * t, flambeau.log1p(safe * t) / safe)


def _expm1_over(xi, t):
    """``expm1(xi t) / xi``, continued to ``t`` at ``xi = 0`` (derivative ``t^2 / 2``)."""
    zero = xi == 0
    safe = flambeau.where(zero, 1.0, xi)
    return flambeau.where(zero, t + 0.5 * xi * t * t, flambeau.expm1(safe * t) / safe)


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution with location ``loc``, scale ``scale`` and shape
    ``concentration`` (``xi``): survival function ``(1 + xi z)^(-1 / xi)`` of
    ``z = (x - loc) / scale`` (``exp(-z)`` for ``xi = 0``).

    The support is ``[loc, inf)`` for ``xi >= 0`` and ``[loc, loc - scale / xi]`` for
    ``xi < 0``. ``xi = 0`` gives the exponential distribution, ``xi = -1`` the uniform one;
    samples are ``icdf(u)`` of uniform noise, so ``rsample`` is differentiable.

    Parameters
    ----------
    loc : float or Tensor
        The location (lower end of the support).
    scale : float or Tensor
        The scale, positive.
    concentration : float or Tensor
        The shape ``xi`` (tail index), any real number.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``scale <= 0`` somewhere, a parameter is NaN, or a value is
        outside the support.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import GeneralizedPareto
    >>> d = GeneralizedPareto(0.0, 1.0, flambeau.tensor([-0.5, 0.0, 0.5]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0, 1.0]))
    tensor([-0.6931, -1.0000, -1.2164])
    >>> d.cdf(flambeau.tensor([1.0, 1.0, 1.0]))
    tensor([0.7500, 0.6321, 0.5556])
    >>> d.mean, d.variance
    (tensor([0.6667, 1.0000, 2.0000]), tensor([0.2222, 1.0000,    nan]))
    >>> d.support
    Interval(lower_bound=tensor([0., 0., 0.]), upper_bound=tensor([2., inf, inf]))
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((4,)).shape
    flambeau.Size([4, 3])
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(
            self, GeneralizedPareto, batch_shape, _instance, ("loc", "scale", "concentration")
        )

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        xi = self.concentration
        upper = flambeau.where(xi < 0, self.loc - self.scale / xi, math.inf)
        return constraints.interval(self.loc, upper)

    def _z(self, value):
        return (value - self.loc) / self.scale

    @property
    def mean(self):
        xi = self.concentration
        valid = xi < 1
        safe = flambeau.where(valid, xi, 0.5)
        return flambeau.where(valid, self.loc + self.scale / (1 - safe), float("nan"))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        xi = self.concentration
        valid = xi < 0.5
        safe = flambeau.where(valid, xi, 0.25)
        var = self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe))
        return flambeau.where(valid, var, float("nan"))

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with flambeau.no_grad():
            u = flambeau.rand(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        xi = self.concentration
        z = self._z(value)
        # -(1 + 1/xi) log1p(xi z); at the upper end of the uniform xi = -1 this is 0 * inf:
        # the limit 0 there (with a stand-in z, so that no NaN reaches the gradients)
        end = (xi == -1) & (z >= 1)
        tail = (1 + xi) * _log1p_over(xi, flambeau.where(end, 0.0, z))
        return -self.scale.log() - flambeau.where(end, 0.0, tail)

    def log_survival_function(self, value):
        """``log(1 - cdf(value))``, without the cancellation of computing it that way.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import GeneralizedPareto
        >>> GeneralizedPareto(0.0, 1.0, 0.0).log_survival_function(flambeau.tensor(3.0))
        tensor(-3.)
        """
        if self._validate_args:
            self._validate_sample(value)
        return -_log1p_over(self.concentration, self._z(value))

    def log_cdf(self, value):
        """``log(cdf(value))``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import GeneralizedPareto
        >>> GeneralizedPareto(0.0, 1.0, -1.0).log_cdf(flambeau.tensor(0.5))
        tensor(-0.6931)
        """
        return flambeau.log(-flambeau.expm1(self.log_survival_function(value)))

    def cdf(self, value):
        return -flambeau.expm1(self.log_survival_function(value))

    def icdf(self, value):
        # x = loc + scale ((1 - u)^(-xi) - 1) / xi = loc + scale expm1(-xi log1p(-u)) / xi
        return self.loc + self.scale * _expm1_over(self.concentration, -flambeau.log1p(-value))

    def entropy(self):
        h = self.scale.log() + self.concentration + 1
        return h.expand(self._batch_shape)

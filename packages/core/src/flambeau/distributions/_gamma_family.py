"""Distributions built on gamma variates: Gamma, Chi2, StudentT, Dirichlet, Beta.

Their ``rsample`` differentiates through the gamma sampler with the implicit
reparameterization gradient of :mod:`flambeau.distributions._gamma`.
"""

from __future__ import annotations

import math
from numbers import Number

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._gamma import _standard_gamma
from flambeau.distributions._utils import (
    _expand_params,
    _standard_normal,
    broadcast_all,
)

__all__ = ["Gamma", "Chi2", "StudentT", "Dirichlet", "Beta"]


def _clamp_tiny(x, low=None, high=None):
    """``x`` clamped into ``[low, high]`` (``low`` defaults to the dtype's smallest normal)
    with the gradient of ``x`` itself (the clamp only guards against underflow)."""
    low = flambeau.finfo(x.dtype).tiny if low is None else low
    return x + (x.detach().clamp(min=low, max=high) - x.detach())


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate``
    (density ``rate^a x^(a-1) exp(-rate x) / Gamma(a)`` on ``x >= 0``).

    Parameters
    ----------
    concentration : float or Tensor
        The shape ``a``, positive.
    rate : float or Tensor
        The rate (inverse scale), positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a parameter is not positive, or a value is negative.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Gamma
    >>> d = Gamma(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 0.5]))
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([-1.0000, -1.6931])
    >>> d.mean, d.variance
    (tensor([1., 4.]), tensor([1., 8.]))
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((2,)).shape
    flambeau.Size([2, 2])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = flambeau.Size([])
        else:
            batch_shape = self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return _clamp_tiny(value)

    def log_prob(self, value):
        value = flambeau.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (
            flambeau.xlogy(self.concentration, self.rate)
            + flambeau.xlogy(self.concentration - 1, value)
            - self.rate * value
            - flambeau.lgamma(self.concentration)
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return flambeau.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - flambeau.log(self.rate) + flambeau.lgamma(c) + (1.0 - c) * flambeau.digamma(c)

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return flambeau.lgamma(x + 1) + (x + 1) * flambeau.log(-y.reciprocal())


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom, ``Gamma(df / 2, 1 / 2)``.

    Parameters
    ----------
    df : float or Tensor
        The degrees of freedom, positive.
    validate_args : bool, optional
        Check the parameter and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``df <= 0`` somewhere, or a value is negative.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Chi2
    >>> d = Chi2(flambeau.tensor([1.0, 4.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0]))
    tensor([-1.4189, -1.8863])
    >>> d.df, d.mean
    (tensor([1., 4.]), tensor([1., 4.]))
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        """The degrees of freedom, ``2 * concentration``."""
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, location ``loc`` and scale
    ``scale``.

    Parameters
    ----------
    df : float or Tensor
        The degrees of freedom, positive.
    loc : float or Tensor, optional
        The location (default 0).
    scale : float or Tensor, optional
        The scale, positive (default 1).
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a parameter is outside its constraint, or a value is NaN.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import StudentT
    >>> d = StudentT(flambeau.tensor([1.0, 3.0]))
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-1.1447, -1.5763])
    >>> d.mean, d.variance
    (tensor([nan, 0.]), tensor([nan, 3.]))
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, StudentT, batch_shape, _instance, ("df", "loc", "scale"))
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        return flambeau.where(self.df <= 1, float("nan"), self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        safe = flambeau.where(df > 2, df, 3.0)
        m = self.scale.pow(2) * safe / (safe - 2)
        m = flambeau.where(df > 2, m, float("inf"))
        return flambeau.where(df <= 1, float("nan"), m)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _standard_normal(shape, self.df.dtype, self.df.device)
        z = self._chi2.rsample(sample_shape)
        y = x * flambeau.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + flambeau.lgamma(0.5 * self.df)
            - flambeau.lgamma(0.5 * (self.df + 1.0))
        )
        return -0.5 * (self.df + 1.0) * flambeau.log1p(y**2.0 / self.df) - z

    def entropy(self):
        df = self.df
        lbeta = flambeau.lgamma(0.5 * df) + math.lgamma(0.5) - flambeau.lgamma(0.5 * (df + 1))
        return (
            self.scale.log()
            + 0.5 * (df + 1) * (flambeau.digamma(0.5 * (df + 1)) - flambeau.digamma(0.5 * df))
            + 0.5 * df.log()
            + lbeta
        )


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution on the probability simplex, with the concentration vector
    along the last dim.

    Parameters
    ----------
    concentration : Tensor
        Positive concentrations, at least one-dimensional (``batch_shape + (K,)``).
    validate_args : bool, optional
        Check the parameter and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``concentration`` is 0-d, or (``validate_args``) not positive, or a value is not
        on the simplex.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Dirichlet
    >>> d = Dirichlet(flambeau.tensor([1.0, 2.0, 3.0]))
    >>> d.log_prob(flambeau.tensor([0.2, 0.3, 0.5]))
    tensor(1.5041)
    >>> d.mean
    tensor([0.1667, 0.3333, 0.5000])
    >>> _ = flambeau.manual_seed(0)
    >>> s = d.sample((4,))
    >>> s.shape, bool(((s.sum(-1) - 1).abs() < 1e-6).all())
    (flambeau.Size([4, 3]), True)
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(
            self, Dirichlet, batch_shape, _instance, ("concentration",), param_event_dims=1
        )

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        gammas = _standard_gamma(self.concentration.expand(shape))
        x = gammas / gammas.sum(-1, keepdim=True)
        return _clamp_tiny(x, high=1 - flambeau.finfo(x.dtype).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (
            flambeau.xlogy(c - 1.0, value).sum(-1)
            + flambeau.lgamma(c.sum(-1))
            - flambeau.lgamma(c).sum(-1)
        )

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        # every concentration below one: the density is unbounded at every vertex; torch
        # reports the first one, and so do we
        all_below = (c < 1).all(-1, keepdim=True)
        vertex = (flambeau.arange(c.shape[-1], device=c.device) == 0).to(c.dtype)
        return flambeau.where(all_below, vertex, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (
            flambeau.lgamma(c).sum(-1)
            - flambeau.lgamma(a0)
            - (k - a0) * flambeau.digamma(a0)
            - ((c - 1.0) * flambeau.digamma(c)).sum(-1)
        )

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return flambeau.lgamma(x).sum(-1) - flambeau.lgamma(x.sum(-1))


class Beta(ExponentialFamily):
    """The beta distribution on ``[0, 1]`` with concentrations ``concentration1`` (alpha) and
    ``concentration0`` (beta).

    Parameters
    ----------
    concentration1 : float or Tensor
        The first concentration (alpha), positive.
    concentration0 : float or Tensor
        The second concentration (beta), positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a concentration is not positive, or a value is outside
        ``[0, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Beta
    >>> d = Beta(flambeau.tensor([2.0, 0.5]), flambeau.tensor([3.0, 0.5]))
    >>> d.log_prob(flambeau.tensor([0.5, 0.25]))
    tensor([ 0.4055, -0.3077])
    >>> d.mean
    tensor([0.4000, 0.5000])
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            c1c0 = flambeau.tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            c1c0 = flambeau.stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(c1c0, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = flambeau.Size(tuple(batch_shape))
        new._dirichlet = self._dirichlet.expand(batch_shape)
        super(Beta, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = flambeau.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        """The first concentration (alpha)."""
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        """The second concentration (beta)."""
        return self._dirichlet.concentration[..., 1]

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return flambeau.lgamma(x) + flambeau.lgamma(y) - flambeau.lgamma(x + y)

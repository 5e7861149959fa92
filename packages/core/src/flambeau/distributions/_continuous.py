"""Location-scale and rate distributions: Exponential, Laplace, Cauchy."""

from __future__ import annotations

import math
from numbers import Number

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._utils import _expand_params, broadcast_all

__all__ = ["Exponential", "Laplace", "Cauchy"]


def _batch_shape(params, tensors):
    if all(isinstance(p, Number) for p in params):
        return flambeau.Size([])
    return tensors[0].shape


def _uniform(shape, like, low=0.0, high=1.0):
    u = flambeau.rand(*shape, dtype=like.dtype, device=like.device)
    return u if (low, high) == (0.0, 1.0) else low + u * (high - low)


class Exponential(ExponentialFamily):
    """The exponential distribution with rate ``rate`` (density ``rate * exp(-rate * x)`` on
    ``x >= 0``).

    Parameters
    ----------
    rate : float or Tensor
        The rate, positive (the mean is ``1 / rate``).
    validate_args : bool, optional
        Check the parameter and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``rate <= 0`` somewhere, or a value is negative.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Exponential
    >>> d = Exponential(flambeau.tensor([0.5, 2.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0]))
    tensor([-1.1931, -1.3069])
    >>> d.mean, d.icdf(flambeau.tensor([0.5, 0.5]))
    (tensor([2.0000, 0.5000]), tensor([1.3863, 0.3466]))
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = flambeau.Size([]) if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Exponential, batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return flambeau.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with flambeau.no_grad():
            # rand is in [0, 1): -log1p(-u) is finite
            e = -flambeau.log1p(-_uniform(shape, self.rate))
        return e / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - flambeau.exp(-self.rate * value)

    def icdf(self, value):
        return -flambeau.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - flambeau.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -flambeau.log(-x)


class Laplace(Distribution):
    """The Laplace (double exponential) distribution with location ``loc`` and scale
    ``scale``.

    Parameters
    ----------
    loc : float or Tensor
        The location (mean, median and mode).
    scale : float or Tensor
        The scale, positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``scale <= 0`` somewhere, or a value is NaN.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Laplace
    >>> d = Laplace(0.0, flambeau.tensor([1.0, 2.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0]))
    tensor([-1.6931, -1.8863])
    >>> d.cdf(flambeau.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8161])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape((loc, scale), (self.loc,)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return 2**0.5 * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = flambeau.finfo(self.loc.dtype).eps
        with flambeau.no_grad():
            u = _uniform(shape, self.loc, eps - 1, 1.0)
            e = -u.sign() * flambeau.log1p(-u.abs())
        return self.loc + self.scale * e

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -flambeau.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * flambeau.expm1(-d.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * flambeau.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + flambeau.log(2 * self.scale)


class Cauchy(Distribution):
    """The Cauchy (Lorentz) distribution with location ``loc`` and scale ``scale``; it has no
    mean (NaN) and an infinite variance.

    Parameters
    ----------
    loc : float or Tensor
        The location (median and mode).
    scale : float or Tensor
        The half width at half maximum, positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``scale <= 0`` somewhere, or a value is NaN.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Cauchy
    >>> d = Cauchy(flambeau.tensor([0.0]), flambeau.tensor([1.0]))
    >>> d.log_prob(flambeau.tensor([1.0]))
    tensor([-1.8379])
    >>> d.icdf(flambeau.tensor([0.75])), d.mean
    (tensor([1.]), tensor([nan]))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape((loc, scale), (self.loc,)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Cauchy, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return flambeau.full(
            tuple(self._extended_shape()),
            float("nan"),
            dtype=self.loc.dtype,
            device=self.loc.device,
        )

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return flambeau.full(
            tuple(self._extended_shape()),
            float("inf"),
            dtype=self.loc.dtype,
            device=self.loc.device,
        )

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with flambeau.no_grad():
            eps = flambeau.tan(math.pi * (_uniform(shape, self.loc) - 0.5))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (
            -math.log(math.pi)
            - self.scale.log()
            - flambeau.log1p(((value - self.loc) / self.scale) ** 2)
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return flambeau.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return flambeau.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

"""The normal (Gaussian) distribution."""

from __future__ import annotations

import math
from numbers import Number

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import ExponentialFamily
from flambeau.distributions._utils import _expand_params, _standard_normal, broadcast_all

__all__ = ["Normal"]


class Normal(ExponentialFamily):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``.

    Parameters
    ----------
    loc : float or Tensor
        The mean.
    scale : float or Tensor
        The standard deviation (positive).
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob` (see
        :class:`Distribution`).

    Raises
    ------
    ValueError
        If ``validate_args`` and a parameter is outside its constraint, or a value given to
        :meth:`log_prob` is not a real number.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Normal
    >>> d = Normal(flambeau.tensor([0.0, 1.0]), flambeau.tensor([1.0, 2.0]))
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-0.9189, -1.6121])
    >>> d.cdf(flambeau.tensor([0.0, 1.0]))
    tensor([0.5000, 0.5000])
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = flambeau.Size([])
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Normal, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with flambeau.no_grad():
            eps = _standard_normal(shape, self.loc.dtype, self.loc.device)
            return self.loc.expand(shape) + eps * self.scale.expand(shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype, self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        log_scale = math.log(self.scale) if isinstance(self.scale, Number) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - 0.5 * math.log(2 * math.pi)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + flambeau.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * flambeau.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + flambeau.log(self.scale)

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * flambeau.log(-math.pi / y)

"""The continuous uniform distribution."""

from __future__ import annotations

from numbers import Number

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import _expand_params, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """The uniform distribution on the half-open interval ``[low, high)``.

    Parameters
    ----------
    low : float or Tensor
        The lower end (inclusive).
    high : float or Tensor
        The upper end (exclusive); must exceed ``low``.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``low >= high`` somewhere, or a value given to
        :meth:`log_prob` lies outside ``[low, high]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Uniform
    >>> d = Uniform(flambeau.tensor([0.0, 1.0]), flambeau.tensor([2.0, 5.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([-0.6931, -1.3863])
    >>> d.mean, d.variance
    (tensor([1., 3.]), tensor([0.3333, 1.3333]))
    >>> _ = flambeau.manual_seed(0)
    >>> s = d.sample((1000,))
    >>> bool(((s >= d.low) & (s < d.high)).all())
    True
    """

    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if isinstance(low, Number) and isinstance(high, Number):
            batch_shape = flambeau.Size([])
        else:
            batch_shape = self.low.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Uniform, batch_shape, _instance, ("low", "high"))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return float("nan") * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = flambeau.rand(*shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        return flambeau.log(lb * ub) - flambeau.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        result = (value - self.low) / (self.high - self.low)
        return result.clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return flambeau.log(self.high - self.low)

"""Counting distributions: Poisson, Binomial, Geometric, NegativeBinomial, Multinomial."""

from __future__ import annotations

from numbers import Number

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._bernoulli import (
    _bce_with_logits,
    _BinaryProbs,
    _expand_binary,
    _probs_or_logits,
    _set_binary_param,
)
from flambeau.distributions._categorical import Categorical
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._gamma_family import Gamma
from flambeau.distributions._utils import (
    _expand_params,
    broadcast_all,
    lazy_property,
)

__all__ = ["Poisson", "Binomial", "Geometric", "NegativeBinomial", "Multinomial"]


def _logsigmoid(x):
    return -flambeau.logaddexp(flambeau.zeros_like(x), -x)


class Poisson(ExponentialFamily):
    """The Poisson distribution with rate ``rate``: ``P(k) = rate^k exp(-rate) / k!``.

    Parameters
    ----------
    rate : float or Tensor
        The rate (mean), non-negative.
    validate_args : bool, optional
        Check the parameter and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``rate < 0`` somewhere, or a value is not a non-negative
        integer.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Poisson
    >>> d = Poisson(flambeau.tensor([1.0, 4.0]))
    >>> d.log_prob(flambeau.tensor([0.0, 2.0]))
    tensor([-1.0000, -1.9206])
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = flambeau.Size([]) if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Poisson, batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with flambeau.no_grad():
            return flambeau.poisson(self.rate.expand(shape).contiguous())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return flambeau.xlogy(value, rate) - rate - flambeau.lgamma(value + 1)

    @property
    def _natural_params(self):
        return (flambeau.log(self.rate),)

    def _log_normalizer(self, x):
        return flambeau.exp(x)


def _set_count_and_param(d, total_count, probs, logits):
    """Binomial and NegativeBinomial: ``total_count`` broadcast with probs or logits."""
    _probs_or_logits(probs, logits)
    name, value = ("probs", probs) if probs is not None else ("logits", logits)
    count, param = broadcast_all(total_count, value)
    d.total_count = count.to(param.dtype)
    setattr(d, name, param)
    d._param = param


def _expand_count_and_param(d, cls, batch_shape, instance):
    return _expand_binary(d, cls, batch_shape, instance, extra=("total_count",))


class Binomial(_BinaryProbs, Distribution):
    """The binomial distribution: the number of successes in ``total_count`` independent
    trials of success probability ``probs`` (or log-odds ``logits``; give exactly one).

    Parameters
    ----------
    total_count : int or Tensor, optional
        The number of trials (default 1), a non-negative integer.
    probs : float or Tensor, optional
        The success probability, in ``[0, 1]``.
    logits : float or Tensor, optional
        The log-odds of success.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If both or neither of ``probs`` and ``logits`` are given, or (``validate_args``) a
        parameter or a value is outside its constraint.
    NotImplementedError
        From :meth:`entropy` and :meth:`enumerate_support` when the counts differ across the
        batch.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Binomial
    >>> d = Binomial(4, flambeau.tensor([0.5, 0.25]))
    >>> d.log_prob(flambeau.tensor([2.0, 0.0]))
    tensor([-0.9808, -1.1507])
    >>> d.mean, d.variance
    (tensor([2., 1.]), tensor([1.0000, 0.7500]))
    >>> d.enumerate_support(expand=False).flatten()
    tensor([0., 1., 2., 3., 4.])
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _set_count_and_param(self, total_count, probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_count_and_param(self, Binomial, batch_shape, _instance)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def param_shape(self):
        """The shape of the parameter tensor."""
        return self._param.shape

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with flambeau.no_grad():
            return flambeau.binomial(
                self.total_count.expand(shape).contiguous(), self.probs.expand(shape).contiguous()
            )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_factorial_n = flambeau.lgamma(n + 1)
        log_factorial_k = flambeau.lgamma(value + 1)
        log_factorial_nmk = flambeau.lgamma(n - value + 1)
        logits = self.logits
        # n * log1p(exp(logits)), stable for large |logits|
        normalize = n * flambeau.logaddexp(flambeau.zeros_like(logits), logits) - log_factorial_n
        # value * logits with 0 * inf = 0 (probs of 0 or 1)
        vl = flambeau.where(value == 0, 0.0, value * logits)
        return vl - log_factorial_k - log_factorial_nmk - normalize

    def _homogeneous_count(self, what):
        total = int(self.total_count.max())
        if not bool(self.total_count.min() == total):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(flambeau.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total = self._homogeneous_count("enumerate_support")
        values = flambeau.arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Geometric(_BinaryProbs, Distribution):
    """The geometric distribution: the number of failures before the first success in
    Bernoulli trials of success probability ``probs`` (or log-odds ``logits``).

    Parameters
    ----------
    probs : float or Tensor, optional
        The success probability, in ``(0, 1]``.
    logits : float or Tensor, optional
        The log-odds of success.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If both or neither of ``probs`` and ``logits`` are given, or (``validate_args``) a
        probability is 0 or outside ``[0, 1]``, or a value is not a non-negative integer.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Geometric
    >>> d = Geometric(flambeau.tensor([0.5, 0.25]))
    >>> d.log_prob(flambeau.tensor([0.0, 2.0]))
    tensor([-0.6931, -1.9617])
    >>> d.mean
    tensor([1., 3.])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _set_binary_param(self, probs, logits)
        super().__init__(param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to be positive but found "
                    f"invalid values:\n{value.detach()[~valid]}"
                )

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Geometric, batch_shape, _instance, ("probs", "logits"))

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return flambeau.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        tiny = flambeau.finfo(self.probs.dtype).tiny
        with flambeau.no_grad():
            u = flambeau.rand(*shape, dtype=self.probs.dtype, device=self.probs.device)
            u = u * (1 - tiny) + tiny  # in [tiny, 1): log(u) is finite
            return (u.log() / flambeau.log1p(-self.probs)).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # P(0) = 1 when probs == 1 (avoid 0 * log(0))
        probs = flambeau.where((probs == 1) & (value == 0), 0.0, probs)
        return value * flambeau.log1p(-probs) + self.probs.log()

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs


class NegativeBinomial(_BinaryProbs, Distribution):
    """The negative binomial distribution: the number of successes before ``total_count``
    failures, in Bernoulli trials of success probability ``probs`` (or ``logits``).

    Parameters
    ----------
    total_count : float or Tensor
        The number of failures to stop at, non-negative (need not be an integer).
    probs : float or Tensor, optional
        The success probability, in ``[0, 1)``.
    logits : float or Tensor, optional
        The log-odds of success.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If both or neither of ``probs`` and ``logits`` are given, or (``validate_args``) a
        parameter or a value is outside its constraint.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import NegativeBinomial
    >>> d = NegativeBinomial(3.0, flambeau.tensor([0.5, 0.25]))
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([-1.6740, -1.8439])
    >>> d.mean
    tensor([3., 1.])
    """

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _set_count_and_param(self, total_count, probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_count_and_param(self, NegativeBinomial, batch_shape, _instance)

    @property
    def param_shape(self):
        """The shape of the parameter tensor."""
        return self._param.shape

    @property
    def mean(self):
        return self.total_count * flambeau.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / flambeau.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        # the Poisson rate of a gamma-Poisson mixture
        return Gamma(
            concentration=self.total_count, rate=flambeau.exp(-self.logits), validate_args=False
        )

    def sample(self, sample_shape=()):
        with flambeau.no_grad():
            rate = self._gamma.sample(sample_shape)
            return flambeau.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_unnormalized = n * _logsigmoid(-self.logits) + value * _logsigmoid(self.logits)
        log_normalization = (
            -flambeau.lgamma(n + value) + flambeau.lgamma(1.0 + value) + flambeau.lgamma(n)
        )
        # total_count + value == 0 is the certain outcome 0 of a zero-count distribution
        log_normalization = log_normalization.masked_fill(n + value == 0.0, 0.0)
        return log_unnormalized - log_normalization


class Multinomial(Distribution):
    """The multinomial distribution: counts of each of ``K`` categories in ``total_count``
    independent draws from ``Categorical(probs)`` (or ``logits``).

    Parameters
    ----------
    total_count : int, optional
        The number of draws (default 1), one Python int for the whole batch.
    probs : Tensor, optional
        Non-negative event weights along the last dim (normalized).
    logits : Tensor, optional
        Unnormalized event log-weights along the last dim.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    NotImplementedError
        If ``total_count`` is not an int.
    ValueError
        As :class:`Categorical`; and (``validate_args``) for values that are not count
        vectors summing to at most ``total_count``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Multinomial
    >>> d = Multinomial(4, flambeau.tensor([0.25, 0.25, 0.5]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0, 2.0]))
    tensor(-1.6740)
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((2,)).sum(-1)
    tensor([4., 4.])
    """

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = flambeau.Size(tuple(batch_shape))
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = self._binomial.expand(tuple(batch_shape) + tuple(self.event_shape))
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        """Normalized probabilities."""
        return self._categorical.probs

    @property
    def logits(self):
        """Normalized log-probabilities."""
        return self._categorical.logits

    @property
    def param_shape(self):
        """The shape of the parameter tensor."""
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape)
        with flambeau.no_grad():
            # one categorical draw per trial, along a leading dim, then counted
            draws = self._categorical.sample((self.total_count,) + sample_shape)
            draws = draws.movedim(0, -1)
            counts = flambeau.zeros(
                tuple(self._extended_shape(sample_shape)), dtype=flambeau.int64, device=draws.device
            )
            counts = counts.scatter_add(-1, draws, flambeau.ones_like(draws))
            return counts.to(self.probs.dtype)

    def entropy(self):
        n = flambeau.tensor(
            float(self.total_count), dtype=self.probs.dtype, device=self.probs.device
        )
        cat_entropy = self._categorical.entropy()
        term1 = n * cat_entropy - flambeau.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = flambeau.exp(self._binomial.log_prob(support))
        weights = flambeau.lgamma(support + 1)
        term2 = (binomial_probs * weights).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = flambeau.lgamma(value.sum(-1) + 1)
        log_factorial_xs = flambeau.lgamma(value + 1).sum(-1)
        # 0 * -inf = 0: a category of probability 0 drawn 0 times
        logits = flambeau.where((value == 0) & (logits == float("-inf")), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

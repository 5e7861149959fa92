"""The Bernoulli distribution."""

from __future__ import annotations

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import ExponentialFamily
from flambeau.distributions._utils import (
    _expand_params,
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)

__all__ = ["Bernoulli"]


def _bce_with_logits(logits, target):
    """Elementwise ``-(target log sigmoid(l) + (1 - target) log sigmoid(-l))``, stable."""
    # logaddexp(0, l) = softplus(l): stable, and smooth at 0 (no kink of abs / clamp)
    return flambeau.logaddexp(flambeau.zeros_like(logits), logits) - logits * target


def _probs_or_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _set_binary_param(d, probs, logits):
    """Store whichever of ``probs`` / ``logits`` is given on ``d`` (as a tensor, also as
    ``d._param``) and return it; the other is derived lazily."""
    _probs_or_logits(probs, logits)
    name, value = ("probs", probs) if probs is not None else ("logits", logits)
    (param,) = broadcast_all(value)
    setattr(d, name, param)
    d._param = param
    return param


def _expand_binary(d, cls, batch_shape, instance, extra=()):
    """``Distribution.expand`` of a distribution holding ``probs`` or ``logits`` (and the
    batch-shaped parameters ``extra``), keeping ``_param``."""
    new = _expand_params(d, cls, batch_shape, instance, (*extra, "probs", "logits"))
    new._param = new.__dict__["logits"] if "logits" in d.__dict__ else new.probs
    return new


class _BinaryProbs:
    """``probs`` and ``logits`` of one success probability, each derived from the other on
    first use (Bernoulli, Binomial, Geometric, NegativeBinomial)."""

    @lazy_property
    def logits(self):
        """The log-odds of success, ``log(p) - log1p(-p)`` (``p`` clamped into ``(0, 1)``)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """The success probability, ``sigmoid(logits)``."""
        return logits_to_probs(self.logits, is_binary=True)


class Bernoulli(_BinaryProbs, ExponentialFamily):
    """The Bernoulli distribution: 1 with probability ``probs``, else 0.

    Give exactly one of ``probs`` and ``logits`` (log-odds); the other is derived on first use.

    Parameters
    ----------
    probs : float or Tensor, optional
        The probability of 1, in ``[0, 1]``.
    logits : float or Tensor, optional
        The log-odds of 1.
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
    >>> from flambeau.distributions import Bernoulli
    >>> d = Bernoulli(probs=flambeau.tensor([0.25, 0.5]))
    >>> d.log_prob(flambeau.tensor([1.0, 0.0]))
    tensor([-1.3863, -0.6931])
    >>> d.logits
    tensor([-1.0986,  0.0000])
    >>> d.enumerate_support()
    tensor([[0., 0.],
            [1., 1.]])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _set_binary_param(self, probs, logits)
        super().__init__(param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_binary(self, Bernoulli, batch_shape, _instance)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return flambeau.where(self.probs == 0.5, float("nan"), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @property
    def param_shape(self):
        """The shape of the parameter tensor."""
        return self._param.shape

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with flambeau.no_grad():
            return flambeau.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        values = flambeau.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return (flambeau.logit(self.probs),)

    def _log_normalizer(self, x):
        return flambeau.log1p(flambeau.exp(x))

"""Continuous relaxations of Bernoulli and one-hot categorical variables (Concrete / Gumbel-
softmax; Maddison et al., 2017; Jang et al., 2017).

A relaxed sample is a deterministic, differentiable function of logistic (Bernoulli) or Gumbel
(categorical) noise, sharpened by a ``temperature``: towards hard 0/1 (one-hot) samples as
the temperature goes to zero. The ``Logit``/``Exp`` variants live in logit (log) space, where
their densities are simple; the public distributions map them back with a sigmoid (exp).
"""

from __future__ import annotations

import math
from numbers import Number

import flambeau
from flambeau._tensor import Tensor
from flambeau.distributions import constraints
from flambeau.distributions._bernoulli import _BinaryProbs, _expand_binary, _set_binary_param
from flambeau.distributions._categorical import Categorical
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._transformed import TransformedDistribution
from flambeau.distributions._utils import broadcast_all, clamp_probs, probs_to_logits
from flambeau.distributions.transforms import ExpTransform, SigmoidTransform, _softplus

__all__ = [
    "LogitRelaxedBernoulli",
    "RelaxedBernoulli",
    "ExpRelaxedCategorical",
    "RelaxedOneHotCategorical",
]


def _set_temperature(d, temperature, like):
    """``d.temperature`` as a tensor of ``like``'s dtype and device; a bad one is an error
    naming ``d``'s class (its sign is checked with the other parameters)."""
    if isinstance(temperature, Tensor):
        d.temperature = temperature
    elif isinstance(temperature, Number):
        d.temperature = flambeau.tensor(float(temperature), dtype=like.dtype, device=like.device)
    else:
        raise TypeError(
            f"{type(d).__name__}: temperature must be a Tensor or a number, got "
            f"{type(temperature).__name__}"
        )


def _check_temperature(d):
    # not in arg_constraints (as in torch, whose reprs and constraint tables list only
    # probs / logits), so checked here, after Distribution.__init__ settled _validate_args
    t = d.temperature
    if d._validate_args and not bool((t > 0).all()):
        raise ValueError(
            f"{type(d).__name__}: temperature must be positive, got a tensor of "
            f"shape {tuple(t.shape)} with invalid values:\n{t}"
        )


def _uniform_noise(shape, like):
    """Uniform draws in ``[eps, 1 - eps]``: their logit and log-log stay finite."""
    with flambeau.no_grad():
        return clamp_probs(flambeau.rand(*shape, dtype=like.dtype, device=like.device))


class _RelaxedParams:
    """The parameters of a relaxed distribution, read from its logit- (log-) space base
    distribution ``base_dist``."""

    @property
    def temperature(self):
        """The relaxation temperature.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import RelaxedBernoulli
        >>> RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor(0.3)).temperature
        tensor(0.5000)
        """
        return self.base_dist.temperature

    @property
    def logits(self):
        """The log-odds of the underlying Bernoulli variable (:class:`RelaxedBernoulli`), or
        the normalized log-probabilities of the underlying categorical variable
        (:class:`RelaxedOneHotCategorical`).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import RelaxedBernoulli, RelaxedOneHotCategorical
        >>> RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor(0.5)).logits
        tensor(0.)
        >>> RelaxedOneHotCategorical(0.5, probs=flambeau.tensor([1.0, 1.0])).logits
        tensor([-0.6931, -0.6931])
        """
        return self.base_dist.logits

    @property
    def probs(self):
        """The probability of 1 of the underlying Bernoulli variable
        (:class:`RelaxedBernoulli`), or the normalized probabilities of the underlying
        categorical variable (:class:`RelaxedOneHotCategorical`).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import RelaxedBernoulli, RelaxedOneHotCategorical
        >>> RelaxedBernoulli(flambeau.tensor(0.5), logits=flambeau.tensor(0.0)).probs
        tensor(0.5000)
        >>> RelaxedOneHotCategorical(0.5, logits=flambeau.zeros(2)).probs
        tensor([0.5000, 0.5000])
        """
        return self.base_dist.probs


class LogitRelaxedBernoulli(_BinaryProbs, Distribution):
    """The logit of a :class:`RelaxedBernoulli` variable: ``(logits + L) / temperature`` with
    ``L`` standard logistic noise (a binary Concrete variable in logit space).

    Give exactly one of ``probs`` and ``logits``.

    Parameters
    ----------
    temperature : Tensor or float
        The relaxation temperature, positive.
    probs : float or Tensor, optional
        The probability of 1 of the underlying Bernoulli variable.
    logits : float or Tensor, optional
        Its log-odds.
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
    >>> from flambeau.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
    >>> d = LogitRelaxedBernoulli(flambeau.tensor(0.5), logits=flambeau.tensor([0.0, 1.0]))
    >>> d.log_prob(flambeau.tensor([0.0, 2.0]))
    tensor([-2.0794, -2.0794])
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        param = _set_binary_param(self, probs, logits)
        _set_temperature(self, temperature, param)
        super().__init__(param.shape, validate_args=validate_args)
        _check_temperature(self)

    def expand(self, batch_shape, _instance=None):
        new = _expand_binary(self, LogitRelaxedBernoulli, batch_shape, _instance)
        new.temperature = self.temperature
        return new

    @property
    def param_shape(self):
        """The shape of the parameter tensor.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
        >>> LogitRelaxedBernoulli(1.0, probs=flambeau.tensor([0.5, 0.5])).param_shape
        flambeau.Size([2])
        """
        return self._param.shape

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        u = _uniform_noise(shape, self._param)
        logistic = probs_to_logits(u, is_binary=True)
        return (self.logits + logistic) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * _softplus(diff)


class RelaxedBernoulli(_RelaxedParams, TransformedDistribution):
    """A relaxed Bernoulli (binary Concrete) distribution on ``(0, 1)``:
    ``sigmoid((logits + L) / temperature)`` with ``L`` standard logistic noise.

    Samples are differentiable w.r.t. ``probs`` / ``logits`` and ``temperature``
    (``rsample``) and approach Bernoulli samples as the temperature goes to zero. Give
    exactly one of ``probs`` and ``logits``.

    Parameters
    ----------
    temperature : Tensor or float
        The relaxation temperature, positive.
    probs : float or Tensor, optional
        The probability of 1 of the underlying Bernoulli variable.
    logits : float or Tensor, optional
        Its log-odds.
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
    >>> from flambeau.distributions import RelaxedBernoulli
    >>> d = RelaxedBernoulli(flambeau.tensor(0.5), probs=flambeau.tensor([0.25, 0.5]))
    >>> d.log_prob(flambeau.tensor([0.25, 0.5]))
    tensor([-0.4800, -0.6931])
    >>> _ = flambeau.manual_seed(0)
    >>> probs = flambeau.tensor([0.3, 0.9], requires_grad=True)
    >>> x = RelaxedBernoulli(flambeau.tensor(0.1), probs=probs).rsample((4,))
    >>> x.shape, x.requires_grad
    (flambeau.Size([4, 2]), True)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)


class ExpRelaxedCategorical(Distribution):
    """The log of a :class:`RelaxedOneHotCategorical` variable: ``log_softmax((logits + G) /
    temperature)`` with ``G`` i.i.d. standard Gumbel noise (a Concrete variable in log
    space). Its values are real vectors whose ``exp`` sums to one.

    Give exactly one of ``probs`` and ``logits`` (of shape ``batch_shape + (K,)``).

    Parameters
    ----------
    temperature : Tensor or float
        The relaxation temperature, positive.
    probs : Tensor, optional
        Non-negative event weights of the underlying categorical variable.
    logits : Tensor, optional
        Its unnormalized log-probabilities.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        As :class:`Categorical`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.relaxed_categorical import ExpRelaxedCategorical
    >>> d = ExpRelaxedCategorical(flambeau.tensor(1.0), probs=flambeau.tensor([0.5, 0.5]))
    >>> d.log_prob(flambeau.tensor([-0.5, -0.9741]))
    tensor(-1.4420)
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).exp().sum(-1)
    tensor([1., 1., 1.])
    """

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        _set_temperature(self, temperature, self._categorical._param)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        _check_temperature(self)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = flambeau.Size(tuple(batch_shape))
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        """The shape of the parameter tensor (``batch_shape + (K,)``).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.relaxed_categorical import ExpRelaxedCategorical
        >>> ExpRelaxedCategorical(1.0, logits=flambeau.zeros(2, 3)).param_shape
        flambeau.Size([2, 3])
        """
        return self._categorical.param_shape

    @property
    def logits(self):
        """Normalized log-probabilities of the underlying categorical variable.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.relaxed_categorical import ExpRelaxedCategorical
        >>> ExpRelaxedCategorical(1.0, probs=flambeau.tensor([1.0, 1.0])).logits
        tensor([-0.6931, -0.6931])
        """
        return self._categorical.logits

    @property
    def probs(self):
        """Normalized probabilities of the underlying categorical variable.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.relaxed_categorical import ExpRelaxedCategorical
        >>> ExpRelaxedCategorical(1.0, probs=flambeau.tensor([1.0, 3.0])).probs
        tensor([0.2500, 0.7500])
        """
        return self._categorical.probs

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        u = _uniform_noise(shape, self.logits)
        gumbel = -(-u.log()).log()
        scores = (self.logits + gumbel) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self._categorical._num_events
        logits, value = broadcast_all(self.logits, value)
        score = logits - value * self.temperature
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + (math.lgamma(k) + (k - 1) * self.temperature.log())


class RelaxedOneHotCategorical(_RelaxedParams, TransformedDistribution):
    """A relaxed one-hot categorical (Concrete, Gumbel-softmax) distribution on the simplex:
    ``softmax((logits + G) / temperature)`` with ``G`` i.i.d. standard Gumbel noise.

    Samples are differentiable w.r.t. ``probs`` / ``logits`` and ``temperature``
    (``rsample``) and approach one-hot vectors as the temperature goes to zero. Give exactly
    one of ``probs`` and ``logits`` (of shape ``batch_shape + (K,)``).

    Parameters
    ----------
    temperature : Tensor or float
        The relaxation temperature, positive.
    probs : Tensor, optional
        Non-negative event weights of the underlying categorical variable.
    logits : Tensor, optional
        Its unnormalized log-probabilities.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If both or neither of ``probs`` and ``logits`` are given, the parameter is 0-d, or
        (``validate_args``) a parameter or a value is outside its constraint.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import RelaxedOneHotCategorical
    >>> d = RelaxedOneHotCategorical(flambeau.tensor(0.5), probs=flambeau.tensor([0.2, 0.8]))
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([]), flambeau.Size([2]))
    >>> d.log_prob(flambeau.tensor([0.25, 0.75]))
    tensor(-0.5757)
    >>> _ = flambeau.manual_seed(0)
    >>> x = d.rsample((3,))
    >>> x.shape, bool(((x.sum(-1) - 1).abs() < 1e-6).all())
    (flambeau.Size([3, 2]), True)
    """

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)

"""Categorical distributions: Categorical, OneHotCategorical and its straight-through
variant."""

from __future__ import annotations

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._bernoulli import _probs_or_logits
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import (
    _expand_params,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)

__all__ = ["Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough"]


def _one_hot(indices, num_classes, dtype):
    classes = flambeau.arange(num_classes, device=indices.device)
    return (indices.unsqueeze(-1) == classes).to(dtype)


class Categorical(Distribution):
    """The categorical distribution over ``{0, ..., K - 1}``, with the ``K`` probabilities (or
    logits) along the last dim of the parameter.

    ``probs`` need not sum to one (they are normalized), ``logits`` are unnormalized
    log-probabilities (normalized by ``logsumexp``). Give exactly one of them.

    Parameters
    ----------
    probs : Tensor, optional
        Non-negative event weights, at least one-dimensional.
    logits : Tensor, optional
        Unnormalized event log-weights, at least one-dimensional.
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
    >>> from flambeau.distributions import Categorical
    >>> d = Categorical(probs=flambeau.tensor([1.0, 1.0, 2.0]))
    >>> d.probs
    tensor([0.2500, 0.2500, 0.5000])
    >>> d.log_prob(flambeau.tensor([0, 2]))
    tensor([-1.3863, -0.6931])
    >>> d.entropy()
    tensor(1.0397)
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((2, 3)).shape
    flambeau.Size([2, 3])
    """

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _probs_or_logits(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else flambeau.Size([])
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(
            self, Categorical, batch_shape, _instance, ("probs", "logits"), param_event_dims=1
        )
        new._param = new.__dict__["logits"] if "logits" in self.__dict__ else new.probs
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        """Normalized log-probabilities (``log(probs)``, clamped away from ``-inf``)."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """Normalized probabilities (``softmax(logits)``)."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        """The shape of the parameter tensor (``batch_shape + (K,)``)."""
        return self._param.shape

    @property
    def mean(self):
        return flambeau.full(
            tuple(self._extended_shape()),
            float("nan"),
            dtype=self.probs.dtype,
            device=self.probs.device,
        )

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return flambeau.full(
            tuple(self._extended_shape()),
            float("nan"),
            dtype=self.probs.dtype,
            device=self.probs.device,
        )

    def sample(self, sample_shape=()):
        sample_shape = flambeau.Size(tuple(sample_shape))
        with flambeau.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            n = sample_shape.numel()
            if n == 0 or probs_2d.shape[0] == 0:
                return flambeau.zeros(
                    tuple(self._extended_shape(sample_shape)),
                    dtype=flambeau.int64,
                    device=self.probs.device,
                )
            samples_2d = flambeau.multinomial(probs_2d, n, True).T
            return samples_2d.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = flambeau.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = flambeau.finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = flambeau.arange(self._num_events, dtype=flambeau.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class OneHotCategorical(Distribution):
    """The categorical distribution with one-hot samples: vectors of length ``K`` with a single
    1 (see :class:`Categorical` for the parameters).

    Raises
    ------
    ValueError
        As :class:`Categorical`; and (``validate_args``) for values that are not one-hot.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import OneHotCategorical
    >>> d = OneHotCategorical(probs=flambeau.tensor([0.25, 0.75]))
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor(-0.2877)
    >>> d.enumerate_support()
    tensor([[1., 0.],
            [0., 1.]])
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((3,)).sum(-1)
    tensor([1., 1., 1.])
    """

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = flambeau.Size(tuple(batch_shape))
        new._categorical = self._categorical.expand(batch_shape)
        super(OneHotCategorical, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

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
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return _one_hot(probs.argmax(-1), probs.shape[-1], probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        """The shape of the parameter tensor (``batch_shape + (K,)``)."""
        return self._categorical.param_shape

    def sample(self, sample_shape=()):
        probs = self._categorical.probs
        indices = self._categorical.sample(sample_shape)
        return _one_hot(indices, self._categorical._num_events, probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        values = flambeau.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """:class:`OneHotCategorical` with a straight-through gradient estimator:
    :meth:`rsample` returns one-hot samples whose gradient is that of ``probs`` (Bengio et
    al., 2013).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import OneHotCategoricalStraightThrough
    >>> logits = flambeau.tensor([0.0, 1.0], requires_grad=True)
    >>> d = OneHotCategoricalStraightThrough(logits=logits)
    >>> _ = flambeau.manual_seed(0)
    >>> s = d.rsample()
    >>> s.sum().item(), s.requires_grad
    (1.0, True)
    """

    has_rsample = True

    def rsample(self, sample_shape=()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())

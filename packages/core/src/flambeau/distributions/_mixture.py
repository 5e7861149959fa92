"""MixtureSameFamily: a finite mixture whose components are one batched distribution."""

from __future__ import annotations

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._categorical import Categorical
from flambeau.distributions._distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A mixture of ``k`` components of one family: the rightmost batch dim of
    ``component_distribution`` (of size ``k``) indexes the components, and
    ``mixture_distribution`` (a :class:`Categorical` over ``k`` categories) holds their
    weights.

    ``log_prob(x) = logsumexp_i(log w_i + log p_i(x))``; ``mean`` and ``variance`` follow from
    the components' (law of total variance); ``cdf`` is the weighted sum of the components'
    (univariate components). There is no ``rsample``.

    Parameters
    ----------
    mixture_distribution : Categorical
        The component weights, of batch shape broadcastable to ``batch_shape``.
    component_distribution : Distribution
        The components, of batch shape ``batch_shape + (k,)``.
    validate_args : bool, optional
        Whether to validate the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``mixture_distribution`` is not a :class:`Categorical`, ``component_distribution``
        is not a :class:`Distribution` or has no batch dim, their batch shapes are not
        compatible, or their numbers of components differ.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Categorical, MixtureSameFamily, Normal
    >>> mix = Categorical(probs=flambeau.tensor([0.25, 0.75]))
    >>> comp = Normal(flambeau.tensor([-1.0, 1.0]), flambeau.tensor([1.0, 0.5]))
    >>> d = MixtureSameFamily(mix, comp)
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([]), flambeau.Size([]))
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-1.9556, -0.4912])
    >>> d.mean, d.variance
    (tensor(0.5000), tensor(1.1875))
    >>> d.cdf(flambeau.tensor(0.0))
    tensor(0.2274)
    >>> _ = flambeau.manual_seed(0)
    >>> d.sample((2, 3)).shape
    flambeau.Size([2, 3])
    """

    arg_constraints: dict = {}

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        name = type(self).__name__
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                f"{name}: The Mixture distribution needs to be an instance of "
                f"flambeau.distributions.Categorical, got "
                f"{type(mixture_distribution).__name__}"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                f"{name}: The Component distribution needs to be an instance of "
                f"flambeau.distributions.Distribution, got "
                f"{type(component_distribution).__name__}"
            )
        cdbs = tuple(component_distribution.batch_shape)
        if not cdbs:
            raise ValueError(
                f"{name}: `component_distribution.batch_shape` must have at least "
                "one dimension, the mixture components, but it is "
                f"{flambeau.Size(cdbs)}"
            )
        mdbs = tuple(mixture_distribution.batch_shape)
        batch_shape = cdbs[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(batch_shape)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(
                    f"{name}: `mixture_distribution.batch_shape` "
                    f"({flambeau.Size(mdbs)}) is not compatible with "
                    f"`component_distribution.batch_shape`"
                    f"({flambeau.Size(batch_shape)})"
                )
        km = mixture_distribution.param_shape[-1]
        kc = cdbs[-1]
        if km != kc:
            raise ValueError(
                f"{name}: `mixture_distribution component` ({km}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({kc})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        super().__init__(
            batch_shape, component_distribution.event_shape, validate_args=validate_args
        )

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        batch_shape = flambeau.Size(tuple(batch_shape))
        num_components = self._component_distribution.batch_shape[-1]
        new._component_distribution = self._component_distribution.expand(
            tuple(batch_shape) + (num_components,)
        )
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self):
        """The :class:`Categorical` distribution of the component weights.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Categorical, MixtureSameFamily, Normal
        >>> d = MixtureSameFamily(Categorical(flambeau.ones(2)),
        ...                       Normal(flambeau.zeros(2), 1.0))
        >>> d.mixture_distribution.probs
        tensor([0.5000, 0.5000])
        """
        return self._mixture_distribution

    @property
    def component_distribution(self):
        """The batched distribution of the components (rightmost batch dim: components).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Categorical, MixtureSameFamily, Normal
        >>> d = MixtureSameFamily(Categorical(flambeau.ones(2)),
        ...                       Normal(flambeau.zeros(2), 1.0))
        >>> d.component_distribution.batch_shape
        flambeau.Size([2])
        """
        return self._component_distribution

    @property
    def _event_ndims(self):
        return len(self._event_shape)

    def _pad(self, x):
        """``x`` with a component dim inserted left of its event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _weights(self):
        """The mixture probabilities, shaped to broadcast against the components'
        ``batch_shape + (k,) + event_shape`` moments."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self):
        comp_dim = -1 - self._event_ndims
        return (self._weights() * self._component_distribution.mean).sum(comp_dim)

    @property
    def variance(self):
        # law of total variance: E[Var(Y | X)] + Var(E[Y | X])
        comp_dim = -1 - self._event_ndims
        w = self._weights()
        comp = self._component_distribution
        mean_of_var = (w * comp.variance).sum(comp_dim)
        var_of_mean = (w * (comp.mean - self._pad(self.mean)).pow(2)).sum(comp_dim)
        return mean_of_var + var_of_mean

    def cdf(self, value):
        cdf = self._component_distribution.cdf(self._pad(value))
        return (cdf * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self._component_distribution.log_prob(self._pad(value))
        log_weights = flambeau.log_softmax(self._mixture_distribution.logits, dim=-1)
        return flambeau.logsumexp(log_prob + log_weights, dim=-1)

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape)
        batch_shape = tuple(self._batch_shape)
        event_shape = tuple(self._event_shape)
        with flambeau.no_grad():
            which = self._mixture_distribution.sample(sample_shape)  # sample + mixture batch
            comp = self._component_distribution.sample(sample_shape)  # sample + batch, k, event
            # the mixture's batch shape may be a broadcastable suffix of ours: line it up
            lead = len(batch_shape) - len(self._mixture_distribution.batch_shape)
            which = which.reshape(
                sample_shape + (1,) * lead + tuple(which.shape[len(sample_shape) :])
            )
            which = which.expand(sample_shape + batch_shape)
            index = which.reshape(tuple(which.shape) + (1,) * (1 + len(event_shape)))
            index = index.expand(sample_shape + batch_shape + (1,) + event_shape)
            gather_dim = len(sample_shape) + len(batch_shape)
            return comp.gather(gather_dim, index).squeeze(gather_dim)

    def __repr__(self):
        return (
            f"{type(self).__name__}(\n  {self._mixture_distribution},\n  "
            f"{self._component_distribution})"
        )

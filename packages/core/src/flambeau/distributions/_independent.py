"""Independent: reinterpret batch dims of a distribution as event dims."""

from __future__ import annotations

from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import _sum_rightmost
from flambeau.distributions.kl import kl_divergence, register_kl

__all__ = ["Independent"]


class Independent(Distribution):
    """Reinterpret the ``reinterpreted_batch_ndims`` rightmost batch dims of a distribution as
    event dims: ``log_prob`` and ``entropy`` sum over them.

    Useful to turn a batch of univariate distributions into one multivariate distribution
    with a diagonal structure (e.g. ``Independent(Normal(loc, scale), 1)`` has the
    ``log_prob`` of a ``MultivariateNormal`` with diagonal covariance).

    Parameters
    ----------
    base_distribution : Distribution
        The distribution to reinterpret.
    reinterpreted_batch_ndims : int
        How many rightmost batch dims become event dims.
    validate_args : bool, optional
        Whether to validate the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``reinterpreted_batch_ndims`` exceeds the base distribution's batch dims.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Independent, Normal
    >>> d = Independent(Normal(flambeau.zeros(3, 2), flambeau.ones(3, 2)), 1)
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([3]), flambeau.Size([2]))
    >>> d.log_prob(flambeau.zeros(3, 2))
    tensor([-1.8379, -1.8379, -1.8379])
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        if reinterpreted_batch_ndims > len(base_distribution.batch_shape):
            raise ValueError(
                "Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {reinterpreted_batch_ndims} vs {len(base_distribution.batch_shape)}"
            )
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = reinterpreted_batch_ndims + len(base_distribution.event_shape)
        cut = len(shape) - event_dim
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Independent, _instance)
        batch_shape = tuple(batch_shape)
        moved = tuple(self.event_shape[: self.reinterpreted_batch_ndims])
        new.base_dist = self.base_dist.expand(batch_shape + moved)
        new.reinterpreted_batch_ndims = self.reinterpreted_batch_ndims
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self):
        if self.reinterpreted_batch_ndims > 0:
            return False
        return self.base_dist.has_enumerate_support

    @constraints.dependent_property
    def support(self):
        result = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            result = constraints.independent(result, self.reinterpreted_batch_ndims)
        return result

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand=True):
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_dist}, {self.reinterpreted_batch_ndims})"


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)

"""TransformedDistribution and the distributions built on it from a simpler base."""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._independent import Independent
from flambeau.distributions._utils import _sum_rightmost, broadcast_all
from flambeau.distributions.kl import kl_divergence, register_kl
from flambeau.distributions.transforms import (
    AbsTransform,
    ComposeTransform,
    ExpTransform,
    StickBreakingTransform,
    Transform,
)

__all__ = [
    "TransformedDistribution",
    "LogNormal",
    "HalfNormal",
    "LogisticNormal",
    "HalfCauchy",
    "Gumbel",
    "Weibull",
    "Pareto",
]


class TransformedDistribution(Distribution):
    r"""The distribution of ``y = f(x)`` for ``x ~ base_distribution`` and ``f`` the
    composition of ``transforms`` (applied first to last).

    ``log_prob(y) = base.log_prob(f^{-1}(y)) - log |det df/dx|``, so every transform must
    be bijective (or at least invertible on the support) with a
    ``log_abs_det_jacobian``. ``cdf``/``icdf`` work for monotone univariate transforms.

    Parameters
    ----------
    base_distribution : Distribution
        The distribution of ``x``.
    transforms : Transform or list of Transform
        The maps applied to ``x``.
    validate_args : bool, optional
        Whether to validate the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``transforms`` is not a Transform or a list of Transforms, or the base
        distribution has fewer dims than the transforms' domain needs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Normal, TransformedDistribution
    >>> from flambeau.distributions.transforms import AffineTransform, ExpTransform
    >>> d = TransformedDistribution(Normal(0.0, 1.0), [AffineTransform(1.0, 2.0),
    ...                                                ExpTransform()])
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([-1.7371, -2.3170])
    >>> d.sample((3,)).shape
    flambeau.Size([3])
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            self.transforms = transforms
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")

        base_shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(
                "base_distribution needs to have shape with size at least "
                f"{transform.domain.event_dim}, but got "
                f"{flambeau.Size(base_shape)}."
            )
        forward_shape = tuple(transform.forward_shape(base_shape))
        expanded_base_shape = tuple(transform.inverse_shape(forward_shape))
        if base_shape != expanded_base_shape:
            # a transform's parameters broadcast the base up: expand the base to match
            base_batch_shape = expanded_base_shape[: len(expanded_base_shape) - base_event_dim]
            base_distribution = base_distribution.expand(base_batch_shape)
        reinterpreted_batch_ndims = transform.domain.event_dim - base_event_dim
        if reinterpreted_batch_ndims > 0:
            base_distribution = Independent(base_distribution, reinterpreted_batch_ndims)
        self.base_dist = base_distribution

        event_dim = max(
            transform.codomain.event_dim,
            base_event_dim + transform.codomain.event_dim - transform.domain.event_dim,
        )
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(TransformedDistribution, _instance)
        batch_shape = tuple(batch_shape)
        shape = batch_shape + tuple(self.event_shape)
        for t in reversed(self.transforms):
            shape = tuple(t.inverse_shape(shape))
        base_batch_shape = shape[: len(shape) - len(self.base_dist.event_shape)]
        new.base_dist = self.base_dist.expand(base_batch_shape)
        new.transforms = self.transforms
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False)
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) - support.event_dim)
        return support

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def sample(self, sample_shape=()):
        with flambeau.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self.event_shape)
        log_prob = 0.0
        y = value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(
                t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim
            )
            y = x
        return log_prob + _sum_rightmost(
            self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape)
        )

    def _monotonize_cdf(self, value):
        # a decreasing map turns the base's cdf into a survival function: flip it
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        for t in self.transforms[::-1]:
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        value = self.base_dist.cdf(value)
        return self._monotonize_cdf(value)

    def icdf(self, value):
        value = self._monotonize_cdf(value)
        value = self.base_dist.icdf(value)
        for t in self.transforms:
            value = t(value)
        return value


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms:
        raise NotImplementedError
    if p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


def _normal():
    from flambeau.distributions._normal import Normal

    return Normal


class LogNormal(TransformedDistribution):
    r"""The distribution of ``exp(x)`` for ``x ~ Normal(loc, scale)``.

    Parameters
    ----------
    loc : float or Tensor
        Mean of the log of the variable.
    scale : float or Tensor
        Standard deviation of the log of the variable (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import LogNormal
    >>> d = LogNormal(0.0, 1.0)
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([-0.9189, -1.8523])
    >>> d.mean
    tensor(1.6487)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = _normal()(loc, scale, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        scale2 = self.scale.pow(2)
        return scale2.expm1() * (2 * self.loc + scale2).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc


class HalfNormal(TransformedDistribution):
    r"""The distribution of ``|x|`` for ``x ~ Normal(0, scale)``.

    Parameters
    ----------
    scale : float or Tensor
        Scale of the underlying normal (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import HalfNormal
    >>> d = HalfNormal(1.0)
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-0.2258, -0.7258])
    >>> d.cdf(flambeau.tensor(1.0))
    tensor(0.6827)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = _normal()(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return flambeau.zeros_like(self.scale)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return flambeau.where(value >= 0, log_prob, flambeau.full_like(log_prob, -math.inf))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class LogisticNormal(TransformedDistribution):
    r"""The distribution on the simplex of ``StickBreakingTransform()(x)`` for
    ``x ~ Normal(loc, scale)`` (a vector of ``K - 1`` independent normals gives a point of
    the ``K``-simplex).

    Parameters
    ----------
    loc : float or Tensor
        Means of the underlying normals (last dim: ``K - 1``).
    scale : float or Tensor
        Their standard deviations (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import LogisticNormal
    >>> d = LogisticNormal(flambeau.zeros(2), flambeau.ones(2))
    >>> d.event_shape
    flambeau.Size([3])
    >>> d.log_prob(flambeau.tensor([0.2, 0.3, 0.5]))
    tensor(1.2980)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = _normal()(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale


_EULER = 0.57721566490153286060


class HalfCauchy(TransformedDistribution):
    r"""The distribution of ``|x|`` for ``x ~ Cauchy(0, scale)``.

    Parameters
    ----------
    scale : float or Tensor
        Scale of the underlying Cauchy distribution (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import HalfCauchy
    >>> d = HalfCauchy(1.0)
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-0.4516, -1.1447])
    >>> d.mean
    tensor(inf)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        from flambeau.distributions._continuous import Cauchy

        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return flambeau.full(
            self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device
        )

    @property
    def mode(self):
        return flambeau.zeros_like(self.scale)

    @property
    def variance(self):
        return flambeau.full(
            self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device
        )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = flambeau.as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return flambeau.where(value >= 0, log_prob, flambeau.full_like(log_prob, -math.inf))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class Gumbel(TransformedDistribution):
    r"""The Gumbel (type-I extreme value) distribution,
    ``p(x) = exp(-(z + exp(-z))) / scale`` with ``z = (x - loc) / scale``.

    Built as ``loc - scale * log(-log(u))`` for ``u ~ Uniform(tiny, 1 - eps)``.

    Parameters
    ----------
    loc : float or Tensor
        Location.
    scale : float or Tensor
        Scale (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Gumbel
    >>> d = Gumbel(0.0, 1.0)
    >>> d.log_prob(flambeau.tensor([0.0, 1.0]))
    tensor([-1.0000, -1.3679])
    >>> d.mean
    tensor(0.5772)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        from flambeau.distributions import transforms as T
        from flambeau.distributions._uniform import Uniform

        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = flambeau.finfo(self.loc.dtype)
        base_dist = Uniform(
            flambeau.full_like(self.loc, finfo.tiny),
            flambeau.full_like(self.loc, 1 - finfo.eps),
            validate_args=validate_args,
        )
        transforms = [
            T.ExpTransform().inv,
            T.AffineTransform(0, -flambeau.ones_like(self.scale)),
            T.ExpTransform().inv,
            T.AffineTransform(self.loc, -self.scale),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gumbel, _instance)
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    # the closed form is exact where the chain of transforms loses precision in the tails
    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self):
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + _EULER)


class Weibull(TransformedDistribution):
    r"""The two-parameter Weibull distribution,
    ``p(x) = (k / scale) (x / scale)^(k-1) exp(-(x / scale)^k)`` for ``k = concentration``.

    Built as ``scale * e^(1/k)`` for ``e ~ Exponential(1)``.

    Parameters
    ----------
    scale : float or Tensor
        Scale (positive).
    concentration : float or Tensor
        Shape ``k`` (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Weibull
    >>> d = Weibull(1.0, 2.0)
    >>> d.log_prob(flambeau.tensor([0.5, 1.0]))
    tensor([-0.2500, -0.3069])
    >>> d.mean
    tensor(0.8862)
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        from flambeau.distributions import transforms as T
        from flambeau.distributions._continuous import Exponential

        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(flambeau.ones_like(self.scale), validate_args=validate_args)
        transforms = [
            T.PowerTransform(exponent=self.concentration_reciprocal),
            T.AffineTransform(loc=0, scale=self.scale),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        from flambeau.distributions import transforms as T

        new = self._get_checked_instance(Weibull, _instance)
        batch_shape = tuple(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        transforms = [
            T.PowerTransform(exponent=new.concentration_reciprocal),
            T.AffineTransform(loc=0, scale=new.scale),
        ]
        TransformedDistribution.__init__(new, base_dist, transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * flambeau.exp(flambeau.lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self):
        return self.scale * ((self.concentration - 1) / self.concentration).pow(
            self.concentration.reciprocal()
        )

    @property
    def variance(self):
        cr = self.concentration_reciprocal
        return self.scale.pow(2) * (
            flambeau.exp(flambeau.lgamma(1 + 2 * cr)) - flambeau.exp(2 * flambeau.lgamma(1 + cr))
        )

    def entropy(self):
        cr = self.concentration_reciprocal
        return _EULER * (1 - cr) + flambeau.log(self.scale * cr) + 1


class Pareto(TransformedDistribution):
    r"""The Pareto type-I distribution, ``p(x) = alpha scale^alpha / x^(alpha + 1)`` for
    ``x >= scale``.

    Built as ``scale * exp(e)`` for ``e ~ Exponential(alpha)``.

    Parameters
    ----------
    scale : float or Tensor
        The minimum value (positive).
    alpha : float or Tensor
        The tail index (positive).
    validate_args : bool, optional
        Whether to validate the parameters and the values given to :meth:`log_prob`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Pareto
    >>> d = Pareto(1.0, 3.0)
    >>> d.log_prob(flambeau.tensor([1.0, 2.0]))
    tensor([ 1.0986, -1.6740])
    >>> d.mean
    tensor(1.5000)
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        from flambeau.distributions import transforms as T
        from flambeau.distributions._continuous import Exponential

        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [T.ExpTransform(), T.AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        new.scale = self.scale.expand(tuple(batch_shape))
        new.alpha = self.alpha.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        # infinite for alpha <= 1: clamping makes a / (a - 1) = 1 / 0
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

"""Distributions of functions of gamma variates: InverseGamma and FisherSnedecor.

Both sample through :class:`Gamma`'s ``rsample``, so their samples are differentiable w.r.t.
the parameters (implicit reparameterization of the gamma sampler).
"""

from __future__ import annotations

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._gamma_family import Gamma, _clamp_tiny
from flambeau.distributions._transformed import TransformedDistribution
from flambeau.distributions._utils import _expand_params, broadcast_all
from flambeau.distributions.transforms import PowerTransform

__all__ = ["InverseGamma", "FisherSnedecor"]


class InverseGamma(TransformedDistribution):
    """The inverse gamma distribution: ``1 / x`` for ``x ~ Gamma(concentration, rate)``,
    density ``rate^a y^(-a-1) exp(-rate / y) / Gamma(a)`` on ``y > 0``.

    Parameters
    ----------
    concentration : float or Tensor
        The shape ``a``, positive.
    rate : float or Tensor
        The scale of ``y`` (the rate of ``1 / y``), positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a parameter is not positive, or a value is not positive.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import InverseGamma
    >>> d = InverseGamma(flambeau.tensor([1.5, 3.0]), flambeau.tensor([2.0, 3.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0]))
    tensor([-0.8395, -0.3973])
    >>> d.mean, d.mode, d.variance
    (tensor([4.0000, 1.5000]), tensor([0.8000, 0.7500]), tensor([   inf, 2.2500]))
    >>> d.cdf(flambeau.tensor([1.0, 1.0]))
    tensor([0.2615, 0.4232])
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = -flambeau.ones((), dtype=base_dist.rate.dtype, device=base_dist.rate.device)
        super().__init__(base_dist, PowerTransform(minus_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        """The shape ``a``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import InverseGamma
        >>> InverseGamma(flambeau.tensor(2.0), flambeau.tensor(1.0)).concentration
        tensor(2.)
        """
        return self.base_dist.concentration

    @property
    def rate(self):
        """The rate of ``1 / y`` (the scale of ``y``).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import InverseGamma
        >>> InverseGamma(flambeau.tensor(2.0), flambeau.tensor(1.0)).rate
        tensor(1.)
        """
        return self.base_dist.rate

    @property
    def mean(self):
        a = self.concentration
        safe = flambeau.where(a > 1, a, 2.0)
        return flambeau.where(a > 1, self.rate / (safe - 1), float("inf"))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        a = self.concentration
        safe = flambeau.where(a > 2, a, 3.0)
        var = self.rate.pow(2) / ((safe - 1).pow(2) * (safe - 2))
        return flambeau.where(a > 2, var, float("inf"))

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + flambeau.lgamma(a) - (1 + a) * flambeau.digamma(a)


class FisherSnedecor(Distribution):
    """The Fisher-Snedecor (F) distribution with ``df1`` and ``df2`` degrees of freedom: the
    law of ``(X1 / df1) / (X2 / df2)`` for independent chi-squared ``X1``, ``X2``.

    Parameters
    ----------
    df1 : float or Tensor
        The numerator's degrees of freedom, positive.
    df2 : float or Tensor
        The denominator's degrees of freedom, positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a parameter is not positive, or a value is not positive.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import FisherSnedecor
    >>> d = FisherSnedecor(flambeau.tensor([3.0, 5.0]), flambeau.tensor([3.0, 10.0]))
    >>> d.log_prob(flambeau.tensor([1.0, 1.0]))
    tensor([-1.1447, -0.7022])
    >>> d.mean, d.mode, d.variance
    (tensor([3.0000, 1.2500]), tensor([0.2000, 0.5000]), tensor([   nan, 1.3542]))
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        # X / df for X ~ chi2(df) is Gamma(df / 2, df / 2)
        self._gamma1 = Gamma(0.5 * self.df1, 0.5 * self.df1, validate_args=False)
        self._gamma2 = Gamma(0.5 * self.df2, 0.5 * self.df2, validate_args=False)
        super().__init__(self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, FisherSnedecor, batch_shape, _instance, ("df1", "df2"))
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        return new

    @property
    def mean(self):
        d2 = self.df2
        safe = flambeau.where(d2 > 2, d2, 3.0)
        return flambeau.where(d2 > 2, safe / (safe - 2), float("nan"))

    @property
    def mode(self):
        d1, d2 = self.df1, self.df2
        safe = flambeau.where(d1 > 2, d1, 3.0)
        return flambeau.where(d1 > 2, (safe - 2) / safe * d2 / (d2 + 2), float("nan"))

    @property
    def variance(self):
        d1, d2 = self.df1, self.df2
        safe = flambeau.where(d2 > 4, d2, 5.0)
        var = 2 * safe.pow(2) * (d1 + safe - 2) / (d1 * (safe - 2).pow(2) * (safe - 4))
        return flambeau.where(d2 > 4, var, float("nan"))

    def rsample(self, sample_shape=()):
        x1 = self._gamma1.rsample(sample_shape)
        x2 = self._gamma2.rsample(sample_shape)
        return _clamp_tiny(x1 / x2)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        h1, h2 = 0.5 * self.df1, 0.5 * self.df2
        ratio = self.df1 / self.df2
        log_norm = flambeau.lgamma(h1 + h2) - flambeau.lgamma(h1) - flambeau.lgamma(h2)
        return (
            log_norm
            + h1 * ratio.log()
            + (h1 - 1) * flambeau.log(value)
            - (h1 + h2) * flambeau.log1p(ratio * value)
        )

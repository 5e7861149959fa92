"""The Kumaraswamy distribution, as a transformed uniform variable."""

from __future__ import annotations

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._transformed import TransformedDistribution
from flambeau.distributions._uniform import Uniform
from flambeau.distributions._utils import broadcast_all
from flambeau.distributions.transforms import AffineTransform, PowerTransform

__all__ = ["Kumaraswamy"]

_EULER = 0.57721566490153286060


def _raw_moment(a, b, n):
    """``E[X^n] = b B(1 + n / a, b)`` of Kumaraswamy(a, b)."""
    s = 1.0 + n / a
    return flambeau.exp(b.log() + flambeau.lgamma(s) + flambeau.lgamma(b) - flambeau.lgamma(s + b))


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution on ``[0, 1]``, density ``a b x^(a-1) (1 - x^a)^(b-1)``
    with ``a = concentration1`` and ``b = concentration0``: a Beta look-alike whose CDF,
    ``1 - (1 - x^a)^b``, inverts in closed form.

    Built as ``(1 - u^(1/b))^(1/a)`` for ``u ~ Uniform(0, 1)``, so ``rsample`` is
    differentiable w.r.t. both concentrations.

    Parameters
    ----------
    concentration1 : float or Tensor
        The first concentration ``a``, positive.
    concentration0 : float or Tensor
        The second concentration ``b``, positive.
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and a concentration is not positive, or a value is outside
        ``[0, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Kumaraswamy
    >>> d = Kumaraswamy(flambeau.tensor([2.0, 0.5]), flambeau.tensor([3.0, 2.0]))
    >>> d.log_prob(flambeau.tensor([0.5, 0.5]))
    tensor([ 0.5232, -0.8814])
    >>> d.mean, d.mode
    (tensor([0.4571, 0.1667]), tensor([0.4472,    nan]))
    >>> d.cdf(flambeau.tensor([0.5, 0.5]))
    tensor([0.5781, 0.9142])
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((3,)).shape
    flambeau.Size([3, 2])
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(
            flambeau.zeros_like(self.concentration0),
            flambeau.ones_like(self.concentration0),
            validate_args=validate_args,
        )
        transforms = [
            PowerTransform(exponent=self.concentration0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    # the closed form: one expression instead of inverting three transforms and summing
    # their Jacobians
    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (
            a.log()
            + b.log()
            + (a - 1) * flambeau.log(value)
            + (b - 1) * flambeau.log1p(-value.pow(a))
        )

    @property
    def mean(self):
        return _raw_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # ((a - 1) / (a b - 1))^(1 / a); undefined (NaN) where a < 1 or b < 1, where the
        # density is unbounded at an end of the interval, and for the uniform a = b = 1
        a, b = self.concentration1, self.concentration0
        undefined = (a < 1) | (b < 1)
        safe_a = flambeau.where(undefined, 2.0, a)
        safe_b = flambeau.where(undefined, 2.0, b)
        log_mode = ((safe_a - 1).log() - (safe_a * safe_b - 1).log()) / safe_a
        return flambeau.where(undefined, float("nan"), log_mode.exp())

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        return _raw_moment(a, b, 2) - _raw_moment(a, b, 1).pow(2)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        harmonic_b = flambeau.digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic_b - a.log() - b.log()

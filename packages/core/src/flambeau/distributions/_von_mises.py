"""The von Mises distribution on the circle."""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._utils import _expand_params, broadcast_all

__all__ = ["VonMises"]


def _proposal_r(kappa):
    """Best and Fisher's ``r = (1 + rho^2) / (2 rho)`` with
    ``rho = (tau - sqrt(2 tau)) / (2 kappa)`` and ``tau = 1 + sqrt(1 + 4 kappa^2)``.

    ``tau - sqrt(2 tau)`` cancels for small ``kappa``; rationalized twice it is
    ``tau (tau - 2) / (tau + sqrt(2 tau))`` with ``tau - 2 = 4 kappa^2 / (s + 1)``,
    ``s = sqrt(1 + 4 kappa^2)``, which stays accurate down to the smallest ``kappa``.
    """
    s = (1 + 4 * kappa.pow(2)).sqrt()
    tau = 1 + s
    rho = 2 * kappa * tau / ((s + 1) * (tau + (2 * tau).sqrt()))
    return 0.5 / rho + 0.5 * rho


def _rejection_sample(loc, kappa, r, shape):
    """Angles of ``shape`` in ``[-pi, pi)`` by Best and Fisher's (1979) wrapped-Cauchy
    rejection sampler (float64 tensors ``loc``, ``kappa``, ``r``)."""
    theta = flambeau.zeros(shape, dtype=flambeau.float64, device=loc.device)
    done = flambeau.zeros(shape, dtype=flambeau.bool, device=loc.device)
    # every round redraws the whole array and keeps the first acceptance of each element;
    # the acceptance rate is above 65% for every kappa, so a few rounds
    while not bool(done.all()):
        u = flambeau.rand((3,) + tuple(shape), dtype=flambeau.float64, device=loc.device)
        u1, u2, u3 = u[0], u[1], u[2]
        z = flambeau.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        take = accept & ~done
        theta = flambeau.where(take, (u3 - 0.5).sign() * f.clamp(-1.0, 1.0).acos(), theta)
        done = done | accept
    return flambeau.remainder(theta + loc + math.pi, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises (circular normal) distribution, density
    ``exp(concentration * cos(x - loc)) / (2 pi I0(concentration))``.

    Angles are in radians; ``loc`` and the values given to :meth:`log_prob` may be any
    real numbers (they are read modulo ``2 pi``), samples are in ``[-pi, pi)``. ``mean`` and
    ``variance`` are the circular ones: ``loc`` and ``1 - I1(k) / I0(k)``. Samples come from
    Best and Fisher's rejection sampler (in float64); there is no ``rsample``.

    Parameters
    ----------
    loc : float or Tensor
        The mean angle.
    concentration : float or Tensor
        The concentration ``k``, positive (``1 / k`` plays the role of a variance).
    validate_args : bool, optional
        Check the parameters and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``validate_args`` and ``concentration <= 0`` somewhere, or a parameter or value is
        NaN.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import VonMises
    >>> d = VonMises(flambeau.tensor([0.0, 1.0]), flambeau.tensor([0.5, 4.0]))
    >>> d.log_prob(flambeau.tensor([0.0, 0.0]))
    tensor([-1.3994, -2.1016])
    >>> d.mean, d.variance
    (tensor([0., 1.]), tensor([0.7575, 0.1365]))
    >>> _ = flambeau.manual_seed(0)
    >>> x = d.sample((5,))
    >>> x.shape, bool(((x >= -3.1416) & (x < 3.1416)).all())
    (flambeau.Size([5, 2]), True)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, VonMises, batch_shape, _instance, ("loc", "concentration"))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        k = self.concentration
        return 1 - flambeau.special.i1e(k) / flambeau.special.i0e(k)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        # log I0(k) = log i0e(k) + k: k cancels against k cos(...) before anything rounds
        return (
            k * (flambeau.cos(value - self.loc) - 1)
            - math.log(2 * math.pi)
            - flambeau.special.i0e(k).log()
        )

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with flambeau.no_grad():
            # float64 throughout: in float32, c / u2 and r + z lose the small-kappa regime
            loc = self.loc.detach().to(flambeau.float64)
            kappa = self.concentration.detach().to(flambeau.float64)
            # the rejection loop never ends for these (reachable with validate_args=False)
            bad = flambeau.isnan(kappa) | (kappa <= 0)
            if bool(bad.any()):
                raise ValueError(
                    f"VonMises.sample: concentration (shape "
                    f"{tuple(kappa.shape)}) must be positive, found invalid "
                    f"values:\n{self.concentration.detach()[bad]}"
                )
            # an infinite concentration is a point mass at loc; the sampler needs a finite one
            point = flambeau.isinf(kappa)
            kappa = flambeau.where(point, 1.0, kappa)
            x = _rejection_sample(loc, kappa, _proposal_r(kappa), shape)
            x = flambeau.where(point, flambeau.remainder(loc + math.pi, 2 * math.pi) - math.pi, x)
            return x.to(self.loc.dtype)

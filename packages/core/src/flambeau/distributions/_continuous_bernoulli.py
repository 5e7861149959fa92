"""The continuous Bernoulli distribution (Loaiza-Ganem and Cunningham, 2019)."""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._bernoulli import (
    _bce_with_logits,
    _expand_binary,
    _set_binary_param,
)
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._utils import (
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli distribution on ``[0, 1]``: density
    ``C(p) p^x (1 - p)^(1 - x)`` with the normalizing constant
    ``C(p) = 2 atanh(1 - 2p) / (1 - 2p)`` (``C(1/2) = 2``).

    Give exactly one of ``probs`` (``p``) and ``logits``. Near ``p = 1/2`` the closed forms
    cancel catastrophically, so inside ``lims`` the normalizer, mean and variance use their
    Taylor expansions and ``cdf``/``icdf`` those of the uniform distribution.

    Parameters
    ----------
    probs : float or Tensor, optional
        The shape parameter ``p`` in ``[0, 1]`` (clamped into ``(0, 1)``).
    logits : float or Tensor, optional
        ``log(p) - log(1 - p)``.
    lims : tuple of float, optional
        The interval around ``1/2`` where Taylor expansions replace the closed forms.
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
    >>> from flambeau.distributions import ContinuousBernoulli
    >>> d = ContinuousBernoulli(flambeau.tensor([0.2, 0.5, 0.9]))
    >>> d.log_prob(flambeau.tensor([0.3, 0.3, 0.3]))
    tensor([ 0.1984,  0.0000, -0.6331])
    >>> d.mean
    tensor([0.3880, 0.5000, 0.6699])
    >>> d.cdf(flambeau.tensor([0.5, 0.5, 0.5])), d.icdf(flambeau.tensor([0.5, 0.5, 0.5]))
    (tensor([0.6667, 0.5000, 0.2500]), tensor([0.3390, 0.5000, 0.7325]))
    >>> _ = flambeau.manual_seed(0)
    >>> d.rsample((4,)).shape
    flambeau.Size([4, 3])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        param = _set_binary_param(self, probs, logits)
        if probs is not None:
            # probs are clamped away from 0 and 1 for stability: check them first, while a bad
            # value is still visible (Distribution.__init__ would only see the clamped ones)
            validate = Distribution._validate_args if validate_args is None else validate_args
            constraint = self.arg_constraints["probs"]
            if validate and not bool(constraint.check(param).all()):
                raise ValueError(
                    f"The parameter probs has invalid values: expected parameter probs "
                    f"(Tensor of shape {tuple(param.shape)}) of distribution "
                    f"ContinuousBernoulli to satisfy the constraint {constraint!r}, but found "
                    f"invalid values:\n{param}"
                )
            self.probs = self._param = clamp_probs(param)
        self._lims = lims
        super().__init__(param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_binary(self, ContinuousBernoulli, batch_shape, _instance)
        new._lims = self._lims
        return new

    @lazy_property
    def logits(self):
        """``log(p) - log(1 - p)``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import ContinuousBernoulli
        >>> ContinuousBernoulli(flambeau.tensor([0.5, 0.75])).logits
        tensor([0.0000, 1.0986])
        """
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """The shape parameter ``p`` (``sigmoid(logits)``, clamped into ``(0, 1)``).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import ContinuousBernoulli
        >>> ContinuousBernoulli(logits=flambeau.tensor([0.0])).probs
        tensor([0.5000])
        """
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        """The shape of the parameter tensor.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import ContinuousBernoulli
        >>> ContinuousBernoulli(flambeau.tensor([0.2, 0.4])).param_shape
        flambeau.Size([2])
        """
        return self._param.shape

    def _stable_and_safe(self):
        """Where ``p`` is far enough from 1/2 for the closed forms, and ``p`` there with a
        harmless stand-in elsewhere (so that the discarded branch has finite values and
        gradients)."""
        p = self.probs
        stable = (p <= self._lims[0]) | (p > self._lims[1])
        return stable, flambeau.where(stable, p, self._lims[0])

    def _log_norm(self):
        """``log C(p)``."""
        stable, p = self._stable_and_safe()
        closed = flambeau.log((flambeau.log1p(-p) - flambeau.log(p)).abs()) - flambeau.log(
            (1.0 - 2.0 * p).abs()
        )
        t = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * t) * t
        return flambeau.where(stable, closed, taylor)

    @property
    def mean(self):
        stable, p = self._stable_and_safe()
        closed = p / (2.0 * p - 1.0) + 1.0 / (flambeau.log1p(-p) - flambeau.log(p))
        d = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * d.pow(2)) * d
        return flambeau.where(stable, closed, taylor)

    @property
    def variance(self):
        stable, p = self._stable_and_safe()
        closed = p * (p - 1.0) / (1.0 - 2.0 * p).pow(2) + (
            flambeau.log1p(-p) - flambeau.log(p)
        ).pow(-2)
        t = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * t) * t
        return flambeau.where(stable, closed, taylor)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with flambeau.no_grad():
            u = flambeau.rand(*shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value) + self._log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        stable, p = self._stable_and_safe()
        closed = (p.pow(value) * (1.0 - p).pow(1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        inside = flambeau.where(stable, closed, value)
        return flambeau.where(
            value <= 0.0,
            flambeau.zeros_like(inside),
            flambeau.where(value >= 1.0, flambeau.ones_like(inside), inside),
        )

    def icdf(self, value):
        stable, p = self._stable_and_safe()
        closed = (flambeau.log1p(-p + value * (2.0 * p - 1.0)) - flambeau.log1p(-p)) / (
            flambeau.log(p) - flambeau.log1p(-p)
        )
        return flambeau.where(stable, closed, value)

    def entropy(self):
        log_q = flambeau.log1p(-self.probs)
        log_p = flambeau.log(self.probs)
        return self.mean * (log_q - log_p) - self._log_norm() - log_q

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        # log((e^x - 1) / x), by its Taylor expansion near x = 0
        stable = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        safe = flambeau.where(stable, x, self._lims[0] - 0.5)
        closed = flambeau.log(flambeau.expm1(safe).abs()) - flambeau.log(safe.abs())
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return flambeau.where(stable, closed, taylor)

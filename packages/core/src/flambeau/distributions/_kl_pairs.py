"""KL divergences between the univariate distributions (registered on import).

Closed forms come from ``KL(p || q) = -H(p) - E_p[log q]`` with the moments of ``p``; pairs
whose supports make ``q`` vanish where ``p`` has mass are infinite.
"""

from __future__ import annotations

import math

import flambeau
from flambeau.distributions._bernoulli import Bernoulli
from flambeau.distributions._categorical import Categorical, OneHotCategorical
from flambeau.distributions._continuous import Cauchy, Exponential, Laplace
from flambeau.distributions._discrete import Binomial, Geometric, Poisson
from flambeau.distributions._gamma_family import Beta, Dirichlet, Gamma
from flambeau.distributions._normal import Normal
from flambeau.distributions._uniform import Uniform
from flambeau.distributions.kl import _infinite_like, register_kl

__all__ = []

_EULER = 0.57721566490153286060
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _softplus(x):
    return flambeau.logaddexp(flambeau.zeros_like(x), x)


def _inf_where(result, mask):
    return flambeau.where(mask, float("inf"), result)


def _neg_normal_loglik(q, second_moment_about_loc):
    """``-E_p[log q]`` for a normal ``q`` given ``E_p[(x - q.loc)^2]``."""
    return q.scale.log() + _HALF_LOG_2PI + second_moment_about_loc / (2 * q.scale.pow(2))


def _neg_gamma_loglik(q, mean_log_x, mean_x):
    """``-E_p[log q]`` for a gamma ``q`` given ``E_p[log x]`` and ``E_p[x]``."""
    c, r = q.concentration, q.rate
    return flambeau.lgamma(c) - c * r.log() - (c - 1) * mean_log_x + r * mean_x


# ------------------------------------------------------------------ same family


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (_softplus(-q.logits) - _softplus(-p.logits))
    t1 = flambeau.where(p.probs == 0, 0.0, _inf_where(t1, q.probs == 0))
    t2 = (1 - p.probs) * (_softplus(q.logits) - _softplus(p.logits))
    t2 = flambeau.where(p.probs == 1, 0.0, _inf_where(t2, q.probs == 1))
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sp = p.concentration1 + p.concentration0
    sq = q.concentration1 + q.concentration0
    t1 = flambeau.lgamma(q.concentration1) + flambeau.lgamma(q.concentration0) + flambeau.lgamma(sp)
    t2 = flambeau.lgamma(p.concentration1) + flambeau.lgamma(p.concentration0) + flambeau.lgamma(sq)
    t3 = (p.concentration1 - q.concentration1) * flambeau.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * flambeau.digamma(p.concentration0)
    t5 = (sq - sp) * flambeau.digamma(sp)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (
        p.probs * (p.logits - q.logits) + flambeau.log1p(-p.probs) - flambeau.log1p(-q.probs)
    )
    return _inf_where(kl, p.total_count > q.total_count)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = flambeau.where((p.probs == 0).expand_as(t), 0.0, _inf_where(t, (q.probs == 0).expand_as(t)))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    t1 = flambeau.log((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2))
    t2 = flambeau.log(4 * p.scale * q.scale)
    return t1 - t2


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sp = p.concentration.sum(-1)
    sq = q.concentration.sum(-1)
    t1 = flambeau.lgamma(sp) - flambeau.lgamma(sq)
    t2 = (flambeau.lgamma(p.concentration) - flambeau.lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = flambeau.digamma(p.concentration) - flambeau.digamma(sp).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return -ratio.log() + ratio - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * flambeau.log(p.rate / q.rate)
    t2 = flambeau.lgamma(q.concentration) - flambeau.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * flambeau.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - flambeau.log1p(-q.probs) / p.probs - q.logits


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio = p.scale / q.scale
    diff = (p.loc - q.loc).abs()
    return -ratio.log() + diff / q.scale + ratio * flambeau.exp(-diff / p.scale) - 1


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (flambeau.log(p.rate) - flambeau.log(q.rate)) - (p.rate - q.rate)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = flambeau.log((q.high - q.low) / (p.high - p.low))
    return _inf_where(result, (q.low > p.low) | (q.high < p.high))


# ------------------------------------------------------------------ across families


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    mean_log_x = flambeau.digamma(p.concentration1) - flambeau.digamma(
        p.concentration1 + p.concentration0
    )
    return -p.entropy() + _neg_gamma_loglik(q, mean_log_x, p.mean)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    return -p.entropy() + _neg_normal_loglik(q, p.variance + (p.mean - q.loc).pow(2))


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return _inf_where(result, (q.low > 0) | (q.high < 1))


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    mean_log_x = -_EULER - p.rate.log()
    return -p.entropy() + _neg_gamma_loglik(q, mean_log_x, p.mean)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    second = 2 / p.rate.pow(2) - 2 * q.loc / p.rate + q.loc.pow(2)
    return -p.entropy() + _neg_normal_loglik(q, second)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    return -p.entropy() + _neg_normal_loglik(q, p.variance + (p.mean - q.loc).pow(2))


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    return -p.entropy() + _neg_normal_loglik(q, p.variance + (p.loc - q.loc).pow(2))


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    d = p.loc - q.loc
    # E|x - q.loc| for x ~ N(p.loc, p.scale): the mean of a folded normal
    folded = p.scale * math.sqrt(2 / math.pi) * flambeau.exp(
        -d.pow(2) / (2 * p.scale.pow(2))
    ) + d * flambeau.erf(d / (p.scale * math.sqrt(2)))
    return -p.entropy() + flambeau.log(2 * q.scale) + folded / q.scale


def _uniform_mean_log(lo, hi):
    """``E[log x]`` for ``x ~ U(lo, hi)``, ``0 <= lo < hi`` (``x log x`` is 0 at 0)."""
    return (flambeau.xlogy(hi, hi) - flambeau.xlogy(lo, lo)) / (hi - lo) - 1


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    outside = (p.high > 1) | (p.low < 0)
    lo = flambeau.where(outside, 0.25, p.low)
    hi = flambeau.where(outside, 0.75, p.high)
    c1, c0 = q.concentration1, q.concentration0
    log_beta = flambeau.lgamma(c1) + flambeau.lgamma(c0) - flambeau.lgamma(c1 + c0)
    expected = (
        (c1 - 1) * _uniform_mean_log(lo, hi)
        + (c0 - 1) * _uniform_mean_log(1 - hi, 1 - lo)
        - log_beta
    )
    return _inf_where(-p.entropy() - expected, outside)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = -p.entropy() - q.rate.log() + q.rate * p.mean
    return _inf_where(result, p.low < 0)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    outside = p.low < 0
    lo = flambeau.where(outside, 0.5, p.low)
    hi = flambeau.where(outside, 1.0, p.high)
    result = -p.entropy() + _neg_gamma_loglik(q, _uniform_mean_log(lo, hi), p.mean)
    return _inf_where(result, outside)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    return -p.entropy() + _neg_normal_loglik(q, p.variance + (p.mean - q.loc).pow(2))


# ------------------------------------------------------------------ disjoint supports


def _infinite_kl(attr):
    def kl(p, q):
        return _infinite_like(getattr(p, attr))

    return kl


for _p, _q, _attr in [
    (Exponential, Beta, "rate"),
    (Exponential, Uniform, "rate"),
    (Gamma, Beta, "concentration"),
    (Gamma, Uniform, "concentration"),
    (Laplace, Beta, "loc"),
    (Laplace, Exponential, "loc"),
    (Laplace, Gamma, "loc"),
    (Laplace, Uniform, "loc"),
    (Normal, Beta, "loc"),
    (Normal, Exponential, "loc"),
    (Normal, Gamma, "loc"),
    (Normal, Uniform, "loc"),
    (Poisson, Bernoulli, "rate"),
    (Poisson, Binomial, "rate"),
]:
    register_kl(_p, _q)(_infinite_kl(_attr))

"""Standard-gamma sampling with an implicit reparameterization gradient.

``_standard_gamma(alpha)`` draws ``Gamma(alpha, 1)`` samples (Marsaglia and Tsang's squeeze
method, boosted by ``u ** (1 / alpha)`` below one) from flambeau's generator. Its gradient
w.r.t. ``alpha`` is the implicit one, ``dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)``
with ``F`` the CDF and ``f`` the density (Figurnov et al., 2018), which keeps ``x`` at a fixed
quantile while ``alpha`` moves. The ratio is summed from the series
``P(a, x) = sum_n x^(a+n) e^-x / Gamma(a+n+1)``, whose terms divided by ``f`` are
``c_n = x^(n+1) / (a (a+1) ... (a+n))``, so that
``(dP/da) / f = sum_n c_n (log x - digamma(a + n + 1))`` without overflow; a large ``alpha``
uses the Wilson-Hilferty cube-root normal approximation instead.
"""

from __future__ import annotations

import flambeau
from flambeau import _random
from flambeau._ops.special import _digamma_arr
from flambeau._tensor import Tensor
from flambeau.autograd._function import Function

__all__ = []

#: above this concentration the series would need too many terms: use Wilson-Hilferty
_LARGE_ALPHA = 1e4
_MAX_TERMS = 5000


def _marsaglia_tsang(xp, rng, alpha):
    """Gamma(alpha, 1) draws (float64 array) for a float64 array ``alpha > 0``."""
    boost = alpha < 1
    a = xp.where(boost, alpha + 1.0, alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / xp.sqrt(9.0 * d)
    out = xp.zeros(alpha.shape, dtype=xp.float64)
    todo = xp.ones(alpha.shape, dtype=bool)
    # every round redraws the whole array and keeps the first acceptance of each element
    # (acceptance is above 95%, so a handful of rounds; no boolean indexing, GPU friendly)
    while bool(todo.any()):
        z = rng.standard_normal(alpha.shape, xp.float64)
        u = rng.random(alpha.shape, xp.float64)
        v = (1.0 + c * z) ** 3
        pos = v > 0
        vs = xp.where(pos, v, 1.0)
        accept = pos & (
            (u < 1.0 - 0.0331 * z**4) | (xp.log(u) < 0.5 * z * z + d * (1.0 - vs + xp.log(vs)))
        )
        take = todo & accept
        out = xp.where(take, d * vs, out)
        todo = todo & ~accept
    u = rng.random(alpha.shape, xp.float64)
    # log space so that tiny alphas do not underflow before the final exp
    with _quiet(xp):
        log_out = xp.log(out) + xp.where(boost, xp.log(u) / xp.where(boost, alpha, 1.0), 0.0)
    return xp.exp(log_out)


class _quiet:
    def __init__(self, xp):
        self.xp = xp
        self.old = None

    def __enter__(self):
        if hasattr(self.xp, "seterr"):
            self.old = self.xp.seterr(all="ignore")

    def __exit__(self, *exc):
        if self.old is not None:
            self.xp.seterr(**self.old)


def _series_ratio(xp, x, a):
    """``(dP/da) / f`` for ``x <= a + 1`` from the series of ``P`` (all but at most one term
    shrink, so no cancellation)."""
    log_x = xp.log(x)
    c = x / a
    psi = _digamma_arr(xp, a + 1.0)
    total = c * (log_x - psi)
    for n in range(1, _MAX_TERMS):
        c = c * x / (a + n)
        psi = psi + 1.0 / (a + n)
        term = c * (log_x - psi)
        total = total + term
        if not bool((xp.abs(term) > 1e-17 * xp.abs(total)).any()):
            break
    return total


def _fraction_ratio(xp, x, a):
    """``(dQ/da) / f`` for ``x > a + 1``: ``Q = x^a e^-x / Gamma(a) * h(a, x)`` with ``h``
    Legendre's continued fraction, evaluated by modified Lentz together with its derivative
    w.r.t. ``a`` (forward mode); then ``(dQ/da) / f = x (h (log x - digamma(a)) + dh/da)``."""
    tiny = 1e-300
    b = x + 1.0 - a
    c, dc = xp.full_like(b, 1.0 / tiny), xp.zeros_like(b)
    d, dd = 1.0 / b, 1.0 / (b * b)
    h, dh = d, dd
    for i in range(1, _MAX_TERMS):
        an, dan = -i * (i - a), float(i)
        b = b + 2.0  # db/da stays -1
        dr = an * d + b
        ddr = dan * d + an * dd - 1.0
        dr = xp.where(xp.abs(dr) < tiny, tiny, dr)
        cr = b + an / c
        dcr = -1.0 + dan / c - an * dc / (c * c)
        cr = xp.where(xp.abs(cr) < tiny, tiny, cr)
        d, dd = 1.0 / dr, -ddr / (dr * dr)
        c, dc = cr, dcr
        delta, ddelta = d * c, dd * c + d * dc
        h, dh = h * delta, dh * delta + h * ddelta
        if not bool((xp.abs(delta - 1.0) > 1e-16).any()) and not bool(
            (xp.abs(ddelta) > 1e-16 * xp.abs(dh)).any()
        ):
            break
    return x * (h * (xp.log(x) - _digamma_arr(xp, a)) + dh)


def _gamma_grad_arr(xp, x, a):
    """``dx/da`` of Gamma(a, 1) samples ``x`` at a fixed quantile (float64 arrays)."""
    with _quiet(xp):
        x, a = xp.broadcast_arrays(x, a)
        ok = (x > 0) & (a > 0) & xp.isfinite(x)
        small = ok & (a <= _LARGE_ALPHA)
        lower = small & (x <= a + 1.0)
        upper = small & ~lower
        # stand-in operands where a branch does not apply
        series = -_series_ratio(xp, xp.where(lower, x, 0.5), xp.where(lower, a, 1.0))
        fraction = _fraction_ratio(xp, xp.where(upper, x, 3.0), xp.where(upper, a, 1.0))
        # Wilson-Hilferty: x = a (1 - 1/(9a) + z / (3 sqrt(a)))^3 with z fixed
        big = ok & ~small
        ab = xp.where(big, a, 1.0)
        s = xp.sqrt(ab)
        r = xp.cbrt(xp.where(big, x, 1.0) / ab)
        z = (r - 1.0 + 1.0 / (9.0 * ab)) * 3.0 * s
        dr_da = 1.0 / (9.0 * ab * ab) - z / (6.0 * ab * s)
        large = r**3 + 3.0 * ab * r**2 * dr_da
        out = xp.where(lower, series, xp.where(upper, fraction, large))
        return xp.where(ok, out, 0.0)


class _StandardGammaGrad(Function):
    """``dx/dalpha`` as a tensor (first order only, as torch's ``_standard_gamma_grad``)."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = x._device._xp
        g = _gamma_grad_arr(xp, x._data.astype(xp.float64), alpha._data.astype(xp.float64))
        return g.astype(x._data.dtype)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            "_standard_gamma_grad: the derivative of the gamma sampler's "
            "gradient is not implemented"
        )


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha, generator):
        xp = alpha._device._xp
        gen = _random.generator_for(generator, alpha._device)
        a64 = alpha._data.astype(xp.float64)
        x = _marsaglia_tsang(xp, gen._rng, a64)
        tiny = flambeau.finfo(alpha.dtype).tiny
        out = xp.maximum(x, tiny).astype(alpha._data.dtype)
        ctx.save_for_backward(alpha)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        (alpha,) = ctx.saved_tensors
        x = Tensor._make(ctx.out, alpha._device)
        return g * _StandardGammaGrad.apply(x, alpha), None


def _standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) samples of ``alpha``'s shape and dtype, differentiable w.r.t.
    ``alpha`` (implicit reparameterization)."""
    if not alpha.dtype.is_floating_point:
        raise TypeError(
            f"_standard_gamma: expected a floating-point concentration, got {alpha.dtype}"
        )
    if alpha.numel() == 0:
        return alpha.detach().clone()
    return _StandardGamma.apply(alpha, generator)


def _standard_gamma_grad(x, alpha):
    """``dx/dalpha`` for Gamma(alpha, 1) samples ``x`` held at their quantile."""
    return _StandardGammaGrad.apply(x, alpha)

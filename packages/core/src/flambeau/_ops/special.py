"""Special functions and the rest of PyTorch's elementwise math.

- The gamma family (``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma``), the Hurwitz zeta
  function, ``erfinv`` / ``ndtri``, ``erfcx`` / ``ndtr`` / ``log_ndtr``, the modified Bessel
  functions ``i0``, ``i0e``, ``i1``, ``i1e``, ``sinc`` and ``entr``.
- Elementwise math on the bits of numbers: ``copysign``, ``nextafter``, ``ldexp``, ``frexp``,
  ``signbit``, ``heaviside``, ``gcd`` / ``lcm``, bit shifts.
- The other names PyTorch gives existing ops (``arccos``, ``multiply``, ``greater``, ...).

NumPy has no ufunc for the special functions, and core does not depend on SciPy, so they are
computed here on the backend's arrays (``xp``), in float64 whatever the input's dtype, and
cast back. Each is accurate to a few units in the last place of a double away from its zeros
(checked against SciPy in the tests):

- ``lgamma``: Stirling's series from 13 up; below, the argument is moved into [1.5, 2.5) by
  exact products (``lgamma(x) = lgamma(x - n) + log((x - 1) ... (x - n))``), where the Taylor
  series of ``lgamma`` about 2 (coefficients ``(-1)^k (zeta(k) - 1) / k``) keeps full
  relative accuracy at the zeros 1 and 2; reflection below 0.5.
- ``digamma``: the asymptotic series from 10 up, the recurrence ``psi(x) = psi(x + 1) - 1/x``
  below, its Taylor series about its positive zero ``x0 = 1.4616...`` near that zero, and
  reflection (``psi(1 - x) - pi / tan(pi x)``) for negative arguments.
- ``zeta(s, q)`` (and ``polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x)``): Euler-Maclaurin
  summation after shifting ``q`` past 10.
- ``erfinv``: an initial guess within 0.2% (Winitzki's closed form), then Halley steps on
  ``erf`` in the centre and Newton steps on ``log(erfc)`` in the tails, where ``1 - |y|`` is
  exact and ``erfc`` comes from the scaled function ``erfcx`` without underflow.
- ``erfcx``: W. J. Cody's rational approximations (shared with :mod:`flambeau._ops._erf`).
- ``i0`` / ``i1``: their power series (all terms positive) up to 30, the asymptotic
  expansion beyond.
"""

from __future__ import annotations

import functools
import math
from collections import namedtuple
from fractions import Fraction

from flambeau import _dtype
from flambeau._ops import _erf
from flambeau._ops import elementwise as _ew
from flambeau._ops._select import errors_ignored
from flambeau._ops._util import (
    FLOAT_NP,
    Tensor,
    make,
    promote,
    promote_float,
    scalar_tensor,
    to_float,
)
from flambeau._ops.elementwise import _conj, refuse_complex
from flambeau._sparse import refuse_sparse_inputs
from flambeau.autograd._function import Function, node_variant
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = [
    # aliases of existing ops
    "absolute", "arccos", "arcsin", "arctan", "arctan2", "multiply", "subtract", "divide",
    "negative", "greater", "greater_equal", "less", "less_equal", "not_equal", "fix",
    # new elementwise ops
    "acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "lgamma", "digamma",
    "polygamma", "mvlgamma", "erfinv", "i0", "sinc", "logaddexp2", "heaviside", "copysign",
    "nextafter", "ldexp", "frexp", "signbit", "isneginf", "isposinf", "gcd", "lcm",
    "deg2rad", "rad2deg", "bitwise_left_shift", "bitwise_right_shift",
]

_PI = math.pi
_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)
_SQRT_PI = math.sqrt(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_EULER_GAMMA = 0.57721566490153286060651209008240243104215933593992

frexp_result = namedtuple("frexp", ["mantissa", "exponent"])

# ====================================================================== array kernels
#
# Each ``_name_arr(xp, x)`` takes and returns float64 arrays of the backend. Branches are
# computed on whole arrays (with harmless stand-in values where a branch does not apply) and
# chosen with ``xp.where``: no boolean indexing, so the same code runs on GPUs.


def _f64(xp, a):
    return xp.asarray(a, dtype=xp.float64)


def _finish(xp, out, like):
    """``out`` (float64) as an array of ``like``'s dtype."""
    out = xp.asarray(out)
    return out if out.dtype == like.dtype else out.astype(like.dtype)


def _in_float64(kernel):
    """An ``_unary_op`` forward computing ``kernel`` in float64, cast back to the input's
    dtype (NumPy has no float16/bfloat16 loops for most of what the kernels use)."""
    def fwd(xp, a):
        with errors_ignored(xp):
            return _finish(xp, kernel(xp, _f64(xp, a)), a)

    return fwd


@functools.cache
def _bernoulli_even(count):
    """``B_2, B_4, ..., B_2count`` as Fractions (Akiyama-Tanigawa)."""
    n = 2 * count
    a = [Fraction(0)] * (n + 1)
    numbers = []
    for m in range(n + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        numbers.append(a[0])  # B_m (with B_1 = +1/2, unused)
    return [numbers[2 * j] for j in range(1, count + 1)]


def _horner(z, coefficients):
    """``c[0] + c[1] z + c[2] z^2 + ...``."""
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = acc * z + c
    return acc


def _sinpi(xp, x):
    """``sin(pi x)``, exact at integers and accurate for large ``x`` (reduced by whole
    periods first)."""
    n = xp.round(x)
    r = x - n
    half = n * 0.5
    odd = half != xp.floor(half)  # |n| >= 2**53 is even
    s = xp.sin(_PI * r)
    return xp.where(odd, -s, s)


# ---------------------------------------------------------------------- Hurwitz zeta

_ZETA_SHIFT = 10.0  # sum terms directly until q + N >= this, then Euler-Maclaurin
_ZETA_TERMS = 12  # Bernoulli terms of the Euler-Maclaurin tail
_ZETA_DIRECT_MAX = 64  # q below -this: the sum of the negative terms in closed form


@functools.cache
def _em_coefficients():
    b = _bernoulli_even(_ZETA_TERMS)
    return [float(b[j - 1] / math.factorial(2 * j)) for j in range(1, _ZETA_TERMS + 1)]


def _zeta_positive(xp, s, q):
    """``zeta(s, q)`` for ``s > 1`` and ``q > 0`` (elsewhere: values to be replaced)."""
    qmin = xp.min(xp.where(q > 0, q, _ZETA_SHIFT)) if q.size else _ZETA_SHIFT
    shift = max(9, math.ceil(_ZETA_SHIFT - float(qmin)))
    total = 0.0 * (s + q)
    for k in range(shift):
        total = total + xp.power(q + k, -s)
    a = q + shift
    lead = xp.power(a, -s)
    total = total + xp.power(a, 1.0 - s) / (s - 1) + 0.5 * lead
    inv_a = 1.0 / a
    inv_a2 = inv_a * inv_a
    power = lead * inv_a  # a ** (-s - 2j + 1)
    rising = s  # s (s + 1) ... (s + 2j - 2)
    for j, c in enumerate(_em_coefficients(), start=1):
        total = total + c * rising * power
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        power = power * inv_a2
    return total


def _zeta_arr(xp, s, q):
    """The Hurwitz zeta function ``sum_k (q + k) ** -s``, as PyTorch (Cephes) defines it:
    inf at ``s == 1`` and at the poles ``q = 0, -1, -2, ...``; for negative non-integer
    ``q`` only integer ``s`` (else NaN); NaN for ``s < 1``."""
    s, q = xp.broadcast_arrays(s, q)
    good_q = xp.where((q > 0) & (q < xp.inf), q, 1.0)
    good_s = xp.where(s > 1, s, 2.0)
    out = _zeta_positive(xp, good_s, good_q)
    out = xp.where(q > 0, out, xp.where(q == xp.floor(q), xp.inf, xp.nan))
    out = xp.where(q == xp.inf, 0.0, out)  # every term vanishes (torch gives NaN)
    negative = (q < 0) & (q != xp.floor(q)) & (s == xp.floor(s))
    if bool(xp.any(negative)):
        out = xp.where(negative, _zeta_negative_q(xp, good_s, q, negative), out)
    out = xp.where(s > 1, out, xp.where(s == 1, xp.inf, xp.nan))
    return xp.where(xp.isnan(s) | xp.isnan(q), xp.nan, out)


def _zeta_negative_q(xp, s, q, mask):
    """``zeta(s, q)`` for negative non-integer ``q`` and integer ``s > 1``: the terms with
    ``q + k < 0`` summed directly, or for very negative ``q`` in closed form."""
    qm = xp.where(mask, q, -0.5)
    m = -xp.floor(qm)  # number of negative terms
    r = qm + m  # in (0, 1)
    out = _zeta_positive(xp, s, r)
    far = m > _ZETA_DIRECT_MAX
    near_terms = xp.zeros_like(out)
    steps = int(xp.max(xp.where(far, 0, m))) if m.size else 0
    for k in range(steps):
        near_terms = near_terms + xp.where(k < m, xp.power(qm + k, -s), 0.0)
    if bool(xp.any(far)):
        # sum_{j=1..m} (r - j)^-s = (-1)^s (zeta(s, 1 - r) - zeta(s, m + 1 - r))
        sign = xp.where(s * 0.5 == xp.floor(s * 0.5), 1.0, -1.0)
        far_terms = sign * (_zeta_positive(xp, s, 1 - r) - _zeta_positive(xp, s, m + 1 - r))
        near_terms = xp.where(far, far_terms, near_terms)
    return out + near_terms


# ---------------------------------------------------------------------- gamma family

_LGAMMA_SERIES_TERMS = 30
_STIRLING_FROM = 13.0


@functools.cache
def _lgamma_series():
    """Taylor coefficients of ``lgamma(2 + z)``: ``(1 - gamma) z + sum (-1)^k (zeta(k) - 1)
    z^k / k``, with ``zeta(k) - 1 = zeta(k, 2)`` from :func:`_zeta_positive`."""
    import numpy as np

    k = np.arange(2, _LGAMMA_SERIES_TERMS + 1, dtype=np.float64)
    tails = _zeta_positive(np, k, np.full_like(k, 2.0))
    signs = np.where(k % 2 == 0, 1.0, -1.0)
    return [0.0, 1.0 - _EULER_GAMMA] + [float(c) for c in signs * tails / k]


@functools.cache
def _stirling_coefficients():
    b = _bernoulli_even(8)
    return [float(b[k - 1] / (2 * k * (2 * k - 1))) for k in range(1, 9)]


def _lgamma_positive(xp, y):
    """``lgamma(y)`` for ``y >= 0.5``."""
    # [0.5, 13): moved into [1.5, 2.5) by n exact steps (n = -1 moves up from [0.5, 1.5))
    ys = xp.minimum(y, _STIRLING_FROM)
    n = xp.clip(xp.floor(ys - 1.5), -1, 11)
    z = xp.where(n < 0, ys - 1, (ys - n) - 2)  # both differences exact (Sterbenz)
    small = _horner(z, _lgamma_series())
    product = xp.ones_like(ys)
    for k in range(1, 12):
        product = product * xp.where(k <= n, ys - k, 1.0)
    small = small + xp.where(n < 0, -xp.log1p(z), xp.log(product))
    # [13, inf): Stirling's series
    yl = xp.maximum(y, _STIRLING_FROM)
    inv = 1.0 / yl
    tail = inv * _horner(inv * inv, _stirling_coefficients())
    large = (yl - 0.5) * xp.log(yl) - yl + _HALF_LOG_2PI + tail
    large = xp.where(xp.isinf(yl), xp.inf, large)
    return xp.where(y < _STIRLING_FROM, small, large)


def _lgamma_arr(xp, x):
    up = x >= 0.5
    g = _lgamma_positive(xp, xp.where(up, x, 1.0 - x))
    reflected = xp.log(_PI / xp.abs(_sinpi(xp, x))) - g
    out = xp.where(up, g, reflected)
    return xp.where(xp.isinf(x), xp.inf, out)


_DIGAMMA_ROOT = Fraction("1.461632144968362341262659542325721328468196204006446351295988")
_ROOT_HI = float(_DIGAMMA_ROOT)
_ROOT_LO = float(_DIGAMMA_ROOT - Fraction(_ROOT_HI))
_ROOT_RADIUS = 0.25
_ROOT_TERMS = 24


@functools.cache
def _digamma_root_series():
    """Taylor coefficients of ``psi`` about its positive zero: ``(-1)^(k+1) zeta(k+1, x0)``."""
    import numpy as np

    k = np.arange(1, _ROOT_TERMS + 1, dtype=np.float64)
    values = _zeta_positive(np, k + 1, np.full_like(k, _ROOT_HI))
    return [0.0] + [float(v) for v in np.where(k % 2 == 1, 1.0, -1.0) * values]


@functools.cache
def _digamma_asymptotic():
    b = _bernoulli_even(9)
    return [float(b[j - 1] / (2 * j)) for j in range(1, 10)]


def _digamma_positive(xp, y):
    """``psi(y)`` for ``y > 0``."""
    # psi(y) = psi(y + k) - sum 1 / (y + i) until y + k >= 10
    shifted = y
    recurrence = xp.zeros_like(y)
    for _ in range(10):
        low = shifted < 10.0
        recurrence = recurrence + xp.where(low, 1.0 / shifted, 0.0)
        shifted = xp.where(low, shifted + 1.0, shifted)
    inv2 = 1.0 / (shifted * shifted)
    series = inv2 * _horner(inv2, _digamma_asymptotic())
    far = xp.log(shifted) - 0.5 / shifted - series - recurrence
    far = xp.where(xp.isinf(y), xp.inf, far)
    z = (y - _ROOT_HI) - _ROOT_LO
    near = _horner(z, _digamma_root_series())
    return xp.where(xp.abs(z) < _ROOT_RADIUS, near, far)


def _digamma_arr(xp, x):
    up = x > 0
    g = _digamma_positive(xp, xp.where(up, x, 1.0 - x))
    r = x - xp.round(x)
    reflected = g - _PI / xp.tan(_PI * r)
    out = xp.where(up, g, reflected)
    # digamma(+0) = -inf, digamma(-0) = +inf and NaN at the other poles (as PyTorch)
    out = xp.where(x == 0, xp.where(xp.signbit(x), xp.inf, -xp.inf), out)
    return xp.where((x < 0) & (r == 0), xp.nan, out)


def _polygamma_arr(xp, n, x):
    if n == 0:
        return _digamma_arr(xp, x)
    z = _zeta_arr(xp, xp.full_like(x, n + 1.0), x)
    scale = math.exp(math.lgamma(n + 1.0))  # n!
    return (scale if n % 2 == 1 else -scale) * z


# ---------------------------------------------------------------------- error functions

_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI


# Cody's erfc / erfcx on any array namespace live with erf in flambeau._ops._erf
_rational, _gauss = _erf.rational, _erf.gauss
_erfcx_nonneg, _erfcx_arr, _erfc_arr = _erf.erfcx_nonneg, _erf.erfcx, _erf.erfc


def _erf_arr(xp, x):
    return _ew._erf_generic(xp, x)


_WINITZKI = 0.147


def _erfinv_parts(xp, a, w):
    """``erfinv(a)`` for ``0 <= a <= 1`` given also ``w = 1 - a``, exact where ``a > 0.5``
    (for ``ndtri`` it is the exact input ``2p``)."""
    centre = a <= 0.5
    ac = xp.where(centre, a, 0.5)
    wt = xp.where(centre | (w <= 0), 0.5, w)
    log_1ma2 = xp.where(centre, xp.log1p(-ac * ac), xp.log(wt) + xp.log1p(1.0 - wt))
    t = 2.0 / (_PI * _WINITZKI) + 0.5 * log_1ma2
    x = xp.sqrt(xp.sqrt(t * t - log_1ma2 / _WINITZKI) - t)
    # centre: Halley on erf(x) - a  (f''/f' = -2x)
    xc = xp.where(centre, x, 0.0)
    for _ in range(2):  # cubic convergence: 2e-3 -> 1e-8 -> 1e-24
        u = (_erf_arr(xp, xc) - ac) / (_TWO_OVER_SQRT_PI * xp.exp(-xc * xc))
        xc = xc - u / (1.0 + xc * u)
    # tails: Newton on log(erfc(x)) - log(w) = log(erfcx(x)) - x^2 - log(w)
    xt = xp.where(centre, 1.0, x)
    log_w = xp.log(wt)
    for _ in range(3):  # quadratic, error * err / (2x) a step: 2e-3 x -> ... -> 1e-20
        ex = _erfcx_nonneg(xp, xt)
        xt = xt + (xp.log(ex) - xt * xt - log_w) * ex * (_SQRT_PI / 2.0)
    out = xp.where(centre, xc, xt)
    return xp.where(w <= 0, xp.where(w == 0, xp.inf, xp.nan), out)


def _scipy_erfinv(y):
    try:
        import numpy as np
        from scipy.special import erfinv as scipy_erfinv
    except ImportError:
        return None
    out = np.asarray(scipy_erfinv(y))  # an array for 0-d input too (SciPy gives a scalar)
    return np.copysign(out, y, out=out)  # SciPy's erfinv(-0.0) is +0.0; torch's keeps it


#: exact erfinv kernels by array namespace: NumPy's through SciPy (about 25x faster than the
#: portable one below, which evaluates both of its branches on every element)
_ERFINV_KERNELS = {"numpy": _scipy_erfinv}


def _erfinv_arr(xp, y):
    kernel = _ERFINV_KERNELS.get(xp.__name__)
    out = None if kernel is None else kernel(y)
    if out is not None:
        return out
    a = xp.abs(y)
    out = _erfinv_parts(xp, a, 1.0 - a)
    out = xp.where(a > 1, xp.nan, out)
    return xp.where(xp.signbit(y), -out, out)


def _ndtri_arr(xp, p):
    low = p < 0.5
    a = xp.where(low, 1.0 - 2.0 * p, 2.0 * p - 1.0)
    w = xp.where(low, 2.0 * p, 2.0 - 2.0 * p)
    out = _SQRT2 * _erfinv_parts(xp, a, w)
    out = xp.where(low, -out, out)
    return xp.where((p < 0) | (p > 1) | xp.isnan(p), xp.nan, out)


def _ndtr_arr(xp, x):
    return 0.5 * _erfc_arr(xp, -x / _SQRT2)


def _log_ndtr_arr(xp, x):
    t = -x / _SQRT2
    # left: log(erfc(t) / 2) with erfc = erfcx * exp(-t^2), all in logs
    tl = xp.maximum(t, 0.0)
    left = xp.log(_erfcx_nonneg(xp, tl)) - tl * tl - _LN2
    right = xp.log1p(-0.5 * _erfc_arr(xp, xp.maximum(-t, 0.0)))
    return xp.where(x < 0, left, right)


# ---------------------------------------------------------------------- Bessel I0, I1

_BESSEL_SERIES_UP_TO = 30.0
_BESSEL_SERIES_TERMS = 52
_BESSEL_ASYMPTOTIC_TERMS = 32


def _bessel_i_arr(xp, x, nu, scaled):
    """``I_nu(x)`` (``nu`` 0 or 1), times ``exp(-|x|)`` if ``scaled``."""
    ax = xp.abs(x)
    small = ax <= _BESSEL_SERIES_UP_TO
    xs = xp.where(small, ax, 0.0)
    quarter = 0.25 * xs * xs
    term = xp.ones_like(xs) if nu == 0 else 0.5 * xs
    total = term
    for k in range(1, _BESSEL_SERIES_TERMS):
        term = term * quarter / (k * (k + nu))
        total = total + term
    series = total * xp.exp(-xs) if scaled else total
    xl = xp.where(small, 2 * _BESSEL_SERIES_UP_TO, ax)
    mu = 4.0 * nu * nu
    inv8x = 1.0 / (8.0 * xl)
    term = xp.ones_like(xl)
    total = term
    for k in range(1, _BESSEL_ASYMPTOTIC_TERMS):
        term = term * (-(mu - (2 * k - 1) ** 2) / k) * inv8x
        total = total + term
    front = total / xp.sqrt(2.0 * _PI * xl)
    if scaled:
        asymptotic = front
    else:  # exp(x/2) twice: exact to an ulp, and no overflow before the result's own
        half = xp.exp(0.5 * xl)
        asymptotic = xp.where(xp.isinf(xl), xp.inf, front * half * half)
    out = xp.where(small, series, asymptotic)
    return xp.where(x < 0, -out, out) if nu == 1 else out


# ====================================================================== aliases

absolute = _ew.abs
arccos = _ew.acos
arcsin = _ew.asin
arctan = _ew.atan
arctan2 = _ew.atan2
multiply = _ew.mul
subtract = _ew.subtract
divide = _ew.div
negative = _ew.neg
greater = _ew.gt
greater_equal = _ew.ge
less = _ew.lt
less_equal = _ew.le
not_equal = _ew.ne
fix = _ew.trunc


# ====================================================================== unary ops


def _quiet(fwd):
    """``fwd`` without NumPy's warnings for values outside the domain (NaN is the result)."""
    def run(xp, a):
        with errors_ignored(xp):
            return fwd(xp, a)

    return run


Acosh, acosh = _ew._unary_op(
    "acosh", _quiet(lambda xp, a: xp.arccosh(a)),
    lambda g, x, o: g * _ew.rsqrt((x - 1) * (x + 1)),
    # acosh'(z) = 1 / (sqrt(z - 1) sqrt(z + 1)): one square root of the product would flip
    # its sign where Re z < 0
    on_complex={"grad": lambda g, x, o: g * _conj(_ew.rsqrt(x - 1) * _ew.rsqrt(x + 1))},
    doc="""Inverse hyperbolic cosine (the principal branch for complex inputs).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.acosh(flambeau.tensor([1.0, 2.0]))
    tensor([0.0000, 1.3170])
    """)
Asinh, asinh = _ew._unary_op(
    "asinh", lambda xp, a: xp.arcsinh(a), lambda g, x, o: g * _conj(_ew.rsqrt(x * x + 1)),
    on_complex=True, doc="""Inverse hyperbolic sine.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.asinh(flambeau.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8814])
    """)
Atanh, atanh = _ew._unary_op(
    "atanh", _quiet(lambda xp, a: xp.arctanh(a)), lambda g, x, o: g / _conj(1 - x * x),
    on_complex=True, doc="""Inverse hyperbolic tangent (infinite at +/-1, NaN beyond).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.atanh(flambeau.tensor([0.0, 0.5, 1.0]))
    tensor([0.0000, 0.5493,    inf])
    """)
arccosh, arcsinh, arctanh = acosh, asinh, atanh

Lgamma, lgamma = _ew._unary_op(
    "lgamma", _in_float64(_lgamma_arr), lambda g, x, o: g * digamma(x),
    doc="""``log(|gamma(input)|)``, infinite at 0 and the negative integers.

    Integer inputs give the default float dtype. The gradient is :func:`digamma`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.lgamma(flambeau.tensor([0.5, 1.0, 3.0, 0.0, -1.5]))
    tensor([0.5724, 0.0000, 0.6931,    inf, 0.8600])
    """)
Digamma, digamma = _ew._unary_op(
    "digamma", _in_float64(_digamma_arr), lambda g, x, o: g * polygamma(1, x),
    doc="""The logarithmic derivative of the gamma function, ``psi(x) = gamma'(x) / gamma(x)``.

    ``-inf`` at ``+0``, ``+inf`` at ``-0`` and NaN at the negative integers, as PyTorch. The
    gradient is ``polygamma(1, input)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.digamma(flambeau.tensor([1.0, 0.5, 1.4616321449683623]))
    tensor([-0.5772, -1.9635,  0.0000])
    """)


class Polygamma(Function):
    """The op behind :func:`flambeau.polygamma`."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        xp = x._device._xp
        with errors_ignored(xp):
            return _finish(xp, _polygamma_arr(xp, n, _f64(xp, x._data)), x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


def polygamma(n, input, *, out=None):
    """The ``n``-th derivative of :func:`digamma`: ``(-1)^(n+1) n! zeta(n + 1, input)``.

    Poles (0 and the negative integers) give ``+inf`` for odd ``n`` and ``-inf`` for even
    ``n``. The gradient is ``polygamma(n + 1, input)``.

    Raises
    ------
    TypeError
        If ``n`` is not an int.
    RuntimeError
        If ``n`` is negative.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.polygamma(1, flambeau.tensor([1.0, 0.5]))
    tensor([1.6449, 4.9348])
    >>> flambeau.polygamma(2, flambeau.tensor([1.0]))
    tensor([-2.4041])
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    refuse_complex("polygamma", input)
    return _ew._out(Polygamma.apply(to_float(input), n), out)


def _polygamma_method(self, n):
    return polygamma(n, self)


def mvlgamma(input, p, *, out=None):
    """The multivariate log-gamma function of dimension ``p``:
    ``p (p - 1) / 4 * log(pi) + sum_{i < p} lgamma(input - i / 2)``.

    Elements not greater than ``(p - 1) / 2`` meet the poles of ``lgamma`` (``inf``) or its
    negative arguments, as in PyTorch 2.13 (which no longer refuses them).

    Raises
    ------
    RuntimeError
        If ``p < 1``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mvlgamma(flambeau.tensor([2.5, 3.0]), 3)
    tensor([1.8810, 2.6949])
    """
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1 (got p={p})")
    refuse_complex("mvlgamma", input)
    x = to_float(input)
    xp = x._device._xp
    halves = make(xp.arange(p, dtype=xp.float64).astype(x._data.dtype) * 0.5, x)
    terms = lgamma(x.unsqueeze(-1) - halves)
    return _ew._out(terms.sum(-1) + p * (p - 1) / 4 * math.log(_PI), out)


Erfinv, erfinv = _ew._unary_op(
    "erfinv", _in_float64(_erfinv_arr), lambda g, x, o: g * (_SQRT_PI / 2) * _ew.exp(o * o),
    save="out", doc="""The inverse error function: ``erf(erfinv(y)) = y`` on ``[-1, 1]``.

    ``+/-inf`` at ``+/-1``, NaN outside. The gradient is ``sqrt(pi) / 2 * exp(erfinv(y)^2)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.erfinv(flambeau.tensor([0.0, 0.5, -0.9, 1.0]))
    tensor([ 0.0000,  0.4769, -1.1631,     inf])
    """)


def _i1_grad(g, x, o):
    safe = _ew.where(x == 0, 1.0, x)
    return g * _ew.where(x == 0, 0.5, i0(x) - i1(x) / safe)


def _i1e_grad(g, x, o):
    safe = _ew.where(x == 0, 1.0, x)
    return g * _ew.where(x == 0, 0.5, i0e(x) - i1e(x) * (_ew.sign(x) + 1.0 / safe))


I0, i0 = _ew._unary_op(
    "i0", _in_float64(lambda xp, a: _bessel_i_arr(xp, a, 0, False)),
    lambda g, x, o: g * i1(x), doc="""The modified Bessel function of the first kind of order
    zero, ``I0(x) = sum_k (x^2 / 4)^k / (k!)^2``. Its gradient is :func:`flambeau.special.i1`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.i0(flambeau.tensor([0.0, 1.0, -2.0]))
    tensor([1.0000, 1.2661, 2.2796])
    """)
I0e, i0e = _ew._unary_op(
    "i0e", _in_float64(lambda xp, a: _bessel_i_arr(xp, a, 0, True)),
    lambda g, x, o: g * (i1e(x) - _ew.sign(x) * i0e(x)),
    doc="""The exponentially scaled Bessel function ``exp(-|x|) * i0(x)`` (no overflow).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.i0e(flambeau.tensor([0.0, 1.0, 1000.0]))
    tensor([1.0000, 0.4658, 0.0126])
    """)
I1, i1 = _ew._unary_op(
    "i1", _in_float64(lambda xp, a: _bessel_i_arr(xp, a, 1, False)), _i1_grad,
    doc="""The modified Bessel function of the first kind of order one (odd in ``x``).

    Its gradient is ``i0(x) - i1(x) / x`` (1/2 at 0).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.i1(flambeau.tensor([0.0, 1.0, -2.0]))
    tensor([ 0.0000,  0.5652, -1.5906])
    """)
I1e, i1e = _ew._unary_op(
    "i1e", _in_float64(lambda xp, a: _bessel_i_arr(xp, a, 1, True)), _i1e_grad,
    doc="""The exponentially scaled Bessel function ``exp(-|x|) * i1(x)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.i1e(flambeau.tensor([0.0, 1.0, -1000.0]))
    tensor([ 0.0000,  0.2079, -0.0126])
    """)


def _sinc_arr(xp, x):
    safe = xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, 1.0, _sinpi(xp, safe) / (_PI * safe))


def _sinc_complex(xp, z):
    # no exact reduction by periods here: sin(pi z) of a complex z in the input's precision,
    # as PyTorch computes it
    with errors_ignored(xp):
        safe = xp.where(z == 0, 1, z) * _PI
        return xp.where(z == 0, 1, xp.sin(safe) / safe).astype(z.dtype, copy=False)


def _sinc_grad(g, x, o):
    safe = _ew.where(x == 0, 1.0, x)
    return g * _conj(_ew.where(x == 0, 0.0, (_ew.cos(_PI * safe) - sinc(safe)) / safe))


Sinc, sinc = _ew._unary_op(
    "sinc", _in_float64(_sinc_arr), _sinc_grad, on_complex={"fwd": _sinc_complex},
    doc="""The normalized sinc function ``sin(pi x) / (pi x)``, 1 at 0 (complex ``x`` too).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.sinc(flambeau.tensor([0.0, 0.5, 1.0]))
    tensor([1.0000, 0.6366, 0.0000])
    >>> flambeau.sinc(flambeau.tensor([0.5j]))
    tensor([1.4651+0.j])
    """)


def _scale_op(name, factor, doc):
    def fwd(xp, a):
        return (a * factor).astype(a.dtype, copy=False)

    return _ew._unary_op(name, fwd, lambda g, x, o: g * factor, save="", doc=doc)


Deg2rad, deg2rad = _scale_op("deg2rad", _PI / 180.0, """Degrees to radians.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.deg2rad(flambeau.tensor([180.0, 90.0]))
    tensor([3.1416, 1.5708])
    """)
Rad2deg, rad2deg = _scale_op("rad2deg", 180.0 / _PI, """Radians to degrees.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rad2deg(flambeau.tensor([3.141592653589793]))
    tensor([180.])
    """)


def _entr_arr(xp, x):
    safe = xp.where(x > 0, x, 1.0)
    out = xp.where(x > 0, -safe * xp.log(safe), xp.where(x == 0, 0.0, -xp.inf))
    return xp.where(xp.isnan(x), xp.nan, out)


def _entr_grad(g, x, o):
    with errors_ignored(x._device._xp):  # -(log(0) + 1) = inf at 0, as PyTorch
        return -g * (_ew.log(x) + 1)


Entr, entr = _ew._unary_op(
    "entr", _in_float64(_entr_arr), _entr_grad,
    doc="""Elementwise entropy ``-x * log(x)``: 0 at 0 and ``-inf`` for negative ``x``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.entr(flambeau.tensor([0.0, 0.5, 1.0, -1.0]))
    tensor([0.0000, 0.3466, -0.0000,   -inf])
    """)
Erfcx, erfcx = _ew._unary_op(
    "erfcx", _in_float64(_erfcx_arr),
    lambda g, x, o: g * (2 * x * erfcx(x) - _TWO_OVER_SQRT_PI),
    doc="""The scaled complementary error function ``exp(x^2) * erfc(x)``, accurate where
    ``erfc`` underflows.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.erfcx(flambeau.tensor([0.0, 1.0, 100.0]))
    tensor([1.0000, 0.4276, 0.0056])
    """)
Ndtr, ndtr = _ew._unary_op(
    "ndtr", _in_float64(_ndtr_arr),
    lambda g, x, o: g * _ew.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * _PI)),
    doc="""The standard normal cumulative distribution function.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.ndtr(flambeau.tensor([0.0, 1.0, -3.0]))
    tensor([0.5000, 0.8413, 0.0013])
    """)
Ndtri, ndtri = _ew._unary_op(
    "ndtri", _in_float64(_ndtri_arr),
    lambda g, x, o: g * math.sqrt(2.0 * _PI) * _ew.exp(0.5 * o * o), save="out",
    doc="""The inverse of :func:`ndtr`: the standard normal quantile of ``p`` in ``[0, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.ndtri(flambeau.tensor([0.5, 0.975, 0.0]))
    tensor([0.0000, 1.9600,   -inf])
    """)
LogNdtr, log_ndtr = _ew._unary_op(
    "log_ndtr", _in_float64(_log_ndtr_arr),
    lambda g, x, o: g * _ew.exp(-0.5 * x * x - log_ndtr(x) - _HALF_LOG_2PI),
    doc="""``log(ndtr(x))``, accurate far into both tails.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.log_ndtr(flambeau.tensor([0.0, -40.0]))
    tensor([  -0.6931, -804.6084])
    """)


# ====================================================================== binary ops


def _arrays(a, b):
    return (a._data if isinstance(a, Tensor) else a), (b._data if isinstance(b, Tensor) else b)


def _tensor_of(a, b):
    return a if isinstance(a, Tensor) else b


def _check_float(op, t):
    refuse_complex(op, t)
    if t._data.dtype not in FLOAT_NP:
        raise NotImplementedError(f'"{op}" is not implemented for {t.dtype} tensors (only '
                                  "floating-point ones); convert them with .float() first")


def _check_integer(op, t):
    refuse_complex(op, t)
    if t._data.dtype.kind not in "iu":
        raise NotImplementedError(f'"{op}" is not implemented for {t.dtype} tensors (only '
                                  "integer ones)")


def _binary_forward(op, xp, fn, a, b):
    try:
        with errors_ignored(xp):
            return fn(*_arrays(a, b))
    except ValueError:
        raise _ew._broadcast_error(op, a, b) from None


class LogAddExp2(Function):
    """The op behind :func:`flambeau.logaddexp2`."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)
        t = _tensor_of(a, b)
        return _binary_forward("logaddexp2", t._device._xp, t._device._xp.logaddexp2, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        d = (a if a is not None else sa) - (b if b is not None else sb)
        ga = g * _ew.sigmoid(d * _LN2) if ctx.needs_input_grad[0] else None
        gb = g * _ew.sigmoid(-d * _LN2) if ctx.needs_input_grad[1] else None
        return ga, gb


def logaddexp2(input, other, *, out=None):
    """``log2(2**input + 2**other)`` without overflow.

    Raises
    ------
    NotImplementedError
        For integer or bool tensors (as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logaddexp2(flambeau.tensor([1.0, 1000.0]), flambeau.tensor([1.0, 1000.0]))
    tensor([   2., 1001.])
    """
    a, b = promote("logaddexp2", input, other)
    _check_float("logaddexp2", _tensor_of(a, b))
    return _ew._out(LogAddExp2.apply(a, b), out)


class Heaviside(Function):
    """The op behind :func:`flambeau.heaviside` (PyTorch defines no derivative for it)."""

    @staticmethod
    def forward(ctx, x, values):
        xp = x._device._xp
        step = (x._data > 0).astype(x._data.dtype)
        return _binary_forward("heaviside", xp, lambda a, v: xp.where(a == 0, v, step),
                               x, values)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'heaviside' is not implemented")


def heaviside(input, values, *, out=None):
    """The Heaviside step: 0 where ``input < 0``, ``values`` where it is 0, 1 where ``> 0``.

    NaN inputs give 0, as in PyTorch. There is no gradient (backward raises).

    Raises
    ------
    RuntimeError
        If ``input`` and ``values`` have different dtypes.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.heaviside(flambeau.tensor([-1.5, 0.0, 2.0]), flambeau.tensor(0.5))
    tensor([0.0000, 0.5000, 1.0000])
    """
    refuse_complex("heaviside", input, values)
    if not isinstance(values, Tensor):
        values = scalar_tensor(values, input)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes (input is {input.dtype}, values is {values.dtype})")
    return _ew._out(Heaviside.apply(input, values), out)


class Copysign(Function):
    """The op behind :func:`flambeau.copysign` of two tensors (``_CopysignByNumber``: a
    number ``other``)."""

    @staticmethod
    def forward(ctx, a, b):
        xp = a._device._xp
        out = _binary_forward("copysign", xp, xp.copysign, a, b)
        if ctx.needs_input_grad[0]:
            # d out / d a = +1 or -1 (0 at a == 0, as PyTorch): a constant of the inputs' signs
            flip = xp.signbit(a._data) != xp.signbit(out)
            ratio = xp.where(a._data == 0, 0, xp.where(flip, -1, 1)).astype(out.dtype)
            ctx.ratio = make(ratio, a)
            ctx.save_for_backward(a, b if isinstance(b, Tensor) else None)
            ctx.number = None if isinstance(b, Tensor) else b
        return out

    @staticmethod
    def backward(ctx, g):
        ga = None
        if ctx.needs_input_grad[0]:
            ratio = ctx.ratio
            if _grad_state.grad_enabled:
                # a graph of the gradient: torch's out / a (0 where a == 0), recorded as a
                # function of the inputs, so that it reaches them (zeros, NaN at a == 0)
                a, b = ctx.saved_tensors
                b = ctx.number if b is None else b
                ratio = _ew.where(a == 0, 0.0, Copysign.apply(a, b) / a)
            ga = g * ratio
        # zeros that are no function of anything, as torch's zeros_like(other)
        gb = _ew._zeros_of(g) if ctx.needs_input_grad[1] else None
        return ga, gb


_CopysignByNumber = node_variant(Copysign, "CopysignBackward1")  # torch's Scalar form


def copysign(input, other, *, out=None):
    """The magnitude of ``input`` with the sign of ``other`` (which may be a number).

    Integer inputs give the default float dtype. The gradient with respect to ``input`` is
    +/-1 (0 where ``input`` is 0), with respect to ``other`` 0.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.copysign(flambeau.tensor([1.0, -2.0, 3.0]), flambeau.tensor([-1.0, 1.0, -0.0]))
    tensor([-1.,  2., -3.])
    >>> flambeau.copysign(flambeau.tensor([1, 2]), -1)
    tensor([-1., -2.])
    """
    refuse_complex("copysign", input, other)
    a, b = promote_float("copysign", input, other)
    if not isinstance(a, Tensor):
        a = scalar_tensor(a, b)
    cls = Copysign if isinstance(b, Tensor) else _CopysignByNumber
    return _ew._out(cls.apply(a, b), out)


class Nextafter(Function):
    """The op behind :func:`flambeau.nextafter`."""

    @staticmethod
    def forward(ctx, a, b):
        xp = a._device._xp
        out = _binary_forward("nextafter", xp, xp.nextafter, a, b)
        ctx.moved = make(xp.asarray(a._data != (b._data if isinstance(b, Tensor) else b)), a)
        return out

    @staticmethod
    def backward(ctx, g):
        # one ulp is no change to first order: the gradient passes to input, except where
        # input == other (the result is other itself); 0 for other (PyTorch's convention)
        ga = _ew.where(ctx.moved, g, 0.0) if ctx.needs_input_grad[0] else None
        return ga, (g * 0.0 if ctx.needs_input_grad[1] else None)


def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` in the direction of ``other``.

    Raises
    ------
    NotImplementedError
        For integer or bool tensors.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64)
    >>> (flambeau.nextafter(x, flambeau.tensor([2.0, 1.0], dtype=flambeau.float64)) - x).tolist()
    [2.220446049250313e-16, -2.220446049250313e-16]
    """
    a, b = promote("nextafter", input, other)
    _check_float("nextafter", _tensor_of(a, b))
    if not isinstance(a, Tensor):
        a = scalar_tensor(a, b)
    return _ew._out(Nextafter.apply(a, b), out)


def ldexp(input, other, *, out=None):
    """``input * 2 ** other``; integer inputs give the default float dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ldexp(flambeau.tensor([1.0, 3.0]), flambeau.tensor([3, -1]))
    tensor([8.0000, 1.5000])
    """
    a, b = promote_float("ldexp", input, other)
    if not isinstance(b, Tensor):
        return _ew._out(_ew.mul(a, 2.0 ** b), out)
    if not isinstance(a, Tensor):
        return _ew._out(_ew.mul(_ew.exp2(b), a), out)
    return _ew._out(_ew.mul(a, _ew.exp2(b)), out)


class Frexp(Function):
    """The op behind :func:`flambeau.frexp` (the exponent has no gradient)."""

    @staticmethod
    def forward(ctx, x):
        xp = x._device._xp
        mantissa, exponent = xp.frexp(x._data)
        exponent = make(xp.asarray(exponent).astype(xp.int32, copy=False), x)
        ctx.mark_non_differentiable(exponent)
        ctx.scale = make(xp.ldexp(xp.ones_like(x._data), -exponent._data), x)
        return make(mantissa, x), exponent

    @staticmethod
    def backward(ctx, g, _g_exponent):
        return g * ctx.scale


def frexp(input, *, out=None):
    """Split ``input`` into mantissas in ``[0.5, 1)`` and int32 exponents:
    ``input = mantissa * 2 ** exponent`` (``(0, 0)`` for zero; inf and NaN keep exponent 0).

    Returns a named tuple ``(mantissa, exponent)``.

    Raises
    ------
    RuntimeError
        For integer or bool inputs.

    Examples
    --------
    >>> import flambeau
    >>> mantissa, exponent = flambeau.frexp(flambeau.tensor([8.0, -3.0, 0.0]))
    >>> mantissa, exponent
    (tensor([ 0.5000, -0.7500,  0.0000]), tensor([4, 2, 0], dtype=flambeau.int32))
    """
    refuse_complex("frexp", input)
    if input._data.dtype not in FLOAT_NP:
        raise RuntimeError(f"frexp() only supports floating-point dtypes (got {input.dtype})")
    result = frexp_result(*Frexp.apply(input))
    if out is not None:
        _ew._out(result.mantissa, out[0])
        _ew._out(result.exponent, out[1])
        return frexp_result(*out)
    return result


def signbit(input, *, out=None):
    """True where the sign bit is set (negative numbers, ``-0.0`` and ``-nan``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.signbit(flambeau.tensor([-1.0, -0.0, 0.0, 2.0]))
    tensor([ True,  True, False, False])
    """
    refuse_complex("signbit", input)
    xp = input._device._xp
    data = input._data
    if data.dtype in _ew.FLOAT8_NP:
        _ew._refuse_float8("signbit", input)
    try:
        res = xp.zeros(data.shape, dtype=bool) if data.dtype.kind == "b" else xp.signbit(data)
    except TypeError:  # a backend's refusal of a sparse operand (CuPy's)
        refuse_sparse_inputs((input,), "signbit")
        raise
    return _ew._out(make(res, input), out)


def _infinity_test(name, sign, doc):
    def op(input, *, out=None):
        refuse_complex(name, input)
        xp = input._device._xp
        data = input._data
        if data.dtype in _ew.FLOAT8_NP:
            _ew._refuse_float8(name, input)
        if data.dtype in FLOAT_NP:
            res = data == sign * xp.inf
        else:
            res = xp.zeros(data.shape, dtype=bool)
        return _ew._out(make(res, input), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


isneginf = _infinity_test("isneginf", -1, """True where the value is ``-inf``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isneginf(flambeau.tensor([-float("inf"), float("inf"), 1.0]))
    tensor([ True, False, False])
    """)
isposinf = _infinity_test("isposinf", 1, """True where the value is ``+inf``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.isposinf(flambeau.tensor([-float("inf"), float("inf"), 1.0]))
    tensor([False,  True, False])
    """)


def _integer_binary(name, kernel, doc):
    def op(input, other, *, out=None):
        a, b = promote(name, input, other)
        t = _tensor_of(a, b)
        _check_integer(name, t)
        xp = t._device._xp
        return _ew._out(make(_binary_forward(name, xp, lambda x, y: kernel(xp, x, y, t), a, b),
                             t), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _gcd(xp, a, b, t):
    return xp.asarray(xp.gcd(a, b)).astype(t._data.dtype, copy=False)


def _lcm(xp, a, b, t):
    return xp.asarray(xp.lcm(a, b)).astype(t._data.dtype, copy=False)


def _bits(t):
    return t._data.dtype.itemsize * 8


def _left_shift(xp, a, b, t):
    bits = _bits(t)
    b = xp.asarray(b)
    amount = xp.clip(b, 0, bits - 1).astype(t._data.dtype)
    res = xp.left_shift(a, amount)
    return xp.where((b < 0) | (b >= bits), 0, res).astype(t._data.dtype, copy=False)


def _right_shift(xp, a, b, t):
    bits = _bits(t)
    b = xp.asarray(b)
    beyond = (b < 0) | (b >= bits)
    amount = xp.where(beyond, bits - 1, b).astype(t._data.dtype)
    res = xp.right_shift(a, amount)
    if t._data.dtype.kind == "u":
        res = xp.where(beyond, 0, res)
    return xp.asarray(res).astype(t._data.dtype, copy=False)


gcd = _integer_binary("gcd", _gcd, """The greatest common divisor (non-negative) of integers.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.gcd(flambeau.tensor([12, -9, 0]), flambeau.tensor([18, 6, 0]))
    tensor([6, 3, 0])
    """)
lcm = _integer_binary("lcm", _lcm, """The least common multiple (non-negative) of integers.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.lcm(flambeau.tensor([4, -6, 0]), flambeau.tensor([6, 4, 5]))
    tensor([12, 12,  0])
    """)
bitwise_left_shift = _integer_binary("bitwise_left_shift", _left_shift, """``input << other``
    for integer tensors (either may be a number); shifts of the bit width or more, or
    negative shifts, give 0 (as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_left_shift(flambeau.tensor([1, 3, -2]), 2)
    tensor([ 4, 12, -8])
    >>> flambeau.tensor([1, 2]) << flambeau.tensor([1, 64])
    tensor([2, 0])
    """)
bitwise_right_shift = _integer_binary("bitwise_right_shift", _right_shift, """``input >> other``
    (arithmetic: negative numbers stay negative); shifts of the bit width or more, or
    negative shifts, give 0 or -1 by the sign (0 for unsigned types), as PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bitwise_right_shift(flambeau.tensor([16, -16, 5]), 2)
    tensor([ 4, -4,  1])
    """)


class Xlog1py(Function):
    """The op behind :func:`flambeau.special.xlog1py`."""

    @staticmethod
    def forward(ctx, a, b):
        t = _tensor_of(a, b)
        xp = t._device._xp
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)

        def kernel(x, y):
            out = x * xp.log1p(y)
            return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)

        return _binary_forward("xlog1py", xp, kernel, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.scalars
        x = a if a is not None else sa
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # PyTorch's slope in x is log1p(y), at x == 0 too (xlogy's is masked there), but
            # 0 where x == 0 meets y <= -1
            yt = b if b is not None else scalar_tensor(sb, a)
            ga = g * _ew.where((a == 0) & (yt <= -1), 0.0, yt.log1p())
        if ctx.needs_input_grad[1]:
            gb = g * x / (b + 1)
        return ga, gb


def xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN).

    Either argument may be a number; integer inputs give the default float dtype.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.xlog1py(flambeau.tensor([0.0, 2.0]), flambeau.tensor([-1.0, 1.0]))
    tensor([0.0000, 1.3863])
    """
    refuse_complex("xlog1py", input, other)
    a, b = promote_float("xlog1py", input, other)
    return _ew._out(Xlog1py.apply(a, b), out)


class Zeta(Function):
    """The op behind :func:`flambeau.special.zeta`."""

    @staticmethod
    def forward(ctx, s, q):
        t = _tensor_of(s, q)
        xp = t._device._xp
        ctx.save_for_backward(s if isinstance(s, Tensor) else None,
                              q if isinstance(q, Tensor) else None)
        ctx.scalars = (s, q)
        sa, qa = _arrays(s, q)
        try:
            sa, qa = xp.broadcast_arrays(_f64(xp, sa), _f64(xp, qa))
        except ValueError:
            raise _ew._broadcast_error("zeta", s, q) from None
        with errors_ignored(xp):
            return _finish(xp, _zeta_arr(xp, sa, qa), t._data)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise RuntimeError("the derivative for 'zeta' with respect to x (the first "
                               "argument) is not implemented")
        s, _ = ctx.saved_tensors
        sv = s if s is not None else ctx.scalars[0]
        q = ctx.saved_tensors[1]
        return None, g * -sv * zeta(sv + 1.0, q)


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function ``zeta(x, q) = sum_{k >= 0} (q + k) ** -x``.

    ``input`` is ``x`` (> 1), ``other`` is ``q``; either may be a number. ``x == 1`` and the
    poles ``q = 0, -1, -2, ...`` give inf; ``x < 1`` NaN; negative non-integer ``q`` is
    defined for integer ``x`` only. Differentiable in ``q`` (``-x * zeta(x + 1, q)``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.special.zeta(flambeau.tensor([2.0, 3.0]), 1.0)
    tensor([1.6449, 1.2021])
    >>> flambeau.special.zeta(2.0, flambeau.tensor([2.0, 0.5]))
    tensor([0.6449, 4.9348])
    """
    refuse_complex("zeta", input, other)
    a, b = promote_float("zeta", input, other)
    return _ew._out(Zeta.apply(a, b), out)


# ====================================================================== Tensor methods


def _float_power_(self, exponent):
    """In-place :func:`flambeau.float_power`; ``self`` must already be float64 (complex128
    when it or the exponent is complex).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([2.0, 3.0], dtype=flambeau.float64).float_power_(2)
    tensor([4., 9.], dtype=flambeau.float64)
    """
    from flambeau import _inplace

    want = _dtype.complex128 if self._data.dtype.kind == "c" or _ew._is_complex_operand(
        exponent) else _dtype.float64
    if self._data.dtype != want.np:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {want}")
    return _inplace.write_result(self, lambda src: _ew.float_power(src, exponent),
                                 "float_power_")


def _swapped(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


#: Tensor methods defined here (merged into ``flambeau._methods._FUNCTIONAL``)
TENSOR_METHODS = {
    "acosh": acosh, "asinh": asinh, "atanh": atanh, "arccosh": acosh, "arcsinh": asinh,
    "arctanh": atanh, "lgamma": lgamma, "digamma": digamma, "polygamma": _polygamma_method,
    "mvlgamma": mvlgamma, "erfinv": erfinv, "i0": i0, "sinc": sinc,
    "logaddexp2": logaddexp2, "heaviside": heaviside, "copysign": copysign,
    "nextafter": nextafter, "ldexp": ldexp, "frexp": frexp, "signbit": signbit,
    "isneginf": isneginf, "isposinf": isposinf, "gcd": gcd, "lcm": lcm,
    "deg2rad": deg2rad, "rad2deg": rad2deg, "bitwise_left_shift": bitwise_left_shift,
    "bitwise_right_shift": bitwise_right_shift, "float_power_": _float_power_,
    "__lshift__": bitwise_left_shift, "__rshift__": bitwise_right_shift,
    "__rlshift__": _swapped(bitwise_left_shift), "__rrshift__": _swapped(bitwise_right_shift),
    "__ilshift__": lambda self, other: self.bitwise_left_shift_(other),
    "__irshift__": lambda self, other: self.bitwise_right_shift_(other),
}

#: ops (here and in elementwise) that get an in-place ``name_`` Tensor method
INPLACE = [
    "acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "lgamma", "digamma",
    "polygamma", "mvlgamma", "erfinv", "i0", "sinc", "copysign", "nextafter", "ldexp",
    "heaviside", "gcd", "lcm", "deg2rad", "rad2deg", "bitwise_left_shift",
    "bitwise_right_shift",
    "absolute", "acos", "arccos", "asin", "arcsin", "atan", "arctan", "arctan2", "cosh",
    "sinh", "tan", "exp2", "log10", "logit", "sgn", "fix", "erfc", "xlogy", "eq", "ne", "lt",
    "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_xor", "bitwise_not", "bitwise_xor", "negative",
]

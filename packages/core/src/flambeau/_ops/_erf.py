"""The error function to double precision, without SciPy.

W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969): ``erf`` itself near
zero, ``erfc`` times a Gaussian beyond, in three ranges of ``|x|``. :func:`erf` (NumPy arrays)
evaluates each range on its own elements only, with in-place Horner steps; the Gaussian factor
is split in two exponentials as Cody advises, to keep the relative error near 1e-16 over the
whole line. :func:`erfc` and :func:`erfcx` take any array namespace ``xp`` (NumPy, CuPy) and
evaluate every range everywhere with ``where``, out of place; ``erfc`` keeps its full relative
accuracy in the right tail, where ``1 - erf`` would round to 0.
"""

from __future__ import annotations

import math

import numpy as np

from flambeau._ops._select import errors_ignored

__all__ = ["erf", "erfc", "erfcx"]

# erf(x) = x * R(x^2) on |x| <= 0.46875
_NEAR = ((3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02),
         (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03),
         1.85777706184603153e-1, 3.20937758913846947e03, 2.84423683343917062e03)
# erfc(x) = exp(-x^2) * R(x) on 0.46875 < |x| <= 4
_MIDDLE = ((5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
            2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
            2.05107837782607147e03),
           (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
            1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
            3.43936767414372164e03),
           2.15311535474403846e-8, 1.23033935479799725e03, 1.23033935480374942e03)
# erfc(x) = exp(-x^2) / x * (1/sqrt(pi) + R(1/x^2) / x^2) on |x| > 4
_FAR = ((3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
         1.60837851487422766e-2),
        (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
         6.05183413124413191e-2),
        1.63153871373020978e-2, 6.58749161529837803e-4, 2.33520497626869185e-3)


def _rational(z, coefficients):
    """Cody's Horner scheme: ``(lead z + a_0) z + ... + a_last`` over ``(z + b_0) z + ...``."""
    tops, bottoms, lead, top_last, bottom_last = coefficients
    num = lead * z
    den = z.copy()
    for a, b in zip(tops, bottoms):
        num += a
        num *= z
        den += b
        den *= z
    num += top_last
    den += bottom_last
    num /= den
    return num


def _gauss(y):
    """``exp(-y*y)``, with ``y*y`` split at a multiple of 1/16 to keep its rounding out."""
    head = np.trunc(y * 16.0)
    head /= 16.0
    tail = (y - head) * (y + head)
    head *= head
    np.negative(head, out=head)
    np.exp(head, out=head)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    head *= tail
    return head


def erf(a):
    """``erf`` of a NumPy array, computed in float64 (relative error below 5e-16).

    Examples
    --------
    >>> import numpy as np
    >>> erf(np.array([0.0, 0.5, -3.0]))
    array([ 0.        ,  0.52049988, -0.99997791])
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.abs(x)
    out = np.full_like(x, np.nan)
    near = y <= 0.46875
    xs = x[near]
    out[near] = xs * _rational(xs * xs, _NEAR)
    middle = (y > 0.46875) & (y <= 4.0)
    ym = y[middle]
    erfc = _gauss(ym) * _rational(ym, _MIDDLE)
    out[middle] = np.copysign(1.0 - erfc, x[middle])
    far = y > 4.0  # NaN falls in no range and stays NaN
    if far.any():
        yf = np.minimum(y[far], 27.0)  # erfc has underflowed to 0 by 26.6 (and for inf)
        z = 1.0 / (yf * yf)
        tail = (1.0 / math.sqrt(math.pi) - z * _rational(z, _FAR)) / yf
        out[far] = np.copysign(1.0 - _gauss(yf) * tail, x[far])
    return out


# ----------------------------------------------------------------- any array namespace


def rational(z, coefficients):
    """:func:`_rational` out of place, for any array namespace (or a Python float)."""
    tops, bottoms, lead, top_last, bottom_last = coefficients
    num = lead * z
    den = z
    for a, b in zip(tops, bottoms):
        num = (num + a) * z
        den = (den + b) * z
    return (num + top_last) / (den + bottom_last)


def gauss(xp, y, sign=-1.0):
    """``exp(sign * y * y)`` with ``y * y`` split at a multiple of 1/16, as :func:`_gauss`."""
    head = xp.trunc(y * 16.0) / 16.0
    tail = (y - head) * (y + head)
    return xp.exp(sign * head * head) * xp.exp(sign * tail)


def erfcx_nonneg(xp, x):
    """``exp(x*x) * erfc(x)`` for ``x >= 0`` (Cody's three ranges)."""
    near = x <= 0.46875
    xn = xp.where(near, x, 0.0)
    erf_near = xn * rational(xn * xn, _NEAR)
    small = xp.exp(xn * xn) * (1.0 - erf_near)
    middle_x = xp.where(near, 1.0, xp.minimum(x, 4.0))
    middle = rational(middle_x, _MIDDLE)
    far_x = xp.maximum(x, 4.0)
    z = 1.0 / (far_x * far_x)
    far = (1.0 / math.sqrt(math.pi) - z * rational(z, _FAR)) / far_x
    return xp.where(near, small, xp.where(x <= 4.0, middle, far))


def erfcx(xp, x):
    """The scaled complementary error function ``exp(x*x) * erfc(x)`` of a float64 array.

    Examples
    --------
    >>> import numpy as np
    >>> erfcx(np, np.array([0.0, 30.0]))
    array([1.        , 0.01879589])
    """
    ax = xp.abs(x)
    pos = erfcx_nonneg(xp, ax)
    # erfcx(-a) = 2 exp(a^2) - erfcx(a): overflows to inf below -26.6, as it should
    left = xp.where(x < 0, xp.minimum(ax, 27.0), 0.0)  # exp(x*x) only where it is used
    with errors_ignored(xp, "over"):  # inf below -26.64 is the answer
        neg = 2.0 * gauss(xp, left, 1.0) - pos
    neg = xp.where(ax > 27.0, xp.inf, neg)
    return xp.where(x < 0, neg, pos)


def erfc(xp, x):
    """``erfc`` of a float64 array with full relative accuracy in the right tail.

    Examples
    --------
    >>> import numpy as np
    >>> erfc(np, np.array([0.0, 10.0]))
    array([1.00000000e+00, 2.08848758e-45])
    """
    ax = xp.abs(x)
    tail = erfcx_nonneg(xp, ax) * gauss(xp, xp.minimum(ax, 27.0))
    tail = xp.where(ax > 27.0, 0.0, tail)
    return xp.where(x < 0, 2.0 - tail, tail)

"""Special functions, as ``torch.special``.

The names that ``flambeau`` also exports (``erf``, ``erfinv``, ``i0``, ``sinc``, ...) are the
same functions; the others (``ndtr``, ``ndtri``, ``log_ndtr``, ``erfcx``, ``i0e``, ``i1``,
``i1e``, ``entr``, ``xlog1py``, ``zeta``) live here only. Integer inputs give the default
float dtype, as in PyTorch.

Examples
--------
>>> import flambeau
>>> x = flambeau.tensor([0.5, 1.0, 2.0])
>>> flambeau.special.gammaln(x)
tensor([0.5724, 0.0000, 0.0000])
>>> flambeau.special.ndtri(flambeau.special.ndtr(x))
tensor([0.5000, 1.0000, 2.0000])
"""

from __future__ import annotations

from flambeau._ops.elementwise import erf, erfc, exp2, expm1, log1p, logit, round, xlogy
from flambeau._ops.elementwise import sigmoid as _sigmoid
from flambeau._ops.reduction import log_softmax, logsumexp, softmax
from flambeau._ops.special import (
    digamma,
    entr,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    lgamma,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    sinc,
    xlog1py,
    zeta,
)
from flambeau._ops.special_more import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax",
    "xlog1py", "xlogy", "zeta",
    # incomplete gamma, Bessel and Airy functions, orthogonal polynomials
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "gammainc",
    "gammaincc", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "spherical_bessel_j0",
]

#: :func:`flambeau.sigmoid` under SciPy's name
expit = _sigmoid
#: :func:`flambeau.lgamma` under SciPy's name
gammaln = lgamma
#: :func:`digamma` under its other name
psi = digamma
#: :func:`flambeau.mvlgamma` under SciPy's name
multigammaln = mvlgamma

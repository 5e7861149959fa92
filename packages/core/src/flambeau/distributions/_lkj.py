r"""The LKJ distribution over Cholesky factors of correlation matrices (Lewandowski,
Kurowicka and Joe, 2009).

Sampling uses the onion method: row ``i`` (``i = 1 .. d - 1``) of the factor is
``sqrt(y_i) u_i`` on its first ``i`` entries, with ``u_i`` uniform on the unit sphere of
``R^i`` and ``y_i ~ Beta(i / 2, eta + (d - 1 - i) / 2)``, and ``sqrt(1 - y_i)`` on the
diagonal. The density of that row's off-diagonal entries ``w`` (in ``R^i``, ``|w| < 1``) is
``Gamma(alpha) / (pi^(i/2) Gamma(b_i)) (1 - |w|^2)^(b_i - 1)`` with ``b_i = eta + (d - 1 - i)
/ 2`` and ``alpha = eta + (d - 1) / 2``; as ``1 - |w|^2 = L_ii^2``, the product over the rows
is ``log_prob``.
"""

from __future__ import annotations

import math
from numbers import Integral

import flambeau
from flambeau.distributions import constraints
from flambeau.distributions._distribution import Distribution
from flambeau.distributions._gamma_family import Beta
from flambeau.distributions._utils import _expand_params, broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    r"""The LKJ distribution of lower Cholesky factors ``L`` of ``dim x dim`` correlation
    matrices ``L L^T``: the correlation matrix has density proportional to
    ``det(L L^T)^(concentration - 1)``.

    ``concentration = 1`` is uniform over correlation matrices, larger values concentrate
    them around the identity, smaller ones away from it. ``log_prob`` is the density of the
    strictly lower-triangular entries of ``L`` (which determine the rest). Samples come from
    the onion method; there is no ``rsample``.

    Parameters
    ----------
    dim : int
        The size of the matrices, at least 2.
    concentration : float or Tensor, optional
        The shape ``eta``, positive (default 1).
    validate_args : bool, optional
        Check the parameter and the values given to :meth:`log_prob`.

    Raises
    ------
    ValueError
        If ``dim < 2``, or (``validate_args``) ``concentration <= 0`` somewhere or a value is
        not the Cholesky factor of a correlation matrix.

    Notes
    -----
    ``torch.distributions.LKJCholesky`` draws the ``y_i`` from ``Beta(i - 1/2, ...)``
    instead of ``Beta(i / 2, ...)``, which biases its samples for ``dim >= 3`` (they do not
    follow its own ``log_prob``); the samples here do.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import LKJCholesky
    >>> d = LKJCholesky(3, flambeau.tensor([0.5, 2.0]))
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([2]), flambeau.Size([3, 3]))
    >>> d.log_prob(flambeau.eye(3))
    tensor([-2.5310, -0.6155])
    >>> _ = flambeau.manual_seed(0)
    >>> L = d.sample((4,))
    >>> L.shape, bool(((L @ L.mT).diagonal(dim1=-2, dim2=-1) - 1).abs().max() < 1e-5)
    (flambeau.Size([4, 2, 3, 3]), True)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if not isinstance(dim, Integral) or dim < 2:
            raise ValueError(
                f"LKJCholesky: Expected dim to be an integer greater than or equal "
                f"to 2. Found dim={dim!r}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)
        self._beta = self._row_radii()

    def _row_radii(self):
        """``Beta(i / 2, b_i)`` for the squared norm of row ``i``'s off-diagonal part, over
        a last dim of size ``dim`` (row 0, which has none, gets a placeholder)."""
        c = self.concentration
        i = flambeau.arange(self.dim, dtype=c.dtype, device=c.device)
        conc1 = flambeau.where(i > 0, 0.5 * i, 0.5)
        conc0 = c.unsqueeze(-1) + 0.5 * (self.dim - 1 - flambeau.where(i > 0, i, 1.0))
        return Beta(conc1.expand(tuple(conc0.shape)), conc0, validate_args=False)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, LKJCholesky, batch_shape, _instance, ("concentration",))
        new.dim = self.dim
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        return new

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        dtype, device = self.concentration.dtype, self.concentration.device
        with flambeau.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            # uniform directions: normalized Gaussian vectors on each row's first i entries
            g = flambeau.randn(*shape, dtype=dtype, device=device).tril(-1)
            norm = g.norm(dim=-1, keepdim=True)
            direction = g / flambeau.where(norm > 0, norm, 1.0)  # row 0 stays zero
            w = y.sqrt() * direction
            tiny = flambeau.finfo(dtype).tiny
            diag = (1 - w.pow(2).sum(-1)).clamp(min=tiny).sqrt()
            return w + flambeau.diag_embed(diag)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        d = self.dim
        c = self.concentration
        i = flambeau.arange(1, d, dtype=c.dtype, device=c.device)
        # row i: (1 - |w|^2)^(b_i - 1) = L_ii^(2 b_i - 2) = L_ii^(2 eta + d - 3 - i)
        exponents = 2 * c.unsqueeze(-1) + (d - 3) - i
        diag = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        unnormalized = (exponents * diag.log()).sum(-1)
        # log of prod_i pi^(i/2) Gamma(b_i) / Gamma(alpha)
        alpha = c + 0.5 * (d - 1)
        b = c.unsqueeze(-1) + 0.5 * (d - 1 - i)
        log_norm = (
            0.25 * d * (d - 1) * math.log(math.pi)
            + flambeau.lgamma(b).sum(-1)
            - (d - 1) * flambeau.lgamma(alpha)
        )
        return unnormalized - log_norm

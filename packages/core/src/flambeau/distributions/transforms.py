"""Invertible (and a few non-invertible) maps between constrained spaces, as
``torch.distributions.transforms``.

A :class:`Transform` ``t`` maps ``x`` in ``t.domain`` to ``y = t(x)`` in ``t.codomain``;
``t.inv(y)`` maps back and ``t.log_abs_det_jacobian(x, y)`` is ``log |dy/dx|``, summed over
the transform's event dims. Everything is written with flambeau ops, so values and Jacobians
are differentiable and run on any device.

Examples
--------
>>> import flambeau
>>> from flambeau.distributions.transforms import ExpTransform
>>> t = ExpTransform()
>>> t(flambeau.tensor([0.0, 1.0]))
tensor([1.0000, 2.7183])
>>> t.inv(flambeau.tensor([1.0]))
tensor([0.])
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import weakref

import flambeau
from flambeau._tensor import Size
from flambeau.distributions import constraints
from flambeau.distributions._utils import (
    _sum_rightmost,
    broadcast_all,
    tril_matrix_to_vec,
    vec_to_tril_matrix,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "TanhTransform",
    "SoftmaxTransform",
    "StackTransform",
    "StickBreakingTransform",
    "Transform",
    "identity_transform",
]


def _softplus(x):
    # log(1 + exp(x)) without overflow, smooth everywhere (also its gradient at 0)
    return flambeau.logaddexp(x, flambeau.zeros_like(x))


def _clipped_sigmoid(x):
    # keep y strictly inside (0, 1) so that the inverse stays finite
    finfo = flambeau.finfo(x.dtype)
    return flambeau.sigmoid(x).clamp(min=finfo.tiny, max=1.0 - finfo.eps)


def _pad_last(x, before, after, value):
    """``x`` with ``before``/``after`` entries equal to ``value`` added along the last dim."""
    parts = []
    lead = tuple(x.shape[:-1])
    if before:
        parts.append(flambeau.full(lead + (before,), value, dtype=x.dtype, device=x.device))
    parts.append(x)
    if after:
        parts.append(flambeau.full(lead + (after,), value, dtype=x.dtype, device=x.device))
    return flambeau.cat(parts, dim=-1)


def _check_min_dims(shape, n):
    if len(shape) < n:
        raise ValueError("Too few dimensions on input")


class Transform:
    """Abstract base class of the transforms: an invertible (or not) map with a computable
    log absolute determinant of its Jacobian.

    Subclasses implement ``_call`` (forward), ``_inverse`` and ``log_abs_det_jacobian``, and
    set ``domain``, ``codomain`` and ``bijective``.

    Parameters
    ----------
    cache_size : int, optional
        ``0`` (no caching, the default) or ``1``: remember the latest ``(x, y)`` pair, so
        that ``t.inv(t(x))`` returns ``x`` itself (not a recomputed value) -- useful for
        transforms whose inverse is expensive or inexact.

    Attributes
    ----------
    domain, codomain : Constraint
        The valid inputs and outputs.
    bijective : bool
        Whether the transform is invertible (``t.inv(t(x)) == x`` on the domain).
    sign : int or Tensor
        For bijective elementwise transforms, ``+1`` or ``-1`` as the map is increasing or
        decreasing.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import ExpTransform
    >>> t = ExpTransform(cache_size=1)
    >>> x = flambeau.tensor([0.5])
    >>> t.inv(t(x)) is x
    True
    >>> t.domain, t.codomain, t.bijective, t.sign
    (Real(), GreaterThan(lower_bound=0.0), True, 1)
    """

    bijective = False
    domain: constraints.Constraint
    codomain: constraints.Constraint

    def __init__(self, cache_size=0):
        if cache_size == 0:
            pass
        elif cache_size == 1:
            self._cached_x_y = None, None
        else:
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._inv = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_inv"] = None  # a weak reference does not pickle
        return state

    @property
    def event_dim(self):
        """The number of rightmost dims that form one event (when domain and codomain agree).

        Examples
        --------
        >>> from flambeau.distributions.transforms import SoftmaxTransform
        >>> SoftmaxTransform().event_dim
        1
        """
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform (``t.inv.inv is t``), kept as a weak reference.

        Examples
        --------
        >>> from flambeau.distributions.transforms import ExpTransform
        >>> t = ExpTransform()
        >>> t.inv
        _InverseTransform(ExpTransform())
        >>> t.inv.inv is t
        True
        """
        inv = None
        if self._inv is not None:
            inv = self._inv()
        if inv is None:
            inv = _InverseTransform(self)
            self._inv = weakref.ref(inv)
        return inv

    @property
    def sign(self):
        """``+1``/``-1`` for increasing/decreasing bijective elementwise transforms.

        Examples
        --------
        >>> from flambeau.distributions.transforms import AffineTransform
        >>> AffineTransform(0.0, -2.0).sign
        -1
        """
        raise NotImplementedError

    def with_cache(self, cache_size=1):
        """This transform with the given ``cache_size`` (itself when it already has it).

        Examples
        --------
        >>> from flambeau.distributions.transforms import ExpTransform
        >>> ExpTransform().with_cache(1)._cache_size
        1
        """
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None  # equality is by value in subclasses, as in PyTorch: not hashable

    def __call__(self, x):
        """Apply the transform: ``y = t(x)`` (from the cache when ``x`` is the last input).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.transforms import AffineTransform
        >>> AffineTransform(1.0, 2.0)(flambeau.tensor([0.0, 1.0]))
        tensor([1., 3.])
        """
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y):
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        """``log |det dy/dx|`` for an input ``x`` and its output ``y``, summed over the
        transform's event dims.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions.transforms import ExpTransform
        >>> x = flambeau.tensor([0.0, 2.0])
        >>> ExpTransform().log_abs_det_jacobian(x, x.exp())
        tensor([0., 2.])
        """
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__ + "()"

    def forward_shape(self, shape):
        """The shape of ``t(x)`` for an ``x`` of shape ``shape``.

        Examples
        --------
        >>> from flambeau.distributions.transforms import StickBreakingTransform
        >>> StickBreakingTransform().forward_shape((5, 3))
        (5, 4)
        """
        return shape

    def inverse_shape(self, shape):
        """The shape of ``t.inv(y)`` for a ``y`` of shape ``shape``.

        Examples
        --------
        >>> from flambeau.distributions.transforms import StickBreakingTransform
        >>> StickBreakingTransform().inverse_shape((5, 4))
        (5, 3)
        """
        return shape


class _InverseTransform(Transform):
    """The inverse of a transform (what ``t.inv`` returns)."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return self._inv.codomain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self):
        return self._inv

    def with_cache(self, cache_size=1):
        return self.inv.with_cache(cache_size).inv

    def __eq__(self, other):
        if not isinstance(other, _InverseTransform):
            return False
        return self._inv == other._inv

    def __repr__(self):
        return f"{type(self).__name__}({repr(self._inv)})"

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)


class ComposeTransform(Transform):
    """Apply the transforms of ``parts`` one after the other (``parts[0]`` first).

    Parameters
    ----------
    parts : list of Transform
        The transforms to chain.
    cache_size : int, optional
        ``0`` or ``1``, passed on to every part.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import (AffineTransform, ComposeTransform,
    ...                                                ExpTransform)
    >>> t = ComposeTransform([ExpTransform(), AffineTransform(1.0, 2.0)])
    >>> x = flambeau.tensor([0.0, 1.0])
    >>> t(x)
    tensor([3.0000, 6.4366])
    >>> t.log_abs_det_jacobian(x, t(x))
    tensor([0.6931, 1.6931])
    >>> t.inv(t(x)).round(decimals=4)
    tensor([0., 1.])
    """

    def __init__(self, parts, cache_size=0):
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = parts

    def __eq__(self, other):
        if not isinstance(other, ComposeTransform):
            return False
        return self.parts == other.parts

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        # walk back from the output: the input needs as many event dims as any part needs
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @functools.cached_property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @functools.cached_property
    def sign(self):
        sign = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self):
        inv = None
        if self._inv is not None:
            inv = self._inv()
        if inv is None:
            inv = ComposeTransform([p.inv for p in reversed(self.parts)])
            self._inv = weakref.ref(inv)
            inv._inv = weakref.ref(self)
        return inv

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return flambeau.zeros_like(x)
        # the intermediate values (the parts' caches make these free when enabled)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        terms = []
        event_dim = self.domain.event_dim
        for part, xi, yi in zip(self.parts, xs[:-1], xs[1:]):
            terms.append(
                _sum_rightmost(part.log_abs_det_jacobian(xi, yi), event_dim - part.domain.event_dim)
            )
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return functools.reduce(operator.add, terms)

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self):
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])
"""The identity map (an empty :class:`ComposeTransform`).

Examples
--------
>>> import flambeau
>>> from flambeau.distributions.transforms import identity_transform
>>> identity_transform(flambeau.tensor([1.5]))
tensor([1.5000])
"""


class IndependentTransform(Transform):
    """Wrap ``base_transform`` so that its ``reinterpreted_batch_ndims`` rightmost batch dims
    count as event dims: only ``log_abs_det_jacobian`` changes (it sums over them).

    Parameters
    ----------
    base_transform : Transform
        The transform to wrap.
    reinterpreted_batch_ndims : int
        How many extra rightmost dims form one event.
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import ExpTransform, IndependentTransform
    >>> t = IndependentTransform(ExpTransform(), 1)
    >>> x = flambeau.tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> t.log_abs_det_jacobian(x, t(x))
    tensor([1., 5.])
    >>> t.domain
    IndependentConstraint(Real(), 1)
    """

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(
            self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size
        )

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        _check_min_dims(x.shape, self.domain.event_dim)
        return self.base_transform(x)

    def _inverse(self, y):
        _check_min_dims(y.shape, self.codomain.event_dim)
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return _sum_rightmost(
            self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims
        )

    def __repr__(self):
        return (
            f"{type(self).__name__}({repr(self.base_transform)}, {self.reinterpreted_batch_ndims})"
        )

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class ReshapeTransform(Transform):
    """Reshape the rightmost dims from ``in_shape`` to ``out_shape`` (the same number of
    elements); the Jacobian is a permutation, so its log-determinant is zero.

    Parameters
    ----------
    in_shape, out_shape : sequence of int
        The event shapes before and after.
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import ReshapeTransform
    >>> t = ReshapeTransform((2, 3), (6,))
    >>> t(flambeau.zeros(4, 2, 3)).shape
    flambeau.Size([4, 6])
    >>> t.forward_shape((4, 2, 3))
    (4, 6)
    """

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape = Size(in_shape)
        self.out_shape = Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        batch_shape = tuple(x.shape[: x.dim() - len(self.in_shape)])
        return x.reshape(batch_shape + tuple(self.out_shape))

    def _inverse(self, y):
        batch_shape = tuple(y.shape[: y.dim() - len(self.out_shape)])
        return y.reshape(batch_shape + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x, y):
        batch_shape = tuple(x.shape[: x.dim() - len(self.in_shape)])
        return x.new_zeros(batch_shape)

    @staticmethod
    def _reshape(shape, have, want):
        shape = tuple(shape)
        if len(shape) < len(have):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(have)
        if shape[cut:] != tuple(have):
            raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {have}")
        return shape[:cut] + tuple(want)

    def forward_shape(self, shape):
        return self._reshape(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._reshape(shape, self.out_shape, self.in_shape)


class ExpTransform(Transform):
    r"""The map :math:`y = \exp(x)`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import ExpTransform
    >>> ExpTransform()(flambeau.tensor([0.0]))
    tensor([1.])
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, ExpTransform)

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class PowerTransform(Transform):
    r"""The map :math:`y = x^{\text{exponent}}` on positive numbers.

    Parameters
    ----------
    exponent : float or Tensor
        The power (broadcast against the input).
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import PowerTransform
    >>> t = PowerTransform(2.0)
    >>> t(flambeau.tensor([3.0]))
    tensor([9.])
    >>> t.inv(flambeau.tensor([9.0]))
    tensor([3.])
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @functools.cached_property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        if not isinstance(other, PowerTransform):
            return False
        return bool(self.exponent.eq(other.exponent).all().item())

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return tuple(flambeau.broadcast_shapes(shape, getattr(self.exponent, "shape", ())))

    def inverse_shape(self, shape):
        return tuple(flambeau.broadcast_shapes(shape, getattr(self.exponent, "shape", ())))


class SigmoidTransform(Transform):
    r"""The map :math:`y = 1 / (1 + \exp(-x))`, clipped to stay strictly inside ``(0, 1)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import SigmoidTransform
    >>> t = SigmoidTransform()
    >>> t(flambeau.tensor([0.0]))
    tensor([0.5000])
    >>> t.inv(flambeau.tensor([0.5]))
    tensor([0.])
    """

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, SigmoidTransform)

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        finfo = flambeau.finfo(y.dtype)
        y = y.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x) - _softplus(x)


class SoftplusTransform(Transform):
    r"""The map :math:`y = \log(1 + \exp(x))`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import SoftplusTransform
    >>> SoftplusTransform()(flambeau.tensor([0.0]))
    tensor([0.6931])
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, SoftplusTransform)

    def _call(self, x):
        return _softplus(x)

    def _inverse(self, y):
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x)


class TanhTransform(Transform):
    r"""The map :math:`y = \tanh(x)`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import TanhTransform
    >>> t = TanhTransform()
    >>> x = flambeau.tensor([0.0, 1.0])
    >>> t(x)
    tensor([0.0000, 0.7616])
    >>> t.log_abs_det_jacobian(x, t(x))
    tensor([ 0.0000, -0.8676])
    """

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, TanhTransform)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return flambeau.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2) written so that it stays accurate for large |x|
        return 2.0 * (math.log(2.0) - x - _softplus(-2.0 * x))


class AbsTransform(Transform):
    r"""The map :math:`y = |x|` (not invertible: ``inv`` returns ``y`` itself).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import AbsTransform
    >>> AbsTransform()(flambeau.tensor([-2.0, 3.0]))
    tensor([2., 3.])
    """

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other):
        return isinstance(other, AbsTransform)

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class AffineTransform(Transform):
    r"""The map :math:`y = \text{loc} + \text{scale} \cdot x`.

    Parameters
    ----------
    loc, scale : float or Tensor
        The shift and the scale.
    event_dim : int, optional
        How many rightmost dims form one event (``log_abs_det_jacobian`` sums over them).
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import AffineTransform
    >>> t = AffineTransform(1.0, flambeau.tensor([2.0, 3.0]), event_dim=1)
    >>> x = flambeau.zeros(4, 2)
    >>> t(x)[0]
    tensor([1., 1.])
    >>> t.log_abs_det_jacobian(x, t(x))
    tensor([1.7918, 1.7918, 1.7918, 1.7918])
    """

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    @staticmethod
    def _same(a, b):
        if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
            return a == b
        if isinstance(a, numbers.Number) or isinstance(b, numbers.Number):
            number, tensor = (a, b) if isinstance(a, numbers.Number) else (b, a)
            return bool((tensor == number).all().item())
        return bool((a == b).all().item())

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        return self._same(self.loc, other.loc) and self._same(self.scale, other.scale)

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Real):
            scale = float(self.scale)
            return 1 if scale > 0 else -1 if scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = flambeau.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = result.reshape(
                tuple(result.shape[: result.dim() - self.event_dim]) + (-1,)
            ).sum(-1)
            shape = shape[: len(shape) - self.event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return tuple(
            flambeau.broadcast_shapes(
                shape, getattr(self.loc, "shape", ()), getattr(self.scale, "shape", ())
            )
        )

    def inverse_shape(self, shape):
        return self.forward_shape(shape)


class SoftmaxTransform(Transform):
    r"""The map from unconstrained vectors to the simplex :math:`y = \exp(x) / \sum \exp(x)`
    over the last dim (not bijective: ``inv`` returns ``log(y)``, one of the preimages).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import SoftmaxTransform
    >>> SoftmaxTransform()(flambeau.tensor([0.0, 0.0, 0.0, 0.0]))
    tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other):
        return isinstance(other, SoftmaxTransform)

    def _call(self, x):
        probs = (x - x.max(-1, keepdim=True)[0]).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        _check_min_dims(shape, 1)
        return shape

    def inverse_shape(self, shape):
        _check_min_dims(shape, 1)
        return shape


class StickBreakingTransform(Transform):
    """The bijection from ``R^(K-1)`` onto the ``K``-simplex by stick breaking: each
    coordinate takes a sigmoid-fraction of what is left of the stick.

    Bijective (unlike :class:`SoftmaxTransform`), so it is what ``biject_to(simplex)``
    returns and what HMC-style samplers use.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import StickBreakingTransform
    >>> t = StickBreakingTransform()
    >>> y = t(flambeau.zeros(3))
    >>> y
    tensor([0.2500, 0.2500, 0.2500, 0.2500])
    >>> t.inv(y).abs().max() < 1e-6
    tensor(True)
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other):
        return isinstance(other, StickBreakingTransform)

    @staticmethod
    def _offset_log(x, extra):
        # log(K - k) for k = 1..K-1 (K = n + extra): x = 0 maps to the uniform point
        n = x.shape[-1]
        return flambeau.arange(n + extra - 1, extra - 1, -1, dtype=x.dtype, device=x.device).log()

    def _call(self, x):
        z = _clipped_sigmoid(x - self._offset_log(x, 1))
        z_cumprod = (1 - z).cumprod(-1)
        return _pad_last(z, 0, 1, 1.0) * _pad_last(z_cumprod, 1, 0, 1.0)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = self._offset_log(y_crop, 1)
        sf = (1 - y_crop.cumsum(-1)).clamp(min=flambeau.finfo(y.dtype).tiny)
        return y_crop.log() - sf.log() + offset

    def log_abs_det_jacobian(self, x, y):
        x = x - self._offset_log(x, 1)
        # log sigmoid(x) - x + log y_k: the log of each stick fraction's derivative
        return (-x - _softplus(-x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _check_min_dims(shape, 1)
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        _check_min_dims(shape, 1)
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """The map from unconstrained square matrices to lower-triangular ones with a positive
    diagonal: keep the strictly lower part and exponentiate the diagonal (not bijective).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import LowerCholeskyTransform
    >>> LowerCholeskyTransform()(flambeau.tensor([[0.0, 5.0], [2.0, 0.0]]))
    tensor([[1., 0.],
            [2., 1.]])
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other):
        return isinstance(other, LowerCholeskyTransform)

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    r"""The map from unconstrained square matrices to positive-definite ones:
    :math:`L L^T` with ``L`` from :class:`LowerCholeskyTransform` (not bijective).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import PositiveDefiniteTransform
    >>> PositiveDefiniteTransform()(flambeau.tensor([[0.0, 5.0], [2.0, 0.0]]))
    tensor([[1., 2.],
            [2., 5.]])
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other):
        return isinstance(other, PositiveDefiniteTransform)

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(flambeau.linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    r"""The bijection from a vector of ``D(D-1)/2`` unconstrained numbers to the Cholesky
    factor of a ``D x D`` correlation matrix (lower triangular, positive diagonal, rows of
    unit norm).

    Each number goes through ``tanh`` into ``(-1, 1)`` and fills the strictly lower triangle
    row by row; each row is then scaled by stick breaking so that its squared entries sum to 1.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import CorrCholeskyTransform
    >>> t = CorrCholeskyTransform()
    >>> y = t(flambeau.tensor([0.5, -0.3, 1.0]))
    >>> y.shape
    flambeau.Size([3, 3])
    >>> (y * y).sum(-1)
    tensor([1., 1., 1.])
    >>> t.inv(y)
    tensor([ 0.5000, -0.3000,  1.0000])
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other):
        return isinstance(other, CorrCholeskyTransform)

    def _call(self, x):
        x = flambeau.tanh(x)
        eps = flambeau.finfo(x.dtype).eps
        x = x.clamp(min=-1 + eps, max=1 - eps)
        r = vec_to_tril_matrix(x, diag=-1)
        # the part of each row's unit norm left after the entries before it
        z1m_cumprod_sqrt = (1 - r * r).sqrt().cumprod(-1)
        r = r + flambeau.eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * _pad_last(z1m_cumprod_sqrt[..., :-1], 1, 0, 1.0)

    def _inverse(self, y):
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = _pad_last(y_cumsum[..., :-1], 1, 0, 1.0)
        y_vec = tril_matrix_to_vec(y, diag=-1)
        y_cumsum_vec = tril_matrix_to_vec(y_cumsum_shifted, diag=-1)
        t = y_vec / y_cumsum_vec.sqrt()
        return (t.log1p() - t.neg().log1p()) / 2  # atanh

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        y1m_cumsum_tril = tril_matrix_to_vec(y1m_cumsum, diag=-2)
        stick_breaking_logdet = 0.5 * y1m_cumsum_tril.log().sum(-1)
        tanh_logdet = -2 * (x + _softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        _check_min_dims(shape, 1)
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        _check_min_dims(shape, 2)
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)


class CatTransform(Transform):
    """Apply transform ``tseq[i]`` to the ``i``-th slice (of ``lengths[i]`` entries) of dim
    ``dim``, then concatenate, as :func:`flambeau.cat`.

    Parameters
    ----------
    tseq : sequence of Transform
        The transforms, one per slice.
    dim : int, optional
        The dim the slices are cut along.
    lengths : sequence of int, optional
        The slices' sizes along ``dim`` (all 1 by default).
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import (AffineTransform, CatTransform,
    ...                                                ExpTransform)
    >>> t = CatTransform([ExpTransform(), AffineTransform(0.0, 2.0)], dim=0, lengths=[1, 2])
    >>> t(flambeau.tensor([0.0, 1.0, 2.0]))
    tensor([1., 2., 4.])
    """

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("CatTransform: tseq must be a sequence of Transforms")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        if lengths is None:
            lengths = [1] * len(self.transforms)
        self.lengths = list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(
                f"CatTransform: got {len(self.transforms)} transforms but "
                f"{len(self.lengths)} lengths"
            )
        self.dim = dim

    @functools.cached_property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @functools.cached_property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _check(self, t, name):
        if not -t.dim() <= self.dim < t.dim():
            raise ValueError(
                f"CatTransform: dim {self.dim} is out of range for {name} of shape {tuple(t.shape)}"
            )
        if t.shape[self.dim] != self.length:
            raise ValueError(
                f"CatTransform: {name} has size {t.shape[self.dim]} along dim "
                f"{self.dim}, expected sum(lengths) = {self.length}"
            )

    def _slices(self, t):
        start = 0
        for length in self.lengths:
            yield t.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        self._check(x, "x")
        return flambeau.cat(
            [tr(xs) for tr, xs in zip(self.transforms, self._slices(x))], dim=self.dim
        )

    def _inverse(self, y):
        self._check(y, "y")
        return flambeau.cat(
            [tr.inv(ys) for tr, ys in zip(self.transforms, self._slices(y))], dim=self.dim
        )

    def log_abs_det_jacobian(self, x, y):
        self._check(x, "x")
        self._check(y, "y")
        terms = []
        for tr, xs, ys in zip(self.transforms, self._slices(x), self._slices(y)):
            term = tr.log_abs_det_jacobian(xs, ys)
            if tr.event_dim < self.event_dim:
                term = _sum_rightmost(term, self.event_dim - tr.event_dim)
            terms.append(term)
        # dim, counted from the right of the jacobian's shape (the event dims are gone)
        dim = self.dim - x.dim() if self.dim >= 0 else self.dim
        dim = dim + self.event_dim
        if dim < 0:
            return flambeau.cat(terms, dim=dim)  # dim is a batch dim: one term per slice
        return functools.reduce(operator.add, terms)  # dim was summed over

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Apply transform ``tseq[i]`` to the ``i``-th entry along dim ``dim``, then stack the
    results, as :func:`flambeau.stack`.

    Parameters
    ----------
    tseq : sequence of Transform
        The transforms, one per entry along ``dim``.
    dim : int, optional
        The dim to unbind and stack along.
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.transforms import (AffineTransform, ExpTransform,
    ...                                                StackTransform)
    >>> t = StackTransform([ExpTransform(), AffineTransform(0.0, 2.0)], dim=1)
    >>> t(flambeau.tensor([[0.0, 1.0], [1.0, 2.0]]))
    tensor([[1.0000, 2.0000],
            [2.7183, 4.0000]])
    """

    def __init__(self, tseq, dim=0, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("StackTransform: tseq must be a sequence of Transforms")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _check(self, t, name):
        if not -t.dim() <= self.dim < t.dim():
            raise ValueError(
                f"StackTransform: dim {self.dim} is out of range for {name} of "
                f"shape {tuple(t.shape)}"
            )
        if t.shape[self.dim] != len(self.transforms):
            raise ValueError(
                f"StackTransform: {name} has size {t.shape[self.dim]} along dim "
                f"{self.dim}, expected one entry per transform "
                f"({len(self.transforms)})"
            )

    def _slice(self, z):
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x):
        self._check(x, "x")
        return flambeau.stack(
            [t(xs) for t, xs in zip(self.transforms, self._slice(x))], dim=self.dim
        )

    def _inverse(self, y):
        self._check(y, "y")
        return flambeau.stack(
            [t.inv(ys) for t, ys in zip(self.transforms, self._slice(y))], dim=self.dim
        )

    def log_abs_det_jacobian(self, x, y):
        self._check(x, "x")
        self._check(y, "y")
        terms = [
            t.log_abs_det_jacobian(xs, ys)
            for t, xs, ys in zip(self.transforms, self._slice(x), self._slice(y))
        ]
        return flambeau.stack(terms, dim=self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """The map ``y = distribution.cdf(x)`` from the distribution's support onto ``(0, 1)``
    (its inverse is ``icdf``, its log-Jacobian ``log_prob``).

    Parameters
    ----------
    distribution : Distribution
        A univariate distribution with ``cdf``, ``icdf`` and ``log_prob``.
    cache_size : int, optional
        ``0`` or ``1``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Normal
    >>> from flambeau.distributions.transforms import CumulativeDistributionTransform
    >>> t = CumulativeDistributionTransform(Normal(0.0, 1.0))
    >>> t(flambeau.tensor([0.0]))
    tensor([0.5000])
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return type(self)(self.distribution, cache_size=cache_size)

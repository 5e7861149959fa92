"""Kullback-Leibler divergences between distributions, dispatched on the pair of types.

Implementations are registered with :func:`register_kl`; :func:`kl_divergence` picks the most
specific registered pair for the types of its arguments (as ``torch.distributions.kl``).

Examples
--------
>>> import flambeau
>>> from flambeau.distributions import Bernoulli, kl
>>> kl.kl_divergence(Bernoulli(flambeau.tensor(0.5)), Bernoulli(flambeau.tensor(0.25)))
tensor(0.1438)
"""

from __future__ import annotations

import functools
import warnings

import flambeau
from flambeau.distributions._distribution import Distribution, ExponentialFamily
from flambeau.distributions._utils import _sum_rightmost

__all__ = ["register_kl", "kl_divergence"]

_KL_REGISTRY: dict = {}  # (type_p, type_q) -> function
_KL_MEMOIZE: dict = {}  # (type(p), type(q)) -> function chosen by dispatch


def register_kl(type_p, type_q):
    """Decorator registering a pairwise KL implementation ``fn(p, q)`` for
    :func:`kl_divergence`.

    When several registered pairs match, the most specific one (by the class hierarchies) is
    used; an ambiguity between the two arguments warns, and is settled by registering the
    exact pair.

    Parameters
    ----------
    type_p, type_q : type
        Subclasses of :class:`~flambeau.distributions.Distribution`.

    Raises
    ------
    TypeError
        If either argument is not a Distribution subclass.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Distribution, kl_divergence, register_kl
    >>> class Point(Distribution):
    ...     arg_constraints = {}
    ...     def __init__(self, x):
    ...         self.x = x
    ...         super().__init__()
    >>> @register_kl(Point, Point)
    ... def _kl_point_point(p, q):
    ...     return flambeau.tensor(0.0 if p.x == q.x else float("inf"))
    >>> kl_divergence(Point(1), Point(2))
    tensor(inf)
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()  # a new entry can change earlier dispatch decisions
        return fun

    return decorator


@functools.total_ordering
class _Match:
    """Orders candidate type pairs: ``a <= b`` when ``a`` is at least as specific as ``b``,
    comparing the first differing type."""

    __slots__ = ("types",)

    def __init__(self, *types):
        self.types = types

    def __eq__(self, other):
        return self.types == other.types

    def __le__(self, other):
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True

    def __hash__(self):
        return hash(self.types)


def _dispatch_kl(type_p, type_q):
    matches = [
        (sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)
    ]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun = _KL_REGISTRY[left_p, left_q]
    right_fun = _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(
            f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please "
            f"register_kl({left_p.__name__}, {right_q.__name__})",
            RuntimeWarning,
            stacklevel=3,
        )
    return left_fun


def kl_divergence(p, q):
    """The Kullback-Leibler divergence ``KL(p || q)``, over the batch shape.

    Parameters
    ----------
    p, q : Distribution
        Distributions of compatible batch and event shapes.

    Raises
    ------
    NotImplementedError
        If no implementation is registered for the pair of types.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Normal, kl_divergence
    >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))
    tensor(0.5000)
    """
    key = (type(p), type(q))
    try:
        fun = _KL_MEMOIZE[key]
    except KeyError:
        fun = _KL_MEMOIZE[key] = _dispatch_kl(*key)
    if fun is NotImplemented:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type "
            f"{p.__class__.__name__} and q type {q.__class__.__name__}"
        )
    return fun(p, q)


def _infinite_like(t):
    return flambeau.full_like(t, float("inf"))


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    # the Bregman divergence of the log-normalizer between the natural parameters
    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential "
            "families cannot be computed using Bregman divergences"
        )
    p_params = [t.detach().requires_grad_() for t in p._natural_params]
    q_params = q._natural_params
    with flambeau.enable_grad():
        lg = p._log_normalizer(*p_params)
        grads = flambeau.autograd.grad(lg.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - lg
    for pp, qp, g in zip(p_params, q_params, grads):
        result = result - _sum_rightmost((qp - pp) * g, len(q.event_shape))
    return result

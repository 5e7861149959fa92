"""Registries that map a constraint to a transform reaching it from unconstrained space, as
``torch.distributions.constraint_registry``.

- ``biject_to(constraint)`` gives a **bijective** transform from ``constraints.real`` (or
  real vectors) onto ``constraint``: use it where the inverse and the Jacobian matter
  (e.g. HMC, variational inference in unconstrained space).
- ``transform_to(constraint)`` gives any transform onto ``constraint``, not necessarily
  bijective (e.g. :class:`~flambeau.distributions.transforms.SoftmaxTransform` for the
  simplex): use it for optimizing constrained parameters.

Both are :class:`ConstraintRegistry` objects; register your own constraints with
``biject_to.register(MyConstraint, factory)``.

Examples
--------
>>> import flambeau
>>> from flambeau.distributions import constraints
>>> from flambeau.distributions.constraint_registry import biject_to, transform_to
>>> biject_to(constraints.unit_interval)
SigmoidTransform()
>>> transform_to(constraints.simplex)(flambeau.zeros(2))
tensor([0.5000, 0.5000])
"""

from __future__ import annotations

import numbers

from flambeau.distributions import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """A registry of factories ``constraint -> Transform``, looked up by the constraint's
    type.

    Examples
    --------
    >>> from flambeau.distributions import constraints
    >>> from flambeau.distributions.constraint_registry import ConstraintRegistry
    >>> from flambeau.distributions.transforms import ExpTransform
    >>> registry = ConstraintRegistry()
    >>> registry.register(constraints.positive, lambda c: ExpTransform())  # doctest: +ELLIPSIS
    <function <lambda> at ...>
    >>> registry(constraints.positive)
    ExpTransform()
    """

    def __init__(self):
        self._registry = {}
        super().__init__()

    def register(self, constraint, factory=None):
        """Register ``factory(constraint) -> Transform`` for a constraint class (or the class
        of a constraint instance); without ``factory``, a decorator.

        Parameters
        ----------
        constraint : Constraint subclass or instance
            The constraints the factory handles (all instances of that class).
        factory : callable, optional
            Takes a constraint instance, returns a Transform.

        Examples
        --------
        >>> from flambeau.distributions import constraints
        >>> from flambeau.distributions.constraint_registry import ConstraintRegistry
        >>> from flambeau.distributions.transforms import SigmoidTransform
        >>> registry = ConstraintRegistry()
        >>> @registry.register(constraints.interval)
        ... def _(constraint):
        ...     return SigmoidTransform()
        >>> registry(constraints.unit_interval)
        SigmoidTransform()
        """
        if factory is None:  # used as a decorator
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(
                "Expected constraint to be either a Constraint subclass or "
                f"instance, but got {constraint}"
            )
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        """The transform registered for ``constraint``'s type, built for this constraint.

        Raises
        ------
        NotImplementedError
            When no factory is registered for the constraint's type.

        Examples
        --------
        >>> from flambeau.distributions import constraints
        >>> from flambeau.distributions.constraint_registry import biject_to
        >>> biject_to(constraints.real)
        ComposeTransform(
        <BLANKLINE>
        )
        """
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(
                f"Cannot transform {type(constraint).__name__} constraints"
            ) from None
        return factory(constraint)


biject_to = ConstraintRegistry()
"""The registry of bijective transforms from unconstrained space onto a constraint.

Examples
--------
>>> from flambeau.distributions import constraints
>>> from flambeau.distributions.constraint_registry import biject_to
>>> biject_to(constraints.simplex)
StickBreakingTransform()
"""

transform_to = ConstraintRegistry()
"""The registry of (not necessarily bijective) transforms from unconstrained space onto a
constraint.

Examples
--------
>>> from flambeau.distributions import constraints
>>> from flambeau.distributions.constraint_registry import transform_to
>>> transform_to(constraints.lower_cholesky)
LowerCholeskyTransform()
"""


@biject_to.register(constraints.real)
@transform_to.register(constraints.real)
def _transform_to_real(constraint):
    return transforms.identity_transform


@biject_to.register(constraints.independent)
def _biject_to_independent(constraint):
    base = biject_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints.independent)
def _transform_to_independent(constraint):
    base = transform_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


# constraints.positive and .nonnegative are instances of these classes: as in PyTorch, the
# registration by class makes them go through greater_than's factory (exp, then a shift by 0)
@biject_to.register(constraints.positive)
@biject_to.register(constraints.nonnegative)
@transform_to.register(constraints.positive)
@transform_to.register(constraints.nonnegative)
def _transform_to_positive(constraint):
    return transforms.ExpTransform()


@biject_to.register(constraints.greater_than)
@biject_to.register(constraints.greater_than_eq)
@transform_to.register(constraints.greater_than)
@transform_to.register(constraints.greater_than_eq)
def _transform_to_greater_than(constraint):
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound, 1)]
    )


@biject_to.register(constraints.less_than)
@transform_to.register(constraints.less_than)
def _transform_to_less_than(constraint):
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound, -1)]
    )


@biject_to.register(constraints.interval)
@biject_to.register(constraints.half_open_interval)
@transform_to.register(constraints.interval)
@transform_to.register(constraints.half_open_interval)
def _transform_to_interval(constraint):
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if (
        isinstance(lower, numbers.Number)
        and lower == 0
        and isinstance(upper, numbers.Number)
        and upper == 1
    ):
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform(
        [transforms.SigmoidTransform(), transforms.AffineTransform(lower, upper - lower)]
    )


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint):
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint):
    return transforms.SoftmaxTransform()


# lower_cholesky and positive_definite have no bijection here (the maps are not onto in
# one-to-one fashion for every input), as in PyTorch
@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint):
    return transforms.LowerCholeskyTransform()


@transform_to.register(constraints.positive_definite)
@transform_to.register(constraints.positive_semidefinite)
def _transform_to_positive_definite(constraint):
    return transforms.PositiveDefiniteTransform()


@biject_to.register(constraints.corr_cholesky)
@transform_to.register(constraints.corr_cholesky)
def _transform_to_corr_cholesky(constraint):
    return transforms.CorrCholeskyTransform()


@biject_to.register(constraints.cat)
def _biject_to_cat(constraint):
    return transforms.CatTransform(
        [biject_to(c) for c in constraint.cseq], constraint.dim, constraint.lengths
    )


@transform_to.register(constraints.cat)
def _transform_to_cat(constraint):
    return transforms.CatTransform(
        [transform_to(c) for c in constraint.cseq], constraint.dim, constraint.lengths
    )


@biject_to.register(constraints.stack)
def _biject_to_stack(constraint):
    return transforms.StackTransform([biject_to(c) for c in constraint.cseq], constraint.dim)


@transform_to.register(constraints.stack)
def _transform_to_stack(constraint):
    return transforms.StackTransform([transform_to(c) for c in constraint.cseq], constraint.dim)

"""Constraints: the sets that distribution parameters and samples live in.

Each constraint has a :meth:`Constraint.check` that answers, elementwise over the batch, whether
a value lies in the set; ``event_dim`` says how many rightmost dimensions form one event (they
are reduced by ``check``), ``is_discrete`` whether the set is countable. The names and the
meaning of each object follow ``torch.distributions.constraints``.

Examples
--------
>>> import flambeau
>>> from flambeau.distributions import constraints
>>> constraints.positive.check(flambeau.tensor([-1.0, 0.0, 2.0]))
tensor([False, False,  True])
>>> constraints.simplex.check(flambeau.tensor([0.25, 0.75]))
tensor(True)
"""

from __future__ import annotations

import flambeau

__all__ = [
    "Constraint",
    "boolean",
    "cat",
    "corr_cholesky",
    "dependent",
    "dependent_property",
    "greater_than",
    "greater_than_eq",
    "independent",
    "integer_interval",
    "interval",
    "half_open_interval",
    "is_dependent",
    "less_than",
    "lower_cholesky",
    "lower_triangular",
    "MixtureSameFamilyConstraint",
    "multinomial",
    "nonnegative",
    "nonnegative_integer",
    "one_hot",
    "positive",
    "positive_semidefinite",
    "positive_definite",
    "positive_integer",
    "real",
    "real_vector",
    "simplex",
    "square",
    "stack",
    "symmetric",
    "unit_interval",
]


class Constraint:
    """Base class of constraints: a region where a variable is valid.

    Subclasses set ``is_discrete`` and ``event_dim`` and implement :meth:`check`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions.constraints import Constraint
    >>> class Even(Constraint):
    ...     is_discrete = True
    ...     def check(self, value):
    ...         return value % 2 == 0
    >>> Even().check(flambeau.tensor([1, 2]))
    tensor([False,  True])
    >>> Even()
    ven()
    """

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """A boolean tensor of shape ``value.shape[:value.dim() - event_dim]``: whether each
        event of ``value`` satisfies the constraint."""
        raise NotImplementedError

    def __repr__(self):
        # torch's private classes carry a leading underscore that the repr drops
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """A constraint that depends on other parameters and cannot be checked
    (``constraints.dependent``); calling it fills in ``is_discrete`` / ``event_dim``.

    Examples
    --------
    >>> from flambeau.distributions import constraints
    >>> constraints.dependent(event_dim=1).event_dim
    1
    """

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim
        super().__init__()

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        """A copy with ``is_discrete`` / ``event_dim`` filled in (those not given are kept)."""
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """Whether ``constraint`` is a dependent (uncheckable) constraint.

    Examples
    --------
    >>> from flambeau.distributions import constraints
    >>> constraints.is_dependent(constraints.dependent), constraints.is_dependent(
    ...     constraints.real)
    (True, False)
    """
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property whose value's constraint depends on the instance (e.g. ``Uniform.support``).

    Used as a decorator (``constraints.dependent_property``), alone or with ``is_discrete=`` /
    ``event_dim=`` keywords; reading the attribute from the class gives the dependent
    constraint itself.

    Examples
    --------
    >>> from flambeau.distributions import constraints
    >>> class D:
    ...     @constraints.dependent_property(is_discrete=False, event_dim=0)
    ...     def support(self):
    ...         return constraints.interval(0.0, 2.0)
    >>> D().support, constraints.is_dependent(D.support)
    (Interval(lower_bound=0.0, upper_bound=2.0), True)
    """

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """Reinterprets ``reinterpreted_batch_ndims`` batch dims of a constraint as event dims
    (``constraints.independent``): an event is valid when all its elements are.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> c = constraints.independent(constraints.positive, 1)
    >>> c.check(flambeau.tensor([[1.0, 2.0], [1.0, -2.0]])), c.event_dim
    (tensor([ True, False]), 1)
    """

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"independent: base_constraint must be a Constraint, got "
                f"{type(base_constraint).__name__}"
            )
        if not isinstance(reinterpreted_batch_ndims, int) or reinterpreted_batch_ndims < 0:
            raise ValueError(
                f"independent: reinterpreted_batch_ndims must be a non-negative "
                f"int, got {reinterpreted_batch_ndims!r}"
            )
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if result.dim() < n:
            expected = self.base_constraint.event_dim + n
            raise ValueError(f"Expected value.dim() >= {expected} but got {value.dim()}")
        if n == 0:
            return result
        result = result.reshape(tuple(result.shape[: result.dim() - n]) + (-1,))
        return result.all(-1)

    def __repr__(self):
        return (
            f"{self.__class__.__name__[1:]}({self.base_constraint!r}, "
            f"{self.reinterpreted_batch_ndims})"
        )


class _Boolean(Constraint):
    """``{0, 1}`` (``constraints.boolean``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.boolean.check(flambeau.tensor([0.0, 0.5, 1.0]))
    tensor([ True, False,  True])
    """

    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    """One-hot vectors along the last dim (``constraints.one_hot``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.one_hot.check(flambeau.tensor([[0.0, 1.0], [1.0, 1.0]]))
    tensor([ True, False])
    """

    is_discrete = True
    event_dim = 1

    def check(self, value):
        is_boolean = (value == 0) | (value == 1)
        is_normalized = value.sum(-1) == 1
        return is_boolean.all(-1) & is_normalized


class _IntegerInterval(Constraint):
    """Integers in ``[lower_bound, upper_bound]`` (``constraints.integer_interval``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.integer_interval(0, 2).check(flambeau.tensor([0.0, 1.5, 2.0, 3.0]))
    tensor([ True, False,  True, False])
    """

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        return (value % 1 == 0) & (self.lower_bound <= value) & (value <= self.upper_bound)

    def __repr__(self):
        return (
            f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, "
            f"upper_bound={self.upper_bound})"
        )


class _IntegerLessThan(Constraint):
    """Integers up to ``upper_bound``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints._IntegerLessThan(1).check(flambeau.tensor([0.0, 2.0]))
    tensor([ True, False])
    """

    is_discrete = True

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        return (value % 1 == 0) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers from ``lower_bound`` (``nonnegative_integer``, ``positive_integer``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.nonnegative_integer.check(flambeau.tensor([-1.0, 0.0, 0.5, 3.0]))
    tensor([False,  True, False,  True])
    """

    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """The real line: anything but NaN (``constraints.real``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.real.check(flambeau.tensor([1.0, float("nan"), float("inf")]))
    tensor([ True, False,  True])
    """

    def check(self, value):
        return value == value  # False only for NaN


class _GreaterThan(Constraint):
    """``(lower_bound, inf)`` (``greater_than``; ``positive`` is ``greater_than(0.0)``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.positive.check(flambeau.tensor([0.0, 1.0]))
    tensor([False,  True])
    """

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        return self.lower_bound < value

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """``[lower_bound, inf)`` (``greater_than_eq``; ``nonnegative`` is ``greater_than_eq(0.0)``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.nonnegative.check(flambeau.tensor([-1.0, 0.0]))
    tensor([False,  True])
    """

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        return self.lower_bound <= value

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """``(-inf, upper_bound)`` (``constraints.less_than``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.less_than(1.0).check(flambeau.tensor([0.0, 1.0]))
    tensor([ True, False])
    """

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """``[lower_bound, upper_bound]`` (``interval``; ``unit_interval`` is ``interval(0.0, 1.0)``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.unit_interval.check(flambeau.tensor([0.0, 1.0, 1.5]))
    tensor([ True,  True, False])
    """

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        return (self.lower_bound <= value) & (value <= self.upper_bound)

    def __repr__(self):
        return (
            f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, "
            f"upper_bound={self.upper_bound})"
        )


class _HalfOpenInterval(_Interval):
    """``[lower_bound, upper_bound)`` (``constraints.half_open_interval``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.half_open_interval(0.0, 1.0).check(flambeau.tensor([0.0, 1.0]))
    tensor([ True, False])
    """

    def check(self, value):
        return (self.lower_bound <= value) & (value < self.upper_bound)


class _Simplex(Constraint):
    """Non-negative vectors summing to one along the last dim (``constraints.simplex``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.simplex.check(flambeau.tensor([[0.5, 0.5], [0.5, 0.6]]))
    tensor([ True, False])
    """

    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """Non-negative count vectors summing to at most ``upper_bound``
    (``constraints.multinomial``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.multinomial(3).check(flambeau.tensor([[1.0, 2.0], [2.0, 2.0]]))
    tensor([ True, False])
    """

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)


def _all_last2(mask):
    return mask.reshape(tuple(mask.shape[:-2]) + (-1,)).all(-1)


class _LowerTriangular(Constraint):
    """Lower-triangular matrices (``constraints.lower_triangular``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.lower_triangular.check(flambeau.tensor([[1.0, 0.0], [2.0, 3.0]]))
    tensor(True)
    """

    event_dim = 2

    def check(self, value):
        return _all_last2(value.tril() == value)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal (``constraints.lower_cholesky``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.lower_cholesky.check(-flambeau.eye(2))
    tensor(False)
    """

    event_dim = 2

    def check(self, value):
        lower = _all_last2(value.tril() == value)
        positive_diagonal = (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return lower & positive_diagonal


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower-triangular with a positive diagonal
    and unit-norm rows (``constraints.corr_cholesky``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> c = constraints.corr_cholesky
    >>> c.check(flambeau.eye(2)), c.check(2 * flambeau.eye(2))
    (tensor(True), tensor(False))
    """

    event_dim = 2

    def check(self, value):
        tol = flambeau.finfo(value.dtype).eps * value.shape[-1] * 10
        row_norm = flambeau.linalg.vector_norm(value.detach(), dim=-1)
        unit_rows = ((row_norm - 1.0).abs() <= tol).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _Square(Constraint):
    """Square matrices (``constraints.square``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.square.check(flambeau.zeros(2, 3))
    tensor(False)
    """

    event_dim = 2

    def check(self, value):
        return flambeau.full(
            tuple(value.shape[:-2]),
            value.shape[-2] == value.shape[-1],
            dtype=flambeau.bool,
            device=value.device,
        )


class _Symmetric(_Square):
    """Symmetric matrices, up to ``atol=1e-6`` (``constraints.symmetric``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.symmetric.check(flambeau.tensor([[1.0, 2.0], [0.0, 1.0]]))
    tensor(False)
    """

    def check(self, value):
        square = super().check(value)
        if not bool(square.all()):
            return square
        return flambeau.isclose(value, value.mT, atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric positive semidefinite matrices (``constraints.positive_semidefinite``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.positive_semidefinite.check(flambeau.zeros(2, 2))
    tensor(True)
    """

    def check(self, value):
        sym = super().check(value)
        if not bool(sym.all()):
            return sym
        return (flambeau.linalg.eigvalsh(value) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric positive definite matrices (``constraints.positive_definite``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> constraints.positive_definite.check(flambeau.eye(2))
    tensor(True)
    """

    def check(self, value):
        sym = super().check(value)
        if not bool(sym.all()):
            return sym
        return flambeau.linalg.cholesky_ex(value).info == 0


class _Cat(Constraint):
    """Applies a sequence of constraints to consecutive slices of lengths ``lengths`` along
    ``dim`` (``constraints.cat``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> c = constraints.cat([constraints.positive, constraints.real], 0, [2, 1])
    >>> c.check(flambeau.tensor([1.0, -1.0, -1.0]))
    tensor([ True, False,  True])
    """

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("cat: every element of cseq must be a Constraint")
        if lengths is None:
            lengths = [1] * len(self.cseq)
        self.lengths = list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(
                f"cat: got {len(self.cseq)} constraints but {len(self.lengths)} lengths"
            )
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        if not -value.dim() <= self.dim < value.dim():
            raise ValueError(
                f"cat: dim {self.dim} is out of range for a value of {value.dim()} dimensions"
            )
        checks, start = [], 0
        for constr, length in zip(self.cseq, self.lengths):
            checks.append(constr.check(value.narrow(self.dim, start, length)))
            start += length
        return flambeau.cat(checks, self.dim)


class _Stack(Constraint):
    """Applies the i-th constraint to the i-th slice along ``dim`` (``constraints.stack``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> c = constraints.stack([constraints.positive, constraints.unit_interval], dim=-1)
    >>> c.check(flambeau.tensor([[1.0, 0.5], [1.0, 2.0]]))
    tensor([[ True,  True],
            [ True, False]])
    """

    def __init__(self, cseq, dim=0):
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("stack: every element of cseq must be a Constraint")
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        if self.dim + dim < 0:
            dim += 1
        return dim

    def check(self, value):
        if not -value.dim() <= self.dim < value.dim():
            raise ValueError(
                f"stack: dim {self.dim} is out of range for a value of {value.dim()} dimensions"
            )
        parts = [value.select(self.dim, i) for i in range(value.shape[self.dim])]
        return flambeau.stack([c.check(v) for v, c in zip(parts, self.cseq)], self.dim)


class MixtureSameFamilyConstraint(Constraint):
    """The support of a :class:`~flambeau.distributions.MixtureSameFamily`: a value is valid
    when it lies in the support of its components, whose parameters carry one more batch dim
    (the mixture components) than the value; the check puts that dim back before asking
    ``base_constraint`` and requires every component to accept the value.

    Parameters
    ----------
    base_constraint : Constraint
        The support of the component distribution.

    Raises
    ------
    TypeError
        If ``base_constraint`` is not a Constraint.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import constraints
    >>> c = constraints.MixtureSameFamilyConstraint(constraints.positive)
    >>> c.check(flambeau.tensor([1.0, -1.0])), c
    (tensor([ True, False]), MixtureSameFamilyConstraint(GreaterThan(lower_bound=0.0)))
    """

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"MixtureSameFamilyConstraint: base_constraint must be a "
                f"Constraint, got {type(base_constraint).__name__}"
            )
        self.base_constraint = base_constraint
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        """Whether each event of ``value`` is in the support of all the components.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import constraints
        >>> c = constraints.MixtureSameFamilyConstraint(constraints.real_vector)
        >>> c.check(flambeau.tensor([[0.0, 1.0], [float("nan"), 1.0]]))
        tensor([ True, False])
        """
        event_dim = self.event_dim
        if value.dim() < event_dim:
            raise ValueError(
                f"MixtureSameFamilyConstraint.check: Expected value.dim() >= "
                f"{event_dim} but got {value.dim()} (value of shape "
                f"{tuple(value.shape)}, support {self.base_constraint!r})"
            )
        result = self.base_constraint.check(value.unsqueeze(-1 - event_dim))
        keep = value.dim() - event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self):
        return f"{self.__class__.__name__}({self.base_constraint!r})"


#: a constraint that depends on other parameters and cannot be checked
dependent = _Dependent()
#: decorator for a property whose constraint depends on the instance
dependent_property = _DependentProperty
#: ``independent(c, n)``: treat the ``n`` rightmost batch dims of ``c`` as event dims
independent = _IndependentConstraint
#: ``{0, 1}``
boolean = _Boolean()
#: one-hot vectors along the last dim
one_hot = _OneHot()
#: ``{0, 1, 2, ...}``
nonnegative_integer = _IntegerGreaterThan(0)
#: ``{1, 2, ...}``
positive_integer = _IntegerGreaterThan(1)
#: ``integer_interval(lo, hi)``: integers in ``[lo, hi]``
integer_interval = _IntegerInterval
#: the real line (anything but NaN)
real = _Real()
#: vectors of reals (event_dim 1)
real_vector = independent(real, 1)
#: ``(0, inf)``
positive = _GreaterThan(0.0)
#: ``[0, inf)``
nonnegative = _GreaterThanEq(0.0)
#: ``greater_than(lo)``: ``(lo, inf)``
greater_than = _GreaterThan
#: ``greater_than_eq(lo)``: ``[lo, inf)``
greater_than_eq = _GreaterThanEq
#: ``less_than(hi)``: ``(-inf, hi)``
less_than = _LessThan
#: ``multinomial(n)``: non-negative integer count vectors summing to at most ``n``
multinomial = _Multinomial
#: ``[0, 1]``
unit_interval = _Interval(0.0, 1.0)
#: ``interval(lo, hi)``: ``[lo, hi]``
interval = _Interval
#: ``half_open_interval(lo, hi)``: ``[lo, hi)``
half_open_interval = _HalfOpenInterval
#: non-negative vectors summing to one along the last dim
simplex = _Simplex()
#: lower-triangular matrices
lower_triangular = _LowerTriangular()
#: lower-triangular matrices with a positive diagonal
lower_cholesky = _LowerCholesky()
#: Cholesky factors of correlation matrices (lower-triangular, unit-norm rows)
corr_cholesky = _CorrCholesky()
#: square matrices
square = _Square()
#: symmetric matrices
symmetric = _Symmetric()
#: symmetric positive semidefinite matrices
positive_semidefinite = _PositiveSemidefinite()
#: symmetric positive definite matrices
positive_definite = _PositiveDefinite()
#: ``cat(cseq, dim, lengths)``: constraints applied to consecutive slices along ``dim``
cat = _Cat
#: ``stack(cseq, dim)``: constraints applied to the slices along ``dim``
stack = _Stack

"""The base classes of every distribution: Distribution and ExponentialFamily."""

from __future__ import annotations

import warnings

import flambeau
from flambeau._tensor import Tensor
from flambeau.distributions import constraints
from flambeau.distributions._utils import lazy_property

__all__ = ["Distribution", "ExponentialFamily"]


def _size(shape):
    return flambeau.Size(tuple(shape))


class Distribution:
    """Base class of probability distributions (``torch.distributions.Distribution``).

    Parameters
    ----------
    batch_shape : Size or tuple, optional
        The shape over which parameters are batched.
    event_shape : Size or tuple, optional
        The shape of one sample (``()`` for univariate distributions).
    validate_args : bool, optional
        Whether to check parameters and the values given to :meth:`log_prob` against their
        constraints (the class default, see :meth:`set_default_validate_args`, when ``None``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Normal
    >>> d = Normal(flambeau.zeros(2), 1.0)
    >>> d.batch_shape, d.event_shape
    (flambeau.Size([2]), flambeau.Size([]))
    >>> d.sample((3,)).shape
    flambeau.Size([3, 2])
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn validation on or off for every distribution constructed without an explicit
        ``validate_args``.

        Examples
        --------
        >>> from flambeau.distributions import Distribution
        >>> Distribution.set_default_validate_args(False)
        >>> Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. Please set "
                    "`arg_constraints = {}` or initialize the distribution with "
                    "`validate_args=False` to turn off validation.",
                    stacklevel=2,
                )
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(
                    getattr(type(self), param, None), lazy_property
                ):
                    continue  # a lazily derived parameter: its source was checked
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}"
                    )
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        """A new distribution with parameters expanded (as views) to ``batch_shape``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Normal
        >>> Normal(0.0, 1.0).expand((2, 3)).batch_shape
        flambeau.Size([2, 3])
        """
        raise NotImplementedError

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """A dict from parameter names to the :mod:`constraints` they must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The :class:`~flambeau.distributions.constraints.Constraint` of the samples."""
        raise NotImplementedError

    @property
    def mean(self):
        """The mean of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self):
        """The mode of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        """The variance of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return self.variance.sqrt()

    def sample(self, sample_shape=()):
        """Draw samples of shape ``sample_shape + batch_shape + event_shape`` (no gradient).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Normal
        >>> Normal(0.0, 1.0).sample((2,)).shape
        flambeau.Size([2])
        """
        with flambeau.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """Draw reparameterized samples (differentiable w.r.t. the parameters) where
        ``has_rsample``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.distributions import Normal
        >>> loc = flambeau.zeros(2, requires_grad=True)
        >>> Normal(loc, 1.0).rsample().requires_grad
        True
        """
        raise NotImplementedError

    def sample_n(self, n):
        """Deprecated: ``sample((n,))``."""
        warnings.warn(
            "sample_n will be deprecated. Use .sample((n,)) instead", UserWarning, stacklevel=2
        )
        return self.sample((n,))

    def log_prob(self, value):
        """The log of the probability density (or mass) at ``value``."""
        raise NotImplementedError

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """All values of a discrete support, along a new leading dimension (the batch
        dimensions expanded to ``batch_shape`` when ``expand``, else of size 1)."""
        raise NotImplementedError

    def entropy(self):
        """The entropy, over ``batch_shape``."""
        raise NotImplementedError

    def perplexity(self):
        """``exp(entropy())``."""
        return flambeau.exp(self.entropy())

    def _extended_shape(self, sample_shape=()):
        return _size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        n_event = len(self._event_shape)
        actual = _size(value.shape)
        if (
            tuple(actual[len(actual) - n_event :]) != tuple(self._event_shape)
            or len(actual) < n_event
        ):
            raise ValueError(
                f"The right-most size of value must match event_shape: {actual} "
                f"vs {self._event_shape}."
            )
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: "
                    f"{actual} vs {_size(expected)}."
                )
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{self.__class__} does not define `support` to enable sample validation. "
                "Please initialize the distribution with `validate_args=False` to turn off "
                "validation.",
                stacklevel=2,
            )
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}"
            )

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        parts = []
        for p in names:
            v = self.__dict__[p]
            parts.append(f"{p}: {v if v.numel() == 1 else v.size()}")
        return self.__class__.__name__ + "(" + ", ".join(parts) + ")"


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions,
    ``p(x; theta) = exp(<t(x), theta> - F(theta) + k(x))``.

    Subclasses give ``_natural_params``, ``_log_normalizer`` (F) and ``_mean_carrier_measure``
    (E[k(x)]); :meth:`entropy` then follows from the Bregman divergence of F, computed with
    autograd, and KL divergences between two members of one family come for free.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.distributions import Exponential, ExponentialFamily
    >>> d = Exponential(flambeau.tensor([2.0]))
    >>> ExponentialFamily.entropy(d).detach()
    tensor([0.3069])
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """The entropy ``F(theta) - <theta, grad F(theta)> - E[k(x)]`` via autograd."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with flambeau.enable_grad():
            lg = self._log_normalizer(*nparams)
            grads = flambeau.autograd.grad(lg.sum(), nparams, create_graph=True)
        result = result + lg
        for p, g in zip(nparams, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result

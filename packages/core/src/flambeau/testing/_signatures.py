"""Signatures and defaults in a form that compares across flambeau and torch, for the API
signature tests of every package."""

from __future__ import annotations

import inspect

from flambeau._random import Generator, default_generator

__all__ = ["comparable_value", "signature_of"]


def comparable_value(value):
    """``value`` (a default, a hyperparameter) in a form equal for flambeau's and torch's
    versions of the same thing: the type stays part of it (``0`` is not ``0.0``), dtypes
    and generators compare by name and device, functions by name.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import comparable_value
    >>> comparable_value(0.9), comparable_value((1, None)), comparable_value(flambeau.float32)
    (('float', 0.9), (('int', 1), ('NoneType', None)), ('dtype', 'float32'))
    """
    if value is inspect.Parameter.empty:
        return "<required>"
    if isinstance(value, (bool, int, float, str, type(None))):
        return (type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return tuple(comparable_value(v) for v in value)
    kind = type(value).__name__
    if kind == "dtype":  # torch.float32 / flambeau.float32
        return ("dtype", str(value).split(".")[-1])
    if kind == "Generator" or isinstance(value, Generator) or value is default_generator:
        return ("generator", str(value.device))
    if callable(value):
        return ("callable", getattr(value, "__name__", kind))
    return (kind, repr(value))


def signature_of(obj, method="__init__"):
    """``[(name, kind, default)]`` of a function, or of a class's ``method`` (its
    constructor by default), with defaults as :func:`comparable_value` gives them. A class
    that defines no ``method`` of its own (only ``object``'s) takes no arguments.

    Examples
    --------
    >>> from flambeau.testing import signature_of
    >>> def f(x, y=2, *, z=None):
    ...     pass
    >>> signature_of(f)  # doctest: +NORMALIZE_WHITESPACE
    [('x', 'POSITIONAL_OR_KEYWORD', '<required>'), ('y', 'POSITIONAL_OR_KEYWORD', ('int', 2)),
     ('z', 'KEYWORD_ONLY', ('NoneType', None))]
    """
    if inspect.isclass(obj):
        if all(method not in vars(k) for k in obj.__mro__[:-1]):
            return [("self", "POSITIONAL_OR_KEYWORD", "<required>")]
        obj = getattr(obj, method)
    params = inspect.signature(obj).parameters.values()
    return [(p.name, p.kind.name, comparable_value(p.default)) for p in params]

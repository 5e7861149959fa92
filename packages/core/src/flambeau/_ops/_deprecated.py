"""torch's deprecated argument orders, which put a number before the tensors.

torch 2.13 still accepts, with a warning, the orders of its first releases for ``add``,
``sub`` (``Number alpha`` before ``other``), ``addcmul``, ``addcdiv`` (``Number value`` before
the tensors) and the ``beta * input + alpha * product`` ops ``addmm``, ``addmv``, ``addr``,
``baddbmm``, ``addbmm`` (``Number beta`` before ``input``, ``Number alpha`` optionally after
it): as functions (``add(x, 2, y)``, ``addmm(0.5, M, a, b)``, ``out=`` allowed), as methods
(``x.add(2, y)``, ``M.addmm(0.5, 2, a, b)``) and in place (``p.data.add_(-lr, grad)``, old
optimizers' ``addcdiv_(-step_size, exp_avg, denom)``). Old training loops and optimizers
still call them.

:func:`reordered` matches a call against these orders as torch's argument parser does
(positions first, then keywords; a number is a Python or NumPy number or a 0-d tensor) and
returns the arguments in today's order. It runs only where today's order failed or cannot
apply, so that ordinary calls pay nothing.
"""

from __future__ import annotations

import numbers
import warnings

from flambeau._tensor import Tensor

#: op -> (its tensor parameters after ``input``, its number parameters): torch's
#: deprecated.yaml, for the ops flambeau has (``sspaddmm`` works on sparse tensors only)
OPS = {
    "add": (("other",), ("alpha",)), "sub": (("other",), ("alpha",)),
    "addcmul": (("tensor1", "tensor2"), ("value",)),
    "addcdiv": (("tensor1", "tensor2"), ("value",)),
    "addmm": (("mat1", "mat2"), ("beta", "alpha")),
    "addmv": (("mat", "vec"), ("beta", "alpha")),
    "addr": (("vec1", "vec2"), ("beta", "alpha")),
    "baddbmm": (("batch1", "batch2"), ("beta", "alpha")),
    "addbmm": (("batch1", "batch2"), ("beta", "alpha")),
}
#: ``add``'s defaults for ``input`` and ``other`` given by keyword (or not at all) and for an
#: ``alpha`` not given: ``add(x, 2, y, alpha=1)`` is no deprecated order, as in torch
MISSING = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()
NO_ALPHA = type("_NoAlpha", (), {"__repr__": lambda self: "1"})()

#: ops whose function also has torch's ``out_dtype`` overload (named in the warning)
_OUT_DTYPE = frozenset({"addmm", "baddbmm"})


def _forms(op, method):
    """The deprecated orders of ``op`` (the function's, or without ``input`` the method's)."""
    tensors, scalars = OPS[op]
    if scalars == ("beta", "alpha"):
        forms = [("beta", "input", "alpha", *tensors), ("beta", "input", *tensors)]
    else:
        forms = [("input", scalars[0], *tensors)]
    if method:
        forms = [tuple(n for n in form if n != "input") for form in forms]
    return forms


def _number(value):
    """``value`` as torch's parser reads a ``Number``: a 0-d tensor stands for its item."""
    if isinstance(value, Tensor):
        return value.item() if value.ndim == 0 else None
    return value if isinstance(value, numbers.Number) else None


def _bind(form, args, kwargs, scalars, out_allowed, numbers_as_tensors=False):
    """``{parameter: value}`` when ``args`` and ``kwargs`` fit ``form``, else None.
    ``numbers_as_tensors``: a number fits a tensor parameter, as torch's parser lets it for
    ``add``/``sub`` (so ``add(x, 2, 5)`` is the deprecated order, warned, ``x + 2 * 5``)."""
    if len(args) > len(form):
        return None
    values = dict(zip(form, args))
    for key, value in kwargs.items():
        if key in values or (key not in form and not (key == "out" and out_allowed)):
            return None
        values[key] = value
    if any(name not in values for name in form):
        return None
    for name in form:
        if name in scalars:
            values[name] = _number(values[name])
            if values[name] is None:
                return None
        elif not isinstance(values[name], Tensor) and not (
                numbers_as_tensors and _number(values[name]) is not None):
            return None
    return values


def _signature(name, params, out):
    if out:
        params = [*params, *([] if "*" in params else ["*"]), "Tensor out = None"]
    return f"{name}({', '.join(params)})"


def message(name, form, method):
    """torch's warning for the deprecated order ``form`` of ``name`` (``add_`` for the
    in-place method).

    Examples
    --------
    >>> from flambeau._ops._deprecated import message
    >>> print(message("add_", ("alpha", "other"), method=True).expandtabs(4))
    This overload of add_ is deprecated:
        add_(Number alpha, Tensor other)
    Consider using one of the following signatures instead:
        add_(Tensor other, *, Number alpha = 1)
    """
    tensors, scalars = OPS[name.rstrip("_")]
    kinds = [("Number " if n in scalars else "Tensor ") + n for n in form]
    today = ["Tensor " + n for n in (tensors if method else ("input", *tensors))]
    keywords = ["*", *(f"Number {n} = 1" for n in scalars)]
    instead = [_signature(name, today + keywords, out=not method)]
    if not method and name in _OUT_DTYPE:
        instead.append(_signature(name, [*today, "torch.dtype out_dtype", *keywords],
                                  out=True))
    return "\n".join([f"This overload of {name} is deprecated:",
                      "\t" + _signature(name, kinds, out=not method),
                      "Consider using one of the following signatures instead:",
                      *("\t" + s for s in instead)])


def reordered(name, args, kwargs, method=False, stacklevel=3):
    """``(args, kwargs)`` in today's order when the call of ``name`` (a function, or with
    ``method`` a Tensor method whose ``self`` is not in ``args``; ``add_`` for the in-place
    one) fits one of torch's deprecated orders, with torch's warning; None when it does not.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau._ops._deprecated import reordered
    >>> x, y = flambeau.ones(2), flambeau.ones(2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     reordered("add", (x, 2, y), {})
    ((tensor([1., 1.]), tensor([1., 1.])), {'alpha': 2})
    >>> reordered("add", (x, y), {}) is None
    True
    """
    op = name.rstrip("_")
    if op not in OPS or not args:
        return None
    tensors, scalars = OPS[op]
    for form in _forms(op, method):
        values = _bind(form, args, kwargs, scalars, out_allowed=not method,
                       numbers_as_tensors=op in ("add", "sub"))
        if values is not None:
            break
    else:
        return None
    warnings.warn(message(name, form, method), UserWarning, stacklevel=stacklevel)
    heads = [values.pop(n) for n in (tensors if method else ("input", *tensors))]
    return tuple(heads), values


def method_arguments(name, args, kwargs):
    """A Tensor method's arguments (``self`` left out; ``name`` is ``add_`` for the in-place
    one) in today's order when they are in one of torch's deprecated orders, with torch's
    warning; as given otherwise. Today's orders never have a number (or 0-d tensor) first
    followed by another argument, so the common calls pay one test. More positional
    arguments than today's order takes, in no deprecated order, raise Python's TypeError
    (the function's deprecated order, with its ``out=``, is not the method's).

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau._ops._deprecated import method_arguments
    >>> y = flambeau.ones(2)
    >>> method_arguments("add_", (y,), {"alpha": 2})
    ((tensor([1., 1.]),), {'alpha': 2})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     method_arguments("add_", (2, y), {})
    ((tensor([1., 1.]),), {'alpha': 2})
    """
    if args and (len(args) > 1 or kwargs) and not (
            isinstance(args[0], Tensor) and args[0].ndim):
        moved = reordered(name, args, kwargs, method=True, stacklevel=4)
        if moved is not None:
            return moved
        today = len(OPS[name.rstrip("_")][0])
        if len(args) > today:
            raise TypeError(f"{name}() takes {today} positional argument"
                            f"{'s' if today > 1 else ''} but {len(args)} were given")
    return args, kwargs


def called(fn, name, args, alpha, out, keywords=None):
    """``add``/``sub`` (``fn``) called with more positional arguments than today's two
    (``args``, :data:`MISSING` where not given), or with ``input``/``other`` by keyword
    (``keywords``): in today's order when they are today's ``(input, other)`` or torch's
    deprecated ``(input, Number alpha, Tensor other)``, else the TypeError Python would
    raise. ``alpha`` (:data:`NO_ALPHA` when not given) and ``out``: as given by keyword.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau._ops._deprecated import MISSING, NO_ALPHA, called
    >>> x = flambeau.ones(2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     called(flambeau.add, "add", (x, 2, x), NO_ALPHA, None)
    tensor([3., 3.])
    >>> called(flambeau.add, "add", (x, MISSING), NO_ALPHA, None, {"other": x})
    tensor([2., 2.])
    """
    args = tuple(a for a in args if a is not MISSING)
    keywords = keywords or {}
    kwargs = {} if alpha is NO_ALPHA else {"alpha": alpha}
    if out is not None:
        kwargs["out"] = out
    today = dict(zip(("input", "other"), args))
    twice = [k for k in keywords if k in today]
    if len(args) <= 2 and not twice and keywords.keys() <= {"input", "other"}:
        today.update(keywords)
        if len(today) < 2:
            missing = " and ".join(f"'{k}'" for k in ("input", "other") if k not in today)
            raise TypeError(f"{name}() missing required argument {missing}")
        return fn(today["input"], today["other"], **kwargs)
    moved = reordered(name, args, {**keywords, **kwargs}, stacklevel=4)
    if moved is not None:
        return fn(*moved[0], **moved[1])
    unknown = [k for k in keywords if k not in ("input", "other")]
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument '{unknown[0]}'")
    if len(args) > 2:
        raise TypeError(f"{name}() takes 2 positional arguments but {len(args)} were given")
    raise TypeError(f"{name}() got multiple values for argument '{twice[0]}'")

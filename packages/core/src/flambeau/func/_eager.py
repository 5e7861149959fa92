"""The parts of ``torch.func`` that only change how a program is traced or compiled, in their
eager meaning: :func:`functionalize` and :func:`debug_unwrap`.

flambeau runs every program eagerly and its transforms (``vmap`` loops over the batch,
``grad`` differentiates fresh leaves) hand the function plain tensors, never wrappers.

Examples
--------
>>> import flambeau
>>> from flambeau.func import functionalize
>>> def f(x):
...     y = x.clone()
...     y.add_(1)
...     return y
>>> functionalize(f)(flambeau.zeros(2))
tensor([1., 1.])
"""

from __future__ import annotations

import functools

__all__ = ["debug_unwrap", "functionalize"]

_REMOVE = ("mutations", "mutations_and_views")


def functionalize(func, *, remove="mutations"):
    """``func`` with its in-place and ``out=`` operations (and, with
    ``remove="mutations_and_views"``, its views) replaced by out-of-place ones.

    That rewrite is what a tracer or compiler sees; it leaves every value the function returns
    and every input it mutates as they were, so in flambeau's eager execution the returned
    function runs ``func`` as it is and gives its exact results.

    Raises
    ------
    RuntimeError
        When ``remove`` is not ``"mutations"`` or ``"mutations_and_views"``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import functionalize
    >>> x = flambeau.zeros(2)
    >>> functionalize(lambda t: t.add_(1))(x), x
    (tensor([1., 1.]), tensor([1., 1.]))
    """
    if remove not in _REMOVE:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for "
            f"remove={remove}. Valid options are: 'mutations' (in-place and out= operators "
            "replaced with their out-of-place equivalents) and 'mutations_and_views' (views "
            "replaced with their copying forms too).")

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)

    return functionalized


def debug_unwrap(tensor, *, recurse=True):
    """The tensor under a transform's wrapper, for printing in a debugger: flambeau's
    transforms pass plain tensors, so ``tensor`` itself.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import debug_unwrap
    >>> t = flambeau.ones(2)
    >>> debug_unwrap(t) is t
    True
    """
    return tensor

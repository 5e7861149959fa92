"""``flambeau.jit``: TorchScript's API in flambeau's eager world.

flambeau has no TorchScript: nothing is ever being scripted or traced, ``script`` and
``trace`` give back what they are given (which runs eagerly, as :func:`flambeau.compile`
does), the decorators that steer the compiler return the function, and ``fork`` runs the
call at once and hands back a finished future. Model code that asks
``flambeau.jit.is_scripting()`` or carries ``@flambeau.jit.ignore`` runs unchanged.

Examples
--------
>>> import flambeau
>>> def double(x):
...     return x * 2
>>> flambeau.jit.script(double) is double, flambeau.jit.is_scripting()
(True, False)
>>> flambeau.jit.wait(flambeau.jit.fork(double, flambeau.ones(1)))
tensor([2.])
"""

from __future__ import annotations

import concurrent.futures
from typing import Final  # noqa: F401 - torch.jit.Final, for annotations

# also ``Final`` (typing's, for ``x: flambeau.jit.Final[int]`` annotations in modules)
__all__ = ["annotate", "export", "fork", "ignore", "is_scripting", "is_tracing", "script",
           "trace", "unused", "wait"]


def is_scripting() -> bool:
    """Whether this code is being compiled by TorchScript: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.is_scripting()
    False
    """
    return False


def is_tracing() -> bool:
    """Whether this code is being traced: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.is_tracing()
    False
    """
    return False


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function or module): it runs eagerly, as everything in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x + 1
    >>> flambeau.jit.script(f) is f
    True
    """
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself: flambeau records no traces, so the function runs as written for every
    input (a trace would replay ``example_inputs``' path).

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x.relu()
    >>> flambeau.jit.trace(f, (flambeau.ones(2),)) is f
    True
    """
    return func


def ignore(drop=False, **kwargs):
    """Leave a function to Python (``@ignore`` or ``@ignore(drop=True)``): it is returned
    unchanged.

    Examples
    --------
    >>> import flambeau
    >>> @flambeau.jit.ignore
    ... def f():
    ...     return 1
    >>> f()
    1
    """
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Mark a method the compiler may skip: returned unchanged.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.unused(len)([1, 2])
    2
    """
    return fn


def export(fn):
    """Mark a method to compile as an entry point: returned unchanged.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.export(abs)(-3)
    3
    """
    return fn


def annotate(the_type, the_value):
    """``the_value`` (the type is for the compiler).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.annotate(list, [])
    []
    """
    return the_value


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now and return a finished future of its result (or of
    the exception it raised), for :func:`wait`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.wait(flambeau.jit.fork(max, 2, 5))
    5
    """
    future = concurrent.futures.Future()
    try:
        future.set_result(func(*args, **kwargs))
    except Exception as exc:  # handed to wait(), as a forked task's error would be
        future.set_exception(exc)
    return future


def wait(future):
    """The result of a :func:`fork` (its exception is raised here).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.jit.wait(flambeau.jit.fork(sum, [1, 2]))
    3
    """
    return future.result()

"""``flambeau.compiler``: PyTorch's ``torch.compiler`` API, in flambeau's eager world.

flambeau compiles nothing (see :func:`flambeau.compile`): nothing is ever being compiled or
exported, the decorators that steer a compiler give back the function they are given, and the
resets have nothing to reset. Code written for ``torch.compile`` that asks these questions or
uses these decorators runs unchanged, eagerly.

Examples
--------
>>> import flambeau
>>> @flambeau.compiler.disable
... def step(x):
...     return x * 2
>>> step(flambeau.ones(1)), flambeau.compiler.is_compiling()
(tensor([2.]), False)
"""

from __future__ import annotations

from flambeau._toplevel_more import compile  # noqa: A004 - torch.compiler.compile is torch.compile

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset"]


def disable(fn=None, recursive=True, *, reason=None):
    """Keep ``fn`` out of compilation: ``fn`` itself (nothing is compiled); a decorator with
    or without arguments.

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x
    >>> flambeau.compiler.disable(f) is f, flambeau.compiler.disable(recursive=False)(f) is f
    (True, True)
    """
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    """Let a compiler put ``fn`` in its graph as it is: ``fn`` itself here.

    Examples
    --------
    >>> import flambeau
    >>> f = lambda x: x
    >>> flambeau.compiler.allow_in_graph(f) is f
    True
    """
    return fn


def assume_constant_result(fn):
    """Let a compiler treat ``fn``'s result as a constant: ``fn`` itself here.

    Examples
    --------
    >>> import flambeau
    >>> f = lambda: 3
    >>> flambeau.compiler.assume_constant_result(f)()
    3
    """
    return fn


def is_compiling() -> bool:
    """Whether this code runs inside compilation or export: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.compiler.is_compiling()
    False
    """
    return False


def is_dynamo_compiling() -> bool:
    """Whether this code is being traced by PyTorch's Dynamo: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.compiler.is_dynamo_compiling()
    False
    """
    return False


def is_exporting() -> bool:
    """Whether this code is being exported: never, in flambeau.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.compiler.is_exporting()
    False
    """
    return False


def reset() -> None:
    """Clear compilation caches: flambeau keeps none.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.compiler.reset()
    """


def cudagraph_mark_step_begin() -> None:
    """Mark the start of a training step for CUDA-graph trees: flambeau records no CUDA graphs.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.compiler.cudagraph_mark_step_begin()
    """

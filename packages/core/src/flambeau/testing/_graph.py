"""The backward graph as a user sees it, for comparing flambeau's with torch's."""

from __future__ import annotations

__all__ = ["graph_of", "check_graph_parity"]


def graph_of(tensor):
    """What inspecting ``tensor.grad_fn`` shows: ``(name(), class name, next_functions)``,
    each next node given by its ``name()`` (None for an input that needs no gradient).

    Works on flambeau and torch tensors alike, so a test can compare the two graphs.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.testing import graph_of
    >>> graph_of(flambeau.ones(2, requires_grad=True) * 2)
    ('MulBackward0', 'MulBackward0', (('torch::autograd::AccumulateGrad', 0), (None, 0)))
    """
    fn = tensor.grad_fn
    return (fn.name(), type(fn).__name__,
            tuple((None if node is None else node.name(), nr) for node, nr in fn.next_functions))


def check_graph_parity(build, why_different=None):
    """Compare the graph that ``build`` records in flambeau with torch's (torch must be
    importable): ``build(lib)`` takes the library, ``flambeau`` or ``torch``, and returns a
    tensor with a ``grad_fn``; their :func:`graph_of` must agree. With ``why_different``
    (why the two are known to differ), they must still differ, so that the note goes once
    they agree. Returns True, or raises AssertionError.

    Examples
    --------
    >>> from flambeau.testing import check_graph_parity
    >>> from flambeau.testing._harness import torch_or_none
    >>> torch_or_none() is None or check_graph_parity(
    ...     lambda lib: lib.ones(2, requires_grad=True).sum(1 - 1))
    True
    """
    import torch

    import flambeau

    ours, theirs = graph_of(build(flambeau)), graph_of(build(torch))
    if why_different is None:
        assert ours == theirs, f"the graph {ours} differs from torch's {theirs}"
    else:
        assert ours != theirs, f"the graphs agree now ({why_different}): {ours}"
    return True

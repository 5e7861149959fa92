"""Structured control flow: ``flambeau.cond`` and ``flambeau.while_loop``.

PyTorch captures these operators in a graph (``torch.compile``/``torch.export``) and checks
both branches, or the loop body, against each other while tracing. flambeau runs eagerly: it
makes PyTorch's checks on the arguments, then runs the branch taken or the loop as plain
Python, so autograd records exactly the operations that ran.

Examples
--------
>>> import flambeau
>>> x = flambeau.tensor([1.0, 2.0])
>>> flambeau.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (x,))
tensor([2., 4.])
>>> flambeau.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t * 2), (0, x))
(3, tensor([ 8., 16.]))
"""

from __future__ import annotations

from flambeau import _dtype
from flambeau._tensor import Tensor
from flambeau.utils._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = ["cond", "while_loop"]


def _is_pred(value):
    return isinstance(value, (bool, int, float, Tensor))


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` is true, else ``false_fn(*operands)``.

    A Python ``bool``, ``int`` or ``float`` predicate picks the branch as an ``if`` would,
    with no further check. A tensor predicate (one element, of any dtype) also needs callable
    branches and ``operands`` made of tensors, and the branch must return tensors or ints.
    Only the branch taken runs, so gradients flow through it alone. (PyTorch traces both
    branches for a tensor predicate and checks that their outputs agree; flambeau does not
    run the other branch.)

    Parameters
    ----------
    pred : bool, int, float or Tensor
        The condition; a tensor must have exactly one element.
    true_fn, false_fn : callable
        The branches; each takes ``*operands``.
    operands : tuple or list, optional
        The branches' arguments: tensors, or tuples, lists and dicts of them (default ``()``).

    Returns
    -------
    object
        What the branch taken returns.

    Raises
    ------
    RuntimeError
        If ``pred`` is of another type or a tensor of other than one element, or, for a
        tensor ``pred``, if a branch is not callable, ``operands`` is not a tuple or list of
        tensors, or the branch returns something other than tensors and ints.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> y = flambeau.cond(x.sum() > 0, lambda t: (t * t).sum(), lambda t: (3 * t).sum(), (x,))
    >>> y
    tensor(-3., grad_fn=<SumBackward0>)
    >>> y.backward()
    >>> x.grad
    tensor([3., 3.])
    >>> flambeau.cond(True, lambda: "yes", lambda: "no")
    'yes'
    """
    if not _is_pred(pred):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if not isinstance(pred, Tensor):
        return true_fn(*operands) if pred else false_fn(*operands)
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not (callable(true_fn) and callable(false_fn)):
        raise RuntimeError("Expect both branches to be callable.")
    if (not isinstance(operands, (tuple, list))
            or not all(isinstance(leaf, Tensor) for leaf in tree_flatten(operands)[0])):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    out = true_fn(*operands) if bool(pred) else false_fn(*operands)
    for leaf in tree_flatten(out)[0]:
        if not isinstance(leaf, (Tensor, int)):
            raise RuntimeError("torch.cond: the branch's output must consist of tensors or "
                               f"ints/bools only but got {type(leaf)}.")
    return out


def _describe(value):
    if isinstance(value, Tensor):
        return f"Tensor(..., size={tuple(value.shape)}, dtype={value.dtype})"
    return repr(value)


def _check_body_output(out_leaves, carried):
    """PyTorch's checks that the body returns what it was given: as many leaves, each a
    tensor of the same size, dtype and device or an int where the carry has an int."""
    if len(out_leaves) != len(carried):
        lhs = "[" + ", ".join(_describe(v) for v in out_leaves) + "]"
        rhs = "[" + ", ".join(_describe(v) for v in carried) + "]"
        raise RuntimeError("Expected body_fn_output and carried_inputs to have same number of "
                           f"outputs but got lhs:{lhs} and rhs:{rhs}")
    for i, (new, old) in enumerate(zip(out_leaves, carried)):
        lhs, rhs = _describe(new), _describe(old)
        if isinstance(new, Tensor) != isinstance(old, Tensor) or not isinstance(
                new, (Tensor, int)):
            diff = f"type: {lhs} vs {rhs}"
        elif not isinstance(new, Tensor):
            continue
        elif new.dtype != old.dtype:
            diff = f"'dtype: {new.dtype} vs {old.dtype}'"
        elif new.shape != old.shape:
            diff = f"'shape: {new.shape} vs {old.shape}'"
        elif new.device != old.device:
            diff = f"'device: {new.device} vs {old.device}'"
        else:
            continue
        raise RuntimeError("Expected body_fn_output and carried_inputs to have same metadata "
                           f"but found:\npair[{i}] differ in {diff}, where lhs is {lhs} and "
                           f"rhs is {rhs}")


def _is_bool_scalar(value):
    if isinstance(value, Tensor):
        return value.dim() == 0 and value.dtype == _dtype.bool
    return isinstance(value, bool)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried_inputs = body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)``.

    ``cond_fn`` must return a Python ``bool`` or a 0-d bool tensor. ``body_fn`` must return
    as many values as it takes, each of the same kind: a tensor of the same size, dtype and
    device, or an int. The result is the last output of ``body_fn``; when the loop does not
    run at all it is a tuple of ``carried_inputs``, with the tensors copied (the outputs never
    share memory with the inputs, as in PyTorch). Autograd records the iterations that ran.

    Parameters
    ----------
    cond_fn : callable
        Takes ``*carried_inputs``; returns whether to run the body again.
    body_fn : callable
        Takes ``*carried_inputs``; returns the next values, in the same structure.
    carried_inputs : tuple or list
        The initial values: tensors and ints, or tuples, lists and dicts of them.

    Returns
    -------
    object
        The values after the last iteration.

    Raises
    ------
    RuntimeError
        If a function is not callable, ``carried_inputs`` is not a tuple or list, ``cond_fn``
        returns something other than a bool or a 0-d bool tensor, or ``body_fn`` returns values
        that do not match ``carried_inputs``.
    AssertionError
        If ``carried_inputs`` holds something other than tensors and ints (as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> def cond_fn(i, x):
    ...     return i < 3
    >>> def body_fn(i, x):
    ...     return i + 1, x * 2
    >>> flambeau.while_loop(cond_fn, body_fn, (flambeau.tensor(0), flambeau.ones(2)))
    (tensor(3), tensor([8., 8.]))
    >>> flambeau.while_loop(cond_fn, body_fn, (5, flambeau.ones(2)))
    (5, tensor([1., 1.]))
    """
    if not (callable(cond_fn) and callable(body_fn)):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    leaves, spec = tree_flatten(carried_inputs)
    if not all(isinstance(leaf, (Tensor, int)) for leaf in leaves):
        raise AssertionError(f"{leaves} can only be of {(Tensor, int)} but got "
                             f"{tuple(type(leaf) for leaf in leaves)}")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError("Expect carried_inputs to be a tuple of possibly nested "
                           "dict/list/tuple of tensors or ints, but got "
                           f"{type(carried_inputs).__name__}.")
    carry, out, ran = carried_inputs, None, False
    while True:
        go = cond_fn(*carry)
        if not _is_bool_scalar(go):
            raise RuntimeError("cond_fn must return a boolean scalar tensor or a boolean but "
                               f"got {go}")
        if not go:
            break
        out = body_fn(*carry)
        out_leaves = tree_flatten(out)[0]
        _check_body_output(out_leaves, leaves)
        leaves, carry, ran = out_leaves, tree_unflatten(out_leaves, spec), True
    if ran:
        return out
    return tuple(tree_map(lambda v: v.clone() if isinstance(v, Tensor) else v, item)
                 for item in carried_inputs)

"""Call a module with some of its parameters and buffers replaced for that one call.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> from flambeau.nn.utils.stateless import functional_call
>>> m = nn.Linear(2, 1)
>>> functional_call(m, {"weight": flambeau.ones(1, 2), "bias": flambeau.zeros(1)},
...                 (flambeau.tensor([[1.0, 2.0]]),))
tensor([[3.]])
"""

from __future__ import annotations

from collections.abc import Mapping

from flambeau.func import functional_call as _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Run ``module(*args, **kwargs)`` with the given tensors in place of its own.

    The module's parameters and buffers named in ``parameters_and_buffers`` (dotted names,
    as ``named_parameters`` gives them) are swapped for the given tensors during the call
    and put back afterwards, even if the call raises. Gradients flow to the given tensors,
    so this computes a model as a function of its weights. PyTorch's deprecated spelling of
    :func:`flambeau.func.functional_call`, which does the work (and also takes a tuple of
    dicts).

    Parameters
    ----------
    module : Module
        The module to call.
    parameters_and_buffers : dict of str to Tensor
        The replacement tensors. Names of a parametrized tensor (``"weight"``) go through
        its ``right_inverse``; use ``"parametrizations.weight.original"`` to feed the
        parametrization instead.
    args : Any or tuple, optional
        Positional arguments of the call (a single non-tuple value is one argument).
    kwargs : dict, optional
        Keyword arguments of the call.
    tie_weights : bool
        A tensor registered under several names (tied weights) gets a value given under any
        of them everywhere (default True).
    strict : bool
        Require ``parameters_and_buffers`` to name every parameter and buffer, and nothing
        else.

    Returns
    -------
    Any
        What ``module`` returns.

    Raises
    ------
    RuntimeError
        With ``strict``, listing the missing and unexpected keys.
    ValueError
        With ``tie_weights``, when tied names are given different tensors.
    AttributeError
        When a dotted name goes through a missing submodule.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils.stateless import functional_call
    >>> m = nn.Linear(2, 1, bias=False)
    >>> w = flambeau.tensor([[1.0, -1.0]], requires_grad=True)
    >>> out = functional_call(m, {"weight": w}, flambeau.tensor([[3.0, 1.0]]))
    >>> out.backward(); w.grad, m.weight.grad is None
    (tensor([[3., 1.]]), True)
    """
    if not isinstance(parameters_and_buffers, Mapping):
        raise TypeError(
            "functional_call: parameters_and_buffers must be a dict of names to tensors, got "
            f"{type(parameters_and_buffers).__name__}"
        )
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)

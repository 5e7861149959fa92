"""The guards of flambeau.nn for complex tensors, where PyTorch refuses them.

Two refusals, both PyTorch's: ``refuse_complex`` (core's guard, re-exported here so that nn
has one import) for the functions PyTorch defines on real numbers only (orderings such as
max pooling and ReLU, softmax, normalizations, the usual losses, dropout's Bernoulli draw),
and :func:`refuse_complex_grad` for those PyTorch computes on complex tensors but cannot
differentiate (``embedding``, ``bilinear``, ``silu``). ``NO_ORDER`` is the hint ending the
message of the ordering ones. Hot paths test the dtype kind before calling, so real tensors
pay one dtype test at most.
"""

from __future__ import annotations

import flambeau
from flambeau._ops.elementwise import _NO_ORDER as NO_ORDER
from flambeau._ops.elementwise import refuse_complex

__all__ = ["NO_ORDER", "refuse_complex", "refuse_complex_grad"]


def refuse_complex_grad(op, *tensors):
    """Raise PyTorch's RuntimeError when ``op``, which computes complex outputs but has no
    complex gradient in PyTorch, would be recorded: grad mode on and one of ``tensors``
    (None allowed) requiring grad. Call it once the output is known to be complex.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn._complex import refuse_complex_grad
    >>> w = flambeau.ones(2, dtype=flambeau.complex64, requires_grad=True)
    >>> with flambeau.no_grad():
    ...     refuse_complex_grad("embedding", w)  # nothing is recorded: allowed
    >>> try:
    ...     refuse_complex_grad("embedding", w)
    ... except RuntimeError as e:
    ...     print(e)
    embedding does not support automatic differentiation for outputs with complex dtype.
    """
    if flambeau.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
        raise RuntimeError(
            f"{op} does not support automatic differentiation for outputs with complex dtype.")

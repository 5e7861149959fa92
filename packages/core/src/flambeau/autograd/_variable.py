"""``flambeau.autograd.Variable``: PyTorch's legacy wrapper, which is the Tensor itself.

Since PyTorch 0.4 every tensor records history, and ``Variable(t, requires_grad=True)`` only
survives in old code: it returns a new leaf tensor sharing ``t``'s storage, and every tensor is
an instance of ``Variable``.
"""

from __future__ import annotations

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from flambeau._tensor import Tensor

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: a leaf tensor sharing ``data``'s
    storage, as PyTorch's legacy ``torch.autograd.Variable``.

    Every tensor is an instance of ``Variable`` (``isinstance(t, Variable)`` is True), so old
    type checks keep working. ``volatile`` was removed from PyTorch: ``volatile=True`` warns
    and has no effect (use :class:`flambeau.no_grad`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd import Variable
    >>> t = flambeau.ones(2)
    >>> v = Variable(t, requires_grad=True)
    >>> v.requires_grad, t.requires_grad, v.grad_fn is None, isinstance(t, Variable)
    (True, False, True, True)
    >>> (v * 3).sum().backward()
    >>> v.grad
    tensor([3., 3.])
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from flambeau._creation import empty
        from flambeau._tensor import Tensor

        if volatile:
            import warnings

            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "flambeau.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        return data.detach().requires_grad_(bool(requires_grad))

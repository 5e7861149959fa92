"""Parameter and Buffer: tensors that a Module registers as learnable state or as buffers."""

from __future__ import annotations

import flambeau
from flambeau import Tensor
from flambeau._sparse import layout_class

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter"]


def _source(data, who):
    if data is None:
        return flambeau.empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(f"{who}: expected a Tensor as data, got {type(data).__name__}")
    return data


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    The parameter shares its storage with ``data`` (no copy), is a leaf of the autograd
    graph and requires gradients unless ``requires_grad=False``. A sparse ``data`` (COO, CSR,
    CSC) makes a sparse parameter, as torch's: it is a :class:`Parameter` with the layout,
    ops and sparse gradients of ``data``.

    Parameters
    ----------
    data : Tensor, optional
        The initial values (an empty tensor when omitted).
    requires_grad : bool
        Whether the parameter requires gradients (default True).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> p = nn.Parameter(flambeau.tensor([1.0, 2.0]))
    >>> p
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    >>> isinstance(p, flambeau.Tensor), p.is_leaf
    (True, True)
    >>> w = nn.Parameter(flambeau.eye(2).to_sparse())
    >>> flambeau.sparse.mm(w, flambeau.ones(2, 1)).sum().backward()
    >>> w.layout, w.grad.layout, isinstance(w, nn.Parameter)
    (flambeau.sparse_coo, flambeau.sparse_coo, True)
    """

    def __new__(cls, data=None, requires_grad=True):
        data = _source(data, "Parameter")
        self = layout_class(cls, data)._make(data._data, data._device)
        # same storage, so in-place writes are seen by both
        self._version_counter = data._version_counter
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        data = self.detach()  # a plain tensor of self's layout
        out = Parameter(data._make(self._data.copy(), self._device), self._requires_grad)
        out.__dict__.update(self.__dict__)
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """A tensor that, assigned to a Module attribute, registers as a buffer.

    Parameters
    ----------
    data : Tensor, optional
        The buffer's values (shared, not copied).
    persistent : bool
        Whether the buffer is part of the module's ``state_dict`` (default True).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> m = nn.Module()
    >>> m.count = nn.Buffer(flambeau.zeros(1))
    >>> list(m.state_dict())
    ['count']
    """

    def __new__(cls, data=None, *, persistent=True):
        data = _source(data, "Buffer")
        self = layout_class(cls, data)._make(data._data, data._device,
                         data._requires_grad and data.grad_fn is None)
        self._version_counter = data._version_counter
        self.persistent = bool(persistent)
        return self

    def __init__(self, data=None, *, persistent=True):
        pass


class UninitializedTensorMixin:
    """What the uninitialized tensors of lazy modules share: no shape until materialized.

    The base of :class:`UninitializedParameter` and :class:`UninitializedBuffer`, as
    ``torch.nn.parameter.UninitializedTensorMixin``.

    Examples
    --------
    >>> from flambeau import nn
    >>> from flambeau.nn.parameter import UninitializedTensorMixin
    >>> isinstance(nn.UninitializedParameter(), UninitializedTensorMixin)
    True
    """

    _kind = "tensor"
    _becomes = None

    @property
    def shape(self):
        raise RuntimeError(
            f"Can't access the shape of an uninitialized {self._kind}. This error usually "
            f"happens in `load_state_dict` when trying to load an uninitialized {self._kind} "
            "into an initialized one. Call `forward` to initialize the parameters before "
            "accessing their attributes."
        )

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialized values), on its device and dtype
        unless others are given.

        Examples
        --------
        >>> from flambeau import nn
        >>> p = nn.UninitializedParameter()
        >>> p.materialize(4)
        >>> p.numel()
        4
        """
        data = flambeau.empty(shape, device=device or self._device,
                              dtype=dtype or self.dtype)
        self._data, self._device = data._data, data._device
        self.__class__ = self._becomes

    def share_memory_(self):
        """Raise: there is no storage to share before the shape is known.

        Examples
        --------
        >>> from flambeau import nn
        >>> try:
        ...     nn.UninitializedParameter().share_memory_()
        ... except RuntimeError as e:
        ...     print(str(e)[:40])
        Can't share memory on an uninitialized p
        """
        raise RuntimeError(
            f"Can't share memory on an uninitialized {self._kind}. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`."
        )

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter of a lazy module whose shape is known only at the first forward.

    It holds the device and dtype of the parameter to come; :meth:`materialize` gives it
    a shape (in place: the object becomes a plain :class:`Parameter`, so optimizers and
    other references to it stay valid). Its shape cannot be read before that.

    Examples
    --------
    >>> from flambeau import nn
    >>> p = nn.UninitializedParameter()
    >>> p
    <UninitializedParameter>
    >>> p.materialize((2, 3))
    >>> type(p).__name__, tuple(p.shape)
    ('Parameter', (2, 3))
    """

    _kind = "parameter"
    _becomes = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return super().__new__(cls, flambeau.empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __reduce_ex__(self, protocol):
        return (UninitializedParameter, (self._requires_grad, self._device, self.dtype))

    def __deepcopy__(self, memo):
        out = UninitializedParameter(self._requires_grad, self._device, self.dtype)
        memo[id(self)] = out
        return out


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer of a lazy module whose shape is known only at the first forward.

    The buffer counterpart of :class:`UninitializedParameter`, used for the running
    statistics of the lazy normalization layers: :meth:`materialize` gives it a shape in
    place, and ``load_state_dict`` gives it the shape of the loaded tensor.

    Parameters
    ----------
    requires_grad : bool
        Whether the materialized buffer requires gradients (default False).
    device, dtype : optional
        Where and in which dtype the buffer will be created.
    persistent : bool
        Whether the buffer is part of the module's ``state_dict`` (default True).

    Examples
    --------
    >>> from flambeau import nn
    >>> b = nn.UninitializedBuffer()
    >>> b
    <UninitializedBuffer>
    >>> b.materialize(3)
    >>> tuple(b.shape), b.requires_grad
    ((3,), False)
    """

    _kind = "buffer"
    _becomes = Buffer

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        self = super().__new__(cls, flambeau.empty(0, device=device, dtype=dtype),
                               persistent=persistent)
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def __reduce_ex__(self, protocol):
        return (UninitializedBuffer,
                (self._requires_grad, self._device, self.dtype, self.persistent))

    def __deepcopy__(self, memo):
        out = UninitializedBuffer(self._requires_grad, self._device, self.dtype, self.persistent)
        memo[id(self)] = out
        return out


def is_lazy(param):
    """Whether ``param`` is an :class:`UninitializedParameter` or :class:`UninitializedBuffer`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.parameter import is_lazy
    >>> is_lazy(nn.UninitializedParameter()), is_lazy(nn.Parameter(flambeau.ones(1)))
    (True, False)
    """
    return isinstance(param, UninitializedTensorMixin)

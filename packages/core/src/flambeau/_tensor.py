"""The Tensor: a backend array with its device, autograd state and version counter.

Math methods (``add``, ``sum``, ``reshape``, operators, ...) are attached by
:mod:`flambeau._methods` from the op modules, so this file holds only the tensor's own state.
"""

from __future__ import annotations

from flambeau import _compat, _dtype
from flambeau.autograd import _function
from flambeau.autograd._function import (
    AccumulateGrad,
    _InferenceVersion,
    _RemovableHandle,
    _VersionCounter,
)
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = ["Tensor"]


def _on_device_type(kind):
    return property(lambda self: self._device.type == kind,
                    doc=f"Whether the tensor is on a ``{kind}`` device (from a backend plugin).")


class Tensor:
    """A multi-dimensional array with autograd, PyTorch's ``torch.Tensor``.

    Create tensors with :func:`flambeau.tensor`, :func:`flambeau.zeros` and the like;
    ``Tensor(data)`` is kept for old code and makes a float tensor like ``torch.Tensor``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    """

    __slots__ = ("_data", "_device", "_requires_grad", "_grad", "_grad_fn", "_output_nr",
                 "_version_counter", "_accum", "_base", "_view_version", "_retains_grad",
                 "_fw_grad",  # forward AD's (level, tangent): set only in a dual level
                 "__weakref__",
                 # attributes set on a tensor, as torch's tensors take; made on first use.
                 # Parameter and the other subclasses share this layout, so swap_tensors
                 # can swap a Tensor with one (an object's class changes only to one of
                 # the same layout)
                 "__dict__")

    __array_priority__ = 1000  # numpy defers `ndarray <op> Tensor` to our reflected operators

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _function._TENSOR_TYPES.add(cls)

    def __new__(cls, *args, **kwargs):
        from flambeau import _creation

        if len(args) == 1 and not isinstance(args[0], int):
            src = _creation.tensor(args[0], dtype=_dtype.get_default_dtype(), **kwargs)
        else:
            src = _creation.empty(*args, **kwargs)
        return cls._make(src._data, src._device)

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _make(cls, data, device, requires_grad=False):
        """Wrap a backend array without copying (the fast path every op uses)."""
        self = object.__new__(cls)
        if data.__class__ is not device._atype:
            data = device._xp.asarray(data)
        self._data = data
        self._device = device
        self._requires_grad = requires_grad
        self._grad = None
        self._grad_fn = None
        self._output_nr = 0
        # an inference tensor is marked by its counter: no extra slot for the others
        self._version_counter = (_InferenceVersion() if _grad_state.inference
                                 else _VersionCounter())
        self._accum = None
        self._base = None
        # for a view: the version of the shared storage its history was recorded at (None
        # when it was made while grad was off); a write since then makes the history stale
        self._view_version = None
        self._retains_grad = None  # the handle of retain_grad's hook, moved when history changes
        return self

    # ---------------------------------------------------------------- properties
    @property
    def shape(self):
        """The size of each dimension, a :class:`flambeau.Size` (a tuple)."""
        return Size(self._data.shape)

    @property
    def dtype(self):
        """The element type, e.g. ``flambeau.float32``."""
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        """The :class:`flambeau.device` holding the data."""
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    # torch's flags for layouts flambeau does not have: its tensors are dense and strided,
    # but code written for torch asks (``if grad.is_sparse: ...``)
    is_sparse = is_sparse_csr = is_quantized = is_nested = is_mkldnn = False
    #: ``flambeau.strided`` (sparse tensors answer their own). A class attribute, not a
    #: property: the autograd engine reads it each time two gradients meet.
    layout = _compat.strided

    # torch's flags for other device types: true only on a plugin's device of that name
    is_meta, is_mps, is_xpu, is_xla, is_ipu, is_mtia, is_maia, is_vulkan = (
        _on_device_type(kind)
        for kind in ("meta", "mps", "xpu", "xla", "ipu", "mtia", "maia", "vulkan"))

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def grad(self):
        """The gradient accumulated into this tensor by ``backward`` (None until then).

        Assigning checks what torch checks: a Tensor (or None) of this tensor's size, dtype
        and device; ``del t.grad`` sets it to None.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.ones(2, requires_grad=True)
        >>> (x * 3).sum().backward(); x.grad
        tensor([3., 3.])
        >>> x.grad = None; x.grad is None
        True
        """
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for autograd."""
        if self._base is not None:
            return _function.refresh_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for leaves), a
        :class:`flambeau.autograd.graph.Node`.

        A view whose storage was written in place since it was made gets a new node,
        ``AsStridedBackward0``, that reads it out of its base's current history.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.ones(3, requires_grad=True)
        >>> y = x * 2
        >>> y.grad_fn.name()
        'MulBackward0'
        >>> v = y[:2]
        >>> y.add_(1)
        tensor([3., 3., 3.], grad_fn=<AddBackward0>)
        >>> v.grad_fn.name()
        'AsStridedBackward0'
        """
        if self._base is not None:
            _function.refresh_view(self)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, or detached)."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad is not None

    @property
    def data(self):
        """The same storage, detached from the graph (changes to it are not tracked)."""
        out = Tensor._make(self._data, self._device)
        return out

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    @property
    def T(self):
        """The dimensions reversed (``permute(n-1, ..., 0)``)."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        """The last two dimensions swapped."""
        return self.transpose(-2, -1)

    @property
    def _version(self) -> int:
        """How many times this tensor's storage was written in place, as torch's ``_version``.

        Views and ``detach()`` share their base's counter, so a write through any of them
        counts for all. Inference tensors have none (reading it raises, as in torch).

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.zeros(3)
        >>> v = x[1:]
        >>> x._version
        0
        >>> x.add_(1); v.mul_(2)
        tensor([1., 1., 1.])
        tensor([2., 2.])
        >>> x._version, v._version
        (2, 2)
        """
        return self._version_counter.value

    # ---------------------------------------------------------------- sizes
    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.zeros(2, 3).size(), flambeau.zeros(2, 3).size(-1)
        (flambeau.Size([2, 3]), 3)
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.dtype.itemsize

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---------------------------------------------------------------- autograd state
    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` in place (leaf tensors only) and return ``self``.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.zeros(2).requires_grad_().requires_grad
        True
        """
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and not (self._data.dtype.kind in "fc" or self.dtype.is_floating_point):
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients "
                f"(got {self.dtype})"
            )
        if (requires_grad and self._version_counter.__class__ is _InferenceVersion
                and not _grad_state.inference):
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A tensor sharing this one's storage, cut from the graph.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.ones(2, requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        out = Tensor._make(self._data, self._device)
        out._version_counter = self._version_counter
        return out

    def detach_(self):
        """Cut this tensor from the graph in place and return it.

        Views can't be detached in place (their base would still be in the graph): use
        :meth:`detach` for them.

        Examples
        --------
        >>> import flambeau
        >>> y = flambeau.ones(2, requires_grad=True) * 2
        >>> y.detach_().requires_grad, y.is_leaf
        (False, True)
        >>> y[:1].detach_()
        Traceback (most recent call last):
            ...
        RuntimeError: Can't detach views in-place. Use detach() instead.
        """
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        self._fw_grad = None  # and from forward AD's dual tensors, as torch
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.ones(2, requires_grad=True)
        >>> y = x * 3
        >>> y.retain_grad()
        >>> y.sum().backward()
        >>> y.grad
        tensor([1., 1.])
        """
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad is not None:
            return
        import weakref

        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad.detach() if t.grad is None else (t.grad + grad).detach()

        self._retains_grad = self._register_node_hook(keep)

    def _take_history(self, node, output_nr):
        """Make output ``output_nr`` of ``node`` this tensor's history (after an in-place
        change). A ``retain_grad`` moves to the new node, as in torch; hooks of
        ``register_hook`` stay on the old one."""
        self._grad_fn, self._output_nr, self._requires_grad = node, output_nr, True
        handle = self._retains_grad
        if handle is not None:
            handle.remove()
            self._retains_grad = None
            self.retain_grad()

    def _register_node_hook(self, fn):
        node = self.grad_fn
        if node is None:
            node = self._accum
            if node is None:
                node = self._accum = AccumulateGrad(self)
            nr = 0
        else:
            nr = self._output_nr
        if node._hooks is None:
            node._hooks = {}
        fns = node._hooks.setdefault(nr, [])
        fns.append(fn)
        return _RemovableHandle(fns, fn)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * 1).sum().backward()
        >>> x.grad
        tensor([10., 10.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return self._register_node_hook(hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after ``backward`` has updated its ``.grad``.

        Returns a handle whose ``remove()`` unregisters the hook. Useful to act on each
        gradient as soon as it is final, such as stepping an optimizer per parameter or
        starting its all-reduce.

        Examples
        --------
        >>> import flambeau
        >>> w = flambeau.ones(2, requires_grad=True)
        >>> seen = []
        >>> h = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        >>> (w * 3).sum().backward()
        >>> seen
        [[3.0, 3.0]]
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        node = self._accum
        if node is None:
            node = self._accum = AccumulateGrad(self)
        if node._grad_hooks is None:
            node._grad_hooks = []
        node._grad_hooks.append(hook)
        return _RemovableHandle(node._grad_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute gradients of this tensor with respect to the graph's leaves.

        Parameters
        ----------
        gradient : Tensor, optional
            The gradient of some scalar with respect to this tensor; needed unless this
            tensor has one element.
        retain_graph : bool, optional
            Keep the graph for another backward (defaults to ``create_graph``).
        create_graph : bool
            Record the backward pass itself, for higher-order gradients.
        inputs : sequence of Tensor, optional
            Accumulate into these tensors' ``.grad`` only.

        Examples
        --------
        >>> import flambeau
        >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
        >>> (x ** 2).backward(flambeau.tensor([1.0, 0.5]))
        >>> x.grad
        tensor([2., 2.])
        """
        from flambeau import autograd

        if inputs is not None and isinstance(inputs, Tensor):
            inputs = [inputs]
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---------------------------------------------------------------- conversion
    def item(self):
        """The value of a one-element tensor as a Python number.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.tensor([2.5]).item()
        2.5
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._host().reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers.

        Examples
        --------
        >>> import flambeau
        >>> flambeau.arange(4).reshape(2, 2).tolist()
        [[0, 1], [2, 3]]
        """
        host = self._host()
        if self.dtype is _dtype.bfloat16:
            host = host.astype("float32")
        return host.tolist()

    def _host(self):
        return self._device._backend.to_host(self._data)

    def numpy(self, *, force: bool = False):
        """The data as a NumPy array, sharing memory for CPU tensors.

        Examples
        --------
        >>> import flambeau
        >>> t = flambeau.zeros(2)
        >>> a = t.numpy(); a[0] = 5
        >>> t
        tensor([5., 0.])
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if not self._device._backend.host_memory and not force:
            raise TypeError(
                f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        return self._host()

    def __array__(self, dtype=None, copy=None):
        arr = self._host()
        # NumPy 2's copy contract: True always copies, False never does (or raises)
        needs_copy = dtype is not None and arr.dtype != dtype
        if copy is False and (needs_copy or arr is not self._data):
            raise ValueError(f"Tensor.__array__: a {self.dtype} tensor on {self._device} "
                             f"can't be viewed as a NumPy array of dtype {dtype} without a copy")
        if needs_copy:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export this tensor's memory through DLPack (``torch.from_dlpack(t)`` shares it).

        Examples
        --------
        >>> import flambeau, numpy
        >>> t = flambeau.zeros(2)
        >>> a = numpy.from_dlpack(t); t[0] = 3
        >>> a
        array([3., 0.], dtype=float32)
        """
        if self._requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        # pass only what the caller set: older array libraries take no max_version/copy
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        try:
            return self._data.__dlpack__(**kwargs)
        except BufferError as exc:
            raise BufferError(f"__dlpack__: can't export a {self.dtype} tensor on "
                              f"{self._device}: {exc}") from None

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self.item())

    def __float__(self):
        value = self.item()
        if value.__class__ is complex:
            if value.imag:
                raise RuntimeError(f"float(): the complex value {value} of a {self.dtype} tensor "
                                   "can't be converted to a real number")
            value = value.real
        return float(value)

    def __int__(self):
        value = self.item()
        if value.__class__ is complex:  # as torch: the real part, if the value is real
            if value.imag:
                raise RuntimeError(f"int(): the complex value {value} of a {self.dtype} tensor "
                                   "can't be converted to an integer")
            value = value.real
        return int(value)

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        # Tensors pickle as data + dtype + device (DataLoader workers, multiprocessing); data
        # in shared memory (or moved there, by multiprocessing's pickler) goes to other
        # processes as a place in that memory (share_memory_)
        from flambeau import _shared_memory

        rebuilt = (_rebuild, (_shared_memory.pickled(self), str(self._device),
                              self._requires_grad))
        state = self.__dict__  # attributes set on it, restored as torch's are
        return rebuilt + (dict(state),) if state else rebuilt

    def __repr__(self):
        from flambeau._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)._make(self._data.copy(), self._device, self._requires_grad)
        memo[id(self)] = out  # before copying its attributes, which may refer back to it
        _copy_attributes(self, out, memo)
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        return out


def _copy_attributes(tensor, out, memo):
    """Give ``out``, ``copy.deepcopy``'s copy of ``tensor``, deep copies of the attributes set
    on ``tensor`` (a plain tensor's too), as torch copies them."""
    if tensor.__dict__:
        import copy

        out.__dict__.update(copy.deepcopy(tensor.__dict__, memo))


def _rebuild(array, device, requires_grad):
    from flambeau import _creation, _shared_memory

    t = _creation.as_tensor(_shared_memory.unpickled(array), device=device)
    if requires_grad:
        t.requires_grad_()
    return t


class Size(tuple):
    """A tensor's shape: a tuple of ints, as ``torch.Size``.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.zeros(2, 3).shape
    >>> s, s.numel(), s == (2, 3)
    (flambeau.Size([2, 3]), 6, True)
    """

    __slots__ = ()

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"flambeau.Size({list(self)})"

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out


def _wrap_dim(dim, ndim, op="op"):
    """A possibly negative dim as an index in ``range(ndim)`` (0-d tensors accept 0 and -1)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n


_function._Tensor = Tensor
_function._TENSOR_TYPES.add(Tensor)


_COMPRESSED = (_compat.sparse_csr, _compat.sparse_csc)


def _check_assigned_grad(t, g):
    """torch's checks of ``t.grad = g``."""
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(g).__name__}")
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a "
                           f"tensor of size '{list(t.shape)}'. Please ensure that the gradient "
                           "and the tensor are the same size")
    if g._data.dtype != t._data.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{g.dtype}' to a tensor "
                           f"with dtype '{t.dtype}': the gradient must match the tensor's dtype")
    if g._device is not t._device and g._device != t._device:
        raise RuntimeError(f"attempting to assign a gradient located on {g.device} to a tensor "
                           f"located on {t.device}: they must be on the same device")
    if g.layout is not t.layout and g.layout is not _compat.sparse_coo \
            and not (g.layout in _COMPRESSED and t.layout in _COMPRESSED):
        # torch's rule: a COO gradient for any tensor, a CSR/CSC one for a CSR/CSC tensor
        raise RuntimeError(f"attempting to assign a gradient to a tensor that has data of a "
                           f"different type (a {g.layout} gradient to a {t.layout} tensor)")

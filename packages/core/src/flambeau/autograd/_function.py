"""Function: one differentiable op, forward and backward side by side.

An instance of a Function subclass is both the ``ctx`` its methods receive and the graph node
its outputs point to (``grad_fn``). Built-in ops and users' custom ops use the same class.
"""

from __future__ import annotations

import inspect
import traceback

from flambeau.autograd import _anomaly
from flambeau.autograd._grad_mode import state as _grad_state
from flambeau.utils.hooks import RemovableHandle as _PublicHandle

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class _VersionCounter:
    """Shared by a tensor and its views; bumped by every in-place write."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class _InferenceVersion(_VersionCounter):
    """The counter of an inference tensor (made under ``inference_mode``), which has none.

    Being the marker costs normal tensors nothing: views and ``detach()`` share the counter,
    so they are inference tensors too, as in PyTorch. Reading it outside inference mode (to
    save the tensor for backward, or to bump it after an in-place write) is the error.
    """

    __slots__ = ()

    def __init__(self):
        pass

    @property
    def value(self):
        if _grad_state.inference:
            return 0
        raise _InferenceVersionRead("Inference tensors do not track version counter.")

    @value.setter
    def value(self, v):
        if not _grad_state.inference:
            raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)


class _InferenceVersionRead(RuntimeError):
    pass


_INFERENCE_INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed. You can make a "
    "clone to get a normal tensor before doing inplace update. See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)
_INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `flambeau.no_grad()` instead "
    "of `flambeau.inference_mode()`."
)
_PACK_INPLACE_MESSAGE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
    "pack hook cannot be modified by in-place operations as this can lead to unexpected "
    "side-effects."
)


class _Packed:
    """What ``save_for_backward`` keeps under ``saved_tensors_hooks``.

    The pack hook's results, and the unpack hook that turns them back into tensors.
    """

    __slots__ = ("unpack_hook", "packed")

    def __init__(self, hooks, tensors):
        pack_hook, self.unpack_hook = hooks
        packed = []
        for t in tensors:
            if t is None:
                packed.append(None)
                continue
            version = t._version_counter.value
            packed.append(pack_hook(t))
            if t._version_counter.value != version:
                raise RuntimeError(_PACK_INPLACE_MESSAGE)
        self.packed = tuple(packed)

    def unpack(self):
        out = []
        for p in self.packed:
            if p is None:
                out.append(None)
                continue
            t = self.unpack_hook(p)
            if not isinstance(t, _Tensor):
                raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                                f"got result of type {type(t).__name__}")
            out.append(t)
        return tuple(out)


class Node:
    """A vertex of the backward graph: the class of every ``tensor.grad_fn``.

    ``next_functions`` lists, as PyTorch's does, one ``(node, output_nr)`` pair per tensor
    input of the op: where that input's gradient flows, or ``(None, 0)`` for an input that
    needs no gradient. ``name()`` is PyTorch's name of the node, also its class's name
    (``MulBackward0``; a leaf's node is an ``AccumulateGrad``). ``metadata`` is a dict for
    users' annotations; ``register_prehook(fn)`` runs ``fn(grad_outputs)`` before the node's
    backward and ``register_hook(fn)`` runs ``fn(grad_inputs, grad_outputs)`` after it
    (either may return replacement gradients). Both return a handle whose ``remove()``
    unregisters the hook.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 3
    >>> y.grad_fn
    <MulBackward0 object at 0x...>
    >>> y.grad_fn.next_functions
    ((<AccumulateGrad object at 0x...>, 0), (None, 0))
    >>> y.grad_fn.name(), type(y.grad_fn).__name__
    ('MulBackward0', 'MulBackward0')
    >>> h = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
    >>> y.sum().backward(); x.grad
    tensor([30., 30.])
    >>> h.remove()
    """

    #: the engine's edges, per argument of the op's forward (numbers and flags included):
    #: the node that input's gradient flows to (None where none flows) and that node's
    #: output number. Two flat tuples rather than one ``(node, output_nr)`` pair per edge:
    #: a pair holds a node, so the cyclic garbage collector would track it for the graph's
    #: whole life, and its full passes over a long graph cost a third of the graph's time
    _next: tuple = ()
    _next_nrs: tuple = ()
    _hooks = None  # {output_nr: [hook, ...]} from Tensor.register_hook on outputs
    _freed = False
    _trace = None  # forward traceback when anomaly detection is on
    _saved = None
    _post_hooks = None
    _pre_hooks = None
    _metadata = None
    _out_meta = None  # per-output (shape, dtype, device), kept for multi-output ops only
    _is_view = False
    #: ``f(node, buffer, grad)`` for ops whose gradient for their first input is ``grad``
    #: placed into part of a zeros array (and None for the others): add it into ``buffer``
    #: (the tensor summing that input's gradient, of its shape and dtype) in place and return
    #: True, or return False to have ``backward`` run. The engine calls it instead of
    #: ``backward`` only when no graph is recorded, no post hook is registered and it alone
    #: holds ``buffer``.
    _backward_into = None
    #: whether ``backward`` may write into its first gradient's array when the engine says
    #: no one else holds it (it sets ``_grad_private`` for the call; no graph is recorded)
    _may_overwrite_grad = False
    _grad_private = False

    def name(self) -> str:
        """The node's name, as in PyTorch (``"MulBackward0"``)."""
        return type(self).__name__

    @property
    def _edges(self) -> tuple:
        """One ``(node, output_nr)`` per argument of forward, None where no gradient flows."""
        return tuple(None if n is None else (n, nr) for n, nr in zip(self._next, self._next_nrs))

    @property
    def next_functions(self) -> tuple:
        """``(node, output_nr)`` per tensor input, ``(None, 0)`` where no gradient flows."""
        return tuple(_NO_EDGE if e is None else e for e in self._edges)

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        """A dict for users' own annotations of this node (empty until written to)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_hook(self, fn):
        """Run ``fn(grad_inputs, grad_outputs)`` after this node's backward.

        ``grad_inputs`` are the gradients the node computed for its inputs, ``grad_outputs``
        the ones it received; the hook may return a tuple that replaces ``grad_inputs``.
        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if self._post_hooks is None:
            self._post_hooks = []
        post = self._post_hooks
        post.append(fn)
        return _RemovableHandle(post, fn)

    def register_prehook(self, fn):
        """Run ``fn(grad_outputs)`` before this node's backward; it may return new ones.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if self._pre_hooks is None:
            self._pre_hooks = []
        pre = self._pre_hooks
        pre.append(fn)
        return _RemovableHandle(pre, fn)


class _RemovableHandle(_PublicHandle):
    """A handle over hooks kept in a list (tensor and node hooks)."""

    __slots__ = ("_list", "_item")

    def __init__(self, lst, item):
        self._list, self._item = lst, item

    def remove(self):
        try:
            self._list.remove(self._item)
        except ValueError:
            pass


class _NeedsNothing(tuple):
    """``needs_input_grad`` of an op that is not recorded: every entry is False."""

    def __getitem__(self, i):
        return False


def _needs_grad(args):
    """``needs_input_grad`` of a recorded op: whether each argument is a tensor requiring
    grad. One or two arguments (nearly every op) are written out: a comprehension is a
    function call of its own in CPython 3.11, about as costly as the op's NumPy call on a
    small tensor."""
    n = len(args)
    if n == 2:  # one of four shared tuples, not a new one per node (see _versions)
        a, b = args
        if a.__class__ in _TENSOR_TYPES and a._requires_grad:
            return _BOTH if b.__class__ in _TENSOR_TYPES and b._requires_grad else _FIRST
        return _SECOND if b.__class__ in _TENSOR_TYPES and b._requires_grad else _NEITHER
    if n == 1:
        return (True,)  # recorded: the one argument is a tensor that requires grad
    return tuple([a.__class__ in _TENSOR_TYPES and a._requires_grad for a in args])


def _versions(tensors):
    """The version of each saved tensor (None for None), as :func:`_needs_grad` does it.
    A tuple of ints: the garbage collector stops tracking it, unlike a list. Where nothing
    is saved, one shared tuple: each object a node refers to is a cache line that every
    full collection reads, and a long graph's nodes dominate those collections."""
    n = len(tensors)
    if n == 2:
        a, b = tensors
        if a is None and b is None:
            return _NOTHING_SAVED
        return (None if a is None else a._version_counter.value,
                None if b is None else b._version_counter.value)
    if n == 1:
        a = tensors[0]
        return (None if a is None else a._version_counter.value,)
    return tuple([t._version_counter.value if t is not None else None for t in tensors])


class FunctionCtx:
    """The methods a Function's ``forward``/``backward`` use on ``ctx``.

    Examples
    --------
    >>> import flambeau
    >>> class Scale(flambeau.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x, k):
    ...         ctx.k = k
    ...         return x * k
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * ctx.k, None
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> Scale.apply(x, 3.0).sum().backward(); x.grad
    tensor([3., 3.])
    """

    #: set per call while recording; all False otherwise
    needs_input_grad = _NeedsNothing()

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; in-place changes to them are detected there."""
        self._saved = tensors
        if self.needs_input_grad.__class__ is not tuple:
            self._saved_versions = ()  # not recorded: backward never runs, nothing to check
            return
        try:
            versions = self._saved_versions = _versions(tensors)
        except _InferenceVersionRead:
            raise RuntimeError(_INFERENCE_SAVED_MESSAGE) from None
        if versions is _NOTHING_SAVED:
            self._saved = _NOTHING_SAVED  # the same (None, None), shared (see _versions)
        hooks = _grad_state.saved_hooks
        if hooks is not None:
            self._saved = _Packed(hooks, tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to :meth:`save_for_backward`, checked against in-place changes."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(_FREED_MESSAGE)
            return ()
        if saved.__class__ is _Packed:
            return saved.unpack()
        for t, v in zip(saved, self._saved_versions):
            if t is not None and t._version_counter.value != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{t.dtype} tensor of shape {list(t.shape)}], which "
                    f"is saved by {self.name()}, is at version {t._version_counter.value}; "
                    f"expected version {v} instead. Hint: clone the tensor before changing it in "
                    "place, or enable flambeau.autograd.set_detect_anomaly(True) to find the op"
                )
        return saved

    def save_for_forward(self, *tensors):
        """Keep tensors for ``jvp`` (forward-mode AD), which reads them as ``saved_tensors``.

        Examples
        --------
        >>> import flambeau
        >>> import flambeau.autograd.forward_ad as fwAD
        >>> class Square(flambeau.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_forward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def jvp(ctx, t):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * t
        >>> with fwAD.dual_level():
        ...     d = fwAD.make_dual(flambeau.tensor([3.0]), flambeau.tensor([1.0]))
        ...     fwAD.unpack_dual(Square.apply(d)).tangent
        tensor([6.])
        """
        self._saved_forward = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks)."""
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        """Declare inputs modified in place by forward."""
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool):
        """Whether undefined output gradients reach backward as zeros (default) or None."""
        self._materialize = bool(value)


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Function(FunctionCtx, Node):
    """Base class of differentiable operations, for built-in ops and users' custom ones.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    methods and call ``MyFunction.apply(*args)``. ``forward`` runs with gradient recording
    off; ``backward`` returns one gradient (or None) per argument of ``forward``, written with
    flambeau ops so that higher-order gradients work.

    Examples
    --------
    >>> import flambeau
    >>> class Cube(flambeau.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = flambeau.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor([12.])
    """

    _materialize = True
    #: set per call while recording; all False otherwise
    needs_input_grad = _NeedsNothing()
    _non_diff = None
    _dirty = None
    #: outputs share storage (and the version counter) with the first input
    _is_view = False
    #: ops whose outputs never carry gradients (comparisons, argmax)
    _differentiable = True
    #: the class of this op's nodes (see ``__init_subclass__``)
    _node_cls = None
    #: torch's name of the op's node where it is not the class's name + "Backward0"
    #: (inherited: a subclass that is another torch op sets its own)
    _node_name = None
    #: positions of ``forward``'s arguments that PyTorch's node lists in ``next_functions``,
    #: for ops whose torch signature is not "the tensor arguments" (None): a number operand
    #: that torch wraps in a tensor (``x * 2``), an optional tensor left out (``bias=None``);
    #: an index or a mask torch does not differentiate is left out of the tuple
    _graph_inputs = None
    _in_dtypes = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_forward_cls" in cls.__dict__:  # the node class made below
            _seed_node_keys(cls)
            return
        # forward/backward written without @staticmethod still work, as in PyTorch
        for name in ("forward", "backward", "setup_context", "vjp", "jvp"):
            fn = cls.__dict__.get(name)
            if inspect.isfunction(fn):
                setattr(cls, name, staticmethod(fn))
        if "vjp" in cls.__dict__ and "backward" not in cls.__dict__:
            cls.backward = cls.__dict__["vjp"]  # PyTorch's other name for backward
        if cls.setup_context is not Function.setup_context and (
                "forward" in cls.__dict__ or "setup_context" in cls.__dict__):
            _use_setup_context(cls)
        elif "forward" in cls.__dict__ and "apply" not in cls.__dict__ \
                and not cls.__module__.startswith("flambeau."):
            # a user's forward(ctx, ...) takes keyword arguments, as in torch; the built-in
            # ops keep the positional apply, which pays nothing for them
            cls.apply = classmethod(_apply_with_keywords)
        # The graph's nodes are instances of a subclass named as PyTorch names the node
        # (Mul -> MulBackward0), so that type(y.grad_fn).__name__, repr and name() agree
        # with torch's, while isinstance(y.grad_fn, Mul) still holds. Making one costs apply
        # nothing: it creates an instance of cls._node_cls instead of cls.
        node_name = getattr(cls, "_node_name", None) or _default_node_name(cls)
        cls._node_cls = type(node_name, (cls,), {
            "_forward_cls": cls, "__module__": cls.__module__, "__qualname__": node_name,
            "__doc__": f"The backward graph's node of :class:`{cls.__qualname__}`."})

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs (override this)."""
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return the gradient of each forward input (override this)."""
        raise NotImplementedError(
            f"{_op_name(ctx)} does not define backward: you must implement either the "
            f"backward or vjp method for your custom autograd.Function to use it with "
            f"backward mode AD")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Save what ``backward`` needs, for a ``forward`` written without ``ctx``.

        PyTorch 2's style of custom Function: ``forward(*args)`` computes the outputs
        alone, then ``setup_context(ctx, inputs, output)`` gets the inputs (keyword
        arguments bound to their positions, defaults filled in) and the output, and calls
        ``ctx.save_for_backward``, ``ctx.mark_non_differentiable`` and the rest.

        Examples
        --------
        >>> import flambeau
        >>> class Scale(flambeau.autograd.Function):
        ...     @staticmethod
        ...     def forward(x, k=2.0):
        ...         return x * k
        ...     @staticmethod
        ...     def setup_context(ctx, inputs, output):
        ...         ctx.k = inputs[1]
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad * ctx.k, None
        >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
        >>> Scale.apply(x, k=3.0).sum().backward()
        >>> x.grad
        tensor([3., 3.])
        """
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Return the tangent of each output from those of the inputs (forward-mode AD).

        Optional: one tangent per ``forward`` argument arrives (zeros for a tensor without
        one, None for other arguments), and ``ctx`` holds what ``forward`` set, with
        :meth:`save_for_forward`'s tensors as ``ctx.saved_tensors``. Without it, forward AD
        differentiates through ``backward`` (twice), which must then be differentiable.

        Examples
        --------
        >>> import flambeau
        >>> import flambeau.autograd.forward_ad as fwAD
        >>> class Double(flambeau.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     def jvp(ctx, t):
        ...         return t * 2
        >>> with fwAD.dual_level():
        ...     d = fwAD.make_dual(flambeau.tensor([1.0]), flambeau.tensor([0.5]))
        ...     fwAD.unpack_dual(Double.apply(d)).tangent
        tensor([1.])
        """
        raise NotImplementedError(
            f"{_op_name(ctx)}: you must implement the jvp function for custom "
            "autograd.Function to use it with forward mode AD.")

    @property
    def next_functions(self) -> tuple:
        """``(node, output_nr)`` per tensor input, ``(None, 0)`` where no gradient flows."""
        # the pairs are made from the flat tuples here, each once (not read from _edges)
        nodes, nrs = self._next, self._next_nrs
        shown = self._graph_inputs
        if shown is None:  # the tensor arguments: _connect marks the others None
            return tuple(_NO_EDGE if fn is None else (fn, nr)
                         for fn, nr, d in zip(nodes, nrs, self._in_dtypes) if d is not None)
        n = len(nodes)
        listed = tuple(_NO_EDGE if i >= n or nodes[i] is None else (nodes[i], nrs[i])
                       for i in shown)
        # an input torch's node does not take, through which a gradient flows all the same
        # (a class weight that requires grad), comes last: walking next_functions reaches
        # every node backward runs
        extra = tuple((fn, nrs[i]) for i, fn in enumerate(nodes)
                      if fn is not None and i not in shown)
        return listed + extra if extra else listed

    @classmethod
    def apply(cls, *args):
        """Run the op, recording it in the graph when an input requires grad."""
        if _forward_ad_on:  # a dual level is active: tangents ride along (_forward.py)
            return _forward_ad_apply(cls, args)
        ctx = _new(cls._node_cls)
        state = _grad_state
        enabled = state.grad_enabled
        record = False
        device = None
        for a in args:
            if a.__class__ in _TENSOR_TYPES:
                if device is None:
                    device = a._device
                if a._requires_grad or (a._base is not None and refresh_view(a)):
                    record = enabled and cls._differentiable
                    break
        if record:
            ctx.needs_input_grad = _needs_grad(args)
        # a backend that does not take a sparse tensor's storage raises its own TypeError
        # (CuPy's); the handler turns that into flambeau's refusal, naming the op. A try
        # costs nothing until it raises: dense ops pay nothing for the check
        if enabled:
            state.grad_enabled = False
            try:
                out = cls.forward(ctx, *args)
            except TypeError:
                _refuse_sparse_inputs(args)
                raise
            finally:
                state.grad_enabled = True
        else:
            try:
                out = cls.forward(ctx, *args)
            except TypeError:
                _refuse_sparse_inputs(args)
                raise
        if out.__class__ is tuple:
            outputs = tuple(_as_output(ctx, o, args, device) for o in out)
            ctx._out_meta = [(o._data.shape, o._data.dtype, o._device) if o is not None
                             else None for o in outputs]
        elif out.__class__ in _TENSOR_TYPES:
            outputs = (_as_output(ctx, out, args, device),)
        else:
            outputs = (_Tensor._make(out, device),)
        if ctx._is_view:
            base = args[0]
            for o in outputs:
                mark_view(o, base, enabled)
        if record:
            _connect(ctx, args, outputs)
        return outputs if out.__class__ is tuple else outputs[0]


Function._node_cls = Function  # Function.apply itself runs forward's NotImplementedError


def _use_setup_context(cls):
    """Make ``cls`` (a Function with ``setup_context``) run as one written with ``ctx``.

    ``apply`` binds keyword arguments and defaults to ``forward``'s positions (the
    ``inputs`` that ``setup_context`` receives); ``forward``, called by ``apply`` with the
    node first, runs the user's ``forward`` and then ``setup_context`` on the node.
    ``cls.forward(*args)`` called directly still is the user's own.
    """
    user_forward = inspect.unwrap(cls.forward)  # a subclass's: the user's, not our wrapper
    signature = inspect.signature(user_forward)

    def forward(*args, **kwargs):
        if args and isinstance(args[0], FunctionCtx):  # from apply: the node comes first
            ctx, inputs = args[0], args[1:]
            output = user_forward(*inputs)
            type(ctx).setup_context(ctx, inputs, output)
            return output
        return user_forward(*args, **kwargs)

    def apply(cls, *args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}.apply: {exc}") from None
        bound.apply_defaults()  # a keyword past a default then is positional, as torch's
        # keyword-only: not among the positional inputs forward receives
        passed = [name for name in bound.kwargs if name in kwargs]
        if passed:
            raise TypeError(f"{cls.__name__}.apply: forward() got an unexpected keyword "
                            f"argument {passed[0]!r} (a keyword-only argument "
                            f"of forward cannot be passed; make it positional)")
        return Function.apply.__func__(cls, *bound.args)

    forward.__wrapped__ = user_forward
    forward.__doc__ = user_forward.__doc__
    cls.forward = staticmethod(forward)
    cls.apply = classmethod(apply)


def _apply_with_keywords(cls, *args, **kwargs):
    """``apply`` of a user's Function with ``forward(ctx, ...)``: keyword arguments are
    bound to ``forward``'s positions right after the positional ones (no gap left to a
    default, as torch binds them), then the op runs as called positionally."""
    if kwargs:
        args = _bind_keywords(cls, args, kwargs)
    return Function.apply.__func__(cls, *args)


def _bind_keywords(cls, args, kwargs):
    names = [p.name for p in list(inspect.signature(inspect.unwrap(cls.forward))
                                  .parameters.values())[1:]  # after ctx
             if p.kind is p.POSITIONAL_OR_KEYWORD]
    args = list(args)
    for name in names[len(args):]:
        if name not in kwargs:
            break
        args.append(kwargs.pop(name))
    for name in kwargs:
        if name in names[:len(args)]:
            raise TypeError(f"forward() got multiple values for argument {name!r}")
        if name in names:
            missing = names[len(args)]
            raise TypeError(f"forward() missing required argument: {missing!r} (position "
                            f"{len(args)})")
        raise TypeError(f"forward() got an unexpected keyword argument {name!r}")
    return tuple(args)


def _refuse_sparse_inputs(args):
    """Raise flambeau's refusal (``SparseUnsupported``, naming the op) when a sparse
    tensor is among ``args`` (or in a list of them) of an op that failed with a TypeError;
    return otherwise, for that error to go on."""
    from flambeau._sparse import refuse_sparse_inputs

    refuse_sparse_inputs(args)


def _as_output(ctx, out, args, device):
    if out is None:
        return None
    if out.__class__ in _TENSOR_TYPES or isinstance(out, _Tensor):
        for a in args:
            if out is a and not ctx._dirty:
                return out.view_as(out)  # a Function returning its input gives a new tensor
        return out
    if device is None:
        raise TypeError(f"{_op_name(ctx)}.forward returned an array but has no tensor input")
    return _Tensor._make(out, device)


def mark_view(out, src, recorded=None):
    """Make ``out`` a view of ``src``'s storage: same version counter, same root base.

    ``recorded`` (default: whether grad mode is on) says whether ``out``'s history is
    kept up to date with in-place writes to the storage (see :func:`refresh_view`).
    """
    version = src._version_counter
    out._version_counter = version
    out._base = src if src._base is None else src._base
    if recorded is None:
        recorded = _grad_state.grad_enabled
    out._view_version = (version.value if recorded and version.__class__ is _VersionCounter
                         else None)


def refresh_view(view):
    """Bring a view's history up to date with its storage; return its ``requires_grad``.

    A write into the storage (through the base or any view of it) bumps the shared version
    counter. If the base has a history by then, the view's old node no longer says where its
    values come from: it is replaced by an as-strided read of the base's current history,
    as PyTorch does. Views made while grad was off are not followed.
    """
    seen = view._view_version
    if seen is not None:
        now = view._version_counter.value
        if seen != now:
            view._view_version = now
            if view._base._requires_grad:
                from flambeau._ops.strided_numeric import read_view_from_base

                read_view_from_base(view)
    return view._requires_grad


def _input_edge(a):
    """``(node, output_nr, shape, dtype)`` of argument ``a`` of a recorded op: the node its
    gradient flows to and its shape and dtype, ``(None, 0, None, False)`` for a tensor that
    needs no gradient (which next_functions lists) and ``(None, 0, None, None)`` for any other
    argument."""
    if a.__class__ in _TENSOR_TYPES:
        if a._requires_grad:
            if a._base is not None:
                refresh_view(a)
            data = a._data
            fn = a._grad_fn
            if fn is None:
                fn = a._accum
                if fn is None:
                    fn = a._accum = AccumulateGrad(a)
                return fn, 0, data.shape, data.dtype
            return fn, a._output_nr, data.shape, data.dtype
        return None, 0, None, False
    return None, 0, None, None


def _connect(ctx, args, outputs):
    """Link ``ctx`` into the graph: edges to the inputs' nodes, outputs pointing back."""
    # tuples, not lists, and shapes apart from dtypes: a tuple of ints is untracked by the
    # cyclic garbage collector, whose full passes over a large graph cost a third of its
    # time; only the tuple of nodes stays tracked. One or two arguments (nearly every op)
    # are written out, as in _needs_grad: no list to grow and convert
    n = len(args)
    if n == 2:
        na, ra, sa, da = _input_edge(args[0])
        nb, rb, sb, db = _input_edge(args[1])
        ctx._next = (na, nb)
        ctx._next_nrs = (ra, rb) if ra or rb else (0, 0)  # a constant: one tuple for all
        ctx._in_shapes = (sa, sb)
        ctx._in_dtypes = (da, db)
    elif n == 1:
        na, ra, sa, da = _input_edge(args[0])
        ctx._next = (na,)
        ctx._next_nrs = (ra,) if ra else (0,)
        ctx._in_shapes = (sa,)
        ctx._in_dtypes = (da,)
    else:
        nodes, nrs, shapes, dtypes = zip(*[_input_edge(a) for a in args])  # apply: n >= 1
        ctx._next = nodes
        ctx._next_nrs = _FIRST_OUTPUTS.get(nrs, nrs)  # shared (see _versions)
        ctx._in_shapes = shapes
        ctx._in_dtypes = dtypes
    if _anomaly.active and _anomaly.enabled():
        ctx._trace = "".join(traceback.format_stack()[:-2])
    non_diff = ctx._non_diff
    dirty = ctx._dirty
    if non_diff is None and dirty is None and len(outputs) == 1:  # the common case
        o = outputs[0]
        if o._data.dtype in _FLOAT_DTYPES:
            o._requires_grad = True
            o._grad_fn = ctx
        return
    dirty_views = []
    for i, o in enumerate(outputs):
        if o is None:
            continue
        if non_diff is not None and id(o) in non_diff:
            continue
        if o._data.dtype not in _FLOAT_DTYPES:
            continue  # integer and bool results never require grad
        if dirty is not None and id(o) in dirty:
            if o._base is not None:
                from flambeau._inplace import check_view_write

                dirty_views.append((i, check_view_write(o, ctx.name())))
            elif o._grad_fn is None and o._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
        o._take_history(ctx, i)
    for i, geo in dirty_views:  # written through a view: the base's history changes too
        from flambeau._ops.strided_numeric import rebase_view_history

        view = outputs[i]
        value = _Tensor._make(view._data, view._device)
        value._take_history(ctx, i)
        rebase_view_history(view, value, geo)


class AccumulateGrad(Node):
    """The node that adds a leaf tensor's incoming gradient to its ``.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self._hooks = None
        self._grad_hooks = None  # hook(tensor) after .grad is updated (not node post hooks)

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's name (its class: AccumulateGrad)


def _seed_node_keys(node_cls):
    """Put the attributes recording and backward set on every node into ``node_cls``'s
    shared instance keys, by setting them on a throwaway instance.

    CPython (3.11+) adds a key to a class's shared keys only while few instances exist
    (each new instance uses up some of the room), and an instance given a key outside them
    carries a dict of its own: one more object for the cyclic collector per node, bigger
    and slower to read. Every call of an op makes a node (its ``ctx``), recorded or not,
    so an op run a few dozen times under ``no_grad`` (or on tensors that need no grad)
    before it is first recorded left every node it recorded after that with such a dict.
    """
    seed = _new(node_cls)
    for name in _NODE_KEYS:
        object.__setattr__(seed, name, None)


def node_variant(op, node_name, graph_inputs=None):
    """A subclass of Function ``op`` that runs it unchanged, for another of torch's overloads
    of the op: its node is named ``node_name`` (``SumBackward1`` for ``Sum``'s) and lists
    the arguments ``graph_inputs`` (see ``Function._graph_inputs``) when given. The profiler
    names its calls as ``op``'s."""
    ns = {"_node_name": node_name, "__module__": op.__module__}
    if graph_inputs is not None:
        ns["_graph_inputs"] = graph_inputs
    return type(op.__name__, (op,), ns)


def _default_node_name(cls):
    """PyTorch's name for the nodes of Function ``cls``: flambeau's ops as torch's built-in
    ones (``MulBackward0``; ``_Silu`` -> ``SiluBackward0``), users' Functions as torch's
    custom ones (``MyFnBackward``). Ops whose torch name differs set ``_node_name``."""
    if cls.__module__.partition(".")[0] == "flambeau":
        return cls.__name__.lstrip("_") + "Backward0"
    return cls.__name__ + "Backward"


def _op_name(ctx):
    """The name of the Function whose node ``ctx`` is (for error messages)."""
    return getattr(type(ctx), "_forward_cls", type(ctx)).__name__


def once_differentiable(fn):
    """Decorate a ``backward`` that is not itself differentiable (no double backward).

    Examples
    --------
    >>> import flambeau
    >>> class Square(flambeau.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @flambeau.autograd.function.once_differentiable
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 2 * x
    >>> x = flambeau.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).backward(); x.grad
    tensor([6.])
    """
    import functools

    from flambeau.autograd._grad_mode import no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            return fn(ctx, *grads)

    return wrapper


_new = object.__new__
#: set while a forward-AD dual level is active (by flambeau.autograd._forward), which then
#: runs each op through ``_forward_ad_apply(cls, args)``
_forward_ad_on = False
_forward_ad_apply = None
#: next_functions' entry for an input that needs no gradient, as PyTorch's
_NO_EDGE = (None, 0)
#: ``needs_input_grad`` of two arguments
_BOTH, _FIRST, _SECOND, _NEITHER = (True, True), (True, False), (False, True), (False, False)
#: ``_saved`` and ``_saved_versions`` of ``save_for_backward(None, None)``
_NOTHING_SAVED = (None, None)
#: ``_next_nrs`` of nodes of 3 to 8 arguments whose inputs are all their nodes' first
#: outputs, by arity (``_connect`` writes one and two as constants)
_FIRST_OUTPUTS = {(0,) * n: (0,) * n for n in range(3, 9)}
#: what ``apply``, ``save_for_backward``, ``_connect`` and the engine set on a recorded node
#: (see ``_seed_node_keys``)
_NODE_KEYS = ("needs_input_grad", "_saved", "_saved_versions", "_out_meta", "_next",
              "_next_nrs", "_in_shapes", "_in_dtypes", "_grad_private", "_freed")

# Filled in by flambeau._tensor to avoid an import cycle.
_Tensor = None
_TENSOR_TYPES: set = set()
# the dtypes whose results can require grad: floating point and complex
_FLOAT_DTYPES = frozenset(
    __import__("numpy").dtype(d)
    for d in ("float16", "float32", "float64", "complex64", "complex128")
) | {__import__("numpy").dtype(__import__("ml_dtypes").bfloat16)}

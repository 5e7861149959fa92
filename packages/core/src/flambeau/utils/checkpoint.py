"""flambeau.utils.checkpoint: activation checkpointing, PyTorch's ``torch.utils.checkpoint``.

A checkpointed block keeps none of its intermediate tensors for backward: backward runs
the block's forward again to get them, trading compute for memory.

Examples
--------
>>> import flambeau
>>> from flambeau.utils.checkpoint import checkpoint
>>> w = flambeau.tensor([2.0], requires_grad=True)
>>> y = checkpoint(lambda x: (x * w).exp(), flambeau.ones(1), use_reentrant=False)
>>> y.backward(); w.grad
tensor([7.3891])
"""

from __future__ import annotations

import collections
import contextlib
import enum
import re
import threading
import warnings
import weakref

from flambeau._tensor import Tensor
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import enable_grad
from flambeau.autograd._grad_mode import state as _state
from flambeau.autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "get_device_states",
           "set_device_states", "noop_context_fn", "set_checkpoint_early_stop",
           "DefaultDeviceType", "set_checkpoint_debug_enabled", "CheckpointPolicy",
           "SelectiveCheckpointContext", "create_selective_checkpoint_contexts"]

#: what set_checkpoint_early_stop / set_checkpoint_debug_enabled set (None: each call decides)
_early_stop_override = None
_debug_override = None


class CheckpointError(RuntimeError):
    """Raised when the recomputation of a checkpointed block differs from its forward.

    Examples
    --------
    >>> from flambeau.utils.checkpoint import CheckpointError
    >>> issubclass(CheckpointError, RuntimeError)
    True
    """


def noop_context_fn():
    """The default ``context_fn`` of :func:`checkpoint`: two contexts that do nothing.

    Examples
    --------
    >>> from flambeau.utils.checkpoint import noop_context_fn
    >>> forward_ctx, recompute_ctx = noop_context_fn()
    >>> with forward_ctx:
    ...     print("in forward")
    in forward
    """
    return contextlib.nullcontext(), contextlib.nullcontext()


_REENTRANT_WARNING = (
    "flambeau.utils.checkpoint{}: the use_reentrant parameter should be passed explicitly. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants."
)


# ------------------------------------------------------------------------------ settings
@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Context manager: whether the non-reentrant checkpoints *started* inside it stop their
    recomputation as soon as every saved tensor is recomputed (it overrides their
    ``early_stop``; their backward may run outside it).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import checkpoint, set_checkpoint_early_stop
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with set_checkpoint_early_stop(False):
    ...     y = checkpoint(lambda t: t.exp() * 2, x, use_reentrant=False)
    >>> y.sum().backward(); x.grad
    tensor([5.4366, 5.4366])
    """
    global _early_stop_override
    before, _early_stop_override = _early_stop_override, bool(enable)
    try:
        yield
    finally:
        _early_stop_override = before


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Context manager that overrides the ``debug`` argument of the checkpoints inside it
    (``None``: each call's own). flambeau accepts ``debug`` without printing more: its
    :class:`CheckpointError` messages already say which saved tensor differs and how.

    Examples
    --------
    >>> from flambeau.utils.checkpoint import set_checkpoint_debug_enabled
    >>> with set_checkpoint_debug_enabled(True):
    ...     pass
    """
    global _debug_override
    before, _debug_override = _debug_override, enabled
    try:
        yield
    finally:
        _debug_override = before


class DefaultDeviceType:
    """The device type whose RNG states :func:`set_device_states` restores when it is not
    told one (PyTorch's ``DefaultDeviceType``): the current accelerator's ("cuda"), else
    "cpu", until :meth:`set_device_type` sets it.

    Examples
    --------
    >>> from flambeau.utils.checkpoint import DefaultDeviceType
    >>> DefaultDeviceType.set_device_type("cuda")
    >>> DefaultDeviceType.get_device_type()
    'cuda'
    >>> DefaultDeviceType.set_device_type(None)  # back to the default
    """

    _device_type = None

    @staticmethod
    def set_device_type(device="cuda") -> None:
        """Set the default device type (None goes back to the default)."""
        DefaultDeviceType._device_type = device

    @staticmethod
    def get_device_type() -> str:
        """The default device type."""
        if DefaultDeviceType._device_type is not None:
            return DefaultDeviceType._device_type
        from flambeau import accelerator

        current = accelerator.current_accelerator()
        return "cpu" if current is None else current.type


def detach_variable(inputs):
    """``inputs`` (a tuple) with each tensor replaced by a detached alias that requires grad
    as the tensor does; other values are kept.

    Raises
    ------
    RuntimeError
        If ``inputs`` is not a tuple.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import detach_variable
    >>> x = flambeau.ones(2, requires_grad=True) * 2
    >>> d, n = detach_variable((x, 3))
    >>> d.requires_grad, d.grad_fn is None, n
    (True, True, 3)
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for a in inputs:
        if isinstance(a, Tensor):
            detached = a.detach()
            detached.requires_grad_(a.requires_grad)
            a = detached
        out.append(a)
    return tuple(out)


def check_backward_validity(inputs) -> None:
    """Warn when none of ``inputs`` is a tensor that requires grad: a checkpoint of them gets
    no gradients.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import check_backward_validity
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_backward_validity((flambeau.ones(1), 2))
    >>> str(caught[0].message)
    'None of the inputs have requires_grad=True. Gradients will be None'
    """
    _warn_without_grad(inputs, stacklevel=3)


def _warn_without_grad(inputs, stacklevel):
    if not any(isinstance(a, Tensor) and a.requires_grad for a in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=stacklevel)


def get_device_states(*args):
    """The device indices and RNG states of the devices other than the CPU that the tensors
    among ``args`` are on (in order of appearance), for :func:`set_device_states`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import get_device_states
    >>> get_device_states(flambeau.ones(2, device="cpu"), 3)
    ([], [])
    """
    from flambeau import _random

    devices = _rng_devices(args)
    return ([d.index or 0 for d in devices],
            [_random.default_generator_for(d).get_state() for d in devices])


def set_device_states(devices, states, *, device_type=None) -> None:
    """Restore the RNG ``states`` of the devices numbered ``devices`` (of ``device_type``,
    :meth:`DefaultDeviceType.get_device_type` by default), as :func:`get_device_states`
    gave them.

    Examples
    --------
    >>> from flambeau.utils.checkpoint import get_device_states, set_device_states
    >>> set_device_states(*get_device_states())
    """
    from flambeau import _random
    from flambeau._device import device

    kind = DefaultDeviceType.get_device_type() if device_type is None else device_type
    for index, state in zip(devices, states):
        _random.default_generator_for(device(kind, index)).set_state(state)


# ------------------------------------------------------------------------------ RNG state
def _rng_devices(args):
    devices = []
    for a in args:
        if isinstance(a, Tensor) and a._device.type != "cpu" and a._device not in devices:
            devices.append(a._device)
    return devices


def _get_rng(devices):
    from flambeau import _random

    return [(d, _random.default_generator_for(d).get_state()) for d in ["cpu", *devices]]


def _set_rng(states):
    from flambeau import _random

    for d, s in states:
        _random.default_generator_for(d).set_state(s)


@contextlib.contextmanager
def _forked_rng(states):
    """Run with the RNG states of the forward pass, then restore the current ones."""
    if states is None:
        yield
        return
    now = _get_rng([d for d, _ in states[1:]])
    _set_rng(states)
    try:
        yield
    finally:
        _set_rng(now)


# ------------------------------------------------------------------------------ checkpoint
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, preserve_rng_state=True,
               early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediates for backward.

    Backward runs ``function`` again to recompute them. With ``preserve_rng_state`` (the
    default) the recomputation starts from the RNG state of the forward pass, so dropout
    draws the same mask.

    Two implementations, as in PyTorch:

    * ``use_reentrant=False`` (recommended): the block runs under
      :class:`~flambeau.autograd.graph.saved_tensors_hooks` that keep a placeholder for each
      tensor saved for backward; the first one backward reads triggers the recomputation.
      Works with :func:`flambeau.autograd.grad`, ``backward(inputs=...)``, keyword arguments
      and inputs that do not require grad.
    * ``use_reentrant=True``: a custom Function that runs the block under ``no_grad`` and,
      in backward, runs it again with gradients and calls ``backward`` on it. Only tensors
      passed positionally that require grad get gradients through the block (parameters
      used inside it still do); not usable with ``autograd.grad`` or ``inputs=``.

    ``use_reentrant=None`` warns and means ``True``, as PyTorch 2.13 does.

    Parameters
    ----------
    function : callable
        The block to run.
    *args
        Its positional arguments.
    use_reentrant : bool
        Which implementation; pass it explicitly.
    context_fn : callable
        Returns two context managers, the first entered around the forward pass and the
        second around the recomputation (``use_reentrant=False`` only).
    determinism_check : {"default", "none"}
        ``"default"`` compares the shape, dtype and device of each recomputed tensor with the
        original (``use_reentrant=False``).
    debug : bool
        Accepted (``use_reentrant=False`` only); flambeau's errors already say which tensor
        differs.
    preserve_rng_state : bool
        Restore the forward pass's RNG state for the recomputation.
    early_stop : bool
        Stop the recomputation as soon as every saved tensor is recomputed (overridden
        inside :func:`set_checkpoint_early_stop`).
    **kwargs
        Keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns
    -------
    What ``function`` returns.

    Raises
    ------
    ValueError
        For keyword arguments with ``use_reentrant=True``, ``context_fn`` or ``debug`` with
        ``use_reentrant=True``, or an unknown ``determinism_check``.
    CheckpointError
        In backward, when the recomputation saves tensors of other shapes, dtypes or devices,
        or fewer or more of them, than the forward pass did.
    RuntimeError
        In backward of a ``use_reentrant=True`` block reached by ``autograd.grad`` or
        ``backward(inputs=...)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import checkpoint
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> def block(t):
    ...     return (t.sin() * t).sum()
    >>> checkpoint(block, x, use_reentrant=False).backward()
    >>> ref = x.grad.clone(); x.grad = None
    >>> block(x).backward()
    >>> bool((x.grad == ref).all())
    True
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.format(""), stacklevel=2)
        use_reentrant = True
    if _early_stop_override is not None:
        early_stop = _early_stop_override
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(function, args, kwargs, context_fn,
                                         determinism_check, preserve_rng_state, early_stop)


class CheckpointFunction(Function):
    """The autograd Function of ``checkpoint(..., use_reentrant=True)``:
    ``CheckpointFunction.apply(function, preserve_rng_state, *args)`` runs ``function`` under
    no_grad and, in backward, runs it again with gradients and backpropagates through it.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import CheckpointFunction
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> CheckpointFunction.apply(lambda t: (t * t).sum(), True, x).backward()
    >>> x.grad
    tensor([2., 4.])
    """

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng = _get_rng(_rng_devices(args)) if preserve_rng_state else None
        _warn_without_grad(args, stacklevel=5)  # at the checkpoint() call
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)  # Function.apply runs forward with recording off

    @staticmethod
    def backward(ctx, *grads):
        task = _state.task
        if task is not None and not task.accumulates_all:
            raise RuntimeError(
                "When use_reentrant=True, flambeau.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you can "
                "either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument."
            )
        tensors = iter(ctx.saved_tensors)
        inputs = []
        for a in ctx.inputs:
            if a is None:
                t = next(tensors)
                a = t.detach()
                a._requires_grad = t._requires_grad
            inputs.append(a)
        with _forked_rng(ctx.rng), enable_grad():
            outputs = ctx.run_function(*inputs)
        if not isinstance(outputs, tuple):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        from flambeau import autograd

        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in inputs)


class _Holder:
    """Stands in the graph for one tensor saved in a non-reentrant checkpointed block."""

    __slots__ = ("frame", "index", "tensor", "__weakref__")

    def __init__(self, frame, index):
        self.frame, self.index, self.tensor = frame, index, None


class _Frame:
    """One call of a non-reentrant checkpoint: how to rerun it and what it saved."""

    def __init__(self, run, determinism_check, early_stop):
        self.run = run
        self.determinism_check = determinism_check
        self.early_stop = early_stop
        self.holders = []  # weak references, in the order the tensors were saved
        self.metadata = []  # (shape, dtype, device) of each saved tensor

    def pack(self, tensor):
        holder = _Holder(self, len(self.holders))
        self.holders.append(weakref.ref(holder))
        self.metadata.append(_metadata(tensor))
        return holder

    def recompute(self):
        keep_graph = _state.grad_enabled  # backward with create_graph=True
        n = len(self.holders)
        count = 0
        mismatches = []

        def pack(tensor):
            nonlocal count
            i = count
            count += 1
            if i >= n:
                raise CheckpointError(
                    "flambeau.utils.checkpoint: trying to save more tensors during "
                    f"recomputation than during the original forward pass ({n})."
                )
            if self.determinism_check == "default":
                meta = _metadata(tensor)
                if meta != self.metadata[i]:
                    mismatches.append((i, self.metadata[i], meta))
            holder = self.holders[i]()
            if holder is not None:
                holder.tensor = tensor if keep_graph else tensor.detach()
            if count == n and self.early_stop:
                raise _StopRecomputation
            return tensor

        before, _local.keeping_graph = _keeping_graph(), keep_graph
        try:
            with saved_tensors_hooks(pack, _identity):
                self.run()
        except _StopRecomputation:
            pass
        finally:
            _local.keeping_graph = before
        if mismatches:
            lines = "".join(f"tensor at position {i}:\nsaved metadata: {_describe(a)}\n"
                            f"recomputed metadata: {_describe(b)}\n" for i, a, b in mismatches)
            raise CheckpointError(
                "flambeau.utils.checkpoint: Recomputed values for the following tensors have "
                "different metadata than during the forward pass.\n" + lines
            )
        if count < n:
            raise CheckpointError(
                "flambeau.utils.checkpoint: Recomputed values have fewer tensors saved for "
                f"backward ({count}) than during the original forward pass ({n}); the "
                "checkpointed function must run the same ops when it runs again."
            )

    def unpack(self, holder):
        if holder.tensor is None:
            self.recompute()
        return holder.tensor


class _StopRecomputation(Exception):
    pass


def _identity(x):
    return x


def _metadata(t):
    return tuple(t._data.shape), t._data.dtype, t._device


def _describe(meta):
    from flambeau._dtype import from_numpy_dtype

    shape, dtype, device = meta
    return f"{{'shape': {list(shape)}, 'dtype': {from_numpy_dtype(dtype)}, 'device': {device}}}"


def _checkpoint_without_reentrant(function, args, kwargs, context_fn, determinism_check,
                                  preserve_rng_state, early_stop):
    rng = _get_rng(_rng_devices(args)) if preserve_rng_state else None
    forward_ctx, recompute_ctx = context_fn()

    def run():
        with _forked_rng(rng), enable_grad(), recompute_ctx:
            function(*args, **kwargs)

    frame = _Frame(run, determinism_check, early_stop)
    with saved_tensors_hooks(frame.pack, lambda holder: holder.frame.unpack(holder)), \
            forward_ctx:
        return function(*args, **kwargs)


# ---------------------------------------------------------------- selective checkpointing
class CheckpointPolicy(enum.Enum):
    """What a selective checkpoint does with an op's output (see
    :func:`create_selective_checkpoint_contexts`), as PyTorch's ``CheckpointPolicy``.

    ``MUST_SAVE``/``PREFER_SAVE``: the output is kept from the forward pass and the op is
    not run again in backward. ``MUST_RECOMPUTE``/``PREFER_RECOMPUTE``: the op runs again
    (plain checkpointing). ``MUST_CPU_OFFLOAD``/``PREFER_CPU_OFFLOAD``: kept as the saving
    ones (flambeau keeps the output on its device). ``MUST_*`` and ``PREFER_*`` act alike
    here (in PyTorch, a compiler may override the ``PREFER_*`` ones).

    Examples
    --------
    >>> from flambeau.utils.checkpoint import CheckpointPolicy
    >>> CheckpointPolicy.MUST_SAVE.value, CheckpointPolicy.PREFER_RECOMPUTE.value
    (0, 3)
    """

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_SAVING = frozenset({CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE,
                     CheckpointPolicy.MUST_CPU_OFFLOAD, CheckpointPolicy.PREFER_CPU_OFFLOAD})


class SelectiveCheckpointContext:
    """What a selective checkpoint's policy function gets first: ``op_output``, the op's
    output, and ``is_recompute`` (always False: the policy is asked in the forward pass
    only, and the recomputation follows its answers, as in PyTorch 2.13).

    Examples
    --------
    >>> from flambeau.utils.checkpoint import SelectiveCheckpointContext
    >>> SelectiveCheckpointContext(is_recompute=False).is_recompute
    False
    """

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The two contexts of a selective checkpoint, for :func:`checkpoint`'s ``context_fn``.

    Pass ``functools.partial(create_selective_checkpoint_contexts, policy)`` as
    ``context_fn`` (with ``use_reentrant=False``). The ops whose policy says save keep their
    outputs from the forward pass, and backward's recomputation takes them instead of
    running those ops again; the other ops are recomputed, as in plain checkpointing.

    Parameters
    ----------
    policy_fn_or_list : callable or list
        ``policy_fn(ctx, op, *args)`` returns a :class:`CheckpointPolicy` (True and False
        mean ``MUST_SAVE`` and ``PREFER_RECOMPUTE``), called after each op of the forward
        pass with a :class:`SelectiveCheckpointContext`, the op and its arguments. The op
        is the op's :class:`~flambeau.autograd.Function` class (``op.__name__``: the
        op's name, ``Matmul``, ``Sigmoid``). A list of ops saves those and recomputes the
        others: Function classes, or flambeau functions named as the op (``flambeau.mm``,
        ``flambeau.matmul``, ``flambeau.sigmoid``).
    allow_cache_entry_mutation : bool
        Let a kept output be changed in place before backward reads it (an error
        otherwise).

    Returns
    -------
    The forward pass's context and the recomputation's.

    Raises
    ------
    TypeError
        If ``policy_fn_or_list`` is neither callable nor a list.
    ValueError
        If the list holds something other than an op.
    RuntimeError
        In backward, when the recomputation runs ops the forward pass did not (the block
        is not deterministic), or a kept output was changed in place.

    Notes
    -----
    An op whose output is kept also keeps what it saves for backward (its inputs, for a
    matrix product) as it would outside a checkpoint; PyTorch recomputes those inputs when
    other ops produce them.

    Examples
    --------
    >>> import functools
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import (
    ...     checkpoint, create_selective_checkpoint_contexts)
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> context_fn = functools.partial(create_selective_checkpoint_contexts, [flambeau.mm])
    >>> def block(t):
    ...     return (t.mm(t).sigmoid() * t).sum()
    >>> checkpoint(block, x, use_reentrant=False, context_fn=context_fn).backward()
    >>> x.grad
    tensor([[1.0011, 1.0031],
            [1.0018, 1.0002]])
    """
    if isinstance(policy_fn_or_list, list):
        ops = policy_fn_or_list
        for op in ops:
            if not (isinstance(op, type) and issubclass(op, Function)) and not callable(op):
                raise ValueError(f"Expected op in `op_list` to be an op (a Function subclass or "
                                 f"a flambeau function such as flambeau.mm) but got: {op} of "
                                 f"type {type(op)}.")
        listed = tuple(op for op in ops if isinstance(op, type))
        names = frozenset(op.__name__ for op in ops if not isinstance(op, type))

        def policy_fn(ctx, op, *args, **kwargs):
            if issubclass(op, listed) or not names.isdisjoint(_op_names(op)):
                return CheckpointPolicy.MUST_SAVE
            return CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = collections.defaultdict(dict)  # op -> {call number: kept output or a mark}
    return (_SavingMode(policy_fn, storage),
            _ReplayingMode(storage, allow_cache_entry_mutation))


_op_name_cache: dict = {}
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


def _op_names(op) -> frozenset:
    """The names a flambeau function may have for the op ``op`` (a Function class): the
    profiler's name (``Matmul`` -> ``matmul``) and its node's (``MmBackward0`` -> ``mm``)."""
    names = _op_name_cache.get(op)
    if names is None:
        from flambeau.profiler._record import _CAMEL, op_name

        node = _BACKWARD_SUFFIX.sub("", (op._node_cls or op).__name__)
        names = _op_name_cache[op] = frozenset({
            op_name(op).rpartition("::")[2], _CAMEL.sub("_", node.lstrip("_")).lower()})
    return names


_RECOMPUTE = object()
_CONSUMED = object()
_MISMATCH = ("This can happen if the operations in the checkpointed region are "
             "nondeterministic or depend on global state that changed between forward and "
             "backward.")


class _Mode:
    """A context during which every op's ``Function.apply`` on the thread that entered it
    goes to :meth:`run` (ops run inside an op's own forward are not looked at; other
    threads' ops are their own modes' or none).

    ``Function.apply`` is replaced on the class while a mode is active on any thread, as the
    profiler does, so that the ops pay nothing for selective checkpointing when none is.
    """

    def __init__(self, storage):
        self.storage = storage
        self.counts = collections.Counter()
        self.busy = False

    def __enter__(self):
        global _active
        self.counts.clear()
        with _lock:
            if not _active:
                _install()
            _active += 1
        _thread_modes().append(self)
        return self

    def __exit__(self, *exc):
        global _active
        _thread_modes().remove(self)
        with _lock:
            _active -= 1
            if not _active:
                _uninstall()
        return False

    def run_op(self, apply, cls, args):
        self.busy = True
        try:
            return apply(cls, *args)
        finally:
            self.busy = False


class _SavingMode(_Mode):
    """The forward pass: asks the policy after each op and keeps the outputs it says to."""

    def __init__(self, policy_fn, storage):
        super().__init__(storage)
        self.policy_fn = policy_fn

    def run(self, apply, cls, args):
        hooks = _state.saved_hooks
        _state.saved_hooks = None  # packed below only if the op is to be recomputed
        try:
            out = self.run_op(apply, cls, args)
        finally:
            _state.saved_hooks = hooks
        policy = self.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=out),
                                cls, *args)
        if isinstance(policy, bool):
            policy = CheckpointPolicy.MUST_SAVE if policy else CheckpointPolicy.PREFER_RECOMPUTE
        n = self.counts[cls]
        self.counts[cls] += 1
        if policy in _SAVING:
            self.storage[cls][n] = _kept(out)
        else:
            self.storage[cls][n] = _RECOMPUTE
            if hooks is not None:  # what the op saved goes through the checkpoint's hooks
                _pack_saved(out, hooks)
        return out


class _ReplayingMode(_Mode):
    """The recomputation: takes the kept outputs, runs the other ops."""

    def __init__(self, storage, allow_mutation):
        super().__init__(storage)
        self.allow_mutation = allow_mutation

    def run(self, apply, cls, args):
        n = self.counts[cls]
        self.counts[cls] += 1
        calls = self.storage.get(cls)
        if calls is None:
            raise RuntimeError(f"{cls.__name__} encountered during backward but not found in "
                               f"storage. {_MISMATCH}")
        entry = calls.get(n)
        if entry is None:
            raise RuntimeError(f"{cls.__name__} invocation index {n} encountered during "
                               f"backward but not found in storage. {_MISMATCH}")
        if entry is _RECOMPUTE:
            return self.run_op(apply, cls, args)
        if entry is _CONSUMED:
            raise RuntimeError("Trying to backward an extra time. You are only allowed to "
                               "backward once on any region computed under selective "
                               "activation checkpoint.")
        if _keeping_graph():  # backward with create_graph: the op's graph is needed too
            hooks = _state.saved_hooks
            _state.saved_hooks = None  # what it saves stays out of the checkpoint's count,
            try:  # as in the forward pass
                return self.run_op(apply, cls, args)
            finally:
                _state.saved_hooks = hooks
        calls[n] = _CONSUMED
        kept, versions, grads = entry
        flat = kept if kept.__class__ is tuple else (kept,)
        if not self.allow_mutation and any(t is not None and t._version_counter.value != v
                                           for t, v in zip(flat, versions)):
            raise RuntimeError("Tensor cached during selective activation checkpoint has been "
                               "mutated")
        # requiring grad where the op's output did, so that the ops after it record (and
        # save what they saved in the forward pass)
        out = tuple(t.detach().requires_grad_() if g else t for t, g in zip(flat, grads))
        return out if kept.__class__ is tuple else out[0]


#: per thread: ``modes``, the thread's active modes (innermost last), and ``keeping_graph``,
#: set while a recomputation keeps its graph (backward with create_graph=True)
_local = threading.local()
_active = 0  # active modes on all threads: Function.apply is intercepted while any is
_lock = threading.Lock()


def _thread_modes() -> list:
    modes = getattr(_local, "modes", None)
    if modes is None:
        modes = _local.modes = []
    return modes


def _keeping_graph() -> bool:
    return getattr(_local, "keeping_graph", False)


def _install():
    """Put an interceptor over ``Function.apply`` as it is now (the profiler's, maybe): each
    one calls the apply it replaced, so interceptors and profilers started and stopped in any
    order never call themselves."""
    before = Function.__dict__["apply"]
    apply = before.__func__

    def intercepting_apply(cls, *args):
        modes = getattr(_local, "modes", None)
        if modes and not modes[-1].busy:
            return modes[-1].run(apply, cls, args)
        if not _active:  # left on by a profiler that restored it after the modes ended
            with _lock:
                if not _active:
                    _uninstall()
        return apply(cls, *args)

    intercepting_apply.replaced = before
    Function.apply = classmethod(intercepting_apply)


def _uninstall():
    """Take the interceptors on top of ``Function.apply`` off (none is needed: no mode is
    active); one under another hook (a running profiler) stays until that hook is gone."""
    apply = Function.__dict__["apply"]
    while hasattr(apply.__func__, "replaced"):
        apply = apply.__func__.replaced
    if apply is not Function.__dict__["apply"]:
        Function.apply = apply


def _kept(out):
    """An op's output(s) detached (the graph is not kept), with their versions."""
    if out.__class__ is tuple:
        kept = tuple(o.detach() if isinstance(o, Tensor) else o for o in out)
    else:
        kept = out.detach() if isinstance(out, Tensor) else out
    flat = kept if kept.__class__ is tuple else (kept,)
    return (kept, tuple(t._version_counter.value if isinstance(t, Tensor) else None
                        for t in flat),
            tuple(isinstance(o, Tensor) and o.requires_grad
                  for o in (out if out.__class__ is tuple else (out,))))


def _pack_saved(out, hooks):
    """Pack what the node of ``out`` saved for backward with ``hooks``, as
    ``save_for_backward`` does under them (the op ran without them, not knowing yet
    whether the policy would keep its output)."""
    from flambeau.autograd._function import _NOTHING_SAVED, _Packed

    first = next((o for o in out if isinstance(o, Tensor)), None) if out.__class__ is tuple \
        else out
    node = getattr(first, "_grad_fn", None)
    saved = getattr(node, "_saved", None)
    if saved.__class__ is tuple and saved is not _NOTHING_SAVED:
        node._saved = _Packed(hooks, saved)


# ------------------------------------------------------------------------------ sequential
def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` in sequence, checkpointing them in ``segments`` chunks.

    The functions (a list, or a module such as ``nn.Sequential``, whose children are used)
    are split into ``segments`` consecutive chunks; every chunk but the last runs under
    :func:`checkpoint`, and the last runs normally (its outputs are needed at once).

    Parameters
    ----------
    functions : sequence of callable or module
        The functions to apply one after the other.
    segments : int
        The number of chunks.
    input : Tensor
        The input of the first function.
    use_reentrant : bool
        As in :func:`checkpoint` (None warns and means True).
    **kwargs
        ``preserve_rng_state`` only.

    Returns
    -------
    Tensor
        The output of the last function.

    Raises
    ------
    ValueError
        For keyword arguments other than ``preserve_rng_state``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.checkpoint import checkpoint_sequential
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> fns = [lambda t: t * 2, lambda t: t.exp(), lambda t: t + 1, lambda t: t.sum()]
    >>> checkpoint_sequential(fns, 2, x, use_reentrant=False).backward()
    >>> x.grad
    tensor([ 14.7781, 109.1963])
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.format(".checkpoint_sequential"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not isinstance(functions, (list, tuple)) and callable(getattr(functions, "children",
                                                                     None)):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)

"""Module: the base class of every layer and model, as ``torch.nn.Module``."""

from __future__ import annotations

import copy
import functools
import threading
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import flambeau
from flambeau import Tensor
from flambeau.autograd import Function
from flambeau.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from flambeau.utils.hooks import RemovableHandle

_UNINITIALIZED = (UninitializedParameter, UninitializedBuffer)
_EXTRA_STATE = "_extra_state"
_MIXED_BACKWARD_HOOKS = (
    "Cannot use both regular backward hooks and full backward hooks on a single Module. "
    "Please use only one of them."
)


def _overrides(module, method):
    """Whether ``module``'s class overrides ``Module.<method>`` (extra state is opt-in)."""
    return getattr(type(module), method) is not getattr(Module, method)


__all__ = ["Module", "RemovableHandle"]

#: a module pickled by torch.save (flambeau.load(path, weights_only=False) of a PyTorch file)
#: marks its hooks with dicts of handle id -> True where flambeau keeps sets of ids ...
_TORCH_HOOK_MARKS = ("_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs",
                     "_forward_hooks_always_called")
#: ... and its layers keep caches that flambeau's derive when needed (convolutions' reversed
#: padding, the recurrent layers' flat lists of weights)
_TORCH_CACHES = ("_reversed_padding_repeated_twice", "_flat_weights", "_flat_weight_refs",
                 "_flat_weights_names", "_all_weights")


def _from_torch_layout(d):
    """Turn the ``__dict__`` of a module unpickled from torch's layout into flambeau's (tables
    an older torch did not have yet are made empty)."""
    for key in _TORCH_HOOK_MARKS:
        d[key] = {hid for hid, marked in d.get(key, {}).items() if marked}
    for key in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks",
                "_backward_pre_hooks"):
        d.setdefault(key, OrderedDict())
    d.setdefault("_non_persistent_buffers_set", set())
    post = d.pop("_state_dict_hooks", None)  # torch's name for the state_dict post-hooks
    if post:
        d.setdefault("_state_dict_post_hooks", OrderedDict()).update(post)
    if d.get("_is_full_backward_hook", False) is None:  # no backward hook registered yet
        del d["_is_full_backward_hook"]
    for key in _TORCH_CACHES:
        d.pop(key, None)


class _WrappedHook:
    """A load-state-dict pre-hook as ``_register_load_state_dict_pre_hook`` keeps it: called
    with its module first when ``with_module``. The module is held weakly (a hook must not keep
    its module alive) and pickled with the hook, in the layout torch's class of the same name
    pickles, so a module saved whole with such a hook loads in either framework."""

    def __init__(self, hook, module=None):
        self.hook = hook
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if not self.with_module:
            return self.hook(*args, **kwargs)
        module = self.module()
        if module is None:
            raise RuntimeError("load_state_dict pre-hook: its module no longer exists")
        return self.hook(module, *args, **kwargs)

    def __getstate__(self):
        state = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook = state["hook"]
        self.with_module = state["with_module"]
        if self.with_module:
            if state.get("module") is None:
                raise RuntimeError("load_state_dict pre-hook: its module was not saved with it")
            self.module = weakref.ref(state["module"])


#: the load plan of the ``load_state_dict`` running in this thread: the base
#: ``_load_from_state_dict`` records its copies there instead of doing them, so that nothing
#: changes before every module's entries are checked (see Module.load_state_dict)
_LOADING = threading.local()


def _runs_own_load_code(module):
    """Whether ``module``'s class overrides ``_load_from_state_dict`` outside flambeau: code
    that may change the module itself while the load is still being checked."""
    load = type(module)._load_from_state_dict
    return load is not Module._load_from_state_dict and not load.__module__.startswith(
        "flambeau.")


def _copy_cannot_fail(value, current):
    """Whether ``current.copy_(value)`` (shapes checked) cannot fail, so ``value`` need not be
    staged: the same layout and device; a dtype conversion alone cannot fail into a strided
    tensor (staging it would cost a second pass and an allocation per tensor, which tripled
    the load time of a float64 or float16 checkpoint into a float32 model)."""
    return (value.layout is current.layout and value.device == current.device
            and (value.dtype == current.dtype or current.layout is flambeau.strided))


def _staged(value, current):
    """``value`` converted to ``current``'s layout, dtype and device, as ``copy_`` would, so
    that a conversion that fails does so before anything is copied."""
    with flambeau.no_grad():
        if current.layout is flambeau.strided:
            return flambeau.empty_like(current).copy_(value)
        return current.detach().clone().copy_(value)  # a sparse parameter: its own layout


def _snapshot(module):
    """A function that puts back ``module``'s attributes, parameters, buffers and children
    (and their values) as they are now."""
    d = module.__dict__
    attrs = dict(d)
    tables = [(t, dict(t)) for t in (d["_parameters"], d["_buffers"], d["_modules"])]
    values = [(t, t.detach().clone()) for table, _ in tables[:2] for t in table.values()
              if isinstance(t, Tensor) and not isinstance(t, _UNINITIALIZED)]

    def restore():
        with flambeau.no_grad():
            for t, old in values:
                t.copy_(old)
        for table, old in tables:
            table.clear()
            table.update(old)
        d.clear()
        d.update(attrs)

    return restore


class _LoadPlan:
    """The copies (and ``set_extra_state`` calls) of one ``load_state_dict``: they wait until
    every module is checked; once a post-hook must see them, they are made at once, each with
    a way to undo it. A load nested in another (run by an override or a hook of the outer
    one) journals its copies and hands the journal to the outer plan, which undoes them too."""

    __slots__ = ("pending", "undo", "earlier", "journal")

    def __init__(self, journal=False):
        self.pending = []  # (module, name or None for the extra state, is_param, value, assign)
        self.undo = None  # the journal, once copies are made at once
        self.earlier = []  # nested loads' undos from before this plan's first copy
        self.journal = journal  # journal even the final copies (a nested load)

    def record(self, actions):
        if self.undo is None:
            self.pending.extend(actions)
        else:
            self._make(actions)

    def copy_now(self):
        if self.undo is None:
            self.undo = []
            self.finish()

    def finish(self):
        if self.undo is None and (self.journal
                                  or any(action[1] is None for action in self.pending)):
            self.undo = []  # set_extra_state may raise: the copies before it must be undone
        pending, self.pending = self.pending, []
        self._make(pending)

    def adopt(self, undo):
        """Take a finished nested load's journal, to undo it if this load fails."""
        (self.earlier if self.undo is None else self.undo).extend(undo)

    def _make(self, actions):
        with flambeau.no_grad():
            for action in actions:
                Module._load_entry(*action, self.undo)

    def undo_all(self):
        with flambeau.no_grad():
            for fn in reversed(self.undo or ()):
                fn()
            for fn in reversed(self.earlier):  # made before any of this plan's copies
                fn()
        self.undo, self.earlier = [], []


class _MarkedHandle(RemovableHandle):
    """The handle of a forward (pre-)hook registered with ``with_kwargs`` or ``always_call``:
    its ``remove()`` also forgets the id in those marks (sets of ids), which a plain handle's
    dict removal would leave behind, one stale id per removed hook."""

    def __init__(self, hooks, marks):
        super().__init__(hooks)
        self.marks = marks

    def remove(self):
        super().remove()
        for marks in self.marks:
            marks.discard(self.id)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _BackwardHookIdentity(Function):
    """Identity on a module's tensors whose backward hands their gradients to ``callback``."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


class _BackwardHookState:
    """Connects a module call's input and output gradients for its full backward hooks."""

    def __init__(self, module, n_inputs):
        self.module = module
        self.n_inputs = n_inputs
        self.grad_outputs = None
        self.input_positions = None

    def on_outputs(self, grads):
        module = self.module
        for hook in list(module._backward_pre_hooks.values()):
            out = hook(module, grads)
            if out is not None:
                grads = _as_tuple(out)
        self.grad_outputs = grads
        if self.input_positions is None:  # no input needs grad: the hooks run now
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def on_inputs(self, grads):
        full = [None] * self.n_inputs
        for pos, g in zip(self.input_positions, grads):
            full[pos] = g
        full = self._run_hooks(tuple(full))
        return tuple(full[pos] for pos in self.input_positions)

    def _run_hooks(self, grad_inputs):
        module = self.module
        for hook in list(module._backward_hooks.values()):
            out = hook(module, grad_inputs, self.grad_outputs)
            if out is not None:
                out = _as_tuple(out)
                if len(out) != len(grad_inputs):
                    raise RuntimeError(
                        f"{module._get_name()} backward hook returned {len(out)} gradients, "
                        f"expected {len(grad_inputs)}"
                    )
                grad_inputs = out
        return grad_inputs


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _replace_parameter(module, key, p, new, fn, swap):
    """``module._apply``'s conversion of parameter ``key`` (``p``, converted to ``new``) under
    ``flambeau.__future__``'s switches: with ``swap`` the Parameter object ``p`` takes the new
    content through ``flambeau.utils.swap_tensors`` (its gradient too); otherwise a new
    Parameter replaces it in the module."""
    grad = p.grad
    replacement = Parameter(new, requires_grad=p.requires_grad) if isinstance(p, Parameter) \
        else new
    if swap:
        where = f"{module._get_name()}.{key}"
        try:
            flambeau.utils.swap_tensors(p, replacement)
        except Exception as exc:  # torch's message; the cause says what holds the tensor
            raise RuntimeError(f"_apply(): Couldn't swap {where}") from exc
        if grad is not None:
            new_grad = fn(grad)
            if new_grad is not grad:
                try:
                    flambeau.utils.swap_tensors(grad, new_grad)
                except Exception as exc:
                    raise RuntimeError(f"_apply(): Couldn't swap {where}.grad") from exc
            p.grad = grad
        return
    module._parameters[key] = replacement
    if grad is not None:
        replacement.grad = fn(grad)


def _module_dtype_check(dtype, who):
    """Module.to's target dtype: floating or complex, complex with PyTorch's warning."""
    if dtype is None:
        return
    if not (dtype.is_floating_point or dtype.is_complex):
        raise TypeError(
            f"nn.Module.{who} only accepts floating point or complex dtypes, but got desired "
            f"dtype={dtype}"
        )
    if dtype.is_complex:
        warnings.warn(
            "Complex modules are a new feature under active development whose design may "
            "change, and some modules might not work as expected when using complex tensors "
            "as parameters or buffers.", UserWarning, stacklevel=3)


class Module:
    """Base class for all neural network modules; subclass it and define ``forward``.

    Attributes that are :class:`~flambeau.nn.Parameter` objects, modules or registered buffers
    are tracked, so that ``parameters()``, ``state_dict()``, ``to()`` and ``train()`` see the
    whole tree.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(2, 1)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> net = Net()
    >>> net
    Net(
      (fc): Linear(in_features=2, out_features=1, bias=True)
    )
    >>> [name for name, _ in net.named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    training: bool
    _version: int = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                "takes none"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_hooks_always_called"] = set()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *input):
        """The computation of the module (override it in subclasses)."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"]):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                out = hook(self, args, kwargs)
                if out is not None:
                    if not (isinstance(out, tuple) and len(out) == 2):
                        raise RuntimeError(
                            "forward pre-hook registered with with_kwargs=True must return None "
                            f"or a tuple of (new_args, new_kwargs), but got {out!r}"
                        )
                    args, kwargs = out
            else:
                out = hook(self, args)
                if out is not None:
                    args = _as_tuple(out)
        state = None
        if self._backward_hooks or self._backward_pre_hooks:
            args, state = self._wrap_inputs(args)
        called = set()
        try:
            result = self.forward(*args, **kwargs)
            for hid, hook in list(self._forward_hooks.items()):
                called.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    out = hook(self, args, kwargs, result)
                else:
                    out = hook(self, args, result)
                if out is not None:
                    result = out
        except Exception:
            for hid, hook in list(self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called and hid not in called:
                    try:
                        if hid in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:  # the original error is the one to report
                        pass
            raise
        if state is not None:
            result = self._wrap_outputs(result, state)
        return result

    def _wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        state = _BackwardHookState(self, len(positions))
        needing = [k for k, i in enumerate(positions) if args[i].requires_grad]
        if not needing or not flambeau.is_grad_enabled():
            return args, state
        state.input_positions = needing
        wrapped = _BackwardHookIdentity.apply(
            state.on_inputs, *(args[positions[k]] for k in needing))
        args = list(args)
        for k, t in zip(needing, wrapped):
            args[positions[k]] = t
        return tuple(args), state

    def _wrap_outputs(self, result, state):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not idx or not flambeau.is_grad_enabled():
            return result
        wrapped = _BackwardHookIdentity.apply(state.on_outputs, *(outs[i] for i in idx))
        outs = list(outs)
        for i, t in zip(idx, wrapped):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` (or ``hook(module, args, kwargs)``) before forward.

        The hook may return new positional arguments (or ``(args, kwargs)`` with
        ``with_kwargs=True``). Returns a :class:`RemovableHandle`.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Identity()
        >>> _ = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        >>> m(flambeau.zeros(1))
        tensor([1.])
        """
        marks = (self._forward_pre_hooks_with_kwargs,) if with_kwargs else ()
        handle = _MarkedHandle(self._forward_pre_hooks, marks)
        self._forward_pre_hooks[handle.id] = hook
        for kind in marks:
            kind.add(handle.id)
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` after forward; it may return a new output.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> seen = []
        >>> m = nn.Linear(2, 3)
        >>> _ = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
        >>> _ = m(flambeau.ones(1, 2)); seen
        [flambeau.Size([1, 3])]
        """
        marks = ((self._forward_hooks_with_kwargs,) if with_kwargs else ()) + (
            (self._forward_hooks_always_called,) if always_call else ())
        handle = _MarkedHandle(self._forward_hooks, marks)
        self._forward_hooks[handle.id] = hook
        for kind in marks:
            kind.add(handle.id)
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the input gradients are known.

        ``grad_input`` holds one entry per positional tensor input (None where no gradient
        flows); the hook may return replacements for it.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 1)
        >>> grads = []
        >>> _ = m.register_full_backward_hook(lambda mod, gi, go: grads.append(go[0].shape))
        >>> m(flambeau.ones(3, 2, requires_grad=True)).sum().backward()
        >>> grads
        [flambeau.Size([3, 1])]
        """
        if self.__dict__.get("_is_full_backward_hook") is False:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self.__dict__["_is_full_backward_hook"] = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """The legacy form of :meth:`register_full_backward_hook` (deprecated in PyTorch).

        PyTorch calls the legacy hook with the gradients of the inputs of the last autograd
        node of ``forward`` (for a Linear, those of ``addmm``: bias, input and weight), which
        depend on its kernels. flambeau gives it the documented full-hook arguments instead:
        ``grad_input`` per positional tensor input of the module, ``grad_output`` per output;
        so a hook written for one-input, one-node modules (activations) sees the same values.
        As in PyTorch, a module cannot mix legacy and full backward hooks (a RuntimeError).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.ReLU()
        >>> seen = []
        >>> _ = m.register_backward_hook(lambda mod, gi, go: seen.append(gi[0]))
        >>> m(flambeau.tensor([-1.0, 2.0], requires_grad=True)).sum().backward()
        >>> seen
        [tensor([0., 1.])]
        """
        if self.__dict__.get("_is_full_backward_hook") is True:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self.__dict__["_is_full_backward_hook"] = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the output gradients are known.

        The hook may return replacement output gradients.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Identity()
        >>> _ = m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        >>> x = flambeau.ones(2, requires_grad=True)
        >>> m(x).sum().backward(); x.grad
        tensor([3., 3.])
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    # ------------------------------------------------------------------ registration
    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def register_buffer(self, name, tensor, persistent=True):
        """Register ``tensor`` (or None) as a buffer: state that is not a parameter.

        Non-persistent buffers are left out of ``state_dict``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Module()
        >>> m.register_buffer("mean", flambeau.zeros(2))
        >>> m.register_buffer("cache", flambeau.zeros(2), persistent=False)
        >>> list(m.state_dict()), [n for n, _ in m.named_buffers()]
        (['mean'], ['mean', 'cache'])
        """
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{flambeau.typename(tensor)}' object to buffer '{name}' "
                "(flambeau Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Register ``param`` (a :class:`Parameter` or None) under ``name``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Module()
        >>> m.register_parameter("scale", nn.Parameter(flambeau.ones(1)))
        >>> [n for n, _ in m.named_parameters()]
        ['scale']
        """
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(
                    f"cannot assign '{flambeau.typename(param)}' object to parameter '{name}' "
                    "(flambeau.nn.Parameter or None required)"
                )
            if param.grad_fn is not None:
                raise ValueError(
                    f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                    "must be created explicitly; to express '{name}' as a function of another "
                    "Tensor, compute the value in the forward() method."
                )
        self._parameters[name] = param

    def add_module(self, name, module):
        """Register ``module`` (or None) as a child under ``name``.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Module()
        >>> m.add_module("fc", nn.Linear(1, 1))
        >>> [n for n, _ in m.named_children()]
        ['fc']
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{flambeau.typename(value)}' as parameter '{name}' "
                    "(flambeau.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{flambeau.typename(value)}' as child module '{name}' "
                    "(flambeau.nn.Module or None expected)"
                )
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, keep="_buffers")
            self.register_buffer(name, value, value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{flambeau.typename(value)}' as buffer '{name}' "
                    "(flambeau.nn.Buffer, flambeau.Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            table = d.get(key)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del d["_parameters"][name]
        elif name in d.get("_buffers", ()):
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d.get("_modules", ()):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted({k for k in keys if not k[0].isdigit()})

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_state_dict_hooks" in state:  # torch's name: a module pickled by torch.save
            _from_torch_layout(self.__dict__)
        RemovableHandle._skip_past(hid for key, table in state.items()
                                   if key.endswith("_hooks") and isinstance(table, dict)
                                   for hid in table)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(name, module)`` for this module and all below it, each module once.

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
        >>> [n for n, _ in net.named_modules()]
        ['', '0', '1']
        """
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [(name + ("." if name else "") + k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self, remove_duplicate=True):
        """Yield every module in the tree, this one first (a shared one once, unless
        ``remove_duplicate=False``).

        Examples
        --------
        >>> from flambeau import nn
        >>> fc = nn.Linear(1, 1)
        >>> len(list(nn.Sequential(fc, nn.ReLU(), fc).modules()))
        3
        >>> len(list(nn.Sequential(fc, nn.ReLU(), fc).modules(remove_duplicate=False)))
        4
        """
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self):
        """Yield ``(name, module)`` for the direct children.

        Examples
        --------
        >>> from flambeau import nn
        >>> [n for n, _ in nn.Sequential(nn.ReLU(), nn.Tanh()).named_children()]
        ['0', '1']
        """
        seen = set()
        for name, m in self._modules.items():
            if m is not None and m not in seen:
                seen.add(m)
                yield name, m

    def children(self):
        """Yield the direct children.

        Examples
        --------
        >>> from flambeau import nn
        >>> list(nn.Sequential(nn.ReLU()).children())
        [ReLU()]
        """
        for _, m in self.named_children():
            yield m

    def _named_members(self, table, prefix, recurse, remove_duplicate):
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen = set()
        for mod_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (mod_prefix + "." + name if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(name, parameter)`` pairs, shared parameters once.

        Examples
        --------
        >>> from flambeau import nn
        >>> [(n, tuple(p.shape)) for n, p in nn.Linear(2, 3).named_parameters()]
        [('weight', (3, 2)), ('bias', (3,))]
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the parameters (of the whole tree unless ``recurse=False``).

        Examples
        --------
        >>> from flambeau import nn
        >>> sum(p.numel() for p in nn.Linear(2, 3).parameters())
        9
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(name, buffer)`` pairs.

        Examples
        --------
        >>> from flambeau import nn
        >>> [n for n, _ in nn.BatchNorm1d(2).named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
        """
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield the buffers.

        Examples
        --------
        >>> from flambeau import nn
        >>> len(list(nn.BatchNorm1d(2).buffers()))
        3
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The module at dotted path ``target`` ("" is this module).

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)))
        >>> net.get_submodule("0.0")
        Linear(in_features=1, out_features=1, bias=True)
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            children = mod._modules
            if item in children:
                mod = children[item]
            elif hasattr(mod, item):  # an attribute, a parameter, a property: torch's getattr
                mod = getattr(mod, item)
            else:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def _get_leaf(self, target, table, kind):
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in getattr(mod, table):
            raise AttributeError(f"`{name}` is not {kind}")
        return getattr(mod, table)[name]

    def get_parameter(self, target):
        """The parameter at dotted path ``target``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Sequential(nn.Linear(2, 1)).get_parameter("0.bias").shape
        flambeau.Size([1])
        """
        return self._get_leaf(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at dotted path ``target``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Sequential(nn.BatchNorm1d(2)).get_buffer("0.running_var")
        tensor([1., 1.])
        """
        return self._get_leaf(target, "_buffers", "a buffer")

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Set training mode on this module and its descendants; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Dropout()).eval()
        >>> net.training, net[0].training
        (False, False)
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """``train(False)``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Dropout().eval().training
        False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(1, 1).requires_grad_(False)
        >>> m.weight.requires_grad
        False
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, else to zeros).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 1)
        >>> m(flambeau.ones(1, 2)).sum().backward()
        >>> m.zero_grad(); m.weight.grad is None
        True
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                with flambeau.no_grad():
                    p.grad.zero_()

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on ``self``; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> names = []
        >>> _ = nn.Sequential(nn.ReLU()).apply(lambda m: names.append(m._get_name()))
        >>> names
        ['ReLU', 'Sequential']
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def _apply(self, fn, recurse=True):
        """Replace every parameter's and buffer's data by ``fn(tensor)``, keeping the objects
        (or, as ``flambeau.__future__``'s switches say, swapping the new tensors into them or
        putting new Parameters in their place)."""
        future = flambeau.__future__
        swap = future.get_swap_module_params_on_conversion()
        overwrite = future.get_overwrite_module_params_on_conversion()
        for module in (self.modules() if recurse else [self]):
            for key, p in list(module._parameters.items()):
                if p is None:
                    continue
                with flambeau.no_grad():
                    new = fn(p)
                    # torch's precedence: swap converted tensors; overwrite puts a new
                    # Parameter in even when fn returned the tensor itself
                    if (swap and new is not p) or (overwrite and not swap):
                        _replace_parameter(module, key, p, new, fn, swap)
                        continue
                    if new is not p:
                        p.data = new
                        p._version_counter.value += 1
                    if p.grad is not None:
                        g = fn(p.grad)
                        if g is not p.grad:
                            p.grad.data = g
            for name, b in module._buffers.items():
                if b is not None:
                    with flambeau.no_grad():
                        if isinstance(b, UninitializedBuffer):  # stays lazy, as parameters do
                            b.data = fn(b)
                        else:
                            module._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast the parameters and buffers in place; returns ``self``.

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device``, ``dtype`` and ``non_blocking``. Only floating-point and complex
        tensors change dtype (a complex ``dtype`` warns, as in PyTorch; a real one drops
        the imaginary parts of complex tensors, with a warning); the Parameter objects stay
        the same.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 2)
        >>> w = m.weight
        >>> m.to(flambeau.float64).weight.dtype, m.weight is w
        (flambeau.float64, True)
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, flambeau.dtype):
                dtype = a
            elif isinstance(a, bool) or a is None:
                continue
            else:
                device = a
        _module_dtype_check(dtype, "to")
        if device is not None:
            device = flambeau.device(device)

        def convert(t):
            target = (dtype if dtype is not None and (t.is_floating_point() or t.is_complex())
                      else None)
            return t.to(device=device, dtype=target)

        return self._apply(convert)

    def cpu(self):
        """Move everything to the CPU; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).cpu().weight.device
        device(type='cpu')
        """
        return self.to("cpu")

    def cuda(self, device=None):
        """Move everything to a CUDA device (``cuda:<device>``); returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> try:
        ...     nn.Linear(1, 1).cuda()
        ... except Exception:
        ...     pass
        """
        return self.to("cuda" if device is None else flambeau.device("cuda", int(
            device.index if isinstance(device, flambeau.device) else device)))

    def _cast(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        """Cast floating-point parameters and buffers to float32; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).double().float().weight.dtype
        flambeau.float32
        """
        return self._cast(flambeau.float32)

    def double(self):
        """Cast floating-point parameters and buffers to float64; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).double().weight.dtype
        flambeau.float64
        """
        return self._cast(flambeau.float64)

    def half(self):
        """Cast floating-point parameters and buffers to float16; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).half().weight.dtype
        flambeau.float16
        """
        return self._cast(flambeau.float16)

    def bfloat16(self):
        """Cast floating-point parameters and buffers to bfloat16; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).bfloat16().weight.dtype
        flambeau.bfloat16
        """
        return self._cast(flambeau.bfloat16)

    def type(self, dst_type):
        """Cast all parameters and buffers to ``dst_type``; returns ``self``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> nn.Linear(1, 1).type(flambeau.float64).bias.dtype
        flambeau.float64
        """
        return self._apply(lambda t: t.to(dst_type))

    def share_memory(self):
        """Move every parameter, its gradient (when it has one) and every buffer into shared
        memory (:meth:`flambeau.Tensor.share_memory_`), in place; returns ``self``.

        Processes the module is then passed to (``flambeau.multiprocessing``) update the
        same parameters: Hogwild training, where each worker runs its own optimizer on the
        shared parameters. Gradients made later (by ``backward`` in each process) are
        private to their process, as in PyTorch.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 1).share_memory()
        >>> m.weight.is_shared(), m.bias.is_shared()
        (True, True)
        """
        return self._apply(lambda t: t.share_memory_())

    # ------------------------------------------------------------------ state dict
    def _hook_table(self, name):
        """The ordered dict of hooks ``name``, created on first use."""
        return self.__dict__.setdefault(name, OrderedDict())

    def get_extra_state(self):
        """The extra state to put in ``state_dict`` (override it with :meth:`set_extra_state`).

        When a subclass overrides it, ``state_dict()`` holds its result under
        ``<prefix>_extra_state`` and ``load_state_dict`` hands that entry to
        :meth:`set_extra_state`. The state should be picklable so that checkpoints can be saved.

        Examples
        --------
        >>> from flambeau import nn
        >>> class Counter(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.steps = 0
        ...     def get_extra_state(self):
        ...         return {"steps": self.steps}
        ...     def set_extra_state(self, state):
        ...         self.steps = state["steps"]
        >>> a, b = Counter(), Counter()
        >>> a.steps = 7
        >>> a.state_dict()
        OrderedDict([('_extra_state', {'steps': 7})])
        >>> _ = b.load_state_dict(a.state_dict()); b.steps
        7
        """
        raise RuntimeError(
            f"{self._get_name()}.get_extra_state() was called but is not implemented: "
            "override get_extra_state (and set_extra_state) to keep extra state in state_dict"
        )

    def set_extra_state(self, state):
        """Restore the extra state that :meth:`get_extra_state` returned (override both).

        Called by ``load_state_dict`` with the ``<prefix>_extra_state`` entry; see
        :meth:`get_extra_state` for an example.

        Examples
        --------
        >>> from flambeau import nn
        >>> class Tagged(nn.Module):
        ...     tag = ""
        ...     def get_extra_state(self):
        ...         return self.tag
        ...     def set_extra_state(self, state):
        ...         self.tag = state
        >>> m = Tagged()
        >>> _ = m.load_state_dict({"_extra_state": "v2"}); m.tag
        'v2'
        """
        raise RuntimeError(
            f"{self._get_name()}.set_extra_state() was called but is not implemented: "
            "override set_extra_state (and get_extra_state) to load extra state"
        )

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own state (not its descendants') in ``destination``.

        :meth:`state_dict` calls it on every module of the tree, between the module's
        state-dict pre-hooks and its children. It stores each parameter and persistent
        buffer under ``prefix + name`` (detached unless ``keep_vars``) and, when the class
        overrides :meth:`get_extra_state`, that state under ``prefix + "_extra_state"``.
        Override it (calling ``super()``) to save more or differently, as in PyTorch.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> class Scaled(nn.Linear):
        ...     def _save_to_state_dict(self, destination, prefix, keep_vars):
        ...         super()._save_to_state_dict(destination, prefix, keep_vars)
        ...         destination[prefix + "scale"] = flambeau.tensor(2.0)
        >>> list(nn.Sequential(Scaled(1, 1)).state_dict())
        ['0.weight', '0.bias', '0.scale']
        """
        # an uninitialized (lazy) tensor stays one, as torch's, so that a lazy module's state
        # loads into another lazy module (a detached copy would be an empty tensor)
        for name, p in self._parameters.items():
            if p is not None:
                keep = keep_vars or isinstance(p, _UNINITIALIZED)
                destination[prefix + name] = p if keep else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                keep = keep_vars or isinstance(b, _UNINITIALIZED)
                destination[prefix + name] = b if keep else b.detach()
        if _overrides(self, "get_extra_state"):
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def register_state_dict_pre_hook(self, hook):
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` collects this module.

        Returns a :class:`RemovableHandle`.

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Linear(1, 1))
        >>> seen = []
        >>> h = net[0].register_state_dict_pre_hook(lambda m, prefix, keep: seen.append(prefix))
        >>> _ = net.state_dict(); seen
        ['0.']
        """
        hooks = self._hook_table("_state_dict_pre_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after this module's entries
        (its descendants' included) are in ``state_dict``; it may edit the dict in place.

        The hook must return None (a RuntimeError otherwise). Post-hooks registered here and
        with :meth:`_register_state_dict_hook` run in the order they were registered. Returns
        a :class:`RemovableHandle`.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 1)
        >>> def drop_bias(module, state_dict, prefix, local_metadata):
        ...     del state_dict[prefix + "bias"]
        >>> h = m.register_state_dict_post_hook(drop_bias)
        >>> list(m.state_dict())
        ['weight']
        >>> h.remove(); list(m.state_dict())
        ['weight', 'bias']
        """
        # marked on the hook itself, as torch does, so that a module pickled by torch keeps
        # telling its public hooks from its private ones; a bound method can't be marked
        # (torch raises there): its wrapper is
        try:
            hook._from_public_api = True
        except AttributeError:
            hook = functools.partial(hook)
            hook._from_public_api = True
        hooks = self._hook_table("_state_dict_post_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def _register_state_dict_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after this module's entries
        are in ``state_dict``; the older, private form of :meth:`register_state_dict_post_hook`.

        Unlike a public post-hook, it may return a new dict: :meth:`state_dict` then returns
        that one, which the caller only sees when the hook is on the module ``state_dict`` was
        called on (a child's result is dropped, as in PyTorch). A function already registered
        with :meth:`register_state_dict_post_hook` is refused (a RuntimeError). Returns a
        :class:`RemovableHandle`.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 1)
        >>> h = m._register_state_dict_hook(lambda mod, sd, prefix, md: {"w": sd["weight"]})
        >>> list(m.state_dict())
        ['w']
        """
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "_register_state_dict_hook: this function is already a state_dict post-hook "
                "registered with register_state_dict_post_hook, whose result must be None; "
                "register another function (or a wrapper) to return a new state dict"
            )
        hooks = self._hook_table("_state_dict_post_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict of the parameters and persistent buffers, keyed by dotted name.

        Keys and shapes are those PyTorch gives the same module tree, so checkpoints carry
        over. Values share storage with the module (detached unless ``keep_vars``). Each
        module of the tree runs, as in PyTorch: its state-dict pre-hooks, its
        :meth:`_save_to_state_dict` (which adds ``<prefix>_extra_state`` when the class
        overrides :meth:`get_extra_state`), its children, then its post-hooks. The dict
        carries ``_metadata``: the ``version`` (class attribute ``_version``) of each module,
        which :meth:`_load_from_state_dict` overrides read to upgrade older state dicts.

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        >>> list(net.state_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
         '1.num_batches_tracked']
        >>> net.state_dict()._metadata["1"]
        {'version': 2}
        """
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            names = ("destination", "prefix", "keep_vars")
            given = dict(zip(names, args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = local_metadata
        for hook in list(self.__dict__.get("_state_dict_pre_hooks", {}).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in list(self.__dict__.get("_state_dict_post_hooks", {}).values()):
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                if getattr(hook, "_from_public_api", False):
                    raise RuntimeError("state_dict post-hook must return None")
                destination = result  # a private hook's new dict (_register_state_dict_hook)
        return destination

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """Call ``hook(state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` (``module`` first with ``with_module``) when
        ``load_state_dict`` reaches this module.

        :meth:`register_load_state_dict_pre_hook` is this with ``with_module=True``; see it
        for what the hook may do. The hook is kept in a wrapper that holds the module weakly
        and pickles with it. Returns a :class:`RemovableHandle`.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(1, 1)
        >>> def rename(sd, prefix, metadata, strict, missing, unexpected, errors):
        ...     sd[prefix + "bias"] = sd.pop(prefix + "b")
        >>> _ = m._register_load_state_dict_pre_hook(rename)
        >>> m.load_state_dict({"weight": flambeau.ones(1, 1), "b": flambeau.zeros(1)})
        <All keys matched successfully>
        """
        hooks = self._hook_table("_load_state_dict_pre_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = _WrappedHook(hook, self if with_module else None)
        return handle

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` when ``load_state_dict`` reaches this module.

        The hook sees a copy of the caller's dict (only the keys under ``prefix``) and may
        rename or add keys, or append messages to ``error_msgs`` to make the load fail. As in
        PyTorch, ``strict`` is always True there (the keys are always collected). Returns a
        :class:`RemovableHandle`.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(1, 1)
        >>> def rename(module, sd, prefix, metadata, strict, missing, unexpected, errors):
        ...     if prefix + "w" in sd:
        ...         sd[prefix + "weight"] = sd.pop(prefix + "w")
        >>> _ = m.register_load_state_dict_pre_hook(rename)
        >>> m.load_state_dict({"w": flambeau.ones(1, 1), "bias": flambeau.zeros(1)})
        <All keys matched successfully>
        >>> m.weight
        Parameter containing:
        tensor([[1.]], requires_grad=True)
        """
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        """Call ``hook(module, incompatible_keys)`` once this module and its descendants are
        loaded.

        ``incompatible_keys`` has the lists ``missing_keys`` and ``unexpected_keys`` found so
        far; the hook may edit them in place, and with ``strict=True`` the error is raised on
        what is left after the hooks. The hook must return None (an AssertionError otherwise,
        as PyTorch). If the load then fails, the module is restored as it was. Returns a
        :class:`RemovableHandle`.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> m = nn.Linear(1, 1)
        >>> h = m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        >>> m.load_state_dict({"weight": flambeau.ones(1, 1)})
        <All keys matched successfully>
        >>> m.weight
        Parameter containing:
        tensor([[1.]], requires_grad=True)
        """
        hooks = self._hook_table("_load_state_dict_post_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load this module's own entries (not its descendants') from ``state_dict``.

        :meth:`load_state_dict` calls it on every module of the tree, parents first, with
        the entries under ``prefix`` in a copy of the caller's dict (edit it freely),
        ``local_metadata`` (``{"version": ...}`` as :meth:`state_dict` saved it, empty
        without metadata; ``assign_to_params_buffers`` with ``assign=True``) and ``strict``
        always True (the keys are always collected). It runs the load pre-hooks, then checks
        each parameter and persistent buffer: a missing key goes to ``missing_keys``, a key
        under ``prefix`` that names nothing here to ``unexpected_keys``, a value that is no
        tensor or has the wrong shape to ``error_msgs``. Override it, as in PyTorch, to upgrade
        the entries of an older version (``local_metadata.get("version")`` against the class
        attribute ``_version``) before calling ``super()``.

        Within ``load_state_dict`` the values are copied once every module is checked, so a
        failed load changes nothing; called directly, it copies them at once.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> class Affine(nn.Module):
        ...     _version = 2  # version 1 called the weight "w"
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.weight = nn.Parameter(flambeau.zeros(2))
        ...     def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        ...         if local_metadata.get("version", 1) < 2 and prefix + "w" in state_dict:
        ...             state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
        ...         super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)
        >>> m = Affine()
        >>> m.load_state_dict({"w": flambeau.ones(2)})
        <All keys matched successfully>
        >>> m.weight.tolist()
        [1.0, 1.0]
        """
        for hook in list(self.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        own = {name: (t, True) for name, t in self._parameters.items() if t is not None}
        own.update((name, (t, False)) for name, t in self._buffers.items()
                   if t is not None and name not in self._non_persistent_buffers_set)
        assign = bool(local_metadata.get("assign_to_params_buffers", False))
        actions = []  # (module, name or None for the extra state, is_param, value, assign)
        for name, (current, is_param) in own.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            lazy = isinstance(current, _UNINITIALIZED)  # takes the loaded shape
            if lazy and isinstance(value, _UNINITIALIZED):
                continue  # lazy into lazy: nothing to copy, the shape is still unknown
            if not isinstance(value, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected flambeau.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(value)}"
                )
                continue
            if not lazy and current.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                with flambeau.no_grad():  # a scalar saved by PyTorch 0.3 as a 1-element vector
                    value = value[0]
            if not lazy and tuple(value.shape) != tuple(current.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} "
                    f"from checkpoint, the shape in current model is {current.shape}."
                )
                continue
            if not (lazy or assign or _copy_cannot_fail(value, current)):
                try:  # converted now, so that a copy that would fail is an error of the check
                    value = _staged(value, current)
                except Exception as ex:
                    error_msgs.append(
                        f'While copying the parameter named "{key}", whose dimensions in the '
                        f"model are {current.shape} and whose dimensions in the checkpoint "
                        f"are {value.shape}, an exception occurred : {ex.args}."
                    )
                    continue
            actions.append((self, name, is_param, value, assign))
        extra_key = prefix + _EXTRA_STATE
        if _overrides(self, "set_extra_state"):
            if extra_key in state_dict:
                actions.append((self, None, False, state_dict[extra_key], assign))
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head, dot, _ = key[len(prefix):].partition(".")
                    if (head not in self._modules) if dot else (head not in own):
                        unexpected_keys.append(key)
        plan = getattr(_LOADING, "plan", None)
        if plan is not None:
            plan.record(actions)
            return
        with flambeau.no_grad():
            for action in actions:
                self._load_entry(*action, None)

    def _load_tree(self, state_dict, strict, assign):
        """Walk the tree as PyTorch's loading does: each module's ``_load_from_state_dict``
        (overrides included), its children, then its load post-hooks (given the lists of
        keys themselves, which they may edit). The copies wait in a plan until every module
        is checked, or until the first post-hook, which sees them made (with a journal to
        undo them). If anything fails, the plan is undone and modules that ran their own
        loading code are restored: nothing has changed."""
        metadata = getattr(state_dict, "_metadata", None)
        missing, unexpected, errors, restores = [], [], [], []
        keys = _IncompatibleKeys(missing, unexpected)
        outer = getattr(_LOADING, "plan", None)  # an override's or a hook's load runs in it
        plan = _LoadPlan(journal=outer is not None)
        outer_restores = getattr(_LOADING, "restores", None)

        def visit(module, local, prefix):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            if _runs_own_load_code(module):
                restores.append(_snapshot(module))
            module._load_from_state_dict(local, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            children = module._modules
            if children:  # each child gets the entries under its prefix, in one pass
                groups, start = {}, len(prefix)
                for key, value in local.items():
                    if key.startswith(prefix):
                        head, dot, _ = key[start:].partition(".")
                        if dot and head in children:
                            groups.setdefault(head, {})[key] = value
                for name, child in children.items():
                    if child is not None:
                        visit(child, groups.get(name, {}), prefix + name + ".")
            hooks = module.__dict__.get("_load_state_dict_post_hooks")
            if hooks:
                plan.copy_now()  # a post-hook sees this module and its descendants loaded
                for hook in list(hooks.values()):
                    if hook(module, keys) is not None:
                        raise AssertionError(
                            "Hooks registered with ``register_load_state_dict_post_hook`` are "
                            "not expected to return new values, if incompatible_keys need to "
                            "be modified, it should be done inplace."
                        )

        root = OrderedDict(state_dict)
        if metadata is not None:
            root._metadata = metadata
        _LOADING.plan, _LOADING.restores = plan, restores
        try:
            visit(self, root, "")
            error = self._load_error(missing, unexpected, errors, strict)
            if error is not None:
                raise error
            plan.finish()
            if outer is not None:  # a load nested in another: undone if the outer one fails
                outer.adopt(plan.undo)
                outer_restores.extend(restores)
        except BaseException:
            plan.undo_all()
            for restore in reversed(restores):
                restore()
            raise
        finally:
            _LOADING.plan, _LOADING.restores = outer, outer_restores
        return keys

    def _load_error(self, missing, unexpected, errors, strict):
        head = []
        if strict and missing:
            head.append("Missing key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in missing) + ". ")
        if strict and unexpected:
            head.append("Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        errors = head + errors
        if errors:
            return RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                + "\n\t".join(errors)
            )
        return None

    @staticmethod
    def _load_entry(module, name, is_param, value, assign, undo):
        if name is None:  # the extra state
            if undo is not None and _overrides(module, "get_extra_state"):
                old = copy.deepcopy(module.get_extra_state())
                undo.append(lambda: module.set_extra_state(old))
            module.set_extra_state(value)
            return
        table = module._parameters if is_param else module._buffers
        current = table[name]
        if assign:
            if undo is not None:
                undo.append(lambda: table.__setitem__(name, current))
            if is_param and isinstance(value, Parameter):  # takes the model's requires_grad
                if undo is not None:
                    was = value.requires_grad
                    undo.append(lambda: value.requires_grad_(was))
                value.requires_grad_(current.requires_grad)
            elif is_param:
                value = Parameter(value, requires_grad=current.requires_grad)
            table[name] = value
            return
        if isinstance(current, _UNINITIALIZED):
            current.materialize(tuple(value.shape))
        elif undo is not None:
            old = current.detach().clone()
            undo.append(lambda: current.copy_(old))
        current.copy_(value.to(device=current.device))

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` into this module tree.

        As in PyTorch, each module's :meth:`_load_from_state_dict` (which runs its load
        pre-hooks) handles its own entries, parents first, and a module's load post-hooks
        run once its descendants are loaded. With ``strict``, missing or unexpected keys
        raise a RuntimeError listing them; shape mismatches always raise.

        A failed load leaves the module unchanged: every module is checked before anything
        is copied. Where a post-hook must see the copies made (from the first post-hook on)
        or :meth:`set_extra_state` runs, an error in them, in a later module or in the final
        check puts the old values back (and the old extra state, through
        ``set_extra_state(get_extra_state())`` taken before). A module whose class overrides
        :meth:`_load_from_state_dict` gets back its attributes and the values of its own
        parameters and buffers as they were before its override ran; a ``load_state_dict``
        that such an override or a hook runs is undone with the load it runs in. A value
        that needs converting (another dtype, device or layout) is converted while it is
        checked: if that fails, the error lists it as PyTorch's does (``While copying the
        parameter named ..., an exception occurred : ...``).

        Parameters
        ----------
        state_dict : Mapping[str, Tensor]
            As produced by :meth:`state_dict` (here or in PyTorch, converted to tensors).
        strict : bool
            Require the keys to match exactly.
        assign : bool
            Take the given tensors as the new parameters/buffers instead of copying values.

        Returns
        -------
        NamedTuple
            ``missing_keys`` and ``unexpected_keys``.

        Examples
        --------
        >>> from flambeau import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        keys = self._load_tree(state_dict, strict, assign)
        for module in self.modules():
            loaded = getattr(module, "_state_loaded", None)  # lazy modules
            if loaded is not None:
                loaded()
        return keys

    # ------------------------------------------------------------------ more tree editing
    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at dotted path ``target``, replacing the submodule there.

        With ``strict=False`` a new child may be added to an existing parent; with
        ``strict=True`` the target must already exist.

        Raises
        ------
        ValueError
            ``target`` is empty or ``module`` is not a Module.
        AttributeError
            A part of the path does not exist, or the attribute there is not a Module.

        Examples
        --------
        >>> from flambeau import nn
        >>> net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)))
        >>> net.set_submodule("0.0", nn.ReLU())
        >>> net.set_submodule("0.act", nn.Tanh())
        >>> net
        Sequential(
          (0): Sequential(
            (0): ReLU()
            (act): Tanh()
          )
        )
        """
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        parent_path, _, name = target.rpartition(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def to_empty(self, *, device, recurse=True):
        """Give every parameter and buffer fresh, uninitialized storage of the same shape and
        dtype on ``device`` (without copying values); returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 3).to_empty(device="cpu")
        >>> m.weight.shape, m.weight.device
        (flambeau.Size([3, 2]), device(type='cpu'))
        """
        return self._apply(lambda t: flambeau.empty_like(t, device=device), recurse=recurse)

    def compile(self, *args, **kwargs):
        """``torch.nn.Module.compile``: checks its arguments as :func:`flambeau.compile` does
        and leaves the module as it is (flambeau runs eagerly); returns None.

        Examples
        --------
        >>> from flambeau import nn
        >>> m = nn.Linear(2, 3)
        >>> m.compile(mode="max-autotune") is None
        True
        """
        flambeau.compile(self, *args, **kwargs)

    # ------------------------------------------------------------------ repr
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module-specific part of ``repr`` (override it; empty by default).

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Linear(2, 3).extra_repr()
        'in_features=2, out_features=3, bias=True'
        """
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _indent(repr(m), 2) for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _indent(text, spaces):
    """Indent every line of ``text`` after the first (a child's repr inside its parent's)."""
    first, *rest = text.split("\n")
    if not rest:
        return text
    pad = " " * spaces
    return first + "\n" + "\n".join(pad + line for line in rest)

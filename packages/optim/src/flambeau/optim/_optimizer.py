"""The Optimizer base class: parameter groups, state, state_dict, hooks and shared helpers.

Updates are written against the backend array namespace ``p._device._xp`` and run in place on
``p._data`` with ``out=`` ufuncs, so one code path serves NumPy and CuPy and a step allocates
nothing after the first (temporaries come from a per-optimizer scratch pool).
"""

from __future__ import annotations

import functools
from collections import OrderedDict, defaultdict
from threading import get_ident

import flambeau
from flambeau import Tensor
from flambeau._sparse import SparseTensor
from flambeau._threads import run_split
from flambeau.autograd import enable_grad, no_grad
from flambeau.autograd._function import _RemovableHandle
from flambeau.profiler import record_function

__all__ = ["Optimizer", "required"]

_COMPRESSED = (flambeau.sparse_csr, flambeau.sparse_csc, flambeau.sparse_bsr, flambeau.sparse_bsc)


class _Required:
    """Marks an option that has no default and must be given (SGD's ``lr`` in old PyTorch).

    Examples
    --------
    >>> from flambeau.optim import required
    >>> required
    <required parameter>
    """

    def __repr__(self):
        return "<required parameter>"


#: default value of an option every parameter group must specify
required = _Required()

#: the hook tables an optimizer holds (made by ``__init__``, filled in by ``__setstate__`` for
#: optimizers pickled before they existed or by torch.save, which keeps none)
_HOOK_TABLES = ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
                "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
                "_load_state_dict_post_hooks")


def _wrap_step_with_hooks(step):
    """Run the optimizer's step pre/post hooks around a subclass's ``step``."""

    @functools.wraps(step)
    def stepper(self, *args, **kwargs):
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{type(self).__name__} step pre-hook must return None or a tuple "
                        f"(new_args, new_kwargs), got {result!r}"
                    )
                args, kwargs = result
        # the range torch's profiler shows for a step (one attribute read when not profiling)
        with record_function(f"Optimizer.step#{type(self).__name__}.step"):
            out = step(self, *args, **kwargs)
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    stepper._hooked = True
    return stepper


class _HookHandle(_RemovableHandle):
    """Handle returned by the hook registrations; ``remove()`` unregisters the hook."""

    __slots__ = ()

    def remove(self):
        self._list.pop(self._item, None)


class Optimizer:
    """Base class of all optimizers, PyTorch's ``torch.optim.Optimizer``.

    Parameters
    ----------
    params : iterable
        Tensors to optimize, ``(name, tensor)`` pairs such as ``model.named_parameters()``
        (the names are kept in each group's ``"param_names"``), or dicts defining parameter
        groups (each with a ``"params"`` key and optional per-group options; unknown keys
        are kept).
    defaults : dict
        Default values of the options, used by groups that do not set them.

    Notes
    -----
    Subclasses define ``step(closure=None)``; it is wrapped so that hooks registered with
    :meth:`register_step_pre_hook` / :meth:`register_step_post_hook` run around it.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.optim import SGD
    >>> w = flambeau.ones(2, requires_grad=True)
    >>> opt = SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0., 0.], requires_grad=True)
    >>> SGD([("weight", w)], lr=0.5).state_dict()["param_groups"][0]["param_names"]
    ['weight']
    """

    #: whether complex parameters are stepped (as pairs of reals); PyTorch's Adafactor and
    #: Muon refuse them
    _supports_complex = True
    #: whether ``_update_group`` takes sparse COO gradients (``nn.Embedding(sparse=True)``),
    #: handed to it as the sparse tensors themselves; the others refuse them, as torch's
    _supports_sparse = False
    #: torch's message for a sparse gradient, where it is not the default
    _sparse_message = None
    #: whether sparse gradients go to ``_update_sparse`` instead of ``_update_group`` (which
    #: then sees the dense ones only, with no need to look for sparse ones)
    _sparse_apart = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _wrap_step_with_hooks(step)

    def __init__(self, params, defaults):
        self._check_options(defaults)
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        for table in _HOOK_TABLES:
            setattr(self, table, OrderedDict())
        self._scratch = _Scratch()
        self._hook_id = 0
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, but got "
                "a Tensor (wrap it in a list)"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ options
    def _check_options(self, options):
        """Raise ValueError for invalid option values (subclasses extend this)."""

    def _check_group(self, group):
        """Check a complete group (options and parameters) without changing anything."""
        name = type(self).__name__
        missing = [k for k, v in group.items() if v is required]
        if missing:
            raise ValueError(
                f"{name}: parameter group didn't specify a value of required optimization "
                f"parameter {missing[0]}"
            )
        self._check_options(group)
        seen = set()
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name} can only optimize Tensors, but parameter {i} is a "
                    f"{type(p).__name__}"
                )
            if not (p.dtype.is_floating_point or p.dtype.is_complex):
                raise ValueError(
                    f"{name} can only optimize floating-point and complex tensors, but "
                    f"parameter {i} has "
                    f"dtype {p.dtype} (shape {tuple(p.shape)})"
                )
            if p.layout in _COMPRESSED:  # no update has a compressed kernel: refused
                # here, not halfway through a step
                raise ValueError(
                    f"{name} can't optimize a {p.layout} tensor (parameter {i}, shape "
                    f"{tuple(p.shape)}): optimize its values instead, a strided tensor (make "
                    "the matrix with flambeau.sparse_csr_tensor(crow_indices, col_indices, "
                    "values) from values that require grad)"
                )
            if not p.is_leaf and not p.retains_grad:
                raise ValueError(
                    f"{name} can't optimize a non-leaf Tensor (parameter {i}, shape "
                    f"{tuple(p.shape)}); pass a leaf (e.g. x.detach().requires_grad_())"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{name}: parameter {i} (shape {tuple(p.shape)}) appears twice in the same "
                    "parameter group"
                )
            seen.add(id(p))

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (fine-tuning, per-layer lr).

        Parameters
        ----------
        param_group : dict
            ``{"params": tensors, option: value, ...}``; missing options take the defaults.

        Raises
        ------
        ValueError
            If a parameter is already in another group, is not a floating-point leaf, or an
            option value is invalid; the optimizer is left unchanged.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> a, b = flambeau.ones(1, requires_grad=True), flambeau.ones(1, requires_grad=True)
        >>> opt = SGD([a], lr=0.1)
        >>> opt.add_param_group({"params": [b], "lr": 0.01, "tag": "head"})
        >>> [(g["lr"], g.get("tag")) for g in opt.param_groups]
        [(0.1, None), (0.01, 'head')]
        """
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{type(self).__name__}: a parameter group must be a dict, got "
                f"{type(param_group).__name__}"
            )
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{type(self).__name__}: parameters must be an ordered collection (list, tuple), "
                "not a set, so their order (and state_dict) is reproducible"
            )
        elif params is None:
            raise ValueError(f"{type(self).__name__}: a parameter group needs a 'params' key")
        else:
            params = list(params)
        group = dict(param_group)
        group["params"] = params
        self._split_names(group)
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_group(group)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in taken:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} (shape {tuple(p.shape)}) of the new "
                    "group already appears in another parameter group"
                )
        self.param_groups.append(group)

    def _split_names(self, group):
        """Turn ``(name, tensor)`` pairs (``named_parameters()``) into ``param_names``."""
        name = type(self).__name__
        params = group["params"]
        named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params]
        if any(named):
            if not all(named):
                raise ValueError(
                    f"{name}: all optimizer params should be with/without names; parameter "
                    f"{named.index(False)} of the group has no name (pass every parameter as a "
                    "(name, tensor) pair, or none)"
                )
            group["param_names"] = [n for n, _ in params]
            group["params"] = [p for _, p in params]
        if self.param_groups and ("param_names" in group) != (
                "param_names" in self.param_groups[0]):
            have = "with" if "param_names" in self.param_groups[0] else "without"
            raise ValueError(
                f"{name}: all optimizer param groups should be with/without names; the "
                f"optimizer's groups are {have} names, the new one is not"
            )

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True):
        """Reset the gradients of all optimized parameters.

        Parameters
        ----------
        set_to_none : bool
            Drop the gradients (default, as PyTorch) instead of filling them with zeros.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> w = flambeau.ones(2, requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> w.sum().backward()
        >>> opt.zero_grad(set_to_none=False); w.grad
        tensor([0., 0.])
        >>> opt.zero_grad(); w.grad is None
        True
        """
        with record_function(f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"):
            self._zero_grad(set_to_none)

    def _zero_grad(self, set_to_none):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g = p.grad = g.detach()
                else:
                    g.requires_grad_(False)
                if g.__class__ is SparseTensor:  # no stored values left, as torch's zero_()
                    g.zero_()
                    continue
                g._data[...] = 0
                g._version_counter.value += 1

    def _gradients(self):
        """``[(group, params, grads, apart)]`` for parameters that have a gradient, checked
        first; ``apart``: the ``(param, grad)`` pairs of sparse gradients taken out of
        ``params``/``grads`` for ``_update_sparse`` (when ``_sparse_apart``; else empty).

        Everything is validated before any parameter changes, so a bad gradient leaves the
        optimizer and the parameters as they were.
        """
        name = type(self).__name__
        out = []
        for group in self.param_groups:
            params, grads, apart = [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                gd, pd = g._data, p._data
                if (gd.shape != pd.shape or gd.dtype != pd.dtype
                        or (g._device is not p._device and g._device != p._device)):
                    raise ValueError(
                        f"{name}.step: gradient of shape {tuple(gd.shape)}, dtype {g.dtype}, "
                        f"device {g._device} does not match its parameter (shape "
                        f"{tuple(pd.shape)}, dtype {p.dtype}, device {p._device})"
                    )
                if g.__class__ is SparseTensor:  # inline: every step, every parameter
                    if not self._supports_sparse:
                        raise RuntimeError(self._sparse_message
                                           or f"{name} does not support sparse gradients")
                    self._check_sparse_options(group, p)
                    if self._sparse_apart:
                        apart.append((p, g))
                        continue
                    grads.append(g)
                else:
                    grads.append(gd)
                params.append(p)
            out.append((group, params, grads, apart))
        return out

    def _check_sparse_options(self, group, param):
        """Raise torch's error for an option the sparse update cannot honour for ``param``,
        whose gradient is sparse (before any parameter changes)."""

    def _update_sparse(self, group, pairs):
        """Step the ``(param, sparse grad)`` pairs of a group (optimizers with
        ``_sparse_apart``)."""
        raise NotImplementedError(f"{type(self).__name__}._update_sparse")

    def step(self, closure=None):
        """Perform one optimization step (subclasses implement it).

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (needed by :class:`LBFGS`).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Optimizer
        >>> opt = Optimizer([flambeau.ones(1, requires_grad=True)], {})
        >>> try:
        ...     opt.step()
        ... except NotImplementedError as e:
        ...     print(e)
        Optimizer.step is implemented by subclasses
        """
        raise NotImplementedError("Optimizer.step is implemented by subclasses")

    def _step_groups(self, closure):
        """The common step: evaluate the closure, check gradients, update each group in place.

        Subclasses implement ``_update_group(group, params, grads)`` where ``grads`` are the
        backend arrays of the parameters that have a gradient (a sparse gradient is passed
        as its sparse tensor, to the optimizers with ``_supports_sparse``).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = self._gradients()
        if not self._supports_complex and any(p._data.dtype.kind == "c"
                                               for _, params, _, _ in work for p in params):
            raise RuntimeError(f"{type(self).__name__} does not support complex parameters")
        with no_grad():
            for group, params, grads, apart in work:
                if apart:
                    self._update_sparse(group, apart)
                if not params:
                    continue
                if any(p._data.dtype.kind == "c" for p in params):
                    with _complex_as_real(self.state, params, grads) as real_grads:
                        self._update_in_parts(group, params, real_grads)
                else:
                    self._update_in_parts(group, params, grads)
        return loss

    def _update_in_parts(self, group, params, grads):
        """``_update_group`` over the parameters, split across threads on the CPU.

        Every optimizer that steps through ``_step_groups`` updates each parameter from its
        own gradient and state, so the parts give the result of one loop; NumPy releases
        the GIL inside its loops, so memory-bound steps run on all cores (as PyTorch's).
        """
        parts = parallel_parts(params)
        if parts is None:
            self._update_group(group, params, grads)
            return

        def part(bounds):
            start, stop = bounds
            with no_grad():  # grad mode is per thread
                self._update_group(group, params[start:stop], grads[start:stop])

        run_split(part, parts)

    # ------------------------------------------------------------------ hooks
    def _register(self, table, hook, prepend=False):
        self._hook_id += 1
        table[self._hook_id] = hook
        if prepend:
            table.move_to_end(self._hook_id, last=False)
        return _HookHandle(table, self._hook_id)

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before each step.

        The hook may return ``(new_args, new_kwargs)`` to replace the step's arguments.
        Returns a handle whose ``remove()`` unregisters it.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> w = flambeau.ones(1, requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> handle = opt.register_step_pre_hook(lambda o, a, k: print("before step"))
        >>> opt.step()
        before step
        >>> handle.remove(); opt.step()
        """
        return self._register(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after each step; returns a removable handle.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
        >>> _ = opt.register_step_post_hook(lambda o, a, k: print("after step"))
        >>> opt.step()
        after step
        """
        return self._register(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` before :meth:`state_dict` builds its dict.

        Parameters
        ----------
        hook : callable
            ``hook(optimizer) -> None``.
        prepend : bool
            Run it before the hooks already registered (default: after them).

        Returns
        -------
        handle
            Its ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
        >>> _ = opt.register_state_dict_pre_hook(lambda o: print("saving", type(o).__name__))
        >>> _ = opt.state_dict()
        saving SGD
        """
        return self._register(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` on the dict :meth:`state_dict` returns.

        Parameters
        ----------
        hook : callable
            ``hook(optimizer, state_dict) -> dict or None``: it may edit the dict in place or
            return a new one, which is then returned (and given to the next hook).
        prepend : bool
            Run it before the hooks already registered (default: after them).

        Returns
        -------
        handle
            Its ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
        >>> def tag(optimizer, sd):
        ...     sd["format"] = 2
        >>> handle = opt.register_state_dict_post_hook(tag)
        >>> opt.state_dict()["format"]
        2
        >>> handle.remove(); "format" in opt.state_dict()
        False
        """
        return self._register(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` before :meth:`load_state_dict` loads.

        Parameters
        ----------
        hook : callable
            ``hook(optimizer, state_dict) -> dict or None``: it gets a shallow copy of the
            dict being loaded, may edit it in place or return a new one to load instead.
        prepend : bool
            Run it before the hooks already registered (default: after them).

        Returns
        -------
        handle
            Its ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
        >>> sd = opt.state_dict()
        >>> def halve_lr(optimizer, sd):
        ...     sd["param_groups"] = [dict(g, lr=g["lr"] / 2) for g in sd["param_groups"]]
        ...     return sd
        >>> _ = opt.register_load_state_dict_pre_hook(halve_lr)
        >>> opt.load_state_dict(sd); opt.param_groups[0]["lr"]
        0.05
        """
        return self._register(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` after :meth:`load_state_dict` has loaded.

        Parameters
        ----------
        hook : callable
            ``hook(optimizer) -> None``.
        prepend : bool
            Run it before the hooks already registered (default: after them).

        Returns
        -------
        handle
            Its ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=0.1)
        >>> _ = opt.register_load_state_dict_post_hook(lambda o: print("loaded"))
        >>> opt.load_state_dict(opt.state_dict())
        loaded
        """
        return self._register(self._load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """The optimizer's state and options as PyTorch lays them out.

        Returns
        -------
        dict
            ``{"state": {index: {name: value}}, "param_groups": [{option: value, ...,
            "params": [index, ...]}]}``, parameters numbered in group order. Tensors are
            references to the live state (copy, or save, before training on).

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import SGD
        >>> w = flambeau.ones(2, requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
        (tensor([1., 1.]), [0])
        """
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self)
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        out = {"state": state, "param_groups": groups}
        for hook in list(self._state_dict_post_hooks.values()):
            result = hook(self, out)
            if result is not None:
                out = result
        return out

    def load_state_dict(self, state_dict):
        """Restore options and state saved by :meth:`state_dict` (mapped by parameter order).

        State tensors are copied and moved to their parameter's device, floating state of a
        floating parameter cast to its dtype (a complex parameter's state keeps its own), so
        the loaded dict is never aliased. Scalar counters (``step``, NAdam's ``mu_product``)
        keep their saved dtype, so a resumed run continues exactly.

        Raises
        ------
        ValueError
            If the number of groups or of parameters in a group differs, or a loaded option is
            invalid; the optimizer is left unchanged.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau.optim import Adam
        >>> w = flambeau.ones(2, requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> w.sum().backward(); opt.step()
        >>> other = Adam([flambeau.ones(2, requires_grad=True)], lr=0.5)
        >>> other.load_state_dict(opt.state_dict())
        >>> other.param_groups[0]["lr"], other.state_dict()["state"][0]["step"]
        (0.1, tensor(1.))
        """
        name = type(self).__name__
        if self._load_state_dict_pre_hooks and isinstance(state_dict, dict):
            state_dict = dict(state_dict)  # the hooks get a shallow copy, as in torch
            for hook in list(self._load_state_dict_pre_hooks.values()):
                result = hook(self, state_dict)
                if result is not None:
                    state_dict = result
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups'"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: loaded parameter group {i} has "
                    f"{len(saved['params'])} parameters, the optimizer's has "
                    f"{len(group['params'])}"
                )
        by_index = {}
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            by_index.update(zip(saved["params"], group["params"], strict=True))
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            new = {k: v for k, v in saved.items() if k != "params"}
            if "param_names" in group and "param_names" not in saved:
                new["param_names"] = group["param_names"]  # as torch: keep the names
            new["params"] = group["params"]
            self._check_options(new)
            new_groups.append(new)
        new_state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = by_index.get(key)
            if p is None:
                raise ValueError(
                    f"{name}.load_state_dict: state entry {key!r} names no parameter (the saved "
                    f"groups list indices {sorted(by_index)})"
                )
            new_state[p] = {k: _cast_state(p, k, v) for k, v in values.items()}
        self.param_groups = new_groups
        self.state = new_state
        for hook in list(self._load_state_dict_post_hooks.values()):
            hook(self)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_scratch"] = _Scratch()
        return state

    def __setstate__(self, state):
        d = self.__dict__
        d.update(state)
        # optimizers pickled before the state_dict hooks existed, and those pickled by
        # torch.save (flambeau.load of a PyTorch file with weights_only=False), which keeps
        # only defaults, state and param_groups, as torch.load rebuilds them
        for table in _HOOK_TABLES:
            d.setdefault(table, OrderedDict())
        d.setdefault("_scratch", _Scratch())
        d.setdefault("_hook_id", 0)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


#: scalar state kept as saved (dtype and CPU placement): casting NAdam's ``mu_product`` to the
#: parameter dtype, as PyTorch does, would make a resumed run drift from an uninterrupted one
_SCALAR_STATE = frozenset({"step", "mu_product"})


def _cast_state(p, key, value):
    """A copy of a loaded state value placed like parameter ``p`` (recursing into lists)."""
    if isinstance(value, Tensor):
        if key in _SCALAR_STATE:
            out = value
        elif flambeau.is_floating_point(value) and p.dtype.is_floating_point:
            # as torch: a complex parameter's state keeps its dtype (LBFGS's is real)
            out = value.to(p.device, p.dtype)
        else:
            out = value.to(device=p.device)
        if out._data is value._data:
            out = type(out)._make(out._data.copy(), out._device)  # sparse stays sparse
        return out
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, key, v) for v in value)
    return value


# ---------------------------------------------------------------------- helpers
class _Scratch:
    """Reusable temporary arrays, one per (device, dtype, slot), grown to the largest param."""

    __slots__ = ("_bufs",)

    def __init__(self):
        self._bufs = {}

    def take(self, device, like, slot=0):
        """A temporary with ``like``'s shape and dtype (contents undefined)."""
        # devices are interned (id skips a Python hash); each thread of a step split across
        # threads (see Optimizer._update_in_parts) has buffers of its own
        key = (id(device), like.dtype, slot, get_ident())
        buf = self._bufs.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = self._bufs[key] = device._xp.empty(n, dtype=like.dtype)
        return buf[:n].reshape(like.shape)


def scalar_dtype():
    """The dtype of scalar state (``step``): float64 if that is the default dtype, else float32."""
    if flambeau.get_default_dtype() == flambeau.float64:
        return flambeau.float64
    return flambeau.float32


def new_step():
    """A fresh ``step`` counter: a 0-d CPU tensor, as PyTorch keeps it."""
    return flambeau.zeros((), dtype=scalar_dtype(), device="cpu")


def bump_step(step):
    """Increment a ``step`` tensor in place and return the new count as a Python float."""
    step._data += 1
    step._version_counter.value += 1
    return float(step._data)


def zeros_state(p, fill=0.0):
    """A state tensor shaped and placed like ``p`` (``exp_avg``, ``square_avg``, ...)."""
    xp = p._device._xp
    data = xp.zeros_like(p._data) if fill == 0 else xp.full_like(p._data, fill)
    return Tensor._make(data, p._device)


def effective_grad(xp, p, g, weight_decay, maximize, out):
    """``(-g if maximize else g) + weight_decay * p`` without touching ``g`` (L2 penalty).

    Returns ``g`` itself when there is nothing to add, else ``out`` filled in place.
    """
    if weight_decay != 0:
        xp.multiply(p, weight_decay, out=out)
        if maximize:
            xp.subtract(out, g, out=out)
        else:
            xp.add(out, g, out=out)
        return out
    if maximize:
        return xp.negative(g, out=out)
    return g


def lerp_(xp, a, b, weight, tmp):
    """``a += weight * (b - a)`` in place, rounded like PyTorch's ``lerp_`` on both sides of 0.5."""
    if weight < 0.5:
        xp.subtract(b, a, out=tmp)
        tmp *= weight
        a += tmp
    else:
        xp.subtract(b, a, out=tmp)
        tmp *= 1 - weight
        xp.subtract(b, tmp, out=a)
    return a


def addcmul_(xp, a, b, c, value, tmp):
    """``a += value * b * c`` in place (``tmp`` is scratch, may not alias ``b`` or ``c``)."""
    xp.multiply(b, value, out=tmp)
    tmp *= c
    a += tmp
    return a


# Below this many elements in one step, handing parts to threads costs more than it saves.
PARALLEL_MIN_ELEMENTS = 1 << 19


def _split(sizes, parts):
    """``parts`` contiguous ``(start, stop)`` ranges of ``sizes`` with about equal sums."""
    total, bounds, acc, start = sum(sizes), [], 0, 0
    for i, n in enumerate(sizes):
        acc += n
        if acc * parts >= total * (len(bounds) + 1) and len(bounds) < parts - 1:
            bounds.append((start, i + 1))
            start = i + 1
    bounds.append((start, len(sizes)))
    return [b for b in bounds if b[0] < b[1]]


def parallel_parts(params):
    """Contiguous ``(start, stop)`` ranges splitting ``params`` across
    :func:`flambeau.get_num_threads` threads, or None to run the step on this thread (off
    the CPU, with one thread, or when the step is too small to gain)."""
    threads = flambeau.get_num_threads()
    if threads < 2 or len(params) < 2 or any(p._device.type != "cpu" for p in params):
        return None
    sizes = [p._data.size for p in params]
    if sum(sizes) < PARALLEL_MIN_ELEMENTS:
        return None
    return _split(sizes, threads)


def _as_real(array):
    """A real view of a complex array: its parts along a new last dimension of size 2."""
    return array[..., None].view(array.real.dtype)


def _as_complex(array):
    return array.view(flambeau.promote_types(array.dtype, flambeau.complex64).np)[..., 0]


class _complex_as_real:
    """Step complex parameters as pairs of real numbers, as PyTorch's optimizers do
    (``view_as_real``): during the step each complex parameter, its gradient and its
    per-element state are real views of the same memory, so every update rule (and every
    backend kernel) treats the real and imaginary parts as two independent entries. State
    created during the step is turned back into complex tensors, as PyTorch keeps it."""

    def __init__(self, state, params, grads):
        self.state, self.grads = state, grads
        self.complex = [(i, p) for i, p in enumerate(params) if p._data.dtype.kind == "c"]

    def __enter__(self):
        grads = list(self.grads)
        self.saved = []
        for i, p in self.complex:
            shape = p._data.shape
            swapped = [t for t in self.state[p].values()
                       if isinstance(t, Tensor) and t._data.dtype.kind == "c"
                       and t._data.shape == shape]
            self.saved.append((p, p._data, swapped))
            for t in (p, *swapped):
                t._data = _as_real(t._data)
            grads[i] = _as_real(grads[i])
        return grads

    def __exit__(self, *exc):
        for p, data, _ in self.saved:
            real_shape = p._data.shape
            p._data = data
            for t in self.state[p].values():
                if (isinstance(t, Tensor) and t._data.dtype.kind == "f"
                        and t._data.shape == real_shape):
                    t._data = _as_complex(t._data)
        return False


def device_runs(params, *lists):
    """Split parallel lists by the parameters' device: ``[(device, params, *lists), ...]``.

    Fused kernels take arrays of one device; the common single-device case is one run.
    """
    device = params[0]._device
    if all(p._device is device for p in params):
        return [(device, params, *lists)]
    runs = {}
    for i, p in enumerate(params):
        run = runs.setdefault(p._device, (p._device, [], *([] for _ in lists)))
        run[1].append(p)
        for lst, values in zip(run[2:], lists, strict=True):
            lst.append(values[i])
    return list(runs.values())


def kernel_for(device, name):
    """The backend's fused kernel ``name`` for ``device``, or None to use the generic code."""
    kernels = device.backend.kernels
    return kernels.get(name) if kernels else None


def check_nonneg(name, options, *keys):
    """ValueError naming the optimizer and option when one of ``keys`` is negative."""
    for key in keys:
        value = options.get(key)
        if value is None or value is required:
            continue
        if not value >= 0:
            raise ValueError(f"{name}: invalid {key} {value!r}; it must be >= 0")


def check_betas(name, options, key="betas"):
    """ValueError when the betas are not two numbers in [0, 1): torch's message (the same in
    Adam, AdamW, Adamax, NAdam, RAdam and SparseAdam), then the optimizer and the rule."""
    betas = options.get(key)
    if betas is None:
        return
    if len(betas) != 2:
        raise ValueError(f"{name}: {key} must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} ({name}'s betas "
                             "must be in [0, 1))")

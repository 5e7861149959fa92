"""functional_call and stack_module_state: a module's weights as function arguments.

Core does not import ``flambeau.nn``: a module is anything with ``named_parameters`` and
``named_buffers`` (``remove_duplicate=False`` accepted) whose tensors live in attributes, or
in ``_parameters``/``_buffers`` dicts as ``flambeau.nn.Module`` keeps them.

Examples
--------
>>> import flambeau
>>> from flambeau.func import functional_call
>>> class Scale:
...     def __init__(self):
...         self.w = flambeau.tensor(2.0)
...     def named_parameters(self, remove_duplicate=True):
...         return iter([("w", self.w)])
...     def named_buffers(self, remove_duplicate=True):
...         return iter([])
...     def __call__(self, x):
...         return x * self.w
>>> m = Scale()
>>> functional_call(m, {"w": flambeau.tensor(5.0)}, flambeau.tensor(3.0)), m.w
(tensor(15.), tensor(2.))
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from flambeau._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()  # the module had no such attribute: deleted again on restore


def _module_name(module):
    get = getattr(module, "_get_name", None)
    return get() if callable(get) else type(module).__name__


def _named(module, which):
    fn = getattr(module, which, None)
    if fn is None:
        raise TypeError(
            f"functional_call: expected a module with {which}() (such as a flambeau.nn.Module),"
            f" got {type(module).__name__}")
    try:
        return list(fn(remove_duplicate=False))
    except TypeError:
        return list(fn())


def _untie(module, values):
    """Give every name tied to a given one (the same tensor under several names) its value."""
    names_of = {}
    for which in ("named_parameters", "named_buffers"):
        for name, tensor in _named(module, which):
            names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given = [name for name in values if name in tied]
    for name in given:
        group = [n for n in tied[name] if n in values]
        if len(group) > 1 and len({id(values[n]) for n in group}) != 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(tied[name])}, which are "
                "tied. Consider using tie_weights=False")
    untied = dict(values)
    for name in given:
        for other in tied[name]:
            untied[other] = values[name]
    return untied


class _Accessor:
    """Dotted-name access to a module tree's tensors."""

    def __init__(self, module):
        self.module = module
        self.memo = {}

    def submodule(self, path):
        if not path:
            return self.module
        if path in self.memo:
            return self.memo[path]
        prefix, _, attr = path.rpartition(".")
        parent = self.submodule(prefix)
        try:
            sub = getattr(parent, attr)
        except AttributeError as ex:
            raise AttributeError(f"{_module_name(parent)} has no attribute `{attr}`") from ex
        self.memo[path] = sub
        return sub

    def swap(self, path, tensor):
        """Put ``tensor`` at ``path`` (``_MISSING``: delete it); returns what was there."""
        prefix, _, name = path.rpartition(".")
        module = self.submodule(prefix)
        if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{tensor} is not an instance of flambeau.Tensor")
        for table in (getattr(module, "_parameters", None), getattr(module, "_buffers", None)):
            if isinstance(table, dict) and name in table:
                old = table[name]
                if tensor is _MISSING:
                    del table[name]
                else:
                    table[name] = tensor
                return old
        old = getattr(module, name) if hasattr(module, name) else _MISSING
        if old is not _MISSING and old is not None and not isinstance(old, Tensor):
            raise TypeError(f"attribute `{name}`: {old} is not an instance of flambeau.Tensor")
        if tensor is not _MISSING:
            setattr(module, name, tensor)  # a parametrized tensor: its right_inverse runs
        elif hasattr(module, name):
            delattr(module, name)
        return old

    def swap_all(self, values):
        done = {}
        try:
            for path, tensor in values.items():
                done[path] = self.swap(path, tensor)
        except Exception:
            for path, old in reversed(list(done.items())):  # undo what was swapped
                self.swap(path, old)
            raise
        return done


def _check_keys(module, values):
    names = {n for n, _ in _named(module, "named_parameters")}
    names |= {n for n, _ in _named(module, "named_buffers")}
    missing = sorted(names - set(values))
    unexpected = sorted(set(values) - names)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(
            f"Error(s) in reparametrizing for {_module_name(module)}:\n\t" + "\n\t".join(msgs))


@contextlib.contextmanager
def _reparametrize(module, values, tie_weights, strict, write_back=None):
    swapped = _untie(module, values) if tie_weights else dict(values)
    if strict:
        _check_keys(module, swapped)
    accessor = _Accessor(module)
    originals = accessor.swap_all(swapped)
    try:
        yield
    finally:
        now = accessor.swap_all(originals)
        # a forward that reassigned a buffer (not in place) hands the new tensor back
        if write_back is not None:
            for key in write_back:
                if key in now:
                    write_back[key] = now[key]


def _merge(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, Mapping):
        return dict(parameter_and_buffer_dicts), parameter_and_buffer_dicts
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, Mapping) for d in parameter_and_buffer_dicts):
            kinds = [type(d).__name__ for d in parameter_and_buffer_dicts]
            raise ValueError(
                "functional_call: Expected all elements of parameter_and_buffer_dicts to be "
                f"dictionaries, got {kinds}")
        merged, repeated = {}, []
        for d in parameter_and_buffer_dicts:
            repeated += [k for k in d if k in merged]
            merged.update(d)
        if repeated:
            raise ValueError(
                f"functional_call: {sorted(set(repeated))} appeared in multiple dictionaries; "
                "behavior of functional call is ambiguous")
        return merged, None
    raise ValueError(
        "functional_call: Expected parameter_and_buffer_dicts to be a dict, or a list/tuple "
        f"of dicts, but got {type(parameter_and_buffer_dicts).__name__}")


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with the given tensors in place of its own.

    The parameters and buffers named (dotted names, as ``named_parameters`` gives them) are
    swapped for the given tensors during the call and put back afterwards, even if the call
    raises, so the module is computed as a function of its weights; combine it with
    :func:`grad` or :func:`vmap` (e.g. per-sample gradients). ``module`` is duck-typed: it
    needs ``named_parameters`` and ``named_buffers`` (any ``flambeau.nn.Module`` works).

    Parameters
    ----------
    module : Module
        The module to call.
    parameter_and_buffer_dicts : dict of str to Tensor, or a tuple/list of such dicts
        The replacement tensors; several dicts must not share keys.
    args : Any or tuple, optional
        Positional arguments of the call (a single non-tuple value is one argument).
    kwargs : dict, optional
        Keyword arguments of the call.
    tie_weights : bool
        A tensor registered under several names (tied weights) gets a value given under any
        of them everywhere, and tied names may not be given different tensors (default
        True).
    strict : bool
        Require the given names to be exactly the module's parameters and buffers.

    Returns
    -------
    Any
        What ``module`` returns.

    Raises
    ------
    ValueError
        When the dicts are not dicts, share keys, or give tied names different tensors.
    RuntimeError
        With ``strict``, listing the missing and unexpected keys.
    AttributeError
        When a dotted name goes through a missing submodule.
    TypeError
        When a given value is not a Tensor.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import functional_call, grad
    >>> class Linear:
    ...     def __init__(self):
    ...         self.weight = flambeau.ones(2)
    ...     def named_parameters(self, remove_duplicate=True):
    ...         return iter([("weight", self.weight)])
    ...     def named_buffers(self, remove_duplicate=True):
    ...         return iter([])
    ...     def __call__(self, x):
    ...         return (self.weight * x).sum()
    >>> m, x = Linear(), flambeau.tensor([1.0, 2.0])
    >>> grad(lambda p: functional_call(m, p, (x,)))({"weight": flambeau.zeros(2)})
    {'weight': tensor([1., 2.])}
    """
    values, write_back = _merge(parameter_and_buffer_dicts)
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, values, tie_weights, strict, write_back):
        return module(*args, **kwargs)


def stack_module_state(models):
    """Stack the parameters and buffers of same-shaped models along a new first dimension.

    The stacked parameters are new leaves (``requires_grad`` as in the models), ready for
    ``vmap(functional_call)`` over an ensemble.

    Parameters
    ----------
    models : sequence of Module
        Models of one class, all in training or all in eval mode.

    Returns
    -------
    tuple of dict
        ``(params, buffers)``: name -> stacked tensor.

    Raises
    ------
    RuntimeError
        When ``models`` is empty, mixes classes or training modes, or a parameter requires
        grad in some models only.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.func import stack_module_state
    >>> class M:
    ...     training = True
    ...     def __init__(self, v):
    ...         self.w = flambeau.tensor([v, v], requires_grad=True)
    ...     def named_parameters(self, remove_duplicate=True):
    ...         return iter([("w", self.w)])
    ...     def named_buffers(self, remove_duplicate=True):
    ...         return iter([])
    >>> params, buffers = stack_module_state([M(1.0), M(2.0)])
    >>> params["w"], buffers
    (tensor([[1., 1.],
            [2., 2.]], requires_grad=True), {})
    """
    from flambeau._ops.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({getattr(m, "training", None) for m in models}) > 1:
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) > 1:
        kinds = sorted({type(m).__name__ for m in models})
        raise RuntimeError(
            f"stack_module_state: Expected all models to be of the same class, got {kinds}.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]

    def stacked(tables, leaf):
        out = {}
        for name in tables[0]:
            if any(name not in t for t in tables):
                raise RuntimeError(
                    f"stack_module_state: {name} is missing from some models")
            tensors = [t[name] for t in tables]
            if any(t is None for t in tensors):
                continue
            value = stack([t.detach() for t in tensors])
            if leaf:
                flags = {t.requires_grad for t in tensors}
                if len(flags) > 1:
                    raise RuntimeError(
                        f"stack_module_state: Expected {name} from each model to have the same "
                        ".requires_grad")
                value.requires_grad_(flags.pop())
            out[name] = value
        return out

    return stacked(all_params, True), stacked(all_buffers, False)

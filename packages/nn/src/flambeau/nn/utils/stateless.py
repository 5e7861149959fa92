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

import contextlib
from collections.abc import Mapping

from flambeau import Tensor
from flambeau.nn.modules.module import Module

__all__ = ["functional_call"]

_MISSING = object()  # the module had no such attribute: deleted again on restore


def _untie(module, values):
    """Give every tensor tied to a given one (same object under several names) its value."""
    names_of = {}
    for table in (module.named_parameters(remove_duplicate=False),
                  module.named_buffers(remove_duplicate=False)):
        for name, tensor in table:
            names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given = [name for name in values if name in tied]
    for name in given:
        group = tied[name]
        given_in_group = [n for n in group if n in values]
        if len(given_in_group) > 1 and len({id(values[n]) for n in given_in_group}) != 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(group)}, which are "
                "tied. Consider using tie_weights=False"
            )
    untied = dict(values)
    for name in given:
        for other in tied[name]:
            untied[other] = values[name]
    return untied


class _Accessor:
    """Dotted-name access to a module tree's tensors, with a cache of the submodules."""

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
            raise AttributeError(f"{parent._get_name()} has no attribute `{attr}`") from ex
        if not isinstance(sub, Module):
            raise TypeError(f"submodule `{path}`: {sub} is not an instance of flambeau.nn.Module")
        self.memo[path] = sub
        return sub

    def swap(self, path, tensor):
        """Put ``tensor`` at ``path`` (``_MISSING``: delete it); returns what was there."""
        prefix, _, name = path.rpartition(".")
        module = self.submodule(prefix)
        if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{tensor} is not an instance of flambeau.Tensor")
        for table in (module._parameters, module._buffers):
            if name in table:
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
            for path, old in done.items():  # put back what was swapped before the error
                self.swap(path, old)
            raise
        return done


def _check_keys(module, name_set, keys):
    missing = sorted(name_set - set(keys))
    unexpected = sorted(set(keys) - name_set)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(
            f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs))


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    values = (_untie(module, parameters_and_buffers) if tie_weights
              else dict(parameters_and_buffers))
    if strict:
        names = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        names |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        _check_keys(module, names, values)
    accessor = _Accessor(module)
    originals = accessor.swap_all(values)
    try:
        yield
    finally:
        now = accessor.swap_all(originals)
        # a forward that reassigned a buffer (not in place) hands the new tensor back
        if isinstance(parameters_and_buffers, dict):
            for key in parameters_and_buffers:
                if key in now:
                    parameters_and_buffers[key] = now[key]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Run ``module(*args, **kwargs)`` with the given tensors in place of its own.

    The module's parameters and buffers named in ``parameters_and_buffers`` (dotted names,
    as ``named_parameters`` gives them) are swapped for the given tensors during the call
    and put back afterwards, even if the call raises. Gradients flow to the given tensors,
    so this computes a model as a function of its weights.

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
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)

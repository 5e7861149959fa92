"""The keyword spellings torch's argument parser accepts beyond the parameters' names.

torch's C functions and Tensor methods take NumPy's ``axis=`` for a parameter named ``dim``
and ``keepdims=`` for ``keepdim`` (and ``x=``, ``a=``, ``x1=`` for ``input``, ``x2=`` for
``other``); its Python-level functions (``torch.functional``'s ``split``, ``norm``,
``unique``...) take none of them. A list of ints that may be given one by one
(``x.view(2, 3)``) may also be given by keyword (``x.view(size=(2, 3))``).

Per-call cost matters more than anything here, so the translation runs only where a call
would otherwise fail:

- an op that already sits behind a forwarding layer (``with_out``'s) retries in that layer's
  ``except TypeError`` (:func:`retry`): the common call pays nothing;
- a plain op with a ``dim`` or ``keepdim`` parameter gets a layer generated with its own
  signature plus ``**kwargs``, which forwards without looking at anything but whether
  ``kwargs`` is empty (:func:`accepting_aliases`);
- an op taking a list of ints as varargs has a keyword-only parameter of torch's name,
  resolved by :func:`sizes_by_keyword`, and shows torch's signature (:func:`list_keyword`);
  the creation functions (``zeros(size=)``), behind ``out=``'s layer, take it in
  :func:`retry`.

Ops with ``input``/``other`` but no ``dim``/``keepdim`` get no layer for the ``x=``/``x2=``
spellings: every elementwise op would pay for a spelling nobody writes. ``isin``'s
overload names (:data:`OVERLOAD_NAMES`) get one: a rare op.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import types

P = inspect.Parameter

#: torch's parser: alias -> the parameter it stands for
ALIASES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input",
           "x2": "other"}
#: torch's names for an argument in one of an op's overloads only: isin's number operands
OVERLOAD_NAMES = {"isin": {"element": "elements", "test_element": "test_elements"}}
#: parameters whose aliases are worth a layer on an op that has no other
_LAYER_WORTHY = frozenset({"dim", "keepdim"})
#: written in Python in torch (torch.functional, torch._tensor): they take no alias
#: (torch.linalg.norm and torch.unflatten are C functions: they do)
PYTHON_LEVEL = frozenset({"norm", "split", "unique", "unique_consecutive"})
PYTHON_LEVEL_METHODS = PYTHON_LEVEL | {"unflatten"}
#: Tensor queries cheap enough that a layer would cost a third of the call (x.size(0))
_QUERIES = frozenset({"size", "stride"})


class _Missing:
    """The default a generated layer gives a parameter an alias may stand for: "not given"."""

    def __repr__(self):
        return "<not given>"


_MISSING = _Missing()
#: the code of the layers that translate on their own (generated here, or registered)
_LAYERS = set()
#: the code of those generated here
_MADE_CODE = set()


def is_layer(obj):
    """Whether ``obj`` is one of the layers :func:`accepting_aliases` puts over an op.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._keywords import is_layer
    >>> is_layer(flambeau.unsqueeze), is_layer(flambeau.exp)
    (True, False)
    """
    return getattr(obj, "__code__", None) in _MADE_CODE and hasattr(obj, "__wrapped__")


def retrying(layer):
    """Register a forwarding layer (``call(*args, **kwargs)``) that calls :func:`retry` when
    its op fails to bind, so that :func:`install` puts no second layer over it."""
    _LAYERS.add(layer.__code__)
    return layer


def retry(fn, args, kwargs, op=None):
    """``fn(*args, **kwargs)`` again with torch's keyword spellings translated: its aliases,
    and its varargs' name for the list of ints given by keyword (``zeros(size=(2, 3))``).
    Called from the ``except TypeError`` clause of a forwarding layer, it re-raises the error
    being handled when there was nothing to translate (a TypeError of the op itself goes
    through unchanged).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._keywords import retry
    >>> def total(input, dim=None):
    ...     return input.sum(dim)
    >>> x = flambeau.ones(2, 3)
    >>> try:
    ...     total(x, axis=1)
    ... except TypeError:
    ...     retry(total, (x,), {"axis": 1})
    tensor([3., 3.])
    """
    op = op or fn.__name__
    params = _parameters(fn)
    aliases = aliases_for(fn, op, python_level=PYTHON_LEVEL)
    varargs = next((p.name for p in params if p.kind is P.VAR_POSITIONAL), None)
    if aliases.keys().isdisjoint(kwargs) and varargs not in kwargs:
        raise  # the TypeError the caller is handling
    positional = [p.name for p in params if p.kind in (P.POSITIONAL_ONLY,
                                                       P.POSITIONAL_OR_KEYWORD)]
    given = set(positional[:len(args)])
    given.update(k for k in kwargs if k not in aliases)
    renamed = {}
    for key, value in kwargs.items():
        name = aliases.get(key)
        if key == varargs:
            args = (*args[:len(positional)],
                    *sizes_by_keyword(op, key, args[len(positional):], value))
        elif name is None:
            renamed[key] = value
        elif name in given:
            raise TypeError(_both(op, name, key)) from None
        else:
            given.add(name)
            renamed[name] = value
    return fn(*args, **renamed)


def _both(op, name, alias):
    return f"{op}() got both '{name}' and its alias '{alias}': pass only one of them"


@functools.lru_cache(maxsize=None)
def _parameters(fn):
    return tuple(inspect.signature(fn).parameters.values())


def _may_take_dim(fn):
    """Whether the function ``fn`` may have a ``dim``/``keepdim`` parameter: its code says so
    unless it presents another function's signature (``__wrapped__``, ``__signature__``)."""
    if "__wrapped__" in fn.__dict__ or "__signature__" in fn.__dict__:
        return True
    code = fn.__code__
    own = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return "dim" in own or "keepdim" in own


def aliases_for(fn, op, method=False, python_level=frozenset()):
    """``{alias: parameter}`` that torch's parser would accept for ``fn`` called as ``op``
    (a Tensor method when ``method``: its first parameter is ``self``), none when ``op`` is
    in ``python_level`` (or, for a method, :data:`PYTHON_LEVEL_METHODS`).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._keywords import aliases_for
    >>> sorted(aliases_for(flambeau.Tensor.max, "max", method=True).items())
    [('axis', 'dim'), ('keepdims', 'keepdim')]
    >>> aliases_for(flambeau.split, "split", python_level=PYTHON_LEVEL)  # torch.functional's
    {}
    """
    if op in (PYTHON_LEVEL_METHODS if method else python_level):
        return {}
    params = _parameters(fn)
    names = {p.name for p in params[1 if method else 0:]
             if p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)}
    everything = {p.name for p in params}
    return {alias: name for alias, name in (*ALIASES.items(), *OVERLOAD_NAMES.get(op, {}).items())
            if name in names and alias not in everything}


# ------------------------------------------------------------------ generated layers

_TEMPLATES = {}
_MADE = {}


def accepting_aliases(fn, op, method=False, module=None, python_level=frozenset()):
    """``fn`` behind a layer that accepts torch's aliases (``axis=`` for ``dim``...), or
    ``fn`` itself when it has no ``dim``/``keepdim`` (or torch takes no alias for ``op``:
    see :func:`aliases_for`).

    The layer has ``fn``'s parameters plus ``**kwargs``: a call without an alias costs one
    forwarding call; ``inspect.signature`` and ``help()`` show ``fn``'s own.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._keywords import accepting_aliases
    >>> def total(input, dim=None, keepdim=False):
    ...     return input.sum(dim, keepdim)
    >>> layer = accepting_aliases(total, "total")
    >>> layer(flambeau.ones(2, 3), axis=1, keepdims=True)
    tensor([[3.],
            [3.]])
    >>> layer(flambeau.ones(2, 3), 1, axis=1)
    Traceback (most recent call last):
    ...
    TypeError: total() got both 'dim' and its alias 'axis': pass only one of them
    """
    if not isinstance(fn, types.FunctionType) or fn.__code__ in _LAYERS or (
            method and op in _QUERIES):
        return fn
    if op not in OVERLOAD_NAMES and not _may_take_dim(fn):
        return fn  # most ops: decided without inspect.signature, at import time
    aliases = aliases_for(fn, op, method, python_level)
    if _LAYER_WORTHY.isdisjoint(aliases.values()) and op not in OVERLOAD_NAMES:
        return fn
    made = _MADE.get((fn, method))
    if made is not None:  # another name of the same op (concat for cat): the same layer
        return made
    params = _parameters(fn)
    if any(p.kind is P.VAR_KEYWORD for p in params):
        layer = _translating(fn, op, aliases)
    elif any(p.name.startswith("_") for p in params):
        return fn  # it would shadow the generated layer's own names
    else:
        layer = _generated(fn, op, aliases, params)
    layer.__doc__ = fn.__doc__
    layer.__name__ = op
    layer.__qualname__ = f"Tensor.{op}" if method else op
    layer.__module__ = module or fn.__module__
    layer.__wrapped__ = fn
    layer.__signature__ = inspect.signature(fn)
    layer.__dict__.update({k: v for k, v in fn.__dict__.items() if k not in layer.__dict__})
    _MADE[fn, method] = layer
    return layer


def _generated(fn, op, aliases, params):
    """A layer written for ``fn``'s parameter list. A parameter an alias may stand for
    defaults to a marker, so that the slow path knows what was given: an optional one gets
    its own default back on the way in, a required one (and any required one after it)
    sends the call to the slow path, which reports it missing."""
    stands_for = set(aliases.values())
    heads, forward, checks, fills, defaults, kwdefaults = [], [], [], [], [], {}
    namespace = {"_fn": fn, "_M": _MISSING, "__builtins__": builtins}
    optional = star = False
    for i, p in enumerate(params):
        default = p.default
        if p.name in stands_for:
            if default is not P.empty:
                namespace[f"_d_{p.name}"] = default
                fills.append(p.name)
            default = _MISSING
        elif default is P.empty and optional and p.kind is not P.KEYWORD_ONLY:
            default = _MISSING  # a required parameter after one that has a default
        if default is _MISSING and p.name not in fills:
            checks.append(p.name)
        if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
            if default is not P.empty:
                optional = True
                defaults.append(default)
            heads.append(p.name)
            forward.append(p.name)
            if p.kind is P.POSITIONAL_ONLY and (
                    i + 1 == len(params) or params[i + 1].kind is not P.POSITIONAL_ONLY):
                heads.append("/")
        elif p.kind is P.VAR_POSITIONAL:
            star = True
            heads.append("*" + p.name)
            forward.append("*" + p.name)
        else:  # keyword-only
            if not star:
                star = True
                heads.append("*")
            heads.append(p.name)
            forward.append(f"{p.name}={p.name}")
            if default is not P.empty:
                kwdefaults[p.name] = default
    key = (tuple(heads), tuple(forward), tuple(checks), tuple(fills))
    code = _TEMPLATES.get(key)
    if code is None:
        names = [p.name for p in params]
        condition = " or ".join(["_kw"] + [f"{n} is _M" for n in checks])
        source = "".join([
            f"def layer({', '.join([*heads, '**_kw'])}):\n",
            f"    if {condition}:\n",
            f"        return _slow(({', '.join(names)},), _kw)\n",
            *(f"    if {n} is _M:\n        {n} = _d_{n}\n" for n in fills),
            f"    return _fn({', '.join(forward)})\n"])
        scope = {}
        exec(compile(source, f"<keywords layer {op}>", "exec"), scope)
        code = _TEMPLATES[key] = scope["layer"].__code__
        _LAYERS.add(code)
        _MADE_CODE.add(code)
    namespace["_slow"] = functools.partial(_rebound, fn, op, params, aliases)
    layer = types.FunctionType(code, namespace, op, tuple(defaults) or None)
    layer.__kwdefaults__ = kwdefaults or None
    return layer


def _rebound(fn, op, params, aliases, values, extra):
    """The generated layer's slow path: ``fn`` called with what was given, the aliases in
    ``extra`` in their parameters' places."""
    bound, rest = {}, ()
    for p, value in zip(params, values, strict=True):
        if p.kind is P.VAR_POSITIONAL:
            rest = value
        elif value is not _MISSING:
            bound[p.name] = value
    for key, value in extra.items():
        name = aliases.get(key)
        if name is None:
            raise TypeError(f"{op}() got an unexpected keyword argument '{key}'")
        if name in bound:
            raise TypeError(_both(op, name, key))
        bound[name] = value
    args = []
    for p in params:
        if p.name not in bound and p.kind is not P.VAR_POSITIONAL:
            if p.default is P.empty:
                kind = "keyword-only" if p.kind is P.KEYWORD_ONLY else "positional"
                raise TypeError(f"{op}() missing 1 required {kind} argument: '{p.name}'")
        elif p.kind is P.POSITIONAL_ONLY or rest and p.kind is P.POSITIONAL_OR_KEYWORD:
            args.append(bound.pop(p.name))  # before varargs: only by position
    return fn(*args, *rest, **bound)


def _translating(fn, op, aliases):
    """A layer for an op that takes ``**kwargs`` itself (the in-place methods): the aliases
    are renamed before the call, when keywords are given at all."""

    def layer(*args, **kwargs):
        if kwargs and not aliases.keys().isdisjoint(kwargs):
            kwargs = _renamed(op, fn, args, kwargs, aliases)
        return fn(*args, **kwargs)

    _LAYERS.add(layer.__code__)
    _MADE_CODE.add(layer.__code__)
    return layer


def _renamed(op, fn, args, kwargs, aliases):
    renamed = {}
    for key, value in kwargs.items():
        name = aliases.get(key, key)
        if name in renamed or (name != key and name in kwargs):
            raise TypeError(_both(op, name, key))
        renamed[name] = value
    return renamed


def install(namespace, names, module=None, python_level=frozenset()):
    """Put :func:`accepting_aliases` layers over the functions ``names`` of ``namespace`` (a
    module's ``globals()`` or a ``vars()``), in place."""
    for name in names:
        fn = namespace.get(name)
        layer = accepting_aliases(fn, name, module=module, python_level=python_level)
        if layer is not fn:
            namespace[name] = layer


def install_methods(cls):
    """The same for the public methods of ``cls`` (the Tensor). An in-place method that
    forwards ``*args, **kwargs`` (``cumsum_``) takes the keywords of its out-of-place op."""
    methods = vars(cls)
    for name, fn in list(methods.items()):
        if name.startswith("_"):
            continue
        layer = accepting_aliases(fn, name, method=True, module=cls.__module__)
        base = methods.get(name[:-1]) if name.endswith("_") else None
        if layer is fn and base is not None and isinstance(fn, types.FunctionType) and (
                fn.__code__.co_flags & inspect.CO_VARKEYWORDS):
            base = getattr(base, "__wrapped__", base)
            aliases = aliases_for(base, name, method=True)
            if not _LAYER_WORTHY.isdisjoint(aliases.values()):
                layer = _translating(fn, name, aliases)
                layer.__doc__, layer.__name__, layer.__qualname__ = fn.__doc__, name, fn.__name__
                layer.__signature__ = inspect.signature(fn)
        if layer is not fn:
            setattr(cls, name, layer)


# ------------------------------------------------------------------ lists of ints


def sizes_by_keyword(op, name, args, value):
    """The varargs of ``op`` when its list of ints came by keyword (``x.view(size=(2, 3))``
    for ``x.view(2, 3)``), checked as torch's parser does.

    Examples
    --------
    >>> from flambeau._keywords import sizes_by_keyword
    >>> sizes_by_keyword("view", "size", (), [2, 3])
    ((2, 3),)
    >>> sizes_by_keyword("flip", "dims", (), 0)
    Traceback (most recent call last):
    ...
    TypeError: flip(): argument 'dims' must be tuple of ints, not int
    >>> sizes_by_keyword("view", "size", (6,), (6,))
    Traceback (most recent call last):
    ...
    TypeError: view() got multiple values for argument 'size'
    """
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}")
    return (tuple(value),)


def list_keyword(name, op=None):
    """Present a ``def op(input, *sizes, <name>=None, ...)`` as torch's
    ``op(input, *<name>, ...)``: the keyword-only parameter that takes the list by keyword
    is the varargs' other spelling, not a parameter of its own. ``op``: the name Python's
    own errors give, for a function defined under another (``flip_method``).

    Examples
    --------
    >>> import inspect
    >>> from flambeau._keywords import list_keyword
    >>> @list_keyword("dims")
    ... def flip(self, *sizes, dims=None):
    ...     pass
    >>> inspect.signature(flip)
    <Signature (self, *dims)>
    """

    def present(fn):
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != name]
        params = [p.replace(name=name) if p.kind is P.VAR_POSITIONAL else p for p in params]
        fn.__signature__ = inspect.Signature(params)
        if op is not None:
            fn.__name__ = fn.__qualname__ = op
        return fn

    return present

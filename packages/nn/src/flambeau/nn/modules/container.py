"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (and the
deprecated Container)."""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import Mapping

import flambeau
from flambeau import Tensor
from flambeau.nn.modules.module import Module, _indent
from flambeau.nn.parameter import Parameter

__all__ = ["Container", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
           "Sequential"]


def _index(idx, n, who):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"{who}: index {idx} is out of range (length {n})")
    return idx % n


class Sequential(Module):
    """Modules applied in order, each to the previous one's output.

    Build it from modules (named ``"0"``, ``"1"``, ...) or from an ``OrderedDict`` of names
    to modules. Supports indexing, slicing (a new Sequential), ``len``, ``append``,
    ``insert``, ``extend`` and deletion.

    Examples
    --------
    >>> import flambeau
    >>> from collections import OrderedDict
    >>> from flambeau import nn
    >>> net = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 2)), ("act", nn.ReLU())]))
    >>> net
    Sequential(
      (fc): Linear(in_features=4, out_features=2, bias=True)
      (act): ReLU()
    )
    >>> net(flambeau.ones(3, 4)).shape, net[0] is net.fc, len(net[1:])
    (flambeau.Size([3, 2]), True, 1)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self._modules), "Sequential")]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self._modules), "Sequential")]
        setattr(self, key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for key in keys[idx]:
                delattr(self, key)
        else:
            delattr(self, keys[_index(idx, len(keys), "Sequential")])
        # keep the numbering dense, as PyTorch does
        items = list(self._modules.items())
        self._modules.clear()
        for i, (k, m) in enumerate(items):
            self._modules[str(i) if k.isdigit() else k] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(
                f"add operator supports only objects of Sequential class, got {type(other)}"
            )
        return Sequential(*self, *other)

    def append(self, module):
        """Add ``module`` at the end; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> len(nn.Sequential().append(nn.ReLU()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Sequential(nn.ReLU()).insert(0, nn.Tanh())[0]
        Tanh()
        """
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index % (n + 1) if index < 0 else index
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m
        return self

    def extend(self, sequential):
        """Append every module of ``sequential``; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> len(nn.Sequential().extend([nn.ReLU(), nn.Tanh()]))
        2
        """
        for m in sequential:
            self.append(m)
        return self

    def pop(self, key):
        """Remove and return the module at ``key``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.Sequential(nn.ReLU(), nn.Tanh()).pop(0)
        ReLU()
        """
        v = self[key]
        del self[key]
        return v


_CONTAINER_DEPRECATED = (
    "`nn.Container` is deprecated. All of its functionality is now implemented in "
    "`nn.Module`. Subclass that instead."
)


class Container(Module):
    """A module whose children are given as keyword arguments; deprecated, as in PyTorch.

    Making one, or subclassing it, warns with a FutureWarning: subclass :class:`Module`
    instead, whose ``add_module`` (or attribute assignment) registers the children.

    Examples
    --------
    >>> import warnings
    >>> from flambeau import nn
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     box = nn.Container(fc=nn.Linear(2, 1), act=nn.ReLU())
    >>> list(box.state_dict())
    ['fc.weight', 'fc.bias']
    """

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        if type(self) is Container:  # a subclass warned once, when it was defined
            warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init__()
        for name, module in kwargs.items():
            self.add_module(name, module)


class ModuleList(Module):
    """A list of modules, registered so that their parameters are seen by the parent.

    Examples
    --------
    >>> from flambeau import nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> layers
    ModuleList(
      (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    )
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self._modules), "ModuleList"))]

    def __setitem__(self, idx, module):
        setattr(self, str(_index(idx, len(self._modules), "ModuleList")), module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for k in keys[idx]:
                delattr(self, k)
        else:
            delattr(self, keys[_index(idx, len(keys), "ModuleList")])
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList([*self, *other])

    def append(self, module):
        """Add ``module`` at the end; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> len(nn.ModuleList().append(nn.ReLU()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns ``self``.

        Examples
        --------
        >>> from flambeau import nn
        >>> len(nn.ModuleList().extend([nn.ReLU(), nn.ReLU()]))
        2
        """
        if isinstance(modules, (Module, Tensor)) or not hasattr(modules, "__iter__"):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, but got "
                + type(modules).__name__
            )
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``.

        Examples
        --------
        >>> from flambeau import nn
        >>> ml = nn.ModuleList([nn.ReLU()]); ml.insert(0, nn.Tanh()); ml[0]
        Tanh()
        """
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def pop(self, key):
        """Remove and return the module at ``key``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.ModuleList([nn.ReLU()]).pop(0)
        ReLU()
        """
        v = self[key]
        del self[key]
        return v

    def __repr__(self):
        # consecutive identical children are shown once with their index range, as PyTorch
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        groups = []
        start = 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                groups.append((start, i - 1))
                start = i
        lines = []
        for a, b in groups:
            body = _indent(reprs[a], 2)
            if a == b:
                lines.append(f"({a}): {body}")
            else:
                lines.append(f"({a}-{b}): {b - a + 1} x {body}")
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys.

    Examples
    --------
    >>> from flambeau import nn
    >>> d = nn.ModuleDict({"act": nn.ReLU(), "fc": nn.Linear(1, 1)})
    >>> list(d.keys()), d["act"]
    (['act', 'fc'], ReLU())
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module.

        Examples
        --------
        >>> from flambeau import nn
        >>> d = nn.ModuleDict({"a": nn.ReLU()}); d.clear(); len(d)
        0
        """
        self._modules.clear()

    def pop(self, key):
        """Remove and return the module under ``key``.

        Examples
        --------
        >>> from flambeau import nn
        >>> nn.ModuleDict({"a": nn.ReLU()}).pop("a")
        ReLU()
        """
        v = self[key]
        del self[key]
        return v

    def keys(self):
        """The keys, in insertion order.

        Examples
        --------
        >>> from flambeau import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU()}).keys())
        ['a']
        """
        return self._modules.keys()

    def items(self):
        """``(key, module)`` pairs.

        Examples
        --------
        >>> from flambeau import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU()}).items())
        [('a', ReLU())]
        """
        return self._modules.items()

    def values(self):
        """The modules.

        Examples
        --------
        >>> from flambeau import nn
        >>> list(nn.ModuleDict({"a": nn.ReLU()}).values())
        [ReLU()]
        """
        return self._modules.values()

    def update(self, modules):
        """Add the modules of a mapping or of an iterable of ``(key, module)`` pairs.

        Examples
        --------
        >>> from flambeau import nn
        >>> d = nn.ModuleDict(); d.update([("a", nn.ReLU())]); list(d)
        ['a']
        """
        items = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for j, pair in enumerate(items):
            if len(pair) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is "
                    "required"
                )
            self[pair[0]] = pair[1]


def _as_parameter(value):
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters (tensors given to it become Parameters).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> pl = nn.ParameterList([flambeau.zeros(2), flambeau.ones(3)])
    >>> [tuple(p.shape) for p in pl.parameters()], isinstance(pl[0], nn.Parameter)
    ([(2,), (3,)], True)
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(_index(idx, self._size, "ParameterList")))

    def __setitem__(self, idx, value):
        idx = _index(idx, self._size, "ParameterList")
        setattr(self, str(idx), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        """Add ``value`` (a tensor becomes a Parameter) at the end; returns ``self``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> len(nn.ParameterList().append(flambeau.zeros(1)))
        1
        """
        name = str(self._size)
        self._size += 1
        value = _as_parameter(value)
        if isinstance(value, Parameter) or value is None:
            self.register_parameter(name, value)
        else:
            setattr(self, name, value)
        return self

    def extend(self, values):
        """Append every element of ``values``; returns ``self``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> len(nn.ParameterList().extend([flambeau.zeros(1)] * 2))
        2
        """
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                + type(values).__name__
            )
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        lines = []
        for i in range(self._size):
            p = self[i]
            if isinstance(p, Tensor):
                size = "x".join(str(s) for s in p.shape)
                kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
                dev = "" if p.device.type == "cpu" else f" ({p.device})"
                lines.append(f"  ({i}): {kind} containing: [{p.dtype} of size {size}{dev}]")
            else:
                lines.append(f"  ({i}): Object of type: {type(p).__name__}")
        # the two-space lead is torch's (its repr then indents these lines twice)
        return "\n".join(lines)


class ParameterDict(Module):
    """An ordered dict of parameters (tensors given to it become Parameters).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> pd = nn.ParameterDict({"scale": flambeau.ones(1)})
    >>> [n for n, _ in pd.named_parameters()], "scale" in pd
    (['scale'], True)
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter) or value is None:
            self.register_parameter(key, value)
        else:
            setattr(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> list(nn.ParameterDict({"a": flambeau.ones(1)}).keys())
        ['a']
        """
        return self._keys.keys()

    def items(self):
        """``(key, parameter)`` pairs.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> [k for k, _ in nn.ParameterDict({"a": flambeau.ones(1)}).items()]
        ['a']
        """
        return [(k, self[k]) for k in self._keys]

    def values(self):
        """The parameters.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> len(nn.ParameterDict({"a": flambeau.ones(1)}).values())
        1
        """
        return [self[k] for k in self._keys]

    def pop(self, key):
        """Remove and return the parameter under ``key``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> nn.ParameterDict({"a": flambeau.ones(1)}).pop("a").shape
        flambeau.Size([1])
        """
        v = self[key]
        del self[key]
        return v

    def get(self, key, default=None):
        """The parameter under ``key``, or ``default`` when there is none.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict({"a": flambeau.ones(1)})
        >>> pd.get("a").shape, pd.get("b", 0)
        (flambeau.Size([1]), 0)
        """
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """The parameter under ``key``, first set to ``default`` if the key is new.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict()
        >>> pd.setdefault("a", flambeau.zeros(2)).shape, list(pd)
        (flambeau.Size([2]), ['a'])
        """
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self):
        """Remove and return the last inserted ``(key, parameter)`` pair.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict({"a": flambeau.ones(1), "b": flambeau.ones(2)})
        >>> pd.popitem()[0], list(pd)
        ('b', ['a'])
        """
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        """Remove every entry.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict({"a": flambeau.ones(1)})
        >>> pd.clear(); len(pd)
        0
        """
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same parameter objects.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict({"a": flambeau.ones(1)})
        >>> pd.copy()["a"] is pd["a"]
        True
        """
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys``, each holding ``default``.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> list(nn.ParameterDict().fromkeys(["a", "b"], flambeau.ones(1)))
        ['a', 'b']
        """
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Add the entries of a mapping or of an iterable of ``(key, value)`` pairs.

        Examples
        --------
        >>> import flambeau
        >>> from flambeau import nn
        >>> pd = nn.ParameterDict(); pd.update({"b": flambeau.ones(1)}); list(pd)
        ['b']
        """
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v

    def extra_repr(self):
        lines = []
        for k in self._keys:
            p = self[k]
            if not isinstance(p, Tensor):
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
                continue
            size = "x".join(str(s) for s in p.shape)
            kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
            dev = "" if p.device.type == "cpu" else f" ({p.device})"
            # torch names the tensor type here (FloatTensor) where ParameterList names the dtype
            tname = flambeau.typename(p)
            lines.append(f"  ({k}): {kind} containing: [{tname} of size {size}{dev}]")
        return "\n".join(lines)

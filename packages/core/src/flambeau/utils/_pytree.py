"""Pytrees: nested containers of leaves, flattened to a list and a :class:`TreeSpec`.

PyTorch's ``torch.utils._pytree``. Tuples, lists, dicts, ``OrderedDict``, ``defaultdict``,
``deque`` and namedtuples are nodes; everything else (``None``, numbers, Tensors) is a leaf,
unless a type is made a node with :func:`register_pytree_node`. Nodes match by exact type:
a subclass of ``dict`` that is not registered is a leaf, as in PyTorch. Dicts keep their
insertion order. Every part of flambeau that walks nested arguments (``flambeau.func``,
``flambeau.cond``) uses this module.

Examples
--------
>>> from flambeau.utils._pytree import tree_flatten, tree_unflatten
>>> leaves, spec = tree_flatten({"a": (1, 2), "b": [3, None]})
>>> leaves
[1, 2, 3, None]
>>> spec.num_leaves
4
>>> tree_unflatten([10, 20, 30, 40], spec)
{'a': (10, 20), 'b': [30, 40]}
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import types
from collections import OrderedDict, defaultdict, deque, namedtuple
from typing import Any, Callable, NamedTuple

__all__ = [
    "TreeSpec", "LeafSpec", "SequenceKey", "MappingKey", "GetAttrKey",
    "register_pytree_node", "register_dataclass", "is_namedtuple", "tree_flatten",
    "tree_unflatten", "tree_leaves", "tree_iter", "tree_structure", "tree_is_leaf", "tree_map",
    "tree_map_", "tree_map_only", "tree_map_only_", "map_only", "tree_all", "tree_any",
    "tree_all_only", "tree_any_only", "tree_flatten_with_path", "tree_leaves_with_path",
    "tree_map_with_path", "keystr", "key_get", "treespec_dumps", "treespec_loads",
    "treespec_pprint", "treespec_leaf", "treespec_tuple", "treespec_dict",
]

PyTree = Any

#: the JSON format :func:`treespec_dumps` writes (PyTorch's protocol 1)
DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL = 1


class NodeDef(NamedTuple):
    """How one registered container type flattens and rebuilds."""

    type: type
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None


class _SerializeNodeDef(NamedTuple):
    type: type
    serialized_type_name: str
    to_dumpable_context: Callable | None
    from_dumpable_context: Callable | None


#: type -> NodeDef of every container type
SUPPORTED_NODES: dict[type, NodeDef] = {}
#: type -> how its TreeSpec is written by :func:`treespec_dumps`
SUPPORTED_SERIALIZED_TYPES: dict[type, _SerializeNodeDef] = {}
#: serialized name -> type, for :func:`treespec_loads`
SERIALIZED_TYPE_TO_PYTHON_TYPE: dict[str, type] = {}
# namedtuple class <-> the name it is written under (see _register_namedtuple)
_NAMEDTUPLE_NAMES: dict[type, str] = {}
_NAMEDTUPLE_CLASSES: dict[str, type] = {}


# ----------------------------------------------------------------------------- key paths

@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The position of a child in a tuple, list, deque or other sequence node.

    Examples
    --------
    >>> from flambeau.utils._pytree import SequenceKey
    >>> str(SequenceKey(1)), SequenceKey(1).get(["a", "b"])
    ('[1]', 'b')
    """

    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"

    def get(self, sequence):
        """The child of ``sequence`` this key names."""
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key of a child in a dict or other mapping node.

    Examples
    --------
    >>> from flambeau.utils._pytree import MappingKey
    >>> str(MappingKey("w")), MappingKey("w").get({"w": 3})
    ("['w']", 3)
    """

    key: Any

    def __str__(self):
        return f"[{self.key!r}]"

    def get(self, mapping):
        """The child of ``mapping`` this key names."""
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The attribute holding a child of a namedtuple or other object node.

    Examples
    --------
    >>> from collections import namedtuple
    >>> from flambeau.utils._pytree import GetAttrKey
    >>> Point = namedtuple("Point", "x y")
    >>> str(GetAttrKey("y")), GetAttrKey("y").get(Point(1, 2))
    ('.y', 2)
    """

    name: str

    def __str__(self):
        return f".{self.name}"

    def get(self, obj):
        """The child of ``obj`` this key names."""
        return getattr(obj, self.name)


def keystr(kp) -> str:
    """A key path as the Python source that reaches the leaf, ``"['a'][0].x"``.

    Examples
    --------
    >>> from flambeau.utils._pytree import MappingKey, SequenceKey, keystr
    >>> keystr((MappingKey("a"), SequenceKey(0)))
    "['a'][0]"
    """
    return "".join(str(k) for k in kp)


def key_get(obj, kp):
    """The part of ``obj`` at key path ``kp``.

    Examples
    --------
    >>> from flambeau.utils._pytree import MappingKey, SequenceKey, key_get
    >>> key_get({"a": [5, 6]}, (MappingKey("a"), SequenceKey(1)))
    6
    """
    for k in kp:
        obj = k.get(obj)
    return obj


# ----------------------------------------------------------------------------- TreeSpec

class TreeSpec:
    """The structure of a pytree without its leaves.

    ``type`` is the node's container type (None for a leaf, ``collections.namedtuple`` for
    every namedtuple), ``context`` what the container needs to be rebuilt besides its
    children (a dict's keys, a namedtuple's class, a deque's ``maxlen``) and
    ``children_specs`` the structures of its children. Two specs are equal when they
    describe the same structure; their ``repr`` is PyTorch's.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_structure
    >>> spec = tree_structure({"a": [1, 2], "b": 3})
    >>> spec
    TreeSpec(dict, ['a', 'b'], [TreeSpec(list, None, [*,
        *]),
      *])
    >>> spec.num_leaves, spec.num_nodes, spec.num_children
    (3, 5, 2)
    >>> spec == tree_structure({"a": [0, 0], "b": 0})
    True
    """

    __slots__ = ("type", "context", "children_specs", "num_nodes", "num_leaves",
                 "num_children")

    def __init__(self, type, context, children_specs):
        self.type = type
        self.context = context
        self.children_specs = children_specs = list(children_specs)
        self.num_children = len(children_specs)
        if type is None:
            self.num_nodes = self.num_leaves = 1
            return
        # one loop, not two sums over generators: every flatten builds a spec per node
        nodes, leaves = 1, 0
        for c in children_specs:
            nodes += c.num_nodes
            leaves += c.num_leaves
        self.num_nodes, self.num_leaves = nodes, leaves

    def is_leaf(self) -> bool:
        """Whether this spec stands for a single leaf."""
        return self.type is None

    def children(self) -> list:
        """The specs of the node's children."""
        return list(self.children_specs)

    def child(self, index: int) -> TreeSpec:
        """The spec of child ``index``."""
        return self.children_specs[index]

    def __eq__(self, other):
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (self.type is other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, _hashable(self.context), tuple(self.children_specs)))

    def __repr__(self):
        return self._repr(0)

    def _repr(self, indent):
        if self.type is None:
            return "*"
        name = self.type.__name__
        children = f",\n{' ' * (indent + 2)}".join(c._repr(indent + 2)
                                                   for c in self.children_specs)
        return f"TreeSpec({name}, {self.context}, [{children}])"

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` at the places of this spec's leaves.

        ``tree`` must have this spec's structure down to the spec's leaves; below them it
        may hold anything. Dicts match by keys, in any order.

        Examples
        --------
        >>> from flambeau.utils._pytree import tree_structure
        >>> tree_structure((0, 0)).flatten_up_to(([1, 2], {"k": 3}))
        [[1, 2], {'k': 3}]
        """
        out = []
        _flatten_up_to(self, tree, out)
        return out

    def unflatten(self, leaves) -> PyTree:
        """The pytree of this structure holding ``leaves``; see :func:`tree_unflatten`."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec "
                f"refers to a pytree that holds {self.num_leaves} items ({self!r}).")
        it = iter(leaves)
        return _build(self, it)


class LeafSpec(TreeSpec):
    """The :class:`TreeSpec` of a leaf (its ``repr`` is ``*``).

    Examples
    --------
    >>> from flambeau.utils._pytree import LeafSpec, tree_structure
    >>> LeafSpec(), LeafSpec() == tree_structure(3.5)
    (*, True)
    """

    __slots__ = ()

    def __init__(self):
        super().__init__(None, None, [])


_LEAF_SPEC = LeafSpec()


def _hashable(context):
    if isinstance(context, (list, tuple)):
        return tuple(_hashable(c) for c in context)
    try:
        hash(context)
    except TypeError:
        return repr(context)
    return context


# ----------------------------------------------------------------------------- registry

def _register(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn=None,
              serialized_type_name=None, to_dumpable_context=None, from_dumpable_context=None):
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)
    if serialized_type_name is not None:
        SUPPORTED_SERIALIZED_TYPES[cls] = _SerializeNodeDef(
            cls, serialized_type_name, to_dumpable_context, from_dumpable_context)
        SERIALIZED_TYPE_TO_PYTHON_TYPE[serialized_type_name] = cls


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None) -> None:
    """Make instances of ``cls`` pytree nodes.

    Parameters
    ----------
    cls : type
        The container type (exact type: subclasses are not covered).
    flatten_fn : callable
        ``flatten_fn(obj) -> (children, context)``: the children as a list and whatever
        else rebuilding needs (it must compare with ``==``).
    unflatten_fn : callable
        ``unflatten_fn(children, context) -> obj``.
    serialized_type_name : str, optional
        The name :func:`treespec_dumps` writes for ``cls``; without it, specs holding
        ``cls`` cannot be dumped.
    to_dumpable_context, from_dumpable_context : callable, optional
        Turn the context into a JSON-able value and back (default: the context goes through
        ``json.dumps``/``json.loads``).
    flatten_with_keys_fn : callable, optional
        ``flatten_with_keys_fn(obj) -> ([(key, child), ...], context)``, the keys being
        :class:`SequenceKey`, :class:`MappingKey` or :class:`GetAttrKey`, for
        :func:`tree_flatten_with_path`.

    Examples
    --------
    >>> from flambeau.utils._pytree import register_pytree_node, tree_flatten, tree_map
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ([p.a, p.b], None),
    ...                      lambda children, ctx: Pair(*children))
    >>> tree_flatten([Pair(1, 2), 3])[0]
    [1, 2, 3]
    >>> tree_map(lambda v: v * 10, Pair(1, 2)).b
    20
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_pytree_node: cls must be a type, got {cls!r}")
    if (to_dumpable_context is None) != (from_dumpable_context is None):
        raise ValueError("register_pytree_node: to_dumpable_context and "
                         "from_dumpable_context must be given together")
    _register(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn, serialized_type_name,
              to_dumpable_context, from_dumpable_context)


def register_dataclass(cls, *, field_names=None, drop_field_names=None,
                       serialized_type_name=None) -> None:
    """Make a dataclass (or a class built from keyword arguments) a pytree node.

    Its children are the fields ``field_names`` (default: the dataclass's ``__init__``
    fields less ``drop_field_names``), in order; a field holding None is kept in the
    spec instead of being a child, as PyTorch does. The node is rebuilt with
    ``cls(**fields)``.

    Examples
    --------
    >>> import dataclasses
    >>> from flambeau.utils._pytree import register_dataclass, tree_flatten, tree_map
    >>> @dataclasses.dataclass
    ... class Batch:
    ...     x: list
    ...     mask: object = None
    >>> register_dataclass(Batch)
    >>> tree_flatten(Batch([1, 2]))
    ([1, 2], TreeSpec(Batch, [['x'], ['mask']], [TreeSpec(list, None, [*,
        *])]))
    >>> tree_map(lambda v: v * 10, Batch([1, 2], mask=3))
    Batch(x=[10, 20], mask=30)
    """
    if field_names is None:
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"register_dataclass: field_names must be specified with a list "
                             f"of all fields used to initialize {cls}, as it is not a "
                             "dataclass.")
        drop = set(drop_field_names or ())
        field_names = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in drop]
    elif dataclasses.is_dataclass(cls):
        # a field left out would be dropped from every rebuilt object: refuse it, as PyTorch
        init = {f.name for f in dataclasses.fields(cls) if f.init} - set(drop_field_names or ())
        missing, unexpected = init - set(field_names), set(field_names) - init
        if missing or unexpected:
            raise ValueError(
                f"register_dataclass: field_names must list the fields that initialize {cls} "
                f"less drop_field_names; missing: {sorted(missing)}, unexpected: "
                f"{sorted(unexpected)}")
    names = list(field_names)

    def split(obj):
        present = [n for n in names if getattr(obj, n) is not None]
        return present, [n for n in names if getattr(obj, n) is None]

    def flatten(obj):
        present, none = split(obj)
        return [getattr(obj, n) for n in present], [present, none]

    def flatten_with_keys(obj):
        present, none = split(obj)
        return [(GetAttrKey(n), getattr(obj, n)) for n in present], [present, none]

    def unflatten(values, context):
        present, none = context
        return cls(**dict(zip(present, values)), **dict.fromkeys(none))

    register_pytree_node(cls, flatten, unflatten, serialized_type_name=serialized_type_name,
                         flatten_with_keys_fn=flatten_with_keys)


def is_namedtuple(obj) -> bool:
    """Whether ``obj`` is a namedtuple class or instance.

    Examples
    --------
    >>> from collections import namedtuple
    >>> from flambeau.utils._pytree import is_namedtuple
    >>> Point = namedtuple("Point", "x y")
    >>> is_namedtuple(Point), is_namedtuple(Point(1, 2)), is_namedtuple((1, 2))
    (True, True, False)
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def _register_namedtuple(cls, *, serialized_type_name: str) -> None:
    """Name the namedtuple class ``cls`` for :func:`treespec_dumps`/:func:`treespec_loads`."""
    _NAMEDTUPLE_NAMES[cls] = serialized_type_name
    _NAMEDTUPLE_CLASSES[serialized_type_name] = cls


def _node_def(tree):
    """The :class:`NodeDef` of ``tree``'s type (a namedtuple's unless its class is registered
    itself), None for a leaf. On the path of every flatten: one dict lookup for most values.
    """
    cls = type(tree)
    node = SUPPORTED_NODES.get(cls)
    if node is None and issubclass(cls, tuple) and is_namedtuple(cls):
        return SUPPORTED_NODES[namedtuple]
    return node


def _node_type(tree):
    """The registry key of ``tree``: its type, ``namedtuple`` for any namedtuple."""
    node = _node_def(tree)
    return type(tree) if node is None else node.type


def tree_is_leaf(tree, is_leaf=None) -> bool:
    """Whether ``tree`` is a leaf (not a registered container, or ``is_leaf(tree)``).

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_is_leaf
    >>> tree_is_leaf(None), tree_is_leaf([]), tree_is_leaf((1,), is_leaf=lambda t: True)
    (True, False, True)
    """
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_def(tree) is None


# the built-in node types

def _seq_keys(children):
    return [(SequenceKey(i), c) for i, c in enumerate(children)]


def _dict_keys(keys, children):
    return [(MappingKey(k), c) for k, c in zip(keys, children)]


_register(tuple, lambda t: (list(t), None), lambda v, ctx: tuple(v),
          lambda t: (_seq_keys(t), None), "builtins.tuple")
_register(list, lambda t: (list(t), None), lambda v, ctx: list(v),
          lambda t: (_seq_keys(t), None), "builtins.list")
_register(dict, lambda d: (list(d.values()), list(d)), lambda v, ctx: dict(zip(ctx, v)),
          lambda d: (_dict_keys(d, d.values()), list(d)), "builtins.dict")
_register(OrderedDict, lambda d: (list(d.values()), list(d)),
          lambda v, ctx: OrderedDict(zip(ctx, v)),
          lambda d: (_dict_keys(d, d.values()), list(d)), "collections.OrderedDict")


def _namedtuple_dump(cls):
    name = _NAMEDTUPLE_NAMES.get(cls)
    if name is None:
        raise NotImplementedError(
            f"Can't serialize TreeSpec of namedtuple class {cls} because we didn't register "
            "a serializated_type_name. Please register using `_register_namedtuple`.")
    return name


def _namedtuple_load(name):
    if name not in _NAMEDTUPLE_CLASSES:
        raise ValueError(f"treespec_loads: no namedtuple class is registered as {name!r}; "
                         "register it with _register_namedtuple first")
    return _NAMEDTUPLE_CLASSES[name]


_register(namedtuple, lambda t: (list(t), type(t)), lambda v, cls: cls(*v),
          lambda t: ([(GetAttrKey(f), c) for f, c in zip(t._fields, t)], type(t)),
          "collections.namedtuple", _namedtuple_dump, _namedtuple_load)


def _defaultdict_dump(ctx):
    factory, keys = ctx
    return {"default_factory_module": factory.__module__,
            "default_factory_name": factory.__qualname__, "dict_context": keys}


def _defaultdict_load(dumped):
    module = importlib.import_module(dumped["default_factory_module"])
    factory = getattr(module, dumped["default_factory_name"])
    return [factory, dumped["dict_context"]]


_register(defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d)]),
          lambda v, ctx: defaultdict(ctx[0], zip(ctx[1], v)),
          lambda d: (_dict_keys(d, d.values()), [d.default_factory, list(d)]),
          "collections.defaultdict", _defaultdict_dump, _defaultdict_load)
_register(deque, lambda d: (list(d), d.maxlen), lambda v, maxlen: deque(v, maxlen=maxlen),
          lambda d: (_seq_keys(d), d.maxlen), "collections.deque")


# ----------------------------------------------------------------------------- flatten

def _flatten(tree, is_leaf, leaves):
    node = None if is_leaf is not None and is_leaf(tree) else _node_def(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF_SPEC
    children, context = node.flatten_fn(tree)
    return TreeSpec(node.type, context, [_flatten(c, is_leaf, leaves) for c in children])


def _build(spec, it):
    if spec.type is None:
        return next(it)
    children = [_build(c, it) for c in spec.children_specs]
    return SUPPORTED_NODES[spec.type].unflatten_fn(children, spec.context)


def tree_flatten(tree, is_leaf=None):
    """The leaves of ``tree``, left to right, and its :class:`TreeSpec`.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        ``is_leaf(subtree) -> bool``: True stops the walk there, making the subtree a leaf.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_flatten
    >>> leaves, spec = tree_flatten([1, (2, 3)])
    >>> leaves
    [1, 2, 3]
    >>> tree_flatten([1, (2, 3)], is_leaf=lambda t: isinstance(t, tuple))[0]
    [1, (2, 3)]
    """
    leaves = []
    spec = _flatten(tree, is_leaf, leaves)
    return leaves, spec


def tree_unflatten(leaves, treespec):
    """The pytree of structure ``treespec`` holding ``leaves``, the inverse of
    :func:`tree_flatten`.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_structure, tree_unflatten
    >>> tree_unflatten(["a", "b"], tree_structure((0, [0])))
    ('a', ['b'])
    """
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten: expected `treespec` to be a TreeSpec but got an "
                        f"item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    """The leaves of ``tree``, left to right, one at a time.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_iter
    >>> next(tree_iter({"a": [7, 8]}))
    7
    """
    node = None if is_leaf is not None and is_leaf(tree) else _node_def(tree)
    if node is None:
        yield tree
        return
    children, _ = node.flatten_fn(tree)
    for child in children:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf=None) -> list:
    """The leaves of ``tree``, left to right.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_leaves
    >>> tree_leaves({"w": [1, 2], "b": (3,)})
    [1, 2, 3]
    """
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf=None) -> TreeSpec:
    """The :class:`TreeSpec` of ``tree``.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_structure
    >>> tree_structure((1, [2]))
    TreeSpec(tuple, None, [*,
      TreeSpec(list, None, [*])])
    """
    return tree_flatten(tree, is_leaf)[1]


_DICT_TYPES = (dict, OrderedDict, defaultdict)


def _flatten_up_to(spec, tree, out):
    if spec.type is None:
        out.append(tree)
        return
    kind = _node_type(tree)
    # the dict types stand in for each other, as PyTorch lets them
    is_dict = kind in _DICT_TYPES and spec.type in _DICT_TYPES
    if kind is not spec.type and not is_dict:
        raise ValueError(f"Node type mismatch; expected {spec.type}, but got {kind}.")
    children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
    if len(children) != spec.num_children:
        raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got "
                         f"{len(children)}.")
    if is_dict:
        keys = list(tree)
        expected = spec.context[1] if spec.type is defaultdict else spec.context
        if set(keys) != set(expected):
            missing = set(expected) - set(keys)
            extra = set(keys) - set(expected)
            raise ValueError(f"Node keys mismatch; missing key(s): {missing or '{}'}; "
                             f"extra key(s): {extra or '{}'}.")
        # match by key: the spec's order decides
        children = [tree[k] for k in expected]
    elif kind is not deque and context != spec.context:  # a deque's maxlen may differ
        raise ValueError(f"Node context mismatch for node type {spec.type.__name__}; "
                         f"expected {spec.context!r}, but got {context!r}.")
    for child_spec, child in zip(spec.children_specs, children):
        _flatten_up_to(child_spec, child, out)


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree`` with ``func`` applied to every leaf.

    With more trees (``rests``), ``func`` takes one leaf of each: the other trees must have
    ``tree``'s structure, or hold whole subtrees where ``tree`` has leaves.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_map
    >>> tree_map(lambda v: v * 2, {"a": [1, 2], "b": 3})
    {'a': [2, 4], 'b': 6}
    >>> tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, leaves, *others))


def tree_map_(func, tree, *rests, is_leaf=None):
    """Call ``func`` on every leaf of ``tree`` (with the leaves of ``rests``) for its side
    effects, as :func:`tree_map` without building a new tree; returns ``tree``.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_map_
    >>> seen = []
    >>> _ = tree_map_(seen.append, [1, (2,)])
    >>> seen
    [1, 2]
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    for args in zip(leaves, *others):
        func(*args)
    return tree


def _leaf_predicate(type_or_types_or_pred):
    """``isinstance`` for a type, a tuple of types or a union; else the predicate itself."""
    spec = type_or_types_or_pred
    if isinstance(spec, (type, types.UnionType)) or (
            isinstance(spec, tuple) and all(isinstance(t, type) for t in spec)):
        return lambda x: isinstance(x, spec)
    if callable(spec):
        return spec
    raise TypeError(f"expected a type, a tuple of types or a predicate, got {spec!r}")


def map_only(type_or_types_or_pred):
    """Decorator: ``func`` applied only to values that are instances of the type(s) (or
    satisfy the predicate); other values pass through.

    Examples
    --------
    >>> from flambeau.utils._pytree import map_only
    >>> double_ints = map_only(int)(lambda v: v * 2)
    >>> double_ints(3), double_ints("x")
    (6, 'x')
    """
    pred = _leaf_predicate(type_or_types_or_pred)

    def decorate(func):
        def wrapped(x):
            return func(x) if pred(x) else x
        wrapped.__wrapped__ = func
        return wrapped

    return decorate


def tree_map_only(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """``tree`` with ``func`` applied to the leaves of the given type(s) (or that satisfy a
    predicate), other leaves unchanged.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_map_only
    >>> tree_map_only(int, lambda v: v * 10, [1, 2.0, "x", (3,)])
    [10, 2.0, 'x', (30,)]
    """
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """:func:`tree_map_` on the leaves of the given type(s) (or that satisfy a predicate).

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_map_only_
    >>> seen = []
    >>> _ = tree_map_only_(str, seen.append, [1, "a", ("b",)])
    >>> seen
    ['a', 'b']
    """
    return tree_map_(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def treespec_leaf() -> LeafSpec:
    """The spec of a leaf, ``*``.

    Examples
    --------
    >>> from flambeau.utils._pytree import treespec_leaf
    >>> treespec_leaf()
    *
    """
    return LeafSpec()


def treespec_tuple(iterable=(), /) -> TreeSpec:
    """The spec of a tuple whose children have the specs ``iterable``.

    Examples
    --------
    >>> from flambeau.utils._pytree import treespec_leaf, treespec_tuple
    >>> treespec_tuple([treespec_leaf(), treespec_leaf()])
    TreeSpec(tuple, None, [*,
      *])
    """
    return TreeSpec(tuple, None, list(iterable))


def treespec_dict(mapping=(), /, **kwargs) -> TreeSpec:
    """The spec of a dict whose values have the given specs (arguments as ``dict()``'s).

    Examples
    --------
    >>> from flambeau.utils._pytree import treespec_dict, treespec_leaf
    >>> treespec_dict(a=treespec_leaf())
    TreeSpec(dict, ['a'], [*])
    """
    d = dict(mapping, **kwargs)
    return TreeSpec(dict, list(d), list(d.values()))


def tree_all(pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for every leaf (True for a tree without leaves).

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_all
    >>> tree_all(lambda v: v > 0, [1, (2, 3)]), tree_all(lambda v: v > 0, [])
    (True, True)
    """
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for some leaf (False for a tree without leaves).

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_any
    >>> tree_any(lambda v: v < 0, [1, (2, -3)])
    True
    """
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, /, pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for every leaf of the given type(s); others are skipped.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_all_only
    >>> tree_all_only(int, lambda v: v > 0, [1, -2.0, "x"])
    True
    """
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, /, pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for some leaf of the given type(s); others are skipped.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_any_only
    >>> tree_any_only(int, lambda v: v < 0, [1, -2.0])
    False
    """
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


# ----------------------------------------------------------------------------- paths

def _flatten_with_path(tree, is_leaf, path, out):
    if tree_is_leaf(tree, is_leaf):
        out.append((path, tree))
        return _LEAF_SPEC
    kind = _node_type(tree)
    node = SUPPORTED_NODES[kind]
    if node.flatten_with_keys_fn is None:
        raise ValueError(
            f"Did not find a flatten_with_keys_fn for type: {kind}. Please pass a "
            "flatten_with_keys_fn argument to register_pytree_node.")
    keyed, context = node.flatten_with_keys_fn(tree)
    return TreeSpec(kind, context, [_flatten_with_path(c, is_leaf, (*path, k), out)
                                    for k, c in keyed])


def tree_flatten_with_path(tree, is_leaf=None):
    """``([(key_path, leaf), ...], treespec)``: :func:`tree_flatten` with each leaf's key
    path, a tuple of :class:`SequenceKey`, :class:`MappingKey` and :class:`GetAttrKey`.

    Examples
    --------
    >>> from flambeau.utils._pytree import keystr, tree_flatten_with_path
    >>> pairs, spec = tree_flatten_with_path({"a": [1, 2]})
    >>> pairs[1]
    ((MappingKey(key='a'), SequenceKey(idx=1)), 2)
    >>> [keystr(path) for path, _ in pairs]
    ["['a'][0]", "['a'][1]"]
    """
    out = []
    spec = _flatten_with_path(tree, is_leaf, (), out)
    return out, spec


def tree_leaves_with_path(tree, is_leaf=None) -> list:
    """``[(key_path, leaf), ...]``, the first part of :func:`tree_flatten_with_path`.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_leaves_with_path
    >>> tree_leaves_with_path((5,))
    [((SequenceKey(idx=0),), 5)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """:func:`tree_map` where ``func`` also gets each leaf's key path first.

    Examples
    --------
    >>> from flambeau.utils._pytree import keystr, tree_map_with_path
    >>> tree_map_with_path(lambda kp, v: f"{keystr(kp)}={v}", {"w": (1, 2)})
    {'w': ("['w'][0]=1", "['w'][1]=2")}
    """
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(kp, v, *o) for (kp, v), *o in zip(pairs, *others))


# ----------------------------------------------------------------------------- JSON

def _spec_to_json(spec):
    if spec.type is None:
        return {"type": None, "context": None, "children_spec": []}
    ser = SUPPORTED_SERIALIZED_TYPES.get(spec.type)
    if ser is None:
        raise NotImplementedError(
            f"No registered serialization name for {spec.type} found. Please update your "
            "register_pytree_node call with a `serialized_type_name` kwarg.")
    if ser.to_dumpable_context is None:
        try:
            context = json.dumps(spec.context)
        except TypeError as e:
            raise TypeError(
                f"treespec_dumps: the context of {spec.type.__name__} is not JSON "
                f"serializable ({e}); pass to_dumpable_context/from_dumpable_context to "
                "register_pytree_node") from None
    else:
        context = ser.to_dumpable_context(spec.context)
    return {"type": ser.serialized_type_name, "context": context,
            "children_spec": [_spec_to_json(c) for c in spec.children_specs]}


def _json_to_spec(obj):
    if obj["type"] is None:
        return _LEAF_SPEC
    name = obj["type"]
    if name not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
        raise NotImplementedError(
            f"treespec_loads: no pytree node type is registered under the serialized name "
            f"{name!r}; register it with register_pytree_node(..., "
            "serialized_type_name=...) first")
    kind = SERIALIZED_TYPE_TO_PYTHON_TYPE[name]
    ser = SUPPORTED_SERIALIZED_TYPES[kind]
    if ser.from_dumpable_context is None:
        context = json.loads(obj["context"])
    else:
        context = ser.from_dumpable_context(obj["context"])
    return TreeSpec(kind, context, [_json_to_spec(c) for c in obj["children_spec"]])


def _check_protocol(protocol):
    if protocol != DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: "
                         f"[{DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL}]")


def treespec_dumps(treespec, protocol=None) -> str:
    """``treespec`` as a JSON string (PyTorch's format: it reads what this writes).

    Node types are written under their ``serialized_type_name``; a namedtuple class must
    be named with ``_register_namedtuple`` first. No pickle is involved.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_structure, treespec_dumps, treespec_loads
    >>> spec = tree_structure([1, None])
    >>> treespec_dumps(spec)
    '[1, {"type": "builtins.list", "context": "null", "children_spec": [{"type": null, "context": null, "children_spec": []}, {"type": null, "context": null, "children_spec": []}]}]'
    >>> treespec_loads(treespec_dumps(spec)) == spec
    True
    """  # noqa: E501
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"treespec_dumps: expected a TreeSpec, got {type(treespec)}")
    protocol = DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL if protocol is None else protocol
    _check_protocol(protocol)
    return json.dumps([protocol, _spec_to_json(treespec)])


def treespec_loads(serialized: str) -> TreeSpec:
    """The :class:`TreeSpec` written by :func:`treespec_dumps`.

    Examples
    --------
    >>> from flambeau.utils._pytree import treespec_loads
    >>> treespec_loads('[1, {"type": null, "context": null, "children_spec": []}]')
    *
    """
    protocol, obj = json.loads(serialized)
    _check_protocol(protocol)
    return _json_to_spec(obj)


class _Asterisk(str):
    def __repr__(self):
        return "*"


def treespec_pprint(treespec) -> str:
    """``treespec`` drawn as its pytree with ``*`` for each leaf.

    Examples
    --------
    >>> from flambeau.utils._pytree import tree_structure, treespec_pprint
    >>> treespec_pprint(tree_structure({"a": (1, [2]), "b": 3}))
    "{'a': (*, [*]), 'b': *}"
    """
    return repr(treespec.unflatten([_Asterisk("*")] * treespec.num_leaves))

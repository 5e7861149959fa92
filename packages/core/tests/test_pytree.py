"""flambeau.utils._pytree against torch.utils._pytree: leaves, specs, reprs, key paths, JSON."""

import dataclasses
import json
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau.utils import _pytree as fp

Point = namedtuple("Point", "x y")
Triple = namedtuple("Triple", "a b c")


def _nodes(children):
    """Containers of every built-in node type around generated children."""
    keys = st.sampled_from(["a", "b", "c", "w", 1, 2])
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.dictionaries(keys, children, max_size=4).map(lambda d: OrderedDict(reversed(d.items()))),
        st.dictionaries(keys, children, max_size=3).map(lambda d: defaultdict(list, d)),
        st.lists(children, max_size=3).map(deque),
        st.tuples(children, children).map(lambda t: Point(*t)),
        st.tuples(children, children, children).map(lambda t: Triple(*t)),
    )


_LEAVES = st.one_of(st.integers(-5, 5), st.none(), st.text(max_size=2), st.floats(0, 1))
TREES = st.recursive(_LEAVES, _nodes, max_leaves=12)


@pytest.fixture(scope="module")
def tp():
    torch = pytest.importorskip("torch")
    return torch.utils._pytree


def _paths(pairs):
    return [(fp.keystr(kp), v) for kp, v in pairs]


@pytest.mark.parity
def test_parity_with_torch_on_random_trees(tp):
    @settings(max_examples=300, deadline=None)
    @given(TREES)
    def check(tree):
        leaves, spec = fp.tree_flatten(tree)
        t_leaves, t_spec = tp.tree_flatten(tree)
        assert leaves == t_leaves or repr(leaves) == repr(t_leaves)  # nan-free but floats
        assert repr(spec) == repr(t_spec)
        assert str(spec) == str(t_spec)
        assert (spec.num_leaves, spec.num_nodes, spec.num_children) == (
            t_spec.num_leaves, t_spec.num_nodes, t_spec.num_children)
        assert fp.treespec_pprint(spec) == tp.treespec_pprint(t_spec)
        rebuilt = fp.tree_unflatten(leaves, spec)
        assert repr(rebuilt) == repr(tree) and type(rebuilt) is type(tree)
        pairs, _ = fp.tree_flatten_with_path(tree)
        t_pairs, _ = tp.tree_flatten_with_path(tree)
        assert [fp.keystr(k) for k, _ in pairs] == [tp.keystr(k) for k, _ in t_pairs]
        assert [repr(k) for k, _ in pairs] == [repr(k) for k, _ in t_pairs]
        mapped = fp.tree_map(repr, tree)
        assert repr(mapped) == repr(tp.tree_map(repr, tree))
        if not any(isinstance(t, (Point, Triple)) for t in _subtrees(tree)):
            dumped = fp.treespec_dumps(spec)
            assert dumped == tp.treespec_dumps(t_spec)
            assert fp.treespec_loads(dumped) == spec
            assert repr(tp.treespec_loads(dumped)) == repr(t_spec)

    check()


def _subtrees(tree):
    yield tree
    if not fp.tree_is_leaf(tree):
        children, _ = fp.SUPPORTED_NODES[fp._node_type(tree)].flatten_fn(tree)
        for c in children:
            yield from _subtrees(c)


def test_none_is_a_leaf_and_dicts_keep_insertion_order():
    assert fp.tree_flatten(None) == ([None], fp.LeafSpec())
    leaves, spec = fp.tree_flatten({"b": 1, "a": None})
    assert leaves == [1, None]
    assert spec.context == ["b", "a"]
    assert spec != fp.tree_structure({"a": 1, "b": 1})


def test_dict_subclass_is_a_leaf_as_in_torch():
    class MyDict(dict):
        pass

    d = MyDict(a=1)
    assert fp.tree_leaves([d]) == [d]


def test_defaultdict_deque_namedtuple_round_trip():
    tree = [defaultdict(int, {"q": 1}), deque([2, 3], maxlen=5), Point(4, (5,))]
    leaves, spec = fp.tree_flatten(tree)
    assert leaves == [1, 2, 3, 4, 5]
    out = fp.tree_unflatten([10, 20, 30, 40, 50], spec)
    assert out[0].default_factory is int and out[0]["q"] == 10
    assert out[1].maxlen == 5 and list(out[1]) == [20, 30]
    assert out[2] == Point(40, (50,)) and type(out[2]) is Point


def test_tensors_are_leaves():
    x = flambeau.ones(2)
    out = fp.tree_map(lambda t: t * 3, {"w": x, "n": [x]})
    assert out["w"].cpu().numpy().tolist() == [3.0, 3.0]
    assert fp.tree_all_only(flambeau.Tensor, lambda t: t.shape == (2,), [x, 1])


@pytest.mark.parity
def test_map_family_matches_torch(tp):
    tree = [1, 2.0, "x", (3, None), {"k": -4}]
    for name in ("tree_all", "tree_any"):
        for pred in (lambda v: v is not None, lambda v: isinstance(v, int)):
            assert getattr(fp, name)(pred, tree) == getattr(tp, name)(pred, tree)
    for types in (int, (int, str), int | float):
        assert fp.tree_map_only(types, lambda v: v * 2, tree) == tp.tree_map_only(
            types, lambda v: v * 2, tree)
        assert fp.tree_all_only(types, bool, tree) == tp.tree_all_only(types, bool, tree)
        assert fp.tree_any_only(types, lambda v: v == 3, tree) == tp.tree_any_only(
            types, lambda v: v == 3, tree)
    pred = lambda v: v == 2.0  # noqa: E731
    assert fp.tree_map_only(pred, str, tree) == tp.tree_map_only(pred, str, tree)
    is_leaf = lambda t: isinstance(t, tuple)  # noqa: E731
    assert fp.tree_leaves(tree, is_leaf=is_leaf) == tp.tree_leaves(tree, is_leaf=is_leaf)
    assert fp.tree_map(lambda a, b: (a, b), [1, {"a": 2, "b": 3}], [[9], {"b": 5, "a": 6}]) == \
        tp.tree_map(lambda a, b: (a, b), [1, {"a": 2, "b": 3}], [[9], {"b": 5, "a": 6}])
    fn = lambda kp, v, w: (fp.keystr(kp), v, w)  # noqa: E731
    t_fn = lambda kp, v, w: (tp.keystr(kp), v, w)  # noqa: E731
    assert fp.tree_map_with_path(fn, {"a": Point(1, [2])}, {"a": Point(3, [4])}) == \
        tp.tree_map_with_path(t_fn, {"a": Point(1, [2])}, {"a": Point(3, [4])})
    assert fp.tree_all(bool, []) is True and fp.tree_any(bool, []) is False


def test_key_types():
    assert str(fp.SequenceKey(2)) == "[2]" and repr(fp.SequenceKey(2)) == "SequenceKey(idx=2)"
    assert str(fp.MappingKey("a")) == "['a']" and str(fp.MappingKey(1)) == "[1]"
    assert str(fp.GetAttrKey("x")) == ".x"
    tree = {"a": [Point(1, 2)]}
    for kp, leaf in fp.tree_leaves_with_path(tree):
        assert fp.key_get(tree, kp) == leaf
    assert fp.keystr(()) == ""
    assert fp.tree_leaves_with_path(7) == [((), 7)]


def test_structure_mismatch_errors():
    with pytest.raises(ValueError, match=r"Node arity mismatch; expected 2, but got 1\."):
        fp.tree_map(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError, match=r"Node type mismatch; expected <class 'list'>, but "
                                         r"got <class 'tuple'>\."):
        fp.tree_map(lambda a, b: a, [1, 2], (1, 2))
    with pytest.raises(ValueError, match=r"Node keys mismatch; missing key\(s\): \{'a'\}; extra "
                                         r"key\(s\): \{'b'\}\."):
        fp.tree_map(lambda a, b: a, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match=r"Node context mismatch for node type namedtuple; "
                                         r"expected <class '.*Point'>, but got <class"):
        fp.tree_map(lambda a, b: a, Point(1, 2), namedtuple("Other", "x y")(1, 2))
    spec = fp.tree_structure([1, 2])
    with pytest.raises(ValueError, match=r"treespec.unflatten\(leaves\): `leaves` has length 1 "
                                         r"but the spec refers to a pytree that holds 2 items"):
        fp.tree_unflatten([1], spec)
    with pytest.raises(TypeError, match=r"tree_unflatten: expected `treespec` to be a TreeSpec "
                                        r"but got an item of type <class 'int'>"):
        fp.tree_unflatten([1], 5)


def test_dict_types_stand_in_for_each_other():
    out = fp.tree_map(lambda a, b: a + b, OrderedDict(a=1, b=2), {"b": 10, "a": 20})
    assert out == OrderedDict(a=21, b=12) and type(out) is OrderedDict
    # a deque's maxlen is not part of the match
    assert list(fp.tree_map(lambda a, b: b, deque([1], maxlen=3), deque([5]))) == [5]


class _Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


class _Box:
    def __init__(self, v, tag):
        self.v, self.tag = v, tag


fp.register_pytree_node(_Pair, lambda p: ([p.a, p.b], None), lambda c, ctx: _Pair(*c))
fp.register_pytree_node(
    _Box, lambda b: ([b.v], b.tag), lambda c, tag: _Box(c[0], tag),
    serialized_type_name="tests.Box",
    flatten_with_keys_fn=lambda b: ([(fp.GetAttrKey("v"), b.v)], b.tag))


def test_register_pytree_node():
    leaves, spec = fp.tree_flatten([_Pair(1, [2]), _Box(3, "t")])
    assert leaves == [1, 2, 3]
    assert repr(spec) == ("TreeSpec(list, None, [TreeSpec(_Pair, None, [*,\n    "
                          "TreeSpec(list, None, [*])]),\n  TreeSpec(_Box, t, [*])])")
    out = fp.tree_unflatten([4, 5, 6], spec)
    assert (out[0].a, out[0].b, out[1].v, out[1].tag) == (4, [5], 6, "t")
    assert [fp.keystr(k) for k, _ in fp.tree_leaves_with_path(_Box(7, "u"))] == [".v"]
    box_spec = fp.tree_structure(_Box(1, "ctx"))
    dumped = fp.treespec_dumps(box_spec)
    assert json.loads(dumped)[1]["type"] == "tests.Box"
    assert json.loads(dumped)[1]["context"] == '"ctx"'
    assert fp.treespec_loads(dumped) == box_spec
    with pytest.raises(ValueError, match=r"Node context mismatch for node type _Box; expected "
                                         r"'a', but got 'b'\."):
        fp.tree_map(lambda x, y: x, _Box(1, "a"), _Box(1, "b"))


def test_register_errors():
    with pytest.raises(ValueError, match=r"<class 'list'> is already registered as pytree node"):
        fp.register_pytree_node(list, list, list)
    with pytest.raises(TypeError, match=r"register_pytree_node: cls must be a type, got 3"):
        fp.register_pytree_node(3, list, list)
    with pytest.raises(ValueError, match=r"to_dumpable_context and from_dumpable_context must "
                                         r"be given together"):
        fp.register_pytree_node(type("T", (), {}), list, list, to_dumpable_context=str)
    with pytest.raises(ValueError, match=r"Did not find a flatten_with_keys_fn for type: "
                                         r"<class '.*_Pair'>\. Please pass"):
        fp.tree_flatten_with_path(_Pair(1, 2))
    with pytest.raises(NotImplementedError, match=r"No registered serialization name for "
                                                  r"<class '.*_Pair'> found"):
        fp.treespec_dumps(fp.tree_structure(_Pair(1, 2)))


def test_json_errors_and_namedtuple_registration():
    spec = fp.tree_structure(Point(1, 2))
    with pytest.raises(NotImplementedError, match=r"Can't serialize TreeSpec of namedtuple "
                                                  r"class <class '.*Point'>"):
        fp.treespec_dumps(spec)
    fp._register_namedtuple(Point, serialized_type_name="tests.Point")
    dumped = fp.treespec_dumps(spec)
    assert json.loads(dumped)[1]["context"] == "tests.Point"
    assert fp.treespec_loads(dumped) == spec
    with pytest.raises(ValueError, match=r"no namedtuple class is registered as 'nope'"):
        fp.treespec_loads(dumped.replace("tests.Point", "nope"))
    with pytest.raises(ValueError, match=r"Unknown protocol 2\. Available protocols: \[1\]"):
        fp.treespec_dumps(spec, protocol=2)
    with pytest.raises(ValueError, match=r"Unknown protocol 2\. Available protocols: \[1\]"):
        fp.treespec_loads('[2, {"type": null, "context": null, "children_spec": []}]')
    with pytest.raises(NotImplementedError, match=r"no pytree node type is registered under the "
                                                  r"serialized name 'foo\.Bar'"):
        fp.treespec_loads('[1, {"type": "foo.Bar", "context": "null", "children_spec": []}]')
    with pytest.raises(TypeError, match=r"treespec_dumps: expected a TreeSpec, got <class "
                                        r"'list'>"):
        fp.treespec_dumps([1])
    with pytest.raises(TypeError, match=r"treespec_dumps: the context of _Box is not JSON "
                                        r"serializable"):
        fp.treespec_dumps(fp.tree_structure(_Box(1, object())))
    with pytest.raises(TypeError, match=r"expected a type, a tuple of types or a predicate, "
                                        r"got 3"):
        fp.tree_map_only(3, str, [1])


@pytest.mark.parity
def test_torch_reads_our_json_and_we_read_torchs(tp):
    tree = {"a": [1, (2, None)], "b": OrderedDict(z=3), "c": defaultdict(list, q=4),
            "d": deque([5], maxlen=2)}
    spec = fp.tree_structure(tree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_spec = tp.tree_structure(tree)
    assert repr(tp.treespec_loads(fp.treespec_dumps(spec))) == repr(t_spec)
    assert fp.treespec_loads(tp.treespec_dumps(t_spec)) == spec


def test_treespec_methods():
    spec = fp.tree_structure({"a": (1, [2]), "b": 3})
    assert spec.children()[1] == fp.LeafSpec() and spec.child(0).type is tuple
    assert spec.flatten_up_to({"a": ([7, 8], ["x"]), "b": {"deep": 1}}) == [[7, 8], "x",
                                                                          {"deep": 1}]
    assert hash(spec) == hash(fp.tree_structure({"a": (0, [0]), "b": 0}))
    assert not spec.is_leaf() and fp.LeafSpec().is_leaf()
    assert fp.treespec_pprint(spec) == "{'a': (*, [*]), 'b': *}"
    seen = []
    assert fp.tree_map_(seen.append, [1, (2,)]) == [1, (2,)] and seen == [1, 2]
    assert list(fp.tree_iter([1, [2, [3]]])) == [1, 2, 3]
    double = fp.map_only(int)(lambda v: v * 2)
    assert (double(3), double("s")) == (6, "s")


def test_func_uses_the_same_pytrees():
    from flambeau.func import vmap

    out = vmap(lambda d: {"s": d["x"] * 2}, in_dims=({"x": 0},))({"x": flambeau.ones(3, 2)})
    assert out["s"].cpu().numpy().tolist() == [[2.0, 2.0]] * 3


@dataclasses.dataclass
class _Batch:
    x: list
    mask: object = None
    cache: int = dataclasses.field(default=0)


@dataclasses.dataclass
class _TBatch:  # the same class for torch's registry
    x: list
    mask: object = None
    cache: int = dataclasses.field(default=0)


fp.register_dataclass(_Batch, serialized_type_name="tests.Batch")


@pytest.mark.parity
def test_register_dataclass_matches_torch(tp):
    tp.register_dataclass(_TBatch, serialized_type_name="tests.TBatch")
    for args in (([1, 2],), ([1], 3), ([], None)):
        leaves, spec = fp.tree_flatten(_Batch(*args))
        t_leaves, t_spec = tp.tree_flatten(_TBatch(*args))
        assert leaves == t_leaves
        assert repr(spec).replace("_Batch", "_TBatch") == repr(t_spec)
        assert fp.treespec_dumps(spec).replace("tests.Batch", "tests.TBatch") == \
            tp.treespec_dumps(t_spec)
        assert fp.tree_unflatten(leaves, spec) == _Batch(*args)
        assert [fp.keystr(k) for k, _ in fp.tree_leaves_with_path(_Batch(*args))] == \
            [tp.keystr(k) for k, _ in tp.tree_leaves_with_path(_TBatch(*args))]
    assert fp.treespec_loads(fp.treespec_dumps(fp.tree_structure(_Batch([1])))) == \
        fp.tree_structure(_Batch([1]))
    assert repr(fp.treespec_tuple([fp.treespec_leaf()] * 2)) == repr(
        tp.treespec_tuple([tp.treespec_leaf()] * 2))
    assert repr(fp.treespec_dict({"a": fp.treespec_leaf()}, b=fp.treespec_leaf())) == repr(
        tp.treespec_dict({"a": tp.treespec_leaf()}, b=tp.treespec_leaf()))
    assert fp.treespec_dict(a=fp.treespec_leaf()) == fp.tree_structure({"a": 0})
    for obj in (Point, Point(1, 2), (1, 2), _Batch):
        assert fp.is_namedtuple(obj) == tp.is_namedtuple(obj)


def test_register_dataclass_errors_and_map_only_():
    with pytest.raises(ValueError, match=r"register_dataclass: field_names must be specified "
                                         r"with a list of all fields used to initialize <class "
                                         r"'int'>, as it is not a dataclass\."):
        fp.register_dataclass(int)

    class Plain:
        def __init__(self, a):
            self.a = a

    fp.register_dataclass(Plain, field_names=["a"])
    assert fp.tree_map(lambda v: v + 1, Plain(1)).a == 2

    @dataclasses.dataclass
    class WithCache:
        x: int
        cache: int = 0

    @dataclasses.dataclass
    class Partial:
        x: int
        y: int = 0

    # a dataclass field missing from field_names would be lost on every rebuild
    with pytest.raises(ValueError, match=r"register_dataclass: field_names must list the fields "
                                         r"that initialize <class '.*Partial'> less "
                                         r"drop_field_names; missing: \['y'\], unexpected: "
                                         r"\['z'\]"):
        fp.register_dataclass(Partial, field_names=["x", "z"])
    assert Partial not in fp.SUPPORTED_NODES
    fp.register_dataclass(Partial, field_names=["x"], drop_field_names=["y"])
    assert fp.tree_map(lambda v: v + 1, Partial(1, 5)) == Partial(2, 0)

    # dropped as documented (torch's Python registry keeps it when field_names is not given)
    fp.register_dataclass(WithCache, drop_field_names=["cache"])
    assert fp.tree_leaves(WithCache(1, 5)) == [1]
    assert fp.tree_map(lambda v: v * 2, WithCache(1, 5)) == WithCache(2, 0)
    seen = []
    fp.tree_map_only_(str, seen.append, [1, "a", ("b",)])
    assert seen == ["a", "b"]

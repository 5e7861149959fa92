"""flambeau.utils.weak (identity-keyed weak dicts) and flambeau.utils.model_zoo."""

import copy
import gc

import pytest

import flambeau
from flambeau.utils import weak


def test_keys_compare_by_identity_not_value():
    a, b = flambeau.ones(2), flambeau.ones(2)
    d = weak.WeakTensorKeyDictionary()
    d[a] = 1
    d[b] = 2
    assert (d[a], d[b], len(d)) == (1, 2, 2)
    assert a in d and flambeau.ones(2) not in d and [1] not in d
    with pytest.raises(KeyError):
        d[flambeau.ones(2)]
    assert [k is a for k in d] == [True, False]
    assert d.get(flambeau.ones(2), "none") == "none"


def test_entries_die_with_their_keys():
    a, b = flambeau.ones(1), flambeau.zeros(1)
    d = weak.WeakIdKeyDictionary({a: "a", b: "b"})
    del a
    gc.collect()
    assert len(d) == 1 and list(d.values()) == ["b"] and list(d.keys())[0] is b
    assert len(d.keyrefs()) == 1


def test_collection_while_iterating_is_deferred():
    keys = [flambeau.ones(1) for _ in range(4)]
    d = weak.WeakIdKeyDictionary({k: i for i, k in enumerate(keys)})
    seen, sizes = [], []
    for k in d:
        seen.append(d[k])
        keys.clear()  # the keys die while the dict is being walked
        del k
        gc.collect()
        sizes.append((len(d), len(d.data)))
    # as torch's: the iteration skips the keys that died and does not keep them alive (only
    # the current one); their entries stay (no dict change during the walk) until it ends
    assert seen == [0] and sizes == [(1, 4)]
    assert len(d.data) == 0 and list(d.items()) == []


def test_eq_and_ror_by_identity():
    class Unhashable:  # == without a hash, as Tensors' elementwise == is no identity
        __hash__ = None

        def __eq__(self, other):
            return True

    a, b = Unhashable(), Unhashable()
    d, e = weak.WeakIdKeyDictionary(), weak.WeakIdKeyDictionary()
    d[a] = e[a] = 1
    assert d == e and d != weak.WeakIdKeyDictionary([(b, 1)])
    x = flambeau.ones(1)
    merged = {x: 1} | weak.WeakIdKeyDictionary({x: 2})
    assert type(merged) is weak.WeakIdKeyDictionary and merged[x] == 2


def test_mutations_copy_and_or():
    a, b = flambeau.ones(1), flambeau.ones(1)
    d = weak.WeakIdKeyDictionary()
    d.setdefault(a, []).append(3)
    assert d[a] == [3]
    del d[a]
    assert a not in d
    with pytest.raises(KeyError):
        del d[a]
    d[a] = 1
    c = d.copy()
    c[b] = 2
    assert len(d) == 1 and len(c) == 2
    assert (d | {b: 5})[b] == 5 and b not in d
    d |= {b: 6}
    assert d[b] == 6
    deep = copy.deepcopy(weak.WeakIdKeyDictionary({a: [1]}))
    assert deep[a] == [1]
    assert repr(d).startswith("<WeakIdKeyDictionary at 0x")
    with pytest.raises(TypeError):
        d[[1]] = 2  # lists cannot be weakly referenced


def test_weak_id_ref():
    x = flambeau.ones(1)
    r1, r2 = weak.WeakIdRef(x), weak.WeakIdRef(x)
    assert r1 == r2 and hash(r1) == id(x) and r1() is x
    assert r1 != weak.WeakIdRef(flambeau.ones(1))


def test_tensor_weak_ref():
    x = flambeau.arange(3)
    ref = weak.TensorWeakRef(x)
    assert ref() is x
    del x
    gc.collect()
    assert ref() is None
    with pytest.raises(TypeError, match=r"TensorWeakRef: expected a flambeau.Tensor, got int"):
        weak.TensorWeakRef(3)


def test_matches_torch_weak_dict_behaviour():
    torch = pytest.importorskip("torch")
    from torch.utils import weak as tweak

    ours, theirs = weak.WeakTensorKeyDictionary(), tweak.WeakTensorKeyDictionary()
    fa, fb = flambeau.ones(1), flambeau.ones(1)
    ta, tb = torch.ones(1), torch.ones(1)
    for d, a, b in ((ours, fa, fb), (theirs, ta, tb)):
        d[a], d[b] = 1, 2
        d[a] += 10
        del b
    del fb, tb
    gc.collect()
    assert (len(ours), list(ours.values())) == (len(theirs), list(theirs.values()))


def test_model_zoo_load_url_is_hub_loader():
    from flambeau import hub
    from flambeau.utils import model_zoo

    assert model_zoo.load_url is hub.load_state_dict_from_url
    assert flambeau.utils.model_zoo is model_zoo


def test_load_url_reads_a_local_file(tmp_path):
    from flambeau.utils.model_zoo import load_url

    src = tmp_path / "w-0123abcd.pt"
    flambeau.save({"w": flambeau.arange(3.0)}, src)
    out = load_url(src.as_uri(), model_dir=str(tmp_path / "cache"))
    assert out["w"].cpu().numpy().tolist() == [0.0, 1.0, 2.0]

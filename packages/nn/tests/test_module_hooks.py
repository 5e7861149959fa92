"""Module state dict hooks, extra state, set_submodule, to_empty and legacy backward hooks."""

import numpy as np
import pytest

import flambeau
from flambeau import nn


def _net(lib):
    return lib.Sequential(lib.Linear(2, 3), lib.Sequential(lib.Linear(3, 1)))


def _record_load_hooks(net, calls):
    def pre(module, sd, prefix, md, strict, missing, unexpected, errors):
        calls.append(("pre", prefix, sorted(sd), strict, list(missing), list(unexpected)))

    def post(module, keys):
        calls.append(("post", type(module).__name__, list(keys.missing_keys),
                      list(keys.unexpected_keys)))

    handles = []
    for m in (net, net[1], net[1][0]):
        handles.append(m.register_load_state_dict_pre_hook(pre))
        handles.append(m.register_load_state_dict_post_hook(post))
    return handles


def _state(lib_tensor):
    return {"0.weight": lib_tensor(np.ones((3, 2), np.float32)), "x": lib_tensor(np.zeros(1)),
            "1.0.weight": lib_tensor(np.full((1, 3), 2, np.float32)),
            "1.0.y": lib_tensor(np.zeros(1))}


@pytest.mark.parity
def test_load_state_dict_hooks_calls_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, make in ((nn, flambeau.tensor), (torch.nn, torch.tensor)):
        net, calls = _net(lib), []
        _record_load_hooks(net, calls)
        keys = net.load_state_dict(_state(make), strict=False)
        results.append((calls, list(keys.missing_keys), list(keys.unexpected_keys),
                        net[1][0].weight.tolist()))
    assert results[0] == results[1]
    assert results[0][1] == ["0.bias", "1.0.bias"]
    assert results[0][2] == ["x", "1.0.y"]


def test_load_state_dict_hooks_removed_by_handle():
    net, calls = _net(nn), []
    for h in _record_load_hooks(net, calls):
        h.remove()
    net.load_state_dict(net.state_dict())
    assert calls == []


@pytest.mark.parity
def test_load_post_hook_edits_keys_like_torch():
    torch = pytest.importorskip("torch")
    for lib, make in ((nn, flambeau.tensor), (torch.nn, torch.tensor)):
        m = lib.Linear(2, 1)
        h = m.register_load_state_dict_post_hook(lambda mod, k: k.missing_keys.clear())
        keys = m.load_state_dict({"weight": make([[1.0, 2.0]])})
        assert repr(keys) == "<All keys matched successfully>"
        assert m.weight.tolist() == [[1.0, 2.0]]
        h.remove()
        m.register_load_state_dict_post_hook(lambda mod, k: k.unexpected_keys.append("zz"))
        with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"\. \n\t'
                                               r'Unexpected key\(s\) in state_dict: "zz"\.'):
            m.load_state_dict({"weight": make([[3.0, 4.0]])})


def test_load_post_hook_failure_restores_everything():
    m = nn.Linear(2, 1)
    w, b = m.weight.tolist(), m.bias.tolist()
    new = {"weight": flambeau.ones(1, 2), "bias": flambeau.ones(1)}
    m.register_load_state_dict_post_hook(lambda mod, k: k.missing_keys.append("nope"))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "nope"'):
        m.load_state_dict(new)
    assert m.weight.tolist() == w and m.bias.tolist() == b
    m2 = nn.Linear(2, 1)
    w2, p2 = m2.weight.tolist(), m2.weight

    def boom(mod, keys):
        raise ValueError("hook failed")

    m2.register_load_state_dict_post_hook(boom)
    with pytest.raises(ValueError, match="hook failed"):
        m2.load_state_dict(new, assign=True)
    assert m2.weight is p2 and m2.weight.tolist() == w2
    m3 = nn.Linear(2, 1)
    m3.register_load_state_dict_post_hook(lambda mod, k: 1)
    with pytest.raises(AssertionError, match="are not expected to return new values"):
        m3.load_state_dict(new)
    assert m3.weight.tolist() != [[1.0, 1.0]]


@pytest.mark.parity
def test_state_dict_hooks_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (nn, torch.nn):
        net, calls = _net(lib), []

        def pre(module, prefix, keep_vars, calls=calls):
            calls.append(("pre", prefix, keep_vars))

        def post(module, sd, prefix, md, calls=calls):
            calls.append(("post", prefix, list(sd), md))
            sd.pop(prefix + "bias", None)

        handles = [net[1].register_state_dict_pre_hook(pre),
                   net[1][0].register_state_dict_post_hook(post),
                   net.register_state_dict_post_hook(post)]
        sd = net.state_dict(prefix="r.", keep_vars=True)
        results.append((calls, list(sd)))
        for h in handles:
            h.remove()
        results.append(list(net.state_dict()))
    assert results[0] == results[2] and results[1] == results[3]
    assert results[0][1] == ["r.0.weight", "r.0.bias", "r.1.0.weight"]
    m = nn.Linear(1, 1)
    m.register_state_dict_post_hook(lambda *a: 1)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()


class _Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.steps = 0

    def get_extra_state(self):
        return {"steps": self.steps}

    def set_extra_state(self, state):
        if state["steps"] < 0:
            raise ValueError("negative steps")
        self.steps = state["steps"]


class _OnlyGet(nn.Module):
    def get_extra_state(self):
        return 5


@pytest.mark.parity
def test_extra_state_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Counter(lib.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.Linear(1, 1)
                self.steps = 0

            def get_extra_state(self):
                return {"steps": self.steps}

            def set_extra_state(self, state):
                self.steps = state["steps"]

        class OnlyGet(lib.Module):
            def get_extra_state(self):
                return 5

        return lib.Sequential(Counter()), OnlyGet()

    out = []
    for lib in (nn, torch.nn):
        net, only = build(lib)
        net[0].steps = 3
        sd = net.state_dict()
        keys = list(sd)
        fresh, _ = build(lib)
        fresh.load_state_dict(sd)
        missing = fresh.load_state_dict({}, strict=False)
        with pytest.raises(RuntimeError) as info:
            fresh.load_state_dict({k: v for k, v in sd.items() if k != "0._extra_state"})
        with pytest.raises(RuntimeError) as info2:
            only.load_state_dict(only.state_dict())
        out.append((keys, sd["0._extra_state"], fresh[0].steps, list(missing.missing_keys),
                    str(info.value).replace("torch", "flambeau"), str(info2.value)))
    assert out[0] == out[1]
    assert out[0][0] == ["0._extra_state", "0.fc.weight", "0.fc.bias"]
    assert out[0][1:4] == ({"steps": 3}, 3, ["0._extra_state", "0.fc.weight", "0.fc.bias"])
    assert 'Missing key(s) in state_dict: "0._extra_state"' in out[0][4]
    assert 'Unexpected key(s) in state_dict: "_extra_state"' in out[0][5]


def test_extra_state_failure_is_all_or_nothing():
    net = nn.Sequential(_Counter(), _Counter())
    net[0].steps, net[1].steps = 1, 2
    before = [p.tolist() for p in net.parameters()]
    src = nn.Sequential(_Counter(), _Counter())
    sd = src.state_dict()
    sd["0._extra_state"] = {"steps": 10}
    sd["1._extra_state"] = {"steps": -1}
    with pytest.raises(ValueError, match="negative steps"):
        net.load_state_dict(sd)
    assert [p.tolist() for p in net.parameters()] == before
    assert (net[0].steps, net[1].steps) == (1, 2)
    sd["1._extra_state"] = {"steps": 4}
    net.load_state_dict(sd)
    assert (net[0].steps, net[1].steps) == (10, 4)
    assert [p.tolist() for p in net.parameters()] == [p.tolist() for p in src.parameters()]


def test_pre_hook_error_loads_nothing():
    net = _net(nn)
    before = [p.tolist() for p in net.parameters()]

    def refuse(module, sd, prefix, md, strict, missing, unexpected, errors):
        errors.append("refused by hook")

    net[1][0].register_load_state_dict_pre_hook(refuse)
    net.register_load_state_dict_post_hook(lambda mod, keys: None)
    with pytest.raises(RuntimeError, match="refused by hook"):
        net.load_state_dict(_net(nn).state_dict())
    assert [p.tolist() for p in net.parameters()] == before


def test_default_extra_state_methods_raise():
    with pytest.raises(RuntimeError, match="Linear.get_extra_state\\(\\) was called"):
        nn.Linear(1, 1).get_extra_state()
    with pytest.raises(RuntimeError, match="Linear.set_extra_state\\(\\) was called"):
        nn.Linear(1, 1).set_extra_state(0)
    assert "_extra_state" not in nn.Linear(1, 1).state_dict()
    assert list(_OnlyGet().state_dict()) == ["_extra_state"]


@pytest.mark.parity
def test_set_submodule_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [("", "lin", False), ("a.b", "lin", False), ("0", 3, False), ("foo", "relu", False),
             ("new", "relu", True), ("0.weight", "relu", False), ("new", "relu", False),
             ("0", "relu", True)]
    for lib in (nn, torch.nn):
        got = []
        for target, what, strict in cases:
            s = lib.Sequential(lib.Linear(1, 1))
            s.foo = 3
            mod = {"lin": lib.Linear(1, 1), "relu": lib.ReLU()}.get(what, what)
            try:
                s.set_submodule(target, mod, strict=strict)
                got.append(("ok", [n for n, _ in s.named_children()],
                            type(s.get_submodule(target)).__name__))
            except (ValueError, AttributeError) as e:
                got.append((type(e).__name__, str(e)))
        if lib is nn:
            mine = got
    assert mine == got
    assert mine[0] == ("ValueError", "Cannot set the submodule without a target name!")
    assert mine[2] == ("ValueError", "`module` is not an nn.Module, found <class 'int'>")
    assert mine[4] == ("AttributeError", "Sequential has no attribute `new`")
    assert mine[5] == ("AttributeError", "`weight` is not an nn.Module")


def test_to_empty():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(net.parameters())
    shapes = [(t.shape, t.dtype) for t in net.state_dict().values()]
    out = net.to_empty(device="cpu")
    assert out is net and list(net.parameters()) == params  # same Parameter objects
    assert [(t.shape, t.dtype) for t in net.state_dict().values()] == shapes
    assert all(p.requires_grad for p in net.parameters())
    root = nn.Linear(1, 1)
    root.child = nn.Linear(1, 1)
    with flambeau.no_grad():
        root.child.weight.fill_(7.0)
    root.to_empty(device="cpu", recurse=False)  # the child keeps its storage and values
    assert root.child.weight.tolist() == [[7.0]] and root.weight.shape == (1, 1)


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch's own legacy-hook warning
def test_legacy_backward_hook_matches_torch_on_simple_modules():
    torch = pytest.importorskip("torch")
    got = []
    for lib, make in ((nn, flambeau.tensor), (torch.nn, torch.tensor)):
        m, seen = lib.Tanh(), []
        h = m.register_backward_hook(
            lambda mod, gi, go, seen=seen: seen.append((gi[0].tolist(), go[0].tolist())))
        x = make([0.5, -1.0], requires_grad=True)
        (m(x) * make([1.0, 2.0])).sum().backward()
        h.remove()
        m(x).sum().backward()
        got.append(np.array(seen[0][0] + seen[0][1]))
        assert len(seen) == 1
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and "
                                               "full backward hooks on a single Module"):
            m.register_full_backward_hook(lambda *a: None)
        m2 = lib.ReLU()
        m2.register_full_backward_hook(lambda *a: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
            m2.register_backward_hook(lambda *a: None)
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)

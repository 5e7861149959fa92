"""The state-dict protocol as torch's: ``_save_to_state_dict`` / ``_load_from_state_dict``
overrides, every state-dict hook (order and arguments), and a failed load changing nothing
even when an override runs its own code."""

import gc
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import flambeau
from flambeau import nn


def _libs():
    torch = pytest.importorskip("torch")
    return ((flambeau, nn), (torch, torch.nn))


def _versioned(lib, lib_nn):
    """A user's layer whose version 1 called its parameters "w" and "b"."""

    class Affine(lib_nn.Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.weight = lib_nn.Parameter(lib.zeros(1, 2))
            self.bias = lib_nn.Parameter(lib.zeros(1))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            version = local_metadata.get("version", None)
            if version is None or version < 2:
                for old, new in (("w", "weight"), ("b", "bias")):
                    if prefix + old in state_dict:
                        state_dict[prefix + new] = state_dict.pop(prefix + old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    return Affine


@pytest.mark.parity
def test_load_override_renames_old_keys_as_torch():
    out = []
    for lib, lib_nn in _libs():
        net = lib_nn.Sequential(lib_nn.Linear(2, 2), _versioned(lib, lib_nn)())
        old = OrderedDict([("0.weight", lib.ones(2, 2)), ("0.bias", lib.zeros(2)),
                           ("1.w", lib.full((1, 2), 3.0)), ("1.b", lib.full((1,), 4.0))])
        old._metadata = OrderedDict([("", {"version": 1}), ("0", {"version": 1}),
                                     ("1", {"version": 1})])
        keys = net.load_state_dict(old)
        loaded = (net[1].weight.detach().cpu().numpy().tolist(),
                  net[1].bias.detach().cpu().numpy().tolist())
        current = net.state_dict()
        versions = dict(current._metadata)
        # a current (version 2) dict with the old names is not renamed: the keys are reported
        current["1.w"] = current.pop("1.weight")
        with pytest.raises(RuntimeError) as info:
            net.load_state_dict(current)
        bare = OrderedDict(old)  # no metadata at all: the version is unknown, so renamed
        net.load_state_dict(bare)
        out.append((repr(keys), loaded, list(current), versions["1"],
                    str(info.value).replace("torch", "flambeau")))
    assert out[0] == out[1]
    assert out[0][1] == ([[3.0, 3.0]], [4.0]) and out[0][3] == {"version": 2}
    assert 'Missing key(s) in state_dict: "1.weight". ' in out[0][4]
    assert 'Unexpected key(s) in state_dict: "1.w". ' in out[0][4]


@pytest.mark.parity
def test_save_override_as_torch():
    out = []
    for lib, lib_nn in _libs():
        class Scaled(lib_nn.Linear):
            def _save_to_state_dict(self, destination, prefix, keep_vars):
                super()._save_to_state_dict(destination, prefix, keep_vars)
                destination[prefix + "scale"] = lib.tensor(2.0)
                del destination[prefix + "bias"]

            def _load_from_state_dict(self, state_dict, prefix, *args):
                state_dict.pop(prefix + "scale", None)
                super()._load_from_state_dict(state_dict, prefix, *args)

        lib.manual_seed(0)
        net = lib_nn.Sequential(Scaled(2, 1), lib_nn.ReLU())
        sd = net.state_dict(prefix="m.")
        values = {k: v.cpu().numpy().tolist() for k, v in sd.items() if k != "m.0.weight"}
        keys = net.load_state_dict(net.state_dict(), strict=False)
        out.append((list(sd), values, list(keys.missing_keys), list(keys.unexpected_keys)))
    assert out[0] == out[1]
    assert out[0][:2] == (["m.0.weight", "m.0.scale"], {"m.0.scale": 2.0})
    assert out[0][2:] == (["0.bias"], [])


def _record_everything(lib, lib_nn, calls):
    """A net in which every state-dict hook and both methods record their calls."""

    class Leaf(lib_nn.Linear):
        def _save_to_state_dict(self, destination, prefix, keep_vars):
            calls.append(("save", prefix, keep_vars, sorted(destination)))
            super()._save_to_state_dict(destination, prefix, keep_vars)

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            calls.append(("load", prefix, sorted(state_dict), dict(local_metadata), strict,
                          list(missing_keys), list(unexpected_keys)))
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)
            calls.append(("loaded", prefix, list(missing_keys), list(unexpected_keys)))

    net = lib_nn.Sequential(Leaf(2, 2), lib_nn.Sequential(Leaf(2, 1)))
    for name, m in (("root", net), ("leaf", net[0]), ("inner", net[1])):
        m.register_state_dict_pre_hook(
            lambda mod, prefix, keep, n=name: calls.append(("sd-pre", n, prefix, keep)))
        m.register_state_dict_post_hook(
            lambda mod, sd, prefix, md, n=name: calls.append(("sd-post", n, prefix,
                                                              sorted(sd), dict(md))))
        m._register_state_dict_hook(
            lambda mod, sd, prefix, md, n=name: calls.append(("sd-hook", n, prefix)))
        m.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, md, strict, miss, unexp, errs, n=name, o=m: calls.append(
                ("ld-pre", n, mod is o, prefix, sorted(sd), strict, list(miss))))
        m._register_load_state_dict_pre_hook(
            lambda sd, prefix, md, strict, miss, unexp, errs, n=name: calls.append(
                ("ld-pre-private", n, prefix, dict(md))))
        m._register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, md, strict, miss, unexp, errs, n=name, o=m: calls.append(
                ("ld-pre-with-module", n, mod is o, prefix)), with_module=True)
        m.register_load_state_dict_post_hook(
            lambda mod, keys, n=name, o=m: calls.append(
                ("ld-post", n, mod is o, list(keys.missing_keys), list(keys.unexpected_keys))))
    return net


@pytest.mark.parity
def test_hook_and_override_calls_as_torch():
    logs = []
    for lib, lib_nn in _libs():
        calls = []
        net = _record_everything(lib, lib_nn, calls)
        sd = net.state_dict(keep_vars=True)
        calls.append("---")
        del sd["1.0.bias"]
        sd["1.extra"] = lib.zeros(1)
        keys = net.load_state_dict(sd, strict=False, assign=True)
        calls.append(("result", list(keys.missing_keys), list(keys.unexpected_keys)))
        logs.append(calls)
    assert logs[0] == logs[1]
    sd_calls = logs[0][:logs[0].index("---")]
    assert [c[:2] for c in sd_calls[:4]] == [("sd-pre", "root"), ("sd-pre", "leaf"),
                                             ("save", "0."), ("sd-post", "leaf")]
    load_calls = [c[:2] for c in logs[0][len(sd_calls) + 1:]]
    assert load_calls[:6] == [("ld-pre", "root"), ("ld-pre-private", "root"),
                              ("ld-pre-with-module", "root"), ("load", "0."),
                              ("ld-pre", "leaf"), ("ld-pre-private", "leaf")]
    assert ("ld-post", "leaf") in load_calls
    assert load_calls.index(("ld-post", "leaf")) < load_calls.index(("ld-pre", "inner"))
    assert logs[0][-1] == ("result", ["1.0.bias"], ["1.extra"])


@pytest.mark.parity
def test_private_state_dict_hook_may_return_a_new_dict_as_torch():
    out = []
    for lib, lib_nn in _libs():
        net = lib_nn.Sequential(lib_nn.Linear(1, 1))
        net[0]._register_state_dict_hook(lambda m, sd, prefix, md: {"dropped": 1})
        child_result = list(net.state_dict())  # a child's new dict is not what the root returns
        h = net._register_state_dict_hook(lambda m, sd, prefix, md: OrderedDict(new=len(sd)))
        root_result = dict(net.state_dict())
        h.remove()

        def public(m, sd, prefix, md):
            return None

        net.register_state_dict_post_hook(public)
        with pytest.raises(RuntimeError) as info:
            net._register_state_dict_hook(public)
        net.register_state_dict_post_hook(lambda *a: 1)
        with pytest.raises(RuntimeError) as returned:
            net.state_dict()
        out.append((child_result, root_result, str(returned.value)))
        assert "register_state_dict_post_hook" in str(info.value)
    assert out[0] == out[1]
    assert out[0][:2] == (["0.weight", "0.bias"], {"new": 2})


def test_private_state_dict_hook_refuses_a_public_one():
    def hook(module, sd, prefix, md):
        return None

    m = nn.Linear(1, 1)
    m.register_state_dict_post_hook(hook)
    with pytest.raises(RuntimeError, match=(
            r"_register_state_dict_hook: this function is already a state_dict post-hook "
            r"registered with register_state_dict_post_hook, whose result must be None")):
        nn.Linear(1, 1)._register_state_dict_hook(hook)


@pytest.mark.parity
def test_scalar_saved_as_one_element_vector_loads_as_torch():
    out = []
    for lib, lib_nn in _libs():
        m = lib_nn.BatchNorm1d(2)
        sd = m.state_dict()
        sd["num_batches_tracked"] = lib.tensor([7])  # PyTorch 0.3 saved scalars so
        m.load_state_dict(sd)
        out.append((int(m.num_batches_tracked), tuple(m.num_batches_tracked.shape)))
    assert out[0] == out[1] == (7, ())


@pytest.mark.parity
def test_direct_load_from_state_dict_copies_at_once_as_torch():
    out = []
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(2, 1)
        missing, unexpected, errors = [], [], []
        m._load_from_state_dict({"p.weight": lib.ones(1, 2), "p.bias": lib.ones(3),
                                 "p.zz": lib.ones(1)}, "p.", {}, True, missing, unexpected,
                                errors)
        out.append((m.weight.detach().cpu().numpy().tolist(), missing, unexpected,
                    [e.replace("torch.Size", "flambeau.Size") for e in errors]))
    assert out[0] == out[1]
    assert out[0][0] == [[1.0, 1.0]] and out[0][2] == ["p.zz"]
    assert out[0][3] == ["size mismatch for p.bias: copying a param with shape "
                         "flambeau.Size([3]) from checkpoint, the shape in current model is "
                         "flambeau.Size([1])."]


class _Tracking(nn.Linear):
    """An override that changes the module itself, then fails on some inputs."""

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        self.loads = getattr(self, "loads", 0) + 1
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        with flambeau.no_grad():
            self.bias.add_(100.0)  # written in place by the override itself
        if prefix + "fail" in state_dict:
            raise ValueError("override failed midway")


def _values(net):
    return [t.detach().cpu().numpy().copy() for t in net.state_dict().values()]


def _same(before, net):
    after = _values(net)
    return len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def test_override_raising_midway_changes_nothing():
    net = nn.Sequential(_Tracking(2, 2), nn.BatchNorm1d(2), _Tracking(2, 1))
    before, params = _values(net), list(net.parameters())
    sd = nn.Sequential(_Tracking(2, 2), nn.BatchNorm1d(2), _Tracking(2, 1)).state_dict()
    sd["2.fail"] = flambeau.zeros(1)
    with pytest.raises(ValueError, match="override failed midway"):
        net.load_state_dict(sd, strict=False)
    assert _same(before, net) and list(net.parameters()) == params
    assert not hasattr(net[0], "loads") and not hasattr(net[2], "loads")
    # the same with assign=True, post-hooks and a failure found after the override ran
    net[1].register_load_state_dict_post_hook(lambda m, keys: None)
    del sd["2.fail"]
    sd["1.running_mean"] = flambeau.zeros(5)
    with pytest.raises(RuntimeError, match=r"size mismatch for 1\.running_mean"):
        net.load_state_dict(sd, assign=True)
    assert _same(before, net) and list(net.parameters()) == params
    assert not hasattr(net[0], "loads")
    # a good load goes through the overrides once each
    del sd["1.running_mean"]
    sd["1.running_mean"] = flambeau.ones(2)
    assert repr(net.load_state_dict(sd)) == "<All keys matched successfully>"
    assert net[0].loads == net[2].loads == 1
    np.testing.assert_array_equal(net[1].running_mean.cpu().numpy(), [1.0, 1.0])


def test_post_hook_failure_after_override_changes_nothing():
    net = nn.Sequential(_Tracking(2, 2))
    before = _values(net)
    net.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.append("late"))
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "late"'):
        net.load_state_dict(nn.Sequential(_Tracking(2, 2)).state_dict())
    assert _same(before, net) and not hasattr(net[0], "loads")


def _pre_hook(module, sd, prefix, *rest):
    sd[prefix + "bias"] = sd.pop(prefix + "b")


def test_load_pre_hooks_pickle_with_their_module():
    m = nn.Linear(1, 1)
    m.register_load_state_dict_pre_hook(_pre_hook)
    m._register_load_state_dict_pre_hook(print)
    copy = pickle.loads(pickle.dumps(m))
    copy.load_state_dict({"weight": flambeau.ones(1, 1), "b": flambeau.full((1,), 5.0)})
    np.testing.assert_array_equal(copy.bias.detach().cpu().numpy(), [5.0])


def test_load_pre_hook_of_a_dead_module_says_so():
    m = nn.Linear(1, 1)
    m.register_load_state_dict_pre_hook(_pre_hook)
    (wrapped,) = m._load_state_dict_pre_hooks.values()
    other = nn.Linear(1, 1)
    other._register_load_state_dict_pre_hook(wrapped)  # it calls the hook with m
    del m
    gc.collect()
    with pytest.raises(RuntimeError, match="load_state_dict pre-hook: its module no longer exists"):
        other.load_state_dict(other.state_dict())
    state = wrapped.__getstate__()
    with pytest.raises(RuntimeError, match="load_state_dict pre-hook: its module was not saved"):
        type(wrapped).__new__(type(wrapped)).__setstate__(state)


def test_public_state_dict_post_hook_may_be_a_bound_method():
    class Recorder:
        def __init__(self):
            self.seen = []

        def hook(self, module, sd, prefix, md):
            self.seen.append(sorted(sd))

    rec, m = Recorder(), nn.Linear(1, 1)
    handle = m.register_state_dict_post_hook(rec.hook)
    m.state_dict()
    handle.remove()
    m.state_dict()
    assert rec.seen == [["bias", "weight"]]
    m.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()

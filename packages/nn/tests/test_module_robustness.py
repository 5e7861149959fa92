"""Module edge cases a user hits, compared with torch: removed hooks leave no marks behind,
a load whose copy fails (or that fails after a nested load) changes nothing."""

import re
import warnings

import numpy as np
import pytest

import flambeau
from flambeau import nn


def _libs():
    torch = pytest.importorskip("torch")
    return ((flambeau, nn), (torch, torch.nn))


def _marks(m):
    return [set(getattr(m, name)) for name in ("_forward_pre_hooks_with_kwargs",
                                               "_forward_hooks_with_kwargs",
                                               "_forward_hooks_always_called")]


def test_removed_forward_hooks_leave_no_marks_as_torch():
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(2, 1)
        kept = m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True,
                                       always_call=True)
        handles = [
            m.register_forward_pre_hook(lambda mod, args, kwargs: None, with_kwargs=True),
            m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True),
            m.register_forward_hook(lambda mod, args, out: None, always_call=True),
            m.register_forward_hook(lambda mod, args, kwargs, out: None, with_kwargs=True,
                                    always_call=True, prepend=True),
        ]
        for h in handles:
            h.remove()
            h.remove()  # a second remove does nothing
        assert _marks(m) == [set(), {kept.id}, {kept.id}], lib.__name__
        assert list(m._forward_pre_hooks) == [] and list(m._forward_hooks) == [kept.id]
        kept.remove()
        assert _marks(m) == [set(), set(), set()], lib.__name__



def _linear_state(lib, w, b):
    return {"weight": lib.full((1, 1), w), "bias": lib.full((1,), b)}


def test_failed_copy_is_an_error_in_torch_format_and_changes_nothing():
    # torch reports the copy's exception in the list and keeps the copies before it;
    # here the copies that would fail are converted while the state dict is checked
    messages = {}
    for lib, lib_nn in _libs():
        lib.manual_seed(0)
        net = lib_nn.Sequential(lib_nn.Linear(1, 1), lib_nn.Linear(1, 2), lib_nn.Linear(2, 1))
        before = [p.detach().clone() for p in net.parameters()]
        sd = {k: v.detach() + 1 for k, v in net.state_dict().items()}
        sd["1.weight"] = lib.ones(2, 1).to_sparse()
        sd["1.bias"] = lib.ones(2, dtype=lib.float64)  # converted: fine
        sd["2.weight"] = lib.ones(1, 3)
        with pytest.raises(RuntimeError) as err:
            net.load_state_dict(sd)
        messages[lib.__name__] = str(err.value)
        if lib is flambeau:
            after = [p.detach() for p in net.parameters()]
            assert all(np.array_equal(a.cpu().numpy(), b.cpu().numpy())
                       for a, b in zip(before, after))
    ours, theirs = messages["flambeau"], messages["torch"]
    assert ours.split("exception occurred : ")[0] == theirs.split(
        "exception occurred : ")[0].replace("torch.", "flambeau.")
    lines = ours.split("\n\t")
    assert lines[0] == "Error(s) in loading state_dict for Sequential:"
    assert lines[1].startswith('While copying the parameter named "1.weight", whose dimensions '
                               "in the model are flambeau.Size([2, 1]) and whose dimensions in "
                               "the checkpoint are flambeau.Size([2, 1]), an exception occurred "
                               ": ('")
    assert "sparse" in lines[1] and lines[1].endswith("',).")
    assert lines[2] == theirs.split("\n\t")[2].replace("torch.", "flambeau.")


def test_converting_copies_still_load_as_torch():
    values = []
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(1, 2)
        m.register_buffer("count", lib.zeros((), dtype=lib.int64))
        sd = {"weight": lib.tensor([[1.25], [2.5]], dtype=lib.float64),
              "bias": lib.tensor([1.5, -2.0]).to(lib.float16), "count": lib.tensor(3.7)}
        assert not m.load_state_dict(sd).missing_keys
        values.append([t.detach().cpu().numpy() for t in (m.weight, m.bias, m.count)])
        assert m.weight.dtype == lib.float32 and m.count.dtype == lib.int64
    for ours, theirs in zip(*values):
        np.testing.assert_array_equal(ours, theirs)


def test_nested_load_is_undone_when_the_outer_load_fails():
    side = nn.Linear(1, 1)
    nn.init.constant_(side.weight, 5.0)

    class Loader(nn.Module):
        """A user's layer whose override also loads another module (and its child)."""

        def __init__(self):
            super().__init__()
            self.sub = nn.Linear(1, 1)

        def _load_from_state_dict(self, state_dict, prefix, *args):
            side.load_state_dict(_linear_state(flambeau, 7.0, 7.0))
            self.sub.load_state_dict(_linear_state(flambeau, 8.0, 8.0))
            super()._load_from_state_dict(state_dict, prefix, *args)

    net = nn.Sequential(Loader(), nn.Linear(1, 1))

    def post(module, keys):
        side.load_state_dict(_linear_state(flambeau, 9.0, 9.0))

    net[1].register_load_state_dict_post_hook(post)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    sd = {k: v + 1 for k, v in before.items()}
    sd["1.extra"] = flambeau.zeros(1)  # unexpected: the load fails after every copy is made
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "1.extra"'):
        net.load_state_dict(sd)
    assert side.weight.item() == 5.0
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.cpu().numpy(), before[k].cpu().numpy())
    del sd["1.extra"]  # the same load, fine, makes every copy
    assert not net.load_state_dict(sd).unexpected_keys
    assert side.weight.item() == 9.0  # the children load after their parent's override:
    assert net[0].sub.weight.item() == before["0.sub.weight"].item() + 1
    assert net[1].weight.item() == before["1.weight"].item() + 1


def test_deprecated_container_as_torch():
    results = []
    for lib, lib_nn in _libs():
        with pytest.warns(FutureWarning) as made:
            box = lib_nn.Container(fc=lib_nn.Linear(2, 1), act=lib_nn.ReLU())
        with pytest.warns(FutureWarning) as subclassed:
            class Box(lib_nn.Container):
                pass
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Box()  # a subclass warned when it was defined, not when it is made
        with pytest.raises(TypeError, match="int is not a Module subclass"), \
                pytest.warns(FutureWarning):
            lib_nn.Container(fc=1)
        with pytest.raises(TypeError), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            lib_nn.Container(lib_nn.ReLU())  # children are keyword arguments only
        results.append((str(made[0].message), str(subclassed[0].message),
                        repr(box).replace("torch.", ""), list(box.state_dict())))
    assert results[0] == results[1]


def _outcome(fn):
    """What ``fn`` returns, or its error as ``"TypeName: message"`` (library names dropped)."""
    try:
        result = fn()
    except Exception as e:
        result = f"{type(e).__name__}: {e}"
    return re.sub(r"\b(torch|flambeau)\b", "LIB", str(result))


def test_lookup_errors_as_torch():
    seen = []
    for lib, lib_nn in _libs():
        net = lib_nn.Sequential(lib_nn.BatchNorm1d(1))
        net.note = 3
        calls = [lambda t=t: type(net.get_submodule(t)).__name__
                 for t in ("1", "0.x", "note", "0.weight", "0.weight.x", "")]
        calls += [lambda t=t: type(net.get_parameter(t)).__name__
                  for t in ("0.running_mean", "0.nope", "0.training", "0")]
        calls += [lambda t=t: type(net.get_buffer(t)).__name__
                  for t in ("0.running_mean", "0.weight", "0.training", "note.x")]
        calls.append(lambda: net.set_submodule("note", lib_nn.ReLU()))
        seen.append([_outcome(c) for c in calls])
    assert seen[0] == seen[1]
    assert seen[0][2] == "AttributeError: `note` is not an nn.Module"
    assert seen[0][11] == "AttributeError: `weight` is not a buffer"


def test_load_argument_errors_as_torch():
    seen = []
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(1, 1)
        seen.append([
            _outcome(lambda: m.load_state_dict([("weight", lib.ones(1, 1))])),
            _outcome(lambda: m.load_state_dict({"weight": [[1.0]], "bias": lib.ones(1)})),
        ])
    assert seen[0] == seen[1]
    assert seen[0][0] == "TypeError: Expected state_dict to be dict-like, got <class 'list'>."
    assert seen[0][1].endswith('While copying the parameter named "weight", expected LIB.Tensor '
                               "or Tensor-like object from checkpoint but received "
                               "<class 'list'>")


def test_assign_gives_a_loaded_parameter_the_model_requires_grad_as_torch():
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(2, 1)
        m.bias.requires_grad_(False)
        weight = lib_nn.Parameter(lib.ones(1, 2), requires_grad=False)
        bias = lib_nn.Parameter(lib.zeros(1))
        m.load_state_dict({"weight": weight, "bias": bias}, assign=True)
        assert m.weight is weight and m.bias is bias, lib.__name__
        assert (weight.requires_grad, bias.requires_grad) == (True, False), lib.__name__


def test_failed_assign_gives_back_requires_grad():
    m = nn.Linear(2, 1)
    m.register_load_state_dict_post_hook(lambda mod, keys: None)  # copies made with a journal
    weight = nn.Parameter(flambeau.ones(1, 2), requires_grad=False)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        m.load_state_dict({"weight": weight, "bias": flambeau.zeros(1), "x": weight},
                          assign=True)
    assert m.weight is not weight and not weight.requires_grad


def test_state_dict_edge_cases_as_torch():
    seen = []
    for lib, lib_nn in _libs():
        net = lib_nn.Sequential(lib_nn.Linear(3, 2), lib_nn.BatchNorm1d(2))
        net[0].register_buffer("scratch", lib.zeros(1), persistent=False)
        sd = net.state_dict(keep_vars=True)
        out = [list(sd), sd["0.weight"] is net[0].weight, dict(sd._metadata)]
        state = {"z": lib.ones(1), "0.weight": lib.arange(6.0).reshape(3, 2).t(),  # strided
                 "0.scratch": lib.ones(1), "1.extra": lib.ones(1),
                 "0.bias": lib.arange(4.0)[::2], "1.num_batches_tracked": lib.tensor(2.7)}
        out.append(_outcome(lambda: net.load_state_dict(state)))
        out.append(_outcome(lambda: net.load_state_dict(state, strict=False)))
        out.append([t.detach().cpu().numpy().tolist() for t in
                    (net[0].weight, net[0].bias, net[0].scratch, net[1].num_batches_tracked)])
        seen.append(out)
    assert seen[0] == seen[1]


def test_assignment_errors_name_the_type_as_torch():
    seen = []
    for lib, lib_nn in _libs():
        m = lib_nn.Linear(1, 1)
        m.register_buffer("b", lib.ones(1))
        m.child = lib_nn.ReLU()
        # CPU tensors: a testdev tensor's type is flambeau.testdev.FloatTensor (torch's is
        # torch.FloatTensor on the CPU it compares with)
        seen.append([_outcome(f) for f in (
            lambda: m.register_buffer("x", 3),
            lambda: m.register_parameter("x", lib.ones(1, device="cpu")),
            lambda: setattr(m, "weight", lib.ones(1, 1, device="cpu")),
            lambda: setattr(m, "bias", lib_nn.ReLU()),
            lambda: setattr(m, "child", 3),
            lambda: setattr(m, "b", "s"),
        )])
    assert seen[0] == seen[1]
    assert seen[0][2] == ("TypeError: cannot assign 'LIB.FloatTensor' as parameter 'weight' "
                          "(LIB.nn.Parameter or None expected)")


def test_sparse_parameter_loads_convert_or_fail_without_change_as_torch():
    seen = []
    for lib, lib_nn in _libs():
        m = lib_nn.Module()
        m.p = lib_nn.Parameter(lib.eye(2).to_sparse())
        m.q = lib_nn.Parameter(lib.ones(1))
        out = []
        for value in (lib.eye(2, dtype=lib.float64).to_sparse() * 3, lib.ones(2, 2)):
            outcome = _outcome(lambda: m.load_state_dict({"p": value, "q": m.q.detach() + 1}))
            out.append((outcome.split("an exception occurred")[0], _outcome(lambda: m.p.layout),
                        _outcome(lambda: m.p.dtype),
                        m.p.detach().to_dense().cpu().numpy().tolist()))
        seen.append((out, m.q.detach().cpu().numpy().tolist()))
    ours, theirs = seen
    assert ours[0] == theirs[0]
    assert ours[1] == [2.0]  # the failed load left q as it was (torch's copied it: [3.0])

"""Module system: registration, traversal, hooks, state_dict, devices/dtypes, repr."""

from collections import OrderedDict

import numpy as np
import pytest

import flambeau
from flambeau import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("scale", flambeau.ones(1))
        self.register_buffer("cache", flambeau.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)).relu()) * self.scale


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "scale", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "fc2"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "fc2"]
    assert list(net.state_dict()) == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
        "bn.running_var", "bn.num_batches_tracked", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.fc1.weight"
    assert len(list(net.parameters(recurse=False))) == 0
    assert isinstance(net.fc1.weight, nn.Parameter)
    assert isinstance(net.fc1.weight, flambeau.Tensor)


def test_setattr_getattr_delattr():
    m = nn.Module()
    m.w = nn.Parameter(flambeau.ones(2))
    assert "w" in m._parameters and "w" not in m.__dict__
    m.w = None
    assert m.w is None
    # flambeau.FloatTensor on the CPU, flambeau.<device>.FloatTensor elsewhere (as torch.cuda.)
    with pytest.raises(TypeError, match=r"cannot assign 'flambeau\.(\w+\.)?FloatTensor' as "
                                        r"parameter 'w'"):
        m.w = flambeau.ones(2)
    m.sub = nn.ReLU()
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 3
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing
    m.register_buffer("b", flambeau.zeros(1))
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("w", flambeau.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    m.buf = nn.Buffer(flambeau.ones(1), persistent=False)
    assert "buf" in m._buffers and "buf" not in m.state_dict()


def test_parameter_basics():
    base = flambeau.tensor([1.0, 2.0])
    p = nn.Parameter(base)
    assert p.requires_grad and p.is_leaf
    with flambeau.no_grad():
        base.add_(1.0)
    assert p.tolist() == [2.0, 3.0]  # shares storage
    shown = "" if p.device.type == "cpu" else f"device='{p.device}', "
    assert repr(p) == f"Parameter containing:\ntensor([2., 3.], {shown}requires_grad=True)"
    assert not nn.Parameter(flambeau.ones(1), requires_grad=False).requires_grad
    assert isinstance((p * 2), flambeau.Tensor) and not isinstance(p * 2, nn.Parameter)
    import copy
    import pickle

    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.tolist() == p.tolist() and q._data is not p._data
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, nn.Parameter) and r.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(flambeau.tensor([1, 2]))


def test_shared_parameters_deduplicated():
    a = nn.Linear(2, 2)
    net = nn.Sequential(a, a)
    assert len(list(net.parameters())) == 2
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    tied = nn.Module()
    tied.enc, tied.dec = nn.Linear(2, 2), nn.Linear(2, 2)
    tied.dec.weight = tied.enc.weight
    assert len(list(tied.parameters())) == 3
    assert len(list(tied.named_parameters(remove_duplicate=False))) == 4


def test_train_eval_and_requires_grad():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    net.eval()
    assert not net.training and not net[1].training
    net.train()
    assert net[1].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_zero_grad():
    m = nn.Linear(2, 1)
    m(flambeau.ones(1, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert m.weight.grad.tolist() == [[0.0, 0.0]]
    m.zero_grad()
    assert m.weight.grad is None


def test_to_keeps_parameter_objects():
    m = Net()
    w = m.fc1.weight
    m(flambeau.randn(4, 3)).sum().backward()
    m.double()
    assert m.fc1.weight is w and w.dtype == flambeau.float64 and w.grad.dtype == flambeau.float64
    assert m.bn.num_batches_tracked.dtype == flambeau.int64  # integers are never cast
    m.to(flambeau.float32)
    assert w.dtype == flambeau.float32
    m.to("cpu", dtype=flambeau.float64)
    assert m.bn.running_mean.dtype == flambeau.float64
    m.to(flambeau.zeros(1, dtype=flambeau.float32))
    assert w.dtype == flambeau.float32
    with pytest.raises(TypeError, match="floating point"):
        m.to(flambeau.int64)
    m.float().cpu()
    assert m(flambeau.randn(2, 3, device="cpu")).dtype == flambeau.float32


def test_get_submodule_parameter_buffer():
    net = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(1, 2), nn.BatchNorm1d(2))))
    assert isinstance(net.get_submodule("block.1"), nn.BatchNorm1d)
    assert net.get_parameter("block.0.bias").shape == (2,)
    assert net.get_buffer("block.1.running_mean").shape == (2,)
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        net.get_parameter("block.1.running_mean")


def test_apply_and_modules():
    seen = []
    nn.Sequential(nn.Linear(1, 1), nn.ReLU()).apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential"]


# ------------------------------------------------------------------ hooks


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 100)
    out = m(flambeau.ones(1, 2))
    np.testing.assert_allclose(out.detach().cpu().numpy(),
                               m.bias.detach().cpu().numpy()[None] + 100)
    h1.remove()
    h2.remove()
    m.register_forward_pre_hook(lambda mod, args, kwargs: calls.append(kwargs),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: calls.append("post"),
                            with_kwargs=True)
    m(input=flambeau.ones(1, 2))
    assert calls == [{"input": calls[0]["input"]}, "post"]
    order = []
    m2 = nn.Identity()
    m2.register_forward_hook(lambda *a: order.append(1))
    m2.register_forward_hook(lambda *a: order.append(0), prepend=True)
    m2(flambeau.ones(1))
    assert order == [0, 1]


def test_forward_hook_always_call():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    b = Boom()
    b.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(flambeau.ones(1))
    assert seen == [None]


def test_full_backward_hook_matches_gradients():
    m = nn.Linear(3, 2)
    got = {}

    def hook(mod, grad_input, grad_output):
        got["gi"], got["go"] = grad_input, grad_output

    m.register_full_backward_hook(hook)
    x = flambeau.randn(4, 3, requires_grad=True)
    g = flambeau.randn(4, 2)
    m(x).backward(g)
    np.testing.assert_allclose(got["go"][0].cpu().numpy(), g.cpu().numpy())
    np.testing.assert_allclose(got["gi"][0].cpu().numpy(), x.grad.cpu().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.cpu().numpy(),
                               g.cpu().numpy() @ m.weight.detach().cpu().numpy(), rtol=1e-5,
                               atol=1e-7)


def test_full_backward_hook_can_replace_grad_input_and_pre_hook():
    m = nn.Identity()
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 1,))
    x = flambeau.ones(2, requires_grad=True)
    m(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_full_backward_hook_without_input_grad():
    m = nn.Linear(2, 1)
    got = []
    m.register_full_backward_hook(lambda mod, gi, go: got.append((gi, go[0].shape)))
    m(flambeau.ones(3, 2)).sum().backward()
    assert got == [((None,), (3, 1))]
    assert m.weight.grad is not None


# ------------------------------------------------------------------ state dict


def test_state_dict_values_share_storage_and_keep_vars():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    with flambeau.no_grad():
        m.weight.fill_(3.0)
    assert sd["weight"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    assert list(m.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


def test_load_state_dict_roundtrip_and_non_strict():
    a, b = Net(), Net()
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert (p == q).all(), n
    sd = a.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = flambeau.zeros(1)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]


def test_load_state_dict_strict_mismatch_leaves_module_unchanged():
    m = Net()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    other = Net().state_dict()
    del other["fc2.bias"]
    other["bogus"] = flambeau.zeros(1)
    other["fc1.weight"] = flambeau.zeros(5, 3)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(other)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "fc2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "bogus"' in msg
    assert "size mismatch for fc1.weight" in msg and "[5, 3]" in msg and "[4, 3]" in msg
    for k, v in m.state_dict().items():
        assert (v == before[k]).all(), k
    # shape mismatches raise even when not strict, still before anything is copied
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict(other, strict=False)
    for k, v in m.state_dict().items():
        assert (v == before[k]).all(), k
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_assign():
    m = nn.Linear(2, 2)
    new_w = flambeau.ones(2, 2)
    m.load_state_dict({"weight": new_w, "bias": flambeau.zeros(2)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight._data is new_w._data


# ------------------------------------------------------------------ containers


def test_sequential_indexing_slicing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[-1], nn.Linear) and len(seq) == 3
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[1] is seq[2]
    assert seq(flambeau.ones(4, 2)).shape == (4, 1)
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    seq.append(nn.Tanh())
    assert isinstance(seq[2], nn.Tanh)
    with pytest.raises(IndexError):
        seq[5]
    od = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())]))
    assert list(od.state_dict()) == [] and [n for n, _ in od.named_children()] == ["a", "b"]


def test_module_list_dict_parameter_containers():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    assert len(ml) == 3 and isinstance(ml[-1], nn.Tanh)
    assert list(ml.state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="iterable"):
        ml.extend(nn.ReLU())
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "y" in md
    assert list(md.state_dict()) == ["x.weight", "x.bias"]
    pl = nn.ParameterList([flambeau.ones(2), nn.Parameter(flambeau.zeros(1))])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"a": flambeau.ones(2)})
    pd["b"] = nn.Parameter(flambeau.zeros(1))
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    owner = nn.Module()
    owner.plist = pl
    assert list(owner.state_dict()) == ["plist.0", "plist.1"]


# ------------------------------------------------------------------ parity with torch


@pytest.mark.parity
def test_repr_and_state_dict_match_torch():
    torch = pytest.importorskip("torch", minversion="2.13")  # norms' bias=
    tnn = torch.nn

    def build(lib):
        return lib.Sequential(OrderedDict([
            ("fc", lib.Linear(4, 8)),
            ("act", lib.LeakyReLU(0.2, inplace=True)),
            ("blocks", lib.ModuleList([lib.Linear(8, 8) for _ in range(3)] + [lib.GELU()])),
            ("heads", lib.ModuleDict({"a": lib.Linear(8, 2, bias=False),
                                      "b": lib.Sequential(lib.LayerNorm(8), lib.Dropout(0.1))})),
            ("bn", lib.BatchNorm1d(8, momentum=None)),
            ("emb", lib.Embedding(10, 3, padding_idx=1)),
            ("flat", lib.Flatten()),
            ("gn", lib.GroupNorm(2, 8)),
            ("loss", lib.CrossEntropyLoss()),
            ("prelu", lib.PReLU(8)),
            ("soft", lib.Softmax(dim=1)),
            ("ht", lib.Hardtanh(-2.0, 2.0)),
            ("inorm", lib.InstanceNorm2d(3, affine=True)),
            ("bil", lib.Bilinear(2, 3, 4)),
        ]))

    f, t = build(nn), build(tnn)
    assert repr(f) == repr(t)
    fsd, tsd = f.state_dict(), t.state_dict()
    assert list(fsd) == list(tsd)
    for k in fsd:
        assert tuple(fsd[k].shape) == tuple(tsd[k].shape), k
        assert str(fsd[k].dtype).split(".")[-1] == str(tsd[k].dtype).split(".")[-1], k
    assert [n for n, _ in f.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in f.named_modules()] == [n for n, _ in t.named_modules()]


def test_unpickled_hooks_keep_their_ids(monkeypatch):
    """A module unpickled where the handle counter starts low (a fresh process): a hook
    registered next gets a new id instead of replacing the loaded hook."""
    import itertools
    import pickle

    from flambeau.utils.hooks import RemovableHandle

    m = nn.Linear(2, 2)
    for _ in range(3):
        m.register_forward_hook(_count_call)
    saved = pickle.dumps(m)
    monkeypatch.setattr(RemovableHandle, "_ids", itertools.count())
    loaded = pickle.loads(saved)
    old = list(loaded._forward_hooks)
    handle = loaded.register_forward_hook(_count_call)
    assert handle.id > max(old)
    assert list(loaded._forward_hooks) == old + [handle.id]


def _count_call(module, args, output):
    return None

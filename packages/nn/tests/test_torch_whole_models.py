"""Whole models saved by torch.save (a pickled torch.nn.Module) load with flambeau.load(path,
weights_only=False) as flambeau modules that compute what torch's do: torch's classes become
flambeau's of the same public name, user classes the program's own, and torch's module
layout (hook marks, state-dict hooks, layer caches) flambeau's."""

import io
import pickle
import sys
import types

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.utils.hooks import RemovableHandle

torch = pytest.importorskip("torch")
# torch's files load onto the CPU (their saved location): the inputs compared with torch's
# outputs are CPU tensors too, whatever the run's default device
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]


def _torch_file(obj, zipped=True):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
    buf.seek(0)
    return buf


def _mlp():
    T = torch.nn
    return T.Sequential(T.Linear(4, 8), T.Tanh(), T.Linear(8, 2)), torch.randn(3, 4)


def _cnn():
    T = torch.nn
    model = T.Sequential(T.Conv2d(1, 2, 3, padding=1), T.BatchNorm2d(2), T.ReLU(),
                         T.MaxPool2d(2), T.Flatten(), T.Dropout(0.3), T.Linear(8, 3))
    model(torch.randn(4, 1, 4, 4))  # batch statistics into the running buffers
    return model, torch.randn(2, 1, 4, 4)


def _lstm():
    return torch.nn.LSTM(3, 4, num_layers=2, batch_first=True), torch.randn(2, 5, 3)


def _encoder():
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    return layer, torch.randn(3, 2, 8)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _same_outputs(theirs, ours, x):
    want = _first(theirs(x)).detach().numpy()
    got = _first(ours(flambeau.tensor(x.numpy()))).detach().cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [_mlp, _cnn, _lstm, _encoder],
                         ids=["mlp", "cnn-batchnorm", "lstm", "transformer-encoder-layer"])
@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_torch_saved_model_computes_as_torch(make, zipped):
    torch.manual_seed(0)
    theirs, x = make()
    theirs.eval()
    # (the legacy format adds each module class's source file and code)
    loaded = flambeau.load(_torch_file(theirs, zipped), weights_only=False)
    assert type(loaded) is getattr(nn, type(theirs).__name__)
    assert not loaded.training
    _same_outputs(theirs, loaded, x)
    assert [(n, type(p), p.requires_grad) for n, p in loaded.named_parameters()] == [
        (n, nn.Parameter, True) for n, _ in theirs.named_parameters()]
    for (name, b), (_, want) in zip(loaded.named_buffers(), theirs.named_buffers()):
        np.testing.assert_array_equal(b.cpu().numpy(), want.numpy(), err_msg=name)
    sd, want = loaded.state_dict(), theirs.state_dict()
    assert list(sd) == list(want)
    assert list(sd._metadata.items()) == list(want._metadata.items())
    # it trains: gradients reach every parameter
    loaded.train()
    _first(loaded(flambeau.tensor(x.numpy()))).sum().backward()
    assert all(p.grad is not None for p in loaded.parameters())


def test_training_flags_and_requires_grad_come_back():
    torch.manual_seed(0)
    theirs, x = _cnn()
    theirs[1].eval()  # one submodule in eval mode
    theirs[0].bias.requires_grad_(False)
    loaded = flambeau.load(_torch_file(theirs), weights_only=False)
    assert [m.training for m in loaded.modules()] == [m.training for m in theirs.modules()]
    assert [p.requires_grad for p in loaded.parameters()] == [
        p.requires_grad for p in theirs.parameters()]
    assert loaded._non_persistent_buffers_set == set()


# ------------------------------------------------------------------ a user's own class

def _scale_output(module, args, kwargs, output):
    """A forward hook with keyword arguments, saved by name as pickle saves functions."""
    return output * module.scale


class _TorchNet(torch.nn.Module):
    """The model as the user wrote it for torch, saved whole with torch.save."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.GELU())
        self.head = torch.nn.Linear(5, 2)
        self.scale = 3.0
        self.register_buffer("shift", torch.full((2,), 0.5))
        self.register_buffer("cache", torch.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.features(x)) + self.shift


class _Net(nn.Module):
    """The same model ported to flambeau (same attributes), as the program now defines it."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(3, 5), nn.GELU())
        self.head = nn.Linear(5, 2)
        self.scale = 3.0
        self.register_buffer("shift", flambeau.full((2,), 0.5))
        self.register_buffer("cache", flambeau.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.features(x)) + self.shift


@pytest.fixture
def user_module(monkeypatch):
    """A user's module ``models``: torch.save pickles its torch class by that name; the
    program that loads the file defines the flambeau class under it."""
    models = types.ModuleType("_flambeau_test_models")
    monkeypatch.setitem(sys.modules, models.__name__, models)

    def define(name, cls):
        cls = type(name, (cls,), {"__module__": models.__name__, "__qualname__": name})
        setattr(models, name, cls)
        return cls

    return define


def test_user_module_subclass_resolves_to_the_programs_class(user_module):
    torch.manual_seed(0)
    theirs = user_module("Net", _TorchNet)()
    # the hook's id is the one flambeau gives its next hook: registering one after loading
    # must not replace it
    hid = RemovableHandle({}).id + 1
    theirs._forward_hooks[hid] = _scale_output
    theirs._forward_hooks_with_kwargs[hid] = True
    x = torch.randn(4, 3)
    buf = _torch_file({"model": theirs, "epoch": 7})
    ours = user_module("Net", _Net)  # the program as ported to flambeau
    out = flambeau.load(buf, weights_only=False)
    loaded = out["model"]
    assert type(loaded) is ours and out["epoch"] == 7 and loaded.scale == 3.0
    # the hook came back, with its with_kwargs mark as flambeau keeps it
    assert list(loaded._forward_hooks.values()) == [_scale_output]
    assert loaded._forward_hooks_with_kwargs == set(loaded._forward_hooks)
    _same_outputs(theirs, loaded, x)
    assert loaded._non_persistent_buffers_set == {"cache"}
    assert list(loaded.state_dict()) == ["shift", "features.0.weight", "features.0.bias",
                                         "head.weight", "head.bias"]
    handle = loaded.register_forward_hook(_noop_hook)
    assert handle.id > hid and list(loaded._forward_hooks.values()) == [_scale_output,
                                                                        _noop_hook]
    handle.remove()
    _same_outputs(theirs, loaded, x)


def _noop_hook(*args):
    return None


def test_torch_state_dict_hooks_come_back_under_flambeau_names():
    theirs = torch.nn.Linear(2, 2)
    theirs.register_state_dict_post_hook(_drop_bias)
    loaded = flambeau.load(_torch_file(theirs), weights_only=False)
    assert list(loaded.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert "_state_dict_hooks" not in vars(loaded)


def _drop_bias(module, state_dict, prefix, local_metadata):
    del state_dict[prefix + "bias"]


# ------------------------------------------------------------------ refusals and placement

def test_weights_only_refuses_as_torch_naming_every_class():
    theirs, _ = _cnn()
    with pytest.raises(pickle.UnpicklingError, match="Sequential"):
        torch.load(_torch_file(theirs))
    with pytest.raises(pickle.UnpicklingError, match=(
            r"refused to load the globals 'torch.nn.modules.container.Sequential', "
            r"'torch.nn.modules.conv.Conv2d', 'torch.nn.modules.batchnorm.BatchNorm2d', .*"
            r"'torch.nn.modules.linear.Linear'.*weights_only=False")):
        flambeau.load(_torch_file(theirs))


def test_allowed_flambeau_classes_allow_torchs():
    torch.manual_seed(0)
    theirs, x = _mlp()
    with flambeau.serialization.safe_globals([nn.Sequential, nn.Linear, nn.Tanh]):
        loaded = flambeau.load(_torch_file(theirs))
    _same_outputs(theirs, loaded, x)
    with flambeau.serialization.safe_globals([nn.Sequential, nn.Linear]):
        with pytest.raises(pickle.UnpicklingError,
                           match=r"refused to load the global 'torch.nn.modules.activation.Tanh'"):
            flambeau.load(_torch_file(theirs))


def test_torch_class_without_counterpart_is_refused_before_anything_is_built(user_module):
    built = []

    class Probe:
        def __setstate__(self, state):
            built.append(state)

    # the legacy spectral norm keeps its state in torch classes flambeau has no public name for
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(2, 2))
    buf = _torch_file({"probe": user_module("Probe", object)(), "model": theirs})
    user_module("Probe", Probe)
    with pytest.raises(pickle.UnpicklingError, match=(
            r"can't rebuild 'torch.nn.utils.spectral_norm.SpectralNorm', .*"
            r"'torch.nn.utils.spectral_norm.SpectralNormLoadStateDictPreHook' from this PyTorch "
            r"file: flambeau has no counterpart for them .*save the state_dict\(\)")):
        flambeau.load(buf, weights_only=False)
    assert built == []


def test_map_location_applies():
    torch.manual_seed(0)
    theirs, x = _lstm()
    seen = []

    def where(t, location):
        seen.append(location)
        return None

    loaded = flambeau.load(_torch_file(theirs), map_location=where, weights_only=False)
    assert seen == ["cpu"] * len(list(theirs.parameters()))
    _same_outputs(theirs, loaded, x)
    loaded = flambeau.load(_torch_file(theirs), map_location="cpu", weights_only=False)
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}


def test_uninitialized_lazy_model_saved_by_torch_loads_and_infers():
    """torch keeps a lazy module's hooks as bound methods, its load pre-hook in a wrapper
    and the handles as (dict, id) tuples: they come back as flambeau's."""
    T = torch.nn
    theirs = T.Sequential(T.LazyConv2d(2, 3), T.LazyBatchNorm2d(), T.ReLU(), T.Flatten(),
                          T.LazyLinear(3))
    loaded = flambeau.load(_torch_file(theirs), weights_only=False)
    assert [type(m).__name__ for m in loaded] == ["LazyConv2d", "LazyBatchNorm2d", "ReLU",
                                                  "Flatten", "LazyLinear"]
    x = torch.randn(2, 1, 5, 5)
    theirs(x)
    out = loaded(flambeau.tensor(x.numpy()))  # the first forward infers the shapes
    assert tuple(out.shape) == (2, 3)
    assert [type(m).__name__ for m in loaded] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten",
                                                  "Linear"]
    assert not hasattr(loaded[4], "_load_hook") and not loaded[4]._load_state_dict_pre_hooks
    loaded.load_state_dict({k: flambeau.tensor(v.numpy()) for k, v in
                            theirs.state_dict().items()})
    theirs.eval(), loaded.eval()
    _same_outputs(theirs, loaded, x)


def test_uninitialized_lazy_linear_saved_by_torch_infers_from_a_keyword_input():
    """torch's pre-hook takes the keyword arguments: a first call lazy(input=x) infers."""
    torch.manual_seed(0)
    theirs = torch.nn.LazyLinear(3)
    loaded = flambeau.load(_torch_file(theirs), weights_only=False)
    x = torch.randn(2, 5)
    out = loaded(input=flambeau.tensor(x.numpy()))
    assert tuple(out.shape) == tuple(theirs(input=x).shape) == (2, 3)
    assert type(loaded) is nn.Linear and loaded.in_features == 5


def test_uninitialized_lazy_linear_saved_by_torch_takes_a_state_dict():
    torch.manual_seed(0)
    loaded = flambeau.load(_torch_file(torch.nn.LazyLinear(3)), weights_only=False)
    source = torch.nn.Linear(4, 3)
    keys = loaded.load_state_dict({k: flambeau.tensor(v.detach().numpy())
                                   for k, v in source.state_dict().items()})
    assert repr(keys) == "<All keys matched successfully>"
    assert type(loaded) is nn.Linear and loaded.in_features == 4
    _same_outputs(source, loaded, torch.randn(2, 4))
    handle = loaded.register_forward_hook(_noop_hook)  # ids moved past the loaded handles'
    assert handle.id > 1

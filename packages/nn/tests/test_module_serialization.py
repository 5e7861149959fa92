"""flambeau.save(model) stores a whole nn.Module, as torch.save pickles one: flambeau.load
refuses it with weights_only=True (the default) unless its classes are allowed, and rebuilds
it with weights_only=False, as torch.load does."""

import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import flambeau
from flambeau import nn


def _count_calls(module, args, output):
    """A forward hook at module level: hooks are saved by name, as pickle saves functions."""
    module.calls = getattr(module, "calls", 0) + 1


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(8, 3)
        self.out = nn.Linear(3, 3)
        self.tied = self.head  # one submodule under two names
        self.register_buffer("scale", flambeau.full((3,), 2.0))
        self.register_buffer("cache", flambeau.zeros(1), persistent=False)
        self.head.bias.requires_grad_(False)

    def forward(self, x):
        return self.out(self.tied(self.body(x))) * self.scale


try:  # the same model in torch, at module level where pickle finds it by name
    import torch
except ImportError:
    torch = None

if torch is not None:
    class _TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                            torch.nn.ReLU(), torch.nn.Flatten())
            self.head = torch.nn.Linear(8, 3)
            self.out = torch.nn.Linear(3, 3)
            self.tied = self.head
            self.register_buffer("scale", torch.full((3,), 2.0))
            self.register_buffer("cache", torch.zeros(1), persistent=False)
            self.head.bias.requires_grad_(False)

        def forward(self, x):
            return self.out(self.tied(self.body(x))) * self.scale


def _summary(model, parameter_cls):
    """What a loaded model must keep, comparable between flambeau and torch."""
    def name(m):
        return type(m).__name__.replace("_TorchNet", "_Net")

    return {
        "class": name(model),
        "training": [m.training for m in model.modules()],
        "modules": [(n, name(m)) for n, m in model.named_modules()],
        "parameters": [(n, type(p) is parameter_cls, p.requires_grad, tuple(p.shape))
                       for n, p in model.named_parameters()],
        "buffers": [(n, tuple(b.shape)) for n, b in model.named_buffers()],
        "state_dict": list(model.state_dict()),
        "hooks": [type(model._forward_hooks).__name__, list(model.body._forward_hooks.values())
                  == [_count_calls]],
        "tied": model.tied is model.head,
    }


def _save(obj, lib):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return buf


@pytest.mark.parity
def test_whole_model_round_trip_as_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    theirs, ours = _TorchNet(), _Net()
    for model in (theirs, ours):
        model.body.register_forward_hook(_count_calls)
        model.body[1].eval()  # a submodule's own training flag must come back
    # torch refuses a whole model by default, and so do we, naming the classes
    with pytest.raises(pickle.UnpicklingError, match="_TorchNet"):
        torch.load(_save(theirs, torch))
    with pytest.raises(pickle.UnpicklingError, match=(
            r"refused to load the globals 'test_module_serialization._Net', "
            r"'flambeau.nn.modules.container.Sequential', .*'test_module_serialization."
            r"_count_calls', .*'flambeau.nn.modules.linear.Linear'.*pass weights_only=False")):
        flambeau.load(_save(ours, flambeau))
    want = _summary(torch.load(_save(theirs, torch), weights_only=False), torch.nn.Parameter)
    got = _summary(flambeau.load(_save(ours, flambeau), weights_only=False), nn.Parameter)
    assert got == want
    assert want["parameters"][0] == ("body.0.weight", True, True, (2, 1, 3, 3))


def test_loaded_model_computes_the_same():
    model = _Net()
    model.body.register_forward_hook(_count_calls)
    x = flambeau.randn(4, 1, 4, 4)
    model(x)  # batch statistics into the running buffers, which must come back
    model.eval()
    loaded = flambeau.load(_save(model, flambeau), weights_only=False)
    assert type(loaded) is _Net and not loaded.training and loaded.body.calls == 1
    np.testing.assert_array_equal(loaded(x).detach().cpu().numpy(),
                                  model(x).detach().cpu().numpy())
    assert loaded.body.calls == 2  # the hook came back and runs
    for (name, p), q in zip(model.named_parameters(), loaded.parameters()):
        assert type(q) is nn.Parameter and q.is_leaf, name
        np.testing.assert_array_equal(q.detach().cpu().numpy(), p.detach().cpu().numpy())
    np.testing.assert_array_equal(loaded.body[1].running_var.cpu().numpy(),
                                  model.body[1].running_var.cpu().numpy())
    assert loaded._non_persistent_buffers_set == {"cache"}
    assert isinstance(loaded._forward_hooks, OrderedDict)
    # a loaded model trains: gradients reach its parameters
    loaded.train()
    loaded(x).sum().backward()
    assert loaded.out.weight.grad is not None and loaded.head.bias.grad is None


def test_allowed_classes_load_with_weights_only():
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    buf = _save(model, flambeau)
    with pytest.raises(pickle.UnpicklingError, match=(
            r"refused to load the globals 'flambeau.nn.modules.container.Sequential', "
            r"'flambeau.nn.modules.linear.Linear', 'flambeau.nn.modules.activation.Tanh'.*"
            r"add_safe_globals\(\[Sequential, Linear, Tanh\]\)")):
        flambeau.load(buf)
    assert flambeau.serialization.get_safe_globals() == []  # a refusal changes nothing
    buf.seek(0)
    with flambeau.serialization.safe_globals([nn.Sequential, nn.Linear, nn.Tanh]):
        loaded = flambeau.load(buf)
    x = flambeau.randn(3, 2)
    np.testing.assert_array_equal(loaded(x).detach().cpu().numpy(),
                                  model(x).detach().cpu().numpy())


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True),
    lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
    lambda: nn.Embedding(5, 3, padding_idx=0),
], ids=["LSTM", "TransformerEncoderLayer", "Embedding"])
def test_library_modules_round_trip(make):
    model = make().eval()
    loaded = flambeau.load(_save({"model": model}, flambeau), weights_only=False)["model"]
    assert type(loaded) is type(model)
    x = (flambeau.tensor([[1, 0, 4]]) if isinstance(model, nn.Embedding)
         else flambeau.randn(2, 3, model.input_size if isinstance(model, nn.LSTM) else 8))
    want, got = model(x), loaded(x)
    want, got = (want[0], got[0]) if isinstance(want, tuple) else (want, got)
    np.testing.assert_array_equal(got.detach().cpu().numpy(), want.detach().cpu().numpy())


def test_hooks_registered_after_loading_keep_the_loaded_ones():
    from flambeau.utils.hooks import RemovableHandle

    model = nn.Linear(2, 2)
    # the loaded hook's id is the one the next handle would get: a hook registered after
    # loading must not replace it
    hid = RemovableHandle({}).id + 1
    model._forward_hooks[hid] = _count_calls
    loaded = flambeau.load(_save(model, flambeau), weights_only=False)
    handle = loaded.register_forward_hook(_count_calls)
    assert handle.id > hid and len(loaded._forward_hooks) == 2
    handle.remove()
    loaded(flambeau.ones(1, 2))
    assert loaded.calls == 1

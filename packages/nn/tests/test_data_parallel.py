"""nn.DataParallel as torch's runs it without a GPU, its GPU-path checks, Module.compile."""

import numpy as np
import pytest

import flambeau
from flambeau import nn


def _model():
    flambeau.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


@pytest.mark.skipif(flambeau.cuda.is_available(), reason="a GPU is visible")
def test_runs_the_module_without_a_gpu():
    model = _model()
    wrapped = nn.DataParallel(model)
    x = flambeau.randn(5, 3)
    assert wrapped.device_ids == [] and wrapped.module is model
    np.testing.assert_array_equal(wrapped(x).detach().cpu().numpy(),
                                  model(x).detach().cpu().numpy())
    wrapped(x).sum().backward()
    assert model[0].weight.grad is not None
    assert list(wrapped.state_dict()) == ["module." + k for k in model.state_dict()]
    assert nn.parallel.DataParallel is nn.DataParallel


def test_keyword_inputs_pass_through():
    class Add(nn.Module):
        def forward(self, x, *, y):
            return x + y

    out = nn.DataParallel(Add())(flambeau.ones(2), y=flambeau.ones(2))
    assert out.tolist() == [2.0, 2.0]


def _fake_gpus(monkeypatch, count):
    monkeypatch.setattr(flambeau.cuda, "is_available", lambda: True)
    monkeypatch.setattr(flambeau.cuda, "device_count", lambda: count)


def test_several_devices_warn_that_one_runs_the_batch(monkeypatch):
    _fake_gpus(monkeypatch, 2)
    with pytest.warns(UserWarning, match=r"runs the whole batch on cuda:0 and does not "
                                         r"replicate the module over devices \[0, 1\]"):
        wrapped = nn.DataParallel(nn.Linear(2, 2))
    assert wrapped.device_ids == [0, 1] and wrapped.output_device == 0 and wrapped.dim == 0


def test_parameters_off_device_ids_0_are_an_error(monkeypatch):
    _fake_gpus(monkeypatch, 1)
    wrapped = nn.DataParallel(nn.Linear(2, 2, device="cpu"), device_ids=["cuda:0"])
    assert wrapped.device_ids == [0]
    with pytest.raises(RuntimeError, match=r"DataParallel: module must have its parameters and "
                                           r"buffers on device cuda:0 \(device_ids\[0\]\) but "
                                           r"found one of them on device: cpu"):
        wrapped(flambeau.ones(1, 2))


@pytest.mark.parity
def test_torch_state_dict_loads_and_outputs_match():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)  # the weights were drawn from whatever state earlier tests left
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    ours = nn.DataParallel(nn.Linear(3, 2))
    ours.load_state_dict({k: flambeau.tensor(v.detach().cpu().numpy())
                          for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(flambeau.tensor(x)).detach().cpu().numpy(),
                               theirs(torch.tensor(x)).detach().cpu().numpy(), rtol=1e-6,
                               atol=1e-6)  # float32 sums in another order: ~1e-7 apart
    assert repr(ours) == repr(theirs)


def test_module_compile_checks_arguments_and_changes_nothing():
    model = nn.Linear(2, 2)
    forward = model.forward
    assert model.compile(mode="reduce-overhead") is None
    assert model.forward == forward
    with pytest.raises(RuntimeError, match="Unrecognized mode=fastest"):
        model.compile(mode="fastest")

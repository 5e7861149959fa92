"""A training checkpoint saved by torch.save with whole objects ({"model": model, "opt":
optimizer, "sched": scheduler, ...}) loads with flambeau.load(weights_only=False): the
optimizer and scheduler are flambeau's, keyed by the loaded model's parameters, and training
goes on as torch's does."""

import io

import numpy as np
import pytest

import flambeau

pytest.importorskip("flambeau.nn")  # the checkpoint holds a model
torch = pytest.importorskip("torch")
# torch's checkpoint loads onto the CPU (its saved location): compare with CPU inputs too,
# whatever the run's default device
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

import flambeau.optim  # noqa: E402


def _steps(lib, model, opt, sched, x, n):
    for _ in range(n):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
])
def test_torch_checkpoint_with_whole_optimizer_resumes_as_torch(name, kwargs):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    opt = getattr(torch.optim, name)(model.parameters(), **kwargs)
    sched = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    x = torch.randn(5, 3)
    _steps(torch, model, opt, sched, x, 3)
    buf = io.BytesIO()
    torch.save({"model": model, "opt": opt, "sched": sched, "epoch": 3}, buf)
    buf.seek(0)
    ck = flambeau.load(buf, weights_only=False)
    ours, ours_opt, ours_sched = ck["model"], ck["opt"], ck["sched"]
    assert type(ours_opt) is getattr(flambeau.optim, name) and ck["epoch"] == 3
    assert type(ours_sched) is flambeau.optim.lr_scheduler.StepLR
    assert ours_sched.optimizer is ours_opt
    params = list(ours.parameters())
    assert all(a is b for a, b in zip(ours_opt.param_groups[0]["params"], params))
    assert list(ours_opt.state) == params
    assert ours_opt.param_groups[0]["lr"] == kwargs["lr"] / 2
    _steps(torch, model, opt, sched, x, 3)
    _steps(flambeau, ours, ours_opt, ours_sched, flambeau.tensor(x.numpy()), 3)
    assert ours_sched.get_last_lr() == sched.get_last_lr() == [kwargs["lr"] / 8]
    for p, q in zip(ours.parameters(), model.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    # its state_dict is torch's
    want, got = opt.state_dict(), ours_opt.state_dict()
    assert got["param_groups"] == [{k: v for k, v in g.items()} for g in want["param_groups"]]
    assert sorted(got["state"]) == sorted(want["state"])


def _count_step(optimizer, args, kwargs):
    optimizer.steps = getattr(optimizer, "steps", 0) + 1


def test_torch_optimizer_loads_with_flambeaus_hook_tables():
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=0.1)
    opt.register_step_post_hook(_count_step)
    buf = io.BytesIO()
    torch.save(opt, buf)
    buf.seek(0)
    loaded = flambeau.load(buf, weights_only=False)
    buf.seek(0)
    # torch pickles an optimizer's defaults, state and groups only: no hooks come back
    assert not torch.load(buf, weights_only=False)._optimizer_step_post_hooks
    assert not any(k.startswith("_optimizer_") for k in vars(loaded))
    assert loaded._step_post_hooks == {} and loaded._hook_id == 0
    loaded.register_step_post_hook(_count_step)
    w = loaded.param_groups[0]["params"][0]
    (w * w).sum().backward()
    loaded.step()
    assert loaded.steps == 1
    np.testing.assert_allclose(w.detach().cpu().numpy(), [0.8, 0.8], rtol=1e-6)

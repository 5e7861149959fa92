"""Every optimizer and option against PyTorch: same start, same gradients, 100 steps."""

import numpy as np
import pytest
from optim_helpers import make_params, quad_grads

import flambeau
from flambeau import optim

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True, betas=(0.5, 0.9))),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.7, 0.9), eps=1e-2, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.02, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, eps=1e-4)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def run_torch(torch, name, kwargs, steps=100, groups=False):
    ps = [torch.tensor(a, requires_grad=True) for a in make_params()]
    spec = ps if not groups else [{"params": [ps[0]]},
                                  {"params": [ps[1]], "lr": kwargs.get("lr", 1.0) * 0.5}]
    opt = getattr(torch.optim, name)(spec, **kwargs)
    for i in range(steps):
        for p, g in zip(ps, quad_grads([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = torch.from_numpy(g)
        opt.step()
    return [p.detach().cpu().numpy() for p in ps]


def run_flambeau(name, kwargs, steps=100, groups=False):
    ps = [flambeau.tensor(a, requires_grad=True) for a in make_params()]
    spec = ps if not groups else [{"params": [ps[0]]},
                                  {"params": [ps[1]], "lr": kwargs.get("lr", 1.0) * 0.5}]
    opt = getattr(optim, name)(spec, **kwargs)
    for i in range(steps):
        for p, g in zip(ps, quad_grads([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = flambeau.tensor(g)
        opt.step()
    return [p.detach().cpu().numpy() for p in ps], opt


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    expected = run_torch(torch, name, kwargs)
    got, _ = run_flambeau(name, kwargs)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_groups_with_own_lr_match_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = next(kw for n, kw in CASES if n == name)
    expected = run_torch(torch, name, kwargs, steps=30, groups=True)
    got, _ = run_flambeau(name, kwargs, steps=30, groups=True)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES[::3], ids=[_ids(c) for c in CASES[::3]])
def test_state_names_and_values_match_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    ps = [torch.tensor(a, requires_grad=True) for a in make_params()]
    topt = getattr(torch.optim, name)(ps, **kwargs)
    for i in range(5):
        for p, g in zip(ps, quad_grads([p.detach().cpu().numpy() for p in ps], i), strict=True):
            p.grad = torch.from_numpy(g)
        topt.step()
    _, fopt = run_flambeau(name, kwargs, steps=5)
    tsd, fsd = topt.state_dict(), fopt.state_dict()
    assert set(tsd["state"]) == set(fsd["state"])
    for k, tstate in tsd["state"].items():
        assert set(tstate) == set(fsd["state"][k])
        for key, value in tstate.items():
            np.testing.assert_allclose(fsd["state"][k][key].cpu().numpy(), value.cpu().numpy(),
                                       rtol=1e-6)
            assert str(fsd["state"][k][key].dtype).split(".")[-1] == \
                str(value.dtype).split(".")[-1]
    tgroup = {k: v for k, v in tsd["param_groups"][0].items()}
    fgroup = fsd["param_groups"][0]
    for key in ("lr", "weight_decay", "params"):
        if key in tgroup:
            assert fgroup[key] == tgroup[key]

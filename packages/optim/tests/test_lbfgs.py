"""LBFGS against PyTorch (fixed steps and strong-Wolfe line search) and its errors."""

import numpy as np
import pytest

import flambeau
from flambeau import optim


def rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


START = np.array([-1.2, 1.0, -0.5, 0.8])


def run(lib, steps, **kwargs):
    x = lib.tensor(START.copy(), requires_grad=True)
    opt = lib.optim.LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(lib, x)
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return x.detach().cpu().numpy().copy(), losses, opt


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, max_iter=5),
    dict(lr=1.0, max_iter=10, line_search_fn="strong_wolfe"),
    dict(lr=1.0, max_iter=4, history_size=3, line_search_fn="strong_wolfe"),
    dict(lr=0.05, max_iter=7, max_eval=5, history_size=2),
])
def test_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ex, el, topt = run(torch, 6, **kwargs)
    gx, gl, fopt = run(flambeau, 6, **kwargs)
    np.testing.assert_allclose(gx, ex, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(gl, el, rtol=1e-6, atol=1e-12)
    tstate = topt.state_dict()["state"][0]
    fstate = fopt.state_dict()["state"][0]
    assert fstate["func_evals"] == tstate["func_evals"]
    assert fstate["n_iter"] == tstate["n_iter"]


def test_converges_on_rosenbrock_with_strong_wolfe():
    x, losses, _ = run(flambeau, 10, line_search_fn="strong_wolfe", max_iter=50)
    assert losses[-1] < 1e-10
    np.testing.assert_allclose(x, np.ones(4), atol=1e-5)


def test_state_dict_resume_continues_trajectory():
    full, _, _ = run(flambeau, 4, line_search_fn="strong_wolfe", max_iter=3)
    x = flambeau.tensor(START.copy(), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=3)

    def closure_for(opt, x):
        def closure():
            opt.zero_grad()
            loss = rosenbrock(flambeau, x)
            loss.backward()
            return loss
        return closure

    for _ in range(2):
        opt.step(closure_for(opt, x))
    sd = opt.state_dict()
    y = flambeau.tensor(x.detach().cpu().numpy().copy(), requires_grad=True)
    opt2 = optim.LBFGS([y], line_search_fn="strong_wolfe", max_iter=3)
    opt2.load_state_dict(sd)
    for _ in range(2):
        opt2.step(closure_for(opt2, y))
    np.testing.assert_array_equal(y.detach().cpu().numpy(), full)


def test_errors():
    x = flambeau.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [flambeau.ones(1, requires_grad=True)]}])
    opt = optim.LBFGS([x])
    with pytest.raises(TypeError, match="closure"):  # required, as in torch
        opt.step()
    with pytest.raises(ValueError, match="closure"):
        opt.step(None)
    with pytest.raises(ValueError, match="max_iter"):
        optim.LBFGS([x], max_iter=0)


def test_stops_at_optimum_without_changing_params():
    x = flambeau.ones(4, requires_grad=True, dtype=flambeau.float64)
    opt = optim.LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = rosenbrock(flambeau, x)
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    np.testing.assert_array_equal(x.detach().cpu().numpy(), np.ones(4))
    assert opt.state[x]["func_evals"] == 1

"""Every optimizer converges on a least-squares problem and (most) on the Rosenbrock valley."""

import numpy as np
import pytest

import flambeau
from flambeau import optim

ROSENBROCK = {
    "SGD": dict(lr=1e-3, momentum=0.9),
    "Adam": dict(lr=0.02),
    "AdamW": dict(lr=0.02, weight_decay=0.0),
    "Adamax": dict(lr=0.05),
    "NAdam": dict(lr=0.02),
    "RMSprop": dict(lr=1e-3, centered=True, momentum=0.9),
}


def rosenbrock_grad(x):
    a, b = x
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


@pytest.mark.parametrize("name", sorted(ROSENBROCK))
def test_rosenbrock(name):
    x = flambeau.tensor([-1.5, 2.0], dtype=flambeau.float64, requires_grad=True)
    opt = getattr(optim, name)([x], **ROSENBROCK[name])
    for _ in range(4000):
        # analytic gradient keeps the test fast; the optimizer only sees .grad
        x.grad = flambeau.tensor(rosenbrock_grad(x.detach().cpu().numpy()))
        opt.step()
    np.testing.assert_allclose(x.detach().cpu().numpy(), [1.0, 1.0], atol=2e-2)


LEAST_SQUARES = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True),
    "Adam": dict(lr=0.05),
    "AdamW": dict(lr=0.05, weight_decay=0.0),
    "Adamax": dict(lr=0.05),
    "NAdam": dict(lr=0.05),
    "RAdam": dict(lr=0.05),
    "RMSprop": dict(lr=0.01),
    "Adagrad": dict(lr=0.5),
    "Adadelta": dict(lr=1.0, rho=0.99),
}


@pytest.mark.parametrize("name", sorted(LEAST_SQUARES))
def test_least_squares(name):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((20, 4))
    truth = np.array([1.0, -2.0, 0.5, 3.0])
    b = a @ truth
    at, bt = flambeau.tensor(a), flambeau.tensor(b)
    w = flambeau.zeros(4, dtype=flambeau.float64, requires_grad=True)
    bias = flambeau.zeros((), dtype=flambeau.float64, requires_grad=True)
    opt = getattr(optim, name)([w, bias], **LEAST_SQUARES[name])
    for _ in range(1200 if name == "Adadelta" else 600):  # Adadelta warms up slowly
        opt.zero_grad()
        loss = ((at @ w + bias - bt) ** 2).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.detach().cpu().numpy(), truth, atol=2e-2)
    assert abs(bias.item()) < 2e-2


def test_lbfgs_least_squares_exact():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((30, 5)), rng.standard_normal(30)
    at, bt = flambeau.tensor(a), flambeau.tensor(b)
    w = flambeau.zeros(5, dtype=flambeau.float64, requires_grad=True)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = ((at @ w - bt) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.detach().cpu().numpy(), np.linalg.lstsq(a, b, rcond=None)[0],
                               atol=1e-6)

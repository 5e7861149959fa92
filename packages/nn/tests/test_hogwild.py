"""Hogwild training: ``Module.share_memory()``, then worker processes that each train the
same model; the parent's model is the trained one (fork and spawn start methods)."""

import numpy as np
import pytest

import flambeau
import flambeau.multiprocessing as mp
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.testing import join_processes

# shared memory is host memory: the models here are CPU models
pytestmark = pytest.mark.host_only

TIMEOUT = 120  # seconds for the workers (spawn imports flambeau in each)
TRUE_W, TRUE_B = [[2.0, -1.0, 0.5]], [0.25]


def _data(seed):
    g = flambeau.Generator().manual_seed(seed)
    x = flambeau.randn(64, 3, generator=g)
    return x, x @ flambeau.tensor(TRUE_W).t() + flambeau.tensor(TRUE_B)


def _train(model, seed, steps=150, lr=0.1):
    x, y = _data(seed)
    for _ in range(steps):
        model.zero_grad()
        F.mse_loss(model(x), y).backward()
        with flambeau.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-lr)  # in place: into the shared memory


def _run_workers(model, start_method, n=2):
    ctx = mp.get_context(start_method)
    workers = [ctx.Process(target=_train, args=(model, seed)) for seed in range(n)]
    for w in workers:
        w.start()
    join_processes(workers, TIMEOUT)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_hogwild_workers_train_the_parents_model(start_method):
    flambeau.manual_seed(0)
    model = nn.Linear(3, 1)
    assert model.share_memory() is model
    assert model.weight.is_shared() and model.bias.is_shared()
    x, y = _data(7)
    before = F.mse_loss(model(x), y).item()
    _run_workers(model, start_method)
    after = F.mse_loss(model(x), y).item()
    assert after < 1e-3 < before
    np.testing.assert_allclose(model.weight.detach().cpu().numpy(), TRUE_W, atol=0.02)
    np.testing.assert_allclose(model.bias.detach().cpu().numpy(), TRUE_B, atol=0.02)


def test_without_share_memory_the_workers_train_copies():
    flambeau.manual_seed(0)
    model = nn.Linear(3, 1)
    weight = model.weight.detach().clone()
    _run_workers(model, "fork")
    np.testing.assert_array_equal(model.weight.detach().cpu().numpy(), weight.cpu().numpy())


def test_share_memory_covers_parameters_grads_and_buffers_as_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (flambeau, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model[0].weight.grad = lib.zeros(2, 2)
        weight = model[0].weight
        model.share_memory()
        assert model[0].weight is weight  # the same Parameter objects
        got.append((
            [p.is_shared() for p in model.parameters()],
            [b.is_shared() for b in model.buffers()],
            model[0].weight.grad.is_shared(), model[0].bias.grad is None))
    assert got[0] == got[1]
    assert all(got[0][0]) and all(got[0][1]) and got[0][2]

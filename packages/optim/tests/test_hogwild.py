"""Hogwild training with optimizers: worker processes step their own optimizer over shared
parameters (and Adagrad's shared state), and the parent sees the result."""

import numpy as np
import pytest

import flambeau
import flambeau.multiprocessing as mp
from flambeau import optim
from flambeau.testing import join_processes

# shared memory is host memory: the tensors here are CPU tensors
pytestmark = pytest.mark.host_only

TIMEOUT = 120  # seconds for the workers (spawn imports flambeau in each)
TRUE_W = [1.5, -2.0, 0.5]


def _data(seed):
    g = flambeau.Generator().manual_seed(seed)
    x = flambeau.randn(64, 3, generator=g)
    return x, x @ flambeau.tensor(TRUE_W)


def _loss(w, x, y):
    return ((x @ w - y) ** 2).mean()


def _train_sgd(w, seed):
    x, y = _data(seed)
    opt = optim.SGD([w], lr=0.1)
    for _ in range(150):
        opt.zero_grad()
        _loss(w, x, y).backward()
        opt.step()


def _step_shared_adagrad(w, opt, seed):
    x, y = _data(seed)
    for _ in range(5):
        opt.zero_grad()
        _loss(w, x, y).backward()
        opt.step()


def _run(target, args_per_worker, start_method):
    ctx = mp.get_context(start_method)
    workers = [ctx.Process(target=target, args=args) for args in args_per_worker]
    for w in workers:
        w.start()
    join_processes(workers, TIMEOUT)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_optimizer_steps_reach_the_parent(start_method):
    w = flambeau.zeros(3, requires_grad=True).share_memory_()
    assert w.is_shared() and w.requires_grad
    _run(_train_sgd, [(w, 0), (w, 1)], start_method)
    np.testing.assert_allclose(w.detach().cpu().numpy(), TRUE_W, atol=0.02)


def test_adagrad_share_memory_shares_its_state_as_torch():
    torch = pytest.importorskip("torch")
    flags = []
    for lib in (flambeau, torch):
        opt = lib.optim.Adagrad([lib.ones(2, requires_grad=True)])
        opt.share_memory()
        state = next(iter(opt.state.values()))
        flags.append((state["sum"].is_shared(), state["step"].is_shared()))
    assert flags[0] == flags[1] == (True, False)
    w = flambeau.zeros(3, requires_grad=True).share_memory_()
    opt = optim.Adagrad([w], lr=0.1)
    opt.share_memory()
    for seed in (0, 1):  # one worker after the other: the result is then exact
        _run(_step_shared_adagrad, [(w, opt, seed)], "fork")
    ref = flambeau.zeros(3, requires_grad=True)
    ref_opt = optim.Adagrad([ref], lr=0.1)
    for seed in (0, 1):
        _step_shared_adagrad(ref, ref_opt, seed)
    # the second worker went on from the first one's parameters and squared-gradient sum
    np.testing.assert_allclose(w.detach().cpu().numpy(), ref.detach().cpu().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(opt.state[w]["sum"].cpu().numpy(),
                               ref_opt.state[ref]["sum"].cpu().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(opt.state[w]["step"].cpu().numpy(), 0.0)  # not shared

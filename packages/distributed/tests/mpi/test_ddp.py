"""DistributedDataParallel on 2 ranks (run under `mpiexec -n 2 python -m pytest -m mpi`)."""

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist
from flambeau import nn
from flambeau.distributed import DistributedDataParallel as DDP

pytestmark = pytest.mark.mpi

BATCH = 8  # global batch; each of the 2 ranks takes half
STEPS = 20
LR = 0.1


def make_model(seed):
    flambeau.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(32, 5), nn.Tanh(), nn.Linear(5, 3)
    ).double()


def batches(n_steps=STEPS, batch=BATCH):
    g = flambeau.Generator().manual_seed(1234)
    for _ in range(n_steps):
        x = flambeau.randn(batch, 1, 6, 6, generator=g, dtype=flambeau.float64)
        y = flambeau.randn(batch, 3, generator=g, dtype=flambeau.float64)
        yield x, y


def sgd_step(model):
    with flambeau.no_grad():
        for p in model.parameters():
            p -= LR * p.grad
            p.grad = None


def params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_same_on_both_ranks(arrays):
    every = [None, None]
    dist.all_gather_object(every, arrays)
    for a, b in zip(*every, strict=True):
        np.testing.assert_array_equal(a, b)


def train_reference():
    model = make_model(0)
    for x, y in batches():
        ((model(x) - y) ** 2).mean().backward()
        sgd_step(model)
    return params(model)


@pytest.mark.parametrize("as_view", [False, True])
@pytest.mark.parametrize("bucket_cap_mb", [25, 1e-6])  # one bucket, or one per parameter
def test_ddp_matches_one_process_on_the_full_batch(world2, as_view, bucket_cap_mb):
    rank = world2
    model = make_model(seed=rank)  # different on each rank: DDP copies rank 0's
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb, gradient_as_bucket_view=as_view)
    assert len(ddp.reducer.buckets) == (1 if bucket_cap_mb == 25 else 6)
    half = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
    for x, y in batches():
        ((ddp(x[half]) - y[half]) ** 2).mean().backward()
        sgd_step(model)
    for got, want in zip(params(model), train_reference(), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert_same_on_both_ranks(params(model))


def test_construction_broadcasts_parameters_and_buffers_from_rank_0(world2):
    model = make_model(seed=world2)
    model.register_buffer("stat", flambeau.full((2,), float(world2 + 5)))
    DDP(model)
    np.testing.assert_array_equal(model.stat.numpy(), [5.0, 5.0])
    for got, want in zip(params(model), params(make_model(0)), strict=True):
        np.testing.assert_array_equal(got, want)


def test_forward_broadcasts_buffers_from_rank_0(world2):
    model = make_model(0)
    model.register_buffer("stat", flambeau.zeros(2))
    ddp = DDP(model)
    model.stat += world2 + 1  # drifts apart, as BatchNorm statistics would
    ddp(flambeau.zeros(1, 1, 6, 6, dtype=flambeau.float64))
    np.testing.assert_array_equal(model.stat.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("as_view", [False, True])
def test_no_sync_accumulation_equals_one_larger_batch(world2, as_view):
    rank = world2
    model = make_model(0)
    ddp = DDP(model, bucket_cap_mb=0.001, gradient_as_bucket_view=as_view)
    reference = make_model(0)
    for x, y in batches(n_steps=3):
        ((reference(x) - y) ** 2).mean().backward()  # the full batch of 8 at once
        sgd_step(reference)
        # this rank's 4 samples in two micro-batches of 2; loss scaled to the full mean
        mine = list(range(rank * 4, rank * 4 + 4))
        with ddp.no_sync():
            first = mine[:2]
            (((ddp(x[first]) - y[first]) ** 2).sum() / (3 * 4)).backward()
        second = mine[2:]
        (((ddp(x[second]) - y[second]) ** 2).sum() / (3 * 4)).backward()
        sgd_step(model)
    for got, want in zip(params(model), params(reference), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_no_sync_alone_keeps_gradients_local(world2):
    model = nn.Linear(2, 1).double()
    ddp = DDP(model)
    with ddp.no_sync():
        ddp(flambeau.ones(1, 2, dtype=flambeau.float64) * (world2 + 1)).sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), [[world2 + 1.0] * 2])


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 1).double()
        self.b = nn.Linear(2, 1).double()

    def forward(self, x, use_b=False):
        return self.b(x) if use_b else self.a(x)


def test_find_unused_parameters(world2):
    flambeau.manual_seed(0)
    model = TwoHeads()
    ddp = DDP(model, find_unused_parameters=True)
    x = flambeau.ones(1, 2, dtype=flambeau.float64) * (world2 + 1)
    for _ in range(2):
        ddp(x).sum().backward()
        np.testing.assert_allclose(model.a.weight.grad.numpy(), [[1.5, 1.5]])
        assert model.b.weight.grad is None  # unused on every rank: left alone
        model.zero_grad()
    # head b used on rank 0 only: averaged with rank 1's zero
    ddp(x, use_b=(world2 == 0)).sum().backward()
    np.testing.assert_allclose(model.b.weight.grad.numpy(), [[0.5, 0.5]])
    np.testing.assert_allclose(model.a.weight.grad.numpy(), [[1.0, 1.0]])  # rank 1's 2 / 2


def test_unused_parameters_without_the_flag_raise_at_the_next_forward(world2):
    flambeau.manual_seed(0)
    ddp = DDP(TwoHeads())
    x = flambeau.ones(1, 2, dtype=flambeau.float64)
    ddp(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"produced no gradient for parameters \['b.weight', "
                                           r"'b.bias'\].*find_unused_parameters=True"):  # fmt: skip
        ddp(x)


def test_module_attribute_and_state_dict_prefix(world2):
    model = make_model(0)
    ddp = DDP(model)
    assert ddp.module is model
    assert sorted(ddp.state_dict()) == sorted("module." + k for k in model.state_dict())
    fresh = make_model(1)
    fresh.load_state_dict(ddp.module.state_dict())
    for got, want in zip(params(fresh), params(model), strict=True):
        np.testing.assert_array_equal(got, want)


def test_different_models_across_ranks_raise_on_every_rank(world2):
    model = nn.Linear(3, 2 + world2)
    with pytest.raises(ValueError, match="DistributedDataParallel: the module differs across "
                                         r"ranks: rank 0 has \('weight', \(2, 3\)"):  # fmt: skip
        DDP(model)

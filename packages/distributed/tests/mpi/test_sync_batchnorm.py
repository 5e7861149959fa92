"""SyncBatchNorm on 2 ranks (run under `mpiexec -n 2 python -m pytest -m mpi`): a batch split
over the ranks normalizes, and differentiates, as BatchNorm on the whole batch."""

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist
from flambeau import nn

pytestmark = pytest.mark.mpi


def full_batch(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 1


@pytest.mark.parametrize("split", [4, 3])  # even, and 3 + 5 rows
@pytest.mark.parametrize("shape", [(8, 3), (8, 3, 5), (8, 3, 2, 3)])
def test_split_batch_matches_full_batch_batchnorm(world2, split, shape):
    rank = world2
    x = full_batch(shape, 0)
    g = full_batch(shape, 1)
    weight = np.array([0.5, 1.5, -2.0])
    bias = np.array([0.1, 0.0, -0.3])
    rows = slice(0, split) if rank == 0 else slice(split, None)

    def make(cls):
        m = cls(3, momentum=None if len(shape) == 2 else 0.2).double()
        with flambeau.no_grad():
            m.weight.copy_(flambeau.tensor(weight))
            m.bias.copy_(flambeau.tensor(bias))
        return m

    ref = make({2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d}[len(shape)])
    sbn = make(nn.SyncBatchNorm)
    for _ in range(2):  # the second step checks the running statistics' update too
        xr = flambeau.tensor(x, requires_grad=True)
        yr = ref(xr)
        (yr * flambeau.tensor(g)).sum().backward()
        xs = flambeau.tensor(x[rows], requires_grad=True)
        ys = sbn(xs)
        (ys * flambeau.tensor(g[rows])).sum().backward()
        np.testing.assert_allclose(ys.detach().numpy(), yr.detach().numpy()[rows], atol=1e-12)
        np.testing.assert_allclose(xs.grad.numpy(), xr.grad.numpy()[rows], atol=1e-12)
        for p_sync, p_ref in ((sbn.weight, ref.weight), (sbn.bias, ref.bias)):
            total = p_sync.grad.clone()
            dist.all_reduce(total)  # each rank holds the gradient of its own loss
            np.testing.assert_allclose(total.numpy(), p_ref.grad.numpy(), atol=1e-12)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(sbn, name).numpy(), getattr(ref, name).numpy(),
                                       atol=1e-12)
    sbn.eval()
    ref.eval()
    np.testing.assert_allclose(sbn(flambeau.tensor(x[rows])).detach().numpy(),
                               ref(flambeau.tensor(x)).detach().numpy()[rows], atol=1e-12)


def test_one_value_per_channel_over_all_ranks_is_an_error(world2):
    sbn = nn.SyncBatchNorm(2)
    x = flambeau.randn(1, 2) if world2 == 0 else flambeau.randn(0, 2)
    with pytest.raises(ValueError, match="expected more than 1 value per channel when "
                                         "training, got 1 over all ranks"):
        sbn(x)

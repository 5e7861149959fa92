"""The "nccl" backend: CUDA tensors through CuPy's NCCL, world of one (gpu machines)."""

import contextlib

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist
from flambeau.distributed import get_comm_backend

NCCL = get_comm_backend("nccl")
needs_gpu = pytest.mark.skipif(
    not NCCL.is_available(), reason=f"nccl backend unavailable: {NCCL.unavailable_reason()}"
)


def test_asking_for_nccl_without_it_is_a_clear_error():
    if NCCL.is_available():
        pytest.skip("nccl is available here")
    with pytest.raises(RuntimeError, match="backend 'nccl' is unavailable: .*use backend='mpi' "
                                           "for CPU tensors"):  # fmt: skip
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
    assert dist.is_nccl_available() is False


def test_mpi_refuses_cuda_tensors_by_name(world):
    class FakeCuda:
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    t = flambeau.ones(2)
    t._device, real = FakeCuda(), t._device
    try:
        with pytest.raises(ValueError, match="backend 'mpi' moves tensors on cpu, but tensor is "
                                             "on cuda:0.*\"nccl\" for cuda"):  # fmt: skip
            dist.all_reduce(t)
    finally:
        t._device = real


@needs_gpu
def test_nccl_collectives_world_of_one():
    dist.init_process_group("nccl")
    try:
        t = flambeau.tensor([1.0, 2.0], device="cuda")
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        dist.broadcast(t, src=0)
        out = [flambeau.zeros(2, device="cuda")]
        dist.all_gather(out, t, async_op=True).wait()
        np.testing.assert_allclose(out[0].cpu().numpy(), [1.0, 2.0])
        dist.barrier()
    finally:
        dist.destroy_process_group()


@needs_gpu
def test_nccl_ddp_world_of_one():
    from flambeau import nn

    dist.init_process_group("nccl")
    try:
        model = nn.Linear(3, 1).to("cuda")
        ddp = dist.DistributedDataParallel(model, device_ids=[0])
        ddp(flambeau.ones(2, 3, device="cuda")).sum().backward()
        np.testing.assert_allclose(model.bias.grad.cpu().numpy(), [2.0])
    finally:
        dist.destroy_process_group()


@needs_gpu
@pytest.mark.parametrize("op", ["SUM", "AVG", "MAX", "MIN", "PRODUCT"])
def test_nccl_all_reduce_ops_world_of_one(op):
    dist.init_process_group("nccl")
    try:
        t = flambeau.tensor([1.5, -2.0, 3.0], device="cuda")
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))  # one rank: every op is the identity
        np.testing.assert_allclose(t.cpu().numpy(), [1.5, -2.0, 3.0])
        assert t.device.type == "cuda"
    finally:
        dist.destroy_process_group()


@needs_gpu
def test_nccl_every_other_collective_world_of_one():
    dist.init_process_group("nccl")
    try:
        t = flambeau.arange(6.0, device="cuda").reshape(2, 3)
        dist.reduce(t, dst=0)
        np.testing.assert_allclose(t.cpu().numpy(), np.arange(6.0).reshape(2, 3))
        out = flambeau.zeros(2, 3, device="cuda")
        dist.all_gather_into_tensor(out, t)
        np.testing.assert_allclose(out.cpu().numpy(), t.cpu().numpy())
        rs = flambeau.zeros(2, 3, device="cuda")
        dist.reduce_scatter_tensor(rs, t * 2)
        np.testing.assert_allclose(rs.cpu().numpy(), 2 * t.cpu().numpy())
        rs2 = flambeau.zeros(2, 3, device="cuda")
        dist.reduce_scatter(rs2, [t + 1])
        np.testing.assert_allclose(rs2.cpu().numpy(), t.cpu().numpy() + 1)
        gathered = [flambeau.zeros(2, 3, device="cuda")]
        dist.gather(t, gathered, dst=0)
        np.testing.assert_allclose(gathered[0].cpu().numpy(), t.cpu().numpy())
        got = flambeau.zeros(2, 3, device="cuda")
        dist.scatter(got, [t - 1], src=0)
        np.testing.assert_allclose(got.cpu().numpy(), t.cpu().numpy() - 1)
        objects = [None]
        dist.all_gather_object(objects, {"rank": dist.get_rank()})
        assert objects == [{"rank": 0}]
        box = [{"lr": 0.1}]
        dist.broadcast_object_list(box, src=0)
        assert box == [{"lr": 0.1}]
    finally:
        dist.destroy_process_group()


@needs_gpu
def test_nccl_ddp_buckets_and_no_sync_match_local_training():
    import flambeau.optim  # noqa: F401 - the submodule used below
    from flambeau import nn

    def train(wrap):
        flambeau.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2)).to("cuda").double()
        net = wrap(model)
        opt = flambeau.optim.SGD(model.parameters(), lr=0.1)
        gen = np.random.default_rng(0)
        for step in range(6):
            x = flambeau.tensor(gen.standard_normal((8, 5)), device="cuda")
            if step % 2 == 0:
                with net.no_sync():  # accumulate, then the next backward all-reduces both
                    net(x).pow(2).sum().backward()
                continue
            net(x).pow(2).sum().backward()
            opt.step()
            opt.zero_grad()
        return [p.detach().cpu().numpy() for p in model.parameters()]

    def _ddp(model):
        # a tiny bucket cap: every parameter gets its own bucket and its own all-reduce
        return dist.DistributedDataParallel(model, device_ids=[0], bucket_cap_mb=1e-4)

    local = train(_identity_accumulating)
    dist.init_process_group("nccl")
    try:
        distributed = train(_ddp)
    finally:
        dist.destroy_process_group()
    for a, b in zip(local, distributed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


class _Accumulating:
    """The local reference of no_sync: the module itself, with a no_sync that does nothing."""

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        return self.model(x)

    def no_sync(self):
        return contextlib.nullcontext()


def _identity_accumulating(model):
    return _Accumulating(model)

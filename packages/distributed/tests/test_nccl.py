"""The "nccl" backend: CUDA tensors through CuPy's NCCL, world of one (gpu machines)."""

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

"""Process groups and collectives in a world of one process (no mpiexec)."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
import flambeau.distributed as dist
from flambeau import nn
from flambeau.distributed import ReduceOp, Work


def test_init_and_destroy():
    assert not dist.is_initialized()
    dist.init_process_group(backend="mpi", init_method="env://", world_size=1, rank=0)
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    assert sys.excepthook is not None
    dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.init_process_group()  # again, after destroy; "mpi" by default
    dist.destroy_process_group()


def test_init_twice_is_an_error(world):
    with pytest.raises(RuntimeError, match="initialize the default process group twice"):
        dist.init_process_group("mpi")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"init_method": "tcp://10.0.0.1:23456"}, "init_method='tcp://10.0.0.1:23456' is not "
                                                  "supported.*mpiexec"),
        ({"store": object()}, "store= is not supported"),
        ({"world_size": 4}, "world_size=4 but the MPI launcher gave this process world_size 1.*"
                            "mpiexec -n 4"),
        ({"rank": 1}, "rank=1 but the MPI launcher gave this process rank 0"),
    ],
)  # fmt: skip
def test_init_argument_errors_leave_nothing_initialized(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dist.init_process_group("mpi", **kwargs)
    assert not dist.is_initialized()


def test_using_a_group_before_init_says_what_to_call():
    with pytest.raises(RuntimeError, match="all_reduce: the default process group has not been "
                                           r"initialized; call .*init_process_group\(\)"):
        dist.all_reduce(flambeau.zeros(1))
    with pytest.raises(RuntimeError, match="get_rank: the default process group"):
        dist.get_rank()


def test_collectives_in_a_world_of_one(world):
    t = flambeau.tensor([1.0, 2.0])
    for op in ReduceOp:
        dist.all_reduce(t, op=op)
    np.testing.assert_allclose(t.numpy(), [1.0, 2.0])
    work = dist.broadcast(t, src=0, async_op=True)
    assert isinstance(work, Work) and work.wait()
    out = flambeau.zeros(1, 2)
    dist.all_gather_into_tensor(out, t)
    np.testing.assert_allclose(out.numpy(), [[1.0, 2.0]])
    objs = [None]
    dist.all_gather_object(objs, ("a", 1))
    assert objs == [("a", 1)]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: dist.all_reduce([1.0]), TypeError, "all_reduce: tensor must be a flambeau Tensor"
                                                     ", got list"),
        (lambda: dist.all_reduce(flambeau.ones(1), op="sum"), TypeError,
         "op must be a flambeau.distributed.ReduceOp"),
        (lambda: dist.all_reduce(flambeau.ones(1, dtype=flambeau.int64), op=ReduceOp.AVG),
         TypeError, "ReduceOp.AVG needs a floating-point tensor, got flambeau.int64"),
        (lambda: dist.broadcast(flambeau.ones(1), src=3), ValueError,
         r"broadcast: src=3 is not a rank of the group \(global ranks \[0\]\)"),
        (lambda: dist.all_gather([flambeau.ones(1)] * 2, flambeau.ones(1)), ValueError,
         "tensor_list must be a list of 1 tensors"),
        (lambda: dist.all_gather([flambeau.ones(2)], flambeau.ones(1)), ValueError,
         r"tensor_list\[0\] has shape \(2,\)"),
        (lambda: dist.reduce_scatter_tensor(flambeau.ones(2), flambeau.ones(3)), ValueError,
         r"input has shape \(3,\), expected \(1, 2\) or \(2,\)"),
        (lambda: dist.all_gather_object([], 1), ValueError, "object_list must be a list of 1"),
        (lambda: dist.new_group([0, 5]), ValueError, r"ranks must be distinct ints in \[0, 1\)"),
        (lambda: dist.new_group([0], backend="nccl"), ValueError, "backend='nccl' differs"),
    ],
)  # fmt: skip
def test_argument_errors(world, call, error, match):
    t = flambeau.ones(1)
    with pytest.raises(error, match=match):
        call()
    np.testing.assert_array_equal(t.numpy(), [1.0])


def test_shape_checks_can_be_turned_off(world):
    assert dist.set_shape_checks(False) is True
    try:
        dist.all_reduce(flambeau.ones(1))
    finally:
        assert dist.set_shape_checks(True) is False


def test_destroyed_sub_group_is_an_error(world):
    g = dist.new_group([0])
    dist.destroy_process_group(g)
    assert dist.is_initialized()
    with pytest.raises(RuntimeError, match="was destroyed"):
        dist.all_reduce(flambeau.ones(1), group=g)


def test_work_runs_its_callbacks_once():
    calls = []
    pending = [True]
    work = Work(lambda: pending.clear(), test=lambda: not pending).then(lambda: calls.append(1))
    assert work.is_completed() is False and calls == []
    assert work.wait() is True and calls == [1]
    assert work.wait() and work.is_completed() and calls == [1]


def test_a_failed_work_is_completed_and_every_wait_raises():
    # PyTorch: is_completed() is True once the operation ended, even by an error; is_success()
    # is False; wait() raises the error (each time), and the result callbacks never run
    attempts, calls = [], []

    def fail():
        attempts.append(1)
        raise dist.DistBackendError("all_reduce (gloo): rank 0 timed out")

    work = Work(fail, test=lambda: True).then(lambda: calls.append(1))
    assert work.is_completed() is True and work.is_success() is False
    for _ in range(2):
        with pytest.raises(dist.DistBackendError, match="rank 0 timed out"):
            work.wait()
    assert attempts == [1] and calls == []
    work.then(lambda: calls.append(2))
    assert calls == []


def test_ddp_in_a_world_of_one_gives_plain_gradients(world):
    flambeau.manual_seed(0)
    model = nn.Linear(3, 2).double()
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1e-6)
    x = flambeau.randn(4, 3, dtype=flambeau.float64)
    ddp(x).pow(2).sum().backward()
    w, b = model.weight.detach().clone().requires_grad_(), model.bias.detach().clone()
    b.requires_grad_()
    (x @ w.t() + b).pow(2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.bias.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    ddp(x).pow(2).sum().backward()  # accumulates like plain autograd
    np.testing.assert_allclose(model.bias.grad.numpy(), 2 * b.grad.numpy(), rtol=1e-12)


def test_ddp_argument_errors(world):
    with pytest.raises(TypeError, match="module must be a flambeau.nn.Module, got Tensor"):
        dist.DistributedDataParallel(flambeau.ones(1))
    with pytest.raises(ValueError, match=r"device_ids must be None for a module on cpu, got \[0\]"):
        dist.DistributedDataParallel(nn.Linear(1, 1), device_ids=[0])
    with pytest.raises(ValueError, match="bucket_cap_mb must be > 0, got 0"):
        dist.DistributedDataParallel(nn.Linear(1, 1), bucket_cap_mb=0)


def test_ddp_needs_a_process_group():
    with pytest.raises(RuntimeError, match="DistributedDataParallel: the default process group "
                                           "has not been initialized"):  # fmt: skip
        dist.DistributedDataParallel(nn.Linear(1, 1))


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, stacked=st.booleans())
def test_into_tensor_collectives_accept_both_layouts(shape, stacked):
    dist.init_process_group("mpi")
    try:
        x = flambeau.arange(int(np.prod(shape)), dtype=flambeau.float64).reshape(shape)
        big_shape = (1, *shape) if stacked or not shape else shape
        out = flambeau.zeros(big_shape, dtype=flambeau.float64)
        dist.all_gather_into_tensor(out, x)
        np.testing.assert_array_equal(out.numpy().reshape(shape), x.numpy())
        back = flambeau.zeros(shape, dtype=flambeau.float64)
        dist.reduce_scatter_tensor(back, out, op=ReduceOp.AVG)
        np.testing.assert_array_equal(back.numpy(), x.numpy())
    finally:
        dist.destroy_process_group()

"""Collectives on 2 ranks (run under `mpiexec -n 2 python -m pytest -m mpi`)."""

from datetime import timedelta

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist
from flambeau.distributed import ReduceOp

pytestmark = pytest.mark.mpi


def values(rank, dtype=flambeau.float64):
    # rank 0: [1, 2, 3], rank 1: [2, 4, 6]
    return flambeau.tensor([1.0, 2.0, 3.0], dtype=dtype) * (rank + 1)


@pytest.mark.parametrize(
    "op, expected",
    [
        (ReduceOp.SUM, [3.0, 6.0, 9.0]),
        (ReduceOp.AVG, [1.5, 3.0, 4.5]),
        (ReduceOp.MAX, [2.0, 4.0, 6.0]),
        (ReduceOp.MIN, [1.0, 2.0, 3.0]),
        (ReduceOp.PRODUCT, [2.0, 8.0, 18.0]),
    ],
)
@pytest.mark.parametrize("async_op", [False, True])
def test_all_reduce(world2, op, expected, async_op):
    t = values(world2)
    version = t._version
    work = dist.all_reduce(t, op=op, async_op=async_op)
    if async_op:
        assert work.wait() is True and work.is_completed()
    else:
        assert work is None
    np.testing.assert_allclose(t.numpy(), expected)
    assert t._version > version  # all_reduce writes in place


@pytest.mark.parametrize("dtype", [flambeau.int64, flambeau.float32, flambeau.float16,
                                   flambeau.bfloat16])  # fmt: skip
def test_all_reduce_dtypes(world2, dtype):
    t = values(world2, dtype)
    dist.all_reduce(t)
    assert t.dtype == dtype
    np.testing.assert_allclose(t.float().numpy(), [3.0, 6.0, 9.0])


def test_all_reduce_non_contiguous_view_updates_its_base(world2):
    base = flambeau.arange(6, dtype=flambeau.float64).reshape(2, 3) * (world2 + 1)
    view = base.t()
    dist.all_reduce(view)
    np.testing.assert_allclose(base.numpy(), np.arange(6.0).reshape(2, 3) * 3)


def test_all_reduce_avg_of_int_is_a_type_error_on_every_rank(world2):
    with pytest.raises(TypeError, match="AVG needs a floating-point tensor, got flambeau.int64"):
        dist.all_reduce(flambeau.ones(2, dtype=flambeau.int64), op=ReduceOp.AVG)


def test_mismatched_shapes_raise_on_every_rank_naming_them(world2):
    t = flambeau.zeros(2 + world2)
    msg = r"all_reduce: tensor shapes or dtypes differ across ranks: rank 0 has \(2,\) float32, " \
          r"rank 1 has \(3,\) float32"  # fmt: skip
    with pytest.raises(ValueError, match=msg):
        dist.all_reduce(t)
    np.testing.assert_array_equal(t.numpy(), 0)  # left unchanged
    with pytest.raises(ValueError, match="broadcast: tensor shapes or dtypes differ"):
        dist.broadcast(flambeau.zeros(2, dtype=[flambeau.float32, flambeau.float64][world2]))
    dist.all_reduce(flambeau.zeros(1))  # the ranks are still in step


@pytest.mark.parametrize("async_op", [False, True])
def test_broadcast_from_rank_1(world2, async_op):
    t = values(world2)
    work = dist.broadcast(t, src=1, async_op=async_op)
    if async_op:
        work.wait()
    np.testing.assert_allclose(t.numpy(), [2.0, 4.0, 6.0])


def test_reduce_to_rank_1_leaves_rank_0_alone(world2):
    t = values(world2)
    dist.reduce(t, dst=1, op=ReduceOp.SUM)
    expected = [1.0, 2.0, 3.0] if world2 == 0 else [3.0, 6.0, 9.0]
    np.testing.assert_allclose(t.numpy(), expected)
    t = values(world2)
    dist.reduce(t, dst=0, op=ReduceOp.AVG, async_op=True).wait()
    expected = [1.5, 3.0, 4.5] if world2 == 0 else [2.0, 4.0, 6.0]
    np.testing.assert_allclose(t.numpy(), expected)


@pytest.mark.parametrize("async_op", [False, True])
def test_all_gather(world2, async_op):
    out = [flambeau.zeros(3, dtype=flambeau.float64) for _ in range(2)]
    work = dist.all_gather(out, values(world2), async_op=async_op)
    if async_op:
        work.wait()
    np.testing.assert_allclose(out[0].numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(out[1].numpy(), [2.0, 4.0, 6.0])


def test_all_gather_into_tensor_concatenated_and_stacked(world2):
    x = values(world2).reshape(1, 3)
    cat = flambeau.zeros(2, 3, dtype=flambeau.float64)
    dist.all_gather_into_tensor(cat, x)
    np.testing.assert_allclose(cat.numpy(), [[1, 2, 3], [2, 4, 6]])
    stacked = flambeau.zeros(2, 1, 3, dtype=flambeau.float64)
    dist.all_gather_into_tensor(stacked, x)
    np.testing.assert_allclose(stacked.numpy()[:, 0], [[1, 2, 3], [2, 4, 6]])
    with pytest.raises(ValueError, match=r"output_tensor has shape \(3, 3\), expected"):
        dist.all_gather_into_tensor(flambeau.zeros(3, 3, dtype=flambeau.float64), x)


def test_reduce_scatter(world2):
    r = world2
    inputs = [flambeau.full((2,), 10.0 * i + r) for i in range(2)]  # slice i goes to rank i
    out = flambeau.zeros(2)
    dist.reduce_scatter(out, inputs)
    np.testing.assert_allclose(out.numpy(), [20.0 * r + 1] * 2)
    out = flambeau.zeros(2)
    dist.reduce_scatter_tensor(out, flambeau.cat(inputs), op=ReduceOp.MAX)
    np.testing.assert_allclose(out.numpy(), [10.0 * r + 1] * 2)


def test_gather_and_scatter(world2):
    r = world2
    gathered = [flambeau.zeros(3, dtype=flambeau.float64) for _ in range(2)] if r == 0 else None
    dist.gather(values(r), gather_list=gathered, dst=0)
    if r == 0:
        np.testing.assert_allclose([g.numpy() for g in gathered], [[1, 2, 3], [2, 4, 6]])
    pieces = [flambeau.full((2,), 7.0), flambeau.full((2,), 8.0)] if r == 1 else None
    got = flambeau.zeros(2)
    dist.scatter(got, scatter_list=pieces, src=1, async_op=True).wait()
    np.testing.assert_allclose(got.numpy(), [7.0 + r] * 2)


def test_gather_list_on_a_non_destination_rank_is_an_error(world2):
    if world2 == 1:
        with pytest.raises(ValueError, match="gather_list must be None on ranks other than dst=0"):
            dist.gather(flambeau.zeros(1), gather_list=[flambeau.zeros(1)] * 2, dst=0)
    dist.barrier()


def test_barrier_and_async_barrier(world2):
    dist.barrier()
    work = dist.barrier(async_op=True)
    assert work.wait() and work.is_completed()


def test_send_recv_and_isend_irecv(world2):
    if world2 == 0:
        dist.send(flambeau.tensor([4.0, 5.0]), dst=1)
        dist.isend(flambeau.tensor([6.0, 7.0]), dst=1, tag=3).wait()
    else:
        t = flambeau.zeros(2)
        assert dist.recv(t) == 0  # any source: returns the sender
        np.testing.assert_allclose(t.numpy(), [4.0, 5.0])
        work = dist.irecv(t, src=0, tag=3)
        work.wait()
        np.testing.assert_allclose(t.numpy(), [6.0, 7.0])


def test_wait_with_a_timeout_raises_and_the_work_stays_usable(world2):
    # rank 1 waits for a message rank 0 sends only after rank 1's short wait has failed
    if world2 == 1:
        t = flambeau.zeros(2)
        work = dist.irecv(t, src=0, tag=9)
        with pytest.raises(dist.DistBackendError, match="Work.wait: the operation did not "
                                                        "finish within 0.05 s"):  # fmt: skip
            work.wait(timeout=timedelta(seconds=0.05))
        dist.send(flambeau.ones(1), dst=0, tag=8)  # now rank 0 may send
        assert work.wait(timeout=timedelta(seconds=30))
        np.testing.assert_allclose(t.cpu().numpy(), [1.0, 2.0])
    else:
        dist.recv(flambeau.zeros(1), src=1, tag=8)
        dist.send(flambeau.tensor([1.0, 2.0]), dst=1, tag=9)


def test_objects(world2):
    gathered = [None, None]
    dist.all_gather_object(gathered, {"rank": world2})
    assert gathered == [{"rank": 0}, {"rank": 1}]
    objs = ["from", world2] if world2 == 1 else [None, None]
    dist.broadcast_object_list(objs, src=1)
    assert objs == ["from", 1]


def test_new_group_members_and_non_members(world2):
    g = dist.new_group([1])
    t = flambeau.ones(2)
    if world2 == 1:
        assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1
        dist.all_reduce(t, group=g)
        np.testing.assert_allclose(t.numpy(), [1.0, 1.0])
    else:
        assert dist.get_rank(g) == -1
        assert dist.all_reduce(t, group=g) is None
    both = dist.new_group([1, 0])
    assert dist.get_process_group_ranks(both) == [0, 1]
    dist.all_reduce(t, group=both)
    np.testing.assert_allclose(t.numpy(), [2.0, 2.0])


def test_work_is_completed_polls_to_completion(world2):
    t = flambeau.ones(1000)
    work = dist.all_reduce(t, async_op=True)
    while not work.is_completed():
        pass
    np.testing.assert_allclose(t.numpy(), 2.0)

"""all_to_all, object collectives, batched point-to-point, monitored_barrier on 2 ranks."""

import datetime
import time

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("async_op", [False, True])
def test_all_to_all_of_tensors_of_different_sizes(world2, async_op):
    r = world2
    # rank r sends rank j a tensor of r + j + 1 elements: 10 * r + j, ...
    inputs = [flambeau.arange(r + j + 1, dtype=flambeau.float64) + 10 * r + j for j in range(2)]
    outputs = [flambeau.zeros(i + r + 1, dtype=flambeau.float64) for i in range(2)]
    work = dist.all_to_all(outputs, inputs, async_op=async_op)
    if async_op:
        work.wait()
    for i, out in enumerate(outputs):  # from rank i: 10 * i + r, ...
        np.testing.assert_allclose(out.cpu().numpy(), np.arange(i + r + 1) + 10 * i + r)


def test_all_to_all_shapes_that_do_not_match_raise_on_every_rank(world2):
    sizes = [[3, 2], [2, 2]][world2]  # rank 0 sends 2 to rank 1, which expects 2: fine ...
    outputs = [flambeau.zeros(n) for n in ([3, 1] if world2 == 0 else [2, 2])]  # ... 1 != 2
    inputs = [flambeau.zeros(n) for n in sizes]
    with pytest.raises(ValueError, match="all_to_all: rank 1 sends 2 elements to rank 0, but "
                                         "rank 0 expects 1 from rank 1"):  # fmt: skip
        dist.all_to_all(outputs, inputs)
    dtype = [flambeau.float32, flambeau.float64][world2]
    with pytest.raises(ValueError, match="all_to_all_single: tensor dtypes differ across ranks: "
                                         "rank 0 has flambeau.float32, rank 1 has "
                                         "flambeau.float64"):  # fmt: skip
        dist.all_to_all_single(flambeau.zeros(2, dtype=dtype), flambeau.zeros(2, dtype=dtype))
    dist.barrier()  # the ranks are still in step


@pytest.mark.parametrize("dtype", [flambeau.int64, flambeau.float32, flambeau.bfloat16])
def test_all_to_all_single_even_split(world2, dtype):
    r = world2
    x = (flambeau.arange(8).reshape(4, 2) + 100 * r).to(dtype)  # rows 0-1 to rank 0, 2-3 to 1
    out = flambeau.zeros(4, 2, dtype=dtype)
    dist.all_to_all_single(out, x)
    expected = np.concatenate([np.arange(8).reshape(4, 2)[2 * r:2 * r + 2] + 100 * i
                               for i in range(2)])  # fmt: skip
    np.testing.assert_allclose(out.float().cpu().numpy(), expected)
    assert out.dtype == dtype


def test_all_to_all_single_with_split_sizes_and_a_non_contiguous_output(world2):
    r = world2
    # rank 0 sends 1 row to rank 0 and 2 to rank 1; rank 1 sends 3 rows to 0 and 0 to 1
    in_splits = [[1, 2], [3, 0]][r]
    out_splits = [[1, 3], [2, 0]][r]
    x = flambeau.arange(sum(in_splits) * 3, dtype=flambeau.float64).reshape(-1, 3) + 100 * r
    base = flambeau.zeros(3, sum(out_splits), dtype=flambeau.float64)
    out = base.t()  # a non-contiguous view: the result must land in base
    work = dist.all_to_all_single(out, x, out_splits, in_splits, async_op=True)
    work.wait()
    if r == 0:
        expected = np.concatenate([np.arange(3.0).reshape(1, 3),
                                   np.arange(9.0).reshape(3, 3) + 100])  # fmt: skip
    else:
        expected = np.arange(3.0, 9.0).reshape(2, 3)
    np.testing.assert_allclose(base.cpu().numpy().T, expected)
    with pytest.raises(ValueError, match=r"all_to_all_single: rank 1 sends 1 elements to rank 0, "
                                         "but rank 0 expects 2 from rank 1"):  # fmt: skip
        dist.all_to_all_single(flambeau.zeros(3), flambeau.zeros(3), [[1, 2], [2, 1]][r], [1, 2])


def test_gather_and_scatter_objects(world2):
    r = world2
    out = [None, None] if r == 1 else None
    dist.gather_object({"rank": r}, out, dst=1)
    if r == 1:
        assert out == [{"rank": 0}, {"rank": 1}]
    got = [None]
    dist.scatter_object_list(got, ["for 0", ("for", 1)] if r == 0 else None)  # src 0 default
    assert got == [["for 0", ("for", 1)][r]]
    got = [None]
    dist.scatter_object_list(got, ["a", "b"] if r == 1 else None, group_src=1)
    assert got == [["a", "b"][r]]
    if r == 0:
        with pytest.raises(ValueError, match="gather_object: object_gather_list must be None on "
                                             r"ranks other than the destination \(rank 1"):
            dist.gather_object(1, [None, None], dst=1)
    dist.barrier()


def test_send_and_recv_object_lists(world2):
    if world2 == 0:
        dist.send_object_list([{"lr": 0.1}, "two", 3], dst=1)
        dist.send_object_list(["second"], group_dst=1)
        dist.send_object_list(["x", "y"], dst=1)
    else:
        objects = [None, None, None]
        assert dist.recv_object_list(objects, src=0) == 0
        assert objects == [{"lr": 0.1}, "two", 3]
        box = [None]
        assert dist.recv_object_list(box) == 0  # from any rank
        assert box == ["second"]
        with pytest.raises(ValueError, match="recv_object_list: rank 0 sent 2 objects but "
                                             "object_list has 1"):  # fmt: skip
            dist.recv_object_list([None], src=0)


def test_batch_isend_irecv_exchanges_both_ways(world2):
    r, peer = world2, 1 - world2
    send = flambeau.full((3,), float(r + 1))
    got = flambeau.zeros(3)
    ops = [dist.P2POp(dist.isend, send, peer), dist.P2POp(dist.irecv, got, group_peer=peer)]
    works = dist.batch_isend_irecv(ops)
    assert len(works) == 2
    for w in works:
        w.wait()
    np.testing.assert_allclose(got.cpu().numpy(), [peer + 1.0] * 3)


def test_a_refused_batch_starts_none_of_its_ops(world2):
    r, peer = world2, 1 - world2
    if r == 0:  # the second op is refused: the first must not have been sent
        bad = [dist.P2POp(dist.isend, flambeau.full((1,), 1.0), peer),
               dist.P2POp(dist.isend, flambeau.zeros(1), 0)]
        with pytest.raises(ValueError, match="isend: dst=0 is this process's own rank"):
            dist.batch_isend_irecv(bad)
        dist.send(flambeau.full((1,), 2.0), peer)
    got = flambeau.zeros(1)
    if r == 1:
        dist.recv(got, peer)
    dist.barrier()  # both ranks get here whatever arrived, so a failure cannot hang the job
    if r == 1:
        assert got.item() == 2.0  # not the refused batch's 1.0


def test_global_and_group_ranks_of_a_sub_group(world2):
    g = dist.new_group([1])
    if world2 == 1:
        assert dist.get_global_rank(g, 0) == 1 and dist.get_group_rank(g, 1) == 0
    with pytest.raises(ValueError, match=r"get_group_rank: global_rank=0 is not a rank of the "
                                         r"group \(global ranks \[1\]\)"):  # fmt: skip
        dist.get_group_rank(g, 0)
    mine, every = dist.new_subgroups(group_size=1)
    assert dist.get_process_group_ranks(mine) == [world2] and len(every) == 2
    assert dist.get_global_rank(dist.group.WORLD, 1) == 1


def test_monitored_barrier_passes_when_every_rank_arrives(world2):
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))
    dist.monitored_barrier(timeout=30.0, wait_all_ranks=True)


@pytest.mark.parametrize("late", [1, 0])
def test_monitored_barrier_names_the_late_rank_instead_of_hanging(world2, late):
    timeout = datetime.timedelta(seconds=0.5)
    if world2 == late:
        time.sleep(2.5)  # misses the barrier: the other rank has given up by now
        with pytest.raises(dist.DistBackendError, match="monitored_barrier"):
            dist.monitored_barrier(timeout=timeout)
    else:
        start = time.monotonic()
        if late == 1:
            msg = (r"monitored_barrier: rank 1 did not reach the barrier \(or gave up waiting\) "
                   "within 0.5 s")
        else:
            msg = "monitored_barrier: rank 0 .* did not confirm the barrier within 1 s"
        with pytest.raises(dist.DistBackendError, match=msg):
            dist.monitored_barrier(timeout=timeout)
        assert time.monotonic() - start < 2.4
    dist.barrier()  # back in step
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))  # and usable again

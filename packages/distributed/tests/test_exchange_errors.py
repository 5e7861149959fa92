"""Argument errors of all_to_all, the object collectives, P2POp and monitored_barrier."""

import datetime

import numpy as np
import pytest

import flambeau
import flambeau.distributed as dist


def test_all_to_all_world_of_one_and_its_errors(world):
    out = [flambeau.zeros(2, 2)]
    dist.all_to_all(out, [flambeau.ones(4)])  # one piece of 4 elements, reshaped on arrival
    np.testing.assert_array_equal(out[0].cpu().numpy(), np.ones((2, 2)))
    work = dist.all_to_all(out, [flambeau.full((4,), 2.0)], async_op=True)
    assert work.wait() is True
    np.testing.assert_array_equal(out[0].cpu().numpy(), 2.0)
    with pytest.raises(ValueError, match="all_to_all: input_tensor_list must be a list of 1 "
                                         r"tensors \(the group size\), got 2"):  # fmt: skip
        dist.all_to_all(out, [flambeau.ones(4)] * 2)
    with pytest.raises(ValueError, match="all_to_all: output_tensor_list must be a list of 1"):
        dist.all_to_all(flambeau.ones(4), [flambeau.ones(4)])
    with pytest.raises(ValueError, match=r"all_to_all: output_tensor_list\[0\] is flambeau.int64 "
                                         "on cpu, but input_tensor_list\\[0\\] is "
                                         "flambeau.float32 on cpu"):  # fmt: skip
        dist.all_to_all([flambeau.zeros(4, dtype=flambeau.int64)], [flambeau.ones(4)])
    with pytest.raises(TypeError, match=r"all_to_all: input_tensor_list\[0\] must be a flambeau "
                                        "Tensor, got list"):  # fmt: skip
        dist.all_to_all(out, [[1.0]])


def test_all_to_all_single_world_of_one_and_its_errors(world):
    out = flambeau.zeros(2, 3)
    dist.all_to_all_single(out, flambeau.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(out.cpu().numpy(), np.arange(6.0).reshape(2, 3))
    dist.all_to_all_single(out, flambeau.ones(2, 3), output_split_sizes=[2],
                           input_split_sizes=[2])  # fmt: skip
    np.testing.assert_array_equal(out.cpu().numpy(), 1.0)
    with pytest.raises(ValueError, match=r"all_to_all_single: input_split_sizes \[1\] add up to "
                                         r"1, but input has 2 rows along dim 0 \(shape \(2, 3\)\)"):
        dist.all_to_all_single(out, flambeau.ones(2, 3), input_split_sizes=[1])
    with pytest.raises(ValueError, match="all_to_all_single: output_split_sizes must be 1 "
                                         r"non-negative ints \(one per rank\), got \[1, 1\]"):
        dist.all_to_all_single(out, flambeau.ones(2, 3), output_split_sizes=[1, 1])
    with pytest.raises(ValueError, match="all_to_all_single: a row .* of input has 4 elements but "
                                         r"one of output has 3 \(shapes \(2, 4\) and \(2, 3\)\)"):
        dist.all_to_all_single(out, flambeau.ones(2, 4))
    with pytest.raises(ValueError, match="all_to_all_single: output is flambeau.float32 on cpu but "
                                         "input is flambeau.float64 on cpu"):  # fmt: skip
        dist.all_to_all_single(out, flambeau.ones(2, 3, dtype=flambeau.float64))
    with pytest.raises(ValueError, match="all_to_all_single: input and output need a dim 0 to "
                                         r"split, got shapes \(\) and \(2, 3\)"):  # fmt: skip
        dist.all_to_all_single(out, flambeau.tensor(1.0))
    with pytest.raises(TypeError, match="all_to_all_single: input must be a flambeau Tensor"):
        dist.all_to_all_single(out, np.ones((2, 3)))


def test_even_split_needs_divisible_rows(world):
    two = dist.ProcessGroup("mpi", dist.group.WORLD.comm, [0, 1])  # stands for a world of 2
    with pytest.raises(ValueError, match="all_to_all_single: input has 3 rows along dim 0, which "
                                         "do not split evenly over 2 ranks; pass "
                                         "input_split_sizes"):  # fmt: skip
        dist.all_to_all_single(flambeau.zeros(4), flambeau.zeros(3), group=two)


def test_object_collectives_world_of_one_and_their_errors(world):
    out = [None]
    dist.gather_object("x", out, group_dst=0)
    assert out == ["x"]
    with pytest.raises(ValueError, match="gather_object: object_gather_list must be a list of 1 "
                                         r"\(the group size\), got None"):  # fmt: skip
        dist.gather_object("x")
    with pytest.raises(ValueError, match="gather_object: pass dst .* or group_dst, not both"):
        dist.gather_object("x", out, dst=0, group_dst=0)
    with pytest.raises(ValueError, match=r"gather_object: group_dst=1 is not a rank of the group "
                                         r"\(size 1\)"):  # fmt: skip
        dist.gather_object("x", out, group_dst=1)
    with pytest.raises(ValueError, match=r"gather_object: dst=3 is not a rank of the group"):
        dist.gather_object("x", out, dst=3)
    with pytest.raises(ValueError, match="scatter_object_list: scatter_object_output_list must be "
                                         "a list of at least one item"):  # fmt: skip
        dist.scatter_object_list([], ["x"])
    with pytest.raises(ValueError, match="scatter_object_list: scatter_object_input_list must be "
                                         "a list of 1"):  # fmt: skip
        dist.scatter_object_list([None], ["x", "y"])
    with pytest.raises(ValueError, match=r"send_object_list: pass dst \(a global rank\) or "
                                         "group_dst$"):  # fmt: skip
        dist.send_object_list(["x"])
    with pytest.raises(ValueError, match="send_object_list: dst=0 is this process's own rank"):
        dist.send_object_list(["x"], group_dst=0)
    with pytest.raises(ValueError, match="recv_object_list: src=0 is this process's own rank"):
        dist.recv_object_list([None], group_src=0)


def test_object_lists_must_be_lists(world):
    two = dist.ProcessGroup("mpi", dist.group.WORLD.comm, [1, 0])  # global 0 is group rank 1
    with pytest.raises(TypeError, match="send_object_list: object_list must be a list, got tuple"):
        dist.send_object_list(("x",), dst=0, group=two)
    with pytest.raises(TypeError, match="recv_object_list: object_list must be a list, got str"):
        dist.recv_object_list("x", src=0, group=two)


def test_p2p_op_and_batch_errors(world):
    t = flambeau.zeros(2)
    with pytest.raises(ValueError, match="P2POp: op must be flambeau.distributed.isend or irecv, "
                                         "got send"):  # fmt: skip
        dist.P2POp(dist.send, t, 0)
    with pytest.raises(TypeError, match="P2POp: tensor must be a flambeau Tensor, got list"):
        dist.P2POp(dist.isend, [1.0], 0)
    with pytest.raises(ValueError, match=r"P2POp: pass peer \(a global rank\) or group_peer, "
                                         "exactly one"):  # fmt: skip
        dist.P2POp(dist.isend, t)
    assert repr(dist.P2POp(dist.irecv, t, group_peer=0, tag=2)) == \
        "P2POp(irecv, group_peer=0, tag=2)"  # fmt: skip
    with pytest.raises(ValueError, match="batch_isend_irecv: p2p_op_list must be a non-empty "
                                         "list of P2POp"):  # fmt: skip
        dist.batch_isend_irecv([dist.P2POp(dist.isend, t, 0), "op"])
    sub = dist.new_group([0])
    with pytest.raises(ValueError, match="batch_isend_irecv: every P2POp must use the same group"):
        dist.batch_isend_irecv([dist.P2POp(dist.isend, t, 0),
                                dist.P2POp(dist.irecv, t, 0, group=sub)])  # fmt: skip
    with pytest.raises(ValueError, match="isend: dst=0 is this process's own rank"):
        dist.batch_isend_irecv([dist.P2POp(dist.isend, t, group_peer=0)])


def test_monitored_barrier_world_of_one_and_bad_timeouts(world):
    dist.monitored_barrier()
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=1), wait_all_ranks=True)
    for bad in [datetime.timedelta(0), -1.0, "1s"]:
        with pytest.raises(ValueError, match="monitored_barrier: timeout must be a positive "
                                             r"datetime.timedelta \(or seconds\)"):  # fmt: skip
            dist.monitored_barrier(timeout=bad)


def test_new_collectives_need_an_initialized_group():
    for call in [lambda: dist.all_to_all([], []), lambda: dist.gather_object(1),
                 lambda: dist.monitored_barrier(),
                 lambda: dist.batch_isend_irecv([dist.P2POp(dist.isend, flambeau.ones(1), 1)])]:
        with pytest.raises(RuntimeError, match="the default process group has not been "
                                               "initialized"):  # fmt: skip
            call()

"""Backend names, launcher helpers, error classes and group helpers, next to torch's."""

import datetime

import pytest

import flambeau
import flambeau.distributed as dist


def test_backend_is_a_lower_case_string_with_torchs_constants():
    torch = pytest.importorskip("torch")
    for name in ["UNDEFINED", "GLOO", "NCCL", "UCC", "MPI", "XCCL", "FAKE"]:
        assert getattr(dist.Backend, name) == getattr(torch.distributed.Backend, name)
    assert dist.Backend("MPI") == torch.distributed.Backend("MPI") == "mpi"
    assert isinstance(dist.Backend("nccl"), str)
    assert set(dist.Backend.backend_list) == set(torch.distributed.Backend.backend_list)
    with pytest.raises(ValueError, match="Backend: the name must be a string such as 'mpi', "
                                         "got int"):  # fmt: skip
        dist.Backend(3)


def test_availability():
    torch = pytest.importorskip("torch")
    for name in ["is_gloo_available", "is_ucc_available", "is_xccl_available"]:
        assert getattr(dist, name)() is (name == "is_gloo_available")
        assert getattr(torch.distributed, name)() in (True, False)  # exists in torch too
    assert dist.is_gloo_available() is torch.distributed.is_gloo_available() is True
    assert dist.is_backend_available("mpi") is True
    assert dist.is_backend_available("MPI") is True
    assert dist.is_backend_available("gloo") is torch.distributed.is_backend_available("gloo")
    assert dist.is_backend_available("ucc") is torch.distributed.is_backend_available("foo")
    assert dist.is_backend_available("nccl") is dist.is_nccl_available()


def test_default_backend_for_device():
    torch = pytest.importorskip("torch")
    assert dist.get_default_backend_for_device("cuda") == "nccl"
    assert dist.get_default_backend_for_device("cuda:1") == "nccl"
    assert torch.distributed.get_default_backend_for_device("cuda:1") == "nccl"
    assert dist.get_default_backend_for_device(flambeau.device("cpu")) == "gloo"
    assert torch.distributed.get_default_backend_for_device("cpu") == "gloo"
    for device in ("cpu", "cuda"):
        assert dist.Backend.default_device_backend_map[device] == \
            torch.distributed.Backend.default_device_backend_map[device]  # fmt: skip
    with pytest.raises(ValueError, match="Default backend not registered for device : tpu "
                                         r"\(flambeau has one for cpu, cuda\)"):  # fmt: skip
        dist.get_default_backend_for_device("tpu")


def test_launcher_environment(monkeypatch):
    torch = pytest.importorskip("torch")
    for var in ["TORCHELASTIC_RUN_ID", "LOCAL_RANK", "MPI_LOCALRANKID",
                "OMPI_COMM_WORLD_LOCAL_RANK"]:  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    assert dist.is_torchelastic_launched() is torch.distributed.is_torchelastic_launched() is False
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job")
    assert dist.is_torchelastic_launched() is torch.distributed.is_torchelastic_launched() is True
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(RuntimeError, match="get_node_local_rank: no local rank in the "
                                           "environment.*fallback_rank="):  # fmt: skip
        dist.get_node_local_rank()
    monkeypatch.setenv("MPI_LOCALRANKID", "1")  # what MPICH's mpiexec sets
    assert dist.get_node_local_rank() == 1
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert dist.get_node_local_rank(fallback_rank=0) == 2
    assert torch.distributed.get_node_local_rank(fallback_rank=0) == 2


def test_errors_and_default_timeout():
    torch = pytest.importorskip("torch")
    assert dist.default_pg_timeout == torch.distributed.default_pg_timeout
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)
    for name in ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError",
                 "QueueEmptyError"]:  # fmt: skip
        ours, theirs = getattr(dist, name), getattr(torch.distributed, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]


def test_group_world_and_group_member(world):
    assert dist.group.WORLD is dist.GroupMember.WORLD
    assert dist.get_process_group_ranks(dist.group.WORLD) == [0]
    assert dist.GroupMember.NON_GROUP_MEMBER == -100
    dist.destroy_process_group()
    assert dist.group.WORLD is None and dist.GroupMember.WORLD is None


def test_global_and_group_ranks(world):
    g = dist.new_group([0])
    assert dist.get_global_rank(g, 0) == 0 and dist.get_group_rank(g, 0) == 0
    with pytest.raises(ValueError, match=r"get_global_rank: group rank 1 is not part of the group "
                                         r"\(it has 1 ranks\)"):  # fmt: skip
        dist.get_global_rank(g, 1)
    with pytest.raises(ValueError, match=r"get_group_rank: global_rank=2 is not a rank of the "
                                         r"group \(global ranks \[0\]\)"):  # fmt: skip
        dist.get_group_rank(g, 2)
    with pytest.raises(TypeError, match="get_global_rank: group must be a ProcessGroup, got "
                                        "NoneType"):  # fmt: skip
        dist.get_global_rank(None, 0)


def test_ranks_need_an_initialized_group():
    with pytest.raises(RuntimeError, match="get_global_rank: the default process group has not "
                                           "been initialized"):  # fmt: skip
        dist.get_global_rank(dist.ProcessGroup("mpi", None, [0]), 0)


def test_new_subgroups(world):
    mine, every = dist.new_subgroups(group_size=1)
    assert len(every) == 1 and mine is every[0]
    assert dist.get_process_group_ranks(mine) == [0]
    with pytest.raises(ValueError, match=r"new_subgroups: group_size=2 must not exceed the world "
                                         r"size \(1\)"):  # fmt: skip
        dist.new_subgroups(group_size=2)
    with pytest.raises(ValueError, match="new_subgroups: group_size must be a positive int, "
                                         "got 0"):  # fmt: skip
        dist.new_subgroups(group_size=0)
    if not flambeau.cuda.is_available():
        with pytest.raises(ValueError, match="the default group_size .* needs CUDA"):
            dist.new_subgroups()


def test_new_subgroups_needs_a_divisible_world(world):
    three = dist.ProcessGroup("mpi", object(), [0, 1, 2])  # stands for a world of 3
    with pytest.raises(ValueError, match=r"new_subgroups: the world size \(3\) must be divisible "
                                         "by group_size=2"):  # fmt: skip
        dist.new_subgroups(group_size=2, group=three)


SAME_SIGNATURE = ["all_to_all", "all_to_all_single", "gather_object", "scatter_object_list",
                  "send_object_list", "recv_object_list", "batch_isend_irecv", "get_global_rank",
                  "get_group_rank", "monitored_barrier", "is_gloo_available", "is_ucc_available",
                  "is_xccl_available", "is_torchelastic_launched", "get_node_local_rank",
                  "get_default_backend_for_device", "is_backend_available", "new_subgroups",
                  "P2POp"]  # fmt: skip


@pytest.mark.parametrize("name", SAME_SIGNATURE)
def test_signatures_match_torch(name):
    import inspect

    torch = pytest.importorskip("torch")

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    ours, theirs = params(getattr(dist, name)), params(getattr(torch.distributed, name))
    if name == "monitored_barrier":  # torch's default is GroupMember.WORLD: None until init
        theirs[0] = ("group", None)
    assert ours == theirs

import pytest

from flambeau.data import DistributedSampler


@pytest.mark.parametrize("n", [1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("shuffle", [False, True])
def test_partition_pads_without_overlap(n, replicas, shuffle):
    parts = [list(DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=3))
             for r in range(replicas)]
    size = -(-n // replicas)
    assert all(len(p) == size for p in parts)
    flat = [i for p in parts for i in p]
    assert set(flat) == set(range(n))  # every sample is seen
    assert len(flat) - len(set(flat)) == size * replicas - n  # only the padding repeats


@pytest.mark.parametrize("n, replicas", [(10, 3), (12, 4), (5, 2)])
def test_drop_last_partitions_disjoint(n, replicas):
    parts = [list(DistributedSampler(range(n), replicas, r, drop_last=True)) for r in
             range(replicas)]
    flat = [i for p in parts for i in p]
    assert len(flat) == len(set(flat)) == n // replicas * replicas
    assert all(len(p) == n // replicas for p in parts)


@pytest.mark.parity
@pytest.mark.parametrize("n", [1, 5, 10, 11])
@pytest.mark.parametrize("replicas", [2, 3, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_matches_torch_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert ours.total_size == theirs.total_size


def test_set_epoch_reshuffles_consistently_across_ranks():
    a0 = DistributedSampler(range(16), 2, 0, seed=1)
    a1 = DistributedSampler(range(16), 2, 1, seed=1)
    first = list(a0) + list(a1)
    assert sorted(first) == list(range(16))
    for s in (a0, a1):
        s.set_epoch(1)
    second = list(a0) + list(a1)
    assert sorted(second) == list(range(16)) and second != first
    assert list(DistributedSampler(range(16), 2, 0, seed=1)) == first[:8]


def test_invalid_rank():
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


def test_needs_world_without_distributed():
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        DistributedSampler(range(4))

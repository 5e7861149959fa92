import collections

import pytest

import flambeau
from flambeau.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def test_sequential_sampler():
    s = SequentialSampler(range(4))
    assert list(s) == [0, 1, 2, 3] and len(s) == 4


def test_sampler_base_is_abstract():
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(Sampler())


def test_random_sampler_is_a_seeded_permutation():
    a = list(RandomSampler(range(20), generator=flambeau.Generator().manual_seed(1)))
    b = list(RandomSampler(range(20), generator=flambeau.Generator().manual_seed(1)))
    c = list(RandomSampler(range(20), generator=flambeau.Generator().manual_seed(2)))
    assert sorted(a) == list(range(20)) and a == b and a != c and a != list(range(20))


def test_random_sampler_follows_default_generator():
    flambeau.manual_seed(5)
    a = list(RandomSampler(range(20)))
    flambeau.manual_seed(5)
    assert list(RandomSampler(range(20))) == a


def test_random_sampler_epochs_differ_with_one_generator():
    s = RandomSampler(range(20), generator=flambeau.Generator().manual_seed(0))
    assert list(s) != list(s)


def test_random_sampler_num_samples():
    s = RandomSampler(range(5), num_samples=12, generator=flambeau.Generator().manual_seed(0))
    drawn = list(s)
    assert len(drawn) == len(s) == 12
    counts = collections.Counter(drawn)
    assert set(counts) == set(range(5)) and min(counts.values()) >= 2  # two full permutations
    repl = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(repl) == 50 and set(repl) <= {0, 1, 2}


@pytest.mark.parametrize("kwargs, match", [
    ({"replacement": 1}, "replacement should be a boolean value"),
    ({"num_samples": 0}, "num_samples should be a positive integer value"),
])
def test_random_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomSampler(range(3), **kwargs)


def test_random_sampler_empty_dataset():
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler([])


def test_subset_random_sampler():
    s = SubsetRandomSampler([4, 8, 15], generator=flambeau.Generator().manual_seed(0))
    assert sorted(s) == [4, 8, 15] and len(s) == 3


def test_weighted_random_sampler():
    g = flambeau.Generator().manual_seed(0)
    s = WeightedRandomSampler([0.0, 3.0, 1.0], 4000, generator=g)
    counts = collections.Counter(s)
    assert 0 not in counts and len(s) == 4000
    assert s.weights.device == flambeau.device("cpu")  # host-side, whatever the default device
    assert abs(counts[1] / 4000 - 0.75) < 0.05
    no_repl = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(no_repl) == [0, 1, 2]


@pytest.mark.parametrize("args, match", [
    (([[1.0, 2.0]], 2), r"1d sequence but given weights have shape \(1, 2\)"),
    (([1.0], -1), "num_samples should be a positive integer value, but got num_samples=-1"),
    (([1.0], 2, "yes"), "replacement should be a boolean value"),
])
def test_weighted_random_sampler_errors(args, match):
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(*args)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9])
@pytest.mark.parametrize("batch_size", [1, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("sequential", [True, False])
def test_batch_sampler(n, batch_size, drop_last, sequential):
    source = SequentialSampler(range(n)) if sequential else list(range(n))
    got = list(BatchSampler(source, batch_size, drop_last))
    flat = [i for b in got for i in b]
    expected = [list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)]
    if drop_last and expected and len(expected[-1]) < batch_size:
        expected.pop()
    assert got == expected and flat == [i for b in expected for i in b]
    assert len(BatchSampler(source, batch_size, drop_last)) == len(expected)


@pytest.mark.parity
@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (9, 3, True), (2, 5, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(SequentialSampler(range(n))) == list(tdata.SequentialSampler(range(n)))
    del torch


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0, "drop_last": False}, "batch_size should be a positive integer value"),
    ({"batch_size": True, "drop_last": False}, "batch_size should be a positive integer"),
    ({"batch_size": 2, "drop_last": None}, "drop_last should be a boolean value"),
])
def test_batch_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchSampler(range(3), **kwargs)

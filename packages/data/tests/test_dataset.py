import pytest

import flambeau
from flambeau.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_tensor_dataset_rows():
    x = flambeau.arange(12.0).reshape(4, 3)
    y = flambeau.tensor([3, 2, 1, 0])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    row, label = ds[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 1


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match=r"size mismatch.*\[\(3,\), \(4,\)\]"):
        TensorDataset(flambeau.zeros(3), flambeau.zeros(4))


def test_stack_dataset_tuple_and_dict():
    assert StackDataset([1, 2], ["a", "b"])[1] == (2, "b")
    ds = StackDataset(x=[1, 2], y=[3, 4])
    assert ds[0] == {"x": 1, "y": 3} and len(ds) == 2
    assert ds.__getitems__([1, 0]) == [{"x": 2, "y": 4}, {"x": 1, "y": 3}]


@pytest.mark.parametrize("args, kwargs, match", [
    ((), {}, "at least one"),
    (([1],), {"b": [1]}, "not both"),
    (([1], [1, 2]), {}, r"size mismatch.*\[1, 2\]"),
])
def test_stack_dataset_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackDataset(*args, **kwargs)


def test_concat_dataset_indexing():
    ds = ConcatDataset([[0, 1, 2], [3], [4, 5]])
    assert len(ds) == 6 and ds.cumulative_sizes == [3, 4, 6]
    assert [ds[i] for i in range(6)] == [0, 1, 2, 3, 4, 5]
    assert ds[-1] == 5 and ds[-6] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length 6"):
        ds[-7]
    with pytest.raises(IndexError, match="out of range"):
        ds[6]


def test_concat_dataset_errors():
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ChainDataset"):
        ConcatDataset([Count(2)])


def test_dataset_add_and_abstract():
    class Two(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    both = Two() + Two()
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(4)] == [0, 1, 0, 1]
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(IterableDataset())


def test_chain_dataset():
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2]
    assert len(ChainDataset([[1], [2, 3]])) == 3


def test_subset():
    s = Subset(list(range(10, 20)), [5, 1, 7])
    assert len(s) == 3 and s[0] == 15 and s[2] == 17
    assert s.__getitems__([2, 1]) == [17, 11]
    nested = Subset(StackDataset(list(range(5))), [4, 0])
    assert nested.__getitems__([0, 1]) == [(4,), (0,)]


def test_random_split_lengths_cover_without_overlap():
    g = flambeau.Generator().manual_seed(3)
    parts = random_split(range(10), [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    items = sorted(list(parts[0]) + list(parts[1]))
    assert items == list(range(10))
    again = random_split(range(10), [3, 7], generator=flambeau.Generator().manual_seed(3))
    assert list(again[0]) == list(parts[0])
    other = random_split(range(10), [3, 7], generator=flambeau.Generator().manual_seed(4))
    assert list(other[0]) + list(other[1]) != list(parts[0]) + list(parts[1])


@pytest.mark.parity
@pytest.mark.parametrize("n, fractions", [(10, [0.3, 0.7]), (11, [0.3, 0.3, 0.4]),
                                          (7, [0.5, 0.5]), (5, [0.1, 0.1, 0.8])])
def test_random_split_fraction_lengths_match_torch(n, fractions):
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = [len(p) for p in random_split(range(n), fractions)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"sum of input lengths \[3, 3\] = 6 does not equal.*10"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="fraction at index 1 is not between 0 and 1"):
        random_split(range(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(range(2), [0.9, 0.1])

"""Datasets: map-style and iterable-style, their combinations, and random_split."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings

import flambeau

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]


class Dataset:
    """A map-style dataset: ``dataset[i]`` gives sample ``i``; subclasses define ``__getitem__``.

    Define ``__len__`` too (samplers and ``len(DataLoader)`` need it), and optionally
    ``__getitems__(indices)`` to fetch a whole batch in one call. ``a + b`` concatenates.

    Examples
    --------
    >>> from flambeau.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> ds = Squares()
    >>> [ds[i] for i in range(len(ds))], len(ds + ds)
    ([0, 1, 4, 9], 8)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset should "
                                  f"implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own copy; shard the stream with
    :func:`flambeau.data.get_worker_info` so workers do not repeat each other. ``a + b`` chains.

    Examples
    --------
    >>> from flambeau.data import IterableDataset
    >>> class Count(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> list(Count(2) + Count(3))
    [0, 1, 0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of IterableDataset should "
                                  f"implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the ``i``-th rows of tensors sharing their first dimension.

    Parameters
    ----------
    *tensors : Tensor
        Tensors with the same size in dimension 0.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import TensorDataset
    >>> ds = TensorDataset(flambeau.arange(6).reshape(3, 2), flambeau.tensor([0, 1, 0]))
    >>> ds[1]
    (tensor([2, 3]), tensor(1))
    >>> len(ds)
    3
    """

    def __init__(self, *tensors):
        sizes = [tuple(t.shape) for t in tensors]
        if any(len(s) == 0 for s in sizes) or len({s[0] for s in sizes}) > 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: every tensor needs "
                             f"the same size in dimension 0, got shapes {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0] if self.tensors else 0


class StackDataset(Dataset):
    """Zip datasets of equal length: samples are tuples (positional) or dicts (keywords).

    Examples
    --------
    >>> from flambeau.data import StackDataset
    >>> ds = StackDataset(image=[10, 11], label=[0, 1])
    >>> ds[1]
    {'image': 11, 'label': 1}
    >>> StackDataset([1, 2], [3, 4])[0]
    (1, 3)
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass datasets either positionally (samples are "
                             "tuples) or as keywords (samples are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = args or tuple(kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths {lengths}")
        self._length = lengths[0]
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        return [self[i] for i in indices]

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Map-style datasets one after another.

    Examples
    --------
    >>> from flambeau.data import ConcatDataset
    >>> ds = ConcatDataset([[0, 1, 2], [3, 4]])
    >>> len(ds), ds[3], ds[-1], ds.cumulative_sizes
    (5, 3, 4, [3, 5])
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the lengths of ``sequence``'s datasets."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; use "
                                "ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    @property
    def cummulative_sizes(self):
        """Deprecated misspelling of ``cumulative_sizes``, kept (with a warning) as in torch.

        Examples
        --------
        >>> import warnings
        >>> from flambeau.data import ConcatDataset
        >>> ds = ConcatDataset([[1, 2], [3]])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ds.cummulative_sizes
        [2, 3]
        """
        warnings.warn("ConcatDataset: the cummulative_sizes attribute is renamed to "
                      "cumulative_sizes", DeprecationWarning, stacklevel=2)
        return self.cumulative_sizes

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not "
                                 f"exceed dataset length {n}")
            idx += n
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {n}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another.

    Examples
    --------
    >>> from flambeau.data import ChainDataset
    >>> ds = ChainDataset([[1, 2], [3]])
    >>> list(ds), len(ds)
    ([1, 2, 3], 3)
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``.

    Examples
    --------
    >>> from flambeau.data import Subset
    >>> s = Subset([10, 11, 12, 13], [3, 0])
    >>> len(s), s[0], s[1]
    (2, 13, 10)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def _fractions_to_lengths(fractions, n):
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1 "
                             f"(got {frac})")
    lengths = [int(math.floor(n * frac)) for frac in fractions]
    # whatever flooring left over goes round-robin, as PyTorch does
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"random_split: length of split at index {i} is 0; this results in "
                          f"an empty dataset", stacklevel=3)
    return lengths


def random_split(dataset, lengths, generator=flambeau.default_generator):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths or fractions.

    Parameters
    ----------
    dataset : Dataset
        The dataset to split.
    lengths : sequence of int or float
        Lengths that sum to ``len(dataset)``, or fractions that sum to 1 (the remainder of the
        flooring is spread round-robin).
    generator : flambeau.Generator, optional
        The random stream (default: ``flambeau.default_generator``, the CPU one, as torch's;
        ``None`` also draws from it).

    Returns
    -------
    list of Subset

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import random_split
    >>> a, b = random_split(range(10), [0.7, 0.3], generator=flambeau.Generator().manual_seed(0))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (7, 3, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fractions_to_lengths(lengths, n)
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths {lengths} = {sum(lengths)} does "
                         f"not equal the length of the input dataset ({n})")
    # drawn where the generator lives (the CPU by default), whatever the default device
    device = generator.device if generator is not None else "cpu"
    indices = flambeau.randperm(n, generator=generator, device=device).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, indices[end - length:end]) for end, length in zip(ends, lengths)]

"""Samplers: which indices a DataLoader fetches, in which order, in which batches."""

from __future__ import annotations

import itertools

import numpy as np

import flambeau
from flambeau import _random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "draw_seed", "fresh_generator"]


def draw_seed(generator=None) -> int:
    """A 63-bit seed drawn from ``generator`` (default: flambeau's default CPU generator)."""
    source = _random.generator_for(generator, flambeau.device("cpu"))
    return int(source._rng.integers(0, 2**63 - 1, (), np.int64))


def fresh_generator(generator=None):
    """A new CPU generator seeded from ``generator`` (default: flambeau's default generator).

    Samplers without a generator draw one seed per epoch from the default generator, so
    ``flambeau.manual_seed`` makes them reproducible, as in PyTorch.
    """
    return flambeau.Generator().manual_seed(draw_seed(generator))


def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, "
                         f"but got {name}={value!r}")


def _check_bool(owner, name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")


class Sampler:
    """Base class of samplers: an iterable of dataset indices (or of index batches).

    Examples
    --------
    >>> from flambeau.data import Sampler
    >>> class Evens(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(0, self.n, 2))
    ...     def __len__(self):
    ...         return (self.n + 1) // 2
    >>> list(Evens(5))
    [0, 2, 4]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler should "
                                  f"implement __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Examples
    --------
    >>> from flambeau.data import SequentialSampler
    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order, optionally with replacement.

    Parameters
    ----------
    data_source : Dataset
        The dataset (only its length is used).
    replacement : bool
        Draw with replacement (then ``num_samples`` may exceed the length).
    num_samples : int, optional
        How many indices per epoch (default: the dataset's length).
    generator : flambeau.Generator, optional
        The random stream; without one, each epoch draws a seed from flambeau's default
        generator.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import RandomSampler
    >>> s = RandomSampler(range(5), generator=flambeau.Generator().manual_seed(0))
    >>> sorted(s)
    [0, 1, 2, 3, 4]
    >>> len(RandomSampler(range(5), replacement=True, num_samples=12))
    12
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("RandomSampler", "replacement", replacement)
        if num_samples is not None:
            _check_positive_int("RandomSampler", "num_samples", num_samples)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if self._num_samples is None:
            _check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self):
        """Indices per epoch."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, total = len(self.data_source), self.num_samples
        gen = self.generator if self.generator is not None else fresh_generator()
        if self.replacement:
            yield from flambeau.randint(0, n, (total,), generator=gen).tolist()
            return
        for _ in range(total // n):
            yield from flambeau.randperm(n, generator=gen).tolist()
        if total % n:
            yield from flambeau.randperm(n, generator=gen).tolist()[:total % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order, without replacement.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import SubsetRandomSampler
    >>> sorted(SubsetRandomSampler([7, 3, 9], generator=flambeau.Generator().manual_seed(1)))
    [3, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = flambeau.randperm(len(self.indices), generator=self.generator).tolist()
        for i in order:
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0..len(weights)-1`` drawn with probabilities proportional to ``weights``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.data import WeightedRandomSampler
    >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=flambeau.Generator())
    >>> list(s)
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        # indices are drawn on the host, like the other samplers': weights given as a sequence
        # stay on the CPU whatever the default device, so a CPU generator can draw from them
        device = weights.device if isinstance(weights, flambeau.Tensor) else "cpu"
        weights = flambeau.as_tensor(weights, dtype=flambeau.float64, device=device)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but "
                             f"given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        drawn = flambeau.multinomial(self.weights, self.num_samples, self.replacement,
                                     generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``.

    Examples
    --------
    >>> from flambeau.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> len(BatchSampler(range(5), batch_size=2, drop_last=True))
    2
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        size = self.batch_size
        if type(self.sampler) is SequentialSampler:  # no per-index iteration needed
            n = len(self.sampler)
            stop = n - n % size if self.drop_last else n
            for start in range(0, stop, size):
                yield list(range(start, min(start + size, n)))
            return
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, size)):
            if len(batch) < size and self.drop_last:
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size

"""DistributedSampler: each rank of a data-parallel job gets its own slice of the dataset."""

from __future__ import annotations

import math

import flambeau
from flambeau.data._sampler import Sampler

__all__ = ["DistributedSampler"]


def _world():
    # flambeau-distributed is optional: only consulted when the caller leaves the numbers out
    try:
        from flambeau import distributed as dist
    except ImportError:
        dist = None
    if dist is None or not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("DistributedSampler: pass num_replicas and rank, or initialize "
                           "flambeau.distributed (pip install flambeau-distributed) first")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler):
    """The indices of ``dataset`` for one rank out of ``num_replicas``, as PyTorch splits them.

    Every rank sees the same number of samples: without ``drop_last`` the index list is padded
    by repeating its start; with it the tail is dropped. With ``shuffle`` the order depends on
    ``seed + epoch``: call :meth:`set_epoch` at the start of every epoch.

    Parameters
    ----------
    dataset : Dataset
        The dataset (only its length is used).
    num_replicas, rank : int, optional
        The world size and this process's rank (default: from an initialized
        ``flambeau.distributed``).
    shuffle : bool
        Shuffle with a generator seeded by ``seed + epoch`` (the same on every rank).
    seed : int
        The shuffling seed, identical on all ranks.
    drop_last : bool
        Drop the tail instead of padding.

    Examples
    --------
    >>> from flambeau.data import DistributedSampler
    >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False))
    ...  for r in range(2)]
    [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            world, me = _world()
            num_replicas = world if num_replicas is None else num_replicas
            rank = me if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, "
                             f"got {num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = flambeau.Generator().manual_seed(self.seed + self.epoch)
            indices = flambeau.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif (pad := self.total_size - len(indices)) > 0:
            indices += (indices * math.ceil(pad / len(indices)))[:pad]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which changes the shuffled order (same on every rank).

        Examples
        --------
        >>> from flambeau.data import DistributedSampler
        >>> s = DistributedSampler(range(8), num_replicas=2, rank=0)
        >>> s.set_epoch(1); a = list(s); s.set_epoch(2)
        >>> a != list(s)
        True
        """
        self.epoch = epoch

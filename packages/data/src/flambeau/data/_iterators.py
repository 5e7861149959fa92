"""What a DataLoader iterator does in every mode; the single-process iterator."""

from __future__ import annotations

from flambeau import Tensor
from flambeau.data import _worker
from flambeau.data._sampler import draw_seed
from flambeau.data._shm import _map_structure

__all__ = ["BaseIter", "SingleProcessIter", "pin"]


def _pin_one(obj):
    if not isinstance(obj, Tensor):
        return obj
    return obj.pin_memory() if obj._device.type == "cpu" else obj


def pin(data):
    """Page-lock the tensors of ``data`` through their backend's ``pin`` hook, if it has one.

    NumPy's CPU backend has none, so on a CPU-only install this returns ``data`` unchanged.
    """
    return _map_structure(data, _pin_one)


class BaseIter:
    """Epoch bookkeeping shared by the iterators: base seed, task stream, pinning, len()."""

    def __init__(self, loader):
        self._loader = loader
        self._reset()

    def _reset(self):
        # the base seed is drawn before the sampler's first draw in every mode, so that
        # num_workers does not change which indices a seeded generator produces
        self._base_seed = draw_seed(self._loader.generator)
        self._task_iter = self._loader._task_iter()
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if self._loader.pin_memory:
            data = pin(data)
        return data

    def __len__(self):
        return len(self._loader)

    def _next_data(self):
        raise NotImplementedError


class SingleProcessIter(BaseIter):
    """Loads batches in the calling process (``num_workers=0``)."""

    def _reset(self):
        super()._reset()
        loader = self._loader
        self._dataset_iter = iter(loader.dataset) if loader._dataset_kind_is_iterable else None

    def _next_data(self):
        loader = self._loader
        task = next(self._task_iter)
        return _worker._fetch(loader.dataset, task, loader._auto_collation, loader.collate_fn,
                              self._dataset_iter, loader.drop_last)

"""What a DataLoader iterator does in every mode; the single-process iterator."""

from __future__ import annotations

import sys
import warnings

from flambeau import Tensor, accelerator
from flambeau.data import _worker
from flambeau.data._sampler import draw_seed
from flambeau.data._shm import _map_structure

__all__ = ["BaseIter", "SingleProcessIter", "pin"]


def _pin_one(obj):
    if not isinstance(obj, Tensor):
        return obj
    return obj.pin_memory() if obj._device.type == "cpu" else obj


def pin(data):
    """Page-lock the CPU tensors of ``data`` through the accelerator's backend (see
    :meth:`flambeau.Tensor.pin_memory`, which raises on a machine without one)."""
    return _map_structure(data, _pin_one)


def pins_memory(loader):
    """Whether an iterator of ``loader`` pins its batches: with ``pin_memory=True`` and an
    accelerator, as torch 2.13's DataLoader, which warns (at each new iterator) and does not
    pin without one, and warns that ``pin_memory_device`` is ignored."""
    if not loader.pin_memory:
        return False
    if loader.pin_memory_device:
        warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be used "
                      f"as the device,ignore pin_memory_device={loader.pin_memory_device!r}.",
                      UserWarning, stacklevel=_caller())
    if not accelerator.is_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                      "device pinned memory won't be used.", UserWarning, stacklevel=_caller())
        return False
    return True


def _caller():
    """The ``stacklevel`` of a warning issued by the caller of this function that points at
    the first frame outside flambeau.data (the user's ``for batch in loader``)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            "flambeau.data"):
        frame, level = frame.f_back, level + 1
    return level


class BaseIter:
    """Epoch bookkeeping shared by the iterators: base seed, task stream, pinning, len()."""

    def __init__(self, loader):
        self._loader = loader
        self._pin_memory = pins_memory(loader)
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
        if self._pin_memory:
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

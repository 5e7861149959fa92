"""What runs inside a DataLoader worker process, and what it can ask about itself."""

from __future__ import annotations

import os
import pickle
import queue
import random
import signal
import sys
import traceback

import numpy as np

import flambeau
from flambeau.data import _collate, _shm

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper", "worker_loop", "seed_worker"]

# message kinds from a worker to the main process
DATA, ERROR, EXHAUSTED, RESUMED = range(4)
#: how often an idle worker checks that the main process still exists
_PARENT_POLL_S = 1.0

_info = None


class WorkerInfo:
    """Facts about the current DataLoader worker: ``id``, ``num_workers``, ``seed``, ``dataset``.

    Read-only; obtain it with :func:`get_worker_info` inside a worker.

    Examples
    --------
    >>> from flambeau.data import WorkerInfo
    >>> info = WorkerInfo(id=0, num_workers=2, seed=7, dataset=None)
    >>> info.id, info.num_workers, info.seed
    (0, 2, 7)
    """

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"WorkerInfo: cannot assign attribute {key!r}; worker info is "
                               f"read-only")
        super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys)
        return f"WorkerInfo({items})"


def get_worker_info():
    """The :class:`WorkerInfo` of the current worker process, or None in the main process.

    Use it in an :class:`~flambeau.data.IterableDataset`'s ``__iter__`` to shard the stream,
    or in ``worker_init_fn`` to configure each worker's copy of the dataset.

    Examples
    --------
    >>> from flambeau.data import get_worker_info
    >>> get_worker_info() is None  # we are in the main process
    True
    """
    return _info


def seed_worker(seed):
    """Seed Python's ``random``, NumPy's global RNG and flambeau's default generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    flambeau.manual_seed(seed)


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as type + traceback text."""

    def __init__(self, exc_info, where):
        kind = exc_info[0]
        try:
            pickle.loads(pickle.dumps(kind))
            self.exc_type = kind
        except Exception:  # a class the main process cannot import: re-raise as RuntimeError
            self.exc_type = None
        self.type_name = kind.__name__
        self.where = where
        self.text = "".join(traceback.format_exception(*exc_info))

    def reraise(self):
        """Raise the worker's exception type (or RuntimeError) with its traceback in the text."""
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            msg = _PlainMessage(msg)  # KeyError would show repr() of the message, quotes and \n
        try:
            exc = self.exc_type(msg) if self.exc_type is not None else None
        except Exception:
            exc = None
        if not isinstance(exc, BaseException):
            raise RuntimeError(msg) from None
        raise exc


class _PlainMessage(str):
    def __repr__(self):
        return str(self)


def _fetch(dataset, task, auto_collation, collate_fn, iterator, drop_last):
    if iterator is not None:  # iterable-style: the task only says "one more"
        if not auto_collation:
            return collate_fn(next(iterator))
        samples = []
        for _ in range(task):
            try:
                samples.append(next(iterator))
            except StopIteration:
                break
        if not samples or (drop_last and len(samples) < task):
            raise StopIteration
        return collate_fn(samples)
    if not auto_collation:
        return collate_fn(dataset[task])
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(task) if getitems else [dataset[i] for i in task]
    return collate_fn(samples)


def _error(task_id, epoch, worker_id, where):
    wrapper = ExceptionWrapper(sys.exc_info(), where)
    return pickle.dumps((task_id, epoch, worker_id, ERROR, wrapper), pickle.HIGHEST_PROTOCOL)


def worker_loop(dataset, index_queue, result_conn, worker_id, num_workers, base_seed,
                worker_init_fn, collate_fn, auto_collation, drop_last, is_iterable, prefix,
                slots, parent_pid):
    """The body of worker process ``worker_id``; returns when told to or the parent is gone."""
    global _info
    # Ctrl-C reaches the whole process group; the main process decides when we stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    seed = base_seed + worker_id
    seed_worker(seed)
    _info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id} (worker id {worker_id}, pid {os.getpid()})"
    init_error = None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception:
        init_error = ExceptionWrapper(sys.exc_info(), where)
    iterator = iter(dataset) if is_iterable and init_error is None else None
    exhausted = False
    ring = _shm.WorkerSlots(prefix, worker_id, slots)
    done = 0
    try:
        while True:
            try:
                msg = index_queue.get(timeout=_PARENT_POLL_S)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    return
                continue
            if msg is None:
                return
            task_id, epoch, task = msg
            if task_id < 0:  # resume a persistent worker for a new epoch with a new seed
                seed = task + worker_id
                seed_worker(seed)
                _info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                   dataset=dataset)
                iterator, exhausted = (iter(dataset) if is_iterable else None), False
                result_conn.send((task_id, epoch, worker_id, RESUMED, None))
                continue
            slot = done % slots
            done += 1
            if init_error is not None:
                result_conn.send((task_id, epoch, worker_id, ERROR, init_error))
                continue
            if exhausted:
                result_conn.send((task_id, epoch, worker_id, EXHAUSTED, None))
                continue
            try:
                with _collate._allocating_with(ring.allocator(slot)):
                    data = _fetch(dataset, task, auto_collation, collate_fn, iterator, drop_last)
                payload = pickle.dumps((task_id, epoch, worker_id, DATA,
                                        (slot, *ring.pack(slot, data))), pickle.HIGHEST_PROTOCOL)
                del data
            except StopIteration:
                if iterator is None:
                    payload = _error(task_id, epoch, worker_id, where)
                else:
                    exhausted = True
                    payload = pickle.dumps((task_id, epoch, worker_id, EXHAUSTED, None))
            except Exception:
                payload = _error(task_id, epoch, worker_id, where)
            result_conn.send_bytes(payload)
    except (BrokenPipeError, EOFError, OSError):
        pass  # the main process went away; nothing left to report to
    finally:
        ring.close()
        result_conn.close()

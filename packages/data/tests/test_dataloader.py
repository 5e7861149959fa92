import multiprocessing
import os
import random

import numpy as np
import pytest
from leakcheck import no_leftovers  # noqa: F401 - autouse fixture

import flambeau
from flambeau.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    get_worker_info,
)


class Squares(Dataset):
    def __init__(self, n=20):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": flambeau.full((2, 3), float(i)), "i": i, "name": f"s{i}"}


class Noisy(Dataset):
    """Random augmentation from all three generators, plus who produced it."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        info = get_worker_info()
        return (flambeau.rand(2), np.random.rand(), random.random(),
                -1 if info is None else info.id, os.getpid())


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class Sized(Stream):
    def __len__(self):
        return self.n


def _flat(batches):
    return [(b["x"].cpu().numpy().tolist(), b["i"].tolist(), b["name"]) for b in batches]


def test_batches_single_process():
    batches = list(DataLoader(Squares(10), batch_size=4))
    assert [b["i"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0]["x"].shape == (4, 2, 3) and batches[2]["name"] == ["s8", "s9"]
    assert batches[1]["x"][1, 0, 0].item() == 5.0


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_match_single_process(shuffle):
    kw = dict(batch_size=3, shuffle=shuffle)
    single = _flat(DataLoader(Squares(), generator=flambeau.Generator().manual_seed(0), **kw))
    multi = _flat(DataLoader(Squares(), num_workers=2,
                             generator=flambeau.Generator().manual_seed(0), **kw))
    assert single == multi and len(single) == 7


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_drop_last_and_len():
    loader = DataLoader(Squares(10), batch_size=4, drop_last=True, num_workers=2)
    assert len(loader) == 2
    assert [b["i"].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(Squares(10), batch_size=4)) == 3


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
@pytest.mark.parametrize("workers", [0, 2])
def test_no_auto_batching(workers):
    ds = TensorDataset(flambeau.arange(5))
    got = [x[0].item() for x in DataLoader(ds, batch_size=None, num_workers=workers)]
    assert got == [0, 1, 2, 3, 4]
    arrays = DataLoader([np.full(2, i) for i in range(3)], batch_size=None,
                        num_workers=workers)
    assert all(isinstance(a, flambeau.Tensor) for a in arrays)
    assert [a.tolist() for a in arrays] == [[0, 0], [1, 1], [2, 2]]


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
@pytest.mark.parametrize("workers", [0, 2])
def test_batch_sampler_and_collate_fn(workers):
    sampler = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    loader = DataLoader(Squares(7), batch_sampler=sampler, num_workers=workers,
                        collate_fn=lambda samples: np.array([s["i"] for s in samples]))
    got = list(loader)
    assert all(isinstance(b, np.ndarray) for b in got)
    assert [b.tolist() for b in got] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3


@pytest.mark.parametrize("workers", [0, 2])
def test_iterable_dataset_sharded_by_worker_info(workers):
    got = [x for b in DataLoader(Stream(11), batch_size=2, num_workers=workers)
           for x in b.tolist()]
    assert sorted(got) == list(range(11)) and len(got) == 11
    assert len(DataLoader(Sized(11), batch_size=2)) == 6
    assert len(DataLoader(Sized(11), batch_size=2, drop_last=True)) == 5
    assert len(DataLoader(Sized(11), batch_size=None)) == 11
    dropped = list(DataLoader(Stream(5), batch_size=2, drop_last=True))
    assert [b.tolist() for b in dropped] == [[0, 1], [2, 3]]


def test_iterable_without_batching_in_workers():
    got = sorted(int(x) for x in DataLoader(Stream(7), batch_size=None, num_workers=2))
    assert got == list(range(7))


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_seeded_generator_reproduces_an_epoch():
    def epoch(seed, workers):
        loader = DataLoader(Noisy(), batch_size=4, shuffle=True, num_workers=workers,
                            generator=flambeau.Generator().manual_seed(seed))
        return [(a.cpu().numpy().tolist(), b.tolist(), c.tolist()) for a, b, c, _, _ in loader]

    assert epoch(7, 2) == epoch(7, 2)
    assert epoch(7, 2) != epoch(8, 2)


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_distinct_random_streams_across_workers():
    loader = DataLoader(Noisy(), batch_size=2, num_workers=2)
    batches = list(loader)
    workers = [int(b[3][0]) for b in batches]
    assert sorted(set(workers)) == [0, 1]
    by_worker = {w: b for w, b in zip(workers, batches)}
    first, second = by_worker[0], by_worker[1]
    for k in range(3):  # flambeau, numpy, random
        assert not np.array_equal(np.asarray(first[k].tolist()), np.asarray(second[k].tolist()))
    values = [tuple(np.ravel(b[0][j].tolist())) for b in batches for j in range(2)]
    assert len(set(values)) == len(values)  # no augmentation is repeated


def _record_info(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 2
    np.random.seed(1000 + worker_id)  # overrides the automatic seed


class InfoDataset(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, info.seed, np.random.randint(0, 2**31)


def test_worker_init_fn_and_worker_info():
    loader = DataLoader(InfoDataset(), batch_size=1, num_workers=2, worker_init_fn=_record_info,
                        generator=flambeau.Generator().manual_seed(3))
    rows = [(int(a), int(b), int(c)) for a, b, c in loader]
    ids = [r[0] for r in rows]
    assert ids == [0, 1, 0, 1]  # round-robin, in order
    seeds = {r[0]: r[1] for r in rows}
    assert seeds[1] == seeds[0] + 1
    first_draw = np.random.RandomState(1000).randint(0, 2**31)
    assert rows[0][2] == first_draw


def test_get_worker_info_in_main_process_is_none():
    assert get_worker_info() is None


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_persistent_workers_keep_processes_and_reseed():
    loader = DataLoader(Noisy(), batch_size=4, num_workers=2, persistent_workers=True)
    epochs = [list(loader) for _ in range(3)]
    pids = [{int(p) for b in e for p in b[4].tolist()} for e in epochs]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    draws = [[b[0].cpu().numpy().tolist() for b in e] for e in epochs]
    assert draws[0] != draws[1]  # a new base seed per epoch
    it = iter(loader)
    next(it)  # abandon mid-epoch: the next epoch must still be complete and correct
    again = list(loader)
    assert len(again) == 4 and len(again[0][0]) == 4
    del loader, it, again, epochs


@pytest.mark.host_only  # forked workers cannot use the parent's GPU (nor in torch)
def test_out_of_order_delivery_yields_everything():
    loader = DataLoader(Squares(13), batch_size=2, num_workers=2, in_order=False)
    got = sorted(i for b in loader for i in b["i"].tolist())
    assert got == list(range(13))


def test_prefetch_factor_and_large_growing_batches():
    sizes = [1, 50, 3, 4000, 2, 9000, 10]
    ds = [np.full(n, float(k)) for k, n in enumerate(sizes)]
    loader = DataLoader(ds, batch_size=None, num_workers=2, prefetch_factor=1)
    got = list(loader)
    assert [len(t) for t in got] == sizes
    assert all(float(t[-1]) == k for k, t in enumerate(got))


def test_pin_memory_calls_the_accelerator_backends_hook(monkeypatch):
    from flambeau import _methods

    pinned = []

    class FakeAccelerator:
        def pin(self, tensor):
            pinned.append(tuple(tensor.shape))
            return tensor * 10

    monkeypatch.setattr(_methods, "_accelerator", lambda device: FakeAccelerator())
    monkeypatch.setattr(flambeau.accelerator, "is_available", lambda: True)
    loader = DataLoader(TensorDataset(flambeau.arange(4, device="cpu")), batch_size=2,
                        pin_memory=True)
    assert [b[0].tolist() for b in loader] == [[0, 10], [20, 30]] and pinned == [(2,), (2,)]


def test_spawn_context():
    loader = DataLoader(Squares(6), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    assert _flat(loader) == _flat(DataLoader(Squares(6), batch_size=2))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_workers": -1}, ValueError, "num_workers option should be a non-negative"),
    ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
    ({"num_workers": 1, "prefetch_factor": 0}, ValueError, "prefetch_factor option should be"),
    ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers"),
    ({"sampler": [0], "shuffle": True}, ValueError, "mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually"),
    ({"batch_size": None, "drop_last": True}, ValueError, "disables auto-batching"),
    ({"multiprocessing_context": "fork"}, ValueError, "only be used with multi-process"),
    ({"num_workers": 1, "multiprocessing_context": "nope"}, ValueError, "valid start method"),
    ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "valid context object"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(Squares(), **kwargs)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]},
                                    {"batch_sampler": [[0]]}])
def test_iterable_dataset_rejects_samplers(kwargs):
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
        DataLoader(Stream(3), **kwargs)


def test_frozen_attributes():
    loader = DataLoader(Squares(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 3
    assert loader.batch_size == 2
    loader.timeout = 1  # not frozen


class HeldFirst(Dataset):
    """Sample 0 waits until the test releases it (or 30 s pass), however slow the machine."""

    def __init__(self):
        self.release = multiprocessing.Event()

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            self.release.wait(30)
        return i


def test_out_of_order_delivery_does_not_wait_for_a_slow_batch():
    held = HeldFirst()
    it = iter(DataLoader(held, batch_size=2, num_workers=2, in_order=False))
    first = next(it)  # cannot be [0, 1]: that batch is held until after this returns
    held.release.set()
    assert first.tolist() != [0, 1]
    assert sorted(i for b in [first, *it] for i in b.tolist()) == list(range(8))
    ordered = next(iter(DataLoader(held, batch_size=2, num_workers=2)))
    assert ordered.tolist() == [0, 1]


def test_spawn_with_unpicklable_collate_fn_fails_cleanly():
    loader = DataLoader(Squares(4), num_workers=1, multiprocessing_context="spawn",
                        collate_fn=lambda b: b)
    with pytest.raises(Exception, match="pickle|lambda"):
        iter(loader)


def test_worker_info_is_read_only():
    from flambeau.data import WorkerInfo

    info = WorkerInfo(id=1, num_workers=2, seed=5, dataset=None)
    with pytest.raises(RuntimeError, match="cannot assign attribute 'id'"):
        info.id = 0
    assert info.id == 1 and repr(info) == "WorkerInfo(id=1, num_workers=2, seed=5, dataset=None)"


def _add_one_to_x(queue, done):
    batch = queue.get(timeout=120)
    batch["x"].add_(1)
    done.put(batch["x"].is_shared())


@pytest.mark.host_only  # shared memory is host memory
def test_worker_batches_arrive_private_and_move_to_shared_memory_when_sent():
    # documented difference: torch's worker batches arrive is_shared(); flambeau's are copied
    # out of the worker's segments into private memory (cheaper than a new segment per batch)
    import flambeau.multiprocessing as mp
    from flambeau.testing import join_processes

    batch = list(DataLoader(Squares(4), batch_size=2, num_workers=1))[0]
    assert not batch["x"].is_shared()
    ctx = mp.get_context("fork")
    queue, done = ctx.Queue(), ctx.SimpleQueue()
    p = ctx.Process(target=_add_one_to_x, args=(queue, done))
    p.start()
    queue.put(batch)
    assert done.get()
    join_processes([p], 120)
    assert batch["x"].is_shared()
    np.testing.assert_array_equal(batch["x"].cpu().numpy(),
                                  np.stack([np.full((2, 3), 1.0), np.full((2, 3), 2.0)]))
    queue.close()
    queue.join_thread()


class Tagged(flambeau.Tensor):
    """A Tensor subclass with metadata, as the vision package's tv_tensors."""


class TaggedItems(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        t = flambeau.full((2,), float(i)).as_subclass(Tagged)
        t.canvas = (i, 8)
        plain, noted = flambeau.ones(1), flambeau.ones(1)
        noted.note = i  # attributes on a plain tensor cross too, as pickling keeps them
        return {"t": t, "plain": plain, "noted": noted}


@pytest.mark.host_only  # the workers' batches come back as CPU tensors
def test_tensor_subclasses_cross_workers_with_their_metadata():
    # torch's DataLoader keeps a Tensor subclass and its __dict__ (tv_tensors rely on it)
    batches = list(DataLoader(TaggedItems(), batch_size=None, num_workers=2))
    for i, item in enumerate(batches):
        assert type(item["t"]) is Tagged and item["t"].canvas == (i, 8)
        np.testing.assert_array_equal(item["t"].cpu().numpy(), [float(i)] * 2)
        assert type(item["plain"]) is flambeau.Tensor and not item["plain"].__dict__
        assert type(item["noted"]) is flambeau.Tensor and item["noted"].note == i

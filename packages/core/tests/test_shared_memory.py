"""Tensors in shared memory: ``share_memory_``/``is_shared`` as torch's, and the memory
reaching other processes through ``flambeau.multiprocessing`` (fork and spawn)."""

import copy
import gc
import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import flambeau
import flambeau.multiprocessing as mp
from flambeau import _shared_memory
from flambeau.backends import Backend, get_backend
from flambeau.testing import join_processes

# shared memory is host memory: the tensors here are CPU tensors
pytestmark = pytest.mark.host_only

TIMEOUT = 120  # seconds for a child process (spawn imports flambeau in each)
_needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                                 reason="lists open descriptors through /proc")


def _torch():
    return pytest.importorskip("torch")


def _segments():
    """The shared segments this process has open, as (device, inode) of their files (a
    segment's mapping holds a descriptor of its own)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        path = f"/proc/self/fd/{fd}"
        try:
            if "flambeau-shared" in os.readlink(path):
                info = os.stat(path)
                found.add((info.st_dev, info.st_ino))
        except OSError:
            continue
    return found


# ------------------------------------------------------------------ in one process


def test_share_memory_moves_the_storage_in_place_as_torch():
    torch = _torch()
    for lib in (flambeau, torch):
        t = lib.arange(6.0)
        ptr = t.data_ptr()
        assert not t.is_shared()
        assert t.share_memory_() is t
        assert t.is_shared() and t.data_ptr() != ptr
        np.testing.assert_array_equal(t.cpu().numpy(), np.arange(6.0))
        view = t[1:3]
        assert view.is_shared()
        view.add_(10)
        np.testing.assert_array_equal(t.cpu().numpy(), [0, 11, 12, 3, 4, 5])
        assert t.share_memory_() is t and t.data_ptr() == view.data_ptr() - 4  # a no-op now


def test_sharing_a_view_moves_its_base():
    torch = _torch()
    for lib in (flambeau, torch):
        base = lib.arange(6.0)
        view = base[1:4]
        view.share_memory_()
        assert base.is_shared() and view.is_shared()
        view.mul_(2)
        np.testing.assert_array_equal(base.cpu().numpy(), [0, 2, 4, 6, 4, 5])
        assert view.data_ptr() == base.data_ptr() + 4


def test_views_taken_before_sharing_move_with_the_storage_as_torch():
    torch = _torch()
    for lib in (flambeau, torch):
        t = lib.zeros(4)
        view, view_of_view, alias, shaped = t[1:3], t[1:3][1:], t.detach(), t.reshape(2, 2)
        t.share_memory_()
        assert all(x.is_shared() for x in (view, view_of_view, alias, shaped)), lib
        t.add_(1)
        view_of_view.mul_(5)
        np.testing.assert_array_equal(view.cpu().numpy(), [1.0, 5.0])
        np.testing.assert_array_equal(shaped.cpu().numpy(), [[1.0, 1.0], [5.0, 1.0]])
        assert view.data_ptr() == t.data_ptr() + 4 and alias.data_ptr() == t.data_ptr()


def test_sharing_a_view_moves_the_other_views_of_its_base_as_torch():
    torch = _torch()
    for lib in (flambeau, torch):
        base = lib.arange(6.0)
        first, last, other = base[:2], base[4:], lib.arange(2.0)
        first.share_memory_()
        assert base.is_shared() and last.is_shared() and not other.is_shared()
        base.add_(1)
        np.testing.assert_array_equal(last.cpu().numpy(), [5.0, 6.0])


def test_a_copy_of_a_view_is_left_alone():
    t = flambeau.zeros(3)
    view = t[1:]
    copy = view.detach().clone()  # its own memory
    t.share_memory_()
    assert view.is_shared() and not copy.is_shared()


@pytest.mark.parametrize("make", [
    lambda: flambeau.zeros(0, 3),
    lambda: flambeau.tensor(2.5),
    lambda: flambeau.ones(3).expand(2, 3),
    lambda: flambeau.arange(4.0).flip(0),
    lambda: flambeau.arange(6.0).reshape(2, 3).t(),
    lambda: flambeau.ones(3, dtype=flambeau.bfloat16),
    lambda: flambeau.tensor([True, False]),
    lambda: flambeau.tensor([1 + 2j]),
], ids=["empty", "0-d", "expanded", "flipped", "transposed", "bfloat16", "bool", "complex"])
def test_values_shape_and_strides_are_kept(make):
    t = make()
    want, stride = t.cpu().numpy().copy(), t.stride()
    t.share_memory_()
    assert t.is_shared()
    assert t.shape == want.shape and t.stride() == stride
    np.testing.assert_array_equal(t.cpu().numpy(), want)


def test_leaves_keep_their_autograd_state():
    torch = _torch()
    grads = []
    for lib in (flambeau, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.share_memory_()
        assert w.is_shared() and w.requires_grad and w.is_leaf
        (w * w).sum().backward()
        grads.append(w.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_storages_follow_their_tensor_and_share_as_torch():
    import warnings

    torch = _torch()
    for lib in (flambeau, torch):
        t = lib.zeros(4)
        s = t[1:].untyped_storage()
        assert not s.is_shared()
        t.share_memory_()
        assert s.is_shared() and s.data_ptr() == t.data_ptr()
        u = lib.UntypedStorage(3).fill_(7)
        assert u.share_memory_() is u and u.is_shared() and u.tolist() == [7, 7, 7]
    # (not torch's: it warns about TypedStorage once per process, which test_storage checks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        typed = flambeau.ones(2).storage()
    assert typed.share_memory_() is typed and typed.is_shared() and typed.untyped().is_shared()
    assert typed.tolist() == [1.0, 1.0]


def test_resizing_a_shared_tensor_beyond_its_memory_raises():
    t = flambeau.arange(6.0).share_memory_()
    with pytest.raises(RuntimeError, match=r"resize_: Trying to resize storage that is not "
                                           r"resizable: the tensor of shape \[6\] is in shared "
                                           r"memory \(share_memory_\(\)\)"):
        t.resize_(10)
    np.testing.assert_array_equal(t.cpu().numpy(), np.arange(6.0))  # left as it was
    strided = flambeau.arange(6.0).reshape(2, 3).t().share_memory_()
    with pytest.raises(RuntimeError, match="cannot grow or be copied to \\[4\\]"):
        strided.resize_(4)
    # shrinking stays in the same memory, as torch's does
    t.resize_(2, 2)
    assert t.is_shared() and t.shape == (2, 2)
    torch = _torch()
    small = torch.arange(6.0).share_memory_().resize_(2, 2)
    assert small.is_shared()
    np.testing.assert_array_equal(t.cpu().numpy(), small.numpy())


def test_plain_pickle_and_copy_behave_as_for_other_tensors():
    t = flambeau.arange(4.0).share_memory_()
    back = pickle.loads(pickle.dumps(t[1:3]))
    assert not back.is_shared()
    np.testing.assert_array_equal(back.cpu().numpy(), [1.0, 2.0])
    # the pickle is the one of an unshared tensor: nothing about the memory is stored
    assert pickle.dumps(t) == pickle.dumps(flambeau.arange(4.0))
    alias = copy.copy(t)  # copy.copy shares memory, as for any tensor (and in torch)
    assert alias.is_shared()
    alias.add_(1)
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 2.0, 3.0, 4.0])
    deep = copy.deepcopy(t)
    assert not deep.is_shared()


def test_backends_without_host_memory_leave_tensors_where_they_are():
    class DeviceMemory(Backend):
        host_memory = False

    raw = np.zeros(4, dtype=np.uint8)
    dev = DeviceMemory("dev", xp=np)
    assert dev.share_memory(raw) is None and dev.is_shared(raw) is False
    cpu = get_backend("cpu")
    shared = cpu.share_memory(raw)
    assert cpu.is_shared(shared) and not cpu.is_shared(raw)
    np.testing.assert_array_equal(shared, raw)


@_needs_proc
def test_memory_is_released_when_the_last_tensor_goes():
    gc.collect()
    before = _segments()
    t = flambeau.ones(1000).share_memory_()
    s = t.untyped_storage()
    assert len(_segments() - before) == 1
    del t
    gc.collect()
    assert len(_segments() - before) == 1  # the storage still holds it
    del s
    gc.collect()
    assert not _segments() - before


# ------------------------------------------------------------------ across processes


def _add_one(tensors):
    for t in tensors:
        t.add_(1)


def _take_and_add(queue, done):
    first, second = queue.get(timeout=TIMEOUT)
    first.add_(1)
    done.put((first.is_shared(), second.tolist()))  # second is a view of first's memory


def _pool_square(t):
    t.mul_(t)
    return float(t.sum())


def _spawned_add(i, t, done):
    t[i].add_(i + 1)
    done.put(i)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_process_arguments_share_memory_as_torch(start_method):
    torch = _torch()
    for lib, lib_mp in ((flambeau, mp), (torch, torch.multiprocessing)):
        ctx = lib_mp.get_context(start_method)
        shared = lib.zeros(3).share_memory_()
        view = shared[1:]
        private = lib.zeros(2)
        p = ctx.Process(target=_add_one, args=([shared, view, private],))
        p.start()
        join_processes([p], TIMEOUT)
        np.testing.assert_array_equal(shared.cpu().numpy(), [1.0, 2.0, 2.0])
        # spawn pickles the arguments, which moves ``private`` into shared memory first;
        # a forked child has a copy-on-write copy of it
        moved = start_method == "spawn"
        assert private.is_shared() == moved, lib
        np.testing.assert_array_equal(private.cpu().numpy(), [float(moved)] * 2)


def _add_one_and_report(queue, done):
    t = queue.get(timeout=TIMEOUT)
    t.add_(1)
    done.put(t.is_shared())


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_queue_moves_a_tensor_into_shared_memory_as_torch(start_method):
    torch = _torch()
    for lib, lib_mp in ((flambeau, mp), (torch, torch.multiprocessing)):
        ctx = lib_mp.get_context(start_method)
        base = lib.zeros(4)
        earlier_view = base[:2]
        queue, done = ctx.Queue(), ctx.SimpleQueue()
        p = ctx.Process(target=_add_one_and_report, args=(queue, done))
        p.start()
        queue.put(base[2:])  # a view: its whole storage moves
        received_shared = done.get()
        join_processes([p], TIMEOUT)
        assert received_shared and base.is_shared() and earlier_view.is_shared(), lib
        np.testing.assert_array_equal(base.cpu().numpy(), [0.0, 0.0, 1.0, 1.0])
        queue.close()
        queue.join_thread()


def test_only_multiprocessing_pickler_moves_tensors():
    from multiprocessing import reduction

    t = flambeau.arange(3.0)
    pickle.dumps(t)
    assert not t.is_shared()
    back = pickle.loads(reduction.ForkingPickler.dumps(t))
    assert t.is_shared() and back.is_shared()
    np.testing.assert_array_equal(back.cpu().numpy(), [0.0, 1.0, 2.0])


def test_a_backend_that_does_not_share_sends_a_copy(monkeypatch):
    from multiprocessing import reduction

    monkeypatch.setattr(type(get_backend("cpu")), "share_memory", lambda self, raw: None)
    t = flambeau.arange(3.0)
    back = pickle.loads(reduction.ForkingPickler.dumps(t))
    assert not t.is_shared() and not back.is_shared()
    np.testing.assert_array_equal(back.cpu().numpy(), [0.0, 1.0, 2.0])


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_queue_round_trip_maps_one_memory(start_method):
    ctx = mp.get_context(start_method)
    base = flambeau.arange(4.0).share_memory_()
    queue, done = ctx.Queue(), ctx.SimpleQueue()
    p = ctx.Process(target=_take_and_add, args=(queue, done))
    p.start()
    queue.put((base, base[2:]))
    was_shared, second = done.get()
    join_processes([p], TIMEOUT)
    assert was_shared
    assert second == [3.0, 4.0]  # the child's write through ``first`` reached ``second``
    np.testing.assert_array_equal(base.cpu().numpy(), [1.0, 2.0, 3.0, 4.0])
    queue.close()
    queue.join_thread()


def _echo_after_add(there, back):
    t = there.get()
    t.add_(1)
    back.put(t)
    there.get()  # run until the parent has the tensor: it fetches the descriptor from here


def test_simple_queue_and_a_tensor_sent_back():
    ctx = mp.get_context("fork")
    t = flambeau.zeros(2).share_memory_()
    there, back = ctx.SimpleQueue(), ctx.SimpleQueue()
    p = ctx.Process(target=_echo_after_add, args=(there, back))
    p.start()
    try:
        there.put(t)
        returned = back.get()
    finally:
        there.put(None)
        join_processes([p], TIMEOUT)
    assert returned.is_shared()
    returned.add_(5)  # the parent's own memory, mapped a second time
    np.testing.assert_array_equal(t.cpu().numpy(), [6.0, 6.0])


def test_pool_workers_write_into_shared_tensors():
    xs = [flambeau.full((2,), float(i)).share_memory_() for i in range(3)]
    with mp.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_pool_square, xs)
        sums = result.get(TIMEOUT)
    assert sums == [0.0, 2.0, 8.0]
    np.testing.assert_array_equal(np.stack([x.cpu().numpy() for x in xs]),
                                  [[0, 0], [1, 1], [4, 4]])


def test_spawn_passes_shared_tensors():
    t = flambeau.zeros(2).share_memory_()
    done = mp.get_context("spawn").SimpleQueue()
    context = mp.spawn(_spawned_add, args=(t, done), nprocs=2, join=False)
    deadline = time.monotonic() + TIMEOUT
    while not context.join(max(0.0, deadline - time.monotonic())):  # returns at each exit
        if time.monotonic() > deadline:
            for p in context.processes:
                p.terminate()
            pytest.fail("spawned processes did not finish")
    assert sorted(done.get() for _ in range(2)) == [0, 1]
    np.testing.assert_array_equal(t.cpu().numpy(), [1.0, 2.0])


def test_no_leaked_segments_or_resource_warnings_at_exit(tmp_path):
    """A whole program: shares, sends to a spawned child and a queue, exits. Nothing is left
    in /dev/shm and Python reports no leaked resources."""
    program = textwrap.dedent("""
        import flambeau
        import flambeau.multiprocessing as mp

        def child(t, q):
            t.add_(1)
            q.get().add_(2)

        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            t = flambeau.zeros(1000).share_memory_()
            u = flambeau.zeros(10).share_memory_()
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(t, q))
            p.start()
            q.put(u)
            p.join(100)
            assert p.exitcode == 0, p.exitcode
            assert t.sum().item() == 1000 and u.sum().item() == 20
            print("ok")
    """)
    shm = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    script = tmp_path / "share_and_exit.py"  # spawn's children import the main module
    script.write_text(program)
    run = subprocess.run([sys.executable, "-W", "error::ResourceWarning", str(script)],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
    assert "leaked" not in run.stderr and "resource_tracker" not in run.stderr, run.stderr
    if os.path.isdir("/dev/shm"):
        assert {n for n in set(os.listdir("/dev/shm")) - shm if "flambeau" in n} == set()


@_needs_proc
def test_segments_are_anonymous():
    t = flambeau.ones(3).share_memory_()
    segment = _shared_memory.segment_of(t._data)
    assert segment is not None and len(segment) == 12
    target = os.readlink(f"/proc/self/fd/{segment.fd}")
    assert "flambeau-shared" in target and "(deleted)" in target  # no name left behind

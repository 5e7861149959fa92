"""Key-value stores: the same behaviour from every store, and across 2 processes."""

import datetime
import multiprocessing
import os
import socket
import time

import pytest

import flambeau.distributed as dist

SHORT = datetime.timedelta(seconds=0.2)


@pytest.fixture(params=["hash", "file", "tcp", "prefix"])
def store(request, tmp_path):
    if request.param == "hash":
        return dist.HashStore(timeout=SHORT)
    if request.param == "file":
        return dist.FileStore(str(tmp_path / "store"), 1, timeout=SHORT)
    if request.param == "tcp":
        return dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    return dist.PrefixStore("pre", dist.HashStore(timeout=SHORT))


def test_set_get_add_compare_set_check_delete_num_keys(store):
    torch = pytest.importorskip("torch")
    theirs = torch.distributed.HashStore()
    for s in (store, theirs):
        s.set("a", "1")
        s.set("b", b"\x00\xff")
    assert store.get("a") == theirs.get("a") == b"1"
    assert store.get("b") == theirs.get("b") == b"\x00\xff"
    assert [store.add("c", 3), store.add("c", -5)] == [theirs.add("c", 3), theirs.add("c", -5)]
    assert store.get("c") == theirs.get("c") == b"-2"
    for args in [("a", "1", "2"), ("a", "1", "3"), ("new", "", "v"), ("other", "x", "v")]:
        assert store.compare_set(*args) == theirs.compare_set(*args), args
    assert store.get("a") == b"2" and not store.check(["other"])
    assert store.check(["a", "c"]) is theirs.check(["a", "c"]) is True
    assert store.check(["a", "zz"]) is theirs.check(["a", "zz"]) is False
    assert store.num_keys() == 4  # a, b, c, new
    assert store.delete_key("a") is theirs.delete_key("a") is True
    assert store.delete_key("a") is theirs.delete_key("a") is False
    assert store.list_keys() == ["b", "c", "new"]
    store.append("log", "x")
    store.append("log", b"y")
    store.multi_set(["m1", "m2"], ["1", b"2"])
    assert store.multi_get(["log", "m2"]) == [b"xy", b"2"]


def test_get_and_wait_on_a_missing_key_raise_after_the_timeout(store):
    torch = pytest.importorskip("torch")
    start = time.monotonic()
    with pytest.raises(dist.DistStoreError, match=r"get: keys \['nope'\] were not set within "
                                                  r"0.2 s \(the store's timeout\)"):  # fmt: skip
        store.get("nope")
    assert 0.15 < time.monotonic() - start < 5
    with pytest.raises(dist.DistStoreError, match=r"wait: keys \['x', 'y'\] were not set within "
                                                  "0.05 s"):  # fmt: skip
        store.wait(["x", "y"], datetime.timedelta(seconds=0.05))
    with pytest.raises(dist.DistStoreError, match=r"multi_get: keys \['x'\]"):
        store.multi_get(["x"])
    theirs = torch.distributed.HashStore()
    theirs.set_timeout(datetime.timedelta(seconds=0.05))
    with pytest.raises(torch.distributed.DistStoreError):  # the same class of error in torch
        theirs.get("nope")
    store.set_timeout(datetime.timedelta(seconds=5))
    assert store.timeout == datetime.timedelta(seconds=5)


def test_queues(store):
    torch = pytest.importorskip("torch")
    theirs = torch.distributed.HashStore()
    theirs.set_timeout(SHORT)
    for s in (store, theirs):
        s.queue_push("q", "a")
        s.queue_push("q", b"b")
        s.set("b", "a key named like the queue's bytes tag")
    assert store.queue_len("q") == theirs.queue_len("q") == 2
    assert store.queue_pop("q") == theirs.queue_pop("q") == b"a"
    assert store.num_keys() == 1  # the queue is not a key; torch counts its own extra keys
    assert store.check(["q"]) is theirs.check(["q"]) is True
    assert store.queue_pop("q", block=False) == theirs.queue_pop("q", block=False) == b"b"
    with pytest.raises(dist.QueueEmptyError, match="queue_pop: the queue 'q' is empty"):
        store.queue_pop("q", block=False)
    with pytest.raises(torch.distributed.QueueEmptyError):
        theirs.queue_pop("q", block=False)
    with pytest.raises(dist.DistStoreError, match=r"queue_pop: keys \['q'\] were not set within"):
        store.queue_pop("q")
    assert store.queue_len("never") == theirs.queue_len("never") == 0
    assert store.get("b") == b"a key named like the queue's bytes tag"


def test_bad_arguments_are_type_errors_naming_them(store):
    with pytest.raises(TypeError, match="set: key must be a str, got int"):
        store.set(1, "v")
    with pytest.raises(TypeError, match="set: value must be str or bytes, got float"):
        store.set("k", 1.5)
    with pytest.raises(TypeError, match="add: amount must be an int, got str"):
        store.add("k", "1")
    with pytest.raises(TypeError, match="wait: keys must be a list of str, got str"):
        store.wait("k")
    with pytest.raises(TypeError, match=r"compare_set: desired_value must be str or bytes"):
        store.compare_set("k", "", None)
    with pytest.raises(ValueError, match="multi_set: 1 keys but 2 values"):
        store.multi_set(["a"], ["1", "2"])
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta or seconds"):
        store.set_timeout("soon")
    store.set("text", "abc")
    with pytest.raises(ValueError, match="add: key '.*text' holds b'abc', not an integer"):
        store.add("text", 1)


def test_base_store_and_prefix_store_errors():
    with pytest.raises(NotImplementedError, match="Store is an abstract base class"):
        dist.Store().get("k")
    with pytest.raises(TypeError, match="PrefixStore: store must be a Store, got dict"):
        dist.PrefixStore("p", {})
    with pytest.raises(TypeError, match="PrefixStore: prefix must be a str, got int"):
        dist.PrefixStore(1, dist.HashStore())
    base = dist.HashStore()
    base.set("other", "1")
    view = dist.PrefixStore("p", base)
    view.set("k", "v")
    assert base.get("p/k") == b"v" and view.list_keys() == ["k"]


def test_file_store_refuses_a_non_path():
    with pytest.raises(TypeError, match="FileStore: file_name must be a path, got int"):
        dist.FileStore(3)


def test_tcp_store_errors_instead_of_hanging():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(dist.DistNetworkError, match=f"could not connect to 127.0.0.1:{port} "
                                                    "within 0.2 s"):  # fmt: skip
        dist.TCPStore("127.0.0.1", port, 2, False, timeout=SHORT)
    assert time.monotonic() - start < 5
    with pytest.raises(dist.DistStoreError, match="only 1 of world_size=2 stores connected"):
        dist.TCPStore("127.0.0.1", 0, 2, True, timeout=SHORT)
    with pytest.raises(ValueError, match="a client .* needs the master's port, got 0"):
        dist.TCPStore("127.0.0.1", 0, 2, False)
    with pytest.raises(ValueError, match="port must be an int in"):
        dist.TCPStore("127.0.0.1", 70000, 2, True)
    with socket.create_server(("127.0.0.1", 0)) as taken:  # torch: DistNetworkError too
        port = taken.getsockname()[1]
        with pytest.raises(dist.DistNetworkError, match="TCPStore: the master store could not "
                                                        f"listen on 127.0.0.1:{port} "
                                                        r"\(Address already in use"):
            dist.TCPStore("127.0.0.1", port, 1, True, timeout=SHORT)


def test_tcp_store_master_listen_fd():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    master = dist.TCPStore("127.0.0.1", port, 1, True, timeout=SHORT,
                           master_listen_fd=listener.detach())  # fmt: skip
    master.set("k", "v")
    assert master.port == port
    assert dist.TCPStore("127.0.0.1", port, timeout=SHORT).get("k") == b"v"


def _worker(kind, where, rank, queue):
    """Rank 1 of a 2-process job: rendezvous through the store, then count with add()."""
    try:
        timeout = datetime.timedelta(seconds=20)
        if kind == "tcp":
            store = dist.TCPStore("127.0.0.1", where, 2, False, timeout=timeout)
        else:
            store = dist.FileStore(where, 2, timeout=timeout)
        store.set(f"hello{rank}", f"from {rank}")
        store.get("hello0")  # blocks until the master has set it
        for _ in range(50):
            store.add("counter", 1)
        store.queue_push("results", f"from {rank}")
        store.set("done1", "1")
        store.wait(["go"])
        queue.put(("ok", store.get("hello0")))
    except Exception as exc:  # reported to the test
        queue.put(("error", repr(exc)))


@pytest.mark.parametrize("kind", ["tcp", "file"])
def test_two_processes_share_a_store(kind, tmp_path):
    timeout = datetime.timedelta(seconds=20)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    if kind == "tcp":
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        where = port
    else:
        where = str(tmp_path / "shared")
    proc = ctx.Process(target=_worker, args=(kind, where, 1, queue), daemon=True)
    proc.start()
    try:
        if kind == "tcp":  # waits for the worker to connect (wait_for_workers)
            store = dist.TCPStore("127.0.0.1", port, 2, True, timeout=timeout,
                                  master_listen_fd=listener.detach())  # fmt: skip
        else:
            store = dist.FileStore(where, 2, timeout=timeout)
        store.set("hello0", "from 0")
        assert store.get("hello1") == b"from 1"
        for _ in range(50):
            store.add("counter", 1)
        store.wait(["done1"])
        assert store.get("counter") == b"100"  # no increment lost between processes
        assert store.queue_pop("results") == b"from 1"
        store.set("go", "1")
        status, value = queue.get(timeout=30)
        assert status == "ok", value
        assert value == b"from 0"
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    assert proc.exitcode == 0
    if kind == "file":
        assert os.path.exists(where)


def test_tcp_store_reports_a_lost_connection():
    master = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    client = dist.TCPStore("127.0.0.1", master.port, timeout=SHORT)
    client._sock.close()  # as if the network went away
    with pytest.raises(dist.DistNetworkError, match="TCPStore: lost the connection to the master "
                                                    f"store at 127.0.0.1:{master.port} during "
                                                    "set"):  # fmt: skip
        client.set("k", "v")
    with pytest.raises(ValueError, match="unknown TCPStore operation .evil."):
        master._apply("evil")


def test_a_deleted_master_stops_serving():
    import gc
    import threading

    before = set(threading.enumerate())
    master = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    port = master.port
    client = dist.TCPStore("127.0.0.1", port, timeout=SHORT)
    client.set("k", "v")
    server_threads = set(threading.enumerate()) - before  # accept + one per connection
    assert len(server_threads) == 3
    del master
    gc.collect()
    deadline = time.monotonic() + 5  # the server's threads wake and end
    while any(t.is_alive() for t in server_threads):
        assert time.monotonic() < deadline, [t.name for t in server_threads if t.is_alive()]
        time.sleep(0.01)
    with pytest.raises(ConnectionRefusedError):  # no thread left accepting on the old port
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with pytest.raises(dist.DistNetworkError, match="lost the connection to the master store"):
        client.get("k")


def test_a_timed_out_reply_is_never_read_as_a_later_ones(monkeypatch):
    from flambeau.distributed import _store

    master = dist.TCPStore("127.0.0.1", 0, 1, True, timeout=SHORT)
    client = dist.TCPStore("127.0.0.1", master.port, timeout=SHORT)
    client.multi_set(["a", "b"], ["1", "2"])
    answer = _store._Server._answer

    def slow(self, op, args):
        if op == "get" and args == ["a"]:
            time.sleep(3 * SHORT.total_seconds())  # longer than the client waits for a reply
        return answer(self, op, args)

    monkeypatch.setattr(_store._Server, "_answer", slow)
    with pytest.raises(dist.DistNetworkError, match="during get"):
        client.get("a")
    monkeypatch.setattr(_store._Server, "_answer", answer)
    time.sleep(3 * SHORT.total_seconds())  # the late reply to get("a") has arrived by now
    with pytest.raises(dist.DistNetworkError, match="during get"):  # not b"1", a's value
        client.get("b")
    assert master.get("b") == b"2"

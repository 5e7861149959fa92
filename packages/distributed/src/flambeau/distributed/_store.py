"""Key-value stores: ``Store``, ``HashStore``, ``FileStore``, ``TCPStore``, ``PrefixStore``.

Every store is a table of ``str`` keys and ``bytes`` values changed by a few atomic operations
(:data:`_OPS`). A store only says how to run one operation atomically (:meth:`Store._apply`):
under a lock in this process (``HashStore``), under a lock on a file (``FileStore``), or on a
server thread that a TCP connection talks to (``TCPStore``). Blocking calls (``get``,
``wait``) poll with a growing pause until the key is there or the timeout has passed, so none
can hang. Over files and sockets the table travels as JSON (bytes as base64): nothing read from
a peer is unpickled.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
from datetime import timedelta

from flambeau.distributed._errors import DistNetworkError, DistStoreError, QueueEmptyError

__all__ = ["Store", "HashStore", "FileStore", "TCPStore", "PrefixStore"]

_DEFAULT_TIMEOUT = timedelta(seconds=300)


# ----------------------------------------------------------------------------- operations


def _add(table, key, amount):
    current = table.get(key, b"0")
    try:
        value = int(current) + amount
    except ValueError:
        raise ValueError(f"add: key {key!r} holds {current!r}, not an integer") from None
    table[key] = str(value).encode()
    return value


def _compare_set(table, key, expected, desired):
    current = table.get(key)
    if current is None and expected != b"":
        return expected  # PyTorch's answer for a missing key and a non-empty expectation
    if current is None or current == expected:
        table[key] = desired
        return desired
    return current


_QUEUES = "\x00queues"  # the table's entry holding the queues: {key: [values]}, not a key


def _queue_pop(table, key):
    queue = table.get(_QUEUES, {}).get(key)
    return queue.pop(0) if queue else None


def _multi_set(table, keys, values):
    table.update(zip(keys, values, strict=True))


def _append(table, key, value):
    table[key] = table.get(key, b"") + value


# name -> (function of the table and the arguments, whether it changes the table)
_OPS = {
    "set": (lambda t, k, v: t.__setitem__(k, v), True),
    "get": (lambda t, k: t.get(k), False),
    "multi_get": (lambda t, ks: [t.get(k) for k in ks], False),
    "add": (_add, True),
    "compare_set": (_compare_set, True),
    "check": (lambda t, ks: all(k in t or k in t.get(_QUEUES, ()) for k in ks), False),
    "delete_key": (lambda t, k: t.pop(k, None) is not None, True),
    "num_keys": (lambda t: len(t) - (_QUEUES in t), False),
    "list_keys": (lambda t: sorted(k for k in t if k != _QUEUES), False),
    "queue_push": (lambda t, k, v: t.setdefault(_QUEUES, {}).setdefault(k, []).append(v), True),
    "queue_pop": (_queue_pop, True),
    "queue_len": (lambda t, k: len(t.get(_QUEUES, {}).get(k, ())), False),
    "multi_set": (_multi_set, True),
    "append": (_append, True),
}


def _run(table, op, args):
    return _OPS[op][0](table, *args)


def _seconds(timeout, who) -> float:
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return float(timeout)
    raise TypeError(f"{who}: timeout must be a datetime.timedelta or seconds, got "
                    f"{type(timeout).__name__}")  # fmt: skip


def _key(who, key, arg="key"):
    if not isinstance(key, str):
        raise TypeError(f"{who}: {arg} must be a str, got {type(key).__name__}")
    return key


def _keys(who, keys):
    if isinstance(keys, str) or not isinstance(keys, (list, tuple)):
        raise TypeError(f"{who}: keys must be a list of str, got {type(keys).__name__}")
    return [_key(who, k, "keys[]") for k in keys]


def _value(who, value, arg="value"):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return bytes(value)  # PyTorch accepts a list of byte values
    raise TypeError(f"{who}: {arg} must be str or bytes, got {type(value).__name__}")


def _encode(obj) -> bytes:
    """JSON with bytes as ``{"__bytes__": base64}``: what FileStore and TCPStore write."""

    def default(o):
        if isinstance(o, bytes):
            return {"__bytes__": base64.b64encode(o).decode()}
        raise TypeError(f"cannot encode {type(o).__name__}")

    return json.dumps(obj, default=default).encode()


def _decode(data: bytes):
    def hook(d):
        bytes_ = d.keys() == {"__bytes__"} and isinstance(d["__bytes__"], str)
        return base64.b64decode(d["__bytes__"]) if bytes_ else d

    return json.loads(data, object_hook=hook)


# ----------------------------------------------------------------------------- stores


class Store:
    """A key-value store that processes use to find each other and exchange small values.

    Keys are ``str``; values are ``bytes`` (a ``str`` value is stored UTF-8 encoded).
    :meth:`get` and :meth:`wait` block until the keys are set, and raise
    :class:`DistStoreError` once the store's ``timeout`` has passed. Subclasses implement
    :meth:`_apply`, which runs one named operation atomically.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> store = dist.HashStore()
    >>> isinstance(store, dist.Store)
    True
    >>> dist.Store().set("a", "1")
    Traceback (most recent call last):
    ...
    NotImplementedError: Store is an abstract base class: use HashStore, FileStore, ...
    """

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = timedelta(seconds=_seconds(timeout, type(self).__name__))

    def _apply(self, op: str, *args):
        """Run the operation ``op`` (a key of ``_OPS``) on the table, atomically."""
        raise NotImplementedError(
            f"{type(self).__name__} is an abstract base class: use HashStore, FileStore, "
            "TCPStore or PrefixStore, or implement _apply"
        )

    @property
    def timeout(self) -> timedelta:
        """How long :meth:`get` and :meth:`wait` wait for a key (a ``timedelta``).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> dist.HashStore().timeout
        datetime.timedelta(seconds=300)
        """
        return self._timeout

    def set_timeout(self, timeout) -> None:
        """Set the default timeout of :meth:`get` and :meth:`wait`.

        Examples
        --------
        >>> import datetime, flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set_timeout(datetime.timedelta(seconds=10))
        >>> store.timeout.total_seconds()
        10.0
        """
        self._timeout = timedelta(seconds=_seconds(timeout, "set_timeout"))

    def _poll(self, who, keys, read, timeout=None):
        """``read()`` until it is not None; DistStoreError naming ``keys`` after the timeout."""
        limit = self._timeout.total_seconds() if timeout is None else _seconds(timeout, who)
        deadline = time.monotonic() + limit
        pause = 0.001
        while True:
            found = read()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise DistStoreError(
                    f"{who}: keys {keys} were not set within {limit:g} s (the store's timeout);"
                    " another process must set them (check its rank and the key names)"
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)

    def set(self, key: str, value) -> None:
        """Set ``key`` to ``value`` (``str`` or ``bytes``).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("first", "value")
        >>> store.get("first")
        b'value'
        """
        self._apply("set", _key("set", key), _value("set", value))

    def get(self, key: str) -> bytes:
        """The value of ``key``, waiting up to :attr:`timeout` for another process to set it.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore(timeout=0.01)
        >>> store.set("k", b"v")
        >>> store.get("k")
        b'v'
        >>> store.get("missing")
        Traceback (most recent call last):
        ...
        flambeau.distributed.DistStoreError: get: keys ['missing'] were not set within 0.01 s...
        """
        _key("get", key)
        return self._poll("get", [key], lambda: self._apply("get", key))

    def multi_get(self, keys: list[str]) -> list[bytes]:
        """The values of ``keys``, waiting like :meth:`get` for all of them.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.multi_set(["a", "b"], ["1", "2"])
        >>> store.multi_get(["a", "b"])
        [b'1', b'2']
        """
        keys = _keys("multi_get", keys)

        def read():
            values = self._apply("multi_get", keys)
            return None if any(v is None for v in values) else values

        return self._poll("multi_get", keys, read)

    def multi_set(self, keys: list[str], values: list) -> None:
        """Set every key of ``keys`` to the value at the same position of ``values``.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.multi_set(["a"], ["1", "2"])
        Traceback (most recent call last):
        ...
        ValueError: multi_set: 1 keys but 2 values
        """
        keys = _keys("multi_set", keys)
        if len(keys) != len(values):
            raise ValueError(f"multi_set: {len(keys)} keys but {len(values)} values")
        self._apply("multi_set", keys, [_value("multi_set", v, "values[]") for v in values])

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer at ``key`` (0 when unset); return the new value.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.add("count", 3), store.add("count", 2), store.get("count")
        (3, 5, b'5')
        """
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"add: amount must be an int, got {type(amount).__name__}")
        return self._apply("add", _key("add", key), amount)

    def compare_set(self, key: str, expected_value, desired_value) -> bytes:
        """Set ``key`` to ``desired_value`` if it holds ``expected_value``; return its value.

        A missing key counts as holding ``""``. When the key holds something else, nothing
        changes and its current value is returned.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("k", "old")
        >>> store.compare_set("k", "old", "new"), store.compare_set("k", "old", "newer")
        (b'new', b'new')
        """
        who = "compare_set"
        return self._apply(who, _key(who, key), _value(who, expected_value, "expected_value"),
                           _value(who, desired_value, "desired_value"))  # fmt: skip

    def append(self, key: str, value) -> None:
        """Append ``value`` to the bytes at ``key`` (set it when missing).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.append("log", "a"); store.append("log", "b")
        >>> store.get("log")
        b'ab'
        """
        self._apply("append", _key("append", key), _value("append", value))

    def wait(self, keys: list[str], timeout=None) -> None:
        """Wait until every key of ``keys`` is set; DistStoreError after ``timeout``.

        ``timeout`` (a ``timedelta``) defaults to the store's :attr:`timeout`.

        Examples
        --------
        >>> import datetime, flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("ready", "1")
        >>> store.wait(["ready"], datetime.timedelta(seconds=1))
        """
        keys = _keys("wait", keys)
        self._poll("wait", keys, lambda: True if self._apply("check", keys) else None, timeout)

    def check(self, keys: list[str]) -> bool:
        """Whether every key of ``keys`` is set (never waits).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("a", "1")
        >>> store.check(["a"]), store.check(["a", "b"])
        (True, False)
        """
        return self._apply("check", _keys("check", keys))

    def delete_key(self, key: str) -> bool:
        """Remove ``key``; return whether it was set.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("a", "1")
        >>> store.delete_key("a"), store.delete_key("a")
        (True, False)
        """
        return self._apply("delete_key", _key("delete_key", key))

    def num_keys(self) -> int:
        """The number of keys set.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set("a", "1"); store.add("b", 1)
        1
        >>> store.num_keys()
        2
        """
        return self._apply("num_keys")

    def list_keys(self) -> list[str]:
        """The keys set, sorted.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.multi_set(["b", "a"], ["1", "2"])
        >>> store.list_keys()
        ['a', 'b']
        """
        return self._apply("list_keys")

    def queue_push(self, key: str, value) -> None:
        """Append ``value`` to the queue ``key`` (queues are apart from the keys' values).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.queue_push("jobs", "a"); store.queue_push("jobs", b"b")
        >>> store.queue_len("jobs"), store.queue_pop("jobs"), store.queue_len("jobs")
        (2, b'a', 1)
        """
        self._apply("queue_push", _key("queue_push", key), _value("queue_push", value))

    def queue_pop(self, key: str, block: bool = True) -> bytes:
        """Remove and return the first value of the queue ``key``.

        With ``block`` it waits like :meth:`get` for a value; without, an empty queue raises
        :class:`QueueEmptyError`.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> store = dist.HashStore()
        >>> store.queue_pop("jobs", block=False)
        Traceback (most recent call last):
        ...
        flambeau.distributed.QueueEmptyError: queue_pop: the queue 'jobs' is empty
        """
        who = "queue_pop"
        _key(who, key)
        if not block:
            value = self._apply(who, key)
            if value is None:
                raise QueueEmptyError(f"{who}: the queue {key!r} is empty")
            return value
        return self._poll(who, [key], lambda: self._apply(who, key))

    def queue_len(self, key: str) -> int:
        """The number of values in the queue ``key`` (0 for a queue never pushed to).

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> dist.HashStore().queue_len("jobs")
        0
        """
        return self._apply("queue_len", _key("queue_len", key))


class HashStore(Store):
    """A store in this process's memory, shared by its threads (not by other processes).

    Examples
    --------
    >>> import threading, flambeau.distributed as dist
    >>> store = dist.HashStore()
    >>> threading.Thread(target=store.set, args=("from_thread", "hi")).start()
    >>> store.get("from_thread")
    b'hi'
    """

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        super().__init__(timeout)
        self._table: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _apply(self, op, *args):
        with self._lock:
            return _run(self._table, op, args)


class FileStore(Store):
    """A store in a file that the processes of one machine (or a shared file system) open.

    Each operation locks the file (``fcntl.flock``), reads the table, and writes it back when
    it changed. ``world_size`` is accepted for PyTorch compatibility.

    Parameters
    ----------
    file_name : str
        The file; created when missing. Use a fresh file for each job.
    world_size : int, optional
        The number of processes using the store (-1: not fixed).

    Examples
    --------
    >>> import os, tempfile, flambeau.distributed as dist
    >>> path = os.path.join(tempfile.mkdtemp(), "store")
    >>> writer, reader = dist.FileStore(path, 2), dist.FileStore(path, 2)
    >>> writer.set("epoch", "3")
    >>> reader.get("epoch")
    b'3'
    """

    def __init__(self, file_name: str, world_size: int = -1, timeout=_DEFAULT_TIMEOUT):
        import fcntl

        super().__init__(timeout)
        if not isinstance(file_name, (str, os.PathLike)):
            raise TypeError(f"FileStore: file_name must be a path, got {type(file_name).__name__}")
        self._flock = fcntl
        self.path = os.fspath(file_name)
        self.world_size = world_size
        with open(self.path, "ab"):  # create it, or a clear OSError naming the path
            pass

    def _apply(self, op, *args):
        fcntl = self._flock
        with open(self.path, "r+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                data = f.read()
                table = _decode(data) if data else {}
                result = _run(table, op, args)
                if _OPS[op][1]:
                    f.seek(0)
                    f.truncate()
                    f.write(_encode(table))
                    f.flush()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return result


_HEADER = struct.Struct("!I")


def _send_frame(sock, obj):
    data = _encode(obj)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exactly(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("connection closed by the peer")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv_frame(sock):
    (n,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    return _decode(_recv_exactly(sock, n))


class _Server:
    """The master TCPStore's table, served to each connection by a daemon thread, until
    :meth:`close` (the master store's end) stops the threads and closes every socket."""

    def __init__(self, listener: socket.socket):
        self.listener = listener
        self.table: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.clients = 0
        self.conns: set[socket.socket] = set()  # the connections being served
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="TCPStore-accept").start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # the listener was shut down
                return
            with self.lock:
                if self.closed:
                    conn.close()
                    return
                self.conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True,
                             name="TCPStore-client").start()  # fmt: skip

    def _answer(self, op, args):
        with self.lock:
            if op == "_hello":
                self.clients += 1
                return self.clients
            if op == "_clients":
                return self.clients
            if op not in _OPS:
                raise ValueError(f"unknown TCPStore operation {op!r}")
            return _run(self.table, op, args)

    def _serve(self, conn):
        try:
            self._serve_until_closed(conn)
        finally:
            with self.lock:
                self.conns.discard(conn)
            conn.close()

    def _serve_until_closed(self, conn):
        while True:
            try:
                op, args = _recv_frame(conn)
            except (ConnectionError, OSError, ValueError, TypeError):  # TypeError: not [op, args]
                return
            try:
                reply = {"ok": self._answer(op, args)}
            except Exception as exc:  # the client raises it; the server keeps serving
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                _send_frame(conn, reply)
            except OSError:
                return

    def close(self):
        """Stop serving: closing the listener alone leaves a thread blocked in accept() on a
        socket that still listens (so a new store would connect to a dead master's table),
        and the connections' threads blocked in recv(); shutting the sockets down wakes them."""
        with self.lock:
            self.closed = True
            conns, self.conns = list(self.conns), set()
        for sock in (self.listener, *conns):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # not connected, or already shut down
                pass
            sock.close()


class TCPStore(Store):
    """A store served over TCP by the master process; the others connect to it.

    The master (``is_master=True``) starts a small server thread on ``host_name:port``
    (``port=0`` picks a free port: read it from :attr:`port`); every store, the master's
    included, connects to it. A client retries connecting until ``timeout``; with
    ``wait_for_workers`` the master waits for ``world_size`` stores to connect. Every call
    gives up after ``timeout`` with :class:`DistStoreError` (a missing key) or
    :class:`DistNetworkError` (no server).

    Parameters
    ----------
    host_name : str
        The master's address.
    port : int
        The master's port.
    world_size : int, optional
        The number of stores that will connect (master included).
    is_master : bool
        Whether this process runs the server.
    timeout : datetime.timedelta
        Connection and :meth:`get` / :meth:`wait` timeout (default 300 s).
    wait_for_workers : bool
        Whether the master waits for ``world_size`` stores to connect.
    multi_tenant, master_listen_fd, use_libuv
        PyTorch's arguments; ``master_listen_fd`` is a listening socket's file descriptor to
        serve on instead of binding ``port``.

    Examples
    --------
    >>> import datetime, flambeau.distributed as dist
    >>> master = dist.TCPStore("127.0.0.1", 0, world_size=2, is_master=True,
    ...                        wait_for_workers=False, timeout=datetime.timedelta(seconds=10))
    >>> worker = dist.TCPStore("127.0.0.1", master.port, world_size=2)
    >>> worker.set("address", "10.0.0.1")
    >>> master.get("address")
    b'10.0.0.1'
    >>> master.add("joined", 1), worker.add("joined", 1)
    (1, 2)
    """

    def __init__(self, host_name: str, port: int, world_size: int | None = None,
                 is_master: bool = False, timeout=_DEFAULT_TIMEOUT, wait_for_workers: bool = True,
                 multi_tenant: bool = False, master_listen_fd: int | None = None,
                 use_libuv: bool = True):
        super().__init__(timeout)
        who = "TCPStore"
        if not isinstance(port, int) or not 0 <= port < 65536:
            raise ValueError(f"{who}: port must be an int in [0, 65536), got {port!r}")
        self.host = host_name
        self.world_size = world_size
        self.libuvBackend = use_libuv  # PyTorch's attribute name
        self._server = None
        self._lock = threading.Lock()
        if is_master:
            if master_listen_fd is not None:
                listener = socket.socket(fileno=master_listen_fd)
            else:
                try:
                    listener = socket.create_server((host_name, port), reuse_port=False)
                except OSError as exc:  # a port in use: torch's error class, which callers
                    raise DistNetworkError(  # that retry on another port catch
                        f"{who}: the master store could not listen on {host_name}:{port} "
                        f"({exc.strerror or exc}); pick a free port, or 0 for any"
                    ) from None
            port = listener.getsockname()[1]
            self._server = _Server(listener)
        elif port == 0:
            raise ValueError(f"{who}: a client (is_master=False) needs the master's port, got 0")
        self.port = port
        self._sock = self._connect()
        self._apply("_hello")
        if is_master and wait_for_workers and world_size is not None and world_size > 0:
            limit = self._timeout.total_seconds()
            try:
                self._poll(who, [], lambda: True if self._apply("_clients") >= world_size
                           else None)  # fmt: skip
            except DistStoreError:
                joined = self._apply("_clients")
                raise DistStoreError(
                    f"{who}: only {joined} of world_size={world_size} stores connected to "
                    f"{host_name}:{port} within {limit:g} s; start the other processes, or pass "
                    "wait_for_workers=False"
                ) from None

    def _connect(self):
        limit = self._timeout.total_seconds()
        deadline = time.monotonic() + limit
        pause = 0.01
        while True:
            try:
                sock = socket.create_connection((self.host, self.port),
                                                timeout=max(deadline - time.monotonic(), 0.01))
                sock.settimeout(max(limit, 0.01))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as exc:
                if time.monotonic() + pause > deadline:
                    raise DistNetworkError(
                        f"TCPStore: could not connect to {self.host}:{self.port} within "
                        f"{limit:g} s ({exc}); start the master store (is_master=True) first, "
                        "and check the address and port"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.25)

    def _apply(self, op, *args):
        with self._lock:
            try:
                _send_frame(self._sock, [op, list(args)])
                reply = _recv_frame(self._sock)
            except (OSError, ConnectionError) as exc:
                # a reply that timed out may still come: a later call on this socket would
                # read it as its own, so the connection is closed (later calls fail clearly)
                self._sock.close()
                raise DistNetworkError(
                    f"TCPStore: lost the connection to the master store at {self.host}:"
                    f"{self.port} during {op} ({type(exc).__name__}: {exc})"
                ) from None
        if "error" in reply:
            kind, _, message = reply["error"].partition(": ")
            raise (ValueError if kind == "ValueError" else DistStoreError)(message)
        return reply["ok"]

    def _close(self) -> None:
        """Close the connection and, on the master, stop serving (a process group that made
        this store frees its port at once, so the next group can listen on it)."""
        sock, server = getattr(self, "_sock", None), getattr(self, "_server", None)
        if sock is not None:
            sock.close()
        if server is not None:
            server.close()

    def __del__(self):
        self._close()


class PrefixStore(Store):
    """A view of ``store`` that puts ``prefix + "/"`` before every key.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> base = dist.HashStore()
    >>> trainer = dist.PrefixStore("trainer", base)
    >>> trainer.set("step", "7")
    >>> base.get("trainer/step"), trainer.get("step")
    (b'7', b'7')
    """

    def __init__(self, prefix: str, store: Store):
        if not isinstance(prefix, str):
            raise TypeError(f"PrefixStore: prefix must be a str, got {type(prefix).__name__}")
        if not isinstance(store, Store):
            raise TypeError(f"PrefixStore: store must be a Store, got {type(store).__name__}")
        super().__init__(store.timeout)
        self.underlying_store = store
        self._prefix = prefix + "/"

    @property
    def timeout(self) -> timedelta:
        """The underlying store's timeout.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> dist.PrefixStore("p", dist.HashStore(timeout=5)).timeout.total_seconds()
        5.0
        """
        return self.underlying_store.timeout

    def set_timeout(self, timeout) -> None:
        """Set the underlying store's timeout.

        Examples
        --------
        >>> import flambeau.distributed as dist
        >>> base = dist.HashStore()
        >>> dist.PrefixStore("p", base).set_timeout(2)
        >>> base.timeout.total_seconds()
        2.0
        """
        self.underlying_store.set_timeout(timeout)

    def _apply(self, op, *args):
        p = self._prefix
        if op == "list_keys":
            return [k[len(p):] for k in self.underlying_store._apply(op) if k.startswith(p)]
        if args:
            first = args[0]
            first = p + first if isinstance(first, str) else [p + k for k in first]
            args = (first, *args[1:])
        return self.underlying_store._apply(op, *args)

    def _poll(self, who, keys, read, timeout=None):
        if timeout is None:
            timeout = self.underlying_store.timeout
        return super()._poll(who, keys, read, timeout)

"""The "gloo" communication backend: CPU tensors over TCP sockets between the ranks.

No MPI: the processes find each other through a key-value store (``init_method="env://"``,
``"tcp://host:port"``, ``"file://path"`` or ``store=``). Each rank listens on a port, publishes
``host:port`` in the store and connects to every other rank: one socket per direction and
pair of ranks. A daemon thread per incoming socket reads whole frames into a mailbox; an
operation sends eagerly and takes what it expects from the mailbox, so a send never waits for
the matching receive and concurrent asynchronous operations cannot deadlock each other.

A frame is a header (key length, payload length), a key (the group, then the collective's
sequence number or the point-to-point tag), and the raw bytes of a C-contiguous array:
tensors are never pickled (object collectives pickle, as PyTorch's do). Reductions combine
the ranks' arrays in rank order on every rank, so every rank gets the same bits. Every wait
has a deadline (the group's timeout), and a peer whose connection closes fails the waits on
it at once, naming the operation and the rank.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
import sys
import threading
import time
from collections import deque

import numpy as np

from flambeau.distributed._backend import CommBackend, Communicator
from flambeau.distributed._errors import DistBackendError, DistStoreError
from flambeau.distributed._mpi_backend import (  # mpi4py is imported lazily
    _bytes,
    _offsets,
    _widened,
)
from flambeau.distributed._reduce_op import ReduceOp
from flambeau.distributed._work import Work
from flambeau.distributed.hookspecs import hookimpl

__all__ = ["GlooBackend", "GlooCommunicator", "flambeau_comm_backends"]

_FRAME = struct.Struct("!IQ")  # key length, payload length
_HELLO = struct.Struct("!8s16sI")  # magic, the job's token, the connecting rank
_MAGIC = b"flmbgloo"
_SMALL = 1 << 16  # payloads up to this size go out in one write with their header
_MAX_KEY = 1 << 12  # a frame's key: a group's name and a sequence number or a tag
_UFUNCS = {ReduceOp.SUM: np.add, ReduceOp.PRODUCT: np.multiply, ReduceOp.MIN: np.minimum,
           ReduceOp.MAX: np.maximum}  # fmt: skip
_BOOL_UFUNCS = {ReduceOp.SUM: np.logical_or, ReduceOp.MAX: np.logical_or,
                ReduceOp.PRODUCT: np.logical_and, ReduceOp.MIN: np.logical_and}  # fmt: skip


def _combine(parts, op, out):
    """Reduce the arrays ``parts`` (rank order) into ``out``; half precision via float32."""
    ufunc = (_BOOL_UFUNCS if out.dtype.kind == "b" else _UFUNCS)[op]
    acc = _widened(parts[0])
    if acc is None:
        acc = parts[0].copy()
    for part in parts[1:]:
        ufunc(acc, part, out=acc, casting="unsafe")
    out[...] = acc


def _fill(sock, buffer):
    """Receive into all of ``buffer``; False on a clean end before its first byte."""
    view, got, n = memoryview(buffer), 0, len(buffer)
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            if got == 0:
                return False
            raise ConnectionError(f"the connection closed in the middle of a frame ({got} of "
                                  f"{n} bytes)")  # fmt: skip
        got += k
    return True


def _recv_exactly(sock, n):
    """``n`` bytes from ``sock`` (a bytearray); None on a clean end before the first byte."""
    buffer = bytearray(n)
    return buffer if _fill(sock, buffer) else None


def _recv_frame(sock):
    """The next frame from a peer: (key, payload as a uint8 array), or None at a clean end.

    A frame that cannot be ours raises ValueError before anything is allocated for it: a key
    longer than any we send, or a payload too large to hold. The payload's memory is taken
    with ``np.empty``, whose pages the OS provides as the bytes arrive: a header that promises
    more than the peer sends does not make this process fill that memory."""
    head = _recv_exactly(sock, _FRAME.size)
    if head is None:
        return None
    key_len, n = _FRAME.unpack(head)
    if key_len > _MAX_KEY:
        raise ValueError(f"a malformed frame: a key of {key_len} bytes (ours have at most "
                         f"{_MAX_KEY})")  # fmt: skip
    key = bytearray(key_len)
    try:
        payload = np.empty(n, "u1")
    except (MemoryError, ValueError):
        raise ValueError(f"a malformed frame: a payload of {n} bytes, more than this process "
                         "can hold") from None
    if not (_fill(sock, key) and _fill(sock, payload)):
        raise ConnectionError("the connection closed in the middle of a frame")
    return key.decode(), payload


def _advertised_host(store) -> str:
    """The address other ranks reach this one at: the local end of the connection to a
    TCPStore (the interface that routes to the master), else this host's name's address."""
    from flambeau.distributed._store import PrefixStore, TCPStore

    while isinstance(store, PrefixStore):
        store = store.underlying_store
    sock = getattr(store, "_sock", None) if isinstance(store, TCPStore) else None
    if sock is not None:
        try:
            return sock.getsockname()[0]
        except OSError:
            pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


class _Transport:
    """The sockets of one process to every other rank of the job, and the mailbox that its
    receiving threads fill. Ranks here are global ranks."""

    def __init__(self, rank, size, seconds, store):
        self.rank, self.size = rank, size
        self.cond = threading.Condition()
        self.mail: dict[tuple[int, str], deque] = {}
        self.gone: dict[int, str] = {}  # peer -> why its connection ended
        self.out: dict[int, socket.socket] = {}
        self.locks = {r: threading.Lock() for r in range(size)}
        self.incoming: list[tuple[int, socket.socket]] = []  # (peer, its socket to us)
        self.closed = False
        self.store = store  # a master TCPStore serves as long as the group lives
        if size > 1:
            self._mesh(store, seconds)

    # ------------------------------------------------------------------ rendezvous

    def _mesh(self, store, seconds):
        who = "init_process_group (gloo)"
        deadline = time.monotonic() + seconds
        rank, size = self.rank, self.size
        host = _advertised_host(store)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server(("", 0), family=family, backlog=size)
        # each rank counts its own inits on this store: a store reused by a later group
        # (destroy, then init again) gets fresh keys, the same on every rank
        prefix = f"flambeau.gloo/{store.add(f'flambeau.gloo/inits/{rank}', 1)}"
        try:
            if rank == 0:
                store.set(f"{prefix}/token", os.urandom(16))
            store.set(f"{prefix}/addr/{rank}", f"{host}:{listener.getsockname()[1]}")
            keys = [f"{prefix}/addr/{r}" for r in range(size) if r != rank] + [f"{prefix}/token"]
            try:
                store.wait(keys, max(deadline - time.monotonic(), 0.001))
            except DistStoreError:
                missing = [r for r in range(size) if r != rank
                           and not store.check([f"{prefix}/addr/{r}"])]  # fmt: skip
                raise DistBackendError(
                    f"{who}: rank {rank}: ranks {missing} of world_size={size} did not join "
                    f"within {seconds:g} s (the timeout); start every process (each with its "
                    "own RANK), with the same store or MASTER_ADDR/MASTER_PORT"
                ) from None
            token = store.get(f"{prefix}/token")
            for r in range(size):
                if r != rank:
                    address = store.get(f"{prefix}/addr/{r}").decode()
                    self.out[r] = self._dial(address, r, token, deadline, who)
            self._accept(listener, token, deadline, who, seconds)
        except BaseException:
            self.close()
            raise
        finally:
            listener.close()
        for src, sock in self.incoming:
            threading.Thread(target=self._receive, args=(src, sock), daemon=True,
                             name=f"gloo-recv-{src}").start()  # fmt: skip

    def _dial(self, address, peer, token, deadline, who):
        host, _, port = address.rpartition(":")
        try:
            sock = socket.create_connection((host.strip("[]"), int(port)),
                                            timeout=max(deadline - time.monotonic(), 0.001))
        except OSError as exc:
            raise DistBackendError(f"{who}: rank {self.rank} could not connect to rank {peer} at "
                                   f"{address} ({exc})") from None  # fmt: skip
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_HELLO.pack(_MAGIC, token, self.rank))
        return sock

    def _accept(self, listener, token, deadline, who, seconds):
        expected = set(range(self.size)) - {self.rank}
        self.incoming = []
        while expected:
            listener.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                conn, _ = listener.accept()
            except OSError:
                raise DistBackendError(
                    f"{who}: rank {self.rank}: ranks {sorted(expected)} did not connect within "
                    f"{seconds:g} s (the timeout)"
                ) from None
            try:
                conn.settimeout(max(deadline - time.monotonic(), 0.001))
                hello = _recv_exactly(conn, _HELLO.size)
            except OSError:  # a stray connection that broke off or stayed silent
                hello = None
            magic, their_token, peer = _HELLO.unpack(hello) if hello else (b"", b"", -1)
            if magic != _MAGIC or their_token != token or peer not in expected:
                conn.close()  # a stray connection (another job, a port scanner): ignore it
                continue
            conn.settimeout(None)  # the receiving thread waits for frames without a limit
            expected.discard(peer)
            self.incoming.append((peer, conn))

    # ------------------------------------------------------------------ traffic

    def _receive(self, src, sock):
        reason = "closed its connection (its process exited, crashed or was killed)"
        try:
            while True:
                frame = _recv_frame(sock)
                if frame is None:
                    break
                key, payload = frame
                with self.cond:
                    self.mail.setdefault((src, key), deque()).append(payload)
                    self.cond.notify_all()
        except (OSError, ValueError) as exc:  # ValueError: a malformed frame, or its key
            reason = f"lost its connection ({type(exc).__name__}: {exc})"
            sock.close()  # the stream is out of step: nothing more can be read from it
        finally:
            with self.cond:
                self.gone.setdefault(src, reason)
                self.cond.notify_all()

    def send(self, dst, key, payload, who, seconds):
        data = key.encode()
        head = _FRAME.pack(len(data), len(payload)) + data
        with self.locks[dst]:
            sock = self.out.get(dst)
            try:
                if sock is None:
                    raise ConnectionError("the connection is closed")
                sock.settimeout(seconds)  # the group's deadline: a peer that stopped reading
                if len(payload) <= _SMALL:  # one segment: a second small write waits for
                    sock.sendall(head + bytes(payload))  # the peer's delayed ACK
                else:
                    sock.sendall(head)
                    sock.sendall(payload)
            except TimeoutError:
                self._drop(dst)  # half a frame went out: the stream cannot be used again
                raise DistBackendError(
                    f"{who}: rank {self.rank} could not send to rank {dst} within {seconds:g} s "
                    "(the timeout): it stopped reading; it is stuck or has failed"
                ) from None
            except OSError as exc:
                self._drop(dst)
                raise DistBackendError(
                    f"{who}: rank {self.rank} could not send to rank {dst}: it closed its "
                    f"connection ({type(exc).__name__}: {exc}); its process exited or crashed"
                ) from None

    def _drop(self, dst):
        sock = self.out.pop(dst, None)
        if sock is not None:
            sock.close()

    def ready(self, sources, key) -> bool:
        """Whether a frame under ``key`` from one of ``sources`` is here, or none can come
        (their connections ended, or the transport closed): then :meth:`take` does not wait."""
        with self.cond:
            return (any(self.mail.get((s, key)) for s in sources) or self.closed
                    or all(s in self.gone for s in sources))  # fmt: skip

    def take(self, sources, key, deadline, who, seconds):
        """The first frame under ``key`` from any of ``sources``: (source, payload)."""
        with self.cond:
            while True:
                for src in sources:
                    queue = self.mail.get((src, key))
                    if queue:
                        payload = queue.popleft()
                        if not queue:
                            del self.mail[(src, key)]
                        return src, payload
                if self.closed:
                    raise DistBackendError(f"{who}: the process group was destroyed")
                dead = [s for s in sources if s in self.gone]
                if dead and len(dead) == len(sources):
                    raise DistBackendError(f"{who}: rank {self.rank} waited for rank {dead[0]}, "
                                           f"which {self.gone[dead[0]]}")  # fmt: skip
                left = deadline - time.monotonic()
                if left <= 0:
                    ranks = " or ".join(str(s) for s in sources)
                    raise DistBackendError(
                        f"{who}: rank {self.rank} timed out after {seconds:g} s (the group's "
                        f"timeout) waiting for rank {ranks}; it is stuck, has failed, or did "
                        "not call the same operation"
                    )
                self.cond.wait(left)

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        for sock in [*self.out.values(), *(s for _, s in self.incoming)]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.out, self.incoming, self.store = {}, [], None


class _Posted:
    """A receive waiting for its message: the array it lands in, then the sender or error."""

    __slots__ = ("array", "sender", "error")

    def __init__(self, array):
        self.array, self.sender, self.error = array, None, None


def _background(fn):
    """Run ``fn`` on a thread; a :class:`Work` that waits for it and re-raises its error."""
    done, error = threading.Event(), []

    def body():
        try:
            fn()
        except BaseException as exc:  # handed to the thread that waits
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=body, daemon=True, name="gloo-work").start()

    def wait():
        done.wait()
        if error:
            raise error[0]

    return Work(wait, done.is_set)


class GlooCommunicator(Communicator):
    """A process group's operations over the TCP sockets of :class:`GlooBackend`.

    Sub-groups (:meth:`split`) share the world's sockets; their frames carry the group's own
    name. ``seconds`` is the deadline of every blocking step.

    Examples
    --------
    >>> import numpy as np, flambeau.distributed as dist
    >>> from flambeau.distributed._gloo_backend import GlooBackend
    >>> comm = GlooBackend().init_world(1, 0, 10.0, store=dist.HashStore())
    >>> x = np.array([1.0, 2.0])
    >>> comm.all_reduce(x, dist.ReduceOp.SUM, async_op=True).wait()
    True
    >>> x
    array([1., 2.])
    >>> comm.free()
    """

    def __init__(self, transport: _Transport, ranks, name: str, seconds: float,
                 owner: bool = False):
        self._t = transport
        self._ranks = list(ranks)  # the global rank of each group rank
        self.rank = self._ranks.index(transport.rank)
        self.size = len(self._ranks)
        self._name = name
        self._seconds = float(seconds)
        self._owner = owner
        self._seq = 0
        self._splits = 0
        self._rounds = 0
        self._posted: dict[tuple[str, int | None], deque[_Posted]] = {}  # receives in order

    # ------------------------------------------------------------------ plumbing

    def _key(self, kind):
        self._seq += 1  # in the calling thread: every rank numbers its collectives alike
        return f"{self._name}:{kind}:{self._seq}"

    def _others(self):
        return [r for r in range(self.size) if r != self.rank]

    def _deadline(self):
        return time.monotonic() + self._seconds

    def _send(self, dst, key, payload, who):
        self._t.send(self._ranks[dst], key, payload, f"{who} (gloo)", self._seconds)

    def _take(self, src, key, deadline, who):
        """The payload under ``key`` from group rank ``src`` (any when None), and the sender."""
        sources = [self._ranks[r] for r in self._others()] if src is None else [self._ranks[src]]
        sender, payload = self._t.take(sources, key, deadline, f"{who} (gloo)", self._seconds)
        return payload, self._ranks.index(sender)

    def _into(self, out, src, key, deadline, who):
        """Receive group rank ``src``'s array under ``key`` into ``out`` (its bytes)."""
        payload, sender = self._take(src, key, deadline, who)
        target = _bytes(out)
        if len(payload) != target.size:
            raise DistBackendError(
                f"{who} (gloo): rank {self._ranks[sender]} sent {len(payload)} bytes but rank "
                f"{self._ranks[self.rank]} expected {target.size}; the ranks' tensor shapes or "
                "dtypes differ (turn set_shape_checks on to see them)"
            )
        target[...] = payload
        return sender

    def _array(self, like, src, key, deadline, who):
        out = np.empty_like(like)
        self._into(out, src, key, deadline, who)
        return out

    def _run(self, async_op, fn):
        if async_op:
            return _background(fn)
        fn()
        return Work.completed()

    def _gathered(self, array, key, deadline, who):
        """Every rank's ``array`` (this rank's own included), in rank order."""
        for r in self._others():
            self._send(r, key, _bytes(array), who)
        return [array if r == self.rank else self._array(array, r, key, deadline, who)
                for r in range(self.size)]  # fmt: skip

    # ------------------------------------------------------------------ tensors

    def all_reduce(self, array, op, async_op):
        who, key = "all_reduce", self._key("all_reduce")
        return self._run(async_op, lambda: _combine(
            self._gathered(array, key, self._deadline(), who), op, array))

    def broadcast(self, array, root, async_op):
        who, key = "broadcast", self._key("broadcast")

        def run():
            if self.rank == root:
                for r in self._others():
                    self._send(r, key, _bytes(array), who)
            else:
                self._into(array, root, key, self._deadline(), who)

        return self._run(async_op, run)

    def reduce(self, array, op, root, async_op):
        who, key = "reduce", self._key("reduce")

        def run():
            if self.rank != root:
                self._send(root, key, _bytes(array), who)
                return
            deadline = self._deadline()
            parts = [array if r == root else self._array(array, r, key, deadline, who)
                     for r in range(self.size)]  # fmt: skip
            _combine(parts, op, array)

        return self._run(async_op, run)

    def all_gather(self, out, array, async_op):
        who, key = "all_gather", self._key("all_gather")

        def run():
            deadline = self._deadline()
            for r in self._others():
                self._send(r, key, _bytes(array), who)
            out[self.rank] = array
            for r in self._others():
                self._into(out[r], r, key, deadline, who)

        return self._run(async_op, run)

    def reduce_scatter(self, out, array, op, async_op):
        who, key = "reduce_scatter", self._key("reduce_scatter")

        def run():
            deadline = self._deadline()
            for r in self._others():
                self._send(r, key, _bytes(array[r]), who)
            mine = array[self.rank]
            parts = [mine if r == self.rank else self._array(mine, r, key, deadline, who)
                     for r in range(self.size)]  # fmt: skip
            _combine(parts, op, out)

        return self._run(async_op, run)

    def gather(self, out, array, root, async_op):
        who, key = "gather", self._key("gather")

        def run():
            if self.rank != root:
                self._send(root, key, _bytes(array), who)
                return
            deadline = self._deadline()
            out[root] = array
            for r in self._others():
                self._into(out[r], r, key, deadline, who)

        return self._run(async_op, run)

    def scatter(self, out, array, root, async_op):
        who, key = "scatter", self._key("scatter")

        def run():
            if self.rank != root:
                self._into(out, root, key, self._deadline(), who)
                return
            for r in self._others():
                self._send(r, key, _bytes(array[r]), who)
            out[...] = array[root]

        return self._run(async_op, run)

    def all_to_all(self, out, out_counts, array, in_counts, async_op):
        who, key = "all_to_all", self._key("all_to_all")
        sends, receives = _offsets(in_counts), _offsets(out_counts)

        def run():
            deadline = self._deadline()
            for r in self._others():
                self._send(r, key, array[sends[r]:sends[r] + in_counts[r]], who)
            me = self.rank
            out[receives[me]:receives[me] + out_counts[me]] = \
                array[sends[me]:sends[me] + in_counts[me]]  # fmt: skip
            for r in self._others():
                self._into(out[receives[r]:receives[r] + out_counts[r]], r, key, deadline, who)

        return self._run(async_op, run)

    def barrier(self, async_op):
        who, key = "barrier", self._key("barrier")
        empty = np.empty(0, "u1")
        return self._run(async_op, lambda: self._gathered(empty, key, self._deadline(), who))

    def send(self, array, dst, tag, async_op):
        # eager: the peer's receiving thread drains the socket, so this never waits for recv
        self._send(dst, f"{self._name}:p2p:{tag}", _bytes(array), "send")
        return Work.completed()

    def recv(self, array, src, tag, async_op):
        # receives from one source (or from any) under one tag take its messages in the
        # order they were posted, whichever is waited on first, as MPI's and torch's do
        key = f"{self._name}:p2p:{tag}"
        posted = self._posted.setdefault((key, src), deque())
        mine = _Posted(array)
        posted.append(mine)
        sources = [self._ranks[r] for r in (self._others() if src is None else [src])]

        def progress(block):
            """Complete the receives posted up to ``mine``, oldest first; without ``block``,
            only while their message is here. Whether ``mine`` is done; a failure raises
            when blocking (``wait``), and counts as done for ``is_completed``."""
            deadline = self._deadline()
            while mine.sender is None and mine.error is None:
                if not block and not self._t.ready(sources, key):
                    return False
                head = posted.popleft()
                try:
                    head.sender = self._into(head.array, src, key, deadline, "recv")
                except DistBackendError as exc:
                    head.error = exc
            if block and mine.error is not None:
                raise mine.error
            return True

        work = Work(lambda: progress(True), lambda: progress(False))
        if not async_op:
            work.wait()
        return work, lambda: mine.sender

    def monitored_barrier(self, seconds):
        # rank 0 collects a token from every rank, answers each with the ranks that were
        # missing, then collects an acknowledgement (a rank that gave up sends none). Keys
        # carry the round, so a late rank's token of an earlier round is never taken.
        self._rounds += 1
        who, base = "monitored_barrier", f"{self._name}:monitored:{self._rounds}"
        if self.rank == 0:
            missing = self._arrivals(self._others(), base + ":token", seconds)
            flags = bytes(1 if r in missing else 0 for r in range(self.size))
            arrived = [r for r in self._others() if r not in missing]
            for r in arrived:
                self._quietly(r, base + ":answer", flags)
            if not missing:
                missing = self._arrivals(arrived, base + ":ack", seconds)
            return missing
        self._quietly(0, base + ":token", b"")
        try:
            answer, _ = self._take(0, base + ":answer", time.monotonic() + 2 * seconds, who)
        except DistBackendError:
            return [0]
        missing = [r for r, flag in enumerate(answer) if flag]
        if not missing:
            self._quietly(0, base + ":ack", b"")
        return missing

    def _arrivals(self, ranks, key, seconds):
        """The ranks of ``ranks`` that sent nothing under ``key`` within ``seconds``."""
        deadline, missing = time.monotonic() + seconds, []
        for r in ranks:
            try:
                self._take(r, key, deadline, "monitored_barrier")
            except DistBackendError:
                missing.append(r)
        return missing

    def _quietly(self, dst, key, payload):
        try:
            self._send(dst, key, payload, "monitored_barrier")
        except DistBackendError:
            pass  # the peer is gone: the barrier reports it missing

    # ------------------------------------------------------------------ objects

    def _object(self, src, key, deadline, who):
        payload, sender = self._take(src, key, deadline, who)
        return pickle.loads(payload), sender  # noqa: S301 - as PyTorch's object collectives

    def all_gather_object(self, obj):
        who, key = "all_gather_object", self._key("all_gather_object")
        data, deadline = pickle.dumps(obj), self._deadline()
        for r in self._others():
            self._send(r, key, data, who)
        return [obj if r == self.rank else self._object(r, key, deadline, who)[0]
                for r in range(self.size)]  # fmt: skip

    def broadcast_object(self, obj, root):
        who, key = "broadcast_object_list", self._key("broadcast_object")
        if self.rank != root:
            return self._object(root, key, self._deadline(), who)[0]
        data = pickle.dumps(obj)
        for r in self._others():
            self._send(r, key, data, who)
        return obj

    def gather_object(self, obj, root):
        who, key = "gather_object", self._key("gather_object")
        if self.rank != root:
            self._send(root, key, pickle.dumps(obj), who)
            return None
        deadline = self._deadline()
        return [obj if r == root else self._object(r, key, deadline, who)[0]
                for r in range(self.size)]  # fmt: skip

    def scatter_object(self, objs, root):
        who, key = "scatter_object_list", self._key("scatter_object")
        if self.rank != root:
            return self._object(root, key, self._deadline(), who)[0]
        for r in self._others():
            self._send(r, key, pickle.dumps(objs[r]), who)
        return objs[root]

    def send_object(self, obj, dst, tag):
        self._send(dst, f"{self._name}:object:{tag}", pickle.dumps(obj), "send_object_list")

    def recv_object(self, src, tag):
        key = f"{self._name}:object:{tag}"
        return self._object(src, key, self._deadline(), "recv_object_list")

    # ------------------------------------------------------------------ groups

    def split(self, ranks, timeout=None):
        # every rank of this group calls split in the same order: the count names the group
        self._splits += 1
        name = f"{self._name}.{self._splits}"
        if self.rank not in ranks:
            return None
        members = [self._ranks[r] for r in ranks]
        seconds = self._seconds if timeout is None else timeout
        return GlooCommunicator(self._t, members, name, seconds)

    def abort(self, code):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        # closing the sockets tells every peer at once: their waits on this rank fail
        self._t.close()
        os._exit(code)

    def free(self):
        if self._owner:
            self._t.close()


class GlooBackend(CommBackend):
    """The "gloo" backend: CPU tensors over TCP sockets, with a store for the rendezvous.

    Start the processes with ``python -m flambeau.distributed.run --nproc-per-node N
    train.py`` (or any launcher that sets ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK`` and
    ``WORLD_SIZE``), or pass ``init_method="tcp://host:port"``, ``"file://path"`` or
    ``store=`` with ``rank`` and ``world_size``. No MPI needed.

    Examples
    --------
    >>> from flambeau.distributed import get_comm_backend
    >>> get_comm_backend("gloo")
    <CommBackend 'gloo' for cpu>
    >>> get_comm_backend("gloo").uses_store
    True
    """

    name = "gloo"
    device_types = ("cpu",)
    uses_store = True

    def init_world(self, world_size, rank, timeout=None, store=None):
        if store is None:
            raise ValueError("backend 'gloo' needs a store for the rendezvous: call "
                             "init_process_group, which makes one from init_method")  # fmt: skip
        seconds = 1800.0 if timeout is None else float(timeout)
        transport = _Transport(rank, world_size, seconds, store)
        return GlooCommunicator(transport, range(world_size), "w", seconds, owner=True)


@hookimpl
def flambeau_comm_backends():
    """Register the "gloo" backend (the ``flambeau_comm_backends`` hook).

    Examples
    --------
    >>> from flambeau.distributed._gloo_backend import flambeau_comm_backends
    >>> [b.name for b in flambeau_comm_backends()]
    ['gloo']
    """
    return [GlooBackend()]

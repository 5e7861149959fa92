"""Worker processes with their queues and segments, and the iterator that drives them."""

from __future__ import annotations

import os
import signal
import time
import weakref
from multiprocessing import connection, resource_tracker

from flambeau.data import _shm, _worker
from flambeau.data._iterators import BaseIter

__all__ = ["WorkerPool", "MultiProcessIter"]

#: how long shutdown waits for workers to exit on their own before terminating them
_GRACE_S = 0.5
#: upper bound on one wait for results when no timeout is set (death still wakes us at once)
_WAIT_S = 5.0


class WorkerPool:
    """Everything a set of workers holds; :meth:`shutdown` releases all of it, once."""

    def __init__(self, loader, base_seed):
        ctx = loader.multiprocessing_context or loader._default_context()
        # forked children must talk to *our* resource tracker, so that the segments they
        # register are the ones we unregister
        resource_tracker.ensure_running()
        self.prefix = _shm.new_prefix()
        self.reader = _shm.MainReader()
        self.procs, self.index_queues, self.conns = [], [], []
        self.closed = False
        writers = []
        dataset_kind = loader._dataset_kind_is_iterable
        try:
            for wid in range(loader.num_workers):
                index_queue = ctx.Queue()
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_worker.worker_loop,
                    args=(loader.dataset, index_queue, writer, wid, loader.num_workers,
                          base_seed, loader.worker_init_fn, loader.collate_fn,
                          loader._auto_collation, loader.drop_last, dataset_kind, self.prefix,
                          loader.prefetch_factor, os.getpid()),
                    daemon=True,
                )
                self.index_queues.append(index_queue)
                self.conns.append(reader)
                writers.append(writer)
                proc.start()
                self.procs.append(proc)
        except BaseException:
            self.shutdown()
            raise
        finally:
            for writer in writers:
                writer.close()

    def shutdown(self):
        """Stop and join the workers, close the queues, unlink every segment. Idempotent."""
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _GRACE_S
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join()
        for q in self.index_queues:
            q.cancel_join_thread()
            q.close()
        for c in self.conns:
            c.close()
        self.reader.close()
        _shm.unlink_prefix(self.prefix)


def _death_message(proc, wid):
    proc.join(2.0)  # the sentinel fires as the process goes; reap it to learn how it ended
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = (" (the out-of-memory killer sends SIGKILL: try fewer workers or smaller "
                "batches)" if name == "SIGKILL" else "")
        return (f"DataLoader worker (pid {proc.pid}, worker id {wid}) was killed by signal "
                f"{name}{hint}")
    return (f"DataLoader worker (pid {proc.pid}, worker id {wid}) exited unexpectedly with "
            f"exit code {code}")


_SKIP = object()


class MultiProcessIter(BaseIter):
    """Iterates a DataLoader with ``num_workers`` worker processes."""

    def __init__(self, loader):
        self._pool = None
        self._finalizer = None
        self._epoch = 0
        self._outstanding = [0] * loader.num_workers
        super().__init__(loader)

    # ------------------------------------------------------------------ epoch setup
    def _reset(self):
        super()._reset()
        loader = self._loader
        self._epoch += 1
        self._send_idx = self._rcvd_idx = 0
        self._ready = {}
        self._undelivered = 0
        self._sampler_done = False
        self._active = [True] * loader.num_workers
        self._next_worker = 0
        if self._pool is None or self._pool.closed:
            self._outstanding = [0] * loader.num_workers
            self._pool = WorkerPool(loader, self._base_seed)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._finalizer = weakref.finalize(self, self._pool.shutdown)
        else:  # persistent workers: reseed them and restart iterable streams
            for q in self._pool.index_queues:
                q.put((-1, self._epoch, self._base_seed))
        self._fill()

    def _fill(self):
        loader = self._loader
        nw, prefetch = loader.num_workers, loader.prefetch_factor
        while not self._sampler_done and self._undelivered < prefetch * nw:
            for _ in range(nw):
                wid = self._next_worker
                self._next_worker = (wid + 1) % nw
                if self._active[wid] and self._outstanding[wid] < prefetch:
                    break
            else:
                return
            try:
                task = next(self._task_iter)
            except StopIteration:
                self._sampler_done = True
                return
            self._pool.index_queues[wid].put((self._send_idx, self._epoch, task))
            self._ready[self._send_idx] = None
            self._send_idx += 1
            self._outstanding[wid] += 1
            self._undelivered += 1

    # ------------------------------------------------------------------ iteration
    def _next_data(self):
        if self._pool is None or self._pool.closed:
            raise StopIteration
        try:
            return self._next_or_raise()
        except StopIteration:
            if not self._loader.persistent_workers:
                self._shutdown()
            raise
        except BaseException:  # errors, timeouts, dead workers, Ctrl-C: leave nothing behind
            self._shutdown()
            raise

    def _next_or_raise(self):
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            result = self._pop_ready()
            if result is not None:
                self._undelivered -= 1
                self._fill()
                if result is _SKIP:
                    continue
                kind, payload = result
                if kind == _worker.ERROR:
                    payload.reraise()
                return payload
            if self._undelivered == 0:
                self._fill()
                if self._undelivered == 0:
                    raise StopIteration
            self._receive(deadline, timeout)

    def _pop_ready(self):
        ready = self._ready
        if self._loader.in_order:
            while self._rcvd_idx < self._send_idx:
                result = ready.get(self._rcvd_idx)
                if result is None:
                    return None
                del ready[self._rcvd_idx]
                self._rcvd_idx += 1
                return result
            return None
        for task_id, result in ready.items():
            if result is not None:
                del ready[task_id]
                return result
        return None

    def _receive(self, deadline, timeout):
        pool = self._pool
        wait_s = _WAIT_S if deadline is None else max(0.0, deadline - time.monotonic())
        sentinels = {p.sentinel: wid for wid, p in enumerate(pool.procs)}
        ready = connection.wait([*pool.conns, *sentinels], timeout=wait_s)
        for obj in ready:
            if obj in sentinels:
                continue
            while obj.poll():
                try:
                    self._handle(obj.recv())
                except EOFError:
                    break
        for obj in ready:
            wid = sentinels.get(obj)
            if wid is not None:
                raise RuntimeError(_death_message(pool.procs[wid], wid))
        if not ready and deadline is not None and time.monotonic() >= deadline:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def _handle(self, msg):
        task_id, epoch, wid, kind, payload = msg
        if kind == _worker.RESUMED:
            return
        self._outstanding[wid] -= 1
        if epoch != self._epoch:
            return  # a batch of an abandoned epoch of persistent workers
        if kind == _worker.DATA:
            slot, name, used, body = payload
            self._ready[task_id] = (kind, self._pool.reader.read(wid, slot, name, used, body))
        elif kind == _worker.EXHAUSTED:
            self._active[wid] = False
            self._ready[task_id] = _SKIP
        else:
            self._ready[task_id] = (kind, payload)

    def _shutdown(self):
        if self._finalizer is not None:
            self._finalizer()  # runs pool.shutdown once and detaches
        self._pool = None

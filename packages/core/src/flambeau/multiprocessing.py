"""``flambeau.multiprocessing``: Python's :mod:`multiprocessing` plus :func:`spawn`, as
``torch.multiprocessing``.

Every name of :mod:`multiprocessing` (``Process``, ``Queue``, ``get_context``,
``set_start_method``...) is reachable here, so ``import torch.multiprocessing as mp`` becomes
``import flambeau.multiprocessing as mp`` (pytorch/examples' imagenet imports it at the top).

A CPU tensor in shared memory (:meth:`flambeau.Tensor.share_memory_`,
``nn.Module.share_memory()``) passed to another process (``Process`` arguments, ``Queue``,
``SimpleQueue``, ``Pool``, :func:`spawn`; with the ``fork``, ``spawn`` and ``forkserver``
start methods) maps the same memory there: in-place writes (``add_``, ``optimizer.step()``)
are seen by every process, which is what Hogwild training needs. A CPU tensor not in shared
memory yet is moved there when it is sent (``Queue``, ``SimpleQueue``, ``Pool``, ``Process``
arguments under ``spawn`` and ``forkserver``), as in PyTorch: the sender's tensor becomes
``is_shared()``, with its base and views, and the receiver's writes reach it. That holds for
every ``multiprocessing`` queue once this module is imported, which is when flambeau tells
``multiprocessing`` how to send tensors (``import torch`` does it for PyTorch). ``Process``
arguments under ``fork`` are not sent at all: the child has a copy-on-write copy of a tensor
not shared before, as in PyTorch. ``pickle.dumps`` and ``flambeau.save`` always write copies.
The memory is sent as a file descriptor (PyTorch's ``file_descriptor`` strategy) and freed
when the last process lets go of it; as in PyTorch, a process that sends a shared tensor
through a queue must still be running when the receiver takes it out. Tensors on other devices
(CUDA) are not moved to shared memory and go as copies.

Examples
--------
>>> import flambeau
>>> import flambeau.multiprocessing as mp
>>> def train(weights):
...     weights.add_(1)  # in the child process
>>> w = flambeau.zeros(2).share_memory_()
>>> p = mp.get_context("fork").Process(target=train, args=(w,))
>>> p.start(); p.join(timeout=60)
>>> w.tolist()
[1.0, 1.0]
>>> q = mp.get_context("fork").SimpleQueue()
>>> t = flambeau.zeros(2)
>>> q.put(t)  # moves t into shared memory, then sends its place there
>>> t.is_shared(), q.get().add_(1).is_shared(), t.tolist()
(True, True, [1.0, 1.0])
"""

from __future__ import annotations

import multiprocessing as _mp
import traceback
from multiprocessing import connection as _connection

from flambeau import _shared_memory

# as importing torch.multiprocessing does: from now on, multiprocessing's pickler moves a CPU
# tensor into shared memory before sending it to another process
_shared_memory._register_reductions()

__all__ = ["spawn", "ProcessContext", "ProcessException", "ProcessRaisedException",
           "ProcessExitedException", "get_all_sharing_strategies", "get_sharing_strategy",
           "set_sharing_strategy"]

_SHARING_STRATEGIES = frozenset({"file_descriptor", "file_system"})
_sharing_strategy = "file_descriptor"


def __getattr__(name):
    # the rest of the standard module, as torch.multiprocessing re-exports it
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_mp, name)
    except AttributeError:
        raise AttributeError(f"module 'flambeau.multiprocessing' has no attribute '{name}'") \
            from None


def get_all_sharing_strategies() -> set:
    """The names :func:`set_sharing_strategy` takes, as ``torch.multiprocessing``'s.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> sorted(mp.get_all_sharing_strategies())
    ['file_descriptor', 'file_system']
    """
    return set(_SHARING_STRATEGIES)


def get_sharing_strategy() -> str:
    """The strategy last set by :func:`set_sharing_strategy` (``"file_descriptor"`` until
    then, PyTorch's default on Linux).

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> mp.get_sharing_strategy()
    'file_descriptor'
    """
    return _sharing_strategy


def set_sharing_strategy(new_strategy):
    """Choose how CPU tensors in shared memory reach other processes, as PyTorch's.

    flambeau always sends a shared tensor's memory as a file descriptor (PyTorch's
    ``"file_descriptor"``); ``"file_system"`` is accepted, and remembered, so that code
    written for PyTorch (which picks it to use fewer descriptors) runs, and the tensors are
    shared just the same. Each shared storage keeps a descriptor open in a process that
    maps it (two before Python 3.13): for many shared tensors, raise the limit
    (``ulimit -n``).

    Raises
    ------
    AssertionError
        For another name, as PyTorch.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> mp.set_sharing_strategy("file_descriptor")
    >>> mp.get_sharing_strategy()
    'file_descriptor'
    """
    global _sharing_strategy
    if new_strategy not in _SHARING_STRATEGIES:
        raise AssertionError(f"set_sharing_strategy: invalid sharing strategy "
                             f"{new_strategy!r}, expected one of {set(_SHARING_STRATEGIES)}")
    _sharing_strategy = new_strategy


class ProcessException(Exception):
    """A process started by :func:`spawn` failed.

    Attributes
    ----------
    error_index : int
        The failed process's index (its first argument).
    pid : int
        Its process id.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> issubclass(mp.ProcessRaisedException, mp.ProcessException)
    True
    """

    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process started by :func:`spawn` raised; the message holds its traceback.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> str(mp.ProcessRaisedException("process 1 raised", 1, 42))
    'process 1 raised'
    """


class ProcessExitedException(ProcessException):
    """A process started by :func:`spawn` exited with a nonzero code without raising (killed
    by a signal, ``os._exit``...).

    Attributes
    ----------
    exit_code : int
        Its exit code (negative: the signal that ended it).

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> mp.ProcessExitedException("process 0 exited", 0, 42, exit_code=-9).exit_code
    -9
    """

    def __init__(self, msg: str, error_index: int, pid: int, exit_code: int):
        super().__init__(msg, error_index, pid)
        self.exit_code = exit_code

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code)


def _run(fn, i, args, errors):
    """The body of spawned process ``i``: its error's traceback goes back to the parent."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent was interrupted too and reports it
    except BaseException:
        errors.put(traceback.format_exc())
        raise SystemExit(1) from None


class ProcessContext:
    """The processes started by :func:`spawn` with ``join=False``; :meth:`join` waits.

    Attributes
    ----------
    processes : list of multiprocessing.Process
        One per index.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> mp.ProcessContext([], []).join()
    True
    """

    def __init__(self, processes, error_queues):
        self.processes = processes
        self.error_queues = error_queues

    def pids(self) -> list:
        """The process ids, in index order.

        Examples
        --------
        >>> import flambeau.multiprocessing as mp
        >>> mp.ProcessContext([], []).pids()
        []
        """
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        """Wait up to ``timeout`` seconds (None: until done) for the processes.

        Returns True when all have ended, False when some still run. The first failure
        ends the others and raises :class:`ProcessRaisedException` (with the failed
        process's traceback) or :class:`ProcessExitedException`.

        Examples
        --------
        >>> import flambeau.multiprocessing as mp
        >>> mp.ProcessContext([], []).join(timeout=0)
        True
        """
        alive = [p for p in self.processes if p.exitcode is None]
        if alive:
            _connection.wait([p.sentinel for p in alive], timeout=timeout)
        # one reading of the exit codes: a process reaped between two readings would
        # otherwise count as done without its failure being seen
        codes = [p.exitcode for p in self.processes]
        failed = next((i for i, code in enumerate(codes) if code not in (None, 0)), None)
        if failed is None:
            return None not in codes
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        proc = self.processes[failed]
        if not self.error_queues[failed].empty():
            tb = self.error_queues[failed].get()
            raise ProcessRaisedException(
                f"spawn: process {failed} raised:\n\n{tb}", failed, proc.pid)
        raise ProcessExitedException(
            f"spawn: process {failed} exited with code {proc.exitcode}", failed, proc.pid,
            exit_code=proc.exitcode)


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` for ``i`` in ``range(nprocs)``, each in a new process.

    Parameters
    ----------
    fn : callable
        A module-level function (the ``"spawn"`` start method pickles it); its first
        argument is the process index.
    args : tuple
        The other arguments.
    nprocs : int
        How many processes.
    join : bool
        Wait for all of them (default) or return a :class:`ProcessContext` at once.
    daemon : bool
        Start daemonic processes.
    start_method : str
        ``"spawn"`` (default, as PyTorch), ``"fork"`` or ``"forkserver"``.

    Returns
    -------
    None or ProcessContext
        None with ``join=True``.

    Raises
    ------
    ProcessRaisedException
        When a process raised: the message holds its traceback; the others are ended.
    ProcessExitedException
        When a process exited with a nonzero code without raising.

    Examples
    --------
    >>> import flambeau.multiprocessing as mp
    >>> mp.spawn(print, args=("hello",), nprocs=0)
    """
    ctx = _mp.get_context(start_method)
    processes, error_queues = [], []
    for i in range(nprocs):
        errors = ctx.SimpleQueue()
        p = ctx.Process(target=_run, args=(fn, i, args, errors), daemon=daemon)
        p.start()
        processes.append(p)
        error_queues.append(errors)
    context = ProcessContext(processes, error_queues)
    if not join:
        return context
    while not context.join():
        pass
    return None

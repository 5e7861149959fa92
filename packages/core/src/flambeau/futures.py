"""``flambeau.futures``: PyTorch's Future, a result that another thread or rank completes.

A :class:`Future` is completed once, with :meth:`~Future.set_result` or
:meth:`~Future.set_exception`; :meth:`~Future.wait` blocks until then. Callbacks chained with
:meth:`~Future.then` or :meth:`~Future.add_done_callback` run in the thread that completes it
(at once, when it is already complete). :func:`flambeau.jit.fork` returns one.

Examples
--------
>>> import flambeau
>>> fut = flambeau.futures.Future()
>>> doubled = fut.then(lambda f: f.value() * 2)
>>> fut.set_result(flambeau.tensor([1.0, 2.0]))
>>> doubled.wait()
tensor([2., 4.])
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")

_log = logging.getLogger(__name__)


class Future(Generic[T]):
    """A value of type ``T`` that becomes available later, completed exactly once.

    Parameters
    ----------
    devices : list of devices, optional
        The devices whose tensors the value may hold (kept for PyTorch's signature: flambeau's
        CUDA copies synchronize on their own).

    Examples
    --------
    >>> import threading, flambeau
    >>> fut = flambeau.futures.Future()
    >>> threading.Thread(target=fut.set_result, args=(42,)).start()
    >>> fut.wait()
    42
    """

    def __init__(self, *, devices=None):
        from flambeau._device import device as _device

        self._devices = [_device(d) for d in devices or ()]
        self._condition = threading.Condition()
        self._done = False
        self._value = None
        self._error: BaseException | None = None
        self._callbacks: list = []

    def __repr__(self):
        state = "done" if self._done else "pending"
        return f"<flambeau.futures.Future object ({state}) at {id(self):#x}>"

    def done(self) -> bool:
        """Whether the future holds a result or an exception.

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> fut.done(), (fut.set_result(1), fut.done())[1]
        (False, True)
        """
        return self._done

    def wait(self) -> T:
        """Block until the future completes; return its result or raise its exception.

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> fut.set_result("ready")
        >>> fut.wait()
        'ready'
        """
        with self._condition:
            while not self._done:
                self._condition.wait()
        return self.value()

    def value(self) -> T:
        """The result of a completed future (its exception is raised), without waiting.

        Call it after :meth:`wait` or inside a callback of :meth:`then`.

        Raises
        ------
        RuntimeError
            When the future is not completed yet.

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> fut.set_result(3)
        >>> fut.value()
        3
        """
        if not self._done:
            raise RuntimeError("Future.value(): the future is not completed yet; call wait() "
                               "first, or read it in a callback passed to then()")
        if self._error is not None:
            raise self._error
        return self._value

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with ``callback(self)`` once this one completes.

        An exception raised by ``callback`` completes the new future with a RuntimeError
        that names it (the original is its ``__cause__``).

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> plus_one = fut.then(lambda f: f.wait() + 1)
        >>> fut.set_result(1)
        >>> plus_one.wait()
        2
        """
        chained: Future[S] = Future(devices=self._devices)

        def run(fut):
            try:
                result = callback(fut)
            except Exception as exc:
                error = RuntimeError(f"Got the following error when running the callback: "
                                     f"{type(exc).__name__}: {exc}")
                error.__cause__ = exc
                chained.set_exception(error)
            else:
                chained.set_result(result)

        self._add(run)
        return chained

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Call ``callback(self)`` once the future completes (now, if it already has).

        The callback's return value is dropped; an exception it raises is logged, not raised.
        Use :meth:`then` to chain a computation.

        Examples
        --------
        >>> import flambeau
        >>> seen = []
        >>> fut = flambeau.futures.Future()
        >>> fut.add_done_callback(lambda f: seen.append(f.value()))
        >>> fut.set_result(7)
        >>> seen
        [7]
        """
        def run(fut):
            try:
                callback(fut)
            except Exception:
                _log.exception("Got the following error when running the callback")

        self._add(run)

    def set_result(self, result: T) -> None:
        """Complete the future with ``result``, waking its waiters and running its callbacks.

        Raises
        ------
        RuntimeError
            When the future is already completed.

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> fut.set_result([1, 2])
        >>> fut.wait()
        [1, 2]
        """
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an exception, raised by :meth:`wait` and :meth:`value`.

        Raises
        ------
        AssertionError
            When ``result`` is not an exception (as PyTorch).
        RuntimeError
            When the future is already completed.

        Examples
        --------
        >>> import flambeau
        >>> fut = flambeau.futures.Future()
        >>> fut.set_exception(ValueError("no data"))
        >>> fut.wait()
        Traceback (most recent call last):
            ...
        ValueError: no data
        """
        assert isinstance(result, BaseException), (
            f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, value, error):
        with self._condition:
            if self._done:
                raise RuntimeError("Attempting to mark a completed Future as complete again. "
                                   "Note that a Future can only be marked completed once.")
            self._value, self._error, self._done = value, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._condition.notify_all()
        for run in callbacks:  # outside the lock: a callback may wait on other futures
            run(self)

    def _add(self, run):
        with self._condition:
            if not self._done:
                self._callbacks.append(run)
                return
        run(self)


def _check_futures(futures, api):
    bad = [type(f).__name__ for f in futures if not isinstance(f, Future)]
    if bad:
        raise TypeError(f"{api}: expected a list of flambeau.futures.Future, got "
                        f"{', '.join(bad)}")


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed with the list ``futures`` once every one of them is complete.

    If one of them failed, the combined future carries the first failure (in list order).

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.futures.Future(), flambeau.futures.Future()
    >>> both = flambeau.futures.collect_all([a, b])
    >>> a.set_result(1); both.done()
    False
    >>> b.set_result(2)
    >>> [f.value() for f in both.wait()]
    [1, 2]
    """
    futures = list(futures)
    _check_futures(futures, "collect_all")
    combined: Future[list[Future]] = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            failed = next((f._error for f in futures if f._error is not None), None)
            if failed is None:
                combined.set_result(futures)
            else:
                combined.set_exception(failed)

    if not futures:
        combined.set_result([])
    for fut in futures:
        fut._add(one_done)
    return combined


def wait_all(futures: list[Future]) -> list:
    """Wait for every future and return their values; the first failure is raised.

    Examples
    --------
    >>> import flambeau
    >>> futs = [flambeau.jit.fork(pow, 2, n) for n in range(4)]
    >>> flambeau.futures.wait_all(futs)
    [1, 2, 4, 8]
    """
    return [fut.wait() for fut in collect_all(futures).wait()]

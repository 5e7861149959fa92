"""Handles of asynchronous collectives (``async_op=True``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from flambeau.distributed._errors import DistBackendError

__all__ = ["Work"]


class Work:
    """The handle of a collective started with ``async_op=True``.

    :meth:`wait` blocks until the operation has finished and its results are in the output
    tensors; :meth:`is_completed` polls without blocking. As in PyTorch, an operation that
    failed has completed: :meth:`is_completed` returns True, :meth:`is_success` False, and
    every :meth:`wait` raises its error. Backends build one from a blocking
    ``wait`` and a non-blocking ``test`` function; the collectives chain their own
    post-processing (averaging, copies into output lists) with :meth:`then`.

    Parameters
    ----------
    wait : callable
        Blocks until the backend operation is done.
    test : callable, optional
        Returns True once the backend operation is done, without blocking (default: always
        True, for an operation that already completed).

    Examples
    --------
    >>> from flambeau.distributed import Work
    >>> done = []
    >>> w = Work(lambda: None).then(lambda: done.append(1))
    >>> w.is_completed(), done
    (True, [1])
    >>> w.wait()
    True
    """

    __slots__ = ("_wait", "_test", "_post", "_done", "_error")

    def __init__(self, wait: Callable[[], object], test: Callable[[], bool] | None = None):
        self._wait = wait
        self._test = test
        self._post: list[Callable[[], object]] = []
        self._done = False
        self._error: Exception | None = None

    @classmethod
    def completed(cls) -> Work:
        """A handle of an operation that has already finished.

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work.completed().is_completed()
        True
        """
        return cls(_nothing)

    def then(self, fn: Callable[[], object]) -> Work:
        """Run ``fn()`` once the operation has finished (before :meth:`wait` returns).

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work.completed().then(lambda: print("done")).wait()
        done
        True
        """
        if self._done:
            if self._error is None:
                fn()
        else:
            self._post.append(fn)
        return self

    def _complete(self) -> None:
        """Finish the backend operation, then run the callbacks; a failure is kept for
        :meth:`wait` to raise (the callbacks, which read the results, do not run)."""
        try:
            self._wait()
        except Exception as exc:  # not BaseException: an interrupted wait is still pending
            self._error, self._done, self._post = exc, True, []
            return
        self._done = True
        post, self._post = self._post, []
        for fn in post:
            fn()

    def wait(self, timeout=None) -> bool:
        """Block until the operation has finished; return True.

        With ``timeout`` (a ``datetime.timedelta`` or seconds), raise
        :class:`DistBackendError` when the operation has not finished by then. The operation
        stays in flight: ``wait()`` may be called again. Every backend's operation also gives
        up by itself after its group's timeout on "gloo"; on "mpi" and "nccl" a started
        collective cannot be abandoned, so only ``wait(timeout=)`` bounds the wait.

        Examples
        --------
        >>> import datetime
        >>> from flambeau.distributed import Work
        >>> Work.completed().wait()
        True
        >>> never = Work(lambda: None, test=lambda: False)
        >>> never.wait(timeout=datetime.timedelta(seconds=0.01))
        Traceback (most recent call last):
        ...
        flambeau.distributed.DistBackendError: Work.wait: the operation did not finish within ...
        """
        if not self._done:
            if timeout is not None and self._test is not None:
                self._wait_for(timeout)
            self._complete()
        if self._error is not None:
            raise self._error
        return True

    def _wait_for(self, timeout) -> None:
        """Poll :meth:`is_completed`'s test until ``timeout``; DistBackendError after it."""
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise TypeError(f"Work.wait: timeout must be a datetime.timedelta or non-negative "
                            f"seconds, got {timeout!r}")  # fmt: skip
        deadline = time.monotonic() + seconds
        pause = 0.0002
        while not self._test():
            left = deadline - time.monotonic()
            if left <= 0:
                raise DistBackendError(
                    f"Work.wait: the operation did not finish within {seconds:g} s (timeout=); "
                    "a peer is slow, stuck or has failed. It is still in flight: wait() again "
                    "or end the job"
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.01)

    def is_completed(self) -> bool:
        """Whether the operation has finished (polls the backend; never blocks).

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work(lambda: None, test=lambda: False).is_completed()
        False
        """
        if not self._done and (self._test is None or self._test()):
            self._complete()  # completes the request bookkeeping; returns at once
        return self._done

    def is_success(self) -> bool:
        """Whether the operation finished without error (an error raises in :meth:`wait`).

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work.completed().is_success()
        True
        >>> def fail():
        ...     raise RuntimeError("the peer is gone")
        >>> failed = Work(fail)
        >>> failed.is_completed(), failed.is_success()
        (True, False)
        """
        return self.is_completed() and self._error is None


def _nothing() -> None:
    return None

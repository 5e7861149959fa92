"""Handles of asynchronous collectives (``async_op=True``)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Work"]


class Work:
    """The handle of a collective started with ``async_op=True``.

    :meth:`wait` blocks until the operation has finished and its results are in the output
    tensors; :meth:`is_completed` polls without blocking. Backends build one from a blocking
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

    __slots__ = ("_wait", "_test", "_post", "_done")

    def __init__(self, wait: Callable[[], object], test: Callable[[], bool] | None = None):
        self._wait = wait
        self._test = test
        self._post: list[Callable[[], object]] = []
        self._done = False

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
            fn()
        else:
            self._post.append(fn)
        return self

    def _finish(self) -> None:
        self._done = True
        post, self._post = self._post, []
        for fn in post:
            fn()

    def wait(self, timeout=None) -> bool:
        """Block until the operation has finished; return True.

        ``timeout`` is accepted for PyTorch compatibility; MPI offers no way to give up on a
        started collective, so it is not enforced.

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work.completed().wait()
        True
        """
        if not self._done:
            self._wait()
            self._finish()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has finished (polls the backend; never blocks).

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work(lambda: None, test=lambda: False).is_completed()
        False
        """
        if not self._done and (self._test is None or self._test()):
            self._wait()  # completes the request bookkeeping; returns at once
            self._finish()
        return self._done

    def is_success(self) -> bool:
        """Whether the operation finished without error (an error raises in :meth:`wait`).

        Examples
        --------
        >>> from flambeau.distributed import Work
        >>> Work.completed().is_success()
        True
        """
        return self.is_completed()


def _nothing() -> None:
    return None

"""The exception classes of ``torch.distributed``, for code that catches them by name."""

from __future__ import annotations

__all__ = ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError",
           "QueueEmptyError"]  # fmt: skip


class DistError(RuntimeError):
    """Base class of flambeau.distributed's errors (a RuntimeError, as in PyTorch).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> issubclass(dist.DistStoreError, dist.DistError), issubclass(dist.DistError, RuntimeError)
    (True, True)
    """


class DistBackendError(DistError):
    """A communication backend failed (for example a rank missed a :func:`monitored_barrier`).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> issubclass(dist.DistBackendError, dist.DistError)
    True
    """


class DistNetworkError(DistError):
    """A network operation failed: a :class:`TCPStore` could not connect or lost its server.

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> issubclass(dist.DistNetworkError, dist.DistError)
    True
    """


class DistStoreError(DistError):
    """A key-value store operation failed; a ``get`` or ``wait`` past its timeout raises it.

    Examples
    --------
    >>> import datetime, flambeau.distributed as dist
    >>> store = dist.HashStore()
    >>> store.wait(["missing"], datetime.timedelta(seconds=0.01))
    Traceback (most recent call last):
    ...
    flambeau.distributed.DistStoreError: wait: keys ['missing'] were not set within 0.01 s...
    """


class QueueEmptyError(DistStoreError):
    """A store's queue had nothing to pop (PyTorch's ``QueueEmptyError``).

    Examples
    --------
    >>> import flambeau.distributed as dist
    >>> issubclass(dist.QueueEmptyError, dist.DistStoreError)
    True
    """


for _cls in (DistError, DistBackendError, DistNetworkError, DistStoreError, QueueEmptyError):
    _cls.__module__ = "flambeau.distributed"  # tracebacks name the public path
del _cls

"""``flambeau.cpu``: the CPU's counterpart of ``flambeau.cuda`` (PyTorch's ``torch.cpu``),
so device-agnostic code can call ``flambeau.get_device_module(dev).synchronize()`` anywhere.

CPU work runs synchronously: there is one device, streams are no-ops and
:func:`synchronize` returns at once. :mod:`flambeau.cpu.amp` holds PyTorch's deprecated
``torch.cpu.amp`` names.

Examples
--------
>>> import flambeau
>>> flambeau.cpu.is_available(), flambeau.cpu.device_count(), flambeau.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

import contextlib
import importlib

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "set_device",
           "device_count", "Stream", "current_stream", "stream"]


def is_available() -> bool:
    """Always True: the CPU is always there.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.is_available()
    True
    """
    return True


def is_initialized() -> bool:
    """Always True (nothing to initialise).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.is_initialized()
    True
    """
    return True


def synchronize(device=None) -> None:
    """Returns at once: CPU work is synchronous.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.synchronize()
    """


def current_device() -> str:
    """``"cpu"``, as PyTorch answers.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.current_device()
    'cpu'
    """
    return "cpu"


def set_device(device) -> None:
    """A no-op: there is one CPU device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.set_device("cpu")
    """


def device_count() -> int:
    """1: the CPU counts as one device.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.device_count()
    1
    """
    return 1


class Stream:
    """A stand-in for a device stream: work on the CPU is never queued.

    Examples
    --------
    >>> import flambeau
    >>> s = flambeau.cpu.Stream()
    >>> s.query(), s.synchronize()
    (True, None)
    """

    def __init__(self, priority: int = -1):
        self.priority = priority

    def query(self) -> bool:
        """True: nothing is ever pending."""
        return True

    def synchronize(self) -> None:
        """Returns at once."""

    def wait_stream(self, stream) -> None:
        """Returns at once."""

    def record_event(self, event=None):
        """Returns ``event`` (no event is needed on the CPU)."""
        return event


_default_stream = Stream()


def current_stream(device=None) -> Stream:
    """The (only) CPU stream.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cpu.current_stream().query()
    True
    """
    return _default_stream


@contextlib.contextmanager
def stream(stream):
    """A context manager that selects ``stream``: a no-op on the CPU.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.cpu.stream(flambeau.cpu.Stream()):
    ...     flambeau.ones(1).item()
    1.0
    """
    yield


# ``flambeau.cpu.amp`` is reachable after ``import flambeau``, as in torch. Imported with
# importlib as ``flambeau.cuda.amp`` is (there, ``from flambeau.cuda import amp`` would ask
# the module __getattr__, discovering plugins mid-import), so both packages load alike.
amp = importlib.import_module("flambeau.cpu.amp")

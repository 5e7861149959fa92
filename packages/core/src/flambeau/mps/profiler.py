"""``flambeau.mps.profiler``: torch.mps.profiler's Metal traces, for an "mps" plugin that
records them (its backend's ``profiler_start``/``profiler_stop``...). Without MPS,
:func:`start`, :func:`stop` and entering :func:`profile` raise a RuntimeError as in PyTorch
built without MPS, and nothing is being captured.

Examples
--------
>>> import flambeau
>>> flambeau.mps.profiler.is_capturing_metal()
False
"""

from __future__ import annotations

import contextlib

from flambeau._plugin_device import backend_function
from flambeau.mps import _from_backend

__all__ = ["start", "stop", "profile", "metal_capture", "is_metal_capture_enabled",
           "is_capturing_metal"]


def start(mode: str = "interval", wait_until_completed: bool = False) -> None:
    """Start recording an OS Signpost trace of the MPS work (``mode``: ``"interval"``,
    ``"event"`` or both, ``"interval,event"``).

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.profiler.start()
    ...     flambeau.mps.profiler.stop()
    """
    _from_backend("profiler_start", mode, wait_until_completed)


def stop() -> None:
    """Stop the trace :func:`start` began.

    Raises
    ------
    RuntimeError
        Without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     flambeau.mps.profiler.stop()
    """
    _from_backend("profiler_stop")


@contextlib.contextmanager
def profile(mode: str = "interval", wait_until_completed: bool = False):
    """:func:`start` on entry and :func:`stop` on exit.

    Raises
    ------
    RuntimeError
        On entry, without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     with flambeau.mps.profiler.profile():
    ...         pass
    """
    start(mode, wait_until_completed)
    try:
        yield
    finally:
        stop()


is_metal_capture_enabled = backend_function(
    "mps", __name__, "is_metal_capture_enabled", "Whether Metal captures can be taken",
    absent=False)
is_capturing_metal = backend_function("mps", __name__, "is_capturing_metal",
                                      "Whether a Metal capture is being taken", absent=False)


@contextlib.contextmanager
def metal_capture(fname: str):
    """Capture the Metal work done inside the block into ``fname`` (the plugin's
    ``metal_capture``).

    Raises
    ------
    RuntimeError
        On entry, without MPS.

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.mps.is_available():
    ...     with flambeau.mps.profiler.metal_capture("trace"):
    ...         pass
    """
    with _from_backend("metal_capture", fname):
        yield


"""Anomaly detection: find the forward op behind a NaN in backward."""

from __future__ import annotations

import threading

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

_tls = threading.local()

#: how many threads have anomaly detection on: recording ops test this plain global first,
#: so the common case (off everywhere) costs no thread-local lookup
active = 0


def enabled() -> bool:
    return active > 0 and getattr(_tls, "on", False)


def check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward results for NaN (``check_nan``)."""
    return getattr(_tls, "check_nan", True)


def _set(on: bool, check_nan: bool | None = None) -> None:
    global active
    was = getattr(_tls, "on", False)
    if on != was:
        active += 1 if on else -1
    _tls.on = on
    if check_nan is not None:
        _tls.check_nan = check_nan


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.autograd.is_anomaly_enabled()
    False
    """
    return enabled()


class detect_anomaly:
    """Record forward tracebacks and raise when backward produces NaN.

    The error names the op whose backward returned NaN and shows where that op ran in the
    forward pass. Slows things down: use it to debug, not to train.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([0.0], requires_grad=True)
    >>> with flambeau.autograd.detect_anomaly():
    ...     y = flambeau.sqrt(x) * 0
    ...     try:
    ...         y.backward()
    ...     except RuntimeError as e:
    ...         print(str(e).splitlines()[0])
    Function 'SqrtBackward0' returned nan values in its 0th output.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = enabled()
        self._prev_nan = check_nan_enabled()
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(self._prev, self._prev_nan)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off (a function call or a context manager).

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.autograd.set_detect_anomaly(True):
    ...     flambeau.autograd.is_anomaly_enabled()
    True
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = enabled()
        self._prev_nan = check_nan_enabled()
        _set(bool(mode), check_nan)
        self.check_nan = check_nan

    def __enter__(self):
        return self

"""``record_function``: a named range in the profile, around any block of code."""

from __future__ import annotations

import functools

from flambeau.profiler import _record

__all__ = ["record_function"]


class record_function:
    """Record the code inside it as one event named ``name`` (torch's ``record_function``).

    A context manager, or a decorator (each call of the function is one range). The range
    is an event like an op's: the ops run inside it are its children, so its self time is the
    time spent outside them (in Python, NumPy calls that are not ops...). Ranges nest. When
    no profiler is recording it does nothing, at the cost of one attribute read.
    ``args`` is accepted for torch's sake and not recorded.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import profile, record_function
    >>> @record_function("double")
    ... def double(t):
    ...     return t * 2.0
    >>> with profile() as prof:
    ...     with record_function("step"):
    ...         y = double(flambeau.ones(3))
    >>> [(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()]
    [('step', None), ('double', 'step'), ('flambeau::mul', 'double')]
    """

    def __init__(self, name: str, args: str | None = None):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name = name
        self.args = args
        self._open = None  # (recording, record) while inside and recorded

    def __enter__(self):
        recording = _record.active
        if recording is not None:
            self._open = recording, recording.enter(self.name, _record.USER)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self._open is not None:
            recording, record = self._open
            self._open = None
            if recording.stop_ns is None:  # a range left open at stop ends there
                recording.leave(record)
        return False

    def __call__(self, fn):
        name = self.name

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(name):  # a range per call: calls may nest or overlap
                return fn(*args, **kwargs)

        return wrapper

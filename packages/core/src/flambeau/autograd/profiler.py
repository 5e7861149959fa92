"""``flambeau.autograd.profiler``: torch.autograd.profiler's context-manager profiler.

The same recording as :class:`flambeau.profiler.profile` (see there what is recorded), with
the older API: ``with profile() as prof:``, then ``prof.table()``, ``prof.key_averages()``,
``prof.function_events``. :class:`record_function` is :class:`flambeau.profiler.record_function`.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.profiler import profile
>>> with profile() as prof:
...     y = flambeau.ones(3).exp()
>>> [e.name for e in prof.function_events]
['flambeau::exp']
"""

from __future__ import annotations

from flambeau.profiler import _record
from flambeau.profiler._events import EventList, FunctionEvent, FunctionEventAvg
from flambeau.profiler._range import record_function
from flambeau.profiler._results import Results

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(Results):
    """Record the ops run inside the ``with`` block (``torch.autograd.profiler.profile``).

    ``enabled=False`` makes it do nothing. ``use_cuda=True`` or ``use_device="cuda"``
    synchronizes the accelerator when recording starts and stops (flambeau does not time
    kernels on the device: op times are host times). ``record_shapes``, ``profile_memory``,
    ``with_stack`` and ``acc_events`` are as in :class:`flambeau.profiler.profile`;
    ``with_flops``, ``with_modules``, ``use_kineto``, ``use_cpu`` and
    ``experimental_config`` are accepted and change nothing.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.autograd.profiler import profile
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with profile(record_shapes=True) as prof:
    ...     (x * 3.0).sum().backward()
    >>> [(e.name, e.input_shapes) for e in prof.function_events][:2]
    [('flambeau::mul', [[2], []]), ('flambeau::sum', [[2], [], [], []])]
    >>> prof.total_average().count == len(prof.function_events)
    True
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False):
        if use_cuda and use_device not in (None, "cuda"):
            raise ValueError(f"profile: use_cuda=True and use_device={use_device!r} disagree")
        self.enabled = bool(enabled)
        self._init_results(record_shapes=record_shapes, profile_memory=profile_memory,
                           with_stack=with_stack, with_flops=with_flops, acc_events=acc_events,
                           use_device="cuda" if use_cuda else use_device)
        self.entered = False

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        _record.claim(self)
        self.entered = True
        try:
            self._start_recording()
        except BaseException:
            self.entered = False
            _record.release(self)
            raise
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled or not self.entered:
            return
        try:
            self._stop_recording()
        finally:
            self.entered = False
            _record.release(self)

    def __str__(self):
        return str(self._finished())

    def _finished(self) -> EventList:
        if self.entered:
            raise RuntimeError("Profiler didn't finish running")
        return self._event_list()

    @property
    def function_events(self) -> EventList:
        """The recorded events (``FunctionEvent``), in order of start."""
        return self._finished()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """The table of the events, one row per event as torch's (``key_averages().table()``
        has a row per op); see ``EventList.table``."""
        return self._finished().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False) -> EventList:
        self._finished()
        return super().key_averages(group_by_input_shape, group_by_stack_n,
                                    group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one ``FunctionEventAvg``."""
        return self._finished().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The time spent in the recorded ops and ranges, in microseconds."""
        return self._finished().self_cpu_time_total

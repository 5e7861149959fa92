"""What both profilers (``flambeau.profiler.profile``, ``flambeau.autograd.profiler.profile``)
share: recordings, and the results made from them."""

from __future__ import annotations

import os
import socket
import time

from flambeau.profiler import _record
from flambeau.profiler._events import EventList, build_events
from flambeau.profiler._trace import write_chrome_trace


class Results:
    """Runs recordings (one per profiled cycle) and turns their records into events."""

    def _init_results(self, *, record_shapes, profile_memory, with_stack, with_flops,
                      use_device, acc_events):
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.with_flops = bool(with_flops)
        self.acc_events = bool(acc_events)
        self._use_device = use_device
        self._recordings: list = []  # the finished ones whose events are the results
        self._recording = None  # the one running
        self._events = None  # built from _recordings on first use
        self._base_ns = None  # the clock when recording first started: time 0 of events
        self._base_time_ns = 0  # the wall clock then
        self._metadata: dict = {}

    def _clear_results(self):
        self._recordings = []
        self._events = None

    def _start_recording(self):
        if self._use_device is not None:
            _synchronize()  # ops queued before the start do not run into the first ones
        recording = _record.Recording(record_shapes=self.record_shapes,
                                      profile_memory=self.profile_memory,
                                      with_stack=self.with_stack)
        if self._base_ns is None:
            self._base_time_ns = time.time_ns()
            self._base_ns = time.perf_counter_ns()
        recording.start()
        self._recording = recording

    def _stop_recording(self):
        recording, self._recording = self._recording, None
        if recording is None:
            return
        try:
            if self._use_device is not None:
                _synchronize()  # the device work of the last ops ends inside the recording
        finally:
            recording.stop()
        if not self.acc_events:
            self._recordings = []
        self._recordings.append(recording)
        self._events = None

    def _event_list(self) -> EventList:
        if self._events is None:
            if not self._recordings:
                raise RuntimeError(
                    "Profiler has no results yet: read them once a recording has ended (after "
                    "the `with` block, after stop(), or in on_trace_ready)")
            events = EventList(use_device=self._use_device,
                               profile_memory=self.profile_memory, with_flops=self.with_flops)
            for r in self._recordings:
                events += build_events(r.records, base_ns=self._base_ns, stop_ns=r.stop_ns,
                                       use_device=self._use_device,
                                       profile_memory=self.profile_memory)
            for i, e in enumerate(events):
                e.id = i
            self._events = events
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False) -> EventList:
        """The events summed by name (and by input shapes with ``group_by_input_shape``, by
        the ``group_by_stack_n`` innermost stack entries): an ``EventList`` of
        ``FunctionEventAvg``, whose ``table()`` prints them."""
        return self._event_list().key_averages(group_by_input_shape, group_by_stack_n,
                                               group_by_overload_name)

    def export_chrome_trace(self, path) -> None:
        """Write the events as a Chrome trace to ``path`` (gzip-compressed if it ends in
        ``.gz``): open it in ``chrome://tracing`` or https://ui.perfetto.dev."""
        metadata = {"record_shapes": int(self.record_shapes),
                    "profile_memory": int(self.profile_memory),
                    "host_name": socket.gethostname(), "traceName": os.fspath(path),
                    **self._metadata}
        write_chrome_trace(self._event_list(), path, metadata, self._base_time_ns)

    def export_stacks(self, path, metric="self_cpu_time_total") -> None:
        """Write the events' Python stacks with their self times (microseconds) to ``path``
        in the collapsed format of flame-graph tools; needs ``with_stack=True``."""
        if not self.with_stack:
            raise RuntimeError("export_stacks() requires with_stack=True")
        self._event_list().export_stacks(path, metric)


def _synchronize():
    from flambeau import accelerator

    if accelerator.is_available():
        accelerator.synchronize()

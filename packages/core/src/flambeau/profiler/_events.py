"""Profiling results: events, their averages by name, and the list that holds them.

As in torch (``torch.autograd.profiler_util``), times are microseconds of host wall-clock
time and memory is bytes. The events form a tree per thread: an op's ``cpu_children`` are
the ops and ranges that ran inside it, and its self time is its time less theirs.
"""

from __future__ import annotations

from collections import defaultdict

from flambeau.profiler import _record as R

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "format_time"]


def format_time(time_us) -> str:
    """``time_us`` microseconds as torch prints it: ``"1.234s"``, ``"12.345ms"``, ``"7.000us"``."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


class _FormattedTimes:
    """``*_str`` views of the times, and the average time per call."""

    @property
    def cpu_time(self) -> float:
        """Average CPU time per call, in microseconds."""
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def cpu_time_str(self) -> str:
        return format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return format_time(self.self_cpu_time_total)


class Interval:
    """A time range in microseconds."""

    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start


class FunctionEvent(_FormattedTimes):
    """One timed call: an op, a backward node, or a :class:`record_function` range.

    ``name`` is the op's name (see :class:`flambeau.profiler.profile` for how ops are named),
    ``time_range`` its start and end in microseconds since the profiler started, ``thread``
    the id of the thread that ran it, ``cpu_children`` the events that ran inside it.
    ``input_shapes`` (with ``record_shapes``) lists each argument's shape (``[]`` for a
    non-tensor), ``stack`` (with ``with_stack``) the Python call stack, innermost first.
    ``cpu_memory_usage`` (with ``profile_memory``) is the bytes of host memory held by the
    tensors it returned that share no memory with its inputs (for a range or a backward
    node: the sum over its children), ``device_memory_usage`` the same on other devices.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import profile, record_function
    >>> x = flambeau.ones(4, 4)
    >>> with profile() as prof:
    ...     with record_function("block"):
    ...         y = x @ x
    >>> block = prof.events()[0]
    >>> block.name, [child.name for child in block.cpu_children]
    ('block', ['flambeau::matmul'])
    >>> block.self_cpu_time_total <= block.cpu_time_total
    True
    """

    def __init__(self, id, name, thread, start_us, end_us, *, trace_name=None,
                 input_shapes=None, input_dtypes=None, stack=None, cpu_memory_usage=0,
                 device_memory_usage=0, is_user_annotation=False, use_device=None):
        self.id = id
        self.name = name
        self.trace_name = name if trace_name is None else trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread = thread
        self.count = 1
        self.cpu_children: list = []
        self.cpu_parent = None
        self.input_shapes = [] if input_shapes is None else input_shapes
        self.input_dtypes = [] if input_dtypes is None else input_dtypes
        self.stack = [] if stack is None else stack
        self.cpu_memory_usage = cpu_memory_usage
        self.device_memory_usage = device_memory_usage
        self.is_user_annotation = is_user_annotation
        self.use_device = use_device
        self.node_id = -1
        self.is_async = False
        self.overload_name = ""

    @property
    def key(self) -> str:
        """What :meth:`EventList.key_averages` groups by: the name."""
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_device_memory_usage(self) -> int:
        return self.device_memory_usage - sum(c.device_memory_usage for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_str} "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_FormattedTimes):
    """The events of one key (name, and input shapes or stack when grouped by them), summed.

    ``count`` calls took ``cpu_time_total`` microseconds in all, ``self_cpu_time_total`` of
    them outside their children; ``cpu_time`` is the average per call.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import profile
    >>> x = flambeau.ones(3)
    >>> with profile() as prof:
    ...     for _ in range(5):
    ...         x = x + 1.0
    >>> add = next(a for a in prof.key_averages() if a.key == "flambeau::add")
    >>> import math
    >>> add.count, math.isclose(add.cpu_time * add.count, add.cpu_time_total)
    (5, True)
    """

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_device_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.cpu_children = None
        self.cpu_parent = None
        self.is_user_annotation = False
        self.use_device = None
        self.node_id = -1
        self.is_async = False
        self.overload_name = ""

    def add(self, other):
        """Add an event (or an average) of the same key; return self."""
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise TypeError(f"FunctionEventAvg.add: expected a FunctionEvent or a "
                            f"FunctionEventAvg, got {type(other).__name__}")
        if self.key is None:
            self.key = other.key
            for field in ("input_shapes", "stack", "cpu_children", "cpu_parent",
                          "is_user_annotation", "use_device"):
                setattr(self, field, getattr(other, field))
        elif other.key != self.key:
            raise ValueError(f"FunctionEventAvg.add: keys differ ({other.key!r} is not "
                             f"{self.key!r})")
        self.count += other.count
        for field in ("cpu_time_total", "self_cpu_time_total", "cpu_memory_usage",
                      "self_cpu_memory_usage", "device_memory_usage",
                      "self_device_memory_usage"):
            setattr(self, field, getattr(self, field) + getattr(other, field))
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of :class:`FunctionEvent` (or of :class:`FunctionEventAvg`) with summaries.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import profile
    >>> with profile() as prof:
    ...     y = flambeau.ones(8).exp().sum()
    >>> events = prof.events()
    >>> [e.name for e in events]
    ['flambeau::exp', 'flambeau::sum']
    >>> print(events.key_averages().table(row_limit=1))  # doctest: +ELLIPSIS
    -----------------...
    Name    Self CPU %      Self CPU   CPU total %     CPU total  CPU time avg    # of Calls...
    """

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    def __str__(self):
        return self.table()

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the self times: the time spent in the profiled ops and ranges."""
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """The events as a text table, sorted by ``sort_by`` (largest first), as torch's.

        ``sort_by`` is an attribute: ``"cpu_time_total"``, ``"self_cpu_time_total"``,
        ``"cpu_time"``, ``"count"``, ``"cpu_memory_usage"``, ``"self_cpu_memory_usage"``...
        ``row_limit`` rows at most (-1: all); ``time_unit`` ``"s"``, ``"ms"`` or ``"us"``
        prints every time in that unit. Device times are not measured: sorting by one is a
        ValueError.
        """
        from flambeau.profiler._table import build_table

        return build_table(
            self, sort_by=sort_by, row_limit=row_limit, header=header,
            max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width,
            profile_memory=self._profile_memory, top_level_events_only=top_level_events_only,
            time_unit=time_unit)

    def export_chrome_trace(self, path) -> None:
        """Write the events to ``path`` as a Chrome trace (``chrome://tracing``, Perfetto)."""
        from flambeau.profiler._trace import write_chrome_trace

        write_chrome_trace(self, path)

    def export_stacks(self, path, metric="self_cpu_time_total") -> None:
        """Write each event's stack and ``metric`` (microseconds) to ``path``, one line per
        event, in the collapsed format of flame-graph tools (needs ``with_stack=True``)."""
        from flambeau.profiler._trace import write_stacks

        write_stacks(self, path, metric)

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events summed by name (and by input shapes, or by the ``group_by_stack_n``
        innermost stack entries): an :class:`EventList` of :class:`FunctionEventAvg`.

        ``group_by_overload_name`` is accepted for torch's sake: flambeau's ops have no
        overloads.
        """
        stats: dict = defaultdict(FunctionEventAvg)
        for e in self:
            key = (e.key, e.is_user_annotation)
            if group_by_input_shapes:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(e.stack[:group_by_stack_n])
            stats[key].add(e)
        averages = EventList(stats.values(), use_device=self._use_device,
                             profile_memory=self._profile_memory, with_flops=self._with_flops)
        for avg in averages:
            avg.stack = (avg.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                avg.input_shapes = ""
        return averages

    def total_average(self) -> FunctionEventAvg:
        """All the events summed into one :class:`FunctionEventAvg` of key ``"Total"``."""
        total = FunctionEventAvg()
        for e in self:
            total.key = None  # sum events of every key
            total.add(e)
        total.key = "Total"
        return total


def build_events(records, *, base_ns, stop_ns, use_device=None, profile_memory=False):
    """FunctionEvents of raw records (``_record``), linked into trees, in order of start."""
    ordered = sorted(records, key=lambda r: r[R.START])
    events = EventList(use_device=use_device, profile_memory=profile_memory)
    by_record = {}
    for i, r in enumerate(ordered):
        end = r[R.END] or stop_ns  # still open when the recording stopped
        name = trace_name = r[R.NAME]
        if name.startswith("ProfilerStep#"):
            name = "ProfilerStep*"  # every step under one key, as in torch
        e = FunctionEvent(i, name, r[R.TID], (r[R.START] - base_ns) / 1e3,
                          (end - base_ns) / 1e3, trace_name=trace_name,
                          input_shapes=r[R.SHAPES], input_dtypes=r[R.DTYPES], stack=r[R.STACK],
                          is_user_annotation=r[R.KIND] == R.USER, use_device=use_device)
        by_record[id(r)] = e
        parent = by_record.get(id(r[R.PARENT])) if r[R.PARENT] is not None else None
        if parent is not None:
            e.cpu_parent = parent
            parent.cpu_children.append(e)
        events.append(e)
    if profile_memory:
        for r, e in zip(reversed(ordered), reversed(events)):  # children before parents
            own = r[R.MEMORY]
            if own is None:  # a range or a backward node: what the ops inside it returned
                own = (sum(c.cpu_memory_usage for c in e.cpu_children),
                       sum(c.device_memory_usage for c in e.cpu_children))
            e.cpu_memory_usage, e.device_memory_usage = own
    return events

"""The text table of ``EventList.table()``, in torch's layout."""

from __future__ import annotations

from flambeau.profiler._events import format_time

#: the attributes a table can be sorted by (times in microseconds, memory in bytes)
SORT_KEYS = frozenset({
    "cpu_time", "cpu_time_total", "self_cpu_time_total", "count", "cpu_memory_usage",
    "self_cpu_memory_usage", "device_memory_usage", "self_device_memory_usage",
})
_WIDTH = 12  # of the number columns
_GAP = "  "


def format_memory(nbytes) -> str:
    """Bytes as torch prints them: ``"16.00 KB"``, ``"-2.50 MB"``, ``"4 B"``."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _sort_key(sort_by):
    key = sort_by
    for device in ("cuda", "xpu", "privateuse1"):
        key = key.replace(device, "device")
    if key not in SORT_KEYS:
        measured = "; device times are not measured" if "device_time" in key else ""
        raise ValueError(f"table: cannot sort by {sort_by!r}{measured}. Sort by one of "
                         f"{', '.join(sorted(SORT_KEYS))}")
    return key


def _time(us, unit):
    if unit is None:
        return format_time(us)
    scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(unit)
    if scale is None:
        raise ValueError(f"table: time_unit must be 's', 'ms' or 'us', got {unit!r}")
    return f"{us / scale:.3f}{unit}"


def _share(us, total):
    return "NaN" if total == 0 else f"{us * 100.0 / total:.2f}%"


def _trim_path(path, width):
    if len(path) > width:
        path = "..." + path[len(path) - width + 3:]
    return path


def build_table(events, *, sort_by=None, row_limit=100, header=None, max_src_column_width=75,
                max_name_column_width=55, max_shapes_column_width=80, profile_memory=False,
                top_level_events_only=False, time_unit=None) -> str:
    """The table of ``events`` (FunctionEvent or FunctionEventAvg), as torch's."""
    if not events:
        return ""
    if sort_by is not None:
        key = _sort_key(sort_by)
        events = sorted(events, key=lambda e: getattr(e, key), reverse=True)
    use_device = events[0].use_device
    has_shapes = any(e.input_shapes for e in events)
    has_stack = any(e.stack for e in events)
    has_device_mem = profile_memory and use_device is not None and any(
        e.self_device_memory_usage > 0 for e in events)

    name_width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
        if has_device_mem:
            device = use_device.upper()
            headers += [f"{device} Mem", f"Self {device} Mem"]
    headers.append("# of Calls")
    widths = [name_width] + [_WIDTH] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(min(max(len(str(e.input_shapes)) for e in events) + 4,
                          max_shapes_column_width))
        aligns.append(">")
    if has_stack:
        headers.append("Source Location")
        widths.append(min(max(len(s) for e in events for s in e.stack) + 4,
                          max_src_column_width))
        aligns.append("<")
    row_format = "".join(f"{{:{a}{w}}}{_GAP}" for a, w in zip(aligns, widths))
    rule = "".join("-" * w + _GAP for w in widths)
    line_length = sum(widths) + len(_GAP) * (len(widths) - 1)

    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [rule, row_format.format(*headers), rule]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _share(e.self_cpu_time_total, total),
               _time(e.self_cpu_time_total, time_unit), _share(e.cpu_time_total, total),
               _time(e.cpu_time_total, time_unit), _time(e.cpu_time, time_unit)]
        if profile_memory:
            row += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
            if has_device_mem:
                row += [format_memory(e.device_memory_usage),
                        format_memory(e.self_device_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:widths[len(row)]])
        stack = e.stack or []
        if has_stack:
            row.append(_trim_path(stack[0], widths[-1]) if stack else "")
        lines.append(row_format.format(*row))
        if has_stack:
            blank = [""] * (len(headers) - 1)
            lines += [row_format.format(*blank, _trim_path(s, widths[-1])) for s in stack[1:]]
            lines.append(row_format.format(*blank, ""))
    lines += [rule, f"Self CPU time total: {_time(total, time_unit)}"]
    return "\n".join(lines) + "\n"

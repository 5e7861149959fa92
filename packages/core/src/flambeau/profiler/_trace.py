"""Writing results out: Chrome traces, collapsed stacks, and TensorBoard's trace files."""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
import time

__all__ = ["tensorboard_trace_handler"]

_STACK_METRICS = ("self_cpu_time_total",)


def chrome_trace(events, metadata=None, base_time_ns=0) -> dict:
    """The Chrome trace (JSON object format) of ``events``.

    One complete event (``"ph": "X"``) per FunctionEvent, with ``ts`` and ``dur`` in
    microseconds since the profiler started (``baseTimeNanoseconds`` is that moment on the
    wall clock), the process id as ``pid`` and the thread id as ``tid``; ``args`` has the
    input shapes and types when they were recorded.
    """
    pid = os.getpid()
    names = {t.native_id: t.name for t in threading.enumerate()}
    trace = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
              "args": {"name": "python"}}]
    trace += [{"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
               "args": {"name": f"thread {tid} ({names.get(tid, 'python')})"}}
              for tid in sorted({e.thread for e in events})]
    for e in events:
        args = {"External id": e.id}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
            args["Input type"] = e.input_dtypes
        trace.append({
            "ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
            "name": e.trace_name, "pid": pid, "tid": e.thread,
            "ts": round(e.time_range.start, 3), "dur": round(e.cpu_time_total, 3),
            "args": args,
        })
    return {"schemaVersion": 1, "displayTimeUnit": "ms", "baseTimeNanoseconds": base_time_ns,
            **(metadata or {}), "traceEvents": trace}


def write_chrome_trace(events, path, metadata=None, base_time_ns=0) -> None:
    """Write the Chrome trace of ``events`` to ``path`` (gzip-compressed if it ends in .gz)."""
    path = os.fspath(path)
    text = json.dumps(chrome_trace(events, metadata, base_time_ns))
    if path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def write_stacks(events, path, metric="self_cpu_time_total") -> None:
    """One line per event with a stack: ``outer;...;inner <metric in whole microseconds>``."""
    if metric not in _STACK_METRICS:
        raise ValueError(f"export_stacks: metric should be one of {list(_STACK_METRICS)} "
                         f"(device times are not measured), got {metric!r}")
    blanks = str.maketrans(" ;\t\n", "____")
    with open(os.fspath(path), "w", encoding="utf-8") as f:
        for e in events:
            value = int(getattr(e, metric))
            if e.stack and value > 0:
                frames = ";".join(s.translate(blanks) for s in reversed(e.stack))
                f.write(f"{frames} {value}\n")


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` handler that writes each trace to a file in ``dir_name``.

    The file is ``{worker_name}.{time in ns}.pt.trace.json`` (``.gz`` added with
    ``use_gzip``): a Chrome trace, the file TensorBoard's profiler plugin and Perfetto read.
    ``worker_name`` defaults to ``"{hostname}_{pid}"``. The directory is made if needed.

    Examples
    --------
    >>> import os, tempfile
    >>> import flambeau
    >>> from flambeau.profiler import profile, tensorboard_trace_handler
    >>> log_dir = tempfile.mkdtemp()
    >>> with profile(on_trace_ready=tensorboard_trace_handler(log_dir, "worker0")):
    ...     y = flambeau.ones(3) * 2.0
    >>> [name.endswith(".pt.trace.json") for name in os.listdir(log_dir)]
    [True]
    """

    def handler_fn(prof) -> None:
        nonlocal worker_name
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError(f"tensorboard_trace_handler: can't create directory "
                               f"{dir_name!r}: {e}") from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn

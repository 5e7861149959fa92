"""``flambeau.profiler``: where the time goes, op by op (``torch.profiler``).

:class:`profile` times every op run inside it, the backward pass's nodes and the
:class:`record_function` ranges, and reports them as torch's profiler does: a table of the
time per op (``prof.key_averages().table()``), the events themselves, a Chrome trace. Times
are host wall-clock times; see :class:`profile` for what is recorded and how ops are named.
No profiler, no cost: nothing is checked on the ops' path until one starts.

Examples
--------
>>> import flambeau
>>> from flambeau.profiler import profile, record_function, ProfilerActivity
>>> a, b = flambeau.randn(32, 32), flambeau.randn(32, 32)
>>> with profile(activities=[ProfilerActivity.CPU]) as prof:
...     with record_function("product"):
...         c = (a @ b).relu()
>>> sorted(e.key for e in prof.key_averages())
['flambeau::matmul', 'flambeau::relu', 'product']
"""

from __future__ import annotations

from flambeau.profiler._profile import ProfilerActivity, profile, supported_activities
from flambeau.profiler._range import record_function
from flambeau.profiler._schedule import ProfilerAction, schedule
from flambeau.profiler._trace import tensorboard_trace_handler

__all__ = [
    "profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerAction",
    "ProfilerActivity", "supported_activities",
]

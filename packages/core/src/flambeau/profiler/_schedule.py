"""Which profiler steps to record: ``ProfilerAction`` and ``schedule``, as torch's."""

from __future__ import annotations

import enum
import warnings

__all__ = ["ProfilerAction", "schedule"]


class ProfilerAction(enum.Enum):
    """What the profiler does during a step: what a ``schedule`` returns.

    ``NONE``: nothing is recorded. ``WARMUP``: nothing is recorded yet (torch's profiler
    warms up here; flambeau's needs no warm-up). ``RECORD``: the step is recorded.
    ``RECORD_AND_SAVE``: the step is recorded, and it ends the cycle: ``on_trace_ready``
    runs after it.

    Examples
    --------
    >>> from flambeau.profiler import ProfilerAction, schedule
    >>> schedule(wait=1, warmup=1, active=1)(2) is ProfilerAction.RECORD_AND_SAVE
    True
    """

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A profiler ``schedule``: a function of the step number that says what to do.

    After ``skip_first`` steps, each cycle waits ``wait`` steps, warms up ``warmup`` steps
    and records ``active`` steps, the last of which is ``RECORD_AND_SAVE``. ``repeat``
    cycles run (0: until profiling ends). With ``skip_first_wait`` non-zero the first
    cycle has no wait. Same rules and checks as ``torch.profiler.schedule``, warning included
    when ``warmup`` is 0.

    Examples
    --------
    >>> from flambeau.profiler import schedule
    >>> s = schedule(wait=1, warmup=1, active=2, repeat=1)
    >>> [s(step).name for step in range(5)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
            f"warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} "
            f"(need >= 0), skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise ValueError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn

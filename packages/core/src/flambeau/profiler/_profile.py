"""``flambeau.profiler.profile``: torch.profiler's profiler, over flambeau's ops."""

from __future__ import annotations

import enum
import json
import warnings

from flambeau.profiler import _record
from flambeau.profiler._range import record_function
from flambeau.profiler._results import Results
from flambeau.profiler._schedule import ProfilerAction

__all__ = ["ProfilerActivity", "profile", "supported_activities"]

_A = ProfilerAction


class ProfilerActivity(enum.Enum):
    """The activities a profiler can be asked to record.

    ``CPU``: every op's host (wall-clock) time. ``CUDA``: accepted for torch's sake; flambeau
    does not time kernels on the device. With it, the profiler waits for the accelerator
    (``flambeau.accelerator.synchronize()``) when recording starts and stops, so the device
    work of the recorded ops lies inside the recording; each op's time stays the host time it
    took to queue its work (plus any wait for the device, as in ``.item()``).

    Examples
    --------
    >>> from flambeau.profiler import ProfilerActivity, supported_activities
    >>> ProfilerActivity.CPU in supported_activities()
    True
    """

    CPU = 0
    CUDA = 2


def supported_activities() -> set:
    """The activities this machine can record: CPU, and CUDA when a GPU is available.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import ProfilerActivity, supported_activities
    >>> (ProfilerActivity.CUDA in supported_activities()) == flambeau.cuda.is_available()
    True
    """
    from flambeau import cuda

    found = {ProfilerActivity.CPU}
    if cuda.is_available():
        found.add(ProfilerActivity.CUDA)
    return found


def _activity_set(activities) -> set:
    if activities is None:
        return supported_activities()
    found = set()
    for item in activities:
        for a in item if isinstance(item, dict) else (item,):
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity members (or "
                                f"dicts keyed by them), got {a!r}")
            found.add(a)
    if not found:
        raise ValueError("profile: no activities to record; pass ProfilerActivity.CPU")
    return found


_PREPARE, _START, _STOP, _READY = ("_prepare_trace", "_start_recording", "_stop_recording",
                                   "_trace_ready")
#: (previous action, next action; None at stop()) -> what to do, as in torch's profiler
_TRANSITIONS = {
    (_A.NONE, _A.WARMUP): (_PREPARE,),
    (_A.NONE, _A.RECORD): (_PREPARE, _START),
    (_A.NONE, _A.RECORD_AND_SAVE): (_PREPARE, _START),
    (_A.WARMUP, _A.NONE): ("warn", _START, _STOP),
    (_A.WARMUP, _A.RECORD): (_START,),
    (_A.WARMUP, _A.RECORD_AND_SAVE): (_START,),
    (_A.RECORD, _A.NONE): ("warn", _STOP),
    (_A.RECORD, _A.WARMUP): ("warn", _STOP),
    (_A.RECORD_AND_SAVE, _A.NONE): (_STOP, _READY),
    (_A.RECORD_AND_SAVE, _A.WARMUP): (_STOP, _READY, _PREPARE),
    (_A.RECORD_AND_SAVE, _A.RECORD): (_STOP, _READY, _PREPARE, _START),
    (_A.RECORD_AND_SAVE, _A.RECORD_AND_SAVE): (_STOP, _READY, _PREPARE, _START),
    (_A.WARMUP, None): (_START, _STOP),
    (_A.RECORD, None): (_STOP, _READY),
    (_A.RECORD_AND_SAVE, None): (_STOP, _READY),
}


def _default_schedule(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


class profile(Results):
    """Time every flambeau op run inside it: torch.profiler's profiler, for flambeau.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`; call :meth:`step`
    at the end of each training step when a ``schedule`` says which steps to record. The
    results: :meth:`key_averages` (``.table()`` prints torch's table), :meth:`events`,
    :meth:`export_chrome_trace`.

    What is recorded: each op (each call of ``flambeau.autograd.Function.apply``: built-in
    ops, named ``flambeau::`` and the op's class in snake case, as ``flambeau::matmul``, and
    custom Functions under their class name), in-place arithmetic methods
    (``flambeau::add_``), each node the backward pass runs (its ``grad_fn`` name:
    ``MulBackward0``; ``AccumulateGrad`` for a leaf's ``.grad``), and
    :class:`record_function` ranges; with a schedule, each step is a ``ProfilerStep#N``
    range. Times are host wall-clock times. An op's children are the ops it ran (a backward
    node's are the ops of its formula); its self time excludes them. Ops of every thread are
    recorded, under their thread id. Work that runs no op is not recorded and counts in the
    enclosing event's self time: views taken outside autograd (``x[0]``), ``fill_``,
    ``zero_`` and ``copy_`` outside autograd, ``item()``, optimizers' updates. Nothing is
    checked or slowed down while no profiler runs: starting one installs the timing
    wrappers (about 1.5 us per op), stopping it removes them. One profiler runs at a time;
    starting a second one while it runs is a RuntimeError.

    Parameters
    ----------
    activities : iterable of ProfilerActivity, optional
        Default: :func:`supported_activities`. Ops are timed on the host either way; see
        :class:`ProfilerActivity` for what ``CUDA`` adds.
    schedule : callable, optional
        ``schedule(step) -> ProfilerAction``, such as :func:`schedule`'s. Default: record
        everything from start to stop.
    on_trace_ready : callable, optional
        Called with the profiler when a recording cycle ends (the step after
        ``RECORD_AND_SAVE``, or at stop), e.g. :func:`tensorboard_trace_handler`.
    record_shapes : bool
        Record each op's input shapes and dtypes.
    profile_memory : bool
        Record the bytes each op allocated and handed on: its outputs that share no memory
        with its inputs ("CPU Mem" in the table). Memory an op frees, and temporaries that
        do not outlive it, are not seen.
    with_stack : bool
        Record each op's Python call stack (flambeau's own frames left out): "Source
        Location" in the table, and :meth:`export_stacks`.
    with_flops : bool
        Accepted, with a warning: flambeau does not estimate FLOPs.
    with_modules, experimental_config
        Accepted and ignored (torch uses them for TorchScript and Kineto).
    acc_events : bool
        Keep the events of every cycle instead of the last one's only.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.profiler import profile, record_function
    >>> w = flambeau.randn(16, 16, requires_grad=True)
    >>> x = flambeau.randn(8, 16)
    >>> with profile(record_shapes=True) as prof:
    ...     with record_function("forward"):
    ...         loss = (x @ w).relu().sum()
    ...     loss.backward()
    >>> calls = {a.key: a.count for a in prof.key_averages()}
    >>> calls["forward"], calls["flambeau::matmul"], calls["MmBackward0"]
    (1, 2, 1)
    >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=3))
    ... # doctest: +ELLIPSIS
    ---...
    Name    Self CPU %      Self CPU   CPU total %     CPU total  CPU time avg    # of Calls...
    ---...
    Self CPU time total: ...
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, acc_events=False):
        self.activities = _activity_set(activities)
        if with_flops:
            warnings.warn("flambeau.profiler does not estimate FLOPs: with_flops=True adds "
                          "no FLOPs column", stacklevel=2)
        self._init_results(
            record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
            with_flops=with_flops, acc_events=acc_events,
            use_device="cuda" if ProfilerActivity.CUDA in self.activities else None)
        self.with_modules = bool(with_modules)
        self.experimental_config = experimental_config
        self.record_steps = schedule is not None  # mark each step in the trace and table
        self.schedule = schedule if schedule is not None else _default_schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(0)
        self.step_rec_fn = None
        self._running = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()

    def start(self) -> None:
        """Start profiling: record from now on (from the schedule's first RECORD step)."""
        if self._running:
            raise RuntimeError("profile.start(): this profiler is already running")
        _record.claim(self)
        self._running = True
        try:
            self._transit(_A.NONE, self.current_action)
            self._enter_step()
        except BaseException:
            self._abandon()
            raise

    def stop(self) -> None:
        """Stop profiling; ``on_trace_ready`` runs if steps were being recorded."""
        if not self._running:
            return
        try:
            self._exit_step()
            self._transit(self.current_action, None)
        finally:
            self._abandon()

    def step(self) -> None:
        """Mark the end of a step: the schedule decides what the next one does."""
        if not self._running:
            raise RuntimeError("profile.step(): the profiler is not running; call start() "
                               "first, or call step() inside its `with` block")
        self._exit_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._enter_step()

    def events(self):
        """The recorded events, in order of start: an ``EventList`` of ``FunctionEvent``.

        Those of the last recording cycle (of all of them with ``acc_events``).
        """
        return self._event_list()

    def add_metadata(self, key: str, value: str) -> None:
        """Add ``key: value`` (a string) to the exported Chrome trace's top level."""
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """Add ``key`` with the value that the JSON text ``value`` encodes to the trace."""
        self._metadata[key] = json.loads(value)

    # -- the schedule's state machine, as torch's

    def _transit(self, prev, current) -> None:
        for action in _TRANSITIONS.get((prev, current), ()):
            if action == "warn":
                warnings.warn(f"Incorrect schedule: {prev.name} followed by {current.name}",
                              stacklevel=3)
            else:
                getattr(self, action)()

    def _prepare_trace(self) -> None:
        if not self.acc_events:
            self._clear_results()

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _enter_step(self) -> None:
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _exit_step(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _abandon(self) -> None:
        """Remove the hooks and free the profiler slot, whatever happened."""
        self.step_rec_fn = None
        if self._recording is not None:
            self._recording.stop()
            self._recording = None
        self._running = False
        _record.release(self)

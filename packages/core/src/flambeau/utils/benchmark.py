"""``flambeau.utils.benchmark``: time a statement as PyTorch's ``torch.utils.benchmark`` does.

:class:`Timer` runs ``stmt`` after ``setup`` (Python source, or callables) and returns a
:class:`Measurement`: the time of one run of ``stmt``, from blocks of many runs so that the
clock's own cost is negligible. The default clock waits for the accelerator (if one is in
use) before reading the time, so queued device work is counted.

Examples
--------
>>> import flambeau
>>> from flambeau.utils.benchmark import Timer
>>> t = Timer("x + y", globals={"x": flambeau.ones(8), "y": flambeau.ones(8)})
>>> m = t.blocked_autorange(min_run_time=0.01)
>>> 0 < m.median < 1, m.number_per_run >= 1
(True, True)
"""

from __future__ import annotations

import math
import statistics
import time
import timeit

from flambeau import accelerator
from flambeau._threads import get_num_threads, set_num_threads

__all__ = ["Measurement", "Timer", "timer"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # seconds: a clock cannot resolve finer differences
_IQR_WARN_THRESHOLD = 0.1  # an IQR above this fraction of the median is flagged


def timer() -> float:
    """``time.perf_counter()`` after waiting for the accelerator's queued work, if any.

    Examples
    --------
    >>> from flambeau.utils.benchmark import timer
    >>> start = timer(); timer() >= start
    True
    """
    if accelerator.is_available():  # any accelerator plugin's device, not CUDA's alone
        accelerator.synchronize()
    return time.perf_counter()


class Measurement:
    """The times of one statement: ``raw_times`` of blocks of ``number_per_run`` runs each.

    ``times`` are per run; ``median``, ``mean`` and ``iqr`` summarize them, and
    ``significant_figures`` estimates how many digits of the median the spread supports.

    Examples
    --------
    >>> from flambeau.utils.benchmark import Measurement
    >>> m = Measurement(100, [0.002, 0.004, 0.003], {"stmt": "f()"})
    >>> m.times, m.median, round(m.iqr, 9)
    ([2e-05, 4e-05, 3e-05], 3e-05, 1e-05)
    """

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        self.number_per_run = int(number_per_run)
        self.raw_times = list(raw_times)
        self.task_spec = dict(task_spec)
        self.metadata = metadata

    @property
    def times(self) -> list:
        """The time of one run, from each block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        """The median time of one run."""
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        """The mean time of one run."""
        return statistics.fmean(self.times)

    @property
    def iqr(self) -> float:
        """The interquartile range of the times of one run (0 for a single block)."""
        times = self.times
        if len(times) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
        return q3 - q1

    @property
    def significant_figures(self) -> int:
        """About how many digits of :attr:`median` are significant (1 to 4): the 90%
        confidence interval of the mean of the middle half of the times, against the median."""
        times = sorted(self.times)
        middle = times[len(times) // 4:math.ceil(3 * len(times) / 4)] or times
        spread = statistics.pstdev(middle) if len(middle) > 1 else 0.0
        interval = max(1.645 * spread / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        digits = math.floor(math.log10(max(self.median, 1e-30) / interval))
        return min(max(digits, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread is large (the IQR above 10% of the median)."""
        return self.median > 0 and self.iqr / self.median > _IQR_WARN_THRESHOLD

    @property
    def title(self) -> str:
        """``label: sub_label``, or the statement."""
        label, sub = self.task_spec.get("label"), self.task_spec.get("sub_label")
        if label:
            return f"{label}: {sub}" if sub else label
        return self.task_spec.get("stmt", "")

    def __repr__(self):
        spec = self.task_spec
        lines = [f"<flambeau.utils.benchmark.Measurement object at {hex(id(self))}>", self.title]
        if spec.get("description"):
            lines.append(spec["description"])
        if spec.get("setup", "pass") not in ("", "pass"):
            lines.append(f"setup: {spec['setup']}")
        n, runs = len(self.raw_times), self.number_per_run
        threads = spec.get("num_threads", 1)
        thread_word = "thread" if threads == 1 else "threads"
        name, scale = _unit(self.median)  # one unit for every figure, the median's

        def fmt(t):
            return f"{t / scale:.2f}"

        if n == 1:
            lines += [f"  {fmt(self.median)} {name}",
                      f"  1 measurement, {runs} runs , {threads} {thread_word}"]
        else:
            q1, _, q3 = statistics.quantiles(self.times, n=4, method="inclusive")
            lines += [f"  Median: {fmt(self.median)} {name}",
                      f"  IQR:    {fmt(self.iqr)} {name} ({fmt(q1)} to {fmt(q3)})",
                      f"  {n} measurements, {runs} runs per measurement, {threads} "
                      f"{thread_word}"]
        if self.has_warnings:
            lines.append(f"  WARNING: Interquartile range is {self.iqr / self.median:.1%} of "
                         "the median measurement.\n           This suggests significant "
                         "environmental influence.")
        return "\n".join(lines)


def _unit(t):
    """``(name, seconds)`` of the unit to show ``t`` seconds in."""
    for name, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return name, scale
    return "ns", 1e-9


class Timer:
    """Time ``stmt`` (Python source or a callable) after ``setup``, in ``globals``.

    Parameters
    ----------
    stmt, setup : str or callable
        What to time, and what to run once before.
    global_setup : str
        Accepted for PyTorch's C++ timers; must be empty for Python.
    timer : callable
        The clock (default :func:`timer`, which waits for the accelerator).
    globals : dict, optional
        The names ``stmt`` and ``setup`` see (copied).
    label, sub_label, description, env : str, optional
        Shown in the :class:`Measurement`.
    num_threads : int
        flambeau's intra-op threads while timing (restored after).
    language : str
        ``"python"`` (PyTorch's ``"c++"`` is not supported).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.benchmark import Timer
    >>> m = Timer("a.sum()", setup="a = flambeau.ones(100)",
    ...           globals={"flambeau": flambeau}).timeit(100)
    >>> m.number_per_run, len(m.times)
    (100, 1)
    """

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language="python"):
        if str(getattr(language, "name", language)).lower() not in ("python", "py"):
            raise ValueError(f"Timer: language must be 'python' (flambeau has no C++ timers), "
                             f"got {language!r}")
        if global_setup:
            raise ValueError("Timer: global_setup is only for C++ statements")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int, got {num_threads!r}")
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer,
                                   globals=dict(globals or {}))
        self._task_spec = {"stmt": stmt if isinstance(stmt, str) else getattr(
            stmt, "__name__", repr(stmt)), "setup": setup if isinstance(setup, str) else "",
            "label": label, "sub_label": sub_label, "description": description, "env": env,
            "num_threads": num_threads}

    def _measure(self, number):
        threads = get_num_threads()
        set_num_threads(self._task_spec["num_threads"])
        try:
            return self._timer.timeit(number)
        finally:
            set_num_threads(threads)

    def _measurement(self, number, raw_times):
        return Measurement(number, raw_times, self._task_spec)

    def timeit(self, number=1000000):
        """Run ``stmt`` ``number`` times (after a warm-up of 1%) as one block.

        Examples
        --------
        >>> from flambeau.utils.benchmark import Timer
        >>> Timer("pass").timeit(10).number_per_run
        10
        """
        self._measure(max(number // 100, 2))
        return self._measurement(number, [self._measure(number)])

    def _block_size(self, min_run_time):
        """Runs per block: the first power of ten whose block takes at least 1/1000 of
        ``min_run_time`` (and 0.1 ms), so the clock's cost is negligible against it."""
        number = 1
        while True:
            if self._measure(number) >= max(min_run_time / 1000, 1e-4) or number >= 10**9:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of a size that makes the clock's cost negligible, until ``min_run_time``
        seconds of them have run; ``callback(number, time)`` sees each block.

        Examples
        --------
        >>> from flambeau.utils.benchmark import Timer
        >>> m = Timer("sum(range(10))").blocked_autorange(min_run_time=0.01)
        >>> sum(m.raw_times) >= 0.01
        True
        """
        number = self._block_size(min_run_time)
        raw, total = [], 0.0
        while total < min_run_time or not raw:
            t = self._measure(number)
            raw.append(t)
            total += t
            if callback is not None:
                callback(number, t)
        return self._measurement(number, raw)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Blocks until the IQR is below ``threshold`` of the median (after at least
        ``min_run_time`` seconds and 4 blocks), or ``max_run_time`` seconds have run.

        Examples
        --------
        >>> from flambeau.utils.benchmark import Timer
        >>> m = Timer("sum(range(10))").adaptive_autorange(max_run_time=0.5)
        >>> len(m.raw_times) >= 4
        True
        """
        number = self._block_size(min_run_time)
        raw, total = [], 0.0
        while True:
            t = self._measure(number)
            raw.append(t)
            total += t
            if callback is not None:
                callback(number, t)
            m = self._measurement(number, raw)
            settled = len(raw) >= 4 and total >= min_run_time and (
                m.median > 0 and m.iqr / m.median < threshold)
            if settled or total >= max_run_time:
                return m

    def autorange(self, callback=None):
        """Not supported, as in PyTorch: use :meth:`blocked_autorange`.

        Examples
        --------
        >>> from flambeau.utils.benchmark import Timer
        >>> Timer().autorange()
        Traceback (most recent call last):
            ...
        NotImplementedError: See `Timer.blocked_autorange.`
        """
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def repeat(self, repeat=-1, number=-1):
        """Not supported, as in PyTorch: use :meth:`blocked_autorange`.

        Examples
        --------
        >>> from flambeau.utils.benchmark import Timer
        >>> Timer().repeat()
        Traceback (most recent call last):
            ...
        NotImplementedError: See `Timer.blocked_autorange.`
        """
        raise NotImplementedError("See `Timer.blocked_autorange.`")

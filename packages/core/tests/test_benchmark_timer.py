"""flambeau.utils.benchmark: Timer runs what it is given the number of times it says, and
Measurement summarizes times as torch.utils.benchmark's does."""

import pytest

import flambeau
from flambeau.testing._harness import torch_or_none
from flambeau.utils.benchmark import Measurement, Timer

torch = torch_or_none()

RAW = [[0.002, 0.004, 0.003, 0.01], [0.0016], [1e-3, 1.1e-3, 0.9e-3, 1.05e-3, 0.95e-3, 1e-3]]


@pytest.mark.parametrize("raw", RAW)
def test_measurement_statistics_and_report_match_torch(raw):
    ours = Measurement(100, raw, {"stmt": "f()", "setup": "pass"})
    assert ours.times == [t / 100 for t in raw]
    if torch is None:
        pytest.skip("torch is not installed")
    from torch.utils.benchmark import Measurement as TorchMeasurement
    from torch.utils.benchmark.utils.common import TaskSpec

    theirs = TorchMeasurement(100, raw, TaskSpec("f()", "pass"))
    for name in ("median", "mean", "iqr"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), rel=1e-12, abs=1e-15)
    assert ours.significant_figures == theirs.significant_figures
    assert ours.has_warnings == theirs.has_warnings
    assert repr(ours).splitlines()[1:] == repr(theirs).splitlines()[1:]


def test_report_shows_labels_and_setup():
    m = Measurement(1000, [0.0016], {"stmt": "x + y", "setup": "x = y = 1", "label": "add",
                                     "sub_label": "ints", "description": "small"})
    assert repr(m).splitlines()[1:] == ["add: ints", "small", "setup: x = y = 1", "  1.60 us",
                                        "  1 measurement, 1000 runs , 1 thread"]
    assert m.title == "add: ints" and Measurement(1, [1.0], {"stmt": "g()"}).title == "g()"


def test_timeit_runs_the_statement_number_times_after_a_warm_up():
    calls = []
    m = Timer(lambda: calls.append(1), setup=lambda: calls.clear()).timeit(300)
    assert m.number_per_run == 300 and len(m.raw_times) == 1 and m.median > 0
    assert len(calls) == 300  # setup runs again before the measured block
    seen = []
    Timer("seen.append(n)", setup="n = 3", globals={"seen": seen}).timeit(200)
    assert seen == [3] * (2 + 200)  # the warm-up (1%, at least 2), then the block


def test_blocked_autorange_runs_for_the_minimum_time_and_reports_blocks():
    blocks = []
    m = Timer("sum(range(50))").blocked_autorange(
        callback=lambda number, t: blocks.append((number, t)), min_run_time=0.02)
    assert sum(m.raw_times) >= 0.02 and [t for _, t in blocks] == m.raw_times
    assert {n for n, _ in blocks} == {m.number_per_run}
    assert m.raw_times[0] >= 0.02 / 1000  # a block outweighs the clock


def test_adaptive_autorange_stops_once_settled_or_at_the_limit():
    m = Timer("sum(range(50))").adaptive_autorange(threshold=1.0, min_run_time=0.01)
    assert len(m.raw_times) >= 4 and sum(m.raw_times) >= 0.01

    def readings():  # a clock whose blocks take 1 ms and 3 ms in turn: never settles
        now = 0.0
        for k in range(10_000):
            yield now
            now += 1e-3 if k % 4 < 2 else 3e-3

    clock = readings()
    m = Timer("pass", timer=lambda: next(clock)).adaptive_autorange(threshold=0.1,
                                                                    max_run_time=0.05)
    assert m.iqr / m.median > 0.1 and 0.05 <= sum(m.raw_times) < 0.06


def test_num_threads_holds_while_timing_only():
    before = flambeau.get_num_threads()
    seen = []
    Timer("seen.append(flambeau.get_num_threads())", num_threads=1,
          globals={"seen": seen, "flambeau": flambeau}).timeit(3)
    assert set(seen) == {1} and flambeau.get_num_threads() == before


@pytest.mark.parametrize("kwargs, message", [
    ({"language": "c++"}, "language must be 'python'"),
    ({"global_setup": "#include <x>"}, "global_setup is only for C\\+\\+"),
    ({"num_threads": 0}, "num_threads must be a positive int"),
])
def test_timer_refuses_what_it_cannot_do(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Timer("pass", **kwargs)


@pytest.mark.parametrize("method", ["autorange", "repeat"])
def test_autorange_and_repeat_point_to_blocked_autorange_as_torch(method):
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        getattr(Timer(), method)()

"""flambeau.profiler and flambeau.autograd.profiler: what is recorded, results, schedules."""

import gzip
import json
import re
import threading
import warnings

import pytest

import flambeau
from flambeau import _inplace
from flambeau.autograd import _engine
from flambeau.autograd._function import Function
from flambeau.autograd.profiler import profile as autograd_profile
from flambeau.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)
from flambeau.profiler._events import format_time
from flambeau.profiler._table import format_memory


def _hooks():
    """The functions a recording replaces while it runs."""
    return (Function.__dict__["apply"], _engine._apply_node, _engine._accumulate,
            _inplace.fast_ufunc, _inplace.write_result)


ORIGINALS = _hooks()


def _model_step():
    """A linear layer, relu and a sum, forward and backward: 2 leaves need gradients."""
    x = flambeau.randn(8, 16)
    w = flambeau.randn(16, 4, requires_grad=True)
    b = flambeau.randn(4, requires_grad=True)
    with record_function("forward"):
        loss = (x @ w + b).relu().sum()
    with record_function("backward"):
        loss.backward()
    return w, b


def _counts(prof):
    return {a.key: a.count for a in prof.key_averages()}


def _by_name(events, name):
    return [e for e in events if e.name == name]


# ------------------------------------------------------------------ what is recorded
def test_ops_backward_nodes_and_ranges_are_counted():
    with profile() as prof:
        _model_step()
    counts = _counts(prof)
    # forward x @ w, and the gradient of w in MmBackward0 (x needs none)
    assert counts["flambeau::matmul"] == 2
    assert counts["flambeau::relu"] == 1
    assert counts["MmBackward0"] == counts["ReluBackward0"] == counts["AddBackward0"] == 1
    assert counts["AccumulateGrad"] == 2
    assert counts["forward"] == counts["backward"] == 1
    events = prof.events()
    (mm_backward,) = _by_name(events, "MmBackward0")
    assert "flambeau::matmul" in [c.name for c in mm_backward.cpu_children]
    (backward,) = _by_name(events, "backward")
    assert {c.name for c in backward.cpu_children} >= {"MmBackward0", "AccumulateGrad"}


def test_times_self_within_total_and_children_within_parents():
    with profile() as prof:
        for _ in range(3):
            _model_step()
    events = prof.events()
    assert len(events) > 30
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        for c in e.cpu_children:
            assert c.cpu_parent is e and c.thread == e.thread
            assert e.time_range.start <= c.time_range.start <= c.time_range.end
            assert c.time_range.end <= e.time_range.end
    for avg in prof.key_averages():
        assert 0 <= avg.self_cpu_time_total <= avg.cpu_time_total
        assert avg.cpu_time == pytest.approx(avg.cpu_time_total / avg.count)
    # every event is the top level or a child once: the self times add up to the top levels
    top = sum(e.cpu_time_total for e in events if e.cpu_parent is None)
    assert events.self_cpu_time_total == pytest.approx(top)


def test_in_place_methods_are_recorded_outside_autograd_too():
    w = flambeau.ones(3, requires_grad=True)
    with profile() as prof:
        with flambeau.no_grad():
            w.sub_(flambeau.ones(3), alpha=0.1)  # an optimizer-style update: no Function
            w.mul_(0.5)
        h = w * 1.0
        h.clamp_(0.0, 0.3)  # recorded by autograd: the out-of-place op inside
    names = [(e.name, [c.name for c in e.cpu_children]) for e in prof.events()]
    assert names[:3] == [("flambeau::sub_", []), ("flambeau::mul_", []), ("flambeau::mul", [])]
    assert names[3][0] == "flambeau::clamp_" and "flambeau::clamp" in names[3][1]


def test_custom_function_is_named_by_its_class():
    class Cube(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = flambeau.ones(3, requires_grad=True)
    with profile() as prof:
        Cube.apply(x).sum().backward()
    counts = _counts(prof)
    assert counts["Cube"] == counts["CubeBackward"] == 1  # torch's names of custom nodes
    (cube,) = _by_name(prof.events(), "Cube")
    assert [c.name for c in cube.cpu_children] == ["flambeau::mul", "flambeau::mul"]


def test_record_shapes():
    a, b = flambeau.ones(2, 3), flambeau.ones(3, 5)
    c = flambeau.ones(5, 5)
    with profile(record_shapes=True) as prof:
        a @ b
        c @ c
        a * 2.0
    shapes = [(e.name, e.input_shapes, e.input_dtypes) for e in prof.events()]
    assert shapes == [
        ("flambeau::matmul", [[2, 3], [3, 5]], ["float32", "float32"]),
        ("flambeau::matmul", [[5, 5], [5, 5]], ["float32", "float32"]),
        ("flambeau::mul", [[2, 3], []], ["float32", "Scalar"]),
    ]
    grouped = prof.key_averages(group_by_input_shape=True)
    assert sorted((a.key, str(a.input_shapes), a.count) for a in grouped) == [
        ("flambeau::matmul", "[[2, 3], [3, 5]]", 1), ("flambeau::matmul", "[[5, 5], [5, 5]]", 1),
        ("flambeau::mul", "[[2, 3], []]", 1)]
    assert "Input Shapes" in grouped.table()
    assert [a.input_shapes for a in prof.key_averages()] == ["", ""]
    with profile() as prof:
        a @ b
    assert prof.events()[0].input_shapes == []


@pytest.mark.usefixtures("cpu_default")
def test_profile_memory_counts_new_outputs_only():
    x = flambeau.ones(8, 16)  # float32: 512 bytes
    with profile(profile_memory=True) as prof:
        with record_function("block"):
            y = x.relu()  # a new array
            y.reshape(16, 8)  # a view: nothing allocated
            y.add_(1.0)  # in place: nothing allocated
    block, relu, reshape, add_ = prof.events()
    assert [e.name for e in prof.events()] == ["block", "flambeau::relu", "flambeau::reshape",
                                               "flambeau::add_"]
    assert relu.cpu_memory_usage == 512
    assert reshape.cpu_memory_usage == add_.cpu_memory_usage == 0
    assert block.cpu_memory_usage == 512 and block.self_cpu_memory_usage == 0
    table = prof.key_averages().table()
    assert "CPU Mem" in table and "512 B" in table
    with profile() as prof:
        x.relu()
    assert "CPU Mem" not in prof.key_averages().table()


def test_with_stack_records_the_callers_frames(tmp_path):
    def my_step():
        return flambeau.ones(2) * 2.0

    with profile(with_stack=True) as prof:
        my_step()
    (mul,) = prof.events()
    assert mul.stack[0].endswith(": my_step") and "test_profiler.py(" in mul.stack[0]
    assert not any("flambeau" + "/" in s and "/src/" in s for s in mul.stack)
    assert "Source Location" not in prof.key_averages().table()  # as torch: grouped by name
    table = prof.key_averages(group_by_stack_n=5).table()
    assert "Source Location" in table and "my_step" in table
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path))
    (line,) = path.read_text().splitlines()
    assert re.fullmatch(r".*;.*my_step \d+", line)


def test_ops_of_other_threads_are_recorded_under_their_thread_id():
    def work():
        with record_function("in thread"):
            flambeau.ones(2).exp()

    with profile() as prof:
        t = threading.Thread(target=work)
        t.start()
        t.join()
        flambeau.ones(2).exp()
    events = prof.events()
    (rng,) = _by_name(events, "in thread")
    exps = _by_name(events, "flambeau::exp")
    assert len(exps) == 2
    inner = [e for e in exps if e.cpu_parent is rng]
    outer = [e for e in exps if e.cpu_parent is None]
    assert len(inner) == len(outer) == 1 and inner[0].thread != outer[0].thread


def test_record_function_nests_and_decorates():
    @record_function("helper")
    def helper(t):
        return t + 1.0

    x = flambeau.ones(2)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                helper(x)
            helper(x)
    tree = [(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()]
    assert tree == [("outer", None), ("inner", "outer"), ("helper", "inner"),
                    ("flambeau::add", "helper"), ("helper", "outer"),
                    ("flambeau::add", "helper")]
    with record_function("no profiler"):  # does nothing
        helper(x)
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)


# ------------------------------------------------------------------ results
def test_table_layout():
    with profile() as prof:
        _model_step()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=4)
    lines = table.splitlines()
    assert re.fullmatch(r"(-+  )+", lines[0]) and lines[0] == lines[2] == lines[-2]
    # torch's header, word for word and space for space
    assert lines[1].endswith("Name    Self CPU %      Self CPU   CPU total %     CPU total  "
                             "CPU time avg    # of Calls  ")
    rows = lines[3:-2]
    expected = sorted(prof.key_averages(), key=lambda a: a.cpu_time_total, reverse=True)[:4]
    assert [r.split()[0] for r in rows] == [a.key for a in expected]
    assert [r.split()[4] for r in rows] == [a.cpu_time_total_str for a in expected]
    assert [int(r.split()[-1]) for r in rows] == [a.count for a in expected]
    assert re.fullmatch(r"Self CPU time total: \d+\.\d{3}(us|ms|s)", lines[-1])
    assert len(prof.key_averages().table(row_limit=-1).splitlines()) == \
        len(prof.key_averages()) + 5
    assert "us" not in prof.key_averages().table(time_unit="ms").replace("Calls", "")
    with pytest.raises(ValueError, match="device times are not measured"):
        prof.key_averages().table(sort_by="self_cuda_time_total")


def test_time_and_memory_formats_match_torch():
    torch_util = pytest.importorskip("torch.autograd.profiler_util")
    for us in (0.0, 0.5, 12.3456, 999.9994, 1000.0, 1234.5678, 999999.0, 1e6, 3.5e7):
        assert format_time(us) == torch_util._format_time(us)
    for n in (0, 4, 1023, 1024, 16384, -32768, 5 * 1024 ** 2, 3 * 1024 ** 3):
        assert format_memory(n) == torch_util._format_memory(n)


def test_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        with record_function("outer"):
            with record_function("inner"):
                flambeau.ones(2, 2) @ flambeau.ones(2, 2)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    spans = {e["name"]: e for e in trace["traceEvents"] if e["ph"] == "X"}
    assert set(spans) == {"outer", "inner", "flambeau::matmul"}
    outer, inner, mm = spans["outer"], spans["inner"], spans["flambeau::matmul"]
    for parent, child in ((outer, inner), (inner, mm)):
        assert child["tid"] == parent["tid"] and child["pid"] == parent["pid"]
        assert parent["ts"] <= child["ts"]
        assert child["ts"] + child["dur"] <= parent["ts"] + parent["dur"] + 1e-3
    assert outer["cat"] == "user_annotation" and mm["cat"] == "cpu_op"
    assert mm["args"]["Input Dims"] == [[2, 2], [2, 2]]
    assert trace["record_shapes"] == 1
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    with gzip.open(gz, "rt") as f:
        assert json.load(f)["traceEvents"] == trace["traceEvents"]


def test_tensorboard_trace_handler(tmp_path):
    log_dir = tmp_path / "logs"
    with profile(on_trace_ready=tensorboard_trace_handler(str(log_dir), "w0", use_gzip=True)):
        flambeau.ones(2).exp()
    (name,) = [p.name for p in log_dir.iterdir()]
    assert re.fullmatch(r"w0\.\d+\.pt\.trace\.json\.gz", name)
    with gzip.open(log_dir / name, "rt") as f:
        assert [e["name"] for e in json.load(f)["traceEvents"] if e["ph"] == "X"] == \
            ["flambeau::exp"]


def test_results_are_available_once_recording_ends():
    with profile() as prof:
        flambeau.ones(2).exp()
        with pytest.raises(RuntimeError, match="no results yet"):
            prof.events()
    assert len(prof.events()) == 1
    with pytest.raises(RuntimeError, match="not running"):
        prof.step()


# ------------------------------------------------------------------ schedules
SCHEDULES = [
    dict(wait=1, warmup=1, active=2),
    dict(wait=1, warmup=1, active=2, repeat=2),
    dict(wait=0, warmup=2, active=1, repeat=3, skip_first=2),
    dict(wait=3, warmup=0, active=2, repeat=1, skip_first=1),
    dict(wait=2, warmup=1, active=1, skip_first=3, skip_first_wait=1),
    dict(wait=0, warmup=0, active=1),
]


@pytest.mark.parametrize("kwargs", SCHEDULES)
def test_schedule_matches_torch(kwargs):
    torch_profiler = pytest.importorskip("torch.profiler")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = schedule(**kwargs)
        theirs = torch_profiler.schedule(**kwargs)
    assert len(caught) == (2 if kwargs["warmup"] == 0 else 0)  # both warn, the same way
    assert [ours(i).name for i in range(40)] == [theirs(i).name for i in range(40)]


def test_schedule_checks_its_arguments():
    with pytest.raises(ValueError, match="active=0"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.raises(ValueError, match="non-negative"):
        schedule(wait=1, warmup=1, active=1)(-1)
    assert schedule(wait=0, warmup=1, active=1)(1) is ProfilerAction.RECORD_AND_SAVE


def _ready_calls_flambeau(kwargs, steps, acc_events=False):
    calls = []

    def ready(p):
        calls.append((p.step_num, _counts(p).get("flambeau::exp", 0),
                      _counts(p).get("ProfilerStep*", 0)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = profile(schedule=schedule(**kwargs), on_trace_ready=ready,
                       acc_events=acc_events)
    with prof:
        for _ in range(steps):
            flambeau.ones(2).exp()
            prof.step()
    return calls


def _ready_calls_torch(kwargs, steps):
    torch = pytest.importorskip("torch")
    calls = []

    def ready(p):
        counts = {a.key: a.count for a in p.key_averages()}
        calls.append((p.step_num, counts.get("aten::exp", 0), counts.get("ProfilerStep*", 0)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = torch.profiler.profile(schedule=torch.profiler.schedule(**kwargs),
                                      on_trace_ready=ready)
        with prof:
            for _ in range(steps):
                torch.ones(2).exp()
                prof.step()
    return calls


@pytest.mark.parametrize("kwargs,steps", [
    (dict(wait=1, warmup=1, active=2, repeat=2), 10),
    (dict(wait=1, warmup=1, active=2), 10),  # stops in the middle of a cycle
    (dict(wait=0, warmup=0, active=1, repeat=3), 5),
    (dict(wait=2, warmup=1, active=3, skip_first=1), 8),
])
def test_on_trace_ready_calls_match_torch(kwargs, steps):
    # (step number, exp calls, steps) seen by each call: the cycles recorded are torch's
    assert _ready_calls_flambeau(kwargs, steps) == _ready_calls_torch(kwargs, steps)


def test_acc_events_keeps_every_cycle():
    kwargs = dict(wait=1, warmup=1, active=2, repeat=2)
    assert [c[1] for c in _ready_calls_flambeau(kwargs, 10, acc_events=True)] == [2, 4]


def test_no_schedule_records_everything_without_step_ranges():
    with profile() as prof:
        for _ in range(3):
            flambeau.ones(2).exp()
            prof.step()
    assert _counts(prof) == {"flambeau::exp": 3}


# ------------------------------------------------------------------ hooks and their removal
def test_no_profiler_leaves_the_hot_paths_untouched():
    apply = Function.__dict__["apply"]
    assert apply.__func__.__qualname__ == "Function.apply"
    assert apply.__func__.__module__ == "flambeau.autograd._function"
    assert _engine._apply_node.__qualname__ == "_apply_node"
    assert _engine._accumulate.__qualname__ == "_accumulate"
    assert _inplace.fast_ufunc.__module__ == _inplace.write_result.__module__ == "flambeau._inplace"
    assert _hooks() == ORIGINALS
    with profile(schedule=schedule(wait=1, warmup=1, active=1)) as prof:
        assert _hooks() == ORIGINALS  # waiting: nothing installed
        prof.step()
        assert _hooks() == ORIGINALS  # warming up
        prof.step()
        assert Function.__dict__["apply"] is not ORIGINALS[0]  # recording
        assert _engine._apply_node is not ORIGINALS[1]
    assert _hooks() == ORIGINALS


def test_everything_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with profile():
            flambeau.ones(2).exp()
            1 / 0
    assert _hooks() == ORIGINALS

    def failing_handler(prof):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with profile(on_trace_ready=failing_handler):
            flambeau.ones(2).exp()
    assert _hooks() == ORIGINALS
    with profile() as prof:  # and the next profiler runs
        flambeau.ones(2).exp()
    assert len(prof.events()) == 1


def test_a_failing_op_is_recorded_and_the_nesting_recovers():
    with profile() as prof:
        with pytest.raises(RuntimeError):
            flambeau.ones(2, 3) @ flambeau.ones(2, 3)
        flambeau.ones(2).exp()
    assert [(e.name, e.cpu_parent) for e in prof.events()][-1] == ("flambeau::exp", None)


def test_nested_profilers_raise():
    with profile() as outer:
        flambeau.ones(2).exp()
        with pytest.raises(RuntimeError, match="Profiler is already enabled"):
            with profile():
                pass
        with pytest.raises(RuntimeError, match="Profiler is already enabled"):
            with autograd_profile():
                pass
        flambeau.ones(2).exp()
    assert _counts(outer) == {"flambeau::exp": 2}
    assert _hooks() == ORIGINALS


def test_start_stop_and_activities():
    prof = profile(activities=[ProfilerActivity.CPU])
    prof.start()
    flambeau.ones(2).exp()
    with pytest.raises(RuntimeError, match="already running"):
        prof.start()
    prof.stop()
    prof.stop()  # a second stop does nothing
    assert _hooks() == ORIGINALS
    assert _counts(prof) == {"flambeau::exp": 1}
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
    with pytest.raises(ValueError, match="no activities"):
        profile(activities=[])
    with pytest.warns(UserWarning, match="FLOPs"):
        profile(with_flops=True)


# ------------------------------------------------------------------ torch.autograd.profiler
def test_autograd_profiler():
    x = flambeau.ones(2, requires_grad=True)
    prof = autograd_profile(record_shapes=True)
    with prof:
        (x * 2.0).sum().backward()
        with pytest.raises(RuntimeError, match="didn't finish"):
            prof.function_events
        with pytest.raises(RuntimeError, match="not reentrant"):
            prof.__enter__()
    names = [e.name for e in prof.function_events]
    assert names[:2] == ["flambeau::mul", "flambeau::sum"] and "MulBackward0" in names
    assert len(prof.table().splitlines()) == len(names) + 5  # one row per event
    assert prof.total_average().count == len(names)
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events.self_cpu_time_total)
    assert _hooks() == ORIGINALS
    with autograd_profile(enabled=False) as off:
        flambeau.ones(2).exp()
        assert _hooks() == ORIGINALS
    assert flambeau.autograd.profiler.record_function is record_function
    assert off.enabled is False


def test_reached_from_a_bare_import():
    assert flambeau.profiler.profile is profile
    assert flambeau.autograd.profiler.profile is autograd_profile

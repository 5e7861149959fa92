"""flambeau.futures and the rest of flambeau.jit, against torch where it runs on the CPU."""

import io
import threading
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

import flambeau
from flambeau.futures import Future, collect_all, wait_all
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# ------------------------------------------------------------------ futures
def test_wait_blocks_until_another_thread_completes():
    fut = Future()
    timer = threading.Timer(0.05, fut.set_result, args=(5,))
    timer.start()
    assert fut.wait() == 5 and fut.done() and fut.value() == 5
    timer.join()


def test_then_chains_and_wraps_callback_errors():
    fut = Future()
    doubled = fut.then(lambda f: f.value() * 2)
    failing = fut.then(lambda f: 1 / 0)
    assert not doubled.done()
    fut.set_result(4)
    assert doubled.wait() == 8
    with pytest.raises(RuntimeError, match="Got the following error when running the "
                                           "callback: ZeroDivisionError") as info:
        failing.wait()
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    done = Future()
    done.set_result(1)
    assert done.then(lambda f: f.value() + 1).value() == 2  # runs at once when complete


def test_add_done_callback_runs_once_and_logs_errors(caplog):
    seen = []
    fut = Future()
    fut.add_done_callback(lambda f: seen.append(f.value()))
    fut.add_done_callback(lambda f: 1 / 0)
    fut.set_result(3)
    fut.add_done_callback(lambda f: seen.append("late"))
    assert seen == [3, "late"]
    assert "Got the following error when running the callback" in caplog.text


def test_completing_twice_and_bad_exceptions_are_refused():
    fut = Future()
    fut.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        fut.wait()
    with pytest.raises(ValueError, match="bad"):
        fut.value()
    with pytest.raises(RuntimeError, match="Attempting to mark a completed Future as "
                                           "complete again"):
        fut.set_result(1)
    with pytest.raises(AssertionError, match="5 is of type <class 'int'>, not an Exception"):
        Future().set_exception(5)
    with pytest.raises(RuntimeError, match=r"Future.value\(\): the future is not completed"):
        Future().value()


def test_collect_all_and_wait_all():
    a, b = Future(), Future()
    both = collect_all([a, b])
    a.set_result(1)
    assert not both.done()
    b.set_result(2)
    assert [f.value() for f in both.wait()] == [1, 2]
    assert collect_all([]).wait() == []
    c, d = Future(), Future()
    c.set_exception(ValueError("first"))
    d.set_exception(KeyError("second"))
    with pytest.raises(ValueError, match="first"):
        wait_all([c, d])
    with pytest.raises(TypeError, match="collect_all: expected a list of "
                                        "flambeau.futures.Future, got int"):
        collect_all([1])


def test_future_devices_are_devices():
    assert Future(devices=["cpu"])._devices == [flambeau.device("cpu")]


# ------------------------------------------------------------------ jit
def test_fork_runs_now_and_raises_as_torch_eager():
    fut = flambeau.jit.fork(lambda x: x + 1, flambeau.ones(2))
    assert isinstance(fut, flambeau.jit.Future) and fut.done()
    np.testing.assert_allclose(flambeau.jit.wait(fut).cpu().numpy(), [2.0, 2.0])
    with pytest.raises(ZeroDivisionError):
        flambeau.jit.fork(lambda: 1 / 0)


TYPES = [([1, 2], List[int]), ([1, "a"], List[int]), ({"a": 1}, Dict[str, int]),
         ({"a": "b"}, Dict[str, int]), (None, Optional[int]), (3, Optional[int]),
         ((1, "a"), Tuple[int, str]), ((1,), Tuple[int, int]), ([1], list[int]),
         (1, Union[str, int]), (1.0, int), ({"a": [1]}, Dict[str, List[int]]),
         ({"a": [1.0]}, Dict[str, List[int]])]


@needs_torch
@pytest.mark.parametrize("index", range(len(TYPES)))
def test_isinstance_matches_torch(index):
    import warnings

    obj, target = TYPES[index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.jit.isinstance(obj, target)
    assert flambeau.jit.isinstance(obj, target) is expected


def test_isinstance_refuses_bare_containers_as_torch():
    for bare in (list, List, dict, Tuple):
        with pytest.raises(RuntimeError, match="without a contained type"):
            flambeau.jit.isinstance([1], bare)


def test_isinstance_checks_tensor_elements():
    t = flambeau.ones(1)
    assert flambeau.jit.isinstance([t], List[flambeau.Tensor])
    assert not flambeau.jit.isinstance([t, 1], List[flambeau.Tensor])


class _Model:
    """A picklable stand-in for an nn.Module (core's tests run without flambeau-nn)."""

    def __init__(self):
        self.training = True
        self.weight = flambeau.arange(3.0)

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        return x * self.weight


def test_save_load_round_trip_with_extra_files(tmp_path):
    path = tmp_path / "model.pt"
    flambeau.jit.save(_Model(), path, _extra_files={"meta": "v2", "raw": b"\x00\x01"})
    extra = {"meta": "", "raw": ""}
    model = flambeau.jit.load(path, _extra_files=extra)
    np.testing.assert_allclose(model.weight.cpu().numpy(), [0.0, 1.0, 2.0])
    assert extra == {"meta": b"v2", "raw": b"\x00\x01"}
    with pytest.raises(RuntimeError, match="load: the file has no extra file missing"):
        flambeau.jit.load(path, _extra_files={"missing": ""})
    flambeau.save(_Model(), tmp_path / "whole.pt")  # a whole module from flambeau.save
    assert isinstance(flambeau.jit.load(tmp_path / "whole.pt"), _Model)


@needs_torch
def test_load_of_a_torchscript_archive_explains_what_to_do(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(RuntimeError, match="TorchScript archive written by PyTorch"):
        flambeau.jit.load(path)
    with open(path, "rb") as f, pytest.raises(RuntimeError, match="TorchScript archive"):
        flambeau.jit.load(io.BytesIO(f.read()))


def test_freeze_trace_module_and_optimize_for_inference():
    model = _Model()
    with pytest.raises(RuntimeError, match="freeze: Freezing is currently only implemented "
                                           "for modules in eval mode"):
        flambeau.jit.freeze(model)
    assert flambeau.jit.optimize_for_inference(model) is model and not model.training
    assert flambeau.jit.freeze(model) is model
    assert flambeau.jit.trace_module(model, {"forward": flambeau.ones(3)}) is model
    with pytest.raises(AttributeError, match="trace_module: expected a dictionary"):
        flambeau.jit.trace_module(model, [flambeau.ones(3)])
    with pytest.raises(AttributeError, match="trace_module: _Model has no method 'backward'"):
        flambeau.jit.trace_module(model, {"backward": flambeau.ones(3)})


@needs_torch
def test_fusion_settings_behave_as_torch():
    for lib in (flambeau, torch):
        previous = lib.jit.set_fusion_strategy([("DYNAMIC", 3)])
        assert previous == [("STATIC", 2), ("DYNAMIC", 10)]
        assert lib.jit.set_fusion_strategy(previous) == [("DYNAMIC", 3)]
        assert lib.jit.onednn_fusion_enabled() is False
    with pytest.raises(ValueError, match="set_fusion_strategy: each entry must be"):
        flambeau.jit.set_fusion_strategy([("FAST", 1)])
    flambeau.jit.enable_onednn_fusion(True)
    assert flambeau.jit.onednn_fusion_enabled() is True
    flambeau.jit.enable_onednn_fusion(False)


@needs_torch
def test_attribute_error_and_pass_through_decorators_as_torch():
    ours, theirs = flambeau.jit.Attribute(3, int), torch.jit.Attribute(3, int)
    assert (ours.value, ours.type) == (theirs.value, theirs.type) and ours == (3, int)
    assert issubclass(flambeau.jit.Error, Exception)
    fn = abs
    assert flambeau.jit.script_if_tracing(fn) is fn and flambeau.jit.interface(fn) is fn
    with flambeau.jit.strict_fusion():
        pass

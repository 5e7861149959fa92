"""flambeau.Stream and flambeau.Event (torch's device-agnostic ones) and
Tensor.record_stream: the CPU behaviour against torch's CPU build, and the delegation to the
CUDA plugin's streams and events on a fake plugin module."""

import types

import pytest

import flambeau
from flambeau.cuda import _runtime
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as error:  # noqa: BLE001 - the type and message are what is compared
        return (type(error).__name__, str(error))


def _cpu_stream_calls(lib):
    s = lib.Stream(device="cpu")
    e = lib.Event(device="cpu")
    return [_outcome(f) for f in (
        s.query, s.synchronize, s.record_event, lambda: s.wait_event(e),
        lambda: s.wait_stream(s), lambda: s.device_index, lambda: s.stream_id,
        lambda: s.device_type, lambda: str(s.device), lambda: s == lib.Stream(device="cpu"),
        lambda: repr(s).replace("torch", "flambeau"))]


def _cpu_event_calls(lib):
    e = lib.Event(device="cpu")
    timed = lib.Event(device="cpu", enable_timing=True)
    return [_outcome(f) for f in (
        e.query, e.record, e.synchronize, e.wait, lambda: e.record(lib.Stream(device="cpu")),
        lambda: timed.elapsed_time(lib.Event(device="cpu", enable_timing=True)),
        lambda: timed.elapsed_time(e), lambda: e.elapsed_time(timed),
        lambda: str(e.device), lambda: e.event_id,
        lambda: repr(e).replace("torch", "flambeau"),
        lambda: repr(timed).replace("torch", "flambeau"))]


def test_cpu_streams_match_torch():
    got = _cpu_stream_calls(flambeau)
    assert got[:3] == [("ok", True), ("ok", None),
                       ("RuntimeError", "cpu backend doesn't support events.")]
    assert got[-1] == ("ok", "flambeau.Stream device_type=cpu, device_index=-1, stream_id=0")
    if torch is not None:
        assert got == _cpu_stream_calls(torch)


def test_cpu_events_match_torch():
    got = _cpu_event_calls(flambeau)
    assert got[5] == ("ValueError",
                      "Both events must be recorded before calculating elapsed time.")
    assert got[6] == got[7] == ("ValueError", "Both events must be created with argument "
                                              "'enable_timing=True'.")
    if torch is not None:
        assert got == _cpu_event_calls(torch)


def test_record_stream_refuses_cpu_tensors_as_torch():
    x = flambeau.zeros(2, device="cpu")
    with pytest.raises(NotImplementedError, match="record_stream: a cpu tensor has no streams "
                                                  r"\(only CUDA tensors have\)"):
        x.record_stream(flambeau.Stream(device="cpu"))
    with pytest.raises(TypeError, match="record_stream\\(\\): argument 's' must be a "
                                        "flambeau.Stream or flambeau.cuda.Stream, not int"):
        x.record_stream(1)
    if torch is not None:
        with pytest.raises(NotImplementedError):
            torch.zeros(2).record_stream(torch.Stream())


@pytest.mark.skipif(flambeau.cuda.is_available(), reason="checks the refusal without CUDA")
def test_cuda_streams_need_cuda():
    with pytest.raises(RuntimeError, match="flambeau.cuda.Stream needs"):
        flambeau.Stream(device="cuda")
    with pytest.raises(RuntimeError, match="flambeau.cuda.Event needs"):
        flambeau.Event(device="cuda")
    if torch is not None and not torch.cuda.is_available():
        with pytest.raises(RuntimeError):
            torch.Stream(device="cuda")


class _FakeCudaEvent:
    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self.timing, self.on, self.waited_by, self.synced = enable_timing, None, [], 0

    def record(self, stream=None):
        self.on = stream

    def query(self):
        return False

    def synchronize(self):
        self.synced += 1

    def wait(self, stream=None):
        self.waited_by.append(stream)

    def elapsed_time(self, end):
        return 2.5


class _FakeCudaStream:
    def __init__(self, device=None, priority=0):
        self.device_index, self.priority, self.cuda_stream = device, priority, 0x1234
        self.waits, self.synced = [], 0

    def query(self):
        return False

    def synchronize(self):
        self.synced += 1

    def wait_event(self, event):
        self.waits.append(event)


@pytest.fixture
def fake_cuda(monkeypatch):
    module = types.SimpleNamespace(Stream=_FakeCudaStream, Event=_FakeCudaEvent,
                                   current_device=lambda: 0)
    monkeypatch.setattr(_runtime, "_plugin", lambda name: module)
    return module


def test_cuda_streams_and_events_go_to_the_plugin(fake_cuda):
    s = flambeau.Stream(device="cuda:1", priority=-1)
    assert (s._impl.device_index, s._impl.priority) == (1, -1)
    assert (s.device_index, s.device_type, s.stream_id) == (1, 1, 0x1234)
    assert repr(s) == "flambeau.Stream device_type=cuda, device_index=1, stream_id=4660"
    assert s.query() is False
    s.synchronize()
    assert s._impl.synced == 1
    e = s.record_event()
    assert isinstance(e, flambeau.Event) and e._impl.on is s._impl and e.query() is False
    other = flambeau.Stream(device="cuda")
    assert other.device_index == 0  # the current device
    other.wait_event(e)
    assert other._impl.waits == [e._impl]
    other.wait_event(flambeau.Event(device="cuda"))  # not recorded: nothing to wait for
    assert other._impl.waits == [e._impl]
    other.wait_stream(s)
    assert len(other._impl.waits) == 2 and other._impl.waits[1].on is s._impl
    start = flambeau.Event(device="cuda", enable_timing=True)
    end = flambeau.Event(device="cuda", enable_timing=True)
    with pytest.raises(ValueError, match="Both events must be recorded"):
        start.elapsed_time(end)
    with pytest.raises(ValueError, match="Both events must be created with argument "
                                         "'enable_timing=True'"):
        start.elapsed_time(flambeau.Event(device="cuda"))  # checked before CUDA is asked
    start.record()
    end.record(s)
    assert start._impl.on is None and end._impl.on is s._impl
    assert start.elapsed_time(end) == 2.5
    end.synchronize()
    end.wait(other)
    assert end._impl.synced == 1 and end._impl.waited_by == [other._impl]
    assert repr(start) == ("flambeau.Event device_type=cuda, device_index=0, event_flag=1, "
                           "event_id=0")


def test_a_stream_is_a_context_manager_as_torchs():
    """torch 2's torch.Stream is a context manager (the CPU's switches nothing); flambeau's
    had no __enter__."""
    results = []
    for lib in ([flambeau] if torch is None else [flambeau, torch]):
        s = lib.Stream(device="cpu")
        with s as entered:
            with s:  # nested blocks of one stream
                y = lib.ones(2) * 2
        results.append((entered is s, y.tolist()))
    assert results == [(True, [2.0, 2.0])] * len(results)


def test_a_cuda_stream_block_enters_the_plugins_stream(fake_cuda):
    log = []

    class _Entered(_FakeCudaStream):
        def __enter__(self):
            log.append("enter")

        def __exit__(self, *exc):
            log.append("exit")

    fake_cuda.Stream = _Entered
    s = flambeau.Stream(device="cuda:1")
    with s as entered:
        assert entered is s and log == ["enter"]
    assert log == ["enter", "exit"]
    with pytest.raises(KeyError), s:  # the block's error goes on, the stream is restored
        raise KeyError("x")
    assert log == ["enter", "exit", "enter", "exit"]

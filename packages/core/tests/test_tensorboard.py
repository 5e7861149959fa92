"""flambeau.utils.tensorboard: event files read back with our own reader, against the files
torch's SummaryWriter writes for the same calls, and with tensorboard's EventAccumulator."""

import glob
import io
import os
import re
import socket
import struct
import threading

import numpy as np
import pytest

import flambeau
from flambeau.utils.tensorboard import SummaryWriter, _proto


def _event_files(log_dir):
    return sorted(glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"),
                            recursive=True))


def _events(log_dir, strip=True):
    """{run folder relative to log_dir: [events]}, without wall times and writer names."""
    out = {}
    for path in _event_files(log_dir):
        events = _proto.read_events(path)
        for e in events:
            if strip:
                e.pop("wall_time", None)
                e.pop("source_metadata", None)
        for e in events:
            for v in e.get("summary", {}).get("value", []):
                plugin = v.get("metadata", {}).get("plugin_data", {})
                if plugin.get("plugin_name") == "hparams":
                    plugin["content"] = _hparams_content(plugin["content"])
                if "image" in v:
                    v["image"]["encoded_image_string"] = _pixels(
                        v["image"]["encoded_image_string"])
        out[os.path.relpath(os.path.dirname(path), log_dir)] = events
    return out


def _hparams_content(content):
    data = _proto.decode("HParamsPluginData", content)
    ssi = data.get("session_start_info")
    if ssi:  # a map: its order on the wire is not fixed
        ssi["hparams"] = sorted(ssi["hparams"], key=lambda e: e["key"])
    return data


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png))).tolist()


def test_record_framing_and_crc():
    assert _proto.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert _proto.crc32c(b"") == 0
    rec = _proto.frame(b"abc")
    assert struct.unpack("<Q", rec[:8])[0] == 3 and rec[12:15] == b"abc"
    assert list(_proto.read_records(rec + _proto.frame(b""))) == [b"abc", b""]
    bad = bytearray(rec)
    bad[13] ^= 1
    with pytest.raises(ValueError, match=r"tensorboard event file: bad data CRC at byte 0"):
        list(_proto.read_records(bytes(bad)))
    bad = bytearray(rec)
    bad[0] ^= 1
    with pytest.raises(ValueError, match=r"tensorboard event file: bad length CRC at byte 0"):
        list(_proto.read_records(bytes(bad)))
    with pytest.raises(ValueError, match=r"truncated record header at byte 0"):
        list(_proto.read_records(rec[:5]))
    with pytest.raises(ValueError, match=r"truncated record at byte 0"):
        list(_proto.read_records(rec[:-2]))


def test_messages_round_trip():
    event = {"wall_time": 1.5, "step": -3, "summary": {"value": [
        {"tag": "s", "simple_value": 0.0},
        {"tag": "h", "histo": {"min": -1.0, "max": 2.0, "num": 3.0, "sum": 1.0,
                               "sum_squares": 6.0, "bucket_limit": [0.0, 2.5],
                               "bucket": [1.0, 2.0]}}]}}
    assert _proto.decode("Event", _proto.encode("Event", event)) == event
    with pytest.raises(ValueError, match=r"tensorboard event: unsupported wire type 3"):
        _proto.decode("Event", b"\x0b")


def test_scalars_text_histograms_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", flambeau.tensor(0.5), 1)
        w.add_scalar("zero", 0, 2)
        w.add_scalar("new", 2.5, 3, new_style=True)
        w.add_scalar("dbl", 2.5, 3, new_style=True, double_precision=True)
        w.add_text("note", "héllo", 4)
        w.add_histogram("h", flambeau.tensor([1.0, 2.0, 2.0, 3.0, 10.0]), 5, bins=4)
        w.add_histogram_raw("raw", 0, 2, 3, 3, 5, [0, 1, 2], [0, 2, 1], global_step=6)
    (events,) = _events(tmp_path).values()
    assert events[0] == {"file_version": "brain.Event:2"}
    values = {e["step"]: e["summary"]["value"][0] for e in events[1:]}
    assert values[1] == {"tag": "loss", "simple_value": 0.5}
    assert values[2] == {"tag": "zero", "simple_value": 0.0}
    assert values[3]["tensor"] == {"dtype": 2, "double_val": [2.5]}
    assert values[4]["tensor"]["string_val"] == ["héllo".encode()]
    assert values[4]["tag"] == "note/text_summary"
    h = values[5]["histo"]
    assert (h["min"], h["max"], h["num"], h["sum"], h["sum_squares"]) == (1, 10, 5, 18, 118)
    assert h["bucket_limit"] == [1.0, 3.25, 5.5, 7.75, 10.0]
    assert h["bucket"] == [0.0, 4.0, 0.0, 0.0, 1.0]
    assert values[6]["histo"]["bucket"] == [0.0, 2.0, 1.0]


def test_event_file_name_and_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp", filename_suffix=".v2")
    w.close()
    run = w.get_logdir()
    assert run.startswith("runs" + os.sep) and run.endswith("_exp")
    (path,) = _event_files(run)
    # torch's name: events.out.tfevents.<10-digit time>.<host>.<pid>.<counter><suffix>
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}"
                        rf"\.{os.getpid()}\.\d+\.v2", os.path.basename(path))


def test_queue_flush_close_and_reopen(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3, flush_secs=0)
    for step in range(2):
        w.add_scalar("x", step, step)
    assert len(_events(tmp_path)["."]) == 1  # two events still queued
    w.add_scalar("x", 2, 2)  # the third fills the queue
    assert len(_events(tmp_path)["."]) == 4
    w.add_scalar("x", 3, 3)
    w.flush()
    assert len(_events(tmp_path)["."]) == 5
    w.close()
    w.add_scalar("x", 4, 4)  # opens a new file, as torch does
    w.close()
    assert len(_event_files(tmp_path)) == 2


def test_flush_secs_writes_in_the_background(tmp_path):
    import time

    w = SummaryWriter(tmp_path, max_queue=100, flush_secs=0.05)
    w.add_scalar("x", 1.0, 0)
    deadline = time.time() + 5
    while len(_events(tmp_path)["."]) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert len(_events(tmp_path)["."]) == 2
    w.close()


def test_close_stops_the_flush_thread_and_loses_no_event(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=7, flush_secs=0.001)
    steps = range(1, 301)

    def log(tag):
        for step in steps:
            w.add_scalar(tag, float(step), step)

    threads = [threading.Thread(target=log, args=(f"t{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flushers = [w.file_writer._thread]
    w.add_scalars("cmp", {"a": 1.0}, 1)
    flushers.append(w.all_writers[str(tmp_path) + "/cmp_a"]._thread)
    w.close()
    assert not any(t.is_alive() for t in flushers)
    per_tag = {}
    for e in _events(tmp_path)["."][1:]:
        per_tag.setdefault(e["summary"]["value"][0]["tag"], []).append(e["step"])
    assert per_tag == {f"t{k}": list(steps) for k in range(3)}


def test_a_writer_not_closed_is_flushed_when_collected(tmp_path):
    import gc

    w = SummaryWriter(tmp_path, flush_secs=0)
    w.add_scalar("x", 1.0, 1)
    w.add_scalars("cmp", {"a": 2.0, "b": 3.0}, 1)  # each run is a file of its own
    del w
    gc.collect()
    events = _events(tmp_path)
    assert sorted(events) == [".", "cmp_a", "cmp_b"]
    assert [len(e) for _, e in sorted(events.items())] == [2, 2, 2]
    assert events["cmp_b"][1]["summary"]["value"][0] == {"tag": "cmp", "simple_value": 3.0}


def test_a_log_dir_that_cannot_be_written_is_named(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(NotADirectoryError, match=r"SummaryWriter: cannot create an event file "
                                                 r"in log_dir '.*file[/\\]run' \(Not a "
                                                 r"directory\)"):
        SummaryWriter(not_a_dir / "run")


def test_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"add_scalar: scalar_value must hold one number, "
                                             r"got shape \(2,\)"):
            w.add_scalar("x", flambeau.ones(2))
        with pytest.raises(ValueError, match=r"add_histogram: values is empty"):
            w.add_histogram("h", [])
        with pytest.raises(ValueError, match=r"add_histogram: values holds NaN or infinity"):
            w.add_histogram("h", [1.0, float("nan")])
        with pytest.raises(ValueError, match=r"add_histogram_raw: len\(bucket_limits\) \(2\) "
                                             r"!= len\(bucket_counts\) \(1\)"):
            w.add_histogram_raw("h", 0, 1, 1, 1, 1, [0, 1], [1])
        with pytest.raises(ValueError, match=r"add_image: dataformats 'CHW' has 3 dimensions "
                                             r"but the image has 2 \(shape \(4, 4\)\)"):
            w.add_image("i", np.zeros((4, 4)))
        with pytest.raises(ValueError, match=r"add_image: dataformats must be letters of "
                                             r"'NCHW', each once, got 'CCH'"):
            w.add_image("i", np.zeros((1, 4, 4)), dataformats="CCH")
        with pytest.raises(ValueError, match=r"add_images: a 4-d dataformats needs N and C, got "
                                             r"'HWCH'|dataformats must be letters"):
            w.add_images("i", np.zeros((1, 1, 4, 4)), dataformats="HWCH")
        with pytest.raises(ValueError, match=r"add_image: a 3-d dataformats needs H and W "
                                             r"\(and C\), got 'NHW'"):
            w.add_image("i", np.zeros((1, 4, 4)), dataformats="NHW")
        with pytest.raises(ValueError, match=r"add_image: an image needs 1, 3 or 4 channels, "
                                             r"got 2"):
            w.add_image("i", np.zeros((2, 4, 4)))
        with pytest.raises(TypeError, match=r"add_scalar: expected a Tensor, a NumPy array or "
                                            r"numbers, got _Unconvertible"):
            w.add_scalar("x", _Unconvertible())
        with pytest.raises(TypeError, match=r"add_text: text_string must be a str, got int"):
            w.add_text("t", 3)
        with pytest.raises(ValueError, match=r"add_hparams: hyperparameter 'w' is a Tensor of "
                                             r"shape \(2,\); only one-element Tensors"):
            w.add_hparams({"w": flambeau.ones(2)}, {})
        with pytest.raises(ValueError, match=r"add_hparams: hyperparameter 'x' is a list; "
                                             r"values must be int, float, str, bool"):
            w.add_hparams({"x": [1]}, {})
        with pytest.raises(TypeError, match=r"add_hparams: hparam_dict and metric_dict must be "
                                            r"dicts, got list and dict"):
            w.add_hparams([1], {})
        for name in ("add_graph", "add_audio", "add_video", "add_embedding", "add_pr_curve",
                     "add_mesh"):
            with pytest.raises(NotImplementedError, match=rf"SummaryWriter\.{name} is not "
                                                          r"implemented in flambeau"):
                getattr(w, name)(*([None] * 3))
    ef = w.all_writers
    assert ef is None
    closed = _EventFileProbe(tmp_path)
    with pytest.raises(RuntimeError, match=r"SummaryWriter: the event file .* is closed"):
        closed.add_event({"step": 1})


class _Unconvertible:
    def __array__(self, *a, **k):
        raise RuntimeError("no")


def _EventFileProbe(tmp_path):
    from flambeau.utils.tensorboard._writer import _EventFile

    f = _EventFile(str(tmp_path / "probe"), 10, 0, "")
    f.close()
    return f


def test_missing_pillow_is_named(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no PIL")
        return real_import(name, *args, **kwargs)

    with SummaryWriter(tmp_path) as w:
        monkeypatch.setattr(builtins, "__import__", no_pil)
        with pytest.raises(ImportError, match=r"add_image encodes images as PNG with Pillow, "
                                              r"which is not installed: pip install Pillow"):
            w.add_image("i", np.zeros((3, 2, 2)))


def _log_everything(w, mod, figure=None):
    """The same calls on torch's writer and ours (``mod`` makes the tensors)."""
    rng = np.random.default_rng(0)
    vals = rng.normal(size=200)
    w.add_scalar("loss", mod.tensor(0.25), 1)
    w.add_scalar("loss", 0.125, 2, walltime=5.0)
    w.add_scalar("ns", 1.5, 2, new_style=True)
    w.add_scalars("cmp", {"train": 1.0, "val": 2.0}, 3)
    w.add_histogram("hist", mod.tensor(vals), 4)
    w.add_histogram("hist_auto", mod.tensor(vals), 4, bins="auto")
    w.add_histogram("hist_max", mod.tensor(vals), 4, bins=100, max_bins=7)
    w.add_histogram("hist_int", mod.tensor([1, 1, 2, 7]), 4, bins=3)
    w.add_text("txt", "some **markdown**", 5)
    img = rng.random((3, 5, 7)).astype(np.float32)
    w.add_image("chw", mod.tensor(img), 6)
    w.add_image("hwc", mod.tensor(img.transpose(1, 2, 0)), 6, dataformats="HWC")
    w.add_image("gray", mod.tensor(img[:1]), 6)
    w.add_image("hw", mod.tensor(img[0]), 6, dataformats="HW")
    w.add_image("u8", mod.tensor((img * 255).astype(np.uint8)), 6)
    w.add_image("rgba", mod.tensor(rng.random((4, 3, 3)).astype(np.float32)), 6)
    w.add_images("grid", mod.tensor(rng.random((10, 1, 4, 3)).astype(np.float32)), 7)
    w.add_images("nhwc", mod.tensor(rng.random((3, 4, 3, 3)).astype(np.float32)), 7,
                 dataformats="NHWC")
    w.add_hparams({"lr": 0.1, "bs": 4, "opt": "sgd", "flag": True, "t": mod.tensor([0.5])},
                  {"acc": 0.9, "loss": 0.1}, run_name="trial",
                  hparam_domain_discrete={"opt": ["sgd", "adam"], "bs": [4, 8]})
    w.add_hparams({"lr": 0.2}, {"acc": 0.8}, run_name="trial2", global_step=3)
    if figure is not None:
        w.add_figure("fig", figure(), 8)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1), dpi=20)
    plt.plot([0, 1], [1, 0])
    return fig


@pytest.mark.parity
def test_same_events_as_torch(tmp_path):
    torch = pytest.importorskip("torch")
    tb = pytest.importorskip("torch.utils.tensorboard")
    pytest.importorskip("PIL")
    try:
        import matplotlib  # noqa: F401
        figure = _figure
    except ImportError:
        figure = None
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    with SummaryWriter(ours, purge_step=2) as w:
        _log_everything(w, flambeau, figure)
    with tb.SummaryWriter(str(theirs), purge_step=2) as w:
        _log_everything(w, torch, figure)
    a, b = _events(ours), _events(theirs)
    assert sorted(a) == sorted(b) == [".", "cmp_train", "cmp_val", "trial", "trial2"]
    for run in a:
        assert a[run] == b[run], run
    assert a["."][1:3] == [{"step": 2, "file_version": "brain.Event:2"},
                           {"step": 2, "session_log": {"status": 1}}]
    # the explicit walltime is the one written
    (ev,) = [e for e in _events(ours, strip=False)["."] if e.get("step") == 2
             and "summary" in e and e["summary"]["value"][0]["tag"] == "loss"]
    assert ev["wall_time"] == 5.0


def test_tensorboard_reads_our_files(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("PIL")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_histogram("h", flambeau.linspace(-1, 1, 101), 2)
        w.add_image("img", flambeau.zeros(3, 4, 5), 2)
        w.add_text("note", "hi", 2)
    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert [(s.step, s.value) for s in acc.Scalars("loss")] == [
        (0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    (h,) = acc.Histograms("h")
    assert (h.step, h.histogram_value.num, h.histogram_value.min) == (2, 101, -1)
    assert pytest.approx(h.histogram_value.sum, abs=1e-9) == 0
    (img,) = acc.Images("img")
    assert (img.width, img.height) == (5, 4)
    (txt,) = acc.Tensors("note/text_summary")
    assert txt.tensor_proto.string_val == [b"hi"]

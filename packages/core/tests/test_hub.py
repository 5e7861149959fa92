"""``flambeau.hub``: tqdm, the cache folder, checked downloads and cached checkpoints.

Downloads use ``file://`` URLs, so the tests need no network; torch.hub reads the same ones.
"""

import hashlib
import os

import numpy as np
import pytest

import flambeau
from flambeau import hub
from flambeau.testing._harness import torch_or_none


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "out").mkdir()
    return tmp_path


def test_tqdm_is_tqdm_and_the_fallback_runs_programs_loops():
    tqdm = pytest.importorskip("tqdm")
    assert hub.tqdm is tqdm.tqdm and "tqdm" not in hub.__all__  # tqdm's own docs
    torch = torch_or_none()
    if torch is not None:
        assert torch.hub.tqdm is hub.tqdm
    bar = hub._Progress([3, 4], desc="EPOCH[TRAIN]1/2")  # vision_transformer's use
    seen = []
    for item in bar:
        seen.append(item)
        bar.set_postfix({"Loss": "%6f" % 0.5})
    assert seen == [3, 4] and bar.n == 2 and len(bar) == 2
    with hub._Progress(total=10, unit="B", disable=True) as b:
        b.update(4)
    assert b.n == 4 and len(b) == 10


def test_get_dir_follows_the_environment_and_set_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.delenv("FLAMBEAU_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "flambeau" / "hub")
    monkeypatch.setenv("FLAMBEAU_HOME", str(tmp_path / "home"))
    assert hub.get_dir() == str(tmp_path / "home" / "hub")
    hub.set_dir(tmp_path / "chosen")
    assert hub.get_dir() == str(tmp_path / "chosen")


def test_download_checks_the_sha256_prefix_and_leaves_nothing_behind(folder):
    src = folder / "weights-00.bin"
    src.write_bytes(b"some weights" * 1000)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    dst = folder / "out" / "w.bin"
    hub.download_url_to_file(src.as_uri(), str(dst), hash_prefix=sha[:10], progress=False)
    assert dst.read_bytes() == src.read_bytes()
    bad = folder / "out" / "bad.bin"
    with pytest.raises(RuntimeError, match=rf"download_url_to_file: invalid hash value for "
                                           rf".*: expected a SHA-256 digest starting with "
                                           rf"'ffff', got '{sha}'"):
        hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix="ffff", progress=False)
    assert sorted(os.listdir(folder / "out")) == ["w.bin"]  # no partial or temporary file
    torch = torch_or_none()
    if torch is not None:
        with pytest.raises(RuntimeError, match="invalid hash value"):
            torch.hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix="ffff",
                                           progress=False)


def test_load_state_dict_from_url_reads_a_torch_checkpoint_once(folder):
    torch = pytest.importorskip("torch")
    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.tensor([0.5, -1.0])}
    raw = folder / "net.pt"
    torch.save(state, raw)
    sha = hashlib.sha256(raw.read_bytes()).hexdigest()
    src = folder / f"net-{sha[:8]}.pt"
    raw.rename(src)
    cache = folder / "cache"
    got = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(cache), progress=False,
                                       check_hash=True)
    want = torch.hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "tcache"),
                                              progress=False, check_hash=True)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k].cpu().numpy(), want[k].numpy())
    assert isinstance(got["weight"], flambeau.Tensor)
    src.unlink()  # cached: no second download
    again = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(cache), progress=False)
    np.testing.assert_array_equal(again["bias"].cpu().numpy(), [0.5, -1.0])
    named = hub.load_state_dict_from_url((cache / src.name).as_uri(), model_dir=str(cache / "x"),
                                         file_name="renamed.pt", progress=False)
    assert sorted(os.listdir(cache / "x")) == ["renamed.pt"] and list(named) == list(want)


def test_load_state_dict_from_url_refuses_a_download_that_does_not_match_its_name(folder):
    src = folder / "net-deadbeef.pt"
    flambeau.save({"w": flambeau.ones(2)}, str(src))
    with pytest.raises(RuntimeError, match="expected a SHA-256 digest starting with "
                                           "'deadbeef'"):
        hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "c"),
                                     check_hash=True, progress=False)
    assert os.listdir(folder / "c") == []
    # without check_hash the name is not checked
    got = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(folder / "c"),
                                       progress=False)
    np.testing.assert_array_equal(got["w"].cpu().numpy(), [1.0, 1.0])

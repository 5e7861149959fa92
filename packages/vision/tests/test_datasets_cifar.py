"""CIFAR readers on generated batches, the allow-list unpickler and archive downloads."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from flambeau.vision.datasets import (
    CIFAR10,
    CIFAR100,
    extract_tar,
    extract_zip,
    load_cifar_batch,
)


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar(folder, cls, n_per_batch=4, seed=0):
    """Batches in the official format; returns (local subclass with matching MD5s, arrays)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    label_key = cls.label_key
    arrays = {}
    for name, _ in [*cls.train_list, *cls.test_list]:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch).tolist()
        batch = {b"batch_label": b"x", b"data": data, label_key.encode(): labels,
                 b"filenames": [b"f.png"] * n_per_batch}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        arrays[name] = (data, labels)
    meta = {cls.meta["key"]: [f"class{i}" for i in range(10)]}
    (folder / cls.meta["filename"]).write_bytes(pickle.dumps(meta, protocol=2))

    class Local(cls):
        train_list = [(n, md5(folder / n)) for n, _ in cls.train_list]
        test_list = [(n, md5(folder / n)) for n, _ in cls.test_list]
        meta = {**cls.meta, "md5": md5(folder / cls.meta["filename"])}

    return Local, arrays


@pytest.mark.parametrize("cls", [CIFAR10, CIFAR100])
def test_reads_official_layout(tmp_path, cls):
    local, arrays = write_cifar(tmp_path / cls.base_folder, cls)
    train, test = local(tmp_path, train=True), local(tmp_path, train=False)
    n_train = 4 * len(cls.train_list)
    assert len(train) == n_train and len(test) == 4
    assert train.data.shape == (n_train, 32, 32, 3) and train.data.dtype == np.uint8
    first = cls.train_list[0][0]
    image, label = train[1]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    # the row is stored channel-major: 1024 red, 1024 green, 1024 blue values
    expected = arrays[first][0][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(image), expected)
    assert label == arrays[first][1][1]
    assert train.classes[3] == "class3" and train.class_to_idx["class3"] == 3


def test_missing_or_corrupt(tmp_path):
    with pytest.raises(RuntimeError, match=r"CIFAR10: data set not found or corrupt.*download"):
        CIFAR10(tmp_path)
    local, _ = write_cifar(tmp_path / CIFAR10.base_folder, CIFAR10)
    with open(tmp_path / CIFAR10.base_folder / "data_batch_2", "ab") as f:
        f.write(b"junk")
    with pytest.raises(RuntimeError, match=r"corrupt"):
        local(tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_batch_that_pickles_os_system_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Evil(), "labels": [1]}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_1: refusing to load .*system"):
        load_cifar_batch(path)
    assert not (tmp_path / "PWNED").exists()


def test_batch_with_builtins_eval_is_refused(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load builtins.eval"):
        load_cifar_batch(path)


def test_object_arrays_and_non_dicts_are_refused(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps([1, 2], protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"a CIFAR batch is a dict, got list"):
        load_cifar_batch(path)
    path.write_bytes(pickle.dumps({"data": np.array([1, "a"], dtype=object)}, protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        load_cifar_batch(path)


def test_garbled_pickle(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"labels": [1, 2, 3]}, protocol=2)[:-5])
    with pytest.raises(pickle.UnpicklingError, match=r"not a readable CIFAR batch"):
        load_cifar_batch(path)


def test_python2_style_batch(tmp_path):
    # Python 2 wrote str (bytes) keys and array data as byte strings: decoded as latin-1
    path = tmp_path / "b"
    data = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [4, 5]}, protocol=2))
    batch = load_cifar_batch(path)
    np.testing.assert_array_equal(batch["data"], data)
    assert batch["labels"] == [4, 5]


def test_download_and_extract(tmp_path, http_root):
    served, url = http_root
    local, arrays = write_cifar(tmp_path / "gen" / CIFAR10.base_folder, CIFAR10)
    archive = served / CIFAR10.filename
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "gen" / CIFAR10.base_folder, arcname=CIFAR10.base_folder)
    local.mirrors = [url]
    local.tgz_md5 = md5(archive)
    root = tmp_path / "root"
    ds = local(root, train=False, download=True)
    np.testing.assert_array_equal(ds.data[0].transpose(2, 0, 1).reshape(-1),
                                  arrays["test_batch"][0][0])
    archive.unlink()  # present and valid: no second download
    assert len(local(root, train=False, download=True)) == 4


def test_download_checksum_mismatch(tmp_path, http_root):
    served, url = http_root
    (served / CIFAR10.filename).write_bytes(b"not the archive")

    class Local(CIFAR10):
        mirrors = [url]

    with pytest.raises(RuntimeError, match=r"checksum mismatch for cifar-10-python.tar.gz"):
        Local(tmp_path / "root", download=True)
    assert list((tmp_path / "root").iterdir()) == []


def test_load_batch_from_bytes_roundtrip(tmp_path):
    buf = io.BytesIO()
    pickle.dump({"labels": [1], "data": np.zeros((1, 4), np.uint8)}, buf, protocol=4)
    (tmp_path / "b").write_bytes(buf.getvalue())
    assert load_cifar_batch(tmp_path / "b")["labels"] == [1]


def _tar(path, members):
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_extract_whole_archive_keeps_the_folder_contents(tmp_path, kind):
    # member_root=None extracts into dest_dir itself: what was there (the archive too) stays
    root = tmp_path / "root"
    root.mkdir()
    (root / "mine.txt").write_text("keep")
    (root / "sub").mkdir()
    (root / "sub" / "old.txt").write_text("old")
    archive = root / f"a.{kind}"
    if kind == "tar":
        _tar(archive, {"x.txt": b"hi", "sub/new.txt": b"new"})
        extract_tar(archive, root, None)
    else:
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("x.txt", "hi")
            zf.writestr("sub/new.txt", "new")
        extract_zip(archive, root, None)
    assert sorted(p.name for p in root.iterdir()) == [f"a.{kind}", "mine.txt", "sub", "x.txt"]
    assert (root / "x.txt").read_text() == "hi"
    assert sorted(p.name for p in (root / "sub").iterdir()) == ["new.txt", "old.txt"]


def test_extract_member_root_replaces_only_that_folder(tmp_path):
    root = tmp_path / "root"
    (root / "top").mkdir(parents=True)
    (root / "top" / "stale.txt").write_text("stale")
    (root / "other.txt").write_text("keep")
    _tar(root / "a.tar", {"top/x.txt": b"hi"})
    extract_tar(root / "a.tar", root, "top")
    assert sorted(p.name for p in (root / "top").iterdir()) == ["x.txt"]
    assert sorted(p.name for p in root.iterdir()) == ["a.tar", "other.txt", "top"]


@pytest.mark.parametrize("filters", [True, False], ids=["data-filter", "python-3.11.0-3"])
def test_extract_tar_refuses_paths_out_of_the_folder(tmp_path, monkeypatch, filters):
    if not filters:  # Pythons before 3.11.4 have no tarfile.data_filter: the members check
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    root = tmp_path / "root"
    root.mkdir()
    _tar(tmp_path / "evil.tar", {"top/ok.txt": b"ok", "../escaped.txt": b"x"})
    with pytest.raises(tarfile.TarError):
        extract_tar(tmp_path / "evil.tar", root, "top")
    # nothing escaped and no half-extracted folder is left behind
    assert not (tmp_path / "escaped.txt").exists()
    assert list(root.iterdir()) == []


def test_extract_zip_keeps_members_inside_the_folder(tmp_path):
    root = tmp_path / "root"
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("top/ok.txt", "ok")
        zf.writestr("../escaped.txt", "x")
    extract_zip(tmp_path / "evil.zip", root, "top")
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in root.iterdir()) == ["top"]


def test_extract_missing_member_root_leaves_nothing(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    _tar(tmp_path / "a.tar", {"other/x.txt": b"hi"})
    with pytest.raises(RuntimeError, match=r"the archive has no folder 'top'"):
        extract_tar(tmp_path / "a.tar", root, "top")
    assert list(root.iterdir()) == []

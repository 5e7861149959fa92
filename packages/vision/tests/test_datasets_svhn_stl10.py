"""SVHN and STL10 on files generated in the official formats, and downloads from 127.0.0.1."""

from __future__ import annotations

import hashlib
import tarfile

import numpy as np
import pytest
from PIL import Image

from flambeau.vision.datasets import STL10, SVHN

scipy_io = pytest.importorskip("scipy.io")


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_svhn(path, n=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9]][:n], dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy_io.savemat(path, {"X": x, "y": y})
    return x, y


def local_svhn(root, split="test"):
    class Local(SVHN):
        split_list = {**SVHN.split_list}

    url, name, _ = SVHN.split_list[split]
    Local.split_list[split] = [url, name, md5(root / name)]
    return Local


def test_svhn_reads_mat_and_maps_10_to_0(tmp_path):
    x, y = write_svhn(tmp_path / "test_32x32.mat")
    ds = local_svhn(tmp_path)(tmp_path, split="test")
    assert len(ds) == 5 and ds.data.shape == (5, 3, 32, 32) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.labels, [0, 1, 2, 0, 9])
    image, label = ds[1]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and label == 1
    np.testing.assert_array_equal(np.asarray(image), x[:, :, :, 1])


def test_svhn_errors(tmp_path):
    with pytest.raises(ValueError, match=r"SVHN: unknown value 'val' for argument split"):
        SVHN(tmp_path, split="val")
    write_svhn(tmp_path / "train_32x32.mat")
    with pytest.raises(RuntimeError, match=r"SVHN: data set not found or corrupt: .*"
                                           r"train_32x32.mat .*wrong MD5.*download=True"):
        SVHN(tmp_path)


def test_svhn_download(tmp_path, http_root):
    served, url = http_root
    x, _ = write_svhn(served / "extra_32x32.mat")

    class Local(SVHN):
        split_list = {**SVHN.split_list,
                      "extra": [url + "extra_32x32.mat", "extra_32x32.mat",
                                md5(served / "extra_32x32.mat")]}

    ds = Local(tmp_path / "root", split="extra", download=True)
    np.testing.assert_array_equal(ds.data[2].transpose(1, 2, 0), x[:, :, :, 2])
    Local.split_list["extra"][2] = "f" * 32
    with pytest.raises(RuntimeError, match=r"checksum mismatch for extra_32x32.mat"):
        Local(tmp_path / "other", split="extra", download=True)
    assert not (tmp_path / "other" / "extra_32x32.mat").exists()


def write_stl10(folder, seed=0):
    """Column-major binary images, 1-based labels, folds and class names."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, n in (("train", 6), ("test", 3), ("unlabeled", 2)):
        images = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)  # (N, C, H, W)
        images.transpose(0, 1, 3, 2).tofile(folder / f"{name}_X.bin")
        arrays[name] = images
        if name != "unlabeled":
            labels = rng.integers(1, 11, n, dtype=np.uint8)
            labels.tofile(folder / f"{name}_y.bin")
            arrays[name + "_y"] = labels
    (folder / "fold_indices.txt").write_text("".join(f"{i} {i + 3} \n" for i in range(10)))
    (folder / "class_names.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n")

    class Local(STL10):
        train_list = [[n, md5(folder / n)] for n, _ in STL10.train_list]
        test_list = [[n, md5(folder / n)] for n, _ in STL10.test_list]

    return Local, arrays


def test_stl10_splits_folds_and_layout(tmp_path):
    local, arrays = write_stl10(tmp_path / "stl10_binary")
    train = local(tmp_path)
    assert len(train) == 6 and train.classes[2] == "c2"
    image, label = train[4]
    assert image.size == (96, 96) and label == int(arrays["train_y"][4]) - 1
    np.testing.assert_array_equal(np.asarray(image), arrays["train"][4].transpose(1, 2, 0))
    fold = local(tmp_path, split="train", folds=2)
    np.testing.assert_array_equal(fold.data, arrays["train"][[2, 5]])
    np.testing.assert_array_equal(fold.labels, arrays["train_y"][[2, 5]].astype(int) - 1)
    both = local(tmp_path, split="train+unlabeled")
    assert len(both) == 8 and both[7][1] == -1
    np.testing.assert_array_equal(both.data[6:], arrays["unlabeled"])
    unlabeled = local(tmp_path, split="unlabeled")
    assert len(unlabeled) == 2 and list(unlabeled.labels) == [-1, -1]
    test = local(tmp_path, split="test")
    np.testing.assert_array_equal(test.data, arrays["test"])


def test_stl10_errors(tmp_path):
    with pytest.raises(ValueError, match=r"STL10: folds should be in the range \[0, 10\), got "
                                         r"10"):
        STL10(tmp_path, folds=10)
    with pytest.raises(ValueError, match=r"STL10: folds should be None or an int, got str"):
        STL10(tmp_path, folds="1")
    with pytest.raises(ValueError, match=r"unknown value 'val' for argument split"):
        STL10(tmp_path, split="val")
    with pytest.raises(RuntimeError, match=r"STL10: data set not found or corrupt"):
        STL10(tmp_path)
    local, _ = write_stl10(tmp_path / "stl10_binary")
    with open(tmp_path / "stl10_binary" / "test_X.bin", "ab") as f:
        f.write(b"x")
    local.test_list = [["test_X.bin", md5(tmp_path / "stl10_binary" / "test_X.bin")],
                       local.test_list[1]]
    with pytest.raises(RuntimeError, match=r"not a whole number of 3x96x96 images"):
        local(tmp_path, split="test")


def test_stl10_download(tmp_path, http_root):
    served, url = http_root
    local, arrays = write_stl10(tmp_path / "gen" / "stl10_binary")
    with tarfile.open(served / STL10.filename, "w:gz") as tar:
        tar.add(tmp_path / "gen" / "stl10_binary", arcname="stl10_binary")
    local.url = url + STL10.filename
    local.tgz_md5 = md5(served / STL10.filename)
    ds = local(tmp_path / "root", split="test", download=True)
    np.testing.assert_array_equal(ds.data, arrays["test"])
    local.tgz_md5 = "0" * 32
    with pytest.raises(RuntimeError, match=r"checksum mismatch for stl10_binary.tar.gz"):
        local(tmp_path / "other", download=True)

"""ImageNet from generated devkit, train and val archives in ILSVRC2012's layouts."""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from flambeau.vision.datasets import ImageNet

scipy_io = pytest.importorskip("scipy.io")

# (ILSVRC2012_ID, WNID, words, num_children): ids 1-2 are classes, 3 an inner node
SYNSETS = [(1, "n01440764", "tench, Tinca tinca", 0),
           (2, "n01443537", "goldfish, Carassius auratus", 0),
           (3, "n00001740", "entity", 2)]
VAL_LABELS = [2, 1, 2]


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def add_bytes(tar, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def png(value) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (value, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def write_archives(root, val_labels=VAL_LABELS):
    root.mkdir(parents=True, exist_ok=True)
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children"]
    synsets = np.zeros((len(SYNSETS),), dtype=[(f, object) for f in fields])
    for k, (idx, wnid, words, children) in enumerate(SYNSETS):
        synsets[k] = (idx, wnid, words, "a gloss", children)
    meta = io.BytesIO()
    scipy_io.savemat(meta, {"synsets": synsets})
    with tarfile.open(root / "ILSVRC2012_devkit_t12.tar.gz", "w:gz") as tar:
        add_bytes(tar, "ILSVRC2012_devkit_t12/data/meta.mat", meta.getvalue())
        add_bytes(tar, "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt",
                  "".join(f"{v}\n" for v in val_labels).encode())
    with tarfile.open(root / "ILSVRC2012_img_train.tar", "w") as outer:
        for k, (_, wnid, _, _) in enumerate(SYNSETS[:2]):
            inner = io.BytesIO()
            with tarfile.open(fileobj=inner, mode="w") as tar:
                for j in range(2 + k):
                    add_bytes(tar, f"{wnid}_{j}.JPEG", png(10 * k + j))
            add_bytes(outer, f"{wnid}.tar", inner.getvalue())
    with tarfile.open(root / "ILSVRC2012_img_val.tar", "w") as tar:
        for j in range(len(val_labels)):
            add_bytes(tar, f"ILSVRC2012_val_{j + 1:08d}.JPEG", png(100 + j))

    class Local(ImageNet):
        archive_meta = {kind: (name, md5(root / name))
                        for kind, (name, _) in ImageNet.archive_meta.items()}

    return Local


def test_train_split(tmp_path):
    local = write_archives(tmp_path)
    ds = local(tmp_path, split="train")
    assert len(ds) == 5 and ds.wnids == ["n01440764", "n01443537"]
    assert ds.classes == [("tench", "Tinca tinca"), ("goldfish", "Carassius auratus")]
    assert ds.class_to_idx["Carassius auratus"] == 1 and ds.wnid_to_idx["n01440764"] == 0
    assert ds.targets == [0, 0, 1, 1, 1]
    image, label = ds[3]
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (11, 0, 0) and label == 1
    assert not list((tmp_path / "train").glob("*.tar"))  # the per-class tars are unpacked
    assert (tmp_path / "meta.bin").is_file()
    assert len(local(tmp_path, split="train")) == 5  # already unpacked: nothing to do


def test_val_split_sorted_into_class_folders(tmp_path):
    local = write_archives(tmp_path)
    ds = local(tmp_path, split="val", transform=lambda im: im.getpixel((0, 0))[0])
    assert len(ds) == 3
    assert sorted(p.name for p in (tmp_path / "val").iterdir()) == ["n01440764", "n01443537"]
    # image 2 (pixel 101) has label 1 -> n01440764 (index 0); 1 and 3 are goldfish
    assert [ds[i] for i in range(3)] == [(101, 0), (100, 1), (102, 1)]
    assert ds.split == "val" and "Split: val" in repr(ds)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match=r"ImageNet: unknown value 'test' for argument split"):
        ImageNet(tmp_path, split="test")
    with pytest.raises(RuntimeError, match=r"ImageNet: the archive ILSVRC2012_devkit_t12.tar.gz "
                                           r"is not present in the root directory or is "
                                           r"corrupted .*place it in"):
        ImageNet(tmp_path)
    local = write_archives(tmp_path)
    with open(tmp_path / "ILSVRC2012_img_train.tar", "ab") as f:
        f.write(b"\0" * 512)
    with pytest.raises(RuntimeError, match=r"the archive ILSVRC2012_img_train.tar is not "
                                           r"present .*or is corrupted"):
        local(tmp_path, split="train")
    assert (tmp_path / "meta.bin").is_file() and not (tmp_path / "train").exists()


def test_val_count_mismatch(tmp_path):
    local = write_archives(tmp_path, val_labels=[1, 2])
    with tarfile.open(tmp_path / "ILSVRC2012_img_val.tar", "a") as tar:
        add_bytes(tar, "ILSVRC2012_val_00000009.JPEG", png(1))
    local.archive_meta = {**local.archive_meta,
                          "val": ("ILSVRC2012_img_val.tar", md5(tmp_path /
                                                                "ILSVRC2012_img_val.tar"))}
    with pytest.raises(RuntimeError, match=r"holds 3 images but the devkit labels 2"):
        local(tmp_path, split="val")
    assert not (tmp_path / "val").exists()


def test_failed_train_unpacking_leaves_no_split_folder(tmp_path):
    # a class's tar that cannot be read halfway through: no train/ that would pass for an
    # unpacked split next time (it would silently hold only the classes before it)
    local = write_archives(tmp_path)
    with tarfile.open(tmp_path / "ILSVRC2012_img_train.tar", "a") as outer:
        add_bytes(outer, "n09999999.tar", b"not a tar archive")
    local.archive_meta = {**local.archive_meta,
                          "train": ("ILSVRC2012_img_train.tar",
                                    md5(tmp_path / "ILSVRC2012_img_train.tar"))}
    with pytest.raises(tarfile.ReadError):
        local(tmp_path, split="train")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ILSVRC2012_devkit_t12.tar.gz", "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar",
        "meta.bin"]

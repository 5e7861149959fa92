"""Flowers102 and OxfordIIITPet on generated files in the archives' layouts."""

from __future__ import annotations

import hashlib
import tarfile

import numpy as np
import pytest
from PIL import Image

from flambeau.vision.datasets import Flowers102, OxfordIIITPet


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_flowers(base, n=6):
    scipy_io = pytest.importorskip("scipy.io")
    (base / "jpg").mkdir(parents=True)
    colours = []
    for i in range(1, n + 1):
        colour = (20 * i, 255 - 20 * i, 7 * i)
        # PNG bytes under the .jpg name: lossless, so pixels compare exactly (read by content)
        Image.new("RGB", (8, 6), colour).save(base / "jpg" / f"image_{i:05d}.png", "PNG")
        (base / "jpg" / f"image_{i:05d}.png").rename(base / "jpg" / f"image_{i:05d}.jpg")
        colours.append(colour)
    labels = np.array([5, 1, 102, 7, 7, 3], np.uint8)[:n]  # 1-based
    scipy_io.savemat(base / "imagelabels.mat", {"labels": labels[None]})
    scipy_io.savemat(base / "setid.mat", {"trnid": np.array([[1, 4]]), "valid": np.array([[2]]),
                                          "tstid": np.array([[3, 5, 6]])})

    class Local(Flowers102):
        _file_dict = {**Flowers102._file_dict,
                      "label": ("imagelabels.mat", md5(base / "imagelabels.mat")),
                      "setid": ("setid.mat", md5(base / "setid.mat"))}

    return Local, labels, colours


def test_flowers_splits_labels_and_loader(tmp_path):
    local, labels, colours = write_flowers(tmp_path / "flowers-102")
    train, val = local(tmp_path), local(tmp_path, split="val")
    test = local(tmp_path, split="test", loader=lambda p: p.name)
    assert (len(train), len(val), len(test)) == (2, 1, 3)
    image, label = train[1]
    assert image.mode == "RGB" and image.getpixel((0, 0)) == colours[3] and label == 6
    assert val[0][1] == 0 and test[0] == ("image_00003.jpg", 101)
    assert [test[i][1] for i in range(3)] == [int(v) - 1 for v in labels[[2, 4, 5]]]


def test_flowers_errors_and_download(tmp_path, http_root):
    with pytest.raises(ValueError, match=r"Flowers102: unknown value 'valid' for argument split"):
        Flowers102(tmp_path, split="valid")
    with pytest.raises(RuntimeError, match=r"Flowers102: data set not found or corrupt"):
        Flowers102(tmp_path)
    served, url = http_root
    local, _, colours = write_flowers(tmp_path / "gen" / "flowers-102")
    with tarfile.open(served / "102flowers.tgz", "w:gz") as tar:
        tar.add(tmp_path / "gen" / "flowers-102" / "jpg", arcname="jpg")
    for name in ("imagelabels.mat", "setid.mat"):
        (served / name).write_bytes((tmp_path / "gen" / "flowers-102" / name).read_bytes())
    local._download_url_prefix = url
    local._file_dict = {**local._file_dict,
                        "image": ("102flowers.tgz", md5(served / "102flowers.tgz"))}
    ds = local(tmp_path / "root", split="test", download=True)
    assert ds[2][0].getpixel((0, 0)) == colours[5]
    local._file_dict = {**local._file_dict, "image": ("102flowers.tgz", "0" * 32)}
    with pytest.raises(RuntimeError, match=r"checksum mismatch for 102flowers.tgz"):
        local(tmp_path / "other", download=True)


def write_pets(base):
    (base / "images").mkdir(parents=True)
    (base / "annotations" / "trimaps").mkdir(parents=True)
    rows = [("Abyssinian_1", 1, 1), ("american_bulldog_10", 2, 2), ("Abyssinian_2", 1, 1),
            ("great_pyrenees_3", 3, 2)]
    for i, (image_id, _, _) in enumerate(rows):
        Image.new("RGB", (5, 4), (i * 40, 0, 0)).save(base / "images" / f"{image_id}.jpg")
        Image.fromarray(np.full((4, 5), i + 1, np.uint8)).save(
            base / "annotations" / "trimaps" / f"{image_id}.png")
    lines = ["#Image CLASS-ID SPECIES BREED ID"]
    lines += [f"{image_id} {label} {species} {k + 1}" for k, (image_id, label, species)
              in enumerate(rows)]
    (base / "annotations" / "trainval.txt").write_text("\n".join(lines[:4]) + "\n")
    (base / "annotations" / "test.txt").write_text(lines[4] + "\n")


def test_pets_targets_and_classes(tmp_path):
    write_pets(tmp_path / "oxford-iiit-pet")
    ds = OxfordIIITPet(tmp_path)
    assert len(ds) == 3 and ds.classes == ["Abyssinian", "American Bulldog"]
    assert ds.class_to_idx["American Bulldog"] == 1 and ds.bin_class_to_idx == {"Cat": 0,
                                                                                 "Dog": 1}
    image, label = ds[1]
    assert image.mode == "RGB" and image.size == (5, 4) and label == 1
    both = OxfordIIITPet(tmp_path, target_types=["binary-category", "segmentation",
                                                 "category"])
    image, (species, trimap, label) = both[1]
    assert species == 1 and label == 1 and trimap.mode == "L"
    np.testing.assert_array_equal(np.asarray(trimap), np.full((4, 5), 2))
    assert OxfordIIITPet(tmp_path, target_types=[])[0][1] is None
    test = OxfordIIITPet(tmp_path, split="test", transforms=lambda im, t: (im.size, t + 100))
    assert test[0] == ((5, 4), 102)


def test_pets_errors_and_download(tmp_path, http_root):
    with pytest.raises(ValueError, match=r"OxfordIIITPet: unknown value 'mask' for argument "
                                         r"target_types"):
        OxfordIIITPet(tmp_path, target_types=["category", "mask"])
    with pytest.raises(ValueError, match=r"unknown value 'train' for argument split"):
        OxfordIIITPet(tmp_path, split="train")
    with pytest.raises(RuntimeError, match=r"OxfordIIITPet: data set not found or corrupt"):
        OxfordIIITPet(tmp_path)
    served, url = http_root
    write_pets(tmp_path / "gen")
    resources = []
    for name in ("images", "annotations"):
        with tarfile.open(served / f"{name}.tar.gz", "w:gz") as tar:
            tar.add(tmp_path / "gen" / name, arcname=name)
        resources.append((url + f"{name}.tar.gz", md5(served / f"{name}.tar.gz")))

    class Local(OxfordIIITPet):
        _RESOURCES = tuple(resources)

    ds = Local(tmp_path / "root", target_types="segmentation", download=True)
    assert np.asarray(ds[2][1])[0, 0] == 3
    Local._RESOURCES = ((resources[0][0], "0" * 32), resources[1])
    with pytest.raises(RuntimeError, match=r"checksum mismatch for images.tar.gz"):
        Local(tmp_path / "other", download=True)

"""ImageFolder / DatasetFolder, FakeData and Digits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.data import DataLoader, Dataset
from flambeau.vision import transforms as T
from flambeau.vision.datasets import (
    DatasetFolder,
    Digits,
    FakeData,
    ImageFolder,
    find_classes,
    make_dataset,
)


@pytest.fixture
def tree(tmp_path):
    for name, colour in (("cat", (255, 0, 0)), ("dog", (0, 255, 0))):
        (tmp_path / name / "sub").mkdir(parents=True)
        Image.new("RGB", (5, 4), colour).save(tmp_path / name / "b.png")
        Image.new("L", (5, 4), 9).save(tmp_path / name / "sub" / "a.JPG")
        (tmp_path / name / "notes.txt").write_text("not an image")
    return tmp_path


def test_image_folder(tree):
    ds = ImageFolder(tree)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    names = [p.replace(str(tree), "") for p, _ in ds.samples]
    assert names == ["/cat/b.png", "/cat/sub/a.JPG", "/dog/b.png", "/dog/sub/a.JPG"]
    assert ds.targets == [0, 0, 1, 1] and ds.imgs == ds.samples
    image, label = ds[2]
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (0, 255, 0) and label == 1
    assert ds[1][0].getpixel((0, 0)) == (9, 9, 9)  # grayscale files are converted to RGB
    assert isinstance(ds, Dataset)


def test_image_folder_with_transform_and_loader(tree):
    ds = ImageFolder(tree, transform=T.ToTensor(), target_transform=lambda y: y * 10)
    x, y = ds[3]
    assert tuple(x.shape) == (3, 4, 5) and y == 10
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(batch[0].shape) == (4, 3, 4, 5) and batch[1].tolist() == [0, 0, 10, 10]


def test_is_valid_file_and_extensions(tree):
    ds = DatasetFolder(tree, loader=lambda p: open(p).read(),
                       is_valid_file=lambda p: p.endswith(".txt"))
    assert [s[0][-9:] for s in ds.samples] == ["notes.txt", "notes.txt"]
    assert ds[0] == ("not an image", 0)
    with pytest.raises(ValueError, match="exactly one of extensions and is_valid_file"):
        make_dataset(tree, {"cat": 0}, extensions=(".png",), is_valid_file=lambda p: True)


def test_empty_class_and_missing_root(tree, tmp_path):
    (tree / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no valid file for the classes empty"):
        ImageFolder(tree)
    assert len(ImageFolder(tree, allow_empty=True)) == 4
    with pytest.raises(FileNotFoundError, match=r"data set folder not found"):
        find_classes(tmp_path / "missing")


def test_unreadable_image_names_the_file(tree):
    (tree / "cat" / "broken.png").write_bytes(b"\x89PNG garbage")
    ds = ImageFolder(tree)
    index = [p for p, _ in ds.samples].index(str(tree / "cat" / "broken.png"))
    with pytest.raises(OSError, match=r"cannot read image file .*broken.png"):
        ds[index]


def test_fake_data_is_deterministic_and_leaves_global_rng():
    ds = FakeData(size=6, image_size=(3, 5, 7), num_classes=4, transform=T.ToTensor())
    flambeau.manual_seed(3)
    before = flambeau.rand(1)
    flambeau.manual_seed(3)
    x1, y1 = ds[4]
    after = flambeau.rand(1)
    assert before.item() == after.item()  # items come from private generators
    x2, y2 = ds[4]
    assert tuple(x1.shape) == (3, 5, 7) and bool((x1 == x2).all()) and y1 == y2
    assert 0 <= y1 < 4
    other = FakeData(size=6, image_size=(3, 5, 7), random_offset=100, transform=T.ToTensor())
    assert not bool((other[4][0] == x1).all())
    with pytest.raises(IndexError):
        ds[6]
    with pytest.raises(ValueError, match=r"image_size must be \(C, H, W\)"):
        FakeData(image_size=(2, 4, 4))


def test_digits():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    assert isinstance(train, Dataset)
    image, label = train[0]
    assert image.mode == "L" and image.size == (8, 8) and isinstance(label, int)
    # the split is a partition of the 1,797 images, the same every time
    from sklearn.datasets import load_digits

    digits = load_digits()
    scaled = np.rint(digits.images * 255 / 16).astype(np.uint8)
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(train.data.cpu().numpy(), scaled[order[:1437]])
    np.testing.assert_array_equal(test.targets.cpu().numpy(), digits.target[order[1437:]])
    assert train.data.cpu().numpy().max() == 255
    assert sorted(np.bincount(train.targets.cpu().numpy())) [0] > 100  # every class is present


def test_digits_without_scikit_learn(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r'pip install "flambeau-vision\[digits\]"'):
        Digits()

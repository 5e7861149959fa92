"""MNIST-family readers on generated IDX files, and downloads from a local server."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision.datasets import EMNIST, KMNIST, MNIST, QMNIST, FashionMNIST, read_idx


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(raw, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        arrays[prefix] = (images, labels)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = idx_bytes(arr)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
def test_reads_official_layout(tmp_path, cls, gz):
    arrays = write_mnist(tmp_path / cls.__name__ / "raw", gz=gz)
    train = cls(tmp_path, train=True)
    test = cls(tmp_path, train=False)
    assert len(train) == 5 and len(test) == 3
    image, label = train[2]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), arrays["train"][0][2])
    assert label == int(arrays["train"][1][2]) and isinstance(label, int)
    assert train.data.dtype == flambeau.uint8 and tuple(train.data.shape) == (5, 28, 28)
    assert train.targets.dtype == flambeau.int64
    np.testing.assert_array_equal(test.targets.cpu().numpy(), arrays["t10k"][1])


def test_transforms_are_applied(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, transform=lambda im: np.asarray(im).sum(), target_transform=str)
    image, label = ds[0]
    assert isinstance(label, str) and image == np.asarray(MNIST(tmp_path)[0][0]).sum()


def test_missing_root_without_download(tmp_path):
    with pytest.raises(RuntimeError, match=r"MNIST: data set not found.*download=True"):
        MNIST(tmp_path / "nowhere")


def test_wrong_magic(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    bad = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x12\x34\x08\x03" + bad.read_bytes()[4:])
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte is not an IDX file"):
        MNIST(tmp_path)


def test_truncated(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    bad = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte is truncated"):
        MNIST(tmp_path)


def test_truncated_gzip(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", gz=True)
    bad = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:12])
    with pytest.raises(RuntimeError, match=r"t10k-labels-idx1-ubyte.gz"):
        MNIST(tmp_path, train=False)


def test_wrong_dimensions(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    (tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(
        idx_bytes(np.zeros((5, 2), np.uint8)))
    with pytest.raises(RuntimeError, match=r"expected an IDX file with 1 dimensions, got 2"):
        MNIST(tmp_path)


def test_read_idx_other_types(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 0.0]], np.float32)
    path = tmp_path / "f.idx"
    path.write_bytes(idx_bytes(values, code=0x0D))
    out = read_idx(path)
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def _serve_mnist(served, tmp_path):
    """Put gzipped IDX files on the server; return the resources (name, md5) for them."""
    arrays = write_mnist(tmp_path / "gen", gz=True)
    resources = []
    for path in sorted((tmp_path / "gen").iterdir()):
        (served / path.name).write_bytes(path.read_bytes())
        resources.append((path.name, hashlib.md5(path.read_bytes()).hexdigest()))
    return arrays, resources


def test_download_from_local_mirror(tmp_path, http_root):
    served, url = http_root
    arrays, resources = _serve_mnist(served, tmp_path)

    class LocalMNIST(MNIST):
        mirrors = ["http://127.0.0.1:9/unreachable/", url]  # the first mirror fails

    LocalMNIST.resources = resources
    root = tmp_path / "root"
    ds = LocalMNIST(root, download=True)
    np.testing.assert_array_equal(ds.data.cpu().numpy(), arrays["train"][0])
    raw = root / "LocalMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(n for n, _ in resources)
    # present and valid: nothing is fetched again, even with the server's files gone
    for path in served.iterdir():
        path.unlink()
    assert len(LocalMNIST(root, download=True)) == 5


def test_download_checksum_mismatch_leaves_nothing(tmp_path, http_root):
    served, url = http_root
    _, resources = _serve_mnist(served, tmp_path)

    class LocalMNIST(MNIST):
        mirrors = [url]

    name, _ = resources[0]
    LocalMNIST.resources = [(name, "0" * 32)] + resources[1:]
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=rf"checksum mismatch for {name}.*expected MD5 0+"):
        LocalMNIST(root, download=True)
    raw = root / "LocalMNIST" / "raw"
    assert list(raw.iterdir()) == []  # no partial or temporary file


def test_download_all_mirrors_fail(tmp_path):
    class DeadMNIST(MNIST):
        mirrors = ["http://127.0.0.1:9/"]

    with pytest.raises(RuntimeError, match=r"failed from every mirror"):
        DeadMNIST(tmp_path, download=True)
    assert list((tmp_path / "DeadMNIST" / "raw").iterdir()) == []


# --- EMNIST and QMNIST -------------------------------------------------------------------


def write_emnist(raw, split, seed=1):
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in (("train", 4), ("test", 2)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        arrays[part] = (images, labels)
        prefix = f"emnist-{split}-{part}"
        (raw / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (raw / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    return arrays


def test_emnist_reads_split_files(tmp_path):
    arrays = write_emnist(tmp_path / "EMNIST" / "raw", "letters")
    ds = EMNIST(tmp_path, split="letters", train=False)
    assert len(ds) == 2 and ds.classes[:2] == ["N/A", "a"] and ds.class_to_idx["z"] == 26
    image, label = ds[1]
    np.testing.assert_array_equal(np.asarray(image), arrays["test"][0][1])
    assert label == int(arrays["test"][1][1])
    assert len(EMNIST.classes_split_dict["byclass"]) == 62
    with pytest.raises(ValueError, match=r"EMNIST: unknown value 'bogus' for argument split; "
                                         r"valid values are 'byclass'"):
        EMNIST(tmp_path, split="bogus")
    with pytest.raises(RuntimeError, match=r"no emnist-digits-train-images-idx3-ubyte"):
        EMNIST(tmp_path, split="digits")


def test_emnist_download_unpacks_the_zip(tmp_path, http_root):
    served, url = http_root
    arrays = write_emnist(tmp_path / "gen" / "gzip", "mnist")
    with zipfile.ZipFile(served / "gzip.zip", "w") as zf:
        for path in (tmp_path / "gen" / "gzip").iterdir():
            zf.write(path, f"gzip/{path.name}")

    class LocalEMNIST(EMNIST):
        pass

    LocalEMNIST.url = url + "gzip.zip"
    LocalEMNIST.md5 = hashlib.md5((served / "gzip.zip").read_bytes()).hexdigest()
    ds = LocalEMNIST(tmp_path / "root", split="mnist", download=True)
    np.testing.assert_array_equal(ds.data.cpu().numpy(), arrays["train"][0])
    raw = tmp_path / "root" / "LocalEMNIST" / "raw"
    assert not (raw / "gzip").exists()
    assert (raw / "emnist-mnist-test-labels-idx1-ubyte.gz").is_file()
    LocalEMNIST.md5 = "0" * 32
    with pytest.raises(RuntimeError, match=r"checksum mismatch for gzip.zip"):
        LocalEMNIST(tmp_path / "other", split="mnist", download=True)


def write_qmnist(raw, n=12, seed=2, compress=gzip.compress, prefix="qmnist-test", suffix=".gz"):
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 1000, (n, 8)).astype(np.int32)
    (raw / f"{prefix}-images-idx3-ubyte{suffix}").write_bytes(compress(idx_bytes(images)))
    (raw / f"{prefix}-labels-idx2-int{suffix}").write_bytes(compress(idx_bytes(labels, 0x0C)))
    return images, labels


def test_qmnist_targets_and_what(tmp_path):
    images, labels = write_qmnist(tmp_path / "QMNIST" / "raw")
    ds = QMNIST(tmp_path, train=False)
    assert len(ds) == 12 and ds.targets.dtype == flambeau.int64
    np.testing.assert_array_equal(ds.targets.cpu().numpy(), labels)
    image, target = ds[3]
    np.testing.assert_array_equal(np.asarray(image), images[3])
    assert target == int(labels[3, 0])
    _, row = QMNIST(tmp_path, what="test", compat=False)[3]
    np.testing.assert_array_equal(row.cpu().numpy(), labels[3])
    with pytest.raises(ValueError, match=r"QMNIST: unknown value 'test5k' for argument what"):
        QMNIST(tmp_path, what="test5k")


def test_qmnist_test10k_test50k_split(tmp_path, monkeypatch):
    # the first 10,000 rows of the test files are MNIST's test set, the rest test50k
    monkeypatch.setattr("flambeau.vision.datasets._mnist.read_idx", _fake_read_idx)
    raw = tmp_path / "QMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("qmnist-test-images-idx3-ubyte", "qmnist-test-labels-idx2-int"):
        (raw / name).write_bytes(b"")
    first, rest = QMNIST(tmp_path, what="test10k"), QMNIST(tmp_path, what="test50k")
    assert len(first) == 10000 and len(rest) == 5
    assert first.targets[0, 0].item() == 0 and rest.targets[0, 0].item() == 10000


def _fake_read_idx(path, ndim=None):
    if "images" in str(path):
        return np.zeros((10005, 1, 1), np.uint8)
    return np.repeat(np.arange(10005)[:, None], 8, axis=1)


def test_qmnist_nist_xz_and_download(tmp_path, http_root):
    served, url = http_root
    images, labels = write_qmnist(tmp_path / "gen", compress=lzma.compress, prefix="xnist",
                                  suffix=".xz")
    resources = []
    for path in sorted((tmp_path / "gen").iterdir()):
        (served / path.name).write_bytes(path.read_bytes())
        resources.append((url + path.name, hashlib.md5(path.read_bytes()).hexdigest()))
    resources.sort(key=lambda r: "labels" in r[0])

    class LocalQMNIST(QMNIST):
        pass

    LocalQMNIST.resources = {**QMNIST.resources, "nist": resources}
    ds = LocalQMNIST(tmp_path / "root", what="nist", download=True)
    np.testing.assert_array_equal(ds.data.cpu().numpy(), images)
    assert ds[0][1] == int(labels[0, 0])
    LocalQMNIST.resources = {**QMNIST.resources, "nist": [(resources[0][0], "0" * 32),
                                                          resources[1]]}
    with pytest.raises(RuntimeError, match=r"checksum mismatch for xnist-images-idx3-ubyte.xz"):
        LocalQMNIST(tmp_path / "other", what="nist", download=True)

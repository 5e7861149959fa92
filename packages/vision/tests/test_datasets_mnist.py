"""MNIST-family readers on generated IDX files, and downloads from a local server."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision.datasets import KMNIST, MNIST, FashionMNIST, read_idx


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

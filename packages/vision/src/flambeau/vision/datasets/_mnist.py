"""MNIST, FashionMNIST and KMNIST: the IDX file format in the official folder layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image

import flambeau
from flambeau.vision.datasets._base import VisionDataset
from flambeau.vision.datasets._download import check_integrity, download_file

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "read_idx"]

# IDX type codes -> big-endian NumPy dtypes (the format's header byte 3)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:  # gzip raises these for corrupt or truncated streams
        raise RuntimeError(f"cannot read IDX file {path}: {exc}") from exc


def read_idx(path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzipped (``.gz``) or not.

    Parameters
    ----------
    path : str or path-like
        The file.
    ndim : int, optional
        The number of dimensions the file must have (3 for images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        The array in native byte order.

    Raises
    ------
    RuntimeError
        When the magic number is wrong, the dimensions differ from ``ndim`` or the file is
        truncated; the message names the file.

    Examples
    --------
    >>> import tempfile, os
    >>> from flambeau.vision.datasets import read_idx
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(f.name, ndim=1)
    array([7, 8, 9], dtype=uint8)
    >>> os.remove(f.name)
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(
            f"{path} is not an IDX file: wrong magic number {raw[:4].hex() or '(empty)'} "
            "(expected 0000 followed by a type code and the number of dimensions)"
        )
    dims = raw[3]
    if ndim is not None and dims != ndim:
        raise RuntimeError(f"{path}: expected an IDX file with {ndim} dimensions, got {dims}")
    header = 4 + 4 * dims
    if len(raw) < header:
        raise RuntimeError(f"{path} is truncated: {len(raw)} bytes, header needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", dims, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise RuntimeError(
            f"{path} is {problem}: {len(raw)} bytes for shape {shape} ({expected} expected)"
        )
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


class MNIST(VisionDataset):
    """The MNIST handwritten digits (60,000 training and 10,000 test 28x28 images).

    Reads ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (or the ``.gz``
    files), the layout torchvision uses. Items are ``(PIL image of mode "L", int label)``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds the ``MNIST`` folder.
    train : bool
        The training split (default) or the test split.
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        Fetch the files from :attr:`mirrors` (MD5-checked) when they are missing.

    Attributes
    ----------
    data : Tensor
        uint8 images of shape (N, 28, 28).
    targets : Tensor
        int64 labels of shape (N,).
    mirrors : list of str
        Base URLs tried in order; a class attribute so it can be pointed elsewhere.

    Examples
    --------
    >>> from flambeau.vision.datasets import MNIST
    >>> MNIST("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RuntimeError: MNIST: data set not found ...
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = read_idx(self._locate(f"{prefix}-images-idx3-ubyte"), ndim=3)
        labels = read_idx(self._locate(f"{prefix}-labels-idx1-ubyte"), ndim=1)
        if len(images) != len(labels):
            raise RuntimeError(
                f"{type(self).__name__}: {len(images)} images but {len(labels)} labels in "
                f"{self.raw_folder}"
            )
        self._images = np.ascontiguousarray(images, dtype=np.uint8)
        self._labels = labels.astype(np.int64)
        self.data = flambeau.from_numpy(self._images)
        self.targets = flambeau.from_numpy(self._labels)

    @property
    def raw_folder(self) -> Path:
        """``root/<ClassName>/raw``, where the IDX files live."""
        return self.root / type(self).__name__ / "raw"

    @property
    def class_to_idx(self) -> dict:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def _locate(self, stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (self.raw_folder / name).is_file():
                return self.raw_folder / name
        raise RuntimeError(
            f"{type(self).__name__}: data set not found: no {stem}[.gz] in {self.raw_folder}; "
            "pass download=True to download it"
        )

    def _check_exists(self) -> bool:
        folder = self.raw_folder
        return all(
            (folder / name.removesuffix(".gz")).is_file() or check_integrity(folder / name, md5)
            for name, md5 in self.resources
        )

    def download(self) -> None:
        """Fetch the missing or corrupt files of :attr:`resources` from :attr:`mirrors`."""
        if self._check_exists():
            return
        for name, md5 in self.resources:
            if (self.raw_folder / name.removesuffix(".gz")).is_file():
                continue
            download_file([m + name for m in self.mirrors], self.raw_folder / name, md5)

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index):
        image = Image.fromarray(self._images[index])
        return self._apply(image, int(self._labels[index]))

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and layout with 10 clothing classes.

    Files live in ``root/FashionMNIST/raw``; see :class:`MNIST` for the parameters.

    Examples
    --------
    >>> from flambeau.vision.datasets import FashionMNIST
    >>> FashionMNIST.classes[:3]
    ['T-shirt/top', 'Trouser', 'Pullover']
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


class KMNIST(MNIST):
    """Kuzushiji-MNIST: cursive Japanese characters in MNIST's format and layout.

    Files live in ``root/KMNIST/raw``; see :class:`MNIST` for the parameters.

    Examples
    --------
    >>> from flambeau.vision.datasets import KMNIST
    >>> len(KMNIST.classes)
    10
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

"""MNIST, FashionMNIST, KMNIST, EMNIST and QMNIST: the IDX format in the official layouts."""

from __future__ import annotations

import gzip
import lzma
import shutil
import string
from pathlib import Path

import numpy as np
from PIL import Image

import flambeau
from flambeau.vision.datasets._base import VisionDataset, verify_choice
from flambeau.vision.datasets._download import (
    _download_and_extract,
    check_integrity,
    download_file,
)

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "read_idx"]
_COMPRESSED = (".gz", ".xz")

# IDX type codes -> big-endian NumPy dtypes (the format's header byte 3)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        if path.suffix == ".xz":
            return lzma.decompress(path.read_bytes())
        return path.read_bytes()
    # gzip and lzma raise these for corrupt or truncated streams
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise RuntimeError(f"cannot read IDX file {path}: {exc}") from exc


def read_idx(path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (MNIST's format), compressed (``.gz``, ``.xz``) or not.

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
        images, labels = self._load_arrays()
        self._images = np.ascontiguousarray(images, dtype=np.uint8)
        self._labels = labels.astype(np.int64)
        self.data = flambeau.from_numpy(self._images)
        self.targets = flambeau.from_numpy(self._labels)

    def _stems(self) -> tuple[str, str]:
        """The images' and labels' file names (without a compression suffix) of the split."""
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _load_arrays(self, label_ndim: int = 1):
        images_stem, labels_stem = self._stems()
        images = read_idx(self._locate(images_stem), ndim=3)
        labels = read_idx(self._locate(labels_stem), ndim=label_ndim)
        if len(images) != len(labels):
            raise RuntimeError(
                f"{type(self).__name__}: {len(images)} images but {len(labels)} labels in "
                f"{self.raw_folder}"
            )
        return images, labels

    @property
    def raw_folder(self) -> Path:
        """``root/<ClassName>/raw``, where the IDX files live."""
        return self.root / type(self).__name__ / "raw"

    @property
    def class_to_idx(self) -> dict:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def _locate(self, stem: str) -> Path:
        for name in (stem, *(stem + suffix for suffix in _COMPRESSED)):
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


class EMNIST(MNIST):
    """Extended MNIST: handwritten digits and letters in six splits, MNIST's format.

    Reads ``root/EMNIST/raw/emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte``
    (or the ``.gz`` files), the names inside NIST's ``gzip.zip``. Images are as stored in the
    files (transposed relative to MNIST's, as torchvision gives them); items are
    ``(PIL image of mode "L", int label)``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds the ``EMNIST`` folder.
    split : str
        ``"byclass"``, ``"bymerge"``, ``"balanced"``, ``"letters"``, ``"digits"`` or
        ``"mnist"``.
    **kwargs
        ``train``, ``transform``, ``target_transform`` and ``download`` of :class:`MNIST`;
        ``download`` fetches :attr:`url` (MD5-checked) and unpacks its ``.gz`` files.

    Examples
    --------
    >>> from flambeau.vision.datasets import EMNIST
    >>> EMNIST.classes_split_dict["letters"][:3], len(EMNIST.classes_split_dict["bymerge"])
    (['N/A', 'a', 'b'], 47)
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # letters whose upper and lower case look alike share one class in bymerge and balanced
    _merged_classes = set("cijklmopsuvwxyz")
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A", *string.ascii_lowercase],
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split: str, **kwargs):
        self.split = verify_choice(type(self).__name__, "split", split, self.splits)
        self.classes = self.classes_split_dict[split]
        super().__init__(root, **kwargs)

    def _stems(self) -> tuple[str, str]:
        prefix = f"emnist-{self.split}-{'train' if self.train else 'test'}"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _check_exists(self) -> bool:
        return all(any((self.raw_folder / (stem + suffix)).is_file()
                       for suffix in ("", *_COMPRESSED)) for stem in self._stems())

    def download(self) -> None:
        """Fetch :attr:`url` and move its ``.gz`` files into :attr:`raw_folder`."""
        if self._check_exists():
            return
        folder = _download_and_extract([self.url], self.raw_folder / self.url.rsplit("/", 1)[-1],
                                       self.md5, self.raw_folder, "gzip")
        for path in folder.glob("*.gz"):
            path.replace(self.raw_folder / path.name)
        shutil.rmtree(folder)

    def extra_repr(self) -> str:
        return f"Split: {self.split}\nTrain: {self.train}"


class QMNIST(MNIST):
    """QMNIST: MNIST's digits with the full NIST test set and extended labels.

    Reads ``root/QMNIST/raw/qmnist-{train,test}-{images-idx3-ubyte,labels-idx2-int}`` and
    ``xnist-{images-idx3-ubyte,labels-idx2-int}`` (plain, ``.gz`` or ``.xz``). Each label row
    holds 8 integers (class, NIST series, writer id, ...). Items are ``(PIL image of mode "L",
    target)`` where the target is the class (``compat=True``) or the row as an int64 tensor.

    Parameters
    ----------
    root : str or path-like
        Folder that holds the ``QMNIST`` folder.
    what : str, optional
        ``"train"``, ``"test"`` (60,000 images), ``"test10k"`` (MNIST's test images),
        ``"test50k"`` (the rest) or ``"nist"`` (all); default from ``train``.
    compat : bool
        Give the class as an int (MNIST's targets) instead of the whole label row.
    train : bool
        ``what`` is ``"train"`` or ``"test"`` when not given.
    **kwargs
        ``transform``, ``target_transform`` and ``download`` of :class:`MNIST`; ``download``
        fetches only the files of ``what`` (MD5-checked).

    Attributes
    ----------
    targets : Tensor
        int64 labels of shape (N, 8).

    Examples
    --------
    >>> from flambeau.vision.datasets import QMNIST
    >>> sorted(QMNIST.subsets)
    ['nist', 'test', 'test10k', 'test50k', 'train']
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test",
               "nist": "nist"}
    _base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    resources = {
        "train": [(_base + "qmnist-train-images-idx3-ubyte.gz",
                   "ed72d4157d28c017586c42bc6afe6370"),
                  (_base + "qmnist-train-labels-idx2-int.gz",
                   "0058f8dd561b90ffdd0f734c6a30e5e4")],
        "test": [(_base + "qmnist-test-images-idx3-ubyte.gz",
                  "1394631089c404de565df7b7aeaf9412"),
                 (_base + "qmnist-test-labels-idx2-int.gz",
                  "5b5b05890a5e13444e108efe57b788aa")],
        "nist": [(_base + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
                 (_base + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d")],
    }

    def __init__(self, root, what: str | None = None, compat: bool = True, train: bool = True,
                 **kwargs):
        if what is None:
            what = "train" if train else "test"
        self.what = verify_choice(type(self).__name__, "what", what, tuple(self.subsets))
        self.compat = compat
        super().__init__(root, train, **kwargs)

    def _stems(self) -> tuple[str, str]:
        names = [url.rsplit("/", 1)[-1] for url, _ in self.resources[self.subsets[self.what]]]
        return tuple(name.rsplit(".", 1)[0] if name.endswith(_COMPRESSED) else name
                     for name in names)

    def _load_arrays(self, label_ndim: int = 2):
        images, labels = super()._load_arrays(label_ndim)
        part = {"test10k": slice(0, 10000), "test50k": slice(10000, None)}.get(self.what)
        return (images, labels) if part is None else (images[part], labels[part])

    _check_exists = EMNIST._check_exists

    def download(self) -> None:
        """Fetch the files of :attr:`what` that are missing (MD5-checked)."""
        if self._check_exists():
            return
        for url, md5 in self.resources[self.subsets[self.what]]:
            download_file([url], self.raw_folder / url.rsplit("/", 1)[-1], md5)

    def __getitem__(self, index):
        image = Image.fromarray(self._images[index])
        row = self._labels[index]
        target = int(row[0]) if self.compat else flambeau.from_numpy(row.copy())
        return self._apply(image, target)

    def extra_repr(self) -> str:
        return f"Split: {self.what}"

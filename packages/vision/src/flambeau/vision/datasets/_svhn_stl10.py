"""SVHN (MATLAB files) and STL-10 (raw binary files) in their official layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from flambeau.vision.datasets._base import VisionDataset, verify_choice
from flambeau.vision.datasets._download import (
    _download_and_extract,
    check_integrity,
    download_file,
)

__all__ = ["SVHN", "STL10", "load_mat"]


def load_mat(path, owner: str, **options) -> dict:
    """Read a MATLAB file with SciPy, which is needed only by the data sets that use one."""
    try:
        import scipy.io
    except ImportError as exc:
        raise RuntimeError(f"{owner} reads MATLAB .mat files with SciPy, which is not "
                           "installed: pip install scipy") from exc
    try:
        return scipy.io.loadmat(path, **options)
    except (ValueError, TypeError, OSError) as exc:  # what loadmat raises for bad files
        raise RuntimeError(f"{owner}: cannot read {path}: {exc}") from exc


class SVHN(VisionDataset):
    """The Street View House Numbers: 32x32 colour crops of digits (``*_32x32.mat`` files).

    Reads ``root/{train,test,extra}_32x32.mat`` (needs SciPy). The files label the digit 0
    as 10; here it is 0, so labels lie in [0, 9]. Items are ``(PIL image of mode "RGB", int
    label)``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds the ``.mat`` files.
    split : str
        ``"train"``, ``"test"`` or ``"extra"``.
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        Fetch the split's file from :attr:`split_list` (MD5-checked) unless it is valid.

    Attributes
    ----------
    data : numpy.ndarray
        uint8 images of shape (N, 3, 32, 32).
    labels : numpy.ndarray
        int64 labels of shape (N,).

    Examples
    --------
    >>> from flambeau.vision.datasets import SVHN
    >>> SVHN.split_list["test"][1]
    'test_32x32.mat'
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split: str = "train", transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_choice(type(self).__name__, "split", split, tuple(self.split_list))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise self._not_found(f"{self.root / self.filename} is missing or has the wrong MD5")
        mat = load_mat(self.root / self.filename, type(self).__name__)
        # the file stores (32, 32, 3, N) images and (N, 1) labels
        self.data = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))
        self.labels = mat["y"].astype(np.int64).reshape(-1)
        self.labels[self.labels == 10] = 0

    def _check_integrity(self) -> bool:
        return check_integrity(self.root / self.filename, self.file_md5)

    def download(self) -> None:
        """Fetch the split's file unless it is present with the right MD5."""
        download_file([self.url], self.root / self.filename, self.file_md5)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        return self._apply(image, int(self.labels[index]))

    def extra_repr(self) -> str:
        return f"Split: {self.split}"


class STL10(VisionDataset):
    """STL-10: 96x96 colour images, 10 classes and 100,000 unlabelled images (binary files).

    Reads ``root/stl10_binary/{train,test,unlabeled}_X.bin`` (uint8, each image 3 x 96 x 96
    stored column-major), ``{train,test}_y.bin`` (labels 1..10, given here as 0..9),
    ``fold_indices.txt`` and ``class_names.txt``. Items are ``(PIL image of mode "RGB",
    label)``; unlabelled images have label -1.

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``stl10_binary``.
    split : str
        ``"train"``, ``"train+unlabeled"``, ``"unlabeled"`` or ``"test"``.
    folds : int, optional
        One of the 10 predefined 1,000-image training folds (0-9); None for all.
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        Fetch and extract the archive (MD5-checked) unless every file is valid.

    Attributes
    ----------
    data : numpy.ndarray
        uint8 images of shape (N, 3, 96, 96).
    labels : numpy.ndarray
        int64 labels of shape (N,).

    Examples
    --------
    >>> from flambeau.vision.datasets import STL10
    >>> STL10("/no/such/folder", folds=10)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: STL10: folds should be in the range [0, 10), got 10
    """

    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    class_names_file = "class_names.txt"
    folds_list_file = "fold_indices.txt"
    train_list = [
        ["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
        ["train_y.bin", "5a34089d4802c674881badbb80307741"],
        ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"],
    ]
    test_list = [["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"],
                 ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"]]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root, split: str = "train", folds: int | None = None, transform=None,
                 target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_choice(type(self).__name__, "split", split, self.splits)
        self.folds = self._verify_folds(folds)
        if download:
            self.download()
        elif not self._check_integrity():
            raise self._not_found(f"a file of {self.folder} is missing or has the wrong MD5")
        if split == "test":
            self.data, self.labels = self._load("test_X.bin"), self._load_labels("test_y.bin")
        elif split == "unlabeled":
            self.data = self._load("unlabeled_X.bin")
            self.labels = np.full(len(self.data), -1, np.int64)
        else:
            self.data, self.labels = self._load("train_X.bin"), self._load_labels("train_y.bin")
            if folds is not None:
                index = self._fold_indices(folds)
                self.data, self.labels = self.data[index], self.labels[index]
            if split == "train+unlabeled":
                unlabeled = self._load("unlabeled_X.bin")
                self.data = np.concatenate([self.data, unlabeled])
                self.labels = np.concatenate([self.labels, np.full(len(unlabeled), -1, np.int64)])
        class_file = self.folder / self.class_names_file
        if class_file.is_file():
            self.classes = class_file.read_text().splitlines()

    def _verify_folds(self, folds):
        if folds is None:
            return None
        if not isinstance(folds, int) or isinstance(folds, bool):
            raise ValueError(f"{type(self).__name__}: folds should be None or an int, got "
                             f"{type(folds).__name__}")
        if folds not in range(10):
            raise ValueError(f"{type(self).__name__}: folds should be in the range [0, 10), "
                             f"got {folds}")
        return folds

    @property
    def folder(self) -> Path:
        """``root/stl10_binary``, where the files live."""
        return self.root / self.base_folder

    def _load(self, name: str) -> np.ndarray:
        raw = np.fromfile(self.folder / name, dtype=np.uint8)
        if raw.size % (3 * 96 * 96):
            raise RuntimeError(f"{type(self).__name__}: {self.folder / name} holds {raw.size} "
                               f"bytes, not a whole number of 3x96x96 images")
        # each channel is stored column by column: swap to (C, H, W)
        return np.ascontiguousarray(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2))

    def _load_labels(self, name: str) -> np.ndarray:
        return np.fromfile(self.folder / name, dtype=np.uint8).astype(np.int64) - 1

    def _fold_indices(self, folds: int) -> np.ndarray:
        lines = (self.folder / self.folds_list_file).read_text().splitlines()
        return np.array(lines[folds].split(), dtype=np.int64)

    def _check_integrity(self) -> bool:
        return all(check_integrity(self.folder / name, md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch and extract the archive unless every file is present with the right MD5."""
        if self._check_integrity():
            return
        _download_and_extract([self.url], self.root / self.filename, self.tgz_md5, self.root,
                              self.base_folder)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        return self._apply(image, int(self.labels[index]))

    def extra_repr(self) -> str:
        return f"Split: {self.split}"

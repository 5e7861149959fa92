"""CIFAR-10 and CIFAR-100 ("python version" batches) read with an allow-list unpickler."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from flambeau.vision.datasets._base import VisionDataset
from flambeau.vision.datasets._download import check_integrity, download_file, extract_tar

__all__ = ["CIFAR10", "CIFAR100", "load_cifar_batch"]

# The only globals a CIFAR batch needs: NumPy array reconstruction (under NumPy 1's and 2's
# module names) and the codec Python 3 uses to pickle bytes at protocol 2.
_ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class _BatchUnpickler(pickle.Unpickler):
    """Refuses every global outside the allow-list, before anything is called."""

    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")  # the batches were pickled by Python 2
        self._path = path

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"{self._path}: refusing to load {module}.{name}: a CIFAR batch holds only dicts, "
            "lists, bytes and NumPy arrays"
        )

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self._path}: persistent ids are not allowed")


def _text_keys(obj):
    """Python 2 pickles give str keys and Python 3 ones may give bytes: use str."""
    if isinstance(obj, dict):
        return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    return obj


def load_cifar_batch(path) -> dict:
    """Read one CIFAR "python version" batch with an allow-list unpickler.

    Only dicts, lists, strings, bytes, numbers and NumPy arrays (not of object dtype) are
    accepted; a pickle that refers to any other global (``os.system``, ``eval``, ...) is
    refused before it runs.

    Parameters
    ----------
    path : str or path-like
        A batch file such as ``cifar-10-batches-py/data_batch_1``.

    Returns
    -------
    dict
        The batch with ``str`` keys.

    Raises
    ------
    pickle.UnpicklingError
        For a forbidden global or a malformed pickle; the message names the file.

    Examples
    --------
    >>> import pickle, tempfile, os, numpy as np
    >>> from flambeau.vision.datasets import load_cifar_batch
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     pickle.dump({b"labels": [3], b"data": np.zeros((1, 3072), np.uint8)}, f, protocol=2)
    >>> batch = load_cifar_batch(f.name)
    >>> batch["labels"], batch["data"].shape
    ([3], (1, 3072))
    >>> os.remove(f.name)
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), path).load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # truncated or garbled pickles raise many kinds of errors
        raise pickle.UnpicklingError(f"{path}: not a readable CIFAR batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise pickle.UnpicklingError(
            f"{path}: a CIFAR batch is a dict, got {type(batch).__name__}"
        )
    batch = _text_keys(batch)
    for key, value in batch.items():
        if isinstance(value, np.ndarray) and value.dtype == object:
            raise pickle.UnpicklingError(f"{path}: entry {key!r} is an object array")
    return batch


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Reads ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``, the
    layout of the official "python version" archive, with :func:`load_cifar_batch`. Items are
    ``(PIL image of mode "RGB", int label)``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``cifar-10-batches-py``.
    train : bool
        The training split (default) or the test split.
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        Fetch and extract the archive (MD5-checked) unless the batches are present and valid.

    Attributes
    ----------
    data : numpy.ndarray
        uint8 images of shape (N, 32, 32, 3).
    targets : list of int
        The labels.
    classes : list of str
        Class names from the meta file.

    Examples
    --------
    >>> from flambeau.vision.datasets import CIFAR10
    >>> CIFAR10("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RuntimeError: CIFAR10: data set not found ...
    """

    base_folder = "cifar-10-batches-py"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
        ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
        ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
        ("data_batch_4", "634d18415352ddfa80567beed471001a"),
        ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
    ]
    test_list = [("test_batch", "40351d587109b95175f43aff81a1287e")]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key = "labels"

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                f"{type(self).__name__}: data set not found or corrupt in {self.folder} "
                "(missing batch files or wrong MD5); pass download=True to download it"
            )
        data, targets = [], []
        for name, _ in self.train_list if train else self.test_list:
            batch = load_cifar_batch(self.folder / name)
            if "data" not in batch or self.label_key not in batch:
                raise RuntimeError(
                    f"{self.folder / name}: a CIFAR batch needs 'data' and {self.label_key!r}, "
                    f"got keys {sorted(batch)}"
                )
            data.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            targets.extend(int(t) for t in batch[self.label_key])
        self.data = np.ascontiguousarray(np.concatenate(data).transpose(0, 2, 3, 1))
        self.targets = targets
        if len(self.data) != len(self.targets):
            raise RuntimeError(
                f"{type(self).__name__}: {len(self.data)} images but {len(self.targets)} labels "
                f"in {self.folder}"
            )
        meta = load_cifar_batch(self.folder / self.meta["filename"])
        self.classes = [str(c) for c in meta[self.meta["key"]]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    @property
    def folder(self) -> Path:
        """``root/<base_folder>``, where the batches live."""
        return self.root / self.base_folder

    def _check_integrity(self) -> bool:
        files = [*self.train_list, *self.test_list, (self.meta["filename"], self.meta["md5"])]
        return all(check_integrity(self.folder / name, md5) for name, md5 in files)

    def download(self) -> None:
        """Fetch and extract the archive unless every batch is present with the right MD5."""
        if self._check_integrity():
            return
        archive = download_file(
            [m + self.filename for m in self.mirrors], self.root / self.filename, self.tgz_md5
        )
        extract_tar(archive, self.root, self.base_folder)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        return self._apply(Image.fromarray(self.data[index]), self.targets[index])

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 fine classes (``root/cifar-100-python``).

    See :class:`CIFAR10` for the parameters; targets are the fine labels.

    Examples
    --------
    >>> from flambeau.vision.datasets import CIFAR100
    >>> CIFAR100.base_folder
    'cifar-100-python'
    """

    base_folder = "cifar-100-python"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [("train", "16019d7e3df5f24257cddd939b257f8d")]
    test_list = [("test", "f0ef6b0ae62326f3e7ffdfab6717acfc")]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}
    label_key = "fine_labels"

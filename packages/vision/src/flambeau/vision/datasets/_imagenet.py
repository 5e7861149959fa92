"""ImageNet 2012 (ILSVRC2012) from its devkit and image archives, downloaded beforehand."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import flambeau
from flambeau.vision.datasets._base import verify_choice
from flambeau.vision.datasets._download import check_integrity, extract_tar
from flambeau.vision.datasets._folder import ImageFolder
from flambeau.vision.datasets._svhn_stl10 import load_mat

__all__ = ["ImageNet"]

ARCHIVE_META = {
    "train": ("ILSVRC2012_img_train.tar", "1d675b47d978889d74fa0da5fadfb00e"),
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}
META_FILE = "meta.bin"


class ImageNet(ImageFolder):
    """ImageNet 2012 classification: 1.28 million training and 50,000 validation images.

    ImageNet cannot be downloaded automatically: place ``ILSVRC2012_devkit_t12.tar.gz`` and
    ``ILSVRC2012_img_train.tar`` and/or ``ILSVRC2012_img_val.tar`` in ``root``. On first use
    the devkit is parsed into ``root/meta.bin`` (class names and the validation labels; needs
    SciPy) and the split's archive is unpacked into ``root/train/<wnid>/`` or
    ``root/val/<wnid>/``, an :class:`ImageFolder` layout; the archives are MD5-checked.

    Parameters
    ----------
    root : str or path-like
        Folder of the archives.
    split : str
        ``"train"`` or ``"val"``.
    **kwargs
        ``transform``, ``target_transform``, ``loader``, ... of :class:`ImageFolder`.

    Attributes
    ----------
    classes : list of tuple of str
        The names of each class (``("tench", "Tinca tinca")``), in label order.
    class_to_idx : dict
        Every class name -> label.
    wnids : list of str
        The WordNet ids, in label order; ``wnid_to_idx`` maps them to labels.

    Examples
    --------
    >>> import tempfile
    >>> from flambeau.vision.datasets import ImageNet
    >>> ImageNet(tempfile.mkdtemp())  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RuntimeError: ImageNet: the archive ILSVRC2012_devkit_t12.tar.gz is not present ...
    """

    archive_meta = ARCHIVE_META

    def __init__(self, root, split: str = "train", **kwargs):
        root = Path(root).expanduser()
        self.root = root
        self.split = verify_choice(type(self).__name__, "split", split, ("train", "val"))
        self.parse_archives()
        wnid_to_classes = self._load_meta()[0]
        super().__init__(self.split_folder, **kwargs)
        self.root = root
        self.wnids = self.classes
        self.wnid_to_idx = self.class_to_idx
        self.classes = [wnid_to_classes[wnid] for wnid in self.wnids]
        self.class_to_idx = {name: idx for idx, names in enumerate(self.classes)
                             for name in names}

    @property
    def split_folder(self) -> Path:
        """``root/train`` or ``root/val``."""
        return self.root / self.split

    def _archive(self, kind: str) -> Path:
        name, md5 = self.archive_meta[kind]
        path = self.root / name
        if not check_integrity(path, md5):
            raise RuntimeError(
                f"{type(self).__name__}: the archive {name} is not present in the root "
                f"directory or is corrupted (MD5 {md5} expected). ImageNet cannot be "
                f"downloaded automatically: download it externally and place it in {self.root}"
            )
        return path

    def _load_meta(self):
        path = self.root / META_FILE
        if not path.is_file():
            raise RuntimeError(f"{type(self).__name__}: the meta file {path} is missing; it is "
                               "written from the devkit archive on first use")
        return flambeau.load(path, weights_only=True)

    def parse_archives(self) -> None:
        """Parse the devkit into ``meta.bin`` and unpack the split's archive, where needed."""
        if not (self.root / META_FILE).is_file():
            self._parse_devkit()
        if not self.split_folder.is_dir():
            self._unpack_split(self._parse_train if self.split == "train" else self._parse_val)

    def _unpack_split(self, fill) -> None:
        """Build the split's folder in a temporary one, renamed into place once complete.

        The split's folder existing is what says it was unpacked: an error or an interrupt
        halfway (a few classes unpacked, images not yet sorted) must leave none behind.
        """
        with tempfile.TemporaryDirectory(prefix=f".{self.split}.", dir=self.root) as tmp:
            folder = Path(tmp) / self.split
            fill(folder)
            os.replace(folder, self.split_folder)

    def _parse_devkit(self) -> None:
        archive = self._archive("devkit")
        with tempfile.TemporaryDirectory(dir=self.root) as tmp:
            devkit = extract_tar(archive, tmp, "ILSVRC2012_devkit_t12")
            synsets = load_mat(devkit / "data" / "meta.mat", type(self).__name__,
                               squeeze_me=True)["synsets"]
            # leaves of the WordNet tree are the 1,000 classes; the others are categories
            leaves = synsets[synsets["num_children"] == 0]
            idx_to_wnid = {int(i): str(w) for i, w in zip(leaves["ILSVRC2012_ID"],
                                                          leaves["WNID"])}
            wnid_to_classes = {str(w): tuple(str(words).split(", "))
                               for w, words in zip(leaves["WNID"], leaves["words"])}
            truth = devkit / "data" / "ILSVRC2012_validation_ground_truth.txt"
            val_wnids = [idx_to_wnid[int(line)] for line in truth.read_text().split()]
            # written whole or not at all: its presence says the devkit was parsed
            flambeau.save((wnid_to_classes, val_wnids), Path(tmp) / META_FILE)
            os.replace(Path(tmp) / META_FILE, self.root / META_FILE)

    def _parse_train(self, folder: Path) -> None:
        # the training archive holds one tar of images per class
        extract_tar(self._archive("train"), folder, None)
        for inner in sorted(folder.glob("*.tar")):
            extract_tar(inner, folder / inner.stem, None)
            inner.unlink()

    def _parse_val(self, folder: Path) -> None:
        wnids = self._load_meta()[1]
        extract_tar(self._archive("val"), folder, None)
        images = sorted(p for p in folder.iterdir() if p.is_file())
        if len(images) != len(wnids):
            raise RuntimeError(f"{type(self).__name__}: the validation archive holds "
                               f"{len(images)} images but the devkit labels {len(wnids)}")
        for wnid in set(wnids):
            (folder / wnid).mkdir()
        for wnid, image in zip(wnids, images):
            image.replace(folder / wnid / image.name)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"

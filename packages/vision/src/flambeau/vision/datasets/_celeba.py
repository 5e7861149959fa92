"""CelebA: aligned face images with attribute, identity, box and landmark annotations."""

from __future__ import annotations

import numpy as np

import flambeau
from flambeau.vision.datasets._base import VisionDataset, verify_choice
from flambeau.vision.datasets._download import check_integrity, download_file, extract_zip
from flambeau.vision.datasets._folder import read_pil_image

__all__ = ["CelebA"]


class CelebA(VisionDataset):
    """CelebFaces Attributes: 202,599 aligned 178x218 face images of 10,177 people.

    Reads ``root/celeba/img_align_celeba/*.jpg`` and the annotation files
    ``list_eval_partition.txt``, ``list_attr_celeba.txt``, ``identity_CelebA.txt``,
    ``list_bbox_celeba.txt`` and ``list_landmarks_align_celeba.txt``. Items are
    ``(PIL image, target)``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``celeba``.
    split : str
        ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
    target_type : str or list of str
        ``"attr"`` (40 binary attributes, int64 tensor of 0/1), ``"identity"`` (0-d int64
        tensor), ``"bbox"`` (x, y, width, height) or ``"landmarks"`` (10 coordinates); a list
        gives a tuple, an empty list gives ``None``.
    transform, target_transform : callable, optional
        Applied to the image and to the target.
    download : bool
        Fetch the files of :attr:`file_list` (MD5-checked) from :attr:`url_template` and
        extract the images.

    Attributes
    ----------
    attr, identity, bbox, landmarks_align : Tensor
        int64 annotations of the split, one row per image.
    attr_names : list of str
        The 40 attribute names.
    filename : list of str
        The image files of the split.

    Examples
    --------
    >>> from flambeau.vision.datasets import CelebA
    >>> CelebA("/no/such", target_type="age")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: CelebA: unknown value 'age' for argument target_type; ...
    """

    base_folder = "celeba"
    # (Google Drive file id, MD5, file name)
    file_list = [
        ("0B7EVK8r0v71pZjFTYXZWM3FlRnM", "00d2c5bc6d35e252742224ab0c1e8fcb",
         "img_align_celeba.zip"),
        ("0B7EVK8r0v71pblRyaVFSWGxPY0U", "75e246fa4810816ffd6ee81facbd244c",
         "list_attr_celeba.txt"),
        ("1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS", "32bd1bd63d3c78cd57e08160ec5ed1e2",
         "identity_CelebA.txt"),
        ("0B7EVK8r0v71pbThiMVRxWXZ4dU0", "00566efa6fedff7a56946cd1c10f1c16",
         "list_bbox_celeba.txt"),
        ("0B7EVK8r0v71pd0FJY3Blby1HUTQ", "cc24ecafdb5b50baae59b03474781f8c",
         "list_landmarks_align_celeba.txt"),
        ("0B7EVK8r0v71pY0NSMzRuSXJEVkk", "d32c9cbf5e040fd4025c592c306e6668",
         "list_eval_partition.txt"),
    ]
    # Google Drive's direct download address (confirm=t skips the large-file warning page)
    url_template = "https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"
    _target_types = ("attr", "identity", "bbox", "landmarks")

    def __init__(self, root, split: str = "train", target_type="attr", transform=None,
                 target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        name = type(self).__name__
        self.split = split
        self.target_type = list(target_type) if isinstance(target_type, list) else [target_type]
        for t in self.target_type:
            verify_choice(name, "target_type", t, self._target_types)
        if not self.target_type and self.target_transform is not None:
            raise RuntimeError(f"{name}: target_transform is specified but target_type is empty")
        split_ = {"train": 0, "valid": 1, "test": 2, "all": None}[verify_choice(
            name, "split", split.lower() if isinstance(split, str) else split,
            ("train", "valid", "test", "all"))]
        if download:
            self.download()
        if not self._check_integrity():
            raise self._not_found(f"an annotation file or img_align_celeba/ of {self.folder} is "
                                  "missing or has the wrong MD5")
        _, names, partition = self._load_csv("list_eval_partition.txt")
        _, _, identity = self._load_csv("identity_CelebA.txt")
        _, _, bbox = self._load_csv("list_bbox_celeba.txt", header=1)
        _, _, landmarks = self._load_csv("list_landmarks_align_celeba.txt", header=1)
        attr_names, _, attr = self._load_csv("list_attr_celeba.txt", header=1)
        mask = slice(None) if split_ is None else partition[:, 0] == split_
        self.filename = names if split_ is None else [n for n, m in zip(names, mask) if m]
        self.identity = flambeau.from_numpy(np.ascontiguousarray(identity[mask]))
        self.bbox = flambeau.from_numpy(np.ascontiguousarray(bbox[mask]))
        self.landmarks_align = flambeau.from_numpy(np.ascontiguousarray(landmarks[mask]))
        # the file writes attributes as -1/1: give them as 0/1
        self.attr = flambeau.from_numpy(np.ascontiguousarray((attr[mask] + 1) // 2))
        self.attr_names = attr_names

    @property
    def folder(self):
        """``root/celeba``, where the files live."""
        return self.root / self.base_folder

    def _load_csv(self, filename: str, header: int | None = None):
        """(header names, first column, int64 array of the other columns) of a text file."""
        path = self.folder / filename
        rows = [line.split() for line in path.read_text().splitlines()]
        headers = []
        if header is not None:
            headers, rows = rows[header], rows[header + 1:]
        rows = [row for row in rows if row]
        try:
            values = np.array([row[1:] for row in rows], dtype=np.int64)
        except ValueError as exc:  # ragged rows or text where numbers belong
            raise RuntimeError(f"{type(self).__name__}: {path} is malformed: {exc}") from exc
        return headers, [row[0] for row in rows], values.reshape(len(rows), -1)

    def _check_integrity(self) -> bool:
        files_ok = all(check_integrity(self.folder / name, md5)
                       for _, md5, name in self.file_list if not name.endswith((".zip", ".7z")))
        return files_ok and (self.folder / "img_align_celeba").is_dir()

    def download(self) -> None:
        """Fetch every file of :attr:`file_list` (MD5-checked) and extract the images."""
        if self._check_integrity():
            return
        for file_id, md5, name in self.file_list:
            url = self.url_template.format(file_id=file_id, filename=name)
            download_file([url], self.folder / name, md5)
        extract_zip(self.folder / "img_align_celeba.zip", self.folder, "img_align_celeba")

    def __len__(self) -> int:
        return len(self.attr)

    def __getitem__(self, index):
        image = read_pil_image(self.folder / "img_align_celeba" / self.filename[index])
        rows = {"attr": self.attr, "identity": self.identity, "bbox": self.bbox,
                "landmarks": self.landmarks_align}
        target = [rows[t][index, 0] if t == "identity" else rows[t][index, :]
                  for t in self.target_type]
        if self.transform is not None:
            image = self.transform(image)
        if not target:
            return image, None
        target = tuple(target) if len(target) > 1 else target[0]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def extra_repr(self) -> str:
        return f"Target type: {self.target_type}\nSplit: {self.split}"

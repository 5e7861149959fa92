"""Pascal VOC (segmentation, detection: XML annotations) and COCO (JSON annotations)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from flambeau.vision.datasets._base import VisionDataset, verify_choice
from flambeau.vision.datasets._download import _download_and_extract
from flambeau.vision.datasets._folder import read_pil_image

__all__ = ["VOCSegmentation", "VOCDetection", "CocoDetection", "CocoCaptions"]

_VOC = "https://thor.robots.ox.ac.uk/pascal/VOC/"
DATASET_YEAR_DICT = {
    "2012": {"url": _VOC + "voc2012/VOCtrainval_11-May-2012.tar",
             "filename": "VOCtrainval_11-May-2012.tar",
             "md5": "6cd6e144f989b92b3379bac3b3de84fd",
             "base_dir": os.path.join("VOCdevkit", "VOC2012")},
    "2011": {"url": _VOC + "voc2011/VOCtrainval_25-May-2011.tar",
             "filename": "VOCtrainval_25-May-2011.tar",
             "md5": "6c3384ef61512963050cb5d687e5bf1e",
             "base_dir": os.path.join("TrainVal", "VOCdevkit", "VOC2011")},
    "2010": {"url": _VOC + "voc2010/VOCtrainval_03-May-2010.tar",
             "filename": "VOCtrainval_03-May-2010.tar",
             "md5": "da459979d0c395079b5c75ee67908abb",
             "base_dir": os.path.join("VOCdevkit", "VOC2010")},
    "2009": {"url": _VOC + "voc2009/VOCtrainval_11-May-2009.tar",
             "filename": "VOCtrainval_11-May-2009.tar",
             "md5": "a3e00b113cfcfebf17e343f59da3caa1",
             "base_dir": os.path.join("VOCdevkit", "VOC2009")},
    "2008": {"url": _VOC + "voc2008/VOCtrainval_14-Jul-2008.tar",
             "filename": "VOCtrainval_11-May-2012.tar",  # sic: torchvision's name for it
             "md5": "2629fa636546599198acfcfbfcf1904a",
             "base_dir": os.path.join("VOCdevkit", "VOC2008")},
    "2007": {"url": _VOC + "voc2007/VOCtrainval_06-Nov-2007.tar",
             "filename": "VOCtrainval_06-Nov-2007.tar",
             "md5": "c52e279531787c972589f7e41ab4ae64",
             "base_dir": os.path.join("VOCdevkit", "VOC2007")},
    "2007-test": {"url": _VOC + "voc2007/VOCtest_06-Nov-2007.tar",
                  "filename": "VOCtest_06-Nov-2007.tar",
                  "md5": "b6e924de25625d8de591ea690078ad9f",
                  "base_dir": os.path.join("VOCdevkit", "VOC2007")},
}


class _VOCBase(VisionDataset):
    _SPLITS_DIR: str
    _TARGET_DIR: str
    _TARGET_FILE_EXT: str
    dataset_year_dict = DATASET_YEAR_DICT

    def __init__(self, root, year: str = "2012", image_set: str = "train",
                 download: bool = False, transform=None, target_transform=None,
                 transforms=None):
        super().__init__(root, transforms=transforms, transform=transform,
                         target_transform=target_transform)
        name = type(self).__name__
        self.year = verify_choice(name, "year", year, [str(y) for y in range(2007, 2013)])
        valid_sets = ["train", "trainval", "val"] + (["test"] if year == "2007" else [])
        self.image_set = verify_choice(name, "image_set", image_set, valid_sets)
        entry = self.dataset_year_dict["2007-test" if image_set == "test" else year]
        self.url, self.filename, self.md5 = entry["url"], entry["filename"], entry["md5"]
        voc_root = self.root / entry["base_dir"]
        if download:
            # VOC 2007's train/val and test archives fill the same folder: merge, not replace
            _download_and_extract([self.url], self.root / self.filename, self.md5, self.root,
                                  entry["base_dir"], merge=True)
        if not voc_root.is_dir():
            raise self._not_found(f"no folder {voc_root}")
        split_file = voc_root / "ImageSets" / self._SPLITS_DIR / f"{image_set}.txt"
        if not split_file.is_file():
            raise self._not_found(f"no image set file {split_file}")
        names = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
        self.images = [str(voc_root / "JPEGImages" / f"{n}.jpg") for n in names]
        self.targets = [str(voc_root / self._TARGET_DIR / f"{n}{self._TARGET_FILE_EXT}")
                        for n in names]

    def __len__(self) -> int:
        return len(self.images)


class VOCSegmentation(_VOCBase):
    """Pascal VOC semantic segmentation: images and their class masks (palette PNGs).

    Reads ``root/VOCdevkit/VOC<year>/`` (``TrainVal/VOCdevkit/VOC2011`` for 2011):
    ``ImageSets/Segmentation/<image_set>.txt``, ``JPEGImages/<id>.jpg`` and
    ``SegmentationClass/<id>.png``. Items are ``(RGB PIL image, PIL mask)``; the mask keeps
    its palette mode, so its values are class indices (255 on borders).

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``VOCdevkit``.
    year : str
        ``"2007"`` to ``"2012"``.
    image_set : str
        ``"train"``, ``"trainval"`` or ``"val"`` (and ``"test"`` for 2007).
    download : bool
        Fetch and extract the year's archive (MD5-checked).
    transform, target_transform, transforms : callable, optional
        Applied to the image, to the mask, or to both together.

    Examples
    --------
    >>> from flambeau.vision.datasets import VOCSegmentation
    >>> VOCSegmentation("/no/such", year="2013")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: VOCSegmentation: unknown value '2013' for argument year; ...
    """

    _SPLITS_DIR = "Segmentation"
    _TARGET_DIR = "SegmentationClass"
    _TARGET_FILE_EXT = ".png"

    @property
    def masks(self) -> list:
        """The mask files, one per image."""
        return self.targets

    def __getitem__(self, index):
        image = read_pil_image(self.images[index], "RGB")
        return self._apply(image, read_pil_image(self.masks[index]))


class VOCDetection(_VOCBase):
    """Pascal VOC object detection: images and their annotations as nested dicts.

    Reads ``ImageSets/Main/<image_set>.txt``, ``JPEGImages/<id>.jpg`` and
    ``Annotations/<id>.xml`` under ``root/VOCdevkit/VOC<year>``. The target is the XML tree
    as :meth:`parse_voc_xml` gives it: ``{"annotation": {"filename": ..., "size": {...},
    "object": [{"name": ..., "bndbox": {"xmin": ...}, ...}, ...]}}`` (strings, as in the
    file; ``object`` is always a list).

    The parameters are :class:`VOCSegmentation`'s; the transforms see the target dict.

    Examples
    --------
    >>> from xml.etree import ElementTree
    >>> from flambeau.vision.datasets import VOCDetection
    >>> xml = "<annotation><object><name>dog</name></object></annotation>"
    >>> VOCDetection.parse_voc_xml(ElementTree.fromstring(xml))
    {'annotation': {'object': [{'name': 'dog'}]}}
    """

    _SPLITS_DIR = "Main"
    _TARGET_DIR = "Annotations"
    _TARGET_FILE_EXT = ".xml"

    @property
    def annotations(self) -> list:
        """The annotation files, one per image."""
        return self.targets

    def __getitem__(self, index):
        image = read_pil_image(self.images[index], "RGB")
        try:
            root = ElementTree.parse(self.annotations[index]).getroot()
        except ElementTree.ParseError as exc:
            raise RuntimeError(f"{type(self).__name__}: cannot parse "
                               f"{self.annotations[index]}: {exc}") from exc
        return self._apply(image, self.parse_voc_xml(root))

    @staticmethod
    def parse_voc_xml(node) -> dict:
        """An XML element as nested dicts: ``{tag: text}`` for leaves, children grouped by tag.

        A tag that occurs several times among siblings gives a list; ``object`` under
        ``annotation`` is always a list. An empty leaf element is left out.

        Examples
        --------
        >>> from xml.etree import ElementTree
        >>> from flambeau.vision.datasets import VOCDetection
        >>> node = ElementTree.fromstring("<size><width>5</width><depth>3</depth></size>")
        >>> VOCDetection.parse_voc_xml(node)
        {'size': {'width': '5', 'depth': '3'}}
        """
        children = list(node)
        if not children:
            return {} if node.text is None else {node.tag: node.text.strip()}
        grouped = defaultdict(list)
        for child in children:
            for tag, value in VOCDetection.parse_voc_xml(child).items():
                grouped[tag].append(value)
        if node.tag == "annotation":
            grouped["object"] = [grouped["object"]]
        return {node.tag: {tag: v[0] if len(v) == 1 else v for tag, v in grouped.items()}}


class _CocoIndex:
    """The look-ups of pycocotools' ``COCO`` that the data sets use, from the JSON alone."""

    def __init__(self, annotation_file):
        path = Path(annotation_file)
        try:
            self.dataset = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RuntimeError(f"cannot read COCO annotations {path}: {exc}") from exc
        if not isinstance(self.dataset, dict) or "images" not in self.dataset:
            raise RuntimeError(f"{path} is not a COCO annotation file: no 'images' list")
        self.imgs = {img["id"]: img for img in self.dataset["images"]}
        self.anns = {ann["id"]: ann for ann in self.dataset.get("annotations", [])}
        self.cats = {cat["id"]: cat for cat in self.dataset.get("categories", [])}
        self.imgToAnns = defaultdict(list)
        for ann in self.dataset.get("annotations", []):
            self.imgToAnns[ann["image_id"]].append(ann)

    def loadImgs(self, ids):  # noqa: N802 (pycocotools' name)
        return [self.imgs[i] for i in (ids if isinstance(ids, list) else [ids])]

    def getAnnIds(self, imgIds):  # noqa: N802, N803
        ids = imgIds if isinstance(imgIds, list) else [imgIds]
        return [ann["id"] for i in ids for ann in self.imgToAnns.get(i, [])]

    def loadAnns(self, ids):  # noqa: N802
        return [self.anns[i] for i in (ids if isinstance(ids, list) else [ids])]


class CocoDetection(VisionDataset):
    """MS COCO detection: images and their annotation dicts, from the JSON file alone.

    Reads an annotation file such as ``annotations/instances_train2017.json`` with the
    standard library (no pycocotools); images are ``root/<file_name>``. Items are ``(RGB PIL
    image, list of annotation dicts)``, the dicts as in the file (``bbox``, ``category_id``,
    ``segmentation``, ...), in file order; images are sorted by id.

    Parameters
    ----------
    root : str or path-like
        Folder of the images (``train2017``).
    annFile : str or path-like
        The JSON annotation file.
    transform, target_transform, transforms : callable, optional
        Applied to the image, to the target, or to both together.

    Attributes
    ----------
    coco
        The index of the file: ``dataset``, ``imgs``, ``anns``, ``cats``, ``imgToAnns``,
        ``loadImgs``, ``getAnnIds``, ``loadAnns`` as pycocotools names them.
    ids : list of int
        The image ids, sorted.

    Examples
    --------
    >>> import json, tempfile, os
    >>> from flambeau.vision.datasets import CocoDetection
    >>> path = os.path.join(tempfile.mkdtemp(), "ann.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"images": [{"id": 7, "file_name": "a.jpg"}], "annotations": []}, f)
    >>> ds = CocoDetection("/images", path)
    >>> len(ds), ds.ids
    (1, [7])
    """

    def __init__(self, root, annFile, transform=None, target_transform=None,  # noqa: N803
                 transforms=None):
        super().__init__(root, transforms=transforms, transform=transform,
                         target_transform=target_transform)
        self.coco = _CocoIndex(annFile)
        self.ids = sorted(self.coco.imgs)

    def _load_image(self, id: int):
        return read_pil_image(self.root / self.coco.loadImgs(id)[0]["file_name"], "RGB")

    def _load_target(self, id: int) -> list:
        return self.coco.loadAnns(self.coco.getAnnIds(id))

    def __getitem__(self, index):
        if not isinstance(index, int):
            raise ValueError(f"{type(self).__name__}: Index must be of type integer, got "
                             f"{type(index)} instead.")
        id = self.ids[index]
        return self._apply(self._load_image(id), self._load_target(id))

    def __len__(self) -> int:
        return len(self.ids)


class CocoCaptions(CocoDetection):
    """MS COCO captions: images and their caption strings (``captions_*.json``).

    As :class:`CocoDetection`; the target is the list of the image's captions.

    Examples
    --------
    >>> import json, tempfile, os
    >>> from flambeau.vision.datasets import CocoCaptions
    >>> path = os.path.join(tempfile.mkdtemp(), "captions.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [
    ...         {"id": 3, "image_id": 1, "caption": "A cat."}]}, f)
    >>> CocoCaptions("/images", path)._load_target(1)
    ['A cat.']
    """

    def _load_target(self, id: int) -> list:
        return [ann["caption"] for ann in super()._load_target(id)]

"""Oxford 102 Flowers and Oxford-IIIT Pet in the layouts of their official archives."""

from __future__ import annotations

import numpy as np

from flambeau.vision.datasets._base import VisionDataset, verify_choice
from flambeau.vision.datasets._download import (
    _download_and_extract,
    check_integrity,
    download_file,
)
from flambeau.vision.datasets._folder import default_loader, read_pil_image
from flambeau.vision.datasets._svhn_stl10 import load_mat

__all__ = ["Flowers102", "OxfordIIITPet"]


class Flowers102(VisionDataset):
    """Oxford 102 Flowers: 8,189 images of 102 flower categories common in the UK.

    Reads ``root/flowers-102/jpg/image_XXXXX.jpg``, ``imagelabels.mat`` and ``setid.mat``
    (needs SciPy). Items are ``(loader(path), int label)`` with labels in [0, 101].

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``flowers-102``.
    split : str
        ``"train"``, ``"val"`` or ``"test"``.
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        Fetch the image archive and the two ``.mat`` files (MD5-checked) unless present.
    loader : callable
        Reads an image from its path (:func:`default_loader`: an RGB PIL image).

    Examples
    --------
    >>> from flambeau.vision.datasets import Flowers102
    >>> len(Flowers102.classes), Flowers102.classes[0]
    (102, 'pink primrose')
    """

    _download_url_prefix = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
    _file_dict = {
        "image": ("102flowers.tgz", "52808999861908f626f3c1f4e79d11fa"),
        "label": ("imagelabels.mat", "e0620be6f572b9609742df49c70aed4d"),
        "setid": ("setid.mat", "a5357ecc9cb78c4bef273ce3793fc85c"),
    }
    _splits_map = {"train": "trnid", "val": "valid", "test": "tstid"}

    def __init__(self, root, split: str = "train", transform=None, target_transform=None,
                 download: bool = False, loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_choice(type(self).__name__, "split", split, tuple(self._splits_map))
        self._base_folder = self.root / "flowers-102"
        self._images_folder = self._base_folder / "jpg"
        if download:
            self.download()
        if not self._check_integrity():
            raise self._not_found(f"{self._images_folder} or a .mat file of "
                                  f"{self._base_folder} is missing or has the wrong MD5")
        name = type(self).__name__
        image_ids = np.atleast_1d(load_mat(self._base_folder / self._file_dict["setid"][0],
                                           name, squeeze_me=True)[self._splits_map[split]])
        labels = np.atleast_1d(load_mat(self._base_folder / self._file_dict["label"][0], name,
                                        squeeze_me=True)["labels"])
        # image ids and labels are 1-based
        self._labels = [int(labels[i - 1]) - 1 for i in image_ids.tolist()]
        self._image_files = [self._images_folder / f"image_{i:05d}.jpg"
                             for i in image_ids.tolist()]
        self.loader = loader

    def _check_integrity(self) -> bool:
        return self._images_folder.is_dir() and all(
            check_integrity(self._base_folder / self._file_dict[key][0], self._file_dict[key][1])
            for key in ("label", "setid"))

    def download(self) -> None:
        """Fetch and extract the images and fetch the ``.mat`` files unless all are valid."""
        if self._check_integrity():
            return
        name, md5 = self._file_dict["image"]
        _download_and_extract([self._download_url_prefix + name], self._base_folder / name, md5,
                              self._base_folder, "jpg")
        for key in ("label", "setid"):
            name, md5 = self._file_dict[key]
            download_file([self._download_url_prefix + name], self._base_folder / name, md5)

    def __len__(self) -> int:
        return len(self._image_files)

    def __getitem__(self, idx):
        return self._apply(self.loader(self._image_files[idx]), self._labels[idx])

    def extra_repr(self) -> str:
        return f"split={self._split}"

    classes = [
        "pink primrose", "hard-leaved pocket orchid", "canterbury bells", "sweet pea",
        "english marigold", "tiger lily", "moon orchid", "bird of paradise", "monkshood",
        "globe thistle", "snapdragon", "colt's foot", "king protea", "spear thistle",
        "yellow iris", "globe-flower", "purple coneflower", "peruvian lily", "balloon flower",
        "giant white arum lily", "fire lily", "pincushion flower", "fritillary", "red ginger",
        "grape hyacinth", "corn poppy", "prince of wales feathers", "stemless gentian",
        "artichoke", "sweet william", "carnation", "garden phlox", "love in the mist",
        "mexican aster", "alpine sea holly", "ruby-lipped cattleya", "cape flower",
        "great masterwort", "siam tulip", "lenten rose", "barbeton daisy", "daffodil",
        "sword lily", "poinsettia", "bolero deep blue", "wallflower", "marigold", "buttercup",
        "oxeye daisy", "common dandelion", "petunia", "wild pansy", "primula", "sunflower",
        "pelargonium", "bishop of llandaff", "gaura", "geranium", "orange dahlia",
        "pink-yellow dahlia?", "cautleya spicata", "japanese anemone", "black-eyed susan",
        "silverbush", "californian poppy", "osteospermum", "spring crocus", "bearded iris",
        "windflower", "tree poppy", "gazania", "azalea", "water lily", "rose", "thorn apple",
        "morning glory", "passion flower", "lotus", "toad lily", "anthurium", "frangipani",
        "clematis", "hibiscus", "columbine", "desert-rose", "tree mallow", "magnolia", "cyclamen",
        "watercress", "canna lily", "hippeastrum", "bee balm", "ball moss", "foxglove",
        "bougainvillea", "camellia", "mallow", "mexican petunia", "bromelia", "blanket flower",
        "trumpet creeper", "blackberry lily",
    ]  # fmt: skip


class OxfordIIITPet(VisionDataset):
    """Oxford-IIIT Pet: 7,349 images of 37 cat and dog breeds, with trimap segmentations.

    Reads ``root/oxford-iiit-pet/images/<id>.jpg``, ``annotations/{trainval,test}.txt``
    (``<id> <class 1..37> <species 1..2> <breed id>`` per line) and
    ``annotations/trimaps/<id>.png``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds ``oxford-iiit-pet``.
    split : str
        ``"trainval"`` or ``"test"``.
    target_types : str or sequence of str
        ``"category"`` (int in [0, 36]), ``"binary-category"`` (0 cat, 1 dog) and/or
        ``"segmentation"`` (the trimap as a PIL image); several give a tuple, none gives
        ``None``.
    transforms, transform, target_transform : callable, optional
        Applied to ``(image, target)``, to the image and to the target.
    download : bool
        Fetch and extract the two archives (MD5-checked) unless their folders exist.

    Examples
    --------
    >>> from flambeau.vision.datasets import OxfordIIITPet
    >>> OxfordIIITPet("/no/such", target_types="mask")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: OxfordIIITPet: unknown value 'mask' for argument target_types; ...
    """

    _RESOURCES = (
        ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
         "5c4f3ee8e5d25df40f4fd59a7f44e54c"),
        ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
         "95a8c909bbe2e81eed6a22bccdf3f68f"),
    )
    _VALID_TARGET_TYPES = ("category", "binary-category", "segmentation")

    def __init__(self, root, split: str = "trainval", target_types="category", transforms=None,
                 transform=None, target_transform=None, download: bool = False):
        name = type(self).__name__
        self._split = verify_choice(name, "split", split, ("trainval", "test"))
        if isinstance(target_types, str):
            target_types = [target_types]
        self._target_types = [verify_choice(name, "target_types", t, self._VALID_TARGET_TYPES)
                              for t in target_types]
        super().__init__(root, transforms=transforms, transform=transform,
                         target_transform=target_transform)
        self._base_folder = self.root / "oxford-iiit-pet"
        self._images_folder = self._base_folder / "images"
        self._anns_folder = self._base_folder / "annotations"
        self._segs_folder = self._anns_folder / "trimaps"
        if download:
            self._download()
        if not self._check_exists():
            raise self._not_found(f"no images and annotations folders in {self._base_folder}")
        image_ids, self._labels, self._bin_labels = [], [], []
        for line in (self._anns_folder / f"{split}.txt").read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            image_id, label, bin_label, _ = line.split()
            image_ids.append(image_id)
            self._labels.append(int(label) - 1)
            self._bin_labels.append(int(bin_label) - 1)
        self.bin_classes = ["Cat", "Dog"]
        # "american_pit_bull_terrier_12" -> "American Pit Bull Terrier", in label order
        breeds = sorted({(label, image_id.rsplit("_", 1)[0])
                         for image_id, label in zip(image_ids, self._labels)})
        self.classes = [" ".join(part.title() for part in raw.split("_")) for _, raw in breeds]
        self.bin_class_to_idx = {c: i for i, c in enumerate(self.bin_classes)}
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self._images = [self._images_folder / f"{i}.jpg" for i in image_ids]
        self._segs = [self._segs_folder / f"{i}.png" for i in image_ids]

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, idx):
        image = read_pil_image(self._images[idx], "RGB")
        target = []
        for target_type in self._target_types:
            if target_type == "category":
                target.append(self._labels[idx])
            elif target_type == "binary-category":
                target.append(self._bin_labels[idx])
            else:
                target.append(read_pil_image(self._segs[idx]))
        target = None if not target else target[0] if len(target) == 1 else tuple(target)
        return self._apply(image, target)

    def _check_exists(self) -> bool:
        return self._images_folder.is_dir() and self._anns_folder.is_dir()

    def _download(self) -> None:
        if self._check_exists():
            return
        for url, md5 in self._RESOURCES:
            name = url.rsplit("/", 1)[-1]
            _download_and_extract([url], self._base_folder / name, md5, self._base_folder,
                                  name.split(".", 1)[0])

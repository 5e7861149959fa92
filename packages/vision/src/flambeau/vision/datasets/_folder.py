"""DatasetFolder and ImageFolder: one sub-folder per class."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from flambeau.vision.datasets._base import VisionDataset

__all__ = [
    "DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "pil_loader", "default_loader",
    "find_classes", "make_dataset", "has_file_allowed_extension",
]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions) -> bool:
    """Whether ``filename`` ends with one of ``extensions`` (case-insensitive).

    Examples
    --------
    >>> from flambeau.vision.datasets import has_file_allowed_extension
    >>> has_file_allowed_extension("cat.PNG", (".png", ".jpg"))
    True
    """
    exts = (extensions,) if isinstance(extensions, str) else tuple(extensions)
    return str(filename).lower().endswith(tuple(e.lower() for e in exts))


def pil_loader(path):
    """Open an image file with Pillow and convert it to RGB.

    Raises
    ------
    OSError
        When the file is missing or not a readable image; the message names the file.

    Examples
    --------
    >>> from flambeau.vision.datasets import pil_loader
    >>> pil_loader("/no/such.png")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    OSError: cannot read image file '/no/such.png': ...
    """
    return read_pil_image(path, "RGB")


def read_pil_image(path, mode: str | None = None):
    """The loaded image at ``path``, converted to ``mode`` when given (masks keep theirs)."""
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            if mode is None:
                image.load()
                return image
            return image.convert(mode)
    except OSError as exc:  # UnidentifiedImageError and truncated files are OSErrors too
        raise OSError(f"cannot read image file {str(path)!r}: {exc}") from exc


def default_loader(path):
    """The loader of :class:`ImageFolder`: the image at ``path`` as an RGB PIL image.

    flambeau reads images with Pillow only (torchvision's ``accimage`` backend does not
    exist here), so this is :func:`pil_loader`.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> from flambeau.vision.datasets import default_loader
    >>> path = os.path.join(tempfile.mkdtemp(), "gray.png")
    >>> Image.new("L", (3, 2)).save(path)
    >>> image = default_loader(path)
    >>> image.mode, image.size
    ('RGB', (3, 2))
    """
    return pil_loader(path)


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """The sorted sub-folder names of ``directory`` and their indices.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flambeau.vision.datasets import find_classes
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "dog").mkdir(); (d / "cat").mkdir()
    >>> find_classes(d)
    (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"data set folder not found: {directory}")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"couldn't find any class folder in {directory}")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """The ``(path, class_index)`` samples of a one-folder-per-class tree, sorted.

    Exactly one of ``extensions`` and ``is_valid_file`` selects the files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flambeau.vision.datasets import make_dataset
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a").mkdir(); (d / "a" / "x.png").touch(); (d / "a" / "y.txt").touch()
    >>> [(pathlib.Path(p).name, c) for p, c in make_dataset(d, {"a": 0}, (".png",))]
    [('x.png', 0)]
    """
    directory = Path(directory).expanduser()
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("make_dataset: pass exactly one of extensions and is_valid_file")
    if is_valid_file is None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)

    samples, found = [], set()
    for name in sorted(class_to_idx):
        index = class_to_idx[name]
        folder = directory / name
        if not folder.is_dir():
            continue
        for dirpath, _, filenames in sorted(os.walk(folder, followlinks=True)):
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                if is_valid_file(path):
                    samples.append((path, index))
                    found.add(name)
    empty = sorted(set(class_to_idx) - found)
    if empty and not allow_empty:
        message = f"found no valid file for the classes {', '.join(empty)} in {directory}"
        if extensions is not None:
            exts = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f"; supported extensions are: {exts}"
        raise FileNotFoundError(message)
    return samples


class DatasetFolder(VisionDataset):
    """Samples arranged one folder per class: ``root/<class>/**/<file>``.

    Parameters
    ----------
    root : str or path-like
        The top folder.
    loader : callable
        Reads a sample from its path.
    extensions : tuple of str, optional
        Accepted file endings; exclusive with ``is_valid_file``.
    transform, target_transform : callable, optional
        Applied to the sample and to the class index.
    is_valid_file : callable, optional
        Takes a path and says whether to keep the file.
    allow_empty : bool
        Accept class folders without valid files.

    Attributes
    ----------
    classes : list of str
    class_to_idx : dict
    samples : list of (str, int)
    targets : list of int

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from flambeau.vision.datasets import DatasetFolder
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a").mkdir(); _ = (d / "a" / "x.txt").write_text("hello")
    >>> ds = DatasetFolder(d, loader=lambda p: open(p).read(), extensions=(".txt",))
    >>> ds[0], ds.classes
    (('hello', 0), ['a'])
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file,
                                         allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.targets = [s[1] for s in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty: bool = False):
        """See :func:`make_dataset`; override to change how samples are found."""
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        """See :func:`find_classes`; override to change how classes are found."""
        return find_classes(directory)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)


class ImageFolder(DatasetFolder):
    """Images arranged one folder per class, read with Pillow as RGB.

    Same parameters as :class:`DatasetFolder` with ``loader=default_loader`` and
    ``extensions=IMG_EXTENSIONS`` unless ``is_valid_file`` is given. An unreadable image
    raises an ``OSError`` naming the file when it is loaded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from flambeau.vision.datasets import ImageFolder
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "red").mkdir()
    >>> Image.new("RGB", (4, 3), (255, 0, 0)).save(d / "red" / "r.png")
    >>> image, label = ImageFolder(d)[0]
    >>> image.size, label
    ((4, 3), 0)
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty: bool = False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples

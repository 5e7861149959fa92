"""The base class of the vision data sets: root folder, transforms and a helpful repr."""

from __future__ import annotations

from pathlib import Path

from flambeau.data import Dataset

__all__ = ["VisionDataset"]


def verify_choice(owner: str, arg: str, value, valid) -> str:
    """``value`` when it is one of ``valid``; otherwise a ValueError naming them all."""
    valid = tuple(valid)
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{owner}: unknown value {value!r} for argument {arg}; valid values "
                         f"are {', '.join(map(repr, valid))}")
    return value


class VisionDataset(Dataset):
    """Base class of the data sets in :mod:`flambeau.vision.datasets`.

    Parameters
    ----------
    root : str or path-like or None
        Folder that holds the data set's files (``None`` for data sets without files).
    transforms : callable, optional
        Takes ``(image, target)`` and returns both transformed; exclusive with the two below.
    transform : callable, optional
        Applied to the image.
    target_transform : callable, optional
        Applied to the target.

    Examples
    --------
    >>> from flambeau.vision.datasets import FakeData, VisionDataset
    >>> ds = FakeData(size=4, image_size=(1, 2, 2))
    >>> isinstance(ds, VisionDataset), len(ds)
    (True, 4)
    """

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        self.root = None if root is None else Path(root).expanduser()
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError(
                f"{type(self).__name__}: pass either transforms or transform/target_transform, "
                "not both"
            )
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = transforms

    def _apply(self, image, target):
        if self.transforms is not None:
            return self.transforms(image, target)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _not_found(self, detail: str) -> RuntimeError:
        """The error of a missing or corrupt data set: what is wrong and how to fix it."""
        return RuntimeError(f"{type(self).__name__}: data set not found or corrupt: {detail}; "
                            "pass download=True to download it")

    def extra_repr(self) -> str:
        """Lines added to the repr by subclasses."""
        return ""

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [line for line in self.extra_repr().splitlines() if line]
        for name in ("transforms", "transform", "target_transform"):
            value = getattr(self, name)
            if value is not None:
                text = repr(value).replace("\n", "\n    ")
                lines.append(f"{name.replace('_', ' ').capitalize()}: {text}")
        body = "\n    ".join(lines)
        return f"Dataset {type(self).__name__}\n    {body}"

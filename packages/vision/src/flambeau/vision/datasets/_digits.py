"""Digits: scikit-learn's 8x8 handwritten digits (offline) as an MNIST-like data set."""

from __future__ import annotations

import numpy as np
from PIL import Image

import flambeau
from flambeau.vision.datasets._base import VisionDataset

__all__ = ["Digits"]

_SPLIT_SEED = 0
_N_TRAIN = 1437  # 80% of the 1,797 images


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "Digits needs scikit-learn, which ships the data set: "
            'pip install "flambeau-vision[digits]"'
        ) from exc
    return load_digits()


class Digits(VisionDataset):
    """The 1,797 8x8 handwritten digits that scikit-learn ships, with a train/test split.

    Works offline. Pixel values 0..16 are scaled to 0..255 (``round(v * 255 / 16)``), so
    items look like MNIST's: ``(PIL image of mode "L" and size 8x8, int label)``. The split
    is a fixed permutation (NumPy ``default_rng(0)``): its first 1,437 images (80%) are the
    training split and the other 360 the test split, identical on every machine.

    Needs the ``digits`` extra: ``pip install "flambeau-vision[digits]"`` (scikit-learn).

    Parameters
    ----------
    root : ignored
        Accepted so that every data set takes the same arguments.
    train : bool
        The training split (default) or the test split.
    transform, target_transform : callable, optional
    download : ignored
        The data ship with scikit-learn.

    Attributes
    ----------
    data : Tensor
        uint8 images of shape (N, 8, 8).
    targets : Tensor
        int64 labels of shape (N,).

    Examples
    --------
    >>> from flambeau.vision.datasets import Digits
    >>> train, test = Digits(train=True), Digits(train=False)
    >>> len(train), len(test)
    (1437, 360)
    >>> image, label = train[0]
    >>> image.size, image.mode, isinstance(label, int)
    ((8, 8), 'L', True)
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        bunch = _load_digits()
        order = np.random.default_rng(_SPLIT_SEED).permutation(len(bunch.target))
        index = order[:_N_TRAIN] if train else order[_N_TRAIN:]
        scaled = np.rint(bunch.images[index] * (255.0 / 16.0))
        self._images = np.ascontiguousarray(scaled.astype(np.uint8))
        self._labels = bunch.target[index].astype(np.int64)
        self.data = flambeau.from_numpy(self._images)
        self.targets = flambeau.from_numpy(self._labels)

    @property
    def class_to_idx(self) -> dict:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index):
        return self._apply(Image.fromarray(self._images[index]), int(self._labels[index]))

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

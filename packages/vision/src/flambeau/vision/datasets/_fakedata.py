"""FakeData: random images, the same ones for the same index."""

from __future__ import annotations

import flambeau
from flambeau.vision.datasets._base import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """Random PIL images with random labels, for tests and benchmarks.

    Item ``i`` is drawn from a private generator seeded with ``i + random_offset``, so it is
    the same on every access and the global random state is left untouched.

    Parameters
    ----------
    size : int
        Number of items.
    image_size : tuple of int
        ``(C, H, W)`` with C = 1 (mode "L") or 3 (mode "RGB").
    num_classes : int
        Labels are drawn from ``range(num_classes)``.
    transform, target_transform : callable, optional
    random_offset : int
        Shifts the per-item seeds, giving a different data set of the same kind.

    Examples
    --------
    >>> from flambeau.vision.datasets import FakeData
    >>> ds = FakeData(size=3, image_size=(3, 4, 5), num_classes=2)
    >>> image, label = ds[1]
    >>> image.size, image.mode, label in (0, 1)
    ((5, 4), 'RGB', True)
    >>> ds[1][0].tobytes() == image.tobytes()
    True
    """

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform=None, target_transform=None, random_offset: int = 0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        if len(image_size) != 3 or image_size[0] not in (1, 3):
            raise ValueError(f"FakeData: image_size must be (C, H, W) with C in (1, 3), "
                             f"got {tuple(image_size)}")
        self.size = int(size)
        self.image_size = tuple(int(s) for s in image_size)
        self.num_classes = int(num_classes)
        self.random_offset = int(random_offset)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        from flambeau.vision.transforms.functional import to_pil_image

        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData: index {index} out of range for size {self.size}")
        index %= self.size
        gen = flambeau.Generator().manual_seed(index + self.random_offset)
        image = flambeau.randn(*self.image_size, generator=gen)
        target = int(flambeau.randint(0, self.num_classes, (1,), generator=gen).item())
        return self._apply(to_pil_image(image), target)

"""DataLoader throughput: flambeau.data vs torch.utils.data on an MNIST-sized map dataset.

60,000 random 1x28x28 float32 samples, each normalized on access ((x - 0.5) / 0.5) and paired
with an int label; batch 64; one epoch (worker start-up included) at num_workers 0 and 2.
Both sides run the same dataset logic on their own tensors.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["run"]

N, BATCH = 60_000, 64
TARGET = "≥ 1.0x torch samples/s"


def _data():
    rng = np.random.default_rng(0)
    return rng.random((N, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, N).tolist()


def _epoch_seconds(loader):
    start = time.perf_counter()
    seen = 0
    for images, _labels in loader:
        seen += images.shape[0]
    assert seen == N, seen
    return time.perf_counter() - start


def _best_interleaved(loaders, repeat=3):
    """Best epoch time of each loader, alternating them so load swings hit both alike."""
    best = [float("inf")] * len(loaders)
    for _ in range(repeat):
        for k, loader in enumerate(loaders):
            best[k] = min(best[k], _epoch_seconds(loader))
    return best


def _flambeau_loader(images, labels, workers):
    import flambeau
    from flambeau.data import DataLoader, Dataset

    class Normalized(Dataset):
        def __init__(self):
            self.images = flambeau.tensor(images)
            self.labels = labels

        def __len__(self):
            return N

        def __getitem__(self, i):
            return (self.images[i] - 0.5) / 0.5, self.labels[i]

    return DataLoader(Normalized(), batch_size=BATCH, num_workers=workers)


def _torch_loader(images, labels, workers):
    import torch
    from torch.utils.data import DataLoader, Dataset

    class Normalized(Dataset):
        def __init__(self):
            self.images = torch.from_numpy(images)
            self.labels = labels

        def __len__(self):
            return N

        def __getitem__(self, i):
            return (self.images[i] - 0.5) / 0.5, self.labels[i]

    return DataLoader(Normalized(), batch_size=BATCH, num_workers=workers)


def run() -> list[dict]:
    images, labels = _data()
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    rows = []
    for workers in (0, 2):
        loaders = [_flambeau_loader(images, labels, workers)]
        if have_torch:
            loaders.append(_torch_loader(images, labels, workers))
        ours, theirs = (_best_interleaved(loaders) + [None])[:2]
        rows.append({"name": f"DataLoader 60k 1x28x28 normalize, batch 64, workers={workers}",
                     "flambeau_s": ours, "torch_s": theirs, "target": TARGET})
    return rows

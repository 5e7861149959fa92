"""flambeau-nn: a LeNet-style CNN training step (forward + backward) against PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _timing import best_of, versus_torch, with_nn

BATCH = 64


def _step(mod):
    """One forward+backward of the LeNet-style CNN of ``mod`` (flambeau or torch)."""
    nn, F = mod.nn, mod.nn.functional
    mod.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, BATCH))

    def run():
        for p in model.parameters():
            p.grad = None
        loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
        loss.backward()

    return run


def measure(framework: str) -> float:
    """Best time of one step with ``framework`` ("flambeau" or "torch"), in this process."""
    return best_of(_step(with_nn(framework)), repeat=10)


def run():
    name = f"nn: LeNet-style CNN fwd+bwd (batch {BATCH}, 1x28x28)"
    return [versus_torch(Path(__file__).stem, name, ">= 0.6x torch")]

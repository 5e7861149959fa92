"""flambeau-nn: a LeNet-style CNN training step (forward + backward) against PyTorch."""

from __future__ import annotations

import numpy as np
from _timing import best_of

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


def run():
    import flambeau
    import flambeau.nn  # noqa: F401 - a subpackage, imported for its side effect on flambeau

    try:
        import torch
    except ImportError:
        torch = None
    return [{
        "name": f"nn: LeNet-style CNN fwd+bwd (batch {BATCH}, 1x28x28)",
        "flambeau_s": best_of(_step(flambeau), repeat=10),
        "torch_s": best_of(_step(torch), repeat=10) if torch else None,
        "target": ">= 0.6x torch",
    }]  # fmt: skip

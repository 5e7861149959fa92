"""flambeau-nn: an MLP 784-256-10 training step (forward, backward, SGD) against PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _timing import best_of, versus_torch, with_nn

BATCH = 128
LR = 0.01


def _step(mod):
    """One forward + backward + manual SGD update of the MLP of ``mod`` (flambeau or torch)."""
    nn, F = mod.nn, mod.nn.functional
    mod.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    params = list(model.parameters())
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((BATCH, 784), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, BATCH))

    def run():
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with mod.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)

    return run


def measure(framework: str) -> float:
    """Best time of one step with ``framework`` ("flambeau" or "torch"), in this process."""
    return best_of(_step(with_nn(framework)), repeat=200, warmup=5)


def run():
    name = f"nn: MLP 784-256-10 fwd+bwd+SGD (batch {BATCH})"
    return [versus_torch(Path(__file__).stem, name, ">= 0.9x torch")]

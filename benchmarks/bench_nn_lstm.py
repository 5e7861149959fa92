"""flambeau-nn: an LSTM layer forward + backward against PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _timing import best_of, versus_torch, with_nn

SEQ, BATCH, INPUT, HIDDEN = 35, 32, 32, 128


def _step(mod):
    """One forward+backward of a one-layer LSTM of ``mod`` (flambeau or torch)."""
    mod.manual_seed(0)
    lstm = mod.nn.LSTM(INPUT, HIDDEN)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((SEQ, BATCH, INPUT), dtype=np.float32))

    def run():
        for p in lstm.parameters():
            p.grad = None
        out, _ = lstm(x)
        out.sum().backward()

    return run


def measure(framework: str) -> float:
    """Best time of one step with ``framework`` ("flambeau" or "torch"), in this process."""
    return best_of(_step(with_nn(framework)), repeat=10)


def run():
    name = f"nn: LSTM fwd+bwd (input {INPUT}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})"
    return [versus_torch(Path(__file__).stem, name, ">= 0.7x torch")]

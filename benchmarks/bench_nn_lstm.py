"""flambeau-nn: an LSTM layer forward + backward against PyTorch."""

from __future__ import annotations

import numpy as np
from _timing import best_of

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


def run():
    import flambeau
    import flambeau.nn  # noqa: F401 - a subpackage, imported for its side effect on flambeau

    try:
        import torch
    except ImportError:
        torch = None
    return [{
        "name": f"nn: LSTM fwd+bwd (input {INPUT}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})",
        "flambeau_s": best_of(_step(flambeau), repeat=10),
        "torch_s": best_of(_step(torch), repeat=10) if torch else None,
        "target": ">= 0.7x torch",
    }]  # fmt: skip

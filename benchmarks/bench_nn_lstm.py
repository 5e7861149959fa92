"""flambeau-nn: an LSTM layer forward + backward against PyTorch."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
from _timing import alternating, best_of, has_torch

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
    mod = importlib.import_module(framework)
    importlib.import_module(f"{framework}.nn")
    return best_of(_step(mod), repeat=10)


def run():
    module = Path(__file__).stem
    calls = {"flambeau": f"{module}.measure('flambeau')"}
    if has_torch():
        calls["torch"] = f"{module}.measure('torch')"
    best = alternating(calls)
    return [{
        "name": f"nn: LSTM fwd+bwd (input {INPUT}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})",
        "flambeau_s": best["flambeau"],
        "torch_s": best.get("torch"),
        "target": ">= 0.7x torch",
    }]  # fmt: skip

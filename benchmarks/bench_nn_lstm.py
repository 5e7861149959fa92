"""flambeau-nn: LSTM and GRU layers forward + backward against PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _timing import best_of, versus_torch, with_nn

SEQ, BATCH, INPUT, HIDDEN = 35, 32, 32, 128


def _step(mod, kind):
    """One forward+backward of a one-layer ``kind`` ("LSTM" or "GRU") of ``mod``."""
    mod.manual_seed(0)
    rnn = getattr(mod.nn, kind)(INPUT, HIDDEN)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((SEQ, BATCH, INPUT), dtype=np.float32))

    def run():
        for p in rnn.parameters():
            p.grad = None
        out, _ = rnn(x)
        out.sum().backward()

    return run


def measure(framework: str, kind: str = "LSTM") -> float:
    """Best time of one step with ``framework`` ("flambeau" or "torch"), in this process."""
    return best_of(_step(with_nn(framework), kind), repeat=10)


def run():
    shape = f"(input {INPUT}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH})"
    module = Path(__file__).stem
    return [versus_torch(module, f"nn: LSTM fwd+bwd {shape}", ">= 0.7x torch"),
            versus_torch(module, f"nn: GRU fwd+bwd {shape}", "", "'GRU'")]

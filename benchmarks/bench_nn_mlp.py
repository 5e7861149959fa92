"""flambeau-nn: an MLP 784-256-10 training step (forward, backward, SGD) against PyTorch."""

from __future__ import annotations

import numpy as np
from _timing import best_of

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


def _interleaved_best(fns, repeat):
    """Best single-call time of each of ``fns``, alternating calls so that both see the same
    load on a shared machine (timing one after the other skews the ratio by minutes of drift).
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_of(fn, repeat=1, warmup=0))
    return best


def run():
    import flambeau
    import flambeau.nn  # noqa: F401 - a subpackage, imported for its side effect on flambeau

    try:
        import torch
    except ImportError:
        torch = None
    fns = [_step(flambeau)] + ([_step(torch)] if torch else [])
    for fn in fns:
        fn()  # warm up: allocator pools, lazy imports
    times = _interleaved_best(fns, repeat=200)
    return [{
        "name": f"nn: MLP 784-256-10 fwd+bwd+SGD (batch {BATCH})",
        "flambeau_s": times[0],
        "torch_s": times[1] if torch else None,
        "target": ">= 0.9x torch",
    }]  # fmt: skip

"""One optimizer step over 100 parameter tensors holding 10 M float32 values in total.

flambeau updates each parameter in place with ``out=`` ufuncs (no per-step allocation);
PyTorch runs its multi-tensor ``foreach`` implementation (``foreach=True``) and, on a second
row, its default (which on CPU is the per-tensor loop).
"""

from __future__ import annotations

import numpy as np
from _timing import best_of

N_TENSORS = 100
TOTAL = 10_000_000
TARGET = "<= 1.3x torch time (ratio >= 0.77)"

CONFIGS = [
    ("Adam", dict(lr=1e-3)),
    ("SGD", dict(lr=1e-3, momentum=0.9)),
]


def _arrays(seed):
    rng = np.random.default_rng(seed)
    size = TOTAL // N_TENSORS
    return [rng.standard_normal(size, dtype=np.float32) for _ in range(N_TENSORS)]


def _flambeau_step(name, kwargs):
    import flambeau
    from flambeau import optim

    params = [flambeau.tensor(a, requires_grad=True) for a in _arrays(0)]
    for p, g in zip(params, _arrays(1), strict=True):
        p.grad = flambeau.tensor(g)
    return getattr(optim, name)(params, **kwargs).step


def _torch_step(name, kwargs, foreach):
    import torch

    params = [torch.tensor(a, requires_grad=True) for a in _arrays(0)]
    for p, g in zip(params, _arrays(1), strict=True):
        p.grad = torch.from_numpy(g)
    return getattr(torch.optim, name)(params, foreach=foreach, **kwargs).step


def run() -> list[dict]:
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False
    rows = []
    for name, kwargs in CONFIGS:
        label = f"{name}{'(momentum=0.9)' if name == 'SGD' else ''} step, 100 tensors / 10M f32"
        ours = best_of(_flambeau_step(name, kwargs), repeat=7, warmup=2)
        for foreach, tag in ((True, "torch foreach"), (None, "torch default")):
            theirs = best_of(_torch_step(name, kwargs, foreach), repeat=7, warmup=2) \
                if has_torch else None
            rows.append(dict(name=f"{label} vs {tag}", flambeau_s=ours, torch_s=theirs,
                             target=TARGET))
    return rows

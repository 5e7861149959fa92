"""One optimizer step over 100 parameter tensors holding 10 M float32 values in total.

flambeau updates each parameter in place with ``out=`` ufuncs (no per-step allocation);
PyTorch runs its multi-tensor ``foreach`` implementation (``foreach=True``) and, on a second
row, its default (which on CPU is the per-tensor loop).
"""

from __future__ import annotations

import numpy as np
from _timing import alternating, best_of, has_torch

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


def measure(name: str, framework: str, foreach=None) -> float:
    """Best time of one ``name`` step with ``framework`` (torch: ``foreach`` as given)."""
    kwargs = dict(CONFIGS)[name]
    if framework == "flambeau":
        return best_of(_flambeau_step(name, kwargs), repeat=7, warmup=2)
    return best_of(_torch_step(name, kwargs, foreach), repeat=7, warmup=2)


def run() -> list[dict]:
    rows = []
    for name, _ in CONFIGS:
        label = f"{name}{'(momentum=0.9)' if name == 'SGD' else ''} step, 100 tensors / 10M f32"
        calls = {"flambeau": f"bench_optim.measure({name!r}, 'flambeau')"}
        if has_torch():
            calls["torch foreach"] = f"bench_optim.measure({name!r}, 'torch', True)"
            calls["torch default"] = f"bench_optim.measure({name!r}, 'torch', None)"
        best = alternating(calls)
        for tag in ("torch foreach", "torch default"):
            rows.append(dict(name=f"{label} vs {tag}", flambeau_s=best["flambeau"],
                             torch_s=best.get(tag), target=TARGET))
    return rows

"""Helpers of the flambeau-optim tests: a fixed start and objective fed to both libraries."""

import numpy as np

SHAPES = [(3, 4), (5,)]


def make_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def quad_grads(arrays, step):
    """Gradients of a fixed non-quadratic objective (same for both libraries at same params)."""
    out = []
    for i, a in enumerate(arrays):
        coef = 1.0 + 0.5 * i
        out.append(coef * a + 0.3 * np.sin(3 * a) + 0.05 * np.cos(step + np.arange(a.size))
                   .reshape(a.shape))
    return out

"""What the programs share: weights and data drawn from NumPy with a fixed seed, so that a
program run on torch and the same program run on flambeau start from the same numbers.
Plain PyTorch code, ported with the programs."""

import numpy as np
import torch


def init_from_numpy(model, seed=0):
    """Redraw every randomly initialised parameter of ``model`` from NumPy: uniform in
    +-1/sqrt(fan_in), as nn.Linear does. A parameter whose values are all equal (a norm's
    weight of ones, a bias of zeros) was initialised the same way by both frameworks and
    is left alone; a one-element parameter is always redrawn."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() > 1 and p.min() == p.max():
                continue
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            bound = 1.0 / np.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape))))
    return model


def blobs(n, shape, classes, seed=0):
    """``n`` float32 samples of ``shape`` around one random centre per class, and int64
    labels: a small problem that a few steps of training make progress on."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, *shape))
    labels = rng.integers(0, classes, size=n)
    x = centres[labels] + 0.5 * rng.normal(size=(n, *shape))
    return x.astype(np.float32), labels.astype(np.int64)


def without_key_bias(state_dict):
    """``state_dict`` with the key third of each attention's ``in_proj_bias`` left out. The
    key bias shifts all attention scores of a query by the same amount, which softmax
    ignores: its gradient is float32 rounding noise, which Adam turns into steps of size lr,
    different in any two implementations. Nothing else depends on it."""
    state_dict = dict(state_dict)
    for name in [k for k in state_dict if k.endswith("in_proj_bias")]:
        query, key, value = state_dict[name].chunk(3)
        state_dict[name] = torch.cat([query, value])
    return state_dict

"""Parity helpers shared by part B's test files: copy torch weights, run both, compare."""

from __future__ import annotations

import numpy as np

import flambeau


def load_from_torch(fmod, tmod):
    """Load ``tmod``'s state into ``fmod`` through state_dict (keys must be identical)."""
    state = {k: flambeau.tensor(v.detach().cpu().numpy()) for k, v in tmod.state_dict().items()}
    assert list(state) == list(fmod.state_dict()), (list(state), list(fmod.state_dict()))
    fmod.load_state_dict(state)


def close(a, b, atol=1e-6, rtol=1e-5):
    """Assert flambeau/torch tensors (or arrays) are equal within tolerance, NaNs included."""
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True)


def pair(array, requires_grad=True):
    """The same float64 data as a flambeau tensor and a torch tensor."""
    import torch

    array = np.asarray(array, dtype=np.float64)
    return (flambeau.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def check_op(f_fn, t_fn, *arrays, seed=0, atol=1e-6):
    """Run ``f_fn``/``t_fn`` on the same inputs; compare outputs and input gradients.

    Only the first output is differentiated (others, such as indices, are compared).
    """
    fs, ts = zip(*(pair(a) for a in arrays))
    fo, to = f_fn(*fs), t_fn(*ts)
    if isinstance(to, tuple):
        for a, b in zip(fo[1:], to[1:]):
            np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
        fo, to = fo[0], to[0]
    close(fo, to, atol=atol)
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape))
    import torch

    fo.backward(flambeau.tensor(g))
    to.backward(torch.tensor(g))
    for f, t in zip(fs, ts):
        close(f.grad, t.grad, atol=atol)


def check_module(fmod, tmod, *arrays, call=None, atol=1e-6):
    """Copy weights torch -> flambeau, compare outputs, input and parameter gradients."""
    import torch

    tmod = tmod.double()
    fmod = fmod.double()
    load_from_torch(fmod, tmod)
    fs, ts = zip(*(pair(a) for a in arrays))
    call = call or (lambda m, *xs: m(*xs))
    fo, to = call(fmod, *fs), call(tmod, *ts)
    fo = fo[0] if isinstance(fo, tuple) else fo
    to = to[0] if isinstance(to, tuple) else to
    close(fo, to, atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(to.shape))
    fo.backward(flambeau.tensor(g))
    to.backward(torch.tensor(g))
    for f, t in zip(fs, ts):
        close(f.grad, t.grad, atol=atol)
    tparams = dict(tmod.named_parameters())
    for name, p in fmod.named_parameters():
        close(p.grad, tparams[name].grad, atol=atol)


def randn(*shape, seed=0, requires_grad=True):
    """A float64 flambeau tensor of normal draws (for gradcheck)."""
    data = np.random.default_rng(seed).standard_normal(shape)
    return flambeau.tensor(data, requires_grad=requires_grad)

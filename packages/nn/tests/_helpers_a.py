"""Parity helpers shared by part A's test files: flambeau module vs torch module."""

from __future__ import annotations

import numpy as np

import flambeau


def to_torch(t, requires_grad=False):
    import torch

    out = torch.tensor(np.array(t.detach().cpu().numpy()))
    return out.requires_grad_(requires_grad)


def load_into_torch(fmod, tmod):
    """Copy ``fmod``'s state into ``tmod`` strictly (so keys and shapes must match torch's)."""
    import torch

    state = {k: torch.tensor(np.array(v.cpu().numpy())) for k, v in fmod.state_dict().items()}
    tmod.load_state_dict(state, strict=True)
    for k, v in tmod.state_dict().items():
        assert tuple(v.shape) == tuple(fmod.state_dict()[k].shape), k


def assert_close(a, b, atol=1e-5, rtol=1e-4, what=""):
    a = a.detach().cpu().numpy() if isinstance(a, flambeau.Tensor) else a
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               atol=atol, rtol=rtol, err_msg=what)


def compare_module(fmod, tmod, *inputs, atol=1e-5, rtol=1e-4, seed=0, grad_inputs=True):
    """Same weights, same inputs: outputs, input grads, parameter grads and buffers agree."""
    import torch

    load_into_torch(fmod, tmod)
    f_in = [x.detach().requires_grad_(grad_inputs and x.is_floating_point()) for x in inputs]
    t_in = [to_torch(x, grad_inputs and x.is_floating_point()) for x in inputs]
    f_out = fmod(*f_in)
    t_out = tmod(*t_in)
    assert tuple(f_out.shape) == tuple(t_out.shape)
    assert_close(f_out, t_out, atol, rtol, "output")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(tuple(f_out.shape)).astype(f_out.numpy(force=True).dtype)
    f_out.backward(flambeau.tensor(g))
    t_out.backward(torch.tensor(g))
    for fx, tx in zip(f_in, t_in):
        if tx.requires_grad:
            assert_close(fx.grad, tx.grad, atol, rtol, "input grad")
    t_params = dict(tmod.named_parameters())
    for name, p in fmod.named_parameters():
        tp = t_params[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.cpu().numpy().any(), name
        else:
            assert_close(p.grad, tp.grad, atol, rtol, f"grad of {name}")
    t_bufs = dict(tmod.named_buffers())
    for name, b in fmod.named_buffers():
        assert_close(b.cpu().numpy().astype(np.float64),
                     t_bufs[name].cpu().numpy().astype(np.float64),
                     atol, rtol, f"buffer {name}")
    return f_out, t_out

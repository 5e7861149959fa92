"""Losses, pooling, bags and bias gradients of float16/bfloat16 tensors sum in float32, as
torch's: summed in bfloat16, 4096 gradients of 1 make 256 and a cross entropy over 4096
classes is off by 1."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((8, 4096)).astype(np.float32)
CLASSES = RNG.integers(0, 4096, 8)
PROBS = np.abs(RNG.standard_normal((8, 4096))).astype(np.float32)
PROBS /= PROBS.sum(1, keepdims=True)

LOSSES = {
    "cross_entropy": lambda m, x, dt: m.nn.functional.cross_entropy(x, m.tensor(CLASSES)),
    "cross_entropy_weighted": lambda m, x, dt: m.nn.functional.cross_entropy(
        x, m.tensor(CLASSES), weight=m.ones(4096).to(dt)),
    "cross_entropy_probs": lambda m, x, dt: m.nn.functional.cross_entropy(
        x, m.tensor(PROBS).to(dt)),
    "nll_loss_sum": lambda m, x, dt: m.nn.functional.nll_loss(
        x.log_softmax(1), m.tensor(CLASSES), reduction="sum"),
    "mse_loss": lambda m, x, dt: m.nn.functional.mse_loss(x, x.detach() * 0),
    "mse_loss_sum": lambda m, x, dt: m.nn.functional.mse_loss(x, x.detach() * 0,
                                                              reduction="sum"),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_half_losses_match_torch(dtype, name):
    torch = pytest.importorskip("torch")
    fx = flambeau.tensor(LOGITS).to(getattr(flambeau, dtype)).requires_grad_()
    tx = torch.tensor(LOGITS).to(getattr(torch, dtype)).requires_grad_()
    fl = LOSSES[name](flambeau, fx, getattr(flambeau, dtype))
    tl = LOSSES[name](torch, tx, getattr(torch, dtype))
    fl.backward()
    tl.backward()
    assert fl.dtype == getattr(flambeau, dtype)
    tol = 2 ** -7 if dtype == "bfloat16" else 2 ** -10  # about one rounding
    np.testing.assert_allclose(fl.float().item(), tl.float().item(), rtol=tol)
    np.testing.assert_allclose(fx.grad.float().cpu().numpy(), tx.grad.float().numpy(), rtol=tol,
                               atol=1e-4)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_linear_bias_gradient_sums_in_float32(dtype):
    lin = nn.Linear(4, 3).to(getattr(flambeau, dtype))
    lin(flambeau.ones(4096, 4).to(getattr(flambeau, dtype))).sum().backward()
    assert lin.bias.grad.tolist() == [4096.0] * 3
    assert lin.bias.grad.dtype == getattr(flambeau, dtype)


def test_float32_losses_unchanged():
    x = flambeau.tensor(LOGITS, requires_grad=True)
    loss = F.mse_loss(x, flambeau.zeros_like(x))
    np.testing.assert_allclose(loss.item(), float((LOGITS.astype(np.float64) ** 2).mean()),
                               rtol=1e-6)


POOLS = {
    "avg_pool1d": lambda m, x: m.nn.functional.avg_pool1d(x[None], 512),
    "avg_pool2d": lambda m, x: m.nn.functional.avg_pool2d(x.reshape(1, 8, 64, 64), 32),
    "adaptive_avg_pool1d": lambda m, x: m.nn.functional.adaptive_avg_pool1d(x[None], 2),
    "embedding_bag_sum": lambda m, x: m.nn.functional.embedding_bag(
        m.tensor(np.arange(512).reshape(1, 512) % 8), x, mode="sum"),
    "embedding_bag_mean": lambda m, x: m.nn.functional.embedding_bag(
        m.tensor(np.arange(512).reshape(1, 512) % 8), x, mode="mean"),
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(POOLS))
def test_half_pooling_and_bags_match_torch(dtype, name):
    torch = pytest.importorskip("torch")
    values = np.abs(LOGITS) + 1  # positive: sums grow past the half types' integer range
    fx = flambeau.tensor(values).to(getattr(flambeau, dtype))
    tx = torch.tensor(values).to(getattr(torch, dtype))
    got, want = POOLS[name](flambeau, fx), POOLS[name](torch, tx)
    assert got.dtype == getattr(flambeau, dtype) and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.float().cpu().numpy(), want.float().cpu().numpy(),
                               rtol=2 ** -7 if dtype == "bfloat16" else 2 ** -10)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "poisson_nll_loss"])
def test_float16_mean_losses_divide_before_rounding(loss):
    """Summed errors past float16's largest value still give a finite mean."""
    x = flambeau.full((100000,), 3.0, dtype=flambeau.float16, requires_grad=True)
    value = getattr(F, loss)(x, flambeau.zeros_like(x))
    want = {"mse_loss": 9.0, "l1_loss": 3.0, "poisson_nll_loss": float(np.exp(np.float16(3)))}
    assert value.dtype == flambeau.float16
    np.testing.assert_allclose(float(value), want[loss], rtol=1e-3)


ACTIVATIONS = ["gelu", "silu", "mish", "softplus", "elu", "selu", "hardswish", "logsigmoid",
               "sigmoid", "tanh", "tanhshrink", "softsign"]


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_half_activations_are_as_accurate_as_torchs(dtype, name):
    """Activations of two-byte floats compute (forward and gradient) in float32 and round
    once, as torch's: against float32 results for the same rounded inputs, flambeau's error
    is no larger than torch's own (the float16 GELU gradient was 6x torch's, from the rounded
    output it divides by)."""
    torch = pytest.importorskip("torch")
    values = np.concatenate([RNG.standard_normal(4096).astype(np.float32) * 3,
                             np.float32([-3, 3, 0, -20, 20])])
    fn = getattr(torch.nn.functional, name, None) or getattr(torch, name)
    ref = torch.tensor(values).to(getattr(torch, dtype)).float().requires_grad_()
    fn(ref).sum().backward()
    theirs = torch.tensor(values).to(getattr(torch, dtype)).requires_grad_()
    t_out = fn(theirs)
    t_out.float().sum().backward()
    ours = flambeau.tensor(values).to(getattr(flambeau, dtype)).requires_grad_()
    f_out = getattr(F, name)(ours)
    f_out.float().sum().backward()
    assert f_out.dtype == getattr(flambeau, dtype)
    eps = 2.0 ** -8 if dtype == "bfloat16" else 2.0 ** -11
    for got, torch_half, exact in ((f_out, t_out, fn(ref)), (ours.grad, theirs.grad, ref.grad)):
        exact = exact.detach().double().cpu().numpy()
        scale = np.abs(exact).max()
        err = np.abs(got.detach().double().cpu().numpy() - exact).max() / scale
        torch_err = np.abs(torch_half.detach().double().cpu().numpy() - exact).max() / scale
        assert err <= max(1.5 * torch_err, eps)

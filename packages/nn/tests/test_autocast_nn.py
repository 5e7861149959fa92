"""Autocast reaches the nn layers: matmul-like layers in low precision, losses/norms in fp32."""

import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn


def _device_type():
    """Autocast the device the tests' tensors live on (the CPU unless FLAMBEAU_TEST_DEVICE)."""
    return flambeau.get_default_device().type


@pytest.mark.parametrize("dtype", [flambeau.bfloat16, flambeau.float16])
def test_layer_output_dtypes_under_autocast(dtype):
    flambeau.manual_seed(0)
    lin, conv, ct = nn.Linear(4, 3), nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 3)
    ln = nn.LayerNorm(3)
    with flambeau.autocast(_device_type(), dtype=dtype):
        y = lin(flambeau.randn(2, 4))
        c = conv(flambeau.randn(1, 1, 6, 6))
        d = ct(c)
        q = flambeau.randn(1, 2, 4, 8)
        att = F.scaled_dot_product_attention(q, q, q)
        loss = F.cross_entropy(y, flambeau.tensor([0, 2]))
        mse = F.mse_loss(y, flambeau.zeros(2, 3))
        normed = ln(y)
    assert (y.dtype, c.dtype, d.dtype, att.dtype) == (dtype,) * 4
    assert (loss.dtype, mse.dtype, normed.dtype) == (flambeau.float32,) * 3


def test_gradients_reach_float32_parameters_in_their_dtype():
    flambeau.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
    with flambeau.autocast(_device_type()):
        loss = F.cross_entropy(model(flambeau.randn(2, 1, 4, 4)), flambeau.tensor([0, 1]))
    loss.backward()
    for p in model.parameters():
        assert p.grad is not None and p.grad.dtype is flambeau.float32
        assert bool(p.grad.isfinite().all())


def test_disabled_region_keeps_float32():
    lin = nn.Linear(4, 3)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        with flambeau.autocast(_device_type(), enabled=False):
            assert lin(flambeau.randn(2, 4)).dtype is flambeau.float32
        assert lin(flambeau.randn(2, 4)).dtype is flambeau.bfloat16


def test_regression_losses_warn_when_broadcasting_changes_the_loss():
    out, target = flambeau.zeros(4, 1), flambeau.ones(4)
    for loss in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.warns(UserWarning, match=r"target size \(4,\) that is different to the "
                                             r"input size \(4, 1\)"):
            value = loss(out, target)
        assert value.item() > 0  # computed over the broadcast (4, 4), as in PyTorch
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(out, target.unsqueeze(1))  # same shapes: no warning


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_runs_in_float32_under_autocast(mode):
    # torch's CPU float32 list has the upsampling ops; our linear modes' internal matrix
    # products must not be lowered either
    x = flambeau.randn(1, 2, 4, 4)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype is flambeau.float32
        assert F.interpolate(x.bfloat16(), size=(5, 3), mode=mode).dtype is flambeau.float32
    ref = F.interpolate(x, scale_factor=2, mode=mode)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        assert flambeau.equal(F.interpolate(x, scale_factor=2, mode=mode), ref)

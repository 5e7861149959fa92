"""Layers of flambeau.vision.ops: values by formula and hand-built references."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.vision import models, ops


def test_conv_norm_activation_is_one_definition_shared_with_models():
    assert models.Conv2dNormActivation is ops.Conv2dNormActivation
    from flambeau.vision.models import _layers
    assert _layers.SqueezeExcitation is ops.SqueezeExcitation
    assert _layers.StochasticDepth is ops.StochasticDepth


def test_conv_norm_activation_layers_and_padding():
    block = ops.Conv2dNormActivation(3, 8, kernel_size=(3, 5), dilation=(1, 2), bias=True)
    conv, norm, act = block
    assert conv.padding == (1, 4) and conv.bias is not None
    assert isinstance(norm, nn.BatchNorm2d) and isinstance(act, nn.ReLU) and act.inplace
    assert block.out_channels == 8
    plain = ops.Conv2dNormActivation(3, 8, 5, norm_layer=None, activation_layer=None)
    assert len(plain) == 1 and plain[0].padding == (2, 2) and plain[0].bias is not None
    three = ops.Conv3dNormActivation(2, 4, kernel_size=3, stride=2, inplace=None)
    assert [type(m) for m in three] == [nn.Conv3d, nn.BatchNorm3d, nn.ReLU]
    assert three[0].bias is None and not three[2].inplace
    x = flambeau.randn(1, 2, 5, 6, 7)
    ref = flambeau.relu(three[1](three[0](x)))
    np.testing.assert_allclose(three(x).detach().cpu().numpy(), ref.detach().cpu().numpy())


def test_squeeze_excitation_value():
    se = ops.SqueezeExcitation(4, 2)
    x = flambeau.randn(2, 4, 3, 3)
    pooled = x.cpu().numpy().mean(axis=(2, 3))
    w1, b1 = se.fc1.weight.detach().cpu().numpy()[:, :, 0, 0], se.fc1.bias.detach().cpu().numpy()
    w2, b2 = se.fc2.weight.detach().cpu().numpy()[:, :, 0, 0], se.fc2.bias.detach().cpu().numpy()
    gate = 1 / (1 + np.exp(-(np.maximum(pooled @ w1.T + b1, 0) @ w2.T + b2)))
    np.testing.assert_allclose(se(x).detach().cpu().numpy(),
                               gate[:, :, None, None] * x.cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_mlp_layers_and_value():
    mlp = ops.MLP(4, [6, 5, 3], norm_layer=nn.LayerNorm, activation_layer=nn.SiLU,
                  inplace=False, bias=False, dropout=0.25)
    names = [type(m).__name__ for m in mlp]
    assert names == ["Linear", "LayerNorm", "SiLU", "Dropout"] * 2 + ["Linear", "Dropout"]
    assert all(m.bias is None for m in mlp if isinstance(m, nn.Linear))
    assert all(m.p == 0.25 and m.inplace is False for m in mlp if isinstance(m, nn.Dropout))
    plain = ops.MLP(3, [2]).eval()
    x = flambeau.randn(4, 3)
    ref = x.cpu().numpy() @ plain[0].weight.detach().cpu().numpy().T
    ref = ref + plain[0].bias.detach().cpu().numpy()
    np.testing.assert_allclose(plain(x).detach().cpu().numpy(), ref, rtol=1e-5, atol=1e-6)


def test_permute():
    x = flambeau.arange(24.0).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(ops.Permute([0, 2, 3, 1])(x).cpu().numpy(),
                                  x.cpu().numpy().transpose(0, 2, 3, 1))


def test_frozen_batch_norm():
    bn = nn.BatchNorm2d(3)
    rng = np.random.default_rng(0)
    with flambeau.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean):
            t.copy_(flambeau.tensor(rng.normal(size=3), dtype=flambeau.float32))
        bn.running_var.copy_(flambeau.tensor(rng.uniform(0.5, 2, size=3), dtype=flambeau.float32))
    frozen = ops.FrozenBatchNorm2d(3)
    frozen.load_state_dict(bn.state_dict())  # num_batches_tracked is dropped, strict passes
    assert list(frozen.parameters()) == []
    x = flambeau.randn(2, 3, 4, 4)
    frozen.train()  # statistics stay frozen in training mode too
    np.testing.assert_allclose(frozen(x).cpu().numpy(), bn.eval()(x).detach().cpu().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(ops.FrozenBatchNorm2d(5, eps=0.1)) == "FrozenBatchNorm2d(5, eps=0.1)"
    assert sorted(frozen.state_dict()) == ["bias", "running_mean", "running_var", "weight"]


def test_stochastic_depth():
    x = flambeau.ones(2000, 3)
    out = ops.stochastic_depth(x, 0.3, "row").cpu().numpy()
    assert np.all(np.isclose(out, 0.0) | np.isclose(out, 1 / 0.7))
    assert (out == out[:, :1]).all()
    assert 0.25 < (out[:, 0] == 0).mean() < 0.35
    assert len(np.unique(ops.stochastic_depth(x, 0.5, "batch").cpu().numpy())) == 1
    assert (ops.stochastic_depth(x, 1.0, "row").cpu().numpy() == 0).all()
    assert ops.stochastic_depth(x, 0.3, "row", training=False) is x
    with pytest.raises(ValueError, match="stochastic_depth: drop probability has to be between "
                                         "0 and 1, but got -0.1"):
        ops.stochastic_depth(x, -0.1, "row")
    with pytest.raises(ValueError, match="stochastic_depth: mode has to be either 'batch' or "
                                         "'row', but got 'col'"):
        ops.stochastic_depth(x, 0.1, "col")
    layer = ops.StochasticDepth(0.4, "row")
    flambeau.manual_seed(3)
    a = layer(x)
    flambeau.manual_seed(3)
    np.testing.assert_array_equal(a.cpu().numpy(),
                                  ops.stochastic_depth(x, 0.4, "row").cpu().numpy())
    assert layer.eval()(x) is x and repr(layer) == "StochasticDepth(p=0.4, mode=row)"


def test_drop_block2d_matches_block_reference():
    n, c, h, w, bs, p = 2, 3, 9, 8, 3, 0.3
    x = flambeau.tensor(np.random.default_rng(1).normal(size=(n, c, h, w)))
    flambeau.manual_seed(7)
    out = ops.drop_block2d(x, p, bs).cpu().numpy()
    gamma = p * h * w / (bs ** 2 * (h - bs + 1) * (w - bs + 1))
    flambeau.manual_seed(7)
    seeds = flambeau.empty((n, c, h - bs + 1, w - bs + 1), dtype=x.dtype).bernoulli_(gamma)
    seeds = seeds.cpu().numpy()
    keep = np.ones((n, c, h, w))
    for idx in zip(*np.nonzero(seeds)):  # each seed zeroes the block whose corner it is
        a, b, i, j = idx
        keep[a, b, i:i + bs, j:j + bs] = 0
    assert 0 < keep.sum() < keep.size
    ref = x.cpu().numpy() * keep * keep.size / (1e-6 + keep.sum())
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_drop_block2d_modes_and_errors():
    x = flambeau.randn(1, 2, 6, 6)
    assert ops.drop_block2d(x, 0.5, 3, training=False) is x
    assert ops.drop_block2d(x, 0.0, 3) is x
    y = x.clone()
    out = ops.drop_block2d(y, 0.5, 3, inplace=True)
    assert out is y
    layer = ops.DropBlock2d(0.2, 5)
    assert layer.eval()(x) is x and repr(layer) == "DropBlock2d(p=0.2, block_size=5, inplace=False)"
    # the gradient is the kept mask times the rescaling: the output itself for an input of ones
    ones = flambeau.ones(1, 1, 7, 7, dtype=flambeau.float64, requires_grad=True)
    dropped = ops.drop_block2d(ones, 0.3, 3)
    dropped.sum().backward()
    np.testing.assert_allclose(ones.grad.cpu().numpy(), dropped.detach().cpu().numpy())
    with pytest.raises(ValueError, match="drop_block2d: drop probability has to be between 0 and "
                                         "1, but got 1.5"):
        ops.drop_block2d(x, 1.5, 3)
    with pytest.raises(ValueError, match=r"drop_block2d: input should be 4 dimensional "
                                         r"\(N, C, H, W\), got shape \(2, 6, 6\)"):
        ops.drop_block2d(x[0], 0.1, 3)
    with pytest.raises(ValueError, match="drop_block2d: block size should be odd. Got 4 which "
                                         "is even."):
        ops.drop_block2d(x, 0.1, 4)

"""MobileNetV3, DenseNet, ...: torchvision's parameter counts, state_dict keys and shapes,
train/eval behaviour and a forward+backward on a tiny input."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.vision import models
from flambeau.vision.models._layers import StochasticDepth

# name: (torchvision's parameter count with 1000 classes, number of state_dict entries,
#        a sample of torchvision's state_dict keys with their shapes)
TORCHVISION = {
    "mobilenet_v3_large": (5_483_032, 312, {
        "features.0.0.weight": (16, 3, 3, 3),
        "features.0.1.weight": (16,),
        "features.6.block.1.0.weight": (120, 1, 5, 5),
        "features.9.block.0.0.weight": (184, 80, 1, 1),
        "features.11.block.3.0.weight": (112, 480, 1, 1),
        "features.4.block.2.fc1.weight": (24, 72, 1, 1),
        "classifier.0.bias": (1280,),
        "classifier.3.bias": (1000,),
    }),
    "mobilenet_v3_small": (2_542_856, 244, {
        "features.0.0.weight": (16, 3, 3, 3),
        "features.1.block.1.fc2.bias": (16,),
        "features.5.block.0.1.weight": (240,),
        "features.6.block.3.1.running_var": (40,),
        "features.8.block.3.0.weight": (48, 144, 1, 1),
        "classifier.0.bias": (1024,),
        "classifier.3.bias": (1000,),
    }),
    "densenet121": (7_978_856, 727, {
        "features.conv0.weight": (64, 3, 7, 7),
        "features.norm0.weight": (64,),
        "features.denseblock3.denselayer1.norm2.running_mean": (128,),
        "features.denseblock3.denselayer11.norm2.running_var": (128,),
        "features.denseblock3.denselayer21.norm2.num_batches_tracked": (),
        "features.transition1.conv.weight": (128, 256, 1, 1),
        "features.norm5.num_batches_tracked": (),
        "classifier.bias": (1000,),
    }),
    "densenet161": (28_681_000, 967, {
        "features.conv0.weight": (96, 3, 7, 7),
        "features.denseblock3.denselayer8.norm1.num_batches_tracked": (),
        "features.denseblock3.denselayer21.norm2.running_var": (192,),
        "features.denseblock3.denselayer35.norm1.running_mean": (2016,),
        "classifier.bias": (1000,),
    }),
    "densenet169": (14_149_480, 1015, {
        "features.conv0.weight": (64, 3, 7, 7),
        "features.denseblock3.denselayer9.norm2.running_mean": (128,),
        "features.denseblock3.denselayer23.norm2.running_var": (128,),
        "features.denseblock4.denselayer5.norm1.num_batches_tracked": (),
        "classifier.bias": (1000,),
    }),
    "densenet201": (20_013_928, 1207, {
        "features.conv0.weight": (64, 3, 7, 7),
        "features.denseblock3.denselayer15.norm1.weight": (704,),
        "features.denseblock3.denselayer31.norm2.running_var": (128,),
        "features.denseblock3.denselayer48.norm2.weight": (128,),
        "classifier.bias": (1000,),
    }),
}


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_count_and_state_dict_keys_match_torchvision(name):
    params, entries, sample = TORCHVISION[name]
    model = models.get_model(name)
    assert count(model) == params
    state = model.state_dict()
    assert len(state) == entries
    assert {k: tuple(state[k].shape) for k in sample if k in state} == sample
    assert name in models.list_models()


@pytest.mark.parametrize("name, side, kwargs", [
    ("mobilenet_v3_small", 32, {}),
    ("mobilenet_v3_large", 32, {"width_mult": 0.5}),
    ("densenet121", 32, {"memory_efficient": True}),
])
def test_forward_backward_tiny(name, side, kwargs):
    model = models.get_model(name, num_classes=5, **kwargs)
    logits = model(flambeau.randn(2, 3, side, side))
    assert tuple(logits.shape) == (2, 5) and bool(flambeau.isfinite(logits).all())
    nn.CrossEntropyLoss()(logits, flambeau.tensor([1, 4])).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert float(sum(g.abs().sum() for g in grads)) > 0


def _eval_is_deterministic_train_is_not(model, x):
    model.eval()
    with flambeau.no_grad():
        a, b = model(x).cpu().numpy(), model(x).cpu().numpy()
    np.testing.assert_array_equal(a, b)
    model.train()
    for m in model.modules():  # batch norm in train mode would differ anyway: freeze it
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    with flambeau.no_grad():
        c, d = model(x).cpu().numpy(), model(x).cpu().numpy()
    assert not np.allclose(c, d)
    return a


def test_mobilenet_v3_dropout_only_in_training():
    model = models.mobilenet_v3_small(num_classes=4, dropout=0.5)
    nn.init.normal_(model.classifier[3].weight)  # visible logits
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))


def test_densenet_drop_rate_only_in_training():
    model = models.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=8,
                            drop_rate=0.5, num_classes=3)
    nn.init.normal_(model.classifier.weight)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))


def test_mobilenet_v3_options_follow_torchvision():
    tail = models.mobilenet_v3_large(reduced_tail=True, dilated=True)
    assert tail.classifier[0].out_features == 640  # 1280 // 2
    assert tail.features[-1][0].in_channels == 80
    assert tail.features[13].block[1][0].dilation == (2, 2)
    assert tail.features[13].block[1][0].stride == (1, 1)
    # the dilated stage keeps the resolution: 32 / 16 instead of 32 / 32
    assert tuple(tail.features(flambeau.zeros(1, 3, 32, 32)).shape) == (1, 480, 2, 2)
    norm = models.mobilenet_v3_small().features[0][1]
    assert norm.eps == 0.001 and norm.momentum == 0.01


def test_mobilenet_v3_errors():
    with pytest.raises(ValueError, match="MobileNetV3: inverted_residual_setting should not "
                                         "be empty"):
        models.MobileNetV3([], 1280)
    with pytest.raises(TypeError, match="MobileNetV3: inverted_residual_setting should be a "
                                        "list of block configurations"):
        models.MobileNetV3([[1, 16, 1, 1]], 1280)


def test_densenet_memory_efficient_gives_the_same_gradients():
    flambeau.manual_seed(1)
    plain = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8,
                            num_classes=3)
    saving = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8,
                             num_classes=3, memory_efficient=True)
    saving.load_state_dict(plain.state_dict())
    x = flambeau.randn(2, 3, 32, 32)
    for model in (plain, saving):
        model(x).sum().backward()
    for p, q in zip(plain.parameters(), saving.parameters()):
        np.testing.assert_allclose(q.grad.cpu().numpy(), p.grad.cpu().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_stochastic_depth():
    x = flambeau.ones(1000, 3)
    layer = StochasticDepth(0.3, "row")
    out = layer(x).cpu().numpy()
    assert np.all(np.isclose(out, 0.0) | np.isclose(out, 1 / 0.7))
    assert (out == out[:, :1]).all()  # whole rows are dropped
    assert 0.2 < (out[:, 0] == 0).mean() < 0.4
    batch = StochasticDepth(0.5, "batch")(x).cpu().numpy()
    assert len(np.unique(batch)) == 1
    layer.eval()
    np.testing.assert_array_equal(layer(x).cpu().numpy(), x.cpu().numpy())
    with pytest.raises(ValueError, match=r"StochasticDepth: p must be in \[0, 1\], got 1.5"):
        StochasticDepth(1.5, "row")
    with pytest.raises(ValueError, match="StochasticDepth: mode must be 'row' or 'batch', "
                                         "got 'col'"):
        StochasticDepth(0.1, "col")

"""MobileNetV3, DenseNet, ...: torchvision's parameter counts, state_dict keys and shapes,
train/eval behaviour and a forward+backward on a tiny input."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.vision import models
from flambeau.vision.models import _vit as _vit_module
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
    "efficientnet_b0": (5_288_548, 360, {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.1.0.block.1.fc1.weight": (8, 32, 1, 1),
        "features.4.0.block.1.1.running_var": (240,),
        "features.5.0.block.0.1.running_var": (480,),
        "features.5.2.block.3.1.running_var": (112,),
        "features.8.1.num_batches_tracked": (),
        "classifier.1.bias": (1000,),
    }),
    "efficientnet_b1": (7_794_184, 508, {"features.4.3.block.3.1.bias": (80,)}),
    "efficientnet_b2": (9_109_994, 508, {"features.4.3.block.3.1.bias": (88,)}),
    "efficientnet_b3": (12_233_232, 574, {
        "features.0.0.weight": (40, 3, 3, 3),
        "features.4.0.block.3.1.num_batches_tracked": (),
        "features.5.0.block.1.1.weight": (576,),
        "features.5.4.block.2.fc2.weight": (816, 34, 1, 1),
        "classifier.1.bias": (1000,),
    }),
    "efficientnet_b4": (19_341_616, 706, {"features.5.0.block.1.1.weight": (672,)}),
    "efficientnet_b5": (30_389_784, 854, {"features.4.6.block.3.1.num_batches_tracked": ()}),
    "efficientnet_b6": (43_040_704, 986, {"features.4.7.block.3.1.num_batches_tracked": ()}),
    "efficientnet_b7": (66_347_960, 1200, {
        "features.0.0.weight": (64, 3, 3, 3),
        "features.4.1.block.0.0.weight": (960, 160, 1, 1),
        "features.5.0.block.0.1.bias": (960,),
        "features.5.9.block.0.1.running_var": (1344,),
        "classifier.1.bias": (1000,),
    }),
    "efficientnet_v2_s": (21_458_488, 782, {
        "features.0.0.weight": (24, 3, 3, 3),
        "features.1.0.block.0.0.weight": (24, 24, 3, 3),
        "features.2.0.block.0.0.weight": (96, 24, 3, 3),
        "features.2.0.block.1.0.weight": (48, 96, 1, 1),
        "features.5.0.block.2.fc2.weight": (768, 32, 1, 1),
        "features.5.6.block.2.fc1.bias": (40,),
        "features.6.3.block.1.1.num_batches_tracked": (),
        "features.7.1.num_batches_tracked": (),
        "classifier.1.bias": (1000,),
    }),
    "efficientnet_v2_m": (54_139_356, 1120, {
        "features.5.3.block.1.1.running_mean": (1056,),
        "features.5.11.block.3.1.running_var": (176,),
        "features.6.6.block.1.1.bias": (1824,),
        "features.8.1.num_batches_tracked": (),
    }),
    "efficientnet_v2_l": (118_515_272, 1548, {
        "features.0.0.weight": (32, 3, 3, 3),
        "features.5.4.block.1.1.running_var": (1344,),
        "features.5.16.block.0.1.running_var": (1344,),
        "features.6.8.block.3.1.running_var": (384,),
        "features.8.1.num_batches_tracked": (),
    }),
    "convnext_tiny": (28_589_128, 182, {
        "features.0.0.weight": (96, 3, 4, 4),
        "features.0.1.bias": (96,),
        "features.1.0.layer_scale": (96, 1, 1),
        "features.2.0.weight": (96,),
        "features.2.1.weight": (192, 96, 2, 2),
        "features.3.2.block.5.weight": (192, 768),
        "features.5.2.block.5.weight": (384, 1536),
        "features.5.6.block.0.weight": (384, 1, 7, 7),
        "classifier.0.bias": (768,),
        "classifier.2.bias": (1000,),
    }),
    "shufflenet_v2_x0_5": (1_366_792, 338, {"stage4.0.branch1.2.weight": (96, 96, 1, 1)}),
    "shufflenet_v2_x1_0": (2_278_604, 338, {
        "conv1.0.weight": (24, 3, 3, 3),
        "stage2.0.branch1.0.weight": (24, 1, 3, 3),
        "stage2.0.branch1.2.weight": (58, 24, 1, 1),
        "stage2.1.branch2.0.weight": (58, 58, 1, 1),
        "stage3.0.branch2.4.running_var": (116,),
        "stage3.3.branch2.6.weight": (116,),
        "stage3.6.branch2.6.running_mean": (116,),
        "conv5.1.num_batches_tracked": (),
        "fc.bias": (1000,),
    }),
    "shufflenet_v2_x1_5": (3_503_624, 338, {"stage4.3.branch2.3.weight": (352, 1, 3, 3)}),
    "shufflenet_v2_x2_0": (7_393_996, 338, {"conv5.0.weight": (2048, 976, 1, 1)}),
    "squeezenet1_0": (1_248_424, 52, {
        "features.0.weight": (96, 3, 7, 7),
        "features.5.expand1x1.bias": (128,),
        "features.8.squeeze.weight": (48, 256, 1, 1),
        "features.9.expand1x1.weight": (192, 48, 1, 1),
        "features.12.expand3x3.bias": (256,),
        "classifier.1.bias": (1000,),
    }),
    "squeezenet1_1": (1_235_496, 52, {
        "features.0.weight": (64, 3, 3, 3),
        "features.6.expand1x1.bias": (128,),
        "features.9.squeeze.weight": (48, 256, 1, 1),
        "features.10.expand1x1.weight": (192, 48, 1, 1),
        "classifier.1.weight": (1000, 512, 1, 1),
    }),
    # with its auxiliary classifiers (torchvision's card counts 6,624,904 without them)
    "googlenet": (13_004_888, 364, {
        "conv1.conv.weight": (64, 3, 7, 7),
        "conv1.bn.weight": (64,),
        "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),
        "inception4a.branch1.bn.weight": (192,),
        "inception4c.branch3.0.bn.bias": (24,),
        "inception5a.branch1.bn.running_mean": (256,),
        "aux1.conv.conv.weight": (128, 512, 1, 1),
        "aux1.fc1.weight": (1024, 2048),
        "aux2.fc2.bias": (1000,),
        "fc.bias": (1000,),
    }),
    "inception_v3": (27_161_264, 580, {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Conv2d_1a_3x3.bn.weight": (32,),
        "Mixed_5d.branch3x3dbl_3.bn.weight": (96,),
        "Mixed_6c.branch7x7dbl_5.bn.bias": (192,),
        "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
        "AuxLogits.conv1.conv.weight": (768, 128, 5, 5),
        "AuxLogits.fc.weight": (1000, 768),
        "Mixed_7a.branch3x3_1.bn.weight": (192,),
        "Mixed_7b.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1),
        "Mixed_7c.branch_pool.bn.num_batches_tracked": (),
        "fc.bias": (1000,),
    }),
    "mnasnet0_5": (2_218_512, 314, {
        "layers.0.weight": (16, 3, 3, 3),
        "layers.8.0.layers.0.weight": (24, 8, 1, 1),
        "layers.9.1.layers.7.bias": (24,),
        "layers.10.1.layers.7.weight": (40,),
        "layers.11.1.layers.4.num_batches_tracked": (),
        "layers.15.num_batches_tracked": (),
        "classifier.1.bias": (1000,),
    }),
    "mnasnet0_75": (3_170_208, 314, {"layers.0.weight": (24, 3, 3, 3)}),
    "mnasnet1_0": (4_383_312, 314, {
        "layers.0.weight": (32, 3, 3, 3),
        "layers.9.1.layers.7.bias": (40,),
        "layers.10.1.layers.7.weight": (80,),
        "layers.14.weight": (1280, 320, 1, 1),
    }),
    "mnasnet1_3": (6_282_256, 314, {"layers.0.weight": (40, 3, 3, 3)}),
    "regnet_y_400mf": (4_344_144, 384, {
        "stem.0.weight": (32, 3, 3, 3),
        "trunk_output.block1.block1-0.proj.0.weight": (48, 32, 1, 1),
        "trunk_output.block1.block1-0.f.se.fc1.weight": (8, 48, 1, 1),
        "trunk_output.block3.block3-0.f.c.0.weight": (208, 208, 1, 1),
        "trunk_output.block3.block3-3.f.se.fc2.weight": (208, 52, 1, 1),
        "trunk_output.block4.block4-0.f.b.0.weight": (440, 8, 3, 3),
        "trunk_output.block4.block4-5.f.c.1.num_batches_tracked": (),
        "fc.bias": (1000,),
    }),
    "regnet_y_800mf": (6_432_512, 340, {}),
    "regnet_y_1_6gf": (11_202_430, 626, {}),
    "regnet_y_3_2gf": (19_436_338, 494, {}),
    "regnet_y_8gf": (39_381_472, 406, {}),
    "regnet_y_16gf": (83_590_140, 428, {}),
    "regnet_x_400mf": (5_495_976, 428, {
        "stem.0.weight": (32, 3, 3, 3),
        "trunk_output.block3.block3-3.f.b.1.running_var": (160,),
        "trunk_output.block4.block4-0.f.a.1.running_var": (400,),
        "trunk_output.block4.block4-4.f.a.1.running_mean": (400,),
        "trunk_output.block4.block4-11.f.c.1.num_batches_tracked": (),
        "fc.bias": (1000,),
    }),
    "regnet_x_800mf": (7_259_656, 320, {}),
    "regnet_x_1_6gf": (9_190_136, 356, {}),
    "regnet_x_3_2gf": (15_296_552, 482, {}),
    "regnet_x_8gf": (39_572_648, 446, {}),
    "regnet_x_16gf": (54_278_536, 428, {}),
    "regnet_x_32gf": (107_811_560, 446, {}),
}


@pytest.fixture
def shapes_only(monkeypatch):
    """nn.init's random draws as no-ops: drawing the initial values of large models was nearly
    all of a parameter-count test's time, and counts and keys need only the shapes."""
    for name in ("uniform_", "normal_", "trunc_normal_"):
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_count_and_state_dict_keys_match_torchvision(name, shapes_only):
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
    ("efficientnet_b0", 32, {}),
    ("efficientnet_v2_s", 33, {}),
    ("convnext_tiny", 32, {}),
    ("shufflenet_v2_x0_5", 32, {}),
    ("squeezenet1_1", 64, {}),
    ("mnasnet0_5", 32, {}),
    ("regnet_y_400mf", 32, {}),
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
    model.train()  # batch norm in train mode is deterministic too: only the drops differ
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


def test_efficientnet_stochastic_depth_and_norms_follow_torchvision():
    model = models.efficientnet_b0()
    blocks = [b for stage in list(model.features)[1:-1] for b in stage]
    assert len(blocks) == 16
    # block i of n drops its residual branch with 0.2 * i / n
    np.testing.assert_allclose([b.stochastic_depth.p for b in blocks],
                               [0.2 * i / 16 for i in range(16)])
    assert model.classifier[0].p == 0.2 and models.efficientnet_b7().classifier[0].p == 0.5
    assert models.efficientnet_b0(stochastic_depth_prob=0.5).features[7][0] \
        .stochastic_depth.p == pytest.approx(0.5 * 15 / 16)
    b5 = models.efficientnet_b5().features[0][1]
    assert (b5.eps, b5.momentum) == (0.001, 0.01)
    v2 = models.efficientnet_v2_s().features[0][1]
    assert (v2.eps, v2.momentum) == (0.001, 0.1)
    assert type(models.efficientnet_v2_s().features[3][0]).__name__ == "_FusedMBConv"
    assert type(models.efficientnet_v2_s().features[4][0]).__name__ == "_MBConv"


def test_efficientnet_stochastic_depth_only_in_training():
    model = models.efficientnet_b0(num_classes=4, dropout=0.0, stochastic_depth_prob=0.8)
    nn.init.normal_(model.classifier[1].weight)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))


def test_efficientnet_errors():
    with pytest.raises(ValueError, match="EfficientNet: inverted_residual_setting should not "
                                         "be empty"):
        models.EfficientNet([], 0.2)
    with pytest.raises(TypeError, match="EfficientNet: inverted_residual_setting should be a "
                                        "list of stage configurations"):
        models.EfficientNet([(1, 3, 1, 32, 16, 1)], 0.2)


@pytest.mark.parametrize("name, widths, params", [
    ("convnext_small", (96, 192, 384, 768), 50_223_688),
    ("convnext_base", (128, 256, 512, 1024), 88_591_464),
    ("convnext_large", (192, 384, 768, 1536), 197_767_336),
])
def test_convnext_counts_match_torchvision(name, widths, params, shapes_only):
    # (its truncated-normal initialization makes building these slow): one block per stage
    # with the builder's widths; the other 3, 3, 27, 3 blocks repeat the stage's block
    setting = [models.CNBlockConfig(w, nxt, 1)
               for w, nxt in zip(widths, list(widths[1:]) + [None])]
    small = models.ConvNeXt(setting)
    blocks = [count(small.features[i][0]) for i in (1, 3, 5, 7)]
    assert count(small) + sum((d - 1) * b for d, b in zip((3, 3, 27, 3), blocks)) == params
    assert name in models.list_models()


def test_convnext_stochastic_depth_and_layer_scale_follow_torchvision():
    model = models.convnext_tiny()
    blocks = [b for i in (1, 3, 5, 7) for b in model.features[i]]
    assert len(blocks) == 18
    # block i of n drops its residual branch with 0.1 * i / (n - 1)
    np.testing.assert_allclose([b.stochastic_depth.p for b in blocks],
                               [0.1 * i / 17 for i in range(18)])
    np.testing.assert_allclose(blocks[0].layer_scale.detach().cpu().numpy(), 1e-6)
    assert model.classifier[0].eps == 1e-6 and blocks[0].block[2].eps == 1e-6


@pytest.mark.parity
def test_convnext_channel_layer_norm_matches_torch():
    torch = pytest.importorskip("torch")
    from flambeau.vision.models._convnext import _LayerNorm2d
    norm = _LayerNorm2d(96, eps=1e-6)
    x = np.random.default_rng(0).standard_normal((2, 96, 3, 5)).astype(np.float32)
    weight = np.linspace(0.5, 1.5, 96, dtype=np.float32)
    with flambeau.no_grad():
        norm.weight.copy_(flambeau.tensor(weight))
    got = norm(flambeau.tensor(x)).detach().cpu().numpy()
    expected = torch.nn.functional.layer_norm(
        torch.from_numpy(x).permute(0, 2, 3, 1), (96,), torch.from_numpy(weight),
        None, 1e-6).permute(0, 3, 1, 2).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_convnext_stochastic_depth_only_in_training():
    # two narrow stages: the drops are per block, convnext_tiny's width only costs time
    stages = [models.CNBlockConfig(16, 32, 2), models.CNBlockConfig(32, None, 2)]
    model = models.ConvNeXt(stages, num_classes=4, layer_scale=1.0, stochastic_depth_prob=0.9)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))


def test_convnext_errors():
    with pytest.raises(ValueError, match="ConvNeXt: block_setting should not be empty"):
        models.ConvNeXt([])
    with pytest.raises(TypeError, match=r"ConvNeXt: block_setting should be a list of "
                                        r"CNBlockConfig, got \[\(96, None, 3\)\]"):
        models.ConvNeXt([(96, None, 3)])
    with pytest.raises(TypeError, match="should be a list of CNBlockConfig, got "
                                        "CNBlockConfig.input_channels=96"):
        models.ConvNeXt(models.CNBlockConfig(96, None, 3))  # one stage, not in a list


def test_cnblockconfig_is_torchvisions():
    stage = models.CNBlockConfig(input_channels=96, out_channels=192, num_layers=3)
    assert (stage.input_channels, stage.out_channels, stage.num_layers) == (96, 192, 3)
    assert repr(stage) == "CNBlockConfig(input_channels=96, out_channels=192, num_layers=3)"
    # the builders' settings are CNBlockConfig lists: a model built from one matches
    setting = [models.CNBlockConfig(w, nxt, d) for w, nxt, d in
               [(8, 16, 1), (16, None, 2)]]
    model = models.ConvNeXt(setting, num_classes=3)
    assert len(model.features) == 4 and len(model.features[3]) == 2
    assert tuple(model.features[2][1].weight.shape) == (16, 8, 2, 2)  # the downsampling


VIT_KEYS = {
    "class_token": (1, 1, 1024),
    "conv_proj.weight": (1024, 3, 16, 16),
    "conv_proj.bias": (1024,),
    "encoder.pos_embedding": (1, 197, 1024),
    "encoder.layers.encoder_layer_0.ln_1.weight": (1024,),
    "encoder.layers.encoder_layer_0.self_attention.in_proj_weight": (3072, 1024),
    "encoder.layers.encoder_layer_0.self_attention.in_proj_bias": (3072,),
    "encoder.layers.encoder_layer_0.self_attention.out_proj.weight": (1024, 1024),
    "encoder.layers.encoder_layer_0.ln_2.bias": (1024,),
    "encoder.layers.encoder_layer_0.mlp.0.weight": (4096, 1024),
    "encoder.layers.encoder_layer_0.mlp.3.weight": (1024, 4096),
    "encoder.ln.weight": (1024,),
    "heads.head.weight": (1000, 1024),
    "heads.head.bias": (1000,),
}


@pytest.mark.parametrize("name, params, layers", [
    ("vit_b_16", 86_567_656, 12), ("vit_b_32", 88_224_232, 12),
    ("vit_l_16", 304_326_632, 24), ("vit_l_32", 306_535_400, 24),
    ("vit_h_14", 632_045_800, 32),
])
def test_vit_count_matches_torchvision(name, params, layers, monkeypatch):
    # a one-layer model with the builder's widths; the other layers have the same size (the
    # builders refuse num_layers=, as torchvision's: shorten the model they build instead)
    model = _one_layer_vit(monkeypatch, name)
    assert model.built_with["num_layers"] == layers
    per_layer = count(model.encoder.layers.encoder_layer_0)
    assert count(model) + (layers - 1) * per_layer == params
    assert name in models.list_models()


def _one_layer_vit(monkeypatch, name, **kwargs):
    """What the builder ``name`` builds, with one encoder layer; ``.built_with`` holds the
    arguments the builder gave."""
    full = models.VisionTransformer

    def one_layer(**given):
        model = full(**{**given, "num_layers": 1})
        model.built_with = given
        return model

    monkeypatch.setattr(_vit_module, "VisionTransformer", one_layer)
    return models.get_model(name, **kwargs)


def test_vit_state_dict_keys_follow_torchvision(monkeypatch):
    state = _one_layer_vit(monkeypatch, "vit_l_16").state_dict()
    assert len(state) == 4 + 12 + 2 + 2  # the full model has 296 entries (24 layers)
    assert {k: tuple(state[k].shape) for k in VIT_KEYS if k in state} == VIT_KEYS
    assert list(state)[:4] == ["class_token", "conv_proj.weight", "conv_proj.bias",
                               "encoder.pos_embedding"]
    stem = models.VisionTransformer(32, 8, 1, 2, 16, 32, representation_size=12,
                                    conv_stem_configs=[(8, 3, 2), (16, 3, 2)]).state_dict()
    assert "conv_proj.conv_bn_relu_0.0.weight" in stem
    assert "conv_proj.conv_bn_relu_1.1.running_var" in stem
    assert tuple(stem["conv_proj.conv_last.weight"].shape) == (16, 16, 1, 1)
    assert tuple(stem["heads.pre_logits.weight"].shape) == (12, 16)
    assert tuple(stem["heads.head.weight"].shape) == (1000, 12)


def tiny_vit(**kwargs):
    return models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                    hidden_dim=16, mlp_dim=32, num_classes=5, **kwargs)


def test_vit_forward_backward_tiny(monkeypatch):
    model = tiny_vit()
    nn.init.normal_(model.heads.head.weight)  # torchvision starts the head at zero
    logits = model(flambeau.randn(2, 3, 32, 32))
    assert tuple(logits.shape) == (2, 5)
    nn.CrossEntropyLoss()(logits, flambeau.tensor([1, 4])).backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0
               for p in model.parameters())
    model = _one_layer_vit(monkeypatch, "vit_b_32", image_size=64, num_classes=3)
    assert tuple(model.encoder.pos_embedding.shape) == (1, 5, 768)
    assert tuple(model(flambeau.randn(1, 3, 64, 64)).shape) == (1, 3)


def test_vit_dropout_only_in_training():
    model = tiny_vit(dropout=0.5, attention_dropout=0.5)
    nn.init.normal_(model.heads.head.weight)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))


def test_vit_errors():
    with pytest.raises(ValueError, match="VisionTransformer: image_size 30 is not a multiple "
                                         "of patch_size 8"):
        models.VisionTransformer(30, 8, 1, 2, 16, 32)
    with pytest.raises(ValueError, match=r"VisionTransformer: expected images of 32x32, got "
                                         r"32x16 \(input shape \(1, 3, 32, 16\)\); build the "
                                         r"model with image_size="):
        tiny_vit()(flambeau.zeros(1, 3, 32, 16))


@pytest.mark.parity
def test_vit_logits_match_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class Block(tnn.Module):  # torchvision's encoder block, written with torch.nn
        def __init__(self):
            super().__init__()
            self.ln_1 = tnn.LayerNorm(16, eps=1e-6)
            self.self_attention = tnn.MultiheadAttention(16, 2, batch_first=True)
            self.ln_2 = tnn.LayerNorm(16, eps=1e-6)
            self.mlp = tnn.Sequential(tnn.Linear(16, 32), tnn.GELU(), tnn.Dropout(0.0),
                                      tnn.Linear(32, 16), tnn.Dropout(0.0))

        def forward(self, x):
            y = self.ln_1(x)
            x = self.self_attention(y, y, y, need_weights=False)[0] + x
            return x + self.mlp(self.ln_2(x))

    class Reference(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv_proj = tnn.Conv2d(3, 16, 8, 8)
            self.class_token = tnn.Parameter(torch.zeros(1, 1, 16))
            self.encoder = tnn.Module()
            self.encoder.pos_embedding = tnn.Parameter(torch.zeros(1, 17, 16))
            self.encoder.layers = tnn.Sequential()
            for i in range(2):
                self.encoder.layers.add_module(f"encoder_layer_{i}", Block())
            self.encoder.ln = tnn.LayerNorm(16, eps=1e-6)
            self.heads = tnn.Sequential()
            self.heads.add_module("head", tnn.Linear(16, 5))

        def forward(self, x):
            x = self.conv_proj(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.class_token.expand(len(x), -1, -1), x], 1)
            x = self.encoder.pos_embedding + x
            x = self.encoder.ln(self.encoder.layers(x))
            return self.heads(x[:, 0])

    torch.manual_seed(0)
    reference = Reference().eval()
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(std=0.3)
    model = tiny_vit().eval()
    model.load_state_dict({k: flambeau.tensor(v.numpy())
                           for k, v in reference.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with flambeau.no_grad():
        got = model(flambeau.tensor(x)).cpu().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_squeezenet_dropout_only_in_training():
    model = models.squeezenet1_0(num_classes=4)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 64, 64))


def test_shufflenet_squeezenet_errors():
    with pytest.raises(ValueError, match=r"ShuffleNetV2: expected stages_repeats as a list of "
                                         r"3 positive ints, got \[4, 8\]"):
        models.ShuffleNetV2([4, 8], [24, 116, 232, 464, 1024])
    with pytest.raises(ValueError, match=r"ShuffleNetV2: expected stages_out_channels as a "
                                         r"list of 5 positive ints, got \[24, 116\]"):
        models.ShuffleNetV2([4, 8, 4], [24, 116])
    unit = type(models.shufflenet_v2_x0_5().stage2[0])
    with pytest.raises(ValueError, match="ShuffleNetV2: stride must be 1, 2 or 3, got 4"):
        unit(8, 8, 4)
    with pytest.raises(ValueError, match=r"ShuffleNetV2: a stride-1 unit needs inp == 2 \* "
                                         r"\(oup // 2\), got inp=6, oup=8"):
        unit(6, 8, 1)
    with pytest.raises(ValueError, match="SqueezeNet: unsupported version '1_2'; '1_0' or "
                                         "'1_1' expected"):
        models.SqueezeNet("1_2")


@pytest.mark.parity
def test_shufflenet_unit_matches_torch():
    torch = pytest.importorskip("torch")
    unit = models.shufflenet_v2_x0_5().stage2[1].eval()  # stride 1: split, shuffle
    x = np.random.default_rng(0).standard_normal((2, 48, 5, 5)).astype(np.float32)
    with flambeau.no_grad():
        got = unit(flambeau.tensor(x)).cpu().numpy()
        branch = unit.branch2(flambeau.tensor(x[:, 24:])).cpu().numpy()
    joined = torch.cat([torch.from_numpy(x[:, :24]), torch.from_numpy(branch)], 1)
    expected = torch.nn.functional.channel_shuffle(joined, 2).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_googlenet_card_count_and_aux_outputs():
    # init_weights=False: truncated-normal initialization is most of the build time
    assert count(models.googlenet(aux_logits=False, init_weights=False)) == 6_624_904
    model = models.googlenet(num_classes=4, init_weights=False)
    x = flambeau.randn(2, 3, 64, 64)
    out = model(x)  # training: main and both auxiliary logits
    assert isinstance(out, models.GoogLeNetOutputs)
    assert [tuple(t.shape) for t in out] == [(2, 4)] * 3
    (nn.CrossEntropyLoss()(out.logits, flambeau.tensor([0, 3]))
     + 0.3 * out.aux_logits1.sum() + 0.3 * out.aux_logits2.sum()).backward()
    assert float(model.aux1.fc2.weight.grad.abs().sum()) > 0
    assert float(model.conv1.conv.weight.grad.abs().sum()) > 0
    model.eval()
    assert isinstance(model(x), flambeau.Tensor) and tuple(model(x).shape) == (2, 4)
    with pytest.raises(ValueError, match="GoogLeNet: blocks should hold 3 callables"):
        models.GoogLeNet(blocks=[nn.Conv2d])


def test_inception_v3_aux_outputs_and_minimum_size():
    # init_weights=False: truncated-normal initialization is most of the build time
    model = models.inception_v3(num_classes=3, init_weights=False)
    for m in model.modules():  # running statistics: one 299x299 image is enough (half the time)
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    out = model(flambeau.randn(1, 3, 299, 299))  # the auxiliary head needs about 299
    assert isinstance(out, models.InceptionOutputs)
    assert tuple(out.logits.shape) == (1, 3) and tuple(out.aux_logits.shape) == (1, 3)
    (out.logits.sum() + out.aux_logits.sum()).backward()
    assert float(model.AuxLogits.fc.weight.grad.abs().sum()) > 0
    model.eval()
    assert tuple(model(flambeau.randn(1, 3, 75, 75)).shape) == (1, 3)
    plain = models.inception_v3(aux_logits=False, init_weights=False)
    assert plain.AuxLogits is None and "AuxLogits.fc.weight" not in plain.state_dict()
    with pytest.raises(ValueError, match="Inception3: inception_blocks should hold 7 "
                                         "callables, got 1"):
        models.Inception3(inception_blocks=[nn.Conv2d])


@pytest.mark.parity
def test_transform_input_matches_torchvision_formula():
    torch = pytest.importorskip("torch")
    from flambeau.vision.models._googlenet import _imagenet_to_half_normalization
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    t = torch.from_numpy(x)
    expected = torch.cat([t[:, 0:1] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                          t[:, 1:2] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                          t[:, 2:3] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], 1).numpy()
    got = _imagenet_to_half_normalization(flambeau.tensor(x)).cpu().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    model = models.googlenet(aux_logits=False, transform_input=True).eval()
    plain = models.googlenet(aux_logits=False).eval()
    plain.load_state_dict(model.state_dict())
    with flambeau.no_grad():
        np.testing.assert_allclose(model(flambeau.tensor(x.repeat(16, 2).repeat(16, 3)))
                                   .cpu().numpy(),
                                   plain(flambeau.tensor(got.repeat(16, 2).repeat(16, 3)))
                                   .cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_mnasnet_batch_norm_and_errors_follow_torchvision():
    norm = models.mnasnet1_0().layers[1]
    assert norm.momentum == pytest.approx(1 - 0.9997)
    model = models.mnasnet0_5(num_classes=4)
    nn.init.normal_(model.classifier[1].weight)
    _eval_is_deterministic_train_is_not(model, flambeau.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="MNASNet: alpha should be greater than 0.0, got 0"):
        models.MNASNet(0)
    block = type(model.layers[8][0])
    with pytest.raises(ValueError, match="MNASNet: stride should be 1 or 2, got 3"):
        block(8, 8, 3, 3, 3)
    with pytest.raises(ValueError, match="MNASNet: kernel_size should be 3 or 5, got 7"):
        block(8, 8, 7, 1, 3)


# torchvision's stage widths and depths (from its float32 quantization of the width rule)
REGNET_STAGES = {
    "regnet_x_400mf": ([32, 64, 160, 400], [1, 2, 7, 12]),
    "regnet_x_8gf": ([80, 240, 720, 1920], [2, 5, 15, 1]),
    "regnet_x_32gf": ([336, 672, 1344, 2520], [2, 7, 13, 1]),
    "regnet_y_1_6gf": ([48, 120, 336, 888], [2, 6, 17, 2]),
    "regnet_y_32gf": ([232, 696, 1392, 3712], [2, 5, 12, 1]),
    "regnet_y_128gf": ([528, 1056, 2904, 7392], [2, 7, 17, 1]),
}


@pytest.mark.parametrize("name", sorted(REGNET_STAGES))
def test_regnet_stages_follow_torchvision(name):
    from flambeau.vision.models import _regnet
    fam, size = name.split("_", 2)[1:]
    table = _regnet._X if fam == "x" else _regnet._Y
    params = _regnet._BlockParams.from_init_params(*table[size])
    assert (params.widths, params.depths) == REGNET_STAGES[name]
    assert name in models.list_models()


def test_regnet_y_32gf_and_128gf_counts(shapes_only):
    # too big to build here (145M and 645M parameters): count a model with the same stage
    # settings but one block per stage, then add the repeated blocks' sizes
    from flambeau.vision.models import _regnet
    for size, params_count in (("32gf", 145_046_770), ("128gf", 644_812_894)):
        params = _regnet._BlockParams.from_init_params(*_regnet._Y[size], se_ratio=0.25)
        depths, params.depths = params.depths, [min(d, 2) for d in params.depths]
        small = models.RegNet(params, num_classes=1000)
        total = count(small)
        for i, depth in enumerate(depths):
            if depth > 2:
                stage = getattr(small.trunk_output, f"block{i + 1}")
                total += (depth - 2) * count(stage[1])
        assert total == params_count


def test_regnet_errors_and_options():
    from flambeau.vision.models import _regnet
    with pytest.raises(ValueError, match="RegNet: invalid settings w_0=20, w_a=24.48, "
                                         "w_m=2.54"):
        _regnet._BlockParams.from_init_params(22, 20, 24.48, 2.54, 16)
    model = models.regnet_x_400mf(num_classes=3)
    assert model.stem[1].eps == 1e-5 and model.fc.out_features == 3
    assert "se" not in dict(model.trunk_output.block1[0].f.named_children())
    assert "se" in dict(models.regnet_y_400mf().trunk_output.block1[0].f.named_children())

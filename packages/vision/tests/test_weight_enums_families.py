"""The weights of ConvNeXt, ViT, GoogLeNet, Inception v3, MNASNet, RegNet, ShuffleNetV2 and
SqueezeNet: torchvision's facts, and the published-weights paths of their builders (served
from 127.0.0.1 or handed over in memory; no internet)."""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import pytest

import flambeau
import flambeau.hub
from flambeau.vision import models
from flambeau.vision.models import (
    GoogLeNet_Weights,
    Inception_V3_Weights,
    ShuffleNet_V2_X0_5_Weights,
    ViT_B_16_Weights,
)
from flambeau.vision.models._weight_enums import _MODEL_WEIGHTS

# torchvision's enums: name -> (its members in order, DEFAULT)
MEMBERS = {
    "ConvNeXt_Tiny_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ConvNeXt_Small_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ConvNeXt_Base_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ConvNeXt_Large_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ViT_B_16_Weights": (["IMAGENET1K_V1", "IMAGENET1K_SWAG_E2E_V1",
                          "IMAGENET1K_SWAG_LINEAR_V1"], "IMAGENET1K_V1"),
    "ViT_B_32_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ViT_L_16_Weights": (["IMAGENET1K_V1", "IMAGENET1K_SWAG_E2E_V1",
                          "IMAGENET1K_SWAG_LINEAR_V1"], "IMAGENET1K_V1"),
    "ViT_L_32_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "ViT_H_14_Weights": (["IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1"],
                         "IMAGENET1K_SWAG_E2E_V1"),
    "GoogLeNet_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "Inception_V3_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "MNASNet0_5_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "MNASNet0_75_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "MNASNet1_0_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "MNASNet1_3_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    **{f"RegNet_{n}_Weights": (["IMAGENET1K_V1", "IMAGENET1K_V2"], "IMAGENET1K_V2")
       for n in ["Y_400MF", "Y_800MF", "Y_1_6GF", "Y_3_2GF", "Y_8GF", "X_400MF", "X_800MF",
                 "X_1_6GF", "X_3_2GF", "X_8GF", "X_16GF", "X_32GF"]},
    **{f"RegNet_Y_{n}_Weights": (["IMAGENET1K_V1", "IMAGENET1K_V2", "IMAGENET1K_SWAG_E2E_V1",
                                  "IMAGENET1K_SWAG_LINEAR_V1"], "IMAGENET1K_V2")
       for n in ["16GF", "32GF"]},
    "RegNet_Y_128GF_Weights": (["IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1"],
                               "IMAGENET1K_SWAG_E2E_V1"),
    **{f"ShuffleNet_V2_X{n}_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1")
       for n in ["0_5", "1_0", "1_5", "2_0"]},
    "SqueezeNet1_0_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
    "SqueezeNet1_1_Weights": (["IMAGENET1K_V1"], "IMAGENET1K_V1"),
}

# "<Enum>.<MEMBER>" -> (file, num_params, acc@1, resize, crop, bicubic, min_size, recipe end)
FACTS = {
    "ConvNeXt_Tiny_Weights.IMAGENET1K_V1": ("convnext_tiny-983f1562.pth", 28589128, 82.52, 236,
                                            224, False, (32, 32), "classification#convnext"),
    "ConvNeXt_Large_Weights.IMAGENET1K_V1": ("convnext_large-ea097f82.pth", 197767336, 84.414,
                                             232, 224, False, (32, 32),
                                             "classification#convnext"),
    "ViT_B_16_Weights.IMAGENET1K_V1": ("vit_b_16-c867db91.pth", 86567656, 81.072, 256, 224,
                                       False, (224, 224), "classification#vit_b_16"),
    "ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1": ("vit_b_16_swag-9ac1b537.pth", 86859496, 85.304,
                                                384, 384, True, (384, 384), "SWAG"),
    "ViT_L_16_Weights.IMAGENET1K_V1": ("vit_l_16-852ce7e3.pth", 304326632, 79.662, 242, 224,
                                       False, (224, 224), "classification#vit_l_16"),
    "ViT_H_14_Weights.IMAGENET1K_SWAG_E2E_V1": ("vit_h_14_swag-80465313.pth", 633470440,
                                                88.552, 518, 518, True, (518, 518), "SWAG"),
    "ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1": ("vit_h_14_lc_swag-c1eb923e.pth", 632045800,
                                                   85.708, 224, 224, True, (224, 224),
                                                   "pull/5793"),
    "GoogLeNet_Weights.IMAGENET1K_V1": ("googlenet-1378be20.pth", 6624904, 69.778, 256, 224,
                                        False, (15, 15), "classification#googlenet"),
    "Inception_V3_Weights.IMAGENET1K_V1": ("inception_v3_google-0cc3c7bd.pth", 27161264, 77.294,
                                           342, 299, False, (75, 75),
                                           "classification#inception-v3"),
    "MNASNet0_5_Weights.IMAGENET1K_V1": ("mnasnet0.5_top1_67.823-3ffadce67e.pth", 2218512,
                                         67.734, 256, 224, False, (1, 1), "mnasnet_trainer"),
    "MNASNet1_3_Weights.IMAGENET1K_V1": ("mnasnet1_3-a4c69d6f.pth", 6282256, 76.506, 232, 224,
                                         False, (1, 1), "pull/6019"),
    "RegNet_Y_400MF_Weights.IMAGENET1K_V1": ("regnet_y_400mf-c65dace8.pth", 4344144, 74.046,
                                             256, 224, False, (1, 1),
                                             "classification#small-models"),
    "RegNet_Y_32GF_Weights.IMAGENET1K_SWAG_E2E_V1": ("regnet_y_32gf_swag-04fdfa75.pth",
                                                     145046770, 86.838, 384, 384, True, (1, 1),
                                                     "SWAG"),
    "RegNet_Y_128GF_Weights.IMAGENET1K_SWAG_LINEAR_V1": ("regnet_y_128gf_lc_swag-cbe8ce12.pth",
                                                         644812894, 86.068, 224, 224, True,
                                                         (1, 1), "pull/5793"),
    "RegNet_X_400MF_Weights.IMAGENET1K_V2": ("regnet_x_400mf-62229a5f.pth", 5495976, 74.864,
                                             232, 224, False, (1, 1),
                                             "3995#new-recipe-with-fixres"),
    "RegNet_X_32GF_Weights.IMAGENET1K_V2": ("regnet_x_32gf-6eb8fdc6.pth", 107811560, 83.014,
                                            232, 224, False, (1, 1), "3995#new-recipe"),
    "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1": ("shufflenetv2_x0.5-f707e7126e.pth", 1366792,
                                                 60.552, 256, 224, False, (1, 1),
                                                 "Shufflenet-v2-Pytorch"),
    "ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1": ("shufflenetv2_x2_0-8be3c8ee.pth", 7393996,
                                                 76.23, 232, 224, False, (1, 1), "pull/5906"),
    "SqueezeNet1_0_Weights.IMAGENET1K_V1": ("squeezenet1_0-b66bff10.pth", 1248424, 58.092, 256,
                                            224, False, (21, 21),
                                            "pull/49#issuecomment-277560717"),
    "SqueezeNet1_1_Weights.IMAGENET1K_V1": ("squeezenet1_1-b8a52dc0.pth", 1235496, 58.178, 256,
                                            224, False, (17, 17),
                                            "pull/49#issuecomment-277560717"),
}


@pytest.mark.parametrize("enum_name", sorted(MEMBERS))
def test_members_and_default(enum_name):
    members, default = MEMBERS[enum_name]
    enum = getattr(models, enum_name)
    assert [m.name for m in enum] == members
    assert enum.DEFAULT is enum[default]
    assert enum_name in models.__all__
    builders = [b for b, e in _MODEL_WEIGHTS.items() if e is enum]
    assert len(builders) == 1 and builders[0] in models.list_models()
    assert models.get_model_weights(getattr(models, builders[0])) is enum
    for member in enum:
        assert len(member.meta["categories"]) == 1000
        assert models.get_weight(f"{enum_name}.{member.name}") is member
        # the SHA-256 prefix flambeau.hub checks is the one in torchvision's file name
        assert re.search(r"-([a-f0-9]{8,})\.pth$", member.url)


@pytest.mark.parametrize("name", sorted(FACTS))
def test_members_carry_torchvision_facts(name):
    file, num_params, acc1, resize, crop, bicubic, min_size, recipe = FACTS[name]
    weights = models.get_weight(name)
    assert weights.url == "https://download.pytorch.org/models/" + file
    assert weights.meta["num_params"] == num_params
    assert weights.meta["_metrics"]["ImageNet-1K"]["acc@1"] == acc1
    assert weights.meta["min_size"] == min_size
    assert weights.meta["recipe"].endswith(recipe)
    swag = "SWAG" in name
    assert weights.meta.get("license") == (
        "https://github.com/facebookresearch/SWAG/blob/main/LICENSE" if swag else None)
    preset = weights.transforms()
    assert (preset.resize_size, preset.crop_size) == ([resize], [crop])
    assert preset.interpolation.value == ("bicubic" if bicubic else "bilinear")


@pytest.mark.parametrize("builder", ["convnext_tiny", "googlenet", "inception_v3", "mnasnet0_5",
                                     "mnasnet1_3", "regnet_y_400mf", "regnet_x_800mf",
                                     "shufflenet_v2_x1_5", "squeezenet1_0", "squeezenet1_1"])
def test_num_params_is_the_models(builder):
    # GoogLeNet's count is without the auxiliary heads, which its weights' builders drop
    model = models.get_model(builder, **({"aux_logits": False} if builder == "googlenet" else {}))
    expected = models.get_model_weights(builder).DEFAULT.meta["num_params"]
    assert sum(p.numel() for p in model.parameters()) == expected


# ---- the published-weights paths ----

@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    folder = tmp_path / "hub"
    monkeypatch.setattr(flambeau.hub, "_hub_dir", str(folder))
    return folder / "checkpoints"


def _serve(model, folder, stem, digits=8, rename=None):
    """``model``'s state_dict saved as ``stem-<sha256 prefix>.pth`` in ``folder`` (keys
    changed by ``rename``); the file's name."""
    state = model.state_dict()
    if rename is not None:
        state = {rename(k): v for k, v in state.items()}
    tmp = folder / "tmp.pth"
    flambeau.save(state, str(tmp))
    name = f"{stem}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:digits]}.pth"
    tmp.rename(folder / name)
    return name


def _assert_loaded(model, source, skip=()):
    got = model.state_dict()
    for key, value in source.state_dict().items():
        if not key.startswith(skip):
            np.testing.assert_array_equal(got[key].cpu().numpy(), value.cpu().numpy())


def test_googlenet_weights_transform_input_and_dropped_aux(http_root, hub_dir, monkeypatch):
    folder, base = http_root
    source = models.googlenet(aux_logits=True)  # the published file holds the aux heads
    name = _serve(source, folder, "googlenet")
    monkeypatch.setattr(GoogLeNet_Weights.IMAGENET1K_V1.value, "url", base + name)
    model = models.googlenet(weights="DEFAULT", progress=False)
    assert model.transform_input and not model.aux_logits
    assert model.aux1 is None and model.aux2 is None
    assert not any(k.startswith("aux") for k in model.state_dict())
    _assert_loaded(model, source, skip=("aux1", "aux2"))
    assert os.listdir(hub_dir) == [name]
    # asked for, the heads stay (loaded, but untrained in torchvision's file: a warning)
    with pytest.warns(UserWarning, match=r"googlenet: the auxiliary heads of "
                                         r"GoogLeNet_Weights.IMAGENET1K_V1 are NOT pretrained"):
        with_aux = models.googlenet(weights=GoogLeNet_Weights.DEFAULT, aux_logits=True,
                                    transform_input=False, progress=False)
    assert with_aux.aux_logits and not with_aux.transform_input
    _assert_loaded(with_aux, source)
    # eval logits are the source's with torchvision's input transform
    x = flambeau.randn(1, 3, 64, 64)
    source.transform_input = True
    with flambeau.no_grad():
        np.testing.assert_allclose(model.eval()(x).cpu().numpy(),
                                   source.eval()(x).cpu().numpy(), rtol=1e-5, atol=1e-5)


def test_inception_weights_keep_the_trained_aux_head(http_root, hub_dir, monkeypatch):
    folder, base = http_root
    source = models.inception_v3()
    name = _serve(source, folder, "inception_v3_google")
    monkeypatch.setattr(Inception_V3_Weights.IMAGENET1K_V1.value, "url", base + name)
    model = models.inception_v3(weights=Inception_V3_Weights.IMAGENET1K_V1, progress=False)
    assert model.transform_input and model.aux_logits and model.AuxLogits is not None
    _assert_loaded(model, source)


@pytest.mark.parametrize("builder, kwargs, message", [
    ("googlenet", {"aux_logits": False}, "'aux_logits' expected value True but got False "
                                         "instead; GoogLeNet_Weights.IMAGENET1K_V1 holds the "
                                         "auxiliary heads"),
    ("googlenet", {"init_weights": True}, "'init_weights' expected value False but got True "
                                          "instead; GoogLeNet_Weights.IMAGENET1K_V1 replaces"),
    # Inception keeps its (trained) head by default: no hint to leave aux_logits out
    ("inception_v3", {"aux_logits": False}, "'aux_logits' expected value True but got False "
                                            "instead; Inception_V3_Weights.IMAGENET1K_V1 holds "
                                            "the auxiliary heads$"),
    ("inception_v3", {"init_weights": True}, "'init_weights' expected value False"),
    ("vit_b_16", {"image_size": 224, "weights": "IMAGENET1K_SWAG_E2E_V1"},
     r"'image_size' expected value 384 but got 224 instead; "
     r"ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1 was trained on 384x384 images"),
    ("vit_h_14", {"image_size": 224}, "'image_size' expected value 518 but got 224"),
])
def test_arguments_the_weights_fix(builder, kwargs, message, hub_dir):
    # refused before anything is downloaded or built, as torchvision's _ovewrite_named_param
    kwargs = {"weights": "DEFAULT", **kwargs}
    with pytest.raises(ValueError, match=f"{builder}: the parameter {message}"):
        models.get_model(builder, **kwargs)
    assert not hub_dir.exists()


@pytest.mark.parametrize("key, value", [("num_layers", 2), ("patch_size", 16),
                                        ("hidden_dim", 768), ("num_heads", 4), ("mlp_dim", 8)])
def test_vit_builders_refuse_their_shape(key, value):
    # torchvision passes them beside **kwargs: even an equal value is "multiple values"
    with pytest.raises(TypeError, match=f"vit_b_16: got multiple values for keyword argument "
                                        f"'{key}'"):
        models.vit_b_16(**{key: value})


def test_vit_weights_set_image_size_and_rename_legacy_mlp_keys(monkeypatch):
    # the published ViT files name the MLP's linears linear_1/linear_2 (now 0 and 3)
    source = models.VisionTransformer(image_size=384, patch_size=16, num_layers=12,
                                      num_heads=12, hidden_dim=768, mlp_dim=3072)
    state = {re.sub(r"\.mlp\.([03])\.", lambda m: f".mlp.linear_{int(m[1]) // 3 + 1}.", k): v
             for k, v in source.state_dict().items()}
    assert "encoder.layers.encoder_layer_0.mlp.linear_2.bias" in state
    calls = []

    def get_state_dict(self, progress=True, check_hash=False, **kwargs):
        calls.append((self, progress, check_hash))
        return dict(state)

    monkeypatch.setattr(ViT_B_16_Weights, "get_state_dict", get_state_dict)
    model = models.vit_b_16(weights="ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1", progress=False)
    assert calls == [(ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1, False, True)]
    assert model.image_size == 384
    assert tuple(model.encoder.pos_embedding.shape) == (1, 577, 768)  # 24 x 24 patches + 1
    _assert_loaded(model, source)


def test_vit_loads_the_legacy_mlp_keys_from_any_source(tmp_path):
    # as torchvision's MLPBlock (version 2): a state_dict without version metadata, or of
    # version 1, may name the MLP's linears linear_1/linear_2; a file given as weights= too
    source = models.VisionTransformer(32, 8, 2, 2, 16, 32, num_classes=3)
    legacy = {re.sub(r"\.mlp\.([03])\.", lambda m: f".mlp.linear_{int(m[1]) // 3 + 1}.", k): v
              for k, v in source.state_dict().items()}
    assert sum(".mlp.linear_" in k for k in legacy) == 8
    path = tmp_path / "vit_legacy.pth"
    flambeau.save(legacy, str(path))
    model = models.load_weights(models.VisionTransformer(32, 8, 2, 2, 16, 32, num_classes=3),
                                str(path))
    _assert_loaded(model, source)
    assert model.state_dict()._metadata["encoder.layers.encoder_layer_1.mlp"] == {"version": 2}


def test_ten_digit_hash_prefix_is_checked(http_root, hub_dir, monkeypatch):
    # ShuffleNetV2's and MNASNet's files carry 10 hex digits of their SHA-256
    folder, base = http_root
    source = models.shufflenet_v2_x0_5()
    name = _serve(source, folder, "shufflenetv2_x0.5", digits=10)
    member = ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1
    monkeypatch.setattr(member.value, "url", base + name)
    _assert_loaded(models.shufflenet_v2_x0_5(weights=member, progress=False), source)
    # one digit off: refused, nothing kept
    wrong = name[:-5] + ("0" if name[-5] != "0" else "1") + ".pth"
    (folder / name).rename(folder / wrong)
    monkeypatch.setattr(member.value, "url", base + wrong)
    with pytest.raises(RuntimeError, match=f"invalid hash value for {re.escape(base + wrong)}"):
        models.shufflenet_v2_x0_5(weights=member, progress=False)
    assert os.listdir(hub_dir) == [name]

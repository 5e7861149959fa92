"""Pretrained weights by name (torchvision's weights= API), downloads from 127.0.0.1 only."""

from __future__ import annotations

import copy
import hashlib
import http.server
import os
import pickle
import re
import threading

import numpy as np
import pytest
from PIL import Image

import flambeau
import flambeau.hub
from flambeau.vision import models
from flambeau.vision.models import (
    MobileNet_V2_Weights,
    ResNet18_Weights,
    ResNet50_Weights,
    VGG16_Weights,
    WeightsEnum,
)
from flambeau.vision.models._weight_enums import _ADAPTERS, _resolve

# torchvision's facts: (enum, member) -> (URL file name, acc@1, resize size)
TORCHVISION = {
    ("AlexNet_Weights", "IMAGENET1K_V1"): ("alexnet-owt-7be5be79.pth", 56.522, 256),
    ("VGG16_BN_Weights", "IMAGENET1K_V1"): ("vgg16_bn-6c64b313.pth", 73.36, 256),
    ("ResNet18_Weights", "IMAGENET1K_V1"): ("resnet18-f37072fd.pth", 69.758, 256),
    ("ResNet50_Weights", "IMAGENET1K_V2"): ("resnet50-11ad3fa6.pth", 80.858, 232),
    ("ResNeXt101_64X4D_Weights", "IMAGENET1K_V1"): ("resnext101_64x4d-173b62eb.pth", 83.246,
                                                    232),
    ("Wide_ResNet101_2_Weights", "IMAGENET1K_V2"): ("wide_resnet101_2-d733dc28.pth", 82.51,
                                                    232),
    ("MobileNet_V2_Weights", "IMAGENET1K_V2"): ("mobilenet_v2-7ebf99e0.pth", 72.154, 232),
    ("MobileNet_V3_Large_Weights", "IMAGENET1K_V2"): ("mobilenet_v3_large-5c1a4163.pth", 75.274,
                                                      232),
    ("DenseNet121_Weights", "IMAGENET1K_V1"): ("densenet121-a639ec97.pth", 74.434, 256),
    ("EfficientNet_B1_Weights", "IMAGENET1K_V2"): ("efficientnet_b1-c27df63c.pth", 79.838, 255),
    ("EfficientNet_V2_S_Weights", "IMAGENET1K_V1"): ("efficientnet_v2_s-dd5fe13b.pth", 84.228,
                                                     384),
}
DEFAULTS = {"resnet50": "IMAGENET1K_V2", "resnet18": "IMAGENET1K_V1", "vgg16": "IMAGENET1K_V1",
            "mobilenet_v2": "IMAGENET1K_V2", "wide_resnet50_2": "IMAGENET1K_V2"}


@pytest.mark.parametrize("key", sorted(TORCHVISION))
def test_members_carry_torchvision_facts(key):
    enum_name, member = key
    file, acc1, resize = TORCHVISION[key]
    weights = models.get_weight(f"{enum_name}.{member}")
    assert weights.url == "https://download.pytorch.org/models/" + file
    assert weights.meta["_metrics"]["ImageNet-1K"]["acc@1"] == acc1
    assert weights.transforms().resize_size == [resize]
    assert weights.transforms().crop_size[0] in (224, 240, 384)
    assert repr(weights) == f"{enum_name}.{member}"


@pytest.mark.parametrize("builder", sorted(DEFAULTS))
def test_default_member(builder):
    enum = models.get_model_weights(builder)
    assert enum.DEFAULT is enum[DEFAULTS[builder]]
    assert "DEFAULT" not in [m.name for m in enum]  # an alias, not a member of its own


def test_meta_categories_and_num_params():
    categories = ResNet18_Weights.DEFAULT.meta["categories"]
    assert len(categories) == len(set(categories)) == 1000
    assert categories[0] == "tench" and categories[-1] == "toilet tissue"
    assert ResNet18_Weights.DEFAULT.meta["min_size"] == (1, 1)
    assert VGG16_Weights.DEFAULT.meta["min_size"] == (32, 32)
    for builder in ("resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
                    "densenet121", "efficientnet_b0"):
        model = models.get_model(builder)
        expected = models.get_model_weights(builder).DEFAULT.meta["num_params"]
        assert sum(p.numel() for p in model.parameters()) == expected


def test_every_enum_covers_a_builder():
    for name in models.list_models():
        try:
            enum = models.get_model_weights(name)
        except ValueError:
            continue
        assert issubclass(enum, WeightsEnum) and enum.__doc__ and "DEFAULT" in enum.__members__
        for member in enum:
            assert member.url.startswith("https://download.pytorch.org/models/")
            assert member.meta["num_params"] > 0


def test_newer_families_presets():
    b0 = models.get_model_weights("efficientnet_b0").DEFAULT.transforms()
    assert (b0.resize_size, b0.crop_size, b0.interpolation.value) == ([256], [224], "bicubic")
    v2l = models.get_weight("EfficientNet_V2_L_Weights.DEFAULT").transforms()
    assert (v2l.resize_size, v2l.mean, v2l.std) == ([480], [0.5] * 3, [0.5] * 3)
    assert models.get_model_weights("densenet201").DEFAULT.meta["min_size"] == (29, 29)


def test_densenet_checkpoint_keys_are_renamed():
    # the published files name a dense layer's parts norm.1, relu.1, conv.1, norm.2...
    # (and predate num_batches_tracked, which batch norm fills in when missing)
    keys = [k for k in models.densenet121().state_dict() if "num_batches" not in k]
    old = [re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", k) for k in keys]
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    assert list(_ADAPTERS["densenet121"](dict.fromkeys(old))) == keys


def test_verify():
    assert ResNet18_Weights.verify(None) is None
    assert ResNet18_Weights.verify("IMAGENET1K_V1") is ResNet18_Weights.IMAGENET1K_V1
    assert ResNet18_Weights.verify("ResNet18_Weights.DEFAULT") is ResNet18_Weights.IMAGENET1K_V1
    member = ResNet50_Weights.IMAGENET1K_V1
    assert ResNet50_Weights.verify(member) is member
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received "
                                        "ResNet50_Weights"):
        ResNet18_Weights.verify(member)
    with pytest.raises(KeyError, match="ResNet18_Weights has no weights named 'IMAGENET1K_V2'"):
        ResNet18_Weights.verify("IMAGENET1K_V2")


def test_members_survive_copy_and_pickle():
    member = ResNet50_Weights.IMAGENET1K_V2
    assert copy.deepcopy(member) is member
    assert pickle.loads(pickle.dumps(member)) is member
    assert copy.deepcopy(member.value) == member.value
    assert "'categories': '<1000 names>', 'num_params': 25557032" in repr(member.value)


def test_get_weight_and_get_model_weights_errors():
    assert models.get_weight("MobileNet_V2_Weights.DEFAULT") is MobileNet_V2_Weights.IMAGENET1K_V2
    with pytest.raises(ValueError, match="get_weight: invalid weight name 'resnet50'"):
        models.get_weight("resnet50")
    with pytest.raises(ValueError, match="get_weight: unknown weights enum 'ResNet51_Weights'"):
        models.get_weight("ResNet51_Weights.DEFAULT")
    with pytest.raises(KeyError, match="ResNet50_Weights has no weights named 'V9'"):
        models.get_weight("ResNet50_Weights.V9")
    assert models.get_model_weights(models.resnet50) is ResNet50_Weights
    assert models.get_model_weights("ResNet50") is ResNet50_Weights
    with pytest.raises(ValueError, match="get_model_weights: lenet has no pretrained weights"):
        models.get_model_weights("lenet")


def test_builders_check_the_weights_before_building():
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received VGG16_Weights"):
        models.resnet18(weights=VGG16_Weights.DEFAULT)
    with pytest.raises(TypeError, match="lenet: has no pretrained weights, got "
                                        "ResNet18_Weights.IMAGENET1K_V1"):
        models.lenet(weights=ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match=r"resnet18: ResNet18_Weights.IMAGENET1K_V1 has 1000 "
                                         r"classes but num_classes=10"):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with pytest.raises(KeyError, match="ResNet18_Weights has no weights named "
                                       "'ResNet50_Weights.IMAGENET1K_V2'"):
        models.resnet18(weights="ResNet50_Weights.IMAGENET1K_V2")
    # a name of no member is a file name, as before
    with pytest.raises(FileNotFoundError, match="ResNet: weights file not found: IMAGENET1K_V9"):
        models.resnet18(weights="IMAGENET1K_V9")


def test_resolve_sets_num_classes_from_categories():
    kwargs = {}
    assert _resolve("resnet50", "ResNet50_Weights.IMAGENET1K_V1", kwargs) is \
        ResNet50_Weights.IMAGENET1K_V1
    assert kwargs == {"num_classes": 1000}
    kwargs = {}  # SSD's VGG-16 features: no categories, num_classes is left alone
    assert _resolve("vgg16", "IMAGENET1K_FEATURES", kwargs) is VGG16_Weights.IMAGENET1K_FEATURES
    assert kwargs == {}
    assert _resolve("resnet50", "weights.pth", {}) == "weights.pth"
    assert _resolve("resnet50", None, {}) is None


@pytest.mark.parity
def test_transforms_match_torch_on_tensors():
    torch = pytest.importorskip("torch")
    preset = ResNet50_Weights.IMAGENET1K_V2.transforms()
    x = np.random.default_rng(0).random((2, 3, 300, 400), dtype=np.float32)
    got = preset(flambeau.tensor(x)).cpu().numpy()
    # torchvision's steps: smaller edge to 232 (300x400 -> 232x309), centre 224 crop
    resized = torch.nn.functional.interpolate(torch.from_numpy(x), size=(232, 309),
                                              mode="bilinear", align_corners=False,
                                              antialias=True)
    top, left = round((232 - 224) / 2), round((309 - 224) / 2)
    cropped = resized[..., top:top + 224, left:left + 224]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    expected = ((cropped - mean) / std).numpy()
    assert got.shape == (2, 3, 224, 224)
    np.testing.assert_allclose(got, expected, atol=1e-4)


@pytest.mark.parity
def test_transforms_on_pil_images_match_pillow_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    got = ResNet18_Weights.DEFAULT.transforms()(image).cpu().numpy()
    # 240x320 -> 256x341 with Pillow's bilinear filter, then the centre 224 square
    resized = np.asarray(image.resize((341, 256), Image.Resampling.BILINEAR))
    top, left = round((256 - 224) / 2), round((341 - 224) / 2)
    crop = torch.from_numpy(resized[top:top + 224, left:left + 224].copy()).permute(2, 0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    expected = ((crop.float() / 255 - mean) / std).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_transforms_repr_and_describe():
    preset = VGG16_Weights.IMAGENET1K_FEATURES.transforms()
    assert preset.mean == [0.48235, 0.45882, 0.40784]
    assert repr(preset).startswith("ImageClassification(\n    crop_size=[224]\n"
                                   "    resize_size=[256]\n")
    assert "crop_size=[224]" in preset.describe()


# ---- downloads from a server on 127.0.0.1 ----

@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    folder = tmp_path / "hub"
    monkeypatch.setattr(flambeau.hub, "_hub_dir", str(folder))
    return folder / "checkpoints"


def _torch_checkpoint(torch, model, folder, stem):
    """``model``'s state_dict saved by torch as ``stem-<sha256 prefix>.pth``; its name."""
    state = {k: torch.from_numpy(v.cpu().numpy().copy()) for k, v in model.state_dict().items()}
    tmp = folder / "tmp.pth"
    torch.save(state, tmp)
    name = f"{stem}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(folder / name)
    return name


@pytest.mark.parity
def test_builder_downloads_checks_and_loads(http_root, hub_dir, monkeypatch):
    torch = pytest.importorskip("torch")
    folder, base = http_root
    source = models.mobilenet_v2()
    name = _torch_checkpoint(torch, source, folder, "mobilenet_v2")
    member = MobileNet_V2_Weights.IMAGENET1K_V2
    monkeypatch.setattr(member.value, "url", base + name)
    model = models.mobilenet_v2(weights="IMAGENET1K_V2", progress=False)
    expected = {k: v.cpu().numpy() for k, v in source.state_dict().items()}
    got = model.state_dict()
    assert set(got) == set(expected)
    for key, value in got.items():
        np.testing.assert_array_equal(value.cpu().numpy(), expected[key])
    assert os.listdir(hub_dir) == [name]
    # cached: the server's copy is gone, the same weights load by enum and full name
    (folder / name).unlink()
    again = models.get_model("mobilenet_v2", weights="MobileNet_V2_Weights.DEFAULT",
                             progress=False)
    np.testing.assert_array_equal(again.classifier[1].weight.detach().cpu().numpy(),
                                  expected["classifier.1.weight"])
    state = member.get_state_dict(progress=False)
    assert isinstance(state["features.0.0.weight"], flambeau.Tensor)


@pytest.mark.parity
def test_registered_adapter_renames_the_downloaded_keys(http_root, hub_dir, monkeypatch):
    # as DenseNet's published checkpoints, whose keys predate the module names
    torch = pytest.importorskip("torch")
    folder, base = http_root
    source = models.mobilenet_v2()
    state = {"module." + k: torch.from_numpy(v.cpu().numpy().copy())
             for k, v in source.state_dict().items()}
    torch.save(state, folder / "tmp.pth")
    name = f"mobilenet_v2-{hashlib.sha256((folder / 'tmp.pth').read_bytes()).hexdigest()[:8]}.pth"
    (folder / "tmp.pth").rename(folder / name)
    monkeypatch.setattr(MobileNet_V2_Weights.IMAGENET1K_V1.value, "url", base + name)
    monkeypatch.setitem(_ADAPTERS, "mobilenet_v2",
                        lambda sd: {k.removeprefix("module."): v for k, v in sd.items()})
    model = models.mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V1, progress=False)
    np.testing.assert_array_equal(model.state_dict()["features.0.0.weight"].cpu().numpy(),
                                  source.state_dict()["features.0.0.weight"].cpu().numpy())
    monkeypatch.delitem(_ADAPTERS, "mobilenet_v2")  # without it the keys do not match
    with pytest.raises(RuntimeError, match="module.features.0.0.weight"):
        models.mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V1, progress=False)


@pytest.mark.parity
def test_wrong_hash_leaves_no_file(http_root, hub_dir, monkeypatch):
    torch = pytest.importorskip("torch")
    folder, base = http_root
    name = _torch_checkpoint(torch, flambeau.nn.Linear(2, 2), folder, "tiny")
    (folder / name).rename(folder / "resnet18-00000000.pth")
    url = base + "resnet18-00000000.pth"
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", url)
    with pytest.raises(RuntimeError, match=f"invalid hash value for {url}"):
        models.resnet18(weights=ResNet18_Weights.DEFAULT, progress=False)
    assert os.listdir(hub_dir) == []
    # without check_hash the file loads (it holds a Linear's state_dict)
    state = ResNet18_Weights.DEFAULT.get_state_dict(progress=False)
    assert sorted(state) == ["bias", "weight"]


def test_missing_file_names_the_url(http_root, hub_dir, monkeypatch):
    _, base = http_root
    url = base + "resnet18-f37072fd.pth"
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", url)
    with pytest.raises(OSError, match=f"ResNet18_Weights.IMAGENET1K_V1: downloading {url} "
                                      "failed .HTTPError"):
        models.resnet18(weights="DEFAULT", progress=False)
    assert os.listdir(hub_dir) == []


class _Truncating(http.server.BaseHTTPRequestHandler):
    """Promises 1000 bytes, sends 10 and hangs up: a download cut short."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_partial_download_leaves_no_file(hub_dir, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Truncating)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/resnet18-f37072fd.pth"
        monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", url)
        with pytest.raises(ConnectionError, match=f"{url} ended after 10 of 1000 bytes"):
            ResNet18_Weights.DEFAULT.get_state_dict(progress=False, check_hash=True)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert os.listdir(hub_dir) == []

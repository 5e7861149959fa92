"""Model trees: parameter counts, forward/backward, weights= files, torchvision parity."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.vision import models

# torchvision's published parameter counts (1000 classes)
COUNTS = {
    "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848, "vgg13_bn": 133_053_736, "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "mobilenet_v2": 3_504_872,
}


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_count_matches_torchvision(name):
    kwargs = {"init_weights": False} if name.startswith("vgg") else {}
    assert count(models.get_model(name, **kwargs)) == COUNTS[name]


def test_lenet_tree_and_count():
    model = models.lenet()
    assert count(model) == 61_706
    assert [k for k in model.state_dict()] == [
        "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
        "classifier.0.weight", "classifier.0.bias", "classifier.2.weight",
        "classifier.2.bias", "classifier.4.weight", "classifier.4.bias"]
    with pytest.raises(ValueError, match=r"LeNet expected input of shape \(N, 1, H, W\) with "
                                         r"H, W >= 16, got \(2, 1, 8, 8\)"):
        model(flambeau.zeros(2, 1, 8, 8))


def test_state_dict_keys_follow_torchvision():
    keys = list(models.resnet18().state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer2.0.downsample.1.bias" in keys
    assert "layer3.1.bn2.running_var" in keys and keys[-2:] == ["fc.weight", "fc.bias"]
    mobile = list(models.mobilenet_v2().state_dict())
    assert mobile[0] == "features.0.0.weight" and "features.1.conv.0.0.weight" in mobile
    assert "features.2.conv.3.running_mean" in mobile and "features.18.1.weight" in mobile
    assert mobile[-2:] == ["classifier.1.weight", "classifier.1.bias"]
    assert "layer1.0.conv3.weight" in models.resnet50().state_dict()


@pytest.mark.parametrize("name, side", [
    ("lenet", 28), ("alexnet", 64), ("vgg11_bn", 32), ("resnet18", 32),
    ("resnet50", 32), ("mobilenet_v2", 32),
])
def test_forward_backward_small_batch(name, side):
    channels = 1 if name == "lenet" else 3
    kwargs = {"num_classes": 7}
    if name.startswith("vgg"):
        kwargs["init_weights"] = True
    model = models.get_model(name, **kwargs)
    x = flambeau.randn(2, channels, side, side)
    logits = model(x)
    assert tuple(logits.shape) == (2, 7) and bool(flambeau.isfinite(logits).all())
    nn.CrossEntropyLoss()(logits, flambeau.tensor([1, 6])).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert float(sum(g.abs().sum() for g in grads)) > 0


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown model 'resnet9'; available: alexnet, .*lenet"):
        models.get_model("resnet9")
    assert "mobilenet_v2" in models.list_models()


def write_safetensors(path, tensors: dict) -> None:
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def test_weights_from_safetensors(tmp_path):
    source = models.lenet()
    path = tmp_path / "lenet.safetensors"
    write_safetensors(path, {k: v.cpu().numpy() for k, v in source.state_dict().items()})
    loaded = models.lenet(weights=str(path))
    x = flambeau.randn(3, 1, 28, 28)
    np.testing.assert_array_equal(loaded(x).detach().cpu().numpy(),
                                  source(x).detach().cpu().numpy())


def test_weights_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="LeNet: weights file not found"):
        models.lenet(weights=str(tmp_path / "missing.pth"))
    path = tmp_path / "other.pt"
    flambeau.save(models.lenet(num_classes=3).state_dict(), path)
    with pytest.raises(RuntimeError):
        models.lenet(weights=str(path))  # classifier shapes differ


# ---- a torchvision-structured ResNet-18 written with torch.nn, for the parity test ----

def torch_resnet18(torch):
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(
                    tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class Net(tnn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            widths, inplanes = (64, 128, 256, 512), 64
            for i, width in enumerate(widths):
                stride = 1 if i == 0 else 2
                layer = tnn.Sequential(Block(inplanes, width, stride), Block(width, width, 1))
                setattr(self, f"layer{i + 1}", layer)
                inplanes = width
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net


@pytest.mark.parity
def test_torch_resnet18_state_dict_gives_same_logits(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch_resnet18(torch)(num_classes=10)
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    reference.eval()
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    model = models.resnet18(num_classes=10, weights=str(path)).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).cpu().numpy()
    with flambeau.no_grad():
        got = model(flambeau.tensor(x)).cpu().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert set(model.state_dict()) == set(reference.state_dict())

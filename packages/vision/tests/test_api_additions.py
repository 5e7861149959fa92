"""What the API sweep against torchvision added: adjust_gamma, image-size helpers, ResNet
dilation and the ResNet-152 / ResNeXt / wide-ResNet builders, MobileNetV2 settings,
list_models filters, RandomChoice's arguments, default_loader."""

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision import models
from flambeau.vision import transforms as T
from flambeau.vision.transforms import functional as F


@pytest.mark.parametrize("gamma,gain", [(0.5, 1), (2.0, 1), (1.3, 1.5)])
def test_adjust_gamma_on_the_three_image_kinds(gamma, gain):
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    # torchvision's rule: gain * (x / 255) ** gamma in [0, 1], back to uint8 by truncation
    expected = (np.clip(gain * (u8 / 255.0) ** gamma, 0, 1) * (256 - 1e-3)).astype(np.uint8)
    got_np = F.adjust_gamma(u8, gamma, gain)
    got_pil = np.asarray(F.adjust_gamma(Image.fromarray(u8), gamma, gain))
    got_t = F.adjust_gamma(flambeau.tensor(u8.transpose(2, 0, 1).copy()), gamma, gain)
    for got in (got_np, got_pil, got_t.cpu().numpy().transpose(1, 2, 0)):
        assert got.dtype == np.uint8
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1  # float32 vs 64
    floats = rng.random((3, 4, 4), dtype=np.float32)
    out = F.adjust_gamma(flambeau.tensor(floats), gamma, gain)
    assert out.dtype == flambeau.float32
    np.testing.assert_allclose(out.cpu().numpy(), np.clip(gain * floats ** gamma, 0, 1), rtol=1e-6)
    assert F.adjust_gamma(Image.fromarray(u8[..., 0]), gamma, gain).mode == "L"


def test_adjust_gamma_rejects_a_negative_gamma():
    with pytest.raises(ValueError, match="gamma"):
        F.adjust_gamma(flambeau.zeros(1, 2, 2), -1.0)


def test_image_size_helpers():
    assert F.get_image_size(np.zeros((4, 5, 3), np.uint8)) == [5, 4]
    assert F.get_image_size(Image.new("L", (7, 2))) == [7, 2]
    assert F.get_image_num_channels(flambeau.zeros(2, 3, 4, 5)) == 3
    assert F.get_image_num_channels(flambeau.zeros(4, 5)) == 1


def test_resnet_replace_stride_with_dilation():
    net = models.resnet50(num_classes=3, replace_stride_with_dilation=[False, True, True])
    assert net.layer3[0].conv2.dilation == (1, 1) and net.layer3[1].conv2.dilation == (2, 2)
    assert net.layer4[0].conv2.dilation == (2, 2) and net.layer4[1].conv2.dilation == (4, 4)
    assert net.layer4[0].conv2.stride == (1, 1) and net.layer4[0].downsample[0].stride == (1, 1)
    trunk = flambeau.nn.Sequential(*list(net.children())[:-2]).eval()
    assert tuple(trunk(flambeau.zeros(1, 3, 64, 64)).shape) == (1, 2048, 8, 8)  # stride 8
    with pytest.raises(ValueError, match="replace_stride_with_dilation"):
        models.resnet18(replace_stride_with_dilation=[True])


@pytest.mark.parametrize("name,blocks,groups,width", [
    ("resnet152", [3, 8, 36, 3], 1, 64),
    ("resnext50_32x4d", [3, 4, 6, 3], 32, 128),
    ("resnext101_32x8d", [3, 4, 23, 3], 32, 256),
    ("resnext101_64x4d", [3, 4, 23, 3], 64, 256),
    ("wide_resnet50_2", [3, 4, 6, 3], 1, 128),
    ("wide_resnet101_2", [3, 4, 23, 3], 1, 128),
])
def test_deeper_and_wider_resnets(name, blocks, groups, width):
    net = models.get_model(name, num_classes=10)
    assert [len(getattr(net, f"layer{i}")) for i in range(1, 5)] == blocks
    assert net.layer1[0].conv2.groups == groups
    assert net.layer1[0].conv2.out_channels == width
    if name != "resnet152":  # the others fix their block shape, as torchvision's
        with pytest.raises(ValueError, match="groups=2"):
            getattr(models, name)(groups=2)


def test_resnext50_parameter_count_is_torchvisions():
    assert sum(p.numel() for p in models.resnext50_32x4d().parameters()) == 25_028_904


def test_mobilenet_v2_custom_settings_and_block():
    made = []

    def block(inp, oup, stride, expand_ratio, norm_layer=None):
        made.append((inp, oup, stride, expand_ratio))
        return models.InvertedResidual(inp, oup, stride, expand_ratio, norm_layer=norm_layer)

    net = models.MobileNetV2(num_classes=4, inverted_residual_setting=[[1, 16, 1, 1],
                                                                       [6, 24, 2, 2]],
                             block=block)
    assert made == [(32, 16, 1, 1), (16, 24, 2, 6), (24, 24, 1, 6)]
    assert tuple(net(flambeau.zeros(1, 3, 32, 32)).shape) == (1, 4)
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.MobileNetV2(inverted_residual_setting=[[1, 16, 1]])


def test_list_models_filters():
    everything = models.list_models()
    assert models.list_models(module=models) == everything
    assert models.list_models(include="vgg1?_bn") == ["vgg11_bn", "vgg13_bn", "vgg16_bn",
                                                      "vgg19_bn"]
    assert models.list_models(include=["resnext*", "wide*"], exclude="*101*") == [
        "resnext50_32x4d", "wide_resnet50_2"]
    assert models.list_models(module=flambeau.nn) == []


def test_random_choice_passes_every_argument():
    pick = T.RandomChoice([lambda img, target: (target, img)])
    assert pick("image", "label") == ("label", "image")


def test_conversions_take_pic_as_torchvision():
    assert T.ToTensor()(pic=np.zeros((1, 1, 1), np.uint8)).shape == (1, 1, 1)
    assert T.PILToTensor()(pic=Image.new("L", (1, 1))).shape == (1, 1, 1)
    assert T.ToPILImage()(pic=flambeau.zeros(1, 1, 1)).size == (1, 1)


def test_image_folder_default_loader(tmp_path):
    from flambeau.vision.datasets import ImageFolder, default_loader

    (tmp_path / "cat").mkdir()
    Image.new("L", (3, 2), 9).save(tmp_path / "cat" / "a.png")
    ds = ImageFolder(tmp_path)
    assert ds.loader is default_loader
    image, label = ds[0]
    assert (image.mode, image.size, label) == ("RGB", (3, 2), 0)

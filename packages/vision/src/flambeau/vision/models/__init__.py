"""flambeau.vision.models: torchvision-compatible model definitions.

Module trees, parameter names and parameter counts match torchvision's, so a torchvision
``state_dict`` (``.pth``) or a safetensors file loads with ``weights=PATH`` and gives the
same outputs.

Examples
--------
>>> from flambeau.vision import models
>>> model = models.get_model("resnet18", num_classes=10)
>>> model.fc.out_features
10
"""

import fnmatch

from flambeau.vision.models._alexnet import AlexNet, alexnet
from flambeau.vision.models._convnext import (
    CNBlockConfig,
    ConvNeXt,
    convnext_base,
    convnext_large,
    convnext_small,
    convnext_tiny,
)
from flambeau.vision.models._densenet import (
    DenseNet,
    densenet121,
    densenet161,
    densenet169,
    densenet201,
)
from flambeau.vision.models._efficientnet import (
    EfficientNet,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
)
from flambeau.vision.models._googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from flambeau.vision.models._inception import Inception3, InceptionOutputs, inception_v3
from flambeau.vision.models._layers import Conv2dNormActivation
from flambeau.vision.models._lenet import LeNet, lenet
from flambeau.vision.models._mnasnet import (
    MNASNet,
    mnasnet0_5,
    mnasnet0_75,
    mnasnet1_0,
    mnasnet1_3,
)
from flambeau.vision.models._mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2
from flambeau.vision.models._mobilenetv3 import (
    MobileNetV3,
    mobilenet_v3_large,
    mobilenet_v3_small,
)
from flambeau.vision.models._regnet import (
    RegNet,
    regnet_x_1_6gf,
    regnet_x_3_2gf,
    regnet_x_8gf,
    regnet_x_16gf,
    regnet_x_32gf,
    regnet_x_400mf,
    regnet_x_800mf,
    regnet_y_1_6gf,
    regnet_y_3_2gf,
    regnet_y_8gf,
    regnet_y_16gf,
    regnet_y_32gf,
    regnet_y_128gf,
    regnet_y_400mf,
    regnet_y_800mf,
)
from flambeau.vision.models._resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)
from flambeau.vision.models._shufflenet import (
    ShuffleNetV2,
    shufflenet_v2_x0_5,
    shufflenet_v2_x1_0,
    shufflenet_v2_x1_5,
    shufflenet_v2_x2_0,
)
from flambeau.vision.models._squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from flambeau.vision.models._vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from flambeau.vision.models._vit import (
    VisionTransformer,
    vit_b_16,
    vit_b_32,
    vit_h_14,
    vit_l_16,
    vit_l_32,
)
from flambeau.vision.models._weight_enums import (
    AlexNet_Weights,
    ConvNeXt_Base_Weights,
    ConvNeXt_Large_Weights,
    ConvNeXt_Small_Weights,
    ConvNeXt_Tiny_Weights,
    DenseNet121_Weights,
    DenseNet161_Weights,
    DenseNet169_Weights,
    DenseNet201_Weights,
    EfficientNet_B0_Weights,
    EfficientNet_B1_Weights,
    EfficientNet_B2_Weights,
    EfficientNet_B3_Weights,
    EfficientNet_B4_Weights,
    EfficientNet_B5_Weights,
    EfficientNet_B6_Weights,
    EfficientNet_B7_Weights,
    EfficientNet_V2_L_Weights,
    EfficientNet_V2_M_Weights,
    EfficientNet_V2_S_Weights,
    GoogLeNet_Weights,
    Inception_V3_Weights,
    MNASNet0_5_Weights,
    MNASNet0_75_Weights,
    MNASNet1_0_Weights,
    MNASNet1_3_Weights,
    MobileNet_V2_Weights,
    MobileNet_V3_Large_Weights,
    MobileNet_V3_Small_Weights,
    RegNet_X_1_6GF_Weights,
    RegNet_X_3_2GF_Weights,
    RegNet_X_8GF_Weights,
    RegNet_X_16GF_Weights,
    RegNet_X_32GF_Weights,
    RegNet_X_400MF_Weights,
    RegNet_X_800MF_Weights,
    RegNet_Y_1_6GF_Weights,
    RegNet_Y_3_2GF_Weights,
    RegNet_Y_8GF_Weights,
    RegNet_Y_16GF_Weights,
    RegNet_Y_32GF_Weights,
    RegNet_Y_128GF_Weights,
    RegNet_Y_400MF_Weights,
    RegNet_Y_800MF_Weights,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    ResNeXt50_32X4D_Weights,
    ResNeXt101_32X8D_Weights,
    ResNeXt101_64X4D_Weights,
    ShuffleNet_V2_X0_5_Weights,
    ShuffleNet_V2_X1_0_Weights,
    ShuffleNet_V2_X1_5_Weights,
    ShuffleNet_V2_X2_0_Weights,
    SqueezeNet1_0_Weights,
    SqueezeNet1_1_Weights,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    ViT_B_16_Weights,
    ViT_B_32_Weights,
    ViT_H_14_Weights,
    ViT_L_16_Weights,
    ViT_L_32_Weights,
    Weights,
    WeightsEnum,
    Wide_ResNet50_2_Weights,
    Wide_ResNet101_2_Weights,
    get_model_weights,
    get_weight,
)
from flambeau.vision.models._weights import load_weights

_BUILDERS = {
    f.__name__: f
    for f in (lenet, alexnet, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19,
              vgg19_bn, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
              resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2,
              mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, densenet121, densenet161,
              densenet169, densenet201, efficientnet_b0, efficientnet_b1, efficientnet_b2,
              efficientnet_b3, efficientnet_b4, efficientnet_b5, efficientnet_b6,
              efficientnet_b7, efficientnet_v2_s, efficientnet_v2_m, efficientnet_v2_l,
              convnext_tiny, convnext_small, convnext_base, convnext_large, vit_b_16,
              vit_b_32, vit_l_16, vit_l_32, vit_h_14, shufflenet_v2_x0_5, shufflenet_v2_x1_0,
              shufflenet_v2_x1_5, shufflenet_v2_x2_0, squeezenet1_0, squeezenet1_1, googlenet,
              inception_v3, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3, regnet_y_400mf,
              regnet_y_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf,
              regnet_y_32gf, regnet_y_128gf, regnet_x_400mf, regnet_x_800mf, regnet_x_1_6gf,
              regnet_x_3_2gf, regnet_x_8gf, regnet_x_16gf, regnet_x_32gf)
}


def _patterns(value):
    return [value] if isinstance(value, str) else list(value)


def list_models(module=None, include=None, exclude=None) -> list[str]:
    """The names :func:`get_model` accepts, sorted, optionally filtered.

    Parameters
    ----------
    module : module, optional
        Keep only the models defined in this module (or package), e.g.
        ``flambeau.vision.models``.
    include, exclude : str or list of str, optional
        ``fnmatch`` patterns (``"resnet*"``) a name must match / must not match.

    Examples
    --------
    >>> from flambeau.vision.models import list_models
    >>> "resnet50" in list_models()
    True
    >>> list_models(include="resnet*", exclude=["*101", "*152"])
    ['resnet18', 'resnet34', 'resnet50']
    """
    names = sorted(_BUILDERS)
    if module is not None:
        prefix = module.__name__
        names = [n for n in names if _BUILDERS[n].__module__ == prefix
                 or _BUILDERS[n].__module__.startswith(prefix + ".")]
    if include is not None:
        names = [n for n in names
                 if any(fnmatch.fnmatch(n, p) for p in _patterns(include))]
    if exclude is not None:
        names = [n for n in names
                 if not any(fnmatch.fnmatch(n, p) for p in _patterns(exclude))]
    return names


def get_model(name: str, **config):
    """Build a model by name (``weights=``, ``num_classes=`` ... are passed on).

    ``weights=`` takes what the builder takes: a weights enum member
    (``ResNet50_Weights.DEFAULT``), its name (``"IMAGENET1K_V2"`` or
    ``"ResNet50_Weights.IMAGENET1K_V2"``), a local file or a state_dict.

    Examples
    --------
    >>> from flambeau.vision.models import get_model
    >>> type(get_model("lenet")).__name__
    'LeNet'
    """
    try:
        builder = _BUILDERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}") \
            from None
    return builder(**config)


__all__ = [
    "LeNet", "lenet", "AlexNet", "alexnet", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
    "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "ResNet", "BasicBlock", "Bottleneck",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
    "MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2", "load_weights",
    "MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small",
    "DenseNet", "densenet121", "densenet161", "densenet169", "densenet201",
    "EfficientNet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
    "ConvNeXt", "CNBlockConfig", "convnext_tiny", "convnext_small", "convnext_base",
    "convnext_large",
    "VisionTransformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14",
    "ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0", "SqueezeNet", "squeezenet1_0", "squeezenet1_1",
    "GoogLeNet", "GoogLeNetOutputs", "googlenet", "Inception3", "InceptionOutputs",
    "inception_v3", "MNASNet", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "RegNet", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf",
    "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf", "regnet_x_400mf",
    "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf",
    "regnet_x_32gf",
    "get_model", "list_models",
    "Weights", "WeightsEnum", "get_weight", "get_model_weights", "AlexNet_Weights",
    "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights", "VGG16_Weights",
    "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "ResNet18_Weights",
    "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights",
    "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights", "ResNeXt101_64X4D_Weights",
    "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights", "MobileNet_V2_Weights",
    "MobileNet_V3_Large_Weights", "MobileNet_V3_Small_Weights", "DenseNet121_Weights",
    "DenseNet161_Weights", "DenseNet169_Weights", "DenseNet201_Weights", "EfficientNet_B0_Weights",
    "EfficientNet_B1_Weights", "EfficientNet_B2_Weights", "EfficientNet_B3_Weights",
    "EfficientNet_B4_Weights", "EfficientNet_B5_Weights", "EfficientNet_B6_Weights",
    "EfficientNet_B7_Weights", "EfficientNet_V2_S_Weights", "EfficientNet_V2_M_Weights",
    "EfficientNet_V2_L_Weights",
    "ConvNeXt_Tiny_Weights", "ConvNeXt_Small_Weights", "ConvNeXt_Base_Weights",
    "ConvNeXt_Large_Weights", "ViT_B_16_Weights", "ViT_B_32_Weights", "ViT_L_16_Weights",
    "ViT_L_32_Weights", "ViT_H_14_Weights", "GoogLeNet_Weights", "Inception_V3_Weights",
    "MNASNet0_5_Weights", "MNASNet0_75_Weights", "MNASNet1_0_Weights", "MNASNet1_3_Weights",
    "RegNet_Y_400MF_Weights", "RegNet_Y_800MF_Weights", "RegNet_Y_1_6GF_Weights",
    "RegNet_Y_3_2GF_Weights", "RegNet_Y_8GF_Weights", "RegNet_Y_16GF_Weights",
    "RegNet_Y_32GF_Weights", "RegNet_Y_128GF_Weights", "RegNet_X_400MF_Weights",
    "RegNet_X_800MF_Weights", "RegNet_X_1_6GF_Weights", "RegNet_X_3_2GF_Weights",
    "RegNet_X_8GF_Weights", "RegNet_X_16GF_Weights", "RegNet_X_32GF_Weights",
    "ShuffleNet_V2_X0_5_Weights", "ShuffleNet_V2_X1_0_Weights", "ShuffleNet_V2_X1_5_Weights",
    "ShuffleNet_V2_X2_0_Weights", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights",
]

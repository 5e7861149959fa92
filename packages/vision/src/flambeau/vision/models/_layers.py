"""Building blocks shared by the model families (torchvision.ops' blocks, same names)."""

from __future__ import annotations

import flambeau
from flambeau import nn

# one definition of the blocks torchvision keeps in ops; the model families import them here
from flambeau.vision.ops._misc import Conv2dNormActivation, SqueezeExcitation, StochasticDepth

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "make_divisible",
           "init_conv_bn_linear"]


def make_divisible(value: float, divisor: int, min_value=None) -> int:
    """Round channels to a multiple of ``divisor``, never more than 10% below ``value``."""
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def init_conv_bn_linear(model, linear_std=0.01):
    """torchvision's usual initialization: He (fan-out) convs, unit norms, small linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear_std is None:
                init_range = 1.0 / m.out_features ** 0.5
                nn.init.uniform_(m.weight, -init_range, init_range)
            else:
                nn.init.normal_(m.weight, 0, linear_std)
            nn.init.zeros_(m.bias)


def flatten_pool(x):
    """Global average pool to ``(N, C)``."""
    return flambeau.flatten(nn.functional.adaptive_avg_pool2d(x, (1, 1)), 1)

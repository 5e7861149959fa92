"""Dense layers: Identity, Linear, Bilinear."""

from __future__ import annotations

import math

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = ["Bilinear", "Identity", "Linear"]


class Identity(Module):
    """Return the input unchanged (arguments are accepted and ignored).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> x = flambeau.ones(2)
    >>> nn.Identity(54, unused="x")(x) is x
    True
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last dimension.

    ``weight`` has shape ``(out_features, in_features)`` and, like ``bias``, starts as
    PyTorch's: uniform in ``(-1/sqrt(in_features), 1/sqrt(in_features))``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output sample.
    bias : bool
        Whether to learn an additive bias (default True).
    device, dtype : optional
        Where and in which floating dtype to create the parameters.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> fc = nn.Linear(20, 30)
    >>> fc(flambeau.randn(128, 20)).shape
    flambeau.Size([128, 30])
    >>> try:
    ...     fc(flambeau.randn(2, 10))
    ... except RuntimeError as e:
    ...     print(e)
    Linear expected input with 20 features in its last dimension, got 10 (input shape (2, 10))
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(flambeau.empty(out_features, in_features, device=device,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(flambeau.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weight with kaiming_uniform_(a=sqrt(5)) and the bias in +-1/sqrt(fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear expected input with {self.in_features} features in its last dimension, "
                f"got {shape[-1] if shape else 'a 0-d tensor'} (input shape {tuple(shape)})"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1 @ weight[o] @ x2 + bias[o]`` for each output ``o``.

    Parameters
    ----------
    in1_features, in2_features, out_features : int
        Sizes of the two inputs and of the output.
    bias : bool
        Whether to learn an additive bias.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> m = nn.Bilinear(20, 30, 40)
    >>> m(flambeau.randn(128, 20), flambeau.randn(128, 30)).shape
    flambeau.Size([128, 40])
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(flambeau.empty(out_features, in1_features, in2_features,
                                               device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(flambeau.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight and bias uniformly in +-1/sqrt(in1_features)."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        for i, (x, n) in enumerate(((input1, self.in1_features), (input2, self.in2_features))):
            if x.ndim == 0 or x.shape[-1] != n:
                raise RuntimeError(
                    f"Bilinear expected input{i + 1} with {n} features in its last dimension, "
                    f"got input shape {tuple(x.shape)}"
                )
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

"""Activation layers: ReLU, GELU, Softmax, ... (each calls its functional form)."""

from __future__ import annotations

import warnings

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = [
    "CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
    "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "RReLU", "ReLU", "ReLU6", "SELU",
    "SiLU", "Sigmoid", "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign",
    "Tanh", "Tanhshrink", "Threshold",
]


def _inplace(flag, sep=""):
    return sep + "inplace=True" if flag else ""


class ReLU(Module):
    """Max(x, 0) elementwise.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.ReLU()(flambeau.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """X where positive, else negative_slope * x.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LeakyReLU()(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.0100,  2.0000])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f'negative_slope={self.negative_slope}' + _inplace(self.inplace, ', ')


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes in training, their mean in eval.

    Parameters
    ----------
    lower, upper : float
        The range of the uniformly drawn negative slopes.
    inplace : bool
        Overwrite the input.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> act = nn.RReLU(0.1, 0.3)
    >>> act
    RReLU(lower=0.1, upper=0.3)
    >>> act.eval()(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.2000,  2.0000])
    >>> y = act.train()(-flambeau.ones(100))
    >>> bool(((y <= -0.1) & (y >= -0.3)).all())
    True
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + _inplace(self.inplace, ", ")


class ELU(Module):
    """X where positive, else alpha * (exp(x) - 1).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.ELU()(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f'alpha={self.alpha}' + _inplace(self.inplace, ', ')


class CELU(Module):
    """Max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.CELU()(flambeau.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f'alpha={self.alpha}' + _inplace(self.inplace, ', ')


class SELU(Module):
    """Scale * elu(x, alpha) with the self-normalizing constants.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.SELU()(flambeau.tensor([1.0]))
    tensor([1.0507])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class GELU(Module):
    """X * Phi(x) (approximate='tanh' uses the tanh formula).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.GELU()(flambeau.tensor([1.0]))
    tensor([0.8413])
    """

    def __init__(self, approximate='none'):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f'approximate={self.approximate!r}'


class SiLU(Module):
    """X * sigmoid(x).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.SiLU()(flambeau.tensor([1.0]))
    tensor([0.7311])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class Mish(Module):
    """X * tanh(softplus(x)).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Mish()(flambeau.tensor([1.0]))
    tensor([0.8651])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class Softplus(Module):
    """Log(1 + exp(beta * x)) / beta, linear above threshold.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Softplus()(flambeau.tensor([0.0]))
    tensor([0.6931])
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f'beta={self.beta}, threshold={self.threshold}'


class Softsign(Module):
    """``x / (1 + |x|)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Softsign()(flambeau.tensor([1.0]))
    tensor([0.5000])
    """

    def forward(self, input):
        return F.softsign(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Sigmoid()(flambeau.tensor([0.0]))
    tensor([0.5000])
    """

    def forward(self, input):
        return flambeau.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Tanh()(flambeau.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input):
        return flambeau.tanh(input)


class Hardsigmoid(Module):
    """Clamp(x / 6 + 1 / 2, 0, 1).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Hardsigmoid()(flambeau.tensor([0.0]))
    tensor([0.5000])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Hardswish(Module):
    """X * relu6(x + 3) / 6.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Hardswish()(flambeau.tensor([4.0]))
    tensor([4.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class Hardtanh(Module):
    """X clamped to [min_val, max_val].

    ``min_value``/``max_value`` are torch's deprecated spellings of ``min_val``/``max_val``
    (a FutureWarning); ``max_val`` must be greater than ``min_val``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Hardtanh()(flambeau.tensor([3.0]))
    tensor([1.])
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        # min_value/max_value are torch's deprecated spellings, still accepted with a warning
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if not max_val > min_val:
            raise AssertionError(
                f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f'min_val={self.min_val}, max_val={self.max_val}' + _inplace(self.inplace, ', ')


class ReLU6(Hardtanh):
    """Min(max(x, 0), 6) elementwise.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.ReLU6()(flambeau.tensor([-1.0, 7.0]))
    tensor([0., 6.])
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input):
        return F.relu6(input, self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class LogSigmoid(Module):
    """Log(sigmoid(x)), computed stably.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LogSigmoid()(flambeau.tensor([0.0]))
    tensor([-0.6931])
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Softmax(Module):
    """Exp(x) / sum(exp(x)) along dim.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Softmax(dim=0)(flambeau.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f'dim={self.dim}'


class Softmax2d(Module):
    """Softmax over the channels of each position: ``(N, C, H, W)`` or ``(C, H, W)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> y = nn.Softmax2d()(flambeau.randn(2, 3, 4, 5))
    >>> y.shape, bool(((y.sum(1) - 1).abs() < 1e-6).all())
    (flambeau.Size([2, 3, 4, 5]), True)
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead (input shape {tuple(input.shape)})")
        return F.softmax(input, -3)


class LogSoftmax(Module):
    """Log(softmax(x)) along dim.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.LogSoftmax(dim=0)(flambeau.tensor([0.0, 0.0]))
    tensor([-0.6931, -0.6931])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f'dim={self.dim}'


class Softmin(Module):
    """Softmax(-x) along dim.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Softmin(dim=0)(flambeau.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f'dim={self.dim}'


class Threshold(Module):
    """X where x > threshold, else value.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Threshold(1.0, 0.0)(flambeau.tensor([0.5, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f'threshold={self.threshold}, value={self.value}' + _inplace(self.inplace, ', ')


class GLU(Module):
    """A * sigmoid(b), with a and b the halves of the input along dim.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.GLU()(flambeau.tensor([1.0, 0.0]))
    tensor([0.5000])
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f'dim={self.dim}'


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Hardshrink()(flambeau.tensor([0.2, 1.0]))
    tensor([0., 1.])
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f'{self.lambd}'


class Softshrink(Module):
    """X - lambd above lambd, x + lambd below -lambd, else 0.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Softshrink()(flambeau.tensor([0.2, 1.0]))
    tensor([0.0000, 0.5000])
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Tanhshrink(Module):
    """X - tanh(x).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.Tanhshrink()(flambeau.tensor([0.0]))
    tensor([0.])
    """

    def forward(self, input):
        return F.tanhshrink(input)


class PReLU(Module):
    """x where positive, else a * x, with ``a`` learned (one value or one per channel).

    Parameters
    ----------
    num_parameters : int
        1, or the number of channels (dimension 1 of the input).
    init : float
        The initial value of ``a``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.PReLU()(flambeau.tensor([-1.0, 2.0])).detach()
    tensor([-0.2500,  2.0000])
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(flambeau.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Fill the slopes with ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"

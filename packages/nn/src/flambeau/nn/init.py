"""flambeau.nn.init: weight initialization (``uniform_``, ``kaiming_normal_``, ...).

Every function fills its tensor in place without recording gradients and draws from
flambeau's random generators, so ``flambeau.manual_seed`` reproduces the values.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> w = flambeau.empty(3, 5)
>>> _ = flambeau.manual_seed(0); a = nn.init.kaiming_uniform_(w).clone()
>>> _ = flambeau.manual_seed(0); bool((a == nn.init.kaiming_uniform_(w)).all())
True
"""

from __future__ import annotations

import math
import warnings

import flambeau
from flambeau._ops.special import _erfinv_arr
from flambeau._random import generator_for
from flambeau.nn._complex import NO_ORDER, refuse_complex

__all__ = [
    "calculate_gain", "constant_", "dirac_", "eye_", "kaiming_normal_", "kaiming_uniform_",
    "normal_", "ones_", "orthogonal_", "sparse_", "trunc_normal_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_",
    # deprecated aliases, as in PyTorch
    "constant", "dirac", "eye", "kaiming_normal", "kaiming_uniform", "normal", "orthogonal",
    "sparse", "uniform", "xavier_normal", "xavier_uniform",
]

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``sqrt(2)`` for ReLU, ...).

    Parameters
    ----------
    nonlinearity : str
        ``"linear"``, ``"conv{1,2,3}d"``, ``"conv_transpose{1,2,3}d"``, ``"sigmoid"``,
        ``"tanh"``, ``"relu"``, ``"leaky_relu"`` or ``"selu"``.
    param : float, optional
        The negative slope of ``leaky_relu`` (default 0.01).

    Examples
    --------
    >>> from flambeau import nn
    >>> nn.init.calculate_gain("relu"), nn.init.calculate_gain("tanh")
    (1.4142135623730951, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fans(tensor, who):
    if tensor.dim() < 2:
        raise ValueError(
            f"{who}: fan in and fan out can not be computed for tensor with fewer than 2 "
            f"dimensions (got shape {tuple(tensor.shape)})"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode, who):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{who}: mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor, who)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, array):
    """Write ``array`` into ``tensor``'s storage (an init step is never recorded)."""
    tensor._device._xp.copyto(tensor._data, array, casting="unsafe")
    tensor._version_counter.value += 1
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values drawn from U(a, b).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.uniform_(flambeau.empty(100), -1, 1)
    >>> bool((w >= -1).all() and (w < 1).all())
    True
    """
    with flambeau.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values drawn from N(mean, std²).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.normal_(flambeau.empty(2, 3)).shape
    flambeau.Size([2, 3])
    """
    with flambeau.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) values truncated to ``[a, b]`` (inverse-CDF sampling).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.trunc_normal_(flambeau.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    refuse_complex("trunc_normal_", tensor, hint=NO_ORDER)  # as PyTorch (it compares values)
    xp = tensor._device._xp
    rng = generator_for(generator, tensor._device)._rng
    lo = 0.5 * (1 + math.erf((a - mean) / (std * math.sqrt(2.0))))
    hi = 0.5 * (1 + math.erf((b - mean) / (std * math.sqrt(2.0))))
    # in place on one float64 buffer: 2u - 1 uniform over the CDF's (lo, hi), mapped back
    # through core's erfinv (SciPy's on NumPy); +-inf at an infinite bound is clipped away
    y = rng.random(tuple(tensor.shape), xp.float64)
    y *= 2 * (hi - lo)
    y += 2 * lo - 1
    z = _erfinv_arr(xp, y)
    z *= std * math.sqrt(2.0)
    z += mean
    xp.maximum(z, a, out=z)  # np.clip is 2-3x slower than the two ufuncs
    xp.minimum(z, b, out=z)
    return _fill(tensor, z)


def constant_(tensor, val):
    """Fill with ``val``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.constant_(flambeau.empty(2), 0.5)
    tensor([0.5000, 0.5000])
    """
    with flambeau.no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill with ones.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.ones_(flambeau.empty(2))
    tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill with zeros.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.zeros_(flambeau.empty(2))
    tensor([0., 0.])
    """
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.eye_(flambeau.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.dim() != 2:
        raise ValueError(f"eye_: Only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    xp = tensor._device._xp
    return _fill(tensor, xp.eye(*tensor.shape, dtype=tensor._data.dtype))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta (identity convolution).

    Each of the ``groups`` keeps the identity of its input channels.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.dirac_(flambeau.empty(2, 2, 3))
    >>> w[:, :, 1]
    tensor([[1., 0.],
            [0., 1.]])
    """
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError(f"dirac_: Only tensors with 3, 4, or 5 dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups "
                         f"({groups})")
    n = min(out_per_group, tensor.shape[1])
    xp = tensor._device._xp
    arr = xp.zeros(tuple(tensor.shape), dtype=tensor._data.dtype)
    g = xp.arange(groups).repeat(n)
    d = xp.tile(xp.arange(n), groups)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    arr[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, arr)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.xavier_uniform_(flambeau.empty(3, 5))
    >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
    True
    """
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.xavier_normal_(flambeau.empty(3, 5)).shape
    flambeau.Size([3, 5])
    """
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``.

    Parameters
    ----------
    tensor : Tensor
        At least 2-D.
    a : float
        The negative slope of the rectifier after this layer (``leaky_relu`` only).
    mode : str
        ``"fan_in"`` (keeps the forward variance) or ``"fan_out"`` (the backward one).
    nonlinearity : str
        As for :func:`calculate_gain`.
    generator : flambeau.Generator, optional
        The random stream.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.kaiming_uniform_(flambeau.empty(4, 6), nonlinearity="relu")
    >>> bool((w.abs() <= 1.0).all())
    True
    """
    if 0 in tensor.shape:
        return tensor
    fan = _fan(tensor, mode, "kaiming_uniform_")
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std²) with ``std = gain / sqrt(fan)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.init.kaiming_normal_(flambeau.empty(4, 6), mode="fan_out").shape
    flambeau.Size([4, 6])
    """
    if 0 in tensor.shape:
        return tensor
    fan = _fan(tensor, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a normal draw.

    Trailing dimensions are flattened: the result reshaped to ``(rows, -1)`` has orthonormal
    rows or columns.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> q = nn.init.orthogonal_(flambeau.empty(3, 3))
    >>> bool(((q @ q.T) - flambeau.eye(3)).abs().max() < 1e-5)
    True
    """
    if tensor.dim() < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    # as PyTorch, whose draw fixes the signs of the QR factors with sign(), real only
    refuse_complex("orthogonal_", tensor, hint="; sign() is not defined for complex numbers")
    xp = tensor._device._xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    rng = generator_for(generator, tensor._device)._rng
    flat = rng.standard_normal((rows, cols), xp.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    # sign fix so that the distribution is uniform (Haar) over orthogonal matrices
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor as a sparse matrix (Martens, 2010): in each column the fraction
    ``sparsity`` of the rows, ``ceil(sparsity * rows)`` rows picked at random, are zero and
    the others are drawn from N(0, std²).

    The values come from ``generator``; as in PyTorch, which rows are zeroed comes from the
    default CPU generator (one :func:`flambeau.randperm` per column), so reproducing a fill
    takes :func:`flambeau.manual_seed` as well as the generator's seed.

    Parameters
    ----------
    tensor : Tensor
        A 2-D tensor, filled in place without recording gradients.
    sparsity : float
        The fraction of the elements of each column set to zero.
    std : float
        The standard deviation of the non-zero values (default 0.01).
    generator : flambeau.Generator, optional
        The random stream of the non-zero values.

    Returns
    -------
    Tensor
        ``tensor``.

    Raises
    ------
    ValueError
        If ``tensor`` is not 2-D.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> w = nn.init.sparse_(flambeau.empty(10, 4), sparsity=0.25)
    >>> (w == 0).sum(0)
    tensor([3, 3, 3, 3])
    """
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with flambeau.no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            zero_rows = flambeau.randperm(rows)[:num_zeros]
            tensor[zero_rows.to(tensor.device), col] = 0
    return tensor


# ------------------------------------------------------------------ deprecated aliases

#: how each deprecated alias's example calls it
_DEPRECATED_EXAMPLES = {
    "uniform_": "flambeau.empty(2, 3)", "normal_": "flambeau.empty(2, 3)",
    "constant_": "flambeau.empty(2, 3), 0.5", "eye_": "flambeau.empty(2, 3)",
    "dirac_": "flambeau.empty(2, 2, 3)", "xavier_uniform_": "flambeau.empty(2, 3)",
    "xavier_normal_": "flambeau.empty(2, 3)", "kaiming_uniform_": "flambeau.empty(2, 3)",
    "kaiming_normal_": "flambeau.empty(2, 3)", "orthogonal_": "flambeau.empty(2, 3)",
    "sparse_": "flambeau.empty(2, 3), 0.5",
}


def _make_deprecated(fill):
    """``fill`` under its old name (no trailing underscore), warning as PyTorch does."""
    new_name = fill.__name__
    old_name = new_name[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return fill(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = old_name
    deprecated.__doc__ = f"""Deprecated alias of :func:`{new_name}`: warns, then calls it.

    Parameters
    ----------
    *args, **kwargs
        Passed on to :func:`{new_name}`.

    Returns
    -------
    Tensor
        What :func:`{new_name}` returns: the tensor it filled.

    Warns
    -----
    FutureWarning
        On every call.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> from flambeau import nn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     w = nn.init.{old_name}({_DEPRECATED_EXAMPLES[new_name]})
    >>> print(caught[0].category.__name__, caught[0].message)
    FutureWarning `nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.
    """
    return deprecated


uniform = _make_deprecated(uniform_)
normal = _make_deprecated(normal_)
constant = _make_deprecated(constant_)
eye = _make_deprecated(eye_)
dirac = _make_deprecated(dirac_)
xavier_uniform = _make_deprecated(xavier_uniform_)
xavier_normal = _make_deprecated(xavier_normal_)
kaiming_uniform = _make_deprecated(kaiming_uniform_)
kaiming_normal = _make_deprecated(kaiming_normal_)
orthogonal = _make_deprecated(orthogonal_)
sparse = _make_deprecated(sparse_)

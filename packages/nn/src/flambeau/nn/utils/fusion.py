"""Fold an eval-mode batch norm into the convolution or linear layer before it.

In eval mode ``bn(conv(x))`` is affine in ``conv``'s output, so one convolution with scaled
weights and a shifted bias computes the same thing with one layer less.

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> from flambeau.nn.utils.fusion import fuse_conv_bn_eval
>>> conv, bn = nn.Conv2d(3, 4, 3).eval(), nn.BatchNorm2d(4).eval()
>>> x = flambeau.randn(1, 3, 5, 5)
>>> bool(flambeau.allclose(fuse_conv_bn_eval(conv, bn)(x), bn(conv(x)), atol=1e-6))
True
"""

from __future__ import annotations

import copy

import flambeau
from flambeau.nn.parameter import Parameter

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]


def _bn_state(bn):
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    return bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` that computes ``bn(conv(x))`` (both in eval mode).

    Parameters
    ----------
    conv : Module
        A ``Conv1d/2d/3d`` (or ``ConvTranspose*`` with ``transpose=True``) in eval mode.
    bn : Module
        A ``BatchNorm*`` in eval mode with running statistics.
    transpose : bool
        Whether ``conv`` is a transposed convolution (its output channels are the weight's
        dimension 1).

    Returns
    -------
    Module
        A new convolution (``conv`` is not changed).

    Raises
    ------
    AssertionError
        When either module is in training mode, or ``bn`` tracks no running statistics.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import fuse_conv_bn_eval
    >>> conv, bn = nn.Conv1d(2, 3, 3, bias=False).eval(), nn.BatchNorm1d(3).eval()
    >>> fused = fuse_conv_bn_eval(conv, bn)
    >>> fused.bias.shape, fused is conv
    (flambeau.Size([3]), False)
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    state = _bn_state(bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, *state,
                                                    transpose=transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The weight and bias of a convolution followed by an eval-mode batch norm, fused.

    ``w' = w * gamma / sqrt(var + eps)`` per output channel and
    ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``; a missing ``conv_b``, ``bn_w``
    or ``bn_b`` counts as zeros, ones and zeros.

    Parameters
    ----------
    conv_w, conv_b : Tensor
        The convolution's weight and bias (bias may be None).
    bn_rm, bn_rv : Tensor
        The batch norm's running mean and variance.
    bn_eps : float
        The batch norm's eps.
    bn_w, bn_b : Tensor or None
        The batch norm's affine weight and bias.
    transpose : bool
        The output channels are the weight's dimension 1 (transposed convolutions).

    Returns
    -------
    tuple of Parameter
        The fused weight (dtype of ``conv_w``) and bias (dtype of ``conv_b``, or of
        ``conv_w`` when None); they require gradients as ``conv_w`` and ``conv_b`` do.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import fuse_conv_bn_weights
    >>> w, b = fuse_conv_bn_weights(flambeau.ones(2, 1, 1), None, flambeau.zeros(2),
    ...                             flambeau.tensor([3.0, 15.0]), 1.0, None, None)
    >>> w.detach().flatten(), b.detach()
    (tensor([0.5000, 0.2500]), tensor([0., 0.]))
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = flambeau.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = flambeau.ones_like(bn_rm)
    if bn_b is None:
        bn_b = flambeau.zeros_like(bn_rm)
    with flambeau.no_grad():
        var_rsqrt = (bn_rv + bn_eps).sqrt().reciprocal()
        shape = [1, -1] if transpose else [-1, 1]
        shape += [1] * (conv_w.ndim - 2)
        fused_w = (conv_w * (bn_w * var_rsqrt).reshape(shape)).to(dtype=weight_dtype)
        fused_b = ((conv_b - bn_rm) * var_rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` that computes ``bn(linear(x))`` (both in eval mode).

    Parameters
    ----------
    linear : Linear
        In eval mode.
    bn : Module
        A ``BatchNorm*`` in eval mode with ``num_features`` equal to
        ``linear.out_features`` (or 1).

    Returns
    -------
    Linear
        A new layer (``linear`` is not changed).

    Raises
    ------
    AssertionError
        When either module is in training mode, the feature counts differ, or ``bn`` tracks
        no running statistics.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> from flambeau.nn.utils import fuse_linear_bn_eval
    >>> lin, bn = nn.Linear(3, 2).eval(), nn.BatchNorm1d(2).eval()
    >>> x = flambeau.randn(4, 3)
    >>> bool(flambeau.allclose(fuse_linear_bn_eval(lin, bn)(x), bn(lin(x)), atol=1e-6))
    True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
            f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    state = _bn_state(bn)
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, *state)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias of a linear layer followed by an eval-mode batch norm, fused.

    ``w' = w * gamma / sqrt(var + eps)`` per output row and
    ``b' = (b - mean) * gamma / sqrt(var + eps) + beta``; a missing ``linear_b``, ``bn_w``
    or ``bn_b`` counts as zeros, ones and zeros.

    Parameters
    ----------
    linear_w, linear_b : Tensor
        The linear layer's weight ``(out, in)`` and bias (may be None).
    bn_rm, bn_rv : Tensor
        The batch norm's running mean and variance.
    bn_eps : float
        The batch norm's eps.
    bn_w, bn_b : Tensor or None
        The batch norm's affine weight and bias.

    Returns
    -------
    tuple of Parameter
        The fused weight and bias.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.nn.utils import fuse_linear_bn_weights
    >>> w, b = fuse_linear_bn_weights(flambeau.ones(1, 2), flambeau.ones(1), flambeau.ones(1),
    ...                               flambeau.tensor([3.0]), 1.0, flambeau.ones(1),
    ...                               flambeau.zeros(1))
    >>> w.detach(), b.detach()
    (tensor([[0.5000, 0.5000]]), tensor([0.]))
    """
    # a linear layer is a 1x1 convolution: its output rows are the conv's output channels
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)

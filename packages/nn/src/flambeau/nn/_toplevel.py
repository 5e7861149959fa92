"""flambeau.nn's operations at flambeau's top level, in PyTorch's ``torch.*`` signatures.

PyTorch exposes many nn operations as ``torch.conv2d``, ``torch.batch_norm``,
``torch.dropout``... with their ATen signatures, which often differ from
``torch.nn.functional``'s: ``torch.batch_norm(input, weight, bias, running_mean, running_var,
training, momentum, eps, cudnn_enabled)`` takes every argument positionally, losses take an
int ``reduction`` (0 none, 1 mean, 2 sum), ``torch.embedding`` takes the weight first and
``torch.dropout(input, p, train)`` has no defaults. flambeau-core does not depend on
flambeau-nn, so these functions live here and ``flambeau.conv2d`` reaches them lazily: core
names them in ``flambeau._subpackages.NN_TOPLEVEL`` and imports this module on first access.
Where PyTorch's top-level function is the very object of ``torch.nn.functional`` (``conv2d``,
``pixel_shuffle``, ``pdist``...), the name here is flambeau.nn.functional's function too.

Examples
--------
>>> import flambeau
>>> x = flambeau.ones(1, 1, 3, 3)
>>> flambeau.conv2d(x, flambeau.ones(1, 1, 2, 2)).shape
flambeau.Size([1, 1, 2, 2])
>>> flambeau.dropout(x, 0.5, False) is x
True
"""

from __future__ import annotations

from collections.abc import Sequence

import flambeau
from flambeau import Tensor, _dtype
from flambeau._inplace import needs_history, write_result
from flambeau._ops._util import write_out
from flambeau.autograd import Function
from flambeau.nn import functional as F
from flambeau.nn.functional import _dropout
from flambeau.nn.functional._activation import _rrelu
from flambeau.nn.functional._embedding import _check_indices, _renorm_, _renorm_rows
from flambeau.nn.functional._grid import _affine_grid
from flambeau.nn.functional._norm import (
    _as_input,
    _batch_norm,
    _group_norm,
    _layer_norm,
    _update_running,
)
from flambeau.nn.modules._rnn_layers import _gru_step, _lstm_step, _rnn_step, autocast_cell
from flambeau.nn.modules.rnn import stacked
from flambeau.nn.utils.parametrizations import _norm_except_dim

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout",
    "alpha_dropout_", "avg_pool1d", "batch_norm", "batch_norm_backward_elemt",
    "batch_norm_backward_reduce", "batch_norm_elemt", "batch_norm_gather_stats",
    "batch_norm_gather_stats_with_counts", "batch_norm_stats", "batch_norm_update_stats",
    "bilinear", "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle",
    "constant_pad_nd", "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "convolution", "cosine_embedding_loss",
    "cosine_similarity", "ctc_loss", "dropout", "dropout_", "embedding", "embedding_bag",
    "embedding_renorm_", "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout",
    "feature_dropout_", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d", "group_norm",
    "gru", "gru_cell", "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm", "lstm",
    "lstm_cell", "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
    "max_pool3d", "native_batch_norm", "native_channel_shuffle", "native_dropout",
    "native_group_norm", "native_layer_norm", "norm_except_dim", "pairwise_distance", "pdist",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "rms_norm", "rnn_relu",
    "rnn_relu_cell", "rnn_tanh", "rnn_tanh_cell", "rrelu", "rrelu_", "selu", "selu_",
    "threshold", "threshold_", "triplet_margin_loss",
]

# The same objects as flambeau.nn.functional's, as torch.conv2d is torch.nn.functional.conv2d.
adaptive_avg_pool1d = F.adaptive_avg_pool1d
avg_pool1d = F.avg_pool1d
bilinear = F.bilinear
celu_ = F.celu_
channel_shuffle = F.channel_shuffle
native_channel_shuffle = F.native_channel_shuffle
conv1d = F.conv1d
conv2d = F.conv2d
conv3d = F.conv3d
conv_transpose1d = F.conv_transpose1d
conv_transpose2d = F.conv_transpose2d
conv_transpose3d = F.conv_transpose3d
conv_tbc = F.conv_tbc
cosine_similarity = F.cosine_similarity
pairwise_distance = F.pairwise_distance
pdist = F.pdist
pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
rrelu_ = F.rrelu_
selu_ = F.selu_
threshold_ = F.threshold_

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, op):
    """ATen's int reduction as nn.functional's string."""
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 0 (none), 1 (mean) or 2 (sum), got "
                         f"{reduction!r}")
    return _REDUCTIONS[reduction]


def _stride(stride):
    # ATen's pooling default ``stride=()`` means "the kernel size", as None does in F
    if isinstance(stride, Sequence) and len(stride) == 0:
        return None
    return stride


# -- normalization -----------------------------------------------------------------------

def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """:func:`flambeau.nn.functional.batch_norm` with ATen's argument order.

    Every argument is required; ``cudnn_enabled`` is accepted and ignored.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 6.0]])
    >>> flambeau.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
    tensor([[-1., -1.],
            [ 1.,  1.]])
    """
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """:func:`flambeau.nn.functional.instance_norm` with ATen's argument order.

    Every argument is required; ``cudnn_enabled`` is accepted and ignored.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[[1.0, 3.0], [2.0, 6.0]]])
    >>> flambeau.instance_norm(x, None, None, None, None, True, 0.1, 0.0, False)
    tensor([[[-1.,  1.],
             [-1.,  1.]]])
    """
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """:func:`flambeau.nn.functional.layer_norm`; ``cudnn_enable`` is accepted and ignored.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.layer_norm(flambeau.tensor([[1.0, 3.0]]), [2], eps=0.0)
    tensor([[-1.,  1.]])
    """
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """:func:`flambeau.nn.functional.group_norm`; ``cudnn_enabled`` is accepted and ignored.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 3.0, 5.0, 9.0]]).reshape(1, 4, 1)
    >>> flambeau.group_norm(x, 2, eps=0.0).flatten()
    tensor([-1.,  1., -1.,  1.])
    """
    return F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """:func:`flambeau.nn.functional.rms_norm`.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rms_norm(flambeau.tensor([[3.0, 4.0]]), [2], eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    return F.rms_norm(input, normalized_shape, weight, eps)


# The multi-output forms: the output and the statistics the backward of torch's kernels keeps.
# Those statistics are in the input's dtype, but in float32 where a float16/bfloat16 input
# meets float32 parameters or running statistics (torch's CPU kernels of mixed dtypes).

def _stats_dtype(input, *params):
    if input.dtype in (flambeau.float16, flambeau.bfloat16):
        for t in params:
            if t is not None and t.dtype == flambeau.float32:
                return flambeau.float32
    return input.dtype


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """:func:`layer_norm`, and the statistics it normalized with: ``(output, mean, rstd)``.

    ``mean`` and ``rstd`` (``1 / sqrt(var + eps)``, the biased variance) have ``input``'s
    shape with the ``normalized_shape`` dimensions of size 1; they carry no gradient. Every
    argument is required.

    Examples
    --------
    >>> import flambeau
    >>> out, mean, rstd = flambeau.native_layer_norm(flambeau.tensor([[1.0, 3.0]]), [2], None,
    ...                                              None, 0.0)
    >>> out, mean, rstd
    (tensor([[-1.,  1.]]), tensor([[2.]]), tensor([[1.]]))
    """
    out, mean, rstd = _layer_norm(input, normalized_shape, weight, bias, eps, True)
    dtype = _stats_dtype(input, weight, bias)
    return out, mean.to(dtype), rstd.to(dtype)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                      *, out=None):
    """:func:`batch_norm` (every argument required, ATen's order) and the batch statistics:
    ``(output, save_mean, save_invstd)``.

    In training ``save_mean`` and ``save_invstd`` (``1 / sqrt(var + eps)``, the biased
    variance) are the batch's, one per channel, without gradient, and the running statistics
    are updated in place; otherwise both are empty, as in torch. ``out``: a tuple of three
    tensors to write the results into.

    Raises
    ------
    ValueError
        When only one of ``running_mean`` and ``running_var`` is given.
    RuntimeError
        For an empty input in training, or no running statistics in evaluation (torch 2.13
        crashes there).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0], [3.0]])
    >>> flambeau.native_batch_norm(x, None, None, None, None, True, 0.1, 0.0)
    (tensor([[-1.],
            [ 1.]]), tensor([2.]), tensor([1.]))
    >>> out, save_mean, save_invstd = flambeau.native_batch_norm(
    ...     x, None, None, flambeau.zeros(1), flambeau.ones(1), False, 0.1, 0.0)
    >>> save_mean.shape
    flambeau.Size([0])
    """
    if (running_mean is None) != (running_var is None):
        raise ValueError("native_batch_norm: running_mean and running_var must either both be "
                         "None or neither be None")
    if training and isinstance(input, Tensor) and input.numel() == 0:
        raise RuntimeError(f"native_batch_norm: input tensor must have at least one element, "
                           f"but got input_sizes = {list(input.shape)}")
    y, mean, var = _batch_norm(input, running_mean, running_var, weight, bias, training,
                               momentum, eps)
    dtype = _stats_dtype(input, weight, bias, running_mean, running_var)
    if mean is None:  # eval: nothing saved
        result = (y, input.new_empty(0, dtype=dtype), input.new_empty(0, dtype=dtype))
    else:
        c = input.shape[1]
        invstd = (var + eps).rsqrt()
        result = (y, mean.reshape(c).to(dtype), invstd.reshape(c).to(dtype))
    return write_out(result, out, "native_batch_norm")


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """:func:`group_norm` of ``input`` seen as ``(N, C, HxW)``, and its statistics:
    ``(output, mean, rstd)``, each of the last two of shape ``(N, group)``.

    Unlike the other ``native_`` norms', the statistics are recorded by autograd, as torch's.

    Raises
    ------
    RuntimeError
        When ``input`` does not hold ``N * C * HxW`` elements, or ``C`` is not a multiple of
        ``group``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 3.0, 5.0, 9.0]]).reshape(1, 4, 1)
    >>> out, mean, rstd = flambeau.native_group_norm(x, None, None, 1, 4, 1, 2, 0.0)
    >>> out.flatten(), mean, rstd
    (tensor([-1.,  1., -1.,  1.]), tensor([[2., 7.]]), tensor([[1.0000, 0.5000]]))
    """
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"native_group_norm: expected an input of N * C * HxW = {N} * {C} * "
                           f"{HxW} elements, got input of shape {tuple(input.shape)}")
    out, mean, rstd = _group_norm(input.reshape(N, C, HxW), group, weight, bias, eps)
    dtype = _stats_dtype(input, weight, bias)
    return out.reshape(input.shape), mean.to(dtype), rstd.to(dtype)


# -- the building blocks of a synchronized batch norm ---------------------------------------
# torch's SyncBatchNorm: each rank's statistics (batch_norm_stats), gathered from every rank
# into the global batch's (batch_norm_gather_stats*), normalization with them
# (batch_norm_elemt) and the backward in two steps around an all-reduce of the per-channel
# sums (batch_norm_backward_reduce, batch_norm_backward_elemt). torch runs them on CUDA only;
# here they are flambeau ops on any device, recorded by autograd. Per-channel statistics of
# float16/bfloat16 inputs are float32, as torch's.

def _per_channel(input, op):
    """The axes reduced for each channel (dim 1) of ``input``, after torch's checks."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim < 2:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[-{max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], but got 1): the "
                         f"input must be (N, C, ...), got shape {tuple(input.shape)}")
    if input.numel() == 0:
        raise RuntimeError(f"{op}: input tensor must have at least one element, but got "
                           f"input_sizes = {list(input.shape)}")
    return (0, *range(2, input.ndim))


def _channels(t, input):
    """A per-channel tensor shaped to broadcast against ``input`` (N, C, ...)."""
    return t.reshape((1, input.shape[1]) + (1,) * (input.ndim - 2))


def _accumulated(input):
    """``input`` in the dtype its per-channel statistics are kept in."""
    return input.float() if input.dtype in (flambeau.float16, flambeau.bfloat16) else input


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """The batch's per-channel ``(mean, var)`` (biased variance), and the running statistics
    moved toward them in place by ``momentum`` (the variance unbiased), as a training batch
    norm does; the running statistics may be None.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0], [3.0]])
    >>> rm, rv = flambeau.zeros(1), flambeau.ones(1)
    >>> flambeau.batch_norm_update_stats(x, rm, rv, 0.1)
    (tensor([2.]), tensor([1.]))
    >>> rm, rv
    (tensor([0.2000]), tensor([1.1000]))
    """
    axes = _per_channel(input, "batch_norm_update_stats")
    mean, var = (flambeau.var_mean(input, axes, correction=0)[::-1])
    count = input.numel() // input.shape[1]
    for running, stat, scale in ((running_mean, mean, 1.0),
                                 (running_var, var, count / (count - 1) if count > 1
                                  else float("nan"))):
        if running is not None:
            _update_running(running, stat.detach(), momentum, scale)
    dtype = _stats_dtype(input, running_mean, running_var)
    return mean.to(dtype), var.to(dtype)


def batch_norm_stats(input, eps):
    """Each channel's ``(mean, invstd)`` over ``input``, ``invstd = 1 / sqrt(var + eps)``
    with the biased variance: one rank's share of a synchronized batch norm.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.batch_norm_stats(flambeau.tensor([[1.0], [3.0]]), 0.0)
    (tensor([2.]), tensor([1.]))
    """
    axes = _per_channel(input, "batch_norm_stats")  # its checks before input is read
    var, mean = flambeau.var_mean(_accumulated(input), axes, correction=0)
    return mean, (var + eps).rsqrt()


def batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var,
                                        momentum, eps, counts):
    """The global batch's per-channel ``(mean, invstd)`` from those of each rank.

    ``mean`` and ``invstd`` are ``(world_size, C)``, the rows :func:`batch_norm_stats` gave
    on each rank, ``counts`` the number of values per channel each rank had (a tensor of
    ``world_size`` entries). The ranks' variances are combined with the spread of their means
    (exact, not an approximation); the running statistics, when given, move toward the global
    mean and unbiased variance in place. ``input`` only takes part in the checks.

    Raises
    ------
    RuntimeError
        When ``mean`` and ``invstd`` are not of the same ``(world_size, C)`` shape, or
        ``counts`` has not ``world_size`` entries.

    Examples
    --------
    >>> import flambeau
    >>> mean = flambeau.tensor([[1.0], [3.0]])  # two ranks, one value each
    >>> invstd = flambeau.tensor([[1e3], [1e3]])  # variance 0 with eps=1e-6
    >>> flambeau.batch_norm_gather_stats_with_counts(
    ...     flambeau.ones(1, 1), mean, invstd, None, None, 0.1, 1e-6, flambeau.tensor([1, 1]))
    (tensor([2.]), tensor([1.0000]))
    """
    op = "batch_norm_gather_stats_with_counts"
    if mean.ndim != 2 or tuple(invstd.shape) != tuple(mean.shape):
        raise RuntimeError(f"{op}: expected mean and invstd of the same shape (world_size, C), "
                           f"got {tuple(mean.shape)} and {tuple(invstd.shape)}")
    if counts.numel() != mean.shape[0]:
        raise RuntimeError(f"{op}: expected counts of {mean.shape[0]} entries (one per row of "
                           f"mean), got shape {tuple(counts.shape)}")
    n = counts.to(mean.dtype).reshape(-1, 1)
    total = n.sum()
    global_mean = (mean * n).sum(0) / total
    spread = invstd.pow(-2) - eps + (mean - global_mean) ** 2
    global_var = (spread * n).sum(0) / total
    count = float(total)
    for running, stat, scale in ((running_mean, global_mean, 1.0),
                                 (running_var, global_var, count / (count - 1) if count > 1
                                  else float("nan"))):
        if running is not None:
            _update_running(running, stat.detach(), momentum, scale)
    return global_mean, (global_var + eps).rsqrt()


def batch_norm_gather_stats(input, mean, invstd, running_mean, running_var, momentum, eps,
                            count):
    """:func:`batch_norm_gather_stats_with_counts` where every rank had ``count`` values per
    channel (an int).

    Examples
    --------
    >>> import flambeau
    >>> mean, invstd = flambeau.tensor([[1.0], [3.0]]), flambeau.tensor([[1.0], [1.0]])
    >>> flambeau.batch_norm_gather_stats(flambeau.ones(1, 1), mean, invstd, None, None, 0.1,
    ...                                  0.0, 4)
    (tensor([2.]), tensor([0.7071]))
    """
    counts = flambeau.full((mean.shape[0],), count, dtype=mean.dtype, device=mean.device)
    return batch_norm_gather_stats_with_counts(input, mean, invstd, running_mean, running_var,
                                               momentum, eps, counts)


def batch_norm_elemt(input, weight, bias, mean, invstd, eps, *, out=None):
    """``(input - mean) * invstd * weight + bias`` per channel (dim 1): the normalization of a
    synchronized batch norm with the gathered statistics. ``eps`` is accepted and unused
    (``invstd`` holds it), as in torch; ``weight`` and ``bias`` may be None; the result is
    written into ``out`` when given.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0], [3.0]])
    >>> flambeau.batch_norm_elemt(x, None, flambeau.ones(1), flambeau.tensor([2.0]),
    ...                           flambeau.tensor([1.0]), 1e-5)
    tensor([[0.],
            [2.]])
    """
    _per_channel(input, "batch_norm_elemt")
    y = (input - _channels(mean, input)) * _channels(invstd, input)
    if weight is not None:
        y = y * _channels(weight, input)
    if bias is not None:
        y = y + _channels(bias, input)
    return write_out(_as_input(y, input), out, "batch_norm_elemt")


def batch_norm_backward_reduce(grad_out, input, mean, invstd, weight, input_g, weight_g,
                               bias_g):
    """The per-channel sums of a batch norm's backward on one rank:
    ``(sum_dy, sum_dy_xmu, grad_weight, grad_bias)``.

    ``sum_dy`` is the sum of ``grad_out`` and ``sum_dy_xmu`` that of
    ``grad_out * (input - mean)`` (None unless ``input_g``: they are what the ranks all-reduce
    for :func:`batch_norm_backward_elemt`); ``grad_weight = sum_dy_xmu * invstd`` (None unless
    ``weight_g``) and ``grad_bias = sum_dy`` (None unless ``bias_g``) are this rank's
    parameter gradients.

    Examples
    --------
    >>> import flambeau
    >>> x, g = flambeau.tensor([[1.0], [3.0]]), flambeau.tensor([[1.0], [2.0]])
    >>> flambeau.batch_norm_backward_reduce(g, x, flambeau.tensor([2.0]),
    ...                                     flambeau.tensor([1.0]), None, True, True, True)
    (tensor([3.]), tensor([1.]), tensor([1.]), tensor([3.]))
    """
    axes = _per_channel(input, "batch_norm_backward_reduce")
    g = _accumulated(grad_out)
    sum_dy = g.sum(axes)
    sum_dy_xmu = (g * (input - _channels(mean, input))).sum(axes)
    grad_weight = grad_bias = None
    if weight_g:
        grad_weight = sum_dy_xmu * invstd
        grad_weight = grad_weight if weight is None else grad_weight.to(weight.dtype)
    if bias_g:
        grad_bias = sum_dy if weight is None else sum_dy.to(weight.dtype)
    if not input_g:
        sum_dy = sum_dy_xmu = None
    return sum_dy, sum_dy_xmu, grad_weight, grad_bias


def batch_norm_backward_elemt(grad_out, input, mean, invstd, weight, sum_dy, sum_dy_xmu,
                              count):
    """The input gradient of a synchronized batch norm on one rank, from the all-reduced
    ``sum_dy`` and ``sum_dy_xmu`` of :func:`batch_norm_backward_reduce` and ``count``, the
    number of values per channel of each rank (a tensor; their sum is the global count).

    Examples
    --------
    >>> import flambeau
    >>> x, g = flambeau.tensor([[1.0], [3.0]]), flambeau.tensor([[1.0], [2.0]])
    >>> flambeau.batch_norm_backward_elemt(g, x, flambeau.tensor([2.0]), flambeau.tensor([1.0]),
    ...                                    None, flambeau.tensor([3.0]), flambeau.tensor([1.0]),
    ...                                    flambeau.tensor([2]))
    tensor([[0.],
            [0.]])
    """
    _per_channel(input, "batch_norm_backward_elemt")
    total = count.sum().to(sum_dy.dtype)
    mean_dy = sum_dy / total
    projection = invstd * invstd * (sum_dy_xmu / total)
    scale = invstd if weight is None else invstd * weight
    grad = (grad_out - _channels(mean_dy, input)
            - (input - _channels(mean, input)) * _channels(projection, input))
    return _as_input(grad * _channels(scale, input), input)


# -- dropout -------------------------------------------------------------------------------

def native_dropout(input, p, train):
    """:func:`dropout` and its mask: ``(output, mask)``, ``mask`` a bool tensor of the kept
    elements (all True when ``train`` is False, where ``output`` is a copy of ``input``;
    ``train=None`` means training, as in torch).

    Raises
    ------
    RuntimeError
        In training, for ``p`` outside ``[0, 1]`` or an input that is not floating point.

    Examples
    --------
    >>> import flambeau
    >>> out, mask = flambeau.native_dropout(flambeau.ones(1000), 0.5, True)
    >>> sorted(set(out.tolist())), bool((out[mask] == 2).all())
    ([0.0, 2.0], True)
    >>> flambeau.native_dropout(flambeau.ones(2), 0.5, False)
    (tensor([1., 1.]), tensor([True, True]))
    """
    if train is not None and not train:
        return input.clone(), flambeau.ones_like(input, dtype=flambeau.bool)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"native_dropout: bernoulli_ expects p to be in [0, 1], but got "
                           f"p={1 - p} (the keep probability 1 - p for dropout p={p})")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"native_dropout: result type Float can't be cast to the desired "
                           f"output type {_dtype._SCALAR_TYPE_NAMES[input.dtype.name]}")
    keep = _dropout._keep_mask(input, tuple(input.shape), p)
    mask = Tensor._make(keep != 0, input._device)
    if p < 1.0:
        keep *= 1.0 / (1.0 - p)
    return input * Tensor._make(keep, input._device), mask



def dropout(input, p, train):
    """:func:`flambeau.nn.functional.dropout` (``train`` is F's ``training``; no defaults).

    Examples
    --------
    >>> import flambeau
    >>> sorted(set(flambeau.dropout(flambeau.ones(1000), 0.5, True).tolist()))
    [0.0, 2.0]
    >>> flambeau.dropout(flambeau.ones(2), 0.5, False)
    tensor([1., 1.])
    """
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    """In-place :func:`dropout`: returns ``input``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(1000)
    >>> flambeau.dropout_(x, 0.5, True) is x, sorted(set(x.tolist()))
    (True, [0.0, 2.0])
    """
    return F.dropout(input, p, train, True)


def _feature_shape(input, op):
    if input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got input of shape {tuple(input.shape)}")
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def feature_dropout(input, p, train):
    """Dropout of whole channels: each ``input[n, c]`` is zeroed with probability ``p``.

    The rest are scaled by ``1 / (1 - p)``. Any input of 2 or more dimensions ``(N, C, *)``;
    identity when ``train`` is False.

    Examples
    --------
    >>> import flambeau
    >>> y = flambeau.feature_dropout(flambeau.ones(8, 16, 5), 0.5, True)
    >>> bool((y.amax(-1) == y.amin(-1)).all()), sorted(set(y.flatten().tolist()))
    (True, [0.0, 2.0])
    """
    shape = _feature_shape(input, "feature_dropout")
    return _dropout._scaled_dropout(input, p, train, False, shape, "feature_dropout")


def feature_dropout_(input, p, train):
    """In-place :func:`feature_dropout`: returns ``input``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, 3)
    >>> flambeau.feature_dropout_(x, 0.0, True) is x
    True
    """
    shape = _feature_shape(input, "feature_dropout_")
    return _dropout._scaled_dropout(input, p, train, True, shape, "feature_dropout")


def alpha_dropout(input, p, train):
    """:func:`flambeau.nn.functional.alpha_dropout` (``train`` is F's ``training``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.alpha_dropout(flambeau.ones(3), 0.5, False)
    tensor([1., 1., 1.])
    """
    return F.alpha_dropout(input, p, train)


def _in_place(input, compute, train, p, op):
    if not train or p == 0.0:
        _dropout._check_p(p, op)
        return input
    return write_result(input, compute, op)


def alpha_dropout_(input, p, train):
    """In-place :func:`alpha_dropout`: returns ``input``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(1000)
    >>> flambeau.alpha_dropout_(x, 0.5, True) is x, len(set(x.tolist()))
    (True, 2)
    """
    return _in_place(input, lambda src: F.alpha_dropout(src, p, True), train, p,
                     "alpha_dropout_")


def feature_alpha_dropout(input, p, train):
    """:func:`alpha_dropout` of whole channels ``input[n, c]`` (2 or more dimensions).

    Examples
    --------
    >>> import flambeau
    >>> y = flambeau.feature_alpha_dropout(flambeau.zeros(8, 16, 5), 0.5, True)
    >>> bool((y.amax(-1) == y.amin(-1)).all())
    True
    """
    _feature_shape(input, "feature_alpha_dropout")
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """In-place :func:`feature_alpha_dropout`: returns ``input``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(8, 16, 5)
    >>> flambeau.feature_alpha_dropout_(x, 0.5, True) is x, bool((x.amax(-1) == x.amin(-1)).all())
    (True, True)
    """
    _feature_shape(input, "feature_alpha_dropout_")
    return _in_place(input, lambda src: F.feature_alpha_dropout(src, p, True), train, p,
                     "feature_alpha_dropout_")


# -- activations -----------------------------------------------------------------------------

def celu(input, alpha=1.0):
    """:func:`flambeau.nn.functional.celu` (no ``inplace``: see :func:`celu_`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.celu(flambeau.tensor([-1.0, 2.0]), 2.0)
    tensor([-0.7869,  2.0000])
    """
    return F.celu(input, alpha)


def selu(input):
    """:func:`flambeau.nn.functional.selu` (no ``inplace``: see :func:`selu_`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.selu(flambeau.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    return F.selu(input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """:func:`flambeau.nn.functional.rrelu`; training slopes come from ``generator`` if given.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rrelu(flambeau.tensor([-2.0, 3.0]), 0.25, 0.75)
    tensor([-1.,  3.])
    >>> g = flambeau.Generator().manual_seed(0)
    >>> a = flambeau.rrelu(-flambeau.ones(3), training=True, generator=g)
    >>> b = flambeau.rrelu(-flambeau.ones(3), training=True,
    ...                    generator=flambeau.Generator().manual_seed(0))
    >>> bool((a == b).all())
    True
    """
    return _rrelu(input, lower, upper, training, False, generator)


def threshold(input, threshold, value, *, out=None):
    """:func:`flambeau.nn.functional.threshold`, written into ``out`` when given.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.threshold(flambeau.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    result = F.threshold(input, threshold, value)
    if out is None:
        return result
    if out.shape != result.shape:
        out.resize_(result.shape)
    return out.copy_(result)


# -- padding, pooling, sampling --------------------------------------------------------------

def constant_pad_nd(input, pad, value=0):
    """Pad (or, with negative amounts, crop) the last dimensions with ``value``.

    ``pad`` lists ``(left, right)`` amounts starting from the last dimension, as in
    :func:`flambeau.nn.functional.pad` with ``mode="constant"``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.constant_pad_nd(flambeau.ones(1, 2), (1, -1), 5.0)
    tensor([[5., 1.]])
    """
    return F.pad(input, tuple(pad), "constant", value)


def adaptive_max_pool1d(input, output_size):
    """:func:`flambeau.nn.functional.adaptive_max_pool1d`: always ``(output, indices)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.adaptive_max_pool1d(flambeau.tensor([[[1.0, 4.0, 2.0, 3.0]]]), 2)
    (tensor([[[4., 3.]]]), tensor([[[1, 3]]]))
    """
    return F.adaptive_max_pool1d(input, output_size, True)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """:func:`flambeau.nn.functional.max_pool1d`; ``stride=()`` means ``kernel_size``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.max_pool1d(flambeau.tensor([[1.0, 4.0, 2.0, 3.0]]), 2)
    tensor([[4., 3.]])
    """
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """:func:`max_pool1d` and the indices of the maxima: ``(output, indices)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.max_pool1d_with_indices(flambeau.tensor([[1.0, 4.0, 2.0, 3.0]]), 2)
    (tensor([[4., 3.]]), tensor([[1, 3]]))
    """
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """:func:`flambeau.nn.functional.max_pool2d`; ``stride=()`` means ``kernel_size``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.max_pool2d(flambeau.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """:func:`flambeau.nn.functional.max_pool3d`; ``stride=()`` means ``kernel_size``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.max_pool3d(flambeau.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[7.]]]]])
    """
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


_INTERPOLATION = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`flambeau.nn.functional.grid_sample` with ATen's int modes.

    ``interpolation_mode``: 0 bilinear, 1 nearest, 2 bicubic (not supported by flambeau);
    ``padding_mode``: 0 zeros, 1 border, 2 reflection. Every argument is required.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> grid = flambeau.tensor([[[[0.0, 0.0], [1.0, 1.0]]]])
    >>> flambeau.grid_sampler(x, grid, 0, 0, True)
    tensor([[[[1.5000, 3.0000]]]])
    """
    for name, value, table in (("interpolation_mode", interpolation_mode, _INTERPOLATION),
                               ("padding_mode", padding_mode, _PADDING)):
        if isinstance(value, bool) or value not in table:
            choices = ", ".join(f"{k} ({v})" for k, v in table.items())
            raise ValueError(f"grid_sampler: {name} must be one of {choices}, got {value!r}")
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode],
                         _PADDING[padding_mode], align_corners)


def _grid_sampler_nd(op, dims, input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`grid_sampler` after the checks of ``grid_sampler_2d``/``_3d`` (``dims`` spatial
    dimensions)."""
    for position, name, value in ((3, "interpolation_mode", interpolation_mode),
                                  (4, "padding_mode", padding_mode)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be int, not "
                            f"{type(value).__name__}")
    if input.ndim != dims + 2 or grid.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected {dims + 2}D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)}")
    if grid.shape[-1] != dims:
        raise RuntimeError(f"{op}: expected grid to have size {dims} in last dimension, but "
                           f"got grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`grid_sampler` of a 4-D ``(N, C, H, W)`` input and ``(N, H_out, W_out, 2)``
    grid.

    Raises
    ------
    RuntimeError
        When ``input`` and ``grid`` are not both 4-D, or the grid's last dimension is not 2.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(4.0).reshape(1, 1, 2, 2)
    >>> flambeau.grid_sampler_2d(x, flambeau.tensor([[[[0.0, 0.0]]]]), 0, 0, True)
    tensor([[[[1.5000]]]])
    """
    return _grid_sampler_nd("grid_sampler_2d", 2, input, grid, interpolation_mode,
                            padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """:func:`grid_sampler` of a 5-D volume ``(N, C, D, H, W)`` at a grid
    ``(N, D_out, H_out, W_out, 3)`` of (x, y, z) locations; mode 0 is trilinear.

    Raises
    ------
    RuntimeError
        When ``input`` and ``grid`` are not both 5-D, or the grid's last dimension is not 3.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(8.0).reshape(1, 1, 2, 2, 2)
    >>> flambeau.grid_sampler_3d(x, flambeau.zeros(1, 1, 1, 1, 3), 0, 0, True)
    tensor([[[[[3.5000]]]]])
    """
    return _grid_sampler_nd("grid_sampler_3d", 3, input, grid, interpolation_mode,
                            padding_mode, align_corners)


def affine_grid_generator(theta, size, align_corners):
    """:func:`flambeau.nn.functional.affine_grid` (``align_corners`` required).

    Examples
    --------
    >>> import flambeau
    >>> theta = flambeau.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> flambeau.affine_grid_generator(theta, [1, 1, 1, 2], True)
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    return _affine_grid(theta, list(size), align_corners)  # no size check, as torch's


# -- convolution, embedding ------------------------------------------------------------------

def _one(value):
    # ATen expands a one-element list to every spatial dimension
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
        return value[0]
    return value


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """Convolution of any of 1, 2 or 3 spatial dimensions (from ``weight``), plain or
    transposed, every argument required.

    ``stride``, ``padding``, ``dilation`` and ``output_padding`` are sequences (a one-element
    one applies to every dimension); ``output_padding`` is used only when ``transposed``.

    Examples
    --------
    >>> import flambeau
    >>> x, w = flambeau.ones(1, 1, 3, 3), flambeau.ones(1, 1, 2, 2)
    >>> flambeau.convolution(x, w, None, [1], [0], [1], False, [0], 1)
    tensor([[[[4., 4.],
              [4., 4.]]]])
    >>> flambeau.convolution(x, w, None, [1, 1], [0, 0], [1, 1], True, [0, 0], 1).shape
    flambeau.Size([1, 1, 4, 4])
    """
    dims = weight.ndim - 2
    if dims not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a weight of 3, 4 or 5 dimensions, got "
                           f"weight of shape {tuple(weight.shape)}")
    stride, padding, dilation = _one(stride), _one(padding), _one(dilation)
    if transposed:
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
        return conv(input, weight, bias, stride, padding, _one(output_padding), groups,
                    dilation)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    return conv(input, weight, bias, stride, padding, dilation, groups)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """:func:`flambeau.nn.functional.embedding` with the weight first.

    A negative ``padding_idx`` (the default -1) means no padding row, as in ATen (F's
    negative indices count from the end; it passes them here already made non-negative).

    Examples
    --------
    >>> import flambeau
    >>> w = flambeau.arange(6.0).reshape(3, 2)
    >>> flambeau.embedding(w, flambeau.tensor([2, 0]))
    tensor([[4., 5.],
            [0., 1.]])
    """
    return F.embedding(indices, weight, padding_idx if padding_idx >= 0 else None, None, 2.0,
                       scale_grad_by_freq, sparse)


class _EmbeddingRenorm(Function):
    """``embedding_renorm_``'s write where autograd records it: torch has no derivative."""

    @staticmethod
    def forward(ctx, weight, indices, max_norm, norm_type):
        a = weight._data.copy()
        _renorm_rows(weight._device._xp, a, indices, max_norm, norm_type)
        return Tensor._make(a, weight._device)

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("embedding_renorm_: the derivative for 'embedding_renorm' is "
                                  "not implemented (as in torch)")


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Scale the rows of ``input`` (an embedding weight) that ``indices`` name down to a
    ``norm_type``-norm of ``max_norm`` where it is larger, in place; returns ``input`` (what
    :func:`flambeau.nn.functional.embedding` does with ``max_norm``).

    Raises
    ------
    RuntimeError
        For indices that are not integers, or a leaf ``input`` requiring grad while grad mode
        is on (as for every in-place op).
    IndexError
        For an index out of range.

    Examples
    --------
    >>> import flambeau
    >>> w = flambeau.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> flambeau.embedding_renorm_(w, flambeau.tensor([0, 1]), 1.0, 2.0) is w
    True
    >>> w
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    _check_indices(indices, input.shape[0], "embedding_renorm_")
    if flambeau.is_grad_enabled() and needs_history(input):
        return write_result(input, lambda src: _EmbeddingRenorm.apply(src, indices, max_norm,
                                                                       norm_type),
                            "embedding_renorm_")
    _renorm_(input, indices, max_norm, norm_type)
    return input


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, which stays, the others
    kept as size 1: the norm of weight normalization. ``dim=-1`` gives the norm of the whole
    tensor (a 0-d tensor), as in torch; ``pow`` is an int, as there.

    Raises
    ------
    TypeError
        For a ``pow`` that is not an int.
    IndexError
        For ``dim`` out of range.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.norm_except_dim(flambeau.tensor([[3.0, 4.0], [6.0, 8.0]]))
    tensor([[ 5.],
            [10.]])
    >>> flambeau.norm_except_dim(flambeau.tensor([[3.0, 4.0], [6.0, 8.0]]), 1, 1)
    tensor([[ 9., 12.]])
    """
    if isinstance(pow, bool) or not isinstance(pow, int):
        raise TypeError(f"norm_except_dim(): argument 'pow' (position 2) must be int, not "
                        f"{type(pow).__name__}")
    return _norm_except_dim(v, dim, pow)


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """:func:`flambeau.nn.functional.embedding_bag` with ATen's arguments and results.

    ``mode`` is 0 (sum), 1 (mean) or 2 (max); a negative or None ``padding_idx`` means no
    padding row. Returns ``(output, offset2bag, bag_size, max_indices)``: the bags, the bag of
    each index, the number of non-padding indices of each bag and, in max mode, the row of
    ``weight`` each maximum comes from (``bag_size`` again in the other modes).

    Examples
    --------
    >>> import flambeau
    >>> w = flambeau.arange(6.0).reshape(3, 2)
    >>> out, offset2bag, bag_size, max_indices = flambeau.embedding_bag(
    ...     w, flambeau.tensor([0, 2, 1]), flambeau.tensor([0, 2]), mode=2)
    >>> out
    tensor([[4., 5.],
            [2., 3.]])
    >>> offset2bag, bag_size, max_indices
    (tensor([0, 0, 1]), tensor([2, 1]), tensor([[2, 2],
            [1, 1]]))
    """
    if isinstance(mode, bool) or mode not in _BAG_MODES:
        raise ValueError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got "
                         f"{mode!r}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx = None
    out = F.embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq,
                          _BAG_MODES[mode], sparse, per_sample_weights, include_last_offset,
                          padding_idx)
    xp = indices._device._xp
    flat = indices._data.reshape(-1)
    b = out.shape[0]
    if indices.ndim == 2:
        bag = xp.repeat(xp.arange(b), indices.shape[1])
    else:
        bag = xp.searchsorted(offsets._data[:b], xp.arange(flat.shape[0]), side="right") - 1
    keep = xp.ones(flat.shape, bool) if padding_idx is None else flat != padding_idx
    bag_size = xp.bincount(bag[keep], minlength=b).astype(xp.int64)
    if mode == 2:
        max_indices = _bag_argmax(xp, weight._data, out._data, flat, bag, keep, b)
    else:
        max_indices = bag_size.copy()
    dev = indices._device
    return (out, Tensor._make(bag.astype(xp.int64), dev), Tensor._make(bag_size, dev),
            Tensor._make(max_indices, dev))


def _bag_argmax(xp, w, out, flat, bag, keep, b):
    """For each bag and column, the row of ``w`` of the bag's first index giving the maximum.

    Bags are contiguous runs of ``flat``; as in F's max mode, a padded ``(b, longest, dim)``
    table of positions is reduced, so no Python loop over bags.
    """
    n, dim = flat.shape[0], out.shape[1]
    if n == 0:
        return xp.zeros((b, dim), xp.int64)
    hit = (w[flat] == out[bag]) & keep[:, None]
    cand = xp.where(hit, xp.arange(n)[:, None], n)
    counts = xp.bincount(bag, minlength=b)
    starts = xp.concatenate([xp.zeros(1, xp.int64), xp.cumsum(counts)[:-1]])
    table = xp.full((b, int(counts.max()), dim), n, xp.int64)
    table[bag, xp.arange(n) - starts[bag]] = cand
    first = table.min(axis=1)
    found = first < n
    return xp.where(found, flat[xp.where(found, first, 0)], 0).astype(xp.int64)


# -- losses ----------------------------------------------------------------------------------
# ``reduction`` is an int: 0 none, 1 mean, 2 sum. Left out, it is 0: PyTorch's stubs write
# ``reduction=1`` (``at::Reduction::Mean``), but torch 2.13's top-level functions called
# without it return the unreduced loss, and code ported from PyTorch expects what it got.

def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """:func:`flambeau.nn.functional.binary_cross_entropy_with_logits`, int ``reduction``.

    ``reduction``: 0 none, 1 mean, 2 sum.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.binary_cross_entropy_with_logits(flambeau.zeros(2), flambeau.ones(2), None,
    ...                                           None, 2)
    tensor(1.3863)
    """
    op = "binary_cross_entropy_with_logits"
    return F.binary_cross_entropy_with_logits(input, target, weight,
                                              reduction=_reduction(reduction, op),
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """:func:`flambeau.nn.functional.cosine_embedding_loss`, int ``reduction``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 0.0]])
    >>> flambeau.cosine_embedding_loss(x, flambeau.tensor([[1.0, 1.0]]), flambeau.tensor([1]))
    tensor([0.2929])
    """
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """:func:`flambeau.nn.functional.hinge_embedding_loss`, int ``reduction``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hinge_embedding_loss(flambeau.tensor([0.3, 2.0]), flambeau.tensor([-1, 1]),
    ...                               reduction=0)
    tensor([0.7000, 2.0000])
    """
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """:func:`flambeau.nn.functional.margin_ranking_loss`, int ``reduction``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.margin_ranking_loss(flambeau.tensor([1.0, 2.0]), flambeau.tensor([2.0, 1.0]),
    ...                              flambeau.tensor([1.0, 1.0]), 0.0, 2)
    tensor(1.)
    """
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def kl_div(input, target, reduction=0, *, log_target=False):
    """:func:`flambeau.nn.functional.kl_div`, int ``reduction`` (1 is the element mean).

    Without ``reduction`` the loss is unreduced, as in PyTorch (see the module's note).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.kl_div(flambeau.tensor([0.0, 0.0]), flambeau.tensor([1.0, 0.5]), 0)
    tensor([ 0.0000, -0.3466])
    """
    return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"),
                    log_target=log_target)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """:func:`flambeau.nn.functional.poisson_nll_loss`, every argument required.

    ``reduction``: 0 none, 1 mean, 2 sum.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.poisson_nll_loss(flambeau.tensor([0.0, 1.0]), flambeau.tensor([1.0, 2.0]),
    ...                           True, False, 1e-8, 0)
    tensor([1.0000, 0.7183])
    """
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction=0):
    """:func:`flambeau.nn.functional.triplet_margin_loss`, int ``reduction``.

    Examples
    --------
    >>> import flambeau
    >>> a = flambeau.tensor([[0.0, 0.0]])
    >>> flambeau.triplet_margin_loss(a, flambeau.tensor([[1.0, 0.0]]),
    ...                              flambeau.tensor([[0.0, 3.0]]), eps=0.0, reduction=1)
    tensor(0.)
    """
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """:func:`flambeau.nn.functional.ctc_loss`, int ``reduction``.

    The lengths are tuples of ints or int tensors; mean (1) divides each sequence's loss by
    its target length before averaging over the batch.

    Examples
    --------
    >>> import flambeau
    >>> log_probs = flambeau.full((2, 1, 2), 0.5).log()
    >>> flambeau.ctc_loss(log_probs, flambeau.tensor([[1]]), (2,), (1,), 0, 0)
    tensor([0.2877])
    """
    if not isinstance(input_lengths, Tensor):
        input_lengths = flambeau.tensor(list(input_lengths), dtype=flambeau.int64)
    if not isinstance(target_lengths, Tensor):
        target_lengths = flambeau.tensor(list(target_lengths), dtype=flambeau.int64)
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


# -- recurrent cells -------------------------------------------------------------------------
# One time step of nn.RNNCell, LSTMCell and GRUCell with the weights as arguments, computed by
# the steps those modules run. ATen's cells take batched (batch, features) tensors only.

def _two_dims(op, name, t, features):
    if t.ndim != 2:
        # ATen reads t.size(1): an IndexError below 2 dimensions, as there
        error = IndexError if t.ndim < 2 else RuntimeError
        raise error(f"{op}: expected {name} of shape (batch, {features}), got shape "
                    f"{tuple(t.shape)}")


def _cell_args(op, input, hx, w_ih, w_hh, b_ih, b_hh, gates):
    """``(input, [states], w_ih, w_hh, b_ih, b_hh)`` of a cell call, after ATen's checks and
    the casts of autocast (the cells are on torch's CUDA list, not on its CPU one)."""
    states = _cell_states(op, input, hx, w_ih, w_hh, gates)
    input, states, (w_ih, w_hh, b_ih, b_hh) = autocast_cell(op, input, states,
                                                            [w_ih, w_hh, b_ih, b_hh])
    return input, states, w_ih, w_hh, b_ih, b_hh


def _cell_states(op, input, hx, w_ih, w_hh, gates):
    """The hidden states of a cell call as a list, after ATen's checks of every argument."""
    if gates == 4:
        if not isinstance(hx, (tuple, list)) or not all(isinstance(h, Tensor) for h in hx):
            raise TypeError(f"{op}(): argument 'hx' (position 2) must be tuple of Tensors, not "
                            f"{type(hx).__name__}")
        if len(hx) != 2:
            raise RuntimeError(f"{op} expects two hidden states, got {len(hx)}")
        states = list(hx)
    elif not isinstance(hx, Tensor):
        raise TypeError(f"{op}(): argument 'hx' (position 2) must be Tensor, not "
                        f"{type(hx).__name__}")
    else:
        states = [hx]
    _two_dims(op, "input", input, "input_size")
    for name, w in (("w_ih", w_ih), ("w_hh", w_hh)):
        if w.ndim != 2:
            raise RuntimeError(f"{op}: expected {name} of 2 dimensions, got shape "
                               f"{tuple(w.shape)}")
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"{op}: input has inconsistent input_size: got {input.shape[1]} "
                           f"expected {w_ih.shape[1]}")
    hidden = w_hh.shape[1]
    for name, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w.shape[0] != gates * hidden:
            raise RuntimeError(f"{op}: {name} first dim must be {gates} * hidden_size = "
                               f"{gates * hidden}, but got {w.shape[0]}")
    for k, h in enumerate(states):
        _two_dims(op, f"hidden{k}", h, "hidden_size")
        if h.shape[0] != input.shape[0]:
            raise RuntimeError(f"{op}: Input batch size {input.shape[0]} doesn't match "
                               f"hidden{k} batch size {h.shape[0]}")
        if h.shape[1] != hidden:
            raise RuntimeError(f"{op}: hidden{k} has inconsistent hidden_size: got "
                               f"{h.shape[1]}, expected {hidden}")
    return states


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``(h_1, c_1)`` from ``input`` and ``hx = (h_0, c_0)``.

    As :class:`flambeau.nn.LSTMCell` with its parameters as arguments: ``input`` is
    ``(batch, input_size)``, ``h_0`` and ``c_0`` ``(batch, hidden_size)``, ``w_ih``
    ``(4 * hidden_size, input_size)`` and ``w_hh`` ``(4 * hidden_size, hidden_size)`` (gates
    in the order input, forget, cell, output), the biases ``(4 * hidden_size,)``.

    Examples
    --------
    >>> import flambeau
    >>> x, h, c = flambeau.ones(2, 3), flambeau.zeros(2, 1), flambeau.zeros(2, 1)
    >>> h1, c1 = flambeau.lstm_cell(x, (h, c), flambeau.ones(4, 3), flambeau.ones(4, 1))
    >>> h1
    tensor([[0.7038],
            [0.7038]])
    """
    x, (h, c), w_ih, w_hh, b_ih, b_hh = _cell_args("lstm_cell", input, hx, w_ih, w_hh, b_ih,
                                                    b_hh, 4)
    return _lstm_step(F.linear(x, w_ih, b_ih), h, c, w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: the new hidden state from ``input`` and ``hx``.

    As :class:`flambeau.nn.GRUCell` with its parameters as arguments: ``input`` is
    ``(batch, input_size)``, ``hx`` ``(batch, hidden_size)``, ``w_ih``
    ``(3 * hidden_size, input_size)`` and ``w_hh`` ``(3 * hidden_size, hidden_size)`` (gates
    in the order reset, update, new), the biases ``(3 * hidden_size,)``.

    Examples
    --------
    >>> import flambeau
    >>> x, h = flambeau.ones(2, 3), flambeau.zeros(2, 1)
    >>> flambeau.gru_cell(x, h, flambeau.ones(3, 3), flambeau.ones(3, 1))
    tensor([[0.0472],
            [0.0472]])
    """
    x, (h,), w_ih, w_hh, b_ih, b_hh = _cell_args("gru_cell", input, hx, w_ih, w_hh, b_ih, b_hh,
                                                  3)
    return _gru_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step, ``tanh(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)``.

    As :class:`flambeau.nn.RNNCell`: ``input`` ``(batch, input_size)``, ``hx``
    ``(batch, hidden_size)``, ``w_ih`` ``(hidden_size, input_size)``, ``w_hh``
    ``(hidden_size, hidden_size)``.

    Examples
    --------
    >>> import flambeau
    >>> x, h = flambeau.ones(1, 2), flambeau.ones(1, 1)
    >>> flambeau.rnn_tanh_cell(x, h, flambeau.ones(1, 2), -flambeau.ones(1, 1))
    tensor([[0.7616]])
    """
    x, (h,), w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih,
                                                  b_hh, 1)
    return _rnn_step("RNN_TANH", F.linear(x, w_ih, b_ih), h, w_hh, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU, ``relu(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)``.

    Shapes as :func:`rnn_tanh_cell`'s.

    Examples
    --------
    >>> import flambeau
    >>> x, h = flambeau.ones(1, 2), flambeau.ones(1, 1)
    >>> flambeau.rnn_relu_cell(x, h, flambeau.ones(1, 2), -3 * flambeau.ones(1, 1))
    tensor([[0.]])
    """
    x, (h,), w_ih, w_hh, b_ih, b_hh = _cell_args("rnn_relu_cell", input, hx, w_ih, w_hh, b_ih,
                                                  b_hh, 1)
    return _rnn_step("RNN_RELU", F.linear(x, w_ih, b_ih), h, w_hh, b_hh)


# -- recurrent layers ------------------------------------------------------------------------
# torch.lstm/gru/rnn_tanh/rnn_relu: nn.LSTM/GRU/RNN with the weights as a flat list, run by
# the layers the modules run. The packed overload takes a PackedSequence's ``data`` and
# ``batch_sizes`` (sorted by length: the states are in that order) and returns output data.

_RNN_MODES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN_TANH", "rnn_relu": "RNN_RELU"}


def _recurrent(op, args, kwargs):
    """Bind either overload of ``op`` (see :func:`lstm`) and run it."""
    names = ["input", "hx", "params", "has_biases", "num_layers", "dropout", "train",
             "bidirectional", "batch_first"]
    mode = _RNN_MODES[op]
    lstm = mode == "LSTM"
    # the packed form's second argument is the batch sizes, a tensor: the padded form's is
    # hx, a list for LSTM and a tensor otherwise, followed by the params list
    if "batch_sizes" in kwargs or "data" in kwargs:
        packed = True
    elif len(args) > 1 and isinstance(args[1], Tensor):
        packed = lstm or isinstance(args[2] if len(args) > 2 else kwargs.get("hx"), Tensor)
    else:
        packed = False
    if packed:
        names = ["data", "batch_sizes", *names[1:-1]]
    if len(args) > len(names):
        raise TypeError(f"{op}() takes {len(names)} positional arguments but {len(args)} "
                        f"were given")
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names or key in bound:
            raise TypeError(f"{op}() got an unexpected or repeated argument '{key}'")
        bound[key] = value
    missing = [n for n in names if n not in bound]
    if missing:
        raise TypeError(f"{op}() missing required argument '{missing[0]}'")
    params = list(bound["params"])
    hx = bound["hx"]
    num_layers, dirs = int(bound["num_layers"]), 2 if bound["bidirectional"] else 1
    per = 4 if bound["has_biases"] else 2
    projected = lstm and len(params) == num_layers * dirs * (per + 1)
    step = per + projected
    if len(params) != num_layers * dirs * step:
        raise RuntimeError(f"{op}: got an incorrect number of RNN parameters ({len(params)} "
                           f"for {num_layers} layer(s), {dirs} direction(s) and "
                           f"has_biases={bool(bound['has_biases'])})")
    weights = []
    for k in range(num_layers * dirs):
        w = params[k * step:(k + 1) * step]
        biases = (w[2], w[3]) if bound["has_biases"] else (None, None)
        weights.append((w[0], w[1], *biases, w[-1] if projected else None))
    if lstm:
        if not isinstance(hx, (list, tuple)) or len(hx) != 2:
            raise RuntimeError(f"{op} expects two hidden states, got "
                               f"{len(hx) if isinstance(hx, (list, tuple)) else type(hx).__name__}")
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    mask = None
    if packed:
        from flambeau.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

        x, lengths = pad_packed_sequence(PackedSequence(bound["data"], bound["batch_sizes"]))
        steps = x.shape[0]
        mask = (flambeau.arange(steps, device=x.device)[:, None, None]
                < lengths.to(x.device)[None, :, None])
    else:
        x = bound["input"]
        if x.ndim != 3:
            raise IndexError(f"{op}: expected an input of 3 dimensions (seq, batch, feature), "
                             f"got shape {tuple(x.shape)}")
        if bound["batch_first"]:
            x = x.transpose(0, 1)
    for name, state in (("hx", h0), ("cx", c0)):
        if state is not None and (state.ndim != 3 or state.shape[0] != num_layers * dirs
                                  or state.shape[1] != x.shape[1]):
            raise RuntimeError(f"{op}: expected {name} of shape (num_layers * num_directions, "
                               f"batch, size) = ({num_layers * dirs}, {x.shape[1]}, ...), got "
                               f"{tuple(state.shape)}")
    if x.shape[-1] != weights[0][0].shape[1]:
        raise RuntimeError(f"{op}: input.size(-1) must be equal to input_size. Expected "
                           f"{weights[0][0].shape[1]}, got {x.shape[-1]}")
    dropout = float(bound["dropout"]) if bound["train"] else 0.0
    out, h_n, c_n = stacked(mode, x, h0, c0, weights, num_layers, dirs, dropout, mask)
    if packed:
        out = pack_padded_sequence(out, lengths).data
    elif bound["batch_first"]:
        out = out.transpose(0, 1)
    return (out, h_n, c_n) if lstm else (out, h_n)


def lstm(*args, **kwargs):
    """A stacked LSTM over a sequence, :class:`flambeau.nn.LSTM` with its weights as a list:
    ``(output, h_n, c_n)``.

    Two overloads, as torch's::

        lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first)
        lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
             bidirectional)

    ``hx`` is ``[h_0, c_0]``, each ``(num_layers * num_directions, batch, size)``;
    ``params`` lists, per layer and direction (the reverse one second), ``w_ih, w_hh``, then
    ``b_ih, b_hh`` when ``has_biases``, then ``w_hr`` for an LSTM with projections (the
    order of ``nn.LSTM``'s ``_flat_weights``). ``dropout`` applies between layers when
    ``train``. The second form takes a :class:`~flambeau.nn.utils.rnn.PackedSequence`'s
    ``data`` and ``batch_sizes`` (its states in the sorted order) and returns the output's
    data.

    Raises
    ------
    RuntimeError
        For a number of parameters that does not fit ``num_layers``, ``bidirectional`` and
        ``has_biases``, states of another shape, or ``hx`` not two states.
    IndexError
        For an input that is not 3-D.

    Examples
    --------
    >>> import flambeau
    >>> x, h0, c0 = flambeau.ones(5, 2, 3), flambeau.zeros(1, 2, 1), flambeau.zeros(1, 2, 1)
    >>> out, h_n, c_n = flambeau.lstm(x, [h0, c0], [flambeau.ones(4, 3), flambeau.ones(4, 1)],
    ...                               False, 1, 0.0, False, False, False)
    >>> out.shape, h_n.shape
    (flambeau.Size([5, 2, 1]), flambeau.Size([1, 2, 1]))
    >>> h_n.flatten()
    tensor([0.9815, 0.9815])
    """
    return _recurrent("lstm", args, kwargs)


def gru(*args, **kwargs):
    """A stacked GRU over a sequence, :class:`flambeau.nn.GRU` with its weights as a list:
    ``(output, h_n)``.

    The overloads and ``params`` as :func:`lstm`'s (no projections), ``hx`` one tensor::

        gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            batch_first)
        gru(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
            bidirectional)

    Examples
    --------
    >>> import flambeau
    >>> x, h0 = flambeau.ones(5, 2, 3), flambeau.zeros(1, 2, 1)
    >>> out, h_n = flambeau.gru(x, h0, [flambeau.ones(3, 3), flambeau.ones(3, 1)], False, 1,
    ...                         0.0, False, False, False)
    >>> h_n.flatten()
    tensor([0.1995, 0.1995])
    """
    return _recurrent("gru", args, kwargs)


def rnn_tanh(*args, **kwargs):
    """A stacked Elman RNN with tanh over a sequence, :class:`flambeau.nn.RNN` with its
    weights as a list: ``(output, h_n)``; the overloads as :func:`gru`'s.

    Examples
    --------
    >>> import flambeau
    >>> x, h0 = flambeau.ones(3, 1, 2), flambeau.zeros(1, 1, 1)
    >>> out, h_n = flambeau.rnn_tanh(x, h0, [flambeau.ones(1, 2), -flambeau.ones(1, 1)], False,
    ...                              1, 0.0, False, False, False)
    >>> out.flatten()
    tensor([0.9640, 0.7763, 0.8407])
    """
    return _recurrent("rnn_tanh", args, kwargs)


def rnn_relu(*args, **kwargs):
    """A stacked Elman RNN with ReLU over a sequence, :class:`flambeau.nn.RNN` with
    ``nonlinearity='relu'`` and its weights as a list: ``(output, h_n)``; the overloads as
    :func:`gru`'s.

    Examples
    --------
    >>> import flambeau
    >>> x, h0 = flambeau.ones(3, 1, 2), flambeau.zeros(1, 1, 1)
    >>> out, h_n = flambeau.rnn_relu(x, h0, [flambeau.ones(1, 2), -flambeau.ones(1, 1)], False,
    ...                              1, 0.0, False, False, False)
    >>> out.flatten()
    tensor([2., 0., 2.])
    """
    return _recurrent("rnn_relu", args, kwargs)

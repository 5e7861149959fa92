"""flambeau.nn.functional: loss functions (reduction 'none', 'mean' or 'sum').

Cross entropy is one fused node: log-softmax and the weighted negative log-likelihood in one
forward pass, ``softmax - target`` in one backward formula, stable for logits of any size.
"""

from __future__ import annotations

import math
import warnings

import flambeau
from flambeau import Tensor
from flambeau._ops._select import errors_ignored
from flambeau._ops._util import FLOAT_NP
from flambeau._ops.reduction import accumulated_sum
from flambeau.amp import _autocast
from flambeau.autograd import Function
from flambeau.autograd._function import node_variant
from flambeau.nn._complex import NO_ORDER, refuse_complex, refuse_complex_grad
from flambeau.nn.functional._activation import logsigmoid, softplus
from flambeau.nn.functional._misc import pairwise_distance

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div",
    "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss", "smooth_l1_loss",
    "soft_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(op, size_average, reduce, reduction):
    """The reduction string, honouring PyTorch's deprecated size_average/reduce flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "mean" if size_average and reduce else ("sum" if reduce else "none")
    if reduction not in _REDUCTIONS and reduction != "batchmean":
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction "
                         f"(expected 'none', 'mean' or 'sum')")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair(op, input, target, warn_broadcast=False, complex_ok=False):
    """The checked ``(input, target)`` of a pointwise loss, cast to float32 under autocast.

    ``warn_broadcast``: warn, as PyTorch does, when the shapes differ and broadcasting (say a
    ``(N, 1)`` output against an ``(N,)`` target giving ``(N, N)``) silently changes the loss.
    A complex input or target is refused (PyTorch's kernels are real) unless ``complex_ok``.
    """
    _check_pair(op, input, target)
    if not complex_ok and (input._data.dtype.kind == "c" or target._data.dtype.kind == "c"):
        refuse_complex(op, input, target)
    if warn_broadcast and input.shape != target.shape:
        warnings.warn(
            f"{op}: using a target size {tuple(target.shape)} that is different to the input "
            f"size {tuple(input.shape)}. This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)
    if _autocast.active:
        input, target = _autocast.cast_inputs("fp32", input, target)
    return input, target


def _check_pair(op, input, target):
    for name, t in (("input", input), ("target", target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if input.shape != target.shape:
        try:
            flambeau.broadcast_shapes(input.shape, target.shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"{op}: input shape {tuple(input.shape)} and target shape "
                f"{tuple(target.shape)} cannot be broadcast together"
            ) from None


# ---------------------------------------------------------------- regression losses


class _MSE(Function):
    """Squared error with its reduction in one node (the hot path of regression training)."""

    _node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, t, reduction):
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        d = x._data - t._data
        sq = d * d
        if reduction == "none":
            return sq
        xp = x._device._xp
        with errors_ignored(xp, "invalid"):  # the mean of nothing is 0 / 0 = nan, as torch's
            return accumulated_sum(xp, sq, None, False,
                                   divisor=sq.size if reduction == "mean" else None)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        diff = x - t
        scale = 2.0 / max(diff.numel(), 1) if ctx.reduction == "mean" else 2.0
        grad = diff * (g * scale)
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None, None)


def _weighted(loss, weight, input, reduction, mean_over_weight=True):
    """``loss * weight`` reduced; 'mean' divides by ``weight.sum()`` unless told otherwise.

    As torch 2.13's ``mse_loss``/``l1_loss`` (sum of weighted errors over the sum of weights)
    and ``huber_loss`` (plain mean of the weighted errors). ``weight`` has the input's shape.
    """
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum" or not mean_over_weight:
        return _reduce(loss, reduction)
    return loss.sum() / weight.sum()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target) ** 2``.

    ``weight`` (the input's shape) scales each squared error; the 'mean' is then their sum
    over ``weight.sum()``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.mse_loss(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 4.0]))
    tensor(2.)
    >>> F.mse_loss(flambeau.tensor([1.0, 2.0]), flambeau.tensor([2.0, 4.0]),
    ...            weight=flambeau.tensor([3.0, 1.0]))
    tensor(1.7500)
    """
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    input, target = _pair("mse_loss", input, target, warn_broadcast=True)
    if weight is not None:
        x, t = flambeau.broadcast_tensors(input, target)
        return _weighted((x - t) ** 2, weight, input, reduction)
    if input.shape != target.shape or input._data.dtype != target._data.dtype:
        input, target = flambeau.broadcast_tensors(input, target)
        if input._data.dtype != target._data.dtype:
            dt = flambeau.promote_types(input.dtype, target.dtype)
            input, target = input.to(dt), target.to(dt)
    return _MSE.apply(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|`` (real also for complex tensors).

    ``weight`` (the input's shape) scales each error; the 'mean' is then their sum over
    ``weight.sum()``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.l1_loss(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 4.0]))
    tensor(1.)
    >>> F.l1_loss(flambeau.tensor([1.0, 2.0]), flambeau.tensor([2.0, 4.0]),
    ...           weight=flambeau.tensor([3.0, 1.0]), reduction="sum")
    tensor(5.)
    """
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    input, target = _pair("l1_loss", input, target, warn_broadcast=True, complex_ok=True)
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction)
    return _reduce((input - target).abs(), reduction)


class _SmoothL1(Function):
    """Elementwise smooth L1 of ``d``: ``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| -
    0.5 * beta`` (Huber's loss is ``delta`` times it with ``beta = delta``). Its slope is
    ``clamp(d, -beta, beta) / beta``, as torch's kernel: +/-1 at infinite ``d`` and NaN at NaN
    (a ``where`` of the two pieces gave NaN, and then 0, at those)."""

    @staticmethod
    def forward(ctx, d, beta):
        ctx.save_for_backward(d)
        ctx.beta = beta
        xp, a = d._device._xp, d._data
        ad = xp.abs(a)
        with errors_ignored(xp):
            return xp.where(ad < beta, 0.5 * a * a / beta, ad - 0.5 * beta).astype(a.dtype,
                                                                                  copy=False)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        return g * d.clamp(-ctx.beta, ctx.beta) / ctx.beta, None


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (``d = x - y``).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.smooth_l1_loss(flambeau.tensor([0.5, 3.0]), flambeau.zeros(2), reduction="none")
    tensor([0.1250, 2.5000])
    """
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    input, target = _pair("smooth_l1_loss", input, target, warn_broadcast=True)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return _reduce(_SmoothL1.apply(input - target, beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    ``weight`` (the input's shape) scales each element's loss; unlike ``mse_loss``, the
    'mean' of the weighted losses is a plain mean (torch's definition).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.huber_loss(flambeau.tensor([0.5, 3.0]), flambeau.zeros(2), reduction="none", delta=2.0)
    tensor([0.1250, 4.0000])
    """
    reduction = _reduction("huber_loss", None, None, reduction)
    input, target = _pair("huber_loss", input, target, warn_broadcast=True)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    loss = _SmoothL1.apply(input - target, delta) * delta
    if weight is not None:
        return _weighted(loss, weight, input, reduction, mean_over_weight=False)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- classification losses


def _class_axis_target(input, target, op):
    """Validate a class-index target and give ``(onehot, valid)`` arrays along dim 1."""
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions (N, C), got shape "
                           f"{tuple(input.shape)}")
    shape = input._data.shape
    expected = (shape[0],) + shape[2:]
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected target of class indices (an integer tensor of shape {expected}) or "
            f"of class probabilities (a float tensor of the input's shape "
            f"{tuple(input.shape)}); got a {target.dtype} target of shape {tuple(target.shape)}"
        )
    if tuple(target.shape) != expected:
        if target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(
                f"{op}: Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0]}) (input shape {tuple(input.shape)}, target shape "
                f"{tuple(target.shape)})"
            )
        raise RuntimeError(f"{op}: expected target of shape {expected} for input of shape "
                           f"{tuple(input.shape)}, got {tuple(target.shape)}")


def _class_indices(input, target, ignore_index, op):
    """Check class-index targets: ``(indices safe to gather with, valid mask or None, count)``.

    ``valid`` is None when no target equals ``ignore_index`` (the common case, checked with a
    min and a max instead of elementwise masks); ``count`` is the number of valid targets.
    """
    _class_axis_target(input, target, op)
    return indices_in_range(input._device._xp, target._data, input._data.shape[1],
                            ignore_index, op)


def indices_in_range(xp, t, c, ignore_index, op):
    """``(safe, valid, count)`` of :func:`_class_indices` for the class-index array ``t`` of
    ``c`` classes: IndexError naming the first index outside ``[0, c)`` that is not
    ``ignore_index``."""
    if t.size == 0:
        return t, None, 0
    if ignore_index < 0 and t.dtype.kind == "i":
        # read as unsigned, a negative target is huge: one max checks both bounds
        if int(t.view(f"u{t.dtype.itemsize}").max()) < c:
            return t, None, t.size
    lo, hi = int(t.min()), int(t.max())
    if not lo <= ignore_index <= hi and 0 <= lo and hi < c:
        return t, None, t.size
    # some target is ignored or out of range: the masks find which (the first bad one)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bool(bad.any()):
        _raise_out_of_bounds(int(t[bad].reshape(-1)[0]), c, ignore_index, op)
    return xp.where(valid, t, 0), valid, int(valid.sum())


def _raise_out_of_bounds(value, c, ignore_index, op):
    raise IndexError(f"{op}: Target {value} is out of bounds for {c} classes (expected "
                     f"0..{c - 1} or ignore_index={ignore_index})")


def _index_targets(input, target, weight, ignore_index, smoothing, op):
    """The per-class target weights ``q`` (shaped like input) and the 'mean' denominator."""
    safe, valid, count = _class_indices(input, target, ignore_index, op)
    xp = input._device._xp
    c = input.shape[1]
    cls_shape = (1, c) + (1,) * (input.ndim - 2)
    onehot = xp.arange(c).reshape(cls_shape) == xp.expand_dims(safe, 1)
    dt = input._data.dtype
    q = onehot.astype(dt)
    if weight is not None:
        wc = weight._data.astype(dt, copy=False).reshape(cls_shape)
        q *= wc
    if smoothing:
        spread = (wc if weight is not None else xp.ones(cls_shape, dt)) * (smoothing / c)
        q = q * (1 - smoothing) + spread
    if valid is not None:
        q *= xp.expand_dims(valid, 1)
    if weight is not None:
        picked = (onehot * wc).sum(1)
        denom = (picked[valid] if valid is not None else picked).sum()
    else:
        denom = count
    return Tensor._make(q, input._device), denom


def _onehot(x, safe, valid):
    """The ``(N, C)`` one-hot targets (zero rows where ignored) as a tensor like ``x``."""
    xp = x._device._xp
    q = (xp.arange(x.shape[1]) == safe[:, None]).astype(x._data.dtype)
    if valid is not None:
        q *= valid[:, None]
    return Tensor._make(q, x._device)


def _reduced(per, reduction, count, xp):
    """``per`` summed, averaged over ``count`` (the valid targets or their total weight), or
    as it is."""
    if reduction == "sum":
        return accumulated_sum(xp, per, None, False)
    if reduction == "mean":
        if count == 0:  # every target ignored: 0 / 0 = nan, as in PyTorch
            return xp.asarray(xp.nan, dtype=per.dtype)
        return accumulated_sum(xp, per, None, False, divisor=count)
    return per


def _scaled_grad(g, reduction, count):
    """The incoming gradient per sample, shaped ``(N, 1)`` or a scalar."""
    if reduction == "none":
        return g.unsqueeze(1)
    if reduction == "mean":
        # every target ignored (count 0): the loss is nan but its gradient zeros, as torch's
        # (a zero weight is what an ignored target gets, and torch does not divide by it)
        return g / float(count) if count else g * 0
    return g


class _IndexedLoss(Function):
    """Cross entropy (``log_softmax`` first) or NLL of ``(N, C)`` inputs at class indices,
    without class weights or label smoothing: the common case, done by gathering at the
    targets rather than through one-hot products."""

    _node_name = "NllLossBackward0"  # torch's node for both (its cross entropy ends in nll_loss)
    _graph_inputs = (0,)  # not the targets

    @staticmethod
    def forward(ctx, x, safe, valid, count, reduction, log_softmax):
        xp = x._device._xp
        a = x._data
        rows = xp.arange(a.shape[0])
        if log_softmax:
            shifted = a - a.max(axis=1, keepdims=True)
            e = xp.exp(shifted)
            total = accumulated_sum(xp, e, 1, False)
            per = xp.log(total) - shifted[rows, safe]
            ctx.softmax = (e, total)
        else:
            per = -a[rows, safe]
        if valid is not None:
            per *= valid
        ctx.save_for_backward(x)
        ctx.rows, ctx.safe, ctx.valid = rows, safe, valid
        ctx.count, ctx.reduction, ctx.log_softmax = count, reduction, log_softmax
        return _reduced(per, reduction, count, xp)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        g = _scaled_grad(g, ctx.reduction, ctx.count)
        if flambeau.is_grad_enabled():  # create_graph: a formula that can be differentiated
            q = _onehot(x, ctx.safe, ctx.valid)
            gx = g * (flambeau.softmax(x, 1) - q) if ctx.log_softmax else -g * q
            return gx, None, None, None, None, None
        xp = x._device._xp
        if ctx.log_softmax:
            e, total = ctx.softmax
            gx = e / total[:, None]
            gx[ctx.rows, ctx.safe] -= 1
        else:
            gx = xp.zeros_like(x._data)
            gx[ctx.rows, ctx.safe] = -1
        if ctx.valid is not None:
            gx *= ctx.valid[:, None]
        gx *= g._data
        return Tensor._make(gx, x._device), None, None, None, None, None


def _prob_targets(input, target, weight, smoothing, op):
    if target.shape != input.shape:
        raise RuntimeError(f"{op}: class-probability target of shape {tuple(target.shape)} "
                           f"must match input shape {tuple(input.shape)}")
    if not target.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point target for class probabilities, "
                           f"got {target.dtype}")
    c = input.shape[1]
    q = target if target.dtype == input.dtype else target.to(input.dtype)
    if smoothing:
        q = q * (1 - smoothing) + smoothing / c
    if weight is not None:
        q = q * weight.to(input.dtype).reshape((1, c) + (1,) * (input.ndim - 2))
    return q, target.numel() // c


def _generic_cross_entropy(xp, logits, q, axis):
    """Per-sample ``-sum_c q_c * log_softmax(logits)_c`` computed without overflow."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    lse = xp.log(accumulated_sum(xp, xp.exp(shifted), axis, True))
    return -accumulated_sum(xp, q * (shifted - lse), axis, False)


class _CrossEntropy(Function):
    """Fused log-softmax + weighted NLL; a backend may provide the ``cross_entropy`` kernel.

    The kernel is called as ``kernel(logits, q, axis)`` with backend arrays and returns the
    per-sample losses ``-sum(q * log_softmax(logits, axis), axis)``.
    """

    _graph_inputs = (0,)  # not the targets' weights

    @staticmethod
    def forward(ctx, x, q, reduction, denom):
        kernel = x._device.backend.kernels.get("cross_entropy")
        xp = x._device._xp
        if kernel is not None:
            per = kernel(x._data, q._data, 1)
        else:
            per = _generic_cross_entropy(xp, x._data, q._data, 1)
        ctx.save_for_backward(x, q)
        ctx.reduction, ctx.denom = reduction, denom
        return _reduced(per, reduction, denom, xp)

    @staticmethod
    def backward(ctx, g):
        x, q = ctx.saved_tensors
        g = _scaled_grad(g, ctx.reduction, ctx.denom)
        gx = gq = None
        if ctx.needs_input_grad[0] and not flambeau.is_grad_enabled():
            # no create_graph: the same formula on arrays, without per-op dispatch
            a, qa, xp = x._data, q._data, x._device._xp
            e = xp.exp(a - a.max(axis=1, keepdims=True))
            e /= accumulated_sum(xp, e, 1, True)
            gx = Tensor._make(g._data * (e * accumulated_sum(xp, qa, 1, True) - qa), x._device)
        elif ctx.needs_input_grad[0]:
            p = flambeau.softmax(x, 1)
            gx = g * (p * q.sum(1, keepdim=True) - q)
        if ctx.needs_input_grad[1]:
            gq = -g * flambeau.log_softmax(x, 1)
        return gx, gq, None, None


#: _CrossEntropy by torch's node name: its cross entropy of class indices ends in nll_loss
#: (2-d inputs) or nll_loss2d, of class probabilities or with smoothing it is its own
_CROSS_ENTROPY_NODES = {
    name: node_variant(_CrossEntropy, name)
    for name in ("CrossEntropyBackward0", "NllLossBackward0", "NllLoss2DBackward0")}


def _gathers(x, weight, smoothing):
    """Whether the class-index loss of ``x`` takes the gathering :class:`_IndexedLoss` path
    (2-D input, no class weights or smoothing, and no backend ``cross_entropy`` kernel)."""
    return (x.ndim == 2 and weight is None and not smoothing
            and "cross_entropy" not in x._device.backend.kernels)


def _batched(input, target, probabilities):
    """Give unbatched ``(C,)`` inputs a batch dimension of one."""
    if input.ndim == 1:
        return input.unsqueeze(0), (target.unsqueeze(0) if target.ndim == (
            1 if probabilities else 0) else target), True
    return input, target, False


def _check_weight(weight, c, op):
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {c} classes "
                           f"or no classes but got weight tensor of shape {tuple(weight.shape)}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between the logits ``input`` and a target of class indices or probabilities.

    Parameters
    ----------
    input : Tensor
        Logits of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
    target : Tensor
        Class indices (integers) of shape ``()``, ``(N,)`` or ``(N, d1, ...)``, or class
        probabilities of the input's shape.
    weight : Tensor, optional
        A rescaling weight for each class, shape ``(C,)``.
    ignore_index : int
        A class index whose samples contribute neither loss nor gradient.
    reduction : str
        ``'none'``, ``'mean'`` (weighted mean over non-ignored samples) or ``'sum'``.
    label_smoothing : float
        Mix the target with the uniform distribution by this amount, in ``[0, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> logits = flambeau.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, flambeau.tensor([1]))
    >>> loss.item()
    10000.0
    >>> loss.backward(); logits.grad
    tensor([[ 1., -1.,  0.]])
    """
    if _autocast.active:
        input, target, weight = _autocast.cast_inputs("fp32", input, target, weight)
    op = "cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: input and target must be Tensors, got "
                        f"{type(input).__name__} and {type(target).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input._data.dtype not in FLOAT_NP:
        refuse_complex(op, input)  # as PyTorch's log-softmax kernel
        raise RuntimeError(f"{op}: expected floating point logits, got {input.dtype}")
    if target._data.dtype.kind == "c":
        raise RuntimeError(f"{op}: expected floating point type for target with class "
                           f"probabilities, got {target.dtype}")
    probabilities = (target._data.shape == input._data.shape
                     and target._data.dtype in FLOAT_NP)
    if probabilities and ignore_index != -100:
        raise RuntimeError(f"{op}: ignore_index is not supported for floating point target "
                           f"(class probabilities; got ignore_index={ignore_index})")
    if input._data.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    x, t, unbatched = _batched(input, target, probabilities)
    if weight is not None:
        _check_weight(weight, x.shape[1], op)
    if probabilities:
        q, denom = _prob_targets(x, t, weight, label_smoothing, op)
    elif _gathers(x, weight, label_smoothing):
        out = _IndexedLoss.apply(x, *_class_indices(x, t, ignore_index, op), reduction, True)
        return out.squeeze(0) if unbatched and reduction == "none" else out
    else:
        q, denom = _index_targets(x, t, weight, ignore_index, label_smoothing, op)
    # torch's node: its cross entropy of class indices ends in nll_loss (2-d) / nll_loss2d
    name = ("CrossEntropyBackward0" if probabilities or label_smoothing
            else "NllLossBackward0" if x.ndim == 2 else "NllLoss2DBackward0")
    out = _CROSS_ENTROPY_NODES[name].apply(x, q, reduction, denom)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of the log-probabilities ``input`` at the target classes.

    Shapes as for :func:`cross_entropy` with class-index targets.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> logp = flambeau.tensor([[-0.1, -2.0], [-3.0, -0.2]])
    >>> F.nll_loss(logp, flambeau.tensor([0, 1]))
    tensor(0.1500)
    """
    if _autocast.active:
        input, weight = _autocast.cast_inputs("fp32", input, weight)
    op = "nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: input and target must be Tensors")
    refuse_complex(op, input, weight)  # as PyTorch's kernels
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    x, t, unbatched = _batched(input, target, False)
    _check_weight(weight, x.shape[1], op)
    if _gathers(x, weight, 0.0):
        out = _IndexedLoss.apply(x, *_class_indices(x, t, ignore_index, op), reduction, False)
        return out.squeeze(0) if unbatched and reduction == "none" else out
    q, denom = _index_targets(x, t, weight, ignore_index, 0.0, op)
    out = (_WeightedNll if x.ndim == 2 else _WeightedNll2d).apply(x, q, reduction, denom)
    return out.squeeze(0) if unbatched and reduction == "none" else out


class _WeightedNll(Function):
    """NLL at class indices through the per-class target weights ``q`` of
    :func:`_index_targets` (class weights, or inputs of 3 or more dims): ``-sum(q * x)`` over
    the classes, reduced; torch's node names."""

    _node_name = "NllLossBackward0"  # of 2-d inputs (_WeightedNll2d: of more dims)
    _graph_inputs = (0,)

    @staticmethod
    def forward(ctx, x, q, reduction, denom):
        ctx.save_for_backward(q)
        ctx.reduction, ctx.denom = reduction, denom
        per = -accumulated_sum(x._device._xp, x._data * q._data, 1, False)
        return _reduced(per, reduction, denom, x._device._xp)

    @staticmethod
    def backward(ctx, g):
        (q,) = ctx.saved_tensors
        return -(q * _scaled_grad(g, ctx.reduction, ctx.denom)), None, None, None


_WeightedNll2d = node_variant(_WeightedNll, "NllLoss2DBackward0")


class _BCE(Function):
    """Binary cross entropy on probabilities, logs clamped at -100 as PyTorch does."""

    @staticmethod
    def forward(ctx, x, t):
        xp = x._device._xp
        a, y = x._data, t._data
        # log(0) = -inf is expected here and clamped to -100
        with errors_ignored(xp, "divide", "invalid"):
            log_x = xp.maximum(xp.log(a), -100)
            log_1mx = xp.maximum(xp.log1p(-a), -100)
        ctx.save_for_backward(x, t)
        return (-(y * log_x + (1 - y) * log_1mx)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / (x * (1 - x)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * ((-x).log1p().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-(t * log(x) + (1 - t) * log(1 - x))`` for probabilities ``x`` in [0, 1].

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.binary_cross_entropy(flambeau.tensor([0.5, 1.0]), flambeau.tensor([1.0, 1.0]))
    tensor(0.3466)
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _pair(op, input, target)
    refuse_complex(op, weight)
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input "
            f"size ({tuple(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    a = input._data
    if bool(((a < 0) | (a > 1)).any()):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1")
    loss = _BCE.apply(input, target if target.dtype == input.dtype else target.to(input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class _BCEWithLogits(Function):
    """``(1 - t) x + (1 + (pw - 1) t) softplus(-x)`` with the exact gradient at every point."""

    @staticmethod
    def forward(ctx, x, t, pos_weight):
        xp = x._device._xp
        a, y = x._data, t._data
        sp_neg = xp.logaddexp(0, -a)
        lw = 1 if pos_weight is None else 1 + (pos_weight._data - 1) * y
        ctx.save_for_backward(x, t, pos_weight)
        return ((1 - y) * a + lw * sp_neg).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t, pw = ctx.saved_tensors
        lw = 1 if pw is None else 1 + (pw - 1) * t
        gx = gt = gpw = None
        if ctx.needs_input_grad[0]:
            gx = g * ((1 - t) - lw * (-x).sigmoid())
        if ctx.needs_input_grad[1]:
            gt = -x if pw is None else -x + (pw - 1) * softplus(-x)
            gt = g * gt
        if pw is not None and ctx.needs_input_grad[2]:
            gpw = g * t * softplus(-x)
        return gx, gt, gpw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in one stable formula.

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor
        Targets in [0, 1], same shape as ``input``.
    weight : Tensor, optional
        Broadcast rescaling of each element's loss.
    pos_weight : Tensor, optional
        Weight of positive examples, broadcast along the last (class) dimension.
    reduction : str
        ``'none'``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.binary_cross_entropy_with_logits(flambeau.tensor([0.0, 1e4]), flambeau.ones(2))
    tensor(0.3466)
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _pair(op, input, target)
    refuse_complex(op, weight, pos_weight)
    if input.shape != target.shape:
        raise ValueError(f"{op}: Target size ({tuple(target.shape)}) must be the same as input "
                         f"size ({tuple(input.shape)})")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if pos_weight is not None and pos_weight.dtype != input.dtype:
        pos_weight = pos_weight.to(input.dtype)
    loss = _BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` (``input`` in log space).

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical KL).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> p = flambeau.tensor([[0.5, 0.5]])
    >>> F.kl_div(p.log(), p, reduction="batchmean")
    tensor(0.)
    """
    op = "kl_div"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _pair(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = flambeau.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def _check_same_ndim(op, **tensors):
    """torch's check of the margin losses: the same number of dimensions (they broadcast)."""
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if len({t.ndim for t in tensors.values()}) != 1:
        *first, last = tensors
        sizes = [f"{name} {t.ndim}D {tuple(t.shape)}" for name, t in tensors.items()]
        raise RuntimeError(
            f"{op}: the {', '.join(first)}, and {last} tensors are expected to have the same "
            f"number of dimensions, but got: {', '.join(sizes[:-1])}, and {sizes[-1]} inputs")


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` for ``target == 1``, ``max(0, cos(x1, x2) - margin)`` for -1.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[1.0, 0.0]])
    >>> F.cosine_embedding_loss(x, x, flambeau.tensor([1]))
    tensor(0.)
    """
    op = "cosine_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    refuse_complex(op, input1, input2, target, hint=NO_ORDER)
    # torch's checks: a 0-D target goes with 1-D inputs, a 1-D one with 2-D (broadcasting)
    sizes = f"{list(input1.shape)} and {list(input2.shape)}"
    if target.ndim == 1 and not input1.ndim == input2.ndim == 2:
        raise RuntimeError(f"{op}: 1D target tensor expects 2D input tensors, but found inputs "
                           f"with sizes {sizes}.")
    if target.ndim == 0 and not input1.ndim == input2.ndim == 1:
        raise RuntimeError(f"{op}: 0D target tensor expects 1D input tensors, but found inputs "
                           f"with sizes {sizes}.")
    if target.ndim > 1:
        raise RuntimeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported "
                           f"(target of shape {tuple(target.shape)})")
    # the inputs broadcast in the dot product only, as torch's (each norm is its own input's)
    eps = 1e-12  # keeps zero vectors finite, as PyTorch
    dot = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = dot / mag.sqrt()
    zero = cos * 0
    loss = flambeau.where(target == 1, 1 - cos, zero) + flambeau.where(
        target == -1, (cos - margin).clamp(min=0), zero)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.margin_ranking_loss(flambeau.tensor([1.0]), flambeau.tensor([2.0]), flambeau.ones(1))
    tensor(1.)
    """
    op = "margin_ranking_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_same_ndim(op, input1=input1, input2=input2, target=target)
    refuse_complex(op, input1, input2, target, hint=NO_ORDER)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm distance.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> a = flambeau.zeros(1, 2)
    >>> F.triplet_margin_loss(a, a, a + 3.0)
    tensor(0.)
    """
    op = "triplet_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_same_ndim(op, anchor=anchor, positive=positive, negative=negative)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = flambeau.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.hinge_embedding_loss(flambeau.tensor([0.3, 0.3]), flambeau.tensor([1, -1]))
    tensor(0.5000)
    """
    op = "hinge_embedding_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_pair(op, input, target)
    refuse_complex(op, input, target, hint=NO_ORDER)
    zero = flambeau.zeros_like(input)  # not input * 0: NaN at infinite inputs
    # as torch: a target other than 1 and -1 takes both terms
    loss = flambeau.where(target != -1, input, zero) + flambeau.where(
        target != 1, (margin - input).clamp(min=0), zero)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))`` (two-class logistic loss).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.soft_margin_loss(flambeau.zeros(2), flambeau.tensor([1.0, -1.0]))
    tensor(0.6931)
    """
    op = "soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_pair(op, input, target)
    shape = flambeau.broadcast_shapes(input.shape, target.shape)
    if shape != input.shape:  # torch writes the loss in the input's shape: only target stretches
        raise RuntimeError(f"{op}: output with shape {list(input.shape)} doesn't match the "
                           f"broadcast shape {list(shape)} (target of shape "
                           f"{tuple(target.shape)})")
    if input._data.dtype.kind == "c" or target._data.dtype.kind == "c":
        # PyTorch computes it (the complex logarithm) but has no complex gradient for it
        refuse_complex_grad(op, input, target)
        return _reduce((1 + (-target * input).exp()).log(), reduction)
    return _reduce(softplus(-target * input), reduction)


# ---------------------------------------------------------------- likelihood losses


class _ClampKeepGrad(Function):
    """``max(x, lo)`` whose gradient is the identity: PyTorch clamps the variance in place
    under ``no_grad``, so the loss's gradient flows to ``var`` as if it had not been clamped."""

    @staticmethod
    def forward(ctx, x, lo):
        a = x._data
        return x._device._xp.maximum(a, lo).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g, None


def _gaussian_var(op, input, var):
    """``var`` checked (non-negative, of a shape the loss accepts) and shaped to broadcast."""
    if bool((var._data < 0).any()):
        raise ValueError(f"{op}: var has negative entry/entries (var shape {tuple(var.shape)}); "
                         "a variance must be >= 0")
    if var.shape == input.shape:
        return var
    if tuple(input.shape[:-1]) == tuple(var.shape):
        return var.unsqueeze(-1)  # one variance per sample, shared by its last dimension
    if input.ndim == var.ndim and sum(
            v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var  # one dimension of size 1, broadcast over the input's
    raise ValueError(
        f"{op}: var is of incorrect size: var shape {tuple(var.shape)} for input shape "
        f"{tuple(input.shape)} (expected the input's shape, the input's shape without its last "
        "dimension, or the input's shape with one dimension of size 1)")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)**2 / var)``.

    ``input`` is the predicted mean of a Gaussian with variance ``var``, ``target`` a sample.

    Parameters
    ----------
    input : Tensor
        The expected values, shape ``(N, *)`` or ``(*)``.
    target : Tensor
        Samples, of the input's shape (or one that broadcasts with it).
    var : Tensor or float
        Non-negative variances: the input's shape, the input's shape without its last dimension
        (one variance per sample), the input's shape with one dimension of size 1, or a float.
    full : bool
        Add the constant ``0.5 * log(2 * pi)``.
    eps : float
        Variances are clamped below at ``eps`` for stability; the gradient with respect to
        ``var`` is not cut by the clamp (as in PyTorch).
    reduction : str
        ``'none'``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> mean = flambeau.tensor([[1.0, 2.0], [0.0, 0.0]])
    >>> F.gaussian_nll_loss(mean, flambeau.zeros(2, 2), flambeau.tensor([1.0, 4.0]),
    ...                     reduction="none")
    tensor([[0.5000, 2.0000],
            [0.6931, 0.6931]])
    >>> try:
    ...     F.gaussian_nll_loss(mean, mean, flambeau.ones(3))
    ... except ValueError as e:
    ...     print(str(e)[:75])
    gaussian_nll_loss: var is of incorrect size: var shape (3,) for input shape
    """
    op = "gaussian_nll_loss"
    reduction = _reduction(op, None, None, reduction)
    input, target = _pair(op, input, target, complex_ok=True)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (var={var})")
        var = flambeau.full_like(input, float(var))
    elif not isinstance(var, Tensor):
        raise TypeError(f"{op}: var must be a Tensor or a float, got {type(var).__name__}")
    elif _autocast.active:
        (var,) = _autocast.cast_inputs("fp32", var)
    # a variance is real: PyTorch's sign check refuses complex ones (a float ``var`` takes
    # the input's dtype, so a complex input needs a real variance tensor)
    refuse_complex(op, var, hint="; the variance must be a real tensor")
    var = _ClampKeepGrad.apply(_gaussian_var(op, input, var), eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood of ``target`` counts with predicted rate ``input``.

    ``exp(input) - target * input`` when ``log_input`` (``input`` is the log-rate), else
    ``input - target * log(input + eps)``. With ``full``, Stirling's approximation of
    ``log(target!)``, ``target * log(target) - target + 0.5 * log(2 * pi * target)``, is added
    where ``target > 1``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> log_rate = flambeau.tensor([0.0, 1.0])
    >>> F.poisson_nll_loss(log_rate, flambeau.tensor([1.0, 3.0]), reduction="none")
    tensor([ 1.0000, -0.2817])
    >>> F.poisson_nll_loss(log_rate.exp(), flambeau.tensor([1.0, 3.0]), log_input=False)
    tensor(0.3591)
    """
    op = "poisson_nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _pair(op, input, target, complex_ok=True)
    if not (target.is_floating_point() or target._data.dtype.kind == "c"):
        target = target.to(input.dtype)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        refuse_complex(op, target, hint=" (full=True compares the target with 1)")
        big = target > 1
        # log(t) at t = 0 would make the masked-out branch's gradient 0 * inf = nan
        t = flambeau.where(big, target, 1.0)
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + flambeau.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- multi-class margin losses


def _margin_input(op, input):
    """``(input as (N, C), N, C)`` for the ``(C,)`` / ``(N, C)`` inputs of the margin losses."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    refuse_complex(op, input, hint=NO_ORDER)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise RuntimeError(f"{op}: expected a non-empty vector (C,) or matrix (N, C) input "
                           f"(N may be 0), got shape {tuple(input.shape)}")
    c = input.shape[-1] if input.ndim else 1
    x = input.reshape(-1, c)
    return x, x.shape[0], c


def _integer_target(op, target):
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer target of class indices, got "
                           f"{target.dtype}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: ``sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C``.

    Parameters
    ----------
    input : Tensor
        Scores of shape ``(N, C)`` or ``(C,)``.
    target : Tensor
        Class indices in ``[0, C)``, shape ``(N,)`` (``()`` or ``(1,)`` for a ``(C,)`` input).
    p : int
        1 or 2: the power of each hinge term.
    margin : float
        The margin by which the target's score should beat every other.
    weight : Tensor, optional
        A rescaling weight per class, shape ``(C,)``; a sample's loss is scaled by its
        target's weight.
    reduction : str
        ``'none'`` (one loss per sample), ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> F.multi_margin_loss(x, flambeau.tensor([3]))
    tensor(0.3250)
    >>> F.multi_margin_loss(x, flambeau.tensor([3]), p=2, margin=0.5)
    tensor(0.0025)
    >>> try:
    ...     F.multi_margin_loss(x, flambeau.tensor([4]))
    ... except RuntimeError as e:
    ...     print(str(e).split(";")[0])
    multi_margin_loss: target 4 is out of range for 4 classes (expected 0..3)
    """
    op = "multi_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    refuse_complex(op, weight)  # the input is checked with the other margin losses
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"{op}: weight must be one-dimensional (C,), got shape "
                         f"{tuple(weight.shape)}")
    if _autocast.active:
        input, weight = _autocast.cast_inputs("fp32", input, weight)
    x, n, c = _margin_input(op, input)
    _integer_target(op, target)
    shapes = f"input shape {tuple(input.shape)}, target shape {tuple(target.shape)}"
    if target.ndim > 1 or target.numel() != n:
        raise RuntimeError(f"{op}: target should be 1-D with one class index per sample: "
                           f"expected target shape ({n},), got {tuple(target.shape)} (input "
                           f"shape {tuple(input.shape)})")
    if weight is not None and weight.shape[0] != c:
        raise RuntimeError(f"{op}: inconsistent weight size, expected ({c},) but got "
                           f"{tuple(weight.shape)} ({shapes})")
    t = target.reshape(n)
    if n and (int(t._data.min()) < 0 or int(t._data.max()) >= c):
        bad = int(t._data.min()) if int(t._data.min()) < 0 else int(t._data.max())
        raise RuntimeError(f"{op}: target {bad} is out of range for {c} classes (expected "
                           f"0..{c - 1}); {shapes}")
    xp = x._device._xp
    idx = t.unsqueeze(1)
    hinge = flambeau.relu(margin - x.gather(1, idx) + x)
    if p == 2:
        hinge = hinge * hinge
    # the target's own term (always ``margin``) is left out; weights scale by the target class
    scale = Tensor._make((xp.arange(c) != xp.expand_dims(t._data, 1)).astype(x._data.dtype),
                         x._device)
    if weight is not None:
        w = weight if weight.dtype == x.dtype else weight.to(x.dtype)
        scale = w.gather(0, t).unsqueeze(1) * scale
    per = (hinge * scale).sum(1) / c
    if reduction == "none":
        return per.reshape(target.shape)
    return _reduce(per, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: ``sum_j sum_{i not a label} max(0, 1 - (x[y_j] - x[i])) / C``.

    Each sample's labels are the leading non-negative entries of its target row; the first
    ``-1`` ends the list (what follows it is ignored).

    Parameters
    ----------
    input : Tensor
        Scores of shape ``(N, C)`` or ``(C,)``.
    target : Tensor
        Class indices in ``[-1, C)`` of the input's shape, padded with ``-1``.
    reduction : str
        ``'none'`` (one loss per sample), ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> y = flambeau.tensor([[3, 0, -1, 1]])  # labels 3 and 0
    >>> F.multilabel_margin_loss(x, y)
    tensor(0.8500)
    """
    op = "multilabel_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if _autocast.active:
        (input,) = _autocast.cast_inputs("fp32", input)
    x, n, c = _margin_input(op, input)
    _integer_target(op, target)
    shapes = f"input shape {tuple(input.shape)}, target shape {tuple(target.shape)}"
    ok = (target.shape == input.shape if input.ndim == 2
          else target.ndim <= 1 and target.numel() == c)
    if not ok:
        raise RuntimeError(f"{op}: inconsistent target size: expected a target of the input's "
                           f"shape (class indices padded with -1); {shapes}")
    xp = x._device._xp
    t = target._data.reshape(n, c)
    if n and (int(t.min()) < -1 or int(t.max()) >= c):
        bad = int(t.min()) if int(t.min()) < -1 else int(t.max())
        raise RuntimeError(f"{op}: target {bad} is out of range for {c} classes (expected "
                           f"0..{c - 1}, or -1 to end a sample's labels); {shapes}")
    labelled = xp.cumsum(t < 0, axis=1) == 0  # entries before the first -1
    k = int(labelled.sum(axis=1).max()) if n else 0
    labelled, t = labelled[:, :k], t[:, :k]
    rows = xp.arange(n)[:, None]
    is_label = xp.zeros((n, c + 1), dtype=bool)
    is_label[rows, xp.where(labelled, t, c)] = True  # column c collects the padding
    # (N, K, C): label j of each sample against every class that is not one of its labels
    pairs = (labelled[:, :, None] & ~is_label[:, None, :c]).astype(x._data.dtype)
    picked = x.gather(1, Tensor._make(xp.where(labelled, t, 0), x._device))
    hinge = flambeau.relu(1 - picked.unsqueeze(2) + x.unsqueeze(1))
    per = (hinge * Tensor._make(pairs, x._device)).sum((1, 2)) / c
    if reduction == "none":
        return per if input.ndim == 2 else per.reshape(())
    if reduction == "mean" and n == 0:
        return per.sum()  # PyTorch's mean over an empty batch is 0, not nan
    return _reduce(per, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label logistic loss, averaged over the ``C`` classes of the last dimension.

    ``-(y * log(sigmoid(x)) + (1 - y) * log(sigmoid(-x)))``, scaled by ``weight``, summed over
    the classes and divided by ``C``: one loss per sample.

    Parameters
    ----------
    input : Tensor
        Logits of shape ``(N, C)`` or ``(C,)``.
    target : Tensor
        Labels in {0, 1} (or probabilities) of the input's shape.
    weight : Tensor, optional
        A rescaling weight per class, shape ``(C,)`` (or broadcastable to the input).
    reduction : str
        ``'none'`` (one loss per sample), ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[0.0, 0.0], [2.0, -2.0]])
    >>> F.multilabel_soft_margin_loss(x, flambeau.tensor([[1.0, 0.0], [1.0, 0.0]]),
    ...                               reduction="none")
    tensor([0.6931, 0.1269])
    """
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _pair(op, input, target)
    refuse_complex(op, weight)
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, (C,) or (N, C), got a "
                           "0-d tensor")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        try:
            flambeau.broadcast_shapes(loss.shape, weight.shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} does not "
                               f"broadcast to the input's shape {tuple(input.shape)} (expected "
                               f"({input.shape[-1]},), one weight per class)") from None
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with any distance function ``d``.

    Parameters
    ----------
    anchor, positive, negative : Tensor
        Tensors with the same number of dimensions (``(N, D)`` or ``(D,)`` for the default
        distance).
    distance_function : callable, optional
        ``d(x1, x2)``, a non-negative tensor of distances; :func:`pairwise_distance` (the
        Euclidean distance) when None.
    margin : float
        The margin (> 0) by which the negative should be further than the positive.
    swap : bool
        Use ``min(d(a, n), d(p, n))`` as the negative distance (the distance swap).
    reduction : str
        ``'none'``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> a, p, n = flambeau.zeros(1, 2), flambeau.ones(1, 2), flambeau.full((1, 2), 2.0)
    >>> l1 = lambda x, y: (x - y).abs().sum(-1)
    >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1, margin=3.0)
    tensor(1.)
    >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1, margin=3.0, swap=True)
    tensor(3.)
    """
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, None, None, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _check_same_ndim(op, anchor=anchor, positive=positive, negative=negative)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = flambeau.minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)

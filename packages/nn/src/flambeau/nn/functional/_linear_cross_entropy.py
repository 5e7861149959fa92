"""linear_cross_entropy: ``cross_entropy(linear(input, weight, bias), target)`` in one call.

With ``options=None`` it is exactly that composition. With a :class:`LinearCrossEntropyOptions`
it runs a chunked node instead: the rows of the input are taken ``batch_chunk_size`` at a
time, and each chunk's ``(rows, classes)`` logits are computed, turned into the loss and (for
the scalar reductions) into the gradients, and dropped before the next chunk. Peak memory is
one chunk of logits instead of all of them, which matters when the classes (an LLM's
vocabulary) far outnumber the input features.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import flambeau
from flambeau import Tensor
from flambeau._ops._select import errors_ignored
from flambeau._ops._util import FLOAT_NP
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex
from flambeau.nn.functional._linear import linear
from flambeau.nn.functional._loss import _check_weight, cross_entropy, indices_in_range

__all__ = ["linear_cross_entropy"]

_POLICIES = ("auto", "accurate", "balanced", "compact")
_HALF = (flambeau.float16, flambeau.bfloat16)
_ACC_DTYPES = (flambeau.float16, flambeau.bfloat16, flambeau.float32, flambeau.float64)
# PyTorch's picks for the "auto" sentinels, by (device type, input dtype): (acc_policy,
# chunking_method). They only size the chunks here (see acc_policy in the class docstring).
_AUTO = {("cpu", flambeau.bfloat16): ("accurate", "aspect_ratio"),
         ("cpu", flambeau.float16): ("accurate", "aspect_ratio")}
_AUTO_FALLBACK = ("compact", "aspect_ratio:2")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How :func:`~flambeau.nn.functional.linear_cross_entropy` chunks its computation.

    Passing an instance (even ``LinearCrossEntropyOptions()``) selects the chunked path: the
    ``(N, C)`` logits are never held at once, only ``batch_chunk_size`` rows of them. It
    applies to class-index targets of dtype int64, ``reduction`` ``'mean'``, ``'sum'`` or
    ``'none'``, no label smoothing and ``out_features == ()``; any other call warns and runs
    the reference composition. Chunking pays off when ``num_classes > in_features`` and
    ``N >= in_features``.

    Parameters
    ----------
    allow_retain_graph : bool
        The scalar reductions compute the gradients during the forward pass and their backward
        hands them out scaled in place, so a second backward raises (even with
        ``retain_graph=True``). True keeps them (one more gradient-sized array per backward).
        ``reduction='none'`` recomputes the gradients chunk by chunk in backward and ignores
        this field.
    batch_chunk_size : int, optional
        Rows per chunk; None means every row in one chunk unless ``chunking_method`` sizes
        them. Giving both with different results is a ValueError at the call.
    chunking_method : str, optional
        ``"auto"`` (PyTorch's pick for the device and dtype: ``"aspect_ratio"`` for
        float16/bfloat16 on the CPU, else ``"aspect_ratio:2"``; ignored when
        ``batch_chunk_size`` is given), ``"aspect_ratio"`` (a chunk of logits about as large
        as the input: the next power of two of ``ceil(N / ceil(C / in_features))`` rows),
        ``"aspect_ratio:K"`` (that divided by ``K``) or None (use ``batch_chunk_size``).
    acc_policy : {"auto", "accurate", "balanced", "compact"}
        PyTorch's precision/memory trade-off of its CUDA kernels. Accepted and checked; every
        policy computes as ``"accurate"`` here: each chunk's logits, their gradient and the
        accumulated weight gradient are held in ``acc_dtype``.
    acc_dtype : flambeau.dtype, optional
        The dtype the chunks are computed in: the input's, or float32 for float16/bfloat16
        inputs. None picks float32 for half inputs on the CPU and CUDA under
        ``acc_policy="auto"``, else the input's dtype. Results keep the input's dtype.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> from flambeau.nn import LinearCrossEntropyOptions
    >>> x, w = flambeau.randn(6, 4), flambeau.randn(10, 4)
    >>> target = flambeau.tensor([0, 3, 9, 2, 2, 7])
    >>> chunked = F.linear_cross_entropy(x, w, target,
    ...                                  options=LinearCrossEntropyOptions(batch_chunk_size=2))
    >>> bool(flambeau.allclose(chunked, F.cross_entropy(F.linear(x, w), target)))
    True
    >>> LinearCrossEntropyOptions(batch_chunk_size=0)
    Traceback (most recent call last):
        ...
    ValueError: batch_chunk_size must be positive int or None, got 0
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: flambeau.dtype | None = None

    def __post_init__(self):
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        method = self.chunking_method
        if method is not None and method != "auto" and _aspect_factor(method) is None:
            raise ValueError(f"invalid chunking_method: {method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            raise ValueError(
                "acc_dtype must be one of {None, flambeau.float16, flambeau.bfloat16, "
                f"flambeau.float32, flambeau.float64}}, got {self.acc_dtype!r}. Pass "
                "acc_dtype=None to let the op pick automatically.")

    def _resolve(self, rows, in_features, num_classes, dtype, device):
        """``(chunk rows, accumulation dtype)`` of a call on ``rows`` inputs of ``dtype``."""
        method = self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None  # an explicit size wins over the heuristic
        if method == "auto":
            method = _AUTO.get((device.type, dtype), _AUTO_FALLBACK)[1]
        size = rows if self.batch_chunk_size is None else min(self.batch_chunk_size, rows)
        if method is not None:
            # logits of a chunk about the input's size (LLM heads: C >> in_features)
            per_row = -(-num_classes // max(in_features, 1))
            want = -(-rows // per_row)
            size = min((1 << (want - 1).bit_length()) // _aspect_factor(method), rows)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                    f"('{method}') give different chunk sizes ({self.batch_chunk_size} vs "
                    f"{size}); pass only one.")
        acc = self.acc_dtype
        if acc is None:
            auto_fp32 = (self.acc_policy == "auto" and dtype in _HALF
                         and device.type in ("cpu", "cuda"))
            acc = flambeau.float32 if auto_fp32 else dtype
        if acc != dtype and not (dtype in _HALF and acc == flambeau.float32):
            raise RuntimeError(
                f"linear_cross_entropy supports float32 acc_dtype with float16/bfloat16 "
                f"inputs, but got {acc} acc_dtype and {dtype} inputs.")
        return max(1, size), acc


def _aspect_factor(method):
    """``K`` of ``"aspect_ratio[:K]"`` (1 without it), None for any other string."""
    name, sep, factor = method.partition(":")
    factor = factor if sep else "1"
    if name == "aspect_ratio" and factor.isdigit() and int(factor) > 0:
        return int(factor)
    return None


def _sweep(x, w, b, safe, coef, chunk, acc, want_loss, want_grads):
    """One pass over the rows of ``x``, ``chunk`` at a time, on backend arrays.

    Row ``r`` has the loss ``logsumexp(z_r) - z_r[safe[r]]`` of its logits ``z_r = x_r W^T +
    b``. Returns those losses (when ``want_loss``) and the gradients for ``(x, w, b)`` flagged
    in ``want_grads`` of ``sum_r coef[r] * loss_r``. Everything is computed in ``acc``; only
    one chunk of logits (reused as their gradient) is alive at a time.
    """
    xp = x._device._xp
    mm = x._device._backend.matmul
    wa = w._data.astype(acc, copy=False)
    ba = None if b is None else b._data.astype(acc, copy=False)
    xa = x._data
    n = xa.shape[0]
    losses = xp.empty(n, acc) if want_loss else None
    gx = xp.empty(xa.shape, acc) if want_grads[0] else None
    gw = xp.zeros(wa.shape, acc) if want_grads[1] else None
    gb = xp.zeros(wa.shape[0], acc) if want_grads[2] else None
    for start in range(0, n, chunk):
        rows = slice(start, min(n, start + chunk))
        xs = xa[rows].astype(acc, copy=False)
        z = mm(xs, wa.T)
        if ba is not None:
            z += ba
        at = xp.arange(z.shape[0]), safe[rows]
        picked = z[at]
        top = z.max(axis=1, keepdims=True)
        z -= top
        xp.exp(z, out=z)  # z now holds exp(z - max): the unnormalized softmax
        total = z.sum(axis=1)
        if want_loss:
            losses[rows] = xp.log(total) + top[:, 0] - picked
        if not any(want_grads):
            continue
        z /= total[:, None]
        z[at] -= 1
        z *= coef[rows, None]  # d(coef . loss) / d logits
        if gx is not None:
            gx[rows] = mm(z, wa)
        if gw is not None:
            gw += mm(z.T, xs)
        if gb is not None:
            gb += z.sum(axis=0)
    return losses, (gx, gw, gb)


class _ChunkedLinearCrossEntropy(Function):
    """Chunked ``cross_entropy(linear(x, w, b), target)`` of 2-D ``x`` and int64 targets.

    'mean' and 'sum' compute the gradients in the same pass as the loss (the logits are
    never made twice) and keep them, to be scaled by the incoming gradient; 'none' keeps
    only the inputs and makes the chunks again in backward, where each row's gradient is
    known. Higher-order gradients are not supported: the gradients are constants.
    """

    @staticmethod
    def forward(ctx, x, w, b, safe, row_weight, reduction, chunk, acc, allow_retain):
        xp = x._device._xp
        needs = tuple(ctx.needs_input_grad[i] for i in range(3))
        ctx.reduction, ctx.chunk, ctx.acc, ctx.allow_retain = reduction, chunk, acc, allow_retain
        if reduction == "none":
            ctx.save_for_backward(x, w, b)
            ctx.safe, ctx.row_weight = safe, row_weight
            losses, _ = _sweep(x, w, b, safe, row_weight, chunk, acc, True, (False,) * 3)
            return (losses * row_weight).astype(x._data.dtype, copy=False)
        coef = row_weight
        if reduction == "mean":
            # every row ignored (a zero total weight): the loss is 0 / 0 = nan, as in
            # cross_entropy, and the gradients are zeros, as torch's reference path gives
            denom = row_weight.sum()
            coef = row_weight / xp.where(denom == 0, 1, denom)
        losses, grads = _sweep(x, w, b, safe, coef, chunk, acc, True, needs)
        ctx.grads = [None if g is None else g.astype(t._data.dtype, copy=False)
                     for g, t in zip(grads, (x, w, b))]
        out = (losses * row_weight).sum()
        if reduction == "mean":
            with errors_ignored(xp, "invalid"):
                out = out / denom
        return xp.asarray(out, dtype=x._data.dtype)

    @staticmethod
    def backward(ctx, g):
        rest = (None,) * 6  # the arguments after (x, w, b) take no gradient
        if ctx.reduction == "none":
            x, w, b = ctx.saved_tensors
            needs = tuple(ctx.needs_input_grad[i] for i in range(3))
            coef = ctx.row_weight * g._data.astype(ctx.acc, copy=False)
            _, grads = _sweep(x, w, b, ctx.safe, coef, ctx.chunk, ctx.acc, False, needs)
            return (*(None if a is None else Tensor._make(a.astype(t._data.dtype, copy=False),
                                                          g._device)
                      for a, t in zip(grads, (x, w, b))), *rest)
        grads = ctx.grads
        if grads is None:
            raise RuntimeError(
                "linear_cross_entropy chunked backward called twice; retain_graph=True / "
                "double backward are not supported (use LinearCrossEntropyOptions("
                "allow_retain_graph=True)).")
        if not ctx.allow_retain:
            ctx.grads = None  # handed out below: scaled in place, without a copy
        if flambeau.is_grad_enabled():  # create_graph: the gradients scale with g only
            return (*(None if a is None else Tensor._make(a, g._device) * g for a in grads),
                    *rest)
        out = []
        for a in grads:
            if a is not None and ctx.allow_retain:
                a = a * g._data
            elif a is not None:
                a *= g._data
            out.append(None if a is None else Tensor._make(a, g._device))
        return (*out, *rest)


def _check_target(target, rows, num_classes, ignore_index, op):
    """``(safe, valid)``: class indices safe to gather with, and the rows not ignored (None
    when none is)."""
    t = target._data
    if t.shape != (rows,):
        if target.ndim == 1:
            raise ValueError(f"{op}: Expected input batch_size ({rows}) to match target "
                             f"batch_size ({t.shape[0]}).")
        raise RuntimeError(f"{op}: expected target of shape ({rows},), got {tuple(t.shape)}")
    safe, valid, _ = indices_in_range(target._device._xp, t, num_classes, ignore_index, op)
    return safe, valid


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
             options, op):
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    t = target.unsqueeze(0) if unbatched and target.ndim == 0 else target
    num_classes, in_features = linear_weight.shape
    if x._data.dtype not in FLOAT_NP:
        refuse_complex(op, x)  # cross_entropy's log-softmax is real only
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    for name, other in (("linear_weight", linear_weight), ("linear_bias", linear_bias),
                        ("target", t), ("weight", weight)):
        if other is not None and other._device is not x._device:
            raise RuntimeError(f"{op}: expected all tensors to be on the same device, got "
                               f"input on {input.device} and {name} on {other.device}")
        if name.startswith("linear") and other is not None and other.dtype != x.dtype:
            raise RuntimeError(f"{op}: input and {name} must have the same dtype, got "
                               f"{input.dtype} and {other.dtype}")
    _check_weight(weight, num_classes, op)
    chunk, acc = options._resolve(x.shape[0], in_features, num_classes, x.dtype, x.device)
    safe, valid = _check_target(t, x.shape[0], num_classes, ignore_index, op)
    # each row's share of the loss: its class weight, 0 where ignored
    xp = x._device._xp
    row_weight = xp.ones(x.shape[0], acc.np) if valid is None else valid.astype(acc.np)
    if weight is not None:
        row_weight *= weight._data.astype(acc.np, copy=False)[safe]
    out = _ChunkedLinearCrossEntropy.apply(x, linear_weight, linear_bias, safe, row_weight,
                                           reduction, chunk, acc.np, options.allow_retain_graph)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """Cross entropy of the logits ``linear(input, linear_weight, linear_bias)`` and ``target``.

    Equal to ``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`` with the
    same keyword arguments, except that ``ignore_index=None`` (the default) means -100 for
    class-index targets and must stay None for class-probability targets. With
    :class:`~flambeau.nn.LinearCrossEntropyOptions` as ``options`` it is computed chunk by
    chunk over the rows, never holding all the ``(N, C)`` logits (see the options for when
    that applies; other calls warn and compute the composition).

    Parameters
    ----------
    input : Tensor
        ``(in_features,)`` or ``(N, in_features)``.
    linear_weight : Tensor
        ``(C, in_features)``, or ``(C, d1, ..., dK, in_features)`` for a K-dimensional loss
        over logits ``(N, C, d1, ..., dK)`` (batched input only).
    target : Tensor
        Class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` in ``[0, C)``, or class
        probabilities of the logits' shape.
    linear_bias : Tensor, optional
        ``(C,)`` or ``(C, d1, ..., dK)``, matching ``linear_weight``.
    weight : Tensor, optional
        A rescaling weight of each class, ``(C,)``.
    reduction : {'mean', 'sum', 'none'}
        As :func:`cross_entropy`: the weighted mean over non-ignored targets, the sum, or the
        loss of each target.
    ignore_index : int, optional
        A class-index target that contributes neither loss nor gradient (None: -100).
    label_smoothing : float
        In ``[0, 1]``: mix the target with the uniform distribution by this amount.
    options : LinearCrossEntropyOptions, optional
        Select and configure the chunked computation; None computes the composition.

    Returns
    -------
    Tensor
        A scalar, or with ``reduction='none'`` the loss of each target.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> w = flambeau.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> F.linear_cross_entropy(x, w, flambeau.tensor([0, 1]), reduction="none")
    tensor([0.5514, 0.2395])
    >>> F.linear_cross_entropy(x, w, flambeau.tensor([0, -100]))
    tensor(0.5514)
    """
    op = "linear_cross_entropy"
    for name, t in (("input", input), ("linear_weight", linear_weight), ("target", target)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"{op}: expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"{op}: expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            f"{op}: expected equal input and linear_weight last dimensions (in_features), got "
            f"{in_features} and {linear_weight.shape[-1]}, respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"{op}: expected linear_bias shape {(num_classes, *out_features)}, "
                           f"got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(
            f"{op}: K-dimensional loss defined by linear_weight shape "
            f"{tuple(linear_weight.shape)} requires batched input, (N, {in_features}), got "
            f"unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batch, num_classes, *out_features)
    # the shape tells probabilities from class indices, as cross_entropy does
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError(f"{op}: ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        if (not out_features and reduction in ("mean", "sum", "none")
                and label_smoothing == 0.0 and target.dtype == flambeau.int64):
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction,
                            ignore_index, options, op)
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
            f"out_features == (). Got reduction={reduction!r}, label_smoothing="
            f"{label_smoothing}, target.dtype={target.dtype}, out_features={out_features}, "
            f"linear_bias.shape="
            f"{tuple(linear_bias.shape) if linear_bias is not None else None}.",
            stacklevel=2)
    rows = math.prod(out_features, start=num_classes)
    logits = linear(input, linear_weight.reshape(rows, in_features),
                    None if linear_bias is None else linear_bias.reshape(rows))
    return cross_entropy(logits.reshape(logits_shape), target, weight=weight,
                         reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)

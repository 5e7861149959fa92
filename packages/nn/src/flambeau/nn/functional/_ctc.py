"""Connectionist temporal classification loss (``ctc_loss``), as PyTorch's.

The forward and backward variables of Graves et al. are computed on the host in log space
for every sample and position of the blank-extended target at once, looping over time only. The
gradient is PyTorch's: with respect to the logits under the log-softmax that produced
``log_probs`` (``exp(log_probs) - exp(log_alpha_beta + nll - log_probs)``), which is what
training through ``log_softmax`` needs.
"""

from __future__ import annotations

import numpy as np

import flambeau
from flambeau import Tensor
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _logsumexp(*arrays):
    """Elementwise log(sum(exp(a))) of same-shaped arrays, -inf where all are -inf."""
    top = np.maximum.reduce(arrays)
    safe = np.where(np.isfinite(top), top, 0.0)
    total = sum(np.exp(a - safe) for a in arrays)
    with np.errstate(divide="ignore"):
        return np.log(total) + safe


def _shift(a, k, fill=_NEG_INF):
    """``a`` moved ``k`` places along the last axis (right for ``k > 0``, left for ``k < 0``),
    filling the places left empty with ``fill``."""
    out = np.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :a.shape[-1] - k]
    else:
        out[..., :a.shape[-1] + k] = a[..., -k:]
    return out


class _CTC(Function):
    @staticmethod
    def forward(ctx, log_probs, labels, lengths_in, lengths_ext, zero_infinity):
        backend = log_probs._device.backend
        lp = backend.to_host(log_probs._data).astype(np.float64)  # (T, N, C), on the host
        steps, batch, _ = lp.shape
        width = labels.shape[1]
        cols = np.arange(width)
        rows = np.arange(batch)[:, None]
        emit = lp[:, rows, labels]  # (T, N, L): log prob of each extended label
        valid = cols[None, :] < lengths_ext[:, None]
        skip = np.zeros((batch, width), dtype=bool)  # s - 2 -> s allowed
        skip[:, 2:] = (labels[:, 2:] != labels[:, :-2]) & (cols[2:] % 2 == 1)
        alpha = np.full((steps, batch, width), _NEG_INF)
        alpha[0, :, 0] = emit[0, :, 0]
        alpha[0, :, 1] = np.where(lengths_ext > 1, emit[0, :, 1], _NEG_INF)
        for t in range(1, steps):
            prev = alpha[t - 1]
            jump = np.where(skip, _shift(prev, 2), _NEG_INF)
            alpha[t] = _logsumexp(prev, _shift(prev, 1), jump) + emit[t]
        alpha[:, ~valid] = _NEG_INF
        last = lengths_in - 1
        end = alpha[last, np.arange(batch)]  # (N, L) at each sample's last frame
        tail = np.take_along_axis(end, (lengths_ext - 1)[:, None], 1)[:, 0]
        before = np.take_along_axis(end, np.maximum(lengths_ext - 2, 0)[:, None], 1)[:, 0]
        before = np.where(lengths_ext > 1, before, _NEG_INF)
        nll = -_logsumexp(tail, before)
        infinite = np.isinf(nll)
        if zero_infinity:
            nll = np.where(infinite, 0.0, nll)
        ctx.save_for_backward(log_probs)
        ctx.cache = (lp, labels, emit, alpha, skip, valid, lengths_in, lengths_ext, nll,
                     infinite & zero_infinity)
        return backend.from_host(nll.astype(log_probs._data.dtype), log_probs._device.index)

    @staticmethod
    def backward(ctx, g):
        (log_probs,) = ctx.saved_tensors
        lp, labels, emit, alpha, skip, valid, lengths_in, lengths_ext, nll, zeroed = ctx.cache
        steps, batch, classes = lp.shape
        width = labels.shape[1]
        n_idx = np.arange(batch)
        beta = np.full((steps, batch, width), _NEG_INF)
        skip_back = _shift(skip, -2, False)  # s -> s + 2 allowed, read at s
        for t in range(steps - 1, -1, -1):
            start = lengths_in - 1 == t
            nxt = beta[t + 1] if t + 1 < steps else np.full((batch, width), _NEG_INF)
            jump = np.where(skip_back, _shift(nxt, -2), _NEG_INF)
            beta[t] = _logsumexp(nxt, _shift(nxt, -1), jump) + emit[t]
            if start.any():
                init = np.full((batch, width), _NEG_INF)
                init[n_idx, lengths_ext - 1] = emit[t, n_idx, lengths_ext - 1]
                second = np.maximum(lengths_ext - 2, 0)
                init[n_idx, second] = np.where(lengths_ext > 1, emit[t, n_idx, second],
                                               init[n_idx, second])
                beta[t] = np.where(start[:, None], init, beta[t])
            beta[t, lengths_in - 1 < t] = _NEG_INF
        beta[:, ~valid] = _NEG_INF
        ab = alpha + beta  # (T, N, L); each includes the emission at t twice
        top = ab.max(axis=2, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        onehot = np.zeros((batch, width, classes))
        onehot[n_idx[:, None], np.arange(width)[None, :], labels] = 1.0
        summed = np.einsum("tns,nsc->tnc", np.exp(ab - top), onehot)
        with np.errstate(divide="ignore"):
            lcab = np.log(summed) + top
        grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
        grad[np.arange(steps)[:, None] >= lengths_in[None, :]] = 0.0
        grad[:, zeroed] = 0.0
        grad *= g._device.backend.to_host(g._data).astype(np.float64)[None, :, None]
        device = log_probs._device
        data = device.backend.from_host(grad.astype(log_probs._data.dtype), device.index)
        if flambeau.is_grad_enabled():  # create_graph: a node that refuses to go further
            return _CTCGradient.apply(log_probs, data), None, None, None, None
        return Tensor._make(data, log_probs._device), None, None, None, None


class _CTCGradient(Function):
    """The gradient of ``ctc_loss`` in a recorded graph; not differentiable again."""

    @staticmethod
    def forward(ctx, log_probs, gradient):
        return gradient

    @staticmethod
    def backward(ctx, gg):
        raise RuntimeError("ctc_loss: double backward is not supported (as in PyTorch)")


def _as_lengths(value, name, batch, op):
    arr = np.asarray(value.tolist() if isinstance(value, Tensor) else value, dtype=np.int64)
    if arr.shape != (batch,):
        raise RuntimeError(f"{op}: {name} must have one entry per batch item ({batch}), got "
                           f"shape {arr.shape}")
    return arr


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss of ``log_probs`` ``(T, N, C)``.

    Parameters
    ----------
    log_probs : Tensor
        Log-probabilities (``log_softmax`` over C) of shape ``(T, N, C)``, or ``(T, C)``.
    targets : Tensor
        Padded target sequences ``(N, S)``, or all of them concatenated ``(sum(lengths),)``;
        class indices, never ``blank``.
    input_lengths, target_lengths : Tensor or sequence of int
        The number of frames and of target labels of each sample.
    blank : int
        The blank class (default 0).
    reduction : str
        ``'none'``, ``'sum'``, or ``'mean'`` (each loss divided by its target length, then
        averaged over the batch).
    zero_infinity : bool
        Replace infinite losses (no alignment possible) and their gradients with zero.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> log_probs = flambeau.full((2, 1, 2), 0.5).log()  # two frames, classes {blank, 1}
    >>> F.ctc_loss(log_probs, flambeau.tensor([[1]]), [2], [1], reduction="sum")
    tensor(0.2877)
    """
    op = "ctc_loss"
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError(f"{op}: log_probs and targets must be Tensors")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")
    refuse_complex(op, log_probs)  # as PyTorch's kernels
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3 or not lp.is_floating_point():
        raise RuntimeError(f"{op}: expected floating point log_probs of shape (T, N, C), got "
                           f"{log_probs.dtype} of shape {tuple(log_probs.shape)}")
    if lp._data.size == 0:
        raise RuntimeError(f"{op}: log_probs tensor must not be empty")
    steps, batch, classes = lp.shape
    lengths_in = _as_lengths(input_lengths, "input_lengths", batch, op)
    lengths_tg = _as_lengths(target_lengths, "target_lengths", batch, op)
    if (lengths_in < 1).any() or (lengths_in > steps).any():
        raise RuntimeError(f"{op}: input_lengths must be in 1..{steps} (the frames of "
                           f"log_probs), got {lengths_in.tolist()}")
    tg = targets.cpu().numpy().astype(np.int64)
    if unbatched and tg.ndim == 1 and len(lengths_tg) == 1 and tg.size == lengths_tg[0]:
        tg = tg[None]
    if tg.ndim == 2:
        if (lengths_tg > tg.shape[1]).any() or (lengths_tg < 0).any():
            raise RuntimeError(f"{op}: target_lengths {lengths_tg.tolist()} exceed the "
                               f"padded targets of length {tg.shape[1]}")
        seqs = [tg[n, :lengths_tg[n]] for n in range(batch)]
    else:
        if tg.size != lengths_tg.sum():
            raise RuntimeError(f"{op}: concatenated targets hold {tg.size} labels but "
                               f"target_lengths sum to {lengths_tg.sum()}")
        seqs = np.split(tg, np.cumsum(lengths_tg)[:-1])
    if any(((s < 0) | (s >= classes) | (s == blank)).any() for s in seqs):
        raise RuntimeError(f"{op}: targets must be class indices in 0..{classes - 1} other "
                           f"than blank ({blank})")
    width = 2 * max((len(s) for s in seqs), default=0) + 1
    labels = np.full((batch, width), blank, dtype=np.int64)
    for n, s in enumerate(seqs):
        labels[n, 1:2 * len(s):2] = s
    out = _CTC.apply(lp, labels, lengths_in, 2 * lengths_tg + 1, zero_infinity)
    if reduction == "mean":
        scale = flambeau.tensor(1.0 / np.maximum(lengths_tg, 1), dtype=out.dtype,
                                device=out.device)
        return (out * scale).mean()
    if reduction == "sum":
        return out.sum()
    return out.squeeze(0) if unbatched else out

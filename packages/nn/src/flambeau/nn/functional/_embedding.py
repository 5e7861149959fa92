"""flambeau.nn.functional: embedding lookups (and bags of them)."""

from __future__ import annotations

import flambeau
from flambeau import Tensor
from flambeau._ops._util import LOW_PRECISION_NP
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex, refuse_complex_grad

__all__ = ["embedding", "embedding_bag"]


class _Embedding(Function):
    """``weight[indices]``; the backward scatter-adds rows, skipping ``padding_idx``."""

    _graph_inputs = (0,)  # not the indices

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse=False):
        ctx.save_for_backward(indices)
        ctx.num_weights, ctx.dim = weight.shape
        ctx.padding_idx, ctx.scale, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return weight._data[indices._data]

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        flat = indices.reshape(-1)
        rows = g.reshape(flat.shape[0], ctx.dim)  # not -1: no lookups is (0, dim)
        if ctx.sparse:
            return _sparse_grad(ctx, flat, rows), None, None, None, None
        keep = None
        if ctx.padding_idx is not None:
            keep = (flat != ctx.padding_idx).unsqueeze(1)
        if ctx.scale:
            counts = flambeau.bincount(flat, minlength=ctx.num_weights)
            rows = rows / counts[flat].unsqueeze(1).to(rows.dtype)
        if keep is not None:
            rows = rows * keep
        zeros = flambeau.zeros(ctx.num_weights, rows.shape[1], dtype=g.dtype, device=g.device)
        return zeros.index_add(0, flat, rows), None, None, None, None


def _sparse_grad(ctx, flat, rows):
    """The weight's gradient as torch's sparse one: one uncoalesced entry per looked-up
    index, in the input's order, the ``padding_idx`` entries left out."""
    if ctx.scale:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse "
                           "gradients")
    index = flat._data
    if ctx.padding_idx is not None:
        xp = flat._device._xp
        kept = xp.nonzero(index != ctx.padding_idx)[0]
        index = index[kept]
        rows = rows.index_select(0, Tensor._make(kept, flat._device))
    return flambeau.sparse_coo_tensor(index.reshape(1, -1), rows,
                                      (ctx.num_weights, rows.shape[1]), check_invariants=False)


def _check_indices(input, num, op):
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{op}: expected indices of an integer dtype (int64 or int32), got "
                           f"{kind}")
    a = input._data
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(f"{op}: index {bad} is out of range for {num} embeddings (input "
                             f"shape {tuple(input.shape)})")


def _renorm_(weight, input, max_norm, norm_type):
    """Scale the looked-up rows whose norm exceeds ``max_norm`` down to it, in place."""
    with flambeau.no_grad():
        _renorm_rows(weight._device._xp, weight._data, input, max_norm, norm_type)
        weight._version_counter.value += 1


def _renorm_rows(xp, a, input, max_norm, norm_type):
    """:func:`_renorm_` on the array ``a`` of the weight."""
    rows = xp.unique(input._data.reshape(-1))
    sel = a[rows]
    norms = (xp.abs(sel) ** norm_type).sum(1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    a[rows] = (sel * scale[:, None]).astype(sel.dtype, copy=False)


def _padding(padding_idx, num, op):
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"{op}: padding_idx ({padding_idx}) must be within num_embeddings "
                         f"({num})")
    return padding_idx % num


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` at the integer ``input`` indices.

    Parameters
    ----------
    input : Tensor
        Integer indices of any shape.
    weight : Tensor
        The table, shape ``(num_embeddings, embedding_dim)``.
    padding_idx : int, optional
        A row that receives no gradient.
    max_norm : float, optional
        Renormalize (in place) looked-up rows whose ``norm_type``-norm exceeds it.
    scale_grad_by_freq : bool
        Divide each row's gradient by its frequency in the batch.
    sparse : bool
        Make ``weight.grad`` a sparse COO tensor (``flambeau.sparse_coo``), as torch's: one
        uncoalesced row per looked-up index (``padding_idx`` rows left out), for optimizers
        that take sparse gradients (:class:`flambeau.optim.SparseAdam`, ``SGD``,
        ``Adagrad``). Not with ``scale_grad_by_freq``.

    A complex ``weight`` is looked up only where no gradient is recorded (PyTorch has no
    complex gradient for ``embedding``): under ``no_grad`` or with ``requires_grad=False``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> w = flambeau.arange(6.0).reshape(3, 2)
    >>> F.embedding(flambeau.tensor([[2, 0]]), w)
    tensor([[[4., 5.],
             [0., 1.]]])
    """
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {tuple(weight.shape)}")
    if weight._data.dtype.kind == "c":  # PyTorch looks complex rows up, without gradient
        refuse_complex_grad("embedding", weight)
    num = weight.shape[0]
    _check_indices(input, num, "embedding")
    padding_idx = _padding(padding_idx, num, "embedding")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return _Embedding.apply(weight, input, padding_idx, scale_grad_by_freq, bool(sparse))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materializing each bag.

    ``input`` is 2-D ``(B, N)`` (B bags of N indices) or 1-D with ``offsets`` giving where
    each bag starts. Indices equal to ``padding_idx`` are left out of their bag.
    ``sparse=True`` makes ``weight.grad`` sparse as :func:`embedding`'s (modes ``"sum"``
    and ``"mean"``; ``"max"`` refuses it, as torch).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> w = flambeau.arange(6.0).reshape(3, 2)
    >>> F.embedding_bag(flambeau.tensor([0, 2, 1]), w, flambeau.tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [2., 3.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}')")
    refuse_complex("embedding_bag", weight, per_sample_weights)  # as PyTorch's kernels
    xp = input._device._xp
    num = weight.shape[0]
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None")
        b, n = input.shape
        flat = input.reshape(-1)
        bag = xp.repeat(xp.arange(b), n)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor when input is 1D")
        off = offsets._data
        b = off.shape[0] - 1 if include_last_offset else off.shape[0]
        flat = input
        # the bag of each position: how many offsets are <= it, minus one
        bag = xp.searchsorted(off[:b], xp.arange(flat.shape[0]), side="right") - 1
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {input.ndim}")
    _check_indices(flat, num, "embedding_bag")
    padding_idx = _padding(padding_idx, num, "embedding_bag")
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    keep = xp.ones(flat.shape[0], bool) if padding_idx is None else flat._data != padding_idx
    keep_t = Tensor._make(keep.astype(rows._data.dtype)[:, None], rows._device)
    bag_t = Tensor._make(bag.astype(xp.int64), rows._device)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    if mode == "max":
        neg = Tensor._make(xp.where(keep, 0, -xp.inf)[:, None].astype(rows._data.dtype),
                           rows._device)
        out = _bag_max(rows + neg, bag, b)
        # an empty bag is 0 (not -inf * 0, which is NaN)
        return flambeau.where(out == float("-inf"), flambeau.zeros_like(out), out)
    # float16/bfloat16 bags are summed in float32 and rounded once, as torch's
    half = weight._data.dtype in LOW_PRECISION_NP
    acc = flambeau.float32 if half else weight.dtype
    zeros = flambeau.zeros(b, weight.shape[1], dtype=acc, device=weight.device)
    total = zeros.index_add(0, bag_t, (rows * keep_t).to(acc))
    if mode == "mean":
        counts = xp.bincount(bag[keep], minlength=b).astype(total._data.dtype)
        total = total / Tensor._make(xp.maximum(counts, 1)[:, None], rows._device)
    return total.to(weight.dtype) if half else total


def _bag_max(rows, bag, b):
    """Per-bag maxima of ``rows`` as a padded ``(b, max_len, dim)`` gather, then amax."""
    xp = rows._device._xp
    n = bag.shape[0]
    counts = xp.bincount(bag, minlength=b)
    longest = int(counts.max()) if n else 1
    starts = xp.concatenate([xp.zeros(1, xp.int64), xp.cumsum(counts)[:-1]])
    pos = xp.arange(n) - starts[bag]
    slot = Tensor._make((bag * longest + pos).astype(xp.int64), rows._device)
    padded = flambeau.full((b * longest, rows.shape[1]), float("-inf"), dtype=rows.dtype,
                           device=rows.device)
    padded = padded.index_put((slot,), rows)
    return padded.reshape(b, longest, rows.shape[1]).amax(1)

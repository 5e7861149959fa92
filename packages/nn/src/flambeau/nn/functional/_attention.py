"""Attention: scaled_dot_product_attention, composed from differentiable flambeau ops."""

from __future__ import annotations

import math

import flambeau
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.nn._complex import refuse_complex

__all__ = ["scaled_dot_product_attention"]


def causal_mask(query_len, key_len, device):
    """Boolean ``(L, S)`` mask, True where attention is allowed (on and below the diagonal)."""
    return flambeau.ones(query_len, key_len, dtype=flambeau.bool, device=device).tril()


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims, as PyTorch's.

    ``attn_mask`` is boolean (True = take part in attention) or float (added to the scores);
    ``is_causal`` masks future keys; ``scale`` defaults to ``1 / sqrt(E)``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> q = k = v = flambeau.ones(2, 3, 4)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    flambeau.Size([2, 3, 4])
    """
    if _autocast.active:
        query, key, value = _autocast.cast_inputs("lower", query, key, value)
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be a Tensor with at "
                               "least 2 dims")
    refuse_complex("scaled_dot_product_attention", query, key, value)  # a softmax: real only
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: incompatible shapes query {tuple(query.shape)}, key "
            f"{tuple(key.shape)}, value {tuple(value.shape)} (query/key embedding sizes and "
            "key/value lengths must match)"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if enable_gqa and query.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(groups, dim=-3)
        value = value.repeat_interleave(groups, dim=-3)
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = flambeau.matmul(query * scale, key.transpose(-2, -1))
    if is_causal:
        attn_mask = causal_mask(length, source, query.device)
    if attn_mask is not None:
        if attn_mask.dtype == flambeau.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        import flambeau.nn.functional as F

        weights = F.dropout(weights, dropout_p, True)
    return flambeau.matmul(weights, value)

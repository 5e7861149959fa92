"""Attention: scaled_dot_product_attention and multi_head_attention_forward (the computation
of nn.MultiheadAttention), composed from differentiable flambeau ops."""

from __future__ import annotations

import math
import warnings

import flambeau
from flambeau._ops.shape import pad
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.backends import cuda as _sdp_switches
from flambeau.nn._complex import refuse_complex
from flambeau.nn.functional._dropout import dropout
from flambeau.nn.functional._linear import linear

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


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
    if not _sdp_switches.sdp_allowed():  # flambeau.nn.attention.sdpa_kernel, enable_*_sdp
        raise RuntimeError("scaled_dot_product_attention: No viable backend for "
                           "scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")
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
        # a query whose every key is masked out attends to nothing (zeros, as PyTorch's
        # kernels) instead of 0 / 0: softmax a harmless row, then zero it, so no nan reaches
        # the gradients either
        dead = scores.amax(-1, keepdim=True) == float("-inf")
        weights = scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return flambeau.matmul(weights, value)


_MHA = "multi_head_attention_forward"


def _mha_batched(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D) or not (2-D), with the masks' dims checked."""
    kind, mask_dim = {3: ("batched (3-D)", 2), 2: ("unbatched (2-D)", 1)}.get(query.ndim,
                                                                                 (None, 0))
    if kind is None:
        raise AssertionError(f"{_MHA}: query should be unbatched 2D or batched 3D tensor but "
                             f"received {query.ndim}-D query tensor")
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"{_MHA}: For {kind} `query`, expected `key` and `value` to be "
                             f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             "respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != mask_dim:
        raise AssertionError(f"{_MHA}: For {kind} `query`, expected `key_padding_mask` to be "
                             f"`None` or {mask_dim}-D but found {key_padding_mask.ndim}-D "
                             "tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"{_MHA}: For {kind} `query`, expected `attn_mask` to be "
                                 f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                 "instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if query.ndim == 2 and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"{_MHA}: Expected `attn_mask` shape to be {expected} but got "
                                 f"{tuple(attn_mask.shape)}")
    return query.ndim == 3


def _additive_mask(mask, name, dtype, other=None, other_name=""):
    """``mask`` as floats added to the scores: a boolean one (True = not allowed) as -inf."""
    if mask is None:
        return None
    if mask.dtype != flambeau.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"{_MHA}: only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if mask.dtype == flambeau.bool:
        return flambeau.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf"))
    return mask


def _in_projections(query, key, value, same_qk, same_kv, w, b, separate):
    """``(q, k, v)``: the three input projections, from the packed ``w`` (``separate`` None)
    or from ``separate = (w_q, w_k, w_v)``; one product serves inputs that are the same."""
    e = query.shape[-1]
    if separate is None:
        if same_kv and same_qk:  # self-attention
            return linear(query, w, b).chunk(3, -1)
        bq, bk, bv = (None,) * 3 if b is None else b.chunk(3)
        if same_kv:  # encoder-decoder attention: keys and values from one product
            bkv = None if b is None else b[e:]
            return (linear(query, w[:e], bq), *linear(key, w[e:], bkv).chunk(2, -1))
        wq, wk, wv = w.chunk(3)
    else:
        wq, wk, wv = separate
        bq, bk, bv = (None,) * 3 if b is None else b.chunk(3)
        for what, t, wt in (("query", query, wq), ("key", key, wk), ("value", value, wv)):
            if tuple(wt.shape) != (e, t.shape[-1]):
                raise AssertionError(f"{_MHA}: expecting {what} weights shape of "
                                     f"{(e, t.shape[-1])}, but got {tuple(wt.shape)}")
        for what, bt in (("query", bq), ("key", bk), ("value", bv)):
            if bt is not None and tuple(bt.shape) != (e,):
                raise AssertionError(f"{_MHA}: expecting {what} bias shape of {(e,)}, but got "
                                     f"{tuple(bt.shape)}")
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _heads(t, static, rows, head_dim, what):
    """``(L, N, E)`` projections as ``(N * heads, L, head_dim)``, or the given ``static``."""
    if static is None:
        return t.reshape(t.shape[0], rows, head_dim).transpose(0, 1)
    if static.shape[0] != rows:
        raise AssertionError(f"{_MHA}: expecting {what}.size(0) of {rows}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"{_MHA}: expecting {what}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """The computation of :class:`~flambeau.nn.MultiheadAttention`, with its weights as
    arguments: project, attend within each of ``num_heads`` heads, project out.

    Parameters
    ----------
    query, key, value : Tensor
        ``(L, N, E)``, ``(S, N, Ek)``, ``(S, N, Ev)``, or unbatched ``(L, E)``, ``(S, Ek)``,
        ``(S, Ev)`` (sequence first).
    embed_dim_to_check, num_heads : int
        ``E`` (checked against the query) and the number of heads, which divides it.
    in_proj_weight, in_proj_bias : Tensor or None
        The packed ``(3E, E)`` projections of query, key and value, and their ``(3E,)``
        biases (also used with separate weights).
    bias_k, bias_v : Tensor or None
        ``(1, 1, E)`` rows appended to the projected keys and values (both or neither).
    add_zero_attn : bool
        Append a zero key and value (after the heads are split).
    dropout_p : float
        Dropout on the attention weights, applied when ``training``.
    out_proj_weight, out_proj_bias : Tensor
        The output projection ``(E, E)`` and its bias (or None).
    key_padding_mask : Tensor, optional
        ``(N, S)`` or ``(S,)``: True (or -inf) marks keys to leave out.
    need_weights : bool
        Also return the attention weights (after dropout, as PyTorch).
    attn_mask : Tensor, optional
        ``(L, S)`` or ``(N * num_heads, L, S)``: boolean (True = not allowed) or added to
        the scores.
    use_separate_proj_weight : bool
        Project with ``q_proj_weight`` ``(E, E)``, ``k_proj_weight`` ``(E, Ek)`` and
        ``v_proj_weight`` ``(E, Ev)`` instead of ``in_proj_weight``.
    static_k, static_v : Tensor, optional
        ``(N * num_heads, S, E / num_heads)`` keys and values used as given, in place of the
        projected ones.
    average_attn_weights : bool
        Average the returned weights over the heads.
    is_causal : bool
        A hint that ``attn_mask`` is the causal mask, which it requires: without
        ``key_padding_mask`` and ``need_weights`` the causal mask is applied instead of it.

    Returns
    -------
    tuple
        The output ``(L, N, E)`` (``(L, E)`` unbatched) and the weights ``(N, L, S)`` (or
        ``(N, num_heads, L, S)`` without averaging; no ``N`` unbatched), or None without
        ``need_weights``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.randn(5, 2, 8)  # (L, N, E)
    >>> w_in, w_out = flambeau.randn(24, 8), flambeau.randn(8, 8)
    >>> out, weights = F.multi_head_attention_forward(
    ...     x, x, x, 8, 2, w_in, None, None, None, False, 0.0, w_out, None)
    >>> out.shape, weights.shape
    (flambeau.Size([5, 2, 8]), flambeau.Size([2, 5, 5]))
    >>> bool(flambeau.allclose(weights.sum(-1), flambeau.ones(2, 5)))
    True
    """
    refuse_complex(_MHA, query, key, value)  # the attention weights are a softmax: real only
    same_qk, same_kv = query is key, key is value  # before autocast's casts make copies
    if _autocast.active:
        (query, key, value, in_proj_weight, in_proj_bias, bias_k, bias_v, out_proj_weight,
         out_proj_bias, key_padding_mask, attn_mask, q_proj_weight, k_proj_weight,
         v_proj_weight, static_k, static_v) = _autocast.cast_inputs(
            "lower", query, key, value, in_proj_weight, in_proj_bias, bias_k, bias_v,
            out_proj_weight, out_proj_bias, key_padding_mask, attn_mask, q_proj_weight,
            k_proj_weight, v_proj_weight, static_k, static_v)
    batched = _mha_batched(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, embed_dim = query.shape
    source = key.shape[0]
    dtype = query.dtype
    key_padding_mask = _additive_mask(key_padding_mask, "key_padding_mask", dtype, attn_mask,
                                      "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{_MHA}: Need attn_mask if specifying the is_causal hint. You may "
                           "use the Transformer module method `generate_square_subsequent_mask` "
                           "to create this mask.")
    # PyTorch trusts the hint only where it calls its fused attention: then the causal mask
    # replaces attn_mask
    causal = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if causal else _additive_mask(attn_mask, "attn_mask", dtype)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"{_MHA}: was expecting embedding dimension of "
                             f"{embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"{_MHA}: embed_dim {embed_dim} not divisible by num_heads "
                             f"{num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"{_MHA}: key's sequence and batch dims {tuple(key.shape[:2])} "
                                 f"do not match value's {tuple(value.shape[:2])}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"{_MHA}: use_separate_proj_weight is True but "
                                     f"{name}_proj_weight is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"{_MHA}: key shape {tuple(key.shape)} does not match value "
                                 f"shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError(f"{_MHA}: use_separate_proj_weight is False but "
                                 "in_proj_weight is None")
        separate = None
    q, k, v = _in_projections(query, key, value, same_qk, same_kv, in_proj_weight,
                              in_proj_bias, separate)
    rows = batch * num_heads
    if attn_mask is not None:
        expected = (length, source) if attn_mask.ndim == 2 else (rows, length, source)
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"{_MHA}: the shape of the {attn_mask.ndim}D attn_mask is "
                               f"{tuple(attn_mask.shape)}, but should be {expected}.")
    if (bias_k is None) != (bias_v is None):
        set_, unset = ("bias_k", "bias_v") if bias_v is None else ("bias_v", "bias_k")
        raise AssertionError(f"{_MHA}: {set_} is set but {unset} is None")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError(f"{_MHA}: bias cannot be added to static "
                                 f"{'key' if static_k is not None else 'value'}.")
        k = flambeau.cat([k, bias_k.expand(1, batch, embed_dim)])
        v = flambeau.cat([v, bias_v.expand(1, batch, embed_dim)])
    q = q.reshape(length, rows, head_dim).transpose(0, 1)
    k = _heads(k, static_k, rows, head_dim, "static_k")
    v = _heads(v, static_v, rows, head_dim, "static_v")
    if add_zero_attn:
        zeros = flambeau.zeros(rows, 1, head_dim, dtype=k.dtype, device=k.device)
        k, v = flambeau.cat([k, zeros], 1), flambeau.cat([v, zeros], 1)
    # the keys added above (bias row, zero key) take part in attention: pad masks with 0
    extra = k.shape[1] - source
    if extra and attn_mask is not None:
        attn_mask = pad(attn_mask, (0, extra))
    if extra and key_padding_mask is not None:
        key_padding_mask = pad(key_padding_mask, (0, extra))
    source = k.shape[1]
    if key_padding_mask is not None:
        for dim, want in ((0, batch), (1, source)):
            if key_padding_mask.shape[dim] != want:
                raise AssertionError(f"{_MHA}: Expected key_padded_mask.shape[{dim}] to be "
                                     f"{want}, but got {key_padding_mask.shape[dim]}")
    mask = attn_mask  # (L, S) or (N * heads, L, S), and the padding of each batch entry
    if key_padding_mask is not None:
        padding = key_padding_mask.reshape(batch, 1, 1, source).expand(
            batch, num_heads, 1, source).reshape(rows, 1, source)
        mask = padding if mask is None else mask + padding
    if not training:
        dropout_p = 0.0
    if not need_weights:  # PyTorch's fused path, with its handling of fully masked rows
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, causal)
        return _out_projection(out, length, batch, embed_dim, out_proj_weight, out_proj_bias,
                               batched), None
    scores = flambeau.matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    out = _out_projection(flambeau.matmul(weights, v), length, batch, embed_dim,
                          out_proj_weight, out_proj_bias, batched)
    weights = weights.reshape(batch, num_heads, length, source)
    if average_attn_weights:
        weights = weights.mean(1)
    return out, weights if batched else weights.squeeze(0)


def _out_projection(out, length, batch, embed_dim, weight, bias, batched):
    """The heads' outputs ``(N * heads, L, head_dim)`` joined and projected: ``(L, N, E)``."""
    out = linear(out.transpose(0, 1).reshape(length, batch, embed_dim), weight, bias)
    return out if batched else out.squeeze(1)

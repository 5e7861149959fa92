"""MultiheadAttention with PyTorch's parameters, masks and returned weights."""

from __future__ import annotations

import math

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn._complex import refuse_complex
from flambeau.nn.functional._attention import causal_mask
from flambeau.nn.modules.linear import Linear
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of :class:`MultiheadAttention` (a Linear, named as in PyTorch).

    Examples
    --------
    >>> from flambeau import nn
    >>> nn.MultiheadAttention(8, 2).out_proj
    NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)
    """


def _float_mask(mask, dtype, what):
    """A mask as additive floats: booleans (True = masked out) become -inf."""
    if mask is None:
        return None
    if mask.dtype == flambeau.bool:
        zeros = flambeau.zeros(mask.shape, dtype=dtype, device=mask.device)
        return zeros.masked_fill(mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise TypeError(f"MultiheadAttention: {what} must be bool or floating point, got "
                        f"{mask.dtype}")
    return mask.to(dtype)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` subspaces: ``softmax(Q K^T / sqrt(d)) V`` then ``out_proj``.

    Parameters
    ----------
    embed_dim, num_heads : int
        Model width and number of heads (``embed_dim`` divisible by ``num_heads``).
    dropout : float
        Dropout on the attention weights (training only).
    bias : bool
        Biases of the input and output projections.
    add_bias_kv, add_zero_attn : bool
        Append a learned bias / a zero vector to the key and value sequences.
    kdim, vdim : int, optional
        Feature sizes of key and value (separate ``q/k/v_proj_weight`` when they differ).
    batch_first : bool
        Inputs are ``(N, L, E)`` instead of ``(L, N, E)``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = flambeau.randn(2, 5, 16)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    (flambeau.Size([2, 5, 16]), flambeau.Size([2, 5, 5]))
    >>> sorted(mha.state_dict())
    ['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, "
                             f"got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        kw = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(flambeau.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(flambeau.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(flambeau.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(flambeau.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(flambeau.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(flambeau.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(flambeau.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one product for q, k and v
                return F.linear(query, w, b).chunk(3, -1)
            wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def _check(self, query, key, value):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be 2D (unbatched) or 3D "
                f"(batched), got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
                f"{tuple(value.shape)}"
            )
        sizes = ((query, self.embed_dim, "query", "embed_dim"), (key, self.kdim, "key", "kdim"),
                 (value, self.vdim, "value", "vdim"))
        for t, n, what, arg in sizes:
            if t.shape[-1] != n:
                raise RuntimeError(f"MultiheadAttention: expected {what} with {n} features "
                                   f"({arg}), got shape {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise RuntimeError(f"MultiheadAttention: key shape {tuple(key.shape)} does not "
                               f"match value shape {tuple(value.shape)}")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``: ``(output, weights or None)``.

        ``key_padding_mask`` ``(N, S)`` and ``attn_mask`` ``(L, S)`` or ``(N*heads, L, S)``
        are boolean (True = not allowed) or additive float masks.
        """
        self._check(query, key, value)
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            same_kv = key is value
            same_qk = query is key
            query = query.transpose(0, 1)
            key = query if same_qk else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        length, batch, _ = query.shape
        heads, hd = self.num_heads, self.head_dim
        q, k, v = self._projections(query, key, value)
        if q._data.dtype.kind == "c":  # the attention weights are a softmax: real only
            refuse_complex("MultiheadAttention", q)
        dtype = q.dtype
        if is_causal and attn_mask is None:
            attn_mask = causal_mask(length, k.shape[0], q.device).logical_not()
        attn_mask = _float_mask(attn_mask, dtype, "attn_mask")
        key_padding_mask = _float_mask(key_padding_mask, dtype, "key_padding_mask")
        if self.bias_k is not None:
            k = flambeau.cat([k, self.bias_k.expand(1, batch, self.embed_dim)])
            v = flambeau.cat([v, self.bias_v.expand(1, batch, self.embed_dim)])
            attn_mask = F.pad(attn_mask, (0, 1)) if attn_mask is not None else None
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
        # (L, N, E) -> (N, heads, L, head_dim)
        q = q.reshape(length, batch, heads, hd).permute(1, 2, 0, 3)
        k = k.reshape(k.shape[0], batch, heads, hd).permute(1, 2, 0, 3)
        v = v.reshape(v.shape[0], batch, heads, hd).permute(1, 2, 0, 3)
        if self.add_zero_attn:
            zeros = flambeau.zeros(batch, heads, 1, hd, dtype=dtype, device=q.device)
            k, v = flambeau.cat([k, zeros], 2), flambeau.cat([v, zeros], 2)
            attn_mask = F.pad(attn_mask, (0, 1)) if attn_mask is not None else None
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
        source = k.shape[2]
        scores = flambeau.matmul(q * (1.0 / math.sqrt(hd)), k.transpose(-2, -1))
        if attn_mask is not None:
            if attn_mask.ndim == 3:
                if tuple(attn_mask.shape) != (batch * heads, length, source):
                    raise RuntimeError(f"MultiheadAttention: the shape of the 3D attn_mask is "
                                       f"{tuple(attn_mask.shape)}, but should be "
                                       f"{(batch * heads, length, source)}")
                attn_mask = attn_mask.reshape(batch, heads, length, source)
            elif tuple(attn_mask.shape) != (length, source):
                raise RuntimeError(f"MultiheadAttention: the shape of the 2D attn_mask is "
                                   f"{tuple(attn_mask.shape)}, but should be {(length, source)}")
            scores = scores + attn_mask
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (batch, source):
                raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of shape "
                                   f"{(batch, source)}, got {tuple(key_padding_mask.shape)}")
            scores = scores + key_padding_mask.reshape(batch, 1, 1, source)
        weights = scores.softmax(-1)
        attn = weights
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(weights, self.dropout, True)
        out = flambeau.matmul(attn, v)  # (N, heads, L, hd)
        out = out.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        if unbatched:
            weights = weights.squeeze(0)
        return out, weights

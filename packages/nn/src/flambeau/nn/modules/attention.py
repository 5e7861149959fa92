"""MultiheadAttention with PyTorch's parameters, masks and returned weights."""

from __future__ import annotations

import flambeau
import flambeau.nn.functional as F
from flambeau.nn import init
from flambeau.nn._complex import refuse_complex
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
        are boolean (True = not allowed) or additive float masks. The computation is
        :func:`~flambeau.nn.functional.multi_head_attention_forward`'s: ``is_causal=True`` is
        a hint that ``attn_mask`` is the causal mask, and needs it, as in PyTorch.
        """
        self._check(query, key, value)
        # the module's own name in the refusal, as PyTorch's message names the layer
        refuse_complex("MultiheadAttention", query, key, value, self.out_proj.weight)
        batched = query.ndim == 3
        if batched and self.batch_first:  # to (L, N, E), keeping which inputs are the same
            same_qk, same_kv = query is key, key is value
            query = query.transpose(0, 1)
            key = query if same_qk else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        separate = not self._qkv_same_embed_dim
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        return (out.transpose(0, 1) if batched and self.batch_first else out), weights

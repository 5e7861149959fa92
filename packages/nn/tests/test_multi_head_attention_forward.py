"""F.multi_head_attention_forward: parity with torch over its arguments, gradcheck, errors."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau.autograd import gradcheck
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

E, HEADS, L, S, BATCH = 8, 2, 4, 5, 3
HD = E // HEADS


def r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


class G:
    """A float64 array given as a tensor that requires grad (compared after backward)."""

    def __init__(self, array):
        self.array = np.asarray(array, np.float64)


def _tensor(lib, v):
    if isinstance(v, G):
        return lib.tensor(v.array, requires_grad=True)
    if isinstance(v, np.ndarray):
        return lib.tensor(v)
    return v


def _weights(kdim=E, vdim=E, bias=True):
    return {"in_proj_weight": G(r(3 * E, E, seed=1)),
            "in_proj_bias": G(r(3 * E, seed=2)) if bias else None,
            "out_proj_weight": G(r(E, E, seed=3)), "out_proj_bias": G(r(E, seed=4)),
            "q_proj_weight": G(r(E, E, seed=5)), "k_proj_weight": G(r(E, kdim, seed=6)),
            "v_proj_weight": G(r(E, vdim, seed=7))}


def _call(lib, q, k, v, kw, same):
    """Run ``lib``'s function; ``same`` makes key the query ("qkv") or value the key ("kv")."""
    args = {name: _tensor(lib, value) for name, value in kw.items()}
    query = _tensor(lib, q)
    key = query if same == "qkv" else _tensor(lib, k)
    value = key if same in ("qkv", "kv") else _tensor(lib, v)
    fn = lib.nn.functional.multi_head_attention_forward
    positional = [args.pop(n) for n in ("in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                        "add_zero_attn", "dropout_p", "out_proj_weight",
                                        "out_proj_bias")]
    out, weights = fn(query, key, value, E, HEADS, *positional, **args)
    leaves = [t for t in (query, key, value, *positional, *args.values())
              if isinstance(t, lib.Tensor) and t.requires_grad]
    cot = r(*out.shape, seed=9)
    loss = (out * lib.tensor(cot)).sum()
    if weights is not None:
        loss = loss + (weights * lib.tensor(r(*weights.shape, seed=10))).sum()
    loss.backward()
    return out, weights, [t.grad for t in leaves]


def _close(a, b):
    if b is None:
        assert a is None
        return
    a, b = np.asarray(a.detach().cpu().tolist()), b.detach().cpu().numpy()
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


BASE = {"bias_k": None, "bias_v": None, "add_zero_attn": False, "dropout_p": 0.0}
KPM = np.array([[False] * 4 + [True], [False] * 5, [True, False, False, True, False]])
ALLOWED = np.random.default_rng(11).random((L, S)) > 0.3
np.fill_diagonal(ALLOWED, True)
CAUSAL = np.triu(np.ones((L, L), bool), 1)


def _case(kdim=E, vdim=E, bias=True, **kw):
    weights = _weights(kdim, vdim, bias)
    separate = kw.get("use_separate_proj_weight", False)
    for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
        if not separate:
            weights.pop(name)
    return {**BASE, **weights, **kw}


CASES = {
    "self-attention": ("qkv", (L, BATCH), _case()),
    "self-attention-per-head": ("qkv", (L, BATCH), _case(average_attn_weights=False)),
    "encoder-decoder": ("kv", (L, BATCH), _case(bias=False)),
    "encoder-decoder-bias": ("kv", (L, BATCH), _case(key_padding_mask=KPM)),
    "cross": (None, (L, BATCH), _case(key_padding_mask=KPM, attn_mask=~ALLOWED)),
    "no-weights": (None, (L, BATCH), _case(need_weights=False, attn_mask=r(L, S, seed=12))),
    "separate": (None, (L, BATCH), _case(kdim=3, vdim=6, use_separate_proj_weight=True,
                                         key_padding_mask=r(BATCH, S, seed=13))),
    "bias-kv-zero-attn": (None, (L, BATCH), _case(
        bias_k=G(r(1, 1, E, seed=14)), bias_v=G(r(1, 1, E, seed=15)), add_zero_attn=True,
        key_padding_mask=KPM, attn_mask=r(BATCH * HEADS, L, S, seed=16))),
    "static-kv": (None, (L, BATCH), _case(static_k=G(r(BATCH * HEADS, 6, HD, seed=17)),
                                          static_v=G(r(BATCH * HEADS, 6, HD, seed=18)),
                                          add_zero_attn=True)),
    "causal-hint-trusted": ("qkv", (L, BATCH), _case(
        attn_mask=np.zeros((L, L), bool), is_causal=True, need_weights=False)),
    "causal-hint-with-weights": ("qkv", (L, BATCH), _case(attn_mask=CAUSAL, is_causal=True)),
    "causal-hint-with-padding": ("qkv", (L, BATCH), _case(
        attn_mask=CAUSAL, is_causal=True, need_weights=False,
        key_padding_mask=KPM[:, :L])),
    "eval-dropout": ("qkv", (L, BATCH), _case(dropout_p=0.5, training=False)),
    "dropout-all": ("qkv", (L, BATCH), _case(dropout_p=1.0)),
    "unbatched": (None, (L,), _case(key_padding_mask=KPM[0],
                                    attn_mask=r(HEADS, L, S, seed=19))),
    "unbatched-separate": (None, (L,), _case(kdim=3, vdim=6, use_separate_proj_weight=True,
                                             average_attn_weights=False)),
}


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    same, lead, kw = CASES[name]
    kdim = kw["k_proj_weight"].array.shape[1] if "k_proj_weight" in kw else E
    vdim = kw["v_proj_weight"].array.shape[1] if "v_proj_weight" in kw else E
    source_lead = (L,) + lead[1:] if same == "qkv" else (S,) + lead[1:]
    q, k, v = G(r(*lead, E, seed=20)), G(r(*source_lead, kdim, seed=21)), G(
        r(*source_lead, vdim, seed=22))
    fo, fw, fg = _call(flambeau, q, k, v, kw, same)
    to, tw, tg = _call(torch, q, k, v, kw, same)
    _close(fo, to)
    _close(fw, tw)
    assert len(fg) == len(tg)
    for a, b in zip(fg, tg):
        _close(a, b)


def test_dropout_all_returns_the_dropped_weights():
    same, lead, kw = CASES["dropout-all"]
    x = G(r(*lead, E, seed=20))
    out, weights, _ = _call(flambeau, x, x, x, kw, same)
    assert not weights.detach().cpu().numpy().any()  # weights after dropout, as torch's
    np.testing.assert_allclose(out.detach().cpu().numpy(),
                               np.broadcast_to(kw["out_proj_bias"].array, out.shape))


def test_gradcheck():
    _, _, kw = CASES["bias-kv-zero-attn"]
    args = {n: _tensor(flambeau, v) for n, v in kw.items()}
    key_padding_mask, attn_mask = args.pop("key_padding_mask"), args.pop("attn_mask")
    q = flambeau.tensor(r(L, BATCH, E, seed=20), requires_grad=True)
    k = flambeau.tensor(r(S, BATCH, E, seed=21), requires_grad=True)
    v = flambeau.tensor(r(S, BATCH, E, seed=22), requires_grad=True)
    w_in, b_out = args["in_proj_weight"], args["out_proj_bias"]

    def fn(q, k, v, w_in, b_out):
        out, weights = F.multi_head_attention_forward(
            q, k, v, E, HEADS, w_in, args["in_proj_bias"], args["bias_k"], args["bias_v"],
            True, 0.0, args["out_proj_weight"], b_out, key_padding_mask=key_padding_mask,
            attn_mask=attn_mask, average_attn_weights=False)
        return out, weights

    assert gradcheck(fn, (q, k, v, w_in, b_out))


@needs_torch
@pytest.mark.parity
def test_mismatched_mask_types_warn_as_torch():
    _, _, kw = CASES["cross"]
    kw = {**kw, "attn_mask": r(L, S, seed=23)}
    q, k = G(r(L, BATCH, E, seed=20)), G(r(S, BATCH, E, seed=21))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                         "attn_mask is deprecated"):
        fo, fw, _ = _call(flambeau, q, k, k, kw, None)
    with pytest.warns(UserWarning):
        to, tw, _ = _call(torch, q, k, k, kw, None)
    _close(fo, to)
    _close(fw, tw)


def _errors():
    x = flambeau.ones(L, BATCH, E)
    w_in, w_out = flambeau.ones(3 * E, E), flambeau.ones(E, E)

    def mha(q=x, k=x, v=x, heads=HEADS, e=E, w=w_in, bias_k=None, bias_v=None, **kw):
        return F.multi_head_attention_forward(q, k, v, e, heads, w, None, bias_k, bias_v, False,
                                              0.0, w_out, None, **kw)

    bias = flambeau.ones(1, 1, E)
    static = flambeau.ones(BATCH * HEADS, 2, HD)
    return [
        (lambda: mha(q=x[0, 0]), AssertionError,
         "query should be unbatched 2D or batched 3D tensor but received 1-D query tensor"),
        (lambda: mha(k=x[0]), AssertionError,
         r"For batched \(3-D\) `query`, expected `key` and `value` to be 3-D but found 2-D "
         "and 3-D tensors respectively"),
        (lambda: mha(key_padding_mask=flambeau.ones(L, dtype=flambeau.bool)), AssertionError,
         r"expected `key_padding_mask` to be `None` or 2-D but found 1-D tensor instead"),
        (lambda: mha(attn_mask=flambeau.ones(L)), AssertionError,
         r"expected `attn_mask` to be `None`, 2-D or 3-D but found 1-D tensor instead"),
        (lambda: mha(x[:, 0], x[:, 0], x[:, 0], attn_mask=flambeau.ones(3, L, L)),
         AssertionError, r"Expected `attn_mask` shape to be \(2, 4, 4\) but got \(3, 4, 4\)"),
        (lambda: mha(attn_mask=flambeau.ones(L, L, dtype=flambeau.int64)), AssertionError,
         "only bool and floating types of attn_mask are supported"),
        (lambda: mha(is_causal=True), RuntimeError,
         "Need attn_mask if specifying the is_causal hint"),
        (lambda: mha(e=6), AssertionError,
         "was expecting embedding dimension of 6, but got 8"),
        (lambda: mha(heads=3), AssertionError, "embed_dim 8 not divisible by num_heads 3"),
        (lambda: mha(v=x[:3]), AssertionError,
         r"key shape \(4, 3, 8\) does not match value shape \(3, 3, 8\)"),
        (lambda: mha(w=None), AssertionError,
         "use_separate_proj_weight is False but in_proj_weight is None"),
        (lambda: mha(use_separate_proj_weight=True, q_proj_weight=w_out, k_proj_weight=w_out),
         AssertionError, "use_separate_proj_weight is True but v_proj_weight is None"),
        (lambda: mha(v=x[:, :, :3], use_separate_proj_weight=True, q_proj_weight=w_out,
                     k_proj_weight=w_out, v_proj_weight=w_out), AssertionError,
         r"expecting value weights shape of \(8, 3\), but got \(8, 8\)"),
        (lambda: mha(v=x[:3], use_separate_proj_weight=True), AssertionError,
         r"key's sequence and batch dims \(4, 3\) do not match value's \(3, 3\)"),
        (lambda: mha(attn_mask=flambeau.ones(L, 3)), RuntimeError,
         r"the shape of the 2D attn_mask is \(4, 3\), but should be \(4, 4\)."),
        (lambda: mha(attn_mask=flambeau.ones(BATCH, L, L)), RuntimeError,
         r"the shape of the 3D attn_mask is \(3, 4, 4\), but should be \(6, 4, 4\)."),
        (lambda: mha(bias_k=bias), AssertionError, "bias_k is set but bias_v is None"),
        (lambda: mha(bias_v=bias), AssertionError, "bias_v is set but bias_k is None"),
        (lambda: mha(bias_k=bias, bias_v=bias, static_v=static), AssertionError,
         "bias cannot be added to static value."),
        (lambda: mha(static_k=static[:2]), AssertionError,
         r"expecting static_k.size\(0\) of 6, but got 2"),
        (lambda: mha(static_v=static[:, :, :3]), AssertionError,
         r"expecting static_v.size\(2\) of 4, but got 3"),
        (lambda: mha(key_padding_mask=flambeau.ones(2, L)), AssertionError,
         r"Expected key_padded_mask.shape\[0\] to be 3, but got 2"),
        (lambda: mha(key_padding_mask=flambeau.ones(BATCH, 2)), AssertionError,
         r"Expected key_padded_mask.shape\[1\] to be 4, but got 2"),
        (lambda: mha(x.to(flambeau.complex64)), NotImplementedError,
         "multi_head_attention_forward: not implemented for complex tensors"),
    ]


@pytest.mark.parametrize("k", range(len(_errors())))
def test_errors(k):
    call, error, message = _errors()[k]
    with pytest.raises(error, match=message):
        call()


@needs_torch
@pytest.mark.parity
def test_sdpa_rows_with_every_key_masked_are_zero_as_torch():
    allowed = np.array([[True, False, True], [False, False, False]])
    q, k, v = r(2, 2, 4, seed=1), r(2, 3, 4, seed=2), r(2, 3, 4, seed=3)
    results = []
    for lib in (flambeau, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        for mask in (lib.tensor(allowed), lib.zeros(2, 3, dtype=lib.float64).masked_fill(
                lib.tensor(~allowed), float("-inf"))):
            out = lib.nn.functional.scaled_dot_product_attention(*ts, attn_mask=mask)
            (out * lib.tensor(r(2, 2, 4, seed=4))).sum().backward()
            results.append([out] + [t.grad for t in ts])
            for t in ts:
                t.grad = None
    for f, t in zip(results[:2], results[2:]):
        assert not np.isnan(np.asarray(f[0].detach().cpu().tolist())).any()
        for a, b in zip(f, t):
            _close(a, b)


def test_the_module_is_the_function_with_its_parameters():
    from flambeau import nn

    module = nn.MultiheadAttention(E, HEADS, kdim=3, vdim=6, add_bias_kv=True,
                                   batch_first=True).double()
    q = flambeau.tensor(r(BATCH, L, E, seed=1))
    k, v = flambeau.tensor(r(BATCH, S, 3, seed=2)), flambeau.tensor(r(BATCH, S, 6, seed=3))
    kpm = flambeau.tensor(KPM)
    out, weights = module(q, k, v, key_padding_mask=kpm, average_attn_weights=False)
    expected, expected_weights = F.multi_head_attention_forward(
        q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), E, HEADS, None,
        module.in_proj_bias, module.bias_k, module.bias_v, False, 0.0, module.out_proj.weight,
        module.out_proj.bias, key_padding_mask=kpm, use_separate_proj_weight=True,
        q_proj_weight=module.q_proj_weight, k_proj_weight=module.k_proj_weight,
        v_proj_weight=module.v_proj_weight, average_attn_weights=False)
    assert flambeau.equal(out, expected.transpose(0, 1))
    assert flambeau.equal(weights, expected_weights)
    # is_causal is a hint about attn_mask: alone, the module refuses it, as torch's
    x = flambeau.tensor(r(BATCH, L, E, seed=4))
    module = nn.MultiheadAttention(E, HEADS, batch_first=True).double()
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        module(x, x, x, is_causal=True)


def test_autocast_runs_it_in_low_precision():
    x = flambeau.randn(L, BATCH, E)
    w_in, w_out = flambeau.randn(3 * E, E, requires_grad=True), flambeau.randn(E, E)
    with flambeau.autocast(flambeau.get_default_device().type, dtype=flambeau.bfloat16):
        out, weights = F.multi_head_attention_forward(
            x, x, x, E, HEADS, w_in, None, None, None, False, 0.0, w_out, None,
            attn_mask=flambeau.zeros(L, L))
    assert out.dtype == flambeau.bfloat16
    assert weights.dtype == flambeau.float32  # a softmax: one of autocast's float32 ops
    out.float().sum().backward()
    assert w_in.grad.dtype == flambeau.float32

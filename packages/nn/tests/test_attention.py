"""scaled_dot_product_attention and MultiheadAttention: parity, gradcheck, errors."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import check_op, close, load_from_torch, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck

RNG = np.random.default_rng(0)
ALLOWED = RNG.random((4, 4)) > 0.3
np.fill_diagonal(ALLOWED, True)


@pytest.mark.parity
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"attn_mask": ALLOWED},
                                {"attn_mask": RNG.standard_normal((4, 4))}, {"scale": 0.3}])
def test_sdpa_parity(kw):
    torch = pytest.importorskip("torch")
    fkw = {k: flambeau.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    q, k, v = (RNG.standard_normal((2, 3, 4, 5)) for _ in range(3))
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **fkw),
             lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, **tkw),
             q, k, v)


def test_sdpa_gradcheck_and_errors():
    q, k, v = randn(2, 3, 4, seed=1), randn(2, 5, 4, seed=2), randn(2, 5, 3, seed=3)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (q, k, v))
    with pytest.raises(RuntimeError, match="incompatible shapes"):
        F.scaled_dot_product_attention(q, randn(2, 5, 3), v)
    with pytest.raises(RuntimeError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=flambeau.ones(3, 5).bool(),
                                       is_causal=True)


def _mha_parity(kw, length=4, source=6, batch=2, fwd=None, self_attn=False):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm, fm = torch.nn.MultiheadAttention(**kw).double(), nn.MultiheadAttention(**kw).double()
    load_from_torch(fm, tm)
    e = kw["embed_dim"]
    bf = kw.get("batch_first", False)

    def shape(n, d):
        return (batch, n, d) if bf else (n, batch, d)

    qa = RNG.standard_normal(shape(length, e))
    tq, fq = torch.tensor(qa, requires_grad=True), flambeau.tensor(qa, requires_grad=True)
    if self_attn:
        tk = tv = tq
        fk = fv = fq
    else:
        ka = RNG.standard_normal(shape(source, kw.get("kdim") or e))
        va = RNG.standard_normal(shape(source, kw.get("vdim") or e))
        tk, tv, fk, fv = (torch.tensor(ka), torch.tensor(va), flambeau.tensor(ka),
                          flambeau.tensor(va))
    fwd = fwd or {}
    tf = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fwd.items()}
    ff = {k: flambeau.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fwd.items()}
    to, tw = tm(tq, tk, tv, **tf)
    fo, fw = fm(fq, fk, fv, **ff)
    close(fo, to)
    assert (fw is None) == (tw is None)
    if tw is not None:
        close(fw, tw)
    to.sum().backward()
    fo.sum().backward()
    close(fq.grad, tq.grad)
    tparams = dict(tm.named_parameters())
    for n, p in fm.named_parameters():
        close(p.grad, tparams[n].grad)


KPM = np.array([[False] * 5 + [True], [False] * 4 + [True] * 2])


@pytest.mark.parity
@pytest.mark.parametrize("kw, fwd, self_attn", [
    (dict(embed_dim=8, num_heads=2), None, False),
    (dict(embed_dim=8, num_heads=2, batch_first=True), None, True),
    (dict(embed_dim=8, num_heads=2, kdim=3, vdim=5), None, False),
    (dict(embed_dim=8, num_heads=4, add_bias_kv=True, add_zero_attn=True),
     {"key_padding_mask": KPM}, False),
    (dict(embed_dim=8, num_heads=2, bias=False),
     {"key_padding_mask": KPM, "attn_mask": RNG.random((4, 6)) > 0.8,
      "average_attn_weights": False}, False),
    (dict(embed_dim=8, num_heads=2), {"attn_mask": RNG.standard_normal((4, 4, 6)),
                                      "need_weights": False}, False),
    (dict(embed_dim=8, num_heads=2, batch_first=True),
     {"attn_mask": np.triu(np.ones((4, 4), bool), 1), "is_causal": True}, True),
])
def test_mha_parity(kw, fwd, self_attn):
    source = 4 if self_attn else 6
    _mha_parity(kw, source=source, fwd=fwd, self_attn=self_attn)


@pytest.mark.parity
def test_mha_unbatched_parity():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm, fm = torch.nn.MultiheadAttention(6, 3).double(), nn.MultiheadAttention(6, 3).double()
    load_from_torch(fm, tm)
    q, k = RNG.standard_normal((4, 6)), RNG.standard_normal((5, 6))
    to, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k))
    fo, fw = fm(flambeau.tensor(q), flambeau.tensor(k), flambeau.tensor(k))
    close(fo, to)
    close(fw, tw)


def test_mha_state_dict_names():
    assert list(nn.MultiheadAttention(8, 2).state_dict()) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert list(nn.MultiheadAttention(8, 2, kdim=3, vdim=4, add_bias_kv=True).state_dict()) == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
        "out_proj.weight", "out_proj.bias"]


def test_mha_gradcheck():
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    q, k, v = randn(3, 2, 4, seed=1), randn(5, 2, 3, seed=2), randn(5, 2, 2, seed=3)
    kpm = flambeau.tensor([[False] * 4 + [True], [False] * 5])
    assert gradcheck(lambda q, k, v: mha(q, k, v, key_padding_mask=kpm)[0], (q, k, v))


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(8, 2)
    x = flambeau.randn(3, 2, 8)
    with pytest.raises(RuntimeError, match="expected query with 8 features"):
        mha(flambeau.randn(3, 2, 4), x, x)
    with pytest.raises(RuntimeError, match="the shape of the 2D attn_mask"):
        mha(x, x, x, attn_mask=flambeau.zeros(3, 2))
    with pytest.raises(ValueError, match="must all be 2D"):
        mha(x, x[0], x[0])


# ------------------------------------------------------------------ kernel choice


def test_sdpa_kernel_switches_like_torch_and_restores_them():
    from flambeau.backends import cuda as switches
    from flambeau.nn.attention import SDPBackend, sdpa_kernel

    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend as TorchBackend
    from torch.nn.attention import sdpa_kernel as torch_kernel

    assert {m.name: int(m) for m in SDPBackend} == {
        m: int(v) for m, v in TorchBackend.__members__.items()}
    names = ("math", "flash", "mem_efficient", "cudnn")
    for chosen in ([SDPBackend.MATH], [SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION],
                   SDPBackend.EFFICIENT_ATTENTION, []):
        theirs = ([getattr(TorchBackend, b.name) for b in chosen] if isinstance(chosen, list)
                  else getattr(TorchBackend, chosen.name))
        with sdpa_kernel(chosen), torch_kernel(theirs):
            ours = [getattr(switches, f"{n}_sdp_enabled")() for n in names]
            assert ours == [getattr(torch.backends.cuda, f"{n}_sdp_enabled")() for n in names]
    assert all(getattr(switches, f"{n}_sdp_enabled")() for n in names)


def test_sdpa_gives_the_same_result_on_any_kernel_and_refuses_none():
    from flambeau.backends import cuda as switches
    from flambeau.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = (flambeau.randn(2, 3, 5, 4) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for backend in (SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION):
        with sdpa_kernel(backend):
            assert flambeau.equal(F.scaled_dot_product_attention(q, k, v, is_causal=True),
                                  expected)
    with sdpa_kernel([]), pytest.raises(RuntimeError, match="No viable backend"):
        F.scaled_dot_product_attention(q, k, v)
    try:
        for kind in ("math", "flash", "mem_efficient", "cudnn"):
            getattr(switches, f"enable_{kind}_sdp")(False)
        with pytest.raises(RuntimeError, match="No viable backend"):
            F.scaled_dot_product_attention(q, k, v)
        switches.enable_cudnn_sdp(True)  # one is enough
        assert flambeau.equal(F.scaled_dot_product_attention(q, k, v, is_causal=True), expected)
    finally:
        for kind in ("math", "flash", "mem_efficient", "cudnn"):
            getattr(switches, f"enable_{kind}_sdp")(True)
    with pytest.raises(AssertionError, match="must be an instance of SDPBackend"):
        with sdpa_kernel("math"):
            pass

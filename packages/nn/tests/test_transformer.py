"""Transformer layers, stacks and the full model: parity with torch, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import close, load_from_torch, randn

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck

RNG = np.random.default_rng(0)


@pytest.mark.parity
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_parity(norm_first, activation):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True)
    te = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, **kw), 2,
                                     norm=torch.nn.LayerNorm(8),
                                     enable_nested_tensor=False).double()
    fe = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, **kw), 2,
                               norm=nn.LayerNorm(8)).double()
    load_from_torch(fe, te)
    x = RNG.standard_normal((2, 5, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    kpm = np.array([[False] * 4 + [True], [False] * 5])
    tx, fx = torch.tensor(x, requires_grad=True), flambeau.tensor(x, requires_grad=True)
    to = te(tx, mask=mask, src_key_padding_mask=torch.tensor(kpm).double().masked_fill(
        torch.tensor(kpm), float("-inf")))
    fo = fe(fx, mask=flambeau.tensor(mask.cpu().numpy()), src_key_padding_mask=flambeau.tensor(kpm))
    close(fo, to)
    to.sum().backward()
    fo.sum().backward()
    close(fx.grad, tx.grad)
    tparams = dict(te.named_parameters())
    for n, p in fe.named_parameters():
        close(p.grad, tparams[n].grad)


@pytest.mark.parity
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_transformer_parity(norm_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(dropout=0.0, norm_first=norm_first)
    tt = torch.nn.Transformer(8, 2, 2, 2, 16, **kw).double()
    ft = nn.Transformer(8, 2, 2, 2, 16, **kw).double()
    load_from_torch(ft, tt)
    src, tgt = RNG.standard_normal((6, 2, 8)), RNG.standard_normal((4, 2, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4).double()
    ts, fs = torch.tensor(src, requires_grad=True), flambeau.tensor(src, requires_grad=True)
    to = tt(ts, torch.tensor(tgt), tgt_mask=mask)
    fo = ft(fs, flambeau.tensor(tgt), tgt_mask=flambeau.tensor(mask.cpu().numpy()))
    close(fo, to)
    to.sum().backward()
    fo.sum().backward()
    close(fs.grad, ts.grad)
    tparams = dict(tt.named_parameters())
    for n, p in ft.named_parameters():
        close(p.grad, tparams[n].grad)


@pytest.mark.parity
def test_generate_square_subsequent_mask_parity():
    torch = pytest.importorskip("torch")
    close(nn.Transformer.generate_square_subsequent_mask(4),
          torch.nn.Transformer.generate_square_subsequent_mask(4))


def test_decoder_layer_gradcheck():
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    tgt, mem = randn(3, 1, 4, seed=1), randn(4, 1, 4, seed=2)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=flambeau.float64)
    assert gradcheck(lambda t, m: layer(t, m, tgt_mask=mask, tgt_is_causal=True), (tgt, mem))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        layer(tgt, mem, tgt_is_causal=True)  # the hint without the mask, as torch


def test_encoder_layer_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu").double()
    assert gradcheck(lambda x: layer(x), (randn(3, 2, 4, seed=3),))


def test_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = flambeau.randn(5, 2, 8)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().cpu().numpy(), layer(x).detach().cpu().numpy())
    layer.train()
    assert not np.array_equal(layer(x).detach().cpu().numpy(), layer(x).detach().cpu().numpy())


def test_transformer_errors():
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        model(flambeau.randn(5, 2, 8), flambeau.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(flambeau.randn(5, 2, 6), flambeau.randn(4, 2, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")

"""Dropout variants and Embedding / EmbeddingBag."""

import numpy as np
import pytest
from _helpers_a import assert_close, compare_module

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck


def test_dropout_statistics_reproducibility_and_grad():
    x = flambeau.ones(20000, requires_grad=True)
    flambeau.manual_seed(3)
    y = F.dropout(x, 0.3)
    vals = y.detach().cpu().numpy()
    assert np.isclose(vals[vals != 0], 1 / 0.7).all()
    assert abs((vals == 0).mean() - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), vals)  # gradient flows through the same mask
    flambeau.manual_seed(3)
    assert (F.dropout(x, 0.3) == y).all()
    assert (nn.Dropout(0.3).eval()(x) == x).all()
    assert F.dropout(x, 1.0).abs().sum().item() == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)


def test_channel_dropout_zeroes_whole_channels():
    x = flambeau.ones(8, 16, 3, 3)
    y = nn.Dropout2d(0.5)(x).cpu().numpy()
    per_channel = y.reshape(8, 16, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    assert set(np.unique(y)) == {0.0, 2.0}
    y1 = F.dropout1d(flambeau.ones(4, 6, 5), 0.5).cpu().numpy()
    assert (y1.min(-1) == y1.max(-1)).all()
    assert (nn.Dropout2d().eval()(x) == x).all()
    with pytest.raises(RuntimeError, match="dropout1d: expected 2D or 3D input"):
        F.dropout1d(flambeau.ones(2, 3, 4, 5))


def _shared_axes(y):
    """The axes along which a dropout output is constant (its mask is shared along them)."""
    return tuple(ax for ax in range(y.ndim) if y.shape[ax] > 1 and (np.ptp(y, axis=ax) == 0).all())


@pytest.mark.parity
@pytest.mark.parametrize("op, shape", [
    ("dropout2d", (40, 50)),  # mnist_rnn: Dropout2d after BatchNorm1d, an (N, C) input
    ("dropout2d", (5, 6, 3, 3, 3)),
    ("dropout3d", (40, 50)),
    ("dropout3d", (60,)),
    ("dropout3d", (5, 6, 3, 3, 3, 2)),
])
def test_channel_dropout_of_other_ranks_warns_and_shares_the_mask_as_torch(op, shape):
    """torch's deprecated fallback: dropout2d draws per (N, C) pair, dropout3d takes the input
    as unbatched (per index of dim 0); both warn instead of raising."""
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match=f"{op}: a {len(shape)}-D input is deprecated"):
        y = getattr(F, op)(flambeau.ones(*shape), 0.5).cpu().numpy()
    with pytest.warns(UserWarning, match="deprecated"):
        t = getattr(torch.nn.functional, op)(torch.ones(*shape), 0.5).numpy()
    assert _shared_axes(y) == _shared_axes(t)
    assert set(np.unique(y)) == set(np.unique(t)) == {0.0, 2.0}
    with pytest.warns(UserWarning):
        x = flambeau.ones(*shape)
        assert (getattr(F, op)(x, 0.5, training=False) == x).all()


@pytest.mark.parity
def test_channel_dropout_of_too_few_dims_raises_in_training_as_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    with pytest.warns(UserWarning):
        with pytest.raises(RuntimeError, match=r"dropout2d: feature dropout needs at least 2 "
                                               r"dimensions \(N, C, \.\.\.\) but got an input "
                                               r"of shape \(5,\)"):
            F.dropout2d(flambeau.ones(5), 0.5)
        with pytest.raises(RuntimeError, match=r"dropout3d: .* after adding a batch dimension "
                                               r"but got an input of shape \(\)"):
            F.dropout3d(flambeau.tensor(1.0), 0.5)
        with pytest.raises(RuntimeError):
            tf.dropout2d(torch.ones(5), 0.5)
        # torch takes these: no draw is needed (p of 0 or 1, or not training)
        for p, training in ((0.0, True), (1.0, True), (0.5, False)):
            np.testing.assert_array_equal(F.dropout2d(flambeau.ones(5), p, training).cpu().numpy(),
                                          tf.dropout2d(torch.ones(5), p, training).numpy())


def test_alpha_dropout_keeps_selu_statistics():
    flambeau.manual_seed(0)
    x = flambeau.randn(200000)
    y = nn.AlphaDropout(0.2)(x)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    assert (nn.AlphaDropout(0.2).eval()(x) == x).all()
    z = F.feature_alpha_dropout(flambeau.randn(4, 6, 5), 0.5, training=True).cpu().numpy()
    assert z.shape == (4, 6, 5)


@pytest.mark.parametrize("op, shape", [("dropout", (3, 4)), ("dropout2d", (2, 3, 2, 2))])
def test_backend_dropout_mask_kernel_replaces_the_generic_draw(monkeypatch, op, shape):
    """``kernels["dropout_mask"]`` (flambeau-cuda's, on its Philox stream) gives the scaled
    mask; the generic draw runs when it declines, and both give the same mask."""
    x = flambeau.ones(*shape, requires_grad=True)
    xp = x._device._xp
    seen = []

    def same_draws(rng, mask_shape, p, dtype):  # the kernel's contract, on the host stream
        seen.append((mask_shape, p, dtype))
        return ((rng.random(mask_shape, "float32") >= p) * (1 / (1 - p))).astype(dtype)

    monkeypatch.setitem(x._device.backend.kernels, "dropout_mask", same_draws)
    flambeau.manual_seed(3)
    y = getattr(F, op)(x, 0.25)
    y.sum().backward()
    mask_shape = shape if op == "dropout" else shape[:2] + (1, 1)
    assert seen == [(mask_shape, 0.25, xp.dtype("float32"))]
    monkeypatch.setitem(x._device.backend.kernels, "dropout_mask", lambda *a: None)
    flambeau.manual_seed(3)
    generic = getattr(F, op)(x, 0.25)
    assert_close(y, generic)
    assert_close(x.grad, generic.detach())  # d(sum(x * mask)) / dx is the mask
    assert sorted(set(y.flatten().tolist())) == [0.0, float(np.float32(4 / 3))]


def test_inplace_dropout():
    x = flambeau.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.cpu().numpy() == 0).any()


@pytest.mark.parity
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True}, {"max_norm": 1.0}])
def test_embedding_parity(kw):
    torch = pytest.importorskip("torch")
    fm, tm = nn.Embedding(6, 3, **kw), torch.nn.Embedding(6, 3, **kw)
    assert repr(fm) == repr(tm)
    idx = flambeau.tensor([[1, 2, 1], [5, 0, 1]])
    compare_module(fm, tm, idx)
    if "max_norm" in kw:
        assert_close(fm.weight, tm.weight, 1e-6, 1e-5, "renormalized table")


def test_embedding_padding_grad_init_and_gradcheck():
    flambeau.manual_seed(0)
    e = nn.Embedding(5, 2, padding_idx=0)
    assert (e.weight[0] == 0).all()
    e(flambeau.tensor([0, 0, 3])).sum().backward()
    assert e.weight.grad[0].tolist() == [0.0, 0.0] and e.weight.grad[3].tolist() == [1.0, 1.0]
    w = flambeau.randn(4, 3, dtype=flambeau.float64, requires_grad=True)
    idx = flambeau.tensor([[0, 3], [3, 1]])
    # padding_idx and scale_grad_by_freq change the gradient on purpose: checked above/parity
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    flambeau.manual_seed(5)
    a = nn.Embedding(5, 2).weight.clone()
    flambeau.manual_seed(5)
    assert (nn.Embedding(5, 2).weight == a).all()


def test_embedding_from_pretrained_and_errors():
    table = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    e = nn.Embedding.from_pretrained(table)
    assert not e.weight.requires_grad and e(flambeau.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(IndexError, match="index 7 is out of range for 2 embeddings"):
        e(flambeau.tensor([0, 7]))
    with pytest.raises(RuntimeError, match="integer dtype"):
        e(flambeau.tensor([0.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(flambeau.ones(3))


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_parity(mode):
    torch = pytest.importorskip("torch")
    fm = nn.EmbeddingBag(7, 3, mode=mode)
    tm = torch.nn.EmbeddingBag(7, 3, mode=mode)
    assert repr(fm) == repr(tm)
    idx = flambeau.tensor([1, 2, 4, 5, 4, 3, 2, 6])
    off = flambeau.tensor([0, 3, 5])
    compare_module(fm, tm, idx, off)
    compare_module(fm, tm, flambeau.tensor([[1, 2], [4, 4], [0, 6]]))

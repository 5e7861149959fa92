"""Embedding / EmbeddingBag with sparse=True: weight.grad is a sparse COO tensor as torch's."""

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck


def _table(rows=7, dim=3, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def _sparse_parts(g):
    """(indices, values, is_coalesced, dense) of a sparse gradient, as host arrays."""
    return (g._indices().cpu().numpy(), g._values().cpu().numpy(), g.is_coalesced(),
            g.to_dense().cpu().numpy())


def _torch_parts(g):
    return (g._indices().numpy(), g._values().numpy(), g.is_coalesced(), g.to_dense().numpy())


def _assert_same_grad(ours, theirs):
    assert ours.layout is flambeau.sparse_coo and ours.is_sparse
    mine, ref = _sparse_parts(ours), _torch_parts(theirs)
    np.testing.assert_array_equal(mine[0], ref[0])
    np.testing.assert_allclose(mine[1], ref[1], rtol=1e-6, atol=1e-6)
    assert mine[2] == ref[2]
    np.testing.assert_allclose(mine[3], ref[3], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 2)])
def test_embedding_sparse_grad_matches_torch(padding_idx, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 7, size=shape)
    idx.flat[0] = 6  # the -1 padding row is looked up
    seed = rng.standard_normal(shape + (3,)).astype(np.float32)
    w = flambeau.tensor(_table(), requires_grad=True)
    (F.embedding(flambeau.tensor(idx), w, padding_idx=padding_idx, sparse=True)
     * flambeau.tensor(seed)).sum().backward()
    tw = torch.tensor(_table(), requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx, sparse=True)
     * torch.tensor(seed)).sum().backward()
    _assert_same_grad(w.grad, tw.grad)
    assert w.grad._indices().dtype == flambeau.int64


def test_embedding_sparse_int32_indices_and_float64():
    torch = pytest.importorskip("torch")
    idx = np.array([[3, 0, 3], [1, 1, 4]], dtype=np.int32)
    w = flambeau.tensor(_table().astype(np.float64), requires_grad=True)
    F.embedding(flambeau.tensor(idx), w, sparse=True).pow(2).sum().backward()
    tw = torch.tensor(_table().astype(np.float64), requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), tw, sparse=True).pow(2).sum().backward()
    _assert_same_grad(w.grad, tw.grad)
    assert w.grad.dtype == flambeau.float64


def test_embedding_module_sparse_accumulates_over_backward_calls():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(7, 3, padding_idx=1, sparse=True, _weight=flambeau.tensor(_table()))
    temb = torch.nn.Embedding(7, 3, padding_idx=1, sparse=True,
                              _weight=torch.tensor(_table()))
    for batch in ([[0, 1, 2], [2, 4, 1]], [3, 0], [6, 6, 1]):
        emb(flambeau.tensor(batch)).sum().backward()
        temb(torch.tensor(batch)).sum().backward()
        g, tg = emb.weight.grad, temb.weight.grad
        assert g.is_sparse and g.is_coalesced() == tg.is_coalesced()
        # torch merges the two index lists of an accumulation, flambeau concatenates them:
        # the same gradient, with the entries in another order
        np.testing.assert_allclose(g.to_dense().cpu().numpy(), tg.to_dense().numpy())
        np.testing.assert_allclose(g.coalesce()._values().cpu().numpy(),
                                   tg.coalesce()._values().numpy())
    emb.zero_grad(set_to_none=False)
    g = emb.weight.grad
    assert g.is_sparse and g._nnz() == 0 and tuple(g.shape) == (7, 3)
    assert (g.to_dense().cpu().numpy() == 0).all()


def test_embedding_sparse_repr_and_from_pretrained():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding.from_pretrained(flambeau.tensor(_table()), freeze=False, sparse=True,
                                       padding_idx=0)
    temb = torch.nn.Embedding.from_pretrained(torch.tensor(_table()), freeze=False, sparse=True,
                                              padding_idx=0)
    assert repr(emb) == repr(temb) == "Embedding(7, 3, padding_idx=0, sparse=True)"
    emb(flambeau.tensor([0, 5, 5, 3])).sum().backward()
    temb(torch.tensor([0, 5, 5, 3])).sum().backward()
    _assert_same_grad(emb.weight.grad, temb.weight.grad)
    frozen = nn.Embedding.from_pretrained(flambeau.tensor(_table()), sparse=True)
    assert frozen(flambeau.tensor([1])).requires_grad is False


def test_embedding_sparse_max_norm_still_renormalizes():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(7, 3, max_norm=1.0, sparse=True, _weight=flambeau.tensor(_table()))
    temb = torch.nn.Embedding(7, 3, max_norm=1.0, sparse=True, _weight=torch.tensor(_table()))
    x = [[0, 0, 3], [5, 3, 2]]
    (emb(flambeau.tensor(x)) ** 2).sum().backward()
    (temb(torch.tensor(x)) ** 2).sum().backward()
    np.testing.assert_allclose(emb.weight.detach().cpu().numpy(), temb.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    _assert_same_grad(emb.weight.grad, temb.weight.grad)


def test_embedding_sparse_scale_grad_by_freq_is_refused_on_backward():
    torch = pytest.importorskip("torch")
    msg = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
    tw = torch.tensor(_table(), requires_grad=True)
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.functional.embedding(torch.tensor([1, 1]), tw, scale_grad_by_freq=True,
                                      sparse=True).sum().backward()
    w = flambeau.tensor(_table(), requires_grad=True)
    out = F.embedding(flambeau.tensor([1, 1]), w, scale_grad_by_freq=True, sparse=True)
    with pytest.raises(RuntimeError, match=msg):
        out.sum().backward()


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 5])
def test_embedding_bag_sparse_grad_matches_torch(mode, padding_idx):
    torch = pytest.importorskip("torch")
    inp, off = [0, 2, 1, 2, 5, 3], [0, 2, 2, 4]
    seed = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    w = flambeau.tensor(_table(6, 2), requires_grad=True)
    out = F.embedding_bag(flambeau.tensor(inp), w, flambeau.tensor(off), mode=mode,
                          sparse=True, padding_idx=padding_idx)
    (out * flambeau.tensor(seed)).sum().backward()
    tw = torch.tensor(_table(6, 2), requires_grad=True)
    tout = torch.nn.functional.embedding_bag(torch.tensor(inp), tw, torch.tensor(off),
                                             mode=mode, sparse=True, padding_idx=padding_idx)
    (tout * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(out.detach().cpu().numpy(), tout.detach().numpy(), rtol=1e-6)
    _assert_same_grad(w.grad, tw.grad)


def test_embedding_bag_module_sparse_2d_and_per_sample_weights():
    torch = pytest.importorskip("torch")
    bag = nn.EmbeddingBag(6, 2, mode="mean", sparse=True, _weight=flambeau.tensor(_table(6, 2)))
    tbag = torch.nn.EmbeddingBag(6, 2, mode="mean", sparse=True,
                                 _weight=torch.tensor(_table(6, 2)))
    x = [[0, 2, 1], [2, 5, 3]]
    bag(flambeau.tensor(x)).sum().backward()
    tbag(torch.tensor(x)).sum().backward()
    _assert_same_grad(bag.weight.grad, tbag.weight.grad)
    psw = np.arange(6.0, dtype=np.float32)
    w = flambeau.tensor(_table(6, 2), requires_grad=True)
    F.embedding_bag(flambeau.tensor([0, 2, 1, 2, 5, 3]), w, flambeau.tensor([0, 2]),
                    mode="sum", sparse=True, per_sample_weights=flambeau.tensor(psw)
                    ).sum().backward()
    tw = torch.tensor(_table(6, 2), requires_grad=True)
    torch.nn.functional.embedding_bag(torch.tensor([0, 2, 1, 2, 5, 3]), tw,
                                      torch.tensor([0, 2]), mode="sum", sparse=True,
                                      per_sample_weights=torch.tensor(psw)).sum().backward()
    _assert_same_grad(w.grad, tw.grad)


def test_embedding_bag_sparse_max_mode_is_refused():
    torch = pytest.importorskip("torch")
    msg = "max mode does not support sparse weights"
    with pytest.raises(ValueError, match=msg):
        torch.nn.functional.embedding_bag(torch.tensor([0, 1]), torch.ones(3, 2),
                                          torch.tensor([0]), mode="max", sparse=True)
    with pytest.raises(ValueError, match=msg):
        F.embedding_bag(flambeau.tensor([0, 1]), flambeau.ones(3, 2), flambeau.tensor([0]),
                        mode="max", sparse=True)
    with pytest.raises(ValueError, match=msg):
        nn.EmbeddingBag(3, 2, mode="max", sparse=True)(flambeau.tensor([[0, 1]]))


def test_sparse_embedding_gradcheck():
    idx = flambeau.tensor([1, 1, 2, 0])
    off = flambeau.tensor([0, 2])
    w = flambeau.tensor(_table(4, 3).astype(np.float64), requires_grad=True)
    ps = flambeau.tensor([0.5, -1.0, 2.0, 1.5], dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(lambda w: F.embedding(idx, w, sparse=True), (w,))
    assert gradgradcheck(lambda w: F.embedding(idx, w, sparse=True).pow(2), (w,))
    assert gradcheck(lambda w: F.embedding_bag(idx, w, off, mode="mean", sparse=True), (w,))
    assert gradcheck(lambda w, p: F.embedding_bag(idx, w, off, mode="sum", sparse=True,
                                                  per_sample_weights=p), (w, ps))


def test_sparse_embedding_create_graph_keeps_a_sparse_differentiable_grad():
    w = flambeau.tensor(_table(4, 3), requires_grad=True)
    out = F.embedding(flambeau.tensor([1, 1, 2]), w, sparse=True)
    (g,) = flambeau.autograd.grad(out.pow(2).sum(), w, create_graph=True)
    assert g.is_sparse and g.requires_grad
    (gg,) = flambeau.autograd.grad(g.to_dense().sum(), w)
    expected = np.zeros((4, 3), np.float32)
    expected[1] = 4.0
    expected[2] = 2.0
    assert gg.is_sparse  # the lookup's gradient again
    np.testing.assert_allclose(gg.to_dense().cpu().numpy(), expected)


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_clipping_sparse_gradients_is_refused_as_torch(clip):
    torch = pytest.importorskip("torch")
    for lib, mod in ((torch, torch.nn), (flambeau, nn)):
        emb = mod.Embedding(5, 2, sparse=True)
        emb(lib.tensor([0, 2, 2])).sum().backward()
        fn = (mod.utils.clip_grad_norm_ if clip == "norm" else mod.utils.clip_grad_value_)
        with pytest.raises(NotImplementedError):
            fn(emb.parameters(), 0.5)
    with pytest.raises(NotImplementedError, match=f"clip_grad_{clip}_: not supported for "
                                                  "sparse tensors"):
        fn(emb.parameters(), 0.5)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, "inf"])
def test_the_total_norm_of_sparse_gradients_is_refused_as_torch(norm_type):
    # torch 2.13: NotImplementedError from linalg_vector_norm for every norm and foreach
    torch = pytest.importorskip("torch")
    for lib, mod in ((torch, torch.nn), (flambeau, nn)):
        emb = mod.Embedding(5, 2, sparse=True)
        emb(lib.tensor([0, 2, 2])).sum().backward()
        for foreach in (None, True):
            with pytest.raises(NotImplementedError):
                mod.utils.get_total_norm([emb.weight.grad], norm_type, foreach=foreach)
    before = emb.weight.grad.to_dense().cpu().numpy()
    dense = flambeau.ones(2, requires_grad=True)
    dense.grad = flambeau.ones(2)
    for fn, op in ((lambda: nn.utils.get_total_norm([dense.grad, emb.weight.grad], norm_type),
                    "get_total_norm"),
                   (lambda: nn.utils.clip_grad_norm_([dense, emb.weight], 0.1, norm_type),
                    "clip_grad_norm_")):
        with pytest.raises(NotImplementedError, match=rf"^{op}: not supported for sparse "
                           r"tensors \(a tensor of shape \(5, 2\) has layout "
                           r"flambeau.sparse_coo\); torch's vector norm has no sparse kernel"):
            fn()
    # nothing was scaled before the refusal
    np.testing.assert_array_equal(dense.grad.cpu().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(emb.weight.grad.to_dense().cpu().numpy(), before)


def test_clip_grads_with_norm_scales_a_sparse_gradient_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib, mod in ((torch, torch.nn), (flambeau, nn)):
        emb = mod.Embedding(5, 2, sparse=True)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(_table(5, 2)))
        emb(lib.tensor([0, 2, 2])).sum().backward()
        mod.utils.clip_grads_with_norm_(emb.parameters(), 1.0, lib.tensor(4.0))
        grads.append(emb.weight.grad)
    assert grads[1].is_sparse
    _assert_same_grad(grads[1], grads[0])


@pytest.mark.parametrize("idx", [[], [0], [0, 0], [1], [1, 0], [[1, 1]]])
def test_embedding_sparse_grad_of_few_or_no_lookups(idx):
    # nothing looked up, only the padding row, one row: torch counts < 2 entries coalesced
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(5, 2, padding_idx=0, sparse=True)
    temb = torch.nn.Embedding(5, 2, padding_idx=0, sparse=True)
    emb(flambeau.tensor(idx, dtype=flambeau.int64)).sum().backward()
    temb(torch.tensor(idx, dtype=torch.int64)).sum().backward()
    _assert_same_grad(emb.weight.grad, temb.weight.grad)
    assert emb.weight.grad._values().shape == temb.weight.grad._values().shape
    # the dense path too: no lookups is a zero gradient, not a reshape error
    dense = nn.Embedding(5, 2)
    dense(flambeau.tensor(idx, dtype=flambeau.int64)).sum().backward()
    assert dense.weight.grad.shape == (5, 2)


@pytest.mark.parametrize("layout", ["sparse_csr", "sparse_csc"])
def test_compressed_gradients_in_the_clipping_functions_as_torch(layout):
    # torch refuses the norms and clamp_ of a CSR/CSC gradient and scales its values
    torch = pytest.importorskip("torch")
    dense = [[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]]
    grads = []
    for lib, mod in ((torch, torch.nn), (flambeau, nn)):
        m = lib.tensor(dense).to_sparse(layout=getattr(lib, layout)).requires_grad_()
        m.grad = lib.tensor(dense).to_sparse(layout=getattr(lib, layout))
        for fn in (lambda: mod.utils.get_total_norm([m.grad]),
                   lambda: mod.utils.clip_grad_norm_([m], 1.0),
                   lambda: mod.utils.clip_grad_value_([m], 1.0)):
            with pytest.raises((RuntimeError, NotImplementedError)):
                fn()
        mod.utils.clip_grads_with_norm_([m], 1.0, lib.tensor(10.0))
        grads.append(m.grad)
    assert str(grads[1].layout).split(".")[1] == str(grads[0].layout).split(".")[1]
    np.testing.assert_allclose(grads[1].to_dense().cpu().numpy(),
                               grads[0].to_dense().numpy(), rtol=1e-6)
    m = flambeau.tensor(dense).to_sparse(layout=getattr(flambeau, layout)).requires_grad_()
    m.grad = flambeau.tensor(dense).to_sparse(layout=getattr(flambeau, layout))
    with pytest.raises(NotImplementedError, match=rf"^clip_grad_norm_: not supported for sparse "
                       rf"tensors \(a tensor of shape \(2, 3\) has layout flambeau.{layout}\)"):
        nn.utils.clip_grad_norm_([m], 1.0)
    with pytest.raises(NotImplementedError, match=rf"^clip_grad_value_: not supported for "
                       rf"sparse tensors \(a gradient of shape \(2, 3\) has layout "
                       rf"flambeau.{layout}\)"):
        nn.utils.clip_grad_value_([m], 1.0)
    np.testing.assert_array_equal(m.grad.to_dense().cpu().numpy(), dense)  # unchanged

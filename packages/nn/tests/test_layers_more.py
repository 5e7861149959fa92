"""RMSNorm, distances, RReLU, Softmax2d, ChannelShuffle, 3-D adaptive pools and the lazy
norms and transposed convolutions: parity with torch, gradcheck, errors."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from _helpers_a import assert_close, load_into_torch, to_torch
from _helpers_b import check_module, check_op, close, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _torch_randomize(tmod, seed=0):
    """Random values in every floating parameter of a torch module (not only ones/zeros)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return tmod


# ------------------------------------------------------------------ RMSNorm


@pytest.mark.parity
@pytest.mark.parametrize("args, kw, shape", [
    ((5,), {}, (3, 5)),
    (((3, 5),), {"eps": 1e-3}, (2, 3, 5)),
    ((5,), {"elementwise_affine": False}, (4, 5)),
    (([4],), {"eps": 0.5}, (2, 2, 4)),
])
def test_rms_norm_module_parity(args, kw, shape):
    torch = pytest.importorskip("torch")
    fm, tm = nn.RMSNorm(*args, **kw), torch.nn.RMSNorm(*args, **kw)
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    check_module(fm, _torch_randomize(tm), _array(*shape) * 3 + 1)


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_default_eps_is_the_dtype_epsilon(dtype):
    torch = pytest.importorskip("torch")
    # tiny inputs: the mean square is of the order of eps, so eps shows in the result
    x = (_array(3, 4) * 1e-4).astype(dtype)
    fo = F.rms_norm(flambeau.tensor(x), (4,))
    to = torch.nn.functional.rms_norm(torch.tensor(x), (4,))
    assert fo.dtype == getattr(flambeau, dtype)
    close(fo, to, atol=1e-6, rtol=1e-5)
    eps = np.finfo(dtype).eps
    expected = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    close(fo, expected.astype(dtype), atol=1e-6, rtol=1e-5)


@pytest.mark.parity
def test_rms_norm_functional_parity_with_weight():
    torch = pytest.importorskip("torch")
    w = _array(2, 3, seed=1)
    check_op(lambda x, w: F.rms_norm(x, [2, 3], w, 1e-5),
             lambda x, w: torch.nn.functional.rms_norm(x, [2, 3], w, 1e-5),
             _array(4, 2, 3), w)


def test_rms_norm_gradcheck():
    x, w = randn(3, 2, 4), randn(2, 4, seed=1)
    assert gradcheck(lambda x, w: F.rms_norm(x, (2, 4), w, 1e-6), (x, w))
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (2, 4), w, 1e-6), (x, w))
    assert gradcheck(lambda x: F.rms_norm(x, 4), (x,))
    m = nn.RMSNorm(4).double()
    with flambeau.no_grad():
        m.weight.copy_(randn(4, seed=2, requires_grad=False))
    assert gradcheck(lambda x: m(x), (x,))


def test_rms_norm_errors():
    with pytest.raises(RuntimeError, match=r"rms_norm: Given normalized_shape=\[4\], expected "
                                           r"input with shape \[\*, 4\], but got input of size "
                                           r"\[2, 3\]"):
        nn.RMSNorm(4)(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[2, 3\].*size \[3\]"):
        F.rms_norm(flambeau.ones(3), (2, 3))
    with pytest.raises(RuntimeError, match=r"rms_norm: expected weight of shape \[3\].*\[4\]"):
        F.rms_norm(flambeau.ones(2, 3), (3,), flambeau.ones(4))
    with pytest.raises(RuntimeError, match="rms_norm: expected normalized_shape to have at "
                                           "least one dimension"):
        F.rms_norm(flambeau.ones(2, 3), ())
    with pytest.raises(RuntimeError, match="rms_norm: expected a floating point or complex input, "
                                           "got flambeau.int64"):
        F.rms_norm(flambeau.ones(2, 3, dtype=flambeau.int64), (3,))


# ------------------------------------------------------------------ distances

DIST_P = [2.0, 1.0, 3.0, 0.5, 0.0, math.inf, -math.inf, -1.0]


@pytest.mark.parity
@pytest.mark.parametrize("p", DIST_P)
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_parity(p, keepdim):
    torch = pytest.importorskip("torch")
    a, b = _array(4, 5), _array(4, 5, seed=1)
    b[1] = a[1]  # a zero difference (eps=0 below): gradient 0 there, as torch's
    a[2, 3] = b[2, 3]  # one zero element
    for eps in (1e-6, 0.0):
        fm = nn.PairwiseDistance(p, eps, keepdim)
        tm = torch.nn.PairwiseDistance(p, eps, keepdim)
        assert repr(fm) == repr(tm) and fm.norm == p
        fx, tx = [flambeau.tensor(v, requires_grad=True) for v in (a, b)], \
            [torch.tensor(v, requires_grad=True) for v in (a, b)]
        fo, to = fm(*fx), tm(*tx)
        close(fo, to)
        g = RNG.standard_normal(tuple(to.shape))
        fo.backward(flambeau.tensor(g))
        to.backward(torch.tensor(g))
        for f, t in zip(fx, tx):  # torch leaves no gradient at all for p=0
            close(f.grad, t.grad if t.grad is not None else np.zeros(t.shape))


@pytest.mark.parity
@pytest.mark.parametrize("sa, sb", [((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (3, 4)),
                                    ((2, 1, 4), (3, 4))])
def test_pairwise_distance_broadcasts_like_torch(sa, sb):
    torch = pytest.importorskip("torch")
    check_op(F.pairwise_distance, torch.nn.functional.pairwise_distance,
             _array(*sa), _array(*sb, seed=1))


@pytest.mark.parity
@pytest.mark.parametrize("dim, sa, sb", [(1, (3, 4), (3, 4)), (0, (4,), (4,)),
                                         (-1, (2, 3, 4), (3, 4)), (2, (2, 3, 4, 2), (2, 3, 4, 1))])
def test_cosine_similarity_parity(dim, sa, sb):
    torch = pytest.importorskip("torch")
    fm, tm = nn.CosineSimilarity(dim), torch.nn.CosineSimilarity(dim)
    assert repr(fm) == repr(tm)
    check_op(fm, tm, _array(*sa), _array(*sb, seed=1))


@pytest.mark.parity
def test_cosine_similarity_small_and_zero_vectors_match_torch():
    torch = pytest.importorskip("torch")
    # torch clamps the norms' values at eps but differentiates them unclamped
    a = np.array([[0.0, 0.0, 0.0], [1e-9, 2e-9, 0.0], [1.0, -2.0, 0.5]])
    b = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    fx, tx = [flambeau.tensor(v, requires_grad=True) for v in (a, b)], \
        [torch.tensor(v, requires_grad=True) for v in (a, b)]
    fo = F.cosine_similarity(*fx)
    to = torch.nn.functional.cosine_similarity(*tx)
    close(fo, to)
    fo.sum().backward()
    to.sum().backward()
    for f, t in zip(fx, tx):
        assert np.isfinite(f.grad.cpu().numpy()).all()
        close(f.grad, t.grad, atol=1e-6, rtol=1e-6)


def test_distance_gradcheck():
    a, b = randn(3, 5), randn(3, 5, seed=1)
    for p in (2.0, 3.0, 1.5, 1.0, math.inf):
        assert gradcheck(lambda a, b: F.pairwise_distance(a, b, p), (a, b))
    for p in (2.0, 3.0):
        assert gradgradcheck(lambda a, b: F.pairwise_distance(a, b, p), (a, b))
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (a, b))
    assert gradgradcheck(lambda a, b: F.cosine_similarity(a, b, dim=0), (a, b))
    assert gradcheck(nn.CosineSimilarity(dim=-1), (a, randn(5, seed=2)))


def test_distance_errors():
    with pytest.raises(RuntimeError, match=r"pairwise_distance: shapes \(2, 3\) and \(2, 4\) "
                                           "cannot be broadcast together"):
        nn.PairwiseDistance()(flambeau.ones(2, 3), flambeau.ones(2, 4))
    with pytest.raises(RuntimeError, match=r"cosine_similarity: shapes \(2, 3\) and \(4, 3\)"):
        nn.CosineSimilarity()(flambeau.ones(2, 3), flambeau.ones(4, 3))
    with pytest.raises(TypeError, match="pairwise_distance: expected x2 to be a Tensor"):
        F.pairwise_distance(flambeau.ones(2, 3), [1.0, 2.0, 3.0])


def test_distance_values():
    x = flambeau.tensor([[0.0, 0.0], [1.0, 2.0]])
    y = flambeau.tensor([[3.0, 4.0], [1.0, 2.0]])
    close(F.pairwise_distance(x, y, eps=0.0), np.array([5.0, 0.0]))
    close(F.pairwise_distance(x, y, p=math.inf, eps=0.0, keepdim=True), np.array([[4.0], [0.0]]))
    close(F.pairwise_distance(x, y, p=0.0, eps=0.0), np.array([2.0, 0.0]))
    close(F.cosine_similarity(x, y), np.array([0.0, 1.0]), atol=1e-6)


# ------------------------------------------------------------------ RReLU


@pytest.mark.parity
@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (0.1, 0.6), (0.3, 0.3)])
def test_rrelu_eval_parity(lower, upper):
    torch = pytest.importorskip("torch")
    fm, tm = nn.RReLU(lower, upper).eval(), torch.nn.RReLU(lower, upper).eval()
    assert repr(fm) == repr(tm)
    check_op(fm, tm, _array(3, 7))
    check_op(lambda x: F.rrelu(x, lower, upper), lambda x: torch.nn.functional.rrelu(x, lower,
                                                                                     upper),
             _array(5))


def test_rrelu_training_draws_slopes_in_range_from_flambeau_generator():
    lower, upper = 0.1, 0.4
    x = flambeau.tensor(np.concatenate([-np.abs(_array(2000)) - 0.1, np.abs(_array(10)) + 0.1]),
                        requires_grad=True)
    flambeau.manual_seed(7)
    y = F.rrelu(x, lower, upper, training=True)
    slopes = (y / x).detach().cpu().numpy()
    neg = slopes[:2000]
    assert (neg >= lower).all() and (neg <= upper).all()
    assert abs(neg.mean() - (lower + upper) / 2) < 0.01  # uniform: mean (lower + upper) / 2
    assert len(np.unique(neg)) > 1000  # one slope per element
    np.testing.assert_array_equal(slopes[2000:], 1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), slopes, rtol=1e-12)
    flambeau.manual_seed(7)
    again = F.rrelu(x.detach(), lower, upper, training=True)
    np.testing.assert_array_equal(again.cpu().numpy(), y.detach().cpu().numpy())
    m = nn.RReLU(lower, upper)
    assert m.training
    flambeau.manual_seed(7)
    np.testing.assert_array_equal(m(x.detach()).cpu().numpy(), y.detach().cpu().numpy())
    m.eval()
    np.testing.assert_allclose(m(flambeau.tensor([-2.0, 3.0])).cpu().numpy(), [-0.5, 3.0])


def test_rrelu_inplace_and_gradcheck():
    x = flambeau.tensor([-2.0, 3.0, -1.0])
    flambeau.manual_seed(0)
    y = nn.RReLU(0.2, 0.2, inplace=True)(x)
    assert y is x
    np.testing.assert_allclose(x.cpu().numpy(), [-0.4, 3.0, -0.2], rtol=1e-6)
    assert repr(nn.RReLU(0.1, 0.3, True)) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    x = flambeau.tensor([-2.0, 3.0])
    F.rrelu_(x, training=False)
    np.testing.assert_allclose(x.cpu().numpy(), [-2 * (1 / 8 + 1 / 3) / 2, 3.0], rtol=1e-6)
    a = randn(4, 5)

    def seeded(t):  # the same slopes at every evaluation
        flambeau.manual_seed(3)
        return F.rrelu(t, 0.1, 0.5, training=True)

    assert gradcheck(seeded, (a,))
    assert gradgradcheck(seeded, (a,))
    assert gradcheck(lambda t: F.rrelu(t, 0.1, 0.5), (a,))


def test_rrelu_errors():
    with pytest.raises(RuntimeError, match=r"rrelu: the lower bound \(0.5\) should be less than "
                                           r"or equal to the upper bound \(0.1\)"):
        F.rrelu(flambeau.ones(3), 0.5, 0.1, training=True)
    with pytest.raises(RuntimeError, match="rrelu: expected a floating point input"):
        nn.RReLU()(flambeau.ones(3, dtype=flambeau.int64))


# ------------------------------------------------------------------ Softmax2d


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 4)])
def test_softmax2d_parity_and_gradcheck(shape):
    torch = pytest.importorskip("torch")
    fm, tm = nn.Softmax2d(), torch.nn.Softmax2d()
    assert repr(fm) == repr(tm)
    check_op(fm, tm, _array(*shape))
    assert gradcheck(fm, (randn(*shape),))


def test_softmax2d_errors():
    with pytest.raises(ValueError, match=r"Softmax2d: expected input to be 3D or 4D, got 2D "
                                         r"instead \(input shape \(2, 3\)\)"):
        nn.Softmax2d()(flambeau.ones(2, 3))


# ------------------------------------------------------------------ ChannelShuffle


@pytest.mark.parity
@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 3), 2), ((2, 6, 3, 3), 3), ((1, 4, 5), 4),
                                           ((2, 6, 2, 1, 2), 3), ((3, 4, 2), 1)])
def test_channel_shuffle_parity(shape, groups):
    torch = pytest.importorskip("torch")
    fm, tm = nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(fm) == repr(tm)
    check_op(fm, tm, _array(*shape))
    x = _array(*shape)  # torch has no derivative for native_channel_shuffle: values only
    close(F.native_channel_shuffle(flambeau.tensor(x), groups),
          torch.nn.functional.native_channel_shuffle(torch.tensor(x), groups))
    check_op(lambda x: F.channel_shuffle(x, groups),
             lambda x: torch.nn.functional.channel_shuffle(x, groups), _array(*shape))


def test_channel_shuffle_values_and_gradcheck():
    y = F.channel_shuffle(flambeau.arange(6.0).reshape(1, 6, 1), 3)
    np.testing.assert_array_equal(y.flatten().cpu().numpy(), [0, 2, 4, 1, 3, 5])
    assert gradcheck(lambda x: F.channel_shuffle(x, 2), (randn(2, 4, 3),))


def test_channel_shuffle_errors():
    with pytest.raises(RuntimeError, match=r"channel_shuffle: the number of channels \(5\) must "
                                           r"be divisible by groups \(2\) \(input shape "
                                           r"\(2, 5, 3\)\)"):
        nn.ChannelShuffle(2)(flambeau.ones(2, 5, 3))
    with pytest.raises(RuntimeError, match=r"channel_shuffle: expected an input of shape "
                                           r"\(N, C, \*\) with more than 2 dims, got shape "
                                           r"\(2, 4\)"):
        F.channel_shuffle(flambeau.ones(2, 4), 2)
    with pytest.raises(RuntimeError, match="native_channel_shuffle: the number of groups must "
                                           "be a positive integer, got 0"):
        F.native_channel_shuffle(flambeau.ones(2, 4, 3), 0)


# ------------------------------------------------------------------ 3-D adaptive pooling

ADAPTIVE_3D = [((2, 3, 5, 7, 6), 2), ((2, 3, 5, 7, 6), (3, None, 4)), ((1, 2, 4, 4, 4), (4, 2, 1)),
               ((3, 5, 6, 7), (2, 3, 5)), ((1, 1, 3, 2, 5), (5, 4, 7))]


@pytest.mark.parity
@pytest.mark.parametrize("shape, out", ADAPTIVE_3D)
def test_adaptive_pool3d_parity(shape, out):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _array(*shape)
    check_op(lambda t: F.adaptive_avg_pool3d(t, out), lambda t: tf.adaptive_avg_pool3d(t, out), x)
    check_op(lambda t: F.adaptive_max_pool3d(t, out, return_indices=True),
             lambda t: tf.adaptive_max_pool3d(t, out, return_indices=True), x)
    check_op(nn.AdaptiveAvgPool3d(out), torch.nn.AdaptiveAvgPool3d(out), x)
    check_op(nn.AdaptiveMaxPool3d(out, return_indices=True),
             torch.nn.AdaptiveMaxPool3d(out, return_indices=True), x)
    assert repr(nn.AdaptiveMaxPool3d(out, True)) == repr(torch.nn.AdaptiveMaxPool3d(out, True))
    assert repr(nn.AdaptiveAvgPool3d(out)) == repr(torch.nn.AdaptiveAvgPool3d(out))


def test_adaptive_pool3d_gradcheck():
    x = randn(1, 2, 4, 3, 5)
    assert gradcheck(lambda t: F.adaptive_avg_pool3d(t, (3, 2, 2)), (x,))
    assert gradgradcheck(lambda t: F.adaptive_avg_pool3d(t, (3, 2, 2)), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool3d(t, (3, 2, 2)), (x,))
    assert gradgradcheck(lambda t: F.adaptive_max_pool3d(t, (2, 2, 3)), (x,))
    y, i = nn.AdaptiveMaxPool3d(1, return_indices=True)(x)
    flat = x.detach().cpu().numpy().reshape(1, 2, -1)
    np.testing.assert_array_equal(i.cpu().numpy().reshape(1, 2), flat.argmax(-1))
    np.testing.assert_array_equal(y.detach().cpu().numpy().reshape(1, 2), flat.max(-1))


def test_adaptive_pool3d_errors():
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool3d: Expected 4D \(unbatched\) or "
                                           r"5D \(batched\) input, got 3D input of shape "
                                           r"\(2, 3, 4\)"):
        nn.AdaptiveAvgPool3d(2)(flambeau.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"adaptive_max_pool3d: Expected 4D.*got 6D input"):
        F.adaptive_max_pool3d(flambeau.ones(1, 1, 1, 2, 2, 2), 1)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d: output_size must be 3 positive "
                                         r"ints \(or None\), got \(2, 2\)"):
        F.adaptive_avg_pool3d(flambeau.ones(1, 1, 2, 2, 2), (2, 2))


# ------------------------------------------------------------------ lazy modules

LAZY_NORMS = [
    ("LazyBatchNorm1d", "BatchNorm1d", {}, (6, 4)),
    ("LazyBatchNorm1d", "BatchNorm1d", {"momentum": None}, (6, 4, 3)),
    ("LazyBatchNorm2d", "BatchNorm2d", {"bias": False}, (2, 3, 4, 4)),
    ("LazyBatchNorm3d", "BatchNorm3d", {"eps": 1e-3}, (2, 2, 2, 3, 2)),
    ("LazyInstanceNorm1d", "InstanceNorm1d", {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", "InstanceNorm2d", {"affine": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", "InstanceNorm3d", {"track_running_stats": False}, (1, 2, 2, 2, 3)),
]


@pytest.mark.parity
@pytest.mark.parametrize("lazy, eager, kw, shape", LAZY_NORMS)
def test_lazy_norms_infer_features_and_match_torch(lazy, eager, kw, shape):
    torch = pytest.importorskip("torch", minversion="2.13")  # norms' bias=
    fm, tm = getattr(nn, lazy)(**kw), getattr(torch.nn, lazy)(**kw)
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    assert fm.has_uninitialized_params() == tm.has_uninitialized_params()
    x = flambeau.tensor(_array(*shape).astype(np.float32))
    fo, to = fm(x), tm(to_torch(x))
    assert type(fm) is getattr(nn, eager) and type(tm) is getattr(torch.nn, eager)
    assert fm.num_features == shape[1]
    assert not any(isinstance(t, (nn.UninitializedParameter, nn.UninitializedBuffer))
                   for t in list(fm.parameters()) + list(fm.buffers()))
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    assert_close(fo, to, 1e-5, 1e-4, "first output")
    for name, b in fm.named_buffers():
        assert_close(b.cpu().numpy().astype(np.float64),
                     dict(tm.named_buffers())[name].numpy().astype(np.float64), 1e-6, 1e-5, name)
    load_into_torch(fm, tm)  # keys and shapes identical to torch's (strict)
    x2 = flambeau.tensor(_array(*shape, seed=5).astype(np.float32), requires_grad=True)
    tx2 = to_torch(x2, True)
    fo, to = fm(x2), tm(tx2)
    assert_close(fo, to, 1e-5, 1e-4, "second output")
    g = _array(*shape, seed=6).astype(np.float32)
    fo.backward(flambeau.tensor(g))
    to.backward(torch.tensor(g))
    assert_close(x2.grad, tx2.grad, 1e-5, 1e-4, "input grad")
    t_params = dict(tm.named_parameters())
    for name, p in fm.named_parameters():
        assert_close(p.grad, t_params[name].grad, 1e-5, 1e-4, f"grad of {name}")


@pytest.mark.parametrize("lazy, eager, kw, shape", LAZY_NORMS)
def test_lazy_norms_load_a_state_dict_while_uninitialized(lazy, eager, kw, shape):
    eager_kw = dict(kw, affine=kw.get("affine", True),
                    track_running_stats=kw.get("track_running_stats", True))
    source = getattr(nn, eager)(shape[1], **eager_kw)
    source(flambeau.randn(*shape))  # moves the running statistics off their initial values
    with flambeau.no_grad():
        for p in source.parameters():
            p.copy_(flambeau.randn(*p.shape))
    lazy_mod = getattr(nn, lazy)(**kw)
    holder = nn.Sequential(lazy_mod)
    holder.load_state_dict({"0." + k: v for k, v in source.state_dict().items()})
    assert type(holder[0]) is getattr(nn, eager) and holder[0].num_features == shape[1]
    for (k, a), (k2, b) in zip(holder[0].state_dict().items(), source.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    x = flambeau.randn(*shape)
    holder.eval()
    source.eval()
    np.testing.assert_allclose(holder(x).detach().cpu().numpy(), source(x).detach().cpu().numpy(),
                               rtol=1e-6)


def test_lazy_norm_details():
    # unbatched instance norm: C is dim 0 (torch's lazy module takes dim 1 here)
    norm = nn.LazyInstanceNorm1d()
    y = norm(flambeau.randn(3, 5))
    assert tuple(y.shape) == (3, 5) and tuple(norm.weight.shape) == (3,)
    # nothing to materialize: the channel count still comes from the first input
    bn = nn.LazyBatchNorm2d(affine=False, track_running_stats=False)
    assert not bn.has_uninitialized_params()
    bn.load_state_dict({})  # carries no channel count: still lazy
    assert type(bn) is nn.LazyBatchNorm2d
    bn(flambeau.randn(2, 3, 2, 2))
    assert type(bn) is nn.BatchNorm2d and bn.num_features == 3
    # casting before the first input keeps the statistics lazy, in the new dtype
    bn = nn.LazyBatchNorm1d().double()
    assert isinstance(bn.running_mean, nn.UninitializedBuffer) and bn.has_uninitialized_params()
    bn(flambeau.randn(4, 2, dtype=flambeau.float64))
    assert bn.running_mean.dtype == flambeau.float64 and bn.weight.dtype == flambeau.float64
    np.testing.assert_array_equal(bn.num_batches_tracked.cpu().numpy(), 1)
    # copies stay independent
    lazy = nn.LazyBatchNorm1d()
    twin = copy.deepcopy(lazy)
    twin(flambeau.randn(4, 3))
    assert lazy.has_uninitialized_params() and isinstance(lazy.running_var,
                                                          nn.UninitializedBuffer)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input"):
        nn.LazyBatchNorm1d()(flambeau.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input"):
        nn.LazyInstanceNorm2d()(flambeau.ones(2, 3))


def test_uninitialized_buffer():
    b = nn.UninitializedBuffer(dtype=flambeau.float64, persistent=False)
    assert repr(b) == "<UninitializedBuffer>" and not b.persistent
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized buffer"):
        b.shape
    b.materialize((2, 3))
    assert tuple(b.shape) == (2, 3) and b.dtype == flambeau.float64
    assert not isinstance(b, nn.UninitializedBuffer)
    m = nn.Module()
    m.register_buffer("stat", nn.UninitializedBuffer())
    m.load_state_dict({"stat": flambeau.arange(3.0)})
    np.testing.assert_array_equal(m.stat.cpu().numpy(), [0.0, 1.0, 2.0])


LAZY_TRANSPOSED = [
    (nn.LazyConvTranspose1d, "ConvTranspose1d", (2, 3, 9), dict(kernel_size=3, stride=2), 3),
    (nn.LazyConvTranspose2d, "ConvTranspose2d", (2, 4, 5, 5),
     dict(kernel_size=3, stride=2, padding=1, output_padding=1, groups=2), 4),
    (nn.LazyConvTranspose2d, "ConvTranspose2d", (4, 3, 3), dict(kernel_size=2, bias=False), 4),
    (nn.LazyConvTranspose3d, "ConvTranspose3d", (1, 2, 3, 2, 3),
     dict(kernel_size=2, dilation=2), 2),
]


@pytest.mark.parity
@pytest.mark.parametrize("cls, eager, shape, kw, in_channels", LAZY_TRANSPOSED)
def test_lazy_conv_transpose_infers_in_channels_and_matches_torch(cls, eager, shape, kw,
                                                                  in_channels):
    torch = pytest.importorskip("torch")
    fm, tm = cls(6, **kw), getattr(torch.nn, cls.__name__)(6, **kw)
    assert repr(fm) == repr(tm)
    x = flambeau.randn(*shape)
    y = fm(x)
    tm(to_torch(x))
    assert type(fm) is getattr(nn, eager) and fm.in_channels == in_channels
    assert repr(fm) == repr(tm)
    assert tuple(fm.weight.shape) == tuple(tm.weight.shape)
    assert list(fm.state_dict()) == list(tm.state_dict())
    bound = 1 / math.sqrt(fm.weight.shape[1] * math.prod(fm.kernel_size))
    assert np.abs(fm.weight.detach().cpu().numpy()).max() <= bound  # the eager initialization
    load_into_torch(fm, tm)
    assert_close(y, tm(to_torch(x)), 1e-5, 1e-4, "output")
    # an uninitialized lazy module takes its shapes from the state dict
    fresh = cls(6, **kw)
    fresh.load_state_dict(fm.state_dict())
    assert type(fresh) is getattr(nn, eager) and fresh.in_channels == in_channels
    np.testing.assert_array_equal(fresh(x).detach().cpu().numpy(), y.detach().cpu().numpy())


def test_lazy_conv_transpose_output_size_and_errors():
    up = nn.LazyConvTranspose2d(2, 3, stride=2, padding=1)
    y = up(flambeau.ones(1, 4, 5, 5), output_size=(10, 10))
    assert tuple(y.shape) == (1, 2, 10, 10) and up.in_channels == 4
    up = nn.LazyConvTranspose1d(2, 3, stride=2)
    assert tuple(up(flambeau.ones(1, 4, 5), (12,)).shape) == (1, 2, 12)
    with pytest.raises(RuntimeError, match=r"LazyConvTranspose2d: expected a 3D \(unbatched\) "
                                           r"or 4D \(batched\) input, got shape \(2, 2\)"):
        nn.LazyConvTranspose2d(2, 3)(flambeau.ones(2, 2))
    with pytest.raises(ValueError, match=r"LazyConvTranspose1d: in_channels \(3\) must be "
                                         r"divisible by groups \(2\)"):
        nn.LazyConvTranspose1d(4, 1, groups=2)(flambeau.ones(1, 3, 2))
    with pytest.raises(ValueError, match=r"LazyConvTranspose3d: out_channels \(3\) must be "
                                         r"divisible by groups \(2\)"):
        nn.LazyConvTranspose3d(3, 1, groups=2)


def test_lazy_gradcheck():
    bn = nn.LazyBatchNorm1d().double()
    x = randn(5, 3)
    bn(x.detach())
    assert gradcheck(lambda t: bn(t), (x,))
    up = nn.LazyConvTranspose1d(2, 3, stride=2).double()
    up(x.detach().unsqueeze(0))
    assert gradcheck(lambda t: up(t), (randn(1, 5, 3, seed=1),))


def test_new_names_are_exported():
    for name in ["RMSNorm", "PairwiseDistance", "CosineSimilarity", "RReLU", "Softmax2d",
                 "ChannelShuffle", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "LazyBatchNorm1d",
                 "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
                 "LazyInstanceNorm3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
                 "LazyConvTranspose3d", "UninitializedBuffer"]:
        assert name in nn.__all__ and getattr(nn, name).__doc__, name
    for name in ["rms_norm", "rrelu", "rrelu_", "channel_shuffle", "native_channel_shuffle",
                 "adaptive_avg_pool3d", "adaptive_max_pool3d", "pairwise_distance",
                 "cosine_similarity"]:
        assert name in F.__all__ and "Examples" in getattr(F, name).__doc__, name

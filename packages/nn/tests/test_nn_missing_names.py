"""gumbel_softmax, fractional max pooling, max_unpool3d and the *_with_indices aliases,
AdaptiveLogSoftmaxWithLoss, CrossMapLRN2d and SyncBatchNorm (a world of one): parity with
torch, gradcheck, errors."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from _helpers_b import check_module, check_op, close, load_from_torch, pair, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ gumbel_softmax


def test_gumbel_softmax_soft_samples_follow_the_softmax():
    flambeau.manual_seed(0)
    logits = flambeau.log(flambeau.tensor([0.1, 0.2, 0.3, 0.4], dtype=flambeau.float64))
    y = F.gumbel_softmax(logits.expand(20000, 4), tau=1.0)
    assert y.shape == (20000, 4)
    np.testing.assert_allclose(y.sum(-1).cpu().numpy(), 1.0, atol=1e-12)
    # the argmax of (logits + Gumbel noise) is a categorical draw with probs softmax(logits)
    freq = np.bincount(y.argmax(-1).cpu().numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.015)


def test_gumbel_softmax_is_reproducible_and_dim_aware():
    flambeau.manual_seed(3)
    a = F.gumbel_softmax(flambeau.zeros(3, 5, 2), tau=0.3, dim=1)
    flambeau.manual_seed(3)
    b = F.gumbel_softmax(flambeau.zeros(3, 5, 2), tau=0.3, dim=1)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    np.testing.assert_allclose(a.sum(1).cpu().numpy(), 1.0, atol=1e-6)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    logits = randn(6, 5)
    flambeau.manual_seed(7)
    y_hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    flambeau.manual_seed(7)
    y_soft = F.gumbel_softmax(logits, tau=0.5)
    values = y_hard.detach().cpu().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0}
    np.testing.assert_array_equal(values.sum(-1), 1.0)
    np.testing.assert_array_equal(values.argmax(-1), y_soft.detach().cpu().numpy().argmax(-1))
    w = flambeau.tensor(RNG.standard_normal((6, 5)))
    (g_hard,) = flambeau.autograd.grad((y_hard * w).sum(), logits)
    (g_soft,) = flambeau.autograd.grad((y_soft * w).sum(), logits)
    np.testing.assert_allclose(g_hard.cpu().numpy(), g_soft.cpu().numpy(), atol=1e-12)


def test_gumbel_softmax_gradcheck_with_fixed_noise():
    logits = randn(3, 4)

    def fn(x):
        flambeau.manual_seed(11)
        return F.gumbel_softmax(x, tau=0.7)

    assert gradcheck(fn, (logits,))
    assert gradgradcheck(fn, (logits,))


def test_gumbel_softmax_errors_and_eps_warning():
    with pytest.raises(RuntimeError, match="gumbel_softmax: expected floating point logits"):
        F.gumbel_softmax(flambeau.tensor([1, 2]))
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(flambeau.zeros(2, 3), eps=1e-5)


# ------------------------------------------------------------------ fractional max pooling


def _frac_case(nd, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    kernel = tuple(int(k) for k in rng.integers(1, 4, nd))
    spatial = tuple(int(n) for n in rng.integers(6, 12, nd))
    # PyTorch's 3-D kernel needs output + kernel - 1 < input, the 2-D one <= input
    out = tuple(int(rng.integers(1, n - k + (2 if nd == 2 else 1)))
                for n, k in zip(spatial, kernel))
    x = rng.standard_normal((2, 3) + spatial).astype(dtype)
    u = rng.random((2, 3, nd)).astype(dtype)
    return kernel, out, x, u


@pytest.mark.parity
@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractional_max_pool_matches_torch_given_samples(nd, seed, dtype):
    torch = pytest.importorskip("torch")
    kernel, out, x, u = _frac_case(nd, seed, dtype)
    tf = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    ff = getattr(F, f"fractional_max_pool{nd}d")
    ty, ti = tf(torch.tensor(x), kernel, output_size=out, _random_samples=torch.tensor(u),
                return_indices=True)
    fy, fi = ff(flambeau.tensor(x), kernel, output_size=out,
                _random_samples=flambeau.tensor(u), return_indices=True)
    np.testing.assert_array_equal(fi.cpu().numpy(), ti.cpu().numpy())
    np.testing.assert_array_equal(fy.cpu().numpy(), ty.cpu().numpy())


@pytest.mark.parity
@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_gradients_and_ratio_match_torch(nd):
    torch = pytest.importorskip("torch")
    kernel, out, x, u = _frac_case(nd, 42)
    tf = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    ff = getattr(F, f"fractional_max_pool{nd}d")
    tu, fu = torch.tensor(u), flambeau.tensor(u)
    check_op(lambda a: ff(a, kernel, output_size=out, _random_samples=fu),
             lambda a: tf(a, kernel, output_size=out, _random_samples=tu), x)
    check_op(lambda a: ff(a, 2, output_ratio=(0.5,) * nd, _random_samples=fu),
             lambda a: tf(a, 2, output_ratio=(0.5,) * nd, _random_samples=tu), x)
    # unbatched input with one row of samples
    check_op(lambda a: ff(a, 2, output_size=3, _random_samples=fu[:1], return_indices=True),
             lambda a: tf(a, 2, output_size=3, _random_samples=tu[:1], return_indices=True),
             x[0])


@pytest.mark.parity
@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_modules_match_torch(nd):
    torch = pytest.importorskip("torch")
    kernel, out, x, u = _frac_case(nd, 5)
    tcls = getattr(torch.nn, f"FractionalMaxPool{nd}d")
    fcls = getattr(nn, f"FractionalMaxPool{nd}d")
    tm = tcls(kernel, output_size=out, return_indices=True, _random_samples=torch.tensor(u))
    fm = fcls(kernel, output_size=out, return_indices=True, _random_samples=flambeau.tensor(u))
    assert list(fm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    assert (fm.kernel_size, fm.output_size, fm.output_ratio) == (
        tm.kernel_size, tm.output_size, tm.output_ratio)
    check_module(fm, tm, x)
    t2, f2 = tcls(2, output_ratio=0.5), fcls(2, output_ratio=0.5)
    assert f2.output_ratio == t2.output_ratio and f2.output_size is None
    assert list(f2.state_dict()) == list(t2.state_dict()) == []
    assert repr(f2) == repr(t2)


def test_fractional_max_pool_windows_and_ties():
    x = flambeau.arange(100.0).reshape(1, 1, 10, 10)
    u = flambeau.tensor([[[0.3, 0.8]]])
    y, i = F.fractional_max_pool2d(x, 2, output_size=(5, 4), _random_samples=u,
                                   return_indices=True)
    # widths: alpha = 8/3, u = 0.3 -> starts 0, 3, 6, 8; heights: alpha = 2 -> 0, 2, 4, 6, 8
    cols = np.array([0, 3, 6, 8]) + 1
    rows = np.array([0, 2, 4, 6, 8]) + 1
    np.testing.assert_array_equal(i.cpu().numpy()[0, 0], rows[:, None] * 10 + cols)
    np.testing.assert_array_equal(y.cpu().numpy()[0, 0], rows[:, None] * 10 + cols)
    # ties: the first maximum; NaNs: the last NaN
    _, i = F.fractional_max_pool2d(flambeau.zeros(1, 1, 4, 4), 2, output_size=2,
                                   return_indices=True)
    np.testing.assert_array_equal(i.cpu().numpy(), [[[[0, 2], [8, 10]]]])
    x = flambeau.tensor([[[[1.0, float("nan"), float("nan"), 0.0]]]])
    y, i = F.fractional_max_pool2d(x, (1, 4), output_size=(1, 1), return_indices=True)
    assert np.isnan(y.item()) and i.item() == 2


def test_fractional_max_pool_draws_from_the_generator():
    x = flambeau.randn(2, 3, 9, 9)
    flambeau.manual_seed(1)
    a = F.fractional_max_pool2d(x, 2, output_size=4)
    flambeau.manual_seed(1)
    u = flambeau.rand(2, 3, 2)
    b = F.fractional_max_pool2d(x, 2, output_size=4, _random_samples=u)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    y, i = F.fractional_max_pool2d_with_indices(x, 2, output_size=4)
    assert y.shape == i.shape == (2, 3, 4, 4) and i.dtype == flambeau.int64
    assert F.fractional_max_pool2d(x, 2, output_size=0).shape == (2, 3, 0, 0)


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_gradcheck(nd):
    kernel, out, x, u = _frac_case(nd, 9)
    fn = getattr(F, f"fractional_max_pool{nd}d")
    u = flambeau.tensor(u)
    x = flambeau.tensor(x[:1, :2], requires_grad=True)
    assert gradcheck(lambda a: fn(a, kernel, output_size=out, _random_samples=u[:1, :2]), (x,))
    assert gradgradcheck(lambda a: fn(a, kernel, output_size=out, _random_samples=u[:1, :2]),
                         (x,))


def test_fractional_max_pool_errors():
    x = flambeau.randn(2, 3, 10, 10)
    with pytest.raises(ValueError, match="fractional_max_pool2d requires specifying either an "
                                         "output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match=re.escape(
            "fractional_max_pool2d(): pool height 4 too large relative to input height 10")):
        F.fractional_max_pool2d(x, 4, output_size=8)
    with pytest.raises(RuntimeError, match="pool width 4 too large relative to input width"):
        F.fractional_max_pool2d(x, 4, output_size=(7, 8))
    x3 = flambeau.randn(1, 1, 10, 10, 10)
    with pytest.raises(RuntimeError, match=re.escape(
            "fractional_max_pool3d_out(): pool time 4 too large relative to input time 10")):
        F.fractional_max_pool3d(x3, 4, output_size=7)
    with pytest.raises(RuntimeError, match="output_size must either be a single Int or tuple "
                                           "of Ints"):
        F.fractional_max_pool2d(x, 2, output_size=(5, 5, 5))
    with pytest.raises(RuntimeError, match="kernel_size must either be a single Int or tuple "
                                           "of three Ints"):
        F.fractional_max_pool3d(x3, (2, 2), output_size=3)
    with pytest.raises(RuntimeError, match=re.escape(
            "Expect _random_samples.size(2) equals to 2; got 3.")):
        F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=flambeau.rand(2, 3, 3))
    with pytest.raises(RuntimeError, match=re.escape(
            "Expect _random_samples.size(0) no less then input batch size.")):
        F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=flambeau.rand(1, 3, 2))
    with pytest.raises(RuntimeError, match=re.escape(
            "Expect _random_samples.size(1) equals to input channel size.")):
        F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=flambeau.rand(2, 2, 2))
    with pytest.raises(RuntimeError, match="Expect _random_samples to have 3 dimensions, got 2"):
        F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=flambeau.rand(2, 3))
    with pytest.raises(RuntimeError, match="Expect _random_samples to have the same dtype"):
        F.fractional_max_pool2d(x, 2, output_size=5,
                                _random_samples=flambeau.rand(2, 3, 2, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match="Expected input to have non-zero size for non-batch "
                                           "dimensions"):
        F.fractional_max_pool2d(flambeau.randn(2, 0, 10, 10), 2, output_size=4)
    with pytest.raises(RuntimeError, match="fractional_max_pool2d: expected a floating point"):
        F.fractional_max_pool2d(flambeau.ones(1, 1, 4, 4, dtype=flambeau.int64), 2,
                                output_size=2)
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D"):
        F.fractional_max_pool2d(flambeau.randn(10, 10), 2, output_size=4)


def test_fractional_max_pool_module_errors():
    with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either an "
                                         "output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="FractionalMaxPool3d requires specifying"):
        nn.FractionalMaxPool3d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio may be "
                                         "specified"):
        nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    with pytest.raises(ValueError, match=re.escape("output_ratio must be between 0 and 1 (got "
                                                   "1.0)")):
        nn.FractionalMaxPool2d(2, output_ratio=1.0)
    with pytest.raises(ValueError, match=re.escape("(got (0.5, 0))")):
        nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0))


# ------------------------------------------------------------------ unpool3d and aliases


@pytest.mark.parity
def test_max_unpool3d_and_with_indices_aliases_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = RNG.standard_normal((2, 3, 4, 6, 5))
    check_op(lambda a: F.max_pool3d_with_indices(a, 2, stride=(1, 2, 2), padding=1),
             lambda a: tf.max_pool3d_with_indices(a, 2, stride=(1, 2, 2), padding=1), x)
    ty, ti = tf.max_pool3d(torch.tensor(x), 2, return_indices=True)
    fy, fi = F.max_pool3d(flambeau.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(fi.cpu().numpy(), ti.cpu().numpy())
    check_op(lambda a: F.max_unpool3d(a, fi, 2, output_size=(4, 6, 5)),
             lambda a: tf.max_unpool3d(a, ti, 2, output_size=(4, 6, 5)), fy.cpu().numpy())
    x = x[..., :4]
    ty, ti = tf.max_pool3d(torch.tensor(x), 2, return_indices=True)
    fy, fi = F.max_pool3d(flambeau.tensor(x), 2, return_indices=True)
    check_op(lambda a: nn.MaxUnpool3d(2)(a, fi), lambda a: torch.nn.MaxUnpool3d(2)(a, ti),
             fy.cpu().numpy())
    check_op(lambda a: F.max_unpool3d(a[0], fi[0], 2), lambda a: tf.max_unpool3d(a[0], ti[0], 2),
             fy.cpu().numpy())
    for nd, size in ((1, 3), (2, (2, 3)), (3, (2, 3, 2))):
        name = f"adaptive_max_pool{nd}d_with_indices"
        check_op(lambda a: getattr(F, name)(a, size), lambda a: getattr(tf, name)(a, size),
                 x[..., :5, :4][(0,) * (3 - nd)])
    assert isinstance(F.adaptive_max_pool2d_with_indices(flambeau.ones(1, 1, 2, 2), 1), tuple)
    assert isinstance(F.max_pool3d_with_indices(flambeau.ones(1, 1, 2, 2, 2), 2), tuple)


def test_max_unpool3d_values_gradcheck_and_errors():
    x = flambeau.arange(64.0).reshape(1, 1, 4, 4, 4)
    y, i = F.max_pool3d(x, 2, return_indices=True)
    z = nn.MaxUnpool3d(2)(y, i)
    assert z.shape == (1, 1, 4, 4, 4)
    np.testing.assert_array_equal(z.cpu().numpy()[z.cpu().numpy() != 0], y.cpu().numpy().ravel())
    a = randn(1, 1, 2, 2, 2)
    assert gradcheck(lambda t: F.max_unpool3d(t, i, 2), (a,))
    with pytest.raises(RuntimeError, match="max_unpool3d: indices shape"):
        F.max_unpool3d(y, i[..., :1], 2)
    with pytest.raises(RuntimeError, match="max_unpool3d: Expected 4D \\(unbatched\\) or 5D"):
        F.max_unpool3d(y[0, 0], i[0, 0], 2)


# ------------------------------------------------------------------ AdaptiveLogSoftmaxWithLoss


def _asm_pair(torch, **kw):
    args = dict(in_features=16, n_classes=20, cutoffs=[5, 10], div_value=2.0) | kw
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**args).double()
    fm = nn.AdaptiveLogSoftmaxWithLoss(**args).double()
    load_from_torch(fm, tm)
    return fm, tm


@pytest.mark.parity
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias):
    torch = pytest.importorskip("torch")
    fm, tm = _asm_pair(torch, head_bias=head_bias)
    x = RNG.standard_normal((7, 16))
    target = [0, 7, 12, 19, 4, 5, 10]
    fx, tx = pair(x)
    fo = fm(fx, flambeau.tensor(target))
    to = tm(tx, torch.tensor(target))
    assert type(fo).__name__ == "_ASMoutput" and fo._fields == ("output", "loss")
    close(fo.output, to.output, atol=1e-12)
    close(fo.loss, to.loss, atol=1e-12)
    fo.loss.backward()
    to.loss.backward()
    close(fx.grad, tx.grad, atol=1e-12)
    tparams = dict(tm.named_parameters())
    for name, p in fm.named_parameters():
        close(p.grad, tparams[name].grad, atol=1e-12)
    close(fm.log_prob(fx), tm.log_prob(tx), atol=1e-12)
    np.testing.assert_array_equal(fm.predict(fx).cpu().numpy(), tm.predict(tx).cpu().numpy())
    # unbatched: a 1-D input with a 0-D target
    f1, t1 = fm(fx[2], flambeau.tensor(12)), tm(tx[2], torch.tensor(12))
    assert f1.output.shape == ()
    close(f1.output, t1.output, atol=1e-12)


@pytest.mark.parity
def test_adaptive_log_softmax_structure_matches_torch():
    torch = pytest.importorskip("torch")
    fm, tm = _asm_pair(torch, head_bias=True)
    assert {k: tuple(v.shape) for k, v in fm.state_dict().items()} == {
        k: tuple(v.shape) for k, v in tm.state_dict().items()}
    for name in ("cutoffs", "shortlist_size", "n_clusters", "head_size", "in_features",
                 "n_classes", "div_value", "head_bias"):
        assert getattr(fm, name) == getattr(tm, name), name
    assert repr(fm) == repr(tm).replace("torch.", "")


def test_adaptive_log_softmax_gradcheck_and_predict():
    flambeau.manual_seed(0)
    asm = nn.AdaptiveLogSoftmaxWithLoss(6, 9, [3, 6], div_value=2.0).double()
    x = randn(5, 6)
    target = flambeau.tensor([0, 4, 8, 2, 6])
    assert gradcheck(lambda a: asm(a, target).output, (x,))
    assert gradcheck(lambda a: asm.log_prob(a), (x,))
    lp = asm.log_prob(x)
    np.testing.assert_allclose(lp.exp().sum(1).detach().cpu().numpy(), 1.0, atol=1e-12)
    np.testing.assert_allclose(asm(x, target).output.detach().cpu().numpy(),
                               lp.detach().cpu().numpy()[np.arange(5),
                                                         target.cpu().numpy()], atol=1e-12)
    big = randn(200, 6, seed=3) * 5
    np.testing.assert_array_equal(asm.predict(big).cpu().numpy(),
                                  asm.log_prob(big).argmax(1).cpu().numpy())
    empty = asm(flambeau.zeros(0, 6, dtype=flambeau.float64),
                flambeau.zeros(0, dtype=flambeau.int64))
    assert empty.output.shape == (0,) and np.isnan(empty.loss.item())


def test_adaptive_log_softmax_errors():
    msg = "cutoffs should be a sequence of unique, positive integers sorted in an increasing order"
    for cutoffs in ([10, 5], [5, 5], [0, 5], [5, 20], [5.0, 10]):
        with pytest.raises(ValueError, match=msg):
            nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)
    with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(16, 20, [])
    nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 19])  # n_classes - 1 is allowed
    asm = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 10])
    x = flambeau.randn(4, 16)
    with pytest.raises(RuntimeError, match="Input and target should have the same size in the "
                                           "batch dimension."):
        asm(x, flambeau.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match=re.escape(
            "Target values should be in [0, 19], but values in range [0, 20] were found.")):
        asm(x, flambeau.tensor([0, 1, 2, 20]))
    with pytest.raises(RuntimeError, match=re.escape("values in range [-1, 2] were found")):
        asm(x, flambeau.tensor([0, 1, 2, -1]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        asm(x, flambeau.tensor(3))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not "
                                           "supported"):
        asm(x, flambeau.zeros(4, 1, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        asm(flambeau.randn(2, 3, 16), flambeau.zeros(2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match="AdaptiveLogSoftmaxWithLoss: expected input with 16 "
                                           "features"):
        asm(x[:, :5], flambeau.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match=re.escape(
            "AdaptiveLogSoftmaxWithLoss.log_prob: expected a 2D input")):
        asm.log_prob(x[0])
    with pytest.raises(RuntimeError, match=re.escape(
            "AdaptiveLogSoftmaxWithLoss.predict: expected a 2D input")):
        asm.predict(x[0])


# ------------------------------------------------------------------ CrossMapLRN2d


@pytest.mark.parity
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 9])
@pytest.mark.parametrize("channels", [1, 3, 7])
def test_cross_map_lrn2d_values_match_torch(size, channels):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, channels, 3, 4)) * 3
    f = nn.CrossMapLRN2d(size, 0.1, 0.75, 2)(flambeau.tensor(x))
    t = torch.nn.CrossMapLRN2d(size, 0.1, 0.75, 2)(torch.tensor(x))
    close(f, t, atol=1e-12)


@pytest.mark.parity
def test_cross_map_lrn2d_repr_and_defaults_match_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    x = RNG.standard_normal((2, 5, 3, 3)).astype(np.float32)
    close(nn.CrossMapLRN2d(3)(flambeau.tensor(x)), torch.nn.CrossMapLRN2d(3)(torch.tensor(x)))


def test_cross_map_lrn2d_gradcheck_and_errors():
    lrn = nn.CrossMapLRN2d(3, alpha=0.5, beta=0.75, k=2)
    x = randn(2, 5, 2, 2)
    assert gradcheck(lrn, (x,))
    assert gradgradcheck(lrn, (x,))
    assert lrn(flambeau.ones(1, 3, 1, 1)).flatten().tolist() == pytest.approx(
        [1 / (2 + 0.5 / 3 * 2) ** 0.75, 1 / (2 + 0.5 / 3 * 3) ** 0.75,
         1 / (2 + 0.5 / 3 * 3) ** 0.75])  # channel 2 sums 1, 2 and (always) 0
    for shape in ((2, 3, 4), (2, 3, 4, 4, 4)):
        with pytest.raises(ValueError, match=f"CrossMapLRN2d: Expected input to be 4D, got "
                                             f"{len(shape)}D instead"):
            lrn(flambeau.randn(*shape))


# ------------------------------------------------------------------ SyncBatchNorm


@pytest.mark.parity
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 3),
                                   (2, 3, 2, 2, 2, 2)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_sync_batchnorm_world_of_one_matches_torch(shape, momentum):
    torch = pytest.importorskip("torch", minversion="2.13")  # norms' bias=
    fm = nn.SyncBatchNorm(3, momentum=momentum)
    tm = torch.nn.SyncBatchNorm(3, momentum=momentum)
    x = RNG.standard_normal(shape)
    for _ in range(2):
        check_module(fm, tm, x)
    for name, b in fm.named_buffers():
        close(b, dict(tm.named_buffers())[name])
    fm.eval()
    tm.eval()
    close(fm(flambeau.tensor(x)), tm(torch.tensor(x)), atol=1e-12)
    assert repr(fm) == repr(tm)


def test_sync_batchnorm_equals_batchnorm_and_converts():
    x = randn(4, 3, 5)
    sbn, bn = nn.SyncBatchNorm(3).double(), nn.BatchNorm1d(3).double()
    with flambeau.no_grad():
        bn.weight.copy_(flambeau.tensor([1.0, 2.0, 3.0]))
        sbn.weight.copy_(bn.weight)
    ys, yb = sbn(x), bn(x)
    np.testing.assert_array_equal(ys.detach().cpu().numpy(), yb.detach().cpu().numpy())
    assert list(sbn.state_dict()) == list(bn.state_dict())
    for (n1, a), (n2, b) in zip(sbn.state_dict().items(), bn.state_dict().items()):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    (gs,) = flambeau.autograd.grad((ys * ys).sum(), x)
    (gb,) = flambeau.autograd.grad((yb * yb).sum(), x)
    np.testing.assert_array_equal(gs.cpu().numpy(), gb.cpu().numpy())
    assert gradcheck(lambda a: nn.SyncBatchNorm(3).double()(a), (randn(4, 3, 2),))

    net = nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3),
                        nn.Sequential(nn.BatchNorm1d(3, affine=False, momentum=None)),
                        nn.InstanceNorm2d(3))
    net[1].running_mean.fill_(0.5)
    net[1].num_batches_tracked.fill_(7)
    net.eval()
    old = net[1]
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group="pg")
    assert out is net and type(net[1]) is nn.SyncBatchNorm and type(net[3]) is nn.InstanceNorm2d
    assert type(net[2][0]) is nn.SyncBatchNorm and net[2][0].momentum is None
    assert net[1].weight is old.weight and net[1].bias is old.bias
    assert net[1].running_mean is old.running_mean and int(net[1].num_batches_tracked) == 7
    assert not net[1].training and net[1].process_group == "pg"
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                      "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked", "2.0.running_mean",
                                      "2.0.running_var", "2.0.num_batches_tracked"]
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(2, track_running_stats=False))
    assert type(single) is nn.SyncBatchNorm and single.running_mean is None


def test_sync_batchnorm_does_not_import_distributed():
    if "flambeau.distributed" in sys.modules:
        pytest.skip("flambeau.distributed already imported by another test")
    nn.SyncBatchNorm(2)(flambeau.randn(4, 2))
    assert "flambeau.distributed" not in sys.modules


def test_sync_batchnorm_errors():
    sbn = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="SyncBatchNorm: expected at least 2D input \\(got 1D "
                                         "input"):
        sbn(flambeau.randn(4))
    with pytest.raises(ValueError, match="SyncBatchNorm number of input channels should be "
                                         "non-zero"):
        sbn(flambeau.randn(4, 0, 2))
    with pytest.raises(ValueError, match="SyncBatchNorm expected input with 3 channels, got 2"):
        sbn(flambeau.randn(4, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        sbn(flambeau.randn(1, 3))
    sbn.eval()
    assert sbn(flambeau.randn(1, 3)).shape == (1, 3)

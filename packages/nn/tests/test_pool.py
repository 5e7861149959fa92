"""Pooling: parity with torch (values, indices, gradients), gradcheck, errors."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import check_module, check_op, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True),
    dict(kernel_size=3, stride=1),
]


@pytest.mark.parity
@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d_parity_with_indices(kw):
    torch = pytest.importorskip("torch")
    check_op(lambda x: F.max_pool2d(x, return_indices=True, **kw),
             lambda x: torch.nn.functional.max_pool2d(x, return_indices=True, **kw),
             RNG.standard_normal((2, 3, 9, 8)))


@pytest.mark.parity
@pytest.mark.parametrize("kw", [k for k in MAX_CASES if "dilation" not in k])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_parity(kw, count_include_pad):
    torch = pytest.importorskip("torch")
    check_op(lambda x: F.avg_pool2d(x, count_include_pad=count_include_pad, **kw),
             lambda x: torch.nn.functional.avg_pool2d(x, count_include_pad=count_include_pad,
                                                      **kw),
             RNG.standard_normal((2, 3, 9, 8)))


@pytest.mark.parity
def test_pool1d_and_3d_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x1 = RNG.standard_normal((2, 3, 10))
    check_op(lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
             lambda x: tf.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True), x1)
    check_op(lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True),
             lambda x: tf.avg_pool1d(x, 3, 2, 1, ceil_mode=True), x1)
    x3 = RNG.standard_normal((1, 2, 4, 5, 4))
    check_op(lambda x: F.max_pool3d(x, 2, return_indices=True),
             lambda x: tf.max_pool3d(x, 2, return_indices=True), x3)
    check_op(lambda x: F.avg_pool3d(x, 2, padding=1), lambda x: tf.avg_pool3d(x, 2, padding=1),
             x3)
    check_op(lambda x: F.avg_pool2d(x, 3, divisor_override=2),
             lambda x: tf.avg_pool2d(x, 3, divisor_override=2), RNG.standard_normal((1, 1, 6, 6)))


@pytest.mark.parity
@pytest.mark.parametrize("size", [(3, 2), (4, 5), 1, (7, None), (2, 9), (7, 3), (1, 3)])
def test_adaptive_pool2d_parity(size):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = RNG.standard_normal((2, 3, 7, 9))
    check_op(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: tf.adaptive_avg_pool2d(x, size),
             x)
    check_op(lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
             lambda x: tf.adaptive_max_pool2d(x, size, return_indices=True), x)


@pytest.mark.parity
def test_adaptive_pool1d_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = RNG.standard_normal((2, 3, 7))
    check_op(lambda x: F.adaptive_avg_pool1d(x, 3), lambda x: tf.adaptive_avg_pool1d(x, 3), x)
    check_op(lambda x: F.adaptive_max_pool1d(x, 3, return_indices=True),
             lambda x: tf.adaptive_max_pool1d(x, 3, return_indices=True), x)


@pytest.mark.parity
def test_max_unpool_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    y, i = tf.max_pool2d(torch.tensor(RNG.standard_normal((2, 3, 8, 7))), 2, return_indices=True)
    fy, fi = flambeau.tensor(y.cpu().numpy()), flambeau.tensor(i.cpu().numpy())
    np.testing.assert_array_equal(F.max_unpool2d(fy, fi, 2, output_size=(8, 7)).cpu().numpy(),
                                  tf.max_unpool2d(y, i, 2, output_size=(8, 7)).cpu().numpy())
    y1, i1 = tf.max_pool1d(torch.tensor(RNG.standard_normal((1, 2, 6))), 2, return_indices=True)
    np.testing.assert_array_equal(
        nn.MaxUnpool1d(2)(flambeau.tensor(y1.cpu().numpy()),
                          flambeau.tensor(i1.cpu().numpy())).cpu().numpy(),
        tf.max_unpool1d(y1, i1, 2).cpu().numpy())


@pytest.mark.parity
def test_pool_modules_parity():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 8, 9))
    pairs = [
        (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        (nn.AvgPool2d(2, ceil_mode=True), torch.nn.AvgPool2d(2, ceil_mode=True)),
        (nn.AdaptiveAvgPool2d((3, 4)), torch.nn.AdaptiveAvgPool2d((3, 4))),
        (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2)),
    ]
    for f, t in pairs:
        check_module(f, t, x)
    for f, t in [(nn.MaxPool1d(2), torch.nn.MaxPool1d(2)), (nn.AvgPool1d(3, 1, 1),
                                                           torch.nn.AvgPool1d(3, 1, 1)),
                 (nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)),
                 (nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4))]:
        check_module(f, t, RNG.standard_normal((2, 3, 9)))
    assert repr(nn.MaxPool2d(2)) == repr(torch.nn.MaxPool2d(2))


def test_pool_values():
    x = flambeau.arange(16.0).reshape(1, 1, 4, 4)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    assert y.flatten().tolist() == [5, 7, 13, 15] and i.flatten().tolist() == [5, 7, 13, 15]
    assert F.avg_pool2d(x, 2).flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
    assert F.adaptive_avg_pool2d(x, 1).item() == 7.5


def test_pool_gradcheck():
    x = randn(1, 2, 5, 6, seed=1)
    fns = [
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.max_pool2d(x, 2, 1, dilation=2),
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False, ceil_mode=True),
        lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
        lambda x: F.adaptive_max_pool2d(x, (2, 4)),
        lambda x: F.max_pool1d(x.flatten(2), 3, 2),
        lambda x: F.avg_pool1d(x.flatten(2), 3, 2, 1),
    ]
    for fn in fns:
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2) ** 2, (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2, 1, 1) ** 2, (x,))


def test_unbatched_input():
    x = flambeau.randn(3, 6, 6)
    assert tuple(F.max_pool2d(x, 2).shape) == (3, 3, 3)
    assert tuple(F.avg_pool2d(x, 2).shape) == (3, 3, 3)
    assert tuple(F.adaptive_max_pool2d(x, 2).shape) == (3, 2, 2)


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(flambeau.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="max_pool2d: Expected 3D"):
        F.max_pool2d(flambeau.randn(4, 4), 2)
    with pytest.raises(RuntimeError, match="output size is too small"):
        F.avg_pool2d(flambeau.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(flambeau.randn(1, 1, 4, 4), (0, 2))


@pytest.mark.parity
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3)),
                                dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool2d_ties_and_nans_pick_torchs_index(kw):
    # ReLU'd inputs tie often (first maximum wins); several NaNs in a window: the last wins
    torch = pytest.importorskip("torch")
    x = np.maximum(RNG.standard_normal((2, 3, 9, 10)), 0).astype(np.float32)
    x[RNG.random(x.shape) < 0.15] = np.nan
    x[0, 0, :4, :6] = 0.0
    y, i = F.max_pool2d(flambeau.tensor(x), return_indices=True, **kw)
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(y.cpu().numpy(), ty.cpu().numpy())
    np.testing.assert_array_equal(i.cpu().numpy(), ti.cpu().numpy())


@pytest.mark.parity
@pytest.mark.parametrize("nd, kw", [
    (2, dict(kernel_size=2, stride=1, padding=1)),
    (2, dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (1, dict(kernel_size=3, stride=1, padding=1)),
    (3, dict(kernel_size=(3, 2, 3), stride=(1, 2, 2), padding=(1, 1, 0)))])
def test_max_pool_windows_of_minus_inf_by_padding_pick_an_input_cell(nd, kw):
    # the padding is -inf too: torch's index (and so the gradient) is the first cell inside
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2) + (6,) * nd).astype(np.float32)
    x[rng.random(x.shape) < 0.85] = -np.inf
    ours, theirs = getattr(F, f"max_pool{nd}d"), getattr(torch.nn.functional, f"max_pool{nd}d")
    xf, xt = flambeau.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (y, i), (ty, ti) = ours(xf, return_indices=True, **kw), theirs(xt, return_indices=True, **kw)
    assert np.isneginf(ty.detach().numpy()).any()  # the case this test is about happens
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(i.cpu().numpy(), ti.numpy())
    np.testing.assert_array_equal(xf.grad.cpu().numpy(), xt.grad.numpy())


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool_backward_keeps_nonfinite_gradients_at_the_maxima(kw):
    x = flambeau.tensor(RNG.standard_normal((1, 2, 6, 6)), requires_grad=True)
    y = F.max_pool2d(x, **kw)
    g = np.ones(y.shape)
    g[0, 0, 0, 0] = np.inf
    y.backward(flambeau.tensor(g))
    grad = x.grad.cpu().numpy()
    assert np.isinf(grad).sum() == 1 and not np.isnan(grad).any()
    assert (grad != 0).sum() <= y.numel()  # the other entries are exact zeros


@pytest.mark.parity
@pytest.mark.parametrize("nd, shape", [(1, (2, 3, 9)), (2, (2, 3, 7, 8)), (3, (1, 2, 5, 6, 5))])
@pytest.mark.parametrize("norm_type, kernel, stride, ceil_mode", [
    (2, 3, None, False), (1.5, 2, 1, False), (4, 2, 2, True)])
def test_lp_pool_parity(nd, shape, norm_type, kernel, stride, ceil_mode):
    torch = pytest.importorskip("torch")
    f_fn = getattr(F, f"lp_pool{nd}d")
    t_fn = getattr(torch.nn.functional, f"lp_pool{nd}d")
    check_op(lambda x: f_fn(x, norm_type, kernel, stride, ceil_mode),
             lambda x: t_fn(x, norm_type, kernel, stride, ceil_mode),
             np.abs(RNG.standard_normal(shape)) + 0.1)
    module = getattr(nn, f"LPPool{nd}d")(norm_type, kernel, stride, ceil_mode)
    assert repr(module) == repr(getattr(torch.nn, f"LPPool{nd}d")(norm_type, kernel, stride,
                                                                   ceil_mode))

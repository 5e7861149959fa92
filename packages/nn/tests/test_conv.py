"""Convolutions: parity with torch, gradcheck (first and second order), errors, kernels."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import check_module, check_op, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True, params=["nchw", "channels_last", "channel_major", "few_outputs",
                                      "no_depthwise"])
def conv_layout(request, monkeypatch):
    """Every test runs through each generic path: the NCHW products (chosen for few input
    channels), the channels-last im2col with windows in (K, Cg) order (the rest) and in the
    weight's (Cg, K) order (chosen for fewer output positions than channels), the products
    over the padded input (chosen for few output channels, stride 1, no groups), and im2col
    for depthwise convolutions too (which otherwise take the shifted multiply-adds)."""
    from flambeau.nn.functional import _conv

    monkeypatch.setattr(_conv, "_FEW_CHANNELS", 1 << 30 if request.param == "nchw" else -1)
    if request.param == "few_outputs":
        monkeypatch.setattr(_conv, "_few_outputs", lambda c, co, groups, stride: (
            groups == 1 and all(s == 1 for s in stride)))
    if request.param in ("channels_last", "channel_major"):
        major = request.param == "channel_major"
        monkeypatch.setattr(_conv, "_channel_major", lambda rows, co, groups: major)
    if request.param == "no_depthwise":
        monkeypatch.setattr(_conv, "_depthwise", lambda c, co, groups: False)
    return request.param

def test_few_outputs_backward_builds_the_shifted_gradients_once(conv_layout, monkeypatch):
    """A few-outputs convolution's backward that needs both gradients builds the shifted
    gradient array once for the two and multiplies the padded input its forward kept; the
    gradients are those computed one at a time."""
    if conv_layout != "few_outputs":
        pytest.skip("the few-outputs products only")
    from flambeau.nn.functional import _conv

    built = []
    original = _conv._shifted_grads
    monkeypatch.setattr(_conv, "_shifted_grads", lambda *a: built.append(1) or original(*a))
    x = randn(2, 6, 7, 5, seed=1)
    w = randn(3, 6, 3, 2, seed=2)
    F.conv2d(x, w, padding=(1, 2), dilation=(2, 1)).square().sum().backward()
    assert len(built) == 1
    x1, w1 = x.detach().requires_grad_(), w.detach()
    F.conv2d(x1, w1, padding=(1, 2), dilation=(2, 1)).square().sum().backward()
    x2, w2 = x.detach(), w.detach().requires_grad_()
    F.conv2d(x2, w2, padding=(1, 2), dilation=(2, 1)).square().sum().backward()
    assert len(built) == 3
    np.testing.assert_allclose(x.grad.cpu().numpy(), x1.grad.cpu().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.cpu().numpy(), w2.grad.cpu().numpy(), rtol=1e-12)


def test_im2col_backward_lays_the_gradient_out_channels_last_once(conv_layout, monkeypatch):
    """Both im2col adjoints read the output gradient channels-last: a backward that needs
    the two hands them one copy; alone, each makes its own."""
    if conv_layout not in ("channels_last", "channel_major"):
        pytest.skip("the im2col products only")
    from flambeau.nn.functional import _conv

    given = []
    original = _conv._to_groups
    monkeypatch.setattr(_conv, "_to_groups",
                        lambda xp, g, groups, gl=None: given.append(gl is not None) or original(
                            xp, g, groups, gl))
    x, w = randn(2, 6, 7, 5, seed=3), randn(8, 3, 3, 2, seed=4)
    F.conv2d(x, w, padding=1, groups=2).square().sum().backward()
    assert given == [True, True]
    x1 = x.detach().requires_grad_()
    F.conv2d(x1, w.detach(), padding=1, groups=2).square().sum().backward()
    assert given[2:] == [False]
    np.testing.assert_allclose(x.grad.cpu().numpy(), x1.grad.cpu().numpy(), rtol=1e-12)


CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), {}),
    ((2, 4, 7, 6), (6, 2, 3, 2), dict(stride=2, padding=1, dilation=(2, 1), groups=2)),
    ((2, 4, 7, 6), (4, 2, 3, 3), dict(padding="same", groups=2)),
    ((2, 4, 6, 6), (4, 4, 2, 2), dict(padding="same", dilation=2)),
    ((2, 4, 9), (4, 1, 3), dict(padding=2, groups=4, stride=3)),
    ((2, 3, 9), (5, 3, 4), dict(padding="valid")),
    ((1, 2, 5, 5, 4), (3, 2, 2, 3, 2), dict(padding=1, stride=(1, 2, 1))),
    ((3, 7, 7), (2, 3, 3, 3), dict(padding=1)),  # unbatched
    # fewer output positions than channels (a ResNet's last blocks on small images)
    ((2, 8, 1, 2), (16, 8, 3, 3), dict(padding=1)),
    ((2, 6, 2, 2), (12, 2, 3, 2), dict(stride=2, padding=1, groups=3)),
    # depthwise (one channel in and out per group), as MobileNet's
    ((2, 5, 7, 6), (5, 1, 3, 3), dict(stride=2, padding=1, groups=5)),
    ((2, 3, 6, 7), (3, 1, 3, 2), dict(padding=(2, 0), dilation=(2, 1), groups=3)),
    ((1, 2, 4, 3, 5), (2, 1, 2, 2, 3), dict(padding=1, stride=(2, 1, 2), groups=2)),
]


@pytest.mark.parity
@pytest.mark.parametrize("xshape, wshape, kw", CONV_CASES)
def test_conv_parity(xshape, wshape, kw):
    torch = pytest.importorskip("torch")
    nd = len(wshape) - 2
    f_fn, t_fn = getattr(F, f"conv{nd}d"), getattr(torch.nn.functional, f"conv{nd}d")
    check_op(lambda x, w, b: f_fn(x, w, b, **kw), lambda x, w, b: t_fn(x, w, b, **kw),
             RNG.standard_normal(xshape), RNG.standard_normal(wshape),
             RNG.standard_normal(wshape[0]))


TRANSPOSE_CASES = [
    ((2, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2,
                                      dilation=(1, 2))),
    ((2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2)),
    ((1, 2, 3, 3, 2), (2, 2, 2, 2, 2), dict(stride=2)),
]


@pytest.mark.parity
@pytest.mark.parametrize("xshape, wshape, kw", TRANSPOSE_CASES)
def test_conv_transpose_parity(xshape, wshape, kw):
    torch = pytest.importorskip("torch")
    nd = len(wshape) - 2
    f_fn = getattr(F, f"conv_transpose{nd}d")
    t_fn = getattr(torch.nn.functional, f"conv_transpose{nd}d")
    cout = wshape[1] * kw.get("groups", 1)
    check_op(lambda x, w, b: f_fn(x, w, b, **kw), lambda x, w, b: t_fn(x, w, b, **kw),
             RNG.standard_normal(xshape), RNG.standard_normal(wshape), RNG.standard_normal(cout))


def test_conv2d_values():
    out = F.conv2d(flambeau.ones(1, 1, 4, 4), flambeau.ones(1, 1, 3, 3), padding=1)
    assert out[0, 0].tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]


def test_conv2d_gradcheck_and_gradgradcheck():
    x, w, b = randn(1, 2, 5, 5, seed=1), randn(4, 1, 3, 3, seed=2), randn(4, seed=3)

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1, groups=2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_depthwise_conv_gradcheck_and_gradgradcheck():
    x, w, b = randn(2, 3, 5, 4, seed=11), randn(3, 1, 3, 2, seed=12), randn(3, seed=13)

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=3)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_nd_gradcheck(nd):
    x = randn(1, 2, *(4,) * nd, seed=4)
    w = randn(3, 2, *(2,) * nd, seed=5)
    fn = getattr(F, f"conv{nd}d")
    assert gradcheck(lambda x, w: fn(x, w, padding=1, dilation=2), (x, w))


def test_conv_transpose_gradcheck_and_gradgradcheck():
    x, w, b = randn(1, 2, 3, 3, seed=6), randn(2, 2, 3, 3, seed=7), randn(2, seed=8)

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    assert gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2), (randn(1, 2, 3),
                                                                       randn(2, 1, 2)))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_module_padding_modes_gradcheck(mode):
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
    assert gradcheck(lambda x: conv(x), (randn(1, 2, 4, 5, seed=9),))


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_module_parity(mode, padding):
    torch = pytest.importorskip("torch")
    kw = dict(padding=padding, padding_mode=mode, dilation=(1, 2))
    check_module(nn.Conv2d(4, 6, 3, groups=2, **kw), torch.nn.Conv2d(4, 6, 3, groups=2, **kw),
                 RNG.standard_normal((2, 4, 7, 8)))


@pytest.mark.parity
def test_conv_modules_parity():
    torch = pytest.importorskip("torch")
    check_module(nn.Conv1d(3, 4, 3, stride=2, bias=False),
                 torch.nn.Conv1d(3, 4, 3, stride=2, bias=False), RNG.standard_normal((2, 3, 9)))
    check_module(nn.Conv3d(2, 3, 2, padding=1), torch.nn.Conv3d(2, 3, 2, padding=1),
                 RNG.standard_normal((1, 2, 3, 4, 3)))
    check_module(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                 torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                          groups=2), RNG.standard_normal((2, 4, 4, 5)))
    check_module(nn.ConvTranspose1d(3, 2, 4, stride=3), torch.nn.ConvTranspose1d(3, 2, 4, stride=3),
                 RNG.standard_normal((2, 3, 5)))


@pytest.mark.parity
def test_conv_transpose_output_size_parity():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    fm = nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    fm.load_state_dict({k: flambeau.tensor(v.cpu().numpy()) for k, v in tm.state_dict().items()})
    x = RNG.standard_normal((1, 2, 4, 4))
    t = tm(torch.tensor(x), output_size=[10, 9])
    f = fm(flambeau.tensor(x), output_size=[10, 9])
    np.testing.assert_allclose(f.detach().cpu().numpy(), t.detach().cpu().numpy(), atol=1e-10)


@pytest.mark.parity
def test_conv_default_init_matches_torch_statistics():
    torch = pytest.importorskip("torch")
    f, t = nn.Conv2d(16, 32, 3), torch.nn.Conv2d(16, 32, 3)
    assert list(f.state_dict()) == list(t.state_dict())
    bound = 1 / np.sqrt(16 * 9)
    w = f.weight.detach().cpu().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(f.bias.detach().cpu().numpy()).max() <= bound
    assert f.weight.shape == t.weight.shape


def test_conv_repr():
    assert repr(nn.Conv2d(1, 32, 3)) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv1d(2, 4, 3, padding="same", bias=False, padding_mode="reflect")) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same, bias=False, "
        "padding_mode=reflect)")


def test_error_wrong_channels():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError) as e:
        conv(flambeau.randn(1, 1, 8, 8))
    assert str(e.value) == "Conv2d expected input with 3 channels, got 1 (input shape (1, 1, 8, 8))"


def test_error_wrong_rank():
    with pytest.raises(RuntimeError, match=r"Conv2d: Expected 3D \(unbatched\) or 4D \(batched\) "
                                           r"input, got 5D input of shape \(1, 1, 1, 8, 8\)"):
        nn.Conv2d(1, 2, 3)(flambeau.randn(1, 1, 1, 8, 8))
    with pytest.raises(RuntimeError, match="conv1d: Expected 2D"):
        F.conv1d(flambeau.randn(4), flambeau.randn(1, 1, 1))


def test_error_kernel_larger_than_padded_input():
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size \(5, 5\) \(dilated\) is larger "
                                           r"than the padded input size \(4, 4\)"):
        F.conv2d(flambeau.randn(1, 1, 2, 2), flambeau.randn(1, 1, 5, 5), padding=1)


def test_error_bad_arguments():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    # the functional form raises torch's RuntimeError
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv2d(flambeau.randn(1, 1, 5, 5), flambeau.randn(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string: 'foo'"):
        F.conv2d(flambeau.randn(1, 1, 5, 5), flambeau.randn(1, 1, 3, 3), padding="foo")
    with pytest.raises(ValueError, match="in_channels"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(flambeau.randn(1, 1, 3, 3), flambeau.randn(1, 1, 2, 2, dtype=flambeau.float64))


def test_error_leaves_module_unchanged():
    conv = nn.Conv2d(3, 8, 3)
    before = conv.weight.detach().cpu().numpy().copy()
    with pytest.raises(RuntimeError):
        conv(flambeau.randn(1, 2, 5, 5))
    np.testing.assert_array_equal(conv.weight.detach().cpu().numpy(), before)


@pytest.mark.host_only  # patches the CPU backend's named kernel
def test_named_kernel_override_is_used():
    backend = flambeau.device("cpu").backend
    calls = []

    def fake(x, w, stride, padding, dilation, groups):
        calls.append((stride, padding, dilation, groups))
        n, _, h, wd = x.shape
        return np.full((n, w.shape[0], h - 2, wd - 2), 7.0, dtype=x.dtype)

    backend.kernels["conv2d"] = fake
    try:
        out = F.conv2d(flambeau.ones(1, 1, 4, 4), flambeau.ones(2, 1, 3, 3))
    finally:
        del backend.kernels["conv2d"]
    assert calls == [((1, 1), ((0, 0), (0, 0)), (1, 1), 1)]
    assert out.tolist() == [[[[7.0] * 2] * 2] * 2]


def test_conv_float32_channels_last_input():
    x = flambeau.randn(2, 5, 6, 3).permute(0, 3, 1, 2)  # a non-contiguous NCHW view
    w = flambeau.randn(4, 3, 3, 3)
    ref = F.conv2d(x.contiguous(), w)
    np.testing.assert_allclose(F.conv2d(x, w).cpu().numpy(), ref.cpu().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_conv_output_is_contiguous_so_view_works():
    # the seed articles flatten conv features with .view(-1, n), as PyTorch code does
    out = flambeau.nn.Conv2d(1, 10, 5)(flambeau.randn(2, 1, 28, 28))
    assert out.is_contiguous()
    assert out.view(2, -1).shape == (2, 5760)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("cin, cout, groups", [(4, 4, 4), (16, 3, 1)])
def test_conv_of_half_types_rounds_once(dtype, cin, cout, groups, conv_layout):
    """Depthwise convolutions (shifted multiply-adds), convolutions to few outputs (a sum
    of shifted shares) and every layout's input gradient (a sum of kernel positions' shares)
    are computed in float32 and rounded once, as im2col's products: the output and both
    gradients stay within two roundings of the exact (float64) results for the same
    half-type inputs."""
    half = getattr(flambeau, dtype)
    eps = 2.0 ** -8 if dtype == "bfloat16" else 2.0 ** -11
    xh = randn(2, cin, 9, 9, seed=21).detach().to(half).requires_grad_()
    wh = randn(cout, cin // groups, 5, 5, seed=22).detach().to(half).requires_grad_()
    xd = xh.detach().double().requires_grad_()
    wd = wh.detach().double().requires_grad_()
    got = F.conv2d(xh, wh, padding=2, groups=groups)
    exact = F.conv2d(xd, wd, padding=2, groups=groups)
    assert got.dtype == half
    got.sum().backward()
    exact.sum().backward()
    for g, ref in ((got, exact), (xh.grad, xd.grad), (wh.grad, wd.grad)):
        ref = ref.detach().cpu().numpy()
        np.testing.assert_allclose(g.detach().double().cpu().numpy(), ref, rtol=0,
                                   atol=2 * eps * np.abs(ref).max())

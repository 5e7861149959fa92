"""pad, interpolate/Upsample, pixel shuffle, unfold/fold and the padding layers."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import check_module, check_op, randn

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, widths", [((2, 3, 5), (2, 1)), ((2, 3, 5, 4), (2, 1, 1, 3)),
                                           ((1, 2, 4, 4, 3), (1, 1, 2, 0, 1, 2)),
                                           ((3, 5, 4), (0, 2, 1, 0))])
def test_pad_parity(mode, shape, widths):
    torch = pytest.importorskip("torch")
    check_op(lambda x: F.pad(x, widths, mode=mode),
             lambda x: torch.nn.functional.pad(x, widths, mode=mode), RNG.standard_normal(shape))


def test_pad_values_and_errors():
    x = flambeau.tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 1), mode="reflect").flatten().tolist() == [3, 2, 1, 2, 3, 2]
    assert F.pad(x, (1, -1), value=9.0).flatten().tolist() == [9, 1, 2]
    with pytest.raises(RuntimeError, match="reflect padding"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="unknown padding mode"):
        F.pad(x, (1, 1), mode="mirror")


@pytest.mark.parity
@pytest.mark.parametrize("kw", [
    dict(scale_factor=2), dict(size=(5, 7)), dict(scale_factor=2, mode="bilinear"),
    dict(size=(5, 3), mode="bilinear", align_corners=True),
    dict(size=(5, 3), mode="bilinear", align_corners=False),
    dict(scale_factor=1.7, mode="bilinear"), dict(size=(5, 7), mode="nearest-exact"),
    dict(scale_factor=(0.5, 1.5), mode="nearest"),
    dict(scale_factor=2, mode="bicubic"), dict(size=(9, 3), mode="bicubic", align_corners=True),
    dict(size=(3, 11), mode="bicubic"), dict(scale_factor=1.7, mode="bicubic"),
    dict(size=(3, 2), mode="area"), dict(size=(7, 10), mode="area"),
])
def test_interpolate_parity(kw):
    torch = pytest.importorskip("torch")
    check_op(lambda x: F.interpolate(x, **kw), lambda x: torch.nn.functional.interpolate(x, **kw),
             RNG.standard_normal((2, 3, 4, 5)))


@pytest.mark.parity
def test_interpolate_linear_and_trilinear_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    check_op(lambda x: F.interpolate(x, scale_factor=3, mode="linear"),
             lambda x: tf.interpolate(x, scale_factor=3, mode="linear"),
             RNG.standard_normal((2, 3, 4)))
    check_op(lambda x: F.interpolate(x, size=(3, 4, 2), mode="trilinear", align_corners=True),
             lambda x: tf.interpolate(x, size=(3, 4, 2), mode="trilinear", align_corners=True),
             RNG.standard_normal((1, 2, 2, 3, 4)))


@pytest.mark.parity
def test_upsample_modules_parity():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((1, 2, 3, 4))
    check_module(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                 torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), x)
    check_module(nn.UpsamplingNearest2d(size=(5, 6)), torch.nn.UpsamplingNearest2d(size=(5, 6)),
                 x)
    check_module(nn.UpsamplingBilinear2d(scale_factor=2),
                 torch.nn.UpsamplingBilinear2d(scale_factor=2), x)
    assert repr(nn.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))


@pytest.mark.parity
def test_pixel_shuffle_parity():
    torch = pytest.importorskip("torch")
    check_module(nn.PixelShuffle(2), torch.nn.PixelShuffle(2), RNG.standard_normal((2, 8, 3, 4)))
    check_module(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2),
                 RNG.standard_normal((2, 2, 4, 6)))


@pytest.mark.parity
def test_fold_unfold_parity():
    torch = pytest.importorskip("torch")
    kw = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    check_module(nn.Unfold((2, 3), **kw), torch.nn.Unfold((2, 3), **kw),
                 RNG.standard_normal((2, 3, 6, 7)))
    check_module(nn.Fold((6, 7), (2, 3), **kw), torch.nn.Fold((6, 7), (2, 3), **kw),
                 RNG.standard_normal((2, 18, 20)))


@pytest.mark.parity
@pytest.mark.parametrize("name, args", [
    ("ZeroPad2d", ((1, 2, 0, 1),)), ("ConstantPad1d", (2, 3.5)), ("ConstantPad3d", (1, -1.0)),
    ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 2, 1),)), ("ReflectionPad3d", (1,)),
    ("ReplicationPad1d", (3,)), ("ReplicationPad2d", (2,)), ("ReplicationPad3d", (1,)),
    ("CircularPad1d", (2,)), ("CircularPad2d", (1,)), ("CircularPad3d", (1,)),
])
def test_padding_layers_parity(name, args):
    torch = pytest.importorskip("torch")
    nd = int(name[-2])
    x = RNG.standard_normal((2, 2) + (4,) * nd)
    check_module(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x)
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_vision_gradcheck():
    x = randn(1, 2, 3, 4, seed=1)
    fns = [
        lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
        lambda x: F.pad(x, (1, 2, 2, 1), mode="replicate"),
        lambda x: F.pad(x, (1, 2, 3, 0), mode="circular"),
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
        lambda x: F.interpolate(x, size=(5, 2), mode="nearest"),
        lambda x: F.pixel_shuffle(x.reshape(1, 8, 1, 3), 2),
        lambda x: F.unfold(x, 2, padding=1, stride=(1, 2)),
        lambda x: F.fold(x.reshape(1, 4, 6), (3, 4), 2),
    ]
    for fn in fns:
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: F.unfold(x, 2) ** 2, (x,))


def test_vision_errors():
    with pytest.raises(ValueError, match="exactly one of size or scale_factor"):
        F.interpolate(flambeau.randn(1, 1, 4), size=2, scale_factor=2)
    with pytest.raises(ValueError, match="expects a 4D input"):
        F.interpolate(flambeau.randn(1, 1, 4), size=2, mode="bilinear")
    with pytest.raises(RuntimeError, match="pixel_shuffle"):
        F.pixel_shuffle(flambeau.randn(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="fold: expected input of shape"):
        F.fold(flambeau.randn(1, 4, 5), (3, 3), 2)


@pytest.mark.parity
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_parity(mode, padding_mode, align_corners):
    torch = pytest.importorskip("torch")
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    grid = RNG.uniform(-1.3, 1.3, (2, 4, 7, 2))  # some locations outside the input
    check_op(lambda x, g: F.grid_sample(x, g, **kw),
             lambda x, g: torch.nn.functional.grid_sample(x, g, **kw),
             RNG.standard_normal((2, 3, 5, 6)), grid)


@pytest.mark.parity
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_parity(align_corners):
    torch = pytest.importorskip("torch")
    check_op(lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=align_corners),
             lambda t: torch.nn.functional.affine_grid(t, (2, 3, 4, 5),
                                                       align_corners=align_corners),
             RNG.standard_normal((2, 2, 3)))


def test_grid_sample_gradcheck_through_an_affine_grid():
    x = randn(1, 2, 4, 5, seed=11)
    theta = flambeau.tensor([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]]], dtype=flambeau.float64,
                            requires_grad=True)

    def warp(x, theta):
        grid = F.affine_grid(theta, (1, 2, 3, 4), align_corners=False)
        return F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)

    assert gradcheck(warp, (x, theta))
    assert gradgradcheck(warp, (x, theta))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_of_volumes_as_torch(mode, padding_mode, align_corners):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(1)
    a, grid = g.standard_normal((2, 3, 4, 5, 6)), g.uniform(-1.2, 1.2, (2, 3, 2, 4, 3))
    cot = g.standard_normal((2, 3, 3, 2, 4))
    got = []
    for lib in (flambeau, torch):
        x = lib.tensor(a, requires_grad=True)
        gr = lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, gr, mode, padding_mode, align_corners)
        (out * lib.tensor(cot)).sum().backward()
        got.append([t.detach().cpu().numpy() for t in (out, x.grad, gr.grad)])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_grid_sample_of_volumes_gradcheck():
    x = flambeau.tensor(np.random.default_rng(2).standard_normal((1, 2, 2, 3, 3)),
                        requires_grad=True)
    grid = flambeau.tensor(np.random.default_rng(3).uniform(-0.9, 0.9, (1, 2, 1, 2, 3)),
                           requires_grad=True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, align_corners=False), (x, grid))
    assert gradgradcheck(lambda a, b: F.grid_sample(a, b, align_corners=True), (x, grid))


def test_grid_sample_errors():
    x = flambeau.ones(1, 1, 3, 3)
    with pytest.raises(ValueError, match="grid_sample: mode must be one of"):
        F.grid_sample(x, flambeau.zeros(1, 2, 2, 2), mode="cubic")
    with pytest.raises(ValueError, match="grid_sample: padding_mode must be one of"):
        F.grid_sample(x, flambeau.zeros(1, 2, 2, 2), padding_mode="wrap")
    with pytest.raises(RuntimeError, match=r"grid_sample: expected input \(N, C, H, W\)"):
        F.grid_sample(x, flambeau.zeros(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match=r"grid_sample: expected input \(N, C, D, H, W\)"):
        F.grid_sample(flambeau.ones(1, 1, 2, 2, 2), flambeau.zeros(1, 1, 1, 1, 2))
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(N, 2, 3\)"):
        F.affine_grid(flambeau.zeros(1, 3, 3), (1, 1, 2, 2))

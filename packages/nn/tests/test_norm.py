"""Normalization layers: parity (outputs, grads, running buffers), gradcheck, modes, errors."""

import numpy as np
import pytest
from _helpers_a import assert_close, compare_module, load_into_torch, to_torch

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck


def _randn(*shape, seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5
    return flambeau.tensor(x.astype(dtype))


BN_CASES = [
    ("BatchNorm1d", (4,), {}, (6, 4)),
    ("BatchNorm1d", (4,), {"momentum": None}, (6, 4, 3)),
    ("BatchNorm1d", (4,), {"affine": False}, (6, 4)),
    ("BatchNorm2d", (3,), {"momentum": 0.3, "eps": 1e-3}, (2, 3, 4, 4)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 2, 2)),
    ("BatchNorm2d", (3,), {"bias": False}, (2, 3, 2, 2)),
    ("BatchNorm3d", (2,), {}, (2, 2, 2, 2, 2)),
]


@pytest.mark.parity
@pytest.mark.parametrize("name,args,kw,shape", BN_CASES)
def test_batchnorm_parity_over_steps(name, args, kw, shape):
    torch = pytest.importorskip("torch", minversion="2.13")  # norms' bias=
    fm, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(fm) == repr(tm)
    load_into_torch(fm, tm)
    for step in range(3):  # buffers follow torch's across steps (momentum None: cumulative)
        x = _randn(*shape, seed=step)
        fo, to = fm(x), tm(to_torch(x))
        assert_close(fo, to, 1e-5, 1e-4, "train output")
        for (n, b) in fm.named_buffers():
            assert_close(b.cpu().numpy().astype(np.float64),
                         dict(tm.named_buffers())[n].numpy().astype(np.float64), 1e-6, 1e-5, n)
    compare_module(fm, tm, _randn(*shape, seed=9))
    fm.eval()
    tm.eval()
    compare_module(fm, tm, _randn(*shape, seed=10))


@pytest.mark.parity
@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.LayerNorm(5), (3, 5)),
    (lambda lib: lib.LayerNorm((3, 5), eps=1e-3), (2, 3, 5)),
    (lambda lib: lib.LayerNorm(5, elementwise_affine=False), (4, 5)),
    (lambda lib: lib.LayerNorm(5, bias=False), (4, 5)),
    (lambda lib: lib.GroupNorm(2, 4), (3, 4, 5)),
    (lambda lib: lib.GroupNorm(4, 4, affine=False), (3, 4, 2, 2)),
    (lambda lib: lib.InstanceNorm1d(3), (2, 3, 5)),
    (lambda lib: lib.InstanceNorm1d(3), (3, 5)),
    (lambda lib: lib.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    (lambda lib: lib.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 4)),
    (lambda lib: lib.InstanceNorm3d(2), (1, 2, 2, 2, 3)),
    (lambda lib: lib.LocalResponseNorm(3), (2, 5, 4)),
    (lambda lib: lib.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), (2, 4, 3, 3)),
])
def test_norm_layers_parity(make, shape):
    torch = pytest.importorskip("torch", minversion="2.13")  # norms' bias=
    fm, tm = make(nn), make(torch.nn)
    assert repr(fm) == repr(tm)
    compare_module(fm, tm, _randn(*shape))
    fm.eval()
    tm.eval()
    compare_module(fm, tm, _randn(*shape, seed=3))


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.BatchNorm2d(2), (2, 2, 2, 2)),
    (lambda: nn.LayerNorm(3), (2, 3)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 2)),
    (lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 2, 2)),
    (lambda: nn.LocalResponseNorm(2), (1, 3, 2)),
])
def test_norm_gradcheck(make, shape):
    m = make().double()
    x = _randn(*shape, seed=1, dtype=np.float64).requires_grad_()
    params = list(m.parameters())
    assert gradcheck(lambda x, *p: m(x), (x, *params))
    assert gradgradcheck(lambda x, *p: m(x), (x, *params))


def test_batchnorm_eval_uses_running_stats_and_counter():
    bn = nn.BatchNorm1d(2)
    bn(_randn(5, 2))
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == flambeau.int64
    bn.eval()
    before = bn.running_mean.clone()
    x = _randn(5, 2, seed=4)
    y = bn(x)
    expected = (x - bn.running_mean) / (bn.running_var + bn.eps).sqrt()
    assert_close(y, expected, 1e-6, 1e-5)
    assert (bn.running_mean == before).all() and bn.num_batches_tracked.item() == 1


def test_norm_errors_leave_state_unchanged():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"BatchNorm2d expected input with 3 channels, got 1 "
                                         r"\(input shape \(1, 1, 8, 8\)\)"):
        bn(flambeau.ones(1, 1, 8, 8))
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(flambeau.ones(2, 3))
    bn1 = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn1(flambeau.ones(1, 3))
    assert bn1.num_batches_tracked.item() == 0 and (bn1.running_mean == 0).all()
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.LayerNorm(4)(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(flambeau.ones(2, 2), None, None, training=False)


def test_batch_norm_runs_the_backends_fused_kernels(monkeypatch):
    """``kernels["batch_norm"]`` / ``["batch_norm_backward"]`` (flambeau-cuda's) replace the
    generic arrays and give the same results."""
    from flambeau.nn.functional import _norm

    bn = nn.BatchNorm2d(3)
    x = flambeau.randn(4, 3, 2, 2, requires_grad=True)

    def run():
        bn.reset_running_stats()
        x.grad = None
        y = bn(x)
        (y * y).sum().backward()
        return [t.detach().cpu().numpy() for t in (y, x.grad, bn.weight.grad, bn.running_var)]

    expected = run()
    calls = []
    xp = x._device._xp
    kernels = x._device.backend.kernels
    monkeypatch.setitem(kernels, "batch_norm", lambda *a: calls.append("fwd") or
                        _norm._batch_norm_arrays(xp, *a))
    monkeypatch.setitem(kernels, "batch_norm_backward", lambda *a: calls.append("bwd") or
                        _norm._batch_norm_backward_arrays(*a))
    bn.weight.grad = None
    got = run()
    assert calls == ["fwd", "bwd"]
    # a backend's fused kernels round differently (fused multiply-adds, another summation
    # order): float32 tolerances. x.grad is small (sum(y * y) hardly depends on x), hence atol.
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parity
@pytest.mark.parametrize(("name", "kwargs"), [
    ("BatchNorm2d", {"num_features": 6, "affine": False}), ("BatchNorm2d", {"num_features": 6}),
    ("LayerNorm", {"normalized_shape": (2, 2), "elementwise_affine": False}),
    ("GroupNorm", {"num_groups": 3, "num_channels": 6, "affine": False}),
    ("GroupNorm", {"num_groups": 2, "num_channels": 6}), ("InstanceNorm2d", {"num_features": 6})])
def test_norm_then_inplace_relu_matches_torch(name, kwargs):
    """An in-place op on a normalization's output must not touch what its backward kept (it
    did with BatchNorm(affine=False) and LayerNorm without affine), and a GroupNorm output is
    no view (in-place ops on views of graph tensors are refused)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 6, 2, 2)).astype(np.float32)
    w = np.arange(96.0, dtype=np.float32).reshape(x.shape)
    grads = []
    for lib, mod in ((torch, torch.nn), (flambeau, nn)):
        xt = lib.tensor(x, requires_grad=True)
        y = mod.ReLU(inplace=True)(getattr(mod, name)(**kwargs)(xt))
        (y * lib.tensor(w)).sum().backward()
        grads.append(xt.grad.detach().cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-4)


def test_batchnorm_backward_makes_no_zero_gradients_for_its_statistics(monkeypatch):
    """The fused training node also outputs the batch mean and variance (without gradient);
    its backward must not be handed zero arrays for them (two allocations and fills per
    batch norm, forty times a ResNet-18 step on a GPU)."""
    from flambeau.nn.functional import _norm

    seen = []
    original = _norm._BatchNormTrain.backward

    def spy(ctx, g, gmean, gvar):
        seen.append((g is None, gmean, gvar))
        return original(ctx, g, gmean, gvar)

    monkeypatch.setattr(_norm._BatchNormTrain, "backward", staticmethod(spy))
    bn = nn.BatchNorm2d(3)
    x = flambeau.randn(4, 3, 2, 2, requires_grad=True)
    bn(x).pow(2).sum().backward()
    assert seen == [(False, None, None)]
    assert x.grad is not None and bn.weight.grad is not None


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_batch_norm_statistics_of_two_byte_floats_accumulate_in_float32(dtype):
    """Summed in their own dtype, 4096 values of 1.125 go wrong once the running sum passes
    2048 (float16 then rounds each 1.125 added to 2; bfloat16 sooner); float32 sums do not."""
    from flambeau.nn.functional import _norm

    a = np.full((4096, 2, 1), 1.0, dtype=np.float32)
    a[1:, :, 0] += 2.0 ** -3
    arr = flambeau.tensor(a).to(getattr(flambeau, dtype)).cpu().numpy()
    out, _, _, mean, var = _norm._batch_norm_arrays(np, arr, None, None, (0, 2), 0.0)
    exact = (1 + 4095 * (1 + 2.0 ** -3)) / 4096
    assert mean.dtype == arr.dtype and mean.shape == (1, 2, 1)
    np.testing.assert_allclose(mean.astype(np.float32).ravel(), exact, rtol=1e-2)
    # other axes than batch norm's (0, 2, ...) take the plain reduction
    sums = _norm._channel_sums(arr, (0, 1))
    assert sums.shape == (1, 1, 1) and sums.dtype == np.float32
    np.testing.assert_allclose(sums.item(), 2 * 4096 * exact, rtol=1e-2)


def test_batch_norm_of_float16_divides_before_rounding():
    """A float16 channel whose sum passes 65504 still has a finite mean and variance."""
    from flambeau.nn.functional import _norm

    a = np.full((256, 1, 16, 16), 3.0, dtype=np.float16)  # sum 196608
    a[::2] = 5.0
    out, y, rstd, mean, var = _norm._batch_norm_arrays(np, a, None, None, (0, 2, 3), 1e-5)
    assert mean.dtype == np.float16 and mean.item() == 4.0 and var.item() == 1.0
    np.testing.assert_allclose(np.abs(out.astype(np.float32)), 1.0, rtol=1e-3)
    dx, gysum, gsum = _norm._batch_norm_backward_arrays(np.ones_like(a), y, rstd, None,
                                                         (0, 2, 3))
    assert dx.dtype == np.float16 and np.isfinite(dx).all()
    np.testing.assert_allclose(dx.astype(np.float32), 0.0, atol=1e-3)
    assert gsum.dtype == np.float16 and np.isinf(gsum).all()  # the sum itself is too large


@pytest.mark.parametrize("low", [flambeau.float16, flambeau.bfloat16])
def test_half_inputs_with_float32_statistics_keep_their_dtype(low):
    # torch's norms give the input's dtype (a BatchNorm kept in float32 in a half model)
    x = flambeau.randn(3, 4).to(low)
    one, zero = flambeau.ones(4), flambeau.zeros(4)
    rm, rv = flambeau.zeros(4), flambeau.ones(4)
    outs = [F.batch_norm(x, rm, rv, one, zero), F.batch_norm(x, rm, rv, one, zero, training=True),
            F.group_norm(x[..., None], 2, one, zero), F.rms_norm(x, (4,), one),
            F.layer_norm(x, (4,), one, zero)]
    assert [o.dtype for o in outs] == [low] * 5
    assert rm.dtype == flambeau.float32 and rm.abs().sum().item() > 0  # updated, in float32
    bn = nn.BatchNorm1d(4)
    xg = flambeau.randn(3, 4).to(low).requires_grad_()
    bn(xg).float().sum().backward()
    assert xg.grad.dtype == low and bn.weight.grad.dtype == flambeau.float32

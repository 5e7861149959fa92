"""The CUDA C of the named kernels, compiled for the host (g++) and checked against references.

Each GPU thread's work is run by a host loop over ``i`` (see ``_csource``); nvcc compiles the
same bodies for sm_90 when it is installed. The GPU launch itself is tested in test_gpu.py.
"""

import numpy as np
import pytest
from _csource import Kernel, call, compile_device, have_gxx, have_nvcc, host_library

from flambeau_cuda._kernels._activation import BACKWARD, FORWARD, FROM_OUTPUT
from flambeau_cuda._kernels._conv import COL2IM, COL2IM_I32, IM2COL, IM2COL_I32, geometry
from flambeau_cuda._kernels._norm import RUNNING
from flambeau_cuda._kernels._optim import ADAM, ADAM_AMSGRAD, SGD_MOMENTUM, SGD_PLAIN, adam_scalars
from flambeau_cuda._kernels._pool import (
    MAX_POOL2D,
    MAX_POOL2D_BACKWARD,
    MAX_POOL2D_BACKWARD_I32,
    MAX_POOL2D_I32,
    _pool_geometry,
)
from flambeau_cuda._kernels._rnn import (
    GRU_CELL,
    GRU_CELL_BACKWARD,
    LSTM_CELL,
    LSTM_CELL_BACKWARD,
)
from flambeau_cuda._kernels._softmax import (
    LOG_SOFTMAX_GRAD,
    LOG_SOFTMAX_OUT,
    SOFTMAX_GRAD,
    SOFTMAX_OUT,
)
from flambeau_cuda._rng import DRAW_SPECS, KEEP_SPECS

SPECS = {"sgd_plain": SGD_PLAIN, "sgd_momentum": SGD_MOMENTUM, "adam": ADAM,
         "adam_amsgrad": ADAM_AMSGRAD, "im2col": IM2COL, "col2im": COL2IM,
         "im2col_i32": IM2COL_I32, "col2im_i32": COL2IM_I32,
         "lstm_cell": LSTM_CELL, "lstm_cell_backward": LSTM_CELL_BACKWARD,
         "gru_cell": GRU_CELL, "gru_cell_backward": GRU_CELL_BACKWARD,
         "max_pool2d": MAX_POOL2D, "max_pool2d_backward": MAX_POOL2D_BACKWARD,
         "max_pool2d_i32": MAX_POOL2D_I32, "max_pool2d_backward_i32": MAX_POOL2D_BACKWARD_I32,
         "batch_norm_running": RUNNING,
         "softmax_out": SOFTMAX_OUT, "log_softmax_out": LOG_SOFTMAX_OUT,
         "softmax_grad": SOFTMAX_GRAD, "log_softmax_grad": LOG_SOFTMAX_GRAD,
         **{spec.name: spec for spec in (*FORWARD.values(), *BACKWARD.values(),
                                          *FROM_OUTPUT.values())}}


@pytest.fixture(scope="module")
def lib():
    if not have_gxx():
        pytest.skip("g++ is not installed")
    kernels = {(name, dt): Kernel(f"{name}_{dt}", spec, dt) for name, spec in SPECS.items()
               for dt in ("float32", "float64")}
    return host_library(kernels.values()), kernels


def _cpu():
    import flambeau

    dev = flambeau.device("cpu")
    dev.backend  # resolves dev._xp, which the generic optimizer code reads
    return dev


def _arrays(dtype, n=7, seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal(n).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("momentum", "dampening", "nesterov", "wd", "maximize"), [
    (0.0, 0.0, False, 0.0, False), (0.0, 0.0, False, 0.1, True), (0.9, 0.0, False, 0.0, False),
    (0.9, 0.3, False, 0.01, True), (0.8, 0.0, True, 0.05, False)])
def test_sgd_matches_flambeau_optim(lib, dtype, momentum, dampening, nesterov, wd, maximize):
    optim = pytest.importorskip("flambeau.optim._sgd")
    from flambeau.optim._optimizer import _Scratch

    lib, kernels = lib
    p, g, b = _arrays(dtype)
    opts = dict(lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=wd, maximize=maximize)
    ref_p = p.copy()
    ref_b = optim.sgd_step(np, _Scratch(), _cpu(), [ref_p], [g], [None], **opts)
    ref_b = optim.sgd_step(np, _Scratch(), _cpu(), [ref_p], [g], ref_b, **opts)
    for first in (True, False):
        if momentum == 0:
            call(lib, kernels[("sgd_plain", dtype)], p.size, g, 0.1, wd, maximize, p)
        else:
            call(lib, kernels[("sgd_momentum", dtype)], p.size, g, 0.1, momentum, dampening, wd,
                 nesterov, maximize, first, p, b)
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(p, ref_p, rtol=tol, atol=tol)
    if momentum:
        np.testing.assert_allclose(b, ref_b[0], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("wd", "amsgrad", "maximize", "decoupled"), [
    (0.0, False, False, False), (0.1, False, True, False), (0.1, True, False, True),
    (0.0, True, True, False)])
def test_adam_matches_flambeau_optim(lib, dtype, wd, amsgrad, maximize, decoupled):
    optim = pytest.importorskip("flambeau.optim._adam")
    from flambeau.optim._optimizer import _Scratch

    lib, kernels = lib
    p, g, m = _arrays(dtype)
    v, vmax = np.abs(m) * 0.1, np.abs(m) * 0.2
    ref = [a.copy() for a in (p, m, v, vmax)]
    opts = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=wd, amsgrad=amsgrad,
                maximize=maximize, decoupled_weight_decay=decoupled)
    for step in (1.0, 2.0):
        optim.adam_step(np, _Scratch(), _cpu(), [ref[0]], [g], [ref[1]],
                        [ref[2]], [ref[3]] if amsgrad else None, [step], **opts)
        step_size, bc2 = adam_scalars(0.01, 0.9, 0.999, step)
        args = (g, step_size, 0.9, 0.999, 1e-8, wd, 1 - 0.01 * wd, bc2, maximize, decoupled,
                p, m, v)
        if amsgrad:
            call(lib, kernels[("adam_amsgrad", dtype)], p.size, *args, vmax)
        else:
            call(lib, kernels[("adam", dtype)], p.size, *args)
    tol = 2e-6 if dtype == "float32" else 1e-12
    for ours, theirs in zip((p, m, v), ref[:3], strict=False):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def _conv_reference(x, w, stride, pads, dilation, groups):
    """Direct convolution with NumPy (loops over kernel taps only)."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    oh = (h + sum(pads[0]) - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + sum(pads[1]) - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, co, oh, ow), x.dtype)
    cog = co // groups
    for g in range(groups):
        for a in range(kh):
            for b in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg,
                           a * dilation[0]:a * dilation[0] + stride[0] * (oh - 1) + 1:stride[0],
                           b * dilation[1]:b * dilation[1] + stride[1] * (ow - 1) + 1:stride[1]]
                y[:, g * cog:(g + 1) * cog] += np.einsum("nchw,oc->nohw", patch,
                                                         w[g * cog:(g + 1) * cog, :, a, b])
    return y


#: the kernels' index arithmetic: 64-bit, and the 32-bit variants used below 2**31 elements
WIDTHS = ["", "_i32"]


def _host_conv(lib, kernels, x, w, stride, pads, dilation, groups, width=""):
    """The kernel module's forward (im2col + grouped GEMM) with the host-compiled im2col."""
    geo = geometry(x.shape, w.shape, stride, pads, dilation)
    c, _, _, oh, ow, kh, kw = geo[:7]
    col = np.empty((x.shape[0] * oh * ow, c * kh * kw), x.dtype)
    call(lib, kernels[("im2col" + width, x.dtype.name)], col.size, x, *geo, col)
    cols = col.reshape(col.shape[0], groups, -1).transpose(1, 0, 2)
    wg = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    y = np.matmul(cols, wg).transpose(1, 0, 2)
    return y.reshape(x.shape[0], oh, ow, w.shape[0]).transpose(0, 3, 1, 2), col, geo


CASES = [((1, 1), ((0, 0), (0, 0)), (1, 1), 1), ((2, 1), ((1, 1), (2, 0)), (1, 2), 1),
         ((2, 2), ((1, 0), (1, 1)), (2, 1), 2)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("stride", "pads", "dilation", "groups"), CASES)
def test_im2col_forward_matches_direct_convolution(lib, stride, pads, dilation, groups, width):
    lib, kernels = lib
    r = np.random.default_rng(1)
    x = r.standard_normal((2, 4, 7, 6))
    w = r.standard_normal((6, 4 // groups, 3, 2))
    y, _, _ = _host_conv(lib, kernels, x, w, stride, pads, dilation, groups, width)
    np.testing.assert_allclose(y, _conv_reference(x, w, stride, pads, dilation, groups),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("stride", "pads", "dilation", "groups"), CASES)
def test_col2im_is_the_adjoint_of_im2col(lib, stride, pads, dilation, groups, width):
    """<im2col(x), c> == <x, col2im(c)> for random x and c."""
    lib, kernels = lib
    r = np.random.default_rng(2)
    x = r.standard_normal((2, 4, 7, 6))
    w = np.zeros((6, 4 // groups, 3, 2))
    _, col, geo = _host_conv(lib, kernels, x, w, stride, pads, dilation, groups, width)
    c = r.standard_normal(col.shape)
    back = np.empty_like(x)
    call(lib, kernels[("col2im" + width, "float64")], back.size, c, *geo, back)
    assert np.isclose((col * c).sum(), (x * back).sum(), rtol=1e-12)


def _assert_all_close(ours, reference, dtype):
    """A kernel's arrays against the generic step's, to the rounding of ``dtype``."""
    tol = 1e-6 if dtype == "float32" else 1e-14
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _generic_rnn_steps():
    return pytest.importorskip("flambeau.nn.modules._rnn_layers")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_cell_matches_the_generic_step(lib, dtype):
    layers = _generic_rnn_steps()
    lib, kernels = lib
    r = np.random.default_rng(3)
    hidden, batch = 3, 5
    # large pre-activations saturate the gates (exp overflows to inf on purpose)
    act = (r.standard_normal((4 * hidden, batch)) * np.r_[1, 1, 1, 1, 1, 60][:, None].repeat(
        2, 0)).astype(dtype)
    c_prev = r.standard_normal((hidden, batch)).astype(dtype)
    ref = [act.copy()] + [np.empty_like(c_prev) for _ in range(5)]
    with np.errstate(over="ignore"):
        layers._lstm_cell(np, ref[0], c_prev, *ref[1:])
    ours = [act.copy()] + [np.empty_like(c_prev) for _ in range(5)]
    call(lib, kernels[("lstm_cell", dtype)], c_prev.size, c_prev, c_prev.size, *ours)
    _assert_all_close(ours, ref, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("s", [0, 2])
def test_lstm_cell_backward_matches_the_generic_step(lib, dtype, s):
    layers = _generic_rnn_steps()
    lib, kernels = lib
    r = np.random.default_rng(4)
    hidden, batch, steps = 3, 4, 3
    arr = lambda *shape: r.standard_normal(shape).astype(dtype)  # noqa: E731
    dh, go, dc, k_c, k_o, f = (arr(hidden, batch) for _ in range(6))
    k3 = arr(3, hidden, batch)
    outs = {}
    for who in ("generic", "kernel"):
        h, c = dh.copy(), dc.copy()
        d, dflat = np.zeros((4 * hidden, batch), dtype), np.zeros((4 * hidden, steps, batch), dtype)
        if who == "generic":
            layers._lstm_cell_backward(np, h, go, c, k_c, k3, k_o, f, d, dflat, s)
        else:
            call(lib, kernels[("lstm_cell_backward", dtype)], dh.size, go, k_c, k_o, f, k3,
                 dh.size, batch, s, steps, h, c, d, dflat)
        outs[who] = (c, d, dflat)
    _assert_all_close(outs["kernel"], outs["generic"], dtype)
    assert np.count_nonzero(outs["kernel"][2]) == 4 * hidden * batch  # column s only


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_cell_matches_the_generic_step(lib, dtype):
    layers = _generic_rnn_steps()
    lib, kernels = lib
    r = np.random.default_rng(5)
    hidden, batch = 3, 4
    # large pre-activations saturate the gates (exp overflows to inf on purpose)
    act = (r.standard_normal((batch, 3 * hidden)) * np.r_[1, 60, 1][:, None].repeat(
        hidden, 1).ravel()).astype(dtype)
    hs = r.standard_normal((batch, 3 * hidden)).astype(dtype)
    h_prev = r.standard_normal((batch, hidden)).astype(dtype)
    ref_act, ref_h = act.copy(), np.empty_like(h_prev)
    with np.errstate(over="ignore"):
        layers._gru_cell(np, ref_act, hs, h_prev, ref_h, tmp=np.empty_like(h_prev))
    ours_act, ours_h = act.copy(), np.empty_like(h_prev)
    call(lib, kernels[("gru_cell", dtype)], h_prev.size, h_prev, hs, hidden, ours_act, ours_h)
    _assert_all_close((ours_act, ours_h), (ref_act, ref_h), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_cell_backward_matches_the_generic_step(lib, dtype):
    layers = _generic_rnn_steps()
    lib, kernels = lib
    r = np.random.default_rng(6)
    hidden, batch = 3, 4
    arr = lambda *shape: r.standard_normal(shape).astype(dtype)  # noqa: E731
    dh, go, k_n, k_z, k_r, rr, z = (arr(batch, hidden) for _ in range(7))
    outs = {}
    for who in ("generic", "kernel"):
        h, d = dh.copy(), np.zeros((batch, 3 * hidden), dtype)
        dn, tmp = np.empty_like(dh), np.empty_like(dh)
        if who == "generic":
            layers._gru_cell_backward(np, h, go, k_n, k_z, k_r, rr, z, d, dn, tmp)
        else:
            call(lib, kernels[("gru_cell_backward", dtype)], dh.size, go, k_n, k_z, k_r, rr, z,
                 hidden, h, dn, tmp, d)
        outs[who] = (d, dn, tmp)
    _assert_all_close(outs["kernel"], outs["generic"], dtype)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil"), [
    (3, 2, 1, 1, False), (2, 2, 0, 1, False), ((3, 2), (1, 2), (1, 0), (2, 1), False),
    (3, 2, 1, 1, True), (2, 3, 1, 1, True)])
def test_max_pool2d_kernels_match_flambeau_nn(lib, kernel, stride, padding, dilation, ceil,
                                              width):
    pool = pytest.importorskip("flambeau.nn.functional._pool")
    import flambeau

    lib, kernels = lib
    r = np.random.default_rng(6)
    x = r.standard_normal((2, 3, 9, 8))
    x[0, 1, 4, 4] = x[1, 2, 0, 0] = np.nan
    x[1, 0, 2:4, 2:4] = 1.5  # ties: the first maximum wins
    geo = pool.pool_geometry("max_pool2d", x.shape[2:], kernel, stride, padding, dilation,
                             ceil, 2)
    kernel, stride, pads, dilation, out = geo
    ref_y, ref_arg = pool.max_pool_forward(np, x, kernel, stride, pads, dilation)
    shape_geo = _pool_geometry(x.shape, kernel, stride, pads, dilation)
    assert shape_geo[3:5] == out
    y = np.empty(x.shape[:2] + out)
    arg = np.empty(y.shape, np.int32)
    call(lib, kernels[("max_pool2d" + width, "float64")], y.size, x, *shape_geo, y, arg)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(arg, ref_arg)
    g = r.standard_normal(y.shape)
    dx = np.empty_like(x)
    call(lib, kernels[("max_pool2d_backward" + width, "float64")], x.size, g, arg, *shape_geo,
         dx)
    ref_dx = pool._MaxPoolAdjoint.apply(flambeau.tensor(g), flambeau.tensor(ref_arg),
                                        (kernel, stride, pads, dilation), x.shape)
    np.testing.assert_allclose(dx, ref_dx.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_passes_match_flambeau_core(lib, dtype, log):
    """The elementwise passes after the reductions (m = max, s = sum(exp(x - m)), and sum(g * y)
    or sum(g)), against flambeau's generic softmax and its gradient."""
    import flambeau

    lib, kernels = lib
    r = np.random.default_rng(7)
    x = (r.standard_normal((4, 6)) * 5).astype(dtype)
    g = r.standard_normal(x.shape).astype(dtype)
    wide = lambda a: np.ascontiguousarray(np.broadcast_to(a, x.shape))  # noqa: E731
    m = x.max(1, keepdims=True)
    s = np.exp(x.astype(float) - m).sum(1, keepdims=True).astype(dtype)
    name = "log_softmax" if log else "softmax"
    y = np.empty_like(x)
    call(lib, kernels[(name + "_out", dtype)], x.size, x, wide(m), wide(s), y)
    xt = flambeau.tensor(x, requires_grad=True)
    ref = getattr(flambeau, name)(xt, 1)
    ref.backward(flambeau.tensor(g))
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(y, ref.detach().numpy(), rtol=tol, atol=tol)
    reduced = g.sum(1, keepdims=True) if log else (g * y).sum(1, keepdims=True)
    gx = np.empty_like(x)
    call(lib, kernels[(name + "_grad", dtype)], x.size, g, y, wide(reduced), gx)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_running_statistics_update_matches_flambeau_nn(lib, dtype):
    norm = pytest.importorskip("flambeau.nn.functional._norm")
    import flambeau

    lib, kernels = lib
    r, s, _ = _arrays(dtype)
    ref = flambeau.tensor(r.copy())
    norm._update_running(ref, flambeau.tensor(s), 0.1, 1.25)
    call(lib, kernels[("batch_norm_running", dtype)], r.size, s, 0.1, 1.25, r)
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(r, ref.numpy(), rtol=tol, atol=tol)


#: activation -> (flambeau-nn class name, parameters)
ACTIVATIONS = {"gelu": ("_GeluErf", ()), "gelu_tanh": ("_GeluTanh", ()), "silu": ("_Silu", ()),
               "mish": ("_Mish", ()), "elu": ("_Elu", (1.3, 1.05)), "celu": ("_Celu", (0.7,)),
               "leaky_relu": ("_LeakyRelu", (0.02,)), "softplus": ("_Softplus", (1.5, 20.0)),
               "hardsigmoid": ("_Hardsigmoid", ()), "hardswish": ("_Hardswish", ())}


def test_every_activation_kernel_is_tested():
    assert set(ACTIVATIONS) == set(FORWARD) == set(BACKWARD)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_kernels_match_flambeau_nn(lib, name, dtype):
    act = pytest.importorskip("flambeau.nn.functional._activation")
    import flambeau

    lib, kernels = lib
    cls, params = getattr(act, ACTIVATIONS[name][0]), ACTIVATIONS[name][1]
    r = np.random.default_rng(5)
    x = np.concatenate([r.uniform(-40, 40, 200), r.standard_normal(200) * 3,
                        [0.0, -3.0, 3.0, 30.0, -30.0, np.nan]]).astype(dtype)
    g = r.standard_normal(x.shape).astype(dtype)
    y, gx = np.empty_like(x), np.empty_like(x)
    call(lib, kernels[(name, dtype)], x.size, x, *params, y)
    call(lib, kernels[(name + "_backward", dtype)], x.size, g, x, *params, gx)
    with np.errstate(all="ignore"):
        ref_y = cls._fwd(np, x, *params)
        xt, yt = flambeau.tensor(x), flambeau.tensor(ref_y)
        ref_gx = cls._grad(flambeau.tensor(g), xt, yt, *params).numpy()
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y, ref_y, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx, ref_gx, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FROM_OUTPUT))
def test_gradients_from_the_output_match_flambeau_core(lib, name, dtype):
    """relu, sigmoid and tanh's gradients from their saved output against core's own array
    formula, NaN and infinite gradients included."""
    import flambeau

    lib, kernels = lib
    r = np.random.default_rng(6)
    x = np.concatenate([r.standard_normal(300) * 4, [0.0, -0.0, np.nan, np.inf, -np.inf]])
    out = getattr(flambeau, name)(flambeau.tensor(x.astype(dtype))).numpy()
    g = r.standard_normal(out.shape).astype(dtype)
    g[:3] = [np.nan, np.inf, -np.inf]
    g[-5:-2] = np.nan  # at relu's zeros (where torch's gradient is 0) and at a NaN output
    gx = np.empty_like(out)
    call(lib, kernels[(name + "_backward_from_output", dtype)], out.size, g, out, gx)
    cls = getattr(flambeau._ops.elementwise, name.capitalize())
    with np.errstate(all="ignore"):
        want = cls._array_grad(np, g, out)
    tol = 2e-7 if dtype == "float32" else 1e-15
    np.testing.assert_allclose(gx, want, rtol=tol, atol=tol)


def test_every_output_gradient_has_a_core_op_that_looks_it_up():
    import flambeau

    for name, spec in FROM_OUTPUT.items():
        cls = getattr(flambeau._ops.elementwise, name.capitalize())
        assert cls._array_grad is not None and cls._array_grad_kernel == spec.name


@pytest.mark.skipif(not have_nvcc(), reason="nvcc is not installed")
def test_every_kernel_compiles_with_nvcc():
    kernels = [Kernel(f"{name}_{dt}", spec, dt) for name, spec in SPECS.items()
               for dt in ("float32", "float64")]
    kernels += [Kernel(f"rng_{k}", spec, "int64" if k == "integers" else
                       ("float64" if k.endswith("64") else "float32"))
                for k, spec in DRAW_SPECS.items()]
    kernels += [Kernel(f"keep_{k}_{dt}", spec, dt) for k, spec in KEEP_SPECS.items()
                for dt in ("float32", "float64")]
    done = compile_device(kernels)
    assert done.returncode == 0, done.stderr[-3000:]

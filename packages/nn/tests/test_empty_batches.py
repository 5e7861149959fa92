"""Zero-size inputs (an empty batch, and the other empty dims PyTorch takes): parity with
torch of shapes, dtypes, values and gradients (through ``.sum().backward()``), and of the
errors torch raises for the empty inputs it refuses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _helpers_b import load_from_torch

import flambeau
import flambeau.nn.functional as F

pytestmark = pytest.mark.parity

RNG = np.random.default_rng(0)
LONG = np.int64


def _a(*shape):
    return RNG.standard_normal(shape)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out] if out is not None else []


def _numpy(t):
    return t.detach().cpu().numpy()


def _dtype(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _assert_same(f, t, what):
    assert tuple(f.shape) == tuple(t.shape), (what, tuple(f.shape), tuple(t.shape))
    assert _dtype(f) == _dtype(t), (what, f.dtype, t.dtype)
    np.testing.assert_allclose(_numpy(f), _numpy(t), rtol=1e-6, atol=1e-9, equal_nan=True,
                               err_msg=what)


def check(fn, *arrays, module=None):
    """Run ``fn(lib, functional, module, *tensors)`` with torch and with flambeau on the same
    arrays (float arrays become leaves that require grad), ``module(lib)`` built for both
    (flambeau's loaded with torch's state). Compares every output, then the gradients of
    the inputs and of the module's parameters through the sum of the differentiable outputs.
    Returns flambeau's outputs."""
    torch = pytest.importorskip("torch")
    mods = {}
    if module is not None:
        torch.manual_seed(0)
        tm, fm = module(torch).double(), module(flambeau).double()
        load_from_torch(fm, tm)
        mods = {torch: tm, flambeau: fm}
    runs = []
    for lib, fun in ((torch, torch.nn.functional), (flambeau, F)):
        xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray)
              else a for a in arrays]
        mod = mods.get(lib)
        outs = _flat(fn(lib, fun, mod, *xs))
        diff = [o for o in outs if o.requires_grad]
        if diff:
            sum(o.sum() for o in diff).backward()
        leaves = [x for x in xs if isinstance(x, (torch.Tensor, flambeau.Tensor))
                  and x.requires_grad]
        params = [p for _, p in mod.named_parameters()] if mod is not None else []
        runs.append((outs, [x.grad for x in leaves + params], bool(diff)))
    (touts, tgrads, tdiff), (fouts, fgrads, fdiff) = runs
    assert len(fouts) == len(touts)
    assert fdiff == tdiff
    for i, (f, t) in enumerate(zip(fouts, touts)):
        _assert_same(f, t, f"output {i}")
    for i, (f, t) in enumerate(zip(fgrads, tgrads)):
        assert (f is None) == (t is None), f"gradient {i}: {f} vs {t}"
        if t is not None:
            _assert_same(f, t, f"gradient {i}")
    return fouts


def check_error(fn, exc, match):
    """Both libraries raise ``exc`` (with a message matching ``match``) for ``fn``."""
    torch = pytest.importorskip("torch")
    for lib, fun in ((torch, torch.nn.functional), (flambeau, F)):
        with pytest.raises(exc, match=match):
            fn(lib, fun)


# ------------------------------------------------------------------ convolutions

# (batch, in channels, out channels, groups, kwargs); the shapes pick each generic path: few
# input channels (NCHW products), many (channels-last im2col), grouped, depthwise
CONV_CASES = [
    (0, 2, 3, 1, {}),
    (0, 1, 3, 1, dict(padding=1)),
    (0, 8, 6, 1, dict(stride=2, padding=1)),
    (0, 4, 6, 2, {}),
    (0, 4, 4, 4, dict(padding=1)),
    (0, 6, 6, 6, dict(stride=2, dilation=2)),
    (0, 4, 4, 1, dict(padding="same", dilation=2)),
    (2, 0, 3, 1, {}),  # zero channels: torch's result has no channels (bias grad zeros)
    (0, 0, 3, 1, dict(padding=1)),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("n, c, co, groups, kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_empty(nd, n, c, co, groups, kw, bias):
    conv = f"conv{nd}d"
    arrays = [_a(n, c, *(5,) * nd), _a(co, c // groups, *(3,) * nd)] + ([_a(co)] if bias else [])
    outs = check(lambda lib, fun, _, *t: getattr(fun, conv)(*t, groups=groups, **kw), *arrays)
    assert outs[0].shape[0] == n


TRANSPOSE_CASES = [
    (0, 2, 3, 1, {}),
    (0, 1, 3, 1, dict(stride=2)),
    (0, 8, 6, 1, dict(stride=2, padding=1, output_padding=1)),
    (0, 4, 6, 2, dict(dilation=2)),
    (0, 4, 4, 4, dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("n, c, co, groups, kw", TRANSPOSE_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_empty(nd, n, c, co, groups, kw, bias):
    conv = f"conv_transpose{nd}d"
    arrays = [_a(n, c, *(5,) * nd), _a(c, co // groups, *(3,) * nd)] + ([_a(co)] if bias else [])
    check(lambda lib, fun, _, *t: getattr(fun, conv)(*t, groups=groups, **kw), *arrays)


def test_conv_transpose2d_reported_case():
    outs = check(lambda lib, fun, _, x, w: fun.conv_transpose2d(x, w), np.zeros((0, 2, 5, 5)),
                 np.ones((2, 3, 3, 3)))
    assert tuple(outs[0].shape) == (0, 3, 7, 7)


def test_conv_empty_float32_unbatched_and_modules():
    check(lambda lib, fun, _, x, w: fun.conv2d(x.float(), w.float(), padding=1),
          _a(0, 3, 4, 4), _a(5, 3, 3, 3))
    check(lambda lib, fun, _, x, w, b: fun.conv2d(x, w, b), _a(0, 5, 5), _a(3, 0, 3, 3), _a(3))
    check(lambda lib, fun, m, x: m(x), _a(0, 4, 5, 5),
          module=lambda lib: lib.nn.Conv2d(4, 6, 3, groups=2, padding=1, padding_mode="reflect"))
    check(lambda lib, fun, m, x: m(x), _a(0, 4, 3, 3, 3),
          module=lambda lib: lib.nn.ConvTranspose3d(4, 6, 2, stride=2, groups=2))
    check(lambda lib, fun, m, x: m(x, output_size=[11, 11]), _a(0, 4, 5, 5),
          module=lambda lib: lib.nn.ConvTranspose2d(4, 2, 3, stride=2))


def test_conv_empty_errors():
    z = lambda lib, *s: lib.zeros(*s)  # noqa: E731
    check_error(lambda lib, fun: fun.conv2d(z(lib, 2, 2, 5, 5), z(lib, 0, 2, 3, 3)),
                RuntimeError, "expected weight to be at least 1 at dimension 0")
    check_error(lambda lib, fun: fun.conv1d(z(lib, 0, 4, 5), z(lib, 0, 2, 3), groups=2),
                RuntimeError, "expected weight to be at least 2 at dimension 0")
    check_error(lambda lib, fun: fun.conv_transpose2d(z(lib, 2, 0, 5, 5), z(lib, 0, 3, 3, 3)),
                RuntimeError, "expected weight to be at least 1 at dimension 0")
    check_error(lambda lib, fun: fun.conv_transpose2d(z(lib, 2, 2, 5, 5).double(),
                                                      z(lib, 2, 0, 3, 3).double()),
                RuntimeError, "non-empty")
    for op, w in (("conv2d", (3, 2, 1, 1)), ("conv_transpose2d", (2, 3, 1, 1))):
        check_error(lambda lib, fun: getattr(fun, op)(z(lib, 2, 2, 0, 5), z(lib, *w), padding=1),
                    RuntimeError, "Only zero batch or zero channel inputs are supported")
    check_error(lambda lib, fun: fun.conv2d(z(lib, 2, 2, 5, 5).double(),
                                            z(lib, 3, 2, 0, 3).double()),
                RuntimeError, "kernel size should be greater than zero")


# ------------------------------------------------------------------ pooling

MAX_POOL_KW = [
    dict(kernel_size=2),
    dict(kernel_size=2, return_indices=True),
    dict(kernel_size=3, stride=1, padding=1, return_indices=True),  # overlapping windows
    dict(kernel_size=2, ceil_mode=True, return_indices=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2, return_indices=True),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", MAX_POOL_KW)
def test_max_pool_empty_batch(nd, kw):
    check(lambda lib, fun, _, x: getattr(fun, f"max_pool{nd}d")(x, **kw), _a(0, 2, *(5,) * nd))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
@pytest.mark.parametrize("with_size", [False, True])
def test_max_unpool_empty_batch(nd, kw, with_size):
    def fn(lib, fun, _, x):
        y, i = getattr(fun, f"max_pool{nd}d")(x, return_indices=True, **kw)
        size = x.shape[-nd:] if with_size else None
        return getattr(fun, f"max_unpool{nd}d")(y, i, output_size=size, **kw)

    check(fn, _a(0, 2, *(5,) * nd))


def test_max_unpool2d_reported_case():
    outs = check(lambda lib, fun, _, x: fun.max_unpool2d(
        *fun.max_pool2d(x, 2, return_indices=True), 2), np.zeros((0, 2, 4, 4)))
    assert tuple(outs[0].shape) == (0, 2, 4, 4)


AVG_POOL_KW = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kw", AVG_POOL_KW)
def test_avg_and_lp_pool_empty_batch(nd, kw):
    x = _a(0, 2, *(5,) * nd)
    check(lambda lib, fun, _, x: getattr(fun, f"avg_pool{nd}d")(x, **kw), x)
    lp_kw = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "ceil_mode")}
    check(lambda lib, fun, _, x: getattr(fun, f"lp_pool{nd}d")(x, 2, **lp_kw), x)
    if nd > 1:
        check(lambda lib, fun, _, x: getattr(fun, f"avg_pool{nd}d")(x, 2, divisor_override=3), x)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 3, 7])
def test_adaptive_pool_empty_batch(nd, size):
    x = _a(0, 2, *(5,) * nd)
    check(lambda lib, fun, _, x: getattr(fun, f"adaptive_avg_pool{nd}d")(x, size), x)
    check(lambda lib, fun, _, x: getattr(fun, f"adaptive_max_pool{nd}d")(
        x, size, return_indices=True), x)


def test_adaptive_avg_pool_global_of_empty_dims_is_nan():
    # a global average pool is a mean: over an empty dim, NaN (torch takes it)
    outs = check(lambda lib, fun, _, x: fun.adaptive_avg_pool2d(x, 1), np.zeros((2, 2, 0, 4)))
    assert np.isnan(_numpy(outs[0])).all()


def test_adaptive_avg_pool_takes_zero_channels():
    def fn(lib, fun, _, x):
        with lib.no_grad():  # forward only: torch's backward refuses them
            return fun.adaptive_avg_pool2d(x, 2), fun.adaptive_avg_pool1d(x[..., 0], 3)

    check(fn, np.zeros((2, 0, 4, 4)))


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("kw", [dict(output_size=3), dict(output_ratio=(0.5,) * 3)])
def test_fractional_max_pool_empty_batch(nd, kw):
    kw = {k: v[:nd] if isinstance(v, tuple) else v for k, v in kw.items()}

    def fn(lib, fun, _, x):
        samples = lib.zeros(0, 2, nd, dtype=lib.float64)
        return getattr(fun, f"fractional_max_pool{nd}d")(x, 2, return_indices=True,
                                                          _random_samples=samples, **kw)

    check(fn, _a(0, 2, *(6,) * nd))


def test_pool_modules_empty_batch():
    x = _a(0, 2, 4, 4)
    check(lambda lib, fun, _, x: lib.nn.MaxUnpool2d(2)(*lib.nn.MaxPool2d(
        2, return_indices=True)(x)), x)
    check(lambda lib, fun, _, x: lib.nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x), x)
    check(lambda lib, fun, _, x: lib.nn.AdaptiveMaxPool2d(3)(x.float()), x)
    check(lambda lib, fun, _, x: lib.nn.FractionalMaxPool3d(2, output_size=2)(x), _a(0, 2, 4, 4, 4))


@pytest.mark.parametrize("call", [
    lambda lib, fun: fun.max_pool2d(lib.zeros(2, 0, 4, 4), 2),
    lambda lib, fun: fun.max_pool2d(lib.zeros(0, 4, 4), 2),  # unbatched: no empty channels
    lambda lib, fun: fun.max_pool1d(lib.zeros(2, 0, 4), 2, return_indices=True),
    lambda lib, fun: fun.max_pool3d(lib.zeros(2, 2, 0, 4, 4), 1),
    lambda lib, fun: fun.avg_pool2d(lib.zeros(2, 0, 4, 4), 2),
    lambda lib, fun: fun.avg_pool3d(lib.zeros(0, 4, 4, 4), 2),
    lambda lib, fun: fun.lp_pool1d(lib.zeros(2, 0, 4), 2, 2),
    lambda lib, fun: fun.adaptive_max_pool2d(lib.zeros(2, 0, 4, 4), 2),
    lambda lib, fun: fun.adaptive_max_pool2d(lib.zeros(0, 2, 0, 4), 2),
    lambda lib, fun: fun.adaptive_avg_pool2d(lib.zeros(2, 2, 0, 4), 2),
    lambda lib, fun: fun.adaptive_avg_pool3d(lib.zeros(2, 0, 4, 4, 4), 2),
    lambda lib, fun: fun.max_unpool2d(lib.zeros(2, 0, 2, 2), lib.zeros(2, 0, 2, 2,
                                                                      dtype=lib.int64), 2),
])
def test_pool_refuses_other_empty_dims(call):
    check_error(call, RuntimeError, "non-batch dimension|0 dim batch size")


# ------------------------------------------------------------------ normalization

NORM_SHAPES = [(0, 4, 3), (0, 4), (0, 4, 3, 3), (0, 4, 2, 2, 2), (0, 6, 0)]


def test_group_norm_reported_case():
    outs = check(lambda lib, fun, _, x: fun.group_norm(x, 2), np.zeros((0, 4, 3)))
    assert tuple(outs[0].shape) == (0, 4, 3)


@pytest.mark.parametrize("shape", NORM_SHAPES)
def test_norms_empty_batch(shape):
    c = shape[1]
    x = _a(*shape)
    check(lambda lib, fun, _, x, w, b: fun.group_norm(x, 2, w, b), x, _a(c), _a(c))
    check(lambda lib, fun, _, x: fun.group_norm(x, 1), x)
    check(lambda lib, fun, _, x, w, b: fun.layer_norm(x, shape[-1:], w, b), x, _a(*shape[-1:]),
          _a(*shape[-1:]))
    check(lambda lib, fun, _, x, w, b: fun.layer_norm(x, shape[1:], w, b), x, _a(*shape[1:]),
          _a(*shape[1:]))
    check(lambda lib, fun, _, x, w: fun.rms_norm(x, shape[-1:], w), x, _a(*shape[-1:]))
    check(lambda lib, fun, m, x: m(x), x, module=lambda lib: lib.nn.GroupNorm(2, c))
    check(lambda lib, fun, m, x: m(x), x, module=lambda lib: lib.nn.LayerNorm(shape[1:]))
    if len(shape) >= 3:
        check(lambda lib, fun, _, x: fun.instance_norm(x), x)
        check(lambda lib, fun, _, x: fun.local_response_norm(x, 3), x)


def test_norms_zero_width():
    x = _a(2, 4, 0)
    check(lambda lib, fun, _, x, w, b: fun.layer_norm(x, (0,), w, b), x, _a(0), _a(0))
    check(lambda lib, fun, _, x, w, b: fun.layer_norm(x, (4, 0), w, b), x, _a(4, 0), _a(4, 0))
    check(lambda lib, fun, _, x: fun.instance_norm(x), x)
    check(lambda lib, fun, _, x: fun.group_norm(x, 2), x)


@pytest.mark.parametrize("shape", [(0, 4, 3), (2, 4, 0)])
def test_instance_norm_running_stats_of_empty_input(shape):
    # torch: an empty batch makes the running statistics NaN (a mean over no samples);
    # samples without elements leave them as they are
    def fn(lib, fun, m, x):
        with lib.no_grad():
            m.running_mean.fill_(0.5)
            m.running_var.fill_(2.0)
        return m(x), m.running_mean, m.running_var

    outs = check(fn, _a(*shape), module=lambda lib: lib.nn.InstanceNorm1d(
        4, track_running_stats=True))
    assert np.isnan(_numpy(outs[1])).all() == (shape[0] == 0)


def test_norm_errors_of_empty_inputs():
    z = lambda lib, *s: lib.zeros(*s)  # noqa: E731
    # torch's batch norm kernel reads weight[0]: affine instance norm of an empty batch, and
    # an affine batch norm without channels, raise IndexError there
    check_error(lambda lib, fun: fun.instance_norm(z(lib, 0, 4, 3), weight=z(lib, 4)),
                IndexError, "index 0 out of range")
    check_error(lambda lib, fun: lib.nn.InstanceNorm2d(4, affine=True)(z(lib, 0, 4, 3, 3)),
                IndexError, "index 0 out of range")
    check_error(lambda lib, fun: fun.batch_norm(z(lib, 2, 0, 3), z(lib, 0), z(lib, 0),
                                                bias=z(lib, 0)),
                IndexError, "index 0 out of range")
    check_error(lambda lib, fun: fun.instance_norm(z(lib, 0, 4, 1)), ValueError,
                "Expected more than 1 spatial element when training")


# ------------------------------------------------------------------ batch norm


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (0, 4)), ("BatchNorm1d", (0, 4, 3)),
                                        ("BatchNorm2d", (0, 4, 3, 3)),
                                        ("BatchNorm2d", (2, 4, 0, 3)),
                                        ("BatchNorm3d", (0, 4, 2, 2, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_training_on_empty_batch(cls, shape, momentum):
    # torch: an empty output, running statistics unchanged, the batch counted
    def fn(lib, fun, m, x):
        with lib.no_grad():
            m.running_mean.fill_(0.5)
            m.running_var.fill_(2.0)
        return m(x), m.running_mean, m.running_var, m.num_batches_tracked

    outs = check(fn, _a(*shape), module=lambda lib: getattr(lib.nn, cls)(4, momentum=momentum))
    assert np.all(_numpy(outs[1]) == 0.5) and np.all(_numpy(outs[2]) == 2.0)
    assert int(outs[3]) == 1


def test_batch_norm_functional_on_empty_batch():
    def fn(lib, fun, _, x, w, b):
        rm, rv = lib.full((4,), 0.5, dtype=lib.float64), lib.full((4,), 2.0, dtype=lib.float64)
        return fun.batch_norm(x, rm, rv, w, b, training=True), rm, rv

    check(fn, _a(0, 4, 3), _a(4), _a(4))
    check(lambda lib, fun, _, x: fun.batch_norm(x, None, None, training=True), _a(0, 4))
    check(lambda lib, fun, _, x: fun.batch_norm(x, None, None, training=True), _a(2, 0, 3))
    check(lambda lib, fun, m, x: m.eval()(x), _a(0, 4, 3),
          module=lambda lib: lib.nn.BatchNorm1d(4))


@pytest.mark.parametrize("shape", [(1, 4), (1, 4, 1), (1, 4, 1, 1)])
def test_batchnorm_still_refuses_one_value_per_channel(shape):
    check_error(lambda lib, fun: getattr(lib.nn, f"BatchNorm{max(len(shape) - 2, 1)}d")(4)(
        lib.zeros(*shape)), ValueError, "Expected more than 1 value per channel when training")
    check_error(lambda lib, fun: fun.batch_norm(lib.zeros(*shape), None, None, training=True),
                ValueError, "Expected more than 1 value per channel when training")


# ------------------------------------------------------------------ recurrent layers

RNN_CASES = [
    ("LSTM", {}, (5, 0, 3)),
    ("GRU", dict(batch_first=True), (0, 5, 3)),
    ("RNN", {}, (5, 0, 3)),
    ("RNN", dict(nonlinearity="relu", batch_first=True), (0, 2, 3)),
    ("LSTM", dict(num_layers=2, bidirectional=True), (4, 0, 3)),
    ("GRU", dict(num_layers=2, bidirectional=True), (4, 0, 3)),
    ("LSTM", dict(proj_size=2, batch_first=True), (0, 4, 3)),
    ("GRU", dict(bias=False), (3, 0, 3)),
]


@pytest.mark.parametrize("cls, kw, shape", RNN_CASES)
@pytest.mark.parametrize("with_state", [False, True])
def test_rnn_empty_batch(cls, kw, shape, with_state):
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    out_size = kw.get("proj_size") or 4
    arrays = [_a(*shape)]
    if with_state:
        arrays.append(_a(layers, 0, out_size))
        if cls == "LSTM":
            arrays.append(_a(layers, 0, 4))

    def fn(lib, fun, m, x, *state):
        if not state:
            return m(x)
        return m(x, tuple(state) if cls == "LSTM" else state[0])

    outs = check(fn, *arrays, module=lambda lib: getattr(lib.nn, cls)(3, 4, **kw))
    assert 0 in tuple(outs[0].shape)[:2]


def test_lstm_reported_case():
    outs = check(lambda lib, fun, m, x: m(x), np.zeros((5, 0, 3)),
                 module=lambda lib: lib.nn.LSTM(3, 4))
    assert [tuple(o.shape) for o in outs] == [(5, 0, 4), (1, 0, 4), (1, 0, 4)]


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_rnn_cells_empty_batch(cls):
    check(lambda lib, fun, m, x: m(x), _a(0, 3), module=lambda lib: getattr(lib.nn, cls)(3, 4))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("shape, batch_first", [((0, 2, 3), False), ((2, 0, 3), True),
                                                ((0, 3), False), ((0, 0, 3), False)])
def test_rnn_refuses_empty_sequences(cls, shape, batch_first):
    check_error(lambda lib, fun: getattr(lib.nn, cls)(3, 4, batch_first=batch_first)(
        lib.zeros(*shape)), RuntimeError, "Expected sequence length to be larger than 0 in RNN")


# ------------------------------------------------------------------ ctc_loss, affine_grid


@pytest.mark.parametrize("lp_shape, targets, lengths", [
    ((5, 0, 4), np.zeros((0, 3), LONG), (np.zeros(0, LONG), np.zeros(0, LONG))),
    ((5, 0, 4), np.zeros(0, LONG), (np.zeros(0, LONG), np.zeros(0, LONG))),
    ((0, 2, 4), np.ones((2, 3), LONG), (np.zeros(2, LONG), np.ones(2, LONG))),
    ((5, 2, 0), np.ones((2, 3), LONG), (np.full(2, 5, LONG), np.ones(2, LONG))),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_refuses_empty_log_probs(lp_shape, targets, lengths, reduction):
    def call(lib, fun):
        lp = lib.zeros(*lp_shape, requires_grad=True)
        return fun.ctc_loss(lp, lib.tensor(targets), lib.tensor(lengths[0]),
                            lib.tensor(lengths[1]), reduction=reduction)

    check_error(call, RuntimeError, "log_probs tensor must not be empty")


@pytest.mark.parametrize("size, align", [([0, 1, 4, 4], False), ([0, 1, 4, 4], None),
                                         ([2, 1, 0, 4], False), ([2, 0, 3, 4], True),
                                         ([2, 1, 1, 0], True)])
def test_affine_grid_refuses_empty_sizes(size, align):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's align_corners warnings
        check_error(lambda lib, fun: fun.affine_grid(lib.zeros(size[0], 2, 3), size,
                                                     align_corners=align),
                    ValueError, r"Expected non-zero, positive output size. Got \[" +
                    ", ".join(map(str, size)) + r"\]")


def test_affine_grid_empty_cases_torch_takes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a unit spatial size with align_corners=True skips torch's size check
        outs = check(lambda lib, fun, _, t: fun.affine_grid(t, [0, 1, 1, 4], align_corners=True),
                     _a(0, 2, 3))
    assert tuple(outs[0].shape) == (0, 1, 4, 2)
    for size in ([0, 1, 4, 4], [2, 1, 0, 4], [2, 0, 3, 4]):  # the generator checks nothing
        check(lambda lib, fun, _, t: lib.affine_grid_generator(t, size, False), _a(size[0], 2, 3))

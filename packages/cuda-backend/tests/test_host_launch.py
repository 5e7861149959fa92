"""The Python launch wrappers of the raw kernels, run unchanged on the host.

``_norm.batch_norm`` / ``batch_norm_backward`` and the multi-tensor optimizer updates of
``_multi.launch`` (``_optim.sgd_step`` / ``adam_step``) compile CUDA C with
``cupy.RawModule`` / ``cupy.RawKernel`` and launch it as ``kernel(grid, block, args)``. Their
C is tested on the host in ``test_raw_kernels.py``, but the wrappers themselves (argument
order and types, grid and block shapes, reshapes, declines, the nn and optim contracts) only
run on a GPU. Here ``flambeau_cuda._cupy.load`` returns :class:`FakeCupy`, a NumPy stand-in
whose raw kernels are the same C compiled by g++ and launched by ``_csource.RawLaunch``, which
checks every argument against the kernel's C signature (a wrong scalar type or a strided array
raises instead of being read as garbage) and runs every block of the grid (and every thread of
a block, but for ``__syncthreads`` reductions, run with ``blockDim.x`` 1).
"""

import numpy as np
import pytest
from _csource import RawLaunch, have_gxx, host_raw_library

import flambeau
from flambeau_cuda import _cupy
from flambeau_cuda._kernels import _multi, _norm, _optim

pytestmark = pytest.mark.skipif(not have_gxx(), reason="g++ is not installed")

norm = pytest.importorskip("flambeau.nn.functional._norm")
pytest.importorskip("flambeau.optim")

_LIBRARIES: dict = {}  # code -> its host library, compiled once per test session


class FakeCupy:
    """The part of CuPy the wrappers use, on NumPy; ``launches`` names the kernels run.

    ``empty`` and ``empty_like`` fill floats with NaN, as uninitialised device memory may be,
    so a slot a kernel fails to write shows."""

    __name__ = "fake_cupy"

    def __init__(self):
        self.launches = []
        self.zeros, self.zeros_like = np.zeros, np.zeros_like
        self.asarray, self.ascontiguousarray = np.asarray, np.ascontiguousarray

    @staticmethod
    def _nan(a):
        if a.dtype.kind == "f":
            a.fill(np.nan)
        return a

    def empty(self, shape, dtype=float, order="C"):
        return self._nan(np.empty(shape, dtype, order))

    def empty_like(self, a, dtype=None, order="K", shape=None):
        return self._nan(np.empty_like(a, dtype, order, shape=shape))

    def RawModule(self, code=None, **options):
        fake = self

        class Module:
            def get_function(self, name):
                return fake.RawKernel(code, name)

        return Module()

    def RawKernel(self, code, name, **options):
        lib = _LIBRARIES.get(code)
        if lib is None:
            lib = _LIBRARIES[code] = host_raw_library([code])
        kernel = RawLaunch(lib, code, name)

        def launch(grid, block, args):
            kernel(grid, block, args)
            self.launches.append(name)

        return launch

    def ElementwiseKernel(self, *args, **kwargs):
        raise AssertionError("an ElementwiseKernel cannot run on the host")


@pytest.fixture
def cupy_on_host(monkeypatch):
    """A :class:`FakeCupy` as ``_cupy.load()``, with empty caches of compiled kernels."""
    fake = FakeCupy()
    monkeypatch.setattr(_cupy, "load", lambda: fake)
    monkeypatch.setattr(_norm, "_built", {})
    monkeypatch.setattr(_multi, "_built", {})
    return fake


# --- the harness itself ---------------------------------------------------------------------

def test_the_launcher_checks_arguments_and_launch_shapes(cupy_on_host):
    code = _norm.source_for("float32")
    stats = cupy_on_host.RawKernel(code, "flambeau_bn_stats")
    sums = cupy_on_host.RawKernel(code, "flambeau_bn_sums")
    x, partial = np.ones((2, 3, 4), np.float32), np.zeros((3, 1, 2))
    u = np.uint32
    good = (x, x, partial, u(3), u(4), u(8), u(8), u(1), np.int32(0))
    sums((3, 1), (256,), good)
    np.testing.assert_array_equal(partial, [[[0.0, 0.0]]] * 3)  # x - x[0, c, 0]
    for bad in ((x, x, partial, u(3), u(4), u(8), u(8), u(1), np.int64(0)),  # int for int64
                (x, x, partial, u(3), u(4), 8, u(8), u(1), np.int32(0)),  # a Python int
                (x, x.astype(np.float64), partial, u(3), u(4), u(8), u(8), u(1), np.int32(0)),
                (x[:, :, ::2], x, partial, u(3), u(4), u(8), u(8), u(1), np.int32(0)),
                good[:-1], list(good)):
        with pytest.raises(TypeError):
            sums((3, 1), (256,), bad)
    for block in (512, 96, (16, 16)):  # over the 256 shared slots, not a power of two, 2-d
        with pytest.raises(ValueError):
            sums((3, 1), block, good)
    with pytest.raises(ValueError):
        stats((0,), (128,), ())
    # every thread of a block runs: a thread per channel over 130 channels in two blocks
    partial = np.zeros((130, 1, 2))
    partial[:, 0, 1] = 4.0  # sum of squares 4 over a count of 4: variance 1
    x = np.zeros((1, 130, 4), np.float32)
    st, coef = np.full((3, 130), np.nan, np.float32), np.full((130, 4), np.nan)
    stats((2,), (128,), (partial, x, np.uint64(0), np.uint64(0), st, coef, np.uint64(0),
                         np.uint64(0), u(130), u(4), u(1), np.float64(4), np.float64(0),
                         np.float64(0.1), np.float64(1)))
    np.testing.assert_array_equal(st, [[0] * 130, [1] * 130, [1] * 130])
    np.testing.assert_array_equal(coef, [[0, 1, 1, 0]] * 130)
    assert cupy_on_host.launches == ["flambeau_bn_sums", "flambeau_bn_stats"]


# --- batch norm's wrappers against nn's generic arrays ---------------------------------------

def _data(shape, dtype, affine, seed=0):
    r = np.random.default_rng(seed)
    c = shape[1]
    a = (r.standard_normal(shape) * 2 + 3).astype(dtype)
    w = r.standard_normal(c).astype(dtype) if affine in ("weight", "both") else None
    b = r.standard_normal(c).astype(dtype) if affine == "both" else None
    return a, w, b, r.standard_normal(shape).astype(dtype)


def _axes(a):
    return (0,) + tuple(range(2, a.ndim))


def _tol(dtype):
    return 2e-5 if np.dtype(dtype) == np.float32 else 1e-12


def _check_forward_and_backward(fake, a, w, b, g, running):
    """``_norm.batch_norm`` then ``batch_norm_backward`` against nn's generic arrays."""
    dtype, c = a.dtype, a.shape[1]
    r = np.random.default_rng(1)
    rm, rv = r.standard_normal(c).astype(dtype), r.random(c).astype(dtype) + 0.5
    before = rm.copy()
    k_rm, k_rv = (rm.copy(), rv.copy()) if running else (None, None)
    count = a.size // c
    args = (_axes(a), 1e-5)
    stats = (0.3, count / (count - 1))
    got = _norm.batch_norm(a, w, b, *args, k_rm, k_rv, *stats)
    want = norm._batch_norm_arrays(np, a, w, b, *args, *((rm, rv) if running else (None, None)),
                                   *stats)
    assert got is not None
    assert fake.launches == ["flambeau_bn_sums", "flambeau_bn_stats", "flambeau_bn_normalize"]
    tol = _tol(dtype)
    for name, x, y in zip(("out", "y", "rstd", "mean", "var"), got, want, strict=True):
        assert (x.shape, x.dtype) == (y.shape, y.dtype), name
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=name)
    assert not np.shares_memory(got[0], got[1])  # out may be changed in place, y is saved
    if running:
        np.testing.assert_allclose(k_rm, rm, rtol=tol, atol=tol)
        np.testing.assert_allclose(k_rv, rv, rtol=tol, atol=tol)
        assert not np.allclose(k_rm, before)  # updated in place
    fake.launches.clear()
    y, rstd = got[1], got[2]
    back = _norm.batch_norm_backward(g, y, rstd, w, _axes(a))
    ref = norm._batch_norm_backward_arrays(g, want[1], want[2], w, _axes(a))
    assert back is not None
    assert fake.launches == ["flambeau_bn_sums", "flambeau_bn_grad_coef", "flambeau_bn_grad"]
    for name, x, y in zip(("dx", "sum(g * y)", "sum(g)"), back, ref, strict=True):
        assert (x.shape, x.dtype) == (y.shape, y.dtype), name
        np.testing.assert_allclose(x, y, rtol=10 * tol, atol=10 * tol, err_msg=name)
    # the weight and bias gradients are separate arrays: each becomes a .grad without a copy
    assert not np.shares_memory(back[1], back[2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 3), (4, 2, 7), (3, 130), (2, 3, 1500)])
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize("running", [True, False])
def test_batch_norm_wrappers_match_nn(cupy_on_host, shape, dtype, affine, running):
    """(2, 3, 1500): two slices per channel in the sums; (3, 130): two blocks of channels."""
    a, w, b, g = _data(shape, dtype, affine)
    _check_forward_and_backward(cupy_on_host, a, w, b, g, running)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_wrappers_take_strided_inputs(cupy_on_host, dtype):
    a, w, b, g = _data((3, 5, 6, 8), dtype, "both")
    channels_last = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    _check_forward_and_backward(cupy_on_host, a[..., ::2], w, b, g[..., ::2], True)
    cupy_on_host.launches.clear()
    _check_forward_and_backward(cupy_on_host, channels_last, w, b, g.transpose(0, 1, 3, 2)
                                .copy().transpose(0, 1, 3, 2), False)


def test_batch_norm_with_a_constant_channel_and_far_from_zero(cupy_on_host):
    """A channel of one value: variance 0, not negative (rstd = 1 / sqrt(eps)); data at 1e4
    keeps its float32 variance (the sums are shifted by each channel's first element)."""
    r = np.random.default_rng(3)
    a = (r.standard_normal((4, 2, 9)) + 1e4).astype(np.float32)
    a[:, 1] = 7.0
    out, y, rstd, mean, var = _norm.batch_norm(a, None, None, (0, 2), 1e-5)
    assert var[0, 1, 0] == 0 and np.isclose(rstd[0, 1, 0], 1 / np.sqrt(1e-5))
    np.testing.assert_array_equal(out[:, 1], 0)
    want = a[:, 0].astype(np.float64).var()
    np.testing.assert_allclose(var[0, 0, 0], want, rtol=1e-5)


def test_batch_norm_declines(cupy_on_host):
    a, w, b, g = _data((3, 4, 5), "float32", "both")
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    declined = [
        (a.astype(np.float16), None, None, (0, 2)),
        (a, w, b, (0,)),  # not every axis but the channels'
        (a, w, b, (0, 1)),
        (a, w, b, (2, 0)),
        (a[0, 0], None, None, (0,)),  # 1-d
        (a, w.astype(np.float64), b, (0, 2)),  # a per-channel array of another dtype
        (a, w, b.astype(np.float64), (0, 2)),
        (a, np.repeat(w, 2)[::2], b, (0, 2)),  # strided
        (a, w[:3], b, (0, 2)),  # not one per channel
    ]
    for x, ww, bb, axes in declined:
        assert _norm.batch_norm(x, ww, bb, axes, 1e-5, rm, rv, 0.5, 1.0) is None
    for stats in ((rm.astype(np.float64), rv), (rm, rv.astype(np.float64)), (rm, rv[:3])):
        assert _norm.batch_norm(a, w, b, (0, 2), 1e-5, *stats, 0.5, 1.0) is None
    np.testing.assert_array_equal(rm, 0)
    np.testing.assert_array_equal(rv, 1)
    assert cupy_on_host.launches == []
    assert _norm.batch_norm(a, w, b, [0, 2], 1e-5, rm, rv, 0.5, 1.0) is not None  # a list
    cupy_on_host.launches.clear()
    y, rstd = np.ones_like(a), np.ones((1, 4, 1), np.float32)
    for args in ((g.astype(np.float16), y.astype(np.float16), rstd.astype(np.float16), None),
                 (g, y.astype(np.float64), rstd, w),  # g and y of two dtypes
                 (g, y, rstd.astype(np.float64), w),
                 (g, y, rstd, w.astype(np.float64)),
                 (g, y, rstd[:, :3], w)):
        assert _norm.batch_norm_backward(*args, (0, 2)) is None
    assert _norm.batch_norm_backward(g, y, rstd, w, (0,)) is None
    assert cupy_on_host.launches == []


def test_batch_norm_backward_declines_a_strided_rstd(cupy_on_host):
    """An ``rstd`` with one value per channel in its kept dims but not contiguous: its
    pointer cannot be passed (the check on ``rstd.reshape(-1)``, a strided view, sees it)."""
    a, w, _, g = _data((3, 4, 5), "float64", "weight")
    _, y, rstd, _, _ = norm._batch_norm_arrays(np, a, w, None, (0, 2), 1e-5)
    strided = np.repeat(rstd, 2, axis=2)[:, :, :1]
    assert not strided.flags.c_contiguous and np.array_equal(strided, rstd)
    assert _norm.batch_norm_backward(g, y, strided, w, (0, 2)) is None
    assert cupy_on_host.launches == []
    assert _norm.batch_norm_backward(g, y, strided.copy(), w, (0, 2)) is not None


# --- end to end through flambeau-nn's modules ------------------------------------------------

def _with_kernels(monkeypatch, names):
    """The CPU backend's kernel table with the CUDA backend's ``names`` added (until the test
    ends)."""
    table = flambeau.device("cpu").backend.kernels
    kernels = {"batch_norm": _norm.batch_norm, "batch_norm_backward": _norm.batch_norm_backward,
               "sgd_step": _optim.sgd_step, "adam_step": _optim.adam_step}
    for name in names:
        monkeypatch.setitem(table, name, kernels[name])


def _train_and_eval(module_cls, shape, dtype, momentum, affine, track, channels_last):
    """Two training steps (forward, backward) then an eval forward of a fresh module: every
    output, gradient and buffer as NumPy arrays."""
    r = np.random.default_rng(5)
    c = shape[1]
    m = module_cls(c, momentum=momentum, affine=affine, track_running_stats=track,
                   dtype=getattr(flambeau, dtype))
    if affine:
        with flambeau.no_grad():
            m.weight.copy_(flambeau.tensor(r.standard_normal(c).astype(dtype)))
            m.bias.copy_(flambeau.tensor(r.standard_normal(c).astype(dtype)))
    results = {}
    for step in range(2):
        a = (r.standard_normal(shape) * 2 + step).astype(dtype)
        if channels_last:
            a = np.ascontiguousarray(np.moveaxis(a, 1, -1))
        leaf = flambeau.tensor(a, requires_grad=True)
        x = leaf.movedim(-1, 1) if channels_last else leaf
        gout = flambeau.tensor(r.standard_normal(shape).astype(dtype))
        out = m(x)
        (out * gout).sum().backward()
        results[f"out{step}"] = out.detach().numpy()
        results[f"dx{step}"] = leaf.grad.numpy()
        if affine:
            results[f"dw{step}"], results[f"db{step}"] = m.weight.grad.numpy().copy(), \
                m.bias.grad.numpy().copy()
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            buf = getattr(m, name)
            if buf is not None:
                results[f"{name}{step}"] = buf.numpy().copy()
    m.eval()
    results["eval"] = m(flambeau.tensor(r.standard_normal(shape).astype(dtype))).detach().numpy()
    return results


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("module_cls, shape, channels_last", [
    (flambeau.nn.BatchNorm2d, (4, 3, 5, 5), False),
    (flambeau.nn.BatchNorm2d, (2, 3, 4, 6), True),
    (flambeau.nn.BatchNorm1d, (6, 3), False),
    (flambeau.nn.BatchNorm1d, (4, 3, 7), False),
])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batch_norm_modules_through_the_wrappers(cupy_on_host, monkeypatch, module_cls, shape,
                                                 channels_last, dtype, momentum, affine, track):
    """Training steps (outputs, input/weight/bias gradients, running statistics, the batch
    counter; momentum None is the cumulative average) and eval mode through the CUDA
    wrappers, against the same module on nn's generic code."""
    args = (module_cls, shape, dtype, momentum, affine, track, channels_last)
    want = _train_and_eval(*args)
    assert cupy_on_host.launches == []
    _with_kernels(monkeypatch, ("batch_norm", "batch_norm_backward"))
    got = _train_and_eval(*args)
    # two steps, each 3 launches forward and 3 backward; in eval mode, none but without
    # running statistics (then the batch's statistics normalize: 3 launches)
    evals = 0 if track else 1
    assert cupy_on_host.launches.count("flambeau_bn_normalize") == 2 + evals
    assert cupy_on_host.launches.count("flambeau_bn_grad") == 2
    assert len(cupy_on_host.launches) == 12 + 3 * evals
    assert got.keys() == want.keys()
    tol = 10 * _tol(dtype)
    for key in want:
        assert got[key].dtype == want[key].dtype and got[key].shape == want[key].shape, key
        np.testing.assert_allclose(got[key], want[key], rtol=tol, atol=tol, err_msg=key)


# --- the multi-tensor optimizer updates ------------------------------------------------------

_SHAPES = [(5,), (3, 4), (1,), (0,), (2, 3, 2)]


def _optimize(make, dtype, steps=3):
    """``steps`` steps of ``make(params)`` with fixed gradients (the first parameter has none
    at the first step, so parameters differ in step count and buffer state); the parameters
    and the optimizer state as NumPy arrays."""
    r = np.random.default_rng(7)
    params = [flambeau.tensor(r.standard_normal(s).astype(dtype), requires_grad=True)
              for s in _SHAPES]
    opt = make(params)
    for step in range(steps):
        for k, p in enumerate(params):
            grad = r.standard_normal(p.shape).astype(dtype)
            p.grad = None if step == 0 and k == 0 else flambeau.tensor(grad)
        opt.step()
    out = {f"p{k}": p.detach().numpy().copy() for k, p in enumerate(params)}
    for k, p in enumerate(params):
        for name, v in opt.state[p].items():
            out[f"{name}{k}"] = np.asarray(v.numpy() if hasattr(v, "numpy") else v).copy()
    return out


OPTIMIZERS = {
    "sgd": lambda ps: flambeau.optim.SGD(ps, lr=0.1),
    "sgd_decay_maximize": lambda ps: flambeau.optim.SGD(ps, lr=0.1, weight_decay=0.01,
                                                        maximize=True),
    "sgd_momentum": lambda ps: flambeau.optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd_dampening_decay": lambda ps: flambeau.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                         dampening=0.2, weight_decay=0.01),
    "sgd_nesterov": lambda ps: flambeau.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01),
    "adam": lambda ps: flambeau.optim.Adam(ps, lr=0.01),
    "adam_decay_maximize": lambda ps: flambeau.optim.Adam(ps, lr=0.01, weight_decay=0.1,
                                                          maximize=True),
    "adam_amsgrad": lambda ps: flambeau.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99),
                                                   amsgrad=True),
    "adamw": lambda ps: flambeau.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "adamw_amsgrad": lambda ps: flambeau.optim.AdamW(ps, lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_through_the_multi_tensor_launch(cupy_on_host, monkeypatch, name,
                                                         dtype):
    """SGD, Adam and AdamW steps through ``_optim`` and ``_multi.launch`` (one raw launch per
    step and kind of parameter state) against flambeau-optim's generic update."""
    want = _optimize(OPTIMIZERS[name], dtype)
    assert cupy_on_host.launches == []
    _with_kernels(monkeypatch, ("sgd_step", "adam_step"))
    got = _optimize(OPTIMIZERS[name], dtype)
    assert cupy_on_host.launches and all(k.startswith("flambeau_multi_")
                                         and k.endswith(dtype) for k in cupy_on_host.launches)
    # a launch a step, and one more where the first parameter (no gradient at step 1) starts
    # its momentum buffer (SGD, step 2) or is a step behind the others (Adam, steps 2 and 3)
    extra = 0 if name in ("sgd", "sgd_decay_maximize") else 1 if name.startswith("sgd") else 2
    assert len(cupy_on_host.launches) == 3 + extra
    assert got.keys() == want.keys()
    tol = 2e-6 if dtype == "float32" else 1e-13
    for key in want:
        assert got[key].dtype == want[key].dtype, key
        np.testing.assert_allclose(got[key], want[key], rtol=tol, atol=tol, err_msg=key)


def test_multi_launch_declines_without_launching(cupy_on_host):
    x, y = np.ones(4, np.float32), np.ones(4, np.float32)
    scalars = [0.1, 0.0, False]
    for tensors in ([(x.astype(np.float16), y.astype(np.float16))],  # half types
                    [(x, y.astype(np.float64))],  # two dtypes
                    [(x, np.ones(8, np.float32)[::2])],  # strided
                    [(x, np.ones(3, np.float32))]):  # two sizes
        assert _multi.launch(_optim.SGD_PLAIN, tensors, scalars) is False
    assert _multi.launch(_optim.SGD_PLAIN, [(x[:0], y[:0])], scalars) is True  # nothing to do
    assert cupy_on_host.launches == []
    assert _multi.launch(_optim.SGD_PLAIN, [(x, y)], [0.5, 0.0, False]) is True
    np.testing.assert_array_equal(y, 0.5)
    assert cupy_on_host.launches == ["flambeau_multi_sgd_plain_float32"]

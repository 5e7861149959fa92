"""Tests that need a CUDA device; without one each reports "skipped: no CUDA device"."""

import numpy as np
import pytest

import flambeau
from flambeau.testing import assert_close, run_conformance

pytestmark = pytest.mark.gpu


def _pair(make):
    """``make(device)`` on cuda and on cpu."""
    return make("cuda"), make("cpu")


def test_conformance_suite_passes():
    assert run_conformance("cuda") == []


def test_tensors_live_on_the_gpu():
    x = flambeau.ones(3, device="cuda")
    assert x.device == flambeau.device("cuda:0") and type(x._data).__module__.startswith("cupy")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()


def test_mixed_devices_name_both():
    with pytest.raises(RuntimeError, match=r"cuda:0.*cpu|cpu.*cuda:0"):
        flambeau.ones(2, device="cuda") + flambeau.ones(2)


@pytest.mark.parametrize("dtype", [flambeau.float32, flambeau.float64, flambeau.float16])
def test_matmul_kernel_matches_cpu(dtype):
    a = flambeau.randn(4, 5, 6, dtype=flambeau.float64)
    b = flambeau.randn(6, 3, dtype=flambeau.float64)
    got = (a.to("cuda", dtype) @ b.to("cuda", dtype)).cpu()
    assert got.dtype is dtype
    tol = {flambeau.float16: 1e-2, flambeau.float32: 1e-5, flambeau.float64: 1e-12}[dtype]
    assert_close(got.double(), a @ b, rtol=tol, atol=tol)


@pytest.mark.parametrize("conv", [False, True])
def test_tf32_switches_change_cublas_compute_type(conv):
    from cupy._core import _routines_linalg as linalg

    import flambeau.backends.cuda
    import flambeau.backends.cudnn
    import flambeau.nn.functional as F

    settings = flambeau.backends.cudnn if conv else flambeau.backends.cuda.matmul
    a = flambeau.randn(1, 4, 16, 16, device="cuda")
    w = flambeau.randn(4, 4, 3, 3, device="cuda")

    def product():
        return F.conv2d(a, w) if conv else a[0, 0] @ a[0, 0]

    saved, cudnn_enabled = settings.allow_tf32, flambeau.backends.cudnn.enabled
    flambeau.backends.cudnn.enabled = False  # the im2col path: its products are cuBLAS's
    try:
        settings.allow_tf32 = True
        product()
        assert linalg.get_compute_type(np.dtype("float32")) == linalg.COMPUTE_TYPE_TF32
        settings.allow_tf32 = False
        product()
        assert linalg.get_compute_type(np.dtype("float32")) == linalg.COMPUTE_TYPE_DEFAULT
    finally:
        settings.allow_tf32, flambeau.backends.cudnn.enabled = saved, cudnn_enabled


def test_index_add_kernel_matches_cpu():
    idx = flambeau.tensor([0, 2, 0, 1, 2, 2])
    src = flambeau.randn(6, 3, dtype=flambeau.float64)
    got, ref = _pair(lambda d: flambeau.zeros(3, 3, dtype=flambeau.float64, device=d)
                     .index_add(0, idx.to(d), src.to(d)))
    assert_close(got.cpu(), ref)
    w = flambeau.randn(5, 4, dtype=flambeau.float64)
    grads = []
    for d in ("cuda", "cpu"):
        wd = w.to(d).requires_grad_()
        wd[flambeau.tensor([1, 1, 3]).to(d)].sum().backward()
        grads.append(wd.grad.cpu())
    assert_close(*grads)


def test_cross_entropy_kernel_matches_cpu():
    F = pytest.importorskip("flambeau.nn.functional")
    x = flambeau.randn(8, 5, dtype=flambeau.float64)
    y = flambeau.randint(0, 5, (8,))
    got, ref = _pair(lambda d: F.cross_entropy(x.to(d), y.to(d), label_smoothing=0.1))
    assert_close(got.cpu(), ref)


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"),
                         [(1, 1, 1, 1), (2, 0, 1, 2), ((2, 1), (1, 2), (1, 2), 1)])
def test_conv2d_kernels_match_cpu(stride, padding, dilation, groups):
    F = pytest.importorskip("flambeau.nn.functional")
    x = flambeau.randn(2, 4, 9, 8, dtype=flambeau.float64)
    w = flambeau.randn(6, 4 // groups, 3, 3, dtype=flambeau.float64)
    results = []
    for d in ("cuda", "cpu"):
        xd, wd = x.to(d).requires_grad_(), w.to(d).requires_grad_()
        y = F.conv2d(xd, wd, stride=stride, padding=padding, dilation=dilation, groups=groups)
        (y * y).sum().backward()
        results.append([y.detach().cpu(), xd.grad.cpu(), wd.grad.cpu()])
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [flambeau.float32, flambeau.float16])
@pytest.mark.parametrize(("shape", "stride", "padding", "dilation", "groups"), [
    ((2, 4, 9, 8), 1, 1, 1, 1), ((2, 4, 9, 8), 2, 0, 1, 2),
    ((2, 4, 9, 8), (2, 1), (1, 2), (1, 2), 1),
    ((3, 3, 32, 32), 2, 3, 1, 1), ((2, 16, 8, 8), 2, 0, 1, 1)])  # 7x7/2 stem, 1x1/2 downsample
def test_cudnn_convolutions_match_im2col(dtype, shape, stride, padding, dilation, groups):
    import flambeau.backends.cudnn as switches
    import flambeau.nn.functional as F
    from flambeau_cuda._kernels import _cudnn

    if not switches.is_available():
        pytest.skip("cudnn-frontend is not installed (on_device cudnn installs it)")
    k = 7 if shape[2] == 32 else 1 if shape[1] == 16 else 3
    x = flambeau.randn(*shape, device="cuda", dtype=dtype)
    w = flambeau.randn(6, shape[1] // groups, k, k, device="cuda", dtype=dtype) / k
    saved = switches.allow_tf32, switches.enabled
    results = []
    try:
        switches.allow_tf32 = False  # exact float32 products on both paths
        for enabled in (True, False):
            switches.enabled = enabled
            xd, wd = x.clone().requires_grad_(), w.clone().requires_grad_()
            y = F.conv2d(xd, wd, stride=stride, padding=padding, dilation=dilation,
                         groups=groups)
            (y.float() * y.float()).sum().backward()
            results.append([y.detach().float().cpu(), xd.grad.float().cpu(),
                            wd.grad.float().cpu()])
    finally:
        switches.allow_tf32, switches.enabled = saved
    tol = 2e-2 if dtype is flambeau.float16 else 1e-4
    for got, ref in zip(*results, strict=True):
        assert_close(got, ref, rtol=tol, atol=tol * float(ref.abs().max()))
    if groups == 1:  # cuDNN served these (grouped ones it may leave to im2col)
        assert not [key for key in _cudnn.declined() if key[3] == tuple(shape)]


def test_cudnn_graphs_launch_through_the_c_entry_point_after_their_check():
    import flambeau.backends.cudnn as switches
    from flambeau_cuda._kernels import _cudnn

    if not switches.is_available():
        pytest.skip("cudnn-frontend is not installed (on_device cudnn installs it)")
    x = flambeau.randn(3, 5, 11, 13, device="cuda")
    w = flambeau.randn(7, 5, 3, 3, device="cuda")
    geo = ((1, 2), ((1, 1), (0, 2)), (1, 1), 1)
    first = _cudnn.conv2d(x._data, w._data, *geo)  # through execute, then the raw check
    assert _cudnn.launch_path() == "raw"  # the frontend's entry point passed its check
    second = _cudnn.conv2d(x._data, w._data, *geo)  # raw
    assert bool((first == second).all())


@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.float32, flambeau.float64])
@pytest.mark.parametrize(("name", "kwargs"), [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("elu", {}),
    ("selu", {}), ("celu", {"alpha": 0.5}), ("leaky_relu", {"negative_slope": 0.1}),
    ("softplus", {"beta": 2.0}), ("hardsigmoid", {}), ("hardswish", {})])
def test_fused_activation_kernels_match_cpu(name, kwargs, dtype):
    F = pytest.importorskip("flambeau.nn.functional")
    x = flambeau.randn(300, dtype=flambeau.float64) * 4
    results = []
    for d in ("cuda", "cpu"):
        xd = x.to(d, dtype).requires_grad_()
        y = getattr(F, name)(xd, **kwargs)
        y.backward(flambeau.linspace(-1, 1, 300, dtype=dtype, device=d))
        results.append([y.detach().cpu().double(), xd.grad.cpu().double()])
    tol = {flambeau.float16: 1e-2, flambeau.float32: 1e-5, flambeau.float64: 1e-12}[dtype]
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.float32, flambeau.float64])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_gradients_from_the_output_match_cpu(name, dtype, monkeypatch):
    """The ``*_backward_from_output`` kernels run (they are called) and agree with the CPU."""
    x = flambeau.randn(300, dtype=flambeau.float64) * 4
    kernels = flambeau.device("cuda").backend.kernels
    key = name + "_backward_from_output"
    calls = []
    monkeypatch.setitem(kernels, key, lambda g, o, run=kernels[key]: calls.append(1) or run(g, o))
    grads = []
    for d in ("cuda", "cpu"):
        xd = x.to(d, dtype).requires_grad_()
        getattr(flambeau, name)(xd).backward(flambeau.linspace(-1, 1, 300, dtype=dtype, device=d))
        grads.append(xd.grad.cpu().double())
    assert calls == [1]
    tol = {flambeau.float16: 1e-2, flambeau.float32: 1e-6, flambeau.float64: 1e-14}[dtype]
    assert_close(*grads, rtol=tol, atol=tol)


@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode"),
                         [(3, 2, 1, False), (2, 2, 0, False), (3, 2, 0, True)])
def test_max_pool2d_kernels_match_cpu(kernel, stride, padding, ceil_mode):
    F = pytest.importorskip("flambeau.nn.functional")
    x = flambeau.randn(2, 3, 11, 10, dtype=flambeau.float64)
    results = []
    for d in ("cuda", "cpu"):
        xd = x.to(d).requires_grad_()
        y, idx = F.max_pool2d(xd, kernel, stride, padding, ceil_mode=ceil_mode,
                              return_indices=True)
        (y * y).sum().backward()
        results.append([y.detach().cpu(), idx.cpu(), xd.grad.cpu()])
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.float32, flambeau.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_kernels_match_cpu(name, dim, dtype):
    x = flambeau.randn(5, 6, 7, dtype=flambeau.float64) * 4
    w = flambeau.randn(5, 6, 7, dtype=flambeau.float64)
    results = []
    for d in ("cuda", "cpu"):
        xd = x.to(d, dtype).requires_grad_()
        y = getattr(flambeau, name)(xd, dim)
        (y * w.to(d, dtype)).sum().backward()
        results.append([y.detach().cpu().double(), xd.grad.cpu().double()])
    tol = {flambeau.float16: 1e-2, flambeau.float32: 1e-5, flambeau.float64: 1e-12}[dtype]
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_kernels_match_cpu(affine):
    nn = pytest.importorskip("flambeau.nn")
    bn = nn.BatchNorm2d(3, affine=affine).double()
    x = flambeau.randn(4, 3, 5, 6, dtype=flambeau.float64) * 3 + 1
    results = []
    for d in ("cuda", "cpu"):
        m, xd = bn.to(d), x.to(d).requires_grad_()
        y = m(xd)
        (y * y.detach().flip(0)).sum().backward()
        # clones: on the CPU .cpu() is the module's own tensor, which the resets below write
        results.append([y.detach().cpu(), xd.grad.cpu(), m.running_mean.cpu().clone(),
                        m.running_var.cpu().clone()]
                       + [p.grad.cpu().clone() for p in m.parameters()])
        m.reset_running_stats()
        m.zero_grad()
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 5, 40, 30), (300, 7), (9, 4, 301), (2, 3, 1, 1)])
def test_batch_norm_sums_kernel_on_sliced_offset_and_strided_inputs(shape):
    """The sums kernel splits channels of more than 2048 elements into slices, subtracts each
    channel's first element (data offset by 1000 keeps float32 variances) and takes strided
    inputs; float32 on the GPU against float64 on the CPU."""
    F = pytest.importorskip("flambeau.nn.functional")
    r = np.random.default_rng(3)
    x64 = flambeau.tensor(r.standard_normal(shape) * 2 + 1000)
    w, b = (flambeau.tensor(r.standard_normal(shape[1])) for _ in range(2))
    g = flambeau.tensor(r.standard_normal(shape))
    results = []
    for d, dtype in (("cuda", flambeau.float32), ("cpu", flambeau.float64)):
        x = x64.to(d, dtype).transpose(0, -1).contiguous().transpose(0, -1).requires_grad_()
        wd, bd = (t.to(d, dtype).requires_grad_() for t in (w, b))
        rm, rv = flambeau.zeros(shape[1], device=d, dtype=dtype), flambeau.ones(
            shape[1], device=d, dtype=dtype)
        y = F.batch_norm(x, rm, rv, wd, bd, training=True)
        y.backward(g.to(d, dtype))
        results.append([t.detach().cpu().double() for t in (y, x.grad, wd.grad, bd.grad, rm, rv)])
    for a, e in zip(*results, strict=True):
        assert_close(a, e, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("dtype", [flambeau.float32, flambeau.float64])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_recurrent_cell_kernels_match_cpu(dtype, mode):
    nn = pytest.importorskip("flambeau.nn")
    flambeau.manual_seed(0)
    rnn = getattr(nn, mode)(3, 5, num_layers=2, bidirectional=True).to(dtype)
    x = flambeau.randn(7, 4, 3, dtype=dtype)
    results = []
    for d in ("cuda", "cpu"):
        m, xd = rnn.to(d), x.to(d).requires_grad_()
        out, state = m(xd)
        h, c = state if mode == "LSTM" else (state, state)
        ((out * out).sum() + h.sum() + (c * c).sum()).backward()
        results.append([out.detach().cpu(), xd.grad.cpu()] + [p.grad.cpu() for p in m.parameters()])
        m.zero_grad()
    tol = 1e-5 if dtype is flambeau.float32 else 1e-12
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_fused_optimizers_match_cpu(name):
    optim = pytest.importorskip("flambeau.optim")
    opts = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
            "AdamW": dict(lr=0.01)}[name]
    w0 = flambeau.randn(5, 3, dtype=flambeau.float64)
    out = []
    for d in ("cuda", "cpu"):
        w = w0.to(d).requires_grad_()
        opt = getattr(optim, name)([w], **opts)
        for _ in range(3):
            opt.zero_grad()
            (w.sin() * w).sum().backward()
            opt.step()
        out.append(w.detach().cpu())
    assert_close(*out, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["uniform32", "uniform64", "normal32", "normal64", "integers"])
def test_gpu_rng_matches_the_host_philox(kind):
    from flambeau_cuda._rng import CupyEngine, NumpyEngine

    extra = {"low": -3, "span": 1000} if kind == "integers" else {}
    got = CupyEngine(0).draw(kind, 1001, seed=2**40 + 5, offset=2**32 - 3, **extra).get()
    ref = NumpyEngine().draw(kind, 1001, seed=2**40 + 5, offset=2**32 - 3, **extra)
    if kind.startswith("normal"):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, ref)


def test_generator_state_round_trip_and_dropout():
    g = flambeau.Generator("cuda").manual_seed(5)
    state = g.get_state()
    a = flambeau.rand(100, generator=g, device="cuda")
    g.set_state(state)
    assert bool((a == flambeau.rand(100, generator=g, device="cuda")).all())
    flambeau.cuda.manual_seed(1)
    F = pytest.importorskip("flambeau.nn.functional")
    y = F.dropout(flambeau.ones(10_000, device="cuda"), 0.25)
    kept = float((y != 0).float().mean())
    assert abs(kept - 0.75) < 0.03 and bool(((y == 0) | (y == 1 / 0.75)).all())


@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.float32, flambeau.float64])
def test_dropout_mask_kernel_draws_the_generic_mask(dtype, monkeypatch):
    F = pytest.importorskip("flambeau.nn.functional")
    x = flambeau.randn(33, 65, device="cuda", dtype=dtype)
    outs = []
    for fused in (True, False):
        if not fused:
            monkeypatch.delitem(x._device.backend.kernels, "dropout_mask")
        flambeau.cuda.manual_seed(9)
        outs.append(F.dropout(x, 0.3).cpu())
    assert bool((outs[0] == outs[1]).all())
    assert abs(float((outs[0] != 0).double().mean()) - 0.7) < 0.03


def test_version_cuda_names_the_runtime():
    import re

    assert re.fullmatch(r"1[2-9]\.\d", flambeau.version.cuda)


def test_memory_statistics():
    flambeau.cuda.synchronize()
    flambeau.cuda.reset_peak_memory_stats()
    before = flambeau.cuda.memory_allocated()
    x = flambeau.empty(2**20, device="cuda")  # 4 MiB
    assert flambeau.cuda.memory_allocated() >= before + 4 * 2**20
    assert flambeau.cuda.max_memory_allocated() >= before + 4 * 2**20
    del x
    flambeau.cuda.empty_cache()
    assert flambeau.cuda.memory_allocated() == before
    assert flambeau.cuda.max_memory_allocated() >= before + 4 * 2**20
    assert isinstance(flambeau.cuda.get_device_name(0), str)


def test_empty_cache_releases_the_kept_convolution_workspace():
    F = pytest.importorskip("flambeau.nn.functional")
    from flambeau_cuda._kernels import _cudnn

    flambeau.cuda.synchronize()
    before = flambeau.cuda.memory_allocated()
    x = flambeau.randn(8, 16, 32, 32, device="cuda")
    w = flambeau.randn(16, 16, 3, 3, device="cuda")
    y = F.conv2d(x, w, padding=1)
    del x, w, y
    flambeau.cuda.synchronize()
    flambeau.cuda.empty_cache()
    assert not _cudnn._workspaces
    assert flambeau.cuda.memory_allocated() == before


def test_load_with_map_location_cuda(tmp_path):
    """A CPU checkpoint loads onto the GPU with map_location="cuda" (and cuda:0 / a device /
    a dict), and a GPU checkpoint loads back where it was saved."""
    state = {"w": flambeau.arange(6.0).reshape(2, 3), "n": flambeau.tensor([1, 2])}
    flambeau.save(state, tmp_path / "cpu.pt")
    for where in ("cuda", "cuda:0", flambeau.device("cuda"), {"cpu": "cuda:0"}):
        got = flambeau.load(tmp_path / "cpu.pt", map_location=where)
        assert all(t.device == flambeau.device("cuda:0") for t in got.values())
        assert_close(got["w"].cpu(), state["w"])
        assert got["n"].dtype is flambeau.int64
    flambeau.save({"w": state["w"].cuda()}, tmp_path / "gpu.pt")
    back = flambeau.load(tmp_path / "gpu.pt")["w"]
    assert back.device == flambeau.device("cuda:0")
    assert_close(back.cpu(), state["w"])


def test_multi_tensor_sgd_updates_every_parameter_in_one_launch():
    """62 parameters of mixed sizes (as a ResNet-18) in one launch give the CPU's update."""
    optim = pytest.importorskip("flambeau.optim")
    r = np.random.default_rng(5)
    shapes = [(64, 3, 7, 7), (64,), (128, 64, 3, 3), (10, 512), (10,), (1,)] * 10 + [(3,), (0,)]
    results = []
    for d in ("cuda", "cpu"):
        params = [flambeau.tensor(r.standard_normal(s), dtype=flambeau.float32, device=d,
                                  requires_grad=True) for s in shapes]
        opt = optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
        for step in range(3):
            for p in params:
                p.grad = flambeau.full_like(p, 0.5 + step)
            opt.step()
        results.append([p.detach().cpu() for p in params])
        r = np.random.default_rng(5)
    for a, b in zip(*results, strict=True):
        assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_out_of_memory_names_the_request():
    from flambeau_cuda._memory import OutOfMemoryError

    with pytest.raises(OutOfMemoryError, match=r"tried to allocate 1024\.00 GiB on cuda:0"):
        flambeau.empty(2**38, device="cuda")


def test_streams_events_and_non_blocking_copies():
    s = flambeau.cuda.Stream()
    start, end = flambeau.cuda.Event(enable_timing=True), flambeau.cuda.Event(enable_timing=True)
    from flambeau.backends import get_backend

    b = get_backend("cuda")
    host = b.pin(flambeau.arange(1000, dtype=flambeau.float32))
    with flambeau.cuda.stream(s):
        start.record()
        dev = b.from_host(host._data, 0, non_blocking=True)
        end.record()
    s.synchronize()
    assert s.query() and end.query() and start.elapsed_time(end) >= 0
    np.testing.assert_array_equal(dev.get(), np.arange(1000, dtype=np.float32))


def test_dlpack_shares_memory_with_cupy_and_torch():
    import cupy

    a = cupy.arange(4, dtype=cupy.float32)
    t = flambeau.from_dlpack(a)
    a[0] = 7
    assert t.device.type == "cuda" and float(t[0]) == 7.0
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch has no CUDA build here")
    tt = torch.zeros(3, device="cuda")
    f = flambeau.from_dlpack(tt)
    tt[1] = 5
    assert float(f[1]) == 5.0

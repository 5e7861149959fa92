"""Mixed precision: autocast op families, regions, gradients, and GradScaler vs PyTorch."""

import threading

import numpy as np
import pytest

import flambeau
from flambeau.amp import GradScaler, autocast
from flambeau.amp._autocast import cast_inputs, recurrent_dtype

bf16, f16, f32, f64 = flambeau.bfloat16, flambeau.float16, flambeau.float32, flambeau.float64
# the device type the tests run on (FLAMBEAU_TEST_DEVICE), its default autocast dtype, and
# another device type, whose autocast state must not leak into this one
DEV = flambeau.get_default_device().type
LOW = flambeau.get_autocast_dtype(DEV)
OTHER = "cuda" if DEV == "cpu" else "cpu"


def _mats():
    flambeau.manual_seed(0)
    return flambeau.randn(2, 3), flambeau.randn(3, 4)


LOWER = {
    "matmul": lambda a, b: a @ b,
    "mm": lambda a, b: flambeau.mm(a, b),
    "bmm": lambda a, b: flambeau.bmm(a[None], b[None]),
    "addmm": lambda a, b: flambeau.addmm(flambeau.ones(4), a, b),
    "baddbmm": lambda a, b: flambeau.baddbmm(flambeau.ones(1, 2, 4), a[None], b[None]),
    "addmv": lambda a, b: flambeau.addmv(flambeau.ones(2), a, b[:, 0]),
    "einsum": lambda a, b: flambeau.einsum("ij,jk->ik", a, b),
}

FP32 = {
    "softmax": lambda x: flambeau.softmax(x, dim=1),
    "log_softmax": lambda x: flambeau.log_softmax(x, dim=1),
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "prod": lambda x: x.prod(1),
    "cumsum": lambda x: x.cumsum(0),
    "logsumexp": lambda x: flambeau.logsumexp(x, 1),
    "norm": lambda x: x.norm(),
    "exp": flambeau.exp,
    "log": lambda x: flambeau.log(x.abs()),
    "pow": lambda x: x ** 2,
    "rsqrt": lambda x: flambeau.rsqrt(x.abs()),
}

UNCHANGED = {
    "add": lambda x: x + x,
    "relu": flambeau.relu,
    "tanh": flambeau.tanh,
    "max": lambda x: x.amax(1),
}


@pytest.mark.parametrize("low", [bf16, f16], ids=["bf16", "f16"])
@pytest.mark.parametrize("op", LOWER, ids=list(LOWER))
def test_lower_precision_ops(op, low):
    a, b = _mats()
    with autocast(DEV, dtype=low):
        out = LOWER[op](a, b)
    assert out.dtype is low
    ref = LOWER[op](a.to(low).float(), b.to(low).float())
    np.testing.assert_allclose(out.float().cpu().numpy(), ref.cpu().numpy(), rtol=2e-2, atol=2e-2)
    assert LOWER[op](a, b).dtype is f32  # outside the region: untouched


@pytest.mark.parametrize("op", FP32, ids=list(FP32))
def test_fp32_ops(op):
    x = _mats()[0].to(bf16)
    with autocast(DEV):
        out = FP32[op](x)
    assert out.dtype is f32
    np.testing.assert_allclose(out.cpu().numpy(), FP32[op](x.float()).cpu().numpy(), rtol=1e-6)
    assert FP32[op](x).dtype is bf16


@pytest.mark.parametrize("op", UNCHANGED, ids=list(UNCHANGED))
def test_other_ops_keep_their_dtype(op):
    x = _mats()[0]
    with autocast(DEV):
        assert UNCHANGED[op](x.to(bf16)).dtype is bf16
        assert UNCHANGED[op](x).dtype is f32


def test_float64_and_integers_are_not_cast():
    a, b = _mats()
    with autocast(DEV):
        assert (a.double() @ b.double()).dtype is f64
        assert flambeau.softmax(a.double(), 1).dtype is f64
        assert (flambeau.arange(6).reshape(2, 3) @ flambeau.ones(3, 1, dtype=flambeau.int64)
                ).dtype is flambeau.int64
        assert flambeau.arange(3).sum().dtype is flambeau.int64


def test_other_device_type_is_not_cast():
    a, b = _mats()
    with autocast(OTHER):
        assert (a @ b).dtype is f32
        assert flambeau.is_autocast_enabled(OTHER) and not flambeau.is_autocast_enabled(DEV)


def test_explicit_dtype_wins_over_autocast():
    x = _mats()[0].to(bf16)
    with autocast(DEV):
        assert flambeau.softmax(x, 1, dtype=f64).dtype is f64
        assert x.sum(dtype=f16).dtype is f16


def test_nested_and_disabled_regions():
    a, b = _mats()
    with autocast(DEV):
        assert (a @ b).dtype is LOW
        with autocast(DEV, enabled=False):
            assert (a @ b).dtype is f32
            assert not flambeau.is_autocast_enabled(DEV)
            with autocast(DEV, dtype=f16):
                assert (a @ b).dtype is f16
                assert flambeau.get_autocast_dtype(DEV) is f16
            assert (a @ b).dtype is f32
        assert (a @ b).dtype is LOW
    assert (a @ b).dtype is f32
    assert not flambeau.is_autocast_enabled()


def test_region_is_left_on_exception():
    with pytest.raises(KeyError):
        with autocast(DEV):
            raise KeyError("boom")
    assert not flambeau.is_autocast_enabled(DEV)
    a, b = _mats()
    assert (a @ b).dtype is f32


def test_decorator_and_amp_alias():
    assert flambeau.autocast is flambeau.amp.autocast

    @flambeau.autocast(DEV, dtype=f16)
    def f(x, y):
        return x @ y, flambeau.is_autocast_enabled(DEV)

    a, b = _mats()
    out, enabled = f(a, b)
    assert out.dtype is f16 and enabled
    assert not flambeau.is_autocast_enabled(DEV)
    assert f.__name__ == "f"


def test_autocast_is_thread_local():
    a, b = _mats()
    seen = []
    with autocast(DEV):
        t = threading.Thread(target=lambda: seen.append((a @ b).dtype))
        t.start()
        t.join()
        assert (a @ b).dtype is LOW
    assert seen == [f32]


def test_gradients_flow_back_in_parameter_dtype():
    flambeau.manual_seed(0)
    x = flambeau.randn(4, 3)
    w = flambeau.randn(3, 2, requires_grad=True)
    with autocast(DEV):
        y = x @ w
        loss = flambeau.log_softmax(y, dim=1).sum()
    assert y.dtype is LOW and loss.dtype is f32
    loss.backward()
    assert w.grad.dtype is f32
    # the same computation done by hand in bfloat16 then float32
    w2 = w.detach().clone().requires_grad_()
    y2 = x.to(LOW) @ w2.to(LOW)
    flambeau.log_softmax(y2.float(), dim=1).sum().backward()
    np.testing.assert_array_equal(w.grad.cpu().numpy(), w2.grad.cpu().numpy())


def test_weight_cast_is_cached_within_region():
    w = flambeau.ones(2, 2, requires_grad=True)
    x = flambeau.ones(2, 2)
    with autocast(DEV):
        c1, c2 = cast_inputs("lower", w)[0], cast_inputs("lower", w)[0]
        assert c1 is c2 and c1.dtype is LOW
        assert cast_inputs("lower", x)[0] is not cast_inputs("lower", x)[0]  # not a weight
        with flambeau.no_grad():
            w.add_(1.0)  # an in-place update invalidates the cached copy
        c3 = cast_inputs("lower", w)[0]
        assert c3 is not c1 and c3.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with autocast(DEV):
        assert cast_inputs("lower", w)[0] is not c3  # the cache lives one region
    with autocast(DEV, cache_enabled=False):
        assert cast_inputs("lower", w)[0] is not cast_inputs("lower", w)[0]


def test_cast_inputs_families_and_passthrough():
    h, s, d = flambeau.ones(1, dtype=f16), flambeau.ones(1), flambeau.ones(1, dtype=f64)
    assert cast_inputs("lower", s, None, 3) == (s, None, 3)  # autocast off: unchanged
    with autocast(DEV):
        lo = cast_inputs("lower", h, s, d, None, 2.0)
        assert [lo[0].dtype, lo[1].dtype, lo[2].dtype, lo[3], lo[4]] == [LOW, LOW, f64, None,
                                                                          2.0]
        assert [t.dtype for t in cast_inputs("fp32", h, s, d)] == [f32, f32, f64]
        assert [t.dtype for t in cast_inputs("promote", h, s)] == [f32, f32]
        assert [t.dtype for t in cast_inputs("promote", h, d)] == [f64, f64]
        with pytest.raises(ValueError, match="op_family must be 'lower', 'fp32' or 'promote'"):
            cast_inputs("fast", s)


def test_cast_inputs_to_a_given_low_precision_dtype():
    s, d, i = flambeau.ones(1), flambeau.ones(1, dtype=f64), flambeau.ones(1, dtype=flambeau.int64)
    other = f16 if LOW is bf16 else bf16
    assert cast_inputs("lower", s, dtype=other) == (s,)  # autocast off: unchanged
    with autocast(DEV):
        out = cast_inputs("lower", s, d, i, None, dtype=other)
        assert [out[0].dtype, out[1].dtype, out[2].dtype, out[3]] == [other, f64, i.dtype, None]


class _Stub:
    """Just what autocast reads of a tensor, on a device type this machine may not have."""

    def __init__(self, device_type, dtype):
        self._data = np.ones(1, dtype=dtype.np)
        self._device = flambeau.device("cpu") if device_type == "cpu" else type(
            "Dev", (), {"type": device_type})()


@pytest.mark.parametrize("device_type", ["cpu", "cuda"])
def test_recurrent_dtype_follows_each_device_s_list(device_type):
    # torch 2.13: on the CPU only oneDNN's LSTM layer is lowered (to the region's dtype); on
    # CUDA the cells (region's dtype) and cuDNN's layers, always in float16
    layers = ("lstm_layer", "rnn_layer")
    cells = ("lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell")
    x = _Stub(device_type, f32)
    assert all(recurrent_dtype(op, x) is None for op in layers + cells)  # no region
    for region in (bf16, f16):
        with autocast(device_type, dtype=region):
            got = {op: recurrent_dtype(op, x) for op in layers + cells}
            assert recurrent_dtype("lstm_layer", _Stub(device_type, f64)) is None
            with autocast(device_type, enabled=False):
                assert recurrent_dtype("lstm_layer", x) is None
        if device_type == "cpu":
            assert got == {"lstm_layer": region, **{op: None for op in ("rnn_layer",) + cells}}
        else:
            assert got == {**{op: f16 for op in layers}, **{op: region for op in cells}}
    with autocast("cpu" if device_type != "cpu" else "cuda"):  # another device's region
        assert recurrent_dtype("lstm_layer", x) is None


def test_autocast_argument_errors():
    with pytest.raises(ValueError, match="dtype must be flambeau.bfloat16 or flambeau.float16, "
                                         "got flambeau.float32"):
        autocast("cpu", dtype=f32)
    with pytest.raises(TypeError, match="device_type must be a string"):
        autocast(flambeau.device("cpu"))
    with pytest.raises(ValueError, match="without index"):
        autocast("cuda:0")
    assert flambeau.get_autocast_dtype("cuda") is f16 and flambeau.get_autocast_dtype("cpu") is bf16


@pytest.mark.parity
def test_lower_ops_match_torch_autocast():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 16)).astype(np.float32)
    b = rng.standard_normal((16, 5)).astype(np.float32)
    for ours, theirs in ((bf16, torch.bfloat16), (f16, torch.float16)):
        with torch.autocast("cpu", dtype=theirs):
            ref = torch.from_numpy(a) @ torch.from_numpy(b)
        with autocast(DEV, dtype=ours):
            out = flambeau.tensor(a) @ flambeau.tensor(b)
        assert str(ref.dtype) == f"torch.{out.dtype.name}"
        np.testing.assert_allclose(out.float().cpu().numpy(), ref.float().cpu().numpy(),
                                   rtol=1e-2, atol=1e-2)


# ------------------------------------------------------------------ GradScaler


class _Opt:
    """The smallest optimizer: what GradScaler relies on is param_groups and step()."""

    def __init__(self, params, lr=0.1):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.steps = 0

    def step(self):
        self.steps += 1
        for p in self.param_groups[0]["params"]:
            p.data = p.data - self.param_groups[0]["lr"] * p.grad
        return "stepped"


def _backward(scaler, w, bad):
    w.grad = None
    loss = (w * (float("inf") if bad else 1.0)).sum()
    scaler.scale(loss).backward()


def test_grad_scaler_skips_on_inf_and_nan():
    w = flambeau.ones(2, requires_grad=True)
    opt, scaler = _Opt([w]), GradScaler(DEV, init_scale=8.0)
    _backward(scaler, w, bad=True)
    assert scaler.step(opt) is None and opt.steps == 0 and w.tolist() == [1.0, 1.0]
    scaler.update()
    assert scaler.get_scale() == 4.0
    w.grad = flambeau.tensor([float("nan"), 0.0])
    assert scaler.step(opt) is None and opt.steps == 0
    scaler.update()
    assert scaler.get_scale() == 2.0
    _backward(scaler, w, bad=False)
    assert scaler.step(opt) == "stepped" and opt.steps == 1
    np.testing.assert_allclose(w.detach().cpu().numpy(), [0.9, 0.9])


def test_unscale_divides_gradients_once():
    w = flambeau.ones(3, requires_grad=True)
    opt, scaler = _Opt([w]), GradScaler(DEV, init_scale=1024.0)
    scaler.scale((w * flambeau.tensor([1.0, 2.0, 3.0])).sum()).backward()
    assert w.grad.tolist() == [1024.0, 2048.0, 3072.0]
    scaler.unscale_(opt)
    assert w.grad.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)  # does not unscale again
    np.testing.assert_allclose(w.detach().cpu().numpy(), [0.9, 0.8, 0.7], rtol=1e-6)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    scaler.update()
    scaler.unscale_(opt)  # a new iteration


def test_grad_scaler_errors():
    w = flambeau.ones(1, requires_grad=True)
    scaler = GradScaler(DEV)
    with pytest.raises(RuntimeError, match="no inf checks were recorded"):
        scaler.update()
    with pytest.raises(RuntimeError, match="closure"):
        scaler.step(_Opt([w]), closure=lambda: 0)
    h = flambeau.ones(1, dtype=f16, requires_grad=True)
    h.grad = flambeau.ones(1, dtype=f16)
    with pytest.raises(ValueError, match="unscale float16 gradients"):
        scaler.unscale_(_Opt([h]))
    with pytest.raises(TypeError, match="outputs must be a Tensor or a list/tuple"):
        scaler.scale({"loss": w})
    with pytest.raises(ValueError, match="growth_factor must be > 1.0"):
        GradScaler(DEV, growth_factor=0.5)
    with pytest.raises(ValueError, match="backoff_factor must be in \\(0, 1\\)"):
        GradScaler(DEV, backoff_factor=1.5)
    with pytest.raises(RuntimeError, match="state dict is empty"):
        GradScaler(DEV).load_state_dict({})
    with pytest.raises(KeyError, match="missing keys \\['growth_interval'"):
        GradScaler(DEV).load_state_dict({"scale": 1.0, "growth_factor": 2.0,
                                           "backoff_factor": 0.5, "_growth_tracker": 0})


def test_grad_scaler_scale_outputs_and_disabled():
    scaler = GradScaler(DEV, init_scale=4.0)
    a, b = scaler.scale([flambeau.ones(1), (flambeau.ones(1, dtype=bf16),)])
    assert a.tolist() == [4.0] and b[0].dtype is bf16 and b[0].tolist() == [4.0]
    off = GradScaler(DEV, enabled=False)
    x = flambeau.ones(1)
    assert off.scale(x) is x and off.get_scale() == 1.0 and off.state_dict() == {}
    w = flambeau.ones(1, requires_grad=True)
    w.grad = flambeau.tensor([float("inf")])
    opt = _Opt([w])
    assert off.step(opt) == "stepped"  # disabled: a plain step, inf or not
    off.update()


def test_grad_scaler_without_backend_disables_itself():
    if flambeau.cuda.is_available():
        pytest.skip("a CUDA backend is installed")
    with pytest.warns(UserWarning, match="disabling loss scaling"):
        scaler = GradScaler("cuda")
    assert not scaler.is_enabled()


def test_grad_scaler_state_dict_roundtrip(tmp_path):
    w = flambeau.ones(1, requires_grad=True)
    opt, scaler = _Opt([w]), GradScaler(DEV, init_scale=16.0, growth_interval=3)
    _backward(scaler, w, bad=False)
    scaler.step(opt)
    scaler.update()
    flambeau.save(scaler.state_dict(), tmp_path / "s.pt")
    other = GradScaler(DEV)
    other.load_state_dict(flambeau.load(tmp_path / "s.pt"))
    assert other.state_dict() == {"scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                  "growth_interval": 3, "_growth_tracker": 1}


def test_grad_scaler_with_flambeau_optim():
    optim = pytest.importorskip("flambeau.optim")
    if not hasattr(optim, "SGD"):
        pytest.skip("flambeau.optim.SGD not available")
    w = flambeau.tensor([1.0, 2.0], requires_grad=True)
    opt, scaler = optim.SGD([w], lr=0.25), GradScaler(DEV, init_scale=2.0**10)
    scaler.scale((w * w).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert w.tolist() == [0.5, 1.0]
    opt.zero_grad()
    scaler.scale((w * float("inf")).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert w.tolist() == [0.5, 1.0] and scaler.get_scale() == 2.0**9


@pytest.mark.parity
@pytest.mark.parametrize("bad", [False, True])
def test_grad_scaler_unscales_sparse_gradients_as_torch(bad):
    # nn.Embedding(sparse=True)'s gradient: the stored values are unscaled and checked
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, -2.0], [3.0, 0.5], [1.0, 1.0]], dtype=np.float32)
    if bad:
        values[1, 0] = np.inf
    results = []
    for lib, scaler in ((flambeau, GradScaler(DEV, init_scale=8.0)),
                        (torch, torch.amp.GradScaler("cpu", init_scale=8.0))):
        w = lib.zeros(4, 2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5) if lib is torch else _Opt([w])
        scaler.scale(lib.ones(1))  # torch's scaler needs a scale() in the iteration
        w.grad = lib.sparse_coo_tensor(lib.tensor([[2, 0, 2]]), lib.tensor(values * 8.0),
                                       (4, 2))
        scaler.unscale_(opt)
        assert w.grad.is_sparse
        got = w.grad._values()
        results.append((got.cpu().numpy() if lib is flambeau else got.numpy(),
                        w.grad._indices().tolist()))
        scaler.step(opt)
        scaler.update()
        results.append(scaler.get_scale())
    np.testing.assert_array_equal(results[0][0], results[2][0])
    assert results[0][1] == results[2][1] and results[1] == results[3] == (4.0 if bad else 8.0)


@pytest.mark.parity
def test_scale_sequence_matches_torch():
    torch = pytest.importorskip("torch")
    pattern = [False, False, True, False, False, False, False, True, True, False, False, False,
               False, False, False, False]
    kw = dict(init_scale=2.0**15, growth_factor=3.0, backoff_factor=0.25, growth_interval=3)
    ours, theirs = GradScaler(DEV, **kw), torch.amp.GradScaler("cpu", **kw)
    w = flambeau.ones(2, requires_grad=True)
    tw = torch.ones(2, requires_grad=True)
    opt, topt = _Opt([w], lr=1e-3), torch.optim.SGD([tw], lr=1e-3)
    for bad in pattern:
        _backward(ours, w, bad)
        ours.step(opt)
        ours.update()
        tw.grad = None
        theirs.scale((tw * (float("inf") if bad else 1.0)).sum()).backward()
        theirs.step(topt)
        theirs.update()
        assert ours.get_scale() == theirs.get_scale()
        np.testing.assert_allclose(w.detach().cpu().numpy(), tw.detach().cpu().numpy(), rtol=1e-6)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sd == {k: (v.item() if hasattr(v, "item") else v) for k, v in tsd.items()}
    fresh = GradScaler(DEV)
    fresh.load_state_dict(tsd)  # PyTorch's state loads too
    assert fresh.get_scale() == theirs.get_scale()


def test_dot_is_not_lowered_by_autocast():
    # in no autocast list of torch's (matmul of two vectors is, as torch's)
    a, b = flambeau.randn(4), flambeau.randn(4)
    with flambeau.autocast(DEV, dtype=flambeau.bfloat16):
        assert flambeau.dot(a, b).dtype is flambeau.float32
        assert (a @ b).dtype is flambeau.bfloat16


def test_lstsq_is_not_lowered_and_vecdot_is():
    # torch: lstsq is in no list (our pinv-and-matmul inside must not be lowered); vecdot is
    # on the lower-precision list
    a = flambeau.randn(5, 3)
    b = flambeau.randn(5, 2)
    with flambeau.autocast(DEV, dtype=flambeau.bfloat16):
        assert flambeau.linalg.lstsq(a, b).solution.dtype is flambeau.float32
        assert flambeau.linalg.vecdot(a, a).dtype is flambeau.bfloat16
    assert flambeau.linalg.vecdot(a, a).dtype is flambeau.float32

"""Autocast reaches the nn layers: matmul-like layers in low precision, losses/norms in fp32."""

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn


def _device_type():
    """Autocast the device the tests' tensors live on (the CPU unless FLAMBEAU_TEST_DEVICE)."""
    return flambeau.get_default_device().type


@pytest.mark.parametrize("dtype", [flambeau.bfloat16, flambeau.float16])
def test_layer_output_dtypes_under_autocast(dtype):
    flambeau.manual_seed(0)
    lin, conv, ct = nn.Linear(4, 3), nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 3)
    ln = nn.LayerNorm(3)
    with flambeau.autocast(_device_type(), dtype=dtype):
        y = lin(flambeau.randn(2, 4))
        c = conv(flambeau.randn(1, 1, 6, 6))
        d = ct(c)
        q = flambeau.randn(1, 2, 4, 8)
        att = F.scaled_dot_product_attention(q, q, q)
        loss = F.cross_entropy(y, flambeau.tensor([0, 2]))
        mse = F.mse_loss(y, flambeau.zeros(2, 3))
        normed = ln(y)
    assert (y.dtype, c.dtype, d.dtype, att.dtype) == (dtype,) * 4
    assert (loss.dtype, mse.dtype, normed.dtype) == (flambeau.float32,) * 3


def test_gradients_reach_float32_parameters_in_their_dtype():
    flambeau.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
    with flambeau.autocast(_device_type()):
        loss = F.cross_entropy(model(flambeau.randn(2, 1, 4, 4)), flambeau.tensor([0, 1]))
    loss.backward()
    for p in model.parameters():
        assert p.grad is not None and p.grad.dtype is flambeau.float32
        assert bool(p.grad.isfinite().all())


def test_disabled_region_keeps_float32():
    lin = nn.Linear(4, 3)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        with flambeau.autocast(_device_type(), enabled=False):
            assert lin(flambeau.randn(2, 4)).dtype is flambeau.float32
        assert lin(flambeau.randn(2, 4)).dtype is flambeau.bfloat16


def test_regression_losses_warn_when_broadcasting_changes_the_loss():
    out, target = flambeau.zeros(4, 1), flambeau.ones(4)
    for loss in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.warns(UserWarning, match=r"target size \(4,\) that is different to the "
                                             r"input size \(4, 1\)"):
            value = loss(out, target)
        assert value.item() > 0  # computed over the broadcast (4, 4), as in PyTorch
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(out, target.unsqueeze(1))  # same shapes: no warning


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_runs_in_float32_under_autocast(mode):
    # torch's CPU float32 list has the upsampling ops; our linear modes' internal matrix
    # products must not be lowered either
    x = flambeau.randn(1, 2, 4, 4)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype is flambeau.float32
        assert F.interpolate(x.bfloat16(), size=(5, 3), mode=mode).dtype is flambeau.float32
    ref = F.interpolate(x, scale_factor=2, mode=mode)
    with flambeau.autocast(_device_type(), dtype=flambeau.bfloat16):
        assert flambeau.equal(F.interpolate(x, scale_factor=2, mode=mode), ref)


# ------------------------------------------------------------------ recurrent layers

_BF16, _F32 = "bfloat16", "float32"

#: torch 2.13's dtypes of (output, states...) under CPU autocast to bfloat16: oneDNN's LSTM
#: layer (on its CPU list: no projections, padded input) runs whole in bfloat16; the rest
#: casts each matrix product, so states updated from bfloat16 gates and a float32 state stay
#: float32 (GRU's; an LSTM's cell state, and its hidden state without projections)
_CPU_CASES = [
    ("LSTM", {}, False, [_BF16, _BF16, _BF16]),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, False, [_BF16, _BF16, _BF16]),
    ("LSTM", {"proj_size": 2}, False, [_BF16, _BF16, _F32]),
    ("LSTM", {}, True, [_F32, _F32, _F32]),
    ("LSTM", {"proj_size": 2}, True, [_BF16, _BF16, _F32]),
    ("GRU", {}, False, [_F32, _F32]),
    ("GRU", {"num_layers": 2, "batch_first": True}, False, [_F32, _F32]),
    ("GRU", {"bidirectional": True}, True, [_F32, _F32]),
    ("RNN", {}, False, [_BF16, _BF16]),
    ("RNN", {"num_layers": 2, "bidirectional": True}, True, [_BF16, _BF16]),
]


def _twins(torch, name, kw, device="cpu"):
    """The same module in torch and flambeau (torch's initial weights)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(4, 3, **kw)
    ours = getattr(nn, name)(4, 3, device=device, **kw)
    ours.load_state_dict({k: flambeau.tensor(v.detach().numpy(), device=device)
                          for k, v in theirs.state_dict().items()})
    return theirs, ours


def _run(lib, module, x, device_type, packed=False, hx=None):
    """Output, states, and the gradients of the input and of weight_ih_l0 of ``module``
    under ``lib``'s autocast to bfloat16 (the backward pass runs outside the region)."""
    xt = lib.tensor(x, requires_grad=True, device=module.weight_ih_l0.device)
    with lib.autocast(device_type, dtype=lib.bfloat16):
        inp = xt
        if packed:
            rnn = nn.utils.rnn if lib is flambeau else lib.nn.utils.rnn
            inp = rnn.pack_sequence([xt[:, 0], xt[:3, 1]])
        out, state = module(inp) if hx is None else module(inp, hx)
    out = out.data if packed else out
    states = list(state) if isinstance(state, tuple) else [state]
    (out.float().sum() + sum(s.float().sum() for s in states)).backward()
    return [out, *states], xt.grad, module.weight_ih_l0.grad


def _names(tensors):
    return [str(t.dtype).rpartition(".")[2] for t in tensors]


@pytest.mark.parity
@pytest.mark.parametrize("name, kw, packed, expected", _CPU_CASES)
def test_recurrent_modules_under_cpu_autocast_as_torch(name, kw, packed, expected):
    torch = pytest.importorskip("torch")
    theirs, ours = _twins(torch, name, kw)
    x = np.random.default_rng(1).standard_normal((5, 2, 4)).astype(np.float32)
    if kw.get("batch_first"):
        x = np.ascontiguousarray(x.transpose(1, 0, 2))
    t_outs, t_gx, t_gw = _run(torch, theirs, x, "cpu", packed)
    f_outs, f_gx, f_gw = _run(flambeau, ours, x, "cpu", packed)
    assert _names(t_outs) == expected and _names(f_outs) == expected
    # the gradients reach the float32 input and weights in float32
    assert _names([t_gx, t_gw, f_gx, f_gw]) == [_F32] * 4
    for f, t in zip(f_outs + [f_gx, f_gw], t_outs + [t_gx, t_gw]):
        np.testing.assert_allclose(f.detach().float().cpu().numpy(),
                                   t.detach().float().numpy(), atol=5e-2, rtol=2e-2)


@pytest.mark.parity
@pytest.mark.parametrize("name, kw, states, expected", [
    ("LSTM", {}, (_BF16, _F32), [_BF16, _BF16, _BF16]),
    ("LSTM", {"proj_size": 2}, (_BF16, _F32), [_BF16, _BF16, _F32]),
    ("GRU", {}, (_BF16,), [_BF16, _BF16]),
    ("RNN", {}, (_BF16,), [_BF16, _BF16]),
])
def test_low_precision_states_under_cpu_autocast_as_torch(name, kw, states, expected):
    torch = pytest.importorskip("torch")
    theirs, ours = _twins(torch, name, kw)
    x = np.random.default_rng(2).standard_normal((4, 2, 4)).astype(np.float32)
    sizes = [kw.get("proj_size") or 3, 3]

    def hx(lib):
        hs = tuple(lib.zeros(1, 2, n, dtype=getattr(lib, d), device="cpu")
                   for n, d in zip(sizes, states))
        return hs if name == "LSTM" else hs[0]

    assert _names(_run(torch, theirs, x, "cpu", hx=hx(torch))[0]) == expected
    assert _names(_run(flambeau, ours, x, "cpu", hx=hx(flambeau))[0]) == expected


@pytest.mark.parity
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_low_precision_input_under_cpu_autocast_as_torch(name):
    # torch skips its input-dtype check under autocast: a bfloat16 input meets float32 weights
    torch = pytest.importorskip("torch")
    theirs, ours = _twins(torch, name, {})
    x = np.random.default_rng(3).standard_normal((4, 2, 4)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        t_out = theirs(torch.tensor(x).bfloat16())
    with flambeau.autocast("cpu", dtype=flambeau.bfloat16):
        f_out = ours(flambeau.tensor(x, device="cpu").bfloat16())
    t_flat = [t_out[0], *(t_out[1] if name == "LSTM" else [t_out[1]])]
    f_flat = [f_out[0], *(f_out[1] if name == "LSTM" else [f_out[1]])]
    assert _names(f_flat) == _names(t_flat) == [_BF16] * len(t_flat)
    # without autocast on the input's device type, the dtypes must agree (torch's ValueError)
    with flambeau.autocast("cuda"), pytest.raises(ValueError, match=f"{name}: input dtype "
                                                                    r"\(flambeau.bfloat16\)"):
        ours(flambeau.tensor(x, device="cpu").bfloat16())


@pytest.mark.parametrize("name, kw, cpu", [
    ("LSTM", {}, [_BF16] * 3), ("LSTM", {"proj_size": 2}, [_BF16, _BF16, _F32]),
    ("GRU", {}, [_F32] * 2), ("RNN", {"bidirectional": True}, [_BF16] * 2),
])
def test_recurrent_modules_on_the_default_device(name, kw, cpu):
    # on CUDA (and other accelerators) torch's cuDNN layers run whole in float16, whatever the
    # region's dtype; on the CPU as in _CPU_CASES
    device_type = _device_type()
    module = getattr(nn, name)(4, 3, **kw)
    x = flambeau.randn(5, 2, 4)
    outs, gx, gw = _run(flambeau, module, x.cpu().numpy(), device_type)
    assert _names(outs) == (cpu if device_type == "cpu" else ["float16"] * len(cpu))
    assert _names([gx, gw]) == [_F32, _F32]
    with flambeau.autocast(device_type, dtype=flambeau.bfloat16):
        with flambeau.autocast(device_type, enabled=False):
            out, _ = module(x)
    assert out.dtype is flambeau.float32


@pytest.mark.parametrize("cls, states", [(nn.LSTMCell, 2), (nn.GRUCell, 1), (nn.RNNCell, 1)])
def test_recurrent_cells_on_the_default_device(cls, states):
    # torch's CUDA list lowers the cells whole; on the CPU their matrix products cast
    device_type = _device_type()
    cell = cls(4, 3)
    with flambeau.autocast(device_type, dtype=flambeau.bfloat16):
        out = cell(flambeau.randn(2, 4))
    outs = list(out) if states == 2 else [out]
    cpu = {nn.LSTMCell: [_F32, _F32], nn.GRUCell: [_F32], nn.RNNCell: [_BF16]}[cls]
    assert _names(outs) == (cpu if device_type == "cpu" else [_BF16] * states)

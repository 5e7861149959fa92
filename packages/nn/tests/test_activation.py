"""Activations: parity with torch (outputs, input grads, repr), gradcheck, in-place forms."""

import math

import numpy as np
import pytest
from _helpers_a import compare_module

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

# (name, constructor args); the same call builds flambeau's and torch's module
SPECS = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()),
    ("CELU", (1.5,)), ("GELU", ()), ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 5.0)),
    ("Softsign", ()), ("Sigmoid", ()), ("Hardsigmoid", ()), ("Tanh", ()),
    ("Hardtanh", (-0.5, 1.5)), ("Hardswish", ()), ("LogSigmoid", ()), ("Softmax", (1,)),
    ("LogSoftmax", (1,)), ("Softmin", (1,)), ("Threshold", (0.3, -2.0)), ("GLU", (1,)),
    ("Hardshrink", (0.4,)), ("Softshrink", (0.4,)), ("Tanhshrink", ()), ("PReLU", ()),
]


def _input(seed=0, shape=(3, 4, 5), scale=3.0, dtype=np.float32):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    # keep away from the kinks (0, +-3, thresholds) where one-sided derivatives differ
    for kink in (0.0, -3.0, 3.0, 0.3, 0.4, -0.4, -0.5, 1.5, 6.0):
        near = np.abs(x - kink) < 1e-2
        x[near] += 0.05
    return flambeau.tensor(x.astype(dtype))


@pytest.mark.parity
@pytest.mark.parametrize("name,args", SPECS, ids=[s[0] for s in SPECS])
def test_activation_parity(name, args):
    torch = pytest.importorskip("torch")
    fmod, tmod = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(fmod) == repr(tmod)
    compare_module(fmod, tmod, _input(), atol=1e-5, rtol=1e-4)


@pytest.mark.parity
def test_gelu_tanh_and_prelu_channels_parity():
    torch = pytest.importorskip("torch")
    compare_module(nn.GELU("tanh"), torch.nn.GELU("tanh"), _input())
    compare_module(nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1), _input())
    assert repr(nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))


@pytest.mark.parametrize("name,args", SPECS, ids=[s[0] for s in SPECS])
def test_activation_gradcheck(name, args):
    mod = getattr(nn, name)(*args).double()
    x = _input(1, (2, 4), 2.0, np.float64).requires_grad_()
    params = list(mod.parameters())
    assert gradcheck(lambda x, *p: mod(x), (x, *params))


@pytest.mark.parametrize("fn", [F.gelu, F.silu, F.mish, F.elu, F.softplus, F.logsigmoid,
                                lambda x: F.gelu(x, "tanh")])
def test_activation_gradgradcheck(fn):
    x = _input(2, (2, 3), 2.0, np.float64).requires_grad_()
    assert gradgradcheck(fn, (x,))


def test_activation_large_inputs_are_finite():
    x = flambeau.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, F.silu, F.mish, F.elu, F.selu, F.celu, F.gelu):
        y = fn(x)
        y.sum().backward()
        assert np.isfinite(y.detach().cpu().numpy()).all(), fn.__name__
        assert np.isfinite(x.grad.cpu().numpy()).all(), fn.__name__
        x.grad = None


def test_inplace_activations():
    x = flambeau.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    x = flambeau.tensor([-1.0, 2.0])
    assert nn.LeakyReLU(0.5, inplace=True)(x) is x and x.tolist() == [-0.5, 2.0]
    a = flambeau.tensor([-1.0, 2.0], requires_grad=True)
    b = a * 1.0
    F.elu_(b)
    b.sum().backward()
    np.testing.assert_allclose(a.grad.cpu().numpy(), [np.exp(-1.0), 1.0], rtol=1e-6)
    leaf = flambeau.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.hardtanh(leaf, inplace=True)


def test_activation_errors():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(flambeau.ones(1), approximate="fast")
    with pytest.raises(RuntimeError, match="floating point"):
        F.silu(flambeau.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="halving dimension must be even"):
        F.glu(flambeau.ones(3))
    with pytest.raises(RuntimeError, match="channel"):
        nn.PReLU(3)(flambeau.ones(2, 4))
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(flambeau.ones(1), 2.0, 1.0)


def test_backend_fused_activation_kernels_replace_the_generic_arrays(monkeypatch):
    """``kernels["gelu"]`` / ``["gelu_backward"]`` run instead of the generic formulas when a
    backend has them (flambeau-cuda does); one returning None hands back to the generic code."""
    x = flambeau.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    xp = x._device._xp
    kernels = x._device.backend.kernels
    seen = []

    def fused_forward(a, *params):
        seen.append(("gelu", params))
        return xp.full(a.shape, 7.0, dtype=a.dtype)

    def fused_backward(g, a, *params):
        seen.append(("gelu_backward", params))
        return g * 3

    monkeypatch.setitem(kernels, "gelu", fused_forward)
    monkeypatch.setitem(kernels, "gelu_backward", fused_backward)
    y = F.gelu(x)
    y.sum().backward()
    assert y.tolist() == [7.0, 7.0, 7.0] and x.grad.tolist() == [3.0, 3.0, 3.0]
    assert seen == [("gelu", ()), ("gelu_backward", ())]
    # a graph of the gradient is differentiated with flambeau ops, not the array kernel
    (gx,) = flambeau.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    assert seen[-1] == ("gelu", ()) and gx.requires_grad

    monkeypatch.setitem(kernels, "elu", lambda a, *p: seen.append(("elu", p)))  # declines
    monkeypatch.setitem(kernels, "elu_backward", lambda g, a, *p: None)
    x.grad = None
    F.selu(x).sum().backward()
    assert seen[-1][0] == "elu" and len(seen[-1][1]) == 2
    torch_like = [1.0507 * 1.67326 * (math.exp(-1.0)), 1.0507, 1.0507]
    np.testing.assert_allclose(x.grad.cpu().numpy(), torch_like, rtol=1e-4)


@pytest.mark.parametrize(("name", "call", "node"), [
    ("relu", lambda lib, x: lib.nn.functional.relu(x), "Threshold"),
    ("relu_", lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True), None),
    ("threshold", lambda lib, x: lib.nn.functional.threshold(x, 0.5, -2.0), "Threshold"),
    ("hardtanh", lambda lib, x: lib.nn.functional.hardtanh(x), "Hardtanh"),
    ("relu6", lambda lib, x: lib.nn.functional.relu6(x), "Hardtanh"),
    ("leaky_relu", lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1), "LeakyRelu")])
def test_step_activation_gradients_stay_connected_to_the_input_as_torch(name, call, node):
    """The gradient of a relu-like op, built with create_graph, depends on the input (its
    derivative there is zero almost everywhere): it requires grad and differentiates again,
    giving torch's values (a gradient penalty of a ReLU network needs this)."""
    torch = pytest.importorskip("torch")
    got = []
    for lib in (torch, flambeau):
        x = lib.tensor([-1.5, -0.2, 0.3, 0.8, 2.0, 7.0], requires_grad=True)
        (g,) = lib.autograd.grad((call(lib, x) ** 2).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g ** 3).sum(), x)
        got.append((g.requires_grad, g.tolist(), gg.tolist()))
        if node is not None:
            got[-1] += (g.grad_fn.name(),)
    assert got[0][0] is True
    assert got[1][0] == got[0][0] and got[1][3:] == got[0][3:]
    for a, b in zip(got[1][1:3], got[0][1:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)

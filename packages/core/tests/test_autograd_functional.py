"""flambeau.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp against PyTorch."""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import functional as AF
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="parity needs torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal(3)
Y = RNG.standard_normal(3)
A = RNG.standard_normal((2, 3))


def _np(t):
    if isinstance(t, (tuple, list)):  # torch's forward-mode jacobian gives lists
        return tuple(_np(s) for s in t)
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t)


def _close(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _args(lib, *arrays):
    return tuple(lib.tensor(a, dtype=lib.float64) for a in arrays)


# one function per family, written once against a framework
FUNCS = {
    "elementwise": (lambda lib: lambda x: x.sin() * x.exp(), (X,)),
    "matmul": (lambda lib: lambda a, x: lib.matmul(a, x), (A, X)),
    "reduction": (lambda lib: lambda x: (x ** 2).sum() + x.logsumexp(0), (X,)),
    "tuple_out": (lambda lib: lambda x, y: (x * y, (x + y).prod()), (X, Y)),
    "broadcast": (lambda lib: lambda x, y: (x[:, None] * y).tanh(), (X, Y)),
}


def _both(name):
    make, arrays = FUNCS[name]
    return make(flambeau), _args(flambeau, *arrays), make(torch), _args(torch, *arrays)


def _unpack(args):
    return args[0] if len(args) == 1 else args


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_matches_torch(name, strategy):
    f, fa, t, ta = _both(name)
    got = AF.jacobian(f, _unpack(fa), strategy=strategy)
    want = torch.autograd.functional.jacobian(t, _unpack(ta), strategy=strategy,
                                              vectorize=strategy == "forward-mode")
    _close(got, want)


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_vjp_and_jvp_match_torch(name):
    f, fa, t, ta = _both(name)
    out_t = t(*ta)
    v_np = (tuple(RNG.standard_normal(tuple(o.shape)) for o in out_t)
            if isinstance(out_t, tuple) else RNG.standard_normal(tuple(out_t.shape)))
    v_f = (tuple(flambeau.tensor(v, dtype=flambeau.float64) for v in v_np)
           if isinstance(v_np, tuple) else flambeau.tensor(v_np, dtype=flambeau.float64))
    v_t = (tuple(torch.tensor(v) for v in v_np) if isinstance(v_np, tuple)
           else torch.tensor(v_np))
    _close(AF.vjp(f, _unpack(fa), v_f), torch.autograd.functional.vjp(t, _unpack(ta), v_t))
    u_np = [RNG.standard_normal(a.shape) for a in FUNCS[name][1]]
    u_f = _unpack(_args(flambeau, *u_np))
    u_t = _unpack(_args(torch, *u_np))
    _close(AF.jvp(f, _unpack(fa), u_f), torch.autograd.functional.jvp(t, _unpack(ta), u_t))


@needs_torch
def test_hessian_vhp_hvp_match_torch():
    make = lambda lib: lambda x, y: (x.sin() * y ** 2).sum() + (x * x.cos()).sum()  # noqa: E731
    fa, ta = _args(flambeau, X, Y), _args(torch, X, Y)
    f, t = make(flambeau), make(torch)
    _close(AF.hessian(f, fa), torch.autograd.functional.hessian(t, ta))
    _close(AF.hessian(lambda x: f(x, fa[1]), fa[0]),
           torch.autograd.functional.hessian(lambda x: t(x, ta[1]), ta[0]))
    _close(AF.hessian(f, fa, outer_jacobian_strategy="forward-mode"),
           torch.autograd.functional.hessian(t, ta))
    v_f, v_t = _args(flambeau, Y, X), _args(torch, Y, X)
    _close(AF.vhp(f, fa, v_f), torch.autograd.functional.vhp(t, ta, v_t))
    _close(AF.hvp(f, fa, v_f), torch.autograd.functional.hvp(t, ta, v_t))


def test_output_structure_follows_tensor_or_tuple():
    x = flambeau.tensor([1.0, 2.0])
    j = AF.jacobian(lambda a: a * 2, x)
    assert isinstance(j, flambeau.Tensor) and j.shape == (2, 2)
    j = AF.jacobian(lambda a: (a * 2,), x)
    assert isinstance(j, tuple) and len(j) == 1 and j[0].shape == (2, 2)
    j = AF.jacobian(lambda a, b: a.sum() * b, (x, x[:1]))
    assert isinstance(j, tuple) and [t.shape for t in j] == [(1, 2), (1, 1)]
    j = AF.jacobian(lambda a: (a, a.sum()), (x,))
    assert isinstance(j[0], tuple) and j[1][0].shape == (2,)
    out, g = AF.vjp(lambda a: a.sum(), x)
    assert out.ndim == 0 and g.tolist() == [1.0, 1.0]
    out, g = AF.vjp(lambda a: a.sum(), (x,))
    assert isinstance(g, tuple) and g[0].tolist() == [1.0, 1.0]
    out, jv = AF.jvp(lambda a: a * 3, flambeau.tensor([2.0]))  # v defaults to ones
    assert jv.tolist() == [3.0]
    out, h = AF.vhp(lambda a: (a ** 3).sum(keepdim=True, dim=0), flambeau.tensor([1.0]))
    assert out.shape == (1,) and h.tolist() == [6.0]
    h = AF.hessian(lambda a, b: (a * b).sum(), (x, x))
    assert isinstance(h, tuple) and isinstance(h[0], tuple) and h[0][1].tolist() == [
        [1.0, 0.0], [0.0, 1.0]]


def test_independent_outputs_give_zeros_unless_strict():
    x = flambeau.tensor([1.0, 2.0])
    c = flambeau.tensor([5.0, 6.0])
    assert AF.jacobian(lambda a, b: a * 2, (x, x))[1].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert AF.vjp(lambda a: c * 2, x, c)[1].tolist() == [0.0, 0.0]
    assert AF.jvp(lambda a: c * 2, x, c)[1].tolist() == [0.0, 0.0]
    assert AF.hessian(lambda a: a.sum(), x).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert AF.hvp(lambda a: a.sum(), x, x)[1].tolist() == [0.0, 0.0]


def test_results_detached_unless_create_graph():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    out, g = AF.vjp(lambda a: (a ** 3).sum(), x)
    assert not out.requires_grad and not g.requires_grad
    out, g = AF.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert out.requires_grad and g.requires_grad
    (g2,) = flambeau.autograd.grad(g.sum(), x)
    assert g2.tolist() == [6.0, 12.0]
    j = AF.jacobian(lambda a: a ** 2, x, create_graph=True)
    (gj,) = flambeau.autograd.grad(j.sum(), x)
    assert gj.tolist() == [2.0, 2.0]
    assert not AF.hessian(lambda a: (a ** 3).sum(), x).requires_grad
    h = AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert flambeau.autograd.grad(h.sum(), x)[0].tolist() == [6.0, 6.0]
    # as PyTorch: with create_graph the result keeps the graph of the detached stand-in
    y = flambeau.tensor([1.0, 2.0])
    assert AF.jacobian(lambda a: a ** 2, y, create_graph=True).requires_grad
    assert x.grad is None  # nothing accumulated into the caller's leaves


def test_no_grad_outside_is_ignored():
    x = flambeau.tensor([1.0, 2.0])
    with flambeau.no_grad():
        assert AF.vjp(lambda a: (a * a).sum(), x)[1].tolist() == [2.0, 4.0]
        assert AF.jvp(lambda a: a * a, x, x)[1].tolist() == [2.0, 8.0]


# ---------------------------------------------------------------------------- errors
def test_error_inputs_not_tensors():
    with pytest.raises(TypeError, match="vjp: The inputs given to vjp must be either a Tensor "
                                        "or a tuple of Tensors but the given inputs has type "
                                        "float"):
        AF.vjp(lambda a: a, 3.0)
    with pytest.raises(TypeError, match="the value at index 1 has type list"):
        AF.jacobian(lambda a, b: a, (flambeau.ones(1), [1.0]))


def test_error_outputs_not_tensors():
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to "
                                        "jvp must be .* has type float"):
        AF.jvp(lambda a: 3.0, flambeau.ones(1), flambeau.ones(1))


def test_error_v_none_needs_single_element():
    with pytest.raises(RuntimeError, match=r"vjp: The vector v can only be None if the "
                                           r"user-provided function returns a single Tensor with "
                                           r"a single element \(got 1 output\(s\) of shape\(s\) "
                                           r"\[\(2,\)\]\)"):
        AF.vjp(lambda a: a * 2, flambeau.ones(2))
    with pytest.raises(RuntimeError, match="jvp: The vector v can only be None if the input"):
        AF.jvp(lambda a: a * 2, flambeau.ones(2))
    with pytest.raises(RuntimeError, match="hvp: The vector v can only be None if the input"):
        AF.hvp(lambda a: a.sum(), flambeau.ones(2))


def test_error_v_wrong_shape_or_length():
    with pytest.raises(RuntimeError, match=r"vjp: v has invalid size: should be \(3,\) but got "
                                           r"\(2,\)"):
        AF.vjp(lambda a: a * 2, flambeau.ones(3), flambeau.ones(2))
    with pytest.raises(RuntimeError, match="vjp: The given v should contain a single Tensor"):
        AF.vjp(lambda a: a * 2, flambeau.ones(3), (flambeau.ones(3), flambeau.ones(3)))
    with pytest.raises(RuntimeError, match="vhp: v is a tuple of invalid length: should be 2 "
                                           "but got 1"):
        AF.vhp(lambda a, b: (a * b).sum(), (flambeau.ones(2), flambeau.ones(2)),
               (flambeau.ones(2),))


def test_error_strict_output_not_requiring_grad():
    c = flambeau.ones(2)
    with pytest.raises(RuntimeError, match="vjp: Output 0 of the user-provided function does "
                                           "not require gradients"):
        AF.vjp(lambda a: c * 2, flambeau.ones(2), c, strict=True)


def test_error_strict_independent_input():
    x = flambeau.ones(2)
    with pytest.raises(RuntimeError, match="jacobian: Output 0 of the user-provided function is "
                                           "independent of input 1. This is not allowed in "
                                           "strict mode."):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    with pytest.raises(RuntimeError, match="vjp: The output of the user-provided function is "
                                           "independent of input 1"):
        AF.vjp(lambda a, b: a * 2, (x, x), x, strict=True)
    with pytest.raises(RuntimeError, match="jvp: The output of the user-provided function is "
                                           "independent of input 1"):
        AF.jvp(lambda a, b: a * 2, (x, x), (x, x), strict=True)


def test_error_strict_linear_hessian():
    with pytest.raises(RuntimeError, match="hessian: While computing the hessian, found that "
                                           "the jacobian of the user-provided function with "
                                           "respect to input 0 is independent of the input"):
        AF.hessian(lambda a: (a * 2).sum(), flambeau.ones(2), strict=True)
    with pytest.raises(RuntimeError, match="hvp: The jacobian of the user-provided function is "
                                           "independent of input 0"):
        AF.hvp(lambda a: (a * 2).sum(), flambeau.ones(2), flambeau.ones(2), strict=True)


def test_error_hessian_needs_single_element_output():
    with pytest.raises(RuntimeError, match=r"hessian: The Tensor returned by the function given "
                                           r"to hessian should contain a single element \(got "
                                           r"shape \(2,\)\)"):
        AF.hessian(lambda a: a * 2, flambeau.ones(2))
    with pytest.raises(RuntimeError, match="vhp: The function given to vhp should return a "
                                           "single Tensor"):
        AF.vhp(lambda a: (a.sum(), a.sum()), flambeau.ones(2), flambeau.ones(2))


def test_error_unknown_strategy():
    with pytest.raises(ValueError, match='jacobian: Expected strategy to be either '
                                         '"forward-mode" or "reverse-mode", got \'sideways\''):
        AF.jacobian(lambda a: a, flambeau.ones(2), strategy="sideways")


def test_attached_to_autograd():
    assert flambeau.autograd.functional is AF
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        flambeau.autograd.nothing  # noqa: B018

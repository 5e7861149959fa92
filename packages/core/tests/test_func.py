"""flambeau.func (torch.func): grad, vjp, jvp, jacobians, hessian, vmap, functional_call."""

import numpy as np
import pytest

import flambeau
from flambeau import func as F
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="parity needs torch")

RNG = np.random.default_rng(1)
X = RNG.standard_normal(3)
Y = RNG.standard_normal(3)
A = RNG.standard_normal((2, 3))
B = RNG.standard_normal((4, 3))


def _np(t):
    if isinstance(t, (tuple, list)):
        return tuple(_np(s) for s in t)
    if isinstance(t, dict):
        return {k: _np(v) for k, v in t.items()}
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t)


def _close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _close(a[k], b[k], tol)
        return
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _t(lib, *arrays):
    return tuple(lib.tensor(a, dtype=lib.float64) for a in arrays)


SCALAR_FUNCS = {
    "elementwise": (lambda lib: lambda x: (x.sin() * x.exp()).sum(), (X,)),
    "matmul": (lambda lib: lambda a, x: lib.matmul(a, x).pow(2).sum(), (A, X)),
    "reduction": (lambda lib: lambda x: x.logsumexp(0) + x.std(), (X,)),
    "two_args": (lambda lib: lambda x, y: (x * y.tanh()).prod(), (X, Y)),
}
VECTOR_FUNCS = {
    "elementwise": (lambda lib: lambda x: x.sin() * x.exp(), (X,)),
    "matmul": (lambda lib: lambda a, x: lib.matmul(a, x), (A, X)),
    "softmax": (lambda lib: lambda x: x.softmax(0) * x.sum(), (X,)),
    "tuple_out": (lambda lib: lambda x, y: (x * y, (x + y).prod()), (X, Y)),
}


def _pair(table, name):
    make, arrays = table[name]
    return make(flambeau), _t(flambeau, *arrays), make(torch), _t(torch, *arrays)


# ---------------------------------------------------------------------------- parity
@needs_torch
@pytest.mark.parametrize("name", sorted(SCALAR_FUNCS))
def test_grad_and_hessian_match_torch(name):
    f, fa, t, ta = _pair(SCALAR_FUNCS, name)
    nums = tuple(range(len(fa)))
    _close(F.grad(f, argnums=nums)(*fa), torch.func.grad(t, argnums=nums)(*ta))
    _close(F.grad_and_value(f)(*fa), torch.func.grad_and_value(t)(*ta))
    _close(F.hessian(f)(*fa), torch.func.hessian(t)(*ta))
    _close(F.hessian(f, nums)(*fa), torch.func.hessian(t, nums)(*ta))
    _close(F.jacrev(F.grad(f))(*fa), torch.func.hessian(t)(*ta))


@needs_torch
@pytest.mark.parametrize("name", sorted(VECTOR_FUNCS))
@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(name, jac):
    f, fa, t, ta = _pair(VECTOR_FUNCS, name)
    nums = tuple(range(len(fa)))
    _close(getattr(F, jac)(f)(*fa), getattr(torch.func, jac)(t)(*ta))
    _close(getattr(F, jac)(f, argnums=nums)(*fa), getattr(torch.func, jac)(t, argnums=nums)(*ta))


@needs_torch
@pytest.mark.parametrize("name", sorted(VECTOR_FUNCS))
def test_vjp_jvp_match_torch(name):
    f, fa, t, ta = _pair(VECTOR_FUNCS, name)
    out_f, fn_f = F.vjp(f, *fa)
    out_t, fn_t = torch.func.vjp(t, *ta)
    _close(out_f, out_t)
    ct = (tuple(RNG.standard_normal(tuple(o.shape)) for o in out_t)
          if isinstance(out_t, tuple) else RNG.standard_normal(tuple(out_t.shape)))
    if isinstance(ct, tuple):
        _close(fn_f(_t(flambeau, *ct)), fn_t(_t(torch, *ct)))
    else:
        _close(fn_f(_t(flambeau, ct)[0]), fn_t(_t(torch, ct)[0]))
    tangents = [RNG.standard_normal(a.shape) for a in SCALAR_FUNCS.get(name, VECTOR_FUNCS[name])[1]]
    _close(F.jvp(f, fa, _t(flambeau, *tangents)), torch.func.jvp(t, ta, _t(torch, *tangents)))


@needs_torch
def test_compositions_match_torch():
    f = lambda lib: lambda x: (x.sin() * x ** 2).sum()  # noqa: E731
    fx, tx = _t(flambeau, X)[0], _t(torch, X)[0]
    _close(F.jacrev(F.jacfwd(f(flambeau)))(fx), torch.func.jacrev(torch.func.jacfwd(f(torch)))(tx))
    _close(F.jacfwd(F.jacrev(F.grad(f(flambeau))))(fx),
           torch.func.jacfwd(torch.func.jacrev(torch.func.grad(f(torch))))(tx))
    g = lambda lib: lambda x: (x ** 3).sum()  # noqa: E731
    _close(F.vmap(F.grad(g(flambeau)))(_t(flambeau, B)[0]),
           torch.func.vmap(torch.func.grad(g(torch)))(_t(torch, B)[0]))
    _close(F.vmap(F.jacrev(f(flambeau)))(_t(flambeau, B)[0]),
           torch.func.vmap(torch.func.jacrev(f(torch)))(_t(torch, B)[0]))


# ---------------------------------------------------------------------------- grad
def test_grad_of_grad_and_closures():
    x = flambeau.tensor(2.0, dtype=flambeau.float64)
    assert F.grad(F.grad(lambda v: v ** 3))(x).item() == 12.0
    assert F.grad(F.grad(F.grad(lambda v: v ** 4)))(x).item() == 48.0
    # the inner grad treats the outer variable (read from the closure) as a constant, the
    # outer grad differentiates through it: d/dy [d/dx x*y] = 1
    y0 = flambeau.tensor(3.0, dtype=flambeau.float64)
    assert F.grad(lambda y: F.grad(lambda v: v * y)(x))(y0).item() == 1.0
    assert F.grad(lambda y: F.grad(lambda v: v * y ** 2)(x))(y0).item() == pytest.approx(6.0)


def test_grad_wrt_input_only_when_input_already_requires_grad():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    g = F.grad(lambda a: (a * x).sum())(x)  # x in the closure is a constant here
    assert g.tolist() == [1.0, 2.0]
    g.sum().backward()  # and the result is differentiable by plain autograd
    assert x.grad.tolist() == [1.0, 1.0]


def test_grad_results_detached_when_nothing_outside_requires_grad():
    g = F.grad(lambda a: (a ** 2).sum())(flambeau.tensor([1.0, 2.0]))
    assert not g.requires_grad and g.grad_fn is None
    with flambeau.no_grad():  # grad ignores an outer no_grad, its result does not track
        x = flambeau.tensor([1.0], requires_grad=True)
        g = F.grad(lambda a: (a ** 2).sum())(x)
    assert g.tolist() == [2.0] and not g.requires_grad


def test_grad_pytrees_argnums_aux_kwargs():
    params = {"w": flambeau.tensor([1.0, 2.0]), "b": [flambeau.tensor(0.5)]}

    def loss(p, x, scale=1.0):
        out = ((p["w"] * x).sum() + p["b"][0]) * scale
        return out, {"out": out}

    g, aux = F.grad(loss, has_aux=True)(params, flambeau.tensor([3.0, 4.0]), scale=2.0)
    assert g["w"].tolist() == [6.0, 8.0] and g["b"][0].item() == 2.0
    assert aux["out"].item() == 23.0 and not aux["out"].requires_grad
    (gx, gp), (value, aux) = F.grad_and_value(loss, argnums=(1, 0), has_aux=True)(
        params, flambeau.tensor([3.0, 4.0]))
    assert gx.tolist() == [1.0, 2.0] and gp["w"].tolist() == [3.0, 4.0]
    assert value.item() == 11.5
    assert F.grad(lambda a, b: (a * b).sum(), argnums=-1)(
        flambeau.ones(2), flambeau.ones(2)).tolist() == [1.0, 1.0]


def test_grad_unused_input_and_constant_output_give_zeros():
    x = flambeau.tensor([1.0, 2.0])
    assert F.grad(lambda a, b: (a * 2).sum(), argnums=1)(x, x).tolist() == [0.0, 0.0]
    assert F.grad(lambda a: flambeau.tensor(3.0))(x).tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------- per-sample grads
def test_per_sample_gradients_of_a_linear_model_match_a_loop():
    rng = np.random.default_rng(5)
    W = flambeau.tensor(rng.standard_normal((2, 3)), dtype=flambeau.float64)
    b = flambeau.tensor(rng.standard_normal(2), dtype=flambeau.float64)
    xs = flambeau.tensor(rng.standard_normal((5, 3)), dtype=flambeau.float64)
    ys = flambeau.tensor(rng.standard_normal((5, 2)), dtype=flambeau.float64)

    def loss(params, x, y):
        pred = flambeau.matmul(params["W"], x) + params["b"]
        return ((pred - y) ** 2).mean()

    params = {"W": W, "b": b}
    per_sample = F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
    assert per_sample["W"].shape == (5, 2, 3) and per_sample["b"].shape == (5, 2)
    for i in range(5):
        Wi = W.detach().requires_grad_(True)
        bi = b.detach().requires_grad_(True)
        loss({"W": Wi, "b": bi}, xs[i], ys[i]).backward()
        np.testing.assert_allclose(per_sample["W"][i].cpu().numpy(), Wi.grad.cpu().numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(per_sample["b"][i].cpu().numpy(), bi.grad.cpu().numpy(),
                                   rtol=1e-12)


# ---------------------------------------------------------------------------- vjp / jvp
def test_vjp_fn_reusable_with_aux_and_pytrees():
    x = flambeau.tensor([1.0, 2.0])
    (out, vjp_fn, aux) = F.vjp(lambda a: ({"sq": a ** 2}, a.sum()), x, has_aux=True)
    assert out["sq"].tolist() == [1.0, 4.0] and aux.item() == 3.0
    assert vjp_fn({"sq": flambeau.ones(2)})[0].tolist() == [2.0, 4.0]
    assert vjp_fn({"sq": flambeau.tensor([1.0, 0.0])})[0].tolist() == [2.0, 0.0]


def test_jvp_has_aux_and_zero_tangent_path():
    x = flambeau.tensor([1.0, 2.0])
    out, jv, aux = F.jvp(lambda a: (a ** 2, "aux"), (x,), (flambeau.ones(2),), has_aux=True)
    assert jv.tolist() == [2.0, 4.0] and aux == "aux"
    c = flambeau.ones(2)
    assert F.jvp(lambda a: c * 2, (x,), (x,))[1].tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------- vmap
def test_vmap_matches_loop_in_dims_out_dims_and_pytrees():
    x = flambeau.tensor(A)  # (2, 3)
    y = flambeau.tensor(X)  # (3,)
    assert np.allclose(F.vmap(lambda r, v: r * v, in_dims=(0, None))(x, y).cpu().numpy(),
                       (x * y).cpu().numpy())
    assert np.allclose(F.vmap(lambda c: c.sum(), in_dims=1)(x).cpu().numpy(),
                       x.sum(0).cpu().numpy())
    assert np.allclose(F.vmap(lambda c: c.sum(), in_dims=-1)(x).cpu().numpy(),
                       x.sum(0).cpu().numpy())
    out = F.vmap(lambda r: r * 2, out_dims=1)(x)
    assert out.shape == (3, 2) and np.allclose(out.cpu().numpy(), (x * 2).t().cpu().numpy())
    out = F.vmap(lambda d: {"s": d["a"] + d["b"], "l": [d["a"]]},
                 in_dims=({"a": 0, "b": None},))({"a": x, "b": y})
    assert out["s"].shape == (2, 3) and out["l"][0].shape == (2, 3)
    out, const = F.vmap(lambda r: (r.sum(), 7.0), out_dims=(0, None))(x)
    assert const == 7.0 and out.shape == (2,)
    assert F.vmap(lambda r, k=1: r * k)(x, k=3).tolist() == (x * 3).tolist()


def test_vmap_of_vmap_and_grad_through_vmap():
    x = flambeau.tensor(RNG.standard_normal((2, 3, 4)))
    out = F.vmap(F.vmap(lambda v: v.sum()))(x)
    assert out.shape == (2, 3) and np.allclose(out.cpu().numpy(), x.sum(-1).cpu().numpy())
    m, n = x[0], flambeau.tensor(RNG.standard_normal((4, 5)))
    out = F.vmap(F.vmap(flambeau.dot, in_dims=(0, None)), in_dims=(None, 1))(m, n)
    assert out.shape == (5, 3) and np.allclose(out.cpu().numpy(), flambeau.matmul(m,
                                                                                  n).t().cpu().numpy())
    g = F.grad(lambda v: F.vmap(lambda r: (r ** 2).sum())(v).sum())(x[0])
    assert np.allclose(g.cpu().numpy(), 2 * x[0].cpu().numpy())
    w = flambeau.tensor([1.0, 2.0], requires_grad=True)
    F.vmap(lambda r: r * w)(flambeau.ones(3, 2)).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_vmap_randomness_modes():
    x = flambeau.zeros(3, 2)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness "
                                           "error mode"):
        F.vmap(lambda r: r + flambeau.rand(2))(x)
    assert flambeau.rand(1).shape == (1,)  # the generator works again afterwards
    flambeau.manual_seed(0)
    diff = F.vmap(lambda r: r + flambeau.rand(2), randomness="different")(x)
    assert not bool((diff[0] == diff[1]).all())
    flambeau.manual_seed(0)
    same = F.vmap(lambda r: r + flambeau.rand(2), randomness="same")(x)
    assert bool((same == same[0]).all())
    assert same[0].tolist() == diff[0].tolist()  # the first element's draws, either way
    # after "same", the stream is where one element's draws left it
    flambeau.manual_seed(0)
    flambeau.rand(2)
    expected = flambeau.rand(1)
    flambeau.manual_seed(0)
    F.vmap(lambda r: r + flambeau.rand(2), randomness="same")(x)
    assert flambeau.rand(1).tolist() == expected.tolist()


def test_top_level_vmap():
    assert flambeau.vmap is F.vmap


# ---------------------------------------------------------------------------- functional_call
class Linear:
    """A Module-like object: only named_parameters / named_buffers / __call__."""

    def __init__(self):
        self.weight = flambeau.tensor([[1.0, 2.0]], requires_grad=True)
        self.scale = flambeau.tensor(1.0)

    def named_parameters(self, remove_duplicate=True):
        return iter([("weight", self.weight)])

    def named_buffers(self, remove_duplicate=True):
        return iter([("scale", self.scale)])

    def __call__(self, x, fail=False):
        if fail:
            raise ValueError("boom")
        return flambeau.matmul(x, self.weight.t()) * self.scale


def test_functional_call_swaps_restores_and_differentiates():
    m = Linear()
    w0 = m.weight
    x = flambeau.tensor([[1.0, 1.0]])
    w = flambeau.tensor([[3.0, 4.0]])
    assert F.functional_call(m, {"weight": w}, (x,)).tolist() == [[7.0]]
    assert F.functional_call(m, ({"weight": w}, {"scale": flambeau.tensor(2.0)}), x).tolist() \
        == [[14.0]]
    assert m.weight is w0 and m.scale.item() == 1.0
    with pytest.raises(ValueError, match="boom"):
        F.functional_call(m, {"weight": w}, (x,), {"fail": True})
    assert m.weight is w0
    g = F.grad(lambda p: F.functional_call(m, p, (x,)).sum())({"weight": w})
    assert g["weight"].tolist() == [[1.0, 1.0]] and m.weight.grad is None
    # per-sample gradients through functional_call
    xs = flambeau.tensor([[1.0, 0.0], [0.0, 2.0]])
    gs = F.vmap(F.grad(lambda p, xi: F.functional_call(m, p, (xi[None],)).sum()),
                in_dims=(None, 0))({"weight": w}, xs)
    assert gs["weight"].tolist() == [[[1.0, 0.0]], [[0.0, 2.0]]]


def test_functional_call_with_nn_module():
    nn = pytest.importorskip("flambeau.nn")
    m = nn.Linear(2, 1)
    params = {k: v.detach() for k, v in m.named_parameters()}
    x = flambeau.tensor([[1.0, 2.0]])
    assert np.allclose(F.functional_call(m, params, (x,)).detach().cpu().numpy(),
                       m(x).detach().cpu().numpy())
    from flambeau.nn.utils.stateless import functional_call as old
    assert old(m, {"bias": flambeau.zeros(1)}, x).shape == (1, 1)


def test_stack_module_state():
    a, b = Linear(), Linear()
    b.weight = flambeau.tensor([[5.0, 6.0]], requires_grad=True)
    params, buffers = F.stack_module_state([a, b])
    assert params["weight"].tolist() == [[[1.0, 2.0]], [[5.0, 6.0]]]
    assert params["weight"].requires_grad and params["weight"].grad_fn is None
    assert buffers["scale"].tolist() == [1.0, 1.0]
    out = F.vmap(lambda p, bf: F.functional_call(a, (p, bf), (flambeau.ones(1, 2),)))(
        params, buffers)
    assert out.tolist() == [[[3.0]], [[11.0]]]


# ---------------------------------------------------------------------------- errors
def test_error_grad_non_scalar_output():
    with pytest.raises(RuntimeError, match=r"grad\(<lambda>\)\(\*args\): Expected f\(\*args\) to "
                                           r"return a scalar Tensor, got tensor with 1 dims "
                                           r"\(shape \(2,\)\)"):
        F.grad(lambda a: a * 2)(flambeau.ones(2))


def test_error_grad_output_not_tensor():
    def f(a):
        return 3.0

    with pytest.raises(RuntimeError, match=r"grad_and_value\(f\)\(\*args\): Expected f\(\*args\) "
                                           r"to return a Tensor, got float"):
        F.grad_and_value(f)(flambeau.ones(2))


def test_error_argnums():
    x = flambeau.ones(2)
    with pytest.raises(RuntimeError, match=r"grad\(<lambda>\)\(\*args\): Got argnums=2, but only "
                                           r"1 positional inputs \(expected -1 <= argnums < 1\)"):
        F.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match=r"argnums elements must be unique, got \(0, 0\)"):
        F.grad(lambda a: a.sum(), argnums=(0, 0))(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        F.jacrev(lambda a: a, argnums=0.5)(x)


def test_error_has_aux_without_pair():
    with pytest.raises(RuntimeError, match=r"output of function f should be a tuple: \(output, "
                                           r"aux\) if has_aux is True, got Tensor"):
        F.grad(lambda a: a.sum(), has_aux=True)(flambeau.ones(2))


def test_error_differentiating_a_non_tensor():
    with pytest.raises(ValueError, match=r"grad\(<lambda>\)\(\*args\): the arguments to "
                                         r"differentiate must be Tensors .* got float"):
        F.grad(lambda a: a)(2.0)


def test_error_vjp_and_jvp():
    with pytest.raises(RuntimeError, match=r"vjp\(<lambda>, \*primals\): expected f\(\*primals\) "
                                           r"to return only tensors, got unsupported type float"):
        F.vjp(lambda a: 2.0, flambeau.ones(1))
    _, fn = F.vjp(lambda a: a * 2, flambeau.ones(3))
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: cotangent 0 has a shape of "
                                           r"\(2,\) and output 0 has a shape of \(3,\)"):
        fn(flambeau.ones(2))
    with pytest.raises(RuntimeError, match=r"structure of cotangents .* cotangents: \(\*,\), "
                                           r"primal output: \*"):
        fn((flambeau.ones(3),))
    with pytest.raises(RuntimeError, match=r"jvp\(<lambda>, primals, tangents\): Expected "
                                           r"primals to be a tuple"):
        F.jvp(lambda a: a, flambeau.ones(2), flambeau.ones(2))
    with pytest.raises(RuntimeError, match=r"same python structure.* primals with structure "
                                           r"TreeSpec\(tuple, None, \[\*\]\) and tangents "
                                           r"with structure TreeSpec\(tuple, None, \[\*,\n  "
                                           r"\*\]\)"):
        F.jvp(lambda a: a, (flambeau.ones(2),), (flambeau.ones(2), flambeau.ones(2)))
    with pytest.raises(RuntimeError, match=r"tangent 0 has shape \(3,\) but its primal has "
                                           r"shape \(2,\)"):
        F.jvp(lambda a: a, (flambeau.ones(2),), (flambeau.ones(3),))


def test_error_jacobian_output_not_tensor():
    with pytest.raises(RuntimeError, match=r"jacfwd\(<lambda>\)\(\*args\): expected "
                                           r"f\(\*primals\) to return only tensors"):
        F.jacfwd(lambda a: [a, "x"])(flambeau.ones(1))


def test_error_vmap_non_tensor_with_int_in_dim():
    with pytest.raises(ValueError, match=r"vmap\(<lambda>, in_dims=0, \.\.\.\)\(<inputs>\): Got "
                                         r"in_dim=0 for an input but the input is of type "
                                         r"float. We cannot vmap over non-Tensor arguments"):
        F.vmap(lambda a: a)(3.0)


def test_error_vmap_mismatched_batch_sizes():
    with pytest.raises(ValueError, match=r"vmap: Expected all tensors to have the same size in "
                                         r"the mapped dimension, got sizes \[3, 2\]"):
        F.vmap(lambda a, b: a)(flambeau.ones(3), flambeau.ones(2, 3))


def test_error_vmap_in_dim_out_of_range_and_bad_type():
    with pytest.raises(ValueError, match=r"Got in_dim=1 for some input, but that input is a "
                                         r"Tensor of dimensionality 1 \(shape \(3,\)\) so expected "
                                         r"in_dim to satisfy -1 <= in_dim < 1"):
        F.vmap(lambda a: a, in_dims=1)(flambeau.ones(3))
    with pytest.raises(ValueError, match=r"Got in_dim=0.5 for an input but in_dim must be "
                                         r"either an integer dimension or None"):
        F.vmap(lambda a: a, in_dims=(0.5,))(flambeau.ones(3))
    with pytest.raises(ValueError, match=r"expected `in_dims` to be int or a \(potentially "
                                         r"nested\) tuple"):
        F.vmap(lambda a: a, in_dims=None)(flambeau.ones(3))


def test_error_vmap_in_dims_structure():
    with pytest.raises(ValueError, match=r"in_dims is not compatible with the structure of "
                                         r"`inputs`. in_dims has structure TreeSpec\(tuple, None, "
                                         r"\[\*,\n  \*\]\) but inputs has structure "
                                         r"TreeSpec\(tuple, None, \[\*\]\)"):
        F.vmap(lambda a: a, in_dims=(0, 1))(flambeau.ones(3))


def test_error_vmap_no_mapped_input_and_no_inputs():
    with pytest.raises(ValueError, match="at least one input must be mapped over"):
        F.vmap(lambda a: a, in_dims=(None,))(flambeau.ones(3))
    with pytest.raises(ValueError, match=r"vmap\(<lambda>\)\(<inputs>\): got no inputs"):
        F.vmap(lambda: flambeau.ones(1))()


def test_error_vmap_outputs():
    with pytest.raises(ValueError, match=r"vmap\(<lambda>, \.\.\.\): `<lambda>` must only return "
                                         r"Tensors, got type float"):
        F.vmap(lambda a: 3.0)(flambeau.ones(2))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-1, 0\], but got 2\)"):
        F.vmap(lambda a: a.sum(), out_dims=2)(flambeau.ones(2, 3))
    with pytest.raises(ValueError, match=r"out_dims is not compatible with the structure of "
                                         r"`outputs`. out_dims has structure TreeSpec\(tuple, "
                                         r"None, \[\*,\n  \*\]\) but outputs has structure \*"):
        F.vmap(lambda a: a, out_dims=(0, 0))(flambeau.ones(2))
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        F.vmap(lambda a: a.sum(), out_dims=None)(flambeau.tensor([1.0, 2.0]))


def test_error_vmap_zero_size_and_options():
    with pytest.raises(ValueError, match="the mapped dimension has size 0"):
        F.vmap(lambda a: a)(flambeau.ones(0, 2))
    with pytest.raises(ValueError, match=r"vmap: chunk_size should be None or greater than 0. "
                                         r"\(got 0\)"):
        F.vmap(lambda a: a, chunk_size=0)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness are 'error', "
                                           "'different', or 'same'. Got bla"):
        F.vmap(lambda a: a, randomness="bla")
    assert F.vmap(lambda a: a * 2, chunk_size=2)(flambeau.ones(3)).tolist() == [2.0] * 3


def test_error_functional_call():
    m = Linear()
    x = flambeau.ones(1, 2)
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        F.functional_call(m, ({"weight": flambeau.ones(1, 2)}, {"weight": flambeau.ones(1, 2)}),
                          x)
    with pytest.raises(ValueError, match="Expected parameter_and_buffer_dicts to be a dict, or a "
                                         "list/tuple of dicts, but got int"):
        F.functional_call(m, 3, x)
    with pytest.raises(RuntimeError, match=r"Error\(s\) in reparametrizing for Linear:\n\t"
                                           r"Unexpected key\(s\): 'zzz'.\n\tMissing key\(s\): "
                                           r"'scale'."):
        F.functional_call(m, {"weight": flambeau.ones(1, 2), "zzz": flambeau.ones(1)}, x,
                          strict=True)
    with pytest.raises(AttributeError, match="Linear has no attribute `sub`"):
        F.functional_call(m, {"sub.weight": flambeau.ones(1, 2)}, x)
    with pytest.raises(TypeError, match="is not an instance of flambeau.Tensor"):
        F.functional_call(m, {"weight": [[1.0, 1.0]]}, x)
    assert m.weight.tolist() == [[1.0, 2.0]]


def test_error_stack_module_state():
    with pytest.raises(RuntimeError, match="stack_module_state: Expected at least one model, "
                                           "got 0."):
        F.stack_module_state([])
    a, b = Linear(), Linear()
    b.weight = flambeau.tensor([[5.0, 6.0]])
    with pytest.raises(RuntimeError, match="Expected weight from each model to have the same "
                                           ".requires_grad"):
        F.stack_module_state([a, b])

    class Other(Linear):
        pass

    with pytest.raises(RuntimeError, match="Expected all models to be of the same class"):
        F.stack_module_state([a, Other()])


# ---------------------------------------------------------------------------- linearize & co.


def _cubic_and_sum(a, b):
    return a ** 3 * b, (a * b).sum()


def test_linearize_matches_jvp_for_many_tangents_and_torch():
    rng = np.random.default_rng(3)
    a, b = (flambeau.tensor(rng.standard_normal(4)) for _ in range(2))
    out, jvp_fn = F.linearize(_cubic_and_sum, a, b)
    assert not out[0].requires_grad
    for _ in range(3):
        ta, tb = (flambeau.tensor(rng.standard_normal(4)) for _ in range(2))
        got = jvp_fn(ta, tb)
        expected = F.jvp(_cubic_and_sum, (a, b), (ta, tb))[1]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.cpu().numpy(), e.cpu().numpy(), rtol=1e-12)
            assert not g.requires_grad
        if torch is not None:
            theirs = torch.func.linearize(_cubic_and_sum, *(torch.tensor(t.cpu().numpy())
                                                            for t in (a, b)))[1]
            for g, e in zip(got, theirs(*(torch.tensor(t.cpu().numpy()) for t in (ta, tb)))):
                np.testing.assert_allclose(g.cpu().numpy(), e.numpy(), rtol=1e-12)


def test_linearize_runs_func_once():
    calls = []

    def f(x):
        calls.append(1)
        return x.sin()

    _, jvp_fn = F.linearize(f, flambeau.zeros(3))
    assert jvp_fn(flambeau.ones(3)).tolist() == [1.0, 1.0, 1.0]
    jvp_fn(flambeau.ones(3))
    assert len(calls) == 1


def test_linearize_products_stay_differentiable_for_an_outer_graph():
    w = flambeau.tensor([1.0, 2.0], requires_grad=True)
    _, jvp_fn = F.linearize(lambda x: x ** 3, w)
    product = jvp_fn(flambeau.ones(2))  # 3 w^2
    product.sum().backward()
    assert w.grad.tolist() == [6.0, 12.0]


def test_linearize_errors():
    with pytest.raises(RuntimeError, match="primals must be Tensors, got list"):
        F.linearize(lambda x: x, [1.0])
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        F.linearize(lambda x: 1.0, flambeau.ones(1))
    _, jvp_fn = F.linearize(lambda x: x * 2, flambeau.ones(3))
    with pytest.raises(RuntimeError, match="tangent 0 has shape \\(4,\\) but its primal has "
                                           "shape \\(3,\\)"):
        jvp_fn(flambeau.ones(4))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp_fn(flambeau.ones(3), flambeau.ones(3))


def test_functionalize_keeps_eager_results_and_checks_remove():
    def f(x):
        y = x.clone()
        y.mul_(2)
        x.add_(1)
        return y

    x = flambeau.tensor([1.0, 2.0])
    for remove in ("mutations", "mutations_and_views"):
        x = flambeau.tensor([1.0, 2.0])
        assert F.functionalize(f, remove=remove)(x).tolist() == [2.0, 4.0]
        assert x.tolist() == [2.0, 3.0]  # mutations of the inputs still happen, as in torch
    assert F.functionalize(f).__name__ == "f"
    with pytest.raises(RuntimeError, match="received invalid argument for remove=views"):
        F.functionalize(f, remove="views")


def test_debug_unwrap_gives_the_tensor_inside_vmap_too():
    t = flambeau.ones(2)
    assert F.debug_unwrap(t) is t
    seen = []
    F.vmap(lambda row: seen.append(type(F.debug_unwrap(row))) or row)(flambeau.ones(2, 3))
    assert seen and all(s is flambeau.Tensor for s in seen)

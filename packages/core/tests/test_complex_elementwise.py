"""Elementwise ops on complex tensors: values and gradients against PyTorch, gradcheck and
gradgradcheck in complex128, the ops PyTorch refuses for complex tensors, mixed real/complex
promotion and in-place writes.

Gradients follow PyTorch's convention: for a real loss ``L`` of ``z = x + iy``, ``z.grad`` is
``dL/dx + i dL/dy``. The torch comparisons run on CPU tensors; gradcheck and the refusals run
on the default device (``FLAMBEAU_TEST_DEVICE``).
"""

import numpy as np
import pytest

import flambeau
from flambeau.autograd import Function, GradcheckError, gradcheck, gradgradcheck

CPU = {"device": "cpu"}
COMPLEX = ["complex64", "complex128"]
TOL = {"complex64": 2e-5, "complex128": 1e-10}


@pytest.fixture
def torch(cpu_default):
    """PyTorch, for tests that compare with it: they run on the CPU, as torch's tensors do
    (tests without it run on the default device)."""
    return pytest.importorskip("torch")


def _values(seed, shape=(2, 3), dtype="complex128"):
    """Complex numbers with real and imaginary parts in +-[0.2, 1.4]: away from the axes,
    where the branch cuts of log, sqrt and the inverse functions lie."""
    rng = np.random.default_rng(seed)
    parts = rng.uniform(0.2, 1.4, shape + (2,)) * rng.choice([-1.0, 1.0], shape + (2,))
    return (parts[..., 0] + 1j * parts[..., 1]).astype(dtype)


def _pair(torch, array, requires_grad=False):
    """The same values as a flambeau CPU tensor and a torch tensor."""
    f = flambeau.tensor(array, requires_grad=requires_grad, **CPU)
    t = torch.tensor(array, requires_grad=requires_grad)
    return f, t


def _close(got, want, tol):
    want = want.detach().resolve_conj().numpy()
    got = got.detach().cpu().numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _loss(lib, out, weights):
    """A real loss of ``out`` that weighs the real and imaginary parts differently."""
    if out.is_complex():
        return (out * lib.tensor(weights).conj()).real.sum()
    return (out * lib.tensor(weights.real)).sum()


# ------------------------------------------------------------------ holomorphic unary ops

UNARY = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
         "reciprocal", "square", "neg", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin",
         "acos", "atan", "asinh", "acosh", "atanh", "sigmoid", "sinc"]
# non-holomorphic ones with a complex version: abs and angle give real results
NON_HOLOMORPHIC = ["abs", "sgn", "angle"]


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", UNARY + NON_HOLOMORPHIC)
def test_unary_values_match_torch(torch, name, dtype):
    f, t = _pair(torch, _values(1, dtype=dtype))
    _close(getattr(flambeau, name)(f), getattr(torch, name)(t), TOL[dtype])
    _close(getattr(f, name)(), getattr(t, name)(), TOL[dtype])


@pytest.mark.parity
@pytest.mark.parametrize("name", UNARY + NON_HOLOMORPHIC)
def test_unary_gradients_match_torch(torch, name):
    f, t = _pair(torch, _values(2), requires_grad=True)
    weights = _values(3)
    _loss(flambeau, getattr(flambeau, name)(f), weights).backward()
    _loss(torch, getattr(torch, name)(t), weights).backward()
    _close(f.grad, t.grad, 1e-10)


@pytest.mark.parametrize("name", UNARY + NON_HOLOMORPHIC)
def test_unary_gradcheck(name):
    z = flambeau.tensor(_values(4), requires_grad=True)
    assert gradcheck(getattr(flambeau, name), (z,))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "rsqrt", "tan", "tanh", "sigmoid",
                                  "asin", "acosh", "atanh", "sinc", "abs", "sgn"])
def test_unary_gradgradcheck(name):
    z = flambeau.tensor(_values(5, (3,)), requires_grad=True)
    assert gradgradcheck(getattr(flambeau, name), (z,))


def test_gradients_without_a_graph_of_the_gradient_conjugate_too():
    # tanh and sigmoid have a bare-array backward for real tensors; complex ones must not
    # take it (it has no conjugate)
    z = flambeau.tensor(_values(6), requires_grad=True)
    for fn in (flambeau.tanh, flambeau.sigmoid):
        (g,) = flambeau.autograd.grad(fn(z).real.sum(), z)
        (want,) = flambeau.autograd.grad(fn(z).real.sum(), z, create_graph=True)
        np.testing.assert_allclose(g.cpu().numpy(), want.detach().cpu().numpy())
        assert np.abs(g.cpu().numpy().imag).max() > 0.01


@pytest.mark.parity
def test_acosh_gradient_left_of_the_imaginary_axis(torch):
    # one square root of (z - 1)(z + 1) would give the wrong sign of acosh'(z) there
    values = np.array([-2 + 0.1j, -0.5 - 0.7j, 0.3 + 2j])
    f, t = _pair(torch, values, requires_grad=True)
    flambeau.acosh(f).real.sum().backward()
    torch.acosh(t).real.sum().backward()
    _close(f.grad, t.grad, 1e-12)
    assert gradcheck(flambeau.acosh, (flambeau.tensor(values, requires_grad=True),))


# ------------------------------------------------------------------ abs, sgn and sign


def test_sgn_is_sign_for_real_tensors_and_z_over_abs_for_complex():
    x = flambeau.tensor([-2.5, 0.0, 3.0])
    assert flambeau.sgn(x).tolist() == flambeau.sign(x).tolist() == [-1.0, 0.0, 1.0]
    z = flambeau.tensor([3 + 4j, 0j, -2j, complex(0, 5)])
    np.testing.assert_allclose(flambeau.sgn(z).cpu().numpy(), [0.6 + 0.8j, 0, -1j, 1j])
    assert z.sgn().dtype is flambeau.complex64
    w = z.clone()
    assert w.sgn_() is w
    np.testing.assert_allclose(w.cpu().numpy(), flambeau.sgn(z).cpu().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_sign_of_nan_and_negative_zero_is_zero(dtype):
    """torch's sign is ``(x > 0) - (x < 0)``: 0 for NaN and for -0.0 (NumPy's gives NaN and
    -0.0), so the gradient of ``abs`` at NaN is 0 too."""
    x = flambeau.tensor([float("nan"), -0.0, -2.0, 3.0]).to(getattr(flambeau, dtype))
    for fn in (flambeau.sign, flambeau.sgn):
        out = fn(x).double().cpu().numpy()
        assert out.tolist() == [0.0, 0.0, -1.0, 1.0] and not np.signbit(out[1])
    y = flambeau.tensor([float("nan"), 2.0], requires_grad=True)
    y.abs().sum().backward()
    assert y.grad.tolist() == [0.0, 1.0]


@pytest.mark.parity
def test_abs_and_sgn_gradients_at_zero_match_torch(torch):
    values = np.array([0j, 3 + 4j, -1 + 0j])
    for name in ("abs", "sgn"):
        f, t = _pair(torch, values, requires_grad=True)
        weights = np.array([1 - 2j, 0.5 + 1j, 2j])
        _loss(flambeau, getattr(flambeau, name)(f), weights).backward()
        _loss(torch, getattr(torch, name)(t), weights).backward()
        _close(f.grad, t.grad, 1e-12)
        assert f.grad[0].item() == 0


def test_real_abs_and_sgn_gradients_are_unchanged():
    x = flambeau.tensor([-2.0, 3.0], dtype=flambeau.float64, requires_grad=True)
    flambeau.abs(x).sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0]
    x.grad = None
    flambeau.sgn(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parity
def test_sign_refuses_complex_and_points_to_sgn(torch):
    z = flambeau.tensor([1 + 1j])
    with pytest.raises(RuntimeError, match=r"sign: not implemented for complex tensors \(got "
                                           r"flambeau.complex64\); flambeau.sgn"):
        flambeau.sign(z)
    with pytest.raises(RuntimeError, match="sgn"):
        torch.sign(torch.tensor([1 + 1j]))


# ------------------------------------------------------------------ binary and ternary ops


def _w(lib, a):
    """A fixed complex tensor like ``a`` (the third operand of the ternary ops)."""
    return lib.tensor(_values(9, tuple(a.shape), str(a.dtype).split(".")[-1]))


BINARY = {
    "add": lambda lib, a, b: a + b,
    "add_alpha": lambda lib, a, b: lib.add(a, b, alpha=2 - 1j),
    "sub": lambda lib, a, b: a - b,
    "sub_alpha": lambda lib, a, b: lib.sub(a, b, alpha=0.5),
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "true_divide": lambda lib, a, b: lib.true_divide(a, b),
    "pow": lambda lib, a, b: a ** b,
    "pow_method": lambda lib, a, b: lib.pow(a, b),
    "mul_complex_number": lambda lib, a, b: a * (2 - 3j) + b,
    "mul_real_number": lambda lib, a, b: 1.5 * a + b * 2,
    "div_by_complex_number": lambda lib, a, b: a / 3j + b,
    "number_over_tensor": lambda lib, a, b: (1 + 1j) / a + 2.0 / b,
    "pow_int": lambda lib, a, b: a ** 2 + b ** 3,
    "pow_float": lambda lib, a, b: a ** 0.5 + b ** -1.5,
    "pow_complex_exponent": lambda lib, a, b: a ** (0.5 + 1j) + b,
    "pow_zero": lambda lib, a, b: a ** 0 + b,
    "real_number_to_the_power": lambda lib, a, b: 2.0 ** a + b,
    "complex_number_to_the_power": lambda lib, a, b: (1 - 1j) ** a + b,
    "negative_number_to_the_power": lambda lib, a, b: (-2.0) ** a + b,
    "square": lambda lib, a, b: lib.square(a) + b,
    "logaddexp": lambda lib, a, b: lib.logaddexp(a, b),
    "lerp": lambda lib, a, b: lib.lerp(a, b, 0.3),
    "lerp_tensor_weight": lambda lib, a, b: lib.lerp(a, b, _w(lib, a)),
    "addcmul": lambda lib, a, b: lib.addcmul(_w(lib, a), a, b, value=0.5 - 2j),
    "addcdiv": lambda lib, a, b: lib.addcdiv(a, _w(lib, a), b, value=2),
    "float_power": lambda lib, a, b: lib.float_power(a, b),
    "where": lambda lib, a, b: lib.where(a.real > 0, a, b),
    "neg_positive": lambda lib, a, b: -a + lib.positive(b),
    # non-negative exponents: torch's backward computes 2 ** other in integers (0 below 0)
    "ldexp": lambda lib, a, b: lib.ldexp(a, lib.tensor([1, 0, 3])) + b,
}


@pytest.mark.parity
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", BINARY)
def test_binary_values_match_torch(torch, name, dtype):
    fa, ta = _pair(torch, _values(10, dtype=dtype))
    fb, tb = _pair(torch, _values(11, dtype=dtype))
    tol = TOL[dtype] * (10 if name == "float_power" else 1)  # float_power is in complex128
    _close(BINARY[name](flambeau, fa, fb), BINARY[name](torch, ta, tb), tol)


@pytest.mark.parity
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradients_match_torch(torch, name):
    fa, ta = _pair(torch, _values(12), requires_grad=True)
    fb, tb = _pair(torch, _values(13), requires_grad=True)
    weights = _values(14)
    _loss(flambeau, BINARY[name](flambeau, fa, fb), weights).backward()
    _loss(torch, BINARY[name](torch, ta, tb), weights).backward()
    _close(fa.grad, ta.grad, 1e-10)
    _close(fb.grad, tb.grad, 1e-10)


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name):
    a = flambeau.tensor(_values(15), requires_grad=True)
    b = flambeau.tensor(_values(16), requires_grad=True)
    assert gradcheck(lambda x, y: BINARY[name](flambeau, x, y), (a, b))


@pytest.mark.parametrize("name", ["mul", "div", "pow", "pow_float", "logaddexp", "addcdiv",
                                  "complex_number_to_the_power"])
def test_binary_gradgradcheck(name):
    a = flambeau.tensor(_values(17, (3,)), requires_grad=True)
    b = flambeau.tensor(_values(18, (3,)), requires_grad=True)
    assert gradgradcheck(lambda x, y: BINARY[name](flambeau, x, y), (a, b))


@pytest.mark.parity
def test_pow_gradient_in_the_exponent_is_zero_at_a_zero_base(torch):
    # PyTorch: 0 where the base is 0 and the exponent is real and >= 0
    base = np.array([0j, 0j, 2 + 1j])
    exponent = np.array([2 + 0j, 1.5 + 0j, 0.5 - 1j])
    fa, ta = _pair(torch, base, requires_grad=True)
    fb, tb = _pair(torch, exponent, requires_grad=True)
    (fa ** fb).real.sum().backward()
    (ta ** tb).real.sum().backward()
    _close(fb.grad, tb.grad, 1e-12)
    assert fb.grad[:2].tolist() == [0j, 0j]


@pytest.mark.parity
def test_pow_of_a_zero_number_base_matches_torch_for_real_exponents(torch):
    fx, tx = _pair(torch, np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    flambeau.pow(0.0, fx).sum().backward()
    torch.pow(0.0, tx).sum().backward()
    _close(fx.grad, tx.grad, 0)


# ------------------------------------------------------------------ mixed real and complex


MIXED = {
    # (real operand dtype and shape, complex operand dtype and shape, op)
    "float64_times_complex64": (("float64", (2, 3)), ("complex64", (2, 3)),
                                lambda a, b: a * b),
    "float32_times_complex128_zero_dim": (("float32", (2, 3)), ("complex128", ()),
                                          lambda a, b: a * b),
    "complex64_plus_float64": (("float64", (3,)), ("complex64", (2, 3)), lambda a, b: b + a),
    "float_over_complex": (("float64", (2, 3)), ("complex128", (2, 3)), lambda a, b: a / b),
    "complex_over_float": (("float32", (2, 3)), ("complex64", (2, 3)), lambda a, b: b / a),
    "float_to_complex_power": (("float64", (2, 3)), ("complex128", (2, 3)),
                               lambda a, b: a.abs() ** b),
    "phase_times_complex": (("float64", (2, 3)), ("complex64", (2, 3)),
                            lambda a, b: (a * 1j).exp() * b),
    "complex64_times_float64_zero_dim": (("float64", ()), ("complex64", (2, 3)),
                                         lambda a, b: b * a),
}


@pytest.mark.parity
@pytest.mark.parametrize("name", MIXED)
def test_mixed_real_and_complex_operands_match_torch(torch, name):
    (rdt, rshape), (cdt, cshape), op = MIXED[name]
    real = np.random.default_rng(20).uniform(0.5, 2.0, rshape).astype(rdt)
    fa, ta = _pair(torch, real, requires_grad=True)
    fb, tb = _pair(torch, _values(21, cshape, cdt), requires_grad=True)
    fo, to = op(fa, fb), op(ta, tb)
    _close(fo, to, 1e-5)
    weights = _values(22, tuple(to.shape))
    _loss(flambeau, fo, weights).backward()
    _loss(torch, to, weights).backward()
    assert fa.grad.dtype.name == rdt  # the real input gets the real part, in its own dtype
    _close(fa.grad, ta.grad, 1e-5)
    _close(fb.grad, tb.grad, 1e-5)


@pytest.mark.parity
@pytest.mark.parametrize(("make", "number", "dtype"), [
    (lambda lib: lib.tensor([1, 2, 3]), 1j, "complex64"),
    (lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64), 2 - 1j, "complex128"),
    (lambda lib: lib.tensor([True, False]), 0.5j, "complex64"),
    (lambda lib: lib.tensor([1 + 1j]), 2, "complex64"),
])
def test_numbers_promote_real_tensors_to_complex_as_torch(torch, make, number, dtype):
    for op in (lambda x, s: x + s, lambda x, s: s * x, lambda x, s: s / (x + 1)):
        got, want = op(make(flambeau), number), op(make(torch), number)
        assert got.dtype.name == str(want.dtype)[6:] == dtype
        _close(got, want, 1e-6)


@pytest.mark.parity
def test_real_tensor_to_a_complex_power_gets_a_real_gradient(torch):
    fx, tx = _pair(torch, np.array([0.5, 1.5, 3.0]), requires_grad=True)
    for lib, x in ((flambeau, fx), (torch, tx)):
        _loss(lib, x ** (1 + 2j) + (1j) ** x, np.array([1 - 1j, 2j, 0.5])).backward()
    assert fx.grad.dtype is flambeau.float64
    _close(fx.grad, tx.grad, 1e-12)
    assert gradcheck(lambda x: x ** (1 + 2j), (flambeau.tensor([0.5, 1.5], dtype=flambeau.float64,
                                                                requires_grad=True),))


# ------------------------------------------------------------------ predicates and selection


_SPECIAL = np.array([1 + 1j, complex(np.inf, 0), complex(0, np.nan), complex(1, -np.inf),
                     complex(np.nan, 0), complex(-np.inf, np.inf), 0j])


@pytest.mark.parity
@pytest.mark.parametrize("name", ["isfinite", "isinf", "isnan", "isreal"])
def test_predicates_match_torch(torch, name):
    f, t = _pair(torch, _SPECIAL.astype(np.complex64))
    assert getattr(flambeau, name)(f).tolist() == getattr(torch, name)(t).tolist()


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", [{}, {"nan": 1.5, "posinf": 10.0, "neginf": -10.0}])
def test_nan_to_num_matches_torch(torch, kwargs):
    f = flambeau.tensor(_SPECIAL, requires_grad=True, **CPU)
    fo, to = flambeau.nan_to_num(f, **kwargs), torch.nan_to_num(torch.tensor(_SPECIAL), **kwargs)
    _close(fo, to, 0)
    # torch has no complex gradient here (it refuses requires_grad); flambeau's passes where
    # the element is finite
    weights = _values(30, (7,))
    _loss(flambeau, fo, weights).backward()
    finite = np.isfinite(_SPECIAL)
    np.testing.assert_array_equal(f.grad.cpu().numpy(), np.where(finite, weights, 0))


@pytest.mark.parity
def test_equality_and_closeness_match_torch(torch):
    a = np.array([1 + 1j, 2 - 1j, complex(np.nan, 1), 3j])
    b = np.array([1 + 1j, 2 - 1.000001j, complex(np.nan, 1), 3.1j])
    (fa, ta), (fb, tb) = _pair(torch, a), _pair(torch, b)
    assert (fa == fb).tolist() == (ta == tb).tolist()
    assert (fa != fb).tolist() == (ta != tb).tolist()
    assert flambeau.eq(fa, 1 + 1j).tolist() == torch.eq(ta, 1 + 1j).tolist()
    for equal_nan in (False, True):
        assert (flambeau.isclose(fa, fb, equal_nan=equal_nan).tolist()
                == torch.isclose(ta, tb, equal_nan=equal_nan).tolist())
    assert flambeau.allclose(fa[:2], fb[:2]) == torch.allclose(ta[:2], tb[:2]) is True
    assert flambeau.allclose(fa, fb) == torch.allclose(ta, tb) is False
    assert flambeau.equal(fa[:2], fa[:2].clone()) == torch.equal(ta[:2], ta[:2].clone())
    assert flambeau.equal(fa[:2], fb[:2]) == torch.equal(ta[:2], tb[:2]) is False


@pytest.mark.parity
def test_logical_ops_treat_nonzero_complex_as_true(torch):
    a, b = np.array([0j, 1j, 2 + 0j, 0j]), np.array([0j, 0j, 1 + 1j, 1e-30j])
    (fa, ta), (fb, tb) = _pair(torch, a), _pair(torch, b)
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert getattr(flambeau, name)(fa, fb).tolist() == getattr(torch, name)(ta, tb).tolist()
    assert flambeau.logical_not(fa).tolist() == torch.logical_not(ta).tolist()


@pytest.mark.parity
def test_where_mixes_real_and_complex_branches(torch):
    cond = np.array([True, False, True])
    fx, tx = _pair(torch, np.array([1.0, 2.0, 3.0]), requires_grad=True)
    fz, tz = _pair(torch, np.array([1j, 2 - 1j, -1 + 0j], dtype=np.complex64),
                   requires_grad=True)
    fo = flambeau.where(flambeau.tensor(cond, **CPU), fz, fx)
    to = torch.where(torch.tensor(cond), tz, tx)
    _close(fo, to, 0)
    # torch's backward fails on the real branch here ("Expected isFloatingType(grad...)"):
    # the gradients of Re(sum(out * conj(w))) are w where z is picked, Re(w) where x is
    weights = np.array([1 + 2j, 3 - 1j, 2j])
    _loss(flambeau, fo, weights).backward()
    np.testing.assert_array_equal(fz.grad.cpu().numpy(), np.where(cond, weights, 0))
    np.testing.assert_array_equal(fx.grad.cpu().numpy(), np.where(cond, 0, weights.real))
    assert fx.grad.dtype is flambeau.float64


# ------------------------------------------------------------------ refused for complex

# (the op name flambeau's message names, flambeau's call, torch's call); each gets a complex64
# tensor ``z``
REFUSED = {
    "lt": ("lt", lambda lib, z: z < z),
    "le": ("le", lambda lib, z: lib.le(z, 1)),
    "gt": ("gt", lambda lib, z: z > 0),
    "ge": ("ge", lambda lib, z: z.ge(z)),
    "lt_real_and_complex_number": ("lt", lambda lib, z: z.real < 1j),
    "maximum": ("maximum", lambda lib, z: lib.maximum(z, z)),
    "minimum": ("minimum", lambda lib, z: lib.minimum(z, z)),
    "fmax": ("fmax", lambda lib, z: lib.fmax(z, z)),
    "fmin": ("fmin", lambda lib, z: lib.fmin(z, z)),
    "clamp": ("clamp", lambda lib, z: lib.clamp(z, min=0)),
    "clamp_tensor_bounds": ("clamp", lambda lib, z: lib.clamp(z, min=z, max=z)),
    "clamp_complex_bound": ("clamp", lambda lib, z: lib.clamp(z.real, max=1j)),
    "clip": ("clamp", lambda lib, z: z.clip(max=1)),
    "relu": ("relu", lambda lib, z: lib.relu(z)),
    "floor": ("floor", lambda lib, z: lib.floor(z)),
    "ceil": ("ceil", lambda lib, z: z.ceil()),
    "round": ("round", lambda lib, z: lib.round(z)),
    "trunc": ("trunc", lambda lib, z: lib.trunc(z)),
    "frac": ("frac", lambda lib, z: lib.frac(z)),
    "remainder": ("remainder", lambda lib, z: z % 2),
    "fmod": ("fmod", lambda lib, z: lib.fmod(z, 2)),
    "floor_divide": ("floor_divide", lambda lib, z: z // 2),
    "div_trunc": ("div", lambda lib, z: lib.div(z, 2, rounding_mode="trunc")),
    "erf": ("erf", lambda lib, z: lib.erf(z)),
    "erfc": ("erfc", lambda lib, z: lib.erfc(z)),
    "erfinv": ("erfinv", lambda lib, z: lib.erfinv(z)),
    "lgamma": ("lgamma", lambda lib, z: lib.lgamma(z)),
    "digamma": ("digamma", lambda lib, z: lib.digamma(z)),
    "polygamma": ("polygamma", lambda lib, z: lib.polygamma(1, z)),
    "mvlgamma": ("mvlgamma", lambda lib, z: lib.mvlgamma(z, 1)),
    "i0": ("i0", lambda lib, z: lib.i0(z)),
    "special_i1e": ("i1e", lambda lib, z: lib.special.i1e(z)),
    "special_erfcx": ("erfcx", lambda lib, z: lib.special.erfcx(z)),
    "special_ndtr": ("ndtr", lambda lib, z: lib.special.ndtr(z)),
    "special_ndtri": ("ndtri", lambda lib, z: lib.special.ndtri(z)),
    "special_log_ndtr": ("log_ndtr", lambda lib, z: lib.special.log_ndtr(z)),
    "special_entr": ("entr", lambda lib, z: lib.special.entr(z)),
    "special_xlog1py": ("xlog1py", lambda lib, z: lib.special.xlog1py(z, z)),
    "special_zeta": ("zeta", lambda lib, z: lib.special.zeta(z, z)),
    "igamma": ("igamma", lambda lib, z: lib.igamma(z, z)),
    "igammac": ("igammac", lambda lib, z: lib.igammac(z, z)),
    "bessel_j0": ("bessel_j0", lambda lib, z: lib.special.bessel_j0(z)),
    "modified_bessel_k1": ("modified_bessel_k1", lambda lib, z: lib.special.modified_bessel_k1(z)),
    "airy_ai": ("airy_ai", lambda lib, z: lib.special.airy_ai(z)),
    "chebyshev_polynomial_t": ("chebyshev_polynomial_t",
                               lambda lib, z: lib.special.chebyshev_polynomial_t(z, 2)),
    "hermite_polynomial_h": ("hermite_polynomial_h",
                             lambda lib, z: lib.special.hermite_polynomial_h(z, 3)),
    "atan2": ("atan2", lambda lib, z: lib.atan2(z, z)),
    "hypot": ("hypot", lambda lib, z: lib.hypot(z, z)),
    "logaddexp2": ("logaddexp2", lambda lib, z: lib.logaddexp2(z, z)),
    "copysign": ("copysign", lambda lib, z: lib.copysign(z, z)),
    "heaviside": ("heaviside", lambda lib, z: lib.heaviside(z, z)),
    "nextafter": ("nextafter", lambda lib, z: lib.nextafter(z, z)),
    "logit": ("logit", lambda lib, z: lib.logit(z)),
    "xlogy": ("xlogy", lambda lib, z: lib.xlogy(z, z)),
    "signbit": ("signbit", lambda lib, z: lib.signbit(z)),
    "isneginf": ("isneginf", lambda lib, z: lib.isneginf(z)),
    "isposinf": ("isposinf", lambda lib, z: lib.isposinf(z)),
    "deg2rad": ("deg2rad", lambda lib, z: lib.deg2rad(z)),
    "rad2deg": ("rad2deg", lambda lib, z: lib.rad2deg(z)),
    "bitwise_and": ("bitwise_and", lambda lib, z: z & z),
    "bitwise_not": ("bitwise_not", lambda lib, z: lib.bitwise_not(z)),
    "gcd": ("gcd", lambda lib, z: lib.gcd(z, z)),
    "frexp": ("frexp", lambda lib, z: lib.frexp(z)),
    "sign": ("sign", lambda lib, z: lib.sign(z)),
}


@pytest.mark.parametrize("name", REFUSED)
def test_ops_without_a_complex_version_refuse_complex_tensors(name):
    op, call = REFUSED[name]
    z = flambeau.tensor([1 + 2j, -0.5 + 0.3j])
    # the op, the dtype; NumPy would have computed something for many of these
    with pytest.raises(RuntimeError, match=rf"^{op}: not implemented for complex tensors "
                                           r"\(got (flambeau\.complex64|the number 1j)\)"):
        call(flambeau, z)


@pytest.mark.parity
@pytest.mark.parametrize("name", REFUSED)
def test_torch_refuses_them_too(torch, name):
    _, call = REFUSED[name]
    with pytest.raises((RuntimeError, TypeError)):
        call(torch, torch.tensor([1 + 2j, -0.5 + 0.3j]))


def test_ordering_ops_say_what_to_compare_instead():
    z = flambeau.tensor([1j])
    with pytest.raises(RuntimeError, match=r"no order: compare their abs\(\) or \.real"):
        flambeau.maximum(z, z)


def test_refusing_leaves_real_tensors_alone():
    x = flambeau.tensor([-1.5, 0.5])
    assert flambeau.clamp(x, min=0).tolist() == [0.0, 0.5]
    assert (x < 0).tolist() == [True, False]
    assert flambeau.floor(x).tolist() == [-2.0, 0.0]
    assert flambeau.maximum(x, flambeau.zeros(2)).tolist() == [0.0, 0.5]


# ------------------------------------------------------------------ in place


@pytest.mark.parity
def test_in_place_arithmetic_on_complex_tensors_matches_torch(torch):
    leaves = [_pair(torch, _values(s), requires_grad=True) for s in (40, 41)]
    results = []
    for lib, (a, b) in ((flambeau, [p[0] for p in leaves]), (torch, [p[1] for p in leaves])):
        y = a.clone()
        y.add_(b, alpha=2)
        y.mul_(b)
        y.sub_(1j)
        y.div_(a)
        y *= 0.5 - 1j
        y.pow_(2)
        y.exp_()
        _loss(lib, y, _values(42)).backward()
        results.append((y, a.grad, b.grad))
    for got, want in zip(*results):
        _close(got, want, 1e-10)


@pytest.mark.parity
def test_in_place_without_recording_matches_torch(torch):
    f, t = _pair(torch, _values(43, dtype="complex64"))
    fw, tw = _pair(torch, np.array([1.0, -2.0, 0.5], dtype=np.float32))
    for z, w in ((f, fw), (t, tw)):
        z.add_(1j)
        z.mul_(w)
        z += 2
        z /= 1 - 1j
    _close(f, t, 1e-6)


_INTO_REAL = [
    lambda x, z: x.add_(z), lambda x, z: x.mul_(1j), lambda x, z: x.sub_(z, alpha=2),
    lambda x, z: x.__iadd__(2j), lambda x, z: x.div_(z),
]


@pytest.mark.parametrize("call", _INTO_REAL)
@pytest.mark.parametrize("recording", [False, True])
def test_in_place_complex_result_into_a_real_tensor_raises(call, recording):
    x = flambeau.tensor([1.0, 2.0])
    z = flambeau.tensor([1j, 2 - 1j])
    if recording:
        x = x.clone().requires_grad_()
        x = x * 1  # a non-leaf, written through the recording path
    before = x.tolist()
    with pytest.raises(RuntimeError, match=r"_: result type flambeau.complex64 can't be cast "
                                           r"to the desired output type flambeau.float32"):
        call(x, z)
    assert x.tolist() == before  # untouched


@pytest.mark.parity
@pytest.mark.parametrize("call", _INTO_REAL)
def test_torch_refuses_a_complex_result_into_a_real_tensor_too(torch, call):
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the "
                                           "desired output type Float"):
        call(torch.tensor([1.0, 2.0]), torch.tensor([1j, 2 - 1j]))


def test_out_argument_refuses_a_complex_result_into_a_real_tensor():
    out = flambeau.zeros(2)
    with pytest.raises(RuntimeError, match="result type flambeau.complex64 can't be cast to "
                                           "the desired output type flambeau.float32"):
        flambeau.mul(flambeau.ones(2), flambeau.tensor([1j, 1j]), out=out)
    assert out.tolist() == [0.0, 0.0]
    cout = flambeau.zeros(2, dtype=flambeau.complex64)
    flambeau.exp(flambeau.tensor([1j, 0j]), out=cout)
    np.testing.assert_allclose(cout.cpu().numpy(), np.exp([1j, 0j]), rtol=1e-6)


@pytest.mark.parity
def test_real_results_fit_complex_tensors_as_in_torch(torch):
    for lib in (flambeau, torch):
        out = lib.zeros(2, dtype=lib.complex64)
        lib.add(lib.ones(2), lib.tensor([1.0, 2.0]), out=out)
        assert out.tolist() == [2 + 0j, 3 + 0j]
        z = lib.tensor([1 + 1j, 2j])
        z.eq_(lib.tensor([1 + 1j, 0j]))
        assert z.tolist() == [1 + 0j, 0j]


@pytest.mark.parametrize("name", ["abs_", "absolute_"])
def test_in_place_abs_of_a_complex_tensor_is_refused(name):
    z = flambeau.tensor([3 + 4j])
    with pytest.raises(RuntimeError, match=rf"{name}: in-place abs is not supported for "
                                           r"complex tensors \(got flambeau.complex64"):
        getattr(z, name)()
    assert z.tolist() == [3 + 4j]


@pytest.mark.parity
@pytest.mark.parametrize("name", ["abs_", "absolute_"])
def test_torch_refuses_in_place_abs_of_complex_too(torch, name):
    with pytest.raises(RuntimeError, match="In-place abs is not supported for complex"):
        getattr(torch.tensor([3 + 4j]), name)()


# ------------------------------------------------------------------ gradcheck itself


class _MulWithoutConj(Function):
    """``a * b`` whose backward forgets the conjugates: right for real tensors only."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


class _ConjWithoutConj(Function):
    """``conj(z)`` whose backward passes the gradient unconjugated (the imaginary part's
    sign is wrong)."""

    @staticmethod
    def forward(ctx, z):
        return z.conj()

    @staticmethod
    def backward(ctx, g):
        return g


class _TimesIWrongSign(Function):
    """A real ``x`` to ``i x``: the gradient is ``Re(-i g)``; this returns ``Re(i g)``."""

    @staticmethod
    def forward(ctx, x):
        return x * 1j

    @staticmethod
    def backward(ctx, g):
        return g * 1j


class _SquareWithDetachedBackward(Function):
    """``z * z`` with a right first derivative that is not differentiable itself."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return 2 * g * z.detach().conj()


def _complex_leaf(seed, shape=(3,)):
    return flambeau.tensor(_values(seed, shape), requires_grad=True)


def test_gradcheck_catches_a_backward_without_conjugates():
    a, b = _complex_leaf(50), _complex_leaf(51)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradcheck(_MulWithoutConj.apply, (a, b))
    assert gradcheck(_MulWithoutConj.apply, (a, b), raise_exception=False) is False
    # the same backward is right for real inputs, and the right one passes for complex
    x = flambeau.tensor([0.5, -1.5], dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(_MulWithoutConj.apply, (x, x.detach().clone().requires_grad_()))
    assert gradcheck(flambeau.mul, (a, b))


def test_gradcheck_names_the_part_of_a_complex_input_that_is_wrong():
    with pytest.raises(GradcheckError, match="While considering the imaginary part of complex "
                                             "outputs and the imaginary part of complex inputs "
                                             "only, Jacobian mismatch"):
        gradcheck(_ConjWithoutConj.apply, (_complex_leaf(52),))
    assert gradcheck(flambeau.conj, (_complex_leaf(52),))


def test_gradcheck_names_the_part_of_a_complex_output_that_is_wrong():
    x = flambeau.tensor([0.5, -1.5], dtype=flambeau.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="^While considering the imaginary part of complex "
                                             "outputs only, Jacobian mismatch for output 0"):
        gradcheck(_TimesIWrongSign.apply, (x,))
    assert gradcheck(lambda t: t * 1j, (x,))


def test_gradcheck_of_real_to_complex_and_complex_to_real_functions():
    x = flambeau.tensor([0.5, -1.5], dtype=flambeau.float64, requires_grad=True)
    y = flambeau.tensor([2.0, 0.25], dtype=flambeau.float64, requires_grad=True)
    assert gradcheck(flambeau.complex, (x, y))
    assert gradcheck(lambda r, t: flambeau.polar(r.abs(), t), (x, y))
    z = _complex_leaf(53)
    assert gradcheck(lambda t: (t.real * t.imag, t.abs()), (z,))  # two real outputs
    assert gradgradcheck(lambda t: flambeau.view_as_real(t * t), (z,))


def test_gradcheck_reports_the_failing_output():
    z = _complex_leaf(54)
    with pytest.raises(GradcheckError, match="output 1 with respect to input 0"):
        gradcheck(lambda t: (t.exp(), _ConjWithoutConj.apply(t)), (z,))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    z = _complex_leaf(55)
    assert gradcheck(_SquareWithDetachedBackward.apply, (z,))  # first order is right
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(_SquareWithDetachedBackward.apply, (z,))
    assert gradgradcheck(lambda t: t * t, (z,))


def test_gradcheck_does_not_warn_for_complex128_but_does_for_complex64():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck(flambeau.exp, (_complex_leaf(56),))
    z = flambeau.tensor(_values(57, (2,), "complex64"), requires_grad=True)
    with pytest.warns(UserWarning, match="complex64 is not float64 or complex128"):
        gradcheck(flambeau.exp, (z,), atol=1e-2, rtol=1e-2, eps=1e-3)

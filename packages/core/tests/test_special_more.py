"""The incomplete gamma, Bessel, Airy and orthogonal-polynomial functions of
``flambeau.special`` (``flambeau._ops.special_more``).

The declarative cases give values (against PyTorch, or SciPy where torch is missing),
gradcheck/gradgradcheck of ``gammainc``/``gammaincc`` in ``x`` and gradient parity; the
accuracy tests compare with SciPy (and mpmath) on dense grids into the tails and next to
zeros; the rest checks edge values, dtypes, broadcasting, errors and (non-)differentiability
against PyTorch's behaviour.
"""

import math

import numpy as np
import pytest

import flambeau
from flambeau.testing._cases import Sample, _op, _positive, _uniform, nograd
from flambeau.testing._harness import op_tests, torch_or_none

S = flambeau.special

# ---------------------------------------------------------------------- harness cases


def _igamma_samples(rng, dt):
    return [
        Sample(nograd(_uniform(rng, dt, 0.3, 4.0, 3)), _uniform(rng, dt, 0.2, 6.0, 3)),
        Sample(nograd(_uniform(rng, dt, 0.3, 4.0, 2, 1)), _uniform(rng, dt, 0.2, 6.0, 3)),
        Sample(nograd(_uniform(rng, dt, 0.3, 4.0)), _positive(rng, dt, 2, 2)),
    ]


def _unary(lo, hi):
    return lambda rng, dt: [(_uniform(rng, dt, lo, hi, 7),), (_uniform(rng, dt, lo, hi, 2, 3),),
                            (_uniform(rng, dt, lo, hi),)]


def _poly_samples(lo, hi):
    def samples(rng, dt):
        n = rng.integers(-1, 9, (2, 1)).astype(dt)
        return [(_uniform(rng, dt, lo, hi, 5), n[0]), (_uniform(rng, dt, lo, hi, 4), n),
                (_uniform(rng, dt, lo, hi, 1, 3), np.asarray([[0.0], [7.0], [12.0]], dt))]

    return samples


_UNARY = [
    # name, interval (torch's own values are accurate there)
    ("bessel_j0", -30.0, 30.0), ("bessel_j1", -30.0, 30.0), ("bessel_y0", 0.1, 30.0),
    ("bessel_y1", 0.1, 30.0), ("modified_bessel_i0", -20.0, 20.0),
    ("modified_bessel_i1", -20.0, 20.0), ("modified_bessel_k0", 0.05, 30.0),
    ("modified_bessel_k1", 0.05, 30.0), ("scaled_modified_bessel_k0", 0.05, 50.0),
    ("scaled_modified_bessel_k1", 0.05, 50.0), ("spherical_bessel_j0", -20.0, 20.0),
    # torch's airy_ai is off by up to 3e-6 below -2.09 (SciPy and mpmath agree with ours)
    ("airy_ai", -2.0, 5.0),
]

_POLYS = [
    ("chebyshev_polynomial_t", -1.5, 1.5), ("chebyshev_polynomial_u", -1.5, 1.5),
    ("chebyshev_polynomial_v", -1.5, 1.5), ("chebyshev_polynomial_w", -1.5, 1.5),
    ("shifted_chebyshev_polynomial_t", -0.2, 1.2), ("shifted_chebyshev_polynomial_u", -0.2, 1.2),
    ("shifted_chebyshev_polynomial_v", -0.2, 1.2), ("shifted_chebyshev_polynomial_w", -0.2, 1.2),
    ("hermite_polynomial_h", -3.0, 3.0), ("hermite_polynomial_he", -3.0, 3.0),
    ("laguerre_polynomial_l", -2.0, 6.0), ("legendre_polynomial_p", -1.2, 1.2),
]


def _cases():
    cases = [
        _op("gammainc", lambda lib, a, x: lib.special.gammainc(a, x), _igamma_samples),
        _op("gammaincc", lambda lib, a, x: lib.special.gammaincc(a, x), _igamma_samples),
        _op("igamma", lambda lib, a, x: lib.igamma(a, x), _igamma_samples),
        _op("igammac_method", lambda lib, a, x: a.igammac(x), _igamma_samples),
        _op("igamma_int_a", lambda lib, a, x: lib.igamma((a * 3).long(), x),
            _igamma_samples, differentiable=False),
    ]
    # torch's float64 J/Y are off by up to 9e-7 just above x = 5 (and airy_ai below -2):
    # ours agree with SciPy to 1e-14 (the accuracy tests); parity is checked loosely there
    loose = {"float64": (2e-6, 2e-6)}
    cases += [_op(n, lambda lib, x, n=n: getattr(lib.special, n)(x), _unary(lo, hi),
                  differentiable=False,
                  tolerances=loose if n.startswith(("bessel", "airy")) else {})
              for n, lo, hi in _UNARY]
    cases += [_op(n, lambda lib, x, k, n=n: getattr(lib.special, n)(x, k),
                  _poly_samples(lo, hi), differentiable=False) for n, lo, hi in _POLYS]
    cases += [_op(f"{n}_int_n", lambda lib, x, n=n: getattr(lib.special, n)(x, 5),
                  _unary(lo, hi), differentiable=False) for n, lo, hi in _POLYS]
    return cases


CASES = _cases()
test_gradcheck, test_numpy_reference, test_parity = op_tests(CASES)


# ---------------------------------------------------------------------- accuracy


def _f64(fn, *xs):
    return fn(*(flambeau.tensor(np.asarray(x, dtype=np.float64)) for x in xs)).cpu().numpy()


def _rel_err(got, want, floor=None):
    """Max ``|got - want| / max(|want|, floor)`` over finite nonzero ``want``, after
    checking that NaN and infinities agree."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isposinf(got), np.isposinf(want))
    assert np.array_equal(np.isneginf(got), np.isneginf(want))
    ok = np.isfinite(want) & (want != 0)
    scale = np.abs(want) if floor is None else np.maximum(np.abs(want), floor)
    return float(np.max(np.abs(got[ok] - want[ok]) / scale[ok])) if ok.any() else 0.0


_RNG = np.random.default_rng(2024)
_X = np.concatenate([_RNG.uniform(0, 40, 20000), 10.0 ** _RNG.uniform(-300, 3, 3000),
                     np.linspace(1.9, 2.1, 201), np.linspace(19.5, 20.5, 201),
                     np.linspace(0.9, 1.1, 201)])


@pytest.mark.parametrize("name,ref", [("bessel_j0", "j0"), ("bessel_j1", "j1"),
                                      ("bessel_y0", "y0"), ("bessel_y1", "y1")])
def test_bessel_j_y_match_scipy(name, ref):
    sc = pytest.importorskip("scipy.special")
    # SciPy rounds x - pi/4 (an error of ~eps * x), so the comparison stops at 100
    x = _X[_X < 100]
    got, want = _f64(getattr(S, name), x), getattr(sc, ref)(x)
    # oscillating: error relative to the envelope min(1, sqrt(2 / (pi x))) (near the zeros
    # the values themselves are only as exact as their argument)
    envelope = np.minimum(1.0, np.sqrt(2.0 / (np.pi * x)))
    assert _rel_err(got, want, envelope) < 2e-14
    # away from the zeros: relative
    away = np.abs(want) > 0.1 * envelope
    assert _rel_err(got[away], want[away]) < 1e-13
    if name.endswith("j1"):
        assert _rel_err(_f64(S.bessel_j1, -x), -want, envelope) < 2e-14


def test_bessel_j0_keeps_relative_accuracy_at_its_first_zero_scale():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = [1e-8, 0.5, 2.0, 2.4, 5.0, 19.99, 20.0, 100.0]
    for name, fn in (("bessel_j0", mpmath.besselj), ("bessel_y0", mpmath.bessely)):
        got = _f64(getattr(S, name), x)
        want = [float(fn(0, mpmath.mpf(v))) for v in x]
        assert _rel_err(got, want) < 5e-14, name


@pytest.mark.parametrize("name,ref", [
    ("modified_bessel_k0", "k0"), ("modified_bessel_k1", "k1"),
    ("scaled_modified_bessel_k0", "k0e"), ("scaled_modified_bessel_k1", "k1e"),
    ("modified_bessel_i0", "i0"), ("modified_bessel_i1", "i1"),
])
def test_modified_bessel_match_scipy(name, ref):
    sc = pytest.importorskip("scipy.special")
    x = np.concatenate([_X, _RNG.uniform(0, 700, 2000)])
    assert _rel_err(_f64(getattr(S, name), x), getattr(sc, ref)(x)) < 1e-14


def test_spherical_j0_and_airy_match_scipy():
    sc = pytest.importorskip("scipy.special")
    x = np.concatenate([_RNG.uniform(-50, 50, 5000), 10.0 ** _RNG.uniform(-300, 2, 500),
                        -(10.0 ** _RNG.uniform(-8, 2, 500)), np.linspace(-1e-3, 1e-3, 101)])
    ax = np.abs(x)
    assert _rel_err(_f64(S.spherical_bessel_j0, x), sc.spherical_jn(0, x),
                    np.where(ax > 1, 1.0 / np.where(ax > 1, ax, 1.0), 1.0)) < 1e-15
    ai = sc.airy(x)[0]
    envelope = np.where(x < 0, np.maximum(ax, 1.0) ** -0.25 / np.sqrt(np.pi), 0.0)
    assert _rel_err(_f64(S.airy_ai, x), ai, envelope) < 1e-13
    pos = x > 0  # relative accuracy into the far tail
    assert _rel_err(_f64(S.airy_ai, x[pos]), ai[pos]) < 1e-13


def test_gammainc_matches_scipy():
    sc = pytest.importorskip("scipy.special")
    a = 10.0 ** _RNG.uniform(-3, 3, 20000)
    x = a * 10.0 ** _RNG.uniform(-2, 1, 20000)
    p, q = _f64(S.gammainc, a, x), _f64(S.gammaincc, a, x)
    for got, want in ((p, sc.gammainc(a, x)), (q, sc.gammaincc(a, x))):
        # SciPy itself is good to ~1e-12 in the far tails (a * log(x) rounded): compare
        # where the values are not tiny; mpmath checks the tails below
        mask = want > 1e-30
        assert _rel_err(got[mask], want[mask]) < 1e-12
        assert np.all(got[~mask] < 1e-29)


def test_gammainc_matches_mpmath_in_the_tails_and_for_small_a():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    rng = np.random.default_rng(7)
    a = np.concatenate([10.0 ** rng.uniform(-3, 3, 60), 10.0 ** rng.uniform(-12, 0, 40),
                        [1e5, 1e5, 1e6]])
    x = np.concatenate([a[:60] * 10.0 ** rng.uniform(-2, 1, 60),
                        np.minimum(10.0 ** rng.uniform(-12, 0.3, 40), a[60:100] + 0.999),
                        [1e5 + 300, 1e5 - 100, 1e6]])
    p, q = _f64(S.gammainc, a, x), _f64(S.gammaincc, a, x)
    want_p = [float(mpmath.gammainc(u, 0, v, regularized=True)) for u, v in zip(a, x)]
    want_q = [float(mpmath.gammainc(u, v, mpmath.inf, regularized=True)) for u, v in zip(a, x)]
    assert _rel_err(p, want_p) < 2e-13
    assert _rel_err(q, want_q) < 2e-13


@pytest.mark.parametrize("name,ref,lo,hi", [
    ("chebyshev_polynomial_t", "eval_chebyt", -1.0, 1.0),
    ("chebyshev_polynomial_u", "eval_chebyu", -1.0, 1.0),
    ("shifted_chebyshev_polynomial_t", "eval_sh_chebyt", 0.0, 1.0),
    ("shifted_chebyshev_polynomial_u", "eval_sh_chebyu", 0.0, 1.0),
    ("hermite_polynomial_h", "eval_hermite", -5.0, 5.0),
    ("hermite_polynomial_he", "eval_hermitenorm", -5.0, 5.0),
    ("laguerre_polynomial_l", "eval_laguerre", 0.0, 20.0),
    ("legendre_polynomial_p", "eval_legendre", -1.0, 1.0),
])
def test_polynomials_match_scipy(name, ref, lo, hi):
    sc = pytest.importorskip("scipy.special")
    x = _RNG.uniform(lo, hi, (1, 400))
    n = np.arange(0, 41, dtype=np.float64)[:, None]
    got = _f64(getattr(S, name), x, n)
    want = getattr(sc, ref)(n.astype(np.int64), x)
    # the values cross zero: relative to the size of the terms (1 on [-1, 1])
    floor = np.max(np.abs(want), axis=1, keepdims=True) * np.ones_like(want)
    assert _rel_err(got, want, floor) < 1e-12


def test_chebyshev_v_w_identities():
    # V_n(x) = U_n(x) - U_{n-1}(x), W_n(x) = U_n(x) + U_{n-1}(x); beyond n = 6 inside (-1, 1)
    # they take the trigonometric path, outside the recurrence
    x = flambeau.tensor(np.linspace(-1.3, 1.3, 27), dtype=flambeau.float64)
    for n in (3, 7, 15):
        u, u1 = S.chebyshev_polynomial_u(x, n), S.chebyshev_polynomial_u(x, n - 1)
        scale = max(1.0, float(u.abs().max()))
        assert np.allclose(S.chebyshev_polynomial_v(x, n).cpu().numpy(), (u - u1).cpu().numpy(),
                           atol=1e-13 * scale, rtol=0)
        assert np.allclose(S.chebyshev_polynomial_w(x, n).cpu().numpy(), (u + u1).cpu().numpy(),
                           atol=1e-13 * scale, rtol=0)


# ---------------------------------------------------------------------- edge values

_NAN, _INF = math.nan, math.inf
_EDGES = [_NAN, _INF, -_INF, 0.0, -0.0, -1.0, -2.5, 1e-300, 1e-20, 0.5, 3.0, 25.0, 1e3]


@pytest.mark.parametrize("name", [n for n, _, _ in _UNARY])
def test_unary_edge_values_match_torch(name):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch not installed")
    x = np.asarray(_EDGES)
    got = getattr(S, name)(flambeau.tensor(x)).cpu().numpy()
    want = getattr(torch.special, name)(torch.tensor(x)).cpu().numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    # torch's Bessel functions are good to ~1e-11 only (ours match SciPy to ~1e-15)
    tol = 5e-6 if name == "airy_ai" else 1e-9  # torch's airy_ai(-2.5) is off by 2e-6
    np.testing.assert_allclose(got[fin], want[fin], rtol=tol, atol=1e-300)


def test_unary_known_edges():
    x = flambeau.tensor([0.0, -0.0, _INF, -_INF, _NAN], dtype=flambeau.float64)
    assert S.bessel_j0(x).tolist()[:2] == [1.0, 1.0]
    assert all(math.isnan(v) for v in S.bessel_j0(x).tolist()[2:])
    assert S.bessel_y0(x).tolist()[:2] == [-_INF, -_INF]
    assert S.modified_bessel_k0(x).tolist()[:3] == [_INF, _INF, 0.0]
    assert S.scaled_modified_bessel_k1(x).tolist()[:3] == [_INF, _INF, 0.0]
    assert S.spherical_bessel_j0(x).tolist()[:4] == [1.0, 1.0, 0.0, 0.0]
    assert math.copysign(1.0, S.bessel_j1(x).tolist()[1]) == -1.0  # J1(-0) = -0
    k1 = S.modified_bessel_k1(flambeau.tensor([1e-305], dtype=flambeau.float64)).item()
    assert abs(k1 / 1e305 - 1) < 1e-15


def test_gammainc_edge_values_match_torch():
    a = [0.0, 0.0, 0.0, 1.0, 1.0, -1.0, 1.0, _INF, _INF, 2.0, 2.0, _NAN, 1.0, 0.5]
    x = [0.0, 1.0, _INF, 0.0, -1.0, 1.0, _INF, 1.0, _INF, -0.0, 1e-300, 1.0, _NAN, 0.0]
    p = _f64(S.gammainc, a, x)
    q = _f64(S.gammaincc, a, x)
    nan = [_NAN]
    want_p = nan + [1.0, 1.0, 0.0] + nan * 2 + [1.0, 0.0] + nan + [0.0, 0.0] + nan * 2 + [0.0]
    np.testing.assert_array_equal(p, want_p)
    np.testing.assert_array_equal(q, [v if math.isnan(v) else 1.0 - v for v in want_p])
    torch = torch_or_none()
    if torch is not None:
        ta, tx = torch.tensor(a, dtype=torch.float64), torch.tensor(x, dtype=torch.float64)
        np.testing.assert_array_equal(p, torch.special.gammainc(ta, tx).cpu().numpy())
        np.testing.assert_array_equal(q, torch.special.gammaincc(ta, tx).cpu().numpy())


def test_polynomial_conventions_match_torch():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch not installed")
    x = np.asarray([-2.0, -1.0, -0.999, -0.5, 0.0, 0.3, 0.99, 1.0, 1.5, _INF, -_INF, 3.7])
    n = np.asarray([-2, -1, 0, 1, 2, 3, 5, 6, 7, 8, 20, 50, 100, 2.5, -0.5, _NAN])
    xx, nn = np.meshgrid(x, n)
    for name, _, _ in _POLYS:
        got = getattr(S, name)(flambeau.tensor(xx), flambeau.tensor(nn)).cpu().numpy()
        want = getattr(torch.special, name)(torch.tensor(xx), torch.tensor(nn)).cpu().numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), name
        assert np.array_equal(np.isinf(got), np.isinf(want)), name
        fin = np.isfinite(want)
        scale = np.maximum(np.abs(want[fin]), 1.0)
        assert np.all(np.abs(got[fin] - want[fin]) <= 1e-11 * scale), name


def test_polynomial_nan_input():
    # torch returns leftovers for NaN x with n >= 2 on some CPUs; NaN is the answer
    x = flambeau.tensor([_NAN, _NAN, _NAN], dtype=flambeau.float64)
    out = S.chebyshev_polynomial_u(x, flambeau.tensor([0.0, 1.0, 5.0], dtype=flambeau.float64))
    assert out.tolist()[0] == 1.0 and all(math.isnan(v) for v in out.tolist()[1:])


def test_large_n_stops_early_once_nan():
    x = flambeau.tensor([_INF], dtype=flambeau.float64)
    assert math.isnan(S.legendre_polynomial_p(x, 10 ** 9).item())


# ---------------------------------------------------------------------- dtypes, shapes


def test_result_dtypes():
    f32, f64 = flambeau.float32, flambeau.float64
    ints = flambeau.tensor([1, 2])
    assert S.bessel_j0(ints).dtype == f32
    assert S.airy_ai(flambeau.tensor([True, False])).dtype == f32
    assert S.bessel_y1(flambeau.tensor([1.0], dtype=f64)).dtype == f64
    assert S.modified_bessel_k0(flambeau.tensor([1.0])).dtype == f32
    T = S.chebyshev_polynomial_t
    assert T(ints, 3).dtype == f32
    assert T(flambeau.tensor([1.0]), flambeau.tensor([3])).dtype == f32
    assert T(flambeau.tensor([1.0]), flambeau.tensor([3.0], dtype=f64)).dtype == f64
    assert T(2.0, flambeau.tensor([1, 2])).dtype == f32
    assert T(flambeau.tensor([1.0], dtype=f64), 3.5).dtype == f64
    assert S.shifted_chebyshev_polynomial_w(ints, 2).dtype == f32
    assert S.gammainc(flambeau.tensor([1.0]), flambeau.tensor([1.0], dtype=f64)).dtype == f64
    assert S.gammainc(flambeau.tensor([1]), flambeau.tensor([1.0])).dtype == f32
    half = S.gammainc(flambeau.tensor([1.0], dtype=flambeau.float16),
                      flambeau.tensor([1.0], dtype=flambeau.float16))
    assert half.dtype == flambeau.float16 and abs(half.item() - 0.6321) < 1e-3


def test_float32_values_match_float64():
    x = np.linspace(0.1, 30, 50)
    for name, _, _ in _UNARY:
        f = getattr(S, name)
        got = f(flambeau.tensor(x, dtype=flambeau.float32)).cpu().numpy()
        want = f(flambeau.tensor(x.astype(np.float32).astype(np.float64))).cpu().numpy()
        np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6, atol=1e-30)


def test_broadcasting_and_scalars():
    x = flambeau.tensor([0.5, 0.2])
    n = flambeau.tensor([[2], [3]])
    out = S.chebyshev_polynomial_t(x, n)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out.cpu().numpy(), [[-0.5, -0.92], [-1.0, -0.568]], rtol=1e-6)
    np.testing.assert_allclose(S.chebyshev_polynomial_t(0.5, flambeau.tensor([2, 3])).cpu().numpy(),
                               [-0.5, -1.0])
    np.testing.assert_allclose(S.shifted_chebyshev_polynomial_t(0.75, flambeau.tensor([2])
                                                                ).cpu().numpy(), [-0.5])
    assert S.hermite_polynomial_h(flambeau.tensor([0.5]), 3.7).tolist() == [-5.0]
    p = S.gammainc(flambeau.tensor([[1.0], [2.0]]), flambeau.tensor([1.0, 2.0, 3.0]))
    assert p.shape == (2, 3)
    assert S.bessel_j0(flambeau.tensor(2.0)).shape == ()


def test_empty_tensors():
    e = flambeau.zeros(0, 3)
    for name, _, _ in _UNARY:
        assert getattr(S, name)(e).shape == (0, 3)
    for name, _, _ in _POLYS:
        assert getattr(S, name)(e, 4).shape == (0, 3)
    assert S.gammainc(e, e).shape == (0, 3)


def test_out_argument():
    out = flambeau.empty(2)
    S.bessel_j0(flambeau.tensor([0.0, 1.0]), out=out)
    np.testing.assert_allclose(out.cpu().numpy(), [1.0, 0.7651977], rtol=1e-6)
    S.legendre_polynomial_p(flambeau.tensor([0.5, 1.0]), 2, out=out)
    np.testing.assert_allclose(out.cpu().numpy(), [-0.125, 1.0])
    S.gammaincc(flambeau.tensor([1.0, 1.0]), flambeau.tensor([0.0, 1.0]), out=out)
    np.testing.assert_allclose(out.cpu().numpy(), [1.0, math.exp(-1)], rtol=1e-6)


def test_inplace_methods():
    a = flambeau.tensor([1.0, 2.0])
    assert a.igamma_(flambeau.tensor([1.0, 1.0])) is a
    np.testing.assert_allclose(a.cpu().numpy(), [1 - math.exp(-1), 1 - 2 * math.exp(-1)], rtol=1e-6)
    b = flambeau.tensor([1.0, 2.0])
    b.igammac_(flambeau.tensor([1.0, 1.0]))
    np.testing.assert_allclose(b.cpu().numpy(), [math.exp(-1), 2 * math.exp(-1)], rtol=1e-6)


# ---------------------------------------------------------------------- autograd, errors


def test_gammainc_gradient_in_x_matches_torch_and_a_raises():
    a = flambeau.tensor([0.5, 1.0, 3.0], dtype=flambeau.float64)
    x = flambeau.tensor([0.0, 0.5, 2.0], dtype=flambeau.float64, requires_grad=True)
    S.gammainc(a, x).sum().backward()
    g = x.grad.cpu().numpy()
    assert g[0] == math.inf
    np.testing.assert_allclose(g[1:], [math.exp(-0.5), 2.0 * math.exp(-2.0)], rtol=1e-14)
    x.grad = None
    S.gammaincc(a, x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy()[1:], -g[1:], rtol=1e-15)
    # torch's formula: NaN at x = 0 for a = 1
    x0 = flambeau.tensor([0.0], dtype=flambeau.float64, requires_grad=True)
    S.gammainc(flambeau.tensor([1.0], dtype=flambeau.float64), x0).backward()
    assert math.isnan(x0.grad.item())
    ag = flambeau.tensor([1.0], requires_grad=True)
    for fn, name in ((S.gammainc, "igamma"), (S.gammaincc, "igammac")):
        with pytest.raises(NotImplementedError,
                           match=f"the derivative for '{name}: input' is not implemented"):
            fn(ag, flambeau.tensor([1.0])).backward()


def test_gammainc_second_order_gradient():
    a = flambeau.tensor([2.5], dtype=flambeau.float64)
    x = flambeau.tensor([1.5], dtype=flambeau.float64, requires_grad=True)
    (g,) = flambeau.autograd.grad(S.gammainc(a, x), x, create_graph=True)
    (h,) = flambeau.autograd.grad(g, x)
    # d/dx of x^(a-1) e^-x / gamma(a) = density * ((a - 1) / x - 1)
    density = 1.5 ** 1.5 * math.exp(-1.5) / math.gamma(2.5)
    assert abs(h.item() - density * (1.5 / 1.5 - 1.0)) < 1e-14


@pytest.mark.parametrize("name", [n for n, _, _ in _UNARY] + [n for n, _, _ in _POLYS])
def test_not_differentiable_like_torch(name):
    x = flambeau.tensor([0.5, 2.0], requires_grad=True)
    fn = getattr(S, name)
    y = fn(x) if name in dict((n, 0) for n, _, _ in _UNARY) else fn(x, 3)
    assert not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_errors():
    with pytest.raises(TypeError, match=r"igamma\(\): argument 'other' \(position 2\) must be "
                                        "Tensor, not float"):
        S.gammainc(flambeau.tensor([1.0]), 2.0)
    with pytest.raises(TypeError, match=r"igammac\(\): argument 'input' \(position 1\)"):
        S.gammaincc(2.0, flambeau.tensor([1.0]))
    with pytest.raises(NotImplementedError, match='"igamma" is not implemented for '
                                                  "flambeau.int64 tensors"):
        flambeau.igamma(flambeau.tensor([1, 2]), flambeau.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match='"igammac" is not implemented for '
                                                  "flambeau.bool tensors"):
        flambeau.igammac(flambeau.tensor([True]), flambeau.tensor([True]))
    with pytest.raises(RuntimeError, match="igamma: the size of tensor a"):
        flambeau.igamma(flambeau.ones(2), flambeau.ones(3))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        flambeau.tensor([1, 2]).igamma_(flambeau.tensor([1.0, 1.0]))
    with pytest.raises(TypeError, match=r"chebyshev_polynomial_t\(\): expected a Tensor"):
        S.chebyshev_polynomial_t(0.5, 2)
    with pytest.raises(NotImplementedError, match='"bessel_j0" is not implemented for '
                                                  "flambeau.float16 tensors"):
        S.bessel_j0(flambeau.tensor([1.0], dtype=flambeau.float16))
    with pytest.raises(NotImplementedError, match='"legendre_polynomial_p" is not implemented'):
        S.legendre_polynomial_p(flambeau.tensor([1.0], dtype=flambeau.bfloat16), 2)
    with pytest.raises(TypeError, match=r"airy_ai\(\): argument 'input' \(position 1\) must be "
                                        "Tensor, not float"):
        S.airy_ai(1.0)
    with pytest.raises(RuntimeError, match="hermite_polynomial_h: the size of tensor a"):
        S.hermite_polynomial_h(flambeau.ones(2), flambeau.ones(3))


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))

"""``logaddexp`` at infinities and NaNs, real and complex, against PyTorch: values on a grid
of special and finite parts, accuracy where ``exp(other - input)`` is close to -1, and
gradients next to an infinite operand."""

import math

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

INF, NAN = math.inf, math.nan
#: parts of the grid: differences of real parts stay small, since torch 2.13's complex log1p
#: gives NaN for a subnormal argument (logaddexp(40, -50+1j) is nan+nanj in complex64)
PARTS = [0.0, 1.0, -2.0, 3.5, INF, -INF, NAN]
TOL = {"complex64": 2e-6, "complex128": 1e-14, "float32": 2e-6, "float64": 1e-14}


def _pairs(values):
    return [x for x in values for _ in values], [y for _ in values for y in values]


def _assert_matches(got, want, tol):
    got, want = np.asarray(got), np.asarray(want)
    for part in (np.real, np.imag):
        g, w = part(got), part(want)
        assert np.array_equal(np.isnan(g), np.isnan(w)), (got[np.isnan(g) != np.isnan(w)],)
        special = ~np.isfinite(w)
        assert np.array_equal(g[special], w[special], equal_nan=True), (got, want)
        np.testing.assert_allclose(g[~special], w[~special], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_logaddexp_at_infinities_and_nans_is_torchs(dtype):
    xs, ys = _pairs([complex(a, b) for a in PARTS for b in PARTS])
    got = flambeau.logaddexp(flambeau.tensor(xs, dtype=getattr(flambeau, dtype)),
                             flambeau.tensor(ys, dtype=getattr(flambeau, dtype)))
    want = torch.logaddexp(torch.tensor(xs, dtype=getattr(torch, dtype)),
                           torch.tensor(ys, dtype=getattr(torch, dtype)))
    assert got.dtype == getattr(flambeau, dtype)
    _assert_matches(got.numpy(), want.numpy(), TOL[dtype])


def test_the_examples_of_the_report():
    inf = flambeau.tensor([INF + 0j])
    assert flambeau.logaddexp(inf, flambeau.tensor([1 + 1j])).tolist() == [complex(INF, 0)]
    # both real parts +inf: the angle of exp(x) + exp(y); both -inf: the second operand
    got = flambeau.logaddexp(flambeau.tensor([complex(INF, 1), complex(-INF, 1)]),
                             flambeau.tensor([complex(INF, 1), complex(-INF, -2)]))
    assert got[1].item() == complex(-INF, -2)
    assert got[0].real.item() == INF and got[0].imag.item() == pytest.approx(math.pi / 4)
    assert flambeau.logaddexp(flambeau.tensor([complex(0, NAN)]), inf).isnan().tolist() == [
        True]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_logaddexp_at_infinities_and_nans_is_torchs(dtype):
    xs, ys = _pairs(PARTS)
    got = flambeau.logaddexp(flambeau.tensor(xs, dtype=getattr(flambeau, dtype)),
                             flambeau.tensor(ys, dtype=getattr(flambeau, dtype)))
    want = torch.logaddexp(torch.tensor(xs, dtype=getattr(torch, dtype)),
                           torch.tensor(ys, dtype=getattr(torch, dtype)))
    _assert_matches(got.numpy(), want.numpy(), TOL[dtype])


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_logaddexp_is_accurate_where_the_sum_nearly_cancels(dtype):
    rng = np.random.default_rng(0)
    y = rng.normal(size=400) * 4 + 1j * rng.normal(size=400) * 4
    # exp(x) close to -exp(y): the result's real part is very negative; ties of real parts too
    x = y + 1j * np.pi + rng.normal(size=400) * 1e-3
    x[:50] = y[:50].real + 1j * rng.normal(size=50) * 8
    a, b = (flambeau.tensor(v, dtype=getattr(flambeau, dtype)) for v in (x, y))
    got = flambeau.logaddexp(a, b).numpy()
    want = torch.logaddexp(torch.from_numpy(a.numpy()), torch.from_numpy(b.numpy())).numpy()
    exact = flambeau.logaddexp(a.to(flambeau.complex128), b.to(flambeau.complex128)).numpy()
    scale = np.maximum(1, np.abs(exact))
    tol = {"complex64": 2e-6, "complex128": 1e-13}[dtype]
    assert np.max(np.abs(got - want) / scale) < tol
    assert np.max(np.abs(got - exact) / scale) <= np.max(np.abs(want - exact) / scale) + tol


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_logaddexp_gradients_next_to_an_infinite_operand_are_torchs(dtype):
    if dtype == "float64":
        xs, ys, w = [INF, -INF, 1.0, 2.0], [1.0, 0.5, -INF, 2.0], [1.0, 2.0, 3.0, 4.0]
    else:
        xs = [complex(INF, 0), complex(-INF, 1), 1 + 2j, 2 - 1j]
        ys = [1 + 1j, 0.5 - 1j, complex(-INF, 3), 2 + 3j]
        w = [1 + 2j, 2 - 1j, 3 + 0.5j, -1 + 1j]
    grads = []
    for lib in (flambeau, torch):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.tensor(ys, dtype=getattr(lib, dtype), requires_grad=True)
        out = lib.logaddexp(x, y) * lib.tensor(w, dtype=getattr(lib, dtype))
        (out.real if dtype == "complex128" else out).sum().backward()
        grads.append((np.asarray(x.grad.detach()), np.asarray(y.grad.detach())))
    # finite at an infinite operand (torch's nan where exp(y - x) is a complex infinity)
    assert np.isfinite(grads[1][0][0]) and grads[1][0][0] != 0
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_logaddexp_with_a_number_operand():
    a = flambeau.tensor([1.0, INF, -INF])
    assert flambeau.logaddexp(a, 2.0).tolist() == pytest.approx(
        torch.logaddexp(torch.tensor([1.0, INF, -INF]), torch.tensor(2.0)).tolist())
    got = flambeau.logaddexp(1j, flambeau.tensor([1.0, 2.0]))
    want = torch.logaddexp(torch.tensor(1j), torch.tensor([1.0, 2.0]))
    assert got.dtype == flambeau.complex64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("a, b", [([1, 2], [3, 4]), ([True], [False]), ([1, 2], 3)])
def test_logaddexp_of_integers_is_refused_as_in_torch(a, b):
    other = flambeau.tensor(b) if isinstance(b, list) else b
    with pytest.raises(NotImplementedError, match='"logaddexp" is not implemented for '
                       r"flambeau\.(int64|bool)"):
        flambeau.logaddexp(flambeau.tensor(a), other)
    with pytest.raises(NotImplementedError):
        torch.logaddexp(torch.tensor(a), torch.tensor(b))


def test_logaddexp_of_an_integer_and_a_float_tensor_promotes_as_torch():
    got = flambeau.logaddexp(flambeau.tensor([1, 2]), flambeau.tensor(1.5))
    want = torch.logaddexp(torch.tensor([1, 2]), torch.tensor(1.5))
    assert got.dtype == flambeau.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)

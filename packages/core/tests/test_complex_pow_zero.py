"""Complex ``pow`` at a zero base, against PyTorch. torch computes ``exp(w log 0)`` for a
tensor exponent (also a number base with a tensor exponent): 0 for Re w > 0, inf+nanj for
Re w < 0, nan+nanj for Re w = 0, so ``0 ** 0j`` is nan+nanj. Its tensor ** number form
fills ones for an exponent 0 instead, and gives inf+nanj for Re w < 0 too. Values are
compared with NaNs equal and the signs of zeros ignored."""

import math

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

INF, NAN = math.inf, math.nan
DTYPES = ["complex64", "complex128"]
#: exponents of the brief and around them, with special parts for the tensor forms
EXPONENTS = [0j, 1 + 0j, 2 + 0j, 0.5 + 0j, 1j, -1 + 0j, 3 + 0j, -0.5 + 0j, 2 + 1j, -1 + 1j,
             1e-3 + 0j, 4 + 0j, complex(0.0, -0.0), complex(-0.0, 0.0), -2j]
SPECIAL = [complex(a, b) for a in (2.0, -1.0, 0.0, INF, -INF, NAN) for b in (0.0, 1.0, NAN)]
#: infinite imaginary parts: only at +0 (torch's C99 complex product differs at signed zeros)
INF_IMAG = [complex(a, b) for a in (2.0, -1.0, 0.0, INF, -INF, NAN) for b in (INF, -INF)]
#: number exponents of tensor ** number: torch special-cases 0, 1, 2, 3, 0.5, -0.5, -1, -2
NUMBERS = [0, 0.0, 0j, 1, 1.0, 1 + 0j, 2, 2 + 0j, 3, 0.5, -0.5, -1, -1 + 0j, -2 + 0j, -3,
           1j, 2 + 1j, -1 + 1j, 1e-3, 4 + 0j, 1.5, True, False, NAN]
#: zero bases (signed zeros too) and a few others in the same tensor
BASES = [0j, complex(-0.0, 0.0), complex(0.0, -0.0), 1 + 1j, -2 + 0.5j]


def _assert_same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    for part in (np.real, np.imag):
        g, w = part(got), part(want)
        # torch's complex64 pow leaves ~1e-7 in parts that are 0 ((1+1j) ** 2)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, equal_nan=True)


def _tensor_pair(lib, dtype, exponents):
    base = [b for b in BASES for _ in exponents]
    exp = [e for _ in BASES for e in exponents]
    return lib.tensor(base, dtype=getattr(lib, dtype)), lib.tensor(exp, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["t**t", "pow(t,t)", "t.pow(t)", "t.pow_(t)"])
def test_tensor_to_a_tensor_power_at_zero_is_torchs(dtype, form):
    results = []
    for lib in (flambeau, torch):
        a, b = _tensor_pair(lib, dtype, EXPONENTS + SPECIAL)
        if form == "t**t":
            r = a ** b
        elif form == "pow(t,t)":
            r = lib.pow(a, b)
        elif form == "t.pow(t)":
            r = a.pow(b)
        else:
            r = a.clone()
            r.pow_(b)
        results.append(r.numpy())
    _assert_same(*results)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_to_a_power_with_an_infinite_imaginary_part_is_torchs(dtype):
    results = []
    for lib in (flambeau, torch):
        b = lib.tensor(INF_IMAG, dtype=getattr(lib, dtype))
        results.append([(lib.zeros_like(b) ** b).numpy(), (0 ** b).numpy()])
    for got, want in zip(*results):
        _assert_same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("base", [0, 0.0, 0j])
def test_a_number_base_to_a_tensor_power_at_zero_is_torchs(dtype, base):
    results = []
    for lib in (flambeau, torch):
        b = lib.tensor(EXPONENTS + SPECIAL, dtype=getattr(lib, dtype))
        results.append([(base ** b).numpy(), lib.pow(base, b).numpy()])
    for got, want in zip(*results):
        _assert_same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_real_zero_tensor_to_a_complex_power_is_torchs(dtype):
    results = []
    real = "float64" if dtype == "complex128" else "float32"
    for lib in (flambeau, torch):
        b = lib.tensor(EXPONENTS, dtype=getattr(lib, dtype))
        z = lib.zeros(len(EXPONENTS), dtype=getattr(lib, real))
        zc = lib.zeros(len(EXPONENTS), dtype=getattr(lib, dtype))
        results.append([(z ** b).numpy(), (zc ** b.real).numpy()])
    for got, want in zip(*results):
        _assert_same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", NUMBERS, ids=repr)
def test_a_tensor_to_a_number_power_at_zero_is_torchs(dtype, exponent):
    # torch's scalar form: 0 ** 0 is 1 (it fills ones), unlike the tensor forms
    results = []
    for lib in (flambeau, torch):
        a = lib.tensor(BASES, dtype=getattr(lib, dtype))
        results.append([(a ** exponent).numpy(), lib.pow(a, exponent).numpy()])
    for got, want in zip(*results):
        _assert_same(got, want)


def test_the_forms_differ_at_zero_to_the_zero_power_as_in_torch():
    z = flambeau.tensor([0j])
    assert np.isnan(flambeau.pow(z, flambeau.tensor([0j])).item().real)
    assert np.isnan((0 ** flambeau.tensor([0j])).item().imag)
    assert (z ** 0j).tolist() == [1 + 0j] and (z ** 0).tolist() == [1 + 0j]
    assert (z ** -1).item().real == INF


@pytest.mark.parametrize("exponents", [[0j, 1 + 0j, 2 + 0j, 0.5 + 0j, 1j, -1 + 0j, 2 + 1j],
                                       [1.5 + 0.5j, -0.5 + 2j, 3 + 0j, 0j]], ids=["at0", "more"])
def test_gradients_of_complex_pow_at_and_near_zero_are_torchs(exponents):
    grads = []
    for lib in (flambeau, torch):
        base = [0j] * len(exponents) + [0.5 - 0.25j] * len(exponents)
        a = lib.tensor(base, dtype=lib.complex128, requires_grad=True)
        b = lib.tensor(exponents * 2, dtype=lib.complex128, requires_grad=True)
        w = lib.tensor([1 + 2j, -1 + 0.5j] * len(exponents), dtype=lib.complex128)
        ((a ** b) * w).real.sum().backward()
        a2 = lib.zeros(len(exponents), dtype=lib.complex128, requires_grad=True)
        sum((a2[i] ** e).real for i, e in enumerate(exponents)).backward()
        b3 = lib.tensor(exponents, dtype=lib.complex128, requires_grad=True)
        (0 ** b3).real.sum().backward()
        grads.append([a.grad.numpy(), b.grad.numpy(), a2.grad.numpy(), b3.grad.numpy()])
    for got, want in zip(*grads):
        _assert_same(got, want)


def test_real_zero_to_a_zero_tensor_power_has_torchs_gradient():
    grads = []
    for lib in (flambeau, torch):
        a = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 2.0], dtype=lib.float64, requires_grad=True)
        (a ** b).sum().backward()
        grads.append([a.grad.tolist(), b.grad.tolist()])
    assert grads[0] == grads[1] == [[0.0, 0.0], [0.0, 0.0]]

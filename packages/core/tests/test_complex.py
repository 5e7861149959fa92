"""Complex dtypes: promotion, printing, parts and views, conversions, and the gradient
convention (z.grad = dL/dx + i dL/dy) at the real/complex boundary."""

import itertools
import math
import warnings

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

CPU = {"device": "cpu"}
REAL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
        "float64"]
COMPLEX = ["complex64", "complex128"]


def _name(torch_dtype):
    # NumPy has no complex32: flambeau gives complex64 where torch gives complex32
    name = str(torch_dtype)[6:]
    return "complex64" if name == "complex32" else name


def _f(t):
    return flambeau.tensor(t.detach().numpy(), **CPU)


def _close(got, want, tol=1e-6):
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().resolve_conj().numpy(),
                               rtol=tol,
                               atol=tol)


# ------------------------------------------------------------------ dtypes and promotion


def test_dtype_attributes_match_torch():
    for name in COMPLEX:
        f, t = getattr(flambeau, name), getattr(torch, name)
        assert (f.is_complex, f.is_floating_point, f.is_signed, f.itemsize) == (
            t.is_complex, t.is_floating_point, t.is_signed, t.itemsize)
        assert f.to_real().name == _name(t.to_real())
    assert flambeau.cfloat is flambeau.complex64 and flambeau.cdouble is flambeau.complex128
    assert flambeau.float32.to_complex() is flambeau.complex64
    assert flambeau.float64.to_complex() is flambeau.complex128
    assert flambeau.float16.to_complex() is flambeau.complex64  # torch: complex32
    with pytest.raises(TypeError, match="to_complex: flambeau.int64 is not a floating"):
        flambeau.int64.to_complex()
    assert flambeau.finfo(flambeau.complex128).eps == torch.finfo(torch.complex128).eps
    assert flambeau.finfo(flambeau.complex64).dtype is flambeau.float32


@pytest.mark.parametrize(("a", "b"), [p for p in itertools.product(REAL + COMPLEX, COMPLEX)])
def test_promote_types_with_complex_matches_torch(a, b):
    want = _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert flambeau.promote_types(getattr(flambeau, a), getattr(flambeau, b)).name == want
    assert flambeau.promote_types(getattr(flambeau, b), getattr(flambeau, a)).name == want


@pytest.mark.parametrize("a", REAL + COMPLEX)
@pytest.mark.parametrize("b", COMPLEX + ["float64", "float32"])
@pytest.mark.parametrize(("a_dim", "b_dim"), [(1, 0), (0, 1), (0, 0), (1, 1)])
def test_result_type_of_dimensioned_and_zero_dim_operands(a, b, a_dim, b_dim):
    def pair(lib):
        return (lib.ones((2,) * a_dim, dtype=getattr(lib, a)),
                lib.ones((2,) * b_dim, dtype=getattr(lib, b)))

    want = _name(torch.result_type(*pair(torch)))
    assert flambeau.result_type(*pair(flambeau)).name == want
    fx, fy = pair(flambeau)
    if a != "bool" or b != "bool":
        assert (fx * fy).dtype.name == want


@pytest.mark.parametrize("a", REAL + COMPLEX)
@pytest.mark.parametrize("scalar", [2j, 1.5, 3])
def test_result_type_with_python_scalars(a, scalar):
    tx = torch.ones(2, dtype=getattr(torch, a))
    fx = flambeau.ones(2, dtype=getattr(flambeau, a))
    want = _name(torch.result_type(tx, scalar))
    assert flambeau.result_type(fx, scalar).name == want
    got = fx * scalar
    assert got.dtype.name == want
    if a not in ("float16", "bfloat16"):
        np.testing.assert_allclose(got.numpy(), (tx * scalar).numpy())


def test_default_complex_dtype_follows_default_float():
    assert flambeau.tensor([1j]).dtype is flambeau.complex64
    assert flambeau.tensor(2 + 0j).dtype is flambeau.complex64
    flambeau.set_default_dtype(flambeau.float64)
    try:
        assert flambeau.tensor([1j]).dtype is flambeau.complex128
        assert (flambeau.tensor([1]) * 1j).dtype is flambeau.complex128
        assert repr(flambeau.tensor([1j], dtype=flambeau.complex128)) == "tensor([0.+1.j])"
    finally:
        flambeau.set_default_dtype(flambeau.float32)
    exact = flambeau.tensor([0.1 + 0.1j], dtype=flambeau.complex128)  # no float32 detour
    assert exact.item() == 0.1 + 0.1j


# ------------------------------------------------------------------ printing


@pytest.mark.parametrize("values", [
    [1j], [], 1 + 2j, [[1.5 + 2j, -3j], [0, 1e-5j]], [float("nan") + 1j, float("inf") * 1j],
    [1 + 1j] * 200, [1.2345 + 1j] * 30, [[1e10 + 1j, 3]], [-0.5 - 0.25j, 2.0],
])
@pytest.mark.parametrize("dtype", COMPLEX)
def test_repr_matches_torch(values, dtype):
    got = repr(flambeau.tensor(values, dtype=getattr(flambeau, dtype), **CPU))
    want = repr(torch.tensor(values, dtype=getattr(torch, dtype))).replace("torch.", "flambeau.")
    assert got == want


# ------------------------------------------------------------------ parts, views, conversions


def test_real_and_imag_are_views_that_write_through():
    z = flambeau.tensor([1 + 2j, 3 - 4j], **CPU)
    re, im = z.real, z.imag
    assert re.dtype is flambeau.float32 and im.dtype is flambeau.float32
    re[0] = 10.0
    im.mul_(2)
    assert z.tolist() == [10 + 4j, 3 - 8j]
    assert re._base is z and im._base is z
    z.real = flambeau.tensor([0.0, 1.0])
    z.imag = flambeau.tensor(5.0)
    assert z.tolist() == [5j, 1 + 5j]
    x = flambeau.tensor([1.0, 2.0])
    assert x.real is x and flambeau.real(x) is x
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        x.imag


def test_conj_angle_abs_isreal_match_torch():
    values = [1 + 2j, -3 - 0.5j, 0j, -2 + 0j, 1j]
    fz, tz = flambeau.tensor(values, **CPU), torch.tensor(values)
    _close(fz.conj(), tz.conj())
    _close(fz.conj_physical(), tz.conj_physical())
    _close(fz.angle(), tz.angle())
    _close(flambeau.isreal(fz), torch.isreal(tz))
    assert fz.conj().is_conj() is False  # flambeau conjugates eagerly
    assert fz.resolve_conj() is fz and fz.resolve_neg() is fz
    x = flambeau.tensor([1.0, -1.0])
    assert x.conj() is x and x.conj_physical() is x
    assert flambeau.isreal(x).all()


def test_conjugate_transposes():
    m = [[1 + 1j, 2], [3j, 4 - 2j], [5, 6j]]
    fm, tm = flambeau.tensor(m, **CPU), torch.tensor(m)
    _close(fm.H, tm.H)
    _close(fm.mH, tm.mH)
    _close(flambeau.stack([fm, fm]).mH, torch.stack([tm, tm]).mH)


def test_view_as_real_and_complex_share_memory():
    z = flambeau.tensor([[1 + 2j, 3 - 4j], [5j, 6]], **CPU)
    r = flambeau.view_as_real(z)
    assert tuple(r.shape) == (2, 2, 2) and r.dtype is flambeau.float32
    _close(r, torch.view_as_real(torch.tensor([[1 + 2j, 3 - 4j], [5j, 6]])))
    r[0, 0, 1] = 9.0
    assert z[0, 0].item() == 1 + 9j
    back = flambeau.view_as_complex(r)
    assert back.dtype is flambeau.complex64 and back.tolist() == z.tolist()
    back[1, 1] = -1j
    assert z[1, 1].item() == -1j
    cols = flambeau.view_as_real(z[:, 1])  # a strided complex view
    assert cols.tolist() == [[3.0, -4.0], [0.0, -1.0]]


@pytest.mark.parametrize(("make", "match"), [
    (lambda: flambeau.zeros(3, 3), "last dimension of size 2"),
    (lambda: flambeau.zeros(2, 4)[:, ::2], "last dimension with stride 1"),
    (lambda: flambeau.zeros(3, 3, 2)[:, :, :][::1, 1:, :].reshape(3, 2, 2)[:, :1],
     None),
    (lambda: flambeau.zeros(5)[1:].reshape(2, 2), "stride divisible by 2"),
    (lambda: flambeau.zeros(2, 2, dtype=flambeau.int64), "only supported for float32 and"),
    (lambda: flambeau.zeros(2, 2, dtype=flambeau.float16), "only supported for float32 and"),
])
def test_view_as_complex_errors(make, match):
    x = make()
    if match is None:  # a legal geometry: it must work
        flambeau.view_as_complex(x)
        return
    with pytest.raises(RuntimeError, match=f"view_as_complex.*{match}"):
        flambeau.view_as_complex(x)


def test_view_as_real_rejects_real_tensors():
    with pytest.raises(RuntimeError, match=r"view_as_real is only supported for complex "
                                           r"tensors, got a flambeau.float32 tensor of shape"):
        flambeau.view_as_real(flambeau.zeros(2))


def test_complex_and_polar_match_torch():
    re, im = [1.0, -2.0, float("inf")], [0.5, float("inf"), 3.0]
    got = flambeau.complex(flambeau.tensor(re, **CPU), flambeau.tensor(im, **CPU))
    want = torch.complex(torch.tensor(re), torch.tensor(im))
    _close(got, want)  # inf parts stay apart: no NaN from inf * 1j
    bcast = flambeau.complex(flambeau.ones(2, 1, dtype=flambeau.float64), flambeau.zeros(3,
                             dtype=flambeau.float64))
    assert bcast.dtype is flambeau.complex128 and tuple(bcast.shape) == (2, 3)
    r, a = [2.0, 1.0, 0.5], [math.pi / 2, -1.0, 3.0]
    _close(flambeau.polar(flambeau.tensor(r, **CPU), flambeau.tensor(a, **CPU)),
           torch.polar(torch.tensor(r), torch.tensor(a)))
    with pytest.raises(RuntimeError, match="complex: expected both inputs to be float32 or "
                                           "both float64, got flambeau.float32 and "
                                           "flambeau.float64"):
        flambeau.complex(flambeau.ones(1), flambeau.ones(1, dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match="polar: expected both"):
        flambeau.polar(flambeau.ones(1, dtype=flambeau.int64), flambeau.ones(1))
    with pytest.raises(RuntimeError, match=r"complex: the shapes of real \[2\] and imag \[3\]"):
        flambeau.complex(flambeau.ones(2), flambeau.ones(3))
    out = flambeau.empty(0, dtype=flambeau.complex64)
    assert flambeau.complex(flambeau.ones(1), flambeau.ones(1), out=out) is out
    assert out.tolist() == [1 + 1j]


def test_casts_between_real_and_complex():
    z = flambeau.tensor([1.5 + 2j], **CPU)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = z.to(flambeau.float32)
    assert x.tolist() == [1.5]
    assert "discards the imaginary part" in str(caught[0].message)
    assert flambeau.tensor([2.0]).to(flambeau.complex64).tolist() == [2 + 0j]
    assert complex(flambeau.tensor(1 - 1j)) == 1 - 1j
    assert float(flambeau.tensor(3 + 0j)) == 3.0
    with pytest.raises(RuntimeError, match=r"float\(\): the complex value \(1\+2j\) of a "
                                           r"flambeau.complex64 tensor can't be converted"):
        float(flambeau.tensor(1 + 2j))
    assert flambeau.zeros(1, dtype=flambeau.complex64).requires_grad_().requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype"):
        flambeau.zeros(1, dtype=flambeau.int64).requires_grad_()


# ------------------------------------------------------------------ gradients


def _leaf(values, dtype="complex128"):
    return (flambeau.tensor(values, dtype=getattr(flambeau, dtype), **CPU).requires_grad_(),
            torch.tensor(values, dtype=getattr(torch, dtype)).requires_grad_())


def test_gradients_of_parts_and_views_match_torch():
    values = [1 + 2j, -3 + 0.5j, 2 - 1j]
    w = [0.3, -1.2, 2.0]
    losses = [
        lambda lib, z: (z.real * lib.tensor(w, dtype=lib.float64)).sum(),
        lambda lib, z: (z.imag * lib.tensor(w, dtype=lib.float64)).sum(),
        lambda lib, z: (lib.view_as_real(z) ** 2 * lib.tensor([1.0, 3.0],
                                                                 dtype=lib.float64)).sum(),
        lambda lib, z: (lib.view_as_real(z.conj().resolve_conj())
                        * lib.tensor([2.0, -1.0], dtype=lib.float64)).sum(),
        lambda lib, z: lib.angle(z).sum(),
        lambda lib, z: lib.view_as_real(lib.polar(z.real.exp(), z.imag)).sum(),
        lambda lib, z: lib.view_as_real(lib.complex(z.imag, z.real)).pow(2).sum(),
    ]
    for i, loss in enumerate(losses):
        fz, tz = _leaf(values)
        loss(flambeau, fz).backward()
        loss(torch, tz).backward()
        _close(fz.grad, tz.grad, 1e-10)
        assert fz.grad.dtype is flambeau.complex128, i


def test_angle_gradient_is_zero_at_the_origin():
    fz, tz = _leaf([0j, 1 + 1j])
    flambeau.angle(fz).sum().backward()
    torch.angle(tz).sum().backward()
    _close(fz.grad, tz.grad, 1e-12)


def test_real_input_of_a_complex_result_gets_the_real_part():
    fx = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64, **CPU).requires_grad_()
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64).requires_grad_()
    fy = flambeau.tensor([0.5, -1.0], dtype=flambeau.float64, **CPU).requires_grad_()
    ty = torch.tensor([0.5, -1.0], dtype=torch.float64).requires_grad_()
    for lib, x, y in ((flambeau, fx, fy), (torch, tx, ty)):
        z = lib.complex(x, y)
        lib.view_as_real(z).mul(lib.tensor([[1.0, 2.0], [3.0, 4.0]],
                                           dtype=lib.float64)).sum().backward()
    _close(fx.grad, tx.grad, 1e-12)
    _close(fy.grad, ty.grad, 1e-12)
    assert fx.grad.dtype is flambeau.float64
    x = flambeau.tensor([1.0, 2.0], dtype=flambeau.float64, **CPU).requires_grad_()
    z = x.to(flambeau.complex128)
    flambeau.view_as_real(z).select(-1, 0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and x.grad.dtype is flambeau.float64


def test_double_backward_through_complex_parts():
    fz, tz = _leaf([1 + 2j, -0.5 + 1j])
    for lib, z in ((flambeau, fz), (torch, tz)):
        loss = (lib.view_as_real(z) ** 3).sum()
        (g,) = (flambeau if lib is flambeau else torch).autograd.grad(loss, z, create_graph=True)
        lib.view_as_real(g).pow(2).sum().backward()
    _close(fz.grad, tz.grad, 1e-10)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmaxes_refuse_complex_input_as_torch(op):
    with pytest.raises(RuntimeError, match=f"{op}: not implemented for complex tensors"):
        getattr(flambeau, op)(flambeau.tensor([1j, 2.0]), 0)
    with pytest.raises(RuntimeError):
        getattr(torch, op)(torch.tensor([1j, 2.0]), 0)


def test_copy_of_complex_into_real_warns_and_keeps_the_real_part():
    x = flambeau.zeros(2)
    with pytest.warns(UserWarning, match="Casting complex values to real discards the "
                                         "imaginary part"):
        x.copy_(flambeau.tensor([1 + 2j, -3j]))
    assert x.tolist() == [1.0, 0.0]

"""flambeau.fft against torch.fft: values over dtypes, norms, n/s padding and truncation,
dims (negative, several, reordered), odd and even lengths; gradients of a real loss against
torch's; gradcheck and gradgradcheck in float64 through real wrappers
(``view_as_real`` / ``complex``), so that finite differences see every real and imaginary
part; dtypes, ``out=``, errors, ``fftfreq``/``rfftfreq`` and the shifts.

Tensors compared with torch are created on the CPU; ``test_default_device`` runs the
transforms on the default device (``FLAMBEAU_TEST_DEVICE``) against the CPU.
"""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

F = flambeau.fft
T = torch.fft

REAL = ("float32", "float64")
COMPLEX = ("complex64", "complex128")
DTYPES = REAL + COMPLEX
NORMS = (None, "backward", "ortho", "forward")

ONE_D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
TWO_D = ("fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2")
N_D = ("fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")
REAL_ONLY = {"rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn"}
REAL_OUT = {"irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn"}

# (n, dim) of the one-dimensional transforms of a (6, 9) input: defaults, truncation,
# zero-padding, odd and even lengths, negative and positive dims
ONE_D_ARGS = [(None, -1), (None, 0), (4, -1), (13, -1), (3, 0), (10, -2), (8, 1)]
# (s, dim) of the n-dimensional transforms of a (4, 5, 6) input
N_D_ARGS = [(None, None), ((3, 7), None), (None, (0, 2)), ((5, -1), (2, 0)), ((4,), None),
            (None, -2), ((7,), (1,)), ((3, 4, 8), None), ((2, 6), (-1, -3))]
# (s, dim) of the two-dimensional transforms (two dims each)
TWO_D_ARGS = [(None, (-2, -1)), ((3, 7), (-2, -1)), (None, (0, 2)), ((5, -1), (2, 0)),
              ((2, 8), (1, 0))]


def _array(rng, dtype, shape):
    a = rng.standard_normal(shape)
    if dtype in COMPLEX:
        a = a + 1j * rng.standard_normal(shape)
    return np.asarray(a, dtype=dtype)


def _fl(a, grad=False):
    return flambeau.tensor(a, device="cpu", requires_grad=grad)


def _th(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().numpy()
    return t.detach().cpu().numpy()


def _close(got, want, dtype, what=""):
    got, want = _np(got), _np(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert str(got.dtype) == str(want.dtype), (what, got.dtype, want.dtype)
    single = str(want.dtype) in ("float32", "complex64") or dtype in ("float32", "complex64")
    tol = 2e-5 if single else 1e-12
    scale = 1.0 + np.abs(want).max(initial=0.0)
    err = np.abs(got.astype(np.complex128) - want.astype(np.complex128)).max(initial=0.0)
    assert err <= tol * scale, f"{what}: max abs error {err:.3g} (scale {scale:.3g})"


def _call(lib, name, x, args):
    n_or_s, dim = args
    fn = getattr(lib.fft, name)
    if name in ONE_D:
        return fn(x, n=n_or_s, dim=dim)
    kwargs = {} if dim is None else {"dim": dim}
    return fn(x, s=n_or_s, **kwargs)


def _args_for(name):
    return ONE_D_ARGS if name in ONE_D else TWO_D_ARGS if name in TWO_D else N_D_ARGS


def _shape_for(name):
    return (6, 9) if name in ONE_D else (4, 5, 6)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ONE_D + TWO_D + N_D)
def test_values_match_torch(name, dtype):
    if name in REAL_ONLY and dtype in COMPLEX:
        pytest.skip("real-input transform (complex inputs raise: test_errors)")
    rng = np.random.default_rng(0)
    a = _array(rng, dtype, _shape_for(name))
    for args in _args_for(name):
        for norm in NORMS:
            got = getattr(F, name)(_fl(a), **_kwargs(name, args, norm))
            want = getattr(T, name)(_th(a), **_kwargs(name, args, norm))
            _close(got, want, dtype, f"{name}{args} norm={norm}")


def _kwargs(name, args, norm):
    n_or_s, dim = args
    kw = {"norm": norm}
    if name in ONE_D:
        kw.update(n=n_or_s, dim=dim)
    else:
        kw["s"] = n_or_s
        if dim is not None:
            kw["dim"] = dim
    return kw


@pytest.mark.parametrize("name", ["fft", "ifft", "fftn", "irfft", "hfft", "hfftn", "irfftn"])
def test_values_of_integer_and_bool_inputs(name):
    a = np.arange(-3, 9, dtype=np.int64).reshape(3, 4)
    for arr in (a, a.astype(np.int32), a > 2):
        got = getattr(F, name)(_fl(arr))
        want = getattr(T, name)(_th(arr))
        _close(got, want, "float32", name)


def test_default_dtype_float64_gives_complex128():
    previous = flambeau.get_default_dtype()
    flambeau.set_default_dtype(flambeau.float64)
    try:
        assert F.fft(flambeau.arange(4, device="cpu")).dtype is flambeau.complex128
        assert F.irfft(flambeau.arange(4, device="cpu")).dtype is flambeau.float64
    finally:
        flambeau.set_default_dtype(previous)


@pytest.mark.parametrize("dtype,complex_dtype", [("float32", flambeau.complex64),
                                                 ("float64", flambeau.complex128),
                                                 ("complex64", flambeau.complex64),
                                                 ("complex128", flambeau.complex128)])
def test_result_dtypes(dtype, complex_dtype):
    x = _fl(_array(np.random.default_rng(1), dtype, (4, 6)))
    real_dtype = complex_dtype.to_real()
    for name in ("fft", "ifft", "fft2", "ifftn"):
        assert getattr(F, name)(x).dtype is complex_dtype, name
    for name in ("irfft", "hfft", "irfft2", "hfftn"):
        assert getattr(F, name)(x).dtype is real_dtype, name
    if dtype in REAL:
        for name in ("rfft", "ihfft", "rfftn", "ihfft2"):
            assert getattr(F, name)(x).dtype is complex_dtype, name


def test_zero_dim_and_empty_transforms():
    x = _fl(np.float64(2.5))
    got, want = F.fftn(x), T.fftn(_th(np.float64(2.5)))
    _close(got, want, "float64", "0-d fftn")
    a = np.ones((4, 6))
    _close(F.fftn(_fl(a), dim=()), T.fftn(_th(a), dim=()), "float64", "dim=()")
    # an empty batch gives an empty result (torch's MKL raises for it)
    assert F.fft(flambeau.zeros(0, 4, device="cpu")).shape == (0, 4)
    assert F.rfft(flambeau.zeros(0, 4, device="cpu")).shape == (0, 3)
    _close(F.fft(flambeau.zeros(0, device="cpu"), n=4), T.fft(torch.zeros(0), n=4),
           "float32", "empty signal padded")


def test_roundtrips():
    rng = np.random.default_rng(2)
    for n in (7, 8):
        x = _fl(_array(rng, "float64", (3, n)))
        for norm in NORMS:
            np.testing.assert_allclose(_np(F.irfft(F.rfft(x, norm=norm), n=n, norm=norm)),
                                       _np(x), atol=1e-12)
            np.testing.assert_allclose(_np(F.ifft(F.fft(x, norm=norm), norm=norm).real),
                                       _np(x), atol=1e-12)
            np.testing.assert_allclose(_np(F.hfft(F.ihfft(x, norm=norm), n=n, norm=norm)),
                                       _np(x), atol=1e-12)
            np.testing.assert_allclose(
                _np(F.irfftn(F.rfftn(x, norm=norm), s=x.shape, norm=norm)), _np(x), atol=1e-12)


def test_noncontiguous_inputs():
    rng = np.random.default_rng(3)
    a = _array(rng, "complex128", (6, 8))
    x = _fl(a).transpose(0, 1)[::2]
    want = T.fft(_th(a).transpose(0, 1)[::2], dim=0)
    _close(F.fft(x, dim=0), want, "complex128", "strided")


# ------------------------------------------------------------------ gradients against torch


def _weights(rng, out):
    shape = tuple(out.shape)
    w = rng.standard_normal(shape)
    if out.is_complex():
        w = w + 1j * rng.standard_normal(shape)
    return w.astype(np.complex128 if out.is_complex() else np.float64)


def _grad(lib, name, a, kwargs, w):
    x = (_fl if lib is flambeau else _th)(a, grad=True)
    out = getattr(lib.fft, name)(x, **kwargs)
    wt = (_fl if lib is flambeau else _th)(w.astype(np.complex64 if out.dtype in (
        flambeau.complex64, torch.complex64) else np.float32 if out.dtype in (
        flambeau.float32, torch.float32) else w.dtype))
    loss = (out * wt).real.sum() if out.is_complex() else (out * wt).sum()
    loss.backward()
    return x.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ONE_D + TWO_D + N_D)
def test_gradients_match_torch(name, dtype):
    if name in REAL_ONLY and dtype in COMPLEX:
        pytest.skip("real-input transform")
    rng = np.random.default_rng(4)
    a = _array(rng, dtype, _shape_for(name))
    for args in _args_for(name):
        for norm in (None, "ortho", "forward"):
            kwargs = _kwargs(name, args, norm)
            w = _weights(rng, getattr(T, name)(_th(a), **kwargs))
            got = _grad(flambeau, name, a, kwargs, w)
            want = _grad(torch, name, a, kwargs, w)
            _close(got, want, dtype, f"grad {name}{args} norm={norm}")


@pytest.mark.parametrize("name", ["irfft", "hfft", "irfftn"])
def test_c2r_gradient_ignores_imaginary_dc_and_nyquist(name):
    rng = np.random.default_rng(5)
    for n in (8, 9):
        a = _array(rng, "complex128", (n // 2 + 1,))
        x = _fl(a, grad=True)
        out = getattr(F, name)(x, **({"n": n} if name != "irfftn" else {"s": (n,)}))
        (out * _fl(rng.standard_normal(n))).sum().backward()
        g = _np(x.grad)
        assert g[0].imag == 0
        if n % 2 == 0:
            assert g[-1].imag == 0
        # and changing those imaginary parts does not change the output
        b = a.copy()
        b[0] += 3j
        if n % 2 == 0:
            b[-1] -= 2j
        again = getattr(F, name)(_fl(b), **({"n": n} if name != "irfftn" else {"s": (n,)}))
        np.testing.assert_allclose(_np(again), _np(out), atol=1e-12)


def test_gradient_of_abs_loss_matches_torch():
    rng = np.random.default_rng(6)
    a = _array(rng, "float64", (3, 10))
    x, xt = _fl(a, grad=True), _th(a, grad=True)
    F.rfft(x, n=12).abs().sum().backward()
    T.rfft(xt, n=12).abs().sum().backward()
    _close(x.grad, xt.grad, "float64")
    z = _array(rng, "complex128", (4, 5))
    x, xt = _fl(z, grad=True), _th(z, grad=True)
    F.fft2(x, s=(3, 7), norm="ortho").abs().sum().backward()
    T.fft2(xt, s=(3, 7), norm="ortho").abs().sum().backward()
    _close(x.grad, xt.grad, "complex128")


def test_second_derivatives_match_torch():
    rng = np.random.default_rng(7)
    a = _array(rng, "float64", (2, 8))
    w = _array(rng, "float64", (2, 8))

    def second(lib, mk):
        x = mk(a, grad=True)
        spec = lib.fft.rfft(x, norm="ortho")
        y = lib.fft.irfft(spec * spec, n=8)  # a nonlinear function of x
        (g,) = lib.autograd.grad((y * mk(w)).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return x.grad

    _close(second(flambeau, _fl), second(torch, _th), "float64")


# ------------------------------------------------------------------ gradcheck (float64)


def _real_wrapper(name, kwargs, complex_input):
    """A function of real tensors to real tensors around ``flambeau.fft.<name>``."""
    fn = getattr(F, name)

    def real_out(out):
        return flambeau.view_as_real(out) if out.is_complex() else out

    if complex_input:
        return lambda re, im: real_out(fn(flambeau.complex(re, im), **kwargs))
    return lambda x: real_out(fn(x, **kwargs))


GRADCHECK_CASES = [
    ("fft", {"n": 5}), ("fft", {"n": 3, "norm": "ortho"}), ("ifft", {"dim": 0}),
    ("ifft", {"n": 6, "norm": "forward"}), ("rfft", {}), ("rfft", {"n": 6, "dim": 0}),
    ("rfft", {"n": 3, "norm": "forward"}), ("irfft", {}), ("irfft", {"n": 5}),
    ("irfft", {"n": 8, "norm": "ortho"}), ("hfft", {"n": 5}), ("hfft", {"norm": "forward"}),
    ("ihfft", {}), ("ihfft", {"n": 6, "norm": "ortho"}), ("fft2", {"s": (3, 5)}),
    ("ifftn", {"dim": (1, 0), "norm": "ortho"}), ("rfftn", {"s": (4, 3)}),
    ("rfft2", {"dim": (1, 0)}), ("irfftn", {"s": (3, 5)}), ("irfft2", {"dim": (1, 0)}),
    ("hfftn", {"s": (2, 4)}), ("hfft2", {"norm": "ortho"}), ("ihfftn", {"s": (4, 5)}),
    ("ihfft2", {"norm": "forward"}),
]


@pytest.mark.parametrize("name,kwargs", GRADCHECK_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(GRADCHECK_CASES)])
def test_gradcheck_and_gradgradcheck(name, kwargs):
    rng = np.random.default_rng(8)
    shape = (3, 4)
    inputs = [_fl(rng.standard_normal(shape), grad=True)]
    if name not in REAL_ONLY:
        inputs.append(_fl(rng.standard_normal(shape), grad=True))
    fn = _real_wrapper(name, kwargs, complex_input=len(inputs) == 2)
    assert flambeau.autograd.gradcheck(fn, inputs)
    assert flambeau.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name,kwargs", [("fft", {"n": 6}), ("irfft", {"n": 5}),
                                         ("hfftn", {"s": (2, 4)}), ("ifft2", {"norm": "ortho"})])
def test_gradcheck_complex_inputs_directly(name, kwargs):
    """gradcheck on complex128 inputs and outputs themselves (no real wrapper)."""
    z = _fl(_array(np.random.default_rng(13), "complex128", (3, 4)), grad=True)
    fn = lambda t: getattr(F, name)(t, **kwargs)  # noqa: E731
    assert flambeau.autograd.gradcheck(fn, (z,))
    assert flambeau.autograd.gradgradcheck(fn, (z,))


@pytest.mark.parametrize("name,kwargs", [
    ("fft", {"n": 5}), ("fft", {"dim": 0, "norm": "forward"}), ("ifft", {"norm": "ortho"}),
    ("ifft", {"n": 3}), ("fft2", {"s": (3, 5)}), ("ifftn", {"dim": (1, 0), "norm": "forward"}),
    ("fftn", {"dim": ()}), ("ifft2", {"s": (2, 2)}),
])
def test_gradcheck_real_inputs_of_complex_transforms(name, kwargs):
    """A real input's full spectrum comes from its half spectrum, and its gradient (the real
    part of the adjoint) from a complex-to-real transform: check both, and their own
    gradients."""
    x = _fl(np.random.default_rng(12).standard_normal((3, 4)), grad=True)
    fn = _real_wrapper(name, kwargs, complex_input=False)
    assert flambeau.autograd.gradcheck(fn, (x,))
    assert flambeau.autograd.gradgradcheck(fn, (x,))


# ------------------------------------------------------------------ out=


def test_out_argument():
    a = np.random.default_rng(9).standard_normal((3, 8)).astype(np.float32)
    out = flambeau.empty(0, dtype=flambeau.complex64, device="cpu")
    res = F.rfft(_fl(a), out=out)
    assert res is out and out.shape == (3, 5)
    _close(out, T.rfft(_th(a)), "float32")
    wide = flambeau.empty(0, dtype=flambeau.complex128, device="cpu")
    F.fft(_fl(a), out=wide)
    assert wide.dtype is flambeau.complex128
    _close(wide, T.fft(_th(a)).to(torch.complex128), "float32")
    real = flambeau.empty(0, device="cpu")
    F.irfft(_fl(a), out=real)
    _close(real, T.irfft(_th(a)), "float32")
    with pytest.raises(RuntimeError, match="fft.fft expects a complex output tensor"):
        F.fft(_fl(a), out=flambeau.empty(0, device="cpu"))
    with pytest.raises(RuntimeError, match="fft.irfft expects a floating point output"):
        F.irfft(_fl(a), out=flambeau.empty(0, dtype=flambeau.complex64, device="cpu"))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        F.fft(_fl(a, grad=True), out=flambeau.empty(0, dtype=flambeau.complex64,
                                                     device="cpu"))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.fft(x, n=0), RuntimeError, r"fft.fft: Invalid number of data points \(0\)"),
    (lambda x: F.ifft(x, n=-1), RuntimeError, r"fft.ifft: Invalid number of data points"),
    (lambda x: F.fft(x, dim=2), IndexError, r"fft.fft: Dimension out of range"),
    (lambda x: F.rfft(x, dim=-3), IndexError, r"Dimension out of range"),
    (lambda x: F.fft(x, norm="bad"), RuntimeError, r'fft.fft: Invalid normalization mode: "bad"'),
    (lambda x: F.fft(x, norm="Ortho"), RuntimeError, r"Invalid normalization mode"),
    (lambda x: F.fft(x, norm=1), TypeError, r"argument 'norm' must be str"),
    (lambda x: F.fft(x, dim=(0,)), TypeError, r"argument 'dim' must be int"),
    (lambda x: F.fft(x, n=3.0), TypeError, r"argument 'n' must be int"),
    (lambda x: F.fft2(x, s=(3,), dim=(0, 1)), RuntimeError,
     r"fft.fft2: When given, dim and shape arguments must have the same length"),
    (lambda x: F.fftn(x, s=(2, 3, 4)), RuntimeError,
     r"Got shape with 3 values but input tensor only has 2 dimensions"),
    (lambda x: F.fftn(x, s=(0, 5)), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda x: F.fftn(x, dim=(0, 0)), RuntimeError, r"fft.fftn: FFT dims must be unique"),
    (lambda x: F.fftn(x, s=(None, 3)), TypeError, r"argument 's' must be tuple of ints"),
    (lambda x: F.fftn(x, dim=(0, 1, 2)), IndexError, r"Dimension out of range"),
    (lambda x: F.rfftn(x, dim=()), RuntimeError, r"fft.rfftn must transform at least one axis"),
    (lambda x: F.irfftn(x, dim=()), RuntimeError, r"irfftn must transform at least one axis"),
    (lambda x: F.irfft(x, n=0), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda x: F.irfft(x[:, :1]), RuntimeError, r"fft.irfft: Invalid number of data points \(0\)"),
    (lambda x: F.hfft(x[:, :1]), RuntimeError, r"fft.hfft: Invalid number of data points \(0\)"),
    (lambda x: F.irfftn(x, s=(3, 0)), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda x: F.rfft(x.to(flambeau.complex64)), RuntimeError,
     r"fft.rfft expects a real input tensor, but got flambeau.complex64"),
    (lambda x: F.ihfftn(x.to(flambeau.complex128)), RuntimeError,
     r"fft.ihfftn expects a real input tensor"),
    (lambda x: F.rfft2(x.to(flambeau.complex128)), RuntimeError, r"expects a real input"),
    (lambda x: F.fft(x.half()), RuntimeError, r"fft.fft: Unsupported dtype flambeau.float16"),
    (lambda x: F.irfftn(x.to(flambeau.bfloat16)), RuntimeError, r"Unsupported dtype"),
    (lambda x: F.fft(x[0, 0]), IndexError, r"Dimension specified as -1 but tensor has no dim"),
    (lambda x: F.fft2(x[0]), IndexError, r"Dimension out of range"),
    (lambda x: F.fft(x[:0].reshape(0)), RuntimeError, r"Invalid number of data points \(0\)"),
    (lambda x: F.fft([1.0, 2.0]), TypeError, r"argument 'input' \(position 1\) must be Tensor"),
    (lambda x: F.fftshift(x[0, 0]), RuntimeError, r"fft.fftshift: `shifts` required"),
    (lambda x: F.ifftshift(x, dim=()), RuntimeError, r"`shifts` required"),
    (lambda x: F.fftshift(x, dim=5), IndexError, r"fft.fftshift: Dimension out of range"),
], ids=lambda v: None if callable(v) or isinstance(v, type) else "")
def test_errors(call, error, match):
    x = flambeau.randn(4, 6, device="cpu")
    with pytest.raises(error, match=match):
        call(x)


def test_torch_raises_the_same_errors():
    """The cases above that torch also refuses (the messages differ only in the op name)."""
    x = torch.randn(4, 6)
    for call in (lambda: T.fft(x, n=0), lambda: T.fft(x, norm="bad"),
                 lambda: T.fftn(x, dim=(0, 0)), lambda: T.rfftn(x, dim=()),
                 lambda: T.rfft(x.to(torch.complex64)), lambda: T.fft(x.half()),
                 lambda: T.fftshift(x[0, 0]), lambda: T.irfft(x[:, :1])):
        with pytest.raises(RuntimeError):
            call()


# ------------------------------------------------------------------ fftfreq, shifts


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_frequencies_match_torch(name):
    for n in (0, 1, 4, 5, 16, 17):
        for d in (1.0, 0.1, 2.5, 0.0):
            for dt in (None, "float32", "float64", "float16", "bfloat16"):
                kw = {} if dt is None else {"dtype": getattr(flambeau, dt)}
                got = getattr(F, name)(n, d, device="cpu", **kw)
                tkw = {} if dt is None else {"dtype": getattr(torch, dt)}
                want = getattr(T, name)(n, d, **tkw)
                assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
                np.testing.assert_array_equal(_np(got.float()), _np(want.float()),
                                              err_msg=f"{name}({n}, {d}, {dt})")


def test_frequency_keywords_and_errors():
    f = F.fftfreq(4, device="cpu", requires_grad=True)
    assert f.requires_grad and f.is_leaf
    out = flambeau.empty(0, dtype=flambeau.float64, device="cpu")
    assert F.rfftfreq(6, 0.5, out=out) is out and out.dtype is flambeau.float64
    np.testing.assert_array_equal(_np(out), T.rfftfreq(6, 0.5, dtype=torch.float64).numpy())
    with pytest.raises(RuntimeError, match="fft.fftfreq requires a floating point"):
        F.fftfreq(4, dtype=flambeau.int64)
    with pytest.raises(NotImplementedError, match="complex dtype"):
        F.rfftfreq(4, dtype=flambeau.complex64)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        F.fftfreq(-1)
    with pytest.raises(TypeError, match="argument 'n'"):
        F.fftfreq(4.0)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_shifts_match_torch(name):
    rng = np.random.default_rng(10)
    for shape in ((5,), (4,), (3, 4), (2, 5, 3)):
        a = rng.standard_normal(shape)
        dims = [None, 0, -1, (0,), tuple(range(len(shape)))]
        if len(shape) > 1:
            dims += [(-1, 0), (0, 0)]
        for dim in dims:
            x, xt = _fl(a, grad=True), _th(a, grad=True)
            got = getattr(F, name)(x, dim=dim)
            want = getattr(T, name)(xt, dim=dim)
            np.testing.assert_array_equal(_np(got), _np(want))
            w = rng.standard_normal(shape)
            (got * _fl(w)).sum().backward()
            (want * _th(w)).sum().backward()
            np.testing.assert_array_equal(_np(x.grad), _np(xt.grad))


def test_shift_centres_fftfreq():
    for n in (6, 7):
        f = F.fftfreq(n, device="cpu")
        assert np.all(np.diff(_np(F.fftshift(f))) > 0)
        np.testing.assert_array_equal(_np(F.ifftshift(F.fftshift(f))), _np(f))


# ------------------------------------------------------------------ namespace, devices


def test_namespace():
    from flambeau import fft as fft_module

    assert fft_module is flambeau.fft
    assert set(F.__all__) == {n for n in dir(torch.fft) if not n.startswith("_")
                              and callable(getattr(torch.fft, n))} - {"Tensor"}
    for name in F.__all__:
        assert getattr(F, name).__doc__


def test_default_device():
    """The transforms on the default device (FLAMBEAU_TEST_DEVICE) equal the CPU's."""
    rng = np.random.default_rng(11)
    a = _array(rng, "complex128", (3, 6))
    r = _array(rng, "float64", (3, 6))
    x, xr = flambeau.tensor(a, requires_grad=True), flambeau.tensor(r, requires_grad=True)
    for name, t, kw in (("fft", x, {"n": 8}), ("irfft", x, {}), ("rfft2", xr, {"s": (2, 5)}),
                        ("hfftn", x, {"norm": "ortho"}), ("ihfft", xr, {"n": 4})):
        got = getattr(F, name)(t, **kw)
        assert got.device == t.device
        want = getattr(F, name)(_fl(t.detach().cpu().numpy()), **kw)
        np.testing.assert_allclose(_np(got), _np(want), atol=1e-12)
        loss = got.abs().sum()
        loss.backward()
        assert t.grad.device == t.device
        t.grad = None
    f = F.fftfreq(5)
    assert f.device == flambeau.get_default_device()
    assert F.fftshift(f).device == f.device

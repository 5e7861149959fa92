"""flambeau.stft / flambeau.istft against torch.stft / torch.istft: values over dtypes,
windows (none, shorter than n_fft), centring and its pad modes, hop lengths (including the
scatter path of overlap-add for many overlapping frames), normalization, one- and two-sided
spectra, ``align_to_window``, ``length``; gradients with respect to the signal, the
spectrogram and the window against torch's; gradcheck/gradgradcheck in float64; warnings and
errors; the round trip; the Tensor methods.
"""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau._ops import spectral

torch = pytest.importorskip("torch")

DTYPES = ("float32", "float64", "complex64", "complex128")
COMPLEX = ("complex64", "complex128")

# keyword arguments of stft (and istft, less pad_mode / align_to_window); "window" is the
# window's length (a Hann window) or None for the default rectangular one
STFT_CASES = [
    {"n_fft": 16, "window": 16},
    {"n_fft": 16, "window": None},
    {"n_fft": 16, "hop_length": 5, "win_length": 10, "window": 10},
    {"n_fft": 16, "hop_length": 6, "win_length": 11, "window": None},
    {"n_fft": 15, "hop_length": 4, "window": 15, "center": False},
    {"n_fft": 16, "hop_length": 4, "window": 16, "pad_mode": "constant"},
    {"n_fft": 16, "hop_length": 4, "window": 16, "pad_mode": "replicate"},
    {"n_fft": 16, "hop_length": 4, "window": 16, "pad_mode": "circular"},
    {"n_fft": 16, "window": 16, "normalized": True},
    {"n_fft": 16, "window": 16, "onesided": False},
    {"n_fft": 16, "hop_length": 4, "win_length": 8, "window": 8, "center": False,
     "align_to_window": True},
    {"n_fft": 64, "hop_length": 1, "window": 64},  # 64 frames overlap each sample: scatter
    {"n_fft": 8, "hop_length": 11, "window": 8},  # frames with gaps between them
    {"n_fft": 9, "hop_length": 3, "window": 9, "normalized": True, "onesided": False},
]


def _case_id(case):
    return ",".join(f"{k}={v}" for k, v in case.items())


def _array(rng, dtype, shape):
    a = rng.standard_normal(shape)
    if dtype in COMPLEX:
        a = a + 1j * rng.standard_normal(shape)
    return np.asarray(a, dtype=dtype)


def _np(t):
    return t.detach().cpu().numpy() if not isinstance(t, torch.Tensor) else \
        t.detach().resolve_conj().numpy()


def _close(got, want, single, what=""):
    got, want = _np(got), _np(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert str(got.dtype) == str(want.dtype), (what, got.dtype, want.dtype)
    tol = 3e-5 if single else 1e-12
    scale = 1.0 + np.abs(want).max(initial=0.0)
    err = np.abs(got.astype(np.complex128) - want.astype(np.complex128)).max(initial=0.0)
    assert err <= tol * scale, f"{what}: max abs error {err:.3g} (scale {scale:.3g})"


def _lib_args(lib, case, dtype, grad_window=False):
    """(stft kwargs, istft kwargs, window) for ``lib`` (flambeau or torch)."""
    kw = dict(case)
    size = kw.pop("window")
    window = None
    if size is not None:
        real = "float32" if dtype in ("float32", "complex64") else "float64"
        w = np.hanning(size + 1)[:-1] + 0.1  # periodic Hann, lifted: no zero at the ends
        mk = flambeau.tensor if lib is flambeau else torch.tensor
        extra = {"device": "cpu"} if lib is flambeau else {}
        window = mk(w.astype(real), requires_grad=grad_window, **extra)
    ikw = {k: v for k, v in kw.items() if k not in ("pad_mode", "align_to_window")}
    return kw, ikw, window


def _tensor(lib, a, grad=False):
    if lib is flambeau:
        return flambeau.tensor(a, device="cpu", requires_grad=grad)
    return torch.tensor(a, requires_grad=grad)


def _stft(lib, x, window, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.stft(x, window=window, return_complex=True, **kw)


def _istft(lib, spec, window, kw, **more):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.istft(spec, window=window, **kw, **more)


# ------------------------------------------------------------------ stft


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", STFT_CASES, ids=_case_id)
def test_stft_values_and_gradients_match_torch(case, dtype):
    if dtype in COMPLEX and case.get("onesided") is None:
        case = {**case, "onesided": False}
    rng = np.random.default_rng(0)
    single = dtype in ("float32", "complex64")
    for shape in ((2, 90), (71,)):
        a = _array(rng, dtype, shape)
        results = {}
        for lib in (flambeau, torch):
            kw, _, window = _lib_args(lib, case, dtype, grad_window=True)
            x = _tensor(lib, a, grad=True)
            spec = _stft(lib, x, window, kw)
            w = np.random.default_rng(1).standard_normal(tuple(spec.shape) + (2,))
            w = _tensor(lib, (w[..., 0] + 1j * w[..., 1]).astype(
                np.complex64 if single else np.complex128))
            (spec * w).real.sum().backward()
            results[lib] = (spec, x.grad, None if window is None else window.grad)
        (s, gx, gw), (st, gxt, gwt) = results[flambeau], results[torch]
        _close(s, st, single, f"stft {shape}")
        _close(gx, gxt, single, f"stft grad input {shape}")
        if gwt is not None:
            _close(gw, gwt, single, f"stft grad window {shape}")


def test_stft_return_complex_false_and_methods():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 64)).astype(np.float32)
    w = np.hanning(17)[:-1].astype(np.float32)
    x, xt = flambeau.tensor(a, device="cpu"), torch.tensor(a)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        got = x.stft(16, window=flambeau.tensor(w, device="cpu"), return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = xt.stft(16, window=torch.tensor(w), return_complex=False)
    assert got.shape == (2, 9, 17, 2)
    _close(got, want, True)
    spec = x.stft(16, window=flambeau.tensor(w, device="cpu"), return_complex=True)
    y = spec.istft(16, window=flambeau.tensor(w, device="cpu"), length=64)
    _close(y, torch.tensor(a), True, "Tensor.istft round trip")


def test_stft_complex_window_and_promotion():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(40).astype(np.float32)
    wc = (rng.standard_normal(8) + 1j * rng.standard_normal(8)).astype(np.complex64)
    got = flambeau.stft(flambeau.tensor(a, device="cpu"), 8,
                        window=flambeau.tensor(wc, device="cpu"))
    want = torch.stft(torch.tensor(a), 8, window=torch.tensor(wc))
    _close(got, want, True, "complex window")
    # a float64 window promotes a float32 signal, an integer one does not
    w64 = np.hanning(8)
    got = flambeau.stft(flambeau.tensor(a, device="cpu"), 8,
                        window=flambeau.tensor(w64, device="cpu"), return_complex=True)
    assert got.dtype is flambeau.complex128
    got = flambeau.stft(flambeau.tensor(a, device="cpu"), 8,
                        window=flambeau.ones(8, dtype=flambeau.int64, device="cpu"),
                        return_complex=True)
    assert got.dtype is flambeau.complex64


def test_stft_warns_without_window():
    x = flambeau.randn(64, device="cpu")
    with pytest.warns(UserWarning, match="A window was not provided"):
        flambeau.stft(x, 16, return_complex=True)


def _stft_error(call, match, error=RuntimeError):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call()


def test_stft_errors():
    x = flambeau.randn(2, 100, device="cpu")
    win = flambeau.hann_window(16, device="cpu")
    _stft_error(lambda: flambeau.stft(x, 16, window=win),
                "stft requires the return_complex parameter be given for real inputs")
    _stft_error(lambda: flambeau.stft(flambeau.randn(2, 2, 100, device="cpu"), 16, window=win,
                                      return_complex=True), "expected a 1D or 2D tensor")
    _stft_error(lambda: flambeau.stft(flambeau.ones(100, dtype=flambeau.int64, device="cpu"),
                                      16, window=win, return_complex=True),
                "expected a tensor of floating point or complex values")
    _stft_error(lambda: flambeau.stft(x.half(), 16, return_complex=True),
                "FFTs do not support flambeau.float16")
    _stft_error(lambda: flambeau.stft(x, 200, center=False, return_complex=True),
                r"expected 0 < n_fft <= 100 .*but got n_fft=200")
    _stft_error(lambda: flambeau.stft(x, 0, return_complex=True), "but got n_fft=0")
    _stft_error(lambda: flambeau.stft(x, 16, hop_length=0, return_complex=True),
                "expected hop_length > 0, but got hop_length=0")
    _stft_error(lambda: flambeau.stft(x, 16, win_length=20, return_complex=True),
                "expected 0 < win_length <= n_fft, but got win_length=20")
    _stft_error(lambda: flambeau.stft(x, 16, window=flambeau.ones(10, device="cpu"),
                                      return_complex=True),
                r"expected a 1D window tensor of size equal to win_length=16, but got window "
                r"with size \[10\]")
    _stft_error(lambda: flambeau.stft(x.to(flambeau.complex64), 16, window=win, onesided=True),
                "Cannot have onesided output if window or input is complex")
    _stft_error(lambda: flambeau.stft(x, 16, window=win, pad_mode="bad", return_complex=True),
                "Unrecognised padding mode 'bad'", NotImplementedError)
    _stft_error(lambda: flambeau.stft(flambeau.randn(5, device="cpu"), 16, window=win,
                                      return_complex=True),
                r"stft: reflect padding of \(8, 8\) samples needs a signal longer")
    _stft_error(lambda: flambeau.stft(x, 16, window=win, align_to_window=True,
                                      return_complex=True),
                "align_to_window should only be set when center = false")
    _stft_error(lambda: flambeau.stft([1.0] * 20, 16, return_complex=True),
                "must be Tensor", TypeError)
    # torch refuses the same calls
    xt = torch.randn(2, 100)
    for call in (lambda: torch.stft(xt, 16), lambda: torch.stft(xt, 16, hop_length=0,
                                                                return_complex=True),
                 lambda: torch.stft(xt, 16, win_length=20, return_complex=True),
                 lambda: torch.stft(torch.randn(5), 16, return_complex=True)):
        _stft_error(call, "")


# ------------------------------------------------------------------ istft


ISTFT_CASES = [c for c in STFT_CASES if "align_to_window" not in c and c.get("center", True)]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("case", ISTFT_CASES, ids=_case_id)
def test_istft_values_and_gradients_match_torch(case, dtype):
    rng = np.random.default_rng(4)
    single = dtype == "complex64"
    real_dtype = "float32" if single else "float64"
    signal = _array(rng, real_dtype, (2, 90))
    kw, ikw, window = _lib_args(torch, case, dtype)
    spec = _stft(torch, torch.tensor(signal), window, kw).detach().to(getattr(torch, dtype))
    # perturb it: not a consistent spectrogram any more (istft is then a least-squares fit)
    spec = spec + torch.tensor(_array(rng, dtype, tuple(spec.shape))) * 0.1
    if ikw.get("onesided", True) is not False:
        # one-sided spectra of real signals have real DC and Nyquist bins
        spec[:, 0] = spec[:, 0].real.to(spec.dtype)
    for length in (None, 80, 90, 97):
        try:
            _istft(torch, spec, _lib_args(torch, case, dtype)[2], ikw, length=length)
        except RuntimeError:  # NOLA, hop_length > win_length: flambeau refuses them too
            _, ikw, window = _lib_args(flambeau, case, dtype)
            with pytest.raises(RuntimeError, match="NOLA|hop_length <= win_length"):
                _istft(flambeau, _tensor(flambeau, spec.numpy()), window, ikw, length=length)
            continue
        results = {}
        for lib in (flambeau, torch):
            _, ikw, window = _lib_args(lib, case, dtype, grad_window=True)
            s = _tensor(lib, spec.numpy(), grad=True)
            y = _istft(lib, s, window, ikw, length=length)
            w = _tensor(lib, np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(
                real_dtype))
            (y * w).sum().backward()
            results[lib] = (y, s.grad, None if window is None else window.grad)
        (y, gs, gw), (yt, gst, gwt) = results[flambeau], results[torch]
        _close(y, yt, single, f"istft length={length}")
        _close(gs, gst, single, f"istft grad spec length={length}")
        if gwt is not None:
            _close(gw, gwt, single, f"istft grad window length={length}")


@pytest.mark.parametrize("center", [True, False])
def test_istft_return_complex(center):
    rng = np.random.default_rng(6)
    z = _array(rng, "complex128", (2, 60))
    w = np.hanning(17)[:-1] + 0.1
    outs = []
    for lib in (flambeau, torch):
        window = _tensor(lib, w)
        spec = lib.stft(_tensor(lib, z), 16, hop_length=4, window=window, center=center)
        outs.append(lib.istft(spec, 16, hop_length=4, window=window, center=center,
                              return_complex=True))
    _close(outs[0], outs[1], False, "complex istft")
    assert outs[0].dtype is flambeau.complex128


def test_round_trip():
    rng = np.random.default_rng(7)
    for n_fft, hop in ((64, 16), (63, 21), (32, 8)):
        x = flambeau.tensor(rng.standard_normal((3, 400)), device="cpu")
        w = flambeau.hann_window(n_fft, dtype=flambeau.float64, device="cpu")
        spec = flambeau.stft(x, n_fft, hop_length=hop, window=w, return_complex=True)
        y = flambeau.istft(spec, n_fft, hop_length=hop, window=w, length=400)
        np.testing.assert_allclose(_np(y), _np(x), atol=1e-12)


def test_istft_warnings():
    x = np.random.default_rng(11).standard_normal(100).astype(np.float32)
    spec = flambeau.stft(flambeau.tensor(x, device="cpu"), 16,
                         window=flambeau.hann_window(16, device="cpu"), return_complex=True)
    with pytest.warns(UserWarning, match="A window was not provided"):
        flambeau.istft(spec, 16)
    with pytest.warns(UserWarning, match="shorter than the length parameter"):
        y = flambeau.istft(spec, 16, window=flambeau.hann_window(16, device="cpu"), length=120)
    # 26 frames cover 116 samples, 8 of them centre padding: the last 12 are zeros
    assert y.shape == (120,) and bool((y[108:] == 0).all()) and bool((y[:108] != 0).all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.istft(torch.tensor(spec.numpy()), 16, window=torch.hann_window(16),
                           length=120)
    _close(y, want, True)


def test_istft_errors():
    x = flambeau.randn(2, 100, device="cpu")
    win = flambeau.hann_window(16, device="cpu")
    spec = flambeau.stft(x, 16, window=win, return_complex=True)
    err = _stft_error
    err(lambda: flambeau.istft(spec, 16, window=flambeau.hann_window(16, periodic=False,
                                                                     device="cpu"),
                               center=False), "window overlap add min < 1e-11.*NOLA")
    err(lambda: flambeau.istft(spec, 16, window=flambeau.zeros(16, device="cpu")), "NOLA")
    err(lambda: flambeau.istft(spec.real, 16, window=win),
        "istft requires a complex-valued input tensor")
    err(lambda: flambeau.istft(spec[0, 0], 16, window=win),
        "expected a tensor with 2 or 3 dimensions")
    err(lambda: flambeau.istft(spec[None], 16, window=win),
        "expected a tensor with 2 or 3 dimensions")
    err(lambda: flambeau.istft(spec[:, :8], 16, window=win),
        "to match n_fft / 2 \\+ 1 = 9 when onesided=True, but got 8")
    err(lambda: flambeau.istft(spec, 16, window=win, onesided=False),
        "to match n_fft = 16 when onesided=False, but got 9")
    err(lambda: flambeau.istft(spec, 16, hop_length=20, window=win),
        "expected 0 < hop_length <= win_length")
    err(lambda: flambeau.istft(spec, 16, win_length=20), "expected 0 < win_length <= n_fft")
    err(lambda: flambeau.istft(spec, 16, window=flambeau.ones(10, device="cpu")),
        "Invalid window shape")
    err(lambda: flambeau.istft(spec, 16, window=win, return_complex=True),
        "Cannot have onesided output")
    full = flambeau.stft(x, 16, window=win, return_complex=True, onesided=False)
    err(lambda: flambeau.istft(full, 16, window=win.to(flambeau.complex64)),
        "Complex windows are incompatible with return_complex=False")
    err(lambda: flambeau.istft(spec[:, :, :0], 16, window=win), "input tensor cannot be empty")
    err(lambda: flambeau.istft(spec, 16, window=win, length=0), "expected length > 0")
    # torch refuses these too
    st = torch.stft(torch.randn(2, 100), 16, window=torch.hann_window(16), return_complex=True)
    for call in (lambda: torch.istft(st, 16, window=torch.zeros(16)),
                 lambda: torch.istft(st.real, 16), lambda: torch.istft(st[:, :8], 16),
                 lambda: torch.istft(st, 16, hop_length=20)):
        err(call, "")


# ------------------------------------------------------------------ gradcheck, vectorization


def test_gradcheck_stft_and_istft():
    rng = np.random.default_rng(8)
    x = flambeau.tensor(rng.standard_normal((2, 24)), device="cpu", requires_grad=True)
    w = flambeau.tensor(np.hanning(9)[:-1] + 0.2, device="cpu", requires_grad=True)

    def spec_of(x, w):
        return flambeau.view_as_real(flambeau.stft(x, 8, hop_length=3, window=w,
                                                   return_complex=True))

    assert flambeau.autograd.gradcheck(spec_of, (x, w))
    assert flambeau.autograd.gradgradcheck(spec_of, (x, w))
    re = flambeau.tensor(rng.standard_normal((5, 7)), device="cpu", requires_grad=True)
    im = flambeau.tensor(rng.standard_normal((5, 7)), device="cpu", requires_grad=True)

    def signal_of(re, im, w):
        return flambeau.istft(flambeau.complex(re, im), 8, hop_length=2, window=w, length=13)

    assert flambeau.autograd.gradcheck(signal_of, (re, im, w))
    assert flambeau.autograd.gradgradcheck(signal_of, (re, im, w))


@pytest.mark.parametrize("n,step,frames", [(16, 4, 7), (15, 4, 5), (8, 11, 4), (40, 1, 30),
                                           (5, 5, 3), (7, 3, 1)])
def test_overlap_add_paths(n, step, frames):
    """Both overlap-add paths (blocks and scatter) against a loop over frames."""
    rng = np.random.default_rng(9)
    f = rng.standard_normal((2, frames, n))
    length = n + step * (frames - 1) + 3
    want = np.zeros((2, length))
    for t in range(frames):
        want[:, t * step:t * step + n] += f[:, t]
    kernels = flambeau.tensor(0.0, device="cpu")._device._backend.kernels
    np.testing.assert_allclose(spectral._overlap_add(np, kernels, f, step, length), want,
                               atol=1e-12)
    limit = spectral._OLA_SHIFTS_MAX
    try:
        spectral._OLA_SHIFTS_MAX = 0  # force the scatter
        np.testing.assert_allclose(spectral._overlap_add(np, kernels, f, step, length), want,
                                   atol=1e-12)
    finally:
        spectral._OLA_SHIFTS_MAX = limit


def test_default_device():
    """stft / istft on the default device (FLAMBEAU_TEST_DEVICE) equal the CPU's."""
    rng = np.random.default_rng(10)
    a = rng.standard_normal((2, 80))
    x = flambeau.tensor(a, requires_grad=True)
    w = flambeau.hann_window(16, dtype=flambeau.float64)
    spec = flambeau.stft(x, 16, window=w, return_complex=True)
    assert spec.device == x.device
    y = flambeau.istft(spec, 16, window=w, length=80)
    y.sum().backward()
    assert x.grad.device == x.device
    cpu = flambeau.istft(flambeau.stft(flambeau.tensor(a, device="cpu"), 16,
                                       window=w.cpu(), return_complex=True),
                         16, window=w.cpu(), length=80)
    np.testing.assert_allclose(_np(y), _np(cpu), atol=1e-12)
    np.testing.assert_allclose(_np(x.grad), np.ones_like(a), atol=1e-10)

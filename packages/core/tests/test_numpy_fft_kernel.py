"""The NumPy backend's fft kernel: SciPy's transforms, or NumPy's in double precision."""

import numpy as np
import pytest

from flambeau.backends import _numpy_fft


@pytest.fixture(params=["scipy", "numpy"])
def which(request, monkeypatch):
    if request.param == "scipy":
        pytest.importorskip("scipy.fft")
    else:
        monkeypatch.setattr(_numpy_fft, "_SCIPY_FFT", [None])
    return request.param


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn"])
@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.float64, np.complex128])
def test_kernel_matches_numpy_fft_and_keeps_precision(which, name, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6, 10))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(a.shape)
    a = a.astype(dtype)
    if name.startswith("r") and a.dtype.kind == "c":
        a = a.real.copy()
    s = [6, 10] if name == "irfftn" else None
    expected = getattr(np.fft, name)(a.astype(np.result_type(a, np.complex128)
                                              if name != "rfftn" else np.float64),
                                     s=s, axes=(1, 2), norm="ortho")
    out = _numpy_fft.fft(name, a, (1, 2), "ortho", s)
    if out is None:  # left to numpy.fft: only without SciPy, for what NumPy does well
        assert which == "numpy" and not (a.dtype == np.complex64 and name in ("fftn", "ifftn"))
        return
    single = a.dtype in (np.float32, np.complex64)
    assert out.dtype == (expected.astype(np.complex64 if expected.dtype.kind == "c"
                                         else np.float32).dtype if single else expected.dtype)
    np.testing.assert_allclose(out, expected, rtol=1e-4 if single else 1e-12,
                               atol=1e-5 if single else 1e-12)

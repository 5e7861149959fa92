"""``flambeau.signal.windows`` against ``torch.signal.windows``: values for every window over
lengths, ``sym``, dtypes and the windows' parameters; result dtypes, ``requires_grad``,
signatures, the edge cases ``M == 0`` and ``M == 1``, and every error message. Values are also
checked against NumPy's and SciPy's windows where those exist, without torch."""

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest

import flambeau
from flambeau.signal import windows

pytestmark = pytest.mark.usefixtures("cpu_default")

NAMES = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
         "general_hamming", "hamming", "hann", "kaiser", "nuttall"]
LENGTHS = [0, 1, 2, 5, 8]
FLATTOP = (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368)

#: (window, keyword arguments, sym values they allow): several values of every parameter
CASES = [
    ("bartlett", {}, (True, False)),
    ("blackman", {}, (True, False)),
    ("cosine", {}, (True, False)),
    ("hamming", {}, (True, False)),
    ("hann", {}, (True, False)),
    ("nuttall", {}, (True, False)),
    ("exponential", {}, (True, False)),
    ("exponential", {"tau": 0.5}, (True, False)),
    ("exponential", {"tau": 3.0}, (True, False)),
    ("exponential", {"tau": 0.05}, (True, False)),
    ("exponential", {"center": 0.0}, (False,)),
    ("exponential", {"center": 2.5, "tau": 2.0}, (False,)),
    ("exponential", {"center": -1.5, "tau": 0.7}, (False,)),
    ("exponential", {"center": 9, "tau": 4}, (False,)),
    ("gaussian", {}, (True, False)),
    ("gaussian", {"std": 0.3}, (True, False)),
    ("gaussian", {"std": 2.5}, (True, False)),
    ("gaussian", {"std": 7}, (True, False)),
    ("general_cosine", {"a": [0.5, 0.5]}, (True, False)),
    ("general_cosine", {"a": [1.0]}, (True, False)),
    ("general_cosine", {"a": (0.3, 0.2, 0.1)}, (True, False)),
    ("general_cosine", {"a": FLATTOP}, (True, False)),
    ("general_cosine", {"a": [1, 2]}, (True, False)),
    ("general_hamming", {}, (True, False)),
    ("general_hamming", {"alpha": 0.5}, (True, False)),
    ("general_hamming", {"alpha": 0.6}, (True, False)),
    ("general_hamming", {"alpha": 0.75}, (True, False)),
    ("general_hamming", {"alpha": 2}, (True, False)),
    ("kaiser", {}, (True, False)),
    ("kaiser", {"beta": 0.0}, (True, False)),
    ("kaiser", {"beta": 1.0}, (True, False)),
    ("kaiser", {"beta": 5}, (True, False)),
    ("kaiser", {"beta": 30.0}, (True, False)),
]
TOL = {"float32": {"rtol": 1e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def _id(case):
    name, kwargs, _ = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _window(module, name, M, **kwargs):
    return getattr(module.signal.windows, name)(M, **kwargs)


def _values(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


# ------------------------------------------------------------------ values


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_torch(torch, case, dtype):
    name, kwargs, syms = case
    for M in LENGTHS:
        for sym in syms:
            got = _window(flambeau, name, M, sym=sym, dtype=getattr(flambeau, dtype), **kwargs)
            want = _window(torch, name, M, sym=sym, dtype=getattr(torch, dtype), **kwargs)
            where = f"{name}(M={M}, sym={sym}, {kwargs})"
            assert got.dtype is getattr(flambeau, dtype), where
            assert tuple(got.shape) == tuple(want.shape) == (M,), where
            assert not got.requires_grad, where
            np.testing.assert_allclose(_values(got), _values(want), err_msg=where,
                                       **TOL[dtype])


@pytest.mark.parity
def test_sym_false_is_the_longer_symmetric_window_truncated(torch):
    for name, kwargs, syms in CASES:
        if "center" in kwargs:
            continue
        for M in (2, 5, 8):
            periodic = _window(flambeau, name, M, sym=False, dtype=flambeau.float64, **kwargs)
            longer = _window(flambeau, name, M + 1, dtype=flambeau.float64, **kwargs)
            np.testing.assert_allclose(_values(periodic), _values(longer)[:-1], atol=1e-14)


@pytest.mark.parity
@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(torch, name):
    extra = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    for M in (5, 8):
        got = _window(flambeau, name, M, **extra)
        want = _window(torch, name, M, **extra)
        assert got.dtype is flambeau.float32
        np.testing.assert_allclose(_values(got), _values(want), **TOL["float32"])


def test_known_values():
    w = windows
    f64 = flambeau.float64
    np.testing.assert_allclose(_values(w.hann(5, dtype=f64)), [0, 0.5, 1, 0.5, 0], atol=1e-15)
    np.testing.assert_allclose(_values(w.hann(4, sym=False, dtype=f64)), [0, 0.5, 1, 0.5],
                               atol=1e-15)
    np.testing.assert_allclose(_values(w.cosine(3, dtype=f64)), [0.5, 1, 0.5], atol=1e-15)
    np.testing.assert_allclose(_values(w.exponential(3, tau=0.5, center=1.0, sym=False,
                                                      dtype=f64)),
                               [math.exp(-2), 1, math.exp(-2)], rtol=1e-14)
    np.testing.assert_allclose(_values(w.gaussian(3, std=2.0, dtype=f64)),
                               [math.exp(-1 / 8), 1, math.exp(-1 / 8)], rtol=1e-14)
    np.testing.assert_allclose(_values(w.general_cosine(3, a=[1, 2], dtype=f64)), [-1, 3, -1],
                               atol=1e-14)
    np.testing.assert_allclose(_values(w.kaiser(2, beta=12.0, sym=False, dtype=f64)),
                               [1 / np.i0(12.0), 1.0], rtol=1e-13)


@pytest.mark.parametrize("M", LENGTHS + [16])
def test_values_match_numpy(M):
    refs = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman,
            "bartlett": np.bartlett}
    for name, ref in refs.items():
        got = _values(_window(flambeau, name, M, dtype=flambeau.float64))
        np.testing.assert_allclose(got, ref(M), atol=1e-14, err_msg=name)
    for beta in (0.0, 3.0, 12.0, 40.0):
        got = _values(windows.kaiser(M, beta=beta, dtype=flambeau.float64))
        np.testing.assert_allclose(got, np.kaiser(M, beta), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("M", [2, 5, 8, 13])
@pytest.mark.parametrize("sym", [True, False])
def test_values_match_scipy(M, sym):
    sw = pytest.importorskip("scipy.signal.windows")
    pairs = [
        (windows.nuttall(M, sym=sym, dtype=flambeau.float64), sw.nuttall(M, sym=sym)),
        (windows.cosine(M, sym=sym, dtype=flambeau.float64), sw.cosine(M, sym=sym)),
        (windows.gaussian(M, std=1.7, sym=sym, dtype=flambeau.float64),
         sw.gaussian(M, 1.7, sym=sym)),
        (windows.general_cosine(M, a=FLATTOP, sym=sym, dtype=flambeau.float64),
         sw.general_cosine(M, FLATTOP, sym=sym)),
        (windows.general_hamming(M, alpha=0.6, sym=sym, dtype=flambeau.float64),
         sw.general_hamming(M, 0.6, sym=sym)),
        (windows.exponential(M, tau=2.0, sym=sym, dtype=flambeau.float64),
         sw.exponential(M, tau=2.0, sym=sym)),
    ]
    if not sym:
        pairs.append((windows.exponential(M, center=1.0, tau=3.0, sym=False,
                                          dtype=flambeau.float64),
                      sw.exponential(M, center=1.0, tau=3.0, sym=False)))
    for got, want in pairs:
        np.testing.assert_allclose(_values(got), want, rtol=1e-12, atol=1e-15)


def test_kaiser_large_beta_does_not_overflow():
    # torch computes I0(beta) in the window dtype and gives NaN here
    w = windows.kaiser(6, beta=100.0, sym=False)
    assert bool(flambeau.isfinite(w).all())
    np.testing.assert_allclose(_values(w), np.kaiser(7, 100.0)[:-1], rtol=1e-5, atol=1e-30)
    w = windows.kaiser(5, beta=1000.0, dtype=flambeau.float64)
    assert w[2].item() == 1.0 and w[0].item() == 0.0


def test_special_parameter_values():
    f64 = flambeau.float64
    assert windows.exponential(3, tau=math.inf).tolist() == [1.0, 1.0, 1.0]
    assert windows.gaussian(3, std=math.inf).tolist() == [1.0, 1.0, 1.0]
    assert windows.gaussian(3, std=1e-30).tolist() == [0.0, 1.0, 0.0]
    assert all(math.isnan(v) for v in windows.gaussian(3, std=math.nan).tolist())
    assert all(math.isnan(v) for v in windows.exponential(3, tau=math.nan).tolist())
    assert windows.kaiser(4, beta=0.0, dtype=f64).tolist() == [1.0] * 4


# ------------------------------------------------------------------ M == 0 and M == 1


@pytest.mark.parity
@pytest.mark.parametrize("name", NAMES)
def test_empty_and_single_point(torch, name):
    extra = {"a": [0.3, 0.7]} if name == "general_cosine" else {}
    for sym in (True, False):
        for dtype in ("float32", "float64"):
            empty = _window(flambeau, name, 0, sym=sym, dtype=getattr(flambeau, dtype),
                            **extra)
            assert empty.shape == (0,) and empty.dtype is getattr(flambeau, dtype)
            one = _window(flambeau, name, 1, sym=sym, dtype=getattr(flambeau, dtype), **extra)
            want = _window(torch, name, 1, sym=sym, dtype=getattr(torch, dtype), **extra)
            assert one.tolist() == want.tolist() == [1.0]
            assert one.dtype is getattr(flambeau, dtype)


@pytest.mark.parity
def test_exponential_single_point_with_a_center(torch):
    for center, tau in [(3.0, 1.0), (0.5, 2.0), (-2, 0.5), (0.0, 1.0)]:
        got = windows.exponential(1, center=center, tau=tau, sym=False, dtype=flambeau.float64)
        want = torch.signal.windows.exponential(1, center=center, tau=tau, sym=False,
                                                dtype=torch.float64)
        assert got.tolist() == pytest.approx(want.tolist(), rel=1e-14)
        assert got.tolist() == pytest.approx([math.exp(-abs(center) / tau)], rel=1e-14)
    assert windows.exponential(0, center=3.0, sym=False).shape == (0,)


@pytest.mark.parity
def test_length_types(torch):
    for f in (flambeau, torch):
        w = f.signal.windows
        assert w.hann(np.int64(4)).shape == (4,)
        assert w.hann(f.tensor(4)).shape == (4,)
        # 0 and 1 in any form where nothing is computed
        assert w.hann(0.0).shape == (0,) and w.cosine(False).shape == (0,)
        assert w.hann(1.0).tolist() == [1.0] and w.kaiser(True).tolist() == [1.0]
        assert w.general_cosine(1.0, a=[0.5, 0.5]).tolist() == [1.0]
    assert windows.hann(np.int64(5)).tolist() == windows.hann(5).tolist()


def test_non_integer_lengths_are_refused():
    # torch fails in linspace (TypeError); the messages differ
    for call, kind in [(lambda: windows.hann(2.0), "float"), (lambda: windows.kaiser(5.5), "float"),
                       (lambda: windows.cosine(1.0), "float"),
                       (lambda: windows.gaussian(True), "bool"),
                       (lambda: windows.exponential(True), "bool")]:
        with pytest.raises(TypeError, match=rf"\(\): argument 'M' must be int, not {kind}$"):
            call()
    with pytest.raises(TypeError, match=r"^hann\(\): argument 'M' must be int, not float$"):
        windows.hann(2.0)


@pytest.mark.parity
def test_non_integer_lengths_torch_refuses_too(torch):
    for call in [lambda w: w.hann(2.0), lambda w: w.kaiser(5.5), lambda w: w.cosine(1.0),
                 lambda w: w.gaussian(True), lambda w: w.exponential(True)]:
        with pytest.raises(TypeError):
            call(torch.signal.windows)
        with pytest.raises(TypeError):
            call(windows)


# ------------------------------------------------------------------ dtype, requires_grad


@pytest.mark.parity
@pytest.mark.parametrize("name", NAMES)
def test_default_dtype(torch, name):
    extra = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    assert _window(flambeau, name, 5, **extra).dtype is flambeau.float32
    assert _window(flambeau, name, 0, **extra).dtype is flambeau.float32
    before, torch_before = flambeau.get_default_dtype(), torch.get_default_dtype()
    flambeau.set_default_dtype(flambeau.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for M in (0, 1, 5):
            got = _window(flambeau, name, M, **extra)
            want = _window(torch, name, M, **extra)
            assert got.dtype is flambeau.float64 and want.dtype is torch.float64
            np.testing.assert_allclose(_values(got), _values(want), **TOL["float64"])
        assert _window(flambeau, name, 5, dtype=flambeau.float32, **extra).dtype is \
            flambeau.float32
    finally:
        flambeau.set_default_dtype(before)
        torch.set_default_dtype(torch_before)
    assert flambeau.get_default_dtype() is flambeau.float32


@pytest.mark.parity
@pytest.mark.parametrize("name", NAMES)
def test_requires_grad(torch, name):
    extra = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    for M in (0, 1, 5):
        for dtype in ("float32", "float64"):
            got = _window(flambeau, name, M, dtype=getattr(flambeau, dtype), requires_grad=True,
                          **extra)
            want = _window(torch, name, M, dtype=getattr(torch, dtype), requires_grad=True,
                           **extra)
            assert got.requires_grad and want.requires_grad
            # a leaf here; torch's is the output of its ops for most windows and lengths
            assert got.is_leaf and got.grad_fn is None
            np.testing.assert_allclose(_values(got), _values(want), **TOL[dtype])
    assert not _window(flambeau, name, 5, **extra).requires_grad


def test_gradient_flows_into_the_window():
    w = windows.hann(4, sym=False, dtype=flambeau.float64, requires_grad=True)
    x = flambeau.tensor([1.0, 2.0, 3.0, 4.0], dtype=flambeau.float64)
    (w * x).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_device_argument():
    w = windows.hann(4, device="cpu")
    assert w.device == flambeau.device("cpu")
    assert windows.kaiser(4, device=flambeau.device("cpu"), dtype=flambeau.float64).device.type \
        == "cpu"


# ------------------------------------------------------------------ API


@pytest.mark.parity
def test_all_and_signatures_match_torch(torch):
    assert windows.__all__ == list(torch.signal.windows.__all__) == NAMES
    assert flambeau.signal.__all__ == ["windows"] == list(torch.signal.__all__)
    for name in NAMES:
        ours = inspect.signature(getattr(windows, name)).parameters
        theirs = inspect.signature(getattr(torch.signal.windows, name)).parameters
        assert list(ours) == list(theirs), name
        for p, q in zip(ours.values(), theirs.values(), strict=True):
            assert p.kind == q.kind, (name, p.name)
            if q.default is torch.strided:
                assert p.default is flambeau.strided, (name, p.name)
            else:
                assert p.default == q.default or p.default is q.default, (name, p.name)
    assert inspect.signature(windows.general_cosine).parameters["a"].default is \
        inspect.Parameter.empty


@pytest.mark.parametrize("name", NAMES)
def test_docstrings(name):
    doc = inspect.getdoc(getattr(windows, name))
    assert "Parameters\n----------" in doc and "Examples\n--------" in doc
    assert "{common}" not in doc and "requires_grad : bool" in doc


def test_reached_after_a_bare_import():
    code = ("import sys, flambeau; assert 'flambeau.signal' not in sys.modules; "
            "print(flambeau.signal.windows.hann(4).tolist(), flambeau.signal.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["[0.0,", "0.75,", "0.75,", "0.0]", "flambeau.signal"]
    code = "import flambeau.signal.windows as w; print(w.cosine(3).tolist())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[0.5, 1.0, 0.5]"


# ------------------------------------------------------------------ errors

#: (call, exception type) for every error torch raises; the call gets the framework
ERRORS = [
    (lambda f: f.signal.windows.exponential(3, tau=0), ValueError),
    (lambda f: f.signal.windows.exponential(3, tau=-1), ValueError),
    (lambda f: f.signal.windows.exponential(3, tau=-1.5, center=1.0), ValueError),
    (lambda f: f.signal.windows.exponential(0, tau=0), ValueError),
    (lambda f: f.signal.windows.exponential(1, tau=-2.0, sym=False), ValueError),
    (lambda f: f.signal.windows.exponential(3, center=1.0), ValueError),
    (lambda f: f.signal.windows.exponential(0, center=1.0), ValueError),
    (lambda f: f.signal.windows.exponential(1, center=0.0, sym=True), ValueError),
    (lambda f: f.signal.windows.exponential(3, tau=None), TypeError),
    (lambda f: f.signal.windows.gaussian(3, std=0), ValueError),
    (lambda f: f.signal.windows.gaussian(3, std=-1), ValueError),
    (lambda f: f.signal.windows.gaussian(0, std=-0.5), ValueError),
    (lambda f: f.signal.windows.gaussian(1, std=0.0), ValueError),
    (lambda f: f.signal.windows.gaussian(3, std=None), TypeError),
    (lambda f: f.signal.windows.kaiser(3, beta=-1), ValueError),
    (lambda f: f.signal.windows.kaiser(0, beta=-0.5), ValueError),
    (lambda f: f.signal.windows.kaiser(3, beta=None), TypeError),
    (lambda f: f.signal.windows.general_cosine(3, a=1.0), TypeError),
    (lambda f: f.signal.windows.general_cosine(3, a=None), TypeError),
    (lambda f: f.signal.windows.general_cosine(5, a=[]), ValueError),
    (lambda f: f.signal.windows.general_cosine(3), TypeError),
    (lambda f: f.signal.windows.general_hamming(3, alpha=None), TypeError),
    (lambda f: f.signal.windows.general_hamming(0, alpha="x"), TypeError),
    # checks come in torch's order: M, layout, dtype, then the window's own parameters
    (lambda f: f.signal.windows.hann(-1, dtype=f.int64, layout=None), ValueError),
    (lambda f: f.signal.windows.hann(3, dtype=f.int64, layout=None), ValueError),
    (lambda f: f.signal.windows.exponential(3, tau=0, dtype=f.int64), ValueError),
    (lambda f: f.signal.windows.gaussian(-2, std=-1), ValueError),
    (lambda f: f.signal.windows.kaiser(3, beta=-1, dtype=f.float16), ValueError),
    (lambda f: f.signal.windows.general_cosine(3, a=1.0, dtype=f.int64), ValueError),
    (lambda f: f.signal.windows.exponential(-1, center=1.0), ValueError),
]


def _call_args(name):
    return {"a": [0.5, 0.5]} if name == "general_cosine" else {}


#: each window's checks for every window: M, layout, dtype
COMMON_ERRORS = [
    (lambda f, w, kw: w(-1, **kw), ValueError),
    (lambda f, w, kw: w(-7, sym=False, **kw), ValueError),
    (lambda f, w, kw: w(-1.5, **kw), ValueError),
    (lambda f, w, kw: w(0, dtype=f.int64, **kw), ValueError),
    (lambda f, w, kw: w(1, dtype=f.int32, **kw), ValueError),
    (lambda f, w, kw: w(5, dtype=f.float16, **kw), ValueError),
    (lambda f, w, kw: w(5, dtype=f.bfloat16, **kw), ValueError),
    (lambda f, w, kw: w(5, dtype=f.complex64, **kw), ValueError),
    (lambda f, w, kw: w(5, dtype=f.bool, **kw), ValueError),
    (lambda f, w, kw: w(5, layout=None, **kw), ValueError),
    (lambda f, w, kw: w(0, layout=None, **kw), ValueError),
    (lambda f, w, kw: w("a", **kw), TypeError),
    (lambda f, w, kw: w(None, **kw), TypeError),
]


def _outcome(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return type(e), str(e).replace("torch.", "flambeau.")
    return None, None


@pytest.mark.parity
@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(torch, i):
    call, kind = ERRORS[i]
    want = _outcome(lambda: call(torch))
    got = _outcome(lambda: call(flambeau))
    assert want[0] is kind, want
    assert got == want


@pytest.mark.parity
@pytest.mark.parametrize("name", NAMES)
def test_common_errors_match_torch(torch, name):
    for j, (call, kind) in enumerate(COMMON_ERRORS):
        want = _outcome(lambda: call(torch, getattr(torch.signal.windows, name),
                                     _call_args(name)))
        got = _outcome(lambda: call(flambeau, getattr(windows, name), _call_args(name)))
        assert want[0] is kind, (j, want)
        assert got == want, j


@pytest.mark.parametrize("name", NAMES)
def test_error_messages(name):
    # the function torch names: the cases of general_cosine name it, as torch's do
    named = "general_cosine" if name in ("hann", "hamming", "general_hamming", "nuttall") \
        else name
    w = getattr(windows, name)
    kw = _call_args(name)
    with pytest.raises(ValueError, match=rf"^{named} requires non-negative window length, "
                                         r"got M=-3$"):
        w(-3, **kw)
    with pytest.raises(ValueError, match=rf"^{named} expects float32 or float64 dtypes, got: "
                                         r"flambeau\.int64$"):
        w(3, dtype=flambeau.int64, **kw)
    with pytest.raises(ValueError, match=rf"^{named} expects float32 or float64 dtypes, got: "
                                         r"flambeau\.float16$"):
        w(3, dtype=flambeau.float16, **kw)
    with pytest.raises(ValueError, match=rf"^{named} is implemented for strided tensors only, "
                                         r"got: None$"):
        w(3, layout=None, **kw)


def test_parameter_error_messages():
    w = windows
    with pytest.raises(ValueError, match=r"^Tau must be positive, got: 0 instead\.$"):
        w.exponential(4, tau=0)
    with pytest.raises(ValueError, match=r"^Tau must be positive, got: -2.5 instead\.$"):
        w.exponential(4, tau=-2.5, sym=False)
    with pytest.raises(ValueError, match=r"^Center must be None for symmetric windows$"):
        w.exponential(4, center=2.0)
    with pytest.raises(ValueError, match=r"^Standard deviation must be positive, got: 0 "
                                         r"instead\.$"):
        w.gaussian(4, std=0)
    with pytest.raises(ValueError, match=r"^beta must be non-negative, got: -1.0 instead\.$"):
        w.kaiser(4, beta=-1.0)
    with pytest.raises(TypeError, match=r"^Coefficients must be a list/tuple$"):
        w.general_cosine(4, a=0.5)
    with pytest.raises(ValueError, match=r"^Coefficients cannot be empty$"):
        w.general_cosine(4, a=())
    with pytest.raises(TypeError, match=r"^exponential\(\): argument 'center' must be a "
                                        r"number, not str$"):
        w.exponential(4, center="a", sym=False)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'a'"):
        w.general_cosine(4)
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        w.hann(4, False)
    # torch's checks of the coefficients come after M == 0 and M == 1
    assert w.general_cosine(0, a=[]).shape == (0,)
    assert w.general_cosine(1, a=1.0).tolist() == [1.0]


def test_coefficients_from_any_iterable():
    want = windows.general_cosine(5, a=[0.5, 0.5]).tolist()
    assert windows.general_cosine(5, a=(0.5, 0.5)).tolist() == want
    assert windows.general_cosine(5, a=iter([0.5, 0.5])).tolist() == want
    assert windows.general_cosine(5, a=(c for c in [0.5, 0.5])).tolist() == want
    assert windows.general_cosine(5, a=np.array([0.5, 0.5])).tolist() == want
    assert windows.general_cosine(5, a=flambeau.tensor([0.5, 0.5])).tolist() == want
    assert windows.hann(5).tolist() == want

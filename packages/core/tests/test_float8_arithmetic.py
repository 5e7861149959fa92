"""float8 arithmetic and conversions bit for bit (``.view(uint8)``) against torch 2.13.

torch computes its float8 ops (``*`` of two tensors, the casts) in float32 and rounds once
with its float8 conversion: float8_e4m3fn saturates at +-448 (ml_dtypes' own arithmetic gives
NaN), a float8_e5m2 NaN is 0x7f. flambeau computes ``+ - * /`` so, with tensors, numbers and in
place; for the ops torch refuses on float8 the expected value is torch's own rounding of the
float32 result.
"""

import ml_dtypes
import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
# compared with torch's CPU tensors: on the CPU, whatever the run's default device
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

FLOAT8 = ["float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz"]
CODES = np.arange(256, dtype=np.uint8)


def _sweep():
    """float32 values around every float8: each float8's values, the midpoints between
    neighbours (rounding ties) and the float32s just beside them, out-of-range and special
    values, and random magnitudes from 1e-8 to 1e6."""
    parts = [np.array([0.0, -0.0, np.inf, -np.inf, 448, 449, 464, 465, 480, 1e4, 57344, 61440,
                       61441, 1e30, -1e30, 240, 241, 248, 2.0 ** -10, 2.0 ** -17, 2.0 ** -18,
                       3 * 2.0 ** -18, 1e-10], np.float32)]
    for name in FLOAT8:
        values = CODES.view(getattr(ml_dtypes, name)).astype(np.float32)
        finite = np.unique(values[np.isfinite(values)])
        mids = (finite[:-1] + finite[1:]) / 2
        parts += [finite, mids, np.nextafter(mids, np.float32(np.inf)),
                  np.nextafter(mids, np.float32(-np.inf))]
    rng = np.random.default_rng(0)
    parts.append((rng.standard_normal(4000) * 10.0 ** rng.uniform(-8, 6, 4000))
                 .astype(np.float32))
    return np.concatenate(parts).astype(np.float32)


def _bits(t):
    return t.detach().view(flambeau.uint8).cpu().numpy() if isinstance(t, flambeau.Tensor) \
        else t.view(torch.uint8).numpy()


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("source", ["float32", "float64", "float16"])
def test_casts_round_bit_for_bit_as_torch(name, source):
    x = _sweep()
    x = np.concatenate([x, np.array([np.nan, -np.nan], np.float32)])
    got = flambeau.tensor(x).to(getattr(flambeau, source)).to(getattr(flambeau, name))
    want = torch.from_numpy(x).to(getattr(torch, source)).to(getattr(torch, name))
    np.testing.assert_array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("name", FLOAT8)
def test_float8_to_float8_casts_match_torch_but_for_fnuz_nan_signs(name):
    """torch reads a fnuz NaN (0x80) as a positive NaN, ml_dtypes as a negative one: only
    that NaN's sign differs once cast to a float8 with signed NaNs."""
    for other in FLOAT8:
        got = _bits(flambeau.tensor(CODES).view(getattr(flambeau, name))
                    .to(getattr(flambeau, other)))
        want = _bits(torch.from_numpy(CODES.copy()).view(getattr(torch, name))
                     .to(getattr(torch, other)))
        differ = CODES[got != want]
        assert set(differ.tolist()) <= ({0x80} if name.endswith("fnuz") else set())


def _all_pairs(lib, name):
    a = lib.tensor(np.repeat(CODES, 256)) if lib is flambeau else \
        torch.from_numpy(np.repeat(CODES, 256))
    b = lib.tensor(np.tile(CODES, 256)) if lib is flambeau else \
        torch.from_numpy(np.tile(CODES, 256))
    return a.view(getattr(lib, name)), b.view(getattr(lib, name))


@pytest.mark.parametrize("name", FLOAT8)
def test_mul_of_every_pair_matches_torch_bit_for_bit(name):
    """torch's one float8 arithmetic kernel: float8_e4m3fn saturates at 448 (it gave NaN)."""
    a, b = _all_pairs(flambeau, name)
    ta, tb = _all_pairs(torch, name)
    np.testing.assert_array_equal(_bits(a * b), _bits(ta * tb))


def _same_bits(got, want, both_nan):
    """Bit for bit, but where both operands are NaN: which one a float32 kernel passes on
    is its own (torch's vectorized add keeps the second, NumPy the first); NaN all the same."""
    g, w = _bits(got), _bits(want)
    np.testing.assert_array_equal(g[~both_nan], w[~both_nan])
    assert np.isnan(got.detach().float().cpu().numpy()[both_nan]).all()


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_arithmetic_rounds_the_float32_result_as_torch(name, op):
    a, b = _all_pairs(flambeau, name)
    ta, tb = _all_pairs(torch, name)
    td = getattr(torch, name)
    both_nan = (ta.float().isnan() & tb.float().isnan()).numpy()
    want = getattr(ta.float(), op)(tb.float()).to(td)
    got = getattr(a, op)(b)
    assert got.dtype is getattr(flambeau, name)
    _same_bits(got, want, both_nan)
    # in place, recorded or not, and with numbers on either side
    inplace = a.clone()
    getattr(inplace, op + "_")(b)
    _same_bits(inplace, want, both_nan)
    recorded = a.float().requires_grad_().to(a.dtype) * 1
    getattr(recorded, op + "_")(b)
    _same_bits(recorded, want, both_nan)
    for number in (3.0, 1000.0, 2):
        np.testing.assert_array_equal(_bits(getattr(a, op)(number)),
                                      _bits(getattr(ta.float(), op)(number).to(td)))
        inplace = a.clone()
        getattr(inplace, op + "_")(number)
        np.testing.assert_array_equal(_bits(inplace),
                                      _bits(getattr(ta.float(), op)(number).to(td)))
    reverse = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__", "div": "__rtruediv__"}
    np.testing.assert_array_equal(_bits(getattr(a, reverse[op])(3.0)),
                                  _bits(getattr(ta.float(), reverse[op])(3.0).to(td)))


def test_e4m3fn_overflow_saturates_where_ml_dtypes_gives_nan():
    d = flambeau.float8_e4m3fn
    a = flambeau.tensor([416.0, -448.0, 256.0]).to(d)
    b = flambeau.tensor([1.125, 2.0, 0.0625]).to(d)
    assert (a * b).float().cpu().numpy().tolist() == [448.0, -448.0, 16.0]
    assert (a + a).float().cpu().numpy().tolist() == [448.0, -448.0, 448.0]
    assert (a / b).float().cpu().numpy().tolist() == [384.0, -224.0, 448.0]
    assert (a / b).dtype is d
    assert (a * 3.0).float().cpu().numpy().tolist() == [448.0, -448.0, 448.0]


def test_e5m2_nan_is_torchs_code():
    nan = flambeau.tensor([float("nan"), -float("nan")]).to(flambeau.float8_e5m2)
    assert _bits(nan).tolist() == [0x7F, 0xFF]
    assert _bits(nan * nan).tolist() == _bits(
        torch.tensor([float("nan"), -float("nan")]).to(torch.float8_e5m2) ** 1).tolist()


def test_float8_division_keeps_the_dtype_and_mixing_dtypes_is_refused():
    a = flambeau.ones(2, dtype=flambeau.float8_e5m2)
    assert (a / a).dtype is flambeau.float8_e5m2 and (1 / a).dtype is flambeau.float8_e5m2
    with pytest.raises(RuntimeError, match="Promotion for Float8 Types is not supported"):
        a / flambeau.ones(2, dtype=flambeau.float8_e4m3fn)


@pytest.mark.parametrize("grad", [False, True], ids=["plain", "recorded"])
@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_in_place_with_a_tensor_of_another_dtype_is_refused_as_torch(method, grad):
    """The in-place float8 path computes in float32, so it took any array: a float32 or
    another float8 operand was written in silently where torch refuses the promotion."""
    def make(lib):
        a = lib.tensor([1.0, 2.0]).to(lib.float8_e4m3fn)
        if grad:  # a float8 view of a graph: the recorded in-place path
            a = (lib.tensor([1.0, 2.0], requires_grad=True) * 1).to(lib.float8_e4m3fn)
        return a
    for other in ("float32", "float8_e5m2"):
        msgs = []
        for lib in (torch, flambeau):
            a = make(lib)
            before = a.float().tolist()
            with pytest.raises(RuntimeError) as info:
                getattr(a, method)(lib.tensor([1.5, 3.0]).to(getattr(lib, other)))
            assert a.float().tolist() == before
            msgs.append(str(info.value))
        assert msgs[1] == msgs[0]
    # what torch allows: the same dtype and a zero-dim tensor of a lower category
    a = make(flambeau)
    getattr(a, method)(flambeau.tensor(2))
    assert a.dtype is flambeau.float8_e4m3fn
    getattr(a, method)(make(flambeau))
    assert a.dtype is flambeau.float8_e4m3fn


_UNARY = ["neg", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt",
          "square", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
          "tanh", "sigmoid", "relu", "erf", "erfc", "floor", "ceil", "trunc", "frac", "sign",
          "sgn", "acosh", "asinh", "atanh", "lgamma", "digamma", "erfinv", "i0", "sinc", "logit",
          "deg2rad", "special.i1e", "special.ndtr", "special.expit", "exp_", "sqrt_", "neg_",
          "sigmoid_", "relu_", "round", "round_", "round_decimals", "nan_to_num", "signbit",
          "isneginf", "isposinf", "clamp", "clamp_min", "clamp_max", "clamp_tensors",
          "clamp_"]
_CALLS = {
    "round_decimals": lambda lib, x: lib.round(x, decimals=1),
    "clamp": lambda lib, x: lib.clamp(x, 0.5, 1.5),
    "clamp_min": lambda lib, x: lib.clamp(x, min=0.5),
    "clamp_max": lambda lib, x: lib.clamp(x, max=1.5),
    "clamp_tensors": lambda lib, x: lib.clamp(x, x, x),
    "clamp_": lambda lib, x: x.clamp_(0.5, 1.5),
}


def _call(lib, op, x):
    if op in _CALLS:
        return _CALLS[op](lib, x)
    if op.startswith("special."):
        return getattr(lib.special, op[8:])(x)
    return getattr(x, op)() if op.endswith("_") else getattr(lib, op)(x)


@pytest.mark.parametrize("name", FLOAT8 + ["float8_e8m0fnu"])
@pytest.mark.parametrize("op", _UNARY)
def test_unary_math_is_refused_as_torch(name, op):
    """torch has no CPU kernel for these on a float8; flambeau computed them in float32 and
    returned a float32 (or a float8 for the sign-like ops) where torch raises."""
    msgs = []
    for lib in (torch, flambeau):
        x = lib.tensor([1.0, 2.0]).to(getattr(lib, name))
        with pytest.raises(NotImplementedError) as info:
            _call(lib, op, x)
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]


@pytest.mark.parametrize("name", FLOAT8 + ["float8_e8m0fnu"])
@pytest.mark.parametrize("op", ["isnan", "isinf", "isfinite"])
def test_the_value_tests_run_where_torch_runs_them(name, op):
    """torch computes isnan on every float8, isinf on float8_e5m2 and isfinite on
    float8_e5m2 and float8_e8m0fnu; it refuses the others. (torch's isfinite calls
    float8_e8m0fnu's NaN finite; flambeau's does not: not compared.)"""
    values = [1.0, 2.0] if name == "float8_e8m0fnu" else [1.0, float("nan")]
    outcomes = []
    for lib in (torch, flambeau):
        x = lib.tensor(values).to(getattr(lib, name))
        try:
            r = getattr(lib, op)(x)
            outcomes.append(("ok", str(r.dtype).split(".")[-1],
                             (r.cpu() if lib is flambeau else r).numpy().tolist()))
        except NotImplementedError as exc:
            outcomes.append(("refused", str(exc)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("name", FLOAT8 + ["float8_e8m0fnu"])
def test_abs_keeps_the_float8_dtype_as_torch(name):
    """abs is the one unary math op torch computes on float8s (not on float8_e8m0fnu)."""
    x = torch.tensor([-1.5, 2.0]).to(getattr(torch, name))
    y = flambeau.tensor([-1.5, 2.0]).to(getattr(flambeau, name))
    if name == "float8_e8m0fnu":
        with pytest.raises(NotImplementedError, match='"abs_cpu" not implemented for '
                                                      "'Float8_e8m0fnu'"):
            flambeau.abs(y)
        return
    assert flambeau.abs(y).dtype is y.dtype
    np.testing.assert_array_equal(_bits(flambeau.abs(y)), _bits(torch.abs(x)))


@pytest.mark.parametrize("grad", [False, True], ids=["plain", "recorded"])
@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_float32_in_place_with_a_float8_tensor_is_refused_as_torch(method, grad):
    """NumPy cast the float8 operand into the float32 tensor; torch refuses the promotion
    (but takes a zero-dim float8, a scalar to it)."""
    msgs = []
    for lib in (torch, flambeau):
        a = lib.tensor([1.0, 2.0], requires_grad=grad) * 1
        with pytest.raises(RuntimeError) as info:
            getattr(a, method)(lib.tensor([1.5, 3.0]).to(lib.float8_e4m3fn))
        assert a.tolist() == [1.0, 2.0]
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]
    a = flambeau.tensor([1.0, 2.0]) * 1
    getattr(a, method)(flambeau.tensor(2.0).to(flambeau.float8_e4m3fn))
    b = torch.tensor([1.0, 2.0]) * 1
    getattr(b, method)(torch.tensor(2.0).to(torch.float8_e4m3fn))
    assert a.dtype is flambeau.float32 and a.cpu().numpy().tolist() == b.tolist()

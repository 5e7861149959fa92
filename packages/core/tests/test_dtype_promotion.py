"""PyTorch's type promotion: ``result_type``/``promote_types`` and actual op result dtypes."""

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
SCALARS = [True, 2, -3, 2.5]
BINARY = [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
    lambda a, b: a == b, lambda a, b: a < b, lambda m, a, b: m.where(a > 0, a, b),
    lambda m, a, b: m.maximum(a, b), lambda m, a, b: m.cat([a.reshape(-1), b.reshape(-1)]),
    # ops with floating-point results: the operands are promoted together first, then
    # integers become the default float dtype (int and float16 give float16)
    lambda m, a, b: m.atan2(a, b), lambda m, a, b: m.xlogy(a, b),
    lambda m, a, b: m.logaddexp(a, b), lambda m, a, b: m.copysign(a, b),
]
#: with a Python number: the arithmetic, float-result and clamping ops
SCALAR_BINARY = BINARY[:6] + BINARY[9:] + [
    lambda m, a, b: m.clamp(a, min=b) if isinstance(a, m.Tensor) else m.clamp(b, max=a),
    lambda a, b: a ** b]


def _pair(lib, name, ndim, value=1):
    dt = getattr(lib, name)
    return lib.ones((2,) * ndim, dtype=dt) * value if name != "bool" else lib.ones(
        (2,) * ndim, dtype=dt)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(NAMES, NAMES)))
def test_promote_types_matches_torch(a, b):
    got = flambeau.promote_types(getattr(flambeau, a), getattr(flambeau, b))
    assert got.name == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]


def _start(exc):
    """A pattern for the start of torch's message (flambeau's names its dtypes its way)."""
    return re.escape(str(exc)[:40])


def _apply(op, lib, x, y):
    try:
        return op(x, y)
    except TypeError:
        return op(lib, x, y)


def _result(op, lib, x, y):
    try:
        return _apply(op, lib, x, y), None
    except (RuntimeError, TypeError) as exc:
        return None, exc


@settings(max_examples=150, deadline=None)
@given(a=st.sampled_from(NAMES), b=st.sampled_from(NAMES), a_dim=st.integers(0, 1),
       b_dim=st.integers(0, 1), op=st.sampled_from(range(len(BINARY))))
def test_tensor_tensor_op_dtypes_match_torch(a, b, a_dim, b_dim, op):
    fx, fy = _pair(flambeau, a, a_dim), _pair(flambeau, b, b_dim)
    tx, ty = _pair(torch, a, a_dim), _pair(torch, b, b_dim)
    want, t_exc = _result(BINARY[op], torch, tx, ty)
    if t_exc is not None and "not implemented for" in str(t_exc):
        return  # a dtype torch has no kernel for (logaddexp of integers): flambeau may have one
    if t_exc is not None:  # bool subtraction
        with pytest.raises(type(t_exc), match=_start(t_exc)):
            _apply(BINARY[op], flambeau, fx, fy)
        return
    got = _apply(BINARY[op], flambeau, fx, fy)
    assert got.dtype.name == str(want.dtype)[6:]
    assert flambeau.result_type(fx, fy).name == str(torch.result_type(tx, ty))[6:]
    np.testing.assert_allclose(got.float().cpu().numpy(), want.float().cpu().numpy())


@settings(max_examples=400, deadline=None)
@given(a=st.sampled_from(NAMES), scalar=st.sampled_from(SCALARS), a_dim=st.integers(0, 1),
       op=st.sampled_from(range(len(SCALAR_BINARY))), reflected=st.booleans())
def test_tensor_scalar_op_dtypes_match_torch(a, scalar, a_dim, op, reflected):
    fx, tx = _pair(flambeau, a, a_dim), _pair(torch, a, a_dim)
    fn = SCALAR_BINARY[op]
    if reflected:
        def fn(x, y, f=SCALAR_BINARY[op]):
            return f(y, x)
    want, t_exc = _result(fn, torch, tx, scalar)
    if isinstance(t_exc, TypeError) or t_exc is not None and "not implemented for" in str(t_exc):
        return  # torch takes no number there (atan2), or has no kernel for the dtype
    if t_exc is not None:  # subtraction with a bool tensor or a Python bool
        with pytest.raises(type(t_exc), match=_start(t_exc)):
            _apply(fn, flambeau, fx, scalar)
        return
    got = _apply(fn, flambeau, fx, scalar)
    assert got.dtype.name == str(want.dtype)[6:]
    assert flambeau.result_type(fx, scalar).name == str(torch.result_type(tx, scalar))[6:]
    np.testing.assert_allclose(got.float().cpu().numpy(), want.float().cpu().numpy(), rtol=1e-2)


@pytest.mark.parametrize("name", NAMES)
def test_unary_float_ops_on_every_dtype(name):
    fx, tx = _pair(flambeau, name, 1, 2), _pair(torch, name, 1, 2)
    for f in ("exp", "sqrt", "sigmoid", "abs", "neg", "mean", "sum", "prod", "cumsum", "sign",
              "sgn", "square", "logit", "nansum", "positive"):
        try:
            want = getattr(torch, f)(tx) if f != "cumsum" else tx.cumsum(0)
        except RuntimeError as exc:  # negation of a bool tensor, mean of integers
            if "not implemented for" not in str(exc):  # (flambeau has abs of bools)
                with pytest.raises(RuntimeError, match=_start(exc)):
                    getattr(flambeau, f)(fx)
            continue
        got = getattr(flambeau, f)(fx) if f != "cumsum" else fx.cumsum(0)
        assert got.dtype.name == str(want.dtype)[6:], f
        np.testing.assert_allclose(got.double().cpu().numpy(), want.double().numpy(), rtol=1e-2,
                                   err_msg=f)


def test_default_dtype_controls_float_results():
    flambeau.set_default_dtype(flambeau.float64)
    try:
        assert flambeau.tensor([1.0]).dtype is flambeau.float64
        assert (flambeau.tensor([1]) * 0.5).dtype is flambeau.float64
        assert flambeau.arange(3) .dtype is flambeau.int64
    finally:
        flambeau.set_default_dtype(flambeau.float32)


ALPHAS = [1, 2, -1, 2.5, True, False, 1j]


@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize(("a", "b"), [("bool", "bool"), ("int64", "int64"), ("int32", "bool"),
                                      ("float16", "float16"), ("int64", "float32"),
                                      ("float32", "complex64"), ("uint8", "int8")])
def test_alpha_is_checked_and_never_changes_the_dtype(op, alpha, a, b):
    # alpha is cast to the dtype of input + other: an integer result takes no float alpha, a
    # bool result takes it as a bool, a real result no complex one
    fx, fy = _pair(flambeau, a, 1, 3), _pair(flambeau, b, 1, 2)
    tx, ty = _pair(torch, a, 1, 3), _pair(torch, b, 1, 2)
    for lhs, rhs in (((fx, fy), (tx, ty)), ((fx, 2), (tx, 2))):
        try:
            want = getattr(torch, op)(*rhs, alpha=alpha)
        except RuntimeError as exc:
            with pytest.raises(RuntimeError, match=_start(exc)):
                getattr(flambeau, op)(*lhs, alpha=alpha)
            continue
        got = getattr(flambeau, op)(*lhs, alpha=alpha)
        assert got.dtype.name == str(want.dtype)[6:]
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", ["bool", "int64", "float32"])
def test_in_place_add_and_sub_check_alpha_and_bools_as_torch(alpha, name):
    for op in ("add_", "sub_"):
        for other in ("bool", name):
            tx, ty = _pair(torch, name, 1, 3), _pair(torch, other, 1, 2)
            fx, fy = _pair(flambeau, name, 1, 3), _pair(flambeau, other, 1, 2)
            try:
                getattr(tx, op)(ty, alpha=alpha)
            except RuntimeError as exc:
                with pytest.raises(RuntimeError, match=_start(exc)):
                    getattr(fx, op)(fy, alpha=alpha)
                np.testing.assert_array_equal(fx.cpu().numpy(), tx.numpy())  # left unchanged
                continue
            getattr(fx, op)(fy, alpha=alpha)
            np.testing.assert_allclose(fx.cpu().numpy(), tx.numpy())


#: torch's dtypes of limited support: they promote with floats (the unsigned) or nothing
LIMITED = ["uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
           "float8_e5m2fnuz", "float8_e8m0fnu"]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(
    LIMITED, LIMITED + NAMES + ["complex64", "complex128"])))
def test_limited_dtypes_promote_as_torch_including_its_errors(a, b):
    for x, y in ((a, b), (b, a)):
        try:
            want = str(torch.promote_types(getattr(torch, x), getattr(torch, y)))
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as got:
                flambeau.promote_types(getattr(flambeau, x), getattr(flambeau, y))
            assert str(got.value) == str(e).splitlines()[0]
        else:
            got = flambeau.promote_types(getattr(flambeau, x), getattr(flambeau, y))
            assert repr(got) == want.replace("torch.", "flambeau.")

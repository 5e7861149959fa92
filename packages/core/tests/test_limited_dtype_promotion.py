"""Promotion of torch's dtypes of limited support (uint16/32/64, the float8s) against torch
2.13, for every pair of dtypes: ``promote_types``, and ``result_type`` of a tensor with a
zero-dim tensor or a Python number. Where a zero-dim operand of a higher category wins, torch
still refuses the pairs ``promote_types`` refuses (a bool tensor and a zero-dim uint16 one),
and a float8 has no complex type. Also: ``maximum``/``minimum``/``fmax``/``fmin`` take
tensors only, as torch's."""

from __future__ import annotations

import pytest

import flambeau

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "bfloat16", "float32",
          "float64", "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn",
          "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"]


def _outcome(call):
    try:
        return ("ok", str(call()).split(".")[-1])
    except RuntimeError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promote_types_and_result_type_match_torch(a, b):
    def calls(lib):
        da, db = getattr(lib, a), getattr(lib, b)
        tensor = lib.ones(2, dtype=da)
        zero_dim = lib.ones((), dtype=db)
        return (lambda: lib.promote_types(da, db), lambda: lib.result_type(tensor, zero_dim))
    for ours, theirs in zip(calls(flambeau), calls(torch)):
        assert _outcome(ours) == _outcome(theirs)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("number", [1, 1.5, True, 1j], ids=repr)
def test_result_type_with_a_number_matches_torch(a, number):
    def calls(lib):
        return (lambda: lib.result_type(lib.ones(2, dtype=getattr(lib, a)), number),
                lambda: lib.result_type(lib.ones((), dtype=getattr(lib, a)), number))
    for ours, theirs in zip(calls(flambeau), calls(torch)):
        assert _outcome(ours) == _outcome(theirs)


def test_the_refusals_reach_the_ops():
    flags = flambeau.ones(2, dtype=flambeau.bool)
    with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not "
                                           "supported, attempted to promote Bool and UInt16"):
        flags + flambeau.tensor(1, dtype=flambeau.uint16)
    with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for Float8_e5m2"):
        flambeau.ones(2, dtype=flambeau.float8_e5m2) * 1j
    with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for Float8_e4m3fn"):
        flambeau.float8_e4m3fn.to_complex()
    # a zero-dim bool meeting a uint16 tensor, or a 0-d uint16 a float tensor, is fine
    got = flambeau.ones(2, dtype=flambeau.uint16) + flambeau.tensor(True)
    assert got.dtype is flambeau.uint16 and got.cpu().numpy().tolist() == [2, 2]
    got = flambeau.ones(2) + flambeau.tensor(3, dtype=flambeau.uint16)
    assert got.dtype is flambeau.float32 and got.cpu().numpy().tolist() == [4.0, 4.0]


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax", "fmin"])
def test_min_max_take_tensors_only(op):
    x = flambeau.ones(2)
    with pytest.raises(TypeError, match=rf"{op}\(\): argument 'other' \(position 2\) must be "
                                        "Tensor, not int"):
        getattr(flambeau, op)(x, 1)
    with pytest.raises(TypeError, match=rf"{op}\(\): argument 'input' \(position 1\) must be "
                                        "Tensor, not float"):
        getattr(flambeau, op)(1.5, x)
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(torch, op)(torch.ones(2), 1)
    y = flambeau.tensor([0.0, 3.0])
    assert getattr(flambeau, op)(x, y).cpu().numpy().tolist() == \
        getattr(torch, op)(torch.ones(2), torch.tensor([0.0, 3.0])).tolist()

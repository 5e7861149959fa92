"""The in-place samplers refuse the dtypes torch refuses, with torch's errors, and empty
tensors report torch's contiguous strides."""

from __future__ import annotations

import pytest

import flambeau

SAMPLERS = [("normal_", ()), ("uniform_", ()), ("exponential_", ()), ("cauchy_", ()),
            ("log_normal_", ()), ("geometric_", (0.5,)), ("random_", ()), ("random_", (5,)),
            ("random_", (300,)), ("random_", (-200, 5)), ("random_", (2 ** 40,)),
            ("random_", (70000,)), ("random_", (5, 3)), ("random_", (0,)), ("bernoulli_", ())]
DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float16",
          "complex64"]


def _outcome(module, dtype, name, args):
    try:
        getattr(module.zeros(3, dtype=getattr(module, dtype)), name)(*args)
    except Exception as error:  # noqa: BLE001 - the outcome compared is the error itself
        return type(error).__name__, str(error)
    return "ok", ""


@pytest.mark.parity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args", SAMPLERS)
def test_in_place_samplers_refuse_as_torch(name, args, dtype):
    torch = pytest.importorskip("torch")
    want = _outcome(torch, dtype, name, args)
    got = _outcome(flambeau, dtype, name, args)
    assert got[0] == want[0]
    assert want[1] in got[1]  # ours may add the op's name and the dtype


@pytest.mark.parametrize("dtype, name", [("int64", "Long"), ("uint8", "Byte"), ("bool", "Bool")])
def test_normal_of_integers_raises(dtype, name):
    with pytest.raises(NotImplementedError, match=f"\"normal_kernel_cpu\" not implemented for "
                                                  f"'{name}'"):
        flambeau.zeros(3, dtype=getattr(flambeau, dtype)).normal_()


def test_geometric_of_integers_draws_but_not_of_bools():
    x = flambeau.zeros(1000, dtype=flambeau.int64).geometric_(0.5)
    assert int(x.min()) >= 1
    with pytest.raises(NotImplementedError, match="geometric_cpu"):
        flambeau.zeros(3, dtype=flambeau.bool).geometric_(0.5)


@pytest.mark.parametrize("shape, strides", [((0, 3), (3, 1)), ((2, 0, 4), (4, 4, 1)),
                                            ((0,), (1,)), ((3, 0), (1, 1))])
def test_empty_tensors_have_contiguous_strides(shape, strides):
    t = flambeau.empty(shape)
    assert t.stride() == strides
    assert t.stride(-1) == strides[-1]


@pytest.mark.parametrize("dtype, top", [("bool", 1), ("uint8", 255), ("int8", 127),
                                        ("int64", 2 ** 63 - 1), ("float16", 2 ** 11),
                                        ("bfloat16", 2 ** 8), ("float32", 2 ** 24),
                                        ("float64", 2 ** 53)])
def test_random_without_bounds_spans_the_dtype(dtype, top):
    """``random_()`` draws from ``[0, max]`` of an integer dtype and ``[0, 2**digits]`` of a
    floating one, as torch (it drew below 2**24 whatever the dtype)."""
    x = flambeau.zeros(4000, dtype=getattr(flambeau, dtype)).random_()
    values = x.double()
    assert float(values.min()) >= 0 and float(values.max()) <= top
    assert float(values.max()) > top / 2  # not stuck in a narrower range


def test_random_with_bounds_stays_inside():
    x = flambeau.zeros(2000, dtype=flambeau.int8).random_(-128, 128)
    assert int(x.min()) == -128 and int(x.max()) == 127
    y = flambeau.zeros(2000).random_(-3, 3)
    assert set(y.tolist()) == {-3.0, -2.0, -1.0, 0.0, 1.0, 2.0}

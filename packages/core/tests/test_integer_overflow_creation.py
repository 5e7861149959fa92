"""Python numbers that an integer dtype cannot hold, path by path, as torch 2.13 treats them:
``tensor``/``as_tensor``/``new_tensor`` of Python numbers, fills (``full``, ``fill_``,
``masked_fill``, ``x[i] = v``) and ``clamp`` bounds refuse them with torch's RuntimeError
(an unsigned dtype takes the ints down to ``-max``, wrapped); ``randint`` refuses bounds the
dtype cannot hold; casts of arrays and tensors, and arithmetic with a Python int, wrap."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")

INTS = ["uint8", "int8", "int16", "int32", "int64", "uint16", "uint32"]
#: numbers around each dtype's range: the ints just inside and outside it (an unsigned
#: dtype's negatives down to -max wrap), floats with a fraction, and the non-finite floats
VALUES = [300, -1, -255, -256, 128, -129, 2 ** 31, -2 ** 31 - 1, 65536, 255.5, -0.5,
          -128.5, 300.7, 1e20, math.inf, -math.inf, math.nan]


def _outcome(call):
    """('ok', values) or ('error', type name, message) of ``call()``."""
    try:
        out = call()
    except Exception as exc:  # noqa: BLE001 - the outcome itself is compared
        return ("error", type(exc).__name__, str(exc).split("\n")[0])
    return ("ok", out.cpu().numpy().tolist())


def _both(make):
    return _outcome(lambda: make(flambeau)), _outcome(lambda: make(torch))


def _filled(lib, name, path, value):
    """A 2-element tensor of dtype ``name`` given ``value`` by the fill ``path``."""
    dt = getattr(lib, name)
    x = lib.zeros(2, dtype=dt)
    if path == "full":
        return lib.full((2,), value, dtype=dt)
    if path == "full_like":
        return lib.full_like(x, value)
    if path == "new_full":
        return x.new_full((2,), value)
    if path == "fill_":
        return x.fill_(value)
    if path == "setitem":
        x[0] = value
        return x
    if path == "setitem_slice":
        x[:] = value
        return x
    if path == "masked_fill":
        return x.masked_fill(lib.tensor([True, False]), value)
    if path == "index_fill":
        return x.index_fill(0, lib.tensor([0]), value)
    if path == "where":
        return lib.where(lib.tensor([True, False]), x, value)
    if path == "clamp_min":
        return x.clamp(min=value)
    return x.clamp(max=value)


@pytest.mark.parametrize("name", INTS)
@pytest.mark.parametrize("value", VALUES, ids=str)
@pytest.mark.parametrize("path", ["tensor", "tensor_0d", "mixed_list", "as_tensor",
                                  "new_tensor"])
def test_tensor_of_python_numbers_checks_the_range(path, value, name):
    def make(lib):
        dt = getattr(lib, name)
        if path == "tensor":
            return lib.tensor([value], dtype=dt)
        if path == "tensor_0d":
            return lib.tensor(value, dtype=dt)
        if path == "mixed_list":
            return lib.tensor([[1, 2.0], [value, 0]], dtype=dt)
        if path == "as_tensor":
            return lib.as_tensor([value], dtype=dt)
        return lib.zeros(1, dtype=dt).new_tensor([value])
    ours, theirs = _both(make)
    assert ours == theirs


@pytest.mark.parametrize("name", INTS)
@pytest.mark.parametrize("value", VALUES, ids=str)
@pytest.mark.parametrize("path", ["full", "full_like", "new_full", "fill_", "setitem",
                                  "setitem_slice", "masked_fill", "clamp_min", "clamp_max"])
def test_fills_and_bounds_check_the_range(path, value, name):
    if name.startswith("uint") and name != "uint8" and path in ("masked_fill", "clamp_min",
                                                                  "clamp_max"):
        pytest.skip("torch 2.13 has no CPU kernel for these on uint16/32 (flambeau computes)")

    ours, theirs = _both(lambda lib: _filled(lib, name, path, value))
    if ours[0] == "ok" and theirs[0] == "ok" and isinstance(value, float):
        assert np.allclose(ours[1], theirs[1], equal_nan=True)  # float32 results
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", ["uint8", "int8", "int32", "bool"])
@pytest.mark.parametrize("value", [300, -1, -300, 2 ** 31])
def test_arithmetic_and_casts_still_wrap(name, value):
    def make(lib):
        return lib.zeros(2, dtype=getattr(lib, name)) + value
    assert _outcome(lambda: make(flambeau)) == _outcome(lambda: make(torch))

    def cast(lib):
        return lib.tensor([value]).to(getattr(lib, name))
    assert _outcome(lambda: cast(flambeau)) == _outcome(lambda: cast(torch))
    assert flambeau.tensor(np.array([value]), dtype=getattr(flambeau, name)).tolist() == \
        torch.tensor(np.array([value]), dtype=getattr(torch, name)).tolist()


@pytest.mark.parametrize("name", ["uint8", "int8", "int32", "bool", "float8_e4m3fn"])
@pytest.mark.parametrize("value", [300, -1, 1000.5, 3.7, -129.0])
def test_fill_with_a_zero_dim_tensor_casts_it_as_torch(name, value):
    """fill_(tensor) casts the tensor (wrapping), as torch: the range check of Python
    numbers refused uint8 fill_(tensor(300)), which torch fills with 44."""
    def make(lib):
        return lib.zeros(2, dtype=getattr(lib, name)).fill_(lib.tensor(value)).float()
    assert _outcome(lambda: make(flambeau)) == _outcome(lambda: make(torch))


@pytest.mark.parametrize("name", INTS + ["uint64", "bool"])
@pytest.mark.parametrize(("low", "high"), [(0, 256), (0, 257), (-128, 0), (-129, 0), (-1, 5),
                                           (0, 2 ** 16 + 1), (0, 2 ** 31), (0, 2 ** 31 + 1),
                                           (0, 2), (0, 3)])
def test_randint_refuses_bounds_the_dtype_cannot_hold(name, low, high):
    def make(lib):
        out = lib.randint(low, high, (50,), dtype=getattr(lib, name))
        return lib.tensor([out.shape[0]])  # the draws differ; the outcome must not
    assert _outcome(lambda: make(flambeau)) == _outcome(lambda: make(torch))


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
@pytest.mark.parametrize("bounds", [(-1, 5), (0, 2 ** 16 + 1), (0, 2 ** 32 + 1)])
def test_random_bounds_of_the_unsigned_types_name_them(name, bounds):
    def make(lib):
        out = lib.zeros(3, dtype=getattr(lib, name)).random_(*bounds)
        return lib.tensor([int(v) < bounds[1] for v in out.tolist()])
    assert _outcome(lambda: make(flambeau)) == _outcome(lambda: make(torch))


def test_randint_draws_within_bounds_that_fill_the_dtype():
    x = flambeau.randint(0, 256, (2000,), dtype=flambeau.uint8).cpu().numpy()
    assert x.min() >= 0 and x.max() <= 255 and len(np.unique(x)) > 200
    y = flambeau.randint(-128, 128, (2000,), dtype=flambeau.int8).cpu().numpy()
    assert y.min() >= -128 and y.max() <= 127 and len(np.unique(y)) > 200


@pytest.mark.parametrize(("call", "message"), [
    (lambda: flambeau.tensor([300], dtype=flambeau.uint8),
     "value cannot be converted to type uint8 without overflow"),
    (lambda: flambeau.tensor([1.0, math.nan], dtype=flambeau.int32),
     "value cannot be converted to type int32 without overflow"),
    (lambda: flambeau.full((1,), 1e10, dtype=flambeau.int32),
     "value cannot be converted to type int without overflow"),
    (lambda: flambeau.zeros(1, dtype=flambeau.int16).fill_(-0.5e5),
     "value cannot be converted to type int16_t without overflow"),
    (lambda: flambeau.zeros(1, dtype=flambeau.int64).clamp(max=2 ** 63),
     "value cannot be converted to type int64_t without overflow"),
    (lambda: flambeau.randint(0, 300, (1,), dtype=flambeau.uint8),
     "to - 1 is out of bounds for unsigned char"),
    (lambda: flambeau.randint(-1, 3, (1,), dtype=flambeau.uint64),
     "from is out of bounds for long unsigned int"),
])
def test_the_messages_name_the_value_type(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("data", [1.0, [1, 2.5], [[0.0]]])
def test_uint64_takes_python_ints_only(data):
    with pytest.raises(TypeError, match="an integer is required"):
        flambeau.tensor(data, dtype=flambeau.uint64)
    with pytest.raises(TypeError, match="an integer is required"):
        torch.tensor(data, dtype=torch.uint64)


def test_a_refused_write_leaves_the_tensor_unchanged():
    x = flambeau.tensor([1, 2], dtype=flambeau.uint8)
    for write in (lambda: x.__setitem__(0, 256), lambda: x.fill_(math.nan),
                  lambda: x.clamp_(max=300)):
        with pytest.raises(RuntimeError, match="uint8_t without overflow"):
            write()
    assert x.cpu().numpy().tolist() == [1, 2] and x._version == 0


def test_many_numbers_are_checked_as_a_few():
    values = list(range(-255, 256))  # past the size where NumPy's min and max take over
    assert flambeau.tensor(values, dtype=flambeau.uint8).cpu().numpy().tolist() == \
        torch.tensor(values, dtype=torch.uint8).tolist()
    with pytest.raises(RuntimeError, match="type uint8 without"):
        flambeau.tensor(values + [256], dtype=flambeau.uint8)
    with pytest.raises(RuntimeError, match="type int8 without"):
        flambeau.tensor([0.5] * 100 + [math.nan], dtype=flambeau.int8)


SIGNED_AND_BYTE = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", SIGNED_AND_BYTE)
@pytest.mark.parametrize("value", VALUES, ids=str)
@pytest.mark.parametrize("path", ["index_fill", "index_fill_tensor", "masked_fill_tensor",
                                  "where", "where_first"])
def test_index_fill_and_where_check_the_range_as_fills(path, value, name):
    """index_fill leaked NumPy's OverflowError (and refused uint8's -1); where wrapped a
    number the tensor's dtype cannot hold (uint8 and 300 gave 44) where torch refuses it."""
    if path in ("where", "where_first") and isinstance(value, float):
        pytest.skip("a float beside an integer tensor promotes to float32: nothing to check")

    def make(lib):
        x = lib.zeros(2, dtype=getattr(lib, name))
        if path == "index_fill":
            return x.index_fill(0, lib.tensor([0]), value)
        if path == "index_fill_tensor":
            return x.index_fill(0, lib.tensor([0]), lib.tensor(value))
        if path == "masked_fill_tensor":
            return x.masked_fill(lib.tensor([True, False]), lib.tensor(value))
        cond = lib.tensor([True, False])
        return lib.where(cond, x, value) if path == "where" else lib.where(cond, value, x)
    ours, theirs = _both(make)
    assert ours == theirs


HUGE = [2 ** 63, 2 ** 64 - 1, 2 ** 64, 2 ** 70, -2 ** 63 - 1]


@pytest.mark.parametrize("name", ["uint8", "int64", "uint64"])
@pytest.mark.parametrize("value", HUGE, ids=str)
@pytest.mark.parametrize("path", ["full", "fill_", "setitem", "setitem_slice", "masked_fill",
                                  "index_fill", "where"])
def test_ints_past_64_bits_are_refused_as_torch(path, value, name):
    """torch's argument parser refuses an int no C++ scalar holds before the dtype's range
    (OverflowError), and ``x[i] = v`` any int outside int64's range (ValueError), uint64's
    ``x[i] = 2**63`` included: flambeau wrote it, or leaked NumPy's message."""
    if name == "uint64" and path in ("masked_fill", "index_fill"):
        pytest.skip("torch 2.13 has no CPU kernel for these on uint64")

    ours, theirs = _both(lambda lib: _filled(lib, name, path, value))
    assert ours == theirs


@pytest.mark.parametrize("args", [(2 ** 63, 2 ** 63 + 2), (0, 2 ** 63, 2 ** 62),
                                  (2 ** 63 - 2, 2 ** 63), (2 ** 64,), (10 ** 20,),
                                  (-2 ** 63 - 1, 0), (2 ** 63 - 3, 2 ** 63 - 1),
                                  (-2 ** 63, -2 ** 63 + 2)], ids=str)
def test_arange_of_ints_past_int64_is_refused_as_torch(args):
    """NumPy's 'Python int too large to convert to C long' and 'Maximum allowed size
    exceeded' leaked, and arange(0, 2**63, 2**62) ran."""
    ours, theirs = _both(lambda lib: lib.arange(*args))
    assert ours == theirs


@pytest.mark.parametrize("args", [(10.0, (3,)), (True, (3,)), (0.5, 10.5, (3,)),
                                  (0, 10.7, (3,)), (0.0, 1, (3,)), (2 ** 63, (3,)),
                                  (-2 ** 63 - 1, 0, (3,)), (np.float64(5.0), (3,)),
                                  (0, np.float32(5.0), (3,))], ids=str)
def test_randint_refuses_bounds_that_are_not_ints_as_torch(args):
    """randint(0.5, 10.5) drew integers (floored bounds) where torch refuses a float."""
    errors = []
    for lib in (flambeau, torch):
        with pytest.raises((TypeError, ValueError)) as info:
            lib.randint(*args)
        errors.append((info.type, str(info.value).split("\n")[0]))
    assert errors[0] == errors[1]


def test_randint_takes_integer_scalars_and_zero_dim_tensors():
    for high in (np.int64(5), flambeau.tensor(5)):
        x = flambeau.randint(high, (50,)).cpu().numpy()
        assert x.min() >= 0 and x.max() < 5
    x = flambeau.randint(flambeau.tensor(2), 4, (50,)).cpu().numpy()
    assert x.min() >= 2 and x.max() < 4

"""uint16, uint32 and uint64: torch's "limited support" unsigned dtypes, against torch 2.13.

torch creates, casts, compares for equality, indexes, views, saves and sums them, and
promotes them only with floating-point dtypes. flambeau follows that; where torch has no CPU
kernel (``a + b``, ``a < b``, ``max``...) flambeau computes with NumPy's, as the tests of the
last section pin down.
"""

import io

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
# compared with torch's CPU tensors (reprs, kernel names in messages, files): on the CPU,
# whatever the run's default device
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

UNSIGNED = ["uint16", "uint32", "uint64"]
OTHERS = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


def _both(name, values):
    return (flambeau.tensor(values, dtype=getattr(flambeau, name)),
            torch.tensor(values, dtype=getattr(torch, name)))


def _same(got, want):
    assert got.dtype.name == str(want.dtype).removeprefix("torch."), (got.dtype, want.dtype)
    if want.dtype == torch.bfloat16:  # torch has no NumPy bfloat16
        got, want = got.float(), want.float()
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("name", UNSIGNED)
def test_operands_promote_as_in_torch(name):
    f, t = _both(name, [1, 2, 3])
    for other_f, other_t in ((1, 1), (1.5, 1.5), (True, True),
                             (flambeau.tensor(2), torch.tensor(2)),
                             (flambeau.tensor(2.0), torch.tensor(2.0)),
                             (flambeau.ones(3, dtype=flambeau.float16),
                              torch.ones(3, dtype=torch.float16))):
        _same(f * other_f, t * other_t)
    with pytest.raises(RuntimeError, match=r"^Promotion for uint16, uint32, uint64 types is not "
                                           r"supported, attempted to promote UInt\d+ and Int$"):
        f * flambeau.ones(3, dtype=flambeau.int32)
    with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64"):
        t * torch.ones(3, dtype=torch.int32)


@pytest.mark.parametrize("name", UNSIGNED)
def test_dtype_properties_iinfo_and_repr(name):
    f, t = getattr(flambeau, name), getattr(torch, name)
    assert (f.is_signed, f.itemsize, f.is_floating_point, f.is_complex) == (
        t.is_signed, t.itemsize, t.is_floating_point, t.is_complex)
    fi, ti = flambeau.iinfo(f), torch.iinfo(t)
    assert (fi.bits, fi.min, fi.max) == (ti.bits, ti.min, ti.max)
    a, b = _both(name, [1, 2, ti.max])
    assert repr(a) == repr(b).replace("torch.", "flambeau.")
    assert a.is_signed() is False and flambeau.is_signed(a) is False
    assert flambeau.tensor([1], dtype=name).dtype is f  # by name too
    with pytest.raises(TypeError, match=rf"finfo: flambeau.{name} is not a floating-point"):
        flambeau.finfo(f)


@pytest.mark.parametrize("name", UNSIGNED)
def test_creation_and_casts_match_torch(name):
    fdt, tdt = getattr(flambeau, name), getattr(torch, name)
    for make in (lambda m, d: m.zeros(2, dtype=d), lambda m, d: m.ones(2, 3, dtype=d),
                 lambda m, d: m.full((2,), 7, dtype=d), lambda m, d: m.full((2,), -1, dtype=d),
                 lambda m, d: m.tensor([0, 5], dtype=d),
                 lambda m, d: m.zeros(3, dtype=d).fill_(m.iinfo(d).max)):
        _same(make(flambeau, fdt), make(torch, tdt))
    floats = [1.7, -2.0, 1e4, 0.0]
    _same(flambeau.tensor(floats).to(fdt), torch.tensor(floats).to(tdt))
    ints = [-1, 2 ** 40, 3]
    _same(flambeau.tensor(ints).to(fdt), torch.tensor(ints).to(tdt))
    f, t = _both(name, [0, 5, torch.iinfo(tdt).max])
    for target in OTHERS[:-2] + UNSIGNED:
        _same(f.to(getattr(flambeau, target)), t.to(getattr(torch, target)))
    assert f.tolist() == t.tolist() and f[2].item() == t[2].item()
    r = flambeau.randint(0, 5, (20,), dtype=fdt)
    assert r.dtype is fdt and 0 <= int(r.sum()) <= 80


def test_uint64_holds_ints_beyond_int64():
    f, t = _both("uint64", [0, 2 ** 63, 2 ** 64 - 1])
    _same(f, t)
    assert f.tolist() == [0, 2 ** 63, 2 ** 64 - 1]
    assert flambeau.tensor(2 ** 63, dtype=flambeau.uint64).item() == 2 ** 63
    with pytest.raises(OverflowError, match=r"tensor\(\): int too big to convert to uint64 "
                                            r"\(at most 2\*\*64 - 1\)"):
        flambeau.tensor([2 ** 64], dtype=flambeau.uint64)
    with pytest.raises(OverflowError):
        torch.tensor([2 ** 64], dtype=torch.uint64)
    _same(flambeau.tensor([-1]).view(flambeau.uint64), torch.tensor([-1]).view(torch.uint64))


@pytest.mark.parametrize("data", [[-1], -1, [[2 ** 63], [-5]]])
def test_uint64_refuses_negative_ints_as_torch(data):
    # uint16/uint32 wrap a negative int around, as in torch; uint64 refuses it
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        torch.tensor(data, dtype=torch.uint64)
    with pytest.raises(OverflowError, match=r"tensor\(\): can't convert negative int to "
                                            r"unsigned \(uint64\)"):
        flambeau.tensor(data, dtype=flambeau.uint64)
    _same(flambeau.tensor([-1], dtype=flambeau.uint32), torch.tensor([-1], dtype=torch.uint32))


@pytest.mark.parametrize("name", UNSIGNED)
def test_the_ops_torch_runs_on_them(name):
    (fa, ta), (fb, tb) = _both(name, [1, 2, 3, 9]), _both(name, [3, 2, 1, 9])
    for op in (lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a == 2,
               lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b,
               lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a * 1.5,
               lambda a, b: a.sum(), lambda a, b: a.prod(), lambda a, b: a.cumsum(0),
               lambda a, b: a.cumprod(0), lambda a, b: a.float().mean(),
               lambda a, b: a.any(), lambda a, b: a.all(), lambda a, b: a.bool(),
               lambda a, b: a.isnan(), lambda a, b: a[1], lambda a, b: a[[0, 2]],
               lambda a, b: a.reshape(2, 2).t().contiguous(), lambda a, b: a.unique(),
               lambda a, b: a.sort().values, lambda a, b: a.sort().indices,
               lambda a, b: a.clone().fill_(4), lambda a, b: a.clone().zero_()):
        _same(op(fa, fb), op(ta, tb))
    assert flambeau.equal(fa, fa) and not flambeau.equal(fa, fb)
    stacked = (flambeau.cat([fa, fb]), flambeau.stack([fa, fb]))
    for got, want in zip(stacked, (torch.cat([ta, tb]), torch.stack([ta, tb]))):
        _same(got, want)
    fc, tc = fa.clone(), ta.clone()
    fc[0] = 7
    tc[0] = 7
    fc[1:3] = 5
    tc[1:3] = 5
    _same(fc, tc)
    signed = {"uint16": "int16", "uint32": "int32", "uint64": "int64"}[name]
    _same(fa.view(getattr(flambeau, signed)), ta.view(getattr(torch, signed)))
    _same(fa.view(flambeau.uint8), ta.view(torch.uint8))


@pytest.mark.parametrize("name", UNSIGNED)
def test_numpy_dlpack_and_save_round_trips(name):
    f, t = _both(name, [0, 1, torch.iinfo(getattr(torch, name)).max])
    arr = f.numpy()
    assert arr.dtype == np.dtype(name)
    back = flambeau.from_numpy(arr)
    assert back.dtype is f.dtype and np.shares_memory(back.numpy(), arr)
    _same(flambeau.from_dlpack(t), t)
    _same(f, torch.from_dlpack(f))
    buf = io.BytesIO()
    flambeau.save({"t": f, "dtype": f.dtype}, buf)
    buf.seek(0)
    got = flambeau.load(buf)
    assert got["dtype"] is f.dtype
    _same(got["t"], t)


@pytest.mark.parametrize("name", UNSIGNED)
def test_ops_torch_has_no_kernel_for_compute_in_flambeau(name):
    """A deliberate difference: torch raises NotImplementedError ("add_stub" not implemented
    for 'UInt16'); flambeau computes them, wrapping around as the unsigned type does."""
    (fa, ta), (fb, tb) = _both(name, [1, 2, 3]), _both(name, [3, 2, 1])
    with pytest.raises(NotImplementedError, match="not implemented for 'UInt"):
        ta + tb
    wide = torch.iinfo(getattr(torch, name)).max + 1
    np.testing.assert_array_equal((fa + fb).cpu().numpy(), [4, 4, 4])
    np.testing.assert_array_equal((fa - fb).cpu().numpy(), [wide - 2, 0, 2])
    np.testing.assert_array_equal((fa < fb).cpu().numpy(), [True, False, False])
    assert int(fa.max()) == 3 and (fa - fb).dtype is fa.dtype


@pytest.mark.parametrize("name", UNSIGNED + ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                                             "float8_e5m2fnuz", "float8_e8m0fnu"])
def test_legacy_type_names_of_the_limited_dtypes(name):
    f, t = flambeau.zeros(2, dtype=getattr(flambeau, name)), torch.zeros(2, dtype=getattr(torch,
                                                                                          name))
    assert f.type() == t.type().replace("torch.", "flambeau.")  # 'torch.UInt16Tensor'
    assert flambeau.zeros(2).type(t.type()).dtype is f.dtype
    assert not hasattr(flambeau, t.type().split(".")[-1])  # named, not published: as torch
    assert not hasattr(torch, t.type().split(".")[-1])

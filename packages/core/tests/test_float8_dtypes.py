"""The float8 dtypes (float8_e4m3fn, float8_e5m2, their fnuz variants, float8_e8m0fnu),
against torch 2.13.

torch stores, casts, creates, views, indexes, concatenates and saves them, and promotes them
with nothing: the tests compare those. Casts round as torch's: float8_e4m3fn saturates at
+-448 where ml_dtypes would give NaN, float8_e8m0fnu (a power of two) takes magnitudes.
"""

import io

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
# compared with torch's CPU tensors (reprs, kernel names in messages, files): on the CPU,
# whatever the run's default device
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
          "float8_e8m0fnu"]
OTHERS = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128", "uint16"]
VALUES = [0.1, 1.0, -2.5, 500.0, 1e6, float("nan"), float("inf"), float("-inf"), -0.0, 1e-9,
          1.5, 3.0, -448.5, 460.0, 464.0, 470.0, 57344.0, 61440.0, 240.5]


def _same(got, want):
    """Same dtype and values (through float64: torch has no NumPy float8 or bfloat16)."""
    assert got.dtype.name == str(want.dtype).removeprefix("torch."), (got.dtype, want.dtype)
    if want.dtype.is_complex:
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
        return
    np.testing.assert_array_equal(got.to(flambeau.float64).cpu().numpy(),
                                  want.to(torch.float64).numpy())


@pytest.mark.parametrize("name", FLOAT8 + ["float16", "bfloat16", "float32", "float64"])
def test_finfo_and_properties_match_torch(name):
    f, t = flambeau.finfo(getattr(flambeau, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(f, attr) == getattr(t, attr), attr
    fd, td = getattr(flambeau, name), getattr(torch, name)
    assert (fd.is_floating_point, fd.is_signed, fd.itemsize, fd.is_complex) == (
        td.is_floating_point, td.is_signed, td.itemsize, td.is_complex)


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16"])
def test_casts_from_floats_round_and_saturate_as_torch(name, source):
    got = flambeau.tensor(VALUES, dtype=getattr(flambeau, source)).to(getattr(flambeau, name))
    want = torch.tensor(VALUES, dtype=getattr(torch, source)).to(getattr(torch, name))
    _same(got, want)


@pytest.mark.parametrize("name", FLOAT8)
def test_casts_from_integers_and_bool_and_to_every_dtype(name):
    fd, td = getattr(flambeau, name), getattr(torch, name)
    for source, values in (("int64", [3, 1000, -5, 2 ** 40, 0]), ("int32", [3, 100, -5, 0]),
                           ("int8", [3, 100, -5, 0]), ("uint8", [3, 200, 0]),
                           ("bool", [True, False])):
        _same(flambeau.tensor(values, dtype=getattr(flambeau, source)).to(fd),
              torch.tensor(values, dtype=getattr(torch, source)).to(td))
    _same(flambeau.tensor(VALUES, dtype=fd), torch.tensor(VALUES, dtype=td))
    f8, t8 = flambeau.tensor(VALUES).to(fd), torch.tensor(VALUES).to(td)
    for other in FLOAT8:
        _same(f8.to(getattr(flambeau, other)), t8.to(getattr(torch, other)))
    small = [0.5, 1.0, 2.0, 3.0, 0.0, 4.0]
    fs, ts = flambeau.tensor(small).to(fd), torch.tensor(small).to(td)
    for target in OTHERS:
        _same(fs.to(getattr(flambeau, target)), ts.to(getattr(torch, target)))
    assert fs.tolist() == ts.tolist() and fs[1].item() == ts[1].item()


@pytest.mark.parametrize("name", FLOAT8)
def test_creation_fill_setitem_and_copy_round_as_torch(name):
    fd, td = getattr(flambeau, name), getattr(torch, name)
    for make in (lambda m, d: m.zeros(2, 3, dtype=d), lambda m, d: m.ones(2, dtype=d),
                 lambda m, d: m.empty(0, dtype=d), lambda m, d: m.full((2,), 3.0, dtype=d),
                 lambda m, d: m.zeros_like(m.ones(2, dtype=d)),
                 lambda m, d: m.tensor([1.5, 2.0], dtype=d)):
        _same(make(flambeau, fd), make(torch, td))
    for v in (3.0, 449.0, -1e6, float("inf"), float("nan"), 7, 240.5, 57344.0, 1e39):
        f, t = flambeau.zeros(3, dtype=fd), torch.zeros(3, dtype=td)
        f[0] = v  # a write is cast as to() casts
        t[0] = v
        try:
            t[1:].fill_(v)  # a fill of more than one element checks the range first
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=rf"^{str(e)}$"):
                f[1:].fill_(v)
            with pytest.raises(RuntimeError, match=r"value cannot be converted to type "
                                                   r"c10::Float8_\w+ without overflow"):
                flambeau.full((2,), v, dtype=fd)
        else:
            f[1:].fill_(v)
            _same(flambeau.full((2,), v, dtype=fd), torch.full((2,), v, dtype=td))
        _same(f, t)
    src = [1000.0, -0.0, 2.5]
    _same(flambeau.zeros(3, dtype=fd).copy_(flambeau.tensor(src)),
          torch.zeros(3, dtype=td).copy_(torch.tensor(src)))
    assert flambeau.ones(2, dtype=fd, requires_grad=True).requires_grad  # as torch allows


@pytest.mark.parametrize("name", FLOAT8)
def test_repr_views_and_shape_ops_match_torch(name):
    fd, td = getattr(flambeau, name), getattr(torch, name)
    vals = [0.1, 1.0, -2.5, 448.0]
    f, t = flambeau.tensor(vals).to(fd), torch.tensor(vals).to(td)
    assert repr(f) == repr(t).replace("torch.", "flambeau.")
    _same(f.view(flambeau.uint8), t.view(torch.uint8))
    _same(f.view(flambeau.int8), t.view(torch.int8))
    _same(flambeau.tensor([56, 60, 127], dtype=flambeau.uint8).view(fd),
          torch.tensor([56, 60, 127], dtype=torch.uint8).view(td))
    for op in (lambda m, a: a.reshape(2, 2).t().contiguous(), lambda m, a: a[1],
               lambda m, a: a[[0, 2]], lambda m, a: a[::2], lambda m, a: a[:1].expand(3),
               lambda m, a: m.cat([a, a]), lambda m, a: m.stack([a, a]),
               lambda m, a: a.clone(), lambda m, a: a.unsqueeze(0), lambda m, a: a.narrow(0, 1, 2),
               lambda m, a: a.index_select(0, m.tensor([0, 3])), lambda m, a: a == a,
               lambda m, a: m.where(m.tensor([True, False, True, False]), a, a.clone().zero_()),
               lambda m, a: a.isnan(), lambda m, a: a.any()):
        _same(op(flambeau, f), op(torch, t))
    assert flambeau.equal(f, f.clone()) == torch.equal(t, t.clone())  # False with a NaN


@pytest.mark.parametrize("name", FLOAT8)
def test_save_load_through_every_format(name, tmp_path):
    fd, td = getattr(flambeau, name), getattr(torch, name)
    f, t = flambeau.tensor([1.0, 2.0, 0.5, 4.0], dtype=fd), torch.tensor([1.0, 2.0, 0.5, 4.0],
                                                                         dtype=td)
    buf = io.BytesIO()
    flambeau.save({"t": f, "dtype": fd}, buf)
    buf.seek(0)
    got = flambeau.load(buf)
    assert got["dtype"] is fd
    _same(got["t"], t)
    flambeau.save({"t": f}, tmp_path / "w.safetensors")
    _same(flambeau.load(tmp_path / "w.safetensors")["t"], t)
    torch.save({"t": t.reshape(2, 2).t(), "dtype": td}, tmp_path / "w.pt")  # a strided view
    got = flambeau.load(tmp_path / "w.pt")
    assert got["dtype"] is fd
    _same(got["t"], t.reshape(2, 2).t())
    arr = f.numpy()  # NumPy holds them as ml_dtypes' types (torch's numpy() refuses)
    assert flambeau.from_numpy(arr).dtype is fd and np.shares_memory(arr, f.numpy())


def test_dlpack_has_no_float8_codes_here():
    f = flambeau.ones(2, dtype=flambeau.float8_e4m3fn)
    with pytest.raises(BufferError, match=r"can't export a flambeau.float8_e4m3fn tensor"):
        torch.from_dlpack(f)


@pytest.mark.parametrize("name", FLOAT8)
def test_arithmetic_torch_has_no_kernel_for_computes_in_flambeau(name):
    """A deliberate difference: torch raises NotImplementedError ("add_stub" not implemented
    for 'Float8_e4m3fn'); flambeau computes in float32, rounded to the float8 dtype as torch's
    float8 ``*`` (see test_float8_arithmetic)."""
    fd, td = getattr(flambeau, name), getattr(torch, name)
    with pytest.raises(NotImplementedError, match="not implemented for 'Float8_"):
        torch.ones(2, dtype=td) + torch.ones(2, dtype=td)
    got = flambeau.tensor([1.0, 2.0], dtype=fd) + flambeau.tensor([1.0, 2.0], dtype=fd)
    assert got.dtype is fd and got.float().tolist() == [2.0, 4.0]


SAMPLERS = [lambda m, d: m.rand(2, dtype=d), lambda m, d: m.randn(2, dtype=d),
            lambda m, d: m.randint(0, 3, (2,), dtype=d), lambda m, d: m.randperm(3, dtype=d),
            lambda m, d: m.arange(3, dtype=d), lambda m, d: m.linspace(0, 1, 3, dtype=d),
            lambda m, d: m.rand_like(m.zeros(2, dtype=d)),
            lambda m, d: m.randint_like(m.zeros(2, dtype=d), 3),
            lambda m, d: m.zeros(2, dtype=d).random_(), lambda m, d: m.zeros(2, dtype=d).random_(3),
            lambda m, d: m.zeros(2, dtype=d).random_(0, 3),
            lambda m, d: m.zeros(2, dtype=d).bernoulli_(0.5),
            lambda m, d: m.zeros(2, dtype=d).normal_(), lambda m, d: m.zeros(2, dtype=d).uniform_(),
            lambda m, d: m.zeros(2, dtype=d).exponential_(),
            lambda m, d: m.zeros(2, dtype=d).cauchy_(),
            lambda m, d: m.zeros(2, dtype=d).log_normal_(),
            lambda m, d: m.zeros(2, dtype=d).geometric_(0.5)]


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("i", range(len(SAMPLERS)))
def test_samplers_and_ranges_refuse_float8_with_torchs_message(name, i):
    with pytest.raises(NotImplementedError) as want:
        SAMPLERS[i](torch, getattr(torch, name))
    with pytest.raises(NotImplementedError) as got:
        SAMPLERS[i](flambeau, getattr(flambeau, name))
    assert str(got.value) == str(want.value)
    assert "not implemented for 'Float8_" in str(got.value)


@pytest.mark.parametrize("name", FLOAT8)
def test_strided_views_match_torch(name):
    """as_strided, unfold and diagonal go through NumPy's as_strided, which can't rebuild
    ml_dtypes' float8_e5m2 by itself."""
    fd, td = getattr(flambeau, name), getattr(torch, name)
    f, t = flambeau.tensor([1.0, 2.0, 0.5, 4.0], dtype=fd), torch.tensor([1.0, 2.0, 0.5, 4.0],
                                                                         dtype=td)
    for op in (lambda a: a.as_strided((2,), (2,)), lambda a: a.as_strided((2, 2), (1, 1), 1),
               lambda a: a.unfold(0, 2, 1), lambda a: a.reshape(2, 2).diagonal(),
               lambda a: a.clone().as_strided_((2,), (2,))):
        _same(op(f), op(t))

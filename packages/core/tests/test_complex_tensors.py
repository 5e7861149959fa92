"""Complex tensors outside the op families: creation, random draws, Python conversions, legacy
type names, shape and indexing ops (with gradients), save/load, torch files, DLPack and the
testing utilities, all checked against torch."""

import io
import json
import os
import pickle
import warnings

import numpy as np
import pytest
from safetensors import numpy as st_numpy

import flambeau
from flambeau._serialization import STRUCTURE_KEY, CheckpointError
from flambeau.testing import assert_close, make_tensor, run_conformance

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

CF, CD = flambeau.complex64, flambeau.complex128
COMPLEX = [CF, CD]
#: PyTorch's C++ names in "value cannot be converted to type ... without overflow"
CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "bfloat16": "c10::BFloat16", "int64": "int64_t", "int32": "int", "int16": "int16_t",
             "int8": "int8_t", "uint8": "uint8_t"}


def _torch(t):
    """A torch CPU tensor with ``t``'s values (any flambeau device)."""
    return torch.from_numpy(np.array(t.detach().cpu().numpy()))


def _same(got, want, tol=0.0):
    """``got`` (flambeau) has ``want``'s (torch) dtype, shape and values."""
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (got, want)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=tol,
                               atol=tol)


def _both(expr):
    """``expr`` evaluated with ``M`` = flambeau (CPU tensors) and ``M`` = torch."""
    out = []
    for lib in (flambeau, torch):
        with warnings.catch_warnings(), lib.device("cpu"):
            warnings.simplefilter("ignore")
            out.append(eval(expr, {"M": lib, "np": np, "CPU": {"device": "cpu"}}))
    return out


def _raises_as_torch(expr, exc, match):
    """flambeau and torch both raise ``exc`` with a message matching ``match``."""
    for lib in (flambeau, torch):
        with pytest.raises(exc, match=match), lib.device("cpu"):
            eval(expr, {"M": lib, "np": np, "CPU": {"device": "cpu"}})


# ------------------------------------------------------------------ creation


@pytest.mark.parametrize("expr", [
    "M.zeros(2, 3, dtype=M.complex64, **CPU)",
    "M.ones(2, dtype=M.cdouble, **CPU)",
    "M.full((2,), 1 - 2j, **CPU)",
    "M.full((2,), 1 + 2j, dtype=M.complex128, **CPU)",
    "M.full((2,), 3, dtype=M.cfloat, **CPU)",
    "M.full((2,), True, dtype=M.cfloat, **CPU)",
    "M.full((2,), 1 + 0j, dtype=M.float32, **CPU)",
    "M.full((2,), 1 + 0j, dtype=M.int64, **CPU)",
    "M.full((2,), 1 + 1j, dtype=M.bool, **CPU)",
    "M.full((2,), 0j, dtype=M.bool, **CPU)",
    "M.full((2,), M.tensor(1j), **CPU)",
    "M.full_like(M.zeros(2, dtype=M.cfloat, **CPU), 1j)",
    "M.full_like(M.zeros(2, dtype=M.cfloat, **CPU), 2.5)",
    "M.zeros_like(M.zeros(2, **CPU), dtype=M.cfloat)",
    "M.ones_like(M.zeros(2, dtype=M.cdouble, **CPU))",
    "M.eye(2, 3, dtype=M.complex128, **CPU)",
    "M.zeros(2, dtype=M.cfloat, **CPU).new_full((3,), 1j)",
    "M.zeros(2, dtype=M.cfloat, **CPU).new_ones((2,))",
    "M.zeros(2, dtype=M.cfloat, **CPU).new_zeros(2)",
    "M.zeros(2, dtype=M.cdouble, **CPU).new_tensor([1j, 2])",
    "M.zeros(2, **CPU).new_tensor([1j], dtype=M.cfloat)",
    "M.tensor([1, 2.5, 1j], **CPU)",
    "M.tensor([[1j], [2]], **CPU)",
    "M.tensor([M.tensor(1j), M.tensor(2.0)], **CPU)",
    "M.tensor([1.0, 2.0], dtype=M.complex64, **CPU)",
    "M.tensor([1j, 0], dtype=M.bool, **CPU)",
    "M.tensor(np.array([1 + 2j]), **CPU)",
    "M.tensor(np.array([1 + 2j], dtype=np.complex64), **CPU)",
    "M.tensor(np.complex64(1 + 2j), **CPU)",
    "M.tensor(np.complex128(1 + 2j), **CPU)",
    "M.tensor(np.array([1 + 2j]), dtype=M.float32, **CPU)",
    "M.as_tensor([1 + 2j], dtype=M.complex128, **CPU)",
    "M.as_tensor(np.array([1.0, 2.0]), dtype=M.complex64, **CPU)",
    "M.from_numpy(np.array([[1 + 2j, 3j]], dtype=np.complex64))",
    "M.linspace(0, 1 + 1j, 3, **CPU)",
    "M.linspace(1j, 2 + 3j, 4, dtype=M.complex128, **CPU)",
    "M.linspace(0, 1, 3, dtype=M.cfloat, **CPU)",
    "M.linspace(M.tensor(1j), 2, 3, **CPU)",
    "M.linspace(0, 3 + 0j, 2, **CPU)",
    "M.linspace(1 + 2j, 5j, 1, **CPU)",
    "M.linspace(0, 1, 3, out=M.zeros(3, dtype=M.cfloat, **CPU))",
    "M.logspace(0, 1j, 3, **CPU)",
    "M.logspace(0, 1j, 3, base=2, dtype=M.complex128, **CPU)",
    "M.logspace(0, 1, 3, dtype=M.cfloat, **CPU)",
    "M.logspace(0, 1j, 0, **CPU)",
    "M.arange(0, 3 + 0j, **CPU)",
])
def test_creation_matches_torch(expr):
    got, want = _both(expr)
    _same(got, want, 1e-6)


def test_complex_values_follow_the_default_dtype():
    flambeau.set_default_dtype(flambeau.float64)
    try:
        assert flambeau.full((1,), 1j).dtype is CD
        assert flambeau.tensor([1j]).dtype is CD
        assert flambeau.linspace(0, 1j, 2).dtype is CD
        assert flambeau.logspace(0, 1j, 2).dtype is CD
    finally:
        flambeau.set_default_dtype(flambeau.float32)
    assert flambeau.full((1,), 1j).dtype is CF
    assert flambeau.full((1,), np.complex128(1j)).dtype is CF
    # on the default device (FLAMBEAU_TEST_DEVICE's, if set)
    z = flambeau.full((2, 2), 3 - 1j)
    assert z.device == flambeau.get_default_device() or z.device.type == "cpu"
    assert z.cpu().tolist() == [[3 - 1j, 3 - 1j]] * 2


@pytest.mark.parametrize("name", sorted(CPP_NAMES))
def test_complex_fill_into_a_real_dtype_raises_as_torch(name):
    msg = f"value cannot be converted to type {CPP_NAMES[name]} without overflow"
    _raises_as_torch(f"M.full((2,), 1j, dtype=M.{name}, **CPU)", RuntimeError, msg)
    _raises_as_torch(f"M.full((2,), complex(1, float('nan')), dtype=M.{name}, **CPU)",
                     RuntimeError, msg)
    _raises_as_torch(f"M.zeros(2, dtype=M.{name}, **CPU).fill_(2j)", RuntimeError, msg)


@pytest.mark.parametrize("expr", [
    "M.full_like(M.zeros(2, **CPU), 1j)",
    "M.zeros(2, **CPU).new_full((2,), 1j)",
    "M.zeros(3, **CPU).masked_fill(M.tensor([True, False, False]), 1j)",
    "M.zeros(3, **CPU).masked_fill(M.tensor([True, False, False]), M.tensor(1j))",
    "M.zeros(3, **CPU).scatter(0, M.tensor([1]), 1j)",
    "M.zeros(2, 2, **CPU).fill_diagonal_(1j)",
    "M.arange(0, 1j, 1, **CPU)",
    "M.arange(0, 3, 1j, **CPU)",
])
def test_complex_scalars_into_real_tensors_raise_as_torch(expr):
    msg = "value cannot be converted to type (float|double) without overflow"
    _raises_as_torch(expr, RuntimeError, msg)


def test_complex_scalars_with_a_zero_imaginary_part_fill_real_tensors():
    for expr in ("M.zeros(2, **CPU).fill_(2 + 0j)",
                 "M.zeros(2, dtype=M.int64, **CPU).masked_fill(M.tensor([True, False]), 1 + 0j)",
                 "M.zeros(3, **CPU).masked_fill(M.tensor([True, False, False]), M.tensor(2+0j))",
                 "M.zeros(2, dtype=M.cfloat, **CPU).fill_(M.tensor(1j))",
                 "M.zeros(2, 2, dtype=M.cfloat, **CPU).fill_diagonal_(1j)",
                 "M.zeros(3, dtype=M.cfloat, **CPU).index_fill(0, M.tensor([1]), M.tensor(1j))"):
        got, want = _both(expr)
        _same(got, want)
    # a complex tensor's imaginary part is dropped with torch's warning
    with pytest.warns(UserWarning, match="Casting complex values to real discards"):
        out = flambeau.zeros(2).fill_(flambeau.tensor(2 + 3j))
    assert out.tolist() == [2.0, 2.0]


def test_creation_errors_match_torch():
    _raises_as_torch("M.zeros(2, **CPU).new_tensor([1j])", TypeError,
                     "must be real number, not complex")
    _raises_as_torch("M.tensor([[1, 1j]], dtype=M.float64, **CPU)", TypeError,
                     "must be real number, not complex")
    _raises_as_torch("M.tensor([1j, 2], dtype=M.int64, **CPU)", TypeError,
                     "'complex' object cannot be interpreted as an integer")
    _raises_as_torch("M.arange(3, dtype=M.complex128, **CPU)", NotImplementedError,
                     "\"arange_cpu\" not implemented for 'ComplexDouble'")
    _raises_as_torch("M.zeros(3, **CPU).index_fill(0, M.tensor([1]), 1j)", RuntimeError,
                     r"index_fill_\(\): Converting complex Scalar to non-complex type")
    for op in ("linspace", "logspace"):
        with pytest.raises(RuntimeError, match=rf"{op}\(\): complex endpoints 0 and 1j give "
                                               r"flambeau.complex64, which can't be safely cast "
                                               r"to the passed dtype flambeau.float32"):
            getattr(flambeau, op)(0, 1j, 3, dtype=flambeau.float32)
        with pytest.raises(RuntimeError, match="can't be safely cast"):
            getattr(torch, op)(0, 1j, 3, dtype=torch.float32)


@pytest.mark.host_only
def test_from_numpy_and_as_tensor_share_complex_memory():
    a = np.array([1 + 2j, 3j], dtype=np.complex128)
    t, s, c = flambeau.from_numpy(a), flambeau.as_tensor(a), flambeau.tensor(a)
    a[0] = -1j
    assert t.dtype is CD and t[0].item() == -1j and s[0].item() == -1j and c[0].item() == 1 + 2j
    t[1] = 5 + 5j
    assert a[1] == 5 + 5j
    assert np.shares_memory(t.numpy(), a)


# ------------------------------------------------------------------ random


def test_randn_is_standard_complex_normal():
    flambeau.manual_seed(0)
    for dt in COMPLEX:
        z = flambeau.randn(200000, dtype=dt)
        assert z.dtype is dt
        # torch: real and imaginary parts each N(0, 1/2), so E|z|^2 = 1
        for part in (z.real, z.imag):
            assert abs(part.mean().item()) < 0.01
            assert abs(part.var().item() - 0.5) < 0.01
        assert abs((z.abs() ** 2).mean().item() - 1) < 0.01
    ref = torch.randn(200000, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    assert abs(ref.real.var().item() - 0.5) < 0.01  # what the statistics above mirror


def test_rand_draws_both_parts_uniformly():
    flambeau.manual_seed(0)
    z = flambeau.rand(3, 100000, dtype=CD)
    for part in (z.real, z.imag):
        assert 0 <= part.min().item() and part.max().item() < 1
        assert abs(part.mean().item() - 0.5) < 0.01
    assert abs(z.real.var().item() - 1 / 12) < 0.005
    like = flambeau.rand_like(z), flambeau.randn_like(z)
    assert all(t.dtype is CD and t.shape == z.shape for t in like)
    assert bool((like[1].imag != 0).all())


def test_complex_draws_are_reproducible():
    for draw in (lambda **kw: flambeau.randn(2, 3, dtype=CF, **kw),
                 lambda **kw: flambeau.rand(4, dtype=CD, **kw),
                 lambda **kw: flambeau.zeros(5, dtype=CF).normal_(**kw),
                 lambda **kw: flambeau.zeros(5, dtype=CD).uniform_(-1, 1, **kw)):
        flambeau.manual_seed(123)
        a = draw()
        flambeau.manual_seed(123)
        b = draw()
        g = flambeau.Generator(a.device)
        c = draw(generator=g.manual_seed(5))
        d = draw(generator=g.manual_seed(5))
        assert bool((a == b).all()) and bool((c == d).all()) and not bool((a == c).all())
    # a complex draw of n values uses the stream of 2n real draws of its parts' dtype
    flambeau.manual_seed(9)
    z = flambeau.rand(3, dtype=CF, device="cpu")
    flambeau.manual_seed(9)
    pairs = flambeau.rand(3, 2, dtype=flambeau.float32, device="cpu")
    assert flambeau.view_as_real(z).tolist() == pairs.tolist()


def test_in_place_normal_and_uniform_match_torch_statistics():
    flambeau.manual_seed(0)
    torch.manual_seed(0)
    for lib in (flambeau, torch):
        z = lib.zeros(200000, dtype=lib.complex64).normal_(1.0, 2.0)
        # both parts have mean `mean` and variance std**2 / 2
        assert abs(z.real.mean().item() - 1) < 0.02 and abs(z.imag.mean().item() - 1) < 0.02
        assert abs(z.real.var().item() - 2) < 0.05 and abs(z.imag.var().item() - 2) < 0.05
        u = lib.zeros(100000, dtype=lib.complex128).uniform_(2, 3)
        for part in (u.real, u.imag):
            assert 2 <= part.min().item() and part.max().item() < 3
            assert abs(part.mean().item() - 2.5) < 0.01
        n = lib.normal(lib.zeros(100000, dtype=lib.complex64), 2.0)
        assert n.dtype == lib.complex64 and abs(n.imag.var().item() - 2) < 0.05
        n = lib.normal(0.0, 2.0, (100000,), dtype=lib.complex64)
        assert n.dtype == lib.complex64 and abs(n.real.var().item() - 2) < 0.05
    z = flambeau.zeros(3, dtype=CF, requires_grad=True) * 1
    z.normal_()
    assert z.grad_fn is not None and bool((z.imag != 0).all())


@pytest.mark.parametrize("expr, exc, match", [
    ("M.zeros(3, dtype=M.cdouble, **CPU).exponential_()", RuntimeError,
     "Exponential distribution is a continuous probability distribution. dtype must be a "
     "floating point but you specified ComplexDouble"),
    ("M.zeros(3, dtype=M.cdouble, **CPU).cauchy_()", RuntimeError,
     r"you specified c10::complex<double>"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).bernoulli_()", NotImplementedError,
     "\"bernoulli_scalar_cpu_\" not implemented for 'ComplexFloat'"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).log_normal_()", NotImplementedError,
     "\"log_normal_cpu\" not implemented for 'ComplexFloat'"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).geometric_(0.5)", NotImplementedError,
     "\"geometric_cpu\" not implemented for 'ComplexFloat'"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).random_(0, 5)", RuntimeError,
     "check_random_bounds handles only integral, floating-point and boolean types"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).normal_(0, -1)", RuntimeError,
     "normal expects std >= 0.0, but found std -1"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).uniform_(2, 1)", RuntimeError,
     r"uniform_ expects to return a \[from, to\) range, but found from=2 > to=1"),
    ("M.zeros(3, dtype=M.cfloat, **CPU).normal_(1j, 1)", TypeError,
     "argument 'mean'.* must be float, not complex"),
    ("M.randint(0, 3, (2,), dtype=M.cfloat, **CPU)", RuntimeError,
     "check_random_bounds handles only integral, floating-point and boolean types"),
    ("M.randint_like(M.zeros(3, dtype=M.cfloat, **CPU), 3)", RuntimeError,
     "check_random_bounds handles only integral"),
    ("M.randperm(3, dtype=M.cfloat, **CPU)", NotImplementedError,
     "\"randperm\" not implemented for 'ComplexFloat'"),
    ("M.bernoulli(M.zeros(3, dtype=M.cfloat, **CPU))", NotImplementedError,
     "\"bernoulli_tensor_cpu_self_\" not implemented for 'ComplexFloat'"),
    ("M.bernoulli(M.zeros(3, dtype=M.cfloat, **CPU), 0.5)", NotImplementedError,
     "\"bernoulli_scalar_cpu_\" not implemented for 'ComplexFloat'"),
    ("M.poisson(M.zeros(3, dtype=M.cfloat, **CPU))", NotImplementedError,
     "\"poisson_cpu\" not implemented for 'ComplexFloat'"),
    ("M.multinomial(M.ones(3, dtype=M.cfloat, **CPU), 1)", RuntimeError,
     "multinomial only supports floating-point dtypes for input"),
    ("M.normal(M.zeros(3, **CPU), M.ones(3, dtype=M.cfloat, **CPU))", RuntimeError,
     "normal expects standard deviation to be non-complex"),
])
def test_samplers_without_complex_versions_raise_as_torch(expr, exc, match):
    _raises_as_torch(expr, exc, match)


# ------------------------------------------------------------------ Python conversions, types


def test_python_conversions_match_torch():
    for expr in ("M.tensor(1 + 2j, **CPU).item()", "M.tensor(1 / 3 + 1j, **CPU).item()",
                 "M.tensor(1 / 3 + 1j, dtype=M.complex128, **CPU).item()",
                 "M.tensor([[1j, 2], [3, 4j]], dtype=M.cdouble, **CPU).tolist()",
                 "complex(M.tensor(1 + 2j, **CPU))", "complex(M.tensor(1.5, **CPU))",
                 "complex(M.tensor(3, **CPU))", "float(M.tensor(1 + 0j, **CPU))",
                 "int(M.tensor(2.7 + 0j, **CPU))", "bool(M.tensor(0j, **CPU))",
                 "bool(M.tensor([1j], **CPU))", "'{:.2f}'.format(M.tensor(1.5 + 2j, **CPU))",
                 "M.tensor([1j, 2], **CPU).element_size()",
                 "M.tensor([1j, 2], dtype=M.cdouble, **CPU).element_size()",
                 "M.tensor([1j, 2], dtype=M.cdouble, **CPU).nbytes",
                 "M.tensor([1j], **CPU).is_floating_point()",
                 "M.tensor([1j], **CPU).is_complex()",
                 "M.is_floating_point(M.zeros(1, dtype=M.cfloat, **CPU))",
                 "M.tensor([1j, 0, 2], **CPU).bool().tolist()"):
        got, want = _both(expr)
        assert got == want and type(got) is type(want), expr
    z = flambeau.tensor([1 + 2j], requires_grad=True)
    arr = z.detach().cpu().numpy()
    assert arr.dtype == np.complex64 and arr.tolist() == [1 + 2j]
    with pytest.raises(RuntimeError, match="can't be converted to a real number"):
        float(flambeau.tensor(1 + 2j))
    with pytest.raises(RuntimeError, match="can't be converted to an integer"):
        int(flambeau.tensor(1 + 2j))
    with pytest.raises(RuntimeError):
        int(torch.tensor(1 + 2j))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][flambeau.tensor(1 + 0j)]


def test_legacy_type_names():
    for dt, name in ((CF, "ComplexFloatTensor"), (CD, "ComplexDoubleTensor")):
        t = flambeau.zeros(2, dtype=dt, device="cpu")
        assert t.type() == f"flambeau.{name}" == flambeau.typename(t)
        assert torch.zeros(2, dtype=getattr(torch, dt.name)).type() == f"torch.{name}"
        for spelling in (f"torch.{name}", f"flambeau.{name}"):
            out = flambeau.ones(2).type(spelling)
            assert out.dtype is dt and out.tolist() == [1, 1]
    # as torch: the names work, but there is no class to call
    assert not hasattr(flambeau, "ComplexFloatTensor") and not hasattr(torch,
                                                                      "ComplexFloatTensor")
    with pytest.raises(TypeError, match="only floating-point types"), pytest.warns(
            UserWarning, match="deprecated"):
        flambeau.set_default_tensor_type("torch.ComplexFloatTensor")  # torch: AttributeError
    assert flambeau.get_default_dtype() is flambeau.float32
    assert pickle.loads(pickle.dumps(flambeau.cfloat)) is CF
    assert pickle.loads(pickle.dumps(flambeau.cdouble)) is CD


# ------------------------------------------------------------------ shape and indexing


_MASK = "M.tensor([[True, False, True], [False, True, True]])"
SHAPE_OPS = {
    "reshape": "z.reshape(3, 2)", "view": "z.view(6)", "t": "z.t()",
    "permute": "z.permute(1, 0)", "flip": "z.flip(1)", "roll": "z.roll(1, 1)",
    "cat": "M.cat([z, z * 2], 0)", "cat_real": "M.cat([z, M.ones(1, 3, **CPU)], 0)",
    "stack": "M.stack([z, z], 0)", "hstack": "M.hstack([z, z])",
    "gather": "z.gather(1, M.tensor([[0, 0], [2, 1]]))",
    "scatter": "M.zeros(2, 4, dtype=M.cfloat, **CPU).scatter(1, M.tensor([[0, 1, 3], "
               "[3, 2, 0]]), z)",
    "scatter_value": "z.scatter(1, M.tensor([[0], [2]]), 5j)",
    "scatter_add": "M.zeros(2, 4, dtype=M.cfloat, **CPU).scatter_add(1, M.tensor([[0, 0, 3], "
                   "[3, 2, 0]]), z)",
    "index_select": "z.index_select(1, M.tensor([2, 0, 2]))",
    "index_add": "M.zeros(2, 2, dtype=M.cfloat, **CPU).index_add(1, M.tensor([0, 1, 0]), z)",
    "index_fill": "z.index_fill(1, M.tensor([1]), 3j)",
    "index_copy": "z.index_copy(1, M.tensor([1]), M.ones(2, 1, dtype=M.cfloat, **CPU))",
    "masked_fill": f"z.masked_fill({_MASK}, 1j)",
    "masked_select": f"z.masked_select({_MASK})",
    "masked_scatter": f"M.zeros(2, 3, dtype=M.cfloat, **CPU).masked_scatter({_MASK}, z)",
    "where": f"M.where({_MASK}, z, 2j)",
    "where_real": f"M.where({_MASK}, z, M.ones(2, 3, **CPU))",
    "index_put": "z.index_put((M.tensor([0, 1]), M.tensor([1, 2])), M.tensor([7j, 8]))",
    "index_put_acc": "z.index_put((M.tensor([0, 0]), M.tensor([1, 1])), M.tensor([7j, 8]), "
                     "accumulate=True)",
    "advanced": "z[M.tensor([1, 0, 1]), M.tensor([2, 2, 0])]",
    "bool_mask": f"z[{_MASK}]",
    "slice": "z[:, 1:]", "expand": "z[:1].expand(3, 3)", "repeat": "z.repeat(2, 1)",
    "tile": "z.tile(2)", "broadcast_to": "z.broadcast_to(2, 2, 3)", "tril": "z.tril()",
    "diagonal": "z.diagonal()", "diag_embed": "M.diag_embed(z)", "narrow": "z.narrow(1, 1, 2)",
    "split": "z.split(1, 1)[1]", "unbind": "z.unbind(0)[1]", "movedim": "z.movedim(0, 1)",
    "take": "z.take(M.tensor([5, 0]))",
    "take_along_dim": "M.take_along_dim(z, M.tensor([[1], [0]]), 1)",
    "unfold": "z.unfold(1, 2, 1)", "rot90": "z.rot90()", "unflatten": "z.unflatten(1, (3, 1))",
    "repeat_interleave": "z.repeat_interleave(2, 0)", "chunk": "z.chunk(3, 1)[2]",
    "as_strided": "z.as_strided((2, 2), (1, 2))",
    "diagonal_scatter": "M.diagonal_scatter(z, M.ones(2, dtype=M.cfloat, **CPU))",
    "view_as_real": "M.view_as_real(z)",
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_and_indexing_ops_forward_and_backward_match_torch(name):
    results = []
    for lib in (flambeau, torch):
        with lib.device("cpu"):  # compared with torch's CPU tensors
            results.append(_forward_backward(lib, SHAPE_OPS[name]))
    (out, grad), (t_out, t_grad) = results
    _same(out, t_out)
    _same(grad, t_grad)


def _forward_backward(lib, expr):
    z = lib.tensor([[1 + 2j, 3 - 1j, 0.5j], [2, -1j, 1 + 1j]], requires_grad=True)
    out = eval(expr, {"M": lib, "z": z, "CPU": {"device": "cpu"}})
    # a real loss, linear in both parts with different weights: d/dz = a + ib per element
    n = out.numel()
    a = lib.arange(n, dtype=lib.float32).reshape(out.shape) * 0.5 + 1
    b = lib.arange(n, dtype=lib.float32).reshape(out.shape) * -0.25 + 2
    loss = (out.real * a).sum() + (out.imag * b).sum() if out.is_complex() else (out * a).sum()
    loss.backward()
    return out, z.grad


def _set(x, index, value):
    x[index] = value
    return x


@pytest.mark.parametrize("index, value", [
    ("0", "1j"), ("(0, 1)", "2 - 1j"), ("1", "M.tensor([5j, 1, 2], dtype=M.cfloat)"),
    ("slice(0, 2)", "M.tensor([1.0, 2.0, 3.0])"), ("M.tensor([True, False])", "3j"),
    ("(M.tensor([0, 1]), M.tensor([2, 0]))", "3 + 4j"), ("Ellipsis", "7"),
    ("(slice(None), 1)", "M.tensor([1j, -1j], dtype=M.cdouble)"),
])
def test_setitem_with_complex_values_matches_torch(index, value):
    results = []
    for lib in (flambeau, torch):
        scope = {"M": lib}
        leaf = lib.tensor([[1 + 2j, 3 - 1j, 0.5j], [2, -1j, 1 + 1j]], requires_grad=True,
                          device="cpu")
        x = leaf * 1
        with lib.device("cpu"):
            _set(x, eval(index, scope), eval(value, scope))
        (x.real * 2 + x.imag * 3).sum().backward()
        results.append((x, leaf.grad))
    _same(results[0][0], results[1][0])
    _same(results[0][1], results[1][1])


def test_setitem_on_the_default_device():
    x = flambeau.zeros(2, 3, dtype=CF)
    x[0, 1] = 1j
    x[1] = flambeau.tensor([1, 2j, 3], dtype=CF)
    x[x.real > 2] = 9 - 9j
    assert x.cpu().tolist() == [[0j, 1j, 0j], [1 + 0j, 2j, 9 - 9j]]
    y = flambeau.zeros(2, dtype=flambeau.int32)
    y[0] = 2.5 + 0j
    assert y.tolist() == [2, 0]


@pytest.mark.parametrize("index", ["0", "M.tensor([0, 1])", "M.tensor([True, False, True])"])
def test_setitem_of_a_complex_number_into_a_real_tensor_raises_as_torch(index):
    for lib in (flambeau, torch):
        x = lib.zeros(3, device="cpu")
        with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                               "overflow"):
            with lib.device("cpu"):
                where = eval(index, {"M": lib})
            x[where] = 1j
        assert x.tolist() == [0, 0, 0]
        x[...] = 1 + 0j
        assert x.tolist() == [1, 1, 1]


@pytest.mark.parametrize("expr", [
    "M.tensor([1 + 2j, 3 + 4j], **CPU).view(M.float32)",
    "M.tensor([1., 2, 3, 4], **CPU).view(M.complex64)",
    "M.tensor([[1., 2, 3, 4]], **CPU).view(M.complex128)",
    "M.tensor([1 + 2j], dtype=M.complex128, **CPU).view(M.float32)",
    "M.tensor([1 + 2j, 3 + 4j], **CPU).view(M.float64)",
    "M.tensor([1 + 2j, 3 + 4j], **CPU).view(M.complex128)",
    "M.tensor([1 + 2j], **CPU).view(M.int16)",
    "M.tensor(1 + 2j, **CPU).view(M.float64)",
    "M.zeros(4, 4, **CPU)[:, :2].view(M.complex64)",
    "M.zeros(1, 4, **CPU).view(M.complex64)",
    "M.zeros(0, **CPU).view(M.complex64)",
    "M.zeros(8, dtype=M.float16, **CPU).view(M.complex128)",
])
def test_view_dtype_matches_torch(expr):
    got, want = _both(expr)
    _same(got, want)
    z = flambeau.zeros(2, dtype=CF)
    z.view(flambeau.float32)[1] = 5.0  # a view: writes show through
    assert z.cpu().tolist() == [5j, 0j]
    assert not flambeau.zeros(2, dtype=CF, requires_grad=True).view(flambeau.float32) \
        .requires_grad  # as torch: view(dtype) is not differentiable


@pytest.mark.parametrize("expr, match", [
    ("M.tensor(1 + 2j, **CPU).view(M.float32)",
     r"self.dim\(\) cannot be 0 to view ComplexFloat as Float \(different element sizes\)"),
    ("M.tensor([1., 2, 3], **CPU).view(M.complex64)",
     r"self.size\(-1\) must be divisible by 2 to view Float as ComplexFloat \(different "
     r"element sizes\), but got 3"),
    ("M.tensor([[1., 2], [3, 4]], **CPU).t().view(M.complex64)",
     r"self.stride\(-1\) must be 1 to view Float as ComplexFloat"),
    ("M.zeros(3, 2, dtype=M.cfloat, **CPU).t().view(M.int8)",
     r"self.stride\(-1\) must be 1 to view ComplexFloat as Char"),
    ("M.tensor([1., 2, 3, 4, 5, 6], **CPU)[1:5].view(M.complex64)",
     r"self.storage_offset\(\) must be divisible by 2 .* but got 1"),
    ("M.zeros(3, 3, **CPU)[:, :2].view(M.complex64)",
     r"self.stride\(0\) must be divisible by 2 to view Float as ComplexFloat .* but got 3"),
])
def test_view_dtype_errors_match_torch(expr, match):
    _raises_as_torch(expr, RuntimeError, match)


# ------------------------------------------------------------------ save / load


def _roundtrip(obj, path):
    flambeau.save(obj, path)
    return flambeau.load(path)


def test_save_load_round_trips_complex_tensors_exactly(tmp_path):
    values = [1 / 3 + 1e-300j, -0.0 - 2.5j, float("inf") + 1j, complex(float("nan"), -1)]
    c128 = flambeau.tensor(values, dtype=CD)
    obj = {
        "c64": flambeau.tensor([[1 / 3 + 2j, -1j]]),
        "c128": c128,
        "scalar": flambeau.tensor(1e-310 + 3j, dtype=CD),
        "strided": flambeau.tensor([[1j, 2, 3 + 3j]], dtype=CD).t()[::2],
        "empty": flambeau.zeros(0, 3, dtype=CD),
        "grad": flambeau.tensor([1 + 1j], dtype=CD, requires_grad=True),
        "array": np.array(values, dtype=np.complex128),
        "np_scalar": np.complex128(2 - 1j),
        "np64": np.array([1j], dtype=np.complex64),
        "dtypes": (flambeau.cfloat, flambeau.complex128),
        "shared": [c128, c128],
    }
    out = _roundtrip(obj, tmp_path / "ckpt.pt")
    for key in ("c64", "c128", "scalar", "strided", "empty", "grad"):
        a, b = obj[key], out[key]
        assert b.dtype is a.dtype and b.shape == a.shape
        np.testing.assert_array_equal(b.detach().cpu().numpy(), a.detach().cpu().numpy())
    assert out["grad"].requires_grad and out["grad"].is_leaf
    got = out["c128"].cpu().numpy()
    assert got.tobytes() == c128.cpu().numpy().tobytes()  # bit for bit, NaN and -0.0 too
    assert out["array"].dtype == np.complex128 and out["array"].tobytes() == \
        obj["array"].tobytes()
    assert type(out["np_scalar"]) is np.complex128 and out["np_scalar"] == 2 - 1j
    assert out["np64"].dtype == np.complex64
    assert out["dtypes"] == (CF, CD)
    assert out["shared"][0] is out["shared"][1] is out["c128"]


def test_complex128_is_stored_as_marked_float64_pairs(tmp_path):
    path = tmp_path / "ckpt.pt"
    flambeau.save({"w": flambeau.tensor([[1 + 2j], [3 - 4j]], dtype=CD),
                   "v": flambeau.tensor([1j])}, path)
    loaded = st_numpy.load_file(str(path))  # any safetensors reader sees the parts
    assert loaded["w"].dtype == np.float64 and loaded["w"].shape == (2, 1, 2)
    assert loaded["w"].tolist() == [[[1, 2]], [[3, -4]]]
    assert loaded["v"].dtype == np.complex64  # safetensors' own C64
    with open(path, "rb") as fh:
        data = fh.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    assert header["w"]["dtype"] == "F64" and header["v"]["dtype"] == "C64"
    structure = json.loads(header["__metadata__"][STRUCTURE_KEY])
    nodes = dict((k, v) for k, v in structure["$dict"])
    assert nodes["w"]["complex"] == "complex128" and "complex" not in nodes["v"]


def test_a_corrupt_complex_marker_is_refused(tmp_path):
    arrays = {"w": np.zeros(3, dtype=np.float64)}  # no trailing dim of 2
    structure = {"$dict": [["w", {"$tensor": "w", "device": "cpu", "requires_grad": False,
                                  "complex": "complex128"}]]}
    data = st_numpy.save(arrays, metadata={"format": "pt", STRUCTURE_KEY: json.dumps(structure)})
    with pytest.raises(CheckpointError, match="corrupt checkpoint structure"):
        flambeau.load(io.BytesIO(data))


def test_plain_safetensors_takes_complex64_and_refuses_complex128(tmp_path):
    from safetensors.torch import load_file

    path = tmp_path / "w.safetensors"
    z = flambeau.tensor([1 + 2j, -3j])
    flambeau.save({"z": z}, path)
    assert flambeau.load(path)["z"].tolist() == z.tolist()
    assert load_file(str(path))["z"].tolist() == [1 + 2j, -3j]  # torch reads it
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"tensor 'w' is complex128, which safetensors has no "
                                        r"dtype for.*\.pt"):
        flambeau.save({"z": z, "w": flambeau.zeros(2, dtype=CD)}, path)
    assert path.read_bytes() == before  # nothing written, not even a temporary file
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


def test_loads_torch_files_with_complex_tensors(tmp_path):
    base = torch.tensor([1 + 2j, 3 + 4j, 5 + 6j])
    obj = {"c64": torch.tensor([[1 + 2j, -1j]]),
           "c128": torch.tensor([[1 / 3 + 1j, 2]], dtype=torch.complex128).t(),
           "view": base[1:], "base": base,
           "half": torch.tensor([[1 + 1j, 0.5 - 2j], [3, 4j]], dtype=torch.chalf).t(),
           "dtypes": [torch.cfloat, torch.complex128, torch.chalf],
           "param": torch.nn.Parameter(torch.tensor([1j]))}
    for zipped in (True, False):
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: ComplexHalf support is experimental
            torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
        buf.seek(0)
        out = flambeau.load(buf, map_location="cpu")
        _same(out["c64"], obj["c64"])
        _same(out["c128"], obj["c128"])
        _same(out["view"], obj["view"])
        # NumPy has no complex32: torch's complex32 loads as complex64, values exact
        assert out["half"].dtype is CF
        assert out["half"].tolist() == obj["half"].to(torch.complex64).tolist()
        assert out["dtypes"] == [CF, CD, CF]
        assert out["param"].requires_grad and out["param"].dtype is CF
        out["base"][1] = 0
        assert out["view"][0].item() == 0  # one storage in torch, one memory here


# ------------------------------------------------------------------ DLPack


@pytest.mark.host_only
@pytest.mark.parametrize("dt", COMPLEX, ids=lambda d: d.name)
def test_dlpack_shares_complex_memory_with_numpy_and_torch(dt):
    x = flambeau.tensor([1 + 2j, 3 - 1j], dtype=dt, device="cpu")
    t = torch.from_dlpack(x)
    assert str(t.dtype) == f"torch.{dt.name}"
    t[0] = 9j
    assert x[0].item() == 9j
    n = np.from_dlpack(x)
    assert n.dtype == dt.np
    n[1] = -1
    assert x[1].item() == -1
    back = flambeau.from_dlpack(torch.tensor([1j, 2], dtype=getattr(torch, dt.name)))
    assert back.dtype is dt and back.tolist() == [1j, 2]
    src = torch.tensor([1 + 2j], dtype=getattr(torch, dt.name))
    y = flambeau.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    y[0] = 5j
    assert src.tolist() == [5j]
    z = torch.utils.dlpack.from_dlpack(flambeau.to_dlpack(x))
    z[1] = 7
    assert x[1].item() == 7
    a = np.array([1j, 2], dtype=dt.np)
    w = flambeau.from_dlpack(a)
    a[0] = 3
    assert w.tolist() == [3, 2]


# ------------------------------------------------------------------ testing utilities


@pytest.mark.parametrize("actual, expected, kwargs", [
    ("[1 + 1j]", "[1 + 1.000001j]", {}),
    ("[1 + 1j]", "[1 + 1.00001j]", {}),
    ("[1 + 1j]", "[1 + 1j + 2e-5]", {}),
    ("[1 + 1j]", "[1 + 1j + 1.2e-5 + 0.2e-5j]", {}),  # modulus: not close, parts apart would be
    ("[1 + 1j]", "[1 + 1.1j]", {}),
    ("[1 + 1j]", "[1 + 0j]", {}),
    ("[complex('inf+1j')]", "[complex('inf+1j')]", {}),
    ("[complex('inf+1j')]", "[complex('inf+2j')]", {}),
    ("[complex('nan+1j')]", "[complex('nan+1j')]", {}),
    ("[complex('nan+1j')]", "[complex('1+nanj')]", {"equal_nan": True}),
    ("[1j]", "[2j]", {"rtol": 1.0, "atol": 0.0}),
    ("[1j]", "[2j]", {"rtol": 0.4, "atol": 0.0}),
])
def test_assert_close_compares_complex_values_as_torch(actual, expected, kwargs):
    outcomes = []
    for lib, check in ((flambeau, assert_close), (torch, torch.testing.assert_close)):
        a, e = (lib.tensor(eval(v), device="cpu") for v in (actual, expected))
        try:
            check(a, e, **kwargs)
            outcomes.append(True)
        except AssertionError:
            outcomes.append(False)
    assert outcomes[0] == outcomes[1]


def test_assert_close_dtypes_numbers_and_messages():
    for lib, check in ((flambeau, assert_close), (torch, torch.testing.assert_close)):
        with pytest.raises(AssertionError, match="complex64"):
            check(lib.tensor([1j]), lib.tensor([1j], dtype=lib.complex128))
        with pytest.raises(AssertionError):
            check(lib.tensor([1 + 0j]), lib.tensor([1.0]))
        check(lib.tensor([1 + 0j]), lib.tensor([1.0]), check_dtype=False)
        with pytest.raises(AssertionError):
            check(lib.tensor([1 + 1j]), lib.tensor([1.0]), check_dtype=False)
        check(1 + 1j, 1 + 1j)
        with pytest.raises(AssertionError):
            check(1 + 1j, 1 + 2j)
        with pytest.raises(ValueError, match="'rtol' and 'atol'"):
            check(lib.tensor([1j]), lib.tensor([1j]), rtol=0)
    with pytest.raises(AssertionError, match=r"1 of 2 elements differ, greatest absolute "
                                             r"difference 0\.1 at index \(1,\)"):
        assert_close(flambeau.tensor([1j, 1 + 1j]), flambeau.tensor([1j, 1 + 1.1j]))
    assert_close(flambeau.zeros(2, dtype=CD), np.zeros(2, dtype=np.complex128))


@pytest.mark.parametrize("dt", COMPLEX, ids=lambda d: d.name)
def test_make_tensor_with_complex_dtypes(dt):
    flambeau.manual_seed(0)
    z = make_tensor(2000, dtype=dt, device="cpu")
    assert z.dtype is dt and z.shape == (2000,)
    for part in (z.real, z.imag):  # torch's default range for complex: each part in [-9, 9)
        assert -9 <= part.min().item() < -8 and 8 < part.max().item() < 9
    ref = torch.testing.make_tensor(2000, dtype=getattr(torch, dt.name), device="cpu")
    assert -9 <= ref.imag.min().item() < -8 and 8 < ref.imag.max().item() < 9
    z = make_tensor(3, 4, dtype=dt, device="cpu", low=-1, high=1, requires_grad=True,
                    noncontiguous=True)
    assert z.requires_grad and z.is_leaf and not z.is_contiguous()
    assert bool(((z.real >= -1) & (z.real < 1) & (z.imag >= -1) & (z.imag < 1)).all())
    z = make_tensor(5000, dtype=dt, device="cpu", low=0, high=1e-30, exclude_zero=True)
    assert not bool((z == 0).any())
    with pytest.raises(TypeError):
        make_tensor(3, dtype=dt, device="cpu", low=1j, high=2)
    with pytest.raises(TypeError):
        torch.testing.make_tensor(3, dtype=getattr(torch, dt.name), device="cpu", low=1j,
                                  high=2)


def test_the_conformance_suite_covers_complex_tensors():
    from flambeau.testing import conformance_checks

    assert "complex" in dict(conformance_checks())
    device = flambeau.get_default_device()
    assert run_conformance(device) == []


def test_index_put_of_a_complex_source_into_a_real_tensor_raises_as_torch():
    x = flambeau.zeros(3, device="cpu")
    for call in (lambda: x.index_put_((flambeau.tensor([0], device="cpu"),),
                                      flambeau.tensor([1j], device="cpu")),
                 lambda: flambeau.index_put(x, (flambeau.tensor([0], device="cpu"),),
                                            flambeau.tensor([1j], device="cpu"))):
        with pytest.raises(RuntimeError, match="Index put requires the source and destination "
                                               "dtypes match, got Float for the destination "
                                               "and ComplexFloat for the source"):
            call()
    assert x.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="Index put requires the source and destination"):
        torch.zeros(3).index_put_((torch.tensor([0]),), torch.tensor([1j]))

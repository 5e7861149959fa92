"""flambeau.frobenius_norm and nuclear_norm, torch's deprecated norms: values, gradients,
dtypes, the once-only warning and errors, compared with torch."""

import warnings

import numpy as np
import pytest

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()


def _r(*shape, seed=0, complex_=False):
    g = np.random.default_rng(seed)
    a = g.standard_normal(shape)
    return a + 1j * g.standard_normal(shape) if complex_ else a


CASES = [
    ("frobenius_norm", (3, 4), ([0, 1],), {}),
    ("frobenius_norm", (3, 4), ((1,), True), {}),
    ("frobenius_norm", (3, 4), (1,), {}),
    ("frobenius_norm", (2, 3, 4), ([0, 2],), {"keepdim": True}),
    ("frobenius_norm", (2, 3, 4), ([],), {}),
    ("nuclear_norm", (3, 4), (), {}),
    ("nuclear_norm", (3, 4), (True,), {}),
    ("nuclear_norm", (2, 3, 4), (), {}),
    ("nuclear_norm", (2, 3, 4), ([0, 2],), {}),
    ("nuclear_norm", (2, 3, 4), ([0, 2], True), {}),
]


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("name, shape, args, kwargs", CASES)
def test_values_and_gradients_as_torch(name, shape, args, kwargs, complex_):
    a = _r(*shape, complex_=complex_)
    x = flambeau.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = getattr(flambeau, name)(x, *args, **kwargs)
    got.sum().backward()
    assert got.dtype == flambeau.float64
    if torch is not None:
        tx = torch.tensor(a, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = getattr(torch, name)(tx, *args, **kwargs)
        want.sum().backward()
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(),
                                   rtol=1e-10)
        np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-8,
                                   atol=1e-12)


@pytest.mark.parametrize("fn", [lambda x: flambeau.frobenius_norm(x, [0]),
                                lambda x: flambeau.nuclear_norm(x)])
def test_gradcheck(fn):
    x = flambeau.tensor(_r(3, 4), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_out_and_float32():
    x = flambeau.tensor(_r(3, 4), dtype=flambeau.float32)
    out = flambeau.empty(())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert flambeau.nuclear_norm(x, out=out) is out
        assert flambeau.frobenius_norm(x, [0, 1]).dtype == flambeau.float32
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(out.cpu().numpy(),
                                       torch.nuclear_norm(torch.tensor(x.cpu().numpy())),
                                       rtol=1e-5)


@pytest.mark.parametrize("name, args", [("frobenius_norm", ([0],)), ("nuclear_norm", ())])
def test_warns_once_as_torch(name, args):
    from flambeau import _toplevel_more

    _toplevel_more._warned_once.discard(name)
    x = flambeau.ones(2, 2)
    with pytest.warns(UserWarning, match=f"{name} is deprecated"):
        getattr(flambeau, name)(x, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(flambeau, name)(x, *args)  # once only


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.frobenius_norm(lib.ones(2, 2, 2), [0, 1, 2]),
     "Expected at most 2 dimensions, but got 3 dimensions instead"),
    (lambda lib: lib.frobenius_norm(lib.ones(2, 2, dtype=lib.int32), [0]),
     "(floating point|input dtype should be either floating point or complex)"),
    (lambda lib: lib.frobenius_norm(lib.ones(2, 2), [0, 0]), "appears multiple times"),
    (lambda lib: lib.nuclear_norm(lib.ones(2, 2), [0]),
     "linalg.matrix_norm: dim must be a (pair of dims|2-tuple)"),
    (lambda lib: lib.nuclear_norm(lib.ones(2, 2, dtype=lib.int32)),
     "linalg.matrix_norm: Expected a floating point|linalg.matrix_norm: expected a floating"),
])
def test_errors_as_torch(call, message):
    libs = (flambeau,) if torch is None else (flambeau, torch)
    for lib in libs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match=message):
                call(lib)


def test_frobenius_norm_needs_dim_as_torch():
    with pytest.raises(TypeError):
        flambeau.frobenius_norm(flambeau.ones(2, 2))

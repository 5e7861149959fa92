"""Hypothesis properties of flambeau.linalg: batching and broadcasting of solve, cross,
vector_norm (and friends) against NumPy computed matrix by matrix, and against torch when it
is installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import flambeau
from flambeau.testing._harness import torch_or_none

SETTINGS = settings(max_examples=40, deadline=None)
INF = float("inf")


def _rng(seed):
    return np.random.default_rng(seed)


def _wellcond(rng, shape):
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       n=st.integers(1, 4), k=st.integers(1, 3), vector=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_solve_broadcasts_batch_dims(batch, n, k, vector, seed):
    rng = _rng(seed)
    a_batch, b_batch = batch.input_shapes
    a = _wellcond(rng, a_batch + (n, n))
    b = rng.standard_normal(b_batch + ((n,) if vector and not b_batch else (n, k)))
    got = flambeau.linalg.solve(flambeau.tensor(a), flambeau.tensor(b))
    # torch's rule: B is a (batch of) vector(s) when it is 1-D, or when its shape is A's
    # without the last dim: B of shape (1, 1) against A of shape (1, 1, 1) is one vector
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        expected = np.linalg.solve(a, b[..., None])[..., 0]
    else:
        full = np.broadcast_shapes(a_batch, b_batch)
        aa = np.broadcast_to(a, full + (n, n)).reshape(-1, n, n)
        bb = np.broadcast_to(b, full + (n, k)).reshape(-1, n, k)
        expected = np.stack([np.linalg.solve(x, y) for x, y in zip(aa, bb)]).reshape(
            full + (n, k))
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-9, atol=1e-12)
    torch = torch_or_none()
    if torch is not None:
        t = torch.linalg.solve(torch.tensor(a), torch.tensor(b))
        assert tuple(t.shape) == tuple(got.shape)
        np.testing.assert_allclose(got.cpu().numpy(), t.cpu().numpy(), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
       n=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_solve_gradients_reduce_to_input_shapes(batch, n, seed):
    rng = _rng(seed)
    a_batch, b_batch = batch.input_shapes
    A = flambeau.tensor(_wellcond(rng, a_batch + (n, n)), requires_grad=True)
    B = flambeau.tensor(rng.standard_normal(b_batch + (n, 2)), requires_grad=True)
    flambeau.linalg.solve(A, B).sum().backward()
    assert A.grad.shape == A.shape and B.grad.shape == B.shape
    torch = torch_or_none()
    if torch is not None:
        tA = torch.tensor(A.detach().cpu().numpy(), requires_grad=True)
        tB = torch.tensor(B.detach().cpu().numpy(), requires_grad=True)
        torch.linalg.solve(tA, tB).sum().backward()
        np.testing.assert_allclose(A.grad.cpu().numpy(), tA.grad.cpu().numpy(), rtol=1e-8,
                                   atol=1e-11)
        np.testing.assert_allclose(B.grad.cpu().numpy(), tB.grad.cpu().numpy(), rtol=1e-8,
                                   atol=1e-11)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                max_side=3),
       seed=st.integers(0, 2 ** 16), data=st.data())
def test_cross_broadcasts_along_any_dim(shapes, seed, data):
    sa, sb = shapes.input_shapes
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb  # same ndim, as torch needs
    dim = data.draw(st.integers(-nd, nd - 1))
    sa, sb = list(sa), list(sb)
    sa[dim], sb[dim] = 3, 3
    rng = _rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    got = flambeau.linalg.cross(flambeau.tensor(a), flambeau.tensor(b), dim=dim)
    expected = np.cross(a, b, axis=dim)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-12, atol=1e-12)
    torch = torch_or_none()
    if torch is not None:
        t = torch.linalg.cross(torch.tensor(a), torch.tensor(b), dim=dim)
        np.testing.assert_allclose(got.cpu().numpy(), t.cpu().numpy(), rtol=1e-12, atol=1e-12)


def _norm_ref(x, ord, axes, keepdim):
    a = np.abs(x)
    if ord == INF:
        r = a.max(axis=axes, keepdims=keepdim)
    elif ord == -INF:
        r = a.min(axis=axes, keepdims=keepdim)
    elif ord == 0:
        r = (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    else:
        with np.errstate(divide="ignore"):
            r = (a ** ord).sum(axis=axes, keepdims=keepdim) ** (1 / ord)
    return np.asarray(r)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4),
       ord=st.sampled_from([2, 1, 3, 0.5, 0, -1, INF, -INF]), keepdim=st.booleans(),
       seed=st.integers(0, 2 ** 16), data=st.data())
def test_vector_norm_over_dim_subsets(shape, ord, keepdim, seed, data):
    x = _rng(seed).standard_normal(shape)
    nd = len(shape)
    if nd:
        dims = data.draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        dim = tuple(dims) if dims else None
    else:
        dim = None
    axes = dim if dim is not None else None
    got = flambeau.linalg.vector_norm(flambeau.tensor(x), ord=ord, dim=dim, keepdim=keepdim)
    expected = _norm_ref(x, ord, axes, keepdim)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-10)
    torch = torch_or_none()
    if torch is not None:
        t = torch.linalg.vector_norm(torch.tensor(x), ord=ord, dim=dim, keepdim=keepdim)
        assert tuple(t.shape) == tuple(got.shape)
        np.testing.assert_allclose(got.cpu().numpy(), t.cpu().numpy(), rtol=1e-10)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       ord=st.sampled_from([2, 1, 3, INF]), seed=st.integers(0, 2 ** 16))
def test_vector_norm_gradients_match_torch(shape, ord, seed):
    torch = pytest.importorskip("torch")
    x = _rng(seed).standard_normal(shape)
    fx = flambeau.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    flambeau.linalg.vector_norm(fx, ord=ord, dim=-1).sum().backward()
    torch.linalg.vector_norm(tx, ord=ord, dim=-1).sum().backward()
    np.testing.assert_allclose(fx.grad.cpu().numpy(), tx.grad.cpu().numpy(), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
       n=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_batched_results_are_per_matrix_results(batch, n, seed):
    a = _wellcond(_rng(seed), batch + (n, n))
    A = flambeau.tensor(a)
    flat = a.reshape(-1, n, n)
    la = flambeau.linalg
    dets = np.array([np.linalg.det(m) for m in flat]).reshape(batch)
    np.testing.assert_allclose(la.det(A).cpu().numpy(), dets, rtol=1e-10)
    invs = np.stack([np.linalg.inv(m) for m in flat]).reshape(a.shape)
    np.testing.assert_allclose(la.inv(A).cpu().numpy(), invs, rtol=1e-9, atol=1e-12)
    sym = a @ np.swapaxes(a, -1, -2)
    vals = np.stack([np.linalg.eigvalsh(m) for m in sym.reshape(-1, n, n)]).reshape(batch + (n,))
    np.testing.assert_allclose(la.eigvalsh(flambeau.tensor(sym)).cpu().numpy(), vals, rtol=1e-9)
    svals = np.stack([np.linalg.svd(m, compute_uv=False) for m in flat]).reshape(batch + (n,))
    np.testing.assert_allclose(la.svdvals(A).cpu().numpy(), svals, rtol=1e-9)
    exps = la.matrix_exp(A / n).cpu().numpy().reshape(-1, n, n)
    for m, e in zip(flat, exps):
        np.testing.assert_allclose(e, la.matrix_exp(flambeau.tensor(m / n)).cpu().numpy(),
                                   rtol=1e-12)

"""Hypothesis properties: broadcasting of binary ops, reductions and basic indexing vs NumPy."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import flambeau

SETTINGS = settings(max_examples=60, deadline=None)
BINARY = {
    "add": (lambda a, b: a + b, np.add), "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply), "maximum": (flambeau.maximum, np.maximum),
    "lt": (lambda a, b: a < b, np.less), "where": (
        lambda a, b: flambeau.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b)),
}


def _array(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 16))
def test_binary_broadcasting_matches_numpy(shapes, op, seed):
    a, b = _array(shapes.input_shapes[0], seed), _array(shapes.input_shapes[1], seed + 1)
    f_op, np_op = BINARY[op]
    got = f_op(flambeau.tensor(a), flambeau.tensor(b))
    assert tuple(got.shape) == shapes.result_shape == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(got.cpu().numpy(), np_op(a, b), rtol=1e-6)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcast_gradients_reduce_to_input_shapes(shapes, seed):
    a = flambeau.tensor(_array(shapes.input_shapes[0], seed), requires_grad=True)
    b = flambeau.tensor(_array(shapes.input_shapes[1], seed + 1), requires_grad=True)
    (a * b).sum().backward()
    want_a = np.broadcast_to(b.detach().cpu().numpy(), shapes.result_shape)
    axes = tuple(range(len(shapes.result_shape) - a.ndim))
    want_a = want_a.sum(axis=axes).reshape(-1) if axes else want_a.reshape(-1)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    if a.numel() == int(np.prod(shapes.result_shape)):
        np.testing.assert_allclose(a.grad.cpu().numpy().reshape(-1), want_a, rtol=1e-5, atol=1e-6)


REDUCTIONS = {
    "sum": (flambeau.sum, np.sum), "mean": (flambeau.mean, np.mean),
    "amax": (flambeau.amax, np.max), "amin": (flambeau.amin, np.min),
    "prod": (flambeau.prod, np.prod),
    "var": (lambda x, dim, keepdim: flambeau.var(x, dim, keepdim=keepdim, correction=0),
            np.var),
    "logsumexp": (flambeau.logsumexp, lambda a, axis, keepdims: np.log(
        np.sum(np.exp(a), axis=axis, keepdims=keepdims))),
}


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3),
       data=st.data(), name=st.sampled_from(sorted(REDUCTIONS)), keepdim=st.booleans())
def test_reductions_match_numpy(shape, data, name, keepdim):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    if name == "prod" and len(dims) > 1:
        dims = dims[:1]
    as_int = len(dims) == 1 and (name == "prod" or data.draw(st.booleans()))
    dim = dims[0] if as_int else tuple(dims)
    a = _array(shape, len(dims)).astype(np.float64)
    f_op, np_op = REDUCTIONS[name]
    got = f_op(flambeau.tensor(a), dim, keepdim=keepdim)
    axis = tuple(d % ndim for d in dims)
    want = np_op(a, axis=axis if name != "prod" else axis[0], keepdims=keepdim)
    assert tuple(got.shape) == np.shape(want)
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-10, atol=1e-12)


def _index_strategy(shape):
    def one(size):
        return st.one_of(
            st.integers(-size, size - 1),
            st.builds(slice, st.none() | st.integers(-size - 1, size + 1),
                      st.none() | st.integers(-size - 1, size + 1),
                      st.none() | st.integers(1, 3)),
        )

    items = [one(s) for s in shape]
    return st.tuples(*items).flatmap(lambda idx: st.sampled_from([
        idx, idx + (Ellipsis,), (None,) + idx, idx[:1] + (None,) + idx[1:],
        (Ellipsis,) + idx[1:]]))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_basic_indexing_matches_numpy(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    index = data.draw(_index_strategy(shape))
    t = flambeau.tensor(a)
    got = t[index]
    want = a[index]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.cpu().numpy(), want)
    if want.size and t.device.type == "cpu":  # views share memory (checked on the host)
        assert np.shares_memory(got.cpu().numpy(), t.cpu().numpy()) or want.ndim == 0


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_basic_index_assignment_matches_numpy(shape, data):
    a = np.zeros(shape)
    index = data.draw(_index_strategy(shape))
    t = flambeau.tensor(a)
    t[index] = 1.5
    a[index] = 1.5
    np.testing.assert_array_equal(t.cpu().numpy(), a)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4), data=st.data())
def test_integer_array_indexing_gradients_accumulate(shape, data):
    idx = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    x = flambeau.ones(shape, dtype=flambeau.float64, requires_grad=True)
    x[flambeau.tensor(idx)].sum().backward()
    counts = np.bincount(idx, minlength=shape[0]).astype(np.float64)
    want = np.broadcast_to(counts.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), want)

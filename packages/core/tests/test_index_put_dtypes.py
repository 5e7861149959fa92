"""``index_put``/``index_put_`` require the source's dtype to be the destination's, as in
PyTorch, except where PyTorch fills a boolean mask with a one-element source (not
accumulating); ``t[index] = value`` casts through basic subscripts and follows index_put's
rule through advanced ones. Each case is run in flambeau and in torch and must agree."""

import warnings

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]

MASK = [True, False, True]
#: (destination shape, index) for t[index] = value; "t:..." builds a tensor, "t0" a 0-dim one
SUBSCRIPTS = [
    ((3,), ("t", [0])),
    ((3,), [0, 1]),
    ((3,), ("t0", 0)),
    ((3,), ("t", MASK)),
    ((3,), ("t0", True)),
    ((3,), True),
    ((3,), False),
    ((3,), (True,)),
    ((3,), (False,)),
    ((3,), slice(0, 2)),
    ((3,), 1),
    ((3,), Ellipsis),
    ((3,), None),
    ((2, 3), (0, ("t", [0]))),
    ((2, 3), (slice(None), ("t", [0]))),
    ((2, 3), (("t", [0]), Ellipsis)),
    ((2, 3), (None, ("t", [1]))),
    ((2, 3), ("t", [[True, False, True], [False, False, True]])),
    ((2, 3), (("t", [True, False]),)),
    ((2, 3), (0, ("t", MASK))),
    ((2, 3), (slice(None), ("t", MASK))),
    ((2, 3), (("t", [True, False]), 0)),
    ((2, 3), (("t", [True, False]), slice(0, 2))),
    ((2, 3), (("t", [True, False]), ("t", [0]))),
    ((2, 3), (("t", [0]), ("t", MASK))),
    ((2, 3), (True, 0)),
    ((2, 3), (("t0", 0), ("t0", 1))),
    ((2, 3), (("t0", 0), [1])),
]
#: (values, dtype) of the source tensor
SOURCES = [
    (1.5, "float64"), ([1.5], "float64"), ([[1.5]], "float64"), ([1.5, 2.5], "float64"),
    (2, "int64"), ([2, 3], "int64"), (True, "bool"), (1 + 0j, "complex64"),
    (1 + 1j, "complex64"), ([1 + 0j, 2 + 0j], "complex64"), (0.5, "float32"),
]


def _build(lib, item):
    if isinstance(item, tuple) and len(item) == 2 and item[0] in ("t", "t0"):
        return lib.tensor(item[1])
    if isinstance(item, tuple):
        return tuple(_build(lib, i) for i in item)
    return item


def _outcome(call):
    """The result as (dtype name, values), or the error as (type name, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = call()
        except (RuntimeError, IndexError, ValueError, TypeError) as exc:
            return type(exc).__name__, str(exc)
    return str(got.dtype).split(".")[-1], np.array(got.detach().cpu()).tolist()


def _same(got, want, exact_message):
    assert got[0] == want[0], (got, want)
    if got[0] in ("RuntimeError", "IndexError", "ValueError", "TypeError"):
        if exact_message(want[1]):
            assert got[1] == want[1], (got, want)
    else:
        assert got[1] == want[1], (got, want)


def _dtype_message(msg):
    return msg.startswith(("Index put requires", "value cannot be converted"))


@pytest.mark.parametrize("shape, index", SUBSCRIPTS, ids=str)
@pytest.mark.parametrize("values, dtype", SOURCES, ids=str)
def test_setitem_casts_or_refuses_as_torch(shape, index, values, dtype):
    def run(lib):
        def call():
            x = lib.zeros(shape)
            x[_build(lib, index)] = lib.tensor(values, dtype=getattr(lib, dtype))
            return x
        return _outcome(call)

    want = run(torch)
    got = run(flambeau)
    if want[0] == "RuntimeError" and not _dtype_message(want[1]):
        assert got[0] in ("RuntimeError", "IndexError"), (got, want)  # a shape mismatch
        return
    _same(got, want, _dtype_message)


INDEX_PUT = [
    ((3,), [("t", [0])]),
    ((3,), [("t", [0, 0, 2])]),
    ((3,), [("t", MASK)]),
    ((3,), [("t0", True)]),
    ((3,), [("t0", False)]),
    ((2, 3), [("t", [True, False])]),
    ((2, 3), [("t", [True, False]), ("t", [0])]),
    ((2, 3), [("t", [0, 1]), ("t", [2, 2])]),
]


@pytest.mark.parametrize("shape, indices", INDEX_PUT, ids=str)
@pytest.mark.parametrize("values, dtype", SOURCES, ids=str)
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("form", ["method", "method_", "function", "function_"])
@pytest.mark.parametrize("dest", ["float32", "int32", "complex64"])
def test_index_put_requires_equal_dtypes_as_torch(shape, indices, values, dtype, accumulate,
                                                  form, dest):
    def run(lib):
        def call():
            x = lib.zeros(shape, dtype=getattr(lib, dest))
            idx = tuple(_build(lib, i) for i in indices)
            v = lib.tensor(values, dtype=getattr(lib, dtype))
            if form == "method":
                return x.index_put(idx, v, accumulate=accumulate)
            if form == "method_":
                x.index_put_(idx, v, accumulate=accumulate)
                return x
            if form == "function":
                return lib.index_put(x, idx, v, accumulate)
            lib.index_put_(x, idx, v, accumulate)
            return x
        return _outcome(call)

    want = run(torch)
    if "INTERNAL ASSERT" in want[1]:  # accumulating into a 0-dim mask: a bug of torch 2.13
        pytest.skip("torch fails an internal assert")
    got = run(flambeau)
    if want[0] == "RuntimeError" and not _dtype_message(want[1]):
        assert got[0] in ("RuntimeError", "IndexError"), (got, want)  # a shape mismatch
        return
    _same(got, want, _dtype_message)


def test_a_refused_index_put_leaves_the_destination_unchanged():
    x = flambeau.zeros(3)
    with pytest.raises(RuntimeError, match="got Float for the destination and Double"):
        x.index_put_((flambeau.tensor([0]),), flambeau.tensor([1.0], dtype=flambeau.float64))
    assert x.tolist() == [0.0, 0.0, 0.0] and x._version == 0
    with pytest.raises(RuntimeError, match="got Float for the destination and Long"):
        x[[0, 1]] = flambeau.tensor([1, 2])
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_index_put_shape_mismatch_is_reported_before_the_dtype():
    for lib in (torch, flambeau):
        with pytest.raises(RuntimeError, match="shape mismatch"):
            lib.zeros(3).index_put_((lib.tensor([0]),), lib.tensor([1.0, 2.0], dtype=lib.float64))


@pytest.mark.parametrize("index", [("t", MASK), slice(1, None)], ids=str)
def test_a_cast_source_gets_its_gradient_in_its_own_dtype(index):
    grads = []
    for lib in (torch, flambeau):
        x = lib.zeros(3, requires_grad=True)
        v = lib.tensor(1.0, dtype=lib.float64, requires_grad=True)
        y = x.clone()
        y[_build(lib, index)] = v
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append((np.array(x.grad).tolist(), str(v.grad.dtype).split(".")[-1],
                      float(v.grad)))
    assert grads[0] == grads[1]

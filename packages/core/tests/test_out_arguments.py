"""``out=``: the result lands in the given tensor (resized if needed), with torch's errors."""

import numpy as np
import pytest

import flambeau


def test_out_receives_the_result_and_is_returned():
    out = flambeau.empty(2)
    assert flambeau.add(flambeau.ones(2), 1, out=out) is out
    assert out.tolist() == [2.0, 2.0]
    grown = flambeau.empty(0)
    flambeau.mul(flambeau.ones(2, 2), 3, out=grown)
    assert grown.tolist() == [[3.0, 3.0], [3.0, 3.0]]


@pytest.mark.parametrize("make", [
    lambda out: flambeau.zeros(2, 2, out=out),
    lambda out: flambeau.ones(2, 2, out=out),
    lambda out: flambeau.empty(2, 2, out=out),
    lambda out: flambeau.rand(2, 2, out=out),
    lambda out: flambeau.randn(2, 2, out=out),
], ids=["zeros", "ones", "empty", "rand", "randn"])
def test_creation_functions_fill_out(make):
    out = flambeau.full((3,), 7.0)
    assert make(out) is out and out.shape == (2, 2)


def test_creation_into_an_integer_out_keeps_its_dtype():
    out = flambeau.empty(2, dtype=flambeau.int64)
    flambeau.ones(2, out=out)
    assert out.dtype == flambeau.int64 and out.tolist() == [1, 1]


def test_max_and_min_along_a_dim_fill_both_outs():
    x = flambeau.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = flambeau.empty(2), flambeau.empty(2, dtype=flambeau.int64)
    result = flambeau.max(x, 1, out=(values, indices))
    assert result.values is values and result.indices is indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    flambeau.min(x, 0, out=(values, indices))
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]
    whole = flambeau.empty(())
    flambeau.max(x, out=whole)
    assert whole.item() == 7.0


def test_out_with_an_input_that_requires_grad_is_refused():
    x = flambeau.ones(2, requires_grad=True)
    out = flambeau.zeros(2)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=\.\.\. arguments don't "
                                           r"support automatic differentiation"):
        flambeau.add(x, 1, out=out)
    assert out.tolist() == [0.0, 0.0]
    with flambeau.no_grad():
        flambeau.add(x, 1, out=out)
    assert out.tolist() == [2.0, 2.0]


def test_out_of_a_narrower_dtype_is_refused_and_unchanged():
    out = flambeau.zeros(2, dtype=flambeau.int64)
    with pytest.raises(RuntimeError, match=r"add\(\): result type flambeau.float32 can't be cast "
                                           r"to the desired output type flambeau.int64"):
        flambeau.add(flambeau.ones(2), 0.5, out=out)
    assert out.tolist() == [0, 0]


def test_several_outs_are_checked_before_any_is_written():
    x = flambeau.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, flags = flambeau.zeros(2), flambeau.zeros(2, dtype=flambeau.bool)
    with pytest.raises(RuntimeError, match=r"max\(\): result type flambeau.int64 can't be cast "
                                           r"to the desired output type flambeau.bool"):
        flambeau.max(x, 1, out=(values, flags))  # indices can't go into a bool tensor
    assert values.tolist() == [0.0, 0.0]  # the first out, fine by itself, is not written
    with pytest.raises(TypeError, match=r"max\(\): out must be a tuple of 2 tensors, got 1"):
        flambeau.max(x, 1, out=(values,))


@pytest.mark.parametrize("name, kwargs, out_dtype", [
    ("sum", {"dim": 1}, None), ("nansum", {"dim": 1}, None), ("mean", {"dim": 1}, None),
    ("nanmean", {"dim": 1}, None), ("prod", {"dim": 1}, None), ("amax", {"dim": 1}, None),
    ("amin", {"dim": 1}, None), ("argmax", {"dim": 1}, "int64"), ("argmin", {"dim": 1}, "int64"),
    ("var", {"dim": 1}, None), ("std", {"dim": 1}, None), ("logsumexp", {"dim": 1}, None),
    ("norm", {"dim": 1}, None), ("cumsum", {"dim": 1}, None), ("cumprod", {"dim": 1}, None),
    ("softmax", {"dim": 1}, None), ("log_softmax", {"dim": 1}, None),
])
def test_reductions_fill_out_with_what_they_return(name, kwargs, out_dtype):
    x = flambeau.tensor([[1.0, 5.0, 2.0], [7.0, 2.0, 0.5]])
    fn = getattr(flambeau, name)
    expected = fn(x, **kwargs)
    out = flambeau.empty(0, dtype=getattr(flambeau, out_dtype) if out_dtype else None)
    assert fn(x, **kwargs, out=out) is out
    assert out.shape == expected.shape and out.tolist() == expected.tolist()


def test_all_and_any_fill_a_bool_out():
    x = flambeau.tensor([[1.0, 0.0], [2.0, 3.0]])
    out = flambeau.empty(2, dtype=flambeau.bool)
    flambeau.all(x, 1, out=out)
    assert out.tolist() == [False, True]
    flambeau.any(x, 0, out=out)
    assert out.tolist() == [True, True]


def _sample_args(lib):
    x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0], [2.0, 1.0, 0.25]], dtype=lib.float64)
    v = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    spd = x @ x.T + 3 * lib.eye(3, dtype=lib.float64)
    index = lib.tensor([[0, 2], [1, 0], [2, 1]])
    return {
        "addcdiv": (v, v, v + 5), "addcmul": (v, v, v), "addmm": (x, x, x), "addmv": (v, x, v),
        "baddbmm": (x[None], x[None], x[None]), "cross": (x, x.flip(0), 1), "diag": (x,),
        "dot": (v, v), "float_power": (x, 2), "gather": (x, 1, index), "ger": (v, v),
        "hypot": (x, x), "index_select": (x, 0, lib.tensor([2, 0])), "inner": (x, x),
        "lerp": (x, x * 2, 0.3), "logaddexp": (x, x), "logcumsumexp": (x, 1),
        "logit": (v / 4,), "masked_select": (x, x > 1), "matrix_power": (x, 3), "mv": (x, v),
        "nan_to_num": (x,), "outer": (v, v), "renorm": (x, 2, 0, 1.0),
        "searchsorted": (v, lib.tensor([0.5, 2.5], dtype=lib.float64)),
        "bucketize": (lib.tensor([0.5, 2.5], dtype=lib.float64), v),
        "take_along_dim": (x, index, 1), "tril": (x,), "triu": (x,),
        "xlogy": (x.abs(), x.abs()), "inverse": (x,), "cholesky": (spd,),
        "cholesky_inverse": (lib.linalg.cholesky(spd),),
        "cholesky_solve": (x, lib.linalg.cholesky(spd)), "histc": (v,),
        "narrow_copy": (x, 0, 1, 2), "nonzero": (x > 1,), "sort": (x, 1), "topk": (x, 2),
        "kthvalue": (x, 2), "mode": (x, 1), "cummax": (x, 1), "cummin": (x, 1),
        "aminmax": (x,),
    }


def _fill_out(lib, name, args):
    """Call ``name`` plainly and with fresh empty outs; return both results as lists."""
    fn = getattr(lib, name)
    plain = fn(*args)
    many = isinstance(plain, tuple)
    outs = tuple(lib.empty(0, dtype=p.dtype) for p in plain) if many else lib.empty(
        0, dtype=plain.dtype)
    got = fn(*args, out=outs)
    if many:
        assert all(g is o for g, o in zip(got, outs))
        if lib is flambeau:  # the same named fields as the plain call's result
            assert type(got) is type(plain)
        return [p.tolist() for p in plain], [o.tolist() for o in outs]
    assert got is outs
    return plain.tolist(), outs.tolist()


@pytest.mark.parametrize("name", sorted(_sample_args(flambeau)))
def test_functions_that_take_out_fill_it_with_their_result(name):
    plain, filled = _fill_out(flambeau, name, _sample_args(flambeau)[name])
    assert filled == plain


@pytest.mark.parametrize("name", sorted(_sample_args(flambeau)))
def test_out_matches_torch(name):
    torch = pytest.importorskip("torch")
    _, ours = _fill_out(flambeau, name, _sample_args(flambeau)[name])
    _, theirs = _fill_out(torch, name, _sample_args(torch)[name])
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make, dtype, expected", [
    (lambda lib, out: lib.arange(3, out=out), "float32", [0.0, 1.0, 2.0]),
    (lambda lib, out: lib.arange(1, 7, 2, out=out), "int64", [1, 3, 5]),
    (lambda lib, out: lib.eye(2, out=out), "int64", [[1, 0], [0, 1]]),
    (lambda lib, out: lib.full((2,), 3.0, out=out), "float64", [3.0, 3.0]),
    (lambda lib, out: lib.linspace(0, 1, 3, out=out), "float32", [0.0, 0.5, 1.0]),
    (lambda lib, out: lib.logspace(0, 2, 3, out=out), "float32", [1.0, 10.0, 100.0]),
], ids=["arange", "arange-int", "eye", "full", "linspace", "logspace"])
def test_creation_functions_fill_out_in_its_dtype(make, dtype, expected):
    out = flambeau.empty(5, dtype=getattr(flambeau, dtype))
    assert make(flambeau, out) is out
    assert out.dtype == getattr(flambeau, dtype) and out.tolist() == expected


def test_random_integers_fill_out():
    out = flambeau.empty(0, dtype=flambeau.int64)
    flambeau.randperm(5, out=out)
    assert sorted(out.tolist()) == [0, 1, 2, 3, 4]
    flambeau.randint(0, 3, (4,), out=out)
    assert out.shape == (4,) and all(0 <= v < 3 for v in out.tolist())

"""``out=`` of ``normal`` (all four forms) and ``multinomial``, and of the creation functions
given ``dtype=`` or ``requires_grad=``, with torch's shapes, dtypes and errors (values are
random: their shape, dtype and moments are compared, not the draws)."""

import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.parity, pytest.mark.usefixtures("cpu_default")]


def _outcome(call):
    """(shape, dtype name, requires_grad) of the result, or (error type, message)."""
    try:
        r = call()
    except (RuntimeError, TypeError, NotImplementedError) as exc:
        return type(exc).__name__, str(exc)
    return tuple(r.shape), str(r.dtype).split(".")[-1], r.requires_grad


def _same_outcome(make, exact=True):
    got, want = _outcome(lambda: make(flambeau)), _outcome(lambda: make(torch))
    if isinstance(want[0], str) and isinstance(got[0], str):
        assert got[0] == want[0], (got, want)
        if "can't be cast" in want[1]:  # flambeau's own words for out='s cast check
            assert "can't be cast to the desired output type" in got[1], (got, want)
        elif exact:
            assert got[1] == want[1], (got, want)
    else:
        assert got == want


def _dt(lib, name):
    return getattr(lib, name)


NORMAL_CASES = {
    # (mean, std) tensors or numbers, the out's shape and dtype
    "tt": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (0,), "float32"),
    "tt-resize": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (2, 3), "float32"),
    "tt-float64-out": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (0,), "float64"),
    "tt-float16-out": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (0,), "float16"),
    "tt-complex-out": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (0,), "complex64"),
    "tt-int-out": (lambda lib: (lib.zeros(2, 3), lib.ones(3)), (0,), "int64"),
    "tt-float64-std": (lambda lib: (lib.zeros(2), lib.ones(2, dtype=lib.float64)), (0,),
                       "float32"),
    "tt-complex-mean": (lambda lib: (lib.zeros(2, dtype=lib.complex64), lib.ones(2)), (0,),
                        "complex64"),
    "tt-complex-mean-real-out": (lambda lib: (lib.zeros(2, dtype=lib.complex64), lib.ones(2)),
                                 (0,), "float32"),
    "tt-broadcast": (lambda lib: (lib.zeros(2, 1), lib.ones(3)), (0,), "float32"),
    "tt-negative-std": (lambda lib: (lib.zeros(2), -lib.ones(2)), (0,), "float32"),
    "tt-nan-std": (lambda lib: (lib.zeros(2), lib.tensor([float("nan"), 1.0])), (0,),
                   "float32"),
    "tt-negative-std-int-out": (lambda lib: (lib.zeros(2), -lib.ones(2)), (0,), "int64"),
    # (tensor, number): torch broadcasts the mean's shape with the out's own
    "tf-right-shape": (lambda lib: (lib.zeros(2, 3), 2.0), (2, 3), "float32"),
    "tf-broadcast-out": (lambda lib: (lib.zeros(2, 3), 2.0), (4, 2, 3), "float32"),
    "tf-grown-out": (lambda lib: (lib.zeros(2, 3), 2.0), (1, 3), "float32"),
    "tf-empty-out": (lambda lib: (lib.zeros(2, 3), 2.0), (0,), "float32"),
    "tf-mismatched-out": (lambda lib: (lib.zeros(2, 3), 2.0), (6,), "float32"),
    "tf-int-out": (lambda lib: (lib.zeros(2, 3), 2.0), (2, 3), "int64"),
    "tf-negative-std": (lambda lib: (lib.zeros(2), -2.0), (2,), "float32"),
    "tf-nan-std": (lambda lib: (lib.zeros(2), float("nan")), (2,), "float32"),
    "tf-complex-mean-real-out": (lambda lib: (lib.zeros(2, dtype=lib.complex64), 2.0), (2,),
                                 "float32"),
    # (number, tensor): the out takes the std's shape
    "ft": (lambda lib: (1.0, lib.ones(3)), (0,), "float32"),
    "ft-resize": (lambda lib: (1.0, lib.ones(3)), (2, 3), "float64"),
    "ft-int-out": (lambda lib: (1.0, lib.ones(3)), (0,), "int64"),
}


@pytest.mark.parametrize("case", sorted(NORMAL_CASES))
def test_normal_of_tensors_fills_out_as_torch(case):
    args, shape, dtype = NORMAL_CASES[case]

    def make(lib):
        out = lib.empty(shape, dtype=_dt(lib, dtype))
        got = lib.normal(*args(lib), out=out)
        assert got is out
        return out

    _same_outcome(make)


NUMBER_CASES = {
    "plain": ((2, 2), {}, (0,), "float32"),
    "resize": ((2, 2), {}, (7,), "float32"),
    "float64-out": ((3,), {}, (0,), "float64"),
    "complex-out": ((3,), {}, (0,), "complex64"),
    "dtype-matches": ((3,), {"dtype": "float64"}, (0,), "float64"),
    "dtype-mismatch": ((3,), {"dtype": "float64"}, (0,), "float32"),
    "int-out": ((3,), {}, (0,), "int64"),
    "int-dtype": ((3,), {"dtype": "int64"}, (0,), "int64"),
    "requires-grad": ((3,), {"requires_grad": True}, (0,), "float32"),
    "negative-std": ((3,), {"std": -1.0}, (0,), "float32"),
    "negative-std-int-out": ((3,), {"std": -1.0}, (0,), "int64"),
    "negative-std-dtype-mismatch": ((3,), {"std": -1.0, "dtype": "float64"}, (0,), "float32"),
}


@pytest.mark.parametrize("case", sorted(NUMBER_CASES))
def test_normal_of_numbers_fills_out_as_torch(case):
    size, kwargs, shape, dtype = NUMBER_CASES[case]

    def make(lib):
        kw = dict(kwargs)
        std = kw.pop("std", 1.0)
        if "dtype" in kw:
            kw["dtype"] = _dt(lib, kw["dtype"])
        out = lib.empty(shape, dtype=_dt(lib, dtype))
        assert lib.normal(0.0, std, size, out=out, **kw) is out
        return out

    _same_outcome(make)


@pytest.mark.parametrize("case", ["mean", "std", "out"])
def test_normal_with_out_refuses_inputs_that_require_grad(case):
    def make(lib):
        mean, std, out = lib.zeros(2), lib.ones(2), lib.zeros(2)
        {"mean": mean, "std": std, "out": out}[case].requires_grad_(True)
        lib.normal(mean, std, out=out)
        return out

    _same_outcome(make)
    out = flambeau.zeros(2)
    with pytest.raises(RuntimeError):
        flambeau.normal(flambeau.zeros(2, requires_grad=True), 1.0, out=out)
    assert out.tolist() == [0.0, 0.0]  # refused before anything is written
    with flambeau.no_grad():
        flambeau.normal(flambeau.zeros(2, requires_grad=True), 1.0, out=out)
    assert out.tolist() != [0.0, 0.0]


def test_normal_without_out_keeps_the_dtype_and_checks_as_torch():
    cases = [
        lambda lib: lib.normal(lib.zeros(2), lib.ones(2, dtype=lib.float64)),
        lambda lib: lib.normal(lib.zeros(2, dtype=lib.int64), 1.0),
        lambda lib: lib.normal(1.0, lib.ones(2, dtype=lib.int64)),
        lambda lib: lib.normal(lib.zeros(2), -1.0),
        lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
        lambda lib: lib.normal(0.0, -1.5, (2,)),
        lambda lib: lib.normal(0.0, 1.0, (2,), dtype=lib.int64),
    ]
    for make in cases:
        _same_outcome(make)


def test_normal_out_values_follow_mean_and_std():
    g = flambeau.Generator().manual_seed(0)
    mean = flambeau.full((200, 100), 3.0, dtype=flambeau.float64)
    out = flambeau.empty(200, 100, dtype=flambeau.float64)  # (an empty one: torch's error)
    flambeau.normal(mean, 2.0, generator=g, out=out)
    assert abs(out.mean().item() - 3.0) < 0.05 and abs(out.std().item() - 2.0) < 0.05
    flambeau.normal(-1.0, flambeau.full((20000,), 0.5), out=out)
    assert out.shape == (20000,) and out.dtype == flambeau.float64
    assert abs(out.mean().item() + 1.0) < 0.02 and abs(out.std().item() - 0.5) < 0.02
    # the same stream as without out=
    a = flambeau.normal(mean, flambeau.ones(100, dtype=flambeau.float64),
                        generator=flambeau.Generator().manual_seed(5))
    b = flambeau.empty(0, dtype=flambeau.float64)
    flambeau.normal(mean, flambeau.ones(100, dtype=flambeau.float64),
                    generator=flambeau.Generator().manual_seed(5), out=b)
    assert flambeau.equal(a, b)
    c = flambeau.empty(1)
    flambeau.normal(5.0, 0.0, (3,), out=c)
    assert c.tolist() == [5.0, 5.0, 5.0]


MULTINOMIAL_CASES = {
    "1d": (lambda lib: lib.tensor([0.2, 0.3, 0.5]), 2, False, (0,), "int64"),
    "2d": (lambda lib: lib.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]), 1, False, (0,), "int64"),
    "2d-replacement": (lambda lib: lib.tensor([[0.2, 0.8], [1.0, 0.0]]), 5, True, (7,),
                       "int64"),
    "right-shape": (lambda lib: lib.tensor([0.2, 0.8]), 2, False, (2,), "int64"),
    "float64-probs": (lambda lib: lib.tensor([0.2, 0.8], dtype=lib.float64), 1, False, (3,),
                      "int64"),
    "int32-out": (lambda lib: lib.tensor([0.2, 0.8]), 1, False, (0,), "int32"),
    "float-out": (lambda lib: lib.tensor([0.2, 0.8]), 1, False, (0,), "float32"),
    "bool-out": (lambda lib: lib.tensor([0.2, 0.8]), 1, False, (0,), "bool"),
    "int-out-and-too-many": (lambda lib: lib.tensor([0.2, 0.8]), 5, False, (0,), "int32"),
    "int-out-and-bad-probs": (lambda lib: lib.tensor([-0.2, 0.8]), 1, False, (0,), "int32"),
    "3d-and-int-out": (lambda lib: lib.ones(1, 1, 2), 1, False, (0,), "int32"),
    "complex-and-int-out": (lambda lib: lib.ones(2, dtype=lib.complex64), 1, False, (0,),
                            "int32"),
    "zero-samples": (lambda lib: lib.ones(2), 0, False, (0,), "int64"),
    "negative-samples": (lambda lib: lib.ones(2), -1, True, (0,), "int64"),
    "probs-require-grad": (lambda lib: lib.ones(2, requires_grad=True), 1, False, (0,),
                           "int64"),
}


@pytest.mark.parametrize("case", sorted(MULTINOMIAL_CASES))
def test_multinomial_fills_out_as_torch(case):
    probs, n, replacement, shape, dtype = MULTINOMIAL_CASES[case]

    def make(lib):
        out = lib.empty(shape, dtype=_dt(lib, dtype))
        assert lib.multinomial(probs(lib), n, replacement, out=out) is out
        return out

    # flambeau's messages name the op first ("multinomial: ...") where torch's do not
    got, want = _outcome(lambda: make(flambeau)), _outcome(lambda: make(torch))
    if isinstance(want[0], str):
        assert got[0] == want[0] and want[1].split(": ")[-1] in got[1], (got, want)
    else:
        assert got == want


def test_multinomial_out_values_are_draws():
    out = flambeau.full((4,), -1, dtype=flambeau.int64)
    probs = flambeau.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert flambeau.multinomial(probs, 2, True, out=out) is out
    assert out.tolist() == [[1, 1], [2, 2]]
    flambeau.multinomial(flambeau.tensor([1.0, 1.0, 1.0]), 3, out=out)
    assert sorted(out.tolist()) == [0, 1, 2]
    with pytest.raises(TypeError):
        flambeau.tensor([1.0, 1.0]).multinomial(1, out=out)  # no out= on the method (torch)


CREATION = {
    "zeros": lambda lib, **k: lib.zeros(2, **k), "ones": lambda lib, **k: lib.ones(2, **k),
    "empty": lambda lib, **k: lib.empty(2, **k),
    "full": lambda lib, **k: lib.full((2,), 1.0, **k), "eye": lambda lib, **k: lib.eye(2, **k),
    "arange": lambda lib, **k: lib.arange(3, **k),
    "linspace": lambda lib, **k: lib.linspace(0, 1, 3, **k),
    "logspace": lambda lib, **k: lib.logspace(0, 1, 3, **k),
    "rand": lambda lib, **k: lib.rand(2, **k), "randn": lambda lib, **k: lib.randn(2, **k),
    "randint": lambda lib, **k: lib.randint(0, 3, (2,), **k),
    "randperm": lambda lib, **k: lib.randperm(3, **k),
    "normal": lambda lib, **k: lib.normal(0.0, 1.0, (2,), **k),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_with_out_checks_dtype_and_takes_requires_grad_as_torch(name):
    make = CREATION[name]
    _same_outcome(lambda lib: make(lib, dtype=lib.float64, out=lib.empty(0)))
    _same_outcome(lambda lib: make(lib, dtype=lib.float32, out=lib.empty(0)))
    _same_outcome(lambda lib: make(lib, requires_grad=True, out=lib.empty(0)))
    out = flambeau.ones(1)
    with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out "
                                           r"parameter \(Float\)"):
        make(flambeau, dtype=flambeau.float64, out=out)
    assert out.tolist() == [1.0]  # unchanged

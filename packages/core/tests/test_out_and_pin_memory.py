"""``out=`` on the ops that lacked it (atan2 ... take, median, qr, svd, slogdet, lstsq,
histogram) and ``pin_memory=`` on the creation functions, against torch: values, dtypes, that
the returned object is the out tensor (a named tuple of the out tensors for several results),
resizing, the dtype rules and the errors."""

import re

import numpy as np
import pytest

import flambeau
from flambeau import _methods

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity

_X = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


def _np(t):
    return t.detach().cpu().numpy()


def _sq(x):
    return x[:, :2] @ x[:, :2].T + 3 * x[0, 0]  # [[8, -3], [-3, 44]]: symmetric, invertible


def _index(lib):
    return lib.tensor([[0, 1, 0], [1, 0, 1]])


# name -> call(lib, x, out) with x a 2x3 float32 tensor of _X: ops with one result
SINGLE = {
    "atan2": lambda lib, x, out: lib.atan2(x, x + 1, out=out),
    "arctan2": lambda lib, x, out: lib.arctan2(x, 2.0 * x, out=out),
    "argsort": lambda lib, x, out: lib.argsort(x, stable=True, dim=1, out=out),
    "as_strided_copy": lambda lib, x, out: lib.as_strided_copy(x, (2, 2), (1, 2), out=out),
    "clamp_max": lambda lib, x, out: lib.clamp_max(x, 1.0, out=out),
    "clamp_min": lambda lib, x, out: lib.clamp_min(x, 1.0, out=out),
    "clamp_min-tensor": lambda lib, x, out: lib.clamp_min(x, lib.tensor(1.0), out=out),
    "diff": lambda lib, x, out: lib.diff(x, out=out),
    "diff-n2-prepend": lambda lib, x, out: lib.diff(x, 2, 0, prepend=x, out=out),
    "hardshrink": lambda lib, x, out: lib.hardshrink(x, 2.0, out=out),
    "index_add": lambda lib, x, out: lib.index_add(x, 1, lib.tensor([0, 2]), x[:, :2], alpha=2,
                                                   out=out),
    "index_copy": lambda lib, x, out: lib.index_copy(x, 1, lib.tensor([2, 0]), x[:, :2],
                                                     out=out),
    "index_reduce": lambda lib, x, out: lib.index_reduce(x, 1, lib.tensor([0, 2]), x[:, :2],
                                                         "prod", out=out),
    "isin": lambda lib, x, out: lib.isin(x, lib.tensor([1.0, 5.0]), out=out),
    "msort": lambda lib, x, out: lib.msort(x, out=out),
    "nonzero_static": lambda lib, x, out: lib.nonzero_static(x > 0, size=5, out=out),
    "orgqr": lambda lib, x, out: lib.orgqr(*lib.geqrf(x.T), out=out),
    "scatter": lambda lib, x, out: lib.scatter(x, 1, _index(lib), 2 * x, out=out),
    "scatter-value": lambda lib, x, out: lib.scatter(x, 1, _index(lib), 2.0, out=out),
    "scatter_add": lambda lib, x, out: lib.scatter_add(x, 1, _index(lib), x, out=out),
    "scatter_reduce": lambda lib, x, out: lib.scatter_reduce(x, 1, _index(lib), 2 * x, "amax",
                                                             out=out),
    "slice_scatter": lambda lib, x, out: lib.slice_scatter(x, x[:, :1] * 10, 1, 0, 1, out=out),
    "take": lambda lib, x, out: lib.take(x, lib.tensor([0, 5, 3]), out=out),
}
# name -> (call(lib, x, out), how many results): ops with several results
MANY = {
    "median": (lambda lib, x, out: lib.median(x, 1, out=out), 2),
    "median-keepdim": (lambda lib, x, out: lib.median(x, 0, True, out=out), 2),
    "nanmedian": (lambda lib, x, out: lib.nanmedian(x.log(), 1, out=out), 2),
    "histogram": (lambda lib, x, out: lib.histogram(x, 3, out=out), 2),
    "histogram-edges": (lambda lib, x, out: lib.histogram(
        x, lib.tensor([-6.0, 0.0, 6.0]), weight=x.abs(), density=True, out=out), 2),
    "qr": (lambda lib, x, out: lib.qr(_sq(x), out=out), 2),
    "qr-complete": (lambda lib, x, out: lib.qr(x.T, some=False, out=out), 2),
    "svd": (lambda lib, x, out: lib.svd(_sq(x), out=out), 3),
    "svd-no-uv": (lambda lib, x, out: lib.svd(x, compute_uv=False, out=out), 3),
    "slogdet": (lambda lib, x, out: lib.slogdet(_sq(x), out=out), 2),
    "linalg.lstsq": (lambda lib, x, out: lib.linalg.lstsq(x.T, x.T[:, :1] + 1, driver="gelsd",
                                                          out=out), 4),
}


def _op(lib, name):
    """flambeau.linalg.lstsq for "linalg.lstsq"."""
    mod = lib
    for part in name.split("-")[0].split("."):
        mod = getattr(mod, part)
    return mod


def _call(name, lib, x, out):
    return (SINGLE[name] if name in SINGLE else MANY[name][0])(lib, x, out)


def _plain(name, lib):
    """The op called without out=, as a tuple of tensors."""
    r = _call(name, lib, lib.tensor(_X), None)
    return tuple(r) if isinstance(r, tuple) else (r,)


def _outs(lib, plain, dtypes=None, shape=(0,)):
    """Fresh outs of the plain results' dtypes (or of ``dtypes``, names), all of ``shape``."""
    names = dtypes or [str(p.dtype).split(".")[-1] for p in plain]
    return tuple(lib.empty(shape, dtype=getattr(lib, n)) for n in names)


def _check_values(got, want):
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(_np(g).astype(np.float64), _np(w).astype(np.float64),
                                   rtol=1e-5, atol=1e-6)


def _fill(name, lib, dtypes=None, shape=(0,)):
    """(returned, outs) of a call with outs; the returned object is the out (or a tuple of
    them)."""
    outs = _outs(lib, _plain(name, lib), dtypes, shape)
    got = _call(name, lib, lib.tensor(_X), outs if name in MANY else outs[0])
    if name in MANY:
        assert isinstance(got, tuple) and all(g is o for g, o in zip(got, outs, strict=True))
    else:
        assert got is outs[0]
    return got, outs


@pytest.mark.parametrize("name", sorted(SINGLE) + sorted(MANY))
def test_out_receives_what_the_op_returns_as_torch(name):
    plain = _plain(name, flambeau)
    got, outs = _fill(name, flambeau)
    _check_values(outs, plain)
    _, want = _fill(name, torch)
    _check_values(outs, want)
    if name in MANY:  # the named tuple the plain call returns (torch's is its "_out" twin)
        assert type(got) is type(_call(name, flambeau, flambeau.tensor(_X), None))
        assert got._fields == type(_call(name, torch, torch.tensor(_X), None)).__match_args__


@pytest.mark.parametrize("name", ["atan2", "take", "median", "svd"])
def test_an_out_of_another_shape_is_resized(name):
    _, outs = _fill(name, flambeau, shape=(7, 1))
    _check_values(outs, _plain(name, flambeau))


def _outcome(name, lib, dtypes):
    """The out dtypes and values of a call into outs of ``dtypes``, or the error's type."""
    try:
        _, outs = _fill(name, lib, dtypes)
    except (RuntimeError, TypeError) as exc:
        return type(exc), str(exc)
    return outs


_OTHER_DTYPES = ["float64", "float16", "int64", "int32", "bool"]


@pytest.mark.parametrize("name", sorted(SINGLE) + sorted(MANY))
def test_out_dtypes_are_cast_or_refused_as_in_torch(name):
    # PyTorch casts into a wider out for some ops (atan2, diff, lstsq, orgqr, clamp with
    # tensor bounds) and wants the result's own dtype for the others
    plain = [str(p.dtype).split(".")[-1] for p in _plain(name, flambeau)]
    for i in range(len(plain)):
        for other in _OTHER_DTYPES:
            if other == plain[i]:
                continue
            dtypes = plain[:i] + [other] + plain[i + 1:]
            got, want = _outcome(name, flambeau, dtypes), _outcome(name, torch, dtypes)
            if isinstance(want[0], type):
                assert isinstance(got[0], type) and got[0] is want[0], (dtypes, got, want)
                assert re.search(r"expected out tensor to have dtype|can't be cast to the "
                                 r"desired output type", got[1]), got[1]
            else:
                assert not isinstance(got[0], type), (dtypes, got, want)
                _check_values(got, want)


def test_a_refused_out_leaves_every_out_unchanged():
    x = flambeau.tensor(_X)
    values, indices = flambeau.zeros(2), flambeau.zeros(2, dtype=flambeau.int32)
    with pytest.raises(RuntimeError, match=r"median\(\): expected out tensor to have dtype "
                                           r"flambeau.int64, but got flambeau.int32 instead"):
        flambeau.median(x, 1, out=(values, indices))
    assert _np(values).tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match=r"take\(\): expected out tensor to have dtype "
                                           r"flambeau.float32, but got flambeau.float64"):
        flambeau.take(x, flambeau.tensor([0]), out=values.double())


# torch writes these into out for an input that requires grad, unrecorded: flambeau refuses as
# it does for every other op (the result would silently stop the gradient)
_TORCH_SKIPS_THE_CHECK = {"as_strided_copy", "slice_scatter"}


@pytest.mark.parametrize("name", sorted(SINGLE) + sorted(MANY))
def test_out_is_refused_while_autograd_records_as_in_torch(name):
    outcomes = []
    for lib in (flambeau, torch):
        outs = _outs(lib, _plain(name, lib))
        x = lib.tensor(_X, requires_grad=True)
        try:
            _call(name, lib, x, outs if name in MANY else outs[0])
            outcomes.append(None)
        except RuntimeError as exc:
            outcomes.append(str(exc))
    got, want = outcomes
    if name in _TORCH_SKIPS_THE_CHECK:
        assert want is None
        want = "refused"
    assert (got is None) == (want is None), (got, want)
    if got is not None:
        assert re.match(r"[\w.]+\(\): functions with out=\.\.\. arguments don't support automatic "
                        r"differentiation, but one of the arguments requires grad\.", got)
    with flambeau.no_grad():  # nothing records: allowed
        outs = _outs(flambeau, _plain(name, flambeau))
        _call(name, flambeau, flambeau.tensor(_X, requires_grad=True),
              outs if name in MANY else outs[0])
    _check_values(outs, _plain(name, flambeau))


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.median(x, 1, out=lib.empty(0)),
    lambda lib, x: lib.take(x, lib.tensor([0]), out=(lib.empty(0),)),
    lambda lib, x: lib.linalg.lstsq(x.T, x.T, out=(lib.empty(0),) * 3),
    lambda lib, x: lib.qr(x, out=(lib.empty(0), None)),
], ids=["tensor-for-tuple", "tuple-for-tensor", "three-for-four", "none-in-tuple"])
def test_out_of_the_wrong_kind_raises_torchs_type_error(call):
    with pytest.raises(TypeError) as want:
        call(torch, torch.tensor(_X))
    with pytest.raises(TypeError, match=r"(median|take|lstsq|qr)\(\): (argument 'out' must be "
                                        r"|out must be a tuple of 4 tensors, got 3)") as got:
        call(flambeau, flambeau.tensor(_X))
    if "argument 'out' must be Tensor, not" in str(want.value):  # the same words as torch's
        assert str(got.value) == str(want.value)


def test_the_named_tuple_holds_the_outs():
    Q, R = flambeau.empty(0), flambeau.empty(0)
    result = flambeau.qr(flambeau.tensor([[3.0, 1.0], [4.0, 2.0]]), out=(Q, R))
    assert type(result) is type(flambeau.qr(flambeau.eye(2))) and result.Q is Q
    assert result.R is R
    hist, edges = flambeau.empty(0), flambeau.empty(0)
    result = flambeau.histogram(flambeau.tensor([1.0, 2.0, 1.0]), 2, out=(hist, edges))
    assert result.hist is hist and result.bin_edges is edges
    assert _np(hist).tolist() == [2.0, 1.0] and _np(edges).tolist() == [1.0, 1.5, 2.0]


def test_median_without_dim_fills_one_out():
    # torch takes out= only with dim; flambeau also takes it for the median of all elements
    out = flambeau.empty(3)
    assert flambeau.median(flambeau.tensor(_X), out=out) is out and _np(out).tolist() == 1.0
    assert flambeau.nanmedian(flambeau.tensor([1.0, float("nan"), 3.0]), out=out) is out
    assert _np(out).tolist() == 1.0


def test_diff_of_order_zero_copies_into_out():
    x = flambeau.tensor(_X)
    out = flambeau.empty(0)
    assert flambeau.diff(x, n=0, out=out) is out
    out.add_(1)  # out holds a copy: x is unchanged
    assert _np(x).tolist() == _X and _np(out).tolist() == (np.asarray(_X) + 1).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_bernoulli_fills_an_out_of_any_dtype(dtype):
    p = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]  # certain outcomes: the same draws in both
    results = []
    for lib in (flambeau, torch):
        out = lib.empty(5, dtype=getattr(lib, dtype))
        assert lib.bernoulli(lib.tensor(p), out=out) is out
        results.append(out)
    _check_values(*[(r,) for r in results])


def test_bernoulli_out_refuses_an_input_that_requires_grad():
    for lib in (torch, flambeau):
        with pytest.raises(RuntimeError, match=r"bernoulli\(\): functions with out=\.\.\. "
                                               r"arguments don't support automatic"):
            lib.bernoulli(lib.full((2,), 0.5, requires_grad=True), out=lib.empty(0))


def test_tensor_methods_keep_working_without_out():
    x = flambeau.tensor(_X)
    assert _np(x.scatter_add(1, _index(flambeau), x)).tolist() == \
        torch.tensor(_X).scatter_add(1, _index(torch), torch.tensor(_X)).tolist()
    assert _np(x.hardshrink(2.0)).tolist() == torch.tensor(_X).hardshrink(2.0).tolist()


# ------------------------------------------------------------------ pin_memory=


# name -> call(lib, pin_memory); random or uninitialized results compare shapes and dtypes
CREATION = {
    "arange": lambda lib, pin: lib.arange(1, 7, 2, pin_memory=pin),
    "bartlett_window": lambda lib, pin: lib.bartlett_window(5, pin_memory=pin),
    "blackman_window": lambda lib, pin: lib.blackman_window(5, pin_memory=pin),
    "empty_like": lambda lib, pin: lib.empty_like(lib.ones(2, 3), pin_memory=pin),
    "eye": lambda lib, pin: lib.eye(2, 3, dtype=lib.int32, pin_memory=pin),
    "fft.fftfreq": lambda lib, pin: lib.fft.fftfreq(5, pin_memory=pin),
    "fft.rfftfreq": lambda lib, pin: lib.fft.rfftfreq(6, 2.0, pin_memory=pin),
    "full": lambda lib, pin: lib.full((2,), 3.5, pin_memory=pin),
    "full_like": lambda lib, pin: lib.full_like(lib.ones(2, dtype=lib.int32), 7,
                                                pin_memory=pin),
    "hamming_window": lambda lib, pin: lib.hamming_window(5, pin_memory=pin),
    "hann_window": lambda lib, pin: lib.hann_window(5, periodic=False, pin_memory=pin),
    "kaiser_window": lambda lib, pin: lib.kaiser_window(5, True, 5.0, pin_memory=pin),
    "linspace": lambda lib, pin: lib.linspace(0, 1, 5, pin_memory=pin),
    "logspace": lambda lib, pin: lib.logspace(0, 2, 3, pin_memory=pin),
    "normal": lambda lib, pin: lib.normal(2.0, 0.0, (3,), pin_memory=pin),
    "ones": lambda lib, pin: lib.ones(2, 3, pin_memory=pin),
    "ones_like": lambda lib, pin: lib.ones_like(lib.zeros(2, dtype=lib.float64),
                                                pin_memory=pin),
    "rand": lambda lib, pin: lib.rand(2, 3, pin_memory=pin),
    "rand_like": lambda lib, pin: lib.rand_like(lib.zeros(3, dtype=lib.float64),
                                                pin_memory=pin),
    "randint": lambda lib, pin: lib.randint(0, 1, (4,), pin_memory=pin),
    "randint_like": lambda lib, pin: lib.randint_like(lib.ones(3), 1, pin_memory=pin),
    "randn": lambda lib, pin: lib.randn(4, pin_memory=pin),
    "randn_like": lambda lib, pin: lib.randn_like(lib.ones(2, 2), pin_memory=pin),
    "randperm": lambda lib, pin: lib.randperm(1, pin_memory=pin),
    "tril_indices": lambda lib, pin: lib.tril_indices(3, 3, pin_memory=pin),
    "triu_indices": lambda lib, pin: lib.triu_indices(3, 4, 1, pin_memory=pin),
    "zeros": lambda lib, pin: lib.zeros(2, pin_memory=pin),
    "zeros_like": lambda lib, pin: lib.zeros_like(lib.ones(2, dtype=lib.int64),
                                                  pin_memory=pin),
    # the ones that took pin_memory= before and ignored it
    "empty": lambda lib, pin: lib.empty(2, pin_memory=pin),
    "empty_strided": lambda lib, pin: lib.empty_strided((2, 3), (1, 2), pin_memory=pin),
    "empty_permuted": lambda lib, pin: lib.empty_permuted((2, 3), (1, 0), pin_memory=pin),
    "scalar_tensor": lambda lib, pin: lib.scalar_tensor(3, pin_memory=pin),
    "tensor": lambda lib, pin: lib.tensor([1, 2], pin_memory=pin),
    "Tensor.new_zeros": lambda lib, pin: lib.ones(1).new_zeros(2, pin_memory=pin),
    "Tensor.new_ones": lambda lib, pin: lib.ones(1).new_ones((2,), pin_memory=pin),
    "Tensor.new_empty": lambda lib, pin: lib.ones(1).new_empty(2, pin_memory=pin),
    "Tensor.new_full": lambda lib, pin: lib.ones(1).new_full((2,), 4.0, pin_memory=pin),
    "Tensor.new_empty_strided": lambda lib, pin: lib.ones(1).new_empty_strided(
        (2,), (1,), pin_memory=pin),
}
_UNDETERMINED = {"empty_like", "rand", "rand_like", "randn", "randn_like", "empty",
                 "empty_strided", "empty_permuted", "Tensor.new_empty",
                 "Tensor.new_empty_strided"}


def _check_created(name, got, want):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    if name not in _UNDETERMINED:
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CREATION))
def test_pin_memory_false_creates_as_torch(name):
    _check_created(name, CREATION[name](flambeau, False), CREATION[name](torch, False))


@pytest.mark.host_only  # about host memory
@pytest.mark.parametrize("name", sorted(CREATION))
def test_pin_memory_true_without_an_accelerator_raises_as_torch(name):
    if flambeau.accelerator.is_available() or torch.cuda.is_available():
        pytest.skip("an accelerator pins the memory here")
    with pytest.raises(RuntimeError, match="requires a CUDA or other accelerator backend"):
        CREATION[name](torch, True)
    op = name.removeprefix("Tensor.")
    with pytest.raises(RuntimeError, match=rf"{op}\(\): pin_memory=True requires a CUDA or other "
                                           r"accelerator backend; no pinned memory allocator"):
        CREATION[name](flambeau, True)


@pytest.mark.host_only
@pytest.mark.parametrize("name", sorted(CREATION))
def test_pin_memory_true_pins_through_the_accelerators_backend(monkeypatch, name):
    pinned = []

    class FakeAccelerator:  # what Tensor.pin_memory() uses too: the backend's pin hook
        def pin(self, tensor):
            assert not tensor.requires_grad  # a new leaf is made after pinning
            pinned.append(tensor.clone())
            return pinned[-1]

    monkeypatch.setattr(_methods, "_accelerator", lambda device: FakeAccelerator())
    got = CREATION[name](flambeau, True)
    assert len(pinned) == 1 and got is pinned[0]
    _check_created(name, got, CREATION[name](torch, False))


@pytest.mark.host_only
def test_pin_memory_keeps_requires_grad(monkeypatch):
    class FakeAccelerator:
        def pin(self, tensor):
            return tensor.clone()

    monkeypatch.setattr(_methods, "_accelerator", lambda device: FakeAccelerator())
    for t in (flambeau.zeros(2, requires_grad=True, pin_memory=True),
              flambeau.rand_like(flambeau.ones(2), requires_grad=True, pin_memory=True),
              flambeau.scalar_tensor(1.0, requires_grad=True, pin_memory=True)):
        assert t.requires_grad and t.is_leaf


@pytest.mark.host_only
def test_new_tensor_pins_as_tensor_does(monkeypatch):
    # torch's parser takes no pin_memory for new_tensor (its documentation has it): ours does
    x = flambeau.ones(1)
    assert _np(x.new_tensor([5.0], pin_memory=False)).tolist() == [5.0]
    monkeypatch.setattr(_methods, "_accelerator", lambda device: None)
    with pytest.raises(RuntimeError, match=r"new_tensor\(\): pin_memory=True requires a CUDA"):
        x.new_tensor([5.0], pin_memory=True)
    monkeypatch.setattr(_methods, "_accelerator",
                        lambda device: type("Fake", (), {"pin": lambda self, t: t * 2})())
    assert _np(x.new_tensor([5.0], pin_memory=True)).tolist() == [10.0]


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(2, out=lib.empty(0), pin_memory=True),
    lambda lib: lib.arange(3, out=lib.empty(0), pin_memory=True),
    lambda lib: lib.fft.fftfreq(3, out=lib.empty(0), pin_memory=True),
    lambda lib: lib.randperm(3, out=lib.empty(0, dtype=lib.int64), pin_memory=True),
], ids=["zeros", "arange", "fftfreq", "randperm"])
def test_pin_memory_is_ignored_with_out(call):
    got, want = call(flambeau), call(torch)
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


def test_pin_memory_must_be_a_bool():
    for call in (lambda lib: lib.zeros(2, pin_memory=1),
                 lambda lib: lib.zeros_like(lib.ones(1), pin_memory=1)):
        with pytest.raises(TypeError) as want:
            call(torch)
        with pytest.raises(TypeError) as got:
            call(flambeau)
        assert str(got.value) == str(want.value)  # "zeros(): argument 'pin_memory' must be ..."
    assert flambeau.hann_window(3, pin_memory=None).shape == (3,)  # None: not pinned


def test_only_host_tensors_can_be_pinned(monkeypatch):
    from flambeau._creation import pinned

    class Elsewhere:
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    class DeviceTensor:  # a tensor on a GPU, which this machine may not have
        _device = Elsewhere()

    monkeypatch.setattr(_methods, "_accelerator", lambda device: pytest.fail("not asked"))
    with pytest.raises(RuntimeError, match=r"zeros\(\): only dense CPU tensors can be pinned, "
                                           r"got pin_memory=True with device cuda:0"):
        pinned(DeviceTensor(), True, "zeros")


# ------------------------------------------------------------------ Tensor.pin_memory()


def test_pin_memory_without_an_accelerator_raises_as_torch():
    if flambeau.accelerator.is_available() or torch.accelerator.is_available():
        pytest.skip("an accelerator pins the memory here")
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                           "available"):
        torch.ones(2).pin_memory()
    x = flambeau.ones(2, device="cpu")
    with pytest.raises(RuntimeError, match=r"pin_memory: cannot access an accelerator device "
                                           r"when none is available: page-locked memory only "
                                           r"speeds up copies to one"):
        x.pin_memory()
    assert x.is_pinned() is False and torch.ones(2).is_pinned() is False


@pytest.mark.host_only
def test_pin_memory_pins_through_the_accelerators_hook(monkeypatch):
    class FakeAccelerator:
        def pin(self, tensor):
            return tensor * 10

        def is_pinned(self, tensor):
            return True

    monkeypatch.setattr(_methods, "_accelerator", lambda device: FakeAccelerator())
    assert _np(flambeau.arange(3).pin_memory()).tolist() == [0, 10, 20]
    assert flambeau.ones(1).is_pinned()


@pytest.mark.parametrize("method", ["pin_memory", "is_pinned"])
def test_the_device_argument_is_deprecated_as_in_torch(monkeypatch, method):
    monkeypatch.setattr(_methods, "_accelerator",
                        lambda device: type("Fake", (), {"pin": lambda self, t: t})())
    message = (f"The argument 'device' of Tensor.{method}() is deprecated. Please do not pass "
               "this argument.")
    with pytest.warns(DeprecationWarning, match=re.escape(message)) as caught:
        getattr(flambeau.ones(1, device="cpu"), method)("cuda")
    assert caught[0].filename == __file__
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)  # torch warns once per process otherwise
    try:
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            try:
                getattr(torch.ones(1), method)("cuda")
            except RuntimeError:  # torch without CUDA: the warning came first
                pass
    finally:
        torch.set_warn_always(before)

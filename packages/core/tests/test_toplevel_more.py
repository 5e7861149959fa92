"""Top-level functions of ``flambeau._toplevel_more``: ``torch.X_`` in-place forms, ``*_copy``
view copies (harness: values, gradcheck, gradgradcheck, torch parity), switches and queries,
creation helpers and ``compile``; errors with their messages."""

import array
import inspect
import math
import warnings

import numpy as np
import pytest

import flambeau
from flambeau import _toplevel_more as tm
from flambeau.testing._cases import OpCase, both
from flambeau.testing._harness import op_tests, torch_or_none

# ------------------------------------------------------------------ in-place functions

_ROWS = {row[0]: row for row in tm._INPLACE_TABLE}


def _setup(row, lib_name):
    """The row's starting tensor and other arguments, built with flambeau or torch."""
    lib = __import__(lib_name)
    env = {"flambeau": lib}
    t = eval(row[1], env)  # noqa: S307 - the table's own literal expressions
    args = eval(f"(lambda *a, **k: (a, k))({row[2]})", env)  # noqa: S307
    return t, args


@pytest.mark.parametrize("name", sorted(_ROWS))
@pytest.mark.host_only  # CPU reprs
def test_inplace_function_writes_into_input(name):
    t, (args, kwargs) = _setup(_ROWS[name], "flambeau")
    version = t._version
    out = getattr(flambeau, name)(t, *args, **kwargs)
    assert out is t
    assert t._version > version or name == "detach_"
    assert str(t).split() == _ROWS[name][3].split()  # the docstring's output


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(_ROWS))
def test_inplace_function_parity(name):
    torch = pytest.importorskip("torch")
    t, (args, kwargs) = _setup(_ROWS[name], "flambeau")
    tt, (targs, tkwargs) = _setup(_ROWS[name], "torch")
    getattr(flambeau, name)(t, *args, **kwargs)
    getattr(torch, name)(tt, *targs, **tkwargs)
    assert t.dtype.name == str(tt.dtype).split(".")[1]
    assert tuple(t.shape) == tuple(tt.shape)
    np.testing.assert_allclose(t.detach().cpu().numpy(), tt.detach().cpu().numpy(), rtol=1e-6,
                               atol=1e-6)
    assert t.requires_grad == tt.requires_grad


def _float_rows():
    return sorted(n for n, row in _ROWS.items()
                  if "flambeau.tensor([4, 6])" not in row[1] and n != "detach_")


@pytest.mark.parametrize("name", _float_rows())
def test_inplace_function_on_leaf_requiring_grad_raises(name):
    t, (args, kwargs) = _setup(_ROWS[name], "flambeau")
    t.requires_grad_(True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad|require grad"):
        getattr(flambeau, name)(t, *args, **kwargs)
    torch = torch_or_none()
    if torch is not None:
        tt, (targs, tkwargs) = _setup(_ROWS[name], "torch")
        tt.requires_grad_(True)
        with pytest.raises(RuntimeError):
            getattr(torch, name)(tt, *targs, **tkwargs)


_GRAD_ROWS = [n for n in _float_rows() if n != "resize_as_"]


@pytest.mark.parity
@pytest.mark.parametrize("name", _GRAD_ROWS)
def test_inplace_function_gradient_parity(name):
    """An in-place function on a non-leaf: the gradient reaching the leaf matches torch."""
    torch = pytest.importorskip("torch")
    grads = []
    for lib_name in ("flambeau", "torch"):
        lib = __import__(lib_name)
        t, (args, kwargs) = _setup(_ROWS[name], lib_name)
        leaf = t.detach().clone().requires_grad_(True)
        y = leaf * 1.0
        getattr(lib, name)(y, *args, **kwargs)
        weights = lib.arange(1.0, y.numel() + 1).reshape(y.shape)
        try:
            (y * weights).sum().backward()
        except NotImplementedError:  # torch has no derivative for some in-place forms (acosh_)
            y = getattr(lib, name[:-1])(leaf * 1.0, *args, **kwargs)
            (y * weights).sum().backward()
        grads.append(leaf.grad.cpu().numpy() if leaf.grad is not None else None)
    assert (grads[0] is None) == (grads[1] is None)
    if grads[0] is not None:
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
    assert torch is not None


def test_detach_function_cuts_history():
    y = flambeau.ones(2, requires_grad=True) * 2
    assert flambeau.detach_(y) is y
    assert not y.requires_grad and y.grad_fn is None


def test_inplace_function_needs_a_tensor():
    with pytest.raises(TypeError, match=r"abs_\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not float"):
        flambeau.abs_(1.0)


def test_inplace_function_keeps_dtype_rule():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        flambeau.sqrt_(flambeau.tensor([4]))


def test_inplace_functions_are_exported_with_docstrings():
    for name in _ROWS:
        fn = getattr(flambeau, name)
        assert name in flambeau.__all__
        assert fn.__name__ == name and ">>> " in fn.__doc__


def test_fill_out_of_place_and_gradient():
    x = flambeau.zeros(2, 3)
    y = flambeau.fill(x, 2.5)
    assert y is not x and x.sum().item() == 0.0
    assert y.tolist() == [[2.5] * 3] * 2 and y.dtype is flambeau.float32
    v = flambeau.tensor(2.0, requires_grad=True)
    w = flambeau.fill(flambeau.zeros(3), v)
    w.sum().backward()
    assert v.grad.item() == 3.0
    x = flambeau.zeros(2, requires_grad=True)
    flambeau.fill(x, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("value", [flambeau.ones(2), flambeau.ones(1)])
def test_fill_needs_0dim_value(value):
    with pytest.raises(RuntimeError, match="only supports 0-dimension value tensor but got "
                                           "tensor with 1 dimensions"):
        flambeau.fill(flambeau.zeros(2), value)
    with pytest.raises(RuntimeError, match="only supports 0-dimension value tensor"):
        flambeau.fill_(flambeau.zeros(2), value)


def test_index_put_function_accumulates():
    t = flambeau.zeros(3)
    flambeau.index_put_(t, (flambeau.tensor([0, 2, 0]),), flambeau.tensor([1.0, 2.0, 3.0]),
                        accumulate=True)
    assert t.tolist() == [4.0, 0.0, 2.0]


# ------------------------------------------------------------------ *_copy (harness)


def _rand(rng, dt, *shape):
    return np.asarray(rng.standard_normal(shape), dtype=dt)


def _case(name, f, inputs, **kw):
    fn, torch_fn = both(f)
    return OpCase(name, fn, torch_fn, inputs, **kw)


COPY_CASES = [
    _case("alias_copy", lambda lib, x: lib.alias_copy(x) * 1,
          lambda rng, dt: [(_rand(rng, dt, 2, 3),), (_rand(rng, dt),)]),
    _case("diagonal_copy", lambda lib, x: (lib.diagonal_copy(x), lib.diagonal_copy(x, -1, 1, 2)),
          lambda rng, dt: [(_rand(rng, dt, 3, 3, 3),), (_rand(rng, dt, 2, 3, 4),)]),
    _case("expand_copy", lambda lib, x: lib.expand_copy(x, (2, 3, 4)),
          lambda rng, dt: [(_rand(rng, dt, 3, 1),), (_rand(rng, dt, 1, 4),), (_rand(rng, dt),)]),
    _case("permute_copy", lambda lib, x: lib.permute_copy(x, (2, 0, 1)),
          lambda rng, dt: [(_rand(rng, dt, 2, 3, 4),)]),
    _case("select_copy", lambda lib, x: (lib.select_copy(x, 0, 1), lib.select_copy(x, -1, -2)),
          lambda rng, dt: [(_rand(rng, dt, 2, 3),)]),
    _case("slice_copy", lambda lib, x: (lib.slice_copy(x, 1, 1, None, 2),
                                        lib.slice_copy(x), lib.slice_copy(x, -1, -3, 9)),
          lambda rng, dt: [(_rand(rng, dt, 2, 5),)]),
    _case("split_copy", lambda lib, x: lib.split_copy(x, 2, 1),
          lambda rng, dt: [(_rand(rng, dt, 2, 5),)]),
    _case("split_with_sizes_copy", lambda lib, x: lib.split_with_sizes_copy(x, [1, 3, 1], -1),
          lambda rng, dt: [(_rand(rng, dt, 2, 5),)]),
    _case("squeeze_copy", lambda lib, x: (lib.squeeze_copy(x), lib.squeeze_copy(x, 0),
                                          lib.squeeze_copy(x, (0, 2))),
          lambda rng, dt: [(_rand(rng, dt, 1, 3, 1),)]),
    _case("t_copy", lambda lib, x: lib.t_copy(x),
          lambda rng, dt: [(_rand(rng, dt, 2, 3),), (_rand(rng, dt, 3),)]),
    _case("transpose_copy", lambda lib, x: lib.transpose_copy(x, 0, -1),
          lambda rng, dt: [(_rand(rng, dt, 2, 3, 4),)]),
    _case("unbind_copy", lambda lib, x: lib.unbind_copy(x, 1),
          lambda rng, dt: [(_rand(rng, dt, 2, 3),)]),
    _case("unfold_copy", lambda lib, x: lib.unfold_copy(x, -1, 2, 1),
          lambda rng, dt: [(_rand(rng, dt, 2, 4),), (_rand(rng, dt, 5),)]),
    _case("unsqueeze_copy", lambda lib, x: (lib.unsqueeze_copy(x, 0), lib.unsqueeze_copy(x, -1)),
          lambda rng, dt: [(_rand(rng, dt, 2, 3),), (_rand(rng, dt),)]),
    _case("view_copy", lambda lib, x: (lib.view_copy(x, (3, -1)), lib.view_copy(x, [-1])),
          lambda rng, dt: [(_rand(rng, dt, 2, 3),)]),
]

test_gradcheck, test_numpy_reference, test_parity = op_tests(COPY_CASES)


_COPY_CALLS = {
    "alias_copy": lambda x: flambeau.alias_copy(x),
    "detach_copy": lambda x: flambeau.detach_copy(x),
    "diagonal_copy": lambda x: flambeau.diagonal_copy(x),
    "expand_copy": lambda x: flambeau.expand_copy(x[:1], (3, 3)),
    "permute_copy": lambda x: flambeau.permute_copy(x, (1, 0)),
    "select_copy": lambda x: flambeau.select_copy(x, 0, 1),
    "slice_copy": lambda x: flambeau.slice_copy(x, 1, 0, 2),
    "split_copy": lambda x: flambeau.split_copy(x, 2)[0],
    "split_with_sizes_copy": lambda x: flambeau.split_with_sizes_copy(x, [1, 2])[1],
    "squeeze_copy": lambda x: flambeau.squeeze_copy(x[None]),
    "t_copy": lambda x: flambeau.t_copy(x),
    "transpose_copy": lambda x: flambeau.transpose_copy(x, 0, 1),
    "unbind_copy": lambda x: flambeau.unbind_copy(x)[0],
    "unfold_copy": lambda x: flambeau.unfold_copy(x, 1, 2, 1),
    "unsqueeze_copy": lambda x: flambeau.unsqueeze_copy(x, 0),
    "view_copy": lambda x: flambeau.view_copy(x, -1),
}


@pytest.mark.parametrize("name", sorted(_COPY_CALLS))
def test_copy_functions_own_their_memory(name):
    x = flambeau.arange(9.0).reshape(3, 3)
    y = _COPY_CALLS[name](x)
    assert y.is_contiguous()
    y.fill_(-1.0)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]


def test_detach_copy_has_no_history_and_view_copy_dtype():
    x = flambeau.ones(2, requires_grad=True)
    y = flambeau.detach_copy(x)
    assert not y.requires_grad and y.grad_fn is None
    z = flambeau.view_copy(flambeau.tensor([1.0]), flambeau.int32)
    assert z.dtype is flambeau.int32 and z.tolist() == [1065353216]


def test_copy_functions_out():
    out = flambeau.empty(0)
    r = flambeau.t_copy(flambeau.tensor([[1.0, 2.0]]), out=out)
    assert r is out and out.tolist() == [[1.0], [2.0]]
    outs = (flambeau.empty(2), flambeau.empty(1))
    r = flambeau.split_copy(flambeau.tensor([1.0, 2.0, 3.0]), 2, out=outs)
    assert r is outs and outs[0].tolist() == [1.0, 2.0] and outs[1].tolist() == [3.0]


def test_slice_copy_edge_cases():
    x = flambeau.arange(10)
    assert flambeau.slice_copy(x, 0, 20, 30).tolist() == []
    assert flambeau.slice_copy(x, 0, 7, 3).tolist() == []
    assert flambeau.slice_copy(x, start=-3).tolist() == [7, 8, 9]
    with pytest.raises(RuntimeError, match="slice_copy: slice step must be positive, got -1"):
        flambeau.slice_copy(x, 0, 0, 5, -1)
    with pytest.raises(RuntimeError, match="slice step must be positive, got 0"):
        flambeau.slice_copy(x, 0, 0, 5, 0)
    with pytest.raises(IndexError, match="cannot be applied to a 0-dim tensor"):
        flambeau.slice_copy(flambeau.tensor(1.0))


# ------------------------------------------------------------------ switches and queries


@pytest.fixture
def restore_switches():
    saved = dict(tm._state)
    yield
    tm._state.update(saved)


@pytest.mark.parametrize("mode,expected", [
    ("default", (0, False, False)), ("warn", (1, True, True)), ("error", (2, True, False)),
    (0, (0, False, False)), (1, (1, True, True)), (2, (2, True, False)),
])
def test_deterministic_debug_mode(mode, expected, restore_switches):
    flambeau.set_deterministic_debug_mode(mode)
    got = (flambeau.get_deterministic_debug_mode(), flambeau.are_deterministic_algorithms_enabled(),
           flambeau.is_deterministic_algorithms_warn_only_enabled())
    assert got == expected
    torch = torch_or_none()
    if torch is not None:
        torch.set_deterministic_debug_mode(mode)
        try:
            assert got == (torch.get_deterministic_debug_mode(),
                           torch.are_deterministic_algorithms_enabled(),
                           torch.is_deterministic_algorithms_warn_only_enabled())
        finally:
            torch.set_deterministic_debug_mode(0)


def test_deterministic_errors(restore_switches):
    with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`, but "
                                           "got bad"):
        flambeau.set_deterministic_debug_mode("bad")
    with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 3"):
        flambeau.set_deterministic_debug_mode(3)
    with pytest.raises(TypeError, match="debug_mode must be str or int, but got <class 'float'>"):
        flambeau.set_deterministic_debug_mode(1.0)
    with pytest.raises(TypeError, match=r"argument 'mode' \(position 1\) must be bool, not int"):
        flambeau.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="'warn_only' must be bool, not str"):
        flambeau.use_deterministic_algorithms(True, warn_only="yes")
    flambeau.use_deterministic_algorithms(True, warn_only=True)
    assert flambeau.get_deterministic_debug_mode() == 1
    flambeau.use_deterministic_algorithms(False, warn_only=True)
    assert flambeau.get_deterministic_debug_mode() == 0
    assert flambeau.is_deterministic_algorithms_warn_only_enabled()


def test_float32_matmul_precision(restore_switches):
    assert flambeau.get_float32_matmul_precision() == "highest"
    for p in ("high", "medium", "highest"):
        flambeau.set_float32_matmul_precision(p)
        assert flambeau.get_float32_matmul_precision() == p
    flambeau.set_float32_matmul_precision("medium")
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        flambeau.set_float32_matmul_precision("low")
    assert flambeau.get_float32_matmul_precision() == "medium"
    with pytest.raises(RuntimeError, match="set_float32_matmul_precision expects a str, but "
                                           "got int"):
        flambeau.set_float32_matmul_precision(1)


def test_interop_threads(restore_switches):
    assert flambeau.get_num_interop_threads() >= 1
    flambeau.set_num_interop_threads(3)
    assert flambeau.get_num_interop_threads() == 3
    for bad, msg in ((0, "expects a positive integer"), (-1, "expects a positive integer"),
                     (2.0, "expects an int, but got float"), (True, "expects an int, but got "
                                                                    "bool")):
        with pytest.raises(RuntimeError, match=f"set_num_interop_threads {msg}"):
            flambeau.set_num_interop_threads(bad)
    assert flambeau.get_num_interop_threads() == 3


def test_flush_denormal_and_warn_always(restore_switches):
    assert flambeau.set_flush_denormal(True) is False
    assert flambeau.set_flush_denormal(False) is False
    with pytest.raises(TypeError, match="must be bool, not int"):
        flambeau.set_flush_denormal(1)
    assert flambeau.is_warn_always_enabled() is False
    flambeau.set_warn_always(True)
    assert flambeau.is_warn_always_enabled() is True
    with pytest.raises(RuntimeError, match="set_warn_always expects a bool, but got int"):
        flambeau.set_warn_always(1)


def test_anomaly_switches_share_autograd_state():
    assert not flambeau.is_anomaly_enabled() and flambeau.is_anomaly_check_nan_enabled()
    flambeau.set_anomaly_enabled(True)
    try:
        assert flambeau.autograd.is_anomaly_enabled() and flambeau.is_anomaly_check_nan_enabled()
        flambeau.set_anomaly_enabled(True, False)
        assert flambeau.is_anomaly_enabled() and not flambeau.is_anomaly_check_nan_enabled()
    finally:
        flambeau.set_anomaly_enabled(False)
    assert not flambeau.is_anomaly_enabled() and flambeau.is_anomaly_check_nan_enabled()
    with flambeau.autograd.detect_anomaly(check_nan=False):
        assert flambeau.is_anomaly_enabled() and not flambeau.is_anomaly_check_nan_enabled()
    assert not flambeau.is_anomaly_enabled() and flambeau.is_anomaly_check_nan_enabled()


def test_anomaly_check_nan_off_lets_nan_through():
    x = flambeau.tensor([0.0], requires_grad=True)
    with flambeau.autograd.detect_anomaly(check_nan=False):
        (flambeau.sqrt(x) * 0).backward()
    assert math.isnan(x.grad.item())
    x.grad = None
    with flambeau.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="returned nan"):
        (flambeau.sqrt(x) * 0).backward()


def test_is_complex_is_storage():
    assert flambeau.is_complex(flambeau.zeros(1)) is False
    assert flambeau.zeros(1).is_complex() is False
    assert flambeau.is_complex(flambeau.zeros(1, dtype=flambeau.complex128)) is True
    assert flambeau.zeros(1, dtype=flambeau.cfloat).is_complex() is True
    with pytest.raises(TypeError, match=r"is_complex\(\): argument 'input' \(position 1\) must "
                                        r"be Tensor, not float"):
        flambeau.is_complex(1.0)
    assert flambeau.is_storage(flambeau.zeros(1)) is False


def test_typename():
    cpu = {"device": "cpu"}  # elsewhere the name says the device: 'flambeau.cuda.FloatTensor'
    assert flambeau.typename(flambeau.zeros(1, **cpu)) == "flambeau.FloatTensor"
    assert flambeau.typename(flambeau.zeros(1, dtype=flambeau.float64, **cpu)) == (
        "flambeau.DoubleTensor")
    assert flambeau.typename(flambeau.zeros(1, dtype=flambeau.bool, **cpu)) == "flambeau.BoolTensor"
    assert flambeau.typename(flambeau.Tensor) == "flambeau._tensor.Tensor"
    assert flambeau.typename(flambeau.device("cpu")) == "flambeau._device.device"
    assert flambeau.typename(test_typename) == "test_toplevel_more.test_typename"
    torch = torch_or_none()
    objects = [1, 1.0, "a", None, [1], warnings, warnings.catch_warnings,
               warnings.catch_warnings()]
    expected = ["int", "float", "str", "NoneType", "list", "warnings",
                "warnings.catch_warnings", "warnings.catch_warnings"]
    assert [flambeau.typename(o) for o in objects] == expected
    if torch is not None:
        assert [torch.typename(o) for o in objects] == expected
        assert torch.typename(torch.zeros(1)) == "torch.FloatTensor"


_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
           "float64"]


@pytest.mark.parametrize("src", _DTYPES)
def test_can_cast_every_pair(src):
    got = [flambeau.can_cast(getattr(flambeau, src), getattr(flambeau, d)) for d in _DTYPES]
    kinds = [0] + [1] * 5 + [2] * 4
    assert got == [kinds[_DTYPES.index(src)] <= k for k in kinds]
    torch = torch_or_none()
    if torch is not None:
        assert got == [torch.can_cast(getattr(torch, src), getattr(torch, d)) for d in _DTYPES]


def test_can_cast_examples_and_errors():
    assert flambeau.can_cast(flambeau.int64, flambeau.float16)
    assert not flambeau.can_cast(flambeau.float16, flambeau.bool)
    assert flambeau.can_cast(flambeau.bool, flambeau.bool)
    with pytest.raises(TypeError, match=r"argument 'from_' \(position 1\) must be "
                                        r"flambeau.dtype, not int"):
        flambeau.can_cast(1, flambeau.float32)
    with pytest.raises(TypeError, match=r"argument 'to' \(position 2\)"):
        flambeau.can_cast(flambeau.float32, "float64")


# ------------------------------------------------------------------ creation and small ops


def test_scalar_tensor():
    t = flambeau.scalar_tensor(3)
    assert t.dim() == 0 and t.dtype is flambeau.float32 and t.item() == 3.0
    assert flambeau.scalar_tensor(True).dtype is flambeau.float32
    assert flambeau.scalar_tensor(2.5, dtype=flambeau.int64).item() == 2
    assert flambeau.scalar_tensor(1, requires_grad=True).requires_grad
    assert flambeau.scalar_tensor(flambeau.tensor(2.0)).item() == 2.0
    with pytest.raises(TypeError, match=r"argument 's' \(position 1\) must be Number, not list"):
        flambeau.scalar_tensor([1])


@pytest.mark.parity
@pytest.mark.parametrize("args,kwargs", [
    (("[1.0, 2.0]", "5"), {}), (("[1.0, 2.0]", "lib.tensor(3.0)"), {"alpha": 2}),
    (("[1, 2]", "5"), {}), (("[1, 2]", "5.5"), {}), (("[[1.0], [2.0]]", "lib.tensor([1.0, 3.0])"),
                                                     {"alpha": 0.5}),
])
def test_rsub_parity(args, kwargs):
    torch = pytest.importorskip("torch")
    res = []
    for lib in (flambeau, torch):
        env = {"lib": lib}
        res.append(lib.rsub(lib.tensor(eval(args[0])), eval(args[1], env), **kwargs))  # noqa: S307
    assert res[0].dtype.name == str(res[1].dtype).split(".")[1]
    np.testing.assert_allclose(res[0].cpu().numpy(), res[1].cpu().numpy())


def test_rsub_values_grad_and_errors():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = flambeau.rsub(x, 5.0, alpha=3)
    assert y.tolist() == [2.0, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [-3.0, -3.0]
    with pytest.raises(TypeError, match=r"rsub\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not int"):
        flambeau.rsub(5, flambeau.tensor([1.0]))


@pytest.mark.parametrize("args,kwargs,expected", [
    ((1, 4), {}, [1.0, 2.0, 3.0, 4.0]),
    ((1, 4, 0.5), {}, [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]),
    ((0, 0.3, 0.1), {}, [0.0, 0.1, 0.2]),
    ((4, 1, -1), {}, [4.0, 3.0, 2.0, 1.0]),
    ((1, 4), {"dtype": "int64"}, [1, 2, 3, 4]),
    ((0, 1, 0.1), {}, None),
])
def test_range_values_and_warning(args, kwargs, expected):
    kw = {k: getattr(flambeau, v) for k, v in kwargs.items()}
    with pytest.warns(UserWarning, match="flambeau.range is deprecated"):
        t = flambeau.range(*args, **kw)
    assert t.dtype is kw.get("dtype", flambeau.float32)
    if expected is not None:
        np.testing.assert_allclose(t.cpu().numpy(), expected, rtol=1e-6)
    torch = torch_or_none()
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = torch.range(*args, **{k: getattr(torch, v) for k, v in kwargs.items()})
        assert tuple(t.shape) == tuple(tt.shape)
        np.testing.assert_allclose(t.cpu().numpy(), tt.cpu().numpy(), rtol=1e-6)


def test_range_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="range: step must be nonzero"):
            flambeau.range(1, 4, 0)
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            flambeau.range(4, 1)
        with pytest.raises(TypeError):
            flambeau.range(5)


@pytest.mark.host_only  # CPU strides / index -1
def test_get_device():
    assert flambeau.get_device(flambeau.zeros(1)) == -1
    with pytest.raises(TypeError, match=r"get_device\(\): argument 'input' \(position 1\) must "
                                        r"be Tensor, not int"):
        flambeau.get_device(1)


@pytest.mark.parametrize("size,stride", [((2, 3), (1, 2)), ((2, 3), (0, 1)), ((2, 3), (3, 1)),
                                         ((0, 3), (3, 1)), ((), ()), ((4,), (2,))])
@pytest.mark.host_only  # CPU strides / index -1
def test_empty_strided(size, stride):
    t = flambeau.empty_strided(size, stride, dtype=flambeau.float64)
    assert tuple(t.shape) == size and t.stride() == stride and t.dtype is flambeau.float64
    t.fill_(1.5)
    assert bool((t == 1.5).all())
    torch = torch_or_none()
    if torch is not None:
        tt = torch.empty_strided(size, stride)
        assert tt.stride() == t.stride() and tt.is_contiguous() == t.is_contiguous()


def test_empty_strided_errors_and_grad():
    with pytest.raises(RuntimeError, match=r"dimensionality of sizes \(2\) must match "
                                           r"dimensionality of strides \(1\)"):
        flambeau.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="negative dimension -3"):
        flambeau.empty_strided((2, -3), (1, 1))
    with pytest.raises(RuntimeError, match="strides must be non-negative"):
        flambeau.empty_strided((2, 3), (-1, 1))
    assert flambeau.empty_strided((2,), (1,), requires_grad=True).requires_grad


@pytest.mark.parametrize("size,layout", [((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (2, 1, 0)),
                                         ((2, 3), (0, 1)), ((5,), (0,))])
def test_empty_permuted(size, layout):
    t = flambeau.empty_permuted(size, layout)
    assert tuple(t.shape) == size
    torch = torch_or_none()
    if torch is not None:
        assert t.stride() == torch.empty_permuted(size, layout).stride()
    strides = t.stride()
    assert sorted(strides, reverse=True) == [strides[d] for d in layout]


def test_empty_permuted_errors():
    with pytest.raises(RuntimeError, match=r"len\(size\) = 3 is not equal to "
                                           r"len\(physical_layout\) = 2"):
        flambeau.empty_permuted((2, 3, 4), (0, 1))
    with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
        flambeau.empty_permuted((2, 3, 4), (0, 0, 1))
    with pytest.raises(RuntimeError, match=r"Dimension out of range \(expected to be between 0 "
                                           r"and 2, but got 3 at index 2\)"):
        flambeau.empty_permuted((2, 3, 4), (0, 1, 3))


def test_frombuffer_shares_memory():
    b = bytearray(np.array([1.0, 2.0], dtype=np.float32).tobytes())
    t = flambeau.frombuffer(b, dtype=flambeau.float32)
    assert t.tolist() == [1.0, 2.0]
    b[0:4] = np.array([3.0], dtype=np.float32).tobytes()
    assert t.tolist() == [3.0, 2.0]
    t[1] = 7.0
    assert np.frombuffer(b, dtype=np.float32).tolist() == [3.0, 7.0]
    assert flambeau.frombuffer(b, dtype=flambeau.float32, count=1, offset=4).tolist() == [7.0]
    u = flambeau.frombuffer(b, dtype=flambeau.uint8, offset=2)
    assert u.dtype is flambeau.uint8 and u.numel() == 6
    a = array.array("i", [1, 2, 3])
    t = flambeau.frombuffer(a, dtype=flambeau.int32)
    a[2] = -5
    assert t.tolist() == [1, 2, -5]
    assert flambeau.frombuffer(bytearray(8), dtype=flambeau.float32,
                               requires_grad=True).requires_grad


@pytest.mark.parity
def test_frombuffer_parity():
    torch = pytest.importorskip("torch")
    raw = np.arange(6, dtype=np.float64).tobytes()
    for kw in ({}, {"count": 2}, {"offset": 8}, {"count": 3, "offset": 16}):
        got = flambeau.frombuffer(bytearray(raw), dtype=flambeau.float64, **kw)
        want = torch.frombuffer(bytearray(raw), dtype=torch.float64, **kw)
        assert got.tolist() == want.tolist()


@pytest.mark.parametrize("buf,kw,msg", [
    (bytearray(8), {"count": 3}, r"requested buffer length \(3 \* 4 bytes\) after offset \(0 "
                                 r"bytes\) must not be greater than actual buffer length \(8 "
                                 r"bytes\)"),
    (bytearray(8), {"offset": 9}, r"offset \(9 bytes\) must be non-negative and no greater "
                                  r"than buffer length \(8 bytes\) minus 1"),
    (bytearray(8), {"offset": -1}, r"offset \(-1 bytes\) must be non-negative"),
    (bytearray(8), {"offset": 8}, r"offset \(8 bytes\) must be non-negative"),
    (bytearray(8), {"count": 0}, r"both buffer length \(8\) and count \(0\) must not be 0"),
    (bytearray(7), {}, r"buffer length \(7 bytes\) after offset \(0 bytes\) must be a multiple "
                       r"of element size \(4\)"),
    (bytearray(0), {}, r"both buffer length \(0\) and count \(-1\) must not be 0"),
    ([1, 2], {}, "object does not implement Python buffer protocol"),
])
def test_frombuffer_errors(buf, kw, msg):
    with pytest.raises(ValueError, match=msg):
        flambeau.frombuffer(buf, dtype=flambeau.float32, **kw)


def test_frombuffer_readonly_warns_once_unless_warn_always(restore_switches):
    tm._warned_once.discard("frombuffer")
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        t = flambeau.frombuffer(bytes(8), dtype=flambeau.float32)
    assert t.tolist() == [0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flambeau.frombuffer(bytes(8), dtype=flambeau.float32)  # once per process
    flambeau.set_warn_always(True)
    with pytest.warns(UserWarning, match="not writable"):
        flambeau.frombuffer(bytes(8), dtype=flambeau.float32)


# ------------------------------------------------------------------ compile


def test_compile_returns_the_model_unchanged():
    def f(x):
        return x + 1

    assert flambeau.compile(f) is f
    assert flambeau.compile(f, mode="max-autotune", fullgraph=True, dynamic=False) is f
    assert flambeau.compile(f, options={"trace.enabled": True}) is f
    assert flambeau.compile(f, disable=True, backend="eager") is f

    @flambeau.compile
    def g(x):
        return x * 2

    @flambeau.compile(mode="reduce-overhead")
    def h(x):
        return x * 3

    assert g(flambeau.tensor([1.0])).tolist() == [2.0]
    assert h(flambeau.tensor([1.0])).tolist() == [3.0]
    assert g.__name__ == "g" and h.__name__ == "h"


def test_compile_errors():
    with pytest.raises(RuntimeError, match="Unrecognized mode=bad, should be one of: default, "
                                           "lite, reduce-overhead"):
        flambeau.compile(len, mode="bad")
    deco = flambeau.compile(mode="bad")  # checked when applied, as in PyTorch
    with pytest.raises(RuntimeError, match="Unrecognized mode=bad"):
        deco(len)
    with pytest.raises(RuntimeError, match="Either mode or options can be specified, but both "
                                           "can't be specified at the same time"):
        flambeau.compile(len, mode="default", options={})
    with pytest.raises(AssertionError, match="A callable function is expected, but <class "
                                             "'int'> is provided"):
        flambeau.compile(1)


def test_all_names_exported():
    for name in tm.__all__:
        assert name in flambeau.__all__  # (an op with dim is behind flambeau._keywords' layer)
        assert inspect.unwrap(getattr(flambeau, name)) is inspect.unwrap(getattr(tm, name))

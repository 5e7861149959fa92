"""PyTorch's deprecated scalar-first overloads: ``add(Number alpha, Tensor other)`` (``sub``,
``add_``, ``sub_``), ``addcmul(Number value, Tensor tensor1, Tensor tensor2)`` (``addcdiv``,
``addcmul_``, ``addcdiv_``) and ``addmm(Number beta, Tensor input, [Number alpha,] ...)``
(``addmv``, ``addr``, ``baddbmm``, ``addbmm``), as functions, methods and in place.

Old training loops and optimizers update parameters with ``p.data.add_(-lr, p.grad.data)``
(pytorch/examples' word_language_model still does) or ``p.data.addcdiv_(-step_size, exp_avg,
denom)``; ``add_`` used to read the first argument only and silently add ``-lr`` to every
element, ``addcdiv_`` raised. Now the deprecated order computes what PyTorch computes, with a
warning, and other extra positional arguments raise PyTorch's TypeError.
"""

import inspect
import pathlib
import re
import warnings

import numpy as np
import pytest

import flambeau
from flambeau._ops import _deprecated

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity


@pytest.fixture(autouse=True)
def _torch_warns_always():
    # torch warns once per process for all its deprecated overloads together
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    yield
    torch.set_warn_always(before)


def _warned(call):
    """``call()``'s result and the text of the deprecation it warned, torch's C++ location
    left out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    texts = [re.sub(r" \(Triggered internally at .*\)$", "", str(w.message), flags=re.S)
             for w in caught if "deprecated" in str(w.message)]
    assert len(texts) == 1, texts
    return result, texts[0]


def _both(values, dtype):
    return (flambeau.tensor(values, dtype=getattr(flambeau, dtype)),
            torch.tensor(values, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("op", ["add", "sub", "add_", "sub_"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("alpha", [2, -1.5, True, "0-d tensor"])
def test_alpha_first_order_computes_as_torch(op, dtype, alpha):
    values = [True, False, True] if dtype == "bool" else [1, 2, 3]
    fx, tx = _both(values, dtype)
    fo, to = _both([False, True, True] if dtype == "bool" else [4, -5, 6], dtype)
    fa, ta = (flambeau.tensor(3), torch.tensor(3)) if alpha == "0-d tensor" else (alpha, alpha)
    if op.startswith("sub") and dtype == "bool":
        fx, tx = fx.long(), tx.long()  # subtraction of bools is refused either way
    try:
        want = getattr(tx, op)(ta, to)
    except RuntimeError as exc:
        with pytest.raises(RuntimeError, match=str(exc).split(".")[0]):
            getattr(fx, op)(fa, fo)
        return
    got, text = _warned(lambda: getattr(fx, op)(fa, fo))
    assert text == _warned(lambda: getattr(tx.clone(), op)(ta, to))[1]
    assert (got is fx) == op.endswith("_")
    assert got.dtype.name == str(want.dtype)[6:]
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_alpha_first_update_of_parameters_as_torch():
    # word_language_model's plain SGD step after clip_grad_norm_
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4))
    fp, tp = flambeau.nn.Parameter(flambeau.tensor(w)), torch.nn.Parameter(torch.tensor(w))
    (fp * flambeau.tensor(g, dtype=flambeau.float32)).sum().backward()
    (tp * torch.tensor(g, dtype=torch.float32)).sum().backward()
    with pytest.warns(UserWarning):
        fp.data.add_(-20, fp.grad.data)
    tp.data.add_(-20, tp.grad.data)  # torch warns once per process
    np.testing.assert_allclose(fp.detach().cpu().numpy(), tp.detach().numpy(), rtol=1e-6)


@pytest.mark.filterwarnings("ignore:sub_")
def test_alpha_first_in_place_on_a_graph_gives_torch_gradients():
    x0 = np.array([1.0, -2.0, 3.0], np.float32)
    grads = []
    for lib in (flambeau, torch):
        x = lib.tensor(x0, requires_grad=True)
        o = lib.tensor(x0[::-1].copy(), requires_grad=True)
        y = x * 2
        y.sub_(0.5, o * o)
        (y * y).sum().backward()
        grads.append((x.grad, o.grad))
    for f, t in zip(*grads):
        np.testing.assert_allclose(f.cpu().numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["addcmul", "addcdiv", "addcmul_", "addcdiv_"])
@pytest.mark.parametrize("value", [0.5, -2, "0-d tensor"])
def test_value_first_order_computes_as_torch(op, value):
    # old Adam/RAdam code: exp_avg_sq.addcmul_(1 - beta2, grad, grad),
    # p.data.addcdiv_(-step_size, exp_avg, denom)
    fx, tx = _both([1.0, 2.0, 3.0], "float32")
    f1, t1 = _both([0.5, -1.0, 2.0], "float32")
    f2, t2 = _both([2.0, 4.0, -8.0], "float32")
    fv, tv = (flambeau.tensor(3.0), torch.tensor(3.0)) if value == "0-d tensor" else (value,
                                                                                       value)
    want, text = _warned(lambda: getattr(tx, op)(tv, t1, t2))
    got, got_text = _warned(lambda: getattr(fx, op)(fv, f1, f2))
    assert got_text == text
    assert (got is fx) == op.endswith("_")
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(getattr(fx.clone(), op)(f1, f2, value=2).cpu().numpy(),
                               getattr(tx.clone(), op)(t1, t2, value=2).numpy(), rtol=1e-6)


@pytest.mark.parametrize("op, args", [("add_", "other, 2"), ("sub_", "other, 2"),
                                      ("mul_", "2, 3"), ("div_", "2, 3"),
                                      ("add_", "-1, other, other")])
def test_other_extra_positional_arguments_raise_torch_type_error(op, args):
    fx, tx = _both([1.0, 2.0], "float32")
    fo, to = _both([3.0, 4.0], "float32")
    t_args = eval(f"({args},)", {"other": to})
    f_args = eval(f"({args},)", {"other": fo})
    n = len(f_args)
    with pytest.raises(TypeError, match=rf"{op}\(\)"):  # torch's wording depends on the op
        getattr(tx, op)(*t_args)
    with pytest.raises(TypeError, match=rf"{op}\(\) takes 1 positional argument but {n} were "):
        getattr(fx, op)(*f_args)
    np.testing.assert_array_equal(fx.cpu().numpy(), [1.0, 2.0])  # left unchanged


def _operands(lib):
    g = np.random.default_rng(0)

    def t(*shape):
        return lib.tensor(g.standard_normal(shape).astype(np.float32))

    return {"lib": lib, "x": t(3), "y": t(3), "z": t(3).abs() + 1, "M": t(2, 2), "a": t(2, 3),
            "b": t(3, 2), "v": t(2), "w": t(3), "u": t(2), "B": t(4, 2, 3), "C": t(4, 3, 2),
            "S": t(4, 2, 2), "o": lib.empty(3), "O": lib.empty(2, 2)}


_ACCEPTED = [
    # functions (out= too)
    "lib.add(x, 2, y)", "lib.sub(x, 2.5, y)", "lib.add(x, lib.tensor(2.0), y)",
    "lib.add(x, 2, y, out=o)", "lib.sub(x, 2, y, out=o)", "lib.add(x, 2, other=y)",
    "lib.add(x, 2, other=y, out=o)", "lib.sub(x, 2, other=y)",
    "lib.addcmul(x, 0.5, y, y)", "lib.addcdiv(x, 0.5, y, z)", "lib.addcmul(x, 0.5, y, tensor2=z)",
    "lib.addcdiv(x, -1, y, z, out=o)",
    "lib.addmm(0.5, M, 2.0, a, b)", "lib.addmm(0.5, M, a, b)", "lib.addmm(0.5, M, a, mat2=b)",
    "lib.addmm(0.5, input=M, mat1=a, mat2=b)", "lib.addmm(0.5, M, 2.0, a, b, out=O)",
    "lib.addmv(0.5, v, 2.0, a, w)", "lib.addmv(0.5, v, a, w)", "lib.addr(0.5, M, 2.0, v, u)",
    "lib.addr(0.5, M, v, u)", "lib.baddbmm(0.5, S, 2.0, B, C)", "lib.baddbmm(0.5, S, B, C)",
    "lib.addbmm(0.5, M, 2.0, B, C)", "lib.addbmm(0.5, M, B, C, out=O)",
    # methods
    "x.add(2, other=y)", "x.sub(lib.tensor(-1.0), y)", "x.addcmul(0.5, y, tensor2=z)",
    "M.addmm(0.5, 2.0, a, b)", "M.addmm(0.5, a, b)", "M.addmm(0.5, mat1=a, mat2=b)",
    "v.addmv(0.5, 2.0, a, w)", "v.addmv(0.5, a, w)", "M.addr(0.5, 2.0, v, u)",
    "M.addr(0.5, v, u)", "S.baddbmm(0.5, 2.0, B, C)", "S.baddbmm(0.5, B, C)",
    "M.addbmm(0.5, 2.0, B, C)", "M.addbmm(0.5, B, C)",
    # in place
    "M.clone().addmm_(0.5, 2.0, a, b)", "M.clone().addmm_(0.5, a, b)",
    "v.clone().addmv_(0.5, a, w)", "M.clone().addr_(0.5, 2.0, v, u)",
    "S.clone().baddbmm_(0.5, B, C)", "M.clone().addbmm_(0.5, 2.0, B, C)",
    "x.clone().add_(2, other=y)",
    # a number for add/sub's other: torch's parser takes it as a tensor
    "lib.add(x, 2, 5)", "lib.sub(x, 2.5, 3)", "lib.add(x, 2, 5, out=o)", "x.add(2, 5)",
    "x.clone().sub_(2, 5)", "lib.sub(x, lib.tensor(2.0), 5)",
]


@pytest.mark.parametrize("call", _ACCEPTED)
def test_deprecated_orders_compute_and_warn_as_torch(call):
    want, text = _warned(lambda: eval(call, _operands(torch)))
    got, got_text = _warned(lambda: eval(call, _operands(flambeau)))
    assert got_text == text
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


_REFUSED = [
    "lib.add(x, 2, y, alpha=2)", "lib.add(x, y, 2)", "lib.sub(x, y, y)",
    "lib.addcmul(x, 0.5, y, y, value=1)", "lib.addmm(0.5, M, a, b, alpha=2)",
    "lib.addmm(0.5, M, 2.0, a, b, beta=1)", "lib.addmm(0.5, a, b, input=M)",
    "lib.addmm(M, 0.5, a, b)", "M.addmm(0.5, a, b, alpha=2)", "x.add(2, y, out=o)",
    "x.add(2, y, alpha=1)", "x.addcmul(0.5, y, z, out=o)", "lib.subtract(x, 2, y)",
    "x.subtract(2, y)", "x.clone().subtract_(2, y)", "x.add(lib.ones(1), y)",
    "lib.add(x, 2, y, alpha=1)", "lib.add(x, y, other=y)", "lib.add(x, y, foo=1)",
    "lib.add(x)", "lib.add(x, 2, y, 3)", "lib.add(x, y, input=x)",
    "lib.sub(x, 2, y, alpha=1)", "lib.sub(x, y, 2)", "x.sub(y, 2)", "lib.sub(x, y, other=y)",
]


@pytest.mark.parametrize("call", _REFUSED)
def test_other_orders_raise_type_error_as_torch(call):
    with pytest.raises(TypeError):
        eval(call, _operands(torch))
    with pytest.raises(TypeError):
        eval(call, _operands(flambeau))


@pytest.mark.parametrize("call, message", [
    ("lib.add(x, y, 2)", r"add\(\) takes 2 positional arguments but 3 were given"),
    ("lib.sub(x, y, y)", r"sub\(\) takes 2 positional arguments but 3 were given"),
    ("lib.add(x, 2, y, alpha=1)", r"add\(\) takes 2 positional arguments but 3 were given"),
    ("lib.add(x, 2, y, 3)", r"add\(\) takes 2 positional arguments but 4 were given"),
    ("lib.add(x, y, other=y)", r"add\(\) got multiple values for argument 'other'"),
    ("lib.add(x, y, input=x)", r"add\(\) got multiple values for argument 'input'"),
    ("lib.add(x, y, foo=1)", r"add\(\) got an unexpected keyword argument 'foo'"),
    ("lib.add(x)", r"add\(\) missing required argument 'other'"),
    ("lib.add(alpha=2)", r"add\(\) missing required argument 'input' and 'other'"),
    ("x.add(2, y, out=o)", r"add\(\) takes 1 positional argument but 2 were given"),
    ("x.addcmul(0.5, y, z, out=o)", r"addcmul\(\) takes 2 positional arguments but 3 were"),
    ("lib.subtract(x, 2, y)", r"subtract\(\): alpha must be a number, not a Tensor \(the "
                              r"deprecated order .* is sub\(\)'s only\): use "
                              r"subtract\(input, other, alpha=alpha\)"),
])
def test_type_error_messages(call, message):
    with pytest.raises(TypeError, match=message):
        eval(call, _operands(flambeau))


def test_input_and_other_by_keyword_as_torch():
    for call in ("lib.add(input=x, other=y, alpha=2)", "lib.add(x, alpha=2, other=y)",
                 "lib.add(other=y, input=x, out=o)", "lib.sub(input=x, other=y, alpha=2)",
                 "lib.sub(x, alpha=2, other=y)"):
        got, want = eval(call, _operands(flambeau)), eval(call, _operands(torch))
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["add", "sub"])
def test_two_numbers_are_the_deprecated_order_as_torch(op):
    # torch's parser takes a number for add/sub's Tensor other: add(x, 2, 3.5) is
    # add(x, Number alpha=2, Tensor other=3.5), warned, so the dtype is other's promotion and
    # alpha is checked against it
    fx, tx = _both([1, 2], "int64")
    for args in ((2, 3.5), (3, 2), (2, flambeau.tensor(3.5))):
        t_args = tuple(torch.tensor(a.item()) if isinstance(a, flambeau.Tensor) else a
                       for a in args)
        want, text = _warned(lambda: getattr(torch, op)(tx, *t_args))
        got, got_text = _warned(lambda: getattr(flambeau, op)(fx, *args))
        assert got_text == text
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    for lib, x in ((torch, tx), (flambeau, fx)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
                getattr(lib, op)(x, 2.5, 3)
    with pytest.raises(TypeError, match=rf"{op}\(\) takes 2 positional arguments but 3 were "
                                        r"given"):
        getattr(flambeau, op)(flambeau.ones(2), flambeau.ones(2), 2)


def test_a_0d_tensor_alpha_by_keyword_is_a_number_as_torch():
    for call in ("x.sub(y, alpha=lib.tensor(3.0))", "lib.sub(x, 2, alpha=lib.tensor(3.0))",
                 "lib.add(x, y, alpha=lib.tensor(3.0))", "lib.subtract(x, 2, lib.tensor(3.0))"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no deprecated order here
            got, want = eval(call, _operands(flambeau)), eval(call, _operands(torch))
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


def test_subtract_takes_alpha_by_position_after_a_number_only_as_torch():
    for call in ("lib.subtract(x, 2, 5)", "x.subtract(2, 5)", "lib.subtract(x, 2.5, 3)"):
        got, want = eval(call, _operands(flambeau)), eval(call, _operands(torch))
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)
    x = flambeau.ones(2)
    for call in ("lib.subtract(x, y, 2)", "x.subtract(y, 2)", "lib.subtract(x, 2, 3, 4)",
                 "lib.subtract(x, 2, 3, alpha=1)"):
        with pytest.raises(TypeError):
            eval(call, _operands(torch))
    with pytest.raises(TypeError, match=r"subtract\(\): alpha goes by position only after a "
                                        r"number other .*use subtract\(input, other, "
                                        r"alpha=alpha\)"):
        flambeau.subtract(x, x, 2)
    with pytest.raises(TypeError, match=r"subtract\(\) takes from 2 to 3 positional arguments "
                                        r"but 4 were given"):
        flambeau.subtract(x, 2, 3, 4)
    with pytest.raises(TypeError, match=r"subtract\(\) got multiple values for argument "
                                        r"'alpha'"):
        flambeau.subtract(x, 2, 3, alpha=1)
    np.testing.assert_array_equal(x.cpu().numpy(), [1.0, 1.0])


def test_subtract_keeps_a_0d_alpha_with_a_number_other_as_torch():
    for lib in (flambeau, torch):
        got = lib.subtract(lib.ones(2), 2, lib.tensor(3.0))
        assert got.tolist() == [-5.0, -5.0]


def test_the_deprecated_orders_are_torchs():
    # torchgen's list of deprecated signatures ships with torch: flambeau's table has all of
    # them but sspaddmm's (sparse only), in the same orders
    yaml = pathlib.Path(torch.__file__).parent.parent / "torchgen/packaged/autograd/deprecated.yaml"
    if not yaml.exists():
        pytest.skip("torchgen's deprecated.yaml is not installed")
    forms = {}
    for line in yaml.read_text().splitlines():
        m = re.match(r"- name: (\w+)\((.*?)\) ->", line)
        if m is None or m.group(1).endswith("_"):
            continue
        params = m.group(2).split(", *")[0].split(", ")
        order = tuple("input" if p.endswith(" self") else p.split()[-1] for p in params)
        forms.setdefault(m.group(1), set()).add(order)
    forms.pop("sspaddmm")
    assert forms == {op: set(_deprecated._forms(op, method=False)) for op in _deprecated.OPS}


def test_signatures_show_todays_order_only():
    assert str(inspect.signature(flambeau.add)) == "(input, other, *, alpha=1, out=None)"
    assert str(inspect.signature(flambeau.sub)) == "(input, other, alpha=1, *, out=None)"
    assert str(inspect.signature(flambeau.Tensor.add)) == str(inspect.signature(flambeau.add))
    assert "out=None" in str(inspect.signature(flambeau.addr))

"""PyTorch's deprecated scalar-first overloads: ``add(Number alpha, Tensor other)`` (``sub``,
``add_``, ``sub_``) and ``addcmul(Number value, Tensor tensor1, Tensor tensor2)`` (``addcdiv``,
``addcmul_``, ``addcdiv_``).

Old training loops and optimizers update parameters with ``p.data.add_(-lr, p.grad.data)``
(pytorch/examples' word_language_model still does) or ``p.data.addcdiv_(-step_size, exp_avg,
denom)``; ``add_`` used to read the first argument only and silently add ``-lr`` to every
element, ``addcdiv_`` raised. Now the deprecated order computes what PyTorch computes, with a
warning, and other extra positional arguments raise PyTorch's TypeError.
"""

import numpy as np
import pytest

import flambeau

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.parity


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
    with pytest.warns(UserWarning, match=rf"{op}\(Number alpha, Tensor\) is deprecated"):
        got = getattr(fx, op)(fa, fo)
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
    want = getattr(tx, op)(tv, t1, t2)
    with pytest.warns(UserWarning, match=rf"{op}\(Number value, Tensor, Tensor\) is "
                                         r"deprecated, as in PyTorch: pass value= as a keyword"):
        got = getattr(fx, op)(fv, f1, f2)
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

"""nn.Module conversions under flambeau.__future__'s switches (torch.__future__'s): swapping
the converted tensors into the Parameter objects, or putting new Parameters in the module."""

import pytest

import flambeau
from flambeau import nn


@pytest.fixture
def future():
    f = flambeau.__future__
    yield f
    f.set_swap_module_params_on_conversion(False)
    f.set_overwrite_module_params_on_conversion(False)


def _convert(lib, mod, setting):
    getattr(lib.__future__, f"set_{setting}_module_params_on_conversion")(True)
    try:
        lib.manual_seed(0)
        m = mod.Linear(2, 2)
        w, b = m.weight, m.bias
        w.grad = lib.ones(2, 2)
        g = w.grad
        m.double()
        return (m.weight is w, m.bias is b, str(m.weight.dtype).split(".")[-1],
                str(w.dtype).split(".")[-1], type(m.weight).__name__,
                str(m.weight.grad.dtype).split(".")[-1], m.weight.grad is g,
                m.weight.requires_grad)
    finally:
        getattr(lib.__future__, f"set_{setting}_module_params_on_conversion")(False)


@pytest.mark.parametrize("setting", ["swap", "overwrite"])
def test_conversions_match_torch(future, setting):
    got = _convert(flambeau, nn, setting)
    if setting == "swap":
        assert got == (True, True, "float64", "float64", "Parameter", "float64", True, True)
    else:
        assert got[:5] == (False, False, "float64", "float32", "Parameter")
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.__future__")  # the switches' module, not loaded by torch

    assert got == _convert(torch, torch.nn, setting)


def test_switches_default_off_and_read_back(future):
    assert future.get_swap_module_params_on_conversion() is False
    assert future.get_overwrite_module_params_on_conversion() is False
    future.set_swap_module_params_on_conversion(1)
    assert future.get_swap_module_params_on_conversion() is True
    m = nn.Linear(2, 2)
    w = m.weight
    m.to(flambeau.float64)
    assert m.weight is w and w.dtype == flambeau.float64


def test_a_swap_between_forward_and_backward_makes_backward_raise(future):
    m = nn.Linear(2, 2)
    x = flambeau.ones(1, 2)
    y = (m(x) * 0 + m.bias).sum()  # the bias enters the graph unsaved: only its leaf node
    future.set_swap_module_params_on_conversion(True)
    m.bias.grad = None
    b = m.bias
    nn.Module._apply(m, lambda t: t.to(flambeau.float64) if t is b else t)
    with pytest.raises(RuntimeError, match="swap_tensors"):
        y.backward()


def test_a_parameter_the_graph_saved_is_not_swapped(future):
    m = nn.Linear(2, 2)
    y = m(flambeau.ones(1, 2)).sum()  # saves the weight for backward
    future.set_swap_module_params_on_conversion(True)
    with pytest.raises(RuntimeError, match="^_apply\\(\\): Couldn't swap Linear.weight$") as err:
        m.double()
    assert "saved it for backward" in str(err.value.__cause__)
    assert m.weight.dtype == flambeau.float32  # refused before anything changed
    y.backward()


def _view_blocks_swap(lib, mod):
    lib.__future__.set_swap_module_params_on_conversion(True)
    try:
        m = mod.Linear(2, 2)
        view = m.weight[0]  # noqa: F841 (held: the swap must refuse)
        with pytest.raises(RuntimeError) as err:
            m.double()
        return str(err.value), str(m.weight.dtype).split(".")[-1], err.value.__cause__ is not None
    finally:
        lib.__future__.set_swap_module_params_on_conversion(False)


def test_a_refused_swap_names_the_parameter_as_torch(future):
    got = _view_blocks_swap(flambeau, nn)
    assert got == ("_apply(): Couldn't swap Linear.weight", "float32", True)
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.__future__")
    assert got == _view_blocks_swap(torch, torch.nn)


def _overwrite_without_conversion(lib, mod):
    lib.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        m = mod.Linear(2, 2)
        w = m.weight
        w.grad = lib.ones(2, 2)
        g = w.grad
        m.float()  # already float32: fn returns the tensor itself
        with lib.no_grad():
            m.weight.add_(1)  # the new Parameter shares the old one's data
        return (m.weight is w, type(m.weight).__name__, m.weight.grad is g,
                bool(lib.equal(m.weight, w)))
    finally:
        lib.__future__.set_overwrite_module_params_on_conversion(False)


def test_overwrite_puts_new_parameters_in_even_without_conversion_as_torch(future):
    got = _overwrite_without_conversion(flambeau, nn)
    assert got == (False, "Parameter", True, True)
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.__future__")
    assert got == _overwrite_without_conversion(torch, torch.nn)

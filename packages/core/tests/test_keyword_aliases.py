"""The keyword spellings torch's argument parser accepts beyond the parameters' names: NumPy's
``axis=``/``keepdims=`` for ``dim``/``keepdim`` on C functions and Tensor methods (not on
torch's Python-level functions), and the keyword form of a list of ints that may be given one
by one (``x.view(size=(3, 2))``), against torch 2.13, errors included."""

import inspect
import types

import numpy as np
import pytest

import flambeau
from flambeau import _keywords

torch = pytest.importorskip("torch")

_X = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


def _values(result):
    if isinstance(result, (tuple, list)):
        return [_values(r) for r in result]
    if isinstance(result, (bool, int, float)):
        return result
    if isinstance(result, torch.Tensor):
        return result.numpy()
    return result.cpu().numpy()


def _agree(call):
    want = call(torch, torch.tensor(_X))
    got = call(flambeau, flambeau.tensor(_X))
    if isinstance(want, torch.Size):
        assert tuple(got) == tuple(want)
        return
    want, got = _values(want), _values(got)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    if isinstance(want, np.ndarray):
        assert np.asarray(got).dtype == want.dtype


# (call, with `lib` standing for torch or flambeau and `x` a 2x3 float tensor of _X)
_ALIAS_CALLS = {
    "sum": lambda lib, x: x.sum(axis=0, keepdims=True),
    "torch.sum": lambda lib, x: lib.sum(x, axis=1),
    "torch.sum x=": lambda lib, x: lib.sum(x=x, axis=1),
    "mean": lambda lib, x: x.mean(axis=(0, 1), keepdims=True),
    "cat": lambda lib, x: lib.cat([x, x], axis=0),
    "stack": lambda lib, x: lib.stack([x, x], axis=1),
    "max": lambda lib, x: x.max(axis=0).values,
    "max keepdims": lambda lib, x: x.max(axis=1, keepdims=True).indices,
    "torch.max": lambda lib, x: lib.max(x, axis=1, keepdims=True).values,
    "torch.min": lambda lib, x: lib.min(x, 0, keepdims=True).values,
    "argmax": lambda lib, x: x.argmax(axis=0),
    "argmin": lambda lib, x: lib.argmin(x, axis=1, keepdims=True),
    "amax": lambda lib, x: x.amax(axis=0, keepdims=True),
    "std": lambda lib, x: x.std(axis=0),
    "var": lambda lib, x: x.var(axis=1, keepdims=True, correction=0),
    "unsqueeze": lambda lib, x: x.unsqueeze(axis=0),
    "torch.unsqueeze": lambda lib, x: lib.unsqueeze(x, axis=-1),
    "squeeze": lambda lib, x: x[:1].squeeze(axis=0),
    "softmax": lambda lib, x: x.softmax(axis=1),
    "torch.softmax": lambda lib, x: lib.softmax(x, axis=0),
    "log_softmax": lambda lib, x: x.log_softmax(axis=1),
    "cumsum": lambda lib, x: x.cumsum(axis=1),
    "cumsum_": lambda lib, x: x.clone().cumsum_(axis=1),
    "cumprod": lambda lib, x: lib.cumprod(x, axis=0),
    "logsumexp": lambda lib, x: x.logsumexp(axis=1, keepdims=True),
    "prod": lambda lib, x: x.prod(axis=1),
    "all": lambda lib, x: (x > 0).all(axis=1),
    "any": lambda lib, x: lib.any(x > 0, axis=0, keepdims=True),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x, axis=0),
    "gather": lambda lib, x: lib.gather(x, axis=1, index=lib.tensor([[0], [2]])),
    "index_select": lambda lib, x: x.index_select(axis=1, index=lib.tensor([2, 0])),
    "narrow": lambda lib, x: x.narrow(axis=1, start=1, length=2),
    "select": lambda lib, x: x.select(axis=1, index=2),
    "chunk": lambda lib, x: lib.chunk(x, 2, axis=1)[0],
    "diff": lambda lib, x: x.diff(axis=1),
    "median": lambda lib, x: x.median(axis=1).values,
    "quantile": lambda lib, x: x.quantile(0.5, axis=1, keepdims=True),
    "sort": lambda lib, x: x.sort(axis=1, descending=True).values,
    "argsort": lambda lib, x: x.argsort(axis=0),
    "topk": lambda lib, x: x.topk(2, axis=1).values,
    "torch.unflatten": lambda lib, x: lib.unflatten(x, axis=1, sizes=(3, 1)).shape,
    "unbind": lambda lib, x: x.unbind(axis=1)[2],
    "linalg.vector_norm": lambda lib, x: lib.linalg.vector_norm(x, axis=1, keepdims=True),
    "linalg.norm": lambda lib, x: lib.linalg.norm(x, axis=1),
    "fft.fft": lambda lib, x: lib.fft.fft(x, axis=0).abs(),
    "special.logsumexp": lambda lib, x: lib.special.logsumexp(x, axis=1),
    "special.softmax": lambda lib, x: lib.special.softmax(x, axis=1),
}


@pytest.mark.parametrize("name", sorted(_ALIAS_CALLS))
def test_numpy_aliases_agree_with_torch(name):
    _agree(_ALIAS_CALLS[name])


_BOTH = [
    (lambda lib, x: x.sum(0, axis=0), "sum", "dim", "axis"),
    (lambda lib, x: x.sum(dim=0, axis=0), "sum", "dim", "axis"),
    (lambda lib, x: x.sum(0, True, keepdims=True), "sum", "keepdim", "keepdims"),
    (lambda lib, x: lib.unsqueeze(x, 0, axis=0), "unsqueeze", "dim", "axis"),
    (lambda lib, x: x.max(dim=1, axis=1), "max", "dim", "axis"),
    (lambda lib, x: lib.cat([x], 0, axis=0), "cat", "dim", "axis"),
    (lambda lib, x: x.clone().cumsum_(dim=0, axis=0), "cumsum_", "dim", "axis"),
    (lambda lib, x: lib.sum(x, x=x), "sum", "input", "x"),
]


@pytest.mark.parametrize("i", range(len(_BOTH)))
def test_a_parameter_and_its_alias_together_are_a_type_error(i):
    call, op, name, alias = _BOTH[i]
    with pytest.raises(TypeError):
        call(torch, torch.tensor(_X))
    with pytest.raises(TypeError, match=f"^{op}\\(\\) got both '{name}' and its alias "
                                        f"'{alias}': pass only one of them$"):
        call(flambeau, flambeau.tensor(_X))


# torch's Python-level functions (torch.functional, torch._tensor) take no alias
_REFUSED = {
    "torch.split": lambda lib, x: lib.split(x, 1, axis=0),
    "split": lambda lib, x: x.split(1, axis=0),
    "torch.norm": lambda lib, x: lib.norm(x, axis=0),
    "norm": lambda lib, x: x.norm(axis=0),
    "unique": lambda lib, x: x.unique(axis=0),
    "torch.unique_consecutive": lambda lib, x: lib.unique_consecutive(x, axis=0),
    "unflatten": lambda lib, x: x.unflatten(axis=1, sizes=(3, 1)),
    "misspelt": lambda lib, x: x.sum(axes=0),
    "misspelt on a layer": lambda lib, x: x.unsqueeze(axes=0),
}


@pytest.mark.parametrize("name", sorted(_REFUSED))
def test_what_torch_refuses_is_refused(name):
    with pytest.raises(TypeError):
        _REFUSED[name](torch, torch.tensor(_X))
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        _REFUSED[name](flambeau, flambeau.tensor(_X))


def test_the_layer_reports_missing_and_unknown_arguments_by_the_ops_name():
    x = flambeau.ones(2)
    with pytest.raises(TypeError, match=r"^unsqueeze\(\) missing 1 required positional "
                                        r"argument: 'dim'$"):
        x.unsqueeze()
    with pytest.raises(TypeError, match=r"^unsqueeze\(\) got an unexpected keyword argument "
                                        r"'axes'$"):
        flambeau.unsqueeze(x, axes=0)
    with pytest.raises(TypeError, match=r"^unsqueeze\(\) missing 1 required positional "
                                        r"argument: 'input'$"):
        flambeau.unsqueeze(axis=0)


def test_the_layers_show_the_ops_own_signature_and_docs():
    for fn in (flambeau.unsqueeze, flambeau.Tensor.max, flambeau.cat, flambeau.fft.fft):
        raw = fn.__wrapped__
        assert inspect.signature(fn) == inspect.signature(raw)
        assert fn.__doc__ == raw.__doc__
    assert flambeau.unsqueeze.__name__ == "unsqueeze"


def _accepts_axis(fn, method):
    """Whether ``fn`` binds ``axis=`` (whatever the op then makes of the missing operands)."""
    try:
        if method:
            fn(flambeau.ones(2, 3), axis=0)
        else:
            fn(axis=0)
    except TypeError as e:
        return "unexpected keyword argument 'axis'" not in str(e)
    except Exception:  # noqa: BLE001 - any other complaint comes after binding
        return True
    return True


def _torch_takes_aliases(tobj):
    # the argument parser is behind the C functions and methods, and only there
    return isinstance(tobj, (types.BuiltinFunctionType, types.MethodDescriptorType))


def test_every_dim_op_takes_axis_exactly_where_torch_does():
    spaces = [("torch", flambeau, torch, False), ("torch.linalg", flambeau.linalg,
                                                   torch.linalg, False),
              ("torch.special", flambeau.special, torch.special, False),
              ("torch.fft", flambeau.fft, torch.fft, False),
              ("Tensor", flambeau.Tensor, torch.Tensor, True)]
    differ = []
    for label, space, tspace, method in spaces:
        names = [n for n in vars(space) if not n.startswith("_")] if method else space.__all__
        for name in names:
            fn, tobj = getattr(space, name), getattr(tspace, name, None)
            if tobj is None or not callable(fn) or isinstance(fn, type):
                continue
            try:
                params = inspect.signature(fn).parameters
            except (TypeError, ValueError):
                continue
            if "dim" not in params or "axis" in params:
                continue
            if _accepts_axis(fn, method) != _torch_takes_aliases(tobj):
                differ.append(f"{label}.{name}")
    # x.size(0) and x.stride(0) are cheap enough that a layer would cost a third of the call
    assert sorted(differ) == ["Tensor.size", "Tensor.stride"]


def test_ops_without_a_layer_are_the_functions_themselves():
    # no dim/keepdim: no layer, so the common call costs what it did
    assert flambeau.add is flambeau._ops.elementwise.add
    assert flambeau.Tensor.reshape is flambeau._ops.shape.reshape
    assert flambeau.Tensor.sum is flambeau._ops.reduction.sum  # with_out's layer retries
    assert _keywords.accepting_aliases(flambeau.exp, "exp") is flambeau.exp

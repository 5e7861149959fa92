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


# ------------------------------------------------------------------ lists of ints by keyword

_LIST_CALLS = {
    "view": lambda lib, x: x.view(size=(3, 2)),
    "view list": lambda lib, x: x.view(size=[6]),
    "view dtype": lambda lib, x: x.view(dtype=lib.int32),
    "reshape": lambda lib, x: x.reshape(shape=(3, 2)),
    "torch.reshape": lambda lib, x: lib.reshape(x, shape=(6,)),
    "permute": lambda lib, x: x.permute(dims=(1, 0)),
    "torch.permute": lambda lib, x: lib.permute(x, dims=[1, 0]),
    "flip": lambda lib, x: x.flip(dims=(0,)),
    "flip two": lambda lib, x: x.flip(dims=[0, 1]),
    "expand": lambda lib, x: x[:1].expand(size=(3, 3)),
    "expand implicit": lambda lib, x: x[:1].expand((2, 3), implicit=True),
    "broadcast_to": lambda lib, x: x[0].broadcast_to(size=(2, 3)),
    "torch.broadcast_to": lambda lib, x: lib.broadcast_to(x[0], size=(2, 3)),
    "repeat": lambda lib, x: x.repeat(repeats=(1, 2)),
    "tile": lambda lib, x: x.tile(dims=(2,)),
    "torch.tile": lambda lib, x: lib.tile(x, dims=(1, 2)),
    "sum_to_size": lambda lib, x: x.sum_to_size(size=(1, 3)),
    "resize_": lambda lib, x: x.clone().resize_(size=(3, 2)),
    "new_zeros": lambda lib, x: x.new_zeros(size=(2,)),
    "new_ones": lambda lib, x: x.new_ones(size=[1, 2]),
    "new_empty": lambda lib, x: x.new_empty(size=(2, 0)).shape,
    "new size": lambda lib, x: x.new(size=(2, 0)).shape,
    "new data": lambda lib, x: x.new(data=[1, 2]),
    "new other": lambda lib, x: x.new(other=x),
    "zeros": lambda lib, x: lib.zeros(size=(2, 3)),
    "zeros empty": lambda lib, x: lib.zeros(size=()),
    "ones": lambda lib, x: lib.ones(size=[2], dtype=lib.int64),
    "empty": lambda lib, x: lib.empty(size=(2, 0)).shape,
    "rand": lambda lib, x: lib.rand(size=(2, 3)).shape,
    "randn": lambda lib, x: lib.randn(size=(4,)).shape,
    "zeros out=": lambda lib, x: lib.zeros(size=(2,), out=lib.empty(0)),
}


@pytest.mark.parametrize("name", sorted(_LIST_CALLS))
def test_lists_of_ints_by_keyword_agree_with_torch(name):
    _agree(_LIST_CALLS[name])


# (call, flambeau's message: torch's own text where its op has one overload)
_LIST_ERRORS = [
    (lambda lib, x: x.flip(0, dims=(0,)), "flip() got multiple values for argument 'dims'"),
    (lambda lib, x: x.flip(dims=0), "flip(): argument 'dims' must be tuple of ints, not int"),
    (lambda lib, x: x.reshape(3, shape=(3, 2)),
     "reshape() got multiple values for argument 'shape'"),
    (lambda lib, x: x.reshape(shape=6), "reshape(): argument 'shape' must be tuple of ints, "
                                        "not int"),
    (lambda lib, x: x.permute(1, dims=(1, 0)),
     "permute() got multiple values for argument 'dims'"),
    (lambda lib, x: lib.zeros(2, size=(2,)), "zeros() got multiple values for argument 'size'"),
    (lambda lib, x: lib.zeros((2,), size=(2,)),
     "zeros() got multiple values for argument 'size'"),
    (lambda lib, x: lib.zeros(size=2), "zeros(): argument 'size' must be tuple of ints, not int"),
    (lambda lib, x: lib.ones(size=2, out=lib.empty(0)),
     "ones(): argument 'size' must be tuple of ints, not int"),
    # torch's view, new and expand have several overloads: a message of their own
    (lambda lib, x: x.view(6, size=(6,)), "view() got multiple values for argument 'size'"),
    (lambda lib, x: x.new(2, size=(2,)), "new() got multiple values for argument 'size'"),
    (lambda lib, x: x.new_zeros(2, size=(2,)),
     "new_zeros() got multiple values for argument 'size'"),
]


@pytest.mark.parametrize("i", range(len(_LIST_ERRORS)))
def test_a_list_given_both_ways_or_not_as_a_list_is_a_type_error(i):
    call, message = _LIST_ERRORS[i]
    with pytest.raises(TypeError) as theirs:
        call(torch, torch.tensor(_X))
    if "received an invalid combination" not in str(theirs.value):
        assert str(theirs.value) == message
    with pytest.raises(TypeError) as ours:
        call(flambeau, flambeau.tensor(_X))
    assert str(ours.value) == message


def test_errors_name_the_method_as_called():
    x = flambeau.ones(2)
    with pytest.raises(TypeError, match=r"^flip\(\) got an unexpected keyword argument 'dim'$"):
        x.flip(dim=0)
    with pytest.raises(TypeError, match=r"^new_ones\(\) got an unexpected keyword argument"):
        x.new_ones(sizes=(2,))
    assert flambeau.Tensor.flip.__name__ == "flip"


def test_the_keyword_form_does_not_show_as_a_parameter_of_its_own():
    assert str(inspect.signature(flambeau.Tensor.view)) == "(input, *size, dtype=None)"
    assert str(inspect.signature(flambeau.Tensor.flip)) == "(self, *dims)"
    assert str(inspect.signature(flambeau.reshape)) == "(input, *shape)"
    assert "size" not in str(inspect.signature(flambeau.zeros)).split(",", 1)[1]


def _varargs(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    return next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)


def test_every_list_of_ints_varargs_takes_its_keyword_where_torch_does():
    # torch's Python-level functions (meshgrid(*tensors), chain_matmul(*matrices)...) take no
    # keyword form; its C ones take the list by its name
    differ = []
    for label, space, tspace, method in [("torch", flambeau, torch, False),
                                         ("Tensor", flambeau.Tensor, torch.Tensor, True)]:
        names = [n for n in vars(space) if not n.startswith("_")] if method else space.__all__
        for name in names:
            fn, tobj = getattr(space, name), getattr(tspace, name, None)
            var = _varargs(fn) if callable(fn) and not isinstance(fn, type) else None
            if tobj is None or var in (None, "args") or name == "result_type":
                continue  # *args: the in-place forwarders; result_type's are its operands
            try:
                if method:
                    fn(flambeau.ones(2, 3), **{var: (2, 3)})
                else:
                    fn(**{var: (2, 3)})
                took = True
            except TypeError as e:
                took = f"unexpected keyword argument '{var}'" not in str(e)
            except Exception:  # noqa: BLE001 - a complaint about the values, after binding
                took = True
            if took != _torch_takes_aliases(tobj):
                differ.append(f"{label}.{name}")
    assert differ == []

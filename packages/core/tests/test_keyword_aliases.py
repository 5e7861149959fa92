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


# ------------------------------------------------------------------ other names and defaults

def _geqrf_of(lib, x):
    return lib.geqrf(x.T)  # a 3x2 matrix's reflectors


_A = [[2.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 4.0]]

_OTHER_CALLS = {
    "amax dim=None": lambda lib, x: lib.amax(x, dim=None),
    "amin dim=None": lambda lib, x: x.amin(dim=None, keepdim=True),
    "nan_to_num nan=None": lambda lib, x: lib.nan_to_num(x.log(), nan=None, neginf=-1.0),
    "copy_ other=": lambda lib, x: lib.zeros(2, 3).copy_(other=x),
    "type memory_format=": lambda lib, x: x.type(lib.float64, memory_format=lib.preserve_format),
    "bernoulli generator=": lambda lib, x: lib.ones(2).bernoulli(
        1.0, generator=lib.Generator(x.device)),
    "subtract alpha by position": lambda lib, x: lib.subtract(x, 2, 5),
    "Tensor.subtract alpha by position": lambda lib, x: x.subtract(2, 5),
    "subtract_ alpha by position": lambda lib, x: x.clone().subtract_(2, 5),
    "orgqr input2=": lambda lib, x: lib.orgqr(_geqrf_of(lib, x)[0], input2=_geqrf_of(lib, x)[1]),
    "ormqr input2= input3=": lambda lib, x: _geqrf_of(lib, x)[0].ormqr(
        input2=_geqrf_of(lib, x)[1], input3=x.T, transpose=True),
    "repeat_interleave output_size": lambda lib, x: lib.repeat_interleave(
        lib.tensor([1, 2]), lib.tensor([1, 2]), output_size=3),
    "Tensor.repeat_interleave output_size": lambda lib, x: x.repeat_interleave(
        2, dim=0, output_size=4),
    "scatter value by position": lambda lib, x: lib.zeros(3).scatter(0, lib.tensor([1]), 1.5),
    "as_strided_ input=": lambda lib, x: lib.as_strided_(input=lib.zeros(4), size=(2,),
                                                         stride=(1,)),
    "as_tensor dtype=": lambda lib, x: lib.as_tensor([1, 2], dtype=lib.float64),
    "asarray obj= copy=": lambda lib, x: lib.asarray(obj=[1.0, 2.0], copy=True),
    "asarray requires_grad=": lambda lib, x: lib.asarray(x, requires_grad=True).requires_grad,
    "asarray keeps requires_grad": lambda lib, x: lib.asarray(
        x.requires_grad_()).requires_grad,
    "asarray dtype=": lambda lib, x: lib.asarray([1, 2], dtype=lib.float64),
    "from_dlpack copy=": lambda lib, x: lib.from_dlpack(x, copy=True),
    "from_dlpack device=": lambda lib, x: lib.from_dlpack(x, device="cpu"),
    "gradient spacing=None": lambda lib, x: lib.gradient(x, spacing=None)[1],
    "histogramdd by position": lambda lib, x: lib.histogramdd(x.T, 2, None, None, True)[0],
    "is_floating_point input=": lambda lib, x: lib.is_floating_point(input=x),
    "isin element=": lambda lib, x: lib.isin(element=3.0, test_elements=x),
    "isin test_element=": lambda lib, x: lib.isin(x, test_element=3.0),
    "lu_solve input=": lambda lib, x: lib.lu_solve(
        input=x.T, LU_data=lib.linalg.lu_factor(lib.tensor(_A))[0],
        LU_pivots=lib.linalg.lu_factor(lib.tensor(_A))[1]),
    "normal layout=": lambda lib, x: lib.normal(0.0, 1.0, size=(2,), layout=lib.strided).shape,
    "randint_like requires_grad=": lambda lib, x: lib.randint_like(
        x, 3, requires_grad=True).requires_grad,
    "range layout=": lambda lib, x: lib.range(0, 2, layout=lib.strided),
    "searchsorted input=": lambda lib, x: lib.searchsorted(lib.tensor([1.0, 2.0, 3.0]), input=x),
    "triangular_solve input=": lambda lib, x: lib.triangular_solve(
        input=x.T, A=lib.tensor(_A)).solution,
    "tril_indices requires_grad=False": lambda lib, x: lib.tril_indices(3, 3,
                                                                        requires_grad=False),
    "unsafe_split input=": lambda lib, x: lib.unsafe_split(input=x, split_size=1)[1],
    "view_copy dtype=": lambda lib, x: lib.view_copy(x, dtype=lib.int32),
    "view_copy dtype by position": lambda lib, x: lib.view_copy(x, lib.int32),
}


@pytest.mark.parametrize("name", sorted(_OTHER_CALLS))
@pytest.mark.filterwarnings("ignore::UserWarning")  # lu_solve, triangular_solve, range
def test_torchs_other_names_and_defaults_agree_with_torch(name):
    _agree(_OTHER_CALLS[name])


# (call, exception type, message: torch's own text where it has one)
_OTHER_ERRORS = [
    (lambda lib, x: lib.asarray([1, 2], copy=False), ValueError,
     "can't alias arbitrary sequence into a tensor."),
    (lambda lib, x: lib.asarray(x, dtype=lib.float64, copy=False), ValueError,
     "can't alias tensor with dtype 'Float' into dtype 'Double'."),
    (lambda lib, x: lib.triu_indices(3, 3, requires_grad=True), RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    (lambda lib, x: x.repeat_interleave(2, dim=0, output_size=5), RuntimeError,
     "repeat_interleave: Invalid output_size, expected 4 but got 5"),
    (lambda lib, x: lib.repeat_interleave(lib.tensor([1, 2]), lib.tensor([1, 2]),
                                          output_size=4), RuntimeError, None),
    (lambda lib, x: lib.as_tensor([1], lib.float64), TypeError, None),
    (lambda lib, x: lib.asarray([1], lib.float64), TypeError, None),
    (lambda lib, x: lib.ones(2).bernoulli(0.5, lib.Generator()), TypeError, None),
    (lambda lib, x: lib.zeros(2, 3).copy_(src=x), TypeError, None),
    (lambda lib, x: lib.orgqr(*_geqrf_of(lib, x)[:1], tau=_geqrf_of(lib, x)[1]), TypeError,
     None),
    (lambda lib, x: lib.isin(x, x, test_element=3.0), TypeError, None),
]


@pytest.mark.parametrize("i", range(len(_OTHER_ERRORS)))
def test_what_torch_refuses_with_its_other_names_is_refused(i):
    call, kind, message = _OTHER_ERRORS[i]
    with pytest.raises(kind) as theirs:
        call(torch, torch.tensor(_X))
    with pytest.raises(kind) as ours:
        call(flambeau, flambeau.tensor(_X))
    if message is not None:
        assert str(theirs.value) == message and str(ours.value) == message


def test_the_errors_of_the_new_keywords():
    x = flambeau.tensor(_X)
    with pytest.raises(TypeError, match=r"^view_copy\(\) takes a size or a dtype \(one of "
                                        r"them\)$"):
        flambeau.view_copy(x)
    with pytest.raises(TypeError, match=r"^view\(\) received an invalid combination of "
                                        r"arguments: size= and dtype= are two overloads"):
        x.view(size=(6,), dtype=flambeau.int32)
    with pytest.raises(TypeError, match=r"^view\(\) got multiple values for argument 'dtype'$"):
        x.view(6, dtype=flambeau.int32)
    with pytest.raises(TypeError, match=r"^new\(\) got an unexpected keyword argument 'storage'"):
        x.new(storage=None)
    with pytest.raises(TypeError, match=r"^new\(\): argument 'other' must be Tensor, not list$"):
        x.new(other=[1])
    with pytest.raises(TypeError, match=r"^isin\(\) got both 'test_elements' and its alias "
                                        r"'test_element': pass only one of them$"):
        flambeau.isin(x, x, test_element=3.0)


def test_from_dlpack_with_copy_false_refuses_another_device():
    if not flambeau.cuda.is_available():
        pytest.skip("needs a second device")
    with pytest.raises(ValueError, match=r"^from_dlpack: copy=False, but the data is on cpu, "
                                         r"not cuda:0: moving it copies it$"):
        flambeau.from_dlpack(flambeau.ones(2, device="cpu"), device="cuda", copy=False)


@pytest.mark.usefixtures("cpu_default")  # sharing a NumPy array's memory: host memory only
def test_asarray_copies_or_shares_as_asked():
    a = np.zeros(2, dtype=np.float32)
    shared, copied = flambeau.asarray(a), flambeau.asarray(a, copy=True)
    kept = flambeau.asarray(a, copy=False)
    a[0] = 1
    assert shared.tolist() == kept.tolist() == [1.0, 0.0] and copied.tolist() == [0.0, 0.0]
    t = flambeau.ones(2, requires_grad=True)
    assert flambeau.asarray(t) is t
    assert not flambeau.asarray(t, requires_grad=False).requires_grad and t.requires_grad
    # a recorded conversion too (torch's result: a float64 tensor that needs no grad)
    converted = flambeau.asarray(t, dtype=flambeau.float64, requires_grad=False)
    assert converted.dtype == flambeau.float64 and not converted.requires_grad
    assert converted.tolist() == [1.0, 1.0]


def test_load_takes_weights_only_none_as_true(tmp_path):
    assert inspect.signature(flambeau.load).parameters["weights_only"].default is None
    flambeau.save({"w": flambeau.ones(2)}, tmp_path / "w.pt")
    assert flambeau.load(tmp_path / "w.pt", weights_only=None)["w"].tolist() == [1.0, 1.0]

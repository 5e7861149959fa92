"""``flambeau.cond``, ``flambeau.while_loop`` (eager, with PyTorch's argument checks) and
``Tensor.dim_order``: values, autograd, every error with its message, torch parity."""

import random

import numpy as np
import pytest

import flambeau

# ------------------------------------------------------------------ cond


def _branches():
    return (lambda a: a.cos()), (lambda a: a.sin())


@pytest.mark.parametrize("pred,taken", [
    (True, "true"), (False, "false"), (1, "true"), (0, "false"), (2.5, "true"), (0.0, "false"),
    (np.float64(0.5), "true"),  # a float subclass
])
def test_cond_python_pred(pred, taken):
    x = flambeau.tensor([1.0, 2.0, 3.0])
    out = flambeau.cond(pred, *_branches(), (x,))
    assert flambeau.equal(out, x.cos() if taken == "true" else x.sin())


@pytest.mark.parametrize("pred,taken", [
    (flambeau.tensor(True), "true"), (flambeau.tensor(False), "false"),
    (flambeau.tensor([True]), "true"), (flambeau.tensor([[False]]), "false"),
    (flambeau.tensor(0.0), "false"), (flambeau.tensor([2]), "true"),
    (flambeau.tensor(float("nan")), "true"),
])
def test_cond_tensor_pred(pred, taken):
    x = flambeau.tensor([1.0, 2.0, 3.0])
    out = flambeau.cond(pred, *_branches(), (x,))
    assert flambeau.equal(out, x.cos() if taken == "true" else x.sin())


def test_cond_operands_and_outputs():
    x, y = flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0])
    p = flambeau.tensor(True)
    assert flambeau.equal(flambeau.cond(p, lambda a, b: a + b, lambda a, b: a - b, [x, y]),
                          x + y)
    nested = flambeau.cond(p, lambda t, d: (t[0] * d["k"], [t[1]]),
                           lambda t, d: (t[0], [t[1]]), ((x, y), {"k": y}))
    assert isinstance(nested, tuple) and isinstance(nested[1], list)
    assert flambeau.equal(nested[0], x * y) and flambeau.equal(nested[1][0], y)
    assert flambeau.cond(p, lambda: flambeau.ones(2), lambda: flambeau.zeros(2)).tolist() == [1, 1]
    assert flambeau.cond(flambeau.tensor(False), lambda a: 1, lambda a: 2, (x,)) == 2
    assert flambeau.cond(p, lambda a: {"k": a + 1}, lambda a: {"k": a}, (x,))["k"].tolist() == [
        2, 3]
    assert flambeau.cond(p, lambda a: (), lambda a: (), (x,)) == ()
    assert flambeau.cond(p, lambda a: (a + 1, 2), lambda a: (a, 3), (x,))[1] == 2


def test_cond_runs_only_the_branch_taken():
    calls = []

    def true_fn(a):
        calls.append("true")
        return a + 1

    def false_fn(a):
        calls.append("false")
        return a - 1

    x = flambeau.zeros(2)
    flambeau.cond(flambeau.tensor(True), true_fn, false_fn, (x,))
    flambeau.cond(False, true_fn, false_fn, (x,))
    assert calls == ["true", "false"]


def test_cond_autograd_flows_through_the_branch_taken():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    w_true = flambeau.tensor(2.0, requires_grad=True)
    w_false = flambeau.tensor(5.0, requires_grad=True)
    y = flambeau.cond(x.sum() > 0, lambda t: (t * t * w_true).sum(),
                      lambda t: (t * w_false).sum(), (x,))
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    assert w_true.grad.item() == 5.0 and w_false.grad is None
    x.grad = None
    y = flambeau.cond(x.sum() < 0, lambda t: (t * t * w_true).sum(),
                      lambda t: (t * w_false).sum(), (x,))
    y.backward()
    assert x.grad.tolist() == [5.0, 5.0] and w_false.grad.item() == 3.0
    with flambeau.no_grad():
        assert not flambeau.cond(True, lambda t: t * 2, lambda t: t, (x,)).requires_grad


def test_cond_python_pred_is_a_plain_if():
    # as PyTorch: no check on the branches or operands when pred is a Python value
    x = flambeau.ones(3)
    assert flambeau.cond(True, lambda a: a * 2, None, (x,)).tolist() == [2, 2, 2]
    assert flambeau.cond(False, "not callable", lambda *a: len(a), x) == 3  # *x: three rows
    assert flambeau.cond(True, lambda *a: a, None, "ab") == ("a", "b")
    with pytest.raises(TypeError, match="not callable"):
        flambeau.cond(True, 3, None, (x,))
    with pytest.raises(TypeError):
        flambeau.cond(True, lambda: 0, None, None)


_PRED_TYPE = "Expected pred to be bool or tensor, but got {}."
_PRED_NUMEL = "Expected pred to be bool or single-element tensor, but got {}."
_CALLABLE = "Expect both branches to be callable."
_OPERANDS = ("Expect operands to be a tuple of possibly nested dict/list/tuple that only "
             "consists of tensor leaves, but got {}.")


@pytest.mark.parametrize("pred", ["a", None, [True], (), 1j, np.bool_(True), np.int64(0),
                                  np.array(True)])
def test_cond_pred_type_error(pred):
    with pytest.raises(RuntimeError) as info:
        flambeau.cond(pred, lambda: 0, lambda: 1)
    assert str(info.value) == _PRED_TYPE.format(pred)


@pytest.mark.parametrize("pred", [flambeau.tensor([True, False]), flambeau.tensor([]),
                                  flambeau.empty(0, 3)])
def test_cond_pred_numel_error(pred):
    with pytest.raises(RuntimeError) as info:
        flambeau.cond(pred, 3, 4, (1,))  # the pred is checked first
    assert str(info.value) == _PRED_NUMEL.format(pred)
    assert str(info.value).endswith(f"but got {pred!r}.")


def test_cond_callable_error():
    p = flambeau.tensor(True)
    for t, f in [(3, lambda a: a), (lambda a: a, None), (None, "x")]:
        with pytest.raises(RuntimeError) as info:
            flambeau.cond(p, t, f, (1,))  # before the operands
        assert str(info.value) == _CALLABLE


@pytest.mark.parametrize("operands", [
    flambeau.ones(3), None, "ab", 5, (3,), (3.0,), [1], (None,), (True,), ({"k": 1},),
    {"k": flambeau.ones(1)}, {flambeau.ones(1)},
])
def test_cond_operands_error(operands):
    with pytest.raises(RuntimeError) as info:
        flambeau.cond(flambeau.tensor(True), lambda *a: 0, lambda *a: 0, operands)
    assert str(info.value) == _OPERANDS.format(operands)


@pytest.mark.parametrize("out", [1.5, "s", None, (flambeau.ones(1), None)])
def test_cond_branch_output_error(out):
    with pytest.raises(RuntimeError, match="output must consist of tensors or ints/bools only"):
        flambeau.cond(flambeau.tensor(True), lambda: out, lambda: out)


def test_cond_signature():
    import inspect

    sig = inspect.signature(flambeau.cond)
    assert list(sig.parameters) == ["pred", "true_fn", "false_fn", "operands"]
    assert sig.parameters["operands"].default == ()
    with pytest.raises(TypeError):
        flambeau.cond(True, lambda: 0, lambda: 1, (), 2)
    with pytest.raises(TypeError):
        flambeau.cond(True, lambda: 0)
    assert flambeau.cond(pred=False, true_fn=lambda a: a, false_fn=lambda a: -a,
                         operands=(1,)) == -1
    assert "cond" in flambeau.__all__ and "while_loop" in flambeau.__all__


# ------------------------------------------------------------------ while_loop


def test_while_loop_values():
    i0, x = flambeau.tensor(0), flambeau.ones(2)
    i, y = flambeau.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (i0, x))
    assert i.item() == 3 and y.tolist() == [8.0, 8.0]
    assert flambeau.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (0, x))[0] == 3
    assert flambeau.while_loop(lambda i: i < 3, lambda i: (i + 1,), (0,)) == (3,)
    # a Python bool from the carried values, and a bool carry
    out = flambeau.while_loop(lambda b, x: bool(x.sum() < 5), lambda b, x: (b, x * 2), (True, x))
    assert out[0] is True and out[1].tolist() == [4.0, 4.0]
    assert flambeau.while_loop(lambda: False, lambda: (), ()) == ()


def test_while_loop_structures():
    i0, x = flambeau.tensor(0), flambeau.ones(2)
    out = flambeau.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x * 2], [i0, x])
    assert isinstance(out, list) and out[0].item() == 2
    (pair,) = flambeau.while_loop(lambda t: t[0] < 3, lambda t: ((t[0] + 1, t[1] * 2),),
                                  ((i0, x),))
    assert pair[0].item() == 3 and pair[1].tolist() == [8.0, 8.0]
    (d,) = flambeau.while_loop(lambda d: d["i"] < 3, lambda d: ({"i": d["i"] + 1},),
                               ({"i": i0},))
    assert d["i"].item() == 3
    # the body may regroup its outputs: the next call gets them in the carried structure
    out = flambeau.while_loop(lambda i, x: i < 2, lambda i, x: ((i + 1, x * 2),), (i0, x))
    assert out[0][0].item() == 2 and out[0][1].tolist() == [4.0, 4.0]
    assert flambeau.while_loop(lambda i: i < 3, lambda i: i + 1, (i0,)).item() == 3


def test_while_loop_zero_iterations_copies():
    i0, x = flambeau.tensor(0), flambeau.ones(2)
    out = flambeau.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x * 2), [i0, x])
    assert isinstance(out, tuple) and out[0].item() == 0 and out[1].tolist() == [1.0, 1.0]
    assert out[1] is not x and out[1].data_ptr() != x.data_ptr()
    (nested,) = flambeau.while_loop(lambda t: False, lambda t: (t,), ([i0, 5],))
    assert isinstance(nested, list) and nested[1] == 5 and nested[0] is not i0


def test_while_loop_autograd():
    a = flambeau.ones(2, requires_grad=True)
    w = flambeau.tensor(3.0, requires_grad=True)
    _, y = flambeau.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * w),
                               (flambeau.tensor(0), a * 1))
    y.sum().backward()
    assert a.grad.tolist() == [27.0, 27.0] and w.grad.item() == 2 * 3 * 9.0
    b = flambeau.ones(2, requires_grad=True)
    _, z = flambeau.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x * 2), (0, b))
    z.sum().backward()
    assert b.grad.tolist() == [1.0, 1.0]


def test_while_loop_callable_error():
    for c, b, carried in [(3, lambda i: (i,), (0,)), (lambda i: True, None, (0,)), (3, 3, 5)]:
        with pytest.raises(RuntimeError) as info:
            flambeau.while_loop(c, b, carried)
        assert str(info.value) == "Expect cond_fn and body_fn to be callable."


@pytest.mark.parametrize("carried,leaves", [
    ((0.0, flambeau.ones(2)), [0.0, flambeau.ones(2)]), ((None, 1), [None, 1]),
    (None, [None]), ("ab", ["ab"]), (((1, [2.5]),), [1, 2.5]),
])
def test_while_loop_carried_leaf_error(carried, leaves):
    with pytest.raises(AssertionError) as info:
        flambeau.while_loop(lambda *a: False, lambda *a: a, carried)
    types = tuple(type(v) for v in leaves)
    assert str(info.value) == (f"{leaves} can only be of {(flambeau.Tensor, int)} but got "
                               f"{types}")


@pytest.mark.parametrize("carried", [5, flambeau.ones(3), flambeau.tensor(0),
                                     {"a": flambeau.ones(1)}])
def test_while_loop_carried_container_error(carried):
    with pytest.raises(RuntimeError, match="Expect carried_inputs to be a tuple") as info:
        flambeau.while_loop(lambda *a: False, lambda *a: a, carried)
    assert str(info.value).endswith(f"but got {type(carried).__name__}.")


@pytest.mark.parametrize("result", [
    lambda i: (i < 3,), lambda i: 3 - int(i), lambda i: (i < 3).float(),
    lambda i: (i < 3).reshape(1), lambda i: flambeau.tensor([True, False]), lambda i: None,
    lambda i: 1.0, lambda i: "s",
])
def test_while_loop_cond_result_error(result):
    i0 = flambeau.tensor(0)
    with pytest.raises(RuntimeError) as info:
        flambeau.while_loop(result, lambda i: (i + 1,), (i0,))
    got = result(i0)
    assert str(info.value) == (
        f"cond_fn must return a boolean scalar tensor or a boolean but got {got}")


@pytest.mark.parametrize("body,carried,match", [
    (lambda i, x: (i + 1,), "ix", "same number of outputs but got lhs:"),
    (lambda i: ((i + 1).float(),), "i", "pair\\[0\\] differ in 'dtype: flambeau.float32 vs "
                                        "flambeau.int64'"),
    (lambda i, x: (i + 1, flambeau.cat([x, x])), "ix", "pair\\[1\\] differ in 'shape: "),
    (lambda i: None, "i", "pair\\[0\\] differ in type: None vs Tensor"),
    (lambda i: (3,), "i", "pair\\[0\\] differ in type: 3 vs Tensor"),
    (lambda i: (flambeau.tensor(i + 1),), "int", "pair\\[0\\] differ in type: Tensor"),
    (lambda i: (i + 0.5,), "int", "pair\\[0\\] differ in type: 0.5 vs 0"),
])
def test_while_loop_body_output_error(body, carried, match):
    carried = {"ix": (flambeau.tensor(0), flambeau.ones(2)), "i": (flambeau.tensor(0),),
               "int": (0,)}[carried]
    with pytest.raises(RuntimeError, match=match) as info:
        flambeau.while_loop(lambda *a: bool(a[0] < 3), body, carried)
    assert str(info.value).startswith("Expected body_fn_output and carried_inputs to have same ")


def test_while_loop_signature():
    import inspect

    assert list(inspect.signature(flambeau.while_loop).parameters) == [
        "cond_fn", "body_fn", "carried_inputs"]
    out = flambeau.while_loop(cond_fn=lambda i: i < 2, body_fn=lambda i: (i + 1,),
                              carried_inputs=(0,))
    assert out == (2,)


# ------------------------------------------------------------------ torch parity: cond, loop


def _libs():
    torch = pytest.importorskip("torch")
    return torch, flambeau


@pytest.mark.parity
def test_cond_while_loop_signatures_match_torch():
    import inspect

    torch, _ = _libs()
    for name in ("cond", "while_loop"):
        ours = inspect.signature(getattr(flambeau, name)).parameters
        theirs = inspect.signature(getattr(torch, name)).parameters
        assert list(ours) == list(theirs)
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


@pytest.mark.parity
def test_cond_values_match_torch():
    torch, _ = _libs()
    data = [1.0, -2.0, 3.0]
    for tensor_pred in (False, True):
        for want in (True, False):
            got = []
            for lib in (torch, flambeau):
                x = lib.tensor(data, requires_grad=True)
                pred = lib.tensor(want) if tensor_pred else want
                y = lib.cond(pred, lambda t: (t.sin() * t).sum(), lambda t: (t.exp()).sum(),
                             (x,))
                y.backward()
                got.append((y.item(), x.grad.tolist()))
            np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-6)
            np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-6)


@pytest.mark.host_only  # the messages compared print CPU tensors
@pytest.mark.parity
def test_cond_errors_match_torch():
    torch, _ = _libs()

    def message(lib, pred, t, f, operands):
        with pytest.raises(RuntimeError) as info:
            lib.cond(pred(lib), t, f, operands(lib))
        return str(info.value)

    cases = [
        (lambda lib: "a", lambda: 0, lambda: 1, lambda lib: ()),
        (lambda lib: None, lambda: 0, lambda: 1, lambda lib: ()),
        (lambda lib: [True], lambda: 0, lambda: 1, lambda lib: ()),
        (lambda lib: lib.tensor([True, False]), 3, 4, lambda lib: (1,)),
        (lambda lib: lib.tensor([]), 3, 4, lambda lib: (1,)),
        (lambda lib: lib.tensor(True), 3, 4, lambda lib: (1,)),
        (lambda lib: lib.tensor(True), lambda a: a, lambda a: a, lambda lib: (1,)),
        (lambda lib: lib.tensor(True), lambda a: a, lambda a: a, lambda lib: [2.5]),
        (lambda lib: lib.tensor(True), lambda a: a, lambda a: a, lambda lib: None),
        (lambda lib: lib.tensor(True), lambda a: a, lambda a: a,
         lambda lib: ({"k": 1},)),
        (lambda lib: lib.tensor(True), lambda a: a, lambda a: a,
         lambda lib: {"k": lib.ones(1)}),
    ]
    for pred, t, f, operands in cases:
        assert message(flambeau, pred, t, f, operands) == message(torch, pred, t, f,
                                                                  operands).replace(
            "torch", "flambeau")


@pytest.mark.parity
def test_while_loop_values_match_torch():
    torch, _ = _libs()
    results = []
    for lib in (torch, flambeau):
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        i, y = lib.while_loop(lambda i, x: i < 4, lambda i, x: (i + 1, x * 2 + i),
                              (lib.tensor(0), x * 1))
        y.sum().backward()
        zero = lib.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x + 1), (5, lib.ones(2)))
        results.append((i.item(), y.tolist(), x.grad.tolist(), zero[0], zero[1].tolist()))
    assert results[0] == results[1]


@pytest.mark.host_only  # the messages compared print CPU tensors
@pytest.mark.parity
def test_while_loop_errors_match_torch():
    torch, _ = _libs()
    for lib in (torch, flambeau):
        with pytest.raises(RuntimeError, match="^Expect cond_fn and body_fn to be callable.$"):
            lib.while_loop(3, lambda i: (i,), (0,))
    prefixes = []
    for lib in (torch, flambeau):
        with pytest.raises(AssertionError) as info:
            lib.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x), (0.0, lib.ones(2)))
        prefixes.append(str(info.value).split(" can only be of ")[0])
    assert prefixes[0] == prefixes[1]
    for result in (lambda i: (i < 3,), lambda i: 3 - i):
        messages = []
        for lib in (torch, flambeau):
            with pytest.raises(RuntimeError) as info:
                lib.while_loop(result, lambda i: (i + 1,), (0,))
            messages.append(str(info.value))
        assert messages[0] == messages[1].replace("flambeau", "torch")


# ------------------------------------------------------------------ dim_order


def test_dim_order_values():
    assert flambeau.empty(2, 3, 5, 7).dim_order() == (0, 1, 2, 3)
    assert flambeau.empty(2, 3, 5, 7).transpose(1, 2).dim_order() == (0, 2, 1, 3)
    assert flambeau.empty(2, 5, 7, 3).permute(0, 3, 1, 2).dim_order() == (0, 2, 3, 1)
    assert flambeau.empty(2, 4, 5, 6, 3).permute(0, 4, 1, 2, 3).dim_order() == (0, 2, 3, 4, 1)
    assert flambeau.empty(5, 3, 4).permute(2, 0, 1).dim_order() == (1, 2, 0)
    assert flambeau.empty(2, 3).t().dim_order() == (1, 0)
    assert flambeau.empty(4, 6)[:, ::2].dim_order() == (0, 1)
    order = flambeau.empty(2, 3).dim_order()
    assert type(order) is tuple and all(type(d) is int for d in order)


def test_dim_order_small_and_size_one():
    assert flambeau.tensor(1.0).dim_order() == ()
    assert flambeau.tensor(1.0).dim_order(ambiguity_check=True) == ()
    assert flambeau.empty(3).dim_order(ambiguity_check=True) == (0,)
    assert flambeau.empty(1).dim_order() == (0,)
    assert flambeau.empty(1, 2, 3, 4).dim_order() == (0, 1, 2, 3)
    # dense in C order: the logical order, whatever the size-one dims' strides
    base = flambeau.empty(100)
    assert base.as_strided((1, 2, 1, 3), (3, 3, 6, 1)).dim_order() == (0, 1, 2, 3)
    # otherwise size-one dims are sorted by their strides like the others
    assert base.as_strided((1, 1, 1, 4), (1, 1, 2, 1)).dim_order() == (2, 3, 0, 1)
    assert base.as_strided((3, 1, 2), (1, 3, 3)).dim_order() == (2, 1, 0)


def test_dim_order_ties():
    base = flambeau.empty(100)
    # zero strides (broadcast dims) leave their neighbours where they are
    assert flambeau.empty(3, 4).expand(2, 3, 4).dim_order() == (0, 1, 2)
    assert flambeau.empty(3, 1).expand(3, 4).dim_order() == (0, 1)
    assert base.as_strided((2, 3, 4), (1, 0, 2)).dim_order() == (2, 1, 0)
    assert base.as_strided((3, 4), (0, 0)).dim_order() == (0, 1)
    # equal strides: the longer dim goes outside, equal lengths keep their order
    assert base.as_strided((2, 3), (2, 2)).dim_order() == (1, 0)
    assert base.as_strided((3, 2), (2, 2)).dim_order() == (0, 1)
    assert base.as_strided((2, 2), (2, 2)).dim_order() == (0, 1)
    assert base.as_strided((2, 3, 2), (3, 1, 3)).dim_order() == (0, 2, 1)


_AMBIGUOUS = ("The tensor does not have unique dim order, or cannot map to exact one of the "
              "given memory formats.")
_NOT_UNIQUE = "The tensor does not have unique dim order."


def test_dim_order_ambiguity_check_true():
    base = flambeau.empty(100)
    assert flambeau.empty(2, 3).dim_order(ambiguity_check=True) == (0, 1)
    assert flambeau.empty(2, 3).t().dim_order(ambiguity_check=True) == (1, 0)
    assert flambeau.empty(4, 6)[:, ::2].dim_order(ambiguity_check=True) == (0, 1)
    assert base.as_strided((3,), (0,)).dim_order(ambiguity_check=True) == (0,)
    for t in (flambeau.empty(1), flambeau.empty(1, 2, 3, 4), flambeau.empty(1, 1),
              base.as_strided((3, 2), (2, 2)), base.as_strided((3, 4), (0, 0)),
              base.as_strided((3, 1, 2), (1, 3, 3))):
        with pytest.raises(RuntimeError) as info:
            t.dim_order(ambiguity_check=True)
        assert str(info.value) == _AMBIGUOUS
    # strides that do not order two dims though no neighbours are equal
    for t in (base.as_strided((2, 3, 2), (3, 1, 3)), base.as_strided((3, 4), (1, 0)),
              base.as_strided((2, 3, 4), (0, 4, 1)), base.as_strided((2, 3, 4), (2, 1, 2))):
        with pytest.raises(RuntimeError) as info:
            t.dim_order(ambiguity_check=True)
        assert str(info.value) == _NOT_UNIQUE
    assert flambeau.empty(2, 3).dim_order(ambiguity_check=False) == (0, 1)


def test_dim_order_ambiguity_check_formats():
    base = flambeau.empty(1000)
    cf, cl, cl3 = flambeau.contiguous_format, flambeau.channels_last, flambeau.channels_last_3d
    x = flambeau.empty(1, 2, 3, 4)
    assert x.dim_order(ambiguity_check=[cf, cl]) == (0, 1, 2, 3)
    assert x.dim_order(ambiguity_check=[cf]) == (0, 1, 2, 3)
    assert x.dim_order(ambiguity_check=[flambeau.preserve_format]) == (0, 1, 2, 3)
    nhwc = flambeau.empty(2, 3, 4, 2).permute(0, 3, 1, 2)
    assert nhwc.dim_order(ambiguity_check=[cf, cl]) == (0, 2, 3, 1)
    assert nhwc.dim_order(ambiguity_check=[cf]) == (0, 2, 3, 1)  # unique: no check needed
    ndhwc = flambeau.empty(2, 3, 4, 5, 6).permute(0, 4, 1, 2, 3)
    assert ndhwc.dim_order(ambiguity_check=[cl3, cf]) == (0, 2, 3, 4, 1)
    one_nhwc = base.as_strided((1, 4, 2, 2), (16, 1, 8, 4))
    assert one_nhwc.dim_order(ambiguity_check=[cl]) == (0, 2, 3, 1)
    # contiguous in none, or in more than one (a format given twice counts twice)
    for t, formats in [(x, []), (x, [cl]), (one_nhwc, [cl, cl]),
                       (flambeau.empty(2, 1, 3, 4), [cf, cl]),
                       (flambeau.empty(2, 1, 1, 1), [cf, cl]),
                       (base.as_strided((1, 4), (4, 1)), [cl]),
                       (base.as_strided((3, 2), (2, 2)), [cf])]:
        with pytest.raises(RuntimeError) as info:
            t.dim_order(ambiguity_check=formats)
        assert str(info.value) == _AMBIGUOUS
    # an order the strides leave open still raises, unless the list is empty
    assert base.as_strided((3, 1, 4), (4, 0, 1)).dim_order(ambiguity_check=[cf]) == (0, 1, 2)
    with pytest.raises(RuntimeError) as info:
        base.as_strided((3, 2, 4), (4, 0, 1)).dim_order(ambiguity_check=[cf])
    assert str(info.value) == _NOT_UNIQUE
    with pytest.raises(RuntimeError) as info:
        base.as_strided((3, 4), (1, 0)).dim_order(ambiguity_check=[cf])
    assert str(info.value) == _NOT_UNIQUE
    assert base.as_strided((3, 4), (1, 0)).dim_order(ambiguity_check=[]) == (0, 1)
    assert flambeau.empty(2, 3, 4, 5).dim_order(ambiguity_check=[]) == (0, 1, 2, 3)


@pytest.mark.parametrize("check", ["ILLEGAL", 1, 0, None, (flambeau.contiguous_format,),
                                   [1], [flambeau.contiguous_format, 1], flambeau.channels_last])
def test_dim_order_ambiguity_check_type_error(check):
    with pytest.raises(TypeError) as info:
        flambeau.empty(2, 3).dim_order(ambiguity_check=check)
    assert str(info.value) == ("The ambiguity_check argument must be a bool or a list of "
                               "memory formats.")


def test_dim_order_keyword_only():
    with pytest.raises(TypeError):
        flambeau.empty(2).dim_order(True)


# ------------------------------------------------------------------ torch parity: dim_order


@pytest.mark.parity
def test_dim_order_signature_matches_torch():
    import inspect

    torch, _ = _libs()
    ours = inspect.signature(flambeau.Tensor.dim_order).parameters
    theirs = inspect.signature(torch.Tensor.dim_order).parameters
    assert list(ours) == list(theirs)
    assert ours["ambiguity_check"].kind == theirs["ambiguity_check"].kind
    assert ours["ambiguity_check"].default is theirs["ambiguity_check"].default


def _dim_order_result(t, check):
    try:
        return t.dim_order(ambiguity_check=check)
    except (RuntimeError, TypeError) as e:
        return type(e).__name__, str(e)


@pytest.mark.parity
def test_dim_order_matches_torch_on_random_strides():
    torch, _ = _libs()
    formats = {"c": (torch.contiguous_format, flambeau.contiguous_format),
               "cl": (torch.channels_last, flambeau.channels_last),
               "cl3": (torch.channels_last_3d, flambeau.channels_last_3d),
               "p": (torch.preserve_format, flambeau.preserve_format)}
    checks = [False, True, [], ["c"], ["cl"], ["c", "cl"], ["cl3", "c"], ["p"], ["c", "c"]]
    rng = random.Random(0)
    theirs_base, ours_base = torch.zeros(5000), flambeau.zeros(5000)
    compared = 0
    for _ in range(1500):
        ndim = rng.randint(0, 5)
        sizes = tuple(rng.choice([1, 1, 2, 3, 4]) for _ in range(ndim))
        if rng.random() < 0.4:
            strides = tuple(rng.choice([0, 1, 2, 3, 4, 6, 12, 24]) for _ in range(ndim))
        else:  # a permuted dense layout, sometimes with one stride changed
            perm = list(range(ndim))
            rng.shuffle(perm)
            strides, step = [0] * ndim, 1
            for d in reversed(perm):
                strides[d], step = step, step * sizes[d]
            if ndim and rng.random() < 0.3:
                strides[rng.randrange(ndim)] = rng.choice([0, 1, 2])
            strides = tuple(strides)
        theirs = theirs_base.as_strided(sizes, strides)
        ours = ours_base.as_strided(sizes, strides)
        assert ours.stride() == strides
        for check in checks:
            if isinstance(check, bool):
                check_theirs = check_ours = check
            else:
                check_theirs = [formats[k][0] for k in check]
                check_ours = [formats[k][1] for k in check]
            assert (_dim_order_result(ours, check_ours)
                    == _dim_order_result(theirs, check_theirs)), (sizes, strides, check)
            compared += 1
    assert compared == 1500 * len(checks)


@pytest.mark.parity
def test_dim_order_type_errors_match_torch():
    torch, _ = _libs()
    for theirs, ours in [("ILLEGAL", "ILLEGAL"), (1, 1), (None, None),
                         ([torch.contiguous_format, 1], [flambeau.contiguous_format, 1]),
                         ((torch.contiguous_format,), (flambeau.contiguous_format,))]:
        assert (_dim_order_result(flambeau.empty(2, 3), ours)
                == _dim_order_result(torch.empty(2, 3), theirs))

"""flambeau.nn.utils.prune: masks, reparametrization, chaining and errors, against torch."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau import nn
from flambeau.nn.utils import prune


def _distinct(*shape, seed=0):
    """Values with distinct absolute values and distinct channel norms (no ties in ranking)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    values = (rng.permutation(n) + 1.0) / n * rng.choice([-1.0, 1.0], n)
    return values.reshape(shape).astype(np.float32)


def _linear(out_f, in_f, seed=0):
    m = nn.Linear(in_f, out_f)
    with flambeau.no_grad():
        m.weight.copy_(flambeau.tensor(_distinct(out_f, in_f, seed=seed)))
    return m


def _torch_twin(m):
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.nn.utils.prune")
    t = torch.nn.Linear(m.in_features, m.out_features)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.detach().cpu().numpy()))
        t.bias.copy_(torch.tensor(m.bias.detach().cpu().numpy()))
    return t


def _masks_equal(fm, tm, name="weight"):
    np.testing.assert_array_equal(getattr(fm, name + "_mask").cpu().numpy(),
                                  getattr(tm, name + "_mask").cpu().numpy())


# ------------------------------------------------------------------ reparametrization


def test_reparametrization_state_and_forward():
    m = _linear(3, 4)
    w = m.weight
    prune.l1_unstructured(m, "weight", amount=0.5)
    assert m.weight_orig is w  # the same Parameter object moves
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert not isinstance(m.weight, nn.Parameter) and m.weight.grad_fn is not None
    assert int((m.weight_mask == 0).sum()) == 6
    np.testing.assert_array_equal(m.weight.detach().cpu().numpy(),
                                  (w * m.weight_mask).detach().cpu().numpy())
    # the hook recomputes weight before each call, from the current weight_orig
    with flambeau.no_grad():
        m.weight_orig.mul_(2)
    x = flambeau.randn(5, 4)
    np.testing.assert_allclose(m(x).detach().cpu().numpy(),
                               (x @ (w * m.weight_mask).t() + m.bias).detach().cpu().numpy(),
                               rtol=1e-6)


def test_gradient_flows_to_orig_through_the_mask():
    m = _linear(3, 4)
    prune.l1_unstructured(m, "weight", amount=5)
    m(flambeau.randn(6, 4)).sum().backward()
    grad = m.weight_orig.grad.cpu().numpy()
    mask = m.weight_mask.cpu().numpy()
    assert np.all(grad[mask == 0] == 0) and np.all(grad[mask == 1] != 0)


def test_remove_makes_pruning_permanent():
    m = _linear(3, 4)
    orig = m.weight
    prune.random_unstructured(m, "weight", amount=0.5)
    pruned = m.weight.detach().cpu().numpy().copy()
    assert prune.remove(m, "weight") is m
    assert m.weight is orig and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().cpu().numpy(), pruned)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert not m._forward_pre_hooks and not prune.is_pruned(m)


def test_pruned_state_dict_loads_and_deepcopies():
    m = _linear(3, 4)
    prune.l1_unstructured(m, "weight", amount=3)
    other = prune.identity(_linear(3, 4, seed=1), "weight")
    other.load_state_dict(m.state_dict())
    x = flambeau.randn(2, 4)
    np.testing.assert_allclose(other(x).detach().cpu().numpy(), m(x).detach().cpu().numpy())
    twin = copy.deepcopy(m)
    np.testing.assert_allclose(twin(x).detach().cpu().numpy(), m(x).detach().cpu().numpy())
    assert prune.is_pruned(twin)


def test_is_pruned_sees_submodules():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    assert not prune.is_pruned(net)
    prune.identity(net[1][0], "bias")
    assert prune.is_pruned(net)


# ------------------------------------------------------------------ torch parity


def test_l1_unstructured_matches_torch():
    torch = pytest.importorskip("torch")
    for amount in (0, 1, 0.3, 0.5, 11, 12, 1.0):
        fm = _linear(3, 4)
        tm = _torch_twin(fm)
        prune.l1_unstructured(fm, "weight", amount=amount)
        torch.nn.utils.prune.l1_unstructured(tm, "weight", amount=amount)
        _masks_equal(fm, tm)


@pytest.mark.parametrize("n", [1, 2, 3, math.inf, -math.inf, "fro"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(n, dim):
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.nn.utils.prune")
    # torch's "fro" norm takes at most two dimensions: a 3-D weight leaves two after dim
    shape = (5, 3, 4) if n == "fro" else (5, 3, 2, 2)
    values = _distinct(*shape)
    fm, tm = nn.Module(), torch.nn.Module()
    fm.weight = nn.Parameter(flambeau.tensor(values))
    tm.weight = torch.nn.Parameter(torch.tensor(values))
    prune.ln_structured(fm, "weight", amount=0.4, n=n, dim=dim)
    torch.nn.utils.prune.ln_structured(tm, "weight", amount=0.4, n=n, dim=dim)
    _masks_equal(fm, tm)


def test_chained_pruning_matches_torch():
    """Each pruning acts on what the earlier ones kept, scored by the masked weight."""
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    fm = _linear(6, 5)
    tm = _torch_twin(fm)
    steps = [
        (lambda m, p: p.l1_unstructured(m, "weight", amount=0.3)),
        (lambda m, p: p.ln_structured(m, "weight", amount=2, n=1, dim=0)),
        (lambda m, p: p.l1_unstructured(m, "weight", amount=4)),
        (lambda m, p: p.ln_structured(m, "weight", amount=0.2, n=2, dim=1)),
    ]
    for step in steps:
        step(fm, prune)
        step(tm, tp)
        _masks_equal(fm, tm)
    container = next(iter(fm._forward_pre_hooks.values()))
    assert isinstance(container, prune.PruningContainer) and len(container) == 4
    assert [type(m).__name__ for m in container] == [
        "L1Unstructured", "LnStructured", "L1Unstructured", "LnStructured"]
    assert list(fm.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(fm(flambeau.tensor(x)).detach().cpu().numpy(),
                               tm(torch.tensor(x)).detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_repruning_scores_the_masked_weight_like_torch():
    """A second pruning ranks by the current (masked) weight, not by weight_orig."""
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    values = np.array([[5.0, 0.1, 0.1, 0.1], [1.0, 1, 1, 1], [2.0, 2, 2, 2]], np.float32)
    first = np.array([[0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], np.float32)
    fm, tm = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    with flambeau.no_grad():
        fm.weight.copy_(flambeau.tensor(values))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(values))
    prune.custom_from_mask(fm, "weight", mask=flambeau.tensor(first))
    tp.custom_from_mask(tm, "weight", mask=torch.tensor(first))
    prune.ln_structured(fm, "weight", amount=1, n=1, dim=0)
    tp.ln_structured(tm, "weight", amount=1, n=1, dim=0)
    _masks_equal(fm, tm)
    assert fm.weight_mask[0].sum().item() == 0  # the row that was 5.3 before the mask


def test_importance_scores_and_custom_mask_match_torch():
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    scores = _distinct(3, 4, seed=3)
    fm, mask = _linear(3, 4), (_distinct(3, 4, seed=4) > 0)
    tm = _torch_twin(fm)
    prune.custom_from_mask(fm, "weight", mask=flambeau.tensor(mask))
    tp.custom_from_mask(tm, "weight", mask=torch.tensor(mask))
    _masks_equal(fm, tm)
    prune.l1_unstructured(fm, "weight", amount=2, importance_scores=flambeau.tensor(scores))
    tp.l1_unstructured(tm, "weight", amount=2, importance_scores=torch.tensor(scores))
    _masks_equal(fm, tm)
    prune.ln_structured(fm, "weight", amount=1, n=2, dim=1,
                        importance_scores=flambeau.tensor(scores))
    tp.ln_structured(tm, "weight", amount=1, n=2, dim=1, importance_scores=torch.tensor(scores))
    _masks_equal(fm, tm)
    prune.custom_from_mask(fm, "bias", mask=flambeau.tensor([True, False, True]))
    tp.custom_from_mask(tm, "bias", mask=torch.tensor([True, False, True]))
    _masks_equal(fm, tm, "bias")
    assert fm.bias_mask.dtype == flambeau.float32


def test_global_unstructured_matches_torch():
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    fms = [_linear(3, 4, seed=5), _linear(2, 3, seed=6)]
    tms = [_torch_twin(m) for m in fms]
    prune.l1_unstructured(fms[0], "weight", amount=2)  # an already pruned one joins
    tp.l1_unstructured(tms[0], "weight", amount=2)
    scores = flambeau.tensor(_distinct(2, 3, seed=7) * 0.7919)  # no ties with the others
    prune.global_unstructured([(fms[0], "weight"), (fms[1], "weight"), (fms[1], "bias")],
                              pruning_method=prune.L1Unstructured, amount=0.4,
                              importance_scores={(fms[1], "weight"): scores})
    tp.global_unstructured([(tms[0], "weight"), (tms[1], "weight"), (tms[1], "bias")],
                           pruning_method=tp.L1Unstructured, amount=0.4,
                           importance_scores={(tms[1], "weight"):
                                              torch.tensor(scores.cpu().numpy())})
    for fm, tm in zip(fms, tms):
        _masks_equal(fm, tm)
    _masks_equal(fms[1], tms[1], "bias")


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(2, 6), cols=st.integers(2, 6),
       amount=st.one_of(st.floats(0, 1), st.integers(0, 4)), seed=st.integers(0, 100))
def test_amounts_count_like_torch(rows, cols, amount, seed):
    """How many entries or channels an amount prunes (Python's round: halves to even)."""
    torch = pytest.importorskip("torch")
    fm = _linear(rows, cols, seed=seed)
    tm = _torch_twin(fm)
    prune.l1_unstructured(fm, "weight", amount=amount)
    torch.nn.utils.prune.l1_unstructured(tm, "weight", amount=amount)
    _masks_equal(fm, tm)
    fs, ts = _linear(rows, cols, seed=seed), None
    ts = _torch_twin(fs)
    prune.random_structured(fs, "weight", amount=min(amount, rows) if isinstance(amount, int)
                            else amount, dim=0)
    torch.nn.utils.prune.random_structured(ts, "weight", amount=min(amount, rows)
                                           if isinstance(amount, int) else amount, dim=0)
    assert int((fs.weight_mask.sum(1) == 0).sum()) == int((ts.weight_mask.sum(1) == 0).sum())


# ------------------------------------------------------------------ random methods


def test_random_unstructured_prunes_amount_among_kept():
    m = _linear(4, 5)
    prune.random_unstructured(m, "weight", amount=0.25)
    first = m.weight_mask.cpu().numpy().copy()
    assert int((first == 0).sum()) == 5
    prune.random_unstructured(m, "weight", amount=5)
    second = m.weight_mask.cpu().numpy()
    assert int((second == 0).sum()) == 10 and np.all(second[first == 0] == 0)


def test_random_structured_prunes_whole_channels():
    m = nn.Conv2d(2, 6, 3)
    prune.random_structured(m, "weight", amount=0.5, dim=0)
    per_channel = m.weight_mask.sum((1, 2, 3)).cpu().numpy()
    assert sorted(per_channel.tolist()) == [0.0] * 3 + [18.0] * 3
    flambeau.manual_seed(0)
    a = prune.RandomStructured(amount=2, dim=1).compute_mask(flambeau.ones(3, 4),
                                                              flambeau.ones(3, 4))
    flambeau.manual_seed(0)
    b = prune.RandomStructured(amount=2, dim=1).compute_mask(flambeau.ones(3, 4),
                                                              flambeau.ones(3, 4))
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())  # reproducible from the seed


def test_prune_method_and_identity():
    t = flambeau.tensor([3.0, -1.0, 2.0, 0.5])
    assert prune.L1Unstructured(amount=2).prune(t).tolist() == [3.0, 0.0, 2.0, 0.0]
    kept = prune.L1Unstructured(amount=2).prune(t, default_mask=flambeau.tensor([1., 1., 0., 1.]))
    assert kept.tolist() == [3.0, 0.0, 0.0, 0.0]
    m = prune.identity(_linear(2, 2), "weight")
    assert m.weight_mask.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_custom_method_subclass():
    class KeepPositive(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            return default_mask * (t > 0)

    m = _linear(2, 3)
    KeepPositive.apply(m, "weight")
    np.testing.assert_array_equal(m.weight_mask.cpu().numpy(),
                                  m.weight_orig.detach().cpu().numpy() > 0)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("amount, error, match", [
    (1.5, ValueError, r"amount=1.5 should either be a float in the range \[0, 1\]"),
    (-1, ValueError, r"amount=-1 should either be"),
    ("a", TypeError, "Invalid type for amount: a"),
    (True, TypeError, "Invalid type for amount"),
])
def test_invalid_amounts(amount, error, match):
    with pytest.raises(error, match=match):
        prune.L1Unstructured(amount)


def _unchanged(m, before):
    assert list(m.state_dict()) == before and not m._forward_pre_hooks


def test_errors_leave_the_module_unchanged():
    m = _linear(2, 2)
    before = list(m.state_dict())
    with pytest.raises(ValueError, match="amount=5 should be smaller than the number of "
                                         "parameters to prune=4"):
        prune.l1_unstructured(m, "weight", amount=5)
    _unchanged(m, before)
    with pytest.raises(ValueError, match=r"importance_scores should have the same shape.*"
                                         r"\(3,\) vs \(2, 2\)"):
        prune.l1_unstructured(m, "weight", amount=1, importance_scores=flambeau.ones(3))
    _unchanged(m, before)
    with pytest.raises(ValueError, match=r"Structured pruning can only be applied to "
                                         r"multidimensional tensors. Found tensor of shape \(2,\)"):
        prune.ln_structured(m, "bias", amount=1, n=1, dim=0)
    _unchanged(m, before)
    with pytest.raises(IndexError, match=r"Invalid index 2 for tensor of size \(2, 2\)"):
        prune.ln_structured(m, "weight", amount=1, n=1, dim=2)
    _unchanged(m, before)
    with pytest.raises(ValueError, match=r"CustomFromMask: the mask has shape \(3,\)"):
        prune.custom_from_mask(m, "weight", mask=flambeau.ones(3))
    _unchanged(m, before)
    with pytest.raises(AttributeError, match="nope"):
        prune.l1_unstructured(m, "nope", amount=1)
    _unchanged(m, before)


def test_error_on_second_pruning_keeps_the_first():
    m = _linear(3, 3)
    prune.l1_unstructured(m, "weight", amount=2)
    mask = m.weight_mask.cpu().numpy().copy()
    with pytest.raises(ValueError, match="amount=8 should be smaller"):
        prune.l1_unstructured(m, "weight", amount=8)  # only 7 entries are left
    np.testing.assert_array_equal(m.weight_mask.cpu().numpy(), mask)
    assert type(next(iter(m._forward_pre_hooks.values()))) is prune.L1Unstructured


def test_remove_unpruned_and_global_errors():
    m = _linear(2, 2)
    with pytest.raises(ValueError, match="Parameter 'weight' of module .* has to be pruned"):
        prune.remove(m, "weight")
    with pytest.raises(TypeError, match="parameters is not an Iterable"):
        prune.global_unstructured(5, pruning_method=prune.L1Unstructured, amount=1)
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE supported'):
        prune.global_unstructured([(m, "weight")], pruning_method=prune.RandomStructured,
                                  amount=1)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        prune.global_unstructured([(m, "weight")], pruning_method=prune.L1Unstructured,
                                  importance_scores=[1], amount=1)
    assert not prune.is_pruned(m)


def test_container_errors():
    with pytest.raises(TypeError, match="int is not a BasePruningMethod subclass"):
        prune.PruningContainer(5)
    a, b = prune.Identity(), prune.Identity()
    a._tensor_name, b._tensor_name = "weight", "bias"
    with pytest.raises(ValueError, match="acting on the parameter named 'weight'.*Found 'bias'"):
        prune.PruningContainer(a, b)

    class Odd(prune.Identity):
        PRUNING_TYPE = "diagonal"

    c = prune.PruningContainer(Odd())
    with pytest.raises(ValueError, match="unrecognized PRUNING_TYPE 'diagonal'"):
        c.compute_mask(flambeau.ones(2), flambeau.ones(2))

    class NoDim(prune.Identity):
        PRUNING_TYPE = "structured"

    with pytest.raises(AttributeError, match="need the attribute `dim`"):
        prune.PruningContainer(NoDim()).compute_mask(flambeau.ones(2, 2), flambeau.ones(2, 2))
    with pytest.raises(RuntimeError, match="never applied to a module"):
        prune.Identity().apply_mask(nn.Linear(1, 1))

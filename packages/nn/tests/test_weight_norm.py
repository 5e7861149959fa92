"""Weight normalization: the parametrization and the legacy forward pre-hook."""

import warnings

import numpy as np
import pytest
from _helpers_a import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck
from flambeau.nn.utils import parametrizations as PZ
from flambeau.nn.utils import parametrize as P
from flambeau.nn.utils.parametrizations import _WeightNorm


def from_torch(t):
    return flambeau.tensor(np.array(t.detach().cpu().numpy()))


def legacy_weight_norm(module, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(module, **kw)


def module_pair(torch, kind, seed=0):
    torch.manual_seed(seed)
    if kind == "linear":
        tm, fm = torch.nn.Linear(4, 3), nn.Linear(4, 3)
        x = np.random.default_rng(seed).standard_normal((5, 4))
    elif kind == "conv":
        tm, fm = torch.nn.Conv2d(2, 3, 3), nn.Conv2d(2, 3, 3)
        x = np.random.default_rng(seed).standard_normal((2, 2, 5, 5))
    else:
        tm, fm = torch.nn.ConvTranspose1d(2, 3, 3), nn.ConvTranspose1d(2, 3, 3)
        x = np.random.default_rng(seed).standard_normal((2, 2, 4))
    tm, fm = tm.double(), fm.double()
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    return fm, tm, x


def check_same(fm, tm, x, torch, tol=1e-12):
    assert list(fm.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert tuple(fm.state_dict()[k].shape) == tuple(v.shape), k
        assert_close(fm.state_dict()[k], v, atol=tol, rtol=tol, what=k)
    f_out, t_out = fm(flambeau.tensor(x)), tm(torch.tensor(x))
    assert_close(f_out, t_out, atol=tol, rtol=tol, what="output")
    g = np.random.default_rng(5).standard_normal(tuple(f_out.shape))
    f_out.backward(flambeau.tensor(g))
    t_out.backward(torch.tensor(g))
    t_params = dict(tm.named_parameters())
    assert [n for n, _ in fm.named_parameters()] == list(t_params)
    for name, p in fm.named_parameters():
        assert_close(p.grad, t_params[name].grad, atol=tol, rtol=tol, what=f"grad {name}")


# ---------------------------------------------------------------------------- parametrization
@pytest.mark.parity
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None),
                                      ("linear", -1), ("linear", -2), ("conv", 0),
                                      ("conv", 1), ("conv", -2), ("conv", None),
                                      ("transposed", 1)])
def test_weight_norm_parametrization_parity(kind, dim):
    torch = pytest.importorskip("torch")
    fm, tm, x = module_pair(torch, kind)
    PZ.weight_norm(fm, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    with torch.no_grad():  # move g away from ||v|| so that the two factors matter
        tm.parametrizations.weight.original0.mul_(1.5)
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    check_same(fm, tm, x, torch)
    assert_close(fm.weight, tm.weight, atol=1e-12, rtol=1e-12)


@pytest.mark.parity
def test_weight_norm_parametrization_remove_parity():
    torch = pytest.importorskip("torch")
    fm, tm, x = module_pair(torch, "conv", seed=2)
    PZ.weight_norm(fm)
    torch.nn.utils.parametrizations.weight_norm(tm)
    with torch.no_grad():
        tm.parametrizations.weight.original0.mul_(0.5)
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    P.remove_parametrizations(fm, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight")
    check_same(fm, tm, x, torch)


@pytest.mark.parity
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", None), ("conv", 1),
                                      ("conv", 0)])
def test_legacy_weight_norm_parity(kind, dim):
    torch = pytest.importorskip("torch")
    fm, tm, x = module_pair(torch, kind, seed=1)
    legacy_weight_norm(fm, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm, dim=dim)
    with torch.no_grad():
        tm.weight_g.mul_(2.0)
    fm.load_state_dict({k: from_torch(v) for k, v in tm.state_dict().items()})
    check_same(fm, tm, x, torch)
    nn.utils.remove_weight_norm(fm)
    torch.nn.utils.remove_weight_norm(tm)
    fm.zero_grad()
    tm.zero_grad()
    check_same(fm, tm, x, torch)


def test_legacy_state_dict_loads_into_parametrized_module():
    old = legacy_weight_norm(nn.Linear(3, 2))
    with flambeau.no_grad():
        old.weight_g.mul_(3.0)
    old(flambeau.ones(1, 3))  # the hook recomputes weight
    new = PZ.weight_norm(nn.Linear(3, 2))
    state = old.state_dict()
    result = new.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    assert list(state) == ["bias", "weight_g", "weight_v"]  # the caller's dict is not edited
    assert_close(new.weight, old.weight, atol=1e-7, rtol=1e-6)


def test_weight_norm_registration_keeps_weight_and_keys():
    m = nn.Conv2d(2, 4, 3)
    w = m.weight.detach().clone()
    PZ.weight_norm(m)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    assert m.parametrizations.weight.original0.shape == (4, 1, 1, 1)
    assert_close(m.weight, w, atol=1e-6, rtol=1e-5)
    assert isinstance(m.parametrizations.weight[0], _WeightNorm)
    m = PZ.weight_norm(nn.Linear(3, 2), dim=None)
    assert m.parametrizations.weight.original0.shape == ()


def test_weight_norm_gradcheck():
    for dim, shape in ((0, (3, 4)), (1, (2, 3, 2)), (-1, (3, 2)), (-2, (2, 3, 4)), (0, (5,))):
        wn = _WeightNorm(dim)
        v = flambeau.randn(*shape, dtype=flambeau.float64)
        g = wn.right_inverse(v)[0] * 1.3
        assert gradcheck(wn, (g.requires_grad_(), v.requires_grad_()))


def test_legacy_weight_norm_behaviour_and_errors():
    m = nn.Linear(3, 2)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert not isinstance(m.weight, nn.Parameter)
    with flambeau.no_grad():
        m.weight_g.fill_(2.0)
    m(flambeau.ones(1, 3))  # the pre-hook recomputes the weight
    assert_close(m.weight.norm(dim=1), [2.0, 2.0], atol=1e-6, rtol=0)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same "
                                           "parameter weight"):
        legacy_weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found in Linear"):
        nn.utils.remove_weight_norm(m, "bias")
    nn.utils.remove_weight_norm(m)
    assert isinstance(m.weight, nn.Parameter) and not m._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        legacy_weight_norm(nn.LazyLinear(2))


def test_weight_norm_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\], but got 2\)"):
        PZ.weight_norm(nn.Linear(3, 4), dim=2)
    m = nn.Linear(3, 4)
    with pytest.raises(IndexError, match="but got -3"):
        legacy_weight_norm(m, dim=-3)
    assert list(m.state_dict()) == ["weight", "bias"]  # untouched by the failure
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'foo'"):
        PZ.weight_norm(nn.Linear(3, 4), name="foo")


# ---------------------------------------------------------------------------- property
@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_weight_norm_property(shape, data):
    """For any shape and dim: the weight is unchanged at registration, g is the norm of v
    over the other dims, and rescaling g rescales each slice's norm to |g|."""
    ndim = len(shape)
    dim = data.draw(st.sampled_from([None, *range(-ndim, ndim)]), label="dim")
    rng = np.random.default_rng(len(shape) * 10 + (0 if dim is None else dim + 5))
    w0 = rng.standard_normal(shape) + 0.1
    m = nn.Module()
    m.weight = nn.Parameter(flambeau.tensor(w0))
    PZ.weight_norm(m, dim=dim)
    g = m.parametrizations.weight.original0
    v = m.parametrizations.weight.original1
    assert_close(m.weight, w0, atol=1e-12, rtol=1e-12)
    eff = -1 if dim is None or dim == -1 else dim % ndim
    others = tuple(d for d in range(ndim) if d != eff) if eff != -1 else tuple(range(ndim))
    expected_g = np.sqrt((w0 ** 2).sum(axis=others, keepdims=eff != -1))
    if eff != -1 and not others:
        expected_g = np.abs(w0)
    assert tuple(g.shape) == expected_g.shape
    assert_close(g, expected_g, atol=1e-12, rtol=1e-12)
    new_g = rng.uniform(0.5, 2.0, size=expected_g.shape)
    m.parametrizations.weight.original0 = nn.Parameter(flambeau.tensor(new_g))
    w = m.weight.detach().cpu().numpy()
    norms = np.sqrt((w ** 2).sum(axis=others, keepdims=eff != -1)) if others else np.abs(w)
    assert_close(norms, new_g, atol=1e-12, rtol=1e-10)
    assert_close(v, w0, atol=0, rtol=0)  # the direction is untouched

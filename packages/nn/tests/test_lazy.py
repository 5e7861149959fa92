"""Lazy modules: shapes from the first input or a state dict, as torch.nn.Lazy*."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import flambeau
from flambeau import nn


def test_lazy_linear_infers_from_a_keyword_input():
    # torch's lazy modules read the first call's keyword arguments too
    torch = pytest.importorskip("torch")
    fc, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    y = fc(input=flambeau.ones(2, 5))
    assert tuple(y.shape) == tuple(theirs(input=torch.ones(2, 5)).shape) == (2, 3)
    assert type(fc) is nn.Linear and fc.in_features == 5
    assert not fc._forward_pre_hooks and not fc._forward_pre_hooks_with_kwargs


def test_lazy_linear_infers_in_features_and_becomes_linear():
    flambeau.manual_seed(0)
    fc = nn.LazyLinear(3)
    assert fc.has_uninitialized_params()
    assert isinstance(fc.weight, nn.UninitializedParameter)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        fc.weight.shape
    params = list(fc.parameters())  # as an optimizer made before the dry run holds them
    y = fc(flambeau.ones(2, 5))
    assert params[0] is fc.weight and params[1] is fc.bias  # materialized in place
    assert type(fc) is nn.Linear and fc.in_features == 5 and tuple(y.shape) == (2, 3)
    assert type(fc.weight) is nn.Parameter and tuple(fc.weight.shape) == (3, 5)
    bound = 1 / np.sqrt(5)  # Linear's initialization, drawn at materialization
    assert np.abs(fc.weight.detach().cpu().numpy()).max() <= bound
    assert np.abs(fc.bias.detach().cpu().numpy()).max() <= bound
    before = fc.weight.detach().cpu().numpy().copy()
    fc(flambeau.ones(2, 5)).sum().backward()
    with flambeau.no_grad():
        params[0].sub_(params[0].grad, alpha=0.1)
    assert not np.array_equal(before, fc.weight.detach().cpu().numpy())
    assert len(fc._forward_pre_hooks) == 0  # the shape-inferring hook is gone


def test_lazy_linear_without_bias_and_repr():
    fc = nn.LazyLinear(4, bias=False)
    assert repr(fc) == "LazyLinear(in_features=0, out_features=4, bias=False)"
    fc(flambeau.ones(1, 2))
    assert fc.bias is None and repr(fc) == "Linear(in_features=2, out_features=4, bias=False)"


@pytest.mark.parametrize("cls, shape, kw, in_channels", [
    (nn.LazyConv1d, (2, 3, 9), dict(kernel_size=3), 3),
    (nn.LazyConv2d, (2, 4, 6, 6), dict(kernel_size=3, padding=1, groups=2), 4),
    (nn.LazyConv2d, (4, 6, 6), dict(kernel_size=2), 4),  # unbatched
    (nn.LazyConv3d, (1, 2, 3, 3, 3), dict(kernel_size=1), 2),
])
def test_lazy_convolutions_match_their_eager_class(cls, shape, kw, in_channels):
    conv = cls(6, **kw)
    x = flambeau.randn(*shape)
    y = conv(x)
    assert type(conv) is cls.cls_to_become and conv.in_channels == in_channels
    eager = cls.cls_to_become(in_channels, 6, **kw)
    eager.load_state_dict(conv.state_dict())
    np.testing.assert_allclose(eager(x).detach().cpu().numpy(), y.detach().cpu().numpy(), rtol=1e-6)


def test_lazy_modules_load_shapes_from_a_state_dict():
    source = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Conv1d(1, 2, 3))
    lazy = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyConv1d(2, 3))
    lazy.load_state_dict(source.state_dict())
    assert type(lazy[0]) is nn.Linear and lazy[0].in_features == 5
    assert type(lazy[2]) is nn.Conv1d and lazy[2].in_channels == 1
    np.testing.assert_array_equal(lazy[0].weight.detach().cpu().numpy(),
                                  source[0].weight.detach().cpu().numpy())
    x = flambeau.randn(4, 5)
    np.testing.assert_array_equal(lazy[0](x).detach().cpu().numpy(),
                                  source[0](x).detach().cpu().numpy())


def test_lazy_errors_and_copies():
    with pytest.raises(RuntimeError, match="LazyConv2d: expected a 3D"):
        nn.LazyConv2d(2, 3)(flambeau.ones(2, 2))
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups"):
        nn.LazyConv2d(4, 1, groups=2)(flambeau.ones(1, 3, 2, 2))
    lazy = nn.LazyLinear(2)
    twin = copy.deepcopy(lazy)
    assert twin.has_uninitialized_params() and twin.weight is not lazy.weight
    twin(flambeau.ones(1, 3))
    assert lazy.has_uninitialized_params()


@pytest.mark.parity
def test_lazy_linear_state_dict_loads_into_torch():
    torch = pytest.importorskip("torch")
    fc = nn.LazyLinear(3)
    fc(flambeau.ones(1, 4))
    tfc = torch.nn.Linear(4, 3)
    tfc.load_state_dict({k: torch.tensor(v.detach().cpu().numpy()) for k,
                         v in fc.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(tfc(torch.tensor(x)).detach().cpu().numpy(),
                               fc(flambeau.tensor(x)).detach().cpu().numpy(), rtol=1e-6)

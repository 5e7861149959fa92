"""nn.functional's nodes as users see them (class, ``name()``, ``next_functions``) against
torch's, and the graph of a small model that tutorials walk from the loss."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau.testing import check_graph_parity


def _t(L, shape, requires_grad=True, seed=0):
    a = np.random.default_rng(seed).random(shape).astype(np.float32) + 0.1
    return L.tensor(a, requires_grad=requires_grad)


def _F(L):
    return F if L is flambeau else L.nn.functional


CASES = {
    "relu": lambda L: _F(L).relu(_t(L, (3,))),
    "gelu": lambda L: _F(L).gelu(_t(L, (3,))),
    "gelu_tanh": lambda L: _F(L).gelu(_t(L, (3,)), approximate="tanh"),
    "silu": lambda L: _F(L).silu(_t(L, (3,))),
    "leaky_relu": lambda L: _F(L).leaky_relu(_t(L, (3,))),
    "elu": lambda L: _F(L).elu(_t(L, (3,))),
    "softplus": lambda L: _F(L).softplus(_t(L, (3,))),
    "hardtanh": lambda L: _F(L).hardtanh(_t(L, (3,))),
    "hardshrink": lambda L: _F(L).hardshrink(_t(L, (3,))),
    "softshrink": lambda L: _F(L).softshrink(_t(L, (3,))),
    "threshold": lambda L: _F(L).threshold(_t(L, (3,)), 0.5, 0.0),
    "log_softmax": lambda L: _F(L).log_softmax(_t(L, (2, 3)), 1),
    "mse_loss": lambda L: _F(L).mse_loss(_t(L, (2, 3)), _t(L, (2, 3), False)),
    "mse_loss_sum": lambda L: _F(L).mse_loss(_t(L, (3,)), _t(L, (3,), False),
                                             reduction="sum"),
    "l1_loss": lambda L: _F(L).l1_loss(_t(L, (2, 3)), _t(L, (2, 3), False)),
    "nll_loss": lambda L: _F(L).nll_loss(_t(L, (2, 3)), L.tensor([0, 2])),
    "layer_norm": lambda L: _F(L).layer_norm(_t(L, (2, 3)), (3,)),
    "layer_norm_affine": lambda L: _F(L).layer_norm(_t(L, (2, 3)), (3,), _t(L, (3,)),
                                                    _t(L, (3,))),
    "batch_norm": lambda L: _F(L).batch_norm(_t(L, (2, 3)), None, None, _t(L, (3,)),
                                             _t(L, (3,)), training=True),
    "conv2d": lambda L: _F(L).conv2d(_t(L, (1, 2, 4, 4)), _t(L, (3, 2, 3, 3)), _t(L, (3,))),
    "conv2d_no_bias": lambda L: _F(L).conv2d(_t(L, (1, 2, 4, 4), False),
                                             _t(L, (3, 2, 3, 3))),
    "conv1d": lambda L: _F(L).conv1d(_t(L, (1, 2, 5)), _t(L, (3, 2, 3)), _t(L, (3,))),
    "conv_transpose2d": lambda L: _F(L).conv_transpose2d(_t(L, (1, 2, 4, 4)),
                                                         _t(L, (2, 3, 3, 3)), _t(L, (3,))),
    "max_pool2d": lambda L: _F(L).max_pool2d(_t(L, (1, 1, 4, 4)), 2),
    "embedding": lambda L: _F(L).embedding(L.tensor([[0, 2]]), _t(L, (3, 4))),
    "pad": lambda L: _F(L).pad(_t(L, (2, 3)), (1, 1)),
    "normalize": lambda L: _F(L).normalize(_t(L, (2, 3))),
}

# flambeau records one fused node where torch has several (or the reverse); the test fails
# once they agree, to be moved to CASES
DIFFERENT = {
    "linear": (lambda L: _F(L).linear(_t(L, (2, 3), False), _t(L, (4, 3)), _t(L, (4,))),
               "torch: the weight through a TBackward0"),
    "cross_entropy": (lambda L: _F(L).cross_entropy(_t(L, (2, 3)), L.tensor([0, 2])),
                      "flambeau: log_softmax fused into the NLL node"),
    "binary_cross_entropy": (lambda L: _F(L).binary_cross_entropy(
        _t(L, (3,)).sigmoid(), _t(L, (3,), False)), "flambeau: elementwise, then a mean"),
    "avg_pool2d": (lambda L: _F(L).avg_pool2d(_t(L, (1, 1, 4, 4)), 2),
                   "flambeau: window sums divided"),
    "group_norm": (lambda L: _F(L).group_norm(_t(L, (2, 4, 3)), 2, _t(L, (4,)), _t(L, (4,))),
                   "flambeau: composite"),
}


@pytest.mark.parametrize("case", sorted(CASES) + sorted(DIFFERENT))
def test_graph_against_torch(case):
    pytest.importorskip("torch")
    # a case of DIFFERENT fails once the graphs agree: move it to CASES
    assert check_graph_parity(*DIFFERENT.get(case, (CASES.get(case),)))


def _walk(L):
    """The node names a tutorial prints walking back from an MLP's loss."""
    nn = L.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = nn.MSELoss()(model(L.ones(2, 3)), L.zeros(2, 1))
    mse = loss.grad_fn
    addmm = mse.next_functions[0][0]
    (bias, _), (relu, _), (weight, _) = addmm.next_functions
    first = relu.next_functions[0][0]
    return [type(n).__name__ for n in (mse, addmm, bias, relu, first)], weight


def test_a_model_graph_walked_from_the_loss_as_torch():
    torch = pytest.importorskip("torch")
    ours, weight = _walk(flambeau)
    theirs, their_weight = _walk(torch)
    assert ours == theirs == ["MseLossBackward0", "AddmmBackward0", "AccumulateGrad",
                              "ReluBackward0", "AddmmBackward0"]
    # torch transposes the weight in a node of its own; flambeau's one node takes it as is
    assert type(their_weight).__name__ == "TBackward0"
    assert type(weight).__name__ == "AccumulateGrad"

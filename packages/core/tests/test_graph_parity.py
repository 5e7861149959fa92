"""The backward graph as users see it: ``grad_fn``'s class and ``name()``, and
``next_functions`` (one ``(node, output_nr)`` per tensor input, ``(None, 0)`` for one that
needs no gradient), compared with torch's over the common ops."""

from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau._ops.elementwise import Mul
from flambeau.testing import check_graph_parity, graph_of


def _t(L, shape, requires_grad=True, seed=0):
    a = np.random.default_rng(seed).random(shape).astype(np.float32) + 0.1
    return L.tensor(a, requires_grad=requires_grad)


def _i(L, values):
    return L.tensor(values)


# each case: lib -> the output whose grad_fn is compared
CASES = {
    "mul": lambda L: _t(L, (3,)) * _t(L, (3,), False),
    "mul_number": lambda L: _t(L, (3,)) * 2,
    "rmul": lambda L: 2 * _t(L, (3,)),
    "add_number": lambda L: _t(L, (3,)) + 2,
    "radd": lambda L: 2 + _t(L, (3,)),
    "sub": lambda L: _t(L, (3,)) - _t(L, (3,)),
    "rsub": lambda L: 2 - _t(L, (3,)),
    "div_number": lambda L: _t(L, (3,)) / 2,
    "pow_number": lambda L: _t(L, (3,)) ** 2,
    "pow_tensors": lambda L: _t(L, (3,)) ** _t(L, (3,)),
    "rpow": lambda L: 2 ** _t(L, (3,)),
    "detached_mul": lambda L: _t(L, (3,)).detach() * _t(L, (3,)),
    "neg": lambda L: -_t(L, (3,)),
    "exp": lambda L: _t(L, (3,)).exp(),
    "log1p": lambda L: _t(L, (3,)).log1p(),
    "tanh": lambda L: _t(L, (3,)).tanh(),
    "sigmoid": lambda L: _t(L, (3,)).sigmoid(),
    "square": lambda L: _t(L, (3,)).square(),
    "relu": lambda L: _t(L, (3,)).relu(),
    "clamp_numbers": lambda L: _t(L, (3,)).clamp(0.2, 0.8),
    "clamp_tensor": lambda L: L.clamp(_t(L, (3,)), _t(L, (3,), False)),
    "maximum": lambda L: L.maximum(_t(L, (3,)), _t(L, (3,), False)),
    "where": lambda L: L.where(_t(L, (3,), False) > 0.5, _t(L, (3,)), _t(L, (3,), False)),
    "where_number": lambda L: L.where(_t(L, (3,), False) > 0.5, _t(L, (3,)), 0.0),
    "lerp_number": lambda L: L.lerp(_t(L, (3,)), _t(L, (3,), False), 0.5),
    "lerp_tensor": lambda L: L.lerp(_t(L, (3,)), _t(L, (3,), False), _t(L, (3,), False)),
    "atan2": lambda L: L.atan2(_t(L, (3,)), _t(L, (3,), False)),
    "fmod_number": lambda L: L.fmod(_t(L, (3,)), 0.3),
    "remainder": lambda L: L.remainder(_t(L, (3,)), _t(L, (3,))),
    "copysign_number": lambda L: L.copysign(_t(L, (3,)), -1.0),
    "sum": lambda L: _t(L, (2, 3)).sum(),
    "sum_dim": lambda L: _t(L, (2, 3)).sum(1),
    "mean": lambda L: _t(L, (2, 3)).mean(),
    "mean_dim": lambda L: _t(L, (2, 3)).mean(0, keepdim=True),
    "max": lambda L: _t(L, (2, 3)).max(),
    "max_dim": lambda L: _t(L, (2, 3)).max(1)[0],
    "min_dim": lambda L: _t(L, (2, 3)).min(1)[0],
    "amax": lambda L: _t(L, (2, 3)).amax(1),
    "prod": lambda L: _t(L, (2, 3)).prod(),
    "cumsum": lambda L: _t(L, (2, 3)).cumsum(1),
    "softmax": lambda L: _t(L, (2, 3)).softmax(1),
    "mm": lambda L: _t(L, (2, 3)) @ _t(L, (3, 4)),
    "mv": lambda L: _t(L, (2, 3)) @ _t(L, (3,)),
    "dot": lambda L: _t(L, (3,)) @ _t(L, (3,)),
    "bmm": lambda L: L.bmm(_t(L, (2, 2, 3)), _t(L, (2, 3, 4))),
    "view": lambda L: _t(L, (2, 3)).view(6),
    "reshape": lambda L: _t(L, (2, 3)).reshape(3, 2),
    "flatten": lambda L: _t(L, (2, 3)).flatten(),
    "unsqueeze": lambda L: _t(L, (2, 3)).unsqueeze(0),
    "squeeze": lambda L: _t(L, (1, 3, 1)).squeeze(),
    "squeeze_dim": lambda L: _t(L, (2, 1)).squeeze(1),
    "squeeze_dims": lambda L: _t(L, (1, 3, 1)).squeeze((0, 2)),
    "transpose": lambda L: _t(L, (2, 3)).transpose(0, 1),
    "t": lambda L: _t(L, (2, 3)).t(),
    "T": lambda L: _t(L, (2, 3)).T,
    "permute": lambda L: _t(L, (2, 3)).permute(1, 0),
    "expand": lambda L: _t(L, (1, 3)).expand(2, 3),
    "contiguous": lambda L: _t(L, (2, 3)).t().contiguous(),
    "clone": lambda L: _t(L, (2, 3)).clone(),
    "to_double": lambda L: _t(L, (3,)).double(),
    "select": lambda L: _t(L, (2, 3))[0],
    "select_column": lambda L: _t(L, (2, 3))[:, 1],
    "slice": lambda L: _t(L, (2, 3))[:, 1:],
    "none_index": lambda L: _t(L, (2, 3))[None],
    "index": lambda L: _t(L, (2, 3))[_i(L, [1, 0])],
    "mask_index": lambda L: _t(L, (2, 3))[_t(L, (2, 3), False) > 0.5],
    "narrow": lambda L: _t(L, (4, 3)).narrow(0, 1, 2),
    "index_select": lambda L: _t(L, (2, 3)).index_select(1, _i(L, [0, 2])),
    "gather": lambda L: _t(L, (2, 3)).gather(1, _i(L, [[0], [2]])),
    "scatter": lambda L: _t(L, (2, 3)).scatter(1, _i(L, [[0], [2]]), _t(L, (2, 1))),
    "scatter_value": lambda L: _t(L, (2, 3)).scatter(1, _i(L, [[0], [2]]), 2.0),
    "scatter_add": lambda L: _t(L, (2, 3)).scatter_add(1, _i(L, [[0], [2]]), _t(L, (2, 1))),
    "index_add": lambda L: _t(L, (3, 2)).index_add(0, _i(L, [0, 2]), _t(L, (2, 2))),
    "index_fill": lambda L: _t(L, (3, 2)).index_fill(0, _i(L, [0, 2]), 1.0),
    "masked_fill": lambda L: _t(L, (2, 3)).masked_fill(_t(L, (2, 3), False) > 0.5, 0.0),
    "masked_scatter": lambda L: _t(L, (2, 3)).masked_scatter(_t(L, (2, 3), False) > 0.5,
                                                             _t(L, (6,))),
    "cat": lambda L: L.cat([_t(L, (2, 3)), _t(L, (2, 3), False), _t(L, (1, 3))]),
    "stack": lambda L: L.stack([_t(L, (2, 3)), _t(L, (2, 3), False)], 1),
    "split": lambda L: _t(L, (4, 3)).split(2)[1],
    "split_with_sizes": lambda L: _t(L, (4, 3)).split([1, 3])[1],
    "unbind": lambda L: _t(L, (2, 3)).unbind(0)[1],
    "repeat": lambda L: _t(L, (2, 3)).repeat(2, 1),
    "flip": lambda L: _t(L, (2, 3)).flip(0),
    "tril": lambda L: _t(L, (3, 3)).tril(),
    "mul_": lambda L: _t(L, (3,)).clone().mul_(2),
    "add_": lambda L: _t(L, (3,)).clone().add_(_t(L, (3,))),
    "relu_": lambda L: _t(L, (3,)).clone().relu_(),
    "copy_": lambda L: _t(L, (3,)).clone().copy_(_t(L, (3,))),
    "write_into_view": lambda L: (lambda y: (y[0].mul_(2), y)[1])(_t(L, (2, 3)).clone()),
    "setitem": lambda L: (lambda y: (y.__setitem__(0, _t(L, (3,))), y)[1])(
        _t(L, (2, 3)).clone()),
    "setitem_number": lambda L: (lambda y: (y.__setitem__(0, 2.0), y)[1])(
        _t(L, (2, 3)).clone()),
}

# where flambeau records another graph than torch's (one fused node where torch has
# several, or the reverse): the test fails once they agree, to be moved to CASES
DIFFERENT = {
    "rdiv": (lambda L: 2 / _t(L, (3,)), "torch: reciprocal() * 2"),
    "var": (lambda L: _t(L, (2, 3)).var(), "flambeau: composite"),
    "norm": (lambda L: _t(L, (2, 3)).norm(), "flambeau: composite"),
    "logsumexp": (lambda L: _t(L, (2, 3)).logsumexp(1), "flambeau: composite"),
    "matmul_3d": (lambda L: _t(L, (2, 2, 3)) @ _t(L, (2, 3, 4)), "torch: bmm in views"),
    "addmm": (lambda L: L.addmm(_t(L, (2, 4)), _t(L, (2, 3)), _t(L, (3, 4))),
              "flambeau: matmul then add"),
    "einsum": (lambda L: L.einsum("ij,jk->ik", _t(L, (2, 3)), _t(L, (3, 4))),
               "torch: bmm in permutes and views; flambeau: one node"),
    "sort": (lambda L: _t(L, (4,)).sort()[0], "flambeau: a gather"),
    "two_basic_indices": (lambda L: _t(L, (2, 3))[0, 1:], "torch: a node per index"),
}


@pytest.mark.parametrize("case", sorted(CASES) + sorted(DIFFERENT))
def test_graph_against_torch(case):
    pytest.importorskip("torch")
    # a case of DIFFERENT fails once the graphs agree: move it to CASES
    assert check_graph_parity(*DIFFERENT.get(case, (CASES.get(case),)))


def test_next_functions_of_the_brief():
    a = flambeau.ones(3, requires_grad=True)
    b = flambeau.ones(3)
    y, z, w = (a * b).sum(), a * 2, flambeau.where(b > 0, a, b)
    acc = a.grad_fn or z.grad_fn.next_functions[0][0]
    assert y.grad_fn.next_functions == ((y.grad_fn.next_functions[0][0], 0),)
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "MulBackward0"
    assert z.grad_fn.next_functions == ((acc, 0), (None, 0))
    assert w.grad_fn.next_functions == ((acc, 0), (None, 0))
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is a
    assert type(z.grad_fn).__name__ == z.grad_fn.name() == "MulBackward0"
    assert repr(z.grad_fn).startswith("<MulBackward0 object at 0x")


def test_nodes_are_instances_of_the_op():
    y = flambeau.ones(2, requires_grad=True) * 2
    assert isinstance(y.grad_fn, Mul) and type(y.grad_fn) is not Mul
    assert type(y.grad_fn)._forward_cls is Mul
    assert isinstance(y.grad_fn, flambeau.autograd.graph.Node)


def _scale_function(lib):
    """The same custom Function for flambeau and torch."""

    class _Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, pair, maybe, other):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None, None, None

    return _Scale


def test_custom_function_graph_as_torch():
    """A user's Function: ``<Name>Backward``, one entry per tensor argument (not the number,
    the list or None), ``(None, 0)`` for a tensor that needs no gradient."""
    torch = pytest.importorskip("torch")
    graphs = []
    for L in (flambeau, torch):
        x = L.ones(2, requires_grad=True)
        y = _scale_function(L).apply(x, 2.0, [x, x], None, L.ones(2))
        graphs.append((type(y.grad_fn).__name__, graph_of(y)))
    assert graphs[0] == graphs[1]
    assert graphs[0] == ("_ScaleBackward", ("_ScaleBackward", "_ScaleBackward",
                                           (("torch::autograd::AccumulateGrad", 0), (None, 0))))


class _LeftOut(flambeau.autograd.Function):
    _graph_inputs = (0,)  # as an op whose torch node has no second input

    @staticmethod
    def forward(ctx, x, w):
        return x * w

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_an_input_left_out_that_gets_a_gradient_is_still_listed():
    # a walk of next_functions (DDP's search for unused parameters) reaches every node
    x = flambeau.ones(2, requires_grad=True)
    w = flambeau.ones(2, requires_grad=True)
    fns = _LeftOut.apply(x, w).grad_fn.next_functions
    assert [(n.variable, nr) for n, nr in fns] == [(x, 0), (w, 0)]
    assert _LeftOut.apply(x, flambeau.ones(2)).grad_fn.next_functions == (fns[0],)


def test_leaf_and_copy_slices_names_are_torchs():
    y = flambeau.ones(2, 3, requires_grad=True).clone()
    y[0] = 2.0
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert type(y.grad_fn).__name__ == "CopySlices" and "grad_fn=<CopySlices>" in repr(y)
    (clone, _), _ = y.grad_fn.next_functions
    assert clone.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"

"""flambeau.conv2d, flambeau.batch_norm...: PyTorch's top-level nn functions (ATen signatures).

Each case calls ``flambeau.<name>`` and ``torch.<name>`` with the same positional and keyword
arguments; outputs, tensors the call updates in place (running statistics) and the gradients
of every float64 input that takes one are compared.
"""

import subprocess
import sys

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import _subpackages, nn
from flambeau.autograd import gradcheck
from flambeau.nn import _toplevel


class G:
    """A float64 array passed as a tensor that requires grad."""

    def __init__(self, array):
        self.array = np.asarray(array, np.float64)


class C:
    """A float64 array passed as a constant tensor (compared after the call: running stats)."""

    def __init__(self, array):
        self.array = np.asarray(array, np.float64)


class I:  # noqa: E742 - an index array
    """An int64 array passed as a tensor."""

    def __init__(self, array):
        self.array = np.asarray(array, np.int64)


def r(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def log_softmax(a, axis=-1):
    a = a - a.max(axis, keepdims=True)
    return a - np.log(np.exp(a).sum(axis, keepdims=True))


def _to(arg, lib):
    if isinstance(arg, (G, C, I)):
        return lib.tensor(arg.array.copy(), requires_grad=isinstance(arg, G))
    if isinstance(arg, tuple) and any(isinstance(a, (G, C, I)) for a in arg):
        return tuple(_to(a, lib) for a in arg)  # lstm_cell's (h, c)
    return arg


def _numpy(t):
    return t.detach().cpu().numpy()


def _compare(fo, to, what):
    if isinstance(to, tuple):
        assert isinstance(fo, tuple) and len(fo) == len(to), (what, fo)
        for k, (a, b) in enumerate(zip(fo, to)):
            _compare(a, b, f"{what}[{k}]")
        return
    assert tuple(fo.shape) == tuple(to.shape), (what, fo.shape, to.shape)
    assert str(fo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1], (what, fo.dtype)
    np.testing.assert_allclose(_numpy(fo), _numpy(to), atol=1e-7, rtol=1e-6, err_msg=what)


def check(name, args, kwargs=None, aux=True):
    """flambeau.<name> against torch.<name>: values, in-place updates and gradients."""
    torch = pytest.importorskip("torch")
    kwargs = kwargs or {}
    fargs, targs = [_to(a, flambeau) for a in args], [_to(a, torch) for a in args]
    fkw = {k: _to(v, flambeau) for k, v in kwargs.items()}
    tkw = {k: _to(v, torch) for k, v in kwargs.items()}
    fo, to = getattr(flambeau, name)(*fargs, **fkw), getattr(torch, name)(*targs, **tkw)
    if aux:
        _compare(fo, to, name)
    else:
        _compare(fo[0], to[0], name)
    for k, (a, fa, ta) in enumerate(zip(args, fargs, targs)):
        if isinstance(a, C):
            _compare(fa, ta, f"{name}: argument {k} after the call")
    f0, t0 = (fo[0], to[0]) if isinstance(to, tuple) else (fo, to)
    grads = [(k, fa, ta) for k, (a, fa, ta) in enumerate(zip(args, fargs, targs))
             if isinstance(a, G)]
    if grads and t0.requires_grad:
        cot = r(*t0.shape, seed=99)
        f0.backward(flambeau.tensor(cot))
        t0.backward(torch.tensor(cot))
        for k, fa, ta in grads:
            assert (fa.grad is None) == (ta.grad is None), (name, k)
            if ta.grad is not None:
                np.testing.assert_allclose(_numpy(fa.grad), _numpy(ta.grad), atol=1e-7,
                                           rtol=1e-6, err_msg=f"{name}: grad of argument {k}")


def _bn_args(training, stats=True):
    x = G(r(4, 3, 5))
    rm, rv = (C(r(3, seed=1)), C(np.abs(r(3, seed=2)) + 0.5)) if stats else (None, None)
    return [x, G(r(3, seed=3)), G(r(3, seed=4)), rm, rv, training, 0.2, 1e-5, False]


_LP = log_softmax(r(6, 2, 4, seed=5))
_GRID = np.random.default_rng(6).uniform(-1.1, 1.1, (1, 3, 4, 2))
_GRID3 = np.random.default_rng(8).uniform(-1.2, 1.2, (2, 3, 2, 4, 3))
_BAG_W = r(10, 3, seed=7)
_BAG_IDX = [1, 9, 4, 5, 4, 3, 2, 9, 0]

CASES = [
    ("adaptive_avg_pool1d", [G(r(2, 3, 8)), 3]),
    ("adaptive_max_pool1d", [G(r(2, 3, 8)), 3]),
    ("avg_pool1d", [G(r(2, 3, 8)), 2]),
    ("avg_pool1d", [G(r(2, 3, 9)), 3, 2, 1, True, False]),
    ("batch_norm", _bn_args(True)),
    ("batch_norm", _bn_args(False)),
    ("batch_norm", _bn_args(True, stats=False)),
    ("instance_norm", _bn_args(True)),
    ("instance_norm", _bn_args(False)),
    ("layer_norm", [G(r(2, 3, 4)), [3, 4], G(r(3, 4, seed=1)), G(r(3, 4, seed=2)), 1e-3]),
    ("layer_norm", [G(r(2, 3, 4)), (4,)], {"eps": 1e-2, "cudnn_enable": False}),
    ("group_norm", [G(r(2, 6, 3)), 3, G(r(6, seed=1)), G(r(6, seed=2)), 1e-4, True]),
    ("rms_norm", [G(r(2, 3, 4)), [4], G(r(4, seed=1))]),
    ("native_layer_norm", [G(r(2, 3, 4)), [3, 4], G(r(3, 4, seed=1)), G(r(3, 4, seed=2)), 1e-3]),
    ("native_layer_norm", [G(r(2, 3, 4)), (4,), None, None, 1e-2]),
    ("native_batch_norm", _bn_args(True)[:-1]),
    ("native_batch_norm", _bn_args(False)[:-1]),
    ("native_batch_norm", _bn_args(True, stats=False)[:-1]),
    ("native_group_norm", [G(r(2, 6, 3)), G(r(6, seed=1)), G(r(6, seed=2)), 2, 6, 3, 3, 1e-4]),
    ("native_group_norm", [G(r(2, 6, 3, 2)), None, None, 2, 6, 6, 2, 1e-5]),
    ("native_group_norm", [G(r(2, 6, 3)), G(r(6, seed=2)), None, 2, 6, 3, 6, 1e-5]),
    ("native_dropout", [G(r(3, 4)), 0.0, True]),
    ("batch_norm_update_stats", [C(r(4, 3, 5)), C(r(3, seed=1)), C(np.abs(r(3, seed=2))), 0.2]),
    ("batch_norm_update_stats", [C(r(4, 3)), None, None, 0.1]),  # torch: no derivative
    ("native_dropout", [G(r(3, 4)), 1.0, True]),
    ("native_dropout", [G(r(3, 4)), 0.7, False]),
    ("rms_norm", [G(r(2, 3, 4)), [3, 4]], {"eps": 0.1}),
    ("bilinear", [G(r(4, 3)), G(r(4, 5, seed=1)), G(r(2, 3, 5, seed=2)), G(r(2, seed=3))]),
    ("binary_cross_entropy_with_logits", [G(r(4, 3)), C(np.abs(r(4, 3, seed=1)) % 1)]),
    *[("binary_cross_entropy_with_logits",
       [G(r(4, 3)), C(np.abs(r(4, 3, seed=1)) % 1), C(np.abs(r(3, seed=2))),
        C(np.abs(r(3, seed=3)) + 0.5), red]) for red in (0, 1, 2)],
    ("binary_cross_entropy_with_logits", [G(r(4, 3)), G(np.abs(r(4, 3, seed=1)) % 1)],
     {"reduction": 1}),
    ("celu", [G(r(3, 4, scale=2)), 1.5]),
    ("celu", [G(r(3, 4, scale=2))]),
    ("selu", [G(r(3, 4, scale=2))]),
    ("rrelu", [G(r(3, 4, scale=2)), 0.1, 0.3]),
    ("rrelu", [G(r(3, 4, scale=2))], {"training": False}),
    ("threshold", [G(r(3, 4)), 0.1, -2.0]),
    ("channel_shuffle", [G(r(2, 6, 3)), 3]),
    ("native_channel_shuffle", [C(r(2, 6, 3, 2)), 2]),  # torch has no derivative for it
    ("pixel_shuffle", [G(r(1, 8, 2, 3)), 2]),
    ("pixel_unshuffle", [G(r(1, 2, 4, 6)), 2]),
    ("constant_pad_nd", [G(r(2, 3, 4)), [1, 2, -1, 1], 0.5]),
    ("constant_pad_nd", [G(r(2, 3)), (2, 0)]),
    ("conv1d", [G(r(2, 4, 9)), G(r(6, 2, 3, seed=1)), G(r(6, seed=2)), 2, 1, 1, 2]),
    ("conv2d", [G(r(1, 2, 5, 5)), G(r(3, 2, 3, 3, seed=1)), None, 1, "same"]),
    ("conv2d", [G(r(1, 2, 6, 5)), G(r(3, 2, 3, 2, seed=1))], {"stride": (2, 1),
                                                               "dilation": 2}),
    ("conv3d", [G(r(1, 2, 4, 4, 4)), G(r(3, 2, 2, 2, 2, seed=1)), G(r(3, seed=2))]),
    ("conv_transpose1d", [G(r(2, 4, 5)), G(r(4, 3, 3, seed=1)), G(r(6, seed=2)), 2, 1, 1, 2]),
    ("conv_transpose2d", [G(r(1, 2, 3, 4)), G(r(2, 3, 3, 2, seed=1)), None, 2, 0, 1, 1, 2]),
    ("conv_transpose3d", [G(r(1, 2, 2, 3, 2)), G(r(2, 1, 2, 2, 2, seed=1))]),
    ("convolution", [G(r(1, 2, 5, 5)), G(r(3, 2, 3, 3, seed=1)), G(r(3, seed=2)), [1], [1],
                     [1], False, [0], 1]),
    ("convolution", [G(r(2, 4, 7)), G(r(6, 2, 3, seed=1)), None, [2], [1], [2], False, [0], 2]),
    ("convolution", [G(r(1, 2, 3, 4)), G(r(2, 3, 3, 2, seed=1)), None, [2, 1], [1, 0], [1, 1],
                     True, [1, 0], 1]),
    ("convolution", [G(r(1, 2, 2, 2, 2)), G(r(2, 2, 2, 2, 2, seed=1)), None, [1, 1, 1],
                     [0, 0, 0], [1, 1, 1], False, [0, 0, 0], 1]),
    *[("cosine_embedding_loss", [G(r(4, 5)), G(r(4, 5, seed=1)), I([1, -1, 1, -1]), 0.2, red])
      for red in (0, 1, 2)],
    ("cosine_similarity", [G(r(3, 4)), G(r(3, 4, seed=1))]),
    ("cosine_similarity", [G(r(3, 4)), G(r(1, 4, seed=1)), 0, 1e-3]),
    ("pairwise_distance", [G(r(3, 4)), G(r(3, 4, seed=1)), 1.5, 1e-3, True]),
    ("pdist", [G(r(5, 3))]),
    ("pdist", [G(r(4, 3)), 1]),
    ("pdist", [G(r(4, 3)), float("inf")]),
    *[("ctc_loss", [G(_LP), I([[1, 2, 2], [3, 1, 0]]), (6, 5), (3, 2), 0, red])
      for red in (0, 1, 2)],
    ("ctc_loss", [G(_LP), I([1, 2, 2, 3, 1]), I([6, 4]), I([3, 2])], {"blank": 0}),
    ("ctc_loss", [G(_LP), I([[3, 3, 3, 3], [1, 1, 1, 1]]), (3, 6), (4, 2), 0, 2, True]),
    ("dropout", [G(r(3, 4)), 0.0, True]),
    ("dropout", [G(r(3, 4)), 0.7, False]),
    ("feature_dropout", [G(r(3, 4, 2)), 0.4, False]),
    ("alpha_dropout", [G(r(3, 4)), 0.3, False]),
    ("feature_alpha_dropout", [G(r(3, 4, 2)), 0.0, True]),
    ("embedding", [G(r(5, 3)), I([[0, 2], [4, 4]])]),
    ("embedding", [G(r(5, 3)), I([[0, 2], [4, 2]]), 2]),
    ("embedding", [G(r(5, 3)), I([0, 2, 4, 4, 4]), -1, True]),
    *[("embedding_bag", [G(_BAG_W), I(_BAG_IDX), I([0, 4, 4]), False, mode], {}, mode != 0)
      for mode in (0, 1, 2)],
    ("embedding_bag", [G(_BAG_W), I(_BAG_IDX), I([0, 4, 9]), False, 1, False, None, True, 9]),
    ("embedding_bag", [G(_BAG_W), I(_BAG_IDX), I([0, 4, 9]), False, 2, False, None, True]),
    ("embedding_bag", [G(_BAG_W), I(_BAG_IDX), I([0, 3]), False, 0, False,
                       G(r(9, seed=8))], {}, False),
    *[("hinge_embedding_loss", [G(r(6)), C([1, -1, -1, 1, 1, -1]), 0.5, red])
      for red in (0, 1, 2)],
    ("kl_div", [G(log_softmax(r(3, 4))), C(np.exp(log_softmax(r(3, 4, seed=1))))]),
    ("kl_div", [G(log_softmax(r(3, 4))), C(log_softmax(r(3, 4, seed=1))), 2],
     {"log_target": True}),
    ("kl_div", [G(log_softmax(r(3, 4))), C(np.exp(log_softmax(r(3, 4, seed=1)))), 0]),
    *[("margin_ranking_loss", [G(r(5)), G(r(5, seed=1)), C([1, -1, 1, 1, -1]), 0.1, red])
      for red in (0, 1, 2)],
    ("poisson_nll_loss", [G(r(6)), C(np.abs(r(6, seed=1)) * 3), True, True, 1e-8, 1]),
    ("poisson_nll_loss", [G(np.abs(r(6)) + 0.1), C(np.abs(r(6, seed=1)) * 3), False, False,
                          1e-3, 0]),
    ("poisson_nll_loss", [G(r(6)), C(np.abs(r(6, seed=1)) * 3), True, False, 1e-8, 2]),
    *[("triplet_margin_loss", [G(r(4, 5)), G(r(4, 5, seed=1)), G(r(4, 5, seed=2)), 0.5, 1,
                               1e-6, swap, red]) for red in (0, 1, 2) for swap in (False, True)],
    ("triplet_margin_loss", [G(r(4, 5)), G(r(4, 5, seed=1)), G(r(4, 5, seed=2))]),
    ("max_pool1d", [G(r(2, 3, 9)), 3]),
    ("max_pool1d", [G(r(2, 3, 9)), 3, 2, 1, 2, True]),
    ("max_pool1d_with_indices", [G(r(2, 3, 9)), 2]),
    ("max_pool1d_with_indices", [G(r(2, 3, 9)), 3, (), 1, 1, True]),
    ("max_pool2d", [G(r(1, 2, 5, 6)), 2]),
    ("max_pool2d", [G(r(1, 2, 5, 6)), (2, 3), (1, 2), (1, 1), 1, True]),
    ("max_pool3d", [G(r(1, 2, 4, 4, 5)), 2]),
    ("max_pool3d", [G(r(1, 2, 4, 4, 5)), 3, 2, 1, 1, False]),
    *[("grid_sampler", [G(r(1, 2, 4, 5)), G(_GRID), mode, pad, align])
      for mode in (0, 1) for pad in (0, 1, 2) for align in (False, True)],
    ("affine_grid_generator", [G(r(2, 2, 3)), [2, 1, 4, 5], False]),
    *[("grid_sampler_2d", [G(r(1, 2, 4, 5)), G(_GRID), mode, pad, align])
      for mode, pad, align in ((0, 0, False), (1, 2, True), (0, 1, True))],
    *[("grid_sampler_3d", [G(r(2, 2, 3, 4, 5)), G(_GRID3), mode, pad, align])
      for mode in (0, 1) for pad in (0, 1, 2) for align in (False, True)],
    ("conv_tbc", [G(r(7, 2, 4)), G(r(3, 4, 5, seed=1)), G(r(5, seed=2))]),
    ("conv_tbc", [G(r(7, 2, 4)), G(r(3, 4, 5, seed=1)), G(r(5, seed=2)), 2]),
    ("conv_tbc", [G(r(7, 2, 4)), G(r(3, 4, 5, seed=1)), G(r(5, seed=2)), -1]),
    ("norm_except_dim", [G(r(3, 4, 2))]),
    ("norm_except_dim", [G(r(3, 4, 2)), 3, 1]),
    ("norm_except_dim", [G(r(3, 4)), 1, -2]),
    ("norm_except_dim", [G(r(3, 4)), 2, -1]),
    ("embedding_renorm_", [C(r(6, 3, scale=2)), I([0, 2, 2, 5]), 1.0, 2.0]),
    ("embedding_renorm_", [C(r(6, 3, scale=2)), I([[1, 3], [4, 4]]), 0.5, 1.0]),
    ("lstm_cell", [G(r(3, 4)), (G(r(3, 2, seed=1)), G(r(3, 2, seed=2))), G(r(8, 4, seed=3)),
                   G(r(8, 2, seed=4)), G(r(8, seed=5)), G(r(8, seed=6))]),
    ("lstm_cell", [G(r(3, 4)), (C(r(3, 2, seed=1)), C(r(3, 2, seed=2))), G(r(8, 4, seed=3)),
                   G(r(8, 2, seed=4))], {}, False),
    ("gru_cell", [G(r(3, 4)), G(r(3, 2, seed=1)), G(r(6, 4, seed=3)), G(r(6, 2, seed=4)),
                  G(r(6, seed=5)), G(r(6, seed=6))]),
    ("gru_cell", [G(r(3, 4)), G(r(3, 2, seed=1)), G(r(6, 4, seed=3)), G(r(6, 2, seed=4))],
     {"b_hh": G(r(6, seed=6))}),
    ("rnn_tanh_cell", [G(r(3, 4)), G(r(3, 5, seed=1)), G(r(5, 4, seed=3)), G(r(5, 5, seed=4)),
                       G(r(5, seed=5)), G(r(5, seed=6))]),
    ("rnn_tanh_cell", [G(r(3, 4)), G(r(3, 5, seed=1)), G(r(5, 4, seed=3)), G(r(5, 5, seed=4))]),
    ("rnn_relu_cell", [G(r(3, 4)), G(r(3, 5, seed=1)), G(r(5, 4, seed=3)), G(r(5, 5, seed=4)),
                       G(r(5, seed=5)), G(r(5, seed=6))]),
    ("rnn_relu_cell", [G(r(3, 4)), G(r(3, 5, seed=1)), G(r(5, 4, seed=3)), G(r(5, 5, seed=4))],
     {"b_ih": G(r(5, seed=5))}),
]


def _id(case):
    return case[0]


@pytest.mark.parity
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_parity_with_torch(case):
    name, args = case[:2]
    kwargs = case[2] if len(case) > 2 else {}
    check(name, args, kwargs, aux=case[3] if len(case) > 3 else True)


def test_every_name_has_a_parity_case():
    # torch runs the blocks of SyncBatchNorm on CUDA only: test_toplevel_sync_bn.py compares
    # them with torch's batch norm on the whole batch
    sync_bn = {"batch_norm_stats", "batch_norm_gather_stats",
               "batch_norm_gather_stats_with_counts", "batch_norm_elemt",
               "batch_norm_backward_reduce", "batch_norm_backward_elemt"}
    rnn = {"lstm", "gru", "rnn_tanh", "rnn_relu"}  # test_toplevel_rnn.py: flat weight lists
    assert {c[0] for c in CASES} | set(_INPLACE) | sync_bn | rnn >= set(_toplevel.__all__) - {
        "alpha_dropout_", "feature_alpha_dropout_", "feature_dropout_"}


# arguments of the recurrent cells' error cases: input (3, 4), hidden (3, 2), LSTM weights
_X, _H = flambeau.ones(3, 4), flambeau.ones(3, 2)
_W4, _U4 = flambeau.ones(8, 4), flambeau.ones(8, 2)

# name -> (args after the input, the out-of-place name); compared on tensors without grad
_INPLACE = {
    "celu_": ((0.7,), "celu"), "selu_": ((), "selu"),
    "threshold_": ((0.2, -3.0), "threshold"), "rrelu_": ((0.1, 0.3), "rrelu"),
    "dropout_": ((0.0, True), "dropout"),
}


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(_INPLACE))
def test_in_place_forms_parity(name):
    torch = pytest.importorskip("torch")
    args, _ = _INPLACE[name]
    a = r(3, 4, scale=2)
    fx, tx = flambeau.tensor(a), torch.tensor(a)
    assert getattr(flambeau, name)(fx, *args) is fx
    getattr(torch, name)(tx, *args)
    np.testing.assert_allclose(fx.cpu().numpy(), tx.cpu().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(_INPLACE))
def test_in_place_forms_match_the_out_of_place_ones(name):
    args, plain = _INPLACE[name]
    x = flambeau.tensor(r(3, 4, scale=2))
    expected = getattr(flambeau, plain)(x, *args)
    assert getattr(flambeau, name)(x, *args) is x
    assert flambeau.equal(x, expected)


@pytest.mark.parametrize("fn", [
    lambda x: flambeau.pdist(x),
    lambda x: flambeau.pdist(x, 1.5),
    lambda x: flambeau.celu(x, 0.7),
    lambda x: flambeau.embedding_bag(x, flambeau.tensor([0, 2, 1, 2]), flambeau.tensor([0, 1]),
                                     False, 2)[0],
    lambda x: flambeau.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False),
    lambda x: flambeau.grid_sampler_3d(x.reshape(1, 1, 2, 2, 3), flambeau.tensor(
        _GRID3[:1, :1]) * 0.9, 0, 2, False),
    lambda x: flambeau.grid_sampler(x.reshape(1, 1, 3, 4), flambeau.tensor(
        _GRID[:, :, :, :]) * 0.9, 0, 1, False),
])
def test_gradcheck(fn):
    x = flambeau.tensor(r(3, 4), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name, gates", [("lstm_cell", 4), ("gru_cell", 3),
                                         ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
def test_cells_gradcheck_and_match_the_modules(name, gates):
    x, h, c = (flambeau.tensor(r(3, n, seed=k), requires_grad=True)
               for k, n in enumerate((4, 2, 2)))
    w = [flambeau.tensor(r(*shape, seed=k + 3), requires_grad=True)
         for k, shape in enumerate(((2 * gates, 4), (2 * gates, 2), (2 * gates,), (2 * gates,)))]
    cell = getattr(flambeau, name)

    def fn(x, h, c, *w):
        out = cell(x, (h, c) if gates == 4 else h, *w)
        return flambeau.cat(out, 1) if gates == 4 else out

    assert gradcheck(fn, (x, h, c, *w))
    assert gradcheck(lambda x, h, c, wi, wh: fn(x, h, c, wi, wh), (x, h, c, *w[:2]))
    # the same step as the module of the same name, given its parameters
    module = {"lstm_cell": nn.LSTMCell(4, 2), "gru_cell": nn.GRUCell(4, 2),
              "rnn_tanh_cell": nn.RNNCell(4, 2),
              "rnn_relu_cell": nn.RNNCell(4, 2, nonlinearity="relu")}[name].double()
    for p, value in zip(module.parameters(), w):
        p.data = value.detach()
    expected = module(x, (h, c) if gates == 4 else h)
    assert flambeau.equal(fn(x, h, c, *w), flambeau.cat(expected, 1) if gates == 4 else expected)


#: the cells' output dtypes under CPU autocast (bfloat16), as torch 2.13's: its CPU list has no
#: cells, so their matrix products cast their inputs, and a state updated from low-precision
#: gates and a float32 state stays float32; its CUDA list lowers the whole cell
_CPU_CELL_DTYPES = {"lstm_cell": ["float32", "float32"], "gru_cell": ["float32"],
                    "rnn_tanh_cell": ["bfloat16"], "rnn_relu_cell": ["bfloat16"]}


@pytest.mark.parametrize("name, gates", [("lstm_cell", 4), ("gru_cell", 3),
                                         ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
def test_cells_under_autocast(name, gates):
    x, h = flambeau.randn(3, 4), flambeau.randn(3, 2)
    w_ih = flambeau.randn(2 * gates, 4, requires_grad=True)
    w_hh = flambeau.randn(2 * gates, 2)
    device_type = flambeau.get_default_device().type
    with flambeau.autocast(device_type, dtype=flambeau.bfloat16):
        out = getattr(flambeau, name)(x, (h, h) if gates == 4 else h, w_ih, w_hh)
    outs = out if gates == 4 else (out,)
    expected = _CPU_CELL_DTYPES[name] if device_type == "cpu" else ["bfloat16"] * len(outs)
    assert [o.dtype.name for o in outs] == expected
    sum(o.float().sum() for o in outs).backward()
    assert w_ih.grad.dtype == flambeau.float32


@pytest.mark.parity
@pytest.mark.parametrize("name, gates", [("lstm_cell", 4), ("gru_cell", 3),
                                         ("rnn_tanh_cell", 1)])
def test_cells_under_cpu_autocast_as_torch(name, gates):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32)
            for s in [(3, 4), (3, 2), (2 * gates, 4), (2 * gates, 2), (2 * gates,)]]

    def call(lib, device_type, dtype):
        x, h, *w = (lib.tensor(a, device="cpu") for a in args)
        with lib.autocast(device_type, dtype=dtype):
            out = getattr(lib, name)(x, (h, h) if gates == 4 else h, *w, w[-1])
        return out if gates == 4 else (out,)

    theirs = call(torch, "cpu", torch.bfloat16)
    ours = call(flambeau, "cpu", flambeau.bfloat16)
    assert [o.dtype.name for o in ours] == [str(t.dtype)[6:] for t in theirs]
    assert [o.dtype.name for o in ours] == _CPU_CELL_DTYPES[name]
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.float().cpu().numpy(), t.float().numpy(), atol=2e-2)


def test_signatures_as_torch():
    assert flambeau.conv2d is F.conv2d and flambeau.pdist is F.pdist
    x = flambeau.tensor([[1.0, 2.0], [3.0, 6.0]])
    by_keyword = flambeau.batch_norm(input=x, weight=None, bias=None, running_mean=None,
                                     running_var=None, training=True, momentum=0.1, eps=0.0,
                                     cudnn_enabled=True)
    assert by_keyword.tolist() == [[-1.0, -1.0], [1.0, 1.0]]
    with pytest.raises(TypeError):
        flambeau.dropout(x)  # p and train are required, as in torch.dropout
    out = flambeau.empty(2)
    assert flambeau.threshold(flambeau.tensor([0.5, 2.0]), 1.0, -1.0, out=out) is out
    assert out.tolist() == [-1.0, 2.0]


def test_dropout_draws():
    flambeau.manual_seed(0)
    y = flambeau.dropout(flambeau.ones(20000), 0.25, True)
    assert set(y.tolist()) == {0.0, float(np.float32(1 / 0.75))}
    assert abs(float((y == 0).float().mean()) - 0.25) < 0.02
    x = flambeau.ones(16, 32, 5)
    assert flambeau.feature_dropout_(x, 0.5, True) is x
    assert bool((x.amax(-1) == x.amin(-1)).all()) and set(x.flatten().tolist()) == {0.0, 2.0}
    z = flambeau.zeros(16, 32, 5)
    assert flambeau.feature_alpha_dropout_(z, 0.5, True) is z
    assert bool((z.amax(-1) == z.amin(-1)).all()) and len(set(z.flatten().tolist())) == 2
    a = flambeau.randn(20000)  # zero mean, unit variance in: the same out
    assert flambeau.alpha_dropout_(a, 0.2, True) is a
    assert abs(float(a.mean())) < 0.05 and abs(float(a.std()) - 1.0) < 0.05
    b = flambeau.ones(3)
    assert flambeau.alpha_dropout_(b, 0.5, False) is b and b.tolist() == [1.0, 1.0, 1.0]


def test_rrelu_generator_repeats_draws():
    x = -flambeau.ones(50)
    a = flambeau.rrelu(x, training=True, generator=flambeau.Generator(x.device).manual_seed(3))
    b = flambeau.rrelu(x, training=True, generator=flambeau.Generator(x.device).manual_seed(3))
    assert flambeau.equal(a, b) and len(set(a.tolist())) > 1
    y = x.clone()
    flambeau.rrelu_(y, 0.125, 1 / 3, True, flambeau.Generator(x.device).manual_seed(3))
    assert flambeau.equal(y, a)


def test_in_place_dropout_on_a_leaf_that_requires_grad_is_refused():
    x = flambeau.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="alpha_dropout_: a leaf Variable that requires grad"):
        flambeau.alpha_dropout_(x, 0.5, True)


@pytest.mark.parametrize("call,error,message", [
    (lambda: flambeau.kl_div(flambeau.zeros(2), flambeau.zeros(2), 3), ValueError,
     r"kl_div: reduction must be 0 \(none\), 1 \(mean\) or 2 \(sum\), got 3"),
    (lambda: flambeau.hinge_embedding_loss(flambeau.zeros(2), flambeau.ones(2), 1.0, "mean"),
     ValueError, r"hinge_embedding_loss: reduction must be .* got 'mean'"),
    (lambda: flambeau.grid_sampler(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 2), 3, 0,
                                   False), ValueError,
     r"grid_sampler: interpolation_mode must be one of 0 \(bilinear\), 1 \(nearest\), "
     r"2 \(bicubic\), got 3"),
    (lambda: flambeau.grid_sampler(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 2), 0, 5,
                                   False), ValueError,
     r"grid_sampler: padding_mode must be one of 0 \(zeros\), 1 \(border\), "
     r"2 \(reflection\), got 5"),
    (lambda: flambeau.grid_sampler(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 2), 2, 0,
                                   False), ValueError, "bicubic is not supported"),
    (lambda: flambeau.embedding_bag(flambeau.zeros(3, 2), flambeau.tensor([0]),
                                    flambeau.tensor([0]), False, 3), ValueError,
     r"embedding_bag: mode must be 0 \(sum\), 1 \(mean\) or 2 \(max\), got 3"),
    (lambda: flambeau.feature_dropout(flambeau.ones(3), 0.5, True), RuntimeError,
     r"feature_dropout: Feature dropout requires at least 2 dimensions in the input, got input "
     r"of shape \(3,\)"),
    (lambda: flambeau.feature_alpha_dropout_(flambeau.ones(3), 0.5, True), RuntimeError,
     "feature_alpha_dropout_: Feature dropout requires at least 2 dimensions"),
    (lambda: flambeau.dropout_(flambeau.ones(3), 1.5, False), ValueError,
     "dropout: dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: flambeau.convolution(flambeau.ones(2, 3), flambeau.ones(2, 3), None, [1], [0], [1],
                                  False, [0], 1), RuntimeError,
     r"convolution: expected a weight of 3, 4 or 5 dimensions, got weight of shape \(2, 3\)"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 2), flambeau.ones(1, 2, 2), flambeau.ones(2)),
     RuntimeError, "conv_tbc: Input must have 3 dims: time, batch, in_channel"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 1, 2), flambeau.ones(1, 3, 2),
                               flambeau.ones(2)), RuntimeError,
     r"conv_tbc: Input dim 2 \(input channels\) is not == dim 1 in the weight tensor"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 1, 2), flambeau.ones(1, 2, 2),
                               flambeau.ones(3)), RuntimeError,
     r"conv_tbc: Bias size must equal dim 2 in the weight tensor \(output channels\)"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 1, 2), flambeau.ones(1, 2, 2), None),
     TypeError, r"conv_tbc\(\): argument 'bias' \(position 3\) must be Tensor, not NoneType"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 1, 2), flambeau.ones(2, 2), flambeau.ones(2)),
     RuntimeError, "conv_tbc: Weight tensor must have 3 dims"),
    (lambda: flambeau.conv_tbc(flambeau.ones(3, 1, 2), flambeau.ones(1, 2, 2),
                               flambeau.ones(1, 2)), RuntimeError, "conv_tbc: Bias must be 1-D"),
    (lambda: flambeau.grid_sampler_2d(flambeau.zeros(1, 1, 2, 2, 2), flambeau.zeros(1, 1, 1, 1, 3),
                                      0, 0, False), RuntimeError,
     r"grid_sampler_2d: expected 4D input and grid with same number of dimensions, but got "
     r"input with sizes \[1, 1, 2, 2, 2\]"),
    (lambda: flambeau.grid_sampler_2d(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 1), 0,
                                      0, False), RuntimeError,
     r"grid_sampler_2d: expected grid to have size 2 in last dimension, but got grid with "
     r"sizes \[1, 1, 1, 1\]"),
    (lambda: flambeau.grid_sampler_2d(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 2),
                                      True, 0, False), TypeError,
     r"grid_sampler_2d\(\): argument 'interpolation_mode' \(position 3\) must be int, not "
     r"bool"),
    (lambda: flambeau.grid_sampler_3d(flambeau.zeros(1, 1, 2, 2), flambeau.zeros(1, 1, 1, 2),
                                      0, 0, False), RuntimeError,
     r"grid_sampler_3d: expected 5D input and grid with same number of dimensions, but got "
     r"input with sizes \[1, 1, 2, 2\]"),
    (lambda: flambeau.grid_sampler_3d(flambeau.zeros(1, 1, 2, 2, 2),
                                      flambeau.zeros(1, 1, 1, 1, 2), 0, 0, False), RuntimeError,
     r"grid_sampler_3d: expected grid to have size 3 in last dimension"),
    (lambda: F.grid_sample(flambeau.zeros(1, 1, 2, 2, 2), flambeau.zeros(2, 1, 1, 1, 3)),
     RuntimeError, r"grid_sample: expected input \(N, C, D, H, W\) and grid \(N, D_out, "
                   r"H_out, W_out, 3\) with the same N"),
    (lambda: F.grid_sample(flambeau.zeros(1, 1, 2, 2, 2),
                           flambeau.zeros(1, 1, 1, 1, 3, dtype=flambeau.float64)), RuntimeError,
     r"grid_sample: expected grid to have the input's dtype flambeau.float32, got "
     r"flambeau.float64"),
    (lambda: flambeau.norm_except_dim(flambeau.ones(2, 2), 2.0, 0), TypeError,
     r"norm_except_dim\(\): argument 'pow' \(position 2\) must be int, not float"),
    (lambda: flambeau.norm_except_dim(flambeau.ones(2, 2), 2, 5), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
    (lambda: flambeau.embedding_renorm_(flambeau.ones(3, 2), flambeau.tensor([0.0]), 1.0, 2.0),
     RuntimeError, "embedding_renorm_: expected indices of an integer dtype"),
    (lambda: flambeau.embedding_renorm_(flambeau.ones(3, 2), flambeau.tensor([3]), 1.0, 2.0),
     IndexError, "embedding_renorm_: index 3 is out of range for 3 embeddings"),
    (lambda: flambeau.embedding_renorm_(flambeau.ones(3, 2, requires_grad=True),
                                        flambeau.tensor([0]), 1.0, 2.0), RuntimeError,
     "embedding_renorm_: a leaf Variable that requires grad is being used in an in-place "
     "operation"),
    (lambda: flambeau.pdist(flambeau.ones(2, 2, 2)), RuntimeError,
     r"pdist only supports 2D tensors, got: 3D \(input of shape \(2, 2, 2\)\)"),
    (lambda: flambeau.pdist(flambeau.ones(2, 2), -1), RuntimeError,
     "pdist only supports non-negative p values, got -1"),
    (lambda: flambeau.pdist(flambeau.ones(2, 2, dtype=flambeau.int64)), RuntimeError,
     "pdist only supports floating-point dtypes, got flambeau.int64"),
    *[(lambda args=args: flambeau.lstm_cell(*args), error, message)
      for args, error, message in [
        ((_X, _H, _W4, _U4), TypeError,
         r"lstm_cell\(\): argument 'hx' \(position 2\) must be tuple of Tensors, not Tensor"),
        ((_X, (_H,), _W4, _U4), RuntimeError, "lstm_cell expects two hidden states, got 1"),
        ((_X, (_H, _H, _H), _W4, _U4), RuntimeError, "lstm_cell expects two hidden states"),
        ((_X[0], (_H[0], _H[0]), _W4, _U4), IndexError,
         r"lstm_cell: expected input of shape \(batch, input_size\), got shape \(4,\)"),
        ((_X[None], (_H, _H), _W4, _U4), RuntimeError,
         r"expected input of shape \(batch, input_size\), got shape \(1, 3, 4\)"),
        ((_X, (_H, _H), _W4[0], _U4), RuntimeError,
         r"lstm_cell: expected w_ih of 2 dimensions, got shape \(4,\)"),
        ((_X, (_H, _H), _W4[:, :3], _U4), RuntimeError,
         "lstm_cell: input has inconsistent input_size: got 4 expected 3"),
        ((_X, (_H, _H), _W4[:6], _U4), RuntimeError,
         r"lstm_cell: weight_ih first dim must be 4 \* hidden_size = 8, but got 6"),
        ((_X, (_H, _H), _W4, _U4[:6]), RuntimeError,
         r"lstm_cell: weight_hh first dim must be 4 \* hidden_size = 8, but got 6"),
        ((_X, (_H, _H[:2]), _W4, _U4), RuntimeError,
         "lstm_cell: Input batch size 3 doesn't match hidden1 batch size 2"),
        ((_X, (_H[:, :1], _H), _W4, _U4), RuntimeError,
         "lstm_cell: hidden0 has inconsistent hidden_size: got 1, expected 2"),
        ((_X, (_H[0], _H), _W4, _U4), IndexError,
         r"lstm_cell: expected hidden0 of shape \(batch, hidden_size\), got shape \(2,\)"),
    ]],
    (lambda: flambeau.gru_cell(_X, None, _W4[:6], _U4[:6]), TypeError,
     r"gru_cell\(\): argument 'hx' \(position 2\) must be Tensor, not NoneType"),
    (lambda: flambeau.gru_cell(_X, _H, _W4, _U4), RuntimeError,
     r"gru_cell: weight_ih first dim must be 3 \* hidden_size = 6, but got 8"),
    (lambda: flambeau.rnn_tanh_cell(_X, (_H,), _W4[:2], _U4[:2]), TypeError,
     r"rnn_tanh_cell\(\): argument 'hx' \(position 2\) must be Tensor, not tuple"),
    (lambda: flambeau.rnn_relu_cell(_X, _H[:2], _W4[:2], _U4[:2]), RuntimeError,
     "rnn_relu_cell: Input batch size 3 doesn't match hidden0 batch size 2"),
    (lambda: flambeau.rnn_relu_cell(_X, _H, _W4[:2], _U4[:2], flambeau.ones(3)), RuntimeError,
     r"linear: bias of shape \(3,\)"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_embedding_renorm_returns_the_weight_and_refuses_a_gradient_as_torch():
    w = flambeau.tensor(r(4, 3, scale=3))
    assert flambeau.embedding_renorm_(w, flambeau.tensor([1]), 1.0, 2.0) is w
    v = flambeau.tensor(r(4, 3, scale=3), requires_grad=True) * 1  # a non-leaf: recorded
    out = flambeau.embedding_renorm_(v, flambeau.tensor([1]), 1.0, 2.0)
    assert out is v
    np.testing.assert_allclose(float(v[1].detach().norm()), 1.0, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="the derivative for 'embedding_renorm' is "
                                                  "not implemented"):
        out.sum().backward()
    with flambeau.no_grad():  # a parameter renormed without recording, as F.embedding does
        p = flambeau.tensor(r(4, 3, scale=3), requires_grad=True)
        flambeau.embedding_renorm_(p, flambeau.tensor([0]), 1.0, 2.0)
    np.testing.assert_allclose(float(p[0].detach().norm()), 1.0, rtol=1e-6)


def test_conv_tbc_is_the_functional_one():
    assert flambeau.conv_tbc is F.conv_tbc
    x = flambeau.tensor(r(5, 2, 3), requires_grad=True)
    w = flambeau.tensor(r(2, 3, 4, seed=1), requires_grad=True)
    b = flambeau.tensor(r(4, seed=2), requires_grad=True)
    assert gradcheck(lambda *a: F.conv_tbc(*a, 1), (x, w, b))


def test_pdist_edge_cases():
    assert F.pdist(flambeau.ones(1, 3)).shape == (0,)
    assert F.pdist(flambeau.ones(0, 3)).shape == (0,)
    x = flambeau.tensor([[1.0, 2.0], [1.0, 2.0]], dtype=flambeau.float64, requires_grad=True)
    F.pdist(x).sum().backward()  # a zero distance has a zero gradient, not NaN
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_core_table_is_toplevel_all():
    table = _subpackages.TOPLEVEL["flambeau.nn._toplevel"]
    assert table == set(_toplevel.__all__)
    assert len(_toplevel.__all__) == len(set(_toplevel.__all__))
    # a name core defines itself would shadow the nn one: keep them apart
    assert not table & set(flambeau.__all__)


def test_reached_from_a_bare_import_flambeau():
    code = (
        "import sys, flambeau\n"
        "assert 'flambeau.nn' not in sys.modules\n"
        "conv2d = flambeau.conv2d\n"
        "import flambeau.nn._toplevel as t\n"
        "assert conv2d is t.conv2d, conv2d\n"
        "assert all(getattr(flambeau, n) is getattr(t, n) for n in t.__all__)\n"
        "assert not hasattr(flambeau, 'conv9d')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

"""More losses: Gaussian/Poisson NLL, multi-class and multi-label margins, triplet with any
distance. Parity with torch for every reduction and option, gradcheck, shapes and errors."""

import math

import numpy as np
import pytest
from _helpers_a import assert_close

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _t(a, requires_grad=False):
    return flambeau.tensor(np.asarray(a), requires_grad=requires_grad)


def _parity(f_fn, t_fn, arrays, n_diff, atol=1e-10, rtol=1e-8):
    """Run both on the same arrays; compare the losses and the first ``n_diff`` inputs' grads."""
    torch = pytest.importorskip("torch")
    f_in = [_t(a, i < n_diff) for i, a in enumerate(arrays)]
    t_in = [torch.tensor(np.asarray(a)).requires_grad_(i < n_diff)
            for i, a in enumerate(arrays)]
    fo, to = f_fn(*f_in), t_fn(*t_in)
    assert tuple(fo.shape) == tuple(to.shape)
    assert fo.dtype == flambeau.float64
    assert_close(fo, to, atol, rtol, "loss")
    g = _rng(7).standard_normal(tuple(fo.shape))
    fo.backward(_t(g))
    to.backward(torch.tensor(g))
    for i in range(n_diff):
        assert_close(f_in[i].grad, t_in[i].grad, atol, rtol, f"grad of input {i}")
    return fo


# ---------------------------------------------------------------- gaussian_nll_loss


VAR_SHAPES = {"same": (4, 3), "per-sample": (4,), "column": (4, 1), "row": (1, 3)}


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", list(VAR_SHAPES))
def test_gaussian_nll_loss_parity(var_shape, full, reduction):
    torch = pytest.importorskip("torch")
    rng = _rng(1)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    var = rng.random(VAR_SHAPES[var_shape]) + 0.1
    kw = {"full": full, "reduction": reduction}
    _parity(lambda a, b, v: F.gaussian_nll_loss(a, b, v, **kw),
            lambda a, b, v: torch.nn.functional.gaussian_nll_loss(a, b, v, **kw),
            [x, y, var], 3)
    # the module gives the same as the function
    out = nn.GaussianNLLLoss(full=full, reduction=reduction)(_t(x), _t(y), _t(var))
    assert_close(out, F.gaussian_nll_loss(_t(x), _t(y), _t(var), **kw), 0, 0)


@pytest.mark.parity
def test_gaussian_nll_loss_clamped_var_float_var_and_broadcast_target_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = _rng(2)
    x, y = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    # variances below eps are clamped to eps, yet their gradient is not cut by the clamp
    var = np.array([[0.0, 1e-9, 0.5, 2.0], [1e-7, 3.0, 1e-3, 0.0]])
    fo = _parity(lambda a, b, v: F.gaussian_nll_loss(a, b, v, eps=1e-6, reduction="sum"),
                 lambda a, b, v: tf.gaussian_nll_loss(a, b, v, eps=1e-6, reduction="sum"),
                 [x, y, var], 3, rtol=1e-7)
    assert np.isfinite(fo.item())
    for eps in (1e-6, 1e-2):
        _parity(lambda a, b, eps=eps: F.gaussian_nll_loss(a, b, 0.25, eps=eps, full=True),
                lambda a, b, eps=eps: tf.gaussian_nll_loss(a, b, 0.25, eps=eps, full=True),
                [x, y], 2)
    # a target that broadcasts against the input, and an unbatched 1-D input
    _parity(lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction="none"),
            lambda a, b, v: tf.gaussian_nll_loss(a, b, v, reduction="none"),
            [x, y[0], rng.random((2, 4)) + 0.5], 3)
    _parity(lambda a, b, v: F.gaussian_nll_loss(a, b, v),
            lambda a, b, v: tf.gaussian_nll_loss(a, b, v),
            [x[0], y[0], rng.random(()) + 0.5], 3)


def test_gaussian_nll_loss_values_and_gradcheck():
    mean = _t([[1.0, 3.0]])
    out = F.gaussian_nll_loss(mean, _t([[0.0, 1.0]]), _t([2.0]), reduction="none", full=True)
    expected = 0.5 * (math.log(2.0) + np.array([1.0, 4.0]) / 2.0) + 0.5 * math.log(2 * math.pi)
    assert_close(out, [expected], 1e-12, 1e-12)
    rng = _rng(3)
    x = _t(rng.standard_normal((3, 2)), True)
    y = _t(rng.standard_normal((3, 2)), True)
    v = _t(rng.random((3, 1)) + 0.2, True)
    fn = lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=True)  # noqa: E731
    assert gradcheck(fn, (x, y, v))
    assert gradgradcheck(fn, (x, y, v))
    v3 = _t(rng.random(3) + 0.2, True)
    assert gradcheck(lambda a, c: F.gaussian_nll_loss(a, y.detach(), c, reduction="none"),
                     (x, v3))


def test_gaussian_nll_loss_errors():
    x = flambeau.zeros(4, 3)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has negative entry/entries"):
        F.gaussian_nll_loss(x, x, _t(np.array([1.0, -0.1, 1.0])).expand(4, 3))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has negative entry/entries"):
        F.gaussian_nll_loss(x, x, -1.0)
    for shape in [(3,), (4, 2), (2, 4, 3), (1, 1)]:
        match = (r"gaussian_nll_loss: var is of incorrect size: var shape "
                 + re_shape(shape) + r" for input shape \(4, 3\)")
        with pytest.raises(ValueError, match=match):
            F.gaussian_nll_loss(x, x, flambeau.ones(*shape))
    with pytest.raises(ValueError, match="GaussianNLLLoss: avg is not a valid value"):
        nn.GaussianNLLLoss(reduction="avg")
    with pytest.raises(ValueError, match="gaussian_nll_loss: avg is not a valid value"):
        F.gaussian_nll_loss(x, x, 1.0, reduction="avg")
    with pytest.raises(RuntimeError, match=r"gaussian_nll_loss: input shape \(4, 3\) and target "
                                           r"shape \(2,\) cannot be broadcast"):
        F.gaussian_nll_loss(x, flambeau.zeros(2), flambeau.ones(4, 3))
    with pytest.raises(TypeError, match="gaussian_nll_loss: var must be a Tensor or a float"):
        F.gaussian_nll_loss(x, x, "1")
    with pytest.raises(TypeError):  # keyword-only, as in PyTorch
        nn.GaussianNLLLoss(True)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


# ---------------------------------------------------------------- poisson_nll_loss


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss_parity(full, log_input, reduction):
    torch = pytest.importorskip("torch")
    rng = _rng(4)
    x = rng.standard_normal((5, 3)) if log_input else rng.random((5, 3)) * 3 + 0.05
    # counts, with zeros and ones (the Stirling term is masked at target <= 1)
    y = rng.integers(0, 7, (5, 3)).astype(np.float64)
    y[0] = [0.0, 1.0, 2.0]
    kw = {"log_input": log_input, "full": full, "reduction": reduction}
    _parity(lambda a, b: F.poisson_nll_loss(a, b, **kw),
            lambda a, b: torch.nn.functional.poisson_nll_loss(a, b, **kw), [x, y], 1)
    # gradients with respect to the target too, where targets are non-zero (PyTorch's is nan
    # at target == 0 with full=True; flambeau's is 0 there, see the test below)
    y_pos = rng.random((5, 3)) * 4 + 0.1
    _parity(lambda a, b: F.poisson_nll_loss(a, b, **kw),
            lambda a, b: torch.nn.functional.poisson_nll_loss(a, b, **kw), [x, y_pos], 2)
    module = nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=reduction)
    assert_close(module(_t(x), _t(y)), F.poisson_nll_loss(_t(x), _t(y), **kw), 0, 0)


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
def test_poisson_nll_loss_eps_legacy_flags_and_broadcast_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = _rng(5)
    x = np.array([[0.0, 1e-3, 2.0], [0.5, 0.0, 1.0]])
    y = rng.integers(0, 4, (2, 3)).astype(np.float64)
    for eps in (1e-8, 0.5):
        _parity(lambda a, b, eps=eps: F.poisson_nll_loss(a, b, log_input=False, eps=eps,
                                                         reduction="none"),
                lambda a, b, eps=eps: tf.poisson_nll_loss(a, b, log_input=False, eps=eps,
                                                          reduction="none"), [x, y], 1)
    for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True}):
        _parity(lambda a, b, kw=legacy: F.poisson_nll_loss(a, b, **kw),
                lambda a, b, kw=legacy: tf.poisson_nll_loss(a, b, **kw), [x, y], 1)
        assert (nn.PoissonNLLLoss(**legacy).reduction
                == torch.nn.PoissonNLLLoss(**legacy).reduction)
    _parity(lambda a, b: F.poisson_nll_loss(a, b, reduction="none"),
            lambda a, b: tf.poisson_nll_loss(a, b, reduction="none"), [x, y[:1]], 2)


def test_poisson_nll_loss_values_gradcheck_and_zero_target_grad():
    out = F.poisson_nll_loss(_t([0.0, math.log(2.0)]), _t([0.0, 4.0]), full=True,
                             reduction="none")
    stirling = 4 * math.log(4) - 4 + 0.5 * math.log(2 * math.pi * 4)
    assert_close(out, [1.0, 2.0 - 4 * math.log(2.0) + stirling], 1e-12, 1e-12)
    rng = _rng(6)
    x = _t(rng.standard_normal((3, 2)), True)
    y = _t(np.array([[0.3, 2.5], [4.0, 0.6], [1.7, 3.0]]), True)  # away from the jump at 1
    for kw in ({}, {"full": True}, {"log_input": False, "full": True, "reduction": "none"}):
        xin = x if kw.get("log_input", True) else _t(rng.random((3, 2)) + 0.5, True)
        fn = lambda a, b, kw=kw: F.poisson_nll_loss(a, b, **kw)  # noqa: E731
        assert gradcheck(fn, (xin, y))
        assert gradgradcheck(fn, (xin, y))
    # integer counts are accepted as targets; the gradient at a zero count is finite
    assert_close(F.poisson_nll_loss(x, _t([[0, 2], [4, 0], [1, 3]]), full=True),
                 F.poisson_nll_loss(x, _t([[0.0, 2.0], [4.0, 0.0], [1.0, 3.0]]), full=True))
    t0 = _t([0.0, 3.0], True)
    F.poisson_nll_loss(_t([0.1, 0.2]), t0, full=True, reduction="sum").backward()
    assert t0.grad[0].item() == -0.1
    assert np.isfinite(t0.grad.cpu().numpy()).all()


def test_poisson_nll_loss_errors():
    with pytest.raises(RuntimeError, match=r"poisson_nll_loss: input shape \(2, 3\) and target "
                                           r"shape \(2,\) cannot be broadcast"):
        F.poisson_nll_loss(flambeau.zeros(2, 3), flambeau.zeros(2))
    with pytest.raises(ValueError, match="poisson_nll_loss: elementwise is not a valid value"):
        F.poisson_nll_loss(flambeau.zeros(2), flambeau.zeros(2), reduction="elementwise")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.PoissonNLLLoss(reduction="elementwise")


# ---------------------------------------------------------------- multi_margin_loss


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"p": 2}, {"margin": 0.3}, {"weight": True},
                                {"p": 2, "margin": 2.0, "weight": True}])
def test_multi_margin_loss_parity(kw, reduction):
    torch = pytest.importorskip("torch")
    rng = _rng(8)
    x = rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, 3, 2, 0])
    w = rng.random(4) + 0.5
    fkw = dict(kw, reduction=reduction)
    fkw_t = dict(fkw)
    if kw.get("weight"):
        fkw["weight"], fkw_t["weight"] = _t(w), torch.tensor(w)
    _parity(lambda a, b: F.multi_margin_loss(a, b, **fkw),
            lambda a, b: torch.nn.functional.multi_margin_loss(a, b, **fkw_t), [x, y], 1)
    mkw = {k: v for k, v in fkw.items()}
    module = nn.MultiMarginLoss(**mkw)
    assert repr(module) == repr(torch.nn.MultiMarginLoss(**fkw_t))
    assert list(module.state_dict()) == list(torch.nn.MultiMarginLoss(**fkw_t).state_dict())
    assert_close(module(_t(x), _t(y)), F.multi_margin_loss(_t(x), _t(y), **fkw), 0, 0)


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss_unbatched_and_empty_parity(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _rng(9).standard_normal(5)
    for target in (np.array(2), np.array([4])):  # () or (1,) for a (C,) input
        fo = _parity(lambda a, b: F.multi_margin_loss(a, b, p=2, reduction=reduction),
                     lambda a, b: tf.multi_margin_loss(a, b, p=2, reduction=reduction),
                     [x, target], 1)
        assert fo.ndim == (target.ndim if reduction == "none" else 0)
    # a (1, C) input with a 0-d target, and a 0-d input (a single class: no loss)
    _parity(lambda a, b: F.multi_margin_loss(a, b, reduction=reduction),
            lambda a, b: tf.multi_margin_loss(a, b, reduction=reduction),
            [x[None], np.array(1)], 1)
    _parity(lambda a, b: F.multi_margin_loss(a, b, reduction=reduction),
            lambda a, b: tf.multi_margin_loss(a, b, reduction=reduction),
            [np.array(0.7), np.array(0)], 1)
    empty = F.multi_margin_loss(flambeau.zeros(0, 3), flambeau.zeros(0, dtype=flambeau.int64),
                                reduction=reduction)
    assert tuple(empty.shape) == ((0,) if reduction == "none" else ())
    if reduction == "sum":
        assert empty.item() == 0.0


def test_multi_margin_loss_values_and_gradcheck():
    x = _t([[0.1, 0.2, 0.4, 0.8], [0.5, 0.0, 0.0, 0.0]])
    out = F.multi_margin_loss(x, _t([3, 0]), reduction="none", weight=_t([2.0, 1, 1, 1]))
    assert_close(out, [(0.3 + 0.4 + 0.6) / 4, 2 * 3 * 0.5 / 4], 1e-7, 1e-6)
    rng = _rng(10)
    xs = _t(rng.standard_normal((5, 4)), True)
    y = _t(np.array([0, 1, 3, 3, 2]))
    w = _t(rng.random(4) + 0.5, True)
    for kw in ({}, {"p": 2, "reduction": "none"}, {"margin": 0.5, "reduction": "sum"}):
        fn = lambda a, c, kw=kw: F.multi_margin_loss(a, y, weight=c, **kw)  # noqa: E731
        assert gradcheck(fn, (xs, w))
        assert gradgradcheck(fn, (xs, w))


def test_multi_margin_loss_errors():
    x = flambeau.randn(3, 4)
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, _t([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=0)
    for bad, value in (([0, 4, 1], 4), ([0, -1, 1], -1)):
        match = (rf"multi_margin_loss: target {value} is out of range for 4 classes \(expected "
                 r"0\.\.3\); input shape \(3, 4\), target shape \(3,\)")
        with pytest.raises(RuntimeError, match=match):
            F.multi_margin_loss(x, _t(bad))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: target should be 1-D with one "
                                           r"class index per sample: expected target shape "
                                           r"\(3,\), got \(2,\) \(input shape \(3, 4\)\)"):
        F.multi_margin_loss(x, _t([0, 1]))
    with pytest.raises(RuntimeError, match=r"expected target shape \(3,\), got \(1, 3\)"):
        nn.MultiMarginLoss()(x, _t([[0, 1, 2]]))
    with pytest.raises(RuntimeError, match="multi_margin_loss: expected an integer target of "
                                           "class indices, got flambeau.float32"):
        F.multi_margin_loss(x, flambeau.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: inconsistent weight size, "
                                           r"expected \(4,\) but got \(3,\)"):
        F.multi_margin_loss(x, _t([0, 1, 2]), weight=flambeau.ones(3))
    with pytest.raises(ValueError, match=r"multi_margin_loss: weight must be one-dimensional "
                                         r"\(C,\), got shape \(1, 4\)"):
        F.multi_margin_loss(x, _t([0, 1, 2]), weight=flambeau.ones(1, 4))
    with pytest.raises(ValueError, match="MultiMarginLoss: expected weight to be None or 1D "
                                         "tensor, got 2D instead"):
        nn.MultiMarginLoss(weight=flambeau.ones(1, 4))
    for shape in [(2, 3, 4), (3, 0)]:
        with pytest.raises(RuntimeError, match=r"multi_margin_loss: expected a non-empty vector "
                                               r"\(C,\) or matrix \(N, C\) input .*got shape "
                                               + re_shape(shape)):
            F.multi_margin_loss(flambeau.zeros(*shape), _t([0, 0]))


# ---------------------------------------------------------------- multilabel_margin_loss


MULTILABEL_TARGETS = np.array([[3, 0, -1, 1],    # labels {3, 0}; the 1 after -1 is ignored
                               [0, 1, 2, 3],     # every class a label: no loss
                               [1, 1, -1, 2],    # a repeated label counts twice
                               [-1, 2, 0, 0],    # no labels
                               [2, -1, -1, -1]])


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_parity(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _rng(11).standard_normal((5, 4))
    fo = _parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
                 lambda a, b: tf.multilabel_margin_loss(a, b, reduction=reduction),
                 [x, MULTILABEL_TARGETS], 1)
    if reduction == "none":
        assert fo[1].item() == 0.0 and fo[3].item() == 0.0
    # unbatched (C,) input: a 0-d loss whatever the reduction
    for row in (0, 2, 3):
        fo = _parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
                     lambda a, b: tf.multilabel_margin_loss(a, b, reduction=reduction),
                     [x[row], MULTILABEL_TARGETS[row]], 1)
        assert fo.ndim == 0
    # a batch where no sample has a label, and the empty batch
    _parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
            lambda a, b: tf.multilabel_margin_loss(a, b, reduction=reduction),
            [x[:2], np.full((2, 4), -1)], 1)
    empty = [np.zeros((0, 4)), np.zeros((0, 4), dtype=np.int64)]
    if reduction == "none":
        _parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
                lambda a, b: tf.multilabel_margin_loss(a, b, reduction=reduction), empty, 1)
    else:  # torch 2.13's CPU kernel returns uninitialized memory here (a random value)
        assert float(F.multilabel_margin_loss(_t(empty[0]), _t(empty[1]),
                                              reduction=reduction)) == 0.0
    module = nn.MultiLabelMarginLoss(reduction=reduction)
    assert repr(module) == repr(torch.nn.MultiLabelMarginLoss(reduction=reduction))
    assert_close(module(_t(x), _t(MULTILABEL_TARGETS)),
                 F.multilabel_margin_loss(_t(x), _t(MULTILABEL_TARGETS), reduction=reduction),
                 0, 0)


def test_multilabel_margin_loss_values_and_gradcheck():
    x = _t([[0.1, 0.2, 0.4, 0.8]])
    # labels 3 and 0 against the non-labels 1 and 2
    expected = ((1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))) / 4
    assert abs(F.multilabel_margin_loss(x, _t([[3, 0, -1, 1]])).item() - expected) < 1e-6
    assert F.multilabel_margin_loss(x, _t([[3, 0, -1, 1]]), size_average=False).item() == \
        pytest.approx(expected)
    xs = _t(_rng(12).standard_normal((5, 4)), True)
    for reduction in REDUCTIONS:
        fn = lambda a, r=reduction: F.multilabel_margin_loss(  # noqa: E731
            a, _t(MULTILABEL_TARGETS), reduction=r)
        assert gradcheck(fn, (xs,))
        assert gradgradcheck(fn, (xs,))


def test_multilabel_margin_loss_errors():
    x = flambeau.randn(3, 4)
    good = np.array([[0, -1, 0, 0]] * 3)
    for value in (4, -2):
        bad = good.copy()
        bad[1, 2] = value  # checked even after the -1 that ends the labels, as in PyTorch
        match = (rf"multilabel_margin_loss: target {value} is out of range for 4 classes "
                 r"\(expected 0\.\.3, or -1 to end a sample's labels\); input shape \(3, 4\)")
        with pytest.raises(RuntimeError, match=match):
            F.multilabel_margin_loss(x, _t(bad))
    for target in (good[:, :3], good[:2], good[0]):
        match = (r"multilabel_margin_loss: inconsistent target size: .*; input shape \(3, 4\), "
                 r"target shape " + re_shape(target.shape))
        with pytest.raises(RuntimeError, match=match):
            nn.MultiLabelMarginLoss()(x, _t(target))
    with pytest.raises(RuntimeError, match="multilabel_margin_loss: expected an integer target"):
        F.multilabel_margin_loss(x, _t(good.astype(np.float32)))
    with pytest.raises(RuntimeError, match=r"multilabel_margin_loss: expected a non-empty vector "
                                           r"\(C,\) or matrix \(N, C\) input"):
        F.multilabel_margin_loss(flambeau.zeros(2, 3, 4), _t(np.zeros((2, 3, 4), np.int64)))


# ---------------------------------------------------------------- multilabel_soft_margin_loss


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(5, 3), (4,)])
def test_multilabel_soft_margin_loss_parity(shape, weighted, reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = _rng(13)
    x = rng.standard_normal(shape) * 3
    y = (rng.random(shape) < 0.5).astype(np.float64)
    w = rng.random(shape[-1]) + 0.5
    if weighted:
        _parity(lambda a, b, c: F.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
                lambda a, b, c: tf.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
                [x, y, w], 3)
    else:
        _parity(lambda a, b: F.multilabel_soft_margin_loss(a, b, reduction=reduction),
                lambda a, b: tf.multilabel_soft_margin_loss(a, b, reduction=reduction),
                [x, rng.random(shape)], 2)  # soft labels: the target's gradient too
    fw = _t(w) if weighted else None
    module = nn.MultiLabelSoftMarginLoss(weight=fw, reduction=reduction)
    tmodule = torch.nn.MultiLabelSoftMarginLoss(
        weight=torch.tensor(w) if weighted else None, reduction=reduction)
    assert repr(module) == repr(tmodule)
    assert list(module.state_dict()) == list(tmodule.state_dict())
    assert_close(module(_t(x), _t(y)),
                 F.multilabel_soft_margin_loss(_t(x), _t(y), fw, reduction=reduction), 0, 0)


def test_multilabel_soft_margin_loss_stable_values_and_gradcheck():
    x = _t([[1e4, -1e4], [0.0, 0.0]], True)
    out = F.multilabel_soft_margin_loss(x, _t([[1.0, 0.0], [1.0, 1.0]]), reduction="none")
    assert_close(out, [0.0, math.log(2.0)], 1e-7, 1e-6)
    out.sum().backward()
    assert np.isfinite(x.grad.cpu().numpy()).all()
    rng = _rng(14)
    xs = _t(rng.standard_normal((3, 4)), True)
    ys = _t(rng.random((3, 4)), True)
    w = _t(rng.random(4), True)
    fn = lambda a, b, c: F.multilabel_soft_margin_loss(a, b, c, reduction="none")  # noqa: E731
    assert gradcheck(fn, (xs, ys, w))
    assert gradgradcheck(fn, (xs, ys, w))


def test_multilabel_soft_margin_loss_errors():
    x = flambeau.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"multilabel_soft_margin_loss: weight of shape "
                                           r"\(4,\) does not broadcast to the input's shape "
                                           r"\(2, 3\) \(expected \(3,\), one weight per class\)"):
        F.multilabel_soft_margin_loss(x, x, weight=flambeau.ones(4))
    with pytest.raises(RuntimeError, match=r"multilabel_soft_margin_loss: input shape \(2, 3\) "
                                           r"and target shape \(2,\) cannot be broadcast"):
        nn.MultiLabelSoftMarginLoss()(x, flambeau.zeros(2))
    with pytest.raises(RuntimeError, match="multilabel_soft_margin_loss: input must have a "
                                           "class dimension"):
        F.multilabel_soft_margin_loss(flambeau.tensor(1.0), flambeau.tensor(1.0))


# ---------------------------------------------------------------- triplet_margin_with_distance


def _l1(x, y):
    return (x - y).abs().sum(-1)


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["default", "l1", "cosine"])
def test_triplet_margin_with_distance_loss_parity(distance, swap, reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    f_dist, t_dist = {
        "default": (None, None),
        "l1": (_l1, _l1),
        "cosine": (lambda a, b: 1 - F.cosine_similarity(a, b),
                   lambda a, b: 1 - tf.cosine_similarity(a, b)),
    }[distance]
    rng = _rng(15)
    a, p, n = (rng.standard_normal((6, 3)) for _ in range(3))
    n[:2] = p[:2] + 0.1  # some triplets where swapping changes the negative distance
    kw = {"margin": 0.7 if distance == "cosine" else 1.5, "swap": swap, "reduction": reduction}
    _parity(lambda *x: F.triplet_margin_with_distance_loss(*x, distance_function=f_dist, **kw),
            lambda *x: tf.triplet_margin_with_distance_loss(*x, distance_function=t_dist, **kw),
            [a, p, n], 3)
    module = nn.TripletMarginWithDistanceLoss(distance_function=f_dist, **kw)
    assert_close(module(_t(a), _t(p), _t(n)),
                 F.triplet_margin_with_distance_loss(_t(a), _t(p), _t(n),
                                                     distance_function=f_dist, **kw), 0, 0)
    # unbatched (D,) inputs with the default distance
    _parity(lambda *x: F.triplet_margin_with_distance_loss(*x, **kw),
            lambda *x: tf.triplet_margin_with_distance_loss(*x, **kw), [a[0], p[0], n[0]], 3)


def test_triplet_margin_with_distance_loss_values_and_gradcheck():
    a, p, n = flambeau.zeros(2, 2), flambeau.ones(2, 2), flambeau.full((2, 2), 3.0)
    # the default distance is the Euclidean pairwise_distance (eps=1e-6)
    d = F.pairwise_distance(a, p) - F.pairwise_distance(a, n)
    expected = (5.0 + d).clamp(min=0)
    out = F.triplet_margin_with_distance_loss(a, p, n, margin=5.0, reduction="none")
    assert_close(out, expected, 0, 0)
    # with swap, d(p, n) < d(a, n) replaces the negative distance
    out = F.triplet_margin_with_distance_loss(a, p, n, distance_function=_l1, margin=5.0,
                                              swap=True, reduction="sum")
    assert out.item() == 2 * (5.0 + 2.0 - 4.0)
    rng = _rng(16)
    ts = [_t(rng.standard_normal((4, 3)), True) for _ in range(3)]
    for kw in ({}, {"swap": True, "reduction": "none"},
               {"distance_function": lambda x, y: ((x - y) ** 2).sum(-1), "margin": 3.0}):
        fn = lambda *x, kw=kw: F.triplet_margin_with_distance_loss(*x, **kw)  # noqa: E731
        assert gradcheck(fn, tuple(ts))
        assert gradgradcheck(fn, tuple(ts))


def test_triplet_margin_with_distance_loss_errors():
    x = flambeau.zeros(2, 3)
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be "
                                         "greater than 0, got 0.0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0.0)
    with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: expected margin to be "
                                         "greater than 0, got -1.0 instead"):
        nn.TripletMarginWithDistanceLoss(margin=-1.0)
    with pytest.raises(RuntimeError, match=r"triplet_margin_with_distance_loss: the anchor, "
                                           r"positive, and negative tensors are expected to have "
                                           r"the same number of dimensions, but got: anchor 2D "
                                           r"\(2, 3\), positive 1D \(3,\), and negative 2D"):
        F.triplet_margin_with_distance_loss(x, x[0], x)
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: bogus is not a valid"):
        F.triplet_margin_with_distance_loss(x, x, x, reduction="bogus")
    with pytest.raises(TypeError):  # keyword-only, as in PyTorch
        F.triplet_margin_with_distance_loss(x, x, x, None)
    with pytest.raises(TypeError):
        nn.TripletMarginWithDistanceLoss(None)


# ---------------------------------------------------------------- modules


@pytest.mark.parity
def test_module_signatures_and_reprs_match_torch():
    torch = pytest.importorskip("torch")
    import inspect

    for name in ("GaussianNLLLoss", "PoissonNLLLoss", "MultiMarginLoss",
                 "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss",
                 "TripletMarginWithDistanceLoss"):
        ours = inspect.signature(getattr(nn, name).__init__)
        theirs = inspect.signature(getattr(torch.nn, name).__init__)
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.parameters.values()], name
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    for name in ("gaussian_nll_loss", "poisson_nll_loss", "multi_margin_loss",
                 "multilabel_soft_margin_loss", "multilabel_margin_loss",
                 "triplet_margin_with_distance_loss"):
        ours = inspect.signature(getattr(F, name))
        theirs = inspect.signature(getattr(torch.nn.functional, name))
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.parameters.values()], name


def test_modules_hold_their_options_and_legacy_flags():
    m = nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-3, size_average=False)
    assert (m.log_input, m.full, m.eps, m.reduction) == (False, True, 1e-3, "sum")
    m = nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")
    assert (m.full, m.eps, m.reduction) == (True, 1e-3, "sum")
    assert nn.MultiLabelMarginLoss(reduce=False).reduction == "none"
    assert nn.MultiLabelSoftMarginLoss(size_average=False).reduction == "sum"
    w = flambeau.ones(3)
    m = nn.MultiMarginLoss(p=2, margin=0.5, weight=w, reduce=True)
    assert (m.p, m.margin, m.reduction) == (2, 0.5, "mean")
    assert m.weight is not None and list(m.state_dict()) == ["weight"]
    m = nn.TripletMarginWithDistanceLoss(distance_function=_l1, margin=2.0, swap=True)
    assert (m.distance_function, m.margin, m.swap) == (_l1, 2.0, True)
    m = nn.TripletMarginWithDistanceLoss()  # the default distance is a PairwiseDistance child
    assert isinstance(m.distance_function, nn.PairwiseDistance)
    assert [name for name, _ in m.named_children()] == ["distance_function"]
    assert "TripletMarginWithDistanceLoss" in nn.__all__
    assert "triplet_margin_with_distance_loss" in F.__all__


def test_float32_inputs_stay_float32():
    x = flambeau.randn(3, 4)
    y = flambeau.tensor([0, 1, 3])
    outs = [F.gaussian_nll_loss(x, x, flambeau.ones(3)), F.poisson_nll_loss(x, x.abs()),
            F.multi_margin_loss(x, y, weight=_t(np.ones(4))), F.multilabel_margin_loss(
                x, _t(np.array([[0, -1, 0, 0]] * 3))),
            F.multilabel_soft_margin_loss(x, (x > 0).float()),
            F.triplet_margin_with_distance_loss(x, x, x)]
    assert [o.dtype for o in outs] == [flambeau.float32] * len(outs)

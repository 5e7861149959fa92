"""Losses: parity with torch for every loss and reduction, gradcheck, stability, errors."""

import numpy as np
import pytest
from _helpers_a import assert_close

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]


def _t(a, dtype=None):
    return flambeau.tensor(np.asarray(a), dtype=dtype)


def _case(name, reduction):
    """``(module args, kwargs, inputs)`` for loss ``name`` (float64 numpy arrays / ints)."""
    x = RNG.standard_normal((4, 3))
    y = RNG.standard_normal((4, 3))
    sign = np.where(RNG.random(4) < 0.5, -1.0, 1.0)
    cases = {
        "MSELoss": ({}, [x, y]),
        "L1Loss": ({}, [x, y]),
        "SmoothL1Loss": ({"beta": 0.5}, [x, y]),
        "HuberLoss": ({"delta": 0.7}, [x, y]),
        "BCELoss": ({"weight": RNG.random(3)}, [1 / (1 + np.exp(-x)), RNG.random((4, 3))]),
        "BCEWithLogitsLoss": ({"weight": RNG.random(3), "pos_weight": RNG.random(3) + 0.5},
                              [x, RNG.random((4, 3))]),
        "KLDivLoss": ({}, [np.log(RNG.dirichlet(np.ones(3), 4)), RNG.dirichlet(np.ones(3), 4)]),
        "CosineEmbeddingLoss": ({"margin": 0.1}, [x, y, sign.astype(np.int64)]),
        "MarginRankingLoss": ({"margin": 0.2}, [x[:, 0], y[:, 0], sign]),
        "TripletMarginLoss": ({"margin": 0.5}, [x, y, RNG.standard_normal((4, 3))]),
        "HingeEmbeddingLoss": ({"margin": 0.8}, [x, np.sign(y)]),
        "SoftMarginLoss": ({}, [x, np.sign(y)]),
        "NLLLoss": ({"weight": RNG.random(3), "ignore_index": 1},
                    [np.log(RNG.dirichlet(np.ones(3), 4)), np.array([0, 1, 2, 2])]),
        "CrossEntropyLoss": ({"weight": RNG.random(3), "label_smoothing": 0.1},
                             [x * 3, np.array([0, 2, 1, 2])]),
    }
    kwargs, inputs = cases[name]
    return dict(kwargs, reduction=reduction), inputs


LOSSES = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
          "KLDivLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss",
          "HingeEmbeddingLoss", "SoftMarginLoss", "NLLLoss", "CrossEntropyLoss"]
# inputs whose gradients are compared (targets of class indices have none)
DIFF_INPUTS = {"CosineEmbeddingLoss": 2, "MarginRankingLoss": 2, "NLLLoss": 1,
               "CrossEntropyLoss": 1, "HingeEmbeddingLoss": 1, "SoftMarginLoss": 1}


def _build(lib, name, kwargs, to_tensor):
    kw = {k: (to_tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    return getattr(lib, name)(**kw)


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_parity(name, reduction):
    torch = pytest.importorskip("torch")
    kwargs, inputs = _case(name, reduction)
    fl = _build(nn, name, kwargs, _t)
    tl = _build(torch.nn, name, kwargs, torch.tensor)
    n_diff = DIFF_INPUTS.get(name, len(inputs))
    f_in = [_t(a) for a in inputs]
    t_in = [torch.tensor(a) for a in inputs]
    for i in range(n_diff):
        f_in[i].requires_grad_()
        t_in[i].requires_grad_()
    fo, to = fl(*f_in), tl(*t_in)
    assert_close(fo, to, 1e-10, 1e-8, "loss")
    g = RNG.standard_normal(tuple(fo.shape))
    fo.backward(_t(g))
    to.backward(torch.tensor(g))
    for i in range(n_diff):
        assert_close(f_in[i].grad, t_in[i].grad, 1e-10, 1e-7, f"grad of input {i}")
    assert repr(fl) == repr(tl)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradcheck(name):
    kwargs, inputs = _case(name, "sum")
    fl = _build(nn, name, kwargs, _t)
    n_diff = DIFF_INPUTS.get(name, len(inputs))
    ts = [_t(a) for a in inputs]
    for i in range(n_diff):
        ts[i].requires_grad_()
    assert gradcheck(lambda *a: fl(*a), tuple(ts))


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"ignore_index": 2},
                                {"label_smoothing": 0.3, "weight": True},
                                {"label_smoothing": 0.2, "ignore_index": 0}])
def test_cross_entropy_k_dim_parity(kw, reduction):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 4, 3, 2))
    t = RNG.integers(0, 4, (2, 3, 2))
    w = RNG.random(4)
    fkw = {k: v for k, v in kw.items() if k != "weight"}
    fw = _t(w) if kw.get("weight") else None
    tw = torch.tensor(w) if kw.get("weight") else None
    fx, tx = _t(x).requires_grad_(), torch.tensor(x, requires_grad=True)
    fo = F.cross_entropy(fx, _t(t), weight=fw, reduction=reduction, **fkw)
    to = torch.nn.functional.cross_entropy(tx, torch.tensor(t), weight=tw, reduction=reduction,
                                           **fkw)
    assert_close(fo, to, 1e-10, 1e-8)
    fo.sum().backward()
    to.sum().backward()
    assert_close(fx.grad, tx.grad, 1e-10, 1e-8)


@pytest.mark.parity
def test_cross_entropy_probabilities_refuse_ignore_index():
    x, p = flambeau.randn(3, 4), flambeau.softmax(flambeau.randn(3, 4), 1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point "
                                           "target"):
        F.cross_entropy(x, p, ignore_index=1)
    assert F.cross_entropy(x, p, ignore_index=-100).shape == ()  # the default is fine


def test_cross_entropy_probabilities_and_unbatched_parity():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 5, 2))
    p = RNG.dirichlet(np.ones(5), (3, 2)).transpose(0, 2, 1)
    w = RNG.random(5)
    fx, tx = _t(x).requires_grad_(), torch.tensor(x, requires_grad=True)
    fp, tp = _t(p).requires_grad_(), torch.tensor(p, requires_grad=True)
    fo = F.cross_entropy(fx, fp, weight=_t(w), label_smoothing=0.25)
    to = torch.nn.functional.cross_entropy(tx, tp, weight=torch.tensor(w), label_smoothing=0.25)
    assert_close(fo, to, 1e-10, 1e-8)
    fo.backward()
    to.backward()
    assert_close(fx.grad, tx.grad, 1e-10, 1e-8)
    assert_close(fp.grad, tp.grad, 1e-10, 1e-8)
    v = RNG.standard_normal(4)
    for red in REDUCTIONS:
        assert_close(F.cross_entropy(_t(v), _t(2), reduction=red),
                     torch.nn.functional.cross_entropy(torch.tensor(v), torch.tensor(2),
                                                       reduction=red))


def test_cross_entropy_gradcheck_and_gradgradcheck():
    x = _t(RNG.standard_normal((3, 4, 2))).requires_grad_()
    t = _t(RNG.integers(0, 4, (3, 2)))
    w = _t(RNG.random(4))
    fn = lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=0.1)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
    p = _t(RNG.dirichlet(np.ones(4), 3)).requires_grad_()
    x2 = _t(RNG.standard_normal((3, 4))).requires_grad_()
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, reduction="none"), (x2, p))


@pytest.mark.parity
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 2, 7])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_losses_2d_parity(name, ignore_index, reduction):
    # (N, C) inputs without weights take the gathering path: every ignore_index case
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((6, 4))
    t = np.array([0, 2, 3, 2, 1, 2])
    fx, tx = _t(x).requires_grad_(), torch.tensor(x, requires_grad=True)
    fo = getattr(F, name)(fx, _t(t), ignore_index=ignore_index, reduction=reduction)
    to = getattr(torch.nn.functional, name)(tx, torch.tensor(t), ignore_index=ignore_index,
                                            reduction=reduction)
    assert_close(fo, to, 1e-12, 1e-12)
    (fo * fo).sum().backward()
    (to * to).sum().backward()
    assert_close(fx.grad, tx.grad, 1e-12, 1e-12)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_losses_2d_gradcheck_and_gradgradcheck(name):
    x = _t(RNG.standard_normal((5, 3))).requires_grad_()
    t = _t(np.array([0, 2, 1, 2, 0]))
    for kw in ({}, {"ignore_index": 2, "reduction": "none"}, {"reduction": "sum"}):
        fn = lambda x, kw=kw: getattr(F, name)(x, t, **kw)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_class_index_losses_2d_all_ignored_and_bad_targets():
    x = flambeau.randn(3, 4)
    for name in ("cross_entropy", "nll_loss"):
        fn = getattr(F, name)
        assert np.isnan(fn(x, flambeau.tensor([1, 1, 1]), ignore_index=1).item())
        for bad in ([0, 4, 1], [-1, 0, 0], [0, 9, 2]):
            match = f"{name}: Target (4|-1|9) is out of bounds for 4 classes"
            with pytest.raises(IndexError, match=match):
                fn(x, flambeau.tensor(bad), ignore_index=2)
            with pytest.raises(IndexError, match=match):  # the default ignore_index=-100
                fn(x, flambeau.tensor(bad))
        some_ignored = fn(x, flambeau.tensor([-100, 3, -100]), reduction="sum")
        assert some_ignored.item() == fn(x[1:2], flambeau.tensor([3]), reduction="sum").item()


def test_cross_entropy_stable_for_huge_logits():
    x = flambeau.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, flambeau.tensor([1, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 1e4) < 1e-2
    g = x.grad.cpu().numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-6)
    for fn, target in ((F.binary_cross_entropy_with_logits, flambeau.ones(2, 3)),
                       (F.soft_margin_loss, flambeau.ones(2, 3))):
        y = flambeau.tensor(x.detach().cpu().numpy(), requires_grad=True)
        out = fn(y, target)
        out.backward()
        assert np.isfinite(out.item()) and np.isfinite(y.grad.cpu().numpy()).all()


def test_cross_entropy_uses_backend_kernel(monkeypatch):
    calls = []
    x = flambeau.randn(3, 4)
    kernels = x.device.backend.kernels
    from flambeau.nn.functional._loss import _generic_cross_entropy

    def kernel(logits, q, axis):
        calls.append(axis)
        return _generic_cross_entropy(np, logits, q, axis)

    monkeypatch.setitem(kernels, "cross_entropy", kernel)
    ref = F.cross_entropy(x, flambeau.tensor([0, 1, 2]))
    assert calls == [1]
    monkeypatch.delitem(kernels, "cross_entropy")
    assert abs(F.cross_entropy(x, flambeau.tensor([0, 1, 2])).item() - ref.item()) < 1e-6


def test_cross_entropy_all_ignored_mean_is_nan_and_ignored_rows_get_no_grad():
    x = flambeau.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, flambeau.tensor([-100, 1]))
    loss.backward()
    assert x.grad[0].abs().sum().item() == 0.0
    assert np.isnan(F.cross_entropy(x, flambeau.tensor([-100, -100])).item())


def test_loss_errors():
    x = flambeau.randn(2, 3)
    with pytest.raises(IndexError, match="Target 5 is out of bounds for 3 classes"):
        F.cross_entropy(x, flambeau.tensor([0, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        nn.CrossEntropyLoss()(x, flambeau.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="expected target of class indices"):
        F.cross_entropy(x, flambeau.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(2\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(x, flambeau.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, flambeau.tensor([0, 1]), weight=flambeau.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, flambeau.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(flambeau.tensor([1.5]), flambeau.tensor([1.0]))
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(flambeau.ones(2, 1), flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.mse_loss(flambeau.ones(2), flambeau.ones(3))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, flambeau.tensor([3, 0]))


def test_legacy_reduction_flags():
    a, b = flambeau.tensor([1.0, 3.0]), flambeau.zeros(2)
    assert F.mse_loss(a, b, size_average=False).item() == 10.0
    assert F.mse_loss(a, b, reduce=False).tolist() == [1.0, 9.0]
    assert nn.L1Loss(size_average=True).reduction == "mean"


def test_kl_div_batchmean_and_log_target():
    p = flambeau.tensor([[0.2, 0.8], [0.5, 0.5]])
    q = flambeau.tensor([[0.4, 0.6], [0.1, 0.9]])
    expected = float((p * (p / q).log()).sum() / 2)
    assert abs(F.kl_div(q.log(), p, reduction="batchmean").item() - expected) < 1e-6
    assert abs(F.kl_div(q.log(), p.log(), reduction="batchmean", log_target=True).item()
               - expected) < 1e-6


@pytest.mark.parity
def test_functional_misc_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    fa, fb = _t(a).requires_grad_(), _t(b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b)
    for f_fn, t_fn in ((lambda x, y: F.cosine_similarity(x, y), tf.cosine_similarity),
                       (lambda x, y: F.pairwise_distance(x, y, 3.0),
                        lambda x, y: tf.pairwise_distance(x, y, 3.0)),
                       (lambda x, y: F.normalize(x, dim=0) * y,
                        lambda x, y: tf.normalize(x, dim=0) * y)):
        fo, to = f_fn(fa, fb), t_fn(ta, tb)
        assert_close(fo, to, 1e-10, 1e-8)
        fo.sum().backward()
        to.sum().backward()
        assert_close(fa.grad, ta.grad, 1e-10, 1e-8)
        fa.grad, ta.grad = None, None
    idx = RNG.integers(0, 5, (2, 3))
    assert F.one_hot(_t(idx), 5).tolist() == tf.one_hot(torch.tensor(idx), 5).tolist()
    assert F.one_hot(_t(idx)).shape == tuple(tf.one_hot(torch.tensor(idx)).shape)
    assert F.one_hot(_t(idx)).dtype == flambeau.int64
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(_t(idx), 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(_t([-1]), 2)


def _ctc_case(blank, classes=6, steps=12):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((steps, 4, classes))
    lengths_tg = np.array([3, 5, 0, 2])
    lengths_in = np.array([12, 10, 7, 5])
    labels = [c for c in range(classes) if c != blank]
    padded = rng.choice(labels, (4, 5))
    padded[0, :3] = [labels[1], labels[1], labels[2]]  # a repeated label needs a blank
    return x, padded, lengths_in, lengths_tg


@pytest.mark.parity
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("blank", [0, 5])
def test_ctc_loss_parity(reduction, concatenated, blank):
    torch = pytest.importorskip("torch")
    x, padded, lengths_in, lengths_tg = _ctc_case(blank)
    targets = np.concatenate([padded[n, :k] for n, k in enumerate(lengths_tg)]) if (
        concatenated) else padded
    fx, tx = _t(x).requires_grad_(), torch.tensor(x, requires_grad=True)
    fo = F.ctc_loss(F.log_softmax(fx, 2), _t(targets), _t(lengths_in), _t(lengths_tg),
                    blank=blank, reduction=reduction)
    to = torch.nn.functional.ctc_loss(torch.log_softmax(tx, 2), torch.tensor(targets),
                                      torch.tensor(lengths_in), torch.tensor(lengths_tg),
                                      blank=blank, reduction=reduction)
    assert_close(fo, to, 1e-12, 1e-12)
    (fo * 1.5).sum().backward()
    (to * 1.5).sum().backward()
    assert_close(fx.grad, tx.grad, 1e-12, 1e-12)


@pytest.mark.parity
def test_ctc_loss_unbatched_float32_and_zero_infinity_parity():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    fo = F.ctc_loss(_t(x).log_softmax(1), _t(np.array([1, 2])), [6], [2])
    to = tf.ctc_loss(torch.tensor(x).log_softmax(1), torch.tensor([1, 2]), [6], [2])
    np.testing.assert_allclose(fo.cpu().numpy(), to.cpu().numpy(), rtol=1e-5)
    assert fo.dtype == flambeau.float32
    # four labels cannot align to three frames: infinite, or zero with its gradient
    x3 = np.random.default_rng(5).standard_normal((3, 2, 5))
    targets, lengths_in, lengths_tg = np.array([[1, 2, 3, 4], [1, 1, 0, 0]]), [3, 3], [4, 2]
    assert np.isinf(F.ctc_loss(_t(x3).log_softmax(2), _t(targets), lengths_in, lengths_tg,
                               reduction="none").cpu().numpy()[0])
    fx, tx = _t(x3).requires_grad_(), torch.tensor(x3, requires_grad=True)
    fo = F.ctc_loss(fx.log_softmax(2), _t(targets), lengths_in, lengths_tg, zero_infinity=True)
    to = tf.ctc_loss(tx.log_softmax(2), torch.tensor(targets), torch.tensor(lengths_in),
                     torch.tensor(lengths_tg), zero_infinity=True)
    assert_close(fo, to, 1e-12, 1e-12)
    fo.backward()
    to.backward()
    assert_close(fx.grad, tx.grad, 1e-12, 1e-12)
    assert not fx.grad.cpu().numpy()[:, 0].any()


def test_ctc_loss_module_errors_and_no_double_backward():
    lp = flambeau.randn(5, 2, 4).log_softmax(2)
    ctc = nn.CTCLoss(blank=0)
    with pytest.raises(RuntimeError, match="ctc_loss: targets must be class indices in 0..3 "
                                           r"other than blank \(0\)"):
        ctc(lp, flambeau.tensor([[1, 0], [2, 3]]), [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: input_lengths must be in 1..5"):
        ctc(lp, flambeau.tensor([[1, 2], [2, 3]]), [6, 5], [2, 2])
    with pytest.raises(RuntimeError, match="target_lengths .* exceed the padded targets"):
        ctc(lp, flambeau.tensor([[1, 2], [2, 3]]), [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match="concatenated targets hold 3 labels"):
        ctc(lp, flambeau.tensor([1, 2, 3]), [5, 5], [2, 2])
    x = flambeau.randn(5, 2, 4, requires_grad=True)
    loss = ctc(x.log_softmax(2), flambeau.tensor([[1, 2], [2, 3]]), [5, 4], [2, 1])
    (g,) = flambeau.autograd.grad(loss, [x], create_graph=True)
    with pytest.raises(RuntimeError, match="ctc_loss: double backward is not supported"):
        g.sum().backward()


def test_ctc_loss_gradcheck_through_log_softmax():
    # PyTorch's CTC gradient is the logits' gradient under log_softmax: check it there
    x = _t(np.random.default_rng(6).standard_normal((6, 3, 4))).requires_grad_()
    targets = _t(np.array([[1, 1, 2], [3, 0, 0], [2, 3, 1]]))

    def fn(x):
        return F.ctc_loss(x.log_softmax(2), targets, [6, 4, 5], [3, 1, 3], reduction="none")

    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4)])
def test_every_target_ignored_gives_a_nan_loss_and_zero_gradients(loss, weighted, shape):
    """As torch: the mean over no target is 0 / 0, but no target sends a gradient."""
    x = flambeau.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    target = flambeau.full((shape[0], *shape[2:]), -100, dtype=flambeau.int64)
    weight = flambeau.tensor([1.0, 2.0, 3.0], dtype=x.dtype) if weighted else None
    inputs = F.log_softmax(x, 1) if loss == "nll_loss" else x
    out = getattr(F, loss)(inputs, target, weight=weight)
    out.backward()
    assert np.isnan(out.item())
    assert x.grad.abs().sum().item() == 0.0
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.detach().cpu().numpy(), requires_grad=True)
    tinputs = torch.log_softmax(tx, 1) if loss == "nll_loss" else tx
    tweight = None if weight is None else torch.tensor(weight.cpu().numpy())
    getattr(torch.nn.functional, loss)(tinputs, torch.full(tuple(target.shape), -100),
                                       weight=tweight).backward()
    assert tx.grad.abs().sum().item() == 0.0


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 5), (2, 4, 5, 6)])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll_of_class_indices_have_torch_s_node(shape, weighted):
    names = []
    for lib in (flambeau, pytest.importorskip("torch")):
        x = lib.zeros(shape, requires_grad=True)
        target = lib.zeros((shape[0], *shape[2:]), dtype=lib.int64)
        weight = lib.ones(4) if weighted else None
        names.append(lib.nn.functional.cross_entropy(x, target, weight=weight).grad_fn.name())
        names.append(lib.nn.functional.nll_loss(x, target, weight=weight).grad_fn.name())
    half = len(names) // 2
    assert names[:half] == names[half:]
    assert names[0] == ("NllLossBackward0" if len(shape) == 2 else "NllLoss2DBackward0")


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_or_nd_nll_loss_node_gradients(shape, reduction):
    """The one-node path of nll_loss (class weights, or inputs of 3 or more dims)."""
    x = _t(RNG.standard_normal(shape)).requires_grad_()
    t_np = np.random.default_rng(5).integers(0, 3, (shape[0], *shape[2:]))
    t_np.reshape(-1)[0] = -100
    w = _t(np.array([0.5, 1.0, 2.0]))
    fn = lambda a: F.nll_loss(a, _t(t_np), weight=w, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.detach().cpu().numpy(), requires_grad=True)
    to = torch.nn.functional.nll_loss(tx, torch.tensor(t_np), weight=torch.tensor(
        [0.5, 1.0, 2.0], dtype=torch.float64), reduction=reduction)
    fo = fn(x)
    assert_close(fo, to, 1e-12, 1e-12)
    (fo * fo).sum().backward()
    (to * to).sum().backward()
    assert_close(x.grad, tx.grad, 1e-12, 1e-12)


def test_mse_loss_of_nothing_is_nan_and_its_node_is_torchs():
    x = flambeau.zeros(0, requires_grad=True)
    loss = F.mse_loss(x, flambeau.zeros(0))
    assert loss.isnan().item() and loss.grad_fn.name() == "MseLossBackward0"
    loss.backward()
    assert tuple(x.grad.shape) == (0,)
    assert F.mse_loss(x, flambeau.zeros(0), reduction="sum").item() == 0.0

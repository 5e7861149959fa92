"""linear_cross_entropy, LinearCrossEntropyLoss and LinearCrossEntropyOptions: parity with
torch (reference and chunked paths), the chunking itself, gradcheck, errors; NLLLoss2d."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck
from flambeau.nn import LinearCrossEntropyOptions
from flambeau.testing._harness import torch_or_none

torch = torch_or_none()
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

RNG = np.random.default_rng(0)
N, D, C = 9, 4, 7
X, W, B = RNG.standard_normal((N, D)), RNG.standard_normal((C, D)), RNG.standard_normal(C)
CLASS_W = RNG.random(C) + 0.1
TARGET = np.array([0, 1, -100, 6, 2, 2, -100, 3, 5])


def _array(t):
    return np.asarray(t.detach().cpu().tolist() if t.ndim else t.item())


def _run(lib, x, w, target, kw, grad_out_seed=1):
    """Call linear_cross_entropy of ``lib`` (flambeau or torch) on float64 copies of ``x``,
    ``w`` and a bias from ``kw``; backward a fixed cotangent; return value and gradients."""
    fn = lib.nn.functional.linear_cross_entropy
    xt = lib.tensor(x, requires_grad=True)
    wt = lib.tensor(w, requires_grad=True)
    kw = dict(kw)
    leaves = [xt, wt]
    if "linear_bias" in kw:
        kw["linear_bias"] = lib.tensor(kw["linear_bias"], requires_grad=True)
        leaves.append(kw["linear_bias"])
    if "weight" in kw:
        kw["weight"] = lib.tensor(kw["weight"])
    options = kw.pop("options", None)
    if options is not None:
        kw["options"] = (lib.nn.LinearCrossEntropyOptions(**options))
    tt = lib.tensor(target)
    out = fn(xt, wt, tt, **kw)
    cot = np.random.default_rng(grad_out_seed).standard_normal(tuple(out.shape)) + 2.0
    out.backward(lib.tensor(cot))
    return [_array(out)] + [_array(t.grad) for t in leaves]


def _compare(kw, x=X, w=W, target=TARGET, atol=1e-10):
    expected = _run(torch, x, w, target, kw)
    got = _run(flambeau, x, w, target, kw)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=atol)


# ------------------------------------------------------------------ the reference path


PROBS = np.random.default_rng(1).dirichlet(np.ones(C), N)
KDIM_W = RNG.standard_normal((C, 2, 3, D))
KDIM_T = np.random.default_rng(2).integers(0, C, (N, 2, 3))
KDIM_P = np.random.default_rng(3).dirichlet(np.ones(C), (N, 2, 3)).transpose(0, 3, 1, 2)


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", [
    {},
    {"linear_bias": B},
    {"weight": CLASS_W, "linear_bias": B},
    {"label_smoothing": 0.2, "weight": CLASS_W},
    {"ignore_index": 2, "target": np.where(TARGET < 0, 2, TARGET)},
    {"target": PROBS},
    {"target": PROBS, "weight": CLASS_W, "label_smoothing": 0.1},
    {"w": KDIM_W, "target": KDIM_T, "linear_bias": B[:, None, None] * np.ones((C, 2, 3))},
    {"w": KDIM_W, "target": KDIM_P, "weight": CLASS_W},
    {"x": X[0], "target": np.array(3)},
    {"x": X[0], "target": PROBS[0], "linear_bias": B},
], ids=["plain", "bias", "class-weights", "smoothing", "ignore-index", "probabilities",
        "probabilities-smoothed", "k-dim", "k-dim-probabilities", "unbatched",
        "unbatched-probabilities"])
def test_reference_path_matches_torch(case, reduction):
    case = dict(case)
    arrays = {k: case.pop(k) for k in ("x", "w", "target") if k in case}
    _compare({**case, "reduction": reduction}, **arrays)


def test_reference_path_is_linear_then_cross_entropy():
    x, w, b = (flambeau.tensor(a) for a in (X, W, B))
    t = flambeau.tensor(np.where(TARGET < 0, 1, TARGET))
    got = F.linear_cross_entropy(x, w, t, linear_bias=b, label_smoothing=0.3, reduction="none")
    expected = F.cross_entropy(F.linear(x, w, b), t, label_smoothing=0.3, reduction="none")
    assert flambeau.equal(got, expected)


def test_reference_gradcheck():
    x = flambeau.tensor(X[:4], requires_grad=True)
    w = flambeau.tensor(KDIM_W[:, :1], requires_grad=True)
    b = flambeau.tensor(RNG.standard_normal((C, 1, 3)), requires_grad=True)
    t = flambeau.tensor(KDIM_T[:4, :1])
    assert gradcheck(lambda x, w, b: F.linear_cross_entropy(
        x, w, t, linear_bias=b, label_smoothing=0.1, weight=flambeau.tensor(CLASS_W)),
        (x, w, b))


# ------------------------------------------------------------------ the chunked path


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("chunk", [None, 1, 2, 4, 100])
@pytest.mark.parametrize("extra", [{}, {"linear_bias": B}, {"weight": CLASS_W},
                                   {"linear_bias": B, "weight": CLASS_W, "ignore_index": 2,
                                    "target": np.where(TARGET < 0, 2, TARGET)}],
                         ids=["plain", "bias", "class-weights", "all"])
def test_chunked_matches_torch(reduction, chunk, extra):
    extra = dict(extra)
    target = extra.pop("target", TARGET)
    options = {"batch_chunk_size": chunk} if chunk else {}
    _compare({**extra, "reduction": reduction, "options": options}, target=target)


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_chunked_unbatched_matches_torch(reduction):
    _compare({"reduction": reduction, "linear_bias": B, "options": {}}, x=X[0],
             target=np.array(4))


@needs_torch
@pytest.mark.parity
def test_chunked_every_row_ignored_gives_nan_and_zero_gradients():
    # the loss of torch's reference path (0 / 0), and its zero gradients
    target = np.full(N, -100)
    torch_ref = _run(torch, X, W, target, {})
    got = _run(flambeau, X, W, target, {"options": {"batch_chunk_size": 2}})
    assert np.isnan(got[0]) and np.isnan(torch_ref[0])
    for g, e in zip(got[1:], torch_ref[1:]):
        np.testing.assert_array_equal(g, e)
        assert not g.any()


def _logit_rows(monkeypatch, call):
    """Run ``call()`` recording every matrix product's result; return the largest number of
    rows of a product with C columns (a chunk of logits or of their gradient)."""
    backend = flambeau.tensor(X)._device._backend
    real = backend.matmul
    rows = [0]

    def recording(a, b):
        out = real(a, b)
        if out.ndim == 2 and out.shape[1] == C:
            rows[0] = max(rows[0], out.shape[0])
        return out

    monkeypatch.setattr(backend, "matmul", recording)
    call()
    return rows[0]


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_chunked_never_makes_all_the_logits(monkeypatch, reduction):
    x = flambeau.tensor(X, requires_grad=True)
    w = flambeau.tensor(W, requires_grad=True)
    t = flambeau.tensor(TARGET)

    def step(options):
        out = F.linear_cross_entropy(x, w, t, reduction=reduction, options=options)
        out.sum().backward()

    assert _logit_rows(monkeypatch, lambda: step(None)) == N  # the reference path
    assert _logit_rows(monkeypatch,
                       lambda: step(LinearCrossEntropyOptions(batch_chunk_size=2))) == 2
    # the default heuristic: ceil(9 / ceil(7 / 4)) = 5 rows -> 8, halved -> 4
    assert _logit_rows(monkeypatch, lambda: step(LinearCrossEntropyOptions())) == 4


def test_chunked_gradcheck():
    x = flambeau.tensor(X[:5], requires_grad=True)
    w = flambeau.tensor(W, requires_grad=True)
    b = flambeau.tensor(B, requires_grad=True)
    t = flambeau.tensor(TARGET[:5])
    weight = flambeau.tensor(CLASS_W)
    for reduction in ("mean", "sum", "none"):
        options = LinearCrossEntropyOptions(batch_chunk_size=2, allow_retain_graph=True)
        assert gradcheck(lambda x, w, b: F.linear_cross_entropy(
            x, w, t, linear_bias=b, weight=weight, reduction=reduction, options=options),
            (x, w, b))


def test_chunked_second_backward():
    x = flambeau.tensor(X, requires_grad=True)
    w = flambeau.tensor(W)
    t = flambeau.tensor(TARGET)
    out = F.linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions(batch_chunk_size=3))
    out.backward(retain_graph=True)
    first = x.grad.clone()
    with pytest.raises(RuntimeError, match="linear_cross_entropy chunked backward called twice"):
        out.backward()
    # allow_retain_graph keeps the gradients; 'none' recomputes them
    for options, reduction in ((LinearCrossEntropyOptions(allow_retain_graph=True), "mean"),
                               (LinearCrossEntropyOptions(), "none")):
        x.grad = None
        out = F.linear_cross_entropy(x, w, t, reduction=reduction, options=options)
        scale = 1.0 if reduction == "mean" else 1.0 / 7  # the mean over the 7 kept rows
        (out.sum() * scale).backward(retain_graph=True)
        (out.sum() * scale).backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * first.cpu().numpy(), rtol=1e-12)


def test_chunked_without_grad_mode_and_create_graph():
    x = flambeau.tensor(X, requires_grad=True)
    w, t = flambeau.tensor(W), flambeau.tensor(TARGET)
    options = LinearCrossEntropyOptions(batch_chunk_size=2)
    with flambeau.no_grad():
        out = F.linear_cross_entropy(x, w, t, options=options)
    assert not out.requires_grad
    assert out.item() == pytest.approx(F.linear_cross_entropy(x, w, t).item(), rel=1e-12)
    # higher-order gradients are not supported: the gradient is a constant
    out = F.linear_cross_entropy(x, w, t, options=options)
    (g,) = flambeau.autograd.grad(out, x, create_graph=True)
    assert not g.requires_grad
    np.testing.assert_allclose(g.cpu().numpy(), flambeau.autograd.grad(
        F.linear_cross_entropy(x, w, t), x)[0].cpu().numpy(), rtol=1e-10)


@pytest.mark.parametrize("dtype", [flambeau.float16, flambeau.bfloat16])
def test_chunked_half_precision_accumulates_in_float32(dtype):
    x = flambeau.tensor(X, dtype=dtype, requires_grad=True)
    w = flambeau.tensor(W, dtype=dtype, requires_grad=True)
    t = flambeau.tensor(TARGET)
    out = F.linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions(batch_chunk_size=4))
    out.backward()
    assert out.dtype == dtype and x.grad.dtype == dtype and w.grad.dtype == dtype
    # the same computed in float32 from the same (rounded) values
    x32 = x.detach().float().requires_grad_()
    w32 = w.detach().float().requires_grad_()
    ref = F.linear_cross_entropy(x32, w32, t)
    ref.backward()
    tol = 1e-2 if dtype == flambeau.bfloat16 else 2e-3
    np.testing.assert_allclose(out.float().item(), ref.item(), rtol=tol)
    np.testing.assert_allclose(x.grad.float().cpu().numpy(), x32.grad.cpu().numpy(), atol=tol)
    np.testing.assert_allclose(w.grad.float().cpu().numpy(), w32.grad.cpu().numpy(), atol=tol)


@pytest.mark.parametrize("case", [
    {"label_smoothing": 0.1},
    {"target": PROBS},
    {"target": TARGET.astype(np.int32)},
    {"w": KDIM_W, "target": KDIM_T},
])
def test_unsupported_options_warn_and_use_the_reference(case):
    case = dict(case)
    w = flambeau.tensor(case.pop("w", W))
    target = case.pop("target", np.where(TARGET < 0, 0, TARGET))
    x, t = flambeau.tensor(X), flambeau.tensor(target)
    expected = F.linear_cross_entropy(x, w, t, **case)
    with pytest.warns(UserWarning, match=r"linear_cross_entropy: ``options`` ignored; chunked "
                                         r"path needs reduction in"):
        got = F.linear_cross_entropy(x, w, t, options=LinearCrossEntropyOptions(), **case)
    assert flambeau.equal(got, expected)


# ------------------------------------------------------------------ options


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("kw, rows, features, classes", [
    ({}, 100, 8, 50), ({}, 5, 8, 4), ({"chunking_method": "aspect_ratio"}, 100, 8, 50),
    ({"chunking_method": "aspect_ratio:4"}, 1000, 16, 3000), ({"batch_chunk_size": 7}, 30, 4, 9),
    ({"batch_chunk_size": 70}, 30, 4, 9), ({"chunking_method": None}, 30, 4, 9),
])
@pytest.mark.parametrize("half", [False, True])
def test_chunk_sizes_as_torch(kw, rows, features, classes, half):
    fd, td = (flambeau.float16, torch.float16) if half else (flambeau.float32, torch.float32)
    size, acc = LinearCrossEntropyOptions(**kw)._resolve(rows, features, classes, fd,
                                                         flambeau.device("cpu"))
    expected = torch.nn.LinearCrossEntropyOptions(**kw)._adjust(rows, features, classes, td,
                                                                torch.device("cpu"))
    assert size == expected.batch_chunk_size
    assert acc == flambeau.float32 and expected.acc_dtype == torch.float32


def test_options_are_a_frozen_dataclass():
    options = LinearCrossEntropyOptions(batch_chunk_size=4)
    assert options == LinearCrossEntropyOptions(batch_chunk_size=4)
    assert hash(options) == hash(LinearCrossEntropyOptions(batch_chunk_size=4))
    assert repr(options) == (
        "LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=4, "
        "chunking_method='auto', acc_policy='auto', acc_dtype=None)")
    with pytest.raises(AttributeError):
        options.batch_chunk_size = 2


@pytest.mark.parametrize("kw, message", [
    ({"acc_policy": "fast"}, "invalid acc_policy: 'fast'"),
    ({"chunking_method": "aspect_ratio:0"}, "invalid chunking_method: 'aspect_ratio:0'"),
    ({"chunking_method": "rows"}, "invalid chunking_method: 'rows'"),
    ({"batch_chunk_size": 0}, "batch_chunk_size must be positive int or None, got 0"),
    ({"batch_chunk_size": 2.0}, "batch_chunk_size must be positive int or None, got 2.0"),
    ({"acc_dtype": flambeau.int32}, r"acc_dtype must be one of \{None, flambeau.float16"),
])
def test_options_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        LinearCrossEntropyOptions(**kw)


def test_options_errors_at_the_call():
    x, w, t = flambeau.tensor(X), flambeau.tensor(W), flambeau.tensor(TARGET)
    options = LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")
    with pytest.raises(ValueError, match=r"batch_chunk_size \(=3\) and chunking_method "
                                         r"\('aspect_ratio'\) give different chunk sizes "
                                         r"\(3 vs 8\); pass only one."):
        F.linear_cross_entropy(x, w, t, options=options)
    with pytest.raises(RuntimeError, match="linear_cross_entropy supports float32 acc_dtype "
                                           "with float16/bfloat16 inputs, but got "
                                           "flambeau.float32 acc_dtype and flambeau.float64"):
        F.linear_cross_entropy(x, w, t,
                               options=LinearCrossEntropyOptions(acc_dtype=flambeau.float32))


# ------------------------------------------------------------------ errors


def _errors():
    x, w, t = flambeau.tensor(X), flambeau.tensor(W), flambeau.tensor(TARGET)
    opt = LinearCrossEntropyOptions()
    lce = F.linear_cross_entropy
    return [
        (lambda: lce(X, w, t), TypeError, "linear_cross_entropy: input must be a Tensor, got "
                                          "ndarray"),
        (lambda: lce(x[None], w, t), RuntimeError,
         "expected input with dimensionality 1 or 2, got 3"),
        (lambda: lce(x, w[0], t), RuntimeError,
         "expected linear_weight with dimensionality at least 2, got 1"),
        (lambda: lce(x, w[:, :2], t), RuntimeError,
         r"expected equal input and linear_weight last dimensions \(in_features\), got 4 and 2, "
         "respectively"),
        (lambda: lce(x, w, t, linear_bias=flambeau.ones(3, dtype=x.dtype)), RuntimeError,
         r"expected linear_bias shape \(7,\), got \(3,\)"),
        (lambda: lce(x[0], w.reshape(C, 1, D), t[0]), RuntimeError,
         r"K-dimensional loss defined by linear_weight shape \(7, 1, 4\) requires batched "
         r"input, \(N, 4\), got unbatched input with shape \(4,\)"),
        (lambda: lce(x, w, flambeau.tensor(PROBS), ignore_index=1), RuntimeError,
         "ignore_index cannot be specified when target contains probabilities"),
        (lambda: lce(x, w, t[:3], options=opt), ValueError,
         r"linear_cross_entropy: Expected input batch_size \(9\) to match target batch_size "
         r"\(3\)"),
        (lambda: lce(x, w, t[None], options=opt), RuntimeError,
         r"linear_cross_entropy: expected target of shape \(9,\), got \(1, 9\)"),
        (lambda: lce(x, w, t + 200, options=opt), IndexError,
         "linear_cross_entropy: Target 200 is out of bounds for 7 classes"),
        (lambda: lce(x, w, t, ignore_index=2, options=opt), IndexError,
         "Target -100 is out of bounds for 7 classes"),
        (lambda: lce(x, w.float(), t, options=opt), RuntimeError,
         "linear_cross_entropy: input and linear_weight must have the same dtype, got "
         "flambeau.float64 and flambeau.float32"),
        (lambda: lce(x.long(), w.long(), t, options=opt), RuntimeError,
         "linear_cross_entropy: expected a floating point input, got flambeau.int64"),
        (lambda: lce(x, w, t, weight=flambeau.ones(3), options=opt), RuntimeError,
         "weight tensor should be defined either for all 7 classes"),
        (lambda: lce(x, w, t, reduction="avg", options=opt), ValueError,
         "avg is not a valid value for reduction"),
        (lambda: lce(x.to(flambeau.complex128), w.to(flambeau.complex128), t, options=opt),
         NotImplementedError, "linear_cross_entropy: not implemented for complex tensors"),
    ]


@pytest.mark.parametrize("k", range(len(_errors())))
def test_errors(k):
    call, error, message = _errors()[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the reduction case falls back first
        with pytest.raises(error, match=message):
            call()


def test_device_mismatch():
    other = "testdev" if flambeau.get_default_device().type == "cpu" else "cpu"
    try:
        w = flambeau.tensor(W, device=other)
    except Exception:  # noqa: BLE001 - no second device type installed
        pytest.skip("needs a second device type")
    with pytest.raises(RuntimeError, match="linear_cross_entropy: expected all tensors to be "
                                           "on the same device"):
        F.linear_cross_entropy(flambeau.tensor(X), w, flambeau.tensor(TARGET),
                               options=LinearCrossEntropyOptions())


# ------------------------------------------------------------------ the module


@needs_torch
@pytest.mark.parity
@pytest.mark.parametrize("kw", [
    {},
    {"bias": True, "weight": CLASS_W, "reduction": "sum"},
    {"out_features": (2, 3), "bias": True, "label_smoothing": 0.1},
    {"bias": True, "options": {"batch_chunk_size": 4}, "reduction": "none"},
])
def test_module_matches_torch(kw):
    def build(lib):
        args = dict(kw)
        if "weight" in args:
            args["weight"] = lib.tensor(args["weight"])
        if "options" in args:
            args["options"] = lib.nn.LinearCrossEntropyOptions(**args["options"])
        return lib.nn.LinearCrossEntropyLoss(D, C, dtype=lib.float64, **args)

    tm, fm = build(torch), build(flambeau)
    assert list(fm.state_dict()) == list(tm.state_dict())
    fm.load_state_dict({k: flambeau.tensor(v.detach().numpy())
                        for k, v in tm.state_dict().items()})
    target = KDIM_T if "out_features" in kw else np.where(TARGET < 0, 0, TARGET)
    outs = []
    for lib, module in ((torch, tm), (flambeau, fm)):
        x = lib.tensor(X, requires_grad=True)
        out = module(x, lib.tensor(target))
        out.sum().backward()
        outs.append([_array(out), _array(x.grad)]
                    + [_array(p.grad) for p in module.parameters()])
    for t_arr, f_arr in zip(*outs):
        np.testing.assert_allclose(f_arr, t_arr, rtol=1e-9, atol=1e-12)


@needs_torch
@pytest.mark.parity
def test_module_repr_as_torch():
    for lib in (torch, flambeau):
        text = repr(lib.nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True))
        assert text == (
            "LinearCrossEntropyLoss(\n  in_features=3, num_classes=4, out_features=(2,), "
            "bias=True, reduction=mean, ignore_index=None, label_smoothing=0.0, options=None\n"
            "  (linear): Linear(in_features=3, out_features=8, bias=True)\n)"), lib


def test_module_state_and_errors():
    loss = nn.LinearCrossEntropyLoss(5, 3, out_features=(2,), bias=True,
                                     weight=flambeau.ones(3))
    assert list(loss.state_dict()) == ["weight", "linear.weight", "linear.bias"]
    assert loss.linear.weight.shape == (6, 5) and loss.linear.bias.shape == (6,)
    with pytest.raises(RuntimeError, match=r"LinearCrossEntropyLoss: expected weight shape to be "
                                           r"\(3,\), got \(4,\)"):
        nn.LinearCrossEntropyLoss(5, 3, weight=flambeau.ones(4))
    with pytest.raises(RuntimeError, match=r"expected label_smoothing to be in range \[0, 1\], "
                                           "got 1.5"):
        nn.LinearCrossEntropyLoss(5, 3, label_smoothing=1.5)


# ------------------------------------------------------------------ NLLLoss2d


@needs_torch
@pytest.mark.parity
def test_nllloss2d_is_nllloss_with_torch_warning():
    with pytest.warns(FutureWarning, match=r"`NLLLoss2d` has been deprecated. Please use "
                                           r"`NLLLoss` instead as a drop-in replacement"):
        loss = nn.NLLLoss2d(weight=flambeau.tensor(CLASS_W[:3]), ignore_index=1)
    with pytest.warns(FutureWarning):
        tloss = torch.nn.NLLLoss2d(weight=torch.tensor(CLASS_W[:3]), ignore_index=1)
    assert isinstance(loss, nn.NLLLoss) and loss.ignore_index == 1
    assert loss.__deprecated__.startswith("`NLLLoss2d` has been deprecated")
    logp = np.ascontiguousarray(  # torch's 2-D NLL backward wants contiguous inputs
        np.log(np.random.default_rng(4).dirichlet(np.ones(3), (2, 4, 5))).transpose(0, 3, 1, 2))
    target = np.random.default_rng(5).integers(0, 3, (2, 4, 5))
    fx, tx = flambeau.tensor(logp, requires_grad=True), torch.tensor(logp, requires_grad=True)
    fo, to = loss(fx, flambeau.tensor(target)), tloss(tx, torch.tensor(target))
    fo.backward()
    to.backward()
    np.testing.assert_allclose(fo.item(), to.item(), rtol=1e-12)
    np.testing.assert_allclose(_array(fx.grad), _array(tx.grad), rtol=1e-12, atol=1e-15)
    with pytest.warns(FutureWarning):
        assert nn.NLLLoss2d(size_average=False).reduction == "sum"

"""flambeau.utils.checkpoint: gradients equal to those without checkpointing, and its errors."""

import warnings

import pytest

import flambeau
from flambeau.autograd.graph import saved_tensors_hooks
from flambeau.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

MODES = [False, True]


def _params(seed=0):
    flambeau.manual_seed(seed)
    w1 = flambeau.randn(4, 8, dtype=flambeau.float64).requires_grad_()
    b1 = flambeau.randn(8, dtype=flambeau.float64).requires_grad_()
    w2 = flambeau.randn(8, 3, dtype=flambeau.float64).requires_grad_()
    return [w1, b1, w2]


def _dropout(x, p=0.5):
    keep = (flambeau.rand(*x.shape, dtype=x.dtype) >= p).to(x.dtype)
    return x * keep / (1 - p)


def _block(params, dropout):
    w1, b1, w2 = params

    def block(x):
        h = (x @ w1 + b1).tanh()
        if dropout:
            h = _dropout(h)
        return (h @ w2).sigmoid()

    return block


def _grads(params, x, use, dropout, reentrant, seed=1):
    for p in params:
        p.grad = None
    if x.requires_grad:
        x.grad = None
    flambeau.manual_seed(seed)
    block = _block(params, dropout)
    out = checkpoint(block, x, use_reentrant=reentrant) if use else block(x)
    (out * out).sum().backward()
    return [p.grad.clone() for p in params] + ([x.grad.clone()] if x.requires_grad else [])


def _assert_same(a, b):
    assert len(a) == len(b)
    for g, h in zip(a, b):
        assert flambeau.allclose(g, h, rtol=0, atol=1e-12), (g, h)


@pytest.mark.parametrize("reentrant", MODES)
@pytest.mark.parametrize("dropout", [False, True])
def test_mlp_gradients_equal_without_checkpoint(reentrant, dropout):
    params = _params()
    flambeau.manual_seed(5)
    x = flambeau.randn(5, 4, dtype=flambeau.float64, requires_grad=True)
    plain = _grads(params, x, False, dropout, reentrant)
    ckpt = _grads(params, x, True, dropout, reentrant)
    _assert_same(plain, ckpt)


@pytest.mark.parametrize("reentrant", MODES)
def test_dropout_mask_is_replayed_and_rng_advances_once(reentrant):
    params = _params()
    x = flambeau.randn(5, 4, dtype=flambeau.float64, requires_grad=True)
    flambeau.manual_seed(3)
    out = checkpoint(_block(params, True), x, use_reentrant=reentrant)
    after_forward = flambeau.rand(1).item()
    flambeau.manual_seed(3)
    out = checkpoint(_block(params, True), x, use_reentrant=reentrant)
    out.sum().backward()  # the recomputation must not consume the caller's RNG
    assert flambeau.rand(1).item() == after_forward


def test_without_preserved_rng_state_the_mask_differs():
    params = _params()
    x = flambeau.randn(64, 4, dtype=flambeau.float64, requires_grad=True)
    plain = _grads(params, x, False, True, False)
    for p in params:
        p.grad = None
    x.grad = None
    flambeau.manual_seed(1)
    out = checkpoint(_block(params, True), x, use_reentrant=False, preserve_rng_state=False,
                     determinism_check="none")
    (out * out).sum().backward()
    assert not flambeau.allclose(params[0].grad, plain[0])


@pytest.mark.parametrize("reentrant", MODES)
def test_nested_checkpoints(reentrant):
    params = _params()
    x = flambeau.randn(3, 4, dtype=flambeau.float64, requires_grad=True)
    w1, b1, w2 = params

    def inner(h):
        return (h @ w1 + b1).tanh()

    def outer(h):
        return (checkpoint(inner, h, use_reentrant=reentrant) @ w2).exp()

    def run(use):
        for t in (*params, x):
            t.grad = None
        out = checkpoint(outer, x, use_reentrant=reentrant) if use else outer(x)
        out.sum().backward()
        return [t.grad.clone() for t in (*params, x)]

    plain = [g for g in run(False)]
    _assert_same(plain, run(True))


def test_non_reentrant_saves_placeholders_and_recomputes_once():
    params = _params()
    x = flambeau.randn(3, 4, dtype=flambeau.float64, requires_grad=True)
    calls = {"n": 0}
    block = _block(params, False)

    def counted(t):
        calls["n"] += 1
        return block(t)

    out = checkpoint(counted, x, use_reentrant=False)
    assert calls["n"] == 1
    out.sum().backward()
    assert calls["n"] == 2  # one recomputation for all the saved tensors


def test_non_reentrant_works_with_autograd_grad_kwargs_and_double_backward():
    x = flambeau.tensor([0.5, 1.5], dtype=flambeau.float64, requires_grad=True)

    def f(t, *, k):
        return (t * k).sin().sum()

    y = checkpoint(f, x, k=2.0, use_reentrant=False)
    (g,) = flambeau.autograd.grad(y, x, create_graph=True)
    assert flambeau.allclose(g, 2 * (2 * x.detach()).cos())
    (gg,) = flambeau.autograd.grad(g.sum(), x)
    assert flambeau.allclose(gg, -4 * (2 * x.detach()).sin())


def test_reentrant_refuses_autograd_grad():
    x = flambeau.ones(2, requires_grad=True)
    y = checkpoint(lambda t: t.exp(), x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="When use_reentrant=True, flambeau.utils.checkpoint "
                                           "is incompatible with .grad\\(\\)"):
        flambeau.autograd.grad(y.sum(), x)


def test_reentrant_warns_when_no_input_requires_grad():
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(lambda t: t * 2, flambeau.ones(2), use_reentrant=True)
    assert not y.requires_grad


def test_use_reentrant_must_be_passed_explicitly_warning():
    x = flambeau.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed "
                                         "explicitly"):
        checkpoint(lambda t: t * 2, x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]  # None means True, as in torch 2.13
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([lambda t: t * 2, lambda t: t + 1], 2, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lambda t: t * 2, x, use_reentrant=False)


def test_argument_errors_match_torch():
    x = flambeau.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint(lambda t: t, x, use_reentrant=True, foo=1)
    with pytest.raises(ValueError, match="determinism_check should be one of \\['default', "
                                         "'none'\\], but got bad"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="bad")
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported "
                                         "when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, use_reentrant=False, foo=1)
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as t_checkpoint

    tx = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        t_checkpoint(lambda t: t, tx, use_reentrant=True, foo=1)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        t_checkpoint(lambda t: t, tx, use_reentrant=False, determinism_check="bad")


def test_recomputation_with_other_metadata_raises_checkpoint_error():
    x = flambeau.ones(2, 3, requires_grad=True)
    state = {"first": True}

    def f(t):
        if state.pop("first", False):
            return (t * t).sum()
        return (t[:1] * t[:1]).sum()

    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="Recomputed values for the following tensors have "
                                              "different metadata"):
        y.backward()


def test_recomputation_saving_fewer_tensors_raises():
    x = flambeau.ones(2, requires_grad=True)
    state = {"first": True}

    def f(t):
        if state.pop("first", False):
            return (t.exp() * t).sum()
        return (t * 1.0).sum()

    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="fewer tensors saved for backward"):
        y.backward()


def test_recomputation_saving_more_tensors_without_early_stop_raises():
    x = flambeau.ones(2, requires_grad=True)
    state = {"first": True}

    def f(t):
        if state.pop("first", False):
            return (t * t).sum()
        return (t * t * t.exp()).sum()

    y = checkpoint(f, x, use_reentrant=False, early_stop=False)
    with pytest.raises(CheckpointError, match="trying to save more tensors during "
                                              "recomputation than during the original forward"):
        y.backward()


def test_context_fn_wraps_forward_and_recomputation():
    import contextlib

    log = []

    @contextlib.contextmanager
    def tag(name):
        log.append(name)
        yield

    x = flambeau.ones(2, requires_grad=True)
    y = checkpoint(lambda t: (t * t).sum(), x, use_reentrant=False,
                   context_fn=lambda: (tag("forward"), tag("recompute")))
    y.backward()
    assert log == ["forward", "recompute"]


def test_checkpoint_inside_user_saved_tensor_hooks():
    calls = {"pack": 0}

    def pack(t):
        calls["pack"] += 1
        return t

    x = flambeau.ones(2, requires_grad=True)
    with saved_tensors_hooks(pack, lambda t: t):
        y = checkpoint(lambda t: (t * t).sum(), x, use_reentrant=False)
        z = (y * y)
    z.backward()
    assert calls["pack"] == 2  # only y * y: the block's tensors are the checkpoint's
    assert x.grad.tolist() == [8.0, 8.0]


@pytest.mark.parametrize("reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_plain(reentrant, segments):
    params = _params()
    w1, b1, w2 = params
    fns = [lambda h: h @ w1, lambda h: h + b1, lambda h: h.tanh(), lambda h: h @ w2,
           lambda h: h.exp()]
    x = flambeau.randn(3, 4, dtype=flambeau.float64, requires_grad=True)

    def run(use):
        for t in (*params, x):
            t.grad = None
        if use:
            out = checkpoint_sequential(fns, segments, x, use_reentrant=reentrant)
        else:
            out = x
            for f in fns:
                out = f(out)
        out.sum().backward()
        return [t.grad.clone() for t in (*params, x)]

    _assert_same(run(False), run(True))


@pytest.mark.parametrize("reentrant", MODES)
def test_with_nn_modules(reentrant):
    nn = pytest.importorskip("flambeau.nn")
    flambeau.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 8),
                          nn.Tanh(), nn.Linear(8, 2)).double()
    x = flambeau.randn(6, 4, dtype=flambeau.float64, requires_grad=True)

    def run(kind):
        model.zero_grad()
        x.grad = None
        flambeau.manual_seed(7)
        if kind == "plain":
            out = model(x)
        elif kind == "checkpoint":
            out = checkpoint(model, x, use_reentrant=reentrant)
        else:
            out = checkpoint_sequential(model, 2, x, use_reentrant=reentrant)
        out.pow(2).sum().backward()
        return [p.grad.clone() for p in model.parameters()] + [x.grad.clone()]

    plain = run("plain")
    _assert_same(plain, run("checkpoint"))
    _assert_same(plain, run("sequential"))


def test_gradients_match_torch_checkpoint():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as t_checkpoint

    vals = [[0.1, -0.4, 0.7], [1.2, 0.3, -0.9]]
    x = flambeau.tensor(vals, dtype=flambeau.float64, requires_grad=True)
    tx = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    checkpoint(lambda t: (t.sin() * t.exp()).sum(), x, use_reentrant=False).backward()
    t_checkpoint(lambda t: (t.sin() * t.exp()).sum(), tx, use_reentrant=False).backward()
    assert x.grad.reshape(-1).tolist() == pytest.approx(tx.grad.reshape(-1).tolist(), abs=1e-12)

"""Optimizers with sparse COO gradients (nn.Embedding(sparse=True)) against torch: SparseAdam,
SGD and Adagrad step them, LBFGS flattens them, the others refuse them with torch's error."""

import io

import numpy as np
import pytest

import flambeau
from flambeau import optim

torch = pytest.importorskip("torch")

W0 = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
# batches of looked-up rows: duplicates, a row seen again, an empty gradient
BATCHES = ([0, 2, 2], [1, 2, 5], [], [3, 3, 0], [5])


def _sparse_grad(lib, w, rows, step):
    """The gradient of ``sum(w[rows] ** 2) * (step + 1)``, as a sparse COO tensor with one
    uncoalesced entry per looked-up row (what a sparse embedding gives)."""
    rows = np.asarray(rows, dtype=np.int64)
    values = (2 * (step + 1)) * w.detach()[lib.tensor(rows)] if rows.size else \
        lib.zeros(0, w.shape[1])
    return lib.sparse_coo_tensor(lib.tensor(rows.reshape(1, -1)), values, tuple(w.shape))


def _run(lib, name, kwargs, batches=BATCHES):
    w = lib.tensor(W0.copy(), requires_grad=True)
    opt = getattr(lib.optim, name)([w], **kwargs)
    for step, rows in enumerate(batches):
        w.grad = _sparse_grad(lib, w, rows, step)
        opt.step()
    return w, opt


def _host(t):
    if t.is_sparse:
        t = t.to_dense()
    return t.detach().cpu().numpy() if isinstance(t, flambeau.Tensor) else t.detach().numpy()


def _message(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.3, maximize=True)),
    ("SparseAdam", dict()),
    ("SparseAdam", dict(lr=0.05, betas=(0.5, 0.7), eps=1e-3, maximize=True)),
])
def test_sparse_steps_match_torch(name, kwargs):
    w, opt = _run(flambeau, name, kwargs)
    tw, topt = _run(torch, name, kwargs)
    np.testing.assert_allclose(_host(w), _host(tw), rtol=1e-6, atol=1e-6)
    state, tstate = opt.state[w], topt.state[tw]
    assert sorted(state) == sorted(tstate)
    for key, value in tstate.items():
        if isinstance(value, torch.Tensor):
            assert state[key].is_sparse == value.is_sparse, key
            np.testing.assert_allclose(_host(state[key]), _host(value), rtol=1e-6, atol=1e-6)
        else:
            assert state[key] == value and type(state[key]) is type(value), key


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.1, momentum=0.9, nesterov=True)])
def test_sgd_steps_sparse_and_dense_gradients_of_one_group_as_torch(kwargs):
    # the sparse gradients are set apart by _gradients; the dense ones take the fused path
    def run(lib):
        a, b = lib.tensor(W0.copy(), requires_grad=True), lib.tensor(W0.copy() * 2,
                                                                     requires_grad=True)
        c = lib.tensor(W0[0].copy(), requires_grad=True)
        opt = lib.optim.SGD([a, b, c], **kwargs)
        for step, rows in enumerate(BATCHES):
            b.grad = _sparse_grad(lib, b, rows, step)
            a.grad, c.grad = a.detach() * (step + 1), c.detach() - step
            opt.step()
        return a, b, c

    for ours, theirs in zip(run(flambeau), run(torch), strict=True):
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=1e-6, atol=1e-6)


def test_sparse_adam_state_dict_save_and_load_resume_as_torch():
    kwargs = dict(lr=0.05, betas=(0.8, 0.9))
    w, opt = _run(flambeau, "SparseAdam", kwargs, BATCHES[:2])
    buffer = io.BytesIO()
    flambeau.save(opt.state_dict(), buffer)
    buffer.seek(0)
    saved = flambeau.load(buffer)
    assert saved["state"][0]["step"] == 2 and isinstance(saved["state"][0]["step"], int)
    resumed_w = flambeau.tensor(_host(w), requires_grad=True)
    resumed = optim.SparseAdam([resumed_w], lr=1.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.05
    for step, rows in enumerate(BATCHES[2:], start=2):
        resumed_w.grad = _sparse_grad(flambeau, resumed_w, rows, step)
        resumed.step()
    tw, _ = _run(torch, "SparseAdam", kwargs)
    np.testing.assert_allclose(_host(resumed_w), _host(tw), rtol=1e-6, atol=1e-6)
    assert resumed.state[resumed_w]["step"] == len(BATCHES)
    # torch's state dict loads into flambeau's SparseAdam and the other way round
    tw2, topt2 = _run(torch, "SparseAdam", kwargs, BATCHES[:2])
    sd = topt2.state_dict()
    other = optim.SparseAdam([flambeau.tensor(W0.copy(), requires_grad=True)])
    other.load_state_dict({"state": {0: {"step": sd["state"][0]["step"],
                                         **{k: flambeau.tensor(v.numpy()) for k, v in
                                            sd["state"][0].items() if k != "step"}}},
                           "param_groups": sd["param_groups"]})
    np.testing.assert_allclose(_host(other.state_dict()["state"][0]["exp_avg_sq"]),
                               _host(opt.state_dict()["state"][0]["exp_avg_sq"]), rtol=1e-6)


def test_sgd_momentum_state_dict_keeps_the_sparse_buffer():
    w, opt = _run(flambeau, "SGD", dict(lr=0.1, momentum=0.9), BATCHES[:2])
    other = optim.SGD([flambeau.tensor(W0.copy(), requires_grad=True)], lr=0.1, momentum=0.9)
    buffer = io.BytesIO()
    flambeau.save(opt.state_dict(), buffer)
    buffer.seek(0)
    other.load_state_dict(flambeau.load(buffer))
    buf, loaded = opt.state[w]["momentum_buffer"], next(iter(other.state.values()))
    loaded = loaded["momentum_buffer"]
    assert loaded.is_sparse and loaded._data is not buf._data
    np.testing.assert_array_equal(_host(loaded), _host(buf))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam",
                                  "RAdam", "ASGD", "Rprop", "Adafactor", "Muon"])
def test_optimizers_without_a_sparse_path_refuse_sparse_gradients_as_torch(name):
    expected = _message(lambda: _run(torch, name, dict(lr=0.1), BATCHES[:1]))
    assert expected[0] is RuntimeError and "does not support sparse gradients" in expected[1]
    dense = flambeau.tensor(W0[:2].copy(), requires_grad=True)
    w = flambeau.tensor(W0.copy(), requires_grad=True)
    opt = getattr(optim, name)([dense, w], lr=0.1)
    dense.grad = flambeau.ones(2, 3)
    w.grad = _sparse_grad(flambeau, w, [0, 2], 0)
    assert _message(opt.step) == expected
    # refused before anything moved
    np.testing.assert_array_equal(_host(dense), W0[:2])
    np.testing.assert_array_equal(_host(w), W0)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, weight_decay=0.1)),
                                          ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                          ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
                                          ("SGD", dict(lr=0.1, fused=True)),
                                          ("Adagrad", dict(lr=0.1, fused=True))])
def test_weight_decay_or_fused_with_sparse_gradients_is_refused_as_torch(name, kwargs):
    kind, text = _message(lambda: _run(torch, name, kwargs, BATCHES[:1]))
    ours = _message(lambda: _run(flambeau, name, kwargs, BATCHES[:1]))
    assert ours[0] is kind and ours[1].startswith(text)


def test_sparse_adam_refuses_dense_gradients_sparse_and_complex_params():
    kind, text = _message(lambda: _dense_step(torch))
    assert _message(lambda: _dense_step(flambeau))[0] is kind
    assert _message(lambda: _dense_step(flambeau))[1].startswith(text)
    # nothing moved: the dense gradient is found before the sparse one is applied
    w, dense = _dense_step(flambeau, step=False)
    with pytest.raises(RuntimeError):
        optim.SparseAdam([w, dense]).step()
    np.testing.assert_array_equal(_host(w), W0)
    for lib in (torch, flambeau):
        sparse_param = lib.sparse_coo_tensor([[0]], [1.0], (3,)).requires_grad_()
        complex_param = lib.zeros(2, dtype=lib.complex64, requires_grad=True)
        dense_param = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 1\]\]: "
                                             "SparseAdam requires dense parameter tensors"):
            lib.optim.SparseAdam([dense_param, sparse_param])
        with pytest.raises(ValueError, match=r"Complex params at indices \[\[0, 0\]\]: "
                                             "SparseAdam does not support complex parameters"):
            lib.optim.SparseAdam([complex_param])
        for kwargs, msg in [(dict(lr=0.0), "Invalid learning rate: 0.0"),
                            (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
                            (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
                            (dict(betas=(0.9, -0.1)),
                             r"Invalid beta parameter at index 1: -0.1")]:
            with pytest.raises(ValueError, match=msg):
                lib.optim.SparseAdam([dense_param], **kwargs)
    assert optim.SparseAdam([dense_param]).defaults == \
        torch.optim.SparseAdam([torch.zeros(1, requires_grad=True)]).defaults


def _dense_step(lib, step=True):
    w = lib.tensor(W0.copy(), requires_grad=True)
    dense = lib.zeros(2, requires_grad=True)
    w.grad = _sparse_grad(lib, w, [1, 4], 0)
    dense.grad = lib.ones(2)
    if step:
        lib.optim.SparseAdam([w, dense]).step()
    return w, dense


@pytest.mark.parametrize("fused", [None, False])
def test_zero_grad_keeps_an_empty_sparse_gradient(fused):
    for lib in (torch, flambeau):
        w = lib.tensor(W0.copy(), requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, fused=fused)
        w.grad = _sparse_grad(lib, w, [1, 1, 3], 0)
        opt.zero_grad(set_to_none=False)
        assert w.grad.is_sparse and w.grad._nnz() == 0 and tuple(w.grad.shape) == (6, 3)
        assert (_host(w.grad) == 0).all()
        opt.zero_grad()
        assert w.grad is None


def test_lbfgs_flattens_sparse_gradients_as_torch():
    def run(lib):
        w = lib.tensor(W0.copy(), requires_grad=True)
        opt = lib.optim.LBFGS([w], lr=0.5, max_iter=5)
        rows = lib.tensor([0, 2, 2, 3])

        def closure():
            opt.zero_grad()
            loss = (w[rows] ** 2).sum()
            loss.backward()
            w.grad = _sparse_grad(lib, w, [0, 2, 2, 3], 0)
            return loss

        for _ in range(2):
            opt.step(closure)
        return _host(w)

    np.testing.assert_allclose(run(flambeau), run(torch), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- a word-embedding model


def _model(lib, nn):
    torch.manual_seed(0)
    ref = torch.nn.Linear(4, 11)
    emb = nn.Embedding(11, 4, padding_idx=0, sparse=True,
                       _weight=lib.tensor(np.random.default_rng(1).standard_normal((11, 4))
                                          .astype(np.float32)))
    head = nn.Linear(4, 11)
    with lib.no_grad():
        head.weight.copy_(lib.tensor(ref.weight.detach().numpy()))
        head.bias.copy_(lib.tensor(ref.bias.detach().numpy()))
    return emb, head


@pytest.mark.parametrize("setup", ["sparse_adam", "sgd"])
def test_word_embedding_model_trains_as_torch(setup):
    fnn = pytest.importorskip("flambeau.nn")
    rng = np.random.default_rng(2)
    # two batches seen in turn: the loss of each falls
    contexts = [rng.integers(0, 11, size=(8, 3)) for _ in range(2)] * 4
    targets = [rng.integers(1, 11, size=8) for _ in range(2)] * 4
    results = []
    for lib, nn in ((torch, torch.nn), (flambeau, fnn)):
        emb, head = _model(lib, nn)
        if setup == "sparse_adam":
            opts = [lib.optim.SparseAdam(emb.parameters(), lr=0.05),
                    lib.optim.Adam(head.parameters(), lr=0.01)]
        else:
            opts = [lib.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.5,
                                  momentum=0.9)]
        losses = []
        for ctx, tgt in zip(contexts, targets, strict=True):
            for o in opts:
                o.zero_grad()
            logits = head(emb(lib.tensor(ctx)).mean(1))
            loss = nn.functional.cross_entropy(logits, lib.tensor(tgt))
            loss.backward()
            assert emb.weight.grad.is_sparse and not emb.weight.grad.is_coalesced()
            for o in opts:
                o.step()
            losses.append(loss.item())
        results.append((losses, _host(emb.weight), _host(head.weight)))
    (tl, tw, th), (fl, fw, fh) = results
    np.testing.assert_allclose(fl, tl, rtol=1e-5)
    np.testing.assert_allclose(fw, tw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fh, th, rtol=1e-5, atol=1e-6)
    assert fl[-2] < fl[0] and fl[-1] < fl[1]
    np.testing.assert_array_equal(fw[0], np.random.default_rng(1).standard_normal((11, 4))
                                  .astype(np.float32)[0])  # the padding row never moves


def test_a_compressed_parameter_is_refused_before_any_step():
    # no optimizer has a CSR/CSC update: refused when the group is added (torch's SGD steps
    # some and fails on the others, leaving the dense ones changed)
    w = flambeau.ones(2, requires_grad=True)
    m = flambeau.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr().requires_grad_()
    for name in ("SGD", "Adam", "SparseAdam"):
        with pytest.raises(ValueError, match=r"^" + name + r" can't optimize a "
                           r"flambeau.sparse_csr tensor \(parameter 1, shape \(2, 2\)\): "
                           r"optimize its values instead"):
            getattr(optim, name)([w, m], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a flambeau.sparse_csc tensor"):
        opt.add_param_group({"params": [m.detach().to_sparse_csc().requires_grad_()]})
    assert len(opt.param_groups) == 1
    # the way that works: the values are the parameter
    v = flambeau.tensor([2.0, 3.0], requires_grad=True)
    opt = optim.SGD([v], lr=0.5)
    s = flambeau.sparse_csr_tensor([0, 1, 2], [1, 0], v, (2, 2))
    flambeau.sparse.mm(s, flambeau.ones(2, 1)).sum().backward()
    opt.step()
    np.testing.assert_allclose(v.detach().cpu().numpy(), [1.5, 2.5])

"""RNN/LSTM/GRU and cells: parity with torch (incl. packed, bidirectional, proj), gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers_b import close, load_from_torch, randn
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.nn.utils import rnn as U

RNG = np.random.default_rng(0)
KINDS = [("LSTM", "LSTM"), ("GRU", "GRU"), ("RNN", "RNN")]


def _run_parity(name, shape, hx=False, lengths=None, **kw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(**kw).double()
    fm = getattr(nn, name)(**kw).double()
    load_from_torch(fm, tm)
    x = RNG.standard_normal(shape)
    tx, fx = torch.tensor(x, requires_grad=True), flambeau.tensor(x, requires_grad=True)
    targs, fargs = [], []
    if hx:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        batch = shape[0] if kw.get("batch_first") else shape[1]
        h0 = RNG.standard_normal((layers, batch, kw.get("proj_size", 0) or kw["hidden_size"]))
        c0 = RNG.standard_normal((layers, batch, kw["hidden_size"]))
        if name == "LSTM":
            targs = [(torch.tensor(h0), torch.tensor(c0))]
            fargs = [(flambeau.tensor(h0), flambeau.tensor(c0))]
        else:
            targs, fargs = [torch.tensor(h0)], [flambeau.tensor(h0)]
    tin, fin = tx, fx
    bf = kw.get("batch_first", False)
    if lengths is not None:
        tin = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=bf,
                                                      enforce_sorted=False)
        fin = U.pack_padded_sequence(fx, lengths, batch_first=bf, enforce_sorted=False)
        close(fin.data, tin.data)
        assert fin.batch_sizes.tolist() == tin.batch_sizes.tolist()
    to, th = tm(tin, *targs)
    fo, fh = fm(fin, *fargs)
    if lengths is not None:
        close(fo.data, to.data)
        to = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=bf)[0]
        fo = U.pad_packed_sequence(fo, batch_first=bf)[0]
    close(fo, to)
    th = th if isinstance(th, tuple) else (th,)
    fh = fh if isinstance(fh, tuple) else (fh,)
    for a, b in zip(fh, th):
        close(a, b)
    ((to ** 2).sum() + sum((h * 1.5).sum() for h in th)).backward()
    ((fo ** 2).sum() + sum((h * 1.5).sum() for h in fh)).backward()
    close(fx.grad, tx.grad)
    tparams = dict(tm.named_parameters())
    for n, p in fm.named_parameters():
        close(p.grad, tparams[n].grad)


@pytest.mark.parity
@pytest.mark.parametrize("name, _", KINDS)
@pytest.mark.parametrize("case", [
    dict(shape=(5, 3, 4)),
    dict(shape=(3, 5, 4), hx=True, num_layers=2, bidirectional=True, batch_first=True),
    dict(shape=(5, 3, 4), hx=True, lengths=[5, 2, 3], num_layers=2, bidirectional=True),
    dict(shape=(3, 5, 4), lengths=[2, 5, 1], batch_first=True),
    dict(shape=(5, 4)),
    dict(shape=(5, 3, 4), bias=False),
])
def test_rnn_parity(name, _, case):
    case = dict(case)
    _run_parity(name, case.pop("shape"), case.pop("hx", False), case.pop("lengths", None),
                input_size=4, hidden_size=6, **case)


@pytest.mark.parity
def test_lstm_proj_and_relu_rnn_parity():
    _run_parity("LSTM", (5, 3, 4), hx=True, input_size=4, hidden_size=6, proj_size=3,
                bidirectional=True, num_layers=2)
    _run_parity("RNN", (5, 3, 4), input_size=4, hidden_size=6, nonlinearity="relu")


@pytest.mark.parity
@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_parity(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t, f = getattr(torch.nn, name)(4, 5).double(), getattr(nn, name)(4, 5).double()
    load_from_torch(f, t)
    x, h = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 5))
    tx, fx = torch.tensor(x, requires_grad=True), flambeau.tensor(x, requires_grad=True)
    hx_t = (torch.tensor(h), torch.tensor(h * 0.5)) if name == "LSTMCell" else torch.tensor(h)
    hx_f = ((flambeau.tensor(h), flambeau.tensor(h * 0.5)) if name == "LSTMCell"
            else flambeau.tensor(h))
    to, fo = t(tx, hx_t), f(fx, hx_f)
    to = to if isinstance(to, tuple) else (to,)
    fo = fo if isinstance(fo, tuple) else (fo,)
    for a, b in zip(fo, to):
        close(a, b)
    sum(o.sum() for o in to).backward()
    sum(o.sum() for o in fo).backward()
    close(fx.grad, tx.grad)
    tparams = dict(t.named_parameters())
    for n, p in f.named_parameters():
        close(p.grad, tparams[n].grad)
    assert tuple(f(fx[0]).__class__.__mro__) and (
        f(fx[0])[0] if name == "LSTMCell" else f(fx[0])).shape == (5,)


def test_state_dict_names_and_layout():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert shapes["weight_ih_l0"] == (16, 3) and shapes["weight_hh_l0"] == (16, 2)
    assert shapes["weight_hr_l0_reverse"] == (2, 4) and shapes["weight_ih_l1"] == (16, 4)
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert list(nn.GRU(3, 4).state_dict()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                               "bias_hh_l0"]
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_rnn_gradcheck(name):
    torch_free = getattr(nn, name)(2, 3, bidirectional=True).double()
    x = randn(3, 2, 2, seed=1)
    h0 = randn(2, 2, 3, seed=2)
    if name == "LSTM":
        c0 = randn(2, 2, 3, seed=3)
        fn = lambda x, h, c: torch_free(x, (h, c))[0]  # noqa: E731
        assert gradcheck(fn, (x, h0, c0))
    else:
        assert gradcheck(lambda x, h: torch_free(x, h)[0], (x, h0))
    params = list(torch_free.parameters())[:4]
    assert gradcheck(lambda *ps: _with_params(torch_free, ps, x), tuple(params))


def _with_params(module, params, x):
    names = [n for n, _ in module.named_parameters()][:len(params)]
    saved = {n: getattr(module, n) for n in names}
    try:
        for n, p in zip(names, params):
            module._parameters[n] = p
        return module(x)[0]
    finally:
        module._parameters.update(saved)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_fused_layers_packed_gradcheck_and_double_backward(kind):
    rnn = getattr(nn, kind)(2, 3, bidirectional=True).double()
    x = randn(4, 3, 2, seed=4)

    def fn(x):
        packed = U.pack_padded_sequence(x, [4, 2, 3], enforce_sorted=False)
        out, state = rnn(packed)
        return (U.pad_packed_sequence(out)[0], *(state if kind == "LSTM" else (state,)))

    assert gradcheck(fn, (x,))
    h0 = randn(2, 2, 3, seed=6)
    params = [p for p in rnn.parameters()]
    assert gradgradcheck(lambda x, h: rnn(x, h if kind == "GRU" else (h, h))[0],
                         (randn(3, 2, 2, seed=5), h0))
    assert gradcheck(lambda *ps: _with_params(rnn, ps, randn(3, 2, 2, seed=7)), tuple(
        p.detach().requires_grad_() for p in params))


@pytest.mark.parity
@pytest.mark.filterwarnings("error")  # exp overflowing to inf in the fused gates is intended
def test_fused_lstm_saturated_gates_float32():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm, fm = torch.nn.LSTM(4, 6), nn.LSTM(4, 6)
    load_from_torch(fm, tm)
    x = (RNG.standard_normal((5, 3, 4)) * 1e4).astype(np.float32)
    tx, fx = torch.tensor(x, requires_grad=True), flambeau.tensor(x, requires_grad=True)
    to, (th, tc) = tm(tx)
    fo, (fh, fc) = fm(fx)
    assert bool(fo.isfinite().all()) and bool(fc.isfinite().all())
    for a, b in ((fo, to), (fh, th), (fc, tc)):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-5,
                                   atol=1e-6)
    to.sum().backward()
    fo.sum().backward()
    np.testing.assert_allclose(fx.grad.cpu().numpy(), tx.grad.cpu().numpy(), rtol=1e-4, atol=1e-6)


def test_pack_utilities():
    seqs = [flambeau.tensor([1.0, 2.0, 3.0]), flambeau.tensor([4.0]), flambeau.tensor([5.0, 6.0])]
    padded = U.pad_sequence(seqs, batch_first=True)
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]
    assert U.pad_sequence(seqs, padding_side="left", padding_value=-1.0).tolist() == [
        [1, -1, -1], [2, -1, 5], [3, 4, 6]]
    packed = U.pack_sequence(seqs, enforce_sorted=False)
    assert packed.data.tolist() == [1, 5, 4, 2, 6, 3]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [0, 2, 1]
    out, lengths = U.pad_packed_sequence(packed, batch_first=True, total_length=4)
    assert out.tolist() == [[1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 0, 0]]
    assert lengths.tolist() == [3, 1, 2]
    assert [s.tolist() for s in U.unpack_sequence(packed)] == [[1, 2, 3], [4], [5, 6]]
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        U.pack_sequence(seqs)


@pytest.mark.parity
def test_pack_utilities_parity():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((4, 3, 2))
    t = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [2, 4, 3], enforce_sorted=False)
    f = U.pack_padded_sequence(flambeau.tensor(x), [2, 4, 3], enforce_sorted=False)
    close(f.data, t.data)
    assert f.sorted_indices.tolist() == t.sorted_indices.tolist()
    assert f.unsorted_indices.tolist() == t.unsorted_indices.tolist()
    close(U.pad_packed_sequence(f, padding_value=7.0)[0],
          torch.nn.utils.rnn.pad_packed_sequence(t, padding_value=7.0)[0])


def test_rnn_errors():
    lstm = nn.LSTM(4, 5)
    with pytest.raises(ValueError, match=r"LSTM: Expected input to be 2D or 3D, got 4D tensor"):
        lstm(flambeau.randn(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="LSTM: input.size\\(-1\\) must be equal to "
                                           "input_size. Expected 4, got 3"):
        lstm(flambeau.randn(2, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected hidden state h_0 size \(1, 3, 5\)"):
        lstm(flambeau.randn(2, 3, 4), (flambeau.zeros(1, 2, 5), flambeau.zeros(1, 3, 5)))
    with pytest.raises(RuntimeError, match="GRU: input.size"):
        nn.GRU(4, 5)(flambeau.randn(2, 3, 6))
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.LSTMCell(4, 5)(flambeau.randn(2, 3))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(4, 5, proj_size=5)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["LSTM", "GRU"]), steps=st.integers(1, 4), batch=st.integers(1, 3),
       n_in=st.integers(1, 3), hidden=st.integers(1, 4), reverse=st.booleans(),
       masked=st.booleans(), bias=st.booleans(), seed=st.integers(0, 1000))
def test_fused_kernels_equal_the_composed_steps(kind, steps, batch, n_in, hidden, reverse,
                                                masked, bias, seed):
    from flambeau.nn.modules import _rnn_layers as L

    rng = np.random.default_rng(seed)
    t = lambda *s: flambeau.tensor(rng.standard_normal(s), requires_grad=True)  # noqa: E731
    gates = 4 if kind == "LSTM" else 3
    x, h0, c0 = t(steps, batch, n_in), t(batch, hidden), t(batch, hidden)
    weights = [t(gates * hidden, n_in), t(gates * hidden, hidden),
               t(gates * hidden) if bias else None, t(gates * hidden) if bias else None, None]
    mask = None
    if masked:
        lengths = rng.integers(1, steps + 1, batch)
        mask = flambeau.tensor(np.arange(steps)[:, None, None] < lengths[None, :, None])
    c = c0 if kind == "LSTM" else None
    leaves = [x, h0, *(w for w in weights if w is not None)] + ([c0] if c is not None else [])
    results = []
    for run in (L.layer, lambda m, *a: L._composed_layer(m, *a[:3], *a[3], *a[4:])):
        outs = [o for o in run(kind, x, h0, c, weights, reverse, mask) if o is not None]
        probe = sum(((o * (i + 1.5)) ** 2).sum() for i, o in enumerate(outs))
        grads = flambeau.autograd.grad(probe, leaves)
        results.append([o.detach().cpu().numpy() for o in outs] + [g.cpu().numpy() for g in grads])
    for fused, composed in zip(*results):
        np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize(("masked", "reverse"), [(False, False), (True, False), (True, True)])
def test_fused_layers_without_the_gradient_of_h0(kind, masked, reverse):
    """The fused backward skips the first step's recurrent product when ``h0`` needs no
    gradient; every other gradient (``c0``'s included) is still the composed steps'."""
    from flambeau.nn.modules import _rnn_layers as L

    rng = np.random.default_rng(11)
    t = lambda *s: flambeau.tensor(rng.standard_normal(s), requires_grad=True)  # noqa: E731
    gates = 4 if kind == "LSTM" else 3
    x, h0 = t(4, 3, 2), flambeau.tensor(rng.standard_normal((3, 5)))
    c0 = t(3, 5) if kind == "LSTM" else None
    weights = [t(gates * 5, 2), t(gates * 5, 5), t(gates * 5), t(gates * 5), None]
    mask = flambeau.tensor(np.arange(4)[:, None, None] < np.array([4, 1, 3])[None, :, None])
    mask = mask if masked else None
    leaves = [x, *weights[:4]] + ([c0] if c0 is not None else [])
    results = []
    for run in (L.layer, lambda m, *a: L._composed_layer(m, *a[:3], *a[3], *a[4:])):
        outs = [o for o in run(kind, x, h0, c0, weights, reverse, mask) if o is not None]
        probe = sum(((o * (i + 1.5)) ** 2).sum() for i, o in enumerate(outs))
        results.append([g.cpu().numpy() for g in flambeau.autograd.grad(probe, leaves)])
    for fused, composed in zip(*results, strict=True):
        np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-11)

@pytest.mark.parametrize("masked", [False, True])
def test_lstm_uses_the_backends_cell_kernels(monkeypatch, masked):
    """A backend's ``lstm_cell`` / ``lstm_cell_backward`` run every unmasked step (flambeau-cuda
    provides them); the results equal the generic steps'."""
    from flambeau.nn.modules import _rnn_layers as L

    lstm = nn.LSTM(3, 4).double()
    x = randn(5, 2, 3, seed=8)

    def run():
        inp = U.pack_padded_sequence(x, [5, 3]) if masked else x
        out, (h, c) = lstm(inp)
        out = U.pad_packed_sequence(out)[0] if masked else out
        grads = flambeau.autograd.grad((out ** 2).sum() + h.sum() + c.sum(), [x, lstm.weight_hh_l0])
        return [t.detach().cpu().numpy() for t in (out, h, c, *grads)]

    expected = run()
    calls = {"lstm_cell": 0, "lstm_cell_backward": 0}

    def counted(name, generic):
        def kernel(*args):
            calls[name] += 1
            generic(x._device._xp, *args)
        return kernel

    kernels = x._device.backend.kernels
    monkeypatch.setitem(kernels, "lstm_cell", counted("lstm_cell", L._lstm_cell))
    monkeypatch.setitem(kernels, "lstm_cell_backward",
                        counted("lstm_cell_backward", L._lstm_cell_backward))
    got = run()
    for a, b in zip(got, expected, strict=True):  # a backend's kernels round differently
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # packed sequences keep the generic backward: the kernel contract has no mask
    assert calls == {"lstm_cell": 5, "lstm_cell_backward": 0 if masked else 5}


@pytest.mark.parametrize("masked", [False, True])
def test_gru_uses_the_backends_cell_kernels(monkeypatch, masked):
    """A backend's ``gru_cell`` / ``gru_cell_backward`` run every (unmasked) step, with the
    generic steps' results."""
    from flambeau.nn.modules import _rnn_layers as L

    gru = nn.GRU(3, 4, bidirectional=True).double()
    x = randn(5, 2, 3, seed=9)

    def run():
        inp = U.pack_padded_sequence(x, [5, 3]) if masked else x
        out, h = gru(inp)
        out = U.pad_packed_sequence(out)[0] if masked else out
        grads = flambeau.autograd.grad((out ** 2).sum() + h.sum(), [x, gru.weight_hh_l0])
        return [t.detach().cpu().numpy() for t in (out, h, *grads)]

    expected = run()
    calls = {"gru_cell": 0, "gru_cell_backward": 0}
    xp = x._device._xp

    def cell(act, hs, h_prev, h):  # the contract has no scratch argument
        calls["gru_cell"] += 1
        L._gru_cell(xp, act, hs, h_prev, h, tmp=xp.empty(h.shape, h.dtype))

    def cell_backward(*args):
        calls["gru_cell_backward"] += 1
        L._gru_cell_backward(xp, *args)

    monkeypatch.setitem(x._device.backend.kernels, "gru_cell", cell)
    monkeypatch.setitem(x._device.backend.kernels, "gru_cell_backward", cell_backward)
    got = run()
    for a, b in zip(got, expected, strict=True):  # a backend's kernels round differently
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert calls == {"gru_cell": 10, "gru_cell_backward": 0 if masked else 10}


def test_input_dtype_other_than_the_parameters_is_a_value_error():
    with pytest.raises(ValueError, match=r"LSTM: input dtype \(flambeau.float64\) does not "
                                         r"match weight dtype \(flambeau.float32\)"):
        nn.LSTM(4, 3)(flambeau.randn(1, 2, 4, dtype=flambeau.float64))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_weights_on_another_device_are_refused_before_the_fused_kernels(mode):
    # the fused LSTM/GRU kernels copy weights into buffers of the input's device: a host
    # weight reached a GPU buffer as CuPy's fill error (found by strict testdev)
    other = "testdev" if flambeau.get_default_device().type == "cpu" else "cpu"
    rnn = getattr(nn, mode)(3, 4)
    try:
        rnn.to(other)
    except Exception:  # noqa: BLE001 - no second device type installed
        pytest.skip("needs a second device type")
    with pytest.raises(RuntimeError, match=f"{mode}: expected all tensors to be on the same "
                       f"device, got input on {flambeau.get_default_device()} and weight_ih "
                       f"on {other}"):
        rnn(flambeau.ones(5, 2, 3))
    h0 = flambeau.zeros(1, 2, 4, device=other)
    x = flambeau.ones(5, 2, 3, device=other)
    with pytest.raises(RuntimeError, match=f"{mode}: expected all tensors to be on the same "
                       "device, got input on .* and hx on"):
        rnn(x, h0.to(flambeau.get_default_device()) if mode != "LSTM" else
            (h0.to(flambeau.get_default_device()), h0))

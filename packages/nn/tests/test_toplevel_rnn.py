"""flambeau.lstm, gru, rnn_tanh and rnn_relu (torch's functional recurrent layers with flat
weight lists, both overloads) against torch's: outputs, states and the gradients of the
input, the states and every weight."""

import numpy as np
import pytest

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck

torch = pytest.importorskip("torch")

T, B, I, H = 5, 3, 4, 6  # noqa: E741


def _arrays(mode, layers, dirs, bias, proj, seed=0):
    g = np.random.default_rng(seed)
    gates = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}[mode]
    out = proj or H
    params = []
    for layer in range(layers):
        width = I if layer == 0 else out * dirs
        for _ in range(dirs):
            params += [g.standard_normal((gates * H, width)) * 0.4,
                       g.standard_normal((gates * H, out)) * 0.4]
            if bias:
                params += [g.standard_normal(gates * H) * 0.2, g.standard_normal(gates * H) * 0.2]
            if proj:
                params.append(g.standard_normal((proj, H)) * 0.4)
    x = g.standard_normal((T, B, I))
    h0 = g.standard_normal((layers * dirs, B, out)) * 0.5
    c0 = g.standard_normal((layers * dirs, B, H)) * 0.5
    return x, h0, c0, params


def _run(lib, mode, arrays, layers, dirs, bias, batch_first, train=False, dropout=0.0):
    x, h0, c0, params = arrays
    tx = lib.tensor(np.swapaxes(x, 0, 1).copy() if batch_first else x, requires_grad=True)
    th0, tc0 = lib.tensor(h0, requires_grad=True), lib.tensor(c0, requires_grad=True)
    tp = [lib.tensor(p, requires_grad=True) for p in params]
    hx = [th0, tc0] if mode == "lstm" else th0
    out = getattr(lib, mode)(tx, hx, tp, bias, layers, dropout, train, dirs == 2, batch_first)
    g = np.random.default_rng(9)
    loss = sum((o * lib.tensor(g.standard_normal(tuple(o.shape)))).sum() for o in out)
    loss.backward()
    leaves = [tx, th0] + ([tc0] if mode == "lstm" else []) + tp
    return [o.detach().cpu().numpy() for o in out], [t.grad.cpu().numpy() for t in leaves]


CONFIGS = [
    # mode, layers, dirs, bias, proj, batch_first
    ("lstm", 1, 1, True, 0, False), ("lstm", 2, 2, True, 0, True), ("lstm", 2, 1, False, 0, False),
    ("lstm", 2, 2, True, 3, False), ("gru", 1, 1, True, 0, False), ("gru", 2, 2, False, 0, True),
    ("rnn_tanh", 2, 2, True, 0, False), ("rnn_relu", 1, 2, False, 0, True),
    ("rnn_relu", 3, 1, True, 0, False),
]


@pytest.mark.parametrize("mode, layers, dirs, bias, proj, batch_first", CONFIGS)
def test_outputs_and_gradients_as_torch(mode, layers, dirs, bias, proj, batch_first):
    arrays = _arrays(mode, layers, dirs, bias, proj)
    ours = _run(flambeau, mode, arrays, layers, dirs, bias, batch_first)
    theirs = _run(torch, mode, arrays, layers, dirs, bias, batch_first)
    assert len(ours[0]) == len(theirs[0]) == (3 if mode == "lstm" else 2)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_dropout_between_layers_only_in_training():
    arrays = _arrays("gru", 2, 1, True, 0)
    # p = 1 zeroes the second layer's input: deterministic, compared with torch
    ours = _run(flambeau, "gru", arrays, 2, 1, True, False, train=True, dropout=1.0)
    theirs = _run(torch, "gru", arrays, 2, 1, True, False, train=True, dropout=1.0)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    off = _run(flambeau, "gru", arrays, 2, 1, True, False, train=False, dropout=1.0)
    plain = _run(flambeau, "gru", arrays, 2, 1, True, False)
    np.testing.assert_array_equal(off[0][0], plain[0][0])
    assert not np.allclose(ours[0][0], plain[0][0])


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_packed_overload_as_torch(mode):
    lengths = [5, 3, 2]
    x, h0, c0, params = _arrays(mode, 2, 2, True, 0)
    results = []
    for lib in (flambeau, torch):
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lib.tensor(lengths))
        data = packed.data.detach().requires_grad_()
        tp = [lib.tensor(p, requires_grad=True) for p in params]
        th0 = lib.tensor(h0, requires_grad=True)
        hx = [th0, lib.tensor(c0)] if mode == "lstm" else th0
        out = getattr(lib, mode)(data, packed.batch_sizes, hx, tp, True, 2, 0.0, False, True)
        sum(o.square().sum() for o in out).backward()
        results.append([o.detach().cpu().numpy() for o in out]
                       + [data.grad.cpu().numpy(), th0.grad.cpu().numpy()]
                       + [p.grad.cpu().numpy() for p in tp])
    for a, b in zip(*results):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_keywords_bind_both_overloads():
    x, h0, c0, params = _arrays("gru", 1, 1, True, 0)
    fx, fh = flambeau.tensor(x), flambeau.tensor(h0)
    fp = [flambeau.tensor(p) for p in params]
    a = flambeau.gru(fx, fh, fp, True, 1, 0.0, False, False, False)
    b = flambeau.gru(input=fx, hx=fh, params=fp, has_biases=True, num_layers=1, dropout=0.0,
                     train=False, bidirectional=False, batch_first=False)
    assert all(flambeau.equal(p, q) for p, q in zip(a, b))
    packed = flambeau.nn.utils.rnn.pack_padded_sequence(fx, flambeau.tensor([5, 5, 5]))
    c = flambeau.gru(packed.data, packed.batch_sizes, fh, fp, True, 1, 0.0, False, False)
    d = flambeau.gru(data=packed.data, batch_sizes=packed.batch_sizes, hx=fh, params=fp,
                     has_biases=True, num_layers=1, dropout=0.0, train=False,
                     bidirectional=False)
    assert all(flambeau.equal(p, q) for p, q in zip(c, d))
    # equal lengths: the packed data is the padded output, step after step
    np.testing.assert_allclose(c[0].cpu().numpy(), a[0].reshape(-1, H).cpu().numpy(),
                               rtol=1e-12)


def test_the_modules_run_the_same_layers():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True).double()
    x = flambeau.tensor(_arrays("lstm", 1, 1, True, 0)[0])
    params = [w for ws in lstm.all_weights for w in ws]
    zeros = flambeau.zeros(4, B, H, dtype=flambeau.float64)
    want = lstm(x)
    got = flambeau.lstm(x, [zeros, zeros], params, True, 2, 0.0, False, True, False)
    assert flambeau.equal(got[0], want[0]) and flambeau.equal(got[1], want[1][0])


def test_gradcheck():
    x, h0, c0, params = _arrays("lstm", 1, 2, True, 0)
    p = [flambeau.tensor(a) for a in params]

    def f(x, h, c):
        return flambeau.lstm(x, [h, c], p, True, 1, 0.0, False, True, False)[0]

    assert gradcheck(f, tuple(flambeau.tensor(a[:2, :2] if a.ndim == 3 else a,
                                              requires_grad=True)
                              for a in (x, h0[:, :2], c0[:, :2])))


_X = flambeau.ones(T, B, I)
_W = [flambeau.ones(3 * H, I), flambeau.ones(3 * H, H)]


@pytest.mark.parametrize("call, error, message", [
    (lambda lib, X, W: lib.gru(X, lib.zeros(1, B, H), W[:1], False, 1, 0.0, False, False,
                               False), RuntimeError, "got an incorrect number of RNN parameters"),
    (lambda lib, X, W: lib.gru(X, lib.zeros(1, B, H), W, False, 2, 0.0, False, False, False),
     RuntimeError, "(got an incorrect number of RNN parameters|Expected more hidden states)"),
    (lambda lib, X, W: lib.lstm(X, [lib.zeros(1, B, H)], [lib.ones(4 * H, I),
                                                          lib.ones(4 * H, H)], False, 1, 0.0,
                                False, False, False), RuntimeError,
     "lstm expects two hidden states"),
    (lambda lib, X, W: lib.gru(X[0], lib.zeros(1, B, H), W, False, 1, 0.0, False, False, False),
     IndexError, "(Dimension out of range|expected an input of 3 dimensions)"),
])
def test_errors(call, error, message):
    tw = [torch.ones(*w.shape) for w in _W]
    with pytest.raises(error, match=message):
        call(flambeau, _X, _W)
    with pytest.raises(error, match=message):
        call(torch, torch.ones(T, B, I), tw)


def test_state_shape_error():
    with pytest.raises(RuntimeError, match=r"gru: expected hx of shape \(num_layers \* "
                                           r"num_directions, batch, size\) = \(1, 3, \.\.\.\)"):
        flambeau.gru(_X, flambeau.zeros(2, B, H), _W, False, 1, 0.0, False, False, False)


@pytest.mark.parametrize("call, error, message", [
    (lambda: flambeau.gru(_X, flambeau.zeros(1, B, H), _W, False, 1, 0.0, False, False, False,
                          hx=None), TypeError,
     r"gru\(\) got an unexpected or repeated argument 'hx'"),
    (lambda: flambeau.gru(_X, flambeau.zeros(1, B, H), _W, False, 1, 0.0, False, False, False,
                          bogus=1), TypeError,
     r"gru\(\) got an unexpected or repeated argument 'bogus'"),
    (lambda: flambeau.rnn_tanh(_X[..., :2], flambeau.zeros(1, B, H),
                               [flambeau.ones(H, I), flambeau.ones(H, H)], False, 1, 0.0, False,
                               False, False), RuntimeError,
     rf"rnn_tanh: input.size\(-1\) must be equal to input_size. Expected {I}, got 2"),
])
def test_binding_and_input_size_errors(call, error, message):
    # torch's own binding errors name its C++ overloads, and a wrong input size fails in its
    # matrix product: flambeau says which argument is wrong
    with pytest.raises(error, match=message):
        call()

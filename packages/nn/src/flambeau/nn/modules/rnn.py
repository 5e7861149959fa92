"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's layout.

Every layer projects the inputs of all time steps with one matmul up front and then loops
over time only. LSTM layers without projections run a fused kernel (forward and
backpropagation through time written against ``xp``); when a graph of the gradient itself
is requested (``create_graph=True``), that kernel's backward replays the step-by-step
composition of flambeau ops, so higher-order gradients stay exact. Packed sequences run on
the padded batch with a per-step mask: a finished (or not yet started) sequence keeps its
state.
"""

from __future__ import annotations

import math

import numpy as np

import flambeau
import flambeau.nn.functional as F
from flambeau._ops._select import overflow_ignored
from flambeau._tensor import Tensor
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import state as _grad_state
from flambeau.nn import init
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter
from flambeau.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------ one step, composed


def _rnn_step(mode, xw, h, w_hh, b_hh):
    """One step of a tanh/relu RNN from the projected input ``xw`` (bias included)."""
    pre = xw + F.linear(h, w_hh, b_hh)
    return pre.tanh() if mode == "RNN_TANH" else pre.relu()


def _lstm_step(xw, h, c, w_hh, b_hh, w_hr=None):
    gates = xw + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(xw, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    xr, xz, xn = xw.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


def _composed_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, mask):
    """One direction of one layer with flambeau ops: ``(out, h_n, c_n)``."""
    steps = x.shape[0]
    xw = F.linear(x, w_ih, b_ih)
    h, c = h0, c0
    outs = [None] * steps
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        if mode == "LSTM":
            h_new, c_new = _lstm_step(xw[t], h, c, w_hh, b_hh, w_hr)
        elif mode == "GRU":
            h_new, c_new = _gru_step(xw[t], h, w_hh, b_hh), None
        else:
            h_new, c_new = _rnn_step(mode, xw[t], h, w_hh, b_hh), None
        if mask is not None:
            m = mask[t]
            outs[t] = flambeau.where(m, h_new, flambeau.zeros_like(h_new))
            h_new = flambeau.where(m, h_new, h)
            if c_new is not None:
                c_new = flambeau.where(m, c_new, c)
        else:
            outs[t] = h_new
        h, c = h_new, c_new
    return flambeau.stack(outs), h, c


# ------------------------------------------------------------------ fused LSTM layer


def _gate_affine(xp, hidden, dtype):
    """``(scale, shift, one)`` with every gate activation ``1 / (one + exp(scale * z + shift))``
    (``- 1`` on the g rows).

    ``sigmoid(z) = 1 / (1 + exp(-z))`` on the i, f, o rows, and on the g rows ``tanh(z) =
    1 / (0.5 + exp(-2z + log(0.5))) - 1``. With ``scale`` folded into the weights and
    ``shift`` into the bias, one ``exp``, one add and one reciprocal activate all four gates
    (NumPy's ``exp`` is about twice as fast as its ``tanh``).
    """
    scale = xp.full(4 * hidden, -1.0, dtype=dtype)
    shift = xp.zeros(4 * hidden, dtype=dtype)
    one = xp.ones(4 * hidden, dtype=dtype)
    g = slice(2 * hidden, 3 * hidden)
    scale[g], shift[g], one[g] = -2.0, math.log(0.5), 0.5
    return scale, shift, one


class _LSTMLayer(Function):
    """Fused LSTM layer (one direction): ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (out, h, c)``.

    Each step makes a handful of whole-array calls (one matmul, one ``exp`` for all gates);
    the backward precomputes every factor that does not depend on the incoming gradient for
    all steps at once, leaving the recurrence with a few products per step. The inputs, a
    column of ones and the previous hidden states share one buffer ``[x, 1, h]`` per step, so
    the input projection takes the bias along and all weight and bias gradients come from
    one matrix product.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, mask):
        xp = x._device._xp
        a = x._data
        steps, batch, n_in = a.shape
        hidden = w_hh._data.shape[1]
        dt = a.dtype
        scale, shift, one = _gate_affine(xp, hidden, dt)
        # xh[s] = [x, 1, h_prev] of processing step s (time runs backwards when reverse)
        xh = xp.empty((steps, batch, n_in + 1 + hidden), dtype=dt)
        xh[:, :, :n_in] = a[::-1] if reverse else a
        xh[:, :, n_in] = 1
        xh[0, :, n_in + 1:] = h0._data
        w_in = xp.empty((n_in + 1, 4 * hidden), dtype=dt)  # [W_ih^T; bias], scaled
        w_in[:n_in] = w_ih._data.T * scale
        w_in[n_in] = sum(b._data for b in (b_ih, b_hh) if b is not None) * scale + shift
        xw = xh[:, :, :n_in + 1].reshape(steps * batch, -1) @ w_in
        w_rec = (w_hh._data * scale[:, None]).T
        m = None if mask is None else mask._data
        acts = xw.reshape(steps, batch, 4 * hidden)  # i, f, g, o after activation, per step
        cs = xp.empty((steps + 1, batch, hidden), dtype=dt)
        tcs = xp.empty((steps, batch, hidden), dtype=dt)
        tmp = xp.empty((batch, hidden), dtype=dt)
        step_in = xp.empty((batch, 4 * hidden), dtype=dt)
        h_last = xp.empty((batch, hidden), dtype=dt)
        cs[0] = c0._data
        h2, h3 = 2 * hidden, 3 * hidden
        with overflow_ignored(xp):
            for s in range(steps):
                act = acts[s]
                h_prev = xh[s, :, n_in + 1:]
                xp.matmul(h_prev, w_rec, out=step_in)
                act += step_in
                xp.exp(act, out=act)
                act += one
                xp.reciprocal(act, out=act)
                g = act[:, h2:h3]
                g -= 1
                c = cs[s + 1]
                xp.multiply(act[:, hidden:h2], cs[s], out=c)
                xp.multiply(act[:, :hidden], g, out=tmp)
                c += tmp
                xp.tanh(c, out=tcs[s])
                h = xh[s + 1, :, n_in + 1:] if s + 1 < steps else h_last
                xp.multiply(act[:, h3:], tcs[s], out=h)
                if m is not None:
                    keep = ~m[steps - 1 - s if reverse else s]
                    xp.copyto(h, h_prev, where=keep)
                    xp.copyto(c, cs[s], where=keep)
        out = xp.empty((steps, batch, hidden), dtype=dt)  # in processing order
        out[:-1] = xh[1:, :, n_in + 1:]
        out[-1] = h_last
        if reverse:
            out = out[::-1]
        if m is not None:
            out = xp.where(m, out, 0)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = (acts, xh, cs, tcs)
        ctx.reverse, ctx.mask = reverse, mask
        return out, h_last.copy(), cs[steps].copy()

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        if _grad_state.grad_enabled:  # create_graph: differentiate the composed steps
            return _replay_grads(ctx, (g_out, g_h, g_c))
        xp = x._device._xp
        # kept (not freed) after use: a retained graph runs this backward again
        acts, xh, cs, tcs = ctx.cache
        steps, batch, hidden = tcs.shape
        n_in = x._data.shape[2]
        reverse = ctx.reverse
        m = None if ctx.mask is None else ctx.mask._data
        a4 = acts.reshape(steps, batch, 4, hidden)
        i, f, g, o = a4[:, :, 0], a4[:, :, 1], a4[:, :, 2], a4[:, :, 3]
        # factors of the gate gradients that do not depend on the incoming gradient
        k3 = xp.empty((steps, batch, 3, hidden), dtype=acts.dtype)
        xp.multiply(g, i * (1 - i), out=k3[:, :, 0])
        xp.multiply(cs[:-1], f * (1 - f), out=k3[:, :, 1])
        xp.multiply(i, 1 - g * g, out=k3[:, :, 2])
        k_o = tcs * o * (1 - o)
        k_c = o * (1 - tcs * tcs)
        go = g_out._data[::-1] if reverse else g_out._data  # processing order
        spares = (g_h._data.copy(), xp.empty_like(g_h._data))
        dh = spares[0]
        dc = g_c._data.copy()
        tmp = xp.empty_like(dh)
        dgates = xp.empty((steps, batch, 4, hidden), dtype=acts.dtype)
        w = w_hh._data
        for s in reversed(range(steps)):
            if m is not None:
                mt = m[steps - 1 - s if reverse else s]
                dh_in, dc_in = dh, dc
                dh = xp.where(mt, dh + go[s], 0)
                dc = xp.where(mt, dc, 0)
            else:
                dh += go[s]
            xp.multiply(dh, k_c[s], out=tmp)
            dc += tmp
            d = dgates[s]
            xp.multiply(dc[:, None, :], k3[s], out=d[:, :3])
            xp.multiply(dh, k_o[s], out=d[:, 3])
            dc *= f[s]
            # unmasked, the product goes to whichever of the two buffers ``dh`` is not (masked,
            # ``dh_in`` may hold either one)
            spare = None if m is not None else spares[dh is spares[0]]
            dh = xp.matmul(d.reshape(batch, -1), w, out=spare)
            if m is not None:
                dh = xp.where(mt, dh, dh_in)
                dc = xp.where(mt, dc, dc_in)
        dflat = dgates.reshape(steps * batch, -1)  # processing order, as xh
        needs = ctx.needs_input_grad
        make = lambda arr: Tensor._make(arr, x._device)  # noqa: E731
        gx = gw_ih = gw_hh = gb = None
        if needs[0]:
            gx = (dflat @ w_ih._data).reshape(x._data.shape)
            gx = make(gx[::-1] if reverse else gx)
        if needs[3] or needs[4] or needs[5] or needs[6]:
            # rows: input weights, bias, recurrent weights
            gw = (xh.reshape(steps * batch, -1).T @ dflat).T
            gw_ih, gb, gw_hh = make(gw[:, :n_in]), make(gw[:, n_in]), make(gw[:, n_in + 1:])
        return (gx, make(dh) if needs[1] else None, make(dc) if needs[2] else None,
                gw_ih if needs[3] else None, gw_hh if needs[4] else None,
                gb if b_ih is not None and needs[5] else None,
                gb if b_hh is not None and needs[6] else None, None, None)


def _replay_grads(ctx, grads):
    """Gradients of the composed layer, recorded so they can be differentiated again."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
    inputs = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    with flambeau.enable_grad():
        outs = _composed_layer("LSTM", x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, ctx.reverse,
                               ctx.mask)
        wanted = [t for t, need in zip(inputs, ctx.needs_input_grad) if need]
        got = iter(flambeau.autograd.grad(list(outs), wanted, list(grads), create_graph=True,
                                          allow_unused=True))
    res = [next(got) if need else None for need in ctx.needs_input_grad[:7]]
    return (*res, None, None)


def _layer(mode, x, h0, c0, weights, reverse, mask):
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    if mode == "LSTM" and w_hr is None:
        return _LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, mask)
    return _composed_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, mask)


# ------------------------------------------------------------------ modules


class RNNBase(Module):
    """Parameters, checks and the layer/direction loop shared by RNN, LSTM and GRU.

    Parameter names follow PyTorch: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` with ``proj_size``), with a ``_reverse`` suffix
    for the backward direction; gate rows are ordered (i, f, g, o) for LSTM and (r, z, n)
    for GRU.

    Examples
    --------
    >>> from flambeau import nn
    >>> isinstance(nn.LSTM(4, 8), nn.RNNBase), nn.GRU(4, 8).weight_ih_l0.shape
    (True, flambeau.Size([24, 4]))
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"{name}: dropout should be a number in [0, 1], got {dropout}")
        if proj_size < 0 or (proj_size and mode != "LSTM"):
            raise ValueError(f"{name}: proj_size must be a non-negative int (LSTM only), got "
                             f"{proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        kw = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else out_size * dirs
                setattr(self, "weight_ih" + sfx, Parameter(flambeau.empty(gate_size, in_size,
                                                                          **kw)))
                setattr(self, "weight_hh" + sfx, Parameter(flambeau.empty(gate_size, out_size,
                                                                          **kw)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(flambeau.empty(gate_size, **kw)))
                    setattr(self, "bias_hh" + sfx, Parameter(flambeau.empty(gate_size, **kw)))
                if proj_size:
                    setattr(self, "weight_hr" + sfx, Parameter(
                        flambeau.empty(proj_size, hidden_size, **kw)))
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias uniform in +-1/sqrt(hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        return (get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"),
                get("weight_hr"))

    @property
    def all_weights(self):
        """Per layer and direction, the list of its parameters (PyTorch's attribute)."""
        dirs = 2 if self.bidirectional else 1
        return [[p for p in self._weights(layer, d) if p is not None]
                for layer in range(self.num_layers) for d in range(dirs)]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first:
            s += f", batch_first={self.batch_first}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _check_state(self, state, expected, what):
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: expected {what} size {expected}, got "
                               f"{tuple(state.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        mask = None
        if packed:
            x, lengths = pad_packed_sequence(input)
            order = input.sorted_indices
            if order is not None:
                x = x.index_select(1, order)
                lengths = lengths.index_select(0, order)
            steps = x.shape[0]
            valid = np.arange(steps)[:, None, None] < lengths.numpy()[None, :, None]
            mask = flambeau.as_tensor(valid, device=x.device)
            unbatched = False
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: expected a Tensor or PackedSequence input, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 f"tensor (input shape {tuple(input.shape)})")
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else (
                input.transpose(0, 1) if self.batch_first else input)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]} (input shape "
                               f"{tuple(x.shape)})")
        if x.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(f"{name}: input dtype {x.dtype} does not match the parameters' "
                               f"dtype {self.weight_ih_l0.dtype}")
        dirs = 2 if self.bidirectional else 1
        batch = x.shape[1]
        out_size = self.proj_size or self.hidden_size
        h0, c0 = self._initial_state(hx, x, batch, dirs, out_size, unbatched, packed, input)
        layer_in = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = _layer(self.mode, layer_in, h0[k],
                                   c0[k] if c0 is not None else None, self._weights(layer, d),
                                   bool(d), mask)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_in = outs[0] if dirs == 1 else flambeau.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        h_n = flambeau.stack(h_n)
        c_n = flambeau.stack(c_n) if self.mode == "LSTM" else None
        out = layer_in
        if packed:
            if input.unsorted_indices is not None:
                h_n = h_n.index_select(1, input.unsorted_indices)
                if c_n is not None:
                    c_n = c_n.index_select(1, input.unsorted_indices)
            out = pack_padded_sequence(out, lengths)
            out = PackedSequence(out.data, input.batch_sizes, input.sorted_indices,
                                 input.unsorted_indices)
        elif unbatched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _initial_state(self, hx, x, batch, dirs, out_size, unbatched, packed, input):
        layers = self.num_layers * dirs
        shape_h = (layers, batch, out_size)
        shape_c = (layers, batch, self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = flambeau.zeros(*shape_h, dtype=x.dtype, device=x.device)
            c0 = flambeau.zeros(*shape_c, dtype=x.dtype, device=x.device) if lstm else None
            return h0, c0
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError(f"{type(self).__name__}: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        if unbatched:
            self._check_state(h0, (layers, out_size), "hidden state h_0")
            h0 = h0.unsqueeze(1)
            if lstm:
                self._check_state(c0, (layers, self.hidden_size), "cell state c_0")
                c0 = c0.unsqueeze(1)
        else:
            self._check_state(h0, shape_h, "hidden state h_0")
            if lstm:
                self._check_state(c0, shape_c, "cell state c_0")
        if packed and input.sorted_indices is not None:
            h0 = h0.index_select(1, input.sorted_indices)
            c0 = c0.index_select(1, input.sorted_indices) if lstm else None
        return h0, c0


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden state.
    num_layers : int
        Stacked layers.
    nonlinearity : str
        ``'tanh'`` or ``'relu'``.
    bias, batch_first, dropout, bidirectional :
        As in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> rnn = nn.RNN(10, 20, 2)
    >>> out, h = rnn(flambeau.randn(5, 3, 10))
    >>> out.shape, h.shape
    (flambeau.Size([5, 3, 20]), flambeau.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gate order (input, forget, cell, output).

    ``forward(input, (h_0, c_0))`` returns ``output, (h_n, c_n)``; ``proj_size > 0`` adds a
    projection of the hidden state (``weight_hr_l{k}``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> out, (h, c) = lstm(flambeau.randn(3, 5, 10))
    >>> out.shape, h.shape, c.shape
    (flambeau.Size([3, 5, 20]), flambeau.Size([2, 3, 20]), flambeau.Size([2, 3, 20]))
    >>> try:
    ...     lstm(flambeau.randn(1, 3, 5, 10))
    ... except ValueError as e:
    ...     print(e)
    LSTM: Expected input to be 2D or 3D, got 4D tensor (input shape (1, 3, 5, 10))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gate order (reset, update, new).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> gru = nn.GRU(10, 20, bidirectional=True)
    >>> out, h = gru(flambeau.randn(5, 3, 10))
    >>> out.shape, h.shape
    (flambeau.Size([5, 3, 40]), flambeau.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# ------------------------------------------------------------------ cells


class RNNCellBase(Module):
    """Parameters (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) of one cell.

    Examples
    --------
    >>> from flambeau import nn
    >>> cell = nn.LSTMCell(4, 8)
    >>> isinstance(cell, nn.RNNCellBase), cell.weight_hh.shape
    (True, flambeau.Size([32, 8]))
    """

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = {"device": device, "dtype": dtype}
        rows = self._gates * hidden_size
        self.weight_ih = Parameter(flambeau.empty(rows, input_size, **kw))
        self.weight_hh = Parameter(flambeau.empty(rows, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(flambeau.empty(rows, **kw))
            self.bias_hh = Parameter(flambeau.empty(rows, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every parameter uniform in +-1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"

    def _prepare(self, input, hx, states=1):
        """``(x, [h, c...], unbatched)`` with the input checked and zero states filled in."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D tensor "
                             f"(input shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            zeros = flambeau.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            return x, [zeros] * states, unbatched
        hs = list(hx) if states > 1 else [hx]
        out = []
        for h in hs:
            h = h.unsqueeze(0) if unbatched else h
            if tuple(h.shape) != (x.shape[0], self.hidden_size):
                raise RuntimeError(f"{name}: expected hidden state of shape "
                                   f"{(x.shape[0], self.hidden_size)}, got {tuple(h.shape)}")
            out.append(h)
        return x, out, unbatched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.RNNCell(10, 20)(flambeau.randn(3, 10)).shape
    flambeau.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h = _rnn_step(mode, F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                      self.bias_hh)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h_1, c_1) = cell(x, (h_0, c_0))``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> h, c = nn.LSTMCell(10, 20)(flambeau.randn(3, 10))
    >>> h.shape, c.shape
    (flambeau.Size([3, 20]), flambeau.Size([3, 20]))
    """

    _gates = 4

    def forward(self, input, hx=None):
        x, (h, c), unbatched = self._prepare(input, hx, states=2)
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh,
                          self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau import nn
    >>> nn.GRUCell(10, 20)(flambeau.randn(3, 10)).shape
    flambeau.Size([3, 20])
    """

    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx)
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                      self.bias_hh)
        return h.squeeze(0) if unbatched else h

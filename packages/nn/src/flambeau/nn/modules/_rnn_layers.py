"""The layer kernels behind RNN, LSTM and GRU: one direction of one layer at a time.

Every layer loops over time only; the composed path and the GRU kernel project the inputs
of all time steps with one matmul up front. LSTM layers without projections and GRU layers
run fused kernels (forward
and backpropagation through time written against ``xp``); when a graph of the gradient
itself is requested (``create_graph=True``), a kernel's backward replays the step-by-step
composition of flambeau ops, so higher-order gradients stay exact. Packed sequences run on
the padded batch with a per-step mask: a finished (or not yet started) sequence keeps its
state.
"""

from __future__ import annotations

import functools
import math

import flambeau
import flambeau.nn.functional as F
from flambeau._ops._select import errors_ignored
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = ["layer"]


# ------------------------------------------------------------------ one step, composed


def autocast_cell(op, x, states, weights):
    """``(x, states, weights)`` of a cell step cast as autocast runs ``op`` ("lstm_cell"...):
    whole in low precision where PyTorch's list has the cells (CUDA), else unchanged, so that
    the step's matrix products cast their own inputs (the CPU)."""
    dtype = _autocast.recurrent_dtype(op, x) if _autocast.active else None
    if dtype is None:
        return x, states, weights
    x, *rest = _autocast.cast_inputs("lower", x, *states, *weights, dtype=dtype)
    return x, rest[:len(states)], rest[len(states):]



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
            # a state kept has the dtype of a step's (under autocast a float32 initial state
            # may meet low-precision steps): every sequence's last state comes from a step
            h_new = flambeau.where(m, h_new, h.to(h_new.dtype))
            if c_new is not None:
                c_new = flambeau.where(m, c_new, c.to(c_new.dtype))
        else:
            outs[t] = h_new
        h, c = h_new, c_new
    return flambeau.stack(outs), h, c


# ------------------------------------------------------------------ GRU gate helpers


def _gate_affine(xp, hidden, dtype, gates, tanh_gate):
    """``(scale, shift)`` with every gate activation ``1 / (c + exp(scale * z + shift))``,
    ``c`` 1 on the sigmoid gates and 0.5 on the tanh gate's rows (which then subtract 1).

    ``sigmoid(z) = 1 / (1 + exp(-z))`` on the sigmoid gates, and on the tanh gate ``tanh(z)
    = 1 / (0.5 + exp(-2z + log(0.5))) - 1``. With ``scale`` folded into the weights and
    ``shift`` into the bias, one ``exp``, one add and one division activate the gates
    (NumPy's ``exp`` is about twice as fast as its ``tanh``).
    """
    scale = xp.full(gates * hidden, -1.0, dtype=dtype)
    shift = xp.zeros(gates * hidden, dtype=dtype)
    rows = slice(tanh_gate * hidden, (tanh_gate + 1) * hidden)
    scale[rows], shift[rows] = -2.0, math.log(0.5)
    return scale, shift


def _weight_with_bias(xp, w, bias, scale, shift=0.0):
    """``[W^T * scale; bias * scale + shift]``: the bias as a last row, met by a column of
    ones in the input, so one product applies both (and its adjoint gives both gradients)."""
    rows = w.shape[1]
    out = xp.empty((rows + 1, w.shape[0]), dtype=w.dtype)
    out[:rows] = w.T * scale
    out[rows] = (bias * scale if bias is not None else 0.0) + shift
    return out


def _inputs_with_ones(xp, a, reverse):
    """``(steps, batch, n_in + 1)`` holding ``[x, 1]`` per processing step (time runs
    backwards when ``reverse``)."""
    steps, batch, n_in = a.shape
    buf = xp.empty((steps, batch, n_in + 1), dtype=a.dtype)
    buf[:, :, :n_in] = a[::-1] if reverse else a
    buf[:, :, n_in] = 1
    return buf


# ------------------------------------------------------------------ fused LSTM layer


def _fused_kernel(x, name):
    """The backend's named kernel ``name`` when it applies to ``x``, else None.

    The contract of the recurrent kernels covers float32 and float64 arrays; a backend
    (flambeau-cuda) provides them to run a step's elementwise work in one launch.
    """
    if x._data.dtype.name not in ("float32", "float64"):
        return None
    return x._device.backend.kernels.get(name)


def _lstm_cell(xp, act, c_prev, fc, ig, c, tc, h):
    """One LSTM step after its matrix product (the ``"lstm_cell"`` kernel's contract).

    ``act`` ``(4 * hidden, batch)`` holds the gates' pre-activations scaled as in
    :class:`_LSTMLayer` (``-z`` for i, f, o and ``-2z`` for g) and is activated in place:
    ``1 / (1 + exp(act))``, and twice that minus one for g. The other arrays are
    ``(hidden, batch)``: ``c_prev`` is read; ``fc = f * c_prev``, ``ig = i * g``, the new
    cell state ``c = fc + ig``, ``tc = tanh(c)`` and ``h = o * tc`` are written.
    """
    hidden = c.shape[0]
    h2, h3 = 2 * hidden, 3 * hidden
    xp.exp(act, out=act)
    act += 1
    xp.divide(1, act, out=act)  # NumPy's float32 reciprocal has no SIMD loop: 1.5x slower
    g = act[h2:h3]
    g *= 2
    g -= 1
    xp.multiply(act[hidden:h2], c_prev, out=fc)
    xp.multiply(act[:hidden], g, out=ig)
    xp.add(fc, ig, out=c)
    xp.tanh(c, out=tc)
    xp.multiply(act[h3:], tc, out=h)


def _lstm_cell_backward(xp, dh, go, dc, k_c, k3, k_o, f, d, dflat, s):
    """One step of LSTM backpropagation through time, before the recurrent product (the
    ``"lstm_cell_backward"`` kernel's contract).

    With ``dh + go`` the gradient of the step's ``h`` (``dh`` from the later steps, ``go``
    from the step's output; ``dh`` may be overwritten) and ``dc`` that of its ``c``, writes the
    gate gradients ``d`` ``(4 * hidden, batch)``: ``dc * k3`` for i, f, g (``k3`` is
    ``(3, hidden, batch)``) and ``dh * k_o`` for o, after ``dc += dh * k_c``; copies them to
    column ``s`` of ``dflat`` ``(4 * hidden, steps, batch)``, and leaves ``dc * f`` (the
    gradient of ``c_prev``) in ``dc``.
    """
    hidden = dc.shape[0]
    h2, h3 = 2 * hidden, 3 * hidden
    dh += go
    xp.multiply(dh, k_o, out=d[h3:])
    dh *= k_c
    dc += dh
    # one product per gate: NumPy runs a broadcast ``dc * k3`` through its copying buffers
    xp.multiply(dc, k3[0], out=d[:hidden])
    xp.multiply(dc, k3[1], out=d[hidden:h2])
    xp.multiply(dc, k3[2], out=d[h2:h3])
    dc *= f
    dflat[:, s] = d


class _LSTMLayer(Function):
    """Fused LSTM layer (one direction): ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (out, h, c)``.

    The kernel works feature-major: every per-step array is ``(features, batch)``, so each
    gate is one contiguous block of the ``(4 * hidden, batch)`` gate array, and elementwise
    calls run over whole blocks instead of ``batch`` short rows (about three times faster at
    hidden 128, batch 32). A step makes a handful of whole-array calls: one matmul of
    ``[W_ih, b, W_hh]`` with the step's buffer ``[x; 1; h_prev]``, one ``exp`` for all gates.
    The forward keeps ``f * c_prev`` and ``i * g``, so that the backward precomputes every
    factor that does not depend on the incoming gradient (for all steps at once) in two
    passes each, leaving the recurrence a few products per step; all weight and bias
    gradients come from one matrix product with the stacked step buffers.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, mask):
        xp = x._device._xp
        a = x._data
        steps, batch, n_in = a.shape
        hidden = w_hh._data.shape[1]
        dt = a.dtype
        h2, h3, k = 2 * hidden, 3 * hidden, n_in + 1
        # [x; 1; h_prev] per step (entry s + 1 holds h of step s; the last one only h)
        xh = xp.empty((steps + 1, k + hidden, batch), dtype=dt)
        xh[:-1, :n_in] = (a[::-1] if reverse else a).transpose(0, 2, 1)
        xh[:-1, n_in] = 1
        xh[0, k:] = h0._data.T
        # sigmoid(z) = 1 / (1 + exp(-z)) and tanh(z) = 2 / (1 + exp(-2z)) - 1: with these
        # scales folded into the weights, one exp, one add and one division activate all
        # gates. One product with [W_ih, b, W_hh] per step is faster than projecting all
        # inputs up front with products of inner size n_in + 1.
        w = xp.empty((4 * hidden, k + hidden), dtype=dt)
        w[:, :n_in] = w_ih._data
        w[:, n_in] = sum(b._data for b in (b_ih, b_hh) if b is not None)
        w[:, k:] = w_hh._data
        w *= -1
        w[h2:h3] *= 2
        acts = xp.empty((steps, 4 * hidden, batch), dtype=dt)  # i, f, g, o after activation
        m = None if mask is None else mask._data
        cs = xp.empty((steps + 1, hidden, batch), dtype=dt)
        fc = xp.empty((steps, hidden, batch), dtype=dt)  # f * c_prev
        ig = xp.empty_like(fc)  # i * g
        tcs = xp.empty_like(fc)  # tanh(c)
        cs[0] = c0._data.T
        cell = _fused_kernel(x, "lstm_cell") or functools.partial(_lstm_cell, xp)
        with errors_ignored(xp, "over"):
            for s in range(steps):
                act = acts[s]
                xp.matmul(w, xh[s], out=act)
                h, c = xh[s + 1, k:], cs[s + 1]
                cell(act, cs[s], fc[s], ig[s], c, tcs[s], h)
                if m is not None:
                    keep = ~m[steps - 1 - s if reverse else s].T
                    xp.copyto(h, xh[s, k:], where=keep)
                    xp.copyto(c, cs[s], where=keep)
        out = xh[1:, k:].transpose(0, 2, 1)  # (steps, batch, hidden), processing order
        out = out[::-1] if reverse else out
        out = xp.where(m, out, 0) if m is not None else out.copy()
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = (acts, xh, cs, fc, ig, tcs)
        ctx.reverse, ctx.mask = reverse, mask
        return out, xh[steps, k:].T.copy(), cs[steps].T.copy()

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        if _grad_state.grad_enabled:  # create_graph: differentiate the composed steps
            return _replay_grads(ctx, "LSTM", (g_out, g_h, g_c))
        xp = x._device._xp
        # kept (not freed) after use: a retained graph runs this backward again
        acts, xh, cs, fc, ig, tcs = ctx.cache
        steps, hidden, batch = tcs.shape
        h2, h3, k = 2 * hidden, 3 * hidden, x._data.shape[2] + 1
        reverse = ctx.reverse
        m = None if ctx.mask is None else ctx.mask._data
        i, f, g, o = acts[:, :hidden], acts[:, hidden:h2], acts[:, h2:h3], acts[:, h3:]
        h = xh[1:, k:]
        # factors of the gate gradients that do not depend on the incoming gradient
        k3 = xp.empty((steps, 3, hidden, batch), dtype=acts.dtype)
        k_i, k_f, k_g = k3[:, 0], k3[:, 1], k3[:, 2]
        xp.subtract(1, i, out=k_i)  # i g (1 - i)
        k_i *= ig
        xp.subtract(1, f, out=k_f)  # f c_prev (1 - f)
        k_f *= fc
        xp.multiply(ig, g, out=k_g)  # i (1 - g^2)
        xp.subtract(i, k_g, out=k_g)
        k_o = 1 - o  # o tanh(c) (1 - o)
        k_o *= h
        k_c = h * tcs  # o (1 - tanh(c)^2)
        xp.subtract(o, k_c, out=k_c)
        go = g_out._data[::-1] if reverse else g_out._data  # processing order
        go = go.transpose(0, 2, 1).copy()
        spares = (g_h._data.T.copy(), xp.empty((hidden, batch), dtype=acts.dtype))
        dh = spares[0]
        dc = g_c._data.T.copy()
        d = xp.empty((4 * hidden, batch), dtype=acts.dtype)  # gate gradients of one step
        # of all steps side by side: (4 * hidden, steps * batch), in processing order
        dflat = xp.empty((4 * hidden, steps, batch), dtype=acts.dtype)
        # contiguous: OpenBLAS's per-step product through a transposed view is ~8% slower
        w = xp.ascontiguousarray(w_hh._data.T)
        needs = ctx.needs_input_grad
        # packed sequences (a mask) take the generic path: the kernel contract has no mask
        cell_backward = (_fused_kernel(x, "lstm_cell_backward") if m is None else None) or (
            functools.partial(_lstm_cell_backward, xp))
        for s in reversed(range(steps)):
            if m is not None:
                mt = m[steps - 1 - s if reverse else s].T
                dh_in, dc_in = dh, dc
                dh = xp.where(mt, dh, 0)
                dc = xp.where(mt, dc, 0)
                go_s = xp.where(mt, go[s], 0)
            else:
                go_s = go[s]
            cell_backward(dh, go_s, dc, k_c[s], k3[s], k_o[s], f[s], d, dflat, s)
            if s or needs[1]:  # the first step's product is the gradient of h0 only
                # unmasked, the product goes to whichever of the two buffers ``dh`` is not
                # (masked, ``dh_in`` may hold either one)
                spare = None if m is not None else spares[dh is spares[0]]
                dh = xp.matmul(w, d, out=spare)
            if m is not None:
                dh = xp.where(mt, dh, dh_in)
                dc = xp.where(mt, dc, dc_in)
        dflat = dflat.reshape(4 * hidden, steps * batch)
        make = lambda arr: Tensor._make(arr, x._device)  # noqa: E731
        gx = gw_ih = gw_hh = gb = None
        if needs[0]:
            gx = (w_ih._data.T @ dflat).reshape(k - 1, steps, batch).transpose(1, 2, 0)
            gx = make(xp.ascontiguousarray(gx[::-1] if reverse else gx))
        if needs[3] or needs[4] or needs[5] or needs[6]:
            # columns: input weights, bias, recurrent weights
            gw = dflat @ xh[:-1].transpose(1, 0, 2).reshape(k + hidden, steps * batch).T
            gw_ih, gb, gw_hh = make(gw[:, :k - 1]), make(gw[:, k - 1]), make(gw[:, k:])
        return (gx, make(dh.T.copy()) if needs[1] else None,
                make(dc.T.copy()) if needs[2] else None,
                gw_ih if needs[3] else None, gw_hh if needs[4] else None,
                gb if b_ih is not None and needs[5] else None,
                gb if b_hh is not None and needs[6] else None, None, None)


def _replay_grads(ctx, mode, grads):
    """Gradients of the composed layer, recorded so they can be differentiated again.

    ``ctx.saved_tensors`` are the fused node's tensor inputs, in its argument order:
    ``(x, h0, c0, w_ih, w_hh, b_ih, b_hh)`` for LSTM, ``(x, h0, w_ih, w_hh, b_ih, b_hh)`` for
    GRU; the two arguments after them (``reverse``, ``mask``) get no gradient.
    """
    inputs = list(ctx.saved_tensors)
    x, h0, *rest = inputs
    c0 = rest.pop(0) if mode == "LSTM" else None
    with flambeau.enable_grad():
        outs = _composed_layer(mode, x, h0, c0, *rest, None, ctx.reverse, ctx.mask)
        outs = [o for o in outs if o is not None]
        wanted = [t for t, need in zip(inputs, ctx.needs_input_grad) if need]
        got = iter(flambeau.autograd.grad(outs, wanted, list(grads), create_graph=True,
                                          allow_unused=True))
    res = [next(got) if need else None for need in ctx.needs_input_grad[:len(inputs)]]
    return (*res, None, None)


# ------------------------------------------------------------------ fused GRU layer


def _gru_cell(xp, act, hs, h_prev, h, *, tmp):
    """One GRU step after its recurrent product (the ``"gru_cell"`` kernel's contract;
    ``tmp`` is the generic code's ``(batch, hidden)`` scratch).

    ``act`` ``(batch, 3 * hidden)`` holds the scaled input-side pre-activations of the r, z, n
    gates (see :class:`_GRULayer`) and is activated in place; ``hs`` the scaled hidden-side
    ones (``W_hh h_prev + b_hh``); ``h = n + z * (h_prev - n)`` is written.
    """
    hidden = h.shape[-1]
    h2 = 2 * hidden
    rz = act[:, :h2]
    rz += hs[:, :h2]
    xp.exp(rz, out=rz)
    rz += 1
    xp.divide(1, rz, out=rz)  # r, z (a division: see _lstm_cell)
    n = act[:, h2:]
    xp.multiply(act[:, :hidden], hs[:, h2:], out=tmp)
    n += tmp
    xp.exp(n, out=n)
    n += 0.5
    xp.divide(1, n, out=n)
    n -= 1
    xp.subtract(h_prev, n, out=tmp)
    tmp *= act[:, hidden:h2]
    xp.add(n, tmp, out=h)  # n + z * (h_prev - n)


def _gru_cell_backward(xp, dh, go, k_n, k_z, k_r, r, z, d, dn, tmp):
    """One step of GRU backpropagation through time, before the recurrent product (the
    ``"gru_cell_backward"`` kernel's contract).

    With ``dh + go`` the gradient of the step's ``h`` (``dh`` may be overwritten), writes the
    input-side gradient of the n gate ``dn = (dh + go) * k_n``, the hidden-side gate gradients
    ``d`` ``(batch, 3 * hidden)``: ``dn * k_r`` (r), ``(dh + go) * k_z`` (z), ``dn * r``
    (``W_hn h``), and ``tmp = (dh + go) * z``, the direct part of ``h_prev``'s gradient.
    """
    hidden = dn.shape[-1]
    dh += go
    xp.multiply(dh, k_n, out=dn)
    xp.multiply(dh, k_z, out=d[:, hidden:2 * hidden])
    xp.multiply(dn, k_r, out=d[:, :hidden])
    xp.multiply(dn, r, out=d[:, 2 * hidden:])
    xp.multiply(dh, z, out=tmp)


class _GRULayer(Function):
    """Fused GRU layer (one direction): ``(x, h0, w_ih, w_hh, b_ih, b_hh) -> (out, h)``.

    Gate rows (r, z, n) as in PyTorch, whose hidden bias of n stays inside the reset
    product: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. As in the LSTM kernel, scale
    factors folded into the weights make every activation ``1 / (c + exp(.))``. ``[h, 1]``
    per step carries the hidden bias through the recurrent product, so the hidden-side
    weight and bias gradients come from one product (and the input side's from another).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, mask):
        xp = x._device._xp
        a = x._data
        steps, batch, n_in = a.shape
        hidden = w_hh._data.shape[1]
        dt = a.dtype
        # the n gate's log(0.5) shift goes on the input side only: the reset gate multiplies
        # the hidden side
        scale, shift = _gate_affine(xp, hidden, dt, 3, 2)
        xa = _inputs_with_ones(xp, a, reverse)  # [x, 1] per step
        w_x = _weight_with_bias(xp, w_ih._data, None if b_ih is None else b_ih._data, scale, shift)
        # explicit sizes: a -1 is ambiguous for an empty batch
        acts = (xa.reshape(steps * batch, n_in + 1) @ w_x).reshape(steps, batch, 3 * hidden)
        ha = xp.empty((steps + 1, batch, hidden + 1), dtype=dt)  # [h_prev, 1] per step
        ha[:, :, hidden] = 1
        ha[0, :, :hidden] = h0._data
        w_h = _weight_with_bias(xp, w_hh._data, None if b_hh is None else b_hh._data, scale)
        gh = xp.empty((steps, batch, 3 * hidden), dtype=dt)  # scaled W_hh h + b_hh
        tmp = xp.empty((batch, hidden), dtype=dt)
        m = None if mask is None else mask._data
        cell = _fused_kernel(x, "gru_cell") or functools.partial(_gru_cell, xp, tmp=tmp)
        with errors_ignored(xp, "over"):
            for s in range(steps):
                xp.matmul(ha[s], w_h, out=gh[s])
                h_prev, h = ha[s, :, :hidden], ha[s + 1, :, :hidden]
                cell(acts[s], gh[s], h_prev, h)
                if m is not None:
                    xp.copyto(h, h_prev, where=~m[steps - 1 - s if reverse else s])
        out = ha[1:, :, :hidden]
        out = out[::-1] if reverse else out
        out = xp.where(m, out, 0) if m is not None else out.copy()
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.cache = (acts, gh, ha, xa)
        ctx.reverse, ctx.mask = reverse, mask
        return out, ha[steps, :, :hidden].copy()

    @staticmethod
    def backward(ctx, g_out, g_h):
        x, h0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        if _grad_state.grad_enabled:  # create_graph: differentiate the composed steps
            return _replay_grads(ctx, "GRU", (g_out, g_h))
        xp = x._device._xp
        acts, gh, ha, xa = ctx.cache  # kept: a retained graph runs this backward again
        steps, batch, three_h = acts.shape
        hidden = three_h // 3
        h2 = 2 * hidden
        reverse = ctx.reverse
        m = None if ctx.mask is None else ctx.mask._data
        r, z, n = acts[:, :, :hidden], acts[:, :, hidden:h2], acts[:, :, h2:]
        # factors of the gate gradients that do not depend on the incoming gradient
        k_n = (1 - z) * (1 - n * n)  # d n_pre = dh * k_n
        k_z = (ha[:-1, :, :hidden] - n) * z * (1 - z)  # d z_pre = dh * k_z
        k_r = gh[:, :, h2:] * (-0.5 * r * (1 - r))  # d r_pre = d n_pre * k_r (unscaled W_hn h)
        go = g_out._data[::-1] if reverse else g_out._data  # processing order
        spares = (g_h._data.copy(), xp.empty_like(g_h._data))
        dh = spares[0]
        tmp = xp.empty_like(dh)
        d_h = xp.empty((steps, batch, three_h), dtype=acts.dtype)  # hidden side: r, z, W_hn h
        d_n = xp.empty((steps, batch, hidden), dtype=acts.dtype)  # input side of n
        w = w_hh._data
        needs = ctx.needs_input_grad
        cell_backward = (_fused_kernel(x, "gru_cell_backward") if m is None else None) or (
            functools.partial(_gru_cell_backward, xp))
        zero = xp.zeros((), dtype=dh.dtype)
        if m is not None:  # masked steps pass dh through: they see no gradient of their own
            go = xp.where(m[::-1] if reverse else m, go, zero)
        for s in reversed(range(steps)):
            if m is not None:
                mt = m[steps - 1 - s if reverse else s]
                dh_in = dh
                dh = xp.where(mt, dh, zero)
            cell_backward(dh, go[s], k_n[s], k_z[s], k_r[s], r[s], z[s], d_h[s], d_n[s], tmp)
            if s or needs[1]:  # the first step's product is the gradient of h0 only
                spare = None if m is not None else spares[dh is spares[0]]
                dh = xp.matmul(d_h[s], w, out=spare)
                dh += tmp
            if m is not None:
                dh = xp.where(mt, dh, dh_in)
        d_x = d_h.copy()  # input side: r, z as the hidden side, n before the reset product
        d_x[:, :, h2:] = d_n
        d_x, d_h = d_x.reshape(steps * batch, three_h), d_h.reshape(steps * batch, three_h)
        make = lambda arr: Tensor._make(arr, x._device)  # noqa: E731
        gx = gw_ih = gw_hh = gb_ih = gb_hh = None
        if needs[0]:
            gx = (d_x @ w_ih._data).reshape(x._data.shape)
            gx = make(gx[::-1] if reverse else gx)
        if needs[2] or needs[4]:
            gw = (xa.reshape(steps * batch, xa.shape[2]).T @ d_x).T  # columns: weights, bias
            gw_ih, gb_ih = make(gw[:, :-1]), make(gw[:, -1])
        if needs[3] or needs[5]:
            gw = (ha[:-1].reshape(steps * batch, hidden + 1).T @ d_h).T  # columns: weights, bias
            gw_hh, gb_hh = make(gw[:, :-1]), make(gw[:, -1])
        return (gx, make(dh) if needs[1] else None, gw_ih if needs[2] else None,
                gw_hh if needs[3] else None, gb_ih if b_ih is not None and needs[4] else None,
                gb_hh if b_hh is not None and needs[5] else None, None, None)


_OPERANDS = ("hx", "cx", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")


def layer(mode, x, h0, c0, weights, reverse, mask, composed=False):
    """One direction of one recurrent layer: ``(out, h_n, c_n)`` (``c_n`` None but for LSTM),
    through a fused kernel where there is one (LSTM without projections, GRU; real dtypes),
    unless ``composed``: then from flambeau ops, whose matrix products autocast casts one by
    one (as PyTorch's unfused CPU code)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    # the fused kernels copy weights and states into buffers of x's device: check first (a
    # host weight would reach a GPU buffer as CuPy's fill error, or be taken silently)
    for name, t in zip(_OPERANDS, (h0, c0, *weights)):
        if t is not None and t._device is not x._device:
            raise RuntimeError(f"{mode.partition('_')[0]}: expected all tensors to be on the "
                               f"same device, got input on {x.device} and {name} on {t.device}")
    # the fused backward passes are real arithmetic (no conjugates): complex layers compose
    if x._data.dtype.kind != "c" and not composed:
        if mode == "LSTM" and w_hr is None:
            return _LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, mask)
        if mode == "GRU":
            return (*_GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, mask), None)
    return _composed_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, mask)

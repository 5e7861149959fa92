"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's layout.

The modules check inputs and states, hold PyTorch's parameters and loop over layers and
directions; the per-layer kernels (fused for LSTM and GRU) are in ``_rnn_layers``.
"""

from __future__ import annotations

import math

import numpy as np

import flambeau
import flambeau.nn.functional as F
from flambeau._tensor import Tensor
from flambeau.amp import _autocast
from flambeau.nn import init
from flambeau.nn.modules._rnn_layers import _gru_step, _lstm_step, _rnn_step, autocast_cell
from flambeau.nn.modules._rnn_layers import layer as run_layer
from flambeau.nn.modules.module import Module
from flambeau.nn.parameter import Parameter
from flambeau.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------ the stacked layers


def stacked(mode, x, h0, c0, weights, num_layers, dirs, dropout, mask):
    """``(output, h_n, c_n)`` of ``num_layers`` stacked layers of ``dirs`` directions over
    ``x`` (seq, batch, features): what :class:`RNNBase` and ``flambeau.lstm``/``gru``/
    ``rnn_tanh``/``rnn_relu`` run once they have checked their arguments.

    ``weights[layer * dirs + d]`` is ``(w_ih, w_hh, b_ih, b_hh, w_hr)`` (None where absent),
    ``h0``/``c0`` ``(num_layers * dirs, batch, size)`` (``c0`` None but for LSTM), ``dropout``
    the probability applied between layers (0 outside training), ``mask`` the valid steps of
    a padded packed batch or None. Autocast runs as torch's layers do on each device: the
    whole stack in one low-precision dtype (cuDNN's, oneDNN's LSTM) or each matrix product
    cast (the unfused code).
    """
    autocast = _autocast.active and flambeau.is_autocast_enabled(x.device.type)
    whole = None
    if autocast:
        onednn = mode == "LSTM" and weights[0][4] is None and mask is None
        whole = _autocast.recurrent_dtype("lstm_layer" if onednn else "rnn_layer", x)
    if whole is None:
        # under autocast, each matrix product casts its inputs, as torch's unfused code
        return _stacked(mode, x, h0, c0, weights, num_layers, dirs, dropout, mask, autocast)
    # the whole stack in one low-precision dtype, as torch's cuDNN and oneDNN layers
    n = len(weights[0])
    x, h0, c0, *flat = _autocast.cast_inputs(
        "lower", x, h0, c0, *[w for ws in weights for w in ws], dtype=whole)
    weights = [flat[k:k + n] for k in range(0, len(flat), n)]
    with _autocast.autocast(x.device.type, enabled=False):
        return _stacked(mode, x, h0, c0, weights, num_layers, dirs, dropout, mask, False)


def _stacked(mode, x, h0, c0, weights, num_layers, dirs, dropout, mask, composed):
    layer_in = x
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            out, h, c = run_layer(mode, layer_in, h0[k], c0[k] if c0 is not None else None,
                                  weights[k], bool(d), mask, composed)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_in = outs[0] if dirs == 1 else flambeau.cat(outs, -1)
        if dropout and layer < num_layers - 1:
            layer_in = F.dropout(layer_in, dropout, True)
    c_n = flambeau.stack(c_n) if mode == "LSTM" else None
    return layer_in, flambeau.stack(h_n), c_n


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

    def flatten_parameters(self):
        """Do nothing: PyTorch packs the weights into one cuDNN buffer here; flambeau's
        kernels read the parameters as they are. Kept so that models calling it run.

        Examples
        --------
        >>> from flambeau import nn
        >>> lstm = nn.LSTM(4, 8)
        >>> lstm.flatten_parameters() is None
        True
        """

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
            valid = np.arange(steps)[:, None, None] < lengths.cpu().numpy()[None, :, None]
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
        autocast = _autocast.active and flambeau.is_autocast_enabled(x.device.type)
        if x.dtype != self.weight_ih_l0.dtype and not autocast:  # as torch's, which autocast
            wd = self.weight_ih_l0.dtype  # skips: its casts make the dtypes agree
            raise ValueError(f"{name}: input dtype ({x.dtype}) does not match weight dtype "
                             f"({wd}). Convert input: input.to({wd}), or convert model: "
                             f"model.to({x.dtype})")
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        dirs = 2 if self.bidirectional else 1
        batch = x.shape[1]
        out_size = self.proj_size or self.hidden_size
        h0, c0 = self._initial_state(hx, x, batch, dirs, out_size, unbatched, packed, input)
        weights = [self._weights(layer, d) for layer in range(self.num_layers)
                   for d in range(dirs)]
        out, h_n, c_n = stacked(self.mode, x, h0, c0, weights, self.num_layers, dirs,
                                self.dropout if self.training else 0.0, mask)
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

    ``num_chunks`` is the number of gates stacked in the weights' rows (1 for an RNN cell,
    4 for an LSTM cell, 3 for a GRU cell), as torch's ``RNNCellBase``.

    Examples
    --------
    >>> from flambeau import nn
    >>> cell = nn.LSTMCell(4, 8)
    >>> isinstance(cell, nn.RNNCellBase), cell.weight_hh.shape
    (True, flambeau.Size([32, 8]))
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = {"device": device, "dtype": dtype}
        rows = num_chunks * hidden_size
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
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _cell_weights(self):
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

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
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        x, (h,), (w_ih, w_hh, b_ih, b_hh) = autocast_cell(
            f"rnn_{self.nonlinearity}_cell", x, [h], self._cell_weights())
        h = _rnn_step(mode, F.linear(x, w_ih, b_ih), h, w_hh, b_hh)
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

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), unbatched = self._prepare(input, hx, states=2)
        x, (h, c), (w_ih, w_hh, b_ih, b_hh) = autocast_cell("lstm_cell", x, [h, c],
                                                             self._cell_weights())
        h, c = _lstm_step(F.linear(x, w_ih, b_ih), h, c, w_hh, b_hh)
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

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx)
        x, (h,), (w_ih, w_hh, b_ih, b_hh) = autocast_cell("gru_cell", x, [h],
                                                          self._cell_weights())
        h = _gru_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh)
        return h.squeeze(0) if unbatched else h

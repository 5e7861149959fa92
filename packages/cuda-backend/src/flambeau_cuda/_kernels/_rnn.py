"""Fused LSTM and GRU steps: a time step's elementwise work in one launch instead of about ten.

Signatures and semantics are flambeau-nn's generic ``_lstm_cell`` / ``_lstm_cell_backward``
(in ``flambeau.nn.modules._rnn_layers``) without their ``xp`` argument; every array is
contiguous float32 or float64, ``(hidden, batch)`` unless said otherwise:

- ``lstm_cell(act, c_prev, fc, ig, c, tc, h)``: ``act`` ``(4 * hidden, batch)`` holds the
  scaled pre-activations (``-z`` for the i, f, o gates, ``-2z`` for g) and is activated in
  place; ``fc = f * c_prev``, ``ig = i * g``, ``c = fc + ig``, ``tc = tanh(c)``,
  ``h = o * tc`` are written.
- ``lstm_cell_backward(dh, go, dc, k_c, k3, k_o, f, d, dflat, s)``: the gate gradients of one
  step into ``d`` ``(4 * hidden, batch)`` and column ``s`` of ``dflat``
  ``(4 * hidden, steps, batch)``; ``dc`` becomes the gradient of ``c_prev``. ``k3`` is
  ``(3, hidden, batch)``.

The GRU's (generic ``_gru_cell`` / ``_gru_cell_backward``), batch-major: ``(batch, hidden)``
arrays that may be strided views (CuPy indexes them), and contiguous ``(batch, 3 * hidden)``
gate arrays:

- ``gru_cell(act, hs, h_prev, h)``: ``act`` holds the scaled input-side pre-activations of
  r, z, n and is activated in place, ``hs`` the scaled hidden-side ones;
  ``h = n + z * (h_prev - n)`` is written.
- ``gru_cell_backward(dh, go, k_n, k_z, k_r, r, z, d, dn, tmp)``: with ``g = dh + go``,
  ``dn = g * k_n``; ``d`` gets ``dn * k_r`` (r), ``g * k_z`` (z) and ``dn * r`` (the hidden
  side of n); ``tmp = g * z``.

One thread handles one ``(unit, sample)`` pair of all the gates; the recurrent matrix
product between steps stays with cuBLAS.
"""

from __future__ import annotations

from flambeau_cuda._kernels._spec import ElementwiseSpec, dtype_name

__all__ = ["GRU_CELL", "GRU_CELL_BACKWARD", "LSTM_CELL", "LSTM_CELL_BACKWARD", "gru_cell",
           "gru_cell_backward", "lstm_cell", "lstm_cell_backward"]

# gate k of unit-sample i sits at act[k * HB + i]; sigmoid(z) = 1 / (1 + exp(-z)) and
# tanh(z) = 2 / (1 + exp(-2z)) - 1 from the scaled pre-activations, as the generic code does
LSTM_CELL = ElementwiseSpec("lstm_cell", "T c_prev, int64 HB",
                            "raw T act, T fc, T ig, T c, T tc, T h", r"""
acc_t a_i = (acc_t)1 / ((acc_t)1 + exp((acc_t)act[i]));
acc_t a_f = (acc_t)1 / ((acc_t)1 + exp((acc_t)act[i + HB]));
acc_t a_g = (acc_t)2 / ((acc_t)1 + exp((acc_t)act[i + 2 * HB])) - (acc_t)1;
acc_t a_o = (acc_t)1 / ((acc_t)1 + exp((acc_t)act[i + 3 * HB]));
act[i] = (T)a_i;
act[i + HB] = (T)a_f;
act[i + 2 * HB] = (T)a_g;
act[i + 3 * HB] = (T)a_o;
acc_t v_fc = a_f * (acc_t)c_prev, v_ig = a_i * a_g;
acc_t v_c = v_fc + v_ig;
acc_t v_tc = tanh(v_c);
fc = (T)v_fc;
ig = (T)v_ig;
c = (T)v_c;
tc = (T)v_tc;
h = (T)(a_o * v_tc);
""")

# dflat is (4H, steps, B): gate k of unit r, sample b, step s at ((k * H + r) * steps + s) * B + b
# = k * H * steps * B + r * steps * B + s * B + b, with i = r * B + b
LSTM_CELL_BACKWARD = ElementwiseSpec(
    "lstm_cell_backward", "T go, T k_c, T k_o, T f, raw T k3, int64 HB, int64 B, int64 s, "
    "int64 steps", "T dh, T dc, raw T d, raw T dflat", r"""
acc_t g_h = (acc_t)dh + (acc_t)go;
acc_t g_c = (acc_t)dc + g_h * (acc_t)k_c;
acc_t d_i = g_c * (acc_t)k3[i];
acc_t d_f = g_c * (acc_t)k3[i + HB];
acc_t d_g = g_c * (acc_t)k3[i + 2 * HB];
acc_t d_o = g_h * (acc_t)k_o;
d[i] = (T)d_i;
d[i + HB] = (T)d_f;
d[i + 2 * HB] = (T)d_g;
d[i + 3 * HB] = (T)d_o;
long long col = (i / B) * steps * B + s * B + i % B;
long long gate = HB * steps;
dflat[col] = (T)d_i;
dflat[col + gate] = (T)d_f;
dflat[col + 2 * gate] = (T)d_g;
dflat[col + 3 * gate] = (T)d_o;
dc = (T)(g_c * (acc_t)f);
""")


# gate k of sample b, unit j at act[b * 3H + k * H + j], with i = b * H + j; the n gate's
# tanh is 1 / (0.5 + exp(.)) - 1 of its scaled pre-activation, as the generic code computes
GRU_CELL = ElementwiseSpec("gru_cell", "T h_prev, raw T hs, int64 H", "raw T act, T h", r"""
long long row = (i / H) * 3 * H + i % H;
acc_t r = (acc_t)1 / ((acc_t)1 + exp((acc_t)act[row] + (acc_t)hs[row]));
acc_t z = (acc_t)1 / ((acc_t)1 + exp((acc_t)act[row + H] + (acc_t)hs[row + H]));
acc_t n = (acc_t)1 / ((acc_t)0.5 + exp((acc_t)act[row + 2 * H] + r * (acc_t)hs[row + 2 * H]))
          - (acc_t)1;
act[row] = (T)r;
act[row + H] = (T)z;
act[row + 2 * H] = (T)n;
h = (T)(n + z * ((acc_t)h_prev - n));
""")

GRU_CELL_BACKWARD = ElementwiseSpec(
    "gru_cell_backward", "T go, T k_n, T k_z, T k_r, T r, T z, int64 H",
    "T dh, T dn, T tmp, raw T d", r"""
long long row = (i / H) * 3 * H + i % H;
acc_t g = (acc_t)dh + (acc_t)go;
acc_t v_dn = g * (acc_t)k_n;
dh = (T)g;
dn = (T)v_dn;
d[row] = (T)(v_dn * (acc_t)k_r);
d[row + H] = (T)(g * (acc_t)k_z);
d[row + 2 * H] = (T)(v_dn * (acc_t)r);
tmp = (T)(g * (acc_t)z);
""")


def gru_cell(act, hs, h_prev, h):
    """The ``"gru_cell"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._rnn import gru_cell
    >>> act, hs = cupy.zeros((1, 3)), cupy.zeros((1, 3))  # doctest: +SKIP
    >>> h = cupy.empty((1, 1))  # doctest: +SKIP
    >>> gru_cell(act, hs, cupy.ones((1, 1)), h)  # doctest: +SKIP
    >>> round(float(h[0, 0]), 6)  # n = 1 / 1.5 - 1, z = 0.5: n + z * (1 - n)  # doctest: +SKIP
    0.333333
    """
    GRU_CELL.build(dtype_name(act.dtype))(h_prev, hs, h.shape[-1], act, h)


def gru_cell_backward(dh, go, k_n, k_z, k_r, r, z, d, dn, tmp):
    """The ``"gru_cell_backward"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._rnn import gru_cell_backward
    >>> one = lambda *s: cupy.ones(s)  # doctest: +SKIP
    >>> d, dn, tmp = cupy.empty((1, 3)), cupy.empty((1, 1)), cupy.empty((1, 1))  # doctest: +SKIP
    >>> gru_cell_backward(one(1, 1), one(1, 1), *[one(1, 1)] * 5, d, dn, tmp)  # doctest: +SKIP
    >>> d.ravel().tolist(), tmp.item()  # doctest: +SKIP
    ([2.0, 2.0, 2.0], 2.0)
    """
    GRU_CELL_BACKWARD.build(dtype_name(dh.dtype))(go, k_n, k_z, k_r, r, z, dn.shape[-1], dh, dn,
                                           tmp, d)


def lstm_cell(act, c_prev, fc, ig, c, tc, h):
    """The ``"lstm_cell"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._rnn import lstm_cell
    >>> act, c_prev = cupy.zeros((4, 1)), cupy.ones((1, 1))  # doctest: +SKIP
    >>> out = [cupy.empty((1, 1)) for _ in range(5)]  # doctest: +SKIP
    >>> lstm_cell(act, c_prev, *out)  # doctest: +SKIP
    >>> float(out[2][0, 0])  # c = sigmoid(0) * 1 + sigmoid(0) * tanh(0)  # doctest: +SKIP
    0.5
    """
    LSTM_CELL.build(dtype_name(act.dtype))(c_prev, c_prev.size, act, fc, ig, c, tc, h)


def lstm_cell_backward(dh, go, dc, k_c, k3, k_o, f, d, dflat, s):
    """The ``"lstm_cell_backward"`` kernel: see the module docstring.

    Examples
    --------
    >>> import cupy  # doctest: +SKIP
    >>> from flambeau_cuda._kernels._rnn import lstm_cell_backward
    >>> one = lambda *s: cupy.ones(s)  # doctest: +SKIP
    >>> d, dflat, dc = cupy.empty((4, 1)), cupy.empty((4, 1, 1)), one(1, 1)  # doctest: +SKIP
    >>> lstm_cell_backward(one(1, 1), one(1, 1), dc, one(1, 1), one(3, 1, 1), one(1, 1),
    ...                    one(1, 1), d, dflat, 0)  # doctest: +SKIP
    >>> d.ravel().tolist(), dc.item()  # doctest: +SKIP
    ([3.0, 3.0, 3.0, 2.0], 3.0)
    """
    batch = dh.shape[1]
    LSTM_CELL_BACKWARD.build(dtype_name(dh.dtype))(go, k_c, k_o, f, k3, dh.size, batch, s,
                                            dflat.shape[1], dh, dc, d, dflat)

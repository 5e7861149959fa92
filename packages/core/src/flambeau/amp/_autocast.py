"""Autocast: run chosen ops in a low-precision dtype and others in float32.

Ops ask :func:`cast_inputs` for their inputs' dtypes. The common case (no autocast region
anywhere) costs one module-global test in the op: ``if _autocast.active:``.

The op families follow PyTorch's autocast op lists, taking the union of its CPU and CUDA lists
on every device so that a model behaves the same wherever it runs:

- ``"lower"`` (cast to the region's dtype): matmul, mm, bmm, addmm, addmv, baddbmm, einsum,
  linear, conv*, conv_transpose*, prelu, scaled_dot_product_attention, vecdot.
- ``"fp32"`` (cast to float32): softmax, log_softmax, softmin, losses, norms (layer/group/batch
  norm, ``norm``), reductions (sum, prod, cumsum, cumprod, logsumexp) and exp, log, pow and
  friends (:data:`FP32_OPS`).
- ``"promote"`` (cast to the widest floating dtype among the inputs): cat, stack, addcmul, ...

The recurrent layers and cells are the exception: PyTorch's CPU and CUDA lists treat them
differently, and so does :func:`recurrent_dtype`, so that their outputs and states have
PyTorch's dtypes on each device (:data:`RECURRENT_OPS`):

- On CUDA (and other accelerators) a whole ``nn.RNN``/``LSTM``/``GRU`` runs in float16, whatever
  the region's dtype (PyTorch casts cuDNN's RNN to float16), and the cells (``nn.LSTMCell``,
  ``flambeau.lstm_cell``...) in the region's dtype: outputs and every state are low precision.
- On the CPU only an LSTM without projections on a padded (not packed) input runs whole in
  the region's dtype (oneDNN's LSTM layer, on PyTorch's CPU list): its output, ``h_n`` and
  ``c_n`` are low precision. GRU, RNN, the other LSTMs and the cells compute through the casts
  of their matrix products, as PyTorch's unfused CPU code: a state updated from low-precision
  gates and a float32 state stays float32 (a GRU's; an LSTM's cell state, and its hidden state
  without projections), while an RNN's output and state, and those of an LSTM's projection,
  are low precision.

In both cases the gradients reach the float32 parameters and inputs in float32.

float64 tensors, integer tensors and tensors on other device types are never cast, as in
PyTorch. Ops in no list that are built on listed ones (``dot``, ``linalg.lstsq``, the
resampling of ``interpolate``) turn autocast off inside (:func:`not_cast`), so that they
compute in their inputs' dtype as PyTorch's do.
"""

from __future__ import annotations

import functools
import threading

from flambeau import _dtype

__all__ = ["autocast", "cast_inputs", "is_autocast_enabled", "get_autocast_dtype",
           "FP32_OPS", "LOWER_OPS", "RECURRENT_OPS", "not_cast", "recurrent_dtype"]

#: ops (by flambeau function name) that autocast runs in the region's low-precision dtype
LOWER_OPS = frozenset({
    "matmul", "mm", "bmm", "mv", "addmm", "addmv", "baddbmm", "einsum", "linear", "bilinear",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "prelu", "scaled_dot_product_attention", "multi_head_attention_forward", "vecdot",
})

#: recurrent ops, by device kind -> the ops autocast runs whole in low precision there
#: (:func:`recurrent_dtype`): a whole layer (``"rnn_layer"``: RNN, GRU or LSTM) or a cell on
#: CUDA and other accelerators (PyTorch's CUDA list and its cuDNN RNN); on the CPU only
#: ``"lstm_layer"``, an LSTM layer without projections on padded input (oneDNN's, on
#: PyTorch's CPU list; other layers are ``"rnn_layer"``)
RECURRENT_OPS = {
    "cpu": frozenset({"lstm_layer"}),
    "accelerator": frozenset({"lstm_layer", "rnn_layer", "lstm_cell", "gru_cell",
                              "rnn_tanh_cell", "rnn_relu_cell"}),
}
#: the layers PyTorch runs on an accelerator in float16 whatever the region's dtype
_FLOAT16_LAYERS = frozenset({"lstm_layer", "rnn_layer"})

#: ops that autocast runs in float32
FP32_OPS = frozenset({
    "acos", "asin", "cosh", "sinh", "tan", "exp", "expm1", "log", "log10", "log1p", "log2",
    "pow", "reciprocal", "rsqrt", "softplus",
    "softmax", "log_softmax", "softmin", "logsumexp", "sum", "prod", "cumsum", "cumprod",
    "norm", "dist", "cdist", "renorm", "normalize", "cosine_similarity",
    "layer_norm", "group_norm", "batch_norm", "instance_norm", "rms_norm", "local_response_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss",
    "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss", "soft_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "ctc_loss",
})

_LOW_DTYPES = {"float16": _dtype.float16, "bfloat16": _dtype.bfloat16}
_DEFAULT_DTYPES = {"cpu": _dtype.bfloat16}  # every other device type: float16, as PyTorch

#: number of enabled autocast regions in all threads; ops skip autocast entirely when 0
active = 0
_active_lock = threading.Lock()


class _State(threading.local):
    def __init__(self):
        self.dtypes = {}  # device type -> low-precision dtype, for enabled device types only
        self.chosen = {}  # device type -> dtype of the innermost region, enabled or not
        self.cache_enabled = True
        self.depth = 0  # nesting of autocast blocks in this thread (enabled or not)
        self.cache = {}  # (id(tensor), dtype name) -> (tensor, version, cast tensor)
        self.switched_on = False  # counted in ``active`` by a setter (``_set_enabled``)


_state = _State()


def _set_enabled(device_type, enabled):
    """Turn autocast on or off for ``device_type`` in this thread (the setters of
    ``flambeau.set_autocast_enabled``); an enclosing region of that device type restores it
    on exit."""
    st = _state
    dtypes = dict(st.dtypes)  # copy: a region's saved state must not see the change
    if enabled:
        dtypes[device_type] = get_autocast_dtype(device_type)
    else:
        dtypes.pop(device_type, None)
    st.dtypes = dtypes
    _count_switched_on(st)


def _count_switched_on(st):
    """Ops test ``active`` before the thread's state: count this thread in it while autocast
    is on for some device type outside any region (regions count themselves), so that a
    setter's state works and, once off again (by a setter or a region's exit), costs ops
    nothing."""
    global active
    on = bool(st.dtypes)
    if on != st.switched_on and (on or st.depth == 0):
        st.switched_on = on
        with _active_lock:
            active += 1 if on else -1


def _set_dtype(device_type, dtype):
    """The dtype autocast uses for ``device_type`` in this thread from now on."""
    st = _state
    st.chosen = {**st.chosen, device_type: dtype}
    if device_type in st.dtypes:
        st.dtypes = {**st.dtypes, device_type: dtype}


def is_autocast_enabled(device_type=None) -> bool:
    """Whether autocast is on for ``device_type`` (any device type when None) in this thread.

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.autocast("cpu"):
    ...     flambeau.is_autocast_enabled("cpu"), flambeau.is_autocast_enabled("cuda")
    (True, False)
    >>> flambeau.is_autocast_enabled("cpu")
    False
    """
    if device_type is None:
        return bool(_state.dtypes)
    return device_type in _state.dtypes


def get_autocast_dtype(device_type):
    """The low-precision dtype autocast uses for ``device_type``: the innermost region's
    (even a disabled one's, as in torch), else the default (bfloat16 on CPU, float16 elsewhere).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.get_autocast_dtype("cpu")
    flambeau.bfloat16
    >>> with flambeau.autocast("cpu", dtype=flambeau.float16):
    ...     flambeau.get_autocast_dtype("cpu")
    flambeau.float16
    """
    dt = _state.chosen.get(device_type)
    return dt if dt is not None else _DEFAULT_DTYPES.get(device_type, _dtype.float16)


def _cast(t, target):
    """``t.to(target)``, reusing the cast of a weight (leaf requiring grad) within a region."""
    if not (_state.cache_enabled and t._requires_grad and t.grad_fn is None):
        return t.to(target)
    key = (id(t), target.name)
    hit = _state.cache.get(key)
    version = t._version_counter.value
    if hit is not None and hit[0] is t and hit[1] == version:
        return hit[2]
    out = t.to(target)
    _state.cache[key] = (t, version, out)  # holding t keeps id(t) from being reused
    return out


def _eligible(t, dtypes):
    """The region's dtype for a floating tensor autocast may cast, else None."""
    data = getattr(t, "_data", None)
    if data is None or data.dtype.kind not in "fV" or data.dtype.itemsize == 8:
        return None  # not a tensor, not floating (bfloat16's kind is "V"), or float64
    return dtypes.get(t._device.type)


def cast_inputs(op_family, *tensors, dtype=None):
    """``tensors`` cast as autocast wants them for an op of ``op_family``.

    Call it first thing in an op whose name is in :data:`LOWER_OPS` or :data:`FP32_OPS`, behind
    the cheap module-level test, and use what it returns::

        from flambeau.amp import _autocast

        if _autocast.active:
            input, weight, bias = _autocast.cast_inputs("lower", input, weight, bias)

    Parameters
    ----------
    op_family : {"lower", "fp32", "promote"}
        ``"lower"``: floating tensors go to the region's dtype (float16/bfloat16);
        ``"fp32"``: float16/bfloat16 tensors go to float32; ``"promote"``: floating tensors go
        to the widest floating dtype among them.
    *tensors
        The op's inputs; anything that is not a tensor (None, numbers) is returned unchanged,
        and so are float64 and integer tensors and tensors on device types without autocast.
    dtype : flambeau.dtype, optional
        For ``"lower"``: the low-precision dtype to cast to instead of the region's (as
        :func:`recurrent_dtype` gives it).

    Returns
    -------
    tuple
        One entry per argument. The casts are differentiable, so gradients reach the
        original tensors in their own dtype.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp._autocast import cast_inputs
    >>> a, b = flambeau.ones(2), flambeau.ones(2, dtype=flambeau.float64)
    >>> with flambeau.autocast("cpu"):
    ...     [t.dtype for t in cast_inputs("lower", a, b, None) if t is not None]
    [flambeau.bfloat16, flambeau.float64]
    """
    dtypes = _state.dtypes
    if not dtypes:
        return tensors
    if op_family == "lower":
        out = []
        for t in tensors:
            target = _eligible(t, dtypes)
            if target is not None and dtype is not None:
                target = dtype
            out.append(t if target is None or t._data.dtype == target.np else _cast(t, target))
        return tuple(out)
    if op_family == "fp32":
        f32 = _dtype.float32
        return tuple(t if _eligible(t, dtypes) is None or t._data.dtype == f32.np
                     else t.to(f32) for t in tensors)
    if op_family == "promote":
        widest = None
        for t in tensors:
            if _eligible(t, dtypes) is not None or getattr(t, "dtype", None) is _dtype.float64:
                widest = t.dtype if widest is None else _dtype.promote_types(widest, t.dtype)
        if widest is None:
            return tensors
        return tuple(t if _eligible(t, dtypes) is None or t.dtype is widest else t.to(widest)
                     for t in tensors)
    raise ValueError(f"cast_inputs: op_family must be 'lower', 'fp32' or 'promote', "
                     f"got {op_family!r}")


def recurrent_dtype(op, input):
    """The dtype autocast runs the recurrent op ``op`` in, whole, for ``input``; None where it
    does not, and the op's matrix products cast their own inputs.

    Parameters
    ----------
    op : str
        ``"lstm_layer"`` (an LSTM layer without projections, on padded input),
        ``"rnn_layer"`` (any other RNN, LSTM or GRU layer), ``"lstm_cell"``, ``"gru_cell"``,
        ``"rnn_tanh_cell"`` or ``"rnn_relu_cell"``.
    input : Tensor
        The op's input: autocast must be on for its device type, and it must be a float16,
        bfloat16 or float32 tensor.

    Returns
    -------
    flambeau.dtype or None
        As PyTorch's op lists (:data:`RECURRENT_OPS`): on the CPU the region's dtype for
        ``"lstm_layer"`` only; on CUDA and other accelerators float16 for the layers (cuDNN's
        RNN, whatever the region's dtype) and the region's dtype for the cells.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp._autocast import recurrent_dtype
    >>> x = flambeau.ones(2, 3)
    >>> with flambeau.autocast("cpu"):
    ...     recurrent_dtype("lstm_layer", x), recurrent_dtype("rnn_layer", x)
    (flambeau.bfloat16, None)
    >>> recurrent_dtype("lstm_layer", x) is None  # no region
    True
    """
    if not active:
        return None
    target = _eligible(input, _state.dtypes)
    if target is None:
        return None
    if input._device.type == "cpu":
        return target if op in RECURRENT_OPS["cpu"] else None
    if op not in RECURRENT_OPS["accelerator"]:
        return None
    return _dtype.float16 if op in _FLOAT16_LAYERS else target


def not_cast(fn):
    """Decorate an op that is in no autocast list but is built on ops that are (``dot`` and
    ``linalg.lstsq`` call matmul): inside a region it runs with autocast off for its
    tensors' device type, so it computes in its inputs' dtype, as PyTorch's does.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp._autocast import not_cast
    >>> square = not_cast(lambda m: m @ m)
    >>> with flambeau.autocast("cpu"):
    ...     square(flambeau.eye(2)).dtype
    flambeau.float32
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not active:
            return fn(*args, **kwargs)
        dev = next((a._device.type for a in args if hasattr(a, "_device")), None)
        if dev is None or dev not in _state.dtypes:
            return fn(*args, **kwargs)
        with autocast(dev, enabled=False):
            return fn(*args, **kwargs)

    return wrapper


def _restored(now, before, device_type):
    """``now`` with ``device_type``'s entry as in ``before`` (a new dict when it changes)."""
    if now.get(device_type) is before.get(device_type):
        return now
    now = dict(now)
    if device_type in before:
        now[device_type] = before[device_type]
    else:
        now.pop(device_type)
    return now


class autocast:
    """Run matrix products and convolutions in float16/bfloat16, and precision-sensitive ops
    in float32, inside a region (PyTorch's ``torch.autocast``).

    Usable as a context manager and as a decorator. Regions nest; an inner
    ``autocast(..., enabled=False)`` turns autocast off for its body. Casts are recorded by
    autograd, so gradients reach the parameters in the parameters' own dtype. See
    :mod:`flambeau.amp._autocast` for the op families.

    Parameters
    ----------
    device_type : str
        ``"cpu"``, ``"cuda"`` or another installed device type; only tensors on that device type
        are cast.
    dtype : flambeau.dtype, optional
        ``flambeau.bfloat16`` or ``flambeau.float16``; defaults to the enclosing region's
        (:func:`get_autocast_dtype`): bfloat16 on CPU and float16 elsewhere outside any
        region, as PyTorch.
    enabled : bool
        False makes the region a no-op (or turns off an enclosing region).
    cache_enabled : bool, optional
        Reuse the low-precision copy of each weight (a leaf tensor requiring grad) within the
        outermost region instead of casting it at every use; defaults to True.

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.ones(2, 3), flambeau.ones(3, 4)
    >>> with flambeau.autocast("cpu"):
    ...     c = a @ b
    ...     s = flambeau.softmax(c, dim=1)
    >>> c.dtype, s.dtype
    (flambeau.bfloat16, flambeau.float32)
    >>> @flambeau.autocast("cpu", dtype=flambeau.float16)
    ... def f(x, y):
    ...     return x @ y
    >>> f(a, b).dtype
    flambeau.float16
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise TypeError(f"autocast: device_type must be a string such as 'cpu' or 'cuda', "
                            f"got {device_type!r}")
        if ":" in device_type:
            raise ValueError(f"autocast: expected a device type without index ('cuda'), got "
                             f"{device_type!r}")
        if dtype is None:
            dtype = get_autocast_dtype(device_type)
        else:
            dtype = _dtype.to_dtype(dtype)
        if dtype.name not in _LOW_DTYPES:
            raise ValueError(f"autocast: dtype must be flambeau.bfloat16 or flambeau.float16, "
                             f"got {dtype}")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._prev = None

    def __enter__(self):
        global active
        st = _state
        self._prev = (st.dtypes, st.chosen, st.cache_enabled)
        st.chosen = {**st.chosen, self.device: self.fast_dtype}
        dtypes = dict(st.dtypes)
        if self._enabled:
            dtypes[self.device] = self.fast_dtype
        else:
            dtypes.pop(self.device, None)
        st.dtypes = dtypes
        st.cache_enabled = self._cache_enabled
        st.depth += 1
        with _active_lock:
            active += 1
        return self

    def __exit__(self, *exc):
        global active
        st = _state
        dtypes, chosen, st.cache_enabled = self._prev
        # this region's device type only, as torch: a setter's change to another device
        # type inside the region stays
        st.dtypes = _restored(st.dtypes, dtypes, self.device)
        st.chosen = _restored(st.chosen, chosen, self.device)
        st.depth -= 1
        if st.depth == 0:
            st.cache.clear()
        with _active_lock:
            active -= 1
        _count_switched_on(st)
        return False

    def __call__(self, fn):
        args = (self.device, self.fast_dtype, self._enabled, self._cache_enabled)

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with autocast(*args):
                return fn(*a, **kw)

        return wrapper

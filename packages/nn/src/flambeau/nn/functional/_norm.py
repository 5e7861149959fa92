"""flambeau.nn.functional: batch, layer, group, instance and RMS normalization.

The normalizations are composed from flambeau ops (mean, centred second moment, rsqrt), so
their gradients of every order come from autograd; running statistics are updated in place
without recording. Layer normalization, the one of every Transformer block, is also one
fused node (forward and backward on arrays, row sums as products with a vector of ones),
whose backward replays the composition when a graph of the gradient is wanted.
"""

from __future__ import annotations

import math

import flambeau
from flambeau import Tensor
from flambeau._ops._util import LOW_PRECISION_NP
from flambeau._ops.reduction import _sum_keep
from flambeau.amp import _autocast
from flambeau.autograd import Function
from flambeau.nn._complex import refuse_complex

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm",
           "rms_norm"]


def _normalize(x, axes, eps):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance) and the batch stats."""
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(axes, keepdim=True)
    return xc * (var + eps).rsqrt(), mean, var


def _complex_param(weight, bias):
    """Whether the affine ``weight`` or ``bias`` (None allowed) is complex."""
    return ((weight is not None and weight._data.dtype.kind == "c")
            or (bias is not None and bias._data.dtype.kind == "c"))


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_affine_channels(channels, weight, bias):
    """PyTorch's batch norm kernel reads the first element of a given weight or bias, an
    IndexError when there are no channels (instance norm's are batch times channels)."""
    if channels == 0 and (weight is not None or bias is not None):
        raise IndexError("select(): index 0 out of range for tensor of size [0] at dimension 0")


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _update_running(running, batch_stat, momentum, scale=1.0):
    """``running = (1 - momentum) * running + momentum * scale * batch_stat`` in place, on
    the arrays (nothing recorded)."""
    if running._device is not batch_stat._device:
        batch_stat = batch_stat.to(running._device)
    r = running._data
    s = batch_stat._data.reshape(r.shape)
    # a backend may fuse it (kernel "batch_norm_running"(r, s, momentum, scale), in place)
    if running._device.backend.run_kernel("batch_norm_running", r, s, momentum, scale) is None:
        _running_average(r, s, momentum, scale)
    running._version_counter.value += 1


def _running_average(r, s, momentum, scale):
    r *= 1 - momentum
    r += s.astype(r.dtype, copy=False) * (momentum * scale)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dimensions.

    In training mode the batch statistics are used and, when given, ``running_mean`` and
    ``running_var`` are updated in place (the variance unbiased); otherwise the running
    statistics normalize.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> x = flambeau.tensor([[1.0], [3.0]])
    >>> rm, rv = flambeau.zeros(1), flambeau.ones(1)
    >>> F.batch_norm(x, rm, rv, training=True, eps=0.0)
    tensor([[-1.],
            [ 1.]])
    >>> rm, rv
    (tensor([0.2000]), tensor([1.1000]))
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps)[0]


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """:func:`batch_norm`'s ``(output, batch mean, biased batch variance)``; the statistics
    (kept dims, no gradient) are None unless it normalized with the batch's
    (``flambeau.native_batch_norm`` returns them)."""
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("fp32", input, weight, bias)
    # the checks read the arrays' own shapes: a training step runs this forty times (ResNet-18)
    a = input._data if isinstance(input, Tensor) else None
    if a is None or a.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of shape (N, C, ...), got "
            f"{tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    if a.dtype.kind == "c" or _complex_param(weight, bias):
        refuse_complex("batch_norm", input, weight, bias)
    c = a.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != c:
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements not "
                               f"{t.numel()} (input shape {tuple(input.shape)})")
    _check_affine_channels(c, weight, bias)
    if training:
        count = math.prod(a.shape) // c if c else math.prod(a.shape[:1] + a.shape[2:])
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        if count == 0 or c == 0:  # nothing to normalize; the running stats stay (as torch's)
            return _affine(input.clone(), weight, bias, _channel_shape(input)), None, None
        axes = (0, *range(2, a.ndim))
        y, mean, var = _BatchNormTrain.apply(
            input, weight, bias, axes, eps,
            (running_mean, running_var, momentum, count / (count - 1)))
        return _as_input(y, input), mean, var
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when "
                               "training=False")
        shape = _channel_shape(input)
        rm = running_mean.reshape(shape)
        rv = running_var.reshape(shape)
        y = (input - rm) * (rv + eps).rsqrt()
    return _as_input(_affine(y, weight, bias, shape), input), None, None


def _as_input(y, input):
    """``y`` in ``input``'s dtype where a float16/bfloat16 input met float32 statistics or
    parameters: torch's norms give the input's dtype (a BatchNorm kept in float32 in a half
    model), where the arithmetic promotes."""
    if y._data.dtype != input._data.dtype and input._data.dtype in LOW_PRECISION_NP:
        return y.to(input.dtype)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample over its spatial dimensions.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.instance_norm(flambeau.tensor([[[1.0, 3.0]]]), eps=0.0)
    tensor([[[-1.,  1.]]])
    """
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("fp32", input, weight, bias)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial), got "
                         f"{tuple(input.shape)}")
    refuse_complex("instance_norm", input, weight, bias)
    _check_affine_channels(input.shape[0] * input.shape[1], weight, bias)
    shape = _channel_shape(input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running stats are needed when "
                               "use_input_stats=False")
        y = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
        return _affine(y, weight, bias, shape)
    axes = tuple(range(2, input.ndim))
    count = 1
    for s in input.shape[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if input._data.size == 0:
        # as PyTorch's: an empty batch's statistics (a mean over no samples) are NaN, those
        # of samples without elements are not taken
        if input.shape[0] == 0:
            for running in (running_mean, running_var):
                if running is not None:
                    running._data[...] = math.nan
                    running._version_counter.value += 1
        return _affine(input.clone(), weight, bias, shape)
    y, mean, var = _normalize(input, axes, eps)
    if running_mean is not None:
        _update_running(running_mean, mean.mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, (var * (count / (count - 1))).mean(0), momentum)
    return _affine(y, weight, bias, shape)


def _replay_composition(ctx, g, composed):
    """The double-backward path of the fused nodes: gradients of ``(x, weight, bias)``
    through ``composed(x, weight, bias)``, the op written in recorded flambeau ops."""
    x, weight, bias = ctx.saved_tensors
    inputs, needs = (x, weight, bias), ctx.needs_input_grad
    with flambeau.enable_grad():
        wanted = [t for t, need in zip(inputs, needs) if t is not None and need]
        out = composed(x, weight, bias)
        got = iter(flambeau.autograd.grad(out, wanted, g, create_graph=True,
                                          allow_unused=True))
    return [next(got) if t is not None and need else None for t, need in zip(inputs, needs)]


def _grad_like(arr, like):
    """A gradient array as a tensor with the shape, dtype and device of ``like``."""
    data = like._data
    arr = arr.reshape(data.shape)
    # compared here: a CuPy astype call costs a microsecond or two even when it copies nothing
    return Tensor._make(arr if arr.dtype == data.dtype else arr.astype(data.dtype), like._device)


def _batch_norm_composed(x, weight, bias, axes, eps):
    y, _, _ = _normalize(x, axes, eps)
    return _affine(y, weight, bias, _channel_shape(x))


# A backend may fuse the training-mode batch norm (flambeau-cuda does): kernel "batch_norm"
# with the signature, results and in-place running statistics of _batch_norm_arrays (without
# its xp), "batch_norm_backward" with those of _batch_norm_backward_arrays; None hands back to
# these.


def _channel_sums(a, axes):
    """Sums of ``a`` over ``axes`` with kept dims; two-byte floats are summed (and left) in
    float32, as torch accumulates them, so that a mean divides before rounding.

    Over all axes but the channels (batch norm's), the batch axis is summed first: adding
    whole ``(C, *spatial)`` rows is vectorized, where NumPy's reduction over ``(0, 2, 3)``
    runs an inner loop per spatial run, 5-18x slower for ResNet's 8x8 to 1x1 feature maps.
    """
    acc = "float32" if a.dtype.itemsize < 4 and a.dtype.kind in "fV" else None
    if axes != (0, *range(2, a.ndim)):
        return a.sum(axis=axes, keepdims=True, dtype=acc)
    rows = a.reshape(a.shape[0], a.shape[1], -1).sum(0, dtype=acc)  # (C, spatial)
    return rows.sum(-1).reshape((1, a.shape[1]) + (1,) * (a.ndim - 2))


def _batch_norm_arrays(xp, a, w, b, axes, eps, running_mean=None, running_var=None,
                       momentum=0.0, unbias=1.0):
    """``(out, y, rstd, mean, var)``: ``y = (a - mean) * rstd`` normalized over ``axes``,
    ``out = y * w + b`` (``w``, ``b`` per channel or None); the statistics keep their dims.
    ``running_mean`` / ``running_var`` (arrays of ``a``'s dtype, or None) move toward the
    batch's mean and unbiased (``var * unbias``) variance by ``momentum``, in place."""
    shape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    count = a.size // a.shape[1]
    mean = (_channel_sums(a, axes) / count).astype(a.dtype, copy=False)
    xc = a - mean
    sq = xc * xc
    var = (_channel_sums(sq, axes) / count).astype(a.dtype, copy=False)
    rstd = 1 / xp.sqrt(var + eps)
    y = xc
    y *= rstd
    out = y if w is None else y * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    if out is y:  # y is kept for the backward: an in-place op on out must not change it
        out = y.copy()
    for r, stat, scale in ((running_mean, mean, 1.0), (running_var, var, unbias)):
        if r is not None:
            _running_average(r, stat.reshape(r.shape), momentum, scale)
    return out, y, rstd, mean, var


def _batch_norm_backward_arrays(g, y, rstd, w, axes):
    """``(dx, sum(g * y), sum(g))`` over ``axes``: the input gradient and the weight and bias
    gradients (kept dims) of :func:`_batch_norm_arrays`."""
    count = g.size // g.shape[1]
    gsum = _channel_sums(g, axes)  # in float32 for two-byte floats
    gysum = _channel_sums(g * y, axes)
    scale = rstd if w is None else rstd * w.reshape(rstd.shape)
    dx = y * (gysum / count)
    dx += gsum / count
    dx = g - dx
    dx *= scale
    return (dx.astype(g.dtype, copy=False), gysum.astype(g.dtype, copy=False),
            gsum.astype(g.dtype, copy=False))


class _BatchNormTrain(Function):
    """Training-mode ``batch_norm`` as one node: ``(x, weight, bias) -> (y, mean, var)``.

    A handful of array operations each way instead of some forty recorded ones, which is
    what a GPU step spends its time on. The batch statistics come out without a gradient
    (they only feed the running statistics); a graph of the gradient replays the composition.
    """

    _node_name = "NativeBatchNormBackward0"
    _graph_inputs = (0, 1, 2)  # a weight or bias left out (None) too, as torch's

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, running=(None, None, 0.0, 1.0)):
        """``running``: ``(running_mean, running_var, momentum, unbias)``, tensors or None,
        updated in place with the batch's statistics (the variance times ``unbias``)."""
        a = x._data
        w, b = (None if t is None else t._data for t in (weight, bias))
        running_mean, running_var, momentum, unbias = running
        # statistics the node updates on the arrays; the others (another device or dtype)
        # take the batch's through _update_running below
        fused = [t._data if t is not None and t._device is x._device and t._data.dtype ==
                 a.dtype else None for t in (running_mean, running_var)]
        args = (a, w, b, axes, eps, *fused, momentum, unbias)
        done = x._device.backend.run_kernel("batch_norm", *args)
        out, y, rstd, mean, var = done or _batch_norm_arrays(x._device._xp, *args)
        ctx.save_for_backward(x, weight, bias)
        ctx.cache, ctx.axes, ctx.eps = (y, rstd), axes, eps
        # as they come (kept dims): they only feed _update_running, which reshapes
        stats = [Tensor._make(v, x._device) for v in (mean, var)]
        for t, arr, stat, scale in zip((running_mean, running_var), fused, stats, (1.0, unbias)):
            if arr is not None:
                t._version_counter.value += 1
            elif t is not None:
                _update_running(t, stat, momentum, scale)
        ctx.mark_non_differentiable(*stats)
        # the statistics get no gradient: no zero arrays for them in backward (on a GPU, an
        # allocation and a fill each, forty a ResNet-18 step)
        ctx.set_materialize_grads(False)
        return (out if out.dtype == a.dtype else out.astype(a.dtype), *stats)

    @staticmethod
    def backward(ctx, g, _gmean, _gvar):
        if flambeau.is_grad_enabled():  # create_graph: differentiate the composition
            grads = _replay_composition(ctx, g, lambda x, w, b: _batch_norm_composed(
                x, w, b, ctx.axes, ctx.eps))
            return (*grads, None, None, None)
        x, weight, bias = ctx.saved_tensors
        needs = ctx.needs_input_grad
        y, rstd = ctx.cache
        axes = ctx.axes
        w = None if weight is None else weight._data
        done = g._device.backend.run_kernel("batch_norm_backward", g._data, y, rstd, w, axes)
        dx, gysum, gsum = done or _batch_norm_backward_arrays(g._data, y, rstd, w, axes)
        gx = _grad_like(dx, x) if needs[0] else None
        gw = _grad_like(gysum, weight) if needs[1] and weight is not None else None
        gb = _grad_like(gsum, bias) if needs[2] and bias is not None else None
        return gx, gw, gb, None, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing dimensions given by ``normalized_shape``.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.layer_norm(flambeau.tensor([[1.0, 3.0]]), (2,), eps=0.0)
    tensor([[-1.,  1.]])
    """
    return _layer_norm(input, normalized_shape, weight, bias, eps, False)


def _layer_norm(input, normalized_shape, weight, bias, eps, stats):
    """:func:`layer_norm`; with ``stats`` ``(output, mean, rstd)`` as
    ``flambeau.native_layer_norm`` returns them (see :class:`_LayerNorm`)."""
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("fp32", input, weight, bias)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    if input._data.dtype.kind == "c" or _complex_param(weight, bias):
        refuse_complex("layer_norm", input, weight, bias)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"layer_norm: Given normalized_shape={list(normalized_shape)}, expected input with "
            f"shape [*, {', '.join(str(s) for s in normalized_shape)}], but got input of size "
            f"{list(input.shape)}"
        )
    return _LayerNorm.apply(input, weight, bias, k, eps, stats)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the trailing ``normalized_shape`` dimensions.

    ``y = x / sqrt(mean(x ** 2) + eps) * weight``, with the mean over the last
    ``len(normalized_shape)`` dimensions; ``eps=None`` uses ``flambeau.finfo(input.dtype).eps``.
    A complex input is squared as a complex number (not ``|x| ** 2``), as in PyTorch.

    Parameters
    ----------
    input : Tensor
        A floating point or complex tensor of shape ``(*, *normalized_shape)``.
    normalized_shape : int or sequence of int
        The trailing dimensions to normalize over.
    weight : Tensor, optional
        An elementwise scale of shape ``normalized_shape``.
    eps : float, optional
        Added to the mean square for stability.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.rms_norm(flambeau.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    if _autocast.active:
        input, weight = _autocast.cast_inputs("fp32", input, weight)
    if not isinstance(input, Tensor) or not (input.is_floating_point()
                                             or input._data.dtype.kind == "c"):
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"rms_norm: expected a floating point or complex input, got {got}")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError("rms_norm: expected normalized_shape to have at least one dimension, "
                           "got []")
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"rms_norm: Given normalized_shape={list(normalized_shape)}, expected input with "
            f"shape [*, {', '.join(str(s) for s in normalized_shape)}], but got input of size "
            f"{list(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"rms_norm: expected weight of shape {list(normalized_shape)} (the "
                           f"normalized_shape), got weight of shape {list(weight.shape)}")
    if eps is None:
        eps = flambeau.finfo(input.dtype).eps
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else _as_input(y * weight, input)


def _layer_norm_composed(x, weight, bias, k, eps):
    y, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _row_sums(xp, a):
    """Sums of the rows of a 2-D array (as core's softmax sums them)."""
    return _sum_keep(xp, a, 1)[:, 0]


class _LayerNorm(Function):
    """``layer_norm`` over the last ``k`` dims as one node: ``(x, weight, bias) -> y``."""

    _node_name = "NativeLayerNormBackward0"
    _graph_inputs = (0, 1, 2)

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps, stats=False):
        """``stats``: return ``(y, mean, rstd)``, the statistics (no gradient) shaped as
        ``x`` with its last ``k`` dimensions of size 1, as ``native_layer_norm``'s."""
        xp = x._device._xp
        a = x._data
        width = math.prod(a.shape[a.ndim - k:])
        rows = a.reshape(math.prod(a.shape[:a.ndim - k]), width)  # not -1: 0 rows or columns
        mean = _row_sums(xp, rows) / max(width, 1)
        xc = rows - mean[:, None]
        var = _row_sums(xp, xc * xc) / max(width, 1)
        rstd = 1 / xp.sqrt(var + eps)
        y = xc * rstd[:, None]
        out = y
        if weight is not None:
            out = out * weight._data.reshape(-1)
        if bias is not None:
            out = out + bias._data.reshape(-1)
        if out is y:  # y is kept for the backward: an in-place op on out must not change it
            out = y.copy()
        ctx.save_for_backward(x, weight, bias)
        ctx.cache, ctx.k, ctx.eps = (y, rstd), k, eps
        out = out.reshape(a.shape).astype(a.dtype, copy=False)
        if not stats:
            return out
        shape = a.shape[:a.ndim - k] + (1,) * k
        kept = [Tensor._make(v.reshape(shape), x._device) for v in (mean, rstd)]
        ctx.mark_non_differentiable(*kept)
        return (out, *kept)

    @staticmethod
    def backward(ctx, g, *_stats):
        if flambeau.is_grad_enabled():  # create_graph: differentiate the composition
            grads = _replay_composition(ctx, g, lambda x, w, b: _layer_norm_composed(
                x, w, b, ctx.k, ctx.eps))
            return (*grads, None, None, None)
        x, weight, bias = ctx.saved_tensors
        xp = x._device._xp
        y, rstd = ctx.cache
        width = y.shape[1]
        g2 = g._data.reshape(y.shape)
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[1] and weight is not None:
            gw = _grad_like(xp.ones(y.shape[0], dtype=y.dtype) @ (g2 * y), weight)
        if needs[2] and bias is not None:
            gb = _grad_like(xp.ones(y.shape[0], dtype=y.dtype) @ g2, bias)
        if needs[0]:
            gy = g2 * weight._data.reshape(-1) if weight is not None else g2
            mean_gy = _row_sums(xp, gy) / width
            mean_gyy = _row_sums(xp, gy * y) / width
            dx = gy - mean_gy[:, None]
            dx -= y * mean_gyy[:, None]
            dx *= rstd[:, None]
            gx = _grad_like(dx, x)
        return gx, gw, gb, None, None, None


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each group of ``C // num_groups`` channels of each sample.

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.group_norm(flambeau.tensor([[1.0, 3.0]]), 1, eps=0.0)
    tensor([[-1.,  1.]])
    """
    return _group_norm(input, num_groups, weight, bias, eps)[0]


def _group_norm(input, num_groups, weight, bias, eps):
    """:func:`group_norm`'s ``(output, mean, rstd)``, the statistics of shape
    ``(N, num_groups)`` and recorded (``flambeau.native_group_norm`` returns them)."""
    if _autocast.active:
        input, weight, bias = _autocast.cast_inputs("fp32", input, weight, bias)
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *), got "
                           f"{tuple(input.shape)}")
    refuse_complex("group_norm", input, weight, bias)
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"group_norm: expected number of channels in input ({c}) to be "
                           f"divisible by num_groups ({num_groups}) (input shape "
                           f"{tuple(input.shape)})")
    grouped = input.reshape(n, num_groups, math.prod(input.shape[1:]) // num_groups)
    mean = grouped.mean(2, keepdim=True)
    xc = grouped - mean
    group_rstd = ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()  # (N, G, 1)
    # the last product is taken in the input's shape, so the result is no view and in-place
    # ops may follow (ReLU(inplace=True))
    rstd = group_rstd.expand(n, num_groups, c // num_groups).reshape(
        (n, c) + (1,) * (input.ndim - 2))
    y = xc.reshape(input.shape) * rstd
    return (_as_input(_affine(y, weight, bias, _channel_shape(input)), input),
            mean.reshape(n, num_groups), group_rstd.reshape(n, num_groups))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each channel by ``(k + alpha / size * sum of squares of its neighbours) ** beta``.

    The neighbourhood spans ``size`` channels centred on the channel (zero-padded at the ends).

    Examples
    --------
    >>> import flambeau
    >>> import flambeau.nn.functional as F
    >>> F.local_response_norm(flambeau.ones(1, 3, 1), size=2, alpha=1.0, beta=1.0, k=0.0)
    tensor([[[2.],
             [1.],
             [1.]]])
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input, "
                         f"got shape {tuple(input.shape)}")
    refuse_complex("local_response_norm", input)
    c = input.shape[1]
    sq = input * input
    lo, hi = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    parts = []
    if lo:
        pad_shape[1] = lo
        parts.append(flambeau.zeros(pad_shape, dtype=input.dtype, device=input.device))
    parts.append(sq)
    if hi:
        pad_shape[1] = hi
        parts.append(flambeau.zeros(pad_shape, dtype=input.dtype, device=input.device))
    padded = flambeau.cat(parts, 1) if len(parts) > 1 else sq
    # window sums along channels as differences of a cumulative sum
    csum = flambeau.cat([flambeau.zeros_like(padded.narrow(1, 0, 1)), padded.cumsum(1)], 1)
    window = csum.narrow(1, size, c) - csum.narrow(1, 0, c)
    return input / (k + alpha / size * window) ** beta

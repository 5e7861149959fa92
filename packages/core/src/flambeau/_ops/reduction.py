"""Reductions (sum, mean, max, var, norm, ...), scans (cumsum) and softmax."""

from __future__ import annotations

import builtins

from flambeau import _dtype, return_types
from flambeau._ops._select import errors_ignored
from flambeau._ops._util import (
    FLOAT_NP,
    LOW_PRECISION_NP,
    Tensor,
    dims_arg,
    make,
    to_float,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau._ops.elementwise import refuse_complex
from flambeau._sparse import SparseUnsupported
from flambeau.amp import _autocast
from flambeau.autograd._function import Function, node_variant
from flambeau.autograd._grad_mode import state as _grad_state

__all__ = []



def _keep_shape(shape, axes):
    """The shape of a reduction's result with keepdim=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(g, x_shape, axes, keepdim):
    """Broadcast a reduction's gradient back to the input's shape."""
    if not keepdim and len(x_shape):
        g = g.reshape(_keep_shape(x_shape, axes))
    return g.expand(x_shape)


def reject_complex(op, input):
    """Raise PyTorch's RuntimeError for an op that orders its elements (max, sort,
    median...) given a complex tensor: complex numbers have no order (NumPy would compare
    them lexicographically)."""
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{op}(): does not support complex input (got {input.dtype}); "
                           "compare the moduli (.abs()) or the real parts (.real) instead")


def accumulated_sum(xp, a, axis, keepdims, np_dtype=None, divisor=None):
    """``xp.sum(a, axis, dtype=np_dtype)`` (divided by ``divisor`` when given), with float16
    and bfloat16 results accumulated in float32 and rounded once, after the division, as
    torch does: NumPy adds bfloat16 in bfloat16, where the sum of 4096 values of 1.125 comes
    out 512, and a float16 sum past 65504 is inf even when the mean is not."""
    target = a.dtype if np_dtype is None else np_dtype
    if target in LOW_PRECISION_NP:
        total = xp.sum(a, axis=axis, keepdims=keepdims, dtype="float32")
        return (total if divisor is None else total / divisor).astype(target)
    total = xp.sum(a, axis=axis, keepdims=keepdims, dtype=np_dtype)
    return total if divisor is None else total / divisor


class Sum(Function):
    """``sum()`` of all elements (``SumDim``: over dims, torch's other node name)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.meta = (x._data.shape, axes, keepdim)
        return accumulated_sum(x._device._xp, x._data, axes, keepdim, np_dtype)

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.meta
        return _expand_back(g, shape, axes, keepdim), None, None, None


SumDim = node_variant(Sum, "SumBackward1")


class Mean(Function):
    """``mean()`` of all elements, in one node as torch's (``MeanDim``: over dims); ``n``
    is the number of elements averaged, not 0."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, n):
        ctx.meta = (x._data.shape, axes, keepdim, float(n))
        return accumulated_sum(x._device._xp, x._data, axes, keepdim, divisor=n)

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim, n = ctx.meta
        if g._data.dtype in LOW_PRECISION_NP:  # in float32 (n may be past float16's range)
            g = (g.float() / n).to(g.dtype)    # and rounded once, as torch's
        else:
            g = g / n
        return _expand_back(g, shape, axes, keepdim), None, None, None


MeanDim = node_variant(Mean, "MeanBackward1")


@with_out
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over all elements or over ``dim`` (an int or a tuple).

    Integer and bool inputs sum to int64, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> flambeau.sum(x), flambeau.sum(x, dim=0), x.sum((0, 1), keepdim=True)
    (tensor(10.), tensor([4., 6.]), tensor([[10.]]))
    """
    if _autocast.active and dtype is None:
        (input,) = _autocast.cast_inputs("fp32", input)
    axes = dims_arg(dim, input._data.ndim, "sum")
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else None
    if np_dtype is None and input._data.dtype.kind in "biu":
        np_dtype = _dtype.int64.np
    try:
        return (Sum if axes is None else SumDim).apply(input, axes, keepdim, np_dtype)
    except (SparseUnsupported, TypeError):
        # a sparse tensor's data refuses the dense sum (CuPy's refusal is a TypeError): free
        # for a dense one
        if not input.is_sparse:
            raise
        return input.sum(dim, keepdim, dtype=dtype)


@with_out
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nansum(flambeau.tensor([1.0, float("nan")]))
    tensor(1.)
    """
    from flambeau._ops.elementwise import isnan, where

    _no_complex_nansum("nansum", input)
    if input._data.dtype in FLOAT_NP:  # integers have no NaN (and keep their int64 sum)
        input = where(isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


def _no_complex_nansum(op, input):
    if input._data.dtype.kind == "c":  # as torch on the CPU
        raise RuntimeError(f"{op}(): does not support complex inputs (got {input.dtype}); "
                           "use sum() or mean() of a tensor without NaNs")


@with_out
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over all elements or over ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mean(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    tensor([1.5000, 3.5000])
    """
    if dtype is not None:
        input = input.to(dtype)
    elif _autocast.active:
        (input,) = _autocast.cast_inputs("fp32", input)
    if input._data.dtype not in FLOAT_NP and input._data.dtype.kind != "c":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}"
        )
    axes = dims_arg(dim, input._data.ndim, "mean")
    n = input._data.size if axes is None else _count(input._data.shape, axes)
    if not n:  # the mean of nothing
        return sum(input, dim, keepdim) * float("nan")
    # two-byte floats are summed and divided in float32 (the sum may overflow)
    return (Mean if axes is None else MeanDim).apply(input, axes, keepdim, n)


@with_out
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements (computed in ``dtype`` when given).

    Raises
    ------
    RuntimeError
        For an input that is not floating point, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nanmean(flambeau.tensor([1.0, float("nan"), 3.0]))
    tensor(2.)
    >>> flambeau.nanmean(flambeau.tensor([[1.0, float("nan")]]), dim=1, dtype=flambeau.float64)
    tensor([1.], dtype=flambeau.float64)
    """
    from flambeau._ops.elementwise import isnan

    if input._data.dtype not in FLOAT_NP and input._data.dtype.kind != "c":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")
    _no_complex_nansum("nanmean", input)
    if dtype is not None:
        input = input.to(dtype)
    elif _autocast.active:
        (input,) = _autocast.cast_inputs("fp32", input)
    valid = ~isnan(input)
    if input._data.dtype in LOW_PRECISION_NP:  # divided in float32: the sum may overflow
        total = nansum(input, dim, keepdim, dtype=_dtype.float32)
        return (total / sum(valid, dim, keepdim)).to(input.dtype)
    return nansum(input, dim, keepdim) / sum(valid, dim, keepdim)


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.save_for_backward(x)
        ctx.meta = (axis, keepdim)
        a = x._data
        if a.dtype in LOW_PRECISION_NP:  # in float32, rounded once (see accumulated_sum)
            return x._device._xp.prod(a, axis=axis, keepdims=keepdim,
                                      dtype="float32").astype(a.dtype)
        return x._device._xp.prod(a, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axis, keepdim = ctx.meta
        # product of all other elements: exclusive cumulative products from both sides, so
        # zeros in the input are handled exactly (no division); conjugated for complex
        # inputs (a holomorphic op's gradient is g * conj(f'(z)))
        if axis is None:
            flat = x.reshape(-1)
            grad = _conj_if_complex(_prod_others(flat, 0).reshape(x.shape))
            return g.reshape(()).expand(x.shape) * grad if x.ndim else g * grad, None, None
        grad = _conj_if_complex(_prod_others(x, axis))
        return _expand_back(g, x.shape, (axis,), keepdim) * grad, None, None


def _conj_if_complex(t):
    if t._data.dtype.kind == "c":
        from flambeau._ops.complex import conj

        return conj(t)
    return t


def _prod_others(x, dim):
    from flambeau._ops.shape import cat, flip, narrow

    n = x.shape[dim]
    if n == 0:
        return x
    ones = x.new_ones(tuple(1 if i == dim else s for i, s in enumerate(x.shape)))
    left = cat([ones, narrow(cumprod(x, dim), dim, 0, n - 1)], dim)
    rev = flip(x, [dim])
    right = flip(cat([ones, narrow(cumprod(rev, dim), dim, 0, n - 1)], dim), [dim])
    return left * right


@with_out
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over all elements or along one ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.prod(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    tensor([ 2., 12.])
    """
    if _autocast.active and dtype is None:
        (input,) = _autocast.cast_inputs("fp32", input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    axis = None if dim is None else wrap_dim(dim, input._data.ndim, "prod")
    if input._data.ndim == 0:
        axis = None  # dim 0 / -1 of a 0-d tensor: its single element
    return Prod.apply(input, axis, keepdim)


class _Extreme(Function):
    """amax/amin: the gradient is shared evenly between tied extreme elements (as PyTorch)."""

    _pick = "max"
    _nan_ties = False  # whether NaNs tie with a NaN result (max()/min(); amax's grads are NaN)

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        xp = x._device._xp
        empty = axes is None or builtins.any(x._data.shape[a] == 0 for a in axes)
        if x._data.size == 0 and empty:
            raise IndexError(
                f"{cls._pick}(): Expected reduction dim to be specified for input.numel() == 0; "
                f"cannot reduce an empty dimension of a tensor of shape {tuple(x.shape)}"
            )
        fn = xp.max if cls._pick == "max" else xp.min
        out = make(fn(x._data, axis=axes, keepdims=keepdim), x)
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdim)
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        axes, keepdim = ctx.meta
        full = _expand_back(out, x.shape, axes, keepdim)
        mask = x == full
        if cls._nan_ties:
            mask = mask | (x.isnan() & full.isnan())
        mask = mask.to(g.dtype)
        count = mask.sum(axes, keepdim=True) if axes is not None else mask.sum()
        return _expand_back(g, x.shape, axes, keepdim) * mask / count, None, None


class Amax(_Extreme):
    _pick = "max"


class Amin(_Extreme):
    _pick = "min"


class Max(_Extreme):
    """``max()`` of all elements: as PyTorch's, a NaN result shares its gradient among the
    NaNs (``amax`` gives NaN gradients)."""

    _pick, _nan_ties = "max", True
    _node_name = "MaxBackward1"  # torch's node of max() (of max(dim): MaxBackward0)


class Min(_Extreme):
    """``min()`` of all elements (see :class:`Max`)."""

    _pick, _nan_ties = "min", True
    _node_name = "MinBackward1"


@with_out
def amax(input, dim=None, keepdim=False):
    """The maximum over ``dim`` (all dims by default); ties share the gradient.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.amax(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0)
    tensor([3., 5.])
    """
    reject_complex("amax", input)
    return Amax.apply(input, dims_arg(dim, input._data.ndim, "amax"), keepdim)


@with_out
def amin(input, dim=None, keepdim=False):
    """The minimum over ``dim`` (all dims by default).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.amin(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
    tensor([1., 2.])
    """
    reject_complex("amin", input)
    return Amin.apply(input, dims_arg(dim, input._data.ndim, "amin"), keepdim)


def _arg_extreme(input, dim, keepdim, pick, op):
    reject_complex(op, input)
    xp = input._device._xp
    data = input._data
    if data.size == 0:
        raise IndexError(f"{op}(): cannot take the {pick} of an empty tensor "
                         f"(shape {tuple(input.shape)})")
    fn = xp.argmax if pick == "max" else xp.argmin
    if dim is None:
        idx = fn(data.reshape(-1))
        if keepdim:
            idx = idx.reshape((1,) * data.ndim)
        return make(xp.asarray(idx, dtype=xp.int64), input)
    axis = wrap_dim(dim, data.ndim, op)
    if data.ndim == 0:
        return make(xp.zeros((), dtype=xp.int64), input)
    idx = fn(data, axis=axis, keepdims=keepdim)
    return make(idx.astype(xp.int64, copy=False), input)


@with_out
def argmax(input, dim=None, keepdim=False):
    """The index of the maximum (first one on ties), over the flattened tensor or ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.argmax(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
    tensor([1, 0])
    """
    return _arg_extreme(input, dim, keepdim, "max", "argmax")


@with_out
def argmin(input, dim=None, keepdim=False):
    """The index of the minimum.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.argmin(flambeau.tensor([3.0, 1.0, 2.0]))
    tensor(1)
    """
    return _arg_extreme(input, dim, keepdim, "min", "argmin")


class _ExtremeWithIndex(Function):
    """max/min along a dim: the gradient goes to the returned index only."""

    _pick = "max"

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        xp = x._device._xp
        data = x._data
        if data.ndim == 0:
            idx = xp.zeros((), dtype=xp.int64)
            values = data.copy()
        else:
            if data.shape[axis] == 0:
                raise IndexError(
                    f"{cls._pick}(): cannot reduce dimension {axis} of size 0 "
                    f"(shape {tuple(x.shape)})"
                )
            idx = (xp.argmax if cls._pick == "max" else xp.argmin)(data, axis=axis, keepdims=True)
            values = xp.take_along_axis(data, idx, axis=axis)
            if not keepdim:
                idx = xp.squeeze(idx, axis)
                values = xp.squeeze(values, axis)
        idx_t = make(idx.astype(xp.int64, copy=False), x)
        ctx.mark_non_differentiable(idx_t)
        ctx.set_materialize_grads(False)  # backward reads the values' gradient only
        ctx.save_for_backward(idx_t)
        ctx.meta = (x._data.shape, axis, keepdim)
        return make(values, x), idx_t

    @classmethod
    def backward(cls, ctx, g, _g_idx):
        (idx,) = ctx.saved_tensors
        shape, axis, keepdim = ctx.meta
        if len(shape) == 0:
            return g, None, None
        if not keepdim:
            g = g.unsqueeze(axis)
            idx = idx.unsqueeze(axis)
        zeros = g.new_zeros(shape)
        return zeros.scatter(axis, idx, g), None, None


class MaxDim(_ExtremeWithIndex):
    _pick = "max"
    _node_name = "MaxBackward0"


class MinDim(_ExtremeWithIndex):
    _pick = "min"
    _node_name = "MinBackward0"


def max(input, dim=None, keepdim=False, *, out=None):  # noqa: A001 - PyTorch's name
    """The maximum: of all elements, along ``dim`` as (values, indices), or elementwise.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 5.0], [3.0, 2.0]])
    >>> flambeau.max(x)
    tensor(5.)
    >>> flambeau.max(x, dim=1)
    flambeau.return_types.max(
    values=tensor([5., 3.]),
    indices=tensor([1, 0]))
    """
    if isinstance(dim, Tensor):
        from flambeau._ops.elementwise import maximum

        return maximum(input, dim, out=out)
    reject_complex("max", input)
    if dim is None:
        return write_out(Max.apply(input, None, False), out)
    axis = wrap_dim(dim, input._data.ndim, "max")
    return return_types.max(*write_out(MaxDim.apply(input, axis, keepdim), out))


def min(input, dim=None, keepdim=False, *, out=None):  # noqa: A001
    """The minimum: of all elements, along ``dim`` as (values, indices), or elementwise.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.min(flambeau.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).indices
    tensor([0, 1])
    """
    if isinstance(dim, Tensor):
        from flambeau._ops.elementwise import minimum

        return minimum(input, dim, out=out)
    reject_complex("min", input)
    if dim is None:
        return write_out(Min.apply(input, None, False), out)
    axis = wrap_dim(dim, input._data.ndim, "min")
    return return_types.min(*write_out(MinDim.apply(input, axis, keepdim), out))


@with_out
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``; ``correction=1`` (default) is Bessel's correction.

    For a complex input it is real, the mean of ``|x - mean(x)| ** 2`` (PyTorch's
    definition): the variance of the real parts plus that of the imaginary parts.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, 2.0, 3.0, 4.0])
    >>> flambeau.var(x), flambeau.var(x, correction=0)
    (tensor(1.6667), tensor(1.2500))
    >>> flambeau.var(flambeau.tensor([1j, -1j]))
    tensor(2.)
    """
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    input = to_float(input)
    if input.dtype is _dtype.float16 or input.dtype is _dtype.bfloat16:
        # in float32 as torch accumulates half types: bfloat16 steps lose the variance of
        # 1..12 (12.81 for 13)
        return var(input.float(), dim, keepdim=keepdim, correction=correction).to(input.dtype)
    axes = dims_arg(dim, input._data.ndim, "var")
    n = input._data.size if axes is None else _count(input._data.shape, axes)
    centered = input - mean(input, axes, keepdim=True)
    if centered._data.dtype.kind == "c":  # |x - mean|^2, real
        re, im = centered.real, centered.imag
        squares = re * re + im * im
    else:
        squares = centered * centered
    return sum(squares, axes, keepdim) / builtins.max(n - correction, 0)


@with_out
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (see :func:`var`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.std(flambeau.tensor([1.0, 3.0]))
    tensor(1.4142)
    """
    return Std.apply(var(input, dim, unbiased, keepdim, correction=correction))


class Std(Function):
    """``sqrt(var)`` whose slope is 0 where the deviation is 0, as PyTorch's ``std``: a
    constant slice would otherwise give ``inf * 0 = nan`` gradients."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return v._device._xp.sqrt(v._data)

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        r = v.sqrt()
        return (g / (2 * r)).masked_fill(r == 0, 0)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` in one call.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.var_mean(flambeau.tensor([1.0, 3.0]))
    (tensor(2.), tensor(2.))
    """
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(to_float(input), dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` in one call.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.std_mean(flambeau.tensor([1.0, 3.0]))
    (tensor(1.4142), tensor(2.))
    """
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(to_float(input), dim, keepdim))


@with_out
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))`` without overflow.

    Complex inputs are shifted by the largest real part; the result is the principal
    logarithm (imaginary part in ``(-pi, pi]``), as PyTorch's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logsumexp(flambeau.tensor([1000.0, 1000.0]), dim=0)
    tensor(1000.6932)
    """
    from flambeau._ops.elementwise import exp, isinf, log, where

    if _autocast.active:
        (input,) = _autocast.cast_inputs("fp32", input)
    input = to_float(input)
    axes = dims_arg(dim, input._data.ndim, "logsumexp")
    if input._data.size == 0:  # log of an empty sum: -inf (no maximum to shift by)
        with errors_ignored(input._device._xp, "divide"):
            return log(sum(exp(input), axes, keepdim))
    m = amax(input.real if input._data.dtype.kind == "c" else input, axes,
             keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    out = log(sum(exp(input - m), axes, keepdim=True)) + m
    if keepdim:
        return out
    return out.squeeze(axes) if axes is not None and input.ndim else out.reshape(())


def _root(s, p):
    """``s ** (1 / p)`` with gradient 0 where ``s`` is 0, PyTorch's convention for norms,
    instead of the power rule's ``inf * 0 = nan``."""
    from flambeau._ops.elementwise import sqrt, where

    zero = s == 0
    safe = where(zero, 1.0, s)
    return where(zero, 0.0, sqrt(safe) if p == 2 else safe ** (1.0 / p))


@with_out
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector ``p``-norm over ``dim`` (all dims by default), or a matrix norm.

    As ``torch.norm``: a number ``p`` (None: 2) is a vector norm over any dims; ``'fro'``
    is the 2-norm over at most 2 dims; ``'nuc'`` is the nuclear norm over exactly 2 dims
    (all dims of the input by default), as :func:`flambeau.linalg.matrix_norm`.

    Gradients follow PyTorch's conventions where the power rule has none: 0 where the norm
    is 0, 0 at zero elements for ``p < 1``, and 0 everywhere for ``p = 0`` (a count).

    Raises
    ------
    RuntimeError
        For ``'fro'`` over more than 2 dims, ``'nuc'`` over other than 2 dims, or another
        string ``p``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.norm(flambeau.tensor([3.0, 4.0]))
    tensor(5.)
    >>> flambeau.norm(flambeau.tensor([3.0, -4.0]), p=1)
    tensor(7.)
    >>> flambeau.norm(flambeau.tensor([[3.0, 0.0], [0.0, -4.0]]), p="nuc")
    tensor(7.)
    >>> x = flambeau.zeros(2, requires_grad=True)
    >>> x.norm().backward()
    >>> x.grad
    tensor([0., 0.])
    """
    from flambeau._ops.elementwise import abs as _abs
    from flambeau._ops.elementwise import where

    if _autocast.active and dtype is None:
        (input,) = _autocast.cast_inputs("fp32", input)
    if dtype is not None:
        input = input.to(dtype)
    input = to_float(input)
    if isinstance(p, str) and (p != "fro" or isinstance(dim, (list, tuple)) and len(dim) > 2):
        return _matrix_norm(input, p, dim, keepdim)
    if input._data.dtype in LOW_PRECISION_NP and p not in (1, float("inf"), float("-inf")):
        # powers and their sums in float32, rounded once, as torch's: float16 cubes of
        # values near 8 overflow once a few hundred are summed
        return norm(input.float(), p, dim, keepdim).to(input.dtype)
    axes = dims_arg(dim, input._data.ndim, "norm")
    if input._data.dtype.kind == "c":  # the norm of the moduli (real)
        if p is None or p in ("fro", 2, 2.0):
            re, im = input.real, input.imag
            return _root(sum(re * re + im * im, axes, keepdim), 2)
        input = _abs(input)
    if p is None or p in ("fro", 2, 2.0):
        return _root(sum(input * input, axes, keepdim), 2)
    if p == float("inf"):
        return amax(_abs(input), axes if axes is not None else (), keepdim)
    if p == float("-inf"):
        return amin(_abs(input), axes if axes is not None else (), keepdim)
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: unsupported p={p!r}")
    if p == 0:  # the count of non-zeros, recorded with zero gradient as in PyTorch
        return sum(where(input != 0, 1.0, input * 0), axes, keepdim)
    if p == 1:
        return sum(_abs(input), axes, keepdim)
    a = _abs(input)
    if p > 1:
        return _root(sum(a ** p, axes, keepdim), p)
    # below 1 the power's gradient is infinite at 0: zero elements stay out of the sum (and
    # for p < 0, where 0 ** p is infinite, a zero element makes the norm 0)
    zero = a == 0
    norm_ = _root(sum(where(zero, 0.0, where(zero, 1.0, a) ** p), axes, keepdim), p)
    return norm_ if p > 0 else where(any(zero, axes, keepdim), 0.0, norm_)


def _matrix_norm(input, p, dim, keepdim):
    """``torch.norm``'s matrix norms: ``'nuc'``, and ``'fro'`` over more than 2 dims (which
    torch refuses), over ``dim`` or all dims of ``input``."""
    from flambeau import linalg

    if p not in ("fro", "nuc"):
        raise RuntimeError(f"norm: p={p!r} is not supported; use a number, 'fro' or 'nuc'")
    dims = tuple(range(input.ndim)) if dim is None else \
        tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
    if len(dims) != 2:
        got = (f"but got dim={dims} ({len(dims)} dim{'s' if len(dims) != 1 else ''}) for an "
               f"input of shape {tuple(input.shape)}")
        if p == "fro":
            raise RuntimeError(f"norm: p='fro' (the Frobenius norm of a matrix) takes at most "
                               f"2 dims, {got}; for the 2-norm over more dims, use p=2")
        raise RuntimeError(f"norm: p='nuc' (the nuclear norm of a matrix) takes exactly 2 "
                           f"dims, {got}")
    return linalg.matrix_norm(input, p, dims, keepdim)


@with_out
def all(input, dim=None, keepdim=False):  # noqa: A001
    """True if every element (along ``dim``) is non-zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.all(flambeau.tensor([True, False])), flambeau.all(flambeau.tensor([1, 2]))
    (tensor(False), tensor(True))
    """
    axes = dims_arg(dim, input._data.ndim, "all")
    return _logical_result(input._device._xp.all(input._data, axis=axes, keepdims=keepdim),
                           input)


@with_out
def any(input, dim=None, keepdim=False):  # noqa: A001
    """True if some element (along ``dim``) is non-zero.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.any(flambeau.tensor([[0, 0], [0, 1]]), dim=1)
    tensor([False,  True])
    """
    axes = dims_arg(dim, input._data.ndim, "any")
    return _logical_result(input._device._xp.any(input._data, axis=axes, keepdims=keepdim),
                           input)


def _logical_result(arr, input):
    # PyTorch keeps uint8 for all/any of uint8 tensors (the pre-bool convention)
    if input._data.dtype == _dtype.uint8.np:
        arr = arr.astype(_dtype.uint8.np)
    return make(arr, input)


def count_nonzero(input, dim=None):
    """The number of non-zero elements (along ``dim``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.count_nonzero(flambeau.tensor([0, 1, 2]))
    tensor(2)
    """
    axes = dims_arg(dim, input._data.ndim, "count_nonzero")
    xp = input._device._xp
    return make(xp.asarray(xp.count_nonzero(input._data, axis=axes), dtype=xp.int64), input)


def _scan(scan, arr, axis, np_dtype=None):
    """``scan(arr, axis)`` with half types accumulated in float32 and rounded once per
    element, as torch does (CuPy also has no bfloat16 scan kernel)."""
    if np_dtype is None and arr.dtype in LOW_PRECISION_NP:
        return scan(arr.astype("float32"), axis=axis).astype(arr.dtype)
    return scan(arr, axis=axis, dtype=np_dtype)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis, np_dtype):
        ctx.axis = axis
        return _scan(x._device._xp.cumsum, x._data, axis, np_dtype)

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.shape import flip

        axis = ctx.axis
        return flip(cumsum(flip(g, [axis]), axis), [axis]), None, None


@with_out
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cumsum(flambeau.tensor([1, 2, 3]), dim=0)
    tensor([1, 3, 6])
    """
    if _autocast.active and dtype is None:
        (input,) = _autocast.cast_inputs("fp32", input)
    axis = wrap_dim(dim, input._data.ndim, "cumsum")
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else None
    if np_dtype is None and input._data.dtype.kind in "biu":
        np_dtype = _dtype.int64.np
    if input._data.ndim == 0:
        return Cumsum.apply(input.reshape(1), 0, np_dtype).reshape(())
    return Cumsum.apply(input, axis, np_dtype)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis):
        out = make(_scan(x._device._xp.cumprod, x._data, axis), x)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.elementwise import where
        from flambeau._ops.shape import flip

        x, out = ctx.saved_tensors
        axis = ctx.axis
        # d out_j / d x_i = out_j / x_i for j >= i: a reversed cumsum of g * out, over x
        # (conjugated for complex inputs). Where x == 0 that quotient is undefined, so fall
        # back to the exact O(n^2)-free formula via products of the other elements in each
        # prefix.
        if bool((x == 0).any()):
            return _cumprod_grad_with_zeros(x, g, axis), None
        out, x = _conj_if_complex(out), _conj_if_complex(x)
        rev = flip(cumsum(flip(g * out, [axis]), axis), [axis])
        return where(x == 0, 0.0, rev / x), None


def _cumprod_grad_with_zeros(x, g, axis):
    from flambeau._ops.shape import movedim

    # move the scan axis last and compute each input's gradient from prefix products
    # (conjugated: the gradient of a complex product is g * conj(the other factors))
    xm = movedim(_conj_if_complex(x), axis, -1)
    gm = movedim(g, axis, -1)
    n = xm.shape[-1]
    cols = []
    for i in range(n):  # the scan length only, never the batch
        before = prod(xm[..., :i], -1, keepdim=True) if i else xm[..., :1] * 0 + 1
        after = cumprod(xm[..., i + 1:], -1) if i + 1 < n else None
        total = gm[..., i:i + 1]
        if after is not None:
            total = total + sum(gm[..., i + 1:] * after, -1, keepdim=True)
        cols.append(before * total)
    from flambeau._ops.shape import cat

    return movedim(cat(cols, -1), -1, axis)


@with_out
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cumprod(flambeau.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """
    if _autocast.active and dtype is None:
        (input,) = _autocast.cast_inputs("fp32", input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    axis = wrap_dim(dim, input._data.ndim, "cumprod")
    if input._data.ndim == 0:
        return input.clone()
    return Cumprod.apply(input, axis)


def _sum_keep(xp, a, axis):
    """``a.sum(axis, keepdims=True)``; over a contiguous last axis as a matrix-vector product
    (NumPy reduces short trailing axes several times slower than BLAS multiplies)."""
    if axis == a.ndim - 1 and a.ndim > 1 and a.size and a.flags.c_contiguous and (
            a.dtype.kind == "f" and a.dtype.itemsize >= 4):
        return (a.reshape(-1, a.shape[-1]) @ xp.ones(a.shape[-1], dtype=a.dtype)).reshape(
            a.shape[:-1] + (1,))
    return accumulated_sum(xp, a, axis, True)


# Backends may fuse the softmaxes: kernels "softmax" / "log_softmax" ``(a, axis) -> y`` and
# "softmax_backward" / "log_softmax_backward" ``(g, y, axis) -> gx`` (None: run the generic code)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        xp = x._device._xp
        a = x._data
        e = None if a.size == 0 else x._device.backend.run_kernel("softmax", a, axis)
        if a.size == 0:  # nothing to normalize (an empty dim has no maximum to shift by)
            e = a.copy()
        elif e is None:
            e = xp.exp(a - a.max(axis=axis, keepdims=True))
            e /= _sum_keep(xp, e, axis)
        out = make(e, x)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        axis = ctx.axis
        if not _grad_state.grad_enabled:  # on arrays: y * (g - sum(g * y))
            xp, ya = y._device._xp, y._data
            gy = y._device.backend.run_kernel("softmax_backward", g._data, ya, axis)
            if gy is None:
                gy = g._data * ya
                gy -= ya * _sum_keep(xp, gy, axis)
            return make(gy, y), None
        return y * (g - (g * y).sum(axis, keepdim=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        xp = x._device._xp
        a = x._data
        shifted = None if a.size == 0 else x._device.backend.run_kernel("log_softmax", a, axis)
        if a.size == 0:
            shifted = a.copy()
        elif shifted is None:
            shifted = a - a.max(axis=axis, keepdims=True)
            shifted -= xp.log(_sum_keep(xp, xp.exp(shifted), axis))
        out = make(shifted, x)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        from flambeau._ops.elementwise import exp

        (y,) = ctx.saved_tensors
        axis = ctx.axis
        if not _grad_state.grad_enabled:  # on arrays: g - exp(y) * sum(g)
            xp, ga = y._device._xp, g._data
            res = y._device.backend.run_kernel("log_softmax_backward", ga, y._data, axis)
            if res is None:
                res = xp.exp(y._data)
                res *= _sum_keep(xp, ga if ga.flags.c_contiguous else xp.ascontiguousarray(ga),
                                 axis)
                xp.subtract(ga, res, out=res)
            return make(res, y), None
        return g - exp(y) * g.sum(axis, keepdim=True), None


def _softmax_input(input, dim, dtype, op):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind == "c":
        refuse_complex(op, input)  # torch defines the softmaxes for real inputs only
    elif _autocast.active:
        (input,) = _autocast.cast_inputs("fp32", input)
    input = to_float(input)
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit dim
    axis = wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        input = input.reshape(1)
    return input, axis


@with_out
def softmax(input, dim=None, dtype=None):
    """``exp(x) / sum(exp(x), dim)``, computed stably.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.softmax(flambeau.tensor([1.0, 1.0, 1000.0]), dim=0)
    tensor([0., 0., 1.])
    """
    shape = input.shape
    x, axis = _softmax_input(input, dim, dtype, "softmax")
    out = Softmax.apply(x, axis)
    return out.reshape(shape) if len(shape) == 0 else out


@with_out
def log_softmax(input, dim=None, dtype=None):
    """``log(softmax(x, dim))``, computed stably in one op.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.log_softmax(flambeau.tensor([0.0, 0.0]), dim=0)
    tensor([-0.6931, -0.6931])
    """
    shape = input.shape
    x, axis = _softmax_input(input, dim, dtype, "log_softmax")
    out = LogSoftmax.apply(x, axis)
    return out.reshape(shape) if len(shape) == 0 else out


def softmin(input, dim=None, dtype=None):
    """``softmax(-input, dim)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.softmin(flambeau.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    return softmax(-input, dim, dtype)

"""More reductions, scans and statistics: aminmax, cummax/cummin, logcumsumexp, nanmedian,
quantile/nanquantile, mode, diff, cov/corrcoef, trapezoid, cdist, dist, renorm.

Most are compositions of differentiable flambeau ops (sort + gather + lerp for quantiles,
matmul for covariances), so their gradients, and the gradients of those, come for free. The
scans (cummax, logcumsumexp) and the Euclidean ``cdist`` are Functions of their own: a scan
is one array pass forward, and ``cdist``'s matrix-product formula has a gradient that needs
neither the ``P x R x M`` differences nor the square root's infinite slope at 0.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

from flambeau import _dtype, return_types
from flambeau._ops import elementwise as _ew
from flambeau._ops import reduction as _rd
from flambeau._ops._select import errors_ignored
from flambeau._ops._util import (
    FLOAT_NP,
    LOW_PRECISION_NP,
    Tensor,
    make,
    promote,
    to_float,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau._ops.complex import conj
from flambeau._ops.indexing import _argsort, _sort_keys, gather, scatter_add, sort
from flambeau._ops.linalg import matmul
from flambeau._ops.shape import cat, movedim, narrow
from flambeau.autograd._function import Function

__all__ = [
    "aminmax", "cummax", "cummin", "logcumsumexp", "nanmedian", "quantile", "nanquantile",
    "mode", "diff", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid", "cdist",
    "dist", "renorm",
]

aminmax_result = namedtuple("aminmax", ["min", "max"])


def _dtype_name(t):
    return t.dtype.name


# ---------------------------------------------------------------------- helpers


def _scan(xp, ufunc, a, axis):
    """``ufunc.accumulate(a, axis)``; namespaces without ``accumulate`` get a log-step scan."""
    accumulate = getattr(ufunc, "accumulate", None)
    if accumulate is not None:
        try:
            return accumulate(a, axis=axis)
        except (NotImplementedError, TypeError, ValueError):
            pass
    out, n, step = a, a.shape[axis], 1
    while step < n:
        head = xp.take(out, xp.arange(step), axis=axis)
        rest = ufunc(xp.take(out, xp.arange(step, n), axis=axis),
                     xp.take(out, xp.arange(n - step), axis=axis))
        out = xp.concatenate([head, rest], axis=axis)
        step *= 2
    return out


def _positions(xp, shape, axis):
    """``0, 1, ..., n-1`` along ``axis``, shaped to broadcast against ``shape``."""
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return xp.arange(shape[axis], dtype=xp.int64).reshape(view)


def _nonempty_dim(op, t, axis):
    if t._data.ndim and t._data.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size "
                         f"(input of shape {tuple(t.shape)})")


# ---------------------------------------------------------------------- aminmax


@with_out
def aminmax(input, *, dim=None, keepdim=False):
    """The minimum and maximum (of all elements, or along ``dim``) as a named tuple.

    Ties share the gradient evenly, as for :func:`flambeau.amin` / :func:`flambeau.amax`.

    Raises
    ------
    RuntimeError
        If ``input`` is empty and ``dim`` is None.
    IndexError
        If dimension ``dim`` has size 0.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 5.0], [3.0, -2.0]])
    >>> flambeau.aminmax(x)
    aminmax(min=tensor(-2.), max=tensor(5.))
    >>> flambeau.aminmax(x, dim=1).max
    tensor([5., 3.])
    """
    _rd.reject_complex("aminmax", input)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        dims = ()
    else:
        dims = wrap_dim(dim, input._data.ndim, "aminmax")
        if input._data.ndim and input._data.shape[dims] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dims} to have non-zero size "
                             f"(input of shape {tuple(input.shape)})")
    return aminmax_result(_rd.amin(input, dims, keepdim), _rd.amax(input, dims, keepdim))


# ---------------------------------------------------------------------- cummax, cummin


class _CumExtreme(Function):
    """Running max/min along an axis with the index of the element it came from (the last of
    equal ones; a NaN, once seen, stays), as PyTorch."""

    _ufunc = "maximum"

    @classmethod
    def forward(cls, ctx, x, axis):
        xp = x._device._xp
        a = x._data
        values = _scan(xp, getattr(xp, cls._ufunc), a, axis)
        took = a == values
        if a.dtype in FLOAT_NP:
            took = took | xp.isnan(a)
        pos = _positions(xp, a.shape, axis)
        idx = _scan(xp, xp.maximum, xp.where(took, pos, 0), axis)
        idx_t = make(xp.asarray(idx, dtype=xp.int64), x)
        ctx.mark_non_differentiable(idx_t)
        ctx.set_materialize_grads(False)  # backward reads the values' gradient only
        ctx.save_for_backward(idx_t)
        ctx.meta = (a.shape, axis)
        return make(values, x), idx_t

    @classmethod
    def backward(cls, ctx, g, _g_idx):
        (idx,) = ctx.saved_tensors
        shape, axis = ctx.meta
        return scatter_add(g.new_zeros(shape), axis, idx, g), None


class CumMax(_CumExtreme):
    _ufunc = "maximum"


class CumMin(_CumExtreme):
    _ufunc = "minimum"


def _cum_extreme(cls, op, input, dim):
    _rd.reject_complex(op, input)
    axis = wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        xp = input._device._xp
        return getattr(return_types, op)(input.clone(), make(xp.zeros((), dtype=xp.int64), input))
    return getattr(return_types, op)(*cls.apply(input, axis))


@with_out
def cummax(input, dim):
    """The running maximum along ``dim`` and the index each value came from.

    Among equal values the latest index is reported; once a NaN is met it is the maximum
    from there on. The gradient flows to the reported indices.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cummax(flambeau.tensor([1.0, 3.0, 2.0, 3.0, 5.0]), dim=0)
    flambeau.return_types.cummax(
    values=tensor([1., 3., 3., 3., 5.]),
    indices=tensor([0, 1, 1, 3, 4]))
    """
    return _cum_extreme(CumMax, "cummax", input, dim)


@with_out
def cummin(input, dim):
    """The running minimum along ``dim`` and the index each value came from.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cummin(flambeau.tensor([2, 1, 3, 0]), dim=0)
    flambeau.return_types.cummin(
    values=tensor([2, 1, 1, 0]),
    indices=tensor([0, 1, 1, 3]))
    """
    return _cum_extreme(CumMin, "cummin", input, dim)


# ---------------------------------------------------------------------- logcumsumexp


class LogCumSumExp(Function):
    """The op behind :func:`flambeau.logcumsumexp`."""

    @staticmethod
    def forward(ctx, x, axis):
        xp = x._device._xp
        add = _complex_logaddexp(xp) if x._data.dtype.kind == "c" else xp.logaddexp
        with errors_ignored(xp):
            out = make(_scan(xp, add, x._data, axis), x)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_i = exp(x_i - out_j) for i <= j, so the input gradient is
        # exp(x_i - out_i) * S_i with S_i = sum_{j >= i} g_j exp(out_i - out_j): the reversed
        # linear recurrence S_i = g_i + exp(out_i - out_{i+1}) S_{i+1}, whose factors are in
        # (0, 1] (out only grows), solved by doubling steps without exp overflow or log(0)
        x, out = ctx.saved_tensors
        axis = ctx.axis
        o = movedim(out, axis, -1)
        n = o.shape[-1]
        total = movedim(g, axis, -1)
        pad = total.new_zeros(tuple(o.shape[:-1]) + (1,))
        factor = cat([_ew.exp(narrow(o, -1, 0, n - 1) - narrow(o, -1, 1, n - 1)), pad], -1)
        ratio = _ew.exp(x - out)
        if x._data.dtype.kind == "c":  # holomorphic: the conjugate derivatives
            factor, ratio = conj(factor), conj(ratio)
        step = 1
        while step < n:
            zeros = pad.expand(*o.shape[:-1], step)
            total = total + factor * cat([narrow(total, -1, step, n - step), zeros], -1)
            factor = factor * cat([narrow(factor, -1, step, n - step), zeros], -1)
            step *= 2
        return ratio * movedim(total, -1, axis), None


def _complex_logaddexp(xp):
    """``log(exp(a) + exp(b))`` for complex arrays: the operand with the larger real part
    plus ``log1p(exp(other - it))``, which cannot overflow."""
    def add(a, b):
        swap = b.real > a.real
        hi, lo = xp.where(swap, b, a), xp.where(swap, a, b)
        out = hi + xp.log1p(xp.exp(lo - hi))
        return xp.where(hi.real == -float("inf"), hi, out)  # both exps 0: log 0 = -inf
    return add


@with_out
def logcumsumexp(input, dim):
    """``log(cumsum(exp(input), dim))`` computed without overflow or underflow.

    Raises
    ------
    NotImplementedError
        For integer or bool inputs (as PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logcumsumexp(flambeau.tensor([0.0, 1.0, 2.0]), dim=0)
    tensor([0.0000, 1.3133, 2.4076])
    >>> flambeau.logcumsumexp(flambeau.tensor([-1000.0, -1000.0]), dim=0)
    tensor([-1000.0000,  -999.3068])
    """
    if input._data.dtype not in FLOAT_NP and input._data.dtype.kind != "c":
        raise NotImplementedError(f'"logcumsumexp" is not implemented for {input.dtype} '
                                  "tensors; convert them with .float() first")
    axis = wrap_dim(dim, input._data.ndim, "logcumsumexp")
    if input._data.ndim == 0:
        return input.clone()
    if input._data.dtype in LOW_PRECISION_NP:  # in float32, rounded once, as torch's
        return LogCumSumExp.apply(input.float(), axis).to(input.dtype)
    return LogCumSumExp.apply(input, axis)


# ---------------------------------------------------------------------- nanmedian, mode


class MedianAll(Function):
    """The lower median of all elements: of the non-NaN ones with ``ignore_nan``
    (nanmedian), else NaN when any element is NaN (median). The gradient is shared evenly
    between the elements equal to it (the NaNs when it is NaN), as PyTorch's."""

    @staticmethod
    def forward(ctx, x, ignore_nan):
        xp = x._device._xp
        flat = xp.sort(_sort_keys(x._data.reshape(-1)))  # NaNs last
        count = int(xp.sum(~xp.isnan(flat)))
        if count and (ignore_nan or count == flat.size):
            value = flat[(count - 1) // 2]
        else:
            value = float("nan")
        out = make(xp.asarray(value, dtype=x._data.dtype), x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        hit = ((x == out) | (_ew.isnan(x) & _ew.isnan(out))).to(g.dtype)
        return g * hit / _ew.maximum(hit.sum(), _ew._full_like(hit.sum(), 1.0)), None


def median_all(input, ignore_nan):
    """The lower median of all the elements of a floating-point ``input`` (see
    :class:`MedianAll`): :func:`flambeau.median` and :func:`flambeau.nanmedian` without
    ``dim``."""
    return MedianAll.apply(input, ignore_nan)


def _nth_of_equal_elements(n):
    """The index that libstdc++'s ``std::nth_element`` (which PyTorch's CPU nanmedian calls)
    leaves in front of ``n`` elements that all compare equal, as the NaNs of an all-NaN row
    do: torch returns it as that row's index (0, 0, 0, 2, 2, 3, 5, 6... for n = 1, 2, ...).

    While more than 3 elements remain, its introselect swaps the middle one to the front
    (the median of three equal ones), then swaps the rest pairwise from both ends: position
    ``p`` of ``[1, L)`` takes the element from ``L - p``, and the range shrinks to its
    first ``(L + 1) // 2``. Traced back from the front, one step per halving."""
    lengths = []
    while n > 3:
        lengths.append(n)
        n = (n + 1) // 2
    p = 0
    for length in reversed(lengths):
        mid = length // 2
        if p == 0:
            p = mid
        else:
            p = 0 if length - p == mid else length - p
    return p


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring NaNs: of all elements, or along ``dim`` as
    ``(values, indices)``. All-NaN (or empty, for ``dim=None``) gives NaN; along ``dim``, an
    all-NaN slice gets the index PyTorch's CPU kernel gives it (see
    :func:`_nth_of_equal_elements`); otherwise the index of the element a stable sort puts
    at the median's place (PyTorch breaks ties by index).

    Raises
    ------
    IndexError
        If dimension ``dim`` has size 0.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[2.0, float("nan"), 1.0], [4.0, 3.0, 5.0]])
    >>> flambeau.nanmedian(x)
    tensor(3.)
    >>> flambeau.nanmedian(x, dim=1)
    flambeau.return_types.nanmedian(
    values=tensor([1., 4.]),
    indices=tensor([2, 0]))
    """
    result = _nanmedian(input, dim, keepdim)
    return result if out is None else write_out(result, out, exact=True)  # as median's


def _nanmedian(input, dim, keepdim):
    _rd.reject_complex("nanmedian", input)
    if dim is None:
        if input._data.dtype in FLOAT_NP:
            return median_all(input, ignore_nan=True)
        from flambeau._ops.indexing import median

        return median(input)
    axis = wrap_dim(dim, input._data.ndim, "nanmedian")
    _nonempty_dim("nanmedian", input, axis)
    if input._data.ndim == 0:
        xp = input._device._xp
        return return_types.nanmedian(input.clone(), make(xp.zeros((), dtype=xp.int64), input))
    xp = input._device._xp
    data = input._data
    n = data.shape[axis]
    order = _argsort(input, axis, False, True)  # NaNs last, ties by index as torch's
    count = (xp.sum(~xp.isnan(data), axis=axis, keepdims=True) if data.dtype in FLOAT_NP
             else xp.full(data.shape[:axis] + (1,) + data.shape[axis + 1:], n))
    i = xp.take_along_axis(order, xp.maximum((count - 1) // 2, 0), axis=axis)
    if data.dtype in FLOAT_NP:  # an all-NaN row: the index libstdc++ leaves there, as torch
        i = xp.where(count == 0, _nth_of_equal_elements(n), i)
    i = make(i.astype(xp.int64, copy=False), input)
    v = gather(input, axis, i)
    if not keepdim:
        v, i = v.squeeze(axis), i.squeeze(axis)
    return return_types.nanmedian(v, i)


@with_out
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    index of its last occurrence, as ``(values, indices)``; NaNs never count as equal.

    The gradient flows to the reported index.

    Raises
    ------
    IndexError
        If dimension ``dim`` has size 0.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.mode(flambeau.tensor([[3, 1, 3, 1], [5, 5, 2, 7]]))
    flambeau.return_types.mode(
    values=tensor([1, 5]),
    indices=tensor([3, 1]))
    """
    _rd.reject_complex("mode", input)
    xp = input._device._xp
    axis = wrap_dim(dim, input._data.ndim, "mode")
    if input._data.ndim == 0:
        return return_types.mode(input.clone(), make(xp.zeros((), dtype=xp.int64), input))
    _nonempty_dim("mode", input, axis)
    a = xp.moveaxis(input._data, axis, -1)
    n = a.shape[-1]
    if a.size == 0:
        idx = xp.zeros(a.shape[:-1] + (1,), dtype=xp.int64)
    else:
        order = xp.argsort(_sort_keys(a), axis=-1, kind="stable")
        s = xp.take_along_axis(a, order, axis=-1)
        change = s[..., 1:] != s[..., :-1]
        edge = xp.ones(s.shape[:-1] + (1,), dtype=bool)
        pos = xp.arange(n, dtype=xp.int64)
        starts = _scan(xp, xp.maximum, xp.where(xp.concatenate([edge, change], -1), pos, 0), -1)
        ends_at = xp.where(xp.concatenate([change, edge], -1), pos, n - 1)
        ends = xp.flip(_scan(xp, xp.minimum, xp.flip(ends_at, -1), -1), -1)
        best = xp.argmax(ends - starts, axis=-1)[..., None]  # first: the smallest value
        last = xp.take_along_axis(ends, best, axis=-1)
        idx = xp.take_along_axis(order, last, axis=-1).astype(xp.int64)
    idx_t = make(xp.moveaxis(idx, -1, axis), input)
    values = gather(input, axis, idx_t)
    if not keepdim:
        values, idx_t = values.squeeze(axis), idx_t.squeeze(axis)
    return return_types.mode(values, idx_t)


# ---------------------------------------------------------------------- quantiles

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op, input, q, dim, keepdim, interpolation, ignore_nan):
    if input._data.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if input._data.dtype not in (_dtype.float32.np, _dtype.float64.np):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype "
                           f"(got {input.dtype})")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    xp = input._device._xp
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor (got shape "
                               f"{tuple(q.shape)})")
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor "
                               f"(q is {q.dtype}, input is {input.dtype})")
        if q._data.size and not bool(xp.all((q._data >= 0) & (q._data <= 1))):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
        scalar_q = q._data.ndim == 0
        qs = q.reshape(-1)
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        scalar_q = True
        qs = make(xp.asarray([float(q)], dtype=input._data.dtype), input)
    if dim is None:
        x, axis = input.reshape(-1), 0
    else:
        axis = wrap_dim(dim, input._data.ndim, op)
        x = input.reshape(1) if input._data.ndim == 0 else input
    x = movedim(x, axis, -1)
    batch = tuple(x.shape[:-1])
    n = x.shape[-1]
    values = sort(x, -1).values  # NaNs last
    nan_count = xp.sum(xp.isnan(x._data), axis=-1, keepdims=True)
    q_view = qs.reshape((-1,) + (1,) * (len(batch) + 1))
    if ignore_nan:
        last = make((n - 1 - nan_count).astype(x._data.dtype), x)
        ranks = q_view * last
        ranks = _ew.where(ranks < 0, 0.0, ranks)  # all NaN: rank 0, a NaN
    else:
        ranks = q_view * float(n - 1)
        ranks = _ew.where(make(nan_count > 0, x), float(n - 1), ranks)  # NaN in: a NaN
    rank_arr = ranks._data
    if interpolation == "lower":
        below = above = xp.floor(rank_arr)
    elif interpolation == "higher":
        below = above = xp.ceil(rank_arr)
    elif interpolation == "nearest":
        below = above = xp.round(rank_arr)  # half to even, as PyTorch
    else:
        below, above = xp.floor(rank_arr), xp.ceil(rank_arr)
    expanded = values.unsqueeze(0).expand((qs.shape[0],) + batch + (n,))
    v_below = gather(expanded, -1, make(below.astype(xp.int64), x))
    if interpolation in ("linear", "midpoint"):
        v_above = gather(expanded, -1, make(above.astype(xp.int64), x))
        weight = ranks - make(below, x) if interpolation == "linear" else 0.5
        result = _ew.lerp(v_below, v_above, weight)
    else:
        result = v_below
    result = result.squeeze(-1)  # (Q, *batch)
    if keepdim:
        if dim is None:
            result = result.reshape((qs.shape[0],) + (1,) * input._data.ndim)
        elif input._data.ndim:
            result = result.unsqueeze(axis + 1)
    return result.squeeze(0) if scalar_q else result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` (of all elements, or along ``dim``).

    ``q`` is a number or a 1-D tensor of numbers in ``[0, 1]`` (then the result has a first
    dimension of one entry per ``q``). Between two data points the value is interpolated:
    ``linear`` (default), ``lower``, ``higher``, ``midpoint`` or ``nearest`` (rounding half to
    even). A slice with a NaN gives NaN. Differentiable in ``input`` (and in a tensor ``q``
    under linear interpolation).

    Raises
    ------
    RuntimeError
        If ``input`` is empty or not float32/float64, ``q`` is out of range, not 0-d/1-d or
        not of the input's dtype, or ``interpolation`` is unknown.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, 0.0, 7.0, 4.0]])
    >>> flambeau.quantile(x, 0.5, dim=1)
    tensor([3.5000, 3.5000])
    >>> flambeau.quantile(x[0], flambeau.tensor([0.25, 0.75]), interpolation="lower")
    tensor([1., 5.])
    """
    result = _quantile("quantile", input, q, dim, keepdim, interpolation, False)
    return _ew._out(result, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """:func:`quantile` ignoring NaNs (an all-NaN slice gives NaN).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, float("nan"), 3.0, 2.0])
    >>> flambeau.nanquantile(x, 0.5), flambeau.quantile(x, 0.5)
    (tensor(2.), tensor(nan))
    """
    result = _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)
    return _ew._out(result, out)


# ---------------------------------------------------------------------- diff


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and
    ``append`` (tensors shaped like ``input`` except along ``dim``). Bool tensors give
    ``!=`` of neighbours.

    Raises
    ------
    RuntimeError
        If ``input`` is 0-d, ``n`` is negative, or ``prepend``/``append`` have the wrong
        number of dimensions or sizes.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1, 3, 6, 10])
    >>> flambeau.diff(x), flambeau.diff(x, n=2)
    (tensor([2, 3, 4]), tensor([1, 1]))
    >>> flambeau.diff(x, prepend=flambeau.tensor([0]))
    tensor([1, 2, 3, 4])
    """
    result = _diff(input, n, dim, prepend, append)
    if out is None:
        return result
    # n=0 (or an empty dim) gives input itself, which out must not come to share
    return write_out(result.clone() if result is input else result, out)


def _diff(input, n, dim, prepend, append):
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = wrap_dim(dim, input._data.ndim, "diff")
    if n == 0:  # no difference taken: nothing is joined either (as PyTorch)
        return input
    parts = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f"{type(extra).__name__}")
        if extra._data.ndim != input._data.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               f"input ({name} has {extra._data.ndim} dimensions, input "
                               f"{input._data.ndim})")
        for d in range(input._data.ndim):
            if d != axis and extra._data.shape[d] != input._data.shape[d]:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of "
                    f"input except along the differencing dimension; input.size({d}) = "
                    f"{input._data.shape[d]}, but got tensor.size({d}) = {extra._data.shape[d]}")
        parts.append((name, extra))
    x = input
    if parts:
        pieces = [e for name, e in parts if name == "prepend"] + [input] + \
            [e for name, e in parts if name == "append"]
        x = cat(pieces, axis)
    for _ in range(n):
        size = x.shape[axis]
        if size == 0:
            break
        ahead, behind = narrow(x, axis, 1, size - 1), narrow(x, axis, 0, size - 1)
        x = _ew.logical_xor(ahead, behind) if x._data.dtype.kind == "b" else ahead - behind
    return x


# ---------------------------------------------------------------------- cov, corrcoef


def _check_weights(name, w, num_obs, integral):
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w._data.ndim} dimensions")
    kind_ok = w._data.dtype.kind in "iu" if integral else w._data.dtype in FLOAT_NP
    if not kind_ok:
        wanted = "integral" if integral else "floating point"
        raise RuntimeError(f"cov(): expected {name} to have {wanted} dtype but got {name} with "
                           f"{w.dtype} dtype")
    if w._data.size != num_obs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w._data.size} != {num_obs}")
    if w._data.size and bool(w._device._xp.any(w._data < 0)):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns; a 1-D input is one variable).

    ``correction`` is subtracted from the number of observations (1: the unbiased
    estimate); ``fweights`` (integers) repeat observations, ``aweights`` (floats) weigh
    them. A single variable gives a 0-d tensor.

    Raises
    ------
    RuntimeError
        For inputs of more than 2 dimensions or of bool dtype, and for weights of the wrong
        dimension, dtype, size, or with negative entries.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]])
    >>> flambeau.cov(x)
    tensor([[ 1.0000, -0.7500],
            [-0.7500,  0.5833]])
    >>> flambeau.cov(x[0], correction=0)
    tensor(0.6667)
    """
    if input._data.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input._data.ndim} dimensions")
    if input._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    num_obs = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, num_obs, integral=True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, num_obs, integral=False)
        w = aweights if w is None else w * aweights
    if w is None:
        x = to_float(x)
        avg = _rd.mean(x, 1, keepdim=True)
        norm_factor = num_obs - correction
    else:
        x, w = promote("cov", to_float(x), w)
        if w._data.dtype.kind == "c":  # the weights of complex observations stay real
            w = w.real
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    if bool(norm_factor <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0 if isinstance(norm_factor, Tensor) else 0
    xm = x - avg
    weighted = xm if w is None else xm * w
    with errors_ignored(x._device._xp):
        c = matmul(weighted, xm.mH) / norm_factor
    return c.squeeze()


def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of ``input``:
    :func:`cov` normalized by the standard deviations, clipped to ``[-1, 1]``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.corrcoef(flambeau.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))
    tensor([[ 1.0000, -0.9820],
            [-0.9820,  1.0000]])
    """
    c = cov(input)
    with errors_ignored(c._device._xp):  # a constant variable gives 0 / 0 = NaN, quietly
        if c._data.ndim == 0:
            return c / c
        std = _ew.sqrt(c.diagonal())
        c = c / std.unsqueeze(1)
        c = c / std.unsqueeze(0)
    if c._data.dtype.kind == "c":  # each part clipped, as PyTorch does
        from flambeau._ops.complex import complex as _complex

        return _complex(_ew.clamp(c.real, -1, 1), _ew.clamp(c.imag, -1, 1))
    return _ew.clamp(c, -1, 1)


# ---------------------------------------------------------------------- trapezoid


def _trapezoid_args(op, y, x, dx, dim):
    if y._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is not None and dx is not None:
        raise TypeError(f"{op}() takes either x or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}(): x must be a Tensor of sample points (use dx= for a constant "
                        f"spacing), not {type(x).__name__}")
    if y._data.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, y._data.ndim, op)


def _spacing(op, y, x, axis):
    """The widths ``x[i+1] - x[i]``, shaped to broadcast against ``y``'s intervals."""
    n = y.shape[axis]
    if x._data.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point "
                               f"(x has {x.shape[0]}, y has {n} along dim {axis})")
        view = [1] * y._data.ndim
        view[axis] = n - 1 if n else 0
        return diff(x).reshape(view)
    return diff(x, dim=axis - y._data.ndim)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule: the integral of ``y`` along ``dim`` over sample points ``x``
    (a 1-D tensor, or one broadcastable to ``y``) or with constant spacing ``dx`` (1 by
    default).

    Raises
    ------
    RuntimeError
        For bool ``y``, or a 1-D ``x`` whose length differs from ``y``'s along ``dim``.
    TypeError
        If both ``x`` and ``dx`` are given.

    Examples
    --------
    >>> import flambeau
    >>> y = flambeau.tensor([1.0, 2.0, 4.0])
    >>> flambeau.trapezoid(y), flambeau.trapezoid(y, dx=0.5)
    (tensor(4.5000), tensor(2.2500))
    >>> flambeau.trapezoid(y, flambeau.tensor([0.0, 1.0, 3.0]))
    tensor(7.5000)
    """
    axis = _trapezoid_args("trapezoid", y, x, dx, dim)
    n = y.shape[axis]
    if n == 0:
        return to_float(_rd.sum(y, axis)) * 0.0
    if x is None:
        step = 1.0 if dx is None else dx
        ends = narrow(y, axis, 0, 1) + narrow(y, axis, n - 1, 1)
        return (_rd.sum(y, axis) - ends.squeeze(axis) * 0.5) * step
    pairs = narrow(y, axis, 1, n - 1) + narrow(y, axis, 0, n - 1)
    return _rd.sum(_spacing("trapezoid", y, x, axis) * pairs, axis) / 2


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of ``y`` along ``dim`` (one entry fewer than ``y``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cumulative_trapezoid(flambeau.tensor([1.0, 2.0, 4.0]))
    tensor([1.5000, 4.5000])
    """
    if y._data.ndim == 0:
        raise IndexError("cumulative_trapezoid: slice() cannot be applied to a 0-dim tensor.")
    axis = _trapezoid_args("cumulative_trapezoid", y, x, dx, dim)
    n = y.shape[axis]
    if n == 0:
        return to_float(y) * 0.0
    pairs = narrow(y, axis, 1, n - 1) + narrow(y, axis, 0, n - 1)
    if x is None:
        areas = (1.0 if dx is None else dx) * pairs / 2
    else:
        areas = _spacing("cumulative_trapezoid", y, x, axis) * pairs / 2
    return _rd.cumsum(areas, axis)


# ---------------------------------------------------------------------- cdist, dist, renorm

_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


class EuclideanCdist(Function):
    """Pairwise Euclidean distances of the rows of ``a`` (..., P, M) and ``b`` (..., R, M).

    The gradient is ``(a_i - b_j) / d_ij`` summed over pairs as matrix products, and 0 for
    pairs at distance 0, as PyTorch (the square root's slope is infinite there).
    """

    @staticmethod
    def forward(ctx, a, b, use_mm):
        xp = a._device._xp
        A, B = a._data, b._data
        if use_mm:
            sq = ((A * A).sum(-1)[..., :, None] + (B * B).sum(-1)[..., None, :]
                  - 2.0 * xp.matmul(A, xp.swapaxes(B, -1, -2)))
            d = xp.sqrt(xp.maximum(sq, 0))
        else:
            diffs = A[..., :, None, :] - B[..., None, :, :]
            d = xp.sqrt((diffs * diffs).sum(-1))
        out = make(xp.asarray(d, dtype=A.dtype), a)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, d = ctx.saved_tensors
        zero = d == 0
        w = _ew.where(zero, 0.0, g / _ew.where(zero, 1.0, d))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = a * w.sum(-1, keepdim=True) - matmul(w, b)
        if ctx.needs_input_grad[1]:
            wt = w.transpose(-1, -2)
            gb = b * wt.sum(-1, keepdim=True) - matmul(wt, a)
        return ga, gb, None


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distances between each row of ``x1`` (..., P, M) and each row of
    ``x2`` (..., R, M): a (..., P, R) tensor, batch dimensions broadcast.

    For ``p = 2`` the distances come from matrix products when ``compute_mode`` says so
    (``"use_mm_for_euclid_dist"``, or by default when P or R exceeds 25), else from the
    differences. Gradients are 0 at zero distance, as PyTorch's.

    Raises
    ------
    RuntimeError
        For inputs of fewer than 2 dimensions, of non-float or different dtypes, with
        different numbers of columns, or for a negative ``p``.
    ValueError
        For an unknown ``compute_mode``.

    Examples
    --------
    >>> import flambeau
    >>> a = flambeau.tensor([[0.0, 0.0], [3.0, 4.0]])
    >>> b = flambeau.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> flambeau.cdist(a, b)
    tensor([[0.0000, 1.0000],
            [5.0000, 4.4721]])
    >>> flambeau.cdist(a, b, p=1)
    tensor([[0., 1.],
            [7., 6.]])
    """
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t._data.ndim}D")
        if t._data.dtype not in FLOAT_NP:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_dtype_name(t)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values (got p={p})")
    if compute_mode not in _CDIST_MODES and compute_mode is not None:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    import numpy as np

    try:
        batch = np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"cdist: the batch dimensions of X1 {tuple(x1.shape)} and X2 "
                           f"{tuple(x2.shape)} cannot be broadcast together") from None
    a = x1.expand(*batch, *x1.shape[-2:]) if tuple(x1.shape[:-2]) != batch else x1
    b = x2.expand(*batch, *x2.shape[-2:]) if tuple(x2.shape[:-2]) != batch else x2
    if x1.shape[-1] == 0:  # no coordinates: every distance is 0 (an empty sum)
        return _rd.sum(a.unsqueeze(-2) - b.unsqueeze(-3), -1)
    if p == 2:
        big = x1.shape[-2] > 25 or x2.shape[-2] > 25
        use_mm = compute_mode == "use_mm_for_euclid_dist" or (
            compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and big)
        return EuclideanCdist.apply(a, b, use_mm)
    return _rd.norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)


def dist(input, other, p=2):
    """``norm(input - other, p)``: the ``p``-norm of the difference (broadcast), a 0-d tensor.

    Raises
    ------
    RuntimeError
        For integer or bool inputs.

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.tensor([1.0, 2.0]), flambeau.tensor([4.0, 6.0])
    >>> flambeau.dist(a, b), flambeau.dist(a, b, 1), flambeau.dist(a, b, float("inf"))
    (tensor(5.), tensor(7.), tensor(4.))
    """
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    difference = input - other
    if difference._data.dtype not in FLOAT_NP and difference._data.dtype.kind != "c":
        raise RuntimeError(f"dist: expected floating-point inputs, got {input.dtype} and "
                           f"{other.dtype}")
    if isinstance(p, Tensor):
        p = p.item()
    return _rd.norm(difference, p)


@with_out
def renorm(input, p, dim, maxnorm):
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` scaled down to
    norm ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``, as PyTorch); the others unchanged.

    Raises
    ------
    RuntimeError
        For inputs of fewer than 2 dimensions or not floating point, ``p <= 0`` or a
        negative ``maxnorm``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([[1.0, 2.0, 2.0], [0.1, 0.1, 0.1]])
    >>> flambeau.renorm(x, 2, 0, 1.5)
    tensor([[0.5000, 1.0000, 1.0000],
            [0.1000, 0.1000, 0.1000]])
    """
    if input._data.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got "
                           f"{input._data.ndim} dimensions")
    if input._data.dtype not in FLOAT_NP and input._data.dtype.kind != "c":
        raise RuntimeError(f"renorm: expected a floating-point input, got {input.dtype}")
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = wrap_dim(dim, input._data.ndim, "renorm")
    others = tuple(d for d in range(input._data.ndim) if d != axis)
    norms = _rd.norm(input, p, dim=others, keepdim=True)
    factor = _ew.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# ---------------------------------------------------------------------- Tensor methods


def _aminmax_method(self, *, dim=None, keepdim=False):
    return aminmax(self, dim=dim, keepdim=keepdim)


#: Tensor methods defined here (merged into ``flambeau._methods._FUNCTIONAL``)
TENSOR_METHODS = {
    "aminmax": _aminmax_method, "cummax": cummax, "cummin": cummin,
    "logcumsumexp": logcumsumexp, "nanmedian": nanmedian, "quantile": quantile,
    "nanquantile": nanquantile, "mode": mode, "diff": diff, "cov": cov,
    "corrcoef": corrcoef, "dist": dist, "renorm": renorm,
}

#: ops that get an in-place ``name_`` Tensor method
INPLACE = ["renorm", "cumsum", "cumprod"]


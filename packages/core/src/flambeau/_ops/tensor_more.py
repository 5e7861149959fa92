"""Small Tensor methods PyTorch has and the op families did not cover: size and dtype queries,
``resize_``, ``prelu``, ``hardshrink`` and ``nonzero_static``."""

from __future__ import annotations

import functools
import math
import operator
import warnings

from flambeau import _creation
from flambeau._keywords import list_keyword, sizes_by_keyword
from flambeau._ops import elementwise as ew
from flambeau._ops import indexing as ix
from flambeau._ops import shape as sh
from flambeau._ops import shape_more as shm
from flambeau._ops._util import FLOAT_NP, make, write_out
from flambeau._tensor import Tensor
from flambeau.autograd._function import Function, _InferenceVersion

__all__ = [
    "hardshrink", "is_inference", "is_nonzero", "is_same_size", "is_signed", "nonzero_static",
    "prelu", "unsafe_split_with_sizes",
]


# ------------------------------------------------------------------ queries


def is_nonzero(input):
    """Whether the single element of a one-element tensor is non-zero.

    Raises
    ------
    RuntimeError
        If ``input`` has no elements or more than one.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_nonzero(flambeau.tensor([0.0])), flambeau.tensor([[3]]).is_nonzero()
    (False, True)
    """
    n = input._data.size
    if n == 0:
        raise RuntimeError("is_nonzero: Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with more than one value is "
                           f"ambiguous (shape {tuple(input.shape)}, {n} elements)")
    return bool(input._data.reshape(()) != 0)


def is_same_size(input, other):
    """Whether ``input`` and ``other`` have the same shape.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.is_same_size(flambeau.zeros(2, 3), flambeau.ones(2, 3))
    True
    """
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    return input._data.shape == other._data.shape


def is_signed(input):
    """Whether the dtype is signed (everything but ``uint8`` and ``bool``).

    Examples
    --------
    >>> import flambeau
    >>> u = flambeau.tensor([1], dtype=flambeau.uint8)
    >>> flambeau.is_signed(flambeau.zeros(1)), u.is_signed()
    (True, False)
    """
    return input.dtype.is_signed


def is_inference(input):
    """Whether ``input`` is an inference tensor (created under :class:`~flambeau.inference_mode`).

    Examples
    --------
    >>> import flambeau
    >>> with flambeau.inference_mode():
    ...     x = flambeau.ones(1)
    >>> x.is_inference(), flambeau.ones(1).is_inference()
    (True, False)
    """
    return input._version_counter.__class__ is _InferenceVersion


def ndimension(self):
    """The number of dimensions (``dim()``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).ndimension()
    2
    """
    return self._data.ndim


def _itemsize(self):
    """Bytes per element (``element_size()``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, dtype=flambeau.float64).itemsize
    8
    """
    return self._data.dtype.itemsize


def _nbytes(self):
    """Bytes of the elements, ``numel() * itemsize`` (a view counts its own elements).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).nbytes
    24
    """
    return int(self._data.size) * self._data.dtype.itemsize


def _output_nr(self):
    """Which output of the op that produced this tensor it is (0 for leaves).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, requires_grad=True)
    >>> x.output_nr, (x * 2).output_nr
    (0, 0)
    """
    return self._output_nr


# ------------------------------------------------------------------ layout

_DIM_ORDER_CHECK = "The ambiguity_check argument must be a bool or a list of memory formats."
_DIM_ORDER_AMBIGUOUS = ("The tensor does not have unique dim order, or cannot map to exact one "
                        "of the given memory formats.")


def _stride_order(sizes, strides):
    """Dims from the outermost to the innermost, and whether the strides fail to tell some
    neighbours apart (a zero stride, or equal strides)."""
    from flambeau._compat import channels_last, is_contiguous_as

    ndim = len(sizes)
    if ndim < 2:
        return tuple(range(ndim)), False
    # the two dense layouts answer at once (a tensor that is both falls through to the sort)
    dense = is_contiguous_as(sizes, strides, None)
    nhwc = is_contiguous_as(sizes, strides, channels_last)
    if dense != nhwc:
        return (tuple(range(ndim)) if dense else (0, *range(2, ndim), 1)), False

    def inner(a, b):
        """-1: dim ``a`` lies inside dim ``b``; 1: outside; 0: the strides do not say."""
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:  # the longer dim goes outside
            return 1 if sizes[a] > sizes[b] else 0
        return -1 if sa < sb else 1

    # an insertion sort from the innermost dim out that leaves undecided pairs where they are
    order = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        pos = i
        for j in range(i - 1, -1, -1):
            verdict = inner(order[j], order[pos])
            if verdict > 0:
                order[j], order[pos] = order[pos], order[j]
                pos = j
            elif verdict < 0:
                break
    undecided = any(inner(a, b) != -1 for a, b in zip(order, order[1:]))
    return tuple(reversed(order)), undecided


def dim_order(self, *, ambiguity_check=False):
    """The dims of ``self`` from the outermost to the innermost in memory (by stride).

    A C-contiguous tensor gives ``(0, 1, ..., n-1)`` and a channels-last one ``(0, 2, 3, 1)``;
    otherwise the dims are sorted by stride, a longer dim going outside a shorter one of the
    same stride, and dims the strides do not order (a zero stride, equal strides and lengths)
    keep their logical order. The answer is then one of the legal dim orders, not
    necessarily the only one: ``ambiguity_check`` asks for it to be unique.

    Parameters
    ----------
    ambiguity_check : bool or list of flambeau.memory_format
        ``False`` (default): no check. ``True``: raise when the dim order is not unique (a dim
        of size one, equal neighbouring strides, or dims the strides do not order). A list of
        memory formats: a dim of size one or equal neighbouring strides are allowed when
        ``self`` is contiguous in exactly one of the formats; dims the strides do not order
        still raise (an empty list only checks the former).

    Returns
    -------
    tuple of int

    Raises
    ------
    TypeError
        If ``ambiguity_check`` is neither a bool nor a list of memory formats.
    RuntimeError
        If the check asked for fails.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.empty(2, 3, 5, 7).dim_order()
    (0, 1, 2, 3)
    >>> flambeau.empty(2, 3, 5, 7).transpose(1, 2).dim_order()
    (0, 2, 1, 3)
    >>> flambeau.empty(2, 5, 7, 3).permute(0, 3, 1, 2).dim_order()
    (0, 2, 3, 1)
    >>> x = flambeau.empty(1, 2, 3, 4)
    >>> x.dim_order()
    (0, 1, 2, 3)
    >>> x.dim_order(ambiguity_check=True)
    Traceback (most recent call last):
        ...
    RuntimeError: The tensor does not have unique dim order, or cannot map to exact one of the given memory formats.
    >>> x.dim_order(ambiguity_check=[flambeau.contiguous_format, flambeau.channels_last])
    (0, 1, 2, 3)
    """  # noqa: E501
    from flambeau._compat import memory_format

    if isinstance(ambiguity_check, list):
        if not all(isinstance(f, memory_format) for f in ambiguity_check):
            raise TypeError(_DIM_ORDER_CHECK)
        formats = ambiguity_check
    elif isinstance(ambiguity_check, bool):
        formats = []
    else:
        raise TypeError(_DIM_ORDER_CHECK)
    sizes = tuple(self.shape)
    strides = self.stride()
    if ambiguity_check is not False:
        several = (any(s == 1 for s in sizes)
                   or any(a == b for a, b in zip(strides, strides[1:])))
        if several and sum(bool(self.is_contiguous(memory_format=f)) for f in formats) != 1:
            raise RuntimeError(_DIM_ORDER_AMBIGUOUS)
    order, undecided = _stride_order(sizes, strides)
    if undecided and ambiguity_check:  # True or a non-empty list
        raise RuntimeError("The tensor does not have unique dim order.")
    return order


# ------------------------------------------------------------------ storage


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                      layout=None, pin_memory=False):
    """An uninitialized tensor of ``size`` laid out with ``stride`` (in elements), with
    ``self``'s dtype and device unless given.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.zeros(1).new_empty_strided((2, 3), (1, 2))
    >>> t.shape, t.stride(), t.dtype
    (flambeau.Size([2, 3]), (1, 2), flambeau.float32)
    """
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"new_empty_strided: dimensionality of sizes ({len(size)}) must "
                           f"match dimensionality of strides ({len(stride)})")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"new_empty_strided: sizes {list(size)} and strides {list(stride)} "
                           "must be non-negative")
    out = _creation.empty(0, dtype=dtype or self.dtype, device=device or self.device)
    xp = out._device._xp
    storage = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buf = xp.empty(storage, dtype=out._data.dtype)
    item = buf.dtype.itemsize
    data = xp.lib.stride_tricks.as_strided(buf, size, tuple(s * item for s in stride))
    res = _creation.pinned(Tensor._make(data, out._device), pin_memory, "new_empty_strided")
    return res.requires_grad_() if requires_grad else res


@list_keyword("size")
def resize_(self, *sizes, size=None, memory_format=None):
    """Give ``self`` the shape ``sizes`` in place.

    With the same number of elements the data is kept (read in row-major order); with fewer,
    the first elements are kept; with more, the tensor gets new storage holding the old
    elements first (the rest uninitialized).

    Raises
    ------
    RuntimeError
        If ``self`` requires grad, or a size is negative; or if ``self`` is in shared memory
        (:meth:`share_memory_`) and would need new memory (more elements, or data that is
        not contiguous), as PyTorch refuses to resize a shared storage.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.arange(6)
    >>> x.resize_(2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    if size is not None:  # resize_(size=(2, 2))
        sizes = sizes_by_keyword("resize_", "size", sizes, size)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if self._requires_grad:
        raise RuntimeError("resize_: cannot resize variables that require grad; resize a "
                           "detach()ed copy instead")
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative, got {list(shape)}")
    xp = self._device._xp
    data = self._data
    n = math.prod(shape)
    if n <= data.size:
        flat = data.reshape(-1)  # a view when the data is contiguous
        new = flat[:n].reshape(shape)
    else:
        new = xp.empty(n, dtype=data.dtype)
        new[:data.size] = data.reshape(-1)
        new[data.size:] = 0
        new = new.reshape(shape)
    backend = self._device.backend
    if backend.is_shared(data) and not backend.is_shared(new):
        # new memory would be private to this process: the others would lose the tensor
        raise RuntimeError(
            f"resize_: Trying to resize storage that is not resizable: the tensor of shape "
            f"{list(data.shape)} is in shared memory (share_memory_()), which cannot grow or "
            f"be copied to {list(shape)}; resize it before sharing, or share a new tensor")
    self._data = new
    self._version_counter.value += 1
    return self


def resize_as_(self, the_template, *, memory_format=None):
    """:meth:`resize_` to ``the_template``'s shape (the dtype of ``self`` is kept).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(4.0).resize_as_(flambeau.zeros(2, 2, dtype=flambeau.int64))
    tensor([[0., 1.],
            [2., 3.]])
    """
    return resize_(self, tuple(the_template.shape))


class Resize(Function):
    """The deprecated out-of-place :meth:`Tensor.resize`: a view of a contiguous tensor, a
    contiguous copy of another, with its own node as in torch (``ResizeBackward``)."""

    _node_name = "ResizeBackward"

    @staticmethod
    def forward(ctx, x, shape):
        a = x._data
        ctx.in_shape = a.shape
        if x.is_contiguous():
            ctx._is_view = True
            return x._device._xp.reshape(a, shape, copy=False)
        return x._device._xp.ascontiguousarray(a).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def resize(self, *sizes):
    """``self`` with the shape ``sizes`` (given one by one) and the same number of elements:
    a view when ``self`` is contiguous, else a contiguous copy; differentiable. Deprecated,
    as in torch (it warns): use :meth:`reshape`, or :meth:`resize_` to change the number of
    elements.

    Raises
    ------
    RuntimeError
        If the number of elements would change.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # non-inplace resize is deprecated
    ...     flambeau.arange(6).resize(2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resized(self, sizes)


def resize_as(self, tensor):
    """:meth:`resize` to ``tensor``'s shape (deprecated too, as in torch).

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # non-inplace resize_as is deprecated
    ...     flambeau.arange(4.0).resize_as(flambeau.zeros(2, 2)).shape
    flambeau.Size([2, 2])
    """
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resized(self, tuple(tensor.shape))


def _resized(self, sizes):
    total = functools.reduce(operator.mul, sizes, 1)  # as torch: a list or tuple shows as is
    if total != self.numel():
        raise RuntimeError(
            f"requested resize to {'x'.join(str(s) for s in sizes)} ({total} elements in "
            f"total), but the given tensor has a size of "
            f"{'x'.join(str(s) for s in self.shape)} ({self.numel()} elements). autograd's "
            "resize can only change the shape of a given tensor, while preserving the number "
            "of elements. Use reshape(), or resize_() to change the number of elements")
    try:
        shape = tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise TypeError(f"resize(): sizes must be ints, given one by one, got {sizes}") from None
    return Resize.apply(self, shape)


# ------------------------------------------------------------------ activations


def _check_float(op, t):
    if t._data.dtype not in FLOAT_NP:
        raise NotImplementedError(f"{op}: not implemented for dtype {t.dtype} (input of shape "
                                  f"{tuple(t.shape)}); use a floating point tensor")


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``, ``weight`` one value or one per channel (dim 1).

    Raises
    ------
    RuntimeError
        If ``weight``'s number of elements is neither 1 nor the number of channels, or the
        dtypes differ.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.prelu(flambeau.tensor([-2.0, 3.0]), flambeau.tensor([0.25]))
    tensor([-0.5000,  3.0000])
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' (position 1) must be Tensor, not "
                        f"{type(weight).__name__}")
    _check_float("prelu", input)
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} (input) "
                           f"and {weight.dtype} (weight)")
    n = weight.numel()
    if n == 1:
        w = sh.reshape(weight, ())
    else:
        if input._data.ndim == 0:
            raise RuntimeError(f"prelu: Not allow zero-dim input tensor with {n} weights")
        channels = input.shape[1] if input._data.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {n} and channel size = {channels} "
                               f"(input of shape {tuple(input.shape)})")
        w = sh.reshape(weight, (n,) + (1,) * (input._data.ndim - 2))
    return ew.where(ew.gt(input, 0), input, ew.mul(w, input))


def hardshrink(input, lambd=0.5, *, out=None):
    """``x`` where ``|x| > lambd``, else 0 (NaN is kept).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hardshrink(flambeau.tensor([-1.0, 0.3, 0.6]))
    tensor([-1.0000,  0.0000,  0.6000])
    """
    _check_float("hardshrink", input)
    inside = ew.logical_and(ew.ge(input, -lambd), ew.le(input, lambd))
    result = ew.where(inside, 0.0, input)
    return result if out is None else write_out(result, out, exact=True)


# ------------------------------------------------------------------ splitting, nonzero


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """:func:`flambeau.split_with_sizes` (PyTorch's variant without view tracking; here the
    same).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unsafe_split_with_sizes(flambeau.arange(5), [2, 3])
    (tensor([0, 1]), tensor([2, 3, 4]))
    """
    return shm.split_with_sizes(input, split_sizes, dim)


def nonzero_static(input, *, size, fill_value=-1, out=None):
    """:func:`flambeau.nonzero` with exactly ``size`` rows: truncated, or padded with
    ``fill_value``.

    Raises
    ------
    RuntimeError
        If ``size`` is negative.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.nonzero_static(flambeau.tensor([0, 3, 0, 4]), size=3)
    tensor([[ 1],
            [ 3],
            [-1]])
    """
    size = int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    xp = input._device._xp
    ndim = input._data.ndim
    if ndim == 0:  # PyTorch gives (size, 0) for a 0-d input, zero or not
        result = make(xp.zeros((size, 0), dtype=xp.int64), input)
        return result if out is None else write_out(result, out, exact=True)
    rows = ix.nonzero(input)._data[:size]
    if rows.shape[0] < size:
        pad = xp.full((size - rows.shape[0], ndim), fill_value, dtype=xp.int64)
        rows = xp.concatenate([rows, pad], axis=0)
    result = make(xp.ascontiguousarray(rows), input)
    return result if out is None else write_out(result, out, exact=True)


TENSOR_METHODS = {
    "is_nonzero": is_nonzero, "is_same_size": is_same_size, "is_signed": is_signed,
    "is_inference": is_inference,
    "ndimension": ndimension, "itemsize": property(_itemsize), "nbytes": property(_nbytes),
    "output_nr": property(_output_nr), "dim_order": dim_order,
    "new_empty_strided": new_empty_strided,
    "resize_": resize_, "resize_as_": resize_as_, "resize": resize, "resize_as": resize_as,
    "prelu": prelu, "hardshrink": hardshrink,
    "unsafe_split_with_sizes": unsafe_split_with_sizes, "nonzero_static": nonzero_static,
}

INPLACE = ["addmm", "addmv", "baddbmm"]
